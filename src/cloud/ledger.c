/* A migration on the ledger: before step 1 the VC of the source instance
 * is looked up and its host DC records the intent; in step 9 the target
 * DC confirms with the new UUID, floating IP and controller. What was
 * written is recorded, with its idempotency key and timestamp, so a
 * resumed run never writes twice. */
#include "cloud_int.h"

#include <stdio.h>
#include <string.h>

/* The write's key and timestamp, made once and kept under ledger.<name>_at. */
static int stamp(ct_cloud__run *r, const char *name, char key[96], const char **at)
{
    json_t *l = ct_cloud__data(r, "ledger");
    char field[32], now[CT_TIME_ISO8601_SIZE];
    int rc;

    snprintf(field, sizeof(field), "%s_at", name);
    snprintf(key, 96, "s2d-%s-%s", r->rec.id, name);
    if (ct_cloud__str(l, field) == NULL) {
        if ((rc = ct_time_format(now, ct_time_now_ms())) < 0)
            return rc;
        json_object_set_new(l, field, json_string(now));
        if ((rc = ct_cloud__rec_save(r->m, &r->rec, NULL, false)) < 0)
            return rc;
    }
    *at = ct_cloud__str(l, field);
    return 0;
}

int ct_cloud__ledger_intent(ct_cloud__run *r)
{
    const char *instance = ct_cloud__str(ct_cloud__data(r, "source"), "id"), *at;
    char tag[67], host[64], key[96];
    json_t *l;
    int rc;

    if (r->ledger == NULL || r->rec.step >= 1)
        return 0;
    if ((l = ct_cloud__data(r, "ledger")) == NULL) {
        rc = r->ledger->find(tag, host, instance, r->ledger->payload);
        if (rc == CT_ENOTFOUND) {
            ct_cloud__report(r, 0, "info", "instance %s is not a VC: nothing to record", instance);
            return ct_cloud__record(r, "ledger", json_pack("{s:b}", "vc", 0));
        }
        if (rc < 0)
            return ct_error_set(rc, "ledger: %s", ct_error_last());
        if ((rc = ct_cloud__record(
                 r, "ledger", json_pack("{s:b,s:s,s:s}", "vc", 1, "tag", tag, "host_dc", host))) <
            0)
            return rc;
        l = ct_cloud__data(r, "ledger");
    }
    if (!json_is_true(json_object_get(l, "vc")) || json_is_true(json_object_get(l, "intent")))
        return 0;
    if ((rc = stamp(r, "intent", key, &at)) < 0)
        return rc;
    if ((rc = r->ledger->intent(ct_cloud__str(l, "tag"), ct_cloud__str(l, "host_dc"), at, key,
                                r->ledger->payload)) < 0)
        return ct_error_set(rc, "ledger: intent: %s", ct_error_last());
    ct_cloud__report(r, 0, "info", "VC %s: %s recorded the migration intent",
                     ct_cloud__str(l, "tag"), ct_cloud__str(l, "host_dc"));
    json_object_set_new(l, "intent", json_true());
    return ct_cloud__rec_save(r->m, &r->rec, NULL, false);
}

int ct_cloud__ledger_confirm(ct_cloud__run *r)
{
    json_t *l = ct_cloud__data(r, "ledger"), *ov = ct_cloud__data(r, "overview"), *moved;
    const char *at;
    char key[96], ip[96];
    int rc;

    if (r->ledger == NULL || !json_is_true(json_object_get(l, "vc")) ||
        json_is_true(json_object_get(l, "confirmed")))
        return 0;
    if ((rc = stamp(r, "confirm", key, &at)) < 0)
        return rc;
    snprintf(ip, sizeof(ip), "http://%s", ct_cloud__str(ov, "floating_ip"));
    moved = json_pack("{s:s,s:s,s:s}", "id", ct_cloud__str(ov, "id"), "ip_address", ip,
                      "controller", ct_cloud__str(ov, "controller"));
    if (moved == NULL)
        return ct_error_set(CT_ENOMEM, "out of memory");
    rc = r->ledger->confirm(ct_cloud__str(l, "tag"), moved, at, key, r->ledger->payload);
    json_decref(moved);
    if (rc < 0)
        return ct_error_set(rc, "ledger: confirmation: %s", ct_error_last());
    ct_cloud__report(r, 9, "info", "VC %s: the migration is confirmed on the ledger",
                     ct_cloud__str(l, "tag"));
    json_object_set_new(l, "confirmed", json_true());
    return ct_cloud__rec_save(r->m, &r->rec, NULL, false);
}
