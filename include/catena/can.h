/* Component Administration Networks (seed 002, section 4). So far: the
 * CAN ledger every node keeps (log.c) and the network-size experiment of
 * section 4.1.1 (Figures 4.2 and 4.3), which runs Algorithm 1's join rule
 * against random joins and crashes. */
#ifndef CATENA_CAN_H
#define CATENA_CAN_H

#include <stddef.h>
#include <stdint.h>

#include "catena/crypto.h"
#include "catena/util.h"

/* ---------------------------------------------------------------- CAN ledger */

/* The leader's ordered log of network and component transactions, kept by
 * every node in SQLite (synchronous: an acknowledged entry survives a
 * crash), and the state it builds. An entry is a JSON object with "type"
 * and its fields; stored, it also has "index" (1, 2, ...) and
 * "nonce_of_leader" (the Registry's leaderNonce it was written under):
 *   JOIN {node, url}            REMOVE {node}        LEADER {node, nonce}
 *   REGISTER_COMPONENT {comp, url}                   DEREGISTER {comp}
 *   ASSIGN_WORK {work, comp, description}
 *   CHECKPOINT_WORK {work, comp, digest}   (only the assigned component)
 *   REASSIGN_WORK {work, comp, cpa}        (cpa: the work's checkpoints)
 *   FINISH_WORK {work}
 * Every entry is validated against the state before it is stored. Thread
 * safe. */
typedef struct ct_can_log ct_can_log;

/* Opens (creating) the log at path and rebuilds its state.
 * Returns: 0, CT_EIO, CT_EPARSE or CT_EINVAL (a damaged log). */
int ct_can_log_open(ct_can_log **out, const char *path);

void ct_can_log_close(ct_can_log *l);

/* Leader: validates body and appends it as the next entry under nonce.
 * Out: *index (may be NULL). Returns: 0; CT_EINVAL, CT_EEXIST,
 * CT_ENOTFOUND, CT_EAUTH, CT_ESTATE (invalid here: nothing stored);
 * CT_EIO. */
int ct_can_log_propose(ct_can_log *l, uint64_t *index, uint64_t nonce, const json_t *body);

/* Follower: stores an entry the leader sent. The same entry twice is a
 * no-op; an entry at an index already held from an older leader nonce
 * replaces it and what follows (the newer leader's log wins); a gap is
 * refused (catch up with the leader's ct_can_log_since from last + 1).
 * Returns: 0; CT_ESTATE (gap, or a stale leader); the validation errors of
 * propose; CT_EIO. */
int ct_can_log_accept(ct_can_log *l, const json_t *entry);

/* Out: *out a JSON array of at most max stored entries from index from on.
 * Returns: 0, CT_EIO, CT_ENOMEM. */
int ct_can_log_since(ct_can_log *l, json_t **out, uint64_t from, size_t max);

/* Returns: a copy of the state (caller decrefs), NULL when out of memory:
 * {"members": {addr: {url}}, "leader": addr|null, "nonce": n,
 *  "components": {id: {url, registered}},
 *  "works": {id: {comp, description, checkpoints: [digest], finished}},
 *  "last": index, "last_nonce": n}. */
json_t *ct_can_log_state(ct_can_log *l);

/* ---------------------------------------------------------------- CAN node */

/* A CAN node: the HTTP API under /can/ (status, join, append, log,
 * component, work, checkpoint, blob/{digest}; docs/ORCHESTRATION.md), and
 * a thread that, when the Registry names this node's key as leader, enters
 * it in the ledger and pushes the ledger to every member, and otherwise
 * asks the leader to join and catches up. */
typedef struct ct_can_node ct_can_node;

typedef struct ct_can_node_opts {
    const char *dir;         /* the ledger: dir/can.db */
    const char *listen_host; /* NULL: 127.0.0.1 */
    uint16_t port;           /* 0: any free port */
    const char *public_url;  /* contact given to others; NULL: http://host:port */
    const char *rpc_url;     /* the chain */
    ct_address registry;     /* the Registry contract */
    uint8_t seckey[32];      /* the node's key (a Registry candidate); wiped */
    int replicate_ms;        /* push and check period; 0: 200 */
    int pay_interval_ms;     /* leader: interimPayment per application; 0: 60 s */
} ct_can_node_opts;

/* Returns: 0, or CT_EIO (cannot listen), CT_ERPC, CT_ENOMEM, ... */
int ct_can_node_start(ct_can_node **out, const ct_can_node_opts *o);

/* The port bound, and the contact URL. */
uint16_t ct_can_node_port(const ct_can_node *n);
const char *ct_can_node_url(const ct_can_node *n);

/* Stops the thread and the server and frees; NULL is a no-op. */
void ct_can_node_stop(ct_can_node *n);

/* Largest work description (an application's TOSCA document). */
#define CT_CAN_MAX_DESCRIPTION (256u << 10)

/* Checkpoints are stored by digest ("0x" + keccak-256 hex of the data). */
#define CT_CAN_MAX_CHECKPOINT (16u << 20)

void ct_can_digest(char out[67], const void *data, size_t len);

/* Stores a checkpoint. Out: digest. Returns: 0, CT_ELIMIT, CT_EIO. */
int ct_can_blob_put(ct_can_log *l, char digest[67], const void *data, size_t len);

/* Reads a checkpoint and checks it against its digest.
 * Out: *out malloc'd, *len. Returns: 0, CT_ENOTFOUND, CT_ECRYPTO (the data
 * does not match), CT_EIO, CT_ENOMEM. */
int ct_can_blob_get(ct_can_log *l, uint8_t **out, size_t *len, const char *digest);

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
