/* Catena store: the gateway's SQLite cache (WAL) of the Federation
 * contract's events and of the state derived from them, the follower that
 * fills it from eth_getLogs and heals it after reorganisations, and the
 * reads that answer the REST API in the seed's wire format. */
#ifndef CATENA_STORE_H
#define CATENA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "catena/crypto.h"
#include "catena/ledger.h"
#include "catena/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- the cache
 *
 * What the cache holds. Everything in it is derived from the chain, so a
 * file can always be deleted or rebuilt (ct_store_reset + a follower):
 * - events: every Federation event of the bound contract, in chain order,
 *   numbered 1, 2, 3... (Table 14 "id"). Ids are assigned in chain order,
 *   so a cache rebuilt from scratch and one that rewound a reorganisation
 *   and replayed give every event the same id.
 * - blocks: number, hash, parent hash and time of each block that carries
 *   events, and the last processed block (the cursor).
 * - datacenters, containers and pending migrations: pure functions of the
 *   events (a fold over each DC's and each VC's events in id order).
 *
 * Times: the chain gives seconds since the epoch; every time in a JSON
 * answer is "YYYY-MM-DDTHH:MM:SS.mmmZ" (ct_time_format). A time the
 * contract accepted but that lies outside years 0000-9999 is given as its
 * number of seconds instead (a JSON integer, or a decimal string above
 * 2^63 - 1), so nothing is lost.
 * Numbers: uint values are JSON integers when they fit 2^63 - 1, else
 * decimal strings. Addresses are EIP-55, hashes and tags "0x" + 64
 * lowercase hex digits.
 *
 * Thread safety: a ct_store handle has its own mutex, so it may be shared
 * by threads, whose calls then run one at a time. For reads beside the
 * follower's writes, give each thread its own handle on the same file
 * (ct_store_open): with WAL, readers never wait for the writer and each
 * read sees a consistent snapshot. A ":memory:" store is private to its
 * handle. */

typedef struct ct_store ct_store;

/* Schema version this library writes (kept in the file's meta table). */
#define CT_STORE_SCHEMA_VERSION 3

/* How long a handle waits on a lock held by another handle (ms). */
#define CT_STORE_BUSY_TIMEOUT_MS 5000

/* Opens (creating if needed) the cache at path, or a private in-memory one
 * for ":memory:". Creates or migrates the schema, turns on WAL (files
 * only), synchronous=NORMAL (a crash may lose the last batches, never
 * consistency: the cursor is written in the same transaction) and a busy
 * timeout of CT_STORE_BUSY_TIMEOUT_MS.
 * Out: *out, close with ct_store_close.
 * Returns: 0; CT_EIO (cannot open, not a database, SQLite error; message
 * says which); CT_ESTATE (the file has a newer schema version than this
 * library knows); CT_ENOMEM. */
int ct_store_open(ct_store **out, const char *path);

/* Returns: how many transactions this handle has committed that stored or
 * removed events (a range that only moves the cursor does not count;
 * thread safe). Answers derived from the cache stay valid while the count
 * of the handle that writes it (the follower's) does not change. */
uint64_t ct_store_change_count(ct_store *s);

/* Closes the handle; NULL is a no-op. */
void ct_store_close(ct_store *s);

/* Records what the cache is made of: chain id, contract address and the
 * block to follow from (the deployment block). On a cache that is not
 * bound yet, stores them; on one bound to the same three values, does
 * nothing.
 * Returns: 0; CT_ESTATE when the cache was made for another chain,
 * contract or start block (nothing changes: call ct_store_reset first to
 * rebuild it); CT_EIO. */
int ct_store_bind(ct_store *s, uint64_t chain_id, const ct_address *contract, uint64_t from_block);

/* Wipes events, blocks, derived rows, the cursor and the binding in one
 * transaction, so the next bind and follower rebuild it (--reindex).
 * Returns: 0 or CT_EIO. */
int ct_store_reset(ct_store *s);

/* A summary of the cache, for health checks and tests. */
typedef struct ct_store_info {
    bool bound;          /* ct_store_bind was called */
    uint64_t chain_id;   /* when bound */
    ct_address contract; /* when bound */
    uint64_t from_block; /* when bound */
    bool has_cursor;     /* some block was processed */
    uint64_t processed;  /* last processed block, when has_cursor */
    uint8_t processed_hash[32];
    uint64_t events; /* number of events stored */
} ct_store_info;

/* Returns: 0 or CT_EIO. */
int ct_store_get_info(ct_store *s, ct_store_info *out);

/* ---------------------------------------------------------------- follower */

/* Fills a store from a node: reads the contract's logs with eth_getLogs in
 * block ranges, decodes them with ct_ledger_decode_log, and writes each
 * range's events, the blocks that carry them and the new cursor in one
 * SQLite transaction. The range starts at 100 blocks, doubles (up to
 * max_range) while answers hold fewer than 1,000 logs, shrinks to about
 * 2,500 logs' worth when an answer holds more than 5,000, and halves when
 * the node refuses a range or its answer is too large. While a range is
 * checked and written, a helper thread (with its own connection) already
 * fetches the next one, so the node's work and ours overlap; the thread
 * lives only inside ct_follower_poll.
 *
 * Every range is checked to extend the cache: its first block's parent
 * hash must be the stored cursor hash, and its last block's hash must be
 * the same before and after its logs were read. Each round also compares
 * the stored hash of the last processed block with the chain's. On a
 * mismatch (a reorganisation) the follower finds the newest stored block
 * still on the chain (binary search over the stored blocks), deletes the
 * events and blocks after it, rebuilds the derived rows of every VC and
 * DC those events touched by replaying their remaining events, and reads
 * forward again. The result equals a cache built from scratch (same event
 * ids, same rows).
 *
 * Thread safety: ct_follower_poll from one thread at a time;
 * ct_follower_lag and ct_follower_get_stats from any thread. The store
 * handle is used under its mutex, so request threads may share it; one
 * handle per thread reads without waiting for the follower's writes. */
typedef struct ct_follower ct_follower;

typedef struct ct_follower_opts {
    uint64_t max_range; /* blocks per eth_getLogs (default 2000) */
    int timeout_ms;     /* per RPC call (default 30000) */
} ct_follower_opts;

/* Creates a follower of the Federation contract at contract, from block
 * from_block (its deployment block), on the node at rpc_url. Does no I/O:
 * the first poll reads the chain id and binds the store.
 * Args: s and l are borrowed and must outlive the follower; opts NULL (or
 * zero fields) means the defaults.
 * Out: *out, free with ct_follower_free.
 * Returns: 0, CT_EINVAL (bad url), CT_EPARSE (l's ABI lacks an event the
 * store needs), CT_ENOMEM. */
int ct_follower_new(ct_follower **out, ct_store *s, const ct_ledger *l, const char *rpc_url,
                    const ct_address *contract, uint64_t from_block, const ct_follower_opts *opts);

/* Frees the follower (not its store or ledger); NULL is a no-op. */
void ct_follower_free(ct_follower *f);

/* One round: reads the head, heals a reorganisation if there was one, and
 * processes every block up to that head. Safe to call repeatedly (a round
 * with nothing new costs two RPC calls); what was committed stays
 * committed when a later range fails, so the next call resumes.
 * Out: *new_events (may be NULL) the events stored in this round.
 * Returns: 0; CT_ERPC or CT_ETIMEOUT (node unreachable or refusing: try
 * again later); CT_ESTATE (the store is bound to another chain, contract
 * or start block: ct_store_reset it to rebuild); CT_EPARSE (the node sent
 * a malformed log or block); CT_EIO (SQLite). */
int ct_follower_poll(ct_follower *f, uint64_t *new_events);

/* Out: *head the chain head seen by the last poll, *processed the last
 * block stored (from_block - 1, or 0, before the first range). Either may
 * be NULL. Returns: 0. Thread safe. */
int ct_follower_lag(ct_follower *f, uint64_t *head, uint64_t *processed);

typedef struct ct_follower_stats {
    uint64_t head;           /* as ct_follower_lag */
    uint64_t processed;      /* as ct_follower_lag */
    uint64_t events;         /* events stored by this follower */
    uint64_t reorgs;         /* reorganisations healed */
    uint64_t rewound_events; /* events deleted by those rewinds */
    uint64_t rpc_calls;      /* JSON-RPC requests made (a batch counts once) */
} ct_follower_stats;

/* Thread safe. */
void ct_follower_get_stats(ct_follower *f, ct_follower_stats *out);

/* ---------------------------------------------------------------- reads
 *
 * Each read answers from one consistent snapshot. Out: *out is a new
 * reference owned by the caller. Returns: 0, CT_ENOTFOUND (unknown object;
 * the message names it), CT_EIO (SQLite), CT_ENOMEM. */

/* Table 9: {"name", "wallet", "registered"}. A wallet that never
 * registered gives {"name": "", "wallet": ..., "registered": false} (not
 * CT_ENOTFOUND), as the seed's GET /datacenter/{address}/details/ does. */
int ct_store_dc_by_wallet(ct_store *s, json_t **out, const ct_address *wallet);

/* The wallet of the DC registered as name (exact, case-sensitive).
 * Returns: 0, CT_ENOTFOUND or CT_EIO. */
int ct_store_dc_by_name(ct_store *s, ct_address *out, const char *name);

/* Array of Table 9 objects plus "registered_at" (block time of the
 * registration) and "containers" (number of VCs it hosts that are not
 * retired), in registration order. */
int ct_store_dc_list(ct_store *s, json_t **out);

/* Table 4, keys in the order of Listing 7, then "vc_tag" and "retired":
 * {"vc_type", "available", "id", "ip_address", "controller", "host",
 * "owner", "updated" (block time of the last change, as the contract's
 * updated), "created" (as the registering DC reported it), "vc_tag",
 * "retired"}. Returns CT_ENOTFOUND for an unknown tag. */
int ct_store_vc_details(ct_store *s, json_t **out, const uint8_t tag[32]);

/* Table 5: {"vcpu", "vram", "vdisk"}. CT_ENOTFOUND for an unknown tag. */
int ct_store_vc_flavor(ct_store *s, json_t **out, const uint8_t tag[32]);

/* Table 11 from the ContainerRegistered events of transaction tx_hash:
 * {"vc_tag", "owner", "created", "block_number", "block_hash"} of the
 * first VC it registered; when it registered several (registerContainers)
 * also "vc_tags": every tag in log order. CT_ENOTFOUND when the
 * transaction registered no VC (or is not cached yet). */
int ct_store_vc_tag_by_tx(ct_store *s, json_t **out, const uint8_t tx_hash[32]);

/* Array of Table 14 chain events about the VC, in chain order: {"id",
 * "name" (the event name of Table 2, or ContainerRetired), "args" (object
 * of the event's parameters by their Solidity names, in declaration
 * order; "timestamp" as a time), "log_index", "tx_index", "tx_hash",
 * "block_number", "block_hash", "address" (the contract), "created"
 * (block time)}. CT_ENOTFOUND for an unknown tag. */
int ct_store_vc_history(ct_store *s, json_t **out, const uint8_t tag[32]);

/* Turns logs of the ledger into the events history returns: the same
 * code the follower stores them with, so a verifier that decodes a log
 * proven from the chain can compare it with a gateway's answer field by
 * field. Read only after creation (may be shared by threads); borrows l,
 * which must outlive it. */
typedef struct ct_store_decoder ct_store_decoder;

/* Returns: 0, CT_EPARSE (an event the store folds is missing from the
 * ABI), CT_ENOMEM. */
int ct_store_decoder_new(ct_store_decoder **out, const ct_ledger *l);
void ct_store_decoder_free(ct_store_decoder *d);

/* Decodes one log ({"address", "topics", "data"} at least) into its event
 * name (borrowed from the ledger) and args in history's wire form.
 * Returns: 0; CT_ENOTFOUND (not an event of the ledger); CT_EPARSE. */
int ct_store_decode_event(const ct_store_decoder *d, const char **name, json_t **args,
                          const json_t *log);

/* A block time (seconds) as history's "created" shows it: an ISO 8601
 * time, or the integer when out of range. Returns: a new reference, or
 * NULL when out of memory. */
json_t *ct_store_time_json(int64_t seconds);

/* Table 7: {"vc_tag", "from_address", "to_address", "price", "invoice"}
 * of the VC's pending migration, or Listing 10's all-zero object (zero
 * tag, zero addresses, 0, 0) when the VC has none (none yet, confirmed,
 * or retired). CT_ENOTFOUND for an unknown tag. */
int ct_store_vc_pending(ct_store *s, json_t **out, const uint8_t tag[32]);

/* Which VCs a listing returns. */
typedef struct ct_store_vc_filter {
    const ct_address *host; /* NULL: any host */
    int available;          /* -1 any, 0 unavailable (retired included), 1 available */
    const char *id;         /* the VM or container id (Table 4 "id"), or NULL: any */
    size_t limit;           /* 0: no limit */
    size_t offset;          /* rows skipped */
} ct_store_vc_filter;

/* The filter that lets every VC through. */
#define CT_STORE_VC_ALL ((ct_store_vc_filter){NULL, -1, NULL, 0, 0})

/* Array of ct_store_vc_details objects in registration order, those that
 * pass f. */
int ct_store_vc_list(ct_store *s, json_t **out, const ct_store_vc_filter *f);

/* ---------------------------------------------------------------- SLA input */

/* What happened to a VC, for availability (SLA) computation. */
typedef enum ct_avail_kind {
    CT_AVAIL_REGISTERED = 1,      /* registered by host (= owner), available as reported */
    CT_AVAIL_UP = 2,              /* host reported it available */
    CT_AVAIL_DOWN = 3,            /* host reported it unavailable */
    CT_AVAIL_MIGRATION_START = 4, /* host recorded the intent to move it to peer */
    CT_AVAIL_MIGRATION_END = 5,   /* host (the former target) confirmed; peer is the origin */
    CT_AVAIL_RETIRED = 6          /* host retired it: unavailable for good */
} ct_avail_kind;

typedef struct ct_avail_change {
    int64_t time_ms;       /* the event's "timestamp" as the DC reported it (for
                              REGISTERED: created); block_time_ms when it lies
                              outside years 0000-9999 */
    int64_t block_time_ms; /* time of the block that recorded it */
    int kind;              /* ct_avail_kind */
    bool available;        /* availability after the change, as the contract
                              holds it (migrations leave it unchanged) */
    ct_address host;       /* the host after the change */
    ct_address peer;       /* MIGRATION_START: target; MIGRATION_END: origin;
                              otherwise zero */
    uint64_t event_id;     /* Table 14 id of the event */
} ct_avail_change;

/* The VC's availability timeline, in chain order.
 * Out: *out malloc'd array of *n entries (caller frees with free(); NULL
 * when *n is 0, which cannot happen for a known tag).
 * Returns: 0, CT_ENOTFOUND (unknown tag), CT_EIO, CT_ENOMEM. */
int ct_store_vc_timeline(ct_store *s, ct_avail_change **out, size_t *n, const uint8_t tag[32]);

/* ---------------------------------------------------------------- dump */

/* A canonical text of every table's content (meta, blocks, events,
 * datacenters, containers, pending), rows in primary-key order, one line
 * each, blobs in hex: two caches hold the same data exactly when their
 * dumps are equal (after --reindex, a restart, a reorganisation).
 * Out: *out malloc'd NUL-terminated text, caller frees.
 * Returns: 0, CT_EIO, CT_ENOMEM. */
int ct_store_dump(ct_store *s, char **out);

/* ---------------------------------------------------------------- event monitor
 *
 * The explorer's event monitor (src/store/monitor.c, monitor_logs.c): a
 * registration is a contract address, a label, the ABI JSON text of the
 * events it watches and a JSON array of their names (empty: all). The
 * follower reads each registration's logs into the cache after its own
 * range (ct_follower_poll), from block 0 up to the block it has processed,
 * decoded with that ABI; a reorganisation removes them with the events
 * (the rewind) and they are read again. Registrations are user input:
 * ct_store_reset keeps them (their logs are read again) and
 * ct_store_dump ignores them and their logs. Thread safety as every call
 * on a handle. */

/* Picks the event entries of abi (a solc ABI JSON array) named in names
 * (an array of strings; NULL or empty: every event) and checks that each
 * makes a signature (ct_abi_sig_from_json).
 * Out: *out new ref, the array of those entries.
 * Returns: 0, CT_EINVAL (the message names the event or entry at fault:
 * a name not in the ABI, no events, a bad entry), CT_ENOMEM. */
int ct_store_monitor_watched(json_t **out, const json_t *abi, const json_t *names);

/* Adds a registration unless max of them exist already: counted and
 * inserted in one write transaction, so concurrent adds through any
 * handles on the file never store more than max.
 * Out: *out the new registration's id.
 * Returns: 0, CT_ELIMIT (max reached), CT_EIO. */
int ct_store_monitor_add(ct_store *s, int64_t *out, const ct_address *address, const char *label,
                         const char *abi_json, const char *events_json, size_t max);

/* Out: *out new ref, an array of {"id", "address", "label", "abi" (parsed),
 * "events" (parsed), "created" (Unix seconds), "synced_block" (the last
 * block whose logs are in the cache, null before the first)} in id order.
 * Returns: 0, CT_EIO, CT_ENOMEM. */
int ct_store_monitor_list(ct_store *s, json_t **out);

/* Out: *out new ref, one registration as in ct_store_monitor_list.
 * Returns: 0, CT_ENOTFOUND, CT_EIO, CT_ENOMEM. */
int ct_store_monitor_get(ct_store *s, json_t **out, int64_t id);

/* Deletes a registration and its logs. Returns: 0, CT_ENOTFOUND, CT_EIO. */
int ct_store_monitor_delete(ct_store *s, int64_t id);

/* Most logs one page holds. */
#define CT_STORE_MONITOR_PAGE_MAX 500

/* One page of a registration's logs, read in one snapshot.
 * Args: oldest_first orders by chain position ascending (else newest
 * first); after, when not NULL, is a cursor ("block-logindex", as "next"
 * gives it) and the page starts just past it in that order; limit is
 * 1..CT_STORE_MONITOR_PAGE_MAX.
 * Out: *out new ref, {"monitor": as ct_store_monitor_get, "logs":
 * [{"block_number", "log_index", "tx_hash", "event", "args"}], "next":
 * the cursor of the page's last log when more follow it, else null}.
 * Returns: 0, CT_EINVAL (a malformed cursor), CT_ENOTFOUND, CT_EIO,
 * CT_ENOMEM. */
int ct_store_monitor_logs(ct_store *s, json_t **out, int64_t id, bool oldest_first,
                          const char *after, size_t limit);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_STORE_H */
