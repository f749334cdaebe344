/* The cache file: opening it (WAL, busy timeout), its schema and the
 * migrations between schema versions, the per-handle statement cache and
 * transactions, the meta table (binding, cursor) and reset. */
#include "store_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* migrations[v] takes a file from schema version v to v + 1. */
static const char *const migrations[CT_STORE_SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE blocks (number INTEGER PRIMARY KEY, hash BLOB NOT NULL,"
    " parent BLOB NOT NULL, time INTEGER NOT NULL);"
    "CREATE TABLE events (id INTEGER PRIMARY KEY, block_number INTEGER NOT NULL,"
    " log_index INTEGER NOT NULL, tx_index INTEGER NOT NULL, tx_hash BLOB NOT NULL,"
    " name TEXT NOT NULL, vc_tag BLOB, dc BLOB, args TEXT NOT NULL,"
    " UNIQUE (block_number, log_index));"
    "CREATE INDEX events_vc_tag ON events (vc_tag) WHERE vc_tag IS NOT NULL;"
    "CREATE INDEX events_dc ON events (dc) WHERE dc IS NOT NULL;"
    "CREATE INDEX events_tx ON events (tx_hash);"
    "CREATE TABLE datacenters (wallet BLOB PRIMARY KEY, name TEXT NOT NULL,"
    " registered_at INTEGER NOT NULL, event_id INTEGER NOT NULL);"
    "CREATE INDEX datacenters_name ON datacenters (name);"
    "CREATE TABLE containers (vc_tag BLOB PRIMARY KEY, vc_type TEXT NOT NULL,"
    " id TEXT NOT NULL, ip_address TEXT NOT NULL, controller TEXT NOT NULL,"
    " vcpu INTEGER NOT NULL, vram INTEGER NOT NULL, vdisk INTEGER NOT NULL,"
    " host BLOB NOT NULL, owner BLOB NOT NULL, created NOT NULL,"
    " updated INTEGER NOT NULL, available INTEGER NOT NULL, retired INTEGER NOT NULL,"
    " event_id INTEGER NOT NULL);"
    "CREATE INDEX containers_order ON containers (event_id);"
    "CREATE INDEX containers_host ON containers (host, event_id);"
    "CREATE TABLE pending (vc_tag BLOB PRIMARY KEY, from_address BLOB NOT NULL,"
    " to_address BLOB NOT NULL, price NOT NULL, invoice NOT NULL, timestamp NOT NULL,"
    " event_id INTEGER NOT NULL);",
    /* 1 -> 2: event monitors (the registrations were created on first
     * use before) follow their logs into the cache: how far each one is,
     * and the logs, keyed by their place in the chain. */
    "CREATE TABLE IF NOT EXISTS monitors (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " address BLOB NOT NULL, label TEXT NOT NULL, abi TEXT NOT NULL, events TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "ALTER TABLE monitors ADD COLUMN next_block INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE monitor_logs (monitor INTEGER NOT NULL, block_number INTEGER NOT NULL,"
    " log_index INTEGER NOT NULL, tx_hash BLOB NOT NULL, event TEXT NOT NULL,"
    " args TEXT NOT NULL, PRIMARY KEY (monitor, block_number, log_index)) WITHOUT ROWID;",
    /* 2 -> 3: VCs looked up by their VM or container id (an S2D migration
     * finds the VC of the instance it moves). */
    "CREATE INDEX containers_id ON containers (id);",
};

/* The SQL of each cached statement. Columns read by reads.c are listed in
 * the order it expects them. */
static const char *const stmt_sql[ST__COUNT] = {
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
    [ST_META_DEL] = "DELETE FROM meta WHERE key = ?1",
    [ST_BLOCK_ADD] = "INSERT INTO blocks (number, hash, parent, time) VALUES (?1, ?2, ?3, ?4)",
    [ST_BLOCK_COUNT] = "SELECT count(*) FROM blocks",
    [ST_BLOCK_AT] = "SELECT number, hash FROM blocks ORDER BY number LIMIT 1 OFFSET ?1",
    [ST_EVENT_ADD] = "INSERT INTO events (block_number, log_index, tx_index, tx_hash, name,"
                     " vc_tag, dc, args) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_EVENT_MAX_ID] = "SELECT coalesce(max(id), 0) FROM events",
    [ST_DC_ADD] = "INSERT OR REPLACE INTO datacenters (wallet, name, registered_at, event_id)"
                  " VALUES (?1, ?2, ?3, ?4)",
    [ST_VC_ADD] = "INSERT OR REPLACE INTO containers (vc_tag, vc_type, id, ip_address,"
                  " controller, vcpu, vram, vdisk, host, owner, created, updated, available,"
                  " retired, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10,"
                  " ?11, ?12, 0, ?13)",
    [ST_VC_AVAIL] = "UPDATE containers SET available = ?2, updated = ?3 WHERE vc_tag = ?1",
    [ST_VC_MIGRATED] = "UPDATE containers SET id = ?2, ip_address = ?3, controller = ?4,"
                       " host = ?5, updated = ?6 WHERE vc_tag = ?1",
    [ST_VC_RETIRED] = "UPDATE containers SET retired = 1, available = 0, updated = ?2"
                      " WHERE vc_tag = ?1",
    [ST_PENDING_SET] = "INSERT OR REPLACE INTO pending (vc_tag, from_address, to_address, price,"
                       " invoice, timestamp, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_PENDING_DEL] = "DELETE FROM pending WHERE vc_tag = ?1",
    [ST_READ_DC_BY_WALLET] = "SELECT name FROM datacenters WHERE wallet = ?1",
    [ST_READ_DC_BY_NAME] = "SELECT wallet FROM datacenters WHERE name = ?1"
                           " ORDER BY event_id LIMIT 1",
    [ST_READ_DC_LIST] = "SELECT d.name, d.wallet, d.registered_at, (SELECT count(*) FROM"
                        " containers c WHERE c.host = d.wallet AND c.retired = 0)"
                        " FROM datacenters d ORDER BY d.event_id",
#define VC_COLUMNS                                                                                 \
    "vc_tag, vc_type, available, id, ip_address, controller, host, owner, updated, created,"       \
    " retired, vcpu, vram, vdisk"
    [ST_READ_VC_DETAILS] = "SELECT " VC_COLUMNS " FROM containers WHERE vc_tag = ?1",
    [ST_READ_VC_BY_TX] = "SELECT e.vc_tag, e.args, e.block_number, b.hash FROM events e"
                         " JOIN blocks b ON b.number = e.block_number"
                         " WHERE e.tx_hash = ?1 AND e.name = 'ContainerRegistered'"
                         " ORDER BY e.id",
    [ST_READ_VC_HISTORY] = "SELECT e.id, e.name, e.args, e.log_index, e.tx_index, e.tx_hash,"
                           " e.block_number, b.hash, b.time,"
                           " (SELECT value FROM meta WHERE key = 'contract')"
                           " FROM events e JOIN blocks b ON b.number = e.block_number"
                           " WHERE e.vc_tag = ?1 ORDER BY e.id",
    [ST_READ_VC_PENDING] = "SELECT p.from_address, p.to_address, p.price, p.invoice"
                           " FROM containers c LEFT JOIN pending p ON p.vc_tag = c.vc_tag"
                           " WHERE c.vc_tag = ?1",
    [ST_READ_VC_LIST] = "SELECT " VC_COLUMNS " FROM containers"
                        " WHERE (?1 IS NULL OR host = ?1) AND (?2 < 0 OR available = ?2)"
                        " AND (?5 IS NULL OR id = ?5)"
                        " ORDER BY event_id LIMIT ?3 OFFSET ?4",
    [ST_READ_VC_TIMELINE] = "SELECT e.id, e.name, b.time, e.args FROM events e"
                            " JOIN blocks b ON b.number = e.block_number"
                            " WHERE e.vc_tag = ?1 ORDER BY e.id",
};

int ct_store__fail(ct_store *s, const char *what)
{
    int code = sqlite3_errcode(s->db);

    if (code == SQLITE_NOMEM)
        return ct_error_set(CT_ENOMEM, "store: %s: out of memory", what);
    return ct_error_set(CT_EIO, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

sqlite3_stmt *ct_store__stmt(ct_store *s, int id)
{
    sqlite3_stmt *st = s->st[id];

    if (st == NULL) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK) {
            ct_store__fail(s, "prepare");
            return NULL;
        }
        s->st[id] = st;
        return st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

int ct_store__exec(ct_store *s, const char *sql)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return ct_store__fail(s, "exec");
    return 0;
}

int ct_store__exec_int(ct_store *s, const char *sql, int64_t p, int64_t *changes)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, p) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
        rc = ct_store__fail(s, "exec");
    else if (changes != NULL)
        *changes = sqlite3_changes64(s->db);
    sqlite3_finalize(st);
    return rc;
}

void ct_store__lock(ct_store *s)
{
    pthread_mutex_lock(&s->mu);
}

void ct_store__unlock(ct_store *s)
{
    pthread_mutex_unlock(&s->mu);
}

int ct_store__begin(ct_store *s, bool write)
{
    s->changed = false;
    return ct_store__exec(s, write ? "BEGIN IMMEDIATE" : "BEGIN");
}

int ct_store__commit(ct_store *s)
{
    int rc = ct_store__exec(s, "COMMIT");

    if (rc == 0 && s->changed)
        atomic_fetch_add(&s->changes, 1);
    s->changed = false;
    return rc;
}

uint64_t ct_store_change_count(ct_store *s)
{
    return atomic_load(&s->changes);
}

void ct_store__rollback(ct_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->changed = false;
}

/* ---------------------------------------------------------------- meta */

static int meta_get(ct_store *s, const char *key, sqlite3_stmt **out)
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_META_GET);
    int rc;

    if (st == NULL)
        return CT_EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = st;
        return 0;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return CT_ENOTFOUND;
    return ct_store__fail(s, "meta");
}

int ct_store__meta_get_int(ct_store *s, const char *key, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = meta_get(s, key, &st);

    if (rc < 0)
        return rc;
    *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

int ct_store__meta_get_blob(ct_store *s, const char *key, uint8_t *out, size_t len)
{
    sqlite3_stmt *st;
    int rc = meta_get(s, key, &st);

    if (rc < 0)
        return rc;
    if ((size_t)sqlite3_column_bytes(st, 0) != len || sqlite3_column_type(st, 0) != SQLITE_BLOB) {
        rc = ct_error_set(CT_EIO, "store: meta %s is damaged", key);
    } else {
        memcpy(out, sqlite3_column_blob(st, 0), len);
    }
    sqlite3_reset(st);
    return rc;
}

static int meta_set_done(ct_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : ct_store__fail(s, "meta");

    sqlite3_reset(st);
    return rc;
}

int ct_store__meta_set_int(ct_store *s, const char *key, int64_t v)
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_META_SET);

    if (st == NULL)
        return CT_EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, v);
    return meta_set_done(s, st);
}

int ct_store__meta_set_blob(ct_store *s, const char *key, const uint8_t *v, size_t len)
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_META_SET);

    if (st == NULL)
        return CT_EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, v, (int)len, SQLITE_STATIC);
    return meta_set_done(s, st);
}

int ct_store__meta_del(ct_store *s, const char *key)
{
    sqlite3_stmt *st = ct_store__stmt(s, ST_META_DEL);

    if (st == NULL)
        return CT_EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    return meta_set_done(s, st);
}

int ct_store__cursor_get(ct_store *s, uint64_t *number, uint8_t hash[32])
{
    int64_t n;
    int rc = ct_store__meta_get_int(s, "cursor_number", &n);

    if (rc < 0)
        return rc;
    if ((rc = ct_store__meta_get_blob(s, "cursor_hash", hash, 32)) < 0)
        return rc == CT_ENOTFOUND ? ct_error_set(CT_EIO, "store: cursor has no hash") : rc;
    *number = (uint64_t)n;
    return 0;
}

int ct_store__cursor_set(ct_store *s, uint64_t number, const uint8_t hash[32])
{
    int rc = ct_store__meta_set_int(s, "cursor_number", (int64_t)number);

    return rc < 0 ? rc : ct_store__meta_set_blob(s, "cursor_hash", hash, 32);
}

int ct_store__cursor_clear(ct_store *s)
{
    int rc = ct_store__meta_del(s, "cursor_number");

    return rc < 0 ? rc : ct_store__meta_del(s, "cursor_hash");
}

/* ---------------------------------------------------------------- open */

/* Brings the schema to CT_STORE_SCHEMA_VERSION in one transaction, so two
 * handles opening a new file at once do not both create it. */
static int migrate(ct_store *s)
{
    int64_t v = 0;
    int rc;

    if ((rc = ct_store__begin(s, true)) < 0)
        return rc;
    if ((rc = ct_store__exec(s, "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY,"
                                " value) WITHOUT ROWID")) < 0)
        goto done;
    rc = ct_store__meta_get_int(s, "schema_version", &v);
    if (rc < 0 && rc != CT_ENOTFOUND)
        goto done;
    if (v > CT_STORE_SCHEMA_VERSION || v < 0) {
        rc = ct_error_set(CT_ESTATE, "store: schema version %" PRId64 " is newer than %d", v,
                          CT_STORE_SCHEMA_VERSION);
        goto done;
    }
    for (rc = 0; v < CT_STORE_SCHEMA_VERSION && rc == 0; v++)
        rc = ct_store__exec(s, migrations[v]);
    if (rc == 0)
        rc = ct_store__meta_set_int(s, "schema_version", v);
    if (rc == 0)
        rc = ct_store__commit(s);
done:
    if (rc < 0)
        ct_store__rollback(s);
    return rc;
}

/* Connection settings and the per-connection scratch tables of rewinds. */
static int configure(ct_store *s)
{
    int rc;

    if (sqlite3_busy_timeout(s->db, CT_STORE_BUSY_TIMEOUT_MS) != SQLITE_OK)
        return ct_store__fail(s, "busy timeout");
    if ((rc = ct_store__exec(s, "PRAGMA journal_mode = WAL")) < 0 ||
        (rc = ct_store__exec(s, "PRAGMA synchronous = NORMAL")) < 0 ||
        (rc = ct_store__exec(s, "PRAGMA foreign_keys = OFF")) < 0)
        return rc;
    return ct_store__exec(s, "CREATE TEMP TABLE IF NOT EXISTS rewind_vc (tag BLOB PRIMARY KEY);"
                             "CREATE TEMP TABLE IF NOT EXISTS rewind_dc (wallet BLOB PRIMARY"
                             " KEY)");
}

int ct_store_open(ct_store **out, const char *path)
{
    ct_store *s = calloc(1, sizeof(*s));
    int rc;

    if (s == NULL)
        return ct_error_set(CT_ENOMEM, "store: out of memory");
    pthread_mutex_init(&s->mu, NULL);
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = s->db != NULL ? ct_store__fail(s, "open")
                           : ct_error_set(CT_ENOMEM, "store: out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    if ((rc = configure(s)) < 0 || (rc = migrate(s)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    ct_error_wrap("store: %s", path);
    ct_store_close(s);
    return rc;
}

void ct_store_close(ct_store *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
