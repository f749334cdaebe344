/* `catena agreement session ADDR --port P`: the service deployed for an
 * agreement's session (seed 004 Figure 6.1). The gateway's keeper starts
 * it and hands the user its URL, http://HOST:P/session/ADDR; it answers
 * that page and /health until the keeper stops it (or, --until T, past
 * Unix time T at the latest). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catena/crypto.h"
#include "catena/httpd.h"
#include "catena/util.h"

typedef struct session {
    char addr[64];
    char started[CT_TIME_ISO8601_SIZE];
    char path[96]; /* "/session/<addr>" */
} session;

static int on_health(const struct _u_request *req, struct _u_response *resp, void *user)
{
    session *s = user;
    (void)req;

    return ct_httpd_reply(resp, 200, json_pack("{s:s, s:s}", "status", "ok", "agreement", s->addr));
}

static int on_page(const struct _u_request *req, struct _u_response *resp, void *user)
{
    session *s = user;
    char page[1024];

    if (strcasecmp(req->url_path, s->path) != 0)
        return ct_httpd_reply_error(resp, 404, "no such session here");
    snprintf(page, sizeof(page),
             "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Catena session</title>"
             "</head>\n<body><h1>Catena session</h1>\n<p>Agreement <code>%s</code></p>\n"
             "<p>Serving since %s</p></body></html>\n",
             s->addr, s->started);
    ulfius_set_string_body_response(resp, 200, page);
    u_map_put(resp->map_header, "Content-Type", "text/html; charset=utf-8");
    return U_CALLBACK_COMPLETE;
}

int agreement_session(const char *addr, uint16_t port, uint64_t until)
{
    struct _u_instance inst;
    struct sockaddr_in bind;
    ct_address parsed;
    session s = {0};
    uint16_t bound = 0;
    int rc;

    if (ct_address_parse(&parsed, addr) < 0)
        return cli_bad_input("agreement", "session", "'%s' is not an address", addr);
    snprintf(s.addr, sizeof(s.addr), "%s", addr);
    snprintf(s.path, sizeof(s.path), "/session/%s", addr);
    ct_time_format(s.started, ct_time_now_ms());
    cli_block_stop_signals();
    if ((rc = ct_httpd_init(&inst, &bind, "127.0.0.1", port, 1024)) < 0) {
        fprintf(stderr, "catena agreement session: %s\n", ct_error_last());
        return CLI_FAIL;
    }
    if (ulfius_add_endpoint_by_val(&inst, "GET", "/health", NULL, 0, on_health, &s) != U_OK ||
        ulfius_set_default_endpoint(&inst, on_page, &s) != U_OK)
        rc = ct_error_set(CT_ENOMEM, "cannot set up the HTTP server");
    if (rc == 0)
        rc = ct_httpd_start(&inst, 256, 10, &bound);
    if (rc < 0) {
        fprintf(stderr, "catena agreement session: %s\n", ct_error_last());
        ulfius_clean_instance(&inst);
        return CLI_FAIL;
    }
    ct_log(CT_LOG_INFO, "session of %s on http://127.0.0.1:%u%s", addr, (unsigned)bound, s.path);
    /* Until a stop signal, or past `until` (Unix seconds; 0: none). */
    while (cli_wait_stop(1000) == 0)
        if (until != 0 && (uint64_t)(ct_time_now_ms() / 1000) >= until) {
            ct_log(CT_LOG_INFO, "session of %s: past its end; exiting", addr);
            break;
        }
    ulfius_stop_framework(&inst);
    ulfius_clean_instance(&inst);
    return CLI_OK;
}
