/* `catena migrate`: moves a running instance between two OpenStack clouds
 * as an XML spec says (seed 001), showing the nine steps on stderr, and
 * shows, resumes or resets the migrations kept in the state folder. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catena/cloud.h"
#include "catena/util.h"

struct opts {
    const char *clouds;
    const char *state;
    int timeout_ms;
    bool json;
    const ct_cloud_ledger *ledger; /* NULL without --to */
};

const char *cli_clouds_default(void)
{
    static char home[4096];
    const char *env = getenv("OS_CLIENT_CONFIG_FILE"), *h = getenv("HOME");

    if (env != NULL && *env != '\0')
        return env;
    if (access("clouds.yaml", R_OK) == 0)
        return "clouds.yaml";
    if (h != NULL) {
        snprintf(home, sizeof(home), "%s/.config/openstack/clouds.yaml", h);
        if (access(home, R_OK) == 0)
            return home;
    }
    if (access("/etc/openstack/clouds.yaml", R_OK) == 0)
        return "/etc/openstack/clouds.yaml";
    return NULL;
}

/* ---------------------------------------------------------------- the ledger through a gateway */

/* The ledger's part of a migration, through a gateway: tokens from the
 * federation file. */
struct gw {
    cli_gw gw;
    ct_cloud_gw hooks;
};

static const char *fed_token(const char *dc, void *payload)
{
    return cli_gw_token(payload, dc);
}

struct progress {
    int failed_step; /* -1: none */
};

static void on_progress(const char *id, int step, const char *what, const char *detail,
                        void *payload)
{
    struct progress *p = payload;

    (void)id;
    if (strcmp(what, "failed") == 0)
        p->failed_step = step;
    if (strcmp(what, "info") == 0)
        fprintf(stderr, "      %s\n", detail);
    else
        fprintf(stderr, "[%d/%d] %s: %s%s%s\n", step, CT_CLOUD_STEPS, ct_cloud_step_name(step),
                what, detail ? ": " : "", detail ? detail : "");
}

static int open_store(ct_cloud_mig **m, const struct opts *o)
{
    ct_cloud_mig_opts mo = {.clouds_yaml = o->clouds ? o->clouds : cli_clouds_default(),
                            .http_timeout_ms = o->timeout_ms};

    if (ct_cloud_mig_open(m, o->state, &mo) < 0) {
        fprintf(stderr, "catena migrate: %s\n", ct_error_last());
        return CLI_FAIL;
    }
    return CLI_OK;
}

static int show(ct_cloud_mig *m, const char *id, bool as_json)
{
    json_t *j = NULL;
    int rc = id ? ct_cloud_mig_get(&j, m, id) : ct_cloud_mig_list(&j, m);

    if (rc < 0) {
        fprintf(stderr, "catena migrate: %s\n", ct_error_last());
        return rc == CT_ENOTFOUND ? CLI_USAGE : CLI_FAIL;
    }
    if (as_json || id != NULL) {
        rc = cli_print_json(j);
    } else {
        size_t i;
        json_t *v;
        json_array_foreach (j, i, v)
            printf("%s  %-9s %lld/%d  %s\n", json_string_value(json_object_get(v, "id")),
                   json_string_value(json_object_get(v, "status")),
                   (long long)json_integer_value(json_object_get(v, "step")), CT_CLOUD_STEPS,
                   json_string_value(json_object_get(v, "name")));
    }
    json_decref(j);
    return rc;
}

/* Runs (or resumes) id. A failure in the checks before step 1 touched
 * nothing and is the input's fault: exit 2. */
static int run(ct_cloud_mig *m, const char *id, const struct opts *o)
{
    struct progress p = {-1};
    int rc;

    fprintf(stderr, "migration %s\n", id);
    rc = ct_cloud_mig_run(m, id, o->ledger, on_progress, &p);
    if (rc < 0)
        fprintf(stderr, "catena migrate: %s\n", ct_error_last());
    if (o->json)
        show(m, id, true);
    if (rc == 0)
        return CLI_OK;
    if (rc == CT_ESTATE || (rc == CT_ENOTFOUND && p.failed_step < 0))
        return CLI_USAGE;
    return p.failed_step == 0 && (rc == CT_EAUTH || rc == CT_ENOTFOUND || rc == CT_EINVAL ||
                                  rc == CT_EEXIST || rc == CT_EPARSE)
               ? CLI_USAGE
               : CLI_FAIL;
}

/* Reads and validates the spec, printing every finding. */
static int spec_read(char **xml, size_t *len, const char *spec)
{
    ct_cloud_spec *s = NULL;
    char *all = NULL;
    int rc;

    if (ct_file_read(xml, len, spec, CT_CLOUD_SPEC_MAX) < 0) {
        fprintf(stderr, "catena migrate: %s\n", ct_error_last());
        return CLI_USAGE;
    }
    rc = ct_cloud_spec_parse(&s, &all, *xml, *len, spec);
    ct_cloud_spec_free(s);
    if (rc == 0)
        return CLI_OK;
    fprintf(stderr, "catena migrate: %s\n", all ? all : ct_error_last());
    free(all);
    explicit_bzero(*xml, *len);
    free(*xml);
    *xml = NULL;
    return rc == CT_ENOMEM ? CLI_FAIL : CLI_USAGE;
}

static int start(ct_cloud_mig *m, char *xml, size_t len, const char *spec, const struct opts *o)
{
    char id[CT_CLOUD_MIG_ID_SIZE];
    int rc;

    rc = ct_cloud_mig_create(id, m, xml, len, spec);
    explicit_bzero(xml, len);
    free(xml);
    if (rc < 0) {
        fprintf(stderr, "catena migrate: %s\n", ct_error_last());
        return rc == CT_ENOMEM || rc == CT_EIO ? CLI_FAIL : CLI_USAGE;
    }
    return run(m, id, o);
}

static int reset(ct_cloud_mig *m, const char *id, const struct opts *o)
{
    struct progress p = {-1};
    int rc = ct_cloud_mig_reset(m, id, on_progress, &p);

    if (rc < 0)
        fprintf(stderr, "catena migrate: %s\n", ct_error_last());
    else
        fprintf(stderr, "migration %s reset\n", id);
    if (o->json)
        show(m, id, true);
    return rc == 0 ? CLI_OK : rc == CT_ENOTFOUND || rc == CT_ESTATE ? CLI_USAGE : CLI_FAIL;
}

/* Whole numbers of any size, as the ledger's price and invoice are. */
static bool is_number(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n > 0 && n <= 78 && s[n] == '\0';
}

struct args {
    struct opts o;
    struct gw g;
    const char *fed, *api, *spec, *verb, *id;
};

static int args_parse(struct args *a, const cli_cmd *self, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spec", required_argument, NULL, 's'},
        {"clouds", required_argument, NULL, 'c'},
        {"state", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"to", required_argument, NULL, 'T'},
        {"federation", required_argument, NULL, 'f'},
        {"api", required_argument, NULL, 'a'},
        {"price", required_argument, NULL, 'p'},
        {"invoice", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t ms = 0;
    int c;

    optind = 1;
    while ((c = cli_getopt_one(self, argc, argv, longopts, &a->id)) != -1) {
        switch (c) {
        case 's': a->spec = optarg; break;
        case 'c': a->o.clouds = optarg; break;
        case 'd': a->o.state = optarg; break;
        case 'j': a->o.json = true; break;
        case 'T': a->g.hooks.to = optarg; break;
        case 'f': a->fed = optarg; break;
        case 'a': a->api = optarg; break;
        case 'p': a->g.hooks.price = optarg; break;
        case 'i': a->g.hooks.invoice = optarg; break;
        case 't':
            if (ct_parse_uint(&ms, optarg, 3600000) < 0 || ms < 100)
                return cli_usage_error(self, "--timeout expects milliseconds, 100 to 3600000");
            a->o.timeout_ms = (int)ms;
            break;
        case 'h': cli_print_help(self); return -1;
        default: return CLI_USAGE;
        }
    }
    if (a->o.state == NULL || *a->o.state == '\0')
        a->o.state = "catena-migrations";
    if (a->verb == NULL && a->spec == NULL)
        return cli_usage_error(self, "expects --spec SPEC.xml, or status, resume or reset");
    if (a->verb != NULL && strcmp(a->verb, "status") != 0 && strcmp(a->verb, "resume") != 0 &&
        strcmp(a->verb, "reset") != 0)
        return cli_usage_error(self, "unknown verb '%s'", a->verb);
    if (a->verb != NULL && strcmp(a->verb, "status") != 0 && a->id == NULL)
        return cli_usage_error(self, "%s expects a migration ID", a->verb);
    if (!is_number(a->g.hooks.price) || !is_number(a->g.hooks.invoice))
        return cli_usage_error(self, "--price and --invoice expect whole numbers");
    if (a->g.hooks.to == NULL && (a->fed != NULL || a->api != NULL))
        return cli_usage_error(self, "--federation and --api need --to DC (cloud B's datacenter)");
    return CLI_OK;
}

static int dispatch(struct args *a)
{
    ct_cloud_mig *m = NULL;
    char *xml = NULL;
    size_t len = 0;
    int rc;

    /* A bad spec leaves nothing behind, not even the state folder. */
    if (a->verb == NULL && (rc = spec_read(&xml, &len, a->spec)) != CLI_OK)
        return rc;
    if ((rc = open_store(&m, &a->o)) != CLI_OK) {
        free(xml);
        return rc;
    }
    if (a->verb == NULL)
        rc = start(m, xml, len, a->spec, &a->o);
    else if (strcmp(a->verb, "status") == 0)
        rc = show(m, a->id, a->o.json);
    else if (strcmp(a->verb, "resume") == 0)
        rc = run(m, a->id, &a->o);
    else
        rc = reset(m, a->id, &a->o);
    ct_cloud_mig_close(m);
    return rc;
}

int cmd_migrate(int argc, char **argv)
{
    const cli_cmd *self = cli_find("migrate");
    struct args a = {.o.state = getenv("CATENA_MIGRATIONS"),
                     .g.hooks = {.token = fed_token, .price = "0", .invoice = "0"}};
    ct_cloud_ledger ledger;
    int rc;

    if (argc >= 2 && argv[1][0] != '-') {
        a.verb = argv[1];
        argc--;
        argv++;
    }
    if ((rc = args_parse(&a, self, argc, argv)) != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (a.g.hooks.to != NULL) {
        if (cli_gw_open(&a.g.gw, a.fed, a.api) < 0 ||
            (cli_gw_token(&a.g.gw, a.g.hooks.to) == NULL &&
             ct_error_set(CT_EINVAL, "no token of datacenter '%s' (--to) in the federation file",
                          a.g.hooks.to) < 0)) {
            cli_gw_close(&a.g.gw);
            return cli_bad_input("migrate", NULL, "%s", ct_error_last());
        }
        snprintf(a.g.hooks.api, sizeof(a.g.hooks.api), "%s", a.g.gw.api);
        a.g.hooks.payload = &a.g.gw;
        ct_cloud_gw_ledger(&ledger, &a.g.hooks);
        a.o.ledger = &ledger;
    }
    rc = dispatch(&a);
    cli_gw_close(&a.g.gw);
    return rc;
}
