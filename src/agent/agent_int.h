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
    pthread_cond_t idle; /* inflight fell to 0 */
    int inflight;        /* requests being handled on worker threads */
    bool gateway;        /* opened with a proof from one of the agent's gateways */
    atomic_llong last_request_ms; /* ct_time_mono_ms() of its latest request */
    struct ct_agent__conn *next;
} ct_agent__conn;

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
};

/* Starts and stops the WebSocket server of a (server.c). */
int ct_agent__server_start(ct_agent *a);
void ct_agent__server_stop(ct_agent *a);
uint16_t ct_agent__server_port(const ct_agent *a);

#endif /* CATENA_AGENT_INT_H */
