/* RLP against ethers' vectors in both directions, the strict decoder's
 * rejections (each with its offset), writer edge cases, integer readers,
 * the iterator and the JSON converters' limits. */
#include "harness.h"

/* Decodes hex (with or without "0x") followed by fill bytes of 0x01.
 * Out: *out malloc'd (never NULL), *len. */
static void bytes_of(uint8_t **out, size_t *len, const char *hex, size_t fill)
{
    size_t n = strlen(hex) / 2;
    uint8_t *b = malloc(n + fill + 1);

    assert_non_null(b);
    ctt_ok(ct_hex_decode(b, n + 1, &n, hex, strlen(hex)));
    memset(b + n, 0x01, fill);
    *out = b;
    *len = n + fill;
}

/* Writes a vector's decoded JSON with the writer directly (not through
 * ct_rlp_from_json), so the writer is checked on every vector's shape. */
static void write_json(ct_rlp_writer *w, const json_t *v)
{
    uint8_t *bytes;
    size_t n;

    if (json_is_string(v)) {
        ctt_ok(ct_hex_decode_new(&bytes, &n, json_string_value(v)));
        ct_rlp_put_bytes(w, bytes, n);
        free(bytes);
        return;
    }
    assert_true(json_is_array(v));
    ct_rlp_list_begin(w);
    for (size_t i = 0; i < json_array_size(v); i++)
        write_json(w, json_array_get(v, i));
    ct_rlp_list_end(w);
}

/* Checks one vector: JSON to RLP, RLP to JSON, and the writer with an
 * exact buffer (succeeds) and one byte short (CT_ELIMIT). */
static void check_vector(const json_t *vec)
{
    const char *name = json_string_value(json_object_get(vec, "name"));
    const char *enc = json_string_value(json_object_get(vec, "encoded"));
    const json_t *dec = json_object_get(vec, "decoded");
    uint8_t *want, *got;
    size_t want_len, got_len;
    json_t *back;
    ct_rlp_writer w;
    ct_rlp_item top;

    assert_non_null(name);
    assert_non_null(enc);
    ctt_ok(ct_hex_decode_new(&want, &want_len, enc));
    if (ct_rlp_from_json(&got, &got_len, dec) < 0)
        fail_msg("%s: from_json: %s", name, ct_error_last());
    ctt_assert_hex(got, got_len, enc, name);
    if (ct_rlp_to_json(&back, want, want_len) < 0)
        fail_msg("%s: to_json: %s", name, ct_error_last());
    if (!json_equal(back, dec))
        fail_msg("%s: to_json differs", name);
    ctt_ok(ct_rlp_decode(&top, want, want_len));
    assert_int_equal(top.is_list, json_is_array(dec));

    ct_rlp_writer_init(&w, got, want_len);
    write_json(&w, dec);
    ctt_ok(ct_rlp_finish(&w, &got_len));
    ctt_assert_hex(got, got_len, enc, name);
    ct_rlp_writer_init(&w, got, want_len - 1);
    write_json(&w, dec);
    if (ct_rlp_finish(&w, &got_len) != CT_ELIMIT)
        fail_msg("%s: a buffer one byte short was accepted", name);
    json_decref(back);
    free(got);
    free(want);
}

static void ethers_vectors(void **state)
{
    (void)state;
    CTT_NEED_JSON(v, "vectors/ethers/rlp.json.gz");
    assert_true(json_array_size(v) > 50);
    for (size_t i = 0; i < json_array_size(v); i++)
        check_vector(json_array_get(v, i));
    json_decref(v);
}

/* ---------------------------------------------------------------- decoder */

static void rejects_malformed(void **state)
{
    /* hex, then fill bytes of 0x01, and the offset the message must name. */
    static const struct {
        const char *name;
        const char *hex;
        size_t fill;
        size_t offset;
    } bad[] = {
        {"empty input", "", 0, 0},
        {"0x00 wrapped as a string", "8100", 0, 0},
        {"0x7f wrapped as a string", "817f", 0, 0},
        {"long string form, length 0", "b800", 0, 0},
        {"long string form, length 55", "b837", 55, 0},
        {"string length with a leading zero", "b90038", 56, 0},
        {"string past the end", "836162", 0, 0},
        {"long string past the end", "b838", 55, 0},
        {"string length of length past the end", "b901", 0, 0},
        {"string length near 2^64", "bfffffffffffffffff", 0, 0},
        {"trailing byte after a string", "8080", 0, 1},
        {"trailing byte after a single byte", "0102", 0, 1},
        {"trailing byte after a list", "c000", 0, 1},
        {"trailing byte after a nested list", "c1c000", 0, 2},
        {"list past the end", "c1", 0, 0},
        {"long list form, length 0", "f800", 0, 0},
        {"long list form, length 55", "f837", 55, 0},
        {"list length with a leading zero", "f90038", 56, 0},
        {"long list past the end", "f838", 55, 0},
        {"list length of length past the end", "fa0001", 0, 0},
        {"list length near 2^64", "ffffffffffffffffff", 0, 0},
        {"wrapped byte inside a list", "c28105", 0, 1},
        {"long form below 56 inside a list", "c3b80161", 0, 1},
        {"leading zero length inside a list", "c4b9000161", 0, 1},
        {"long list leading zero inside a list", "c3f90000", 0, 1},
        {"list past its parent's end", "c1c1", 0, 1},
        {"item past its list's end, inside the input", "c4c1826162", 0, 2},
        {"second item past its list's end", "c5c201826162", 0, 3},
        {"wrapped byte four lists deep", "c5c4c3c28100", 0, 4},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t *in;
        size_t len;
        ct_rlp_item item;
        json_t *j = NULL;
        char want[64];

        bytes_of(&in, &len, bad[i].hex, bad[i].fill);
        if (ct_rlp_decode(&item, in, len) != CT_EPARSE)
            fail_msg("%s: accepted", bad[i].name);
        snprintf(want, sizeof(want), "at offset %zu", bad[i].offset);
        if (strstr(ct_error_last(), want) == NULL)
            fail_msg("%s: message '%s' lacks '%s'", bad[i].name, ct_error_last(), want);
        if (ct_rlp_to_json(&j, in, len) != CT_EPARSE)
            fail_msg("%s: to_json accepted", bad[i].name);
        assert_null(j);
        free(in);
    }
}

static void accepts_boundary_forms(void **state)
{
    static const struct {
        const char *hex;
        size_t fill;
        bool is_list;
        size_t payload;
    } good[] = {
        {"00", 0, false, 1},     {"7f", 0, false, 1},         {"8180", 0, false, 1},
        {"81ff", 0, false, 1},   {"80", 0, false, 0},         {"b7", 55, false, 55},
        {"b838", 56, false, 56}, {"c0", 0, true, 0},          {"f7", 55, true, 55},
        {"f838", 56, true, 56},  {"b90100", 256, false, 256}, {"c4c3c2c1c0", 0, true, 4},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint8_t *in;
        size_t len;
        ct_rlp_item item;

        bytes_of(&in, &len, good[i].hex, good[i].fill);
        if (ct_rlp_decode(&item, in, len) < 0)
            fail_msg("%s: %s", good[i].hex, ct_error_last());
        assert_int_equal(item.is_list, good[i].is_list);
        assert_int_equal(item.len, good[i].payload);
        assert_ptr_equal(item.data + item.len, in + len);
        free(in);
    }
}

/* Builds levels nested empty lists by hand (the writer stops at 32).
 * Out: *out malloc'd, *len. */
static void nested_lists(uint8_t **out, size_t *len, size_t levels)
{
    size_t cap = 5 * levels + 1, pos = cap - 1, payload = 1;
    uint8_t *b = malloc(cap);

    assert_non_null(b);
    b[pos] = 0xc0;
    for (size_t i = 1; i < levels; i++) {
        if (payload < 56) {
            b[--pos] = (uint8_t)(0xc0 + payload);
        } else {
            size_t ll = 0;
            for (size_t v = payload; v != 0; v >>= 8) {
                b[--pos] = (uint8_t)v;
                ll++;
            }
            b[--pos] = (uint8_t)(0xf7 + ll);
        }
        payload = cap - pos;
    }
    memmove(b, b + pos, cap - pos);
    *out = b;
    *len = cap - pos;
}

static void decodes_any_depth_without_recursion(void **state)
{
    uint8_t *in;
    size_t len;
    ct_rlp_item item;
    json_t *j = NULL;
    (void)state;

    /* Deep enough to overflow the stack of a recursive decoder. */
    nested_lists(&in, &len, 1000000);
    ctt_ok(ct_rlp_decode(&item, in, len));
    assert_true(item.is_list);
    assert_int_equal(ct_rlp_to_json(&j, in, len), CT_ELIMIT);
    assert_null(j);
    /* One byte appended to the innermost list's payload breaks every
     * enclosing length, and the decoder must notice. */
    in[len - 1] = 0xc1;
    assert_int_equal(ct_rlp_decode(&item, in, len), CT_EPARSE);
    free(in);

    nested_lists(&in, &len, CT_RLP_MAX_DEPTH);
    ctt_ok(ct_rlp_to_json(&j, in, len));
    assert_int_equal(ct_json_depth(j), CT_RLP_MAX_DEPTH);
    json_decref(j);
    free(in);
    nested_lists(&in, &len, CT_RLP_MAX_DEPTH + 1);
    assert_int_equal(ct_rlp_to_json(&j, in, len), CT_ELIMIT);
    free(in);
}

static void iterates_lists(void **state)
{
    /* ethers' assortedSingle1: ["0x02", "0x7f", "0x80", "0xff", ["0x7e", "0x02"]]. */
    static const uint8_t in[] = {0xc9, 0x02, 0x7f, 0x81, 0x80, 0x81, 0xff, 0xc2, 0x7e, 0x02};
    static const uint8_t want[] = {0x02, 0x7f, 0x80, 0xff};
    static const uint8_t bad_payload[] = {0x81, 0x05};
    ct_rlp_item top, it, inner;
    ct_rlp_iter iter, sub;
    (void)state;

    ctt_ok(ct_rlp_decode(&top, in, sizeof(in)));
    ct_rlp_iter_init(&iter, &top);
    for (size_t i = 0; i < sizeof(want); i++) {
        assert_int_equal(ct_rlp_iter_next(&iter, &it), 1);
        assert_false(it.is_list);
        assert_int_equal(it.len, 1);
        assert_int_equal(it.data[0], want[i]);
    }
    assert_int_equal(ct_rlp_iter_next(&iter, &it), 1);
    assert_true(it.is_list);
    ct_rlp_iter_init(&sub, &it);
    assert_int_equal(ct_rlp_iter_next(&sub, &inner), 1);
    assert_int_equal(inner.data[0], 0x7e);
    assert_int_equal(ct_rlp_iter_next(&sub, &inner), 1);
    assert_int_equal(inner.data[0], 0x02);
    assert_int_equal(ct_rlp_iter_next(&sub, &inner), 0);
    assert_int_equal(ct_rlp_iter_next(&iter, &it), 0);
    assert_int_equal(ct_rlp_iter_next(&iter, &it), 0);

    /* An item built by hand is checked by the iterator too. */
    top = (ct_rlp_item){.data = bad_payload, .len = sizeof(bad_payload), .is_list = true};
    ct_rlp_iter_init(&iter, &top);
    assert_int_equal(ct_rlp_iter_next(&iter, &it), CT_EPARSE);
}

/* ---------------------------------------------------------------- integers */

static void reads_canonical_integers(void **state)
{
    static const struct {
        const char *hex;
        int rc;
        uint64_t v;
    } cases[] = {
        {"80", 0, 0},
        {"01", 0, 1},
        {"7f", 0, 0x7f},
        {"8180", 0, 0x80},
        {"820400", 0, 1024},
        {"88ffffffffffffffff", 0, UINT64_MAX},
        {"89010000000000000000", CT_ERANGE, 0},
        {"00", CT_EPARSE, 0},
        {"820001", CT_EPARSE, 0},
        {"c0", CT_EPARSE, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *in;
        size_t len;
        ct_rlp_item item;
        uint64_t v = 42;
        ct_u256 u;
        int rc;

        bytes_of(&in, &len, cases[i].hex, 0);
        ctt_ok(ct_rlp_decode(&item, in, len));
        rc = ct_rlp_item_uint(&v, &item);
        if (rc != cases[i].rc)
            fail_msg("%s: returned %d, want %d", cases[i].hex, rc, cases[i].rc);
        if (rc == 0) {
            assert_int_equal(v, cases[i].v);
            ctt_ok(ct_rlp_item_u256(&u, &item));
            uint64_t back;
            ctt_ok(ct_u256_to_u64(&back, &u));
            assert_int_equal(back, cases[i].v);
        } else if (rc == CT_EPARSE) {
            assert_int_equal(ct_rlp_item_u256(&u, &item), CT_EPARSE);
        }
        free(in);
    }
}

static void reads_u256_limits(void **state)
{
    uint8_t *in;
    size_t len;
    ct_rlp_item item;
    ct_u256 u, max;
    uint64_t v;
    (void)state;

    memset(max.b, 0xff, sizeof(max.b));
    bytes_of(&in, &len, "a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0);
    ctt_ok(ct_rlp_decode(&item, in, len));
    ctt_ok(ct_rlp_item_u256(&u, &item));
    assert_memory_equal(u.b, max.b, 32);
    assert_int_equal(ct_rlp_item_uint(&v, &item), CT_ERANGE);
    free(in);
    bytes_of(&in, &len, "a1010000000000000000000000000000000000000000000000000000000000000000", 0);
    ctt_ok(ct_rlp_decode(&item, in, len));
    assert_int_equal(ct_rlp_item_u256(&u, &item), CT_ERANGE);
    free(in);
    bytes_of(&in, &len, "a000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0);
    ctt_ok(ct_rlp_decode(&item, in, len));
    assert_int_equal(ct_rlp_item_u256(&u, &item), CT_EPARSE);
    free(in);
}

/* ---------------------------------------------------------------- writer */

/* Finishes w and compares its bytes with want (hex, then fill 0x01s). */
static void assert_written(ct_rlp_writer *w, const char *hex, size_t fill)
{
    uint8_t *want;
    size_t want_len, len;

    ctt_ok(ct_rlp_finish(w, &len));
    bytes_of(&want, &want_len, hex, fill);
    assert_int_equal(len, want_len);
    assert_memory_equal(w->buf, want, len);
    free(want);
}

static void writes_integers(void **state)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } cases[] = {
        {0, "80"},      {1, "01"},         {0x7f, "7f"},     {0x80, "8180"},
        {0xff, "81ff"}, {0x100, "820100"}, {1024, "820400"}, {UINT64_MAX, "88ffffffffffffffff"},
    };
    uint8_t buf[64];
    ct_rlp_writer w;
    ct_u256 u;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ct_rlp_writer_init(&w, buf, sizeof(buf));
        ct_rlp_put_uint(&w, cases[i].v);
        assert_written(&w, cases[i].hex, 0);
        ct_u256_from_u64(&u, cases[i].v);
        ct_rlp_writer_init(&w, buf, sizeof(buf));
        ct_rlp_put_u256(&w, &u);
        assert_written(&w, cases[i].hex, 0);
    }
    memset(u.b, 0xff, sizeof(u.b));
    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_put_u256(&w, &u);
    assert_written(&w, "a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0);
    memset(u.b, 0, sizeof(u.b));
    u.b[0] = 0x80;
    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_put_u256(&w, &u);
    assert_written(&w, "a08000000000000000000000000000000000000000000000000000000000000000", 0);
}

static void writes_length_boundaries(void **state)
{
    uint8_t buf[400], data[300];
    ct_rlp_writer w;
    (void)state;

    memset(data, 0x01, sizeof(data));
    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_put_bytes(&w, NULL, 0);
    ct_rlp_put_bytes(&w, (const uint8_t *)"\x00", 1);
    ct_rlp_put_bytes(&w, (const uint8_t *)"\x80", 1);
    assert_written(&w, "80008180", 0);

    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_put_bytes(&w, data, 55);
    assert_written(&w, "b7", 55);
    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_put_bytes(&w, data, 56);
    assert_written(&w, "b838", 56);
    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_put_bytes(&w, data, 256);
    assert_written(&w, "b90100", 256);

    /* 55 one-byte items make a 55-byte payload, 56 the first long list. */
    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_list_begin(&w);
    for (int i = 0; i < 55; i++)
        ct_rlp_put_uint(&w, 1);
    ct_rlp_list_end(&w);
    assert_written(&w, "f7", 55);
    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_list_begin(&w);
    for (int i = 0; i < 56; i++)
        ct_rlp_put_uint(&w, 1);
    ct_rlp_list_end(&w);
    assert_written(&w, "f838", 56);
    /* A long list inside a long list moves twice. */
    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_list_begin(&w);
    ct_rlp_list_begin(&w);
    ct_rlp_put_bytes(&w, data, 254);
    ct_rlp_list_end(&w);
    ct_rlp_list_end(&w);
    assert_written(&w, "f90103f90100b8fe", 254);
}

static void writer_errors(void **state)
{
    uint8_t buf[64];
    ct_rlp_writer w;
    size_t len = 99;
    (void)state;

    ct_rlp_writer_init(&w, NULL, 0);
    ct_rlp_put_uint(&w, 0);
    assert_int_equal(ct_rlp_finish(&w, &len), CT_ELIMIT);
    assert_int_equal(len, 99);

    /* "abc" needs 4 bytes; the error is sticky and later writes do nothing. */
    ct_rlp_writer_init(&w, buf, 3);
    ct_rlp_put_bytes(&w, (const uint8_t *)"abc", 3);
    ct_rlp_put_uint(&w, 1);
    assert_int_equal(w.len, 0);
    assert_int_equal(ct_rlp_finish(&w, &len), CT_ELIMIT);
    ct_error_clear();
    assert_int_equal(ct_rlp_finish(&w, &len), CT_ELIMIT);
    assert_true(strlen(ct_error_last()) > 0);

    /* The payload fits but the list header does not. */
    ct_rlp_writer_init(&w, buf, 2);
    ct_rlp_list_begin(&w);
    ct_rlp_put_uint(&w, 1);
    ct_rlp_put_uint(&w, 2);
    ct_rlp_list_end(&w);
    assert_int_equal(ct_rlp_finish(&w, &len), CT_ELIMIT);
    ct_rlp_writer_init(&w, buf, 3);
    ct_rlp_list_begin(&w);
    ct_rlp_put_uint(&w, 1);
    ct_rlp_put_uint(&w, 2);
    ct_rlp_list_end(&w);
    assert_written(&w, "c20102", 0);

    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_list_begin(&w);
    ct_rlp_list_begin(&w);
    ct_rlp_list_end(&w);
    assert_int_equal(ct_rlp_finish(&w, &len), CT_ESTATE);
    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_list_end(&w);
    assert_int_equal(ct_rlp_finish(&w, &len), CT_ESTATE);
}

static void writer_depth_limit(void **state)
{
    uint8_t buf[64];
    ct_rlp_writer w;
    ct_rlp_item item;
    size_t len;
    (void)state;

    ct_rlp_writer_init(&w, buf, sizeof(buf));
    for (int i = 0; i < CT_RLP_MAX_DEPTH; i++)
        ct_rlp_list_begin(&w);
    for (int i = 0; i < CT_RLP_MAX_DEPTH; i++)
        ct_rlp_list_end(&w);
    ctt_ok(ct_rlp_finish(&w, &len));
    assert_int_equal(len, CT_RLP_MAX_DEPTH);
    assert_int_equal(buf[0], 0xc0 + CT_RLP_MAX_DEPTH - 1);
    assert_int_equal(buf[len - 1], 0xc0);
    ctt_ok(ct_rlp_decode(&item, buf, len));

    ct_rlp_writer_init(&w, buf, sizeof(buf));
    for (int i = 0; i <= CT_RLP_MAX_DEPTH; i++)
        ct_rlp_list_begin(&w);
    for (int i = 0; i <= CT_RLP_MAX_DEPTH; i++)
        ct_rlp_list_end(&w);
    assert_int_equal(ct_rlp_finish(&w, &len), CT_ELIMIT);
}

/* ---------------------------------------------------------------- JSON */

/* Parses JSON text and expects ct_rlp_from_json to fail with rc and a
 * message containing where. */
static void from_json_fails(const char *text, int rc, const char *where)
{
    json_t *v;
    uint8_t *out = NULL;
    size_t len;
    int got;

    ctt_ok(ct_json_parse(&v, text, strlen(text), 64));
    got = ct_rlp_from_json(&out, &len, v);
    if (got != rc)
        fail_msg("%s: returned %d, want %d (%s)", text, got, rc, ct_error_last());
    if (strstr(ct_error_last(), where) == NULL)
        fail_msg("%s: message '%s' lacks '%s'", text, ct_error_last(), where);
    assert_null(out);
    json_decref(v);
}

static void from_json_rejects(void **state)
{
    (void)state;
    from_json_fails("5", CT_EINVAL, "$:");
    from_json_fails("[\"0x01\", [\"0x02\", null]]", CT_EINVAL, "$[1][1]");
    from_json_fails("[{}]", CT_EINVAL, "$[0]");
    from_json_fails("\"abc\"", CT_EPARSE, "$");
    from_json_fails("\"0X01\"", CT_EPARSE, "$");
    from_json_fails("\"0x1\"", CT_EPARSE, "$");
    from_json_fails("[\"0xzz\"]", CT_EPARSE, "$[0]");
    from_json_fails("[\"0x01\", [\"0x02\", \"0x12zz\"]]", CT_EPARSE, "$[1][1]");
    from_json_fails("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", CT_ELIMIT,
                    "$[0][0]");
}

static void from_json_limits(void **state)
{
    size_t n = (1u << 20) + 1;
    char *hex = malloc(2 * n + 3);
    json_t *v, *arr;
    uint8_t *out = NULL;
    size_t len;
    (void)state;

    /* 32 nested lists are fine. */
    const char *deep = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]";
    ctt_ok(ct_json_parse(&v, deep, strlen(deep), 64));
    ctt_ok(ct_rlp_from_json(&out, &len, v));
    assert_int_equal(len, CT_RLP_MAX_DEPTH);
    free(out);
    json_decref(v);

    /* A string past the 1 MiB cap, and many strings adding up past it. */
    assert_non_null(hex);
    memset(hex, '0', 2 * n + 2);
    hex[1] = 'x';
    hex[2 * n + 2] = '\0';
    v = json_string(hex);
    out = NULL;
    assert_int_equal(ct_rlp_from_json(&out, &len, v), CT_ELIMIT);
    assert_null(out);
    hex[2 * (n / 4) + 2] = '\0';
    arr = json_array();
    for (int i = 0; i < 5; i++)
        json_array_append_new(arr, json_string(hex));
    assert_int_equal(ct_rlp_from_json(&out, &len, arr), CT_ELIMIT);
    assert_null(out);
    json_decref(arr);
    json_decref(v);
    free(hex);
}

/* Builds a valid RLP string whose encoding is total bytes long (a 3-byte
 * long-form length). Out: malloc'd. */
static uint8_t *string_of_total(size_t total)
{
    uint8_t *in = calloc(1, total);
    size_t n = total - 4;

    assert_non_null(in);
    in[0] = 0xba;
    in[1] = (uint8_t)(n >> 16);
    in[2] = (uint8_t)(n >> 8);
    in[3] = (uint8_t)n;
    return in;
}

static void to_json_limits(void **state)
{
    size_t cap = 1u << 20;
    uint8_t *in;
    json_t *j = NULL;
    ct_rlp_item item;
    (void)state;

    /* Valid either way: the larger is refused for its size, not its form. */
    in = string_of_total(cap + 1);
    ctt_ok(ct_rlp_decode(&item, in, cap + 1));
    assert_int_equal(ct_rlp_to_json(&j, in, cap + 1), CT_ELIMIT);
    assert_null(j);
    free(in);
    in = string_of_total(cap);
    ctt_ok(ct_rlp_to_json(&j, in, cap));
    assert_int_equal(json_string_length(j), 2 + 2 * (cap - 4));
    json_decref(j);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ethers_vectors),
        cmocka_unit_test(rejects_malformed),
        cmocka_unit_test(accepts_boundary_forms),
        cmocka_unit_test(decodes_any_depth_without_recursion),
        cmocka_unit_test(iterates_lists),
        cmocka_unit_test(reads_canonical_integers),
        cmocka_unit_test(reads_u256_limits),
        cmocka_unit_test(writes_integers),
        cmocka_unit_test(writes_length_boundaries),
        cmocka_unit_test(writer_errors),
        cmocka_unit_test(writer_depth_limit),
        cmocka_unit_test(from_json_rejects),
        cmocka_unit_test(from_json_limits),
        cmocka_unit_test(to_json_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
