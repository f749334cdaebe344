/* The explorer's chain reads under /api/chain/: overview, blocks,
 * transactions with their Federation calls and events decoded, search,
 * the Federation ABI; and the explorer's static files of web_dir at
 * /explorer/. Chain reads go through a per-request ct_rpc, so the browser
 * never talks to the node itself; they wait for the node, so they run on
 * workers (routes.c), and answer by RPC_TIMEOUT_MS from their arrival. */
#include "api_int.h"

#include "catena/verify.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RPC_TIMEOUT_MS 10000
/* Most blocks one listing returns. */
#define MAX_BLOCKS 100
/* A VC's proof (/proof/, /verify/) reads every header since its
 * registration: at most this many blocks (about 24 MB of bundle), and at
 * most PROOF_CONCURRENT proofs at once, so a flood of them cannot hold
 * the workers that serve every other chain read. Longer histories are
 * checked with catena verify vc against one's own node. */
#define PROOF_MAX_BLOCKS 20000
#define PROOF_CONCURRENT 2

/* Returns: the time left of req's RPC_TIMEOUT_MS, counted from its
 * arrival (time spent queued counts too). */
static int64_t time_left(const api_req *req)
{
    return RPC_TIMEOUT_MS - (ct_time_mono_ms() - req->received_ms);
}

static void too_late(api_resp *resp)
{
    ct_api__error(resp, 504, "chain: the node did not answer within %d ms", RPC_TIMEOUT_MS);
}

/* A client for this request, its calls bounded by the time it has left.
 * Returns: false with the answer set when the request may not read or
 * no time is left. */
static bool rpc_open(ct_api *api, const api_req *req, ct_rpc **rpc, api_resp *resp)
{
    int64_t left = time_left(req);

    if (!ct_api__may_read(api, req, resp))
        return false;
    if (left < 100) {
        too_late(resp);
        return false;
    }
    if (ct_rpc_new(rpc, api->cfg.rpc_url, (int)left) == 0)
        return true;
    ct_api__error(resp, 502, "chain: %s", ct_error_last());
    return false;
}

/* The answer to a failed chain read: 404 not found, 504 out of time
 * (saying which call, or how far a long read got), else 502. */
static void rpc_fail(api_resp *resp, int rc)
{
    if (rc == CT_ENOTFOUND)
        ct_api__error(resp, 404, "%s", ct_error_last());
    else if (rc == CT_ETIMEOUT)
        ct_api__error(resp, 504, "chain: %s", ct_error_last());
    else
        ct_api__error(resp, 502, "chain: %s", ct_error_last());
}

static uint64_t quantity(const json_t *v)
{
    uint64_t n = 0;
    if (ct_quantity_parse_u64(&n, v) < 0)
        n = 0;
    return n;
}

static json_t *time_json(uint64_t secs)
{
    char t[CT_TIME_ISO8601_SIZE];
    ct_time_format(t, (int64_t)(secs > INT64_MAX / 1000 ? 0 : secs) * 1000);
    return json_string(t);
}

static bool is_contract(ct_api *api, const json_t *to)
{
    ct_address a;
    const char *s = json_string_value(to);
    return s != NULL && ct_address_parse(&a, s) == 0 &&
           memcmp(a.b, api->cfg.contract.b, CT_ADDRESS_SIZE) == 0;
}

/* Decodes a transaction input; sets "method" and "args" on out when it
 * is a Federation call. */
static void decode_input(ct_api *api, json_t *out, const json_t *tx)
{
    const char *hex = json_string_value(json_object_get(tx, "input"));
    const char *name;
    uint8_t *data = NULL;
    size_t len;
    json_t *args = NULL;

    if (hex == NULL || !is_contract(api, json_object_get(tx, "to")) ||
        ct_hex_decode_new(&data, &len, hex) < 0)
        return;
    if (ct_ledger_decode_call(api->ledger, &name, &args, data, len) == 0) {
        json_object_set_new(out, "method", json_string(name));
        json_object_set_new(out, "args", args);
    }
    free(data);
}

/* A block's summary, with its transactions' summaries when full. */
static json_t *block_json(ct_api *api, const json_t *b, bool full)
{
    const json_t *txs = json_object_get(b, "transactions");
    uint64_t ts = quantity(json_object_get(b, "timestamp"));
    json_t *out = json_pack(
        "{s:I, s:O, s:O, s:I, s:o, s:I, s:I, s:I, s:O}", "number",
        (json_int_t)quantity(json_object_get(b, "number")), "hash", json_object_get(b, "hash"),
        "parent_hash", json_object_get(b, "parentHash"), "timestamp", (json_int_t)ts, "time",
        time_json(ts), "tx_count", (json_int_t)json_array_size(txs), "gas_used",
        (json_int_t)quantity(json_object_get(b, "gasUsed")), "gas_limit",
        (json_int_t)quantity(json_object_get(b, "gasLimit")), "miner", json_object_get(b, "miner"));
    if (out != NULL && full) {
        json_t *list = json_array(), *tx;
        size_t i;
        json_array_foreach (txs, i, tx) {
            json_t *t =
                json_pack("{s:O, s:O, s:O}", "hash", json_object_get(tx, "hash"), "from",
                          json_object_get(tx, "from"), "to",
                          json_object_get(tx, "to") ? json_object_get(tx, "to") : json_null());
            if (t == NULL)
                continue;
            decode_input(api, t, tx);
            json_array_append_new(list, t);
        }
        json_object_set_new(out, "transactions", list);
    }
    return out;
}

/* ---------------------------------------------------------------- overview */

void ct_api__h_chain_overview(ct_api *api, const api_req *req, api_resp *resp)
{
    ct_rpc *rpc = NULL;
    json_t *version = NULL, *latest = NULL, *dcs = NULL, *vcs = NULL;
    uint64_t chain_id = 0, head, processed;
    char contract[CT_ADDRESS_TEXT_SIZE];
    int rc;
    if (!rpc_open(api, req, &rpc, resp))
        return;
    if ((rc = ct_rpc_chain_id(rpc, &chain_id)) < 0 ||
        (rc = ct_rpc_call(rpc, &version, "web3_clientVersion", NULL)) < 0 ||
        (rc = ct_rpc_get_block_by_number(rpc, &latest, "latest", false)) < 0) {
        rpc_fail(resp, rc);
        goto done;
    }
    if (ct_store_dc_list(ct_api__store(api), &dcs) < 0 ||
        ct_store_vc_list(ct_api__store(api), &vcs, &CT_STORE_VC_ALL) < 0) {
        ct_api__error(resp, 500, "cache: %s", ct_error_last());
        goto done;
    }
    pthread_mutex_lock(&api->wake_mu);
    head = api->chain_head;
    processed = api->processed;
    pthread_mutex_unlock(&api->wake_mu);
    ct_address_format(contract, &api->cfg.contract);
    resp->json = json_pack(
        "{s:I, s:O, s:s, s:I, s:o, s:I, s:I, s:I, s:I}", "chain_id", (json_int_t)chain_id,
        "client_version", version, "contract", contract, "deploy_block",
        (json_int_t)api->cfg.from_block, "latest_block", block_json(api, latest, false),
        "datacenters", (json_int_t)json_array_size(dcs), "containers",
        (json_int_t)json_array_size(vcs), "follower_processed_block", (json_int_t)processed,
        "follower_lag_blocks", (json_int_t)(head > processed ? head - processed : 0));
done:
    json_decref(version);
    json_decref(latest);
    json_decref(dcs);
    json_decref(vcs);
    ct_rpc_free(rpc);
}

/* ---------------------------------------------------------------- blocks */

void ct_api__h_chain_blocks(ct_api *api, const api_req *req, api_resp *resp)
{
    uint64_t head, before = UINT64_MAX, limit = 20;
    ct_rpc *rpc = NULL;
    json_t *list = NULL;
    int rc;

    if (!ct_api__query_uint(&before, req, "before", 0, UINT64_MAX - 1, resp) ||
        !ct_api__query_uint(&limit, req, "limit", 0, MAX_BLOCKS, resp) ||
        !rpc_open(api, req, &rpc, resp))
        return;
    if ((rc = ct_rpc_block_number(rpc, &head)) < 0) {
        rpc_fail(resp, rc);
        goto done;
    }
    list = json_array();
    /* Blocks strictly before "before", newest first. */
    uint64_t top = before == UINT64_MAX || before > head + 1 ? head + 1 : before;
    for (uint64_t n = top; n > 0 && json_array_size(list) < limit; n--) {
        char tag[24];
        json_t *b = NULL;
        snprintf(tag, sizeof(tag), "0x%llx", (unsigned long long)(n - 1));
        if (time_left(req) <= 0) { /* a slow node: each call is bounded, not their sum */
            too_late(resp);
            goto done;
        }
        if ((rc = ct_rpc_get_block_by_number(rpc, &b, tag, false)) < 0) {
            rpc_fail(resp, rc);
            goto done;
        }
        json_array_append_new(list, block_json(api, b, false));
        json_decref(b);
    }
    resp->json = json_pack("{s:I, s:O}", "latest", (json_int_t)head, "blocks", list);
done:
    json_decref(list);
    ct_rpc_free(rpc);
}

void ct_api__h_chain_block(ct_api *api, const api_req *req, api_resp *resp)
{
    const char *id = req->params[0];
    uint8_t hash[32];
    uint64_t num;
    ct_rpc *rpc = NULL;
    json_t *b = NULL;
    int rc;

    if (!rpc_open(api, req, &rpc, resp))
        return;
    if (ct_api__parse_hash32(hash, id)) {
        rc = ct_rpc_get_block_by_hash(rpc, &b, hash, true);
    } else if (ct_parse_uint(&num, id, UINT64_MAX) == 0) {
        char tag[24];
        snprintf(tag, sizeof(tag), "0x%llx", (unsigned long long)num);
        rc = ct_rpc_get_block_by_number(rpc, &b, tag, true);
    } else {
        ct_api__error(resp, 400, "block must be a number or 0x and 64 hex digits");
        goto done;
    }
    if (rc < 0 && rc != CT_ENOTFOUND)
        rpc_fail(resp, rc);
    else if (rc < 0 || b == NULL || json_is_null(b))
        ct_api__error(resp, 404, "block %s not found", id);
    else
        resp->json = block_json(api, b, true);
done:
    json_decref(b);
    ct_rpc_free(rpc);
}

/* ---------------------------------------------------------------- transactions */

/* The receipt's logs, the contract's ones decoded. */
static json_t *logs_json(ct_api *api, const json_t *receipt)
{
    json_t *list = json_array(), *log;
    size_t i;

    json_array_foreach (json_object_get(receipt, "logs"), i, log) {
        json_t *e = json_pack("{s:I, s:O, s:O, s:O}", "log_index",
                              (json_int_t)quantity(json_object_get(log, "logIndex")), "address",
                              json_object_get(log, "address"), "topics",
                              json_object_get(log, "topics"), "data", json_object_get(log, "data"));
        const char *name;
        json_t *args = NULL;
        if (e == NULL)
            continue;
        if (is_contract(api, json_object_get(log, "address")) &&
            ct_ledger_decode_log(api->ledger, &name, &args, log) == 0) {
            json_object_set_new(e, "event", json_string(name));
            json_object_set_new(e, "args", args);
        }
        json_array_append_new(list, e);
    }
    return list;
}

void ct_api__h_chain_tx(ct_api *api, const api_req *req, api_resp *resp)
{
    uint8_t hash[32];
    char hex[67];
    ct_rpc *rpc = NULL;
    json_t *tx = NULL, *receipt = NULL, *params = NULL, *out;
    int rc;

    if (!ct_api__parse_hash32(hash, req->params[0])) {
        ct_api__error(resp, 400, "transaction hash must be 0x and 64 hex digits");
        return;
    }
    if (!rpc_open(api, req, &rpc, resp))
        return;
    ct_hex_encode(hex, sizeof(hex), hash, 32, true);
    params = json_pack("[s]", hex);
    if ((rc = ct_rpc_call(rpc, &tx, "eth_getTransactionByHash", params)) < 0) {
        rpc_fail(resp, rc);
        goto done;
    }
    if (!json_is_object(tx)) {
        ct_api__error(resp, 404, "transaction %s not found", hex);
        goto done;
    }
    rc = ct_rpc_get_receipt(rpc, &receipt, hash);
    if (rc < 0 && rc != CT_ENOTFOUND) {
        rpc_fail(resp, rc);
        goto done;
    }
    const json_t *to = json_object_get(tx, "to");
    out = json_pack(
        "{s:s, s:O, s:O, s:I, s:O, s:O, s:I, s:O, s:O}", "hash", hex, "block_number",
        json_object_get(tx, "blockNumber") ? json_object_get(tx, "blockNumber") : json_null(),
        "block_hash",
        json_object_get(tx, "blockHash") ? json_object_get(tx, "blockHash") : json_null(),
        "tx_index", (json_int_t)quantity(json_object_get(tx, "transactionIndex")), "from",
        json_object_get(tx, "from"), "to", to ? to : json_null(), "nonce",
        (json_int_t)quantity(json_object_get(tx, "nonce")), "value", json_object_get(tx, "value"),
        "input", json_object_get(tx, "input"));
    if (out == NULL) {
        ct_api__error(resp, 502, "chain: malformed transaction");
        goto done;
    }
    json_object_set_new(out, "block_number",
                        json_integer((json_int_t)quantity(json_object_get(tx, "blockNumber"))));
    json_object_set_new(out, "gas", json_integer((json_int_t)quantity(json_object_get(tx, "gas"))));
    json_object_set_new(out, "federation_call", json_boolean(is_contract(api, to)));
    decode_input(api, out, tx);
    if (receipt != NULL) {
        json_object_set_new(out, "status",
                            json_string(quantity(json_object_get(receipt, "status")) == 1
                                            ? "success"
                                            : "reverted"));
        json_object_set_new(
            out, "gas_used",
            json_integer((json_int_t)quantity(json_object_get(receipt, "gasUsed"))));
        json_object_set_new(out, "events", logs_json(api, receipt));
    } else {
        json_object_set_new(out, "status", json_string("pending"));
        json_object_set_new(out, "events", json_array());
    }
    resp->json = out;
done:
    json_decref(params);
    json_decref(tx);
    json_decref(receipt);
    ct_rpc_free(rpc);
}

/* ---------------------------------------------------------------- search */

/* Answers {"kind", "id"}: what the query names and how to open it. */
static void found(api_resp *resp, const char *kind, const char *id)
{
    resp->json = json_pack("{s:s, s:s}", "kind", kind, "id", id);
}

static void search_hash(ct_api *api, const api_req *req, api_resp *resp, const char *q,
                        const uint8_t h[32])
{
    ct_rpc *rpc = NULL;
    json_t *v = NULL, *params = json_pack("[s]", q);
    int rc;

    if (ct_store_vc_details(ct_api__store(api), &v, h) == 0) {
        found(resp, "vc", q);
        goto done;
    }
    if (!rpc_open(api, req, &rpc, resp))
        goto done;
    if ((rc = ct_rpc_call(rpc, &v, "eth_getTransactionByHash", params)) == 0 && json_is_object(v)) {
        found(resp, "tx", q);
        goto done;
    }
    json_decref(v);
    v = NULL;
    if (rc == 0)
        rc = ct_rpc_get_block_by_hash(rpc, &v, h, false);
    if (rc == 0 && json_is_object(v))
        found(resp, "block", q);
    else if (rc < 0 && rc != CT_ENOTFOUND)
        rpc_fail(resp, rc); /* the node did not answer: not "nothing matches" */
    else
        ct_api__error(resp, 404, "no VC, transaction or block %s", q);
done:
    json_decref(v);
    json_decref(params);
    ct_rpc_free(rpc);
}

void ct_api__h_chain_search(ct_api *api, const api_req *req, api_resp *resp)
{
    const char *q = ct_api__query(req, "q");
    char text[CT_ADDRESS_TEXT_SIZE];
    uint8_t h[32];
    uint64_t num;
    ct_address a;
    json_t *dc = NULL;

    if (!ct_api__may_read(api, req, resp))
        return;
    if (q == NULL || *q == '\0') {
        ct_api__error(resp, 400, "query 'q' is required");
        return;
    }
    if (ct_parse_uint(&num, q, UINT64_MAX) == 0) {
        found(resp, "block", q);
    } else if (ct_api__parse_hash32(h, q)) {
        search_hash(api, req, resp, q, h);
    } else if (ct_address_parse(&a, q) == 0) {
        ct_address_format(text, &a);
        if (ct_store_dc_by_wallet(ct_api__store(api), &dc, &a) == 0 &&
            json_is_true(json_object_get(dc, "registered")))
            found(resp, "dc", text);
        else
            ct_api__error(resp, 404, "%s is not a registered datacenter", q);
    } else if (ct_store_dc_by_name(ct_api__store(api), &a, q) == 0) {
        ct_address_format(text, &a);
        found(resp, "dc", text);
    } else {
        ct_api__error(resp, 404,
                      "nothing matches '%s' (try a VC tag, tx hash, block number, DC name or "
                      "wallet)",
                      q);
    }
    json_decref(dc);
}

/* GET /api/datacenter/{wallet or name}/attributes: what the DC declared
 * about itself on the ledger (region, country, gdpr, ...), read from the
 * chain. */
void ct_api__h_dc_attributes(ct_api *api, const api_req *req, api_resp *resp)
{
    char text[CT_ADDRESS_TEXT_SIZE];
    ct_address wallet;
    json_t *args, *out = NULL, *attrs, *k;
    ct_rpc *rpc = NULL;
    size_t i;
    int rc;

    if (!rpc_open(api, req, &rpc, resp))
        return;
    if (ct_address_parse(&wallet, req->params[0]) < 0) {
        ct_error_clear();
        if (!ct_api__dc_wallet(api, &wallet, req->params[0], "datacenter", resp)) {
            ct_rpc_free(rpc);
            return;
        }
    }
    ct_address_format(text, &wallet);
    args = json_pack("[s]", text);
    rc = ct_ledger_read(api->ledger, rpc, &out, &api->cfg.contract, "attributes", args);
    json_decref(args);
    ct_rpc_free(rpc);
    if (rc < 0) {
        rpc_fail(resp, rc);
        return;
    }
    attrs = json_object();
    json_array_foreach (json_array_get(out, 0), i, k)
        json_object_set(attrs, json_string_value(k) ?: "",
                        json_array_get(json_array_get(out, 1), i));
    resp->json = json_pack("{s:s, s:o}", "wallet", text, "attributes", attrs);
    json_decref(out);
}

/* The evidence of the VC's history from this gateway's node, with the
 * history and details it serves (docs/VERIFY.md). The history is read
 * first, so the bundle's head is at or after its last event.
 * Returns: the bundle, or NULL with resp set. */
static json_t *vc_bundle(ct_api *api, const api_req *req, api_resp *resp)
{
    json_t *history = NULL, *details = NULL, *bundle = NULL;
    ct_rpc *rpc = NULL;
    uint8_t tag[32];
    int rc;

    if (!ct_api__parse_hash32(tag, req->params[0])) {
        if (ct_api__may_read(api, req, resp))
            ct_api__error(resp, 400, "VC tag: '%s' is not 0x and 64 hex digits", req->params[0]);
        return NULL;
    }
    if (!rpc_open(api, req, &rpc, resp))
        return NULL;
    if (atomic_fetch_add(&api->proving, 1) >= PROOF_CONCURRENT) {
        atomic_fetch_sub(&api->proving, 1);
        ct_rpc_free(rpc);
        ct_api__error(resp, 503, "the gateway is proving %d other VCs' histories: retry later",
                      PROOF_CONCURRENT);
        return NULL;
    }
    ct_verify_collect_opts o = {.deadline_ms = req->received_ms + RPC_TIMEOUT_MS,
                                .max_blocks = PROOF_MAX_BLOCKS};
    rc = ct_store_vc_history(ct_api__store(api), &history, tag);
    if (rc == 0)
        rc = ct_store_vc_details(ct_api__store(api), &details, tag);
    if (rc == CT_ENOTFOUND) {
        ct_api__error(resp, 404, "%s", ct_error_last());
    } else if (rc < 0) {
        ct_api__error(resp, 500, "%s", ct_error_last());
    } else if ((rc = ct_verify_collect(&bundle, rpc, api->ledger, &api->cfg.contract, tag, &o)) <
               0) {
        if (rc == CT_ELIMIT) /* the range cap, PROOF_MAX_BLOCKS */
            ct_api__error(resp, 413, "%s", ct_error_last());
        else
            rpc_fail(resp, rc);
    } else {
        json_object_set(bundle, "history", history);
        json_object_set(bundle, "details", details);
    }
    atomic_fetch_sub(&api->proving, 1);
    ct_rpc_free(rpc);
    json_decref(history);
    json_decref(details);
    return bundle;
}

/* GET /api/container/{tag}/proof/: the bundle, for `catena verify bundle`
 * to check offline. */
void ct_api__h_vc_proof(ct_api *api, const api_req *req, api_resp *resp)
{
    json_t *bundle = vc_bundle(api, req, resp);

    if (bundle != NULL)
        resp->json = bundle;
}

/* GET /api/container/{tag}/verify/: this gateway's answers checked
 * against its own node, as `catena verify bundle` would (the report, plus
 * the head to trust and the commands to check it independently). It shows
 * a cache that no longer matches the chain; a user who does not trust
 * the gateway runs catena verify against their own node. */
void ct_api__h_vc_verify(ct_api *api, const api_req *req, api_resp *resp)
{
    json_t *bundle = vc_bundle(api, req, resp), *report = NULL;
    ct_store_decoder *dec = NULL;
    const json_t *head;

    if (bundle == NULL)
        return;
    head = json_object_get(bundle, "head");
    if (ct_store_decoder_new(&dec, api->ledger) < 0 ||
        ct_verify_check(&report, dec, api->ledger, bundle, NULL) < 0) {
        ct_api__error(resp, 500, "%s", ct_error_last());
    } else {
        json_object_set(report, "state_note", json_object_get(bundle, "state_note"));
        json_object_set_new(report, "against", json_string("the gateway's node"));
        json_object_set_new(
            report, "reproduce",
            json_sprintf("catena verify vc %s --rpc YOUR_NODE\n"
                         "# or offline, from the bundle and the head you trust:\n"
                         "catena verify export %s > bundle.json\n"
                         "catena verify bundle bundle.json --trust %s@%" JSON_INTEGER_FORMAT,
                         req->params[0], req->params[0],
                         json_string_value(json_object_get(head, "hash")),
                         json_integer_value(json_object_get(head, "number"))));
        resp->json = report;
    }
    ct_store_decoder_free(dec);
    json_decref(bundle);
}

void ct_api__h_chain_abi(ct_api *api, const api_req *req, api_resp *resp)
{
    char contract[CT_ADDRESS_TEXT_SIZE];

    if (!ct_api__may_read(api, req, resp))
        return;
    ct_address_format(contract, &api->cfg.contract);
    resp->json = json_pack("{s:s, s:s, s:O}", "name", "Federation", "address", contract, "abi",
                           ct_ledger_abi(api->ledger));
}

/* ---------------------------------------------------------------- static files */

/* Files of web_dir. Any name without an extension serves index.html, so
 * the explorer's own routes (#/...) survive a reload. */
void ct_api__h_explorer(ct_api *api, const api_req *req, api_resp *resp)
{
    const char *name = req->path + strlen("/explorer");

    if (*name == '/')
        name++;
    if (*name == '\0' || strchr(name, '.') == NULL)
        name = "index.html";
    ct_api__static_file(resp, api->cfg.web_dir, name);
}
