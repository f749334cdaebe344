/* The gateway's WebSocket clients, one per DC agent (docs/AGENT_PROTOCOL.md):
 * each connects in its own thread and reconnects with backoff; requests
 * are matched to answers by _request_id and time out (HTTP 408). */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ulfius.h>

#define MAX_WAITING 256
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct waiting {
    char id[40];
    json_t *answer; /* set when it arrives */
    bool used;
    pthread_cond_t cond; /* its answer arrived, or the connection changed */
};

struct api_agent {
    /* Set before the thread starts, then read only. */
    const ct_api_agent_config *cfg;
    ct_api *api;
    pthread_t thread;

    pthread_mutex_t mu;     /* guards the fields below */
    pthread_cond_t changed; /* the connection's thread ended, or stop */
    struct _websocket_manager *manager; /* set while the connection is usable */
    bool connected;                     /* manager != NULL */
    bool closing; /* on_close ran for the current connection */
    bool ended;   /* Ulfius' thread of the current connection has exited */
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
    pthread_mutex_unlock(&a->mu);
    pthread_setspecific(conn_thread_key, a);
}

/* Publishes an established connection and waits until Ulfius' thread for
 * it has exited; on stop, asks it to close first. */
static void serve(api_agent *a, struct _websocket_manager *m)
{
    bool close_asked = false;

    /* Ulfius keeps every message of a connection unless told not to. */
    m->keep_messages = U_WEBSOCKET_KEEP_NONE;
    pthread_mutex_lock(&a->mu);
    if (!a->closing) { /* it may have ended already */
        a->manager = m;
        a->connected = true;
        wake_all(a);
        ct_log(CT_LOG_INFO, "api: connected to agent %s", a->cfg->name);
    }
    while (!a->ended) {
        if (a->stop && !close_asked) {
            ulfius_websocket_send_close_signal(m);
            close_asked = true;
        }
        pthread_cond_wait(&a->changed, &a->mu);
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

int ct_api__agents_start(ct_api *api)
{
    pthread_once(&conn_thread_once, conn_thread_key_create);
    api->agents = calloc(api->cfg.n_agents + 1, sizeof(api_agent *));
    if (api->agents == NULL)
        return ct_error_set(CT_ENOMEM, "api: out of memory");
    for (size_t i = 0; i < api->cfg.n_agents; i++) {
        api_agent *a = calloc(1, sizeof(*a));
        if (a == NULL)
            return ct_error_set(CT_ENOMEM, "api: out of memory");
        a->cfg = &api->cfg.agents[i];
        a->api = api;
        pthread_mutex_init(&a->mu, NULL);
        pthread_cond_init(&a->changed, NULL);
        for (size_t w = 0; w < MAX_WAITING; w++)
            pthread_cond_init(&a->waiting[w].cond, NULL);
        api->agents[api->n_agents++] = a;
        if (pthread_create(&a->thread, NULL, agent_thread, a) != 0) {
            api->n_agents--;
            free(a);
            return ct_error_set(CT_EIO, "api: cannot start a thread");
        }
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

void ct_api__agents_stop(ct_api *api)
{
    ct_api__agents_cancel(api);
    for (size_t i = 0; i < api->n_agents; i++) {
        api_agent *a = api->agents[i];
        pthread_join(a->thread, NULL);
        for (size_t w = 0; w < MAX_WAITING; w++) {
            json_decref(a->waiting[w].answer);
            pthread_cond_destroy(&a->waiting[w].cond);
        }
        pthread_cond_destroy(&a->changed);
        pthread_mutex_destroy(&a->mu);
        free(a);
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

size_t ct_api__agents_connected(ct_api *api, size_t *total)
{
    size_t n = 0;

    for (size_t i = 0; i < api->n_agents; i++) {
        pthread_mutex_lock(&api->agents[i]->mu);
        n += api->agents[i]->connected;
        pthread_mutex_unlock(&api->agents[i]->mu);
    }
    *total = api->n_agents;
    return n;
}

/* Claims a waiting slot under a->mu. Returns: its index, or -1. */
static int claim_slot(api_agent *a)
{
    for (int i = 0; i < MAX_WAITING; i++) {
        if (!a->waiting[i].used) {
            a->waiting[i].used = true;
            a->waiting[i].answer = NULL;
            snprintf(a->waiting[i].id, sizeof(a->waiting[i].id), "gw-%llu",
                     (unsigned long long)++a->next_id);
            return i;
        }
    }
    return -1;
}

/* Waits for the slot's answer until deadline. Called with a->mu held. */
static int wait_answer(api_agent *a, int slot, json_t **answer, int timeout_ms)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (a->waiting[slot].answer == NULL && a->connected && !a->stop) {
        if (pthread_cond_timedwait(&a->waiting[slot].cond, &a->mu, &until) != 0)
            break;
    }
    if (a->waiting[slot].answer != NULL) {
        *answer = a->waiting[slot].answer;
        return 0;
    }
    if (!a->connected)
        return ct_error_set(CT_EIO, "agent %s disconnected", a->cfg->name);
    return ct_error_set(CT_ETIMEOUT, "agent %s did not answer within %d ms", a->cfg->name,
                        timeout_ms);
}

int ct_api__agent_call(ct_api *api, const char *dc, json_t *msg, json_t **answer, int timeout_ms)
{
    api_agent *a = find_agent(api, dc);
    char *text = NULL;
    int slot, rc;

    if (a == NULL)
        return ct_error_set(CT_ENOTFOUND, "no agent configured for datacenter %s", dc);
    pthread_mutex_lock(&a->mu);
    if (!a->connected || a->manager == NULL || a->stop) {
        pthread_mutex_unlock(&a->mu);
        return ct_error_set(CT_ETIMEOUT, "agent of %s is not connected", dc);
    }
    if ((slot = claim_slot(a)) < 0) {
        pthread_mutex_unlock(&a->mu);
        return ct_error_set(CT_ETIMEOUT, "agent of %s has too many requests in flight", dc);
    }
    json_object_set_new(msg, "_request_id", json_string(a->waiting[slot].id));
    if ((rc = ct_json_dump(&text, msg)) == 0 &&
        ulfius_websocket_send_message(a->manager, U_WEBSOCKET_OPCODE_TEXT, strlen(text), text) !=
            U_OK)
        rc = ct_error_set(CT_EIO, "cannot send to the agent of %s", dc);
    if (rc == 0)
        rc = wait_answer(a, slot, answer, timeout_ms);
    a->waiting[slot].used = false;
    a->waiting[slot].answer = NULL;
    pthread_mutex_unlock(&a->mu);
    free(text);
    return rc;
}
