/* The Gilmore-Gomory LP bound on the number of bins, by column generation
 * (GLPK solves the master LP, a bounded knapsack by dynamic programming
 * prices the patterns), and a dive on its solutions for packings: fix
 * what the LP uses whole, choose a pattern for the largest item left
 * among those the LP uses, solve again; limited discrepancy search over
 * those choices, with the LP bound cutting every branch that cannot beat
 * the best packing. */
#include "binpack_int.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Duals are scaled to integers of this size, so that the knapsack and the
 * bound are exact: sum(d * price) / max pattern price is a valid bound
 * for any prices >= 0 (every bin's pattern is worth at most the maximum,
 * and the bins together hold every item once). */
#define PRICE_SCALE 1000000000.0
/* A pattern worth at most 1 + this (in dual units) prices out. */
#define PRICE_EPS 1e-9
/* The knapsack table's size cap, in bits (pieces times capacity): beyond
 * it the instance keeps the L2 bound. */
#define TABLE_BITS_MAX ((uint64_t)1 << 28)
/* Master LP re-solves per column generation run. */
#define CG_ROUNDS_MAX 4000
/* A simplex call's charge to the work budget per row and column (its
 * time beside the knapsack's per cell, measured on hard28). */
#define SIMPLEX_COST 16
/* Weight of the best bound's prices in the smoothed ones. */
#define SMOOTHING 0.8

typedef struct cg {
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
} cg;

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b != 0) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Charges cost to the work budget (and looks at the clock).
 * Returns: whether the budget or the time is spent. */
static bool spend(cg *g, uint64_t cost)
{
    if (g->work < cost || (g->deadline != 0 && ct_time_mono_ms() >= g->deadline)) {
        g->work = 0;
        return true;
    }
    g->work -= cost;
    return false;
}

static void cg_free(cg *g)
{
    if (g->lp != NULL)
        glp_delete_prob(g->lp);
    free(g->w);
    free(g->d);
    free(g->first);
    free(g->pi);
    free(g->center);
    free(g->price);
    free(g->piece_t);
    free(g->piece_k);
    free(g->best);
    free(g->take);
    free(g->ind);
    free(g->val);
    free(g->pattern);
}

/* Groups the ordered items by size. Returns: 0, 1 (the table would be too
 * big: no LP here) or CT_ENOMEM. */
static int cg_types(cg *g, const int64_t *sizes, const size_t *order, size_t n, int64_t capacity)
{
    int64_t div = capacity;
    size_t max_pieces = 0;

    for (size_t i = 0; i < n; i++)
        div = gcd64(div, sizes[order[i]]);
    g->cap = capacity / div;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || sizes[order[i]] != sizes[order[i - 1]])
            g->m++;
    }
    g->w = malloc(g->m * sizeof(*g->w));
    g->d = calloc(g->m, sizeof(*g->d));
    g->first = malloc(g->m * sizeof(*g->first));
    if (g->w == NULL || g->d == NULL || g->first == NULL)
        return CT_ENOMEM;
    for (size_t i = 0, t = 0; i < n; i++) {
        if (i > 0 && sizes[order[i]] != sizes[order[i - 1]])
            t++;
        if (g->d[t]++ == 0) {
            g->w[t] = sizes[order[i]] / div;
            g->first[t] = i;
        }
    }
    for (size_t t = 0; t < g->m; t++) {
        size_t fit = (size_t)(g->cap / g->w[t]);
        for (size_t k = 1, left = g->d[t] < fit ? g->d[t] : fit; left > 0; k *= 2) {
            left -= k < left ? k : left;
            max_pieces++;
        }
    }
    if ((uint64_t)max_pieces * (uint64_t)(g->cap + 1) > TABLE_BITS_MAX)
        return 1;
    g->max_pieces = max_pieces;
    g->piece_t = malloc(max_pieces * sizeof(*g->piece_t));
    g->piece_k = malloc(max_pieces * sizeof(*g->piece_k));
    g->best = malloc((size_t)(g->cap + 1) * sizeof(*g->best));
    g->take = malloc(((size_t)max_pieces * (size_t)(g->cap + 1) + 7) / 8);
    g->pi = malloc(g->m * sizeof(*g->pi));
    g->center = malloc(g->m * sizeof(*g->center));
    g->price = malloc(g->m * sizeof(*g->price));
    g->ind = malloc((g->m + 1) * sizeof(*g->ind));
    g->val = malloc((g->m + 1) * sizeof(*g->val));
    g->pattern = malloc(g->m * sizeof(*g->pattern));
    if (g->piece_t == NULL || g->piece_k == NULL || g->best == NULL || g->take == NULL ||
        g->pi == NULL || g->center == NULL || g->price == NULL || g->ind == NULL ||
        g->val == NULL || g->pattern == NULL)
        return CT_ENOMEM;
    return 0;
}

/* The pattern of the bounded knapsack: at most d[t] of each type, at most
 * cap in all, the most scaled price in g->pattern.
 * Returns: its price. */
static int64_t knapsack(cg *g)
{
    size_t width = (size_t)g->cap + 1;

    g->pieces = 0;
    for (size_t t = 0; t < g->m; t++) {
        size_t fit = (size_t)(g->cap / g->w[t]);
        if (g->price[t] <= 0)
            continue;
        for (size_t k = 1, left = g->d[t] < fit ? g->d[t] : fit; left > 0; k *= 2) {
            size_t take = k < left ? k : left;
            g->piece_t[g->pieces] = t;
            g->piece_k[g->pieces++] = take;
            left -= take;
        }
    }
    memset(g->best, 0, width * sizeof(*g->best));
    memset(g->take, 0, (g->pieces * width + 7) / 8);
    for (size_t p = 0; p < g->pieces; p++) {
        int64_t pw = g->w[g->piece_t[p]] * (int64_t)g->piece_k[p];
        int64_t pv = g->price[g->piece_t[p]] * (int64_t)g->piece_k[p];
        for (int64_t c = g->cap; c >= pw; c--) {
            if (g->best[c - pw] + pv > g->best[c]) {
                size_t bit = p * width + (size_t)c;
                g->best[c] = g->best[c - pw] + pv;
                g->take[bit / 8] |= (uint8_t)(1u << (bit % 8));
            }
        }
    }
    memset(g->pattern, 0, g->m * sizeof(*g->pattern));
    for (size_t p = g->pieces, c = (size_t)g->cap; p-- > 0;) {
        size_t bit = p * width + c;
        if (g->take[bit / 8] & (1u << (bit % 8))) {
            g->pattern[g->piece_t[p]] += g->piece_k[p];
            c -= (size_t)(g->w[g->piece_t[p]] * (int64_t)g->piece_k[p]);
        }
    }
    return g->best[g->cap];
}

/* Adds a column: the pattern with count[t] items of each type t. */
static void add_column(cg *g, const size_t *count)
{
    int len = 0, j;

    for (size_t t = 0; t < g->m; t++) {
        if (count[t] > 0) {
            g->ind[++len] = (int)t + 1;
            g->val[len] = (double)count[t];
        }
    }
    if (len == 0)
        return;
    j = glp_add_cols(g->lp, 1);
    glp_set_col_bnds(g->lp, j, GLP_LO, 0.0, 0.0);
    glp_set_obj_coef(g->lp, j, 1.0);
    glp_set_mat_col(g->lp, j, len, g->ind, g->val);
}

typedef struct placed {
    size_t bin, type;
} placed;

static int cmp_placed(const void *a, const void *b)
{
    const placed *x = a, *y = b;

    if (x->bin != y->bin)
        return x->bin < y->bin ? -1 : 1;
    return x->type < y->type ? -1 : (x->type > y->type);
}

/* The master LP over the types, one column per bin of a packing (the
 * items sorted by bin, so memory stays O(n)). */
static int cg_master(cg *g, const size_t *bin_of, const int64_t *sizes, const size_t *order,
                     size_t n)
{
    placed *p = malloc(n * sizeof(*p));
    size_t t = 0;

    if (p == NULL)
        return CT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && sizes[order[i]] != sizes[order[i - 1]])
            t++;
        p[i] = (placed){.bin = bin_of[order[i]], .type = t};
    }
    qsort(p, n, sizeof(*p), cmp_placed);
    g->lp = glp_create_prob();
    glp_set_obj_dir(g->lp, GLP_MIN);
    glp_add_rows(g->lp, (int)g->m);
    for (t = 0; t < g->m; t++)
        glp_set_row_bnds(g->lp, (int)t + 1, GLP_LO, (double)g->d[t], 0.0);
    memset(g->pattern, 0, g->m * sizeof(*g->pattern));
    for (size_t i = 0; i < n; i++) {
        g->pattern[p[i].type]++;
        if (i + 1 == n || p[i + 1].bin != p[i].bin) {
            add_column(g, g->pattern);
            for (size_t k = i + 1; k-- > 0 && p[k].bin == p[i].bin;)
                g->pattern[p[k].type] = 0;
        }
    }
    free(p);
    return 0;
}

/* Column generation on the current demands until the LP is solved, the
 * bound reaches `enough`, or time is up.
 * Out: *bound, a proven lower bound on the bins the demands need; *z, the
 * last master LP value.
 * Returns: 0, or 1 when GLPK failed (no bound). */
static int cg_solve(cg *g, size_t *bound, double *z, size_t enough)
{
    glp_smcp parm;
    double best_farley = -1;

    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    *bound = 0;
    *z = 0;
    for (int round = 0; round < CG_ROUNDS_MAX; round++) {
        bool added = false;
        /* The dual simplex after demands changed (the basis stays dual
         * feasible), the primal after columns were added. */
        parm.meth = round == 0 ? GLP_DUALP : GLP_PRIMAL;
        if (spend(g, SIMPLEX_COST * (uint64_t)g->m * (uint64_t)glp_get_num_cols(g->lp)))
            return 0;
        if (glp_simplex(g->lp, &parm) != 0 || glp_get_status(g->lp) != GLP_OPT)
            return 1;
        *z = glp_get_obj_val(g->lp);
        for (size_t t = 0; t < g->m; t++) {
            double pi = glp_get_row_dual(g->lp, (int)t + 1);
            g->pi[t] = pi < 0 || g->d[t] == 0 ? 0 : pi > 1 ? 1 : pi;
            if (best_farley < 0)
                g->center[t] = g->pi[t];
        }
        /* Prices between the duals of the best bound so far and the
         * current ones first (Wentges' smoothing: the duals of a
         * degenerate master LP jump about, and far fewer rounds are
         * needed this way); the current duals alone when the smoothed
         * pattern does not price out. */
        for (int pass = 0; pass < 2 && !added; pass++) {
            double alpha = pass == 0 ? SMOOTHING : 0, farley, worth = 0;
            int64_t num = 0, k;
            for (size_t t = 0; t < g->m; t++) {
                double p = alpha * g->center[t] + (1 - alpha) * g->pi[t];
                g->price[t] = (int64_t)floor(p * PRICE_SCALE);
                num += g->price[t] * (int64_t)g->d[t];
            }
            if (spend(g, (uint64_t)g->max_pieces * (uint64_t)(g->cap + 1)))
                return 0;
            k = knapsack(g);
            if (k <= 0)
                return 0;
            if ((size_t)((num + k - 1) / k) > *bound)
                *bound = (size_t)((num + k - 1) / k);
            farley = (double)num / (double)k;
            if (farley > best_farley) {
                best_farley = farley;
                for (size_t t = 0; t < g->m; t++)
                    g->center[t] = (double)g->price[t] / PRICE_SCALE;
            }
            /* The LP value only falls towards its optimum and the bound
             * only rises: once the bound reaches the value rounded up,
             * both have met the LP optimum rounded up. */
            if (*bound >= enough || (double)*bound >= ceil(*z - 1e-9))
                return 0;
            for (size_t t = 0; t < g->m; t++)
                worth += g->pi[t] * (double)g->pattern[t];
            if (worth > 1.0 + PRICE_EPS) {
                add_column(g, g->pattern);
                added = true;
            }
        }
        if (!added)
            break;
    }
    return 0;
}

/* The bins a dive has fixed, as a stack: bin b holds ent_c[e] items of
 * type ent_t[e] for e in start[b]..start[b+1]-1. Every entry holds at
 * least one item, so n entries and n bins are enough. */
typedef struct stack {
    size_t bins, *start, *ent_t, *ent_c;
    size_t *count; /* scratch, per type */
} stack;

static void set_demand(cg *g, size_t t, size_t d)
{
    g->d[t] = d;
    glp_set_row_bnds(g->lp, (int)t + 1, GLP_LO, (double)d, 0.0);
}

/* Reads the LP's column j into count (per type). */
static void read_column(cg *g, int j, size_t *count)
{
    int len = glp_get_mat_col(g->lp, j, g->ind, g->val);

    memset(count, 0, g->m * sizeof(*count));
    for (int k = 1; k <= len; k++)
        count[g->ind[k] - 1] = (size_t)lround(g->val[k]);
}

/* Returns: whether the LP's column j holds items of type t. */
static bool holds(cg *g, int j, size_t t)
{
    int len = glp_get_mat_col(g->lp, j, g->ind, g->val);

    for (int k = 1; k <= len; k++) {
        if ((size_t)g->ind[k] - 1 == t)
            return true;
    }
    return false;
}

/* Pushes `copies` bins of the pattern count, each clipped to what is
 * left. Returns: whether anything was pushed. */
static bool push_pattern(cg *g, stack *s, const size_t *count, size_t copies)
{
    bool any = false;

    for (size_t c = 0; c < copies; c++) {
        size_t e = s->start[s->bins];
        for (size_t t = 0; t < g->m; t++) {
            size_t take = count[t] < g->d[t] ? count[t] : g->d[t];
            if (take == 0)
                continue;
            s->ent_t[e] = t;
            s->ent_c[e++] = take;
            set_demand(g, t, g->d[t] - take);
        }
        if (e == s->start[s->bins])
            break; /* nothing of it is left to cover */
        s->start[++s->bins] = e;
        any = true;
    }
    return any;
}

/* Pops the bins above `bins`, giving their items back to the demands. */
static void pop_to(cg *g, stack *s, size_t bins)
{
    for (size_t e = s->start[bins]; e < s->start[s->bins]; e++)
        set_demand(g, s->ent_t[e], g->d[s->ent_t[e]] + s->ent_c[e]);
    s->bins = bins;
}

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
static bool dive(cg *g, stack *s, size_t beat, int disc)
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
    if (cg_solve(g, &bound, &z, beat - s->bins) != 0 || g->work == 0 || s->bins + bound >= beat ||
        s->bins + (size_t)ceil(z - 1e-6) >= beat)
        return false;
    cols = glp_get_num_cols(g->lp);
    /* What the LP uses whole is fixed without a branch. */
    for (int j = 1; j <= cols; j++) {
        double x = glp_get_col_prim(g->lp, j);
        if (x >= 1 - 1e-6) {
            read_column(g, j, s->count);
            push_pattern(g, s, s->count, (size_t)floor(x + 1e-6));
        }
    }
    if (s->bins > mark) {
        if (dive(g, s, beat, disc))
            return true;
        pop_to(g, s, mark);
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
        read_column(g, cand[c], pats + (size_t)c * g->m);
    for (int c = 0; c < cands && !found; c++) {
        found = push_pattern(g, s, pats + (size_t)c * g->m, 1) && dive(g, s, beat, disc - c);
        if (!found)
            pop_to(g, s, mark);
    }
    free(pats);
    return found;
}

/* Writes the stack's bins into bin_of: the items of each type in order. */
static void stack_packing(const cg *g, const stack *s, size_t *bin_of, const size_t *order)
{
    size_t *next = s->count; /* per type: its next item */

    memcpy(next, g->first, g->m * sizeof(*next));
    for (size_t b = 0; b < s->bins; b++) {
        for (size_t e = s->start[b]; e < s->start[b + 1]; e++) {
            for (size_t c = 0; c < s->ent_c[e]; c++)
                bin_of[order[next[s->ent_t[e]]++]] = b;
        }
    }
}

int ct_binpack__lp(ct_binpack_result *r, size_t *bin_of, const int64_t *sizes, const size_t *order,
                   size_t n, int64_t capacity, uint64_t work, int64_t deadline_ms)
{
    cg g = {.deadline = deadline_ms, .work = work};
    stack s = {0};
    size_t bound = 0;
    double z;
    int rc;

    if (n == 0)
        return 0;
    rc = cg_types(&g, sizes, order, n, capacity);
    /* Not even one simplex call on the packing's columns would fit the
     * budget (a million items): no LP, and no master built for nothing. */
    if (rc == 0 && SIMPLEX_COST * (uint64_t)g.m * (uint64_t)r->bins > g.work)
        rc = 1;
    if (rc == 0)
        rc = cg_master(&g, bin_of, sizes, order, n);
    if (rc == 0) {
        glp_term_out(GLP_OFF);
        if (cg_solve(&g, &bound, &z, r->bins) == 0 && bound > r->lower_bound)
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
        /* Each round allows one discrepancy more; a round that found a
         * packing is repeated to beat it. */
        for (int disc = 0;
             rc == 0 && disc <= DIVE_DISC_MAX && g.work > 0 && r->bins > r->lower_bound;) {
            if (dive(&g, &s, r->bins, disc)) {
                stack_packing(&g, &s, bin_of, order);
                r->bins = s.bins;
                r->method = "lp";
                pop_to(&g, &s, 0);
            } else
                disc++;
        }
    }
    free(s.start);
    free(s.ent_t);
    free(s.ent_c);
    free(s.count);
    cg_free(&g);
    glp_free_env(); /* GLPK's per-thread environment: nothing of it outlives the call */
    if (rc == CT_ENOMEM)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    return 0;
}
