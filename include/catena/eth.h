/* Catena eth: RLP, the Solidity ABI, transactions (legacy, EIP-155,
 * EIP-2930, EIP-1559), the JSON-RPC client, the nonce-owning sender, and
 * the local Hardhat development node. */
#ifndef CATENA_ETH_H
#define CATENA_ETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "catena/crypto.h"
#include "catena/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- RLP */

/* Deepest list nesting the writer and the JSON converters accept. */
#define CT_RLP_MAX_DEPTH 32

/* Writes RLP into a caller buffer without allocating. Errors are sticky:
 * calls after the first failure do nothing, and ct_rlp_finish reports it.
 * A list's payload is written first and moved right when the list ends, so
 * the buffer needs room for the final encoding only. */
typedef struct ct_rlp_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    size_t starts[CT_RLP_MAX_DEPTH]; /* payload offsets of open lists */
    int depth;
    int err;
} ct_rlp_writer;

void ct_rlp_writer_init(ct_rlp_writer *w, uint8_t *buf, size_t cap);
void ct_rlp_put_bytes(ct_rlp_writer *w, const uint8_t *data, size_t len);
/* An integer as its minimal big-endian bytes (0 is the empty string). */
void ct_rlp_put_uint(ct_rlp_writer *w, uint64_t v);
void ct_rlp_put_u256(ct_rlp_writer *w, const ct_u256 *v);
void ct_rlp_list_begin(ct_rlp_writer *w);
void ct_rlp_list_end(ct_rlp_writer *w);
/* Out: *len the encoding's length (at w->buf).
 * Returns: 0, CT_ELIMIT (buffer or depth) or CT_ESTATE (unclosed list). */
int ct_rlp_finish(ct_rlp_writer *w, size_t *len);

/* A decoded item points into the input (no copy). */
typedef struct ct_rlp_item {
    const uint8_t *data; /* payload: the string's bytes or the list's items */
    size_t len;
    bool is_list;
} ct_rlp_item;

/* Decodes exactly one item spanning all of in[0..len). Strict: rejects
 * non-canonical length forms, a single byte below 0x80 wrapped as a
 * string, leading zeros in lengths, lengths past the end, and trailing
 * bytes. Returns: 0 or CT_EPARSE (message has the offset). */
int ct_rlp_decode(ct_rlp_item *out, const uint8_t *in, size_t len);

typedef struct ct_rlp_iter {
    const uint8_t *p;
    const uint8_t *end;
} ct_rlp_iter;

/* Iterates over the items of a list item. */
void ct_rlp_iter_init(ct_rlp_iter *it, const ct_rlp_item *list);
/* Returns: 1 and the next item, 0 at the end, or CT_EPARSE. */
int ct_rlp_iter_next(ct_rlp_iter *it, ct_rlp_item *out);

/* Reads a string item as a canonical integer (no leading zeros).
 * Returns: 0, CT_EPARSE (list, leading zero) or CT_ERANGE. */
int ct_rlp_item_uint(uint64_t *out, const ct_rlp_item *it);
int ct_rlp_item_u256(ct_u256 *out, const ct_rlp_item *it);

/* JSON forms used by `catena tool` and the ethers vectors: a "0x.." string
 * is a byte string, an array a list.
 * Out: ct_rlp_from_json: *out malloc'd, *len; ct_rlp_to_json: new ref.
 * Returns: 0, CT_EPARSE/CT_EINVAL naming the bad element, CT_ELIMIT. */
int ct_rlp_from_json(uint8_t **out, size_t *len, const json_t *v);
int ct_rlp_to_json(json_t **out, const uint8_t *in, size_t len);

/* ---------------------------------------------------------------- trie */

/* A byte string owned by whoever holds it (proof nodes). */
typedef struct ct_bytes {
    uint8_t *data;
    size_t len;
} ct_bytes;

/* Ethereum's Merkle Patricia trie over a set of key/value pairs, built in
 * memory (a block's receipts or transactions: keys rlp(index)). Keys are
 * at most 64 bytes, values at most 16 MiB. Not thread safe. */
typedef struct ct_trie ct_trie;

int ct_trie_new(ct_trie **out);
void ct_trie_free(ct_trie *t);

/* Sets key to val (both copied); a second put of a key replaces it, and
 * an empty value deletes the key (Ethereum's rule).
 * Returns: 0, CT_ELIMIT (key or value too long), CT_ENOMEM. */
int ct_trie_put(ct_trie *t, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len);

/* Returns: the number of distinct keys (after replacements, once the
 * root or a proof was computed). */
size_t ct_trie_size(const ct_trie *t);

/* The root hash (keccak256(rlp("")) for an empty trie).
 * Returns: 0 or CT_ENOMEM. */
int ct_trie_root(ct_trie *t, uint8_t out[32]);

/* The proof of key: every node on its path that its parent references by
 * hash, root first (eth_getProof's form). An absent key gets the nodes
 * up to where its path leaves the trie.
 * Out: *nodes (free with ct_trie_proof_free), *n.
 * Returns: 0, CT_ELIMIT, CT_ENOMEM. */
int ct_trie_prove(ct_trie *t, ct_bytes **nodes, size_t *n, const uint8_t *key, size_t key_len);

void ct_trie_proof_free(ct_bytes *nodes, size_t n);

/* Checks a proof of key against root. Every node must hash to its
 * parent's reference, and the proof must hold no node past the path.
 * Out: *val, *val_len the value (pointing into nodes) when present.
 * Returns: 0 (present); CT_ENOTFOUND (proven absent); CT_EPARSE (the
 * proof does not prove anything about key under root, message says why);
 * CT_ELIMIT (key too long). */
int ct_trie_verify(const uint8_t **val, size_t *val_len, const uint8_t root[32], const uint8_t *key,
                   size_t key_len, const ct_bytes *nodes, size_t n);

/* ---------------------------------------------------------------- blocks */

/* What a verifier reads of a block header; hash is keccak of its RLP. */
typedef struct ct_header {
    uint8_t hash[32];
    uint8_t parent[32];
    uint8_t state_root[32];
    uint8_t tx_root[32];
    uint8_t receipts_root[32];
    uint8_t bloom[256];
    uint64_t number;
    uint64_t time;
} ct_header;

/* The header's RLP from an eth_getBlockBy* answer: the 15 fields of
 * Frontier and those later hardforks append (baseFeePerGas,
 * withdrawalsRoot, blobGasUsed, excessBlobGas, parentBeaconBlockRoot,
 * requestsHash) when the block has them. Its keccak is the block hash if
 * the node told the truth.
 * Out: *out malloc'd, *len. Returns: 0, CT_EPARSE naming the field. */
int ct_header_encode_json(uint8_t **out, size_t *len, const json_t *block);

/* Reads a header's RLP. Returns: 0 or CT_EPARSE. */
int ct_header_decode(ct_header *out, const uint8_t *rlp, size_t len);

/* A receipt's consensus encoding from an eth_getTransactionReceipt
 * answer: rlp([status or root, cumulativeGasUsed, logsBloom, logs]),
 * behind its type byte for typed transactions (EIP-2718): the value the
 * receipts trie holds under rlp(transactionIndex).
 * Out: *out malloc'd, *len. Returns: 0, CT_EPARSE naming the field. */
int ct_receipt_encode_json(uint8_t **out, size_t *len, const json_t *receipt);

/* Decodes a receipt's consensus encoding into {"type", "status" (or
 * "root"), "cumulativeGasUsed", "logsBloom", "logs": [{"address",
 * "topics", "data"}]} (hex as in JSON-RPC). Out: *out new ref.
 * Returns: 0 or CT_EPARSE. */
int ct_receipt_decode(json_t **out, const uint8_t *enc, size_t len);

/* The logs bloom (Yellow Paper 4.4.1): adds data (an address or a topic),
 * or tells whether it may have been added (false: certainly not). */
void ct_bloom_add(uint8_t bloom[256], const uint8_t *data, size_t len);
bool ct_bloom_may_contain(const uint8_t bloom[256], const uint8_t *data, size_t len);

/* ---------------------------------------------------------------- ABI */

typedef enum ct_abi_kind {
    CT_ABI_UINT,
    CT_ABI_INT,
    CT_ABI_ADDRESS,
    CT_ABI_BOOL,
    CT_ABI_FIXED_BYTES, /* bytes1..bytes32 */
    CT_ABI_BYTES,
    CT_ABI_STRING,
    CT_ABI_ARRAY, /* T[k] (fixed, length >= 0) or T[] (length -1) */
    CT_ABI_TUPLE
} ct_abi_kind;

/* A parsed ABI type. Trees are owned by their root (ct_abi_type_free). */
typedef struct ct_abi_type {
    ct_abi_kind kind;
    unsigned size;              /* bits for (u)int, bytes for bytesN */
    long length;                /* ARRAY: element count, -1 when dynamic */
    struct ct_abi_type **items; /* TUPLE: components; ARRAY: items[0] */
    size_t n_items;
    char *name;   /* component or parameter name, may be NULL */
    bool indexed; /* event parameter */
} ct_abi_type;

/* Parses a type such as "uint256", "(string,(uint256,bytes32)[])[2]" or a
 * parameter list with names "(address to, uint amount)". "uint"/"int" mean
 * 256 bits. Returns: 0 or CT_EPARSE naming the offset. */
int ct_abi_type_parse(ct_abi_type **out, const char *text);

void ct_abi_type_free(ct_abi_type *t);

/* Writes the canonical type string ("(uint256,string)") into b. */
int ct_abi_type_canonical(ct_buf *b, const ct_abi_type *t);

/* Returns: whether the type's encoding is dynamic (has a head offset). */
bool ct_abi_type_dynamic(const ct_abi_type *t);

/* Values are JSON: integers as JSON integers or decimal/"0x" strings
 * (negative decimal for int), addresses as hex strings, bool as JSON
 * booleans, bytes/bytesN as "0x" hex, string as JSON strings, arrays and
 * tuples as JSON arrays. Ranges are checked (uint8 300 is an error).
 * Out: the encoding is appended to out.
 * Returns: 0, CT_EINVAL naming the path of the bad value ("[1][0]"), or
 * CT_ELIMIT. */
int ct_abi_encode(ct_buf *out, const ct_abi_type *t, const json_t *value);

/* Decodes data as type t (a tuple for a parameter list). Strict: offsets
 * and lengths must lie inside data, padding must be zero, bools 0 or 1,
 * addresses and small ints correctly extended.
 * Out: *out new ref: integers as decimal strings, addresses EIP-55, bytes
 * as "0x" hex, strings as strings (invalid UTF-8 is an error), arrays and
 * tuples as arrays.
 * Returns: 0 or CT_EPARSE naming the offset. */
int ct_abi_decode(json_t **out, const ct_abi_type *t, const uint8_t *data, size_t len);

/* A function or event signature "name(types)", with optional parameter
 * names and "indexed" (events). */
typedef struct ct_abi_sig {
    char *name;
    ct_abi_type *params; /* a TUPLE */
} ct_abi_sig;

/* Parses "transfer(address,uint256)" or "Transfer(address indexed from,
 * address indexed to, uint256 value)". Returns: 0 or CT_EPARSE. */
int ct_abi_sig_parse(ct_abi_sig **out, const char *text);

/* Builds a signature from one entry of solc's ABI JSON (a function or
 * event; tuples from "components"). Returns: 0 or CT_EINVAL. */
int ct_abi_sig_from_json(ct_abi_sig **out, const json_t *entry);

void ct_abi_sig_free(ct_abi_sig *sig);

/* Writes "name(canonical types)" into b. */
int ct_abi_sig_canonical(ct_buf *b, const ct_abi_sig *sig);

/* The first 4 bytes of keccak256 of the canonical signature. */
int ct_abi_selector(uint8_t out[4], const ct_abi_sig *sig);

/* keccak256 of the canonical signature (an event's topic 0). */
int ct_abi_topic(uint8_t out[32], const ct_abi_sig *sig);

/* Decodes an event log against sig: indexed parameters from topics[1..]
 * (dynamic ones arrive as their 32-byte hash, returned as "0x" hex),
 * the others from data. topics[0] must match unless the event is
 * anonymous (anonymous: topics start at index 0).
 * Out: *out a new JSON object {param name or "argN": value}.
 * Returns: 0, CT_EINVAL (topic 0 mismatch, wrong topic count), CT_EPARSE. */
int ct_abi_decode_log(json_t **out, const ct_abi_sig *sig, bool anonymous,
                      const uint8_t (*topics)[32], size_t n_topics, const uint8_t *data,
                      size_t len);

/* ---------------------------------------------------------------- EIP-712 */

/* The domain separator of EIP712Domain(string name, string version,
 * uint256 chainId, address verifyingContract), as OpenZeppelin's EIP712
 * builds it. */
void ct_eip712_domain(uint8_t out[32], const char *name, const char *version, uint64_t chain_id,
                      const ct_address *contract);

/* hashStruct of a flat struct: keccak256(typehash || abi.encode(values)).
 * type is its encodeType string ("Accept(uint256 nonce,address leader)");
 * values a JSON array in member order (ABI JSON conventions). Members must
 * be atomic (no string, bytes, arrays or nested structs).
 * Returns: 0, CT_EINVAL (type or values), CT_ENOMEM. */
int ct_eip712_hash_struct(uint8_t out[32], const char *type, const json_t *values);

/* keccak256(0x19 0x01 || domain || struct_hash). */
void ct_eip712_digest(uint8_t out[32], const uint8_t domain[32], const uint8_t struct_hash[32]);

/* Signs digest as r || s || v (v = 27 or 28), the form ECDSA.recover takes.
 * Returns: 0 or CT_ECRYPTO. */
int ct_eip712_sign(uint8_t sig[65], const uint8_t digest[32], const uint8_t seckey[CT_SECKEY_SIZE]);

/* ---------------------------------------------------------------- transactions */

typedef struct ct_access_entry {
    ct_address address;
    uint8_t (*keys)[32];
    size_t n_keys;
} ct_access_entry;

/* One transaction of type 0 (legacy, pre-EIP-155 when !has_chain_id),
 * 1 (EIP-2930) or 2 (EIP-1559). data and access_list are owned by the
 * transaction (ct_tx_clear frees them). */
typedef struct ct_tx {
    int type;
    bool has_chain_id; /* always true for types 1 and 2 */
    uint64_t chain_id;
    uint64_t nonce;
    uint64_t gas_limit;
    ct_u256 gas_price;        /* types 0, 1 */
    ct_u256 max_priority_fee; /* type 2 */
    ct_u256 max_fee;          /* type 2 */
    bool has_to;              /* false: contract creation */
    ct_address to;
    ct_u256 value;
    uint8_t *data;
    size_t data_len;
    ct_access_entry *access_list;
    size_t n_access;
    /* Signature, when is_signed. y_parity is 0/1; for legacy the v value
     * is derived (27/28, or chain_id * 2 + 35/36). */
    bool is_signed;
    int y_parity;
    ct_u256 r, s;
} ct_tx;

/* Largest raw transaction accepted by the decoder, in bytes. */
#define CT_TX_MAX_SIZE (1024 * 1024)

/* Frees data and access list and zeroes the transaction. */
void ct_tx_clear(ct_tx *tx);

/* Fills tx from ethers-style JSON: type, chainId, nonce, to, value, data,
 * gasLimit, gasPrice, maxFeePerGas, maxPriorityFeePerGas, accessList
 * (numbers as JSON integers or decimal/"0x" strings). Unknown fields and
 * fields that do not belong to the type are errors; type defaults to 2
 * when maxFeePerGas is given, else 0.
 * Returns: 0 or CT_EINVAL naming the field. On failure tx is cleared. */
int ct_tx_from_json(ct_tx *tx, const json_t *j);

/* Fills a signed tx from a node's transaction object (eth_getBlockBy*
 * with full transactions, eth_getTransactionByHash): "input", "gas",
 * "v"/"yParity", "r", "s" and the fields of its type; the rest (hash,
 * from, block fields) is ignored. Its encoding's keccak is the node's
 * "hash" if the node told the truth.
 * Returns: 0 or CT_EINVAL (types above 2 are not supported). */
int ct_tx_from_rpc_json(ct_tx *tx, const json_t *j);

/* JSON with every field of the type, plus (signed) v, r, s, yParity. */
int ct_tx_to_json(json_t **out, const ct_tx *tx);

/* The hash that is signed (EIP-155 / EIP-2718 rules per type). */
int ct_tx_signing_hash(uint8_t out[32], const ct_tx *tx);

/* Signs tx in place. Returns: 0 or CT_ECRYPTO. */
int ct_tx_sign(ct_tx *tx, const uint8_t seckey[CT_SECKEY_SIZE]);

/* Encodes the transaction, signed if is_signed, else the unsigned form
 * (legacy EIP-155 unsigned includes chainId, 0, 0), with the type byte
 * first for typed transactions.
 * Out: *out malloc'd, *len.
 * Returns: 0 or CT_ENOMEM. */
int ct_tx_encode(uint8_t **out, size_t *len, const ct_tx *tx);

/* Decodes a signed raw transaction (strict RLP; a typed tx by its first
 * byte). Returns: 0, CT_EPARSE naming what is wrong, CT_ELIMIT. */
int ct_tx_decode(ct_tx *tx, const uint8_t *raw, size_t len);

/* keccak256 of the signed encoding. Returns: 0, CT_ESTATE if unsigned. */
int ct_tx_hash(uint8_t out[32], const ct_tx *tx);

/* Recovers the sender of a signed transaction.
 * Returns: 0, CT_ESTATE if unsigned, CT_ECRYPTO. */
int ct_tx_sender(ct_address *out, const ct_tx *tx);

/* ---------------------------------------------------------------- JSON-RPC */

typedef struct ct_rpc ct_rpc;

/* Largest JSON-RPC response body accepted, in bytes. */
#define CT_RPC_MAX_RESPONSE (64u * 1024 * 1024)

/* Creates a client for the node at url (http:// or https://), or for
 * several nodes of one chain given as a comma-separated list
 * ("http://a:8545,http://b:8545", at most 16). Calls go to one node at a
 * time, the first to begin with; when it does not answer (no connection,
 * timeout, HTTP 5xx) the call is sent again to the next node, each node
 * once per call, and the node that answers is used from then on. A
 * JSON-RPC error (revert, nonce too low) is an answer: no failover.
 * Resending is safe for reads and for eth_sendRawTransaction of the same
 * signed bytes (same hash, mined once); a resent transaction that the
 * next node already has counts as sent (ct_rpc_send_raw).
 * ct_rpc_url and ct_rpc_origin name the node in use.
 * Args: timeout_ms bounds each call to one node, connect included (a call
 * may take that long for each node it tries).
 * Out: *out owned by the caller, free with ct_rpc_free.
 * Returns: 0, CT_EINVAL (bad url) or CT_ENOMEM.
 * Thread safety: one ct_rpc must not be used by two threads at once. */
int ct_rpc_new(ct_rpc **out, const char *url, int timeout_ms);

void ct_rpc_free(ct_rpc *rpc);

/* Returns: the url given to ct_rpc_new (borrowed). */
const char *ct_rpc_url(const ct_rpc *rpc);

/* Returns: the node's URL as messages show it (borrowed): scheme, host and
 * port only, since user info, path and query may carry an API key
 * ("https://mainnet.example/v3/KEY" shows as "https://mainnet.example"). */
const char *ct_rpc_origin(const ct_rpc *rpc);

/* Writes url's origin (see ct_rpc_origin) into out (size bytes, cut if
 * longer). */
void ct_url_origin(char *out, size_t size, const char *url);

/* Calls method with params (a JSON array; NULL means []); params is
 * borrowed.
 * Out: *result is a new reference to the "result" member.
 * Returns: 0; CT_ETIMEOUT; CT_ERPC for transport, HTTP and node errors
 * (the node's code and message are kept in ct_error_last); CT_EREVERT when
 * the node reports an execution revert. */
int ct_rpc_call(ct_rpc *rpc, json_t **result, const char *method, json_t *params);

/* Sends several calls in one JSON-RPC batch. calls is a JSON array of
 * [method, params] pairs (borrowed).
 * Out: *results a new JSON array in the order of calls; each element is
 * the result, or an object {"error": {"code", "message"}} for a call that
 * failed (the batch as a whole still succeeds).
 * Returns: 0, CT_ETIMEOUT, CT_ERPC (transport or malformed batch). */
int ct_rpc_batch(ct_rpc *rpc, json_t **results, const json_t *calls);

/* Typed wrappers. Block tags are "latest", "pending", "earliest" or a
 * "0x" number. Quantities are checked to be canonical hex. */
int ct_rpc_chain_id(ct_rpc *rpc, uint64_t *out);
int ct_rpc_block_number(ct_rpc *rpc, uint64_t *out);
int ct_rpc_get_balance(ct_rpc *rpc, ct_u256 *out, const ct_address *addr, const char *block);
int ct_rpc_get_tx_count(ct_rpc *rpc, uint64_t *out, const ct_address *addr, const char *block);
/* Out: *yes whether addr holds code at block (eth_getCode is not "0x"). */
int ct_rpc_has_code(ct_rpc *rpc, bool *yes, const ct_address *addr, const char *block);
int ct_rpc_gas_price(ct_rpc *rpc, ct_u256 *out);
int ct_rpc_max_priority_fee(ct_rpc *rpc, ct_u256 *out);
/* Out: *out new ref to the node's feeHistory object. */
int ct_rpc_fee_history(ct_rpc *rpc, json_t **out, uint64_t blocks, const char *newest,
                       const json_t *percentiles);
/* call is an eth_call/eth_estimateGas object (borrowed). */
int ct_rpc_estimate_gas(ct_rpc *rpc, uint64_t *out, const json_t *call);
/* Out: *out malloc'd return data, *len. */
int ct_rpc_call_contract(ct_rpc *rpc, uint8_t **out, size_t *len, const json_t *call,
                         const char *block);
/* Out: the transaction hash the node reports. CT_EREVERT when Hardhat
 * refuses a reverting transaction (which it still mines). */
int ct_rpc_send_raw(ct_rpc *rpc, uint8_t hash[32], const uint8_t *raw, size_t len);
/* Out: *out new ref to the receipt. Returns CT_ENOTFOUND while pending. */
int ct_rpc_get_receipt(ct_rpc *rpc, json_t **out, const uint8_t hash[32]);
/* Out: *out new ref to the block (full transactions when full).
 * Returns CT_ENOTFOUND for an unknown block. */
int ct_rpc_get_block_by_number(ct_rpc *rpc, json_t **out, const char *block, bool full);
int ct_rpc_get_block_by_hash(ct_rpc *rpc, json_t **out, const uint8_t hash[32], bool full);
/* filter is an eth_getLogs filter object (borrowed). Out: new ref array. */
int ct_rpc_get_logs(ct_rpc *rpc, json_t **out, const json_t *filter);

/* Parses a JSON-RPC quantity ("0x" + hex without leading zeros).
 * Returns: 0, CT_EPARSE or CT_ERANGE. */
int ct_quantity_parse_u64(uint64_t *out, const json_t *v);
int ct_quantity_parse_u256(ct_u256 *out, const json_t *v);

/* ---------------------------------------------------------------- sender */

/* Owns one account's nonce: sends its transactions in nonce order, one at
 * a time, so a node that mines each transaction on arrival (Hardhat
 * automine) never sees a gap. Safe to share between threads. */
typedef struct ct_sender ct_sender;

typedef struct ct_sender_opts {
    int timeout_ms;         /* per RPC call (default 30000) */
    int receipt_timeout_ms; /* waiting for a receipt (default 120000) */
    int poll_ms;            /* receipt polling interval (default 50) */
    bool legacy;            /* type 0 transactions, for nodes without EIP-1559;
                               default (false): EIP-1559 (type 2) */
    /* A send whose gas limit is already known (remembered from an earlier
     * estimate of the same call shape) is checked with one eth_call first,
     * so a call that would revert costs nothing, unless the node executes
     * transactions as they arrive and reports a revert as the send's
     * error (Hardhat with automine, asked once at ct_sender_new): there the
     * check would run every call twice. always_preflight: check anyway. */
    bool always_preflight;
    /* Remember each estimate per call shape (target, selector, calldata
     * length) and reuse it, plus its margin, for later calls of that
     * shape: only for contracts whose calls of one shape cost the same
     * whatever the state. Off (the default), every send is estimated: a
     * call's gas may depend on its arguments and on state (an
     * Application's APP_SHUTDOWN checkpoint costs more than its first
     * SERVICE_UP, the Federation's changeAvailability more when it records
     * a new outage; both ran out of gas on a reused estimate). Where the
     * node mines each send before answering it (Hardhat's automine),
     * estimates are reused whatever this says: a send that runs out of gas
     * there is answered as such, estimated again and sent once more. */
    bool reuse_gas;
    /* A durable outbox: each signed transaction is appended to this file
     * (and synced) before it is sent. The sender keeps re-sending the
     * exact same bytes while the chain's nonce of the account is below
     * theirs: at creation, after a refused nonce, at the next two-second
     * sweep after a failover, and otherwise once an entry has been quiet
     * for ten seconds (one just sent is in the node's pool). So a node
     * that restarts behind what it had acknowledged (anvil's last saved
     * state, a reorganisation, a failed-over node) still gets every
     * transaction, once: the same nonce and hash cannot be mined twice.
     * Entries are dropped a minute after the chain has passed their
     * nonce. The file names the chain's genesis block; another chain's
     * file is refused. Assumes no one else sends with this key. NULL: no
     * outbox. */
    const char *outbox_path;
    /* How long a send with a min_block waits for its node to reach that
     * block (default 10000 ms). */
    int behind_wait_ms;
} ct_sender_opts;

/* What to send; nonce, chain id, fees and (when gas_limit is 0) gas come
 * from the sender. */
typedef struct ct_send_req {
    const ct_address *to; /* NULL: contract creation */
    ct_u256 value;
    const uint8_t *data;
    size_t data_len;
    uint64_t gas_limit; /* 0: estimate, plus a margin */
    /* 0: none. Else the node's latest block must have reached this number
     * before the call is checked and sent: a client who has seen block
     * min_block's state elsewhere (the gateway's cache, which follows
     * another node) is not answered from an older state, where a call
     * that now reverts would pass the check and be sent. Not waited for
     * on a node that mines each send before answering it (Hardhat's
     * automine, unless always_preflight): there the send's answer is the
     * outcome. */
    uint64_t min_block;
} ct_send_req;

typedef struct ct_send_result {
    uint8_t hash[32];
    bool mined;     /* a receipt was seen */
    bool success;   /* receipt status 1 */
    uint64_t block; /* block number, when mined */
    uint64_t gas_used;
    ct_address contract; /* for a creation that succeeded */
    json_t *receipt;     /* new ref or NULL; free with ct_send_result_clear */
} ct_send_result;

/* Creates a sender for seckey (copied; wiped on free) on the node at url;
 * reads the chain id and the pending nonce; with an outbox, loads it,
 * re-sends what the chain lacks and starts its sweeping thread.
 * opts NULL: defaults.
 * Returns: 0, CT_ERPC, CT_ETIMEOUT, CT_ECRYPTO; CT_EPARSE (a damaged
 * outbox), CT_ESTATE (an outbox of another chain or key), CT_EIO. */
int ct_sender_new(ct_sender **out, const char *url, const uint8_t seckey[CT_SECKEY_SIZE],
                  const ct_sender_opts *opts);

void ct_sender_free(ct_sender *s);

/* Runs one outbox sweep now (the thread does it every two seconds).
 * Out: *resent how many transactions were sent again (may be NULL).
 * Returns: 0, or the node's error. */
int ct_sender_sweep(ct_sender *s, size_t *resent);

/* Waits until the node's latest block holds every transaction this
 * sender has sent, re-sending from the outbox what the node lacks (a node
 * that came back behind after a crash): a read of the chain after it
 * sees this sender's writes, so a decision made on it does not rest on
 * state that a re-sent write is about to change. Sends go on meanwhile;
 * it waits for those sent before it was called. Without an outbox, what
 * an anvil or Hardhat node lost (its pending nonce below the sender's) is
 * logged as lost and not waited for; on other nodes it is waited for.
 * Returns: 0, CT_ETIMEOUT after timeout_ms, or the node's error. */
int ct_sender_sync(ct_sender *s, int timeout_ms);

/* Returns: the sender's address (borrowed). */
const ct_address *ct_sender_address(const ct_sender *s);

/* Signs and sends one transaction with the next nonce and, when wait,
 * waits for its receipt.
 * Out: res (clear it with ct_send_result_clear) holds the hash as soon as
 * the transaction was accepted.
 * Returns: 0 when sent (and, with wait, mined with status 1); CT_EREVERT
 * when it was mined but failed (including Hardhat's "reverted" send error;
 * the node's reason is in ct_error_last); CT_ETIMEOUT; CT_ERPC when the
 * node refused it (the nonce is then re-read from the node); CT_EBEHIND
 * when the node did not reach req->min_block in time (nothing was sent). */
int ct_sender_send(ct_sender *s, ct_send_result *res, const ct_send_req *req, bool wait);

void ct_send_result_clear(ct_send_result *res);

/* Waits for the receipt of hash on rpc, polling every poll_ms.
 * Out: *receipt new ref. Returns: 0, CT_ETIMEOUT, CT_ERPC. */
int ct_rpc_wait_receipt(ct_rpc *rpc, json_t **receipt, const uint8_t hash[32], int timeout_ms,
                        int poll_ms);

/* ---------------------------------------------------------------- dev node */

/* The kinds of local development chain Catena can start. */
typedef enum ct_chain_kind {
    CT_CHAIN_ANVIL = 0, /* Foundry's anvil: can keep its chain in a file */
    CT_CHAIN_HARDHAT,   /* Hardhat node: forgets everything when it stops */
} ct_chain_kind;

/* Returns: the kind's name ("anvil", "hardhat"). */
const char *ct_chain_kind_name(ct_chain_kind kind);

/* Parses a kind's name. Returns: 0, or CT_EINVAL naming the choices. */
int ct_chain_kind_parse(ct_chain_kind *out, const char *name);

/* A local development chain node started as a child process group. Both
 * kinds use chain id 31337 and the dev accounts of the "test test ...
 * junk" mnemonic. */
typedef struct ct_devnode {
    ct_proc proc;
    ct_chain_kind kind;
    uint16_t port;
    char url[64]; /* "http://127.0.0.1:PORT" */
} ct_devnode;

typedef struct ct_devnode_opts {
    ct_chain_kind kind;
    uint16_t port;          /* 0 picks a free port */
    const char *state_path; /* anvil: load the chain from this file if it
                               exists and dump it there (--state); NULL:
                               in memory only. Must be NULL for Hardhat. */
    int state_interval_s;   /* anvil: seconds between dumps (default 1) */
    const char *log_path;   /* output appended here (NULL: discarded) */
    int timeout_ms;         /* wait this long for eth_chainId (default 60 s) */
} ct_devnode_opts;

/* Starts a node of opts->kind from directory root (which holds
 * node_modules/ and hardhat.config.js) on 127.0.0.1, and waits until
 * eth_chainId answers. Anvil runs node_modules/.bin/anvil; Hardhat runs
 * `node node_modules/hardhat/internal/cli/bootstrap.js node` in root.
 * Returns: 0; CT_ENOTFOUND when the node is not installed under root;
 * CT_EINVAL for a state file with Hardhat; CT_EIO when it cannot start or
 * exits early (see the log; a damaged state file does this); CT_ETIMEOUT.
 * On failure nothing is left running. */
int ct_devnode_start(ct_devnode *out, const char *root, const ct_devnode_opts *opts);

/* Stops the node's whole process group (SIGTERM, so anvil dumps its
 * state, then SIGKILL after a grace period). Safe to call twice. */
void ct_devnode_stop(ct_devnode *node);

/* ---------------------------------------------------------------- PoA network */

/* A local Clique proof-of-authority network of EthereumJS client nodes
 * (npm @ethereumjs/client 0.10.5 under root) on 127.0.0.1, for tests of a
 * consortium chain: every node seals with its own key. The EVM is London's
 * (Clique cannot run Shanghai or Cancun in this client). Every node runs
 * `node --import DIR/ethjs-fixes.mjs`, a hook that fixes six defects of
 * the client without which no transaction is mined, no contract code runs
 * and a node that misses a block never catches up (docs/CHAIN.md), unless
 * opts->stock_client. Not thread safe: one thread drives a network, and
 * since nodes die with the thread that started them (PR_SET_PDEATHSIG),
 * start and restart them from a thread that outlives them. */
typedef struct ct_poa ct_poa;

#define CT_POA_MAX_NODES 16

/* An account funded in the genesis. */
typedef struct ct_poa_account {
    ct_address address;
    ct_u256 balance; /* wei */
} ct_poa_account;

typedef struct ct_poa_opts {
    /* Required: genesis.json, ethjs-fixes.mjs and nodeI/ (key, data/,
     * client.log) are written here. */
    const char *dir;
    int nodes;                      /* sealers, 1 to CT_POA_MAX_NODES (default 3) */
    int period_s;                   /* Clique block period (default 2) */
    uint64_t chain_id;              /* default 1337 */
    const ct_poa_account *accounts; /* genesis balances (may be NULL) */
    size_t n_accounts;
    int timeout_ms;    /* until ready (default 180 s) */
    bool stock_client; /* run the client without ethjs-fixes.mjs */
} ct_poa_opts;

/* Generates a key per node and the genesis (Clique period, epoch 30000,
 * every signer in extraData, opts->accounts funded), then starts the
 * nodes on free ports (each --mine --unlock KEY --discV4=false
 * --discDns=false, --bootnodes the enodes of those started before it)
 * and waits until the network is ready: every node answers eth_chainId,
 * is peered with every other, and all agree on a block above the first.
 * Out: *out, stop and free it with ct_poa_stop.
 * Returns: 0; CT_EINVAL (options); CT_ENOTFOUND (client not installed
 * under root); CT_EIO (a node exits; see its client.log); CT_ETIMEOUT.
 * On failure nothing is left running. */
int ct_poa_start(ct_poa **out, const char *root, const ct_poa_opts *opts);

/* Kills every node (SIGKILL: nothing starts this network again, and a
 * clean shutdown takes the client about 10 s) and frees poa. NULL is a
 * no-op. */
void ct_poa_stop(ct_poa *poa);

/* Node accessors; i is 0 .. ct_poa_nodes() - 1 (anything else asserts).
 * Node i seals in turn blocks i, i + n, ... Returned strings are borrowed
 * and live as long as poa. */
int ct_poa_nodes(const ct_poa *poa);
const char *ct_poa_url(const ct_poa *poa, int i);   /* "http://127.0.0.1:PORT" */
pid_t ct_poa_pid(const ct_poa *poa, int i);         /* 0 when not running */
const char *ct_poa_enode(const ct_poa *poa, int i); /* enode://ID@127.0.0.1:PORT */
const ct_address *ct_poa_signer(const ct_poa *poa, int i);
const char *ct_poa_log_path(const ct_poa *poa, int i);

/* Stops node i gracefully (SIGTERM, then SIGKILL if it still runs after
 * 15 s; the client took about 10 s here), or kills its process group with
 * SIGKILL at once. Its data directory stays. Returns: 0 or CT_EIO. */
int ct_poa_stop_node(ct_poa *poa, int i);
int ct_poa_kill_node(ct_poa *poa, int i);

/* Starts a stopped node again on its data directory and ports, naming
 * every other node as a bootnode, and waits up to timeout_ms (0: 120 s)
 * until it answers and every running node is peered with every other.
 * Catching up follows: see ct_poa_wait_synced.
 * Returns: 0; CT_ESTATE if it runs; CT_EIO; CT_ETIMEOUT (it is stopped
 * again). */
int ct_poa_restart_node(ct_poa *poa, int i, int timeout_ms);

/* Partitions node i from the others, or joins it again: kills it and
 * starts it on its data directory, isolated on a new p2p port with no
 * bootnodes (it seals alone, a fork of its own), or back on its port
 * naming the others, and waits up to timeout_ms (0: 120 s) until it
 * answers (and, when joining, is peered with every running node). The
 * others ignore an isolated node (ct_poa_wait_synced). A paused node
 * cannot fork: it seals nothing while frozen. Returns: 0, CT_EIO,
 * CT_ETIMEOUT (it is stopped). */
int ct_poa_isolate_node(ct_poa *poa, int i, bool isolated, int timeout_ms);

/* Freezes (SIGSTOP) or resumes (SIGCONT) node i's process group.
 * Returns: 0, or CT_ESTATE if it does not run. */
int ct_poa_pause_node(ct_poa *poa, int i, bool paused);

/* Starts again, without waiting, each node that died on its own (a crash,
 * kill -9 from outside, or fix 11 of docs/CHAIN.md: the node exits when its
 * in-memory state went stale) on its data directory and ports; it catches
 * up from its peers. Nodes stopped through this API stay stopped. Call it
 * regularly while the network is in use (ct_poa_wait_synced does).
 * Returns: how many nodes were started (a failure is logged and tried
 * again at the next call). */
int ct_poa_respawn_dead(ct_poa *poa);

/* Waits until the running, unpaused nodes agree: their heads are at most
 * one block apart, at least min_height, and they have the same block at
 * the lowest head.
 * Out: *height (may be NULL) that block's number.
 * Returns: 0, CT_ETIMEOUT (or a node's RPC error at the deadline). */
int ct_poa_wait_synced(ct_poa *poa, uint64_t *height, uint64_t min_height, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_ETH_H */
