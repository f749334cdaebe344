/* Translation of a placed TOSCA template to an OpenStack Heat Orchestration
 * Template: inputs to parameters, Compute nodes to OS::Nova::Server on
 * their chosen host and flavour, lifecycle scripts of software components
 * to SoftwareConfig/SoftwareDeployment pairs, outputs to outputs. */
#include "tosca_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOT_VERSION "2016-10-14"

typedef struct hot_ctx {
    const ct_tosca *t;
    const ct_tosca_binding *b;
    size_t n;
    size_t *compute; /* per node: its Compute node, SIZE_MAX if none */
} hot_ctx;

static const char *const operations[] = {"create", "configure", "start", NULL};

static int nomem(void)
{
    return ct_error_set(CT_ENOMEM, "hot: out of memory");
}

/* Sets key of obj to v (stolen). Returns: 0 or CT_ENOMEM. */
static int put(json_t *obj, const char *key, json_t *v)
{
    if (v == NULL)
        return nomem();
    return json_object_set_new(obj, key, v) < 0 ? nomem() : 0;
}

static const ct_tosca_binding *binding_of(const hot_ctx *h, const char *node)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->b[i].node, node) == 0)
            return &h->b[i];
    return NULL;
}

/* ---------------------------------------------------------------- functions */

static json_t *translate(const hot_ctx *h, const json_t *v, size_t self, int depth);

/* get_attribute [node, attr] -> get_attr of the node's server. */
static json_t *hot_attr(const hot_ctx *h, const json_t *args, size_t self)
{
    const char *entity = json_string_value(json_array_get(args, 0));
    const char *attr = json_string_value(json_array_get(args, 1));
    size_t node = entity == NULL                ? SIZE_MAX
                  : strcmp(entity, "SELF") == 0 ? self
                                                : ct_tosca_node_find(h->t, entity);

    if (node == SIZE_MAX || attr == NULL)
        return json_deep_copy(args);
    if (h->compute[node] != SIZE_MAX &&
        (strcmp(attr, "private_address") == 0 || strcmp(attr, "public_address") == 0 ||
         strcmp(attr, "ip_address") == 0))
        return json_pack("{s[ss]}", "get_attr", h->t->nodes[h->compute[node]].name,
                         "first_address");
    return json_pack("{s[ss]}", "get_attr", h->t->nodes[node].name, attr);
}

/* get_property [node, (capability,) name] -> its value in the template. */
static json_t *hot_prop(const hot_ctx *h, const json_t *args, size_t self, int depth)
{
    const char *entity = json_string_value(json_array_get(args, 0));
    const char *p1 = json_string_value(json_array_get(args, 1));
    const char *p2 = json_string_value(json_array_get(args, 2));
    size_t node = entity == NULL                ? SIZE_MAX
                  : strcmp(entity, "SELF") == 0 ? self
                                                : ct_tosca_node_find(h->t, entity);
    const json_t *v = NULL;

    if (node != SIZE_MAX && p1 != NULL) {
        const ct_tosca_node *n = &h->t->nodes[node];
        v = json_object_get(n->properties, p1);
        if (v == NULL && p2 != NULL)
            v = json_object_get(json_object_get(json_object_get(n->capabilities, p1), "properties"),
                                p2);
    }
    return v ? translate(h, v, node, depth + 1) : json_null();
}

static json_t *translate_fn(const hot_ctx *h, const char *fn, const json_t *args, size_t self,
                            int depth)
{
    if (strcmp(fn, "get_input") == 0)
        return json_pack("{sO}", "get_param", (json_t *)args);
    if (strcmp(fn, "get_attribute") == 0)
        return hot_attr(h, args, self);
    if (strcmp(fn, "get_property") == 0)
        return hot_prop(h, args, self, depth);
    if (strcmp(fn, "concat") == 0) {
        json_t *list = translate(h, args, self, depth + 1);
        return list ? json_pack("{s[so]}", "list_join", "", list) : NULL;
    }
    return json_deep_copy(args); /* no HOT counterpart: keep the arguments */
}

static json_t *translate(const hot_ctx *h, const json_t *v, size_t self, int depth)
{
    const char *key;
    json_t *item, *out;
    size_t i;

    if (depth > CT_YAML_MAX_DEPTH)
        return json_null();
    if (json_is_object(v) && json_object_size(v) == 1) {
        json_object_foreach ((json_t *)v, key, item) {
            if (strncmp(key, "get_", 4) == 0 || strcmp(key, "concat") == 0)
                return translate_fn(h, key, item, self, depth);
        }
    }
    if (json_is_array(v)) {
        if ((out = json_array()) == NULL)
            return NULL;
        json_array_foreach (v, i, item)
            if (json_array_append_new(out, translate(h, item, self, depth + 1)) < 0) {
                json_decref(out);
                return NULL;
            }
        return out;
    }
    if (json_is_object(v)) {
        if ((out = json_object()) == NULL)
            return NULL;
        json_object_foreach ((json_t *)v, key, item)
            if (json_object_set_new(out, key, translate(h, item, self, depth + 1)) < 0) {
                json_decref(out);
                return NULL;
            }
        return out;
    }
    return json_deep_copy(v);
}

/* ---------------------------------------------------------------- parameters */

static const char *param_type(const char *type)
{
    if (strcmp(type, "integer") == 0 || strcmp(type, "float") == 0 ||
        strstr(type, "PortDef") != NULL)
        return "number";
    if (strcmp(type, "boolean") == 0)
        return "boolean";
    if (strcmp(type, "list") == 0)
        return "comma_delimited_list";
    if (strcmp(type, "map") == 0)
        return "json";
    return "string";
}

static int add_parameters(const hot_ctx *h, json_t *hot)
{
    json_t *params;
    int rc = 0;

    if (h->t->n_inputs == 0)
        return 0;
    if ((rc = put(hot, "parameters", params = json_object())) < 0)
        return rc;
    for (size_t i = 0; i < h->t->n_inputs && rc == 0; i++) {
        const ct_tosca_input *in = &h->t->inputs[i];
        json_t *p = json_object();
        if ((rc = put(params, in->name, p)) < 0)
            break;
        rc = put(p, "type", json_string(param_type(in->type)));
        if (rc == 0 && in->description)
            rc = put(p, "description", json_string(in->description));
        if (rc == 0 && in->value)
            rc = put(p, "default", json_deep_copy(in->value));
    }
    return rc;
}

/* ---------------------------------------------------------------- servers */

static json_t *image_name(const ct_tosca_node *n, const char *arch)
{
    const json_t *os = json_object_get(json_object_get(n->capabilities, "os"), "properties");
    const char *dist = json_string_value(json_object_get(os, "distribution"));
    const char *ver = json_string_value(json_object_get(os, "version"));
    char buf[256];

    if (dist == NULL)
        return json_string(arch ? arch : "image");
    snprintf(buf, sizeof(buf), "%s%s%s-%s", dist, ver ? "-" : "", ver ? ver : "",
             arch ? arch : "any");
    for (char *p = buf; *p; p++)
        *p = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
    return json_string(buf);
}

static int add_server(const hot_ctx *h, json_t *resources, const ct_tosca_binding *b)
{
    const ct_tosca_node *n = &h->t->nodes[ct_tosca_node_find(h->t, b->node)];
    json_t *res = json_object(), *props, *meta;
    char zone[512];
    int rc;

    snprintf(zone, sizeof(zone), "%s:%s", b->dc ? b->dc : "nova", b->host);
    if ((rc = put(resources, b->node, res)) < 0 ||
        (rc = put(res, "type", json_string("OS::Nova::Server"))) < 0 ||
        (rc = put(res, "properties", props = json_object())) < 0 ||
        (rc = put(props, "flavor", json_string(b->flavor ? b->flavor : "custom"))) < 0 ||
        (rc = put(props, "image", image_name(n, b->arch))) < 0 ||
        (rc = put(props, "availability_zone", json_string(zone))) < 0 ||
        (rc = put(props, "user_data_format", json_string("SOFTWARE_CONFIG"))) < 0 ||
        (rc = put(props, "metadata", meta = json_object())) < 0 ||
        (rc = put(meta, "catena.host", json_string(b->host))) < 0)
        return rc;
    if (b->dc && (rc = put(meta, "catena.dc", json_string(b->dc))) < 0)
        return rc;
    return b->model ? put(meta, "catena.model", json_string(b->model)) : 0;
}

/* ---------------------------------------------------------------- software */

/* Returns: the script of a lifecycle operation, or NULL. */
static const char *implementation(const json_t *op)
{
    const json_t *impl;

    if (json_is_string(op))
        return json_string_value(op);
    impl = json_object_get(op, "implementation");
    if (json_is_object(impl))
        impl = json_object_get(impl, "primary");
    return json_string_value(impl);
}

static const json_t *operation(const ct_tosca_node *n, const char *op)
{
    return json_object_get(json_object_get(n->interfaces, "Standard"), op);
}

/* Writes the name of the last deployment of node i into buf ("" if none). */
static void last_deploy(const hot_ctx *h, size_t i, char *buf, size_t size)
{
    buf[0] = '\0';
    if (h->compute[i] == SIZE_MAX || h->compute[i] == i ||
        binding_of(h, h->t->nodes[h->compute[i]].name) == NULL)
        return;
    for (size_t k = 0; operations[k] != NULL; k++)
        if (implementation(operation(&h->t->nodes[i], operations[k])) != NULL)
            snprintf(buf, size, "%s_%s_deploy", h->t->nodes[i].name, operations[k]);
}

/* The deployments the first operation of node i waits for: the last one of
 * each software component it requires. */
static json_t *first_depends(const hot_ctx *h, size_t i)
{
    const ct_tosca_node *n = &h->t->nodes[i];
    json_t *deps = json_array();
    char name[600];

    for (size_t r = 0; deps != NULL && r < n->n_reqs; r++) {
        if (n->reqs[r].target == SIZE_MAX)
            continue;
        last_deploy(h, n->reqs[r].target, name, sizeof(name));
        if (name[0] != '\0' && json_array_append_new(deps, json_string(name)) < 0) {
            json_decref(deps);
            return NULL;
        }
    }
    return deps;
}

static int add_config(json_t *resources, const char *name, const char *impl, const json_t *inputs)
{
    json_t *res = json_object(), *props, *list, *cfg;
    const char *key;
    json_t *v;
    int rc;

    if ((rc = put(resources, name, res)) < 0 ||
        (rc = put(res, "type", json_string("OS::Heat::SoftwareConfig"))) < 0 ||
        (rc = put(res, "properties", props = json_object())) < 0 ||
        (rc = put(props, "group", json_string("script"))) < 0 ||
        (rc = put(props, "config", cfg = json_object())) < 0 ||
        (rc = put(cfg, "get_file", json_string(impl))) < 0)
        return rc;
    if (json_object_size(inputs) == 0)
        return 0;
    if ((rc = put(props, "inputs", list = json_array())) < 0)
        return rc;
    json_object_foreach ((json_t *)inputs, key, v) {
        (void)v;
        if (json_array_append_new(list, json_pack("{ss}", "name", key)) < 0)
            return nomem();
    }
    return 0;
}

static int add_deploy(const hot_ctx *h, json_t *resources, size_t i, const char *op,
                      json_t *depends)
{
    const ct_tosca_node *n = &h->t->nodes[i];
    const json_t *inputs = json_object_get(operation(n, op), "inputs");
    char name[600], config[600];
    json_t *res = json_object(), *props;
    int rc;

    snprintf(name, sizeof(name), "%s_%s_deploy", n->name, op);
    snprintf(config, sizeof(config), "%s_%s_config", n->name, op);
    if ((rc = put(resources, name, res)) < 0 ||
        (rc = put(res, "type", json_string("OS::Heat::SoftwareDeployment"))) < 0 ||
        (rc = put(res, "properties", props = json_object())) < 0 ||
        (rc = put(props, "config", json_pack("{ss}", "get_resource", config))) < 0 ||
        (rc = put(props, "server",
                  json_pack("{ss}", "get_resource", h->t->nodes[h->compute[i]].name))) < 0 ||
        (rc = put(props, "signal_transport", json_string("HEAT_SIGNAL"))) < 0)
        return rc;
    if (json_object_size(inputs) > 0 &&
        (rc = put(props, "input_values", translate(h, inputs, i, 0))) < 0)
        return rc;
    if (json_array_size(depends) > 0)
        rc = put(res, "depends_on", json_incref(depends));
    return rc;
}

static int add_component(const hot_ctx *h, json_t *resources, size_t i)
{
    const ct_tosca_node *n = &h->t->nodes[i];
    json_t *depends = first_depends(h, i);
    char prev[600];
    int rc = 0;

    if (depends == NULL)
        return nomem();
    for (size_t k = 0; operations[k] != NULL && rc == 0; k++) {
        const json_t *op = operation(n, operations[k]);
        const char *impl = implementation(op);
        char config[600];
        if (impl == NULL)
            continue;
        snprintf(config, sizeof(config), "%s_%s_config", n->name, operations[k]);
        if ((rc = add_config(resources, config, impl, json_object_get(op, "inputs"))) < 0 ||
            (rc = add_deploy(h, resources, i, operations[k], depends)) < 0)
            break;
        snprintf(prev, sizeof(prev), "%s_%s_deploy", n->name, operations[k]);
        json_decref(depends); /* the next operation waits for this one only */
        if ((depends = json_pack("[s]", prev)) == NULL)
            return nomem();
    }
    json_decref(depends);
    return rc;
}

/* ---------------------------------------------------------------- template */

static int add_outputs(const hot_ctx *h, json_t *hot)
{
    json_t *outs;
    int rc;

    if (h->t->n_outputs == 0)
        return 0;
    if ((rc = put(hot, "outputs", outs = json_object())) < 0)
        return rc;
    for (size_t i = 0; i < h->t->n_outputs; i++) {
        const ct_tosca_output *o = &h->t->outputs[i];
        json_t *out = json_object();
        if ((rc = put(outs, o->name, out)) < 0 ||
            (o->description && (rc = put(out, "description", json_string(o->description))) < 0) ||
            (rc = put(out, "value", translate(h, o->value, SIZE_MAX, 0))) < 0)
            return rc;
    }
    return 0;
}

static int build(const hot_ctx *h, json_t *hot)
{
    json_t *resources;
    int rc;

    if ((rc = put(hot, "heat_template_version", json_string(HOT_VERSION))) < 0 ||
        (rc = put(hot, "description",
                  json_string(h->t->description ? h->t->description
                                                : "Placed by catena from a TOSCA template"))) < 0 ||
        (rc = add_parameters(h, hot)) < 0 ||
        (rc = put(hot, "resources", resources = json_object())) < 0)
        return rc;
    for (size_t i = 0; i < h->n && rc == 0; i++)
        rc = add_server(h, resources, &h->b[i]);
    for (size_t i = 0; i < h->t->n_nodes && rc == 0; i++) {
        size_t c = h->compute[i];
        if (c != SIZE_MAX && c != i && binding_of(h, h->t->nodes[c].name) != NULL)
            rc = add_component(h, resources, i);
    }
    return rc < 0 ? rc : add_outputs(h, hot);
}

int ct_tosca_emit_hot(char **out, const ct_tosca *t, const ct_tosca_binding *b, size_t n)
{
    hot_ctx h = {t, b, n, NULL};
    json_t *hot = NULL;
    int rc;

    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t k = ct_tosca_node_find(t, b[i].node);
        if (k == SIZE_MAX || !t->nodes[k].is_compute || b[i].host == NULL)
            return ct_error_set(CT_ENOTFOUND, "hot: %s is not a placed Compute node template",
                                b[i].node);
    }
    if ((h.compute = calloc(t->n_nodes ? t->n_nodes : 1, sizeof(size_t))) == NULL ||
        (hot = json_object()) == NULL) {
        rc = nomem();
        goto done;
    }
    for (size_t i = 0; i < t->n_nodes; i++) {
        size_t c = i, hops = 0;
        while (c != SIZE_MAX && !t->nodes[c].is_compute && hops++ <= t->n_nodes)
            c = t->nodes[c].host;
        h.compute[i] = (c != SIZE_MAX && t->nodes[c].is_compute) ? c : SIZE_MAX;
    }
    if ((rc = build(&h, hot)) == 0)
        rc = ct_yaml_dump(out, hot);
done:
    json_decref(hot);
    free(h.compute);
    return rc;
}
