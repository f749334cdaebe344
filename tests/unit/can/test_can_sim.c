/* The CAN size simulation (seed 002, section 4.1.1): option checks, cases
 * whose answer follows from Algorithm 1 by hand, reproducibility from the
 * seed, and the figure. */
#include "harness.h"

#include "catena/can.h"

static ct_can_sim_opts one(double j, double f)
{
    ct_can_sim_opts o;

    ct_can_sim_defaults(&o);
    o.runs = 20;
    o.n_join = o.n_fail = 1;
    o.join[0] = j;
    o.fail[0] = f;
    return o;
}

static void rejects_bad_options(void **state)
{
    ct_can_sim_opts o;
    (void)state;

    ct_can_sim_defaults(&o);
    ctt_ok(ct_can_sim_check(&o));
    o.nmin = 0;
    assert_int_equal(ct_can_sim_check(&o), CT_EINVAL);
    ct_can_sim_defaults(&o);
    o.nmax = 3;
    assert_int_equal(ct_can_sim_check(&o), CT_EINVAL);
    ct_can_sim_defaults(&o);
    o.total = 9;
    assert_int_equal(ct_can_sim_check(&o), CT_EINVAL);
    ct_can_sim_defaults(&o);
    o.join[1] = 1.5;
    assert_int_equal(ct_can_sim_check(&o), CT_EINVAL);
    ct_can_sim_defaults(&o);
    o.steps = 0;
    assert_int_equal(ct_can_sim_check(&o), CT_EINVAL);
    ct_can_sim_defaults(&o);
    o.n_fail = 0;
    assert_int_equal(ct_can_sim_check(&o), CT_EINVAL);
    ct_can_sim_defaults(&o);
    o.runs = 100000;
    o.steps = 100000;
    assert_int_equal(ct_can_sim_check(&o), CT_EINVAL); /* too much work */
}

/* No crashes and everyone asking at once: the leader accepts while the
 * size is at most Nmin, then the surplus (1) exceeds the churn (never
 * positive without crashes), so the size is Nmin + 1 from the first step. */
static void no_failures_stop_at_nmin_plus_one(void **state)
{
    ct_can_sim_opts o = one(1, 0);
    ct_can_sim_stats st;
    (void)state;

    ctt_ok(ct_can_sim_run(&o, &st));
    assert_int_equal(st.min, o.nmin + 1);
    assert_int_equal(st.max, o.nmin + 1);
    assert_true(st.mean == o.nmin + 1);
    assert_true(st.below_min == 0 && st.empty == 0 && st.runs_emptied == 0);
    /* One request a step: the leader plus one member a step up to Nmin + 1. */
    o.joins = CT_CAN_SIM_ONE;
    ctt_ok(ct_can_sim_run(&o, &st));
    assert_int_equal(st.min, 2);
    assert_int_equal(st.max, o.nmin + 1);
    o.joins = CT_CAN_SIM_EACH;
    /* Nmax caps it when it is lower. */
    o.nmax = o.nmin;
    ctt_ok(ct_can_sim_run(&o, &st));
    assert_int_equal(st.max, o.nmin);
}

/* Every member crashes and nobody joins: empty from the first step on. */
static void all_crash_nobody_joins(void **state)
{
    ct_can_sim_opts o = one(0, 1);
    ct_can_sim_stats st;
    (void)state;

    ctt_ok(ct_can_sim_run(&o, &st));
    assert_int_equal(st.max, 0);
    assert_true(st.empty == 1 && st.below_min == 1 && st.mean == 0 && st.runs_emptied == 1);
    /* One crash a step takes the lone leader too. */
    o.crashes = CT_CAN_SIM_ONE;
    ctt_ok(ct_can_sim_run(&o, &st));
    assert_int_equal(st.max, 0);
}

/* The same seed gives the same numbers, another seed others; sizes stay
 * within 0..Nmax and the box is ordered. */
static void seeded_and_bounded(void **state)
{
    ct_can_sim_opts o;
    ct_can_sim_stats a[10], b[10], c[10];
    (void)state;

    ct_can_sim_defaults(&o);
    o.runs = 30;
    ctt_ok(ct_can_sim_run(&o, a));
    ctt_ok(ct_can_sim_run(&o, b));
    assert_memory_equal(a, b, sizeof(a));
    o.seed = 2;
    ctt_ok(ct_can_sim_run(&o, c));
    assert_memory_not_equal(a, c, sizeof(a));
    for (int i = 0; i < 10; i++) {
        assert_true(a[i].min >= 0 && a[i].max <= o.nmax);
        assert_true(a[i].min <= a[i].whisker_lo && a[i].whisker_lo <= a[i].q1);
        assert_true(a[i].q1 <= a[i].median && a[i].median <= a[i].q3);
        assert_true(a[i].q3 <= a[i].whisker_hi && a[i].whisker_hi <= a[i].max);
        assert_true(a[i].mean >= a[i].min && a[i].mean <= a[i].max);
    }
    /* Results are ordered f-major: out[fi * n_join + ji]. */
    assert_true(a[0].fail == o.fail[0] && a[0].join == o.join[0]);
    assert_true(a[6].fail == o.fail[1] && a[6].join == o.join[1]);
    /* A pair's result does not depend on the others computed with it. */
    ct_can_sim_opts p = o;
    p.seed = 1;
    p.n_fail = 1;
    p.fail[0] = o.fail[1];
    ct_can_sim_stats d[5];
    ctt_ok(ct_can_sim_run(&p, d));
    assert_int_equal(d[1].median, a[6].median);
}

static void svg_has_a_box_per_pair(void **state)
{
    ct_can_sim_opts o;
    ct_can_sim_stats st[10];
    ct_buf b;
    size_t boxes = 0;
    (void)state;

    ct_can_sim_defaults(&o);
    o.runs = 5;
    ctt_ok(ct_can_sim_run(&o, st));
    ct_buf_init(&b, 1 << 20);
    ctt_ok(ct_can_sim_svg(&b, &o, st));
    ctt_ok(ct_buf_append(&b, "", 1));
    assert_true(strncmp(b.data, "<svg ", 5) == 0);
    for (const char *p = b.data; (p = strstr(p, "fill=\"#9cf\"")) != NULL; p++)
        boxes++;
    assert_int_equal(boxes, 10);
    assert_non_null(strstr(b.data, "</svg>"));
    ct_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rejects_bad_options),
        cmocka_unit_test(no_failures_stop_at_nmin_plus_one),
        cmocka_unit_test(all_crash_nobody_joins),
        cmocka_unit_test(seeded_and_bounded),
        cmocka_unit_test(svg_has_a_box_per_pair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
