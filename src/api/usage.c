/* GET /api/usage: seed 001's monitoring tool through the gateway. What
 * each instance of a cloud of the gateway's clouds.yaml used in a period
 * (os-simple-tenant-usage), priced when asked, beside the uptime the
 * ledger records for the same VC (docs/S2D.md). */
#include "api_int.h"

#include <stdatomic.h>
#include <string.h>

#include "catena/cloud.h"

#define DEFAULT_PERIOD_MS (30LL * 86400000)
/* A cloud that does not answer holds a worker per request: at most this
 * many at once (503 beyond), each call bounded by what is left of
 * USAGE_TIMEOUT_MS since the request came. */
#define USAGE_CONCURRENT 2
#define USAGE_TIMEOUT_MS 10000

static atomic_int asking;

/* Adds vc_tag and ledger_hours to each instance that is a VC. */
static void add_ledger(ct_api *api, json_t *usage, int64_t from_ms, int64_t to_ms)
{
    json_t *inst;
    size_t i;

    json_array_foreach (json_object_get(usage, "instances"), i, inst) {
        const char *id = json_string_value(json_object_get(inst, "id"));
        json_t *list = NULL;
        const char *tag;
        uint8_t h[32];
        double up;
        if (id == NULL ||
            ct_store_vc_list(ct_api__store(api), &list, &(ct_store_vc_filter){NULL, -1, id, 1, 0}) <
                0 ||
            (tag = json_string_value(json_object_get(json_array_get(list, 0), "vc_tag"))) == NULL ||
            !ct_api__parse_hash32(h, tag) || ct_api__vc_uptime(api, &up, h, from_ms, to_ms) < 0) {
            json_decref(list);
            ct_error_clear();
            continue;
        }
        json_object_set_new(inst, "vc_tag", json_string(tag));
        json_object_set_new(inst, "ledger_hours", json_real(up / 3600.0));
        json_decref(list);
    }
}

/* A query time (ISO 8601), or def. false after answering 400. */
static bool query_time(const api_req *req, const char *name, int64_t def, int64_t *out,
                       api_resp *resp)
{
    const char *v = ct_api__query(req, name);

    *out = def;
    if (v == NULL || ct_time_parse(out, v) == 0)
        return true;
    ct_api__error(resp, 400, "query '%s' must be an ISO 8601 time", name);
    return false;
}

void ct_api__h_usage(ct_api *api, const api_req *req, api_resp *resp)
{
    const char *cloud = ct_api__query(req, "cloud"), *price = ct_api__query(req, "price");
    ct_cloud_auth auth = {0};
    ct_cloud_prices prices = {0};
    ct_cloud *c = NULL;
    int64_t from, to;
    json_t *u = NULL;

    if (ct_api__need_token(api, req, resp) == NULL)
        return;
    if (api->cfg.clouds_yaml == NULL) {
        ct_api__error(resp, 503, "usage is off: the gateway has no clouds_yaml");
        return;
    }
    if (!query_time(req, "to", ct_time_now_ms(), &to, resp) ||
        !query_time(req, "from", to - DEFAULT_PERIOD_MS, &from, resp))
        return;
    if (from >= to) {
        ct_api__error(resp, 400, "query 'from' must be before 'to'");
        return;
    }
    if (cloud == NULL || cloud[0] == '\0') {
        ct_api__error(resp, 400,
                      "query 'cloud' (a cloud of the gateway's clouds.yaml) is required");
        return;
    }
    if (price != NULL && ct_cloud_prices_parse(&prices, price) < 0) {
        ct_api__error(resp, 400, "query 'price': %s", ct_error_last());
        return;
    }
    if (ct_cloud_auth_load(&auth, api->cfg.clouds_yaml, cloud) < 0) {
        ct_api__error(resp, 404, "%s", ct_error_last());
        return;
    }
    if (atomic_fetch_add(&asking, 1) >= USAGE_CONCURRENT) {
        atomic_fetch_sub(&asking, 1);
        ct_cloud_auth_free(&auth);
        ct_api__error(resp, 503, "the gateway is asking clouds for %d other usages: retry later",
                      USAGE_CONCURRENT);
        return;
    }
    int64_t left = USAGE_TIMEOUT_MS - (ct_time_mono_ms() - req->received_ms);
    if (ct_cloud_connect(&c, &auth, left > 1000 ? (int)left : 1000) < 0 ||
        ct_cloud_usage(&u, c, from, to) < 0) {
        ct_api__error(resp, 502, "cloud %s: %s", cloud, ct_error_last());
    } else {
        add_ledger(api, u, from, to);
        if (prices.set)
            ct_cloud_usage_price(u, &prices);
        json_object_set_new(u, "cloud", json_string(cloud));
        resp->json = u;
        u = NULL;
    }
    atomic_fetch_sub(&asking, 1);
    json_decref(u);
    ct_cloud_free(c);
    ct_cloud_auth_free(&auth);
}
