/* The gateway's configuration file (JSON, docs/GATEWAY.md): one table of
 * keys with their checks; errors name the key. */
#include "api_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const top_keys[] = {
    "listen",      "rpc_url", "contract",         "from_block",
    "cache",       "reindex", "reads_need_token", "agent_timeout_ms",
    "swagger_dir", "web_dir", "agents",           "tokens",
    NULL};

static int dup_str(char **out, const char *s)
{
    *out = NULL;
    if (s == NULL)
        return 0;
    if ((*out = strdup(s)) == NULL)
        return ct_error_set(CT_ENOMEM, "config: out of memory");
    return 0;
}

int ct_api_config_set_listen(ct_api_config *cfg, const char *s)
{
    const char *colon = strrchr(s, ':');
    uint64_t port;
    char *host;

    if (colon == NULL || colon == s || ct_parse_uint(&port, colon + 1, 65535) < 0)
        return ct_error_set(CT_EINVAL, "'listen' must be host:port, got '%.64s'", s);
    if ((host = strndup(s, (size_t)(colon - s))) == NULL)
        return ct_error_set(CT_ENOMEM, "config: out of memory");
    free(cfg->listen_host);
    cfg->listen_host = host;
    cfg->port = (uint16_t)port;
    return 0;
}

static int parse_agent(ct_api_agent_config *a, const json_t *j, size_t i)
{
    static const char *const keys[] = {"name", "wallet", "url", NULL};
    const char *name, *wallet, *url;

    if (ct_json_check_keys(j, keys) < 0 || ct_json_get_string(&name, j, "name", false) < 0 ||
        ct_json_get_string(&wallet, j, "wallet", false) < 0 ||
        ct_json_get_string(&url, j, "url", false) < 0)
        return ct_error_wrap("config: agents[%zu]", i);
    if (ct_address_parse(&a->wallet, wallet) < 0)
        return ct_error_set(CT_EINVAL, "config: agents[%zu].wallet: %s", i, ct_error_last());
    if (strncmp(url, "ws://", 5) != 0 && strncmp(url, "wss://", 6) != 0)
        return ct_error_set(CT_EINVAL, "config: agents[%zu].url must be ws:// or wss://", i);
    if (dup_str(&a->name, name) < 0 || dup_str(&a->url, url) < 0)
        return CT_ENOMEM;
    return 0;
}

static int parse_token(ct_api_token *t, const json_t *j, size_t i)
{
    static const char *const keys[] = {"dc", "sha256", NULL};
    const char *dc, *hash;
    uint8_t raw[32];
    size_t n;

    if (ct_json_check_keys(j, keys) < 0 || ct_json_get_string(&dc, j, "dc", false) < 0 ||
        ct_json_get_string(&hash, j, "sha256", false) < 0)
        return ct_error_wrap("config: tokens[%zu]", i);
    if (strlen(hash) != 64 || ct_hex_decode(raw, 32, &n, hash, 64) < 0)
        return ct_error_set(CT_EINVAL, "config: tokens[%zu].sha256 must be 64 hex digits", i);
    ct_hex_encode(t->hash, sizeof(t->hash), raw, 32, false);
    return dup_str(&t->dc, dc);
}

/* Parses an array field with one parser per element. */
static int parse_list(void **out, size_t *n, size_t size, const json_t *cfg, const char *key,
                      int (*parse)(void *, const json_t *, size_t))
{
    const json_t *list = json_object_get(cfg, key);
    size_t i;
    json_t *item;

    *n = 0;
    if (list == NULL)
        return 0;
    if (!json_is_array(list))
        return ct_error_set(CT_EINVAL, "config: '%s' must be an array", key);
    *out = calloc(json_array_size(list) + 1, size);
    if (*out == NULL)
        return ct_error_set(CT_ENOMEM, "config: out of memory");
    json_array_foreach (list, i, item) {
        (*n)++;
        if (parse((char *)*out + i * size, item, i) < 0)
            return CT_EINVAL;
    }
    return 0;
}

static int agent_cb(void *a, const json_t *j, size_t i)
{
    return parse_agent(a, j, i);
}

static int token_cb(void *t, const json_t *j, size_t i)
{
    return parse_token(t, j, i);
}

static int parse_scalars(ct_api_config *cfg, const json_t *j)
{
    const char *listen = "127.0.0.1:5100", *rpc, *contract, *cache, *s;
    int64_t v = 0;

    if (ct_json_get_string(&listen, j, "listen", true) == CT_EINVAL ||
        ct_json_get_string(&rpc, j, "rpc_url", false) < 0 ||
        ct_json_get_string(&contract, j, "contract", false) < 0 ||
        ct_json_get_string(&cache, j, "cache", false) < 0 ||
        ct_json_get_bool(&cfg->reindex, j, "reindex", true) == CT_EINVAL ||
        ct_json_get_bool(&cfg->reads_need_token, j, "reads_need_token", true) == CT_EINVAL)
        return ct_error_wrap("config");
    if (ct_api_config_set_listen(cfg, listen) < 0)
        return ct_error_wrap("config");
    if (dup_str(&cfg->rpc_url, rpc) < 0 || dup_str(&cfg->cache_path, cache) < 0)
        return CT_EINVAL;
    if (ct_address_parse(&cfg->contract, contract) < 0)
        return ct_error_set(CT_EINVAL, "config: contract: %s", ct_error_last());
    if (ct_json_get_int(&v, j, "from_block", true) == CT_EINVAL || v < 0)
        return ct_error_set(CT_EINVAL, "config: 'from_block' must be a block number");
    cfg->from_block = (uint64_t)v;
    v = 30000;
    if (ct_json_get_int(&v, j, "agent_timeout_ms", true) == CT_EINVAL || v < 1 || v > 600000)
        return ct_error_set(CT_EINVAL, "config: 'agent_timeout_ms' must be 1..600000");
    cfg->agent_timeout_ms = (int)v;
    if (ct_json_get_string(&s, j, "swagger_dir", true) == 0 && dup_str(&cfg->swagger_dir, s) < 0)
        return CT_ENOMEM;
    if (ct_json_get_string(&s, j, "web_dir", true) == 0 && dup_str(&cfg->web_dir, s) < 0)
        return CT_ENOMEM;
    return 0;
}

int ct_api_config_parse(ct_api_config *cfg, const char *text, size_t len)
{
    json_t *j = NULL;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    if ((rc = ct_json_parse(&j, text, len, 8)) < 0)
        return ct_error_wrap("config");
    if ((rc = ct_json_check_keys(j, top_keys)) < 0)
        ct_error_wrap("config");
    if (rc == 0)
        rc = parse_scalars(cfg, j);
    if (rc == 0)
        rc = parse_list((void **)&cfg->agents, &cfg->n_agents, sizeof(ct_api_agent_config), j,
                        "agents", agent_cb);
    if (rc == 0)
        rc = parse_list((void **)&cfg->tokens, &cfg->n_tokens, sizeof(ct_api_token), j, "tokens",
                        token_cb);
    json_decref(j);
    if (rc < 0)
        ct_api_config_clear(cfg);
    return rc;
}

void ct_api_config_clear(ct_api_config *cfg)
{
    free(cfg->listen_host);
    free(cfg->rpc_url);
    free(cfg->cache_path);
    free(cfg->swagger_dir);
    free(cfg->web_dir);
    for (size_t i = 0; i < cfg->n_agents; i++) {
        free(cfg->agents[i].name);
        free(cfg->agents[i].url);
    }
    free(cfg->agents);
    for (size_t i = 0; i < cfg->n_tokens; i++)
        free(cfg->tokens[i].dc);
    free(cfg->tokens);
    memset(cfg, 0, sizeof(*cfg));
}

int ct_api_config_copy(ct_api_config *dst, const ct_api_config *src)
{
    int rc = 0;

    *dst = *src;
    dst->agents = calloc(src->n_agents + 1, sizeof(*dst->agents));
    dst->tokens = calloc(src->n_tokens + 1, sizeof(*dst->tokens));
    rc |= dup_str(&dst->listen_host, src->listen_host ? src->listen_host : "127.0.0.1");
    rc |= dup_str(&dst->rpc_url, src->rpc_url);
    rc |= dup_str(&dst->cache_path, src->cache_path);
    rc |= dup_str(&dst->swagger_dir, src->swagger_dir);
    rc |= dup_str(&dst->web_dir, src->web_dir);
    if (dst->agents == NULL || dst->tokens == NULL) {
        dst->n_agents = dst->n_tokens = 0;
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < src->n_agents; i++) {
        dst->agents[i].wallet = src->agents[i].wallet;
        rc |= dup_str(&dst->agents[i].name, src->agents[i].name);
        rc |= dup_str(&dst->agents[i].url, src->agents[i].url);
    }
    for (size_t i = 0; rc == 0 && i < src->n_tokens; i++) {
        dst->tokens[i] = src->tokens[i];
        rc |= dup_str(&dst->tokens[i].dc, src->tokens[i].dc);
    }
    if (rc != 0) {
        ct_api_config_clear(dst);
        return ct_error_set(CT_ENOMEM, "config: out of memory");
    }
    return 0;
}
