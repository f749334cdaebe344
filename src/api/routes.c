/* The gateway's route table: seed 000 section 4.3 paths (with or without
 * the trailing slash, "datacenter" or the seed's "datacentre"), plus the
 * listing, SLA, health, OpenAPI and Swagger UI endpoints. */
#include "api_int.h"

#include <string.h>

struct route {
    const char *method;
    const char *pattern; /* segments; "{}" matches one segment, "*" the rest */
    api_handler handler;
    bool offload; /* may block (an agent, the chain node): not on an HTTP thread */
};

static const struct route routes[] = {
    {"POST", "/api/datacenter/register", ct_api__h_dc_register, true},
    {"GET", "/api/datacenter", ct_api__h_dc_list, false},
    {"GET", "/api/datacenter/{}/details", ct_api__h_dc_details, false},
    {"GET", "/api/datacenter/{}/attributes", ct_api__h_dc_attributes, true},
    {"POST", "/api/datacenter/{}/attributes", ct_api__h_dc_attributes_set, true},
    {"POST", "/api/datacenter/{}/container/register", ct_api__h_vc_register, true},
    {"POST", "/api/datacenter/{}/container/register/batch", ct_api__h_vc_register_batch, true},
    {"POST", "/api/datacenter/{}/container/{}/availability/change", ct_api__h_vc_availability,
     true},
    {"POST", "/api/datacenter/{}/container/{}/migrate/pending", ct_api__h_vc_migrate_pending, true},
    {"POST", "/api/datacenter/{}/container/{}/migrate/confirm", ct_api__h_vc_migrate_confirm, true},
    {"POST", "/api/datacenter/{}/container/{}/retire", ct_api__h_vc_retire, true},
    {"GET", "/api/transaction/{}/vctag", ct_api__h_vc_tag, false},
    {"GET", "/api/container", ct_api__h_vc_list, false},
    {"GET", "/api/container/{}/details", ct_api__h_vc_details, false},
    {"GET", "/api/container/{}/flavor", ct_api__h_vc_flavor, false},
    {"GET", "/api/container/{}/history", ct_api__h_vc_history, false},
    {"GET", "/api/container/{}/migration/pending", ct_api__h_vc_pending, false},
    {"GET", "/api/container/{}/sla", ct_api__h_vc_sla, false},
    {"GET", "/api/container/{}/proof", ct_api__h_vc_proof, true},
    {"GET", "/api/container/{}/verify", ct_api__h_vc_verify, true},
    {"GET", "/api/requests/{}", ct_api__h_request, false},
    {"GET", "/api/agreements", ct_api__h_agreement_list, true},
    {"GET", "/api/agreements/{}", ct_api__h_agreement, true},
    {"POST", "/api/migrations", ct_api__h_migration_start, true},
    {"GET", "/api/migrations", ct_api__h_migration_list, true},
    {"GET", "/api/migrations/{}", ct_api__h_migration, true},
    {"POST", "/api/migrations/{}/resume", ct_api__h_migration_resume, true},
    {"POST", "/api/migrations/{}/reset", ct_api__h_migration_reset, true},
    {"GET", "/api/usage", ct_api__h_usage, true},
    {"GET", "/api/health", ct_api__h_health, false},
    {"GET", "/api/openapi.json", ct_api__h_openapi, false},
    {"GET", "/api/swagger", ct_api__h_swagger, false},
    {"GET", "/api/swagger/*", ct_api__h_swagger, false},
    {"GET", "/api/chain/overview", ct_api__h_chain_overview, true},
    {"GET", "/api/chain/blocks", ct_api__h_chain_blocks, true},
    {"GET", "/api/chain/block/{}", ct_api__h_chain_block, true},
    {"GET", "/api/chain/tx/{}", ct_api__h_chain_tx, true},
    {"GET", "/api/chain/search", ct_api__h_chain_search, true},
    {"GET", "/api/chain/abi", ct_api__h_chain_abi, false},
    {"GET", "/api/chain/monitor", ct_api__h_monitor_list, false},
    {"POST", "/api/chain/monitor", ct_api__h_monitor_add, true},
    {"DELETE", "/api/chain/monitor/{}", ct_api__h_monitor_delete, true},
    {"GET", "/api/chain/monitor/{}/events", ct_api__h_monitor_events, false},
    {"GET", "/explorer", ct_api__h_explorer, false},
    {"GET", "/explorer/*", ct_api__h_explorer, false},
};

/* Compares the next path segment of *p with want (length n); advances. */
static bool segment_is(const char **p, const char *want, size_t n)
{
    if (strncmp(*p, want, n) != 0 || ((*p)[n] != '/' && (*p)[n] != '\0'))
        return false;
    *p += n;
    return true;
}

/* Matches path against pattern, collecting {} segments into req. The
 * seed spells "datacentre" in one place; both spellings are accepted. */
static bool match(const char *pattern, const char *path, api_req *req)
{
    const char *p = path, *q = pattern;

    req->n_params = 0;
    while (*q != '\0') {
        const char *qe;
        if (*q != '/' || *p != '/')
            return false;
        q++, p++;
        qe = strchr(q, '/');
        size_t qn = qe ? (size_t)(qe - q) : strlen(q);
        if (qn == 1 && *q == '*')
            return true;
        if (qn == 2 && q[0] == '{') {
            size_t pn = strcspn(p, "/");
            if (pn == 0 || req->n_params == API_MAX_PARAMS)
                return false;
            req->params[req->n_params++] = p; /* cut at '/' by the caller */
            p += pn;
        } else if (!segment_is(&p, q, qn) && !(qn == 10 && strncmp(q, "datacenter", 10) == 0 &&
                                               segment_is(&p, "datacentre", 10))) {
            return false;
        }
        q += qn;
    }
    return *p == '\0' || strcmp(p, "/") == 0;
}

api_handler ct_api__route(api_req *req, int *status, bool *offload)
{
    bool path_known = false;

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!match(routes[i].pattern, req->path, req))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, req->method) != 0)
            continue;
        /* Copy the {} segments out so handlers get NUL-terminated strings. */
        for (int k = 0; k < req->n_params; k++) {
            size_t n = strcspn(req->params[k], "/");
            if (n >= sizeof(req->segs[k])) {
                *status = 404;
                return NULL;
            }
            memcpy(req->segs[k], req->params[k], n);
            req->segs[k][n] = '\0';
            req->params[k] = req->segs[k];
        }
        *offload = routes[i].offload;
        return routes[i].handler;
    }
    *status = path_known ? 405 : 404;
    return NULL;
}
