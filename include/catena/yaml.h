/* Catena YAML reading over libfyaml's document tree: findings with
 * file:line:column, scalars, key checks with suggestions, and values
 * converted to JSON (YAML 1.2 core schema) under a depth and size budget.
 * The TOSCA front end and the placement knowledge base read with it. */
#ifndef CATENA_YAML_H
#define CATENA_YAML_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fy_node;
struct fy_document;

/* ---------------------------------------------------------------- findings */

/* One finding about a document. file is NULL when it concerns no file
 * (out of memory, ...); line and column are 1-based, 0 when unknown. */
typedef struct ct_yaml_diag {
    bool warning;
    char *file;
    unsigned line;
    unsigned column;
    char *message;
} ct_yaml_diag;

/* The findings of one read, in the order they were made. At most
 * CT_YAML_MAX_DIAGS are kept; errors and warnings count all of them. */
#define CT_YAML_MAX_DIAGS 100
typedef struct ct_yaml_diags {
    ct_yaml_diag *items;
    size_t n;
    size_t cap;
    size_t errors;
    size_t warnings;
} ct_yaml_diags;

/* Frees the findings; the struct is then empty and may be reused. */
void ct_yaml_diags_free(ct_yaml_diags *d);

/* Adds a finding to d. Returns: 0 or CT_ENOMEM. */
int ct_yaml_diag_add(ct_yaml_diags *d, bool warning, const char *file, unsigned line,
                     unsigned column, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

/* ---------------------------------------------------------------- reader */

/* Values nested deeper than this are refused (aliases can build cycles). */
#define CT_YAML_MAX_DEPTH 64
/* JSON nodes one read may create: bounds alias expansion ("billion laughs"). */
#define CT_YAML_JSON_BUDGET 200000

/* What a read reports to and spends from. A reader of a richer format
 * (the TOSCA loader) puts it first in its own context. */
typedef struct ct_yaml_reader {
    ct_yaml_diags *diags;
    const char *file; /* file being read, for the findings */
    size_t budget;    /* JSON nodes still allowed */
    bool nomem;       /* an allocation failed: stop */
    /* Reads a map that may be a function of the richer format ({get_input:
     * x}) into *out and sets *is_fn; NULL: every map is plain data. */
    int (*map_hook)(struct ct_yaml_reader *r, json_t **out, bool *is_fn, struct fy_node *n,
                    int depth);
} ct_yaml_reader;

/* Records a finding at the position of node at (NULL: no position) in the
 * current file. Returns: CT_EPARSE for errors, 0 for warnings, CT_ENOMEM
 * when recording fails (and sets r->nomem). */
int ct_yaml_err(ct_yaml_reader *r, struct fy_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ct_yaml_warn(ct_yaml_reader *r, struct fy_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Notes an allocation failure. Returns: CT_ENOMEM. */
int ct_yaml_nomem(ct_yaml_reader *r);

/* Parses a YAML text into a document, reporting syntax errors as findings
 * against r->file. Returns: 0, CT_EPARSE, CT_ENOMEM. */
int ct_yaml_parse_doc(ct_yaml_reader *r, struct fy_document **out, const char *text, size_t len);

/* ---------------------------------------------------------------- tree */

/* Returns: n with aliases followed, or NULL (n NULL or a broken alias). */
struct fy_node *ct_yaml_deref(struct fy_node *n);

/* Finds the 1-based line and column where n starts (the first scalar in
 * it); 0 and 0 when it has none. */
void ct_yaml_pos(struct fy_node *n, unsigned *line, unsigned *column);

/* Returns: the text of a scalar as a NUL-terminated string borrowed from
 * the document, or NULL when n is not a scalar or holds a NUL byte. */
const char *ct_yaml_scalar(struct fy_node *n);

/* Returns: whether n is a plain (unquoted) scalar. */
bool ct_yaml_plain(struct fy_node *n);

/* Returns: whether n is absent or a YAML null ("", "~", "null"). */
bool ct_yaml_is_null(struct fy_node *n);

bool ct_yaml_is_map(struct fy_node *n);
bool ct_yaml_is_seq(struct fy_node *n);

/* Returns: the value under key in map n, or NULL. */
struct fy_node *ct_yaml_get(struct fy_node *map, const char *key);

/* Calls fn for each pair of map n with its key as a string. A key that is
 * not a scalar string is reported and skipped. Stops at the first
 * non-zero return of fn and returns it. */
typedef int (*ct_yaml_pair_fn)(ct_yaml_reader *r, const char *key, struct fy_node *k,
                               struct fy_node *v, void *arg);
int ct_yaml_each(ct_yaml_reader *r, struct fy_node *map, ct_yaml_pair_fn fn, void *arg);

/* Reports the keys of map n that are not in allowed (NULL terminated),
 * suggesting the nearest allowed one. Returns: the number of unknown keys,
 * or CT_ENOMEM. */
int ct_yaml_check_keys(ct_yaml_reader *r, struct fy_node *map, const char *what,
                       const char *const *allowed);

/* Copies a scalar into a new string, reporting non-scalars as errors.
 * Returns: 0, CT_EPARSE, CT_ENOMEM. */
int ct_yaml_strdup(ct_yaml_reader *r, char **out, struct fy_node *n, const char *what);

/* Converts n to JSON following the YAML 1.2 core schema (plain scalars may
 * be null, booleans, integers or floats; everything else is a string),
 * maps going through r->map_hook first.
 * Returns: 0, CT_EPARSE, CT_ELIMIT (depth or budget), CT_ENOMEM. */
int ct_yaml_to_json(ct_yaml_reader *r, json_t **out, struct fy_node *n, int depth);

/* Counts one JSON node against the budget. Returns: 0 or CT_ELIMIT. */
int ct_yaml_spend(ct_yaml_reader *r, struct fy_node *at);

/* Returns: the edit distance of a and b, capped at 9 (for "did you mean"). */
int ct_yaml_distance(const char *a, const char *b);

/* ---------------------------------------------------------------- writing */

/* Writes v as block-style YAML, quoting strings only where YAML would read
 * them as something else.
 * Out: *out malloc'd (caller frees). Returns: 0, CT_ELIMIT (too deep), CT_ENOMEM. */
int ct_yaml_dump(char **out, const json_t *v);

/* Returns: whether s can be written as a plain YAML scalar and read back
 * as the same string. */
bool ct_yaml_plain_safe(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_YAML_H */
