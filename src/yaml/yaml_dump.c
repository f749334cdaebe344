/* Writing YAML: JSON values as block-style YAML (HOT templates, the
 * TOSCA writer's plain scalars). */
#include "catena/yaml.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catena/util.h"

#define YAML_MAX_OUT (64u << 20)

/* ---------------------------------------------------------------- plain scalars */

static bool reserved_word(const char *s)
{
    static const char *const words[] = {"true", "false", "yes",  "no", "on", "off",
                                        "y",    "n",     "null", "~",  NULL};

    for (size_t i = 0; words[i] != NULL; i++)
        if (strcasecmp(s, words[i]) == 0)
            return true;
    return false;
}

bool ct_yaml_plain_safe(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || !(isalnum((unsigned char)s[0]) || s[0] == '/' || s[0] == '_'))
        return false;
    if (s[n - 1] == ' ' || reserved_word(s))
        return false;
    for (size_t i = 0; i < n; i++) {
        /* ':' is safe inside a plain scalar unless a space or the end follows. */
        if (s[i] == ':' && i + 1 < n && s[i + 1] != ' ')
            continue;
        if (!isalnum((unsigned char)s[i]) && strchr(" _-./+()@=", s[i]) == NULL)
            return false;
    }
    /* Numbers, dates and times would be read back as something else. */
    if (strspn(s, "0123456789.+-eE_: ") == n)
        return false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b'))
        return false;
    return true;
}

/* ---------------------------------------------------------------- JSON to YAML */

static int put_string(ct_buf *b, const char *s)
{
    json_t *js;
    char *q;
    int rc;

    if (ct_yaml_plain_safe(s))
        return ct_buf_append(b, s, strlen(s));
    if ((js = json_string(s)) == NULL)
        return ct_error_set(CT_EINVAL, "yaml: text is not valid UTF-8");
    q = json_dumps(js, JSON_ENCODE_ANY); /* a JSON string is a YAML double-quoted scalar */
    json_decref(js);
    if (q == NULL)
        return ct_error_set(CT_ENOMEM, "yaml: out of memory");
    rc = ct_buf_append(b, q, strlen(q));
    free(q);
    return rc;
}

static int put_real(ct_buf *b, double d)
{
    char tmp[40];

    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    if (strpbrk(tmp, ".en") == NULL)
        return ct_buf_appendf(b, "%s.0", tmp);
    return ct_buf_append(b, tmp, strlen(tmp));
}

static int put_scalar(ct_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return put_string(b, json_string_value(v));
    case JSON_INTEGER: return ct_buf_appendf(b, "%lld", (long long)json_integer_value(v));
    case JSON_REAL: return put_real(b, json_real_value(v));
    case JSON_TRUE: return ct_buf_append(b, "true", 4);
    case JSON_FALSE: return ct_buf_append(b, "false", 5);
    case JSON_NULL: return ct_buf_append(b, "null", 4);
    case JSON_OBJECT: return ct_buf_append(b, "{}", 2);
    case JSON_ARRAY: return ct_buf_append(b, "[]", 2);
    }
    return 0;
}

static bool is_block(const json_t *v)
{
    return (json_is_object(v) && json_object_size(v) > 0) ||
           (json_is_array(v) && json_array_size(v) > 0);
}

static int put_value(ct_buf *b, const json_t *v, int indent, int depth);

static int put_indent(ct_buf *b, int indent)
{
    static const char spaces[] = "                                ";
    int rc = 0;

    while (indent > 0 && rc == 0) {
        int n = indent > 32 ? 32 : indent;
        rc = ct_buf_append(b, spaces, (size_t)n);
        indent -= n;
    }
    return rc;
}

/* Writes the entries of a block map or list, the first one without its
 * indentation (the caller has written it or a "- "). */
static int put_block(ct_buf *b, const json_t *v, int indent, int depth)
{
    const char *key;
    json_t *item;
    size_t i, n = 0;
    int rc = 0;

    if (json_is_array(v)) {
        json_array_foreach (v, i, item) {
            bool nested = json_is_array(item) && json_array_size(item) > 0;
            if ((i > 0 && (rc = put_indent(b, indent)) < 0) ||
                (rc = ct_buf_append(b, nested ? "-\n" : "- ", 2)) < 0 ||
                (nested && (rc = put_indent(b, indent + 2)) < 0) ||
                (rc = put_value(b, item, indent + 2, depth + 1)) < 0)
                return rc;
        }
        return 0;
    }
    json_object_foreach ((json_t *)v, key, item) {
        if ((n++ > 0 && (rc = put_indent(b, indent)) < 0) || (rc = put_string(b, key)) < 0 ||
            (rc = ct_buf_append(b, ":", 1)) < 0)
            return rc;
        if (is_block(item)) {
            if ((rc = ct_buf_append(b, "\n", 1)) < 0 || (rc = put_indent(b, indent + 2)) < 0 ||
                (rc = put_block(b, item, indent + 2, depth + 1)) < 0)
                return rc;
        } else if ((rc = ct_buf_append(b, " ", 1)) < 0 ||
                   (rc = put_value(b, item, indent + 2, depth + 1)) < 0) {
            return rc;
        }
    }
    return 0;
}

static int put_value(ct_buf *b, const json_t *v, int indent, int depth)
{
    int rc;

    if (depth > CT_YAML_MAX_DEPTH * 2)
        return ct_error_set(CT_ELIMIT, "yaml: value nested too deep");
    if (is_block(v))
        return put_block(b, v, indent, depth);
    if ((rc = put_scalar(b, v)) < 0)
        return rc;
    return ct_buf_append(b, "\n", 1);
}

int ct_yaml_dump(char **out, const json_t *v)
{
    ct_buf b;
    int rc;

    *out = NULL;
    ct_buf_init(&b, YAML_MAX_OUT);
    if ((rc = put_value(&b, v, 0, 0)) == 0 && (*out = ct_buf_detach(&b)) == NULL)
        rc = ct_error_set(CT_ENOMEM, "yaml: out of memory");
    ct_buf_free(&b);
    return rc;
}
