/* Catena api: the federation gateway (seed 000 section 3.1.2): REST under
 * /api/, OpenAPI + Swagger UI, a chain-event follower feeding a SQLite
 * cache, and a WebSocket client to each DC's agent. */
#ifndef CATENA_API_H
#define CATENA_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catena/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_api_agent_config {
    char *name; /* DC name */
    ct_address wallet;
    char *url; /* ws://host:port/ws/NAME or wss:// */
} ct_api_agent_config;

typedef struct ct_api_token {
    char hash[65]; /* SHA-256 of the token, lowercase hex */
    char *dc;      /* the DC it acts for */
} ct_api_token;

typedef struct ct_api_config {
    char *listen_host; /* "127.0.0.1" */
    uint16_t port;     /* 0: pick a free one (ct_api_port tells) */
    char *rpc_url;
    ct_address contract;
    uint64_t from_block; /* deployment block */
    char *cache_path;    /* SQLite file */
    bool reindex;        /* rebuild the cache from the chain at start */
    bool reads_need_token;
    int agent_timeout_ms;   /* a write's outcome is unknown past this (default 30000) */
    int accept_after_ms;    /* a write not answered by then answers 202 (default 5000) */
    char *requests_path;    /* SQLite file of write requests (default: beside the cache) */
    int idempotency_ttl_s;  /* how long write requests and their keys are kept (86400) */
    int idempotency_max;    /* at most this many kept (100000) */
    int max_conns_per_ip;   /* HTTP connections one client address may hold (128) */
    int request_timeout_ms; /* to receive a request's headers and body (10000) */
    char *allowed_origins;  /* comma-separated origins allowed to write besides our own */
    char *allowed_hosts;    /* comma-separated Host values accepted (default: loopback names) */
    char *swagger_dir;      /* swagger-ui-dist files */
    char *web_dir;          /* explorer files (may be NULL) */
    char *agent_ca_file;    /* PEM CAs that wss:// agents' certificates must chain to */
    char *gateway_key_file; /* hex secp256k1 key proving the gateway to agents (may be NULL) */
    /* The agreement keeper (docs/AGREEMENTS.md), when keeper_dc is set:
     * the DC whose agent registers the sessions, a file holding that DC's
     * bearer token, the provider's hex key file, and where session
     * services keep their logs and records. */
    char *keeper_dc;
    char *keeper_token_file;
    char *keeper_key_file;
    char *keeper_dir;
    /* S2D migrations (POST /api/migrations, docs/S2D.md) when
     * migrations_dir is set: where they are kept, the clouds.yaml their
     * logins may name, and how many may run at once (default 2). */
    char *migrations_dir;
    char *clouds_yaml;
    int migrations_max;
    ct_api_agent_config *agents;
    size_t n_agents;
    ct_api_token *tokens;
    size_t n_tokens;
} ct_api_config;

/* Parses a gateway config file (JSON, documented in docs/GATEWAY.md).
 * Out: cfg filled (free with ct_api_config_clear).
 * Returns: 0 or CT_EINVAL/CT_EPARSE naming the field. */
int ct_api_config_parse(ct_api_config *cfg, const char *json, size_t len);
void ct_api_config_clear(ct_api_config *cfg);

/* Sets cfg's listen host and port from "host:port" (replacing any).
 * Returns: 0, CT_EINVAL (message quotes s) or CT_ENOMEM. */
int ct_api_config_set_listen(ct_api_config *cfg, const char *s);

typedef struct ct_api ct_api;

/* Starts the gateway: opens the cache, starts the follower thread, the
 * agent connections and the HTTP server. cfg is copied.
 * Returns: 0, CT_EIO (cannot listen), CT_ESTATE (cache of another chain
 * without reindex), or an error from the chain. */
int ct_api_start(ct_api **out, const ct_api_config *cfg);

/* Returns: the port the HTTP server listens on. */
uint16_t ct_api_port(const ct_api *api);

/* Stops everything and frees the gateway. */
void ct_api_stop(ct_api *api);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_API_H */
