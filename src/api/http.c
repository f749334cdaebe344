/* The gateway's HTTP server on libmicrohttpd: collects each request's body
 * under a size cap and a deadline, checks Host and Origin, routes it, and
 * sends JSON, text or static files.
 * Handlers that may block run on workers while their connection is
 * suspended, so the HTTP threads only ever serve: writes on their DC's
 * queue (they wait for its agent), explorer calls on a shared pool (they
 * wait for the chain node). A slow agent holds up only its DC's writes. */
#include "api_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

/* HTTP threads (they never block). Two per core: with one, a thread the
 * scheduler sets aside stalls every connection it owns (p99 7-17 ms at
 * 64 connections on 2 cores, against 2-5 ms with four). */
#define HTTP_THREADS 4
/* Workers for handlers that may block other than writes (chain calls,
 * monitors; writes run on their DC's own queue, agents.c), and the most
 * jobs waiting for one (past that, 503). */
#define POOL_WORKERS 32
#define POOL_MAX_QUEUED 1024

/* How often the connections still receiving a request are looked at. */
#define SWEEP_MS 200

/* A handler run on a worker while its connection is suspended. */
struct job {
    ct_api *api;
    api_handler handler;
    api_req req;
    api_resp resp; /* the handler's */
    struct MHD_Connection *conn;
    pthread_mutex_t mu; /* guards the fields below */
    bool answered;      /* the connection was resumed to send answer */
    api_resp answer;    /* what it sends: resp, or an earlier answer (ct_api__answer_now) */
    int refs;           /* the worker's and the connection's */
};

/* One connection, from accept to close, for the request deadline: a
 * client has request_timeout_ms to send each request whole (headers and
 * body; for the next request on the connection, counted from the end of
 * the last), however slowly the bytes trickle in. */
struct conn_track {
    struct conn_track *prev, *next;
    int fd;
    int64_t since;  /* ct_time_mono_ms() it began waiting for this request */
    bool receiving; /* not yet handled: the deadline applies */
};

/* The server: the daemon, and the connections it holds. */
struct http_server {
    struct MHD_Daemon *daemon;
    /* Guards conns and each one's fields. NOTIFY_CLOSED removes a
     * connection under it before libmicrohttpd closes the socket, so the
     * sweeper never shuts down a descriptor already reused. */
    pthread_mutex_t mu;
    pthread_cond_t wake;     /* stop */
    struct conn_track conns; /* list head */
    bool stop;
    pthread_t sweeper;
    bool sweeping;
    int64_t deadline_ms;
    char **hosts, **origins; /* accepted Host values (NULL: any), extra origins */
};

/* Per-request state while the body arrives. */
struct conn_state {
    ct_buf body;
    bool too_large;
    struct job *job; /* set while suspended; its answer is ready on resume */
    struct conn_track *track;
};

static const char *content_type(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".json", "application/json"},
        {".map", "application/json"},
    };
    const char *dot = strrchr(name, '.');

    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return "application/octet-stream";
}

void ct_api__static_file(api_resp *resp, const char *dir, const char *name)
{
    static _Thread_local char path[PATH_MAX];

    if (dir == NULL || name[0] == '.' ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(name)) {
        ct_api__error(resp, 404, "not found");
        return;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    resp->file = path;
    resp->content_type = content_type(name);
}

bool ct_api__parse_hash32(uint8_t out[32], const char *s)
{
    size_t n;
    return strlen(s) == 66 && strncmp(s, "0x", 2) == 0 && ct_hex_decode(out, 32, &n, s, 66) == 0;
}

const char *ct_api__query(const api_req *req, const char *name)
{
    for (int i = 0; i < req->n_args; i++)
        if (strcmp(req->arg_keys[i], name) == 0)
            return req->arg_values[i];
    return NULL;
}

/* Returns: the length of the valid UTF-8 sequence at s (1 to 4), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
    size_t n = s[0] < 0x80                    ? 1
               : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
               : s[0] >= 0xe0 && s[0] <= 0xef ? 3
               : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                              : 0;
    uint32_t cp = n == 2 ? s[0] & 0x1fu : n == 3 ? s[0] & 0x0fu : s[0] & 0x07u;

    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    /* Overlong forms, UTF-16 surrogates, past U+10FFFF. */
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void ct_api__utf8_fix(char *text)
{
    unsigned char *s = (unsigned char *)text;

    while (*s != '\0') {
        size_t n = utf8_seq(s);
        if (n == 0)
            *s++ = '?';
        else
            s += n;
    }
}

void ct_api__error(api_resp *resp, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ct_api__utf8_fix(msg); /* it may echo the request: encodable whatever came */
    json_decref(resp->json);
    resp->status = status;
    resp->json = json_pack("{s:s}", "error", msg);
}

static struct MHD_Response *file_response(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return NULL;
    }
    return MHD_create_response_from_fd((uint64_t)st.st_size, fd);
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, api_resp *resp)
{
    struct MHD_Response *r = NULL;
    const char *type = "application/json";
    enum MHD_Result ret;
    char *text = NULL;

    if (resp->file != NULL) {
        r = file_response(resp->file);
        type = resp->content_type;
        if (r == NULL)
            ct_api__error(resp, 404, "not found");
    }
    if (r == NULL && resp->text != NULL) {
        r = MHD_create_response_from_buffer(strlen(resp->text), resp->text, MHD_RESPMEM_MUST_FREE);
        type = resp->content_type ? resp->content_type : "text/plain; charset=utf-8";
        if (r != NULL)
            resp->text = NULL; /* now the response's */
    }
    if (r == NULL) {
        if (resp->json == NULL)
            ct_api__error(resp, 500, "internal error: no response");
        text = ct_json_dumps(resp->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text == NULL)
            return MHD_NO;
        r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        type = "application/json";
    }
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (resp->location[0] != '\0')
        MHD_add_response_header(r, "Location", resp->location);
    ret = MHD_queue_response(conn, (unsigned)(resp->status ? resp->status : 200), r);
    MHD_destroy_response(r);
    return ret;
}

static void resp_clear(api_resp *resp)
{
    json_decref(resp->json);
    free(resp->text);
}

/* ---------------------------------------------------------------- workers */

static void job_release(struct job *j)
{
    pthread_mutex_lock(&j->mu);
    bool last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (!last)
        return;
    resp_clear(&j->resp);
    resp_clear(&j->answer);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

/* Resumes j's connection to send resp (moved into j->answer) unless it
 * was answered already. Returns: whether it was. */
static bool job_answer(struct job *j, api_resp *resp)
{
    bool done;

    pthread_mutex_lock(&j->mu);
    done = !j->answered;
    if (done) {
        j->answer = *resp;
        *resp = (api_resp){0};
        j->answered = true;
        MHD_resume_connection(j->conn); /* the HTTP thread sends j->answer */
    }
    pthread_mutex_unlock(&j->mu);
    return done;
}

bool ct_api__answer_now(const api_req *req, api_resp *resp)
{
    return req->job != NULL && job_answer(req->job, resp);
}

static void job_run(void *arg)
{
    struct job *j = arg;

    j->handler(j->api, &j->req, &j->resp);
    job_answer(j, &j->resp);
    job_release(j);
}

/* Returns: the queue h runs on: a write's DC's own (so a stuck agent
 * holds up only its DC's writes), else the shared pool. */
static ct_workq *queue_for(ct_api *api, api_handler h, const api_req *req)
{
    const char *dc = ct_api__write_dc(api, h, req);
    ct_workq *q = dc != NULL ? ct_api__agent_queue(api, dc) : NULL;

    return q != NULL ? q : api->pool;
}

/* Suspends the connection and queues req for a worker; when the queue is
 * full, the resumed connection answers 503 instead. */
static bool offload(ct_api *api, struct MHD_Connection *conn, struct conn_state *st, api_handler h,
                    const api_req *req)
{
    struct job *j = calloc(1, sizeof(*j));

    if (j == NULL)
        return false;
    *j = (struct job){.api = api, .handler = h, .req = *req, .conn = conn, .refs = 2};
    pthread_mutex_init(&j->mu, NULL);
    j->resp.status = 200;
    j->req.job = j;
    for (int k = 0; k < j->req.n_params; k++)
        j->req.params[k] = j->req.segs[k];
    st->job = j;
    /* Suspended before the job is queued, so a worker cannot resume it
     * first. */
    MHD_suspend_connection(conn);
    if (ct_workq_push(queue_for(api, h, req), job_run, j) < 0) {
        ct_api__error(&j->resp, 503, "the gateway is busy: too many requests waiting");
        job_answer(j, &j->resp);
        job_release(j); /* the worker's */
    }
    return true;
}

/* ---------------------------------------------------------------- requests */

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    api_req *req = cls;
    (void)kind;

    if (req->n_args == API_MAX_ARGS) {
        req->n_args++; /* marks "too many" */
        return MHD_NO;
    }
    req->arg_keys[req->n_args] = key;
    req->arg_values[req->n_args++] = value != NULL ? value : "";
    return MHD_YES;
}

/* Returns: whether the comma-separated-list entry list[] holds s
 * (case-insensitive). */
static bool listed(char *const *list, const char *s, size_t n)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        if (strlen(list[i]) == n && strncasecmp(list[i], s, n) == 0)
            return true;
    return false;
}

/* Checks the Host header against DNS rebinding (a name that resolves to
 * us must still be one of ours), and the Origin of a write: a browser page
 * of another site must not write through a user's gateway. Returns: true,
 * or false with a 403 set. */
static bool origin_ok(struct http_server *hs, struct MHD_Connection *conn, const char *method,
                      api_resp *resp)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *rest;
    char **hosts;

    pthread_mutex_lock(&hs->mu);
    hosts = hs->hosts; /* set once the port is bound */
    pthread_mutex_unlock(&hs->mu);
    if (host != NULL && hosts != NULL && !listed(hosts, host, strlen(host))) {
        ct_api__error(resp, 403, "this gateway does not answer for host '%.64s'", host);
        return false;
    }
    if (origin == NULL || strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return true;
    /* Our own origin is the page's Host with either scheme (a TLS proxy
     * may stand in front). */
    rest = strncasecmp(origin, "http://", 7) == 0    ? origin + 7
           : strncasecmp(origin, "https://", 8) == 0 ? origin + 8
                                                     : NULL;
    if ((rest != NULL && host != NULL && strcasecmp(rest, host) == 0) ||
        listed(hs->origins, origin, strlen(origin)))
        return true;
    ct_api__error(resp, 403,
                  "cross-origin writes are refused (Origin '%.64s'); see allowed_origins", origin);
    return false;
}

static enum MHD_Result dispatch(ct_api *api, struct MHD_Connection *conn, const char *url,
                                const char *method, struct conn_state *st)
{
    api_req req = {.method = method, .path = url, .received_ms = ct_time_mono_ms()};
    api_resp resp = {.status = 200};
    api_handler h;
    int status = 404;
    bool blocking = false;
    enum MHD_Result ret;

    if (st->job != NULL) { /* resumed: a worker answered */
        pthread_mutex_lock(&st->job->mu);
        ret = send_resp(conn, &st->job->answer);
        pthread_mutex_unlock(&st->job->mu);
        job_release(st->job);
        st->job = NULL;
        return ret;
    }
    if (st->track != NULL) { /* received whole: the deadline is over */
        pthread_mutex_lock(&((struct http_server *)api->http)->mu);
        st->track->receiving = false;
        pthread_mutex_unlock(&((struct http_server *)api->http)->mu);
    }
    req.auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    req.idem_key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key");
    req.target_token = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Catena-Target-Token");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &req);
    if (!origin_ok(api->http, conn, method, &resp)) {
        /* refused */
    } else if (st->too_large) {
        ct_api__error(&resp, 413, "request body larger than %d bytes", API_MAX_BODY);
    } else if (req.n_args > API_MAX_ARGS) {
        ct_api__error(&resp, 400, "more than %d query arguments", API_MAX_ARGS);
    } else if ((h = ct_api__route(&req, &status, &blocking)) == NULL) {
        ct_api__error(&resp, status,
                      status == 405 ? "method %s not allowed on %s" : "no such endpoint: %s %s",
                      method, url);
    } else {
        req.body = st->body.data ? st->body.data : "";
        req.body_len = st->body.len;
        if (!blocking)
            h(api, &req, &resp);
        else if (offload(api, conn, st, h, &req))
            return MHD_YES;
        else
            ct_api__error(&resp, 500, "out of memory");
    }
    ret = send_resp(conn, &resp);
    resp_clear(&resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct conn_state *st = *con_cls;
    (void)version;

    if (st == NULL) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return MHD_NO;
        ct_buf_init(&st->body, API_MAX_BODY);
        st->track = ci != NULL ? ci->socket_context : NULL;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!st->too_large && ct_buf_append(&st->body, upload_data, *upload_size) < 0)
            st->too_large = true;
        *upload_size = 0;
        return MHD_YES;
    }
    return dispatch(cls, conn, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_state *st = *con_cls;
    struct http_server *hs = ((ct_api *)cls)->http;
    (void)conn;
    (void)toe;
    if (st != NULL) {
        if (st->job != NULL)
            job_release(st->job);
        if (st->track != NULL) { /* the next request's time starts now */
            pthread_mutex_lock(&hs->mu);
            st->track->receiving = true;
            st->track->since = ct_time_mono_ms();
            pthread_mutex_unlock(&hs->mu);
        }
        ct_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* ---------------------------------------------------------------- connections */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *hs = ((ct_api *)cls)->http;
    struct conn_track *t = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci == NULL || (t = calloc(1, sizeof(*t))) == NULL)
            return; /* untracked: only its idle timeout applies */
        t->fd = ci->connect_fd;
        t->since = ct_time_mono_ms();
        t->receiving = true;
        pthread_mutex_lock(&hs->mu);
        t->next = hs->conns.next;
        t->prev = &hs->conns;
        t->next->prev = t;
        hs->conns.next = t;
        pthread_mutex_unlock(&hs->mu);
        *socket_context = t;
    } else if (t != NULL) { /* closed: before its socket is */
        pthread_mutex_lock(&hs->mu);
        t->prev->next = t->next;
        t->next->prev = t->prev;
        pthread_mutex_unlock(&hs->mu);
        free(t);
        *socket_context = NULL;
    }
}

/* Cuts connections that took longer than the deadline to send a request:
 * shutting the socket down makes libmicrohttpd read its end and close it
 * on its own thread. */
static void *sweeper_main(void *arg)
{
    struct http_server *hs = arg;

    pthread_mutex_lock(&hs->mu);
    while (!hs->stop) {
        int64_t now = ct_time_mono_ms();
        for (struct conn_track *t = hs->conns.next; t != &hs->conns; t = t->next)
            if (t->receiving && now - t->since > hs->deadline_ms) {
                shutdown(t->fd, SHUT_RDWR);
                t->receiving = false; /* once */
                ct_log(CT_LOG_DEBUG, "api: a client took over %lld ms to send a request; cut",
                       (long long)hs->deadline_ms);
            }
        struct timespec until;
        ct_time_after(&until, CLOCK_MONOTONIC, SWEEP_MS);
        pthread_cond_timedwait(&hs->wake, &hs->mu, &until);
    }
    pthread_mutex_unlock(&hs->mu);
    return NULL;
}

static void free_list(char **list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        free(list[i]);
    free(list);
}

/* Splits "a, b,c" into a NULL-terminated list (NULL for none). */
static char **split_list(const char *text)
{
    char **list = NULL;
    size_t n = 0;

    for (const char *p = text; p != NULL && *p != '\0';) {
        size_t len;
        char **grown;
        p += strspn(p, ", \t");
        len = strcspn(p, ", \t");
        if (len == 0)
            break;
        if ((grown = realloc(list, (n + 2) * sizeof(*list))) == NULL ||
            (grown[n] = strndup(p, len)) == NULL) {
            free_list(grown != NULL ? (grown[n] = NULL, grown) : list);
            return NULL;
        }
        list = grown;
        list[++n] = NULL;
        p += len;
    }
    return list;
}

/* The Host values accepted: allowed_hosts, else on a loopback address its
 * own names with the port, else any (NULL). */
static char **host_list(const ct_api_config *cfg)
{
    const char *h = cfg->listen_host;
    char text[512];

    if (cfg->allowed_hosts != NULL)
        return split_list(cfg->allowed_hosts);
    if (strncmp(h, "127.", 4) != 0 && strcmp(h, "localhost") != 0 && strcmp(h, "::1") != 0)
        return NULL;
    snprintf(text, sizeof(text), "%s:%u,localhost:%u,127.0.0.1:%u,[::1]:%u%s", h,
             (unsigned)cfg->port, (unsigned)cfg->port, (unsigned)cfg->port, (unsigned)cfg->port,
             cfg->port == 80 ? ",localhost,127.0.0.1,[::1]" : "");
    return split_list(text);
}

static void server_free(struct http_server *hs)
{
    if (hs == NULL)
        return;
    if (hs->sweeping) {
        pthread_mutex_lock(&hs->mu);
        hs->stop = true;
        pthread_cond_signal(&hs->wake);
        pthread_mutex_unlock(&hs->mu);
        pthread_join(hs->sweeper, NULL);
    }
    free_list(hs->hosts);
    free_list(hs->origins);
    pthread_cond_destroy(&hs->wake);
    pthread_mutex_destroy(&hs->mu);
    free(hs);
}

static struct http_server *server_new(const ct_api_config *cfg)
{
    struct http_server *hs = calloc(1, sizeof(*hs));
    pthread_condattr_t mono;

    if (hs == NULL)
        return NULL;
    pthread_mutex_init(&hs->mu, NULL);
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
    pthread_cond_init(&hs->wake, &mono);
    pthread_condattr_destroy(&mono);
    hs->conns.next = hs->conns.prev = &hs->conns;
    hs->deadline_ms = cfg->request_timeout_ms;
    hs->origins = split_list(cfg->allowed_origins);
    if (pthread_create(&hs->sweeper, NULL, sweeper_main, hs) != 0) {
        server_free(hs);
        return NULL;
    }
    hs->sweeping = true;
    return hs;
}

int ct_api__http_start(ct_api *api)
{
    struct sockaddr_in addr;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    struct http_server *hs;
    unsigned idle_s = (unsigned)(api->cfg.request_timeout_ms + 999) / 1000;
    int rc;

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(api->cfg.port);
    if (inet_pton(AF_INET, api->cfg.listen_host, &addr.sin_addr) != 1)
        return ct_error_set(CT_EINVAL, "api: bad listen address %s", api->cfg.listen_host);
    if (api->pool == NULL && (rc = ct_workq_new(&api->pool, POOL_WORKERS, POOL_MAX_QUEUED)) < 0)
        return rc;
    if ((hs = server_new(&api->cfg)) == NULL)
        return ct_error_set(CT_ENOMEM, "api: out of memory");
    api->http = hs;
    /* The idle timeout (reset by any byte) catches a client that stops
     * reading an answer; the sweeper, one that sends a request slowly. */
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, api->cfg.port,
        NULL, NULL, on_request, api, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)HTTP_THREADS, MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, api, MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)api->cfg.max_conns_per_ip, MHD_OPTION_END);
    if (d == NULL)
        return ct_error_set(CT_EIO, "api: cannot listen on %s:%u", api->cfg.listen_host,
                            (unsigned)api->cfg.port);
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info != NULL)
        api->cfg.port = info->port;
    hs->daemon = d;
    /* Now that the port is known. */
    char **hosts = host_list(&api->cfg);
    pthread_mutex_lock(&hs->mu);
    hs->hosts = hosts;
    pthread_mutex_unlock(&hs->mu);
    return 0;
}

void ct_api__http_stop(ct_api *api)
{
    struct http_server *hs = api->http;

    /* Suspended connections must be resumed before the daemon stops: let
     * the workers finish (the caller has made agent calls fail at once). */
    if (hs != NULL && hs->daemon != NULL) {
        MHD_socket listener = MHD_quiesce_daemon(hs->daemon);
        ct_workq_drain(api->pool);
        ct_api__agents_drain(api);
        MHD_stop_daemon(hs->daemon);
        if (listener != MHD_INVALID_SOCKET)
            close(listener); /* ours after quiescing, once the daemon stopped */
    }
    server_free(hs);
    api->http = NULL;
    ct_workq_free(api->pool);
    api->pool = NULL;
}
