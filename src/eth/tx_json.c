/* Transactions to and from JSON with ethers' field names, the stable
 * interface of `catena tool sign-tx` and `decode-tx`. */
#include "catena/eth.h"

#include <stdlib.h>
#include <string.h>

static const char *const tx_fields[] = {
    "type",       "chainId",  "nonce",    "to",           "value",
    "data",       "gasLimit", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas",
    "accessList", NULL};

/* A number given as a JSON integer or a decimal / "0x" string. */
static int json_u256(ct_u256 *out, const json_t *v, const char *field)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        ct_u256_from_u64(out, (uint64_t)json_integer_value(v));
        return 0;
    }
    if (json_is_string(v)) {
        if (ct_u256_parse(out, json_string_value(v)) == 0)
            return 0;
        return ct_error_set(CT_EINVAL, "field '%s': %s", field, ct_error_last());
    }
    return ct_error_set(CT_EINVAL, "field '%s' must be a non-negative number", field);
}

static int json_u64(uint64_t *out, const json_t *v, const char *field)
{
    ct_u256 big;
    int rc = json_u256(&big, v, field);

    if (rc == 0 && ct_u256_to_u64(out, &big) < 0)
        return ct_error_set(CT_EINVAL, "field '%s' does not fit 64 bits", field);
    return rc;
}

/* Reads an optional numeric field; absent or null leaves out untouched. */
static int opt_u256(ct_u256 *out, const json_t *j, const char *field)
{
    json_t *v = json_object_get(j, field);
    return v == NULL || json_is_null(v) ? 0 : json_u256(out, v, field);
}

static int opt_u64(uint64_t *out, const json_t *j, const char *field)
{
    json_t *v = json_object_get(j, field);
    return v == NULL || json_is_null(v) ? 0 : json_u64(out, v, field);
}

static bool has(const json_t *j, const char *field)
{
    json_t *v = json_object_get(j, field);
    return v != NULL && !json_is_null(v);
}

static int read_hex_field(uint8_t **out, size_t *len, const json_t *j, const char *field)
{
    const char *s;
    int rc;

    if (!has(j, field))
        return 0;
    if (ct_json_get_string(&s, j, field, false) < 0)
        return CT_EINVAL;
    if ((rc = ct_hex_decode_new(out, len, s)) < 0)
        return rc == CT_ENOMEM ? rc
                               : ct_error_set(CT_EINVAL, "field '%s': %s", field, ct_error_last());
    return 0;
}

static int read_access_entry(ct_access_entry *e, const json_t *item, size_t i)
{
    static const char *const keys[] = {"address", "storageKeys", NULL};
    const char *addr;
    json_t *list, *k;
    size_t n;

    if (ct_json_check_keys(item, keys) < 0 || ct_json_get_string(&addr, item, "address", false) < 0)
        return ct_error_wrap("accessList[%zu]", i);
    if (ct_address_parse(&e->address, addr) < 0)
        return ct_error_set(CT_EINVAL, "accessList[%zu].address: %s", i, ct_error_last());
    list = json_object_get(item, "storageKeys");
    if (list != NULL && !json_is_array(list))
        return ct_error_set(CT_EINVAL, "accessList[%zu].storageKeys must be an array", i);
    n = list ? json_array_size(list) : 0;
    e->keys = malloc((n ? n : 1) * 32);
    if (e->keys == NULL)
        return ct_error_set(CT_ENOMEM, "tx: out of memory");
    for (size_t x = 0; x < n; x++) {
        const char *s = json_string_value(k = json_array_get(list, x));
        size_t len;
        if (s == NULL || strncmp(s, "0x", 2) != 0 ||
            ct_hex_decode(e->keys[x], 32, &len, s, strlen(s)) < 0 || len != 32)
            return ct_error_set(CT_EINVAL,
                                "accessList[%zu].storageKeys[%zu] must be 32 bytes of hex", i, x);
        e->n_keys = x + 1;
    }
    return 0;
}

static int read_access_list(ct_tx *tx, const json_t *j)
{
    json_t *list = json_object_get(j, "accessList");
    size_t n;

    if (list == NULL || json_is_null(list))
        return 0;
    if (!json_is_array(list))
        return ct_error_set(CT_EINVAL, "field 'accessList' must be an array");
    n = json_array_size(list);
    tx->access_list = calloc(n ? n : 1, sizeof(ct_access_entry));
    if (tx->access_list == NULL)
        return ct_error_set(CT_ENOMEM, "tx: out of memory");
    for (size_t i = 0; i < n; i++) {
        tx->n_access = i + 1;
        if (read_access_entry(&tx->access_list[i], json_array_get(list, i), i) < 0)
            return CT_EINVAL;
    }
    return 0;
}

/* Picks the type and checks that no field of another type is present. */
static int read_type(ct_tx *tx, const json_t *j)
{
    uint64_t type = 0;
    bool fee1559 = has(j, "maxFeePerGas") || has(j, "maxPriorityFeePerGas");

    if (has(j, "type")) {
        if (json_u64(&type, json_object_get(j, "type"), "type") < 0)
            return CT_EINVAL;
        if (type > 2)
            return ct_error_set(CT_EINVAL, "field 'type': %llu is not supported (0, 1 or 2)",
                                (unsigned long long)type);
    } else {
        type = fee1559 ? 2 : has(j, "accessList") ? 1 : 0;
    }
    tx->type = (int)type;
    if (type != 2 && fee1559)
        return ct_error_set(CT_EINVAL, "field '%s' needs type 2",
                            has(j, "maxFeePerGas") ? "maxFeePerGas" : "maxPriorityFeePerGas");
    if (type == 2 && has(j, "gasPrice"))
        return ct_error_set(CT_EINVAL, "field 'gasPrice' does not belong to type 2");
    if (type == 0 && has(j, "accessList"))
        return ct_error_set(CT_EINVAL, "field 'accessList' needs type 1 or 2");
    return 0;
}

static int tx_from_json(ct_tx *tx, const json_t *j)
{
    const char *to;
    int rc;

    if ((rc = ct_json_check_keys(j, tx_fields)) < 0 || (rc = read_type(tx, j)) < 0)
        return rc;
    tx->has_chain_id = tx->type != 0 || has(j, "chainId");
    if ((rc = opt_u64(&tx->chain_id, j, "chainId")) < 0 ||
        (rc = opt_u64(&tx->nonce, j, "nonce")) < 0 ||
        (rc = opt_u64(&tx->gas_limit, j, "gasLimit")) < 0 ||
        (rc = opt_u256(&tx->value, j, "value")) < 0 ||
        (rc = opt_u256(&tx->gas_price, j, "gasPrice")) < 0 ||
        (rc = opt_u256(&tx->max_fee, j, "maxFeePerGas")) < 0 ||
        (rc = opt_u256(&tx->max_priority_fee, j, "maxPriorityFeePerGas")) < 0)
        return rc;
    if (has(j, "to")) {
        if ((rc = ct_json_get_string(&to, j, "to", false)) < 0)
            return rc;
        if (ct_address_parse(&tx->to, to) < 0)
            return ct_error_set(CT_EINVAL, "field 'to': %s", ct_error_last());
        tx->has_to = true;
    }
    if ((rc = read_hex_field(&tx->data, &tx->data_len, j, "data")) < 0)
        return rc;
    return read_access_list(tx, j);
}

int ct_tx_from_json(ct_tx *tx, const json_t *j)
{
    int rc;

    memset(tx, 0, sizeof(*tx));
    if ((rc = tx_from_json(tx, j)) < 0)
        ct_tx_clear(tx);
    return rc;
}

/* ---------------------------------------------------------------- node JSON */

/* The fields of a node's transaction object that ct_tx_from_json reads,
 * under its names: node name, ethers name, types it belongs to (bits). */
static const struct {
    const char *node, *ethers;
    unsigned types;
} rpc_fields[] = {
    {"type", "type", 7},
    {"chainId", "chainId", 6},
    {"nonce", "nonce", 7},
    {"to", "to", 7},
    {"value", "value", 7},
    {"input", "data", 7},
    {"gas", "gasLimit", 7},
    {"gasPrice", "gasPrice", 3},
    {"maxFeePerGas", "maxFeePerGas", 4},
    {"maxPriorityFeePerGas", "maxPriorityFeePerGas", 4},
    {"accessList", "accessList", 6},
};

/* The signature: yParity (typed), or v (legacy: 27/28, or EIP-155's
 * chainId * 2 + 35/36, which also gives the chain id). */
static int rpc_signature(ct_tx *tx, const json_t *j)
{
    uint64_t v, parity;
    int rc;

    if ((rc = json_u256(&tx->r, json_object_get(j, "r"), "r")) < 0 ||
        (rc = json_u256(&tx->s, json_object_get(j, "s"), "s")) < 0 ||
        (rc = json_u64(&v, json_object_get(j, "v"), "v")) < 0)
        return rc;
    if (tx->type != 0) {
        if (has(j, "yParity") && json_u64(&parity, json_object_get(j, "yParity"), "yParity") < 0)
            return CT_EINVAL;
        parity = has(j, "yParity") ? parity : v;
        if (parity > 1)
            return ct_error_set(CT_EINVAL, "field 'yParity' is not 0 or 1");
        tx->y_parity = (int)parity;
    } else if (v == 27 || v == 28) {
        tx->has_chain_id = false;
        tx->y_parity = (int)(v - 27);
    } else if (v >= 35) {
        tx->has_chain_id = true;
        tx->chain_id = (v - 35) / 2;
        tx->y_parity = (int)((v - 35) % 2);
    } else {
        return ct_error_set(CT_EINVAL, "field 'v': %llu is not a legacy signature's",
                            (unsigned long long)v);
    }
    tx->is_signed = true;
    return 0;
}

int ct_tx_from_rpc_json(ct_tx *tx, const json_t *j)
{
    json_t *e = json_object();
    uint64_t type = 0;
    int rc;

    memset(tx, 0, sizeof(*tx));
    if (e == NULL)
        return ct_error_set(CT_ENOMEM, "tx: out of memory");
    if (!json_is_object(j) ||
        (has(j, "type") && json_u64(&type, json_object_get(j, "type"), "type") < 0)) {
        json_decref(e);
        return ct_error_set(CT_EINVAL, "tx: not a transaction object");
    }
    if (type > 2) {
        json_decref(e);
        return ct_error_set(CT_EINVAL, "tx: type %llu is not supported (0, 1 or 2)",
                            (unsigned long long)type);
    }
    for (size_t i = 0; i < sizeof(rpc_fields) / sizeof(rpc_fields[0]); i++)
        if ((rpc_fields[i].types & (1u << type)) && has(j, rpc_fields[i].node))
            json_object_set(e, rpc_fields[i].ethers, json_object_get(j, rpc_fields[i].node));
    if (type == 0)
        json_object_del(e, "chainId"); /* legacy: v says whether it has one */
    if ((rc = ct_tx_from_json(tx, e)) == 0 && (rc = rpc_signature(tx, j)) < 0)
        ct_tx_clear(tx);
    json_decref(e);
    return rc;
}

/* ---------------------------------------------------------------- to JSON */

static json_t *dec_string(const ct_u256 *v)
{
    char s[CT_U256_DEC_SIZE];
    ct_u256_format_dec(s, v);
    return json_string(s);
}

static json_t *u64_string(uint64_t v)
{
    ct_u256 big;
    ct_u256_from_u64(&big, v);
    return dec_string(&big);
}

static json_t *address_json(const ct_address *a)
{
    char s[CT_ADDRESS_TEXT_SIZE];
    ct_address_format(s, a);
    return json_string(s);
}

static json_t *access_list_json(const ct_tx *tx)
{
    json_t *list = json_array();

    for (size_t i = 0; list != NULL && i < tx->n_access; i++) {
        const ct_access_entry *e = &tx->access_list[i];
        json_t *keys = json_array();
        for (size_t k = 0; keys != NULL && k < e->n_keys; k++)
            json_array_append_new(keys, ct_json_hex(e->keys[k], 32));
        json_array_append_new(list, json_pack("{s:o, s:o}", "address", address_json(&e->address),
                                              "storageKeys", keys));
    }
    return list;
}

/* v is y for a typed transaction, 27 + y before EIP-155 and chain_id * 2
 * + 35 + y after, which takes up to 66 bits. */
static int add_signature(json_t *j, const ct_tx *tx)
{
    unsigned __int128 v = (unsigned)tx->y_parity;
    ct_u256 big = {{0}};

    if (tx->type == 0)
        v += tx->has_chain_id ? (unsigned __int128)tx->chain_id * 2 + 35 : 27;

    for (int i = 0; i < 16; i++)
        big.b[31 - i] = (uint8_t)(v >> (8 * i));
    return json_object_set_new(j, "v", dec_string(&big)) |
           json_object_set_new(j, "r", ct_json_hex(tx->r.b, 32)) |
           json_object_set_new(j, "s", ct_json_hex(tx->s.b, 32)) |
           json_object_set_new(j, "yParity", json_integer(tx->y_parity));
}

int ct_tx_to_json(json_t **out, const ct_tx *tx)
{
    json_t *j = json_object();
    int bad = j == NULL;

    if (!bad) {
        bad |= json_object_set_new(j, "type", json_integer(tx->type));
        bad |= json_object_set_new(j, "chainId",
                                   tx->has_chain_id ? u64_string(tx->chain_id) : json_null());
        bad |= json_object_set_new(j, "nonce", u64_string(tx->nonce));
        bad |= json_object_set_new(j, "to", tx->has_to ? address_json(&tx->to) : json_null());
        bad |= json_object_set_new(j, "value", dec_string(&tx->value));
        bad |= json_object_set_new(j, "data", ct_json_hex(tx->data, tx->data_len));
        bad |= json_object_set_new(j, "gasLimit", u64_string(tx->gas_limit));
        if (tx->type == 2) {
            bad |= json_object_set_new(j, "maxFeePerGas", dec_string(&tx->max_fee));
            bad |=
                json_object_set_new(j, "maxPriorityFeePerGas", dec_string(&tx->max_priority_fee));
        } else {
            bad |= json_object_set_new(j, "gasPrice", dec_string(&tx->gas_price));
        }
        if (tx->type != 0)
            bad |= json_object_set_new(j, "accessList", access_list_json(tx));
        if (tx->is_signed && add_signature(j, tx) != 0)
            bad = 1;
    }
    if (bad) {
        json_decref(j);
        return ct_error_set(CT_ENOMEM, "tx: out of memory");
    }
    *out = j;
    return 0;
}
