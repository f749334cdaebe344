/* Fuzz target for the TOSCA front end: parses a YAML buffer as a template
 * (imports are refused: no reader), extracts the hosts, and when that works
 * writes it as concrete TOSCA and HOT. The concrete TOSCA of a template
 * must parse again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catena/tosca.h"
#include "catena/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int constrained(const ct_yaml_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (!d->items[i].warning && strstr(d->items[i].message, "does not satisfy") == NULL &&
            strstr(d->items[i].message, "has no property") == NULL)
            return 0;
    return 1;
}

/* Binds every Compute node to one made-up host and writes both outputs. */
static void write_out(const ct_tosca *t, const ct_tosca_host *hosts, size_t n)
{
    ct_tosca_binding *b = calloc(n ? n : 1, sizeof(*b));
    ct_yaml_diags d = {0};
    ct_tosca *again = NULL;
    char *out = NULL;

    if (b == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        b[i] = (ct_tosca_binding){t->nodes[hosts[i].node].name,
                                  "h: 1",
                                  "DC 1",
                                  "m",
                                  "x86_64",
                                  "f",
                                  1,
                                  (uint64_t)1 << 30,
                                  0};
    if (ct_tosca_emit_concrete(&out, t, b, n) == 0) {
        int rc = ct_tosca_parse(&again, &d, out, strlen(out), "concrete.yaml", NULL);
        /* Custom types may constrain or redefine what a host offers;
         * anything else that fails here is a writer bug. */
        if (rc < 0 && rc != CT_ENOMEM && !constrained(&d))
            abort();
        ct_tosca_free(again);
        ct_yaml_diags_free(&d);
        free(out);
    }
    if (ct_tosca_emit_hot(&out, t, b, n) == 0)
        free(out);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_tosca_input_value in[] = {{"cpus", "2"}};
    ct_tosca_opts opts = {in, 0, NULL, NULL};
    ct_yaml_diags d = {0};
    ct_tosca_host *hosts = NULL;
    ct_tosca *t = NULL;
    size_t n = 0;

    if (size > 0 && data[0] == '#')
        opts.n_inputs = 1; /* let some inputs exercise given values */
    if (ct_tosca_parse(&t, &d, (const char *)data, size, "fuzz.yaml", &opts) == 0) {
        if (ct_tosca_hosts(&hosts, &n, &d, t) == 0) {
            write_out(t, hosts, n);
            ct_tosca_hosts_free(hosts, n);
        }
        ct_tosca_free(t);
    } else if (d.errors == 0 && t == NULL && ct_error_code() != CT_ENOMEM) {
        abort(); /* a failure must say why */
    }
    ct_yaml_diags_free(&d);
    return 0;
}
