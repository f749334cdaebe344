/* The consolidation simulator's data centre: CloudSim 3.0.3's PowerDatacenter
 * event sequence (a round every interval, migrations that finish RAM /
 * bandwidth later), host CPU scheduling with oversubscription and the 10 %
 * migration overhead, and the energy, SLATAH and PDM bookkeeping. */
#include "sim_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catena/util.h"

static const char *const policy_names[CT_SIM_N_POLICIES] = {
    "thr-mmt", "iqr-mmt", "mad-mmt", "lr-mmt", "lrr-mmt", "catena",
};

static const double policy_params[CT_SIM_N_POLICIES] = {0.8, 1.5, 2.5, 1.2, 1.2, 1.0};

int ct_sim_policy_parse(ct_sim_policy *out, const char *name)
{
    for (int i = 0; i < CT_SIM_N_POLICIES; i++) {
        if (strcmp(name, policy_names[i]) == 0) {
            *out = (ct_sim_policy)i;
            return 0;
        }
    }
    return ct_error_set(CT_EINVAL,
                        "unknown policy '%s' (thr-mmt, iqr-mmt, mad-mmt, lr-mmt, lrr-mmt, catena)",
                        name);
}

const char *ct_sim_policy_name(ct_sim_policy policy)
{
    if ((int)policy < 0 || (int)policy >= CT_SIM_N_POLICIES)
        return "?";
    return policy_names[policy];
}

double ct_sim_default_param(ct_sim_policy policy)
{
    if ((int)policy < 0 || (int)policy >= CT_SIM_N_POLICIES)
        return 0;
    return policy_params[policy];
}

void ct_sim_config_default(ct_sim_config *cfg, ct_sim_policy policy)
{
    static const ct_sim_host_model g4 = {
        "HP ProLiant ML110 G4",
        1860,
        2,
        4096,
        {{86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117}}};
    static const ct_sim_host_model g5 = {"HP ProLiant ML110 G5",
                                         2660,
                                         2,
                                         4096,
                                         {{93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135}}};
    static const ct_sim_vm_type types[4] = {{2500, 870}, {2000, 1740}, {1000, 1740}, {500, 613}};

    memset(cfg, 0, sizeof(*cfg));
    cfg->policy = policy;
    cfg->n_hosts = 800;
    cfg->n_models = 2;
    cfg->models[0] = g4;
    cfg->models[1] = g5;
    cfg->n_vm_types = 4;
    memcpy(cfg->vm_types, types, sizeof(types));
    cfg->vm_assign = CT_SIM_ASSIGN_ROUND_ROBIN;
    cfg->interval = 300;
    cfg->host_bw_mbit = 1000;
    cfg->vm_bw_mbit = 100;
    cfg->submit_delay = 0.1;
    cfg->max_vms_per_host = 400;
    ct_place_pack_opts_default(&cfg->catena);
    cfg->catena.u_fill = CT_SIM_CATENA_U_FILL;
    cfg->catena.u_max = CT_SIM_CATENA_U_MAX;
    cfg->catena.drain_max = CT_SIM_CATENA_DRAIN_MAX;
    cfg->catena_sigmas = CT_SIM_CATENA_SIGMAS;
}

static int check_models(const ct_sim_config *c)
{
    if (c->n_models < 1 || c->n_models > CT_SIM_MAX_MODELS)
        return ct_error_set(CT_EINVAL, "sim: n_models must be 1..%d", CT_SIM_MAX_MODELS);
    for (size_t i = 0; i < c->n_models; i++) {
        const ct_sim_host_model *m = &c->models[i];
        if (!(m->pe_mips > 0 && m->pe_mips <= 1e9) || m->pes < 1 || m->pes > 4096 || m->ram_mb < 0)
            return ct_error_set(CT_EINVAL, "sim: host model %zu: bad cores, MIPS or RAM", i);
        if (ct_power_curve_check(&m->power) < 0)
            return ct_error_wrap("sim: host model %zu", i);
    }
    if (c->n_vm_types < 1 || c->n_vm_types > CT_SIM_MAX_VM_TYPES)
        return ct_error_set(CT_EINVAL, "sim: n_vm_types must be 1..%d", CT_SIM_MAX_VM_TYPES);
    for (size_t i = 0; i < c->n_vm_types; i++)
        if (!(c->vm_types[i].mips > 0 && c->vm_types[i].mips <= 1e9) || c->vm_types[i].ram_mb < 0)
            return ct_error_set(CT_EINVAL, "sim: VM type %zu: bad MIPS or RAM", i);
    return 0;
}

static int check_config(const ct_sim_config *c)
{
    if ((int)c->policy < 0 || (int)c->policy >= CT_SIM_N_POLICIES)
        return ct_error_set(CT_EINVAL, "sim: unknown policy %d", (int)c->policy);
    if (!(c->param >= 0 && c->param < 1e6))
        return ct_error_set(CT_EINVAL, "sim: param must be >= 0");
    if (c->n_hosts < 1 || c->n_hosts > 10000000)
        return ct_error_set(CT_EINVAL, "sim: n_hosts must be 1..10000000");
    if (!(c->interval >= 1 && c->interval <= 86400) || !(c->host_bw_mbit > 0) ||
        !(c->vm_bw_mbit >= 0) || !(c->submit_delay >= 0 && c->submit_delay < c->interval))
        return ct_error_set(CT_EINVAL, "sim: bad interval, bandwidth or submit delay");
    if (c->max_vms_per_host < 1)
        return ct_error_set(CT_EINVAL, "sim: max_vms_per_host must be >= 1");
    if (c->policy == CT_SIM_CATENA && (!(c->catena.u_fill > 0 && c->catena.u_fill <= 1) ||
                                       !(c->catena.u_max > 0 && c->catena.u_max <= 1) ||
                                       !(c->catena.drain_max >= 0 && c->catena.drain_max <= 1) ||
                                       !(c->catena_sigmas >= 0 && c->catena_sigmas <= 10)))
        return ct_error_set(CT_EINVAL, "sim: catena thresholds must be in (0, 1] and sigmas in "
                                       "[0, 10] (ct_sim_config_default sets them)");
    return check_models(c);
}

/* Returns: VM v's requested MIPS at time t (CloudSim's interpolation of the
 * trace between samples), cached for t. */
static double vm_request(sim_state *st, int v, double t)
{
    sim_vm *vm = &st->vms[v];

    if (vm->req_t != t) {
        vm->req = ct_sim__trace_util(st, vm, t) * vm->mips;
        vm->req_t = t;
    }
    return vm->req;
}

static void vm_state(sim_state *st, sim_vm *vm, double t, double alloc, double req, bool mig)
{
    if (vm->st_has && vm->st_t != t) {
        double dt = t - vm->st_t;
        st->vm_alloc += vm->st_alloc * dt;
        st->vm_req += vm->st_req * dt;
        if (vm->st_mig && vm->st_alloc < vm->st_req)
            st->vm_mig_lost += (vm->st_req - vm->st_alloc) * dt;
    }
    vm->st_has = true;
    vm->st_t = t;
    vm->st_alloc = alloc;
    vm->st_req = req;
    vm->st_mig = mig;
}

static void host_state(sim_state *st, sim_host *h, double t, double alloc, double req)
{
    if (h->st_has && h->st_t != t && h->st_active) {
        double dt = t - h->st_t;
        st->active_time += dt;
        if (h->st_alloc < h->st_req)
            st->sla_time += dt;
    }
    h->st_has = true;
    h->st_t = t;
    h->st_alloc = alloc;
    h->st_req = req;
    h->st_active = alloc > 0;
}

static void vm_history(sim_vm *vm, double t, double util)
{
    if (vm->hist_t == t)
        return;
    memmove(&vm->hist[1], &vm->hist[0], (SIM_HIST - 1) * sizeof(double));
    vm->hist[0] = util;
    if (vm->hist_len < SIM_HIST)
        vm->hist_len++;
    vm->hist_t = t;
}

/* The MIPS the VM scheduler gives VM i of h (VmSchedulerTimeShared-
 * OverSubscription): its request capped at one core, 90 % of it while it
 * migrates out, 10 % on the host it migrates to, and everything scaled
 * down (and floored) when the host is oversubscribed. */
static double vm_alloc(const sim_host *h, double req, bool mig_in, bool mig_out, double scale)
{
    double capped = req < h->pe_mips ? req : h->pe_mips;

    if (scale < 0)
        return mig_out ? capped * 0.9 : mig_in ? capped * 0.1 : capped;
    if (mig_out)
        return floor(capped * scale * 0.9);
    return mig_in ? floor(capped * 0.1 * scale) : floor(capped * scale);
}

/* Returns: the oversubscription scale of h at its current requests, or -1
 * when everything fits. */
static double host_scale(sim_state *st, sim_host *h, double t)
{
    double avail = h->total, need_sum = 0;
    bool over = false;

    for (int i = 0; i < h->vms.n; i++) {
        double r = vm_request(st, h->vms.v[i], t);
        double need = r < h->pe_mips ? r : h->pe_mips;
        if (ct_sim__list_has(&h->mig_in, h->vms.v[i]))
            need *= 0.1;
        need_sum += need;
        if (!over && avail >= need)
            avail -= need;
        else
            over = true;
    }
    return over ? h->total / need_sum : -1;
}

/* HostDynamicWorkload.updateVmsProcessing at time t: reallocates the CPU,
 * records host and VM state and, at a round, each VM's history. */
static void host_update(sim_state *st, int hi, double t, bool round)
{
    sim_host *h = &st->hosts[hi];
    double scale = host_scale(st, h, t), util = 0, req_sum = 0;

    for (int i = 0; i < h->vms.n; i++) {
        sim_vm *vm = &st->vms[h->vms.v[i]];
        bool mig_in = ct_sim__list_has(&h->mig_in, h->vms.v[i]);
        double alloc = vm_alloc(h, vm->req, mig_in, vm->in_migration && !mig_in, scale);
        if (round)
            vm_history(vm, t, vm->req / vm->mips);
        if (mig_in) {
            util += alloc;
        } else {
            vm_state(st, vm, t, alloc, vm->req, vm->in_migration);
            util += vm->in_migration ? alloc / 0.9 : alloc;
        }
        req_sum += vm->req;
    }
    h->util_mips = util;
    h->sums_ok = false;
    host_state(st, h, t, util, req_sum);
}

/* Retires VMs whose demand fell to 0 (CloudSim's getCompletedVms). */
static void retire_finished(sim_state *st)
{
    for (size_t hi = 0; hi < st->n_hosts; hi++) {
        sim_host *h = &st->hosts[hi];
        for (int i = 0; i < h->vms.n;) {
            int v = h->vms.v[i];
            sim_vm *vm = &st->vms[v];
            if (vm->in_migration || vm->req != 0 || vm->host < 0) {
                i++;
                continue;
            }
            ct_sim__host_del(st, vm->host, v);
            vm->host = -1;
            vm->gone = true;
            st->finished++;
            if (i < h->vms.n && h->vms.v[i] == v)
                i++; /* it was listed on another host: leave this list alone */
        }
    }
}

/* PowerDatacenter's update of every host at t, with the energy used since
 * the last one (none by a host that was idle at its start). */
static void update_all(sim_state *st, double t, bool round)
{
    double dt = t - st->last_process;

    for (size_t hi = 0; hi < st->n_hosts; hi++) {
        sim_host *h = &st->hosts[hi];
        double from = ct_sim__host_util(h);
        host_update(st, (int)hi, t, round);
        if (dt > 0 && from != 0) {
            st->energy_ws += ct_power_energy(h->power, from, ct_sim__host_util(h), dt);
            st->active_host_s += dt;
        }
    }
    retire_finished(st);
    st->last_process = t;
}

/* ---------------------------------------------------------------- setup */

static void free_state(sim_state *st)
{
    if (st->hosts != NULL) {
        for (size_t i = 0; i < st->n_hosts; i++) {
            free(st->hosts[i].vms.v);
            free(st->hosts[i].mig_in.v);
            free(st->hosts[i].saved.v);
        }
    }
    ct_sim__catena_free(st);
    free(st->hosts);
    free(st->vms);
    free(st->moves);
    free(st->mark_a);
    free(st->mark_b);
    free(st->scratch_vms);
}

static int init_state(sim_state *st, const ct_sim_config *cfg, const ct_sim_trace *tr)
{
    size_t nv = tr->n_vms, per_type = (nv + cfg->n_vm_types - 1) / cfg->n_vm_types;

    memset(st, 0, sizeof(*st));
    st->cfg = cfg;
    st->policy = cfg->policy;
    st->param = cfg->param > 0 ? cfg->param : ct_sim_default_param(cfg->policy);
    st->n_hosts = cfg->n_hosts;
    st->n_vms = nv;
    st->n_samples = tr->n_samples;
    st->mig_rate = cfg->host_bw_mbit * 1000 / 16000.0;
    st->hosts = calloc(st->n_hosts, sizeof(*st->hosts));
    st->vms = calloc(nv, sizeof(*st->vms));
    st->mark_a = calloc(st->n_hosts, 1);
    st->mark_b = calloc(st->n_hosts, 1);
    st->scratch_vms = calloc(nv + 1, sizeof(int));
    if (!st->hosts || !st->vms || !st->mark_a || !st->mark_b || !st->scratch_vms)
        return ct_error_set(CT_ENOMEM, "sim: out of memory");
    for (size_t i = 0; i < st->n_hosts; i++) {
        const ct_sim_host_model *m = &cfg->models[i % cfg->n_models];
        st->hosts[i].pe_mips = m->pe_mips;
        st->hosts[i].total = m->pe_mips * m->pes;
        st->hosts[i].ram_mb = m->ram_mb;
        st->hosts[i].power = &m->power;
    }
    for (size_t i = 0; i < nv; i++) {
        size_t type = cfg->vm_assign == CT_SIM_ASSIGN_BLOCKS ? i / per_type : i % cfg->n_vm_types;
        st->vms[i].trace = tr->data + i * tr->n_samples;
        st->vms[i].mips = cfg->vm_types[type].mips;
        st->vms[i].ram = cfg->vm_types[type].ram_mb;
        st->vms[i].host = -1;
        st->vms[i].req_t = st->vms[i].hist_t = -1;
    }
    return 0;
}

/* Resources each host has left while the VMs are created at time 0, when
 * every VM asks for its full MIPS, RAM and bandwidth. */
typedef struct init_room {
    double mips;
    double ram, bw;
} init_room;

/* CloudSim's first placement: PABFD while every VM asks for its full MIPS.
 * Hosts report no utilisation yet, so the power rise is counted from idle
 * power to the load of the VMs already placed plus this one, which spreads
 * the VMs over many hosts until the first round consolidates them. */
static int find_initial(const sim_state *st, const init_room *room, const sim_vm *vm)
{
    double best = DBL_MAX;
    int found = -1;

    for (size_t i = 0; i < st->n_hosts; i++) {
        const sim_host *h = &st->hosts[i];
        double diff;
        if (h->pe_mips < vm->mips || room[i].mips < vm->mips || room[i].ram < vm->ram ||
            room[i].bw < st->cfg->vm_bw_mbit || h->vms.n >= st->cfg->max_vms_per_host)
            continue;
        diff = ct_power_at(h->power, (h->total - room[i].mips + vm->mips) / h->total) -
               ct_power_at(h->power, 0);
        if (diff < best) {
            best = diff;
            found = (int)i;
        }
    }
    return found;
}

static int place_initial(sim_state *st)
{
    init_room *room = calloc(st->n_hosts, sizeof(*room));
    int rc = 0;

    if (room == NULL)
        return ct_error_set(CT_ENOMEM, "sim: out of memory");
    for (size_t i = 0; i < st->n_hosts; i++) {
        room[i].mips = st->hosts[i].total;
        room[i].ram = st->hosts[i].ram_mb;
        room[i].bw = st->cfg->host_bw_mbit;
    }
    for (size_t v = 0; v < st->n_vms && rc == 0; v++) {
        sim_vm *vm = &st->vms[v];
        int h = find_initial(st, room, vm);
        if (h < 0) {
            vm->gone = true;
            st->unplaced++;
            continue;
        }
        room[h].mips -= vm->mips;
        room[h].ram -= vm->ram;
        room[h].bw -= st->cfg->vm_bw_mbit;
        vm->host = h;
        rc = ct_sim__host_add(st, h, (int)v);
    }
    free(room);
    return rc;
}

/* ---------------------------------------------------------------- migrations */

static int start_moves(sim_state *st, double t)
{
    for (size_t i = 0; i < st->n_moves; i++) {
        sim_move *m = &st->moves[i];
        sim_vm *vm = &st->vms[m->vm];
        sim_host *to = &st->hosts[m->host];
        vm->in_migration = true;
        if (!ct_sim__list_has(&to->mig_in, m->vm)) {
            if (ct_sim__list_push(&to->mig_in, m->vm) < 0 ||
                ct_sim__host_add(st, m->host, m->vm) < 0)
                return CT_ENOMEM;
            host_update(st, m->host, t, false);
            host_update(st, vm->host, t, false);
        }
        st->migrations++;
        m->seq = (int)i;
        m->done = t + vm->ram / st->mig_rate;
    }
    return 0;
}

static int cmp_done(const void *a, const void *b)
{
    const sim_move *x = a, *y = b;

    if (x->done != y->done)
        return x->done < y->done ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int finish_move(sim_state *st, const sim_move *m)
{
    sim_vm *vm = &st->vms[m->vm];
    sim_host *to = &st->hosts[m->host];

    if (vm->host >= 0)
        ct_sim__host_del(st, vm->host, m->vm);
    ct_sim__host_del(st, m->host, m->vm);
    ct_sim__list_remove(&to->mig_in, m->vm);
    vm->in_migration = false;
    vm->host = m->host;
    return ct_sim__host_add(st, m->host, m->vm);
}

/* Completes the round's migrations in time order, the same-time ones
 * together, updating every host before and after each group. */
static int finish_moves(sim_state *st, double horizon)
{
    size_t i = 0;

    /* Same-time migrations complete in plan order (CloudSim's event queue
     * breaks ties by insertion). */
    if (st->n_moves > 1)
        qsort(st->moves, st->n_moves, sizeof(*st->moves), cmp_done);
    while (i < st->n_moves) {
        double tc = st->moves[i].done;
        if (tc >= horizon)
            break;
        update_all(st, tc, false);
        for (; i < st->n_moves && st->moves[i].done == tc; i++)
            if (finish_move(st, &st->moves[i]) < 0)
                return CT_ENOMEM;
        update_all(st, tc, false);
    }
    st->n_moves = 0;
    return 0;
}

/* ---------------------------------------------------------------- run */

static int round_at(sim_state *st, double t, double horizon)
{
    int rc;

    update_all(st, t, true);
    st->rounds++;
    st->n_moves = 0;
    rc = st->policy == CT_SIM_CATENA ? ct_sim__catena_round(st, t) : ct_sim__classic_round(st, t);
    if (rc < 0)
        return rc;
    if ((rc = start_moves(st, t)) < 0)
        return rc;
    return finish_moves(st, horizon);
}

static void fill_result(ct_sim_result *out, const sim_state *st)
{
    memset(out, 0, sizeof(*out));
    out->energy_kwh = st->energy_ws / 3.6e6;
    out->migrations = st->migrations;
    out->slatah = st->active_time > 0 ? st->sla_time / st->active_time : 0;
    out->pdm = st->vm_req > 0 ? st->vm_mig_lost / st->vm_req : 0;
    out->slav = out->slatah * out->pdm;
    out->sla_overall = st->vm_req > 0 ? (st->vm_req - st->vm_alloc) / st->vm_req : 0;
    out->n_vms = st->n_vms - st->unplaced;
    out->n_unplaced = st->unplaced;
    out->n_finished = st->finished;
    out->n_rounds = st->rounds;
    out->simulated_s = st->last_process;
    out->mean_active_hosts = st->last_process > 0 ? st->active_host_s / st->last_process : 0;
}

int ct_sim_run(ct_sim_result *out, const ct_sim_config *cfg, const ct_sim_trace *trace)
{
    sim_state st;
    double t, horizon, last_round = 0, bound_ws = 0;
    bool *served = NULL;
    int rc;

    if ((rc = check_config(cfg)) < 0)
        return rc;
    if (trace == NULL || trace->n_vms == 0 || trace->n_samples == 0)
        return ct_error_set(CT_EINVAL, "sim: empty trace");
    if ((rc = init_state(&st, cfg, trace)) < 0)
        goto done;
    if (cfg->policy == CT_SIM_CATENA && (rc = ct_sim__catena_init(&st)) < 0)
        goto done;
    if ((rc = place_initial(&st)) < 0)
        goto done;
    if ((served = calloc(st.n_vms + 1, sizeof(*served))) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "sim: out of memory");
        goto done;
    }
    for (size_t v = 0; v < st.n_vms; v++)
        served[v] = st.vms[v].host >= 0;
    horizon = (double)trace->n_samples * cfg->interval;
    /* Round times accumulate the way CloudSim's event clock does. */
    for (t = cfg->submit_delay + cfg->interval; t < horizon; t += cfg->interval) {
        if ((rc = round_at(&st, t, horizon)) < 0)
            goto done;
        last_round = t;
    }
    fill_result(out, &st);
    if ((rc = ct_sim__energy_bound(&bound_ws, &st, served, last_round)) < 0)
        goto done;
    out->energy_lower_bound_kwh = bound_ws / 3.6e6;
done:
    free(served);
    free_state(&st);
    return rc;
}
