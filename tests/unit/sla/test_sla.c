/* SLA computation on hand-made histories with known answers. */
#include "harness.h"

#include "catena/sla.h"

#define H (3600 * 1000LL)

static void always_up(void **state)
{
    ct_sla_event ev[] = {{0, CT_SLA_REGISTERED_UP}};
    ct_sla_report r;
    (void)state;

    ctt_ok(ct_sla_compute(&r, ev, 1, 0, 10 * H, 99.9));
    assert_int_equal(r.downtime_ms, 0);
    assert_true(r.availability == 100.0);
    assert_int_equal(r.state, CT_SLA_OK);
    assert_int_equal(r.n_intervals, 0);
    ct_sla_report_clear(&r);
}

/* Down 1 h of a 10 h window: 90 %. */
static void down_interval_and_states(void **state)
{
    ct_sla_event ev[] = {{0, CT_SLA_REGISTERED_UP}, {2 * H, CT_SLA_DOWN}, {3 * H, CT_SLA_UP}};
    ct_sla_report r;
    (void)state;

    ctt_ok(ct_sla_compute(&r, ev, 3, 0, 10 * H, 95));
    assert_int_equal(r.downtime_ms, H);
    assert_true(r.availability > 89.999 && r.availability < 90.001);
    assert_int_equal(r.state, CT_SLA_VIOLATED);
    assert_int_equal(r.n_intervals, 1);
    assert_int_equal(r.intervals[0].from_ms, 2 * H);
    assert_int_equal(r.intervals[0].to_ms, 3 * H);
    assert_string_equal(r.intervals[0].reason, "down");
    ct_sla_report_clear(&r);
    /* 90 % against 88 %: allowed 1.2 h, used 1 h (83 %): at risk. */
    ctt_ok(ct_sla_compute(&r, ev, 3, 0, 10 * H, 88));
    assert_int_equal(r.state, CT_SLA_AT_RISK);
    ct_sla_report_clear(&r);
    /* Against 80 %: allowed 2 h, used half: ok. */
    ctt_ok(ct_sla_compute(&r, ev, 3, 0, 10 * H, 80));
    assert_int_equal(r.state, CT_SLA_OK);
    ct_sla_report_clear(&r);
    /* A window that starts inside the outage is clipped to it. */
    ctt_ok(ct_sla_compute(&r, ev, 3, 2 * H + H / 2, 4 * H, 50));
    assert_int_equal(r.downtime_ms, H / 2);
    assert_int_equal(r.measured_ms, H + H / 2);
    ct_sla_report_clear(&r);
}

/* Migration without a live report counts as down; with one it does not
 * after the report. */
static void migrations(void **state)
{
    ct_sla_event cold[] = {
        {0, CT_SLA_REGISTERED_UP}, {4 * H, CT_SLA_MIGRATION_START}, {5 * H, CT_SLA_MIGRATION_END}};
    ct_sla_event live[] = {{0, CT_SLA_REGISTERED_UP},
                           {4 * H, CT_SLA_MIGRATION_START},
                           {4 * H + H / 4, CT_SLA_UP},
                           {5 * H, CT_SLA_MIGRATION_END}};
    ct_sla_event down_during[] = {{0, CT_SLA_REGISTERED_UP},
                                  {4 * H, CT_SLA_MIGRATION_START},
                                  {4 * H + H / 2, CT_SLA_DOWN},
                                  {5 * H, CT_SLA_MIGRATION_END},
                                  {6 * H, CT_SLA_UP}};
    ct_sla_report r;
    (void)state;

    ctt_ok(ct_sla_compute(&r, cold, 3, 0, 10 * H, 99));
    assert_int_equal(r.downtime_ms, H);
    assert_string_equal(r.intervals[0].reason, "migration");
    ct_sla_report_clear(&r);
    ctt_ok(ct_sla_compute(&r, live, 4, 0, 10 * H, 99));
    assert_int_equal(r.downtime_ms, H / 4);
    ct_sla_report_clear(&r);
    ctt_ok(ct_sla_compute(&r, down_during, 5, 0, 10 * H, 99));
    /* 4h-4.5h migration, 4.5h-6h down: two intervals, 2 h. */
    assert_int_equal(r.n_intervals, 2);
    assert_string_equal(r.intervals[0].reason, "migration");
    assert_string_equal(r.intervals[1].reason, "down");
    assert_int_equal(r.downtime_ms, 2 * H);
    ct_sla_report_clear(&r);
}

static void retirement_and_errors(void **state)
{
    ct_sla_event ev[] = {{H, CT_SLA_REGISTERED_DOWN}, {2 * H, CT_SLA_UP}, {5 * H, CT_SLA_RETIRED}};
    ct_sla_event bad[] = {{H, CT_SLA_UP}};
    ct_sla_event unsorted[] = {{H, CT_SLA_REGISTERED_UP}, {0, CT_SLA_DOWN}};
    ct_sla_report r;
    (void)state;

    ctt_ok(ct_sla_compute(&r, ev, 3, 0, 10 * H, 50));
    assert_int_equal(r.from_ms, H);
    assert_int_equal(r.to_ms, 5 * H);
    assert_int_equal(r.downtime_ms, H);
    assert_true(r.availability > 74.999 && r.availability < 75.001);
    ct_sla_report_clear(&r);
    assert_int_equal(ct_sla_compute(&r, bad, 1, 0, H, 50), CT_EINVAL);
    assert_int_equal(ct_sla_compute(&r, unsorted, 2, 0, H, 50), CT_EINVAL);
    assert_int_equal(ct_sla_compute(&r, ev, 3, H, H, 50), CT_EINVAL);
    assert_int_equal(ct_sla_compute(&r, ev, 3, 0, H, 101), CT_EINVAL);
    assert_string_equal(ct_sla_state_name(CT_SLA_AT_RISK), "at_risk");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(always_up),
        cmocka_unit_test(down_interval_and_states),
        cmocka_unit_test(migrations),
        cmocka_unit_test(retirement_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
