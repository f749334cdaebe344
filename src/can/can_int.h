/* What the files of the CAN module share: the node's state and the
 * helpers its HTTP handlers use (node.c), for elect.c's failure detection
 * and leader election. */
#ifndef CATENA_CAN_INT_H
#define CATENA_CAN_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <ulfius.h>

#include "catena/can.h"
#include "catena/httpd.h"
#include "catena/ledger.h"

#define MAX_CONNECTIONS 256
#define HTTP_TIMEOUT_S 10
#define PEER_TIMEOUT_MS 3000
/* Entries sent to a member in one push or answered to one catch-up. */
#define BATCH 256
/* Algorithm 1's churn: members that left minus those that joined in this
 * window of the log's recent history. */
#define CHURN_WINDOW_MS 60000
#define MAX_PEERS 128
/* How far back a follower whose log diverged from the leader's reads (the
 * divergence is at most the writes a leader had not yet had acknowledged
 * by a majority when it was replaced). */
#define DIVERGE_BACK 64
/* How long a write waits for a majority of members to hold it. */
#define COMMIT_TIMEOUT_MS 5000
/* Checkpoints a follower keeps in mind to fetch. */
#define CT_CAN_MAX_WANTED 4096

/* A member the leader replicates to, each from a thread of its own so a
 * stopped or slow member holds up nobody else. */
struct peer {
    struct ct_can_node *node;
    char addr[CT_ADDRESS_TEXT_SIZE];
    char url[128];
    uint64_t next;  /* the next index to send it (guarded by node->mu) */
    uint64_t acked; /* the last index it is known to hold (node->mu) */
    bool gone;      /* no longer a member: the thread ends (node->mu) */
    pthread_t thread;
    bool started;
};

struct ct_can_node {
    ct_can_node_opts o;
    char me[CT_ADDRESS_TEXT_SIZE];
    char url[128];
    uint16_t port;
    ct_can_log *log;
    ct_ledger *reg;
    ct_rpc *rpc;
    ct_sender *sender;
    struct _u_instance inst;
    struct sockaddr_in bind; /* inst's address (Ulfius keeps the pointer) */
    bool inst_ready;         /* inst initialised */
    bool listening;
    pthread_t loop;
    bool loop_started;
    atomic_bool stop;
    pthread_mutex_t rpc_mu; /* guards rpc */
    pthread_mutex_t mu;     /* guards the fields below */
    char leader[CT_ADDRESS_TEXT_SIZE];
    char leader_url[256];
    uint64_t nonce;
    struct peer *peers[MAX_PEERS];
    size_t n_peers;
    size_t next_comp;   /* round robin over components */
    char (*wanted)[67]; /* checkpoint digests to fetch from the leader */
    size_t n_wanted;
    bool scanned;       /* wanted holds every digest of the log once after start */
    int64_t last_heard; /* ct_time_mono_ms of the leader's last append */
    /* Algorithm 4's acceptor: the nonce promised, to whom, when, and
     * whether an accept was signed for it (then the promise holds). */
    uint64_t promised_nonce;
    char promised_to[CT_ADDRESS_TEXT_SIZE];
    json_int_t promised_log[2]; /* its ledger: leader nonce, index */
    int64_t promised_at;
    bool signed_accept;
    uint64_t chain_id;
    int64_t next_check;     /* mono ms of the next checkState */
    int64_t last_reconcile; /* mono ms of the leader's last look at the Registry */
    uint8_t key[32];        /* signs accepts (elect.c); wiped at stop */
    /* anchor.c: applications' checkpoints on chain, from a thread of its
     * own (a transaction takes a block; replication must not wait). */
    ct_ledger *app_abi, *cloud_abi;
    pthread_t anchor;
    bool anchor_started;
    json_t *paid_at; /* work -> mono ms of its last payment (anchor thread) */
};

/* ---------------------------------------------------------------- node.c */

/* A view of the Registry without arguments (args NULL) or with (stolen).
 * Returns: its first value (new ref), or NULL. */
json_t *ct_can__registry_read(ct_can_node *n, const char *fn, json_t *args);
bool ct_can__is_leader(ct_can_node *n);
/* Reads the leader, its nonce and contact from the Registry.
 * Returns: 0 or CT_ERPC. */
int ct_can__refresh_leader(ct_can_node *n);
unsigned ct_can__status_of(int rc);
int ct_can__not_leader(ct_can_node *n, struct _u_response *resp);
/* The request's JSON object body (new ref), or NULL. */
json_t *ct_can__body_of(const struct _u_request *req);
/* Leader: appends body (stolen), waits until a majority of members hold
 * it, answers its index. */
int ct_can__propose_reply(ct_can_node *n, struct _u_response *resp, json_t *body);
/* Leader: appends body (stolen) stamped with the time.
 * Returns: 0 or the log's error. */
int ct_can__propose(ct_can_node *n, json_t *body, uint64_t *index);
/* The next registered component of state st, round robin, or NULL. */
const char *ct_can__pick_component(ct_can_node *n, json_t *st);
/* Adds "leader", "at" and "sig" (this node's signature of the rest) to
 * a body for followers, who check it came from the Registry's leader.
 * Returns: 0, CT_ENOMEM, CT_ECRYPTO. */
int ct_can__sign_body(ct_can_node *n, json_t *body);

/* ---------------------------------------------------------------- elect.c */

/* Registers the election and removal endpoints. Returns: 0 or CT_ENOMEM. */
int ct_can__elect_endpoints(ct_can_node *n);
/* Follower, each period: Algorithm 2's checkState (a random member and a
 * random component), and Algorithm 3 when the leader does not answer. */
void ct_can__check_state(ct_can_node *n);
/* Whether the Registry lists this node as a member (its ledger may not
 * have the JOIN yet). */
bool ct_can__chain_member(ct_can_node *n);
/* The members as the Registry lists them: {address: {url: contact}} (new
 * ref), or NULL on an RPC error. */
json_t *ct_can__chain_members(ct_can_node *n);
/* Leader, each second: the ledger's members follow the Registry's (a join
 * the Registry recorded whose JOIN entry a replaced leader never had
 * acknowledged; a removal likewise). */
void ct_can__reconcile_members(ct_can_node *n);
/* Leader, each period: reassigns the work of deregistered components. */
void ct_can__reassign_orphans(ct_can_node *n);

/* ---------------------------------------------------------------- anchor.c */

/* A view of the contract (abi) at `at`, without arguments (args NULL) or
 * with (stolen). Returns: its first value (new ref), or NULL. */
json_t *ct_can__chain_read(ct_can_node *n, const ct_ledger *abi, const ct_address *at,
                           const char *fn, json_t *args);
/* Whether a work id is an address (an application's work). Out: *app. */
bool ct_can__app_of(ct_address *app, const char *work);
/* Leader, on ASSIGN_WORK of an application: it is an Application of a
 * Cloud the Registry lists, and description hashes to its toscaHash.
 * Returns: 0, CT_ENOTFOUND (unknown application), CT_EINVAL, CT_ERPC. */
int ct_can__check_app_work(ct_can_node *n, const ct_address *app, const char *description);
/* Leader, on CHECKPOINT_WORK of an application's work w: data is a
 * checkpoint's JSON (type, time, orchestrator = comp, index of a service
 * the contract has), not before the work's last, not after APP_SHUTDOWN.
 * Returns: 0, CT_EINVAL, CT_EAUTH, CT_ESTATE, CT_ERPC. */
int ct_can__check_app_checkpoint(ct_can_node *n, const ct_address *app, const json_t *w,
                                 const char *comp, const uint8_t *data, size_t len);
/* The leader's thread that puts checkpoints on chain and pays them. */
void *ct_can__anchor_main(void *arg);

#endif /* CATENA_CAN_INT_H */
