/* The orchestrator loop (seed 002 section 5.1): deploy in dependency order,
 * watch, redeploy what fails up to the retry count, and record each step
 * as a checkpoint before going on, so that whoever continues the work
 * knows what runs. */
#include "catena/orch.h"
#include "catena/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long an APP_SHUTDOWN is offered to the store once stop is set. */
#define FINAL_STORE_MS 30000
/* A service that fails a health check is checked again after this long
 * before it counts as down (one lost answer is no failure). */
#define RECHECK_MS 300

typedef struct runner {
    const ct_orch_plan *p;
    ct_orch_driver *d;
    const ct_orch_run_opts *o;
    ct_orch_instance *running; /* per service: its instance (id "" if none) */
    bool *up;                  /* per service: running as far as we know */
    unsigned *downs;           /* per service: SERVICE_DOWN so far, and failed starts */
    int64_t last_ok;           /* monotonic time of the last APP_OK */
} runner;

static bool abandoned(const runner *r)
{
    return r->o->abandon != NULL && atomic_load(r->o->abandon);
}

/* Stop asked for, or the work given up: either way the loop winds down. */
static bool stopping(const runner *r)
{
    return (r->o->stop != NULL && atomic_load(r->o->stop)) || abandoned(r);
}

/* Records one checkpoint, trying again every second while the store
 * fails: until stop is set, or for FINAL_STORE_MS for an APP_SHUTDOWN. A
 * store that answers CT_EAUTH (the work is someone else's now) is not
 * asked again. */
static int record(runner *r, ct_orch_kind kind, size_t k)
{
    ct_orch_checkpoint cp;
    int64_t until = ct_time_mono_ms() + FINAL_STORE_MS;
    int rc;

    memset(&cp, 0, sizeof(cp));
    cp.kind = kind;
    cp.time_ms = ct_time_now_ms();
    cp.service = k == SIZE_MAX ? 0 : (uint32_t)k;
    snprintf(cp.orchestrator, sizeof(cp.orchestrator), "%s", r->o->orchestrator);
    if (kind == CT_ORCH_SERVICE_UP)
        cp.inst = r->running[k];
    while ((rc = r->o->store(&cp, r->o->payload)) < 0) {
        bool final = kind == CT_ORCH_APP_SHUTDOWN;
        if (rc == CT_EAUTH)
            return rc;
        ct_log(CT_LOG_WARN, "orchestrator: cannot record %s: %s", ct_orch_kind_name(kind),
               ct_error_last());
        if (final ? ct_time_mono_ms() >= until : stopping(r))
            return rc;
        ct_sleep_ms(1000);
    }
    if (kind == CT_ORCH_APP_OK)
        r->last_ok = ct_time_mono_ms();
    return 0;
}

/* Takes over what the checkpoints say runs. Returns: true when they end
 * with APP_SHUTDOWN (nothing left to do). */
static bool resume(runner *r)
{
    for (size_t i = 0; i < r->o->n_resume; i++) {
        const ct_orch_checkpoint *cp = &r->o->resume[i];
        if (cp->kind == CT_ORCH_APP_SHUTDOWN)
            return true;
        if (cp->service >= r->p->n)
            continue;
        if (cp->kind == CT_ORCH_SERVICE_UP) {
            r->running[cp->service] = cp->inst;
            r->up[cp->service] = true;
        } else if (cp->kind == CT_ORCH_SERVICE_DOWN) {
            r->up[cp->service] = false;
            r->downs[cp->service]++;
        }
    }
    return false;
}

static bool exhausted(const runner *r, size_t k)
{
    return r->downs[k] > r->o->retries;
}

/* Health of service k, with one quick second look before saying no. */
static bool healthy(runner *r, size_t k)
{
    const ct_orch_service *svc = &r->p->services[k];

    if (r->d->healthy(r->d, svc, &r->running[k]))
        return true;
    ct_sleep_ms(RECHECK_MS);
    return r->d->healthy(r->d, svc, &r->running[k]);
}

/* Starts service k until it runs, counting failed starts against its
 * retries. Returns: 0 (running, SERVICE_UP recorded), 1 (retries used up),
 * or the store's error. */
static int start(runner *r, size_t k)
{
    while (!stopping(r)) {
        ct_orch_instance inst;
        if (r->d->start(r->d, &inst, r->p, k, r->running) == 0) {
            r->running[k] = inst;
            r->up[k] = true;
            return record(r, CT_ORCH_SERVICE_UP, k);
        }
        ct_log(CT_LOG_WARN, "orchestrator: service %s: %s", r->p->services[k].name,
               ct_error_last());
        r->downs[k]++;
        if (exhausted(r, k))
            return 1;
        ct_sleep_ms(500);
    }
    return 0;
}

/* Marks service k down (SERVICE_DOWN) and starts it again.
 * Returns: as start. */
static int redeploy(runner *r, size_t k)
{
    int rc;

    ct_log(CT_LOG_WARN, "orchestrator: service %s is down", r->p->services[k].name);
    r->up[k] = false;
    r->d->stop(r->d, &r->running[k]); /* whatever is left of it */
    if ((rc = record(r, CT_ORCH_SERVICE_DOWN, k)) < 0)
        return rc;
    r->downs[k]++;
    return exhausted(r, k) ? 1 : start(r, k);
}

/* Brings every service up in plan order, keeping healthy ones.
 * Returns: 0, 1 (a service used up its retries), or the store's error. */
static int deploy_all(runner *r)
{
    int rc = 0;

    for (size_t k = 0; k < r->p->n && rc == 0 && !stopping(r); k++) {
        if (r->up[k] && healthy(r, k))
            continue;
        rc = r->up[k] ? redeploy(r, k) : start(r, k);
    }
    return rc;
}

/* Stops the services, dependants first, and records APP_SHUTDOWN. */
static int shut_down(runner *r)
{
    for (size_t k = r->p->n; k-- > 0;)
        if (r->running[k].id[0] != '\0' && r->d->stop(r->d, &r->running[k]) < 0)
            ct_log(CT_LOG_WARN, "orchestrator: %s", ct_error_last());
    return record(r, CT_ORCH_APP_SHUTDOWN, SIZE_MAX);
}

/* Sleeps ms, waking early when stop is set. */
static void nap(const runner *r, int ms)
{
    for (int slept = 0; slept < ms && !stopping(r); slept += 50)
        ct_sleep_ms(50);
}

static int watch(runner *r)
{
    int rc = 0;

    while (rc == 0 && !stopping(r)) {
        bool recovered = false;
        nap(r, r->o->check_interval_ms);
        for (size_t k = 0; k < r->p->n && rc == 0 && !stopping(r); k++)
            if (!healthy(r, k)) {
                rc = redeploy(r, k);
                recovered = true;
            }
        if (rc == 0 && !stopping(r) &&
            (recovered || ct_time_mono_ms() - r->last_ok >= r->o->ok_interval_ms))
            rc = record(r, CT_ORCH_APP_OK, SIZE_MAX);
    }
    return rc;
}

int ct_orch_run(const ct_orch_plan *p, ct_orch_driver *d, const ct_orch_run_opts *o)
{
    runner r = {.p = p, .d = d, .o = o};
    int rc = 0;

    r.running = calloc(p->n, sizeof(*r.running));
    r.up = calloc(p->n, sizeof(*r.up));
    r.downs = calloc(p->n, sizeof(*r.downs));
    if (r.running == NULL || r.up == NULL || r.downs == NULL) {
        rc = ct_error_set(CT_ENOMEM, "orchestrator: out of memory");
        goto done;
    }
    if (resume(&r))
        goto done;
    if ((rc = deploy_all(&r)) == 0 && !stopping(&r) &&
        (rc = record(&r, CT_ORCH_APP_OK, SIZE_MAX)) == 0)
        rc = watch(&r);
    if (rc >= 0 && abandoned(&r))
        rc = ct_error_set(CT_ESTATE, "orchestrator: the work was given up");
    else if (rc >= 0)
        rc = shut_down(&r);
done:
    free(r.running);
    free(r.up);
    free(r.downs);
    return rc;
}
