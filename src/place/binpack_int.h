/* Shared between the bin packing files of src/place (binpack*.c): item
 * ordering, the greedy packers and the improvement search. */
#ifndef CATENA_PLACE_BINPACK_INT_H
#define CATENA_PLACE_BINPACK_INT_H

#include "catena/binpack.h"

/* Out: *out is a new array (caller frees) of the n item indices by size,
 * largest first, equal sizes by index, so every packer is deterministic.
 * Returns: 0 or CT_ENOMEM. */
int ct_binpack__order_desc(size_t **out, const int64_t *sizes, size_t n);

/* ct_binpack_lower_bound for valid input already ordered (largest first)
 * by ct_binpack__order_desc, which saves a second sort.
 * Returns: 0 or CT_ENOMEM. */
int ct_binpack__lower_bound_ordered(size_t *out, const int64_t *sizes, const size_t *order,
                                    size_t n, int64_t capacity);

/* First fit decreasing over a max segment tree of the bins' free space.
 * Args: order from ct_binpack__order_desc. Inputs are valid.
 * Returns: 0 or CT_ENOMEM. */
int ct_binpack__ffd(size_t *out_bins, size_t *bin_of, const int64_t *sizes, const size_t *order,
                    size_t n, int64_t capacity);

/* Best fit decreasing over a treap of the open bins keyed by free space.
 * Returns: 0 or CT_ENOMEM. */
int ct_binpack__bfd(size_t *out_bins, size_t *bin_of, const int64_t *sizes, const size_t *order,
                    size_t n, int64_t capacity);

#endif /* CATENA_PLACE_BINPACK_INT_H */
