/* The HTTP server setup Catena's daemons share (catena/httpd.h). */
#include "catena/httpd.h"
#include "catena/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

int ct_httpd_init(struct _u_instance *inst, struct sockaddr_in *bind, const char *host,
                  uint16_t port, size_t max_body)
{
    memset(bind, 0, sizeof(*bind));
    bind->sin_family = AF_INET;
    bind->sin_port = htons(port);
    if (inet_pton(AF_INET, host, &bind->sin_addr) != 1)
        return ct_error_set(CT_EINVAL, "bad listen address %s (IPv4 expected)", host);
    /* Ulfius refuses port 0; MHD takes the address, port included, from
     * MHD_OPTION_SOCK_ADDR (ct_httpd_start), so a placeholder stands in. */
    if (ulfius_init_instance(inst, port ? port : 1, bind, NULL) != U_OK)
        return ct_error_set(CT_ENOMEM, "cannot set up the HTTP server");
    inst->max_post_body_size = max_body;
    return 0;
}

int ct_httpd_start(struct _u_instance *inst, unsigned max_conn, unsigned timeout_s, uint16_t *bound)
{
    struct sockaddr_in *addr = inst->bind_address, got;
    socklen_t len = sizeof(got);
    const union MHD_DaemonInfo *info;
    /* Ulfius needs its two callbacks among the options. */
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, addr},
        {MHD_OPTION_CONNECTION_LIMIT, max_conn, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    char host[INET_ADDRSTRLEN] = "?";

    inet_ntop(AF_INET, &addr->sin_addr, host, sizeof(host));
    if (ulfius_start_framework_with_mhd_options(
            inst, MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, ops) != U_OK)
        return ct_error_set(CT_EIO, "cannot listen on %s:%u", host,
                            (unsigned)ntohs(addr->sin_port));
    /* The port actually bound, read from the socket itself. */
    info = MHD_get_daemon_info(inst->mhd_daemon, MHD_DAEMON_INFO_LISTEN_FD);
    if (info == NULL || getsockname(info->listen_fd, (struct sockaddr *)&got, &len) < 0) {
        ulfius_stop_framework(inst);
        return ct_error_set(CT_EIO, "cannot read the bound port");
    }
    *bound = ntohs(got.sin_port);
    return 0;
}

int ct_httpd_reply(struct _u_response *resp, unsigned status, json_t *body)
{
    if (body == NULL) {
        ulfius_set_string_body_response(resp, 500, "{\"error\":\"out of memory\"}");
        return U_CALLBACK_COMPLETE;
    }
    ulfius_set_json_body_response(resp, status, body);
    json_decref(body);
    return U_CALLBACK_COMPLETE;
}

int ct_httpd_reply_error(struct _u_response *resp, unsigned status, const char *msg)
{
    return ct_httpd_reply(resp, status, json_pack("{s:s}", "error", msg));
}
