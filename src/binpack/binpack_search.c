/* The bin packing entry point and the trash search. To save a bin,
 * three bins of the best packing are emptied into a trash of loose items;
 * a tabu search then swaps trash items with packed ones until what is left
 * fits two bins (after the consistent neighbourhood search of Buljubasic
 * and Vasquez, 2016), restarting from other bins when it stalls. AUTO
 * alternates it with the overflow search of binpack_fill.c. */
#include "binpack_int.h"

#include <stdlib.h>
#include <string.h>

#define NIL CT_BINPACK__NIL
#define DROP_BINS 3      /* bins emptied into the trash per attempt */
#define PAIRS_MAX 64     /* pairs are formed among a list's first 64 items */
#define TRASH_GROWTH 16  /* the trash may hold this many items more than at start */
#define SCAN_MAX 4       /* trash subsets tried below the best fitting one */
#define SPLIT_NODES 4096 /* node cap of the two-bin check */
#define TABU_MIN 3       /* tabu tenure: TABU_MIN + a random 0..TABU_SPAN-1 */
#define TABU_SPAN 8
#define STALL 3000 /* iterations without a lighter trash before a restart */

/* At most two items (a == NIL: none; b == NIL: at most one). */
typedef struct subset {
    int64_t sum;
    size_t a, b;
} subset;

/* Swap subset p of bin `bin` with subset q of the trash. */
typedef struct move {
    size_t bin;
    subset p, q;
    int64_t dw; /* change of the trash's weight: minimised first */
    int dc;     /* change of the trash's item count: maximised next, as
                   many small loose items pack more easily than few big */
} move;

typedef struct search {
    size_t n, m, k; /* items; bins kept; bins the trash must fit (1 or 2) */
    int64_t cap;
    ct_binpack__lists l; /* n items in m + 1 bins: bin m is the trash, load[m] its weight */
    uint64_t *tabu;      /* CT_BINPACK__TABU_SLOTS: (bin, size) -> first iteration allowed */
    subset *q;           /* trash subsets, ascending by sum */
    size_t nq, trash_max;
    size_t *split;   /* scratch: trash items, largest first; a bin map */
    int64_t *suffix; /* scratch: their suffix sums; bin loads */
    bool *in_first;  /* n: the two-bin split found */
    uint64_t iter, evals, budget, rng, ties;
    int64_t deadline_ms; /* 0: none */
} search;

static void list_remove(search *s, size_t item)
{
    ct_binpack__list_remove(&s->l, item);
}

static void list_add(search *s, size_t item, size_t b)
{
    ct_binpack__list_add(&s->l, item, b);
}

static void search_free(search *s)
{
    free(s->l.bin_of);
    free(s->l.next);
    free(s->l.prev);
    free(s->l.head);
    free(s->l.count);
    free(s->l.load);
    free(s->tabu);
    free(s->q);
    free(s->split);
    free(s->suffix);
    free(s->in_first);
}

static int search_alloc(search *s, size_t n)
{
    size_t m = n + 1, qmax = n + PAIRS_MAX * (PAIRS_MAX - 1) / 2 + 1;

    s->l.bin_of = malloc(m * sizeof(*s->l.bin_of));
    s->l.next = malloc(m * sizeof(*s->l.next));
    s->l.prev = malloc(m * sizeof(*s->l.prev));
    s->l.head = malloc(m * sizeof(*s->l.head));
    s->l.count = malloc(m * sizeof(*s->l.count));
    s->l.load = malloc(m * sizeof(*s->l.load));
    s->tabu = malloc(CT_BINPACK__TABU_SLOTS * sizeof(*s->tabu));
    s->q = malloc(qmax * sizeof(*s->q));
    s->split = malloc(m * sizeof(*s->split));
    s->suffix = malloc((m + 1) * sizeof(*s->suffix));
    s->in_first = malloc(m * sizeof(*s->in_first));
    if (!s->l.bin_of || !s->l.next || !s->l.prev || !s->l.head || !s->l.count || !s->l.load ||
        !s->tabu || !s->q || !s->split || !s->suffix || !s->in_first) {
        search_free(s);
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    }
    return 0;
}

/* Marks in map (bins entries) the r bins to empty with NIL: `random` of
 * them drawn at random, the rest the emptiest. */
static void pick_drops(search *s, size_t *map, const int64_t *load, size_t bins, size_t r,
                       size_t random)
{
    for (size_t b = 0; b < bins; b++)
        map[b] = 0;
    for (size_t t = 0; t < r; t++) {
        size_t pick = NIL;
        if (t < random) {
            do
                pick = (size_t)(ct_rand_next(&s->rng) % bins);
            while (map[pick] == NIL);
        } else {
            for (size_t b = 0; b < bins; b++)
                if (map[b] != NIL && (pick == NIL || load[b] < load[pick]))
                    pick = b;
        }
        map[pick] = NIL;
    }
}

/* Loads a packing of `bins` bins with r of them emptied into the trash
 * (see pick_drops); the others keep their order as bins 0..m-1. */
static void search_start(search *s, const size_t *bin_of, size_t bins, size_t r, size_t random)
{
    size_t *map = s->split, next = 0;
    int64_t *load = s->suffix;

    memset(load, 0, bins * sizeof(*load));
    for (size_t i = 0; i < s->n; i++)
        load[bin_of[i]] += s->l.size[i];
    pick_drops(s, map, load, bins, r, random);
    for (size_t b = 0; b < bins; b++)
        map[b] = map[b] == NIL ? s->m : next++;
    for (size_t b = 0; b <= s->m; b++) {
        s->l.head[b] = NIL;
        s->l.count[b] = 0;
        s->l.load[b] = 0;
    }
    for (size_t i = s->n; i-- > 0;)
        list_add(s, i, map[bin_of[i]]);
    memset(s->tabu, 0, CT_BINPACK__TABU_SLOTS * sizeof(*s->tabu));
    s->trash_max = s->l.count[s->m] + TRASH_GROWTH;
}

/* Looks for a subset of split[i..] that brings sum into [lo, cap]
 * (branch and bound, largest items first); marks it in in_first. */
static bool split_dfs(search *s, size_t ns, size_t i, int64_t sum, int64_t lo, uint64_t *nodes)
{
    size_t item;

    if (sum >= lo)
        return true;
    if (i == ns || sum + s->suffix[i] < lo || ++*nodes > SPLIT_NODES)
        return false;
    item = s->split[i];
    if (sum + s->l.size[item] <= s->cap) {
        s->in_first[item] = true;
        if (split_dfs(s, ns, i + 1, sum + s->l.size[item], lo, nodes))
            return true;
        s->in_first[item] = false;
    }
    /* Leaving out an item the same size as one just tried adds nothing. */
    while (i + 1 < ns && s->l.size[s->split[i + 1]] == s->l.size[item])
        i++;
    return split_dfs(s, ns, i + 1, sum, lo, nodes);
}

/* Returns: whether the trash fits k bins; the items of the first bin are
 * then marked in in_first, the rest go to the second. */
static bool trash_fits(search *s)
{
    int64_t w = s->l.load[s->m];
    size_t ns = 0;
    uint64_t nodes = 0;
    bool fits;

    for (size_t i = s->l.head[s->m]; i != NIL; i = s->l.next[i])
        s->in_first[i] = w <= s->cap;
    if (w <= s->cap)
        return true;
    if (s->k < 2 || w > 2 * s->cap || s->l.count[s->m] > 2 * PAIRS_MAX)
        return false;
    for (size_t i = s->l.head[s->m]; i != NIL; i = s->l.next[i]) {
        size_t j = ns++;
        for (; j > 0 && s->l.size[s->split[j - 1]] < s->l.size[i]; j--)
            s->split[j] = s->split[j - 1];
        s->split[j] = i;
    }
    s->suffix[ns] = 0;
    for (size_t j = ns; j-- > 0;)
        s->suffix[j] = s->suffix[j + 1] + s->l.size[s->split[j]];
    fits = split_dfs(s, ns, 0, 0, w - s->cap, &nodes);
    s->evals += nodes + ns * ns;
    return fits;
}

static int cmp_subset(const void *x, const void *y)
{
    const subset *a = x, *b = y;

    if (a->sum != b->sum)
        return a->sum < b->sum ? -1 : 1;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return a->b < b->b ? -1 : (a->b > b->b);
}

/* Lists the trash's single items and pairs, ascending by total size. */
static void build_trash_subsets(search *s)
{
    size_t k = 0, nq = 0;

    for (size_t i = s->l.head[s->m]; i != NIL; i = s->l.next[i], k++) {
        s->q[nq++] = (subset){s->l.size[i], i, NIL};
        size_t k2 = k + 1;
        for (size_t j = s->l.next[i]; j != NIL && k2 < PAIRS_MAX; j = s->l.next[j], k2++)
            s->q[nq++] = (subset){s->l.size[i] + s->l.size[j], i, j};
    }
    qsort(s->q, nq, sizeof(*s->q), cmp_subset);
    s->nq = nq;
    s->evals += nq;
}

/* Returns: how many trash subsets weigh at most room. */
static size_t fitting_subsets(const search *s, int64_t room)
{
    size_t lo = 0, hi = s->nq;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->q[mid].sum <= room)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int subset_size(const subset *x)
{
    return x->a == NIL ? 0 : x->b == NIL ? 1 : 2;
}

static size_t tabu_slot(const search *s, size_t item, size_t b)
{
    return ct_binpack__tabu_slot(s->l.size[item], b);
}

static bool is_tabu(const search *s, size_t item, size_t b)
{
    return item != NIL && s->tabu[tabu_slot(s, item, b)] > s->iter;
}

/* Returns: whether swapping p and q only renames items of equal sizes. */
static bool same_sizes(const search *s, const subset *p, const subset *q)
{
    int n = subset_size(p);

    if (n != subset_size(q))
        return false;
    if (n == 1)
        return s->l.size[p->a] == s->l.size[q->a];
    return (s->l.size[p->a] == s->l.size[q->a] && s->l.size[p->b] == s->l.size[q->b]) ||
           (s->l.size[p->a] == s->l.size[q->b] && s->l.size[p->b] == s->l.size[q->a]);
}

/* Considers swapping p (out of bin b) with the heaviest trash subsets
 * that fit; keeps the best in *best (ties: a fair random choice). Tabu
 * swaps count only when they make the trash lighter than ever. */
static void consider(search *s, move *best, size_t b, const subset *p, int64_t best_w)
{
    size_t k = fitting_subsets(s, s->cap - s->l.load[b] + p->sum);
    bool trash_full = s->l.count[s->m] >= s->trash_max;

    s->evals++;
    for (size_t scanned = 0; k-- > 0 && scanned < SCAN_MAX; scanned++) {
        const subset *q = &s->q[k];
        move mv = {b, *p, *q, p->sum - q->sum, subset_size(p) - subset_size(q)};
        if (mv.dw > best->dw)
            return; /* lighter subsets only get worse */
        if ((mv.dc > 0 && trash_full) || same_sizes(s, p, q))
            continue;
        if ((is_tabu(s, q->a, b) || is_tabu(s, q->b, b)) && s->l.load[s->m] + mv.dw >= best_w)
            continue;
        if (mv.dw == best->dw && mv.dc < best->dc)
            continue;
        if (mv.dw < best->dw || mv.dc > best->dc)
            s->ties = 1;
        else if (ct_rand_next(&s->rng) % ++s->ties != 0)
            continue;
        *best = mv;
    }
}

/* Finds the best swap over every bin and every p of at most two items.
 * Returns: false when there is none (all tabu). */
static bool best_move(search *s, move *best, int64_t best_w)
{
    *best = (move){.dw = INT64_MAX, .dc = -3};
    for (size_t b = 0; b < s->m; b++) {
        subset p = {0, NIL, NIL};
        size_t k = 0;
        consider(s, best, b, &p, best_w);
        for (size_t i = s->l.head[b]; i != NIL; i = s->l.next[i], k++) {
            p = (subset){s->l.size[i], i, NIL};
            consider(s, best, b, &p, best_w);
            size_t k2 = k + 1;
            for (size_t j = s->l.next[i]; j != NIL && k2 < PAIRS_MAX; j = s->l.next[j], k2++) {
                p = (subset){s->l.size[i] + s->l.size[j], i, j};
                consider(s, best, b, &p, best_w);
            }
        }
    }
    return best->dw != INT64_MAX;
}

/* Moves x to bin `to`; with a tenure, its sizes may not return to `from`
 * for that many iterations. */
static void move_items(search *s, const subset *x, size_t from, size_t to, uint64_t tenure)
{
    size_t items[2] = {x->a, x->b};

    for (int k = 0; k < 2; k++) {
        if (items[k] == NIL)
            continue;
        list_remove(s, items[k]);
        list_add(s, items[k], to);
        if (tenure > 0)
            s->tabu[tabu_slot(s, items[k], from)] = s->iter + tenure;
    }
}

static void apply_move(search *s, const move *mv)
{
    uint64_t tenure = TABU_MIN + ct_rand_next(&s->rng) % TABU_SPAN;

    move_items(s, &mv->p, mv->bin, s->m, tenure);
    move_items(s, &mv->q, s->m, mv->bin, 0);
}

static bool out_of_budget(const search *s)
{
    if (s->evals >= s->budget)
        return true;
    return s->deadline_ms != 0 && (s->iter & 63) == 0 && ct_time_mono_ms() >= s->deadline_ms;
}

enum { SHRINK_FAILED, SHRINK_DONE, SHRINK_STALLED };

/* Runs the tabu search until the trash fits k bins, the budget is spent
 * or the trash has not got lighter for STALL iterations. */
static int shrink_trash(search *s)
{
    int64_t best_w = s->l.load[s->m];
    uint64_t improved = s->iter;
    move mv;

    while (!trash_fits(s)) {
        if (s->m == 0 || out_of_budget(s))
            return SHRINK_FAILED;
        if (s->iter - improved > STALL)
            return SHRINK_STALLED;
        s->iter++;
        build_trash_subsets(s);
        if (!best_move(s, &mv, best_w))
            continue;
        apply_move(s, &mv);
        if (s->l.load[s->m] < best_w) {
            best_w = s->l.load[s->m];
            improved = s->iter;
        }
    }
    return SHRINK_DONE;
}

/* Writes the packing found: bins 0..m-1, then the trash's one or two.
 * Returns: the number of bins. */
static size_t search_result(const search *s, size_t *bin_of)
{
    bool second = false;

    for (size_t i = 0; i < s->n; i++) {
        bin_of[i] = s->l.bin_of[i];
        if (bin_of[i] == s->m && !s->in_first[i]) {
            bin_of[i] = s->m + 1;
            second = true;
        }
    }
    return s->m + (second ? 2 : s->l.count[s->m] > 0 ? 1 : 0);
}

/* The trash search as a resumable object: an attempt to save a bin that
 * runs out of budget goes on at the next repack. */
typedef struct trash {
    search s;
    bool active; /* an attempt is under way */
    size_t r;    /* its bins emptied */
} trash;

/* Tries to repack a valid packing (bin_of, *bins bins) into fewer bins,
 * down to lower_bound, spending from *budget.
 * On return bin_of and *bins hold the best packing found (never worse). */
static void repack(trash *t, size_t *bins, size_t *bin_of, size_t lower_bound,
                   ct_binpack__budget *budget)
{
    search *s = &t->s;

    s->budget = s->evals + budget->evals_left;
    s->deadline_ms = budget->deadline_ms;
    for (;;) {
        if (!t->active) {
            if (*bins <= lower_bound || *bins <= 1)
                break;
            t->r = *bins < DROP_BINS ? *bins : DROP_BINS;
            s->m = *bins - t->r;
            s->k = t->r - 1;
            /* First the emptiest bins; after a stall, one of them at random. */
            search_start(s, bin_of, *bins, t->r, 0);
            t->active = true;
        }
        int rc = shrink_trash(s);
        if (rc == SHRINK_STALLED) {
            search_start(s, bin_of, *bins, t->r, 1);
            continue;
        }
        if (rc == SHRINK_FAILED)
            break; /* out of budget: the attempt goes on next time */
        *bins = search_result(s, bin_of);
        t->active = false;
    }
    budget->evals_left = s->evals >= s->budget ? 0 : s->budget - s->evals;
}

void ct_binpack_opts_init(ct_binpack_opts *opts)
{
    *opts = (ct_binpack_opts){.algo = CT_BINPACK_AUTO,
                              .seed = 1,
                              .effort = CT_BINPACK_DEFAULT_EFFORT,
                              .time_limit_ms = 0};
}

/* Runs FFD or BFD into bin_of. */
static int greedy(size_t *out_bins, size_t *bin_of, const int64_t *sizes, const size_t *order,
                  size_t n, int64_t capacity, bool best_fit)
{
    if (best_fit)
        return ct_binpack__bfd(out_bins, bin_of, sizes, order, n, capacity);
    return ct_binpack__ffd(out_bins, bin_of, sizes, order, n, capacity);
}

/* The LP's work budget (binpack_lp.c): 30 units per move evaluation of
 * the effort, by default about 0.7 s here. */

#define LP_TURN 6
static uint64_t lp_work(const ct_binpack_opts *opts)
{
    return (opts->effort ? opts->effort : CT_BINPACK_DEFAULT_EFFORT) * 30;
}

/* AUTO after FFD: BFD when it does better, then two searches in turn,
 * each going on where it stopped with a slice of the effort that doubles
 * at every turn: the tabu search on the overflow for a packing into
 * lower-bound bins, and the trash search, which saves bins one at a time
 * (and so also finds packings above the bound). Each is fast on instances
 * where the other wanders (exactly full bins; slack to spare), and
 * neither knows in advance which kind it has. When their first turns
 * have not met the bound, the LP (binpack_lp.c) raises the bound where it
 * can (by its value, or by proving it cannot be met) and looks for a
 * packing; it is slower than the searches' first turns, but finds what
 * they miss where every bin must be nearly full (hard28). The overflow
 * search then aims at the new bound. */
static int improve(ct_binpack_result *r, size_t *bin_of, const int64_t *sizes, const size_t *order,
                   size_t n, int64_t capacity, const ct_binpack_opts *opts)
{
    size_t *other = malloc(n * sizeof(*other)), other_bins, before, target;
    uint64_t effort = opts->effort ? opts->effort : CT_BINPACK_DEFAULT_EFFORT, left = effort;
    /* A turn costs each search O(n) to set up: slices start well above. */
    uint64_t slice = effort / 64 > 8 * (uint64_t)n ? effort / 64 : 8 * (uint64_t)n;
    ct_binpack__budget budget = {
        .deadline_ms = opts->time_limit_ms > 0 ? ct_time_mono_ms() + opts->time_limit_ms : 0};
    trash t = {.s = {.n = n, .cap = capacity, .l.size = sizes, .rng = opts->seed}};
    ct_binpack__fill *fill = NULL;
    int rc;

    if (other == NULL)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    rc = greedy(&other_bins, other, sizes, order, n, capacity, true);
    if (rc == 0 && other_bins < r->bins) {
        memcpy(bin_of, other, n * sizeof(*bin_of));
        r->bins = other_bins;
        r->method = "bfd";
    }
    free(other);
    before = r->bins;
    target = r->lower_bound;
    if (rc == 0 && r->bins > r->lower_bound &&
        ((rc = ct_binpack__fill_new(&fill, target, sizes, order, n, capacity, opts->seed)) < 0 ||
         (rc = search_alloc(&t.s, n)) < 0)) {
        ct_binpack__fill_free(fill);
        return rc;
    }
    for (int turn = 0; rc == 0 && r->bins > r->lower_bound && left > 0; turn++) {
        if (turn == LP_TURN) {
            rc = ct_binpack__lp(r, bin_of, sizes, order, n, capacity, lp_work(opts),
                                budget.deadline_ms);
            if (rc == 0 && strcmp(r->method, "lp") == 0) {
                before = r->bins; /* the LP's, not the searches' */
                t.active = false; /* its attempt began from the packing before */
            }
            if (rc < 0 || r->bins <= r->lower_bound)
                break;
            if (r->lower_bound > target) {
                ct_binpack__fill_free(fill);
                fill = NULL;
                target = r->lower_bound;
                if ((rc = ct_binpack__fill_new(&fill, target, sizes, order, n, capacity,
                                               opts->seed)) < 0)
                    break;
            }
        }
        budget.evals_left = slice < left ? slice : left;
        left -= budget.evals_left;
        if (turn % 2 == 0 && (rc = ct_binpack__fill_run(fill, bin_of, &budget)) == 1) {
            r->bins = r->lower_bound;
            rc = 0;
        } else if (turn % 2 == 1) {
            repack(&t, &r->bins, bin_of, r->lower_bound, &budget);
            slice *= 2;
        }
        left += budget.evals_left; /* what a search did not spend */
        if (budget.deadline_ms != 0 && ct_time_mono_ms() >= budget.deadline_ms)
            break;
    }
    ct_binpack__fill_free(fill);
    search_free(&t.s); /* its arrays are NULL when it never ran */
    r->evaluations = effort - left;
    if (r->bins < before)
        r->method = "search";
    return rc;
}

int ct_binpack_solve(ct_binpack_result *out, size_t *bin_of, const int64_t *sizes, size_t n,
                     int64_t capacity, const ct_binpack_opts *opts)
{
    ct_binpack_opts defaults;
    ct_binpack_result r = {.method = "ffd"};
    size_t *order = NULL;
    int rc;

    if (opts == NULL) {
        ct_binpack_opts_init(&defaults);
        opts = &defaults;
    }
    if ((rc = ct_binpack_validate(sizes, n, capacity)) < 0 ||
        (rc = ct_binpack__order_desc(&order, sizes, n)) < 0)
        return rc;
    rc = ct_binpack__lower_bound_ordered(&r.lower_bound, sizes, order, n, capacity);
    if (rc == 0)
        rc = greedy(&r.bins, bin_of, sizes, order, n, capacity, opts->algo == CT_BINPACK_BFD);
    if (opts->algo == CT_BINPACK_BFD)
        r.method = "bfd";
    if (rc == 0 && opts->algo == CT_BINPACK_AUTO && r.bins > r.lower_bound)
        rc = improve(&r, bin_of, sizes, order, n, capacity, opts);
    free(order);
    r.optimal = r.bins == r.lower_bound;
    if (rc == 0)
        *out = r;
    return rc;
}
