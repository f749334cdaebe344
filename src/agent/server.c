/* The agent's WebSocket server on Ulfius and libmicrohttpd (ws:// or, with
 * a certificate, wss://): the upgrade at /ws/{DC_NAME} is checked against
 * the DC's name and wallet and the gateway's signed proof before it may
 * hold a connection slot; idle connections are closed; each
 * connection's requests are handled concurrently by a pool of worker
 * threads (up to MAX_INFLIGHT of one connection at a time) and answered as
 * they finish, so one request is checked, encoded and waiting for the
 * sender while another is at the node; what a hostile peer can make Ulfius
 * allocate is capped; stopping closes every connection, even one stalled
 * in the middle of a frame. */
#include "agent_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <orcania.h>
#include <ulfius.h>

/* HTTP connections (upgrades being checked included), and of those the
 * WebSocket connections. A refused upgrade's connection is closed at once. */
#define MAX_CONNECTIONS 128
#define MAX_WEBSOCKETS 64
/* An upgrade request arrives at once: a connection idle this long before
 * it has sent one is closed. */
#define HTTP_TIMEOUT_S 10
/* Gateway proofs' nonces remembered for their window (replays refused). */
#define NONCE_SLOTS 1024
#define STOP_GRACE_MS 2000
#define MANAGER_TICK_MS 50
/* Most requests of one connection handled at once; past that the
 * connection's reader handles the next one itself (and reads no more
 * until it is done). */
#define MAX_INFLIGHT 16
/* Worker threads of the agent (all connections). */
#define WORKERS 16

struct ct_agent__server {
    struct _u_instance inst;
    struct sockaddr_in bind;
    uint16_t port;
    pthread_mutex_t mu; /* guards conns, n_conns, nonces */
    ct_agent__conn *conns;
    int n_conns; /* registered WebSocket connections */
    struct seen_nonce {
        uint8_t nonce[CT_AGENT_NONCE_SIZE];
        int64_t at_ms; /* the proof's time; 0: free */
    } nonces[NONCE_SLOTS];
    atomic_bool stopping;
    /* Upgrades answered whose manager has not started yet: the stop waits
     * for them (see ct_agent__server_stop). */
    atomic_int upgrading;
    ct_workq *workers; /* NULL: every request is handled on its reader */
};

/* ---------------------------------------------------------------- allocation cap */

/* Ulfius 2.7 allocates a frame's payload at the length the frame declares
 * and grows fragmented messages without a bound. Its allocations go
 * through orcania's o_malloc/o_realloc, so they are capped here: a larger
 * frame or message fails to allocate and Ulfius drops the connection. The
 * cap leaves room above the message limit, so a moderately oversized
 * message still gets a polite bad_request. Process-wide, like the
 * allocator it replaces; jansson keeps the allocator Ulfius gave it. */
static atomic_size_t alloc_cap = SIZE_MAX;

static void *capped_malloc(size_t n)
{
    return n > atomic_load(&alloc_cap) ? NULL : malloc(n);
}

/* Ulfius overwrites the pointer it reallocates with the result, so the
 * block is freed here when the request is refused rather than leaked. */
static void *capped_realloc(void *p, size_t n)
{
    if (n > atomic_load(&alloc_cap)) {
        free(p);
        return NULL;
    }
    return realloc(p, n);
}

static void install_alloc_cap(size_t max_message)
{
    atomic_store(&alloc_cap, 2 * max_message + 4096);
    o_set_alloc_funcs(capped_malloc, capped_realloc, free);
}

/* ---------------------------------------------------------------- connections */

static void conn_add(ct_agent__server *srv, ct_agent__conn *c)
{
    pthread_mutex_lock(&srv->mu);
    c->next = srv->conns;
    srv->conns = c;
    srv->n_conns++;
    pthread_mutex_unlock(&srv->mu);
}

static void conn_free(ct_agent__conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->idle);
    free(c);
}

/* The registered connection of m, or NULL. Called on m's reader thread,
 * the only one that removes it. */
static ct_agent__conn *conn_find(ct_agent__server *srv, const struct _websocket_manager *m)
{
    ct_agent__conn *c;

    pthread_mutex_lock(&srv->mu);
    for (c = srv->conns; c != NULL && c->manager != m; c = c->next)
        ;
    pthread_mutex_unlock(&srv->mu);
    return c;
}

/* Unregisters m's connection once its worker threads are done (Ulfius
 * frees m after on_close returns).
 * Returns: whether m was registered (its manager ran and registered it). */
static bool conn_remove(ct_agent__server *srv, const struct _websocket_manager *m)
{
    ct_agent__conn **pp, *found = conn_find(srv, m);

    if (found != NULL) {
        pthread_mutex_lock(&found->mu);
        while (found->inflight > 0)
            pthread_cond_wait(&found->idle, &found->mu);
        pthread_mutex_unlock(&found->mu);
    }
    found = NULL;

    pthread_mutex_lock(&srv->mu);
    for (pp = &srv->conns; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->manager == m) {
            found = *pp;
            *pp = found->next;
            break;
        }
    }
    if (found != NULL)
        srv->n_conns--;
    pthread_mutex_unlock(&srv->mu);
    conn_free(found);
    return found != NULL;
}

static bool conns_empty(ct_agent__server *srv)
{
    bool empty;

    pthread_mutex_lock(&srv->mu);
    empty = srv->conns == NULL;
    pthread_mutex_unlock(&srv->mu);
    return empty;
}

/* Returns: whether the connection should be closed now: a proven
 * gateway's when its peer did not answer the last ping, anyone else's
 * after the idle timeout without a request. */
static bool conn_expired(ct_agent *a, ct_agent__conn *c, struct _websocket_manager *m,
                         int64_t *pinged)
{
    int64_t now = ct_time_mono_ms(), quiet = now - atomic_load(&c->last_request_ms);

    if (!c->gateway) {
        if (quiet < (int64_t)a->idle_timeout_s * 1000)
            return false;
        ct_log(CT_LOG_WARN, "%s: closing a connection idle for %d s", a->dc_name,
               a->idle_timeout_s);
        return true;
    }
    if (quiet < a->ping_interval_ms || now - *pinged < a->ping_interval_ms)
        return false;
    if (*pinged != 0 && m->ping_sent && *pinged > atomic_load(&c->last_request_ms)) {
        ct_log(CT_LOG_WARN, "%s: closing a gateway connection that answers no ping", a->dc_name);
        return true;
    }
    /* Ulfius clears ping_sent when the pong arrives but never sets it, and
     * drops a ping sent while it is set: it is set once the ping is out.
     * The reader takes read_lock to read a frame, so holding it keeps the
     * pong from being handled before ping_sent is set. */
    pthread_mutex_lock(&m->read_lock);
    if (ulfius_websocket_send_message(m, U_WEBSOCKET_OPCODE_PING, 0, NULL) == U_OK)
        m->ping_sent = 1;
    pthread_mutex_unlock(&m->read_lock);
    *pinged = now;
    return false;
}

/* Registers the connection for stopping, then keeps it open until it
 * ends, expires or the agent stops: Ulfius closes a connection when its
 * manager callback returns. */
static void on_manager(const struct _u_request *req, struct _websocket_manager *m, void *user)
{
    ct_agent *a = user;
    ct_agent__conn *c = calloc(1, sizeof(*c));
    char peer[INET_ADDRSTRLEN] = "?";
    const struct sockaddr_in *sin = (const struct sockaddr_in *)req->client_address;
    int64_t pinged = 0;

    /* Ulfius keeps every message of a connection by default: a memory leak
     * on a long-lived connection. */
    m->keep_messages = U_WEBSOCKET_KEEP_NONE;
    if (c == NULL)
        return; /* on_close counts it out */
    c->manager = m;
    /* on_upgrade refused every upgrade without a valid proof. */
    c->gateway = a->n_gateways > 0;
    atomic_init(&c->last_request_ms, ct_time_mono_ms());
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->idle, NULL);
    conn_add(a->server, c);
    /* Ulfius counts this websocket as active from here: its stop closes
     * it and waits for it. */
    atomic_fetch_sub(&a->server->upgrading, 1);
    if (sin != NULL && sin->sin_family == AF_INET)
        inet_ntop(AF_INET, &sin->sin_addr, peer, sizeof(peer));
    ct_log(CT_LOG_INFO, "%s: %s connected from %s", a->dc_name,
           c->gateway ? "gateway" : "unproven peer", peer);
    while (!atomic_load(&a->server->stopping) &&
           ulfius_websocket_status(m) == U_WEBSOCKET_STATUS_OPEN && !conn_expired(a, c, m, &pinged))
        ct_sleep_ms(MANAGER_TICK_MS);
}

static void on_close(const struct _u_request *req, struct _websocket_manager *m, void *user)
{
    ct_agent *a = user;
    (void)req;

    /* An upgrade whose manager never registered it (Ulfius refused the
     * handshake after on_upgrade, or the manager had no memory) is
     * counted out here. */
    if (!conn_remove(a->server, m))
        atomic_fetch_sub(&a->server->upgrading, 1);
    ct_log(CT_LOG_INFO, "%s: gateway disconnected", a->dc_name);
}

static void send_text(struct _websocket_manager *m, const char *text)
{
    if (ulfius_websocket_send_message(m, U_WEBSOCKET_OPCODE_TEXT, strlen(text), text) != U_OK)
        ct_log(CT_LOG_WARN, "websocket: could not send a reply");
}

/* Sends the reply (Ulfius serialises writes on a connection), or closes
 * the connection when none could be built. */
static void reply_or_close(ct_agent *a, struct _websocket_manager *m, int rc, char *reply)
{
    if (rc < 0) {
        ct_log(CT_LOG_ERROR, "%s: %s", a->dc_name, ct_error_last());
        ulfius_websocket_send_close_signal(m);
        return;
    }
    send_text(m, reply);
    free(reply);
}

struct job {
    ct_agent *a;
    ct_agent__conn *c;
    size_t len;
    char data[]; /* a copy: Ulfius frees the message after on_message */
};

static void job_done(ct_agent__conn *c)
{
    pthread_mutex_lock(&c->mu);
    if (--c->inflight == 0)
        pthread_cond_broadcast(&c->idle);
    pthread_mutex_unlock(&c->mu);
}

static void job_run(void *arg)
{
    struct job *j = arg;
    ct_agent__conn *c = j->c;
    char *reply = NULL;
    int rc = ct_agent_handle(j->a, &reply, j->data, j->len);

    reply_or_close(j->a, c->manager, rc, reply);
    free(j);
    job_done(c);
}

/* Queues the request for a worker. Returns: whether it did (if not, the
 * caller handles it itself). */
static bool job_start(ct_agent *a, ct_agent__conn *c, const char *data, size_t len)
{
    struct job *j = NULL;

    if (a->server->workers == NULL)
        return false;
    pthread_mutex_lock(&c->mu);
    if (c->inflight < MAX_INFLIGHT && (j = malloc(sizeof(*j) + len + 1)) != NULL)
        c->inflight++;
    pthread_mutex_unlock(&c->mu);
    if (j == NULL)
        return false;
    *j = (struct job){.a = a, .c = c, .len = len};
    memcpy(j->data, data, len);
    j->data[len] = '\0';
    if (ct_workq_push(a->server->workers, job_run, j) < 0) {
        free(j);
        job_done(c);
        return false;
    }
    return true;
}

/* One request, one reply: on a worker thread when one can be had. */
static void on_message(const struct _u_request *req, struct _websocket_manager *m,
                       const struct _websocket_message *msg, void *user)
{
    ct_agent *a = user;
    const char *data = msg->data != NULL ? msg->data : "";
    ct_agent__conn *c;
    char *reply = NULL;
    int rc;
    (void)req;

    m->keep_messages = U_WEBSOCKET_KEEP_NONE;
    if ((c = conn_find(a->server, m)) != NULL)
        atomic_store(&c->last_request_ms, ct_time_mono_ms());
    if (msg->opcode != U_WEBSOCKET_OPCODE_TEXT) {
        rc = ct_agent_error_reply(&reply, "bad_request", "only text messages are accepted");
        reply_or_close(a, m, rc, reply);
        return;
    }
    if (c != NULL && job_start(a, c, data, msg->data_len))
        return;
    rc = ct_agent_handle(a, &reply, data, msg->data_len);
    reply_or_close(a, m, rc, reply);
}

/* ---------------------------------------------------------------- HTTP */

/* Compares a wallet header with the DC's address as bytes, so any letter
 * case of the hex digits is accepted. */
static bool wallet_matches(const char *header, const ct_address *wallet)
{
    uint8_t b[CT_ADDRESS_SIZE];
    size_t n;

    if (header == NULL)
        return false;
    if (strncmp(header, "0x", 2) == 0 || strncmp(header, "0X", 2) == 0)
        header += 2;
    if (strlen(header) != 2 * CT_ADDRESS_SIZE ||
        ct_hex_decode(b, sizeof(b), &n, header, 2 * CT_ADDRESS_SIZE) < 0)
        return false;
    return memcmp(b, wallet->b, CT_ADDRESS_SIZE) == 0;
}

static int refuse(struct _u_response *resp, unsigned int status, const char *text)
{
    ulfius_set_string_body_response(resp, status, text);
    return U_CALLBACK_COMPLETE;
}

/* Refuses and, when the agent requires gateway proofs, closes the
 * connection, so a refused upgrade holds no connection slot. (Not without:
 * Ulfius' client, seeing the close with the answer, often misreads the
 * status as 200.) */
static int refuse_upgrade(const ct_agent *a, struct _u_response *resp, unsigned int status,
                          const char *text)
{
    if (a->n_gateways > 0)
        u_map_put(resp->map_header, "Connection", "close");
    return refuse(resp, status, text);
}

/* refuse_upgrade for an upgrade already counted in srv->upgrading. */
static int refuse_counted(const ct_agent *a, struct _u_response *resp, unsigned int status,
                          const char *text)
{
    atomic_fetch_sub(&a->server->upgrading, 1);
    return refuse_upgrade(a, resp, status, text);
}

/* Records a proof's nonce. Returns: false if it was seen already (a
 * replay) or no slot is free. Under srv->mu. */
static bool nonce_fresh(ct_agent__server *srv, const uint8_t nonce[CT_AGENT_NONCE_SIZE],
                        int64_t at_ms, int64_t now_ms)
{
    struct seen_nonce *free_slot = NULL;

    for (size_t i = 0; i < NONCE_SLOTS; i++) {
        struct seen_nonce *n = &srv->nonces[i];
        if (n->at_ms != 0 && n->at_ms < now_ms - 2 * CT_AGENT_GATEWAY_WINDOW_MS)
            n->at_ms = 0; /* out of every window: its proof is refused by time */
        if (n->at_ms != 0 && memcmp(n->nonce, nonce, CT_AGENT_NONCE_SIZE) == 0)
            return false;
        if (n->at_ms == 0 && free_slot == NULL)
            free_slot = n;
    }
    if (free_slot == NULL)
        return false;
    memcpy(free_slot->nonce, nonce, CT_AGENT_NONCE_SIZE);
    free_slot->at_ms = at_ms > 0 ? at_ms : 1;
    return true;
}

/* Checks the upgrade's gateway proof when the agent has gateways.
 * Returns: NULL, or why it is refused. */
static const char *gateway_refusal(ct_agent *a, const struct _u_request *req)
{
    const char *proof = u_map_get_case(req->map_header, CT_AGENT_GATEWAY_HEADER);
    uint8_t nonce[CT_AGENT_NONCE_SIZE];
    int64_t at, now = ct_time_now_ms();
    ct_address signer;
    bool known = false, fresh;

    if (a->n_gateways == 0)
        return NULL;
    if (proof == NULL)
        return "no gateway proof";
    if (ct_agent_gateway_check(&signer, nonce, &at, proof, a->dc_name, &a->wallet, now) < 0)
        return "invalid gateway proof";
    for (size_t i = 0; i < a->n_gateways; i++)
        known |= ct_address_equal(&signer, &a->gateways[i]);
    if (!known)
        return "proof signed by an unknown gateway";
    pthread_mutex_lock(&a->server->mu);
    fresh = nonce_fresh(a->server, nonce, at, now);
    pthread_mutex_unlock(&a->server->mu);
    return fresh ? NULL : "replayed gateway proof";
}

/* Returns: whether a WebSocket slot is free (upgrades being completed
 * are not counted; MAX_CONNECTIONS bounds them). */
static bool slot_free(ct_agent__server *srv)
{
    bool ok;

    pthread_mutex_lock(&srv->mu);
    ok = srv->n_conns < MAX_WEBSOCKETS;
    pthread_mutex_unlock(&srv->mu);
    return ok;
}

static int on_upgrade(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_agent *a = user;
    const char *name = u_map_get(req->map_url, "name");
    const char *wallet = u_map_get_case(req->map_header, "wallet");
    const char *why;

    if (name == NULL || strcmp(name, a->dc_name) != 0) {
        ct_log(CT_LOG_WARN, "%s: refused a connection for another DC", a->dc_name);
        return refuse_upgrade(a, resp, 404, "unknown DC\n");
    }
    if (!wallet_matches(wallet, &a->wallet)) {
        ct_log(CT_LOG_WARN, "%s: refused a connection: %s wallet header", a->dc_name,
               wallet == NULL ? "no" : "wrong");
        return refuse_upgrade(a, resp, 403, "the wallet header must be this DC's address\n");
    }
    if ((why = gateway_refusal(a, req)) != NULL) {
        ct_log(CT_LOG_WARN, "%s: refused a connection: %s", a->dc_name, why);
        return refuse_upgrade(a, resp, 401,
                              "a gateway proof is required (docs/AGENT_PROTOCOL.md)\n");
    }
    /* Counted before the flag is read, and the stop sets the flag before
     * it reads the count: it sees every upgrade let through. */
    atomic_fetch_add(&a->server->upgrading, 1);
    if (atomic_load(&a->server->stopping))
        return refuse_counted(a, resp, 503, "stopping\n");
    if (!slot_free(a->server)) {
        ct_log(CT_LOG_WARN, "%s: refused a connection: all %d taken", a->dc_name, MAX_WEBSOCKETS);
        return refuse_counted(a, resp, 503, "too many connections\n");
    }
    if (ulfius_set_websocket_response(resp, NULL, NULL, on_manager, a, on_message, a, on_close,
                                      a) != U_OK)
        return refuse_counted(a, resp, 500, "cannot open a websocket\n");
    return U_CALLBACK_COMPLETE;
}

static int on_default(const struct _u_request *req, struct _u_response *resp, void *user)
{
    (void)req;
    (void)user;
    return refuse(resp, 404, "not found\n");
}

/* ---------------------------------------------------------------- start and stop */

static int listen_mhd(ct_agent__server *srv, const ct_agent *a)
{
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, &srv->bind},
        {MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_S, NULL},
        {MHD_OPTION_END, 0, NULL}, /* the certificate and key go here with TLS */
        {MHD_OPTION_END, 0, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned int flags =
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_UPGRADE;
    const union MHD_DaemonInfo *info;
    struct sockaddr_in bound;
    socklen_t len = sizeof(bound);

    if (a->tls_cert != NULL) {
        flags |= MHD_USE_TLS;
        ops[5] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, a->tls_key};
        ops[6] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, a->tls_cert};
    }
    if (ulfius_start_framework_with_mhd_options(&srv->inst, flags, ops) != U_OK)
        return CT_EIO;
    /* The port actually bound (the configured one may be 0), read from the
     * socket itself: MHD reports the port it was given. */
    info = MHD_get_daemon_info(srv->inst.mhd_daemon, MHD_DAEMON_INFO_LISTEN_FD);
    if (info == NULL || getsockname(info->listen_fd, (struct sockaddr *)&bound, &len) < 0)
        return CT_EIO;
    srv->port = ntohs(bound.sin_port);
    return 0;
}

int ct_agent__server_start(ct_agent *a)
{
    ct_agent__server *srv = calloc(1, sizeof(*srv));

    if (srv == NULL)
        return ct_error_set(CT_ENOMEM, "agent: out of memory");
    pthread_mutex_init(&srv->mu, NULL);
    atomic_init(&srv->stopping, false);
    atomic_init(&srv->upgrading, 0);
    if (ct_workq_new(&srv->workers, WORKERS, SIZE_MAX) < 0)
        srv->workers = NULL; /* requests are then handled on their reader */
    srv->bind.sin_family = AF_INET;
    srv->bind.sin_port = htons(a->listen_port);
    inet_pton(AF_INET, a->listen_host, &srv->bind.sin_addr);
    a->server = srv;
    install_alloc_cap(a->max_message);
    /* Ulfius refuses port 0; MHD takes the address, port included, from
     * MHD_OPTION_SOCK_ADDR, so a placeholder stands in for it. */
    if (ulfius_init_instance(&srv->inst, a->listen_port != 0 ? a->listen_port : 1, &srv->bind,
                             NULL) != U_OK) {
        ct_agent__server_stop(a);
        return ct_error_set(CT_ENOMEM, "agent: cannot set up the HTTP server");
    }
    srv->inst.max_post_body_size = 1024; /* no endpoint takes a body */
    if (ulfius_add_endpoint_by_val(&srv->inst, "GET", "/ws", "/:name", 0, on_upgrade, a) != U_OK ||
        ulfius_set_default_endpoint(&srv->inst, on_default, a) != U_OK || listen_mhd(srv, a) < 0) {
        ct_agent__server_stop(a);
        return ct_error_set(CT_EIO, "agent: cannot listen on %s:%u", a->listen_host,
                            (unsigned)a->listen_port);
    }
    ct_log(CT_LOG_INFO, "%s: listening on %s://%s:%u/ws/%s", a->dc_name,
           a->tls_cert != NULL ? "wss" : "ws", a->listen_host, (unsigned)srv->port, a->dc_name);
    if (a->n_gateways == 0)
        ct_log(CT_LOG_WARN,
               "%s: no --gateway given: any local process that knows the wallet "
               "may connect",
               a->dc_name);
    return 0;
}

uint16_t ct_agent__server_port(const ct_agent *a)
{
    return a->server != NULL ? a->server->port : 0;
}

/* Unblocks the threads of connections that are still open: a peer that
 * stopped in the middle of a frame leaves Ulfius waiting in read(). */
static void shutdown_conns(ct_agent__server *srv)
{
    pthread_mutex_lock(&srv->mu);
    for (ct_agent__conn *c = srv->conns; c != NULL; c = c->next)
        shutdown(c->manager->mhd_sock, SHUT_RDWR);
    pthread_mutex_unlock(&srv->mu);
}

/* Ulfius 2.7 wakes ulfius_stop_framework as soon as the last websocket
 * thread has counted itself out, while that thread still holds
 * websocket_active_lock; ulfius_clean_instance would then destroy the lock
 * under it (the agent crashed so on SIGTERM now and then). Taking the lock
 * once waits until that thread has let go of the instance. */
static void wait_websocket_threads(struct _u_instance *inst)
{
    struct _websocket_handler *h = inst->websocket_handler;

    if (h == NULL)
        return;
    pthread_mutex_lock(&h->websocket_active_lock);
    pthread_mutex_unlock(&h->websocket_active_lock);
}

void ct_agent__server_stop(ct_agent *a)
{
    ct_agent__server *srv = a->server;
    int64_t deadline = ct_time_mono_ms() + STOP_GRACE_MS;

    if (srv == NULL)
        return;
    atomic_store(&srv->stopping, true);
    /* Managers return within a tick; Ulfius then sends each idle
     * connection a close frame. An upgrade answered just before the flag
     * was set is waited for too: ulfius_stop_framework closes the
     * websockets active when it starts, then stops the daemon, and one
     * whose manager started in between would outlive the daemon and read
     * its freed connection (seen with the same race in test_agent_auth's
     * impostor agent, under valgrind). */
    while (srv->inst.mhd_daemon != NULL &&
           (!conns_empty(srv) || atomic_load(&srv->upgrading) > 0) && ct_time_mono_ms() < deadline)
        ct_sleep_ms(MANAGER_TICK_MS);
    shutdown_conns(srv);
    if (srv->inst.mhd_daemon != NULL) {
        ulfius_stop_framework(&srv->inst);
        wait_websocket_threads(&srv->inst);
    }
    ulfius_clean_instance(&srv->inst);
    /* Every connection has closed, and each waited for its requests. */
    ct_workq_free(srv->workers);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
    a->server = NULL;
}
