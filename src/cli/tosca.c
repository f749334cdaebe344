/* What commands that read TOSCA templates share: --input NAME=VALUE and
 * printing a template's findings. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_inputs_add(const cli_cmd *cmd, cli_inputs *in, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char *copy;

    if (eq == NULL || eq == arg)
        return cli_usage_error(cmd, "--input takes NAME=VALUE, not '%s'", arg);
    if (in->n == CLI_MAX_INPUTS)
        return cli_usage_error(cmd, "at most %d --input options", CLI_MAX_INPUTS);
    if ((copy = strdup(arg)) == NULL)
        return cli_usage_error(cmd, "out of memory");
    copy[eq - arg] = '\0';
    in->text[in->n] = copy;
    in->v[in->n].name = copy;
    in->v[in->n].value = copy + (eq - arg) + 1;
    in->n++;
    return 0;
}

void cli_inputs_free(cli_inputs *in)
{
    for (size_t i = 0; i < in->n; i++)
        free(in->text[i]);
    in->n = 0;
}

void cli_print_tosca_diags(const char *who, const ct_yaml_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        const ct_yaml_diag *e = &d->items[i];
        if (e->file != NULL && e->line > 0)
            fprintf(stderr, "%s:%u:%u: ", e->file, e->line, e->column);
        else if (e->file != NULL)
            fprintf(stderr, "%s: ", e->file);
        fprintf(stderr, "%s: %s\n", e->warning ? "warning" : "error", e->message);
    }
    if (d->n < d->errors + d->warnings)
        fprintf(stderr, "catena %s: %zu more findings not shown\n", who,
                d->errors + d->warnings - d->n);
}
