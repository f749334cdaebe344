/* From a loaded template to what placement needs: each Compute node
 * template with its resolved host capabilities, required architecture,
 * workload tag and predicted load, and the components hosted on it. */
#include "tosca_int.h"

#include "catena/place.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hosts_ctx {
    const ct_tosca *t;
    ct_yaml_diags *diags;
    int rc;
} hosts_ctx;

static void herr(hosts_ctx *h, const ct_tosca_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int diag_msg(ct_yaml_diags *d, const ct_tosca_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int diag_msg(ct_yaml_diags *d, const ct_tosca_loc *loc, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = ct_yaml_diag_add(d, false, loc->file, loc->line, loc->column, fmt, ap);
    va_end(ap);
    return rc;
}

/* Reports a problem with node n; the first one also becomes the error
 * message. */
static void herr(hosts_ctx *h, const ct_tosca_node *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (h->rc == 0) {
        h->rc = CT_EINVAL;
        ct_error_set(CT_EINVAL, "%s:%u:%u: %s", n->loc.file ? n->loc.file : "-", n->loc.line,
                     n->loc.column, msg);
    }
    if (h->diags != NULL && diag_msg(h->diags, &n->loc, "%s", msg) < 0)
        h->rc = CT_ENOMEM;
}

/* Follows get_input. Returns: the value (borrowed), or NULL after reporting. */
static const json_t *resolve(hosts_ctx *h, const ct_tosca_node *n, const json_t *v,
                             const char *what)
{
    const json_t *out;
    const char *name;
    int rc = ct_tosca_value_resolve(&out, &name, h->t, v);

    if (rc == CT_EINVAL)
        herr(h, n, "node template %s: %s must be a value or get_input", n->name, what);
    else if (rc < 0)
        herr(h, n, "node template %s: %s names unknown input %s", n->name, what, name);
    else if (out == NULL)
        herr(h, n,
             "node template %s: %s needs input %s, which has no value (give one "
             "with --input %s=VALUE)",
             n->name, what, name, name);
    return out;
}

static const json_t *cap_prop(const ct_tosca_node *n, const char *cap, const char *prop)
{
    return json_object_get(json_object_get(json_object_get(n->capabilities, cap), "properties"),
                           prop);
}

static void read_size(hosts_ctx *h, const ct_tosca_node *n, const char *prop, uint64_t *out)
{
    const json_t *v = cap_prop(n, "host", prop);
    double bytes;

    if (v == NULL || (v = resolve(h, n, v, prop)) == NULL)
        return;
    if (!json_is_string(v) ||
        ct_tosca_scalar_unit(&bytes, json_string_value(v), CT_TOSCA_UNIT_SIZE) < 0 ||
        !(bytes >= 0 && bytes < 1.8e19)) {
        herr(h, n, "node template %s: %s is not a size such as \"4 GB\"", n->name, prop);
        return;
    }
    *out = (uint64_t)ceil(bytes);
}

static void read_cpus(hosts_ctx *h, const ct_tosca_node *n, int64_t *out)
{
    const json_t *v = cap_prop(n, "host", "num_cpus");
    char *end;

    if (v == NULL || (v = resolve(h, n, v, "num_cpus")) == NULL)
        return;
    if (json_is_string(v)) /* an input of type string */
        *out = strtoll(json_string_value(v), &end, 10);
    else
        *out = json_is_integer(v) ? json_integer_value(v) : -1;
    if (*out < 1 || *out > 4096 || (json_is_string(v) && *end != '\0')) {
        herr(h, n, "node template %s: num_cpus must be an integer from 1 to 4096", n->name);
        *out = 0;
    }
}

static const char *meta(const ct_tosca_node *n, const char *key)
{
    return json_string_value(json_object_get(n->metadata, key));
}

/* Reads catena.load of n into *load (left alone when absent). */
static void read_load(hosts_ctx *h, const ct_tosca_node *n, double *load)
{
    const char *s = meta(n, "catena.load");
    char *end;
    double v;

    if (s == NULL)
        return;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v > 0.0 && v <= 1.0)) {
        herr(h, n, "node template %s: catena.load must be a number in (0, 1]", n->name);
        return;
    }
    *load = v;
}

/* Merges one node's architecture and tag into the host's. */
static void merge(hosts_ctx *h, ct_tosca_host *host, const ct_tosca_node *n, bool is_compute)
{
    const ct_tosca_node *compute = &h->t->nodes[host->node];
    const char *arch = meta(n, "catena.arch"), *tag = meta(n, "catena.tag");

    if (arch != NULL) {
        if (host->arch != NULL && !ct_place_arch_same(host->arch, arch))
            herr(h, n,
                 "node template %s: catena.arch %s contradicts architecture %s required "
                 "on %s",
                 n->name, arch, host->arch, compute->name);
        host->arch = arch;
        host->arch_forced = true;
    }
    if (tag == NULL)
        return;
    if (is_compute) {
        host->tag = tag;
        return;
    }
    if (meta(compute, "catena.tag") != NULL)
        return; /* the Compute node decides */
    if (host->tag == NULL)
        host->tag = tag;
    else if (strcmp(host->tag, tag) != 0)
        herr(h, n,
             "node template %s: catena.tag %s differs from %s on another component of %s; "
             "put catena.tag on %s to decide",
             n->name, tag, host->tag, compute->name, compute->name);
}

static void read_compute(hosts_ctx *h, ct_tosca_host *host, size_t idx)
{
    const ct_tosca_node *n = &h->t->nodes[idx];
    const json_t *arch = cap_prop(n, "os", "architecture");

    memset(host, 0, sizeof(*host));
    host->node = idx;
    host->load = -1.0;
    read_cpus(h, n, &host->num_cpus);
    read_size(h, n, "mem_size", &host->mem_size);
    read_size(h, n, "disk_size", &host->disk_size);
    if (arch != NULL && (arch = resolve(h, n, arch, "architecture")) != NULL) {
        if (json_is_string(arch))
            host->arch = json_string_value(arch);
        else
            herr(h, n, "node template %s: architecture must be a string", n->name);
    }
    merge(h, host, n, true);
    read_load(h, n, &host->load);
}

/* Returns: the index of the Compute node n ends up on, SIZE_MAX if none. */
static size_t compute_of(hosts_ctx *h, size_t n)
{
    const ct_tosca *t = h->t;

    for (size_t hops = 0; hops <= t->n_nodes; hops++) {
        if (t->nodes[n].is_compute)
            return n;
        if ((n = t->nodes[n].host) == SIZE_MAX)
            return SIZE_MAX;
    }
    herr(h, &t->nodes[n], "node template %s: its host requirements form a cycle", t->nodes[n].name);
    return SIZE_MAX;
}

static int add_component(ct_tosca_host *host, size_t node)
{
    size_t *v = realloc(host->components, (host->n_components + 1) * sizeof(*v));

    if (v == NULL)
        return ct_error_set(CT_ENOMEM, "tosca: out of memory");
    host->components = v;
    v[host->n_components++] = node;
    return 0;
}

/* Attaches every hosted component to its Compute node. */
static int attach(hosts_ctx *h, ct_tosca_host *hosts, const size_t *slot)
{
    for (size_t i = 0; i < h->t->n_nodes; i++) {
        const ct_tosca_node *n = &h->t->nodes[i];
        size_t c;
        double load = -1.0;
        if (n->is_compute || (c = compute_of(h, i)) == SIZE_MAX)
            continue;
        ct_tosca_host *host = &hosts[slot[c]];
        if (add_component(host, i) < 0)
            return CT_ENOMEM;
        merge(h, host, n, false);
        read_load(h, n, &load);
        /* Components share their VM's vCPUs: their loads add up, unless
         * the Compute node says otherwise. */
        if (load > 0 && meta(&h->t->nodes[c], "catena.load") == NULL)
            host->load = fmin(1.0, (host->load > 0 ? host->load : 0.0) + load);
    }
    return 0;
}

void ct_tosca_hosts_free(ct_tosca_host *hosts, size_t n)
{
    for (size_t i = 0; hosts != NULL && i < n; i++)
        free(hosts[i].components);
    free(hosts);
}

int ct_tosca_hosts(ct_tosca_host **out, size_t *out_n, ct_yaml_diags *diags, const ct_tosca *t)
{
    hosts_ctx h = {t, diags, 0};
    ct_tosca_host *hosts = NULL;
    size_t *slot = NULL, n = 0;
    int rc = CT_ENOMEM;

    *out = NULL;
    *out_n = 0;
    hosts = calloc(t->n_nodes ? t->n_nodes : 1, sizeof(*hosts));
    slot = calloc(t->n_nodes ? t->n_nodes : 1, sizeof(*slot));
    if (hosts == NULL || slot == NULL) {
        ct_error_set(CT_ENOMEM, "tosca: out of memory");
        goto done;
    }
    for (size_t i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].is_compute) {
            slot[i] = n;
            read_compute(&h, &hosts[n++], i);
        }
    if ((rc = attach(&h, hosts, slot)) < 0)
        goto done;
    if ((rc = h.rc) < 0)
        goto done;
    *out = hosts;
    *out_n = n;
    hosts = NULL;
done:
    ct_tosca_hosts_free(hosts, n);
    free(slot);
    return rc;
}
