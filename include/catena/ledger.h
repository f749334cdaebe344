/* Catena ledger: the Federation contract (contracts/Federation.sol),
 * compiled at build time and embedded; calls encoded and events decoded by
 * name through its ABI; deployment; the VC tag formula. */
#ifndef CATENA_LEDGER_H
#define CATENA_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catena/crypto.h"
#include "catena/eth.h"
#include "catena/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The Federation contract's ABI, parsed once. Read only after creation, so
 * one ct_ledger may be shared by threads. */
typedef struct ct_ledger ct_ledger;

/* Parses the embedded artefact. Out: *out, free with ct_ledger_free.
 * Returns: 0 or CT_ENOMEM/CT_EPARSE (a build defect). */
int ct_ledger_open(ct_ledger **out);

/* The same for another embedded contract: "Federation", "Registry",
 * "Cloud", "Application". Returns: 0, CT_ENOTFOUND (no such contract),
 * CT_ENOMEM. */
int ct_ledger_open_contract(ct_ledger **out, const char *contract);

void ct_ledger_free(ct_ledger *l);

/* Returns: the contract's ABI JSON array (borrowed). */
const json_t *ct_ledger_abi(const ct_ledger *l);

/* Returns: the creation bytecode (borrowed), its length in *len. */
const uint8_t *ct_ledger_bytecode(const ct_ledger *l, size_t *len);

/* Where a state variable, or a member of the struct it holds (itself or
 * as a mapping's value), lives in the contract's storage, from solc's
 * storage layout: the variable's slot, the member's slot within the
 * struct, and the member's byte offset (from the slot's low end) and
 * size. A mapping's entry for key k is at keccak256(k . slot), plus
 * member_slot. */
typedef struct ct_ledger_storage {
    uint64_t slot;
    uint64_t member_slot;
    unsigned offset;
    unsigned size;
} ct_ledger_storage;

/* Args: member NULL for the variable itself.
 * Returns: 0, CT_ENOTFOUND (no such variable or member), CT_EPARSE. */
int ct_ledger_storage_member(const ct_ledger *l, ct_ledger_storage *out, const char *var,
                             const char *member);

/* Appends the calldata of function(args...) to out; args is a JSON array
 * in the ABI's value form (see ct_abi_encode).
 * Returns: 0, CT_ENOTFOUND (no such function), CT_EINVAL (bad args). */
int ct_ledger_encode_call(const ct_ledger *l, ct_buf *out, const char *function,
                          const json_t *args);

/* Decodes the return data of function. Out: *out new ref, a JSON array.
 * Returns: 0, CT_ENOTFOUND, CT_EPARSE. */
int ct_ledger_decode_result(const ct_ledger *l, json_t **out, const char *function,
                            const uint8_t *data, size_t len);

/* Decodes one log as returned by eth_getLogs / receipts.
 * Out: *name the event's name (borrowed, lives as long as l), *args a new
 * JSON object {parameter name: value}.
 * Returns: 0; CT_ENOTFOUND when topic 0 is not a Federation event;
 * CT_EPARSE when the log is malformed. */
int ct_ledger_decode_log(const ct_ledger *l, const char **name, json_t **args, const json_t *log);

/* Decodes a transaction's input against the contract's functions (the
 * first 4 bytes select one).
 * Out: *name the function's name (borrowed, lives as long as l), *args a
 * new JSON object {parameter name (or "argN"): value} in ct_abi_decode's
 * value form.
 * Returns: 0; CT_ENOTFOUND when the selector is not a Federation function
 * (or data is shorter than 4 bytes); CT_EPARSE when the arguments are
 * malformed. */
int ct_ledger_decode_call(const ct_ledger *l, const char **name, json_t **args, const uint8_t *data,
                          size_t len);

/* topic 0 of the event called name. Returns: 0 or CT_ENOTFOUND. */
int ct_ledger_event_topic(const ct_ledger *l, uint8_t out[32], const char *name);

/* Deploys the contract through s (open: any wallet may register a DC;
 * otherwise the admin admits each one) and waits for the receipt.
 * Out: the contract address and the deployment block.
 * Returns: 0 or the sender's error. */
int ct_ledger_deploy(const ct_ledger *l, ct_sender *s, bool open, ct_address *addr,
                     uint64_t *block);

/* Deploys the contract through s with constructor arguments args (a JSON
 * array, ABI JSON conventions) and waits for it.
 * Out: *addr; *block (may be NULL) the block it is in.
 * Returns: 0, CT_EINVAL (arguments), or the sender's error. */
int ct_ledger_deploy_with(const ct_ledger *l, ct_sender *s, const json_t *args, ct_address *addr,
                          uint64_t *block);

/* Sends function(args) to the contract at `to`, with value wei (NULL: 0),
 * and waits until it is mined.
 * Out: res (may be NULL; clear with ct_send_result_clear).
 * Returns: 0; CT_EREVERT (the contract's reason in the message), or the
 *          sender's other errors; CT_ENOTFOUND, CT_EINVAL (arguments). */
int ct_ledger_transact(const ct_ledger *l, ct_sender *s, ct_send_result *res, const ct_address *to,
                       const ct_u256 *value, const char *function, const json_t *args);

/* Calls function(args) at `to` on the latest block without a transaction.
 * Out: *out new ref: the decoded return values as a JSON array.
 * Returns: 0, CT_ERPC (a revert: the node's message), CT_EPARSE, ... */
int ct_ledger_read(const ct_ledger *l, ct_rpc *rpc, json_t **out, const ct_address *to,
                   const char *function, const json_t *args);

/* A VC as the Federation contract holds it (its container(tag) view). */
typedef struct ct_ledger_vc_state {
    ct_address host; /* all zero when the tag is not registered */
    bool registered, available, retired;
} ct_ledger_vc_state;

/* Reads VC tag ("0x" + 64 hex digits) from the Federation at `contract`.
 * Returns: 0 (an unregistered tag too: out->registered false), or the
 *          errors of ct_ledger_read; CT_EPARSE for an answer without a
 *          host. */
int ct_ledger_vc_state_read(ct_ledger_vc_state *out, const ct_ledger *l, ct_rpc *rpc,
                            const ct_address *contract, const char *tag);

/* A Cloud scheduler's signature of a reservation (seed 002 section 3.2):
 * EIP-712 typed data Reservation(client, toscaHash, services, expiry, salt)
 * in the domain ("CatenaCloud", "1", chain_id, cloud), services being
 * keccak256(abi.encode(string[] services, bytes32[] resources)).
 * tosca_hash and salt are "0x" + 64 hex digits.
 * Out: sig (r, s, v), digest_out (may be NULL) the digest signed.
 * Returns: 0, CT_EINVAL, CT_ENOMEM, CT_ECRYPTO. */
int ct_ledger_sign_reservation(uint8_t sig[65], uint8_t digest_out[32], uint64_t chain_id,
                               const ct_address *cloud, const ct_address *client,
                               const char *tosca_hash, const char *const *services,
                               const char *const *resources, size_t n, uint64_t expiry,
                               const char *salt, const uint8_t sched_key[32]);

/* Application contracts (seed 002): how many of the checkpoints not yet
 * paid one interimPayment(k) sent by from pays, as large as fits in 90% of
 * the latest block's gas limit by eth_estimateGas (halving from all of
 * them; the seed's advice to estimate k). l is the Application ABI.
 * Out: *k, 0 when every checkpoint is paid.
 * Returns: 0, or the RPC's error reading the counts. */
int ct_ledger_app_pay_k(const ct_ledger *l, ct_rpc *rpc, uint64_t *k, const ct_address *app,
                        const ct_address *from);

/* The VC tag the contract derives:
 * keccak256(abi.encodePacked(vcType, id, owner, uint256 created)). */
void ct_ledger_vc_tag(uint8_t out[32], const char *vc_type, const char *id, const ct_address *owner,
                      uint64_t created);

/* ---------------------------------------------------------------- agreements */

/* The agreement contracts of seed 004, and the Federation ledger they
 * read (docs/AGREEMENTS.md). */
typedef enum ct_ag_contract {
    CT_AG_AGREEMENT = 0, /* fixed, dynamic, flexible (constrained) */
    CT_AG_PREPAID,       /* time-limited usage */
    CT_AG_SHARED,        /* division of income, consensus decision */
    CT_AG_N,
    CT_AG_FEDERATION = CT_AG_N
} ct_ag_contract;

typedef struct ct_agreements ct_agreements;

/* Opens the ABIs of the three contracts and the Federation.
 * Returns: 0 or CT_ENOMEM. */
int ct_agreements_open(ct_agreements **out);
void ct_agreements_free(ct_agreements *a);

/* Returns: the ABI of which (borrowed). */
const ct_ledger *ct_agreements_abi(const ct_agreements *a, ct_ag_contract which);

/* Returns: "Agreement", "PrepaidAgreement", "SharedAgreement" or
 * "Federation". */
const char *ct_agreements_name(ct_ag_contract which);

/* Tells which contract lives at `at` by the view it answers.
 * Returns: 0; CT_ENOTFOUND ("no contract at ...", "... is no
 * agreement"), or the RPC's error. */
int ct_agreements_identify(const ct_agreements *a, ct_rpc *rpc, const ct_address *at,
                           ct_ag_contract *which);

/* Everything `catena agreement show` prints about the agreement at `at`
 * (of contract which) as JSON: address, contract, kind, state, parties,
 * terms, times, seconds_used, charged, refunded, owed (per party, not
 * yet withdrawn), paid (per party: withdrawn + owed), balance, and for an Agreement sla_percent,
 * constraints, federation, vc_tag, session_url, bound_at, availability, host_dc. Uint values are
 * decimal strings. Out: *out new ref.
 * Returns: 0, or the RPC's error (the balance or the parties). */
int ct_agreements_read(const ct_agreements *a, ct_rpc *rpc, const ct_address *at,
                       ct_ag_contract which, json_t **out);

/* ---------------------------------------------------------------- constraints */

/* Appends one --constraint KEY=VALUE[|VALUE...] to the pairs Agreement.sol
 * takes (the key repeated for each value allowed), at most max pairs.
 * Returns: 0, CT_EINVAL (the message quotes arg), CT_ELIMIT, CT_ENOMEM. */
int ct_ledger_constraint_parse(json_t *keys, json_t *values, const char *arg, size_t max);

/* Whether attrs ([keys], [values] as Federation.attributes returns them)
 * satisfy the pairs: for every key, the attribute is one of the values
 * given for it (Agreement.satisfiedBy). No pairs: true. */
bool ct_ledger_attrs_satisfy(const json_t *attrs, const json_t *keys, const json_t *values);

/* Reads Federation.attributes(wallet) at contract. Out: *out new ref.
 * Returns: 0 or the RPC's error. */
int ct_ledger_dc_attributes(const ct_ledger *fed, ct_rpc *rpc, json_t **out,
                            const ct_address *contract, const ct_address *wallet);

/* The wallet of the DC registered as name. Returns: 0; CT_ENOTFOUND (none
 * by that name), or the RPC's error. */
int ct_ledger_dc_by_name(const ct_ledger *fed, ct_rpc *rpc, ct_address *out,
                         const ct_address *contract, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_LEDGER_H */
