/* Catena verify: proves a VC's history from the chain's own commitments
 * instead of trusting a gateway's cache. Evidence (a "bundle") is
 * collected from a node: the block headers from the VC's registration to
 * a head (their hashes link through parent hashes), every receipt of each
 * block whose logs bloom may hold the VC's events (their trie root is the
 * header's receiptsRoot), an inclusion proof for each receipt that
 * carries one, and the Federation's storage proof of the VC's slot
 * (eth_getProof against the head's stateRoot). A checker then derives the
 * VC's events from the evidence alone and compares them with what a
 * gateway claimed, naming every difference. docs/VERIFY.md. */
#ifndef CATENA_VERIFY_H
#define CATENA_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "catena/eth.h"
#include "catena/ledger.h"
#include "catena/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The bundle's "format". */
#define CT_VERIFY_FORMAT "catena-vc-proof/1"

typedef struct ct_verify_collect_opts {
    /* The last block to read; 0: the node's latest. */
    uint64_t head;
    /* ct_time_mono_ms() past which collecting stops with CT_ETIMEOUT,
     * checked between batches of headers (each RPC call is bounded by the
     * rpc's own timeout); 0: none. */
    int64_t deadline_ms;
    /* Most blocks a bundle may span (about 1.2 kB each); past it
     * CT_ELIMIT before any header is read; 0: no limit. */
    uint64_t max_blocks;
} ct_verify_collect_opts;

/* Collects the evidence for VC tag of the Federation at contract from the
 * node(s) of rpc, from 8 blocks before its registration up to the head
 * of o (NULL: the defaults, all zero). A node
 * that changes its chain while being read (a reorganisation) is read
 * again, up to three times.
 * Out: *bundle a new JSON object: {"format", "chain_id", "contract",
 * "tag", "from", "head": {"number", "hash"}, "headers": [RLP hex, from
 * "from" to the head], "blocks": [{"number", "receipts": [hex],
 * "tx_hashes": [hex], "proofs": [{"index", "nodes": [hex]}]}] (the blocks
 * whose bloom may hold the VC's events), "state": {"slot", "account":
 * [hex], "storage": [hex]} or null with "state_note" when the node has no
 * eth_getProof}. The caller adds the claims to check ("history", and
 * "details" when known).
 * Returns: 0; CT_ENOTFOUND (the VC is not registered up to head);
 * CT_EPARSE (the node's blocks or receipts do not match their own
 * commitments: the message names the block); CT_ESTATE (the chain kept
 * changing); CT_ELIMIT (the range passes o->max_blocks); CT_ETIMEOUT
 * (o->deadline_ms passed, or a call timed out); CT_ERPC; CT_ENOMEM. */
int ct_verify_collect(json_t **bundle, ct_rpc *rpc, const ct_ledger *l, const ct_address *contract,
                      const uint8_t tag[32], const ct_verify_collect_opts *o);

typedef struct ct_verify_opts {
    /* The block the user trusts; the bundle's head must be it. NULL: the
     * bundle's own head is taken on trust (the caller got it from nodes
     * it trusts). */
    const uint8_t *trust_hash;
    uint64_t trust_number;
    /* The Federation the user means; NULL: the bundle's. */
    const ct_address *contract;
} ct_verify_opts;

/* Checks a bundle with no network: headers hash and link, the head is the
 * trusted block, each block's receipts rebuild its receiptsRoot, the
 * inclusion proofs hold, every block left out has a bloom that excludes
 * the VC, and the storage proof holds against the head's stateRoot. The
 * VC's events are then taken from the proven receipts (decoded by dec, as
 * history shows them) and compared with the bundle's "history": each
 * claimed event in order and field by field (name, args, log_index,
 * tx_index, tx_hash, block_number, block_hash, address, created), events
 * the history lacks, events the chain lacks; and "details" (host,
 * available, retired) with the proven storage slot.
 * Out: *report a new object {"ok", "tag", "contract", "from", "head",
 * "head_hash", "blocks", "blocks_with_receipts", "events" (proven),
 * "claimed", "state" (the proven slot, or null), "problems": [{"kind",
 * "message", and where they apply "block", "event" (index in history),
 * "field", "claimed", "proven"}]}. Kinds: "bundle", "trust", "header",
 * "receipts", "proof", "bloom", "state", "order", "forged" (a claimed
 * event the chain does not have), "unproven" (a claimed event in a block
 * whose receipts the bundle lacks), "ahead" (a claimed event after the
 * bundle's head: not checkable yet), "missing" (an event of the chain the
 * history lacks), "field", "details".
 * Returns: 0 when the check ran (ok or not); CT_ENOMEM. */
int ct_verify_check(json_t **report, const ct_store_decoder *dec, const ct_ledger *l,
                    const json_t *bundle, const ct_verify_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_VERIFY_H */
