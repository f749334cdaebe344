/* RLP (Ethereum's Recursive Length Prefix): a writer into caller buffers
 * that never allocates, a strict decoder with an iterator over lists,
 * canonical integer readers, and the "0x"-hex JSON form of ethers' vectors. */
#include "catena/eth.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest encoding the JSON converters read or produce. A hostile 1 MiB
 * input of one-byte items already becomes about 90 MB of jansson objects,
 * and real payloads (transactions, at most 128 KiB in geth) are far below. */
#define RLP_JSON_MAX_BYTES ((size_t)1 << 20)

/* A parsed item header: hlen header bytes, then plen payload bytes. */
typedef struct rlp_hdr {
    size_t hlen;
    size_t plen;
    bool is_list;
} rlp_hdr;

/* ---------------------------------------------------------------- lengths */

/* Returns: the number of bytes of v without leading zeros (0 for 0). */
static size_t be_len(uint64_t v)
{
    size_t n = 0;

    while (v != 0) {
        n++;
        v >>= 8;
    }
    return n;
}

/* Returns: the size of the header in front of a payload of n bytes. */
static size_t header_size(size_t n)
{
    return n < 56 ? 1 : 1 + be_len(n);
}

/* Writes the header of an n-byte payload; base is 0x80 for strings and
 * 0xc0 for lists. Returns: the bytes written (header_size(n)). */
static size_t write_header(uint8_t *dst, size_t n, uint8_t base)
{
    size_t ll;

    if (n < 56) {
        dst[0] = (uint8_t)(base + n);
        return 1;
    }
    ll = be_len(n);
    dst[0] = (uint8_t)(base + 55 + ll);
    for (size_t i = 0; i < ll; i++)
        dst[ll - i] = (uint8_t)((uint64_t)n >> (8 * i));
    return 1 + ll;
}

/* Reads the ll-byte big-endian length of a long form at p, which has
 * avail bytes. Returns: NULL, or why the length is not canonical. */
static const char *read_long_len(size_t *out, const uint8_t *p, size_t ll, size_t avail)
{
    size_t n = 0;

    if (ll > avail || ll > sizeof(size_t))
        return "length of length runs past the end";
    if (p[0] == 0)
        return "length with leading zero bytes";
    for (size_t i = 0; i < ll; i++)
        n = n << 8 | p[i];
    if (n < 56)
        return "long form for a length below 56";
    *out = n;
    return NULL;
}

/* Parses the header at p, where avail bytes remain in the enclosing
 * item or input, and checks that the item fits in them.
 * Returns: NULL, or why the header is malformed (the caller adds where). */
static const char *read_header(rlp_hdr *h, const uint8_t *p, size_t avail)
{
    const char *why;
    uint8_t b;

    if (avail == 0)
        return "unexpected end of input";
    b = p[0];
    h->is_list = b >= 0xc0;
    if (b < 0x80) {
        h->hlen = 0;
        h->plen = 1;
        return NULL;
    }
    if (b <= 0xb7 || (b >= 0xc0 && b <= 0xf7)) {
        h->hlen = 1;
        h->plen = (size_t)(b - (h->is_list ? 0xc0 : 0x80));
    } else {
        size_t ll = (size_t)(b - (h->is_list ? 0xf7 : 0xb7));
        if ((why = read_long_len(&h->plen, p + 1, ll, avail - 1)) != NULL)
            return why;
        h->hlen = 1 + ll;
    }
    if (h->plen > avail - h->hlen)
        return h->is_list ? "list runs past the end" : "string runs past the end";
    if (!h->is_list && h->plen == 1 && p[1] < 0x80)
        return "single byte below 0x80 encoded as a string";
    return NULL;
}

/* ---------------------------------------------------------------- writer */

void ct_rlp_writer_init(ct_rlp_writer *w, uint8_t *buf, size_t cap)
{
    assert(w != NULL && (buf != NULL || cap == 0));
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->depth = 0;
    w->err = 0;
}

/* Checks that hdr + n more bytes fit, making the error sticky if not.
 * Returns: true when they fit. */
static bool writer_room(ct_rlp_writer *w, size_t hdr, size_t n)
{
    size_t avail = w->cap - w->len;

    if (hdr <= avail && n <= avail - hdr)
        return true;
    w->err =
        ct_error_set(CT_ELIMIT, "rlp: %zu-byte buffer too small for a %zu-byte item at offset %zu",
                     w->cap, n, w->len);
    return false;
}

void ct_rlp_put_bytes(ct_rlp_writer *w, const uint8_t *data, size_t len)
{
    size_t hdr;

    if (w->err != 0)
        return;
    hdr = (len == 1 && data[0] < 0x80) ? 0 : header_size(len);
    if (!writer_room(w, hdr, len))
        return;
    if (hdr != 0)
        w->len += write_header(w->buf + w->len, len, 0x80);
    if (len != 0)
        memmove(w->buf + w->len, data, len); /* data may lie in buf */
    w->len += len;
}

void ct_rlp_put_uint(ct_rlp_writer *w, uint64_t v)
{
    uint8_t be[8];
    size_t n = be_len(v);

    for (size_t i = 0; i < n; i++)
        be[n - 1 - i] = (uint8_t)(v >> (8 * i));
    ct_rlp_put_bytes(w, be, n);
}

void ct_rlp_put_u256(ct_rlp_writer *w, const ct_u256 *v)
{
    size_t i = 0;

    while (i < sizeof(v->b) && v->b[i] == 0)
        i++;
    ct_rlp_put_bytes(w, v->b + i, sizeof(v->b) - i);
}

void ct_rlp_list_begin(ct_rlp_writer *w)
{
    if (w->err != 0)
        return;
    if (w->depth >= CT_RLP_MAX_DEPTH) {
        w->err = ct_error_set(CT_ELIMIT, "rlp: lists nested deeper than %d at offset %zu",
                              CT_RLP_MAX_DEPTH, w->len);
        return;
    }
    w->starts[w->depth++] = w->len;
}

void ct_rlp_list_end(ct_rlp_writer *w)
{
    size_t start, payload, hdr;

    if (w->err != 0)
        return;
    if (w->depth == 0) {
        w->err =
            ct_error_set(CT_ESTATE, "rlp: list end without a list begin at offset %zu", w->len);
        return;
    }
    start = w->starts[w->depth - 1];
    payload = w->len - start;
    hdr = header_size(payload);
    if (!writer_room(w, hdr, 0))
        return;
    w->depth--;
    memmove(w->buf + start + hdr, w->buf + start, payload);
    write_header(w->buf + start, payload, 0xc0);
    w->len += hdr;
}

int ct_rlp_finish(ct_rlp_writer *w, size_t *len)
{
    if (w->err != 0) {
        /* The detailed message was set at the failure; keep it unless some
         * other call has replaced it since. */
        if (ct_error_code() != w->err)
            ct_error_set(w->err, "rlp: an earlier write failed (%s)", ct_strerror(w->err));
        return w->err;
    }
    if (w->depth != 0)
        return ct_error_set(CT_ESTATE, "rlp: %d list(s) not closed", w->depth);
    *len = w->len;
    return 0;
}

/* ---------------------------------------------------------------- decoder */

/* Checks that the items of the list payload at in[start..start+len) tile
 * it exactly, without descending into them. */
static int check_children(const uint8_t *in, size_t start, size_t len)
{
    size_t q = start, end = start + len;
    rlp_hdr h;
    const char *why;

    while (q < end) {
        if ((why = read_header(&h, in + q, end - q)) != NULL)
            return ct_error_set(CT_EPARSE, "rlp: %s at offset %zu", why, q);
        q += h.hlen + h.plen;
    }
    return 0;
}

/* Validates the whole tree without recursion or a stack, so any depth is
 * safe. The encoding lists headers in pre-order, so once every list is
 * known to be tiled exactly by its items, walking forward header by
 * header (into lists, over strings) visits every item once. */
static int check_tree(const uint8_t *in, size_t len)
{
    size_t p = 0;
    rlp_hdr h;
    const char *why;
    int rc;

    while (p < len) {
        if ((why = read_header(&h, in + p, len - p)) != NULL)
            return ct_error_set(CT_EPARSE, "rlp: %s at offset %zu", why, p);
        if (!h.is_list) {
            p += h.hlen + h.plen;
            continue;
        }
        if ((rc = check_children(in, p + h.hlen, h.plen)) < 0)
            return rc;
        p += h.hlen;
    }
    return 0;
}

int ct_rlp_decode(ct_rlp_item *out, const uint8_t *in, size_t len)
{
    rlp_hdr h;
    const char *why;
    int rc;

    if (len == 0)
        return ct_error_set(CT_EPARSE, "rlp: empty input at offset 0");
    if ((why = read_header(&h, in, len)) != NULL)
        return ct_error_set(CT_EPARSE, "rlp: %s at offset 0", why);
    if (h.hlen + h.plen != len)
        return ct_error_set(CT_EPARSE, "rlp: %zu trailing bytes after the item at offset %zu",
                            len - h.hlen - h.plen, h.hlen + h.plen);
    if (h.is_list && (rc = check_tree(in, len)) < 0)
        return rc;
    out->data = in + h.hlen;
    out->len = h.plen;
    out->is_list = h.is_list;
    return 0;
}

void ct_rlp_iter_init(ct_rlp_iter *it, const ct_rlp_item *list)
{
    assert(list->is_list);
    it->p = list->data;
    it->end = list->len == 0 ? list->data : list->data + list->len;
}

int ct_rlp_iter_next(ct_rlp_iter *it, ct_rlp_item *out)
{
    size_t avail = (size_t)(it->end - it->p);
    rlp_hdr h;
    const char *why;

    if (avail == 0)
        return 0;
    /* The iterator does not know where the input began, so it says where
     * the bad item is relative to the end of its list. */
    if ((why = read_header(&h, it->p, avail)) != NULL)
        return ct_error_set(CT_EPARSE, "rlp: %s, %zu bytes before the end of the list", why, avail);
    out->data = it->p + h.hlen;
    out->len = h.plen;
    out->is_list = h.is_list;
    it->p += h.hlen + h.plen;
    return 1;
}

/* ---------------------------------------------------------------- integers */

/* Checks that it is a canonical integer of at most max bytes. */
static int check_int(const ct_rlp_item *it, size_t max)
{
    if (it->is_list)
        return ct_error_set(CT_EPARSE, "rlp: expected an integer, got a list");
    if (it->len > 0 && it->data[0] == 0)
        return ct_error_set(CT_EPARSE, "rlp: integer with leading zero bytes");
    if (it->len > max)
        return ct_error_set(CT_ERANGE, "rlp: integer of %zu bytes does not fit %zu bits", it->len,
                            8 * max);
    return 0;
}

int ct_rlp_item_uint(uint64_t *out, const ct_rlp_item *it)
{
    uint64_t v = 0;
    int rc;

    if ((rc = check_int(it, sizeof(v))) < 0)
        return rc;
    for (size_t i = 0; i < it->len; i++)
        v = v << 8 | it->data[i];
    *out = v;
    return 0;
}

int ct_rlp_item_u256(ct_u256 *out, const ct_rlp_item *it)
{
    int rc;

    if ((rc = check_int(it, sizeof(out->b))) < 0)
        return rc;
    memset(out->b, 0, sizeof(out->b));
    if (it->len != 0)
        memcpy(out->b + sizeof(out->b) - it->len, it->data, it->len);
    return 0;
}

/* ---------------------------------------------------------------- JSON to RLP */

/* Where the converter is in the JSON tree, to name a bad element. */
typedef struct json_path {
    size_t idx[CT_RLP_MAX_DEPTH];
    size_t max_str; /* longest byte string seen, for the scratch buffer */
} json_path;

/* Formats the path of the element at depth ("$[1][0]") into out. */
static const char *path_str(char *out, size_t cap, const json_path *jp, int depth)
{
    size_t n = (size_t)snprintf(out, cap, "$");

    for (int d = 0; d < depth && n < cap; d++)
        n += (size_t)snprintf(out + n, cap - n, "[%zu]", jp->idx[d]);
    return out;
}

/* Fails with code and "rlp: element <path>: <what>". */
static int json_fail(int code, const json_path *jp, int depth, const char *what)
{
    char where[256];

    return ct_error_set(code, "rlp: element %s: %s", path_str(where, sizeof(where), jp, depth),
                        what);
}

/* Measures the encoding of a "0x" hex string element. */
static int measure_string(size_t *out, json_path *jp, const json_t *v, int depth)
{
    const char *s = json_string_value(v);
    size_t sl = json_string_length(v), n;
    uint8_t b = 0;

    if (sl < 2 || s[0] != '0' || s[1] != 'x')
        return json_fail(CT_EPARSE, jp, depth, "expected a \"0x\" hex string");
    if (sl % 2 != 0)
        return json_fail(CT_EPARSE, jp, depth, "odd number of hex digits");
    n = (sl - 2) / 2;
    if (n > RLP_JSON_MAX_BYTES)
        return json_fail(CT_ELIMIT, jp, depth, "string longer than the 1 MiB cap");
    /* One byte is its own encoding below 0x80, so its value matters. */
    if (n == 1 && ct_hex_decode(&b, 1, &n, s, sl) < 0) {
        char where[256];
        return ct_error_wrap("rlp: element %s", path_str(where, sizeof(where), jp, depth));
    }
    if (n > jp->max_str)
        jp->max_str = n;
    *out = (n == 1 && b < 0x80) ? 1 : header_size(n) + n;
    return 0;
}

/* Measures the encoding of element v at depth, checking its shape.
 * Out: *out its encoded size (at most RLP_JSON_MAX_BYTES). */
static int measure_json(size_t *out, json_path *jp, const json_t *v, int depth)
{
    size_t sum = 0, n;
    int rc;

    if (json_is_string(v))
        return measure_string(out, jp, v, depth);
    if (!json_is_array(v))
        return json_fail(CT_EINVAL, jp, depth, "expected a \"0x\" hex string or an array");
    if (depth >= CT_RLP_MAX_DEPTH)
        return json_fail(CT_ELIMIT, jp, depth, "lists nested too deep");
    for (size_t i = 0; i < json_array_size(v); i++) {
        jp->idx[depth] = i;
        if ((rc = measure_json(&n, jp, json_array_get(v, i), depth + 1)) < 0)
            return rc;
        sum += n;
        if (sum > RLP_JSON_MAX_BYTES)
            return json_fail(CT_ELIMIT, jp, depth, "encoding larger than the 1 MiB cap");
    }
    *out = header_size(sum) + sum;
    if (*out > RLP_JSON_MAX_BYTES)
        return json_fail(CT_ELIMIT, jp, depth, "encoding larger than the 1 MiB cap");
    return 0;
}

/* Writes element v (already measured) with w, decoding hex into scratch. */
static int emit_json(ct_rlp_writer *w, uint8_t *scratch, size_t cap, json_path *jp, const json_t *v,
                     int depth)
{
    char where[256];
    size_t n;
    int rc;

    if (json_is_string(v)) {
        if (ct_hex_decode(scratch, cap, &n, json_string_value(v), json_string_length(v)) < 0)
            return ct_error_wrap("rlp: element %s", path_str(where, sizeof(where), jp, depth));
        ct_rlp_put_bytes(w, scratch, n);
        return 0;
    }
    ct_rlp_list_begin(w);
    for (size_t i = 0; i < json_array_size(v); i++) {
        jp->idx[depth] = i;
        if ((rc = emit_json(w, scratch, cap, jp, json_array_get(v, i), depth + 1)) < 0)
            return rc;
    }
    ct_rlp_list_end(w);
    return 0;
}

int ct_rlp_from_json(uint8_t **out, size_t *len, const json_t *v)
{
    json_path jp = {.max_str = 0};
    ct_rlp_writer w;
    uint8_t *buf = NULL, *scratch = NULL;
    size_t size, n;
    int rc;

    if ((rc = measure_json(&size, &jp, v, 0)) < 0)
        goto done;
    buf = malloc(size);
    scratch = malloc(jp.max_str + 1);
    if (buf == NULL || scratch == NULL) {
        rc = ct_error_set(CT_ENOMEM, "rlp: out of memory");
        goto done;
    }
    ct_rlp_writer_init(&w, buf, size);
    if ((rc = emit_json(&w, scratch, jp.max_str + 1, &jp, v, 0)) < 0 ||
        (rc = ct_rlp_finish(&w, &n)) < 0)
        goto done;
    assert(n == size);
    *out = buf;
    *len = n;
    buf = NULL;
done:
    free(buf);
    free(scratch);
    return rc;
}

/* ---------------------------------------------------------------- RLP to JSON */

/* Converts a validated item at depth (0 for the top) into JSON. */
static int item_to_json(json_t **out, const ct_rlp_item *item, int depth)
{
    json_t *arr = NULL, *child = NULL;
    ct_rlp_item sub;
    ct_rlp_iter it;
    int rc;

    if (!item->is_list) {
        if ((*out = ct_json_hex(item->data, item->len)) == NULL)
            return ct_error_set(CT_ENOMEM, "rlp: out of memory");
        return 0;
    }
    if (depth >= CT_RLP_MAX_DEPTH)
        return ct_error_set(CT_ELIMIT, "rlp: lists nested deeper than %d", CT_RLP_MAX_DEPTH);
    if ((arr = json_array()) == NULL)
        return ct_error_set(CT_ENOMEM, "rlp: out of memory");
    ct_rlp_iter_init(&it, item);
    while ((rc = ct_rlp_iter_next(&it, &sub)) == 1) {
        if ((rc = item_to_json(&child, &sub, depth + 1)) < 0)
            goto done;
        /* json_array_append_new releases child even when it fails. */
        if (json_array_append_new(arr, child) < 0) {
            rc = ct_error_set(CT_ENOMEM, "rlp: out of memory");
            goto done;
        }
    }
    if (rc == 0) {
        *out = arr;
        arr = NULL;
    }
done:
    json_decref(arr);
    return rc;
}

int ct_rlp_to_json(json_t **out, const uint8_t *in, size_t len)
{
    ct_rlp_item top;
    int rc;

    if (len > RLP_JSON_MAX_BYTES)
        return ct_error_set(CT_ELIMIT, "rlp: %zu bytes exceed the %zu-byte cap for JSON", len,
                            RLP_JSON_MAX_BYTES);
    if ((rc = ct_rlp_decode(&top, in, len)) < 0)
        return rc;
    return item_to_json(out, &top, 0);
}
