/* The gateway's UTF-8 repair of messages that echo a request: valid text
 * stays as it is, every invalid byte becomes '?', so the JSON answer can
 * always be encoded (issue 11 item 10: such echoes were 500s). */
#include "harness.h"

#include "../../../src/api/api_int.h"

static void check(const char *in, const char *want)
{
    char buf[64];

    snprintf(buf, sizeof(buf), "%s", in);
    ct_api__utf8_fix(buf);
    assert_string_equal(buf, want);
    json_t *j = json_string(buf);
    assert_non_null(j); /* jansson accepts it */
    json_decref(j);
}

static void utf8_fix(void **state)
{
    (void)state;
    check("plain ascii", "plain ascii");
    check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    check("a\xff" "b\xfe", "a?b?");
    check("\xc0\xaf", "??");                 /* overlong '/' */
    check("\xed\xa0\x80", "???");            /* a UTF-16 surrogate */
    check("\xf4\x90\x80\x80", "????");       /* past U+10FFFF */
    check("\xe2\x82", "??");                 /* cut short */
    check("x\xc3", "x?");
}

static void error_echo(void **state)
{
    api_resp resp = {0};
    (void)state;

    ct_api__error(&resp, 404, "no such endpoint: GET %s", "/api/\xff\xfe");
    assert_int_equal(resp.status, 404);
    assert_non_null(resp.json);
    assert_string_equal(json_string_value(json_object_get(resp.json, "error")),
                        "no such endpoint: GET /api/??");
    json_decref(resp.json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_fix),
        cmocka_unit_test(error_echo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
