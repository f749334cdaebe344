/* The source of a migration in cloud A: the instance named by the spec
 * (UUID or unique name), its flavor and the rules of its security groups,
 * recorded before anything is created so B can be given the same. */
#include "cloud_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GET servers/{ref}, or the one server named ref. *out: the server. */
static int server_find(json_t **out, ct_cloud *a, const char *ref)
{
    json_t *reply = NULL, *srv, *found = NULL, *list;
    size_t i, n = 0;
    long st;

    *out = NULL;
    st = ct_cloud__req(&reply, a, CT_CLOUD_COMPUTE, "GET", NULL, "servers/%s", ref);
    if (st == 200 && json_is_object(json_object_get(reply, "server"))) {
        *out = json_incref(json_object_get(reply, "server"));
        json_decref(reply);
        return 0;
    }
    json_decref(reply);
    reply = NULL;
    if (st != 404)
        return ct_cloud__http_error(st, NULL, "cloud A: instance '%s'", ref);
    if ((list = ct_cloud__list(&reply, a, CT_CLOUD_COMPUTE, "servers", "servers/detail")) == NULL)
        return ct_error_set(ct_error_code(), "cloud A: %s", ct_error_last());
    json_array_foreach (list, i, srv) {
        if (ct_cloud__str_eq(json_object_get(srv, "name"), ref)) {
            found = srv;
            n++;
        }
    }
    if (n == 1)
        *out = json_incref(found);
    json_decref(reply);
    if (n == 0)
        return ct_error_set(CT_ENOTFOUND, "cloud A: no instance '%s' in the project", ref);
    if (n > 1)
        return ct_error_set(CT_EINVAL, "cloud A: %zu instances are named '%s': give its UUID", n,
                            ref);
    return 0;
}

/* A rule as the copy needs it: a security-group-rule body for Neutron
 * without the group, "self" when it allowed the group itself. */
static json_t *rule_copy(const json_t *rule)
{
    static const char *const keys[] = {"direction",      "ethertype",      "protocol",
                                       "port_range_min", "port_range_max", "remote_ip_prefix",
                                       "description"};
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        json_t *v = json_object_get(rule, keys[k]);
        if (v != NULL && !json_is_null(v))
            json_object_set(o, keys[k], v);
    }
    if (ct_cloud__str(rule, "remote_group_id") != NULL)
        json_object_set_new(o, "remote_group",
                            json_boolean(strcmp(ct_cloud__str(rule, "remote_group_id"),
                                                ct_cloud__str(rule, "security_group_id")) == 0));
    return o;
}

/* The rules of every security group on the server's ports. */
static int rules_read(json_t *rules, ct_cloud *a, const char *server)
{
    json_t *ports = NULL, *port, *gid, *grp;
    json_t *seen = json_object();
    size_t i, j, k;
    long st;
    int rc = 0;

    st = ct_cloud__req(&ports, a, CT_CLOUD_NETWORK, "GET", NULL, "v2.0/ports?device_id=%s", server);
    if (st != 200 || seen == NULL) {
        rc = ct_cloud__http_error(st, ports, "cloud A: ports of %s", server);
        goto done;
    }
    json_array_foreach (json_object_get(ports, "ports"), i, port) {
        json_array_foreach (json_object_get(port, "security_groups"), j, gid) {
            json_t *reply = NULL, *rule;
            if (!json_is_string(gid) || json_object_get(seen, json_string_value(gid)) != NULL)
                continue;
            json_object_set(seen, json_string_value(gid), json_true());
            st = ct_cloud__req(&reply, a, CT_CLOUD_NETWORK, "GET", NULL, "v2.0/security-groups/%s",
                               json_string_value(gid));
            if (st != 200) {
                rc = ct_cloud__http_error(st, reply, "cloud A: security group %s",
                                          json_string_value(gid));
                json_decref(reply);
                goto done;
            }
            grp = json_object_get(reply, "security_group");
            json_array_foreach (json_object_get(grp, "security_group_rules"), k, rule)
                json_array_append_new(rules, rule_copy(rule));
            json_decref(reply);
        }
    }
done:
    json_decref(ports);
    json_decref(seen);
    return rc;
}

static json_t *networks_of(const json_t *server)
{
    json_t *names = json_array();
    const char *key;
    json_t *v;

    json_object_foreach ((json_t *)json_object_get(server, "addresses"), key, v)
        json_array_append_new(names, json_string(key));
    return names;
}

int ct_cloud__source(ct_cloud__run *r)
{
    json_t *srv = NULL, *flavor, *src = NULL, *rules = json_array();
    const char *state;
    int rc;

    if (rules == NULL)
        return ct_error_set(CT_ENOMEM, "out of memory");
    if ((rc = server_find(&srv, r->a, r->spec->instance)) < 0)
        goto done;
    state = ct_cloud__str(srv, "status");
    if (!ct_cloud__word_in(state ? state : "", "ACTIVE,SHUTOFF,PAUSED,SUSPENDED")) {
        rc = ct_error_set(CT_EINVAL, "cloud A: instance '%s' is %s: it cannot be snapshotted",
                          r->spec->instance, state ? state : "without a status");
        goto done;
    }
    flavor = json_object_get(srv, "flavor");
    if ((rc = rules_read(rules, r->a, ct_cloud__str(srv, "id"))) < 0)
        goto done;
    src = json_pack("{s:s,s:s?,s:s?,s:s?,s:{s:s?,s:O?,s:O?,s:O?},s:o,s:O}", "id",
                    ct_cloud__str(srv, "id"), "name", ct_cloud__str(srv, "name"), "status", state,
                    "key_name", ct_cloud__str(srv, "key_name"), "flavor", "name",
                    ct_cloud__str(flavor, "original_name"), "vcpus",
                    json_object_get(flavor, "vcpus"), "ram", json_object_get(flavor, "ram"), "disk",
                    json_object_get(flavor, "disk"), "networks", networks_of(srv), "rules", rules);
    rc = ct_cloud__record(r, "source", src);
    ct_cloud__report(r, 0, "info", "instance %s (%s), flavor %s, %zu security-group rules",
                     ct_cloud__str(srv, "id"), state, ct_cloud__str(flavor, "original_name"),
                     json_array_size(rules));
done:
    json_decref(srv);
    json_decref(rules);
    return rc;
}
