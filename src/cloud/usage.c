/* Usage metering (seed 001 section 4.2.5): what each instance of a
 * project used in a period, from Nova's os-simple-tenant-usage, as hours
 * of uptime, vCPU, RAM and disk. */
#include "cloud_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nova wants "YYYY-MM-DDTHH:MM:SS" (UTC, no zone). */
static int nova_time(char out[CT_TIME_ISO8601_SIZE], int64_t ms)
{
    int rc = ct_time_format(out, ms);
    if (rc == 0)
        out[19] = '\0';
    return rc;
}

static json_t *instance_json(const json_t *u)
{
    double hours = json_number_value(json_object_get(u, "hours"));
    json_int_t vcpus = json_integer_value(json_object_get(u, "vcpus"));
    json_int_t ram = json_integer_value(json_object_get(u, "memory_mb"));
    json_int_t disk = json_integer_value(json_object_get(u, "local_gb"));

    return json_pack("{s:s?,s:s?,s:s?,s:s?,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:s?,s:s?}", "id",
                     ct_cloud__str(u, "instance_id"), "name", ct_cloud__str(u, "name"), "state",
                     ct_cloud__str(u, "state"), "flavor", ct_cloud__str(u, "flavor"), "vcpus",
                     vcpus, "ram_mb", ram, "disk_gb", disk, "hours", hours, "vcpu_hours",
                     hours * (double)vcpus, "ram_mb_hours", hours * (double)ram, "disk_gb_hours",
                     hours * (double)disk, "started_at", ct_cloud__str(u, "started_at"), "ended_at",
                     ct_cloud__str(u, "ended_at"));
}

/* Adds v to totals[key]. */
static void add(json_t *totals, const char *key, double v)
{
    json_object_set_new(totals, key,
                        json_real(json_number_value(json_object_get(totals, key)) + v));
}

int ct_cloud_usage(json_t **out, ct_cloud *c, int64_t from_ms, int64_t to_ms)
{
    char from[CT_TIME_ISO8601_SIZE], to[CT_TIME_ISO8601_SIZE], marker[128] = "";
    json_t *list = json_array(), *totals = json_object();
    int rc = 0;

    *out = NULL;
    if (list == NULL || totals == NULL || (rc = nova_time(from, from_ms)) < 0 ||
        (rc = nova_time(to, to_ms)) < 0) {
        rc = rc < 0 ? rc : ct_error_set(CT_ENOMEM, "out of memory");
        goto done;
    }
    /* Pages of at most 1000 instances, the next one after the marker. */
    for (int page = 0; page < 1000; page++) {
        json_t *reply = NULL, *u, *usage;
        size_t i;
        long st =
            ct_cloud__req(&reply, c, CT_CLOUD_COMPUTE, "GET", NULL,
                          "os-simple-tenant-usage/%s?start=%s&end=%s&limit=1000%s%s",
                          ct_cloud_project_id(c), from, to, marker[0] ? "&marker=" : "", marker);
        if (st != 200) {
            rc = ct_cloud__http_error(st, reply, "usage of project %s", ct_cloud_project_id(c));
            json_decref(reply);
            goto done;
        }
        usage = json_object_get(reply, "tenant_usage");
        json_array_foreach (json_object_get(usage, "server_usages"), i, u) {
            json_t *one = instance_json(u);
            add(totals, "hours", json_real_value(json_object_get(one, "hours")));
            add(totals, "vcpu_hours", json_real_value(json_object_get(one, "vcpu_hours")));
            add(totals, "ram_mb_hours", json_real_value(json_object_get(one, "ram_mb_hours")));
            add(totals, "disk_gb_hours", json_real_value(json_object_get(one, "disk_gb_hours")));
            json_array_append_new(list, one);
            snprintf(marker, sizeof(marker), "%s", ct_cloud__str(u, "instance_id"));
        }
        if (json_array_size(json_object_get(reply, "tenant_usage_links")) == 0 ||
            json_array_size(json_object_get(usage, "server_usages")) == 0) {
            json_decref(reply);
            break;
        }
        json_decref(reply);
    }
    *out = json_pack("{s:s,s:s,s:s,s:O,s:O}", "project_id", ct_cloud_project_id(c), "from", from,
                     "to", to, "instances", list, "totals", totals);
    if (*out == NULL)
        rc = ct_error_set(CT_ENOMEM, "out of memory");
done:
    json_decref(list);
    json_decref(totals);
    return rc;
}

int ct_cloud_prices_parse(ct_cloud_prices *out, const char *text)
{
    char buf[256], *save = NULL;

    memset(out, 0, sizeof(*out));
    if (strlen(text) >= sizeof(buf))
        return ct_error_set(CT_EINVAL, "prices: too long");
    snprintf(buf, sizeof(buf), "%s", text);
    for (char *kv = strtok_r(buf, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '='), *end = NULL;
        double v;
        if (eq == NULL)
            return ct_error_set(CT_EINVAL, "prices: '%s' is not NAME=PRICE", kv);
        *eq = '\0';
        v = strtod(eq + 1, &end);
        if (end == eq + 1 || *end != '\0' || !(v >= 0) || v > 1e12)
            return ct_error_set(CT_EINVAL, "prices: %s must be a number from 0 to 1e12", kv);
        if (strcmp(kv, "vcpu") == 0)
            out->vcpu = v;
        else if (strcmp(kv, "ram_gb") == 0)
            out->ram_gb = v;
        else if (strcmp(kv, "disk_gb") == 0)
            out->disk_gb = v;
        else
            return ct_error_set(CT_EINVAL, "prices: '%s' is none of vcpu, ram_gb, disk_gb", kv);
    }
    out->set = true;
    return 0;
}

void ct_cloud_usage_price(json_t *usage, const ct_cloud_prices *p)
{
    json_t *inst;
    size_t i;
    double total = 0;

    json_array_foreach (json_object_get(usage, "instances"), i, inst) {
        double amount =
            json_number_value(json_object_get(inst, "vcpu_hours")) * p->vcpu +
            json_number_value(json_object_get(inst, "ram_mb_hours")) / 1024.0 * p->ram_gb +
            json_number_value(json_object_get(inst, "disk_gb_hours")) * p->disk_gb;
        json_object_set_new(inst, "amount", json_real(amount));
        total += amount;
    }
    json_object_set_new(json_object_get(usage, "totals"), "amount", json_real(total));
}
