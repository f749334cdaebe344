/* Vector bin packing for VM placement: items and bins have several
 * dimensions (CPU, RAM, ...), an item fits where every dimension fits.
 * First fit decreasing over segment trees of the bins' free space. */
#include "binpack_int.h"

#include <stdlib.h>
#include <string.h>

#define VEC_VISITS_MAX 4096 /* tree nodes one first fit query may visit */

static int vec_validate(const int64_t *sizes, size_t n, size_t dims, const int64_t *capacity)
{
    if (dims < 1 || dims > CT_BINPACK_MAX_DIMS)
        return ct_error_set(CT_EINVAL, "binpack: %zu dimensions, not in 1..%d", dims,
                            CT_BINPACK_MAX_DIMS);
    if (n > CT_BINPACK_MAX_ITEMS)
        return ct_error_set(CT_EINVAL, "binpack: %zu items, more than %u", n, CT_BINPACK_MAX_ITEMS);
    for (size_t k = 0; k < dims; k++)
        if (capacity[k] < 1 || capacity[k] > CT_BINPACK_MAX_SIZE)
            return ct_error_set(CT_EINVAL,
                                "binpack: capacity %lld of dimension %zu is not in 1..%lld",
                                (long long)capacity[k], k, (long long)CT_BINPACK_MAX_SIZE);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < dims; k++)
            if (sizes[i * dims + k] < 0 || sizes[i * dims + k] > capacity[k])
                return ct_error_set(
                    CT_EINVAL, "binpack: item %zu has size %lld in dimension %zu, not in 0..%lld",
                    i, (long long)sizes[i * dims + k], k, (long long)capacity[k]);
    return 0;
}

typedef struct vkey {
    double sum;   /* the item's shares of a bin's capacity, added up: the order */
    double share; /* its largest share, 0..1 */
    const int64_t *size;
    size_t dims, index;
} vkey;

static int cmp_vkey(const void *a, const void *b)
{
    const vkey *x = a, *y = b;

    if (x->sum != y->sum)
        return x->sum > y->sum ? -1 : 1;
    if (x->share != y->share)
        return x->share > y->share ? -1 : 1;
    /* Equal items side by side: each can start where the last one went. */
    for (size_t k = 0; k < x->dims; k++)
        if (x->size[k] != y->size[k])
            return x->size[k] > y->size[k] ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

/* Two max segment trees over the bins: the free space per dimension (node
 * v holds tree[v * dims + k]) and the bottleneck, the least share of a
 * dimension's capacity still free (a bin whose bottleneck is at least an
 * item's largest share surely takes it). */
typedef struct vtree {
    int64_t *tree;
    double *bottleneck;
    const int64_t *capacity;
    size_t leaves, dims;
} vtree;

static bool node_fits(const vtree *t, size_t node, const int64_t *need)
{
    for (size_t k = 0; k < t->dims; k++)
        if (t->tree[node * t->dims + k] < need[k])
            return false;
    return true;
}

/* Returns: the leftmost bin from `from` on, in the subtree of node (bins
 * lo..lo+width-1), where need fits, or SIZE_MAX. A node's maxima may come
 * from different bins, so the search backtracks; *visits caps it. */
static size_t vtree_first_fit(const vtree *t, size_t node, size_t lo, size_t width, size_t from,
                              const int64_t *need, size_t *visits)
{
    if (lo + width <= from || *visits == 0 || !node_fits(t, node, need))
        return SIZE_MAX;
    --*visits;
    if (node >= t->leaves)
        return lo;
    width /= 2;
    size_t left = vtree_first_fit(t, 2 * node, lo, width, from, need, visits);
    if (left != SIZE_MAX)
        return left;
    return vtree_first_fit(t, 2 * node + 1, lo + width, width, from, need, visits);
}

/* Returns: the leftmost bin whose bottleneck is at least share, if it
 * really fits need (rounding aside, it does), else SIZE_MAX. */
static size_t vtree_sure_fit(const vtree *t, double share, const int64_t *need)
{
    size_t node = 1;

    while (node < t->leaves)
        node = t->bottleneck[2 * node] >= share ? 2 * node : 2 * node + 1;
    return node_fits(t, node, need) ? node - t->leaves : SIZE_MAX;
}

static void vtree_take(vtree *t, size_t bin, const int64_t *size)
{
    size_t node = bin + t->leaves, d = t->dims;
    double low = 1.0;

    for (size_t k = 0; k < d; k++) {
        double share;
        t->tree[node * d + k] -= size[k];
        share = (double)t->tree[node * d + k] / (double)t->capacity[k];
        if (share < low)
            low = share;
    }
    t->bottleneck[node] = low;
    for (node /= 2; node >= 1; node /= 2) {
        for (size_t k = 0; k < d; k++) {
            int64_t l = t->tree[2 * node * d + k], r = t->tree[(2 * node + 1) * d + k];
            t->tree[node * d + k] = l > r ? l : r;
        }
        t->bottleneck[node] = t->bottleneck[2 * node] > t->bottleneck[2 * node + 1]
                                  ? t->bottleneck[2 * node]
                                  : t->bottleneck[2 * node + 1];
    }
}

static int vec_order(vkey **out, const int64_t *sizes, size_t n, size_t dims,
                     const int64_t *capacity)
{
    vkey *keys = malloc((n ? n : 1) * sizeof(*keys));

    if (keys == NULL)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    for (size_t i = 0; i < n; i++) {
        keys[i] = (vkey){0, 0, &sizes[i * dims], dims, i};
        for (size_t k = 0; k < dims; k++) {
            double share = (double)sizes[i * dims + k] / (double)capacity[k];
            if (share > keys[i].share)
                keys[i].share = share;
            keys[i].sum += share;
        }
    }
    qsort(keys, n, sizeof(*keys), cmp_vkey);
    *out = keys;
    return 0;
}

int ct_binpack_vec_ffd(size_t *out_bins, size_t *bin_of, const int64_t *sizes, size_t n,
                       size_t dims, const int64_t *capacity)
{
    vtree t = {NULL, NULL, capacity, 1, dims};
    vkey *keys = NULL;
    size_t bins = 0;
    int rc;

    if ((rc = vec_validate(sizes, n, dims, capacity)) < 0 ||
        (rc = vec_order(&keys, sizes, n, dims, capacity)) < 0)
        return rc;
    while (t.leaves < n)
        t.leaves *= 2;
    t.tree = malloc(2 * t.leaves * dims * sizeof(*t.tree));
    t.bottleneck = malloc(2 * t.leaves * sizeof(*t.bottleneck));
    if (t.tree == NULL || t.bottleneck == NULL) {
        free(t.tree);
        free(t.bottleneck);
        free(keys);
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    }
    for (size_t v = 0; v < 2 * t.leaves; v++) {
        memcpy(&t.tree[v * dims], capacity, dims * sizeof(*capacity));
        t.bottleneck[v] = 1.0;
    }
    for (size_t j = 0, from = 0; j < n; j++) {
        const int64_t *size = keys[j].size;
        size_t visits = VEC_VISITS_MAX;
        /* Bins only fill up: where an equal item did not fit, this one
         * does not either. */
        if (j == 0 || memcmp(size, keys[j - 1].size, dims * sizeof(*size)) != 0)
            from = 0;
        size_t b = vtree_first_fit(&t, 1, 0, t.leaves, from, size, &visits);
        if (b == SIZE_MAX)
            b = vtree_sure_fit(&t, keys[j].share, size);
        if (b == SIZE_MAX)
            b = bins; /* the next unopened bin: it is empty, every item fits */
        vtree_take(&t, b, size);
        bin_of[keys[j].index] = b;
        from = b;
        if (b + 1 > bins)
            bins = b + 1;
    }
    free(t.tree);
    free(t.bottleneck);
    free(keys);
    *out_bins = bins;
    return 0;
}

int ct_binpack_vec_lower_bound(size_t *out, const int64_t *sizes, size_t n, size_t dims,
                               const int64_t *capacity)
{
    int rc = vec_validate(sizes, n, dims, capacity);
    size_t best = 0;

    if (rc < 0)
        return rc;
    for (size_t k = 0; k < dims; k++) {
        int64_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += sizes[i * dims + k];
        size_t l1 = (size_t)((sum + capacity[k] - 1) / capacity[k]);
        if (l1 > best)
            best = l1;
    }
    /* Items that are all zero still need one bin. */
    *out = best == 0 && n > 0 ? 1 : best;
    return 0;
}

int ct_binpack_vec_verify(const size_t *bin_of, size_t bins, const int64_t *sizes, size_t n,
                          size_t dims, const int64_t *capacity)
{
    int64_t *load;
    size_t *count;
    int rc = vec_validate(sizes, n, dims, capacity);

    if (rc < 0)
        return rc;
    if (bins > n)
        return ct_error_set(CT_EINVAL, "binpack: %zu bins for %zu items", bins, n);
    load = calloc(bins ? bins * dims : 1, sizeof(*load));
    count = calloc(bins ? bins : 1, sizeof(*count));
    if (load == NULL || count == NULL) {
        free(load);
        free(count);
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (bin_of[i] >= bins) {
            rc = ct_error_set(CT_EINVAL, "binpack: item %zu in bin %zu of %zu", i, bin_of[i], bins);
            break;
        }
        count[bin_of[i]]++;
        for (size_t k = 0; k < dims; k++)
            load[bin_of[i] * dims + k] += sizes[i * dims + k];
    }
    for (size_t b = 0; b < bins && rc == 0; b++) {
        if (count[b] == 0)
            rc = ct_error_set(CT_EINVAL, "binpack: bin %zu is empty", b);
        for (size_t k = 0; k < dims && rc == 0; k++)
            if (load[b * dims + k] > capacity[k])
                rc = ct_error_set(CT_EINVAL,
                                  "binpack: bin %zu holds %lld in dimension %zu, over %lld", b,
                                  (long long)load[b * dims + k], k, (long long)capacity[k]);
    }
    free(load);
    free(count);
    return rc;
}
