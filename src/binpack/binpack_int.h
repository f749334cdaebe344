/* Shared between the bin packing files of src/binpack: item
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

/* Items in bins as doubly linked lists, with each bin's count and load:
 * the searches' common state. */
typedef struct ct_binpack__lists {
    const int64_t *size;
    size_t *bin_of, *next, *prev; /* per item: its bin, its neighbours there */
    size_t *head, *count;         /* per bin: first item, items */
    int64_t *load;                /* per bin */
} ct_binpack__lists;

#define CT_BINPACK__NIL SIZE_MAX

static inline void ct_binpack__list_remove(ct_binpack__lists *l, size_t item)
{
    size_t b = l->bin_of[item];

    if (l->prev[item] != CT_BINPACK__NIL)
        l->next[l->prev[item]] = l->next[item];
    else
        l->head[b] = l->next[item];
    if (l->next[item] != CT_BINPACK__NIL)
        l->prev[l->next[item]] = l->prev[item];
    l->count[b]--;
    l->load[b] -= l->size[item];
}

static inline void ct_binpack__list_add(ct_binpack__lists *l, size_t item, size_t b)
{
    l->bin_of[item] = b;
    l->prev[item] = CT_BINPACK__NIL;
    l->next[item] = l->head[b];
    if (l->head[b] != CT_BINPACK__NIL)
        l->prev[l->head[b]] = item;
    l->head[b] = item;
    l->count[b]++;
    l->load[b] += l->size[item];
}

/* Slots of the searches' tabu tables. The tabu attribute is (bin, size),
 * not (bin, item): with many items of equal size, forbidding one item
 * would let its twin undo the move. */
#define CT_BINPACK__TABU_SLOTS 8192

/* The tabu table slot of an item of `size` going to (or from) bin b. */
static inline size_t ct_binpack__tabu_slot(int64_t size, size_t b)
{
    uint64_t h = (uint64_t)size * 0x9e3779b97f4a7c15ULL;

    h ^= (uint64_t)b * 0xc2b2ae3d27d4eb4fULL;
    return (size_t)((h ^ (h >> 29)) % CT_BINPACK__TABU_SLOTS);
}

/* What a search may still spend: move evaluations and a deadline
 * (ct_time_mono_ms(); 0: none). */
typedef struct ct_binpack__budget {
    uint64_t evals_left;
    int64_t deadline_ms;
} ct_binpack__budget;

/* The tabu search on the overflow (binpack_fill.c): all n items in
 * `target` bins, which may overflow, until none does. It is resumable:
 * each ct_binpack__fill_run goes on where the last one stopped. */
typedef struct ct_binpack__fill ct_binpack__fill;

/* Args: sizes and order (from ct_binpack__order_desc) stay the caller's
 * and must outlive *out.
 * Returns: 0 or CT_ENOMEM. */
int ct_binpack__fill_new(ct_binpack__fill **out, size_t target, const int64_t *sizes,
                         const size_t *order, size_t n, int64_t capacity, uint64_t seed);

/* Searches on, spending from *budget (it allocates nothing).
 * Returns: 1 (bin_of now holds a packing into bins 0..target-1), or 0
 * (none found yet; bin_of unchanged). */
int ct_binpack__fill_run(ct_binpack__fill *f, size_t *bin_of, ct_binpack__budget *budget);

void ct_binpack__fill_free(ct_binpack__fill *f);

/* The Gilmore-Gomory LP bound and a dive on it (binpack_lp.c), for AUTO:
 * raises r->lower_bound to the LP bound when that is higher, then, while
 * r->bins is above it, looks for a packing into fewer bins by reduced
 * cost enumeration and by a dive on the LP, and puts it in bin_of
 * (r->method "lp"); where the enumeration proves that the bound cannot be
 * met, raises r->lower_bound by one. Skipped (r unchanged) where the
 * knapsack table would exceed 32 MiB (capacity over the sizes' gcd times
 * the pieces). Args: bin_of holds a packing into r->bins bins (the master
 * LP's first columns); order from ct_binpack__order_desc; work bounds the
 * cost (knapsack cells, plus 16 per simplex call, row and column; the
 * enumeration has up to 5/3 as much again), so the result does
 * not depend on the machine; deadline_ms as in
 * ct_binpack__budget. Returns: 0 or CT_ENOMEM. */
int ct_binpack__lp(ct_binpack_result *r, size_t *bin_of, const int64_t *sizes, const size_t *order,
                   size_t n, int64_t capacity, uint64_t work, int64_t deadline_ms);

#endif /* CATENA_PLACE_BINPACK_INT_H */
