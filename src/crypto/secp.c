/* secp256k1 keys, recoverable ECDSA signatures (RFC 6979, low-s) and public
 * key recovery over Debian's libsecp256k1, plus secure random bytes
 * (OpenSSL) and wiping of secrets. One shared, randomized context. */
#include "catena/crypto.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static secp256k1_context *ctx_shared;

/* Creates the context and blinds it against side channels with fresh
 * randomness. Signing and recovery only read the context afterwards, so
 * it is safe to share between threads. On failure ctx_shared stays NULL. */
static void ctx_create(void)
{
    secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t seed[32];

    if (c == NULL)
        return;
    if (ct_random(seed, sizeof(seed)) < 0 || !secp256k1_context_randomize(c, seed)) {
        secp256k1_context_destroy(c);
        c = NULL;
    }
    ct_wipe(seed, sizeof(seed));
    ctx_shared = c;
}

/* Returns: the shared context, or NULL (error set) if it could not be made. */
static const secp256k1_context *ctx_get(void)
{
    if (pthread_once(&ctx_once, ctx_create) != 0 || ctx_shared == NULL) {
        ct_error_set(CT_ECRYPTO, "secp256k1: cannot create a randomized context");
        return NULL;
    }
    return ctx_shared;
}

void ct_wipe(void *p, size_t n)
{
    if (p != NULL)
        explicit_bzero(p, n);
}

int ct_random(uint8_t *out, size_t n)
{
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(out, chunk) != 1)
            return ct_error_set(CT_ECRYPTO, "random: RAND_bytes failed");
        out += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

int ct_seckey_verify(const uint8_t seckey[CT_SECKEY_SIZE])
{
    const secp256k1_context *ctx = ctx_get();

    if (ctx == NULL)
        return CT_ECRYPTO;
    if (!secp256k1_ec_seckey_verify(ctx, seckey))
        return ct_error_set(CT_ECRYPTO, "secp256k1: secret key is zero or not below the order");
    return 0;
}

int ct_seckey_generate(uint8_t out[CT_SECKEY_SIZE])
{
    /* A random 256-bit value is out of range with probability ~2^-128, so
     * a few attempts only guard against a broken generator. */
    for (int attempt = 0; attempt < 8; attempt++) {
        if (ct_random(out, CT_SECKEY_SIZE) < 0)
            break;
        if (ct_seckey_verify(out) == 0)
            return 0;
    }
    ct_wipe(out, CT_SECKEY_SIZE);
    return ct_error_set(CT_ECRYPTO, "secp256k1: cannot generate a secret key");
}

/* Writes pub as 64 bytes X || Y. */
static void pubkey_serialize(const secp256k1_context *ctx, uint8_t out[CT_PUBKEY_SIZE],
                             const secp256k1_pubkey *pub)
{
    uint8_t full[65];
    size_t len = sizeof(full);

    secp256k1_ec_pubkey_serialize(ctx, full, &len, pub, SECP256K1_EC_UNCOMPRESSED);
    memcpy(out, full + 1, CT_PUBKEY_SIZE);
}

int ct_pubkey_from_seckey(uint8_t out[CT_PUBKEY_SIZE], const uint8_t seckey[CT_SECKEY_SIZE])
{
    const secp256k1_context *ctx = ctx_get();
    secp256k1_pubkey pub;

    if (ctx == NULL)
        return CT_ECRYPTO;
    if (!secp256k1_ec_pubkey_create(ctx, &pub, seckey))
        return ct_error_set(CT_ECRYPTO, "secp256k1: invalid secret key");
    pubkey_serialize(ctx, out, &pub);
    return 0;
}

int ct_sign(uint8_t sig[CT_SIG_SIZE], int *recid, const uint8_t hash[32],
            const uint8_t seckey[CT_SECKEY_SIZE])
{
    const secp256k1_context *ctx = ctx_get();
    secp256k1_ecdsa_recoverable_signature rsig;

    if (ctx == NULL)
        return CT_ECRYPTO;
    /* NULL nonce function: RFC 6979; libsecp256k1 always emits low s. */
    if (!secp256k1_ecdsa_sign_recoverable(ctx, &rsig, hash, seckey, NULL, NULL))
        return ct_error_set(CT_ECRYPTO, "secp256k1: signing failed (invalid secret key)");
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, sig, recid, &rsig);
    return 0;
}

int ct_recover(uint8_t out[CT_PUBKEY_SIZE], const uint8_t hash[32], const uint8_t sig[CT_SIG_SIZE],
               int recid, bool require_low_s)
{
    const secp256k1_context *ctx = ctx_get();
    secp256k1_ecdsa_recoverable_signature rsig;
    secp256k1_ecdsa_signature plain;
    secp256k1_pubkey pub;

    if (ctx == NULL)
        return CT_ECRYPTO;
    if (recid < 0 || recid > 3)
        return ct_error_set(CT_ECRYPTO, "secp256k1: recovery id %d not in 0..3", recid);
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, sig, recid))
        return ct_error_set(CT_ECRYPTO, "secp256k1: signature r or s not below the order");
    if (require_low_s) {
        secp256k1_ecdsa_recoverable_signature_convert(ctx, &plain, &rsig);
        /* normalize returns 1 when s was in the upper half. */
        if (secp256k1_ecdsa_signature_normalize(ctx, NULL, &plain))
            return ct_error_set(CT_ECRYPTO, "secp256k1: signature s is above n/2");
    }
    if (!secp256k1_ecdsa_recover(ctx, &pub, &rsig, hash))
        return ct_error_set(CT_ECRYPTO, "secp256k1: no public key recovers this signature");
    pubkey_serialize(ctx, out, &pub);
    return 0;
}
