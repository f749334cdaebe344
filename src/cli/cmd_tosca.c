/* `catena tosca check FILE [--json] [--input NAME=VALUE]...`: validates a
 * TOSCA template with its imports without placing it. A file that only
 * defines types is valid. Exit 0 (warnings on stderr), or 2 with each
 * error as file:line:column. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/util.h"

static json_t *diag_json(const ct_yaml_diag *e)
{
    json_t *o = json_pack("{s:s}", "message", e->message);

    if (o == NULL)
        abort();
    json_object_set_new(o, "file", e->file ? json_string(e->file) : json_null());
    json_object_set_new(o, "line", json_integer(e->line));
    json_object_set_new(o, "column", json_integer(e->column));
    return o;
}

/* The findings and, when valid, what the template holds. */
static json_t *report_json(const char *file, const ct_tosca *t, const ct_yaml_diags *d)
{
    json_t *errors = json_array(), *warnings = json_array(), *o;

    if (errors == NULL || warnings == NULL)
        abort();
    for (size_t i = 0; i < d->n; i++)
        json_array_append_new(d->items[i].warning ? warnings : errors, diag_json(&d->items[i]));
    o = json_pack("{s:s, s:b, s:o, s:o, s:I, s:I}", "file", file, "valid", t != NULL, "errors",
                  errors, "warnings", warnings, "error_count", (json_int_t)d->errors,
                  "warning_count", (json_int_t)d->warnings);
    if (o == NULL)
        abort();
    if (t == NULL)
        return o;
    json_t *files = json_array(), *nodes = json_array(), *inputs = json_array(),
           *outputs = json_array();
    if (files == NULL || nodes == NULL || inputs == NULL || outputs == NULL)
        abort();
    for (size_t i = 0; i < t->n_files; i++)
        json_array_append_new(files, json_string(t->files[i]));
    for (size_t i = 0; i < t->n_nodes; i++)
        json_array_append_new(nodes,
                              json_pack("{s:s, s:s, s:b}", "name", t->nodes[i].name, "type",
                                        t->nodes[i].type, "compute", t->nodes[i].is_compute));
    for (size_t i = 0; i < t->n_inputs; i++)
        json_array_append_new(inputs,
                              json_pack("{s:s, s:s, s:b}", "name", t->inputs[i].name, "type",
                                        t->inputs[i].type, "required", t->inputs[i].required));
    for (size_t i = 0; i < t->n_outputs; i++)
        json_array_append_new(outputs, json_string(t->outputs[i].name));
    json_object_set_new(o, "version", json_string(t->version));
    json_object_set_new(o, "files", files);
    json_object_set_new(o, "node_templates", nodes);
    json_object_set_new(o, "inputs", inputs);
    json_object_set_new(o, "outputs", outputs);
    return o;
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static int check(const char *file, bool as_json, const cli_inputs *in)
{
    ct_tosca_opts opts = {in->v, in->n, NULL, NULL};
    ct_yaml_diags d = {0};
    ct_tosca *t = NULL;
    int rc = ct_tosca_load(&t, &d, file, &opts);

    if (rc == CT_ENOMEM) {
        fprintf(stderr, "catena tosca check: %s\n", ct_error_last());
        ct_yaml_diags_free(&d);
        return CLI_FAIL;
    }
    if (as_json) {
        json_t *report = report_json(file, rc == 0 ? t : NULL, &d);
        if (rc < 0 && d.n == 0) /* a failure with no finding of its own */
            json_array_append_new(json_object_get(report, "errors"),
                                  json_pack("{s:s, s:s, s:i, s:i}", "message", ct_error_last(),
                                            "file", file, "line", 0, "column", 0));
        if (cli_print_json(report) != CLI_OK)
            rc = CT_ENOMEM;
        json_decref(report);
    } else {
        cli_print_tosca_diags("tosca check", &d);
        if (rc < 0 && d.n == 0)
            fprintf(stderr, "catena tosca check: %s\n", ct_error_last());
        if (rc == 0)
            printf("%s: valid (%s): %zu node template%s, %zu input%s, %zu output%s, %zu file%s, "
                   "%zu warning%s\n",
                   file, t->version, t->n_nodes, plural(t->n_nodes), t->n_inputs,
                   plural(t->n_inputs), t->n_outputs, plural(t->n_outputs), t->n_files,
                   plural(t->n_files), d.warnings, plural(d.warnings));
    }
    ct_tosca_free(t);
    ct_yaml_diags_free(&d);
    if (rc == CT_ENOMEM)
        return CLI_FAIL;
    return rc < 0 ? CLI_USAGE : CLI_OK;
}

int cmd_tosca(int argc, char **argv)
{
    const cli_cmd *self = cli_find("tosca");
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"input", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *file = NULL;
    cli_inputs in = {0};
    bool as_json = false;
    int c, rc = 0;

    if (argc < 2 || strcmp(argv[1], "check") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            cli_print_help(self);
            return CLI_OK;
        }
        return cli_usage_error(self, "expects 'check FILE'");
    }
    argc--;
    argv++;
    optind = 1;
    while (rc == 0 && (c = cli_getopt_one(self, argc, argv, longopts, &file)) != -1) {
        switch (c) {
        case 'j': as_json = true; break;
        case 'i': rc = cli_inputs_add(self, &in, optarg); break;
        case 'h':
            cli_print_help(self);
            cli_inputs_free(&in);
            return CLI_OK;
        default: rc = CLI_USAGE; break;
        }
    }
    if (rc == 0 && file == NULL)
        rc = cli_usage_error(self, "expects the template FILE");
    if (rc == 0)
        rc = check(file, as_json, &in);
    cli_inputs_free(&in);
    return rc;
}
