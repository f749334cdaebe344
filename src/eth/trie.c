/* Ethereum's Merkle Patricia trie (Yellow Paper appendix D): the root of a
 * set of key/value pairs, the proof of one key (the nodes from the root to
 * it, as eth_getProof returns them), and the check of such a proof
 * against a root, for present and for absent keys. */
#include "catena/eth.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Longest key, in bytes: 32 for the state and storage tries, a few for
 * the receipts and transactions tries (rlp(index)). */
#define TRIE_MAX_KEY 64
#define TRIE_MAX_NIBBLES (2 * TRIE_MAX_KEY)
/* Largest value: a receipt with many logs can be large; 16 MiB is far
 * above any block's gas limit can pay for. */
#define TRIE_MAX_VALUE ((size_t)16 << 20)

typedef struct trie_pair {
    uint8_t nib[TRIE_MAX_NIBBLES];
    size_t n_nib;
    uint8_t *val;
    size_t val_len;
    size_t seq; /* put order: of equal keys the last put wins */
} trie_pair;

struct ct_trie {
    trie_pair *pairs;
    size_t n, cap;
    size_t puts; /* number of puts so far, for trie_pair.seq */
    bool sorted;
};

/* A node's encoding, or its reference in its parent: the encoding itself
 * when shorter than 32 bytes, else its keccak. */
typedef struct node_enc {
    uint8_t *data;
    size_t len;
} node_enc;

/* Where the proof of a key is being collected while the trie is built. */
typedef struct prover {
    const uint8_t *nib; /* the key's nibbles */
    size_t n_nib;
    ct_bytes *nodes; /* collected deepest first */
    size_t n;
    int rc;
} prover;

static void key_nibbles(uint8_t *nib, const uint8_t *key, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        nib[2 * i] = key[i] >> 4;
        nib[2 * i + 1] = key[i] & 15;
    }
}

int ct_trie_new(ct_trie **out)
{
    if ((*out = calloc(1, sizeof(**out))) == NULL)
        return ct_error_set(CT_ENOMEM, "trie: out of memory");
    (*out)->sorted = true;
    return 0;
}

void ct_trie_free(ct_trie *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->pairs[i].val);
    free(t->pairs);
    free(t);
}

size_t ct_trie_size(const ct_trie *t)
{
    return t->n;
}

static int pair_cmp(const void *a, const void *b)
{
    const trie_pair *x = a, *y = b;
    size_t n = x->n_nib < y->n_nib ? x->n_nib : y->n_nib;
    int c = memcmp(x->nib, y->nib, n);

    if (c != 0)
        return c;
    return x->n_nib < y->n_nib ? -1 : x->n_nib > y->n_nib;
}

int ct_trie_put(ct_trie *t, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    trie_pair *p;

    if (key_len > TRIE_MAX_KEY)
        return ct_error_set(CT_ELIMIT, "trie: key of %zu bytes (at most %d)", key_len,
                            TRIE_MAX_KEY);
    if (val_len > TRIE_MAX_VALUE)
        return ct_error_set(CT_ELIMIT, "trie: value of %zu bytes (at most %zu)", val_len,
                            TRIE_MAX_VALUE);
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        trie_pair *np = realloc(t->pairs, cap * sizeof(*np));
        if (np == NULL)
            return ct_error_set(CT_ENOMEM, "trie: out of memory");
        t->pairs = np;
        t->cap = cap;
    }
    p = &t->pairs[t->n];
    /* An empty value deletes: it is kept until sorting as a tombstone. */
    if (val_len == 0)
        p->val = NULL;
    else if ((p->val = malloc(val_len)) == NULL)
        return ct_error_set(CT_ENOMEM, "trie: out of memory");
    else
        memcpy(p->val, val, val_len);
    p->val_len = val_len;
    p->seq = t->puts++;
    p->n_nib = 2 * key_len;
    key_nibbles(p->nib, key, key_len);
    if (t->n > 0 && t->sorted && (val_len == 0 || pair_cmp(&t->pairs[t->n - 1], p) >= 0))
        t->sorted = false;
    t->n++;
    return 0;
}

static int pair_seq_cmp(const void *a, const void *b)
{
    const trie_pair *x = a, *y = b;
    int c = pair_cmp(a, b);

    return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sorts the pairs; of equal keys the last put wins. */
static void trie_sort(ct_trie *t)
{
    size_t w = 0;

    if (t->sorted)
        return;
    qsort(t->pairs, t->n, sizeof(*t->pairs), pair_seq_cmp);
    for (size_t i = 0; i < t->n; i++) {
        if (w > 0 && pair_cmp(&t->pairs[w - 1], &t->pairs[i]) == 0) {
            free(t->pairs[w - 1].val);
            t->pairs[w - 1] = t->pairs[i];
            continue;
        }
        t->pairs[w++] = t->pairs[i];
    }
    t->n = w;
    for (size_t i = w = 0; i < t->n; i++)
        if (t->pairs[i].val != NULL)
            t->pairs[w++] = t->pairs[i];
    t->n = w;
    t->sorted = true;
}

/* ---------------------------------------------------------------- building */

/* Writes the hex-prefix form of nibbles (Yellow Paper appendix C). */
static size_t hex_prefix(uint8_t *out, const uint8_t *nib, size_t n, bool leaf)
{
    size_t len = 1 + n / 2;
    size_t i = 0;

    out[0] = (uint8_t)((leaf ? 0x20 : 0) | (n % 2 ? 0x10 | nib[i++] : 0));
    for (size_t o = 1; o < len; o++, i += 2)
        out[o] = (uint8_t)(nib[i] << 4 | nib[i + 1]);
    return len;
}

/* Room for an RLP string or list header in front of n bytes. */
static size_t rlp_room(size_t n)
{
    return n + 9;
}

static int node_finish(node_enc *out, uint8_t *buf, ct_rlp_writer *w)
{
    size_t len;
    int rc = ct_rlp_finish(w, &len);

    if (rc < 0) {
        free(buf);
        return rc;
    }
    out->data = buf;
    out->len = len;
    return 0;
}

/* Puts a child's reference: embedded when short, else its hash. */
static void put_ref(ct_rlp_writer *w, const node_enc *child)
{
    uint8_t h[32];

    if (child->len < 32) {
        /* The child's encoding is copied as is: an embedded list. */
        if (w->err == 0 && w->len + child->len <= w->cap) {
            memcpy(w->buf + w->len, child->data, child->len);
            w->len += child->len;
        } else if (w->err == 0) {
            w->err = CT_ELIMIT;
        }
        return;
    }
    ct_keccak256(h, child->data, child->len);
    ct_rlp_put_bytes(w, h, 32);
}

static void prover_add(prover *pv, const node_enc *node, bool root)
{
    ct_bytes *np;

    if (pv == NULL || pv->rc < 0 || (!root && node->len < 32))
        return;
    if ((np = realloc(pv->nodes, (pv->n + 1) * sizeof(*np))) == NULL ||
        (np[pv->n].data = malloc(node->len)) == NULL) {
        if (np != NULL)
            pv->nodes = np;
        pv->rc = ct_error_set(CT_ENOMEM, "trie: out of memory");
        return;
    }
    pv->nodes = np;
    memcpy(np[pv->n].data, node->data, node->len);
    np[pv->n].len = node->len;
    pv->n++;
}

/* Whether the proven key runs through the node at depth d that holds
 * pairs sharing the prefix of p. */
static bool on_path(const prover *pv, const trie_pair *p, size_t d)
{
    return pv != NULL && pv->n_nib >= d && memcmp(pv->nib, p->nib, d) == 0;
}

static int encode(node_enc *out, const trie_pair *p, size_t n, size_t d, prover *pv);

static int encode_leaf(node_enc *out, const trie_pair *p, size_t d)
{
    uint8_t path[1 + TRIE_MAX_KEY];
    size_t plen = hex_prefix(path, p->nib + d, p->n_nib - d, true);
    size_t cap = rlp_room(rlp_room(plen) + rlp_room(p->val_len));
    uint8_t *buf = malloc(cap);
    ct_rlp_writer w;

    if (buf == NULL)
        return ct_error_set(CT_ENOMEM, "trie: out of memory");
    ct_rlp_writer_init(&w, buf, cap);
    ct_rlp_list_begin(&w);
    ct_rlp_put_bytes(&w, path, plen);
    ct_rlp_put_bytes(&w, p->val, p->val_len);
    ct_rlp_list_end(&w);
    return node_finish(out, buf, &w);
}

static int encode_extension(node_enc *out, const trie_pair *p, size_t n, size_t d, size_t cp,
                            prover *pv)
{
    uint8_t path[1 + TRIE_MAX_KEY];
    size_t plen = hex_prefix(path, p->nib + d, cp, false);
    node_enc child = {0};
    uint8_t *buf;
    ct_rlp_writer w;
    int rc;

    if ((rc = encode(&child, p, n, d + cp, pv)) < 0)
        return rc;
    if ((buf = malloc(rlp_room(rlp_room(plen) + rlp_room(child.len)))) == NULL) {
        free(child.data);
        return ct_error_set(CT_ENOMEM, "trie: out of memory");
    }
    ct_rlp_writer_init(&w, buf, rlp_room(rlp_room(plen) + rlp_room(child.len)));
    ct_rlp_list_begin(&w);
    ct_rlp_put_bytes(&w, path, plen);
    put_ref(&w, &child);
    ct_rlp_list_end(&w);
    free(child.data);
    return node_finish(out, buf, &w);
}

static int encode_branch(node_enc *out, const trie_pair *p, size_t n, size_t d, prover *pv)
{
    /* 16 references of at most 33 bytes and the value. */
    const trie_pair *value = p[0].n_nib == d ? &p[0] : NULL;
    size_t i = value != NULL ? 1 : 0;
    size_t cap = rlp_room(16 * 33 + rlp_room(value ? value->val_len : 0));
    uint8_t *buf = malloc(cap);
    ct_rlp_writer w;
    int rc = 0;

    if (buf == NULL)
        return ct_error_set(CT_ENOMEM, "trie: out of memory");
    ct_rlp_writer_init(&w, buf, cap);
    ct_rlp_list_begin(&w);
    for (uint8_t nib = 0; nib < 16 && rc == 0; nib++) {
        size_t j = i;
        node_enc child = {0};
        while (j < n && p[j].nib[d] == nib)
            j++;
        if (j == i) {
            ct_rlp_put_bytes(&w, NULL, 0);
            continue;
        }
        if ((rc = encode(&child, p + i, j - i, d + 1, pv)) == 0)
            put_ref(&w, &child);
        free(child.data);
        i = j;
    }
    if (value != NULL)
        ct_rlp_put_bytes(&w, value->val, value->val_len);
    else
        ct_rlp_put_bytes(&w, NULL, 0);
    ct_rlp_list_end(&w);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    return node_finish(out, buf, &w);
}

/* Encodes the node holding the n sorted pairs p, which share their first d
 * nibbles, and adds it to the proof when the proven key runs through it. */
static int encode(node_enc *out, const trie_pair *p, size_t n, size_t d, prover *pv)
{
    const trie_pair *last = &p[n - 1];
    size_t cp = 0;
    int rc;

    if (n == 1) {
        rc = encode_leaf(out, p, d);
    } else {
        /* Sorted: the first and last keys share what all of them share. */
        while (d + cp < p[0].n_nib && d + cp < last->n_nib && p[0].nib[d + cp] == last->nib[d + cp])
            cp++;
        rc = cp > 0 ? encode_extension(out, p, n, d, cp, pv) : encode_branch(out, p, n, d, pv);
    }
    if (rc == 0 && on_path(pv, p, d))
        prover_add(pv, out, d == 0);
    return rc;
}

int ct_trie_root(ct_trie *t, uint8_t out[32])
{
    static const uint8_t empty = 0x80;
    node_enc root = {0};
    int rc;

    trie_sort(t);
    if (t->n == 0) {
        ct_keccak256(out, &empty, 1);
        return 0;
    }
    if ((rc = encode(&root, t->pairs, t->n, 0, NULL)) < 0)
        return rc;
    ct_keccak256(out, root.data, root.len);
    free(root.data);
    return 0;
}

void ct_trie_proof_free(ct_bytes *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(nodes[i].data);
    free(nodes);
}

int ct_trie_prove(ct_trie *t, ct_bytes **nodes, size_t *n, const uint8_t *key, size_t key_len)
{
    uint8_t nib[TRIE_MAX_NIBBLES];
    prover pv = {.nib = nib, .n_nib = 2 * key_len};
    node_enc root = {0};
    int rc;

    if (key_len > TRIE_MAX_KEY)
        return ct_error_set(CT_ELIMIT, "trie: key of %zu bytes (at most %d)", key_len,
                            TRIE_MAX_KEY);
    key_nibbles(nib, key, key_len);
    trie_sort(t);
    if (t->n == 0) {
        *nodes = NULL;
        *n = 0;
        return 0;
    }
    rc = encode(&root, t->pairs, t->n, 0, &pv);
    free(root.data);
    if (rc == 0)
        rc = pv.rc;
    if (rc < 0) {
        ct_trie_proof_free(pv.nodes, pv.n);
        return rc;
    }
    /* Collected deepest first; a proof runs from the root. */
    for (size_t i = 0; i < pv.n / 2; i++) {
        ct_bytes tmp = pv.nodes[i];
        pv.nodes[i] = pv.nodes[pv.n - 1 - i];
        pv.nodes[pv.n - 1 - i] = tmp;
    }
    *nodes = pv.nodes;
    *n = pv.n;
    return 0;
}

/* ---------------------------------------------------------------- verifying */

/* Where a proof walk is: the key's nibbles left, the node to read. */
typedef struct walk {
    const uint8_t *nib;
    size_t left;
    const ct_bytes *nodes;
    size_t n_nodes;
    size_t next; /* index of the next proof node to use */
    uint8_t want[32];
} walk;

/* Follows a reference: a 32-byte hash names the next proof node, a list
 * is the next node itself. Out: *node the node to read. */
static int follow(walk *w, ct_rlp_item *node, const ct_rlp_item *ref)
{
    if (ref->is_list) {
        /* An embedded node, shorter than a hash with its one-byte header. */
        if (ref->len + 1 >= 32)
            return ct_error_set(CT_EPARSE, "trie proof: an embedded node of %zu bytes",
                                ref->len + 1);
        *node = *ref;
        return 0;
    }
    if (ref->len != 32)
        return ct_error_set(CT_EPARSE, "trie proof: a reference of %zu bytes", ref->len);
    memcpy(w->want, ref->data, 32);
    return 1;
}

/* Reads the next proof node, which must hash to w->want. */
static int next_node(walk *w, ct_rlp_item *node)
{
    uint8_t h[32];
    const ct_bytes *b;

    if (w->next >= w->n_nodes)
        return ct_error_set(CT_EPARSE, "trie proof: node %zu is missing", w->next);
    b = &w->nodes[w->next];
    ct_keccak256(h, b->data, b->len);
    if (memcmp(h, w->want, 32) != 0)
        return ct_error_set(CT_EPARSE, "trie proof: node %zu does not hash to its reference",
                            w->next);
    w->next++;
    if (ct_rlp_decode(node, b->data, b->len) < 0 || !node->is_list)
        return ct_error_set(CT_EPARSE, "trie proof: node %zu is not an RLP list", w->next - 1);
    return 0;
}

/* Decodes a hex-prefix path into nibbles. Returns: 0 or CT_EPARSE. */
static int read_path(uint8_t *nib, size_t *n, bool *leaf, const ct_rlp_item *it)
{
    uint8_t flag;

    if (it->is_list || it->len == 0 || it->len > 1 + TRIE_MAX_KEY)
        return ct_error_set(CT_EPARSE, "trie proof: malformed node path");
    flag = it->data[0] >> 4;
    if (flag > 3 || ((flag & 1) == 0 && (it->data[0] & 15) != 0))
        return ct_error_set(CT_EPARSE, "trie proof: malformed node path flag");
    *leaf = flag >= 2;
    *n = 0;
    if (flag & 1)
        nib[(*n)++] = it->data[0] & 15;
    for (size_t i = 1; i < it->len; i++) {
        nib[(*n)++] = it->data[i] >> 4;
        nib[(*n)++] = it->data[i] & 15;
    }
    return 0;
}

/* Reads up to max items of a list. Returns: the count or CT_EPARSE. */
static int list_items(ct_rlp_item *items, int max, const ct_rlp_item *list)
{
    ct_rlp_iter it;
    int n = 0, rc;

    ct_rlp_iter_init(&it, list);
    while ((rc = ct_rlp_iter_next(&it, &items[n < max ? n : max - 1])) == 1)
        n++;
    if (rc < 0)
        return rc;
    return n;
}

/* One step of the walk at node. Returns: 1 to go on (node replaced), 0
 * with *val set or NULL (absent), or an error. */
static int step(walk *w, ct_rlp_item *node, ct_rlp_item **val, ct_rlp_item *slot)
{
    ct_rlp_item items[17];
    uint8_t path[TRIE_MAX_NIBBLES + 1];
    size_t plen = 0;
    bool leaf = false;
    int n = list_items(items, 17, node), rc;
    const ct_rlp_item *ref;

    if (n < 0)
        return n;
    if (n == 17) {
        if (w->left == 0) {
            *slot = items[16];
            *val = slot->len > 0 && !slot->is_list ? slot : NULL;
            return 0;
        }
        ref = &items[*w->nib];
        w->nib++;
        w->left--;
    } else if (n == 2) {
        if ((rc = read_path(path, &plen, &leaf, &items[0])) < 0)
            return rc;
        if (plen > w->left || memcmp(path, w->nib, plen) != 0) {
            *val = NULL; /* the key leaves the trie here */
            return 0;
        }
        w->nib += plen;
        w->left -= plen;
        if (leaf) {
            *slot = items[1];
            *val = w->left == 0 && !slot->is_list ? slot : NULL;
            return 0;
        }
        ref = &items[1];
    } else {
        return ct_error_set(CT_EPARSE, "trie proof: a node of %d items", n);
    }
    if (!ref->is_list && ref->len == 0) {
        *val = NULL;
        return 0;
    }
    if ((rc = follow(w, node, ref)) == 1)
        rc = next_node(w, node);
    return rc < 0 ? rc : 1;
}

int ct_trie_verify(const uint8_t **val, size_t *val_len, const uint8_t root[32], const uint8_t *key,
                   size_t key_len, const ct_bytes *nodes, size_t n)
{
    static const uint8_t empty = 0x80;
    uint8_t nib[TRIE_MAX_NIBBLES], h[32];
    walk w = {.nib = nib, .left = 2 * key_len, .nodes = nodes, .n_nodes = n};
    ct_rlp_item node, slot, *found = NULL;
    int rc, steps = 0;

    if (key_len > TRIE_MAX_KEY)
        return ct_error_set(CT_ELIMIT, "trie proof: key of %zu bytes", key_len);
    key_nibbles(nib, key, key_len);
    ct_keccak256(h, &empty, 1);
    if (n == 0) /* only the empty trie proves anything with no nodes */
        return memcmp(h, root, 32) == 0
                   ? CT_ENOTFOUND
                   : ct_error_set(CT_EPARSE, "trie proof: no nodes for a non-empty root");
    memcpy(w.want, root, 32);
    if ((rc = next_node(&w, &node)) < 0)
        return rc;
    while ((rc = step(&w, &node, &found, &slot)) == 1)
        if (++steps > TRIE_MAX_NIBBLES + 1)
            return ct_error_set(CT_EPARSE, "trie proof: path too long");
    if (rc < 0)
        return rc;
    if (w.next != n)
        return ct_error_set(CT_EPARSE, "trie proof: %zu nodes past the end of the path",
                            n - w.next);
    if (found == NULL)
        return CT_ENOTFOUND;
    *val = found->data;
    *val_len = found->len;
    return 0;
}
