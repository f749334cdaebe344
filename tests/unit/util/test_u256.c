/* uint256: parsing, formatting and the arithmetic transactions need. */
#include "harness.h"

static const char max_dec[] =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";

static void parse_format(void **state)
{
    ct_u256 v;
    char dec[CT_U256_DEC_SIZE], hex[CT_U256_HEX_SIZE];
    (void)state;

    ctt_ok(ct_u256_parse(&v, "0"));
    assert_true(ct_u256_is_zero(&v));
    ct_u256_format_dec(dec, &v);
    ct_u256_format_hex(hex, &v);
    assert_string_equal(dec, "0");
    assert_string_equal(hex, "0x0");
    ctt_ok(ct_u256_parse(&v, max_dec));
    ct_u256_format_dec(dec, &v);
    assert_string_equal(dec, max_dec);
    ct_u256_format_hex(hex, &v);
    assert_int_equal(strlen(hex), 66);
    assert_int_equal(ct_u256_bits(&v), 256);
    ctt_ok(
        ct_u256_parse(&v, "0x00000000000000000000000000000000000000000000000000000000000000001"));
    assert_int_equal(ct_u256_bits(&v), 1);
    ctt_ok(ct_u256_parse(&v, "0xDE0B6B3A7640000"));
    ct_u256_format_dec(dec, &v);
    assert_string_equal(dec, "1000000000000000000");
    ct_u256_format_hex(hex, &v);
    assert_string_equal(hex, "0xde0b6b3a7640000");
    uint64_t u;
    ctt_ok(ct_u256_to_u64(&u, &v));
    assert_true(u == 1000000000000000000ULL);
}

static void rejects(void **state)
{
    ct_u256 v;
    (void)state;

    assert_int_equal(
        ct_u256_parse(
            &v, "115792089237316195423570985008687907853269984665640564039457584007913129639936"),
        CT_ERANGE);
    assert_int_equal(
        ct_u256_parse(&v, "0x10000000000000000000000000000000000000000000000000000000000000000"),
        CT_ERANGE);
    static const char *const bad[] = {"", "0x", "-1", "1.5", "0xg", " 1", "1e18"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ct_u256_parse(&v, bad[i]) != CT_EPARSE)
            fail_msg("accepted '%s'", bad[i]);
    ctt_ok(ct_u256_parse(&v, "18446744073709551616"));
    uint64_t u;
    assert_int_equal(ct_u256_to_u64(&u, &v), CT_ERANGE);
}

static void arithmetic(void **state)
{
    ct_u256 a, b, max, r;
    char dec[CT_U256_DEC_SIZE];
    (void)state;

    ct_u256_from_u64(&a, UINT64_MAX);
    ct_u256_from_u64(&b, 1);
    ctt_ok(ct_u256_add(&r, &a, &b));
    ct_u256_format_dec(dec, &r);
    assert_string_equal(dec, "18446744073709551616");
    ctt_ok(ct_u256_mul_u64(&r, &r, UINT64_MAX));
    ct_u256_format_dec(dec, &r);
    assert_string_equal(dec, "340282366920938463444927863358058659840");
    ctt_ok(ct_u256_parse(&max, max_dec));
    assert_int_equal(ct_u256_add(&r, &max, &b), CT_ERANGE);
    assert_int_equal(ct_u256_mul_u64(&r, &max, 2), CT_ERANGE);
    assert_true(ct_u256_cmp(&a, &max) < 0);
    assert_true(ct_u256_cmp(&max, &a) > 0);
    assert_int_equal(ct_u256_cmp(&a, &a), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_format),
        cmocka_unit_test(rejects),
        cmocka_unit_test(arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
