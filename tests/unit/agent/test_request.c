/* The agent's request validation (ct_agent_parse_request), data driven:
 * each request of the protocol becomes the expected contract call, and
 * each kind of bad input is refused with a message naming the field. Also
 * the token list: parsing, constant-time checks and its refusals. */
#include "harness.h"

#include "catena/agent.h"
#include "catena/crypto.h"

#define DC1_WALLET "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
#define DC2_WALLET "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
#define TAG "0x7a9f1c1b5c0e1e5d2a5fd6b2c5e0c4f1d8a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9"
/* 2018-09-13T09:28:48Z, the default timestamp of pending_migrate here. */
#define NOW_MS 1536830928000LL

typedef struct ok_case {
    const char *request;
    const char *function;
    const char *args; /* JSON */
} ok_case;

static const ok_case ok_cases[] = {
    {"{\"method\":\"register_datacenter\",\"_request_id\":\"r1\",\"token\":\"t\"}",
     "registerDatacenter", "[\"DC1\"]"},
    {"{\"method\":\"register_datacenter\",\"name\":\"DC1\"}", "registerDatacenter", "[\"DC1\"]"},
    /* Listing 5's VM with vram 1024; the datetime becomes Unix seconds. */
    {"{\"method\":\"register_container\",\"_request_id\":\"r2\",\"token\":\"t\","
     "\"vc_type\":\"openstack:vm\",\"available\":true,\"vcpu\":1,\"vram\":1024,\"vdisk\":10,"
     "\"id\":\"b55f090c-67f0-4691-a736-104ebe82c2e9\",\"ip_address\":\"http://10.0.9.39\","
     "\"controller\":\"http://10.0.9.2\",\"created\":\"2018-09-11T14:46:23.470Z\"}",
     "registerContainer",
     "[\"openstack:vm\", true, 1, 1024, 10, \"b55f090c-67f0-4691-a736-104ebe82c2e9\","
     " \"http://10.0.9.39\", \"http://10.0.9.2\", 1536677183]"},
    {"{\"method\":\"register_containers\",\"containers\":[{\"vc_type\":\"docker:container\","
     "\"available\":false,\"vcpu\":4294967295,\"vram\":0,\"vdisk\":1,\"id\":\"c-1\","
     "\"ip_address\":\"\",\"controller\":\"\",\"created\":\"2018-09-11T16:46:23+02:00\"}]}",
     "registerContainers",
     "[[[\"docker:container\", false, 4294967295, 0, 1, \"c-1\", \"\", \"\", 1536677183]]]"},
    /* Table 16 has no timestamp: the agent's clock fills it in. */
    {"{\"method\":\"pending_migrate\",\"vc_tag\":\"" TAG "\",\"to_address\":\"" DC2_WALLET
     "\",\"price\":5,\"invoice\":13,\"from_address\":\"" DC1_WALLET "\"}",
     "migrationPending", "[\"" TAG "\", \"" DC2_WALLET "\", \"5\", \"13\", 1536830928]"},
    /* Lowercase addresses, prices as strings past 2^64, an explicit time. */
    {"{\"method\":\"pending_migrate\",\"vc_tag\":\"" TAG "\","
     "\"to_address\":\"0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc\","
     "\"price\":\"100000000000000000000\",\"invoice\":\"0x10\","
     "\"timestamp\":\"2018-09-13T09:28:48Z\"}",
     "migrationPending",
     "[\"" TAG "\", \"" DC2_WALLET "\", \"100000000000000000000\", \"16\", 1536830928]"},
    {"{\"method\":\"migrate_container\",\"vc_tag\":\"" TAG "\","
     "\"id\":\"c55f090c-67f0-4784-a736-215ebeb2c2e9\",\"ip_address\":\"http://10.9.0.12\","
     "\"controller\":\"http://10.9.0.1\",\"price\":5,\"invoice\":13,"
     "\"timestamp\":\"2018-09-13T09:48:48.000Z\"}",
     "migrateContainer",
     "[\"" TAG "\", \"c55f090c-67f0-4784-a736-215ebeb2c2e9\", \"http://10.9.0.12\","
     " \"http://10.9.0.1\", \"5\", \"13\", 1536832128]"},
    {"{\"method\":\"change_availability\",\"vc_tag\":\"" TAG "\",\"status\":false,"
     "\"timestamp\":\"2018-09-13T09:08:10Z\"}",
     "changeAvailability", "[\"" TAG "\", false, 1536829690]"},
    {"{\"method\":\"retire\",\"vc_tag\":\"" TAG "\",\"timestamp\":\"1970-01-01T00:00:00Z\"}",
     "retireContainer", "[\"" TAG "\", 0]"},
    {"{\"method\":\"set_attributes\",\"attributes\":{\"region\":\"eu-west\",\"gdpr\":\"true\"}}",
     "setDatacenterAttributes", "[[\"region\", \"gdpr\"], [\"eu-west\", \"true\"]]"},
    {"{\"method\":\"set_attributes\",\"attributes\":{}}", "setDatacenterAttributes", "[[], []]"},
};

typedef struct bad_case {
    const char *request;
    int code;
    const char *message; /* a substring of the error */
} bad_case;

#define VM_FIELDS                                                                                  \
    "\"vc_type\":\"openstack:vm\",\"available\":true,\"vcpu\":1,\"vram\":1024,\"vdisk\":10,"       \
    "\"id\":\"x\",\"ip_address\":\"\",\"controller\":\"\""

static const bad_case bad_cases[] = {
    {"[]", CT_EINVAL, "JSON object"},
    {"{}", CT_EINVAL, "'method' is required"},
    {"{\"method\":7}", CT_EINVAL, "'method' must be a string"},
    {"{\"method\":\"drop_tables\"}", CT_EINVAL, "unknown method 'drop_tables'"},
    {"{\"method\":\"register_datacenter\",\"name\":\"DC2\"}", CT_EINVAL, "not this agent's DC"},
    {"{\"method\":\"register_datacenter\",\"wallet\":\"x\"}", CT_EINVAL, "unknown field 'wallet'"},
    {"{\"method\":\"register_container\"," VM_FIELDS "}", CT_EINVAL, "'created' is required"},
    {"{\"method\":\"register_container\"," VM_FIELDS ",\"created\":\"yesterday\"}", CT_EINVAL,
     "field 'created': time:"},
    {"{\"method\":\"register_container\"," VM_FIELDS ",\"created\":\"1969-12-31T23:59:59Z\"}",
     CT_EINVAL, "before 1970"},
    {"{\"method\":\"register_container\"," VM_FIELDS ",\"created\":1536677183}", CT_EINVAL,
     "'created' must be a string"},
    {"{\"method\":\"register_container\"," VM_FIELDS
     ",\"created\":\"2018-09-11T14:46:23Z\",\"host\":\"x\"}",
     CT_EINVAL, "unknown field 'host'"},
    {"{\"method\":\"register_container\",\"vc_type\":\"openstack:vm\",\"available\":\"yes\"}",
     CT_EINVAL, "'available' must be a boolean"},
    {"{\"method\":\"register_container\",\"vc_type\":\"\",\"available\":true}", CT_EINVAL,
     "'vc_type' must be 1 to 256 bytes"},
    {"{\"method\":\"register_container\",\"vc_type\":\"vm\",\"available\":true,\"vcpu\":-1}",
     CT_EINVAL, "'vcpu' must be between 0 and 4294967295"},
    {"{\"method\":\"register_container\",\"vc_type\":\"vm\",\"available\":true,"
     "\"vcpu\":4294967296}",
     CT_EINVAL, "'vcpu' must be between"},
    {"{\"method\":\"register_container\",\"vc_type\":\"vm\",\"available\":true,\"vcpu\":1.5}",
     CT_EINVAL, "'vcpu' must be an integer"},
    {"{\"method\":\"register_containers\",\"containers\":[]}", CT_EINVAL, "1 to 1000 objects"},
    {"{\"method\":\"register_containers\",\"containers\":{}}", CT_EINVAL, "1 to 1000 objects"},
    {"{\"method\":\"register_containers\",\"containers\":[{" VM_FIELDS
     ",\"created\":\"2018-09-11T14:46:23Z\"},{" VM_FIELDS ",\"created\":\"x\"}]}",
     CT_EINVAL, "containers[1]: field 'created'"},
    {"{\"method\":\"register_containers\",\"containers\":[{\"method\":\"x\"}]}", CT_EINVAL,
     "containers[0]: unknown field 'method'"},
    {"{\"method\":\"register_containers\",\"containers\":[7]}", CT_EINVAL,
     "containers[0]: expected a JSON object"},
    {"{\"method\":\"change_availability\",\"vc_tag\":\"0x1234\",\"status\":true,"
     "\"timestamp\":\"2018-09-13T09:08:10Z\"}",
     CT_EINVAL, "'vc_tag' must be 0x followed by 64 hex digits"},
    {"{\"method\":\"change_availability\",\"vc_tag\":"
     "\"0xzz9f1c1b5c0e1e5d2a5fd6b2c5e0c4f1d8a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9\"}",
     CT_EINVAL, "'vc_tag' must be 0x"},
    {"{\"method\":\"change_availability\",\"vc_tag\":"
     "\"7a9f1c1b5c0e1e5d2a5fd6b2c5e0c4f1d8a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9aa\"}",
     CT_EINVAL, "'vc_tag' must be 0x"},
    {"{\"method\":\"change_availability\",\"vc_tag\":\"" TAG "\",\"status\":true}", CT_EINVAL,
     "'timestamp' is required"},
    {"{\"method\":\"pending_migrate\",\"vc_tag\":\"" TAG "\",\"to_address\":\"0x12\"}", CT_EINVAL,
     "field 'to_address'"},
    /* Mixed case that is not the EIP-55 checksum. */
    {"{\"method\":\"pending_migrate\",\"vc_tag\":\"" TAG
     "\",\"to_address\":\"0x3c44cdddb6a900fa2b585dd299e03d12FA4293BC\"}",
     CT_EINVAL, "field 'to_address'"},
    {"{\"method\":\"pending_migrate\",\"vc_tag\":\"" TAG "\",\"to_address\":\"" DC2_WALLET
     "\",\"price\":-5,\"invoice\":1}",
     CT_EINVAL, "'price' must be a non-negative integer"},
    {"{\"method\":\"pending_migrate\",\"vc_tag\":\"" TAG "\",\"to_address\":\"" DC2_WALLET
     "\",\"price\":\"1e3\",\"invoice\":1}",
     CT_EINVAL, "field 'price'"},
    {"{\"method\":\"pending_migrate\",\"vc_tag\":\"" TAG "\",\"to_address\":\"" DC2_WALLET
     "\",\"price\":1,\"invoice\":\"0x1"
     "0000000000000000000000000000000000000000000000000000000000000000\"}",
     CT_EINVAL, "field 'invoice'"},
    {"{\"method\":\"pending_migrate\",\"vc_tag\":\"" TAG "\",\"to_address\":\"" DC2_WALLET
     "\",\"price\":1,\"invoice\":1,\"from_address\":\"" DC2_WALLET "\"}",
     CT_EAUTH, "not this DC's wallet"},
    {"{\"method\":\"migrate_container\",\"vc_tag\":\"" TAG "\",\"id\":\"\",\"ip_address\":\"\","
     "\"controller\":\"\",\"price\":1,\"invoice\":1,\"timestamp\":\"2018-09-13T09:08:10Z\"}",
     CT_EINVAL, "'id' must be 1 to 256 bytes"},
    {"{\"method\":\"retire\",\"vc_tag\":\"" TAG "\",\"timestamp\":\"2018-09-13T09:08:10Z\","
     "\"reason\":\"x\"}",
     CT_EINVAL, "unknown field 'reason'"},
    {"{\"method\":\"set_attributes\",\"attributes\":[]}", CT_EINVAL,
     "'attributes' must be an object"},
    {"{\"method\":\"retire\",\"vc_tag\":\"" TAG "\",\"timestamp\":\"2018-09-13T09:08:10Z\","
     "\"min_block\":-1}",
     CT_EINVAL, "'min_block' must be a block number"},
    {"{\"method\":\"register_datacenter\",\"min_block\":\"12\"}", CT_EINVAL,
     "'min_block' must be a block number"},
    {"{\"method\":\"register_datacenter\",\"min_block\":1.5}", CT_EINVAL,
     "'min_block' must be a block number"},
    {"{\"method\":\"set_attributes\",\"attributes\":{\"Region\":\"x\"}}", CT_EINVAL,
     "'Region' must be 1 to 32 of [a-z0-9_.-]"},
    {"{\"method\":\"set_attributes\",\"attributes\":{\"gdpr\":true}}", CT_EINVAL, "'gdpr' must be"},
    {"{\"method\":\"set_attributes\",\"attributes\":{\"k\":\"tab\\there\"}}", CT_EINVAL,
     "printable"},
    {"{\"method\":\"set_attributes\",\"attributes\":{\"a\":\"1\",\"b\":\"1\",\"c\":\"1\","
     "\"d\":\"1\",\"e\":\"1\",\"f\":\"1\",\"g\":\"1\",\"h\":\"1\",\"i\":\"1\",\"j\":\"1\","
     "\"k\":\"1\",\"l\":\"1\",\"m\":\"1\",\"n\":\"1\",\"o\":\"1\",\"p\":\"1\",\"q\":\"1\"}}",
     CT_EINVAL, "at most 16"},
};

static ct_address wallet;

static int setup(void **state)
{
    (void)state;
    return ct_address_parse(&wallet, DC1_WALLET);
}

static json_t *parse(const char *text)
{
    json_t *v;

    ctt_ok(ct_json_parse(&v, text, strlen(text), CT_AGENT_MAX_DEPTH));
    return v;
}

static void valid_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
        json_t *req = parse(ok_cases[i].request), *want = parse(ok_cases[i].args);
        ct_agent_call call;
        char *got = NULL;

        if (ct_agent_parse_request(&call, req, "DC1", &wallet, NOW_MS) < 0)
            fail_msg("case %zu: %s", i, ct_error_last());
        assert_string_equal(call.function, ok_cases[i].function);
        ctt_ok(ct_json_dump(&got, call.args));
        if (!json_equal(call.args, want))
            fail_msg("case %zu: got %s, want %s", i, got, ok_cases[i].args);
        free(got);
        ct_agent_call_clear(&call);
        ct_agent_call_clear(&call); /* idempotent */
        json_decref(req);
        json_decref(want);
    }
}

static void bad_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        json_t *req = parse(bad_cases[i].request);
        ct_agent_call call = {0};
        int rc = ct_agent_parse_request(&call, req, "DC1", &wallet, NOW_MS);

        if (rc != bad_cases[i].code || strstr(ct_error_last(), bad_cases[i].message) == NULL)
            fail_msg("case %zu: want %d '%s', got %d '%s'", i, bad_cases[i].code,
                     bad_cases[i].message, rc, ct_error_last());
        assert_null(call.args);
        json_decref(req);
    }
}

/* jansson refuses \u0000 in text, but a caller may build such a string. */
static void nul_in_string(void **state)
{
    json_t *req =
        json_pack("{s:s, s:o}", "method", "register_container", "vc_type", json_stringn("a\0b", 3));
    ct_agent_call call;
    (void)state;

    assert_int_equal(ct_agent_parse_request(&call, req, "DC1", &wallet, NOW_MS), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "NUL"));
    json_decref(req);
}

/* The envelope's min_block is kept for the sender (0 when absent). */
static void min_block(void **state)
{
    static const char *const texts[] = {
        "{\"method\":\"register_datacenter\",\"min_block\":4096}",
        "{\"method\":\"register_datacenter\",\"_request_id\":\"r1\"}"};
    static const uint64_t want[] = {4096, 0};
    (void)state;

    for (size_t i = 0; i < 2; i++) {
        json_t *req = parse(texts[i]);
        ct_agent_call call;
        ctt_ok(ct_agent_parse_request(&call, req, "DC1", &wallet, NOW_MS));
        assert_int_equal(call.min_block, want[i]);
        ct_agent_call_clear(&call);
        json_decref(req);
    }
}

static void batch_limit(void **state)
{
    ct_buf b;
    json_t *req;
    ct_agent_call call;
    (void)state;

    ct_buf_init(&b, 1 << 20);
    ctt_ok(ct_buf_appendf(&b, "{\"method\":\"register_containers\",\"containers\":["));
    for (int i = 0; i <= CT_AGENT_MAX_BATCH; i++)
        ctt_ok(ct_buf_appendf(&b, "%s{}", i ? "," : ""));
    ctt_ok(ct_buf_appendf(&b, "]}"));
    req = parse(b.data);
    assert_int_equal(ct_agent_parse_request(&call, req, "DC1", &wallet, NOW_MS), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "1 to 1000"));
    json_decref(req);
    ct_buf_free(&b);
}

static void names(void **state)
{
    (void)state;
    assert_true(ct_agent_name_valid("DC1"));
    assert_true(ct_agent_name_valid("dc-athens_2.eu"));
    assert_false(ct_agent_name_valid(""));
    assert_false(ct_agent_name_valid(NULL));
    assert_false(ct_agent_name_valid("DC 1"));
    assert_false(ct_agent_name_valid("DC/1"));
    assert_false(ct_agent_name_valid("0123456789012345678901234567890123456789012345678901234567890"
                                     "1234"));
    assert_true(ct_agent_name_valid("0123456789012345678901234567890123456789012345678901234567890"
                                    "123"));
}

/* ---------------------------------------------------------------- tokens */

static void tokens(void **state)
{
    const char *tok1 = "token-of-dc1-0123456789", *tok2 = "another-dc1-token-abcdef";
    char h1[65], h2[65], h3[65], doc[512];
    ct_agent_tokens *t;
    (void)state;

    /* sha256("abc"), the FIPS 180-2 example. */
    ct_token_hash(h1, "abc");
    assert_string_equal(h1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    ct_token_hash(h1, tok1);
    ct_token_hash(h2, tok2);
    ct_token_hash(h3, "a-token-of-dc2-xxxxxxxx");
    for (char *p = h2; *p; p++) /* upper case is accepted too */
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    snprintf(doc, sizeof(doc), "{\"DC1\": [\"%s\", \"%s\"], \"DC2\": [\"%s\"]}", h1, h2, h3);
    ctt_ok(ct_agent_tokens_parse(&t, doc, strlen(doc), "DC1"));
    assert_int_equal(ct_agent_tokens_count(t), 2);
    assert_true(ct_agent_tokens_check(t, tok1, strlen(tok1)));
    assert_true(ct_agent_tokens_check(t, tok2, strlen(tok2)));
    assert_false(ct_agent_tokens_check(t, "a-token-of-dc2-xxxxxxxx", 23));
    assert_false(ct_agent_tokens_check(t, tok1, strlen(tok1) - 1));
    assert_false(ct_agent_tokens_check(t, h1, 64)); /* the hash is not the token */
    assert_false(ct_agent_tokens_check(t, "short", 5));
    assert_false(ct_agent_tokens_check(t, NULL, 0));
    ct_agent_tokens_free(t);

    assert_int_equal(ct_agent_tokens_parse(&t, doc, strlen(doc), "DC3"), CT_ENOTFOUND);
    assert_int_equal(ct_agent_tokens_parse(&t, "{\"DC1\": []}", 11, "DC1"), CT_ENOTFOUND);
    assert_int_equal(ct_agent_tokens_parse(&t, "{\"DC1\": [\"abc\"]}", 16, "DC1"), CT_EINVAL);
    assert_int_equal(ct_agent_tokens_parse(&t, "{\"DC1\": \"x\"}", 12, "DC1"), CT_EINVAL);
    assert_int_equal(ct_agent_tokens_parse(&t, "[]", 2, "DC1"), CT_EINVAL);
    assert_int_equal(ct_agent_tokens_parse(&t, "{", 1, "DC1"), CT_EPARSE);
    assert_int_equal(ct_agent_tokens_load(&t, "/nonexistent/tokens.json", "DC1"), CT_ENOTFOUND);
    ct_agent_tokens_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_requests), cmocka_unit_test(bad_requests),
        cmocka_unit_test(nul_in_string),  cmocka_unit_test(min_block),
        cmocka_unit_test(batch_limit),    cmocka_unit_test(names),
        cmocka_unit_test(tokens),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
