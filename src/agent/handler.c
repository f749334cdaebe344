/* The agent's request pipeline (docs/AGENT_PROTOCOL.md): size and JSON
 * checks, the envelope, the end user's token, the method's fields, then
 * the transaction signed with the DC's key. Every outcome becomes exactly
 * one reply, Table 19 (the tx hash) or Table 20 (an error and its code). */
#include "agent_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_ID_MAX 128
/* ABI encoding can be some 30 times larger than the JSON it came from
 * (every short string takes two 32-byte words plus its length word). */
#define CALLDATA_MAX (32u << 20)
#define DEFAULT_RPC_TIMEOUT_MS 30000
#define DEFAULT_IDLE_TIMEOUT_S 300
/* A quiet gateway connection is pinged this often (--ping-interval). */
#define DEFAULT_PING_INTERVAL_S 30
/* Longest agent URL the gateway may have us sign. */
#define AUTH_URL_MAX 512

/* What happened to one request. */
typedef struct outcome {
    const char *code; /* NULL on success, else the Table 20 code */
    char text[512];   /* the tx hash, or the error message */
} outcome;

/* Replies and logs carry printable ASCII only: messages may quote parts of
 * hostile requests (field names), and a cut could split a UTF-8 sequence. */
static void to_ascii(char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = '?';
}

/* Records a failure. Returns: -1, so callers can `return fail(...)`. */
__attribute__((format(printf, 3, 4))) static int fail(outcome *o, const char *code, const char *fmt,
                                                      ...)
{
    va_list ap;

    o->code = code;
    va_start(ap, fmt);
    vsnprintf(o->text, sizeof(o->text), fmt, ap);
    va_end(ap);
    to_ascii(o->text);
    return -1;
}

/* ---------------------------------------------------------------- setup */

static int check_config(const ct_agent_config *cfg)
{
    struct in_addr ip;
    size_t max = cfg->max_message;

    if (!ct_agent_name_valid(cfg->dc_name))
        return ct_error_set(CT_EINVAL,
                            "agent: DC name must be 1 to %d characters of "
                            "[A-Za-z0-9._-]",
                            CT_AGENT_NAME_MAX);
    if (cfg->rpc_url == NULL || cfg->seckey == NULL || cfg->tokens == NULL)
        return ct_error_set(CT_EINVAL, "agent: rpc url, key and tokens are required");
    if (ct_agent_tokens_count(cfg->tokens) == 0)
        return ct_error_set(CT_EINVAL, "agent: no token may act for %s", cfg->dc_name);
    if (ct_seckey_verify(cfg->seckey) < 0)
        return ct_error_set(CT_EINVAL, "agent: not a valid secp256k1 key");
    if (cfg->listen_host == NULL || strlen(cfg->listen_host) >= 64 ||
        inet_pton(AF_INET, cfg->listen_host, &ip) != 1)
        return ct_error_set(CT_EINVAL, "agent: listen address must be an IPv4 address");
    if (max != 0 && (max < CT_AGENT_MAX_MESSAGE_MIN || max > CT_AGENT_MAX_MESSAGE_MAX))
        return ct_error_set(CT_EINVAL, "agent: max message must be %u to %u bytes",
                            CT_AGENT_MAX_MESSAGE_MIN, CT_AGENT_MAX_MESSAGE_MAX);
    if (cfg->n_gateways > CT_AGENT_MAX_GATEWAYS || (cfg->n_gateways > 0 && cfg->gateways == NULL))
        return ct_error_set(CT_EINVAL, "agent: at most %d gateways", CT_AGENT_MAX_GATEWAYS);
    /* Without gateway proofs anyone who can reach the port and knows the
     * public wallet may hold a connection: only on this host. */
    if (cfg->n_gateways == 0 && (ntohl(ip.s_addr) >> 24) != 127)
        return ct_error_set(CT_EINVAL,
                            "agent: listening on %s needs the gateways' addresses "
                            "(--gateway)",
                            cfg->listen_host);
    if ((cfg->tls_cert_file == NULL) != (cfg->tls_key_file == NULL))
        return ct_error_set(CT_EINVAL, "agent: TLS needs both a certificate and its key");
    return 0;
}

/* Reads the TLS certificate and key, if any, into a. */
static int load_tls(ct_agent *a, const ct_agent_config *cfg)
{
    if (cfg->tls_cert_file == NULL)
        return 0;
    if (ct_file_read(&a->tls_cert, NULL, cfg->tls_cert_file, 1 << 20) < 0 ||
        ct_file_read(&a->tls_key, NULL, cfg->tls_key_file, 1 << 20) < 0)
        return ct_error_wrap("agent: TLS");
    return 0;
}

/* Fails unless the node has code at the contract address, so a wrong
 * --contract is found at start-up rather than as odd reverts. */
static int check_contract(const char *url, const ct_address *contract, int timeout_ms)
{
    char addr[CT_ADDRESS_TEXT_SIZE];
    ct_rpc *rpc = NULL;
    bool yes = false;
    int rc;

    ct_address_format(addr, contract);
    if ((rc = ct_rpc_new(&rpc, url, timeout_ms)) < 0)
        return rc;
    if ((rc = ct_rpc_has_code(rpc, &yes, contract, "latest")) == 0 && !yes)
        rc = ct_error_set(CT_ENOTFOUND, "agent: no contract at %s on %s", addr, url);
    ct_rpc_free(rpc);
    return rc;
}

int ct_agent_new(ct_agent **out, const ct_agent_config *cfg)
{
    ct_sender_opts opts = {0};
    ct_agent *a;
    int rc;

    if ((rc = check_config(cfg)) < 0)
        return rc;
    if ((a = calloc(1, sizeof(*a))) == NULL)
        return ct_error_set(CT_ENOMEM, "agent: out of memory");
    snprintf(a->dc_name, sizeof(a->dc_name), "%s", cfg->dc_name);
    snprintf(a->listen_host, sizeof(a->listen_host), "%s", cfg->listen_host);
    a->listen_port = cfg->listen_port;
    a->contract = cfg->contract;
    a->tokens = cfg->tokens;
    a->max_message = cfg->max_message != 0 ? cfg->max_message : CT_AGENT_MAX_MESSAGE_DEFAULT;
    memcpy(a->seckey, cfg->seckey, CT_SECKEY_SIZE);
    for (size_t i = 0; i < cfg->n_gateways; i++)
        a->gateways[i] = cfg->gateways[i];
    a->n_gateways = cfg->n_gateways;
    a->idle_timeout_s = cfg->idle_timeout_s > 0 ? cfg->idle_timeout_s : DEFAULT_IDLE_TIMEOUT_S;
    a->ping_interval_ms =
        1000 * (cfg->ping_interval_s > 0 ? cfg->ping_interval_s : DEFAULT_PING_INTERVAL_S);
    opts.timeout_ms = cfg->rpc_timeout_ms > 0 ? cfg->rpc_timeout_ms : DEFAULT_RPC_TIMEOUT_MS;
    opts.always_preflight = cfg->always_preflight;
    /* Every write is estimated: the Federation's calls of one shape do
     * not cost alike (a changeAvailability that records a VC's first
     * outage costs 75k gas, one that changes nothing 29k, and a reused
     * estimate of the second ran the first out of gas on chain after the
     * write was acknowledged). The sender still reuses estimates on a
     * node that mines on send, where running out of gas is answered and
     * retried before any acknowledgement. */
    opts.reuse_gas = false;
    opts.outbox_path = cfg->outbox_path;
    if ((rc = load_tls(a, cfg)) < 0 || (rc = ct_ledger_open(&a->ledger)) < 0 ||
        (rc = ct_sender_new(&a->sender, cfg->rpc_url, cfg->seckey, &opts)) < 0 ||
        (rc = check_contract(cfg->rpc_url, &a->contract, opts.timeout_ms)) < 0) {
        ct_agent_free(a);
        return rc;
    }
    a->wallet = *ct_sender_address(a->sender);
    if (cfg->amqp_url != NULL && (rc = ct_agent__watch_new(&a->watch, a, cfg)) < 0) {
        ct_agent_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

const ct_address *ct_agent_wallet(const ct_agent *a)
{
    return &a->wallet;
}

int ct_agent_start(ct_agent *a)
{
    int rc;

    if (a->server != NULL)
        return ct_error_set(CT_ESTATE, "agent: already started");
    if ((rc = ct_agent__server_start(a)) < 0)
        return rc;
    return a->watch != NULL ? ct_agent__watch_start(a->watch) : 0;
}

uint16_t ct_agent_port(const ct_agent *a)
{
    return ct_agent__server_port(a);
}

void ct_agent_free(ct_agent *a)
{
    if (a == NULL)
        return;
    ct_agent__watch_free(a->watch); /* before the sender it writes with */
    ct_agent__server_stop(a);
    ct_sender_free(a->sender);
    ct_ledger_free(a->ledger);
    ct_wipe(a->seckey, sizeof(a->seckey));
    if (a->tls_key != NULL)
        ct_wipe(a->tls_key, strlen(a->tls_key));
    free(a->tls_key);
    free(a->tls_cert);
    free(a);
}

/* ---------------------------------------------------------------- requests */

/* Returns: the request's id when it is 1 to 128 printable ASCII bytes
 * (borrowed from req), else NULL. */
static const char *request_id(const json_t *req)
{
    const json_t *v = json_object_get(req, "_request_id");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);

    if (s == NULL || n == 0 || n > REQUEST_ID_MAX || strlen(s) != n)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return NULL;
    return s;
}

/* Keeps the node's revert reason and drops the layers of context around
 * it ("estimating gas: rpc error 3: ..."). */
static int revert_reason(outcome *o, const char *msg)
{
    const char *p = strstr(msg, "reverted");

    if (p != NULL && strstr(msg, "execution reverted") != NULL)
        p = strstr(msg, "execution reverted");
    return fail(o, "reverted", "%s", p != NULL ? p : msg);
}

/* Maps a failed send to its outcome. Node and transport errors stay in the
 * log: their messages name the node's URL, which may hold an API key. */
static int send_failed(ct_agent *a, outcome *o, const char *function, int rc)
{
    if (rc == CT_EREVERT)
        return revert_reason(o, ct_error_last());
    ct_log(CT_LOG_WARN, "%s: sending %s: %s", a->dc_name, function, ct_error_last());
    if (rc == CT_EBEHIND) /* behind min_block: nothing was sent; names no URL */
        return fail(o, "behind", "%s", ct_error_last());
    if (rc == CT_ETIMEOUT)
        return fail(o, "rpc", "the chain node did not answer in time");
    if (rc == CT_ERPC)
        return fail(o, "rpc", "the chain node refused or failed the request (see the agent's log)");
    return fail(o, "internal", "%s", ct_error_last());
}

/* Encodes, signs and sends call; on success o->text is the tx hash. */
static void send_call(ct_agent *a, outcome *o, const ct_agent_call *call)
{
    ct_send_req req = {.to = &a->contract, .min_block = call->min_block};
    ct_send_result res;
    ct_buf data;
    int rc;

    ct_buf_init(&data, CALLDATA_MAX);
    memset(&res, 0, sizeof(res));
    rc = ct_ledger_encode_call(a->ledger, &data, call->function, call->args);
    if (rc == CT_ELIMIT) {
        fail(o, "bad_request", "request too large to encode");
        goto done;
    } else if (rc < 0) {
        fail(o, "internal", "encoding %s: %s", call->function, ct_error_last());
        goto done;
    }
    req.data = (const uint8_t *)data.data;
    req.data_len = data.len;
    if ((rc = ct_sender_send(a->sender, &res, &req, false)) == 0)
        ct_hex_encode(o->text, sizeof(o->text), res.hash, 32, true);
    else
        send_failed(a, o, call->function, rc);
done:
    ct_send_result_clear(&res);
    ct_buf_free(&data);
}

/* The gateway's challenge (section 1.2): signs the digest of this DC's
 * name, the URL the gateway dialled (it must be this DC's) and the
 * challenge with the DC's key. Needs no token: it proves who we are and
 * sends nothing to the chain. */
static int authenticate(ct_agent *a, outcome *o, const json_t *req)
{
    static const char *const keys[] = {"method", "_request_id", "challenge", "url", NULL};
    const char *url = json_string_value(json_object_get(req, "url"));
    const char *hex = json_string_value(json_object_get(req, "challenge"));
    uint8_t challenge[CT_AGENT_CHALLENGE_SIZE], digest[32];
    char suffix[CT_AGENT_NAME_MAX + 8];
    size_t n;

    if (ct_json_check_keys(req, keys) < 0)
        return fail(o, "bad_request", "%s", ct_error_last());
    if (hex == NULL || strlen(hex) != 2 + 2 * sizeof(challenge) ||
        ct_hex_decode(challenge, sizeof(challenge), &n, hex, strlen(hex)) < 0)
        return fail(o, "bad_request", "field 'challenge' must be 0x and 64 hex digits");
    snprintf(suffix, sizeof(suffix), "/ws/%s", a->dc_name);
    if (url == NULL || strlen(url) > AUTH_URL_MAX || strlen(url) < strlen(suffix) ||
        strcmp(url + strlen(url) - strlen(suffix), suffix) != 0)
        return fail(o, "bad_request", "field 'url' must be this DC's agent URL (ending %s)",
                    suffix);
    ct_agent_auth_digest(digest, a->dc_name, url, challenge);
    if (ct_agent_auth_sign(o->text, digest, a->seckey) < 0)
        return fail(o, "internal", "cannot sign: %s", ct_error_last());
    return 0;
}

/* Runs the checks in the protocol's order; *req and *id are kept for the
 * reply. Returns: 0 when the transaction was sent, -1 otherwise (the
 * outcome says why). */
static int process(ct_agent *a, outcome *o, json_t **req, const char **id, const char *msg,
                   size_t len)
{
    ct_agent_call call = {0};
    const json_t *token;
    const char *method;
    int rc;

    if (len > a->max_message)
        return fail(o, "bad_request", "message is %zu bytes, over the limit of %zu", len,
                    a->max_message);
    if (ct_json_parse(req, msg, len, CT_AGENT_MAX_DEPTH) < 0)
        return fail(o, "bad_request", "malformed JSON: %s", ct_error_last());
    if (!json_is_object(*req))
        return fail(o, "bad_request", "a request must be a JSON object");
    if ((*id = request_id(*req)) == NULL)
        return fail(o, "bad_request",
                    "field '_request_id' must be a string of 1 to %d "
                    "printable ASCII characters",
                    REQUEST_ID_MAX);
    method = json_string_value(json_object_get(*req, "method"));
    if (method != NULL && strcmp(method, "authenticate") == 0)
        return authenticate(a, o, *req);
    token = json_object_get(*req, "token");
    if (!json_is_string(token))
        return fail(o, "unauthorized", "field 'token' (the end user's bearer token) is required");
    if (!ct_agent_tokens_check(a->tokens, json_string_value(token), json_string_length(token)))
        return fail(o, "unauthorized", "the token may not act for %s", a->dc_name);
    rc = ct_agent_parse_request(&call, *req, a->dc_name, &a->wallet, ct_time_now_ms());
    if (rc == CT_EAUTH)
        return fail(o, "unauthorized", "%s", ct_error_last());
    if (rc == CT_ENOMEM)
        return fail(o, "internal", "%s", ct_error_last());
    if (rc < 0)
        return fail(o, "bad_request", "%s", ct_error_last());
    send_call(a, o, &call);
    ct_agent_call_clear(&call);
    return o->code == NULL ? 0 : -1;
}

static int build_reply(char **out, const char *id, const char *code, const char *text)
{
    json_t *r = json_object();
    int rc;

    if (r == NULL || json_object_set_new(r, "response", json_string(text)) < 0 ||
        json_object_set_new(r, "_request_id", id != NULL ? json_string(id) : json_null()) < 0 ||
        (code != NULL && (json_object_set_new(r, "error", json_true()) < 0 ||
                          json_object_set_new(r, "code", json_string(code)) < 0))) {
        json_decref(r);
        return ct_error_set(CT_ENOMEM, "agent: out of memory");
    }
    rc = ct_json_dump(out, r);
    json_decref(r);
    return rc;
}

int ct_agent_error_reply(char **reply, const char *code, const char *message)
{
    outcome o;

    fail(&o, code, "%s", message);
    return build_reply(reply, NULL, o.code, o.text);
}

int ct_agent_handle(ct_agent *a, char **reply, const char *msg, size_t len)
{
    outcome o = {0};
    json_t *req = NULL;
    const char *id = NULL, *method;
    char method_text[40];
    int rc;

    process(a, &o, &req, &id, msg, len);
    method = json_string_value(json_object_get(req, "method"));
    snprintf(method_text, sizeof(method_text), "%s", method != NULL ? method : "-");
    to_ascii(method_text);
    if (o.code == NULL)
        ct_log(CT_LOG_INFO, "%s: request %s %s -> %s", a->dc_name, id, method_text, o.text);
    else
        ct_log(CT_LOG_WARN, "%s: request %s %s -> %s: %s", a->dc_name, id != NULL ? id : "-",
               method_text, o.code, o.text);
    rc = build_reply(reply, id, o.code, o.text);
    json_decref(req);
    return rc;
}
