/* Catena consolidation simulator: replays VM CPU traces (PlanetLab style,
 * one utilisation sample per interval) on a data centre of power-modelled
 * hosts under a consolidation policy, and reports energy and SLA metrics as
 * CloudSim's power package defines them. Pure computation, no I/O, except
 * ct_sim_trace_load, which reads a directory of trace files. */
#ifndef CATENA_SIM_H
#define CATENA_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catena/place.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- policies */

/* Consolidation policies. The first five are Beloglazov and Buyya (2012)
 * as CloudSim 3.0.3 implements them: an overload detector, Minimum
 * Migration Time VM selection and Power-Aware Best Fit Decreasing
 * placement, plus draining the least utilised hosts. */
typedef enum ct_sim_policy {
    CT_SIM_THR_MMT = 0, /* static threshold (default 0.8) */
    CT_SIM_IQR_MMT = 1, /* 1 - s * IQR of the host history (default s = 1.5) */
    CT_SIM_MAD_MMT = 2, /* 1 - s * MAD of the host history (default s = 2.5) */
    CT_SIM_LR_MMT = 3,  /* local regression, safety s (default 1.2) */
    CT_SIM_LRR_MMT = 4, /* robust local regression as in CloudSim 3.0.3, whose
                           bisquare weights are never applied: equals LR */
    CT_SIM_CATENA = 5   /* Catena's own: predictive, migration-cost-aware
                           packing (docs/SIMULATOR.md) */
} ct_sim_policy;

#define CT_SIM_N_POLICIES 6

/* Parses "thr-mmt", "iqr-mmt", "mad-mmt", "lr-mmt", "lrr-mmt", "catena".
 * Returns: 0, or CT_EINVAL naming the unknown policy. */
int ct_sim_policy_parse(ct_sim_policy *out, const char *name);

/* Returns: the policy's static name ("lr-mmt", ...), or "?" if invalid. */
const char *ct_sim_policy_name(ct_sim_policy policy);

/* ---------------------------------------------------------------- traces */

/* CPU utilisation traces of a set of VMs: n_samples integer percentages
 * (0..100) per VM, one per interval. Opaque; owned by its creator. */
typedef struct ct_sim_trace ct_sim_trace;

/* Limits that keep a hostile trace directory from exhausting memory. */
#define CT_SIM_MAX_VMS 100000u
#define CT_SIM_MAX_SAMPLES 100000u

/* Creates n_vms traces of n_samples zeros, unnamed ("").
 * Out: *out, free with ct_sim_trace_free.
 * Returns: 0, CT_EINVAL (zero or above the limits) or CT_ENOMEM. */
int ct_sim_trace_new(ct_sim_trace **out, size_t n_vms, size_t n_samples);

/* Loads every regular file of dir, sorted by name (bytewise), as one VM:
 * one integer 0..100 per line. All files must have the same number of
 * samples. Names may contain spaces.
 * Out: *out, free with ct_sim_trace_free.
 * Returns: 0, CT_ENOTFOUND (no such directory, or no files), CT_EPARSE
 * (message names file and line), CT_ELIMIT, CT_EIO or CT_ENOMEM. */
int ct_sim_trace_load(ct_sim_trace **out, const char *dir);

/* Frees t; NULL is a no-op. */
void ct_sim_trace_free(ct_sim_trace *t);

/* Returns: the number of VMs, and of samples per VM. */
size_t ct_sim_trace_vms(const ct_sim_trace *t);
size_t ct_sim_trace_samples(const ct_sim_trace *t);

/* Returns: VM vm's samples (borrowed, writable; n_samples of them, each
 * must stay within 0..100). */
uint8_t *ct_sim_trace_data(ct_sim_trace *t, size_t vm);
const uint8_t *ct_sim_trace_cdata(const ct_sim_trace *t, size_t vm);

/* Returns: VM vm's name (the file name when loaded; borrowed). */
const char *ct_sim_trace_name(const ct_sim_trace *t, size_t vm);

/* ---------------------------------------------------------------- setup */

/* A host model: identical cores and an 11-point power curve. */
typedef struct ct_sim_host_model {
    const char *name;
    double pe_mips; /* MIPS of one core */
    int pes;        /* cores */
    int ram_mb;
    ct_power_curve power;
} ct_sim_host_model;

/* A VM type: one core of mips MIPS and ram_mb of memory. */
typedef struct ct_sim_vm_type {
    double mips;
    int ram_mb;
} ct_sim_vm_type;

#define CT_SIM_MAX_MODELS CT_PLACE_MAX_MODELS
/* The catena policy's defaults in the simulator: its round fills hosts up
 * to their whole capacity, relieves a host only when it is predicted past
 * it, empties hosts at up to 95 % and predicts each VM at the larger of
 * its current and mean recent demand (no margin). Chosen by
 * bench/bench_sim_lodo over all seven PlanetLab days (the lowest mean
 * energy over the lower bound among the settings whose SLAV stays at or
 * below lr-mmt's on every day); leaving any one day out chooses the same
 * (docs/SIMULATOR.md). The product's own defaults, for real federations,
 * are ct_place_pack_opts_default's. */
#define CT_SIM_CATENA_U_FILL 1.0
#define CT_SIM_CATENA_U_MAX 1.0
#define CT_SIM_CATENA_DRAIN_MAX 0.95
#define CT_SIM_CATENA_SIGMAS 0.0
#define CT_SIM_MAX_VM_TYPES 8

/* How VM i (in sorted file order) gets its type among n_types: round
 * robin (i % n_types), as ../shared/data/README.md describes the classic
 * setup, or blocks (the first ceil(n / n_types) VMs get type 0, and so
 * on), as CloudSim's Helper.createVmList does. docs/SIMULATOR.md compares
 * the two. */
typedef enum ct_sim_vm_assign {
    CT_SIM_ASSIGN_BLOCKS = 0,
    CT_SIM_ASSIGN_ROUND_ROBIN = 1
} ct_sim_vm_assign;

typedef struct ct_sim_config {
    ct_sim_policy policy;
    double param;   /* threshold or safety parameter; 0: the policy default */
    size_t n_hosts; /* hosts; host i has model i % n_models */
    size_t n_models;
    ct_sim_host_model models[CT_SIM_MAX_MODELS];
    size_t n_vm_types;
    ct_sim_vm_type vm_types[CT_SIM_MAX_VM_TYPES];
    ct_sim_vm_assign vm_assign;
    double interval;      /* seconds between samples and between rounds */
    double host_bw_mbit;  /* host network; half of it carries migrations */
    double vm_bw_mbit;    /* network each VM reserves when it is created */
    double submit_delay;  /* CloudSim starts the cloudlets 0.1 s in, so rounds
                             happen at k * interval + submit_delay */
    int max_vms_per_host; /* CloudSim's storage bound: 1,000,000 MB of host
                             storage / 2,500 MB per VM = 400 */
    /* The catena policy's round (thresholds of ct_place_consolidate) and
     * how many standard deviations of its recent history above the mean
     * a VM's predicted demand goes. ct_sim_config_default sets the
     * CT_SIM_CATENA_* defaults. */
    ct_place_pack_opts catena;
    double catena_sigmas;
} ct_sim_config;

/* Fills cfg with the classic CloudSim PlanetLab setup (README of
 * ../shared/data): 800 hosts alternating HP ProLiant ML110 G4 (2 x 1860
 * MIPS) and G5 (2 x 2660 MIPS), 4 GB each, 1 Gbit/s; VM types 2500, 2000,
 * 1000, 500 MIPS with 870, 1740, 1740, 613 MB round robin, 100 Mbit/s
 * each; 300 s interval. */
void ct_sim_config_default(ct_sim_config *cfg, ct_sim_policy policy);

/* Returns: the parameter policy uses when cfg->param is 0. */
double ct_sim_default_param(ct_sim_policy policy);

/* ---------------------------------------------------------------- run */

typedef struct ct_sim_result {
    double energy_kwh;
    /* What any policy needs at least for the same VMs over the same day:
     * at each moment the least power serving their total demand, VMs
     * divisible, idle hosts off (docs/SIMULATOR.md). */
    double energy_lower_bound_kwh;
    uint64_t migrations;
    double slatah;            /* share of active-host time with allocated < requested MIPS */
    double pdm;               /* MIPS lost to migrations / MIPS requested */
    double slav;              /* slatah * pdm */
    double sla_overall;       /* (requested - allocated) / requested, all VMs */
    size_t n_vms;             /* VMs placed at the start */
    size_t n_unplaced;        /* VMs no host could take at the start */
    size_t n_finished;        /* VMs retired when their demand fell to 0 (CloudSim
                                 treats a zero-demand VM as finished) */
    size_t n_rounds;          /* consolidation rounds run */
    double mean_active_hosts; /* time-weighted over the simulated day */
    double simulated_s;       /* time of the last event processed; CloudSim
                                 stops at the first round due at or after the
                                 end of the trace */
} ct_sim_result;

/* Replays trace under cfg. Deterministic: the same inputs give the same
 * result, bit for bit.
 * Returns: 0, CT_EINVAL (bad config, message says which field) or
 * CT_ENOMEM. Thread safe on distinct inputs. */
int ct_sim_run(ct_sim_result *out, const ct_sim_config *cfg, const ct_sim_trace *trace);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_SIM_H */
