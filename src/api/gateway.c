/* The gateway's life cycle: configuration, the cache and its follower
 * thread, agent connections, the HTTP server; plus bearer-token checks,
 * health, the OpenAPI document and Swagger UI's static files. */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

/* The OpenAPI document, docs/openapi.json embedded at build time. */
extern const char ct_api__openapi_json[];

const char *ct_api__openapi(void)
{
    return ct_api__openapi_json;
}

/* ---------------------------------------------------------------- tokens */

const char *ct_api__bearer(const api_req *req)
{
    const char *h = req->auth;

    /* RFC 9110: the scheme is case-insensitive. */
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7 + strspn(h + 7, " ");
    return *h != '\0' ? h : NULL;
}

const char *ct_api__auth_dc(ct_api *api, const api_req *req)
{
    return ct_api__token_dc(api, ct_api__bearer(req));
}

const char *ct_api__token_dc(ct_api *api, const char *token)
{
    const char *dc = NULL;
    char hash[65];

    if (token == NULL)
        return NULL;
    ct_token_hash(hash, token);
    /* Compare with every stored hash, in constant time each. */
    for (size_t i = 0; i < api->cfg.n_tokens; i++)
        if (CRYPTO_memcmp(hash, api->cfg.tokens[i].hash, 64) == 0)
            dc = api->cfg.tokens[i].dc;
    return dc;
}

/* ---------------------------------------------------------------- follower */

void ct_api__follower_wake(ct_api *api)
{
    pthread_mutex_lock(&api->wake_mu);
    pthread_cond_signal(&api->wake);
    pthread_mutex_unlock(&api->wake_mu);
}

static void *follower_main(void *arg)
{
    ct_api *api = arg;
    uint64_t n, head = 0, done = 0;

    for (;;) {
        int64_t started = ct_time_mono_ms();
        int rc = ct_follower_poll(api->follower, &n);
        char refused[sizeof(api->chain_error)] = "";
        if (rc == 0)
            ct_follower_lag(api->follower, &head, &done);
        else if (rc == CT_ESTATE)
            snprintf(refused, sizeof(refused), "%s", ct_error_last());
        else
            ct_log(CT_LOG_WARN, "api: follower: %s", ct_error_last());
        pthread_mutex_lock(&api->wake_mu);
        /* Logged once when it starts, not at every poll. */
        if (refused[0] != '\0' && strcmp(refused, api->chain_error) != 0)
            ct_log(CT_LOG_ERROR, "api: %s", refused);
        memcpy(api->chain_error, refused, sizeof(refused));
        api->follower_ok = rc == 0;
        api->chain_head = head;
        api->processed = done;
        if (!api->stopping) {
            struct timespec until;
            ct_time_after(&until, CLOCK_REALTIME, 250);
            pthread_cond_timedwait(&api->wake, &api->wake_mu, &until);
        }
        bool stop = api->stopping;
        pthread_mutex_unlock(&api->wake_mu);
        if (stop)
            return NULL;
        /* Writes wake the follower, but at most one poll per 100 ms: each
         * poll costs the node several calls. */
        int64_t elapsed = ct_time_mono_ms() - started;
        if (elapsed < 100)
            ct_sleep_ms((int)(100 - elapsed));
    }
}

void ct_api__h_health(ct_api *api, const api_req *req, api_resp *resp)
{
    size_t total, up = ct_api__agents_connected(api, &total);
    size_t waiting = (api->pool != NULL ? ct_workq_busy(api->pool) : 0) + ct_api__agents_busy(api);
    (void)req;

    pthread_mutex_lock(&api->wake_mu);
    resp->json = json_pack(
        "{s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "chain_reachable", api->follower_ok, "chain_head",
        (json_int_t)api->chain_head, "processed_block", (json_int_t)api->processed,
        "follower_lag_blocks",
        (json_int_t)(api->chain_head > api->processed ? api->chain_head - api->processed : 0),
        "agents_connected", (json_int_t)up, "agents_configured", (json_int_t)total,
        "requests_waiting", (json_int_t)waiting);
    if (resp->json != NULL && api->chain_error[0] != '\0')
        json_object_set_new(resp->json, "chain_error", json_string(api->chain_error));
    if (resp->json != NULL)
        ct_api__agents_report(api, resp->json);
    resp->status = api->follower_ok && up == total ? 200 : 503;
    pthread_mutex_unlock(&api->wake_mu);
}

/* ---------------------------------------------------------------- docs */

void ct_api__h_openapi(ct_api *api, const api_req *req, api_resp *resp)
{
    (void)api;
    (void)req;
    resp->text = strdup(ct_api__openapi());
    resp->content_type = "application/json";
}

/* Swagger UI from swagger-ui-dist, with our own initializer pointing at
 * /api/openapi.json. */
void ct_api__h_swagger(ct_api *api, const api_req *req, api_resp *resp)
{
    const char *name = req->path + strlen("/api/swagger");

    if (*name == '/')
        name++;
    if (*name == '\0')
        name = "index.html";
    if (strcmp(name, "swagger-initializer.js") == 0) {
        resp->text =
            strdup("window.onload = function () {\n"
                   "  window.ui = SwaggerUIBundle({url: '/api/openapi.json', "
                   "dom_id: '#swagger-ui', deepLinking: true,\n"
                   "    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],\n"
                   "    layout: 'StandaloneLayout'});\n};\n");
        resp->content_type = "text/javascript; charset=utf-8";
        return;
    }
    ct_api__static_file(resp, api->cfg.swagger_dir, name);
}

/* ---------------------------------------------------------------- read handles */

static _Thread_local ct_store *thread_store;
static _Thread_local const ct_api *thread_store_owner;

ct_store *ct_api__store(ct_api *api)
{
    ct_store *s = NULL, **grown;

    if (thread_store != NULL && thread_store_owner == api)
        return thread_store;
    pthread_mutex_lock(&api->handles_mu);
    grown = realloc(api->handles, (api->n_handles + 1) * sizeof(*grown));
    if (grown != NULL) {
        api->handles = grown;
        if (ct_store_open(&s, api->cfg.cache_path) == 0)
            api->handles[api->n_handles++] = s;
    }
    pthread_mutex_unlock(&api->handles_mu);
    if (s == NULL)
        return api->read_store;
    thread_store = s;
    thread_store_owner = api;
    return s;
}

static void close_handles(ct_api *api)
{
    for (size_t i = 0; i < api->n_handles; i++)
        ct_store_close(api->handles[i]);
    free(api->handles);
    api->handles = NULL;
    api->n_handles = 0;
}

/* ---------------------------------------------------------------- life cycle */

static int open_cache(ct_api *api)
{
    uint64_t chain_id;
    char origin[256];
    ct_rpc *rpc;
    int rc;

    if ((rc = ct_rpc_new(&rpc, api->cfg.rpc_url, 10000)) < 0)
        return rc;
    rc = ct_rpc_chain_id(rpc, &chain_id);
    ct_rpc_free(rpc);
    ct_url_origin(origin, sizeof(origin), api->cfg.rpc_url);
    if (rc < 0)
        return ct_error_wrap("api: chain at %s", origin);
    if ((rc = ct_store_open(&api->store, api->cfg.cache_path)) < 0)
        return rc;
    if (api->cfg.reindex && (rc = ct_store_reset(api->store)) < 0)
        return rc;
    rc = ct_store_bind(api->store, chain_id, &api->cfg.contract, api->cfg.from_block);
    if (rc == CT_ESTATE)
        return ct_error_wrap("api: %s holds another chain's cache (start with --reindex)",
                             api->cfg.cache_path);
    if (rc < 0 || (rc = ct_store_open(&api->read_store, api->cfg.cache_path)) < 0)
        return rc;
    return ct_follower_new(&api->follower, api->store, api->ledger, api->cfg.rpc_url,
                           &api->cfg.contract, api->cfg.from_block, NULL);
}

int ct_api_start(ct_api **out, const ct_api_config *cfg)
{
    ct_api *api = calloc(1, sizeof(*api));
    int rc;

    if (api == NULL)
        return ct_error_set(CT_ENOMEM, "api: out of memory");
    pthread_mutex_init(&api->wake_mu, NULL);
    pthread_mutex_init(&api->handles_mu, NULL);
    pthread_cond_init(&api->wake, NULL);
    if ((rc = ct_api_config_copy(&api->cfg, cfg)) < 0)
        goto fail;
    if (api->cfg.agent_timeout_ms <= 0)
        api->cfg.agent_timeout_ms = 30000;
    if (api->cfg.idempotency_ttl_s <= 0)
        api->cfg.idempotency_ttl_s = 86400;
    if (api->cfg.idempotency_max <= 0)
        api->cfg.idempotency_max = 100000;
    if (api->cfg.max_conns_per_ip <= 0)
        api->cfg.max_conns_per_ip = 128;
    if (api->cfg.request_timeout_ms <= 0)
        api->cfg.request_timeout_ms = 10000;
    if ((rc = ct_ledger_open(&api->ledger)) < 0 ||
        (rc = ct_agreements_open(&api->agreements)) < 0 || (rc = open_cache(api)) < 0 ||
        (rc = ct_api__cache_new(&api->cache)) < 0 || (rc = ct_api__requests_open(api)) < 0)
        goto fail;
    /* One catch-up before serving, so the first reads are not empty. */
    uint64_t n;
    if ((rc = ct_follower_poll(api->follower, &n)) < 0)
        goto fail;
    api->follower_ok = true;
    ct_follower_lag(api->follower, &api->chain_head, &api->processed);
    if (pthread_create(&api->follower_thread, NULL, follower_main, api) != 0) {
        rc = ct_error_set(CT_EIO, "api: cannot start the follower thread");
        goto fail;
    }
    api->follower_started = true;
    if ((rc = ct_api__agents_start(api)) < 0 || (rc = ct_api__http_start(api)) < 0 ||
        (rc = ct_api__keeper_start(api)) < 0)
        goto fail;
    *out = api;
    return 0;
fail:
    ct_api_stop(api);
    return rc;
}

uint16_t ct_api_port(const ct_api *api)
{
    return api->cfg.port;
}

void ct_api_stop(ct_api *api)
{
    if (api == NULL)
        return;
    ct_api__agents_cancel(api); /* writes waiting for an agent end now */
    ct_api__keeper_stop(api);   /* its writes through the REST API end with them */
    ct_api__http_stop(api);
    ct_api__agents_stop(api);
    ct_api__requests_close(api); /* after the writes drained */
    if (api->follower_started) {
        pthread_mutex_lock(&api->wake_mu);
        api->stopping = true;
        pthread_cond_signal(&api->wake);
        pthread_mutex_unlock(&api->wake_mu);
        pthread_join(api->follower_thread, NULL);
    }
    ct_follower_free(api->follower);
    close_handles(api);
    ct_store_close(api->read_store);
    ct_store_close(api->store);
    ct_api__cache_free(api->cache);
    ct_ledger_free(api->ledger);
    ct_agreements_free(api->agreements);
    ct_api_config_clear(&api->cfg);
    pthread_cond_destroy(&api->wake);
    pthread_mutex_destroy(&api->wake_mu);
    pthread_mutex_destroy(&api->handles_mu);
    free(api);
}
