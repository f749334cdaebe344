/* Ethereum addresses: derivation from keys (last 20 bytes of the keccak of
 * the public key), EIP-55 checksummed text and its strict parsing. */
#include "catena/crypto.h"

#include <assert.h>
#include <string.h>

#define ADDRESS_HEX_LEN (2 * CT_ADDRESS_SIZE)

static const char hex_lower[] = "0123456789abcdef";

void ct_address_from_pubkey(ct_address *out, const uint8_t pub[CT_PUBKEY_SIZE])
{
    uint8_t h[CT_KECCAK256_SIZE];

    ct_keccak256(h, pub, CT_PUBKEY_SIZE);
    memcpy(out->b, h + CT_KECCAK256_SIZE - CT_ADDRESS_SIZE, CT_ADDRESS_SIZE);
}

int ct_address_from_seckey(ct_address *out, const uint8_t seckey[CT_SECKEY_SIZE])
{
    uint8_t pub[CT_PUBKEY_SIZE];
    int rc;

    if ((rc = ct_pubkey_from_seckey(pub, seckey)) < 0)
        return rc;
    ct_address_from_pubkey(out, pub);
    return 0;
}

/* Writes the EIP-55 form of the 40 lowercase digits in hex, in place: a
 * letter becomes uppercase when the matching nibble of keccak256 of the
 * lowercase text is 8 or more. */
static void checksum_case(char hex[ADDRESS_HEX_LEN])
{
    uint8_t h[CT_KECCAK256_SIZE];

    ct_keccak256(h, hex, ADDRESS_HEX_LEN);
    for (size_t i = 0; i < ADDRESS_HEX_LEN; i++) {
        unsigned nibble = (i % 2 == 0) ? h[i / 2] >> 4 : h[i / 2] & 0x0f;
        if (hex[i] >= 'a' && hex[i] <= 'f' && nibble >= 8)
            hex[i] = (char)(hex[i] - 'a' + 'A');
    }
}

void ct_address_format(char out[CT_ADDRESS_TEXT_SIZE], const ct_address *a)
{
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < CT_ADDRESS_SIZE; i++) {
        out[2 + 2 * i] = hex_lower[a->b[i] >> 4];
        out[3 + 2 * i] = hex_lower[a->b[i] & 0x0f];
    }
    checksum_case(out + 2);
    out[CT_ADDRESS_TEXT_SIZE - 1] = '\0';
}

/* Checks that mixed-case digits follow EIP-55. */
static int check_mixed_case(const char *digits)
{
    char expect[ADDRESS_HEX_LEN];
    bool lower = false, upper = false;

    for (size_t i = 0; i < ADDRESS_HEX_LEN; i++) {
        lower |= digits[i] >= 'a' && digits[i] <= 'f';
        upper |= digits[i] >= 'A' && digits[i] <= 'F';
        expect[i] =
            (digits[i] >= 'A' && digits[i] <= 'F') ? (char)(digits[i] - 'A' + 'a') : digits[i];
    }
    if (!lower || !upper)
        return 0;
    checksum_case(expect);
    for (size_t i = 0; i < ADDRESS_HEX_LEN; i++) {
        if (expect[i] != digits[i])
            return ct_error_set(CT_EPARSE, "address: bad EIP-55 checksum (case of digit %zu)",
                                i + 1);
    }
    return 0;
}

int ct_address_parse(ct_address *out, const char *s)
{
    size_t len;
    ct_address a;
    int rc;

    assert(s != NULL);
    if (s[0] == '0' && s[1] == 'x')
        s += 2;
    len = strlen(s);
    if (len != ADDRESS_HEX_LEN)
        return ct_error_set(CT_EPARSE, "address: expected 40 hex digits, got %zu", len);
    for (size_t i = 0; i < CT_ADDRESS_SIZE; i++) {
        int hi = ct_hex_digit(s[2 * i]), lo = ct_hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ct_error_set(CT_EPARSE, "address: invalid hex digit at position %zu",
                                (hi < 0 ? 2 * i : 2 * i + 1) + 1);
        a.b[i] = (uint8_t)(hi << 4 | lo);
    }
    if ((rc = check_mixed_case(s)) < 0)
        return rc;
    *out = a;
    return 0;
}

bool ct_address_equal(const ct_address *a, const ct_address *b)
{
    return memcmp(a->b, b->b, CT_ADDRESS_SIZE) == 0;
}
