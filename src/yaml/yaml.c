/* YAML reading over libfyaml (include/catena/yaml.h): findings with
 * file:line:column, scalars, key checks with suggestions, and conversion of
 * YAML values to JSON (core schema) under a depth and size budget. */
#include "catena/yaml.h"

#include <libfyaml.h>

#include "catena/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ct_yaml_diags_free(ct_yaml_diags *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].file);
        free(d->items[i].message);
    }
    free(d->items);
    memset(d, 0, sizeof(*d));
}

int ct_yaml_diag_add(ct_yaml_diags *d, bool warning, const char *file, unsigned line,
                     unsigned column, const char *fmt, va_list ap)
{
    ct_yaml_diag *item;
    char msg[1024];

    if (warning)
        d->warnings++;
    else
        d->errors++;
    if (d->n >= CT_YAML_MAX_DIAGS)
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        ct_yaml_diag *v = realloc(d->items, cap * sizeof(*v));
        if (v == NULL)
            return CT_ENOMEM;
        d->items = v;
        d->cap = cap;
    }
    vsnprintf(msg, sizeof(msg), fmt, ap);
    item = &d->items[d->n];
    memset(item, 0, sizeof(*item));
    item->warning = warning;
    item->line = line;
    item->column = column;
    item->message = strdup(msg);
    item->file = file ? strdup(file) : NULL;
    if (item->message == NULL || (file && item->file == NULL)) {
        free(item->message);
        free(item->file);
        return CT_ENOMEM;
    }
    d->n++;
    return 0;
}

int ct_yaml_nomem(ct_yaml_reader *c)
{
    c->nomem = true;
    return ct_error_set(CT_ENOMEM, "tosca: out of memory");
}

static int report(ct_yaml_reader *c, bool warning, struct fy_node *at, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static int report(ct_yaml_reader *c, bool warning, struct fy_node *at, const char *fmt, va_list ap)
{
    unsigned line = 0, column = 0;

    ct_yaml_pos(at, &line, &column);
    if (ct_yaml_diag_add(c->diags, warning, c->file, line, column, fmt, ap) < 0)
        return ct_yaml_nomem(c);
    return warning ? 0 : CT_EPARSE;
}

int ct_yaml_err(ct_yaml_reader *c, struct fy_node *at, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = report(c, false, at, fmt, ap);
    va_end(ap);
    return rc;
}

void ct_yaml_warn(ct_yaml_reader *c, struct fy_node *at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(c, true, at, fmt, ap);
    va_end(ap);
}

struct fy_node *ct_yaml_deref(struct fy_node *n)
{
    if (n != NULL && fy_node_is_alias(n))
        return fy_node_resolve_alias(n);
    return n;
}

static bool token_pos(struct fy_token *tok, unsigned *line, unsigned *column)
{
    const struct fy_mark *m = tok ? fy_token_start_mark(tok) : NULL;

    if (m == NULL)
        return false;
    *line = (unsigned)m->line + 1;
    *column = (unsigned)m->column + 1;
    return true;
}

static bool find_pos(struct fy_node *n, unsigned *line, unsigned *column, int depth)
{
    void *it = NULL;

    if (n == NULL || depth > CT_YAML_MAX_DEPTH)
        return false;
    if (fy_node_is_scalar(n) || fy_node_is_alias(n))
        return token_pos(fy_node_get_scalar_token(n), line, column);
    if (fy_node_is_sequence(n)) {
        struct fy_node *item = fy_node_sequence_iterate(n, &it);
        return item != NULL && find_pos(item, line, column, depth + 1);
    }
    struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
    return p != NULL && find_pos(fy_node_pair_key(p), line, column, depth + 1);
}

/* An empty {} or [] has no scalar to point at: use its key, or failing
 * that its parent's position. */
static bool parent_pos(struct fy_node *n, unsigned *line, unsigned *column, int depth)
{
    struct fy_node *parent = fy_node_get_parent(n);
    struct fy_node_pair *p;
    void *it = NULL;

    if (parent == NULL || depth > CT_YAML_MAX_DEPTH)
        return false;
    if (fy_node_is_mapping(parent))
        while ((p = fy_node_mapping_iterate(parent, &it)) != NULL)
            if (fy_node_pair_value(p) == n)
                return find_pos(fy_node_pair_key(p), line, column, 0);
    return find_pos(parent, line, column, 0) || parent_pos(parent, line, column, depth + 1);
}

void ct_yaml_pos(struct fy_node *n, unsigned *line, unsigned *column)
{
    *line = 0;
    *column = 0;
    if (!find_pos(n, line, column, 0) && (n == NULL || !parent_pos(n, line, column, 0))) {
        *line = 0;
        *column = 0;
    }
}

const char *ct_yaml_scalar(struct fy_node *n)
{
    const char *s;
    size_t len;

    n = ct_yaml_deref(n);
    if (n == NULL || !fy_node_is_scalar(n))
        return NULL;
    s = fy_node_get_scalar0(n);
    len = fy_node_get_scalar_length(n);
    if (s == NULL || strlen(s) != len)
        return NULL;
    return s;
}

bool ct_yaml_plain(struct fy_node *n)
{
    n = ct_yaml_deref(n);
    return n != NULL && fy_node_is_scalar(n) && fy_node_get_style(n) == FYNS_PLAIN;
}

bool ct_yaml_is_null(struct fy_node *n)
{
    const char *s;

    n = ct_yaml_deref(n);
    if (n == NULL)
        return true;
    if (!ct_yaml_plain(n))
        return false;
    s = ct_yaml_scalar(n);
    return s != NULL && (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
                         strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

bool ct_yaml_is_map(struct fy_node *n)
{
    n = ct_yaml_deref(n);
    return n != NULL && fy_node_is_mapping(n);
}

bool ct_yaml_is_seq(struct fy_node *n)
{
    n = ct_yaml_deref(n);
    return n != NULL && fy_node_is_sequence(n);
}

struct fy_node *ct_yaml_get(struct fy_node *map, const char *key)
{
    void *it = NULL;
    struct fy_node_pair *p;

    map = ct_yaml_deref(map);
    if (map == NULL || !fy_node_is_mapping(map))
        return NULL;
    while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
        const char *k = ct_yaml_scalar(fy_node_pair_key(p));
        if (k != NULL && strcmp(k, key) == 0)
            return fy_node_pair_value(p);
    }
    return NULL;
}

int ct_yaml_each(ct_yaml_reader *c, struct fy_node *map, ct_yaml_pair_fn fn, void *arg)
{
    void *it = NULL;
    struct fy_node_pair *p;
    int rc = 0;

    map = ct_yaml_deref(map);
    if (map == NULL || !fy_node_is_mapping(map))
        return 0;
    while ((p = fy_node_mapping_iterate(map, &it)) != NULL && !c->nomem) {
        struct fy_node *k = fy_node_pair_key(p);
        const char *key = ct_yaml_scalar(k);
        if (key == NULL) {
            rc = ct_yaml_err(c, k ? k : map, "a key must be a string");
            continue;
        }
        int r = fn(c, key, k, fy_node_pair_value(p), arg);
        if (r == CT_ENOMEM || r == CT_ELIMIT)
            return r;
        if (r < 0)
            rc = r;
    }
    return c->nomem ? CT_ENOMEM : rc;
}

int ct_yaml_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int prev[33], cur[33];

    if (la > 32 || lb > 32)
        return 9;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb] > 9 ? 9 : prev[lb];
}

static const char *nearest(const char *key, const char *const *allowed)
{
    const char *best = NULL;
    int best_d = 3; /* suggest only close matches */

    for (size_t i = 0; allowed[i] != NULL; i++) {
        int d = ct_yaml_distance(key, allowed[i]);
        if (d < best_d) {
            best_d = d;
            best = allowed[i];
        }
    }
    return best;
}

typedef struct keys_arg {
    const char *what;
    const char *const *allowed;
    int unknown;
} keys_arg;

static int check_key(ct_yaml_reader *c, const char *key, struct fy_node *k, struct fy_node *v,
                     void *arg)
{
    keys_arg *ka = arg;
    const char *hint;

    (void)v;
    for (size_t i = 0; ka->allowed[i] != NULL; i++)
        if (strcmp(key, ka->allowed[i]) == 0)
            return 0;
    ka->unknown++;
    hint = nearest(key, ka->allowed);
    if (hint != NULL)
        return ct_yaml_err(c, k, "%s: unknown key \"%s\" (did you mean \"%s\"?)", ka->what, key,
                           hint);
    return ct_yaml_err(c, k, "%s: unknown key \"%s\"", ka->what, key);
}

int ct_yaml_check_keys(ct_yaml_reader *c, struct fy_node *map, const char *what,
                       const char *const *allowed)
{
    keys_arg ka = {what, allowed, 0};
    int rc = ct_yaml_each(c, map, check_key, &ka);

    return rc == CT_ENOMEM ? rc : ka.unknown;
}

int ct_yaml_strdup(ct_yaml_reader *c, char **out, struct fy_node *n, const char *what)
{
    const char *s = ct_yaml_scalar(n);

    *out = NULL;
    if (s == NULL)
        return ct_yaml_err(c, n, "%s must be a string", what);
    *out = strdup(s);
    return *out ? 0 : ct_yaml_nomem(c);
}

int ct_yaml_spend(ct_yaml_reader *c, struct fy_node *at)
{
    if (c->budget == 0)
        return CT_ELIMIT;
    if (--c->budget == 0) {
        ct_yaml_err(c, at, "the document expands to more than %d values (aliases?)",
                    CT_YAML_JSON_BUDGET);
        return CT_ELIMIT;
    }
    return 0;
}

/* Plain scalars of the YAML 1.2 core schema that are not strings. */
static json_t *core_scalar(const char *s)
{
    char *end;

    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
        return json_true();
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
        return json_false();
    if (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
        strcmp(s, "NULL") == 0)
        return json_null();
    if (strspn(s, "0123456789+-") == strlen(s) && strpbrk(s + 1, "+-") == NULL) {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno == 0 && *end == '\0' && end != s)
            return json_integer(v);
    }
    if (strspn(s, "0123456789+-.eE") == strlen(s) && strpbrk(s, "0123456789") != NULL) {
        errno = 0;
        double d = strtod(s, &end);
        if (errno == 0 && *end == '\0' && isfinite(d))
            return json_real(d);
    }
    return json_string(s);
}

static int seq_to_json(ct_yaml_reader *c, json_t **out, struct fy_node *n, int depth)
{
    void *it = NULL;
    struct fy_node *item;
    json_t *arr = json_array();
    int rc;

    if (arr == NULL)
        return ct_yaml_nomem(c);
    while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
        json_t *v;
        if ((rc = ct_yaml_to_json(c, &v, item, depth + 1)) < 0)
            goto fail;
        if (json_array_append_new(arr, v) < 0) {
            rc = ct_yaml_nomem(c);
            goto fail;
        }
    }
    *out = arr;
    return 0;
fail:
    json_decref(arr);
    return rc;
}

static int map_to_json(ct_yaml_reader *c, json_t **out, struct fy_node *n, int depth)
{
    void *it = NULL;
    struct fy_node_pair *p;
    json_t *obj;
    bool is_fn = false;
    int rc;

    if (c->map_hook != NULL && ((rc = c->map_hook(c, out, &is_fn, n, depth)) < 0 || is_fn))
        return rc;
    if ((obj = json_object()) == NULL)
        return ct_yaml_nomem(c);
    while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
        const char *key = ct_yaml_scalar(fy_node_pair_key(p));
        json_t *v;
        if (key == NULL) {
            rc = ct_yaml_err(c, fy_node_pair_key(p) ? fy_node_pair_key(p) : n,
                             "a key must be a string");
            goto fail;
        }
        if ((rc = ct_yaml_to_json(c, &v, fy_node_pair_value(p), depth + 1)) < 0)
            goto fail;
        if (json_object_set_new(obj, key, v) < 0) {
            rc = ct_yaml_nomem(c);
            goto fail;
        }
    }
    *out = obj;
    return 0;
fail:
    json_decref(obj);
    return rc;
}

int ct_yaml_to_json(ct_yaml_reader *c, json_t **out, struct fy_node *n, int depth)
{
    struct fy_node *d = ct_yaml_deref(n);
    const char *s;
    int rc;

    *out = NULL;
    if (depth > CT_YAML_MAX_DEPTH)
        return ct_yaml_err(c, n, "value nested more than %d levels deep", CT_YAML_MAX_DEPTH);
    if (n != NULL && d == NULL)
        return ct_yaml_err(c, n, "alias to nothing");
    if ((rc = ct_yaml_spend(c, n)) < 0)
        return rc;
    if (d == NULL) {
        *out = json_null();
        return 0;
    }
    if (fy_node_is_sequence(d))
        return seq_to_json(c, out, d, depth);
    if (fy_node_is_mapping(d))
        return map_to_json(c, out, d, depth);
    if ((s = ct_yaml_scalar(d)) == NULL)
        return ct_yaml_err(c, n, "a string may not contain a NUL byte");
    *out = ct_yaml_plain(d) ? core_scalar(s) : json_string(s);
    if (*out == NULL) /* json_string also fails on invalid UTF-8 */
        return ct_yaml_err(c, n, "text is not valid UTF-8");
    return 0;
}

static int err_at(ct_yaml_reader *c, unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int err_at(ct_yaml_reader *c, unsigned line, unsigned column, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = ct_yaml_diag_add(c->diags, false, c->file, line, column, fmt, ap);
    va_end(ap);
    return rc < 0 ? ct_yaml_nomem(c) : CT_EPARSE;
}

/* Returns: the length of the valid UTF-8 sequence at s (of n bytes left),
 * or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4;
    else
        return 0;
    if (s[0] == 0xE0)
        lo = 0xA0;
    else if (s[0] == 0xED)
        hi = 0x9F; /* no surrogates */
    else if (s[0] == 0xF0)
        lo = 0x90;
    else if (s[0] == 0xF4)
        hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* YAML text must be UTF-8 without NUL bytes; libfyaml 0.7 can loop forever
 * on some invalid bytes, so they are refused before it sees them. */
static int check_text(ct_yaml_reader *c, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    unsigned line = 1, column = 1;

    for (size_t i = 0; i < len;) {
        size_t n = s[i] == 0 ? 0 : utf8_len(s + i, len - i);
        if (n == 0)
            return err_at(c, line, column, "%s",
                          s[i] == 0 ? "a NUL byte is not allowed" : "text is not valid UTF-8");
        if (s[i] == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
        i += n;
    }
    return 0;
}

int ct_yaml_parse_doc(ct_yaml_reader *c, struct fy_document **out, const char *text, size_t len)
{
    struct fy_diag_cfg dcfg;
    struct fy_diag *diag;
    struct fy_parse_cfg cfg;
    struct fy_diag_error *e;
    void *it = NULL;
    int rc = 0, found = 0;

    *out = NULL;
    if ((rc = check_text(c, text, len)) < 0)
        return rc;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = NULL;
    dcfg.level = FYET_ERROR;
    if ((diag = fy_diag_create(&dcfg)) == NULL)
        return ct_yaml_nomem(c);
    fy_diag_set_collect_errors(diag, true);
    memset(&cfg, 0, sizeof(cfg));
    cfg.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2 | FYPCF_JSON_NONE;
    cfg.diag = diag;
    *out = fy_document_build_from_string(&cfg, text, len);
    if (*out == NULL) {
        rc = CT_EPARSE;
        while (rc == CT_EPARSE && (e = fy_diag_errors_iterate(diag, &it)) != NULL) {
            rc = err_at(c, e->line > 0 ? (unsigned)e->line : 0,
                        e->column > 0 ? (unsigned)e->column : 0, "YAML: %s",
                        e->msg ? e->msg : "syntax error");
            found++;
        }
        if (rc == CT_EPARSE && found == 0)
            rc = err_at(c, 0, 0, "%s",
                        len == 0 ? "the file is empty" : "no YAML document in the file");
    }
    fy_diag_destroy(diag);
    return rc;
}
