/* Fuzz target for the S2D migration spec (ct_cloud_spec_parse): any bytes
 * either fail with an error or give a spec whose every field is set and
 * whose JSON form has no password. */
#include <stdlib.h>
#include <string.h>

#include "catena/cloud.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_cloud_spec *s = NULL;
    char *findings = NULL, *text;
    json_t *j;

    if (ct_cloud_spec_parse(&s, &findings, (const char *)data, size, "fuzz.xml") < 0) {
        if (s != NULL)
            abort();
        free(findings);
        return 0;
    }
    if (findings != NULL || s->a.cloud == NULL || s->b.cloud == NULL || s->instance == NULL ||
        s->snapshot_name == NULL || s->image_name == NULL || s->image_format == NULL ||
        s->keypair_name == NULL || s->server_name == NULL || s->security_group == NULL ||
        s->ip == NULL)
        abort();
    if ((j = ct_cloud_spec_json(s)) == NULL || (text = json_dumps(j, 0)) == NULL)
        abort();
    if (json_object_get(json_object_get(j, "cloud_a"), "password") != NULL ||
        json_object_get(json_object_get(j, "cloud_b"), "password") != NULL ||
        strstr(text, "\"password\"") != NULL)
        abort();
    free(text);
    json_decref(j);
    ct_cloud_spec_free(s);
    return 0;
}
