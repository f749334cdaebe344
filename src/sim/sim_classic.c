/* Beloglazov and Buyya's dynamic consolidation as CloudSim 3.0.3 runs it
 * (PowerVmAllocationPolicyMigrationAbstract and its detectors): find
 * overloaded hosts (THR, IQR, MAD, LR), pick their VMs by Minimum Migration
 * Time, place them by Power-Aware Best Fit Decreasing, then try to empty the
 * least utilised hosts one by one. Its quirks are kept on purpose; see
 * docs/SIMULATOR.md. */
#include "sim_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catena/util.h"

/* Minimum history for the statistical detectors (CloudSim: "12 has been
 * suggested as a safe value"), the regression window, and the threshold
 * the detectors fall back to before they have that much history. */
#define STAT_MIN_HIST 12
#define LR_WINDOW 10
#define FALLBACK_THR 0.7

/* h's history with VM extra (or none, -1) appended, as the host would
 * report it. Returns: its length without the zero tail. */
static int hist_with(sim_state *st, sim_host *h, int extra, double out[SIM_HIST])
{
    int len = 0;

    ct_sim__host_hist(st, h);
    memcpy(out, h->hist, sizeof(h->hist));
    if (extra < 0)
        return h->hist_len;
    for (int k = 0; k < st->vms[extra].hist_len; k++)
        out[k] += st->vms[extra].hist[k] * st->vms[extra].mips / h->total;
    for (int k = 0; k < SIM_HIST; k++)
        if (out[k] != 0)
            len = k + 1;
    return len;
}

static double requested_util(sim_state *st, sim_host *h, int extra)
{
    ct_sim__host_sums(st, h);
    return (h->sum_req + (extra >= 0 ? st->vms[extra].req : 0)) / h->total;
}

static bool over_stat(sim_state *st, sim_host *h, int extra)
{
    double data[SIM_HIST], spread;
    int len = hist_with(st, h, extra, data);

    if (len < STAT_MIN_HIST)
        return requested_util(st, h, extra) > FALLBACK_THR;
    spread = st->policy == CT_SIM_IQR_MMT ? ct_sim__iqr(data, len) : ct_sim__mad(data, len);
    return requested_util(st, h, extra) > 1 - st->param * spread;
}

/* The longest migration off h, in rounds (LR's look-ahead). */
static double migration_rounds(sim_state *st, sim_host *h, int extra)
{
    int max_ram = INT32_MIN;

    for (int i = 0; i < h->vms.n; i++)
        if (st->vms[h->vms.v[i]].ram > max_ram)
            max_ram = st->vms[h->vms.v[i]].ram;
    if (extra >= 0 && st->vms[extra].ram > max_ram)
        max_ram = st->vms[extra].ram;
    return ceil(max_ram / st->mig_rate / st->cfg->interval);
}

/* Local regression over the last 10 points, one migration ahead. LRR is
 * the same in CloudSim 3.0.3: its bisquare weights only apply when 40 % of
 * them are zero, and they never are. */
static bool over_lr(sim_state *st, sim_host *h, int extra)
{
    double data[SIM_HIST], y[LR_WINDOW], b0, b1, pred;
    int len = hist_with(st, h, extra, data);

    if (len < LR_WINDOW)
        return requested_util(st, h, extra) > FALLBACK_THR;
    for (int i = 0; i < LR_WINDOW; i++)
        y[i] = data[LR_WINDOW - i - 1];
    ct_sim__regress(&b0, &b1, y, LR_WINDOW);
    if (isnan(b0) || isnan(b1))
        return requested_util(st, h, extra) > FALLBACK_THR;
    pred = b0 + b1 * (LR_WINDOW + migration_rounds(st, h, extra));
    pred *= st->param;
    return pred >= 1;
}

/* isHostOverUtilized of the round's policy, for h with extra appended. */
static bool is_over(sim_state *st, int hi, int extra)
{
    sim_host *h = &st->hosts[hi];

    switch (st->policy) {
    case CT_SIM_IQR_MMT:
    case CT_SIM_MAD_MMT: return over_stat(st, h, extra);
    case CT_SIM_LR_MMT:
    case CT_SIM_LRR_MMT: return over_lr(st, h, extra);
    default: return requested_util(st, h, extra) > st->param;
    }
}

/* Minimum Migration Time: the VM with the least RAM, first on ties. */
static int pick_mmt(sim_state *st, const sim_host *h)
{
    int best = -1, ram = INT32_MAX;

    for (int i = 0; i < h->vms.n; i++) {
        const sim_vm *vm = &st->vms[h->vms.v[i]];
        if (!vm->in_migration && vm->ram < ram) {
            ram = vm->ram;
            best = h->vms.v[i];
        }
    }
    return best;
}

/* PABFD's choice for v: the host whose power rises least, among those with
 * room that it would not overload. Power is estimated from each host's
 * utilisation at the start of the round, as CloudSim does. */
static int find_host(sim_state *st, int v, const uint8_t *excluded)
{
    double best = DBL_MAX, req = st->vms[v].req;
    int found = -1;

    for (size_t i = 0; i < st->n_hosts; i++) {
        sim_host *h = &st->hosts[i];
        double diff;
        if (excluded[i] || h->pe_mips < req || h->vms.n >= st->cfg->max_vms_per_host)
            continue;
        ct_sim__host_sums(st, h);
        if (h->avail < req)
            continue;
        diff = ct_power_at(h->power, (h->alloc_sum + req) / h->total) - h->power_now;
        /* Only a strictly cheaper host can win, so the costly overload test
         * runs for those alone; the choice is the same as testing first. */
        if (diff >= best || (h->alloc_sum != 0 && is_over(st, (int)i, v)))
            continue;
        if (diff < best) {
            best = diff;
            found = (int)i;
        }
    }
    return found;
}

static int cmp_req_desc(const void *a, const void *b)
{
    const sim_vm *x = *(sim_vm *const *)a, *y = *(sim_vm *const *)b;

    if (x->req != y->req)
        return x->req < y->req ? 1 : -1;
    return (x->order > y->order) - (x->order < y->order);
}

/* Sorts VM indices by requested MIPS, largest first, stable. */
static int sort_by_req(sim_state *st, int *vs, int n)
{
    sim_vm **p = malloc((size_t)(n ? n : 1) * sizeof(*p));

    if (p == NULL)
        return ct_error_set(CT_ENOMEM, "sim: out of memory");
    for (int i = 0; i < n; i++) {
        p[i] = &st->vms[vs[i]];
        p[i]->order = i;
    }
    qsort(p, (size_t)n, sizeof(*p), cmp_req_desc);
    for (int i = 0; i < n; i++)
        vs[i] = (int)(p[i] - st->vms);
    free(p);
    return 0;
}

static int save_allocation(sim_state *st)
{
    for (size_t i = 0; i < st->n_hosts; i++) {
        sim_host *h = &st->hosts[i];
        h->saved.n = 0;
        for (int k = 0; k < h->vms.n; k++)
            if (ct_sim__list_push(&h->saved, h->vms.v[k]) < 0)
                return CT_ENOMEM;
    }
    return 0;
}

static void restore_allocation(sim_state *st)
{
    for (size_t i = 0; i < st->n_hosts; i++) {
        sim_host *h = &st->hosts[i];
        sim_list tmp = h->vms;
        h->vms = h->saved;
        h->saved = tmp;
        h->sums_ok = h->hist_ok = false;
    }
}

/* Takes VMs off each overloaded host until it is not overloaded any more.
 * Out: their indices in vs. Returns: how many. */
static int drain_overloaded(sim_state *st, const int *over, int n_over, int *vs)
{
    int n = 0;

    for (int i = 0; i < n_over; i++) {
        for (;;) {
            int v = pick_mmt(st, &st->hosts[over[i]]);
            if (v < 0)
                break;
            vs[n++] = v;
            ct_sim__host_del(st, over[i], v);
            if (!is_over(st, over[i], -1))
                break;
        }
    }
    return n;
}

static int place_all(sim_state *st, int *vs, int n, const uint8_t *excluded)
{
    int rc = sort_by_req(st, vs, n);

    for (int i = 0; i < n && rc == 0; i++) {
        int h = find_host(st, vs[i], excluded);
        if (h >= 0 && (rc = ct_sim__host_add(st, h, vs[i])) == 0)
            rc = ct_sim__plan(st, vs[i], h);
    }
    return rc;
}

/* The least utilised host not yet excluded, or -1. */
static int least_utilised(sim_state *st, const uint8_t *excluded)
{
    double min = 1;
    int found = -1;

    for (size_t i = 0; i < st->n_hosts; i++) {
        double u = ct_sim__host_util(&st->hosts[i]);
        if (!excluded[i] && u > 0 && u < min && st->hosts[i].vms.n > 0) {
            min = u;
            found = (int)i;
        }
    }
    return found;
}

/* Moves every VM of host u elsewhere, or none of them. */
static int drain_one(sim_state *st, int u, uint8_t *excl_place, uint8_t *excl_under, size_t *n_excl)
{
    sim_host *h = &st->hosts[u];
    int *vs = st->scratch_vms, n = 0, rc;
    size_t start = st->n_moves;

    for (int i = 0; i < h->vms.n; i++)
        if (!st->vms[h->vms.v[i]].in_migration)
            vs[n++] = h->vms.v[i];
    if (n == 0 || (rc = sort_by_req(st, vs, n)) < 0)
        return n == 0 ? 0 : rc;
    for (int i = 0; i < n; i++) {
        int to = find_host(st, vs[i], excl_place);
        if (to < 0) {
            for (size_t k = start; k < st->n_moves; k++)
                ct_sim__host_del(st, st->moves[k].host, st->moves[k].vm);
            st->n_moves = start;
            return 0;
        }
        if ((rc = ct_sim__host_add(st, to, vs[i])) < 0 || (rc = ct_sim__plan(st, vs[i], to)) < 0)
            return rc;
    }
    for (size_t k = start; k < st->n_moves; k++)
        if (!excl_under[st->moves[k].host]) {
            excl_under[st->moves[k].host] = 1;
            (*n_excl)++;
        }
    return 0;
}

/* getMigrationMapFromUnderUtilizedHosts. As in CloudSim 3.0.3, hosts that
 * just received VMs from overloaded ones are not excluded from draining. */
static int drain_underloaded(sim_state *st, const uint8_t *over)
{
    uint8_t *excl_under = st->mark_a, *excl_place = st->mark_b;
    size_t n_excl = 0;
    int rc = 0;

    for (size_t i = 0; i < st->n_hosts; i++) {
        excl_under[i] = excl_place[i] = over[i] || ct_sim__host_util(&st->hosts[i]) == 0;
        n_excl += excl_under[i];
    }
    while (n_excl < st->n_hosts && rc == 0) {
        int u = least_utilised(st, excl_under);
        if (u < 0)
            break;
        excl_under[u] = excl_place[u] = 1;
        n_excl++;
        rc = drain_one(st, u, excl_place, excl_under, &n_excl);
    }
    return rc;
}

int ct_sim__classic_round(sim_state *st, double t)
{
    int *over = malloc(st->n_hosts * sizeof(int)), n_over = 0, n, rc;
    uint8_t *over_mark = calloc(st->n_hosts, 1);
    int *vs = malloc((st->n_vms + 1) * sizeof(int));

    (void)t;
    if (over == NULL || over_mark == NULL || vs == NULL) {
        rc = ct_error_set(CT_ENOMEM, "sim: out of memory");
        goto done;
    }
    for (size_t i = 0; i < st->n_hosts; i++) {
        st->hosts[i].power_now = ct_power_at(st->hosts[i].power, ct_sim__host_util(&st->hosts[i]));
        if (is_over(st, (int)i, -1)) {
            over[n_over++] = (int)i;
            over_mark[i] = 1;
        }
    }
    if ((rc = save_allocation(st)) < 0)
        goto done;
    n = drain_overloaded(st, over, n_over, vs);
    rc = place_all(st, vs, n, over_mark);
    if (rc == 0)
        rc = drain_underloaded(st, over_mark);
    restore_allocation(st);
done:
    free(over);
    free(over_mark);
    free(vs);
    return rc;
}
