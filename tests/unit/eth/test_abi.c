/* The Solidity ABI: ethers' 1,024 random vectors both ways, selectors and
 * topics (expected values from ethers v6), solc ABI JSON, event logs, and
 * the rejections of bad types, out-of-range values and malformed data. */
#include "harness.h"

#include "catena/crypto.h"

/* ---------------------------------------------------------------- helpers */

static ct_abi_type *type_of(const char *text)
{
    ct_abi_type *t = NULL;

    if (ct_abi_type_parse(&t, text) < 0)
        fail_msg("parse '%s': %s", text, ct_error_last());
    return t;
}

static json_t *json_of(const char *text)
{
    json_t *v;

    if (ct_json_parse(&v, text, strlen(text), 64) < 0)
        fail_msg("json '%s': %s", text, ct_error_last());
    return v;
}

static uint8_t *hex_of(const char *hex, size_t *len)
{
    uint8_t *b;

    if (ct_hex_decode_new(&b, len, hex) < 0)
        fail_msg("hex: %s", ct_error_last());
    return b;
}

/* Encodes value (JSON text) as type and returns "0x" hex (static buffer). */
static const char *encode_hex(const char *type, const char *value)
{
    static char hex[4096];
    ct_abi_type *t = type_of(type);
    json_t *v = json_of(value);
    ct_buf b;

    ct_buf_init(&b, 1 << 20);
    if (ct_abi_encode(&b, t, v) < 0)
        fail_msg("encode %s %s: %s", type, value, ct_error_last());
    ctt_ok(ct_hex_encode(hex, sizeof(hex), (const uint8_t *)b.data, b.len, true));
    ct_buf_free(&b);
    json_decref(v);
    ct_abi_type_free(t);
    return hex;
}

/* Returns: the code of encoding value as type; the message is kept. */
static int encode_rc(const char *type, const char *value)
{
    ct_abi_type *t = type_of(type);
    json_t *v = json_of(value);
    ct_buf b;
    int rc;

    ct_buf_init(&b, 1 << 20);
    rc = ct_abi_encode(&b, t, v);
    if (rc < 0)
        assert_int_equal(b.len, 0); /* nothing left behind on failure */
    ct_buf_free(&b);
    json_decref(v);
    ct_abi_type_free(t);
    return rc;
}

/* Decodes hex as type. Returns: the code; *out the JSON text or NULL. */
static int decode_hex(char **out, const char *type, const char *hex)
{
    ct_abi_type *t = type_of(type);
    size_t len;
    uint8_t *data = hex_of(hex, &len);
    json_t *v = NULL;
    int rc = ct_abi_decode(&v, t, data, len);

    *out = NULL;
    if (rc == 0) {
        ctt_ok(ct_json_dump(out, v));
        json_decref(v);
    }
    free(data);
    ct_abi_type_free(t);
    return rc;
}

static void assert_decodes(const char *type, const char *hex, const char *want)
{
    char *got;

    if (decode_hex(&got, type, hex) < 0)
        fail_msg("decode %s: %s", type, ct_error_last());
    assert_string_equal(got, want);
    free(got);
}

static void assert_decode_fails(const char *type, const char *hex, const char *msg_part)
{
    char *got;
    int rc = decode_hex(&got, type, hex);

    if (rc == 0)
        fail_msg("decoded %s as %s: %s", hex, type, got);
    assert_int_equal(rc, CT_EPARSE);
    if (strstr(ct_error_last(), msg_part) == NULL)
        fail_msg("message '%s' lacks '%s'", ct_error_last(), msg_part);
}

static const char *hex32(const uint8_t *b, size_t n)
{
    static char out[2 * 64 + 3];

    ctt_ok(ct_hex_encode(out, sizeof(out), b, n, true));
    return out;
}

/* ---------------------------------------------------------------- vectors */

/* One vector: encode(value) == encoded; decode(encoded) == value and
 * re-encodes to the same bytes. Each vector is ethers'
 * encode([type], [value]): the type is the only parameter, so a vector of
 * type "(string)" is our parameter list "((string))" with value [value].
 * Returns: NULL or what went wrong. */
static const char *check_vector(const json_t *e, char *why, size_t why_size)
{
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *hex = json_string_value(json_object_get(e, "encoded"));
    json_t *value = json_pack("[O]", json_object_get(e, "value")), *back = NULL;
    ct_abi_type *t = NULL;
    uint8_t *want = NULL;
    size_t want_len;
    char params[1024];
    ct_buf b;

    why[0] = '\0';
    ct_buf_init(&b, 1 << 24);
    if (type == NULL || hex == NULL || value == NULL)
        snprintf(why, why_size, "vector lacks type, value or encoded");
    else if (snprintf(params, sizeof(params), "(%s)", type) >= (int)sizeof(params))
        snprintf(why, why_size, "type too long for the test");
    else if (ct_abi_type_parse(&t, params) < 0 || ct_hex_decode_new(&want, &want_len, hex) < 0 ||
             ct_abi_encode(&b, t, value) < 0)
        snprintf(why, why_size, "%s", ct_error_last());
    else if (b.len != want_len || memcmp(b.data, want, want_len) != 0)
        snprintf(why, why_size, "encoding differs (%zu bytes, want %zu)", b.len, want_len);
    else if (ct_abi_decode(&back, t, want, want_len) < 0)
        snprintf(why, why_size, "decode: %s", ct_error_last());
    else if (!json_equal(back, value))
        snprintf(why, why_size, "decoded value differs");
    else if ((ct_buf_reset(&b), ct_abi_encode(&b, t, back)) < 0 || b.len != want_len ||
             memcmp(b.data, want, want_len) != 0)
        snprintf(why, why_size, "decoded value re-encodes differently");
    json_decref(back);
    json_decref(value);
    free(want);
    ct_buf_free(&b);
    ct_abi_type_free(t);
    return why[0] ? why : NULL;
}

static void ethers_vectors(void **state)
{
    CTT_NEED_JSON(all, "vectors/ethers/abi.json.gz");
    json_t *e;
    size_t i, failed = 0;
    char why[600];
    (void)state;

    assert_int_equal(json_array_size(all), 1024);
    json_array_foreach (all, i, e) {
        if (check_vector(e, why, sizeof(why)) != NULL) {
            if (failed++ < 10)
                print_message("vector %zu (%s): %s\n", i,
                              json_string_value(json_object_get(e, "type")), why);
        }
    }
    json_decref(all);
    if (failed > 0)
        fail_msg("%zu of 1024 ABI vectors failed", failed);
}

/* ---------------------------------------------------------------- types */

static void canonical_types(void **state)
{
    static const struct {
        const char *in, *canon;
    } cases[] = {
        {"uint", "uint256"},
        {"int", "int256"},
        {" ( address  to , uint amount ) ", "(address,uint256)"},
        {"(string,(uint256,bytes32)[])[2]", "(string,(uint256,bytes32)[])[2]"},
        {"tuple(uint8 a, tuple(bool)[] b)", "(uint8,(bool)[])"},
        {"uint256 [ 3 ] [ ]", "uint256[3][]"},
        {"(string calldata tag, address payable to, bytes memory data)", "(string,address,bytes)"},
        {"()", "()"},
        {"bytes1", "bytes1"},
        {"int8[0]", "int8[0]"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ct_abi_type *t = type_of(cases[i].in);
        ct_buf b;
        ct_buf_init(&b, 1024);
        ctt_ok(ct_abi_type_canonical(&b, t));
        assert_string_equal(b.data, cases[i].canon);
        ct_buf_free(&b);
        ct_abi_type_free(t);
    }
}

static void type_details(void **state)
{
    ct_abi_type *t = type_of("(address indexed from, uint8[2] v, (string,bool) s)");
    (void)state;

    assert_int_equal(t->kind, CT_ABI_TUPLE);
    assert_int_equal(t->n_items, 3);
    assert_string_equal(t->items[0]->name, "from");
    assert_true(t->items[0]->indexed);
    assert_int_equal(t->items[1]->kind, CT_ABI_ARRAY);
    assert_int_equal(t->items[1]->length, 2);
    assert_int_equal(t->items[1]->items[0]->size, 8);
    assert_false(ct_abi_type_dynamic(t->items[1]));
    assert_true(ct_abi_type_dynamic(t->items[2]));
    assert_true(ct_abi_type_dynamic(t));
    ct_abi_type_free(t);
    t = type_of("bytes32[]");
    assert_int_equal(t->length, -1);
    assert_true(ct_abi_type_dynamic(t));
    ct_abi_type_free(t);
}

static void rejects_bad_types(void **state)
{
    static const char *const bad[] = {
        "",
        "uint7",
        "uint0",
        "uint264",
        "uint08",
        "int 8",
        "bytes33",
        "bytes0",
        "uint256[",
        "uint256[01]",
        "uint256[-1]",
        "uint256]",
        "(uint256,",
        "(uint256,)",
        "(,uint256)",
        "tuple",
        "string[2]x",
        "foo",
        "address to",
        "(uint256 a b)",
        "()[]",
        "uint8[0][]",
        "uint256[99999999999]",
        "uint256[3000000]",
        "(uint256",
        "uint256)",
        "(bool)(bool)",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ct_abi_type *t = NULL;
        if (ct_abi_type_parse(&t, bad[i]) != CT_EPARSE)
            fail_msg("accepted type '%s'", bad[i]);
        assert_non_null(strstr(ct_error_last(), "abi: "));
    }
}

static void nesting_limit(void **state)
{
    char deep[256];
    ct_abi_type *t;
    size_t n = 0;
    (void)state;

    /* 31 tuples around a uint256: a tree of height 32 is accepted. */
    for (int i = 0; i < 31; i++)
        deep[n++] = '(';
    memcpy(deep + n, "uint256", 7);
    n += 7;
    for (int i = 0; i < 31; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    ctt_ok(ct_abi_type_parse(&t, deep));
    ct_abi_type_free(t);
    /* One array dimension more is too deep. */
    memcpy(deep + n, "[]", 3);
    assert_int_equal(ct_abi_type_parse(&t, deep), CT_EPARSE);
    assert_non_null(strstr(ct_error_last(), "too deeply"));
}

/* ---------------------------------------------------------------- signatures */

static void selectors_and_topics(void **state)
{
    static const struct {
        const char *sig, *canon, *selector;
    } cases[] = {
        {"transfer(address,uint256)", "transfer(address,uint256)", "0xa9059cbb"},
        {"balanceOf(address)", "balanceOf(address)", "0x70a08231"},
        {"function register(string name, (uint256 id, bytes32 tag)[] items)",
         "register(string,(uint256,bytes32)[])", "0x40861aed"},
        {"total()", "total()", "0x2ddbd13a"},
    };
    ct_abi_sig *sig;
    uint8_t sel[4], topic[32], h[32];
    ct_buf b;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ctt_ok(ct_abi_sig_parse(&sig, cases[i].sig));
        ct_buf_init(&b, 1024);
        ctt_ok(ct_abi_sig_canonical(&b, sig));
        assert_string_equal(b.data, cases[i].canon);
        ctt_ok(ct_abi_selector(sel, sig));
        assert_string_equal(hex32(sel, 4), cases[i].selector);
        /* The selector is the first 4 bytes of keccak of the canonical text. */
        ct_keccak256(h, b.data, b.len);
        assert_memory_equal(h, sel, 4);
        ct_buf_free(&b);
        ct_abi_sig_free(sig);
    }

    ctt_ok(ct_abi_sig_parse(&sig, "event Transfer(address indexed from, address indexed to, "
                                  "uint256 value)"));
    assert_string_equal(sig->name, "Transfer");
    assert_true(sig->params->items[1]->indexed);
    assert_false(sig->params->items[2]->indexed);
    assert_string_equal(sig->params->items[2]->name, "value");
    ctt_ok(ct_abi_topic(topic, sig));
    assert_string_equal(hex32(topic, 32),
                        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
    ct_abi_sig_free(sig);
}

static void rejects_bad_signatures(void **state)
{
    static const char *const bad[] = {
        "",
        "transfer",
        "(address)",
        "transfer(address",
        "transfer(address))",
        "transfer(uint7)",
        "transfer(address) returns (bool)",
        "1x(uint256)",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ct_abi_sig *sig = NULL;
        if (ct_abi_sig_parse(&sig, bad[i]) != CT_EPARSE)
            fail_msg("accepted signature '%s'", bad[i]);
    }
}

static void solc_json_entries(void **state)
{
    json_t *entry = json_of(
        "{\"type\":\"function\",\"name\":\"registerBatch\",\"stateMutability\":\"nonpayable\","
        "\"outputs\":[],\"inputs\":["
        "{\"name\":\"owner\",\"type\":\"address\",\"internalType\":\"address\"},"
        "{\"name\":\"items\",\"type\":\"tuple[]\",\"internalType\":\"struct Item[]\","
        " \"components\":["
        "  {\"name\":\"id\",\"type\":\"uint256\"},"
        "  {\"name\":\"meta\",\"type\":\"tuple\",\"components\":["
        "    {\"name\":\"tag\",\"type\":\"bytes32\"},"
        "    {\"name\":\"labels\",\"type\":\"string[2]\"}]}]}]}");
    json_t *event =
        json_of("{\"type\":\"event\",\"name\":\"Stored\",\"anonymous\":false,\"inputs\":["
                "{\"indexed\":true,\"name\":\"who\",\"type\":\"address\"},"
                "{\"indexed\":true,\"name\":\"tag\",\"type\":\"string\"},"
                "{\"indexed\":false,\"name\":\"value\",\"type\":\"uint256\"},"
                "{\"indexed\":false,\"name\":\"note\",\"type\":\"string\"}]}");
    ct_abi_sig *sig;
    uint8_t sel[4], topic[32];
    ct_buf b;
    (void)state;

    ctt_ok(ct_abi_sig_from_json(&sig, entry));
    ct_buf_init(&b, 1024);
    ctt_ok(ct_abi_sig_canonical(&b, sig));
    assert_string_equal(b.data, "registerBatch(address,(uint256,(bytes32,string[2]))[])");
    ctt_ok(ct_abi_selector(sel, sig));
    assert_string_equal(hex32(sel, 4), "0xb84f777c");
    assert_string_equal(sig->params->items[1]->items[0]->items[1]->name, "meta");
    ct_abi_sig_free(sig);

    ctt_ok(ct_abi_sig_from_json(&sig, event));
    ctt_ok(ct_abi_topic(topic, sig));
    assert_string_equal(hex32(topic, 32),
                        "0x25a34b52f1253b87d18322358cf382a5aed63e611921d43fe58b9ec69fb9bf74");
    assert_true(sig->params->items[1]->indexed);
    ct_abi_sig_free(sig);
    ct_buf_free(&b);
    json_decref(entry);
    json_decref(event);
}

static void rejects_bad_solc_json(void **state)
{
    static const char *const bad[] = {
        "[]",
        "{\"type\":\"fallback\"}",
        "{\"type\":\"function\",\"inputs\":[]}",
        "{\"type\":\"function\",\"name\":\"f\",\"inputs\":{}}",
        "{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"uint7\"}]}",
        "{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"name\":\"x\"}]}",
        "{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"tuple\"}]}",
        "{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"tuple[\","
        "\"components\":[{\"type\":\"bool\"}]}]}",
        "{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"uint8\",\"indexed\":1}]}",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_of(bad[i]);
        ct_abi_sig *sig = NULL;
        if (ct_abi_sig_from_json(&sig, j) != CT_EINVAL)
            fail_msg("accepted ABI entry %s", bad[i]);
        json_decref(j);
    }
}

/* ---------------------------------------------------------------- encoding */

static void encodes_like_ethers(void **state)
{
    (void)state;
    /* Expected encodings from ethers v6's AbiCoder. */
    assert_string_equal(encode_hex("(uint256,string)", "[1024, \"hello ledger\"]"),
                        "0x0000000000000000000000000000000000000000000000000000000000000400"
                        "0000000000000000000000000000000000000000000000000000000000000040"
                        "000000000000000000000000000000000000000000000000000000000000000c"
                        "68656c6c6f206c65646765720000000000000000000000000000000000000000");
    assert_string_equal(encode_hex("(bool,uint8[],int8,string)",
                                   "[true, [\"1\", \"0x02\"], \"-128\", \"h\\u00e9\"]"),
                        "0x0000000000000000000000000000000000000000000000000000000000000001"
                        "0000000000000000000000000000000000000000000000000000000000000080"
                        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80"
                        "00000000000000000000000000000000000000000000000000000000000000e0"
                        "0000000000000000000000000000000000000000000000000000000000000002"
                        "0000000000000000000000000000000000000000000000000000000000000001"
                        "0000000000000000000000000000000000000000000000000000000000000002"
                        "0000000000000000000000000000000000000000000000000000000000000003"
                        "68c3a90000000000000000000000000000000000000000000000000000000000");
    /* A bare type is the only parameter: a dynamic one gets its offset. */
    assert_string_equal(encode_hex("bytes", "\"0x0102\""),
                        "0x0000000000000000000000000000000000000000000000000000000000000020"
                        "0000000000000000000000000000000000000000000000000000000000000002"
                        "0102000000000000000000000000000000000000000000000000000000000000");
    assert_string_equal(encode_hex("int256", "-1"),
                        "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    assert_string_equal(encode_hex("bytes3", "\"0xABcdEF\""),
                        "0xabcdef0000000000000000000000000000000000000000000000000000000000");
    assert_string_equal(encode_hex("()", "[]"), "0x");
}

static void integer_ranges(void **state)
{
    static const struct {
        const char *type, *value;
        bool ok;
    } cases[] = {
        {"uint8", "255", true},
        {"uint8", "256", false},
        {"uint8", "-1", false},
        {"uint8", "\"-0\"", true},
        {"int8", "127", true},
        {"int8", "128", false},
        {"int8", "-128", true},
        {"int8", "-129", false},
        {"int8", "\"-0x80\"", true},
        {"int8", "\"-0x81\"", false},
        {"int16", "\"-32768\"", true},
        {"int16", "\"32768\"", false},
        {"uint256",
         "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"",
         true},
        {"uint256",
         "\"115792089237316195423570985008687907853269984665640564039457584007913129639936\"",
         false},
        {"uint256", "\"0x10000000000000000000000000000000000000000000000000000000000000000\"",
         false},
        {"uint256", "\"0x000000000000000000000000000000000000000000000000000000000000000001\"",
         true},
        {"int256",
         "\"-57896044618658097711785492504343953926634992332820282019728792003956564819968\"",
         true},
        {"int256",
         "\"-57896044618658097711785492504343953926634992332820282019728792003956564819969\"",
         false},
        {"int256",
         "\"57896044618658097711785492504343953926634992332820282019728792003956564819968\"",
         false},
        {"uint64", "9223372036854775807", true},
        {"int64", "-9223372036854775808", true},
        {"int64", "\"-9223372036854775809\"", false},
        {"uint32", "\"\"", false},
        {"uint32", "\"12a\"", false},
        {"uint32", "\" 1\"", false},
        {"uint32", "\"0x\"", false},
        {"uint32", "1.5", false},
        {"uint32", "true", false},
        {"uint32", "null", false},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = encode_rc(cases[i].type, cases[i].value);
        if (cases[i].ok && rc < 0)
            fail_msg("%s %s rejected: %s", cases[i].type, cases[i].value, ct_error_last());
        if (!cases[i].ok && rc != CT_EINVAL)
            fail_msg("%s %s accepted (%d)", cases[i].type, cases[i].value, rc);
    }
}

static void rejects_bad_values_with_paths(void **state)
{
    (void)state;

    assert_int_equal(encode_rc("(bool,uint8[])", "[true, [1, 300]]"), CT_EINVAL);
    assert_string_equal(ct_error_last(), "abi: [1][1]: uint8 value 300 out of range");
    assert_int_equal(encode_rc("uint8", "300"), CT_EINVAL);
    assert_string_equal(ct_error_last(), "abi: uint8 value 300 out of range");
    assert_int_equal(encode_rc("((string,bool)[2])", "[[[\"a\", true], [\"b\", 1]]]"), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "[0][1][1]: bool value"));
    assert_int_equal(encode_rc("(uint8[2])", "[[1]]"), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "[0]: uint8[2] value must have 2 items, not 1"));
    assert_int_equal(encode_rc("(address)", "[\"0x1234\"]"), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "[0]: address value"));
    /* A mixed-case address with a wrong checksum. */
    assert_int_equal(encode_rc("address", "\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\""),
                     CT_EINVAL);
    ctt_ok(encode_rc("address", "\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\""));
    assert_int_equal(encode_rc("bytes2", "\"0x010203\""), CT_EINVAL);
    assert_int_equal(encode_rc("bytes2", "\"0102\""), CT_EINVAL);
    assert_int_equal(encode_rc("bytes", "\"0x123\""), CT_EINVAL);
    assert_int_equal(encode_rc("bytes", "\"0x12zz\""), CT_EINVAL);
    assert_int_equal(encode_rc("string", "5"), CT_EINVAL);
    assert_int_equal(encode_rc("(uint8,uint8)", "[1]"), CT_EINVAL);
    assert_int_equal(encode_rc("(uint8,uint8)", "{\"a\": 1}"), CT_EINVAL);
    assert_int_equal(encode_rc("bool", "1"), CT_EINVAL);
}

static void appends_to_buffer(void **state)
{
    ct_abi_type *t = type_of("(uint8,string)");
    json_t *good = json_of("[1, \"x\"]"), *bad = json_of("[1, 2]");
    ct_buf b;
    (void)state;

    ct_buf_init(&b, 1024);
    ctt_ok(ct_buf_append(&b, "\xa9\x05\x9c\xbb", 4));
    ctt_ok(ct_abi_encode(&b, t, good));
    assert_int_equal(b.len, 4 + 4 * 32);
    assert_memory_equal(b.data, "\xa9\x05\x9c\xbb", 4);
    /* A failure leaves what was there before. */
    assert_int_equal(ct_abi_encode(&b, t, bad), CT_EINVAL);
    assert_int_equal(b.len, 4 + 4 * 32);
    ct_buf_free(&b);
    json_decref(good);
    json_decref(bad);
    ct_abi_type_free(t);
}

/* ---------------------------------------------------------------- decoding */

#define W0 "0000000000000000000000000000000000000000000000000000000000000000"
#define W1 "0000000000000000000000000000000000000000000000000000000000000001"
#define W2 "0000000000000000000000000000000000000000000000000000000000000002"
#define W20 "0000000000000000000000000000000000000000000000000000000000000020"
#define W40 "0000000000000000000000000000000000000000000000000000000000000040"
#define WFF "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static void decodes_values(void **state)
{
    (void)state;

    assert_decodes("(int256,int8,uint8)",
                   "0x" WFF WFF "00000000000000000000000000000000"
                   "0000000000000000000000000000007f",
                   "[\"-1\",\"-1\",\"127\"]");
    assert_decodes("int16", "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8000",
                   "\"-32768\"");
    assert_decodes("address", "0x0000000000000000000000005aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
                   "\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\"");
    assert_decodes("(bool,bytes2)",
                   "0x" W1 "abcd000000000000000000000000000000000000000000000000"
                   "000000000000",
                   "[true,\"0xabcd\"]");
    assert_decodes("string",
                   "0x" W20 "0000000000000000000000000000000000000000000000000000000"
                   "000000003"
                   "68c3a90000000000000000000000000000000000000000000000000000000000",
                   "\"h\xc3\xa9\"");
    assert_decodes("()", "0x", "[]");
}

static void decodes_strings_and_arrays(void **state)
{
    char *got;
    (void)state;

    /* "hé" and an empty uint8[] after it. */
    ctt_ok(decode_hex(&got, "(string,uint8[])",
                      "0x" W40 "0000000000000000000000000000000000000"
                      "000000000000000000000000080"
                      "0000000000000000000000000000000000000000000"
                      "000000000000000000003"
                      "68c3a90000000000000000000000000000000000000000000"
                      "000000000000000" W0));
    assert_string_equal(got, "[\"h\xc3\xa9\",[]]");
    free(got);
    /* The largest decimal values. */
    assert_decodes(
        "(uint256,int256)",
        "0x" WFF "8000000000000000000000000000000000000000000000"
        "000000000000000000",
        "[\"115792089237316195423570985008687907853269984665640564039457584007913129639935\","
        "\"-57896044618658097711785492504343953926634992332820282019728792003956564819968\"]");
}

static void rejects_malformed_data(void **state)
{
    (void)state;

    assert_decode_fails("(uint8)",
                        "0x00000000000000000000000000000000000000000000000000000000000001"
                        "00",
                        "uint8 value has non-zero high bytes");
    assert_decode_fails("(int8)",
                        "0x00000000000000000000000000000000000000000000000000000000000000"
                        "80",
                        "not sign-extended");
    assert_decode_fails("(int8)",
                        "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                        "7f",
                        "not sign-extended");
    assert_decode_fails("(bool,bool)", "0x" W1 W2, "[1]: at offset 32: bool value is not 0 or 1");
    assert_decode_fails("address",
                        "0x0000000000000000000000015aaeb6053f3e94c9b9a09f33669435e7ef1"
                        "beaed",
                        "address has non-zero high bytes");
    assert_decode_fails("bytes2",
                        "0xabcd01"
                        "0000000000000000000000000000000000000000000000000000"
                        "000000",
                        "non-zero padding");
    assert_decode_fails("(uint256,uint256)", "0x" W1, "32 bytes needed");
    assert_decode_fails("(uint256)", "0x00", "32 bytes needed");
    /* Offset past the end, and an offset that does not fit 64 bits. */
    assert_decode_fails("(string)",
                        "0x0000000000000000000000000000000000000000000000000000000000"
                        "000100" W0,
                        "offset 256 past the end");
    assert_decode_fails("(string)", "0x" WFF W0, "offset too large");
    /* Length longer than the data, string padding not zero, bad UTF-8. */
    assert_decode_fails("string",
                        "0x" W20 "00000000000000000000000000000000000000000000000000000"
                        "00000000021" W0,
                        "bytes needed");
    assert_decode_fails("bytes",
                        "0x" W20 W1 "0101000000000000000000000000000000000000000000000000"
                        "000000000000",
                        "non-zero padding");
    assert_decode_fails("string",
                        "0x" W20 W2 "c328000000000000000000000000000000000000000000000000"
                        "000000000000",
                        "not valid UTF-8");
    assert_decode_fails("string",
                        "0x" W20 "00000000000000000000000000000000000000000000000000000"
                        "00000000003"
                        "eda08000000000000000000000000000000000000000000000000000000"
                        "00000",
                        "not valid UTF-8"); /* a UTF-16 surrogate */
    assert_decode_fails("string",
                        "0x" W20 W2 "c0af000000000000000000000000000000000000000000000000"
                        "000000000000",
                        "not valid UTF-8"); /* overlong '/' */
    /* An array length that the data cannot hold is refused before any
     * allocation. */
    assert_decode_fails("uint256[]",
                        "0x" W20 "000000000000000000000000000000000000000000000000ffff"
                        "ffffffffffff",
                        "array length");
    assert_decode_fails("uint256[]",
                        "0x" W20 "00000000000000000000000000000000000000000000000000"
                        "00000000000003" W1 W1,
                        "3 items do not fit");
    assert_decode_fails("(uint256[2][2])", "0x" W1 W1 W1, "items do not fit");
}

/* Many offsets pointing at one large tail would make a small input decode
 * into a huge value: the read budget refuses it. */
static void refuses_inflated_data(void **state)
{
    enum { N = 1000 };
    ct_abi_type *t = type_of("uint256[][]");
    ct_buf b;
    uint8_t w[32] = {0};
    json_t *out = NULL;
    (void)state;

    ct_buf_init(&b, 1 << 24);
    w[31] = 0x20;
    ctt_ok(ct_buf_append(&b, w, 32)); /* offset of the outer array */
    w[30] = N >> 8;
    w[31] = N & 0xff;
    ctt_ok(ct_buf_append(&b, w, 32)); /* outer length */
    for (int i = 0; i < N; i++) {     /* every item points at the same inner array */
        size_t off = N * 32;
        memset(w, 0, 32);
        w[30] = (uint8_t)(off >> 8);
        w[31] = (uint8_t)off;
        ctt_ok(ct_buf_append(&b, w, 32));
    }
    memset(w, 0, 32);
    w[30] = N >> 8;
    w[31] = N & 0xff;
    ctt_ok(ct_buf_append(&b, w, 32)); /* inner length */
    for (int i = 0; i < N; i++)
        ctt_ok(ct_buf_append(&b, w, 32));
    assert_int_equal(ct_abi_decode(&out, t, (const uint8_t *)b.data, b.len), CT_EPARSE);
    assert_non_null(strstr(ct_error_last(), "too often"));
    assert_null(out);
    ct_buf_free(&b);
    ct_abi_type_free(t);
}

/* A tail shared by a few offsets is not canonical but within the budget. */
static void accepts_shared_tails(void **state)
{
    (void)state;
    assert_decodes("uint256[][]", "0x" W20 W2 W40 W40 W1 W2, "[[\"2\"],[\"2\"]]");
}

/* ---------------------------------------------------------------- logs */

static void decodes_logs(void **state)
{
    ct_abi_sig *sig;
    uint8_t topics[3][32], *data;
    size_t len;
    json_t *out = NULL;
    char *text;
    (void)state;

    ctt_ok(ct_abi_sig_parse(&sig, "Stored(address indexed who, string indexed tag, "
                                  "uint256 value, string note)"));
    ctt_ok(ct_abi_topic(topics[0], sig));
    memset(topics[1], 0, 32);
    memcpy(topics[1] + 12,
           "\x5a\xae\xb6\x05\x3f\x3e\x94\xc9\xb9\xa0\x9f\x33\x66\x94\x35\xe7"
           "\xef\x1b\xea\xed",
           20);
    ct_keccak256(topics[2], "vm-42", 5);
    data = hex_of("0x0000000000000000000000000000000000000000000000000000000000000400" W40
                  "000000000000000000000000000000000000000000000000000000000000000c"
                  "68656c6c6f206c65646765720000000000000000000000000000000000000000",
                  &len);
    ctt_ok(ct_abi_decode_log(&out, sig, false, (const uint8_t(*)[32])topics, 3, data, len));
    ctt_ok(ct_json_dump(&text, out));
    assert_string_equal(
        text, "{\"who\":\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\","
              "\"tag\":\"0xeeb1d6b4cfdc4adeaf795363e772b283709eb3f3adebce3be9db80ee9b79cafe\","
              "\"value\":\"1024\",\"note\":\"hello ledger\"}");
    free(text);
    json_decref(out);

    /* Wrong topic count, wrong topic 0, and a bad indexed address. */
    assert_int_equal(
        ct_abi_decode_log(&out, sig, false, (const uint8_t(*)[32])topics, 2, data, len), CT_EINVAL);
    topics[0][0] ^= 1;
    assert_int_equal(
        ct_abi_decode_log(&out, sig, false, (const uint8_t(*)[32])topics, 3, data, len), CT_EINVAL);
    /* Anonymous: the indexed values start at topic 0. */
    ctt_ok(ct_abi_decode_log(&out, sig, true, (const uint8_t(*)[32])(topics + 1), 2, data, len));
    assert_string_equal(json_string_value(json_object_get(out, "value")), "1024");
    json_decref(out);
    topics[1][0] = 1;
    assert_int_equal(
        ct_abi_decode_log(&out, sig, true, (const uint8_t(*)[32])(topics + 1), 2, data, len),
        CT_EPARSE);
    /* Truncated data. */
    topics[1][0] = 0;
    assert_int_equal(
        ct_abi_decode_log(&out, sig, true, (const uint8_t(*)[32])(topics + 1), 2, data, 64),
        CT_EPARSE);
    free(data);
    ct_abi_sig_free(sig);
}

static void log_names_fall_back_to_positions(void **state)
{
    ct_abi_sig *sig;
    uint8_t topics[2][32] = {{0}};
    json_t *out;
    char *text;
    (void)state;

    ctt_ok(ct_abi_sig_parse(&sig, "E(uint8 indexed, bool x, bool x)"));
    ctt_ok(ct_abi_topic(topics[0], sig));
    topics[1][31] = 7;
    {
        size_t len;
        uint8_t *data = hex_of("0x" W1 W0, &len);
        ctt_ok(ct_abi_decode_log(&out, sig, false, (const uint8_t(*)[32])topics, 2, data, len));
        free(data);
    }
    ctt_ok(ct_json_dump(&text, out));
    assert_string_equal(text, "{\"arg0\":\"7\",\"x\":true,\"arg2\":false}");
    free(text);
    json_decref(out);
    ct_abi_sig_free(sig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ethers_vectors),
        cmocka_unit_test(canonical_types),
        cmocka_unit_test(type_details),
        cmocka_unit_test(rejects_bad_types),
        cmocka_unit_test(nesting_limit),
        cmocka_unit_test(selectors_and_topics),
        cmocka_unit_test(rejects_bad_signatures),
        cmocka_unit_test(solc_json_entries),
        cmocka_unit_test(rejects_bad_solc_json),
        cmocka_unit_test(encodes_like_ethers),
        cmocka_unit_test(integer_ranges),
        cmocka_unit_test(rejects_bad_values_with_paths),
        cmocka_unit_test(appends_to_buffer),
        cmocka_unit_test(decodes_values),
        cmocka_unit_test(decodes_strings_and_arrays),
        cmocka_unit_test(rejects_malformed_data),
        cmocka_unit_test(refuses_inflated_data),
        cmocka_unit_test(accepts_shared_tails),
        cmocka_unit_test(decodes_logs),
        cmocka_unit_test(log_names_fall_back_to_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
