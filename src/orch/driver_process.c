/* The process driver: each service is a local process group, found again
 * by its pid and start time (so a reused pid is not mistaken for it), and
 * checked over HTTP. */
#include "catena/orch.h"
#include "catena/util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct process_driver {
    ct_orch_driver base;
    char *dir;
    int start_timeout_ms;
} process_driver;

/* Longest command line argument after "{port}" is replaced. */
#define ARG_MAX_LEN 4096
#define STOP_GRACE_MS 5000

/* Reads the state letter and start time (clock ticks since boot) of pid.
 * Returns: 0, or CT_ENOTFOUND when there is no such process. */
static int proc_stat(char *state, uint64_t *start, pid_t pid)
{
    char path[64], *text = NULL, *p;
    size_t len;
    int rc;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (ct_file_read(&text, &len, path, 8192) < 0) {
        ct_error_clear();
        return CT_ENOTFOUND;
    }
    rc = CT_ENOTFOUND;
    /* "pid (comm) S ppid ..." where comm may hold spaces and parentheses:
     * the fields start after the last ')'. starttime is field 22: from the
     * space before field 3 (the state), 19 spaces on. (Field 23, the
     * virtual memory size, was read here before: a service whose memory
     * grew was taken for another process, so it was redeployed beside
     * itself and never stopped.) */
    if ((p = strrchr(text, ')')) != NULL && sscanf(p + 1, " %c", state) == 1) {
        p++;
        for (int field = 3; field < 22 && p != NULL; field++)
            p = strchr(p + 1, ' ');
        if (p != NULL && sscanf(p, " %" SCNu64, start) == 1)
            rc = 0;
    }
    free(text);
    return rc;
}

static int parse_id(pid_t *pid, uint64_t *start, const char *id)
{
    long long p;
    unsigned long long s;
    int used = 0;

    if (sscanf(id, "process:%lld:%llu%n", &p, &s, &used) != 2 || id[used] != '\0' || p <= 1 ||
        p > INT32_MAX)
        return ct_error_set(CT_EINVAL, "not a process monitoring id: %s", id);
    *pid = (pid_t)p;
    *start = s;
    return 0;
}

/* Whether the process named by id is still running (reaping it when it is
 * our child and has exited). */
static bool same_process_runs(const char *id)
{
    uint64_t start, now;
    pid_t pid;
    char state;

    if (parse_id(&pid, &start, id) < 0) {
        ct_error_clear();
        return false;
    }
    waitpid(pid, NULL, WNOHANG); /* ECHILD when another orchestrator started it */
    return proc_stat(&state, &now, pid) == 0 && now == start && state != 'Z' && state != 'X';
}

static bool health_ok(const ct_orch_service *svc, const char *url)
{
    char target[600];
    json_t *body = NULL;
    long status = 0;

    snprintf(target, sizeof(target), "%s%s", url, svc->health);
    if (ct_http_request(&status, &body, "GET", target, NULL, NULL, 2000) < 0)
        ct_error_clear();
    json_decref(body);
    return status >= 200 && status < 400;
}

/* Replaces every "{port}" in arg. Returns: a malloc'd string, or NULL. */
static char *with_port(const char *arg, uint16_t port)
{
    char num[8];
    ct_buf b;
    const char *at;

    snprintf(num, sizeof(num), "%u", (unsigned)port);
    ct_buf_init(&b, ARG_MAX_LEN);
    while ((at = strstr(arg, "{port}")) != NULL) {
        if (ct_buf_append(&b, arg, (size_t)(at - arg)) < 0 ||
            ct_buf_append(&b, num, strlen(num)) < 0)
            goto fail;
        arg = at + strlen("{port}");
    }
    if (ct_buf_append(&b, arg, strlen(arg) + 1) < 0)
        goto fail;
    return ct_buf_detach(&b);
fail:
    ct_buf_free(&b);
    return NULL;
}

/* "CATENA_URL_<NAME>=url" with the name made a variable name. */
static char *dep_env(const char *name, const char *url)
{
    size_t n = strlen(name), pre = strlen("CATENA_URL_");
    char *e = malloc(pre + n + 1 + strlen(url) + 1);

    if (e == NULL)
        return NULL;
    memcpy(e, "CATENA_URL_", pre);
    for (size_t i = 0; i < n; i++)
        e[pre + i] = isalnum((unsigned char)name[i]) ? (char)toupper((unsigned char)name[i]) : '_';
    e[pre + n] = '=';
    memcpy(e + pre + n + 1, url, strlen(url) + 1);
    return e;
}

/* The port to use: the service's own, else the one of the instance being
 * replaced while it is free, else any free one. */
static int choose_port(uint16_t *out, const ct_orch_service *svc, const ct_orch_instance *prev)
{
    unsigned p = 0;

    *out = svc->port;
    if (*out != 0)
        return 0;
    if (prev != NULL && sscanf(prev->url, "http://127.0.0.1:%u", &p) == 1 && p > 0 && p < 65536 &&
        !ct_net_can_connect((uint16_t)p)) {
        *out = (uint16_t)p;
        return 0;
    }
    return ct_net_free_port(out);
}

/* Waits until the started process answers its health check, exits, or the
 * time runs out. Returns: 0, CT_EIO (it exited), CT_ETIMEOUT. */
static int wait_healthy(process_driver *pd, const ct_orch_service *svc, ct_proc *proc,
                        const char *url, const char *log)
{
    int64_t deadline = ct_time_mono_ms() + pd->start_timeout_ms;

    for (int k = 0;; k++) {
        if (!ct_proc_alive(proc)) {
            int st = 0;
            waitpid(proc->pid, &st, 0);
            proc->pid = 0;
            return ct_error_set(CT_EIO, "service %s exited (%s %d) before it answered %s; see %s",
                                svc->name, WIFSIGNALED(st) ? "signal" : "status",
                                WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), svc->health, log);
        }
        if (health_ok(svc, url))
            return 0;
        if (ct_time_mono_ms() >= deadline)
            return ct_error_set(CT_ETIMEOUT, "service %s did not answer %s%s within %d ms; see %s",
                                svc->name, url, svc->health, pd->start_timeout_ms, log);
        ct_sleep_ms(k < 10 ? 50 : 200);
    }
}

static void free_strings(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

/* Builds argv and the environment of svc. Returns: 0 or CT_ENOMEM. */
static int build_exec(char ***argv, char ***env, const ct_orch_plan *p, size_t k,
                      const ct_orch_instance *running, uint16_t port)
{
    const ct_orch_service *svc = &p->services[k];
    char buf[64];

    *argv = calloc(svc->n_command + 1, sizeof(char *));
    *env = calloc(svc->n_deps + 3, sizeof(char *));
    if (*argv == NULL || *env == NULL)
        return ct_error_set(CT_ENOMEM, "driver: out of memory");
    for (size_t i = 0; i < svc->n_command; i++)
        if (((*argv)[i] = with_port(svc->command[i], port)) == NULL)
            return ct_error_set(CT_ENOMEM, "driver: argument %zu of %s too long", i + 1, svc->name);
    snprintf(buf, sizeof(buf), "PORT=%u", (unsigned)port);
    if (((*env)[0] = strdup(buf)) == NULL)
        return ct_error_set(CT_ENOMEM, "driver: out of memory");
    if (asprintf(&(*env)[1], "CATENA_SERVICE=%s", svc->name) < 0) {
        (*env)[1] = NULL;
        return ct_error_set(CT_ENOMEM, "driver: out of memory");
    }
    for (size_t i = 0; i < svc->n_deps; i++)
        if (((*env)[2 + i] = dep_env(p->services[svc->deps[i]].name, running[svc->deps[i]].url)) ==
            NULL)
            return ct_error_set(CT_ENOMEM, "driver: out of memory");
    return 0;
}

static int process_start(ct_orch_driver *d, ct_orch_instance *out, const ct_orch_plan *p, size_t k,
                         const ct_orch_instance *running)
{
    process_driver *pd = (process_driver *)d;
    const ct_orch_service *svc = &p->services[k];
    const ct_orch_instance *prev = running[k].id[0] ? &running[k] : NULL;
    char **argv = NULL, **env = NULL, log[4096], file[256];
    ct_proc proc = {0};
    uint64_t start;
    uint16_t port;
    char state;
    int rc;

    memset(out, 0, sizeof(*out));
    snprintf(file, sizeof(file), "%s", svc->name);
    for (char *c = file; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
            *c = '_';
    snprintf(log, sizeof(log), "%s/%s.log", pd->dir, file);
    if ((rc = choose_port(&port, svc, prev)) < 0 ||
        (rc = build_exec(&argv, &env, p, k, running, port)) < 0)
        goto done;
    {
        ct_proc_opts o = {
            .argv = argv, .cwd = pd->dir, .log_path = log, .env = env, .outlive_parent = true};
        if ((rc = ct_proc_spawn_opts(&proc, &o)) < 0)
            goto done;
    }
    snprintf(out->url, sizeof(out->url), "http://127.0.0.1:%u", (unsigned)port);
    if ((rc = wait_healthy(pd, svc, &proc, out->url, log)) < 0)
        goto done;
    if (proc_stat(&state, &start, proc.pid) < 0) {
        rc = ct_error_set(CT_EIO, "service %s: its process vanished", svc->name);
        goto done;
    }
    snprintf(out->id, sizeof(out->id), "process:%d:%" PRIu64, (int)proc.pid, start);
    out->pid = proc.pid;
    proc.pid = 0; /* it runs on; healthy() and stop() find it by its id */
done:
    if (proc.pid > 0)
        ct_proc_stop(&proc, STOP_GRACE_MS);
    free_strings(argv);
    free_strings(env);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

static bool process_healthy(ct_orch_driver *d, const ct_orch_service *svc,
                            const ct_orch_instance *inst)
{
    (void)d;
    return same_process_runs(inst->id) && health_ok(svc, inst->url);
}

static int process_stop(ct_orch_driver *d, const ct_orch_instance *inst)
{
    int64_t deadline = ct_time_mono_ms() + STOP_GRACE_MS;
    uint64_t start;
    pid_t pid;
    (void)d;

    if (parse_id(&pid, &start, inst->id) < 0)
        return CT_EINVAL;
    if (!same_process_runs(inst->id))
        return 0;
    kill(-pid, SIGTERM);
    while (same_process_runs(inst->id) && ct_time_mono_ms() < deadline)
        ct_sleep_ms(20);
    /* What is left of the group (the leader, or children that ignored
     * SIGTERM) is killed; the group id is still the leader's pid. */
    kill(-pid, SIGKILL);
    for (int k = 0; k < 100 && same_process_runs(inst->id); k++)
        ct_sleep_ms(20);
    return same_process_runs(inst->id)
               ? ct_error_set(CT_EIO, "service process %d does not stop", (int)pid)
               : 0;
}

static void process_free(ct_orch_driver *d)
{
    process_driver *pd = (process_driver *)d;

    free(pd->dir);
    free(pd);
}

int ct_orch_process_driver_new(ct_orch_driver **out, const char *dir, int start_timeout_ms)
{
    process_driver *pd;
    struct stat st;

    *out = NULL;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return ct_error_set(CT_EINVAL, "process driver: %s is not a directory", dir);
    if ((pd = calloc(1, sizeof(*pd))) == NULL || (pd->dir = strdup(dir)) == NULL) {
        free(pd);
        return ct_error_set(CT_ENOMEM, "process driver: out of memory");
    }
    pd->base.name = "process";
    pd->base.start = process_start;
    pd->base.healthy = process_healthy;
    pd->base.stop = process_stop;
    pd->base.free = process_free;
    pd->start_timeout_ms = start_timeout_ms > 0 ? start_timeout_ms : 30000;
    *out = &pd->base;
    return 0;
}

void ct_orch_driver_free(ct_orch_driver *d)
{
    if (d != NULL)
        d->free(d);
}
