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

uint64_t ct_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double ct_rand_unit(uint64_t *state)
{
    return (double)(ct_rand_next(state) >> 11) * 0x1.0p-53;
}
