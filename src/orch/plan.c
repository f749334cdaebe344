/* An application's services from its TOSCA topology: the node templates of
 * type catena.nodes.Service, their properties checked, in an order that
 * starts each after what it depends on. */
#include "catena/orch.h"
#include "catena/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int node_err(const ct_tosca_node *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets CT_EINVAL with the node's position and name in front of the text. */
static int node_err(const ct_tosca_node *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ct_error_set(CT_EINVAL, "%s:%u:%u: node template %s: %s",
                        n->loc.file ? n->loc.file : "-", n->loc.line, n->loc.column, n->name, msg);
}

/* Returns: the property's value with get_input followed, NULL when absent
 * (0), or an error for a function that does not resolve. */
static int prop(const json_t **out, const ct_tosca *t, const ct_tosca_node *n, const json_t *v,
                const char *what)
{
    const char *input;
    int rc;

    *out = NULL;
    if (v == NULL)
        return 0;
    rc = ct_tosca_value_resolve(out, &input, t, v);
    if (rc == CT_EINVAL)
        return node_err(n, "%s must be a value or get_input", what);
    if (rc < 0)
        return node_err(n, "%s names unknown input %s", what, input);
    if (*out == NULL)
        return node_err(n, "%s needs input %s, which has no value", what, input);
    return 0;
}

static int read_command(ct_orch_service *s, const ct_tosca *t, const ct_tosca_node *n)
{
    const json_t *cmd, *arg;
    size_t i;
    int rc;

    if ((rc = prop(&cmd, t, n, json_object_get(n->properties, "command"), "command")) < 0)
        return rc;
    if (!json_is_array(cmd) || json_array_size(cmd) == 0)
        return node_err(n, "command must be a non-empty list of strings");
    if ((s->command = calloc(json_array_size(cmd) + 1, sizeof(char *))) == NULL)
        return ct_error_set(CT_ENOMEM, "plan: out of memory");
    json_array_foreach (cmd, i, arg) {
        const json_t *a;
        if ((rc = prop(&a, t, n, arg, "command")) < 0)
            return rc;
        if (!json_is_string(a) && !json_is_integer(a))
            return node_err(n, "command entry %zu is not a string", i + 1);
        s->command[i] =
            json_is_string(a) ? strdup(json_string_value(a)) : ct_json_dumps(a, JSON_ENCODE_ANY);
        if (s->command[i] == NULL)
            return ct_error_set(CT_ENOMEM, "plan: out of memory");
        s->n_command = i + 1;
    }
    return 0;
}

static int read_service(ct_orch_service *s, const ct_tosca *t, const ct_tosca_node *n)
{
    const json_t *port, *health;
    int rc;

    if ((s->name = strdup(n->name)) == NULL)
        return ct_error_set(CT_ENOMEM, "plan: out of memory");
    if ((rc = read_command(s, t, n)) < 0)
        return rc;
    if ((rc = prop(&port, t, n, json_object_get(n->properties, "port"), "port")) < 0)
        return rc;
    if (port != NULL && (!json_is_integer(port) || json_integer_value(port) < 0 ||
                         json_integer_value(port) > 65535))
        return node_err(n, "port must be an integer from 0 to 65535");
    s->port = port ? (uint16_t)json_integer_value(port) : 0;
    if ((rc = prop(&health, t, n, json_object_get(n->properties, "health"), "health")) < 0)
        return rc;
    if (health != NULL && (!json_is_string(health) || json_string_value(health)[0] != '/'))
        return node_err(n, "health must be an HTTP path starting with /");
    s->health = strdup(health ? json_string_value(health) : "/");
    return s->health ? 0 : ct_error_set(CT_ENOMEM, "plan: out of memory");
}

/* Kahn's algorithm over the requirements between services; among those
 * ready, template order. order[] receives node indices. */
static int sort_services(size_t *order, const ct_tosca *t, const size_t *svc_of, size_t n_svc)
{
    size_t *missing = calloc(t->n_nodes, sizeof(*missing));
    bool *done = calloc(t->n_nodes, sizeof(*done));
    size_t placed = 0;
    int rc = 0;

    if (missing == NULL || done == NULL) {
        rc = ct_error_set(CT_ENOMEM, "plan: out of memory");
        goto done;
    }
    for (size_t i = 0; i < t->n_nodes; i++)
        for (size_t r = 0; svc_of[i] != SIZE_MAX && r < t->nodes[i].n_reqs; r++) {
            size_t to = t->nodes[i].reqs[r].target;
            if (to != SIZE_MAX && svc_of[to] != SIZE_MAX)
                missing[i]++;
        }
    while (placed < n_svc) {
        size_t next = SIZE_MAX;
        for (size_t i = 0; i < t->n_nodes && next == SIZE_MAX; i++)
            if (svc_of[i] != SIZE_MAX && !done[i] && missing[i] == 0)
                next = i;
        if (next == SIZE_MAX) {
            for (size_t i = 0; i < t->n_nodes; i++)
                if (svc_of[i] != SIZE_MAX && !done[i]) {
                    rc = node_err(&t->nodes[i], "its dependencies form a cycle");
                    goto done;
                }
        }
        done[next] = true;
        order[placed++] = next;
        for (size_t i = 0; i < t->n_nodes; i++)
            for (size_t r = 0; svc_of[i] != SIZE_MAX && r < t->nodes[i].n_reqs; r++)
                if (t->nodes[i].reqs[r].target == next)
                    missing[i]--;
    }
done:
    free(missing);
    free(done);
    return rc;
}

/* The dependencies of service k (node order[k]) as plan indices. */
static int link_deps(ct_orch_plan *p, const ct_tosca *t, const size_t *order, const size_t *pos_of,
                     size_t k)
{
    const ct_tosca_node *n = &t->nodes[order[k]];
    ct_orch_service *s = &p->services[k];

    if ((s->deps = calloc(n->n_reqs + 1, sizeof(*s->deps))) == NULL)
        return ct_error_set(CT_ENOMEM, "plan: out of memory");
    for (size_t r = 0; r < n->n_reqs; r++) {
        size_t to = n->reqs[r].target;
        bool seen = false;
        if (to == SIZE_MAX || pos_of[to] == SIZE_MAX)
            continue;
        for (size_t j = 0; j < s->n_deps; j++)
            seen = seen || s->deps[j] == pos_of[to];
        if (!seen)
            s->deps[s->n_deps++] = pos_of[to];
    }
    return 0;
}

int ct_orch_plan_new(ct_orch_plan **out, const ct_tosca *t)
{
    size_t *svc_of = NULL, *order = NULL, n_svc = 0;
    ct_orch_plan *p = NULL;
    int rc = 0;

    *out = NULL;
    if ((svc_of = malloc((t->n_nodes + 1) * sizeof(*svc_of))) == NULL ||
        (order = malloc((t->n_nodes + 1) * sizeof(*order))) == NULL ||
        (p = calloc(1, sizeof(*p))) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "plan: out of memory");
        goto done;
    }
    for (size_t i = 0; i < t->n_nodes; i++)
        svc_of[i] =
            ct_tosca_type_is(t, t->nodes[i].type, "catena.nodes.Service") ? n_svc++ : SIZE_MAX;
    if (n_svc == 0) {
        rc = ct_error_set(CT_EINVAL, "the template has no node of type catena.nodes.Service");
        goto done;
    }
    if (n_svc > CT_ORCH_MAX_SERVICES) {
        rc = ct_error_set(CT_ELIMIT, "the template has %zu services, at most %d are run", n_svc,
                          CT_ORCH_MAX_SERVICES);
        goto done;
    }
    if ((rc = sort_services(order, t, svc_of, n_svc)) < 0)
        goto done;
    if ((p->services = calloc(n_svc, sizeof(*p->services))) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "plan: out of memory");
        goto done;
    }
    p->n = n_svc;
    /* svc_of now maps a node to its place in the plan. */
    for (size_t i = 0; i < t->n_nodes; i++)
        svc_of[i] = SIZE_MAX;
    for (size_t k = 0; k < n_svc; k++)
        svc_of[order[k]] = k;
    for (size_t k = 0; k < n_svc && rc == 0; k++)
        if ((rc = read_service(&p->services[k], t, &t->nodes[order[k]])) == 0)
            rc = link_deps(p, t, order, svc_of, k);
done:
    free(svc_of);
    free(order);
    if (rc < 0)
        ct_orch_plan_free(p);
    else
        *out = p;
    return rc;
}

void ct_orch_plan_free(ct_orch_plan *p)
{
    if (p == NULL)
        return;
    for (size_t k = 0; k < p->n; k++) {
        ct_orch_service *s = &p->services[k];
        free(s->name);
        for (size_t i = 0; s->command != NULL && s->command[i] != NULL; i++)
            free(s->command[i]);
        free(s->command);
        free(s->health);
        free(s->deps);
    }
    free(p->services);
    free(p);
}

size_t ct_orch_plan_find(const ct_orch_plan *p, const char *name)
{
    for (size_t k = 0; k < p->n; k++)
        if (strcmp(p->services[k].name, name) == 0)
            return k;
    return SIZE_MAX;
}
