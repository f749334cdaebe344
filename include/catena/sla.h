/* Catena sla: a VC's availability over a time window from its ledger
 * history (registration, availability changes, migrations, retirement):
 * uptime %, downtime and its intervals, and a state against a target. */
#ifndef CATENA_SLA_H
#define CATENA_SLA_H

#include <stddef.h>
#include <stdint.h>

#include "catena/util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ct_sla_kind {
    CT_SLA_REGISTERED_UP,   /* registered, available */
    CT_SLA_REGISTERED_DOWN, /* registered, not available */
    CT_SLA_UP,              /* availability changed to true */
    CT_SLA_DOWN,            /* availability changed to false */
    CT_SLA_MIGRATION_START, /* migration intent recorded */
    CT_SLA_MIGRATION_END,   /* migration confirmed by the target */
    CT_SLA_RETIRED
} ct_sla_kind;

/* One change, in chain order. */
typedef struct ct_sla_event {
    int64_t time_ms;
    ct_sla_kind kind;
} ct_sla_event;

typedef struct ct_sla_interval {
    int64_t from_ms;
    int64_t to_ms;
    const char *reason; /* "down" or "migration" (static) */
} ct_sla_interval;

typedef enum ct_sla_state { CT_SLA_OK, CT_SLA_AT_RISK, CT_SLA_VIOLATED } ct_sla_state;

typedef struct ct_sla_report {
    int64_t from_ms, to_ms; /* the window actually measured (clipped to the VC's life) */
    int64_t measured_ms;    /* length of that window */
    int64_t downtime_ms;
    double availability; /* percent, 100 when nothing was measured */
    double target;       /* percent */
    ct_sla_state state;
    ct_sla_interval *intervals; /* malloc'd, n_intervals of them */
    size_t n_intervals;
} ct_sla_report;

/* Computes availability over [from_ms, to_ms) from the events (sorted by
 * time, first one a registration).
 * Rules: time before registration or after retirement is not measured;
 * the VC is down while its last report says unavailable; the time between
 * a migration intent and its confirmation is down unless the VC reported
 * available during that time (a live migration); a state is "violated"
 * when availability < target, "at_risk" when the downtime has used 75 % or
 * more of what the target allows in the window, else "ok".
 * Out: rep (ct_sla_report_clear frees its intervals).
 * Returns: 0, CT_EINVAL (bad window, target outside 0..100, unsorted or
 * empty events), CT_ENOMEM. */
int ct_sla_compute(ct_sla_report *rep, const ct_sla_event *events, size_t n, int64_t from_ms,
                   int64_t to_ms, double target);

void ct_sla_report_clear(ct_sla_report *rep);

/* Returns: "ok", "at_risk" or "violated". */
const char *ct_sla_state_name(ct_sla_state s);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_SLA_H */
