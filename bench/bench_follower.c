/* Follower ingest: events per second into a fresh cache file while
 * catching up on N events (default 100,000), created quickly with
 * registerContainers batches on a Hardhat node this program starts and
 * stops. Its reference, in the same run: the node serving the same logs
 * to plain eth_getLogs calls (fetch and JSON parse only, nothing decoded
 * or stored), the ceiling any follower of this node could reach.
 * Best of ROUNDS alternating runs of each; also the follower's own CPU
 * time per event, which load on a shared machine disturbs less.
 *   bench_follower [events [batch]]     prints JSON lines
 * Batches hold 200 VCs, the gateway's largest (about 8.4M gas, under
 * Hardhat's 2^24 cap per transaction, EIP-7825). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "catena/ledger.h"
#include "catena/store.h"

#include "bench_common.h"

#define DEV_KEY0 "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define DEV_KEY1 "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
/* Logs per eth_getLogs call in the reference, about what the follower
 * settles on (MANY_LOGS in src/store/follower.c). */
#define REF_LOGS_PER_CALL 5000
/* Gas limit of each batch: the node's per-transaction cap (EIP-7825, 2^24). */
#define BATCH_GAS_LIMIT 16777216
/* The reference and the follower run alternately this many times; the
 * best of each is reported (the machine is shared). */
#define ROUNDS 3

static ct_devnode node;
static ct_ledger *ledger;
static ct_address contract;
static char dir[64];
static uint64_t batch_gas; /* gas used by the first batch */

static int die(const char *what)
{
    bench_node_die("bench_follower", &node, what);
}

static ct_sender *sender(const char *hex)
{
    return bench_node_sender("bench_follower", &node, hex);
}

/* Sends function(args) from s; waits for the receipt when wait. */
static uint64_t send(ct_sender *s, const char *function, const char *args_json, uint64_t gas,
                     bool wait)
{
    ct_send_result res;
    json_t *args;
    ct_buf data;
    uint64_t used;

    ct_buf_init(&data, 1 << 24);
    if (ct_json_parse(&args, args_json, strlen(args_json), 16) < 0 ||
        ct_ledger_encode_call(ledger, &data, function, args) < 0)
        die(function);
    ct_send_req req = {
        .to = &contract, .data = (uint8_t *)data.data, .data_len = data.len, .gas_limit = gas};
    if (ct_sender_send(s, &res, &req, wait) < 0)
        die(function);
    used = res.gas_used;
    ct_send_result_clear(&res);
    ct_buf_free(&data);
    json_decref(args);
    return used;
}

/* The registerContainers argument for VCs first .. first + n - 1. */
static void batch_args(ct_buf *b, long first, long n)
{
    ct_buf_reset(b);
    ct_buf_append(b, "[[", 2);
    for (long i = first; i < first + n; i++)
        ct_buf_appendf(b,
                       "%s[\"docker:container\", true, 2, 2048, 20, \"c-%ld\", "
                       "\"http://10.%ld.%ld.%ld\", \"http://10.0.0.1\", %ld]",
                       i > first ? "," : "", i, (i >> 16) & 255, (i >> 8) & 255, i & 255,
                       1700000000 + i);
    ct_buf_append(b, "]]", 2);
}

/* Registers total VCs in batches; returns the seconds it took. */
static double create_events(long total, long batch)
{
    ct_sender *admin = sender(DEV_KEY0), *dc = sender(DEV_KEY1);
    uint64_t block;
    int64_t t0;
    ct_buf args;

    if (ct_ledger_deploy(ledger, admin, true, &contract, &block) < 0)
        die("deploy");
    send(dc, "registerDatacenter", "[\"DC1\"]", 0, true);
    ct_buf_init(&args, (size_t)batch * 256 + 64);
    t0 = ct_time_mono_ms();
    for (long done = 0; done < total; done += batch) {
        long n = total - done < batch ? total - done : batch;
        batch_args(&args, done, n);
        /* A fixed gas limit under the block's: no eth_estimateGas, so the
         * node runs each transaction once. The first is waited for to
         * report its gas. */
        uint64_t used = send(dc, "registerContainers", args.data, BATCH_GAS_LIMIT,
                             done == 0 || done + n >= total);
        if (done == 0)
            batch_gas = used;
    }
    ct_buf_free(&args);
    ct_sender_free(admin);
    ct_sender_free(dc);
    return (double)(ct_time_mono_ms() - t0) / 1000.0;
}

/* The reference: plain eth_getLogs over the whole chain. */
static double fetch_only(uint64_t head, long batch, uint64_t *logs)
{
    uint64_t span = (uint64_t)(REF_LOGS_PER_CALL / batch > 0 ? REF_LOGS_PER_CALL / batch : 1);
    char addr[CT_ADDRESS_TEXT_SIZE], from[24], to[24];
    ct_rpc *rpc;
    int64_t t0 = ct_time_mono_ms();

    ct_address_format(addr, &contract);
    if (ct_rpc_new(&rpc, node.url, 120000) < 0)
        die("rpc");
    *logs = 0;
    for (uint64_t a = 0; a <= head; a += span) {
        json_t *res, *filter;
        snprintf(from, sizeof(from), "0x%llx", (unsigned long long)a);
        snprintf(to, sizeof(to), "0x%llx", (unsigned long long)(a + span - 1));
        filter = json_pack("{s:s, s:s, s:s}", "address", addr, "fromBlock", from, "toBlock", to);
        if (ct_rpc_get_logs(rpc, &res, filter) < 0)
            die("eth_getLogs");
        *logs += json_array_size(res);
        json_decref(res);
        json_decref(filter);
    }
    ct_rpc_free(rpc);
    return (double)(ct_time_mono_ms() - t0) / 1000.0;
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void remove_cache(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char p[160];

    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

/* The measurement: a follower catching up into a fresh cache file.
 * Out: *cpu the CPU seconds this process used meanwhile (both threads). */
static double follow(const char *path, uint64_t *events, ct_follower_stats *st, double *cpu)
{
    ct_store *s;
    ct_follower *f;
    double cpu0 = cpu_seconds();
    int64_t t0 = ct_time_mono_ms();

    remove_cache(path);

    if (ct_store_open(&s, path) < 0 ||
        ct_follower_new(&f, s, ledger, node.url, &contract, 0, NULL) < 0 ||
        ct_follower_poll(f, events) < 0)
        die("follower");
    double secs = (double)(ct_time_mono_ms() - t0) / 1000.0;
    *cpu = cpu_seconds() - cpu0;
    ct_follower_get_stats(f, st);
    ct_follower_free(f);
    ct_store_close(s);
    return secs;
}

static void remove_dir(const char *cache, const char *log)
{
    remove_cache(cache);
    unlink(log);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    long total = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    long batch = argc > 2 ? strtol(argv[2], NULL, 10) : 200;
    const char *root = getenv("CATENA_ROOT") ? getenv("CATENA_ROOT") : CATENA_SOURCE_DIR;
    char log[128], cache[128];
    uint64_t head, events, logs;
    ct_follower_stats st;

    if (total <= 0 || batch <= 0) {
        fprintf(stderr, "usage: bench_follower [events [batch]]\n");
        return 2;
    }
    snprintf(dir, sizeof(dir), "/tmp/catena-bench-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(log, sizeof(log), "%s/hardhat.log", dir);
    snprintf(cache, sizeof(cache), "%s/cache.db", dir);
    if (ct_ledger_open(&ledger) < 0 ||
        ct_devnode_start(&node, root,
                         &(ct_devnode_opts){.kind = CT_CHAIN_HARDHAT, .log_path = log}) < 0)
        die("start");
    double create_s = create_events(total, batch);
    ct_rpc *rpc;
    if (ct_rpc_new(&rpc, node.url, 10000) < 0 || ct_rpc_block_number(rpc, &head) < 0)
        die("head");
    ct_rpc_free(rpc);
    printf("{\"op\":\"create\",\"events\":%ld,\"batch\":%ld,\"gas_per_batch\":%llu,"
           "\"blocks\":%llu,\"s\":%.1f}\n",
           total, batch, (unsigned long long)batch_gas, (unsigned long long)head, create_s);
    fflush(stdout);

    double fetch_s = 1e9, follow_s = 1e9, cpu_s = 0;
    for (int i = 0; i < ROUNDS; i++) {
        double t = fetch_only(head, batch, &logs), cpu;
        fetch_s = t < fetch_s ? t : fetch_s;
        t = follow(cache, &events, &st, &cpu);
        if (t < follow_s) {
            follow_s = t;
            cpu_s = cpu;
        }
    }
    printf("{\"op\":\"eth_getLogs_only\",\"logs\":%llu,\"s\":%.2f,\"logs_per_s\":%.0f}\n",
           (unsigned long long)logs, fetch_s, (double)logs / fetch_s);
    printf("{\"op\":\"follower_catch_up\",\"events\":%llu,\"s\":%.2f,\"events_per_s\":%.0f,"
           "\"cpu_us_per_event\":%.1f,\"rpc_calls\":%llu,\"ratio_to_fetch_only\":%.2f}\n",
           (unsigned long long)events, follow_s, (double)events / follow_s,
           cpu_s * 1e6 / (double)events, (unsigned long long)st.rpc_calls, fetch_s / follow_s);
    ct_devnode_stop(&node);
    ct_ledger_free(ledger);
    remove_dir(cache, log);
    return events == (uint64_t)total + 1 ? 0 : 1;
}
