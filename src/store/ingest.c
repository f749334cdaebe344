/* The write path: blocks and events appended in chain order, the fold of
 * events into the derived tables (datacenters, containers, pending
 * migrations), and the rewind that undoes a reorganised tail and replays
 * what remains for the VCs and DCs it touched. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- args */

/* A named arg of the event being applied; errors name both. */
typedef struct arg_ctx {
    int64_t id;
    const char *event;
    const json_t *args;
} arg_ctx;

static int arg_missing(const arg_ctx *c, const char *key, const char *what)
{
    return ct_error_set(CT_EPARSE, "store: event %lld (%s): arg %s is not %s", (long long)c->id,
                        c->event, key, what);
}

static int arg_string(const arg_ctx *c, const char *key, const char **out)
{
    *out = json_string_value(json_object_get(c->args, key));
    return *out != NULL ? 0 : arg_missing(c, key, "a string");
}

static int arg_bool(const arg_ctx *c, const char *key, int *out)
{
    const json_t *v = json_object_get(c->args, key);

    if (!json_is_boolean(v))
        return arg_missing(c, key, "a boolean");
    *out = json_is_true(v);
    return 0;
}

static int arg_address(const arg_ctx *c, const char *key, ct_address *out)
{
    const char *s = json_string_value(json_object_get(c->args, key));

    if (s == NULL || ct_address_parse(out, s) < 0)
        return arg_missing(c, key, "an address");
    return 0;
}

static int arg_bytes32(const arg_ctx *c, const char *key, uint8_t out[32])
{
    const char *s = json_string_value(json_object_get(c->args, key));
    size_t len;

    if (s == NULL || strlen(s) != 66 || ct_hex_decode(out, 32, &len, s, 66) < 0)
        return arg_missing(c, key, "32 bytes of hex");
    return 0;
}

/* Binds a wire value (integer, or string for big numbers and times) as
 * is, so reads give back exactly what was decoded. */
static int bind_value(const arg_ctx *c, sqlite3_stmt *st, int idx, const char *key)
{
    const json_t *v = json_object_get(c->args, key);

    if (json_is_integer(v))
        return sqlite3_bind_int64(st, idx, json_integer_value(v)) == SQLITE_OK ? 0 : CT_ENOMEM;
    if (json_is_string(v))
        return sqlite3_bind_text(st, idx, json_string_value(v), -1, SQLITE_TRANSIENT) == SQLITE_OK
                   ? 0
                   : CT_ENOMEM;
    return arg_missing(c, key, "a number or a time");
}

static int bind_int_arg(const arg_ctx *c, sqlite3_stmt *st, int idx, const char *key)
{
    const json_t *v = json_object_get(c->args, key);

    if (!json_is_integer(v))
        return arg_missing(c, key, "an integer");
    sqlite3_bind_int64(st, idx, json_integer_value(v));
    return 0;
}

static int run(ct_store *s, sqlite3_stmt *st, int rc)
{
    if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
        rc = ct_store__fail(s, "apply");
    sqlite3_reset(st);
    return rc;
}

/* ---------------------------------------------------------------- the fold */

static int apply_dc_registered(ct_store *s, const arg_ctx *c, int64_t block_time)
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_DC_ADD);
    const char *name;
    ct_address wallet;
    int rc;

    if (st == NULL)
        return CT_EIO;
    if ((rc = arg_address(c, "wallet", &wallet)) == 0 && (rc = arg_string(c, "name", &name)) == 0) {
        sqlite3_bind_blob(st, 1, wallet.b, CT_ADDRESS_SIZE, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, block_time);
        sqlite3_bind_int64(st, 4, c->id);
    }
    return run(s, st, rc);
}

static int apply_vc_registered(ct_store *s, const arg_ctx *c, int64_t block_time)
{
    static const char *const text_args[] = {"vcType", "id", "ipAddress", "controller"};
    sqlite3_stmt *st = ct_store__stmt(s, ST_VC_ADD);
    uint8_t tag[32];
    ct_address owner;
    const char *text;
    int rc, available;

    if (st == NULL)
        return CT_EIO;
    if ((rc = arg_bytes32(c, "vcTag", tag)) < 0 || (rc = arg_address(c, "owner", &owner)) < 0 ||
        (rc = arg_bool(c, "available", &available)) < 0)
        return run(s, st, rc);
    sqlite3_bind_blob(st, 1, tag, 32, SQLITE_TRANSIENT);
    for (int i = 0; i < 4 && rc == 0; i++)
        if ((rc = arg_string(c, text_args[i], &text)) == 0)
            sqlite3_bind_text(st, 2 + i, text, -1, SQLITE_TRANSIENT);
    if (rc == 0 && (rc = bind_int_arg(c, st, 6, "vcpu")) == 0 &&
        (rc = bind_int_arg(c, st, 7, "vram")) == 0 && (rc = bind_int_arg(c, st, 8, "vdisk")) == 0)
        rc = bind_value(c, st, 10, "timestamp");
    sqlite3_bind_blob(st, 9, owner.b, CT_ADDRESS_SIZE, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 11, block_time);
    sqlite3_bind_int(st, 12, available);
    sqlite3_bind_int64(st, 13, c->id);
    return run(s, st, rc);
}

static int apply_availability(ct_store *s, const arg_ctx *c, int64_t block_time)
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_VC_AVAIL);
    uint8_t tag[32];
    int rc, available;

    if (st == NULL)
        return CT_EIO;
    if ((rc = arg_bytes32(c, "vcTag", tag)) == 0 &&
        (rc = arg_bool(c, "available", &available)) == 0) {
        sqlite3_bind_blob(st, 1, tag, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, available);
        sqlite3_bind_int64(st, 3, block_time);
    }
    return run(s, st, rc);
}

static int apply_pending(ct_store *s, const arg_ctx *c)
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_PENDING_SET);
    uint8_t tag[32];
    ct_address from, to;
    int rc;

    if (st == NULL)
        return CT_EIO;
    if ((rc = arg_bytes32(c, "vcTag", tag)) == 0 && (rc = arg_address(c, "from", &from)) == 0 &&
        (rc = arg_address(c, "to", &to)) == 0 && (rc = bind_value(c, st, 4, "price")) == 0 &&
        (rc = bind_value(c, st, 5, "invoice")) == 0 &&
        (rc = bind_value(c, st, 6, "timestamp")) == 0) {
        sqlite3_bind_blob(st, 1, tag, 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 2, from.b, CT_ADDRESS_SIZE, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, to.b, CT_ADDRESS_SIZE, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 7, c->id);
    }
    return run(s, st, rc);
}

static int pending_delete(ct_store *s, const uint8_t tag[32])
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_PENDING_DEL);

    if (st == NULL)
        return CT_EIO;
    sqlite3_bind_blob(st, 1, tag, 32, SQLITE_TRANSIENT);
    return run(s, st, 0);
}

static int apply_migrated(ct_store *s, const arg_ctx *c, int64_t block_time)
{
    static const char *const text_args[] = {"id", "ipAddress", "controller"};
    sqlite3_stmt *st = ct_store__stmt(s, ST_VC_MIGRATED);
    uint8_t tag[32];
    ct_address to;
    const char *text;
    int rc;

    if (st == NULL)
        return CT_EIO;
    if ((rc = arg_bytes32(c, "vcTag", tag)) == 0 && (rc = arg_address(c, "to", &to)) == 0) {
        sqlite3_bind_blob(st, 1, tag, 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 5, to.b, CT_ADDRESS_SIZE, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 6, block_time);
    }
    for (int i = 0; i < 3 && rc == 0; i++)
        if ((rc = arg_string(c, text_args[i], &text)) == 0)
            sqlite3_bind_text(st, 2 + i, text, -1, SQLITE_TRANSIENT);
    if ((rc = run(s, st, rc)) < 0)
        return rc;
    return pending_delete(s, tag);
}

static int apply_retired(ct_store *s, const arg_ctx *c, int64_t block_time)
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_VC_RETIRED);
    uint8_t tag[32];
    int rc;

    if (st == NULL)
        return CT_EIO;
    if ((rc = arg_bytes32(c, "vcTag", tag)) == 0) {
        sqlite3_bind_blob(st, 1, tag, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, block_time);
    }
    if ((rc = run(s, st, rc)) < 0)
        return rc;
    return pending_delete(s, tag);
}

/* Mirrors what the contract does to its own state for each event; events
 * that change no derived row (DatacenterAdmitted) are only stored. */
int ct_store__apply(ct_store *s, int64_t id, const char *name, int64_t block_time,
                    const json_t *args)
{
    arg_ctx c = {id, name, args};

    if (strcmp(name, "DatacenterRegistered") == 0)
        return apply_dc_registered(s, &c, block_time);
    if (strcmp(name, "ContainerRegistered") == 0)
        return apply_vc_registered(s, &c, block_time);
    if (strcmp(name, "ContainerAvailabilityChanged") == 0)
        return apply_availability(s, &c, block_time);
    if (strcmp(name, "ContainerMigrationPending") == 0)
        return apply_pending(s, &c);
    if (strcmp(name, "ContainerMigrated") == 0)
        return apply_migrated(s, &c, block_time);
    if (strcmp(name, "ContainerRetired") == 0)
        return apply_retired(s, &c, block_time);
    return 0;
}

/* ---------------------------------------------------------------- append */

int ct_store__block_add(ct_store *s, uint64_t number, const uint8_t hash[32],
                        const uint8_t parent[32], int64_t time)
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_BLOCK_ADD);

    if (st == NULL)
        return CT_EIO;
    sqlite3_bind_int64(st, 1, (int64_t)number);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 3, parent, 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, time);
    return run(s, st, 0);
}

int ct_store__block_count(ct_store *s, uint64_t *out)
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_BLOCK_COUNT);
    int rc;

    if (st == NULL)
        return CT_EIO;
    rc = sqlite3_step(st) == SQLITE_ROW ? 0 : ct_store__fail(s, "blocks");
    *out = rc == 0 ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc;
}

int ct_store__block_at(ct_store *s, uint64_t rank, uint64_t *number, uint8_t hash[32])
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_BLOCK_AT);
    int rc;

    if (st == NULL)
        return CT_EIO;
    sqlite3_bind_int64(st, 1, (int64_t)rank);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32) {
        *number = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(hash, sqlite3_column_blob(st, 1), 32);
        rc = 0;
    } else {
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE
                 ? ct_error_set(CT_EIO, "store: no stored block of rank %llu",
                                (unsigned long long)rank)
                 : ct_store__fail(s, "blocks");
    }
    sqlite3_reset(st);
    return rc;
}

/* Binds the event's key columns: its VC tag and its DC wallet, when it
 * has them, so history and replays are index lookups. */
static int bind_keys(sqlite3_stmt *st, const ct_store__event *ev)
{
    arg_ctx c = {0, ev->name, ev->args};
    uint8_t tag[32];
    ct_address dc;
    int rc = 0;

    if (json_object_get(ev->args, "vcTag") != NULL) {
        if ((rc = arg_bytes32(&c, "vcTag", tag)) < 0)
            return rc;
        sqlite3_bind_blob(st, 6, tag, 32, SQLITE_TRANSIENT);
    }
    if (strncmp(ev->name, "Datacenter", 10) == 0 && json_object_get(ev->args, "wallet") != NULL) {
        if ((rc = arg_address(&c, "wallet", &dc)) < 0)
            return rc;
        sqlite3_bind_blob(st, 7, dc.b, CT_ADDRESS_SIZE, SQLITE_TRANSIENT);
    }
    return rc;
}

int ct_store__event_add(ct_store *s, const ct_store__event *ev)
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_EVENT_ADD);
    char *args = NULL;
    int rc;

    if (st == NULL)
        return CT_EIO;
    if ((rc = ct_json_dump(&args, ev->args)) < 0 || (rc = bind_keys(st, ev)) < 0)
        goto done;
    sqlite3_bind_int64(st, 1, (int64_t)ev->block_number);
    sqlite3_bind_int64(st, 2, (int64_t)ev->log_index);
    sqlite3_bind_int64(st, 3, (int64_t)ev->tx_index);
    sqlite3_bind_blob(st, 4, ev->tx_hash, 32, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, ev->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, args, -1, SQLITE_TRANSIENT);
    if ((rc = run(s, st, 0)) < 0)
        goto done;
    rc = ct_store__apply(s, sqlite3_last_insert_rowid(s->db), ev->name, ev->block_time, ev->args);
    s->changed = true;
done:
    sqlite3_reset(st);
    free(args);
    return rc;
}

/* ---------------------------------------------------------------- rewind */

/* Replays, in id order, the remaining events of the VCs and DCs listed in
 * the rewind_* scratch tables (whose derived rows were just deleted). */
static int replay(ct_store *s)
{
    static const char sql[] = "SELECT e.id, e.name, b.time, e.args FROM events e"
                              " JOIN blocks b ON b.number = e.block_number"
                              " WHERE e.vc_tag IN (SELECT tag FROM temp.rewind_vc)"
                              " OR e.dc IN (SELECT wallet FROM temp.rewind_dc) ORDER BY e.id";
    sqlite3_stmt *st = NULL;
    json_t *args = NULL;
    int rc = 0, step = SQLITE_DONE;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return ct_store__fail(s, "replay");
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 3);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (text == NULL || name == NULL ||
            ct_json_parse(&args, text, strlen(text), CT_JSON_MAX_DEPTH) < 0) {
            rc = ct_error_set(CT_EIO, "store: event %lld is damaged",
                              (long long)sqlite3_column_int64(st, 0));
            break;
        }
        rc = ct_store__apply(s, sqlite3_column_int64(st, 0), name, sqlite3_column_int64(st, 2),
                             args);
        json_decref(args);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ct_store__fail(s, "replay");
    sqlite3_finalize(st);
    return rc;
}

int ct_store__rewind(ct_store *s, int64_t keep, uint64_t *deleted)
{
    static const char *const steps[] = {
        "DELETE FROM temp.rewind_vc WHERE ?1 = ?1",
        "DELETE FROM temp.rewind_dc WHERE ?1 = ?1",
        "INSERT OR IGNORE INTO temp.rewind_vc SELECT vc_tag FROM events"
        " WHERE block_number > ?1 AND vc_tag IS NOT NULL",
        "INSERT OR IGNORE INTO temp.rewind_dc SELECT dc FROM events"
        " WHERE block_number > ?1 AND dc IS NOT NULL",
        NULL, /* the events themselves: counted */
        "DELETE FROM blocks WHERE number > ?1",
        "DELETE FROM containers WHERE vc_tag IN (SELECT tag FROM temp.rewind_vc) AND ?1 = ?1",
        "DELETE FROM pending WHERE vc_tag IN (SELECT tag FROM temp.rewind_vc) AND ?1 = ?1",
        "DELETE FROM datacenters WHERE wallet IN (SELECT wallet FROM temp.rewind_dc)"
        " AND ?1 = ?1",
        /* The event monitor's logs past keep go too; they are read again. */
        "DELETE FROM monitor_logs WHERE block_number > ?1",
        "UPDATE monitors SET next_block = ?1 + 1 WHERE next_block > ?1 + 1",
    };
    int64_t n = 0;
    int rc = 0;

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && rc == 0; i++)
        rc = steps[i] != NULL
                 ? ct_store__exec_int(s, steps[i], keep, NULL)
                 : ct_store__exec_int(s, "DELETE FROM events WHERE block_number > ?1", keep, &n);
    if (rc == 0)
        rc = replay(s);
    s->changed = true;
    *deleted = (uint64_t)n;
    return rc;
}

/* ---------------------------------------------------------------- times */

json_t *ct_store_time_json(int64_t seconds)
{
    char iso[CT_TIME_ISO8601_SIZE];

    if (seconds < 0 || seconds > CT_STORE__MAX_TIME || ct_time_format(iso, seconds * 1000) < 0)
        return json_integer(seconds);
    return json_string(iso);
}
