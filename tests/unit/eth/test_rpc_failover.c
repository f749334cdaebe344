/* The JSON-RPC client's failover over a list of URLs, against real sockets
 * on loopback: a closed port, and small libmicrohttpd servers that answer
 * like a node, fail with HTTP 503, answer a JSON-RPC error, or answer too
 * late. Also ct_rpc_wait_receipt riding out a node's passing errors. */
#include "harness.h"

#include <stdatomic.h>

#include <microhttpd.h>

typedef enum srv_mode {
    SRV_OK,           /* every call answers "0x2a"; batches get one result each */
    SRV_503,          /* HTTP 503 */
    SRV_ERROR,        /* a JSON-RPC error: nonce too low */
    SRV_SLOW,         /* answers after 1.5 s */
    SRV_HAS_TX,       /* refuses sends (nonce too low), finds any transaction by hash */
    SRV_IN_POOL,      /* refuses sends as already in its pool, finds nothing by hash
                         (as the EthereumJS client for a pending transaction) */
    SRV_RECEIPT_LATE, /* a receipt lookup fails twice (as the EthereumJS client
                         while it stores a new block), then finds it */
} srv_mode;

typedef struct srv {
    struct MHD_Daemon *d;
    srv_mode mode;
    atomic_int calls;
    uint16_t port;
    char url[64];
} srv;

typedef struct req_body {
    ct_buf buf;
} req_body;

static json_t *node_error(const json_t *id, const char *msg)
{
    return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error", "code",
                     -32000, "message", msg);
}

/* The answer to one JSON-RPC request object in mode m. */
static json_t *answer_one(srv_mode m, const json_t *req, int n_call)
{
    json_t *id = json_object_get(req, "id");
    const char *method = json_string_value(json_object_get(req, "method"));
    bool send = strcmp(method, "eth_sendRawTransaction") == 0;
    bool lookup = strcmp(method, "eth_getTransactionByHash") == 0;

    if (m == SRV_ERROR || (m == SRV_HAS_TX && send))
        return node_error(id, "nonce too low");
    if (m == SRV_IN_POOL && send)
        return node_error(id, "0x12: this transaction is already in the TxPool");
    if (m == SRV_IN_POOL && lookup)
        return node_error(id, "value for 0x34 not found in DB");
    if (m == SRV_RECEIPT_LATE && strcmp(method, "eth_getTransactionReceipt") == 0)
        return n_call <= 2 ? node_error(id, "value for 0x56 not found in DB")
                           : json_pack("{s:s, s:O, s:{s:s}}", "jsonrpc", "2.0", "id", id, "result",
                                       "status", "0x1");
    if (m == SRV_HAS_TX && lookup)
        return json_pack("{s:s, s:O, s:{s:O}}", "jsonrpc", "2.0", "id", id, "result", "hash",
                         json_array_get(json_object_get(req, "params"), 0));
    return json_pack("{s:s, s:O, s:s}", "jsonrpc", "2.0", "id", id, "result", "0x2a");
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    MHD_add_response_header(r, "Content-Type", "application/json");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    srv *s = cls;
    req_body *rb = *con_cls;
    json_t *req, *resp;
    char *text;
    enum MHD_Result ret;
    int n;

    (void)url, (void)method, (void)version;
    if (rb == NULL) {
        rb = calloc(1, sizeof(*rb));
        ct_buf_init(&rb->buf, 1 << 20);
        *con_cls = rb;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        ct_buf_append(&rb->buf, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    n = atomic_fetch_add(&s->calls, 1) + 1;
    if (s->mode == SRV_503)
        return reply(c, 503, "{}");
    if (s->mode == SRV_SLOW)
        ct_sleep_ms(1500);
    req = json_loads(rb->buf.data, 0, NULL);
    if (json_is_array(req)) {
        size_t i;
        json_t *one;
        resp = json_array();
        json_array_foreach (req, i, one)
            json_array_append_new(resp, answer_one(s->mode, one, n));
    } else {
        resp = answer_one(s->mode, req, n);
    }
    text = json_dumps(resp, JSON_COMPACT);
    ret = reply(c, 200, text);
    free(text);
    json_decref(resp);
    json_decref(req);
    return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    req_body *rb = *con_cls;

    (void)cls, (void)c, (void)toe;
    if (rb != NULL) {
        ct_buf_free(&rb->buf);
        free(rb);
    }
}

/* Starts a server on port (0: a free one). */
static void srv_start_on(srv *s, srv_mode mode, uint16_t port)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->port = port;
    if (port == 0)
        ctt_ok(ct_net_free_port(&s->port));
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                            s->port, NULL, NULL, on_request, s, MHD_OPTION_NOTIFY_COMPLETED,
                            on_done, s, MHD_OPTION_END);
    assert_non_null(s->d);
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", (unsigned)s->port);
}

static void srv_start(srv *s, srv_mode mode)
{
    srv_start_on(s, mode, 0);
}

static void srv_stop(srv *s)
{
    MHD_stop_daemon(s->d);
}

/* A URL on a loopback port nobody listens on: connections are refused. */
static const char *closed_url(void)
{
    uint16_t port;

    ctt_ok(ct_net_free_port(&port));
    return ctt_path("http://127.0.0.1:%u", (unsigned)port);
}

static int call(ct_rpc *rpc)
{
    json_t *res = NULL;
    int rc = ct_rpc_call(rpc, &res, "eth_chainId", NULL);

    if (rc == 0)
        assert_string_equal(json_string_value(res), "0x2a");
    json_decref(res);
    return rc;
}

static void test_list_parsing(void **state)
{
    ct_rpc *rpc = NULL;
    ct_buf many;

    (void)state;
    ctt_ok(ct_rpc_new(&rpc, " http://127.0.0.1:1/x , https://example.org:8545/v3/KEY", 1000));
    assert_string_equal(ct_rpc_url(rpc), "http://127.0.0.1:1/x");
    assert_string_equal(ct_rpc_origin(rpc), "http://127.0.0.1:1");
    ct_rpc_free(rpc);
    assert_int_equal(ct_rpc_new(&rpc, "http://a:1,,http://b:2", 1000), CT_EINVAL);
    assert_int_equal(ct_rpc_new(&rpc, "http://a:1,", 1000), CT_EINVAL);
    assert_int_equal(ct_rpc_new(&rpc, "http://a:1,ftp://b", 1000), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "ftp://b"));
    ct_buf_init(&many, 4096);
    for (int i = 0; i < 17; i++)
        ctt_ok(ct_buf_appendf(&many, "%shttp://127.0.0.1:%d", i ? "," : "", 1000 + i));
    assert_int_equal(ct_rpc_new(&rpc, many.data, 1000), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "16"));
    ct_buf_free(&many);
}

/* What the first node of "FIRST,OK" does, and whether the call then moves
 * on to the second node (which stays in use for the next call too). */
static const struct first_case {
    const char *name;
    int mode; /* a srv_mode, or -1: a closed port (connection refused) */
    int timeout_ms;
    bool moves_on;
} first_cases[] = {
    {"refused", -1, 2000, true},
    {"HTTP 503", SRV_503, 2000, true},
    {"too slow", SRV_SLOW, 300, true},
    /* A JSON-RPC error is the node's answer: no other node is asked. */
    {"nonce too low", SRV_ERROR, 2000, false},
};

static void test_first_node(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(first_cases) / sizeof(first_cases[0]); i++) {
        const struct first_case *fc = &first_cases[i];
        srv first, ok;
        ct_rpc *rpc;
        int64_t t0 = ct_time_mono_ms();

        print_message("first node: %s\n", fc->name);
        if (fc->mode >= 0)
            srv_start(&first, (srv_mode)fc->mode);
        srv_start(&ok, SRV_OK);
        ctt_ok(ct_rpc_new(&rpc, ctt_path("%s,%s", fc->mode >= 0 ? first.url : closed_url(), ok.url),
                          fc->timeout_ms));
        if (fc->moves_on) {
            ctt_ok(call(rpc));
            assert_true(ct_time_mono_ms() - t0 < 1400); /* the slow node was not waited for */
            assert_string_equal(ct_rpc_url(rpc), ok.url);
            ctt_ok(call(rpc));
            assert_int_equal(atomic_load(&ok.calls), 2);
        } else {
            assert_int_equal(call(rpc), CT_ERPC);
            assert_non_null(strstr(ct_error_last(), fc->name));
            assert_string_equal(ct_rpc_url(rpc), first.url);
            assert_int_equal(atomic_load(&ok.calls), 0);
        }
        if (fc->mode >= 0)
            assert_int_equal(atomic_load(&first.calls), 1);
        ct_rpc_free(rpc);
        if (fc->mode >= 0)
            srv_stop(&first);
        srv_stop(&ok);
    }
}

/* The list wraps around: a client that moved on to the last node goes back
 * to the first when the last stops answering and the first is back. */
static void test_wraps_around(void **state)
{
    srv first, last;
    uint16_t port;
    ct_rpc *rpc;

    (void)state;
    ctt_ok(ct_net_free_port(&port));
    srv_start(&last, SRV_OK);
    ctt_ok(ct_rpc_new(&rpc, ctt_path("http://127.0.0.1:%u,%s", (unsigned)port, last.url), 2000));
    ctt_ok(call(rpc));
    assert_string_equal(ct_rpc_url(rpc), last.url);
    srv_stop(&last);
    srv_start_on(&first, SRV_OK, port);
    ctt_ok(call(rpc));
    assert_string_equal(ct_rpc_url(rpc), first.url);
    assert_int_equal(atomic_load(&first.calls), 1);
    ct_rpc_free(rpc);
    srv_stop(&first);
}

/* When no node answers, the error says so and keeps the last one's code:
 * a timeout stays CT_ETIMEOUT. A single URL fails as before. */
static void test_none_answer(void **state)
{
    srv slow;
    ct_rpc *rpc;

    (void)state;
    srv_start(&slow, SRV_SLOW);
    ctt_ok(ct_rpc_new(&rpc, ctt_path("%s,%s", closed_url(), slow.url), 300));
    assert_int_equal(call(rpc), CT_ETIMEOUT);
    assert_non_null(strstr(ct_error_last(), "none of 2 nodes answered"));
    ct_rpc_free(rpc);
    ctt_ok(ct_rpc_new(&rpc, closed_url(), 300));
    assert_int_equal(call(rpc), CT_ERPC);
    assert_null(strstr(ct_error_last(), "none of"));
    ct_rpc_free(rpc);
    srv_stop(&slow);
}

/* A batch fails over as a whole. */
static void test_batch(void **state)
{
    srv ok;
    ct_rpc *rpc;
    json_t *calls = json_pack("[[s, []], [s, []]]", "eth_chainId", "eth_blockNumber"), *res = NULL;

    (void)state;
    srv_start(&ok, SRV_OK);
    ctt_ok(ct_rpc_new(&rpc, ctt_path("%s,%s", closed_url(), ok.url), 2000));
    ctt_ok(ct_rpc_batch(rpc, &res, calls));
    ctt_expect_json(res, "[\"0x2a\",\"0x2a\"]");
    json_decref(res);
    json_decref(calls);
    ct_rpc_free(rpc);
    srv_stop(&ok);
}

/* A transaction resent after a failover to a node that refuses it but has
 * it was sent: the hash is the transaction's own. The node says so (in its
 * pool), or finds it by hash (nonce too low: mined). Without a failover the
 * same refusal stays an error. */
static void test_send_raw_known_after_failover(void **state)
{
    static const uint8_t raw[] = {0x02, 0xc0, 0x01, 0x02};
    static const struct {
        srv_mode mode;
        int calls; /* the send, and the lookup if the refusal did not say */
        const char *refusal;
    } cases[] = {{SRV_HAS_TX, 2, "nonce too low"}, {SRV_IN_POOL, 1, "already in the TxPool"}};
    uint8_t hash[32], want[32];

    (void)state;
    ct_keccak256(want, raw, sizeof(raw));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        srv has;
        ct_rpc *rpc;
        srv_start(&has, cases[i].mode);
        ctt_ok(ct_rpc_new(&rpc, ctt_path("%s,%s", closed_url(), has.url), 2000));
        ctt_ok(ct_rpc_send_raw(rpc, hash, raw, sizeof(raw)));
        assert_memory_equal(hash, want, 32);
        assert_int_equal(atomic_load(&has.calls), cases[i].calls);
        assert_int_equal(ct_rpc_send_raw(rpc, hash, raw, sizeof(raw)), CT_ERPC);
        assert_non_null(strstr(ct_error_last(), cases[i].refusal));
        ct_rpc_free(rpc);
        srv_stop(&has);
    }
}

/* ct_rpc_wait_receipt polls through a node's passing errors, and reports
 * the last one (CT_ERPC) when they last until the deadline. */
static void test_wait_receipt_rides_out_errors(void **state)
{
    uint8_t hash[32] = {0};
    json_t *receipt = NULL;
    srv late, err;
    ct_rpc *rpc;

    (void)state;
    srv_start(&late, SRV_RECEIPT_LATE);
    ctt_ok(ct_rpc_new(&rpc, late.url, 2000));
    ctt_ok(ct_rpc_wait_receipt(rpc, &receipt, hash, 10000, 20));
    ctt_expect_json(receipt, "{\"status\":\"0x1\"}");
    assert_int_equal(atomic_load(&late.calls), 3);
    json_decref(receipt);
    ct_rpc_free(rpc);
    srv_stop(&late);
    srv_start(&err, SRV_ERROR);
    ctt_ok(ct_rpc_new(&rpc, err.url, 2000));
    assert_int_equal(ct_rpc_wait_receipt(rpc, &receipt, hash, 300, 20), CT_ERPC);
    assert_non_null(strstr(ct_error_last(), "nonce too low"));
    assert_true(atomic_load(&err.calls) > 2);
    ct_rpc_free(rpc);
    srv_stop(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_parsing),
        cmocka_unit_test(test_first_node),
        cmocka_unit_test(test_wraps_around),
        cmocka_unit_test(test_none_answer),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_send_raw_known_after_failover),
        cmocka_unit_test(test_wait_receipt_rides_out_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
