/* Packing into a fixed number of bins by tabu search on the overflow.
 * Every item is in one of the target bins, which may overflow; each
 * step takes an overfull bin and makes the move of one or two of its
 * items (to another bin, or swapped with one item there) that lowers the
 * total overflow most, even when it raises it, with the sizes just moved
 * out of a bin kept out of it for a while. It suits instances where
 * every bin must be (nearly) exactly full, such as Falkenauer's
 * triplets, on which the trash search of binpack_search.c stalls: there
 * the items must be spread so that every bin's load is right, and swaps
 * between bins do that directly. */
#include "binpack_int.h"

#include <stdlib.h>
#include <string.h>

#define NIL CT_BINPACK__NIL
#define TABU_MIN 4 /* tabu tenure: TABU_MIN + a random 0..TABU_SPAN-1 */
#define TABU_SPAN 10
#define RUN_STEPS_PER_ITEM 10 /* the first run's steps per item; each run is half as long again */

struct ct_binpack__fill {
    size_t n, m;         /* items; bins */
    const size_t *order; /* the items, largest first */
    int64_t cap;
    ct_binpack__lists l;    /* n items in m bins */
    size_t *over, *over_at; /* the overfull bins; each bin's index there or NIL */
    size_t *heap;           /* scratch of fill_start: bins, least loaded first */
    size_t n_over;
    int64_t overflow; /* sum of max(0, load - cap) */
    uint64_t *tabu;
    uint64_t iter, evals, budget, rng, ties;
    int64_t deadline_ms;
    bool started;
    int64_t best_overflow;        /* of this run */
    uint64_t run_length, run_end; /* this run's length; the step it ends at */
};

typedef struct ct_binpack__fill fill;

/* One or two items of `from` (a2 == NIL: one) to bin `to`, and item c of
 * `to` (NIL: none) back to `from`. */
typedef struct fmove {
    size_t from, to, a1, a2, c;
    int64_t delta; /* change of the overflow */
} fmove;

static int64_t excess(const fill *f, int64_t load)
{
    return load > f->cap ? load - f->cap : 0;
}

static void mark(fill *f, size_t b)
{
    bool over = f->l.load[b] > f->cap;

    if (over && f->over_at[b] == NIL) {
        f->over_at[b] = f->n_over;
        f->over[f->n_over++] = b;
    } else if (!over && f->over_at[b] != NIL) {
        size_t last = f->over[--f->n_over];
        f->over[f->over_at[b]] = last;
        f->over_at[last] = f->over_at[b];
        f->over_at[b] = NIL;
    }
}

static void put(fill *f, size_t item, size_t b)
{
    f->overflow -= excess(f, f->l.load[b]);
    ct_binpack__list_add(&f->l, item, b);
    f->overflow += excess(f, f->l.load[b]);
    mark(f, b);
}

static void take(fill *f, size_t item)
{
    size_t b = f->l.bin_of[item];

    f->overflow -= excess(f, f->l.load[b]);
    ct_binpack__list_remove(&f->l, item);
    f->overflow += excess(f, f->l.load[b]);
    mark(f, b);
}

static size_t tabu_slot(const fill *f, size_t item, size_t b)
{
    return ct_binpack__tabu_slot(f->l.size[item], b);
}

static bool is_tabu(const fill *f, size_t item, size_t b)
{
    return item != NIL && f->tabu[tabu_slot(f, item, b)] > f->iter;
}

static void fill_free(fill *f)
{
    free(f->l.bin_of);
    free(f->l.next);
    free(f->l.prev);
    free(f->l.head);
    free(f->l.count);
    free(f->l.load);
    free(f->over);
    free(f->over_at);
    free(f->tabu);
    free(f->heap);
}

/* Sift-down of a min-heap of bins by load. */
static void heap_down(const fill *f, size_t *heap, size_t k)
{
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= f->m)
            return;
        if (c + 1 < f->m && f->l.load[heap[c + 1]] < f->l.load[heap[c]])
            c++;
        if (f->l.load[heap[k]] <= f->l.load[heap[c]])
            return;
        size_t t = heap[k];
        heap[k] = heap[c];
        heap[c] = t;
        k = c;
    }
}

/* The start: items largest first, each into the least loaded bin (the
 * longest processing time rule), which spreads the load evenly; the
 * search then works off what overflows. A restart (`shaken`) sends one
 * item in four to one of the next least loaded bins instead. */
static void fill_start(fill *f, bool shaken)
{
    size_t *heap = f->heap;

    for (size_t b = 0; b < f->m; b++) {
        f->l.head[b] = NIL;
        f->l.count[b] = 0;
        f->l.load[b] = 0;
        f->over_at[b] = NIL;
        heap[b] = b;
    }
    f->n_over = 0;
    f->overflow = 0;
    for (size_t k = 0; k < f->n; k++) {
        size_t at = 0;
        if (shaken && f->m > 3 && ct_rand_next(&f->rng) % 4 == 0)
            at = 1 + ct_rand_next(&f->rng) % 3;
        put(f, f->order[k], heap[at]);
        heap_down(f, heap, at);
    }
    memset(f->tabu, 0, CT_BINPACK__TABU_SLOTS * sizeof(*f->tabu));
    for (size_t m = f->m; m > 0; m /= 2)
        f->evals += f->n; /* a start costs about log2(m) evaluations per item */
}

static void consider(fill *f, fmove *best, const fmove *mv, int64_t best_overflow)
{
    bool tabu =
        is_tabu(f, mv->a1, mv->to) || is_tabu(f, mv->a2, mv->to) || is_tabu(f, mv->c, mv->from);

    f->evals++;
    if (tabu && f->overflow + mv->delta >= best_overflow)
        return;
    if (mv->delta > best->delta)
        return;
    if (mv->delta < best->delta)
        f->ties = 1;
    else if (ct_rand_next(&f->rng) % ++f->ties != 0)
        return;
    *best = *mv;
}

/* The best move out of overfull bin `from`. */
static void best_move(fill *f, fmove *best, size_t from, int64_t best_overflow)
{
    int64_t lf = f->l.load[from], ef = excess(f, lf);

    *best = (fmove){.delta = INT64_MAX};
    for (size_t a1 = f->l.head[from]; a1 != NIL; a1 = f->l.next[a1]) {
        for (size_t a2 = a1; a2 != NIL; a2 = f->l.next[a2]) {
            /* a2 == a1 stands for a1 alone. */
            int64_t out = f->l.size[a1] + (a2 != a1 ? f->l.size[a2] : 0);
            size_t second = a2 != a1 ? a2 : NIL;
            for (size_t to = 0; to < f->m; to++) {
                if (to == from)
                    continue;
                int64_t lt = f->l.load[to], et = excess(f, lt);
                fmove mv = {from,   to,  a1,
                            second, NIL, excess(f, lf - out) + excess(f, lt + out) - ef - et};
                consider(f, best, &mv, best_overflow);
                for (size_t c = f->l.head[to]; c != NIL; c = f->l.next[c]) {
                    int64_t d = out - f->l.size[c];
                    if (d <= 0)
                        continue; /* from would get no lighter */
                    mv.c = c;
                    mv.delta = excess(f, lf - d) + excess(f, lt + d) - ef - et;
                    consider(f, best, &mv, best_overflow);
                }
            }
        }
    }
}

static void apply(fill *f, const fmove *mv)
{
    uint64_t tenure = TABU_MIN + ct_rand_next(&f->rng) % TABU_SPAN;
    size_t moved[2] = {mv->a1, mv->a2};

    for (int k = 0; k < 2; k++) {
        if (moved[k] == NIL)
            continue;
        take(f, moved[k]);
        put(f, moved[k], mv->to);
        f->tabu[tabu_slot(f, moved[k], mv->from)] = f->iter + tenure;
    }
    if (mv->c != NIL) {
        take(f, mv->c);
        put(f, mv->c, mv->from);
        f->tabu[tabu_slot(f, mv->c, mv->to)] = f->iter + tenure;
    }
}

static bool spent(const fill *f)
{
    if (f->evals >= f->budget)
        return true;
    return f->deadline_ms != 0 && (f->iter & 63) == 0 && ct_time_mono_ms() >= f->deadline_ms;
}

void ct_binpack__fill_free(ct_binpack__fill *f)
{
    if (f == NULL)
        return;
    fill_free(f);
    free(f);
}

int ct_binpack__fill_new(ct_binpack__fill **out, size_t target, const int64_t *sizes,
                         const size_t *order, size_t n, int64_t capacity, uint64_t seed)
{
    fill *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    *f = (fill){.n = n, .m = target, .cap = capacity, .l.size = sizes, .order = order, .rng = seed};
    f->run_length = RUN_STEPS_PER_ITEM * (uint64_t)n + 1;
    f->l.bin_of = malloc(n * sizeof(*f->l.bin_of));
    f->l.next = malloc(n * sizeof(*f->l.next));
    f->l.prev = malloc(n * sizeof(*f->l.prev));
    f->l.head = malloc(target * sizeof(*f->l.head));
    f->l.count = malloc(target * sizeof(*f->l.count));
    f->l.load = malloc(target * sizeof(*f->l.load));
    f->over = malloc(target * sizeof(*f->over));
    f->over_at = malloc(target * sizeof(*f->over_at));
    f->tabu = malloc(CT_BINPACK__TABU_SLOTS * sizeof(*f->tabu));
    f->heap = malloc(target * sizeof(*f->heap));
    if (!f->l.bin_of || !f->l.next || !f->l.prev || !f->l.head || !f->l.count || !f->l.load ||
        !f->over || !f->over_at || !f->tabu || !f->heap) {
        ct_binpack__fill_free(f);
        return ct_error_set(CT_ENOMEM, "binpack: out of memory");
    }
    *out = f;
    return 0;
}

int ct_binpack__fill_run(ct_binpack__fill *f, size_t *bin_of, ct_binpack__budget *budget)
{
    fmove mv;

    if (f->m == 0)
        return 0;
    f->budget = f->evals + budget->evals_left;
    f->deadline_ms = budget->deadline_ms;
    if (!f->started) {
        fill_start(f, false);
        f->started = true;
        f->best_overflow = f->overflow;
        f->run_end = f->run_length;
    }
    while (f->overflow > 0 && !spent(f)) {
        /* Runs stop at lengths that grow geometrically: a run either
         * ends fast or wanders for long, so restarts cut the long ones. */
        if (++f->iter > f->run_end) {
            fill_start(f, true);
            f->best_overflow = f->overflow;
            f->run_length += f->run_length / 2;
            f->run_end = f->iter + f->run_length;
        }
        best_move(f, &mv, f->over[ct_rand_next(&f->rng) % f->n_over], f->best_overflow);
        if (mv.delta == INT64_MAX)
            continue;
        apply(f, &mv);
        if (f->overflow < f->best_overflow)
            f->best_overflow = f->overflow;
    }
    budget->evals_left = f->evals >= f->budget ? 0 : f->budget - f->evals;
    if (f->overflow > 0)
        return 0;
    memcpy(bin_of, f->l.bin_of, f->n * sizeof(*bin_of));
    return 1;
}
