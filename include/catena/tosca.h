/* Catena TOSCA front end: reads TOSCA Simple Profile in YAML 1.0 to 1.3
 * templates (with their imports) into plain C structs, checks them against
 * the normative and imported types, and writes placed templates back out
 * as concrete TOSCA or as an OpenStack Heat (HOT) template. */
#ifndef CATENA_TOSCA_H
#define CATENA_TOSCA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "catena/yaml.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Findings are ct_yaml_diags (catena/yaml.h): file:line:column, errors
 * and warnings. */

/* ---------------------------------------------------------------- model */

/* Where something was written. file is borrowed from the template. */
typedef struct ct_tosca_loc {
    const char *file;
    unsigned line;
    unsigned column;
} ct_tosca_loc;

/* A topology input. Values are JSON typed by the input's TOSCA type
 * (integer -> integer, scalar-unit and version -> string, ...). */
typedef struct ct_tosca_input {
    char *name;
    char *type;        /* as declared ("integer", "PortDef", ...) */
    char *description; /* or NULL */
    bool required;
    json_t *def;   /* default, or NULL */
    json_t *value; /* the value in use: given, else the default; NULL if neither */
    ct_tosca_loc loc;
} ct_tosca_input;

/* A requirement assignment of a node template. */
typedef struct ct_tosca_req {
    char *name;         /* "host", "dependency", "database_endpoint", ... */
    char *node;         /* target node template, NULL when left to the orchestrator */
    char *capability;   /* capability name or type, or NULL */
    char *relationship; /* relationship type, or NULL */
    size_t target;      /* index of node in ct_tosca.nodes; SIZE_MAX when node is NULL */
    ct_tosca_loc loc;
} ct_tosca_req;

/* A node template. Property values are typed by their definitions; intrinsic
 * functions stay as written ({"get_input": "cpus"}) except in the resolved
 * copies the host extraction makes. */
typedef struct ct_tosca_node {
    char *name;
    char *type;           /* full type name as resolved ("tosca.nodes.Compute") */
    char *description;    /* or NULL */
    json_t *properties;   /* object: name -> value */
    json_t *capabilities; /* object: name -> {"properties": {...}} */
    json_t *interfaces;   /* object as written (YAML core schema types) */
    json_t *metadata;     /* object: name -> string */
    ct_tosca_req *reqs;
    size_t n_reqs;
    bool is_compute; /* the type derives from tosca.nodes.Compute */
    size_t host;     /* target of the "host" requirement, SIZE_MAX if none */
    ct_tosca_loc loc;
} ct_tosca_node;

typedef struct ct_tosca_output {
    char *name;
    char *description; /* or NULL */
    json_t *value;
    ct_tosca_loc loc;
} ct_tosca_output;

struct ct_tosca_types; /* the type system, private to the front end */

typedef struct ct_tosca {
    char *version;     /* "tosca_simple_yaml_1_3" */
    int version_minor; /* 0 .. 3 */
    char *description; /* or NULL */
    char **files;      /* the root file first, then each import once */
    size_t n_files;
    ct_tosca_input *inputs;
    size_t n_inputs;
    ct_tosca_node *nodes;
    size_t n_nodes;
    ct_tosca_output *outputs;
    size_t n_outputs;
    char *source; /* text of the root file (for the emitters) */
    size_t source_len;
    struct ct_tosca_types *types;
} ct_tosca;

/* ---------------------------------------------------------------- loading */

/* Reads the file at path (a name as given in an import, already joined to
 * the importing file's directory) into *out (malloc'd, NUL terminated).
 * Returns: 0, or a negative ct_err with the message set. */
typedef int (*ct_tosca_read_fn)(char **out, size_t *out_len, const char *path, void *payload);

/* A value given for a topology input, as YAML scalar text ("2", "4 GB"). */
typedef struct ct_tosca_input_value {
    const char *name;
    const char *value;
} ct_tosca_input_value;

typedef struct ct_tosca_opts {
    const ct_tosca_input_value *inputs;
    size_t n_inputs;
    ct_tosca_read_fn read; /* NULL: imports are rejected */
    void *read_payload;
} ct_tosca_opts;

/* Largest template or imported file accepted, in bytes. */
#define CT_TOSCA_MAX_FILE (4u << 20)
/* Most files one template may pull in through imports. */
#define CT_TOSCA_MAX_IMPORTS 64

/* Parses the template text (name is used in diagnostics and to resolve
 * relative imports through opts->read) and checks it.
 * Out: *out owned by the caller (ct_tosca_free); set only on success.
 *      diags (may be NULL) receives every error and warning, each naming
 *      file:line:column; the caller frees it.
 * Returns: 0 (warnings possible), CT_EPARSE when the template is invalid
 *          (message: the first error and the count), CT_ENOMEM. */
int ct_tosca_parse(ct_tosca **out, ct_yaml_diags *diags, const char *text, size_t len,
                   const char *name, const ct_tosca_opts *opts);

/* Reads and parses the template file at path; relative imports are read
 * from the importing file's directory (opts->read is ignored).
 * Returns: as ct_tosca_parse, plus CT_ENOTFOUND/CT_EIO/CT_ELIMIT for the
 *          root file (also reported in diags). */
int ct_tosca_load(ct_tosca **out, ct_yaml_diags *diags, const char *path,
                  const ct_tosca_opts *opts);

void ct_tosca_free(ct_tosca *t);

/* Returns: the index of the node template called name, or SIZE_MAX. */
size_t ct_tosca_node_find(const ct_tosca *t, const char *name);

/* Follows a get_input ({"get_input": "name"} or {"get_input": ["name"]})
 * in a property value of a node template of t.
 * Out: *out the value (borrowed): v itself when it is no function, NULL
 *      when the input has neither a value given nor a default; *input
 *      (may be NULL) the input's name, or NULL.
 * Returns: 0; CT_EINVAL (another function or a malformed one);
 *          CT_ENOTFOUND (no such input). No message is set. */
int ct_tosca_value_resolve(const json_t **out, const char **input, const ct_tosca *t,
                           const json_t *v);

/* Returns: whether type (a full or short name) is type_name or derives from
 * it ("tosca.nodes.Compute", "Compute"). false for unknown types. */
bool ct_tosca_type_is(const ct_tosca *t, const char *type, const char *type_name);

/* ---------------------------------------------------------------- values */

typedef enum ct_tosca_unit_kind {
    CT_TOSCA_UNIT_SIZE,      /* B, kB, KiB, MB, MiB, GB, GiB, TB, TiB -> bytes */
    CT_TOSCA_UNIT_TIME,      /* d, h, m, s, ms, us, ns -> seconds */
    CT_TOSCA_UNIT_FREQUENCY, /* Hz, kHz, MHz, GHz -> Hz */
    CT_TOSCA_UNIT_BITRATE    /* bps, Kbps, Kibps, ..., Tibps -> bits/s */
} ct_tosca_unit_kind;

/* Parses a TOSCA scalar-unit ("10 GB", "2.5GHz"; units are matched without
 * regard to case) into the base unit of its kind.
 * Returns: 0, or CT_EPARSE naming what is wrong. */
int ct_tosca_scalar_unit(double *out, const char *text, ct_tosca_unit_kind kind);

/* ---------------------------------------------------------------- hosts */

/* What one Compute node template asks of the machine it lands on, with
 * get_input resolved. Tags and architectures come from the Compute node's
 * metadata or else from the components hosted on it. */
typedef struct ct_tosca_host {
    size_t node;        /* index of the Compute node template */
    int64_t num_cpus;   /* 0 when not given */
    uint64_t mem_size;  /* bytes, 0 when not given */
    uint64_t disk_size; /* bytes, 0 when not given */
    const char *arch;   /* required architecture or NULL (borrowed) */
    bool arch_forced;   /* arch came from catena.arch (else from os.architecture) */
    const char *tag;    /* workload tag (catena.tag) or NULL (borrowed) */
    double load;        /* catena.load (0 < load <= 1), or -1 when not given */
    size_t *components; /* nodes hosted on it, directly or through others */
    size_t n_components;
} ct_tosca_host;

/* Collects the Compute node templates and what they need.
 * Out: *out (caller frees with ct_tosca_hosts_free) and *out_n.
 * Returns: 0, CT_EINVAL when the requirements contradict each other or a
 *          needed input has no value (reported in diags), CT_ENOMEM. */
int ct_tosca_hosts(ct_tosca_host **out, size_t *out_n, ct_yaml_diags *diags, const ct_tosca *t);

void ct_tosca_hosts_free(ct_tosca_host *hosts, size_t n);

/* ---------------------------------------------------------------- output */

/* Where the placement put one Compute node template. Strings borrowed. */
typedef struct ct_tosca_binding {
    const char *node;   /* Compute node template */
    const char *host;   /* physical host */
    const char *dc;     /* data centre */
    const char *model;  /* host model */
    const char *arch;   /* its architecture */
    const char *flavor; /* flavour name */
    unsigned vcpus;
    uint64_t ram;  /* bytes */
    uint64_t disk; /* bytes */
} ct_tosca_binding;

/* Writes the template as concrete TOSCA: each bound Compute node gets the
 * flavour's num_cpus, mem_size and disk_size, the host's architecture and
 * catena.host/dc/model/flavor metadata; the rest is kept as written.
 * Out: *out malloc'd YAML text (caller frees).
 * Returns: 0, CT_ENOTFOUND for a binding naming no Compute node, CT_ENOMEM. */
int ct_tosca_emit_concrete(char **out, const ct_tosca *t, const ct_tosca_binding *b, size_t n);

/* Writes a Heat Orchestration Template: inputs become parameters, each
 * bound Compute node an OS::Nova::Server with its flavour and forced host
 * ("dc:host" availability zone), each software component's lifecycle
 * operations OS::Heat::SoftwareConfig/SoftwareDeployment resources on its
 * server, outputs HOT outputs.
 * Out: *out malloc'd YAML text (caller frees).
 * Returns: 0, CT_ENOTFOUND as above, CT_ENOMEM. */
int ct_tosca_emit_hot(char **out, const ct_tosca *t, const ct_tosca_binding *b, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_TOSCA_H */
