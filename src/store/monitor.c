/* The explorer's event monitor registrations: a contract address, its ABI
 * JSON and the events a user chose to watch, kept in the gateway cache.
 * Unlike the rest of the cache they are user input, not chain state, so
 * ct_store_reset and ct_store_dump leave them alone. */
#include "store_int.h"

#include <string.h>

static const char monitor_schema[] = "CREATE TABLE IF NOT EXISTS monitors ("
                                     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                                     " address BLOB NOT NULL,"
                                     " label TEXT NOT NULL,"
                                     " abi TEXT NOT NULL,"
                                     " events TEXT NOT NULL,"
                                     " created INTEGER NOT NULL)";

/* Prepares sql after making sure the table exists. Call with the lock. */
static sqlite3_stmt *prepare(ct_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (ct_store__exec(s, monitor_schema) < 0)
        return NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        ct_store__fail(s, "monitor");
        return NULL;
    }
    return st;
}

int ct_store_monitor_add(ct_store *s, int64_t *out, const ct_address *address, const char *label,
                         const char *abi_json, const char *events_json)
{
    sqlite3_stmt *st;
    int rc = 0;

    ct_store__lock(s);
    st = prepare(s, "INSERT INTO monitors(address, label, abi, events, created)"
                    " VALUES (?1, ?2, ?3, ?4, strftime('%s','now'))");
    if (st == NULL) {
        rc = CT_EIO;
        goto done;
    }
    sqlite3_bind_blob(st, 1, address->b, CT_ADDRESS_SIZE, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, abi_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, events_json, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = ct_store__fail(s, "monitor insert");
    else
        *out = sqlite3_last_insert_rowid(s->db);
done:
    sqlite3_finalize(st);
    ct_store__unlock(s);
    return rc;
}

/* One row as {"id", "address", "label", "abi", "events", "created"}. */
static json_t *row_json(sqlite3_stmt *st)
{
    char addr[CT_ADDRESS_TEXT_SIZE];
    ct_address a;
    json_t *abi = NULL, *events = NULL;
    const char *t;

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
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:I}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "address", addr, "label",
                     t != NULL ? t : "", "abi", abi, "events", events, "created",
                     (json_int_t)sqlite3_column_int64(st, 5));
}

int ct_store_monitor_list(ct_store *s, json_t **out)
{
    sqlite3_stmt *st;
    json_t *list = json_array();
    int rc = 0, step;

    ct_store__lock(s);
    st = prepare(s, "SELECT id, address, label, abi, events, created FROM monitors ORDER BY id");
    if (st == NULL || list == NULL) {
        rc = st == NULL ? CT_EIO : ct_error_set(CT_ENOMEM, "monitor: out of memory");
        goto done;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = row_json(st);
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

int ct_store_monitor_get(ct_store *s, json_t **out, int64_t id)
{
    sqlite3_stmt *st;
    int rc = 0, step;

    ct_store__lock(s);
    st = prepare(s, "SELECT id, address, label, abi, events, created FROM monitors WHERE id = ?1");
    if (st == NULL) {
        rc = CT_EIO;
        goto done;
    }
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *out = row_json(st);
        if (*out == NULL)
            rc = ct_error_set(CT_ENOMEM, "monitor: out of memory");
    } else if (step == SQLITE_DONE) {
        rc = ct_error_set(CT_ENOTFOUND, "monitor %lld not found", (long long)id);
    } else {
        rc = ct_store__fail(s, "monitor get");
    }
done:
    sqlite3_finalize(st);
    ct_store__unlock(s);
    return rc;
}

int ct_store_monitor_delete(ct_store *s, int64_t id)
{
    sqlite3_stmt *st;
    int rc = 0;

    ct_store__lock(s);
    st = prepare(s, "DELETE FROM monitors WHERE id = ?1");
    if (st == NULL) {
        rc = CT_EIO;
        goto done;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = ct_store__fail(s, "monitor delete");
    else if (sqlite3_changes(s->db) == 0)
        rc = ct_error_set(CT_ENOTFOUND, "monitor %lld not found", (long long)id);
done:
    sqlite3_finalize(st);
    ct_store__unlock(s);
    return rc;
}
