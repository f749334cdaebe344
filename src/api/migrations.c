/* S2D migrations through the gateway (seed 001 section 4.2.6's XML API
 * call): POST /api/migrations with the MigrationSpecs document starts one
 * on a thread of its own and answers 202 with its id; GET
 * /api/migrations/{id} is its status resource (step, status, what each
 * step made); resume and reset act on it. The migrations live in
 * migrations_dir (src/cloud), so `catena migrate status` sees them too. */
#include "api_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "catena/cloud.h"

/* Migrations running in this process. A runner holds copies of what it
 * needs, not the gateway: it may outlive a gateway stopped meanwhile (the
 * migration then resumes from its record). */
static atomic_int running;

struct runner {
    char dir[4096];
    char clouds[4096];
    char id[CT_CLOUD_MIG_ID_SIZE];
    bool reset;
};

static void *runner_main(void *arg)
{
    struct runner *r = arg;
    ct_cloud_mig_opts o = {.clouds_yaml = r->clouds[0] ? r->clouds : NULL};
    ct_cloud_mig *m = NULL;

    /* The outcome is in the migration's record (status, error). */
    if (ct_cloud_mig_open(&m, r->dir, &o) == 0) {
        if (r->reset)
            ct_cloud_mig_reset(m, r->id, NULL, NULL);
        else
            ct_cloud_mig_run(m, r->id, NULL, NULL, NULL);
    }
    ct_cloud_mig_close(m);
    free(r);
    atomic_fetch_sub(&running, 1);
    return NULL;
}

/* The token check and the feature's configuration, for every handler. */
static bool enabled(ct_api *api, const api_req *req, api_resp *resp)
{
    if (ct_api__need_token(api, req, resp) == NULL)
        return false;
    if (api->cfg.migrations_dir == NULL) {
        ct_api__error(resp, 503, "S2D migrations are off: the gateway has no migrations_dir");
        return false;
    }
    return true;
}

static bool open_store(ct_api *api, ct_cloud_mig **m, api_resp *resp)
{
    ct_cloud_mig_opts o = {.clouds_yaml = api->cfg.clouds_yaml};

    if (ct_cloud_mig_open(m, api->cfg.migrations_dir, &o) == 0)
        return true;
    ct_api__error(resp, 500, "migrations: %s", ct_error_last());
    return false;
}

/* Starts id on a runner thread, answering 202 with its status resource,
 * or 503 when migrations_max already run. */
static void start(ct_api *api, const char *id, bool reset, api_resp *resp)
{
    struct runner *r;
    pthread_attr_t attr;
    pthread_t t;

    if (atomic_fetch_add(&running, 1) >= api->cfg.migrations_max) {
        atomic_fetch_sub(&running, 1);
        ct_api__error(resp, 503, "%d migrations are running: try again later",
                      api->cfg.migrations_max);
        return;
    }
    if ((r = calloc(1, sizeof(*r))) == NULL) {
        atomic_fetch_sub(&running, 1);
        ct_api__error(resp, 500, "out of memory");
        return;
    }
    snprintf(r->dir, sizeof(r->dir), "%s", api->cfg.migrations_dir);
    snprintf(r->clouds, sizeof(r->clouds), "%s", api->cfg.clouds_yaml ? api->cfg.clouds_yaml : "");
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->reset = reset;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, runner_main, r) != 0) {
        free(r);
        atomic_fetch_sub(&running, 1);
        ct_api__error(resp, 503, "cannot start a migration thread");
    } else {
        resp->status = 202;
        snprintf(resp->location, sizeof(resp->location), "/api/migrations/%s", id);
        resp->json = json_pack("{s:s,s:s,s:s}", "id", id, "status", reset ? "resetting" : "running",
                               "location", resp->location);
    }
    pthread_attr_destroy(&attr);
}

void ct_api__h_migration_start(ct_api *api, const api_req *req, api_resp *resp)
{
    char id[CT_CLOUD_MIG_ID_SIZE], *findings = NULL, *line, *save = NULL;
    ct_cloud_spec *spec = NULL;
    ct_cloud_mig *m = NULL;
    json_t *list;

    if (!enabled(api, req, resp))
        return;
    if (ct_cloud_spec_parse(&spec, &findings, req->body, req->body_len, "spec") < 0) {
        ct_api__error(resp, 400, "%s", ct_error_last());
        if ((list = json_array()) != NULL && resp->json != NULL) {
            for (line = findings ? strtok_r(findings, "\n", &save) : NULL; line != NULL;
                 line = strtok_r(NULL, "\n", &save))
                json_array_append_new(list, json_string(line));
            json_object_set_new(resp->json, "findings", list);
        }
        free(findings);
        return;
    }
    ct_cloud_spec_free(spec);
    if (!open_store(api, &m, resp))
        return;
    if (ct_cloud_mig_create(id, m, req->body, req->body_len, "spec") < 0)
        ct_api__error(resp, 500, "migrations: %s", ct_error_last());
    else
        start(api, id, false, resp);
    ct_cloud_mig_close(m);
}

void ct_api__h_migration_list(ct_api *api, const api_req *req, api_resp *resp)
{
    ct_cloud_mig *m = NULL;
    json_t *out = NULL;

    if (!enabled(api, req, resp) || !open_store(api, &m, resp))
        return;
    if (ct_cloud_mig_list(&out, m) < 0)
        ct_api__error(resp, 500, "migrations: %s", ct_error_last());
    else
        resp->json = out;
    ct_cloud_mig_close(m);
}

/* The migration of the path, into *out; false after answering 404. */
static bool get(const api_req *req, api_resp *resp, ct_cloud_mig *m, json_t **out)
{
    int rc = ct_cloud_mig_get(out, m, req->params[0]);

    if (rc == 0)
        return true;
    ct_api__error(resp, rc == CT_ENOTFOUND ? 404 : 500, "%s", ct_error_last());
    return false;
}

void ct_api__h_migration(ct_api *api, const api_req *req, api_resp *resp)
{
    ct_cloud_mig *m = NULL;
    json_t *out = NULL;

    if (!enabled(api, req, resp) || !open_store(api, &m, resp))
        return;
    if (get(req, resp, m, &out))
        resp->json = out;
    ct_cloud_mig_close(m);
}

/* resume or reset: 409 when the migration's status does not allow it
 * (the runner's claim decides for sure; this answers early). */
static void act(ct_api *api, const api_req *req, api_resp *resp, bool reset)
{
    ct_cloud_mig *m = NULL;
    json_t *out = NULL;
    const char *status;

    if (!enabled(api, req, resp) || !open_store(api, &m, resp))
        return;
    if (get(req, resp, m, &out)) {
        status = json_string_value(json_object_get(out, "status"));
        if (strcmp(status, "running") == 0 ||
            (!reset && strcmp(status, "failed") != 0 && strcmp(status, "new") != 0))
            ct_api__error(resp, 409, "migration %s is %s", req->params[0], status);
        else
            start(api, req->params[0], reset, resp);
    }
    json_decref(out);
    ct_cloud_mig_close(m);
}

void ct_api__h_migration_resume(ct_api *api, const api_req *req, api_resp *resp)
{
    act(api, req, resp, false);
}

void ct_api__h_migration_reset(ct_api *api, const api_req *req, api_resp *resp)
{
    act(api, req, resp, true);
}
