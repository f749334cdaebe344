/* Unsigned 256-bit integers in Ethereum's big-endian byte form: parsing
 * and formatting (decimal, hex quantities) and the little arithmetic that
 * transactions and the ABI need. */
#include "catena/util.h"

#include <string.h>

void ct_u256_from_u64(ct_u256 *out, uint64_t v)
{
    memset(out->b, 0, 24);
    for (int i = 0; i < 8; i++)
        out->b[31 - i] = (uint8_t)(v >> (8 * i));
}

int ct_u256_to_u64(uint64_t *out, const ct_u256 *v)
{
    uint64_t r = 0;
    for (int i = 0; i < 24; i++)
        if (v->b[i] != 0)
            return ct_error_set(CT_ERANGE, "value does not fit 64 bits");
    for (int i = 24; i < 32; i++)
        r = r << 8 | v->b[i];
    *out = r;
    return 0;
}

bool ct_u256_is_zero(const ct_u256 *v)
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++)
        acc |= v->b[i];
    return acc == 0;
}

int ct_u256_cmp(const ct_u256 *a, const ct_u256 *b)
{
    return memcmp(a->b, b->b, 32);
}

unsigned ct_u256_bits(const ct_u256 *v)
{
    for (int i = 0; i < 32; i++) {
        if (v->b[i] != 0) {
            unsigned bits = 8;
            while (!(v->b[i] & (1u << (bits - 1))))
                bits--;
            return (unsigned)(31 - i) * 8 + bits;
        }
    }
    return 0;
}

int ct_u256_add(ct_u256 *out, const ct_u256 *a, const ct_u256 *b)
{
    ct_u256 r;
    unsigned carry = 0;

    for (int i = 31; i >= 0; i--) {
        unsigned s = (unsigned)a->b[i] + b->b[i] + carry;
        r.b[i] = (uint8_t)s;
        carry = s >> 8;
    }
    if (carry)
        return ct_error_set(CT_ERANGE, "uint256 overflow");
    *out = r;
    return 0;
}

int ct_u256_mul_u64(ct_u256 *out, const ct_u256 *a, uint64_t m)
{
    ct_u256 r;
    unsigned __int128 carry = 0;

    for (int i = 31; i >= 0; i--) {
        unsigned __int128 p = (unsigned __int128)a->b[i] * m + carry;
        r.b[i] = (uint8_t)p;
        carry = p >> 8;
    }
    if (carry)
        return ct_error_set(CT_ERANGE, "uint256 overflow");
    *out = r;
    return 0;
}

/* v = v / 10, returning the remainder. */
static unsigned div10(ct_u256 *v)
{
    unsigned rem = 0;
    for (int i = 0; i < 32; i++) {
        unsigned cur = rem << 8 | v->b[i];
        v->b[i] = (uint8_t)(cur / 10);
        rem = cur % 10;
    }
    return rem;
}

void ct_u256_format_dec(char out[CT_U256_DEC_SIZE], const ct_u256 *v)
{
    char tmp[CT_U256_DEC_SIZE];
    ct_u256 x = *v;
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + div10(&x));
    } while (!ct_u256_is_zero(&x));
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

void ct_u256_format_hex(char out[CT_U256_HEX_SIZE], const ct_u256 *v)
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 2;
    bool started = false;

    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 64; i++) {
        unsigned d = (v->b[i / 2] >> (i % 2 ? 0 : 4)) & 0xf;
        if (d == 0 && !started)
            continue;
        started = true;
        out[o++] = digits[d];
    }
    if (!started)
        out[o++] = '0';
    out[o] = '\0';
}

static int parse_hex(ct_u256 *out, const char *s, const char *digits)
{
    size_t n = strlen(digits);
    ct_u256 r;

    while (n > 64 && *digits == '0') { /* leading zeros beyond 64 digits */
        digits++;
        n--;
    }
    if (n > 64)
        return ct_error_set(CT_ERANGE, "'%.40s' does not fit 256 bits", s);
    memset(&r, 0, sizeof(r));
    for (size_t i = 0; i < n; i++) {
        int d = ct_hex_digit(digits[n - 1 - i]);
        if (d < 0)
            return ct_error_set(CT_EPARSE, "'%.40s' is not a number", s);
        r.b[31 - i / 2] |= (uint8_t)(i % 2 ? (unsigned)d << 4 : (unsigned)d);
    }
    *out = r;
    return 0;
}

int ct_u256_parse(ct_u256 *out, const char *s)
{
    ct_u256 r, digit;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (s[2] == '\0')
            return ct_error_set(CT_EPARSE, "'%.40s' is not a number", s);
        return parse_hex(out, s, s + 2);
    }
    if (*s == '\0')
        return ct_error_set(CT_EPARSE, "empty number");
    memset(&r, 0, sizeof(r));
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return ct_error_set(CT_EPARSE, "'%.40s' is not a number", s);
        ct_u256_from_u64(&digit, (uint64_t)(*p - '0'));
        if (ct_u256_mul_u64(&r, &r, 10) < 0 || ct_u256_add(&r, &r, &digit) < 0)
            return ct_error_set(CT_ERANGE, "'%.40s' does not fit 256 bits", s);
    }
    *out = r;
    return 0;
}
