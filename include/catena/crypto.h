/* Catena crypto: keccak-256, secp256k1 keys, signatures and recovery
 * (libsecp256k1), Ethereum addresses (EIP-55), random bytes and keystore
 * v3 files (scrypt/pbkdf2 + aes-128-ctr + keccak MAC, OpenSSL). Hashing and
 * signing write into caller buffers and never allocate; secret material is
 * wiped with ct_wipe after use. */
#ifndef CATENA_CRYPTO_H
#define CATENA_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catena/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- keccak */

#define CT_KECCAK256_SIZE 32

/* Streaming keccak-256 (the original Keccak padding 0x01, as Ethereum uses,
 * not SHA3-256's 0x06). */
typedef struct ct_keccak {
    uint64_t st[25];
    size_t pos; /* bytes absorbed into the current block */
} ct_keccak;

void ct_keccak_init(ct_keccak *k);
void ct_keccak_update(ct_keccak *k, const void *data, size_t len);
/* Writes the digest and wipes the state. */
void ct_keccak_final(ct_keccak *k, uint8_t out[CT_KECCAK256_SIZE]);

/* One-shot keccak-256. */
void ct_keccak256(uint8_t out[CT_KECCAK256_SIZE], const void *data, size_t len);

/* ---------------------------------------------------------------- SHA-256 */

/* SHA-256 (OpenSSL), used for bearer-token hashes. */
void ct_sha256(uint8_t out[32], const void *data, size_t len);

/* The SHA-256 of a bearer token as 64 lowercase hex digits and a NUL, the
 * form gateways and agents store (never the token itself). */
void ct_token_hash(char out[65], const char *token);

/* ---------------------------------------------------------------- keys */

#define CT_SECKEY_SIZE 32
#define CT_PUBKEY_SIZE 64 /* uncompressed X || Y, without the 0x04 prefix */
#define CT_SIG_SIZE 64    /* r || s, s in the lower half of the order */

/* Overwrites n bytes at p with zeros in a way the compiler keeps. */
void ct_wipe(void *p, size_t n);

/* Fills out with n cryptographically secure random bytes (OpenSSL).
 * Returns: 0 or CT_ECRYPTO. */
int ct_random(uint8_t *out, size_t n);

/* Returns: 0 if seckey is a valid secp256k1 secret key (0 < k < n), else
 * CT_ECRYPTO. */
int ct_seckey_verify(const uint8_t seckey[CT_SECKEY_SIZE]);

/* Generates a new random secret key. Returns: 0 or CT_ECRYPTO. */
int ct_seckey_generate(uint8_t out[CT_SECKEY_SIZE]);

/* Derives the uncompressed public key. Returns: 0 or CT_ECRYPTO (bad key). */
int ct_pubkey_from_seckey(uint8_t out[CT_PUBKEY_SIZE], const uint8_t seckey[CT_SECKEY_SIZE]);

/* Signs a 32-byte hash deterministically (RFC 6979) with a low-s
 * recoverable signature.
 * Out: sig = r || s, *recid in 0..3 (the y parity, 0 or 1 in practice).
 * Returns: 0 or CT_ECRYPTO.
 * Thread safety: safe from any thread (a shared context, read only). */
int ct_sign(uint8_t sig[CT_SIG_SIZE], int *recid, const uint8_t hash[32],
            const uint8_t seckey[CT_SECKEY_SIZE]);

/* Recovers the public key that signed hash. Rejects high-s signatures when
 * require_low_s (transactions after Homestead).
 * Returns: 0 or CT_ECRYPTO. */
int ct_recover(uint8_t out[CT_PUBKEY_SIZE], const uint8_t hash[32], const uint8_t sig[CT_SIG_SIZE],
               int recid, bool require_low_s);

/* ---------------------------------------------------------------- addresses */

#define CT_ADDRESS_SIZE 20
/* "0x" + 40 hex digits + NUL */
#define CT_ADDRESS_TEXT_SIZE 43

typedef struct ct_address {
    uint8_t b[CT_ADDRESS_SIZE];
} ct_address;

/* The last 20 bytes of keccak256(pubkey). */
void ct_address_from_pubkey(ct_address *out, const uint8_t pub[CT_PUBKEY_SIZE]);

/* Returns: 0 or CT_ECRYPTO (bad key). */
int ct_address_from_seckey(ct_address *out, const uint8_t seckey[CT_SECKEY_SIZE]);

/* Formats an EIP-55 mixed-case checksummed address. */
void ct_address_format(char out[CT_ADDRESS_TEXT_SIZE], const ct_address *a);

/* Parses "0x" + 40 hex digits (the prefix is optional). All-lowercase and
 * all-uppercase are accepted as is; mixed case must be a valid EIP-55
 * checksum.
 * Returns: 0, or CT_EPARSE naming what is wrong (length, digit, checksum). */
int ct_address_parse(ct_address *out, const char *s);

/* Returns: whether two addresses are equal. */
bool ct_address_equal(const ct_address *a, const ct_address *b);

/* ---------------------------------------------------------------- keystore v3 */

typedef enum ct_kdf { CT_KDF_SCRYPT = 0, CT_KDF_PBKDF2 = 1 } ct_kdf;

typedef struct ct_keystore_params {
    ct_kdf kdf;
    uint64_t scrypt_n; /* power of two; geth's standard is 262144 */
    uint32_t scrypt_r; /* 8 */
    uint32_t scrypt_p; /* 1 */
    uint32_t pbkdf2_c; /* iterations of PBKDF2-HMAC-SHA256, e.g. 262144 */
} ct_keystore_params;

/* geth's standard parameters (scrypt n=262144 r=8 p=1), and its "light"
 * ones (n=4096 r=8 p=6), useful for tests. */
extern const ct_keystore_params CT_KEYSTORE_STANDARD;
extern const ct_keystore_params CT_KEYSTORE_LIGHT;

/* Largest keystore file accepted, in bytes. */
#define CT_KEYSTORE_MAX_SIZE (64 * 1024)

/* Decrypts a keystore v3 JSON document (as written by geth, ethers,
 * MyEtherWallet...). The kdf parameters are bounded (scrypt n <= 2^20,
 * r*p <= 2^10 and n*r*p <= 2^23, i.e. at most 1 GiB and 4x geth's standard
 * work; pbkdf2 c <= 10^7; dklen 32) so a hostile file cannot make us spend
 * unbounded time or memory.
 * Out: the secret key (wipe it after use) and its address.
 * Returns: 0; CT_EPARSE (malformed, message names the field); CT_ECRYPTO
 * (wrong password: MAC mismatch; or address field does not match key);
 * CT_ELIMIT (parameters over the bounds). */
int ct_keystore_decrypt(uint8_t seckey[CT_SECKEY_SIZE], ct_address *addr, const char *json,
                        size_t json_len, const char *password, size_t password_len);

/* Encrypts seckey into a new keystore v3 JSON document with a random salt,
 * iv and uuid. params NULL means CT_KEYSTORE_STANDARD.
 * Out: *json malloc'd (caller frees), NUL terminated.
 * Returns: 0, CT_EINVAL (bad params or key), CT_ECRYPTO or CT_ENOMEM. */
int ct_keystore_encrypt(char **json, const uint8_t seckey[CT_SECKEY_SIZE], const char *password,
                        size_t password_len, const ct_keystore_params *params);

/* geth's file name for a new keystore: "UTC--2018-09-11T14-46-23.470000000Z--<address hex>".
 * Returns: 0, CT_ELIMIT when size is too small (needs 78), or CT_ERANGE
 * for a time outside years 0000-9999. */
int ct_keystore_filename(char *out, size_t size, const ct_address *addr, int64_t now_ms);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_CRYPTO_H */
