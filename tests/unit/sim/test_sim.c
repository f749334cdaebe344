/* The consolidation simulator on small synthetic traces: energy against the
 * power curve, THR detection, MMT's choice, retirement, determinism, the
 * detectors' statistics and the trace loader (the consolidation core is
 * tested in tests/unit/place/test_consolidate.c). */
#include "harness.h"

#include <math.h>
#include <sys/stat.h>

#include "catena/sim.h"

#include "../../../src/sim/sim_int.h"

/* A trace of n_vms VMs that all run at pct percent for n_samples. */
static ct_sim_trace *flat_trace(size_t n_vms, size_t n_samples, uint8_t pct)
{
    ct_sim_trace *t = NULL;

    ctt_ok(ct_sim_trace_new(&t, n_vms, n_samples));
    for (size_t v = 0; v < n_vms; v++)
        memset(ct_sim_trace_data(t, v), pct, n_samples);
    return t;
}

/* One model of 2 x 1000 MIPS with a linear 100..200 W curve. */
static void small_config(ct_sim_config *cfg, ct_sim_policy policy, size_t hosts)
{
    ct_sim_config_default(cfg, policy);
    cfg->n_hosts = hosts;
    cfg->n_models = 1;
    cfg->models[0].pe_mips = 1000;
    cfg->models[0].pes = 2;
    cfg->models[0].ram_mb = 16384;
    for (int i = 0; i < CT_POWER_POINTS; i++)
        cfg->models[0].power.watts[i] = 100 + 10 * i;
    cfg->n_vm_types = 1;
    cfg->vm_types[0] = (ct_sim_vm_type){1000, 1024};
}

static void energy_of_constant_load(void **state)
{
    ct_sim_config cfg;
    ct_sim_result r;
    ct_sim_trace *t = flat_trace(1, 4, 50);
    double watts, want;
    (void)state;

    small_config(&cfg, CT_SIM_THR_MMT, 1);
    ctt_ok(ct_sim_run(&r, &cfg, t));
    /* 500 of 2000 MIPS: 25 % load, 125 W on the linear curve. CloudSim
     * counts energy from the first round (300.1 s) to the last one before
     * the end of the trace (900.1 s): the host is idle before. */
    watts = ct_power_at(&cfg.models[0].power, 0.25);
    assert_true(fabs(watts - 125) < 1e-9);
    want = watts * 600 / 3.6e6;
    if (fabs(r.energy_kwh - want) > 1e-9 * want)
        fail_msg("energy %.12f kWh, want %.12f", r.energy_kwh, want);
    assert_int_equal(r.migrations, 0);
    assert_int_equal(r.n_rounds, 3);
    assert_true(r.slatah == 0 && r.pdm == 0);
    /* The lower bound: the curve's best watts per MIPS is at full load,
     * 200 W / 2000 MIPS, so 500 MIPS need at least 50 W over the same
     * 600 s. */
    want = 50.0 * 600 / 3.6e6;
    if (fabs(r.energy_lower_bound_kwh - want) > 1e-9 * want)
        fail_msg("bound %.12f kWh, want %.12f", r.energy_lower_bound_kwh, want);
    ct_sim_trace_free(t);
}

/* Host 0 has a flat power curve and host 1 a steep one, so the first
 * placement puts both VMs on host 0; at 90 % each, host 0 runs at 90 %. */
static void two_vms_one_host(ct_sim_config *cfg, ct_sim_policy policy)
{
    small_config(cfg, policy, 2);
    cfg->n_models = 2;
    cfg->models[1] = cfg->models[0];
    for (int i = 0; i < CT_POWER_POINTS; i++)
        cfg->models[1].power.watts[i] = 50 + 45 * i;
    cfg->n_vm_types = 2;
    cfg->vm_types[0] = (ct_sim_vm_type){1000, 100};
    cfg->vm_types[1] = (ct_sim_vm_type){1000, 6000};
}

static void thr_detects_overload(void **state)
{
    ct_sim_config cfg;
    ct_sim_result r;
    ct_sim_trace *t = flat_trace(2, 4, 90);
    (void)state;

    two_vms_one_host(&cfg, CT_SIM_THR_MMT);
    ctt_ok(ct_sim_run(&r, &cfg, t));
    assert_int_equal(r.migrations, 1); /* 0.9 > 0.8: one VM leaves, once */
    assert_true(r.slatah > 0);         /* the target lags during the move */

    cfg.param = 0.95; /* 0.9 is not above 0.95: nothing moves */
    ctt_ok(ct_sim_run(&r, &cfg, t));
    assert_int_equal(r.migrations, 0);
    assert_true(r.pdm == 0);
    ct_sim_trace_free(t);
}

static void mmt_moves_the_smallest_ram(void **state)
{
    ct_sim_config cfg;
    ct_sim_result r;
    ct_sim_trace *t = flat_trace(2, 4, 90);
    double rate, lost_small, lost_big, requested;
    (void)state;

    two_vms_one_host(&cfg, CT_SIM_THR_MMT);
    ctt_ok(ct_sim_run(&r, &cfg, t));
    assert_int_equal(r.migrations, 1);
    /* PDM = 10 % of the moving VM's 900 MIPS for RAM / (62.5 MB/s), over
     * the MIPS requested: 100 MB takes 1.6 s, 6000 MB 96 s. */
    rate = 1000.0 * 1000 / 16000;
    lost_small = 0.1 * 900 * (100 / rate);
    lost_big = 0.1 * 900 * (6000 / rate);
    requested = 1800.0 * 600;
    if (fabs(r.pdm - lost_small / requested) > 0.05 * lost_small / requested)
        fail_msg("pdm %g: want %g (MMT) not %g", r.pdm, lost_small / requested,
                 lost_big / requested);
    ct_sim_trace_free(t);
}

static void zero_demand_retires_vm(void **state)
{
    ct_sim_config cfg;
    ct_sim_result r;
    ct_sim_trace *t = flat_trace(2, 6, 40);
    (void)state;

    memset(ct_sim_trace_data(t, 1) + 2, 0, 4); /* VM 1 idles from sample 2 */
    small_config(&cfg, CT_SIM_LR_MMT, 2);
    ctt_ok(ct_sim_run(&r, &cfg, t));
    assert_int_equal(r.n_vms, 2);
    assert_int_equal(r.n_finished, 1);
    ct_sim_trace_free(t);
}

/* A bursty synthetic day from a fixed xorshift stream. */
static ct_sim_trace *noisy_trace(size_t n_vms, size_t n_samples, uint64_t seed)
{
    ct_sim_trace *t = NULL;
    uint64_t x = seed;

    ctt_ok(ct_sim_trace_new(&t, n_vms, n_samples));
    for (size_t v = 0; v < n_vms; v++) {
        uint8_t *d = ct_sim_trace_data(t, v);
        int level = 5 + (int)(v * 7 % 40);
        for (size_t s = 0; s < n_samples; s++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int u = level + (int)(x % 41) - 20;
            d[s] = (uint8_t)(u < 1 ? 1 : u > 100 ? 100 : u);
        }
    }
    return t;
}

static void runs_are_deterministic(void **state)
{
    ct_sim_trace *t = noisy_trace(120, 96, 42);
    double bound = 0;
    (void)state;

    for (int p = 0; p < CT_SIM_N_POLICIES; p++) {
        ct_sim_config cfg;
        ct_sim_result a, b;
        ct_sim_config_default(&cfg, (ct_sim_policy)p);
        cfg.n_hosts = 60;
        ctt_ok(ct_sim_run(&a, &cfg, t));
        ctt_ok(ct_sim_run(&b, &cfg, t));
        if (memcmp(&a, &b, sizeof(a)) != 0)
            fail_msg("%s: two runs differ", ct_sim_policy_name((ct_sim_policy)p));
        assert_true(a.energy_kwh > 0 && a.migrations > 0);
        /* No policy beats the lower bound, which is the same for all. */
        if (!(a.energy_lower_bound_kwh > 0 && a.energy_lower_bound_kwh <= a.energy_kwh))
            fail_msg("%s: energy %.6f kWh below its bound %.6f",
                     ct_sim_policy_name((ct_sim_policy)p), a.energy_kwh, a.energy_lower_bound_kwh);
        if (p > 0)
            assert_true(a.energy_lower_bound_kwh == bound);
        bound = a.energy_lower_bound_kwh;
    }
    ct_sim_trace_free(t);
}

static void lrr_equals_lr(void **state)
{
    ct_sim_trace *t = noisy_trace(120, 96, 7);
    ct_sim_config cfg;
    ct_sim_result lr, lrr;
    (void)state;

    ct_sim_config_default(&cfg, CT_SIM_LR_MMT);
    cfg.n_hosts = 60;
    ctt_ok(ct_sim_run(&lr, &cfg, t));
    cfg.policy = CT_SIM_LRR_MMT;
    ctt_ok(ct_sim_run(&lrr, &cfg, t));
    assert_true(memcmp(&lr, &lrr, sizeof(lr)) == 0);
    ct_sim_trace_free(t);
}

static void rejects_bad_config(void **state)
{
    ct_sim_trace *t = flat_trace(1, 4, 10);
    ct_sim_config cfg;
    ct_sim_result r;
    ct_sim_policy p;
    (void)state;

    ct_sim_config_default(&cfg, CT_SIM_THR_MMT);
    cfg.n_hosts = 0;
    assert_int_equal(ct_sim_run(&r, &cfg, t), CT_EINVAL);
    ct_sim_config_default(&cfg, CT_SIM_THR_MMT);
    cfg.models[1].power.watts[3] = 1; /* below the point before it */
    assert_int_equal(ct_sim_run(&r, &cfg, t), CT_EINVAL);
    /* The catena policy's thresholds: a config that never set them (all
     * zero) or one out of range is refused, by name. */
    ct_sim_config_default(&cfg, CT_SIM_CATENA);
    cfg.catena.u_fill = 0;
    assert_int_equal(ct_sim_run(&r, &cfg, t), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "catena thresholds"));
    ct_sim_config_default(&cfg, CT_SIM_CATENA);
    cfg.catena_sigmas = -1;
    assert_int_equal(ct_sim_run(&r, &cfg, t), CT_EINVAL);
    ct_sim_config_default(&cfg, CT_SIM_CATENA);
    assert_true(cfg.catena.u_fill == CT_SIM_CATENA_U_FILL &&
                cfg.catena.drain_max == CT_SIM_CATENA_DRAIN_MAX);
    assert_int_equal(ct_sim_policy_parse(&p, "lr"), CT_EINVAL);
    ctt_ok(ct_sim_policy_parse(&p, "mad-mmt"));
    assert_int_equal(p, CT_SIM_MAD_MMT);
    assert_string_equal(ct_sim_policy_name(CT_SIM_CATENA), "catena");
    ct_sim_trace_free(t);
}

static void statistics_match_cloudsim(void **state)
{
    double odd[] = {5, 1, 4, 2, 3}, even[] = {4, 1, 3, 2}, y[10], b0, b1;
    double q[12] = {12, 1, 11, 2, 10, 3, 9, 4, 8, 5, 7, 6};
    double m[7] = {1, 1, 2, 2, 4, 6, 9};
    (void)state;

    assert_true(ct_sim__median(odd, 5) == 3);
    assert_true(ct_sim__median(even, 4) == 2.5);
    /* 12 values: quartiles at ranks round(3.25) = 3 and round(9.75) = 10. */
    assert_true(ct_sim__iqr(q, 12) == 10 - 3);
    assert_true(ct_sim__mad(m, 7) == 1); /* median 2, deviations 1 1 0 0 2 4 7 */
    for (int i = 0; i < 10; i++)
        y[i] = 0.5 + 0.03 * (i + 1);
    ct_sim__regress(&b0, &b1, y, 10);
    assert_true(fabs(b0 - 0.5) < 1e-12 && fabs(b1 - 0.03) < 1e-12);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void loads_trace_directory(void **state)
{
    char dir[512];
    ct_sim_trace *t = NULL;
    (void)state;

    snprintf(dir, sizeof(dir), "%s/day", ctt_tmpdir());
    assert_int_equal(mkdir(dir, 0700), 0);
    write_text(ctt_path("%s/b host", dir), "10\n20\n30\n");
    write_text(ctt_path("%s/a", dir), "1\r\n2\r\n3\r\n");
    ctt_ok(ct_sim_trace_load(&t, dir));
    assert_int_equal(ct_sim_trace_vms(t), 2);
    assert_int_equal(ct_sim_trace_samples(t), 3);
    assert_string_equal(ct_sim_trace_name(t, 0), "a");
    assert_string_equal(ct_sim_trace_name(t, 1), "b host");
    assert_int_equal(ct_sim_trace_cdata(t, 1)[2], 30);
    ct_sim_trace_free(t);

    write_text(ctt_path("%s/c", dir), "1\n2\n");
    assert_int_equal(ct_sim_trace_load(&t, dir), CT_EPARSE);
    write_text(ctt_path("%s/c", dir), "1\n101\n3\n");
    assert_int_equal(ct_sim_trace_load(&t, dir), CT_EPARSE);
    assert_non_null(strstr(ct_error_last(), "c:2"));
    write_text(ctt_path("%s/c", dir), "1\nx\n3\n");
    assert_int_equal(ct_sim_trace_load(&t, dir), CT_EPARSE);
    assert_int_equal(ct_sim_trace_load(&t, ctt_path("%s/none", dir)), CT_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(energy_of_constant_load),    cmocka_unit_test(thr_detects_overload),
        cmocka_unit_test(mmt_moves_the_smallest_ram), cmocka_unit_test(zero_demand_retires_vm),
        cmocka_unit_test(runs_are_deterministic),     cmocka_unit_test(lrr_equals_lr),
        cmocka_unit_test(rejects_bad_config),         cmocka_unit_test(statistics_match_cloudsim),
        cmocka_unit_test(loads_trace_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
