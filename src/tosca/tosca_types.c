/* The TOSCA type system: types by full or short name, derivation, the
 * properties, capabilities and requirements a type has with its ancestors'.
 * Reading the definitions: tosca_typedefs.c. */
#include "tosca_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_section[TK_COUNT] = {
    "node_types",      "capability_types", "data_types",   "relationship_types",
    "interface_types", "artifact_types",   "policy_types", "group_types"};
static const char *const kind_prefix[TK_COUNT] = {
    "tosca.nodes.",      "tosca.capabilities.", "tosca.datatypes.", "tosca.relationships.",
    "tosca.interfaces.", "tosca.artifacts.",    "tosca.policies.",  "tosca.groups."};
const char *ct_tosca__kind_section(tosca_kind k)
{
    return kind_section[k];
}

/* ---------------------------------------------------------------- lookups */

static bool name_is(const tosca_type *t, const char *prefix, const char *name)
{
    size_t pl = strlen(prefix);

    return strncmp(t->name, prefix, pl) == 0 && strcmp(t->name + pl, name) == 0;
}

tosca_type *ct_tosca__type_find(const struct ct_tosca_types *ts, tosca_kind k, const char *name)
{
    const struct ct_tosca_types *s;
    size_t nl;

    if (ts == NULL || name == NULL)
        return NULL;
    for (s = ts; s != NULL; s = s->base)
        for (size_t i = 0; i < s->n; i++)
            if (s->v[i]->kind == k && strcmp(s->v[i]->name, name) == 0)
                return s->v[i];
    if (strncmp(name, "tosca:", 6) == 0)
        name += 6;
    for (s = ts; s != NULL; s = s->base)
        for (size_t i = 0; i < s->n; i++)
            if (s->v[i]->kind == k && name_is(s->v[i], kind_prefix[k], name))
                return s->v[i];
    /* Normative short names drop the namespace too ("PortDef"). */
    nl = strlen(name);
    for (s = ts; s != NULL; s = s->base)
        for (size_t i = 0; i < s->n; i++) {
            tosca_type *t = s->v[i];
            size_t tl = strlen(t->name);
            if (t->kind == k && t->builtin && tl > nl && t->name[tl - nl - 1] == '.' &&
                strcmp(t->name + tl - nl, name) == 0)
                return t;
        }
    return NULL;
}

bool ct_tosca__type_derives(const tosca_type *t, const tosca_type *ancestor)
{
    for (size_t hops = 0; t != NULL && hops <= TOSCA_MAX_TYPES; hops++, t = t->parent)
        if (t == ancestor)
            return true;
    return false;
}

const tosca_propdef *ct_tosca__prop_find(const tosca_type *t, const char *name)
{
    for (size_t hops = 0; t != NULL && hops <= TOSCA_MAX_TYPES; hops++, t = t->parent)
        for (size_t i = 0; i < t->n_props; i++)
            if (strcmp(t->props[i].name, name) == 0)
                return &t->props[i];
    return NULL;
}

const tosca_capdef *ct_tosca__cap_find(const tosca_type *t, const char *name)
{
    for (size_t hops = 0; t != NULL && hops <= TOSCA_MAX_TYPES; hops++, t = t->parent)
        for (size_t i = 0; i < t->n_caps; i++)
            if (strcmp(t->caps[i].name, name) == 0)
                return &t->caps[i];
    return NULL;
}

const tosca_reqdef *ct_tosca__req_find(const tosca_type *t, const char *name)
{
    for (size_t hops = 0; t != NULL && hops <= TOSCA_MAX_TYPES; hops++, t = t->parent)
        for (size_t i = 0; i < t->n_reqs; i++)
            if (strcmp(t->reqs[i].name, name) == 0)
                return &t->reqs[i];
    return NULL;
}

/* ---------------------------------------------------------------- freeing */

void ct_tosca__propdefs_free(tosca_propdef *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].type);
        free(p[i].entry);
        json_decref(p[i].def);
        json_decref(p[i].constraints);
    }
    free(p);
}

static void type_free(tosca_type *t)
{
    if (t == NULL)
        return;
    free(t->name);
    free(t->derived_from);
    ct_tosca__propdefs_free(t->props, t->n_props);
    for (size_t i = 0; i < t->n_caps; i++) {
        free(t->caps[i].name);
        free(t->caps[i].type);
        ct_tosca__propdefs_free(t->caps[i].props, t->caps[i].n_props);
    }
    free(t->caps);
    for (size_t i = 0; i < t->n_reqs; i++) {
        free(t->reqs[i].name);
        free(t->reqs[i].capability);
        free(t->reqs[i].node);
        free(t->reqs[i].relationship);
    }
    free(t->reqs);
    json_decref(t->constraints);
    free(t);
}

void ct_tosca__types_free(struct ct_tosca_types *ts)
{
    if (ts == NULL)
        return;
    for (size_t i = 0; i < ts->n; i++)
        type_free(ts->v[i]);
    free(ts->v);
    free(ts);
}

bool ct_tosca_type_is(const ct_tosca *t, const char *type, const char *type_name)
{
    for (int k = 0; k < TK_COUNT; k++) {
        const tosca_type *a = ct_tosca__type_find(t->types, (tosca_kind)k, type);
        const tosca_type *b = ct_tosca__type_find(t->types, (tosca_kind)k, type_name);
        if (a != NULL && b != NULL)
            return ct_tosca__type_derives(a, b);
    }
    return false;
}
