/* Hex encoding and strict decoding of byte strings ("0x"-prefixed or not). */
#include "catena/util.h"

#include <stdlib.h>
#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

int ct_hex_encode(char *out, size_t out_size, const uint8_t *in, size_t in_len, bool prefix)
{
    size_t need = 2 * in_len + 1 + (prefix ? 2 : 0);
    size_t o = 0;

    if (out_size < need)
        return ct_error_set(CT_ELIMIT, "hex: output needs %zu bytes, has %zu", need, out_size);
    if (prefix) {
        out[o++] = '0';
        out[o++] = 'x';
    }
    for (size_t i = 0; i < in_len; i++) {
        out[o++] = hex_digits[in[i] >> 4];
        out[o++] = hex_digits[in[i] & 0x0f];
    }
    out[o] = '\0';
    return 0;
}

int ct_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ct_hex_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *hex, size_t hex_len)
{
    size_t start = 0;

    if (hex_len >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        start = 2;
    if ((hex_len - start) % 2 != 0)
        return ct_error_set(CT_EPARSE, "hex: odd number of digits (%zu)", hex_len - start);
    if ((hex_len - start) / 2 > out_cap)
        return ct_error_set(CT_ELIMIT, "hex: %zu bytes do not fit in %zu", (hex_len - start) / 2,
                            out_cap);
    for (size_t i = start, o = 0; i < hex_len; i += 2, o++) {
        int hi = ct_hex_digit(hex[i]);
        int lo = ct_hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return ct_error_set(CT_EPARSE, "hex: invalid digit at offset %zu", hi < 0 ? i : i + 1);
        out[o] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = (hex_len - start) / 2;
    return 0;
}

int ct_hex_decode_new(uint8_t **out, size_t *out_len, const char *hex)
{
    size_t n = strlen(hex);
    uint8_t *buf;
    int rc;

    if (strncmp(hex, "0x", 2) != 0)
        return ct_error_set(CT_EPARSE, "hex: expected a 0x prefix");
    buf = malloc(n / 2 + 1);
    if (buf == NULL)
        return ct_error_set(CT_ENOMEM, "hex: out of memory");
    if ((rc = ct_hex_decode(buf, n / 2 + 1, out_len, hex, n)) < 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}
