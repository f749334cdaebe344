/* Deploy on agreement (issue 13, seed 004 Figure 6.1): `catena up` on
 * anvil; each trial offers a dynamic-price agreement as the provider
 * (`catena agreement offer`), then times from starting `catena agreement
 * accept` until the session URL the gateway's keeper binds answers 200
 * (the keeper sees the Accepted event, starts the session service,
 * registers its VC through DC1's agent, binds it; the bench polls the
 * gateway's GET /api/agreements/{address} and then the URL every 20 ms),
 * then stops the agreement and waits until the URL is gone. The reference,
 * measured in the same run, is the `catena agreement accept` alone (one
 * CLI call and one mined transaction).
 *   bench_agreement [trials]   prints one JSON line (default 20 trials) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_common.h"
#include "catena/util.h"

#define MAX_TRIALS 200
#define PRICE "1000000000000"

static ct_proc up;
static char base[256], dir[PATH_MAX];
static json_t *fed;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "bench_agreement: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (logs in %s)\n", base);
    va_end(ap);
    ct_proc_stop(&up, 20000);
    exit(1);
}

/* `catena agreement SUB [A1 A2 A3] --up-dir DIR`: its stdout. */
static char *agreement(const char *sub, const char *a1, const char *a2, const char *a3)
{
    char *args[16] = {(char *)bench_catena_bin(), "agreement", (char *)sub};
    const char *extra[] = {a1, a2, a3};
    int n = 3;
    char *text;

    for (int i = 0; i < 3; i++)
        if (extra[i] != NULL)
            args[n++] = (char *)extra[i];
    args[n++] = "--up-dir";
    args[n++] = dir;
    args[n] = NULL;
    if ((text = bench_run(args, base)) == NULL)
        die("catena agreement %s failed", sub);
    return text;
}

static char *offer(void)
{
    char *args[] = {(char *)bench_catena_bin(),
                    "agreement",
                    "offer",
                    "--kind",
                    "dynamic",
                    "--price",
                    PRICE,
                    "--max-seconds",
                    "3600",
                    "--up-dir",
                    dir,
                    "--json",
                    NULL};
    char *text = bench_run(args, base), *addr;
    json_t *out = NULL;

    if (text == NULL || ct_json_parse(&out, text, strlen(text), 4) < 0)
        die("catena agreement offer failed");
    addr = strdup(json_string_value(json_object_get(out, "agreement")));
    json_decref(out);
    free(text);
    return addr;
}

static long get(json_t **out, const char *url)
{
    long status = 0;

    *out = NULL;
    if (ct_http_request(&status, out, "GET", url, NULL, NULL, 3000) < 0) {
        ct_error_clear();
        return 0;
    }
    return status;
}

/* Polls the gateway until the agreement has a session URL, then the URL
 * until it answers. Returns: the URL (malloc'd). */
static char *wait_session(const char *addr)
{
    char url[512];
    json_t *doc = NULL;
    char *session = NULL;

    snprintf(url, sizeof(url), "%s/agreements/%s",
             json_string_value(json_object_get(fed, "api_url")), addr);
    for (int k = 0; k < 3000 && session == NULL; k++) {
        if (get(&doc, url) == 200 && json_is_string(json_object_get(doc, "session_url")))
            session = strdup(json_string_value(json_object_get(doc, "session_url")));
        json_decref(doc);
        if (session == NULL)
            ct_sleep_ms(20);
    }
    if (session == NULL)
        die("no session was bound to %s", addr);
    for (int k = 0; k < 3000; k++) {
        long st = get(&doc, session);
        json_decref(doc);
        if (st == 200)
            return session;
        ct_sleep_ms(20);
    }
    die("%s does not answer", session);
}

int main(int argc, char **argv)
{
    static double to_url[MAX_TRIALS], accept_ms[MAX_TRIALS];
    int trials = argc > 1 ? atoi(argv[1]) : 20;
    char log[PATH_MAX + 16];
    char *up_argv[] = {
        (char *)bench_catena_bin(), "up", "--dir", dir, "--rpc-port", "0", "--api-port", "0", NULL};

    if (trials < 1 || trials > MAX_TRIALS || bench_catena_bin() == NULL)
        die("usage: bench_agreement [trials 1..%d]", MAX_TRIALS);
    snprintf(base, sizeof(base), "/tmp/bench-agreement-%d", (int)getpid());
    mkdir(base, 0700);
    snprintf(dir, sizeof(dir), "%s/up", base);
    snprintf(log, sizeof(log), "%s/up.log", base);
    if (bench_up_start(&up, up_argv, log, dir, &fed) < 0)
        die("catena up did not start");
    fprintf(stderr, "catena up ready in %s\n", dir);
    for (int t = 0; t < trials; t++) {
        char *addr = offer(), *session, *text;
        json_t *doc = NULL;
        int64_t t0 = ct_time_mono_ms();
        text = agreement("accept", addr, "--deposit", PRICE);
        accept_ms[t] = (double)(ct_time_mono_ms() - t0);
        free(text);
        session = wait_session(addr);
        to_url[t] = (double)(ct_time_mono_ms() - t0);
        fprintf(stderr, "trial %d: accept %.0f ms, session URL answering after %.0f ms\n", t,
                accept_ms[t], to_url[t]);
        free(agreement("stop", addr, NULL, NULL));
        for (int k = 0; k < 3000 && get(&doc, session) != 0; k++) {
            json_decref(doc);
            ct_sleep_ms(20);
        }
        json_decref(doc);
        free(session);
        free(addr);
    }
    {
        double p50 = bench_quantile(to_url, (size_t)trials, 0.5),
               p90 = bench_quantile(to_url, (size_t)trials, 0.9),
               max = bench_quantile(to_url, (size_t)trials, 1.0),
               ref = bench_quantile(accept_ms, (size_t)trials, 0.5);
        printf("{\"bench\":\"agreement_session\",\"trials\":%d,\"accept_to_url_ms\":{\"p50\":%.0f,"
               "\"p90\":%.0f,\"max\":%.0f},\"reference_accept_ms_p50\":%.0f,\"ratio_p50\":%.2f}\n",
               trials, p50, p90, max, ref, ref > 0 ? p50 / ref : 0);
    }
    ct_proc_stop(&up, 30000);
    json_decref(fed);
    return 0;
}
