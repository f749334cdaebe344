/* The agent's own list of end-user tokens, stored as SHA-256 hashes, so a
 * compromised gateway cannot make this DC sign: each forwarded request's
 * token is hashed and compared with every stored hash in constant time. */
#include "catena/agent.h"
#include "catena/crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define TOKENS_FILE_MAX (1u << 20)

struct ct_agent_tokens {
    size_t n;
    uint8_t (*hashes)[32];
};

/* Decodes the hashes listed in arr into t. */
static int read_hashes(ct_agent_tokens *t, const json_t *arr, const char *dc_name)
{
    size_t n = json_array_size(arr), len;

    if (!json_is_array(arr))
        return ct_error_set(CT_EINVAL, "tokens: '%s' must be an array of SHA-256 hex digests",
                            dc_name);
    if (n == 0)
        return ct_error_set(CT_ENOTFOUND, "tokens: no token for '%s'", dc_name);
    if ((t->hashes = calloc(n, 32)) == NULL)
        return ct_error_set(CT_ENOMEM, "tokens: out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *hex = json_string_value(json_array_get(arr, i));
        if (hex == NULL || strlen(hex) != 64 ||
            ct_hex_decode(t->hashes[i], 32, &len, hex, 64) < 0 || len != 32)
            return ct_error_set(CT_EINVAL, "tokens: %s[%zu] is not 64 hex digits", dc_name, i);
        t->n++;
    }
    return 0;
}

int ct_agent_tokens_parse(ct_agent_tokens **out, const char *json, size_t len, const char *dc_name)
{
    ct_agent_tokens *t = NULL;
    json_t *doc = NULL, *arr;
    int rc;

    if ((rc = ct_json_parse(&doc, json, len, 4)) < 0)
        return ct_error_wrap("tokens");
    if (!json_is_object(doc)) {
        rc = ct_error_set(CT_EINVAL, "tokens: expected an object {\"DC\": [\"<sha256 hex>\"]}");
        goto done;
    }
    if ((arr = json_object_get(doc, dc_name)) == NULL) {
        rc = ct_error_set(CT_ENOTFOUND, "tokens: no entry for '%s'", dc_name);
        goto done;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "tokens: out of memory");
        goto done;
    }
    if ((rc = read_hashes(t, arr, dc_name)) < 0)
        goto done;
    *out = t;
    t = NULL;
done:
    ct_agent_tokens_free(t);
    json_decref(doc);
    return rc;
}

int ct_agent_tokens_load(ct_agent_tokens **out, const char *path, const char *dc_name)
{
    char *text;
    size_t len;
    int rc;

    if ((rc = ct_file_read(&text, &len, path, TOKENS_FILE_MAX)) < 0)
        return ct_error_wrap("tokens file %s", path);
    rc = ct_agent_tokens_parse(out, text, len, dc_name);
    free(text);
    if (rc < 0)
        ct_error_wrap("%s", path);
    return rc;
}

bool ct_agent_tokens_check(const ct_agent_tokens *t, const char *token, size_t len)
{
    uint8_t h[32];
    int match = 0;

    if (t == NULL || token == NULL || len < CT_AGENT_TOKEN_MIN || len > CT_AGENT_TOKEN_MAX)
        return false;
    ct_sha256(h, token, len);
    /* Every stored hash is compared, so the time taken does not say which
     * entry (or whether any) matched. */
    for (size_t i = 0; i < t->n; i++)
        match |= CRYPTO_memcmp(h, t->hashes[i], 32) == 0;
    ct_wipe(h, sizeof(h));
    return match != 0;
}

size_t ct_agent_tokens_count(const ct_agent_tokens *t)
{
    return t != NULL ? t->n : 0;
}

void ct_agent_tokens_free(ct_agent_tokens *t)
{
    if (t == NULL)
        return;
    free(t->hashes);
    free(t);
}
