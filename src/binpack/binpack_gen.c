/* Generators of bin packing instances from the literature, for tests and
 * benchmarks on data the search was not tuned on: Falkenauer's triplets
 * (1996), whose optimum is known by construction. */
#include "catena/binpack.h"
#include "catena/util.h"

/* Uniform in [lo, hi]. */
static int64_t uniform(uint64_t *s, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(ct_rand_next(s) % (uint64_t)(hi - lo + 1));
}

int ct_binpack_gen_triplets(int64_t *sizes, size_t n_triplets, uint64_t seed)
{
    uint64_t s = seed;
    size_t n = 3 * n_triplets;

    if (n_triplets == 0 || n > CT_BINPACK_MAX_ITEMS)
        return ct_error_set(CT_EINVAL, "binpack: %zu triplets (1 to %u)", n_triplets,
                            CT_BINPACK_MAX_ITEMS / 3);
    /* Falkenauer: the first item uniform in [380, 490]; the second in
     * [250, space / 2] of the space left; the third fills the bin. All
     * three lie in [250, 500), so no bin holds more than three. */
    for (size_t t = 0; t < n_triplets; t++) {
        int64_t a = uniform(&s, 380, 490), space = CT_BINPACK_TRIPLET_CAPACITY - a;
        int64_t b = uniform(&s, 250, space / 2);
        sizes[3 * t] = a;
        sizes[3 * t + 1] = b;
        sizes[3 * t + 2] = space - b;
    }
    /* Shuffled (Fisher-Yates), so the bins are not in the input order. */
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(ct_rand_next(&s) % (i + 1));
        int64_t x = sizes[i];
        sizes[i] = sizes[j];
        sizes[j] = x;
    }
    return 0;
}
