/* Typed wrappers over ct_rpc_call for the Ethereum JSON-RPC methods Catena
 * uses, with strict checks of the quantities nodes return. */
#include "catena/eth.h"
#include "eth_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ct_quantity_parse_u256(ct_u256 *out, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n;

    if (s == NULL || strncmp(s, "0x", 2) != 0)
        return ct_error_set(CT_EPARSE, "rpc: quantity must be a 0x string");
    n = strlen(s + 2);
    if (n == 0 || (n > 1 && s[2] == '0'))
        return ct_error_set(CT_EPARSE, "rpc: quantity '%.70s' is not canonical", s);
    return ct_u256_parse(out, s);
}

int ct_quantity_parse_u64(uint64_t *out, const json_t *v)
{
    ct_u256 big;
    int rc = ct_quantity_parse_u256(&big, v);
    return rc < 0 ? rc : ct_u256_to_u64(out, &big);
}

/* Calls method and parses a quantity result. */
static int call_u256(ct_rpc *rpc, ct_u256 *out, const char *method, json_t *params)
{
    json_t *res = NULL;
    int rc = ct_rpc_call(rpc, &res, method, params);

    if (rc == 0 && (rc = ct_quantity_parse_u256(out, res)) < 0)
        ct_error_wrap("%s", method);
    json_decref(res);
    return rc;
}

static int call_u64(ct_rpc *rpc, uint64_t *out, const char *method, json_t *params)
{
    ct_u256 big;
    int rc = call_u256(rpc, &big, method, params);
    if (rc == 0 && (rc = ct_u256_to_u64(out, &big)) < 0)
        ct_error_wrap("%s", method);
    return rc;
}

/* Runs a call whose params were built by the caller (stolen reference). */
static int call_u256_new(ct_rpc *rpc, ct_u256 *out, const char *method, json_t *params)
{
    int rc;
    if (params == NULL)
        return ct_error_set(CT_ENOMEM, "rpc: out of memory");
    rc = call_u256(rpc, out, method, params);
    json_decref(params);
    return rc;
}

int ct_rpc_chain_id(ct_rpc *rpc, uint64_t *out)
{
    return call_u64(rpc, out, "eth_chainId", NULL);
}

int ct_rpc_block_number(ct_rpc *rpc, uint64_t *out)
{
    return call_u64(rpc, out, "eth_blockNumber", NULL);
}

int ct_rpc_get_balance(ct_rpc *rpc, ct_u256 *out, const ct_address *addr, const char *block)
{
    return call_u256_new(rpc, out, "eth_getBalance",
                         json_pack("[o, s]", ct_json_hex(addr->b, CT_ADDRESS_SIZE), block));
}

int ct_rpc_get_tx_count(ct_rpc *rpc, uint64_t *out, const ct_address *addr, const char *block)
{
    ct_u256 big;
    int rc = call_u256_new(rpc, &big, "eth_getTransactionCount",
                           json_pack("[o, s]", ct_json_hex(addr->b, CT_ADDRESS_SIZE), block));
    return rc < 0 ? rc : ct_u256_to_u64(out, &big);
}

int ct_rpc_has_code(ct_rpc *rpc, bool *yes, const ct_address *addr, const char *block)
{
    json_t *code = NULL;
    json_t *params = json_pack("[o, s]", ct_json_hex(addr->b, CT_ADDRESS_SIZE), block);
    int rc = params != NULL ? ct_rpc_call(rpc, &code, "eth_getCode", params)
                            : ct_error_set(CT_ENOMEM, "rpc: out of memory");

    json_decref(params);

    if (rc == 0 && !json_is_string(code))
        rc = ct_error_set(CT_EPARSE, "eth_getCode did not answer a string");
    if (rc == 0)
        *yes = json_string_length(code) > 2;
    json_decref(code);
    return rc;
}

int ct_rpc_gas_price(ct_rpc *rpc, ct_u256 *out)
{
    return call_u256(rpc, out, "eth_gasPrice", NULL);
}

int ct_rpc_max_priority_fee(ct_rpc *rpc, ct_u256 *out)
{
    return call_u256(rpc, out, "eth_maxPriorityFeePerGas", NULL);
}

int ct_rpc_fee_history(ct_rpc *rpc, json_t **out, uint64_t blocks, const char *newest,
                       const json_t *percentiles)
{
    char count[CT_U256_HEX_SIZE];
    json_t *params;
    ct_u256 b;
    int rc;

    ct_u256_from_u64(&b, blocks);
    ct_u256_format_hex(count, &b);
    /* Some nodes (Hardhat) insist on the percentiles argument. */
    params = percentiles ? json_pack("[s, s, O]", count, newest, percentiles)
                         : json_pack("[s, s, []]", count, newest);
    if (params == NULL)
        return ct_error_set(CT_ENOMEM, "rpc: out of memory");
    rc = ct_rpc_call(rpc, out, "eth_feeHistory", params);
    json_decref(params);
    return rc;
}

int ct_rpc_estimate_gas(ct_rpc *rpc, uint64_t *out, const json_t *call)
{
    ct_u256 big;
    int rc = call_u256_new(rpc, &big, "eth_estimateGas", json_pack("[O]", call));
    return rc < 0 ? rc : ct_u256_to_u64(out, &big);
}

int ct_rpc_call_contract(ct_rpc *rpc, uint8_t **out, size_t *len, const json_t *call,
                         const char *block)
{
    json_t *params = json_pack("[O, s]", call, block), *res = NULL;
    int rc;

    if (params == NULL)
        return ct_error_set(CT_ENOMEM, "rpc: out of memory");
    rc = ct_rpc_call(rpc, &res, "eth_call", params);
    if (rc == 0 && !json_is_string(res))
        rc = ct_error_set(CT_EPARSE, "eth_call: result is not a string");
    if (rc == 0 && (rc = ct_hex_decode_new(out, len, json_string_value(res))) < 0)
        ct_error_wrap("eth_call");
    json_decref(params);
    json_decref(res);
    return rc;
}

/* Parses a 32-byte "0x" hash. */
static int hash_from_json(uint8_t out[32], const json_t *v)
{
    const char *s = json_string_value(v);
    size_t len;

    if (s == NULL || strlen(s) != 66 || ct_hex_decode(out, 32, &len, s, 66) < 0)
        return ct_error_set(CT_EPARSE, "rpc: expected a 32-byte hash");
    return 0;
}

/* After a failover the same signed bytes may reach a node that already has
 * them (gossiped by the node that stopped answering, or mined): it refuses
 * them as known, or their nonce as used. The send did what it was for when
 * the refusal says the node has this transaction, or the node finds it by
 * its hash (the EthereumJS client cannot look up a pending one). */
static bool node_has_tx(ct_rpc *rpc, const uint8_t hash[32], const char *refusal)
{
    static const char *const known[] = {"already known", "already in the txpool",
                                        "known transaction", "already imported"};
    json_t *params, *tx = NULL;
    bool yes = false;

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcasestr(refusal, known[i]) != NULL)
            return true;
    }
    if ((params = json_pack("[o]", ct_json_hex(hash, 32))) == NULL)
        return false;
    yes = ct_rpc_call(rpc, &tx, "eth_getTransactionByHash", params) == 0 && json_is_object(tx);
    json_decref(params);
    json_decref(tx);
    return yes;
}

int ct_rpc_send_raw(ct_rpc *rpc, uint8_t hash[32], const uint8_t *raw, size_t len)
{
    json_t *params = json_pack("[o]", ct_json_hex(raw, len)), *res = NULL;
    unsigned failovers = ct_eth__rpc_failovers(rpc);
    uint8_t ours[32];
    int rc;

    if (params == NULL)
        return ct_error_set(CT_ENOMEM, "rpc: out of memory");
    rc = ct_rpc_call(rpc, &res, "eth_sendRawTransaction", params);
    if (rc == 0) {
        rc = hash_from_json(hash, res);
    } else if (rc == CT_ERPC && ct_eth__rpc_failovers(rpc) != failovers) {
        char refusal[256];
        snprintf(refusal, sizeof(refusal), "%s", ct_error_last());
        ct_keccak256(ours, raw, len);
        if (node_has_tx(rpc, ours, refusal)) {
            memcpy(hash, ours, 32);
            rc = 0;
        } else {
            rc = ct_error_set(CT_ERPC, "%s", refusal);
        }
    }
    json_decref(params);
    json_decref(res);
    return rc;
}

/* Calls a method that takes [hash-or-tag, extra] and may return null. */
static int call_nullable(ct_rpc *rpc, json_t **out, const char *method, json_t *params)
{
    json_t *res = NULL;
    int rc;

    if (params == NULL)
        return ct_error_set(CT_ENOMEM, "rpc: out of memory");
    rc = ct_rpc_call(rpc, &res, method, params);
    json_decref(params);
    if (rc < 0)
        return rc;
    if (json_is_null(res)) {
        json_decref(res);
        return ct_error_set(CT_ENOTFOUND, "%s: not found", method);
    }
    *out = res;
    return 0;
}

int ct_rpc_get_receipt(ct_rpc *rpc, json_t **out, const uint8_t hash[32])
{
    return call_nullable(rpc, out, "eth_getTransactionReceipt",
                         json_pack("[o]", ct_json_hex(hash, 32)));
}

int ct_rpc_get_block_by_number(ct_rpc *rpc, json_t **out, const char *block, bool full)
{
    return call_nullable(rpc, out, "eth_getBlockByNumber", json_pack("[s, b]", block, full));
}

int ct_rpc_get_block_by_hash(ct_rpc *rpc, json_t **out, const uint8_t hash[32], bool full)
{
    return call_nullable(rpc, out, "eth_getBlockByHash",
                         json_pack("[o, b]", ct_json_hex(hash, 32), full));
}

int ct_rpc_get_logs(ct_rpc *rpc, json_t **out, const json_t *filter)
{
    json_t *params = json_pack("[O]", filter), *res = NULL;
    int rc;

    if (params == NULL)
        return ct_error_set(CT_ENOMEM, "rpc: out of memory");
    rc = ct_rpc_call(rpc, &res, "eth_getLogs", params);
    json_decref(params);
    if (rc == 0 && !json_is_array(res)) {
        json_decref(res);
        return ct_error_set(CT_EPARSE, "eth_getLogs: result is not an array");
    }
    if (rc == 0)
        *out = res;
    return rc;
}

/* A node error while polling is retried until the deadline: the
 * EthereumJS client answers -32603 ("value for <block hash> not found in
 * DB") for a receipt in the moments between indexing a new block's
 * transactions and storing the block. */
int ct_rpc_wait_receipt(ct_rpc *rpc, json_t **receipt, const uint8_t hash[32], int timeout_ms,
                        int poll_ms)
{
    int64_t deadline = ct_time_mono_ms() + timeout_ms;
    char last[256] = "";

    for (;;) {
        int rc = ct_rpc_get_receipt(rpc, receipt, hash);
        if (rc != CT_ENOTFOUND && rc != CT_ERPC)
            return rc;
        if (rc == CT_ERPC)
            snprintf(last, sizeof(last), "%s", ct_error_last());
        if (ct_time_mono_ms() >= deadline)
            return rc == CT_ERPC ? ct_error_set(CT_ERPC, "%s", last)
                                 : ct_error_set(CT_ETIMEOUT, "no receipt after %d ms%s%s",
                                                timeout_ms, last[0] ? "; last error: " : "", last);
        ct_sleep_ms(poll_ms);
    }
}
