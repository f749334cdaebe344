/* Writing the concrete TOSCA template, made by editing the source document
 * so that everything not about placement is kept as written. */
#include "tosca_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- concrete TOSCA */

/* Nodes built from text point into it until the document goes, so the
 * texts are kept here and freed after. */
typedef struct edit_ctx {
    struct fy_document *doc;
    char **bufs;
    size_t n_bufs;
} edit_ctx;

/* Returns: a scalar node holding s as a string, or NULL when out of memory. */
static struct fy_node *string_node(edit_ctx *e, const char *s)
{
    json_t *js;
    char *q, **v;
    struct fy_node *n;

    if (ct_yaml_plain_safe(s))
        return fy_node_create_scalar_copy(e->doc, s, strlen(s));
    if ((js = json_string(s)) == NULL)
        return NULL;
    q = json_dumps(js, JSON_ENCODE_ANY);
    json_decref(js);
    if (q == NULL || (v = realloc(e->bufs, (e->n_bufs + 1) * sizeof(*v))) == NULL) {
        free(q);
        return NULL;
    }
    e->bufs = v;
    v[e->n_bufs++] = q;
    n = fy_node_build_from_string(e->doc, q, strlen(q));
    return n;
}

static int set_key(edit_ctx *e, struct fy_node *map, const char *key, struct fy_node *value)
{
    struct fy_node_pair *p;
    struct fy_node *k;

    if (value == NULL)
        return ct_error_set(CT_ENOMEM, "tosca: out of memory");
    if ((p = fy_node_mapping_lookup_pair_by_string(map, key, strlen(key))) != NULL) {
        struct fy_node *old = fy_node_pair_value(p);
        if (fy_node_pair_set_value(p, value) < 0)
            return ct_error_set(CT_ENOMEM, "tosca: cannot set %s", key);
        (void)old;
        return 0;
    }
    if ((k = fy_node_create_scalar_copy(e->doc, key, strlen(key))) == NULL ||
        fy_node_mapping_append(map, k, value) < 0) {
        fy_node_free(k);
        fy_node_free(value);
        return ct_error_set(CT_ENOMEM, "tosca: cannot add %s", key);
    }
    return 0;
}

/* Returns: the map under key in map, made editable: created when missing
 * or not a map, copied when it is an alias (so the anchor stays as it was).
 * NULL when out of memory. */
static struct fy_node *edit_child(edit_ctx *e, struct fy_node *map, const char *key)
{
    struct fy_node *v = fy_node_mapping_lookup_by_string(map, key, strlen(key));
    struct fy_node *target = ct_yaml_deref(v);

    if (v != NULL && !fy_node_is_alias(v) && fy_node_is_mapping(v))
        return v;
    if (target != NULL && fy_node_is_mapping(target))
        v = fy_node_copy(e->doc, target);
    else
        v = fy_node_create_mapping(e->doc);
    if (v == NULL || set_key(e, map, key, v) < 0)
        return NULL;
    return v;
}

static void size_text(char *out, size_t size, uint64_t bytes)
{
    static const struct {
        const char *unit;
        uint64_t factor;
    } units[] = {{"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"GB", 1000000000ull},
                 {"MiB", 1ull << 20}, {"MB", 1000000ull},  {"KiB", 1024},
                 {"kB", 1000}};

    for (size_t i = 0; bytes > 0 && i < sizeof(units) / sizeof(units[0]); i++)
        if (bytes % units[i].factor == 0) {
            snprintf(out, size, "%llu %s", (unsigned long long)(bytes / units[i].factor),
                     units[i].unit);
            return;
        }
    snprintf(out, size, "%llu B", (unsigned long long)bytes);
}

static int bind_host(edit_ctx *e, struct fy_node *node, const ct_tosca_binding *b)
{
    struct fy_node *caps, *props, *os, *meta;
    char text[64];
    int rc = 0;

    caps = edit_child(e, node, "capabilities");
    props = caps ? edit_child(e, edit_child(e, caps, "host"), "properties") : NULL;
    os = caps ? edit_child(e, edit_child(e, caps, "os"), "properties") : NULL;
    meta = edit_child(e, node, "metadata");
    if (props == NULL || os == NULL || meta == NULL)
        return ct_error_set(CT_ENOMEM, "tosca: out of memory");
    snprintf(text, sizeof(text), "%u", b->vcpus);
    rc = set_key(e, props, "num_cpus", fy_node_create_scalar_copy(e->doc, text, strlen(text)));
    size_text(text, sizeof(text), b->ram);
    if (rc == 0)
        rc = set_key(e, props, "mem_size", string_node(e, text));
    size_text(text, sizeof(text), b->disk);
    if (rc == 0 && b->disk > 0)
        rc = set_key(e, props, "disk_size", string_node(e, text));
    if (rc == 0 && b->arch != NULL)
        rc = set_key(e, os, "architecture", string_node(e, b->arch));
    if (rc == 0)
        rc = set_key(e, meta, "catena.host", string_node(e, b->host));
    if (rc == 0 && b->dc != NULL)
        rc = set_key(e, meta, "catena.dc", string_node(e, b->dc));
    if (rc == 0 && b->model != NULL)
        rc = set_key(e, meta, "catena.model", string_node(e, b->model));
    if (rc == 0 && b->flavor != NULL)
        rc = set_key(e, meta, "catena.flavor", string_node(e, b->flavor));
    return rc;
}

/* Checks that every binding names a Compute node template. */
static int check_bindings(const ct_tosca *t, const ct_tosca_binding *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = ct_tosca_node_find(t, b[i].node);
        if (k == SIZE_MAX || !t->nodes[k].is_compute)
            return ct_error_set(CT_ENOTFOUND, "tosca: %s is not a Compute node template",
                                b[i].node);
        if (b[i].host == NULL)
            return ct_error_set(CT_EINVAL, "tosca: binding of %s has no host", b[i].node);
    }
    return 0;
}

int ct_tosca_emit_concrete(char **out, const ct_tosca *t, const ct_tosca_binding *b, size_t n)
{
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2 | FYPCF_JSON_NONE};
    edit_ctx e = {0};
    struct fy_node *tpls;
    int rc;

    *out = NULL;
    if ((rc = check_bindings(t, b, n)) < 0)
        return rc;
    if ((e.doc = fy_document_build_from_string(&cfg, t->source, t->source_len)) == NULL)
        return ct_error_set(CT_ENOMEM, "tosca: cannot re-read the template");
    tpls = edit_child(&e, edit_child(&e, fy_document_root(e.doc), "topology_template"),
                      "node_templates");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct fy_node *node = tpls ? edit_child(&e, tpls, b[i].node) : NULL;
        rc = node ? bind_host(&e, node, &b[i]) : ct_error_set(CT_ENOMEM, "tosca: out of memory");
    }
    if (rc == 0 && (*out = fy_emit_document_to_string(e.doc, FYECF_MODE_BLOCK | FYECF_INDENT_2 |
                                                                 FYECF_WIDTH_INF)) == NULL)
        rc = ct_error_set(CT_ENOMEM, "tosca: cannot write the template");
    fy_document_destroy(e.doc);
    for (size_t i = 0; i < e.n_bufs; i++)
        free(e.bufs[i]);
    free(e.bufs);
    return rc;
}
