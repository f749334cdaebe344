/* The Gilmore-Gomory LP bound on the number of bins, by column generation
 * (GLPK solves the master LP, a bounded knapsack by dynamic programming
 * prices the patterns); a dive on its solutions for packings: fix what
 * the LP uses whole, choose a pattern for the largest item left among
 * those the LP uses, solve again; limited discrepancy search over those
 * choices, with the LP bound cutting every branch that cannot beat the
 * best packing. Before and after the dive, the reduced cost enumeration
 * (binpack_enum.c) decides exactly whether a packing meets the bound. */
#include "binpack_cg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Returns: whether the LP's column j holds items of type t. */
static bool holds(ct_binpack__cg *g, int j, size_t t)
{
    int len = glp_get_mat_col(g->lp, j, g->ind, g->val);

    for (int k = 1; k <= len; k++) {
        if ((size_t)g->ind[k] - 1 == t)
            return true;
    }
    return false;
}

/* The enumeration's work before the dive and after it, as parts of the
 * LP's. */
#define ENUM_FIRST 3
#define ENUM_THEN 1
/* Branches a dive tries at most at one node. */
#define DIVE_WIDTH 5
/* Discrepancies a dive may take in all. */
#define DIVE_DISC_MAX 30

/* One node of the dive: solves the LP on what is left and fixes every
 * column it uses whole; where it uses none whole, fixes one bin of the
 * column that holds the largest item left and has the most LP value, and
 * goes on; when that fails and `disc` allows, the next such columns by LP
 * value instead, each costing one discrepancy (limited discrepancy
 * search). Gives up on a node whose LP bound says it cannot beat `beat`
 * bins.
 * Returns: whether the stack now holds a packing into fewer than `beat`. */
static bool dive(ct_binpack__cg *g, ct_binpack__stack *s, size_t beat, int disc)
{
    size_t bound, mark = s->bins, left = 0, big = 0;
    int cand[DIVE_WIDTH], cands = 0, cols, width = disc + 1 < DIVE_WIDTH ? disc + 1 : DIVE_WIDTH;
    double cx[DIVE_WIDTH], z;
    size_t *pats;
    bool found = false;

    for (size_t t = 0; t < g->m; t++)
        left += g->d[t];
    if (left == 0)
        return s->bins < beat;
    if (g->work == 0 || s->bins + 1 >= beat)
        return false;
    if (ct_binpack__cg_solve(g, &bound, &z, beat - s->bins) != 0 || g->work == 0 ||
        s->bins + bound >= beat || s->bins + (size_t)ceil(z - 1e-6) >= beat)
        return false;
    cols = glp_get_num_cols(g->lp);
    /* What the LP uses whole is fixed without a branch. */
    for (int j = 1; j <= cols; j++) {
        double x = glp_get_col_prim(g->lp, j);
        if (x >= 1 - 1e-6) {
            ct_binpack__cg_read_column(g, j, s->count);
            ct_binpack__cg_push(g, s, s->count, (size_t)floor(x + 1e-6));
        }
    }
    if (s->bins > mark) {
        if (dive(g, s, beat, disc))
            return true;
        ct_binpack__cg_pop_to(g, s, mark);
        return false;
    }
    while (big < g->m && g->d[big] == 0)
        big++;
    for (int j = 1; j <= cols; j++) {
        double x = glp_get_col_prim(g->lp, j);
        int at;
        if (x <= 1e-6 || (cands == width && x <= cx[width - 1]))
            continue;
        if (!holds(g, j, big))
            continue;
        at = cands < width ? cands++ : width - 1; /* the last one drops out */
        for (; at > 0 && cx[at - 1] < x; at--) {
            cx[at] = cx[at - 1];
            cand[at] = cand[at - 1];
        }
        cx[at] = x;
        cand[at] = j;
    }
    /* The candidates' patterns, read before deeper nodes use the LP. */
    pats = malloc((size_t)cands * g->m * sizeof(*pats));
    if (pats == NULL)
        return false;
    for (int c = 0; c < cands; c++)
        ct_binpack__cg_read_column(g, cand[c], pats + (size_t)c * g->m);
    for (int c = 0; c < cands && !found; c++) {
        found = ct_binpack__cg_push(g, s, pats + (size_t)c * g->m, 1) && dive(g, s, beat, disc - c);
        if (!found)
            ct_binpack__cg_pop_to(g, s, mark);
    }
    free(pats);
    return found;
}

int ct_binpack__lp(ct_binpack_result *r, size_t *bin_of, const int64_t *sizes, const size_t *order,
                   size_t n, int64_t capacity, uint64_t work, int64_t deadline_ms)
{
    ct_binpack__cg g = {.deadline = deadline_ms, .work = work};
    ct_binpack__stack s = {0};
    ct_binpack__enum e = {0};
    size_t bound = 0;
    double z;
    bool again = false; /* the enumeration ran out of work */
    int rc;

    if (n == 0)
        return 0;
    rc = ct_binpack__cg_types(&g, sizes, order, n, capacity);
    /* Not even one simplex call on the packing's columns would fit the
     * budget (a million items): no LP, and no master built for nothing. */
    if (rc == 0 && SIMPLEX_COST * (uint64_t)g.m * (uint64_t)r->bins > g.work)
        rc = 1;
    if (rc == 0)
        rc = ct_binpack__cg_master(&g, bin_of, sizes, order, n);
    if (rc == 0) {
        glp_term_out(GLP_OFF);
        if (ct_binpack__cg_solve(&g, &bound, &z, r->bins) == 0 && bound > r->lower_bound)
            r->lower_bound = bound;
    }
    if (rc == 0 && r->bins > r->lower_bound) {
        s.start = malloc((n + 1) * sizeof(*s.start));
        s.ent_t = malloc(n * sizeof(*s.ent_t));
        s.ent_c = malloc(n * sizeof(*s.ent_c));
        s.count = malloc(g.m * sizeof(*s.count));
        if (s.start == NULL || s.ent_t == NULL || s.ent_c == NULL || s.count == NULL)
            rc = CT_ENOMEM;
        else
            s.start[0] = 0;
        /* The enumeration first on a small share: it decides at once
         * where the bound is within a hair of the optimum; then the
         * dive; then the enumeration again, on a larger share. */
        if (rc == 0)
            again = ct_binpack__enum_first(&g, &e, &s, r, bin_of, order, work / ENUM_FIRST) == -1;
        /* Each round allows one discrepancy more; a round that found a
         * packing is repeated to beat it. */
        for (int disc = 0;
             rc == 0 && disc <= DIVE_DISC_MAX && g.work > 0 && r->bins > r->lower_bound;) {
            if (dive(&g, &s, r->bins, disc)) {
                ct_binpack__cg_packing(&g, &s, bin_of, order);
                r->bins = s.bins;
                r->method = "lp";
                ct_binpack__cg_pop_to(&g, &s, 0);
            } else
                disc++;
        }
        /* The same list again, on a larger share, all of it on the
         * proof: the dive and the first try's depth first search found
         * no packing, so none may exist (hard28's BPP 14 is proven this
         * way and was not before; the other instances of hard28 and
         * BPPLIB's classes came out as before: docs/BENCHMARKS.md). */
        if (rc == 0 && again && r->bins > r->lower_bound)
            ct_binpack__enum_try(&g, &e, &s, r, bin_of, order, work / ENUM_THEN, true);
    }
    free(s.start);
    free(s.ent_t);
    free(s.ent_c);
    free(s.count);
    ct_binpack__enum_free(&e);
    ct_binpack__cg_free(&g);
    glp_free_env(); /* GLPK's per-thread environment: nothing of it outlives the call */
    if (rc == CT_ENOMEM)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    return 0;
}
