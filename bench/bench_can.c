/* CAN leader failover (issue 12): three `catena can run` nodes on anvil;
 * each trial kills the leader with SIGKILL and times until another node is
 * the Registry's leader and has a write acknowledged by a majority, then
 * restarts the killed node and waits until it is a member again. The
 * reference, measured in the same run, is the median of 20 Registry
 * transactions each sent and mined (the floor: an election ends with
 * registerLeader).
 *   bench_can [trials]        prints one JSON line (default 20 trials) */
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
#include "catena/ledger.h"

#define NODES 3
#define REF_TXS 20
/* anvil's first dev accounts. */
static const char *const keys[NODES] = {
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
};

static ct_devnode chain;
static ct_proc procs[NODES];
static char urls[NODES][64], dirs[NODES][PATH_MAX], registry_text[CT_ADDRESS_TEXT_SIZE];
static uint16_t ports[NODES];
static char base[256];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void stop_all(void)
{
    for (int i = 0; i < NODES; i++)
        ct_proc_stop(&procs[i], 3000);
    ct_devnode_stop(&chain);
}

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "bench_can: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (logs in %s)\n", base);
    va_end(ap);
    stop_all();
    exit(1);
}

static const char *catena_bin(void)
{
    const char *bin = bench_catena_bin();

    if (bin == NULL)
        die("cannot find myself: %s", strerror(errno));
    return bin;
}

static void start_node(int i)
{
    char env[32], log[PATH_MAX + 16], listen[32];
    char *argv[] = {
        (char *)catena_bin(), "can",         "run",      "--dir", dirs[i],     "--rpc", chain.url,
        "--registry",         registry_text, "--listen", listen,  "--key-env", env,     NULL};

    snprintf(env, sizeof(env), "BENCH_CAN_KEY_%d", i);
    setenv(env, keys[i], 1);
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)ports[i]);
    snprintf(log, sizeof(log), "%s/node%d.log", base, i);
    if (ct_proc_spawn(&procs[i], argv, NULL, log) < 0)
        die("%s", ct_error_last());
}

static json_t *status_of(int i)
{
    char url[128];
    json_t *out = NULL;
    long status = 0;

    snprintf(url, sizeof(url), "%s/can/status", urls[i]);
    if (ct_http_request(&status, &out, "GET", url, NULL, NULL, 2000) < 0 || status != 200) {
        ct_error_clear();
        json_decref(out);
        return NULL;
    }
    return out;
}

/* The node that leads with nonce, or -1. */
static int leader_with(json_int_t nonce)
{
    for (int i = 0; i < NODES; i++) {
        json_t *st = status_of(i);
        bool yes = st != NULL &&
                   strcmp(json_string_value(json_object_get(st, "role")), "leader") == 0 &&
                   json_integer_value(json_object_get(st, "nonce")) == nonce;
        json_decref(st);
        if (yes)
            return i;
    }
    return -1;
}

static size_t members_at(int i)
{
    json_t *st = status_of(i);
    size_t n = st ? json_object_size(json_object_get(st, "members")) : 0;

    json_decref(st);
    return n;
}

/* A write acknowledged by a majority: a component (the node itself, which
 * answers /health) registered on node i. */
static bool write_ok(int i, int trial)
{
    char url[128], body[256];
    json_t *out = NULL;
    long status = 0;

    snprintf(url, sizeof(url), "%s/can/component", urls[i]);
    snprintf(body, sizeof(body), "{\"comp\":\"c%d\",\"url\":\"%s\"}", trial, urls[i]);
    ct_http_request(&status, &out, "POST", url, NULL, body, 10000);
    ct_error_clear();
    json_decref(out);
    return status == 200;
}

/* Deploys the Registry (Nmin 3) with the three nodes as candidates and
 * node 0 as leader; times each plain transaction as the reference. */
static void deploy(double *ref_ms, size_t *n_ref)
{
    ct_ledger *reg = NULL;
    ct_sender *s[NODES];
    ct_address registry;
    json_t *args;

    if (ct_ledger_open_contract(&reg, "Registry") < 0)
        die("%s", ct_error_last());
    for (int i = 0; i < NODES; i++) {
        uint8_t key[32];
        size_t len;
        ct_hex_decode(key, 32, &len, keys[i], strlen(keys[i]));
        if (ct_sender_new(&s[i], chain.url, key, NULL) < 0)
            die("%s", ct_error_last());
    }
    args = json_pack("[i, i, i, i]", 3, 5, 1000, 500);
    if (ct_ledger_deploy_with(reg, s[0], args, &registry, NULL) < 0)
        die("%s", ct_error_last());
    json_decref(args);
    ct_address_format(registry_text, &registry);
    for (int i = 0; i < NODES; i++) {
        args = json_pack("[s]", urls[i]);
        if (ct_ledger_transact(reg, s[i], NULL, &registry, NULL, "registerCandidate", args) < 0)
            die("%s", ct_error_last());
        json_decref(args);
    }
    /* The reference: REF_TXS warm transactions, each sent and mined. */
    for (int i = 0; i < REF_TXS; i++) {
        int64_t t0 = ct_time_mono_ms();
        args = json_pack("[s, s]",
                         "0x"
                         "1111111111111111111111111111111111111111111111111111111111111111",
                         "https://example.org/app.yaml");
        if (ct_ledger_transact(reg, s[0], NULL, &registry, NULL, "registerApplication", args) < 0)
            die("%s", ct_error_last());
        ref_ms[(*n_ref)++] = (double)(ct_time_mono_ms() - t0);
        json_decref(args);
    }
    {
        char leader[CT_ADDRESS_TEXT_SIZE];
        ct_address_format(leader, ct_sender_address(s[0]));
        args = json_pack("[s]", leader);
    }
    if (ct_ledger_transact(reg, s[0], NULL, &registry, NULL, "appointLeader", args) < 0)
        die("%s", ct_error_last());
    json_decref(args);
    for (int i = 0; i < NODES; i++)
        ct_sender_free(s[i]);
    ct_ledger_free(reg);
}

int main(int argc, char **argv)
{
    int trials = argc > 1 ? atoi(argv[1]) : 20;
    const char *root = getenv("CATENA_ROOT") ? getenv("CATENA_ROOT") : CATENA_SOURCE_DIR;
    ct_devnode_opts opts = {.kind = CT_CHAIN_ANVIL};
    char chain_log[300];
    double *ms = calloc((size_t)trials + 1, sizeof(double)), ref[REF_TXS];
    size_t n_ref = 0;
    int leader = 0;

    if (trials < 1 || trials > 1000 || ms == NULL)
        die("trials: 1 to 1000");
    snprintf(base, sizeof(base), "/tmp/bench-can-%d", (int)getpid());
    mkdir(base, 0755);
    snprintf(chain_log, sizeof(chain_log), "%s/anvil.log", base);
    opts.log_path = chain_log;
    if (ct_devnode_start(&chain, root, &opts) < 0)
        die("%s", ct_error_last());
    for (int i = 0; i < NODES; i++) {
        ct_net_free_port(&ports[i]);
        snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%u", (unsigned)ports[i]);
        snprintf(dirs[i], sizeof(dirs[i]), "%s/node%d", base, i);
        mkdir(dirs[i], 0755);
    }
    deploy(ref, &n_ref);
    for (int i = 0; i < NODES; i++)
        start_node(i);
    for (int k = 0; k < 600 && members_at(0) < NODES; k++)
        ct_sleep_ms(100);
    if (members_at(0) < NODES)
        die("the network did not form");
    for (int k = 0; k < 600 && (members_at(1) < NODES || members_at(2) < NODES); k++)
        ct_sleep_ms(100);
    fprintf(stderr, "formed: %zu %zu %zu members\n", members_at(0), members_at(1), members_at(2));
    for (int t = 0; t < trials; t++) {
        int64_t t0 = ct_time_mono_ms();
        int next = -1, status;
        kill(procs[leader].pid, SIGKILL);
        waitpid(procs[leader].pid, &status, 0);
        procs[leader].pid = 0;
        while (next < 0 && ct_time_mono_ms() - t0 < 60000) {
            next = leader_with(t + 1);
            if (next >= 0 && !write_ok(next, t))
                next = -1;
            if (next < 0)
                ct_sleep_ms(20);
        }
        if (next < 0)
            die("trial %d: no new leader in 60 s", t);
        ms[t] = (double)(ct_time_mono_ms() - t0);
        start_node(leader);
        for (int k = 0; k < 600 && members_at(next) < NODES; k++)
            ct_sleep_ms(100);
        if (members_at(next) < NODES)
            die("trial %d: the killed node did not rejoin", t);
        fprintf(stderr, "trial %d: %.0f ms\n", t, ms[t]);
        leader = next;
    }
    {
        double p50 = bench_quantile(ms, (size_t)trials, 0.5);
        double p99 = bench_quantile(ms, (size_t)trials, 0.99);
        double ref50 = bench_quantile(ref, n_ref, 0.5);
        printf("{\"bench\":\"can_leader_failover\",\"trials\":%d,\"p50_ms\":%.0f,\"p99_ms\":%.0f,"
               "\"min_ms\":%.0f,\"max_ms\":%.0f,\"ref_tx_p50_ms\":%.1f,\"p50_over_ref\":%.1f}\n",
               trials, p50, p99, ms[0], ms[trials - 1], ref50, p50 / (ref50 > 0 ? ref50 : 1));
    }
    stop_all();
    free(ms);
    return 0;
}
