/* Column generation for the Gilmore-Gomory LP of bin packing: GLPK
 * solves the master LP over patterns, a bounded knapsack by dynamic
 * programming prices them; the stack of bins fixed so far. */
#include "binpack_cg.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The knapsack table's size cap, in bits (pieces times capacity): beyond
 * it the instance keeps the L2 bound. */
#define TABLE_BITS_MAX ((uint64_t)1 << 28)
/* Master LP re-solves per column generation run. */
#define CG_ROUNDS_MAX 4000
/* Simplex iterations one call may take, for a master of `rows` rows
 * (hard28's take at most 171; ten times the rows is far above). */
#define SIMPLEX_ITERATIONS(rows) (10 * (rows) + 1000)
/* Weight of the best bound's prices in the smoothed ones. */
#define SMOOTHING 0.8

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
bool ct_binpack__cg_spend(ct_binpack__cg *g, uint64_t cost)
{
    if (g->work < cost || (g->deadline != 0 && ct_time_mono_ms() >= g->deadline)) {
        g->work = 0;
        return true;
    }
    g->work -= cost;
    return false;
}

void ct_binpack__cg_free(ct_binpack__cg *g)
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
int ct_binpack__cg_types(ct_binpack__cg *g, const int64_t *sizes, const size_t *order, size_t n,
                         int64_t capacity)
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
int64_t ct_binpack__cg_knapsack(ct_binpack__cg *g)
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
static void add_column(ct_binpack__cg *g, const size_t *count)
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
int ct_binpack__cg_master(ct_binpack__cg *g, const size_t *bin_of, const int64_t *sizes,
                          const size_t *order, size_t n)
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

/* Solves lp (the master, or another of g's problems) from its last basis
 * by the method given; should that one not end within
 * SIMPLEX_ITERATIONS (GLPK's primal simplex was seen to cycle for good on
 * a degenerate master: BPPLIB's AI instance 201_2500_DI_1), by the other
 * one. Returns: GLPK's status of the solution (GLP_OPT, GLP_NOFEAS...),
 * GLP_UNDEF when it was not solved. */
int ct_binpack__cg_simplex(ct_binpack__cg *g, glp_prob *lp, int method)
{
    glp_smcp parm;
    int rc = 0;

    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.it_lim = SIMPLEX_ITERATIONS(glp_get_num_rows(lp));
    for (int attempt = 0; attempt < 2; attempt++) {
        parm.meth = attempt == 0 ? method : method == GLP_PRIMAL ? GLP_DUALP : GLP_PRIMAL;
        parm.tm_lim = ct_binpack__cg_ms_left(g);
        rc = glp_simplex(lp, &parm);
        if (rc != GLP_EITLIM)
            break;
    }
    return rc == 0 ? glp_get_status(lp) : GLP_UNDEF;
}

/* The time left to g's deadline for GLPK's tm_lim, in ms (INT_MAX: no
 * deadline). */
int ct_binpack__cg_ms_left(const ct_binpack__cg *g)
{
    int64_t left;

    if (g->deadline == 0)
        return INT_MAX;
    left = g->deadline - ct_time_mono_ms();
    return left < 1 ? 1 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Column generation on the current demands until the LP is solved, the
 * bound reaches `enough`, or time is up.
 * Out: *bound, a proven lower bound on the bins the demands need; *z, the
 * last master LP value.
 * Returns: 0, or 1 when GLPK failed (no bound). */
int ct_binpack__cg_solve(ct_binpack__cg *g, size_t *bound, double *z, size_t enough)
{
    double best_farley = -1;

    *bound = 0;
    *z = 0;
    for (int round = 0; round < CG_ROUNDS_MAX; round++) {
        bool added = false;
        /* The dual simplex after demands changed (the basis stays dual
         * feasible), the primal after columns were added. */
        if (ct_binpack__cg_spend(g,
                                 SIMPLEX_COST * (uint64_t)g->m * (uint64_t)glp_get_num_cols(g->lp)))
            return 0;
        if (ct_binpack__cg_simplex(g, g->lp, round == 0 ? GLP_DUALP : GLP_PRIMAL) != GLP_OPT)
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
            if (ct_binpack__cg_spend(g, (uint64_t)g->max_pieces * (uint64_t)(g->cap + 1)))
                return 0;
            k = ct_binpack__cg_knapsack(g);
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

static void set_demand(ct_binpack__cg *g, size_t t, size_t d)
{
    g->d[t] = d;
    glp_set_row_bnds(g->lp, (int)t + 1, GLP_LO, (double)d, 0.0);
}

/* Reads the LP's column j into count (per type). */
void ct_binpack__cg_read_column(ct_binpack__cg *g, int j, size_t *count)
{
    int len = glp_get_mat_col(g->lp, j, g->ind, g->val);

    memset(count, 0, g->m * sizeof(*count));
    for (int k = 1; k <= len; k++)
        count[g->ind[k] - 1] = (size_t)lround(g->val[k]);
}

/* Pushes `copies` bins of the pattern count, each clipped to what is
 * left. Returns: whether anything was pushed. */
bool ct_binpack__cg_push(ct_binpack__cg *g, ct_binpack__stack *s, const size_t *count,
                         size_t copies)
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
void ct_binpack__cg_pop_to(ct_binpack__cg *g, ct_binpack__stack *s, size_t bins)
{
    for (size_t e = s->start[bins]; e < s->start[s->bins]; e++)
        set_demand(g, s->ent_t[e], g->d[s->ent_t[e]] + s->ent_c[e]);
    s->bins = bins;
}

/* Writes the stack's bins into bin_of: the items of each type in order. */
void ct_binpack__cg_packing(const ct_binpack__cg *g, const ct_binpack__stack *s, size_t *bin_of,
                            const size_t *order)
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
