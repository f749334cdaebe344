/* Helpers of the tests on the two real OpenStack clouds (clouds.h). */
#include "clouds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

const char *ctt_clouds_dir(void)
{
    const char *dir = getenv("CATENA_CLOUDS_DIR");

    if (dir == NULL || access(ctt_path("%s/clouds.yaml", dir), R_OK) != 0) {
        fprintf(stderr, "the clouds are not up (CATENA_CLOUDS_DIR=%s)\n", dir ? dir : "");
        return NULL;
    }
    return dir;
}

/* clouds.env holds KEY=VALUE lines, VALUE quoted as bash's %q does
 * (special characters escaped with '\'). */
const char *ctt_clouds_env(const char *key)
{
    char *text = NULL, *line, *save = NULL, value[512];
    size_t len = 0, klen = strlen(key);
    const char *found = NULL;

    assert_int_equal(
        ct_file_read(&text, &len, ctt_path("%s/clouds.env", getenv("CATENA_CLOUDS_DIR")), 1 << 20),
        0);
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, key, klen) != 0 || line[klen] != '=')
            continue;
        size_t o = 0;
        for (const char *p = line + klen + 1; *p != '\0' && o + 1 < sizeof(value); p++) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            value[o++] = *p;
        }
        value[o] = '\0';
        found = ctt_path("%s", value);
    }
    free(text);
    if (found == NULL)
        fail_msg("clouds.env has no %s", key);
    return found;
}

ct_cloud *ctt_cloud_connect(const char *name)
{
    ct_cloud_auth a;
    ct_cloud *c = NULL;

    assert_int_equal(
        ct_cloud_auth_load(&a, ctt_path("%s/clouds.yaml", getenv("CATENA_CLOUDS_DIR")), name), 0);
    if (ct_cloud_connect(&c, &a, 30000) < 0)
        fail_msg("cloud %s: %s", name, ct_error_last());
    ct_cloud_auth_free(&a);
    return c;
}

json_t *ctt_cloud_call(ct_cloud *c, ct_cloud_service s, const char *method, const char *path,
                       const char *body, long want)
{
    json_t *b = NULL, *reply = NULL;
    long st;

    if (body != NULL)
        assert_int_equal(ct_json_parse(&b, body, strlen(body), 32), 0);
    st = ct_cloud_call(&reply, c, s, method, path, b, NULL);
    json_decref(b);
    if (st != want)
        fail_msg("%s %s: HTTP %ld (want %ld): %s", method, path, st, want,
                 reply ? json_dumps(reply, 0) : ct_error_last());
    return reply;
}

const char *ctt_cloud_flavor(ct_cloud *c, const char *name)
{
    json_t *r = ctt_cloud_call(c, CT_CLOUD_COMPUTE, "GET", "flavors", NULL, 200), *f;
    const char *id = NULL;
    size_t i;

    json_array_foreach (json_object_get(r, "flavors"), i, f) {
        if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
            id = ctt_path("%s", json_string_value(json_object_get(f, "id")));
    }
    json_decref(r);
    if (id == NULL)
        fail_msg("no flavor %s", name);
    return id;
}

void ctt_cloud_wait_server(ct_cloud *c, const char *id, const char *want)
{
    for (int i = 0; i < 600; i++) {
        json_t *r =
            ctt_cloud_call(c, CT_CLOUD_COMPUTE, "GET", ctt_path("servers/%s", id), NULL, 200);
        const char *st = json_string_value(json_object_get(json_object_get(r, "server"), "status"));
        bool done = st != NULL && strcmp(st, want) == 0;
        if (st != NULL && strcmp(st, "ERROR") == 0)
            fail_msg("server %s: ERROR", id);
        json_decref(r);
        if (done)
            return;
        usleep(200000);
    }
    fail_msg("server %s never %s", id, want);
}

void ctt_cloud_delete_servers(ct_cloud *c, const char *name_regex)
{
    json_t *r = NULL, *srv;
    size_t i;

    ct_cloud_call(&r, c, CT_CLOUD_COMPUTE, "GET", ctt_path("servers?name=%s", name_regex), NULL,
                  NULL);
    json_array_foreach (json_object_get(r, "servers"), i, srv) {
        const char *id = json_string_value(json_object_get(srv, "id"));
        json_t *d = NULL;
        ct_cloud_call(&d, c, CT_CLOUD_COMPUTE, "DELETE", ctt_path("servers/%s", id), NULL, NULL);
        json_decref(d);
        ct_cloud_wait_gone(c, CT_CLOUD_COMPUTE, ctt_path("servers/%s", id), 60);
    }
    json_decref(r);
}
