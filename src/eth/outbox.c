/* The sender's durable outbox: every signed transaction is written to a
 * file and synced before it is sent, and sent again (the same bytes) while
 * the chain has not reached its nonce, so a node that comes back behind
 * what it acknowledged still mines each transaction exactly once.
 *
 * File: a header line "catena-outbox 1 GENESIS FROM", then one line per
 * transaction "NONCE SENT_UNIX_MS RAW_HEX". Appends only; rewritten
 * (temporary file + rename) when old entries are dropped. */
#include "eth_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUTBOX_MAX_FILE ((size_t)256 << 20)
#define HEADER_MAGIC "catena-outbox 1"

struct entry {
    uint64_t nonce;
    int64_t sent_ms; /* wall clock */
    uint8_t *raw;
    size_t len;
};

struct ct_eth__outbox {
    char *path;
    int fd;           /* O_APPEND */
    off_t last_start; /* where the last entry's line begins */
    char header[160];
    struct entry *v; /* in the order added: nonces ascend */
    size_t n, cap;
};

static void entry_free(struct entry *e)
{
    free(e->raw);
    memset(e, 0, sizeof(*e));
}

static int push(ct_eth__outbox *o, const struct entry *e)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 64;
        struct entry *v = realloc(o->v, cap * sizeof(*v));
        if (v == NULL)
            return ct_error_set(CT_ENOMEM, "outbox: out of memory");
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = *e;
    return 0;
}

/* One line "NONCE MS HEX" (without its newline) into e. */
static int parse_line(struct entry *e, char *line)
{
    char *end, *hex;
    size_t hex_len;
    unsigned long long nonce;
    long long ms;

    memset(e, 0, sizeof(*e));
    errno = 0;
    nonce = strtoull(line, &end, 10);
    if (errno != 0 || end == line || *end != ' ')
        return CT_EPARSE;
    ms = strtoll(end + 1, &hex, 10);
    if (errno != 0 || hex == end + 1 || *hex != ' ')
        return CT_EPARSE;
    hex++;
    hex_len = strlen(hex);
    if (hex_len == 0 || hex_len % 2 != 0 || (e->raw = malloc(hex_len / 2)) == NULL)
        return hex_len == 0 || hex_len % 2 != 0 ? CT_EPARSE : CT_ENOMEM;
    if (ct_hex_decode(e->raw, hex_len / 2, &e->len, hex, hex_len) < 0) {
        entry_free(e);
        return CT_EPARSE;
    }
    e->nonce = nonce;
    e->sent_ms = ms;
    return 0;
}

/* Reads an existing file: checks its header, loads its entries. A last
 * line without its newline was being written when the process died: the
 * transaction was not sent, so it is dropped. */
static int load(ct_eth__outbox *o, char *text, size_t len)
{
    char *line = text, *nl;
    int rc;

    if ((nl = memchr(text, '\n', len)) == NULL)
        return 0; /* not even a whole header: an empty outbox */
    *nl = '\0';
    if (strcmp(line, o->header) != 0)
        return ct_error_set(CT_ESTATE,
                            "outbox %s belongs to another chain or account (it says '%.120s'); "
                            "move it away if that chain is gone",
                            o->path, line);
    for (line = nl + 1; (size_t)(line - text) < len; line = nl + 1) {
        struct entry e;
        if ((nl = memchr(line, '\n', len - (size_t)(line - text))) == NULL)
            break;
        *nl = '\0';
        if ((rc = parse_line(&e, line)) < 0)
            return rc == CT_ENOMEM ? ct_error_set(rc, "outbox: out of memory")
                                   : ct_error_set(CT_EPARSE, "outbox %s: damaged line %.40s",
                                                  o->path, line);
        if (o->n > 0 && e.nonce <= o->v[o->n - 1].nonce) {
            entry_free(&e);
            return ct_error_set(CT_EPARSE, "outbox %s: nonces out of order", o->path);
        }
        if ((rc = push(o, &e)) < 0) {
            entry_free(&e);
            return rc;
        }
    }
    return 0;
}

/* Writes the header and every entry to a new file and renames it over the
 * old one, then reopens it for appending. */
static int rewrite(ct_eth__outbox *o)
{
    ct_buf b;
    int rc, fd;

    ct_buf_init(&b, OUTBOX_MAX_FILE);
    rc = ct_buf_appendf(&b, "%s\n", o->header);
    for (size_t i = 0; i < o->n && rc == 0; i++) {
        char *hex = malloc(2 * o->v[i].len + 1);
        if (hex == NULL) {
            rc = ct_error_set(CT_ENOMEM, "outbox: out of memory");
            break;
        }
        ct_hex_encode(hex, 2 * o->v[i].len + 1, o->v[i].raw, o->v[i].len, false);
        rc = ct_buf_appendf(&b, "%" PRIu64 " %" PRId64 " %s\n", o->v[i].nonce, o->v[i].sent_ms,
                           hex);
        free(hex);
    }
    if (rc == 0)
        rc = ct_file_write_atomic(o->path, b.data, b.len, 0600);
    ct_buf_free(&b);
    if (rc < 0)
        return rc;
    if ((fd = open(o->path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
        return ct_error_set(CT_EIO, "outbox %s: %s", o->path, strerror(errno));
    if (o->fd >= 0)
        close(o->fd);
    o->fd = fd;
    o->last_start = -1;
    return 0;
}

int ct_eth__outbox_open(ct_eth__outbox **out, const char *path, const uint8_t genesis[32],
                        const ct_address *from)
{
    ct_eth__outbox *o = calloc(1, sizeof(*o));
    char g[67], a[CT_ADDRESS_TEXT_SIZE], *text = NULL;
    size_t len = 0;
    int rc;

    if (o == NULL || (o->path = strdup(path)) == NULL) {
        free(o);
        return ct_error_set(CT_ENOMEM, "outbox: out of memory");
    }
    o->fd = -1;
    o->last_start = -1;
    ct_hex_encode(g, sizeof(g), genesis, 32, true);
    ct_address_format(a, from);
    snprintf(o->header, sizeof(o->header), "%s %s %s", HEADER_MAGIC, g, a);
    rc = ct_file_read(&text, &len, path, OUTBOX_MAX_FILE);
    if (rc == CT_ENOTFOUND)
        rc = 0;
    else if (rc == 0)
        rc = load(o, text, len);
    free(text);
    if (rc == 0)
        rc = rewrite(o); /* drops a torn line, writes the header of a new file */
    if (rc < 0) {
        ct_eth__outbox_free(o);
        return rc;
    }
    *out = o;
    return 0;
}

void ct_eth__outbox_free(ct_eth__outbox *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->n; i++)
        entry_free(&o->v[i]);
    free(o->v);
    if (o->fd >= 0)
        close(o->fd);
    free(o->path);
    free(o);
}

uint64_t ct_eth__outbox_next_nonce(const ct_eth__outbox *o)
{
    return o->n > 0 ? o->v[o->n - 1].nonce + 1 : 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int ct_eth__outbox_add(ct_eth__outbox *o, uint64_t nonce, const uint8_t *raw, size_t len)
{
    struct entry e = {.nonce = nonce, .sent_ms = ct_time_now_ms(), .len = len};
    char prefix[48], *hex = NULL;
    off_t at;
    int rc = 0;

    if (o->n > 0 && nonce <= o->v[o->n - 1].nonce)
        return ct_error_set(CT_ESTATE, "outbox: nonce %" PRIu64 " after %" PRIu64, nonce,
                            o->v[o->n - 1].nonce);
    if ((e.raw = malloc(len)) == NULL || (hex = malloc(2 * len + 2)) == NULL) {
        free(e.raw);
        return ct_error_set(CT_ENOMEM, "outbox: out of memory");
    }
    memcpy(e.raw, raw, len);
    ct_hex_encode(hex, 2 * len + 1, raw, len, false);
    hex[2 * len] = '\n';
    hex[2 * len + 1] = '\0';
    snprintf(prefix, sizeof(prefix), "%" PRIu64 " %" PRId64 " ", nonce, e.sent_ms);
    if ((at = lseek(o->fd, 0, SEEK_END)) < 0 || write_all(o->fd, prefix, strlen(prefix)) < 0 ||
        write_all(o->fd, hex, 2 * len + 1) < 0)
        rc = ct_error_set(CT_EIO, "outbox %s: %s", o->path, strerror(errno));
    free(hex);
    if (rc == 0 && (rc = push(o, &e)) == 0) {
        o->last_start = at;
        return 0;
    }
    if (at >= 0 && ftruncate(o->fd, at) < 0)
        ct_log(CT_LOG_WARN, "outbox %s: cannot take back a failed write", o->path);
    free(e.raw);
    return rc;
}

int ct_eth__outbox_sync_fd(ct_eth__outbox *o)
{
    return fcntl(o->fd, F_DUPFD_CLOEXEC, 0);
}

int ct_eth__outbox_drop_last(ct_eth__outbox *o)
{
    if (o->n == 0)
        return 0;
    entry_free(&o->v[--o->n]);
    if (o->last_start >= 0) {
        if (ftruncate(o->fd, o->last_start) < 0 || fdatasync(o->fd) < 0)
            return ct_error_set(CT_EIO, "outbox %s: %s", o->path, strerror(errno));
        o->last_start = -1;
        return 0;
    }
    return rewrite(o);
}

int ct_eth__outbox_sweep(ct_eth__outbox *o, uint64_t chain_nonce, int64_t keep_ms,
                         int64_t quiet_ms,
                         int (*resend)(const uint8_t *raw, size_t len, void *payload),
                         void *payload, size_t *resent)
{
    int64_t now = ct_time_now_ms();
    size_t drop = 0;

    *resent = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (o->v[i].nonce < chain_nonce) {
            if (i == drop && now - o->v[i].sent_ms >= keep_ms)
                drop++;
            continue;
        }
        if (now - o->v[i].sent_ms < quiet_ms)
            continue; /* sent moments ago: the node has it in its pool */
        if (resend(o->v[i].raw, o->v[i].len, payload) < 0) {
            ct_log(CT_LOG_DEBUG, "outbox: re-sending nonce %" PRIu64 ": %s", o->v[i].nonce,
                   ct_error_last());
        } else {
            o->v[i].sent_ms = now; /* in memory: a restart re-sends at once */
            (*resent)++;
        }
    }
    if (drop == 0)
        return 0;
    for (size_t i = 0; i < drop; i++)
        entry_free(&o->v[i]);
    memmove(o->v, o->v + drop, (o->n - drop) * sizeof(*o->v));
    o->n -= drop;
    return rewrite(o);
}
