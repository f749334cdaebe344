/* `catena place APP.yaml --kb KB`: places the Compute nodes of a TOSCA
 * application on the hosts of a knowledge base by energy-aware ranking and
 * prints concrete TOSCA, a Heat template or JSON. `catena place binpack`
 * is dispatched to cmd_binpack.c. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/ledger.h"
#include "catena/place.h"
#include "catena/tosca.h"
#include "catena/util.h"

typedef enum place_format { FMT_TOSCA, FMT_HOT, FMT_JSON } place_format;

typedef struct place_args {
    const char *app;
    const char *kb;
    place_format format;
    bool objective_set;
    ct_place_objective objective;
    cli_inputs inputs;
    const char *constraints[16]; /* --constraint KEY=VALUE[|VALUE...] */
    size_t n_constraints;
    const char *federation; /* federation.json: the ledger the DCs' attributes are read from */
} place_args;

typedef struct place_run {
    ct_kb *kb;
    ct_tosca *t;
    ct_tosca_host *hosts;
    size_t n_hosts;
    ct_place_request *reqs;
    ct_place_choice *choices;
    ct_tosca_binding *bindings;
} place_run;

static int parse_format(const cli_cmd *self, place_args *a, const char *v)
{
    if (strcmp(v, "tosca") == 0)
        a->format = FMT_TOSCA;
    else if (strcmp(v, "hot") == 0)
        a->format = FMT_HOT;
    else if (strcmp(v, "json") == 0)
        a->format = FMT_JSON;
    else
        return cli_usage_error(self, "--format must be tosca, hot or json, not '%s'", v);
    return 0;
}

/* Returns: 0, -1 after printing help, or CLI_USAGE. */
static int parse_args(place_args *a, int argc, char **argv)
{
    const cli_cmd *self = cli_find("place");
    static const struct option longopts[] = {
        {"kb", required_argument, NULL, 'k'},
        {"format", required_argument, NULL, 'f'},
        {"input", required_argument, NULL, 'i'},
        {"objective", required_argument, NULL, 'o'},
        {"constraint", required_argument, NULL, 'C'},
        {"federation", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = cli_getopt_one(self, argc, argv, longopts, &a->app)) != -1) {
        switch (c) {
        case 'k': a->kb = optarg; break;
        case 'f':
            if (parse_format(self, a, optarg) != 0)
                return CLI_USAGE;
            break;
        case 'i':
            if (cli_inputs_add(self, &a->inputs, optarg) != 0)
                return CLI_USAGE;
            break;
        case 'o':
            if (ct_place_objective_parse(&a->objective, optarg) < 0)
                return cli_usage_error(self, "%s", ct_error_last());
            a->objective_set = true;
            break;
        case 'C':
            if (a->n_constraints == sizeof(a->constraints) / sizeof(a->constraints[0]))
                return cli_usage_error(self, "at most 16 --constraint");
            a->constraints[a->n_constraints++] = optarg;
            break;
        case 'F': a->federation = optarg; break;
        case 'h': cli_print_help(self); return -1;
        default: return CLI_USAGE;
        }
    }
    if (a->app == NULL)
        return cli_usage_error(self, "expects the application template APP.yaml");
    if (a->kb == NULL)
        return cli_usage_error(self, "--kb KB is required");
    return 0;
}

static int load_kb(place_run *r, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if ((rc = ct_file_read(&text, &len, path, CT_KB_MAX_TEXT)) < 0) {
        fprintf(stderr, "catena place: knowledge base %s: %s\n", path, ct_error_last());
        return CLI_USAGE;
    }
    rc = ct_kb_parse(&r->kb, text, len, path);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "catena place: knowledge base %s\n", ct_error_last());
        return rc == CT_ENOMEM ? CLI_FAIL : CLI_USAGE;
    }
    return 0;
}

/* Loads the template and what its Compute nodes need. */
static int load_app(place_run *r, const place_args *a)
{
    ct_tosca_opts opts = {a->inputs.v, a->inputs.n, NULL, NULL};
    ct_yaml_diags d = {0};
    size_t shown;
    int rc;

    rc = ct_tosca_load(&r->t, &d, a->app, &opts);
    if (rc == 0)
        rc = ct_tosca_hosts(&r->hosts, &r->n_hosts, &d, r->t);
    cli_print_tosca_diags("place", &d);
    shown = d.n;
    ct_yaml_diags_free(&d);
    if (rc == CT_ENOMEM) {
        fprintf(stderr, "catena place: %s\n", ct_error_last());
        return CLI_FAIL;
    }
    if (rc < 0) {
        if (shown == 0)
            fprintf(stderr, "catena place: %s\n", ct_error_last());
        return CLI_USAGE;
    }
    if (r->n_hosts == 0) {
        fprintf(stderr, "catena place: %s has no Compute node template to place\n", a->app);
        return CLI_USAGE;
    }
    return 0;
}

/* --constraint: excludes the KB's DCs that are not registered on the
 * federation's ledger, or whose declared attributes there do not satisfy
 * the constraints (as an agreement's bindService would refuse them). */
static int apply_constraints(place_run *r, const place_args *a)
{
    const char *file = a->federation ? a->federation : "catena-up/federation.json";
    json_t *keys = json_array(), *values = json_array(), *fed = NULL;
    ct_ledger *l = NULL;
    ct_rpc *rpc = NULL;
    ct_address contract;
    char *text = NULL;
    size_t usable = 0;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < a->n_constraints; i++)
        if (ct_ledger_constraint_parse(keys, values, a->constraints[i], 16) < 0)
            rc = cli_usage_error(cli_find("place"), "--constraint: %s", ct_error_last());
    if (rc == 0 && a->n_constraints > 0) {
        if (ct_file_read(&text, NULL, file, 1 << 20) < 0 ||
            ct_json_parse(&fed, text, strlen(text), 16) < 0 ||
            ct_address_parse(&contract, json_string_value(json_object_get(fed, "contract")) ?: "") <
                0 ||
            !json_is_string(json_object_get(fed, "rpc_url"))) {
            fprintf(stderr,
                    "catena place: --constraint reads the DCs' attributes from the ledger of "
                    "--federation FILE (federation.json; default %s): %s\n",
                    file, ct_error_last());
            rc = CLI_USAGE;
        } else if (ct_ledger_open(&l) < 0 ||
                   ct_rpc_new(&rpc, json_string_value(json_object_get(fed, "rpc_url")), 10000) <
                       0) {
            fprintf(stderr, "catena place: %s\n", ct_error_last());
            rc = CLI_FAIL;
        }
    }
    for (size_t i = 0; rc == 0 && a->n_constraints > 0 && i < r->kb->n_dcs; i++) {
        ct_kb_dc *dc = &r->kb->dcs[i];
        json_t *attrs = NULL;
        ct_address wallet;
        int got = ct_ledger_dc_by_name(l, rpc, &wallet, &contract, dc->name);
        if (got == 0)
            got = ct_ledger_dc_attributes(l, rpc, &attrs, &contract, &wallet);
        if (got < 0 && got != CT_ENOTFOUND) {
            fprintf(stderr, "catena place: reading %s's attributes: %s\n", dc->name,
                    ct_error_last());
            rc = CLI_FAIL;
        } else {
            dc->excluded = got == CT_ENOTFOUND || !ct_ledger_attrs_satisfy(attrs, keys, values);
            if (dc->excluded)
                fprintf(stderr, "catena place: datacenter %s excluded: %s\n", dc->name,
                        got == CT_ENOTFOUND ? "not registered on the ledger"
                                            : "its attributes do not satisfy the constraints");
            usable += !dc->excluded;
        }
        ct_error_clear();
        json_decref(attrs);
    }
    if (rc == 0 && a->n_constraints > 0 && usable == 0) {
        fprintf(stderr, "catena place: no datacenter satisfies the constraints\n");
        rc = CLI_FAIL;
    }
    ct_rpc_free(rpc);
    ct_ledger_free(l);
    json_decref(fed);
    json_decref(keys);
    json_decref(values);
    free(text);
    return rc;
}

/* Ranks and places every Compute node; fills the bindings. */
static int plan(place_run *r, ct_place_objective objective)
{
    size_t n = r->n_hosts;

    r->reqs = calloc(n, sizeof(*r->reqs));
    r->choices = calloc(n, sizeof(*r->choices));
    r->bindings = calloc(n, sizeof(*r->bindings));
    if (r->reqs == NULL || r->choices == NULL || r->bindings == NULL) {
        fprintf(stderr, "catena place: out of memory\n");
        return CLI_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        const ct_tosca_host *h = &r->hosts[i];
        ct_place_request *q = &r->reqs[i];
        q->name = r->t->nodes[h->node].name;
        q->tag = h->tag;
        q->arch = h->arch;
        q->vcpus = h->num_cpus > 0 ? (unsigned)h->num_cpus : 1;
        q->ram = h->mem_size;
        q->disk = h->disk_size;
        q->load = h->load;
        if (q->tag != NULL && ct_kb_tag_find(r->kb, q->tag) == NULL)
            fprintf(stderr,
                    "catena place: warning: %s: tag %s is not in the knowledge base; "
                    "using its \"default\" tag\n",
                    q->name, q->tag);
    }
    if (ct_place_plan(r->choices, r->kb, r->reqs, n, objective) < 0) {
        fprintf(stderr, "catena place: %s\n", ct_error_last());
        return CLI_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        const ct_place_choice *c = &r->choices[i];
        const ct_kb_host *host = &r->kb->hosts[c->best.host];
        const ct_kb_flavor *fl = &r->kb->flavors[c->flavor];
        r->bindings[i] = (ct_tosca_binding){r->reqs[i].name,
                                            host->name,
                                            r->kb->dcs[host->dc].name,
                                            r->kb->models[host->model].name,
                                            r->kb->models[host->model].arch,
                                            fl->name,
                                            fl->vcpus,
                                            fl->ram,
                                            fl->disk};
    }
    return 0;
}

static int put(json_t *obj, const char *key, json_t *v)
{
    return v == NULL || json_object_set_new(obj, key, v) < 0 ? -1 : 0;
}

static json_t *placement_json(const place_run *r, size_t i)
{
    const ct_tosca_host *h = &r->hosts[i];
    const ct_place_choice *c = &r->choices[i];
    const ct_tosca_binding *b = &r->bindings[i];
    json_t *o = json_object(), *comps = json_array();

    for (size_t k = 0; comps && k < h->n_components; k++)
        if (json_array_append_new(comps, json_string(r->t->nodes[h->components[k]].name)) < 0)
            break;
    if (o == NULL || put(o, "node", json_string(b->node)) < 0 ||
        put(o, "host", json_string(b->host)) < 0 || put(o, "datacenter", json_string(b->dc)) < 0 ||
        put(o, "model", json_string(b->model)) < 0 ||
        put(o, "architecture", json_string(b->arch)) < 0 ||
        put(o, "flavor", json_string(b->flavor)) < 0 ||
        put(o, "vcpus", json_integer(b->vcpus)) < 0 ||
        put(o, "ram_bytes", json_integer((json_int_t)b->ram)) < 0 ||
        put(o, "disk_bytes", json_integer((json_int_t)b->disk)) < 0 ||
        put(o, "tag", h->tag ? json_string(h->tag) : json_null()) < 0 ||
        put(o, "required_architecture", h->arch ? json_string(h->arch) : json_null()) < 0 ||
        put(o, "architecture_forced", json_boolean(h->arch_forced)) < 0 ||
        put(o, "load", json_real(c->load)) < 0 ||
        put(o, "performance_factor", json_real(c->best.factor)) < 0 ||
        put(o, "utilisation_before", json_real(c->best.util_before)) < 0 ||
        put(o, "utilisation_after", json_real(c->best.util_after)) < 0 ||
        put(o, "delta_watts", json_real(c->best.delta_watts)) < 0 ||
        put(o, "score", json_real(c->best.score)) < 0 ||
        put(o, "feasible_hosts", json_integer((json_int_t)c->n_feasible)) < 0 ||
        put(o, "components", comps) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int print_json(const place_run *r, const place_args *a, ct_place_objective objective)
{
    json_t *root = json_object(), *list = json_array();
    double watts = 0, score = 0;
    char *text = NULL;
    int rc = CLI_FAIL;

    if (root == NULL || put(root, "template", json_string(a->app)) < 0 ||
        put(root, "objective", json_string(ct_place_objective_name(objective))) < 0 ||
        put(root, "placements", list) < 0)
        goto done;
    for (size_t i = 0; i < r->n_hosts; i++) {
        if (json_array_append_new(list, placement_json(r, i)) < 0)
            goto done;
        watts += r->choices[i].best.delta_watts;
        score += r->choices[i].best.score;
    }
    if (put(root, "total_delta_watts", json_real(watts)) < 0 ||
        put(root, "total_score", json_real(score)) < 0)
        goto done;
    if ((text = ct_json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL)
        goto done;
    printf("%s\n", text);
    rc = CLI_OK;
done:
    if (rc != CLI_OK)
        fprintf(stderr, "catena place: out of memory\n");
    free(text);
    json_decref(root);
    return rc;
}

static int print_output(const place_run *r, const place_args *a, ct_place_objective objective)
{
    char *text = NULL;
    int rc;

    if (a->format == FMT_JSON)
        return print_json(r, a, objective);
    if (a->format == FMT_HOT)
        rc = ct_tosca_emit_hot(&text, r->t, r->bindings, r->n_hosts);
    else
        rc = ct_tosca_emit_concrete(&text, r->t, r->bindings, r->n_hosts);
    if (rc < 0) {
        fprintf(stderr, "catena place: %s\n", ct_error_last());
        return CLI_FAIL;
    }
    fputs(text, stdout);
    free(text);
    return CLI_OK;
}

static void run_free(place_run *r, place_args *a)
{
    ct_kb_free(r->kb);
    ct_tosca_free(r->t);
    ct_tosca_hosts_free(r->hosts, r->n_hosts);
    free(r->reqs);
    free(r->choices);
    free(r->bindings);
    cli_inputs_free(&a->inputs);
}

int cmd_place(int argc, char **argv)
{
    place_args a;
    place_run r;
    int rc;

    if (argc >= 2 && strcmp(argv[1], "binpack") == 0)
        return cmd_place_binpack(argc - 1, argv + 1);
    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    if ((rc = parse_args(&a, argc, argv)) != 0)
        goto done;
    if ((rc = load_kb(&r, a.kb)) != 0 || (rc = load_app(&r, &a)) != 0 ||
        (rc = apply_constraints(&r, &a)) != 0)
        goto done;
    if (!a.objective_set)
        a.objective = r.kb->objective;
    if ((rc = plan(&r, a.objective)) == 0)
        rc = print_output(&r, &a, a.objective);
done:
    run_free(&r, &a);
    return rc < 0 ? CLI_OK : rc;
}
