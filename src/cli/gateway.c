/* The CLI's view of a federation's gateway for commands that are not
 * `catena dc|vc` (migrate, usage): its URL and the DCs' tokens from
 * federation.json, JSON exchanges, and the VC of an instance. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/util.h"

int cli_gw_open(cli_gw *g, const char *file, const char *api)
{
    const char *env_api = getenv("CATENA_API");
    char *text = NULL;
    size_t len = 0;

    memset(g, 0, sizeof(*g));
    if (file != NULL || (api == NULL && env_api == NULL)) {
        file = file ? file : "catena-up/federation.json";
        if (ct_file_read(&text, &len, file, 1 << 20) < 0 ||
            ct_json_parse(&g->doc, text, len, 16) < 0) {
            free(text);
            return ct_error_set(CT_EINVAL, "%s: %s (give --federation FILE or --api URL)", file,
                                ct_error_last());
        }
        free(text);
    }
    api = api ? api : env_api ? env_api : json_string_value(json_object_get(g->doc, "api_url"));
    if (api == NULL)
        return ct_error_set(CT_EINVAL, "%s: no api_url (give --api)", file);
    snprintf(g->api, sizeof(g->api), "%s", api);
    return 0;
}

void cli_gw_close(cli_gw *g)
{
    json_decref(g->doc);
    g->doc = NULL;
}

const char *cli_gw_token(const cli_gw *g, const char *dc)
{
    size_t i;
    json_t *d;

    json_array_foreach (json_object_get(g->doc, "datacenters"), i, d) {
        if (json_is_string(json_object_get(d, "name")) &&
            strcmp(json_string_value(json_object_get(d, "name")), dc) == 0)
            return json_string_value(json_object_get(d, "token"));
    }
    return NULL;
}

long cli_gw_call(json_t **out, const cli_gw *g, const char *method, const char *path,
                 const char *token, const char *key, const json_t *body)
{
    char url[1024], *text = NULL;
    long status = 0;
    int rc;

    *out = NULL;
    snprintf(url, sizeof(url), "%s%s", g->api, path);
    if (body != NULL && ct_json_dump(&text, body) < 0)
        return CT_ENOMEM;
    rc = ct_http_request_idem(&status, out, method, url, token, key, text, 60000);
    free(text);
    return rc < 0 ? rc : status;
}

int cli_gw_fail(long st, const json_t *answer, const char *what)
{
    const char *msg = json_string_value(json_object_get(answer, "error"));

    if (st < 0)
        return (int)st;
    return ct_error_set(st == 404   ? CT_ENOTFOUND
                        : st == 400 ? CT_EINVAL
                                    : CT_EIO,
                        "%s: HTTP %ld: %s", what, st, msg ? msg : "(no message)");
}

int cli_gw_vc_of(json_t **vc, const cli_gw *g, const char *instance)
{
    json_t *vcs = NULL;
    char path[512];
    long st;
    int rc = 0;

    *vc = NULL;
    /* Instance ids are UUIDs or container ids: nothing to escape. */
    if (instance[0] == '\0' || strlen(instance) > 200 ||
        instance[strspn(instance, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  "._-")] != '\0')
        return ct_error_set(CT_EINVAL, "instance id '%s' is not a UUID", instance);
    snprintf(path, sizeof(path), "/container/?id=%s", instance);
    if ((st = cli_gw_call(&vcs, g, "GET", path, NULL, NULL, NULL)) != 200)
        rc = cli_gw_fail(st, vcs, "the VC of the instance");
    else if ((*vc = json_incref(json_array_get(vcs, 0))) == NULL)
        rc = ct_error_set(CT_ENOTFOUND, "instance %s is not a VC", instance);
    json_decref(vcs);
    return rc;
}

json_t *cli_json_num(const char *s)
{
    uint64_t v;
    return s != NULL && ct_parse_uint(&v, s, INT64_MAX) == 0 ? json_integer((json_int_t)v)
                                                             : json_string(s ? s : "");
}
