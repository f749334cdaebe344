/* Checkpoints as JSON: what an orchestrator hands to its store (a journal
 * file, the CAN ledger) and reads back when it continues another's work. */
#include "catena/orch.h"
#include "catena/util.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {"SERVICE_UP", "SERVICE_DOWN", "APP_OK", "APP_SHUTDOWN"};

const char *ct_orch_kind_name(ct_orch_kind k)
{
    return (unsigned)k < 4 ? kind_names[k] : "?";
}

int ct_orch_kind_parse(ct_orch_kind *out, const char *name)
{
    for (unsigned k = 0; name != NULL && k < 4; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (ct_orch_kind)k;
            return 0;
        }
    return ct_error_set(CT_EINVAL, "unknown checkpoint type %s", name ? name : "(none)");
}

static bool names_service(ct_orch_kind k)
{
    return k == CT_ORCH_SERVICE_UP || k == CT_ORCH_SERVICE_DOWN;
}

json_t *ct_orch_checkpoint_json(const ct_orch_checkpoint *cp, const ct_orch_plan *p)
{
    json_t *v = json_object();
    bool svc = names_service(cp->kind) && cp->service < p->n;

    if (v == NULL || json_object_set_new(v, "type", json_string(ct_orch_kind_name(cp->kind))) < 0 ||
        json_object_set_new(v, "time", json_integer(cp->time_ms)) < 0 ||
        json_object_set_new(v, "service",
                            svc ? json_string(p->services[cp->service].name) : json_null()) < 0 ||
        (svc && json_object_set_new(v, "index", json_integer(cp->service)) < 0) ||
        json_object_set_new(v, "orchestrator", json_string(cp->orchestrator)) < 0)
        goto fail;
    if (cp->kind == CT_ORCH_SERVICE_UP &&
        (json_object_set_new(v, "id", json_string(cp->inst.id)) < 0 ||
         json_object_set_new(v, "url", json_string(cp->inst.url)) < 0 ||
         json_object_set_new(v, "pid", json_integer(cp->inst.pid)) < 0))
        goto fail;
    return v;
fail:
    json_decref(v);
    return NULL;
}

/* Copies an optional string member into a fixed buffer. */
static int copy_str(char *dst, size_t cap, const json_t *v, const char *key, bool optional)
{
    const char *s = NULL;
    int rc = ct_json_get_string(&s, v, key, optional);

    if (rc < 0)
        return rc;
    if (s != NULL && strlen(s) >= cap)
        return ct_error_set(CT_EINVAL, "checkpoint: %s is too long", key);
    snprintf(dst, cap, "%s", s ? s : "");
    return 0;
}

int ct_orch_checkpoint_parse(ct_orch_checkpoint *out, const json_t *v, const ct_orch_plan *p)
{
    const char *type = NULL, *service = NULL;
    int64_t time_ms = 0, pid = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(v))
        return ct_error_set(CT_EINVAL, "checkpoint: not an object");
    if ((rc = ct_json_get_string(&type, v, "type", false)) < 0 ||
        (rc = ct_orch_kind_parse(&out->kind, type)) < 0 ||
        (rc = ct_json_get_int(&time_ms, v, "time", false)) < 0 ||
        (rc = copy_str(out->orchestrator, sizeof(out->orchestrator), v, "orchestrator", true)) < 0)
        return rc;
    out->time_ms = time_ms;
    if (names_service(out->kind)) {
        size_t k;
        if ((rc = ct_json_get_string(&service, v, "service", false)) < 0)
            return rc;
        if ((k = ct_orch_plan_find(p, service)) == SIZE_MAX)
            return ct_error_set(CT_EINVAL, "checkpoint: the application has no service %s",
                                service);
        out->service = (uint32_t)k;
    }
    if (out->kind == CT_ORCH_SERVICE_UP &&
        ((rc = copy_str(out->inst.id, sizeof(out->inst.id), v, "id", false)) < 0 ||
         (rc = copy_str(out->inst.url, sizeof(out->inst.url), v, "url", false)) < 0 ||
         (rc = ct_json_get_int(&pid, v, "pid", true)) < 0))
        return rc;
    out->inst.pid = pid;
    return 0;
}
