/* Reduced cost enumeration for bin packing: the patterns a packing into
 * the LP bound may use, and GLPK's MIP over them (see below). */
#include "binpack_cg.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
/* A MIP node's charge per row and column (measured beside SIMPLEX_COST). */
#define MIP_COST (4 * SIMPLEX_COST)
/* Cells of the table of what the types from i on can still be worth. */
#define ENUM_TABLE_MAX ((uint64_t)1 << 23)

/* Fills e->upper from the last type back (bounded knapsacks).
 * Returns: false when out of work. */
static bool enum_table(ct_binpack__enum *e)
{
    ct_binpack__cg *g = e->g;
    size_t width = (size_t)g->cap + 1;

    for (size_t c = 0; c < width; c++)
        e->upper[g->m * width + c] = 0;
    for (size_t i = g->m; i-- > 0;) {
        int64_t *row = e->upper + i * width, *next = row + width;
        size_t most = (size_t)(g->cap / g->w[i]) < g->d[i] ? (size_t)(g->cap / g->w[i]) : g->d[i];
        if (ct_binpack__cg_spend(g, (uint64_t)width * (most + 1)))
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
static bool enum_maximal(const ct_binpack__enum *e, int64_t room)
{
    for (size_t t = 0; t < e->g->m; t++) {
        if (e->count[t] < e->g->d[t] && e->g->w[t] <= room)
            return false;
    }
    return true;
}

/* Lists the maximal patterns from type i on, with `room` left and `value`
 * so far. */
static void enum_dfs(ct_binpack__enum *e, size_t i, int64_t room, int64_t value)
{
    ct_binpack__cg *g = e->g;
    size_t width = (size_t)g->cap + 1, most;

    if (e->overflow || ct_binpack__cg_spend(g, 1))
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

/* GLPK's MIP callback: charges each subproblem to the work budget, and
 * ends the search at the first packing (any packing into e->bins bins is
 * what is sought). Charging each round of cuts too (GLP_IPREPRO) made
 * GLPK run longer per unit charged, not shorter. */
static void enum_node(glp_tree *tree, void *info)
{
    ct_binpack__cg *g = info;
    glp_prob *mip = glp_ios_get_prob(tree);

    if (glp_ios_reason(tree) == GLP_IBINGO)
        glp_ios_terminate(tree);
    else if (glp_ios_reason(tree) == GLP_ISELECT &&
             ct_binpack__cg_spend(g, MIP_COST * (uint64_t)glp_get_num_rows(mip) *
                                         (uint64_t)glp_get_num_cols(mip)))
        glp_ios_terminate(tree);
}

/* GLPK's MIP over the listed patterns: at least d[t] items of each type,
 * at most e->bins bins, their reduced costs (K - price) within the gap. */
static glp_prob *enum_mip(ct_binpack__cg *g, const ct_binpack__enum *e)
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
static bool enum_packing(ct_binpack__cg *g, const ct_binpack__enum *e, glp_prob *mip,
                         ct_binpack__stack *s, size_t *bins, size_t *bin_of, const size_t *order)
{
    size_t left = 0;
    bool ok;

    for (size_t p = 0; p < e->npats; p++) {
        double x = glp_mip_col_val(mip, (int)p + 1);
        if (x > 0.5)
            ct_binpack__cg_push(g, s, e->pats + p * g->m, (size_t)lround(x));
    }
    for (size_t t = 0; t < g->m; t++)
        left += g->d[t];
    ok = left == 0 && s->bins <= e->bins;
    if (ok) {
        ct_binpack__cg_packing(g, s, bin_of, order);
        *bins = s->bins;
    }
    ct_binpack__cg_pop_to(g, s, 0);
    return ok;
}

/* Solves enum_mip, by depth first search (attempt 0) or with Gomory cuts
 * (1): each was several times faster than the other on hard28, the
 * first at finding packings, the second at proving there is none (and
 * GLPK's defaults slower than both). The root LP is solved first by
 * ct_binpack__cg_simplex, capped (GLPK's own solve of it is not), and an
 * infeasible root is a proof at once. GLPK's presolver stays on: without
 * it hard28's 359 and 60 went undecided.
 * Returns: 1 found (bin_of holds it, *bins its bins), 0 none exists, -1
 * out of work, -2 GLPK failed. */
static int enum_run(ct_binpack__cg *g, const ct_binpack__enum *e, ct_binpack__stack *s,
                    size_t *bins, size_t *bin_of, const size_t *order, int attempt)
{
    glp_prob *mip = enum_mip(g, e);
    glp_iocp parm;
    int rc, status;

    if (ct_binpack__cg_spend(g, MIP_COST * (uint64_t)glp_get_num_rows(mip) *
                                    (uint64_t)glp_get_num_cols(mip)))
        status = GLP_UNDEF;
    else
        status = ct_binpack__cg_simplex(g, mip, GLP_PRIMAL);
    if (status != GLP_OPT) {
        glp_delete_prob(mip);
        return status == GLP_NOFEAS ? 0 : g->work == 0 ? -1 : -2;
    }
    glp_init_iocp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.cb_func = enum_node;
    parm.cb_info = g;
    parm.br_tech = GLP_BR_MFV;
    if (attempt == 0)
        parm.bt_tech = GLP_BT_DFS;
    else
        parm.gmi_cuts = GLP_ON;
    parm.tm_lim = ct_binpack__cg_ms_left(g);
    parm.presolve = GLP_ON;
    status = glp_intopt(mip, &parm);
    if (glp_mip_status(mip) == GLP_OPT || glp_mip_status(mip) == GLP_FEAS)
        rc = enum_packing(g, e, mip, s, bins, bin_of, order) ? 1 : -2;
    else if (status == GLP_ENOPFS || (status == 0 && glp_mip_status(mip) == GLP_NOFEAS))
        rc = 0; /* the presolver or the search found none */
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
static int enum_list(ct_binpack__cg *g, ct_binpack__enum *e)
{
    size_t bound, width = (size_t)g->cap + 1;
    int64_t num = 0, v;
    double z;

    if (ct_binpack__cg_solve(g, &bound, &z, SIZE_MAX) != 0)
        return -2;
    if (bound > e->bins)
        return 0;
    for (size_t t = 0; t < g->m; t++) {
        double pi = glp_get_row_dual(g->lp, (int)t + 1);
        pi = pi < 0 || g->d[t] == 0 ? 0 : pi > 1 ? 1 : pi;
        g->price[t] = (int64_t)floor(pi * PRICE_SCALE);
        if (__builtin_mul_overflow(g->price[t], (int64_t)g->d[t], &v) ||
            __builtin_add_overflow(num, v, &num))
            return -2;
    }
    if (ct_binpack__cg_spend(g, (uint64_t)g->max_pieces * (uint64_t)width))
        return -1;
    if ((e->k = ct_binpack__cg_knapsack(g)) <= 0)
        return -2;
    if (__builtin_mul_overflow((int64_t)e->bins, e->k, &v) ||
        __builtin_sub_overflow(v, num, &e->gap))
        return -2;
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
    if (enum_table(e))
        enum_dfs(e, 0, g->cap, 0);
    /* The table (up to 64 MiB) is not needed past the list: not kept
     * through the dive. */
    free(e->upper);
    free(e->count);
    e->upper = NULL;
    e->count = NULL;
    if (e->overflow)
        return -2;
    if (g->work == 0)
        return -1;
    return e->npats > 0 ? 1 : 0; /* no pattern: no packing either */
}

/* Runs the MIP on the listed patterns with `work` of its own (the LP's
 * budget is left as it was), half for each attempt, or all of it for the
 * second (the proof's) when prove; and takes what it finds: the packing,
 * or that none exists (the bound rises by one).
 * Returns: as enum_run. */
int ct_binpack__enum_try(ct_binpack__cg *g, const ct_binpack__enum *e, ct_binpack__stack *s,
                         ct_binpack_result *r, size_t *bin_of, const size_t *order, uint64_t work,
                         bool prove)
{
    uint64_t saved = g->work;
    size_t bins = e->bins;
    int rc = -1;

    if (e->npats == 0 || e->bins != r->lower_bound)
        return -2; /* not to be called: enum_list said so, or the bound moved */
    for (int attempt = prove ? 1 : 0; attempt < 2 && rc == -1; attempt++) {
        g->work = prove ? work : attempt == 0 ? work / 2 : work - work / 2;
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
int ct_binpack__enum_first(ct_binpack__cg *g, ct_binpack__enum *e, ct_binpack__stack *s,
                           ct_binpack_result *r, size_t *bin_of, const size_t *order, uint64_t work)
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
        rc = ct_binpack__enum_try(g, e, s, r, bin_of, order, work, false);
    else
        rc = -2; /* no whole list: nothing to try again */
    return rc;
}

void ct_binpack__enum_free(ct_binpack__enum *e)
{
    free(e->upper);
    free(e->count);
    free(e->price);
    free(e->pats);
}
