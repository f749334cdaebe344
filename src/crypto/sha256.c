/* SHA-256 through OpenSSL, and the hashed form of bearer tokens that
 * gateways and agents keep instead of the tokens. */
#include "catena/crypto.h"

#include <string.h>

#include <openssl/evp.h>

void ct_sha256(uint8_t out[32], const void *data, size_t len)
{
    unsigned n = 0;

    /* EVP_Digest only fails when OpenSSL cannot allocate; a zero hash then
     * matches no stored token. */
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
        memset(out, 0, 32);
}

void ct_token_hash(char out[65], const char *token)
{
    uint8_t digest[32];

    ct_sha256(digest, token, strlen(token));
    ct_hex_encode(out, 65, digest, 32, false);
}
