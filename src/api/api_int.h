/* What the gateway's files share: the request/response of one HTTP
 * exchange, the route table, and the gateway state. */
#ifndef CATENA_API_INT_H
#define CATENA_API_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catena/api.h"
#include "catena/ledger.h"
#include "catena/store.h"

#define API_MAX_PARAMS 4
/* Most query arguments a request may carry. */
#define API_MAX_ARGS 16
/* Most VCs in one batch registration: 35-60k gas each (the most with
 * every string at its 256-byte limit), plus the sender's quarter of
 * margin, within the 2^24 gas that chains such as Hardhat allow a
 * transaction (EIP-7825). tests/integration/ledger checks the worst case. */
#define API_MAX_BATCH 200

/* Largest request body accepted (bodies are small JSON objects). */
#define API_MAX_BODY (512 * 1024)
/* Deepest JSON nesting accepted in a request body. */
#define API_BODY_DEPTH 16

/* A request as handlers see it. Everything is read from libmicrohttpd
 * before the handler runs, so a handler may run on another thread while
 * the connection is suspended (the strings live as long as the request). */
typedef struct api_req {
    const char *method;
    const char *path;
    const char *params[API_MAX_PARAMS]; /* path segments matched by {x} (in segs) */
    int n_params;
    char segs[API_MAX_PARAMS][256];
    const char *body;
    size_t body_len;
    const char *auth;         /* the Authorization header, or NULL */
    const char *idem_key;     /* the Idempotency-Key header, or NULL */
    const char *target_token; /* X-Catena-Target-Token (a migration's target DC), or NULL */
    void *job;                /* http.c's job while on a worker (ct_api__answer_now) */
    const char *arg_keys[API_MAX_ARGS], *arg_values[API_MAX_ARGS];
    int n_args;
    int64_t received_ms; /* ct_time_mono_ms() once it was read: deadlines count from here */
} api_req;

typedef struct api_resp {
    int status;
    json_t *json;             /* body as JSON (owned), or */
    const char *file;         /* a file to send (borrowed path) */
    const char *content_type; /* for file */
    char *text;               /* or a text body (owned) */
    char location[96];        /* a Location header, or "" */
} api_resp;

struct ct_api;
typedef void (*api_handler)(struct ct_api *api, const api_req *req, api_resp *resp);

/* One connected agent, per DC. */
typedef struct api_agent api_agent;

/* The answer cache (cache.c). */
typedef struct api_cache api_cache;

/* The record of write requests (requests.c). */
typedef struct api_requests api_requests;

/* The agreement keeper (keeper.c). */
typedef struct api_keeper api_keeper;

struct ct_api {
    /* Set at start (the HTTP port once bound), then read only. */
    ct_api_config cfg;
    ct_ledger *ledger;
    ct_agreements *agreements; /* the agreement contracts' ABIs (agreements.c) */
    ct_store *store;           /* follower thread only */
    ct_store *read_store;      /* fallback for request threads (serialises them) */
    ct_follower *follower;     /* follower thread only (after the first poll) */
    pthread_t follower_thread;
    bool follower_started;
    api_agent **agents; /* each guards its own state (agents.c) */
    size_t n_agents;
    void *http;             /* struct http_server * (http.c) */
    ct_workq *pool;         /* workers for blocking handlers other than writes (http.c) */
    api_cache *cache;       /* has its own locks (cache.c) */
    api_requests *requests; /* has its own lock (requests.c) */
    api_keeper *keeper;     /* its own thread, or NULL (keeper.c) */

    atomic_int proving; /* VC proofs being collected (chain.c) */

    pthread_mutex_t handles_mu; /* guards handles, n_handles */
    ct_store **handles;         /* one read handle per request thread */
    size_t n_handles;

    /* wake_mu guards the fields below; held only briefly (never during a
     * poll), so /api/health does not wait for the node. */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake; /* a write asks the follower to poll, or stopping */
    bool stopping;
    bool follower_ok;
    uint64_t chain_head, processed;
    /* Why the follower refuses the node's chain (another genesis, no
     * contract): "" when it does not. The cache is kept meanwhile. */
    char chain_error[256];
};

/* Deep-copies a configuration. Returns: 0 or CT_ENOMEM. */
int ct_api_config_copy(ct_api_config *dst, const ct_api_config *src);

/* Returns: this thread's read handle on the cache (opened on first use,
 * so readers do not queue on one handle; WAL lets them read beside the
 * follower's writes), or the shared one if that fails. */
ct_store *ct_api__store(struct ct_api *api);

/* ---------------------------------------------------------------- answer cache */

/* Kinds of cached answers (the key is a VC tag or a transaction hash). */
enum { CACHE_DETAILS = 1, CACHE_FLAVOR, CACHE_HISTORY, CACHE_PENDING, CACHE_TAG_BY_TX };

int ct_api__cache_new(api_cache **out);
void ct_api__cache_free(api_cache *c);

/* Returns: the generation to store an answer under (the follower handle's
 * ct_store_change_count): read it before the
 * store read the answer comes from (a commit in between only makes the
 * entry stale at once). */
uint64_t ct_api__cache_gen(struct ct_api *api);

/* Fills resp (status, JSON text) from a current entry. Returns: whether
 * there was one. */
bool ct_api__cache_get(struct ct_api *api, int kind, const uint8_t key[32], api_resp *resp);

/* Turns resp's JSON into its text (the answer is sent as that text) and,
 * for a 200 or 404, keeps a copy under gen. */
void ct_api__cache_put(struct ct_api *api, int kind, const uint8_t key[32], uint64_t gen,
                       api_resp *resp);

/* Finds the wallet of the DC called name: a configured agent's, else the
 * cache's registration. Returns: true; false with a 404 (what names the
 * DC in the message) or, for a cache failure, a 500 set in resp. */
bool ct_api__dc_wallet(struct ct_api *api, ct_address *out, const char *name, const char *what,
                       api_resp *resp);

/* Answers with the file name of dir (404 when dir is NULL or name is not
 * made of [a-z0-9-_.] or starts with a dot, so no path leaves dir), with
 * its content type. */
void ct_api__static_file(api_resp *resp, const char *dir, const char *name);

/* Parses "0x" and 64 hex digits (a VC tag, a transaction or block hash).
 * Returns: whether s was one. */
bool ct_api__parse_hash32(uint8_t out[32], const char *s);

/* Looks up a query argument of the request. */
const char *ct_api__query(const api_req *req, const char *name);

/* Sets an error response {"error": message} with status. */
void ct_api__error(api_resp *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Finds the handler for method + path, filling req->params (copied into
 * req->segs). Out: *offload whether the handler may block (it then runs on
 * a worker while the connection is suspended).
 * Returns: the handler, or NULL with *status 404 or 405. */
api_handler ct_api__route(api_req *req, int *status, bool *offload);

/* HTTP server. */
int ct_api__http_start(struct ct_api *api);
void ct_api__http_stop(struct ct_api *api);

/* Agents: connect (background reconnects), forward a request, state.
 * Each agent has its own work queue for its DC's writes.
 * agents_cancel makes waiting and new agent calls fail at once (before
 * the HTTP server drains the queues: agents_drain); agents_stop also
 * joins and frees. */
int ct_api__agents_start(struct ct_api *api);
void ct_api__agents_cancel(struct ct_api *api);
void ct_api__agents_drain(struct ct_api *api);
void ct_api__agents_stop(struct ct_api *api);
/* Returns: the work queue of dc's writes (borrowed), or NULL. */
ct_workq *ct_api__agent_queue(struct ct_api *api, const char *dc);
/* Returns: the writes queued or running on the agents' queues. */
size_t ct_api__agents_busy(struct ct_api *api);
/* Sends msg (a JSON object; "_request_id" is added) to the agent of dc and
 * waits for its answer until deadline (ct_time_mono_ms()). A send still
 * blocked at the deadline drops the connection (the agent is not reading).
 * Never holds the agent's lock while sending or waiting.
 * Out: *answer new ref (Table 19 or 20).
 * Returns: 0, CT_ENOTFOUND (no agent for dc), CT_ETIMEOUT (no answer in
 * time, or not connected: then the message says "is not connected" and,
 * when the agent failed to prove it holds the DC's key, how), CT_EIO (the
 * connection dropped). */
int ct_api__agent_call(struct ct_api *api, const char *dc, json_t *msg, json_t **answer,
                       int64_t deadline);
/* Returns: how many agents are connected (and authenticated); *total the
 * configured ones. Takes no lock (health never waits). */
size_t ct_api__agents_connected(struct ct_api *api, size_t *total);
/* Adds "agents": [{"name", "authenticated", "error"}] to health, "error"
 * saying why one is not (short). Takes no lock. */
void ct_api__agents_report(struct ct_api *api, json_t *health);
/* Reads a hex secp256k1 key ("0x" optional) from path; what names the
 * configuration key in errors. Returns: 0, CT_EINVAL, or the file's error. */
int ct_api__load_key(uint8_t key[CT_SECKEY_SIZE], const char *path, const char *what);

/* Returns: the configured wallet of dc's agent, or NULL. */
const ct_address *ct_api__agent_wallet(struct ct_api *api, const char *dc);

/* Returns: the DC whose agent the handler h would wait for, given req's
 * token (borrowed), or NULL when h is not a write or the token is unknown
 * (such a request fails at once). */
const char *ct_api__write_dc(struct ct_api *api, api_handler h, const api_req *req);

/* Authentication: the DC that the request's bearer token belongs to.
 * Returns: the DC name (borrowed from the config) or NULL. */
const char *ct_api__auth_dc(struct ct_api *api, const api_req *req);
/* The DC whose token this is, or NULL (token may be NULL). */
const char *ct_api__token_dc(struct ct_api *api, const char *token);

/* Returns: the token of the request's 'Authorization: Bearer <token>'
 * header (the scheme in any case), borrowed, or NULL. */
const char *ct_api__bearer(const api_req *req);

/* The agreement keeper: started (after the HTTP server: it writes
 * through the REST API) when cfg.keeper_dc is set; stopped before the
 * HTTP server. Returns: 0, CT_EINVAL (incomplete keeper configuration),
 * CT_EIO, CT_ENOMEM. */
int ct_api__keeper_start(struct ct_api *api);
void ct_api__keeper_stop(struct ct_api *api);

/* ---------------------------------------------------------------- write requests */

/* A write on its way to its agent (requests.c). */
typedef struct api_write api_write;

/* How a write ended. */
enum api_outcome {
    API_DONE,    /* the agent answered a transaction hash */
    API_FAILED,  /* the agent refused it */
    API_UNKNOWN, /* sent, and no answer: it may still be made */
    API_UNSENT,  /* nothing was sent: failed, and its Idempotency-Key is free again */
};

/* Opens (or creates) the requests file and marks what the last run left
 * pending as unknown; starts the thread that answers 202. Returns: 0 or
 * an error naming the file. */
int ct_api__requests_open(struct ct_api *api);
/* Stops that thread and closes the file (after the writes drained). */
void ct_api__requests_close(struct ct_api *api);

/* Begins a checked write of the token's DC dc, before its agent call:
 * with an Idempotency-Key, a request seen before is answered as the first
 * was (or 202 while it runs, 422 for another request under that key).
 * Out: *out the write, to end with ct_api__write_end.
 * Returns: true to go on; false with resp set. */
bool ct_api__write_begin(struct ct_api *api, api_write **out, const api_req *req, const char *dc,
                         api_resp *resp);
/* Ends w with resp (its outcome) and frees it: recorded for replays and
 * for GET /api/requests/{id} if it was answered 202 meanwhile (resp is
 * then not sent). An unknown outcome answers 202 with the request id. */
void ct_api__write_end(struct ct_api *api, api_write *w, enum api_outcome outcome, api_resp *resp);

/* Answers req's connection now with resp (moved out of it) while its
 * handler goes on; the handler's own answer is then dropped. Only for
 * handlers on a worker; the handler must not read req's strings (method,
 * path, auth, body: the connection's) afterwards. Returns: whether it was
 * answered (false: already answered, or not on a worker). */
bool ct_api__answer_now(const api_req *req, api_resp *resp);

/* Makes text valid UTF-8 in place (each invalid byte becomes '?'), so a
 * message that echoes a request can always be encoded. */
void ct_api__utf8_fix(char *text);

/* Request checks shared by handlers (body.c); each sets the error answer
 * in resp when it fails. */
/* Returns: the DC of the request's bearer token, or NULL with a 401. */
const char *ct_api__need_token(struct ct_api *api, const api_req *req, api_resp *resp);
/* Returns: whether the request may read (a token when reads_need_token
 * is set); false with a 401. */
bool ct_api__may_read(struct ct_api *api, const api_req *req, api_resp *resp);

/* Seconds the VC was up from from_ms to to_ms, by the cache's timeline
 * (as its SLA report counts them). Returns: 0, CT_ENOTFOUND, or the
 * store's error. */
int ct_api__vc_uptime(struct ct_api *api, double *up_s, const uint8_t tag[32], int64_t from_ms,
                      int64_t to_ms);
/* Parses the body as a JSON object (at most API_BODY_DEPTH deep) with
 * only the allowed keys (NULL-terminated). Returns: a new reference, or
 * NULL with a 400 naming the problem. */
json_t *ct_api__body_parse(const api_req *req, api_resp *resp, const char *const *allowed);
/* Returns: whether body has every field (NULL-terminated); false with a
 * 400 naming the first missing one. */
bool ct_api__body_require(const json_t *body, const char *const *fields, api_resp *resp);
/* Reads query argument name as an integer in [min, max] into *out (left
 * as it is when absent). Returns: false with a 400. */
bool ct_api__query_uint(uint64_t *out, const api_req *req, const char *name, uint64_t min,
                        uint64_t max, api_resp *resp);

/* Wakes the follower (after a write) so reads catch up quickly. */
void ct_api__follower_wake(struct ct_api *api);

/* The embedded OpenAPI document (text). */
const char *ct_api__openapi(void);

/* Route handlers. */
void ct_api__h_dc_register(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_dc_details(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_dc_list(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_dc_attributes(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_proof(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_verify(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_agreement_list(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_agreement(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_dc_attributes_set(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_register(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_register_batch(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_tag(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_details(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_flavor(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_history(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_pending(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_list(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_sla(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_availability(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_migrate_pending(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_migrate_confirm(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_vc_retire(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_health(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_openapi(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_swagger(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_request(struct ct_api *api, const api_req *req, api_resp *resp);
/* Explorer: chain reads and static files (chain.c), event monitor
 * (monitors.c). */
void ct_api__h_chain_overview(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_chain_blocks(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_chain_block(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_chain_tx(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_chain_search(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_chain_abi(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_monitor_list(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_monitor_add(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_monitor_delete(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_monitor_events(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_explorer(struct ct_api *api, const api_req *req, api_resp *resp);
/* S2D migrations (migrations.c). */
void ct_api__h_migration_start(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_migration_list(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_migration(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_migration_resume(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_migration_reset(struct ct_api *api, const api_req *req, api_resp *resp);
void ct_api__h_usage(struct ct_api *api, const api_req *req, api_resp *resp);

#endif /* CATENA_API_INT_H */
