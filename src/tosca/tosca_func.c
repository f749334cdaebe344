/* TOSCA intrinsic functions (get_input, get_property, get_attribute,
 * concat, ...): checks that each refers to something that exists. */
#include "tosca_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fn_names[] = {"get_input",
                                       "get_property",
                                       "get_attribute",
                                       "get_operation_output",
                                       "get_nodes_of_type",
                                       "get_artifact",
                                       "concat",
                                       "join",
                                       "token",
                                       NULL};

static bool is_fn_name(const char *key)
{
    for (size_t i = 0; fn_names[i] != NULL; i++)
        if (strcmp(key, fn_names[i]) == 0)
            return true;
    return false;
}

bool ct_tosca__is_function(const json_t *v)
{
    const char *key;
    json_t *val;

    if (!json_is_object(v) || json_object_size(v) != 1)
        return false;
    json_object_foreach ((json_t *)v, key, val) {
        (void)val;
        return is_fn_name(key);
    }
    return false;
}

/* ---------------------------------------------------------------- functions */

static bool is_entity_keyword(const char *s)
{
    return strcmp(s, "SELF") == 0 || strcmp(s, "HOST") == 0 || strcmp(s, "SOURCE") == 0 ||
           strcmp(s, "TARGET") == 0;
}

static int find_tpl(const tosca_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->n_tpl; i++)
        if (strcmp(c->tpl_names[i], name) == 0)
            return (int)i;
    return -1;
}

static int check_input_ref(tosca_ctx *c, struct fy_node *at, struct fy_node *arg)
{
    const char *name = ct_yaml_scalar(
        ct_yaml_is_seq(arg) ? fy_node_sequence_get_by_index(ct_yaml_deref(arg), 0) : arg);

    if (name == NULL)
        return ct_yaml_err(&c->y, at, "get_input takes the name of an input");
    if (!c->topology)
        return ct_yaml_err(&c->y, at, "get_input may only be used in topology_template");
    for (size_t i = 0; i < c->t->n_inputs; i++)
        if (strcmp(c->t->inputs[i].name, name) == 0)
            return 0;
    return ct_yaml_err(&c->y, at, "get_input: there is no input \"%s\"", name);
}

/* Checks the property path of get_property against the entity's type. */
static int check_property_path(tosca_ctx *c, struct fy_node *at, const char *entity,
                               const char *type_name, struct fy_node *seq)
{
    const tosca_type *t = ct_tosca__type_find(c->t->types, TK_NODE, type_name);
    const char *p1 = ct_yaml_scalar(fy_node_sequence_get_by_index(seq, 1));
    const char *p2 = ct_yaml_scalar(fy_node_sequence_get_by_index(seq, 2));
    const tosca_capdef *cd;

    if (t == NULL || p1 == NULL)
        return 0; /* unknown types are reported on the template itself */
    if (ct_tosca__prop_find(t, p1) != NULL || ct_tosca__req_find(t, p1) != NULL)
        return 0;
    if ((cd = ct_tosca__cap_find(t, p1)) != NULL) {
        const tosca_type *ct = ct_tosca__type_find(c->t->types, TK_CAPABILITY, cd->type);
        if (p2 == NULL || ct == NULL || ct_tosca__prop_find(ct, p2) != NULL)
            return 0;
        for (size_t i = 0; i < cd->n_props; i++)
            if (strcmp(cd->props[i].name, p2) == 0)
                return 0;
        return ct_yaml_err(&c->y, at, "get_property: capability %s of %s has no property \"%s\"",
                           p1, entity, p2);
    }
    return ct_yaml_err(&c->y, at, "get_property: %s (%s) has no property or capability \"%s\"",
                       entity, t->name, p1);
}

static int check_entity_fn(tosca_ctx *c, struct fy_node *at, const char *fn, struct fy_node *arg)
{
    struct fy_node *seq = ct_yaml_deref(arg);
    const char *entity;
    int idx;

    if (seq == NULL || !fy_node_is_sequence(seq) || fy_node_sequence_item_count(seq) < 2)
        return ct_yaml_err(&c->y, at, "%s takes a list: [entity, name, ...]", fn);
    entity = ct_yaml_scalar(fy_node_sequence_get_by_index(seq, 0));
    if (entity == NULL)
        return ct_yaml_err(&c->y, at, "%s: the entity must be a name", fn);
    if (is_entity_keyword(entity)) {
        if (strcmp(fn, "get_property") == 0 && strcmp(entity, "SELF") == 0 && c->self_type)
            return check_property_path(c, at, "SELF", c->self_type, seq);
        return 0;
    }
    if ((idx = find_tpl(c, entity)) < 0)
        return ct_yaml_err(&c->y, at, "%s: there is no node template \"%s\"", fn, entity);
    if (strcmp(fn, "get_property") == 0 && c->tpl_types[idx] != NULL)
        return check_property_path(c, at, entity, c->tpl_types[idx], seq);
    return 0;
}

static int check_fn_args(tosca_ctx *c, struct fy_node *at, const char *fn, struct fy_node *arg)
{
    size_t n = ct_yaml_is_seq(arg) ? (size_t)fy_node_sequence_item_count(ct_yaml_deref(arg)) : 0;

    if (strcmp(fn, "get_input") == 0)
        return check_input_ref(c, at, arg);
    if (strcmp(fn, "get_property") == 0 || strcmp(fn, "get_attribute") == 0 ||
        strcmp(fn, "get_artifact") == 0)
        return check_entity_fn(c, at, fn, arg);
    if (strcmp(fn, "get_nodes_of_type") == 0)
        return ct_yaml_scalar(arg) ? 0 : ct_yaml_err(&c->y, at, "%s takes a type name", fn);
    if ((strcmp(fn, "concat") == 0 || strcmp(fn, "join") == 0) && !ct_yaml_is_seq(arg))
        return ct_yaml_err(&c->y, at, "%s takes a list", fn);
    if (strcmp(fn, "token") == 0 && n != 3)
        return ct_yaml_err(&c->y, at, "token takes [string, separators, index]");
    if (strcmp(fn, "get_operation_output") == 0 && n != 4)
        return ct_yaml_err(&c->y, at,
                           "get_operation_output takes [entity, interface, operation, "
                           "output]");
    return 0;
}

int ct_tosca__function(tosca_ctx *c, json_t **out, bool *is_fn, struct fy_node *n, int depth)
{
    struct fy_node_pair *p;
    void *it = NULL;
    const char *fn;
    json_t *args, *obj;
    int rc;

    *is_fn = false;
    if (n == NULL || !fy_node_is_mapping(n) || fy_node_mapping_item_count(n) != 1)
        return 0;
    p = fy_node_mapping_iterate(n, &it);
    fn = ct_yaml_scalar(fy_node_pair_key(p));
    if (fn == NULL || !is_fn_name(fn))
        return 0;
    *is_fn = true;
    if ((rc = check_fn_args(c, fy_node_pair_key(p), fn, fy_node_pair_value(p))) < 0)
        return rc;
    if ((rc = ct_yaml_to_json(&c->y, &args, fy_node_pair_value(p), depth + 1)) < 0)
        return rc;
    if ((obj = json_object()) == NULL) {
        json_decref(args);
        return ct_yaml_nomem(&c->y);
    }
    if (json_object_set_new(obj, fn, args) < 0) {
        json_decref(obj);
        return ct_yaml_nomem(&c->y);
    }
    *out = obj;
    return 0;
}

int ct_tosca__map_hook(ct_yaml_reader *r, json_t **out, bool *is_fn, struct fy_node *n, int depth)
{
    return ct_tosca__function(tosca_of(r), out, is_fn, n, depth);
}
