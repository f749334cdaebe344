/* Ethereum transactions: legacy (pre-EIP-155 and EIP-155), EIP-2930 and
 * EIP-1559; encoding, strict decoding, signing hashes, signing, sender
 * recovery. JSON conversion lives in tx_json.c. */
#include "catena/eth.h"

#include <stdlib.h>
#include <string.h>

void ct_tx_clear(ct_tx *tx)
{
    if (tx == NULL)
        return;
    free(tx->data);
    for (size_t i = 0; i < tx->n_access; i++)
        free(tx->access_list[i].keys);
    free(tx->access_list);
    memset(tx, 0, sizeof(*tx));
}

/* An upper bound of the encoded size, so one allocation always suffices. */
static size_t encoded_bound(const ct_tx *tx)
{
    size_t n = 16 * 40 + tx->data_len + 16;
    for (size_t i = 0; i < tx->n_access; i++)
        n += 40 + tx->access_list[i].n_keys * 34;
    return n;
}

static void put_access_list(ct_rlp_writer *w, const ct_tx *tx)
{
    ct_rlp_list_begin(w);
    for (size_t i = 0; i < tx->n_access; i++) {
        const ct_access_entry *e = &tx->access_list[i];
        ct_rlp_list_begin(w);
        ct_rlp_put_bytes(w, e->address.b, CT_ADDRESS_SIZE);
        ct_rlp_list_begin(w);
        for (size_t k = 0; k < e->n_keys; k++)
            ct_rlp_put_bytes(w, e->keys[k], 32);
        ct_rlp_list_end(w);
        ct_rlp_list_end(w);
    }
    ct_rlp_list_end(w);
}

/* to, value, data: common to every type. */
static void put_call(ct_rlp_writer *w, const ct_tx *tx)
{
    ct_rlp_put_bytes(w, tx->to.b, tx->has_to ? CT_ADDRESS_SIZE : 0);
    ct_rlp_put_u256(w, &tx->value);
    ct_rlp_put_bytes(w, tx->data, tx->data_len);
}

/* Writes the legacy v value (27/28 or EIP-155's chain_id * 2 + 35/36). */
static void put_legacy_v(ct_rlp_writer *w, const ct_tx *tx)
{
    ct_u256 v;

    if (!tx->has_chain_id) {
        ct_rlp_put_uint(w, 27 + (uint64_t)tx->y_parity);
        return;
    }
    ct_u256_from_u64(&v, tx->chain_id);
    ct_u256 extra;
    ct_u256_from_u64(&extra, 35 + (uint64_t)tx->y_parity);
    /* chain_id < 2^64, so 2 * chain_id + 36 cannot overflow 256 bits. */
    ct_u256_mul_u64(&v, &v, 2);
    ct_u256_add(&v, &v, &extra);
    ct_rlp_put_u256(w, &v);
}

/* Writes the transaction; signed selects the signed form (with signature
 * fields) or the form that is hashed for signing. */
static int tx_write(ct_rlp_writer *w, const ct_tx *tx, bool with_sig)
{
    if (tx->type == 0) {
        ct_rlp_list_begin(w);
        ct_rlp_put_uint(w, tx->nonce);
        ct_rlp_put_u256(w, &tx->gas_price);
        ct_rlp_put_uint(w, tx->gas_limit);
        put_call(w, tx);
        if (with_sig) {
            put_legacy_v(w, tx);
            ct_rlp_put_u256(w, &tx->r);
            ct_rlp_put_u256(w, &tx->s);
        } else if (tx->has_chain_id) {
            ct_rlp_put_uint(w, tx->chain_id);
            ct_rlp_put_uint(w, 0);
            ct_rlp_put_uint(w, 0);
        }
        ct_rlp_list_end(w);
        return 0;
    }
    if (w->cap < 1)
        return ct_error_set(CT_ELIMIT, "tx: buffer too small");
    w->buf[0] = (uint8_t)tx->type;
    w->len = 1;
    ct_rlp_list_begin(w);
    ct_rlp_put_uint(w, tx->chain_id);
    ct_rlp_put_uint(w, tx->nonce);
    if (tx->type == 1) {
        ct_rlp_put_u256(w, &tx->gas_price);
    } else {
        ct_rlp_put_u256(w, &tx->max_priority_fee);
        ct_rlp_put_u256(w, &tx->max_fee);
    }
    ct_rlp_put_uint(w, tx->gas_limit);
    put_call(w, tx);
    put_access_list(w, tx);
    if (with_sig) {
        ct_rlp_put_uint(w, (uint64_t)tx->y_parity);
        ct_rlp_put_u256(w, &tx->r);
        ct_rlp_put_u256(w, &tx->s);
    }
    ct_rlp_list_end(w);
    return 0;
}

static int check_type(const ct_tx *tx)
{
    if (tx->type < 0 || tx->type > 2)
        return ct_error_set(CT_EINVAL, "tx: unsupported type %d", tx->type);
    if (tx->type != 0 && !tx->has_chain_id)
        return ct_error_set(CT_EINVAL, "tx: type %d needs a chain id", tx->type);
    return 0;
}

static int tx_encode_form(uint8_t **out, size_t *len, const ct_tx *tx, bool with_sig)
{
    ct_rlp_writer w;
    size_t cap = encoded_bound(tx);
    uint8_t *buf;
    int rc;

    if ((rc = check_type(tx)) < 0)
        return rc;
    buf = malloc(cap);
    if (buf == NULL)
        return ct_error_set(CT_ENOMEM, "tx: out of memory");
    ct_rlp_writer_init(&w, buf, cap);
    if ((rc = tx_write(&w, tx, with_sig)) < 0 || (rc = ct_rlp_finish(&w, len)) < 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}

int ct_tx_encode(uint8_t **out, size_t *len, const ct_tx *tx)
{
    return tx_encode_form(out, len, tx, tx->is_signed);
}

int ct_tx_signing_hash(uint8_t out[32], const ct_tx *tx)
{
    uint8_t *buf;
    size_t len;
    int rc = tx_encode_form(&buf, &len, tx, false);

    if (rc < 0)
        return rc;
    ct_keccak256(out, buf, len);
    free(buf);
    return 0;
}

int ct_tx_hash(uint8_t out[32], const ct_tx *tx)
{
    uint8_t *buf;
    size_t len;
    int rc;

    if (!tx->is_signed)
        return ct_error_set(CT_ESTATE, "tx: not signed");
    if ((rc = tx_encode_form(&buf, &len, tx, true)) < 0)
        return rc;
    ct_keccak256(out, buf, len);
    free(buf);
    return 0;
}

int ct_tx_sign(ct_tx *tx, const uint8_t seckey[CT_SECKEY_SIZE])
{
    uint8_t hash[32], sig[CT_SIG_SIZE];
    int recid, rc;

    if ((rc = ct_tx_signing_hash(hash, tx)) < 0)
        return rc;
    if ((rc = ct_sign(sig, &recid, hash, seckey)) < 0)
        return rc;
    memcpy(tx->r.b, sig, 32);
    memcpy(tx->s.b, sig + 32, 32);
    tx->y_parity = recid;
    tx->is_signed = true;
    ct_wipe(sig, sizeof(sig));
    return 0;
}

int ct_tx_sender(ct_address *out, const ct_tx *tx)
{
    uint8_t hash[32], sig[CT_SIG_SIZE], pub[CT_PUBKEY_SIZE];
    int rc;

    if (!tx->is_signed)
        return ct_error_set(CT_ESTATE, "tx: not signed");
    if ((rc = ct_tx_signing_hash(hash, tx)) < 0)
        return rc;
    memcpy(sig, tx->r.b, 32);
    memcpy(sig + 32, tx->s.b, 32);
    if ((rc = ct_recover(pub, hash, sig, tx->y_parity, true)) < 0)
        return rc;
    ct_address_from_pubkey(out, pub);
    return 0;
}

/* ---------------------------------------------------------------- decoding */

/* Reads the next list element, which must exist. */
static int next_item(ct_rlp_iter *it, ct_rlp_item *item, const char *field)
{
    int rc = ct_rlp_iter_next(it, item);
    if (rc < 0)
        return ct_error_wrap("tx: %s", field);
    if (rc == 0)
        return ct_error_set(CT_EPARSE, "tx: missing field %s", field);
    return 0;
}

static int next_u64(ct_rlp_iter *it, uint64_t *out, const char *field)
{
    ct_rlp_item item;
    int rc = next_item(it, &item, field);
    if (rc == 0 && (rc = ct_rlp_item_uint(out, &item)) < 0)
        ct_error_wrap("tx: %s", field);
    return rc;
}

static int next_u256(ct_rlp_iter *it, ct_u256 *out, const char *field)
{
    ct_rlp_item item;
    int rc = next_item(it, &item, field);
    if (rc == 0 && (rc = ct_rlp_item_u256(out, &item)) < 0)
        ct_error_wrap("tx: %s", field);
    return rc;
}

/* Reads to, value and data. */
static int read_call(ct_rlp_iter *it, ct_tx *tx)
{
    ct_rlp_item item;
    int rc;

    if ((rc = next_item(it, &item, "to")) < 0)
        return rc;
    if (item.is_list || (item.len != 0 && item.len != CT_ADDRESS_SIZE))
        return ct_error_set(CT_EPARSE, "tx: 'to' must be empty or 20 bytes");
    tx->has_to = item.len == CT_ADDRESS_SIZE;
    if (tx->has_to)
        memcpy(tx->to.b, item.data, CT_ADDRESS_SIZE);
    if ((rc = next_u256(it, &tx->value, "value")) < 0)
        return rc;
    if ((rc = next_item(it, &item, "data")) < 0)
        return rc;
    if (item.is_list)
        return ct_error_set(CT_EPARSE, "tx: 'data' must be a byte string");
    tx->data = malloc(item.len ? item.len : 1);
    if (tx->data == NULL)
        return ct_error_set(CT_ENOMEM, "tx: out of memory");
    memcpy(tx->data, item.data, item.len);
    tx->data_len = item.len;
    return 0;
}

static int read_access_entry(ct_access_entry *e, const ct_rlp_item *entry)
{
    ct_rlp_iter it, keys;
    ct_rlp_item addr, list, key;
    size_t n = 0;
    int rc;

    if (!entry->is_list)
        return ct_error_set(CT_EPARSE, "tx: access list entry must be a list");
    ct_rlp_iter_init(&it, entry);
    if ((rc = next_item(&it, &addr, "access list address")) < 0 ||
        (rc = next_item(&it, &list, "access list keys")) < 0)
        return rc;
    if (addr.is_list || addr.len != CT_ADDRESS_SIZE || !list.is_list ||
        ct_rlp_iter_next(&it, &key) != 0)
        return ct_error_set(CT_EPARSE, "tx: access list entry must be [address, [keys]]");
    memcpy(e->address.b, addr.data, CT_ADDRESS_SIZE);
    /* Each key takes 33 bytes, which bounds the allocation by the input. */
    e->keys = malloc((list.len / 33 + 1) * 32);
    if (e->keys == NULL)
        return ct_error_set(CT_ENOMEM, "tx: out of memory");
    ct_rlp_iter_init(&keys, &list);
    while ((rc = ct_rlp_iter_next(&keys, &key)) == 1) {
        if (key.is_list || key.len != 32)
            return ct_error_set(CT_EPARSE, "tx: storage keys must be 32 bytes");
        memcpy(e->keys[n++], key.data, 32);
    }
    e->n_keys = n;
    return rc;
}

static int read_access_list(ct_rlp_iter *it, ct_tx *tx)
{
    ct_rlp_item list, entry;
    ct_rlp_iter entries;
    int rc;

    if ((rc = next_item(it, &list, "accessList")) < 0)
        return rc;
    if (!list.is_list)
        return ct_error_set(CT_EPARSE, "tx: accessList must be a list");
    /* Each entry takes at least 23 bytes. */
    tx->access_list = calloc(list.len / 23 + 1, sizeof(ct_access_entry));
    if (tx->access_list == NULL)
        return ct_error_set(CT_ENOMEM, "tx: out of memory");
    ct_rlp_iter_init(&entries, &list);
    while ((rc = ct_rlp_iter_next(&entries, &entry)) == 1) {
        rc = read_access_entry(&tx->access_list[tx->n_access++], &entry);
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* Reads r and s, rejecting values that cannot be a signature. */
static int read_rs(ct_rlp_iter *it, ct_tx *tx)
{
    int rc;

    if ((rc = next_u256(it, &tx->r, "r")) < 0 || (rc = next_u256(it, &tx->s, "s")) < 0)
        return rc;
    if (ct_u256_is_zero(&tx->r) || ct_u256_is_zero(&tx->s))
        return ct_error_set(CT_EPARSE, "tx: r and s must not be zero");
    tx->is_signed = true;
    return 0;
}

/* Reads a legacy v: 27 + y, or EIP-155's chain_id * 2 + 35 + y, which
 * takes up to 66 bits for a chain id of 64. */
static int read_legacy_v(ct_rlp_iter *it, ct_tx *tx)
{
    ct_u256 v256;
    unsigned __int128 v = 0, chain;
    int rc;

    if ((rc = next_u256(it, &v256, "v")) < 0)
        return rc;
    if (ct_u256_bits(&v256) > 128)
        return ct_error_set(CT_ERANGE, "tx: v is too large (chain id beyond 64 bits)");
    for (int i = 16; i < 32; i++)
        v = v << 8 | v256.b[i];
    if (v == 27 || v == 28) {
        tx->has_chain_id = false;
        tx->y_parity = (int)(v - 27);
    } else if (v >= 35) {
        if ((chain = (v - 35) / 2) > UINT64_MAX)
            return ct_error_set(CT_ERANGE, "tx: v is too large (chain id beyond 64 bits)");
        tx->has_chain_id = true;
        tx->chain_id = (uint64_t)chain;
        tx->y_parity = (int)((v - 35) % 2);
    } else {
        return ct_error_set(CT_EPARSE, "tx: invalid v %u", (unsigned)v);
    }
    return 0;
}

static int decode_fields(ct_tx *tx, ct_rlp_iter *it)
{
    int rc;
    uint64_t parity;

    if (tx->type == 0) {
        if ((rc = next_u64(it, &tx->nonce, "nonce")) < 0 ||
            (rc = next_u256(it, &tx->gas_price, "gasPrice")) < 0 ||
            (rc = next_u64(it, &tx->gas_limit, "gasLimit")) < 0 || (rc = read_call(it, tx)) < 0 ||
            (rc = read_legacy_v(it, tx)) < 0)
            return rc;
        return read_rs(it, tx);
    }
    tx->has_chain_id = true;
    if ((rc = next_u64(it, &tx->chain_id, "chainId")) < 0 ||
        (rc = next_u64(it, &tx->nonce, "nonce")) < 0)
        return rc;
    if (tx->type == 1)
        rc = next_u256(it, &tx->gas_price, "gasPrice");
    else if ((rc = next_u256(it, &tx->max_priority_fee, "maxPriorityFeePerGas")) == 0)
        rc = next_u256(it, &tx->max_fee, "maxFeePerGas");
    if (rc < 0 || (rc = next_u64(it, &tx->gas_limit, "gasLimit")) < 0 ||
        (rc = read_call(it, tx)) < 0 || (rc = read_access_list(it, tx)) < 0 ||
        (rc = next_u64(it, &parity, "yParity")) < 0)
        return rc;
    if (parity > 1)
        return ct_error_set(CT_EPARSE, "tx: yParity must be 0 or 1");
    tx->y_parity = (int)parity;
    return read_rs(it, tx);
}

int ct_tx_decode(ct_tx *tx, const uint8_t *raw, size_t len)
{
    ct_rlp_item top, extra;
    ct_rlp_iter it;
    int rc;

    memset(tx, 0, sizeof(*tx));
    if (len > CT_TX_MAX_SIZE)
        return ct_error_set(CT_ELIMIT, "tx: %zu bytes is over the limit of %d", len,
                            CT_TX_MAX_SIZE);
    if (len == 0)
        return ct_error_set(CT_EPARSE, "tx: empty input");
    if (raw[0] >= 0xc0) {
        tx->type = 0;
    } else if (raw[0] == 1 || raw[0] == 2) {
        tx->type = raw[0];
        raw++;
        len--;
    } else {
        return ct_error_set(CT_EPARSE, "tx: unsupported transaction type 0x%02x", raw[0]);
    }
    if ((rc = ct_rlp_decode(&top, raw, len)) < 0) {
        ct_error_wrap("tx");
        goto done;
    }
    if (!top.is_list) {
        rc = ct_error_set(CT_EPARSE, "tx: expected an RLP list");
        goto done;
    }
    ct_rlp_iter_init(&it, &top);
    if ((rc = decode_fields(tx, &it)) < 0)
        goto done;
    if ((rc = ct_rlp_iter_next(&it, &extra)) != 0) {
        rc = rc < 0 ? rc : ct_error_set(CT_EPARSE, "tx: unexpected extra fields");
        goto done;
    }
done:
    if (rc < 0)
        ct_tx_clear(tx);
    return rc;
}
