/* The agent's RabbitMQ consumer (librabbitmq): one connection, one
 * channel, a durable queue of its own bound to the cloud's notification
 * exchange, one unacknowledged delivery at a time. Every wait is bounded,
 * so a stopped or vanished broker shows as an error, never a hang. */
#include "agent_int.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#define CHANNEL 1
/* No AMQP heartbeats: the watcher may spend minutes on one delivery
 * (a chain node down) without reading the socket, and the broker would
 * close the connection. TCP keepalive finds a dead peer instead. */
#define HEARTBEAT_S 0
#define KEEPALIVE_IDLE_S 30
#define KEEPALIVE_INTERVAL_S 10
#define KEEPALIVE_COUNT 3
#define CONNECT_TIMEOUT_MS 5000
#define BODY_MAX (4u << 20) /* a Nova notification is a few KiB */
#define QUEUE_EXPIRES_MS (7 * 86400 * 1000)

struct ct_agent__amqp {
    amqp_connection_state_t conn;
};

static struct timeval tv_of(int ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

/* Names a failed RPC reply in the last error. Returns: CT_EIO. */
static int reply_error(amqp_rpc_reply_t r, const char *what)
{
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        return ct_error_set(CT_EIO, "amqp: %s: %s", what, amqp_error_string2(r.library_error));
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
        (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD || r.reply.id == AMQP_CONNECTION_CLOSE_METHOD)) {
        const amqp_channel_close_t *c = r.reply.decoded;
        return ct_error_set(CT_EIO, "amqp: %s: the broker said %u %.*s", what, c->reply_code,
                            (int)c->reply_text.len, (const char *)c->reply_text.bytes);
    }
    return ct_error_set(CT_EIO, "amqp: %s failed", what);
}

static int check_reply(ct_agent__amqp *q, const char *what)
{
    amqp_rpc_reply_t r = amqp_get_rpc_reply(q->conn);

    return r.reply_type == AMQP_RESPONSE_NORMAL ? 0 : reply_error(r, what);
}

/* The exchange Nova publishes to: taken as it is when it exists (its
 * flags are the operator's), else declared as oslo.messaging declares it
 * by default (a topic exchange, not durable), so binding works before
 * Nova's first notification. */
static int use_exchange(ct_agent__amqp *q, const char *exchange)
{
    amqp_exchange_declare(q->conn, CHANNEL, amqp_cstring_bytes(exchange),
                          amqp_cstring_bytes("topic"), 1, 0, 0, 0, amqp_empty_table);
    if (check_reply(q, "exchange") == 0)
        return 0;
    /* NOT_FOUND closed the channel: open it again and declare. */
    amqp_channel_open(q->conn, CHANNEL + 1);
    if (check_reply(q, "channel") < 0)
        return CT_EIO;
    amqp_exchange_declare(q->conn, CHANNEL + 1, amqp_cstring_bytes(exchange),
                          amqp_cstring_bytes("topic"), 0, 0, 0, 0, amqp_empty_table);
    if (check_reply(q, "declaring the exchange") < 0)
        return CT_EIO;
    amqp_channel_close(q->conn, CHANNEL + 1, AMQP_REPLY_SUCCESS);
    amqp_channel_open(q->conn, CHANNEL);
    return check_reply(q, "channel");
}

static void set_keepalive(int fd)
{
    int on = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_INTERVAL_S, cnt = KEEPALIVE_COUNT;

    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static int subscribe(ct_agent__amqp *q, const ct_agent__amqp_opts *o)
{
    amqp_bytes_t queue = amqp_cstring_bytes(o->queue);
    /* A queue nobody has consumed for a week goes: the queue of a
     * federation that is gone does not fill the broker for ever. */
    amqp_table_entry_t expires = {
        .key = amqp_cstring_bytes("x-expires"),
        .value = {.kind = AMQP_FIELD_KIND_I32, .value.i32 = QUEUE_EXPIRES_MS}};
    amqp_table_t args = {.num_entries = 1, .entries = &expires};

    amqp_channel_open(q->conn, CHANNEL);
    if (check_reply(q, "channel") < 0 || use_exchange(q, o->exchange) < 0)
        return CT_EIO;
    /* Durable and not exclusive: it outlives this connection and the
     * broker's restart, and keeps what Nova says while we are away. */
    amqp_queue_declare(q->conn, CHANNEL, queue, 0, 1, 0, 0, args);
    if (check_reply(q, "declaring the queue") < 0)
        return CT_EIO;
    amqp_queue_bind(q->conn, CHANNEL, queue, amqp_cstring_bytes(o->exchange),
                    amqp_cstring_bytes(o->routing_key), amqp_empty_table);
    if (check_reply(q, "binding the queue") < 0)
        return CT_EIO;
    amqp_basic_qos(q->conn, CHANNEL, 0, 1, 0);
    if (check_reply(q, "qos") < 0)
        return CT_EIO;
    amqp_basic_consume(q->conn, CHANNEL, queue, amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    return check_reply(q, "consume");
}

int ct_agent__amqp_open(ct_agent__amqp **out, const ct_agent__amqp_opts *o)
{
    struct amqp_connection_info info;
    struct timeval tv = tv_of(CONNECT_TIMEOUT_MS);
    ct_agent__amqp *q;
    amqp_socket_t *sock;
    char *url = strdup(o->url);
    int rc = CT_EIO, st;

    *out = NULL;
    if (url == NULL || (q = calloc(1, sizeof(*q))) == NULL) {
        free(url);
        return ct_error_set(CT_ENOMEM, "amqp: out of memory");
    }
    amqp_default_connection_info(&info);
    if (amqp_parse_url(url, &info) != AMQP_STATUS_OK || info.ssl) {
        rc = ct_error_set(CT_EINVAL, "amqp: not an amqp://USER:PASSWORD@HOST:PORT/VHOST URL");
        goto done;
    }
    if ((q->conn = amqp_new_connection()) == NULL ||
        (sock = amqp_tcp_socket_new(q->conn)) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "amqp: out of memory");
        goto done;
    }
    amqp_set_handshake_timeout(q->conn, &tv);
    amqp_set_rpc_timeout(q->conn, &tv);
    if ((st = amqp_socket_open_noblock(sock, info.host, info.port, &tv)) != AMQP_STATUS_OK) {
        rc = ct_error_set(CT_EIO, "amqp: %s:%d: %s", info.host, info.port, amqp_error_string2(st));
        goto done;
    }
    set_keepalive(amqp_socket_get_sockfd(sock));
    amqp_rpc_reply_t r = amqp_login(q->conn, info.vhost, 0, 131072, HEARTBEAT_S,
                                    AMQP_SASL_METHOD_PLAIN, info.user, info.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        rc = reply_error(r, "login");
        goto done;
    }
    if ((rc = subscribe(q, o)) < 0)
        goto done;
    rc = 0;
done:
    if (rc < 0) {
        ct_agent__amqp_close(q);
        q = NULL;
    }
    free(url);
    *out = q;
    return rc;
}

void ct_agent__amqp_close(ct_agent__amqp *q)
{
    if (q == NULL)
        return;
    if (q->conn != NULL) {
        /* Polite when the broker answers; bounded by the RPC timeout when
         * it does not. */
        amqp_channel_close(q->conn, CHANNEL, AMQP_REPLY_SUCCESS);
        amqp_connection_close(q->conn, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(q->conn);
    }
    free(q);
}

int ct_agent__amqp_next(ct_agent__amqp *q, ct_agent__delivery *d, int timeout_ms)
{
    struct timeval tv = tv_of(timeout_ms);
    amqp_envelope_t env;
    amqp_rpc_reply_t r;

    memset(d, 0, sizeof(*d));
    amqp_maybe_release_buffers(q->conn);
    r = amqp_consume_message(q->conn, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
        return CT_ETIMEOUT;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        amqp_frame_t f;
        struct timeval z = tv_of(100);
        if (amqp_simple_wait_frame_noblock(q->conn, &f, &z) == AMQP_STATUS_OK)
            return ct_error_set(CT_EIO, "amqp: frame type %d method 0x%08x instead of a delivery",
                                f.frame_type,
                                f.frame_type == AMQP_FRAME_METHOD ? f.payload.method.id : 0);
    }
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        /* Anything but a delivery (the broker closing the channel or the
         * connection, a lost socket, a missed heartbeat): start over. */
        return reply_error(r, "receiving");
    }
    d->tag = env.delivery_tag;
    if (env.message.body.len > BODY_MAX || (d->body = malloc(env.message.body.len + 1)) == NULL) {
        size_t len = env.message.body.len;
        amqp_destroy_envelope(&env);
        return ct_error_set(CT_ELIMIT, "amqp: a message of %zu bytes", len);
    }
    memcpy(d->body, env.message.body.bytes, env.message.body.len);
    d->body[env.message.body.len] = '\0';
    d->len = env.message.body.len;
    d->redelivered = env.redelivered != 0;
    amqp_destroy_envelope(&env);
    return 0;
}

int ct_agent__amqp_ack(ct_agent__amqp *q, uint64_t tag)
{
    int st = amqp_basic_ack(q->conn, CHANNEL, tag, 0);

    return st == AMQP_STATUS_OK ? 0 : ct_error_set(CT_EIO, "amqp: ack: %s", amqp_error_string2(st));
}

void ct_agent__delivery_clear(ct_agent__delivery *d)
{
    free(d->body);
    memset(d, 0, sizeof(*d));
}
