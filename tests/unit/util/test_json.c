/* Bounded JSON parsing and field getters for request bodies. */
#include "harness.h"

static void parse_and_get(void **state)
{
    json_t *v;
    const char *s;
    int64_t i;
    bool b;
    static const char text[] = "{\"vc_tag\":\"0xab\",\"vram\":1024,\"up\":true,\"n\":null}";
    (void)state;

    ctt_ok(ct_json_parse(&v, text, strlen(text), CT_JSON_MAX_DEPTH));
    ctt_ok(ct_json_get_string(&s, v, "vc_tag", false));
    assert_string_equal(s, "0xab");
    ctt_ok(ct_json_get_int(&i, v, "vram", false));
    assert_int_equal(i, 1024);
    ctt_ok(ct_json_get_bool(&b, v, "up", false));
    assert_true(b);
    assert_int_equal(ct_json_get_string(&s, v, "missing", true), CT_ENOTFOUND);
    assert_int_equal(ct_json_get_string(&s, v, "n", true), CT_ENOTFOUND);
    assert_int_equal(ct_json_get_string(&s, v, "missing", false), CT_EINVAL);
    assert_string_equal(ct_error_last(), "field 'missing' is required");
    assert_int_equal(ct_json_get_string(&s, v, "vram", false), CT_EINVAL);
    assert_string_equal(ct_error_last(), "field 'vram' must be a string, not an integer");
    assert_int_equal(ct_json_get_int(&i, v, "up", false), CT_EINVAL);
    static const char *const allowed[] = {"vc_tag", "vram", "up", "n", NULL};
    ctt_ok(ct_json_check_keys(v, allowed));
    static const char *const fewer[] = {"vc_tag", "vram", NULL};
    assert_int_equal(ct_json_check_keys(v, fewer), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "unknown field"));
    char *out;
    ctt_ok(ct_json_dump(&out, v));
    assert_string_equal(out, text);
    free(out);
    json_decref(v);
}

static void rejects_hostile(void **state)
{
    json_t *v;
    char deep[300];
    (void)state;

    memset(deep, '[', 150);
    memset(deep + 150, ']', 150);
    assert_int_equal(ct_json_parse(&v, deep, sizeof(deep), CT_JSON_MAX_DEPTH), CT_ELIMIT);
    ctt_ok(ct_json_parse(&v, deep + 100, 100, CT_JSON_MAX_DEPTH));
    assert_int_equal(ct_json_depth(v), 50);
    json_decref(v);
    assert_int_equal(ct_json_parse(&v, "{\"a\":1,\"a\":2}", 13, 8), CT_EPARSE);
    assert_int_equal(ct_json_parse(&v, "{\"a\":", 5, 8), CT_EPARSE);
    assert_non_null(strstr(ct_error_last(), "line 1"));
    assert_int_equal(ct_json_parse(&v, "\"\\u0000\"", 8, 8), CT_EPARSE);
    assert_int_equal(ct_json_parse(&v, "[1]x", 4, 8), CT_EPARSE);
    assert_int_equal(ct_json_parse(&v, "99999999999999999999", 20, 8), CT_EPARSE);
    json_t *num = json_integer(1);
    static const char *const none[] = {NULL};
    assert_int_equal(ct_json_check_keys(num, none), CT_EINVAL);
    json_decref(num);
}

/* Reals print in their shortest exact form: the SLA answer printed
 * "target":99.900000000000006 before. */
static void shortest_reals(void **state)
{
    static const struct {
        double x;
        const char *want;
    } cases[] = {
        {99.9, "[99.9]"},           {0.1 + 0.2, "[0.30000000000000004]"},
        {1e300, "[1e300]"},         {-2.5, "[-2.5]"},
        {100.0, "[100.0]"},         {5e-324, "[5e-324]"},
    };
    char *text;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = json_pack("[f]", cases[i].x);
        ctt_ok(ct_json_dump(&text, v));
        assert_string_equal(text, cases[i].want);
        json_t *back = NULL;
        ctt_ok(ct_json_parse(&back, text, strlen(text), 4));
        assert_true(json_real_value(json_array_get(back, 0)) == cases[i].x);
        json_decref(back);
        free(text);
        json_decref(v);
    }
    /* One dump: every real with the digits the most demanding one needs. */
    json_t *v = json_pack("{s:f, s:[i, f]}", "a", 99.9, "b", 7, 0.1 + 0.2);
    ctt_ok(ct_json_dump(&text, v));
    assert_string_equal(text, "{\"a\":99.900000000000006,\"b\":[7,0.30000000000000004]}");
    free(text);
    json_decref(v);
    v = json_pack("{s:f, s:i}", "target", 99.9, "n", 3);
    ctt_ok(ct_json_dump(&text, v));
    assert_string_equal(text, "{\"target\":99.9,\"n\":3}");
    free(text);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_get),
        cmocka_unit_test(rejects_hostile),
        cmocka_unit_test(shortest_reals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
