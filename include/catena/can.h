/* Component Administration Networks (seed 002, section 4). So far: the
 * network-size experiment of section 4.1.1 (Figures 4.2 and 4.3), which
 * runs Algorithm 1's join rule against random joins and crashes. */
#ifndef CATENA_CAN_H
#define CATENA_CAN_H

#include <stddef.h>
#include <stdint.h>

#include "catena/util.h"

#define CT_CAN_SIM_MAX_PROBS 16

/* How the seed's "a candidate node will request to join with probability
 * j" and "a CAN node will crash with probability f" are read: each
 * candidate (member) on its own, or one of them a step. */
typedef enum ct_can_sim_model { CT_CAN_SIM_EACH = 0, CT_CAN_SIM_ONE = 1 } ct_can_sim_model;

typedef struct ct_can_sim_opts {
    int steps;      /* steps per run (the seed's 100) */
    int nmin, nmax; /* Algorithm 1's bounds (4 and 10, or 100) */
    int total;      /* nodes in all, members and candidates (100) */
    int runs;       /* runs per (j, f) */
    uint64_t seed;
    ct_can_sim_model joins, crashes; /* default: each */
    size_t n_join, n_fail;
    double join[CT_CAN_SIM_MAX_PROBS]; /* each candidate asks to join with j a step */
    double fail[CT_CAN_SIM_MAX_PROBS]; /* each member crashes with f a step */
} ct_can_sim_opts;

/* The network's size after each step of each run, for one (j, f): box-plot
 * statistics (quantiles by nearest rank; whiskers at the furthest sizes
 * within 1.5 IQR of the box, as Tukey's). */
typedef struct ct_can_sim_stats {
    double join, fail;
    int min, q1, median, q3, max;
    int whisker_lo, whisker_hi;
    double mean;
    double below_min;    /* share of steps with fewer than nmin members */
    double empty;        /* share of steps with no member at all */
    double runs_emptied; /* share of runs in which the network died out once */
} ct_can_sim_stats;

/* The seed's set-up: 100 steps, Nmin 4, Nmax 10, 100 nodes, 100 runs, seed
 * 1, j in {.2, .1, .05, .025, .01}, f in {.5, .75}. */
void ct_can_sim_defaults(ct_can_sim_opts *o);

/* Checks o. Returns: 0 or CT_EINVAL with the reason. */
int ct_can_sim_check(const ct_can_sim_opts *o);

/* Runs every (j, f): each step, every candidate asks to join with
 * probability j (or, with joins = ONE, one candidate asks with
 * probability j) and the leader applies Algorithm 1 to each request in
 * turn (churn: the members that left minus those that joined in the step
 * before); then every member, those that just joined included, crashes
 * with probability f (crashes = ONE: one member crashes with probability
 * f) and becomes a candidate again. The network starts
 * with the appointed leader; when every member has crashed the owner
 * appoints a new leader from the next request. Runs are seeded from
 * (seed, j, f, run), so a result does not depend on the other pairs.
 * Out: out[fi * n_join + ji], n_join * n_fail of them.
 * Returns: 0, CT_EINVAL, CT_ENOMEM. */
int ct_can_sim_run(const ct_can_sim_opts *o, ct_can_sim_stats *out);

/* Box plots of the results as an SVG figure: one panel per f, one box per
 * j, the size on the y axis with Nmin marked.
 * Returns: 0 or CT_ENOMEM. */
int ct_can_sim_svg(ct_buf *out, const ct_can_sim_opts *o, const ct_can_sim_stats *st);

#endif /* CATENA_CAN_H */
