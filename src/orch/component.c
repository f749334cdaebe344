/* An orchestrator as a CAN component (seed 002 sections 4.2 and 5): it
 * registers with the network's leader, serves GET /health for the members'
 * failure detection, and runs every application work entry assigned to it:
 * the TOSCA document from the entry, the checkpoints so far fetched by
 * digest and checked, the orchestrator loop with the leader's ledger as its
 * store, and the Application contract's stopRequested as its stop. A work
 * entry that moves to another orchestrator is given up with its services
 * left running for the new owner. */
#include "catena/orch.h"
#include "catena/can.h"
#include "catena/httpd.h"
#include "catena/ledger.h"
#include "catena/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_WORKS 64
#define MAX_URLS 16
#define HTTP_MS 3000
#define STORE_MS 8000 /* the leader waits up to 5 s for a majority */
/* A run that ended while the work is still ours and running (a node was
 * down while the checkpoints were fetched, say) is started again after
 * this long. */
#define RETRY_MS 2000

typedef struct work {
    struct ct_orch_component *c;
    char id[CT_ADDRESS_TEXT_SIZE]; /* the Application's address */
    ct_address app;
    char *tosca;       /* the description: the TOSCA document */
    json_t *digests;   /* the checkpoints when taken over */
    atomic_bool stop;  /* the client asked to stop (stopRequested) */
    atomic_bool leave; /* no longer ours */
    atomic_bool done;  /* the thread ended */
    int64_t done_at;   /* when (mono ms; written before done) */
    pthread_t thread;
    ct_orch_plan *plan;
} work;

struct ct_orch_component {
    ct_orch_component_opts o;
    char id[CT_ADDRESS_TEXT_SIZE];
    char url[128];
    char *urls[MAX_URLS]; /* the CAN nodes given */
    size_t n_urls;
    uint16_t port;
    struct _u_instance inst;
    struct sockaddr_in bind;
    bool inst_ready, listening;
    ct_ledger *app_abi;
    ct_rpc *rpc; /* manager thread only */
    pthread_t manager;
    bool manager_started;
    atomic_bool quit;
    pthread_mutex_t mu; /* guards leader and works */
    char leader[256];   /* the leader's URL as last learnt */
    work *works[MAX_WORKS];
    size_t n_works;
};

/* ---------------------------------------------------------------- CAN calls */

static void leader_url(ct_orch_component *c, char *out, size_t cap)
{
    pthread_mutex_lock(&c->mu);
    snprintf(out, cap, "%s", c->leader);
    pthread_mutex_unlock(&c->mu);
}

/* The network's state from the leader if known, else from the first node
 * given that answers (which names the leader). New ref, or NULL. */
static json_t *can_status(ct_orch_component *c)
{
    char first[256];
    json_t *st = NULL;

    leader_url(c, first, sizeof(first));
    for (size_t i = 0; i <= c->n_urls; i++) {
        const char *base = i == 0 ? first : c->urls[i - 1];
        const char *role, *lead;
        if (base[0] == '\0' ||
            ct_http_json(&st, "GET", base, "/can/status", NULL, HTTP_MS) != 200) {
            json_decref(st);
            st = NULL;
            continue;
        }
        role = json_string_value(json_object_get(st, "role"));
        lead = json_string_value(json_object_get(st, "leader_url"));
        pthread_mutex_lock(&c->mu);
        if (role != NULL && strcmp(role, "leader") == 0)
            snprintf(c->leader, sizeof(c->leader), "%s", base);
        else if (lead != NULL && lead[0] != '\0')
            snprintf(c->leader, sizeof(c->leader), "%s", lead);
        pthread_mutex_unlock(&c->mu);
        return st;
    }
    return NULL;
}

/* A checkpoint by digest from any node, checked against the digest.
 * Returns: 0 with *out (new ref), CT_ENOTFOUND when no node serves it. */
static int fetch_checkpoint(ct_orch_component *c, json_t **out, const char *digest)
{
    char path[128], lead[256];

    leader_url(c, lead, sizeof(lead));
    snprintf(path, sizeof(path), "/can/blob/%s", digest);
    for (size_t i = 0; i <= c->n_urls; i++) {
        const char *base = i == 0 ? lead : c->urls[i - 1];
        json_t *got = NULL;
        uint8_t *data = NULL;
        size_t len = 0;
        char have[67];
        const char *hex;
        if (base[0] == '\0' || ct_http_json(&got, "GET", base, path, NULL, HTTP_MS) != 200) {
            json_decref(got);
            continue;
        }
        hex = json_string_value(json_object_get(got, "data"));
        if (hex != NULL && ct_hex_decode_new(&data, &len, hex) == 0) {
            ct_can_digest(have, data, len);
            if (strcasecmp(have, digest) == 0)
                *out = json_loadb((const char *)data, len, 0, NULL);
        }
        ct_error_clear();
        free(data);
        json_decref(got);
        if (*out != NULL)
            return 0;
    }
    return ct_error_set(CT_ENOTFOUND, "no CAN node serves checkpoint %s", digest);
}

/* ---------------------------------------------------------------- one work */

/* The loop's store: the checkpoint to the leader, acknowledged once a
 * majority of the members hold it. */
static int store(const ct_orch_checkpoint *cp, void *payload)
{
    work *w = payload;
    ct_orch_component *c = w->c;
    json_t *v = ct_orch_checkpoint_json(cp, w->plan), *body = NULL, *got = NULL;
    char *text = v != NULL ? ct_json_dumps(v, JSON_COMPACT) : NULL;
    char lead[256], *hex = NULL;
    long status;
    int rc;

    if (text == NULL || (hex = malloc(2 * strlen(text) + 3)) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "out of memory");
        goto done;
    }
    ct_hex_encode(hex, 2 * strlen(text) + 3, (const uint8_t *)text, strlen(text), true);
    body = json_pack("{s:s, s:s, s:s}", "work", w->id, "comp", c->id, "data", hex);
    leader_url(c, lead, sizeof(lead));
    if (lead[0] == '\0') {
        json_decref(can_status(c));
        leader_url(c, lead, sizeof(lead));
    }
    status = lead[0] != '\0' && body != NULL
                 ? ct_http_json(&got, "POST", lead, "/can/checkpoint", body, STORE_MS)
                 : 0;
    if (status == 200)
        rc = 0;
    else if (status == 403)
        rc = ct_error_set(CT_EAUTH, "the network refused the checkpoint: %s",
                          json_string_value(json_object_get(got, "error")) ?: "forbidden");
    else {
        if (status == 421 || status == 0) { /* not the leader (any more) */
            pthread_mutex_lock(&c->mu);
            c->leader[0] = '\0';
            pthread_mutex_unlock(&c->mu);
        }
        rc = ct_error_set(CT_EIO, "storing a checkpoint at %s: %s", lead[0] ? lead : "(no leader)",
                          status == 0 ? "no answer"
                                      : json_string_value(json_object_get(got, "error")) ?: "?");
    }
done:
    free(hex);
    free(text);
    json_decref(v);
    json_decref(body);
    json_decref(got);
    return rc;
}

static uint64_t read_u64(ct_ledger *abi, ct_rpc *rpc, const ct_address *app, const char *fn,
                         uint64_t fallback)
{
    json_t *args = json_array(), *out = NULL;
    uint64_t v = fallback;

    if (ct_ledger_read(abi, rpc, &out, app, fn, args) == 0 &&
        ct_parse_uint(&v, json_string_value(json_array_get(out, 0)) ?: "", UINT64_MAX) < 0)
        v = fallback;
    ct_error_clear();
    json_decref(args);
    json_decref(out);
    return v;
}

/* Writes the TOSCA document to the work's directory and plans it. */
static int plan_work(work *w, const char *dir)
{
    char path[4200];
    ct_tosca_opts opts = {0};
    ct_yaml_diags d = {0};
    ct_tosca *t = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s/app.yaml", dir);
    if ((rc = ct_file_write_atomic(path, w->tosca, strlen(w->tosca), 0644)) < 0)
        return rc;
    rc = ct_tosca_load(&t, &d, path, &opts);
    for (size_t i = 0; rc < 0 && i < d.n; i++)
        if (!d.items[i].warning) {
            rc = ct_error_set(CT_EINVAL, "the application's TOSCA document, line %u: %s",
                              d.items[i].line, d.items[i].message);
            break;
        }
    ct_yaml_diags_free(&d);
    if (rc == 0)
        rc = ct_orch_plan_new(&w->plan, t);
    ct_tosca_free(t);
    return rc;
}

static void *work_main(void *arg)
{
    work *w = arg;
    ct_orch_component *c = w->c;
    ct_orch_checkpoint *resume = NULL;
    ct_orch_driver *d = NULL;
    ct_rpc *rpc = NULL;
    size_t n = 0;
    char dir[4096];
    int rc;

    snprintf(dir, sizeof(dir), "%s/%s", c->o.dir, w->id);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        rc = ct_error_set(CT_EIO, "cannot create %s: %s", dir, strerror(errno));
        goto done;
    }
    if ((rc = plan_work(w, dir)) < 0 || (rc = ct_rpc_new(&rpc, c->o.rpc_url, 10000)) < 0)
        goto done;
    if ((resume = calloc(json_array_size(w->digests) + 1, sizeof(*resume))) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < json_array_size(w->digests); i++) {
        json_t *v = NULL;
        if ((rc = fetch_checkpoint(c, &v, json_string_value(json_array_get(w->digests, i)))) == 0)
            rc = ct_orch_checkpoint_parse(&resume[n++], v, w->plan);
        json_decref(v);
        if (rc < 0)
            goto done;
    }
    if ((rc = ct_orch_process_driver_new(&d, dir, c->o.start_timeout_ms)) < 0)
        goto done;
    {
        ct_orch_run_opts o = {
            .orchestrator = c->id,
            .retries = (unsigned)read_u64(c->app_abi, rpc, &w->app, "retries", 3),
            .ok_interval_ms = (int)read_u64(c->app_abi, rpc, &w->app, "okInterval", 60) * 1000,
            .check_interval_ms = c->o.check_interval_ms,
            .resume = resume,
            .n_resume = n,
            .stop = &w->stop,
            .abandon = &w->leave,
            .store = store,
            .payload = w,
        };
        ct_log(CT_LOG_INFO, "orchestrator %s: running application %s (%zu checkpoints so far)",
               c->id, w->id, n);
        rc = ct_orch_run(w->plan, d, &o);
    }
done:
    if (rc < 0)
        ct_log(CT_LOG_WARN, "orchestrator %s: application %s: %s", c->id, w->id, ct_error_last());
    else
        ct_log(CT_LOG_INFO, "orchestrator %s: application %s shut down", c->id, w->id);
    ct_error_clear();
    ct_orch_driver_free(d);
    ct_rpc_free(rpc);
    free(resume);
    w->done_at = ct_time_mono_ms();
    atomic_store(&w->done, true);
    return NULL;
}

static void work_free(work *w)
{
    if (w == NULL)
        return;
    pthread_join(w->thread, NULL);
    ct_orch_plan_free(w->plan);
    free(w->tosca);
    json_decref(w->digests);
    free(w);
}

/* ---------------------------------------------------------------- manager */

static work *find_work(ct_orch_component *c, const char *id)
{
    for (size_t i = 0; i < c->n_works; i++)
        if (strcasecmp(c->works[i]->id, id) == 0)
            return c->works[i];
    return NULL;
}

static void start_work(ct_orch_component *c, const char *id, const json_t *entry)
{
    work *w;

    if (c->n_works == MAX_WORKS) {
        ct_log(CT_LOG_WARN, "orchestrator %s: already running %d applications", c->id, MAX_WORKS);
        return;
    }
    if ((w = calloc(1, sizeof(*w))) == NULL)
        return;
    w->c = c;
    snprintf(w->id, sizeof(w->id), "%s", id);
    atomic_init(&w->stop, false);
    atomic_init(&w->leave, false);
    atomic_init(&w->done, false);
    if (ct_address_parse(&w->app, id) < 0 ||
        (w->tosca = strdup(json_string_value(json_object_get(entry, "description")) ?: "")) ==
            NULL ||
        (w->digests = json_deep_copy(json_object_get(entry, "checkpoints"))) == NULL ||
        pthread_create(&w->thread, NULL, work_main, w) != 0) {
        ct_error_clear();
        free(w->tosca);
        json_decref(w->digests);
        free(w);
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->works[c->n_works++] = w;
    pthread_mutex_unlock(&c->mu);
}

/* Registers with the leader when the network does not list this
 * component as registered. */
static void ensure_registered(ct_orch_component *c, const json_t *st)
{
    const json_t *me = json_object_get(json_object_get(st, "components"), c->id);
    json_t *body, *got = NULL;
    char lead[256];
    long status;

    if (json_is_true(json_object_get(me, "registered")))
        return;
    leader_url(c, lead, sizeof(lead));
    if (lead[0] == '\0')
        return;
    body = json_pack("{s:s, s:s}", "comp", c->id, "url", c->url);
    status = body != NULL ? ct_http_json(&got, "POST", lead, "/can/component", body, STORE_MS) : 0;
    if (status == 200)
        ct_log(CT_LOG_INFO, "orchestrator %s: registered with the CAN at %s", c->id, lead);
    else
        ct_log(CT_LOG_WARN, "orchestrator %s: registering at %s: %ld %s", c->id, lead, status,
               json_string_value(json_object_get(got, "error")) ?: "");
    json_decref(body);
    json_decref(got);
}

/* Whether the work entry id is assigned to this component and running. */
static bool still_mine(const ct_orch_component *c, const json_t *works, const char *id)
{
    const json_t *e = json_object_get(works, id);

    return e != NULL && !json_is_true(json_object_get(e, "finished")) &&
           strcasecmp(json_string_value(json_object_get(e, "comp")) ?: "", c->id) == 0;
}

/* Takes up the work entries assigned to this component, gives up those
 * that moved, and passes on the clients' stop requests. A run that ended
 * while the work is still this component's is started again after
 * RETRY_MS (the next look). */
static void manage(ct_orch_component *c)
{
    json_t *st = can_status(c), *works, *entry;
    const char *id;
    ct_address app;

    if (st == NULL)
        return;
    ensure_registered(c, st);
    works = json_object_get(st, "works");
    json_object_foreach (works, id, entry) {
        bool mine = strcasecmp(json_string_value(json_object_get(entry, "comp")) ?: "", c->id) == 0;
        work *w = find_work(c, id);
        if (!mine || json_is_true(json_object_get(entry, "finished")) || strlen(id) != 42 ||
            ct_address_parse(&app, id) < 0) {
            if (w != NULL && !mine)
                atomic_store(&w->leave, true);
            ct_error_clear();
            continue;
        }
        if (w == NULL &&
            json_is_true(json_object_get(json_object_get(json_object_get(st, "components"), c->id),
                                         "registered")))
            start_work(c, id, entry);
    }
    /* The clients' stop requests, and threads that ended. */
    for (size_t i = 0; i < c->n_works; i++) {
        work *w = c->works[i];
        json_t *args = json_array(), *out = NULL;
        if (!atomic_load(&w->stop) && !atomic_load(&w->done) &&
            ct_ledger_read(c->app_abi, c->rpc, &out, &w->app, "stopRequested", args) == 0 &&
            json_is_true(json_array_get(out, 0))) {
            ct_log(CT_LOG_INFO, "orchestrator %s: the client stops application %s", c->id, w->id);
            atomic_store(&w->stop, true);
        }
        ct_error_clear();
        json_decref(args);
        json_decref(out);
        if (atomic_load(&w->done) && (atomic_load(&w->leave) || !still_mine(c, works, w->id) ||
                                      ct_time_mono_ms() - w->done_at >= RETRY_MS)) {
            pthread_mutex_lock(&c->mu);
            c->works[i] = c->works[--c->n_works];
            pthread_mutex_unlock(&c->mu);
            work_free(w);
            i--;
        }
    }
    json_decref(st);
}

static void *manager_main(void *arg)
{
    ct_orch_component *c = arg;

    while (!atomic_load(&c->quit)) {
        manage(c);
        for (int slept = 0; slept < c->o.poll_ms && !atomic_load(&c->quit); slept += 50)
            ct_sleep_ms(50);
    }
    return NULL;
}

/* ---------------------------------------------------------------- HTTP */

static int on_health(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_orch_component *c = user;
    (void)req;

    return ct_httpd_reply(resp, 200, json_pack("{s:s, s:s}", "status", "ok", "id", c->id));
}

static int on_status(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_orch_component *c = user;
    json_t *works = json_array();
    char lead[256];
    (void)req;

    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n_works; i++)
        json_array_append_new(works, json_pack("{s:s, s:b, s:b}", "app", c->works[i]->id, "running",
                                               !atomic_load(&c->works[i]->done), "stop_requested",
                                               atomic_load(&c->works[i]->stop)));
    snprintf(lead, sizeof(lead), "%s", c->leader);
    pthread_mutex_unlock(&c->mu);
    return ct_httpd_reply(resp, 200,
                          json_pack("{s:s, s:s, s:s, s:o}", "id", c->id, "url", c->url,
                                    "can_leader", lead, "works", works));
}

static int on_default(const struct _u_request *req, struct _u_response *resp, void *user)
{
    (void)req;
    (void)user;
    return ct_httpd_reply_error(resp, 404, "not found");
}

/* ---------------------------------------------------------------- start, stop */

int ct_orch_component_start(ct_orch_component **out, const ct_orch_component_opts *o)
{
    ct_orch_component *c = calloc(1, sizeof(*c));
    ct_address me;
    const char *p;
    int rc;

    *out = NULL;
    if (c == NULL)
        return ct_error_set(CT_ENOMEM, "orchestrator: out of memory");
    c->o = *o;
    pthread_mutex_init(&c->mu, NULL);
    atomic_init(&c->quit, false);
    if (c->o.listen_host == NULL)
        c->o.listen_host = "127.0.0.1";
    if (c->o.poll_ms <= 0)
        c->o.poll_ms = 500;
    if (c->o.check_interval_ms <= 0)
        c->o.check_interval_ms = 1000;
    if (c->o.start_timeout_ms <= 0)
        c->o.start_timeout_ms = 30000;
    for (p = o->can_urls; p != NULL && *p != '\0' && c->n_urls < MAX_URLS;) {
        size_t len = strcspn(p, ",");
        if (len > 0 && (c->urls[c->n_urls++] = strndup(p, len)) == NULL) {
            rc = ct_error_set(CT_ENOMEM, "orchestrator: out of memory");
            goto fail;
        }
        p += len + (p[len] == ',');
    }
    if (c->n_urls == 0 || o->dir == NULL || o->rpc_url == NULL) {
        rc = ct_error_set(CT_EINVAL, "orchestrator: CAN node URLs, a directory and the chain's "
                                     "RPC URL are needed");
        goto fail;
    }
    if (mkdir(o->dir, 0755) < 0 && errno != EEXIST) {
        rc = ct_error_set(CT_EIO, "orchestrator: cannot create %s: %s", o->dir, strerror(errno));
        goto fail;
    }
    if ((rc = ct_address_from_seckey(&me, o->seckey)) < 0 ||
        (rc = ct_ledger_open_contract(&c->app_abi, "Application")) < 0 ||
        (rc = ct_rpc_new(&c->rpc, o->rpc_url, 10000)) < 0 ||
        (rc = ct_httpd_init(&c->inst, &c->bind, c->o.listen_host, o->port, 1024)) < 0)
        goto fail;
    c->inst_ready = true;
    ct_address_format(c->id, &me);
    if (ulfius_add_endpoint_by_val(&c->inst, "GET", "/health", NULL, 0, on_health, c) != U_OK ||
        ulfius_add_endpoint_by_val(&c->inst, "GET", "/status", NULL, 0, on_status, c) != U_OK ||
        ulfius_set_default_endpoint(&c->inst, on_default, c) != U_OK) {
        rc = ct_error_set(CT_ENOMEM, "orchestrator: cannot set up the HTTP server");
        goto fail;
    }
    if ((rc = ct_httpd_start(&c->inst, 64, 10, &c->port)) < 0)
        goto fail;
    c->listening = true;
    if (o->public_url != NULL)
        snprintf(c->url, sizeof(c->url), "%s", o->public_url);
    else
        snprintf(c->url, sizeof(c->url), "http://%s:%u", c->o.listen_host, (unsigned)c->port);
    c->o.public_url = NULL;
    c->o.can_urls = NULL;
    explicit_bzero(c->o.seckey, sizeof(c->o.seckey));
    if (pthread_create(&c->manager, NULL, manager_main, c) != 0) {
        rc = ct_error_set(CT_EIO, "orchestrator: cannot start a thread");
        goto fail;
    }
    c->manager_started = true;
    *out = c;
    return 0;
fail:
    ct_orch_component_stop(c);
    return rc;
}

const char *ct_orch_component_id(const ct_orch_component *c)
{
    return c->id;
}

const char *ct_orch_component_url(const ct_orch_component *c)
{
    return c->url;
}

void ct_orch_component_stop(ct_orch_component *c)
{
    if (c == NULL)
        return;
    atomic_store(&c->quit, true);
    if (c->manager_started)
        pthread_join(c->manager, NULL);
    /* The applications go on: their services run, and the network gives
     * the work to another orchestrator once this one stops answering. */
    for (size_t i = 0; i < c->n_works; i++) {
        atomic_store(&c->works[i]->leave, true);
        work_free(c->works[i]);
    }
    if (c->listening)
        ulfius_stop_framework(&c->inst);
    if (c->inst_ready)
        ulfius_clean_instance(&c->inst);
    for (size_t i = 0; i < c->n_urls; i++)
        free(c->urls[i]);
    ct_rpc_free(c->rpc);
    ct_ledger_free(c->app_abi);
    explicit_bzero(c->o.seckey, sizeof(c->o.seckey));
    pthread_mutex_destroy(&c->mu);
    free(c);
}
