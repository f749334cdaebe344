/* What the benchmarks share: the clock, finding the catena binary beside
 * them, senders on a dev node, quantiles. Header-only: each bench_*.c is
 * a program of its own. */
#ifndef CATENA_BENCH_COMMON_H
#define CATENA_BENCH_COMMON_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catena/eth.h"
#include "catena/util.h"

/* Returns: the monotonic clock in seconds. */
static inline double bench_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns: $CATENA_BIN, else build/catena beside build/bench/<me>; NULL
 * when /proc/self/exe cannot be read. */
static inline const char *bench_catena_bin(void)
{
    static char path[PATH_MAX + 16];
    char self[PATH_MAX];
    ssize_t n;

    if (getenv("CATENA_BIN") != NULL)
        return getenv("CATENA_BIN");
    if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
        return NULL;
    self[n] = '\0';
    *strrchr(self, '/') = '\0'; /* build/bench */
    *strrchr(self, '/') = '\0'; /* build */
    snprintf(path, sizeof(path), "%s/catena", self);
    return path;
}

/* A sender on the node at url for the hex key (a dev account).
 * Returns: it, or NULL with the error in ct_error_last. */
static inline ct_sender *bench_sender(const char *url, const char *hex)
{
    uint8_t key[32];
    size_t len;
    ct_sender *s = NULL;

    if (ct_hex_decode(key, 32, &len, hex, strlen(hex)) < 0 || len != 32 ||
        ct_sender_new(&s, url, key, NULL) < 0)
        s = NULL;
    ct_wipe(key, sizeof(key));
    return s;
}

/* Prints "PROG: what: <the last error>", stops node and exits 1. */
__attribute__((noreturn)) static inline void bench_node_die(const char *prog, ct_devnode *node,
                                                            const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, ct_error_last());
    ct_devnode_stop(node);
    exit(1);
}

/* bench_sender on node; dies (bench_node_die) when it cannot be made. */
static inline ct_sender *bench_node_sender(const char *prog, ct_devnode *node, const char *hex)
{
    ct_sender *s = bench_sender(node->url, hex);

    if (s == NULL)
        bench_node_die(prog, node, "sender");
    return s;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Returns: the q-quantile (0..1) of v[0..n), sorting v. */
static inline double bench_quantile(double *v, size_t n, double q)
{
    size_t i;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), bench_cmp_double);
    i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* Runs the command args (args[0] the catena binary) with its output in
 * scratch/run.out. Returns: its stdout (malloc'd), or NULL when it fails
 * (its output printed to stderr). */
static inline char *bench_run(char *const *args, const char *scratch)
{
    char out_path[PATH_MAX + 16], *text = NULL;
    ct_proc p;
    int status = -1;

    snprintf(out_path, sizeof(out_path), "%s/run.out", scratch);
    if (ct_proc_spawn(&p, args, NULL, out_path) < 0) {
        fprintf(stderr, "spawn: %s\n", ct_error_last());
        return NULL;
    }
    waitpid(p.pid, &status, 0);
    if (ct_file_read(&text, NULL, out_path, 1 << 22) < 0)
        ct_error_clear();
    unlink(out_path);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "catena %s %s failed: %s\n", args[1], args[2], text ? text : "");
        free(text);
        return NULL;
    }
    return text;
}

/* Starts `catena up` (argv) with its output in log and waits until it is
 * ready, then reads dir/federation.json into *fed (new ref).
 * Returns: 0, or -1 with the reason on stderr (up may still run: stop it). */
static inline int bench_up_start(ct_proc *up, char *const *argv, const char *log, const char *dir,
                                 json_t **fed)
{
    char *text = NULL, path[PATH_MAX + 32];

    if (ct_proc_spawn(up, argv, NULL, log) < 0) {
        fprintf(stderr, "spawn: %s\n", ct_error_last());
        return -1;
    }
    for (int i = 0; i < 3000; i++) {
        free(text);
        text = NULL;
        if (ct_file_read(&text, NULL, log, 1 << 20) == 0 && strstr(text, "press Ctrl-C") != NULL)
            break;
        if (!ct_proc_alive(up)) {
            fprintf(stderr, "catena up exited\n");
            free(text);
            return -1;
        }
        ct_sleep_ms(100);
    }
    free(text);
    text = NULL;
    snprintf(path, sizeof(path), "%s/federation.json", dir);
    if (ct_file_read(&text, NULL, path, 1 << 20) < 0 ||
        ct_json_parse(fed, text, strlen(text), 16) < 0) {
        fprintf(stderr, "no federation.json: %s\n", ct_error_last());
        free(text);
        return -1;
    }
    free(text);
    return 0;
}

#endif /* CATENA_BENCH_COMMON_H */
