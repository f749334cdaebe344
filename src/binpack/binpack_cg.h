/* Column generation for bin packing (binpack_cg.c), shared by the LP
 * bound and dive (binpack_lp.c) and the reduced cost enumeration
 * (binpack_enum.c). */
#ifndef CATENA_BINPACK_CG_H
#define CATENA_BINPACK_CG_H

#include "binpack_int.h"

#include <glpk.h>

/* Duals are scaled to integers of this size, so that the knapsack and the
 * bound are exact: sum(d * price) / max pattern price is a valid bound
 * for any prices >= 0 (every bin's pattern is worth at most the maximum,
 * and the bins together hold every item once). */
#define PRICE_SCALE 1000000000.0
/* A pattern worth at most 1 + this (in dual units) prices out. */
#define PRICE_EPS 1e-9

/* A simplex call's charge to the work budget per row and column (its
 * time beside the knapsack's per cell, measured on hard28). */
#define SIMPLEX_COST 16

/* The master LP and its pricing, over item types (sizes) largest first. */
typedef struct ct_binpack__cg {
    size_t m;        /* distinct sizes, largest first */
    int64_t *w;      /* size of each type, divided by the sizes' gcd */
    int64_t cap;     /* capacity, divided by the same gcd */
    size_t *d;       /* items of each type still to cover */
    size_t *first;   /* where each type's items start in the order */
    glp_prob *lp;    /* rows: types (>= d); columns: patterns */
    double *pi;      /* duals */
    double *center;  /* prices of the best bound so far */
    int64_t *price;  /* scaled duals */
    size_t *piece_t; /* knapsack pieces (binary split of each type's count) */
    size_t *piece_k;
    size_t pieces, max_pieces;
    int64_t *best;    /* knapsack values by capacity */
    uint8_t *take;    /* take[piece * (cap + 1) + c]: bit set when the piece is used */
    int *ind;         /* GLPK's 1-based column vectors */
    double *val;      /* ... and their values */
    size_t *pattern;  /* per type: the priced pattern's count */
    uint64_t work;    /* what may still be spent: knapsack cells, and
                         SIMPLEX_COST per simplex call, row and column */
    int64_t deadline; /* ct_time_mono_ms(); 0: none */
} ct_binpack__cg;

/* The bins a dive has fixed, as a stack: bin b holds ent_c[e] items of
 * type ent_t[e] for e in start[b]..start[b+1]-1. Every entry holds at
 * least one item, so n entries and n bins are enough. */
typedef struct ct_binpack__stack {
    size_t bins, *start, *ent_t, *ent_c;
    size_t *count; /* scratch, per type */
} ct_binpack__stack;

/* Groups the ordered items by size and allocates g's arrays.
 * Returns: 0, 1 (the knapsack table would be too big: no LP here) or
 * CT_ENOMEM. */
int ct_binpack__cg_types(ct_binpack__cg *g, const int64_t *sizes, const size_t *order, size_t n,
                         int64_t capacity);

/* The master LP over the types, one column per bin of the packing
 * bin_of. Returns: 0 or CT_ENOMEM. */
int ct_binpack__cg_master(ct_binpack__cg *g, const size_t *bin_of, const int64_t *sizes,
                          const size_t *order, size_t n);

/* Frees what g holds. */
void ct_binpack__cg_free(ct_binpack__cg *g);

/* Reads the LP's column j into count (per type). */
void ct_binpack__cg_read_column(ct_binpack__cg *g, int j, size_t *count);

/* Solves lp (the master or another problem of g's) from its last basis
 * by `method` (GLP_PRIMAL or GLP_DUALP), by the other one should GLPK
 * not end within an iteration cap (its primal simplex can cycle).
 * Returns: GLPK's status (GLP_OPT, GLP_NOFEAS...), GLP_UNDEF when not
 * solved. */
int ct_binpack__cg_simplex(ct_binpack__cg *g, glp_prob *lp, int method);

/* The ms left to g's deadline, as GLPK's tm_lim (INT_MAX: none). */
int ct_binpack__cg_ms_left(const ct_binpack__cg *g);

/* Charges cost to the work budget (and looks at the clock).
 * Returns: whether the budget or the time is spent. */
bool ct_binpack__cg_spend(ct_binpack__cg *g, uint64_t cost);

/* The pattern of the bounded knapsack: at most d[t] of each type, at most
 * cap in all, the most scaled price in g->pattern. Returns: its price. */
int64_t ct_binpack__cg_knapsack(ct_binpack__cg *g);

/* Column generation on the current demands until the LP is solved, the
 * bound reaches `enough` (SIZE_MAX: solve it to the end), or time is up.
 * Out: *bound, a proven lower bound on the bins the demands need; *z, the
 * last master LP value. Returns: 0, or 1 when GLPK failed (no bound). */
int ct_binpack__cg_solve(ct_binpack__cg *g, size_t *bound, double *z, size_t enough);

/* Pushes `copies` bins of the pattern count, each clipped to what is
 * left. Returns: whether anything was pushed. */
bool ct_binpack__cg_push(ct_binpack__cg *g, ct_binpack__stack *s, const size_t *count,
                         size_t copies);

/* Pops the bins above `bins`, giving their items back to the demands. */
void ct_binpack__cg_pop_to(ct_binpack__cg *g, ct_binpack__stack *s, size_t bins);

/* Writes the stack's bins into bin_of: the items of each type in order. */
void ct_binpack__cg_packing(const ct_binpack__cg *g, const ct_binpack__stack *s, size_t *bin_of,
                            const size_t *order);

/* The reduced cost enumeration's list (binpack_enum.c); zeroed before use. */
typedef struct ct_binpack__enum {
    ct_binpack__cg *g;
    size_t bins;    /* the packing sought: into this many bins */
    int64_t k, gap; /* the best pattern's price; T K - sum(d price) */
    int64_t need;   /* a pattern's price must reach this: K - gap */
    int64_t *price; /* per type: the prices of the list (the dive changes g->price) */
    int64_t *upper; /* upper[i * (cap + 1) + c]: the most types i.. fit in c */
    size_t *count;  /* the pattern being built */
    size_t *pats;   /* the patterns found, m counts each */
    size_t npats, max;
    bool overflow;
} ct_binpack__enum;

/* The enumeration for a packing into r->lower_bound bins with `work` of
 * its own (g's budget is left as it was), on a copy of the master. Takes
 * what it finds: the packing (bin_of, r->bins, r->method "lp"), or that
 * none exists (r->lower_bound rises by one).
 * Returns: 1 found, 0 none exists, -1 out of work (the list is whole:
 * ct_binpack__enum_try may go on), -2 not decided otherwise. */
int ct_binpack__enum_first(ct_binpack__cg *g, ct_binpack__enum *e, ct_binpack__stack *s,
                           ct_binpack_result *r, size_t *bin_of, const size_t *order,
                           uint64_t work);

/* The MIP again on e's list, with `work` of its own; prove: all of it on
 * the attempt that proves there is no packing (the one that looks for a
 * packing by depth first search is left out). Returns: as above. */
int ct_binpack__enum_try(ct_binpack__cg *g, const ct_binpack__enum *e, ct_binpack__stack *s,
                         ct_binpack_result *r, size_t *bin_of, const size_t *order, uint64_t work,
                         bool prove);

/* Frees what e holds. */
void ct_binpack__enum_free(ct_binpack__enum *e);

#endif /* CATENA_BINPACK_CG_H */
