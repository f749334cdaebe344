/* Registrations per second through the federation (issue 4): `catena up`
 * runs as a child process group; N single registrations go through the
 * gateway and DC1's agent, then, as the reference in the same run, N raw
 * registerContainer transactions, pre-signed by a fresh DC key, go
 * straight to the same node (anvil, or CATENA_BENCH_CHAIN=hardhat); then batch registrations
 * through the gateway and, to see where they spend their time, the same batches pre-signed and sent
 * straight. Each phase also reports every service's CPU time per item; every receipt is checked
 * afterwards. bench_federation [n [batch [requests [clients [rounds]]]]]     prints JSON lines
 * Defaults: 1000 singles, 30 batches of 64 VCs, 4 keep-alive clients. A VC
 * costs about 193k gas in a batch, Hardhat caps a transaction at 2^24 gas
 * (EIP-7825) and the agent asks for its estimate plus a quarter, so a
 * batch through the agent holds at most about 69 VCs. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench_common.h"
#include "catena/ledger.h"

/* Hardhat's first dev account: funds the raw reference's DC key. */
#define DEV_KEY0 "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define CREATED_BASE 1700000000LL
#define HTTP_TIMEOUT_MS 120000L

static ct_proc up;
static char dir[64];
static json_t *fed;
static const char *api_url, *rpc_url, *dc1_token;
static ct_address dc1_wallet;
static ct_address contract;
static volatile sig_atomic_t interrupted;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Stops the federation and removes its directory (keep it with
 * CATENA_KEEP_TMP=1, e.g. to read the logs). */
static void cleanup(void)
{
    ct_proc_stop(&up, 15000);
    if (dir[0] != '\0' && getenv("CATENA_KEEP_TMP") == NULL)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    else if (dir[0] != '\0')
        fprintf(stderr, "bench_federation: kept %s\n", dir);
    dir[0] = '\0';
}

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "bench_federation: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    if (dir[0] != '\0')
        fprintf(stderr, "bench_federation: logs were in %s/up (CATENA_KEEP_TMP=1 keeps them)\n",
                dir);
    cleanup();
    exit(1);
}

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void check_interrupted(void)
{
    if (interrupted)
        die("interrupted");
}

/* ---------------------------------------------------------------- federation */

static const char *catena_bin(void)
{
    const char *bin = bench_catena_bin();

    if (bin == NULL)
        die("cannot find myself: %s", strerror(errno));
    return bin;
}

/* `catena up` on free ports; waits for its federation.json. */
static void start_federation(void)
{
    char updir[96], log[96], fedpath[128], *text = NULL;
    const char *chain = getenv("CATENA_BENCH_CHAIN");
    char *argv[] = {(char *)catena_bin(),
                    "up",
                    "--dir",
                    updir,
                    "--rpc-port",
                    "0",
                    "--api-port",
                    "0",
                    "--chain",
                    (char *)(chain != NULL && chain[0] != '\0' ? chain : "anvil"),
                    NULL};

    snprintf(dir, sizeof(dir), "/tmp/catena-fedbench-XXXXXX");
    if (mkdtemp(dir) == NULL)
        die("mkdtemp: %s", strerror(errno));
    snprintf(updir, sizeof(updir), "%s/up", dir);
    snprintf(log, sizeof(log), "%s/up.log", dir);
    snprintf(fedpath, sizeof(fedpath), "%s/federation.json", updir);
    if (ct_proc_spawn(&up, argv, NULL, log) < 0)
        die("starting catena up: %s", ct_error_last());
    for (int i = 0; i < 1800 && ct_file_read(&text, NULL, fedpath, 1 << 20) < 0; i++) {
        check_interrupted();
        if (!ct_proc_alive(&up))
            die("catena up exited during start-up; see %s", log);
        ct_sleep_ms(100);
    }
    if (text == NULL || ct_json_parse(&fed, text, strlen(text), 16) < 0)
        die("no federation.json from catena up");
    free(text);
    api_url = json_string_value(json_object_get(fed, "api_url"));
    rpc_url = json_string_value(json_object_get(fed, "rpc_url"));
    dc1_token = json_string_value(
        json_object_get(json_array_get(json_object_get(fed, "datacenters"), 0), "token"));
    if (api_url == NULL || rpc_url == NULL || dc1_token == NULL ||
        ct_address_parse(&contract, json_string_value(json_object_get(fed, "contract"))) < 0 ||
        ct_address_parse(&dc1_wallet, json_string_value(json_object_get(
                                          json_array_get(json_object_get(fed, "datacenters"), 0),
                                          "wallet"))) < 0)
        die("federation.json lacks api_url, rpc_url, contract or DC1's token or wallet");
}

/* ---------------------------------------------------------------- where the time goes */

/* The services `catena up` started (its children), with their CPU time. */
#define MAX_SERVICES 8

typedef struct cpu_snap {
    int n;
    pid_t pid[MAX_SERVICES + 1];
    char label[MAX_SERVICES + 1][24];
    double s[MAX_SERVICES + 1];
} cpu_snap;

static cpu_snap services;

/* Reads /proc/PID/stat into buf. Returns: the fields after the command
 * name (which may hold spaces and parentheses), from the state on, or
 * NULL if the process is gone. */
static const char *proc_stat(pid_t pid, char *buf, size_t size)
{
    char path[64];
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return NULL;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' ? p + 2 : NULL;
}

/* Returns: utime + stime of pid in seconds, 0 if it is gone. */
static double proc_cpu_s(pid_t pid)
{
    char buf[1024];
    unsigned long long ut = 0, st = 0;
    const char *p = proc_stat(pid, buf, sizeof(buf));

    if (p == NULL ||
        sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static pid_t proc_ppid(pid_t pid)
{
    char buf[1024];
    int ppid = 0;
    const char *p = proc_stat(pid, buf, sizeof(buf));

    if (p == NULL || sscanf(p, "%*c %d", &ppid) != 1)
        return 0;
    return (pid_t)ppid;
}

/* Names a child of `catena up` by its command line: hardhat, gateway,
 * agent_DC1, ... */
static void service_label(char *out, size_t size, pid_t pid)
{
    char path[64], cmd[4096];
    const char *args[8] = {0};
    size_t n, k = 0;
    FILE *f;

    snprintf(out, size, "pid_%d", (int)pid);
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return;
    n = fread(cmd, 1, sizeof(cmd) - 1, f);
    fclose(f);
    cmd[n] = '\0';
    for (size_t i = 0; i < n && k < 8; i += strlen(cmd + i) + 1)
        args[k++] = cmd + i;
    if (k >= 2 && strstr(args[1], "hardhat") != NULL)
        snprintf(out, size, "hardhat");
    else if (k >= 1 && strstr(args[0], "anvil") != NULL)
        snprintf(out, size, "anvil");
    else if (k >= 2 && strcmp(args[1], "api") == 0)
        snprintf(out, size, "gateway");
    else if (k >= 4 && strcmp(args[1], "agent") == 0)
        snprintf(out, size, "agent_%s", args[3]);
}

/* Finds the children of `catena up`, once it is running. */
static void find_services(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL && services.n < MAX_SERVICES) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end != '\0' || pid <= 0 || proc_ppid((pid_t)pid) != up.pid)
            continue;
        services.pid[services.n] = (pid_t)pid;
        service_label(services.label[services.n], sizeof(services.label[0]), (pid_t)pid);
        services.n++;
    }
    closedir(d);
    services.pid[services.n] = getpid();
    snprintf(services.label[services.n], sizeof(services.label[0]), "bench");
}

static void cpu_take(cpu_snap *out)
{
    *out = services;
    for (int i = 0; i <= out->n; i++)
        out->s[i] = proc_cpu_s(out->pid[i]);
}

/* Prints each service's CPU milliseconds per item between two snapshots. */
static void cpu_report(const char *op, const cpu_snap *a, const cpu_snap *b, long items,
                       double wall_s)
{
    printf("{\"op\":\"%s\",\"items\":%ld,\"wall_ms_per_item\":%.3f", op, items,
           wall_s * 1000.0 / (double)items);
    for (int i = 0; i <= a->n; i++)
        printf(",\"%s_cpu_ms_per_item\":%.3f", a->label[i],
               (b->s[i] - a->s[i]) * 1000.0 / (double)items);
    printf("}\n");
    fflush(stdout);
}

/* ---------------------------------------------------------------- HTTP clients */

/* One keep-alive connection to the gateway. */
typedef struct client {
    CURL *curl;
    struct curl_slist *headers;
    ct_buf resp;
} client;

static size_t on_body(char *data, size_t size, size_t n, void *payload)
{
    return ct_buf_append(payload, data, size * n) == 0 ? size * n : 0;
}

static void client_init(client *c)
{
    char auth[600];

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", dc1_token);
    c->curl = curl_easy_init();
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    c->headers = curl_slist_append(c->headers, auth);
    if (c->curl == NULL || c->headers == NULL)
        die("out of memory");
    ct_buf_init(&c->resp, 1 << 20);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, HTTP_TIMEOUT_MS);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->resp);
}

static void client_free(client *c)
{
    curl_slist_free_all(c->headers);
    curl_easy_cleanup(c->curl);
    ct_buf_free(&c->resp);
}

/* POSTs body to the gateway path; the answer must be 200 with a tx_hash.
 * Out: hash, the transaction's hash. Returns: 0, or -1 with msg set. */
static int post_register(client *c, uint8_t hash[32], const char *path, const char *body, char *msg,
                         size_t msg_size)
{
    char url[256];
    long status = 0;
    json_t *j = NULL;
    size_t n;
    int rc = -1;

    snprintf(url, sizeof(url), "%s%s", api_url, path);
    ct_buf_reset(&c->resp);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    CURLcode cc = curl_easy_perform(c->curl);
    if (cc != CURLE_OK) {
        snprintf(msg, msg_size, "POST %s: %s", path, curl_easy_strerror(cc));
        return -1;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    const char *tx = NULL;
    if (ct_json_parse(&j, c->resp.data, c->resp.len, 16) == 0)
        tx = json_string_value(json_object_get(j, "tx_hash"));
    if (status == 200 && tx != NULL && ct_hex_decode(hash, 32, &n, tx, strlen(tx)) == 0 && n == 32)
        rc = 0;
    else
        snprintf(msg, msg_size, "POST %s: HTTP %ld: %.300s", path, status,
                 c->resp.data ? c->resp.data : "");
    json_decref(j);
    return rc;
}

/* GETs path from the gateway. Out: *out the JSON answer or NULL.
 * Returns: the HTTP status, 0 when the request failed. */
static long get_json(client *c, json_t **out, const char *path)
{
    char url[256];
    long status = 0;

    *out = NULL;
    snprintf(url, sizeof(url), "%s%s", api_url, path);
    ct_buf_reset(&c->resp);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    if (curl_easy_perform(c->curl) != CURLE_OK)
        return 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (c->resp.len > 0 && ct_json_parse(out, c->resp.data, c->resp.len, 16) < 0)
        *out = NULL;
    return status;
}

/* Waits until the gateway's follower has stored every block the node has
 * now, so that one phase's events are not ingested during the next.
 * Returns: the seconds waited. */
static double wait_follower(void)
{
    ct_rpc *rpc;
    uint64_t head, processed = 0;
    client c;
    double t0 = bench_now_s();

    if (ct_rpc_new(&rpc, rpc_url, 30000) < 0 || ct_rpc_block_number(rpc, &head) < 0)
        die("eth_blockNumber: %s", ct_error_last());
    ct_rpc_free(rpc);
    client_init(&c);
    while (bench_now_s() - t0 < 600) {
        json_t *h;
        get_json(&c, &h, "/health");
        processed = (uint64_t)json_integer_value(json_object_get(h, "processed_block"));
        json_decref(h);
        if (processed >= head)
            break;
        check_interrupted();
        ct_sleep_ms(20);
    }
    client_free(&c);
    if (processed < head)
        die("the gateway's follower is at block %llu of %llu after 600 s",
            (unsigned long long)processed, (unsigned long long)head);
    return bench_now_s() - t0;
}

static void report_catch_up(const char *after)
{
    printf("{\"op\":\"follower_catch_up\",\"after\":\"%s\",\"s\":%.2f}\n", after, wait_follower());
    fflush(stdout);
}

/* ---------------------------------------------------------------- request bodies */

/* The fields of VC i, shared by every phase so each registers the same
 * shape of VC; prefix keeps ids unique across phases. */
static void vc_fields(ct_buf *b, const char *prefix, long i)
{
    char created[CT_TIME_ISO8601_SIZE];

    ct_time_format(created, (CREATED_BASE + i) * 1000);
    ct_buf_appendf(b,
                   "{\"vc_type\":\"docker:container\",\"available\":true,\"vcpu\":2,"
                   "\"vram\":2048,\"vdisk\":20,\"id\":\"%s-%07ld\","
                   "\"ip_address\":\"http://10.%ld.%ld.%ld\",\"controller\":\"http://10.0.0.1\","
                   "\"created\":\"%s\"}",
                   prefix, i, (i >> 16) & 255, (i >> 8) & 255, i & 255, created);
}

/* The same VC as registerContainer's argument array. */
static json_t *vc_args(const char *prefix, long i)
{
    char id[32], ip[32];

    snprintf(id, sizeof(id), "%s-%07ld", prefix, i);
    snprintf(ip, sizeof(ip), "http://10.%ld.%ld.%ld", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    return json_pack("[s, b, i, i, i, s, s, s, I]", "docker:container", 1, 2, 2048, 20, id, ip,
                     "http://10.0.0.1", (json_int_t)(CREATED_BASE + i));
}

/* ---------------------------------------------------------------- gateway phases */

/* A run of `jobs` POSTs by `clients` threads; job k registers VCs
 * k * per_job .. (k + 1) * per_job - 1 (per_job 1: the single endpoint). */
typedef struct gw_run {
    const char *prefix;
    long jobs, per_job;
    atomic_long next;
    uint8_t (*hashes)[32];
    double *latency_ms;
    atomic_int failed;
    char error[512];
    pthread_mutex_t mu;
} gw_run;

static void *gw_worker(void *arg)
{
    gw_run *r = arg;
    client c;
    ct_buf body;
    char msg[512];
    const char *path = r->per_job == 1 ? "/datacenter/DC1/container/register/"
                                       : "/datacenter/DC1/container/register/batch/";

    client_init(&c);
    ct_buf_init(&body, 1 << 20);
    for (;;) {
        long k = atomic_fetch_add(&r->next, 1);
        if (k >= r->jobs || atomic_load(&r->failed) || interrupted)
            break;
        ct_buf_reset(&body);
        if (r->per_job == 1) {
            vc_fields(&body, r->prefix, k);
        } else {
            ct_buf_append(&body, "{\"containers\":[", 15);
            for (long i = k * r->per_job; i < (k + 1) * r->per_job; i++) {
                if (i > k * r->per_job)
                    ct_buf_append(&body, ",", 1);
                vc_fields(&body, r->prefix, i);
            }
            ct_buf_append(&body, "]}", 2);
        }
        double t0 = bench_now_s();
        if (post_register(&c, r->hashes[k], path, body.data, msg, sizeof(msg)) < 0) {
            pthread_mutex_lock(&r->mu);
            if (!atomic_exchange(&r->failed, 1))
                snprintf(r->error, sizeof(r->error), "%s", msg);
            pthread_mutex_unlock(&r->mu);
            break;
        }
        r->latency_ms[k] = (bench_now_s() - t0) * 1000.0;
    }
    ct_buf_free(&body);
    client_free(&c);
    return NULL;
}

/* Runs r with clients threads. Returns: the wall time in seconds. */
static double gw_run_all(gw_run *r, int clients)
{
    pthread_t threads[64];
    double t0;

    r->hashes = calloc((size_t)r->jobs, 32);
    r->latency_ms = calloc((size_t)r->jobs, sizeof(double));
    if (r->hashes == NULL || r->latency_ms == NULL)
        die("out of memory");
    pthread_mutex_init(&r->mu, NULL);
    t0 = bench_now_s();
    for (int i = 0; i < clients; i++)
        if (pthread_create(&threads[i], NULL, gw_worker, r) != 0)
            die("pthread_create");
    for (int i = 0; i < clients; i++)
        pthread_join(threads[i], NULL);
    double secs = bench_now_s() - t0;
    check_interrupted();
    if (r->failed)
        die("%s", r->error);
    return secs;
}

/* Every transaction must have been mined with status 1 (Hardhat mines on
 * arrival, so the receipts are there when the sends returned). */
/* Waits until every transaction `from` sent is mined: its "latest" nonce
 * reaches its "pending" one. anvil answers eth_sendRawTransaction once a
 * transaction is in its pool and mines one a block, so a phase's clock
 * stops here, not when the sends return (on Hardhat a send is mined). */
static void wait_mined(const ct_address *from)
{
    uint64_t latest = 0, pending = 1;
    ct_rpc *rpc;

    if (ct_rpc_new(&rpc, rpc_url, 30000) < 0)
        die("rpc: %s", ct_error_last());
    for (int64_t end = ct_time_mono_ms() + 600000; latest != pending; ct_sleep_ms(5)) {
        check_interrupted();
        if (ct_rpc_get_tx_count(rpc, &latest, from, "latest") < 0 ||
            ct_rpc_get_tx_count(rpc, &pending, from, "pending") < 0)
            die("nonce: %s", ct_error_last());
        if (ct_time_mono_ms() > end)
            die("transactions still pending after 10 minutes");
    }
    ct_rpc_free(rpc);
}

static void check_receipts(uint8_t (*hashes)[32], long n, const char *what)
{
    ct_rpc *rpc;
    uint64_t status;

    if (ct_rpc_new(&rpc, rpc_url, 30000) < 0)
        die("rpc: %s", ct_error_last());
    for (long i = 0; i < n; i++) {
        json_t *receipt = NULL;
        if (ct_rpc_wait_receipt(rpc, &receipt, hashes[i], 30000, 50) < 0 ||
            ct_quantity_parse_u64(&status, json_object_get(receipt, "status")) < 0 || status != 1)
            die("%s: transaction %ld was not mined with status 1: %s", what, i, ct_error_last());
        json_decref(receipt);
    }
    ct_rpc_free(rpc);
}

/* ---------------------------------------------------------------- raw reference */

static ct_sender *sender_for(const uint8_t key[32])
{
    ct_sender *s;

    if (ct_sender_new(&s, rpc_url, key, NULL) < 0)
        die("sender: %s", ct_error_last());
    return s;
}

/* A fresh DC key, funded by dev account 0 and registered as a DC. */
static void raw_prepare_dc(uint8_t key[32], const ct_ledger *l)
{
    uint8_t dev[32];
    size_t len;
    ct_address wallet;
    ct_send_result res;
    ct_buf data;
    json_t *args = json_pack("[s]", "RAWBENCH");

    ct_hex_decode(dev, 32, &len, DEV_KEY0, strlen(DEV_KEY0));
    if (ct_seckey_generate(key) < 0 || ct_address_from_seckey(&wallet, key) < 0)
        die("key: %s", ct_error_last());
    ct_sender *admin = sender_for(dev), *dc = sender_for(key);
    ct_send_req fund = {.to = &wallet};
    ct_u256_parse(&fund.value, "100000000000000000000"); /* 100 ETH */
    if (ct_sender_send(admin, &res, &fund, true) < 0)
        die("funding the raw DC: %s", ct_error_last());
    ct_send_result_clear(&res);
    ct_buf_init(&data, 1 << 16);
    if (ct_ledger_encode_call(l, &data, "registerDatacenter", args) < 0)
        die("encode: %s", ct_error_last());
    ct_send_req reg = {.to = &contract, .data = (uint8_t *)data.data, .data_len = data.len};
    if (ct_sender_send(dc, &res, &reg, true) < 0)
        die("registering the raw DC: %s", ct_error_last());
    ct_send_result_clear(&res);
    ct_buf_free(&data);
    json_decref(args);
    ct_sender_free(dc);
    ct_sender_free(admin);
    ct_wipe(dev, sizeof(dev));
}

typedef struct raw_tx {
    uint8_t *raw;
    size_t len;
    uint8_t hash[32];
} raw_tx;

/* The arguments of transaction k: registerContainer(VC k) when per_tx is
 * 1, else registerContainers(VCs k * per_tx .. (k + 1) * per_tx - 1). */
static json_t *raw_args(const char *prefix, long k, long per_tx)
{
    json_t *list;

    if (per_tx == 1)
        return vc_args(prefix, k);
    list = json_array();
    for (long i = k * per_tx; i < (k + 1) * per_tx; i++)
        json_array_append_new(list, vc_args(prefix, i));
    return json_pack("[o]", list);
}

/* Signs n calls (see raw_args) with consecutive nonces, fees as the
 * sender picks them (2 * base fee + tip) and one gas limit: the estimate
 * of the first call plus a quarter, as the agent's sender adds.
 * Out: *gas_out that limit, *estimate_ms how long the node took to
 * estimate it. */
static void raw_sign_all(raw_tx *txs, long n, const char *prefix, long per_tx,
                         const uint8_t key[32], const ct_ledger *l, uint64_t *gas_out,
                         double *estimate_ms)
{
    const char *function = per_tx == 1 ? "registerContainer" : "registerContainers";
    ct_address from;
    ct_rpc *rpc;
    ct_tx tx;
    uint64_t nonce, gas = 0;
    ct_u256 base;
    json_t *block = NULL;

    ct_address_from_seckey(&from, key);
    memset(&tx, 0, sizeof(tx));
    if (ct_rpc_new(&rpc, rpc_url, 30000) < 0 ||
        ct_rpc_get_tx_count(rpc, &nonce, &from, "pending") < 0 ||
        ct_rpc_max_priority_fee(rpc, &tx.max_priority_fee) < 0 ||
        ct_rpc_get_block_by_number(rpc, &block, "latest", false) < 0 ||
        ct_quantity_parse_u256(&base, json_object_get(block, "baseFeePerGas")) < 0)
        die("raw: fees and nonce: %s", ct_error_last());
    json_decref(block);
    ct_u256_mul_u64(&tx.max_fee, &base, 2);
    ct_u256_add(&tx.max_fee, &tx.max_fee, &tx.max_priority_fee);
    tx.type = 2;
    tx.has_chain_id = true;
    tx.chain_id = 31337;
    tx.has_to = true;
    tx.to = contract;
    for (long i = 0; i < n; i++) {
        ct_buf data;
        json_t *args = raw_args(prefix, i, per_tx);
        ct_buf_init(&data, 1 << 24);
        if (args == NULL || ct_ledger_encode_call(l, &data, function, args) < 0)
            die("raw: encode: %s", ct_error_last());
        json_decref(args);
        if (i == 0) {
            char fromtext[CT_ADDRESS_TEXT_SIZE], to[CT_ADDRESS_TEXT_SIZE];
            ct_address_format(fromtext, &from);
            ct_address_format(to, &contract);
            json_t *call = json_pack("{s:s, s:s, s:o}", "from", fromtext, "to", to, "data",
                                     ct_json_hex((uint8_t *)data.data, data.len));
            double t0 = bench_now_s();
            if (ct_rpc_estimate_gas(rpc, &gas, call) < 0)
                die("raw: estimate: %s", ct_error_last());
            *estimate_ms = (bench_now_s() - t0) * 1000.0;
            json_decref(call);
            gas += gas / 4;
        }
        tx.nonce = nonce + (uint64_t)i;
        tx.gas_limit = gas;
        tx.data = (uint8_t *)data.data;
        tx.data_len = data.len;
        if (ct_tx_sign(&tx, key) < 0 || ct_tx_encode(&txs[i].raw, &txs[i].len, &tx) < 0)
            die("raw: sign: %s", ct_error_last());
        ct_keccak256(txs[i].hash, txs[i].raw, txs[i].len);
        ct_buf_free(&data);
    }
    ct_rpc_free(rpc);
    *gas_out = gas;
}

/* Sends the signed transactions in nonce order on one keep-alive
 * connection. Returns: the wall time in seconds. */
static double raw_send_all(raw_tx *txs, long n, double *latency_ms)
{
    ct_rpc *rpc;
    uint8_t hash[32];
    double t0;

    if (ct_rpc_new(&rpc, rpc_url, 60000) < 0)
        die("rpc: %s", ct_error_last());
    t0 = bench_now_s();
    for (long i = 0; i < n; i++) {
        double t = bench_now_s();
        check_interrupted();
        if (ct_rpc_send_raw(rpc, hash, txs[i].raw, txs[i].len) < 0)
            die("raw: eth_sendRawTransaction %ld: %s", i, ct_error_last());
        latency_ms[i] = (bench_now_s() - t) * 1000.0;
    }
    double secs = bench_now_s() - t0;
    ct_rpc_free(rpc);
    return secs;
}

/* What the agent asks the node for besides eth_sendRawTransaction, per
 * call, on a registerContainer that was never sent (the follower may add
 * a little load meanwhile). */
static void node_call_costs(const uint8_t key[32], const ct_ledger *l, long k, long batch)
{
    char from[CT_ADDRESS_TEXT_SIZE], to[CT_ADDRESS_TEXT_SIZE];
    ct_address wallet;
    ct_rpc *rpc;
    ct_buf data;
    json_t *args = vc_args("e", 0), *call;
    uint64_t gas, block;
    ct_u256 price;
    double t_est, t_price, t_block;

    ct_address_from_seckey(&wallet, key);
    ct_address_format(from, &wallet);
    ct_address_format(to, &contract);
    ct_buf_init(&data, 1 << 22);
    if (ct_rpc_new(&rpc, rpc_url, 30000) < 0 ||
        ct_ledger_encode_call(l, &data, "registerContainer", args) < 0)
        die("node costs: %s", ct_error_last());
    call = json_pack("{s:s, s:s, s:o}", "from", from, "to", to, "data",
                     ct_json_hex((uint8_t *)data.data, data.len));
    t_est = bench_now_s();
    for (long i = 0; i < k; i++)
        if (ct_rpc_estimate_gas(rpc, &gas, call) < 0)
            die("eth_estimateGas: %s", ct_error_last());
    t_est = bench_now_s() - t_est;
    t_price = bench_now_s();
    for (long i = 0; i < k; i++)
        if (ct_rpc_gas_price(rpc, &price) < 0)
            die("eth_gasPrice: %s", ct_error_last());
    t_price = bench_now_s() - t_price;
    t_block = bench_now_s();
    for (long i = 0; i < k; i++)
        if (ct_rpc_block_number(rpc, &block) < 0)
            die("eth_blockNumber: %s", ct_error_last());
    t_block = bench_now_s() - t_block;
    /* The estimate the agent asks for before each batch. */
    json_t *bargs = raw_args("e", 1, batch);
    ct_buf_reset(&data);
    if (ct_ledger_encode_call(l, &data, "registerContainers", bargs) < 0)
        die("node costs: %s", ct_error_last());
    json_decref(bargs);
    json_object_set_new(call, "data", ct_json_hex((uint8_t *)data.data, data.len));
    long kb = k / 10 > 0 ? k / 10 : 1;
    double t_best = bench_now_s();
    for (long i = 0; i < kb; i++)
        if (ct_rpc_estimate_gas(rpc, &gas, call) < 0)
            die("eth_estimateGas (batch): %s", ct_error_last());
    t_best = bench_now_s() - t_best;
    printf("{\"op\":\"node_call_ms\",\"calls\":%ld,\"eth_estimateGas\":%.2f,\"eth_gasPrice\":%.2f,"
           "\"eth_blockNumber\":%.2f,\"batch\":%ld,\"eth_estimateGas_batch\":%.1f}\n",
           k, t_est * 1000 / (double)k, t_price * 1000 / (double)k, t_block * 1000 / (double)k,
           batch, t_best * 1000 / (double)kb);
    fflush(stdout);
    json_decref(call);
    json_decref(args);
    ct_buf_free(&data);
    ct_rpc_free(rpc);
}

/* ---------------------------------------------------------------- phases */

/* One gateway phase: `jobs` POSTs of per_job VCs each by `clients`
 * threads. Prints its line, the services' CPU and the follower's catch-up.
 * Returns: VCs per second. */
static double phase_gateway(const char *op, int round, const char *prefix, long jobs, long per_job,
                            int clients)
{
    gw_run r = {.prefix = prefix, .jobs = jobs, .per_job = per_job};
    long items = jobs * per_job;
    cpu_snap c0, c1;

    wait_follower();
    cpu_take(&c0);
    double t0 = bench_now_s();
    gw_run_all(&r, clients);
    wait_mined(&dc1_wallet);
    double secs = bench_now_s() - t0;
    cpu_take(&c1);
    check_receipts(r.hashes, jobs, op);
    double rate = (double)items / secs;
    printf("{\"op\":\"%s\",\"round\":%d,\"requests\":%ld,\"per_request\":%ld,\"clients\":%d,"
           "\"s\":%.2f,\"vcs_per_s\":%.1f,\"p50_ms\":%.1f,\"p99_ms\":%.1f}\n",
           op, round, jobs, per_job, clients, secs, rate,
           bench_quantile(r.latency_ms, (size_t)jobs, 0.5),
           bench_quantile(r.latency_ms, (size_t)jobs, 0.99));
    cpu_report(op, &c0, &c1, items, secs);
    report_catch_up(op);
    free(r.hashes);
    free(r.latency_ms);
    return rate;
}

/* One raw phase: `jobs` pre-signed transactions of per_tx VCs each from
 * the reference DC's key, sent in nonce order on one connection.
 * Returns: VCs per second. */
static double phase_raw(const char *op, int round, const char *prefix, long jobs, long per_tx,
                        const uint8_t key[32], const ct_ledger *l)
{
    raw_tx *txs = calloc((size_t)jobs, sizeof(*txs));
    double *lat = calloc((size_t)jobs, sizeof(double));
    uint8_t(*hashes)[32] = calloc((size_t)jobs, 32);
    long items = jobs * per_tx;
    uint64_t gas;
    double est_ms = 0;
    cpu_snap c0, c1;

    if (txs == NULL || lat == NULL || hashes == NULL)
        die("out of memory");
    raw_sign_all(txs, jobs, prefix, per_tx, key, l, &gas, &est_ms);
    wait_follower();
    cpu_take(&c0);
    ct_address wallet;
    ct_address_from_seckey(&wallet, key);
    double t0 = bench_now_s();
    raw_send_all(txs, jobs, lat);
    wait_mined(&wallet);
    double secs = bench_now_s() - t0;
    cpu_take(&c1);
    for (long i = 0; i < jobs; i++)
        memcpy(hashes[i], txs[i].hash, 32);
    check_receipts(hashes, jobs, op);
    double rate = (double)items / secs;
    printf("{\"op\":\"%s\",\"round\":%d,\"transactions\":%ld,\"per_tx\":%ld,"
           "\"gas_limit\":%llu,\"estimate_ms\":%.1f,\"s\":%.2f,\"vcs_per_s\":%.1f,"
           "\"p50_ms\":%.1f,\"p99_ms\":%.1f}\n",
           op, round, jobs, per_tx, (unsigned long long)gas, est_ms, secs, rate,
           bench_quantile(lat, (size_t)jobs, 0.5), bench_quantile(lat, (size_t)jobs, 0.99));
    cpu_report(op, &c0, &c1, items, secs);
    report_catch_up(op);
    for (long i = 0; i < jobs; i++)
        free(txs[i].raw);
    free(txs);
    free(lat);
    free(hashes);
    return rate;
}

static double max_of(double a, double b)
{
    return a > b ? a : b;
}

/* ---------------------------------------------------------------- main */

static long arg_long(int argc, char **argv, int i, long def)
{
    uint64_t v;

    if (argc <= i)
        return def;
    if (ct_parse_uint(&v, argv[i], 1000000) < 0 || v == 0) {
        fprintf(stderr, "usage: bench_federation [n [batch [requests [clients [rounds]]]]]\n");
        exit(2);
    }
    return (long)v;
}

int main(int argc, char **argv)
{
    long n = arg_long(argc, argv, 1, 1000);
    long batch = arg_long(argc, argv, 2, 200);
    long requests = arg_long(argc, argv, 3, 30);
    int clients = (int)arg_long(argc, argv, 4, 4);
    int rounds = (int)arg_long(argc, argv, 5, 3);
    struct sigaction sa = {.sa_handler = on_signal};
    ct_ledger *ledger;
    uint8_t key[32];

    if (clients > 64) {
        fprintf(stderr, "bench_federation: at most 64 clients\n");
        return 2;
    }
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (ct_ledger_open(&ledger) < 0)
        die("ledger: %s", ct_error_last());
    double t_up = bench_now_s();
    start_federation();
    find_services();
    printf("{\"op\":\"catena_up\",\"s\":%.1f,\"services\":%d}\n", bench_now_s() - t_up, services.n);
    fflush(stdout);
    wait_follower();
    raw_prepare_dc(key, ledger);

    /* Hardhat warms up (its JIT, its heap) over the first thousands of
     * transactions, so whatever runs first looks slow: the phases
     * alternate for `rounds` rounds and the best of each counts. Each
     * round registers new VCs (the prefix carries the round). */
    double gw = 0, raw = 0, gwb = 0, rawb = 0;
    for (int round = 0; round < rounds; round++) {
        char prefix[16];
        snprintf(prefix, sizeof(prefix), "g%d", round);
        gw = max_of(gw, phase_gateway("gateway_register", round, prefix, n, 1, clients));
        snprintf(prefix, sizeof(prefix), "r%d", round);
        raw = max_of(raw, phase_raw("raw_register", round, prefix, n, 1, key, ledger));
        snprintf(prefix, sizeof(prefix), "b%d", round);
        gwb = max_of(
            gwb, phase_gateway("gateway_register_batch", round, prefix, requests, batch, clients));
        snprintf(prefix, sizeof(prefix), "q%d", round);
        rawb = max_of(rawb,
                      phase_raw("raw_register_batch", round, prefix, requests, batch, key, ledger));
    }
    node_call_costs(key, ledger, 100, batch);
    printf("{\"op\":\"best\",\"gateway_per_s\":%.1f,\"raw_per_s\":%.1f,"
           "\"gateway_batch_vcs_per_s\":%.1f,\"raw_batch_vcs_per_s\":%.1f}\n",
           gw, raw, gwb, rawb);
    printf("{\"op\":\"ratios\",\"gateway_vs_raw\":%.2f,\"batch_vs_single\":%.1f,"
           "\"gateway_batch_vs_raw_batch\":%.2f}\n",
           gw / raw, gwb / gw, gwb / rawb);
    fflush(stdout);

    ct_wipe(key, sizeof(key));
    cleanup();
    json_decref(fed);
    ct_ledger_free(ledger);
    curl_global_cleanup();
    return 0;
}
