/* Checking a bundle with no network: the header chain, the trusted head,
 * each block's receipts against its receiptsRoot, the inclusion proofs,
 * the blooms of the blocks left out, the storage proof; then the VC's
 * events as the proven receipts give them against the history a gateway
 * claimed, field by field. Every finding is a named problem, never an
 * early exit, so one run lists all that is wrong. */
#include "verify_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct checker {
    const ct_store_decoder *dec;
    const ct_ledger *l;
    const json_t *bundle;
    json_t *problems;
    ct_address contract;
    uint8_t tag[32];
    uint64_t from;
    ct_header *headers;
    size_t n_headers; /* the linked ones: a break ends the chain */
    json_t *proven;   /* the VC's events from the receipts, in chain order */
    json_t *state;    /* the proven slot, or NULL */
    size_t with_receipts;
    size_t tx_unproven; /* blocks whose tx hashes are the node's word */
    uint8_t *rebuilt;   /* per header: 1 when its receipts rebuilt its root */
    int rc;             /* CT_ENOMEM once memory ran out */
} checker;

int ct_verify__index_key(uint8_t key[9], size_t *len, uint64_t i)
{
    ct_rlp_writer w;

    ct_rlp_writer_init(&w, key, 9);
    ct_rlp_put_uint(&w, i);
    return ct_rlp_finish(&w, len);
}

int ct_verify__vc_slot(uint8_t slot[32], const ct_ledger *l, const uint8_t tag[32])
{
    ct_ledger_storage st;
    uint8_t pre[64];
    ct_u256 base, member, sum;
    int rc;

    if ((rc = ct_ledger_storage_member(l, &st, "containers", "host")) < 0)
        return rc;
    memcpy(pre, tag, 32);
    ct_u256_from_u64(&base, st.slot);
    memcpy(pre + 32, base.b, 32);
    ct_keccak256(base.b, pre, 64);
    ct_u256_from_u64(&member, st.member_slot);
    if (ct_u256_add(&sum, &base, &member) < 0)
        return ct_error_set(CT_ERANGE, "verify: the VC's slot overflows");
    memcpy(slot, sum.b, 32);
    return 0;
}

/* ---------------------------------------------------------------- problems */

/* Adds a problem. block and event are -1 when they do not apply; field,
 * claimed and proven may be NULL (claimed and proven are borrowed). */
static void problem(checker *ck, const char *kind, int64_t block, int64_t event, const char *field,
                    const json_t *claimed, const json_t *proven, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static void problem(checker *ck, const char *kind, int64_t block, int64_t event, const char *field,
                    const json_t *claimed, const json_t *proven, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *p;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p = json_pack("{s:s,s:s}", "kind", kind, "message", msg);
    if (p == NULL) {
        ck->rc = CT_ENOMEM;
        return;
    }
    if (block >= 0)
        json_object_set_new(p, "block", json_integer(block));
    if (event >= 0)
        json_object_set_new(p, "event", json_integer(event));
    if (field != NULL)
        json_object_set_new(p, "field", json_string(field));
    if (claimed != NULL)
        json_object_set(p, "claimed", (json_t *)claimed);
    if (proven != NULL)
        json_object_set(p, "proven", (json_t *)proven);
    if (json_array_append_new(ck->problems, p) < 0)
        ck->rc = CT_ENOMEM;
}

/* A JSON integer, or -1 for anything else. */
static json_int_t jint(const json_t *v)
{
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* Decodes a "0x" hex string of any length. Returns: bytes (malloc'd) or
 * NULL (not hex). */
static uint8_t *hex_of(size_t *len, const json_t *v)
{
    uint8_t *out;

    if (!json_is_string(v) || ct_hex_decode_new(&out, len, json_string_value(v)) < 0)
        return NULL;
    return out;
}

static bool hex_fixed(uint8_t *out, size_t want, const json_t *v)
{
    size_t len;
    uint8_t *b = hex_of(&len, v);
    bool ok = b != NULL && len == want;

    if (ok)
        memcpy(out, b, want);
    free(b);
    return ok;
}

/* Reads a list of hex strings into byte strings.
 * Out: *out (free with ct_trie_proof_free(*out, count), also for 0).
 * Returns: the count, or -1 (nothing to free) when it is not a list of
 * hex strings. */
static long bytes_list(ct_bytes **out, const json_t *arr)
{
    size_t n = json_array_size(arr), i;
    ct_bytes *b = calloc(n + 1, sizeof(*b));

    if (b == NULL || !json_is_array(arr)) {
        free(b);
        return -1;
    }
    for (i = 0; i < n; i++)
        if ((b[i].data = hex_of(&b[i].len, json_array_get(arr, i))) == NULL) {
            ct_trie_proof_free(b, i);
            return -1;
        }
    *out = b;
    return (long)n;
}

/* ---------------------------------------------------------------- headers */

static const ct_header *header_at(const checker *ck, uint64_t number)
{
    if (number < ck->from || number - ck->from >= ck->n_headers)
        return NULL;
    return &ck->headers[number - ck->from];
}

/* Decodes and links the headers; stops at the first that does not follow
 * (nothing after it is anchored to the head). */
static void check_headers(checker *ck)
{
    const json_t *list = json_object_get(ck->bundle, "headers");
    size_t n = json_array_size(list), len;

    if (n == 0) {
        problem(ck, "bundle", -1, -1, NULL, NULL, NULL, "the bundle has no headers");
        return;
    }
    if ((ck->headers = calloc(n, sizeof(*ck->headers))) == NULL) {
        ck->rc = CT_ENOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t want = ck->from + i;
        uint8_t *rlp = hex_of(&len, json_array_get(list, i));
        ct_header *h = &ck->headers[i];
        int rc = rlp != NULL ? ct_header_decode(h, rlp, len) : CT_EPARSE;
        free(rlp);
        if (rc < 0) {
            problem(ck, "header", (int64_t)want, -1, NULL, NULL, NULL,
                    "header %zu (block %" PRIu64 ") is not a block header", i, want);
            return;
        }
        if (h->number != want) {
            problem(ck, "header", (int64_t)want, -1, NULL, NULL, NULL,
                    "header %zu is block %" PRIu64 ", not %" PRIu64 ": the chain has a gap", i,
                    h->number, want);
            return;
        }
        if (i > 0 && memcmp(h->parent, ck->headers[i - 1].hash, 32) != 0) {
            problem(ck, "header", (int64_t)want, -1, NULL, NULL, NULL,
                    "block %" PRIu64 " does not name block %" PRIu64 " as its parent", want,
                    want - 1);
            return;
        }
        ck->n_headers = i + 1;
    }
}

/* The head: the last header, which must be the block the user trusts. */
static void check_head(checker *ck, const ct_verify_opts *opts)
{
    const json_t *head = json_object_get(ck->bundle, "head");
    const ct_header *last;
    uint8_t hash[32];
    size_t n = json_array_size(json_object_get(ck->bundle, "headers"));

    if (ck->n_headers != n || n == 0)
        return; /* the chain broke: reported already */
    last = &ck->headers[n - 1];
    if (!hex_fixed(hash, 32, json_object_get(head, "hash")) || memcmp(hash, last->hash, 32) != 0 ||
        jint(json_object_get(head, "number")) != (int64_t)last->number)
        problem(ck, "header", (int64_t)last->number, -1, NULL, NULL, NULL,
                "the bundle's head is not its last header (block %" PRIu64 ")", last->number);
    if (opts->trust_hash == NULL)
        return;
    if (opts->trust_number != last->number || memcmp(opts->trust_hash, last->hash, 32) != 0) {
        char want[67], got[67];
        ct_hex_encode(want, sizeof(want), opts->trust_hash, 32, true);
        ct_hex_encode(got, sizeof(got), last->hash, 32, true);
        problem(ck, "trust", (int64_t)last->number, -1, NULL, NULL, NULL,
                "the bundle ends at block %" PRIu64 " %s, not at the trusted block %" PRIu64 " %s",
                last->number, got, opts->trust_number, want);
    }
}

/* ---------------------------------------------------------------- receipts */

/* Adds the VC's events of one decoded receipt to proven. */
static void take_events(checker *ck, const ct_header *h, const json_t *receipt, size_t tx,
                        const json_t *tx_hash, uint64_t *log_index, bool *carries)
{
    const json_t *log;
    size_t i;

    json_array_foreach (json_object_get(receipt, "logs"), i, log) {
        uint64_t index = (*log_index)++;
        ct_address a;
        uint8_t t1[32];
        const char *name;
        json_t *args, *ev;
        if (ct_address_parse(&a, json_string_value(json_object_get(log, "address"))) < 0 ||
            memcmp(a.b, ck->contract.b, 20) != 0 ||
            !hex_fixed(t1, 32, json_array_get(json_object_get(log, "topics"), 1)) ||
            memcmp(t1, ck->tag, 32) != 0)
            continue;
        *carries = true;
        if (ct_store_decode_event(ck->dec, &name, &args, log) < 0) {
            problem(ck, "receipts", (int64_t)h->number, -1, NULL, NULL, NULL,
                    "block %" PRIu64 " log %" PRIu64 " names the VC but is no Federation event "
                    "(%s)",
                    h->number, index, ct_error_last());
            continue;
        }
        char addr[CT_ADDRESS_TEXT_SIZE];
        ct_address_format(addr, &a);
        ev = json_pack("{s:s,s:o,s:I,s:I,s:O,s:I,s:o,s:s,s:o}", "name", name, "args", args,
                       "log_index", (json_int_t)index, "tx_index", (json_int_t)tx, "tx_hash",
                       tx_hash != NULL ? tx_hash : json_null(), "block_number",
                       (json_int_t)h->number, "block_hash", ct_json_hex(h->hash, 32), "address",
                       addr, "created", ct_store_time_json((int64_t)h->time));
        if (ev == NULL || json_array_append_new(ck->proven, ev) < 0)
            ck->rc = CT_ENOMEM;
    }
}

/* Checks one inclusion proof against the block's receipts root. */
static void check_proof(checker *ck, const ct_header *h, const json_t *p, const ct_bytes *receipts,
                        size_t n_receipts)
{
    json_int_t index = jint(json_object_get(p, "index"));
    uint8_t key[9];
    size_t klen, vlen;
    const uint8_t *val;
    ct_bytes *nodes = NULL;
    long n = bytes_list(&nodes, json_object_get(p, "nodes"));
    int rc;

    if (n < 0 || index < 0 || (size_t)index >= n_receipts) {
        problem(ck, "proof", (int64_t)h->number, -1, NULL, NULL, NULL,
                "block %" PRIu64 ": a malformed inclusion proof", h->number);
        if (n >= 0)
            ct_trie_proof_free(nodes, (size_t)n);
        return;
    }
    ct_verify__index_key(key, &klen, (uint64_t)index);
    rc = ct_trie_verify(&val, &vlen, h->receipts_root, key, klen, nodes, (size_t)n);
    if (rc < 0)
        problem(ck, "proof", (int64_t)h->number, -1, NULL, NULL, NULL,
                "block %" PRIu64 " receipt %" JSON_INTEGER_FORMAT ": the inclusion proof fails "
                "(%s)",
                h->number, index,
                rc == CT_ENOTFOUND ? "it proves the receipt absent" : ct_error_last());
    else if (vlen != receipts[index].len || memcmp(val, receipts[index].data, vlen) != 0)
        problem(ck, "proof", (int64_t)h->number, -1, NULL, NULL, NULL,
                "block %" PRIu64 " receipt %" JSON_INTEGER_FORMAT ": the inclusion proof holds "
                "another receipt",
                h->number, index);
    ct_trie_proof_free(nodes, (size_t)n);
}

/* Whether proofs holds an inclusion proof of receipt index. */
static bool has_proof(const json_t *proofs, size_t index)
{
    const json_t *p;
    size_t i;

    json_array_foreach (proofs, i, p)
        if (jint(json_object_get(p, "index")) == (json_int_t)index)
            return true;
    return false;
}

/* The block's transaction hashes: keccak of each raw transaction when the
 * bundle has them and they rebuild the header's transactionsRoot (proven),
 * else the node's list. Returns: a new array. */
static json_t *tx_hashes(checker *ck, const json_t *b, const ct_header *h, size_t n_receipts)
{
    const json_t *raw = json_object_get(b, "transactions");
    ct_bytes *txs = NULL;
    long n = raw != NULL ? bytes_list(&txs, raw) : -1;
    json_t *out = json_array();
    uint8_t key[9], root[32], hash[32];
    ct_trie *trie = NULL;
    size_t klen, i;

    if (raw == NULL) {
        ck->tx_unproven++;
        json_decref(out);
        return json_deep_copy(json_object_get(b, "tx_hashes"));
    }
    if (n < 0 || (size_t)n != n_receipts || ct_trie_new(&trie) < 0) {
        problem(ck, "transactions", (int64_t)h->number, -1, NULL, NULL, NULL,
                "block %" PRIu64 ": the transactions are not one per receipt", h->number);
        goto done;
    }
    for (i = 0; i < (size_t)n; i++) {
        ct_verify__index_key(key, &klen, i);
        if (txs[i].len == 0 || ct_trie_put(trie, key, klen, txs[i].data, txs[i].len) < 0)
            break;
        ct_keccak256(hash, txs[i].data, txs[i].len);
        json_array_append_new(out, ct_json_hex(hash, 32));
    }
    if (i < (size_t)n || ct_trie_root(trie, root) < 0 || memcmp(root, h->tx_root, 32) != 0) {
        problem(ck, "transactions", (int64_t)h->number, -1, NULL, NULL, NULL,
                "block %" PRIu64 ": the transactions do not rebuild the header's "
                "transactionsRoot",
                h->number);
        json_array_clear(out);
    }
done:
    if (n >= 0)
        ct_trie_proof_free(txs, (size_t)n);
    ct_trie_free(trie);
    return out;
}

/* Rebuilds one block's receipts trie and takes the VC's events from it. */
static void check_block(checker *ck, const json_t *b, uint64_t number)
{
    const ct_header *h = header_at(ck, number);
    const json_t *proofs = json_object_get(b, "proofs"), *p;
    json_t *hashes = NULL;
    ct_bytes *receipts = NULL;
    long n = bytes_list(&receipts, json_object_get(b, "receipts"));
    uint8_t key[9], root[32];
    uint64_t log_index = 0;
    ct_trie *trie = NULL;
    size_t klen, i;

    if (n < 0 || ct_trie_new(&trie) < 0) {
        problem(ck, "bundle", (int64_t)number, -1, NULL, NULL, NULL,
                "block %" PRIu64 ": receipts are not a list of hex strings", number);
        goto done;
    }
    for (i = 0; i < (size_t)n; i++) {
        ct_verify__index_key(key, &klen, i);
        if (receipts[i].len == 0 ||
            ct_trie_put(trie, key, klen, receipts[i].data, receipts[i].len) < 0)
            break;
    }
    if (i < (size_t)n || ct_trie_root(trie, root) < 0 || memcmp(root, h->receipts_root, 32) != 0) {
        problem(ck, "receipts", (int64_t)number, -1, NULL, NULL, NULL,
                "block %" PRIu64 ": the receipts do not rebuild the header's receiptsRoot", number);
        goto done;
    }
    ck->with_receipts++;
    ck->rebuilt[number - ck->from] = 1;
    hashes = tx_hashes(ck, b, h, (size_t)n);
    for (i = 0; i < (size_t)n; i++) {
        json_t *r;
        bool carries = false;
        if (ct_receipt_decode(&r, receipts[i].data, receipts[i].len) < 0) {
            problem(ck, "receipts", (int64_t)number, -1, NULL, NULL, NULL,
                    "block %" PRIu64 " receipt %zu is not a receipt", number, i);
            continue;
        }
        take_events(ck, h, r, i, json_array_get(hashes, i), &log_index, &carries);
        json_decref(r);
        if (carries && !has_proof(proofs, i))
            problem(ck, "proof", (int64_t)number, -1, NULL, NULL, NULL,
                    "block %" PRIu64 " receipt %zu carries the VC's events but has no inclusion "
                    "proof",
                    number, i);
    }
    json_array_foreach (proofs, i, p)
        check_proof(ck, h, p, receipts, (size_t)n);
done:
    json_decref(hashes);
    if (n >= 0)
        ct_trie_proof_free(receipts, (size_t)n);
    ct_trie_free(trie);
}

/* Every block with receipts, and the blooms of all others. */
static void check_blocks(checker *ck)
{
    const json_t *blocks = json_object_get(ck->bundle, "blocks"), *b;
    uint8_t *listed = calloc(ck->n_headers + 1, 1);
    uint64_t last = 0;
    size_t i;

    ck->rebuilt = calloc(ck->n_headers + 1, 1);
    if (listed == NULL || ck->rebuilt == NULL) {
        free(listed);
        ck->rc = CT_ENOMEM;
        return;
    }
    json_array_foreach (blocks, i, b) {
        json_int_t number = jint(json_object_get(b, "number"));
        if (number < 0 || header_at(ck, (uint64_t)number) == NULL ||
            (i > 0 && (uint64_t)number <= last)) {
            problem(ck, "bundle", number, -1, NULL, NULL, NULL,
                    "blocks[%zu] (%" JSON_INTEGER_FORMAT ") is out of order or outside the "
                    "anchored headers",
                    i, number);
            continue;
        }
        last = (uint64_t)number;
        listed[(uint64_t)number - ck->from] = 1;
        check_block(ck, b, (uint64_t)number);
    }
    for (i = 0; i < ck->n_headers; i++) {
        const ct_header *h = &ck->headers[i];
        if (!listed[i] && ct_bloom_may_contain(h->bloom, ck->contract.b, 20) &&
            ct_bloom_may_contain(h->bloom, ck->tag, 32))
            problem(ck, "bloom", (int64_t)h->number, -1, NULL, NULL, NULL,
                    "block %" PRIu64 "'s bloom may hold the VC's events but its receipts are not "
                    "in the bundle",
                    h->number);
    }
    free(listed);
}

/* ---------------------------------------------------------------- state */

/* Reads member's bytes of the VC's slot value (big-endian, 32 bytes). */
static int slot_member(uint8_t *out, unsigned *size, const checker *ck, const uint8_t value[32],
                       const char *member)
{
    ct_ledger_storage st;
    int rc = ct_ledger_storage_member(ck->l, &st, "containers", member);

    if (rc < 0)
        return rc;
    if (st.member_slot != 0 || st.offset + st.size > 32 || st.size > 32)
        return ct_error_set(CT_EPARSE, "verify: Container.%s is not in the VC's first slot",
                            member);
    memcpy(out, value + 32 - st.offset - st.size, st.size);
    *size = st.size;
    return 0;
}

/* The slot's fields: {"host", "created", "available", "retired"}. */
static json_t *slot_json(const checker *ck, const uint8_t value[32])
{
    uint8_t host[32], created[32], avail[32], retired[32];
    unsigned hs, cs, as, rs;
    ct_address a;
    char addr[CT_ADDRESS_TEXT_SIZE];
    uint64_t t = 0;

    if (slot_member(host, &hs, ck, value, "host") < 0 ||
        slot_member(created, &cs, ck, value, "created") < 0 ||
        slot_member(avail, &as, ck, value, "available") < 0 ||
        slot_member(retired, &rs, ck, value, "retired") < 0 || hs != 20 || cs > 8)
        return NULL;
    memcpy(a.b, host, 20);
    ct_address_format(addr, &a);
    for (unsigned i = 0; i < cs; i++)
        t = t << 8 | created[i];
    return json_pack("{s:s,s:I,s:b,s:b}", "host", addr, "created", (json_int_t)t, "available",
                     avail[as - 1] != 0, "retired", retired[rs - 1] != 0);
}

/* Checks an account proof, then the storage proof of the VC's slot. */
static void check_state(checker *ck)
{
    const json_t *state = json_object_get(ck->bundle, "state");
    const ct_header *head = ck->n_headers > 0 ? &ck->headers[ck->n_headers - 1] : NULL;
    ct_bytes *acct = NULL, *stor = NULL;
    long na = -1, ns = -1;
    uint8_t key[32], slot[32], want_slot[32], value[32] = {0};
    const uint8_t *v;
    size_t vlen;
    ct_rlp_item list, f[4];
    ct_rlp_iter it;
    int rc, k = 0;

    if (!json_is_object(state) || head == NULL ||
        json_array_size(json_object_get(ck->bundle, "headers")) != ck->n_headers)
        return;
    if (!hex_fixed(slot, 32, json_object_get(state, "slot")) ||
        ct_verify__vc_slot(want_slot, ck->l, ck->tag) < 0 || memcmp(slot, want_slot, 32) != 0) {
        problem(ck, "state", (int64_t)head->number, -1, NULL, NULL, NULL,
                "the state proof is not for the VC's slot");
        return;
    }
    na = bytes_list(&acct, json_object_get(state, "account"));
    ns = bytes_list(&stor, json_object_get(state, "storage"));
    ct_keccak256(key, ck->contract.b, 20);
    rc =
        na < 0 ? CT_EPARSE : ct_trie_verify(&v, &vlen, head->state_root, key, 32, acct, (size_t)na);
    if (rc == 0 && ct_rlp_decode(&list, v, vlen) == 0 && list.is_list) {
        ct_rlp_iter_init(&it, &list);
        while (k < 4 && ct_rlp_iter_next(&it, &f[k]) == 1)
            k++;
    }
    if (rc < 0 || k != 4 || f[2].is_list || f[2].len != 32) {
        problem(ck, "state", (int64_t)head->number, -1, NULL, NULL, NULL,
                "the account proof of the Federation fails against block %" PRIu64
                "'s stateRoot (%s)",
                head->number, rc == CT_ENOTFOUND ? "no such account" : ct_error_last());
        goto done;
    }
    ct_keccak256(key, slot, 32);
    rc = ns < 0 ? CT_EPARSE : ct_trie_verify(&v, &vlen, f[2].data, key, 32, stor, (size_t)ns);
    if (rc == 0 && (ct_rlp_decode(&list, v, vlen) < 0 || list.is_list || list.len > 32))
        rc = ct_error_set(CT_EPARSE, "the slot value is not an RLP string of 32 bytes at most");
    if (rc < 0 && rc != CT_ENOTFOUND) {
        problem(ck, "state", (int64_t)head->number, -1, NULL, NULL, NULL,
                "the storage proof of the VC's slot fails (%s)", ct_error_last());
        goto done;
    }
    if (rc == 0)
        memcpy(value + 32 - list.len, list.data, list.len);
    if ((ck->state = slot_json(ck, value)) == NULL)
        ck->rc = CT_ENOMEM;
    else if (rc == CT_ENOTFOUND)
        problem(ck, "state", (int64_t)head->number, -1, NULL, NULL, NULL,
                "the chain's state at block %" PRIu64 " holds no such VC", head->number);
done:
    if (na >= 0)
        ct_trie_proof_free(acct, (size_t)na);
    if (ns >= 0)
        ct_trie_proof_free(stor, (size_t)ns);
}

/* ---------------------------------------------------------------- claims */

/* The event of proven at (block, log), or NULL. proven is in chain order,
 * strictly ascending by (block, log): check_blocks skips a block listed
 * out of order, and a block's logs are numbered as they come. So a
 * binary search finds it (a history of n events is matched in
 * O(n log n), not O(n^2)). */
static json_t *proven_at(const checker *ck, json_int_t block, json_int_t log, size_t *index)
{
    size_t lo = 0, hi = json_array_size(ck->proven);
    json_t *e;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        json_int_t b, l;
        e = json_array_get(ck->proven, mid);
        b = jint(json_object_get(e, "block_number"));
        l = jint(json_object_get(e, "log_index"));
        if (b < block || (b == block && l < log))
            lo = mid + 1;
        else
            hi = mid;
    }
    e = json_array_get(ck->proven, lo);
    if (e == NULL || jint(json_object_get(e, "block_number")) != block ||
        jint(json_object_get(e, "log_index")) != log)
        return NULL;
    *index = lo;
    return e;
}

/* Whether two JSON values name the same thing: addresses in any case. */
static bool same_value(const char *field, const json_t *a, const json_t *b)
{
    ct_address x, y;

    if (strcmp(field, "address") == 0 && json_is_string(a) && json_is_string(b) &&
        ct_address_parse(&x, json_string_value(a)) == 0 &&
        ct_address_parse(&y, json_string_value(b)) == 0)
        return memcmp(x.b, y.b, 20) == 0;
    if (json_is_string(a) && json_is_string(b) && strcmp(field, "name") != 0 &&
        strcmp(field, "created") != 0)
        return strcasecmp(json_string_value(a), json_string_value(b)) == 0;
    return json_equal(a, b);
}

/* Names one differing field with both values in the message. */
static void field_problem(checker *ck, size_t i, const json_t *proven, const char *field,
                          const json_t *c, const json_t *p)
{
    char *cs = c != NULL ? ct_json_dumps(c, JSON_COMPACT) : NULL;
    char *ps = ct_json_dumps(p, JSON_COMPACT);

    problem(ck, "field", jint(json_object_get(proven, "block_number")), (int64_t)i, field, c, p,
            "history[%zu] (block %" JSON_INTEGER_FORMAT " log %" JSON_INTEGER_FORMAT
            ", %s): %s is %s in the history, %s on the chain",
            i, jint(json_object_get(proven, "block_number")),
            jint(json_object_get(proven, "log_index")),
            json_string_value(json_object_get(proven, "name")), field, cs != NULL ? cs : "missing",
            ps != NULL ? ps : "?");
    free(cs);
    free(ps);
}

/* The args object key by key, so a problem names the argument. */
static void compare_args(checker *ck, size_t i, const json_t *claimed, const json_t *proven)
{
    const json_t *c = json_object_get(claimed, "args"), *p = json_object_get(proven, "args"), *v;
    const char *key;
    char field[96];

    if (!json_is_object(c)) {
        field_problem(ck, i, proven, "args", c, p);
        return;
    }
    json_object_foreach ((json_t *)p, key, v)
        if (json_object_get(c, key) == NULL || !json_equal(json_object_get(c, key), v)) {
            snprintf(field, sizeof(field), "args.%s", key);
            field_problem(ck, i, proven, field, json_object_get(c, key), v);
        }
    json_object_foreach ((json_t *)c, key, v)
        if (json_object_get(p, key) == NULL) {
            snprintf(field, sizeof(field), "args.%s", key);
            field_problem(ck, i, proven, field, v, json_null());
        }
}

static void compare_event(checker *ck, size_t i, const json_t *claimed, const json_t *proven)
{
    static const char *const fields[] = {"name",       "tx_index", "tx_hash",
                                         "block_hash", "address",  "created"};

    compare_args(ck, i, claimed, proven);
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        const json_t *c = json_object_get(claimed, fields[f]),
                     *p = json_object_get(proven, fields[f]);
        if (json_is_null(p))
            continue; /* not in the bundle (a tx hash the node did not give) */
        if (c == NULL || !same_value(fields[f], c, p))
            field_problem(ck, i, proven, fields[f], c, p);
    }
}

static void check_history(checker *ck)
{
    const json_t *history = json_object_get(ck->bundle, "history"), *c;
    uint64_t head = ck->n_headers > 0 ? ck->headers[ck->n_headers - 1].number : 0;
    uint8_t *matched = calloc(json_array_size(ck->proven) + 1, 1);
    json_int_t prev_b = -1, prev_l = -1;
    size_t i, at;

    if (matched == NULL) {
        ck->rc = CT_ENOMEM;
        return;
    }
    if (!json_is_array(history))
        problem(ck, "bundle", -1, -1, NULL, NULL, NULL, "the bundle claims no history");
    json_array_foreach (history, i, c) {
        json_int_t b = jint(json_object_get(c, "block_number"));
        json_int_t l = jint(json_object_get(c, "log_index"));
        const char *name = json_string_value(json_object_get(c, "name"));
        json_t *p = proven_at(ck, b, l, &at);
        if (b < prev_b || (b == prev_b && l <= prev_l))
            problem(ck, "order", b, (int64_t)i, NULL, NULL, NULL,
                    "history[%zu] (block %" JSON_INTEGER_FORMAT " log %" JSON_INTEGER_FORMAT
                    ") comes after block %" JSON_INTEGER_FORMAT " log %" JSON_INTEGER_FORMAT
                    ": out of chain order",
                    i, b, l, prev_b, prev_l);
        prev_b = b;
        prev_l = l;
        if ((p == NULL || matched[at]) && b >= (json_int_t)ck->from && b <= (json_int_t)head &&
            ck->rebuilt != NULL && !ck->rebuilt[b - (json_int_t)ck->from]) {
            problem(ck, "unproven", b, (int64_t)i, NULL, c, NULL,
                    "history[%zu] (%s in block %" JSON_INTEGER_FORMAT ") cannot be checked: the "
                    "bundle lacks that block's receipts",
                    i, name != NULL ? name : "?", b);
            continue;
        }
        if ((p == NULL || matched[at]) && b > (json_int_t)head) {
            problem(ck, "ahead", b, (int64_t)i, NULL, c, NULL,
                    "history[%zu] (%s in block %" JSON_INTEGER_FORMAT
                    ") is after the verified head (block %" PRIu64
                    "): check again when the node has that block",
                    i, name != NULL ? name : "?", b, head);
            continue;
        }
        if (p == NULL || matched[at]) {
            problem(ck, "forged", b, (int64_t)i, NULL, c, NULL,
                    "history[%zu] (%s in block %" JSON_INTEGER_FORMAT " log %" JSON_INTEGER_FORMAT
                    ") is not on the chain",
                    i, name != NULL ? name : "?", b, l);
            continue;
        }
        matched[at] = 1;
        compare_event(ck, i, c, p);
    }
    json_array_foreach (ck->proven, i, c)
        if (!matched[i])
            problem(ck, "missing", jint(json_object_get(c, "block_number")), -1, NULL, NULL, c,
                    "%s in block %" JSON_INTEGER_FORMAT " log %" JSON_INTEGER_FORMAT
                    " is on the chain but not in the history",
                    json_string_value(json_object_get(c, "name")),
                    jint(json_object_get(c, "block_number")),
                    jint(json_object_get(c, "log_index")));
    free(matched);
}

/* The claimed details against the proven slot. */
static void check_details(checker *ck)
{
    static const char *const fields[] = {"host", "available", "retired"};
    const json_t *details = json_object_get(ck->bundle, "details");

    if (!json_is_object(details) || ck->state == NULL)
        return;
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        const json_t *c = json_object_get(details, fields[f]),
                     *p = json_object_get(ck->state, fields[f]);
        if (c == NULL || !same_value(f == 0 ? "address" : fields[f], c, p))
            problem(ck, "details", -1, -1, fields[f], c, p,
                    "details: %s differs from the chain's state", fields[f]);
    }
}

/* ---------------------------------------------------------------- report */

static void check_identity(checker *ck, const ct_verify_opts *opts)
{
    const char *format = json_string_value(json_object_get(ck->bundle, "format"));
    const char *contract = json_string_value(json_object_get(ck->bundle, "contract"));
    json_int_t from = jint(json_object_get(ck->bundle, "from"));

    if (format == NULL || strcmp(format, CT_VERIFY_FORMAT) != 0)
        problem(ck, "bundle", -1, -1, "format", NULL, NULL, "the bundle's format is not %s",
                CT_VERIFY_FORMAT);
    if (contract == NULL || ct_address_parse(&ck->contract, contract) < 0)
        problem(ck, "bundle", -1, -1, "contract", NULL, NULL, "the bundle names no contract");
    else if (opts->contract != NULL && memcmp(opts->contract->b, ck->contract.b, 20) != 0)
        problem(ck, "trust", -1, -1, "contract", NULL, NULL,
                "the bundle is about contract %s, not the Federation given", contract);
    if (!hex_fixed(ck->tag, 32, json_object_get(ck->bundle, "tag")))
        problem(ck, "bundle", -1, -1, "tag", NULL, NULL, "the bundle names no VC tag");
    if (from < 0)
        problem(ck, "bundle", -1, -1, "from", NULL, NULL, "the bundle has no first block");
    ck->from = from < 0 ? 0 : (uint64_t)from;
}

/* The first proven event must be the VC's registration: the contract
 * records nothing about a VC before it, so the headers from "from" on,
 * all of them checked, cover its whole life. */
static void check_start(checker *ck)
{
    const json_t *first = json_array_get(ck->proven, 0);
    const char *name = json_string_value(json_object_get(first, "name"));

    if (ck->n_headers == 0)
        return;
    if (name == NULL || strcmp(name, "ContainerRegistered") != 0)
        problem(ck, "bundle", (int64_t)ck->from, -1, NULL, NULL, NULL,
                "the bundle's blocks from %" PRIu64 " on do not start with the VC's registration",
                ck->from);
}

static int build_report(json_t **report, checker *ck)
{
    const ct_header *last = ck->n_headers > 0 ? &ck->headers[ck->n_headers - 1] : NULL;
    const json_t *contract = json_object_get(ck->bundle, "contract");
    char tag[67];
    json_t *r;

    ct_hex_encode(tag, sizeof(tag), ck->tag, 32, true);
    r = json_pack("{s:b,s:s,s:O,s:I}", "ok", json_array_size(ck->problems) == 0, "tag", tag,
                  "contract", contract != NULL ? (json_t *)contract : json_null(), "from",
                  (json_int_t)ck->from);
    if (r == NULL)
        return ct_error_set(CT_ENOMEM, "verify: out of memory");
    json_object_set_new(r, "head",
                        last != NULL ? json_integer((json_int_t)last->number) : json_null());
    json_object_set_new(r, "head_hash", last != NULL ? ct_json_hex(last->hash, 32) : json_null());
    json_object_set_new(r, "blocks", json_integer((json_int_t)ck->n_headers));
    json_object_set_new(r, "blocks_with_receipts", json_integer((json_int_t)ck->with_receipts));
    json_object_set_new(r, "tx_hashes_proven", json_boolean(ck->tx_unproven == 0));
    json_object_set_new(r, "events", json_integer((json_int_t)json_array_size(ck->proven)));
    json_object_set_new(
        r, "claimed",
        json_integer((json_int_t)json_array_size(json_object_get(ck->bundle, "history"))));
    json_object_set(r, "state", ck->state != NULL ? ck->state : json_null());
    json_object_set(r, "problems", ck->problems);
    *report = r;
    return 0;
}

int ct_verify_check(json_t **report, const ct_store_decoder *dec, const ct_ledger *l,
                    const json_t *bundle, const ct_verify_opts *opts)
{
    static const ct_verify_opts none = {0};
    checker ck = {.dec = dec, .l = l, .bundle = bundle};
    int rc;

    opts = opts != NULL ? opts : &none;
    ck.problems = json_array();
    ck.proven = json_array();
    if (ck.problems == NULL || ck.proven == NULL) {
        rc = ct_error_set(CT_ENOMEM, "verify: out of memory");
        goto done;
    }
    if (!json_is_object(bundle)) {
        problem(&ck, "bundle", -1, -1, NULL, NULL, NULL, "the bundle is not a JSON object");
    } else {
        check_identity(&ck, opts);
        if (json_array_size(ck.problems) == 0) {
            check_headers(&ck);
            check_head(&ck, opts);
            check_blocks(&ck);
            check_start(&ck);
            check_state(&ck);
            check_history(&ck);
            check_details(&ck);
        }
    }
    rc = ck.rc < 0 ? ct_error_set(CT_ENOMEM, "verify: out of memory") : build_report(report, &ck);
done:
    free(ck.headers);
    free(ck.rebuilt);
    json_decref(ck.problems);
    json_decref(ck.proven);
    json_decref(ck.state);
    return rc;
}
