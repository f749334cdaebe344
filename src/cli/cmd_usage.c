/* `catena usage`: what each instance of a cloud project used in a period
 * (seed 001's monitoring tool), priced when asked, beside the uptime the
 * ledger records for the same VC so provider and consumer can compare. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/cloud.h"
#include "catena/util.h"

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* The ledger's uptime of the instance's VC in the period, in hours, and
 * its tag; nothing when the instance is no VC. */
static int ledger_uptime(json_t *inst, const cli_gw *g, const char *from, const char *to)
{
    json_t *vc = NULL, *sla = NULL;
    char path[512];
    long st;
    int rc = ct_cloud_gw_vc_of(&vc, g->api, json_string_value(json_object_get(inst, "id")));

    if (rc == CT_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    snprintf(path, sizeof(path), "/container/%s/sla/?from=%sZ&to=%sZ",
             json_string_value(json_object_get(vc, "vc_tag")), from, to);
    if ((st = ct_cloud_gw_call(&sla, g->api, "GET", path, NULL, NULL, NULL)) != 200) {
        rc = ct_cloud_gw_fail(st, sla, "the VC's SLA");
    } else {
        json_object_set(inst, "vc_tag", json_object_get(vc, "vc_tag"));
        json_object_set_new(
            inst, "ledger_hours",
            json_real((num(sla, "measured_seconds") - num(sla, "downtime_seconds")) / 3600.0));
    }
    json_decref(vc);
    json_decref(sla);
    return rc;
}

static void print_table(const json_t *u)
{
    json_t *inst;
    size_t i;

    printf("%-36s %-16s %-9s %9s %10s %12s %12s %9s %10s\n", "instance", "name", "state", "hours",
           "vcpu_h", "ram_gb_h", "disk_gb_h", "ledger_h", "amount");
    json_array_foreach (json_object_get(u, "instances"), i, inst) {
        json_t *lh = json_object_get(inst, "ledger_hours"), *am = json_object_get(inst, "amount");
        printf("%-36s %-16.16s %-9s %9.3f %10.3f %12.3f %12.3f ",
               json_string_value(json_object_get(inst, "id")),
               json_string_value(json_object_get(inst, "name")),
               json_string_value(json_object_get(inst, "state")), num(inst, "hours"),
               num(inst, "vcpu_hours"), num(inst, "ram_mb_hours") / 1024.0,
               num(inst, "disk_gb_hours"));
        if (lh != NULL)
            printf("%9.3f ", json_number_value(lh));
        else
            printf("%9s ", "-");
        if (am != NULL)
            printf("%10.4f\n", json_number_value(am));
        else
            printf("%10s\n", "-");
    }
}

struct usage_args {
    const char *cloud, *clouds, *from, *to, *fed, *api;
    ct_cloud_prices prices;
    bool json;
};

static int usage_run(const struct usage_args *a)
{
    int64_t to_ms = ct_time_now_ms(), from_ms;
    ct_cloud_auth auth = {0};
    ct_cloud *c = NULL;
    json_t *u = NULL, *inst;
    cli_gw g = {0};
    size_t i;
    int rc = CLI_USAGE;

    if (a->to != NULL && ct_time_parse(&to_ms, a->to) < 0)
        return cli_bad_input("usage", NULL, "--to: %s", ct_error_last());
    from_ms = to_ms - 30LL * 86400000;
    if (a->from != NULL && ct_time_parse(&from_ms, a->from) < 0)
        return cli_bad_input("usage", NULL, "--from: %s", ct_error_last());
    if (from_ms >= to_ms)
        return cli_bad_input("usage", NULL, "--from must be before --to");
    if ((a->fed != NULL || a->api != NULL) && cli_gw_open(&g, a->fed, a->api) < 0)
        goto fail;
    if (ct_cloud_auth_load(&auth, a->clouds, a->cloud) < 0)
        goto fail;
    rc = CLI_FAIL;
    if (ct_cloud_connect(&c, &auth, 30000) < 0 || ct_cloud_usage(&u, c, from_ms, to_ms) < 0)
        goto fail;
    json_array_foreach (json_object_get(u, "instances"), i, inst) {
        if (g.api[0] != '\0' &&
            ledger_uptime(inst, &g, json_string_value(json_object_get(u, "from")),
                          json_string_value(json_object_get(u, "to"))) < 0)
            goto fail;
    }
    if (a->prices.set)
        ct_cloud_usage_price(u, &a->prices);
    if (a->json)
        rc = cli_print_json(u);
    else {
        print_table(u);
        rc = CLI_OK;
    }
    goto done;
fail:
    fprintf(stderr, "catena usage: %s\n", ct_error_last());
done:
    json_decref(u);
    ct_cloud_free(c);
    ct_cloud_auth_free(&auth);
    cli_gw_close(&g);
    return rc;
}

int cmd_usage(int argc, char **argv)
{
    const cli_cmd *self = cli_find("usage");
    static const struct option longopts[] = {
        {"cloud", required_argument, NULL, 'c'},
        {"clouds", required_argument, NULL, 'y'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"price", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"federation", required_argument, NULL, 'F'},
        {"api", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct usage_args a = {0};
    int c;

    optind = 1;
    while ((c = cli_getopt(self, argc, argv, longopts)) != -1) {
        switch (c) {
        case 'c': a.cloud = optarg; break;
        case 'y': a.clouds = optarg; break;
        case 'f': a.from = optarg; break;
        case 't': a.to = optarg; break;
        case 'j': a.json = true; break;
        case 'F': a.fed = optarg; break;
        case 'a': a.api = optarg; break;
        case 'p':
            if (ct_cloud_prices_parse(&a.prices, optarg) < 0)
                return cli_usage_error(self, "--price: %s (vcpu=X,ram_gb=Y,disk_gb=Z per hour)",
                                       ct_error_last());
            break;
        case 'h': cli_print_help(self); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (a.cloud == NULL)
        return cli_usage_error(self, "expects --cloud NAME (an entry of clouds.yaml)");
    if (a.clouds == NULL && (a.clouds = cli_clouds_default()) == NULL)
        return cli_usage_error(self, "no clouds.yaml found: give --clouds FILE");
    return usage_run(&a);
}
