/* Request checks that several groups of handlers share: the bearer token
 * (required, or for reads when the operator asks), a JSON body with known
 * keys and required fields, and unsigned query arguments. Each sets the
 * error answer itself, so a handler only returns when one fails. */
#include "api_int.h"

const char *ct_api__need_token(ct_api *api, const api_req *req, api_resp *resp)
{
    const char *dc = ct_api__auth_dc(api, req);

    if (dc == NULL)
        ct_api__error(resp, 401, "a valid 'Authorization: Bearer <token>' header is required");
    return dc;
}

bool ct_api__may_read(ct_api *api, const api_req *req, api_resp *resp)
{
    return !api->cfg.reads_need_token || ct_api__need_token(api, req, resp) != NULL;
}

json_t *ct_api__body_parse(const api_req *req, api_resp *resp, const char *const *allowed)
{
    json_t *body;

    if (ct_json_parse(&body, req->body, req->body_len, API_BODY_DEPTH) < 0) {
        ct_api__error(resp, 400, "body: %s", ct_error_last());
        return NULL;
    }
    if (ct_json_check_keys(body, allowed) < 0) {
        ct_api__error(resp, 400, "body: %s", ct_error_last());
        json_decref(body);
        return NULL;
    }
    return body;
}

bool ct_api__body_require(const json_t *body, const char *const *fields, api_resp *resp)
{
    for (size_t i = 0; fields[i] != NULL; i++)
        if (json_object_get(body, fields[i]) == NULL) {
            ct_api__error(resp, 400, "field '%s' is required", fields[i]);
            return false;
        }
    return true;
}

bool ct_api__query_uint(uint64_t *out, const api_req *req, const char *name, uint64_t min,
                        uint64_t max, api_resp *resp)
{
    const char *v = ct_api__query(req, name);

    if (v == NULL || *v == '\0')
        return true;
    if (ct_parse_uint(out, v, max) < 0) {
        ct_api__error(resp, 400, "query '%s': %s", name, ct_error_last());
        return false;
    }
    if (*out < min) {
        ct_api__error(resp, 400, "query '%s': at least %llu", name, (unsigned long long)min);
        return false;
    }
    return true;
}
