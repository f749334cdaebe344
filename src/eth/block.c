/* What a block commits to, rebuilt from what a node answers: the header's
 * RLP (whose keccak is the block hash) from eth_getBlockBy* JSON, the
 * consensus encoding of a receipt (the receipts trie's values, EIP-2718
 * typed) from eth_getTransactionReceipt JSON and back, and the 2048-bit
 * logs bloom. */
#include "catena/eth.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- JSON to RLP items */

typedef enum field_kind { F_HASH, F_ADDRESS, F_BLOOM, F_QUANTITY, F_BYTES, F_NONCE } field_kind;

/* Appends a JSON hex byte string checked against kind to list. */
static int put_field(json_t *list, const json_t *obj, const char *key, field_kind kind)
{
    static const size_t want[] = {[F_HASH] = 32, [F_ADDRESS] = 20, [F_BLOOM] = 256, [F_NONCE] = 8};
    const char *s = json_string_value(json_object_get(obj, key));
    uint8_t be[32];
    char hex[2 + 64 + 1];
    ct_u256 v;
    size_t n, skip = 0;

    if (kind == F_QUANTITY) {
        if (ct_quantity_parse_u256(&v, json_object_get(obj, key)) < 0)
            return ct_error_set(CT_EPARSE, "block: %s is not a quantity", key);
        memcpy(be, v.b, 32);
        while (skip < 32 && be[skip] == 0)
            skip++;
        ct_hex_encode(hex, sizeof(hex), be + skip, 32 - skip, true);
        return json_array_append_new(list, json_string(hex)) < 0
                   ? ct_error_set(CT_ENOMEM, "block: out of memory")
                   : 0;
    }
    if (s == NULL || strncmp(s, "0x", 2) != 0 || strlen(s) % 2 != 0)
        return ct_error_set(CT_EPARSE, "block: %s is not hex bytes", key);
    for (const char *c = s + 2; *c != '\0'; c++)
        if (ct_hex_digit(*c) < 0)
            return ct_error_set(CT_EPARSE, "block: %s is not hex bytes", key);
    n = (strlen(s) - 2) / 2;
    if (kind != F_BYTES && n != want[kind])
        return ct_error_set(CT_EPARSE, "block: %s has %zu bytes, not %zu", key, n, want[kind]);
    return json_array_append_new(list, json_string(s)) < 0
               ? ct_error_set(CT_ENOMEM, "block: out of memory")
               : 0;
}

typedef struct field {
    const char *key;
    field_kind kind;
} field;

/* The header's fields in RLP order: the first 15 since Frontier, then
 * those each later hardfork appended (London, Shanghai, Cancun twice,
 * Prague). A node returns exactly the ones its chain's rules have. */
static const field header_fields[] = {
    {"parentHash", F_HASH},
    {"sha3Uncles", F_HASH},
    {"miner", F_ADDRESS},
    {"stateRoot", F_HASH},
    {"transactionsRoot", F_HASH},
    {"receiptsRoot", F_HASH},
    {"logsBloom", F_BLOOM},
    {"difficulty", F_QUANTITY},
    {"number", F_QUANTITY},
    {"gasLimit", F_QUANTITY},
    {"gasUsed", F_QUANTITY},
    {"timestamp", F_QUANTITY},
    {"extraData", F_BYTES},
    {"mixHash", F_HASH},
    {"nonce", F_NONCE},
    {"baseFeePerGas", F_QUANTITY},
    {"withdrawalsRoot", F_HASH},
    {"blobGasUsed", F_QUANTITY},
    {"excessBlobGas", F_QUANTITY},
    {"parentBeaconBlockRoot", F_HASH},
    {"requestsHash", F_HASH},
};
#define HEADER_BASE_FIELDS 15

int ct_header_encode_json(uint8_t **out, size_t *len, const json_t *block)
{
    json_t *list = json_array();
    size_t n = sizeof(header_fields) / sizeof(header_fields[0]);
    int rc = 0;

    if (list == NULL)
        return ct_error_set(CT_ENOMEM, "block: out of memory");
    if (!json_is_object(block))
        rc = ct_error_set(CT_EPARSE, "block: not an object");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i >= HEADER_BASE_FIELDS && json_object_get(block, header_fields[i].key) == NULL) {
            /* Fields only ever get appended: a later one without this one
             * is a header no hardfork defines. */
            for (size_t j = i + 1; j < n && rc == 0; j++)
                if (json_object_get(block, header_fields[j].key) != NULL)
                    rc = ct_error_set(CT_EPARSE, "block: %s without %s", header_fields[j].key,
                                      header_fields[i].key);
            break;
        }
        rc = put_field(list, block, header_fields[i].key, header_fields[i].kind);
    }
    if (rc == 0)
        rc = ct_rlp_from_json(out, len, list);
    json_decref(list);
    return rc;
}

/* ---------------------------------------------------------------- header RLP */

static int item_bytes(uint8_t *out, size_t want, const ct_rlp_item *it, const char *what)
{
    if (it->is_list || it->len != want)
        return ct_error_set(CT_EPARSE, "header: %s is not %zu bytes", what, want);
    memcpy(out, it->data, want);
    return 0;
}

int ct_header_decode(ct_header *out, const uint8_t *rlp, size_t len)
{
    ct_rlp_item list, it;
    ct_rlp_iter iter;
    int i = 0, rc;

    memset(out, 0, sizeof(*out));
    if (ct_rlp_decode(&list, rlp, len) < 0 || !list.is_list)
        return ct_error_set(CT_EPARSE, "header: not an RLP list");
    ct_rlp_iter_init(&iter, &list);
    while ((rc = ct_rlp_iter_next(&iter, &it)) == 1) {
        switch (i++) {
        case 0: rc = item_bytes(out->parent, 32, &it, "parentHash"); break;
        case 3: rc = item_bytes(out->state_root, 32, &it, "stateRoot"); break;
        case 4: rc = item_bytes(out->tx_root, 32, &it, "transactionsRoot"); break;
        case 5: rc = item_bytes(out->receipts_root, 32, &it, "receiptsRoot"); break;
        case 6: rc = item_bytes(out->bloom, 256, &it, "logsBloom"); break;
        case 8: rc = ct_rlp_item_uint(&out->number, &it); break;
        case 11: rc = ct_rlp_item_uint(&out->time, &it); break;
        default:
            if (i <= HEADER_BASE_FIELDS && it.is_list)
                rc = ct_error_set(CT_EPARSE, "header: field %d is a list", i - 1);
            break;
        }
        if (rc < 0)
            return ct_error_wrap("header field %d", i - 1);
    }
    if (rc < 0)
        return rc;
    if (i < HEADER_BASE_FIELDS || i > (int)(sizeof(header_fields) / sizeof(header_fields[0])))
        return ct_error_set(CT_EPARSE, "header: %d fields", i);
    ct_keccak256(out->hash, rlp, len);
    return 0;
}

/* ---------------------------------------------------------------- receipts */

static int put_logs(json_t *list, const json_t *logs)
{
    const json_t *log, *topic;
    json_t *entry, *topics;
    size_t i, j;
    int rc = 0;

    if (!json_is_array(logs))
        return ct_error_set(CT_EPARSE, "receipt: logs is not an array");
    json_array_foreach (logs, i, log) {
        entry = json_array();
        topics = json_array();
        if (entry == NULL || topics == NULL || json_array_append_new(list, entry) < 0) {
            json_decref(topics);
            return ct_error_set(CT_ENOMEM, "receipt: out of memory");
        }
        if ((rc = put_field(entry, log, "address", F_ADDRESS)) < 0)
            break;
        json_array_foreach (json_object_get(log, "topics"), j, topic) {
            json_t *holder = json_pack("{sO}", "t", topic);
            rc = holder != NULL ? put_field(topics, holder, "t", F_HASH) : CT_ENOMEM;
            json_decref(holder);
            if (rc < 0)
                break;
        }
        if (rc < 0 || json_array_append_new(entry, topics) < 0 ||
            (rc = put_field(entry, log, "data", F_BYTES)) < 0)
            return rc < 0 ? ct_error_wrap("log %zu", i)
                          : ct_error_set(CT_ENOMEM, "receipt: out of memory");
    }
    return rc < 0 ? ct_error_wrap("log %zu", i) : 0;
}

int ct_receipt_encode_json(uint8_t **out, size_t *len, const json_t *receipt)
{
    json_t *list = json_array(), *logs = json_array();
    uint64_t type = 0, status;
    uint8_t *body = NULL;
    size_t body_len;
    int rc = 0;

    if (list == NULL || logs == NULL) {
        rc = ct_error_set(CT_ENOMEM, "receipt: out of memory");
        goto done;
    }
    if (json_object_get(receipt, "type") != NULL &&
        (ct_quantity_parse_u64(&type, json_object_get(receipt, "type")) < 0 || type >= 0x7f)) {
        rc = ct_error_set(CT_EPARSE, "receipt: type is not a transaction type");
        goto done;
    }
    if (json_object_get(receipt, "status") != NULL) {
        /* Byzantium on: 1 as the byte 0x01, 0 as the empty string. */
        if (ct_quantity_parse_u64(&status, json_object_get(receipt, "status")) < 0 || status > 1)
            rc = ct_error_set(CT_EPARSE, "receipt: status is not 0 or 1");
        else
            rc = json_array_append_new(list, json_string(status ? "0x01" : "0x"));
    } else {
        rc = put_field(list, receipt, "root", F_HASH); /* before Byzantium */
    }
    if (rc < 0 || (rc = put_field(list, receipt, "cumulativeGasUsed", F_QUANTITY)) < 0 ||
        (rc = put_field(list, receipt, "logsBloom", F_BLOOM)) < 0 ||
        (rc = put_logs(logs, json_object_get(receipt, "logs"))) < 0)
        goto done;
    if (json_array_append(list, logs) < 0) {
        rc = ct_error_set(CT_ENOMEM, "receipt: out of memory");
        goto done;
    }
    if ((rc = ct_rlp_from_json(&body, &body_len, list)) < 0)
        goto done;
    if (type == 0) {
        *out = body;
        *len = body_len;
        body = NULL;
    } else if ((*out = malloc(body_len + 1)) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "receipt: out of memory");
    } else {
        (*out)[0] = (uint8_t)type;
        memcpy(*out + 1, body, body_len);
        *len = body_len + 1;
    }
done:
    free(body);
    json_decref(list);
    json_decref(logs);
    return rc;
}

/* Decodes one log [address, [topics], data] into its JSON form. */
static int log_json(json_t *logs, const ct_rlp_item *log)
{
    ct_rlp_item f[3], t;
    ct_rlp_iter it, ti;
    json_t *o, *topics;
    int n = 0, rc;

    if (!log->is_list)
        return ct_error_set(CT_EPARSE, "receipt: a log is not a list");
    ct_rlp_iter_init(&it, log);
    while (n < 4 && (rc = ct_rlp_iter_next(&it, &f[n < 3 ? n : 2])) == 1)
        n++;
    if (n != 3 || f[0].is_list || f[0].len != 20 || !f[1].is_list || f[2].is_list)
        return ct_error_set(CT_EPARSE, "receipt: a log is not [address, topics, data]");
    if ((topics = json_array()) == NULL ||
        (o = json_pack("{s:o,s:o,s:o}", "address", ct_json_hex(f[0].data, 20), "topics", topics,
                       "data", ct_json_hex(f[2].data, f[2].len))) == NULL ||
        json_array_append_new(logs, o) < 0)
        return ct_error_set(CT_ENOMEM, "receipt: out of memory");
    ct_rlp_iter_init(&ti, &f[1]);
    while ((rc = ct_rlp_iter_next(&ti, &t)) == 1) {
        if (t.is_list || t.len != 32)
            return ct_error_set(CT_EPARSE, "receipt: a topic is not 32 bytes");
        if (json_array_append_new(topics, ct_json_hex(t.data, 32)) < 0)
            return ct_error_set(CT_ENOMEM, "receipt: out of memory");
    }
    return rc;
}

int ct_receipt_decode(json_t **out, const uint8_t *enc, size_t len)
{
    ct_rlp_item list, f[4], log;
    ct_rlp_iter it;
    json_t *o = NULL, *logs = NULL;
    uint64_t type = 0, cumulative;
    int n = 0, rc;

    if (len > 0 && enc[0] < 0x7f) {
        type = enc[0];
        enc++;
        len--;
    }
    if (ct_rlp_decode(&list, enc, len) < 0 || !list.is_list)
        return ct_error_set(CT_EPARSE, "receipt: not an RLP list");
    ct_rlp_iter_init(&it, &list);
    while (n < 5 && (rc = ct_rlp_iter_next(&it, &f[n < 4 ? n : 3])) == 1)
        n++;
    if (n != 4 || f[0].is_list || f[2].is_list || f[2].len != 256 || !f[3].is_list ||
        ct_rlp_item_uint(&cumulative, &f[1]) < 0)
        return ct_error_set(CT_EPARSE, "receipt: not [status, gas, bloom, logs]");
    if ((logs = json_array()) == NULL ||
        (o = json_pack("{s:I,s:o,s:I,s:o,s:O}", "type", (json_int_t)type,
                       f[0].len == 32 ? "root" : "status",
                       f[0].len == 32 ? ct_json_hex(f[0].data, 32)
                                      : json_integer(f[0].len == 1 && f[0].data[0] == 1),
                       "cumulativeGasUsed", (json_int_t)cumulative, "logsBloom",
                       ct_json_hex(f[2].data, 256), "logs", logs)) == NULL) {
        json_decref(logs);
        return ct_error_set(CT_ENOMEM, "receipt: out of memory");
    }
    ct_rlp_iter_init(&it, &f[3]);
    while ((rc = ct_rlp_iter_next(&it, &log)) == 1)
        if ((rc = log_json(logs, &log)) < 0)
            break;
    json_decref(logs);
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* ---------------------------------------------------------------- bloom */

/* The three bits keccak(data) sets: bytes (0,1), (2,3), (4,5) mod 2048,
 * counted from the low end of the big-endian 256 bytes. */
static void bloom_bits(unsigned bits[3], const uint8_t *data, size_t len)
{
    uint8_t h[32];

    ct_keccak256(h, data, len);
    for (int i = 0; i < 3; i++)
        bits[i] = ((unsigned)h[2 * i] << 8 | h[2 * i + 1]) & 2047;
}

void ct_bloom_add(uint8_t bloom[256], const uint8_t *data, size_t len)
{
    unsigned bits[3];

    bloom_bits(bits, data, len);
    for (int i = 0; i < 3; i++)
        bloom[255 - bits[i] / 8] |= (uint8_t)(1u << (bits[i] % 8));
}

bool ct_bloom_may_contain(const uint8_t bloom[256], const uint8_t *data, size_t len)
{
    unsigned bits[3];

    bloom_bits(bits, data, len);
    for (int i = 0; i < 3; i++)
        if (!(bloom[255 - bits[i] / 8] & (1u << (bits[i] % 8))))
            return false;
    return true;
}
