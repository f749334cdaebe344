/* ISO 8601 time parsing and formatting, including the seed's examples. */
#include "harness.h"

static void parses_seed_timestamp(void **state)
{
    int64_t ms;
    char out[CT_TIME_ISO8601_SIZE];
    (void)state;

    ctt_ok(ct_time_parse(&ms, "2018-09-11T14:46:23.470Z"));
    assert_int_equal(ms, 1536677183470LL);
    ctt_ok(ct_time_format(out, ms));
    assert_string_equal(out, "2018-09-11T14:46:23.470Z");
}

static void accepts_rfc3339_variants(void **state)
{
    static const struct {
        const char *in;
        int64_t ms;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00.000000001Z", 0},
        {"1970-01-01T00:00:00.9Z", 900},
        {"1970-01-01t00:00:01z", 1000},
        {"1970-01-01 00:00:01Z", 1000},
        {"1970-01-01T01:00:00+01:00", 0},
        {"1969-12-31T23:00:00-01:00", 0},
        {"1969-12-31T23:59:59.999Z", -1},
        {"2000-02-29T00:00:00Z", 951782400000LL},
        {"2024-12-31T23:59:59Z", 1735689599000LL},
        {"9999-12-31T23:59:59.999Z", 253402300799999LL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = -42;
        if (ct_time_parse(&ms, cases[i].in) < 0)
            fail_msg("%s: %s", cases[i].in, ct_error_last());
        assert_int_equal(ms, cases[i].ms);
    }
}

static void rejects_bad_times(void **state)
{
    static const char *const bad[] = {
        "",
        "2018",
        "2018-09-11",
        "2018-09-11T14:46:23",
        "2018-13-01T00:00:00Z",
        "2018-00-01T00:00:00Z",
        "2019-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2018-04-31T00:00:00Z",
        "2018-09-11T24:00:00Z",
        "2018-09-11T14:60:00Z",
        "2018-09-11T14:46:60Z",
        "2018-09-11T14:46:23.Z",
        "2018-09-11T14:46:23.1234567890Z",
        "2018-09-11T14:46:23Zjunk",
        "2018-09-11T14:46:23+0100",
        "2018-09-11T14:46:23+24:00",
        "+2018-09-11T14:46:23Z",
        "2018-9-11T14:46:23Z",
        "2018-09-11X14:46:23Z",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms;
        if (ct_time_parse(&ms, bad[i]) != CT_EPARSE)
            fail_msg("accepted '%s'", bad[i]);
        assert_true(strlen(ct_error_last()) > 0);
    }
}

static void formats_before_epoch_and_range(void **state)
{
    char out[CT_TIME_ISO8601_SIZE];
    (void)state;

    ctt_ok(ct_time_format(out, -1));
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    assert_int_equal(ct_time_format(out, 253402300800000LL), CT_ERANGE);
    /* Every day for 30 years round-trips through text. */
    for (int64_t ms = 0; ms < 30LL * 366 * 86400000; ms += 86400000 + 1234) {
        int64_t back;
        ctt_ok(ct_time_format(out, ms));
        ctt_ok(ct_time_parse(&back, out));
        assert_int_equal(back, ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_seed_timestamp),
        cmocka_unit_test(accepts_rfc3339_variants),
        cmocka_unit_test(rejects_bad_times),
        cmocka_unit_test(formats_before_epoch_and_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
