/* Availability of a VC over a window, from its ledger history: a sweep
 * over the state changes that collects the down intervals. */
#include "catena/sla.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct sweep {
    bool alive;     /* registered and not retired */
    bool up;        /* last availability report */
    bool migrating; /* between intent and confirmation */
    bool live;      /* reported available during the migration */
};

/* Returns: why the VC is down now ("down", "migration"), or NULL if up. */
static const char *down_reason(const struct sweep *s)
{
    if (!s->alive)
        return NULL;
    if (!s->up)
        return "down";
    return s->migrating && !s->live ? "migration" : NULL;
}

static void apply(struct sweep *s, ct_sla_kind kind)
{
    switch (kind) {
    case CT_SLA_REGISTERED_UP: s->alive = s->up = true; break;
    case CT_SLA_REGISTERED_DOWN: s->alive = true, s->up = false; break;
    case CT_SLA_UP:
        s->up = true;
        s->live |= s->migrating;
        break;
    case CT_SLA_DOWN: s->up = false; break;
    case CT_SLA_MIGRATION_START: s->migrating = true, s->live = false; break;
    case CT_SLA_MIGRATION_END: s->migrating = false; break;
    case CT_SLA_RETIRED: s->alive = false; break;
    }
}

static int add_interval(ct_sla_report *r, size_t *cap, int64_t from, int64_t to, const char *why)
{
    if (from < r->from_ms)
        from = r->from_ms;
    if (to > r->to_ms)
        to = r->to_ms;
    if (to <= from)
        return 0;
    if (r->n_intervals == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        ct_sla_interval *p = realloc(r->intervals, ncap * sizeof(*p));
        if (p == NULL)
            return ct_error_set(CT_ENOMEM, "sla: out of memory");
        r->intervals = p;
        *cap = ncap;
    }
    r->intervals[r->n_intervals++] = (ct_sla_interval){from, to, why};
    r->downtime_ms += to - from;
    return 0;
}

static int validate(const ct_sla_event *ev, size_t n, int64_t from, int64_t to, double target)
{
    if (n == 0 || (ev[0].kind != CT_SLA_REGISTERED_UP && ev[0].kind != CT_SLA_REGISTERED_DOWN))
        return ct_error_set(CT_EINVAL, "sla: history must start with the registration");
    if (to <= from)
        return ct_error_set(CT_EINVAL, "sla: window end must be after its start");
    if (!(target >= 0 && target <= 100))
        return ct_error_set(CT_EINVAL, "sla: target must be a percentage 0..100");
    for (size_t i = 1; i < n; i++)
        if (ev[i].time_ms < ev[i - 1].time_ms)
            return ct_error_set(CT_EINVAL, "sla: events out of order at %zu", i);
    return 0;
}

/* The measured window: the requested one clipped to the VC's life. */
static void clip_window(ct_sla_report *r, const ct_sla_event *ev, size_t n)
{
    if (r->from_ms < ev[0].time_ms)
        r->from_ms = ev[0].time_ms;
    for (size_t i = 0; i < n; i++)
        if (ev[i].kind == CT_SLA_RETIRED && ev[i].time_ms < r->to_ms)
            r->to_ms = ev[i].time_ms;
    if (r->to_ms < r->from_ms)
        r->to_ms = r->from_ms;
    r->measured_ms = r->to_ms - r->from_ms;
}

static void judge(ct_sla_report *r)
{
    double allowed = (double)r->measured_ms * (100.0 - r->target) / 100.0;

    r->availability = r->measured_ms > 0 ? 100.0 * (double)(r->measured_ms - r->downtime_ms) /
                                               (double)r->measured_ms
                                         : 100.0;
    if (r->availability < r->target)
        r->state = CT_SLA_VIOLATED;
    else if (r->downtime_ms > 0 && (double)r->downtime_ms >= 0.75 * allowed)
        r->state = CT_SLA_AT_RISK;
    else
        r->state = CT_SLA_OK;
}

int ct_sla_compute(ct_sla_report *rep, const ct_sla_event *ev, size_t n, int64_t from_ms,
                   int64_t to_ms, double target)
{
    struct sweep s = {0};
    int64_t since = 0;
    size_t cap = 0;
    int rc;

    memset(rep, 0, sizeof(*rep));
    if ((rc = validate(ev, n, from_ms, to_ms, target)) < 0)
        return rc;
    rep->from_ms = from_ms;
    rep->to_ms = to_ms;
    rep->target = target;
    clip_window(rep, ev, n);
    for (size_t i = 0; i < n; i++) {
        const char *before = down_reason(&s), *after;
        apply(&s, ev[i].kind);
        after = down_reason(&s);
        if (before == after)
            continue;
        if (before != NULL && (rc = add_interval(rep, &cap, since, ev[i].time_ms, before)) < 0)
            goto fail;
        since = ev[i].time_ms;
    }
    if (down_reason(&s) != NULL &&
        (rc = add_interval(rep, &cap, since, rep->to_ms, down_reason(&s))) < 0)
        goto fail;
    judge(rep);
    return 0;
fail:
    ct_sla_report_clear(rep);
    return rc;
}

void ct_sla_report_clear(ct_sla_report *rep)
{
    free(rep->intervals);
    rep->intervals = NULL;
    rep->n_intervals = 0;
}

const char *ct_sla_state_name(ct_sla_state s)
{
    return s == CT_SLA_OK ? "ok" : s == CT_SLA_AT_RISK ? "at_risk" : "violated";
}
