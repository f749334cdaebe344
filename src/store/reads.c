/* The reads behind the REST API: datacenters, VC details, flavour, the
 * VC tag of a registration transaction, history (Table 14) and pending
 * migrations, as JSON in the seed's wire format. Each read is one
 * statement, so it sees one snapshot. */
#include "store_int.h"

#include <string.h>

/* ---------------------------------------------------------------- columns */

/* Adds key: v (a new reference, NULL after an allocation failure) to obj
 * and remembers the first failure in *rc. */
static void put(json_t *obj, const char *key, json_t *v, int *rc)
{
    if (json_object_set_new(obj, key, v) < 0 && *rc == 0)
        *rc = ct_error_set(CT_ENOMEM, "store: out of memory building JSON");
}

static json_t *col_address(sqlite3_stmt *st, int col)
{
    char text[CT_ADDRESS_TEXT_SIZE];
    ct_address a;

    memset(&a, 0, sizeof(a));
    if (sqlite3_column_bytes(st, col) == CT_ADDRESS_SIZE)
        memcpy(a.b, sqlite3_column_blob(st, col), CT_ADDRESS_SIZE);
    ct_address_format(text, &a);
    return json_string(text);
}

static json_t *col_hex(sqlite3_stmt *st, int col)
{
    return ct_json_hex(sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col));
}

/* An INTEGER as a JSON integer, TEXT as a string: the wire value stored. */
static json_t *col_value(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_INTEGER)
        return json_integer(sqlite3_column_int64(st, col));
    if (sqlite3_column_type(st, col) == SQLITE_TEXT)
        return json_string((const char *)sqlite3_column_text(st, col));
    return json_null();
}

static json_t *col_text(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    return json_string(t != NULL ? t : "");
}

/* A stored JSON text (our own args); NULL if damaged or out of memory. */
static json_t *col_json(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    json_t *v = NULL;

    if (t == NULL || ct_json_parse(&v, t, strlen(t), CT_JSON_MAX_DEPTH) < 0)
        return NULL;
    return v;
}

static int not_found(const char *what, const uint8_t *key, size_t len)
{
    char hex[67];

    ct_hex_encode(hex, sizeof(hex), key, len, true);
    return ct_error_set(CT_ENOTFOUND, "store: no %s %s", what, hex);
}

/* Steps a single-row read. Returns: 1 row, 0 none, CT_EIO. */
static int step_one(ct_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : ct_store__fail(s, "read");
}

/* ---------------------------------------------------------------- datacenters */

/* Ends a read: resets st (may be NULL), unlocks, and hands the answer to
 * *out on success (freeing it otherwise). Returns: rc. */
static int finish_read(ct_store *s, sqlite3_stmt *st, json_t *answer, json_t **out, int rc)
{
    if (st != NULL)
        sqlite3_reset(st);
    ct_store__unlock(s);
    if (rc == 0)
        *out = json_incref(answer);
    json_decref(answer);
    return rc;
}

int ct_store_dc_by_wallet(ct_store *s, json_t **out, const ct_address *wallet)
{
    json_t *o = json_object();
    char text[CT_ADDRESS_TEXT_SIZE];
    sqlite3_stmt *st;
    int rc = 0, row;

    ct_store__lock(s);
    if ((st = ct_store__stmt(s, ST_READ_DC_BY_WALLET)) == NULL) {
        rc = CT_EIO;
        goto done;
    }
    sqlite3_bind_blob(st, 1, wallet->b, CT_ADDRESS_SIZE, SQLITE_STATIC);
    if ((row = step_one(s, st)) < 0) {
        rc = row;
        goto done;
    }
    put(o, "name", row ? col_text(st, 0) : json_string(""), &rc);
    ct_address_format(text, wallet);
    put(o, "wallet", json_string(text), &rc);
    put(o, "registered", json_boolean(row), &rc);
done:
    return finish_read(s, st, o, out, rc);
}

int ct_store_dc_by_name(ct_store *s, ct_address *out, const char *name)
{
    sqlite3_stmt *st;
    int rc;

    ct_store__lock(s);
    if ((st = ct_store__stmt(s, ST_READ_DC_BY_NAME)) == NULL) {
        ct_store__unlock(s);
        return CT_EIO;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = step_one(s, st);
    if (rc == 1 && sqlite3_column_bytes(st, 0) == CT_ADDRESS_SIZE)
        memcpy(out->b, sqlite3_column_blob(st, 0), CT_ADDRESS_SIZE);
    else if (rc == 0)
        rc = ct_error_set(CT_ENOTFOUND, "store: no datacenter named %.80s", name);
    sqlite3_reset(st);
    ct_store__unlock(s);
    return rc < 0 ? rc : 0;
}

/* Builds the JSON of one result row; sets *rc on failure. */
typedef json_t *(*row_json)(sqlite3_stmt *st, int *rc);

/* Steps st to its end, appending fn(row) to list.
 * Returns: 0, CT_ENOMEM, or CT_EIO naming what (SQLite's message). */
static int collect_rows(ct_store *s, sqlite3_stmt *st, json_t *list, row_json fn, const char *what)
{
    int rc = 0, step = SQLITE_DONE;

    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        if (json_array_append_new(list, fn(st, &rc)) < 0 && rc == 0)
            rc = ct_error_set(CT_ENOMEM, "store: out of memory building JSON");
    if (rc == 0 && step != SQLITE_DONE)
        rc = ct_store__fail(s, what);
    return rc;
}

/* A row of the datacenter listing. */
static json_t *dc_row_json(sqlite3_stmt *st, int *rc)
{
    json_t *o = json_object();

    put(o, "name", col_text(st, 0), rc);
    put(o, "wallet", col_address(st, 1), rc);
    put(o, "registered", json_true(), rc);
    put(o, "registered_at", ct_store_time_json(sqlite3_column_int64(st, 2)), rc);
    put(o, "containers", json_integer(sqlite3_column_int64(st, 3)), rc);
    return o;
}

int ct_store_dc_list(ct_store *s, json_t **out)
{
    json_t *list = json_array();
    sqlite3_stmt *st;
    int rc;

    ct_store__lock(s);
    if ((st = ct_store__stmt(s, ST_READ_DC_LIST)) == NULL)
        rc = CT_EIO;
    else
        rc = collect_rows(s, st, list, dc_row_json, "datacenters");
    return finish_read(s, st, list, out, rc);
}

/* ---------------------------------------------------------------- containers */

/* A row of VC_COLUMNS (see schema.c) as Table 4 + vc_tag, retired. */
static json_t *vc_json(sqlite3_stmt *st, int *rc)
{
    json_t *o = json_object();

    put(o, "vc_type", col_text(st, 1), rc);
    put(o, "available", json_boolean(sqlite3_column_int(st, 2)), rc);
    put(o, "id", col_text(st, 3), rc);
    put(o, "ip_address", col_text(st, 4), rc);
    put(o, "controller", col_text(st, 5), rc);
    put(o, "host", col_address(st, 6), rc);
    put(o, "owner", col_address(st, 7), rc);
    put(o, "updated", ct_store_time_json(sqlite3_column_int64(st, 8)), rc);
    put(o, "created", col_value(st, 9), rc);
    put(o, "vc_tag", col_hex(st, 0), rc);
    put(o, "retired", json_boolean(sqlite3_column_int(st, 10)), rc);
    return o;
}

static json_t *flavor_json(sqlite3_stmt *st, int *rc)
{
    json_t *o = json_object();

    put(o, "vcpu", json_integer(sqlite3_column_int64(st, 11)), rc);
    put(o, "vram", json_integer(sqlite3_column_int64(st, 12)), rc);
    put(o, "vdisk", json_integer(sqlite3_column_int64(st, 13)), rc);
    return o;
}

/* The row of statement which for a VC tag through build; CT_ENOTFOUND for
 * an unknown tag. */
static int vc_read(ct_store *s, json_t **out, const uint8_t tag[32], int which, row_json build)
{
    json_t *o = NULL;
    sqlite3_stmt *st;
    int rc;

    ct_store__lock(s);
    if ((st = ct_store__stmt(s, which)) == NULL) {
        ct_store__unlock(s);
        return CT_EIO;
    }
    sqlite3_bind_blob(st, 1, tag, 32, SQLITE_STATIC);
    rc = step_one(s, st);
    if (rc == 1) {
        rc = 0;
        o = build(st, &rc);
    } else if (rc == 0) {
        rc = not_found("VC", tag, 32);
    }
    return finish_read(s, st, o, out, rc);
}

int ct_store_vc_details(ct_store *s, json_t **out, const uint8_t tag[32])
{
    return vc_read(s, out, tag, ST_READ_VC_DETAILS, vc_json);
}

int ct_store_vc_flavor(ct_store *s, json_t **out, const uint8_t tag[32])
{
    return vc_read(s, out, tag, ST_READ_VC_DETAILS, flavor_json);
}

int ct_store_vc_list(ct_store *s, json_t **out, const ct_store_vc_filter *f)
{
    const ct_address *host = f->host;
    size_t limit = f->limit, offset = f->offset;
    int available = f->available;

    json_t *list = json_array();
    sqlite3_stmt *st;
    int rc = CT_EIO;

    ct_store__lock(s);
    if ((st = ct_store__stmt(s, ST_READ_VC_LIST)) != NULL) {
        if (host != NULL)
            sqlite3_bind_blob(st, 1, host->b, CT_ADDRESS_SIZE, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, available < 0 ? -1 : available != 0);
        sqlite3_bind_int64(st, 3, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
        sqlite3_bind_int64(st, 4, offset > INT64_MAX ? INT64_MAX : (int64_t)offset);
        if (f->id != NULL)
            sqlite3_bind_text(st, 5, f->id, -1, SQLITE_STATIC);
        rc = collect_rows(s, st, list, vc_json, "containers");
    }
    return finish_read(s, st, list, out, rc);
}

/* ---------------------------------------------------------------- registration tx */

/* The first registration of the transaction as Table 11. */
static json_t *tag_json(sqlite3_stmt *st, int *rc)
{
    json_t *o = json_object(), *args = col_json(st, 1);

    if (args == NULL && *rc == 0)
        *rc = ct_error_set(CT_EIO, "store: a registration event has damaged args");
    put(o, "vc_tag", col_hex(st, 0), rc);
    put(o, "owner", json_incref(json_object_get(args, "owner")), rc);
    put(o, "created", json_incref(json_object_get(args, "timestamp")), rc);
    put(o, "block_number", json_integer(sqlite3_column_int64(st, 2)), rc);
    put(o, "block_hash", col_hex(st, 3), rc);
    json_decref(args);
    return o;
}

int ct_store_vc_tag_by_tx(ct_store *s, json_t **out, const uint8_t tx_hash[32])
{
    json_t *o = NULL, *tags = json_array();
    sqlite3_stmt *st;
    int rc = 0, step = SQLITE_DONE;

    ct_store__lock(s);
    if ((st = ct_store__stmt(s, ST_READ_VC_BY_TX)) == NULL) {
        rc = CT_EIO;
        goto done;
    }
    sqlite3_bind_blob(st, 1, tx_hash, 32, SQLITE_STATIC);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (o == NULL)
            o = tag_json(st, &rc);
        if (json_array_append_new(tags, col_hex(st, 0)) < 0 && rc == 0)
            rc = ct_error_set(CT_ENOMEM, "store: out of memory building JSON");
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ct_store__fail(s, "vc tag");
    else if (rc == 0 && o == NULL)
        rc = not_found("VC registration in transaction", tx_hash, 32);
    else if (rc == 0 && json_array_size(tags) > 1)
        put(o, "vc_tags", json_incref(tags), &rc);
done:
    json_decref(tags);
    return finish_read(s, st, o, out, rc);
}

/* ---------------------------------------------------------------- history */

/* A row of ST_READ_VC_HISTORY as Table 14. */
static json_t *event_json(sqlite3_stmt *st, int *rc)
{
    json_t *o = json_object(), *args = col_json(st, 2);

    if (args == NULL && *rc == 0)
        *rc = ct_error_set(CT_EIO, "store: event %lld has damaged args",
                           (long long)sqlite3_column_int64(st, 0));
    put(o, "id", json_integer(sqlite3_column_int64(st, 0)), rc);
    put(o, "name", col_text(st, 1), rc);
    put(o, "args", args, rc);
    put(o, "log_index", json_integer(sqlite3_column_int64(st, 3)), rc);
    put(o, "tx_index", json_integer(sqlite3_column_int64(st, 4)), rc);
    put(o, "tx_hash", col_hex(st, 5), rc);
    put(o, "block_number", json_integer(sqlite3_column_int64(st, 6)), rc);
    put(o, "block_hash", col_hex(st, 7), rc);
    put(o, "address", col_address(st, 9), rc);
    put(o, "created", ct_store_time_json(sqlite3_column_int64(st, 8)), rc);
    return o;
}

int ct_store_vc_history(ct_store *s, json_t **out, const uint8_t tag[32])
{
    json_t *list = json_array();
    sqlite3_stmt *st;
    int rc = CT_EIO;

    ct_store__lock(s);
    if ((st = ct_store__stmt(s, ST_READ_VC_HISTORY)) != NULL) {
        sqlite3_bind_blob(st, 1, tag, 32, SQLITE_STATIC);
        rc = collect_rows(s, st, list, event_json, "history");
        if (rc == 0 && json_array_size(list) == 0)
            rc = not_found("VC", tag, 32);
    }
    return finish_read(s, st, list, out, rc);
}

/* ---------------------------------------------------------------- pending */

/* Table 7, or Listing 10's zeros when there is no pending migration. The
 * tag is left null for ct_store_vc_pending to fill, keeping key order. */
static json_t *pending_json(sqlite3_stmt *st, int *rc)
{
    static const uint8_t zero[32];
    bool none = sqlite3_column_type(st, 0) == SQLITE_NULL;
    json_t *o = json_object();

    put(o, "vc_tag", none ? ct_json_hex(zero, 32) : json_null(), rc);
    put(o, "from_address", col_address(st, 0), rc);
    put(o, "to_address", col_address(st, 1), rc);
    put(o, "price", none ? json_integer(0) : col_value(st, 2), rc);
    put(o, "invoice", none ? json_integer(0) : col_value(st, 3), rc);
    return o;
}

int ct_store_vc_pending(ct_store *s, json_t **out, const uint8_t tag[32])
{
    int rc = vc_read(s, out, tag, ST_READ_VC_PENDING, pending_json);

    if (rc == 0 && json_is_null(json_object_get(*out, "vc_tag")) &&
        json_object_set_new(*out, "vc_tag", ct_json_hex(tag, 32)) < 0) {
        json_decref(*out);
        return ct_error_set(CT_ENOMEM, "store: out of memory building JSON");
    }
    return rc;
}
