/* Hex, capped buffers and strict number parsing. */
#include "harness.h"

static void hex_round_trip(void **state)
{
    uint8_t in[] = {0x00, 0x01, 0xab, 0xff}, out[8];
    char text[16];
    size_t n;
    (void)state;

    ctt_ok(ct_hex_encode(text, sizeof(text), in, sizeof(in), true));
    assert_string_equal(text, "0x0001abff");
    ctt_ok(ct_hex_decode(out, sizeof(out), &n, "0x0001ABff", 10));
    assert_int_equal(n, 4);
    assert_memory_equal(out, in, 4);
    ctt_ok(ct_hex_decode(out, sizeof(out), &n, "", 0));
    assert_int_equal(n, 0);
    ctt_ok(ct_hex_decode(out, sizeof(out), &n, "0x", 2));
    assert_int_equal(n, 0);
}

static void hex_rejects(void **state)
{
    uint8_t out[2];
    char text[4];
    size_t n;
    (void)state;

    assert_int_equal(ct_hex_decode(out, sizeof(out), &n, "0x123", 5), CT_EPARSE);
    assert_int_equal(ct_hex_decode(out, sizeof(out), &n, "0xzz", 4), CT_EPARSE);
    assert_non_null(strstr(ct_error_last(), "offset 2"));
    assert_int_equal(ct_hex_decode(out, sizeof(out), &n, "010203", 6), CT_ELIMIT);
    assert_int_equal(ct_hex_encode(text, sizeof(text), out, 2, false), CT_ELIMIT);
}

static void buf_caps(void **state)
{
    ct_buf b;
    (void)state;

    ct_buf_init(&b, 10);
    ctt_ok(ct_buf_append(&b, "hello", 5));
    ctt_ok(ct_buf_appendf(&b, "%d", 1234));
    assert_string_equal(b.data, "hello1234");
    assert_int_equal(ct_buf_append(&b, "xy", 2), CT_ELIMIT);
    assert_string_equal(b.data, "hello1234"); /* unchanged on failure */
    assert_int_equal(ct_buf_appendf(&b, "%s", "long"), CT_ELIMIT);
    ctt_ok(ct_buf_append(&b, "!", 1));
    assert_int_equal(b.len, 10);
    ct_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    char *p = ct_buf_detach(&b);
    assert_string_equal(p, "");
    free(p);
    ct_buf_free(&b);
    ct_buf_free(&b); /* twice is fine */
}

static void numbers(void **state)
{
    uint64_t v;
    (void)state;

    ctt_ok(ct_parse_uint(&v, "0", 10));
    assert_int_equal(v, 0);
    ctt_ok(ct_parse_uint(&v, "65535", 65535));
    assert_int_equal(v, 65535);
    ctt_ok(ct_parse_uint(&v, "0xFFff", 65535));
    assert_int_equal(v, 65535);
    ctt_ok(ct_parse_uint(&v, "18446744073709551615", UINT64_MAX));
    assert_true(v == UINT64_MAX);
    assert_int_equal(ct_parse_uint(&v, "18446744073709551616", UINT64_MAX), CT_ERANGE);
    assert_int_equal(ct_parse_uint(&v, "65536", 65535), CT_ERANGE);
    assert_int_equal(ct_parse_uint(&v, "5", 0), CT_ERANGE);
    static const char *const bad[] = {"", "-1", "+1", " 1", "1 ", "0x", "12a", "0xg", "1e3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ct_parse_uint(&v, bad[i], UINT64_MAX) != CT_EPARSE)
            fail_msg("accepted '%s'", bad[i]);
}

static void errors_and_log(void **state)
{
    (void)state;
    assert_int_equal(ct_error_set(CT_EIO, "disk %d", 7), CT_EIO);
    assert_string_equal(ct_error_last(), "disk 7");
    assert_int_equal(ct_error_wrap("saving %s", "x"), CT_EIO);
    assert_string_equal(ct_error_last(), "saving x: disk 7");
    assert_int_equal(ct_error_code(), CT_EIO);
    /* The last message may be an argument of the next one. */
    ct_error_set(CT_EIO, "disk %d", 7);
    ct_error_set(CT_EINVAL, "field 'x': %s", ct_error_last());
    assert_string_equal(ct_error_last(), "field 'x': disk 7");
    ct_error_clear();
    assert_int_equal(ct_error_code(), CT_OK);
    assert_string_equal(ct_strerror(CT_EREVERT), "reverted");
    int level;
    ctt_ok(ct_log_level_parse(&level, "debug"));
    assert_int_equal(level, CT_LOG_DEBUG);
    assert_int_equal(ct_log_level_parse(&level, "loud"), CT_EINVAL);
}

static void log_sink(int level, const char *msg, void *payload)
{
    ct_buf *b = payload;
    ct_buf_appendf(b, "%s:%s;", ct_log_level_name(level), msg);
}

static void log_levels(void **state)
{
    ct_buf b;
    (void)state;

    ct_buf_init(&b, 1024);
    ct_log_set(CT_LOG_INFO, log_sink, &b);
    ct_log(CT_LOG_DEBUG, "hidden");
    ct_log(CT_LOG_WARN, "shown %d", 1);
    ct_log_set(CT_LOG_INFO, NULL, NULL);
    ct_log(CT_LOG_ERROR, "dropped");
    assert_string_equal(b.data, "warn:shown 1;");
    ct_buf_free(&b);
}

/* A dead child's log: its last 700 bytes, control characters shown. */
static void log_file_end(void **state)
{
    static const char words[] = "\x1b[31mlast\nwords";
    const char *path = ctt_path("%s/child.log", ctt_tmpdir());
    char text[1001], *at;
    ct_buf b;
    (void)state;

    memset(text, 'a', 1000);
    memcpy(text + 950, words, strlen(words));
    text[1000] = '\0';
    ctt_ok(ct_file_write_atomic(path, text, 1000, 0600));
    ct_buf_init(&b, 4096);
    ct_log_set(CT_LOG_ERROR, log_sink, &b);
    ct_log_file_end(CT_LOG_WARN, "hidden", path); /* below the level */
    ct_log_file_end(CT_LOG_ERROR, "the node's log", NULL);
    ct_log_file_end(CT_LOG_ERROR, "the node's log", ctt_path("%s/none", ctt_tmpdir()));
    assert_int_equal(b.len, 0);
    ct_log_file_end(CT_LOG_ERROR, "the node's log", path);
    ct_log_set(CT_LOG_INFO, NULL, NULL);
    assert_non_null(at = strstr(b.data, "ends:\n"));
    assert_int_equal(strlen(at + 6), 700 + 1); /* and the sink's ';' */
    assert_non_null(strstr(b.data, "?[31mlast\nwords"));
    ct_buf_free(&b);
    /* The reader under it: all of a shorter file, nothing of a missing one. */
    char tail[2000];
    assert_int_equal(ct_file_tail(tail, sizeof(tail), path), 1000);
    assert_int_equal(strlen(tail), 1000);
    assert_int_equal(ct_file_tail(tail, 11, path), 10);
    assert_string_equal(tail, "aaaaaaaaaa"); /* the last 10 bytes */
    assert_int_equal(ct_file_tail(tail, sizeof(tail), ctt_path("%s/none", ctt_tmpdir())), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex_round_trip), cmocka_unit_test(hex_rejects),
        cmocka_unit_test(buf_caps),       cmocka_unit_test(numbers),
        cmocka_unit_test(errors_and_log), cmocka_unit_test(log_levels),
        cmocka_unit_test(log_file_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
