/* The gateway's WebSocket clients, one per DC agent (docs/AGENT_PROTOCOL.md):
 * each connects in its own thread and reconnects with backoff; requests
 * are matched to answers by _request_id and time out (HTTP 408). A send
 * that is still blocked at its request's deadline (the agent stopped
 * reading) drops the connection, so no send outlasts the agent timeout. */
#include "api_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ulfius.h>

#define MAX_WAITING 256
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* How often the agent thread looks for sends past their deadline, and
 * how long a send may take at least before it counts as stuck. */
#define WATCH_MS 50
#define SEND_MIN_MS 1000
/* On stop, how long the close handshake may take before the socket is shut. */
#define CLOSE_GRACE_MS 1000
/* Each DC's writes run on its own workers, so a stuck agent holds up only
 * its own DC (the agent itself handles 16 requests of a connection at a
 * time); past AGENT_MAX_QUEUED waiting, that DC's writes answer 503. */
#define AGENT_WORKERS 16
#define AGENT_MAX_QUEUED 512

struct waiting {
    char id[40];
    json_t *answer; /* set when it arrives */
    bool used;
    int64_t deadline;    /* ct_time_mono_ms() after which it is 408 */
    int64_t sending;     /* when its send began (ct_time_mono_ms()); 0: not sending */
    pthread_cond_t cond; /* its answer arrived, or the connection changed */
};

struct api_agent {
    /* Set before the thread starts, then read only. */
    const ct_api_agent_config *cfg;
    ct_api *api;
    pthread_t thread;
    ct_workq *queue; /* this DC's writes (thread safe itself) */

    /* Guards the fields below. Never held while sending or receiving, so
     * a stuck agent cannot hold up /api/health or the other requests. */
    pthread_mutex_t mu;
    pthread_cond_t changed; /* senders fell to 0, the connection's thread ended, or stop */
    struct _websocket_manager *manager; /* set while the connection is usable */
    atomic_bool connected;              /* manager != NULL; written under mu, read without it */
    int fd;                             /* the connection's socket: ours to shut down while open */
    bool open;                          /* fd is still open (Ulfius closes it after on_close) */
    bool closing;                       /* on_close ran for the current connection */
    bool ended;                         /* Ulfius' thread of the current connection has exited */
    int senders;                        /* requests inside ulfius_websocket_send_message(manager) */
    bool stop;
    uint64_t next_id;
    struct waiting waiting[MAX_WAITING];
};

/* Ulfius' client runs each connection on a detached thread of its own,
 * which goes on using the connection's memory after it reports the close
 * (on_close, then it closes the socket and signals the end) and has no
 * handle to join. A thread-specific value set in on_close, whose
 * destructor runs when that thread exits, says when it is safe to free. */
static pthread_key_t conn_thread_key;
static pthread_once_t conn_thread_once = PTHREAD_ONCE_INIT;

static void conn_thread_exited(void *payload)
{
    api_agent *a = payload;

    pthread_mutex_lock(&a->mu);
    a->ended = true;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mu);
}

static void conn_thread_key_create(void)
{
    if (pthread_key_create(&conn_thread_key, conn_thread_exited) != 0)
        abort(); /* only at start, out of keys: nothing can work */
}

/* Wakes every waiting request (the connection changed). Under a->mu. */
static void wake_all(api_agent *a)
{
    for (size_t i = 0; i < MAX_WAITING; i++)
        if (a->waiting[i].used)
            pthread_cond_signal(&a->waiting[i].cond);
}

static bool stopping(api_agent *a)
{
    pthread_mutex_lock(&a->mu);
    bool stop = a->stop;
    pthread_mutex_unlock(&a->mu);
    return stop;
}

/* On Ulfius' connection thread. */
static void on_message(const struct _u_request *req, struct _websocket_manager *m,
                       const struct _websocket_message *msg, void *payload)
{
    api_agent *a = payload;
    json_t *j = NULL;
    const char *id;
    (void)req;
    (void)m;

    if (msg->opcode != U_WEBSOCKET_OPCODE_TEXT ||
        ct_json_parse(&j, msg->data, msg->data_len, CT_JSON_MAX_DEPTH) < 0)
        return;
    id = json_string_value(json_object_get(j, "_request_id"));
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; id != NULL && i < MAX_WAITING; i++) {
        if (a->waiting[i].used && a->waiting[i].answer == NULL &&
            strcmp(a->waiting[i].id, id) == 0) {
            a->waiting[i].answer = json_incref(j);
            pthread_cond_signal(&a->waiting[i].cond); /* only its own request */
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
    json_decref(j);
}

/* On Ulfius' connection thread, once the connection is over (the agent
 * closed it or went away, or we asked to close): requests stop using it. */
static void on_close(const struct _u_request *req, struct _websocket_manager *m, void *payload)
{
    api_agent *a = payload;
    (void)req;
    (void)m;

    pthread_mutex_lock(&a->mu);
    if (a->connected)
        ct_log(CT_LOG_INFO, "api: lost agent %s", a->cfg->name);
    a->closing = true;
    a->manager = NULL;
    a->connected = false;
    wake_all(a);
    /* Ulfius closes the socket once this returns: no send may still be
     * writing to it (the descriptor could be reused). Shutting it down
     * ends a send that is blocked. */
    if (a->open)
        shutdown(a->fd, SHUT_RDWR);
    a->open = false;
    while (a->senders > 0)
        pthread_cond_wait(&a->changed, &a->mu);
    pthread_mutex_unlock(&a->mu);
    pthread_setspecific(conn_thread_key, a);
}

/* Returns: whether a request is still being sent at its deadline, and
 * for at least SEND_MIN_MS (the agent stopped reading; a send that only
 * began near its deadline does not drop a healthy connection). Under
 * a->mu. */
static bool send_overdue(const api_agent *a, int64_t now)
{
    for (size_t i = 0; i < MAX_WAITING; i++) {
        const struct waiting *w = &a->waiting[i];
        if (w->used && w->sending != 0 && now >= w->deadline && now - w->sending >= SEND_MIN_MS)
            return true;
    }
    return false;
}

/* Drops the connection: its socket is shut down, which ends blocked
 * sends, and Ulfius' thread then closes it. Under a->mu, while a->open. */
static void cut(api_agent *a, const char *why)
{
    ct_log(CT_LOG_WARN, "api: agent %s: %s; dropping the connection", a->cfg->name, why);
    shutdown(a->fd, SHUT_RDWR);
    a->open = false;
    a->manager = NULL;
    a->connected = false;
    wake_all(a);
}

/* Waits on a->changed (held) for at most ms. */
static void wait_changed(api_agent *a, int ms)
{
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += (long)ms * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&a->changed, &a->mu, &until);
}

/* Publishes an established connection and watches it until Ulfius'
 * thread for it has exited: a send past its deadline drops it; on stop,
 * it is asked to close, and dropped if that takes too long. */
static void serve(api_agent *a, struct _websocket_manager *m)
{
    int64_t close_asked = 0;

    /* Ulfius keeps every message of a connection unless told not to. */
    m->keep_messages = U_WEBSOCKET_KEEP_NONE;
    pthread_mutex_lock(&a->mu);
    if (!a->closing) { /* it may have ended already */
        a->manager = m;
        a->fd = m->tcp_sock;
        a->open = true;
        a->connected = true;
        wake_all(a);
        ct_log(CT_LOG_INFO, "api: connected to agent %s", a->cfg->name);
    }
    while (!a->ended) {
        int64_t now = ct_time_mono_ms();
        if (a->stop && close_asked == 0) {
            ulfius_websocket_send_close_signal(m);
            close_asked = now;
        }
        if (a->open && send_overdue(a, now))
            cut(a, "a request was not taken in time (the agent does not read)");
        else if (a->open && close_asked != 0 && now - close_asked >= CLOSE_GRACE_MS)
            cut(a, "no close handshake");
        wait_changed(a, WATCH_MS);
    }
    pthread_mutex_unlock(&a->mu);
}

/* Opens one connection and serves it until it ends. Returns: true if it
 * was established. */
static bool connect_once(api_agent *a)
{
    struct _u_request req;
    struct _u_response resp;
    struct _websocket_client_handler h = {NULL, NULL};
    char wallet[CT_ADDRESS_TEXT_SIZE];
    bool ok = false;

    ulfius_init_request(&req);
    ulfius_init_response(&resp);
    ct_address_format(wallet, &a->cfg->wallet);
    pthread_mutex_lock(&a->mu);
    a->closing = a->ended = false;
    pthread_mutex_unlock(&a->mu);
    if (ulfius_set_websocket_request(&req, a->cfg->url, NULL, NULL) == U_OK) {
        u_map_put(req.map_header, "wallet", wallet);
        /* No manager callback: Ulfius would run it on a third thread that
         * also outlives the close. */
        if (ulfius_open_websocket_client_connection(&req, NULL, NULL, on_message, a, on_close, a,
                                                    &h, &resp) == U_OK) {
            ok = true;
            serve(a, h.websocket->websocket_manager);
            /* Its thread has exited: this only frees. (Not
             * ulfius_websocket_client_connection_wait_close: it frees as
             * soon as the connection reads as closed, while that thread
             * still uses it.) */
            ulfius_websocket_client_connection_close(&h);
        }
    }
    ulfius_clean_request(&req);
    ulfius_clean_response(&resp);
    return ok;
}

static void *agent_thread(void *arg)
{
    api_agent *a = arg;
    int backoff = BACKOFF_MIN_MS;

    while (!stopping(a)) {
        if (connect_once(a))
            backoff = BACKOFF_MIN_MS;
        else
            ct_log(CT_LOG_DEBUG, "api: agent %s unreachable, retry in %d ms", a->cfg->name,
                   backoff);
        /* Sleep in small steps so stopping is prompt. */
        for (int slept = 0; slept < backoff && !stopping(a); slept += 50)
            ct_sleep_ms(50);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

/* Frees an agent whose thread is not running (or was joined). */
static void agent_free(api_agent *a)
{
    ct_workq_free(a->queue);
    for (size_t w = 0; w < MAX_WAITING; w++) {
        json_decref(a->waiting[w].answer);
        pthread_cond_destroy(&a->waiting[w].cond);
    }
    pthread_cond_destroy(&a->changed);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* Out: *out an agent for cfg with its work queue, not yet started. */
static int agent_new(api_agent **out, ct_api *api, const ct_api_agent_config *cfg)
{
    api_agent *a = calloc(1, sizeof(*a));
    pthread_condattr_t mono; /* deadlines are ct_time_mono_ms() */
    int rc;

    if (a == NULL)
        return ct_error_set(CT_ENOMEM, "api: out of memory");
    a->cfg = cfg;
    a->api = api;
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->changed, &mono);
    for (size_t w = 0; w < MAX_WAITING; w++)
        pthread_cond_init(&a->waiting[w].cond, &mono);
    pthread_condattr_destroy(&mono);
    if ((rc = ct_workq_new(&a->queue, AGENT_WORKERS, AGENT_MAX_QUEUED)) < 0) {
        agent_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int ct_api__agents_start(ct_api *api)
{
    int rc;

    pthread_once(&conn_thread_once, conn_thread_key_create);
    api->agents = calloc(api->cfg.n_agents + 1, sizeof(api_agent *));
    if (api->agents == NULL)
        return ct_error_set(CT_ENOMEM, "api: out of memory");
    for (size_t i = 0; i < api->cfg.n_agents; i++) {
        api_agent *a = NULL;
        if ((rc = agent_new(&a, api, &api->cfg.agents[i])) < 0)
            return rc;
        if (pthread_create(&a->thread, NULL, agent_thread, a) != 0) {
            agent_free(a);
            return ct_error_set(CT_EIO, "api: cannot start a thread");
        }
        api->agents[api->n_agents++] = a;
    }
    return 0;
}

void ct_api__agents_cancel(ct_api *api)
{
    for (size_t i = 0; i < api->n_agents; i++) {
        api_agent *a = api->agents[i];
        pthread_mutex_lock(&a->mu);
        a->stop = true;
        wake_all(a);
        pthread_cond_broadcast(&a->changed);
        pthread_mutex_unlock(&a->mu);
    }
}

void ct_api__agents_drain(ct_api *api)
{
    for (size_t i = 0; i < api->n_agents; i++)
        ct_workq_drain(api->agents[i]->queue);
}

void ct_api__agents_stop(ct_api *api)
{
    ct_api__agents_cancel(api);
    for (size_t i = 0; i < api->n_agents; i++) {
        api_agent *a = api->agents[i];
        pthread_join(a->thread, NULL);
        agent_free(a); /* drains its queue first */
    }
    free(api->agents);
    api->agents = NULL;
    api->n_agents = 0;
}

static api_agent *find_agent(ct_api *api, const char *dc)
{
    for (size_t i = 0; i < api->n_agents; i++)
        if (strcmp(api->agents[i]->cfg->name, dc) == 0)
            return api->agents[i];
    return NULL;
}

const ct_address *ct_api__agent_wallet(ct_api *api, const char *dc)
{
    api_agent *a = find_agent(api, dc);
    return a ? &a->cfg->wallet : NULL;
}

ct_workq *ct_api__agent_queue(ct_api *api, const char *dc)
{
    api_agent *a = find_agent(api, dc);
    return a ? a->queue : NULL;
}

size_t ct_api__agents_busy(ct_api *api)
{
    size_t n = 0;

    for (size_t i = 0; i < api->n_agents; i++)
        n += ct_workq_busy(api->agents[i]->queue);
    return n;
}

size_t ct_api__agents_connected(ct_api *api, size_t *total)
{
    size_t n = 0;

    for (size_t i = 0; i < api->n_agents; i++)
        n += atomic_load(&api->agents[i]->connected);
    *total = api->n_agents;
    return n;
}

/* Claims a waiting slot under a->mu. Returns: its index, or -1. */
static int claim_slot(api_agent *a, int64_t deadline)
{
    for (int i = 0; i < MAX_WAITING; i++) {
        if (!a->waiting[i].used) {
            a->waiting[i].used = true;
            a->waiting[i].answer = NULL;
            a->waiting[i].deadline = deadline;
            snprintf(a->waiting[i].id, sizeof(a->waiting[i].id), "gw-%llu",
                     (unsigned long long)++a->next_id);
            return i;
        }
    }
    return -1;
}

/* Returns: the error for a request that has no answer (now). */
static int no_answer(api_agent *a, int slot)
{
    if (ct_time_mono_ms() >= a->waiting[slot].deadline)
        return ct_error_set(CT_ETIMEOUT, "agent of %s did not answer within %d ms", a->cfg->name,
                            a->api->cfg.agent_timeout_ms);
    return ct_error_set(CT_EIO, "agent of %s disconnected", a->cfg->name);
}

/* Sends text for the slot's request on the current connection. Called
 * with a->mu held; releases it during the send. */
static int send_request(api_agent *a, int slot, const char *text)
{
    struct _websocket_manager *m = a->manager;
    bool sent;

    if (m == NULL || a->stop || ct_time_mono_ms() >= a->waiting[slot].deadline)
        return no_answer(a, slot);
    a->waiting[slot].sending = ct_time_mono_ms();
    a->senders++;
    pthread_mutex_unlock(&a->mu);
    sent = ulfius_websocket_send_message(m, U_WEBSOCKET_OPCODE_TEXT, strlen(text), text) == U_OK;
    pthread_mutex_lock(&a->mu);
    a->waiting[slot].sending = 0;
    if (--a->senders == 0)
        pthread_cond_broadcast(&a->changed);
    /* Ulfius reports a write cut short as sent: a connection dropped
     * meanwhile means it may not have gone out whole. */
    if (!sent || a->manager != m)
        return no_answer(a, slot);
    return 0;
}

/* Waits (a->mu held) for the slot's answer until its deadline. */
static int wait_answer(api_agent *a, int slot, json_t **answer)
{
    struct waiting *w = &a->waiting[slot];
    struct _websocket_manager *m = a->manager;
    struct timespec until = {.tv_sec = w->deadline / 1000,
                             .tv_nsec = (long)(w->deadline % 1000) * 1000000L};

    while (w->answer == NULL && a->manager == m && !a->stop) {
        if (pthread_cond_timedwait(&w->cond, &a->mu, &until) != 0)
            break;
    }
    if (w->answer == NULL)
        return no_answer(a, slot);
    *answer = w->answer;
    return 0;
}

int ct_api__agent_call(ct_api *api, const char *dc, json_t *msg, json_t **answer, int64_t deadline)
{
    api_agent *a = find_agent(api, dc);
    char *text = NULL, id[sizeof(a->waiting[0].id)];
    int slot, rc;

    if (a == NULL)
        return ct_error_set(CT_ENOTFOUND, "no agent configured for datacenter %s", dc);
    pthread_mutex_lock(&a->mu);
    if (a->manager == NULL || a->stop) {
        pthread_mutex_unlock(&a->mu);
        return ct_error_set(CT_ETIMEOUT, "agent of %s is not connected", dc);
    }
    if ((slot = claim_slot(a, deadline)) < 0) {
        pthread_mutex_unlock(&a->mu);
        return ct_error_set(CT_ETIMEOUT, "agent of %s has too many requests in flight", dc);
    }
    memcpy(id, a->waiting[slot].id, sizeof(id));
    pthread_mutex_unlock(&a->mu);
    json_object_set_new(msg, "_request_id", json_string(id));
    rc = ct_json_dump(&text, msg);
    pthread_mutex_lock(&a->mu);
    if (rc == 0)
        rc = send_request(a, slot, text);
    if (rc == 0)
        rc = wait_answer(a, slot, answer);
    if (rc < 0)
        json_decref(a->waiting[slot].answer);
    a->waiting[slot].used = false;
    a->waiting[slot].answer = NULL;
    pthread_mutex_unlock(&a->mu);
    free(text);
    return rc;
}
