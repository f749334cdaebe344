/* Catena's own consolidation policy in the simulator: predict each VM's
 * demand for the next interval from its recent history, then run one
 * ct_place_consolidate round (relieve predicted overloads, empty light hosts
 * into the others) and start the migrations it plans. */
#include "sim_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catena/util.h"

/* Prediction window (samples). */
#define PRED_WINDOW 12

typedef struct catena_state {
    ct_place_pack_host *hosts;
    ct_place_pack_vm *vms;
    int *vm_of; /* pack VM index -> simulator VM */
    ct_place_pack_opts opts;
} catena_state;

int ct_sim__catena_init(sim_state *st)
{
    catena_state *cs = calloc(1, sizeof(*cs));

    if (cs == NULL)
        return ct_error_set(CT_ENOMEM, "sim: out of memory");
    st->policy_state = cs;
    cs->hosts = calloc(st->n_hosts, sizeof(*cs->hosts));
    cs->vms = calloc(st->n_vms + 1, sizeof(*cs->vms));
    cs->vm_of = calloc(st->n_vms + 1, sizeof(int));
    if (cs->hosts == NULL || cs->vms == NULL || cs->vm_of == NULL)
        return ct_error_set(CT_ENOMEM, "sim: out of memory");
    for (size_t i = 0; i < st->n_hosts; i++) {
        const sim_host *h = &st->hosts[i];
        cs->hosts[i].capacity = h->total;
        cs->hosts[i].core_mips = h->pe_mips;
        cs->hosts[i].idle_w = h->power->watts[0];
        cs->hosts[i].model = (int)(i % st->cfg->n_models);
    }
    cs->opts = st->cfg->catena;
    return 0;
}

void ct_sim__catena_free(sim_state *st)
{
    catena_state *cs = st->policy_state;

    if (cs == NULL)
        return;
    free(cs->hosts);
    free(cs->vms);
    free(cs->vm_of);
    free(cs);
    st->policy_state = NULL;
}

/* The share of its MIPS a VM is expected to need next: its current use, or
 * more when its recent history says it swings higher. */
static double predict(const sim_vm *vm, double safety, double sigmas)
{
    int n = vm->hist_len < PRED_WINDOW ? vm->hist_len : PRED_WINDOW;
    double cur = vm->req / vm->mips, mean = 0, var = 0, est;

    if (n < 2)
        return cur * safety;
    for (int i = 0; i < n; i++)
        mean += vm->hist[i];
    mean /= n;
    for (int i = 0; i < n; i++)
        var += (vm->hist[i] - mean) * (vm->hist[i] - mean);
    est = mean + sigmas * sqrt(var / (n - 1));
    est = (est > cur ? est : cur) * safety;
    return est < 1 ? est : 1;
}

int ct_sim__catena_round(sim_state *st, double t)
{
    catena_state *cs = st->policy_state;
    ct_place_move *moves = NULL;
    size_t n = 0, n_moves = 0;
    int rc;

    (void)t;
    for (size_t v = 0; v < st->n_vms; v++) {
        const sim_vm *vm = &st->vms[v];
        if (vm->gone || vm->host < 0)
            continue;
        cs->vms[n].demand = predict(vm, st->param, st->cfg->catena_sigmas) * vm->mips;
        cs->vms[n].ram_mb = vm->ram;
        cs->vms[n].host = vm->host;
        cs->vm_of[n++] = (int)v;
    }
    rc = ct_place_consolidate(&moves, &n_moves, cs->hosts, st->n_hosts, cs->vms, n, &cs->opts);
    for (size_t i = 0; i < n_moves && rc == 0; i++)
        rc = ct_sim__plan(st, cs->vm_of[moves[i].vm], moves[i].to);
    free(moves);
    return rc;
}
