/* A VC's availability timeline for SLA computation, folded from its
 * events, and the canonical dump that tests compare across reindexes,
 * restarts and reorganisations. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- timeline */

/* Fills c from one event given the VC's state before it (updated in
 * place). Returns: 1 when the event is part of the timeline, 0 when not,
 * CT_EIO when its args are damaged. */
static int timeline_entry(ct_avail_change *c, const char *name, const json_t *args)
{
    const char *host = json_string_value(json_object_get(args, "host"));
    const char *peer = NULL;
    const json_t *avail = json_object_get(args, "available");

    if (strcmp(name, "ContainerRegistered") == 0) {
        c->kind = CT_AVAIL_REGISTERED;
        host = json_string_value(json_object_get(args, "owner"));
        c->available = json_is_true(avail);
    } else if (strcmp(name, "ContainerAvailabilityChanged") == 0) {
        c->kind = json_is_true(avail) ? CT_AVAIL_UP : CT_AVAIL_DOWN;
        c->available = json_is_true(avail);
    } else if (strcmp(name, "ContainerMigrationPending") == 0) {
        c->kind = CT_AVAIL_MIGRATION_START;
        host = json_string_value(json_object_get(args, "from"));
        peer = json_string_value(json_object_get(args, "to"));
    } else if (strcmp(name, "ContainerMigrated") == 0) {
        c->kind = CT_AVAIL_MIGRATION_END;
        host = json_string_value(json_object_get(args, "to"));
        peer = json_string_value(json_object_get(args, "from"));
    } else if (strcmp(name, "ContainerRetired") == 0) {
        c->kind = CT_AVAIL_RETIRED;
        c->available = false;
    } else {
        return 0;
    }
    memset(&c->peer, 0, sizeof(c->peer));
    if (host == NULL || ct_address_parse(&c->host, host) < 0 ||
        (peer != NULL && ct_address_parse(&c->peer, peer) < 0))
        return ct_error_set(CT_EIO, "store: event %llu (%s) has damaged addresses",
                            (unsigned long long)c->event_id, name);
    return 1;
}

/* The reported time of the event, or its block time. */
static int64_t reported_ms(const json_t *args, int64_t block_ms)
{
    const char *iso = json_string_value(json_object_get(args, "timestamp"));
    int64_t ms;

    if (iso != NULL && ct_time_parse(&ms, iso) == 0)
        return ms;
    return block_ms;
}

/* Appends the row's entry to *list (growing it), carrying the state. */
static int timeline_row(sqlite3_stmt *st, ct_avail_change **list, size_t *n, size_t *cap)
{
    const char *text = (const char *)sqlite3_column_text(st, 3);
    const char *name = (const char *)sqlite3_column_text(st, 1);
    ct_avail_change c;
    json_t *args = NULL;
    int rc;

    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        ct_avail_change *p = realloc(*list, ncap * sizeof(*p));
        if (p == NULL)
            return ct_error_set(CT_ENOMEM, "store: out of memory");
        *list = p;
        *cap = ncap;
    }
    c = *n > 0 ? (*list)[*n - 1] : (ct_avail_change){0};
    c.event_id = (uint64_t)sqlite3_column_int64(st, 0);
    c.block_time_ms = sqlite3_column_int64(st, 2) * 1000;
    if (text == NULL || name == NULL ||
        ct_json_parse(&args, text, strlen(text), CT_JSON_MAX_DEPTH) < 0)
        return ct_error_set(CT_EIO, "store: event %llu is damaged", (unsigned long long)c.event_id);
    c.time_ms = reported_ms(args, c.block_time_ms);
    if ((rc = timeline_entry(&c, name, args)) == 1)
        (*list)[(*n)++] = c;
    json_decref(args);
    return rc < 0 ? rc : 0;
}

int ct_store_vc_timeline(ct_store *s, ct_avail_change **out, size_t *n, const uint8_t tag[32])
{
    ct_avail_change *list = NULL;
    size_t len = 0, cap = 0;
    sqlite3_stmt *st;
    int rc = 0, step = SQLITE_DONE;

    ct_store__lock(s);
    if ((st = ct_store__stmt(s, ST_READ_VC_TIMELINE)) == NULL) {
        rc = CT_EIO;
        goto done;
    }
    sqlite3_bind_blob(st, 1, tag, 32, SQLITE_STATIC);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = timeline_row(st, &list, &len, &cap);
    if (rc == 0 && step != SQLITE_DONE)
        rc = ct_store__fail(s, "timeline");
    else if (rc == 0 && len == 0)
        rc = ct_error_set(CT_ENOTFOUND, "store: no such VC");
done:
    if (st != NULL)
        sqlite3_reset(st);
    ct_store__unlock(s);
    if (rc < 0) {
        free(list);
        return rc;
    }
    *out = list;
    *n = len;
    return 0;
}

/* ---------------------------------------------------------------- dump */

/* Every table in primary-key order; the first column names the table. */
static const char *const dump_sql[] = {
    "SELECT 'meta', * FROM meta ORDER BY key",
    "SELECT 'blocks', * FROM blocks ORDER BY number",
    "SELECT 'events', * FROM events ORDER BY id",
    "SELECT 'datacenters', * FROM datacenters ORDER BY wallet",
    "SELECT 'containers', * FROM containers ORDER BY vc_tag",
    "SELECT 'pending', * FROM pending ORDER BY vc_tag",
};

/* Text with quotes, backslashes and control characters escaped, so a
 * value can never be mistaken for a separator. */
static int dump_text(ct_buf *b, const unsigned char *t, size_t len)
{
    int rc = ct_buf_append(b, "\"", 1);

    for (size_t i = 0; i < len && rc == 0; i++) {
        if (t[i] == '"' || t[i] == '\\' || t[i] < 0x20)
            rc = ct_buf_appendf(b, "\\x%02x", t[i]);
        else
            rc = ct_buf_append(b, &t[i], 1);
    }
    return rc < 0 ? rc : ct_buf_append(b, "\"", 1);
}

static int dump_value(ct_buf *b, sqlite3_stmt *st, int col)
{
    const unsigned char *p;
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    int rc = 0;

    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER: return ct_buf_appendf(b, "%lld", (long long)sqlite3_column_int64(st, col));
    case SQLITE_FLOAT: return ct_buf_appendf(b, "%.17g", sqlite3_column_double(st, col));
    case SQLITE_TEXT: p = sqlite3_column_text(st, col); return dump_text(b, p, p != NULL ? len : 0);
    case SQLITE_BLOB:
        p = sqlite3_column_blob(st, col);
        rc = ct_buf_append(b, "x", 1);
        for (size_t i = 0; i < len && rc == 0; i++)
            rc = ct_buf_appendf(b, "%02x", p[i]);
        return rc;
    default: return ct_buf_append(b, "null", 4);
    }
}

static int dump_table(ct_store *s, ct_buf *b, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step = SQLITE_DONE;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return ct_store__fail(s, "dump");
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = ct_buf_appendf(b, "%s", (const char *)sqlite3_column_text(st, 0));
        for (int i = 1; i < sqlite3_column_count(st) && rc == 0; i++) {
            rc = ct_buf_appendf(b, " %s=", sqlite3_column_name(st, i));
            if (rc == 0)
                rc = dump_value(b, st, i);
        }
        if (rc == 0)
            rc = ct_buf_append(b, "\n", 1);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ct_store__fail(s, "dump");
    sqlite3_finalize(st);
    return rc;
}

int ct_store_dump(ct_store *s, char **out)
{
    ct_buf b;
    int rc;

    ct_buf_init(&b, (size_t)1 << 31);
    ct_store__lock(s);
    rc = ct_store__begin(s, false);
    for (size_t i = 0; i < sizeof(dump_sql) / sizeof(dump_sql[0]) && rc == 0; i++)
        rc = dump_table(s, &b, dump_sql[i]);
    if (rc == 0)
        rc = ct_store__commit(s);
    else
        ct_store__rollback(s);
    ct_store__unlock(s);
    if (rc == 0 && (*out = ct_buf_detach(&b)) == NULL)
        rc = ct_error_set(CT_ENOMEM, "store: out of memory");
    ct_buf_free(&b);
    return rc;
}
