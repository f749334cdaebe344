/* A lower bound on the energy any consolidation policy needs for a day:
 * at each moment, the least power that can serve the VMs' total demand on
 * the data centre's hosts when VMs are divisible and idle hosts are off.
 * Each host serves x MIPS for at least x * w_h watts, w_h its best watts
 * per MIPS over its power curve (the curve is linear between its points,
 * so the best is at one of them); filling the hosts of least w_h first
 * gives that least power (a fractional knapsack, convex in the demand).
 * Demand is linear between trace samples, so Jensen's inequality bounds
 * each piece's energy by its length times the power at its mean demand. */
#include "sim_int.h"

#include "catena/util.h"

#include <math.h>
#include <stdlib.h>

typedef struct bound_host {
    double w;   /* best watts per MIPS */
    double cap; /* MIPS */
} bound_host;

static int cmp_w(const void *a, const void *b)
{
    const bound_host *x = a, *y = b;

    return (x->w > y->w) - (x->w < y->w);
}

/* The least power serving demand d on hosts sorted by w. */
static double least_power(const bound_host *h, size_t n, double d)
{
    double p = 0;

    for (size_t i = 0; i < n && d > 0; i++) {
        double x = d < h[i].cap ? d : h[i].cap;
        p += x * h[i].w;
        d -= x;
    }
    return p;
}

/* Total demand (MIPS) at time t of the VMs served and not yet retired. */
static double demand(const sim_state *st, const double *retire, double t)
{
    double d = 0;

    for (size_t v = 0; v < st->n_vms; v++)
        if (retire[v] > t)
            d += ct_sim__trace_util(st, &st->vms[v], t) * st->vms[v].mips;
    return d;
}

int ct_sim__energy_bound(double *out_ws, const sim_state *st, const bool *served, double t_end)
{
    const ct_sim_config *cfg = st->cfg;
    bound_host *h = calloc(st->n_hosts + 1, sizeof(*h));
    double *retire = calloc(st->n_vms + 1, sizeof(*retire)), ws = 0;
    double iv = cfg->interval;

    if (h == NULL || retire == NULL) {
        free(h);
        free(retire);
        return ct_error_set(CT_ENOMEM, "sim: out of memory");
    }
    for (size_t i = 0; i < st->n_hosts; i++) {
        const ct_power_curve *c = st->hosts[i].power;
        h[i].cap = st->hosts[i].total;
        h[i].w = HUGE_VAL;
        for (int p = 1; p < CT_POWER_POINTS; p++) {
            double mips = h[i].cap * (double)p / (CT_POWER_POINTS - 1);
            if (c->watts[p] / mips < h[i].w)
                h[i].w = c->watts[p] / mips;
        }
    }
    qsort(h, st->n_hosts, sizeof(*h), cmp_w);
    /* A VM is retired at the first round where its demand is 0, as the
     * simulator does; one never served counts for nothing. */
    for (size_t v = 0; v < st->n_vms; v++) {
        retire[v] = served[v] ? HUGE_VAL : 0;
        for (double t = cfg->submit_delay + iv; served[v] && t < t_end + iv / 2; t += iv)
            if (ct_sim__trace_util(st, &st->vms[v], t) == 0) {
                retire[v] = t;
                break;
            }
    }
    /* From the first round, where the simulator starts counting (every host
     * is idle before it), over pieces between sample boundaries and round
     * times, on which demand is linear. */
    for (double a = cfg->submit_delay + iv; a < t_end;) {
        double next_sample = (floor(a / iv) + 1) * iv;
        double next_round = cfg->submit_delay + (floor((a - cfg->submit_delay) / iv) + 1) * iv;
        double b = next_sample < next_round ? next_sample : next_round;
        if (b > t_end)
            b = t_end;
        ws += (b - a) * least_power(h, st->n_hosts, demand(st, retire, (a + b) / 2));
        a = b;
    }
    free(h);
    free(retire);
    *out_ws = ws;
    return 0;
}
