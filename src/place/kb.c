/* The placement knowledge base: workload tags with their preferred
 * architectures, flavours, host models with power curves, data centres
 * with energy price and carbon intensity, and hosts with their current
 * load. Parsed from YAML or JSON text (no I/O). */
#include "catena/place.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "catena/tosca.h" /* scalar units ("4 GB") */
#include "catena/util.h"
#include "catena/yaml.h"

#define KB_MAX_ITEMS 1000000

typedef struct kb_ctx {
    ct_yaml_reader c;
    ct_kb *kb;
} kb_ctx;

static const char *const kb_keys[] = {"catena_kb",
                                      "description",
                                      "reference_mips",
                                      "default_load",
                                      "max_utilisation",
                                      "cpu_overcommit",
                                      "objective",
                                      "tags",
                                      "flavors",
                                      "models",
                                      "datacenters",
                                      "hosts",
                                      NULL};
static const char *const tag_keys[] = {"description", "load", "architectures", NULL};
static const char *const flavor_keys[] = {"description", "vcpus", "ram", "disk", NULL};
static const char *const model_keys[] = {"description", "architecture", "cores", "mips_per_core",
                                         "ram",         "disk",         "power", NULL};
static const char *const dc_keys[] = {"description", "energy_price", "carbon_intensity", "pue",
                                      NULL};
static const char *const host_keys[] = {"name", "description", "model",   "datacenter",
                                        "load", "used",        "powered", NULL};
static const char *const used_keys[] = {"vcpus", "ram", "disk", NULL};

/* ---------------------------------------------------------------- architectures */

const char *ct_place_arch_canonical(const char *arch)
{
    static const struct {
        const char *alias;
        const char *name;
    } aliases[] = {{"x86_64", "x86_64"},   {"amd64", "x86_64"},    {"x86-64", "x86_64"},
                   {"x64", "x86_64"},      {"aarch64", "aarch64"}, {"arm64", "aarch64"},
                   {"ppc64le", "ppc64le"}, {"riscv64", "riscv64"}, {"s390x", "s390x"},
                   {"i686", "i686"},       {"armv7l", "armv7l"}};

    for (size_t i = 0; arch != NULL && i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (strcasecmp(arch, aliases[i].alias) == 0)
            return aliases[i].name;
    return arch;
}

bool ct_place_arch_same(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    return strcasecmp(ct_place_arch_canonical(a), ct_place_arch_canonical(b)) == 0;
}

/* ---------------------------------------------------------------- scalars */

static int kb_number(kb_ctx *k, double *out, struct fy_node *n, const char *what, double lo,
                     double hi, bool lo_open)
{
    const char *s = ct_yaml_scalar(n);
    char *end;
    double v;

    if (s == NULL || ct_yaml_is_null(n))
        return ct_yaml_err(&k->c, n, "%s must be a number", what);
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        return ct_yaml_err(&k->c, n, "%s: \"%s\" is not a number", what, s);
    if (v < lo || v > hi || (lo_open && v == lo))
        return ct_yaml_err(&k->c, n, "%s: %g is out of range (%s%g .. %g]", what, v,
                           lo_open ? "" : "[", lo, hi);
    *out = v;
    return 0;
}

static int kb_count(kb_ctx *k, unsigned *out, struct fy_node *n, const char *what, unsigned lo)
{
    double v;
    int rc = kb_number(k, &v, n, what, lo, 1048576, false);

    if (rc < 0)
        return rc;
    if (v != floor(v))
        return ct_yaml_err(&k->c, n, "%s must be a whole number", what);
    *out = (unsigned)v;
    return 0;
}

static int kb_size(kb_ctx *k, uint64_t *out, struct fy_node *n, const char *what)
{
    const char *s = ct_yaml_scalar(n);
    double v;

    if (s == NULL || ct_tosca_scalar_unit(&v, s, CT_TOSCA_UNIT_SIZE) < 0)
        return ct_yaml_err(&k->c, n, "%s must be a size with a unit, such as \"64 GiB\"", what);
    if (v >= 1.8e19)
        return ct_yaml_err(&k->c, n, "%s is too large", what);
    *out = (uint64_t)ceil(v);
    return 0;
}

static int kb_bool(kb_ctx *k, bool *out, struct fy_node *n, const char *what)
{
    const char *s = ct_yaml_scalar(n);

    if (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
        *out = s[0] == 't';
        return 0;
    }
    return ct_yaml_err(&k->c, n, "%s must be true or false", what);
}

static int kb_string(kb_ctx *k, char **out, struct fy_node *n, const char *what)
{
    if (n == NULL || ct_yaml_is_null(n))
        return ct_yaml_err(&k->c, n, "%s is missing", what);
    return ct_yaml_strdup(&k->c, out, n, what);
}

/* Checks that n is a map (or a list when want_seq) of at most KB_MAX_ITEMS. */
static int kb_collection(kb_ctx *k, struct fy_node *n, const char *what, bool want_seq,
                         size_t *count)
{
    struct fy_node *d = ct_yaml_deref(n);

    *count = 0;
    if (ct_yaml_is_null(n))
        return 0;
    if (want_seq ? !fy_node_is_sequence(d) : !fy_node_is_mapping(d))
        return ct_yaml_err(&k->c, n, "%s must be a %s", what, want_seq ? "list" : "map");
    *count = (size_t)(want_seq ? fy_node_sequence_item_count(d) : fy_node_mapping_item_count(d));
    if (*count > KB_MAX_ITEMS)
        return ct_yaml_err(&k->c, n, "%s has more than %d entries", what, KB_MAX_ITEMS);
    return 0;
}

static int check_keys(kb_ctx *k, struct fy_node *n, const char *what, const char *const *keys)
{
    if (!ct_yaml_is_map(n))
        return ct_yaml_err(&k->c, n, "%s must be a map", what);
    if (ct_yaml_check_keys(&k->c, n, what, keys) != 0)
        return k->c.nomem ? CT_ENOMEM : CT_EPARSE;
    return 0;
}

/* ---------------------------------------------------------------- tags */

static int read_prefs(kb_ctx *k, ct_kb_tag *tag, struct fy_node *n, const char *what)
{
    struct fy_node *d = ct_yaml_deref(n);
    bool seq = ct_yaml_is_seq(n);
    size_t count;
    void *it = NULL;
    int rc;

    if ((rc = kb_collection(k, n, what, seq, &count)) < 0)
        return rc;
    if (count == 0)
        return ct_yaml_err(&k->c, n, "%s: list at least one architecture", what);
    if ((tag->prefs = calloc(count, sizeof(*tag->prefs))) == NULL)
        return ct_yaml_nomem(&k->c);
    for (size_t i = 0; i < count; i++) {
        ct_kb_pref *p = &tag->prefs[tag->n_prefs++];
        struct fy_node *name, *factor = NULL;
        if (seq) {
            name = fy_node_sequence_iterate(d, &it);
        } else {
            struct fy_node_pair *pair = fy_node_mapping_iterate(d, &it);
            name = fy_node_pair_key(pair);
            factor = fy_node_pair_value(pair);
        }
        p->factor = 1.0;
        if ((rc = kb_string(k, &p->arch, name, what)) < 0 ||
            (factor && (rc = kb_number(k, &p->factor, factor, what, 0.0, 100.0, true)) < 0))
            return rc;
        const char *canon = ct_place_arch_canonical(p->arch);
        if (canon != p->arch) {
            char *c = strdup(canon);
            if (c == NULL)
                return ct_yaml_nomem(&k->c);
            free(p->arch);
            p->arch = c;
        }
    }
    return 0;
}

static int read_tag(ct_yaml_reader *c, const char *key, struct fy_node *kn, struct fy_node *v,
                    void *arg)
{
    kb_ctx *k = arg;
    ct_kb_tag *tag = &k->kb->tags[k->kb->n_tags++];
    char what[200];
    struct fy_node *n;
    int rc;

    (void)c;
    (void)kn;
    snprintf(what, sizeof(what), "tag %s", key);
    tag->load = -1.0;
    if ((tag->name = strdup(key)) == NULL)
        return ct_yaml_nomem(&k->c);
    if (ct_yaml_is_null(v))
        return 0; /* any architecture, default load */
    if ((rc = check_keys(k, v, what, tag_keys)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "load")) != NULL &&
        (rc = kb_number(k, &tag->load, n, what, 0.0, 1.0, true)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "architectures")) == NULL)
        return 0; /* any architecture, factor 1 */
    return read_prefs(k, tag, n, what);
}

/* ---------------------------------------------------------------- flavours, models, DCs */

static int read_flavor(ct_yaml_reader *c, const char *key, struct fy_node *kn, struct fy_node *v,
                       void *arg)
{
    kb_ctx *k = arg;
    ct_kb_flavor *f = &k->kb->flavors[k->kb->n_flavors++];
    char what[200];
    struct fy_node *n;
    int rc;

    (void)c;
    (void)kn;
    snprintf(what, sizeof(what), "flavor %s", key);
    if ((f->name = strdup(key)) == NULL)
        return ct_yaml_nomem(&k->c);
    if ((rc = check_keys(k, v, what, flavor_keys)) < 0 ||
        (rc = kb_count(k, &f->vcpus, ct_yaml_get(v, "vcpus"), "vcpus", 1)) < 0 ||
        (rc = kb_size(k, &f->ram, ct_yaml_get(v, "ram"), "ram")) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "disk")) != NULL && (rc = kb_size(k, &f->disk, n, "disk")) < 0)
        return rc;
    return 0;
}

static int read_power(kb_ctx *k, ct_power_curve *pc, struct fy_node *n, const char *what)
{
    struct fy_node *d = ct_yaml_deref(n), *item;
    void *it = NULL;
    int i = 0, rc;

    if (!ct_yaml_is_seq(n) || fy_node_sequence_item_count(d) != CT_POWER_POINTS)
        return ct_yaml_err(&k->c, n ? n : NULL,
                           "%s: power is a list of %d watt figures (0 %%, 10 %%, ... 100 %% "
                           "load)",
                           what, CT_POWER_POINTS);
    while ((item = fy_node_sequence_iterate(d, &it)) != NULL)
        if ((rc = kb_number(k, &pc->watts[i++], item, "power", 0.0, 1e6, false)) < 0)
            return rc;
    if (ct_power_curve_check(pc) < 0)
        return ct_yaml_err(&k->c, n, "%s: %s", what, ct_error_last());
    return 0;
}

static int read_model(ct_yaml_reader *c, const char *key, struct fy_node *kn, struct fy_node *v,
                      void *arg)
{
    kb_ctx *k = arg;
    ct_kb_model *m = &k->kb->models[k->kb->n_models++];
    char what[200], *canon;
    struct fy_node *n;
    int rc;

    (void)c;
    (void)kn;
    snprintf(what, sizeof(what), "model %s", key);
    if ((m->name = strdup(key)) == NULL)
        return ct_yaml_nomem(&k->c);
    if ((rc = check_keys(k, v, what, model_keys)) < 0 ||
        (rc = kb_string(k, &m->arch, ct_yaml_get(v, "architecture"), "architecture")) < 0 ||
        (rc = kb_count(k, &m->cores, ct_yaml_get(v, "cores"), "cores", 1)) < 0 ||
        (rc = kb_number(k, &m->mips_per_core, ct_yaml_get(v, "mips_per_core"), "mips_per_core", 0.0,
                        1e9, true)) < 0 ||
        (rc = kb_size(k, &m->ram, ct_yaml_get(v, "ram"), "ram")) < 0 ||
        (rc = read_power(k, &m->power, ct_yaml_get(v, "power"), what)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "disk")) != NULL && (rc = kb_size(k, &m->disk, n, "disk")) < 0)
        return rc;
    if ((canon = strdup(ct_place_arch_canonical(m->arch))) == NULL)
        return ct_yaml_nomem(&k->c);
    free(m->arch);
    m->arch = canon;
    return 0;
}

static int read_dc(ct_yaml_reader *c, const char *key, struct fy_node *kn, struct fy_node *v,
                   void *arg)
{
    kb_ctx *k = arg;
    ct_kb_dc *dc = &k->kb->dcs[k->kb->n_dcs++];
    char what[200];
    struct fy_node *n;
    int rc;

    (void)c;
    (void)kn;
    snprintf(what, sizeof(what), "datacenter %s", key);
    memset(dc, 0, sizeof(*dc)); /* the array grew by realloc */
    dc->energy_price = NAN;
    dc->carbon_intensity = NAN;
    dc->pue = 1.0;
    if ((dc->name = strdup(key)) == NULL)
        return ct_yaml_nomem(&k->c);
    if (ct_yaml_is_null(v))
        return 0;
    if ((rc = check_keys(k, v, what, dc_keys)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "energy_price")) != NULL &&
        (rc = kb_number(k, &dc->energy_price, n, "energy_price", 0.0, 1e6, false)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "carbon_intensity")) != NULL &&
        (rc = kb_number(k, &dc->carbon_intensity, n, "carbon_intensity", 0.0, 1e6, false)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "pue")) != NULL &&
        (rc = kb_number(k, &dc->pue, n, "pue", 1.0, 10.0, false)) < 0)
        return rc;
    return 0;
}

/* ---------------------------------------------------------------- hosts */

/* Returns: the index of the DC called name, adding it when new. */
static int dc_index(kb_ctx *k, size_t *out, const char *name)
{
    ct_kb *kb = k->kb;

    for (size_t i = 0; i < kb->n_dcs; i++)
        if (strcmp(kb->dcs[i].name, name) == 0) {
            *out = i;
            return 0;
        }
    ct_kb_dc *dc = &kb->dcs[kb->n_dcs]; /* room was made for one per host */
    memset(dc, 0, sizeof(*dc));
    if ((dc->name = strdup(name)) == NULL)
        return ct_yaml_nomem(&k->c);
    dc->energy_price = NAN;
    dc->carbon_intensity = NAN;
    dc->pue = 1.0;
    *out = kb->n_dcs++;
    return 0;
}

static int read_used(kb_ctx *k, ct_kb_host *h, struct fy_node *v)
{
    struct fy_node *n;
    int rc;

    if ((rc = check_keys(k, v, "used", used_keys)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "vcpus")) != NULL &&
        (rc = kb_count(k, &h->used_vcpus, n, "vcpus", 0)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "ram")) != NULL && (rc = kb_size(k, &h->used_ram, n, "ram")) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "disk")) != NULL && (rc = kb_size(k, &h->used_disk, n, "disk")) < 0)
        return rc;
    return 0;
}

static int read_host_refs(kb_ctx *k, ct_kb_host *h, struct fy_node *v)
{
    struct fy_node *mn = ct_yaml_get(v, "model"), *dn = ct_yaml_get(v, "datacenter");
    const char *model = ct_yaml_scalar(mn), *dc = ct_yaml_scalar(dn);

    if (model == NULL)
        return ct_yaml_err(&k->c, mn ? mn : v, "host %s: model is missing", h->name);
    for (h->model = 0; h->model < k->kb->n_models; h->model++)
        if (strcmp(k->kb->models[h->model].name, model) == 0)
            break;
    if (h->model == k->kb->n_models)
        return ct_yaml_err(&k->c, mn, "host %s: unknown model \"%s\"", h->name, model);
    if (dc == NULL || ct_yaml_is_null(dn))
        return ct_yaml_err(&k->c, dn ? dn : v, "host %s: datacenter is missing", h->name);
    return dc_index(k, &h->dc, dc);
}

static int read_host(kb_ctx *k, ct_kb_host *h, struct fy_node *v)
{
    struct fy_node *n;
    int rc;

    h->powered = true;
    if ((rc = check_keys(k, v, "host", host_keys)) < 0 ||
        (rc = kb_string(k, &h->name, ct_yaml_get(v, "name"), "host name")) < 0 ||
        (rc = read_host_refs(k, h, v)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "load")) != NULL &&
        (rc = kb_number(k, &h->load, n, "load", 0.0, 1.0, false)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "powered")) != NULL && (rc = kb_bool(k, &h->powered, n, "powered")) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "used")) != NULL && (rc = read_used(k, h, n)) < 0)
        return rc;
    if (!h->powered && (h->load > 0 || h->used_vcpus > 0))
        return ct_yaml_err(&k->c, v, "host %s: a powered-off host has no load", h->name);
    return 0;
}

static int cmp_host_name(const void *a, const void *b)
{
    const ct_kb_host *x = *(const ct_kb_host *const *)a, *y = *(const ct_kb_host *const *)b;

    return strcmp(x->name, y->name);
}

static int check_unique_hosts(kb_ctx *k, struct fy_node *at)
{
    ct_kb *kb = k->kb;
    const ct_kb_host **v = malloc((kb->n_hosts ? kb->n_hosts : 1) * sizeof(*v));
    int rc = 0;

    if (v == NULL)
        return ct_yaml_nomem(&k->c);
    for (size_t i = 0; i < kb->n_hosts; i++)
        v[i] = &kb->hosts[i];
    qsort(v, kb->n_hosts, sizeof(*v), cmp_host_name);
    for (size_t i = 1; i < kb->n_hosts && rc == 0; i++)
        if (strcmp(v[i]->name, v[i - 1]->name) == 0)
            rc = ct_yaml_err(&k->c, at, "host %s is listed twice", v[i]->name);
    free(v);
    return rc;
}

static int read_hosts(kb_ctx *k, struct fy_node *seq, size_t n_dc_defs)
{
    struct fy_node *item;
    void *it = NULL;
    size_t count;
    int rc;

    if ((rc = kb_collection(k, seq, "hosts", true, &count)) < 0)
        return rc;
    if (count == 0)
        return ct_yaml_err(&k->c, seq, "hosts: list at least one host");
    k->kb->hosts = calloc(count, sizeof(ct_kb_host));
    ct_kb_dc *dcs = realloc(k->kb->dcs, (n_dc_defs + count) * sizeof(ct_kb_dc));
    if (dcs != NULL)
        k->kb->dcs = dcs;
    if (k->kb->hosts == NULL || dcs == NULL)
        return ct_yaml_nomem(&k->c);
    seq = ct_yaml_deref(seq);
    while ((item = fy_node_sequence_iterate(seq, &it)) != NULL)
        if ((rc = read_host(k, &k->kb->hosts[k->kb->n_hosts++], item)) < 0)
            return rc;
    return check_unique_hosts(k, seq);
}

/* ---------------------------------------------------------------- top level */

static int read_section(kb_ctx *k, struct fy_node *root, const char *key, void **arr, size_t sz,
                        ct_yaml_pair_fn fn, bool required)
{
    struct fy_node *n = ct_yaml_get(root, key);
    size_t count;
    int rc;

    if ((rc = kb_collection(k, n, key, false, &count)) < 0)
        return rc;
    if (count == 0 && required)
        return ct_yaml_err(&k->c, n ? n : root, "%s: define at least one", key);
    if ((*arr = calloc(count ? count : 1, sz)) == NULL)
        return ct_yaml_nomem(&k->c);
    return ct_yaml_each(&k->c, n, fn, k);
}

static int read_settings(kb_ctx *k, struct fy_node *root)
{
    ct_kb *kb = k->kb;
    struct fy_node *n;
    double version;
    int rc;

    if ((rc = check_keys(k, root, "knowledge base", kb_keys)) < 0)
        return rc;
    if ((n = ct_yaml_get(root, "catena_kb")) == NULL)
        return ct_yaml_err(&k->c, root, "missing catena_kb: 1 (the format version)");
    if ((rc = kb_number(k, &version, n, "catena_kb", 1, 1, false)) < 0)
        return rc;
    if ((n = ct_yaml_get(root, "reference_mips")) != NULL &&
        (rc = kb_number(k, &kb->reference_mips, n, "reference_mips", 0, 1e9, true)) < 0)
        return rc;
    if ((n = ct_yaml_get(root, "default_load")) != NULL &&
        (rc = kb_number(k, &kb->default_load, n, "default_load", 0, 1, true)) < 0)
        return rc;
    if ((n = ct_yaml_get(root, "max_utilisation")) != NULL &&
        (rc = kb_number(k, &kb->max_utilisation, n, "max_utilisation", 0, 1, true)) < 0)
        return rc;
    if ((n = ct_yaml_get(root, "cpu_overcommit")) != NULL &&
        (rc = kb_number(k, &kb->cpu_overcommit, n, "cpu_overcommit", 0, 64, true)) < 0)
        return rc;
    if ((n = ct_yaml_get(root, "objective")) != NULL &&
        (ct_yaml_scalar(n) == NULL ||
         ct_place_objective_parse(&kb->objective, ct_yaml_scalar(n)) < 0))
        return ct_yaml_err(&k->c, n, "objective must be energy, cost or carbon");
    return 0;
}

static int read_kb(kb_ctx *k, struct fy_node *root)
{
    ct_kb *kb = k->kb;
    int rc;

    if (root == NULL || !ct_yaml_is_map(root))
        return ct_yaml_err(&k->c, root, "a knowledge base is a map of sections");
    if ((rc = read_settings(k, root)) < 0 ||
        (rc = read_section(k, root, "tags", (void **)&kb->tags, sizeof(ct_kb_tag), read_tag,
                           false)) < 0 ||
        (rc = read_section(k, root, "flavors", (void **)&kb->flavors, sizeof(ct_kb_flavor),
                           read_flavor, true)) < 0 ||
        (rc = read_section(k, root, "models", (void **)&kb->models, sizeof(ct_kb_model), read_model,
                           true)) < 0 ||
        (rc = read_section(k, root, "datacenters", (void **)&kb->dcs, sizeof(ct_kb_dc), read_dc,
                           false)) < 0)
        return rc;
    return read_hosts(k, ct_yaml_get(root, "hosts"), kb->n_dcs);
}

void ct_kb_free(ct_kb *kb)
{
    if (kb == NULL)
        return;
    for (size_t i = 0; i < kb->n_tags; i++) {
        for (size_t j = 0; j < kb->tags[i].n_prefs; j++)
            free(kb->tags[i].prefs[j].arch);
        free(kb->tags[i].prefs);
        free(kb->tags[i].name);
    }
    for (size_t i = 0; i < kb->n_flavors; i++)
        free(kb->flavors[i].name);
    for (size_t i = 0; i < kb->n_models; i++) {
        free(kb->models[i].name);
        free(kb->models[i].arch);
    }
    for (size_t i = 0; i < kb->n_dcs; i++)
        free(kb->dcs[i].name);
    for (size_t i = 0; i < kb->n_hosts; i++)
        free(kb->hosts[i].name);
    free(kb->tags);
    free(kb->flavors);
    free(kb->models);
    free(kb->dcs);
    free(kb->hosts);
    free(kb);
}

const ct_kb_tag *ct_kb_tag_find(const ct_kb *kb, const char *name)
{
    for (size_t i = 0; name != NULL && i < kb->n_tags; i++)
        if (strcmp(kb->tags[i].name, name) == 0)
            return &kb->tags[i];
    return NULL;
}

int ct_kb_parse(ct_kb **out, const char *text, size_t len, const char *name)
{
    ct_yaml_diags diags = {0};
    struct fy_document *doc = NULL;
    kb_ctx k;
    int rc;

    *out = NULL;
    memset(&k, 0, sizeof(k));
    k.c.diags = &diags;
    k.c.file = name ? name : "<kb>";
    k.c.budget = CT_YAML_JSON_BUDGET;
    if (len > CT_KB_MAX_TEXT)
        return ct_error_set(CT_ELIMIT, "%s: larger than %u bytes", k.c.file, CT_KB_MAX_TEXT);
    if ((k.kb = calloc(1, sizeof(*k.kb))) == NULL)
        return ct_error_set(CT_ENOMEM, "kb: out of memory");
    k.kb->reference_mips = 1000.0;
    k.kb->default_load = 0.5;
    k.kb->max_utilisation = 1.0;
    k.kb->cpu_overcommit = 1.0;
    if ((rc = ct_yaml_parse_doc(&k.c, &doc, text, len)) == 0)
        rc = read_kb(&k, fy_document_root(doc));
    fy_document_destroy(doc);
    if (rc == 0 && diags.errors > 0)
        rc = CT_EPARSE;
    if (rc == CT_ENOMEM || k.c.nomem)
        rc = ct_error_set(CT_ENOMEM, "kb: out of memory");
    else if (rc < 0 && diags.n > 0)
        rc =
            ct_error_set(CT_EPARSE, "%s:%u:%u: %s", diags.items[0].file ? diags.items[0].file : "-",
                         diags.items[0].line, diags.items[0].column, diags.items[0].message);
    ct_yaml_diags_free(&diags);
    if (rc < 0) {
        ct_kb_free(k.kb);
        return rc;
    }
    *out = k.kb;
    return 0;
}

/* The objective's names, which the KB's `objective` key takes too. */
int ct_place_objective_parse(ct_place_objective *out, const char *name)
{
    static const char *const names[] = {"energy", "cost", "carbon"};

    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (ct_place_objective)i;
            return 0;
        }
    return ct_error_set(CT_EINVAL, "objective \"%s\": use energy, cost or carbon", name);
}

const char *ct_place_objective_name(ct_place_objective objective)
{
    return objective == CT_PLACE_COST ? "cost" : objective == CT_PLACE_CARBON ? "carbon" : "energy";
}
