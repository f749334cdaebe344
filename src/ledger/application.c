/* Helpers for the Cloud and Application contracts of seed 002 that more
 * than one caller needs: a scheduler's reservation signature, and how many
 * checkpoints one interimPayment can pay. */
#include "catena/ledger.h"

#include <string.h>

/* An unsigned integer a view returns as its first value. */
static int read_uint(const ct_ledger *l, ct_rpc *rpc, uint64_t *out, const ct_address *app,
                     const char *fn)
{
    json_t *args = json_array(), *v = NULL;
    const char *text;
    int rc = ct_ledger_read(l, rpc, &v, app, fn, args);

    json_decref(args);
    if (rc < 0)
        return rc;
    text = json_string_value(json_array_get(v, 0));
    rc = text != NULL ? ct_parse_uint(out, text, UINT64_MAX)
                      : ct_error_set(CT_EPARSE, "%s: not a number", fn);
    json_decref(v);
    return rc;
}

/* The block gas limit of the latest block; 30 million when unknown. */
static uint64_t block_gas_limit(ct_rpc *rpc)
{
    json_t *block = NULL;
    uint64_t limit = 30000000, l = 0;

    if (ct_rpc_get_block_by_number(rpc, &block, "latest", false) == 0 &&
        ct_quantity_parse_u64(&l, json_object_get(block, "gasLimit")) == 0 && l > 0)
        limit = l;
    ct_error_clear();
    json_decref(block);
    return limit;
}

/* Whether interimPayment(k) sent by from fits in 90% of a block. */
static bool fits(const ct_ledger *l, ct_rpc *rpc, const ct_address *app, const ct_address *from,
                 uint64_t k, uint64_t limit)
{
    char to[CT_ADDRESS_TEXT_SIZE], sender[CT_ADDRESS_TEXT_SIZE];
    json_t *args = json_pack("[I]", (json_int_t)k), *call = NULL;
    uint64_t gas = 0;
    ct_buf data;
    int rc;

    ct_address_format(to, app);
    ct_address_format(sender, from);
    ct_buf_init(&data, 4096);
    rc = args != NULL ? ct_ledger_encode_call(l, &data, "interimPayment", args) : CT_ENOMEM;
    if (rc == 0)
        call = json_pack("{s:s, s:s, s:o}", "from", sender, "to", to, "data",
                         ct_json_hex((const uint8_t *)data.data, data.len));
    rc = call != NULL ? ct_rpc_estimate_gas(rpc, &gas, call) : CT_ENOMEM;
    ct_buf_free(&data);
    json_decref(args);
    json_decref(call);
    ct_error_clear();
    return rc == 0 && gas <= limit / 10 * 9;
}

int ct_ledger_app_pay_k(const ct_ledger *l, ct_rpc *rpc, uint64_t *k, const ct_address *app,
                        const ct_address *from)
{
    uint64_t total = 0, paid = 0, limit;
    int rc;

    *k = 0;
    if ((rc = read_uint(l, rpc, &total, app, "checkpointCount")) < 0 ||
        (rc = read_uint(l, rpc, &paid, app, "paidCount")) < 0)
        return rc;
    if (total <= paid)
        return 0;
    limit = block_gas_limit(rpc);
    for (*k = total - paid; *k > 1 && !fits(l, rpc, app, from, *k, limit); *k /= 2)
        ;
    return 0;
}

int ct_ledger_sign_reservation(uint8_t sig[65], uint8_t digest_out[32], uint64_t chain_id,
                               const ct_address *cloud, const ct_address *client,
                               const char *tosca_hash, const char *const *services,
                               const char *const *resources, size_t n, uint64_t expiry,
                               const char *salt, const uint8_t sched_key[32])
{
    uint8_t hash[32], domain[32], sh[32], digest[32];
    char client_text[CT_ADDRESS_TEXT_SIZE], hash_text[67];
    json_t *names = json_array(), *res = json_array(), *v = NULL;
    ct_abi_type *t = NULL;
    ct_buf enc;
    int rc = names != NULL && res != NULL ? 0 : CT_ENOMEM;

    /* services = keccak256(abi.encode(string[] services, bytes32[] resources)) */
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (json_array_append_new(names, json_string(services[i])) < 0 ||
            json_array_append_new(res, json_string(resources[i])) < 0)
            rc = ct_error_set(CT_ENOMEM, "out of memory");
    ct_buf_init(&enc, 1 << 12);
    if (rc == 0 && (rc = ct_abi_type_parse(&t, "(string[],bytes32[])")) == 0) {
        v = json_pack("[O, O]", names, res);
        rc = v != NULL ? ct_abi_encode(&enc, t, v) : ct_error_set(CT_ENOMEM, "out of memory");
    }
    json_decref(v);
    json_decref(names);
    json_decref(res);
    ct_abi_type_free(t);
    if (rc == 0)
        ct_keccak256(hash, enc.data, enc.len);
    ct_buf_free(&enc);
    if (rc < 0)
        return rc;
    ct_address_format(client_text, client);
    ct_hex_encode(hash_text, sizeof(hash_text), hash, 32, true);
    v = json_pack("[s, s, s, I, s]", client_text, tosca_hash, hash_text, (json_int_t)expiry, salt);
    rc = v != NULL ? ct_eip712_hash_struct(sh,
                                           "Reservation(address client,bytes32 toscaHash,"
                                           "bytes32 services,uint256 expiry,bytes32 salt)",
                                           v)
                   : ct_error_set(CT_ENOMEM, "out of memory");
    json_decref(v);
    if (rc < 0)
        return rc;
    ct_eip712_domain(domain, "CatenaCloud", "1", chain_id, cloud);
    ct_eip712_digest(digest, domain, sh);
    if (digest_out != NULL)
        memcpy(digest_out, digest, 32);
    return ct_eip712_sign(sig, digest, sched_key);
}
