/* The topology_template of a TOSCA template: inputs (with values given by
 * the caller), node templates checked against their types (properties,
 * capabilities, requirements and their targets), and outputs. */
#include "tosca_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const topo_keys[] = {
    "description", "inputs", "node_templates", "relationship_templates",
    "outputs",     "groups", "policies",       "substitution_mappings",
    "workflows",   NULL};
static const char *const input_keys[] = {
    "type",        "description",  "required",   "default",  "status",
    "constraints", "entry_schema", "key_schema", "metadata", "external_schema",
    "title",       "value",        NULL};
static const char *const tpl_keys[] = {"type",       "description", "directives",   "metadata",
                                       "properties", "attributes",  "requirements", "capabilities",
                                       "interfaces", "artifacts",   "node_filter",  "copy",
                                       NULL};
static const char *const req_keys[] = {"node",        "capability",  "relationship",
                                       "node_filter", "occurrences", NULL};
static const char *const output_keys[] = {"description", "value", "type", "status", NULL};

/* ---------------------------------------------------------------- inputs */

/* Converts a value given on the command line for input in. Text is YAML
 * for collections and complex types, else taken literally. */
static int given_value(tosca_ctx *c, json_t **out, const ct_tosca_input *in, const char *text)
{
    const char *saved = c->y.file;
    struct fy_document *doc = NULL;
    char *quoted = NULL;
    json_t *js = NULL;
    bool literal = ct_tosca__primitive(in->type) && strcmp(in->type, "list") != 0 &&
                   strcmp(in->type, "map") != 0 && strcmp(in->type, "range") != 0;
    int rc;

    c->y.file = "<input>";
    if (literal) {
        if ((js = json_string(text)) == NULL)
            return ct_yaml_err(&c->y, NULL, "input %s: value is not valid UTF-8", in->name);
        quoted = json_dumps(js, JSON_ENCODE_ANY);
        json_decref(js);
        if (quoted == NULL)
            return ct_yaml_nomem(&c->y);
        text = quoted;
    }
    rc = ct_yaml_parse_doc(&c->y, &doc, text, strlen(text));
    if (rc == 0) {
        char what[200];
        snprintf(what, sizeof(what), "input %s", in->name);
        rc = ct_tosca__value(c, out, fy_document_root(doc), in->type, NULL, NULL, what);
    }
    fy_document_destroy(doc);
    free(quoted);
    c->y.file = saved;
    return rc;
}

static int input_value(tosca_ctx *c, ct_tosca_input *in, struct fy_node *k)
{
    const ct_tosca_opts *o = c->opts;

    for (size_t i = 0; i < o->n_inputs; i++)
        if (strcmp(o->inputs[i].name, in->name) == 0)
            return given_value(c, &in->value, in, o->inputs[i].value);
    if (in->def != NULL) {
        in->value = json_incref(in->def);
        return 0;
    }
    if (in->required)
        ct_yaml_warn(&c->y, k, "input %s has no default and no value was given", in->name);
    return 0;
}

static int read_input(ct_yaml_reader *r, const char *key, struct fy_node *k, struct fy_node *v,
                      void *arg)
{
    tosca_ctx *c = tosca_of(r);
    ct_tosca *t = c->t;
    ct_tosca_input *in = &t->inputs[t->n_inputs];
    struct fy_node *n;
    char what[200];
    json_t *cons = NULL;
    int rc;

    (void)arg;
    memset(in, 0, sizeof(*in));
    snprintf(what, sizeof(what), "input %s", key);
    if ((in->name = strdup(key)) == NULL)
        return ct_yaml_nomem(&c->y);
    in->required = true;
    in->loc = (ct_tosca_loc){c->y.file, 0, 0};
    ct_yaml_pos(k, &in->loc.line, &in->loc.column);
    t->n_inputs++;
    if (!ct_yaml_is_map(v))
        return ct_yaml_err(&c->y, v ? v : k, "%s: an input definition is a map", what);
    if (ct_yaml_check_keys(&c->y, v, what, input_keys) != 0)
        return c->y.nomem ? CT_ENOMEM : CT_EPARSE;
    if ((rc = ct_yaml_strdup(&c->y, &in->type, ct_yaml_get(v, "type"), "input type")) < 0 ||
        (rc = ct_tosca__check_type_name(c, ct_yaml_get(v, "type"), in->type)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "description")) != NULL &&
        (rc = ct_yaml_strdup(&c->y, &in->description, n, "description")) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "required")) != NULL) {
        const char *s = ct_yaml_scalar(n);
        if (s == NULL || (strcasecmp(s, "true") != 0 && strcasecmp(s, "false") != 0))
            return ct_yaml_err(&c->y, n, "%s: required must be true or false", what);
        in->required = strcasecmp(s, "true") == 0;
    }
    if ((n = ct_yaml_get(v, "constraints")) != NULL &&
        (rc = ct_yaml_to_json(&c->y, &cons, n, 0)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "default")) != NULL)
        rc = ct_tosca__value(c, &in->def, n, in->type, NULL, cons, what);
    if (rc == 0 && (rc = input_value(c, in, k)) == 0 && in->value != NULL && cons != NULL)
        rc = ct_tosca__constraints(c, k, in->value, in->type, cons, what);
    json_decref(cons);
    return rc;
}

static int check_given_inputs(tosca_ctx *c)
{
    int rc = 0;

    for (size_t i = 0; i < c->opts->n_inputs; i++) {
        size_t j;
        for (j = 0; j < c->t->n_inputs; j++)
            if (strcmp(c->t->inputs[j].name, c->opts->inputs[i].name) == 0)
                break;
        if (j == c->t->n_inputs)
            rc = ct_yaml_err(&c->y, NULL,
                             "a value was given for input \"%s\", which the template "
                             "does not declare",
                             c->opts->inputs[i].name);
    }
    return rc;
}

static int read_inputs(tosca_ctx *c, struct fy_node *map)
{
    size_t n;
    int rc;

    if (ct_yaml_is_null(map))
        return check_given_inputs(c);
    if (!ct_yaml_is_map(map))
        return ct_yaml_err(&c->y, map, "inputs must be a map");
    n = (size_t)fy_node_mapping_item_count(ct_yaml_deref(map));
    if ((c->t->inputs = calloc(n ? n : 1, sizeof(ct_tosca_input))) == NULL)
        return ct_yaml_nomem(&c->y);
    rc = ct_yaml_each(&c->y, map, read_input, NULL);
    if (rc == CT_ENOMEM)
        return rc;
    int r = check_given_inputs(c);
    return rc < 0 ? rc : r;
}

/* ---------------------------------------------------------------- node templates */

/* Records each template's name and type before any is read. */
static int collect_names(ct_yaml_reader *r, const char *key, struct fy_node *k, struct fy_node *v,
                         void *arg)
{
    tosca_ctx *c = tosca_of(r);
    const char *type = ct_yaml_scalar(ct_yaml_get(v, "type"));
    ct_tosca_node *nodes = arg;
    size_t i = c->n_tpl;

    for (size_t j = 0; j < i; j++)
        if (strcmp(c->tpl_names[j], key) == 0)
            return ct_yaml_err(&c->y, k, "node template %s is defined twice", key);
    c->tpl_names[i] = strdup(key);
    c->tpl_types[i] = type ? strdup(type) : NULL;
    nodes[i].name = strdup(key);
    nodes[i].host = SIZE_MAX;
    c->n_tpl++;
    c->t->n_nodes++;
    if (c->tpl_names[i] == NULL || (type && c->tpl_types[i] == NULL) || nodes[i].name == NULL)
        return ct_yaml_nomem(&c->y);
    nodes[i].loc = (ct_tosca_loc){c->y.file, 0, 0};
    ct_yaml_pos(k, &nodes[i].loc.line, &nodes[i].loc.column);
    return 0;
}

typedef struct tpl_arg {
    ct_tosca_node *node;
    const tosca_type *type;
    const char *what;
    json_t *obj;
    const tosca_capdef *cap; /* capability properties: refinements */
    const tosca_type *cap_type;
} tpl_arg;

static int read_property(ct_yaml_reader *r, const char *key, struct fy_node *k, struct fy_node *v,
                         void *arg)
{
    tosca_ctx *c = tosca_of(r);
    tpl_arg *ta = arg;
    const tosca_propdef *p = NULL;
    char what[300];
    json_t *val;
    int rc;

    if (ta->cap != NULL)
        for (size_t i = 0; i < ta->cap->n_props && p == NULL; i++)
            if (strcmp(ta->cap->props[i].name, key) == 0)
                p = &ta->cap->props[i];
    if (p == NULL)
        p = ct_tosca__prop_find(ta->cap ? ta->cap_type : ta->type, key);
    if (p == NULL)
        return ct_yaml_err(&c->y, k, "%s: %s has no property \"%s\"", ta->what,
                           ta->cap ? ta->cap_type->name : ta->type->name, key);
    snprintf(what, sizeof(what), "%s: property %s", ta->what, key);
    if ((rc = ct_tosca__value(c, &val, v, p->type ? p->type : "string", p->entry, p->constraints,
                              what)) < 0)
        return rc;
    return json_object_set_new(ta->obj, key, val) < 0 ? ct_yaml_nomem(&c->y) : 0;
}

/* Adds defaults and reports required properties left out. */
static int fill_defaults(tosca_ctx *c, struct fy_node *at, const tosca_type *type, json_t *obj,
                         const char *what)
{
    int rc = 0;

    for (const tosca_type *t = type; t != NULL; t = t->parent)
        for (size_t i = 0; i < t->n_props; i++) {
            const tosca_propdef *p = &t->props[i];
            if (ct_tosca__prop_find(type, p->name) != p || json_object_get(obj, p->name))
                continue; /* overridden further down, or given */
            if (p->def != NULL) {
                if (json_object_set(obj, p->name, p->def) < 0)
                    return ct_yaml_nomem(&c->y);
            } else if (p->required) {
                rc = ct_yaml_err(&c->y, at, "%s: missing required property \"%s\"", what, p->name);
            }
        }
    return rc;
}

static int read_props(tosca_ctx *c, tpl_arg *ta, struct fy_node *map, struct fy_node *at)
{
    int rc = 0;

    if (!ct_yaml_is_null(map) && !ct_yaml_is_map(map))
        return ct_yaml_err(&c->y, map, "%s: properties must be a map", ta->what);
    if ((ta->obj = json_object()) == NULL)
        return ct_yaml_nomem(&c->y);
    if (!ct_yaml_is_null(map))
        rc = ct_yaml_each(&c->y, map, read_property, ta);
    if (rc == 0 && ta->cap == NULL)
        rc = fill_defaults(c, at, ta->type, ta->obj, ta->what);
    return rc;
}

static int read_capability(ct_yaml_reader *r, const char *key, struct fy_node *k, struct fy_node *v,
                           void *arg)
{
    tosca_ctx *c = tosca_of(r);
    static const char *const cap_keys[] = {"properties", "attributes", NULL};
    tpl_arg *outer = arg, ta = *outer;
    char what[300];
    json_t *cap;
    int rc;

    if ((ta.cap = ct_tosca__cap_find(outer->type, key)) == NULL)
        return ct_yaml_err(&c->y, k, "%s: %s has no capability \"%s\"", outer->what,
                           outer->type->name, key);
    if ((ta.cap_type = ct_tosca__type_find(c->t->types, TK_CAPABILITY, ta.cap->type)) == NULL)
        return 0; /* reported with the type */
    snprintf(what, sizeof(what), "%s: capability %s", outer->what, key);
    ta.what = what;
    if (!ct_yaml_is_null(v) && !ct_yaml_is_map(v))
        return ct_yaml_err(&c->y, v, "%s must be a map", what);
    if (ct_yaml_check_keys(&c->y, v, what, cap_keys) != 0)
        return c->y.nomem ? CT_ENOMEM : CT_EPARSE;
    rc = read_props(c, &ta, ct_yaml_get(v, "properties"), k);
    if (ta.obj == NULL)
        return rc;
    if ((cap = json_object()) == NULL) {
        json_decref(ta.obj);
        return ct_yaml_nomem(&c->y);
    }
    if (json_object_set_new(cap, "properties", ta.obj) < 0 ||
        json_object_set_new(outer->obj, key, cap) < 0)
        return ct_yaml_nomem(&c->y);
    return rc;
}

/* ---------------------------------------------------------------- requirements */

static int read_req_body(tosca_ctx *c, ct_tosca_req *r, struct fy_node *v, const char *what)
{
    struct fy_node *n;
    int rc;

    if (!ct_yaml_is_map(v))
        return ct_yaml_strdup(&c->y, &r->node, v, what);
    if (ct_yaml_check_keys(&c->y, v, what, req_keys) != 0)
        return c->y.nomem ? CT_ENOMEM : CT_EPARSE;
    if ((n = ct_yaml_get(v, "node")) != NULL && (rc = ct_yaml_strdup(&c->y, &r->node, n, what)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "capability")) != NULL &&
        (rc = ct_yaml_strdup(&c->y, &r->capability, n, what)) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "relationship")) != NULL) {
        if (ct_yaml_is_map(n))
            n = ct_yaml_get(n, "type");
        if ((rc = ct_yaml_strdup(&c->y, &r->relationship, n, what)) < 0)
            return rc;
    }
    return 0;
}

/* Checks that the target offers what the requirement asks for. */
static int check_target(tosca_ctx *c, struct fy_node *at, const ct_tosca_req *r,
                        const tosca_reqdef *rd, const char *what)
{
    /* The target may not be read yet: use the type name seen beforehand. */
    const tosca_type *tt = ct_tosca__type_find(c->t->types, TK_NODE, c->tpl_types[r->target]);
    const tosca_type *want;
    const char *cap = r->capability ? r->capability : rd->capability;

    if (tt == NULL)
        return 0; /* its own error was reported */
    if (rd->node != NULL && (want = ct_tosca__type_find(c->t->types, TK_NODE, rd->node)) != NULL &&
        !ct_tosca__type_derives(tt, want))
        return ct_yaml_err(&c->y, at, "%s: %s is a %s, not a %s", what, r->node, tt->name,
                           want->name);
    if (cap == NULL || ct_tosca__cap_find(tt, cap) != NULL)
        return 0;
    want = ct_tosca__type_find(c->t->types, TK_CAPABILITY, cap);
    for (const tosca_type *t = tt; want != NULL && t != NULL; t = t->parent)
        for (size_t i = 0; i < t->n_caps; i++) {
            const tosca_type *ct = ct_tosca__type_find(c->t->types, TK_CAPABILITY, t->caps[i].type);
            if (ct != NULL && ct_tosca__type_derives(ct, want))
                return 0;
        }
    return ct_yaml_err(&c->y, at, "%s: %s (%s) has no capability %s", what, r->node, tt->name, cap);
}

/* A requirement places its node on the target when it is called "host" or
 * its relationship is (derived from) HostedOn. */
static bool is_hosted_on(tosca_ctx *c, const char *name, const ct_tosca_req *r,
                         const tosca_reqdef *rd)
{
    const char *rel = r->relationship ? r->relationship : rd->relationship;
    const tosca_type *t, *hosted;

    if (strcmp(name, "host") == 0)
        return true;
    t = ct_tosca__type_find(c->t->types, TK_RELATIONSHIP, rel);
    hosted = ct_tosca__type_find(c->t->types, TK_RELATIONSHIP, "tosca.relationships.HostedOn");
    return t != NULL && hosted != NULL && ct_tosca__type_derives(t, hosted);
}

static int read_req(tosca_ctx *c, tpl_arg *ta, struct fy_node *item)
{
    struct fy_node *m = ct_yaml_deref(item);
    const tosca_reqdef *rd;
    struct fy_node_pair *p;
    ct_tosca_node *node = ta->node;
    ct_tosca_req *r, *v;
    void *it = NULL;
    const char *name;
    char what[300];
    int rc;

    if (m == NULL || !fy_node_is_mapping(m) || fy_node_mapping_item_count(m) != 1)
        return ct_yaml_err(&c->y, item, "%s: each requirement is a map with one name", ta->what);
    p = fy_node_mapping_iterate(m, &it);
    if ((name = ct_yaml_scalar(fy_node_pair_key(p))) == NULL)
        return ct_yaml_err(&c->y, item, "%s: a requirement name must be a string", ta->what);
    if ((rd = ct_tosca__req_find(ta->type, name)) == NULL)
        return ct_yaml_err(&c->y, item, "%s: %s has no requirement \"%s\"", ta->what,
                           ta->type->name, name);
    if ((v = realloc(node->reqs, (node->n_reqs + 1) * sizeof(*v))) == NULL)
        return ct_yaml_nomem(&c->y);
    node->reqs = v;
    r = memset(&v[node->n_reqs++], 0, sizeof(*r));
    r->target = SIZE_MAX;
    r->loc = (ct_tosca_loc){c->y.file, 0, 0};
    ct_yaml_pos(item, &r->loc.line, &r->loc.column);
    snprintf(what, sizeof(what), "%s: requirement %s", ta->what, name);
    if ((r->name = strdup(name)) == NULL)
        return ct_yaml_nomem(&c->y);
    if ((rc = read_req_body(c, r, fy_node_pair_value(p), what)) < 0 || r->node == NULL)
        return rc;
    if ((r->target = ct_tosca_node_find(c->t, r->node)) == SIZE_MAX) {
        if (ct_tosca__type_find(c->t->types, TK_NODE, r->node) != NULL) {
            free(r->node); /* a node type: left for the orchestrator to choose */
            r->node = NULL;
            return 0;
        }
        return ct_yaml_err(&c->y, fy_node_pair_value(p), "%s: there is no node template \"%s\"",
                           what, r->node);
    }
    if (r->target == (size_t)(node - c->t->nodes))
        return ct_yaml_err(&c->y, item, "%s: a node cannot require itself", what);
    if (is_hosted_on(c, name, r, rd))
        node->host = r->target;
    return check_target(c, fy_node_pair_value(p), r, rd, what);
}

static int read_reqs(tosca_ctx *c, tpl_arg *ta, struct fy_node *seq)
{
    struct fy_node *item;
    void *it = NULL;
    int rc = 0, r;

    if (ct_yaml_is_null(seq))
        return 0;
    if (!ct_yaml_is_seq(seq))
        return ct_yaml_err(&c->y, seq, "%s: requirements must be a list", ta->what);
    seq = ct_yaml_deref(seq);
    while ((item = fy_node_sequence_iterate(seq, &it)) != NULL && !c->y.nomem)
        if ((r = read_req(c, ta, item)) < 0)
            rc = r;
    return c->y.nomem ? CT_ENOMEM : rc;
}

/* ---------------------------------------------------------------- templates */

static int read_metadata(ct_yaml_reader *r, const char *key, struct fy_node *k, struct fy_node *v,
                         void *arg)
{
    tosca_ctx *c = tosca_of(r);
    json_t *obj = arg;
    const char *s = ct_yaml_scalar(v);
    json_t *js;

    if (s == NULL || ct_yaml_is_null(v))
        return ct_yaml_err(&c->y, v ? v : k, "metadata %s must be a string", key);
    if ((js = json_string(s)) == NULL)
        return ct_yaml_err(&c->y, v, "metadata %s is not valid UTF-8", key);
    return json_object_set_new(obj, key, js) < 0 ? ct_yaml_nomem(&c->y) : 0;
}

static int read_tpl_parts(tosca_ctx *c, tpl_arg *ta, struct fy_node *k, struct fy_node *v)
{
    ct_tosca_node *node = ta->node;
    struct fy_node *n;
    int rc = 0, r;

    if ((node->metadata = json_object()) == NULL)
        return ct_yaml_nomem(&c->y);
    if ((n = ct_yaml_get(v, "metadata")) != NULL && !ct_yaml_is_null(n) &&
        (r = ct_yaml_is_map(n) ? ct_yaml_each(&c->y, n, read_metadata, node->metadata)
                               : ct_yaml_err(&c->y, n, "%s: metadata must be a map", ta->what)) < 0)
        rc = r;
    if ((r = read_props(c, ta, ct_yaml_get(v, "properties"), k)) < 0)
        rc = r;
    node->properties = ta->obj;
    if ((node->capabilities = ta->obj = json_object()) == NULL)
        return ct_yaml_nomem(&c->y);
    if ((n = ct_yaml_get(v, "capabilities")) != NULL && !ct_yaml_is_null(n) &&
        (r = ct_yaml_is_map(n)
                 ? ct_yaml_each(&c->y, n, read_capability, ta)
                 : ct_yaml_err(&c->y, n, "%s: capabilities must be a map", ta->what)) < 0)
        rc = r;
    if ((r = read_reqs(c, ta, ct_yaml_get(v, "requirements"))) < 0)
        rc = r;
    if ((n = ct_yaml_get(v, "interfaces")) != NULL &&
        (r = ct_yaml_to_json(&c->y, &node->interfaces, n, 0)) < 0)
        rc = r;
    return c->y.nomem ? CT_ENOMEM : rc;
}

static int read_template(ct_yaml_reader *r, const char *key, struct fy_node *k, struct fy_node *v,
                         void *arg)
{
    tosca_ctx *c = tosca_of(r);
    size_t i = ct_tosca_node_find(c->t, key);
    ct_tosca_node *node = &c->t->nodes[i];
    struct fy_node *tn = ct_yaml_get(v, "type"), *n;
    char what[200];
    tpl_arg ta;
    int rc;

    (void)arg;
    snprintf(what, sizeof(what), "node template %s", key);
    if (!ct_yaml_is_map(v))
        return ct_yaml_err(&c->y, v ? v : k, "%s must be a map", what);
    if (ct_yaml_check_keys(&c->y, v, what, tpl_keys) != 0 && c->y.nomem)
        return CT_ENOMEM;
    if (tn == NULL)
        return ct_yaml_err(&c->y, k, "%s: missing \"type\"", what);
    memset(&ta, 0, sizeof(ta));
    ta.node = node;
    ta.what = what;
    if ((ta.type = ct_tosca__type_find(c->t->types, TK_NODE, ct_yaml_scalar(tn))) == NULL)
        return ct_yaml_err(&c->y, tn, "%s: unknown node type \"%s\"", what,
                           ct_yaml_scalar(tn) ? ct_yaml_scalar(tn) : "?");
    if ((node->type = strdup(ta.type->name)) == NULL)
        return ct_yaml_nomem(&c->y);
    node->is_compute = ct_tosca_type_is(c->t, ta.type->name, "tosca.nodes.Compute");
    if ((n = ct_yaml_get(v, "description")) != NULL &&
        (rc = ct_yaml_strdup(&c->y, &node->description, n, "description")) < 0)
        return rc;
    c->self_type = ta.type->name;
    rc = read_tpl_parts(c, &ta, k, v);
    c->self_type = NULL;
    return rc;
}

static int read_templates(tosca_ctx *c, struct fy_node *map)
{
    size_t n;
    int rc;

    if (ct_yaml_is_null(map))
        return 0;
    if (!ct_yaml_is_map(map))
        return ct_yaml_err(&c->y, map, "node_templates must be a map");
    n = (size_t)fy_node_mapping_item_count(ct_yaml_deref(map));
    if (n > TOSCA_MAX_NODES)
        return ct_yaml_err(&c->y, map, "more than %d node templates", TOSCA_MAX_NODES);
    c->tpl_names = calloc(n ? n : 1, sizeof(char *));
    c->tpl_types = calloc(n ? n : 1, sizeof(char *));
    c->t->nodes = calloc(n ? n : 1, sizeof(ct_tosca_node));
    if (c->tpl_names == NULL || c->tpl_types == NULL || c->t->nodes == NULL)
        return ct_yaml_nomem(&c->y);
    if ((rc = ct_yaml_each(&c->y, map, collect_names, c->t->nodes)) < 0)
        return rc;
    return ct_yaml_each(&c->y, map, read_template, NULL);
}

/* ---------------------------------------------------------------- outputs */

static int read_output(ct_yaml_reader *r, const char *key, struct fy_node *k, struct fy_node *v,
                       void *arg)
{
    tosca_ctx *c = tosca_of(r);
    ct_tosca_output *o = &c->t->outputs[c->t->n_outputs];
    struct fy_node *n;
    char what[200];
    int rc;

    (void)arg;
    memset(o, 0, sizeof(*o));
    snprintf(what, sizeof(what), "output %s", key);
    if ((o->name = strdup(key)) == NULL)
        return ct_yaml_nomem(&c->y);
    o->loc = (ct_tosca_loc){c->y.file, 0, 0};
    ct_yaml_pos(k, &o->loc.line, &o->loc.column);
    c->t->n_outputs++;
    if (!ct_yaml_is_map(v))
        return ct_yaml_err(&c->y, v ? v : k, "%s must be a map", what);
    if (ct_yaml_check_keys(&c->y, v, what, output_keys) != 0)
        return c->y.nomem ? CT_ENOMEM : CT_EPARSE;
    if ((n = ct_yaml_get(v, "description")) != NULL &&
        (rc = ct_yaml_strdup(&c->y, &o->description, n, "description")) < 0)
        return rc;
    if ((n = ct_yaml_get(v, "value")) == NULL)
        return ct_yaml_err(&c->y, k, "%s: missing \"value\"", what);
    return ct_yaml_to_json(&c->y, &o->value, n, 0);
}

static int read_outputs(tosca_ctx *c, struct fy_node *map)
{
    size_t n;

    if (ct_yaml_is_null(map))
        return 0;
    if (!ct_yaml_is_map(map))
        return ct_yaml_err(&c->y, map, "outputs must be a map");
    n = (size_t)fy_node_mapping_item_count(ct_yaml_deref(map));
    if ((c->t->outputs = calloc(n ? n : 1, sizeof(ct_tosca_output))) == NULL)
        return ct_yaml_nomem(&c->y);
    return ct_yaml_each(&c->y, map, read_output, NULL);
}

int ct_tosca__read_topology(tosca_ctx *c, struct fy_node *topo)
{
    struct fy_node *n;
    int rc = 0, r;

    if (ct_yaml_is_null(topo))
        return check_given_inputs(c);
    if (!ct_yaml_is_map(topo))
        return ct_yaml_err(&c->y, topo, "topology_template must be a map");
    if (ct_yaml_check_keys(&c->y, topo, "topology_template", topo_keys) != 0)
        rc = c->y.nomem ? CT_ENOMEM : CT_EPARSE;
    if ((n = ct_yaml_get(topo, "description")) != NULL && ct_yaml_scalar(n) == NULL)
        rc = ct_yaml_err(&c->y, n, "description must be a string");
    c->topology = true;
    if ((r = read_inputs(c, ct_yaml_get(topo, "inputs"))) < 0)
        rc = r;
    if (r != CT_ENOMEM && r != CT_ELIMIT &&
        (r = read_templates(c, ct_yaml_get(topo, "node_templates"))) < 0)
        rc = r;
    if (r != CT_ENOMEM && r != CT_ELIMIT && (r = read_outputs(c, ct_yaml_get(topo, "outputs"))) < 0)
        rc = r;
    c->topology = false;
    return c->y.nomem ? CT_ENOMEM : rc;
}

size_t ct_tosca_node_find(const ct_tosca *t, const char *name)
{
    for (size_t i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].name != NULL && strcmp(t->nodes[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}
