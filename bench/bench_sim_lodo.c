/* How the catena policy's thresholds are chosen, and whether the choice
 * holds on a day it was not chosen on: every PlanetLab day of the data set
 * is replayed under lr-mmt (the reference) and under catena with each
 * setting of a grid (u_fill, u_max, drain_max of the round; the
 * prediction's sigmas). A setting is admissible on a day when its SLAV is
 * no higher than lr-mmt's there; among the settings admissible on every
 * day of a training set, the one with the lowest mean energy / lower
 * bound is chosen. Leave one day out: train on the other days, report the
 * held-out day. The last line is the choice over all days (the defaults
 * of ct_sim_config_default).
 * usage: bench_sim_lodo [PLANETLAB_DIR] (default $CATENA_DATA_DIR/planetlab,
 * else ../shared/data/planetlab) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/sim.h"
#include "catena/util.h"

#define MAX_DAYS 16
#define MAX_SETTINGS 512

typedef struct setting {
    double u_fill, u_max, drain_max, sigmas;
} setting;

typedef struct outcome {
    double ratio, slav, energy;
} outcome;

static int run(outcome *out, const ct_sim_trace *trace, ct_sim_policy policy, const setting *s)
{
    ct_sim_config cfg;
    ct_sim_result r;

    ct_sim_config_default(&cfg, policy);
    if (s != NULL) {
        cfg.catena.u_fill = s->u_fill;
        cfg.catena.u_max = s->u_max;
        cfg.catena.drain_max = s->drain_max;
        cfg.catena_sigmas = s->sigmas;
    }
    if (ct_sim_run(&r, &cfg, trace) < 0)
        return -1;
    out->energy = r.energy_kwh;
    out->ratio = r.energy_kwh / r.energy_lower_bound_kwh;
    out->slav = r.slav;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Picks the setting admissible on every day in train (a mask) with the
 * lowest mean ratio there. Returns: its index, or -1 when none is. */
static int choose(const outcome (*res)[MAX_DAYS], const outcome *ref, size_t n_set, size_t n_days,
                  unsigned train)
{
    int best = -1;
    double best_mean = 0;

    for (size_t s = 0; s < n_set; s++) {
        double sum = 0;
        int k = 0;
        bool ok = true;
        for (size_t d = 0; d < n_days && ok; d++) {
            if (!(train & (1u << d)))
                continue;
            ok = res[s][d].slav <= ref[d].slav;
            sum += res[s][d].ratio;
            k++;
        }
        if (ok && k > 0 && (best < 0 || sum / k < best_mean)) {
            best = (int)s;
            best_mean = sum / k;
        }
    }
    return best;
}

int main(int argc, char **argv)
{
    static const double fills[] = {0.85, 0.9, 0.95, 0.98, 1.0};
    static const double maxes[] = {0.95, 0.97, 0.99, 1.0};
    static const double drains[] = {0.7, 0.8, 0.9, 0.95};
    static const double sigmas[] = {0, 0.25, 0.5, 1.0};
    static setting set[MAX_SETTINGS];
    static outcome res[MAX_SETTINGS][MAX_DAYS];
    outcome ref[MAX_DAYS];
    char dir[1024], *days[MAX_DAYS];
    size_t n_set = 0, n_days = 0;
    const char *data = getenv("CATENA_DATA_DIR");
    DIR *dh;
    struct dirent *e;

    if (argc > 1)
        snprintf(dir, sizeof(dir), "%s", argv[1]);
    else
        snprintf(dir, sizeof(dir), "%s/planetlab", data ? data : "../shared/data");
    if ((dh = opendir(dir)) == NULL) {
        fprintf(stderr, "bench_sim_lodo: no PlanetLab directory %s\n", dir);
        return 1;
    }
    while ((e = readdir(dh)) != NULL && n_days < MAX_DAYS)
        if (e->d_name[0] != '.' && (days[n_days] = strdup(e->d_name)) != NULL)
            n_days++;
    closedir(dh);
    qsort(days, n_days, sizeof(days[0]), cmp_str);
    for (size_t a = 0; a < sizeof(fills) / sizeof(fills[0]); a++)
        for (size_t b = 0; b < sizeof(maxes) / sizeof(maxes[0]); b++)
            for (size_t c = 0; c < sizeof(drains) / sizeof(drains[0]); c++)
                for (size_t d = 0; d < sizeof(sigmas) / sizeof(sigmas[0]); d++)
                    if (maxes[b] >= fills[a] && drains[c] < fills[a])
                        set[n_set++] = (setting){fills[a], maxes[b], drains[c], sigmas[d]};
    fprintf(stderr, "bench_sim_lodo: %zu days, %zu settings\n", n_days, n_set);
    for (size_t d = 0; d < n_days; d++) {
        char path[1100];
        ct_sim_trace *trace = NULL;
        snprintf(path, sizeof(path), "%s/%s", dir, days[d]);
        if (ct_sim_trace_load(&trace, path) < 0 || run(&ref[d], trace, CT_SIM_LR_MMT, NULL) < 0) {
            fprintf(stderr, "bench_sim_lodo: %s: %s\n", days[d], ct_error_last());
            return 1;
        }
        for (size_t s = 0; s < n_set; s++)
            if (run(&res[s][d], trace, CT_SIM_CATENA, &set[s]) < 0) {
                fprintf(stderr, "bench_sim_lodo: %s: %s\n", days[d], ct_error_last());
                return 1;
            }
        ct_sim_trace_free(trace);
        fprintf(stderr, "  %s done\n", days[d]);
    }
    printf("| held out | chosen on the other days (u_fill, u_max, drain_max, sigmas) | energy / "
           "bound | SLAV | lr-mmt SLAV | lr-mmt energy / bound |\n|---|---|---|---|---|---|\n");
    unsigned all = (1u << n_days) - 1;
    for (size_t d = 0; d < n_days; d++) {
        int s = choose(res, ref, n_set, n_days, all & ~(1u << d));
        if (s < 0) {
            printf("| %s | none admissible | | | %.5f %% | %.3f |\n", days[d], ref[d].slav * 100,
                   ref[d].ratio);
            continue;
        }
        printf("| %s | %.2f, %.2f, %.2f, %.2f | %.3f | %.5f %% | %.5f %% | %.3f |\n", days[d],
               set[s].u_fill, set[s].u_max, set[s].drain_max, set[s].sigmas, res[s][d].ratio,
               res[s][d].slav * 100, ref[d].slav * 100, ref[d].ratio);
    }
    int s = choose(res, ref, n_set, n_days, all);
    if (s >= 0) {
        double mx = 0;
        for (size_t d = 0; d < n_days; d++)
            mx = res[s][d].ratio > mx ? res[s][d].ratio : mx;
        printf("\nall %zu days: %.2f, %.2f, %.2f, %.2f (worst day %.3f x the bound)\n", n_days,
               set[s].u_fill, set[s].u_max, set[s].drain_max, set[s].sigmas, mx);
    } else {
        printf("\nall %zu days: no setting admissible on every day\n", n_days);
    }
    for (size_t d = 0; d < n_days; d++)
        free(days[d]);
    return 0;
}
