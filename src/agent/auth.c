/* Authentication between the gateway and an agent (docs/AGENT_PROTOCOL.md
 * section 1): the digests both sides sign, the agent's answer to a
 * challenge and the gateway's proof in the upgrade request. Pure
 * functions over the project's keccak and secp256k1. */
#include "agent_int.h"

#include <stdio.h>
#include <string.h>

#define AGENT_TAG "catena-agent-auth-v1"
#define GATEWAY_TAG "catena-gateway-auth-v1"
#define PROOF_VERSION "v1"

/* Absorbs s preceded by its length, so that no two (name, url) pairs
 * hash the same bytes. */
static void absorb_string(ct_keccak *k, const char *s)
{
    size_t n = strlen(s);
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};

    ct_keccak_update(k, len, sizeof(len));
    ct_keccak_update(k, s, n);
}

void ct_agent_auth_digest(uint8_t out[32], const char *dc_name, const char *url,
                          const uint8_t challenge[CT_AGENT_CHALLENGE_SIZE])
{
    ct_keccak k;

    ct_keccak_init(&k);
    ct_keccak_update(&k, AGENT_TAG, strlen(AGENT_TAG));
    absorb_string(&k, dc_name);
    absorb_string(&k, url);
    ct_keccak_update(&k, challenge, CT_AGENT_CHALLENGE_SIZE);
    ct_keccak_final(&k, out);
}

int ct_agent_auth_sign(char out[CT_AGENT_SIG_TEXT_SIZE], const uint8_t digest[32],
                       const uint8_t seckey[CT_SECKEY_SIZE])
{
    uint8_t sig[CT_SIG_SIZE + 1];
    int recid, rc;

    if ((rc = ct_sign(sig, &recid, digest, seckey)) < 0)
        return rc;
    sig[CT_SIG_SIZE] = (uint8_t)recid;
    ct_hex_encode(out, CT_AGENT_SIG_TEXT_SIZE, sig, sizeof(sig), true);
    return 0;
}

int ct_agent_auth_recover(ct_address *out, const uint8_t digest[32], const char *sig)
{
    uint8_t raw[CT_SIG_SIZE + 1], pub[CT_PUBKEY_SIZE];
    size_t n;

    if (sig == NULL || strlen(sig) != CT_AGENT_SIG_TEXT_SIZE - 1 ||
        ct_hex_decode(raw, sizeof(raw), &n, sig, strlen(sig)) < 0 || n != sizeof(raw) ||
        raw[CT_SIG_SIZE] > 3)
        return ct_error_set(CT_EPARSE, "a signature must be 0x and 130 hex digits");
    if (ct_recover(pub, digest, raw, raw[CT_SIG_SIZE], true) < 0)
        return ct_error_set(CT_ECRYPTO, "not a valid signature");
    ct_address_from_pubkey(out, pub);
    return 0;
}

static void gateway_digest(uint8_t out[32], const char *dc_name, const ct_address *wallet,
                           int64_t at_ms, const uint8_t nonce[CT_AGENT_NONCE_SIZE])
{
    uint8_t at[8];
    ct_keccak k;

    for (int i = 0; i < 8; i++)
        at[i] = (uint8_t)((uint64_t)at_ms >> (56 - 8 * i));
    ct_keccak_init(&k);
    ct_keccak_update(&k, GATEWAY_TAG, strlen(GATEWAY_TAG));
    absorb_string(&k, dc_name);
    ct_keccak_update(&k, wallet->b, CT_ADDRESS_SIZE);
    ct_keccak_update(&k, at, sizeof(at));
    ct_keccak_update(&k, nonce, CT_AGENT_NONCE_SIZE);
    ct_keccak_final(&k, out);
}

int ct_agent_gateway_proof(char out[CT_AGENT_GATEWAY_PROOF_SIZE], const char *dc_name,
                           const ct_address *wallet, int64_t now_ms,
                           const uint8_t gateway_key[CT_SECKEY_SIZE])
{
    uint8_t nonce[CT_AGENT_NONCE_SIZE], digest[32];
    char nonce_hex[2 * CT_AGENT_NONCE_SIZE + 1], sig[CT_AGENT_SIG_TEXT_SIZE];
    int rc;

    if ((rc = ct_random(nonce, sizeof(nonce))) < 0)
        return rc;
    gateway_digest(digest, dc_name, wallet, now_ms, nonce);
    if ((rc = ct_agent_auth_sign(sig, digest, gateway_key)) < 0)
        return rc;
    ct_hex_encode(nonce_hex, sizeof(nonce_hex), nonce, sizeof(nonce), false);
    snprintf(out, CT_AGENT_GATEWAY_PROOF_SIZE, PROOF_VERSION ".%lld.%s.%s", (long long)now_ms,
             nonce_hex, sig);
    return 0;
}

/* Splits "v1.<ms>.<nonce>.<sig>". Returns: 0 or CT_EAUTH. */
static int parse_proof(int64_t *at_ms, uint8_t nonce[CT_AGENT_NONCE_SIZE], const char **sig,
                       const char *proof)
{
    const char *p = proof, *dot;
    char num[24];
    uint64_t v;
    size_t n;

    if (proof == NULL || strncmp(p, PROOF_VERSION ".", 3) != 0)
        return ct_error_set(CT_EAUTH, "no %s proof", PROOF_VERSION);
    p += 3;
    if ((dot = strchr(p, '.')) == NULL || (size_t)(dot - p) >= sizeof(num))
        return ct_error_set(CT_EAUTH, "malformed proof time");
    memcpy(num, p, (size_t)(dot - p));
    num[dot - p] = '\0';
    if (ct_parse_uint(&v, num, INT64_MAX) < 0)
        return ct_error_set(CT_EAUTH, "malformed proof time");
    *at_ms = (int64_t)v;
    p = dot + 1;
    if ((dot = strchr(p, '.')) == NULL || dot - p != 2 * CT_AGENT_NONCE_SIZE ||
        ct_hex_decode(nonce, CT_AGENT_NONCE_SIZE, &n, p, (size_t)(dot - p)) < 0)
        return ct_error_set(CT_EAUTH, "malformed proof nonce");
    *sig = dot + 1;
    return 0;
}

int ct_agent_gateway_check(ct_address *signer, uint8_t nonce[CT_AGENT_NONCE_SIZE], int64_t *at_ms,
                           const char *proof, const char *dc_name, const ct_address *wallet,
                           int64_t now_ms)
{
    uint8_t digest[32];
    const char *sig = NULL;
    int rc;

    if ((rc = parse_proof(at_ms, nonce, &sig, proof)) < 0)
        return rc;
    if (*at_ms < now_ms - CT_AGENT_GATEWAY_WINDOW_MS ||
        *at_ms > now_ms + CT_AGENT_GATEWAY_WINDOW_MS)
        return ct_error_set(CT_EAUTH, "proof time is %lld ms from the agent's clock",
                            (long long)(*at_ms - now_ms));
    gateway_digest(digest, dc_name, wallet, *at_ms, nonce);
    if (ct_agent_auth_recover(signer, digest, sig) < 0)
        return ct_error_set(CT_EAUTH, "bad proof signature");
    return 0;
}
