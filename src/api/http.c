/* The gateway's HTTP server on libmicrohttpd: collects each request's body
 * under a size cap, routes it, and sends JSON, text or static files.
 * Handlers that may block run on workers while their connection is
 * suspended, so the HTTP threads only ever serve: writes on their DC's
 * queue (they wait for its agent), explorer calls on a shared pool (they
 * wait for the chain node). A slow agent holds up only its DC's writes. */
#include "api_int.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* A handler run on a worker while its connection is suspended. */
struct job {
    ct_api *api;
    api_handler handler;
    api_req req;
    api_resp resp;
    struct MHD_Connection *conn;
};

/* Per-connection state while the body arrives. */
struct conn_state {
    ct_buf body;
    bool too_large;
    struct job *job; /* set while suspended; its resp is ready on resume */
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

void ct_api__error(api_resp *resp, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
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

static void job_run(void *arg)
{
    struct job *j = arg;

    j->handler(j->api, &j->req, &j->resp);
    MHD_resume_connection(j->conn); /* the HTTP thread sends j->resp */
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
    *j = (struct job){.api = api, .handler = h, .req = *req, .conn = conn};
    j->resp.status = 200;
    for (int k = 0; k < j->req.n_params; k++)
        j->req.params[k] = j->req.segs[k];
    st->job = j;
    /* Suspended before the job is queued, so a worker cannot resume it
     * first. */
    MHD_suspend_connection(conn);
    if (ct_workq_push(queue_for(api, h, req), job_run, j) < 0) {
        ct_api__error(&j->resp, 503, "the gateway is busy: too many requests waiting");
        MHD_resume_connection(conn);
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
        ret = send_resp(conn, &st->job->resp);
        resp_clear(&st->job->resp);
        free(st->job);
        st->job = NULL;
        return ret;
    }
    req.auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &req);
    if (st->too_large) {
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
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return MHD_NO;
        ct_buf_init(&st->body, API_MAX_BODY);
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
    (void)cls;
    (void)conn;
    (void)toe;
    if (st != NULL) {
        if (st->job != NULL) {
            resp_clear(&st->job->resp);
            free(st->job);
        }
        ct_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

int ct_api__http_start(ct_api *api)
{
    struct sockaddr_in addr;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    int rc;

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(api->cfg.port);
    if (inet_pton(AF_INET, api->cfg.listen_host, &addr.sin_addr) != 1)
        return ct_error_set(CT_EINVAL, "api: bad listen address %s", api->cfg.listen_host);
    if (api->pool == NULL && (rc = ct_workq_new(&api->pool, POOL_WORKERS, POOL_MAX_QUEUED)) < 0)
        return rc;
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME,
                         api->cfg.port, NULL, NULL, on_request, api, MHD_OPTION_SOCK_ADDR, &addr,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_CONNECTION_LIMIT,
                         (unsigned)1024, MHD_OPTION_END);
    if (d == NULL)
        return ct_error_set(CT_EIO, "api: cannot listen on %s:%u", api->cfg.listen_host,
                            (unsigned)api->cfg.port);
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info != NULL)
        api->cfg.port = info->port;
    api->http = d;
    return 0;
}

void ct_api__http_stop(ct_api *api)
{
    /* Suspended connections must be resumed before the daemon stops: let
     * the workers finish (the caller has made agent calls fail at once). */
    if (api->http != NULL) {
        MHD_socket listener = MHD_quiesce_daemon(api->http);
        ct_workq_drain(api->pool);
        ct_api__agents_drain(api);
        MHD_stop_daemon(api->http);
        if (listener != MHD_INVALID_SOCKET)
            close(listener); /* ours after quiescing, once the daemon stopped */
    }
    api->http = NULL;
    ct_workq_free(api->pool);
    api->pool = NULL;
}
