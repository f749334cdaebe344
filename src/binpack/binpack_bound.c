/* Lower bounds on the number of bins: L1 (total size over capacity) and
 * Martello and Toth's L2, in O(n log n) over the sorted sizes. A packing
 * that meets the bound is proven optimal. */
#include "binpack_int.h"

#include <stdlib.h>

static int cmp_asc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Returns: how many of the n ascending values are below v (or at most v
 * when inclusive). */
static size_t count_below(const int64_t *a, size_t n, int64_t v, bool inclusive)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v || (inclusive && a[mid] == v))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return a <= 0 ? 0 : (a + b - 1) / b;
}

/* L(K) of Martello and Toth for ascending sizes a with prefix sums sum
 * (sum[i] is the total of a[0..i-1]): items above c - K need a bin each,
 * so do items above c/2, and the items in K..c/2 can only use what the
 * latter leave free. */
static int64_t bound_for_k(const int64_t *a, const int64_t *sum, size_t n, int64_t c, int64_t k)
{
    size_t upto_big = count_below(a, n, c - k, true);  /* items <= c - K */
    size_t upto_half = count_below(a, n, c / 2, true); /* items <= c/2 */
    size_t below_k = count_below(a, n, k, false);      /* items < K */
    int64_t n1 = (int64_t)(n - upto_big);
    int64_t n2 = upto_big > upto_half ? (int64_t)(upto_big - upto_half) : 0;
    int64_t sum2 = upto_big > upto_half ? sum[upto_big] - sum[upto_half] : 0;
    int64_t sum3 = upto_half > below_k ? sum[upto_half] - sum[below_k] : 0;

    return n1 + n2 + ceil_div(sum3 - (n2 * c - sum2), c);
}

/* The bound over ascending sizes a (n entries, valid input). */
static int bound_sorted(size_t *out, const int64_t *a, size_t n, int64_t capacity)
{
    int64_t *sum = malloc((n + 1) * sizeof(*sum)), best;

    if (sum == NULL)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    sum[0] = 0;
    for (size_t i = 0; i < n; i++)
        sum[i + 1] = sum[i] + a[i];
    best = ceil_div(sum[n], capacity); /* L1 */
    /* L(K) only changes at the sizes themselves, so K = 0 and every
     * distinct size up to c/2 covers all cases. */
    for (size_t i = 0; i <= n; i++) {
        int64_t k = i == 0 ? 0 : a[i - 1];
        if (i > 0 && (k > capacity / 2 || (i > 1 && a[i - 2] == k)))
            continue;
        int64_t l = bound_for_k(a, sum, n, capacity, k);
        if (l > best)
            best = l;
    }
    free(sum);
    *out = (size_t)best;
    return 0;
}

int ct_binpack_lower_bound(size_t *out, const int64_t *sizes, size_t n, int64_t capacity)
{
    int64_t *a;
    int rc = ct_binpack_validate(sizes, n, capacity);

    if (rc < 0)
        return rc;
    a = malloc((n ? n : 1) * sizeof(*a));
    if (a == NULL)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    for (size_t i = 0; i < n; i++)
        a[i] = sizes[i];
    qsort(a, n, sizeof(*a), cmp_asc);
    rc = bound_sorted(out, a, n, capacity);
    free(a);
    return rc;
}

int ct_binpack__lower_bound_ordered(size_t *out, const int64_t *sizes, const size_t *order,
                                    size_t n, int64_t capacity)
{
    int64_t *a = malloc((n ? n : 1) * sizeof(*a));
    int rc;

    if (a == NULL)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    for (size_t i = 0; i < n; i++)
        a[i] = sizes[order[n - 1 - i]];
    rc = bound_sorted(out, a, n, capacity);
    free(a);
    return rc;
}
