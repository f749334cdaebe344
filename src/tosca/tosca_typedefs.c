/* Reading TOSCA type definitions (node, capability, data, relationship
 * and the other kinds), linking derivations and checking the references
 * between types and the defaults of their properties (tosca_value.c). */
#include "tosca_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_label[TK_COUNT] = {
    "node type",      "capability type", "data type",   "relationship type",
    "interface type", "artifact type",   "policy type", "group type"};

#define COMMON_KEYS "derived_from", "version", "metadata", "description"
static const char *const node_keys[] = {COMMON_KEYS,    "properties", "attributes", "requirements",
                                        "capabilities", "interfaces", "artifacts",  NULL};
static const char *const cap_keys[] = {COMMON_KEYS, "properties", "attributes",
                                       "valid_source_types", NULL};
static const char *const data_keys[] = {COMMON_KEYS,  "constraints",  "properties",
                                        "key_schema", "entry_schema", NULL};
static const char *const rel_keys[] = {COMMON_KEYS,  "properties",         "attributes",
                                       "interfaces", "valid_target_types", NULL};
static const char *const artifact_keys[] = {COMMON_KEYS, "mime_type", "file_ext", "properties",
                                            NULL};
static const char *const policy_keys[] = {COMMON_KEYS, "properties", "targets", "triggers", NULL};
static const char *const group_keys[] = {COMMON_KEYS,    "properties",   "attributes", "members",
                                         "requirements", "capabilities", "interfaces", NULL};
/* Interface types list their operations as keys (1.0) or under
 * "operations" (1.3), so their keys are not checked. */
static const char *const *const kind_keys[TK_COUNT] = {
    node_keys, cap_keys, data_keys, rel_keys, NULL, artifact_keys, policy_keys, group_keys};

static const char *const propdef_keys[] = {
    "type",         "description", "required", "default",         "status", "constraints",
    "entry_schema", "key_schema",  "metadata", "external_schema", "title",  NULL};
static const char *const capdef_keys[] = {
    "type", "description", "properties", "attributes", "valid_source_types", "occurrences", NULL};
static const char *const reqdef_keys[] = {
    "capability", "node", "relationship", "occurrences", "description", "node_filter", NULL};
static const char *const schema_keys[] = {"type", "description", "constraints", NULL};
static const char *const constraint_ops[] = {"equal",
                                             "greater_than",
                                             "greater_or_equal",
                                             "less_than",
                                             "less_or_equal",
                                             "in_range",
                                             "valid_values",
                                             "length",
                                             "min_length",
                                             "max_length",
                                             "pattern",
                                             "schema",
                                             NULL};

/* ---------------------------------------------------------------- reading */

/* Grows an array of elements of size sz by one zeroed element.
 * Returns: a pointer to the new element, or NULL when out of memory. */
static void *grow(void **arr, size_t *n, size_t sz)
{
    char *v = realloc(*arr, (*n + 1) * sz);

    if (v == NULL)
        return NULL;
    memset(v + *n * sz, 0, sz);
    *arr = v;
    return v + (*n)++ * sz;
}

static int read_bool(tosca_ctx *c, bool *out, struct fy_node *n, const char *what)
{
    const char *s = ct_yaml_scalar(n);

    if (s != NULL && (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0)) {
        *out = true;
        return 0;
    }
    if (s != NULL && (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0)) {
        *out = false;
        return 0;
    }
    return ct_yaml_err(&c->y, n, "%s must be true or false", what);
}

static int read_constraints(tosca_ctx *c, json_t **out, struct fy_node *n, const char *what)
{
    struct fy_node *item;
    void *it = NULL;
    int rc = 0;

    *out = NULL;
    if (!ct_yaml_is_seq(n))
        return ct_yaml_err(&c->y, n, "%s: constraints must be a list", what);
    n = ct_yaml_deref(n);
    while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
        const char *op;
        struct fy_node_pair *p;
        void *it2 = NULL;
        size_t i;
        struct fy_node *m = ct_yaml_deref(item);
        if (m == NULL || !fy_node_is_mapping(m) || fy_node_mapping_item_count(m) != 1)
            return ct_yaml_err(&c->y, item, "%s: a constraint is a map with one operator", what);
        p = fy_node_mapping_iterate(m, &it2);
        op = ct_yaml_scalar(fy_node_pair_key(p));
        for (i = 0; op != NULL && constraint_ops[i] != NULL; i++)
            if (strcmp(op, constraint_ops[i]) == 0)
                break;
        if (op == NULL || constraint_ops[i] == NULL)
            return ct_yaml_err(&c->y, item, "%s: unknown constraint operator \"%s\"", what,
                               op ? op : "?");
    }
    rc = ct_yaml_to_json(&c->y, out, n, 0);
    return rc;
}

static int read_entry_schema(tosca_ctx *c, char **out, struct fy_node *n, const char *what)
{
    if (ct_yaml_is_map(n)) {
        if (ct_yaml_check_keys(&c->y, n, what, schema_keys) != 0)
            return c->y.nomem ? CT_ENOMEM : CT_EPARSE;
        n = ct_yaml_get(n, "type");
    }
    return ct_yaml_strdup(&c->y, out, n, what);
}

/* Reads one property definition (long or short form). */
static int read_propdef(tosca_ctx *c, tosca_propdef *p, struct fy_node *v, const char *what,
                        bool type_required)
{
    struct fy_node *n;
    int rc;

    p->required = true;
    if (!ct_yaml_is_map(v)) {
        if (ct_yaml_scalar(v) == NULL || ct_yaml_is_null(v))
            return ct_yaml_err(&c->y, v, "%s: a property definition is a map or a type name", what);
        return ct_yaml_strdup(&c->y, &p->type, v, what);
    }
    if (ct_yaml_check_keys(&c->y, v, what, propdef_keys) != 0)
        return c->y.nomem ? CT_ENOMEM : CT_EPARSE;
    if ((n = ct_yaml_get(v, "type")) != NULL) {
        if ((rc = ct_yaml_strdup(&c->y, &p->type, n, what)) < 0)
            return rc;
    } else if (type_required) {
        return ct_yaml_err(&c->y, v, "%s: missing \"type\"", what);
    }
    if ((n = ct_yaml_get(v, "required")) != NULL && (rc = read_bool(c, &p->required, n, what)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "constraints")) != NULL &&
        (rc = read_constraints(c, &p->constraints, n, what)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "entry_schema")) != NULL &&
        (rc = read_entry_schema(c, &p->entry, n, what)) < 0)
        return rc;
    p->def_node = ct_yaml_get(v, "default");
    return 0;
}

typedef struct defs_arg {
    tosca_propdef **out;
    size_t *n;
    const char *owner;
    bool type_required;
} defs_arg;

static int read_propdef_pair(ct_yaml_reader *r, const char *key, struct fy_node *k,
                             struct fy_node *v, void *arg)
{
    tosca_ctx *c = tosca_of(r);
    defs_arg *da = arg;
    tosca_propdef *p;
    char what[256];

    (void)k;
    snprintf(what, sizeof(what), "%s: property \"%s\"", da->owner, key);
    if ((p = grow((void **)da->out, da->n, sizeof(*p))) == NULL)
        return ct_yaml_nomem(&c->y);
    if ((p->name = strdup(key)) == NULL)
        return ct_yaml_nomem(&c->y);
    return read_propdef(c, p, v, what, da->type_required);
}

static int read_propdefs_opt(tosca_ctx *c, tosca_propdef **out, size_t *out_n, struct fy_node *map,
                             const char *owner, bool type_required)
{
    defs_arg da = {out, out_n, owner, type_required};

    if (ct_yaml_is_null(map))
        return 0;
    if (!ct_yaml_is_map(map))
        return ct_yaml_err(&c->y, map, "%s: properties must be a map", owner);
    return ct_yaml_each(&c->y, map, read_propdef_pair, &da);
}

int ct_tosca__read_propdefs(tosca_ctx *c, tosca_propdef **out, size_t *out_n, struct fy_node *map,
                            const char *owner)
{
    return read_propdefs_opt(c, out, out_n, map, owner, true);
}

static int read_capdef(ct_yaml_reader *r, const char *key, struct fy_node *k, struct fy_node *v,
                       void *arg)
{
    tosca_ctx *c = tosca_of(r);
    tosca_type *t = arg;
    tosca_capdef *cd;
    char what[256];
    int rc;

    (void)k;
    snprintf(what, sizeof(what), "%s %s: capability \"%s\"", kind_label[t->kind], t->name, key);
    if ((cd = grow((void **)&t->caps, &t->n_caps, sizeof(*cd))) == NULL ||
        (cd->name = strdup(key)) == NULL)
        return ct_yaml_nomem(&c->y);
    if (!ct_yaml_is_map(v))
        return ct_yaml_strdup(&c->y, &cd->type, v, what);
    if (ct_yaml_check_keys(&c->y, v, what, capdef_keys) != 0)
        return c->y.nomem ? CT_ENOMEM : CT_EPARSE;
    if ((rc = ct_yaml_strdup(&c->y, &cd->type, ct_yaml_get(v, "type"), what)) < 0)
        return rc;
    return read_propdefs_opt(c, &cd->props, &cd->n_props, ct_yaml_get(v, "properties"), what,
                             false);
}

static int read_reqdef_body(tosca_ctx *c, tosca_reqdef *rd, struct fy_node *v, const char *what)
{
    struct fy_node *n;
    int rc;

    if (!ct_yaml_is_map(v))
        return ct_yaml_strdup(&c->y, &rd->capability, v, what);
    if (ct_yaml_check_keys(&c->y, v, what, reqdef_keys) != 0)
        return c->y.nomem ? CT_ENOMEM : CT_EPARSE;
    if ((n = ct_yaml_get(v, "capability")) != NULL &&
        (rc = ct_yaml_strdup(&c->y, &rd->capability, n, what)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "node")) != NULL &&
        (rc = ct_yaml_strdup(&c->y, &rd->node, n, what)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "relationship")) != NULL) {
        if (ct_yaml_is_map(n))
            n = ct_yaml_get(n, "type");
        if ((rc = ct_yaml_strdup(&c->y, &rd->relationship, n, what)) < 0)
            return rc;
    }
    return 0;
}

static int read_reqdefs(tosca_ctx *c, tosca_type *t, struct fy_node *seq)
{
    struct fy_node *item;
    void *it = NULL;
    char what[256];
    int rc = 0;

    if (ct_yaml_is_null(seq))
        return 0;
    if (!ct_yaml_is_seq(seq))
        return ct_yaml_err(&c->y, seq, "%s %s: requirements must be a list", kind_label[t->kind],
                           t->name);
    seq = ct_yaml_deref(seq);
    while ((item = fy_node_sequence_iterate(seq, &it)) != NULL) {
        struct fy_node *m = ct_yaml_deref(item);
        struct fy_node_pair *p;
        void *it2 = NULL;
        tosca_reqdef *rd;
        const char *name;
        if (m == NULL || !fy_node_is_mapping(m) || fy_node_mapping_item_count(m) != 1)
            return ct_yaml_err(&c->y, item, "%s %s: each requirement is a map with one name",
                               kind_label[t->kind], t->name);
        p = fy_node_mapping_iterate(m, &it2);
        if ((name = ct_yaml_scalar(fy_node_pair_key(p))) == NULL)
            return ct_yaml_err(&c->y, item, "a requirement name must be a string");
        snprintf(what, sizeof(what), "%s %s: requirement \"%s\"", kind_label[t->kind], t->name,
                 name);
        if ((rd = grow((void **)&t->reqs, &t->n_reqs, sizeof(*rd))) == NULL ||
            (rd->name = strdup(name)) == NULL)
            return ct_yaml_nomem(&c->y);
        if ((rc = read_reqdef_body(c, rd, fy_node_pair_value(p), what)) < 0)
            return rc;
    }
    return 0;
}

static int read_type_body(tosca_ctx *c, tosca_type *t, struct fy_node *v)
{
    char owner[256];
    struct fy_node *n;
    int rc;

    snprintf(owner, sizeof(owner), "%s %s", kind_label[t->kind], t->name);
    if (kind_keys[t->kind] != NULL && ct_yaml_check_keys(&c->y, v, owner, kind_keys[t->kind]) != 0)
        return c->y.nomem ? CT_ENOMEM : CT_EPARSE;
    if ((n = ct_yaml_get(v, "derived_from")) != NULL &&
        (rc = ct_yaml_strdup(&c->y, &t->derived_from, n, "derived_from")) < 0)
        return rc;
    if (t->kind == TK_NODE || t->kind == TK_CAPABILITY || t->kind == TK_DATA ||
        t->kind == TK_RELATIONSHIP) {
        rc =
            ct_tosca__read_propdefs(c, &t->props, &t->n_props, ct_yaml_get(v, "properties"), owner);
        if (rc < 0)
            return rc;
    }
    if (t->kind == TK_DATA && (n = ct_yaml_get(v, "constraints")) != NULL &&
        (rc = read_constraints(c, &t->constraints, n, owner)) < 0)
        return rc;
    if (t->kind != TK_NODE)
        return 0;
    if ((n = ct_yaml_get(v, "capabilities")) != NULL) {
        if (!ct_yaml_is_map(n) && !ct_yaml_is_null(n))
            return ct_yaml_err(&c->y, n, "%s: capabilities must be a map", owner);
        if ((rc = ct_yaml_each(&c->y, n, read_capdef, t)) < 0)
            return rc;
    }
    return read_reqdefs(c, t, ct_yaml_get(v, "requirements"));
}

typedef struct section_arg {
    tosca_kind kind;
} section_arg;

static int read_type(ct_yaml_reader *r, const char *key, struct fy_node *k, struct fy_node *v,
                     void *arg)
{
    tosca_ctx *c = tosca_of(r);
    section_arg *sa = arg;
    struct ct_tosca_types *ts = c->t->types;
    tosca_type *t, *old = NULL;

    for (const struct ct_tosca_types *s = ts; s != NULL && old == NULL; s = s->base)
        for (size_t i = 0; i < s->n && old == NULL; i++)
            if (s->v[i]->kind == sa->kind && strcmp(s->v[i]->name, key) == 0)
                old = s->v[i];
    if (old != NULL) {
        unsigned line, col;
        ct_yaml_pos(old->node, &line, &col);
        return ct_yaml_err(&c->y, k, "%s %s is already defined at %s:%u:%u", kind_label[sa->kind],
                           key, old->file, line, col);
    }
    if (!ct_yaml_is_map(v) && !ct_yaml_is_null(v))
        return ct_yaml_err(&c->y, v, "%s %s: a type definition must be a map", kind_label[sa->kind],
                           key);
    if (ts->n >= TOSCA_MAX_TYPES)
        return ct_yaml_err(&c->y, k, "more than %d types", TOSCA_MAX_TYPES);
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 128;
        tosca_type **nv = realloc(ts->v, cap * sizeof(*nv));
        if (nv == NULL)
            return ct_yaml_nomem(&c->y);
        ts->v = nv;
        ts->cap = cap;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL || (t->name = strdup(key)) == NULL) {
        free(t);
        return ct_yaml_nomem(&c->y);
    }
    t->kind = sa->kind;
    t->builtin = c->builtin;
    t->file = c->y.file;
    t->node = k;
    t->body = v;
    ts->v[ts->n++] = t;
    return ct_yaml_is_map(v) ? read_type_body(c, t, v) : 0;
}

int ct_tosca__read_types(tosca_ctx *c, tosca_kind k, struct fy_node *section)
{
    section_arg sa = {k};

    if (ct_yaml_is_null(section))
        return 0;
    if (!ct_yaml_is_map(section))
        return ct_yaml_err(&c->y, section, "%s must be a map", ct_tosca__kind_section(k));
    return ct_yaml_each(&c->y, section, read_type, &sa);
}

/* ---------------------------------------------------------------- linking */

static int link_parent(tosca_ctx *c, tosca_type *t)
{
    struct fy_node *at = ct_yaml_get(t->body, "derived_from");

    if (t->derived_from == NULL)
        return 0;
    if (t->kind == TK_DATA && ct_tosca__primitive(t->derived_from))
        return 0;
    t->parent = ct_tosca__type_find(c->t->types, t->kind, t->derived_from);
    if (t->parent == NULL)
        return ct_yaml_err(&c->y, at ? at : t->node, "%s %s: derived_from names unknown %s \"%s\"",
                           kind_label[t->kind], t->name, kind_label[t->kind], t->derived_from);
    size_t hops = 0;
    for (const tosca_type *p = t->parent; p != NULL && hops <= TOSCA_MAX_TYPES;
         p = p->parent, hops++)
        if (p == t) {
            t->parent = NULL;
            return ct_yaml_err(&c->y, at ? at : t->node, "%s %s: derives from itself",
                               kind_label[t->kind], t->name);
        }
    return 0;
}

static int check_ref(tosca_ctx *c, const tosca_type *t, tosca_kind k, const char *name,
                     const char *what)
{
    if (name == NULL || ct_tosca__type_find(c->t->types, k, name) != NULL)
        return 0;
    return ct_yaml_err(&c->y, t->node, "%s %s: %s names unknown %s \"%s\"", kind_label[t->kind],
                       t->name, what, kind_label[k], name);
}

static int check_propdef(tosca_ctx *c, const tosca_type *t, tosca_propdef *p, const char *owner)
{
    char what[300];
    json_t *def = NULL;
    int rc;

    if (p->type == NULL)
        return 0;
    if ((rc = ct_tosca__check_type_name(c, t->node, p->type)) < 0 ||
        (p->entry && (rc = ct_tosca__check_type_name(c, t->node, p->entry)) < 0))
        return rc;
    if (p->def_node == NULL)
        return 0;
    snprintf(what, sizeof(what), "%s: default of property \"%s\"", owner, p->name);
    if ((rc = ct_tosca__value(c, &def, p->def_node, p->type, p->entry, p->constraints, what)) < 0)
        return rc;
    p->def = def;
    return 0;
}

/* Gives the refinements of a capability definition the types of the
 * properties they refine. */
static int check_capdef(tosca_ctx *c, const tosca_type *t, tosca_capdef *cd)
{
    tosca_type *ct = ct_tosca__type_find(c->t->types, TK_CAPABILITY, cd->type);
    char owner[300];
    int rc;

    if (ct == NULL)
        return check_ref(c, t, TK_CAPABILITY, cd->type, "a capability");
    snprintf(owner, sizeof(owner), "node type %s: capability %s", t->name, cd->name);
    for (size_t i = 0; i < cd->n_props; i++) {
        tosca_propdef *p = &cd->props[i];
        const tosca_propdef *base = ct_tosca__prop_find(ct, p->name);
        if (p->type == NULL && base == NULL)
            return ct_yaml_err(&c->y, t->node, "%s: refines unknown property \"%s\"", owner,
                               p->name);
        if (p->type == NULL && base->type == NULL)
            return ct_yaml_err(&c->y, t->node, "%s: property \"%s\" has no type to refine", owner,
                               p->name);
        if (p->type == NULL && (p->type = strdup(base->type)) == NULL)
            return ct_yaml_nomem(&c->y);
        if (p->entry == NULL && base != NULL && base->entry != NULL &&
            (p->entry = strdup(base->entry)) == NULL)
            return ct_yaml_nomem(&c->y);
        if ((rc = check_propdef(c, t, p, owner)) < 0)
            return rc;
    }
    return 0;
}

static int check_type(tosca_ctx *c, tosca_type *t)
{
    char owner[256];
    int rc = 0, r;

    snprintf(owner, sizeof(owner), "%s %s", kind_label[t->kind], t->name);
    for (size_t i = 0; i < t->n_props; i++)
        if ((r = check_propdef(c, t, &t->props[i], owner)) < 0)
            rc = r;
    for (size_t i = 0; i < t->n_caps; i++)
        if ((r = check_capdef(c, t, &t->caps[i])) < 0)
            rc = r;
    for (size_t i = 0; i < t->n_reqs; i++) {
        tosca_reqdef *rd = &t->reqs[i];
        if ((r = check_ref(c, t, TK_CAPABILITY, rd->capability, "a requirement's capability")) <
                0 ||
            (r = check_ref(c, t, TK_NODE, rd->node, "a requirement's node")) < 0 ||
            (r = check_ref(c, t, TK_RELATIONSHIP, rd->relationship, "a relationship")) < 0)
            rc = r;
    }
    return rc;
}

int ct_tosca__link_types(tosca_ctx *c)
{
    struct ct_tosca_types *ts = c->t->types;
    const char *file = c->y.file;
    int rc = 0, r;

    for (size_t i = 0; i < ts->n && !c->y.nomem; i++) {
        c->y.file = ts->v[i]->file;
        if ((r = link_parent(c, ts->v[i])) < 0)
            rc = r;
    }
    for (size_t i = 0; i < ts->n && !c->y.nomem; i++) {
        c->y.file = ts->v[i]->file;
        if ((r = check_type(c, ts->v[i])) < 0)
            rc = r;
    }
    c->y.file = file;
    return c->y.nomem ? CT_ENOMEM : rc;
}
