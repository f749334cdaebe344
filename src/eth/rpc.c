/* JSON-RPC 2.0 over HTTP with libcurl: bounded responses, timeouts, node
 * errors mapped to ct_err codes with the node's message kept, and failover
 * across a list of nodes ("URL1,URL2") when one does not answer. */
#include "catena/eth.h"
#include "catena/util.h"
#include "eth_int.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

/* One node of the list. */
typedef struct rpc_node {
    char *url;
    char origin[256]; /* what messages show of url */
} rpc_node;

struct ct_rpc {
    CURL *curl;
    struct curl_slist *headers;
    rpc_node nodes[CT_ETH__RPC_MAX_NODES];
    size_t n_nodes;
    size_t cur;         /* the node calls go to */
    unsigned failovers; /* times a call moved on to the next node */
    int timeout_ms;
    uint64_t next_id;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *payload)
{
    ct_buf *b = payload;
    size_t n = size * nmemb;
    /* Returning a short count makes curl abort the transfer. */
    return ct_buf_append(b, data, n) == 0 ? n : 0;
}

/* Copies the comma-separated list into rpc->nodes, checking each URL. */
static int rpc_parse_urls(ct_rpc *rpc, const char *list)
{
    const char *p = list;

    for (;;) {
        size_t len = strcspn(p, ",");
        rpc_node *node = &rpc->nodes[rpc->n_nodes];
        char shown[256];

        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (rpc->n_nodes == CT_ETH__RPC_MAX_NODES)
            return ct_error_set(CT_EINVAL, "rpc: more than %d urls", CT_ETH__RPC_MAX_NODES);
        if ((node->url = strndup(p, len)) == NULL)
            return ct_error_set(CT_ENOMEM, "rpc: out of memory");
        rpc->n_nodes++;
        ct_url_origin(node->origin, sizeof(node->origin), node->url);
        if (strncmp(node->url, "http://", 7) != 0 && strncmp(node->url, "https://", 8) != 0) {
            ct_url_origin(shown, sizeof(shown), node->url);
            return ct_error_set(CT_EINVAL, "rpc: url must start with http:// or https://: %.80s",
                                shown);
        }
        p += strcspn(p, ",");
        if (*p == '\0')
            return 0;
        p++;
    }
}

int ct_rpc_new(ct_rpc **out, const char *url, int timeout_ms)
{
    ct_rpc *rpc;
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rpc = calloc(1, sizeof(*rpc));
    if (rpc == NULL)
        return ct_error_set(CT_ENOMEM, "rpc: out of memory");
    if ((rc = rpc_parse_urls(rpc, url)) < 0) {
        ct_rpc_free(rpc);
        return rc;
    }
    rpc->curl = curl_easy_init();
    rpc->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (rpc->curl == NULL || rpc->headers == NULL) {
        ct_rpc_free(rpc);
        return ct_error_set(CT_ENOMEM, "rpc: out of memory");
    }
    rpc->timeout_ms = timeout_ms;
    rpc->next_id = 1;
    *out = rpc;
    return 0;
}

void ct_rpc_free(ct_rpc *rpc)
{
    if (rpc == NULL)
        return;
    if (rpc->curl != NULL)
        curl_easy_cleanup(rpc->curl);
    curl_slist_free_all(rpc->headers);
    for (size_t i = 0; i < rpc->n_nodes; i++)
        free(rpc->nodes[i].url);
    free(rpc);
}

const char *ct_rpc_url(const ct_rpc *rpc)
{
    return rpc->nodes[rpc->cur].url;
}

unsigned ct_eth__rpc_failovers(const ct_rpc *rpc)
{
    return rpc->failovers;
}

void ct_url_origin(char *out, size_t size, const char *url)
{
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end != NULL ? scheme_end + 3 : url;
    size_t host_len = strcspn(host, "/?#");
    const char *at = memchr(host, '@', host_len);

    if (at != NULL) { /* drop user:password@ */
        host_len -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    snprintf(out, size, "%.*s%.*s", scheme_end != NULL ? (int)(scheme_end + 3 - url) : 0, url,
             (int)host_len, host);
}

const char *ct_rpc_origin(const ct_rpc *rpc)
{
    return rpc->nodes[rpc->cur].origin;
}

/* POSTs body to the current node and collects the response into resp.
 * Out: *down is set when the node did not answer: no connection, a
 * transport error or timeout, or HTTP 5xx (the next node may). */
static int rpc_post(ct_rpc *rpc, ct_buf *resp, const char *body, bool *down)
{
    const rpc_node *node = &rpc->nodes[rpc->cur];
    CURL *c = rpc->curl;
    CURLcode cc;
    long status = 0;

    *down = false;
    ct_buf_reset(resp);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, node->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, rpc->headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)rpc->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    cc = curl_easy_perform(c);
    if (cc == CURLE_WRITE_ERROR)
        return ct_error_set(CT_ELIMIT, "rpc: response larger than %zu bytes", resp->max);
    *down = cc != CURLE_OK;
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return ct_error_set(CT_ETIMEOUT, "rpc: %s timed out after %d ms", node->origin,
                            rpc->timeout_ms);
    if (cc != CURLE_OK)
        return ct_error_set(CT_ERPC, "rpc: %s: %s", node->origin, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    *down = status >= 500;
    if (status != 200)
        return ct_error_set(CT_ERPC, "rpc: %s answered HTTP %ld", node->origin, status);
    return 0;
}

/* Posts body to the current node and, while nodes do not answer, to the
 * next ones in turn, each at most once; the node that answers stays
 * current. Resending is safe for what JSON-RPC clients send: reads, and
 * eth_sendRawTransaction of the same signed bytes (same hash, lands once).
 * An answer that is a JSON-RPC error is an answer: no failover. */
static int rpc_post_any(ct_rpc *rpc, ct_buf *resp, const char *body)
{
    bool down = false;
    int rc = 0;

    for (size_t tried = 0; tried < rpc->n_nodes; tried++) {
        if (tried > 0) {
            const char *from = rpc->nodes[rpc->cur].origin;
            rpc->cur = (rpc->cur + 1) % rpc->n_nodes;
            rpc->failovers++;
            ct_log(CT_LOG_WARN, "rpc: %s did not answer, trying %s", from,
                   rpc->nodes[rpc->cur].origin);
        }
        if ((rc = rpc_post(rpc, resp, body, &down)) == 0 || !down)
            return rc;
    }
    if (rpc->n_nodes > 1)
        ct_error_wrap("rpc: none of %zu nodes answered; last", rpc->n_nodes);
    return rc;
}

/* The reason string of Solidity's Error(string) revert data (selector
 * 0x08c379a0), decoded into out; "" when data is not such a payload. */
static void revert_data_reason(char *out, size_t n, const json_t *data)
{
    const char *hex = json_string_value(data);
    uint8_t *bytes = NULL;
    size_t len = 0;
    ct_abi_type *t = NULL;
    json_t *args = NULL;

    out[0] = '\0';
    if (hex == NULL || strncmp(hex, "0x08c379a0", 10) != 0 ||
        (bytes = malloc(strlen(hex) / 2)) == NULL)
        return;
    if (ct_hex_decode(bytes, strlen(hex) / 2, &len, hex, strlen(hex)) == 0 && len >= 4 &&
        ct_abi_type_parse(&t, "(string)") == 0 && ct_abi_decode(&args, t, bytes + 4, len - 4) == 0)
        snprintf(out, n, "%s", json_string_value(json_array_get(args, 0)));
    json_decref(args);
    ct_abi_type_free(t);
    free(bytes);
    ct_error_clear();
}

/* Maps a JSON-RPC error object to a ct_err, keeping the node's words.
 * Nodes that answer a revert as a bare "revert" (EthereumJS) carry the
 * reason only in the error's data: it is added as "execution reverted:
 * REASON", the words other nodes use. */
static int rpc_node_error(const json_t *err)
{
    json_t *code = json_object_get(err, "code");
    json_t *msg = json_object_get(err, "message");
    const char *text = json_is_string(msg) ? json_string_value(msg) : "(no message)";
    int kind = strstr(text, "revert") != NULL ? CT_EREVERT : CT_ERPC;
    long long c = json_is_integer(code) ? (long long)json_integer_value(code) : 0LL;
    char reason[256];

    const char *data = json_string_value(json_object_get(err, "data"));

    if (kind == CT_EREVERT && strstr(text, "reverted:") == NULL) {
        revert_data_reason(reason, sizeof(reason), json_object_get(err, "data"));
        if (reason[0] != '\0')
            return ct_error_set(kind, "rpc error %lld: execution reverted: %s", c, reason);
    }
    /* A custom error's data (selector and arguments) for whoever knows the
     * contract's ABI (ct_ledger names it). */
    if (kind == CT_EREVERT && data != NULL && strncmp(data, "0x", 2) == 0 && strlen(data) >= 10 &&
        strlen(data) <= 522 && strstr(text, data) == NULL)
        return ct_error_set(kind, "rpc error %lld: %s [data %s]", c, text, data);
    return ct_error_set(kind, "rpc error %lld: %s", c, text);
}

static json_t *make_request(ct_rpc *rpc, const char *method, const json_t *params)
{
    return json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)rpc->next_id++,
                     "method", method, "params",
                     params ? json_incref((json_t *)params) : json_array());
}

/* Sends a request (object or batch array) and parses the response. */
static int rpc_exchange(ct_rpc *rpc, json_t **resp, const json_t *req, const char *what)
{
    char *body = NULL;
    ct_buf buf;
    int rc;

    ct_buf_init(&buf, CT_RPC_MAX_RESPONSE);
    if ((rc = ct_json_dump(&body, req)) < 0)
        goto done;
    if ((rc = rpc_post_any(rpc, &buf, body)) < 0)
        goto done;
    /* anvil's revert messages may hold \u0000 (an ABI string it decoded
     * from a custom error's data); they are cut there when used as text. */
    if ((rc = ct_json_parse_with_nul(resp, buf.data, buf.len, CT_JSON_MAX_DEPTH)) < 0)
        ct_error_wrap("rpc: %s: bad response to %s", ct_rpc_origin(rpc), what);
done:
    free(body);
    ct_buf_free(&buf);
    return rc;
}

/* Takes the result out of one response object. */
static int take_result(json_t **result, const json_t *resp, const char *method)
{
    json_t *res;

    if (!json_is_object(resp))
        return ct_error_set(CT_ERPC, "rpc: response to %s is not an object", method);
    if ((res = json_object_get(resp, "error")) != NULL && !json_is_null(res))
        return rpc_node_error(res);
    if ((res = json_object_get(resp, "result")) == NULL)
        return ct_error_set(CT_ERPC, "rpc: response to %s has no result", method);
    *result = json_incref(res);
    return 0;
}

int ct_rpc_call(ct_rpc *rpc, json_t **result, const char *method, json_t *params)
{
    json_t *req, *resp = NULL;
    int rc;

    if ((req = make_request(rpc, method, params)) == NULL)
        return ct_error_set(CT_ENOMEM, "rpc: cannot build request");
    if ((rc = rpc_exchange(rpc, &resp, req, method)) == 0)
        rc = take_result(result, resp, method);
    json_decref(req);
    json_decref(resp);
    return rc;
}

/* Finds the response with the given id in a batch response; nodes
 * usually answer in request order, so position `hint` is tried first. */
static const json_t *batch_find(const json_t *resp, json_int_t id, size_t hint)
{
    const json_t *at = json_array_get(resp, hint);
    size_t i;
    json_t *r;

    if (json_integer_value(json_object_get(at, "id")) == id)
        return at;
    json_array_foreach (resp, i, r) {
        if (json_integer_value(json_object_get(r, "id")) == id)
            return r;
    }
    return NULL;
}

static json_t *batch_entry(const json_t *r, const char *method)
{
    json_t *res = NULL;

    if (r == NULL)
        return json_pack("{s:{s:i, s:s}}", "error", "code", -32603, "message",
                         "no response in batch");
    if (take_result(&res, r, method) == 0)
        return res;
    json_t *err = json_object_get(r, "error");
    if (err != NULL)
        return json_pack("{s:O}", "error", err);
    return json_pack("{s:{s:i, s:s}}", "error", "code", -32603, "message", ct_error_last());
}

int ct_rpc_batch(ct_rpc *rpc, json_t **results, const json_t *calls)
{
    json_t *req = json_array(), *resp = NULL, *out = json_array();
    json_int_t first = (json_int_t)rpc->next_id;
    size_t i;
    json_t *c;
    int rc = 0;

    if (!json_is_array(calls)) {
        rc = ct_error_set(CT_EINVAL, "rpc: batch must be an array of [method, params]");
        goto done;
    }
    json_array_foreach (calls, i, c) {
        const char *m = json_string_value(json_array_get(c, 0));
        if (m == NULL) {
            rc = ct_error_set(CT_EINVAL, "rpc: batch[%zu] has no method name", i);
            goto done;
        }
        json_array_append_new(req, make_request(rpc, m, json_array_get(c, 1)));
    }
    if ((rc = rpc_exchange(rpc, &resp, req, "batch")) < 0)
        goto done;
    if (!json_is_array(resp)) {
        json_t *err = json_object_get(resp, "error");
        rc = err != NULL ? rpc_node_error(err)
                         : ct_error_set(CT_ERPC, "rpc: batch response is not an array");
        goto done;
    }
    json_array_foreach (calls, i, c) {
        const char *m = json_string_value(json_array_get(c, 0));
        json_array_append_new(out, batch_entry(batch_find(resp, first + (json_int_t)i, i), m));
    }
    *results = json_incref(out);
done:
    json_decref(req);
    json_decref(resp);
    json_decref(out);
    return rc;
}
