/* The simulator's data-centre model apart from its event loop (sim.c):
 * VM lists, hosts gaining and losing VMs, planned migrations, a VM's
 * utilisation read from its trace, and a host's utilisation, sums and
 * history. The loop and the policies (sim_classic.c, sim_catena.c,
 * sim_bound.c) both build on it, so neither calls back into the other. */
#include "sim_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catena/util.h"

/* CloudSim caps each host near its capacity this much before a power
 * model would reject the utilisation. */
#define UTIL_SNAP 1.01

/* ---------------------------------------------------------------- lists */

int ct_sim__list_push(sim_list *l, int x)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 8;
        int *v = realloc(l->v, (size_t)cap * sizeof(*v));
        if (v == NULL)
            return ct_error_set(CT_ENOMEM, "sim: out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

void ct_sim__list_remove(sim_list *l, int x)
{
    for (int i = 0; i < l->n; i++) {
        if (l->v[i] == x) {
            memmove(&l->v[i], &l->v[i + 1], (size_t)(l->n - i - 1) * sizeof(int));
            l->n--;
            return;
        }
    }
}

bool ct_sim__list_has(const sim_list *l, int x)
{
    for (int i = 0; i < l->n; i++)
        if (l->v[i] == x)
            return true;
    return false;
}

int ct_sim__host_add(sim_state *st, int h, int v)
{
    sim_host *host = &st->hosts[h];

    host->sums_ok = host->hist_ok = false;
    return ct_sim__list_push(&host->vms, v);
}

void ct_sim__host_del(sim_state *st, int h, int v)
{
    sim_host *host = &st->hosts[h];

    host->sums_ok = host->hist_ok = false;
    ct_sim__list_remove(&host->vms, v);
}

int ct_sim__plan(sim_state *st, int v, int h)
{
    if (st->n_moves == st->cap_moves) {
        size_t cap = st->cap_moves ? st->cap_moves * 2 : 256;
        sim_move *m = realloc(st->moves, cap * sizeof(*m));
        if (m == NULL)
            return ct_error_set(CT_ENOMEM, "sim: out of memory");
        st->moves = m;
        st->cap_moves = cap;
    }
    st->moves[st->n_moves++] = (sim_move){v, h, 0, 0};
    return 0;
}

/* ---------------------------------------------------------------- demand */

static double sample(const sim_state *st, const sim_vm *vm, long i)
{
    /* The last sample repeats, as UtilizationModelPlanetLabInMemory does. */
    if (i >= (long)st->n_samples)
        i = (long)st->n_samples - 1;
    return vm->trace[i] / 100.0;
}

double ct_sim__trace_util(const sim_state *st, const sim_vm *vm, double t)
{
    double iv = st->cfg->interval, u1, u2, delta;
    long t1, t2;

    if (fmod(t, iv) == 0)
        return sample(st, vm, (long)(t / iv));
    t1 = (long)floor(t / iv);
    t2 = (long)ceil(t / iv);
    u1 = sample(st, vm, t1);
    u2 = sample(st, vm, t2);
    delta = (u2 - u1) / ((double)(t2 - t1) * iv);
    return u1 + delta * (t - (double)t1 * iv);
}

double ct_sim__host_util(const sim_host *h)
{
    double u = h->util_mips / h->total;
    return u > 1 && u < UTIL_SNAP ? 1 : u;
}

void ct_sim__host_sums(sim_state *st, sim_host *h)
{
    double avail = h->total, sum = 0, alloc = 0;
    bool over = false;

    if (h->sums_ok)
        return;
    for (int i = 0; i < h->vms.n; i++) {
        double r = st->vms[h->vms.v[i]].req;
        double need = r < h->pe_mips ? r : h->pe_mips;
        sum += r;
        if (ct_sim__list_has(&h->mig_in, h->vms.v[i]))
            need *= 0.1;
        alloc += need;
        if (!over && avail >= need)
            avail -= need;
        else
            over = true;
    }
    h->sum_req = sum;
    h->alloc_sum = over ? h->total : alloc;
    h->avail = over ? 0 : avail;
    h->sums_ok = true;
}

void ct_sim__host_hist(sim_state *st, sim_host *h)
{
    int len = 0;

    if (h->hist_ok)
        return;
    memset(h->hist, 0, sizeof(h->hist));
    for (int i = 0; i < h->vms.n; i++) {
        const sim_vm *vm = &st->vms[h->vms.v[i]];
        for (int k = 0; k < vm->hist_len; k++)
            h->hist[k] += vm->hist[k] * vm->mips / h->total;
    }
    for (int k = 0; k < SIM_HIST; k++)
        if (h->hist[k] != 0)
            len = k + 1;
    h->hist_len = len;
    h->hist_ok = true;
}

/* ---------------------------------------------------------------- state */
