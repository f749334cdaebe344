/* TOSCA values: primitive types and scalar units, data types, and
 * constraints (equal, in_range, valid_values, ...); a value may be an
 * intrinsic function (tosca_func.c). Values are converted to JSON typed
 * by their TOSCA type. */
#include "tosca_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- constraints */

typedef enum cmp_kind { CMP_NUMBER, CMP_UNIT, CMP_OTHER } cmp_kind;

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

    if (ct_tosca__is_function(v) || !json_is_array(constraints))
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

/* ---------------------------------------------------------------- scalar units */

typedef struct unit {
    const char *name;
    double factor;
} unit;

static const unit size_units[] = {{"B", 1.0},
                                  {"kB", 1e3},
                                  {"KiB", 1024.0},
                                  {"MB", 1e6},
                                  {"MiB", 1048576.0},
                                  {"GB", 1e9},
                                  {"GiB", 1073741824.0},
                                  {"TB", 1e12},
                                  {"TiB", 1099511627776.0},
                                  {NULL, 0}};
static const unit time_units[] = {{"d", 86400.0}, {"h", 3600.0}, {"m", 60.0},  {"s", 1.0},
                                  {"ms", 1e-3},   {"us", 1e-6},  {"ns", 1e-9}, {NULL, 0}};
static const unit freq_units[] = {{"Hz", 1.0}, {"kHz", 1e3}, {"MHz", 1e6}, {"GHz", 1e9}, {NULL, 0}};
static const unit bitrate_units[] = {{"bps", 1.0},
                                     {"Kbps", 1e3},
                                     {"Kibps", 1024.0},
                                     {"Mbps", 1e6},
                                     {"Mibps", 1048576.0},
                                     {"Gbps", 1e9},
                                     {"Gibps", 1073741824.0},
                                     {"Tbps", 1e12},
                                     {"Tibps", 1099511627776.0},
                                     {"Bps", 8.0},
                                     {"KBps", 8e3},
                                     {"KiBps", 8192.0},
                                     {"MBps", 8e6},
                                     {"MiBps", 8388608.0},
                                     {"GBps", 8e9},
                                     {"GiBps", 8589934592.0},
                                     {"TBps", 8e12},
                                     {"TiBps", 8796093022208.0},
                                     {NULL, 0}};

static const unit *units_of(ct_tosca_unit_kind kind)
{
    switch (kind) {
    case CT_TOSCA_UNIT_SIZE: return size_units;
    case CT_TOSCA_UNIT_TIME: return time_units;
    case CT_TOSCA_UNIT_FREQUENCY: return freq_units;
    case CT_TOSCA_UNIT_BITRATE: return bitrate_units;
    }
    return size_units;
}

/* Exact spelling first: bit rates differ from byte rates only by case. */
static const unit *find_unit(const unit *u, const char *name)
{
    for (size_t i = 0; u[i].name != NULL; i++)
        if (strcmp(u[i].name, name) == 0)
            return &u[i];
    for (size_t i = 0; u[i].name != NULL; i++)
        if (strcasecmp(u[i].name, name) == 0)
            return &u[i];
    return NULL;
}

int ct_tosca_scalar_unit(double *out, const char *text, ct_tosca_unit_kind kind)
{
    char name[16];
    const unit *u;
    const char *p = text;
    char *end;
    double v;
    size_t n;

    while (*p == ' ' || *p == '\t')
        p++;
    if (!isdigit((unsigned char)*p) && *p != '.')
        return ct_error_set(CT_EPARSE, "\"%s\" does not start with a number", text);
    errno = 0;
    v = strtod(p, &end);
    if (errno != 0 || end == p || !isfinite(v))
        return ct_error_set(CT_EPARSE, "\"%s\" does not start with a number", text);
    p = end;
    while (*p == ' ' || *p == '\t')
        p++;
    n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (n == 0)
        return ct_error_set(CT_EPARSE, "\"%s\" has no unit", text);
    if (n >= sizeof(name) || p[n + strspn(p + n, " \t")] != '\0')
        return ct_error_set(CT_EPARSE, "\"%s\" has an unknown unit", text);
    memcpy(name, p, n);
    name[n] = '\0';
    if ((u = find_unit(units_of(kind), name)) == NULL)
        return ct_error_set(CT_EPARSE, "\"%s\" has an unknown unit \"%s\"", text, name);
    *out = v * u->factor;
    return 0;
}

static int unit_kind(const char *type, ct_tosca_unit_kind *out)
{
    static const struct {
        const char *name;
        ct_tosca_unit_kind kind;
    } kinds[] = {{"scalar-unit.size", CT_TOSCA_UNIT_SIZE},
                 {"scalar-unit.time", CT_TOSCA_UNIT_TIME},
                 {"scalar-unit.frequency", CT_TOSCA_UNIT_FREQUENCY},
                 {"scalar-unit.bitrate", CT_TOSCA_UNIT_BITRATE}};

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(type, kinds[i].name) == 0) {
            *out = kinds[i].kind;
            return 1;
        }
    return 0;
}

/* ---------------------------------------------------------------- primitives */

static const char *const primitives[] = {"string",
                                         "integer",
                                         "float",
                                         "boolean",
                                         "timestamp",
                                         "null",
                                         "version",
                                         "range",
                                         "list",
                                         "map",
                                         "scalar-unit.size",
                                         "scalar-unit.time",
                                         "scalar-unit.frequency",
                                         "scalar-unit.bitrate",
                                         NULL};

bool ct_tosca__primitive(const char *name)
{
    for (size_t i = 0; primitives[i] != NULL; i++)
        if (strcmp(name, primitives[i]) == 0)
            return true;
    return false;
}

int ct_tosca__check_type_name(tosca_ctx *c, struct fy_node *at, const char *type)
{
    if (ct_tosca__primitive(type) || ct_tosca__type_find(c->t->types, TK_DATA, type) != NULL)
        return 0;
    return ct_yaml_err(&c->y, at, "unknown data type \"%s\"", type);
}

/* Parses decimal, 0x hex or 0o octal integers with an optional sign. */
static bool parse_int(const char *s, long long *out)
{
    int base = 10, neg = 0;
    unsigned long long v;
    char *end;

    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (s[0] == '0' && s[1] == 'o') {
        base = 8;
        s += 2;
    }
    if (!isxdigit((unsigned char)*s))
        return false;
    errno = 0;
    v = strtoull(s, &end, base);
    if (errno != 0 || *end != '\0' || v > (unsigned long long)LLONG_MAX + (unsigned)neg)
        return false;
    *out = neg ? (long long)(0 - v) : (long long)v;
    return true;
}

static bool parse_float(const char *s, double *out)
{
    char *end;

    if (*s == '\0' || isspace((unsigned char)*s))
        return false;
    errno = 0;
    *out = strtod(s, &end);
    return errno == 0 && *end == '\0' && isfinite(*out);
}

static bool valid_version(const char *s)
{
    if (!isdigit((unsigned char)s[0]))
        return false;
    return strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-") ==
           strlen(s);
}

static bool valid_timestamp(const char *s)
{
    int64_t ms;
    int y, m, d, n = 0;

    if (ct_time_parse(&ms, s) == 0)
        return true;
    /* A plain date, as YAML allows. */
    return sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && s[n] == '\0' && m >= 1 && m <= 12 &&
           d >= 1 && d <= 31;
}

/* Converts a scalar of a primitive non-collection type. */
static int scalar_value(tosca_ctx *c, json_t **out, struct fy_node *n, const char *s,
                        const char *type, const char *what)
{
    ct_tosca_unit_kind kind;
    long long i;
    double d;

    if (strcmp(type, "string") == 0) {
        *out = json_string(s);
    } else if (strcmp(type, "integer") == 0) {
        if (!parse_int(s, &i))
            return ct_yaml_err(&c->y, n, "%s: \"%s\" is not an integer", what, s);
        *out = json_integer(i);
    } else if (strcmp(type, "float") == 0) {
        if (!parse_float(s, &d))
            return ct_yaml_err(&c->y, n, "%s: \"%s\" is not a number", what, s);
        *out = json_real(d);
    } else if (strcmp(type, "boolean") == 0) {
        if (strcasecmp(s, "true") != 0 && strcasecmp(s, "false") != 0)
            return ct_yaml_err(&c->y, n, "%s: \"%s\" is not true or false", what, s);
        *out = json_boolean(strcasecmp(s, "true") == 0);
    } else if (strcmp(type, "version") == 0) {
        if (!valid_version(s))
            return ct_yaml_err(&c->y, n, "%s: \"%s\" is not a version (major.minor[.fix])", what,
                               s);
        *out = json_string(s);
    } else if (strcmp(type, "timestamp") == 0) {
        if (!valid_timestamp(s))
            return ct_yaml_err(&c->y, n, "%s: \"%s\" is not a timestamp", what, s);
        *out = json_string(s);
    } else if (unit_kind(type, &kind)) {
        if (ct_tosca_scalar_unit(&d, s, kind) < 0)
            return ct_yaml_err(&c->y, n, "%s: %s (a %s is a number and a unit, e.g. %s)", what,
                               ct_error_last(), type,
                               kind == CT_TOSCA_UNIT_SIZE ? "\"10 GB\"" : "\"2 GHz\"");
        *out = json_string(s);
    } else {
        *out = json_string(s); /* "null" and anything unchecked */
    }
    return *out ? 0 : ct_yaml_err(&c->y, n, "%s: text is not valid UTF-8", what);
}

static int range_value(tosca_ctx *c, json_t **out, struct fy_node *n, const char *what)
{
    struct fy_node *d = ct_yaml_deref(n);
    const char *lo, *hi;
    long long a, b = LLONG_MAX;

    if (d == NULL || !fy_node_is_sequence(d) || fy_node_sequence_item_count(d) != 2)
        return ct_yaml_err(&c->y, n, "%s: a range is a list of two integers", what);
    lo = ct_yaml_scalar(fy_node_sequence_get_by_index(d, 0));
    hi = ct_yaml_scalar(fy_node_sequence_get_by_index(d, 1));
    if (lo == NULL || hi == NULL || !parse_int(lo, &a) ||
        (strcmp(hi, "UNBOUNDED") != 0 && !parse_int(hi, &b)) || a > b)
        return ct_yaml_err(&c->y, n, "%s: a range is [lower, upper] with lower <= upper", what);
    return ct_yaml_to_json(&c->y, out, n, 1);
}

/* ---------------------------------------------------------------- collections */

static int list_value(tosca_ctx *c, json_t **out, struct fy_node *n, const char *entry,
                      const char *what)
{
    struct fy_node *d = ct_yaml_deref(n), *item;
    void *it = NULL;
    json_t *arr;
    int rc;

    if (d == NULL || !fy_node_is_sequence(d))
        return ct_yaml_err(&c->y, n, "%s: expected a list", what);
    if (entry == NULL)
        return ct_yaml_to_json(&c->y, out, d, 1);
    if ((arr = json_array()) == NULL)
        return ct_yaml_nomem(&c->y);
    while ((item = fy_node_sequence_iterate(d, &it)) != NULL) {
        json_t *v;
        if ((rc = ct_tosca__value(c, &v, item, entry, NULL, NULL, what)) < 0)
            goto fail;
        if (json_array_append_new(arr, v) < 0) {
            rc = ct_yaml_nomem(&c->y);
            goto fail;
        }
    }
    *out = arr;
    return 0;
fail:
    json_decref(arr);
    return rc;
}

typedef struct map_arg {
    json_t *obj;
    const char *entry;
    const char *what;
    const tosca_type *data; /* for data types: check keys against it */
} map_arg;

static int map_entry(ct_yaml_reader *r, const char *key, struct fy_node *k, struct fy_node *v,
                     void *arg)
{
    tosca_ctx *c = tosca_of(r);
    map_arg *ma = arg;
    const tosca_propdef *p = NULL;
    char what[300];
    json_t *jv;
    int rc;

    snprintf(what, sizeof(what), "%s: \"%s\"", ma->what, key);
    if (ma->data != NULL && (p = ct_tosca__prop_find(ma->data, key)) == NULL)
        return ct_yaml_err(&c->y, k, "%s: data type %s has no property \"%s\"", ma->what,
                           ma->data->name, key);
    if (p != NULL)
        rc = ct_tosca__value(c, &jv, v, p->type, p->entry, p->constraints, what);
    else if (ma->entry != NULL)
        rc = ct_tosca__value(c, &jv, v, ma->entry, NULL, NULL, what);
    else
        rc = ct_yaml_to_json(&c->y, &jv, v, 1);
    if (rc < 0)
        return rc;
    if (json_object_set_new(ma->obj, key, jv) < 0)
        return ct_yaml_nomem(&c->y);
    return 0;
}

static int missing_props(tosca_ctx *c, struct fy_node *n, const tosca_type *t, json_t *obj,
                         const char *what)
{
    int rc = 0;

    for (size_t hops = 0; t != NULL && hops <= TOSCA_MAX_TYPES; hops++, t = t->parent)
        for (size_t i = 0; i < t->n_props; i++) {
            const tosca_propdef *p = &t->props[i];
            if (json_object_get(obj, p->name) != NULL)
                continue;
            if (p->def != NULL) {
                if (json_object_set(obj, p->name, p->def) < 0)
                    return ct_yaml_nomem(&c->y);
            } else if (p->required) {
                rc = ct_yaml_err(&c->y, n, "%s: missing required \"%s\" of data type %s", what,
                                 p->name, t->name);
            }
        }
    return rc;
}

static int map_value(tosca_ctx *c, json_t **out, struct fy_node *n, const char *entry,
                     const tosca_type *data, const char *what)
{
    map_arg ma = {NULL, entry, what, data};
    int rc;

    if (!ct_yaml_is_map(n))
        return ct_yaml_err(&c->y, n, "%s: expected a map", what);
    if ((ma.obj = json_object()) == NULL)
        return ct_yaml_nomem(&c->y);
    rc = ct_yaml_each(&c->y, n, map_entry, &ma);
    if (rc == 0 && data != NULL)
        rc = missing_props(c, n, data, ma.obj, what);
    if (rc < 0) {
        json_decref(ma.obj);
        return rc;
    }
    *out = ma.obj;
    return 0;
}

/* ---------------------------------------------------------------- values */

/* The primitive a data type refines (PortDef: integer), or NULL. */
static const char *primitive_base(const tosca_type *t)
{
    for (size_t hops = 0; t != NULL && hops <= TOSCA_MAX_TYPES; hops++, t = t->parent)
        if (t->parent == NULL && t->derived_from != NULL && ct_tosca__primitive(t->derived_from))
            return t->derived_from;
    return NULL;
}

static int data_value(tosca_ctx *c, json_t **out, struct fy_node *n, const tosca_type *dt,
                      const char *what)
{
    const char *base = primitive_base(dt);
    int rc;

    if (base == NULL)
        return map_value(c, out, n, NULL, dt, what);
    if ((rc = ct_tosca__value(c, out, n, base, NULL, NULL, what)) < 0)
        return rc;
    for (const tosca_type *t = dt; t != NULL; t = t->parent)
        if (t->constraints != NULL &&
            (rc = ct_tosca__constraints(c, n, *out, base, t->constraints, what)) < 0) {
            json_decref(*out);
            *out = NULL;
            return rc;
        }
    return 0;
}

static int typed_value(tosca_ctx *c, json_t **out, struct fy_node *n, const char *type,
                       const char *entry, const char *what)
{
    struct fy_node *d = ct_yaml_deref(n);
    const tosca_type *dt;
    const char *s;

    if (strcmp(type, "list") == 0)
        return list_value(c, out, n, entry, what);
    if (strcmp(type, "map") == 0)
        return map_value(c, out, n, entry, NULL, what);
    if (strcmp(type, "range") == 0)
        return range_value(c, out, n, what);
    if (!ct_tosca__primitive(type)) {
        if ((dt = ct_tosca__type_find(c->t->types, TK_DATA, type)) != NULL)
            return data_value(c, out, n, dt, what);
        return ct_yaml_to_json(&c->y, out, n, 1); /* unknown: reported where it was declared */
    }
    if (d == NULL || !fy_node_is_scalar(d) || (s = ct_yaml_scalar(d)) == NULL)
        return ct_yaml_err(&c->y, n, "%s: expected a %s", what, type);
    return scalar_value(c, out, n, s, type, what);
}

int ct_tosca__value(tosca_ctx *c, json_t **out, struct fy_node *n, const char *type,
                    const char *entry, const json_t *constraints, const char *what)
{
    bool is_fn = false;
    int rc;

    *out = NULL;
    if (n != NULL && ct_yaml_deref(n) == NULL)
        return ct_yaml_err(&c->y, n, "%s: alias to nothing", what);
    if (ct_yaml_is_null(n))
        return ct_yaml_err(&c->y, n, "%s has no value", what);
    if ((rc = ct_yaml_spend(&c->y, n)) < 0)
        return rc;
    if (ct_yaml_is_map(n) &&
        ((rc = ct_tosca__function(c, out, &is_fn, ct_yaml_deref(n), 0)) < 0 || is_fn))
        return rc;
    if ((rc = typed_value(c, out, n, type, entry, what)) < 0)
        return rc;
    if (constraints != NULL &&
        (rc = ct_tosca__constraints(c, n, *out, type, constraints, what)) < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}
