/* EIP-712 typed structured data: domain separators, struct hashes of flat
 * structs, digests and the 65-byte signatures OpenZeppelin's ECDSA
 * recovers. Used for CAN leader accepts and cloud reservations. */
#include "catena/eth.h"

#include <stdio.h>
#include <string.h>

#define DOMAIN_TYPE                                                                                \
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"

void ct_eip712_domain(uint8_t out[32], const char *name, const char *version, uint64_t chain_id,
                      const ct_address *contract)
{
    uint8_t word[32];
    ct_keccak k;

    ct_keccak_init(&k);
    ct_keccak256(word, DOMAIN_TYPE, strlen(DOMAIN_TYPE));
    ct_keccak_update(&k, word, 32);
    ct_keccak256(word, name, strlen(name));
    ct_keccak_update(&k, word, 32);
    ct_keccak256(word, version, strlen(version));
    ct_keccak_update(&k, word, 32);
    memset(word, 0, 32);
    for (int i = 0; i < 8; i++)
        word[31 - i] = (uint8_t)(chain_id >> (8 * i));
    ct_keccak_update(&k, word, 32);
    memset(word, 0, 12);
    memcpy(word + 12, contract->b, CT_ADDRESS_SIZE);
    ct_keccak_update(&k, word, 32);
    ct_keccak_final(&k, out);
}

/* "Name(t1 a,t2 b)" -> "(t1,t2)": the member types as an ABI tuple.
 * Returns: 0, or CT_EINVAL for a type that is not a flat struct of atomic
 * members (string and bytes, hashed by EIP-712, are not supported). */
static int member_tuple(ct_buf *out, const char *type)
{
    const char *p = strchr(type, '('), *end = strrchr(type, ')');
    int rc;

    if (p == NULL || end == NULL || end[1] != '\0' || p == type)
        return ct_error_set(CT_EINVAL, "eip712: %s is not Name(type member,...)", type);
    if ((rc = ct_buf_append(out, "(", 1)) < 0)
        return rc;
    for (p++; p < end;) {
        const char *sp = strchr(p, ' '), *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (sp == NULL || sp > stop || sp == p)
            return ct_error_set(CT_EINVAL, "eip712: member '%.*s' of %s has no type and name",
                                (int)(stop - p), p, type);
        if ((strncmp(p, "string ", 7) == 0 || strncmp(p, "bytes ", 6) == 0 ||
             memchr(p, '[', (size_t)(sp - p)) != NULL))
            return ct_error_set(CT_EINVAL, "eip712: member type %.*s is not atomic", (int)(sp - p),
                                p);
        if ((out->len > 1 && (rc = ct_buf_append(out, ",", 1)) < 0) ||
            (rc = ct_buf_append(out, p, (size_t)(sp - p))) < 0)
            return rc;
        p = stop + 1;
    }
    return ct_buf_append(out, ")", 2);
}

int ct_eip712_hash_struct(uint8_t out[32], const char *type, const json_t *values)
{
    ct_abi_type *t = NULL;
    ct_buf tuple, enc;
    uint8_t typehash[32];
    int rc;

    ct_buf_init(&tuple, 1024);
    ct_buf_init(&enc, 4096);
    if ((rc = member_tuple(&tuple, type)) < 0 || (rc = ct_abi_type_parse(&t, tuple.data)) < 0)
        goto done;
    ct_keccak256(typehash, type, strlen(type));
    if ((rc = ct_buf_append(&enc, typehash, 32)) < 0 || (rc = ct_abi_encode(&enc, t, values)) < 0)
        goto done;
    ct_keccak256(out, enc.data, enc.len);
done:
    if (rc < 0)
        ct_error_wrap("eip712: %s", type);
    ct_abi_type_free(t);
    ct_buf_free(&tuple);
    ct_buf_free(&enc);
    return rc;
}

void ct_eip712_digest(uint8_t out[32], const uint8_t domain[32], const uint8_t struct_hash[32])
{
    ct_keccak k;

    ct_keccak_init(&k);
    ct_keccak_update(&k, "\x19\x01", 2);
    ct_keccak_update(&k, domain, 32);
    ct_keccak_update(&k, struct_hash, 32);
    ct_keccak_final(&k, out);
}

int ct_eip712_sign(uint8_t sig[65], const uint8_t digest[32], const uint8_t seckey[CT_SECKEY_SIZE])
{
    int recid = 0, rc;

    if ((rc = ct_sign(sig, &recid, digest, seckey)) < 0)
        return rc;
    sig[64] = (uint8_t)(27 + recid);
    return 0;
}
