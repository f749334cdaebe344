/* Where a cloud's credentials come from: an entry of clouds.yaml (the
 * OpenStack client format), or a spec's login block on top of one. */
#include "cloud_int.h"

#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

/* Most bytes of a clouds.yaml read. */
#define CLOUDS_YAML_MAX (1u << 20)

/* clouds.yaml as JSON, through libfyaml's JSON emitter. */
static int yaml_json(json_t **out, const char *path)
{
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2};
    struct fy_document *doc;
    char *text = NULL, *json = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if ((rc = ct_file_read(&text, &len, path, CLOUDS_YAML_MAX)) < 0)
        return rc == CT_EIO ? ct_error_set(CT_ENOTFOUND, "%s: cannot read it", path) : rc;
    doc = fy_document_build_from_string(&cfg, text, len);
    if (doc == NULL || fy_document_root(doc) == NULL) {
        rc = ct_error_set(CT_EPARSE, "%s: not a YAML document", path);
        goto done;
    }
    if ((json = fy_emit_document_to_string(doc, FYECF_MODE_JSON_ONELINE)) == NULL ||
        ct_json_parse(out, json, strlen(json), 32) < 0)
        rc = ct_error_set(CT_EPARSE, "%s: not a mapping of clouds", path);
done:
    free(json);
    fy_document_destroy(doc);
    free(text);
    return rc;
}

static int take(char **dst, const json_t *o, const char *key)
{
    const char *v = ct_cloud__str(o, key);

    free(*dst);
    *dst = NULL;
    if (v != NULL && (*dst = strdup(v)) == NULL)
        return ct_error_set(CT_ENOMEM, "cloud: out of memory");
    return 0;
}

int ct_cloud_auth_load(ct_cloud_auth *out, const char *path, const char *name)
{
    json_t *root = NULL, *entry, *auth;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = yaml_json(&root, path)) < 0)
        return rc;
    entry = json_object_get(json_object_get(root, "clouds"), name);
    auth = json_object_get(entry, "auth");
    if (!json_is_object(auth)) {
        rc = ct_error_set(CT_ENOTFOUND, "%s: no cloud '%s' with an auth block", path, name);
        goto done;
    }
    if ((out->name = strdup(name)) == NULL)
        rc = ct_error_set(CT_ENOMEM, "cloud: out of memory");
    if (rc < 0 || (rc = take(&out->auth_url, auth, "auth_url")) < 0 ||
        (rc = take(&out->username, auth, "username")) < 0 ||
        (rc = take(&out->password, auth, "password")) < 0 ||
        (rc = take(&out->project_name, auth, "project_name")) < 0 ||
        (rc = take(&out->user_domain, auth, "user_domain_name")) < 0 ||
        (rc = take(&out->project_domain, auth, "project_domain_name")) < 0 ||
        (rc = take(&out->region, entry, "region_name")) < 0 ||
        (rc = take(&out->interface, entry, "interface")) < 0)
        goto done;
    if (out->auth_url == NULL || out->username == NULL || out->password == NULL ||
        out->project_name == NULL)
        rc = ct_error_set(CT_EPARSE,
                          "%s: cloud '%s' needs auth_url, username, password and project_name",
                          path, name);
done:
    json_decref(root);
    if (rc < 0)
        ct_cloud_auth_free(out);
    return rc;
}

static int set(char **dst, const char *v)
{
    if (v == NULL)
        return 0;
    if (*dst != NULL)
        explicit_bzero(*dst, strlen(*dst));
    free(*dst);
    if ((*dst = strdup(v)) == NULL)
        return ct_error_set(CT_ENOMEM, "cloud: out of memory");
    return 0;
}

int ct_cloud_auth_from_login(ct_cloud_auth *out, const ct_cloud_login *l, const char *path)
{
    bool url = strncmp(l->cloud, "http://", 7) == 0 || strncmp(l->cloud, "https://", 8) == 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (!url) {
        if (path == NULL)
            return ct_error_set(CT_ENOTFOUND, "cloud '%s': no clouds.yaml given", l->cloud);
        if ((rc = ct_cloud_auth_load(out, path, l->cloud)) < 0)
            return rc;
    } else if ((rc = set(&out->name, l->cloud)) < 0 || (rc = set(&out->auth_url, l->cloud)) < 0) {
        goto done;
    }
    if ((rc = set(&out->project_name, l->tenant)) < 0 ||
        (rc = set(&out->username, l->username)) < 0 || (rc = set(&out->password, l->password)) < 0)
        goto done;
    if (out->username == NULL || out->password == NULL || out->project_name == NULL)
        rc = ct_error_set(CT_EPARSE, "cloud '%s': tenant, username and password are required",
                          l->cloud);
done:
    if (rc < 0)
        ct_cloud_auth_free(out);
    return rc;
}

void ct_cloud_auth_free(ct_cloud_auth *a)
{
    if (a->password != NULL)
        explicit_bzero(a->password, strlen(a->password));
    free(a->name);
    free(a->auth_url);
    free(a->username);
    free(a->password);
    free(a->project_name);
    free(a->user_domain);
    free(a->project_domain);
    free(a->region);
    free(a->interface);
    memset(a, 0, sizeof(*a));
}
