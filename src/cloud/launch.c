/* Steps 6 to 9 of a migration, in cloud B: the keypair, the instance
 * launched from the uploaded image with the source's flavor and
 * security-group rules, its floating IP, and the overview read back. */
#include "cloud_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *target(ct_cloud__run *r, const char *key)
{
    return json_object_get(ct_cloud__data(r, "target"), key);
}

/* ---------------------------------------------------------------- step 6 */

/* Imports the key into B. The import is recorded before it is sent, so
 * a resumed run knows the key in B is its own (and a reset removes it). */
int ct_cloud__step_keypair(ct_cloud__run *r)
{
    json_t *how = target(r, "keypair"), *done = ct_cloud__data(r, "keypair"), *body, *reply = NULL;
    long st;
    int rc;

    if (done == NULL && !ct_cloud__str_eq(json_object_get(how, "mode"), "import"))
        return ct_cloud__record(
            r, "keypair", json_pack("{s:s,s:b}", "name", r->spec->keypair_name, "imported", 0));
    if (done == NULL &&
        (rc = ct_cloud__record(r, "keypair",
                               json_pack("{s:s,s:b,s:s}", "name", r->spec->keypair_name, "imported",
                                         1, "public_key", ct_cloud__str(how, "public_key")))) < 0)
        return rc;
    done = ct_cloud__data(r, "keypair");
    if (!json_is_true(json_object_get(done, "imported")))
        return 0;
    body = json_pack("{s:{s:s,s:s}}", "keypair", "name", r->spec->keypair_name, "public_key",
                     ct_cloud__str(done, "public_key"));
    st = ct_cloud__req(&reply, r->b, CT_CLOUD_COMPUTE, "POST", body, "os-keypairs");
    json_decref(body);
    json_decref(reply);
    /* 409: there already, from a send whose answer was lost (the checks
     * refused any other key of that name). */
    if (st != 200 && st != 201 && st != 409)
        return ct_cloud__http_error(st, NULL, "cloud B: import keypair '%s'",
                                    r->spec->keypair_name);
    ct_cloud__report(r, 6, "info", "imported keypair '%s'", r->spec->keypair_name);
    return 0;
}

/* ---------------------------------------------------------------- step 7 */

/* The security group the instance gets: B's group of the spec's name
 * (created when missing), recorded with whether we created it. */
static int group_get(ct_cloud__run *r, json_t **group)
{
    const char *name = r->spec->security_group[0] ? r->spec->security_group : "default";
    json_t *reply = NULL, *body, *g;
    char *q;
    long st;
    int rc;

    if ((*group = ct_cloud__data(r, "security_group")) != NULL)
        return 0;
    if ((q = ct_cloud__escape(name)) == NULL)
        return ct_error_set(CT_ENOMEM, "out of memory");
    g = ct_cloud__list(&reply, r->b, CT_CLOUD_NETWORK, "security_groups",
                       "v2.0/security-groups?name=%s&project_id=%s", q, ct_cloud_project_id(r->b));
    free(q);
    if (reply == NULL)
        return ct_error_set(ct_error_code(), "cloud B: %s", ct_error_last());
    g = json_array_get(g, 0);
    if (g != NULL) {
        /* Ours when it carries this run's marker (its answer was lost). */
        bool ours = ct_cloud__str_eq(json_object_get(g, "description"), r->marker);
        rc = ct_cloud__record(r, "security_group",
                              json_pack("{s:s?,s:s,s:b,s:[]}", "id", ct_cloud__str(g, "id"), "name",
                                        name, "created", ours, "rules_added"));
        json_decref(reply);
        *group = ct_cloud__data(r, "security_group");
        return rc;
    }
    json_decref(reply);
    reply = NULL;
    body = json_pack("{s:{s:s,s:s}}", "security_group", "name", name, "description", r->marker);
    st = ct_cloud__req(&reply, r->b, CT_CLOUD_NETWORK, "POST", body, "v2.0/security-groups");
    json_decref(body);
    g = json_object_get(reply, "security_group");
    if (st != 201 || ct_cloud__str(g, "id") == NULL) {
        rc = ct_cloud__http_error(st, reply, "cloud B: create security group '%s'", name);
        json_decref(reply);
        return rc;
    }
    rc = ct_cloud__record(r, "security_group",
                          json_pack("{s:s,s:s,s:b,s:[]}", "id", ct_cloud__str(g, "id"), "name",
                                    name, "created", 1, "rules_added"));
    json_decref(reply);
    *group = ct_cloud__data(r, "security_group");
    return rc;
}

/* Whether B's rule r2 does what the source rule wants (same direction,
 * ethertype, protocol, ports, remote prefix, and "self" remote group). */
static bool rule_same(const json_t *want, const json_t *have, const char *group)
{
    static const char *const keys[] = {"direction",      "ethertype",      "protocol",
                                       "port_range_min", "port_range_max", "remote_ip_prefix"};
    const char *rg = ct_cloud__str(have, "remote_group_id");

    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        json_t *a = json_object_get(want, keys[k]), *b = json_object_get(have, keys[k]);
        if ((a == NULL || json_is_null(a)) != (b == NULL || json_is_null(b)))
            return false;
        if (a != NULL && !json_is_null(a) && !json_equal(a, b))
            return false;
    }
    if (json_is_true(json_object_get(want, "remote_group")))
        return rg != NULL && strcmp(rg, group) == 0;
    return rg == NULL;
}

/* Whether array a holds a value equal to v. */
static bool json_in(const json_t *a, const json_t *v)
{
    size_t i;
    json_t *x;

    json_array_foreach (a, i, x) {
        if (json_equal(x, v))
            return true;
    }
    return false;
}

/* Adds each source rule that B's group lacks, recording each new rule. A
 * rule allowing another group of A is skipped: that group is not in B. */
static int rules_copy(ct_cloud__run *r, json_t *group)
{
    const char *gid = ct_cloud__str(group, "id");
    json_t *src = json_object_get(ct_cloud__data(r, "source"), "rules");
    json_t *reply = NULL, *have, *want, *h;
    size_t i, j, added = 0, skipped = 0;
    long st;
    int rc = 0;

    have = ct_cloud__list(&reply, r->b, CT_CLOUD_NETWORK, "security_group_rules",
                          "v2.0/security-group-rules?security_group_id=%s", gid);
    if (have == NULL)
        return ct_error_set(ct_error_code(), "cloud B: %s", ct_error_last());
    json_array_foreach (src, i, want) {
        json_t *body, *made = NULL;
        bool present = false;
        if (json_is_false(json_object_get(want, "remote_group"))) {
            skipped++;
            continue;
        }
        json_array_foreach (have, j, h) {
            if (!present && rule_same(want, h, gid)) {
                present = true;
                /* Added by this run, its answer lost: still ours to remove. */
                if (ct_cloud__str_eq(json_object_get(h, "description"), r->marker) &&
                    !json_in(json_object_get(group, "rules_added"), json_object_get(h, "id")))
                    json_array_append(json_object_get(group, "rules_added"),
                                      json_object_get(h, "id"));
            }
        }
        if (present)
            continue;
        body = json_deep_copy(want);
        json_object_del(body, "remote_group");
        json_object_set_new(body, "description", json_string(r->marker));
        json_object_set_new(body, "security_group_id", json_string(gid));
        if (json_is_true(json_object_get(want, "remote_group")))
            json_object_set_new(body, "remote_group_id", json_string(gid));
        made = json_pack("{s:o}", "security_group_rule", body);
        body = NULL;
        st =
            ct_cloud__req(&body, r->b, CT_CLOUD_NETWORK, "POST", made, "v2.0/security-group-rules");
        json_decref(made);
        made = json_object_get(body, "security_group_rule");
        if (st != 201 || ct_cloud__str(made, "id") == NULL) {
            rc = ct_cloud__http_error(st, body, "cloud B: add a rule to %s", gid);
            json_decref(body);
            goto done;
        }
        json_array_append_new(json_object_get(group, "rules_added"),
                              json_string(ct_cloud__str(made, "id")));
        json_decref(body);
        added++;
        if ((rc = ct_cloud__rec_save(r->m, &r->rec, NULL, false)) < 0)
            goto done;
    }
    ct_cloud__report(r, 7, "info", "security group '%s': %zu rules added%s",
                     ct_cloud__str(group, "name"), added,
                     skipped ? " (rules naming other groups of A skipped)" : "");
done:
    json_decref(reply);
    return rc;
}

/* A server this run asked for whose answer was lost carries its marker. */
static int server_adopt(ct_cloud__run *r, const char **id)
{
    json_t *reply = NULL, *srv, *list;
    size_t i;
    int rc = 0;

    if ((list = ct_cloud__list(&reply, r->b, CT_CLOUD_COMPUTE, "servers", "servers/detail")) ==
        NULL)
        return ct_error_set(ct_error_code(), "cloud B: %s", ct_error_last());
    json_array_foreach (list, i, srv) {
        if (!ct_cloud__str_eq(json_object_get(json_object_get(srv, "metadata"), "catena_migration"),
                              r->marker))
            continue;
        if ((rc = ct_cloud__record(r, "server",
                                   json_pack("{s:s?}", "id", ct_cloud__str(srv, "id")))) == 0)
            *id = ct_cloud__str(ct_cloud__data(r, "server"), "id");
        break;
    }
    json_decref(reply);
    return rc;
}

static int server_create(ct_cloud__run *r, const char **id)
{
    json_t *body, *reply = NULL;
    long st;
    int rc;

    if ((rc = server_adopt(r, id)) < 0 || *id != NULL)
        return rc;
    body = json_pack(
        "{s:{s:s,s:s,s:s,s:s,s:[{s:s}],s:[{s:s}],s:{s:s}}}", "server", "name", r->spec->server_name,
        "imageRef", ct_cloud__str(ct_cloud__data(r, "image"), "id"), "flavorRef",
        ct_cloud__str(target(r, "flavor"), "id"), "key_name", r->spec->keypair_name, "networks",
        "uuid", ct_cloud__str(target(r, "network"), "id"), "security_groups", "name",
        ct_cloud__str(ct_cloud__data(r, "security_group"), "name"), "metadata", "catena_migration",
        r->marker);
    st = ct_cloud__req(&reply, r->b, CT_CLOUD_COMPUTE, "POST", body, "servers");
    json_decref(body);
    *id = ct_cloud__str(json_object_get(reply, "server"), "id");
    if (st != 202 || *id == NULL) {
        rc = ct_cloud__http_error(st, reply, "cloud B: launch '%s'", r->spec->server_name);
        json_decref(reply);
        return rc;
    }
    rc = ct_cloud__record(r, "server", json_pack("{s:s}", "id", *id));
    json_decref(reply);
    *id = ct_cloud__str(ct_cloud__data(r, "server"), "id");
    return rc;
}

int ct_cloud__step_launch(ct_cloud__run *r)
{
    const char *id = ct_cloud__str(ct_cloud__data(r, "server"), "id");
    json_t *group = NULL, *srv = NULL, *ports = NULL;
    char path[256];
    long st;
    int rc;

    if ((rc = group_get(r, &group)) < 0 || (rc = rules_copy(r, group)) < 0)
        return rc;
    if (id == NULL && (rc = server_create(r, &id)) < 0)
        return rc;
    snprintf(path, sizeof(path), "servers/%s", id);
    if ((rc = ct_cloud__wait(&srv, r->b, CT_CLOUD_COMPUTE, path, "server", "ACTIVE", "ERROR",
                             r->m->wait_s)) < 0)
        return ct_error_set(rc, "cloud B: instance: %s", ct_error_last());
    json_decref(srv);
    st = ct_cloud__req(&ports, r->b, CT_CLOUD_NETWORK, "GET", NULL, "v2.0/ports?device_id=%s", id);
    if (st != 200 || json_array_size(json_object_get(ports, "ports")) == 0) {
        rc = st == 200 ? ct_error_set(CT_EIO, "cloud B: instance %s has no port", id)
                       : ct_cloud__http_error(st, ports, "cloud B: ports of %s", id);
        json_decref(ports);
        return rc;
    }
    rc = ct_cloud__record(
        r, "server",
        json_pack("{s:s,s:s,s:s?}", "id", id, "name", r->spec->server_name, "port",
                  ct_cloud__str(json_array_get(json_object_get(ports, "ports"), 0), "id")));
    json_decref(ports);
    return rc;
}

/* ---------------------------------------------------------------- step 8 */

int ct_cloud__step_floating_ip(ct_cloud__run *r)
{
    const char *port = ct_cloud__str(ct_cloud__data(r, "server"), "port");
    json_t *have = ct_cloud__data(r, "floating_ip");
    json_t *body, *reply = NULL, *fip;
    bool allocate = strcmp(r->spec->ip, "new") == 0;
    long st;
    int rc;

    if (allocate && ct_cloud__str(have, "id") == NULL) {
        /* One allocated by this run whose answer was lost carries its
         * marker: it is taken, not allocated again. */
        st = ct_cloud__req(&reply, r->b, CT_CLOUD_NETWORK, "GET", NULL,
                           "v2.0/floatingips?description=%s", r->marker);
        fip = json_array_get(json_object_get(reply, "floatingips"), 0);
        if (st == 200 && fip != NULL &&
            (rc = ct_cloud__record(r, "floating_ip",
                                   json_pack("{s:s,s:s,s:b}", "id", ct_cloud__str(fip, "id"),
                                             "address", ct_cloud__str(fip, "floating_ip_address"),
                                             "allocated", 1))) < 0) {
            json_decref(reply);
            return rc;
        }
        json_decref(reply);
        reply = NULL;
        have = ct_cloud__data(r, "floating_ip");
    }
    if (allocate && ct_cloud__str(have, "id") == NULL) {
        body = json_pack("{s:{s:s,s:s,s:s}}", "floatingip", "floating_network_id",
                         ct_cloud__str(target(r, "external_network"), "id"), "port_id", port,
                         "description", r->marker);
        st = ct_cloud__req(&reply, r->b, CT_CLOUD_NETWORK, "POST", body, "v2.0/floatingips");
    } else {
        const char *id =
            allocate ? ct_cloud__str(have, "id") : ct_cloud__str(target(r, "floating_ip"), "id");
        body = json_pack("{s:{s:s}}", "floatingip", "port_id", port);
        st = ct_cloud__req(&reply, r->b, CT_CLOUD_NETWORK, "PUT", body, "v2.0/floatingips/%s", id);
    }
    json_decref(body);
    fip = json_object_get(reply, "floatingip");
    if ((st != 200 && st != 201) || ct_cloud__str(fip, "floating_ip_address") == NULL) {
        rc = ct_cloud__http_error(st, reply, "cloud B: floating IP %s", r->spec->ip);
        json_decref(reply);
        return rc;
    }
    ct_cloud__report(r, 8, "info", "%s", ct_cloud__str(fip, "floating_ip_address"));
    rc = ct_cloud__record(r, "floating_ip",
                          json_pack("{s:s,s:s,s:b}", "id", ct_cloud__str(fip, "id"), "address",
                                    ct_cloud__str(fip, "floating_ip_address"), "allocated",
                                    allocate));
    json_decref(reply);
    return rc;
}

/* ---------------------------------------------------------------- step 9 */

int ct_cloud__step_overview(ct_cloud__run *r)
{
    const char *id = ct_cloud__str(ct_cloud__data(r, "server"), "id");
    json_t *srv = NULL, *img = NULL, *s, *o;
    long st;
    int rc;

    st = ct_cloud__req(&srv, r->b, CT_CLOUD_COMPUTE, "GET", NULL, "servers/%s", id);
    s = json_object_get(srv, "server");
    if (st != 200 || s == NULL) {
        rc = ct_cloud__http_error(st, srv, "cloud B: instance %s", id);
        json_decref(srv);
        return rc;
    }
    st = ct_cloud__req(&img, r->b, CT_CLOUD_IMAGE, "GET", NULL, "v2/images/%s",
                       ct_cloud__str(json_object_get(s, "image"), "id"));
    o = json_pack("{s:s?,s:s?,s:s?,s:O?,s:O?,s:s?,s:O?,s:s?,s:s,s:{s:s?,s:s?,s:O?,s:s?,s:s?}}",
                  "id", ct_cloud__str(s, "id"), "name", ct_cloud__str(s, "name"), "status",
                  ct_cloud__str(s, "status"), "flavor", json_object_get(s, "flavor"), "addresses",
                  json_object_get(s, "addresses"), "key_name", ct_cloud__str(s, "key_name"),
                  "security_groups", json_object_get(s, "security_groups"), "floating_ip",
                  ct_cloud__str(ct_cloud__data(r, "floating_ip"), "address"), "controller",
                  ct_cloud_endpoint(r->b, CT_CLOUD_COMPUTE), "image", "id",
                  ct_cloud__str(img, "id"), "name", ct_cloud__str(img, "name"), "size",
                  json_object_get(img, "size"), "checksum", ct_cloud__str(img, "checksum"),
                  "visibility", ct_cloud__str(img, "visibility"));
    rc = st == 200 ? ct_cloud__record(r, "overview", o)
                   : (json_decref(o), ct_cloud__http_error(st, img, "cloud B: image"));
    json_decref(srv);
    json_decref(img);
    return rc < 0 ? rc : ct_cloud__ledger_confirm(r);
}
