/* Solidity ABI types and signatures: parsing "(uint256,string)[]",
 * "Transfer(address indexed from, ...)" and entries of solc's ABI JSON,
 * canonical forms, function selectors and event topics. */
#include "eth_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* static_size() results: a dynamic type, and "bigger than the cap" (sizes
 * saturate there, so no arithmetic on a hostile type can overflow). */
#define SIZE_DYN SIZE_MAX
#define SIZE_BIG (CT_ETH__ABI_MAX_STATIC + 1)

/* ---------------------------------------------------------------- sizes */

static size_t sat_add(size_t a, size_t b)
{
    return a + b > SIZE_BIG ? SIZE_BIG : a + b; /* both <= SIZE_BIG */
}

static size_t sat_mul(size_t a, size_t k)
{
    if (a == 0 || k == 0)
        return 0;
    return k > SIZE_BIG / a ? SIZE_BIG : a * k;
}

/* Returns: the bytes of t's static encoding, SIZE_DYN when t is dynamic,
 * or SIZE_BIG when it exceeds CT_ETH__ABI_MAX_STATIC. */
static size_t static_size(const ct_abi_type *t)
{
    size_t sum = 0, s;

    switch (t->kind) {
    case CT_ABI_BYTES:
    case CT_ABI_STRING: return SIZE_DYN;
    case CT_ABI_ARRAY:
        if (t->length < 0 || (s = static_size(t->items[0])) == SIZE_DYN)
            return SIZE_DYN;
        return sat_mul(s, (size_t)t->length);
    case CT_ABI_TUPLE:
        for (size_t i = 0; i < t->n_items; i++) {
            if ((s = static_size(t->items[i])) == SIZE_DYN)
                return SIZE_DYN;
            sum = sat_add(sum, s);
        }
        return sum;
    default: return 32;
    }
}

bool ct_abi_type_dynamic(const ct_abi_type *t)
{
    return static_size(t) == SIZE_DYN;
}

size_t ct_eth__abi_head_size(const ct_abi_type *t)
{
    size_t s = static_size(t);
    return s == SIZE_DYN ? 32 : s;
}

/* ---------------------------------------------------------------- type trees */

static ct_abi_type *type_new(ct_abi_kind kind)
{
    ct_abi_type *t = calloc(1, sizeof(*t));

    if (t == NULL)
        ct_error_set(CT_ENOMEM, "abi: out of memory");
    else
        t->kind = kind;
    return t;
}

void ct_abi_type_free(ct_abi_type *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_items; i++)
        ct_abi_type_free(t->items[i]);
    free(t->items);
    free(t->name);
    free(t);
}

/* Appends item to tuple t, whose items array has *cap slots. */
static int push_item(ct_abi_type *t, size_t *cap, ct_abi_type *item)
{
    if (t->n_items == *cap) {
        size_t n = *cap ? *cap * 2 : 4;
        ct_abi_type **p = realloc(t->items, n * sizeof(*p));
        if (p == NULL)
            return ct_error_set(CT_ENOMEM, "abi: out of memory");
        t->items = p;
        *cap = n;
    }
    t->items[t->n_items++] = item;
    return 0;
}

/* ---------------------------------------------------------------- canonical */

/* Where canonical text goes: a buffer, or straight into a hash so that
 * selectors and topics never allocate. */
typedef struct canon_out {
    ct_buf *buf;
    ct_keccak *k;
    int err;
} canon_out;

static void emit(canon_out *o, const char *s, size_t n)
{
    if (o->err < 0)
        return;
    if (o->k != NULL)
        ct_keccak_update(o->k, s, n);
    else
        o->err = ct_buf_append(o->buf, s, n);
}

static void emit_str(canon_out *o, const char *s)
{
    emit(o, s, strlen(s));
}

static void emit_uint(canon_out *o, unsigned long v)
{
    char tmp[24];
    size_t i = sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    emit(o, tmp + i, sizeof(tmp) - i);
}

/* Recursion is bounded by the depth the parser allows. */
static void emit_type(canon_out *o, const ct_abi_type *t)
{
    switch (t->kind) {
    case CT_ABI_UINT:
        emit(o, "uint", 4);
        emit_uint(o, t->size);
        break;
    case CT_ABI_INT:
        emit(o, "int", 3);
        emit_uint(o, t->size);
        break;
    case CT_ABI_ADDRESS: emit(o, "address", 7); break;
    case CT_ABI_BOOL: emit(o, "bool", 4); break;
    case CT_ABI_FIXED_BYTES:
        emit(o, "bytes", 5);
        emit_uint(o, t->size);
        break;
    case CT_ABI_BYTES: emit(o, "bytes", 5); break;
    case CT_ABI_STRING: emit(o, "string", 6); break;
    case CT_ABI_ARRAY:
        emit_type(o, t->items[0]);
        if (t->length < 0) {
            emit(o, "[]", 2);
        } else {
            emit(o, "[", 1);
            emit_uint(o, (unsigned long)t->length);
            emit(o, "]", 1);
        }
        break;
    case CT_ABI_TUPLE:
        emit(o, "(", 1);
        for (size_t i = 0; i < t->n_items; i++) {
            if (i > 0)
                emit(o, ",", 1);
            emit_type(o, t->items[i]);
        }
        emit(o, ")", 1);
        break;
    }
}

int ct_abi_type_canonical(ct_buf *b, const ct_abi_type *t)
{
    canon_out o = {.buf = b};

    emit_type(&o, t);
    return o.err;
}

int ct_abi_sig_canonical(ct_buf *b, const ct_abi_sig *sig)
{
    canon_out o = {.buf = b};

    emit_str(&o, sig->name);
    emit_type(&o, sig->params);
    return o.err;
}

/* keccak256 of the canonical signature, hashed as it is written. */
static void sig_hash(uint8_t out[32], const ct_abi_sig *sig)
{
    ct_keccak k;
    canon_out o = {.k = &k};

    ct_keccak_init(&k);
    emit_str(&o, sig->name);
    emit_type(&o, sig->params);
    ct_keccak_final(&k, out);
}

int ct_abi_selector(uint8_t out[4], const ct_abi_sig *sig)
{
    uint8_t h[32];

    sig_hash(h, sig);
    memcpy(out, h, 4);
    return 0;
}

int ct_abi_topic(uint8_t out[32], const ct_abi_sig *sig)
{
    sig_hash(out, sig);
    return 0;
}

/* ---------------------------------------------------------------- parser */

typedef struct parser {
    const char *s;
    size_t pos;
    int open; /* tuples open around pos, bounds the recursion */
} parser;

static int perr(const parser *p, const char *what)
{
    return ct_error_set(CT_EPARSE, "abi: type '%.80s' at offset %zu: %s", p->s, p->pos, what);
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

static bool is_ident(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static void skip_ws(parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
           p->s[p->pos] == '\r')
        p->pos++;
}

/* Reads an identifier at pos. Returns: its length (0 if none). */
static size_t read_word(parser *p, const char **w)
{
    size_t start = p->pos;

    if (!is_ident_start(p->s[p->pos]))
        return 0;
    while (is_ident(p->s[p->pos]))
        p->pos++;
    *w = p->s + start;
    return p->pos - start;
}

static bool word_is(const char *w, size_t n, const char *kw)
{
    return strlen(kw) == n && memcmp(w, kw, n) == 0;
}

/* Parses 1 to 3 decimal digits without a leading zero. */
static bool small_number(unsigned *out, const char *d, size_t n)
{
    unsigned v = 0;

    if (n == 0 || n > 3 || d[0] == '0')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < '0' || d[i] > '9')
            return false;
        v = v * 10 + (unsigned)(d[i] - '0');
    }
    *out = v;
    return true;
}

/* Fills t from an elementary type name. Returns: NULL or what is wrong. */
static const char *classify(ct_abi_type *t, const char *w, size_t n)
{
    unsigned v;

    if (word_is(w, n, "address"))
        t->kind = CT_ABI_ADDRESS;
    else if (word_is(w, n, "bool"))
        t->kind = CT_ABI_BOOL;
    else if (word_is(w, n, "string"))
        t->kind = CT_ABI_STRING;
    else if (word_is(w, n, "bytes"))
        t->kind = CT_ABI_BYTES;
    else if (word_is(w, n, "uint") || word_is(w, n, "int")) {
        t->kind = w[0] == 'u' ? CT_ABI_UINT : CT_ABI_INT;
        t->size = 256;
    } else if (n > 4 && memcmp(w, "uint", 4) == 0 && small_number(&v, w + 4, n - 4)) {
        t->kind = CT_ABI_UINT;
        t->size = v;
    } else if (n > 3 && memcmp(w, "int", 3) == 0 && small_number(&v, w + 3, n - 3)) {
        t->kind = CT_ABI_INT;
        t->size = v;
    } else if (n > 5 && memcmp(w, "bytes", 5) == 0 && small_number(&v, w + 5, n - 5)) {
        if (v > 32)
            return "bytesN needs N from 1 to 32";
        t->kind = CT_ABI_FIXED_BYTES;
        t->size = v;
        return NULL;
    } else {
        return "unknown type";
    }
    if ((t->kind == CT_ABI_UINT || t->kind == CT_ABI_INT) &&
        (t->size % 8 != 0 || t->size < 8 || t->size > 256))
        return "integer size must be a multiple of 8 from 8 to 256";
    return NULL;
}

static int parse_elementary(parser *p, ct_abi_type **out)
{
    const char *w, *why;
    size_t start = p->pos, n = read_word(p, &w);
    ct_abi_type *t;

    if (n == 0)
        return perr(p, "expected a type");
    if ((t = type_new(CT_ABI_UINT)) == NULL)
        return CT_ENOMEM;
    if ((why = classify(t, w, n)) != NULL) {
        ct_abi_type_free(t);
        p->pos = start;
        return perr(p, why);
    }
    *out = t;
    return 0;
}

/* Parses the length inside "[k]": digits without a leading zero. */
static int parse_length(parser *p, long *out)
{
    long v = 0;
    size_t start = p->pos;

    if (p->s[p->pos] < '0' || p->s[p->pos] > '9')
        return perr(p, "expected an array length or ']'");
    while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        if (v > (long)CT_ETH__ABI_MAX_STATIC)
            return perr(p, "array length too large");
        v = v * 10 + (p->s[p->pos++] - '0');
    }
    if (p->s[start] == '0' && p->pos - start > 1) {
        p->pos = start;
        return perr(p, "array length with a leading zero");
    }
    *out = v;
    return 0;
}

/* Wraps *t into an array of length (-1: dynamic) after checking that its
 * items have a size and the array's head fits the cap. */
static int wrap_array(parser *p, ct_abi_type **t, long length)
{
    size_t item = ct_eth__abi_head_size(*t);
    ct_abi_type *a;

    if (item == 0)
        return perr(p, "array of a zero-size type");
    if (length > 0 && (size_t)length > CT_ETH__ABI_MAX_STATIC / item)
        return perr(p, "array too large");
    if ((a = type_new(CT_ABI_ARRAY)) == NULL)
        return CT_ENOMEM;
    if ((a->items = malloc(sizeof(*a->items))) == NULL) {
        free(a);
        return ct_error_set(CT_ENOMEM, "abi: out of memory");
    }
    a->items[0] = *t;
    a->n_items = 1;
    a->length = length;
    *t = a;
    return 0;
}

/* Parses any "[k]" and "[]" suffixes after a type, wrapping *t (which the
 * caller still owns on failure) and raising *height. */
static int parse_suffixes(parser *p, ct_abi_type **t, int *height)
{
    int rc;

    for (;;) {
        long length = -1;
        skip_ws(p);
        if (p->s[p->pos] != '[')
            return 0;
        p->pos++;
        skip_ws(p);
        if (p->s[p->pos] != ']' && (rc = parse_length(p, &length)) < 0)
            return rc;
        skip_ws(p);
        if (p->s[p->pos] != ']')
            return perr(p, "expected ']'");
        if (++*height > CT_ETH__ABI_MAX_DEPTH)
            return perr(p, "type nested too deeply");
        if ((rc = wrap_array(p, t, length)) < 0)
            return rc;
        p->pos++;
    }
}

static int parse_tuple(parser *p, ct_abi_type **out, int *height);

/* Parses a type with its array suffixes. Out: *height of its tree. */
static int parse_type(parser *p, ct_abi_type **out, int *height)
{
    ct_abi_type *t = NULL;
    int rc;

    skip_ws(p);
    if (p->s[p->pos] == '(' || strncmp(p->s + p->pos, "tuple", 5) == 0)
        rc = parse_tuple(p, &t, height);
    else if ((rc = parse_elementary(p, &t)) == 0)
        *height = 1;
    if (rc == 0 && (rc = parse_suffixes(p, &t, height)) == 0) {
        *out = t;
        return 0;
    }
    ct_abi_type_free(t);
    return rc;
}

/* Parses what may follow a parameter's type: "indexed", a data location
 * and a name, as in "string calldata tag" or "address indexed from". */
static int parse_modifiers(parser *p, ct_abi_type *t)
{
    for (;;) {
        const char *w;
        size_t n;

        skip_ws(p);
        if ((n = read_word(p, &w)) == 0)
            return 0;
        if (t->name != NULL) {
            p->pos -= n;
            return perr(p, "unexpected word after the parameter name");
        }
        if (word_is(w, n, "indexed") && !t->indexed) {
            t->indexed = true;
        } else if (word_is(w, n, "calldata") || word_is(w, n, "memory") ||
                   word_is(w, n, "storage") ||
                   (word_is(w, n, "payable") && t->kind == CT_ABI_ADDRESS)) {
            continue; /* data locations and payable do not change the ABI */
        } else if ((t->name = strndup(w, n)) == NULL) {
            return ct_error_set(CT_ENOMEM, "abi: out of memory");
        }
    }
}

static int parse_param(parser *p, ct_abi_type **out, int *height)
{
    int rc = parse_type(p, out, height);

    if (rc == 0 && (rc = parse_modifiers(p, *out)) < 0) {
        ct_abi_type_free(*out);
        *out = NULL;
    }
    return rc;
}

/* Parses the components of "(...)" (or "tuple(...)") into *t. */
static int parse_components(parser *p, ct_abi_type *t, int *height)
{
    size_t cap = 0;
    int h, rc;

    skip_ws(p);
    if (p->s[p->pos] == ')') {
        p->pos++;
        return 0;
    }
    for (;;) {
        ct_abi_type *c = NULL;
        if ((rc = parse_param(p, &c, &h)) < 0)
            return rc;
        if ((rc = push_item(t, &cap, c)) < 0) {
            ct_abi_type_free(c);
            return rc;
        }
        if (h + 1 > *height)
            *height = h + 1;
        skip_ws(p);
        if (p->s[p->pos] == ')') {
            p->pos++;
            return 0;
        }
        if (p->s[p->pos] != ',')
            return perr(p, "expected ',' or ')'");
        p->pos++;
    }
}

static int parse_tuple(parser *p, ct_abi_type **out, int *height)
{
    ct_abi_type *t = NULL;
    size_t start = p->pos;
    int rc;

    if (strncmp(p->s + p->pos, "tuple", 5) == 0)
        p->pos += 5;
    skip_ws(p);
    if (p->s[p->pos] != '(') {
        p->pos = start;
        return perr(p, "unknown type");
    }
    p->pos++;
    if (++p->open > CT_ETH__ABI_MAX_DEPTH) {
        rc = perr(p, "type nested too deeply");
        goto done;
    }
    if ((t = type_new(CT_ABI_TUPLE)) == NULL) {
        rc = CT_ENOMEM;
        goto done;
    }
    *height = 1;
    if ((rc = parse_components(p, t, height)) < 0)
        goto done;
    if (static_size(t) == SIZE_BIG)
        rc = perr(p, "tuple too large");
done:
    p->open--;
    if (rc < 0)
        ct_abi_type_free(t);
    else
        *out = t;
    return rc;
}

int ct_abi_type_parse(ct_abi_type **out, const char *text)
{
    parser p = {.s = text};
    ct_abi_type *t;
    int height, rc;

    if ((rc = parse_type(&p, &t, &height)) < 0)
        return rc;
    skip_ws(&p);
    if (text[p.pos] != '\0') {
        ct_abi_type_free(t);
        return perr(&p, "unexpected text after the type");
    }
    *out = t;
    return 0;
}

/* ---------------------------------------------------------------- signatures */

void ct_abi_sig_free(ct_abi_sig *sig)
{
    if (sig == NULL)
        return;
    free(sig->name);
    ct_abi_type_free(sig->params);
    free(sig);
}

static int sig_new(ct_abi_sig **out, const char *name, size_t n, ct_abi_type *params)
{
    ct_abi_sig *sig = calloc(1, sizeof(*sig));

    if (sig == NULL || (sig->name = strndup(name, n)) == NULL) {
        free(sig);
        ct_abi_type_free(params);
        return ct_error_set(CT_ENOMEM, "abi: out of memory");
    }
    sig->params = params;
    *out = sig;
    return 0;
}

/* Reads the name of "name(...)", skipping a leading "function", "event"
 * or "error" keyword as human-readable ABIs write it. */
static size_t sig_name(parser *p, const char **name)
{
    size_t n, save;

    skip_ws(p);
    n = read_word(p, name);
    if (word_is(*name, n, "function") || word_is(*name, n, "event") || word_is(*name, n, "error")) {
        save = p->pos;
        skip_ws(p);
        if (is_ident_start(p->s[p->pos]))
            return read_word(p, name);
        p->pos = save;
    }
    return n;
}

int ct_abi_sig_parse(ct_abi_sig **out, const char *text)
{
    parser p = {.s = text};
    ct_abi_type *params;
    const char *name = NULL;
    size_t n;
    int height, rc;

    if ((n = sig_name(&p, &name)) == 0)
        return perr(&p, "expected a function or event name");
    skip_ws(&p);
    if (text[p.pos] != '(')
        return perr(&p, "expected '('");
    if ((rc = parse_tuple(&p, &params, &height)) < 0)
        return rc;
    skip_ws(&p);
    if (text[p.pos] != '\0') {
        ct_abi_type_free(params);
        return perr(&p, "unexpected text after the signature");
    }
    return sig_new(out, name, n, params);
}

/* ---------------------------------------------------------------- solc JSON */

static int params_from_json(ct_abi_type **out, const json_t *list, int depth, int *height);

/* Builds the type of one solc parameter {"type", "name", "components",
 * "indexed"}: "tuple..." from its components, anything else parsed. */
static int param_type_from_json(ct_abi_type **out, const json_t *param, const char *type, int depth,
                                int *height)
{
    parser p = {.s = type, .open = depth};
    ct_abi_type *t = NULL;
    int rc;

    if (strncmp(type, "tuple", 5) == 0 && (type[5] == '\0' || type[5] == '[')) {
        const json_t *comps = json_object_get(param, "components");
        if (!json_is_array(comps))
            return ct_error_set(CT_EINVAL, "abi: '%.80s' parameter without components", type);
        if ((rc = params_from_json(&t, comps, depth + 1, height)) < 0)
            return rc;
        p.pos = 5;
        if ((rc = parse_suffixes(&p, &t, height)) < 0)
            goto done;
    } else if ((rc = parse_type(&p, &t, height)) < 0) {
        return ct_error_set(CT_EINVAL, "%s", ct_error_last()); /* same message, EINVAL */
    }
    if (type[p.pos] != '\0')
        rc = perr(&p, "unexpected text after the type");
done:
    if (rc < 0) {
        ct_abi_type_free(t);
        return ct_error_set(CT_EINVAL, "%s", ct_error_last()); /* same message, EINVAL */
    }
    *out = t;
    return 0;
}

static int param_from_json(ct_abi_type **out, const json_t *param, int depth, int *height)
{
    const char *type, *name = NULL;
    bool indexed = false;
    int rc;

    if (!json_is_object(param))
        return ct_error_set(CT_EINVAL, "abi: parameter is not an object");
    if (ct_json_get_string(&type, param, "type", false) < 0 ||
        ct_json_get_string(&name, param, "name", true) == CT_EINVAL ||
        ct_json_get_bool(&indexed, param, "indexed", true) == CT_EINVAL)
        return CT_EINVAL;
    if ((rc = param_type_from_json(out, param, type, depth, height)) < 0)
        return rc;
    (*out)->indexed = indexed;
    if (name != NULL && name[0] != '\0' && ((*out)->name = strdup(name)) == NULL) {
        ct_abi_type_free(*out);
        return ct_error_set(CT_ENOMEM, "abi: out of memory");
    }
    return 0;
}

static int params_from_json(ct_abi_type **out, const json_t *list, int depth, int *height)
{
    ct_abi_type *t;
    size_t cap = 0, i;
    const json_t *param;
    int rc = 0, h;

    if (depth > CT_ETH__ABI_MAX_DEPTH)
        return ct_error_set(CT_EINVAL, "abi: components nested too deeply");
    if ((t = type_new(CT_ABI_TUPLE)) == NULL)
        return CT_ENOMEM;
    *height = 1;
    json_array_foreach (list, i, param) {
        ct_abi_type *c = NULL;
        if ((rc = param_from_json(&c, param, depth, &h)) < 0) {
            ct_error_wrap("%s %zu", depth > 1 ? "component" : "parameter", i);
            goto done;
        }
        if ((rc = push_item(t, &cap, c)) < 0) {
            ct_abi_type_free(c);
            goto done;
        }
        if (h + 1 > *height)
            *height = h + 1;
    }
    if (*height > CT_ETH__ABI_MAX_DEPTH)
        rc = ct_error_set(CT_EINVAL, "abi: components nested too deeply");
    else if (static_size(t) == SIZE_BIG)
        rc = ct_error_set(CT_EINVAL, "abi: tuple too large");
done:
    if (rc < 0)
        ct_abi_type_free(t);
    else
        *out = t;
    return rc;
}

int ct_abi_sig_from_json(ct_abi_sig **out, const json_t *entry)
{
    const char *kind = "function", *name = "";
    const json_t *inputs;
    ct_abi_type *params;
    int height, rc;

    if (!json_is_object(entry))
        return ct_error_set(CT_EINVAL, "abi: ABI entry is not an object");
    if (ct_json_get_string(&kind, entry, "type", true) == CT_EINVAL)
        return ct_error_wrap("abi");
    if (strcmp(kind, "function") != 0 && strcmp(kind, "event") != 0 && strcmp(kind, "error") != 0 &&
        strcmp(kind, "constructor") != 0)
        return ct_error_set(CT_EINVAL, "abi: a '%.40s' entry has no signature", kind);
    if (strcmp(kind, "constructor") != 0 && ct_json_get_string(&name, entry, "name", false) < 0)
        return ct_error_wrap("abi: %s", kind);
    inputs = json_object_get(entry, "inputs");
    if (inputs != NULL && !json_is_array(inputs))
        return ct_error_set(CT_EINVAL, "abi: %s %.80s: inputs is not an array", kind, name);
    if ((rc = params_from_json(&params, inputs, 1, &height)) < 0)
        return ct_error_wrap("abi: %s %.80s", kind, name);
    return sig_new(out, name, strlen(name), params);
}
