/* The gateway's /api/chain/... endpoints and its event monitor (issue 11
 * items 2, 9 and 10): with the chain node stopped, chain calls and
 * monitor reads never hold up the cached reads; monitor logs come from the
 * cache in complete, non-overlapping pages that survive a restart and
 * follow a reorganisation; registrations are capped atomically, their ABI
 * bounded, and writes (and, when configured, reads) need a token. One
 * anvil node, the Federation contract and a Probe contract; the gateway
 * runs as `catena api` without agents. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "catena/crypto.h"
#include "catena/ledger.h"

#define TOKEN "monitor-test-token"
/* The gateway's bound for a chain call, and the slack we allow it. */
#define CHAIN_TIMEOUT_MS 10000

static ct_devnode node;
static ct_ledger *ledger;
static ct_rpc *rpc;
static ct_sender *admin, *dc1;
static ct_address contract, probe;
static uint64_t from_block;
static json_t *probe_abi;
static ct_abi_sig *store_sig;
static char vc_tag[67], some_tx[67];

static ct_proc gw;
static char gw_url[64];
static int gw_runs;
static const char *cache_path;
static bool node_stopped;

/* ---------------------------------------------------------------- chain */

static void send_call(ct_sender *s, const ct_address *to, const uint8_t *data, size_t len,
                      char tx_out[67])
{
    ct_send_result res;
    ct_send_req req = {.to = to, .data = data, .data_len = len};

    ctt_ok(ct_sender_send(s, &res, &req, true));
    assert_true(res.success);
    if (tx_out != NULL)
        ct_hex_encode(tx_out, 67, res.hash, 32, true);
    ct_send_result_clear(&res);
}

static void federation(ct_sender *s, const char *function, const char *args_json, char tx_out[67])
{
    json_t *args;
    ct_buf data;

    ctt_ok(ct_json_parse(&args, args_json, strlen(args_json), 16));
    ct_buf_init(&data, 1 << 16);
    ctt_ok(ct_ledger_encode_call(ledger, &data, function, args));
    send_call(s, &contract, (uint8_t *)data.data, data.len, tx_out);
    ct_buf_free(&data);
    json_decref(args);
}

/* Probe.store(tag, value, note): one Stored event. */
static void probe_store(int value)
{
    json_t *values = json_pack("[s, i, s]", "t", value, "note");
    uint8_t sel[4];
    ct_buf call;

    ct_buf_init(&call, 1 << 16);
    ctt_ok(ct_abi_selector(sel, store_sig));
    ctt_ok(ct_buf_append(&call, sel, 4));
    ctt_ok(ct_abi_encode(&call, store_sig->params, values));
    send_call(admin, &probe, (uint8_t *)call.data, call.len, NULL);
    ct_buf_free(&call);
    json_decref(values);
}

static json_t *node_call(const char *method, json_t *params)
{
    json_t *res;
    ctt_ok(ct_rpc_call(rpc, &res, method, params));
    json_decref(params);
    return res;
}

static uint64_t head(void)
{
    uint64_t n;
    ctt_ok(ct_rpc_block_number(rpc, &n));
    return n;
}

/* ---------------------------------------------------------------- gateway */

/* One request to the gateway (thread safe): ctt_http_timed on gw_url. */
static long call(json_t **out, int64_t *ms, const char *method, const char *path, const char *token,
                 const char *body, int timeout_ms)
{
    char url[512];

    snprintf(url, sizeof(url), "%s%s", gw_url, path);
    return ctt_http_timed(out, ms, method, url, token, body, timeout_ms);
}

static void start_gateway(bool reads_need_token)
{
    char hash[65], *text;
    uint16_t port;
    const char *path = ctt_path("%s/gw-%d.json", ctt_tmpdir(), ++gw_runs);
    char addr[CT_ADDRESS_TEXT_SIZE];

    ct_token_hash(hash, TOKEN);
    ct_address_format(addr, &contract);
    ctt_ok(ct_net_free_port(&port));
    json_t *cfg = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b, s:[], s:[{s:s, s:s}]}", "listen",
                            ctt_path("127.0.0.1:%u", (unsigned)port), "rpc_url", node.url,
                            "contract", addr, "from_block", (json_int_t)from_block, "cache",
                            cache_path, "reads_need_token", reads_need_token, "agents", "tokens",
                            "dc", "DC1", "sha256", hash);
    ctt_ok(ct_json_dump(&text, cfg));
    ctt_ok(ct_file_write_atomic(path, text, strlen(text), 0600));
    free(text);
    json_decref(cfg);
    char *argv[] = {(char *)ctt_catena_bin(), "api", "--config", (char *)path, NULL};
    ctt_spawn(&gw, argv, ctt_path("%s/gw-%d.log", ctt_tmpdir(), gw_runs));
    snprintf(gw_url, sizeof(gw_url), "http://127.0.0.1:%u/api", (unsigned)port);
    for (int i = 0; !ct_net_can_connect(port); i++) {
        if (!ct_proc_alive(&gw) || i == 1500)
            fail_msg("the gateway did not start; see %s/gw-%d.log", ctt_tmpdir(), gw_runs);
        ct_sleep_ms(10);
    }
}

static void stop_gateway(void)
{
    ctt_stop(&gw);
}

/* Registers a monitor of Probe's Stored events. Returns: its id. */
static json_int_t add_probe_monitor(void)
{
    char addr[CT_ADDRESS_TEXT_SIZE], *abi_text;
    json_t *m = NULL;

    ct_address_format(addr, &probe);
    abi_text = json_dumps(probe_abi, JSON_COMPACT);
    long st = call(&m, NULL, "POST", "/chain/monitor", TOKEN,
                   ctt_path("{\"address\":\"%s\",\"label\":\"probe\",\"abi\":%s,\"events\":"
                            "[\"Stored\"]}",
                            addr, abi_text),
                   5000);
    free(abi_text);
    if (st != 201)
        fail_msg("POST /chain/monitor: HTTP %ld", st);
    json_int_t id = json_integer_value(json_object_get(m, "id"));
    json_decref(m);
    return id;
}

/* ---------------------------------------------------------------- fixtures */

static int setup(void **state)
{
    json_t *entry;
    uint8_t *code;
    size_t code_len, i;
    uint8_t tag[32];
    (void)state;

    ctt_node_start(&node);
    if (ct_ledger_open(&ledger) < 0 || ct_rpc_new(&rpc, node.url, 10000) < 0)
        return -1;
    admin = ctt_sender(node.url, CTT_DEV_KEY);
    dc1 = ctt_sender(node.url, ctt_dev_keys[1]);
    ctt_ok(ct_ledger_deploy(ledger, admin, true, &contract, &from_block));
    ctt_contract("Probe", &probe_abi, &code, &code_len);
    ct_send_result res;
    ct_send_req deploy = {.data = code, .data_len = code_len};
    ctt_ok(ct_sender_send(admin, &res, &deploy, true));
    probe = res.contract;
    ct_send_result_clear(&res);
    free(code);
    json_array_foreach (probe_abi, i, entry)
        if (strcmp(json_string_value(json_object_get(entry, "name")), "store") == 0)
            ctt_ok(ct_abi_sig_from_json(&store_sig, entry));
    /* A DC and a VC, so the cache has details to read. */
    federation(dc1, "registerDatacenter", "[\"DC1\"]", NULL);
    federation(dc1, "registerContainer",
               "[\"openstack:vm\", true, 1, 1024, 10, \"vm-1\", \"http://10.0.0.2\", "
               "\"http://10.0.0.1\", 1536677183]",
               some_tx);
    ct_ledger_vc_tag(tag, "openstack:vm", "vm-1", ct_sender_address(dc1), 1536677183);
    ct_hex_encode(vc_tag, sizeof(vc_tag), tag, 32, true);
    cache_path = ctt_path("%s/cache.sqlite", ctt_tmpdir());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ct_abi_sig_free(store_sig);
    json_decref(probe_abi);
    ct_sender_free(admin);
    ct_sender_free(dc1);
    ct_rpc_free(rpc);
    ct_ledger_free(ledger);
    ctt_node_stop(&node);
    return 0;
}

static int gateway_up(void **state)
{
    (void)state;
    start_gateway(false);
    return 0;
}

/* Stops what the test started, even when it failed. */
static int gateway_down(void **state)
{
    (void)state;
    if (node_stopped) {
        ct_proc_signal(&node.proc, SIGCONT);
        node_stopped = false;
    }
    stop_gateway();
    return 0;
}

/* ---------------------------------------------------------------- limits and auth */

static struct {
    atomic_int created, full, other;
    const char *body;
} reg;

static void *register_main(void *arg)
{
    json_t *j = NULL;
    (void)arg;

    for (int i = 0; i < 10; i++) {
        long st = call(&j, NULL, "POST", "/chain/monitor", TOKEN, reg.body, 20000);
        if (st == 201)
            atomic_fetch_add(&reg.created, 1);
        else if (st == 400 && strstr(json_string_value(json_object_get(j, "error")),
                                     "at most 64 monitors") != NULL)
            atomic_fetch_add(&reg.full, 1);
        else
            atomic_fetch_add(&reg.other, 1);
        json_decref(j);
    }
    return NULL;
}

static void delete_all(void)
{
    json_t *list = NULL, *m;
    size_t i;

    assert_int_equal(call(&list, NULL, "GET", "/chain/monitor", TOKEN, NULL, 5000), 200);
    json_array_foreach (list, i, m)
        assert_int_equal(call(NULL, NULL, "DELETE",
                              ctt_path("/chain/monitor/%lld",
                                       (long long)json_integer_value(json_object_get(m, "id"))),
                              TOKEN, NULL, 5000),
                         200);
    json_decref(list);
}

/* 150 concurrent registrations store exactly 64; an oversized ABI is
 * refused; registering and deleting need a token (401 before 400). */
static void monitor_limits(void **state)
{
    char addr[CT_ADDRESS_TEXT_SIZE];
    pthread_t t[15];
    json_t *j = NULL, *list = NULL;
    (void)state;

    ct_address_format(addr, &probe);
    reg.body = ctt_path("{\"address\":\"%s\",\"abi\":\"[{\\\"type\\\":\\\"event\\\",\\\"name\\\":"
                        "\\\"E\\\",\\\"inputs\\\":[]}]\"}",
                        addr);
    assert_int_equal(call(NULL, NULL, "POST", "/chain/monitor", NULL, reg.body, 5000), 401);
    assert_int_equal(call(NULL, NULL, "POST", "/chain/monitor", "wrong", "{", 5000), 401);
    assert_int_equal(call(NULL, NULL, "DELETE", "/chain/monitor/1", NULL, NULL, 5000), 401);

    /* An ABI past 64 KiB: refused, saying why. */
    size_t big = 100 * 1024; /* escaped: about 82 KiB of ABI text */
    char *abi = malloc(big + 512);
    int n = snprintf(abi, 256, "{\"address\":\"%s\",\"abi\":\"[", addr);
    while ((size_t)n < big)
        n += snprintf(abi + n, 64, "{\\\"type\\\":\\\"function\\\",\\\"name\\\":\\\"f\\\"},");
    snprintf(abi + n, 64, "{}]\"}");
    long st = call(&j, NULL, "POST", "/chain/monitor", TOKEN, abi, 5000);
    free(abi);
    if (st != 413 || strstr(json_string_value(json_object_get(j, "error")), "abi") == NULL)
        fail_msg("an oversized ABI: HTTP %ld: %s", st,
                 json_string_value(json_object_get(j, "error")));
    json_decref(j);

    for (int i = 0; i < 15; i++)
        assert_int_equal(pthread_create(&t[i], NULL, register_main, NULL), 0);
    for (int i = 0; i < 15; i++)
        pthread_join(t[i], NULL);
    printf("# 150 registrations: %d created, %d refused as full, %d other\n",
           atomic_load(&reg.created), atomic_load(&reg.full), atomic_load(&reg.other));
    assert_int_equal(atomic_load(&reg.other), 0);
    assert_int_equal(atomic_load(&reg.created), 64);
    assert_int_equal(call(&list, NULL, "GET", "/chain/monitor", NULL, NULL, 5000), 200);
    assert_int_equal(json_array_size(list), 64);
    json_decref(list);
    delete_all();
}

/* reads_need_token: every /api/chain/... read answers 401 without one. */
static void chain_reads_need_token(void **state)
{
    (void)state;
    stop_gateway();
    start_gateway(true);
    json_int_t id = add_probe_monitor();
    const char *paths[] = {"/chain/overview",
                           "/chain/blocks",
                           "/chain/block/1",
                           ctt_path("/chain/tx/%s", some_tx),
                           ctt_path("/chain/search?q=%s", some_tx),
                           "/chain/abi",
                           "/chain/monitor",
                           ctt_path("/chain/monitor/%lld/events", (long long)id)};

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        long st = call(NULL, NULL, "GET", paths[i], NULL, NULL, 15000);
        if (st != 401)
            fail_msg("GET %s without a token: HTTP %ld, wanted 401", paths[i], st);
        st = call(NULL, NULL, "GET", paths[i], "wrong", NULL, 15000);
        if (st != 401)
            fail_msg("GET %s with a wrong token: HTTP %ld, wanted 401", paths[i], st);
        st = call(NULL, NULL, "GET", paths[i], TOKEN, NULL, 15000);
        if (st != 200)
            fail_msg("GET %s with the token: HTTP %ld, wanted 200", paths[i], st);
    }
    delete_all();
}

/* ---------------------------------------------------------------- paging */

/* Waits until monitor id has read the chain up to the node's head. */
static void wait_synced(json_int_t id, int timeout_ms)
{
    int64_t until = ct_time_mono_ms() + timeout_ms;
    json_t *j = NULL;

    for (;;) {
        uint64_t h = head();
        long st = call(&j, NULL, "GET", ctt_path("/chain/monitor/%lld/events?limit=1", (long long)id),
                  NULL, NULL, 2000);
        json_t *synced = json_object_get(json_object_get(j, "monitor"), "synced_block");
        bool done = st == 200 && json_is_integer(synced) &&
                    (uint64_t)json_integer_value(synced) >= h;
        json_decref(j);
        if (done)
            return;
        if (ct_time_mono_ms() > until)
            fail_msg("monitor %lld did not read up to block %llu in %d ms", (long long)id,
                     (unsigned long long)h, timeout_ms);
        ct_sleep_ms(50);
    }
}

/* Reads every page of monitor id (limit per page, in order), checking
 * that the pages are in strict order and do not overlap. Returns: the
 * logs' values (args.value), in page order, as a new array. */
static json_t *all_pages(json_int_t id, const char *order, int limit)
{
    json_t *values = json_array(), *page = NULL, *l;
    char after[64] = "";
    int64_t last_b = -1, last_i = -1;
    size_t i;

    for (int pages = 0;; pages++) {
        const char *path = ctt_path("/chain/monitor/%lld/events?order=%s&limit=%d%s%s",
                                    (long long)id, order, limit, after[0] ? "&after=" : "", after);
        assert_true(pages < 1000);
        if (call(&page, NULL, "GET", path, NULL, NULL, 5000) != 200)
            fail_msg("GET %s failed", path);
        json_t *logs = json_object_get(page, "logs");
        assert_true(json_array_size(logs) <= (size_t)limit);
        json_array_foreach (logs, i, l) {
            int64_t b = json_integer_value(json_object_get(l, "block_number"));
            int64_t k = json_integer_value(json_object_get(l, "log_index"));
            if (last_b >= 0) {
                bool asc = strcmp(order, "asc") == 0;
                bool ordered = asc ? (b > last_b || (b == last_b && k > last_i))
                                   : (b < last_b || (b == last_b && k < last_i));
                if (!ordered)
                    fail_msg("%s page %d: log %lld-%lld out of order or repeated", order, pages,
                             (long long)b, (long long)k);
            }
            last_b = b, last_i = k;
            assert_string_equal(json_string_value(json_object_get(l, "event")), "Stored");
            json_array_append(values, json_object_get(json_object_get(l, "args"), "value"));
        }
        json_t *next = json_object_get(page, "next");
        if (json_is_null(next)) {
            json_decref(page);
            return values;
        }
        assert_int_equal(json_array_size(logs), limit); /* only a full page has a next */
        snprintf(after, sizeof(after), "%s", json_string_value(next));
        json_decref(page);
    }
}

/* Fails unless values is exactly want[0..n) (ascending) or its reverse. */
static void expect_values(const json_t *values, const int *want, size_t n, bool asc,
                          const char *when)
{
    if (json_array_size(values) != n)
        fail_msg("%s: %zu logs, wanted %zu", when, json_array_size(values), n);
    for (size_t i = 0; i < n; i++) {
        /* uint256 values come as decimal strings */
        const char *v = json_string_value(json_array_get(values, asc ? i : n - 1 - i));
        if (v == NULL || strcmp(v, ctt_path("%d", want[i])) != 0)
            fail_msg("%s: log %zu has value %s, wanted %d", when, i, v ? v : "?", want[i]);
    }
}

static void check_pages(json_int_t id, const int *want, size_t n, const char *when)
{
    json_t *v = all_pages(id, "asc", 5);
    expect_values(v, want, n, true, when);
    json_decref(v);
    v = all_pages(id, "desc", 7);
    expect_values(v, want, n, false, when);
    json_decref(v);
}

/* Probe events read from the cache in pages, across a gateway restart and
 * a reorganisation (anvil's evm_snapshot / evm_revert). */
static void events_paged(void **state)
{
    enum { N = 23 };
    int want[N + 4];
    (void)state;

    for (int i = 0; i < N; i++)
        probe_store(want[i] = 100 + i);
    json_int_t id = add_probe_monitor();
    wait_synced(id, 20000);
    check_pages(id, want, N, "first read");

    /* The logs are in the cache: a restart answers the same at once. */
    stop_gateway();
    start_gateway(false);
    check_pages(id, want, N, "after a restart");

    /* Four more, then the chain drops them for one other event. */
    json_t *snap = node_call("evm_snapshot", NULL);
    for (int i = 0; i < 4; i++)
        probe_store(want[N + i] = 200 + i);
    wait_synced(id, 20000);
    check_pages(id, want, N + 4, "four more");
    json_t *ok = node_call("evm_revert", json_pack("[O]", snap));
    assert_true(json_is_true(ok));
    json_decref(ok);
    json_decref(snap);
    ct_sender_free(admin); /* its nonce is past the reverted chain's */
    admin = ctt_sender(node.url, CTT_DEV_KEY);
    probe_store(want[N] = 777);
    json_decref(node_call("evm_mine", json_array()));
    int64_t until = ct_time_mono_ms() + 20000;
    for (;;) {
        json_t *v = all_pages(id, "asc", 5);
        bool done = json_array_size(v) == N + 1 &&
                    strcmp(json_string_value(json_array_get(v, N)), "777") == 0;
        json_decref(v);
        if (done)
            break;
        if (ct_time_mono_ms() > until)
            fail_msg("the reverted logs are still listed after 20 s");
        ct_sleep_ms(100);
    }
    wait_synced(id, 20000);
    check_pages(id, want, N + 1, "after the reorganisation");
    /* A malformed cursor is the client's error. */
    assert_int_equal(call(NULL, NULL, "GET",
                          ctt_path("/chain/monitor/%lld/events?after=x", (long long)id), NULL,
                          NULL, 5000),
                     400);
    delete_all();
}

/* ---------------------------------------------------------------- a stopped node */

struct req {
    const char *path;
    long status;
    int64_t ms;
};

static void *req_main(void *arg)
{
    struct req *r = arg;
    r->status = call(NULL, &r->ms, "GET", r->path, NULL, NULL, 3 * CHAIN_TIMEOUT_MS);
    return NULL;
}

/* Issue 11 item 2: the node stopped (SIGSTOP), 16 concurrent requests to
 * each /api/chain/... endpoint; meanwhile cached reads answer within a
 * second each; the monitor's reads answer from the cache; chain calls
 * answer in about their timeout; after SIGCONT everything works again. */
static void node_stopped_test(void **state)
{
    enum { EACH = 16 };
    (void)state;
    json_int_t id = add_probe_monitor();
    wait_synced(id, 20000);
    const char *paths[] = {"/chain/overview",
                           "/chain/blocks",
                           "/chain/block/1",
                           ctt_path("/chain/tx/%s", some_tx),
                           "/chain/search?q=0x1111111111111111111111111111111111111111111111111111"
                           "111111111111",
                           "/chain/abi",
                           "/chain/monitor",
                           ctt_path("/chain/monitor/%lld/events", (long long)id)};
    enum { N_PATHS = sizeof(paths) / sizeof(paths[0]) };
    static struct req r[N_PATHS * EACH];
    pthread_t t[N_PATHS * EACH];

    ctt_freeze(node.proc.pid, true);
    node_stopped = true;
    for (int i = 0; i < N_PATHS * EACH; i++) {
        r[i] = (struct req){.path = paths[i % N_PATHS]};
        assert_int_equal(pthread_create(&t[i], NULL, req_main, &r[i]), 0);
    }
    /* Cached reads go on while the chain calls wait. */
    int64_t until = ct_time_mono_ms() + CHAIN_TIMEOUT_MS + 2000, slowest = 0;
    const char *details = ctt_path("/container/%s/details", vc_tag);
    while (ct_time_mono_ms() < until) {
        int64_t ms;
        long st = call(NULL, &ms, "GET", details, NULL, NULL, 1000);
        if (st != 200)
            fail_msg("GET %s with the node stopped: HTTP %ld after %lld ms", details, st,
                     (long long)ms);
        slowest = ms > slowest ? ms : slowest;
        st = call(NULL, &ms, "GET", "/health", NULL, NULL, 1000);
        if (st != 200 && st != 503)
            fail_msg("GET /health with the node stopped: HTTP %ld after %lld ms", st,
                     (long long)ms);
        slowest = ms > slowest ? ms : slowest;
        ct_sleep_ms(20);
    }
    for (int i = 0; i < N_PATHS * EACH; i++)
        pthread_join(t[i], NULL);
    printf("# slowest cached read with the node stopped: %lld ms\n", (long long)slowest);
    for (int i = 0; i < N_PATHS * EACH; i++) {
        bool chain = i % N_PATHS < 5;
        /* The monitor's reads and the ABI come from the gateway itself. */
        if (!chain && (r[i].status != 200 || r[i].ms > 1000))
            fail_msg("GET %s: HTTP %ld after %lld ms with the node stopped, wanted 200 at once",
                     r[i].path, r[i].status, (long long)r[i].ms);
        if (chain && (r[i].status != 504 || r[i].ms > CHAIN_TIMEOUT_MS + 3000))
            fail_msg("GET %s: HTTP %ld after %lld ms with the node stopped, wanted 504 within "
                     "%d ms",
                     r[i].path, r[i].status, (long long)r[i].ms, CHAIN_TIMEOUT_MS + 3000);
    }
    ct_proc_signal(&node.proc, SIGCONT);
    node_stopped = false;
    /* Everything recovers. */
    for (int i = 0; i < N_PATHS; i++) {
        long st = 0;
        for (int k = 0; k < 100 && st != 200 && st != 404; k++) {
            st = call(NULL, NULL, "GET", paths[i], NULL, NULL, 5000);
            if (st != 200)
                ct_sleep_ms(100);
        }
        /* The search asks for a hash nothing has. */
        if (st != (i == 4 ? 404 : 200))
            fail_msg("GET %s after SIGCONT: HTTP %ld", paths[i], st);
    }
    probe_store(999);
    wait_synced(id, 20000);
    delete_all();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(monitor_limits, gateway_up, gateway_down),
        cmocka_unit_test_setup_teardown(chain_reads_need_token, gateway_up, gateway_down),
        cmocka_unit_test_setup_teardown(events_paged, gateway_up, gateway_down),
        cmocka_unit_test_setup_teardown(node_stopped_test, gateway_up, gateway_down),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
