/* One-dimensional bin packing: input checks, packing checks and the greedy
 * packers, first fit decreasing (segment tree) and best fit decreasing
 * (treap), both O(n log n) so they scale to a million items. */
#include "binpack_int.h"

#include <stdlib.h>
#include <string.h>

int ct_binpack_validate(const int64_t *sizes, size_t n, int64_t capacity)
{
    if (n > CT_BINPACK_MAX_ITEMS)
        return ct_error_set(CT_EINVAL, "binpack: %zu items, more than %u", n, CT_BINPACK_MAX_ITEMS);
    if (capacity < 1 || capacity > CT_BINPACK_MAX_SIZE)
        return ct_error_set(CT_EINVAL, "binpack: capacity %lld is not in 1..%lld",
                            (long long)capacity, (long long)CT_BINPACK_MAX_SIZE);
    for (size_t i = 0; i < n; i++) {
        if (sizes[i] < 1 || sizes[i] > capacity)
            return ct_error_set(CT_EINVAL, "binpack: item %zu has size %lld, not in 1..%lld", i,
                                (long long)sizes[i], (long long)capacity);
    }
    return 0;
}

int ct_binpack_verify(const size_t *bin_of, size_t bins, const int64_t *sizes, size_t n,
                      int64_t capacity)
{
    int64_t *load;
    int rc = 0;

    if (n == 0)
        return bins == 0 ? 0 : ct_error_set(CT_EINVAL, "binpack: %zu bins for no items", bins);
    if (bins > n)
        return ct_error_set(CT_EINVAL, "binpack: %zu bins for %zu items", bins, n);
    load = calloc(bins, sizeof(*load));
    if (load == NULL)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (bin_of[i] >= bins)
            rc = ct_error_set(CT_EINVAL, "binpack: item %zu in bin %zu of %zu", i, bin_of[i], bins);
        else
            load[bin_of[i]] += sizes[i];
    }
    for (size_t b = 0; b < bins && rc == 0; b++) {
        if (load[b] == 0)
            rc = ct_error_set(CT_EINVAL, "binpack: bin %zu is empty", b);
        else if (load[b] > capacity)
            rc = ct_error_set(CT_EINVAL, "binpack: bin %zu holds %lld, over capacity %lld", b,
                              (long long)load[b], (long long)capacity);
    }
    free(load);
    return rc;
}

/* ---------------------------------------------------------------- order */

typedef struct keyed {
    int64_t size;
    size_t index;
} keyed;

static int cmp_desc(const void *a, const void *b)
{
    const keyed *x = a, *y = b;

    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

int ct_binpack__order_desc(size_t **out, const int64_t *sizes, size_t n)
{
    keyed *k = malloc((n ? n : 1) * sizeof(*k));
    size_t *order = malloc((n ? n : 1) * sizeof(*order));

    if (k == NULL || order == NULL) {
        free(k);
        free(order);
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (keyed){sizes[i], i};
    qsort(k, n, sizeof(*k), cmp_desc);
    for (size_t i = 0; i < n; i++)
        order[i] = k[i].index;
    free(k);
    *out = order;
    return 0;
}

/* ---------------------------------------------------------------- FFD */

/* Returns: the leftmost leaf (bin) of the max tree whose free space is at
 * least need; the root always qualifies because unopened bins are empty. */
static size_t tree_first_fit(const int64_t *tree, size_t leaves, int64_t need)
{
    size_t node = 1;

    while (node < leaves)
        node = tree[2 * node] >= need ? 2 * node : 2 * node + 1;
    return node - leaves;
}

static void tree_set(int64_t *tree, size_t leaves, size_t bin, int64_t free_space)
{
    size_t node = bin + leaves;

    tree[node] = free_space;
    for (node /= 2; node >= 1; node /= 2) {
        int64_t l = tree[2 * node], r = tree[2 * node + 1];
        tree[node] = l > r ? l : r;
    }
}

int ct_binpack__ffd(size_t *out_bins, size_t *bin_of, const int64_t *sizes, const size_t *order,
                    size_t n, int64_t capacity)
{
    size_t leaves = 1, bins = 0;
    int64_t *tree;

    while (leaves < n)
        leaves *= 2;
    tree = malloc(2 * leaves * sizeof(*tree));
    if (tree == NULL)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    /* Every leaf starts as an empty bin; leaves past n are never reached
     * because n bins always suffice. */
    for (size_t i = 0; i < 2 * leaves; i++)
        tree[i] = capacity;
    for (size_t k = 0; k < n; k++) {
        size_t item = order[k];
        size_t b = tree_first_fit(tree, leaves, sizes[item]);
        tree_set(tree, leaves, b, tree[b + leaves] - sizes[item]);
        bin_of[item] = b;
        if (b + 1 > bins)
            bins = b + 1;
    }
    free(tree);
    *out_bins = bins;
    return 0;
}

/* ---------------------------------------------------------------- BFD */

/* A treap of open bins keyed by (free space, bin), in arrays indexed by
 * bin; NIL marks no child. Priorities come from a fixed seed. */
#define NIL SIZE_MAX

typedef struct treap {
    int64_t *key;
    uint64_t *prio;
    size_t *left, *right;
    size_t root;
} treap;

static bool key_less(const treap *t, size_t a, size_t b)
{
    return t->key[a] < t->key[b] || (t->key[a] == t->key[b] && a < b);
}

/* Splits the subtree at node into keys below bin (*lo) and the rest (*hi). */
static void treap_split(treap *t, size_t node, size_t bin, size_t *lo, size_t *hi)
{
    if (node == NIL) {
        *lo = *hi = NIL;
    } else if (key_less(t, node, bin)) {
        treap_split(t, t->right[node], bin, &t->right[node], hi);
        *lo = node;
    } else {
        treap_split(t, t->left[node], bin, lo, &t->left[node]);
        *hi = node;
    }
}

static size_t treap_merge(treap *t, size_t a, size_t b)
{
    if (a == NIL)
        return b;
    if (b == NIL)
        return a;
    if (t->prio[a] > t->prio[b]) {
        t->right[a] = treap_merge(t, t->right[a], b);
        return a;
    }
    t->left[b] = treap_merge(t, a, t->left[b]);
    return b;
}

static void treap_insert(treap *t, size_t bin)
{
    size_t lo, hi;

    t->left[bin] = t->right[bin] = NIL;
    treap_split(t, t->root, bin, &lo, &hi);
    t->root = treap_merge(t, treap_merge(t, lo, bin), hi);
}

/* Removes bin from the subtree rooted at *node (bin is in it). */
static void treap_erase(treap *t, size_t *node, size_t bin)
{
    while (*node != bin)
        node = key_less(t, bin, *node) ? &t->left[*node] : &t->right[*node];
    *node = treap_merge(t, t->left[bin], t->right[bin]);
}

/* Returns: the open bin with the least free space of at least need, or NIL. */
static size_t treap_best_fit(const treap *t, int64_t need)
{
    size_t node = t->root, best = NIL;

    while (node != NIL) {
        if (t->key[node] >= need) {
            best = node;
            node = t->left[node];
        } else {
            node = t->right[node];
        }
    }
    return best;
}

static void treap_free(treap *t)
{
    free(t->key);
    free(t->prio);
    free(t->left);
    free(t->right);
}

static int treap_init(treap *t, size_t n)
{
    size_t m = n ? n : 1;
    uint64_t seed = 0x243f6a8885a308d3ULL;

    t->key = malloc(m * sizeof(*t->key));
    t->prio = malloc(m * sizeof(*t->prio));
    t->left = malloc(m * sizeof(*t->left));
    t->right = malloc(m * sizeof(*t->right));
    t->root = NIL;
    if (t->key == NULL || t->prio == NULL || t->left == NULL || t->right == NULL) {
        treap_free(t);
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        t->prio[i] = ct_rand_next(&seed);
    return 0;
}

int ct_binpack__bfd(size_t *out_bins, size_t *bin_of, const int64_t *sizes, const size_t *order,
                    size_t n, int64_t capacity)
{
    treap t;
    size_t bins = 0;

    if (treap_init(&t, n) < 0)
        return CT_ENOMEM;
    for (size_t k = 0; k < n; k++) {
        size_t item = order[k];
        size_t b = treap_best_fit(&t, sizes[item]);
        if (b == NIL) {
            b = bins++;
            t.key[b] = capacity - sizes[item];
        } else {
            treap_erase(&t, &t.root, b);
            t.key[b] -= sizes[item];
        }
        bin_of[item] = b;
        /* A full bin can take nothing more: keep the tree small. */
        if (t.key[b] > 0)
            treap_insert(&t, b);
    }
    treap_free(&t);
    *out_bins = bins;
    return 0;
}
