/* The gateway's agreement reads (seed 004, docs/AGREEMENTS.md), from the
 * chain: GET /api/agreements lists the agreement contracts offered since
 * the ledger's deployment (their AgreementCreated events, newest first),
 * GET /api/agreements/{address} shows one as `catena agreement show`
 * does (ct_agreements_read). */
#include "api_int.h"

#include <inttypes.h>
#include <string.h>

/* Most agreements one list answers (?limit). */
#define LIST_MAX 200
#define RPC_TIMEOUT_MS 10000

static bool open_rpc(ct_api *api, const api_req *req, ct_rpc **rpc, api_resp *resp)
{
    if (!ct_api__may_read(api, req, resp))
        return false;
    if (ct_rpc_new(rpc, api->cfg.rpc_url, RPC_TIMEOUT_MS) == 0)
        return true;
    ct_api__error(resp, 502, "chain: %s", ct_error_last());
    return false;
}

/* One agreement's document, or NULL with resp set (404 when at holds no
 * agreement). */
static json_t *read_one(ct_api *api, ct_rpc *rpc, const ct_address *at, api_resp *resp)
{
    ct_ag_contract which;
    json_t *doc = NULL;
    int rc = ct_agreements_identify(api->agreements, rpc, at, &which);

    if (rc == 0)
        rc = ct_agreements_read(api->agreements, rpc, at, which, &doc);
    if (rc == CT_ENOTFOUND)
        ct_api__error(resp, 404, "%s", ct_error_last());
    else if (rc < 0)
        ct_api__error(resp, 502, "chain: %s", ct_error_last());
    return rc < 0 ? NULL : doc;
}

void ct_api__h_agreement(ct_api *api, const api_req *req, api_resp *resp)
{
    json_t *doc;
    ct_address at;
    ct_rpc *rpc = NULL;

    if (ct_address_parse(&at, req->params[0]) < 0) {
        ct_api__error(resp, 400, "address: %s", ct_error_last());
        return;
    }
    if (!open_rpc(api, req, &rpc, resp))
        return;
    if ((doc = read_one(api, rpc, &at, resp)) != NULL)
        resp->json = doc;
    ct_rpc_free(rpc);
}

void ct_api__h_agreement_list(ct_api *api, const api_req *req, api_resp *resp)
{
    uint64_t limit = 50;
    uint8_t topic[32];
    char from[24];
    json_t *filter, *logs = NULL, *list;
    ct_rpc *rpc = NULL;
    int rc;

    if (!ct_api__query_uint(&limit, req, "limit", 1, LIST_MAX, resp) ||
        !open_rpc(api, req, &rpc, resp))
        return;
    ct_ledger_event_topic(ct_agreements_abi(api->agreements, CT_AG_AGREEMENT), topic,
                          "AgreementCreated");
    snprintf(from, sizeof(from), "0x%" PRIx64, api->cfg.from_block);
    filter = json_pack("{s:s, s:s, s:[o]}", "fromBlock", from, "toBlock", "latest", "topics",
                       ct_json_hex(topic, 32));
    rc = ct_rpc_get_logs(rpc, &logs, filter);
    json_decref(filter);
    if (rc < 0) {
        ct_api__error(resp, 502, "chain: %s", ct_error_last());
        ct_rpc_free(rpc);
        return;
    }
    list = json_array();
    for (size_t i = json_array_size(logs); i > 0 && json_array_size(list) < limit; i--) {
        ct_address at;
        json_t *doc;
        if (ct_address_parse(
                &at, json_string_value(json_object_get(json_array_get(logs, i - 1), "address"))
                         ?: "") < 0) {
            ct_error_clear();
            continue;
        }
        if ((doc = read_one(api, rpc, &at, resp)) == NULL) {
            if (resp->status == 404) { /* a contract of another kind with that event */
                json_decref(resp->json);
                resp->json = NULL;
                resp->status = 0;
                continue;
            }
            json_decref(list);
            json_decref(logs);
            ct_rpc_free(rpc);
            return;
        }
        json_array_append_new(list, doc);
    }
    resp->json =
        json_pack("{s:o, s:I}", "agreements", list, "total", (json_int_t)json_array_size(logs));
    json_decref(logs);
    ct_rpc_free(rpc);
}
