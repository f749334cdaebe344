/* The gateway's WebSocket clients, one per DC agent (docs/AGENT_PROTOCOL.md):
 * each connects in its own thread and reconnects with backoff, proving
 * itself in the upgrade (gateway key) and making the agent prove it holds
 * the DC's key before any request goes out; wss:// agents are checked
 * against a configured CA. Requests are matched to answers by _request_id
 * and time out (HTTP 408). A send that is still blocked at its request's
 * deadline (the agent stopped reading) drops the connection, so no send
 * outlasts the agent timeout. */
#include "api_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <ulfius.h>

#include "catena/agent.h"

#define MAX_WAITING 256
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* How often the agent thread looks for sends past their deadline, and
 * how long a send may take at least before it counts as stuck. */
#define WATCH_MS 50
#define SEND_MIN_MS 1000
/* On stop, how long the close handshake may take before the socket is shut. */
#define CLOSE_GRACE_MS 1000
/* Ulfius' client connects and reads the upgrade's answer without a
 * timeout: a probe bounded by this goes first (section 5 of
 * AGENT_PROTOCOL.md), so a stopped or unreachable agent is skipped. */
#define PROBE_MS 3000
/* How long the agent may take to answer the challenge. */
#define AUTH_TIMEOUT_MS 5000
/* On stop, how long to wait for an agent's thread before leaving it
 * behind (stuck in Ulfius' connect: it frees its own state if it ever
 * returns). */
#define STOP_JOIN_MS 2000
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

/* Where an agent's connection stands, for /api/health (read without a
 * lock) and for logging each change once. */
enum auth_state {
    AUTH_DOWN,         /* not connected */
    AUTH_PENDING,      /* connected, the challenge is out */
    AUTH_OK,           /* the agent proved it holds the DC's key */
    AUTH_REFUSED,      /* the agent refused our upgrade (our proof, wallet or name) */
    AUTH_NO_ANSWER,    /* no valid answer to the challenge in time */
    AUTH_WRONG_KEY,    /* signed by another key than the DC's configured wallet */
    AUTH_NOT_ON_CHAIN, /* the chain registers another wallet for this DC name */
    AUTH_TLS           /* its certificate is not trusted (wss://) */
};

static const char *const auth_reasons[] = {
    [AUTH_DOWN] = "not connected",
    [AUTH_PENDING] = "authenticating",
    [AUTH_OK] = NULL,
    [AUTH_REFUSED] = "the agent refused the gateway's upgrade",
    [AUTH_NO_ANSWER] = "no valid answer to the authentication challenge",
    [AUTH_WRONG_KEY] = "authentication failed: not signed by the DC's wallet",
    [AUTH_NOT_ON_CHAIN] = "authentication failed: the chain registers another wallet for the DC",
    [AUTH_TLS] = "TLS: the agent's certificate is not trusted",
};

struct api_agent {
    /* Set before the thread starts, then read only. The thread uses only
     * these copies (never api's), so it can outlive the gateway. */
    ct_api_agent_config *cfg; /* a deep copy */
    ct_api *api;              /* used by the thread only between api_enter/leave */
    char *ca_file;            /* wss:// trust (NULL: the system's) */
    uint8_t gw_key[CT_SECKEY_SIZE];
    bool has_gw_key;
    pthread_t thread;
    ct_workq *queue;  /* this DC's writes (thread safe itself) */
    atomic_int state; /* enum auth_state */
    int logged;       /* the state last logged (the thread's own) */

    /* Guards the fields below. Never held while sending or receiving, so
     * a stuck agent cannot hold up /api/health or the other requests. */
    pthread_mutex_t mu;
    /* Senders fell to 0 while closing, the connection's thread ended, or
     * stop. */
    pthread_cond_t changed;
    struct _websocket_manager *manager; /* set while the connection is usable */
    atomic_bool connected;              /* manager != NULL; written under mu, read without it */
    int fd;                             /* the connection's socket: ours to shut down while open */
    bool open;                          /* fd is still open (Ulfius closes it after on_close) */
    bool closing;                       /* on_close ran for the current connection */
    bool ended;                         /* Ulfius' thread of the current connection has exited */
    int senders;                        /* requests inside ulfius_websocket_send_message(manager) */
    bool stop;
    bool in_api;      /* the thread is using api (the cache) */
    bool thread_done; /* agent_thread has returned, or is about to */
    bool orphan;      /* the stopper left it: the thread frees a */
    char auth_id[40]; /* the challenge's _request_id while it is out, else "" */
    json_t *auth_answer;
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
    if (id != NULL && a->auth_id[0] != '\0' && strcmp(id, a->auth_id) == 0 &&
        a->auth_answer == NULL) {
        a->auth_answer = json_incref(j);
        pthread_cond_broadcast(&a->changed);
        id = NULL;
    }
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
    if (why != NULL)
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

    ct_time_after(&until, CLOCK_MONOTONIC, ms);
    pthread_cond_timedwait(&a->changed, &a->mu, &until);
}

/* ---------------------------------------------------------------- authentication */

/* Records the connection's state; a change is logged once (failures of
 * authentication at error level). The agent thread's. */
static void set_state(api_agent *a, enum auth_state st, const char *detail)
{
    /* A failure stays on show while the agent is checked again. */
    if (st == AUTH_PENDING && atomic_load(&a->state) >= AUTH_REFUSED)
        return;
    atomic_store(&a->state, (int)st);
    if ((int)st == a->logged)
        return;
    a->logged = (int)st;
    if (st == AUTH_OK)
        ct_log(CT_LOG_INFO, "api: connected to agent %s (authenticated)", a->cfg->name);
    else if (st != AUTH_DOWN && st != AUTH_PENDING)
        ct_log(CT_LOG_ERROR, "api: agent %s: %s%s%s; no request goes to it", a->cfg->name,
               auth_reasons[st], detail != NULL ? ": " : "", detail != NULL ? detail : "");
}

/* Lets the thread use api (the cache) unless the gateway is stopping.
 * Returns: whether it may; then api_leave. */
static bool api_enter(api_agent *a)
{
    pthread_mutex_lock(&a->mu);
    bool ok = !a->stop;
    a->in_api = ok;
    pthread_mutex_unlock(&a->mu);
    return ok;
}

static void api_leave(api_agent *a)
{
    pthread_mutex_lock(&a->mu);
    a->in_api = false;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mu);
}

/* Checks the signer against the DC's wallet as the chain registers it,
 * when the cache has the DC. A cache failure does not refuse the agent
 * (the configured wallet matched). Returns: the state. */
static enum auth_state check_registered(api_agent *a, const ct_address *signer, char *detail,
                                        size_t size)
{
    ct_address reg;
    int rc;

    if (!api_enter(a))
        return AUTH_DOWN;
    rc = ct_store_dc_by_name(ct_api__store(a->api), &reg, a->cfg->name);
    api_leave(a);
    if (rc == 0 && !ct_address_equal(&reg, signer)) {
        char text[CT_ADDRESS_TEXT_SIZE];
        ct_address_format(text, &reg);
        snprintf(detail, size, "registered wallet %s", text);
        return AUTH_NOT_ON_CHAIN;
    }
    if (rc < 0 && rc != CT_ENOTFOUND)
        ct_log(CT_LOG_WARN, "api: agent %s: cannot read its registration: %s", a->cfg->name,
               ct_error_last());
    return AUTH_OK;
}

/* Checks the agent's answer to the challenge (Table 19 form, the
 * signature as response). Returns: the state. */
static enum auth_state check_answer(api_agent *a, const json_t *answer, const uint8_t digest[32],
                                    char *detail, size_t size)
{
    const char *sig = json_string_value(json_object_get(answer, "response"));
    ct_address signer;
    char text[CT_ADDRESS_TEXT_SIZE];

    if (answer == NULL || json_is_true(json_object_get(answer, "error")) ||
        ct_agent_auth_recover(&signer, digest, sig) < 0) {
        snprintf(detail, size, "%s", answer == NULL ? "none in time" : "not a signature");
        return AUTH_NO_ANSWER;
    }
    if (!ct_address_equal(&signer, &a->cfg->wallet)) {
        ct_address_format(text, &signer);
        snprintf(detail, size, "signed by %s", text);
        return AUTH_WRONG_KEY;
    }
    return check_registered(a, &signer, detail, size);
}

/* A send ended (a->mu held). Only on_close waits for the last one; the
 * agent thread's watch loop is not woken for every request. */
static void sender_done(api_agent *a)
{
    if (--a->senders == 0 && a->closing)
        pthread_cond_broadcast(&a->changed);
}

/* Sends text on m as one of the connection's senders (on_close waits for
 * them before Ulfius closes the socket). Returns: whether it went out. */
static bool send_counted(api_agent *a, struct _websocket_manager *m, const char *text)
{
    bool sent;

    pthread_mutex_lock(&a->mu);
    if (!a->open) {
        pthread_mutex_unlock(&a->mu);
        return false;
    }
    a->senders++;
    pthread_mutex_unlock(&a->mu);
    sent = ulfius_websocket_send_message(m, U_WEBSOCKET_OPCODE_TEXT, strlen(text), text) == U_OK;
    pthread_mutex_lock(&a->mu);
    sender_done(a);
    pthread_mutex_unlock(&a->mu);
    return sent;
}

/* Sends a fresh challenge and waits for the answer. Out: digest, what the
 * agent must have signed. Returns: the answer (new ref) or NULL. */
static json_t *challenge(api_agent *a, struct _websocket_manager *m, uint8_t digest[32])
{
    uint8_t c[CT_AGENT_CHALLENGE_SIZE];
    char hex[2 * CT_AGENT_CHALLENGE_SIZE + 3], id[sizeof(a->auth_id)], *text = NULL;
    json_t *msg, *answer;
    int64_t until = ct_time_mono_ms() + AUTH_TIMEOUT_MS;

    if (ct_random(c, sizeof(c)) < 0)
        return NULL;
    ct_agent_auth_digest(digest, a->cfg->name, a->cfg->url, c);
    ct_hex_encode(hex, sizeof(hex), c, sizeof(c), true);
    pthread_mutex_lock(&a->mu);
    snprintf(id, sizeof(id), "auth-%llu", (unsigned long long)++a->next_id);
    memcpy(a->auth_id, id, sizeof(id));
    pthread_mutex_unlock(&a->mu);
    msg = json_pack("{s:s, s:s, s:s, s:s}", "method", "authenticate", "_request_id", id,
                    "challenge", hex, "url", a->cfg->url);
    if (msg != NULL && ct_json_dump(&text, msg) == 0 && send_counted(a, m, text)) {
        pthread_mutex_lock(&a->mu);
        while (a->auth_answer == NULL && !a->closing && !a->stop && ct_time_mono_ms() < until)
            wait_changed(a, WATCH_MS);
        pthread_mutex_unlock(&a->mu);
    }
    json_decref(msg);
    free(text);
    pthread_mutex_lock(&a->mu);
    answer = a->auth_answer;
    a->auth_answer = NULL;
    a->auth_id[0] = '\0';
    pthread_mutex_unlock(&a->mu);
    return answer;
}

/* Makes the agent prove it holds the DC's key; publishes the connection
 * to requests only then, else drops it. Returns: whether it did. */
static bool authenticate(api_agent *a, struct _websocket_manager *m)
{
    uint8_t digest[32];
    char detail[128] = "";
    enum auth_state st;
    json_t *answer;

    set_state(a, AUTH_PENDING, NULL);
    answer = challenge(a, m, digest);
    st = check_answer(a, answer, digest, detail, sizeof(detail));
    json_decref(answer);
    pthread_mutex_lock(&a->mu);
    if (a->closing || a->stop)
        st = AUTH_DOWN; /* it ended meanwhile: nothing to judge */
    if (st == AUTH_OK) {
        a->manager = m;
        a->connected = true;
        wake_all(a);
    } else if (a->open) {
        cut(a, NULL);
    }
    pthread_mutex_unlock(&a->mu);
    set_state(a, st, detail);
    return st == AUTH_OK;
}

/* Authenticates an established connection, then watches it until Ulfius'
 * thread for it has exited: a send past its deadline drops it; on stop,
 * it is asked to close, and dropped if that takes too long.
 * Returns: whether it was authenticated. */
static bool serve(api_agent *a, struct _websocket_manager *m)
{
    int64_t close_asked = 0;
    bool ok;

    /* Ulfius keeps every message of a connection unless told not to. */
    m->keep_messages = U_WEBSOCKET_KEEP_NONE;
    pthread_mutex_lock(&a->mu);
    if (!a->closing) { /* it may have ended already */
        a->fd = m->tcp_sock;
        a->open = true;
    }
    pthread_mutex_unlock(&a->mu);
    ok = authenticate(a, m);
    pthread_mutex_lock(&a->mu);
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
    return ok;
}

/* ---------------------------------------------------------------- connecting */

/* Ulfius 2.7's wss:// client trusts only the system's CAs: it calls
 * gnutls_certificate_set_x509_system_trust on the connecting thread and
 * offers no other way. This definition takes its place in the program
 * (the dynamic linker prefers the executable's symbols), loads the
 * configured CA file instead while this thread connects to an agent
 * (tls_ca_file is set only around that call), and is the real function
 * everywhere else. */
static _Thread_local const char *tls_ca_file;

int gnutls_certificate_set_x509_system_trust(gnutls_certificate_credentials_t cred)
{
    typedef int (*trust_fn)(gnutls_certificate_credentials_t);
    static _Atomic(trust_fn) real;
    trust_fn f;

    if (tls_ca_file != NULL)
        return gnutls_certificate_set_x509_trust_file(cred, tls_ca_file, GNUTLS_X509_FMT_PEM);
    if ((f = atomic_load(&real)) == NULL) {
        void *sym = dlsym(RTLD_NEXT, "gnutls_certificate_set_x509_system_trust");
        memcpy(&f, &sym, sizeof(f));
        atomic_store(&real, f);
    }
    return f != NULL ? f(cred) : GNUTLS_E_UNIMPLEMENTED_FEATURE;
}

/* Splits a ws:// or wss:// URL's host and port. Returns: whether it could. */
static bool url_host_port(char *host, size_t size, char port[8], const char *url)
{
    bool tls = strncmp(url, "wss://", 6) == 0;
    const char *h = url + (tls ? 6 : 5), *end = h + strcspn(h, "/"), *colon;

    colon = memchr(h, ':', (size_t)(end - h));
    if ((colon != NULL ? colon : end) == h || (size_t)((colon != NULL ? colon : end) - h) >= size)
        return false;
    snprintf(host, size, "%.*s", (int)((colon != NULL ? colon : end) - h), h);
    if (colon == NULL)
        snprintf(port, 8, "%s", tls ? "443" : "80");
    else if (end - colon - 1 < 1 || end - colon - 1 > 5)
        return false;
    else
        snprintf(port, 8, "%.*s", (int)(end - colon - 1), colon + 1);
    return true;
}

/* Waits for events on fd until the deadline, in short steps so stopping
 * is prompt. Returns: whether they came. */
static bool wait_fd(api_agent *a, int fd, short events, int64_t until)
{
    struct pollfd p = {.fd = fd, .events = events};

    while (!stopping(a) && ct_time_mono_ms() < until) {
        int rc = poll(&p, 1, WATCH_MS);
        if (rc > 0)
            return true;
        if (rc < 0 && errno != EINTR)
            return false;
    }
    return false;
}

/* The TLS handshake of a wss:// probe on fd, checking the certificate
 * as Ulfius will. Returns: 0, -1 (no handshake in time), or -2 (the
 * certificate is not trusted: Ulfius would fail, and leak, the same way). */
static int probe_tls(api_agent *a, int fd, const char *host, int64_t until)
{
    gnutls_certificate_credentials_t cred = NULL;
    gnutls_session_t s = NULL;
    int rc = -1, hs;

    tls_ca_file = a->ca_file;
    if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
        gnutls_certificate_set_x509_system_trust(cred) < 0 ||
        gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0 ||
        gnutls_server_name_set(s, GNUTLS_NAME_DNS, host, strlen(host)) < 0 ||
        gnutls_set_default_priority(s) < 0 ||
        gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
        goto done;
    gnutls_session_set_verify_cert(s, host, 0);
    gnutls_transport_set_int(s, fd);
    while ((hs = gnutls_handshake(s)) < 0 && !gnutls_error_is_fatal(hs))
        if (!wait_fd(a, fd, gnutls_record_get_direction(s) ? POLLOUT : POLLIN, until))
            goto done;
    rc = hs == 0 ? 0 : hs == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ? -2 : -1;
    if (hs == 0)
        gnutls_bye(s, GNUTLS_SHUT_WR);
done:
    tls_ca_file = NULL;
    if (s != NULL)
        gnutls_deinit(s);
    if (cred != NULL)
        gnutls_certificate_free_credentials(cred);
    return rc;
}

/* Whether the agent's server answers at all within PROBE_MS: connects
 * and sends a plain request, which an agent answers (404); over TLS, the
 * handshake checks its certificate first. Ulfius' own connect and upgrade
 * have no timeout, so a stopped or unreachable agent is found here
 * instead. Out: *untrusted whether a wss:// agent's certificate is not
 * trusted. */
static bool probe(api_agent *a, bool *untrusted)
{
    char host[256], port[8], req[] = "GET / HTTP/1.0\r\n\r\n";
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int64_t until = ct_time_mono_ms() + PROBE_MS;
    bool ok = false;
    int fd = -1, err = 0;
    socklen_t len = sizeof(err);

    if (!url_host_port(host, sizeof(host), port, a->cfg->url) ||
        getaddrinfo(host, port, &hints, &ai) != 0)
        return false;
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        goto done;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
        (errno != EINPROGRESS || !wait_fd(a, fd, POLLOUT, until) ||
         getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0))
        goto done;
    if (strncmp(a->cfg->url, "wss://", 6) == 0) {
        int rc = probe_tls(a, fd, host, until);
        *untrusted = rc == -2;
        ok = rc == 0;
        goto done;
    }
    ok = send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req) &&
         wait_fd(a, fd, POLLIN, until);
done:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return ok;
}

/* Builds the upgrade request: the wallet header and, with a gateway key,
 * the gateway's proof. Returns: whether it could. */
static bool upgrade_request(api_agent *a, struct _u_request *req)
{
    char wallet[CT_ADDRESS_TEXT_SIZE], proof[CT_AGENT_GATEWAY_PROOF_SIZE];

    if (ulfius_set_websocket_request(req, a->cfg->url, NULL, NULL) != U_OK)
        return false;
    ct_address_format(wallet, &a->cfg->wallet);
    u_map_put(req->map_header, "wallet", wallet);
    if (a->has_gw_key) {
        if (ct_agent_gateway_proof(proof, a->cfg->name, &a->cfg->wallet, ct_time_now_ms(),
                                   a->gw_key) < 0)
            return false;
        u_map_put(req->map_header, CT_AGENT_GATEWAY_HEADER, proof);
    }
    req->check_server_certificate = 1;
    return true;
}

/* Opens one connection and serves it until it ends. Returns: true if the
 * agent proved itself on it. */
static bool connect_once(api_agent *a)
{
    struct _u_request req;
    struct _u_response resp;
    struct _websocket_client_handler h = {NULL, NULL};
    bool ok = false;
    int rc;

    pthread_mutex_lock(&a->mu);
    a->closing = a->ended = false;
    pthread_mutex_unlock(&a->mu);
    bool untrusted = false;
    if (!probe(a, &untrusted)) {
        set_state(a, untrusted ? AUTH_TLS : AUTH_DOWN, NULL);
        return false;
    }
    ulfius_init_request(&req);
    ulfius_init_response(&resp);
    if (upgrade_request(a, &req)) {
        /* No manager callback: Ulfius would run it on a third thread that
         * also outlives the close. */
        tls_ca_file = a->ca_file;
        rc = ulfius_open_websocket_client_connection(&req, NULL, NULL, on_message, a, on_close, a,
                                                     &h, &resp);
        tls_ca_file = NULL;
        if (rc == U_OK) {
            ok = serve(a, h.websocket->websocket_manager);
            /* Its thread has exited: this only frees. (Not
             * ulfius_websocket_client_connection_wait_close: it frees as
             * soon as the connection reads as closed, while that thread
             * still uses it.) */
            ulfius_websocket_client_connection_close(&h);
            if (atomic_load(&a->state) == AUTH_OK)
                set_state(a, AUTH_DOWN, NULL);
        } else if (resp.status == 401 || resp.status == 403 || resp.status == 404) {
            char detail[32];
            snprintf(detail, sizeof(detail), "HTTP %ld", resp.status);
            set_state(a, AUTH_REFUSED, detail);
        } else {
            set_state(a, AUTH_DOWN, NULL);
        }
    }
    ulfius_clean_request(&req);
    ulfius_clean_response(&resp);
    return ok;
}

/* Frees an agent whose thread is not running (or was joined). */
static void agent_free(api_agent *a)
{
    ct_workq_free(a->queue);
    for (size_t w = 0; w < MAX_WAITING; w++) {
        json_decref(a->waiting[w].answer);
        pthread_cond_destroy(&a->waiting[w].cond);
    }
    json_decref(a->auth_answer);
    pthread_cond_destroy(&a->changed);
    pthread_mutex_destroy(&a->mu);
    ct_wipe(a->gw_key, sizeof(a->gw_key));
    free(a->ca_file);
    if (a->cfg != NULL) {
        free(a->cfg->name);
        free(a->cfg->url);
        free(a->cfg);
    }
    free(a);
}

static void *agent_thread(void *arg)
{
    api_agent *a = arg;
    int backoff = BACKOFF_MIN_MS;
    bool orphan;

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
    pthread_mutex_lock(&a->mu);
    a->thread_done = true;
    orphan = a->orphan;
    pthread_mutex_unlock(&a->mu);
    if (orphan)
        agent_free(a);
    return NULL;
}

/* Out: *out an agent for cfg (copied) with its work queue, not yet started. */
static int agent_new(api_agent **out, ct_api *api, const ct_api_agent_config *cfg)
{
    api_agent *a = calloc(1, sizeof(*a));
    pthread_condattr_t mono; /* deadlines are ct_time_mono_ms() */
    int rc;

    if (a == NULL)
        return ct_error_set(CT_ENOMEM, "api: out of memory");
    a->api = api;
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->changed, &mono);
    for (size_t w = 0; w < MAX_WAITING; w++)
        pthread_cond_init(&a->waiting[w].cond, &mono);
    pthread_condattr_destroy(&mono);
    if ((a->cfg = calloc(1, sizeof(*a->cfg))) == NULL ||
        (a->cfg->name = strdup(cfg->name)) == NULL || (a->cfg->url = strdup(cfg->url)) == NULL ||
        (api->cfg.agent_ca_file != NULL && (a->ca_file = strdup(api->cfg.agent_ca_file)) == NULL)) {
        agent_free(a);
        return ct_error_set(CT_ENOMEM, "api: out of memory");
    }
    a->cfg->wallet = cfg->wallet;
    if ((rc = ct_workq_new(&a->queue, AGENT_WORKERS, AGENT_MAX_QUEUED)) < 0) {
        agent_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int ct_api__load_key(uint8_t key[CT_SECKEY_SIZE], const char *path, const char *what)
{
    char *text = NULL;
    size_t len, n;
    int rc = 0;

    if (ct_file_read(&text, &len, path, 4096) < 0)
        return ct_error_wrap("api: %s", what);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    if (ct_hex_decode(key, CT_SECKEY_SIZE, &n, text, len) < 0 || n != CT_SECKEY_SIZE ||
        ct_seckey_verify(key) < 0)
        rc = ct_error_set(CT_EINVAL, "api: %s %s: not a hex secp256k1 key", what, path);
    ct_wipe(text, len);
    free(text);
    return rc;
}

/* Checks what the agents' connections need from the configuration. */
static int agents_check(ct_api *api, uint8_t key[CT_SECKEY_SIZE], bool *has_key)
{
    gnutls_certificate_credentials_t cred;
    int n;

    *has_key = api->cfg.gateway_key_file != NULL;
    if (*has_key && ct_api__load_key(key, api->cfg.gateway_key_file, "gateway_key_file") < 0)
        return CT_EINVAL;
    if (api->cfg.agent_ca_file == NULL)
        return 0;
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        return ct_error_set(CT_ENOMEM, "api: out of memory");
    n = gnutls_certificate_set_x509_trust_file(cred, api->cfg.agent_ca_file, GNUTLS_X509_FMT_PEM);
    gnutls_certificate_free_credentials(cred);
    if (n <= 0)
        return ct_error_set(CT_EINVAL, "api: agent_ca_file %s holds no PEM certificate",
                            api->cfg.agent_ca_file);
    return 0;
}

int ct_api__agents_start(ct_api *api)
{
    uint8_t key[CT_SECKEY_SIZE];
    bool has_key;
    int rc;

    pthread_once(&conn_thread_once, conn_thread_key_create);
    if ((rc = agents_check(api, key, &has_key)) < 0)
        return rc;
    api->agents = calloc(api->cfg.n_agents + 1, sizeof(api_agent *));
    if (api->agents == NULL)
        rc = ct_error_set(CT_ENOMEM, "api: out of memory");
    for (size_t i = 0; rc == 0 && i < api->cfg.n_agents; i++) {
        api_agent *a = NULL;
        if ((rc = agent_new(&a, api, &api->cfg.agents[i])) < 0)
            break;
        memcpy(a->gw_key, key, sizeof(key));
        a->has_gw_key = has_key;
        if (pthread_create(&a->thread, NULL, agent_thread, a) != 0) {
            agent_free(a);
            rc = ct_error_set(CT_EIO, "api: cannot start a thread");
            break;
        }
        api->agents[api->n_agents++] = a;
    }
    ct_wipe(key, sizeof(key));
    return rc;
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

/* Joins a's thread and frees a; a thread still stuck after STOP_JOIN_MS
 * (inside Ulfius' connect, which has no timeout) is left to free a
 * itself if it ever returns. */
static void agent_end(api_agent *a)
{
    pthread_t t = a->thread;
    struct timespec until;
    bool orphan = false;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STOP_JOIN_MS / 1000;
    if (pthread_timedjoin_np(t, NULL, &until) == 0) {
        agent_free(a);
        return;
    }
    ct_workq_free(a->queue); /* drained already; the thread never uses it */
    a->queue = NULL;
    pthread_mutex_lock(&a->mu);
    while (a->in_api)
        pthread_cond_wait(&a->changed, &a->mu);
    if (!a->thread_done) {
        a->orphan = true;
        ct_log(CT_LOG_WARN, "api: agent %s: its connection attempt is stuck; not waiting for it",
               a->cfg->name);
    }
    orphan = a->orphan;
    pthread_mutex_unlock(&a->mu);
    if (orphan) {
        pthread_detach(t); /* a is the thread's from here on */
        return;
    }
    pthread_join(t, NULL);
    agent_free(a);
}

void ct_api__agents_stop(ct_api *api)
{
    ct_api__agents_cancel(api);
    for (size_t i = 0; i < api->n_agents; i++)
        agent_end(api->agents[i]);
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

void ct_api__agents_report(ct_api *api, json_t *health)
{
    json_t *list = json_array();

    for (size_t i = 0; list != NULL && i < api->n_agents; i++) {
        api_agent *a = api->agents[i];
        int st = atomic_load(&a->state);
        json_t *o = json_pack("{s:s, s:b}", "name", a->cfg->name, "authenticated", st == AUTH_OK);
        if (o != NULL && auth_reasons[st] != NULL)
            json_object_set_new(o, "error", json_string(auth_reasons[st]));
        json_array_append_new(list, o);
    }
    json_object_set_new(health, "agents", list);
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
    sender_done(a);
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
        int st = atomic_load(&a->state);
        pthread_mutex_unlock(&a->mu);
        /* Nothing is sent: writes.c reads "is not connected" so. */
        if (st >= AUTH_REFUSED) /* it answered, but did not prove itself */
            return ct_error_set(CT_ETIMEOUT, "agent of %s is not connected (%s)", dc,
                                auth_reasons[st]);
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
