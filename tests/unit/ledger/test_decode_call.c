/* ct_ledger_decode_call: calldata encoded with ct_ledger_encode_call
 * decodes back to the function and its named arguments; unknown
 * selectors, short and truncated input are refused. */
#include "harness.h"

#include "catena/ledger.h"

static void round_trip(void **state)
{
    ct_ledger *l;
    ct_buf b;
    json_t *args, *out = NULL;
    const char *name = NULL;
    (void)state;

    ctt_ok(ct_ledger_open(&l));
    ct_buf_init(&b, 1 << 16);
    args = json_pack("[s, b, i, i, i, s, s, s, i]", "openstack:vm", 1, 1, 1024, 10,
                     "b55f090c-67f0-4691-a736-104ebe82c2e9", "http://10.0.9.39", "http://10.0.9.2",
                     1536677183);
    ctt_ok(ct_ledger_encode_call(l, &b, "registerContainer", args));
    ctt_ok(ct_ledger_decode_call(l, &name, &out, (const uint8_t *)b.data, b.len));
    assert_string_equal(name, "registerContainer");
    assert_string_equal(json_string_value(json_object_get(out, "vcType")), "openstack:vm");
    assert_true(json_is_true(json_object_get(out, "available")));
    assert_string_equal(json_string_value(json_object_get(out, "vram")), "1024");
    assert_string_equal(json_string_value(json_object_get(out, "created")), "1536677183");
    json_decref(out);

    /* Truncated arguments are malformed; a foreign selector is unknown. */
    assert_int_equal(ct_ledger_decode_call(l, &name, &out, (const uint8_t *)b.data, b.len - 32),
                     CT_EPARSE);
    static const uint8_t foreign[8] = {0xde, 0xad, 0xbe, 0xef};
    assert_int_equal(ct_ledger_decode_call(l, &name, &out, foreign, sizeof(foreign)), CT_ENOTFOUND);
    assert_int_equal(ct_ledger_decode_call(l, &name, &out, foreign, 3), CT_ENOTFOUND);
    json_decref(args);
    ct_buf_free(&b);
    ct_ledger_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
