/* What the files of the eth module share and nobody else sees: the limits
 * and size helpers common to ABI type parsing (abi_type.c) and the ABI
 * coder (abi.c); the sender's outbox (outbox.c); the JSON-RPC client's
 * failover count (rpc.c), which sending a raw transaction reads
 * (rpc_methods.c). */
#ifndef CATENA_ETH_INT_H
#define CATENA_ETH_INT_H

#include <stddef.h>

#include "catena/eth.h"

/* Deepest ABI type tree accepted (tuples and array dimensions each count
 * one level), so the coder's recursion is bounded by the type. */
#define CT_ETH__ABI_MAX_DEPTH 32

/* Largest head (static part) of one ABI type in bytes: 2^26, two million
 * words. The parser refuses bigger types, so size arithmetic on parsed
 * types cannot overflow. */
#define CT_ETH__ABI_MAX_STATIC ((size_t)1 << 26)

/* Returns: the bytes t occupies in the head of its enclosing tuple: 32 for a
 * dynamic type, else its whole static encoding (0 for "()" or "T[0]"). */
size_t ct_eth__abi_head_size(const ct_abi_type *t);

/* ---------------------------------------------------------------- outbox */

/* The sender's durable outbox (outbox.c): signed transactions in a file,
 * kept until the chain is well past their nonce. Not thread safe: the
 * sender calls it under its lock. */
typedef struct ct_eth__outbox ct_eth__outbox;

/* Opens (or creates) the outbox file at path for the account from on the
 * chain whose genesis hash is given.
 * Returns: 0; CT_ESTATE when the file belongs to another chain or
 * account; CT_EPARSE when it is damaged (a torn last line is dropped);
 * CT_EIO; CT_ENOMEM. */
int ct_eth__outbox_open(ct_eth__outbox **out, const char *path, const uint8_t genesis[32],
                        const ct_address *from);
void ct_eth__outbox_free(ct_eth__outbox *o);

/* Returns: one past the highest nonce held, or 0 when empty. */
uint64_t ct_eth__outbox_next_nonce(const ct_eth__outbox *o);

/* Appends a signed transaction (written, not yet synced: see
 * ct_eth__outbox_sync_fd). Returns: 0, CT_EIO. */
int ct_eth__outbox_add(ct_eth__outbox *o, uint64_t nonce, const uint8_t *raw, size_t len);

/* Returns: a new descriptor of the outbox file (close it), to fdatasync
 * outside the sender's lock, so that concurrent senders share one disk
 * flush instead of queueing for one each; -1 on failure. */
int ct_eth__outbox_sync_fd(ct_eth__outbox *o);

/* Takes back the last entry added (the node refused it outright).
 * Returns: 0, CT_EIO. */
int ct_eth__outbox_drop_last(ct_eth__outbox *o);

/* Sends again, in nonce order, every entry whose nonce is at least
 * chain_nonce (the account's nonce in the chain's latest state) and that
 * was last sent quiet_ms ago or more, through resend; forgets entries below
 * chain_nonce that are older than keep_ms.
 * Out: *resent how many were sent again.
 * Returns: 0, CT_EIO (rewriting the file). resend's errors are logged
 * and skipped: the next sweep tries again. */
int ct_eth__outbox_sweep(ct_eth__outbox *o, uint64_t chain_nonce, int64_t keep_ms,
                         int64_t quiet_ms,
                         int (*resend)(const uint8_t *raw, size_t len, void *payload),
                         void *payload, size_t *resent);

/* Most URLs one JSON-RPC client fails over between. */
#define CT_ETH__RPC_MAX_NODES 16

/* Returns: how many times rpc has moved on to the next node so far. */
unsigned ct_eth__rpc_failovers(const ct_rpc *rpc);

#endif /* CATENA_ETH_INT_H */
