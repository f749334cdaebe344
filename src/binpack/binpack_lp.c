/* The Gilmore-Gomory LP bound on the number of bins, by column generation
 * (GLPK solves the master LP, a bounded knapsack by dynamic programming
 * prices the patterns); a dive on its solutions for packings: fix what
 * the LP uses whole, choose a pattern for the largest item left among
 * those the LP uses, solve again; limited discrepancy search over those
 * choices, with the LP bound cutting every branch that cannot beat the
 * best packing; and reduced cost enumeration, which decides exactly
 * whether a packing meets the bound where the bound is close. */
#include "binpack_int.h"

#include <glpk.h>
#include <limits.h>
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
/* Simplex iterations one call may take, for a master of `rows` rows
 * (hard28's take at most 171; ten times the rows is far above). */
#define SIMPLEX_ITERATIONS(rows) (10 * (rows) + 1000)
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
    g->ind = malloc((g->m + 3) * sizeof(*g->ind)); /* m rows and enum_mip's two */
    g->val = malloc((g->m + 3) * sizeof(*g->val));
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

/* Solves the master LP from its last basis by the method given; should
 * that one not end within SIMPLEX_ITERATIONS (GLPK's primal simplex was
 * seen to cycle for good on a degenerate master: BPPLIB's AI instance
 * 201_2500_DI_1), by the other one.
 * Returns: 0, or 1 when the LP is not solved. */
static int simplex(cg *g, int method)
{
    glp_smcp parm;
    int rc = 0;

    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.it_lim = SIMPLEX_ITERATIONS(glp_get_num_rows(g->lp));
    for (int attempt = 0; attempt < 2; attempt++) {
        parm.meth = attempt == 0 ? method : method == GLP_PRIMAL ? GLP_DUALP : GLP_PRIMAL;
        if (g->deadline != 0) {
            int64_t left = g->deadline - ct_time_mono_ms();
            parm.tm_lim = left < 1 ? 1 : left > INT_MAX ? INT_MAX : (int)left;
        }
        rc = glp_simplex(g->lp, &parm);
        if (rc != GLP_EITLIM)
            break;
    }
    return rc == 0 && glp_get_status(g->lp) == GLP_OPT ? 0 : 1;
}

/* Column generation on the current demands until the LP is solved, the
 * bound reaches `enough`, or time is up.
 * Out: *bound, a proven lower bound on the bins the demands need; *z, the
 * last master LP value.
 * Returns: 0, or 1 when GLPK failed (no bound). */
static int cg_solve(cg *g, size_t *bound, double *z, size_t enough)
{
    double best_farley = -1;

    *bound = 0;
    *z = 0;
    for (int round = 0; round < CG_ROUNDS_MAX; round++) {
        bool added = false;
        /* The dual simplex after demands changed (the basis stays dual
         * feasible), the primal after columns were added. */
        if (spend(g, SIMPLEX_COST * (uint64_t)g->m * (uint64_t)glp_get_num_cols(g->lp)))
            return 0;
        if (simplex(g, round == 0 ? GLP_DUALP : GLP_PRIMAL) != 0)
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
            if (*bound >= enough || (enough != SIZE_MAX && (double)*bound >= ceil(*z - 1e-9)))
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

/* Reduced cost enumeration: with dual prices pi >= 0 and K the most any
 * pattern is worth, a packing into T bins uses only patterns p with
 * K - v(p) <= T K - sum(d pi) (each pattern's reduced cost is at least 0,
 * and together they cost at most the gap between T and the bound). Where
 * the LP bound is within a small fraction of T, these patterns are few:
 * all of them (maximal ones: covering allows extra items) are listed, and
 * GLPK's MIP over them finds a packing into T bins or proves there is
 * none. */

/* Patterns the enumeration may list before it gives up (GLPK's MIP
 * nodes take 60 ms here with 11,500 columns, a few with 700). */
#define ENUM_MAX 3000
/* The enumeration's work before the dive and after it, as parts of the
 * LP's. */
#define ENUM_FIRST 8
#define ENUM_THEN 1
/* A MIP node's charge per row and column (measured beside SIMPLEX_COST). */
#define MIP_COST (4 * SIMPLEX_COST)
/* Cells of the table of what the types from i on can still be worth. */
#define ENUM_TABLE_MAX ((uint64_t)1 << 23)

typedef struct enumer {
    cg *g;
    size_t bins;    /* the packing sought: into this many bins */
    int64_t k, gap; /* the best pattern's price; T K - sum(d price) */
    int64_t need;   /* a pattern's price must reach this: K - gap */
    int64_t *price; /* per type: the prices of the list (the dive changes g->price) */
    int64_t *upper; /* upper[i * (cap + 1) + c]: the most types i.. fit in c */
    size_t *count;  /* the pattern being built */
    size_t *pats;   /* the patterns found, m counts each */
    size_t npats, max;
    bool overflow;
} enumer;

/* Fills e->upper from the last type back (bounded knapsacks).
 * Returns: false when out of work. */
static bool enum_table(enumer *e)
{
    cg *g = e->g;
    size_t width = (size_t)g->cap + 1;

    for (size_t c = 0; c < width; c++)
        e->upper[g->m * width + c] = 0;
    for (size_t i = g->m; i-- > 0;) {
        int64_t *row = e->upper + i * width, *next = row + width;
        size_t most = (size_t)(g->cap / g->w[i]) < g->d[i] ? (size_t)(g->cap / g->w[i]) : g->d[i];
        if (spend(g, (uint64_t)width * (most + 1)))
            return false;
        for (size_t c = 0; c < width; c++) {
            int64_t best = next[c];
            for (size_t k = 1; k <= g->d[i] && (int64_t)k * g->w[i] <= (int64_t)c; k++) {
                int64_t v = (int64_t)k * e->price[i] + next[c - k * (size_t)g->w[i]];
                if (v > best)
                    best = v;
            }
            row[c] = best;
        }
    }
    return true;
}

/* Whether the pattern in e->count has room for no more of any type. */
static bool enum_maximal(const enumer *e, int64_t room)
{
    for (size_t t = 0; t < e->g->m; t++) {
        if (e->count[t] < e->g->d[t] && e->g->w[t] <= room)
            return false;
    }
    return true;
}

/* Lists the maximal patterns from type i on, with `room` left and `value`
 * so far. */
static void enum_dfs(enumer *e, size_t i, int64_t room, int64_t value)
{
    cg *g = e->g;
    size_t width = (size_t)g->cap + 1, most;

    if (e->overflow || spend(g, 1))
        return;
    if (value + e->upper[i * width + (size_t)room] < e->need)
        return;
    if (i == g->m) {
        if (!enum_maximal(e, room))
            return;
        if (e->npats == ENUM_MAX) {
            e->overflow = true;
            return;
        }
        if (e->npats == e->max) {
            size_t max = e->max ? 2 * e->max : 1024;
            size_t *p = realloc(e->pats, max * g->m * sizeof(*p));
            if (p == NULL) {
                e->overflow = true;
                return;
            }
            e->pats = p;
            e->max = max;
        }
        memcpy(e->pats + e->npats++ * g->m, e->count, g->m * sizeof(*e->count));
        return;
    }
    most = (size_t)(room / g->w[i]);
    if (most > g->d[i])
        most = g->d[i];
    for (size_t k = most + 1; k-- > 0;) {
        e->count[i] = k;
        enum_dfs(e, i + 1, room - (int64_t)k * g->w[i], value + (int64_t)k * e->price[i]);
    }
    e->count[i] = 0;
}

/* GLPK's MIP callback: charges each node to the work budget. */
static void enum_node(glp_tree *tree, void *info)
{
    cg *g = info;
    glp_prob *mip = glp_ios_get_prob(tree);

    if (glp_ios_reason(tree) == GLP_ISELECT &&
        spend(g, MIP_COST * (uint64_t)glp_get_num_rows(mip) * (uint64_t)glp_get_num_cols(mip)))
        glp_ios_terminate(tree);
}

/* GLPK's MIP over the listed patterns: at least d[t] items of each type,
 * at most e->bins bins, their reduced costs (K - price) within the gap. */
static glp_prob *enum_mip(cg *g, const enumer *e)
{
    glp_prob *mip = glp_create_prob();
    int rows = (int)g->m + 2;

    glp_add_rows(mip, rows);
    for (size_t t = 0; t < g->m; t++)
        glp_set_row_bnds(mip, (int)t + 1, GLP_LO, (double)g->d[t], 0.0);
    glp_set_row_bnds(mip, rows - 1, GLP_UP, 0.0, (double)e->gap);
    glp_set_row_bnds(mip, rows, GLP_UP, 0.0, (double)e->bins);
    glp_set_obj_dir(mip, GLP_MIN);
    glp_add_cols(mip, (int)e->npats);
    for (size_t p = 0; p < e->npats; p++) {
        const size_t *c = e->pats + p * g->m;
        int len = 0, j = (int)p + 1;
        int64_t v = 0;
        size_t most = 0; /* copies beyond it cover nothing more */
        for (size_t t = 0; t < g->m; t++) {
            if (c[t] == 0)
                continue;
            g->ind[++len] = (int)t + 1;
            g->val[len] = (double)c[t];
            v += (int64_t)c[t] * e->price[t];
            if ((g->d[t] + c[t] - 1) / c[t] > most)
                most = (g->d[t] + c[t] - 1) / c[t];
        }
        g->ind[++len] = rows - 1;
        g->val[len] = (double)(e->k - v);
        g->ind[++len] = rows;
        g->val[len] = 1.0;
        glp_set_mat_col(mip, j, len, g->ind, g->val);
        glp_set_col_kind(mip, j, GLP_IV);
        glp_set_col_bnds(mip, j, GLP_DB, 0.0, (double)most);
        glp_set_obj_coef(mip, j, 1.0);
    }
    return mip;
}

/* The MIP's solution as the packing: each pattern as often as it is
 * used, clipped to what is left. Returns: whether it packs every item
 * into at most e->bins bins (then bin_of holds it, *bins its bins). */
static bool enum_packing(cg *g, const enumer *e, glp_prob *mip, stack *s, size_t *bins,
                         size_t *bin_of, const size_t *order)
{
    size_t left = 0;
    bool ok;

    for (size_t p = 0; p < e->npats; p++) {
        double x = glp_mip_col_val(mip, (int)p + 1);
        if (x > 0.5)
            push_pattern(g, s, e->pats + p * g->m, (size_t)lround(x));
    }
    for (size_t t = 0; t < g->m; t++)
        left += g->d[t];
    ok = left == 0 && s->bins <= e->bins;
    if (ok) {
        stack_packing(g, s, bin_of, order);
        *bins = s->bins;
    }
    pop_to(g, s, 0);
    return ok;
}

/* Solves enum_mip, by depth first search (attempt 0) or with Gomory cuts
 * (1): each was several times faster than the other on hard28, the
 * first at finding packings, the second at proving there is none (and
 * GLPK's defaults slower than both).
 * Returns: 1 found (bin_of holds it, *bins its bins), 0 none exists, -1
 * out of work, -2 GLPK failed. */
static int enum_run(cg *g, const enumer *e, stack *s, size_t *bins, size_t *bin_of,
                    const size_t *order, int attempt)
{
    glp_prob *mip = enum_mip(g, e);
    glp_iocp parm;
    int rc, status;

    glp_init_iocp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    parm.cb_func = enum_node;
    parm.cb_info = g;
    parm.br_tech = GLP_BR_MFV;
    if (attempt == 0)
        parm.bt_tech = GLP_BT_DFS;
    else
        parm.gmi_cuts = GLP_ON;
    if (g->deadline != 0) {
        int64_t left = g->deadline - ct_time_mono_ms();
        parm.tm_lim = left < 1 ? 1 : left > INT_MAX ? INT_MAX : (int)left;
    }
    status = glp_intopt(mip, &parm);
    if (status == GLP_ENOPFS || status == GLP_ENODFS ||
        (status == 0 && glp_mip_status(mip) == GLP_NOFEAS))
        rc = 0; /* the presolver or the search found none */
    else if (glp_mip_status(mip) == GLP_OPT || glp_mip_status(mip) == GLP_FEAS)
        rc = enum_packing(g, e, mip, s, bins, bin_of, order) ? 1 : -2;
    else
        rc = status == GLP_ESTOP || status == GLP_ETMLIM ? -1 : -2;
    glp_delete_prob(mip);
    return rc;
}

/* Lists the patterns a packing into e->bins bins may use, with the LP's
 * own duals as prices (its bound is the highest, the gap the least).
 * Returns: 1 listed, 0 no such packing (the LP bound is above), -1 out
 * of work, -2 not for this instance (too many patterns, a gap of a bin
 * or more, no memory, GLPK failed). */
static int enum_list(cg *g, enumer *e)
{
    size_t bound, width = (size_t)g->cap + 1;
    int64_t num = 0;
    double z;

    if (cg_solve(g, &bound, &z, SIZE_MAX) != 0)
        return -2;
    if (bound > e->bins)
        return 0;
    for (size_t t = 0; t < g->m; t++) {
        double pi = glp_get_row_dual(g->lp, (int)t + 1);
        pi = pi < 0 || g->d[t] == 0 ? 0 : pi > 1 ? 1 : pi;
        g->price[t] = (int64_t)floor(pi * PRICE_SCALE);
        num += g->price[t] * (int64_t)g->d[t];
    }
    if (spend(g, (uint64_t)g->max_pieces * (uint64_t)width))
        return -1;
    if ((e->k = knapsack(g)) <= 0)
        return -2;
    e->gap = (int64_t)e->bins * e->k - num;
    if (e->gap < 0)
        return 0;
    e->need = e->k - e->gap;
    if (e->need <= 0 || (uint64_t)(g->m + 1) * width > ENUM_TABLE_MAX)
        return -2;
    e->upper = malloc((g->m + 1) * width * sizeof(*e->upper));
    e->count = calloc(g->m, sizeof(*e->count));
    e->price = malloc(g->m * sizeof(*e->price));
    if (e->upper == NULL || e->count == NULL || e->price == NULL)
        return -2;
    memcpy(e->price, g->price, g->m * sizeof(*e->price));
    if (!enum_table(e))
        return -1;
    enum_dfs(e, 0, g->cap, 0);
    if (e->overflow)
        return -2;
    if (g->work == 0)
        return -1;
    return e->npats > 0 ? 1 : 0; /* no pattern: no packing either */
}

/* Runs the MIP on the listed patterns with `work` of its own (the LP's
 * budget is left as it was), half for each attempt, and takes what it
 * finds: the packing, or that none exists (the bound rises by one).
 * Returns: as enum_run. */
static int enum_try(cg *g, const enumer *e, stack *s, ct_binpack_result *r, size_t *bin_of,
                    const size_t *order, uint64_t work)
{
    uint64_t saved = g->work;
    size_t bins = e->bins;
    int rc = -1;

    if (e->npats == 0)
        return -2; /* enum_list said so: not to be called */
    for (int attempt = 0; attempt < 2 && rc == -1; attempt++) {
        g->work = attempt == 0 ? work / 2 : work - work / 2;
        rc = enum_run(g, e, s, &bins, bin_of, order, attempt);
    }
    g->work = saved;
    if (rc == 1) {
        r->bins = bins;
        r->method = "lp";
    } else if (rc == 0)
        r->lower_bound++;
    return rc;
}

/* The enumeration for a packing into r->lower_bound bins, first on a
 * share of the work: it decides at once where the LP bound is within a
 * hair of the optimum. On a copy of the master, so as not to change the
 * dive's course with the columns its LP solution adds.
 * Returns: as enum_run, or -2 when there is no list to try again. */
static int enum_first(cg *g, enumer *e, stack *s, ct_binpack_result *r, size_t *bin_of,
                      const size_t *order, uint64_t work)
{
    uint64_t saved = g->work;
    glp_prob *master = g->lp;
    int rc;

    e->g = g;
    e->bins = r->lower_bound;
    g->lp = glp_create_prob();
    glp_copy_prob(g->lp, master, GLP_OFF);
    g->work = work;
    rc = enum_list(g, e);
    g->work = saved;
    glp_delete_prob(g->lp);
    g->lp = master;
    if (rc == 0)
        r->lower_bound++;
    else if (rc == 1)
        rc = enum_try(g, e, s, r, bin_of, order, work);
    else
        rc = -2; /* no whole list: nothing to try again */
    return rc;
}

int ct_binpack__lp(ct_binpack_result *r, size_t *bin_of, const int64_t *sizes, const size_t *order,
                   size_t n, int64_t capacity, uint64_t work, int64_t deadline_ms)
{
    cg g = {.deadline = deadline_ms, .work = work};
    stack s = {0};
    enumer e = {0};
    size_t bound = 0;
    double z;
    bool again = false; /* the enumeration ran out of work */
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
        /* The enumeration first on a small share: it decides at once
         * where the bound is within a hair of the optimum; then the
         * dive; then the enumeration again, on a larger share. */
        if (rc == 0)
            again = enum_first(&g, &e, &s, r, bin_of, order, work / ENUM_FIRST) == -1;
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
        /* The same list again, on a larger share. */
        if (rc == 0 && again && r->bins > r->lower_bound)
            enum_try(&g, &e, &s, r, bin_of, order, work / ENUM_THEN);
    }
    free(s.start);
    free(s.ent_t);
    free(s.ent_c);
    free(s.count);
    free(e.upper);
    free(e.count);
    free(e.price);
    free(e.pats);
    cg_free(&g);
    glp_free_env(); /* GLPK's per-thread environment: nothing of it outlives the call */
    if (rc == CT_ENOMEM)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    return 0;
}
