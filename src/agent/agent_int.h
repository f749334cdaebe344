/* What the agent module's files share: the agent structure, its
 * WebSocket server state, and the server's start and stop. */
#ifndef CATENA_AGENT_INT_H
#define CATENA_AGENT_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "catena/agent.h"
#include "catena/eth.h"
#include "catena/ledger.h"

/* An open WebSocket connection, registered so that stopping can close it. */
typedef struct ct_agent__conn {
    struct _websocket_manager *manager;
    pthread_mutex_t mu;
    pthread_cond_t idle;          /* inflight fell to 0 */
    int inflight;                 /* requests being handled on worker threads */
    bool gateway;                 /* opened with a proof from one of the agent's gateways */
    atomic_llong last_request_ms; /* ct_time_mono_ms() of its latest request */
    struct ct_agent__conn *next;
} ct_agent__conn;

/* The cloud watcher (watch.c) and its broker connection (amqp.c). */
typedef struct ct_agent__watch ct_agent__watch;
typedef struct ct_agent__amqp ct_agent__amqp;

/* The server half (server.c); opaque to handler.c. */
typedef struct ct_agent__server ct_agent__server;

struct ct_agent {
    char dc_name[CT_AGENT_NAME_MAX + 1];
    ct_address wallet;
    ct_address contract;
    const ct_agent_tokens *tokens;
    ct_ledger *ledger;
    ct_sender *sender;
    size_t max_message;
    char listen_host[64];
    uint16_t listen_port;
    uint8_t seckey[CT_SECKEY_SIZE]; /* answers the gateway's challenge; wiped on free */
    ct_address gateways[CT_AGENT_MAX_GATEWAYS];
    size_t n_gateways;
    int idle_timeout_s;
    int ping_interval_ms;
    char *tls_cert, *tls_key; /* PEM text (NULL: plain ws://) */
    ct_agent__server *server; /* NULL until ct_agent_start */
    ct_agent__watch *watch;   /* NULL unless the agent watches a cloud */
};

/* Starts and stops the WebSocket server of a (server.c). */
int ct_agent__server_start(ct_agent *a);
void ct_agent__server_stop(ct_agent *a);
uint16_t ct_agent__server_port(const ct_agent *a);

/* ---------------------------------------------------------------- watcher */

/* What one Nova notification says about one instance. */
typedef struct ct_agent__note {
    char message_id[96];
    char event[64]; /* "instance.power_off.end" */
    char uuid[64];
    char state[32]; /* vm_state: "active", "stopped", "deleted"... */
    char ip[64];    /* "http://" and the first IPv4 address, or "" */
    int64_t created_s;
    int64_t at_ms; /* when Nova sent it */
    int64_t vcpus, memory_mb, root_gb;
    bool migrated_in; /* launched by a catena migration (server metadata) */
} ct_agent__note;

/* Reads an instance notification out of its oslo.messaging envelope.
 * Returns: 1 (about an instance's finished action: n set), 0 (another
 * kind), CT_EPARSE (malformed, or lacking what a VC needs). */
int ct_agent__watch_parse(ct_agent__note *n, const char *body, size_t len);

/* Checks cfg's watcher settings and opens the journal. Does not connect. */
int ct_agent__watch_new(ct_agent__watch **out, ct_agent *a, const ct_agent_config *cfg);
int ct_agent__watch_start(ct_agent__watch *w);
/* Stops the thread (a delivery in hand stays unacknowledged) and frees. */
void ct_agent__watch_free(ct_agent__watch *w);

typedef struct ct_agent__amqp_opts {
    const char *url; /* amqp://USER:PASSWORD@HOST:PORT/VHOST */
    const char *exchange;
    const char *routing_key;
    const char *queue; /* durable, declared if missing */
} ct_agent__amqp_opts;

typedef struct ct_agent__delivery {
    char *body; /* NUL-terminated copy */
    size_t len;
    uint64_t tag;
    bool redelivered;
} ct_agent__delivery;

/* Connects, logs in, binds the queue and starts consuming (one
 * unacknowledged delivery at a time). Every step is bounded (5 s).
 * Returns: 0; CT_EINVAL (bad URL); CT_EIO (the broker's refusal in the
 * message). */
int ct_agent__amqp_open(ct_agent__amqp **out, const ct_agent__amqp_opts *o);
void ct_agent__amqp_close(ct_agent__amqp *q);
/* Waits up to timeout_ms for a delivery. Out: *d (clear it).
 * Returns: 0; CT_ETIMEOUT (none); CT_ELIMIT (too large: d->tag set, to
 * acknowledge); CT_EIO (the connection is gone: open another). */
int ct_agent__amqp_next(ct_agent__amqp *q, ct_agent__delivery *d, int timeout_ms);
int ct_agent__amqp_ack(ct_agent__amqp *q, uint64_t tag);
void ct_agent__delivery_clear(ct_agent__delivery *d);

#endif /* CATENA_AGENT_INT_H */
