/* Collecting a VC's evidence from a node: the headers from its
 * registration to a head, rebuilt from their fields and linked; the
 * receipts of every block whose bloom may hold its events, rebuilt into
 * the receiptsRoot; inclusion proofs of the receipts that carry them; the
 * storage proof of its slot. Whatever the node answers is checked on the
 * way, so a bundle is only produced from a node consistent with itself. */
#include "verify_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Blocks asked for in one JSON-RPC batch. */
#define HEADER_BATCH 200
/* The range starts this many blocks before the registration the node
 * reports: a reorganisation between that answer and the headers (a PoA
 * network's competing sealers) may move the registration a few blocks. */
#define REORG_MARGIN 8

typedef struct collector {
    ct_rpc *rpc;
    const ct_ledger *l;
    ct_address contract;
    uint8_t tag[32];
    uint64_t from, head;
    ct_verify_collect_opts o;
    json_t *bundle;
    json_t *headers;        /* borrowed from bundle */
    json_t *blocks;         /* borrowed from bundle */
    bool no_block_receipts; /* the node lacks eth_getBlockReceipts */
} collector;

static json_t *quantity(uint64_t n)
{
    char s[24];

    snprintf(s, sizeof(s), "0x%" PRIx64, n);
    return json_string(s);
}

static int nomem(void)
{
    return ct_error_set(CT_ENOMEM, "verify: out of memory");
}

/* The block of the VC's ContainerRegistered event, as the node reports
 * it (the checker proves it from the receipts later). */
static int find_registration(collector *c)
{
    uint8_t topic[32];
    json_t *params = NULL, *logs = NULL;
    uint64_t n;
    int rc;

    if ((rc = ct_ledger_event_topic(c->l, topic, "ContainerRegistered")) < 0)
        return rc;
    params = json_pack("[{s:o,s:[o,o],s:s,s:o}]", "address", ct_json_hex(c->contract.b, 20),
                       "topics", ct_json_hex(topic, 32), ct_json_hex(c->tag, 32), "fromBlock",
                       "0x0", "toBlock", quantity(c->head));
    if (params == NULL)
        return nomem();
    rc = ct_rpc_call(c->rpc, &logs, "eth_getLogs", params);
    json_decref(params);
    if (rc < 0)
        return ct_error_wrap("verify: finding the VC's registration");
    if (json_array_size(logs) == 0)
        rc = ct_error_set(CT_ENOTFOUND,
                          "verify: the VC is not registered on the chain up to "
                          "block %" PRIu64,
                          c->head);
    else if (ct_quantity_parse_u64(&n, json_object_get(json_array_get(logs, 0), "blockNumber")) < 0)
        rc = ct_error_set(CT_EPARSE, "verify: the node's registration log has no blockNumber");
    else /* a few blocks early: the registration may move in a reorganisation */
        c->from = n > REORG_MARGIN ? n - REORG_MARGIN : 0;
    json_decref(logs);
    return rc;
}

/* ---------------------------------------------------------------- receipts */

static int put_hex(json_t *arr, const uint8_t *data, size_t len)
{
    return json_array_append_new(arr, ct_json_hex(data, len)) < 0 ? nomem() : 0;
}

/* The block's receipts in transaction order: those prefetched (an
 * eth_getBlockReceipts answer, may be NULL), else eth_getBlockReceipts
 * where the node has it, else one eth_getTransactionReceipt per
 * transaction. */
static int fetch_receipts(collector *c, json_t **out, uint64_t number, const json_t *txs,
                          const json_t *pre)
{
    json_t *params, *calls, *res = NULL;
    const json_t *tx;
    size_t i;
    int rc;

    if (json_is_array(pre) && json_array_size(pre) == json_array_size(txs)) {
        *out = json_incref((json_t *)pre);
        return 0;
    }
    if (!c->no_block_receipts) {
        if ((params = json_pack("[o]", quantity(number))) == NULL)
            return nomem();
        rc = ct_rpc_call(c->rpc, out, "eth_getBlockReceipts", params);
        json_decref(params);
        if (rc == 0 && json_array_size(*out) == json_array_size(txs))
            return 0;
        if (rc == 0)
            json_decref(*out);
        if (rc < 0 && rc != CT_ERPC)
            return rc;
        c->no_block_receipts = true;
    }
    if ((calls = json_array()) == NULL)
        return nomem();
    json_array_foreach (txs, i, tx)
        if (json_array_append_new(calls, json_pack("[s,[O]]", "eth_getTransactionReceipt", tx)) < 0)
            break;
    rc = json_array_size(calls) == json_array_size(txs) ? ct_rpc_batch(c->rpc, &res, calls)
                                                        : nomem();
    json_decref(calls);
    if (rc < 0)
        return rc;
    json_array_foreach (res, i, tx)
        if (!json_is_object(tx) || json_object_get(tx, "error") != NULL)
            rc = ct_error_set(CT_ERPC, "verify: no receipt for transaction %zu of block %" PRIu64,
                              i, number);
    if (rc < 0)
        json_decref(res);
    else
        *out = res;
    return rc;
}

/* Whether a receipt (node JSON) has a log of the VC. */
static bool carries_vc(const collector *c, const json_t *receipt)
{
    const json_t *log;
    size_t i;
    ct_address a;
    uint8_t t[32];
    size_t n;

    json_array_foreach (json_object_get(receipt, "logs"), i, log) {
        const char *addr = json_string_value(json_object_get(log, "address"));
        const char *t1 = json_string_value(json_array_get(json_object_get(log, "topics"), 1));
        if (addr != NULL && t1 != NULL && ct_address_parse(&a, addr) == 0 &&
            memcmp(a.b, c->contract.b, 20) == 0 && strlen(t1) == 66 &&
            ct_hex_decode(t, 32, &n, t1, 66) == 0 && memcmp(t, c->tag, 32) == 0)
            return true;
    }
    return false;
}

/* The block's transactions as raw bytes, rebuilt from the node's
 * objects, each hashing to the node's hash: the checker proves them
 * against transactionsRoot and takes the events' tx_hash from them.
 * Out: *out a new array, or NULL when a transaction cannot be rebuilt
 * (a type this code does not encode): the hashes stay the node's word.
 * Returns: 0, or an RPC error. */
static int raw_transactions(collector *c, json_t **out, uint64_t number, const json_t *pre)
{
    json_t *params = NULL, *block = NULL, *raw = json_array();
    const json_t *tx;
    size_t i;
    int rc = 0;

    *out = NULL;
    if (raw == NULL)
        return nomem();
    if (json_is_object(pre) && json_object_get(pre, "error") == NULL) {
        block = json_incref((json_t *)pre);
    } else {
        if ((params = json_pack("[o,b]", quantity(number), 1)) == NULL) {
            json_decref(raw);
            return nomem();
        }
        rc = ct_rpc_call(c->rpc, &block, "eth_getBlockByNumber", params);
        json_decref(params);
    }
    json_array_foreach (json_object_get(block, "transactions"), i, tx) {
        ct_tx t;
        uint8_t *enc = NULL, h[32], want[32];
        size_t len, n;
        const char *hash = json_string_value(json_object_get(tx, "hash"));
        bool ok = rc == 0 && hash != NULL && ct_hex_decode(want, 32, &n, hash, strlen(hash)) == 0 &&
                  n == 32 && ct_tx_from_rpc_json(&t, tx) == 0;
        if (ok) {
            ok = ct_tx_encode(&enc, &len, &t) == 0;
            ct_tx_clear(&t);
        }
        if (ok)
            ct_keccak256(h, enc, len);
        if (!ok || memcmp(h, want, 32) != 0 || put_hex(raw, enc, len) < 0) {
            ct_error_clear();
            free(enc);
            json_decref(raw);
            raw = NULL;
            break;
        }
        free(enc);
    }
    json_decref(block);
    if (rc == 0)
        *out = raw;
    else
        json_decref(raw);
    return rc;
}

/* The receipt proofs of one block: every receipt (so the checker sees the
 * whole block), and a trie proof of those that carry the VC's events.
 * pre_receipts and pre_block are what was prefetched (may be NULL). */
static int add_block(collector *c, const ct_header *h, const json_t *txs,
                     const json_t *pre_receipts, const json_t *pre_block)
{
    json_t *receipts = NULL, *raw = json_array(), *proofs = json_array(), *hashes = json_array();
    json_t *entry, *txraw = NULL;
    ct_trie *trie = NULL;
    uint8_t key[9], root[32], *enc = NULL;
    size_t len, klen, i;
    const json_t *r;
    int rc;

    if (raw == NULL || proofs == NULL || hashes == NULL || (rc = ct_trie_new(&trie)) < 0) {
        rc = nomem();
        goto done;
    }
    if ((rc = fetch_receipts(c, &receipts, h->number, txs, pre_receipts)) < 0)
        goto done;
    json_array_foreach (receipts, i, r) {
        uint64_t index;
        if (ct_quantity_parse_u64(&index, json_object_get(r, "transactionIndex")) < 0 ||
            index != i ||
            !json_equal(json_object_get(r, "transactionHash"), json_array_get(txs, i))) {
            rc = ct_error_set(CT_EPARSE,
                              "verify: block %" PRIu64 " receipt %zu is not its "
                              "transaction's",
                              h->number, i);
            goto done;
        }
        if ((rc = ct_receipt_encode_json(&enc, &len, r)) < 0 ||
            (rc = ct_verify__index_key(key, &klen, i)) < 0 ||
            (rc = ct_trie_put(trie, key, klen, enc, len)) < 0 ||
            (rc = put_hex(raw, enc, len)) < 0 ||
            json_array_append(hashes, json_object_get(r, "transactionHash")) < 0) {
            rc = rc < 0 ? ct_error_wrap("verify: block %" PRIu64 " receipt %zu", h->number, i)
                        : nomem();
            goto done;
        }
        free(enc);
        enc = NULL;
    }
    if ((rc = ct_trie_root(trie, root)) < 0)
        goto done;
    if (memcmp(root, h->receipts_root, 32) != 0) {
        rc = ct_error_set(CT_EPARSE,
                          "verify: block %" PRIu64 ": the node's receipts do not "
                          "rebuild its receiptsRoot",
                          h->number);
        goto done;
    }
    json_array_foreach (receipts, i, r) {
        ct_bytes *nodes;
        size_t n;
        json_t *list;
        if (!carries_vc(c, r))
            continue;
        ct_verify__index_key(key, &klen, i);
        if ((rc = ct_trie_prove(trie, &nodes, &n, key, klen)) < 0)
            goto done;
        list = json_array();
        for (size_t k = 0; k < n && list != NULL; k++)
            if (put_hex(list, nodes[k].data, nodes[k].len) < 0)
                json_decref(list), list = NULL;
        ct_trie_proof_free(nodes, n);
        if (list == NULL ||
            json_array_append_new(
                proofs, json_pack("{s:I,s:o}", "index", (json_int_t)i, "nodes", list)) < 0) {
            rc = nomem();
            goto done;
        }
    }
    entry = json_pack("{s:I,s:O,s:O,s:O}", "number", (json_int_t)h->number, "receipts", raw,
                      "tx_hashes", hashes, "proofs", proofs);
    if (entry == NULL || json_array_append_new(c->blocks, entry) < 0) {
        rc = nomem();
        goto done;
    }
    if ((rc = raw_transactions(c, &txraw, h->number, pre_block)) == 0 && txraw != NULL)
        json_object_set_new(entry, "transactions", txraw);
done:
    free(enc);
    ct_trie_free(trie);
    json_decref(receipts);
    json_decref(raw);
    json_decref(proofs);
    json_decref(hashes);
    return rc;
}

/* ---------------------------------------------------------------- headers */

/* Checks one block of the node's answer: its fields hash to its hash, it
 * is the block asked for and follows the previous one. */
static int take_header(collector *c, ct_header *h, const json_t *block, uint64_t number,
                       const uint8_t *prev)
{
    uint8_t *rlp = NULL, claimed[32];
    const char *hash = json_string_value(json_object_get(block, "hash"));
    size_t len, n;
    int rc;

    if (!json_is_object(block))
        return ct_error_set(CT_ESTATE, "verify: the node has no block %" PRIu64, number);
    if ((rc = ct_header_encode_json(&rlp, &len, block)) < 0 ||
        (rc = ct_header_decode(h, rlp, len)) < 0) {
        free(rlp);
        return ct_error_wrap("verify: block %" PRIu64, number);
    }
    if (hash == NULL || strlen(hash) != 66 || ct_hex_decode(claimed, 32, &n, hash, 66) < 0 ||
        memcmp(claimed, h->hash, 32) != 0)
        rc = ct_error_set(CT_EPARSE,
                          "verify: block %" PRIu64 ": its header fields do not hash "
                          "to the hash the node gives it",
                          number);
    else if (h->number != number)
        rc = ct_error_set(CT_EPARSE, "verify: the node answered block %" PRIu64 " for %" PRIu64,
                          h->number, number);
    else if (prev != NULL && memcmp(prev, h->parent, 32) != 0)
        rc = ct_error_set(CT_ESTATE,
                          "verify: block %" PRIu64 " does not follow the block "
                          "before it (the chain changed while it was read)",
                          number);
    else
        rc = put_hex(c->headers, rlp, len);
    free(rlp);
    return rc;
}

/* Asks in one batch for the receipts (where the node has
 * eth_getBlockReceipts) and the full transactions of the blocks at
 * numbers[0..k), those whose bloom may hold the VC's events.
 * Out: *out the answers in that order, *stride 2 (receipts, block) or 1
 * (block); an answer that is an error is fetched again alone later.
 * Returns: 0 or an RPC error. */
static int prefetch(collector *c, json_t **out, size_t *stride, const uint64_t *numbers, size_t k)
{
    json_t *calls = json_array();
    int rc;

    *stride = c->no_block_receipts ? 1 : 2;
    for (size_t i = 0; i < k && calls != NULL; i++)
        if ((*stride == 2 &&
             json_array_append_new(
                 calls, json_pack("[s,[o]]", "eth_getBlockReceipts", quantity(numbers[i]))) < 0) ||
            json_array_append_new(
                calls, json_pack("[s,[o,b]]", "eth_getBlockByNumber", quantity(numbers[i]), 1)) < 0)
            json_decref(calls), calls = NULL;
    rc = calls != NULL ? ct_rpc_batch(c->rpc, out, calls) : nomem();
    json_decref(calls);
    return rc;
}

/* One batch of headers, then the receipts of those whose bloom may hold
 * the VC's events. *prev is the hash of the block before start. */
static int take_batch(collector *c, uint64_t start, uint64_t end, uint8_t prev[32], bool *have_prev)
{
    ct_header *hs = calloc(HEADER_BATCH, sizeof(*hs));
    uint64_t numbers[HEADER_BATCH];
    size_t k = 0, stride = 1;
    json_t *calls = json_array(), *res = NULL, *pre = NULL;
    int rc;

    for (uint64_t n = start; n <= end && calls != NULL; n++)
        if (json_array_append_new(
                calls, json_pack("[s,[o,b]]", "eth_getBlockByNumber", quantity(n), 0)) < 0)
            json_decref(calls), calls = NULL;
    rc = calls != NULL && hs != NULL ? ct_rpc_batch(c->rpc, &res, calls) : nomem();
    json_decref(calls);
    for (uint64_t n = start; n <= end && rc == 0; n++) {
        ct_header *h = &hs[n - start];
        if ((rc = take_header(c, h, json_array_get(res, n - start), n, *have_prev ? prev : NULL)) <
            0)
            break;
        memcpy(prev, h->hash, 32);
        *have_prev = true;
        if (ct_bloom_may_contain(h->bloom, c->contract.b, 20) &&
            ct_bloom_may_contain(h->bloom, c->tag, 32))
            numbers[k++] = n;
        if (n == c->head && json_object_set_new(c->bundle, "head",
                                                json_pack("{s:I,s:o}", "number", (json_int_t)n,
                                                          "hash", ct_json_hex(h->hash, 32))) < 0)
            rc = nomem();
    }
    if (rc == 0 && k > 0)
        rc = prefetch(c, &pre, &stride, numbers, k);
    for (size_t i = 0; i < k && rc == 0; i++) {
        const json_t *block = json_array_get(res, numbers[i] - start);
        rc = add_block(c, &hs[numbers[i] - start], json_object_get(block, "transactions"),
                       stride == 2 ? json_array_get(pre, 2 * i) : NULL,
                       json_array_get(pre, stride * i + stride - 1));
    }
    json_decref(pre);
    json_decref(res);
    free(hs);
    return rc;
}

static int take_headers(collector *c)
{
    uint8_t prev[32];
    bool have_prev = false;
    int rc = 0;

    if (c->o.max_blocks > 0 && c->head - c->from + 1 > c->o.max_blocks)
        return ct_error_set(CT_ELIMIT,
                            "verify: the VC's history spans blocks %" PRIu64 " to %" PRIu64
                            " (%" PRIu64 " blocks); at most %" PRIu64
                            " are proven here: run catena verify vc against your node",
                            c->from, c->head, c->head - c->from + 1, c->o.max_blocks);
    for (uint64_t start = c->from; start <= c->head && rc == 0; start += HEADER_BATCH) {
        uint64_t end = c->head - start + 1 > HEADER_BATCH ? start + HEADER_BATCH - 1 : c->head;
        if (c->o.deadline_ms > 0 && ct_time_mono_ms() >= c->o.deadline_ms)
            return ct_error_set(CT_ETIMEOUT,
                                "verify: out of time after %" PRIu64 " of %" PRIu64 " blocks",
                                start - c->from, c->head - c->from + 1);
        rc = take_batch(c, start, end, prev, &have_prev);
    }
    return rc;
}

/* ---------------------------------------------------------------- state */

static int take_state(collector *c)
{
    uint8_t slot[32];
    json_t *params, *res = NULL, *state;
    const json_t *storage;
    int rc;

    if ((rc = ct_verify__vc_slot(slot, c->l, c->tag)) < 0)
        return rc;
    params = json_pack("[o,[o],o]", ct_json_hex(c->contract.b, 20), ct_json_hex(slot, 32),
                       quantity(c->head));
    if (params == NULL)
        return nomem();
    rc = ct_rpc_call(c->rpc, &res, "eth_getProof", params);
    json_decref(params);
    if (rc == CT_ERPC) {
        /* Not every node proves state (docs/VERIFY.md): the events are
         * still proven, the current slot is not. */
        return json_object_set_new(c->bundle, "state", json_null()) < 0 ||
                       json_object_set_new(c->bundle, "state_note",
                                           json_sprintf("the node did not answer eth_getProof: %s",
                                                        ct_error_last())) < 0
                   ? nomem()
                   : 0;
    }
    if (rc < 0)
        return rc;
    storage = json_object_get(json_array_get(json_object_get(res, "storageProof"), 0), "proof");
    if (!json_is_array(json_object_get(res, "accountProof")) || !json_is_array(storage))
        rc = ct_error_set(CT_EPARSE, "verify: the node's eth_getProof answer has no proofs");
    else if ((state = json_pack("{s:o,s:O,s:O}", "slot", ct_json_hex(slot, 32), "account",
                                json_object_get(res, "accountProof"), "storage", storage)) ==
                 NULL ||
             json_object_set_new(c->bundle, "state", state) < 0)
        rc = nomem();
    json_decref(res);
    return rc;
}

/* ---------------------------------------------------------------- bundle */

static int collect_once(collector *c, uint64_t chain_id)
{
    char contract[CT_ADDRESS_TEXT_SIZE];
    int rc;

    json_decref(c->bundle);
    ct_address_format(contract, &c->contract);
    c->headers = json_array();
    c->blocks = json_array();
    c->bundle =
        json_pack("{s:s,s:I,s:s,s:o,s:I,s:o,s:o}", "format", CT_VERIFY_FORMAT, "chain_id",
                  (json_int_t)chain_id, "contract", contract, "tag", ct_json_hex(c->tag, 32),
                  "from", (json_int_t)0, "headers", c->headers, "blocks", c->blocks);
    if (c->bundle == NULL)
        return nomem();
    if ((rc = find_registration(c)) < 0)
        return rc;
    json_object_set_new(c->bundle, "from", json_integer((json_int_t)c->from));
    if ((rc = take_headers(c)) < 0)
        return rc;
    return take_state(c);
}

int ct_verify_collect(json_t **bundle, ct_rpc *rpc, const ct_ledger *l, const ct_address *contract,
                      const uint8_t tag[32], const ct_verify_collect_opts *o)
{
    collector c = {.rpc = rpc, .l = l, .contract = *contract};
    uint64_t head = o != NULL ? o->head : 0;
    uint64_t chain_id;
    int rc, tries = 0;

    memcpy(c.tag, tag, 32);
    if (o != NULL)
        c.o = *o;
    if ((rc = ct_rpc_chain_id(rpc, &chain_id)) < 0)
        return rc;
    do {
        c.head = head;
        if (c.head == 0 && (rc = ct_rpc_block_number(rpc, &c.head)) < 0)
            break;
        rc = collect_once(&c, chain_id);
    } while (rc == CT_ESTATE && ++tries < 3);
    if (rc < 0) {
        json_decref(c.bundle);
        return rc;
    }
    *bundle = c.bundle;
    return 0;
}
