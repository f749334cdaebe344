/* The CLI's view of a federation's gateway for commands that are not
 * `catena dc|vc` (migrate, usage): its URL and the DCs' tokens from
 * federation.json, JSON exchanges, and the VC of an instance. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/cloud.h"
#include "catena/util.h"

int cli_gw_open(cli_gw *g, const char *file, const char *api)
{
    const char *env_api = getenv("CATENA_API");
    char *text = NULL;
    size_t len = 0;

    memset(g, 0, sizeof(*g));
    if (file != NULL || (api == NULL && env_api == NULL)) {
        file = file ? file : "catena-up/federation.json";
        if (ct_file_read(&text, &len, file, 1 << 20) < 0)
            return ct_error_set(CT_EINVAL, "%s (give --federation FILE or --api URL)",
                                ct_error_last());
        if (ct_json_parse(&g->doc, text, len, 16) < 0) {
            free(text);
            return ct_error_set(CT_EINVAL, "%s: %s", file, ct_error_last());
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
