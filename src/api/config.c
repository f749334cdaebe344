/* The gateway's configuration file (JSON, docs/GATEWAY.md): one table of
 * keys with their checks; errors name the key. */
#include "api_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The scalar keys: one row each, used to parse, to default, to copy and
 * to free. "agents" and "tokens" are lists with parsers of their own. */
enum key_type {
    K_LISTEN, /* "host:port" into listen_host and port */
    K_STR,    /* char * at offset */
    K_BOOL,   /* bool at offset */
    K_U64,    /* uint64_t at offset, in [min, max] */
    K_INT,    /* int at offset, in [min, max] */
    K_ADDR,   /* ct_address at offset */
};

struct key {
    const char *name;
    enum key_type type;
    bool required;
    size_t offset;
    const char *def_text;  /* K_LISTEN default */
    int64_t def, min, max; /* K_U64, K_INT */
};

#define AT(field) offsetof(ct_api_config, field)

static const struct key config_keys[] = {
    {"listen", K_LISTEN, false, 0, "127.0.0.1:5100", 0, 0, 0},
    {"rpc_url", K_STR, true, AT(rpc_url), NULL, 0, 0, 0},
    {"contract", K_ADDR, true, AT(contract), NULL, 0, 0, 0},
    {"from_block", K_U64, false, AT(from_block), NULL, 0, 0, INT64_MAX},
    {"cache", K_STR, true, AT(cache_path), NULL, 0, 0, 0},
    {"reindex", K_BOOL, false, AT(reindex), NULL, 0, 0, 0},
    {"reads_need_token", K_BOOL, false, AT(reads_need_token), NULL, 0, 0, 0},
    {"agent_timeout_ms", K_INT, false, AT(agent_timeout_ms), NULL, 30000, 1, 600000},
    {"swagger_dir", K_STR, false, AT(swagger_dir), NULL, 0, 0, 0},
    {"web_dir", K_STR, false, AT(web_dir), NULL, 0, 0, 0},
    {"agent_ca_file", K_STR, false, AT(agent_ca_file), NULL, 0, 0, 0},
    {"gateway_key_file", K_STR, false, AT(gateway_key_file), NULL, 0, 0, 0},
    {"keeper_dc", K_STR, false, AT(keeper_dc), NULL, 0, 0, 0},
    {"keeper_token_file", K_STR, false, AT(keeper_token_file), NULL, 0, 0, 0},
    {"keeper_key_file", K_STR, false, AT(keeper_key_file), NULL, 0, 0, 0},
    {"keeper_dir", K_STR, false, AT(keeper_dir), NULL, 0, 0, 0},
    {"accept_after_ms", K_INT, false, AT(accept_after_ms), NULL, 5000, 0, 600000},
    {"requests_db", K_STR, false, AT(requests_path), NULL, 0, 0, 0},
    {"idempotency_ttl_s", K_INT, false, AT(idempotency_ttl_s), NULL, 86400, 60, 30 * 86400},
    {"idempotency_max", K_INT, false, AT(idempotency_max), NULL, 100000, 100, 10000000},
    {"max_conns_per_ip", K_INT, false, AT(max_conns_per_ip), NULL, 128, 1, 1024},
    {"request_timeout_ms", K_INT, false, AT(request_timeout_ms), NULL, 10000, 500, 600000},
    {"allowed_origins", K_STR, false, AT(allowed_origins), NULL, 0, 0, 0},
    {"allowed_hosts", K_STR, false, AT(allowed_hosts), NULL, 0, 0, 0},
    {"migrations_dir", K_STR, false, AT(migrations_dir), NULL, 0, 0, 0},
    {"clouds_yaml", K_STR, false, AT(clouds_yaml), NULL, 0, 0, 0},
    {"migrations_max", K_INT, false, AT(migrations_max), NULL, 2, 1, 16},
};

static const char *const list_keys[] = {"agents", "tokens"};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

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

/* Every key of the file must be one of the table's or a list's. */
static int check_keys(const json_t *j)
{
    const char *name;
    json_t *v;

    if (!json_is_object(j))
        return ct_error_set(CT_EINVAL, "config: must be a JSON object");
    json_object_foreach ((json_t *)j, name, v) {
        bool known = false;
        for (size_t i = 0; i < N_KEYS && !known; i++)
            known = strcmp(name, config_keys[i].name) == 0;
        for (size_t i = 0; i < 2 && !known; i++)
            known = strcmp(name, list_keys[i]) == 0;
        if (!known)
            return ct_error_set(CT_EINVAL, "config: unknown key '%.64s'", name);
    }
    return 0;
}

/* Parses one scalar key (absent: its default, or an error if required). */
static int parse_key(ct_api_config *cfg, const json_t *j, const struct key *k)
{
    const json_t *v = json_object_get(j, k->name);
    char *field = (char *)cfg + k->offset;
    const char *text;
    int64_t n;

    if (v == NULL && k->required)
        return ct_error_set(CT_EINVAL, "config: '%s' is required", k->name);
    switch (k->type) {
    case K_LISTEN:
        if (v != NULL && !json_is_string(v))
            return ct_error_set(CT_EINVAL, "config: '%s' must be a string", k->name);
        if (ct_api_config_set_listen(cfg, v != NULL ? json_string_value(v) : k->def_text) < 0)
            return ct_error_wrap("config");
        return 0;
    case K_STR:
        if (v == NULL)
            return 0;
        if ((text = json_string_value(v)) == NULL)
            return ct_error_set(CT_EINVAL, "config: '%s' must be a string", k->name);
        return dup_str((char **)field, text);
    case K_BOOL:
        if (v != NULL && !json_is_boolean(v))
            return ct_error_set(CT_EINVAL, "config: '%s' must be true or false", k->name);
        *(bool *)field = json_is_true(v);
        return 0;
    case K_U64:
    case K_INT:
        n = k->def;
        if (v != NULL &&
            (!json_is_integer(v) || (n = json_integer_value(v)) < k->min || n > k->max))
            return ct_error_set(CT_EINVAL, "config: '%s' must be an integer from %lld to %lld",
                                k->name, (long long)k->min, (long long)k->max);
        if (k->type == K_U64)
            *(uint64_t *)field = (uint64_t)n;
        else
            *(int *)field = (int)n;
        return 0;
    case K_ADDR:
        if ((text = json_string_value(v)) == NULL)
            return ct_error_set(CT_EINVAL, "config: '%s' must be a string", k->name);
        if (ct_address_parse((ct_address *)field, text) < 0)
            return ct_error_set(CT_EINVAL, "config: '%s': %s", k->name, ct_error_last());
        return 0;
    }
    return 0;
}

int ct_api_config_parse(ct_api_config *cfg, const char *text, size_t len)
{
    json_t *j = NULL;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    if ((rc = ct_json_parse(&j, text, len, 8)) < 0)
        return ct_error_wrap("config");
    rc = check_keys(j);
    for (size_t i = 0; i < N_KEYS && rc == 0; i++)
        rc = parse_key(cfg, j, &config_keys[i]);
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
    for (size_t i = 0; i < N_KEYS; i++)
        if (config_keys[i].type == K_STR)
            free(*(char **)((char *)cfg + config_keys[i].offset));
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
    for (size_t i = 0; i < N_KEYS; i++)
        if (config_keys[i].type == K_STR)
            rc |= dup_str((char **)((char *)dst + config_keys[i].offset),
                          *(char *const *)((const char *)src + config_keys[i].offset));
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
