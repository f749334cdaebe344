/* Orchestrator failover (issue 12): `catena up --can 3 --orchestrators 2`
 * on anvil; each trial deploys an application of two services (the front
 * end, depending on the back end, answers only after a slow start) with
 * `catena app deploy`, waits until the back end's SERVICE_UP is in the
 * CAN ledger, kills its orchestrator with SIGKILL, and times until the
 * front end's SERVICE_UP is in the ledger (which includes the front end's
 * own slow start, SLOW_MS). Whichever comes first deploys it: `catena up`
 * restarting the killed orchestrator (same key, so the same component,
 * which continues from the checkpoints), or the other orchestrator once the
 * network has voted the dead one out and reassigned the work (Algorithm 2,
 * REASSIGN_WORK); the line counts each;
 * then stops the application (`catena app stop`, APP_SHUTDOWN frees its
 * resources) and waits for `catena up` to restart the killed orchestrator.
 * The reference, measured in the same run, is one `catena app show` of
 * the application (a CLI round trip reading the chain).
 *   bench_orch [trials]        prints one JSON line (default 20 trials) */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "catena/util.h"

#define SLOW_MS 1000
#define MAX_TRIALS 200

static ct_proc up;
static char base[256], dir[PATH_MAX], svc[PATH_MAX + 32], app_path[PATH_MAX + 16];
static json_t *fed;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "bench_orch: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (logs in %s)\n", base);
    va_end(ap);
    ct_proc_stop(&up, 20000);
    exit(1);
}

static const char *fed_str(const char *key)
{
    return json_string_value(json_object_get(fed, key));
}

static const char *can_url(int i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(fed, "can"), i), "url"));
}

/* Runs catena with args; its stdout (malloc'd) or NULL when it fails. */
static char *run(char *const *args)
{
    return bench_run(args, base);
}

/* The leader's view of the network (new ref), or NULL. */
static json_t *leader_status(void)
{
    for (int i = 0; i < (int)json_array_size(json_object_get(fed, "can")); i++) {
        char url[128];
        long status = 0;
        json_t *st = NULL;
        snprintf(url, sizeof(url), "%s/can/status", can_url(i));
        if (ct_http_request(&status, &st, "GET", url, NULL, NULL, 2000) == 0 && status == 200 &&
            strcmp(json_string_value(json_object_get(st, "role")) ?: "", "leader") == 0)
            return st;
        ct_error_clear();
        json_decref(st);
    }
    return NULL;
}

static const json_t *work_of(const json_t *st, const char *app)
{
    return json_object_get(json_object_get(st, "works"), app);
}

static char *deploy(void)
{
    const json_t *dc1 = json_array_get(json_object_get(fed, "datacenters"), 0);
    char pw[PATH_MAX + 16];
    char *args[] = {(char *)bench_catena_bin(),
                    "app",
                    "deploy",
                    app_path,
                    "--rpc",
                    (char *)fed_str("rpc_url"),
                    "--can",
                    (char *)can_url(0),
                    "--cloud",
                    (char *)fed_str("cloud"),
                    "--deposit",
                    "1000000000000000000",
                    "--key-file",
                    (char *)json_string_value(json_object_get(dc1, "key_file")),
                    "--password-file",
                    pw,
                    "--scheduler-key-file",
                    (char *)fed_str("scheduler_key_file"),
                    "--ok-interval",
                    "5",
                    "--json",
                    NULL};
    json_t *out = NULL;
    char *text, *app;

    snprintf(pw, sizeof(pw), "%s/keys/password", dir);
    if ((text = run(args)) == NULL || ct_json_parse(&out, text, strlen(text), 4) < 0)
        die("catena app deploy failed");
    app = strdup(json_string_value(json_object_get(out, "app")));
    json_decref(out);
    free(text);
    return app;
}

static void stop_app(const char *app)
{
    const json_t *dc1 = json_array_get(json_object_get(fed, "datacenters"), 0);
    char pw[PATH_MAX + 16];
    char *args[] = {(char *)bench_catena_bin(),
                    "app",
                    "stop",
                    (char *)app,
                    "--rpc",
                    (char *)fed_str("rpc_url"),
                    "--key-file",
                    (char *)json_string_value(json_object_get(dc1, "key_file")),
                    "--password-file",
                    pw,
                    NULL};
    char *text;

    snprintf(pw, sizeof(pw), "%s/keys/password", dir);
    if ((text = run(args)) == NULL)
        die("catena app stop failed");
    free(text);
    /* Until the work is finished (APP_SHUTDOWN on chain: resources free). */
    for (int k = 0; k < 600; k++) {
        json_t *st = leader_status();
        bool done = json_is_true(json_object_get(work_of(st, app), "finished"));
        json_decref(st);
        if (done)
            return;
        ct_sleep_ms(100);
    }
    die("application %s did not shut down", app);
}

/* The pid of orchestrator id from federation.json (catena up rewrites it
 * when it restarts one). */
static pid_t orch_pid(const char *id)
{
    char *text = NULL, path[PATH_MAX + 32];
    json_t *doc = NULL, *o;
    pid_t pid = 0;
    size_t i;

    snprintf(path, sizeof(path), "%s/federation.json", dir);
    if (ct_file_read(&text, NULL, path, 1 << 20) == 0 &&
        ct_json_parse(&doc, text, strlen(text), 16) == 0)
        json_array_foreach (json_object_get(doc, "orchestrators"), i, o)
            if (strcasecmp(json_string_value(json_object_get(o, "id")), id) == 0)
                pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
    ct_error_clear();
    json_decref(doc);
    free(text);
    return pid;
}

/* Waits until every orchestrator of federation.json is registered. */
static void wait_registered(void)
{
    for (int k = 0; k < 900; k++) {
        json_t *st = leader_status(), *c;
        const char *id;
        size_t n = 0;
        json_object_foreach (json_object_get(st, "components"), id, c)
            n += json_is_true(json_object_get(c, "registered"));
        json_decref(st);
        if (n >= json_array_size(json_object_get(fed, "orchestrators")))
            return;
        ct_sleep_ms(100);
    }
    die("the orchestrators did not register again");
}

static double app_show_ms(const char *app)
{
    char *args[] = {(char *)bench_catena_bin(), "app",    "show", (char *)app, "--rpc",
                    (char *)fed_str("rpc_url"), "--json", NULL};
    int64_t t0 = ct_time_mono_ms();
    char *text = run(args);

    if (text == NULL)
        die("catena app show failed");
    free(text);
    return (double)(ct_time_mono_ms() - t0);
}

static void start_up(void)
{
    char *argv[] = {(char *)bench_catena_bin(),
                    "up",
                    "--dir",
                    dir,
                    "--rpc-port",
                    "0",
                    "--api-port",
                    "0",
                    "--can",
                    "3",
                    "--orchestrators",
                    "2",
                    NULL};
    char log[PATH_MAX + 16];

    snprintf(log, sizeof(log), "%s/up.log", base);
    if (bench_up_start(&up, argv, log, dir, &fed) < 0)
        die("catena up did not start");
}

int main(int argc, char **argv)
{
    static double reassigned[MAX_TRIALS], next_up[MAX_TRIALS], ref[MAX_TRIALS];
    int trials = argc > 1 ? atoi(argv[1]) : 20;
    const char *bin = bench_catena_bin();
    char text[4 * PATH_MAX + 1024];

    if (trials < 1 || trials > MAX_TRIALS || bin == NULL)
        die("usage: bench_orch [trials 1..%d]", MAX_TRIALS);
    snprintf(base, sizeof(base), "/tmp/bench-orch-%d", (int)getpid());
    mkdir(base, 0700);
    snprintf(dir, sizeof(dir), "%s/up", base);
    snprintf(svc, sizeof(svc), "%.*s/tests/catena_test_svc", (int)(strrchr(bin, '/') - bin), bin);
    if (access(svc, X_OK) != 0)
        die("%s is missing (build the tests)", svc);
    snprintf(app_path, sizeof(app_path), "%s/app.yaml", base);
    snprintf(text, sizeof(text),
             "tosca_definitions_version: tosca_simple_yaml_1_3\n"
             "topology_template:\n"
             "  node_templates:\n"
             "    backend:\n"
             "      type: catena.nodes.Service\n"
             "      properties: {command: [%s, --tag, %s], health: /health}\n"
             "    frontend:\n"
             "      type: catena.nodes.Service\n"
             "      properties: {command: [%s, --sleep, '%d', --tag, %s, --port, '{port}'], "
             "health: /health}\n"
             "      requirements: [{dependency: backend}]\n",
             svc, base, svc, SLOW_MS, base);
    if (ct_file_write_atomic(app_path, text, strlen(text), 0644) < 0)
        die("%s", ct_error_last());
    start_up();
    fprintf(stderr, "catena up --can 3 --orchestrators 2 ready in %s\n", dir);
    for (int t = 0; t < trials; t++) {
        char *app = deploy(), first[64] = "";
        json_t *st = NULL;
        int64_t t0;
        pid_t pid;
        /* The back end's SERVICE_UP is in the ledger. */
        for (int k = 0; k < 600; k++) {
            st = leader_status();
            if (json_array_size(json_object_get(work_of(st, app), "checkpoints")) >= 1)
                break;
            json_decref(st);
            st = NULL;
            ct_sleep_ms(20);
        }
        if (st == NULL)
            die("trial %d: no SERVICE_UP", t);
        snprintf(first, sizeof(first), "%s",
                 json_string_value(json_object_get(work_of(st, app), "comp")));
        json_decref(st);
        if ((pid = orch_pid(first)) <= 0)
            die("trial %d: no pid for orchestrator %s", t, first);
        kill(pid, SIGKILL);
        t0 = ct_time_mono_ms();
        reassigned[t] = next_up[t] = -1;
        for (int k = 0; k < 6000 && next_up[t] < 0; k++) {
            const json_t *w;
            st = leader_status();
            w = work_of(st, app);
            if (reassigned[t] < 0 && w != NULL &&
                strcasecmp(json_string_value(json_object_get(w, "comp")), first) != 0)
                reassigned[t] = (double)(ct_time_mono_ms() - t0);
            if (json_array_size(json_object_get(w, "checkpoints")) >= 2)
                next_up[t] = (double)(ct_time_mono_ms() - t0);
            json_decref(st);
            ct_sleep_ms(20);
        }
        if (next_up[t] < 0)
            die("trial %d: the front end never came up", t);
        ref[t] = app_show_ms(app);
        fprintf(stderr, "trial %d: next service up %.0f ms, by %s (show %.0f ms)\n", t, next_up[t],
                reassigned[t] >= 0 ? "the other orchestrator" : "a restart", ref[t]);
        stop_app(app);
        free(app);
        wait_registered(); /* catena up restarted the killed one */
    }
    {
        int moved = 0;
        for (int t = 0; t < trials; t++)
            moved += reassigned[t] >= 0;
        double n50 = bench_quantile(next_up, (size_t)trials, 0.5);
        double n99 = bench_quantile(next_up, (size_t)trials, 0.99);
        double ref50 = bench_quantile(ref, (size_t)trials, 0.5);
        printf("{\"bench\":\"orchestrator_failover\",\"trials\":%d,\"by_other\":%d,"
               "\"by_restart\":%d,\"next_up_p50_ms\":%.0f,\"next_up_p99_ms\":%.0f,"
               "\"slow_start_ms\":%d,\"ref_app_show_p50_ms\":%.0f,\"ratio_next_up_p50\":%.1f}\n",
               trials, moved, trials - moved, n50, n99, SLOW_MS, ref50, n50 / ref50);
    }
    kill(up.pid, SIGINT);
    ct_proc_stop(&up, 60000);
    json_decref(fed);
    {
        /* The services outlive the orchestrators by design: stop ours. */
        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof(cmd), "pkill -9 -f -- '--tag %s' 2>/dev/null", base);
        if (system(cmd) < 0)
            fprintf(stderr, "could not stop the services (tag %s)\n", base);
    }
    return 0;
}
