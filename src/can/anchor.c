/* Applications on the CAN (seed 002 section 5): a work entry whose id is an
 * Application contract's address is that application, its description
 * the TOSCA document whose hash the contract holds. The leader checks both
 * when the work is assigned and each checkpoint an orchestrator stores,
 * puts every checkpoint's metadata on the contract in ledger order
 * (addCheckpoint with its index, so a new leader resending one is
 * refused), pays them (interimPayment, k estimated to fit a block) and
 * finishes the work once APP_SHUTDOWN is on chain. */
#include "can_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/crypto.h"

/* How far ahead of the leader's clock a checkpoint's time may be (the
 * contract allows a minute ahead of the block). */
#define FUTURE_MS 30000
#define ANCHOR_PERIOD_MS 500

json_t *ct_can__chain_read(ct_can_node *n, const ct_ledger *abi, const ct_address *at,
                           const char *fn, json_t *args)
{
    json_t *out = NULL, *v = NULL, *a = args ? args : json_array();

    /* One ct_rpc is not for two threads at once (handlers and the loop). */
    pthread_mutex_lock(&n->rpc_mu);
    if (ct_ledger_read(abi, n->rpc, &out, at, fn, a) == 0)
        v = json_incref(json_array_get(out, 0));
    pthread_mutex_unlock(&n->rpc_mu);
    json_decref(a);
    json_decref(out);
    return v;
}

bool ct_can__app_of(ct_address *app, const char *work)
{
    return work != NULL && strlen(work) == 42 && ct_address_parse(app, work) == 0;
}

/* An address a view returns, or false. */
static bool read_address(ct_can_node *n, ct_address *out, const ct_ledger *abi,
                         const ct_address *at, const char *fn)
{
    json_t *v = ct_can__chain_read(n, abi, at, fn, NULL);
    bool ok = json_is_string(v) && ct_address_parse(out, json_string_value(v)) == 0;

    json_decref(v);
    ct_error_clear();
    return ok;
}

static bool read_true(ct_can_node *n, const ct_ledger *abi, const ct_address *at, const char *fn,
                      const ct_address *arg)
{
    char text[CT_ADDRESS_TEXT_SIZE];
    json_t *v;
    bool yes;

    ct_address_format(text, arg);
    v = ct_can__chain_read(n, abi, at, fn, json_pack("[s]", text));
    yes = json_is_true(v);
    json_decref(v);
    return yes;
}

int ct_can__check_app_work(ct_can_node *n, const ct_address *app, const char *description)
{
    ct_address reg, cloud;
    char want[67], text[CT_ADDRESS_TEXT_SIZE];
    uint8_t hash[32];
    json_t *have;
    int rc = 0;

    ct_address_format(text, app);
    /* An application of a Cloud this network's Registry knows. */
    if (!read_address(n, &reg, n->app_abi, app, "registry") ||
        memcmp(reg.b, n->o.registry.b, sizeof(reg.b)) != 0 ||
        !read_address(n, &cloud, n->app_abi, app, "cloud") ||
        !read_true(n, n->reg, &n->o.registry, "isCloud", &cloud) ||
        !read_true(n, n->cloud_abi, &cloud, "isApplication", app))
        return ct_error_set(CT_ENOTFOUND,
                            "unknown application %s: no Application of a Cloud this "
                            "network's Registry lists",
                            text);
    ct_keccak256(hash, description, strlen(description));
    ct_hex_encode(want, sizeof(want), hash, 32, true);
    have = ct_can__chain_read(n, n->app_abi, app, "toscaHash", NULL);
    if (!json_is_string(have))
        rc = ct_error_set(CT_ERPC, "reading %s's toscaHash", text);
    else if (strcasecmp(json_string_value(have), want) != 0)
        rc = ct_error_set(CT_EINVAL,
                          "the description is not application %s's TOSCA document (its "
                          "keccak-256 %s, the contract's toscaHash %s)",
                          text, want, json_string_value(have));
    json_decref(have);
    return rc;
}

/* The metadata of a checkpoint an orchestrator stored: its data is the JSON
 * of ct_orch_checkpoint_json. */
typedef struct meta {
    int kind; /* Application.Kind */
    int64_t time_ms;
    uint32_t service;
    ct_address orchestrator;
} meta;

static const char *const kinds[] = {"SERVICE_UP", "SERVICE_DOWN", "APP_OK", "APP_SHUTDOWN"};

static int parse_meta(meta *m, const uint8_t *data, size_t len)
{
    json_t *v = json_loadb((const char *)data, len, 0, NULL);
    const char *type = json_string_value(json_object_get(v, "type"));
    const char *orch = json_string_value(json_object_get(v, "orchestrator"));
    json_t *time = json_object_get(v, "time"), *index = json_object_get(v, "index");
    int rc = 0;

    memset(m, 0, sizeof(*m));
    m->kind = -1;
    for (int k = 0; type != NULL && k < 4; k++)
        if (strcmp(type, kinds[k]) == 0)
            m->kind = k;
    if (!json_is_object(v))
        rc = ct_error_set(CT_EINVAL, "a checkpoint of an application is a JSON object");
    else if (m->kind < 0)
        rc = ct_error_set(CT_EINVAL, "checkpoint type: SERVICE_UP, SERVICE_DOWN, APP_OK or "
                                     "APP_SHUTDOWN");
    else if (!json_is_integer(time) || json_integer_value(time) <= 0)
        rc = ct_error_set(CT_EINVAL, "checkpoint time: Unix milliseconds");
    else if (orch == NULL || ct_address_parse(&m->orchestrator, orch) < 0)
        rc = ct_error_set(CT_EINVAL, "checkpoint orchestrator: an address");
    else if (m->kind <= 1 && (!json_is_integer(index) || json_integer_value(index) < 0 ||
                              json_integer_value(index) > UINT32_MAX))
        rc = ct_error_set(CT_EINVAL, "a SERVICE_UP or SERVICE_DOWN checkpoint names the "
                                     "service's index");
    if (rc == 0) {
        m->time_ms = json_integer_value(time);
        m->service = m->kind <= 1 ? (uint32_t)json_integer_value(index) : 0;
    }
    json_decref(v);
    return rc;
}

/* The metadata of the work's checkpoint by digest, from this node's store. */
static int blob_meta(ct_can_node *n, meta *m, const char *digest)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = ct_can_blob_get(n->log, &data, &len, digest);

    if (rc == 0)
        rc = parse_meta(m, data, len);
    free(data);
    return rc;
}

static uint64_t read_count(ct_can_node *n, const ct_address *app, const char *fn, bool *ok)
{
    json_t *v = ct_can__chain_read(n, n->app_abi, app, fn, NULL);
    uint64_t c = 0;

    *ok = json_is_string(v) && ct_parse_uint(&c, json_string_value(v), UINT64_MAX) == 0;
    json_decref(v);
    ct_error_clear();
    return c;
}

int ct_can__check_app_checkpoint(ct_can_node *n, const ct_address *app, const json_t *w,
                                 const char *comp, const uint8_t *data, size_t len)
{
    const json_t *cps = json_object_get(w, "checkpoints");
    ct_address who;
    uint64_t services;
    meta m, last;
    bool ok;
    int rc;

    if ((rc = parse_meta(&m, data, len)) < 0)
        return rc;
    if (ct_address_parse(&who, comp) < 0 || memcmp(who.b, m.orchestrator.b, sizeof(who.b)) != 0)
        return ct_error_set(CT_EAUTH, "the checkpoint's orchestrator is not the component %s",
                            comp);
    if (m.time_ms > ct_time_now_ms() + FUTURE_MS)
        return ct_error_set(CT_EINVAL, "the checkpoint's time is in the future");
    if (json_array_size(cps) > 0 &&
        blob_meta(n, &last, json_string_value(json_array_get(cps, json_array_size(cps) - 1))) ==
            0) {
        if (last.kind == 3)
            return ct_error_set(CT_ESTATE, "the application is shut down");
        if (m.time_ms < last.time_ms)
            return ct_error_set(CT_EINVAL, "the checkpoint's time is before the last one's");
    }
    ct_error_clear();
    services = read_count(n, app, "serviceCount", &ok);
    if (!ok)
        return ct_error_set(CT_ERPC, "cannot read the application's services");
    if (m.kind <= 1 && m.service >= services)
        return ct_error_set(CT_EINVAL, "the application has no service %u", m.service);
    return 0;
}

/* ---------------------------------------------------------------- on chain */

static int send_app(ct_can_node *n, const ct_address *app, const char *fn, json_t *args)
{
    int rc = ct_ledger_transact(n->app_abi, n->sender, NULL, app, NULL, fn, args);

    json_decref(args);
    return rc;
}

/* Puts the work's checkpoints the contract lacks on it, in order.
 * Returns: whether every one is there and the last is APP_SHUTDOWN. */
static bool anchor_work(ct_can_node *n, const ct_address *app, const json_t *cps)
{
    char orch[CT_ADDRESS_TEXT_SIZE];
    bool ok, done = false;
    uint64_t have = read_count(n, app, "checkpointCount", &ok);
    meta m;

    if (!ok)
        return false;
    for (size_t i = have; i < json_array_size(cps) && !atomic_load(&n->stop); i++) {
        if (blob_meta(n, &m, json_string_value(json_array_get(cps, i))) < 0) {
            ct_error_clear(); /* not fetched yet (a new leader): next round */
            return false;
        }
        ct_address_format(orch, &m.orchestrator);
        if (send_app(n, app, "addCheckpoint",
                     json_pack("[I, i, I, I, s]", (json_int_t)i, m.kind, (json_int_t)m.time_ms,
                               (json_int_t)(m.kind <= 1 ? m.service : 0), orch)) < 0) {
            char text[CT_ADDRESS_TEXT_SIZE];
            ct_address_format(text, app);
            ct_log(CT_LOG_WARN, "can: checkpoint %zu of %s on chain: %s", i, text, ct_error_last());
            ct_error_clear();
            return false;
        }
    }
    if (json_array_size(cps) > 0 &&
        blob_meta(n, &m, json_string_value(json_array_get(cps, json_array_size(cps) - 1))) == 0)
        done = m.kind == 3;
    ct_error_clear();
    return done;
}

/* Pays what the contract has not paid yet, at most once a pay period. */
static void pay_work(ct_can_node *n, const char *work, const ct_address *app)
{
    json_t *at = json_object_get(n->paid_at, work);
    int64_t now = ct_time_mono_ms();
    uint64_t k = 0;
    int rc;

    if (at != NULL && now - json_integer_value(at) < n->o.pay_interval_ms)
        return;
    json_object_set_new(n->paid_at, work, json_integer(now));
    pthread_mutex_lock(&n->rpc_mu);
    rc = ct_ledger_app_pay_k(n->app_abi, n->rpc, &k, app, ct_sender_address(n->sender));
    pthread_mutex_unlock(&n->rpc_mu);
    if (rc == 0 && k > 0)
        rc = send_app(n, app, "interimPayment", json_pack("[I]", (json_int_t)k));
    if (rc < 0)
        ct_log(CT_LOG_WARN, "can: paying %s: %s", work, ct_error_last());
    ct_error_clear();
}

static void anchor_once(ct_can_node *n)
{
    json_t *st = ct_can_log_state(n->log), *w;
    const char *work;
    ct_address app;

    json_object_foreach (json_object_get(st, "works"), work, w) {
        if (atomic_load(&n->stop) || !ct_can__is_leader(n))
            break;
        if (json_is_true(json_object_get(w, "finished")) || !ct_can__app_of(&app, work))
            continue;
        if (anchor_work(n, &app, json_object_get(w, "checkpoints"))) {
            json_object_del(n->paid_at, work); /* a last payment, whatever the period */
            pay_work(n, work, &app);
            if (ct_can__propose(n, json_pack("{s:s, s:s}", "type", "FINISH_WORK", "work", work),
                                NULL) < 0)
                ct_log(CT_LOG_WARN, "can: finishing %s: %s", work, ct_error_last());
            else
                ct_log(CT_LOG_INFO, "can: application %s shut down; work finished", work);
            ct_error_clear();
            continue;
        }
        pay_work(n, work, &app);
    }
    json_decref(st);
}

void *ct_can__anchor_main(void *arg)
{
    ct_can_node *n = arg;

    while (!atomic_load(&n->stop)) {
        if (ct_can__is_leader(n))
            anchor_once(n);
        for (int slept = 0; slept < ANCHOR_PERIOD_MS && !atomic_load(&n->stop); slept += 50)
            ct_sleep_ms(50);
    }
    return NULL;
}
