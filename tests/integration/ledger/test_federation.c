/* The Federation contract on a real Hardhat node, driven through the
 * embedded ABI: DC registration (open and consortium), VC registration and
 * its tag, availability, migration intent and confirmation with their
 * access rules, retirement, batch registration, and event decoding. */
#include "harness.h"

#include "catena/ledger.h"

static ct_devnode node;
static ct_ledger *ledger;

/* Hardhat dev accounts #0 (admin), #1 (DC1), #2 (DC2), #3 (outsider). */
static int setup(void **state)
{
    (void)state;
    ctt_node_start(&node);
    return ct_ledger_open(&ledger) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    ct_ledger_free(ledger);
    ctt_node_stop(&node);
    return 0;
}

static ct_sender *sender(int i)
{
    return ctt_sender(node.url, ctt_dev_keys[i]);
}

/* Calls function(args as JSON text) on the contract from s.
 * Returns the sender's result; *res keeps the receipt. */
static int call(ct_sender *s, ct_send_result *res, const ct_address *contract, const char *function,
                const char *args_json)
{
    json_t *args;
    ct_buf data;
    int rc;

    ctt_ok(ct_json_parse(&args, args_json, strlen(args_json), 16));
    ct_buf_init(&data, 1 << 20);
    ctt_ok(ct_ledger_encode_call(ledger, &data, function, args));
    ct_send_req req = {.to = contract, .data = (uint8_t *)data.data, .data_len = data.len};
    rc = ct_sender_send(s, res, &req, true);
    ct_buf_free(&data);
    json_decref(args);
    return rc;
}

/* Expects success and returns the only Federation event of the receipt. */
static json_t *call_ok(ct_sender *s, const ct_address *c, const char *fn, const char *args,
                       const char *want_event)
{
    ct_send_result res;
    const char *name;
    json_t *ev = NULL, *logs;

    if (call(s, &res, c, fn, args) < 0)
        fail_msg("%s(%s): %s", fn, args, ct_error_last());
    logs = json_object_get(res.receipt, "logs");
    assert_int_equal(json_array_size(logs), 1);
    ctt_ok(ct_ledger_decode_log(ledger, &name, &ev, json_array_get(logs, 0)));
    assert_string_equal(name, want_event);
    ct_send_result_clear(&res);
    return ev;
}

static void call_reverts(ct_sender *s, const ct_address *c, const char *fn, const char *args,
                         const char *reason)
{
    ct_send_result res;
    int rc = call(s, &res, c, fn, args);

    if (rc != CT_EREVERT || strstr(ct_error_last(), reason) == NULL)
        fail_msg("%s(%s): expected a revert with '%s', got %d: %s", fn, args, reason, rc,
                 ct_error_last());
    ct_send_result_clear(&res);
}

static const char *addr_text(ct_sender *s)
{
    static char out[4][CT_ADDRESS_TEXT_SIZE];
    static int next;
    char *p = out[next++ % 4];
    ct_address_format(p, ct_sender_address(s));
    return p;
}

static void seed_flow(void **state)
{
    ct_sender *admin = sender(0), *dc1 = sender(1), *dc2 = sender(2), *other = sender(3);
    ct_address fed;
    uint64_t block;
    json_t *ev;
    char args[1024], tag_hex[67];
    uint8_t tag[32];
    (void)state;

    ctt_ok(ct_ledger_deploy(ledger, admin, true, &fed, &block));
    assert_true(block > 0);
    ev = call_ok(dc1, &fed, "registerDatacenter", "[\"DC1\"]", "DatacenterRegistered");
    assert_string_equal(json_string_value(json_object_get(ev, "name")), "DC1");
    assert_string_equal(json_string_value(json_object_get(ev, "wallet")), addr_text(dc1));
    json_decref(ev);
    json_decref(call_ok(dc2, &fed, "registerDatacenter", "[\"DC2\"]", "DatacenterRegistered"));
    call_reverts(other, &fed, "registerDatacenter", "[\"DC1\"]", "name taken");
    call_reverts(dc1, &fed, "registerDatacenter", "[\"DC1b\"]", "already registered");

    /* Listing 5's VM, with vram 1024 (the seed's uint8 could not hold it). */
    static const char vm[] = "[\"openstack:vm\", true, 1, 1024, 10, "
                             "\"b55f090c-67f0-4691-a736-104ebe82c2e9\", \"http://10.0.9.39\", "
                             "\"http://10.0.9.2\", 1536677183]";
    call_reverts(other, &fed, "registerContainer", vm, "not a registered datacenter");
    ev = call_ok(dc1, &fed, "registerContainer", vm, "ContainerRegistered");
    ct_ledger_vc_tag(tag, "openstack:vm", "b55f090c-67f0-4691-a736-104ebe82c2e9",
                     ct_sender_address(dc1), 1536677183);
    ct_hex_encode(tag_hex, sizeof(tag_hex), tag, 32, true);
    assert_string_equal(json_string_value(json_object_get(ev, "vcTag")), tag_hex);
    assert_string_equal(json_string_value(json_object_get(ev, "vram")), "1024");
    assert_string_equal(json_string_value(json_object_get(ev, "owner")), addr_text(dc1));
    json_decref(ev);
    call_reverts(dc1, &fed, "registerContainer", vm, "already registered");

    /* Availability: host only. */
    snprintf(args, sizeof(args), "[\"%s\", false, 1536829690]", tag_hex);
    call_reverts(dc2, &fed, "changeAvailability", args, "not the host");
    json_decref(call_ok(dc1, &fed, "changeAvailability", args, "ContainerAvailabilityChanged"));

    /* Migration DC1 -> DC2 at price 5, invoice 13. */
    snprintf(args, sizeof(args), "[\"%s\", \"%s\", 5, 13, 1536830928]", tag_hex, addr_text(dc2));
    call_reverts(dc2, &fed, "migrationPending", args, "not the host");
    ev = call_ok(dc1, &fed, "migrationPending", args, "ContainerMigrationPending");
    assert_string_equal(json_string_value(json_object_get(ev, "to")), addr_text(dc2));
    json_decref(ev);
    snprintf(args, sizeof(args),
             "[\"%s\", \"c55f090c-67f0-4784-a736-215ebeb2c2e9\", \"http://10.9.0.12\", "
             "\"http://10.9.0.1\", %d, 13, 1536832128]",
             tag_hex, 6);
    call_reverts(dc2, &fed, "migrateContainer", args, "does not match");
    snprintf(args, sizeof(args),
             "[\"%s\", \"c55f090c-67f0-4784-a736-215ebeb2c2e9\", \"http://10.9.0.12\", "
             "\"http://10.9.0.1\", 5, 13, 1536832128]",
             tag_hex);
    call_reverts(dc1, &fed, "migrateContainer", args, "not the migration target");
    ev = call_ok(dc2, &fed, "migrateContainer", args, "ContainerMigrated");
    assert_string_equal(json_string_value(json_object_get(ev, "from")), addr_text(dc1));
    assert_string_equal(json_string_value(json_object_get(ev, "id")),
                        "c55f090c-67f0-4784-a736-215ebeb2c2e9");
    json_decref(ev);
    call_reverts(dc2, &fed, "migrateContainer", args, "no pending migration");

    /* DC2 is now the host: DC1 can no longer change it. */
    snprintf(args, sizeof(args), "[\"%s\", true, 1536832200]", tag_hex);
    call_reverts(dc1, &fed, "changeAvailability", args, "not the host");
    json_decref(call_ok(dc2, &fed, "changeAvailability", args, "ContainerAvailabilityChanged"));

    /* The contract's own view agrees (eth_call + decoded result). */
    ct_rpc *rpc;
    ct_buf data;
    uint8_t *out;
    size_t out_len;
    json_t *targs, *callobj, *result;
    ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
    ct_buf_init(&data, 4096);
    targs = json_pack("[s]", tag_hex);
    ctt_ok(ct_ledger_encode_call(ledger, &data, "container", targs));
    callobj = json_pack("{s:o, s:o}", "to", ct_json_hex(fed.b, 20), "data",
                        ct_json_hex((uint8_t *)data.data, data.len));
    ctt_ok(ct_rpc_call_contract(rpc, &out, &out_len, callobj, "latest"));
    ctt_ok(ct_ledger_decode_result(ledger, &result, "container", out, out_len));
    /* Container(host, created, available, retired): the details are in
     * the events only. */
    json_t *c = json_array_get(result, 0);
    assert_string_equal(json_string_value(json_array_get(c, 0)), addr_text(dc2));
    assert_string_equal(json_string_value(json_array_get(c, 1)), "1536677183");
    assert_true(json_is_true(json_array_get(c, 2)));
    assert_true(json_is_false(json_array_get(c, 3)));
    json_decref(result);
    free(out);
    json_decref(callobj);
    json_decref(targs);
    ct_buf_free(&data);
    ct_rpc_free(rpc);

    /* Retirement: host only, then nothing more can change. */
    snprintf(args, sizeof(args), "[\"%s\", 1536900000]", tag_hex);
    call_reverts(dc1, &fed, "retireContainer", args, "not the host");
    json_decref(call_ok(dc2, &fed, "retireContainer", args, "ContainerRetired"));
    snprintf(args, sizeof(args), "[\"%s\", true, 1536900001]", tag_hex);
    call_reverts(dc2, &fed, "changeAvailability", args, "retired");

    ct_sender_free(admin);
    ct_sender_free(dc1);
    ct_sender_free(dc2);
    ct_sender_free(other);
}

static void consortium_and_batch(void **state)
{
    ct_sender *admin = sender(0), *dc = sender(3);
    ct_address fed;
    uint64_t block;
    ct_send_result res;
    char args[256];
    (void)state;

    ctt_ok(ct_ledger_deploy(ledger, admin, false, &fed, &block));
    call_reverts(dc, &fed, "registerDatacenter", "[\"DC9\"]", "not admitted");
    snprintf(args, sizeof(args), "[\"%s\"]", addr_text(dc));
    call_reverts(dc, &fed, "admitDatacenter", args, "only the federation admin");
    json_decref(call_ok(admin, &fed, "admitDatacenter", args, "DatacenterAdmitted"));
    json_decref(call_ok(dc, &fed, "registerDatacenter", "[\"DC9\"]", "DatacenterRegistered"));

    /* 40 VCs in one transaction: 40 events. */
    ct_buf list;
    ct_buf_init(&list, 1 << 20);
    ctt_ok(ct_buf_append(&list, "[[", 2));
    for (int i = 0; i < 40; i++)
        ctt_ok(ct_buf_appendf(&list,
                              "%s[\"docker:container\", true, 2, 2048, 20, \"c-%d\", "
                              "\"http://10.1.0.%d\", \"http://10.1.0.1\", %d]",
                              i ? "," : "", i, i + 2, 1700000000 + i));
    ctt_ok(ct_buf_append(&list, "]]", 2));
    ctt_ok(call(dc, &res, &fed, "registerContainers", list.data));
    json_t *logs = json_object_get(res.receipt, "logs");
    assert_int_equal(json_array_size(logs), 40);
    const char *name;
    json_t *ev;
    ctt_ok(ct_ledger_decode_log(ledger, &name, &ev, json_array_get(logs, 39)));
    assert_string_equal(name, "ContainerRegistered");
    assert_string_equal(json_string_value(json_object_get(ev, "id")), "c-39");
    json_decref(ev);
    ct_send_result_clear(&res);

    /* The gateway's largest batch (API_MAX_BATCH, 200) with every string
     * at the agent's 256-byte limit still fits one transaction, with the
     * sender's quarter of margin, under Hardhat's 2^24 gas cap. */
    char s256[257];
    memset(s256, 'x', 256);
    s256[256] = '\0';
    ct_buf_reset(&list);
    ctt_ok(ct_buf_append(&list, "[[", 2));
    for (int i = 0; i < 200; i++)
        ctt_ok(ct_buf_appendf(&list,
                              "%s[\"%s\", true, 2, 2048, 20, \"%03d%.253s\", \"%s\", \"%s\", %d]",
                              i ? "," : "", s256, i, s256, s256, s256, 1700000000 + i));
    ctt_ok(ct_buf_append(&list, "]]", 2));
    ctt_ok(call(dc, &res, &fed, "registerContainers", list.data));
    assert_int_equal(json_array_size(json_object_get(res.receipt, "logs")), 200);
    assert_true(res.gas_used + res.gas_used / 4 < (1u << 24));
    ct_send_result_clear(&res);
    ct_buf_free(&list);
    ct_sender_free(admin);
    ct_sender_free(dc);
}

/* One VC as registerContainer's argument array (JSON text). */
static void vc_json(ct_buf *b, const char *type, const char *id, const char *ip, const char *ctl,
                    long long created, bool available)
{
    ctt_ok(ct_buf_appendf(b, "[\"%s\", %s, 4, 8192, 80, \"%s\", \"%s\", \"%s\", %lld]", type,
                          available ? "true" : "false", id, ip, ctl, created));
}

/* Sends raw calldata (for inputs our ABI encoder refuses to build). */
static int call_raw(ct_sender *s, const ct_address *contract, const uint8_t *data, size_t len)
{
    ct_send_result res;
    ct_send_req req = {.to = contract, .data = data, .data_len = len};
    int rc = ct_sender_send(s, &res, &req, true);
    ct_send_result_clear(&res);
    return rc;
}

/* The contract builds ContainerRegistered's data in assembly: for VCs with
 * strings of 0 to 256 bytes it must be exactly what our ABI encoder makes
 * of the event's fields, the same whether registered one by one or in a
 * batch; storage must match; bad input is refused as the compiler's ABI
 * decoder would, and a refused batch leaves nothing. */
static void batch_matches_single(void **state)
{
    ct_sender *admin = sender(0), *dc1 = sender(1), *dc2 = sender(2);
    static const char *const ids[] = {"a", "b23456789012345678901234567890x",
                                      "c234567890123456789012345678901x",
                                      "d2345678901234567890123456789012x"};
    char s256[257], s64[65], created_text[24];
    ct_address fed;
    uint64_t block;
    ct_buf one, list;
    ct_send_result res;
    json_t *single_logs = json_array(), *batch_logs, *expected = json_array();
    const size_t n = sizeof(ids) / sizeof(ids[0]);
    ct_abi_sig *data_sig;
    (void)state;

    ctt_ok(ct_abi_sig_parse(&data_sig, "data(uint256,string,string,string,string,uint32,uint32,"
                                       "uint32,bool)"));
    memset(s256, 'p', 256);
    s256[256] = '\0';
    memset(s64, 'q', 64);
    s64[64] = '\0';
    ctt_ok(ct_ledger_deploy(ledger, admin, true, &fed, &block));
    json_decref(call_ok(dc1, &fed, "registerDatacenter", "[\"B1\"]", "DatacenterRegistered"));
    json_decref(call_ok(dc2, &fed, "registerDatacenter", "[\"B2\"]", "DatacenterRegistered"));

    /* The same VCs (string lengths 0, 1, 31, 32, 33, 64, 256) one by one
     * from DC1 and in one batch from DC2. */
    ct_buf_init(&one, 1 << 16);
    ct_buf_init(&list, 1 << 20);
    ctt_ok(ct_buf_append(&list, "[[", 2));
    for (size_t i = 0; i < n; i++) {
        const char *ip = i == 0 ? "" : i == 1 ? s64 : "http://10.0.0.1";
        const char *ctl = i == 2 ? s256 : i == 3 ? "" : "c";
        ct_buf_reset(&one);
        vc_json(&one, i == 3 ? s256 : "openstack:vm", ids[i], ip, ctl, 1700000000 + (long long)i,
                i % 2 == 0);
        /* The event's non-indexed fields, encoded independently. */
        json_t *vals =
            json_pack("[I, s, s, s, s, i, i, i, b]", (json_int_t)(1700000000 + i),
                      i == 3 ? s256 : "openstack:vm", ids[i], ip, ctl, 4, 8192, 80, i % 2 == 0);
        ct_buf enc;
        ct_buf_init(&enc, 1 << 16);
        ctt_ok(ct_abi_encode(&enc, data_sig->params, vals));
        json_array_append_new(expected, ct_json_hex((uint8_t *)enc.data, enc.len));
        ct_buf_free(&enc);
        json_decref(vals);
        ctt_ok(call(dc1, &res, &fed, "registerContainer", one.data));
        json_array_append(single_logs, json_array_get(json_object_get(res.receipt, "logs"), 0));
        ct_send_result_clear(&res);
        ctt_ok(ct_buf_appendf(&list, "%s%s", i ? "," : "", one.data));
    }
    ctt_ok(ct_buf_append(&list, "]]", 2));
    ctt_ok(call(dc2, &res, &fed, "registerContainers", list.data));
    batch_logs = json_object_get(res.receipt, "logs");
    assert_int_equal(json_array_size(batch_logs), n);
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_array_get(single_logs, i), *b = json_array_get(batch_logs, i);
        json_t *ta = json_object_get(a, "topics"), *tb = json_object_get(b, "topics");
        const char *name;
        json_t *ev;
        uint8_t tag[32];
        char tag_hex[67], owner[CT_ADDRESS_TEXT_SIZE];

        assert_string_equal(json_string_value(json_object_get(a, "data")),
                            json_string_value(json_array_get(expected, i)));
        assert_string_equal(json_string_value(json_object_get(b, "data")),
                            json_string_value(json_array_get(expected, i)));
        assert_string_equal(json_string_value(json_array_get(ta, 0)),
                            json_string_value(json_array_get(tb, 0)));
        ctt_ok(ct_ledger_decode_log(ledger, &name, &ev, b));
        assert_string_equal(name, "ContainerRegistered");
        ct_ledger_vc_tag(tag, json_string_value(json_object_get(ev, "vcType")), ids[i],
                         ct_sender_address(dc2), 1700000000 + i);
        ct_hex_encode(tag_hex, sizeof(tag_hex), tag, 32, true);
        assert_string_equal(json_string_value(json_object_get(ev, "vcTag")), tag_hex);
        ct_address_format(owner, ct_sender_address(dc2));
        assert_string_equal(json_string_value(json_object_get(ev, "owner")), owner);
        json_decref(ev);

        /* Storage as the compiled path leaves it: the container() view. */
        ct_buf data;
        ct_rpc *rpc;
        uint8_t *out;
        size_t out_len;
        json_t *targs = json_pack("[s]", tag_hex), *callobj, *result, *c;
        ct_buf_init(&data, 4096);
        ctt_ok(ct_ledger_encode_call(ledger, &data, "container", targs));
        callobj = json_pack("{s:o, s:o}", "to", ct_json_hex(fed.b, 20), "data",
                            ct_json_hex((uint8_t *)data.data, data.len));
        ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
        ctt_ok(ct_rpc_call_contract(rpc, &out, &out_len, callobj, "latest"));
        ctt_ok(ct_ledger_decode_result(ledger, &result, "container", out, out_len));
        c = json_array_get(result, 0);
        assert_string_equal(json_string_value(json_array_get(c, 0)), owner);
        snprintf(created_text, sizeof(created_text), "%lld", 1700000000 + (long long)i);
        assert_string_equal(json_string_value(json_array_get(c, 1)), created_text);
        assert_true(json_is_true(json_array_get(c, 2)) == (i % 2 == 0));
        assert_true(json_is_false(json_array_get(c, 3)));
        json_decref(result);
        free(out);
        json_decref(callobj);
        json_decref(targs);
        ct_rpc_free(rpc);
        ct_buf_free(&data);
    }
    ct_send_result_clear(&res);
    json_decref(single_logs);
    json_decref(expected);
    ct_abi_sig_free(data_sig);

    /* The same refusals as registerContainer, and nothing of a refused
     * batch stays: its first VC can still be registered afterwards. */
    static const struct {
        const char *second;
        const char *reason;
    } bad[] = {
        {"[\"openstack:vm\", true, 1, 1, 1, \"a\", \"\", \"\", 1700000000]", "already registered"},
        {"[\"openstack:vm\", true, 1, 1, 1, \"\", \"\", \"\", 1]", "id is empty"},
        {"[\"\", true, 1, 1, 1, \"x\", \"\", \"\", 1]", "vcType is empty"},
        {"[\"openstack:vm\", true, 1, 1, 1, \"x\", \"\", \"\", \"18446744073709551616\"]",
         "created out of range"},
        {"[\"openstack:vm\", true, 1, 1, 1, \"fresh\", \"\", \"\", 5]", "already registered"},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        ct_buf_reset(&list);
        ctt_ok(ct_buf_appendf(&list,
                              "[[[\"openstack:vm\", true, 1, 1, 1, \"fresh\", \"\", \"\", 5], %s]]",
                              bad[k].second));
        call_reverts(dc2, &fed, "registerContainers", list.data, bad[k].reason);
    }

    /* Values the ABI decoder would refuse: a uint32 with high bits set, a
     * bool of 2, a string running past the end of the calldata. */
    ct_abi_sig *wide;
    uint8_t sel[4];
    json_t *args;
    ct_buf raw;
    ctt_ok(ct_abi_sig_parse(&wide, "registerContainers((string,uint256,uint256,uint32,uint32,"
                                   "string,string,string,uint256)[])"));
    ct_buf_init(&raw, 1 << 16);
    ct_buf_reset(&list);
    args = json_pack("[[]]");
    ctt_ok(ct_ledger_encode_call(ledger, &list, "registerContainers", args));
    json_decref(args);
    memcpy(sel, list.data, 4);
    for (int k = 0; k < 3; k++) {
        const char *v = k == 0   ? "[[[\"t\", 1, 4294967296, 1, 1, \"w\", \"\", \"\", 1]]]"
                        : k == 1 ? "[[[\"t\", 2, 1, 1, 1, \"w\", \"\", \"\", 1]]]"
                                 : "[[[\"t\", 1, 1, 1, 1, \"w\", \"\", \"\", 1]]]";
        ctt_ok(ct_json_parse(&args, v, strlen(v), 16));
        ct_buf_reset(&raw);
        ctt_ok(ct_buf_append(&raw, sel, 4));
        ctt_ok(ct_abi_encode(&raw, wide->params, args));
        json_decref(args);
        if (k == 2)
            raw.len -= 32; /* the last string's bytes are cut off */
        int rc = call_raw(dc2, &fed, (uint8_t *)raw.data, raw.len);
        if (rc != CT_EREVERT || strstr(ct_error_last(), "malformed VC input") == NULL)
            fail_msg("raw input %d: expected 'malformed VC input', got %d: %s", k, rc,
                     ct_error_last());
    }
    ct_buf_free(&raw);
    ct_abi_sig_free(wide);
    ct_buf_reset(&list);
    ctt_ok(
        ct_buf_appendf(&list, "[[[\"openstack:vm\", true, 1, 1, 1, \"fresh\", \"\", \"\", 5]]]"));
    ctt_ok(call(dc2, &res, &fed, "registerContainers", list.data));
    ct_send_result_clear(&res);
    ct_buf_free(&one);
    ct_buf_free(&list);
    ct_sender_free(admin);
    ct_sender_free(dc1);
    ct_sender_free(dc2);
}

static void foreign_logs(void **state)
{
    const char *name;
    json_t *ev, *log;
    (void)state;

    log = json_pack("{s:[s], s:s}", "topics",
                    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef", "data",
                    "0x");
    assert_int_equal(ct_ledger_decode_log(ledger, &name, &ev, log), CT_ENOTFOUND);
    json_decref(log);
    log = json_pack("{s:[s]}", "topics", "0x12");
    assert_int_equal(ct_ledger_decode_log(ledger, &name, &ev, log), CT_EPARSE);
    json_decref(log);
    ct_buf b;
    ct_buf_init(&b, 64);
    json_t *args = json_pack("[]");
    assert_int_equal(ct_ledger_encode_call(ledger, &b, "noSuchFunction", args), CT_ENOTFOUND);
    assert_int_equal(ct_ledger_encode_call(ledger, &b, "registerDatacenter", args), CT_EINVAL);
    json_decref(args);
    ct_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_flow),
        cmocka_unit_test(consortium_and_batch),
        cmocka_unit_test(batch_matches_single),
        cmocka_unit_test(foreign_logs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
