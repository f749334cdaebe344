/* The ledger's part of a migration through a federation's gateway (its
 * REST API, docs/GATEWAY.md): the VC of the instance, the host DC's
 * migration intent, the target DC's confirmation, each write sent with an
 * Idempotency-Key and followed to its end. `catena migrate --to` and the
 * gateway's own POST /api/migrations?to= use it. */
#include "cloud_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

long ct_cloud_gw_call(json_t **out, const char *api, const char *method, const char *path,
                      const char *token, const char *key, const json_t *body)
{
    char url[1024], *text = NULL;
    long status = 0;
    int rc;

    *out = NULL;
    snprintf(url, sizeof(url), "%s%s", api, path);
    if (body != NULL && ct_json_dump(&text, body) < 0)
        return CT_ENOMEM;
    rc = ct_http_request_idem(&status, out, method, url, token, key, text, 60000);
    free(text);
    return rc < 0 ? rc : status;
}

int ct_cloud_gw_fail(long st, const json_t *answer, const char *what)
{
    const char *msg = json_string_value(json_object_get(answer, "error"));

    if (st < 0)
        return (int)st;
    return ct_error_set(st == 404   ? CT_ENOTFOUND
                        : st == 400 ? CT_EINVAL
                                    : CT_EIO,
                        "%s: HTTP %ld: %s", what, st, msg ? msg : "(no message)");
}

int ct_cloud_gw_vc_of(json_t **vc, const char *api, const char *instance)
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
    if ((st = ct_cloud_gw_call(&vcs, api, "GET", path, NULL, NULL, NULL)) != 200)
        rc = ct_cloud_gw_fail(st, vcs, "the VC of the instance");
    else if ((*vc = json_incref(json_array_get(vcs, 0))) == NULL)
        rc = ct_error_set(CT_ENOTFOUND, "instance %s is not a VC", instance);
    json_decref(vcs);
    return rc;
}

json_t *ct_cloud_gw_num(const char *s)
{
    uint64_t v;
    return s != NULL && ct_parse_uint(&v, s, INT64_MAX) == 0 ? json_integer((json_int_t)v)
                                                             : json_string(s ? s : "");
}

/* ---------------------------------------------------------------- the hooks */

static int gw_find(char tag[67], char host_dc[64], const char *instance, void *payload)
{
    const ct_cloud_gw *g = payload;
    json_t *vc = NULL, *dcs = NULL, *dc;
    const char *host;
    size_t i;
    long st;
    int rc;

    if ((rc = ct_cloud_gw_vc_of(&vc, g->api, instance)) < 0)
        return rc;
    host = json_string_value(json_object_get(vc, "host"));
    if ((st = ct_cloud_gw_call(&dcs, g->api, "GET", "/datacenter/", NULL, NULL, NULL)) != 200) {
        rc = ct_cloud_gw_fail(st, dcs, "the datacenters");
        goto done;
    }
    rc = ct_error_set(CT_EINVAL, "VC host %s is no registered datacenter", host ? host : "?");
    json_array_foreach (dcs, i, dc) {
        const char *w = json_string_value(json_object_get(dc, "wallet"));
        if (w != NULL && host != NULL && strcasecmp(w, host) == 0) {
            snprintf(tag, 67, "%s", json_string_value(json_object_get(vc, "vc_tag")));
            snprintf(host_dc, 64, "%s", json_string_value(json_object_get(dc, "name")));
            rc = 0;
        }
    }
done:
    json_decref(vc);
    json_decref(dcs);
    return rc;
}

/* A write by dc; a 202 is followed to its end. */
static int gw_write(const ct_cloud_gw *g, const char *dc, const char *path, const char *key,
                    const json_t *body, const char *what)
{
    const char *token = g->token(dc, g->payload);
    json_t *answer = NULL;
    long st;
    int rc = 0;

    if (token == NULL)
        return ct_error_set(CT_EAUTH, "no token of %s for the %s", dc, what);
    st = ct_cloud_gw_call(&answer, g->api, "POST", path, token, key, body);
    for (int i = 0; st == 202 && i < 240; i++) {
        char rpath[256];
        const char *state;
        snprintf(rpath, sizeof(rpath), "/requests/%s",
                 json_string_value(json_object_get(answer, "request_id")));
        json_decref(answer);
        usleep(500000);
        st = ct_cloud_gw_call(&answer, g->api, "GET", rpath, token, NULL, NULL);
        state = json_string_value(json_object_get(answer, "state"));
        if (st == 200 && state != NULL && strcmp(state, "pending") == 0)
            st = 202;
        else if (st == 200 && (state == NULL || strcmp(state, "done") != 0))
            st = 500;
    }
    if (st != 200)
        rc = ct_cloud_gw_fail(st, answer, what);
    json_decref(answer);
    return rc;
}

static int gw_intent(const char *tag, const char *host_dc, const char *at, const char *key,
                     void *payload)
{
    const ct_cloud_gw *g = payload;
    json_t *body =
        json_pack("{s:s,s:o,s:o,s:s}", "target", g->to, "price", ct_cloud_gw_num(g->price),
                  "invoice", ct_cloud_gw_num(g->invoice), "timestamp", at);
    char path[256];
    int rc;

    snprintf(path, sizeof(path), "/datacenter/%s/container/%s/migrate/pending/", host_dc, tag);
    rc = gw_write(g, host_dc, path, key, body, "migration intent");
    json_decref(body);
    return rc;
}

/* Waits until the gateway's cache shows what a write did: the VC's
 * pending migration (field "to_address" set) or its new id. */
static int gw_wait(const ct_cloud_gw *g, const char *path, const char *field, const char *want)
{
    for (int i = 0; i < 240; i++) {
        json_t *a = NULL;
        long st = ct_cloud_gw_call(&a, g->api, "GET", path, NULL, NULL, NULL);
        const char *v = json_string_value(json_object_get(a, field));
        bool ok = st == 200 && v != NULL &&
                  (want == NULL ? strncmp(v, "0x000000", 8) != 0 : strcmp(v, want) == 0);
        json_decref(a);
        if (ok)
            return 0;
        usleep(250000);
    }
    return ct_error_set(CT_ETIMEOUT, "the gateway never showed %s %s", path, field);
}

static int gw_confirm(const char *tag, const json_t *moved, const char *at, const char *key,
                      void *payload)
{
    const ct_cloud_gw *g = payload;
    json_t *body;
    char path[256];
    int rc;

    snprintf(path, sizeof(path), "/container/%s/migration/pending/", tag);
    if ((rc = gw_wait(g, path, "to_address", NULL)) < 0)
        return rc;
    body = json_pack("{s:O,s:O,s:O,s:o,s:o,s:s}", "id", json_object_get(moved, "id"), "ip_address",
                     json_object_get(moved, "ip_address"), "controller",
                     json_object_get(moved, "controller"), "price", ct_cloud_gw_num(g->price),
                     "invoice", ct_cloud_gw_num(g->invoice), "timestamp", at);
    snprintf(path, sizeof(path), "/datacenter/%s/container/%s/migrate/confirm/", g->to, tag);
    rc = gw_write(g, g->to, path, key, body, "migration confirmation");
    json_decref(body);
    if (rc < 0)
        return rc;
    snprintf(path, sizeof(path), "/container/%s/details/", tag);
    return gw_wait(g, path, "id", json_string_value(json_object_get(moved, "id")));
}

void ct_cloud_gw_ledger(ct_cloud_ledger *out, ct_cloud_gw *g)
{
    *out = (ct_cloud_ledger){gw_find, gw_intent, gw_confirm, g};
}
