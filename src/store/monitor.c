/* The explorer's event monitor registrations: a contract address, the
 * ABI of the events a user chose to watch and their names, kept in the
 * gateway cache with how far their logs were read (monitor_logs.c).
 * Unlike the rest of the cache they are user input, not chain state, so
 * ct_store_reset and ct_store_dump leave them alone. */
#include "store_int.h"

#include <string.h>

#define COLUMNS "id, address, label, abi, events, created, next_block"

/* Prepares sql (not cached: these run rarely). Call with the lock. */
static sqlite3_stmt *prepare(ct_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        ct_store__fail(s, "monitor");
        return NULL;
    }
    return st;
}

/* Whether entry is an event named one of names (any when names is empty). */
static bool wanted(const json_t *entry, const json_t *names)
{
    const char *type = json_string_value(json_object_get(entry, "type"));
    const json_t *name = json_object_get(entry, "name"), *n;
    size_t k;

    if (type == NULL || strcmp(type, "event") != 0 || !json_is_string(name))
        return false;
    if (json_array_size(names) == 0)
        return true;
    json_array_foreach (names, k, n)
        if (json_equal(n, name))
            return true;
    return false;
}

/* Checks that every name is a string naming an entry of list. */
static int all_named(const json_t *list, const json_t *names)
{
    const json_t *n, *e;
    size_t i, k;

    json_array_foreach (names, k, n) {
        bool seen = false;
        json_array_foreach (list, i, e)
            seen = seen || json_equal(json_object_get(e, "name"), n);
        if (!seen)
            return ct_error_set(CT_EINVAL, "event '%s' is not in the ABI",
                                json_is_string(n) ? json_string_value(n) : "?");
    }
    return 0;
}

int ct_store_monitor_watched(json_t **out, const json_t *abi, const json_t *names)
{
    json_t *list = json_array(), *e;
    ct_abi_sig *sig;
    size_t i;
    int rc = 0;

    if (list == NULL)
        return ct_error_set(CT_ENOMEM, "monitor: out of memory");
    json_array_foreach (abi, i, e) {
        if (!wanted(e, names))
            continue;
        if (ct_abi_sig_from_json(&sig, e) < 0) {
            rc = ct_error_set(CT_EINVAL, "event '%s': %s",
                              json_string_value(json_object_get(e, "name")), ct_error_last());
            break;
        }
        ct_abi_sig_free(sig);
        if (json_array_append(list, e) < 0) {
            rc = ct_error_set(CT_ENOMEM, "monitor: out of memory");
            break;
        }
    }
    if (rc == 0 && (rc = all_named(list, names)) == 0 && json_array_size(list) == 0)
        rc = ct_error_set(CT_EINVAL, "no events to watch");
    if (rc < 0)
        json_decref(list);
    else
        *out = list;
    return rc;
}

/* Counts the registrations and inserts one if fewer than max exist. Call
 * inside a write transaction. */
static int insert_bounded(ct_store *s, int64_t *out, const ct_address *address, const char *label,
                          const char *abi_json, const char *events_json, size_t max)
{
    sqlite3_stmt *st = prepare(s, "SELECT count(*) FROM monitors");
    int rc = 0;

    if (st == NULL)
        return CT_EIO;
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = ct_store__fail(s, "monitor count");
    else if ((uint64_t)sqlite3_column_int64(st, 0) >= max)
        rc = ct_error_set(CT_ELIMIT, "at most %zu monitors: delete one first", max);
    sqlite3_finalize(st);
    if (rc < 0)
        return rc;
    st = prepare(s, "INSERT INTO monitors(address, label, abi, events, created, next_block)"
                    " VALUES (?1, ?2, ?3, ?4, strftime('%s','now'), 0)");
    if (st == NULL)
        return CT_EIO;
    sqlite3_bind_blob(st, 1, address->b, CT_ADDRESS_SIZE, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, abi_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, events_json, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = ct_store__fail(s, "monitor insert");
    else
        *out = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    return rc;
}

int ct_store_monitor_add(ct_store *s, int64_t *out, const ct_address *address, const char *label,
                         const char *abi_json, const char *events_json, size_t max)
{
    int rc;

    ct_store__lock(s);
    /* BEGIN IMMEDIATE takes the file's write lock before counting, so two
     * handles cannot both see room for one more. */
    if ((rc = ct_store__begin(s, true)) == 0 &&
        (rc = insert_bounded(s, out, address, label, abi_json, events_json, max)) == 0)
        rc = ct_store__commit(s);
    if (rc < 0)
        ct_store__rollback(s);
    ct_store__unlock(s);
    return rc;
}

static json_t *monitor_row(sqlite3_stmt *st)
{
    char addr[CT_ADDRESS_TEXT_SIZE];
    ct_address a;
    json_t *abi = NULL, *events = NULL;
    const char *t;
    int64_t next = sqlite3_column_int64(st, 6);

    memset(&a, 0, sizeof(a));
    if (sqlite3_column_bytes(st, 1) == CT_ADDRESS_SIZE)
        memcpy(a.b, sqlite3_column_blob(st, 1), CT_ADDRESS_SIZE);
    ct_address_format(addr, &a);
    t = (const char *)sqlite3_column_text(st, 3);
    if (t == NULL || ct_json_parse(&abi, t, strlen(t), CT_JSON_MAX_DEPTH) < 0)
        abi = json_array();
    t = (const char *)sqlite3_column_text(st, 4);
    if (t == NULL || ct_json_parse(&events, t, strlen(t), CT_JSON_MAX_DEPTH) < 0)
        events = json_array();
    t = (const char *)sqlite3_column_text(st, 2);
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:I, s:o}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "address", addr, "label",
                     t != NULL ? t : "", "abi", abi, "events", events, "created",
                     (json_int_t)sqlite3_column_int64(st, 5), "synced_block",
                     next > 0 ? json_integer(next - 1) : json_null());
}

int ct_store_monitor_list(ct_store *s, json_t **out)
{
    sqlite3_stmt *st;
    json_t *list = json_array();
    int rc = 0, step;

    ct_store__lock(s);
    st = prepare(s, "SELECT " COLUMNS " FROM monitors ORDER BY id");
    if (st == NULL || list == NULL) {
        rc = st == NULL ? CT_EIO : ct_error_set(CT_ENOMEM, "monitor: out of memory");
        goto done;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = monitor_row(st);
        if (row == NULL || json_array_append_new(list, row) < 0) {
            rc = ct_error_set(CT_ENOMEM, "monitor: out of memory");
            goto done;
        }
    }
    if (step != SQLITE_DONE)
        rc = ct_store__fail(s, "monitor list");
done:
    sqlite3_finalize(st);
    ct_store__unlock(s);
    if (rc < 0)
        json_decref(list);
    else
        *out = list;
    return rc;
}

int ct_store__monitor_get(ct_store *s, json_t **out, int64_t id)
{
    sqlite3_stmt *st = prepare(s, "SELECT " COLUMNS " FROM monitors WHERE id = ?1");
    int rc = 0, step;

    if (st == NULL)
        return CT_EIO;
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *out = monitor_row(st);
        if (*out == NULL)
            rc = ct_error_set(CT_ENOMEM, "monitor: out of memory");
    } else if (step == SQLITE_DONE) {
        rc = ct_error_set(CT_ENOTFOUND, "monitor %lld not found", (long long)id);
    } else {
        rc = ct_store__fail(s, "monitor get");
    }
    sqlite3_finalize(st);
    return rc;
}

int ct_store_monitor_get(ct_store *s, json_t **out, int64_t id)
{
    int rc;

    ct_store__lock(s);
    rc = ct_store__monitor_get(s, out, id);
    ct_store__unlock(s);
    return rc;
}

int ct_store_monitor_delete(ct_store *s, int64_t id)
{
    int64_t n = 0;
    int rc;

    ct_store__lock(s);
    if ((rc = ct_store__begin(s, true)) == 0 &&
        (rc = ct_store__exec_int(s, "DELETE FROM monitors WHERE id = ?1", id, &n)) == 0 &&
        (rc = ct_store__exec_int(s, "DELETE FROM monitor_logs WHERE monitor = ?1", id, NULL)) == 0)
        rc = n == 0 ? ct_error_set(CT_ENOTFOUND, "monitor %lld not found", (long long)id)
                    : ct_store__commit(s);
    if (rc < 0)
        ct_store__rollback(s);
    ct_store__unlock(s);
    return rc;
}
