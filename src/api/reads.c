/* The gateway's read endpoints: DC and VC details, flavour, tag from a
 * transaction, history, pending migration, listings and SLA state, all
 * from the SQLite cache that the event follower keeps. */
#include "api_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catena/sla.h"

/* Reads need a token only when the operator configured it so. */
static bool may_read(ct_api *api, const api_req *req, api_resp *resp)
{
    if (api->cfg.reads_need_token && ct_api__auth_dc(api, req) == NULL) {
        ct_api__error(resp, 401, "a valid 'Authorization: Bearer <token>' header is required");
        return false;
    }
    return true;
}

static bool parse_tag(uint8_t tag[32], const char *s, const char *what, api_resp *resp)
{
    if (!ct_api__parse_hash32(tag, s)) {
        ct_api__error(resp, 400, "%s must be 0x and 64 hex digits", what);
        return false;
    }
    return true;
}

/* Answers from one store read: 200 with its JSON, 404 for CT_ENOTFOUND,
 * 500 otherwise. */
static void answer(api_resp *resp, int rc, json_t *out, const char *what)
{
    if (rc == 0)
        resp->json = out;
    else if (rc == CT_ENOTFOUND)
        ct_api__error(resp, 404, "%s not found", what);
    else
        ct_api__error(resp, 500, "cache: %s", ct_error_last());
}

typedef int (*tag_read)(ct_store *s, json_t **out, const uint8_t tag[32]);

/* A read keyed by a VC tag or transaction hash, through the answer cache. */
static void read_by_tag(ct_api *api, const api_req *req, api_resp *resp, tag_read fn, int kind,
                        const char *what)
{
    uint8_t tag[32];
    json_t *out = NULL;
    uint64_t gen;
    int rc;

    if (!may_read(api, req, resp) || !parse_tag(tag, req->params[0], what, resp) ||
        ct_api__cache_get(api, kind, tag, resp))
        return;
    gen = ct_api__cache_gen(api);
    rc = fn(ct_api__store(api), &out, tag);
    answer(resp, rc, out, what);
    ct_api__cache_put(api, kind, tag, gen, resp);
}

void ct_api__h_vc_details(ct_api *api, const api_req *req, api_resp *resp)
{
    read_by_tag(api, req, resp, ct_store_vc_details, CACHE_DETAILS, "VC tag");
}

void ct_api__h_vc_flavor(ct_api *api, const api_req *req, api_resp *resp)
{
    read_by_tag(api, req, resp, ct_store_vc_flavor, CACHE_FLAVOR, "VC tag");
}

void ct_api__h_vc_history(ct_api *api, const api_req *req, api_resp *resp)
{
    read_by_tag(api, req, resp, ct_store_vc_history, CACHE_HISTORY, "VC tag");
}

void ct_api__h_vc_pending(ct_api *api, const api_req *req, api_resp *resp)
{
    read_by_tag(api, req, resp, ct_store_vc_pending, CACHE_PENDING, "VC tag");
}

void ct_api__h_vc_tag(ct_api *api, const api_req *req, api_resp *resp)
{
    read_by_tag(api, req, resp, ct_store_vc_tag_by_tx, CACHE_TAG_BY_TX, "transaction hash");
}

void ct_api__h_dc_details(ct_api *api, const api_req *req, api_resp *resp)
{
    ct_address wallet;
    json_t *out = NULL;
    int rc;

    if (!may_read(api, req, resp))
        return;
    if (ct_address_parse(&wallet, req->params[0]) < 0) {
        ct_api__error(resp, 400, "address: %s", ct_error_last());
        return;
    }
    rc = ct_store_dc_by_wallet(ct_api__store(api), &out, &wallet);
    answer(resp, rc, out, "datacenter");
}

void ct_api__h_dc_list(ct_api *api, const api_req *req, api_resp *resp)
{
    json_t *out = NULL;
    int rc;

    if (!may_read(api, req, resp))
        return;
    rc = ct_store_dc_list(ct_api__store(api), &out);
    answer(resp, rc, out, "datacenters");
}

/* Reads an optional unsigned query argument. */
static bool query_uint(const api_req *req, const char *name, uint64_t *out, uint64_t max,
                       api_resp *resp)
{
    const char *v = ct_api__query(req, name);

    if (v == NULL)
        return true;
    if (ct_parse_uint(out, v, max) < 0) {
        ct_api__error(resp, 400, "query '%s': %s", name, ct_error_last());
        return false;
    }
    return true;
}

bool ct_api__dc_wallet(ct_api *api, ct_address *out, const char *name, const char *what,
                       api_resp *resp)
{
    const ct_address *w = ct_api__agent_wallet(api, name);
    int rc;

    if (w != NULL) {
        *out = *w;
        return true;
    }
    if ((rc = ct_store_dc_by_name(ct_api__store(api), out, name)) == 0)
        return true;
    if (rc == CT_ENOTFOUND)
        ct_api__error(resp, 404, "unknown %s '%s'", what, name);
    else
        ct_api__error(resp, 500, "cache: %s", ct_error_last());
    return false;
}

/* The host filter of the listing: a wallet or a DC name. */
static bool query_host(ct_api *api, const api_req *req, ct_address *host, bool *given,
                       api_resp *resp)
{
    const char *dc = ct_api__query(req, "dc");

    *given = dc != NULL;
    if (dc == NULL || ct_address_parse(host, dc) == 0)
        return true;
    return ct_api__dc_wallet(api, host, dc, "datacenter", resp);
}

void ct_api__h_vc_list(ct_api *api, const api_req *req, api_resp *resp)
{
    const char *avail = ct_api__query(req, "available");
    uint64_t limit = 100, offset = 0;
    int available = -1, rc;
    ct_address host;
    bool by_host;
    json_t *out = NULL;

    if (!may_read(api, req, resp) || !query_uint(req, "limit", &limit, 1000, resp) ||
        !query_uint(req, "offset", &offset, UINT32_MAX, resp) ||
        !query_host(api, req, &host, &by_host, resp))
        return;
    if (avail != NULL) {
        if (strcmp(avail, "true") != 0 && strcmp(avail, "false") != 0) {
            ct_api__error(resp, 400, "query 'available' must be true or false");
            return;
        }
        available = strcmp(avail, "true") == 0;
    }
    rc = ct_store_vc_list(ct_api__store(api), &out,
                          &(ct_store_vc_filter){by_host ? &host : NULL, available,
                                                ct_api__query(req, "id"), (size_t)limit,
                                                (size_t)offset});
    answer(resp, rc, out, "containers");
}

/* ---------------------------------------------------------------- SLA */

/* Reads a query time: ISO 8601 or Unix seconds; absent: def. */
static bool query_time(const api_req *req, const char *name, int64_t def, int64_t *out,
                       api_resp *resp)
{
    const char *v = ct_api__query(req, name);
    uint64_t secs;

    *out = def;
    if (v == NULL)
        return true;
    if (ct_time_parse(out, v) == 0)
        return true;
    if (ct_parse_uint(&secs, v, INT64_MAX / 1000) == 0) {
        *out = (int64_t)secs * 1000;
        return true;
    }
    ct_api__error(resp, 400, "query '%s' must be an ISO 8601 time or Unix seconds", name);
    return false;
}

/* The VC's timeline from the cache as SLA events. DCs report their own
 * timestamps; one earlier than the previous event is taken as
 * simultaneous with it, so chain order wins. */
static int sla_events(ct_store *st, ct_sla_event **out, size_t *n, const uint8_t tag[32])
{
    ct_avail_change *tl = NULL;
    int rc = ct_store_vc_timeline(st, &tl, n, tag);

    if (rc < 0)
        return rc;
    *out = calloc(*n + 1, sizeof(**out));
    if (*out == NULL) {
        free(tl);
        return ct_error_set(CT_ENOMEM, "sla: out of memory");
    }
    for (size_t i = 0; i < *n; i++) {
        ct_sla_event *e = &(*out)[i];
        e->time_ms =
            i > 0 && tl[i].time_ms < (*out)[i - 1].time_ms ? (*out)[i - 1].time_ms : tl[i].time_ms;
        switch (tl[i].kind) {
        case CT_AVAIL_REGISTERED:
            e->kind = tl[i].available ? CT_SLA_REGISTERED_UP : CT_SLA_REGISTERED_DOWN;
            break;
        case CT_AVAIL_UP: e->kind = CT_SLA_UP; break;
        case CT_AVAIL_DOWN: e->kind = CT_SLA_DOWN; break;
        case CT_AVAIL_MIGRATION_START: e->kind = CT_SLA_MIGRATION_START; break;
        case CT_AVAIL_MIGRATION_END: e->kind = CT_SLA_MIGRATION_END; break;
        default: e->kind = CT_SLA_RETIRED; break;
        }
    }
    free(tl);
    return 0;
}

static json_t *report_json(const char *tag, const ct_sla_report *r)
{
    char from[CT_TIME_ISO8601_SIZE], to[CT_TIME_ISO8601_SIZE];
    json_t *list = json_array();

    for (size_t i = 0; i < r->n_intervals; i++) {
        char a[CT_TIME_ISO8601_SIZE], b[CT_TIME_ISO8601_SIZE];
        ct_time_format(a, r->intervals[i].from_ms);
        ct_time_format(b, r->intervals[i].to_ms);
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:I, s:s}", "from", a, "to", b, "seconds",
                            (json_int_t)((r->intervals[i].to_ms - r->intervals[i].from_ms) / 1000),
                            "reason", r->intervals[i].reason));
    }
    ct_time_format(from, r->from_ms);
    ct_time_format(to, r->to_ms);
    return json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:s, s:o}", "vc_tag", tag, "from", from,
                     "to", to, "measured_seconds", (double)r->measured_ms / 1000.0, "availability",
                     round(r->availability * 1000.0) / 1000.0, "target", r->target,
                     "downtime_seconds", (double)r->downtime_ms / 1000.0, "state",
                     ct_sla_state_name(r->state), "downtime", list);
}

int ct_api__vc_uptime(ct_api *api, double *up_s, const uint8_t tag[32], int64_t from_ms,
                      int64_t to_ms)
{
    ct_sla_event *events = NULL;
    ct_sla_report rep;
    size_t n = 0;
    int rc = sla_events(ct_api__store(api), &events, &n, tag);

    if (rc < 0)
        return rc;
    if ((rc = ct_sla_compute(&rep, events, n, from_ms, to_ms, 0)) == 0)
        *up_s = (double)(rep.measured_ms - rep.downtime_ms) / 1000.0;
    ct_sla_report_clear(&rep);
    free(events);
    return rc;
}

void ct_api__h_vc_sla(ct_api *api, const api_req *req, api_resp *resp)
{
    uint8_t tag[32];
    int64_t from, to;
    const char *target_s = ct_api__query(req, "target");
    double target = 99.0;
    ct_sla_event *events = NULL;
    size_t n = 0;
    ct_sla_report rep;
    int rc;

    if (!may_read(api, req, resp) || !parse_tag(tag, req->params[0], "VC tag", resp) ||
        !query_time(req, "from", 0, &from, resp) ||
        !query_time(req, "to", ct_time_now_ms(), &to, resp))
        return;
    if (target_s != NULL) {
        char *end;
        target = strtod(target_s, &end);
        if (*end != '\0' || !(target >= 0 && target <= 100)) {
            ct_api__error(resp, 400, "query 'target' must be a percentage 0..100");
            return;
        }
    }
    rc = sla_events(ct_api__store(api), &events, &n, tag);
    if (rc < 0) {
        answer(resp, rc, NULL, "VC tag");
        return;
    }
    if (ct_sla_compute(&rep, events, n, from, to, target) < 0)
        ct_api__error(resp, 400, "%s", ct_error_last());
    else
        resp->json = report_json(req->params[0], &rep);
    ct_sla_report_clear(&rep);
    free(events);
}
