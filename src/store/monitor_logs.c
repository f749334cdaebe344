/* The event monitor's logs: read from the node into the cache after each
 * follower round, only up to the block the follower has processed and
 * checked (so a reorganisation's rewind removes them with the events),
 * decoded with each registration's ABI; and read back in pages. */
#include "store_int.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ranges read per poll, so a long catch-up does not hold up the next
 * round of the contract's own events. */
#define MAX_BATCHES 32

/* One registration being followed: its events' signatures. */
struct watcher {
    int64_t id;
    ct_address address;
    size_t n;
    ct_abi_sig **sigs;
    uint8_t (*topic0)[32];
};

/* The registrations that have read up to the same block: one
 * eth_getLogs for [a, b] serves them all. */
struct group {
    uint64_t a, b;
    struct watcher *w;
    size_t n;
};

/* A decoded log for one registration. */
struct row {
    int64_t id;
    uint64_t block, index;
    uint8_t tx[32];
    const char *event; /* borrowed from the signature */
    char *args;
};

static void watcher_clear(struct watcher *w)
{
    for (size_t i = 0; w->sigs != NULL && i < w->n; i++)
        ct_abi_sig_free(w->sigs[i]);
    free(w->sigs);
    free(w->topic0);
}

static void group_clear(struct group *g)
{
    for (size_t i = 0; i < g->n; i++)
        watcher_clear(&g->w[i]);
    free(g->w);
    memset(g, 0, sizeof(*g));
}

/* Signatures of a registration's watched events. A registration whose
 * ABI no longer parses watches nothing (it was checked when added). */
static int watcher_init(struct watcher *w, const char *abi_text, const char *names_text)
{
    json_t *abi = NULL, *names = NULL, *list = NULL;
    int rc = 0;

    if (abi_text == NULL || names_text == NULL ||
        ct_json_parse(&abi, abi_text, strlen(abi_text), CT_JSON_MAX_DEPTH) < 0 ||
        ct_json_parse(&names, names_text, strlen(names_text), CT_JSON_MAX_DEPTH) < 0 ||
        ct_store_monitor_watched(&list, abi, names) < 0)
        goto done;
    w->sigs = calloc(json_array_size(list), sizeof(*w->sigs));
    w->topic0 = calloc(json_array_size(list), sizeof(*w->topic0));
    if (w->sigs == NULL || w->topic0 == NULL) {
        rc = ct_error_set(CT_ENOMEM, "monitor: out of memory");
        goto done;
    }
    for (; w->n < json_array_size(list); w->n++)
        if (ct_abi_sig_from_json(&w->sigs[w->n], json_array_get(list, w->n)) < 0 ||
            ct_abi_topic(w->topic0[w->n], w->sigs[w->n]) < 0)
            break;
done:
    json_decref(abi);
    json_decref(names);
    json_decref(list);
    return rc;
}

/* Returns: the first value of a one-column query with ?1 = p, or -1 for
 * NULL or no row. Call with the lock. */
static int64_t query_int(ct_store *s, const char *sql, int64_t p)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, p) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int load_watchers(ct_store *s, struct group *g)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, address, abi, events FROM monitors WHERE next_block = ?1"
                           " ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return ct_store__fail(s, "monitor follow");
    sqlite3_bind_int64(st, 1, (int64_t)g->a);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct watcher *grown = realloc(g->w, (g->n + 1) * sizeof(*grown));
        if (grown == NULL) {
            rc = ct_error_set(CT_ENOMEM, "monitor: out of memory");
            break;
        }
        g->w = grown;
        struct watcher *w = &g->w[g->n++];
        memset(w, 0, sizeof(*w));
        w->id = sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == CT_ADDRESS_SIZE)
            memcpy(w->address.b, sqlite3_column_blob(st, 1), CT_ADDRESS_SIZE);
        rc = watcher_init(w, (const char *)sqlite3_column_text(st, 2),
                          (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    return rc;
}

/* The registrations furthest behind, and the blocks to read for them: up
 * to head, max_range, and the next registration's place (so groups
 * merge). Returns: 0, 1 (all have read up to head), or an error. */
static int next_group(ct_store *s, struct group *g, uint64_t head, uint64_t max_range)
{
    int64_t a, a2;
    int rc;

    ct_store__lock(s);
    a = query_int(s, "SELECT min(next_block) FROM monitors WHERE next_block <= ?1",
                  (int64_t)head);
    a2 = a < 0 ? -1 : query_int(s, "SELECT min(next_block) FROM monitors WHERE next_block > ?1", a);
    g->a = (uint64_t)a;
    rc = a < 0 ? 1 : load_watchers(s, g);
    ct_store__unlock(s);
    if (rc != 0)
        return rc;
    g->b = head - g->a >= max_range ? g->a + max_range - 1 : head;
    if (a2 >= 0 && (uint64_t)a2 <= g->b)
        g->b = (uint64_t)a2 - 1;
    return 0;
}

/* ---------------------------------------------------------------- the node */

/* The eth_getLogs filter of a group: its addresses, any watched topic 0.
 * Returns: NULL when nothing is watched (or out of memory). */
static json_t *group_filter(const struct group *g)
{
    json_t *addrs = json_array(), *t0s = json_array(), *f = NULL;
    char from[24], to[24], text[CT_ADDRESS_TEXT_SIZE];

    for (size_t i = 0; i < g->n; i++) {
        ct_address_format(text, &g->w[i].address);
        json_array_append_new(addrs, json_string(text));
        for (size_t k = 0; k < g->w[i].n; k++)
            json_array_append_new(t0s, ct_json_hex(g->w[i].topic0[k], 32));
    }
    snprintf(from, sizeof(from), "0x%" PRIx64, g->a);
    snprintf(to, sizeof(to), "0x%" PRIx64, g->b);
    if (json_array_size(t0s) > 0)
        f = json_pack("{s:O, s:s, s:s, s:[O]}", "address", addrs, "fromBlock", from, "toBlock", to,
                      "topics", t0s);
    json_decref(addrs);
    json_decref(t0s);
    return f;
}

/* Reads the group's logs, halving its range while the node refuses it or
 * its answer is too large. Out: *logs new ref (an empty array when
 * nothing is watched). */
static int fetch(ct_rpc *rpc, struct group *g, json_t **logs, uint64_t *calls)
{
    int rc;

    for (;;) {
        json_t *filter = group_filter(g);
        if (filter == NULL) {
            *logs = json_array();
            return 0;
        }
        (*calls)++;
        rc = ct_rpc_get_logs(rpc, logs, filter);
        json_decref(filter);
        if (rc == 0 && !json_is_array(*logs)) {
            json_decref(*logs);
            return ct_error_set(CT_EPARSE, "monitor: eth_getLogs did not answer an array");
        }
        if (rc == 0 || (rc != CT_ERPC && rc != CT_ELIMIT && rc != CT_ETIMEOUT) || g->b == g->a)
            return rc;
        g->b = g->a + (g->b - g->a) / 2;
    }
}

/* Whether the node's block number is still hash (the follower's cursor):
 * then the logs just read, all at or below it, are on the cache's chain.
 * Returns: 0 yes, 1 no (a reorganisation the next round heals), error. */
static int still_on(ct_rpc *rpc, uint64_t number, const uint8_t hash[32], uint64_t *calls)
{
    char tag[24];
    json_t *b = NULL;
    ct_store__header h;
    int rc;

    snprintf(tag, sizeof(tag), "0x%" PRIx64, number);
    (*calls)++;
    rc = ct_rpc_get_block_by_number(rpc, &b, tag, false);
    if (rc == CT_ENOTFOUND || (rc == 0 && json_is_null(b)))
        rc = 1;
    else if (rc == 0 && (rc = ct_store__parse_header(&h, b)) == 0)
        rc = memcmp(h.hash, hash, 32) != 0;
    json_decref(b);
    return rc;
}

/* ---------------------------------------------------------------- decoding */

/* Decodes log for watcher w. Returns: 0 with *r filled, 1 when it is not
 * one of w's events, or CT_ENOMEM. */
static int decode_for(struct row *r, const struct watcher *w, const ct_store__log *it,
                      const uint8_t (*topics)[32], size_t n, const uint8_t *data, size_t dl)
{
    json_t *args = NULL;

    if (n == 0 || !ct_address_equal(&it->address, &w->address))
        return 1;
    for (size_t i = 0; i < w->n; i++) {
        if (memcmp(w->topic0[i], topics[0], 32) != 0 ||
            ct_abi_decode_log(&args, w->sigs[i], false, topics, n, data, dl) < 0)
            continue;
        *r = (struct row){.id = w->id, .block = it->block_number, .index = it->log_index,
                          .event = w->sigs[i]->name};
        memcpy(r->tx, it->tx_hash, 32);
        int rc = ct_json_dump(&r->args, args);
        json_decref(args);
        return rc;
    }
    return 1;
}

/* The topics and data of a log. Returns: 0 or CT_EPARSE. */
static int log_parts(const json_t *log, uint8_t topics[4][32], size_t *n, uint8_t **data,
                     size_t *dl)
{
    const json_t *list = json_object_get(log, "topics"), *t;
    size_t i, len;

    if (!json_is_array(list) || json_array_size(list) > 4)
        return ct_error_set(CT_EPARSE, "monitor: log topics malformed");
    json_array_foreach (list, i, t)
        if (!json_is_string(t) || json_string_length(t) != 66 ||
            ct_hex_decode(topics[i], 32, &len, json_string_value(t), 66) < 0)
            return ct_error_set(CT_EPARSE, "monitor: log topic %zu malformed", i);
    *n = json_array_size(list);
    if (ct_hex_decode_new(data, dl, json_string_value(json_object_get(log, "data"))) < 0)
        return ct_error_set(CT_EPARSE, "monitor: log data malformed");
    return 0;
}

/* Decodes the logs of [a, b] for every watcher of the group.
 * Out: *rows (malloc'd), *n_rows. */
static int decode_logs(const struct group *g, const json_t *logs, struct row **rows, size_t *n_rows)
{
    size_t n = json_array_size(logs), cap = n * g->n + 1, i;
    int rc = 0;

    *n_rows = 0;
    if ((*rows = calloc(cap, sizeof(**rows))) == NULL)
        return ct_error_set(CT_ENOMEM, "monitor: out of memory");
    for (i = 0; i < n && rc >= 0; i++) {
        uint8_t topics[4][32], *data = NULL;
        size_t nt = 0, dl = 0;
        ct_store__log it;
        if ((rc = ct_store__parse_log(&it, json_array_get(logs, i))) < 0 ||
            (rc = log_parts(it.json, topics, &nt, &data, &dl)) < 0)
            break;
        if (!it.removed && (it.block_number < g->a || it.block_number > g->b))
            rc = ct_error_set(CT_EPARSE, "monitor: log of block %" PRIu64 " outside the range",
                              it.block_number);
        for (size_t k = 0; k < g->n && rc >= 0 && !it.removed; k++)
            if ((rc = decode_for(&(*rows)[*n_rows], &g->w[k], &it,
                                 (const uint8_t(*)[32])topics, nt, data, dl)) == 0)
                (*n_rows)++;
        free(data);
    }
    return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- storing */

static int insert_row(ct_store *s, const struct row *r)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO monitor_logs (monitor, block_number,"
                           " log_index, tx_hash, event, args) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK)
        return ct_store__fail(s, "monitor log");
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, (int64_t)r->block);
    sqlite3_bind_int64(st, 3, (int64_t)r->index);
    sqlite3_bind_blob(st, 4, r->tx, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->event, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->args, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = ct_store__fail(s, "monitor log");
    sqlite3_finalize(st);
    return rc;
}

/* Moves watcher w from a to b + 1 with its rows, if it is still there (not
 * deleted, not rewound meanwhile). Call inside a write transaction. */
static int advance(ct_store *s, const struct group *g, const struct watcher *w,
                   const struct row *rows, size_t n_rows)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(s->db,
                           "UPDATE monitors SET next_block = ?2 WHERE id = ?1 AND next_block = ?3",
                           -1, &st, NULL) != SQLITE_OK)
        return ct_store__fail(s, "monitor follow");
    sqlite3_bind_int64(st, 1, w->id);
    sqlite3_bind_int64(st, 2, (int64_t)g->b + 1);
    sqlite3_bind_int64(st, 3, (int64_t)g->a);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = ct_store__fail(s, "monitor follow");
    bool moved = rc == 0 && sqlite3_changes(s->db) == 1;
    sqlite3_finalize(st);
    for (size_t i = 0; moved && i < n_rows && rc == 0; i++)
        if (rows[i].id == w->id)
            rc = insert_row(s, &rows[i]);
    return rc;
}

/* Writes the group's rows in one transaction, if the follower's cursor is
 * still (number, hash). */
static int store_group(ct_store *s, const struct group *g, const struct row *rows, size_t n_rows,
                       uint64_t number, const uint8_t hash[32])
{
    uint8_t now_hash[32];
    uint64_t now;
    int rc;

    ct_store__lock(s);
    if ((rc = ct_store__begin(s, true)) == 0)
        rc = ct_store__cursor_get(s, &now, now_hash);
    if (rc == CT_ENOTFOUND || (rc == 0 && (now != number || memcmp(now_hash, hash, 32) != 0)))
        rc = 1; /* rewound or reset meanwhile: read again next time */
    for (size_t i = 0; i < g->n && rc == 0; i++)
        rc = advance(s, g, &g->w[i], rows, n_rows);
    if (rc == 0)
        rc = ct_store__commit(s);
    if (rc != 0)
        ct_store__rollback(s);
    ct_store__unlock(s);
    return rc;
}

static void rows_free(struct row *rows, size_t n)
{
    for (size_t i = 0; rows != NULL && i < n; i++)
        free(rows[i].args);
    free(rows);
}

/* One group: read, check, decode, store. Returns: 0, 1 (stop for this
 * poll: all caught up, or the chain moved), or an error. */
static int follow_one(ct_store *s, ct_rpc *rpc, uint64_t number, const uint8_t hash[32],
                      uint64_t max_range, uint64_t *calls)
{
    struct group g = {0};
    struct row *rows = NULL;
    size_t n_rows = 0;
    json_t *logs = NULL;
    int rc;

    if ((rc = next_group(s, &g, number, max_range)) == 0 && (rc = fetch(rpc, &g, &logs, calls)) == 0 &&
        (rc = still_on(rpc, number, hash, calls)) == 0 &&
        (rc = decode_logs(&g, logs, &rows, &n_rows)) == 0)
        rc = store_group(s, &g, rows, n_rows, number, hash);
    rows_free(rows, n_rows);
    json_decref(logs);
    group_clear(&g);
    return rc;
}

int ct_store__monitors_follow(ct_store *s, ct_rpc *rpc, uint64_t max_range, uint64_t *calls)
{
    uint8_t hash[32];
    uint64_t number;
    int rc;

    ct_store__lock(s);
    rc = ct_store__cursor_get(s, &number, hash);
    ct_store__unlock(s);
    if (rc == CT_ENOTFOUND)
        return 0;
    for (int i = 0; i < MAX_BATCHES && rc == 0; i++)
        rc = follow_one(s, rpc, number, hash, max_range, calls);
    return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- pages */

static int parse_cursor(const char *text, int64_t *block, int64_t *index)
{
    const char *dash = text != NULL ? strchr(text, '-') : NULL;
    char head[24];
    uint64_t b, i;

    if (dash == NULL || (size_t)(dash - text) >= sizeof(head))
        return ct_error_set(CT_EINVAL, "cursor must be block-logindex, as 'next' gives it");
    memcpy(head, text, (size_t)(dash - text));
    head[dash - text] = '\0';
    if (ct_parse_uint(&b, head, INT64_MAX) < 0 || ct_parse_uint(&i, dash + 1, INT64_MAX) < 0)
        return ct_error_set(CT_EINVAL, "cursor must be block-logindex, as 'next' gives it");
    *block = (int64_t)b;
    *index = (int64_t)i;
    return 0;
}

static json_t *log_row(sqlite3_stmt *st)
{
    const char *t = (const char *)sqlite3_column_text(st, 4);
    json_t *args = NULL;

    if (t == NULL || ct_json_parse(&args, t, strlen(t), CT_JSON_MAX_DEPTH) < 0)
        args = json_object();
    return json_pack("{s:I, s:o, s:I, s:s, s:o}", "block_number",
                     (json_int_t)sqlite3_column_int64(st, 0), "tx_hash",
                     ct_json_hex(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2)),
                     "log_index", (json_int_t)sqlite3_column_int64(st, 1), "event",
                     (const char *)sqlite3_column_text(st, 3), "args", args);
}

/* Reads up to limit logs after the cursor (block, index; block -1: from
 * the start) into page; *more when another follows. */
static int read_page(ct_store *s, json_t *page, int64_t id, bool asc, int64_t block, int64_t index,
                     size_t limit, bool *more)
{
    static const char asc_sql[] =
        "SELECT block_number, log_index, tx_hash, event, args FROM monitor_logs"
        " WHERE monitor = ?1 AND (?2 < 0 OR (block_number, log_index) > (?2, ?3))"
        " ORDER BY block_number, log_index LIMIT ?4";
    static const char desc_sql[] =
        "SELECT block_number, log_index, tx_hash, event, args FROM monitor_logs"
        " WHERE monitor = ?1 AND (?2 < 0 OR (block_number, log_index) < (?2, ?3))"
        " ORDER BY block_number DESC, log_index DESC LIMIT ?4";
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(s->db, asc ? asc_sql : desc_sql, -1, &st, NULL) != SQLITE_OK)
        return ct_store__fail(s, "monitor logs");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, block);
    sqlite3_bind_int64(st, 3, index);
    sqlite3_bind_int64(st, 4, (int64_t)limit + 1);
    *more = false;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (json_array_size(page) == limit) {
            *more = true;
            break;
        }
        if (json_array_append_new(page, log_row(st)) < 0) {
            rc = ct_error_set(CT_ENOMEM, "monitor: out of memory");
            break;
        }
    }
    if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = ct_store__fail(s, "monitor logs");
    sqlite3_finalize(st);
    return rc;
}

static json_t *next_cursor(const json_t *page, bool more)
{
    const json_t *last = json_array_get(page, json_array_size(page) - 1);
    char text[48];

    if (!more || last == NULL)
        return json_null();
    snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(last, "block_number")),
             json_integer_value(json_object_get(last, "log_index")));
    return json_string(text);
}

int ct_store_monitor_logs(ct_store *s, json_t **out, int64_t id, bool oldest_first,
                          const char *after, size_t limit)
{
    int64_t block = -1, index = 0;
    json_t *m = NULL, *page = json_array();
    bool more = false;
    int rc;

    assert(limit > 0 && limit <= CT_STORE_MONITOR_PAGE_MAX);
    if (after != NULL && (rc = parse_cursor(after, &block, &index)) < 0) {
        json_decref(page);
        return rc;
    }
    ct_store__lock(s);
    if ((rc = ct_store__begin(s, false)) == 0 && (rc = ct_store__monitor_get(s, &m, id)) == 0 &&
        (rc = read_page(s, page, id, oldest_first, block, index, limit, &more)) == 0)
        rc = ct_store__commit(s);
    if (rc < 0)
        ct_store__rollback(s);
    ct_store__unlock(s);
    if (rc == 0 && (*out = json_pack("{s:O, s:O, s:o}", "monitor", m, "logs", page, "next",
                                     next_cursor(page, more))) == NULL)
        rc = ct_error_set(CT_ENOMEM, "monitor: out of memory");
    json_decref(m);
    json_decref(page);
    return rc;
}
