/* Catena agent: the DC agent of seed 000 (the "VCG client"). It validates
 * the gateway's requests (Tables 15-18 plus authentication, see
 * docs/AGENT_PROTOCOL.md), checks the end user's token against its own
 * hashed list, signs and sends the Federation transaction with the DC's
 * key, and serves all this over a WebSocket at /ws/{DC_NAME}. */
#ifndef CATENA_AGENT_H
#define CATENA_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "catena/crypto.h"
#include "catena/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default and bounds of the largest request message, in bytes. */
#define CT_AGENT_MAX_MESSAGE_DEFAULT (512u * 1024)
#define CT_AGENT_MAX_MESSAGE_MIN 1024u
#define CT_AGENT_MAX_MESSAGE_MAX (16u * 1024 * 1024)
/* Deepest JSON nesting accepted in a request. */
#define CT_AGENT_MAX_DEPTH 16
/* Most containers in one register_containers request. */
#define CT_AGENT_MAX_BATCH 1000
/* Longest DC name (the contract's limit). */
#define CT_AGENT_NAME_MAX 64
/* Bounds of a token's length in bytes. */
#define CT_AGENT_TOKEN_MIN 16
#define CT_AGENT_TOKEN_MAX 512

/* ---------------------------------------------------------------- requests */

/* One validated request, ready to encode as a Federation call. */
typedef struct ct_agent_call {
    const char *method;   /* protocol method ("register_container"), static */
    const char *function; /* contract function ("registerContainer"), static */
    json_t *args;         /* arguments in ct_abi_encode's JSON form, owned */
    uint64_t min_block;   /* the envelope's "min_block", or 0 (ct_send_req's) */
} ct_agent_call;

/* Validates a request object (envelope fields `_request_id` and `token`
 * are allowed and ignored here, `min_block` is checked and kept) and
 * converts it into a contract call. No I/O: the caller supplies the DC it
 * acts for and the time to use for an omitted pending_migrate timestamp.
 * Args: dc_name is this agent's DC; wallet its address; now_ms the current
 *       time in ms since the epoch.
 * Out: *out (clear it with ct_agent_call_clear) on success; untouched on
 *      failure.
 * Returns: 0; CT_EINVAL for a bad request (message names the field, e.g.
 *          "containers[2]: field 'vram' must be an integer, not a string");
 *          CT_EAUTH when the request names another DC as its sender
 *          (from_address); CT_ENOMEM. */
int ct_agent_parse_request(ct_agent_call *out, const json_t *req, const char *dc_name,
                           const ct_address *wallet, int64_t now_ms);

/* Releases call->args and zeroes call; safe on a zeroed call. */
void ct_agent_call_clear(ct_agent_call *call);

/* Returns: whether name can be a DC name served by an agent: 1 to 64
 * bytes of [A-Za-z0-9._-] (it appears in the URL path). */
bool ct_agent_name_valid(const char *name);

/* ---------------------------------------------------------------- tokens */

/* The SHA-256 hashes of the tokens that may act for one DC (in the form
 * of ct_token_hash). Read only after creation, so it may be shared by
 * threads. */
typedef struct ct_agent_tokens ct_agent_tokens;

/* Parses a tokens document {"DC1": ["<sha256 hex>", ...], "DC2": [...]}
 * and keeps the hashes listed under dc_name (other DCs are ignored).
 * Returns: 0; CT_EPARSE (not JSON); CT_EINVAL (wrong shape, an entry that
 *          is not 64 hex digits); CT_ENOTFOUND (no hash for dc_name);
 *          CT_ENOMEM. */
int ct_agent_tokens_parse(ct_agent_tokens **out, const char *json, size_t len, const char *dc_name);

/* ct_agent_tokens_parse on the contents of the file at path (at most
 * 1 MiB). Returns as ct_agent_tokens_parse, or CT_EIO. */
int ct_agent_tokens_load(ct_agent_tokens **out, const char *path, const char *dc_name);

/* Returns: whether token (len bytes, CT_AGENT_TOKEN_MIN..MAX) hashes to
 * one of the stored hashes. Compares with every stored hash in constant
 * time. */
bool ct_agent_tokens_check(const ct_agent_tokens *t, const char *token, size_t len);

/* Returns: the number of hashes held. */
size_t ct_agent_tokens_count(const ct_agent_tokens *t);

void ct_agent_tokens_free(ct_agent_tokens *t);

/* ---------------------------------------------------------------- authentication
 *
 * Both directions of docs/AGENT_PROTOCOL.md section 1: the gateway proves
 * itself in the upgrade request (a header signed by its own key), and the
 * agent proves it holds its DC's key by signing the gateway's challenge.
 * The gateway module uses these too, so both sides build the same bytes. */

#define CT_AGENT_CHALLENGE_SIZE 32
/* "0x" + r || s || recovery id in hex, and a NUL. */
#define CT_AGENT_SIG_TEXT_SIZE (2 + 2 * (CT_SIG_SIZE + 1) + 1)
/* The upgrade request's header carrying the gateway's proof. */
#define CT_AGENT_GATEWAY_HEADER "Catena-Gateway"
/* "v1.<ms>.<nonce hex>.<signature hex>" and a NUL. */
#define CT_AGENT_GATEWAY_PROOF_SIZE 256
/* How far a gateway proof's time may be from the agent's clock. */
#define CT_AGENT_GATEWAY_WINDOW_MS 30000
#define CT_AGENT_NONCE_SIZE 16
/* Most gateway addresses an agent accepts. */
#define CT_AGENT_MAX_GATEWAYS 16

/* The digest an agent signs for the gateway: keccak256 of the tag
 * "catena-agent-auth-v1", then dc_name and url each preceded by its
 * length (4 bytes, big endian), then the challenge. url is the agent URL
 * the gateway dialled. */
void ct_agent_auth_digest(uint8_t out[32], const char *dc_name, const char *url,
                          const uint8_t challenge[CT_AGENT_CHALLENGE_SIZE]);

/* Signs digest (a ct_agent_auth_digest) with seckey.
 * Out: out "0x" and 130 hex digits (r, s, recovery id).
 * Returns: 0 or CT_ECRYPTO. */
int ct_agent_auth_sign(char out[CT_AGENT_SIG_TEXT_SIZE], const uint8_t digest[32],
                       const uint8_t seckey[CT_SECKEY_SIZE]);

/* Recovers who signed digest. Out: *out the signer's address.
 * Returns: 0, CT_EPARSE (not 65 bytes of hex), CT_ECRYPTO (not a valid
 * low-s signature). */
int ct_agent_auth_recover(ct_address *out, const uint8_t digest[32], const char *sig);

/* Builds the gateway's proof for an upgrade to dc_name's agent, whose
 * wallet is wallet: a fresh random nonce and now_ms (Unix ms), signed by
 * gateway_key over keccak256("catena-gateway-auth-v1", length-prefixed
 * dc_name, wallet, now_ms as 8 bytes big endian, nonce).
 * Returns: 0, CT_ECRYPTO. */
int ct_agent_gateway_proof(char out[CT_AGENT_GATEWAY_PROOF_SIZE], const char *dc_name,
                           const ct_address *wallet, int64_t now_ms,
                           const uint8_t gateway_key[CT_SECKEY_SIZE]);

/* Checks a gateway proof's form, time (within CT_AGENT_GATEWAY_WINDOW_MS
 * of now_ms) and signature for dc_name and wallet; whether its signer
 * may connect and its nonce is fresh is the caller's to decide.
 * Out: *signer, nonce, *at_ms (the proof's time).
 * Returns: 0; CT_EAUTH (message says what is wrong). */
int ct_agent_gateway_check(ct_address *signer, uint8_t nonce[CT_AGENT_NONCE_SIZE], int64_t *at_ms,
                           const char *proof, const char *dc_name, const ct_address *wallet,
                           int64_t now_ms);

/* ---------------------------------------------------------------- agent */

typedef struct ct_agent ct_agent;

typedef struct ct_agent_config {
    const char *dc_name;           /* this DC (ct_agent_name_valid) */
    const char *rpc_url;           /* the chain node */
    ct_address contract;           /* the Federation contract */
    const uint8_t *seckey;         /* CT_SECKEY_SIZE bytes, copied (wipe yours) */
    const ct_agent_tokens *tokens; /* borrowed: must outlive the agent */
    const char *listen_host;       /* IPv4 literal, e.g. "127.0.0.1" */
    uint16_t listen_port;          /* 0 picks a free port (ct_agent_port) */
    size_t max_message;            /* 0: CT_AGENT_MAX_MESSAGE_DEFAULT */
    int rpc_timeout_ms;            /* 0: 30000 */
    bool always_preflight;         /* see ct_sender_opts */
    const char *outbox_path;       /* see ct_sender_opts (NULL: none) */
    /* Gateways allowed to connect (their proof's signer); none: any peer
     * with the wallet header may (loopback only, see ct_agent_new). */
    const ct_address *gateways;
    size_t n_gateways;
    /* A connection that is not a proven gateway's is closed after this
     * long without a request (0: 300). A gateway's is pinged instead. */
    int idle_timeout_s;
    /* A proven gateway's connection silent this long is pinged, and closed
     * when the pong has not come by the next ping (0: 30). */
    int ping_interval_s;
    const char *tls_cert_file; /* PEM; with tls_key_file: serve wss:// */
    const char *tls_key_file;
    /* The cloud watcher (docs/AGENT_WATCH.md), on when amqp_url is set:
     * Nova's versioned notifications from amqp://USER:PASSWORD@HOST:PORT/
     * VHOST (exchange amqp_exchange, NULL: "nova") keep the ledger in
     * step with the cloud openstack names ("clouds.yaml:CLOUD", for the
     * VCs' controller); watch_journal is its SQLite journal. */
    const char *amqp_url;
    const char *amqp_exchange;
    const char *openstack;
    const char *watch_journal;
} ct_agent_config;

/* Creates an agent: checks the configuration, connects its sender to the
 * node (chain id, nonce) and checks that the contract has code. Does not
 * listen yet. Without gateways the listen address must be a loopback one.
 * Returns: 0; CT_EINVAL (bad configuration, message says which);
 *          CT_ENOTFOUND (no contract at the address); CT_ERPC/CT_ETIMEOUT
 *          (node unreachable); CT_ENOMEM. */
int ct_agent_new(ct_agent **out, const ct_agent_config *cfg);

/* Returns: the DC's wallet (borrowed). */
const ct_address *ct_agent_wallet(const ct_agent *a);

/* Handles one request message end to end: size and JSON checks, the
 * envelope, the token, the fields, then encodes, signs and sends the
 * transaction (without waiting for it to be mined).
 * Out: *reply a malloc'd JSON text (Table 19 or Table 20), always set on
 *      success, whatever the request's outcome.
 * Returns: 0, or CT_ENOMEM (no reply could be built).
 * Thread safety: may be called from several threads at once. */
int ct_agent_handle(ct_agent *a, char **reply, const char *msg, size_t len);

/* Builds the Table 20 reply for a message that could not be read (binary,
 * too large). Out: *reply malloc'd. Returns: 0 or CT_ENOMEM. */
int ct_agent_error_reply(char **reply, const char *code, const char *message);

/* Starts the WebSocket server on listen_host:listen_port (one thread per
 * connection; requests of one connection are handled in order). It also
 * caps every allocation Ulfius makes in this process at twice max_message
 * plus 4 KiB (orcania's allocator is process-wide), so a hostile frame
 * cannot make it allocate more: do not run an Ulfius client that sends
 * larger messages in the same process.
 * Returns: 0; CT_EIO (cannot listen); CT_ESTATE (already started). */
int ct_agent_start(ct_agent *a);

/* Returns: the port the server listens on (after ct_agent_start). */
uint16_t ct_agent_port(const ct_agent *a);

/* Stops the server: refuses new connections, closes open ones (a request
 * being sent is finished first), then frees everything. NULL is a no-op. */
void ct_agent_free(ct_agent *a);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_AGENT_H */
