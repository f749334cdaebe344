/* A JSON HTTP server on Ulfius/libmicrohttpd as Catena's daemons run it: a
 * thread per connection, a connection limit, an idle timeout, port 0 for
 * any free port (the bound one is read back from the socket). */
#ifndef CATENA_HTTPD_H
#define CATENA_HTTPD_H

#include <netinet/in.h>
#include <stdint.h>

#include <ulfius.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sets up inst for host:port (IPv4), with bind (which must live as long as
 * inst: Ulfius keeps the pointer) as its address. Add endpoints, then
 * ct_httpd_start; ulfius_clean_instance frees inst.
 * Returns: 0, CT_EINVAL (bad host), CT_ENOMEM. */
int ct_httpd_init(struct _u_instance *inst, struct sockaddr_in *bind, const char *host,
                  uint16_t port, size_t max_body);

/* Starts serving with at most max_conn connections idle for at most
 * timeout_s each. Out: *bound the port bound.
 * Returns: 0, CT_EIO (cannot listen). */
int ct_httpd_start(struct _u_instance *inst, unsigned max_conn, unsigned timeout_s,
                   uint16_t *bound);

/* Answers body (stolen; NULL: out of memory, 500) with status.
 * Returns: U_CALLBACK_COMPLETE. */
int ct_httpd_reply(struct _u_response *resp, unsigned status, json_t *body);

/* Answers {"error": msg} with status. Returns: U_CALLBACK_COMPLETE. */
int ct_httpd_reply_error(struct _u_response *resp, unsigned status, const char *msg);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_HTTPD_H */
