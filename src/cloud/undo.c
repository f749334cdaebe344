/* Undoing a migration (`catena migrate reset`): removes, newest first,
 * what its recorded data says the run created, forgetting each thing once
 * it is gone so a reset that stops half way can be run again. */
#include "cloud_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sends a DELETE (or a PUT detaching a floating IP); gone already counts
 * as done. */
static int remove_one(ct_cloud *c, ct_cloud_service s, const char *method, const json_t *body,
                      const char *path, const char *what)
{
    json_t *reply = NULL;
    long st = ct_cloud_call(&reply, c, s, method, path, body, NULL);
    int rc = 0;

    if (st != 200 && st != 202 && st != 204 && st != 404)
        rc = ct_cloud__http_error(st, reply, "%s", what);
    json_decref(reply);
    return rc;
}

/* The logins a reset needs, made once. */
static int need(ct_cloud__run *r)
{
    int rc;

    if (r->a != NULL && r->b != NULL)
        return 0;
    if (r->spec == NULL) {
        if (r->rec.spec == NULL)
            return ct_error_set(CT_ESTATE, "migration '%s' has no spec to log in with", r->rec.id);
        if ((rc = ct_cloud_spec_parse(&r->spec, NULL, r->rec.spec, strlen(r->rec.spec),
                                      r->rec.name)) < 0)
            return rc;
    }
    return ct_cloud__connect(r);
}

static int forget(ct_cloud__run *r, const char *key)
{
    json_object_del(r->rec.data, key);
    return ct_cloud__rec_save(r->m, &r->rec, NULL, false);
}

static int undo_server(ct_cloud__run *r)
{
    const char *id = ct_cloud__str(ct_cloud__data(r, "server"), "id");
    char path[256];
    int rc;

    snprintf(path, sizeof(path), "servers/%s", id);
    if ((rc = remove_one(r->b, CT_CLOUD_COMPUTE, "DELETE", NULL, path,
                         "cloud B: delete instance")) < 0 ||
        (rc = ct_cloud_wait_gone(r->b, CT_CLOUD_COMPUTE, path, r->m->wait_s)) < 0)
        return rc;
    ct_cloud__report(r, 7, "undone", "instance %s deleted", id);
    return forget(r, "server");
}

static int undo_floating_ip(ct_cloud__run *r)
{
    json_t *fip = ct_cloud__data(r, "floating_ip");
    json_t *detach = json_pack("{s:{s:n}}", "floatingip", "port_id");
    bool allocated = json_is_true(json_object_get(fip, "allocated"));
    char path[256];
    int rc;

    snprintf(path, sizeof(path), "v2.0/floatingips/%s", ct_cloud__str(fip, "id"));
    rc = remove_one(r->b, CT_CLOUD_NETWORK, allocated ? "DELETE" : "PUT", allocated ? NULL : detach,
                    path, "cloud B: floating IP");
    json_decref(detach);
    if (rc < 0)
        return rc;
    ct_cloud__report(r, 8, "undone", "floating IP %s %s", ct_cloud__str(fip, "address"),
                     allocated ? "released" : "detached");
    return forget(r, "floating_ip");
}

static int undo_group(ct_cloud__run *r)
{
    json_t *g = ct_cloud__data(r, "security_group"), *rule;
    char path[256];
    size_t i;
    int rc;

    if (json_is_true(json_object_get(g, "created"))) {
        snprintf(path, sizeof(path), "v2.0/security-groups/%s", ct_cloud__str(g, "id"));
        if ((rc = remove_one(r->b, CT_CLOUD_NETWORK, "DELETE", NULL, path,
                             "cloud B: delete security group")) < 0)
            return rc;
    } else {
        json_array_foreach (json_object_get(g, "rules_added"), i, rule) {
            snprintf(path, sizeof(path), "v2.0/security-group-rules/%s", json_string_value(rule));
            if ((rc = remove_one(r->b, CT_CLOUD_NETWORK, "DELETE", NULL, path,
                                 "cloud B: delete a rule")) < 0)
                return rc;
        }
    }
    ct_cloud__report(r, 7, "undone", "security group '%s' %s", ct_cloud__str(g, "name"),
                     json_is_true(json_object_get(g, "created")) ? "deleted" : "rules removed");
    return forget(r, "security_group");
}

static int undo_keypair(ct_cloud__run *r)
{
    json_t *k = ct_cloud__data(r, "keypair");
    char path[512], *q;
    int rc;

    if (json_is_true(json_object_get(k, "imported"))) {
        if ((q = ct_cloud__escape(ct_cloud__str(k, "name"))) == NULL)
            return ct_error_set(CT_ENOMEM, "out of memory");
        snprintf(path, sizeof(path), "os-keypairs/%s", q);
        free(q);
        if ((rc = remove_one(r->b, CT_CLOUD_COMPUTE, "DELETE", NULL, path,
                             "cloud B: delete keypair")) < 0)
            return rc;
        ct_cloud__report(r, 6, "undone", "keypair '%s' deleted", ct_cloud__str(k, "name"));
    }
    return forget(r, "keypair");
}

static int undo_image(ct_cloud__run *r, ct_cloud *c, const char *key, int step)
{
    const char *id = ct_cloud__str(ct_cloud__data(r, key), "id");
    char path[256];
    int rc;

    snprintf(path, sizeof(path), "v2/images/%s", id);
    if ((rc = remove_one(c, CT_CLOUD_IMAGE, "DELETE", NULL, path, "delete image")) < 0)
        return ct_error_set(rc, "cloud %c: %s", c == r->a ? 'A' : 'B', ct_error_last());
    ct_cloud__report(r, step, "undone", "image %s deleted", id);
    return forget(r, key);
}

int ct_cloud__undo(ct_cloud__run *r)
{
    static const char *const created[] = {"server",  "floating_ip", "security_group",
                                          "keypair", "image",       "snapshot"};
    char first_error[1024] = "";
    int first = 0, rc;

    for (size_t i = 0; i < sizeof(created) / sizeof(created[0]); i++) {
        if (ct_cloud__data(r, created[i]) == NULL)
            continue;
        if ((rc = need(r)) < 0)
            return rc;
        if (strcmp(created[i], "server") == 0)
            rc = undo_server(r);
        else if (strcmp(created[i], "floating_ip") == 0)
            rc = undo_floating_ip(r);
        else if (strcmp(created[i], "security_group") == 0)
            rc = undo_group(r);
        else if (strcmp(created[i], "keypair") == 0)
            rc = undo_keypair(r);
        else if (strcmp(created[i], "image") == 0)
            rc = undo_image(r, r->b, "image", 5);
        else
            rc = undo_image(r, r->a, "snapshot", 2);
        if (rc < 0 && first == 0) {
            first = rc;
            snprintf(first_error, sizeof(first_error), "%s", ct_error_last());
        }
    }
    if (first < 0)
        return ct_error_set(first, "%s (run reset again)", first_error);
    /* Nothing of the run is left: it starts from step 1 if run again. */
    r->rec.step = 0;
    return 0;
}
