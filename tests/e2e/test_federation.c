/* The whole federation as a user meets it: `catena up` (chain, contract,
 * two agents, gateway), then seed 000's flow of Listings 3-13 over REST,
 * the access rules, timeouts, a second gateway rebuilding the same cache,
 * a chain reorganisation, and the CLI commands against the gateway. */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>

#include <signal.h>
#include <sys/wait.h>

#include "catena/ledger.h"

static ct_proc up;
static json_t *fed;
static const char *api;
static char tag[67], tx1[67];

static const char vm_body[] =
    "{\"vc_type\":\"openstack:vm\",\"available\":true,\"vcpu\":1,\"vram\":1024,\"vdisk\":10,"
    "\"id\":\"b55f090c-67f0-4691-a736-104ebe82c2e9\",\"ip_address\":\"http://10.0.9.39\","
    "\"controller\":\"http://10.0.9.2\",\"created\":\"2018-09-11T14:46:23.470Z\"}";

static const json_t *dc(int i)
{
    return json_array_get(json_object_get(fed, "datacenters"), (size_t)i);
}

static const char *dc_str(int i, const char *key)
{
    return json_string_value(json_object_get(dc(i), key));
}

/* One HTTP exchange with the gateway; body is JSON text or NULL. */
static long http(json_t **out, const char *method, const char *path, const char *token,
                 const char *body)
{
    long status = 0;

    ctt_ok(ctt_http(&status, out, method, ctt_path("%s%s", api, path), token, body));
    return status;
}

/* GETs path until it answers want (the follower may lag a little). */
/* How many times longer than on a dev node (which mines each transaction
 * as it arrives) a write may take to show: the PoA network seals a block
 * every 2 s and the gateway follows another node than the agents send to. */
static int patience = 1;

static json_t *get_until(const char *path, long want)
{
    json_t *out = NULL;
    long status = 0;

    for (int i = 0; i < 100 * patience; i++) {
        json_decref(out);
        out = NULL;
        if ((status = http(&out, "GET", path, NULL, NULL)) == want)
            return out;
        ct_sleep_ms(100);
    }
    fail_msg("GET %s: %ld, wanted %ld", path, status, want);
    return NULL;
}

static void expect(long got, long want, json_t *out, const char *what)
{
    if (got != want)
        fail_msg("%s: HTTP %ld, wanted %ld: %s", what, got, want,
                 json_string_value(json_object_get(out, "error")));
}

/* Sends a request and checks its status. Returns: the JSON answer. */
static json_t *call_expect(long want, const char *what, const char *method, const char *path,
                           const char *token, const char *body)
{
    json_t *out = NULL;
    long got = http(&out, method, path, token, body);

    expect(got, want, out, what);
    return out;
}

static int setup(void **state)
{
    static char dir[512];
    (void)state;

    patience = ctt_up_chain_is_poa() ? 20 : 1;
    snprintf(dir, sizeof(dir), "%s/up", ctt_tmpdir());
    if (ctt_up_start(&up, &fed, dir) < 0)
        return -1;
    api = json_string_value(json_object_get(fed, "api_url"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ctt_stop(&up);
    json_decref(fed);
    return 0;
}

/* Listings 3-4: both DCs were registered by `catena up` through the API. */
static void datacenters(void **state)
{
    json_t *out = NULL;
    (void)state;

    for (int i = 0; i < 2; i++) {
        /* Registered through the API just before federation.json was
         * written: the follower may still be a block behind. */
        for (int k = 0; k < 50 * patience; k++) {
            out = get_until(ctt_path("/datacenter/%s/details/", dc_str(i, "wallet")), 200);
            if (json_is_true(json_object_get(out, "registered")))
                break;
            json_decref(out);
            ct_sleep_ms(100);
        }
        assert_string_equal(json_string_value(json_object_get(out, "name")), dc_str(i, "name"));
        assert_true(json_is_true(json_object_get(out, "registered")));
        assert_string_equal(json_string_value(json_object_get(out, "wallet")), dc_str(i, "wallet"));
        json_decref(out);
    }
    /* The seed's "datacentre" spelling and no trailing slash. */
    out = get_until(ctt_path("/datacentre/%s/details", dc_str(0, "wallet")), 200);
    json_decref(out);
    out = get_until("/datacenter/", 200);
    assert_int_equal(json_array_size(out), 2);
    json_decref(out);
    /* An unknown wallet is not registered. */
    out = get_until("/datacenter/0x0000000000000000000000000000000000000001/details/", 200);
    assert_false(json_is_true(json_object_get(out, "registered")));
    json_decref(out);
}

/* Listings 5-8: register the VM, get its tag, details and flavour. */
static void register_vc(void **state)
{
    json_t *out;
    ct_address owner;
    uint8_t want[32];
    char want_hex[67];
    (void)state;

    out = call_expect(200, "register VC", "POST", ctt_path("/datacenter/DC1/container/register/"),
                      dc_str(0, "token"), vm_body);
    snprintf(tx1, sizeof(tx1), "%s", json_string_value(json_object_get(out, "tx_hash")));
    json_decref(out);
    out = get_until(ctt_path("/transaction/%s/vctag/", tx1), 200);
    snprintf(tag, sizeof(tag), "%s", json_string_value(json_object_get(out, "vc_tag")));
    ctt_ok(ct_address_parse(&owner, dc_str(0, "wallet")));
    ct_ledger_vc_tag(want, "openstack:vm", "b55f090c-67f0-4691-a736-104ebe82c2e9", &owner,
                     1536677183);
    ct_hex_encode(want_hex, sizeof(want_hex), want, 32, true);
    assert_string_equal(tag, want_hex);
    assert_string_equal(json_string_value(json_object_get(out, "owner")), dc_str(0, "wallet"));
    assert_true(json_integer_value(json_object_get(out, "block_number")) > 0);
    json_decref(out);

    out = get_until(ctt_path("/container/%s/details/", tag), 200);
    assert_string_equal(json_string_value(json_object_get(out, "vc_type")), "openstack:vm");
    assert_string_equal(json_string_value(json_object_get(out, "host")), dc_str(0, "wallet"));
    assert_string_equal(json_string_value(json_object_get(out, "ip_address")), "http://10.0.9.39");
    assert_string_equal(json_string_value(json_object_get(out, "created")),
                        "2018-09-11T14:46:23.000Z");
    assert_true(json_is_true(json_object_get(out, "available")));
    json_decref(out);
    out = get_until(ctt_path("/container/%s/flavor/", tag), 200);
    assert_int_equal(json_integer_value(json_object_get(out, "vram")), 1024);
    assert_int_equal(json_integer_value(json_object_get(out, "vcpu")), 1);
    assert_int_equal(json_integer_value(json_object_get(out, "vdisk")), 10);
    json_decref(out);
    /* No pending migration yet: Listing 10's zeros. */
    out = get_until(ctt_path("/container/%s/migration/pending/", tag), 200);
    assert_string_equal(json_string_value(json_object_get(out, "from_address")),
                        "0x0000000000000000000000000000000000000000");
    json_decref(out);
}

/* Listings 11-13 and 9: availability, migration DC1 -> DC2, history. */
static void lifecycle(void **state)
{
    const char *t1 = dc_str(0, "token"), *t2 = dc_str(1, "token");
    json_t *out;
    (void)state;

    out = call_expect(200, "availability", "POST",
                      ctt_path("/datacenter/DC1/container/%s/availability/change/", tag), t1,
                      "{\"status\":false,\"timestamp\":\"2018-09-13T09:08:10.768Z\"}");
    json_decref(out);
    out = call_expect(200, "pending migration", "POST",
                      ctt_path("/datacenter/DC1/container/%s/migrate/pending/", tag), t1,
                      "{\"target\":\"DC2\",\"price\":5,\"invoice\":13,"
                      "\"timestamp\":\"2018-09-13T09:28:48.222Z\"}");
    json_decref(out);
    out = get_until(ctt_path("/container/%s/migration/pending/", tag), 200);
    for (int i = 0; i < 50 * patience && json_integer_value(json_object_get(out, "price")) != 5; i++) {
        json_decref(out);
        ct_sleep_ms(100);
        out = get_until(ctt_path("/container/%s/migration/pending/", tag), 200);
    }
    assert_int_equal(json_integer_value(json_object_get(out, "price")), 5);
    assert_string_equal(json_string_value(json_object_get(out, "to_address")), dc_str(1, "wallet"));
    json_decref(out);

    /* Confirmation: by the wrong DC, with a different price, then right. */
    static const char confirm[] =
        "{\"id\":\"c55f090c-67f0-4784-a736-215ebeb2c2e9\",\"ip_address\":\"http://10.9.0.12\","
        "\"controller\":\"http://10.9.0.1\",\"price\":%d,\"invoice\":13,"
        "\"timestamp\":\"2018-09-13T09:48:48.222Z\"}";
    out = call_expect(403, "confirm by the origin", "POST",
                      ctt_path("/datacenter/DC1/container/%s/migrate/confirm/", tag), t1,
                      ctt_path(confirm, 5));
    json_decref(out);
    out = call_expect(403, "confirm with another price", "POST",
                      ctt_path("/datacenter/DC2/container/%s/migrate/confirm/", tag), t2,
                      ctt_path(confirm, 6));
    json_decref(out);
    out = call_expect(200, "confirm", "POST",
                      ctt_path("/datacenter/DC2/container/%s/migrate/confirm/", tag), t2,
                      ctt_path(confirm, 5));
    json_decref(out);

    /* DC2 hosts it now; DC1 may not change it any more. */
    for (int i = 0; i < 50 * patience; i++) {
        out = get_until(ctt_path("/container/%s/details/", tag), 200);
        if (strcmp(json_string_value(json_object_get(out, "host")), dc_str(1, "wallet")) == 0)
            break;
        json_decref(out);
        out = NULL;
        ct_sleep_ms(100);
    }
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "id")),
                        "c55f090c-67f0-4784-a736-215ebeb2c2e9");
    json_decref(out);
    out = call_expect(403, "availability by the former host", "POST",
                      ctt_path("/datacenter/DC1/container/%s/availability/change/", tag), t1,
                      "{\"status\":true,\"timestamp\":\"2018-09-13T10:00:00Z\"}");
    json_decref(out);
    out = call_expect(200, "availability at the new host", "POST",
                      ctt_path("/datacenter/DC2/container/%s/availability/change/", tag), t2,
                      "{\"status\":true,\"timestamp\":\"2018-09-13T10:08:10Z\"}");
    json_decref(out);

    /* History: every event in chain order (Listing 9's shape). */
    static const char *const names[] = {"ContainerRegistered", "ContainerAvailabilityChanged",
                                        "ContainerMigrationPending", "ContainerMigrated",
                                        "ContainerAvailabilityChanged"};
    for (int i = 0; i < 50 * patience; i++) {
        out = get_until(ctt_path("/container/%s/history/", tag), 200);
        if (json_array_size(out) == 5)
            break;
        json_decref(out);
        ct_sleep_ms(100);
    }
    assert_int_equal(json_array_size(out), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *ev = json_array_get(out, i);
        assert_string_equal(json_string_value(json_object_get(ev, "name")), names[i]);
        assert_non_null(json_object_get(ev, "tx_hash"));
        assert_non_null(json_object_get(ev, "block_hash"));
        assert_non_null(json_object_get(ev, "created"));
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "tx_hash")), tx1);
    json_decref(out);
    out = get_until(ctt_path("/container/%s/migration/pending/", tag), 200);
    assert_int_equal(json_integer_value(json_object_get(out, "price")), 0);
    json_decref(out);
}

/* SLA over the seed's days: down from 09:08:10.768 (availability false)
 * until 10:08:10 (available at DC2), 3599.232 s. */
static void sla(void **state)
{
    json_t *out;
    (void)state;

    out = get_until(ctt_path("/container/%s/sla/?from=2018-09-13T00:00:00Z&to=2018-09-14T00:00:00Z"
                             "&target=99",
                             tag),
                    200);
    double down = json_number_value(json_object_get(out, "downtime_seconds"));
    if (down < 3598 || down > 3600.5)
        fail_msg("downtime %f", down);
    assert_string_equal(json_string_value(json_object_get(out, "state")), "violated");
    assert_true(json_array_size(json_object_get(out, "downtime")) >= 1);
    json_decref(out);
    out = get_until(ctt_path("/container/%s/sla/?from=2018-09-13T00:00:00Z&to=2018-09-14T00:00:00Z"
                             "&target=90",
                             tag),
                    200);
    assert_string_equal(json_string_value(json_object_get(out, "state")), "ok");
    json_decref(out);
}

/* Bad input: each gets its status and a message naming the problem. */
static void negatives(void **state)
{
    const char *t1 = dc_str(0, "token"), *t2 = dc_str(1, "token");
    json_t *out;
    (void)state;

    struct {
        const char *method, *path, *token, *body;
        long status;
        const char *needle;
    } cases[] = {
        {"POST", "/datacenter/DC1/container/register/", t1, "{\"vc_type\":", 400, "body"},
        {"POST", "/datacenter/DC1/container/register/", t1, "{\"vc_type\":\"x\"}", 400,
         "available"},
        {"POST", "/datacenter/DC1/container/register/", t1, "{\"vc_type\":\"x\",\"bogus\":1}", 400,
         "bogus"},
        {"POST", "/datacenter/DC1/container/register/", NULL, vm_body, 401, "Bearer"},
        {"POST", "/datacenter/DC1/container/register/", "not-a-token-at-all", vm_body, 401,
         "Bearer"},
        {"POST", "/datacenter/DC1/container/register/", t2, vm_body, 403, "does not act"},
        {"POST", "/datacenter/DC9/container/register/", t1, vm_body, 403, "does not act"},
        {"POST", "/datacenter/DC1/container/register/", t1, vm_body, 403, "already registered"},
        {"GET", "/container/0x1234/details/", NULL, NULL, 400, "64 hex"},
        {"GET",
         "/container/0x00000000000000000000000000000000000000000000000000000000000000aa/details/",
         NULL, NULL, 404, "not found"},
        {"GET",
         "/transaction/0x00000000000000000000000000000000000000000000000000000000000000aa/vctag/",
         NULL, NULL, 404, "not found"},
        {"GET", "/datacenter/0x12/details/", NULL, NULL, 400, "address"},
        {"GET", "/no/such/thing", NULL, NULL, 404, "no such endpoint"},
        {"DELETE", "/datacenter/", NULL, NULL, 405, "not allowed"},
        {"POST", "/datacenter/register/", t1,
         "{\"name\":\"DC1\",\"wallet\":\"0x0000000000000000000000000000000000000001\"}", 403,
         "wallet"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long status = http(&out, cases[i].method, cases[i].path, cases[i].token, cases[i].body);
        const char *msg = json_string_value(json_object_get(out, "error"));
        if (status != cases[i].status || msg == NULL || strstr(msg, cases[i].needle) == NULL)
            fail_msg("case %zu %s %s: %ld '%s', wanted %ld with '%s'", i, cases[i].method,
                     cases[i].path, status, msg ? msg : "", cases[i].status, cases[i].needle);
        json_decref(out);
    }
    /* A batch larger than one transaction can hold is refused up front. */
    ct_buf batch;
    ct_buf_init(&batch, 1 << 20);
    ctt_ok(ct_buf_append(&batch, "{\"containers\":[", 15));
    for (int i = 0; i < 201; i++)
        ctt_ok(ct_buf_appendf(&batch, "%s{}", i ? "," : ""));
    ctt_ok(ct_buf_append(&batch, "]}", 2));
    out = call_expect(400, "batch of 201", "POST", "/datacenter/DC1/container/register/batch/", t1,
                      batch.data);
    assert_non_null(strstr(json_string_value(json_object_get(out, "error")), "at most 200"));
    json_decref(out);
    ct_buf_free(&batch);
    /* An oversized body is refused before it is parsed. */
    char *big = malloc(600 * 1024);
    assert_non_null(big);
    memset(big, ' ', 600 * 1024 - 1);
    big[600 * 1024 - 1] = '\0';
    big[0] = '{';
    big[600 * 1024 - 2] = '}';
    long status = http(&out, "POST", "/datacenter/DC1/container/register/", t1, big);
    assert_int_equal(status, 413);
    json_decref(out);
    free(big);
}

/* A second gateway on its own, fresh cache answers exactly the same. */
static void second_gateway(void **state)
{
    const char *dir = ctt_path("%s/up", ctt_tmpdir());
    char *text;
    json_t *cfg, *a, *b;
    uint16_t port;
    ct_proc gw;
    (void)state;

    ctt_ok(ct_file_read(&text, NULL, ctt_path("%s/api.json", dir), 1 << 20));
    ctt_ok(ct_json_parse(&cfg, text, strlen(text), 16));
    free(text);
    ctt_ok(ct_net_free_port(&port));
    json_object_set_new(cfg, "listen", json_string(ctt_path("127.0.0.1:%u", port)));
    json_object_set_new(cfg, "cache", json_string(ctt_path("%s/cache2.sqlite", ctt_tmpdir())));
    ctt_ok(ct_json_dump(&text, cfg));
    ctt_ok(ct_file_write_atomic(ctt_path("%s/api2.json", ctt_tmpdir()), text, strlen(text), 0600));
    free(text);
    json_decref(cfg);
    char *argv[] = {(char *)ctt_catena_bin(), "api", "--config",
                    (char *)ctt_path("%s/api2.json", ctt_tmpdir()), NULL};
    ctt_spawn(&gw, argv, ctt_path("%s/api2.log", ctt_tmpdir()));
    for (int i = 0; i < 200 && !ct_net_can_connect(port); i++)
        ct_sleep_ms(50);
    const char *first = api;
    static char second[64]; /* api may still point here after a failure */
    snprintf(second, sizeof(second), "http://127.0.0.1:%u/api", (unsigned)port);
    static const char *const reads[] = {"history", "details", "flavor", "migration/pending"};
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        char *ta = NULL, *tb = NULL;
        /* The second gateway may still be indexing: it agrees within the
         * usual wait. An event's "id" is the gateway's own row number. */
        for (int k = 0; k < 50 * patience && (ta == NULL || strcmp(ta, tb) != 0); k++) {
            free(ta);
            free(tb);
            if (k > 0)
                ct_sleep_ms(100);
            api = first;
            a = get_until(ctt_path("/container/%s/%s/", tag, reads[i]), 200);
            api = second;
            b = get_until(ctt_path("/container/%s/%s/", tag, reads[i]), 200);
            api = first;
            for (size_t e = 0; e < json_array_size(a); e++)
                json_object_del(json_array_get(a, e), "id");
            for (size_t e = 0; e < json_array_size(b); e++)
                json_object_del(json_array_get(b, e), "id");
            ctt_ok(ct_json_dump(&ta, a));
            ctt_ok(ct_json_dump(&tb, b));
            json_decref(a);
            json_decref(b);
        }
        assert_string_equal(ta, tb);
        free(ta);
        free(tb);
    }
    ctt_stop(&gw);
}

/* A reorganisation drops a registration: the gateway's cache follows the
 * chain (it never serves the dropped block), and DC1's agent, whose
 * outbox still holds the acknowledged transaction, sends it again, so the
 * registration lands once more, in a new block, exactly once. */
static void reorg(void **state)
{
    const char *rpc_url = json_string_value(json_object_get(fed, "rpc_url"));
    json_t *snap = NULL, *out;
    ct_rpc *rpc;
    char tx[67], first_block[67];
    (void)state;

    /* evm_snapshot/evm_revert are the dev nodes'; the PoA network's forks
     * are real ones (tests/e2e/test_up_poa.c). */
    if (ctt_up_chain_is_poa())
        skip();
    ctt_ok(ct_rpc_new(&rpc, rpc_url, 5000));
    ctt_ok(ct_rpc_call(rpc, &snap, "evm_snapshot", NULL));
    out = call_expect(200, "register before the reorg", "POST",
                      "/datacenter/DC1/container/register/", dc_str(0, "token"),
                      "{\"vc_type\":\"docker:container\",\"available\":true,\"vcpu\":1,\"vram\":64,"
                      "\"vdisk\":1,\"id\":\"reorged\",\"ip_address\":\"\",\"controller\":\"\","
                      "\"created\":\"2020-01-01T00:00:00Z\"}");
    snprintf(tx, sizeof(tx), "%s", json_string_value(json_object_get(out, "tx_hash")));
    json_decref(out);
    out = get_until(ctt_path("/transaction/%s/vctag/", tx), 200);
    snprintf(first_block, sizeof(first_block), "%s",
             json_string_value(json_object_get(out, "block_hash")));
    json_decref(out);
    json_t *params = json_pack("[O]", snap), *res = NULL;
    ctt_ok(ct_rpc_call(rpc, &res, "evm_revert", params));
    assert_true(json_is_true(res));
    json_decref(res);
    json_decref(params);
    for (int i = 0; i < 3; i++) {
        ctt_ok(ct_rpc_call(rpc, &res, "evm_mine", NULL));
        json_decref(res);
    }
    /* Until the outbox sends it again the gateway answers 404; then the
     * same transaction is in a block of the new chain. */
    for (int i = 0; i < 200; i++) {
        out = NULL;
        if (http(&out, "GET", ctt_path("/transaction/%s/vctag/", tx), NULL, NULL) == 200 &&
            strcmp(json_string_value(json_object_get(out, "block_hash")), first_block) != 0)
            break;
        json_decref(out);
        out = NULL;
        ct_sleep_ms(100);
    }
    assert_non_null(out);
    json_t *block = NULL;
    uint8_t h[32];
    ctt_hex_fixed(h, 32, json_string_value(json_object_get(out, "block_hash")));
    ctt_ok(ct_rpc_get_block_by_hash(rpc, &block, h, false));
    assert_true(json_is_object(block)); /* the block the gateway names is the chain's */
    json_decref(block);
    json_t *hist = get_until(
        ctt_path("/container/%s/history/", json_string_value(json_object_get(out, "vc_tag"))), 200);
    assert_int_equal(json_array_size(hist), 1);
    json_decref(hist);
    json_decref(out);
    json_decref(snap);
    ct_rpc_free(rpc);
}

/* The CLI against the gateway, with federation.json. */
static void cli(void **state)
{
    const char *fedfile = ctt_path("%s/up/federation.json", ctt_tmpdir());
    ctt_run r;
    (void)state;

    ctt_catena(&r, (const char *[]){"vc", "show", tag, "--federation", fedfile, NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_non_null(strstr(r.out, "c55f090c-67f0-4784-a736-215ebeb2c2e9"));
    ctt_run_free(&r);
    ctt_catena(&r, (const char *[]){"dc", "list", "--federation", fedfile, NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_non_null(strstr(r.out, "DC2"));
    ctt_run_free(&r);
    ctt_catena(&r, (const char *[]){"vc", "availability", "DC2", tag, "false", "--federation",
                                    fedfile, NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_non_null(strstr(r.out, "tx_hash"));
    ctt_run_free(&r);
    ctt_catena(&r, (const char *[]){"vc", "availability", "DC1", tag, "true", "--federation",
                                    fedfile, NULL});
    if (ctt_exit_code(&r) != 1)
        fail_msg("exit %d: %s", ctt_exit_code(&r), r.err);
    assert_non_null(strstr(r.err, "403"));
    ctt_run_free(&r);
    /* `vc tag` prints the tag alone, --json the whole answer. */
    ctt_catena(&r, (const char *[]){"vc", "tag", tx1, "--federation", fedfile, NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_string_equal(r.out, ctt_path("%s\n", tag));
    ctt_run_free(&r);
    ctt_catena(&r, (const char *[]){"vc", "tag", tx1, "--json", "--federation", fedfile, NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_non_null(strstr(r.out, "\"block_hash\""));
    ctt_run_free(&r);
    /* Malformed arguments are named before a URL is built. */
    static const char *const bad[][3] = {
        {"show", "{\"vc_tag\":\"0x00\"}", "TAG must be"},
        {"history", "0x12", "TAG must be"},
        {"tag", "../../datacenter", "TX_HASH must be"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ctt_catena(&r, (const char *[]){"vc", bad[i][0], bad[i][1], "--federation", fedfile, NULL});
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, bad[i][2]));
        assert_string_equal(r.out, "");
        ctt_run_free(&r);
    }
    ctt_catena(&r, (const char *[]){"vc", "availability", "DC/1", tag, "true", "--federation",
                                    fedfile, NULL});
    assert_int_equal(ctt_exit_code(&r), 2);
    assert_non_null(strstr(r.err, "DC must be"));
    ctt_run_free(&r);
}

/* A stopped agent: the gateway answers 202 in time. Last, as it leaves
 * DC2's agent stopped until it is continued. */
/* A write waiting for a stopped agent. */
struct stuck_write {
    pthread_t thread;
    const char *url, *token;
    long status;
    int rc;
};

static atomic_int stuck_done;

static void *stuck_write_main(void *arg)
{
    struct stuck_write *w = arg;
    json_t *out = NULL;

    w->rc = ctt_http(&w->status, &out, "POST", w->url, w->token,
                     "{\"timestamp\":\"2018-09-20T00:00:00Z\"}");
    json_decref(out);
    atomic_fetch_add(&stuck_done, 1);
    return NULL;
}

/* A stopped agent: its writes end in 202 (the outcome is not known yet:
 * accept_after_ms, 5 s by default), and while twelve of them wait
 * (more than the gateway has HTTP threads) reads are still answered. */
static void agent_timeout(void **state)
{
    enum { N = 12 };
    pid_t pid = (pid_t)json_integer_value(json_object_get(dc(1), "agent_pid"));
    const char *url = ctt_path("%s/datacenter/DC2/container/%s/retire/", api, tag);
    struct stuck_write w[N];
    json_t *out;
    (void)state;

    assert_true(pid > 0);
    ctt_freeze(pid, false);
    ct_sleep_ms(200);
    for (int i = 0; i < N; i++) {
        w[i] = (struct stuck_write){.url = url, .token = dc_str(1, "token")};
        assert_int_equal(pthread_create(&w[i].thread, NULL, stuck_write_main, &w[i]), 0);
    }
    /* Wait until the gateway holds all twelve (its health counts them). */
    for (int k = 0;; k++) {
        assert_true(k < 100);
        long st = http(&out, "GET", "/health", NULL, NULL);
        assert_true(st == 200 || st == 503);
        json_int_t waiting = json_integer_value(json_object_get(out, "requests_waiting"));
        json_decref(out);
        if (waiting == N)
            break;
        ct_sleep_ms(50);
    }
    for (int i = 0; i < 5; i++) {
        assert_int_equal(http(&out, "GET", ctt_path("/container/%s/details/", tag), NULL, NULL),
                         200);
        json_decref(out);
        long health = http(&out, "GET", "/health", NULL, NULL);
        assert_true(health == 200 || health == 503);
        json_decref(out);
    }
    /* The short wait is 5 s: none of the writes has come back. */
    assert_int_equal(atomic_load(&stuck_done), 0);
    for (int i = 0; i < N; i++)
        pthread_join(w[i].thread, NULL);
    kill(pid, SIGCONT);
    for (int i = 0; i < N; i++) {
        assert_int_equal(w[i].rc, 0);
        assert_int_equal(w[i].status, 202);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datacenters),   cmocka_unit_test(register_vc),
        cmocka_unit_test(lifecycle),     cmocka_unit_test(sla),
        cmocka_unit_test(negatives),     cmocka_unit_test(second_gateway),
        cmocka_unit_test(reorg),         cmocka_unit_test(cli),
        cmocka_unit_test(agent_timeout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
