/* The Solidity ABI coder: JSON values to the ABI encoding and back (strict
 * and bounded on untrusted data), and event logs from topics and data. */
#include "eth_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decode may read at most this many bytes per byte of input, plus the
 * slack: offsets that all point at one tail would otherwise let a few
 * hundred bytes expand into gigabytes of JSON (ethers' "maxInflation"). */
#define ABI_MAX_INFLATION 8
#define ABI_INFLATION_SLACK 4096

/* ---------------------------------------------------------------- 256-bit words */

/* An unsigned 256-bit integer in four 64-bit limbs, least significant
 * first, for fast parsing and formatting of uint256 values. */
typedef struct word {
    uint64_t l[4];
} word;

static bool word_zero(const word *w)
{
    return (w->l[0] | w->l[1] | w->l[2] | w->l[3]) == 0;
}

/* w = w * mul + add. Returns: false on overflow past 256 bits. */
static bool word_muladd(word *w, uint64_t mul, uint64_t add)
{
    unsigned __int128 carry = add;

    for (int i = 0; i < 4; i++) {
        unsigned __int128 p = (unsigned __int128)w->l[i] * mul + carry;
        w->l[i] = (uint64_t)p;
        carry = p >> 64;
    }
    return carry == 0;
}

/* w = w / d. Returns: the remainder. */
static uint64_t word_divmod(word *w, uint64_t d)
{
    unsigned __int128 rem = 0;

    for (int i = 3; i >= 0; i--) {
        unsigned __int128 cur = rem << 64 | w->l[i];
        w->l[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    return (uint64_t)rem;
}

/* w = -w modulo 2^256 (two's complement). */
static void word_negate(word *w)
{
    unsigned carry = 1;

    for (int i = 0; i < 4; i++) {
        w->l[i] = ~w->l[i] + carry;
        carry = carry && w->l[i] == 0;
    }
}

static unsigned word_bits(const word *w)
{
    for (int i = 3; i >= 0; i--)
        if (w->l[i] != 0)
            return (unsigned)i * 64 + 64 - (unsigned)__builtin_clzll(w->l[i]);
    return 0;
}

static void word_to_be(uint8_t out[32], const word *w)
{
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            out[(3 - i) * 8 + j] = (uint8_t)(w->l[i] >> (56 - 8 * j));
}

static void word_from_be(word *w, const uint8_t in[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++)
            v = v << 8 | in[(3 - i) * 8 + j];
        w->l[i] = v;
    }
}

/* Writes w in decimal, with a '-' first when neg, and a NUL.
 * Returns: the length. */
static size_t word_format_dec(char out[CT_U256_DEC_SIZE + 1], word w, bool neg)
{
    static const uint64_t e19 = 10000000000000000000ull;
    uint64_t chunk[6];
    size_t n = 0, o = 0;

    do {
        chunk[n++] = word_divmod(&w, e19);
    } while (!word_zero(&w));
    if (neg)
        out[o++] = '-';
    while (n-- > 0) {
        char tmp[20];
        size_t k = 0;
        uint64_t v = chunk[n];
        bool top = o == (size_t)neg;
        do {
            tmp[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (!top && k < 19)
            tmp[k++] = '0';
        while (k > 0)
            out[o++] = tmp[--k];
    }
    out[o] = '\0';
    return o;
}

/* Parses decimal or "0x" hex digits of len bytes into w.
 * Returns: 0, -1 when not a number, -2 when it exceeds 256 bits. */
static int word_parse(word *w, const char *s, size_t len)
{
    bool hex = len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    size_t i = hex ? 2 : 0;

    memset(w, 0, sizeof(*w));
    if (len == 0)
        return -1;
    while (i < len) {
        uint64_t add = 0, mul = 1;
        for (size_t k = 0; k < (hex ? 15 : 19) && i < len; k++, i++) {
            int digit = ct_hex_digit(s[i]);
            unsigned d = (unsigned)digit;
            if (digit < 0 || d >= (hex ? 16u : 10u))
                return -1;
            add = add * (hex ? 16 : 10) + d;
            mul *= hex ? 16 : 10;
        }
        if (!word_muladd(w, mul, add))
            return -2;
    }
    return 0;
}

/* ---------------------------------------------------------------- paths and errors */

/* Where the coder is in the value: "[1][0]" names the first item of the
 * second parameter. A bare (non-tuple) top-level type has a hidden [0]. */
typedef struct abi_path {
    size_t idx[CT_ETH__ABI_MAX_DEPTH + 1];
    int depth;
    bool bare;
} abi_path;

static void path_format(char *out, size_t size, const abi_path *p)
{
    size_t o = 0;

    out[0] = '\0';
    for (int i = p->bare ? 1 : 0; i < p->depth && o < size; i++) {
        int n = snprintf(out + o, size - o, "[%zu]", p->idx[i]);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

static int path_push(abi_path *p, size_t i)
{
    if (p->depth > CT_ETH__ABI_MAX_DEPTH)
        return ct_error_set(CT_ELIMIT, "abi: type nested deeper than %d", CT_ETH__ABI_MAX_DEPTH);
    p->idx[p->depth++] = i;
    return 0;
}

/* Sets code and "abi: <path>: <message>" (no path at the top level). */
__attribute__((format(printf, 3, 4))) static int path_err(const abi_path *p, int code,
                                                          const char *fmt, ...)
{
    char where[256], msg[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    path_format(where, sizeof(where), p);
    if (where[0] == '\0')
        return ct_error_set(code, "abi: %s", msg);
    return ct_error_set(code, "abi: %s: %s", where, msg);
}

/* Writes the canonical name of t ("uint8", "tuple", "string[]"). */
static const char *type_name(char out[64], const ct_abi_type *t)
{
    ct_buf b;

    ct_buf_init(&b, 63);
    if (ct_abi_type_canonical(&b, t) < 0 || b.data == NULL)
        snprintf(out, 64, "%s", t->kind == CT_ABI_TUPLE ? "tuple" : "array");
    else
        snprintf(out, 64, "%s", b.data);
    ct_buf_free(&b);
    return out;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* ---------------------------------------------------------------- encoder */

typedef struct enc_ctx {
    ct_buf *out;
    abi_path path;
} enc_ctx;

static int enc_value(enc_ctx *c, const ct_abi_type *t, const json_t *v);

static int put_zeros(ct_buf *b, size_t n)
{
    static const uint8_t zeros[256];
    int rc = 0;

    while (n > 0 && rc == 0) {
        size_t k = n < sizeof(zeros) ? n : sizeof(zeros);
        rc = ct_buf_append(b, zeros, k);
        n -= k;
    }
    return rc;
}

static void size_to_be(uint8_t out[32], size_t n)
{
    memset(out, 0, 24);
    for (int i = 0; i < 8; i++)
        out[31 - i] = (uint8_t)((uint64_t)n >> (8 * i));
}

static int put_size(ct_buf *b, size_t n)
{
    uint8_t w[32];

    size_to_be(w, n);
    return ct_buf_append(b, w, 32);
}

/* Reads an integer value: a JSON integer, or a decimal or "0x" string
 * with an optional '-'. Returns: 0, -1 (not an integer), -2 (> 256 bits). */
static int int_value(word *mag, bool *neg, const json_t *v)
{
    const char *s;
    size_t n;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        *neg = i < 0;
        memset(mag, 0, sizeof(*mag));
        mag->l[0] = *neg ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    s = json_string_value(v);
    n = json_string_length(v);
    *neg = n > 0 && s[0] == '-';
    return *neg ? word_parse(mag, s + 1, n - 1) : word_parse(mag, s, n);
}

/* Returns: whether the value fits the (u)int type. */
static bool int_fits(const ct_abi_type *t, const word *mag, bool neg)
{
    unsigned bits = word_bits(mag);

    if (t->kind == CT_ABI_UINT)
        return bits <= t->size && (!neg || bits == 0);
    if (bits < t->size)
        return true;
    /* Only -2^(N-1) has N bits among the values of intN. */
    if (!neg || bits > t->size)
        return false;
    for (int i = 0; i < 4; i++) {
        uint64_t top = (unsigned)i == (t->size - 1) / 64 ? (uint64_t)1 << ((t->size - 1) % 64) : 0;
        if (mag->l[i] != top)
            return false;
    }
    return true;
}

static int enc_int(enc_ctx *c, const ct_abi_type *t, const json_t *v)
{
    char name[64], shown[96];
    uint8_t out[32];
    word mag;
    bool neg;
    int rc = int_value(&mag, &neg, v);

    if (rc == 0 && int_fits(t, &mag, neg)) {
        if (neg)
            word_negate(&mag);
        word_to_be(out, &mag);
        return ct_buf_append(c->out, out, 32);
    }
    if (json_is_integer(v))
        snprintf(shown, sizeof(shown), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_string(v))
        snprintf(shown, sizeof(shown), "%.80s", json_string_value(v));
    else
        return path_err(&c->path, CT_EINVAL, "%s value must be an integer or a string, not %s",
                        type_name(name, t), json_kind(v));
    if (rc == -1)
        return path_err(&c->path, CT_EINVAL, "%s value '%s' is not an integer", type_name(name, t),
                        shown);
    return path_err(&c->path, CT_EINVAL, "%s value %s out of range", type_name(name, t), shown);
}

static int enc_address(enc_ctx *c, const json_t *v)
{
    uint8_t out[32] = {0};
    ct_address a;

    if (!json_is_string(v))
        return path_err(&c->path, CT_EINVAL, "address value must be a string, not %s",
                        json_kind(v));
    if (ct_address_parse(&a, json_string_value(v)) < 0)
        return path_err(&c->path, CT_EINVAL, "address value: %s", ct_error_last());
    memcpy(out + 12, a.b, CT_ADDRESS_SIZE);
    return ct_buf_append(c->out, out, 32);
}

static int enc_bool(enc_ctx *c, const json_t *v)
{
    uint8_t out[32] = {0};

    if (!json_is_boolean(v))
        return path_err(&c->path, CT_EINVAL, "bool value must be true or false, not %s",
                        json_kind(v));
    out[31] = json_is_true(v) ? 1 : 0;
    return ct_buf_append(c->out, out, 32);
}

/* Checks that v is a "0x" hex string. Out: its text and length. */
static int hex_value(enc_ctx *c, const ct_abi_type *t, const json_t *v, const char **s, size_t *n)
{
    char name[64];

    if (!json_is_string(v) || json_string_length(v) < 2 ||
        strncmp(json_string_value(v), "0x", 2) != 0)
        return path_err(&c->path, CT_EINVAL, "%s value must be a \"0x\" hex string",
                        type_name(name, t));
    *s = json_string_value(v);
    *n = json_string_length(v);
    return 0;
}

static int enc_fixed_bytes(enc_ctx *c, const ct_abi_type *t, const json_t *v)
{
    uint8_t out[32] = {0};
    const char *s;
    size_t n, got;
    int rc;

    if ((rc = hex_value(c, t, v, &s, &n)) < 0)
        return rc;
    if (n - 2 != 2 * (size_t)t->size)
        return path_err(&c->path, CT_EINVAL, "bytes%u value must have %u bytes, not %zu%s", t->size,
                        t->size, (n - 2) / 2, (n - 2) % 2 ? ".5" : "");
    if (ct_hex_decode(out, 32, &got, s, n) < 0)
        return path_err(&c->path, CT_EINVAL, "bytes%u value: %s", t->size, ct_error_last());
    return ct_buf_append(c->out, out, 32);
}

static int enc_bytes(enc_ctx *c, const ct_abi_type *t, const json_t *v)
{
    const char *s;
    size_t n, got, at;
    int rc;

    if ((rc = hex_value(c, t, v, &s, &n)) < 0)
        return rc;
    n = (n - 2) / 2;
    if ((rc = put_size(c->out, n)) < 0)
        return rc;
    at = c->out->len;
    if ((rc = put_zeros(c->out, (n + 31) / 32 * 32)) < 0)
        return rc;
    if (ct_hex_decode((uint8_t *)c->out->data + at, n, &got, s, json_string_length(v)) < 0)
        return path_err(&c->path, CT_EINVAL, "bytes value: %s", ct_error_last());
    return 0;
}

static int enc_string(enc_ctx *c, const json_t *v)
{
    size_t n;
    int rc;

    if (!json_is_string(v))
        return path_err(&c->path, CT_EINVAL, "string value must be a string, not %s", json_kind(v));
    n = json_string_length(v);
    if ((rc = put_size(c->out, n)) < 0 || (rc = ct_buf_append(c->out, json_string_value(v), n)) < 0)
        return rc;
    return put_zeros(c->out, (32 - n % 32) % 32);
}

/* Encodes n values (items[i], or items[0] for all when same) as a tuple:
 * the heads in order, with 32-byte placeholders for dynamic values, then
 * the tails, patching each placeholder with its tail's offset. Linear:
 * every byte is written once. */
static int enc_seq(enc_ctx *c, ct_abi_type *const *items, bool same, size_t n, const json_t *v)
{
    size_t start = c->out->len, off = 0;
    bool dyn = same && n > 0 && ct_abi_type_dynamic(items[0]);
    int rc;

    for (size_t i = 0; i < n; i++) {
        const ct_abi_type *t = same ? items[0] : items[i];
        bool d = same ? dyn : ct_abi_type_dynamic(t);
        if ((rc = path_push(&c->path, i)) < 0)
            return rc;
        rc = d ? put_zeros(c->out, 32) : enc_value(c, t, json_array_get(v, i));
        c->path.depth--;
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        const ct_abi_type *t = same ? items[0] : items[i];
        if (!(same ? dyn : ct_abi_type_dynamic(t))) {
            off += ct_eth__abi_head_size(t);
            continue;
        }
        size_to_be((uint8_t *)c->out->data + start + off, c->out->len - start);
        off += 32;
        c->path.idx[c->path.depth++] = i;
        rc = enc_value(c, t, json_array_get(v, i));
        c->path.depth--;
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int enc_array(enc_ctx *c, const ct_abi_type *t, const json_t *v)
{
    char name[64];
    size_t n = json_array_size(v);
    int rc;

    if (!json_is_array(v))
        return path_err(&c->path, CT_EINVAL, "%s value must be an array, not %s",
                        type_name(name, t), json_kind(v));
    if (t->length >= 0 && n != (size_t)t->length)
        return path_err(&c->path, CT_EINVAL, "%s value must have %ld items, not %zu",
                        type_name(name, t), t->length, n);
    if (t->length < 0 && (rc = put_size(c->out, n)) < 0)
        return rc;
    return enc_seq(c, t->items, true, n, v);
}

static int enc_tuple(enc_ctx *c, const ct_abi_type *t, const json_t *v)
{
    char name[64];

    if (!json_is_array(v) || json_array_size(v) != t->n_items)
        return path_err(&c->path, CT_EINVAL, "%s value must be an array of %zu items, not %s",
                        type_name(name, t), t->n_items, json_kind(v));
    return enc_seq(c, t->items, false, t->n_items, v);
}

static int enc_value(enc_ctx *c, const ct_abi_type *t, const json_t *v)
{
    switch (t->kind) {
    case CT_ABI_UINT:
    case CT_ABI_INT: return enc_int(c, t, v);
    case CT_ABI_ADDRESS: return enc_address(c, v);
    case CT_ABI_BOOL: return enc_bool(c, v);
    case CT_ABI_FIXED_BYTES: return enc_fixed_bytes(c, t, v);
    case CT_ABI_BYTES: return enc_bytes(c, t, v);
    case CT_ABI_STRING: return enc_string(c, v);
    case CT_ABI_ARRAY: return enc_array(c, t, v);
    case CT_ABI_TUPLE: return enc_tuple(c, t, v);
    }
    return path_err(&c->path, CT_EINVAL, "unknown type kind %d", (int)t->kind);
}

int ct_abi_encode(ct_buf *out, const ct_abi_type *t, const json_t *value)
{
    enc_ctx c = {.out = out};
    size_t len0 = out->len;
    int rc;

    if (t->kind == CT_ABI_TUPLE) {
        rc = enc_value(&c, t, value);
    } else {
        /* A bare type is encoded as the only parameter of a list. */
        ct_abi_type *one = (ct_abi_type *)t;
        json_t *list = json_array();
        c.path.bare = true;
        if (list == NULL || json_array_append(list, (json_t *)value) < 0)
            rc = ct_error_set(CT_ENOMEM, "abi: out of memory");
        else
            rc = enc_seq(&c, &one, true, 1, list);
        json_decref(list);
    }
    if (rc < 0 && out->data != NULL) {
        out->len = len0;
        out->data[len0] = '\0';
    }
    return rc;
}

/* ---------------------------------------------------------------- decoder */

typedef struct dec_ctx {
    const uint8_t *data;
    size_t len;
    size_t read;   /* bytes read so far */
    size_t budget; /* most bytes that may be read */
    abi_path path;
} dec_ctx;

static int dec_value(dec_ctx *c, const ct_abi_type *t, size_t pos, json_t **out);

/* Points *out at n bytes at pos after checking they lie in the data and
 * the read budget allows them. */
static int take(dec_ctx *c, const uint8_t **out, size_t pos, size_t n)
{
    if (pos > c->len || n > c->len - pos)
        return path_err(&c->path, CT_EPARSE, "at offset %zu: %zu bytes needed, data has %zu", pos,
                        n, c->len);
    if (n > c->budget - c->read)
        return path_err(&c->path, CT_EPARSE, "at offset %zu: offsets reuse the same data too often",
                        pos);
    c->read += n;
    *out = c->data + pos;
    return 0;
}

/* Reads a word at pos holding an offset or a length. */
static int read_size(dec_ctx *c, size_t *out, size_t pos, const char *what)
{
    const uint8_t *w;
    uint64_t v = 0;
    int rc;

    if ((rc = take(c, &w, pos, 32)) < 0)
        return rc;
    for (int i = 0; i < 24; i++)
        if (w[i] != 0)
            return path_err(&c->path, CT_EPARSE, "at offset %zu: %s too large", pos, what);
    for (int i = 24; i < 32; i++)
        v = v << 8 | w[i];
    if (v > c->len)
        return path_err(&c->path, CT_EPARSE, "at offset %zu: %s %llu past the end (%zu)", pos, what,
                        (unsigned long long)v, c->len);
    *out = (size_t)v;
    return 0;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t b)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != b)
            return false;
    return true;
}

static json_t *int_json(const uint8_t w[32], bool is_signed)
{
    char text[CT_U256_DEC_SIZE + 1];
    bool neg = is_signed && (w[0] & 0x80);
    word v;
    size_t n;

    word_from_be(&v, w);
    if (neg)
        word_negate(&v);
    n = word_format_dec(text, v, neg);
    return json_stringn_nocheck(text, n);
}

/* Decodes one 32-byte static value (also used for event topics). */
static int dec_word(dec_ctx *c, const ct_abi_type *t, const uint8_t *w, size_t pos, json_t **out)
{
    char text[CT_ADDRESS_TEXT_SIZE];
    size_t pad = 32 - t->size / 8;
    ct_address a;

    switch (t->kind) {
    case CT_ABI_UINT:
        if (!all_bytes(w, pad, 0))
            return path_err(&c->path, CT_EPARSE,
                            "at offset %zu: uint%u value has non-zero "
                            "high bytes",
                            pos, t->size);
        *out = int_json(w, false);
        break;
    case CT_ABI_INT:
        if (!all_bytes(w, pad, (w[pad] & 0x80) ? 0xff : 0))
            return path_err(&c->path, CT_EPARSE,
                            "at offset %zu: int%u value is not "
                            "sign-extended",
                            pos, t->size);
        *out = int_json(w, true);
        break;
    case CT_ABI_ADDRESS:
        if (!all_bytes(w, 12, 0))
            return path_err(&c->path, CT_EPARSE,
                            "at offset %zu: address has non-zero high "
                            "bytes",
                            pos);
        memcpy(a.b, w + 12, CT_ADDRESS_SIZE);
        ct_address_format(text, &a);
        *out = json_stringn_nocheck(text, CT_ADDRESS_TEXT_SIZE - 1);
        break;
    case CT_ABI_BOOL:
        if (!all_bytes(w, 31, 0) || w[31] > 1)
            return path_err(&c->path, CT_EPARSE, "at offset %zu: bool value is not 0 or 1", pos);
        *out = json_boolean(w[31]);
        break;
    default: /* CT_ABI_FIXED_BYTES */
        if (!all_bytes(w + t->size, 32 - t->size, 0))
            return path_err(&c->path, CT_EPARSE,
                            "at offset %zu: bytes%u value has non-zero "
                            "padding",
                            pos, t->size);
        *out = ct_json_hex(w, t->size);
        break;
    }
    return *out == NULL ? ct_error_set(CT_ENOMEM, "abi: out of memory") : 0;
}

/* Returns: the length of the longest valid UTF-8 prefix of s (n if all
 * of it is valid): no overlong forms, surrogates or code points past
 * U+10FFFF. */
static size_t utf8_valid_prefix(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t b = s[i];
        size_t k;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        }
        if ((b & 0xe0) == 0xc0) {
            k = 1;
            cp = b & 0x1f;
            min = 0x80;
        } else if ((b & 0xf0) == 0xe0) {
            k = 2;
            cp = b & 0x0f;
            min = 0x800;
        } else if ((b & 0xf8) == 0xf0) {
            k = 3;
            cp = b & 0x07;
            min = 0x10000;
        } else
            return i;
        if (n - i <= k)
            return i;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return i;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += k + 1;
    }
    return n;
}

/* bytes and string: a length word at pos, then the bytes, zero padded. */
static int dec_bytes(dec_ctx *c, const ct_abi_type *t, size_t pos, json_t **out)
{
    const uint8_t *p;
    size_t n, bad;
    int rc;

    if ((rc = read_size(c, &n, pos, "length")) < 0)
        return rc;
    if ((rc = take(c, &p, pos + 32, (n + 31) / 32 * 32)) < 0)
        return rc;
    if (!all_bytes(p + n, (32 - n % 32) % 32, 0))
        return path_err(&c->path, CT_EPARSE, "at offset %zu: non-zero padding after %zu bytes",
                        pos + 32 + n, n);
    if (t->kind == CT_ABI_BYTES) {
        *out = ct_json_hex(p, n);
    } else {
        if ((bad = utf8_valid_prefix(p, n)) < n)
            return path_err(&c->path, CT_EPARSE, "at offset %zu: string is not valid UTF-8",
                            pos + 32 + bad);
        *out = json_stringn_nocheck((const char *)p, n);
    }
    return *out == NULL ? ct_error_set(CT_ENOMEM, "abi: out of memory") : 0;
}

/* Decodes one item of a sequence whose head slot is at pos: in place for
 * a static type, through the offset (relative to base) for a dynamic one. */
static int dec_item(dec_ctx *c, const ct_abi_type *t, bool dyn, size_t base, size_t pos,
                    json_t **out)
{
    size_t rel;
    int rc;

    if (!dyn)
        return dec_value(c, t, pos, out);
    if ((rc = read_size(c, &rel, pos, "offset")) < 0)
        return rc;
    if (rel > c->len - base)
        return path_err(&c->path, CT_EPARSE, "at offset %zu: offset %zu past the end (%zu)", pos,
                        rel, c->len);
    return dec_value(c, t, base + rel, out);
}

/* Decodes n values laid out as a tuple starting at base (see enc_seq). */
static int dec_seq(dec_ctx *c, ct_abi_type *const *items, bool same, size_t n, size_t base,
                   json_t **out)
{
    bool dyn = same && n > 0 && ct_abi_type_dynamic(items[0]);
    size_t head = same && n > 0 ? ct_eth__abi_head_size(items[0]) : 0, off = 0;
    json_t *arr = json_array(), *v = NULL;
    int rc = 0;

    if (arr == NULL)
        return ct_error_set(CT_ENOMEM, "abi: out of memory");
    if (base > c->len || (same && head > 0 && n > (c->len - base) / head)) {
        rc = path_err(&c->path, CT_EPARSE, "at offset %zu: %zu items do not fit in the data", base,
                      n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const ct_abi_type *t = same ? items[0] : items[i];
        bool d = same ? dyn : ct_abi_type_dynamic(t);
        if ((rc = path_push(&c->path, i)) < 0)
            goto done;
        rc = dec_item(c, t, d, base, base + off, &v);
        c->path.depth--;
        if (rc < 0)
            goto done;
        if (json_array_append_new(arr, v) < 0) {
            rc = ct_error_set(CT_ENOMEM, "abi: out of memory");
            goto done;
        }
        off += same ? head : ct_eth__abi_head_size(t);
    }
done:
    if (rc < 0)
        json_decref(arr);
    else
        *out = arr;
    return rc;
}

static int dec_array(dec_ctx *c, const ct_abi_type *t, size_t pos, json_t **out)
{
    size_t n, head = ct_eth__abi_head_size(t->items[0]);
    int rc;

    if (t->length >= 0)
        return dec_seq(c, t->items, true, (size_t)t->length, pos, out);
    if ((rc = read_size(c, &n, pos, "array length")) < 0)
        return rc;
    /* Every item takes at least a word, so the data bounds the count
     * before anything is allocated. */
    if (head < 32)
        head = 32;
    if (n > (c->len - pos - 32) / head)
        return path_err(&c->path, CT_EPARSE, "at offset %zu: %zu items do not fit in the data", pos,
                        n);
    return dec_seq(c, t->items, true, n, pos + 32, out);
}

static int dec_value(dec_ctx *c, const ct_abi_type *t, size_t pos, json_t **out)
{
    const uint8_t *w;
    int rc;

    switch (t->kind) {
    case CT_ABI_BYTES:
    case CT_ABI_STRING: return dec_bytes(c, t, pos, out);
    case CT_ABI_ARRAY: return dec_array(c, t, pos, out);
    case CT_ABI_TUPLE: return dec_seq(c, t->items, false, t->n_items, pos, out);
    default:
        if ((rc = take(c, &w, pos, 32)) < 0)
            return rc;
        return dec_word(c, t, w, pos, out);
    }
}

static void dec_init(dec_ctx *c, const uint8_t *data, size_t len)
{
    memset(c, 0, sizeof(*c));
    c->data = data;
    c->len = len;
    c->budget = len > (SIZE_MAX - ABI_INFLATION_SLACK) / ABI_MAX_INFLATION
                    ? SIZE_MAX
                    : len * ABI_MAX_INFLATION + ABI_INFLATION_SLACK;
}

int ct_abi_decode(json_t **out, const ct_abi_type *t, const uint8_t *data, size_t len)
{
    ct_abi_type *one = (ct_abi_type *)t;
    json_t *list;
    dec_ctx c;
    int rc;

    dec_init(&c, data, len);
    if (t->kind == CT_ABI_TUPLE)
        return dec_value(&c, t, 0, out);
    /* A bare type is decoded as the only parameter of a list. */
    c.path.bare = true;
    if ((rc = dec_seq(&c, &one, true, 1, 0, &list)) < 0)
        return rc;
    *out = json_incref(json_array_get(list, 0));
    json_decref(list);
    return 0;
}

/* ---------------------------------------------------------------- event logs */

/* Indexed value types arrive as their encoding, anything else as the
 * keccak of its encoding, which cannot be inverted. */
static int dec_topic(json_t **out, const ct_abi_type *t, const uint8_t topic[32], size_t i)
{
    dec_ctx c;

    switch (t->kind) {
    case CT_ABI_UINT:
    case CT_ABI_INT:
    case CT_ABI_ADDRESS:
    case CT_ABI_BOOL:
    case CT_ABI_FIXED_BYTES:
        dec_init(&c, topic, 32);
        if (dec_word(&c, t, topic, 0, out) < 0)
            return ct_error_wrap("abi: topic %zu", i);
        return 0;
    default:
        *out = ct_json_hex(topic, 32);
        return *out == NULL ? ct_error_set(CT_ENOMEM, "abi: out of memory") : 0;
    }
}

/* Sets obj[name or "argI"] = v (stolen); a repeated name also gets argI. */
static int log_set(json_t *obj, const ct_abi_type *p, size_t i, json_t *v)
{
    char key[32];
    const char *k = p->name;

    if (k == NULL || k[0] == '\0' || json_object_get(obj, k) != NULL) {
        snprintf(key, sizeof(key), "arg%zu", i);
        k = key;
    }
    if (json_object_set_new(obj, k, v) < 0)
        return ct_error_set(CT_ENOMEM, "abi: out of memory");
    return 0;
}

/* Checks topic 0 and the topic count. Returns: the first indexed topic. */
static int log_check(const ct_abi_sig *sig, bool anonymous, const uint8_t (*topics)[32],
                     size_t n_topics, size_t n_indexed)
{
    size_t first = anonymous ? 0 : 1;
    uint8_t t0[32];

    if (n_topics != first + n_indexed)
        return ct_error_set(CT_EINVAL,
                            "abi: event %s has %zu indexed parameters, the log %zu "
                            "topics",
                            sig->name, n_indexed, n_topics);
    if (!anonymous) {
        ct_abi_topic(t0, sig);
        if (memcmp(t0, topics[0], 32) != 0)
            return ct_error_set(CT_EINVAL, "abi: topic 0 is not the topic of event %s", sig->name);
    }
    return (int)first;
}

/* Fills obj from the decoded data values and the topics. */
static int log_fill(json_t *obj, const ct_abi_type *params, const json_t *vals,
                    const uint8_t (*topics)[32], size_t first)
{
    size_t ti = first, vi = 0;
    json_t *v;
    int rc;

    for (size_t i = 0; i < params->n_items; i++) {
        const ct_abi_type *p = params->items[i];
        if (p->indexed) {
            if ((rc = dec_topic(&v, p, topics[ti], ti)) < 0)
                return rc;
            ti++;
        } else {
            v = json_incref(json_array_get(vals, vi++));
        }
        if ((rc = log_set(obj, p, i, v)) < 0)
            return rc;
    }
    return 0;
}

int ct_abi_decode_log(json_t **out, const ct_abi_sig *sig, bool anonymous,
                      const uint8_t (*topics)[32], size_t n_topics, const uint8_t *data, size_t len)
{
    const ct_abi_type *params = sig->params;
    ct_abi_type plain = {.kind = CT_ABI_TUPLE};
    json_t *vals = NULL, *obj = NULL;
    int rc, first;

    /* The non-indexed parameters, borrowed, make the tuple of the data. */
    plain.items = malloc((params->n_items + 1) * sizeof(*plain.items));
    if (plain.items == NULL)
        return ct_error_set(CT_ENOMEM, "abi: out of memory");
    for (size_t i = 0; i < params->n_items; i++)
        if (!params->items[i]->indexed)
            plain.items[plain.n_items++] = params->items[i];
    if ((rc = first =
             log_check(sig, anonymous, topics, n_topics, params->n_items - plain.n_items)) < 0)
        goto done;
    if ((rc = ct_abi_decode(&vals, &plain, data, len)) < 0)
        goto done;
    if ((obj = json_object()) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "abi: out of memory");
        goto done;
    }
    if ((rc = log_fill(obj, params, vals, topics, (size_t)first)) < 0)
        goto done;
    *out = obj;
    obj = NULL;
done:
    json_decref(obj);
    json_decref(vals);
    free(plain.items);
    return rc < 0 ? rc : 0;
}
