/* Loading a TOSCA template: the top-level sections of each file, relative
 * imports (each file once, with tosca-parser's fallback for paths written
 * relative to another directory), then types, then the topology. */
#include "tosca_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IMPORT_DEPTH 16

static const char *const top_keys[] = {"tosca_definitions_version",
                                       "tosca_default_namespace",
                                       "template_name",
                                       "template_author",
                                       "template_version",
                                       "description",
                                       "metadata",
                                       "namespace",
                                       "imports",
                                       "dsl_definitions",
                                       "repositories",
                                       "topology_template",
                                       "node_types",
                                       "relationship_types",
                                       "relationship_templates",
                                       "capability_types",
                                       "artifact_types",
                                       "data_types",
                                       "interface_types",
                                       "policy_types",
                                       "group_types",
                                       NULL};
static const char *const import_keys[] = {"file", "repository", "namespace_uri", "namespace_prefix",
                                          NULL};
static const char *const versions[] = {"tosca_simple_yaml_1_0", "tosca_simple_yaml_1_1",
                                       "tosca_simple_yaml_1_2", "tosca_simple_yaml_1_3", NULL};

/* ---------------------------------------------------------------- paths */

/* Removes "." segments and "dir/.." pairs in place (paths with more
 * segments than we track are left as they are). */
static void normalise(char *path)
{
    const char *segs[256];
    size_t lens[256], n = 0, len = 0;
    bool abs = path[0] == '/';
    char *copy = strdup(path);

    if (copy == NULL)
        return;
    for (char *p = copy; *p != '\0';) {
        size_t sl = strcspn(p, "/");
        if (sl == 0 || (sl == 1 && p[0] == '.')) {
            /* empty or "." */
        } else if (sl == 2 && p[0] == '.' && p[1] == '.' && n > 0 &&
                   !(lens[n - 1] == 2 && strncmp(segs[n - 1], "..", 2) == 0)) {
            n--;
        } else if (n == sizeof(segs) / sizeof(segs[0])) {
            free(copy);
            return;
        } else {
            segs[n] = p;
            lens[n++] = sl;
        }
        p += sl;
        if (*p == '/')
            p++;
    }
    if (abs)
        path[len++] = '/';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            path[len++] = '/';
        memmove(path + len, copy + (segs[i] - copy), lens[i]);
        len += lens[i];
    }
    path[len] = '\0';
    free(copy);
}

/* Returns: dir/rel (rel itself when absolute or dir is empty), normalised,
 * malloc'd; NULL when out of memory. */
static char *join_path(const char *dir, size_t dir_len, const char *rel)
{
    ct_buf b;

    ct_buf_init(&b, 8192);
    if (rel[0] == '/' || dir_len == 0) {
        if (ct_buf_append(&b, rel, strlen(rel)) < 0)
            goto fail;
    } else if (ct_buf_append(&b, dir, dir_len) < 0 || ct_buf_append(&b, "/", 1) < 0 ||
               ct_buf_append(&b, rel, strlen(rel)) < 0) {
        goto fail;
    }
    normalise(b.data);
    return ct_buf_detach(&b);
fail:
    ct_buf_free(&b);
    return NULL;
}

static size_t dir_len_of(const char *file)
{
    const char *slash = strrchr(file, '/');

    return slash ? (size_t)(slash - file) : 0;
}

/* tosca-parser accepts "data/custom_types/x.yaml" imported from a file in
 * ".../custom_types/" as ".../custom_types/x.yaml": the import's directory
 * (or a tail of it) names the importing file's own directory.
 * Returns: that candidate (malloc'd), or NULL when the rule does not apply. */
static char *fallback_path(const char *from, const char *rel)
{
    size_t dl = dir_len_of(from);
    const char *base = strrchr(rel, '/');

    if (base == NULL || rel[0] == '/')
        return NULL;
    for (const char *p = rel; p < base; p = strchr(p, '/') + 1) {
        size_t pl = (size_t)(base - p);
        if (pl <= dl && strncmp(from + dl - pl, p, pl) == 0 &&
            (pl == dl || from[dl - pl - 1] == '/'))
            return join_path(from, dl, base + 1);
    }
    return NULL;
}

/* ---------------------------------------------------------------- files */

static int add_file(tosca_ctx *c, const char **out, const char *name)
{
    ct_tosca *t = c->t;
    char **v = realloc(t->files, (t->n_files + 1) * sizeof(*v));

    if (v == NULL)
        return ct_yaml_nomem(&c->y);
    t->files = v;
    if ((v[t->n_files] = strdup(name)) == NULL)
        return ct_yaml_nomem(&c->y);
    *out = v[t->n_files++];
    return 0;
}

static bool already_loaded(const tosca_ctx *c, const char *path)
{
    for (size_t i = 0; i < c->t->n_files; i++)
        if (strcmp(c->t->files[i], path) == 0)
            return true;
    return false;
}

static int read_file_doc(tosca_ctx *c, struct fy_node *root, int depth, bool is_root);

/* Reads path with the caller's reader; CT_ENOTFOUND is returned quietly so
 * the caller can try another candidate. */
static int read_import_text(tosca_ctx *c, char **out, size_t *out_len, const char *path)
{
    int rc = c->opts->read(out, out_len, path, c->opts->read_payload);

    if (rc == 0 && *out_len > CT_TOSCA_MAX_FILE) {
        free(*out);
        *out = NULL;
        return ct_error_set(CT_ELIMIT, "%s is larger than %u bytes", path, CT_TOSCA_MAX_FILE);
    }
    return rc;
}

/* Finds and reads the file an import names. Out: *out_path, *out_text. */
static int locate_import(tosca_ctx *c, struct fy_node *at, const char *rel, char **out_path,
                         char **out_text, size_t *out_len)
{
    char *path = join_path(c->y.file, dir_len_of(c->y.file), rel), *alt = NULL;
    int rc;

    if (path == NULL)
        return ct_yaml_nomem(&c->y);
    rc = read_import_text(c, out_text, out_len, path);
    if (rc == CT_ENOTFOUND && (alt = fallback_path(c->y.file, rel)) != NULL &&
        (already_loaded(c, alt) || (rc = read_import_text(c, out_text, out_len, alt)) == 0)) {
        ct_yaml_warn(&c->y, at, "import \"%s\" is not at %s; using %s as tosca-parser does", rel,
                     path, alt);
        free(path);
        path = alt;
        alt = NULL;
        rc = 0;
    }
    free(alt);
    if (rc < 0) {
        free(path);
        return rc == CT_ENOMEM ? ct_yaml_nomem(&c->y)
                               : ct_yaml_err(&c->y, at, "import \"%s\": %s", rel, ct_error_last());
    }
    *out_path = path;
    return 0;
}

/* Parses and reads one imported file (types only). */
static int load_import(tosca_ctx *c, struct fy_node *at, const char *rel, int depth)
{
    const char *saved = c->y.file, *name;
    char *path = NULL, *text = NULL;
    struct fy_document *doc = NULL;
    size_t len = 0;
    int rc;

    if (c->opts->read == NULL)
        return ct_yaml_err(&c->y, at,
                           "import \"%s\": imports need the template to be read from a "
                           "file",
                           rel);
    if (depth >= MAX_IMPORT_DEPTH)
        return ct_yaml_err(&c->y, at, "imports nested more than %d deep", MAX_IMPORT_DEPTH);
    if (strstr(rel, "://") != NULL)
        return ct_yaml_err(&c->y, at, "import \"%s\": only local files can be imported", rel);
    if ((rc = locate_import(c, at, rel, &path, &text, &len)) < 0 || already_loaded(c, path))
        goto done;
    if (c->t->n_files > CT_TOSCA_MAX_IMPORTS) {
        rc = ct_yaml_err(&c->y, at, "more than %d imported files", CT_TOSCA_MAX_IMPORTS);
        goto done;
    }
    if ((rc = add_file(c, &name, path)) < 0)
        goto done;
    c->y.file = name;
    c->texts[c->n_docs] = text;
    rc = ct_yaml_parse_doc(&c->y, &doc, text, len);
    c->docs[c->n_docs++] = doc;
    text = NULL; /* owned by c->texts now */
    if (rc == 0)
        rc = read_file_doc(c, fy_document_root(doc), depth + 1, false);
    c->y.file = saved;
done:
    free(text);
    free(path);
    return rc;
}

static int read_import(tosca_ctx *c, struct fy_node *item, int depth)
{
    struct fy_node *d = ct_yaml_deref(item), *file = item;

    if (ct_yaml_is_map(d) && ct_yaml_get(d, "file") == NULL && fy_node_mapping_item_count(d) == 1) {
        void *it = NULL; /* 1.0 short form: "name: file" or "name: {file: ...}" */
        file = fy_node_pair_value(fy_node_mapping_iterate(d, &it));
        d = ct_yaml_deref(file);
    }
    if (ct_yaml_is_map(d)) {
        if (ct_yaml_check_keys(&c->y, d, "import", import_keys) != 0)
            return c->y.nomem ? CT_ENOMEM : CT_EPARSE;
        if (ct_yaml_get(d, "repository") != NULL)
            return ct_yaml_err(&c->y, item,
                               "imports from repositories are not supported, only "
                               "local files");
        file = ct_yaml_get(d, "file");
    }
    if (ct_yaml_scalar(file) == NULL || ct_yaml_is_null(file))
        return ct_yaml_err(&c->y, item, "an import names a file");
    return load_import(c, item, ct_yaml_scalar(file), depth);
}

static int read_imports(tosca_ctx *c, struct fy_node *imports, int depth)
{
    struct fy_node *item;
    void *it = NULL;
    int rc = 0, r;

    if (ct_yaml_is_null(imports))
        return 0;
    if (!ct_yaml_is_seq(imports))
        return ct_yaml_err(&c->y, imports, "imports must be a list");
    imports = ct_yaml_deref(imports);
    while ((item = fy_node_sequence_iterate(imports, &it)) != NULL && !c->y.nomem)
        if ((r = read_import(c, item, depth)) < 0)
            rc = r;
    return c->y.nomem ? CT_ENOMEM : rc;
}

/* ---------------------------------------------------------------- top level */

static int read_version(tosca_ctx *c, struct fy_node *root, bool is_root)
{
    struct fy_node *n = ct_yaml_get(root, "tosca_definitions_version");
    const char *v = ct_yaml_scalar(n);

    if (n == NULL)
        return ct_yaml_err(&c->y, root,
                           "missing tosca_definitions_version (e.g. "
                           "tosca_simple_yaml_1_3)");
    if (v == NULL)
        return ct_yaml_err(&c->y, n,
                           "tosca_definitions_version must be a string such as "
                           "tosca_simple_yaml_1_3");
    for (int i = 0; v != NULL && versions[i] != NULL; i++)
        if (strcmp(v, versions[i]) == 0) {
            if (!is_root)
                return 0;
            c->t->version_minor = i;
            c->t->version = strdup(v);
            return c->t->version ? 0 : ct_yaml_nomem(&c->y);
        }
    return ct_yaml_err(&c->y, n,
                       "tosca_definitions_version \"%s\" is not supported (use "
                       "tosca_simple_yaml_1_0 to tosca_simple_yaml_1_3)",
                       v);
}

static int check_metadata(ct_yaml_reader *r, const char *key, struct fy_node *k, struct fy_node *v,
                          void *arg)
{
    tosca_ctx *c = tosca_of(r);
    (void)k;
    (void)arg;
    if (ct_yaml_scalar(v) == NULL)
        return ct_yaml_err(&c->y, v ? v : k, "metadata \"%s\" must be a string", key);
    return 0;
}

static int read_common(tosca_ctx *c, struct fy_node *root, bool is_root)
{
    struct fy_node *n;
    int rc = 0, r;

    if (ct_yaml_check_keys(&c->y, root, "template", top_keys) != 0)
        rc = c->y.nomem ? CT_ENOMEM : CT_EPARSE;
    if ((r = read_version(c, root, is_root)) < 0)
        rc = r;
    if ((n = ct_yaml_get(root, "description")) != NULL) {
        if (ct_yaml_scalar(n) == NULL)
            rc = ct_yaml_err(&c->y, n, "description must be a string");
        else if (is_root && (c->t->description = strdup(ct_yaml_scalar(n))) == NULL)
            return ct_yaml_nomem(&c->y);
    }
    if ((n = ct_yaml_get(root, "metadata")) != NULL) {
        if (!ct_yaml_is_map(n))
            rc = ct_yaml_err(&c->y, n, "metadata must be a map");
        else if ((r = ct_yaml_each(&c->y, n, check_metadata, NULL)) < 0)
            rc = r;
    }
    return c->y.nomem ? CT_ENOMEM : rc;
}

static int read_file_doc(tosca_ctx *c, struct fy_node *root, int depth, bool is_root)
{
    static const tosca_kind kinds[] = {TK_DATA,     TK_CAPABILITY, TK_RELATIONSHIP, TK_INTERFACE,
                                       TK_ARTIFACT, TK_POLICY,     TK_GROUP,        TK_NODE};
    int rc, r;

    if (root == NULL || ct_yaml_is_null(root))
        return ct_yaml_err(&c->y, NULL, "the file is empty");
    if (!ct_yaml_is_map(root))
        return ct_yaml_err(&c->y, root, "a TOSCA file is a map of sections");
    rc = read_common(c, root, is_root);
    if (rc == CT_ENOMEM || (r = read_imports(c, ct_yaml_get(root, "imports"), depth)) == CT_ENOMEM)
        return CT_ENOMEM;
    if (r < 0)
        rc = r;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        r = ct_tosca__read_types(c, kinds[i], ct_yaml_get(root, ct_tosca__kind_section(kinds[i])));
        if (r == CT_ENOMEM || r == CT_ELIMIT)
            return r;
        if (r < 0)
            rc = r;
    }
    if (!is_root && ct_yaml_get(root, "topology_template") != NULL)
        ct_yaml_warn(&c->y, ct_yaml_get(root, "topology_template"),
                     "the topology_template of an imported file is ignored");
    return rc;
}

/* ---------------------------------------------------------------- API */

static void free_node(ct_tosca_node *n)
{
    free(n->name);
    free(n->type);
    free(n->description);
    json_decref(n->properties);
    json_decref(n->capabilities);
    json_decref(n->interfaces);
    json_decref(n->metadata);
    for (size_t i = 0; i < n->n_reqs; i++) {
        free(n->reqs[i].name);
        free(n->reqs[i].node);
        free(n->reqs[i].capability);
        free(n->reqs[i].relationship);
    }
    free(n->reqs);
}

void ct_tosca_free(ct_tosca *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_inputs; i++) {
        free(t->inputs[i].name);
        free(t->inputs[i].type);
        free(t->inputs[i].description);
        json_decref(t->inputs[i].def);
        json_decref(t->inputs[i].value);
    }
    free(t->inputs);
    for (size_t i = 0; i < t->n_nodes; i++)
        free_node(&t->nodes[i]);
    free(t->nodes);
    for (size_t i = 0; i < t->n_outputs; i++) {
        free(t->outputs[i].name);
        free(t->outputs[i].description);
        json_decref(t->outputs[i].value);
    }
    free(t->outputs);
    for (size_t i = 0; i < t->n_files; i++)
        free(t->files[i]);
    free(t->files);
    free(t->version);
    free(t->description);
    free(t->source);
    ct_tosca__types_free(t->types);
    free(t);
}

int ct_tosca_value_resolve(const json_t **out, const char **input, const ct_tosca *t,
                           const json_t *v)
{
    const json_t *arg = json_object_get(v, "get_input");
    const char *name = json_string_value(json_is_array(arg) ? json_array_get(arg, 0) : arg);

    *out = v;
    if (input != NULL)
        *input = NULL;
    if (!json_is_object(v))
        return 0;
    *out = NULL;
    if (name == NULL || json_object_size(v) != 1)
        return CT_EINVAL;
    if (input != NULL)
        *input = name;
    for (size_t i = 0; i < t->n_inputs; i++)
        if (strcmp(t->inputs[i].name, name) == 0) {
            *out = t->inputs[i].value;
            return 0;
        }
    return CT_ENOTFOUND;
}

static void ctx_free(tosca_ctx *c)
{
    for (size_t i = 0; i < c->n_docs; i++) {
        fy_document_destroy(c->docs[i]);
        free(c->texts[i]);
    }
    for (size_t i = 0; i < c->n_tpl; i++) {
        free(c->tpl_names[i]);
        free(c->tpl_types[i]);
    }
    free(c->tpl_names);
    free(c->tpl_types);
}

/* Loads everything into c->t. Returns: 0 when no error was found. */
static int load_all(tosca_ctx *c, const char *text, size_t len, const char *name)
{
    struct fy_document *doc = NULL;
    struct fy_node *root;
    int rc;

    if ((rc = ct_tosca__builtin_types(c)) < 0)
        return rc;
    if ((rc = add_file(c, &c->y.file, name)) < 0)
        return rc;
    if ((c->t->source = malloc(len + 1)) == NULL)
        return ct_yaml_nomem(&c->y);
    memcpy(c->t->source, text, len);
    c->t->source[len] = '\0';
    c->t->source_len = len;
    if (len > CT_TOSCA_MAX_FILE)
        return ct_yaml_err(&c->y, NULL, "larger than %u bytes", CT_TOSCA_MAX_FILE);
    if ((rc = ct_yaml_parse_doc(&c->y, &doc, c->t->source, len)) < 0)
        return rc;
    c->docs[c->n_docs++] = doc;
    root = fy_document_root(doc);
    rc = read_file_doc(c, root, 0, true);
    if (rc == CT_ENOMEM || rc == CT_ELIMIT)
        return rc;
    if ((rc = ct_tosca__link_types(c)) == CT_ENOMEM)
        return rc;
    c->y.file = c->t->files[0];
    if (c->y.diags->errors == 0 && ct_yaml_is_map(root))
        rc = ct_tosca__read_topology(c, ct_yaml_get(root, "topology_template"));
    return c->y.nomem ? CT_ENOMEM : rc;
}

static int finish(ct_yaml_diags *d, int rc)
{
    if (rc == CT_ENOMEM)
        return ct_error_set(CT_ENOMEM, "tosca: out of memory");
    if (d->errors == 0 && rc < 0) /* every failure is reported; this is a safety net */
        return ct_error_set(CT_EPARSE, "tosca: the template could not be read (%s)",
                            ct_strerror(rc));
    if (d->errors == 0)
        return 0;
    for (size_t i = 0; i < d->n; i++)
        if (!d->items[i].warning)
            return ct_error_set(CT_EPARSE, "%s:%u:%u: %s (%zu error%s)",
                                d->items[i].file ? d->items[i].file : "-", d->items[i].line,
                                d->items[i].column, d->items[i].message, d->errors,
                                d->errors == 1 ? "" : "s");
    return ct_error_set(CT_EPARSE, "tosca: %zu errors", d->errors);
}

int ct_tosca_parse(ct_tosca **out, ct_yaml_diags *diags, const char *text, size_t len,
                   const char *name, const ct_tosca_opts *opts)
{
    static const ct_tosca_opts no_opts = {0};
    ct_yaml_diags local = {0};
    tosca_ctx c;
    int rc;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    c.y.diags = diags ? diags : &local;
    c.opts = opts ? opts : &no_opts;
    c.y.budget = CT_YAML_JSON_BUDGET;
    c.y.map_hook = ct_tosca__map_hook;
    if ((c.t = calloc(1, sizeof(*c.t))) == NULL ||
        (c.t->types = calloc(1, sizeof(*c.t->types))) == NULL) {
        free(c.t);
        return ct_error_set(CT_ENOMEM, "tosca: out of memory");
    }
    rc = finish(c.y.diags, load_all(&c, text, len, name ? name : "<template>"));
    ctx_free(&c);
    if (rc == 0)
        *out = c.t;
    else
        ct_tosca_free(c.t);
    ct_yaml_diags_free(&local);
    return rc;
}

static void diag_plain(ct_yaml_diags *d, const char *file, const char *msg, ...)
    __attribute__((format(printf, 3, 4)));

static void diag_plain(ct_yaml_diags *d, const char *file, const char *msg, ...)
{
    va_list ap;

    va_start(ap, msg);
    ct_yaml_diag_add(d, false, file, 0, 0, msg, ap);
    va_end(ap);
}

static int read_file_cb(char **out, size_t *out_len, const char *path, void *payload)
{
    (void)payload;
    return ct_file_read(out, out_len, path, CT_TOSCA_MAX_FILE);
}

int ct_tosca_load(ct_tosca **out, ct_yaml_diags *diags, const char *path, const ct_tosca_opts *opts)
{
    ct_tosca_opts o = {0};
    char *text = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (opts != NULL)
        o = *opts;
    o.read = read_file_cb;
    o.read_payload = NULL;
    if ((rc = ct_file_read(&text, &len, path, CT_TOSCA_MAX_FILE)) < 0) {
        if (diags != NULL)
            diag_plain(diags, NULL, "%s", ct_error_last());
        return rc;
    }
    rc = ct_tosca_parse(out, diags, text, len, path, &o);
    free(text);
    return rc;
}
