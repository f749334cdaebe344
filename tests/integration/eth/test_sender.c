/* The Ethereum core against a real Hardhat node: value transfers, a
 * contract deployment, calls, receipts and decoded logs, reverts (both
 * Hardhat's send error and a failed estimate), restarts, and two and
 * eight threads sharing one sender without nonce errors. */
#include "harness.h"

#include <pthread.h>

static ct_devnode node;

static int setup(void **state)
{
    (void)state;
    ctt_node_start(&node);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ctt_node_stop(&node);
    return 0;
}

static ct_sender *new_sender(const char *hex)
{
    return ctt_sender(node.url, hex);
}

static void transfer(void **state)
{
    ct_sender *s = new_sender(CTT_DEV_KEY);
    ct_send_result res;
    ct_address to;
    ct_u256 bal, want;
    ct_rpc *rpc;
    uint8_t fresh[32];
    (void)state;

    ctt_ok(ct_seckey_generate(fresh));
    ctt_ok(ct_address_from_seckey(&to, fresh));
    ct_send_req req = {.to = &to};
    ctt_ok(ct_u256_parse(&req.value, "1234567890123456789"));
    ctt_ok(ct_sender_send(s, &res, &req, true));
    assert_true(res.mined && res.success);
    assert_int_equal(res.gas_used, 21000);
    /* EIP-1559 by default. */
    assert_string_equal(json_string_value(json_object_get(res.receipt, "type")), "0x2");
    ct_send_result_clear(&res);

    /* Legacy transactions for nodes without EIP-1559, on request. */
    uint8_t key[32];
    size_t klen;
    ct_sender *legacy;
    ct_sender_opts opts = {.legacy = true};
    ctt_ok(ct_hex_decode(key, 32, &klen, CTT_DEV_KEY, strlen(CTT_DEV_KEY)));
    ctt_ok(ct_sender_new(&legacy, node.url, key, &opts));
    ctt_ok(ct_sender_send(legacy, &res, &req, true));
    assert_string_equal(json_string_value(json_object_get(res.receipt, "type")), "0x0");
    ct_send_result_clear(&res);
    ct_sender_free(legacy);
    ct_u256_mul_u64(&req.value, &req.value, 2);

    ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
    ctt_ok(ct_rpc_get_balance(rpc, &bal, &to, "latest"));
    want = req.value;
    assert_int_equal(ct_u256_cmp(&bal, &want), 0);
    ct_rpc_free(rpc);
    ct_sender_free(s);
}

/* Deploys Probe, calls store, checks the event and total(). */
/* A sender that reuses estimates per call shape (as the agents' does). */
static ct_sender *reusing_sender(const char *hex)
{
    ct_sender_opts opts = {.reuse_gas = true};
    uint8_t key[32];
    size_t len;
    ct_sender *s;

    ctt_ok(ct_hex_decode(key, 32, &len, hex, strlen(hex)));
    ctt_ok(ct_sender_new(&s, node.url, key, &opts));
    return s;
}

static void deploy_call_logs(void **state)
{
    ct_sender *s = reusing_sender(CTT_DEV_KEY);
    json_t *abi, *entry, *logs, *values = NULL, *decoded = NULL;
    ct_abi_sig *store = NULL, *stored = NULL;
    uint8_t *code, sel[4];
    size_t code_len, i;
    ct_send_result res;
    ct_buf call;
    (void)state;

    ctt_contract("Probe", &abi, &code, &code_len);
    ct_send_req deploy = {.data = code, .data_len = code_len};
    ctt_ok(ct_sender_send(s, &res, &deploy, true));
    assert_true(res.success);
    ct_address probe = res.contract;
    ct_send_result_clear(&res);

    json_array_foreach (abi, i, entry) {
        const char *name = json_string_value(json_object_get(entry, "name"));
        if (name && strcmp(name, "store") == 0)
            ctt_ok(ct_abi_sig_from_json(&store, entry));
        if (name && strcmp(name, "Stored") == 0)
            ctt_ok(ct_abi_sig_from_json(&stored, entry));
    }
    assert_non_null(store);
    assert_non_null(stored);
    ct_buf_init(&call, 1 << 16);
    ctt_ok(ct_abi_selector(sel, store));
    ctt_ok(ct_buf_append(&call, sel, 4));
    ctt_ok(ct_json_parse(&values, "[\"vm-42\", 1024, \"hello ledger\"]",
                         strlen("[\"vm-42\", 1024, \"hello ledger\"]"), 8));
    ctt_ok(ct_abi_encode(&call, store->params, values));
    ct_send_req req = {.to = &probe, .data = (uint8_t *)call.data, .data_len = call.len};
    ctt_ok(ct_sender_send(s, &res, &req, true));
    assert_true(res.success);

    /* The receipt's log, and the same log through eth_getLogs. */
    logs = json_object_get(res.receipt, "logs");
    assert_int_equal(json_array_size(logs), 1);
    json_t *log = json_array_get(logs, 0);
    json_t *topics_j = json_object_get(log, "topics");
    uint8_t topics[4][32], *data;
    size_t n_topics = json_array_size(topics_j), data_len, len;
    assert_int_equal(n_topics, 3);
    for (size_t t = 0; t < n_topics; t++)
        ctt_ok(
            ct_hex_decode(topics[t], 32, &len, json_string_value(json_array_get(topics_j, t)), 66));
    ctt_ok(ct_hex_decode_new(&data, &data_len, json_string_value(json_object_get(log, "data"))));
    ctt_ok(ct_abi_decode_log(&decoded, stored, false, (const uint8_t(*)[32])topics, n_topics, data,
                             data_len));
    char who[CT_ADDRESS_TEXT_SIZE], tag_hash[67];
    uint8_t h[32];
    ct_address_format(who, ct_sender_address(s));
    assert_string_equal(json_string_value(json_object_get(decoded, "who")), who);
    ct_keccak256(h, "vm-42", 5);
    ct_hex_encode(tag_hash, sizeof(tag_hash), h, 32, true);
    assert_string_equal(json_string_value(json_object_get(decoded, "tag")), tag_hash);
    assert_string_equal(json_string_value(json_object_get(decoded, "value")), "1024");
    assert_string_equal(json_string_value(json_object_get(decoded, "note")), "hello ledger");
    free(data);

    ct_rpc *rpc;
    json_t *filter, *got;
    ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
    filter = json_pack("{s:s, s:o, s:[o]}", "fromBlock", "0x0", "address", ct_json_hex(probe.b, 20),
                       "topics", ct_json_hex(topics[0], 32));
    ctt_ok(ct_rpc_get_logs(rpc, &got, filter));
    assert_int_equal(json_array_size(got), 1);
    json_decref(got);
    json_decref(filter);

    /* total() through eth_call. */
    ct_abi_sig *total;
    ct_abi_type *ret;
    uint8_t *out;
    size_t out_len;
    json_t *callobj, *r;
    ctt_ok(ct_abi_sig_parse(&total, "total()"));
    ctt_ok(ct_abi_selector(sel, total));
    callobj = json_pack("{s:o, s:o}", "to", ct_json_hex(probe.b, 20), "data", ct_json_hex(sel, 4));
    ctt_ok(ct_rpc_call_contract(rpc, &out, &out_len, callobj, "latest"));
    ctt_ok(ct_abi_type_parse(&ret, "(uint256)"));
    ctt_ok(ct_abi_decode(&r, ret, out, out_len));
    assert_string_equal(json_string_value(json_array_get(r, 0)), "1024");
    json_decref(r);
    ct_abi_type_free(ret);
    free(out);
    json_decref(callobj);
    ct_abi_sig_free(total);
    ct_rpc_free(rpc);

    /* The same call shape again, now reverting. The sender knows its gas.
     * Hardhat mines on arrival, so by default nothing checks the call
     * first: the node mines it as failed and its send error carries the
     * reason. With always_preflight an eth_call refuses it and nothing is
     * sent. */
    {
        ct_buf again;
        json_t *bad;
        ct_send_result r2;
        ct_buf_init(&again, 1 << 16);
        ctt_ok(ct_abi_selector(sel, store));
        ctt_ok(ct_buf_append(&again, sel, 4));
        static const char bad_args[] = "[\"vm-43\", 13, \"hello ledger\"]";
        ctt_ok(ct_json_parse(&bad, bad_args, strlen(bad_args), 8));
        ctt_ok(ct_abi_encode(&again, store->params, bad));
        assert_int_equal(again.len, call.len);
        ct_send_req same = {.to = &probe, .data = (uint8_t *)again.data, .data_len = again.len};
        assert_int_equal(ct_sender_send(s, &r2, &same, true), CT_EREVERT);
        assert_non_null(strstr(ct_error_last(), "unlucky"));
        /* Hardhat mines it as failed; elsewhere the eth_call before the
         * send refuses it and nothing is mined. */
        assert_int_equal(r2.mined, ctt_chain_mines_reverts());
        assert_false(r2.success);
        ct_send_result_clear(&r2);

        ct_sender *checked;
        uint8_t key[32];
        size_t key_len;
        ct_sender_opts opts = {.always_preflight = true, .reuse_gas = true};
        ctt_ok(ct_hex_decode(key, 32, &key_len, CTT_DEV_KEY2, strlen(CTT_DEV_KEY2)));
        ctt_ok(ct_sender_new(&checked, node.url, key, &opts));
        ct_send_req good = {.to = &probe, .data = (uint8_t *)call.data, .data_len = call.len};
        ctt_ok(ct_sender_send(checked, &r2, &good, true)); /* estimated: shape known */
        ct_send_result_clear(&r2);
        assert_int_equal(ct_sender_send(checked, &r2, &same, true), CT_EREVERT);
        assert_non_null(strstr(ct_error_last(), "unlucky"));
        assert_false(r2.mined);
        ct_send_result_clear(&r2);
        ct_sender_free(checked);
        json_decref(bad);
        ct_buf_free(&again);
    }

    /* A reverting call: with an estimate nothing is sent; with a fixed gas
     * limit Hardhat mines it and answers with an error. Either way the
     * nonce stays right for the next transaction. */
    ct_buf_reset(&call);
    ctt_ok(ct_abi_selector(sel, store));
    ctt_ok(ct_buf_append(&call, sel, 4));
    json_decref(values);
    ctt_ok(ct_json_parse(&values, "[\"x\", 13, \"\"]", strlen("[\"x\", 13, \"\"]"), 8));
    ctt_ok(ct_abi_encode(&call, store->params, values));
    ct_send_result_clear(&res);
    req.data = (uint8_t *)call.data;
    req.data_len = call.len;
    assert_int_equal(ct_sender_send(s, &res, &req, true), CT_EREVERT);
    assert_non_null(strstr(ct_error_last(), "unlucky"));
    assert_false(res.mined);
    ct_send_result_clear(&res);
    req.gas_limit = 200000;
    assert_int_equal(ct_sender_send(s, &res, &req, true), CT_EREVERT);
    assert_true(res.mined);
    assert_false(res.success);
    ct_send_result_clear(&res);
    ct_send_req tx2 = req;
    tx2.gas_limit = 0;
    json_decref(values);
    ctt_ok(ct_json_parse(&values, "[\"y\", 1, \"after revert\"]",
                         strlen("[\"y\", 1, \"after revert\"]"), 8));
    ct_buf_reset(&call);
    ctt_ok(ct_buf_append(&call, sel, 4));
    ctt_ok(ct_abi_encode(&call, store->params, values));
    tx2.data = (uint8_t *)call.data;
    tx2.data_len = call.len;
    ctt_ok(ct_sender_send(s, &res, &tx2, true));
    assert_true(res.success);
    ct_send_result_clear(&res);

    json_decref(values);
    json_decref(decoded);
    ct_buf_free(&call);
    ct_abi_sig_free(store);
    ct_abi_sig_free(stored);
    free(code);
    json_decref(abi);
    ct_sender_free(s);
}

/* A new sender for a key that another sender used picks up the nonce. */
static void restart(void **state)
{
    ct_sender *a = new_sender(CTT_DEV_KEY2), *b;
    ct_send_result res;
    ct_address to;
    (void)state;

    memset(&to, 0x11, sizeof(to));
    ct_send_req req = {.to = &to};
    ct_u256_from_u64(&req.value, 1);
    ctt_ok(ct_sender_send(a, &res, &req, true));
    ct_send_result_clear(&res);
    b = new_sender(CTT_DEV_KEY2);
    ctt_ok(ct_sender_send(b, &res, &req, true));
    ct_send_result_clear(&res);
    /* a's nonce is now stale: the node refuses it and a recovers. */
    ctt_ok(ct_sender_send(a, &res, &req, true));
    assert_true(res.success);
    ct_send_result_clear(&res);
    ct_sender_free(a);
    ct_sender_free(b);
}

struct worker {
    ct_sender *s;
    int sent;
    int failed;
    char error[256];
};

static void *send_many(void *arg)
{
    struct worker *w = arg;
    ct_address to;

    memset(&to, 0x22, sizeof(to));
    for (int i = 0; i < 25; i++) {
        ct_send_result res;
        ct_send_req req = {.to = &to};
        ct_u256_from_u64(&req.value, (uint64_t)i + 1);
        if (ct_sender_send(w->s, &res, &req, true) == 0 && res.success) {
            w->sent++;
        } else if (w->failed++ == 0) {
            snprintf(w->error, sizeof(w->error), "%s", ct_error_last());
        }
        ct_send_result_clear(&res);
    }
    return NULL;
}

static void two_threads(void **state)
{
    ct_sender *s = new_sender(CTT_DEV_KEY);
    struct worker w[2] = {{.s = s}, {.s = s}};
    pthread_t t[2];
    uint64_t before, after;
    ct_rpc *rpc;
    (void)state;

    ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
    ctt_ok(ct_rpc_get_tx_count(rpc, &before, ct_sender_address(s), "latest"));
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, send_many, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++)
        if (w[i].failed)
            fail_msg("thread %d: %d failures, first: %s", i, w[i].failed, w[i].error);
    ctt_ok(ct_rpc_get_tx_count(rpc, &after, ct_sender_address(s), "latest"));
    assert_int_equal(after - before, 50);
    ct_rpc_free(rpc);
    ct_sender_free(s);
}

/* Deploys Probe with s; *sig is its function named fn. */
static ct_address deploy_probe(ct_sender *s, const char *fn, ct_abi_sig **sig)
{
    json_t *abi, *entry;
    uint8_t *code;
    size_t code_len, i;
    ct_send_result res;

    ctt_contract("Probe", &abi, &code, &code_len);
    ct_send_req deploy = {.data = code, .data_len = code_len};
    ctt_ok(ct_sender_send(s, &res, &deploy, true));
    ct_address probe = res.contract;
    ct_send_result_clear(&res);
    *sig = NULL;
    json_array_foreach (abi, i, entry) {
        const char *name = json_string_value(json_object_get(entry, "name"));
        if (name && strcmp(name, fn) == 0)
            ctt_ok(ct_abi_sig_from_json(sig, entry));
    }
    assert_non_null(*sig);
    free(code);
    json_decref(abi);
    return probe;
}

/* Eight threads share one sender (whoever finds it idle sends the queued
 * requests of the others too): every call is sent once, with consecutive
 * nonces; the ones that revert are mined as failed and reported to their
 * own caller with the node's reason. */
struct queue_worker {
    ct_sender *s;
    const ct_address *probe;
    const ct_abi_sig *store;
    int id, ok, reverted, other;
    uint64_t sum;
    char error[256];
};

static void *queue_send(void *arg)
{
    struct queue_worker *w = arg;
    uint8_t sel[4];

    ct_abi_selector(sel, w->store);
    for (int i = 0; i < 20; i++) {
        uint64_t value = i % 7 == 3 ? 13 : (uint64_t)(w->id * 100 + i + 20);
        char args[96];
        json_t *v = NULL;
        ct_buf call;
        ct_send_result res;
        ct_buf_init(&call, 1 << 16);
        snprintf(args, sizeof(args), "[\"t%d-%d\", %llu, \"queued\"]", w->id, i,
                 (unsigned long long)value);
        if (ct_json_parse(&v, args, strlen(args), 8) < 0 || ct_buf_append(&call, sel, 4) < 0 ||
            ct_abi_encode(&call, w->store->params, v) < 0) {
            w->other++;
            json_decref(v);
            ct_buf_free(&call);
            continue;
        }
        ct_send_req req = {.to = w->probe, .data = (uint8_t *)call.data, .data_len = call.len};
        int rc = ct_sender_send(w->s, &res, &req, false);
        if (rc == 0 && value != 13) {
            w->ok++;
            w->sum += value;
        } else if (rc == CT_EREVERT && value == 13 && strstr(ct_error_last(), "unlucky")) {
            w->reverted++;
        } else if (w->other++ == 0) {
            snprintf(w->error, sizeof(w->error), "value %llu: rc %d: %s", (unsigned long long)value,
                     rc, ct_error_last());
        }
        ct_send_result_clear(&res);
        json_decref(v);
        ct_buf_free(&call);
    }
    return NULL;
}

static void eight_threads(void **state)
{
    ct_sender *s = reusing_sender(CTT_DEV_KEY2);
    struct queue_worker w[8];
    pthread_t t[8];
    json_t *callobj, *r;
    ct_abi_sig *store = NULL, *total;
    ct_abi_type *ret;
    uint8_t sel[4], *out;
    size_t out_len;
    uint64_t before, after, want = 0;
    char want_text[32];
    ct_rpc *rpc;
    (void)state;

    ct_address probe = deploy_probe(s, "store", &store);
    ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
    ctt_ok(ct_rpc_get_tx_count(rpc, &before, ct_sender_address(s), "latest"));
    for (int k = 0; k < 8; k++) {
        w[k] = (struct queue_worker){.s = s, .probe = &probe, .store = store, .id = k};
        assert_int_equal(pthread_create(&t[k], NULL, queue_send, &w[k]), 0);
    }
    for (int k = 0; k < 8; k++)
        pthread_join(t[k], NULL);
    for (int k = 0; k < 8; k++) {
        if (w[k].other)
            fail_msg("thread %d: %d unexpected outcomes, first: %s", k, w[k].other, w[k].error);
        assert_int_equal(w[k].ok, 17); /* i % 7 == 3 for i = 3, 10, 17 */
        assert_int_equal(w[k].reverted, 3);
        want += w[k].sum;
    }
    /* Only Hardhat mines the 24 reverting calls (see deploy_call_logs).
     * The sends did not wait for their blocks: anvil may still be
     * committing the last one, so wait for the count, then check that it
     * is exactly that (no send twice). */
    uint64_t sent = ctt_chain_mines_reverts() ? 160 : 136;
    for (int tries = 0; tries < 100; tries++) {
        ctt_ok(ct_rpc_get_tx_count(rpc, &after, ct_sender_address(s), "latest"));
        if (after - before >= sent)
            break;
        ct_sleep_ms(50);
    }
    ct_sleep_ms(200);
    ctt_ok(ct_rpc_get_tx_count(rpc, &after, ct_sender_address(s), "latest"));
    assert_int_equal(after - before, sent);

    /* total() adds up the successful calls only. */
    ctt_ok(ct_abi_sig_parse(&total, "total()"));
    ctt_ok(ct_abi_selector(sel, total));
    callobj = json_pack("{s:o, s:o}", "to", ct_json_hex(probe.b, 20), "data", ct_json_hex(sel, 4));
    ctt_ok(ct_rpc_call_contract(rpc, &out, &out_len, callobj, "latest"));
    ctt_ok(ct_abi_type_parse(&ret, "(uint256)"));
    ctt_ok(ct_abi_decode(&r, ret, out, out_len));
    snprintf(want_text, sizeof(want_text), "%llu", (unsigned long long)want);
    assert_string_equal(json_string_value(json_array_get(r, 0)), want_text);
    json_decref(r);
    ct_abi_type_free(ret);
    ct_abi_sig_free(total);
    free(out);
    json_decref(callobj);
    ct_rpc_free(rpc);
    ct_abi_sig_free(store);
    ct_sender_free(s);
}

static void rpc_batch_and_errors(void **state)
{
    ct_rpc *rpc;
    json_t *calls, *res, *block;
    uint64_t n;
    (void)state;

    ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
    calls = json_pack("[[s, []], [s, []], [s, [s, b]]]", "eth_chainId", "eth_noSuchMethod",
                      "eth_getBlockByNumber", "0x0", 0);
    ctt_ok(ct_rpc_batch(rpc, &res, calls));
    assert_int_equal(json_array_size(res), 3);
    assert_string_equal(json_string_value(json_array_get(res, 0)), "0x7a69");
    assert_non_null(json_object_get(json_array_get(res, 1), "error"));
    assert_non_null(json_object_get(json_array_get(res, 2), "hash"));
    json_decref(res);
    json_decref(calls);
    ctt_ok(ct_rpc_block_number(rpc, &n));
    assert_int_equal(ct_rpc_get_block_by_number(rpc, &block, "0xffffff", false), CT_ENOTFOUND);
    ct_u256 fee;
    ctt_ok(ct_rpc_gas_price(rpc, &fee));
    json_t *hist;
    ctt_ok(ct_rpc_fee_history(rpc, &hist, 2, "latest", NULL));
    assert_non_null(json_object_get(hist, "baseFeePerGas"));
    json_decref(hist);
    ct_rpc_free(rpc);

    /* Nothing listens on a fresh port: a transport error, quickly. The
     * message names the node by its origin only: credentials, path and
     * query (where providers put API keys) stay out of errors and logs. */
    uint16_t port;
    ctt_ok(ct_net_free_port(&port));
    ctt_ok(ct_rpc_new(&rpc, ctt_path("http://user:s3cret@127.0.0.1:%u/v3/KEY123?apikey=Q9", port),
                      2000));
    assert_int_equal(ct_rpc_block_number(rpc, &n), CT_ERPC);
    assert_non_null(strstr(ct_error_last(), ctt_path("http://127.0.0.1:%u", port)));
    assert_null(strstr(ct_error_last(), "s3cret"));
    assert_null(strstr(ct_error_last(), "KEY123"));
    assert_null(strstr(ct_error_last(), "Q9"));
    assert_string_equal(ct_rpc_origin(rpc), ctt_path("http://127.0.0.1:%u", port));
    ct_rpc_free(rpc);
    assert_int_equal(ct_rpc_new(&rpc, "ftp://user:s3cret@host/KEY123", 2000), CT_EINVAL);
    assert_null(strstr(ct_error_last(), "s3cret"));
    assert_null(strstr(ct_error_last(), "KEY123"));

    char origin[64];
    ct_url_origin(origin, sizeof(origin), "https://mainnet.example:8443/v3/KEY#x");
    assert_string_equal(origin, "https://mainnet.example:8443");
    ct_url_origin(origin, sizeof(origin), "127.0.0.1:8545?k=1");
    assert_string_equal(origin, "127.0.0.1:8545");
}

/* Calls of one shape whose gas depends on the argument (Probe.fill writes n
 * fresh slots), through a sender that does not ask to reuse estimates, as
 * the agents' does. Both are mined. On Hardhat, whose sends are mined
 * before the answer, the first estimate is remembered: the second call
 * runs out of gas on it, is mined as failed, and is sent again on a fresh
 * estimate (three nonces). Elsewhere each call is estimated (two). */
static void state_dependent_gas(void **state)
{
    ct_sender *s = new_sender(CTT_DEV_KEY2);
    json_t *values = NULL;
    ct_abi_sig *fill = NULL;
    uint8_t sel[4], *ret = NULL;
    size_t ret_len;
    uint64_t before, after;
    ct_send_result res;
    ct_rpc *rpc;
    ct_buf call;
    (void)state;

    ct_address probe = deploy_probe(s, "fill", &fill);
    ctt_ok(ct_abi_selector(sel, fill));
    ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
    ctt_ok(ct_rpc_get_tx_count(rpc, &before, ct_sender_address(s), "latest"));
    ct_buf_init(&call, 256);
    for (int n = 1; n <= 12; n += 11) {
        char text[16];
        snprintf(text, sizeof(text), "[%d]", n);
        ct_buf_reset(&call);
        ctt_ok(ct_buf_append(&call, sel, 4));
        ctt_ok(ct_json_parse(&values, text, strlen(text), 4));
        ctt_ok(ct_abi_encode(&call, fill->params, values));
        json_decref(values);
        ct_send_req req = {.to = &probe, .data = (uint8_t *)call.data, .data_len = call.len};
        ctt_ok(ct_sender_send(s, &res, &req, true));
        assert_true(res.success);
        ct_send_result_clear(&res);
    }
    ctt_ok(ct_rpc_get_tx_count(rpc, &after, ct_sender_address(s), "latest"));
    assert_int_equal(after - before, 2 + ctt_chain_mines_reverts());

    /* fills() == 13: each call took effect once. */
    char to_text[CT_ADDRESS_TEXT_SIZE], data_hex[11];
    uint8_t h[32];
    ct_address_format(to_text, &probe);
    ct_keccak256(h, "fills()", 7);
    ct_hex_encode(data_hex, sizeof(data_hex), h, 4, true);
    json_t *q = json_pack("{s:s, s:s}", "to", to_text, "data", data_hex);
    ctt_ok(ct_rpc_call_contract(rpc, &ret, &ret_len, q, "latest"));
    assert_int_equal(ret_len, 32);
    assert_int_equal(ret[31], 13);
    free(ret);
    json_decref(q);
    ct_rpc_free(rpc);
    ct_buf_free(&call);
    ct_abi_sig_free(fill);
    ct_sender_free(s);
}

/* A node that lost a mined transaction (evm_revert stands for a node that
 * came back behind after a crash). With an outbox, ct_sender_sync sends
 * it again and returns once the chain holds it, which then took effect
 * once. Without one, the sync reports it lost and returns at once, and
 * the next send takes the lost nonce (anvil would otherwise queue it
 * behind the gap for good). */
static void sync_after_a_lost_transaction(void **state)
{
    ct_sender_opts opts = {0};
    ct_sender *s = NULL;
    ct_send_result res;
    ct_u256 bal, want;
    ct_address to;
    uint8_t key[32], fresh[32];
    size_t len;
    ct_rpc *rpc;
    (void)state;

    ctt_ok(ct_hex_decode(key, 32, &len, ctt_dev_keys[3], strlen(ctt_dev_keys[3])));
    ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
    for (int with_outbox = 0; with_outbox < 2; with_outbox++) {
        json_t *snap = NULL, *ok = NULL, *params;
        ctt_ok(ct_seckey_generate(fresh));
        ctt_ok(ct_address_from_seckey(&to, fresh));
        ct_send_req req = {.to = &to};
        ct_u256_from_u64(&req.value, 777);
        opts.outbox_path = with_outbox ? ctt_path("%s/sync.outbox", ctt_tmpdir()) : NULL;
        ctt_ok(ct_sender_new(&s, node.url, key, &opts));
        ctt_ok(ct_sender_sync(s, 1000)); /* nothing outstanding */
        ctt_ok(ct_rpc_call(rpc, &snap, "evm_snapshot", NULL));
        ctt_ok(ct_sender_send(s, &res, &req, true));
        ct_send_result_clear(&res);
        params = json_pack("[O]", snap);
        ctt_ok(ct_rpc_call(rpc, &ok, "evm_revert", params));
        assert_true(json_is_true(ok));
        json_decref(ok);
        json_decref(params);
        json_decref(snap);
        ctt_ok(ct_rpc_get_balance(rpc, &bal, &to, "latest"));
        assert_true(ct_u256_is_zero(&bal)); /* lost */
        /* Back before the sweeper's own re-send (10 s quiet) could do it. */
        int64_t t0 = ct_time_mono_ms();
        ctt_ok(ct_sender_sync(s, 20000));
        assert_true(ct_time_mono_ms() - t0 < 8000);
        ctt_ok(ct_rpc_get_balance(rpc, &bal, &to, "latest"));
        ct_u256_from_u64(&want, with_outbox ? 777 : 0);
        assert_int_equal(ct_u256_cmp(&bal, &want), 0);
        /* The sender goes on, and what the chain holds is there once. */
        ctt_ok(ct_sender_send(s, &res, &req, true));
        assert_true(res.mined && res.success);
        ct_send_result_clear(&res);
        ctt_ok(ct_rpc_get_balance(rpc, &bal, &to, "latest"));
        ct_u256_from_u64(&want, with_outbox ? 2 * 777 : 777);
        assert_int_equal(ct_u256_cmp(&bal, &want), 0);
        ct_sender_free(s);
    }
    ct_rpc_free(rpc);
}

/* Mines one block after 300 ms on its own connection: the node catching
 * up with a block another node has shown. */
static void *mine_later(void *arg)
{
    json_t *r = NULL;

    ct_sleep_ms(300);
    if (ct_rpc_call(arg, &r, "evm_mine", NULL) == 0)
        json_decref(r);
    return NULL;
}

struct behind_send {
    ct_sender *s;
    ct_send_req req;
    int rc;
};

static void *send_behind(void *arg)
{
    struct behind_send *b = arg;
    ct_send_result res;

    b->rc = ct_sender_send(b->s, &res, &b->req, false);
    ct_send_result_clear(&res);
    return NULL;
}

/* A send with min_block waits for its node to reach that block: past
 * behind_wait_ms it fails with nothing sent (the nonce is unused), and
 * once the block comes it is checked and sent as usual. Hardhat, which
 * runs each send on its state as it is and answers with the outcome, is
 * not waited for. */
static void min_block_waits(void **state)
{
    ct_sender_opts opts = {.behind_wait_ms = 400};
    uint64_t head, before, after;
    ct_send_result res;
    ct_address to;
    uint8_t key[32];
    size_t len;
    ct_sender *s;
    ct_rpc *rpc, *miner;
    pthread_t t;
    (void)state;

    ctt_ok(ct_hex_decode(key, 32, &len, ctt_dev_keys[2], strlen(ctt_dev_keys[2])));
    ctt_ok(ct_sender_new(&s, node.url, key, &opts));
    ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
    ctt_ok(ct_rpc_new(&miner, node.url, 5000));
    memset(&to, 0x33, sizeof(to));
    ct_send_req req = {.to = &to};
    ct_u256_from_u64(&req.value, 5);
    ctt_ok(ct_rpc_block_number(rpc, &head));
    ctt_ok(ct_rpc_get_tx_count(rpc, &before, ct_sender_address(s), "pending"));

    req.min_block = head + 1;
    if (ctt_chain_mines_reverts()) {
        ctt_ok(ct_sender_send(s, &res, &req, false));
        ct_send_result_clear(&res);
        ct_sender_free(s);
        ct_rpc_free(miner);
        ct_rpc_free(rpc);
        return;
    }
    int64_t t0 = ct_time_mono_ms();
    assert_int_equal(ct_sender_send(s, &res, &req, false), CT_EBEHIND);
    assert_true(ct_time_mono_ms() - t0 >= 400);
    assert_non_null(strstr(ct_error_last(), "nothing was sent"));
    ct_send_result_clear(&res);
    ctt_ok(ct_rpc_get_tx_count(rpc, &after, ct_sender_address(s), "pending"));
    assert_int_equal(after, before);

    /* A send that waits holds up no other: one without min_block goes
     * meanwhile (its block, head + 1, leaves the other still behind). */
    ct_sender_free(s);
    opts.behind_wait_ms = 3000;
    ctt_ok(ct_sender_new(&s, node.url, key, &opts));
    struct behind_send b = {.s = s, .req = req};
    b.req.min_block = head + 3;
    assert_int_equal(pthread_create(&t, NULL, send_behind, &b), 0);
    ct_sleep_ms(300);
    ct_send_req now = req;
    now.min_block = 0;
    t0 = ct_time_mono_ms();
    ctt_ok(ct_sender_send(s, &res, &now, true));
    assert_true(ct_time_mono_ms() - t0 < 2000);
    ct_send_result_clear(&res);
    pthread_join(t, NULL);
    assert_int_equal(b.rc, CT_EBEHIND);
    ctt_ok(ct_rpc_get_tx_count(rpc, &after, ct_sender_address(s), "pending"));
    assert_int_equal(after, before + 1);

    /* The block comes while the send waits. */
    ct_sender_free(s);
    opts.behind_wait_ms = 20000;
    ctt_ok(ct_sender_new(&s, node.url, key, &opts));
    assert_int_equal(pthread_create(&t, NULL, mine_later, miner), 0);
    ctt_ok(ct_sender_send(s, &res, &req, true));
    assert_true(res.mined && res.success);
    assert_true(res.block >= head + 2);
    ct_send_result_clear(&res);
    pthread_join(t, NULL);
    ct_sender_free(s);
    ct_rpc_free(miner);
    ct_rpc_free(rpc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transfer),
        cmocka_unit_test(deploy_call_logs),
        cmocka_unit_test(restart),
        cmocka_unit_test(two_threads),
        cmocka_unit_test(eight_threads),
        cmocka_unit_test(rpc_batch_and_errors),
        cmocka_unit_test(state_dependent_gas),
        cmocka_unit_test(sync_after_a_lost_transaction),
        cmocka_unit_test(min_block_waits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
