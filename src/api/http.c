/* The gateway's HTTP server on libmicrohttpd: collects each request's body
 * under a size cap, routes it, and sends JSON, text or static files. */
#include "api_int.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

/* Per-connection state while the body arrives. */
struct conn_state {
    ct_buf body;
    bool too_large;
};

const char *ct_api__header(const api_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *ct_api__query(const api_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
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
        text = json_dumps(resp->json, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
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

static enum MHD_Result dispatch(ct_api *api, struct MHD_Connection *conn, const char *url,
                                const char *method, struct conn_state *st)
{
    api_req req = {.method = method, .path = url, .conn = conn};
    api_resp resp = {.status = 200};
    api_handler h;
    int status = 404;
    enum MHD_Result ret;

    if (st->too_large) {
        ct_api__error(&resp, 413, "request body larger than %d bytes", API_MAX_BODY);
    } else if ((h = ct_api__route(&req, &status)) == NULL) {
        ct_api__error(&resp, status,
                      status == 405 ? "method %s not allowed on %s" : "no such endpoint: %s %s",
                      method, url);
    } else {
        req.body = st->body.data ? st->body.data : "";
        req.body_len = st->body.len;
        h(api, &req, &resp);
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

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(api->cfg.port);
    if (inet_pton(AF_INET, api->cfg.listen_host, &addr.sin_addr) != 1)
        return ct_error_set(CT_EINVAL, "api: bad listen address %s", api->cfg.listen_host);
    /* Writes wait for an agent's answer in the handler, so the pool has
     * more threads than cores. */
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, api->cfg.port, NULL, NULL,
                         on_request, api, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE,
                         (unsigned)8, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
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
    if (api->http != NULL)
        MHD_stop_daemon(api->http);
    api->http = NULL;
}
