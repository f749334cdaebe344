/* Shared between the TOSCA front end's files: the parse context (a YAML
 * reader of catena/yaml.h and more), the type system and value checking. */
#ifndef CATENA_TOSCA_INT_H
#define CATENA_TOSCA_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <libfyaml.h>

#include "catena/tosca.h"
#include "catena/util.h"
#include "catena/yaml.h"

/* Types and node templates one template may define in all. */
#define TOSCA_MAX_TYPES 4096
#define TOSCA_MAX_NODES 4096

/* ---------------------------------------------------------------- context */

typedef struct tosca_ctx {
    ct_yaml_reader y; /* first: the YAML helpers' findings and budget */
    ct_tosca *t;
    const ct_tosca_opts *opts;
    bool builtin;  /* reading the built-in normative types */
    bool topology; /* reading topology_template (get_input allowed) */
    /* Set while checking a node template, for get_property on SELF. */
    const char *self_type;
    /* Node template names and their type names, known before the
     * templates themselves are read (so functions can refer forwards). */
    char **tpl_names;
    char **tpl_types;
    size_t n_tpl;
    /* Documents and their texts, kept until the load ends (the type
     * system points into them for positions). */
    struct fy_document *docs[CT_TOSCA_MAX_IMPORTS + 2];
    char *texts[CT_TOSCA_MAX_IMPORTS + 2];
    size_t n_docs;
} tosca_ctx;

/* The TOSCA context of a reader that is one (its first member). */
static inline tosca_ctx *tosca_of(ct_yaml_reader *r)
{
    return (tosca_ctx *)r;
}

/* If map n is an intrinsic function ({get_input: x}, {concat: [...]}, ...),
 * checks its arguments and converts it into *out and sets *is_fn.
 * Returns: 0 (also when it is no function), CT_EPARSE, CT_ELIMIT, CT_ENOMEM. */
int ct_tosca__function(tosca_ctx *c, json_t **out, bool *is_fn, struct fy_node *n, int depth);

/* Returns: whether v is a function as ct_tosca__function makes it (one
 * key, a function's name). */
bool ct_tosca__is_function(const json_t *v);

/* ct_tosca__function as the YAML reader's map hook (set by the loaders). */
int ct_tosca__map_hook(ct_yaml_reader *r, json_t **out, bool *is_fn, struct fy_node *n, int depth);

/* ---------------------------------------------------------------- types */

typedef enum tosca_kind {
    TK_NODE,
    TK_CAPABILITY,
    TK_DATA,
    TK_RELATIONSHIP,
    TK_INTERFACE,
    TK_ARTIFACT,
    TK_POLICY,
    TK_GROUP,
    TK_COUNT
} tosca_kind;

typedef struct tosca_propdef {
    char *name;
    char *type;  /* primitive or data type, as written */
    char *entry; /* entry_schema type, or NULL */
    bool required;
    json_t *def;              /* default, or NULL */
    json_t *constraints;      /* array of single-key objects, or NULL */
    struct fy_node *def_node; /* where def was written (valid while loading) */
} tosca_propdef;

typedef struct tosca_capdef {
    char *name;
    char *type;
    tosca_propdef *props; /* refinements made by the node type */
    size_t n_props;
} tosca_capdef;

typedef struct tosca_reqdef {
    char *name;
    char *capability; /* capability type, or NULL */
    char *node;       /* node type, or NULL */
    char *relationship;
} tosca_reqdef;

typedef struct tosca_type {
    tosca_kind kind;
    char *name;
    char *derived_from; /* NULL for roots */
    struct tosca_type *parent;
    tosca_propdef *props;
    size_t n_props;
    tosca_capdef *caps;
    size_t n_caps;
    tosca_reqdef *reqs;
    size_t n_reqs;
    json_t *constraints; /* data types refining a primitive */
    bool builtin;
    const char *file;     /* one of ct_tosca.files, or a static name */
    struct fy_node *node; /* its name where defined (valid while loading) */
    struct fy_node *body; /* its definition (valid while loading) */
} tosca_type;

struct ct_tosca_types {
    tosca_type **v;
    size_t n;
    size_t cap;
    /* The built-in normative types, shared by every template (read once,
     * never changed after). Searched after v. */
    const struct ct_tosca_types *base;
};

/* Names of a kind's section ("node_types") and prefix ("tosca.nodes."). */
const char *ct_tosca__kind_section(tosca_kind k);

/* Returns: the type called name (full, short or "tosca:" form), or NULL. */
tosca_type *ct_tosca__type_find(const struct ct_tosca_types *ts, tosca_kind k, const char *name);

/* Returns: whether t is ancestor or derives from it. */
bool ct_tosca__type_derives(const tosca_type *t, const tosca_type *ancestor);

/* Looks a property up in t and its ancestors. Returns: it, or NULL. */
const tosca_propdef *ct_tosca__prop_find(const tosca_type *t, const char *name);

/* Looks a capability up in node type t and its ancestors (the most derived
 * definition wins). Returns: it, or NULL. */
const tosca_capdef *ct_tosca__cap_find(const tosca_type *t, const char *name);

/* Looks a requirement up in node type t and its ancestors. */
const tosca_reqdef *ct_tosca__req_find(const tosca_type *t, const char *name);

/* Reads one types section (node_types, data_types, ...) of a file.
 * Returns: 0, CT_EPARSE, CT_ENOMEM. */
int ct_tosca__read_types(tosca_ctx *c, tosca_kind k, struct fy_node *section);

/* Links every type to its parent and checks the references between types.
 * Returns: 0, CT_EPARSE, CT_ENOMEM. */
int ct_tosca__link_types(tosca_ctx *c);

/* Makes the built-in normative types (read once per process, thread safe)
 * the base of c->t->types. Returns: 0, CT_ENOMEM, or CT_EPARSE if they
 * are broken (a bug the unit tests catch). */
int ct_tosca__builtin_types(tosca_ctx *c);

void ct_tosca__types_free(struct ct_tosca_types *ts);

/* ---------------------------------------------------------------- values */

/* Returns: whether name is a TOSCA primitive or collection type. */
bool ct_tosca__primitive(const char *name);

/* Checks that a type name used in a definition is known (reports it).
 * Returns: 0 or CT_EPARSE. */
int ct_tosca__check_type_name(tosca_ctx *c, struct fy_node *at, const char *type);

/* Converts and checks value n against type (primitive or data type), with
 * entry the entry_schema type of lists and maps, then its constraints.
 * what names the value in messages ("property \"size\" of node template
 * \"db\"").
 * Returns: 0, CT_EPARSE, CT_ELIMIT, CT_ENOMEM. */
int ct_tosca__value(tosca_ctx *c, json_t **out, struct fy_node *n, const char *type,
                    const char *entry, const json_t *constraints, const char *what);

/* Checks a converted value against constraints. Returns: 0, CT_EPARSE. */
int ct_tosca__constraints(tosca_ctx *c, struct fy_node *at, const json_t *v, const char *type,
                          const json_t *constraints, const char *what);

/* Reads a property definitions map into *out. Returns: 0, CT_EPARSE, CT_ENOMEM. */
int ct_tosca__read_propdefs(tosca_ctx *c, tosca_propdef **out, size_t *out_n, struct fy_node *map,
                            const char *owner);

void ct_tosca__propdefs_free(tosca_propdef *p, size_t n);

/* ---------------------------------------------------------------- topology */

/* Reads topology_template (inputs, node templates, outputs, ...). */
int ct_tosca__read_topology(tosca_ctx *c, struct fy_node *topo);

#endif /* CATENA_TOSCA_INT_H */
