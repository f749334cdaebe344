/* Keccak-256 as Ethereum uses it: Keccak-f[1600] with rate 136 and the
 * original Keccak padding (0x01 ... 0x80), not SHA3-256's 0x06. Written by
 * hand: the 25 lanes live in local variables, two rounds per loop step,
 * some lanes complemented to shorten chi. */
#include "catena/crypto.h"

#include <string.h>

#define KECCAK_RATE 136
#define KECCAK_LANES (KECCAK_RATE / 8)

static const uint64_t round_constants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

#define ROL(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

/* chi, row by row, on lanes kept complemented: be, bi, go, ki, mi and sa
 * are stored inverted during the rounds ("lane complementing", from the
 * Keccak team's optimised code), which turns most of chi's
 * a ^ (~b & c) into a single AND or OR and saves about 20 NOTs a round. */
#define CHI_B(E)                                                                                   \
    E##ba = Ba ^ (Be | Bi);                                                                        \
    E##be = Be ^ (~Bi | Bo);                                                                       \
    E##bi = Bi ^ (Bo & Bu);                                                                        \
    E##bo = Bo ^ (Bu | Ba);                                                                        \
    E##bu = Bu ^ (Ba & Be)
#define CHI_G(E)                                                                                   \
    E##ga = Ba ^ (Be | Bi);                                                                        \
    E##ge = Be ^ (Bi & Bo);                                                                        \
    E##gi = Bi ^ (Bo | ~Bu);                                                                       \
    E##go = Bo ^ (Bu | Ba);                                                                        \
    E##gu = Bu ^ (Ba & Be)
#define CHI_K(E)                                                                                   \
    E##ka = Ba ^ (Be | Bi);                                                                        \
    E##ke = Be ^ (Bi & Bo);                                                                        \
    E##ki = Bi ^ (~Bo & Bu);                                                                       \
    E##ko = ~Bo ^ (Bu | Ba);                                                                       \
    E##ku = Bu ^ (Ba & Be)
#define CHI_M(E)                                                                                   \
    E##ma = Ba ^ (Be & Bi);                                                                        \
    E##me = Be ^ (Bi | Bo);                                                                        \
    E##mi = Bi ^ (~Bo | Bu);                                                                       \
    E##mo = ~Bo ^ (Bu & Ba);                                                                       \
    E##mu = Bu ^ (Ba | Be)
#define CHI_S(E)                                                                                   \
    E##sa = Ba ^ (~Be & Bi);                                                                       \
    E##se = ~Be ^ (Bi | Bo);                                                                       \
    E##si = Bi ^ (Bo & Bu);                                                                        \
    E##so = Bo ^ (Bu | Ba);                                                                        \
    E##su = Bu ^ (Ba & Be)

/* One round from state A into state E: theta, then rho and pi folded into
 * the choice of lanes and rotations feeding each output row, then chi and
 * iota. Lanes are named A<row><column> with rows b,g,k,m,s and columns
 * a,e,i,o,u (the Keccak team's naming). */
#define ROUND(A, E, rc)                                                                            \
    do {                                                                                           \
        uint64_t Ca = A##ba ^ A##ga ^ A##ka ^ A##ma ^ A##sa;                                       \
        uint64_t Ce = A##be ^ A##ge ^ A##ke ^ A##me ^ A##se;                                       \
        uint64_t Ci = A##bi ^ A##gi ^ A##ki ^ A##mi ^ A##si;                                       \
        uint64_t Co = A##bo ^ A##go ^ A##ko ^ A##mo ^ A##so;                                       \
        uint64_t Cu = A##bu ^ A##gu ^ A##ku ^ A##mu ^ A##su;                                       \
        uint64_t Da = Cu ^ ROL(Ce, 1), De = Ca ^ ROL(Ci, 1), Di = Ce ^ ROL(Co, 1);                 \
        uint64_t Do = Ci ^ ROL(Cu, 1), Du = Co ^ ROL(Ca, 1);                                       \
        uint64_t Ba, Be, Bi, Bo, Bu;                                                               \
        Ba = A##ba ^ Da;                                                                           \
        Be = ROL(A##ge ^ De, 44);                                                                  \
        Bi = ROL(A##ki ^ Di, 43);                                                                  \
        Bo = ROL(A##mo ^ Do, 21);                                                                  \
        Bu = ROL(A##su ^ Du, 14);                                                                  \
        CHI_B(E);                                                                                  \
        E##ba ^= (rc);                                                                             \
        Ba = ROL(A##bo ^ Do, 28);                                                                  \
        Be = ROL(A##gu ^ Du, 20);                                                                  \
        Bi = ROL(A##ka ^ Da, 3);                                                                   \
        Bo = ROL(A##me ^ De, 45);                                                                  \
        Bu = ROL(A##si ^ Di, 61);                                                                  \
        CHI_G(E);                                                                                  \
        Ba = ROL(A##be ^ De, 1);                                                                   \
        Be = ROL(A##gi ^ Di, 6);                                                                   \
        Bi = ROL(A##ko ^ Do, 25);                                                                  \
        Bo = ROL(A##mu ^ Du, 8);                                                                   \
        Bu = ROL(A##sa ^ Da, 18);                                                                  \
        CHI_K(E);                                                                                  \
        Ba = ROL(A##bu ^ Du, 27);                                                                  \
        Be = ROL(A##ga ^ Da, 36);                                                                  \
        Bi = ROL(A##ke ^ De, 10);                                                                  \
        Bo = ROL(A##mi ^ Di, 15);                                                                  \
        Bu = ROL(A##so ^ Do, 56);                                                                  \
        CHI_M(E);                                                                                  \
        Ba = ROL(A##bi ^ Di, 62);                                                                  \
        Be = ROL(A##go ^ Do, 55);                                                                  \
        Bi = ROL(A##ku ^ Du, 39);                                                                  \
        Bo = ROL(A##ma ^ Da, 41);                                                                  \
        Bu = ROL(A##se ^ De, 2);                                                                   \
        CHI_S(E);                                                                                  \
    } while (0)

/* Applies a macro to the 25 lane names with their index in the state. */
#define LANES(X)                                                                                   \
    X(ba, 0)                                                                                       \
    X(be, 1)                                                                                       \
    X(bi, 2) X(bo, 3) X(bu, 4) X(ga, 5) X(ge, 6) X(gi, 7) X(go, 8) X(gu, 9) X(ka, 10) X(ke, 11)    \
        X(ki, 12) X(ko, 13) X(ku, 14) X(ma, 15) X(me, 16) X(mi, 17) X(mo, 18) X(mu, 19) X(sa, 20)  \
            X(se, 21) X(si, 22) X(so, 23) X(su, 24)

#define DECLARE(n, i) uint64_t A##n = st[i], E##n;
#define STORE(n, i) st[i] = A##n;
#define COMPLEMENT(A)                                                                              \
    A##be = ~A##be, A##bi = ~A##bi, A##go = ~A##go, A##ki = ~A##ki, A##mi = ~A##mi, A##sa = ~A##sa

/* Keccak-f[1600]: 24 rounds over the state, in place. */
static void keccakf(uint64_t st[25])
{
    LANES(DECLARE)
    COMPLEMENT(A);
    for (int r = 0; r < 24; r += 2) {
        ROUND(A, E, round_constants[r]);
        ROUND(E, A, round_constants[r + 1]);
    }
    COMPLEMENT(A);
    LANES(STORE)
}

/* Lanes are little-endian whatever the host's byte order. */
static inline uint64_t load64_le(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void store64_le(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

void ct_keccak_init(ct_keccak *k)
{
    memset(k->st, 0, sizeof(k->st));
    k->pos = 0;
}

/* XORs len bytes into the current block from offset pos (both within the
 * rate), one byte at a time: only for the ragged edges of the input. */
static void absorb_bytes(ct_keccak *k, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++, k->pos++)
        k->st[k->pos >> 3] ^= (uint64_t)p[i] << (8 * (k->pos & 7));
}

void ct_keccak_update(ct_keccak *k, const void *data, size_t len)
{
    const uint8_t *p = data;

    if (len == 0) /* data may then be NULL, and NULL + 0 is not C */
        return;
    if (k->pos > 0) {
        size_t take = KECCAK_RATE - k->pos;
        if (take > len)
            take = len;
        absorb_bytes(k, p, take);
        p += take;
        len -= take;
        if (k->pos < KECCAK_RATE)
            return;
        keccakf(k->st);
        k->pos = 0;
    }
    for (; len >= KECCAK_RATE; p += KECCAK_RATE, len -= KECCAK_RATE) {
        for (int i = 0; i < KECCAK_LANES; i++)
            k->st[i] ^= load64_le(p + 8 * i);
        keccakf(k->st);
    }
    absorb_bytes(k, p, len);
}

void ct_keccak_final(ct_keccak *k, uint8_t out[CT_KECCAK256_SIZE])
{
    /* pos < rate always holds here: a full block is permuted at once. */
    k->st[k->pos >> 3] ^= (uint64_t)0x01 << (8 * (k->pos & 7));
    k->st[KECCAK_LANES - 1] ^= (uint64_t)0x80 << 56;
    keccakf(k->st);
    for (int i = 0; i < CT_KECCAK256_SIZE / 8; i++)
        store64_le(out + 8 * i, k->st[i]);
    ct_wipe(k, sizeof(*k));
}

void ct_keccak256(uint8_t out[CT_KECCAK256_SIZE], const void *data, size_t len)
{
    ct_keccak k;

    ct_keccak_init(&k);
    ct_keccak_update(&k, data, len);
    ct_keccak_final(&k, out);
}
