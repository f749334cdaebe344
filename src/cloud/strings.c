/* Small string and JSON helpers the cloud module's files share. */
#include "cloud_int.h"

#include <stdlib.h>
#include <string.h>

bool ct_cloud__str_eq(const json_t *v, const char *s)
{
    return json_is_string(v) && s != NULL && strcmp(json_string_value(v), s) == 0;
}

char *ct_cloud__dup(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

char *ct_cloud__dup_url(const char *s)
{
    size_t n;

    if (s == NULL)
        return NULL;
    n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    return strndup(s, n);
}

const char *ct_cloud__str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

bool ct_cloud__word_in(const char *word, const char *list)
{
    size_t n = strlen(word);

    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}
