/* What the simulator's files share: the state of hosts and VMs during a
 * replay, the per-host bookkeeping CloudSim keeps (VM lists in order,
 * migrations in flight) and the entry points of the policies. */
#ifndef CATENA_SIM_INT_H
#define CATENA_SIM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catena/sim.h"

/* VM utilisation history kept per VM (CloudSim's PowerVm.HISTORY_LENGTH). */
#define SIM_HIST 30

struct ct_sim_trace {
    size_t n_vms;
    size_t n_samples;
    uint8_t *data; /* n_vms * n_samples percentages */
    char **names;  /* n_vms names */
};

typedef struct sim_vm {
    const uint8_t *trace;
    double mips;
    int ram;
    int host;          /* host that runs it, -1 when gone */
    bool in_migration; /* CloudSim's Vm.isInMigration */
    bool gone;         /* never placed, or finished (demand fell to 0) */
    double req;        /* requested MIPS at req_t */
    double req_t;
    double hist[SIM_HIST]; /* utilisation history, most recent first */
    int hist_len;
    double hist_t; /* time of the last history entry */
    /* The last state entry, from which PDM accumulates. */
    bool st_has, st_mig;
    double st_t, st_alloc, st_req;
    int order; /* scratch: position for stable sorts */
} sim_vm;

typedef struct sim_list {
    int *v;
    int n, cap;
} sim_list;

typedef struct sim_host {
    double pe_mips, total;
    int ram_mb;
    const ct_power_curve *power;
    sim_list vms;    /* in CloudSim's order, migrating-in VMs included */
    sim_list mig_in; /* VMs migrating in */
    sim_list saved;  /* the list before a round (saveAllocation) */
    double util_mips;
    double power_now; /* watts at util_mips, cached for a round */
    /* The last state entry, from which SLATAH accumulates. */
    bool st_has, st_active;
    double st_t, st_alloc, st_req;
    /* Caches over the current list, valid until it changes. */
    bool sums_ok, hist_ok;
    double sum_req;   /* requested MIPS, summed in list order */
    double avail;     /* what the VM scheduler has left */
    double alloc_sum; /* what it has handed out */
    double hist[SIM_HIST];
    int hist_len;
} sim_host;

/* One migration of a round: vm moves to host. */
typedef struct sim_move {
    int vm, host;
    double done; /* completion time */
    int seq;     /* position in the plan */
} sim_move;

typedef struct sim_state {
    const ct_sim_config *cfg;
    ct_sim_policy policy;
    double param;
    size_t n_hosts, n_vms, n_samples;
    sim_host *hosts;
    sim_vm *vms;
    double last_process;
    double mig_rate; /* MB per second of migration */
    /* metrics */
    double energy_ws;
    uint64_t migrations;
    double sla_time, active_time;
    double vm_req, vm_alloc, vm_mig_lost;
    double active_host_s;
    size_t finished, unplaced, rounds;
    /* the plan of the current round */
    sim_move *moves;
    size_t n_moves, cap_moves;
    /* scratch for policies, n_hosts or n_vms long */
    uint8_t *mark_a, *mark_b;
    int *scratch_vms;
    void *policy_state; /* catena policy */
} sim_state;

/* ---- sim.c: the data centre model */

/* Returns: utilisation the host reports (util_mips / total, 1 when just
 * above 1, as HostDynamicWorkload.getUtilizationOfCpu). */
double ct_sim__host_util(const sim_host *h);

/* VM vm's utilisation (0..1) at time t: CloudSim's linear interpolation
 * of its trace between samples, the last sample repeating. */
double ct_sim__trace_util(const sim_state *st, const sim_vm *vm, double t);

/* The energy lower bound of docs/SIMULATOR.md from the first round to
 * t_end (the span the simulator counts energy over), in watt seconds, for the VMs with served[v] (those placed at the start): the
 * least power serving their total demand at each moment (divisible VMs,
 * idle hosts off). A VM counts until the first round where its demand is
 * 0, when the simulator retires it. Returns: 0 or CT_ENOMEM. */
int ct_sim__energy_bound(double *out_ws, const sim_state *st, const bool *served, double t_end);

/* List helpers. Returns: 0 or CT_ENOMEM. */
int ct_sim__list_push(sim_list *l, int x);
void ct_sim__list_remove(sim_list *l, int x);
bool ct_sim__list_has(const sim_list *l, int x);

/* Adds or removes a VM from a host's list in a round (no state entries). */
int ct_sim__host_add(sim_state *st, int h, int v);
void ct_sim__host_del(sim_state *st, int h, int v);

/* Refreshes h's cached sums (requested MIPS, scheduler headroom). */
void ct_sim__host_sums(sim_state *st, sim_host *h);

/* Refreshes h's cached utilisation history (sum of its VMs' histories
 * scaled to the host, PowerHostUtilizationHistory). */
void ct_sim__host_hist(sim_state *st, sim_host *h);

/* Appends a move to the round's plan. Returns: 0 or CT_ENOMEM. */
int ct_sim__plan(sim_state *st, int v, int h);

/* ---- sim_classic.c: Beloglazov and Buyya's policies */

/* One optimizeAllocation round at time t: fills st->moves. */
int ct_sim__classic_round(sim_state *st, double t);

/* ---- sim_stats.c: statistics for the detectors */

/* Median as Apache Commons Math's Percentile(50) (legacy estimation);
 * sorts a in place. */
double ct_sim__median(double *a, int n);

/* Inter-quartile range as CloudSim's MathUtil.iqr; sorts a in place. */
double ct_sim__iqr(double *a, int n);

/* Median absolute deviation as CloudSim's MathUtil.mad; sorts a. */
double ct_sim__mad(double *a, int n);

/* Least-squares line through (1, y[0]) .. (n, y[n-1]) computed as Apache
 * Commons Math's SimpleRegression does. Out: *b0 intercept, *b1 slope. */
void ct_sim__regress(double *b0, double *b1, const double *y, int n);

/* ---- sim_catena.c: Catena's policy */

int ct_sim__catena_init(sim_state *st);
void ct_sim__catena_free(sim_state *st);
int ct_sim__catena_round(sim_state *st, double t);

#endif /* CATENA_SIM_INT_H */
