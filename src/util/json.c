/* Helpers over jansson for untrusted JSON: bounded parsing, and field
 * getters whose errors name the field, for request bodies and CLI input. */
#include "catena/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct depth_item {
    const json_t *v;
    size_t depth;
};

size_t ct_json_depth(const json_t *v)
{
    struct depth_item *stack;
    size_t n = 0, cap = 64, max = 0;

    if (v == NULL)
        return 0;
    stack = malloc(cap * sizeof(*stack));
    if (stack == NULL)
        return SIZE_MAX; /* treated as too deep: callers fail closed */
    stack[n++] = (struct depth_item){v, 1};
    while (n > 0) {
        struct depth_item it = stack[--n];
        size_t count = json_is_array(it.v)    ? json_array_size(it.v)
                       : json_is_object(it.v) ? json_object_size(it.v)
                                              : 0;
        if (it.depth > max)
            max = it.depth;
        if (count == 0)
            continue;
        if (n + count > cap) {
            size_t ncap = (n + count) * 2;
            struct depth_item *p = realloc(stack, ncap * sizeof(*stack));
            if (p == NULL) {
                free(stack);
                return SIZE_MAX;
            }
            stack = p;
            cap = ncap;
        }
        if (json_is_array(it.v)) {
            for (size_t i = 0; i < count; i++)
                stack[n++] = (struct depth_item){json_array_get(it.v, i), it.depth + 1};
        } else {
            const char *key;
            json_t *child;
            json_object_foreach ((json_t *)it.v, key, child)
                stack[n++] = (struct depth_item){child, it.depth + 1};
        }
    }
    free(stack);
    return max;
}

static int parse_flags(json_t **out, const char *text, size_t len, size_t max_depth, size_t flags)
{
    json_error_t jerr;
    json_t *v;

    v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | flags, &jerr);
    if (v == NULL) {
        if (strstr(jerr.text, "depth") != NULL)
            return ct_error_set(CT_ELIMIT, "json: nesting deeper than %zu", max_depth);
        return ct_error_set(CT_EPARSE, "json: %s at line %d column %d", jerr.text, jerr.line,
                            jerr.column);
    }
    if (ct_json_depth(v) > max_depth) {
        json_decref(v);
        return ct_error_set(CT_ELIMIT, "json: nesting deeper than %zu", max_depth);
    }
    *out = v;
    return 0;
}

int ct_json_parse(json_t **out, const char *text, size_t len, size_t max_depth)
{
    return parse_flags(out, text, len, max_depth, 0);
}

int ct_json_parse_with_nul(json_t **out, const char *text, size_t len, size_t max_depth)
{
    return parse_flags(out, text, len, max_depth, JSON_ALLOW_NUL);
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* Looks key up; fails unless obj is an object and key is present (or
 * optional). */
static int get_field(json_t **out, const json_t *obj, const char *key, bool optional)
{
    json_t *v;

    if (!json_is_object(obj))
        return ct_error_set(CT_EINVAL, "expected a JSON object holding '%s'", key);
    v = json_object_get(obj, key);
    if (v == NULL || (optional && json_is_null(v))) {
        if (optional)
            return CT_ENOTFOUND;
        return ct_error_set(CT_EINVAL, "field '%s' is required", key);
    }
    *out = v;
    return 0;
}

int ct_json_get_string(const char **out, const json_t *obj, const char *key, bool optional)
{
    json_t *v = NULL;
    int rc = get_field(&v, obj, key, optional);

    if (rc < 0)
        return rc;
    if (!json_is_string(v))
        return ct_error_set(CT_EINVAL, "field '%s' must be a string, not %s", key, type_name(v));
    *out = json_string_value(v);
    return 0;
}

int ct_json_get_int(int64_t *out, const json_t *obj, const char *key, bool optional)
{
    json_t *v = NULL;
    int rc = get_field(&v, obj, key, optional);

    if (rc < 0)
        return rc;
    if (!json_is_integer(v))
        return ct_error_set(CT_EINVAL, "field '%s' must be an integer, not %s", key, type_name(v));
    *out = json_integer_value(v);
    return 0;
}

int ct_json_get_bool(bool *out, const json_t *obj, const char *key, bool optional)
{
    json_t *v = NULL;
    int rc = get_field(&v, obj, key, optional);

    if (rc < 0)
        return rc;
    if (!json_is_boolean(v))
        return ct_error_set(CT_EINVAL, "field '%s' must be a boolean, not %s", key, type_name(v));
    *out = json_is_true(v);
    return 0;
}

int ct_json_check_keys(const json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;

    if (!json_is_object(obj))
        return ct_error_set(CT_EINVAL, "expected a JSON object, got %s", type_name(obj));
    json_object_foreach ((json_t *)obj, key, v) {
        bool known = false;
        for (size_t i = 0; allowed[i] != NULL && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known)
            return ct_error_set(CT_EINVAL, "unknown field '%.64s'", key);
    }
    return 0;
}

/* The fewest significant digits (1 to 17) that print x so that it reads
 * back as exactly x, and at least its integer digits below 1e17, so that
 * 100.0 does not become 1e2. */
static int real_digits(double x)
{
    double mag = x < 0 ? -x : x;
    char text[40];
    int p = 1;

    for (double ten = 10; mag < 1e17 && mag >= ten; ten *= 10)
        p++;
    for (; p < 17; p++) {
        snprintf(text, sizeof(text), "%.*g", p, x);
        if (strtod(text, NULL) == x)
            return p;
    }
    return 17;
}

/* The most digits any real in v needs (0 when v holds none); bounded by
 * the depth jansson can build. */
static int max_real_digits(const json_t *v)
{
    const char *key;
    json_t *e;
    size_t i;
    int most = 0, d;

    switch (json_typeof(v)) {
    case JSON_REAL: return real_digits(json_real_value(v));
    case JSON_ARRAY:
        json_array_foreach ((json_t *)v, i, e)
            if ((d = max_real_digits(e)) > most)
                most = d;
        return most;
    case JSON_OBJECT:
        json_object_foreach ((json_t *)v, key, e)
            if ((d = max_real_digits(e)) > most)
                most = d;
        return most;
    default: return 0;
    }
}

char *ct_json_dumps(const json_t *v, size_t flags)
{
    int digits = max_real_digits(v);

    return json_dumps(v, flags | JSON_ENCODE_ANY | JSON_REAL_PRECISION(digits > 0 ? digits : 17));
}

int ct_json_dump(char **out, const json_t *v)
{
    char *s = ct_json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);

    if (s == NULL)
        return ct_error_set(CT_ENOMEM, "json: cannot serialise");
    *out = s;
    return 0;
}

json_t *ct_json_hex(const uint8_t *data, size_t len)
{
    char *s = malloc(2 * len + 3);
    json_t *j = NULL;

    if (s != NULL && ct_hex_encode(s, 2 * len + 3, data, len, true) == 0)
        j = json_string(s);
    free(s);
    return j;
}
