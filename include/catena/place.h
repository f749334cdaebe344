/* Catena placement: power curves, the knowledge base (tags, host models,
 * hosts, data centres) and energy-aware ranking of hosts for the
 * components of a TOSCA application. Pure computation, no I/O. */
#ifndef CATENA_PLACE_H
#define CATENA_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- power */

/* Points of a SPECpower-style curve: watts at 0 %, 10 %, ..., 100 % load. */
#define CT_POWER_POINTS 11

/* The power drawn by one host model as a function of its CPU utilisation.
 * watts[i] is the draw at utilisation i / 10. A curve is valid when every
 * point is finite, non-negative and not below the previous one
 * (ct_power_curve_check). Plain value type: copy it freely. */
typedef struct ct_power_curve {
    double watts[CT_POWER_POINTS];
} ct_power_curve;

/* Returns: the power in watts at utilisation (0.0 idle .. 1.0 full),
 * interpolated linearly between the two nearest points, exactly at a point
 * when utilisation is a multiple of 0.1 (CloudSim's PowerModelSpecPower).
 * Values below 0 (and NaN) count as 0, values above 1 as 1.
 * Thread safe; never fails. */
double ct_power_at(const ct_power_curve *curve, double utilisation);

/* Returns: the energy in joules used over seconds while utilisation moves
 * linearly from u_from to u_to (the mean of the two end powers times the
 * time, as CloudSim's getEnergyLinearInterpolation without its "idle host
 * is off" rule, which is a simulator policy). */
double ct_power_energy(const ct_power_curve *curve, double u_from, double u_to, double seconds);

/* Checks a curve. Returns: 0, or CT_EINVAL naming the first bad point. */
int ct_power_curve_check(const ct_power_curve *curve);

/* ---------------------------------------------------------------- knowledge base */

/* What placement optimises: the added IT power (watts, times the DC's PUE),
 * its cost (energy_price per kWh) or its emissions (gCO2 per kWh). */
typedef enum ct_place_objective {
    CT_PLACE_ENERGY = 0,
    CT_PLACE_COST = 1,
    CT_PLACE_CARBON = 2
} ct_place_objective;

/* An architecture a tag may run on, and how fast it runs that kind of work
 * relative to the reference (1.0; 0.5 needs twice the CPU for the same). */
typedef struct ct_kb_pref {
    char *arch;
    double factor;
} ct_kb_pref;

/* A workload tag: its preferred architectures, in order, and the predicted
 * utilisation of the vCPUs of a component carrying it. */
typedef struct ct_kb_tag {
    char *name;
    double load; /* 0 < load <= 1, or -1: the KB's default_load */
    ct_kb_pref *prefs;
    size_t n_prefs;
} ct_kb_tag;

typedef struct ct_kb_flavor {
    char *name;
    unsigned vcpus;
    uint64_t ram;  /* bytes */
    uint64_t disk; /* bytes */
} ct_kb_flavor;

typedef struct ct_kb_model {
    char *name;
    char *arch; /* canonical (ct_place_arch_canonical) */
    unsigned cores;
    double mips_per_core;
    uint64_t ram;  /* bytes */
    uint64_t disk; /* bytes, 0: not limited */
    ct_power_curve power;
} ct_kb_model;

typedef struct ct_kb_dc {
    char *name;
    double energy_price;     /* per kWh; NAN when not given */
    double carbon_intensity; /* gCO2 per kWh; NAN when not given */
    double pue;              /* facility power / IT power, 1.0 by default */
    bool excluded;           /* ruled out by constraints (catena place --constraint) */
} ct_kb_dc;

typedef struct ct_kb_host {
    char *name;
    size_t model; /* index in ct_kb.models */
    size_t dc;    /* index in ct_kb.dcs */
    double load;  /* current CPU utilisation, 0..1 */
    unsigned used_vcpus;
    uint64_t used_ram;  /* bytes */
    uint64_t used_disk; /* bytes */
    bool powered;       /* false: off, starting it adds its idle power */
} ct_kb_host;

typedef struct ct_kb {
    double reference_mips;  /* MIPS of one reference vCPU */
    double default_load;    /* predicted utilisation when nothing says */
    double max_utilisation; /* hosts are not loaded past this */
    double cpu_overcommit;  /* vCPUs that may be allocated per core */
    ct_place_objective objective;
    ct_kb_tag *tags;
    size_t n_tags;
    ct_kb_flavor *flavors;
    size_t n_flavors;
    ct_kb_model *models;
    size_t n_models;
    ct_kb_dc *dcs;
    size_t n_dcs;
    ct_kb_host *hosts;
    size_t n_hosts;
} ct_kb;

/* Largest knowledge base text accepted, in bytes. */
#define CT_KB_MAX_TEXT (16u << 20)

/* Parses a knowledge base written in YAML or JSON (docs/PLACEMENT.md);
 * name is used in messages. Pure: no I/O.
 * Out: *out owned by the caller (ct_kb_free); set only on success.
 * Returns: 0, CT_EPARSE or CT_EINVAL with "name:line:column: what" in the
 *          message, CT_ELIMIT, CT_ENOMEM. */
int ct_kb_parse(ct_kb **out, const char *text, size_t len, const char *name);

void ct_kb_free(ct_kb *kb);

/* Returns: the tag called name (borrowed), or NULL. */
const ct_kb_tag *ct_kb_tag_find(const ct_kb *kb, const char *name);

/* Returns: the canonical spelling of an architecture: "x86_64" for amd64,
 * x86-64 and x64, "aarch64" for arm64, lower case otherwise known names;
 * arch itself when unknown. Borrowed (static or arch). */
const char *ct_place_arch_canonical(const char *arch);

/* Returns: whether two architecture names mean the same (case and aliases
 * ignored). */
bool ct_place_arch_same(const char *a, const char *b);

/* ---------------------------------------------------------------- ranking */

/* One component (an abstract host of the application) to place. */
typedef struct ct_place_request {
    const char *name; /* borrowed */
    const char *tag;  /* workload tag, or NULL (the KB's "default" tag if any) */
    const char *arch; /* required architecture, or NULL */
    unsigned vcpus;   /* requested vCPUs, 0 counts as 1 */
    uint64_t ram;     /* bytes, 0: any */
    uint64_t disk;    /* bytes, 0: any */
    double load;      /* predicted utilisation of its vCPUs, < 0: from the tag or KB */
} ct_place_request;

/* Why a host cannot take a request. */
typedef enum ct_place_reason {
    CT_PLACE_OK = 0,
    CT_PLACE_ARCH,      /* architecture excluded by the tag or required */
    CT_PLACE_CPU,       /* not enough free vCPUs */
    CT_PLACE_RAM,       /* not enough free memory */
    CT_PLACE_DISK,      /* not enough free disk */
    CT_PLACE_LOAD,      /* utilisation would pass max_utilisation */
    CT_PLACE_NO_PRICE,  /* its DC has no price or carbon figure for the objective */
    CT_PLACE_CONSTRAINT /* its DC does not satisfy the constraints (ct_kb_dc.excluded) */
} ct_place_reason;

/* Returns: a static name for r ("ok", "architecture", "cpu", ...). */
const char *ct_place_reason_name(ct_place_reason r);

/* How one host would do for one request. */
typedef struct ct_place_candidate {
    size_t host;            /* index in ct_kb.hosts */
    ct_place_reason reason; /* CT_PLACE_OK when feasible */
    double factor;          /* performance factor of its architecture for the tag */
    double util_before;
    double util_after;
    double delta_watts; /* added IT power, W */
    double score;       /* the objective (lower is better); INFINITY when infeasible */
} ct_place_candidate;

/* Where a plan put one request. */
typedef struct ct_place_choice {
    size_t flavor; /* index in ct_kb.flavors */
    double load;   /* predicted utilisation of its vCPUs that was used */
    ct_place_candidate best;
    size_t n_feasible; /* hosts that could have taken it */
} ct_place_choice;

/* The ranking, for request r on host h (model m, data centre d), with
 * f = factor of m's architecture for r's tag (1 when the tag lists none):
 *   demand_mips = vcpus * load * kb->reference_mips
 *   util_after  = util_before + demand_mips / (f * m.cores * m.mips_per_core)
 *   delta_watts = P_m(util_after) - P_m(util_before)   (P_m(util_after) when off)
 *   score       = delta_watts * d.pue                  (energy, W)
 *               * d.energy_price / 1000                (cost per hour)
 *               * d.carbon_intensity / 1000            (gCO2 per hour)
 * Feasible hosts respect architecture, vCPUs (cores * cpu_overcommit), RAM
 * and disk of the chosen flavour, and max_utilisation. Ties go to the host
 * listed first. */

/* Picks the smallest flavour (fewest vCPUs, then RAM, then disk) that
 * covers the request. Returns: 0, or CT_ENOTFOUND naming what is missing. */
int ct_place_flavor(size_t *out, const ct_kb *kb, const ct_place_request *req);

/* Scores every host of kb for req in its current state.
 * Out: *out (malloc'd, caller frees) holds kb->n_hosts candidates, feasible
 *      ones first by score, then the others in host order.
 * Returns: 0, CT_ENOTFOUND (no flavour fits), CT_EINVAL, CT_ENOMEM. */
int ct_place_rank(ct_place_candidate **out, const ct_kb *kb, const ct_place_request *req,
                  ct_place_objective objective);

/* Places n requests one after the other, largest CPU demand first, each on
 * its best feasible host given the ones placed before (capacity and load
 * are updated as it goes; kb itself is not changed).
 * Out: out[i] is the choice for reqs[i] (caller's array of n).
 * Returns: 0, CT_ENOTFOUND when a request has no feasible host or flavour
 *          (message names it and why), CT_EINVAL, CT_ENOMEM. */
int ct_place_plan(ct_place_choice *out, const ct_kb *kb, const ct_place_request *reqs, size_t n,
                  ct_place_objective objective);

/* Parses "energy", "cost" or "carbon". Returns: 0 or CT_EINVAL. */
int ct_place_objective_parse(ct_place_objective *out, const char *name);

/* Returns: "energy", "cost" or "carbon". */
const char *ct_place_objective_name(ct_place_objective objective);

/* ---------------------------------------------------------------- consolidation */

/* One consolidation round, the core of the simulator's catena policy and
 * of re-optimising a running federation, for
 * data centres of any size: given each VM's predicted demand and current
 * host, it plans migrations that relieve hosts predicted to overload and
 * empty lightly loaded hosts into the others, by first fit over hosts in
 * best-fit order (segment trees, O((hosts + moved VMs) log hosts)). */

/* Host models one round tells apart (each has its own search tree). */
#define CT_PLACE_MAX_MODELS 8

typedef struct ct_place_pack_host {
    double capacity;  /* MIPS of all cores */
    double core_mips; /* MIPS of one core: a VM needing more is throttled */
    double idle_w;    /* power at 0 % load, to prefer efficient hosts */
    int model;        /* hosts of one model share a search tree; 0..7 */
} ct_place_pack_host;

typedef struct ct_place_pack_vm {
    double demand; /* predicted MIPS for the next interval */
    double ram_mb; /* migration time and cost grow with it */
    int32_t host;  /* current host, or -1 for a VM still to place */
} ct_place_pack_vm;

typedef struct ct_place_pack_opts {
    double u_max;     /* a host predicted above this share of its capacity
                         sheds VMs (default 0.97) */
    double u_fill;    /* VMs are placed on hosts up to this share (0.9) */
    double drain_max; /* hosts above this share are never emptied (0.8) */
    size_t max_moves; /* migrations per round, 0: no cap */
    size_t max_fails; /* consecutive failed drains before giving up (64) */
} ct_place_pack_opts;

typedef struct ct_place_move {
    int32_t vm, from, to;
} ct_place_move;

/* Fills opts with the defaults above. */
void ct_place_pack_opts_default(ct_place_pack_opts *opts);

/* Plans one round. hosts[i].model must be below CT_PLACE_MAX_MODELS.
 * Out: *out (malloc'd, caller frees; NULL when empty) and *n_out moves,
 * in the order they should start; a VM moves at most once.
 * Returns: 0, CT_EINVAL (bad host index, model or option) or CT_ENOMEM.
 * Deterministic; thread safe on distinct inputs. */
int ct_place_consolidate(ct_place_move **out, size_t *n_out, const ct_place_pack_host *hosts,
                         size_t n_hosts, const ct_place_pack_vm *vms, size_t n_vms,
                         const ct_place_pack_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_PLACE_H */
