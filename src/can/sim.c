/* The network-size experiment of seed 002, section 4.1.1: Algorithm 1's
 * join rule against random joins and crashes, box-plot statistics of the
 * size per (j, f), and the figure. */
#include "catena/can.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STEPS 100000
#define MAX_RUNS 100000
#define MAX_NODES 100000
/* Bounds the work of one call: steps x runs x pairs x nodes. */
#define MAX_WORK 4e10

static const double seed_join[] = {.2, .1, .05, .025, .01};
static const double seed_fail[] = {.5, .75};

void ct_can_sim_defaults(ct_can_sim_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->steps = 100;
    o->nmin = 4;
    o->nmax = 10;
    o->total = 100;
    o->runs = 100;
    o->seed = 1;
    o->n_join = sizeof(seed_join) / sizeof(seed_join[0]);
    o->n_fail = sizeof(seed_fail) / sizeof(seed_fail[0]);
    memcpy(o->join, seed_join, sizeof(seed_join));
    memcpy(o->fail, seed_fail, sizeof(seed_fail));
}

static int check_probs(const double *p, size_t n, const char *what)
{
    if (n == 0 || n > CT_CAN_SIM_MAX_PROBS)
        return ct_error_set(CT_EINVAL, "%s: 1 to %d probabilities", what, CT_CAN_SIM_MAX_PROBS);
    for (size_t i = 0; i < n; i++)
        if (!(p[i] >= 0 && p[i] <= 1))
            return ct_error_set(CT_EINVAL, "%s: %g is not a probability (0 to 1)", what, p[i]);
    return 0;
}

int ct_can_sim_check(const ct_can_sim_opts *o)
{
    int rc;

    if (o->steps < 1 || o->steps > MAX_STEPS)
        return ct_error_set(CT_EINVAL, "steps must be 1 to %d", MAX_STEPS);
    if (o->runs < 1 || o->runs > MAX_RUNS)
        return ct_error_set(CT_EINVAL, "runs must be 1 to %d", MAX_RUNS);
    if (o->nmin < 1 || o->nmax < o->nmin)
        return ct_error_set(CT_EINVAL, "need 1 <= nmin <= nmax (got %d and %d)", o->nmin, o->nmax);
    if (o->total < o->nmax || o->total > MAX_NODES)
        return ct_error_set(CT_EINVAL, "total must be nmax (%d) to %d", o->nmax, MAX_NODES);
    if ((rc = check_probs(o->join, o->n_join, "join")) < 0 ||
        (rc = check_probs(o->fail, o->n_fail, "fail")) < 0)
        return rc;
    if ((double)o->steps * o->runs * (double)(o->n_join * o->n_fail) * o->total > MAX_WORK)
        return ct_error_set(CT_EINVAL, "steps x runs x pairs x nodes is above %.0g", MAX_WORK);
    return 0;
}

/* One run; adds each step's size to hist (nmax + 1 bins).
 * Returns: whether the network died out at some step. */
static bool run_once(const ct_can_sim_opts *o, double j, double f, uint64_t rng, uint64_t *hist)
{
    bool emptied = false;
    int size = 1; /* the appointed leader */
    int left_before = 0, joined_before = 0;

    for (int step = 0; step < o->steps; step++) {
        int churn = left_before - joined_before;
        int candidates = o->total - size;
        int joined = 0, left = 0;

        if (o->joins == CT_CAN_SIM_ONE)
            candidates = candidates > 0 ? 1 : 0;
        for (int c = 0; c < candidates; c++) {
            if (ct_rand_unit(&rng) >= j)
                continue;
            /* Algorithm 1, listenJoin. */
            if (size >= o->nmax || (size > o->nmin && size - o->nmin > churn))
                continue;
            size++;
            joined++;
        }
        for (int m = 0; m < (o->crashes == CT_CAN_SIM_ONE && size > 0 ? 1 : size); m++)
            left += ct_rand_unit(&rng) < f;
        size -= left;
        hist[size]++;
        emptied |= size == 0;
        left_before = left;
        joined_before = joined;
    }
    return emptied;
}

/* The smallest size whose cumulative count reaches p of n. */
static int quantile(const uint64_t *hist, int bins, uint64_t n, double p)
{
    uint64_t want = (uint64_t)(p * (double)n + 0.999999), seen = 0;

    if (want == 0)
        want = 1;
    for (int s = 0; s < bins; s++) {
        seen += hist[s];
        if (seen >= want)
            return s;
    }
    return bins - 1;
}

static void summarise(ct_can_sim_stats *st, const uint64_t *hist, int bins, int nmin)
{
    uint64_t n = 0, below = 0;
    double sum = 0;

    for (int s = 0; s < bins; s++) {
        n += hist[s];
        sum += (double)s * (double)hist[s];
        if (s < nmin)
            below += hist[s];
    }
    st->q1 = quantile(hist, bins, n, 0.25);
    st->median = quantile(hist, bins, n, 0.5);
    st->q3 = quantile(hist, bins, n, 0.75);
    st->min = quantile(hist, bins, n, 0);
    st->max = 0;
    for (int s = 0; s < bins; s++)
        if (hist[s] > 0)
            st->max = s;
    double lo = st->q1 - 1.5 * (st->q3 - st->q1), hi = st->q3 + 1.5 * (st->q3 - st->q1);
    st->whisker_lo = st->q1;
    st->whisker_hi = st->q3;
    for (int s = 0; s < bins; s++) {
        if (hist[s] == 0)
            continue;
        if (s >= lo && s < st->whisker_lo)
            st->whisker_lo = s;
        if (s <= hi && s > st->whisker_hi)
            st->whisker_hi = s;
    }
    st->mean = sum / (double)n;
    st->below_min = (double)below / (double)n;
    st->empty = (double)hist[0] / (double)n;
}

int ct_can_sim_run(const ct_can_sim_opts *o, ct_can_sim_stats *out)
{
    int bins, rc;
    uint64_t *hist;

    if ((rc = ct_can_sim_check(o)) < 0)
        return rc;
    bins = o->nmax + 1;
    if ((hist = calloc((size_t)bins, sizeof(*hist))) == NULL)
        return ct_error_set(CT_ENOMEM, "can sim: out of memory");
    for (size_t fi = 0; fi < o->n_fail; fi++) {
        for (size_t ji = 0; ji < o->n_join; ji++) {
            ct_can_sim_stats *st = &out[fi * o->n_join + ji];
            memset(st, 0, sizeof(*st));
            memset(hist, 0, (size_t)bins * sizeof(*hist));
            int emptied = 0;
            for (int r = 0; r < o->runs; r++) {
                /* A stream of its own per (seed, j, f, run). */
                uint64_t key = o->seed ^ 0x5bd1e9955bd1e995ULL;
                uint64_t mix[3] = {(uint64_t)ji + 1, (uint64_t)fi + 1, (uint64_t)r + 1};
                for (int k = 0; k < 3; k++) {
                    key ^= mix[k];
                    key = ct_rand_next(&key);
                }
                emptied += run_once(o, o->join[ji], o->fail[fi], key, hist);
            }
            st->join = o->join[ji];
            st->fail = o->fail[fi];
            summarise(st, hist, bins, o->nmin);
            st->runs_emptied = (double)emptied / o->runs;
        }
    }
    free(hist);
    return 0;
}

/* ---------------------------------------------------------------- figure */

#define PANEL_W 360
#define PANEL_H 300
#define MARGIN_L 50
#define MARGIN_T 40
#define MARGIN_B 50

static double y_of(int size, int nmax)
{
    return MARGIN_T + PANEL_H - (double)size * PANEL_H / (double)nmax;
}

static int panel(ct_buf *b, const ct_can_sim_opts *o, const ct_can_sim_stats *st, size_t fi,
                 double x0)
{
    int rc = 0;
    double slot = (double)PANEL_W / (double)o->n_join;
    int ticks = o->nmax <= 10 ? 1 : (o->nmax + 9) / 10;

    rc |= ct_buf_appendf(b, "<text x=\"%.1f\" y=\"24\" text-anchor=\"middle\">f = %g</text>\n",
                         x0 + PANEL_W / 2.0, o->fail[fi]);
    rc |= ct_buf_appendf(b,
                         "<rect x=\"%.1f\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                         "stroke=\"#444\"/>\n",
                         x0, MARGIN_T, PANEL_W, PANEL_H);
    for (int s = 0; s <= o->nmax && rc == 0; s += ticks)
        rc |= ct_buf_appendf(b,
                             "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%d"
                             "</text>\n",
                             x0 - 6, y_of(s, o->nmax) + 4, s);
    rc |= ct_buf_appendf(b,
                         "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#c33\" "
                         "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
                         "fill=\"#c33\">Nmin</text>\n",
                         x0, x0 + PANEL_W, y_of(o->nmin, o->nmax), y_of(o->nmin, o->nmax),
                         x0 + PANEL_W - 30, y_of(o->nmin, o->nmax) - 3);
    for (size_t ji = 0; ji < o->n_join && rc == 0; ji++) {
        const ct_can_sim_stats *s = &st[fi * o->n_join + ji];
        double cx = x0 + slot * ((double)ji + 0.5), w = slot * 0.5;
        double yq1 = y_of(s->q1, o->nmax), yq3 = y_of(s->q3, o->nmax);
        rc |= ct_buf_appendf(b,
                             "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                             "stroke=\"#333\"/>\n",
                             cx, cx, y_of(s->whisker_lo, o->nmax), y_of(s->whisker_hi, o->nmax));
        rc |= ct_buf_appendf(b,
                             "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                             "fill=\"#9cf\" stroke=\"#333\"/>\n",
                             cx - w / 2, yq3, w, yq1 - yq3 > 1 ? yq1 - yq3 : 1);
        rc |= ct_buf_appendf(b,
                             "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                             "stroke=\"#000\" stroke-width=\"2\"/>\n",
                             cx - w / 2, cx + w / 2, y_of(s->median, o->nmax),
                             y_of(s->median, o->nmax));
        rc |= ct_buf_appendf(b,
                             "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#06c\"><title>mean "
                             "%.2f</title></circle>\n",
                             cx, MARGIN_T + PANEL_H - s->mean * PANEL_H / o->nmax, s->mean);
        rc |= ct_buf_appendf(b,
                             "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                             "font-size=\"11\">%g</text>\n",
                             cx, MARGIN_T + PANEL_H + 16, s->join);
    }
    rc |= ct_buf_appendf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">j</text>\n",
                         x0 + PANEL_W / 2.0, MARGIN_T + PANEL_H + 36);
    return rc != 0 ? ct_error_set(CT_ENOMEM, "can sim: out of memory") : 0;
}

int ct_can_sim_svg(ct_buf *out, const ct_can_sim_opts *o, const ct_can_sim_stats *st)
{
    int width = (int)o->n_fail * (PANEL_W + MARGIN_L) + 20;
    int height = MARGIN_T + PANEL_H + MARGIN_B;
    int rc;

    rc = ct_buf_appendf(out,
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                        "font-family=\"sans-serif\" font-size=\"13\">\n"
                        "<title>CAN size, Nmin %d, Nmax %d, %d steps x %d runs</title>\n"
                        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                        width, height, o->nmin, o->nmax, o->steps, o->runs);
    for (size_t fi = 0; fi < o->n_fail && rc == 0; fi++)
        rc = panel(out, o, st, fi, MARGIN_L + (double)fi * (PANEL_W + MARGIN_L));
    if (rc == 0 && ct_buf_appendf(out, "</svg>\n") != 0)
        rc = ct_error_set(CT_ENOMEM, "can sim: out of memory");
    return rc;
}
