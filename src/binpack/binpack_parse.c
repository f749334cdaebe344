/* Parsers of bin packing files: OR-Library's (Falkenauer's binpack1..8),
 * BPPLIB's single instances and the cutting stock blocks of CaPaD and
 * BPPLIB (Schoenfield's hard28). Text in, checked instances out, errors
 * prefixed with their line number. Sizes with decimals are scaled to exact
 * integers, never rounded through floats. */
#include "binpack_int.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 64
#define MAX_DECIMALS 6
#define MAX_PROBLEMS 100000u

typedef struct lexer {
    const char *p, *end;
    size_t line;     /* line of the next byte */
    size_t tok_line; /* line of the last token read (or 1) */
    const char *tok; /* the last token read */
    size_t tok_len;
} lexer;

/* A number as written: mant * 10^-dec, trailing fraction zeros dropped. */
typedef struct number {
    int64_t mant;
    unsigned dec;
} number;

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Reads the next whitespace separated token.
 * Returns: 1 with a token, 0 at the end of the text, or CT_EPARSE on a byte
 *          that is neither printable ASCII nor white space. */
static int next_token(lexer *lx)
{
    while (lx->p < lx->end && is_space(*lx->p)) {
        if (*lx->p == '\n')
            lx->line++;
        lx->p++;
    }
    if (lx->p == lx->end)
        return 0;
    lx->tok = lx->p;
    lx->tok_line = lx->line;
    while (lx->p < lx->end && !is_space(*lx->p)) {
        unsigned char c = (unsigned char)*lx->p;
        if (c < 0x21 || c > 0x7e)
            return ct_error_set(CT_EPARSE, "%zu: unexpected byte 0x%02x", lx->line, c);
        lx->p++;
    }
    lx->tok_len = (size_t)(lx->p - lx->tok);
    return 1;
}

/* Reads a token, failing with "expected <what>" at the end of the text. */
static int expect_token(lexer *lx, const char *what)
{
    int rc = next_token(lx);

    if (rc == 0)
        return ct_error_set(CT_EPARSE, "%zu: expected %s, found the end of the text", lx->tok_line,
                            what);
    return rc < 0 ? rc : 0;
}

static int bad_token(const lexer *lx, const char *what)
{
    return ct_error_set(CT_EPARSE, "%zu: expected %s, found '%.*s'%s", lx->tok_line, what,
                        (int)(lx->tok_len > 32 ? 32 : lx->tok_len), lx->tok,
                        lx->tok_len > 32 ? "..." : "");
}

/* Parses the token as digits with an optional fraction ("36.6").
 * Returns: 0, CT_EPARSE, or CT_ELIMIT past 10^12 or six decimals. */
static int token_number(number *out, const lexer *lx, const char *what)
{
    const char *s = lx->tok, *end = lx->tok + lx->tok_len;
    const char *dot = memchr(s, '.', lx->tok_len);
    const char *frac_end = end;
    int64_t v = 0;

    if (dot == s || dot == end - 1)
        return bad_token(lx, what);
    if (dot != NULL)
        while (frac_end > dot + 1 && frac_end[-1] == '0')
            frac_end--; /* "100.0" is 100 */
    for (const char *c = s; c < frac_end; c++) {
        if (c == dot)
            continue;
        if (*c < '0' || *c > '9')
            return bad_token(lx, what);
        if (v > (CT_BINPACK_MAX_SIZE - (*c - '0')) / 10)
            return ct_error_set(CT_ELIMIT, "%zu: %s '%.*s' has more than 12 digits", lx->tok_line,
                                what, (int)(lx->tok_len > 32 ? 32 : lx->tok_len), s);
        v = v * 10 + (*c - '0');
    }
    for (const char *c = frac_end; c < end; c++)
        if (*c < '0' || *c > '9')
            return bad_token(lx, what);
    out->mant = v;
    out->dec = dot == NULL ? 0 : (unsigned)(frac_end - dot - 1);
    if (out->dec > MAX_DECIMALS)
        return ct_error_set(CT_ELIMIT, "%zu: %s has more than %d decimals", lx->tok_line, what,
                            MAX_DECIMALS);
    return 0;
}

/* Reads a whole number of at most max. */
static int read_count(int64_t *out, lexer *lx, const char *what, int64_t max)
{
    number num;
    int rc;

    if ((rc = expect_token(lx, what)) < 0 || (rc = token_number(&num, lx, what)) < 0)
        return rc;
    if (num.dec != 0)
        return bad_token(lx, what);
    if (num.mant > max)
        return ct_error_set(CT_ELIMIT, "%zu: %s %lld is more than %lld", lx->tok_line, what,
                            (long long)num.mant, (long long)max);
    *out = num.mant;
    return 0;
}

static int64_t pow10_i64(unsigned e)
{
    int64_t p = 1;

    while (e-- > 0)
        p *= 10;
    return p;
}

/* Returns: whether a > b for a and b given as scaled numbers. Both sides
 * stay below 10^12 * 10^6, within int64. */
static bool number_greater(number a, number b)
{
    return a.mant * pow10_i64(b.dec) > b.mant * pow10_i64(a.dec);
}

void ct_binpack_file_free(ct_binpack_file *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->count; i++) {
        free(f->inst[i].name);
        free(f->inst[i].sizes);
    }
    free(f->inst);
    free(f);
}

/* Appends `count` items of size num to mant/dec (*n items, *alloc room). */
static int append_items(int64_t **mant, unsigned char **dec, size_t *n, size_t *alloc, number num,
                        size_t count)
{
    if (*n + count > *alloc) {
        size_t want = *alloc == 0 ? 256 : *alloc;
        while (want < *n + count)
            want *= 2;
        int64_t *m2 = realloc(*mant, want * sizeof(**mant));
        if (m2 != NULL)
            *mant = m2;
        unsigned char *d2 = realloc(*dec, want);
        if (d2 != NULL)
            *dec = d2;
        if (m2 == NULL || d2 == NULL)
            return ct_error_set(CT_ENOMEM, "binpack: out of memory");
        *alloc = want;
    }
    for (size_t k = 0; k < count; k++) {
        (*mant)[*n + k] = num.mant;
        (*dec)[*n + k] = (unsigned char)num.dec;
    }
    *n += count;
    return 0;
}

/* Reads n item sizes into mant/dec (arrays grown as items arrive, so a
 * huge declared n costs nothing until the items are really there). */
static int read_sizes(int64_t **mant, unsigned char **dec, lexer *lx, size_t n, number cap)
{
    size_t have = 0, alloc = 0;

    for (size_t k = 0; k < n; k++) {
        number num;
        int rc;
        if ((rc = next_token(lx)) == 0)
            return ct_error_set(CT_EPARSE,
                                "%zu: expected item %zu of %zu, found the end of the text",
                                lx->tok_line, k + 1, n);
        if (rc < 0 || (rc = token_number(&num, lx, "an item size")) < 0)
            return rc;
        if (num.mant == 0)
            return ct_error_set(CT_EPARSE, "%zu: item %zu of %zu: size must be positive",
                                lx->tok_line, k + 1, n);
        if (number_greater(num, cap))
            return ct_error_set(CT_EPARSE, "%zu: item %zu of %zu: size %.*s exceeds the capacity",
                                lx->tok_line, k + 1, n, (int)(lx->tok_len > 32 ? 32 : lx->tok_len),
                                lx->tok);
        if ((rc = append_items(mant, dec, &have, &alloc, num, 1)) < 0)
            return rc;
    }
    return 0;
}

/* Brings capacity and sizes to the finest number of decimals among them. */
static int scale_instance(ct_binpack_instance *in, number cap, const unsigned char *dec)
{
    unsigned d = cap.dec;

    for (size_t k = 0; k < in->n; k++)
        if (dec[k] > d)
            d = dec[k];
    in->decimals = d;
    in->capacity = cap.mant * pow10_i64(d - cap.dec);
    if (in->capacity > CT_BINPACK_MAX_SIZE)
        return ct_error_set(CT_ELIMIT,
                            "%zu: problem '%s': with %u decimals the capacity exceeds 10^12",
                            in->line, in->name, d);
    /* Every size is at most the capacity, so none can overflow now. */
    for (size_t k = 0; k < in->n; k++)
        in->sizes[k] *= pow10_i64(d - dec[k]);
    return 0;
}

static int set_name(ct_binpack_instance *in, const char *name, size_t len)
{
    /* Not strndup: the text need not be NUL terminated. */
    in->name = malloc(len + 1);
    if (in->name == NULL)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    memcpy(in->name, name, len);
    in->name[len] = '\0';
    return 0;
}

static int read_instance(ct_binpack_instance *in, lexer *lx)
{
    number cap;
    int64_t n;
    unsigned char *dec = NULL;
    int rc;

    if ((rc = expect_token(lx, "a problem identifier")) < 0)
        return rc;
    in->line = lx->tok_line;
    if (lx->tok_len > NAME_MAX_LEN)
        return ct_error_set(CT_EPARSE, "%zu: problem identifier longer than %d characters",
                            lx->tok_line, NAME_MAX_LEN);
    if ((rc = set_name(in, lx->tok, lx->tok_len)) < 0)
        return rc;
    if ((rc = expect_token(lx, "the bin capacity")) < 0 ||
        (rc = token_number(&cap, lx, "the bin capacity")) < 0)
        return rc;
    if (cap.mant == 0)
        return ct_error_set(CT_EPARSE, "%zu: the bin capacity must be positive", lx->tok_line);
    if ((rc = read_count(&n, lx, "the number of items", CT_BINPACK_MAX_ITEMS)) < 0 ||
        (rc = read_count(&in->best_known, lx, "the best known number of bins",
                         CT_BINPACK_MAX_ITEMS)) < 0)
        return rc;
    in->n = (size_t)n;
    rc = read_sizes(&in->sizes, &dec, lx, in->n, cap);
    if (rc == 0)
        rc = scale_instance(in, cap, dec);
    free(dec);
    return rc;
}

/* Grows f by one instance. Returns: it, or NULL (CT_ENOMEM set). */
static ct_binpack_instance *add_instance(ct_binpack_file *f, size_t *alloc)
{
    if (f->count == *alloc) {
        size_t want = *alloc == 0 ? 16 : 2 * *alloc;
        ct_binpack_instance *grown = realloc(f->inst, want * sizeof(*grown));
        if (grown == NULL) {
            ct_error_set(CT_ENOMEM, "binpack: out of memory");
            return NULL;
        }
        f->inst = grown;
        *alloc = want;
    }
    f->inst[f->count] = (ct_binpack_instance){0};
    return &f->inst[f->count++];
}

int ct_binpack_parse_orlib(ct_binpack_file **out, const char *text, size_t len)
{
    lexer lx = {.p = text, .end = text + len, .line = 1, .tok_line = 1};
    ct_binpack_file *f = calloc(1, sizeof(*f));
    int64_t problems;
    size_t alloc = 0;
    int rc;

    if (f == NULL)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    if ((rc = read_count(&problems, &lx, "the number of problems", MAX_PROBLEMS)) < 0)
        goto done;
    for (size_t p = 0; p < (size_t)problems; p++) {
        ct_binpack_instance *in = add_instance(f, &alloc);
        if (in == NULL) {
            rc = CT_ENOMEM;
            goto done;
        }
        if ((rc = read_instance(in, &lx)) < 0)
            goto done;
    }
    rc = next_token(&lx);
    if (rc > 0)
        rc = ct_error_set(CT_EPARSE, "%zu: unexpected '%.*s' after the last of %zu problems",
                          lx.tok_line, (int)(lx.tok_len > 32 ? 32 : lx.tok_len), lx.tok, f->count);
done:
    if (rc < 0) {
        ct_binpack_file_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* ---------------------------------------------------------------- other formats */

/* Reads a name in single quotes ('BPP    14'), which may hold spaces:
 * runs of them become one. The lexer is at the opening quote. */
static int read_quoted_name(ct_binpack_instance *in, lexer *lx)
{
    char name[NAME_MAX_LEN + 1];
    size_t len = 0;

    in->line = lx->line;
    lx->p++; /* the quote */
    while (lx->p < lx->end && *lx->p != '\'' && *lx->p != '\n') {
        unsigned char c = (unsigned char)*lx->p++;
        if (c == ' ' || c == '\t') {
            if (len > 0 && name[len - 1] != ' ' && len < NAME_MAX_LEN)
                name[len++] = ' ';
            continue;
        }
        if (c < 0x21 || c > 0x7e)
            return ct_error_set(CT_EPARSE, "%zu: unexpected byte 0x%02x", lx->line, c);
        if (len == NAME_MAX_LEN)
            return ct_error_set(CT_EPARSE, "%zu: problem name longer than %d characters", lx->line,
                                NAME_MAX_LEN);
        name[len++] = (char)c;
    }
    if (lx->p == lx->end || *lx->p != '\'')
        return ct_error_set(CT_EPARSE, "%zu: the problem name has no closing quote", lx->line);
    lx->p++;
    while (len > 0 && name[len - 1] == ' ')
        len--;
    if (len == 0)
        return ct_error_set(CT_EPARSE, "%zu: empty problem name", lx->line);
    return set_name(in, name, len);
}

/* A cutting stock block: 'NAME', the number of item types m, the
 * capacity, then m lines "size demand". */
static int read_stock_instance(ct_binpack_instance *in, lexer *lx)
{
    int64_t m, demand;
    number cap, size;
    unsigned char *dec = NULL;
    size_t alloc = 0;
    int rc;

    if ((rc = read_quoted_name(in, lx)) < 0 ||
        (rc = read_count(&m, lx, "the number of item types", CT_BINPACK_MAX_ITEMS)) < 0 ||
        (rc = expect_token(lx, "the bin capacity")) < 0 ||
        (rc = token_number(&cap, lx, "the bin capacity")) < 0)
        return rc;
    if (cap.mant == 0)
        return ct_error_set(CT_EPARSE, "%zu: the bin capacity must be positive", lx->tok_line);
    for (int64_t t = 0; t < m && rc == 0; t++) {
        if ((rc = expect_token(lx, "an item size")) < 0 ||
            (rc = token_number(&size, lx, "an item size")) < 0 ||
            (rc = read_count(&demand, lx, "a demand", CT_BINPACK_MAX_ITEMS)) < 0)
            break;
        if (size.mant == 0 || number_greater(size, cap))
            rc = ct_error_set(CT_EPARSE, "%zu: item type %lld of %lld: size %s", lx->tok_line,
                              (long long)t + 1, (long long)m,
                              size.mant == 0 ? "must be positive" : "exceeds the capacity");
        else if (in->n + (size_t)demand > CT_BINPACK_MAX_ITEMS)
            rc = ct_error_set(CT_ELIMIT, "%zu: problem '%s' has more than %u items", lx->tok_line,
                              in->name, CT_BINPACK_MAX_ITEMS);
        else
            rc = append_items(&in->sizes, &dec, &in->n, &alloc, size, (size_t)demand);
    }
    if (rc == 0)
        rc = scale_instance(in, cap, dec);
    free(dec);
    return rc;
}

/* Whether the next token (not consumed) starts with a digit. */
static bool next_is_number(const lexer *lx)
{
    lexer peek = *lx;

    return next_token(&peek) > 0 && peek.tok[0] >= '0' && peek.tok[0] <= '9';
}

int ct_binpack_parse(ct_binpack_file **out, const char *text, size_t len)
{
    lexer lx = {.p = text, .end = text + len, .line = 1, .tok_line = 1};
    ct_binpack_file *f;
    size_t alloc = 0;
    int rc = 0;

    /* OR-Library: a count, then a problem identifier. */
    lexer peek = lx;
    if (next_token(&peek) <= 0 || (peek.tok[0] != '\'' && !next_is_number(&peek)))
        return ct_binpack_parse_orlib(out, text, len);
    if ((f = calloc(1, sizeof(*f))) == NULL)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    if (peek.tok[0] != '\'') {
        /* BPPLIB: n, the capacity, n sizes; one instance. */
        ct_binpack_instance *in = add_instance(f, &alloc);
        int64_t n;
        number cap;
        unsigned char *dec = NULL;
        if (in == NULL || (rc = set_name(in, "instance", 8)) < 0 ||
            (rc = read_count(&n, &lx, "the number of items", CT_BINPACK_MAX_ITEMS)) < 0 ||
            (rc = expect_token(&lx, "the bin capacity")) < 0 ||
            (rc = token_number(&cap, &lx, "the bin capacity")) < 0)
            goto done;
        in->line = 1;
        in->n = (size_t)n;
        if (cap.mant == 0)
            rc = ct_error_set(CT_EPARSE, "%zu: the bin capacity must be positive", lx.tok_line);
        if (rc == 0)
            rc = read_sizes(&in->sizes, &dec, &lx, in->n, cap);
        if (rc == 0)
            rc = scale_instance(in, cap, dec);
        free(dec);
    } else {
        /* Cutting stock blocks, each starting with a quoted name. */
        while (rc == 0) {
            while (lx.p < lx.end && is_space(*lx.p))
                lx.line += *lx.p++ == '\n';
            if (lx.p == lx.end)
                break;
            if (*lx.p != '\'')
                rc = ct_error_set(CT_EPARSE, "%zu: expected a problem name in quotes", lx.line);
            else if (f->count == MAX_PROBLEMS)
                rc = ct_error_set(CT_ELIMIT, "%zu: more than %u problems", lx.line, MAX_PROBLEMS);
            else if (add_instance(f, &alloc) == NULL)
                rc = CT_ENOMEM;
            else
                rc = read_stock_instance(&f->inst[f->count - 1], &lx);
        }
        if (rc == 0 && f->count == 0)
            rc = ct_error_set(CT_EPARSE, "1: expected a problem, found the end of the text");
    }
    if (rc == 0 && (rc = next_token(&lx)) > 0)
        rc = ct_error_set(CT_EPARSE, "%zu: unexpected '%.*s' after the last problem", lx.tok_line,
                          (int)(lx.tok_len > 32 ? 32 : lx.tok_len), lx.tok);
done:
    if (rc < 0) {
        ct_binpack_file_free(f);
        return rc;
    }
    *out = f;
    return 0;
}
