/* `catena sim`: replays one day of PlanetLab VM traces through a
 * consolidation policy in the classic CloudSim setup and prints energy,
 * SLA metrics and migrations (text or JSON). */
#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catena/sim.h"
#include "catena/util.h"

struct sim_opts {
    const char *trace;
    ct_sim_config cfg;
    bool json;
};

static bool is_dir(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The shared data directory: $CATENA_DATA_DIR, else ../shared/data beside
 * the source tree. */
static void data_dir(char *out, size_t size)
{
    const char *env = getenv("CATENA_DATA_DIR");

    if (env != NULL && env[0] != '\0')
        snprintf(out, size, "%s", env);
    else
        snprintf(out, size, "%s/../shared/data", cli_root_dir());
}

/* A value with a '/' is a path; a bare name is a day under
 * <data>/planetlab/, or a directory of that name here.
 * Returns: 0, or -1 when the path does not fit out. */
static int resolve_trace(char *out, size_t size, const char *value)
{
    char data[PATH_MAX];
    int n;

    if (strchr(value, '/') != NULL) {
        n = snprintf(out, size, "%s", value);
        return n < 0 || (size_t)n >= size ? -1 : 0;
    }
    data_dir(data, sizeof(data));
    n = snprintf(out, size, "%.*s/planetlab/%s", (int)(size / 2), data, value);
    if (n < 0 || (size_t)n >= size)
        return -1;
    if (!is_dir(out) && is_dir(value))
        snprintf(out, size, "%s", value);
    return 0;
}

static int parse_vm_types(const cli_cmd *self, const char *v, ct_sim_vm_assign *out)
{
    if (strcmp(v, "round-robin") == 0)
        *out = CT_SIM_ASSIGN_ROUND_ROBIN;
    else if (strcmp(v, "blocks") == 0)
        *out = CT_SIM_ASSIGN_BLOCKS;
    else
        return cli_usage_error(self, "--vm-types: expected round-robin or blocks, got '%s'", v);
    return 0;
}

static int parse_param(const cli_cmd *self, const char *v, double *out)
{
    char *end = NULL;
    double x = strtod(v, &end);

    if (end == v || *end != '\0' || !(x > 0 && x < 1e6))
        return cli_usage_error(self, "--param: expected a positive number, got '%s'", v);
    *out = x;
    return 0;
}

static int parse_count(const cli_cmd *self, const char *flag, const char *v, uint64_t max,
                       uint64_t *out)
{
    if (ct_parse_uint(out, v, max) < 0 || *out == 0)
        return cli_usage_error(self, "%s: expected an integer 1..%llu, got '%s'", flag,
                               (unsigned long long)max, v);
    return 0;
}

static int sim_option(const cli_cmd *self, int c, struct sim_opts *o)
{
    uint64_t n;

    switch (c) {
    case 't': o->trace = optarg; return 0;
    case 'p':
        if (ct_sim_policy_parse(&o->cfg.policy, optarg) < 0)
            return cli_usage_error(self, "--policy: %s", ct_error_last());
        return 0;
    case 'n':
        if (parse_count(self, "--hosts", optarg, 10000000, &n) != 0)
            return CLI_USAGE;
        o->cfg.n_hosts = (size_t)n;
        return 0;
    case 'v': return parse_vm_types(self, optarg, &o->cfg.vm_assign);
    case 'a': return parse_param(self, optarg, &o->cfg.param);
    case 'j': o->json = true; return 0;
    case 'h': cli_print_help(self); return -1;
    default: return CLI_USAGE;
    }
}

static int sim_parse(struct sim_opts *o, int argc, char **argv)
{
    const cli_cmd *self = cli_find("sim");
    static const struct option longopts[] = {
        {"trace", required_argument, NULL, 't'}, {"policy", required_argument, NULL, 'p'},
        {"hosts", required_argument, NULL, 'n'}, {"vm-types", required_argument, NULL, 'v'},
        {"param", required_argument, NULL, 'a'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    int c, rc;

    o->trace = "20110303";
    o->json = false;
    ct_sim_config_default(&o->cfg, CT_SIM_LR_MMT);
    while ((c = cli_getopt(self, argc, argv, longopts)) != -1)
        if ((rc = sim_option(self, c, o)) != 0)
            return rc;
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
    return 0;
}

static int print_json(const struct sim_opts *o, const char *trace, const ct_sim_result *r)
{
    json_t *doc =
        json_pack("{s:s, s:s, s:f, s:I, s:I, s:f, s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:f, s:f}",
                  "trace", trace, "policy", ct_sim_policy_name(o->cfg.policy), "param",
                  o->cfg.param > 0 ? o->cfg.param : ct_sim_default_param(o->cfg.policy), "hosts",
                  (json_int_t)o->cfg.n_hosts, "vms", (json_int_t)r->n_vms, "energy_kwh",
                  r->energy_kwh, "migrations", (json_int_t)r->migrations, "slatah", r->slatah,
                  "pdm", r->pdm, "slav", r->slav, "sla_overall", r->sla_overall, "vms_finished",
                  (json_int_t)r->n_finished, "vms_unplaced", (json_int_t)r->n_unplaced,
                  "mean_active_hosts", r->mean_active_hosts, "simulated_s", r->simulated_s);
    int rc;

    /* The policy's energy against what any policy would need at least. */
    json_object_set_new(doc, "energy_lower_bound_kwh", json_real(r->energy_lower_bound_kwh));
    json_object_set_new(
        doc, "energy_ratio_to_bound",
        json_real(r->energy_lower_bound_kwh > 0 ? r->energy_kwh / r->energy_lower_bound_kwh : 0));
    rc = cli_print_json(doc);
    json_decref(doc);
    return rc;
}

static void print_text(const struct sim_opts *o, const char *trace, const ct_sim_result *r)
{
    printf("trace       %s\n", trace);
    printf("VMs         %zu (%zu retired when their demand fell to 0", r->n_vms, r->n_finished);
    if (r->n_unplaced > 0)
        printf(", %zu could not be placed", r->n_unplaced);
    printf(")\n");
    printf("policy      %s (%g)\n", ct_sim_policy_name(o->cfg.policy),
           o->cfg.param > 0 ? o->cfg.param : ct_sim_default_param(o->cfg.policy));
    printf("hosts       %zu (%.1f active on average)\n", o->cfg.n_hosts, r->mean_active_hosts);
    printf("energy      %.2f kWh (lower bound %.2f kWh, %.2fx)\n", r->energy_kwh,
           r->energy_lower_bound_kwh,
           r->energy_lower_bound_kwh > 0 ? r->energy_kwh / r->energy_lower_bound_kwh : 0);
    printf("migrations  %llu\n", (unsigned long long)r->migrations);
    printf("SLATAH      %.2f %%\n", r->slatah * 100);
    printf("PDM         %.3f %%\n", r->pdm * 100);
    printf("SLAV        %.5f %%\n", r->slav * 100);
}

int cmd_sim(int argc, char **argv)
{
    struct sim_opts o;
    char trace_dir[PATH_MAX];
    ct_sim_trace *trace = NULL;
    ct_sim_result r;
    int rc = sim_parse(&o, argc, argv);

    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (resolve_trace(trace_dir, sizeof(trace_dir), o.trace) < 0) {
        fprintf(stderr, "catena sim: --trace: path too long\n");
        return CLI_USAGE;
    }
    if (ct_sim_trace_load(&trace, trace_dir) < 0) {
        fprintf(stderr, "catena sim: %s\n", ct_error_last());
        return CLI_USAGE;
    }
    if (ct_sim_run(&r, &o.cfg, trace) < 0) {
        fprintf(stderr, "catena sim: %s\n", ct_error_last());
        rc = ct_error_code() == CT_EINVAL ? CLI_USAGE : CLI_FAIL;
    } else if (o.json) {
        rc = print_json(&o, trace_dir, &r);
    } else {
        print_text(&o, trace_dir, &r);
    }
    ct_sim_trace_free(trace);
    return rc;
}
