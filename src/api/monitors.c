/* The explorer's event monitor under /api/chain/monitor: registrations (a
 * contract address, the ABI of the events to watch) and their decoded
 * logs, which the follower keeps in the cache (src/store/monitor_logs.c),
 * read in pages. Registering and deleting need a bearer token; reads
 * need one when reads_need_token is set. Nothing here waits for the node. */
#include "api_int.h"

#include <stdlib.h>
#include <string.h>

/* Registrations the cache keeps, longest label, largest ABI (its JSON
 * text, as given), most event names. The ABI kept is only the watched
 * events' entries, so the listing stays small. */
#define MONITOR_MAX 64
#define MONITOR_MAX_LABEL 128
#define MONITOR_MAX_ABI (64 * 1024)
#define MONITOR_MAX_EVENTS 64
/* Logs in a page unless ?limit= says otherwise. */
#define PAGE_DEFAULT 100

/* The "abi" field: an ABI JSON array, or its text (what a user pastes).
 * Out: *out new ref to the array. Returns: false with the answer set. */
static bool abi_of(json_t **out, const json_t *abi, api_resp *resp)
{
    size_t len = 0;
    char *text = NULL;

    if (json_is_string(abi))
        len = json_string_length(abi);
    else if (json_is_array(abi) && (text = json_dumps(abi, JSON_COMPACT)) != NULL)
        len = strlen(text);
    free(text);
    if (len > MONITOR_MAX_ABI) {
        ct_api__error(resp, 413, "abi: %zu bytes of JSON, at most %d: give only the events to watch",
                      len, MONITOR_MAX_ABI);
        return false;
    }
    if (json_is_array(abi)) {
        *out = json_incref((json_t *)abi);
        return true;
    }
    if (json_is_string(abi) &&
        ct_json_parse(out, json_string_value(abi), len, API_BODY_DEPTH) == 0) {
        if (json_is_array(*out))
            return true;
        json_decref(*out);
    }
    ct_api__error(resp, 400, "abi: the contract's ABI JSON array (or its text) is required");
    return false;
}

/* Checks the fields other than the ABI. Returns: false with the answer set. */
static bool check_fields(const json_t *body, ct_address *addr, api_resp *resp)
{
    const char *addr_s = json_string_value(json_object_get(body, "address"));
    const json_t *label = json_object_get(body, "label"), *names = json_object_get(body, "events");

    if (addr_s == NULL || ct_address_parse(addr, addr_s) < 0) {
        ct_api__error(resp, 400, "field 'address': a contract address is required");
        return false;
    }
    if (label != NULL && (!json_is_string(label) || json_string_length(label) > MONITOR_MAX_LABEL)) {
        ct_api__error(resp, 400, "field 'label': a string of at most %d bytes", MONITOR_MAX_LABEL);
        return false;
    }
    if (names != NULL && (!json_is_array(names) || json_array_size(names) > MONITOR_MAX_EVENTS)) {
        ct_api__error(resp, 400, "field 'events': an array of at most %d event names",
                      MONITOR_MAX_EVENTS);
        return false;
    }
    return true;
}

/* Stores the registration; answers 201 with it. */
static void add(ct_api *api, const ct_address *addr, const char *label, const json_t *watched,
                const json_t *names, api_resp *resp)
{
    char *abi_text = json_dumps(watched, JSON_COMPACT);
    char *names_text = names != NULL ? json_dumps(names, JSON_COMPACT) : strdup("[]");
    int64_t id;
    int rc = abi_text == NULL || names_text == NULL
                 ? ct_error_set(CT_ENOMEM, "out of memory")
                 : ct_store_monitor_add(ct_api__store(api), &id, addr, label, abi_text, names_text,
                                        MONITOR_MAX);

    if (rc == CT_ELIMIT)
        ct_api__error(resp, 400, "%s", ct_error_last());
    else if (rc < 0 || (rc = ct_store_monitor_get(ct_api__store(api), &resp->json, id)) < 0)
        ct_api__error(resp, 500, "cache: %s", ct_error_last());
    else
        resp->status = 201;
    free(abi_text);
    free(names_text);
}

void ct_api__h_monitor_add(ct_api *api, const api_req *req, api_resp *resp)
{
    static const char *const keys[] = {"address", "label", "abi", "events", NULL};
    json_t *body = NULL, *abi = NULL, *watched = NULL;
    const char *label;
    ct_address addr;

    /* A write: the token first, before anything about the body. */
    if (ct_api__need_token(api, req, resp) == NULL ||
        (body = ct_api__body_parse(req, resp, keys)) == NULL)
        return;
    label = json_string_value(json_object_get(body, "label"));
    if (check_fields(body, &addr, resp) && abi_of(&abi, json_object_get(body, "abi"), resp)) {
        if (ct_store_monitor_watched(&watched, abi, json_object_get(body, "events")) < 0)
            ct_api__error(resp, 400, "abi: %s", ct_error_last());
        else
            add(api, &addr, label != NULL ? label : "", watched, json_object_get(body, "events"),
                resp);
    }
    json_decref(watched);
    json_decref(abi);
    json_decref(body);
}

void ct_api__h_monitor_list(ct_api *api, const api_req *req, api_resp *resp)
{
    if (ct_api__may_read(api, req, resp) &&
        ct_store_monitor_list(ct_api__store(api), &resp->json) < 0)
        ct_api__error(resp, 500, "cache: %s", ct_error_last());
}

static bool monitor_id(const api_req *req, int64_t *id, api_resp *resp)
{
    uint64_t v;

    if (ct_parse_uint(&v, req->params[0], INT64_MAX) < 0) {
        ct_api__error(resp, 400, "monitor id must be a number");
        return false;
    }
    *id = (int64_t)v;
    return true;
}

void ct_api__h_monitor_delete(ct_api *api, const api_req *req, api_resp *resp)
{
    int64_t id;
    int rc;

    if (ct_api__need_token(api, req, resp) == NULL || !monitor_id(req, &id, resp))
        return;
    rc = ct_store_monitor_delete(ct_api__store(api), id);
    if (rc == 0)
        resp->json = json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1);
    else
        ct_api__error(resp, rc == CT_ENOTFOUND ? 404 : 500, "%s", ct_error_last());
}

/* ?order=: "desc" (newest first, the default) or "asc". */
static bool oldest_first(bool *out, const api_req *req, api_resp *resp)
{
    const char *o = ct_api__query(req, "order");

    *out = o != NULL && strcmp(o, "asc") == 0;
    if (o == NULL || *out || strcmp(o, "desc") == 0)
        return true;
    ct_api__error(resp, 400, "query 'order': asc or desc");
    return false;
}

/* One page of the monitor's logs from the cache (?limit=, ?order=,
 * ?after= the "next" of the page before). */
void ct_api__h_monitor_events(ct_api *api, const api_req *req, api_resp *resp)
{
    uint64_t limit = PAGE_DEFAULT;
    int64_t id;
    bool asc;
    int rc;

    if (!ct_api__may_read(api, req, resp) || !monitor_id(req, &id, resp) ||
        !ct_api__query_uint(&limit, req, "limit", 1, CT_STORE_MONITOR_PAGE_MAX, resp) ||
        !oldest_first(&asc, req, resp))
        return;
    rc = ct_store_monitor_logs(ct_api__store(api), &resp->json, id, asc,
                               ct_api__query(req, "after"), (size_t)limit);
    if (rc == CT_EINVAL)
        ct_api__error(resp, 400, "query 'after': %s", ct_error_last());
    else if (rc < 0)
        ct_api__error(resp, rc == CT_ENOTFOUND ? 404 : 500, "%s", ct_error_last());
}
