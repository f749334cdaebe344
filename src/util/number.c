/* Strict parsing of unsigned integers from text (decimal or 0x hex), for
 * flags, config values and CLI arguments: no atoi, no silent wrap-around. */
#include "catena/util.h"

int ct_parse_uint(uint64_t *out, const char *s, uint64_t max)
{
    unsigned base = 10;
    uint64_t v = 0;
    const char *p = s;

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (*p == '\0')
        return ct_error_set(CT_EPARSE, "'%.40s' is not a number", s);
    for (; *p != '\0'; p++) {
        int digit = ct_hex_digit(*p);
        unsigned d = (unsigned)digit;
        if (digit < 0 || d >= base)
            return ct_error_set(CT_EPARSE, "'%.40s' is not a number", s);
        if (d > max || v > (max - d) / base)
            return ct_error_set(CT_ERANGE, "'%.40s' is larger than %llu", s,
                                (unsigned long long)max);
        v = v * base + d;
    }
    *out = v;
    return 0;
}
