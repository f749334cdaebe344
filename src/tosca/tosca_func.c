/* TOSCA constraints (equal, in_range, valid_values, ...) and intrinsic
 * functions (get_input, get_property, get_attribute, concat, ...): checks
 * that each refers to something that exists. */
#include "tosca_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- constraints */

typedef enum cmp_kind { CMP_NUMBER, CMP_UNIT, CMP_OTHER } cmp_kind;

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

static bool is_function_json(const json_t *v)
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

static bool as_number(const json_t *v, cmp_kind kind, ct_tosca_unit_kind unit, double *out)
{
    char *end;

    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (!json_is_string(v))
        return false;
    if (kind == CMP_UNIT)
        return ct_tosca_scalar_unit(out, json_string_value(v), unit) == 0;
    *out = strtod(json_string_value(v), &end);
    return end != json_string_value(v) && *end == '\0';
}

/* Compares a with b. Returns: <0, 0, >0, or 2 when they cannot be compared
 * (and are not equal). */
static int compare(const json_t *a, const json_t *b, cmp_kind kind, ct_tosca_unit_kind unit)
{
    double x, y;

    if (kind != CMP_OTHER && as_number(a, kind, unit, &x) && as_number(b, kind, unit, &y))
        return (x > y) - (x < y);
    if (json_is_string(a) && json_is_string(b)) {
        int r = strcmp(json_string_value(a), json_string_value(b));
        return (r > 0) - (r < 0);
    }
    return json_equal((json_t *)a, (json_t *)b) ? 0 : 2;
}

static bool length_of(const json_t *v, size_t *out)
{
    if (json_is_string(v))
        *out = json_string_length(v);
    else if (json_is_array(v))
        *out = json_array_size(v);
    else if (json_is_object(v))
        *out = json_object_size(v);
    else
        return false;
    return true;
}

/* Returns: 1 when v satisfies op arg, 0 when not, -1 when arg is unusable. */
static int satisfies(const char *op, const json_t *v, const json_t *arg, cmp_kind kind,
                     ct_tosca_unit_kind unit)
{
    size_t len;
    int r;

    if (strcmp(op, "in_range") == 0) {
        const json_t *hi = json_array_get(arg, 1);
        if (json_array_size(arg) != 2)
            return -1;
        r = compare(v, json_array_get(arg, 0), kind, unit);
        if (json_is_string(hi) && strcmp(json_string_value(hi), "UNBOUNDED") == 0)
            return r >= 0 && r != 2;
        return r >= 0 && r != 2 && compare(v, hi, kind, unit) <= 0;
    }
    if (strcmp(op, "valid_values") == 0) {
        size_t i;
        json_t *item;
        if (!json_is_array(arg))
            return -1;
        json_array_foreach (arg, i, item)
            if (compare(v, item, kind, unit) == 0)
                return 1;
        return 0;
    }
    if (strcmp(op, "length") == 0 || strcmp(op, "min_length") == 0 ||
        strcmp(op, "max_length") == 0) {
        if (!json_is_integer(arg) || !length_of(v, &len))
            return -1;
        json_int_t want = json_integer_value(arg);
        if (op[0] == 'l')
            return (json_int_t)len == want;
        return op[1] == 'i' ? (json_int_t)len >= want : (json_int_t)len <= want;
    }
    if (strcmp(op, "pattern") == 0 || strcmp(op, "schema") == 0)
        return 1; /* not enforced (see docs/PLACEMENT.md) */
    r = compare(v, arg, kind, unit);
    if (strcmp(op, "equal") == 0)
        return r == 0;
    if (r == 2)
        return -1;
    if (strcmp(op, "greater_than") == 0)
        return r > 0;
    if (strcmp(op, "greater_or_equal") == 0)
        return r >= 0;
    if (strcmp(op, "less_than") == 0)
        return r < 0;
    return r <= 0; /* less_or_equal */
}

static int unmet(tosca_ctx *c, struct fy_node *at, const json_t *v, const char *op,
                 const json_t *arg, const char *what, bool bad_arg)
{
    char *vs = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    char *as = json_dumps(arg, JSON_ENCODE_ANY | JSON_COMPACT);
    int rc;

    if (bad_arg)
        rc = ct_yaml_err(&c->y, at, "%s: constraint %s cannot apply its argument %s to %s", what,
                         op, as ? as : "?", vs ? vs : "?");
    else
        rc = ct_yaml_err(&c->y, at, "%s: %s does not satisfy %s %s", what, vs ? vs : "?", op,
                         as ? as : "?");
    free(vs);
    free(as);
    return rc;
}

int ct_tosca__constraints(tosca_ctx *c, struct fy_node *at, const json_t *v, const char *type,
                          const json_t *constraints, const char *what)
{
    ct_tosca_unit_kind unit = CT_TOSCA_UNIT_SIZE;
    cmp_kind kind = CMP_OTHER;
    size_t i;
    json_t *con;

    if (is_function_json(v) || !json_is_array(constraints))
        return 0;
    if (strcmp(type, "integer") == 0 || strcmp(type, "float") == 0)
        kind = CMP_NUMBER;
    else if (strncmp(type, "scalar-unit.", 12) == 0) {
        kind = CMP_UNIT;
        unit = strcmp(type + 12, "time") == 0        ? CT_TOSCA_UNIT_TIME
               : strcmp(type + 12, "frequency") == 0 ? CT_TOSCA_UNIT_FREQUENCY
               : strcmp(type + 12, "bitrate") == 0   ? CT_TOSCA_UNIT_BITRATE
                                                     : CT_TOSCA_UNIT_SIZE;
    }
    json_array_foreach (constraints, i, con) {
        const char *op;
        json_t *arg;
        json_object_foreach (con, op, arg) {
            int ok = satisfies(op, v, arg, kind, unit);
            if (ok != 1)
                return unmet(c, at, v, op, arg, what, ok < 0);
        }
    }
    return 0;
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
