/* Catena bin packing: one-dimensional packing of integer sizes (FFD, BFD,
 * searches and an LP dive that close the gap to the lower bound: L2 of
 * Martello and Toth, or the Gilmore-Gomory LP bound where higher), a
 * vector variant for VM placement (CPU, RAM, ...) and a parser for
 * OR-Library files. Pure computation: no I/O, no global state. */
#ifndef CATENA_BINPACK_H
#define CATENA_BINPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catena/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Input limits: with at most this many items of at most this size, every
 * sum of sizes fits an int64_t. */
#define CT_BINPACK_MAX_ITEMS 1000000u
#define CT_BINPACK_MAX_SIZE 1000000000000LL /* 10^12 */

/* ---------------------------------------------------------------- 1-D */

typedef enum ct_binpack_algo {
    CT_BINPACK_FFD = 0, /* first fit decreasing, O(n log n) */
    CT_BINPACK_BFD = 1, /* best fit decreasing, O(n log n) */
    CT_BINPACK_AUTO = 2 /* the better of FFD and BFD, then a search for fewer
                           bins until the lower bound or the budget is met */
} ct_binpack_algo;

typedef struct ct_binpack_opts {
    ct_binpack_algo algo;
    uint64_t seed;         /* seeds the search: same input and seed, same packing */
    uint64_t effort;       /* search budget in move evaluations; 0: the default */
    int64_t time_limit_ms; /* wall-clock cap on the search, 0: none. With a cap
                              the result may depend on the machine's speed. */
} ct_binpack_opts;

/* The default effort: with it every Falkenauer instance (OR-Library's
 * binpack2-8) meets its best known count, and generated triplets of up to
 * 1,002 items their optimum; an instance whose lower bound cannot be met
 * spends it all, 0.2 to 0.7 s at a few hundred items. */
#define CT_BINPACK_DEFAULT_EFFORT 50000000u

/* Fills opts with algo AUTO, seed 1, the default effort and no time cap. */
void ct_binpack_opts_init(ct_binpack_opts *opts);

/* What a packing achieved. */
typedef struct ct_binpack_result {
    size_t bins;          /* bins used; items were placed in bins 0..bins-1 */
    size_t lower_bound;   /* max(L1, L2) of Martello and Toth; with AUTO, the
                             Gilmore-Gomory LP bound rounded up where higher */
    bool optimal;         /* bins == lower_bound: the packing is proven optimal */
    const char *method;   /* static name of the step that found it: "ffd",
                             "bfd", "search" or "lp" */
    uint64_t evaluations; /* search moves evaluated (0 for FFD and BFD) */
} ct_binpack_result;

/* Checks an instance: n <= CT_BINPACK_MAX_ITEMS, 1 <= capacity <=
 * CT_BINPACK_MAX_SIZE, 1 <= sizes[i] <= capacity.
 * Returns: 0, or CT_EINVAL naming the first offending item. */
int ct_binpack_validate(const int64_t *sizes, size_t n, int64_t capacity);

/* Packs n items of the given sizes into bins of the given capacity.
 * Sizes are integers: scale fractional sizes first (the OR-Library parser
 * does). AUTO runs FFD and BFD, then two tabu searches in turn, each with
 * a slice of opts->effort that doubles at every turn: one spreads all
 * items over lower-bound bins and works off the overflow (strong where
 * every bin must be exactly full, as in the triplet class); the other
 * empties three bins into a pool of loose items and swaps pool items with
 * packed ones until the pool fits two bins, one bin saved per round. When
 * their first turns leave a gap, the LP of Gilmore and Gomory is solved by
 * column generation (GLPK): its bound, rounded up, replaces L2 where
 * higher, and a dive on its solutions (the largest item's bin chosen from
 * the patterns the LP uses, limited discrepancy) often finds a packing
 * at that bound where the searches stall (Schoenfield's hard28). The
 * cost is bounded by opts->effort (the LP by 30 knapsack cells or simplex
 * entries per unit), so with a million items AUTO costs about FFD plus
 * BFD plus a few seconds (use FFD or BFD, or a time limit, where that
 * matters).
 * Args: opts may be NULL (defaults of ct_binpack_opts_init).
 * Out: out describes the packing; bin_of (n entries, caller's buffer)
 *      receives each item's bin, numbered from 0 with no empty bin.
 * Returns: 0, CT_EINVAL (see ct_binpack_validate) or CT_ENOMEM.
 * Thread safety: reentrant; calls on different buffers may run in parallel
 * (GLPK keeps its state per thread). */
int ct_binpack_solve(ct_binpack_result *out, size_t *bin_of, const int64_t *sizes, size_t n,
                     int64_t capacity, const ct_binpack_opts *opts);

/* Falkenauer's triplet class (the OR-Library's binpack5-8 "t" instances):
 * 3 * n_triplets items for bins of CT_BINPACK_TRIPLET_CAPACITY, made
 * three to a bin that each fills exactly, then shuffled, so the optimum
 * is n_triplets bins. Every item lies in [250, 500). Deterministic in seed.
 * Out: sizes (3 * n_triplets entries).
 * Returns: 0 or CT_EINVAL (0 triplets, or too many items). */
#define CT_BINPACK_TRIPLET_CAPACITY 1000
int ct_binpack_gen_triplets(int64_t *sizes, size_t n_triplets, uint64_t seed);

/* Computes the lower bound max(L1, L2) of Martello and Toth (1990) on the
 * number of bins: L1 = ceil(sum / capacity); L2 also counts the items that
 * cannot share a bin with the large ones.
 * Returns: 0, CT_EINVAL (see ct_binpack_validate) or CT_ENOMEM. */
int ct_binpack_lower_bound(size_t *out, const int64_t *sizes, size_t n, int64_t capacity);

/* Checks a packing: every bin_of[i] is below bins, no bin is empty and no
 * bin holds more than capacity.
 * Returns: 0, CT_EINVAL naming the first fault, or CT_ENOMEM. */
int ct_binpack_verify(const size_t *bin_of, size_t bins, const int64_t *sizes, size_t n,
                      int64_t capacity);

/* ---------------------------------------------------------------- vectors */

/* At most this many dimensions (CPU, RAM, disk, network, ...). */
#define CT_BINPACK_MAX_DIMS 8

/* Packs n items with dims sizes each (sizes[i * dims + k]) into identical
 * bins (capacity[k] per dimension) by first fit decreasing: items ordered
 * by the sum of their shares of a bin's capacity, each into the first bin
 * where every dimension fits. The search for that bin is capped (4096
 * tree nodes per item); past the cap an item goes to the first bin with
 * at least its largest share free in every dimension. O(n log n) in
 * practice: a million items take about a second. Zero sizes are allowed
 * in a dimension; every item must fit an empty bin.
 * Out: *out_bins, bin_of as for ct_binpack_solve.
 * Returns: 0, CT_EINVAL or CT_ENOMEM. */
int ct_binpack_vec_ffd(size_t *out_bins, size_t *bin_of, const int64_t *sizes, size_t n,
                       size_t dims, const int64_t *capacity);

/* Lower bound for the vector problem: the largest per-dimension L1.
 * Returns: 0 or CT_EINVAL. */
int ct_binpack_vec_lower_bound(size_t *out, const int64_t *sizes, size_t n, size_t dims,
                               const int64_t *capacity);

/* Checks a vector packing like ct_binpack_verify, in every dimension. */
int ct_binpack_vec_verify(const size_t *bin_of, size_t bins, const int64_t *sizes, size_t n,
                          size_t dims, const int64_t *capacity);

/* ---------------------------------------------------------------- OR-Library */

/* One instance of an OR-Library bin packing file. Sizes and capacity are
 * integers in units of 10^-decimals of the file's values, so "36.6" in a
 * file whose finest value has one decimal is 366, exactly. */
typedef struct ct_binpack_instance {
    char *name;         /* problem identifier */
    size_t line;        /* line of the identifier in the text (from 1) */
    int64_t capacity;   /* scaled as the sizes */
    int64_t *sizes;     /* n scaled item sizes, each 1..capacity */
    size_t n;           /* number of items */
    int64_t best_known; /* bins in the best known solution, as given; 0: none given */
    unsigned decimals;  /* 0..6: the scale of sizes and capacity */
} ct_binpack_instance;

typedef struct ct_binpack_file {
    ct_binpack_instance *inst;
    size_t count;
} ct_binpack_file;

/* Parses OR-Library bin packing text (binpackinfo.txt): the number of
 * problems P, then per problem an identifier, "capacity n best_known" and
 * n item sizes; tokens are whitespace separated (any line breaks, CRLF
 * too), sizes and capacity may have up to six decimals. Everything is
 * checked: counts, numbers, sizes within 1..capacity, nothing after the
 * last problem. The text need not be NUL terminated; a NUL in it is an
 * error.
 * Out: *out is new, owned by the caller (ct_binpack_file_free).
 * Returns: 0, CT_EPARSE (malformed) or CT_ELIMIT (a number past 10^12 or
 *          six decimals, more than CT_BINPACK_MAX_ITEMS items or 100000
 *          problems), whose messages start with the line number and a
 *          colon ("12: expected ...") so a caller can prefix a file name;
 *          or CT_ENOMEM. Thread safety: reentrant. */
int ct_binpack_parse_orlib(ct_binpack_file **out, const char *text, size_t len);

/* Parses any of the bin packing formats in use, told apart by their
 * first tokens:
 * - OR-Library (a count, then a problem identifier): as
 *   ct_binpack_parse_orlib;
 * - BPPLIB's single instance: n, the capacity, then n sizes (named
 *   "instance");
 * - cutting stock blocks (CaPaD, BPPLIB; Schoenfield's hard28): for each
 *   problem a name in single quotes (spaces allowed), the number of item
 *   types m, the capacity, then m pairs "size demand".
 * The last two give no best known count: best_known is 0.
 * Out, returns and errors: as ct_binpack_parse_orlib. */
int ct_binpack_parse(ct_binpack_file **out, const char *text, size_t len);

/* Frees a parsed file; NULL is a no-op. */
void ct_binpack_file_free(ct_binpack_file *f);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_BINPACK_H */
