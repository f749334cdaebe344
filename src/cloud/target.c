/* The target of a migration in cloud B: the checks that every name of the
 * spec resolves there before anything is touched, then steps 6 to 9
 * (keypair, launch with the source's flavor and security-group rules,
 * floating IP, overview). */
#include "cloud_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- checks */

/* B's flavor with the source's name and size, else one of the same size. */
static int flavor_pick(json_t *target, ct_cloud__run *r)
{
    json_t *want = json_object_get(ct_cloud__data(r, "source"), "flavor");
    json_t *reply = NULL, *f, *named = NULL, *sized = NULL, *list;
    size_t i;
    int rc = 0;

    if ((list = ct_cloud__list(&reply, r->b, CT_CLOUD_COMPUTE, "flavors", "flavors/detail")) ==
        NULL)
        return ct_error_set(ct_error_code(), "cloud B: %s", ct_error_last());
    json_array_foreach (list, i, f) {
        bool same = json_equal(json_object_get(f, "vcpus"), json_object_get(want, "vcpus")) &&
                    json_equal(json_object_get(f, "ram"), json_object_get(want, "ram")) &&
                    json_equal(json_object_get(f, "disk"), json_object_get(want, "disk"));
        if (same && ct_cloud__str_eq(json_object_get(f, "name"), ct_cloud__str(want, "name")))
            named = f;
        else if (same && sized == NULL)
            sized = f;
    }
    if (named == NULL)
        named = sized;
    if (named == NULL)
        rc = ct_error_set(CT_ENOTFOUND,
                          "cloud B: no flavor like '%s' (%lld vCPU, %lld MB RAM, %lld GB disk)",
                          ct_cloud__str(want, "name"),
                          (long long)json_integer_value(json_object_get(want, "vcpus")),
                          (long long)json_integer_value(json_object_get(want, "ram")),
                          (long long)json_integer_value(json_object_get(want, "disk")));
    else
        json_object_set(target, "flavor", named);
    json_decref(reply);
    return rc;
}

/* B's network for the instance: the one named as a network of the source,
 * else the only internal network the project sees. */
static int network_pick(json_t *target, ct_cloud__run *r)
{
    json_t *names = json_object_get(ct_cloud__data(r, "source"), "networks");
    json_t *reply = NULL, *net, *pick = NULL, *only = NULL, *n, *list;
    size_t i, j, internal = 0;
    int rc = 0;

    if ((list = ct_cloud__list(&reply, r->b, CT_CLOUD_NETWORK, "networks", "v2.0/networks")) ==
        NULL)
        return ct_error_set(ct_error_code(), "cloud B: %s", ct_error_last());
    json_array_foreach (list, i, net) {
        if (json_is_true(json_object_get(net, "router:external")))
            continue;
        internal++;
        only = net;
        json_array_foreach (names, j, n) {
            if (pick == NULL && json_equal(json_object_get(net, "name"), n))
                pick = net;
        }
    }
    if (pick == NULL && internal == 1)
        pick = only;
    if (pick == NULL)
        rc = ct_error_set(CT_ENOTFOUND,
                          internal ? "cloud B: %zu networks and none named as the instance's in A"
                                   : "cloud B: no network for the instance (%zu)",
                          internal);
    else
        json_object_set_new(target, "network",
                            json_pack("{s:s?,s:s?}", "id", ct_cloud__str(pick, "id"), "name",
                                      ct_cloud__str(pick, "name")));
    json_decref(reply);
    return rc;
}

/* How step 6 gets the keypair: B's own ("select"), the spec's key, or A's
 * key of that name ("import"). */
static int keypair_pick(json_t *target, ct_cloud__run *r)
{
    const char *name = r->spec->keypair_name;
    json_t *reply = NULL;
    const char *have;
    char *q = ct_cloud__escape(name);
    long st;
    int rc = 0;

    if (q == NULL)
        return ct_error_set(CT_ENOMEM, "out of memory");
    st = ct_cloud__req(&reply, r->b, CT_CLOUD_COMPUTE, "GET", NULL, "os-keypairs/%s", q);
    if (st == 200) {
        have = ct_cloud__str(json_object_get(reply, "keypair"), "public_key");
        if (r->spec->public_key != NULL && (have == NULL || strcmp(have, r->spec->public_key)))
            rc = ct_error_set(CT_EEXIST, "cloud B: keypair '%s' exists with another public key",
                              name);
        else
            json_object_set_new(target, "keypair", json_pack("{s:s}", "mode", "select"));
        goto done;
    }
    if (st != 404) {
        rc = ct_cloud__http_error(st, reply, "cloud B: keypair '%s'", name);
        goto done;
    }
    json_decref(reply);
    reply = NULL;
    if (r->spec->public_key != NULL) {
        json_object_set_new(
            target, "keypair",
            json_pack("{s:s,s:s}", "mode", "import", "public_key", r->spec->public_key));
        goto done;
    }
    st = ct_cloud__req(&reply, r->a, CT_CLOUD_COMPUTE, "GET", NULL, "os-keypairs/%s", q);
    have = ct_cloud__str(json_object_get(reply, "keypair"), "public_key");
    if (st == 200 && have != NULL)
        json_object_set_new(target, "keypair",
                            json_pack("{s:s,s:s}", "mode", "import", "public_key", have));
    else if (st == 404)
        rc = ct_error_set(CT_ENOTFOUND, "keypair '%s' is in neither cloud B nor cloud A", name);
    else
        rc = ct_cloud__http_error(st, reply, "cloud A: keypair '%s'", name);
done:
    free(q);
    json_decref(reply);
    return rc;
}

/* "new": B's external network; else the spec's floating IP, which must be
 * B's and free (or on this migration's server already). */
static int ip_pick(json_t *target, ct_cloud__run *r)
{
    const char *mine = ct_cloud__str(ct_cloud__data(r, "server"), "port");
    json_t *reply = NULL, *fip;
    const char *port;
    long st;
    int rc = 0;

    if (strcmp(r->spec->ip, "new") == 0)
        st = ct_cloud__req(&reply, r->b, CT_CLOUD_NETWORK, "GET", NULL,
                           "v2.0/networks?router:external=true");
    else
        st = ct_cloud__req(&reply, r->b, CT_CLOUD_NETWORK, "GET", NULL,
                           "v2.0/floatingips?floating_ip_address=%s", r->spec->ip);
    if (st != 200) {
        rc = ct_cloud__http_error(st, reply, "cloud B: floating IP '%s'", r->spec->ip);
        goto done;
    }
    if (strcmp(r->spec->ip, "new") == 0) {
        json_t *net = json_array_get(json_object_get(reply, "networks"), 0);
        if (net == NULL)
            rc = ct_error_set(CT_ENOTFOUND, "cloud B: no external network to allocate an IP on");
        else
            json_object_set_new(target, "external_network",
                                json_pack("{s:s?,s:s?}", "id", ct_cloud__str(net, "id"), "name",
                                          ct_cloud__str(net, "name")));
        goto done;
    }
    fip = json_array_get(json_object_get(reply, "floatingips"), 0);
    port = ct_cloud__str(fip, "port_id");
    if (fip == NULL)
        rc = ct_error_set(CT_ENOTFOUND, "cloud B: the project has no floating IP %s", r->spec->ip);
    else if (port != NULL && (mine == NULL || strcmp(port, mine) != 0))
        rc = ct_error_set(CT_EEXIST, "cloud B: floating IP %s is in use by port %s", r->spec->ip,
                          port);
    else
        json_object_set_new(target, "floating_ip",
                            json_pack("{s:s?}", "id", ct_cloud__str(fip, "id")));
done:
    json_decref(reply);
    return rc;
}

int ct_cloud__check(ct_cloud__run *r)
{
    json_t *target = json_object();
    int step = r->rec.step, rc = 0;

    if (target == NULL)
        return ct_error_set(CT_ENOMEM, "out of memory");
    if (step < 2 && (rc = ct_cloud__source(r)) < 0)
        goto done;
    if ((step < 6 && (rc = keypair_pick(target, r)) < 0) ||
        (step < 7 && (rc = flavor_pick(target, r)) < 0) ||
        (step < 7 && (rc = network_pick(target, r)) < 0) ||
        (step < 8 && (rc = ip_pick(target, r)) < 0))
        goto done;
    if (json_object_size(target) > 0) {
        json_t *old = ct_cloud__data(r, "target");
        if (json_is_object(old))
            json_object_update_missing(target, old);
        rc = ct_cloud__record(r, "target", json_incref(target));
    }
done:
    json_decref(target);
    return rc;
}
