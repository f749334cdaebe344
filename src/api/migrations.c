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
    /* The ledger's part (?to=): this gateway's own URL, the target DC and
     * terms, the host DC's token (the request's) and the target's. */
    bool ledger;
    char api_url[96];
    char to[64], price[80], invoice[80];
    char host_token[256], target_token[256];
};

static const char *runner_token(const char *dc, void *payload)
{
    struct runner *r = payload;

    return strcmp(dc, r->to) == 0 ? r->target_token : r->host_token;
}

/* Frees r, its tokens wiped first. */
static void free_runner(struct runner *r)
{
    if (r != NULL)
        explicit_bzero(r, sizeof(*r));
    free(r);
}

/* Frees r and gives back the runner slot reserve() took for it. */
static void unreserve(struct runner *r)
{
    free_runner(r);
    atomic_fetch_sub(&running, 1);
}

static void *runner_main(void *arg)
{
    struct runner *r = arg;
    ct_cloud_mig_opts o = {.clouds_yaml = r->clouds[0] ? r->clouds : NULL};
    ct_cloud_gw gw = {
        .token = runner_token, .payload = r, .to = r->to, .price = r->price, .invoice = r->invoice};
    ct_cloud_ledger ledger;
    ct_cloud_mig *m = NULL;

    snprintf(gw.api, sizeof(gw.api), "%s", r->api_url);
    ct_cloud_gw_ledger(&ledger, &gw);
    /* The outcome is in the migration's record (status, error). */
    if (ct_cloud_mig_open(&m, r->dir, &o) == 0) {
        if (r->reset)
            ct_cloud_mig_reset(m, r->id, NULL, NULL);
        else
            ct_cloud_mig_run(m, r->id, r->ledger ? &ledger : NULL, NULL, NULL);
    }
    ct_cloud_mig_close(m);
    unreserve(r);
    return NULL;
}

/* Whole numbers of at most 78 digits, as the ledger's uint256 terms. */
static bool whole(const char *s)
{
    return s != NULL && s[0] != '\0' && strlen(s) <= 78 && s[strspn(s, "0123456789")] == '\0';
}

/* The ledger's part of the request into r: with ?to=DC the host DC (the
 * bearer token's) records the intent and DC the confirmation, whose
 * token comes in X-Catena-Target-Token. false after answering 400/403. */
static bool ledger_of(ct_api *api, const api_req *req, api_resp *resp, struct runner *r)
{
    const char *to = ct_api__query(req, "to"), *price = ct_api__query(req, "price");
    const char *invoice = ct_api__query(req, "invoice"), *host = ct_api__bearer(req);
    const char *target = ct_api__token_dc(api, req->target_token), *listen = api->cfg.listen_host;

    if (to == NULL) {
        if (price != NULL || invoice != NULL || req->target_token != NULL) {
            ct_api__error(resp, 400, "price, invoice and X-Catena-Target-Token go with ?to=DC");
            return false;
        }
        return true;
    }
    if (!whole(price ? price : "0") || !whole(invoice ? invoice : "0")) {
        ct_api__error(resp, 400, "query 'price' and 'invoice' must be whole numbers");
        return false;
    }
    if (target == NULL || strcmp(target, to) != 0) {
        ct_api__error(resp, 403,
                      "recording the move on the ledger needs the token of the target DC '%s' "
                      "in the X-Catena-Target-Token header",
                      to);
        return false;
    }
    if (host == NULL || strlen(host) >= sizeof(r->host_token) ||
        strlen(req->target_token) >= sizeof(r->target_token)) {
        ct_api__error(resp, 400, "a token is too long");
        return false;
    }
    r->ledger = true;
    snprintf(r->to, sizeof(r->to), "%s", to);
    snprintf(r->price, sizeof(r->price), "%s", price ? price : "0");
    snprintf(r->invoice, sizeof(r->invoice), "%s", invoice ? invoice : "0");
    snprintf(r->host_token, sizeof(r->host_token), "%s", host);
    snprintf(r->target_token, sizeof(r->target_token), "%s", req->target_token);
    /* The writes go through this gateway's own API, with all its checks. */
    snprintf(r->api_url, sizeof(r->api_url), "http://%s:%u/api",
             listen == NULL || strcmp(listen, "0.0.0.0") == 0 ? "127.0.0.1" : listen,
             (unsigned)ct_api_port(api));
    return true;
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

/* A runner for the request, its ledger part checked. NULL after
 * answering. */
static struct runner *new_runner(ct_api *api, const api_req *req, api_resp *resp)
{
    struct runner *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        ct_api__error(resp, 500, "out of memory");
        return NULL;
    }
    if (!ledger_of(api, req, resp, r)) {
        free_runner(r);
        return NULL;
    }
    return r;
}

static bool open_store(ct_api *api, ct_cloud_mig **m, api_resp *resp)
{
    ct_cloud_mig_opts o = {.clouds_yaml = api->cfg.clouds_yaml};

    if (ct_cloud_mig_open(m, api->cfg.migrations_dir, &o) == 0)
        return true;
    ct_api__error(resp, 500, "migrations: %s", ct_error_last());
    return false;
}

/* Takes one of the migrations_max runner slots, or answers 503 (and
 * frees r). Taken before anything is recorded: a refused request leaves
 * no migration behind. */
static bool reserve(ct_api *api, struct runner *r, api_resp *resp)
{
    if (atomic_fetch_add(&running, 1) < api->cfg.migrations_max)
        return true;
    atomic_fetch_sub(&running, 1);
    free_runner(r);
    ct_api__error(resp, 503, "%d migrations are running: try again later", api->cfg.migrations_max);
    return false;
}

/* Starts id on a runner thread with r (taken) in a slot reserve() took,
 * answering 202 with its status resource. */
static void start(ct_api *api, struct runner *r, const char *id, bool reset, api_resp *resp)
{
    pthread_attr_t attr;
    pthread_t t;

    snprintf(r->dir, sizeof(r->dir), "%s", api->cfg.migrations_dir);
    snprintf(r->clouds, sizeof(r->clouds), "%s", api->cfg.clouds_yaml ? api->cfg.clouds_yaml : "");
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->reset = reset;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, runner_main, r) != 0) {
        unreserve(r);
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
    struct runner *r;
    json_t *list;

    if (!enabled(api, req, resp) || (r = new_runner(api, req, resp)) == NULL)
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
        free_runner(r);
        return;
    }
    ct_cloud_spec_free(spec);
    if (!reserve(api, r, resp))
        return;
    if (!open_store(api, &m, resp)) {
        unreserve(r);
        return;
    }
    if (ct_cloud_mig_create(id, m, req->body, req->body_len, "spec") < 0) {
        ct_api__error(resp, 500, "migrations: %s", ct_error_last());
        unreserve(r);
    } else {
        start(api, r, id, false, resp);
    }
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

    struct runner *r;

    if (!enabled(api, req, resp) || (r = new_runner(api, req, resp)) == NULL)
        return;
    if (!open_store(api, &m, resp)) {
        free_runner(r);
        return;
    }
    if (get(req, resp, m, &out)) {
        status = json_string_value(json_object_get(out, "status"));
        if (strcmp(status, "running") == 0 ||
            (!reset && strcmp(status, "failed") != 0 && strcmp(status, "new") != 0)) {
            ct_api__error(resp, 409, "migration %s is %s", req->params[0], status);
            free_runner(r);
        } else if (reserve(api, r, resp)) {
            start(api, r, req->params[0], reset, resp);
        }
    } else {
        free_runner(r);
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
