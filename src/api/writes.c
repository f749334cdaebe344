/* The gateway's write endpoints (seed 000 sections 4.3.1.1, 4.3.2.1,
 * 4.3.3): validate the body, check the bearer token's DC, forward to that
 * DC's agent over WebSocket, and answer {"tx_hash": ...}. */
#include "api_int.h"

#include <string.h>

/* The token is checked before anything else of the request (401 before
 * 400), so no one learns the API's checks without one. */
static json_t *parse_body(ct_api *api, const api_req *req, api_resp *resp,
                          const char *const *allowed)
{
    if (ct_api__need_token(api, req, resp) == NULL)
        return NULL;
    return ct_api__body_parse(req, resp, allowed);
}

/* Checks that the bearer token acts for dc. Sets 401/403 on failure (a
 * 403 names no DC: a token holder learns no other DC's names from it). */
static bool authorised(ct_api *api, const api_req *req, api_resp *resp, const char *dc)
{
    const char *who = ct_api__auth_dc(api, req);

    if (who == NULL) {
        ct_api__error(resp, 401, "a valid 'Authorization: Bearer <token>' header is required");
        return false;
    }
    if (strcmp(who, dc) != 0) {
        ct_api__error(resp, 403, "this token does not act for this datacenter");
        return false;
    }
    return true;
}

/* Checks that field is a datetime (ISO 8601); 400 naming it otherwise. */
static bool check_time(const json_t *body, const char *field, bool optional, api_resp *resp)
{
    const char *s;
    int64_t ms;
    int rc = ct_json_get_string(&s, body, field, optional);

    if (rc == CT_ENOTFOUND)
        return true;
    if (rc < 0 || ct_time_parse(&ms, s) < 0) {
        ct_api__error(resp, 400, "field '%s': %s", field, ct_error_last());
        return false;
    }
    return true;
}

/* Maps an agent's Table 20 code to an HTTP status. */
static int status_of(const char *code)
{
    if (code == NULL)
        return 500;
    if (strcmp(code, "bad_request") == 0)
        return 400;
    if (strcmp(code, "unauthorized") == 0 || strcmp(code, "reverted") == 0)
        return 403;
    if (strcmp(code, "behind") == 0)
        return 503;
    return 500;
}

/* The answer of an agent's error (Table 20). */
static void agent_error(api_resp *resp, const json_t *answer)
{
    const char *msg = json_string_value(json_object_get(answer, "response"));

    ct_api__error(resp, status_of(json_string_value(json_object_get(answer, "code"))), "%s",
                  msg != NULL ? msg : "the agent refused the write");
}

/* Returns: whether the agent call's error rc means nothing was sent.
 * agents.c says so only in its message ("not connected", "too many
 * requests in flight"); anything else may have reached the agent. */
static bool not_sent(int rc)
{
    return rc == CT_ETIMEOUT && (strstr(ct_error_last(), "is not connected") != NULL ||
                                 strstr(ct_error_last(), "too many requests in flight") != NULL);
}

/* Forwards msg (stolen) to dc's agent with the caller's token and turns the
 * answer into the response. Past its short wait (accept_after_ms) the
 * write is answered 202 and goes on (requests.c); it must not read req's
 * strings after the agent call. */
static void forward(ct_api *api, const api_req *req, api_resp *resp, const char *dc, json_t *msg)
{
    /* The timeout counts from arrival, so time spent queued counts too. */
    int64_t deadline = req->received_ms + api->cfg.agent_timeout_ms;
    enum api_outcome outcome = API_FAILED;
    json_t *answer = NULL;
    bool late;
    api_write *w;
    int rc;

    if (!ct_api__write_begin(api, &w, req, dc, resp)) {
        json_decref(msg);
        return;
    }
    json_object_set_new(msg, "token", json_string(ct_api__bearer(req)));
    /* The agent's node may follow the chain behind the gateway's: it waits
     * to reach what the gateway has shown before checking the call, so a
     * write the shown state refuses (a former host's) is not sent. */
    pthread_mutex_lock(&api->wake_mu);
    json_int_t shown = (json_int_t)api->processed;
    pthread_mutex_unlock(&api->wake_mu);
    if (shown > 0)
        json_object_set_new(msg, "min_block", json_integer(shown));
    if ((late = ct_time_mono_ms() >= deadline)) /* queued that long: too late to send */
        rc = ct_error_set(CT_ETIMEOUT, "the write waited %d ms in the queue for the agent of %s",
                          api->cfg.agent_timeout_ms, dc);
    else
        rc = ct_api__agent_call(api, dc, msg, &answer, deadline);
    json_decref(msg);
    if (rc == CT_ENOTFOUND) {
        ct_api__error(resp, 404, "%s", ct_error_last());
    } else if (late || not_sent(rc)) {
        outcome = API_UNSENT;
        ct_api__error(resp, 503, "%s; nothing was sent, retry later", ct_error_last());
    } else if (rc < 0) {
        outcome = API_UNKNOWN;
        ct_api__error(resp, 504, "%s", ct_error_last());
    } else if (json_is_true(json_object_get(answer, "error"))) {
        agent_error(resp, answer);
        if (resp->status == 503) /* its node was behind: nothing was sent */
            outcome = API_UNSENT;
    } else {
        outcome = API_DONE;
        resp->json = json_pack("{s:O}", "tx_hash", json_object_get(answer, "response"));
        ct_api__follower_wake(api);
    }
    json_decref(answer);
    ct_api__write_end(api, w, outcome, resp);
}

/* Copies the listed fields of body into msg (which they must all be in,
 * unless optional). Types are checked by the agent, which is the one that
 * signs; the gateway checks what it needs to route. */
static void copy_fields(json_t *msg, const json_t *body, const char *const *fields)
{
    for (size_t i = 0; fields[i] != NULL; i++) {
        json_t *v = json_object_get(body, fields[i]);
        if (v != NULL)
            json_object_set(msg, fields[i], v);
    }
}

void ct_api__h_dc_register(ct_api *api, const api_req *req, api_resp *resp)
{
    static const char *const keys[] = {"name", "wallet", NULL};
    json_t *body = parse_body(api, req, resp, keys);
    const char *name, *wallet;
    const ct_address *expected;
    ct_address w;

    if (body == NULL)
        return;
    if (ct_json_get_string(&name, body, "name", false) < 0 ||
        ct_json_get_string(&wallet, body, "wallet", false) < 0) {
        ct_api__error(resp, 400, "%s", ct_error_last());
    } else if (ct_address_parse(&w, wallet) < 0) {
        ct_api__error(resp, 400, "field 'wallet': %s", ct_error_last());
    } else if (authorised(api, req, resp, name)) {
        expected = ct_api__agent_wallet(api, name);
        if (expected == NULL)
            ct_api__error(resp, 404, "no agent is configured for datacenter %s", name);
        else if (!ct_address_equal(expected, &w))
            ct_api__error(resp, 403, "this wallet is not the wallet of the datacenter's agent");
        else
            forward(api, req, resp, name,
                    json_pack("{s:s, s:s}", "method", "register_datacenter", "name", name));
    }
    json_decref(body);
}

/* POST /api/datacenter/{name}/attributes {"attributes": {...}}: the DC
 * declares its attributes (its agent checks them). */
void ct_api__h_dc_attributes_set(ct_api *api, const api_req *req, api_resp *resp)
{
    static const char *const keys[] = {"attributes", NULL};
    json_t *body = parse_body(api, req, resp, keys);
    const char *dc = req->params[0];

    if (body == NULL)
        return;
    if (!json_is_object(json_object_get(body, "attributes")))
        ct_api__error(resp, 400, "field 'attributes' must be an object of strings");
    else if (authorised(api, req, resp, dc))
        forward(api, req, resp, dc,
                json_pack("{s:s, s:O}", "method", "set_attributes", "attributes",
                          json_object_get(body, "attributes")));
    json_decref(body);
}

static const char *const vc_fields[] = {"vc_type", "available",  "vcpu",       "vram",    "vdisk",
                                        "id",      "ip_address", "controller", "created", NULL};

void ct_api__h_vc_register(ct_api *api, const api_req *req, api_resp *resp)
{
    json_t *body = parse_body(api, req, resp, vc_fields), *msg;
    const char *dc = req->params[0];

    if (body == NULL)
        return;
    if (ct_api__body_require(body, vc_fields, resp) && check_time(body, "created", false, resp) &&
        authorised(api, req, resp, dc)) {
        msg = json_pack("{s:s}", "method", "register_container");
        copy_fields(msg, body, vc_fields);
        forward(api, req, resp, dc, msg);
    }
    json_decref(body);
}

void ct_api__h_vc_register_batch(ct_api *api, const api_req *req, api_resp *resp)
{
    static const char *const keys[] = {"containers", NULL};
    json_t *body = parse_body(api, req, resp, keys), *list, *msg;
    const char *dc = req->params[0];

    if (body == NULL)
        return;
    list = json_object_get(body, "containers");
    if (!json_is_array(list) || json_array_size(list) == 0)
        ct_api__error(resp, 400, "field 'containers' must be a non-empty array");
    else if (json_array_size(list) > API_MAX_BATCH)
        ct_api__error(resp, 400,
                      "field 'containers': at most %d per batch (a transaction may use 2^24 "
                      "gas)",
                      API_MAX_BATCH);
    else if (authorised(api, req, resp, dc)) {
        msg = json_pack("{s:s, s:O}", "method", "register_containers", "containers", list);
        forward(api, req, resp, dc, msg);
    }
    json_decref(body);
}

/* The common shape of the /container/{tag}/... writes: check the tag and
 * token, require fields, build the agent message. */
static json_t *vc_write(ct_api *api, const api_req *req, api_resp *resp, const char *const *keys,
                        const char *const *required, const char *method, json_t **body_out)
{
    const char *dc = req->params[0], *tag = req->params[1];
    uint8_t tag_bytes[32];
    json_t *body, *msg;

    *body_out = NULL;
    if (ct_api__need_token(api, req, resp) == NULL)
        return NULL;
    if (!ct_api__parse_hash32(tag_bytes, tag)) {
        ct_api__error(resp, 400, "vc_tag must be 0x and 64 hex digits");
        return NULL;
    }
    if ((body = parse_body(api, req, resp, keys)) == NULL)
        return NULL;
    *body_out = body;
    if (!ct_api__body_require(body, required, resp) || !check_time(body, "timestamp", true, resp) ||
        !authorised(api, req, resp, dc))
        return NULL;
    msg = json_pack("{s:s, s:s}", "method", method, "vc_tag", tag);
    copy_fields(msg, body, keys);
    return msg;
}

void ct_api__h_vc_availability(ct_api *api, const api_req *req, api_resp *resp)
{
    static const char *const keys[] = {"status", "timestamp", NULL};
    json_t *body, *msg = vc_write(api, req, resp, keys, keys, "change_availability", &body);

    if (msg != NULL)
        forward(api, req, resp, req->params[0], msg);
    json_decref(body);
}

void ct_api__h_vc_retire(ct_api *api, const api_req *req, api_resp *resp)
{
    static const char *const keys[] = {"timestamp", NULL};
    json_t *body, *msg = vc_write(api, req, resp, keys, keys, "retire", &body);

    if (msg != NULL)
        forward(api, req, resp, req->params[0], msg);
    json_decref(body);
}

void ct_api__h_vc_migrate_confirm(ct_api *api, const api_req *req, api_resp *resp)
{
    static const char *const keys[] = {"id",      "ip_address", "controller", "price",
                                       "invoice", "timestamp",  NULL};
    json_t *body, *msg = vc_write(api, req, resp, keys, keys, "migrate_container", &body);

    if (msg != NULL)
        forward(api, req, resp, req->params[0], msg);
    json_decref(body);
}

/* Resolves the pending migration's target: "target" (a DC name, as in
 * Listing 12) or "to_address" (Table 6). */
static bool resolve_target(ct_api *api, json_t *msg, const json_t *body, api_resp *resp)
{
    const char *target = json_string_value(json_object_get(body, "target"));
    const char *to = json_string_value(json_object_get(body, "to_address"));
    ct_address addr;
    char text[CT_ADDRESS_TEXT_SIZE];

    json_object_del(msg, "target");
    if ((target == NULL) == (to == NULL)) {
        ct_api__error(resp, 400, "give either 'target' (a DC name) or 'to_address'");
        return false;
    }
    if (to != NULL)
        return true;
    if (!ct_api__dc_wallet(api, &addr, target, "target datacenter", resp))
        return false;
    ct_address_format(text, &addr);
    json_object_set_new(msg, "to_address", json_string(text));
    return true;
}

void ct_api__h_vc_migrate_pending(ct_api *api, const api_req *req, api_resp *resp)
{
    static const char *const keys[] = {"target",  "to_address", "price",
                                       "invoice", "timestamp",  NULL};
    static const char *const required[] = {"price", "invoice", NULL};
    json_t *body, *msg = vc_write(api, req, resp, keys, required, "pending_migrate", &body);

    if (msg != NULL && resolve_target(api, msg, body, resp))
        forward(api, req, resp, req->params[0], msg);
    else
        json_decref(msg);
    json_decref(body);
}

const char *ct_api__write_dc(ct_api *api, api_handler h, const api_req *req)
{
    static const api_handler writes[] = {
        ct_api__h_dc_register,        ct_api__h_vc_register,       ct_api__h_vc_register_batch,
        ct_api__h_vc_availability,    ct_api__h_vc_retire,         ct_api__h_vc_migrate_confirm,
        ct_api__h_vc_migrate_pending, ct_api__h_dc_attributes_set,
    };

    /* A write may only act for its token's DC (authorised), so that is
     * the only agent it can wait for. */
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
        if (h == writes[i])
            return ct_api__auth_dc(api, req);
    return NULL;
}
