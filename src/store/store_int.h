/* What the files of the store module share: the handle, its cache of
 * prepared statements, transactions, the cursor, and the write path used
 * by the follower (append an event, rewind after a reorganisation). */
#ifndef CATENA_STORE_INT_H
#define CATENA_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sqlite3.h>

#include "catena/store.h"

/* Every statement the module runs more than once, prepared on first use
 * and kept for the handle's life. */
enum ct_store__stmt_id {
    ST_META_GET,
    ST_META_SET,
    ST_META_DEL,
    ST_BLOCK_ADD,
    ST_BLOCK_COUNT,
    ST_BLOCK_AT,
    ST_EVENT_ADD,
    ST_EVENT_MAX_ID,
    ST_DC_ADD,
    ST_VC_ADD,
    ST_VC_AVAIL,
    ST_VC_MIGRATED,
    ST_VC_RETIRED,
    ST_PENDING_SET,
    ST_PENDING_DEL,
    ST_READ_DC_BY_WALLET,
    ST_READ_DC_BY_NAME,
    ST_READ_DC_LIST,
    ST_READ_VC_DETAILS,
    ST_READ_VC_BY_TX,
    ST_READ_VC_HISTORY,
    ST_READ_VC_PENDING,
    ST_READ_VC_LIST,
    ST_READ_VC_TIMELINE,
    ST__COUNT
};

struct ct_store {
    sqlite3 *db;
    pthread_mutex_t mu; /* serialises every call on this handle */
    sqlite3_stmt *st[ST__COUNT];
    bool changed;             /* this transaction stored or removed events */
    _Atomic uint64_t changes; /* see ct_store_change_count */
};

/* Sets a CT_EIO error from SQLite's message. Returns: CT_EIO (CT_ENOMEM
 * when SQLite ran out of memory). */
int ct_store__fail(ct_store *s, const char *what);

/* The statement id, reset and with its bindings cleared.
 * Returns: the statement, or NULL with the error set. */
sqlite3_stmt *ct_store__stmt(ct_store *s, int id);

/* Runs SQL without results and without parameters. Returns: 0 or CT_EIO. */
int ct_store__exec(ct_store *s, const char *sql);

/* Runs one statement with ?1 bound to p (no result rows).
 * Out: *changes (may be NULL) the rows it changed. Returns: 0 or CT_EIO. */
int ct_store__exec_int(ct_store *s, const char *sql, int64_t p, int64_t *changes);

void ct_store__lock(ct_store *s);
void ct_store__unlock(ct_store *s);

/* BEGIN IMMEDIATE (write) or BEGIN (read), COMMIT, ROLLBACK. Rollback
 * keeps the error message already set. Call with the lock held. */
int ct_store__begin(ct_store *s, bool write);
int ct_store__commit(ct_store *s);
void ct_store__rollback(ct_store *s);

/* Meta table values. get: Returns 0, CT_ENOTFOUND or CT_EIO. */
int ct_store__meta_get_int(ct_store *s, const char *key, int64_t *out);
int ct_store__meta_get_blob(ct_store *s, const char *key, uint8_t *out, size_t len);
int ct_store__meta_set_int(ct_store *s, const char *key, int64_t v);
int ct_store__meta_set_blob(ct_store *s, const char *key, const uint8_t *v, size_t len);
int ct_store__meta_del(ct_store *s, const char *key);

/* The last processed block. Returns: 0, CT_ENOTFOUND (none yet), CT_EIO. */
int ct_store__cursor_get(ct_store *s, uint64_t *number, uint8_t hash[32]);
int ct_store__cursor_set(ct_store *s, uint64_t number, const uint8_t hash[32]);
int ct_store__cursor_clear(ct_store *s);

/* Stores a block that carries events (time in seconds). */
int ct_store__block_add(ct_store *s, uint64_t number, const uint8_t hash[32],
                        const uint8_t parent[32], int64_t time);

/* Number of stored blocks; the one of rank (0 = oldest). */
int ct_store__block_count(ct_store *s, uint64_t *out);
int ct_store__block_at(ct_store *s, uint64_t rank, uint64_t *number, uint8_t hash[32]);

/* One decoded event, its args already in wire form (see store.h). */
typedef struct ct_store__event {
    uint64_t block_number;
    uint64_t log_index;
    uint64_t tx_index;
    uint8_t tx_hash[32];
    const char *name;
    const json_t *args;
    int64_t block_time; /* seconds; its block must be stored first */
} ct_store__event;

/* Appends an event (id = the next in chain order) and applies it to the
 * derived tables. Call inside a write transaction.
 * Returns: 0, CT_EPARSE (args lack what the event needs), CT_EIO. */
int ct_store__event_add(ct_store *s, const ct_store__event *ev);

/* Applies one stored event to the derived tables: the fold that defines
 * them, used for new events and for replays. */
int ct_store__apply(ct_store *s, int64_t id, const char *name, int64_t block_time,
                    const json_t *args);

/* Deletes the events and blocks after block keep (all of them when keep
 * is -1) and rebuilds the derived rows of every VC and DC they touched by
 * replaying their remaining events. Call inside a write transaction.
 * Out: *deleted the number of events removed. */
int ct_store__rewind(ct_store *s, int64_t keep, uint64_t *deleted);

/* Highest time in seconds that ct_time_format can show (9999-12-31). */
#define CT_STORE__MAX_TIME 253402300799LL


/* ---------------------------------------------------------------- decoding
 * What the follower reads from the node, checked: the node is another
 * process, so its answers are parsed like any untrusted input. */

/* One entry of an eth_getLogs answer. json is borrowed from the answer. */
typedef struct ct_store__log {
    uint64_t block_number;
    uint64_t log_index;
    uint64_t tx_index;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    ct_address address;
    bool removed;
    const json_t *json;
} ct_store__log;

/* Returns: 0 or CT_EPARSE naming the field. */
int ct_store__parse_log(ct_store__log *out, const json_t *log);

/* A block header from eth_getBlockBy*. */
typedef struct ct_store__header {
    uint64_t number;
    uint8_t hash[32];
    uint8_t parent[32];
    int64_t time; /* seconds */
} ct_store__header;

/* Returns: 0 or CT_EPARSE naming the field. */
int ct_store__parse_header(ct_store__header *out, const json_t *block);

/* Converts decoded args (ct_ledger_decode_log: uints as decimal strings)
 * into the wire form of store.h: parameters in declaration order, uints
 * as integers when they fit int64, "timestamp" as an ISO 8601 time.
 * Out: *out new ref. Returns: 0, CT_EPARSE (args do not match the ABI),
 * CT_ENOMEM. */
int ct_store__wire_args(json_t **out, const ct_store_decoder *t, const char *event,
                        const json_t *raw);

/* ---------------------------------------------------------------- monitors */

/* One registration as ct_store_monitor_get gives it. Call with the lock. */
int ct_store__monitor_get(ct_store *s, json_t **out, int64_t id);

/* Reads the event monitor's logs from the node through rpc, up to the
 * stored cursor (which the caller has just checked against the chain),
 * at most max_range blocks per eth_getLogs, for a bounded number of ranges.
 * Out: *calls increased by the RPC calls made.
 * Returns: 0 (also when the chain moved: the next round heals it and the
 * logs are read again), or the node's or SQLite's error. */
int ct_store__monitors_follow(ct_store *s, ct_rpc *rpc, uint64_t max_range, uint64_t *calls);

#endif /* CATENA_STORE_INT_H */
