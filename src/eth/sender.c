/* The nonce-owning sender: signs one account's transactions and sends them
 * strictly in nonce order (Hardhat automine rejects gaps), re-reading the
 * pending nonce after restarts and refusals, and treating Hardhat's
 * "reverted" send error as a mined, failed transaction. With an outbox,
 * keeps every transaction it signed until the chain has it (outbox.c). */
#include "eth_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SENDER_GAS_CACHE 64
#define SENDER_CODE_CACHE 8
/* Gas added to every estimate beyond its quarter: two storage slots
 * written for the first time (2 x 22,100), which an estimate misses when
 * the block it runs on takes another branch than the block that mines the
 * transaction. The Federation's changeAvailability is one: estimated in
 * the second of the VC's last change it only flips a flag (29k gas), mined
 * in the next second it records a new downtime checkpoint (75k). Unused
 * gas is not paid for. */
#define SENDER_GAS_SLACK 45000

struct ct_sender {
    pthread_mutex_t mu; /* held while a transaction gets its nonce and is sent */
    ct_rpc *rpc;        /* used under mu only */
    char *url;
    uint8_t key[CT_SECKEY_SIZE];
    ct_address addr;
    uint64_t chain_id;
    uint64_t nonce; /* next nonce to use */
    ct_sender_opts opts;
    bool mines_on_send; /* the node executes a send before answering it */
    bool legacy;        /* type 0: asked for, or the node has no EIP-1559 fee RPC */
    /* The block a preflight eth_call runs on: "pending", or "latest" where
     * the node refuses "pending". Under mu. */
    const char *call_tag;
    bool estimate_unchecked; /* eth_estimateGas does not fail on a revert */
    /* The node's "pending" nonce counts its pool (anvil, Hardhat): only
     * then do check_nonce and ct_sender_sync lower the sender's to it. */
    bool pending_counts_pool;
    /* The head block the node at head_origin was last seen at, and when
     * (head_seen), under head_mu. */
    pthread_mutex_t head_mu;
    uint64_t known_head;
    int64_t head_at_ms;
    char head_origin[256];
    /* The node the last transaction went to (ct_rpc_origin), under mu. */
    char sent_origin[256];
    /* Fees of the last query, reused for FEE_CACHE_MS: max fee is twice
     * the base fee plus the tip, which stays valid for several blocks of
     * the largest base-fee rises EIP-1559 allows. */
    int64_t fees_at_ms;
    ct_u256 gas_price, tip, max_fee;
    /* Targets whose code the node at code_origin has shown (check_code),
     * round robin; forgotten when the sender fails over to another node,
     * which may not have seen the deployment yet. */
    ct_address code_seen[SENDER_CODE_CACHE];
    size_t n_code_seen;
    char code_origin[256];
    /* Gas limits of recent call shapes (see pick_gas). */
    uint64_t gas_keys[SENDER_GAS_CACHE];
    uint64_t gas_limits[SENDER_GAS_CACHE];
    ct_eth__outbox *outbox; /* NULL: none; used under mu */
    pthread_t sweeper;      /* runs while outbox != NULL */
    pthread_cond_t stop_cv; /* wakes the sweeper to stop, with mu */
    char origin[256];       /* the node the last sweep used (under mu) */
    bool stopping;          /* under mu */
};

/* How often the outbox is swept, and how long an entry stays after the
 * chain has passed its nonce (so it can be re-sent if the node loses it). */
#define SWEEP_MS 2000
#define RESEND_QUIET_MS 10000
#define OUTBOX_KEEP_MS 60000

#define FEE_CACHE_MS 1000
/* A head block seen on a node stands for this long (a node can come back
 * behind it after a restart, or a shorter branch win), and min_block
 * waits ask again this often. */
#define HEAD_KEEP_MS 1000
#define HEAD_POLL_MS 200

static void opts_default(ct_sender_opts *o, const ct_sender_opts *given)
{
    if (given != NULL)
        *o = *given;
    else
        memset(o, 0, sizeof(*o));
    if (o->timeout_ms <= 0)
        o->timeout_ms = 30000;
    if (o->receipt_timeout_ms <= 0)
        o->receipt_timeout_ms = 120000;
    if (o->poll_ms <= 0)
        o->poll_ms = 50;
    if (o->behind_wait_ms <= 0)
        o->behind_wait_ms = 10000;
}

/* What the sender must know of its node, asked once by name
 * (web3_clientVersion):
 * - Hardhat with automine executes a send before answering it and reports
 *   a revert as the send's error. anvil answers hardhat_getAutomine too,
 *   but reports nothing at send time (a reverted transaction is only a
 *   receipt with status 0), so the client is named.
 * - EthereumJS (the PoA network) refuses "pending" in eth_call, and its
 *   eth_estimateGas answers for a call that reverts: every send is checked
 *   with an eth_call on "latest" (see preflight).
 * - anvil and Hardhat count their pool in the "pending" nonce; other
 *   nodes, or a node that did not say its name, are not trusted to (see
 *   check_nonce). */
static void node_profile(ct_sender *s)
{
    json_t *result = NULL, *version = NULL;
    const char *name = NULL;

    s->call_tag = "pending";
    if (ct_rpc_call(s->rpc, &version, "web3_clientVersion", NULL) == 0)
        name = json_string_value(version);
    if (name != NULL && strncmp(name, "HardhatNetwork/", 15) == 0)
        s->mines_on_send =
            ct_rpc_call(s->rpc, &result, "hardhat_getAutomine", NULL) == 0 && json_is_true(result);
    if (name != NULL && strncmp(name, "EthereumJS/", 11) == 0) {
        s->call_tag = "latest";
        s->estimate_unchecked = true;
    }
    s->pending_counts_pool = name != NULL && (strncmp(name, "anvil/", 6) == 0 ||
                                              strncmp(name, "HardhatNetwork/", 15) == 0);
    json_decref(version);
    json_decref(result);
    ct_error_clear();
}

/* Whether the node can price an EIP-1559 transaction: it answers
 * eth_maxPriorityFeePerGas and its latest block has a base fee. Where it
 * cannot (EthereumJS 0.10 has no such method; pre-London chains), the
 * sender sends legacy transactions priced by eth_gasPrice, which every
 * chain accepts. */
static bool has_1559_fees(ct_rpc *rpc)
{
    json_t *block = NULL;
    ct_u256 tip;
    bool yes = ct_rpc_max_priority_fee(rpc, &tip) == 0 &&
               ct_rpc_get_block_by_number(rpc, &block, "latest", false) == 0 &&
               json_object_get(block, "baseFeePerGas") != NULL;

    json_decref(block);
    ct_error_clear();
    return yes;
}

/* ---------------------------------------------------------------- outbox */

static int resend_raw(const uint8_t *raw, size_t len, void *payload)
{
    ct_sender *s = payload;
    uint8_t hash[32];
    int rc = ct_rpc_send_raw(s->rpc, hash, raw, len);

    return rc == CT_EREVERT ? 0 : rc; /* Hardhat: mined, and failed */
}

/* One sweep, under s->mu: re-sends what the chain lacks and was last sent
 * quiet_ms ago or more. */
static int sweep_locked(ct_sender *s, size_t *resent, int64_t quiet_ms)
{
    uint64_t chain_nonce;
    int rc;

    *resent = 0;
    if (s->outbox == NULL)
        return 0;
    if ((rc = ct_rpc_get_tx_count(s->rpc, &chain_nonce, &s->addr, "latest")) < 0 ||
        (rc = ct_eth__outbox_sweep(s->outbox, chain_nonce, OUTBOX_KEEP_MS, quiet_ms, resend_raw, s,
                                   resent)) < 0)
        return rc;
    if (*resent > 0 && chain_nonce < ct_eth__outbox_next_nonce(s->outbox))
        ct_log(CT_LOG_INFO,
               "sender: the chain is at nonce %llu; sent the %zu transaction(s) "
               "after it again from the outbox",
               (unsigned long long)chain_nonce, *resent);
    return 0;
}

int ct_sender_sweep(ct_sender *s, size_t *resent)
{
    size_t n = 0;
    int rc;

    pthread_mutex_lock(&s->mu);
    rc = sweep_locked(s, &n, 0);
    pthread_mutex_unlock(&s->mu);
    if (resent != NULL)
        *resent = n;
    return rc;
}

static int check_nonce(ct_sender *s);

/* What a sync re-sends at once from the outbox: entries sent this long
 * ago or more (newer ones are likely in the node's pool still). */
#define SYNC_QUIET_MS 2000
#define SYNC_POLL_MS 200

int ct_sender_sync(ct_sender *s, int timeout_ms)
{
    int64_t until = ct_time_mono_ms() + timeout_ms;
    uint64_t want;

    pthread_mutex_lock(&s->mu);
    want = s->nonce;
    pthread_mutex_unlock(&s->mu);
    for (;;) {
        uint64_t chain = 0;
        size_t resent;
        int rc;

        pthread_mutex_lock(&s->mu);
        rc = ct_rpc_get_tx_count(s->rpc, &chain, &s->addr, "latest");
        if (rc == 0 && chain < want && s->outbox != NULL)
            rc = sweep_locked(s, &resent, SYNC_QUIET_MS);
        else if (rc == 0 && chain < want && (rc = check_nonce(s)) == 0 && s->nonce < want)
            want = s->nonce; /* lost, and nothing to send them again from */
        pthread_mutex_unlock(&s->mu);
        if (rc < 0)
            return rc;
        if (chain >= want)
            return 0;
        if (ct_time_mono_ms() >= until)
            return ct_error_set(CT_ETIMEOUT,
                                "sender: the chain has this account's transactions up to nonce "
                                "%llu, not those sent after it (to %llu)",
                                (unsigned long long)chain, (unsigned long long)want - 1);
        ct_sleep_ms(SYNC_POLL_MS);
    }
}

static void *sweeper_main(void *arg)
{
    ct_sender *s = arg;
    struct timespec until;
    size_t n;

    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += SWEEP_MS / 1000;
        pthread_cond_timedwait(&s->stop_cv, &s->mu, &until);
        /* What was sent to the node in use moments ago is in its pool:
         * re-sent once quiet for RESEND_QUIET_MS, or at once after a
         * failover to another node. */
        const char *origin = ct_rpc_origin(s->rpc);
        bool moved = strcmp(origin, s->origin) != 0;
        snprintf(s->origin, sizeof(s->origin), "%s", origin);
        if (!s->stopping && sweep_locked(s, &n, moved ? 0 : RESEND_QUIET_MS) < 0)
            ct_log(CT_LOG_DEBUG, "sender: outbox sweep: %s", ct_error_last());
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Opens the outbox for this chain (named by its genesis block), re-sends
 * what the chain lacks, and starts the sweeping thread. */
static int outbox_start(ct_sender *s)
{
    json_t *genesis = NULL;
    uint8_t hash[32];
    size_t len = 0, n;
    const char *h;
    int rc;

    if ((rc = ct_rpc_get_block_by_number(s->rpc, &genesis, "0x0", false)) < 0)
        return rc;
    h = json_string_value(json_object_get(genesis, "hash"));
    if (h == NULL || ct_hex_decode(hash, 32, &len, h, strlen(h)) < 0 || len != 32)
        rc = ct_error_set(CT_EPARSE, "sender: the genesis block has no hash");
    json_decref(genesis);
    if (rc < 0 || (rc = ct_eth__outbox_open(&s->outbox, s->opts.outbox_path, hash, &s->addr)) < 0)
        return rc;
    if (ct_eth__outbox_next_nonce(s->outbox) > s->nonce)
        s->nonce = ct_eth__outbox_next_nonce(s->outbox);
    snprintf(s->origin, sizeof(s->origin), "%s", ct_rpc_origin(s->rpc));
    if ((rc = sweep_locked(s, &n, 0)) < 0)
        return rc;
    if (pthread_create(&s->sweeper, NULL, sweeper_main, s) != 0) {
        ct_eth__outbox_free(s->outbox);
        s->outbox = NULL;
        return ct_error_set(CT_EIO, "sender: cannot start the outbox thread");
    }
    return 0;
}

/* ---------------------------------------------------------------- life */

int ct_sender_new(ct_sender **out, const char *url, const uint8_t seckey[CT_SECKEY_SIZE],
                  const ct_sender_opts *opts)
{
    ct_sender *s = calloc(1, sizeof(*s));
    int rc;

    if (s == NULL)
        return ct_error_set(CT_ENOMEM, "sender: out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->head_mu, NULL);
    pthread_cond_init(&s->stop_cv, NULL);
    opts_default(&s->opts, opts);
    memcpy(s->key, seckey, CT_SECKEY_SIZE);
    if ((s->url = strdup(url)) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "sender: out of memory");
        goto fail;
    }
    if ((rc = ct_address_from_seckey(&s->addr, seckey)) < 0 ||
        (rc = ct_rpc_new(&s->rpc, url, s->opts.timeout_ms)) < 0 ||
        (rc = ct_rpc_chain_id(s->rpc, &s->chain_id)) < 0 ||
        (rc = ct_rpc_get_tx_count(s->rpc, &s->nonce, &s->addr, "pending")) < 0)
        goto fail;
    node_profile(s);
    s->legacy = s->opts.legacy || !has_1559_fees(s->rpc);
    if (s->opts.outbox_path != NULL && (rc = outbox_start(s)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    ct_sender_free(s);
    return rc;
}

void ct_sender_free(ct_sender *s)
{
    if (s == NULL)
        return;
    if (s->outbox != NULL) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->stop_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->sweeper, NULL);
        ct_eth__outbox_free(s->outbox);
    }
    pthread_cond_destroy(&s->stop_cv);
    ct_wipe(s->key, sizeof(s->key));
    ct_rpc_free(s->rpc);
    free(s->url);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->head_mu);
    free(s);
}

const ct_address *ct_sender_address(const ct_sender *s)
{
    return &s->addr;
}

void ct_send_result_clear(ct_send_result *res)
{
    json_decref(res->receipt);
    memset(res, 0, sizeof(*res));
}

/* The eth_call / eth_estimateGas object for req. */
static json_t *call_object(const ct_sender *s, const ct_send_req *req)
{
    char value[CT_U256_HEX_SIZE];
    json_t *call;

    ct_u256_format_hex(value, &req->value);
    call = json_pack("{s:o, s:s, s:o}", "from", ct_json_hex(s->addr.b, CT_ADDRESS_SIZE), "value",
                     value, "data", ct_json_hex(req->data, req->data_len));
    if (call != NULL && req->to != NULL)
        json_object_set_new(call, "to", ct_json_hex(req->to->b, CT_ADDRESS_SIZE));
    return call;
}

/* What makes two calls cost about the same gas: the target, the 4-byte
 * selector and the calldata length (ABI pads strings to 32 bytes, so the
 * same length means the same number of storage words). */
static uint64_t gas_key(const ct_send_req *req)
{
    uint8_t h[32];
    ct_keccak k;
    uint64_t key = 0, len = req->data_len;

    ct_keccak_init(&k);
    if (req->to != NULL)
        ct_keccak_update(&k, req->to->b, CT_ADDRESS_SIZE);
    ct_keccak_update(&k, req->data, req->data_len < 4 ? req->data_len : 4);
    ct_keccak_update(&k, &len, sizeof(len));
    ct_keccak_final(&k, h);
    memcpy(&key, h, sizeof(key));
    return key | 1; /* 0 marks an empty slot */
}

/* Whether the last RPC error is the node's own answer (it saw the call
 * and refused it) rather than no answer at all. */
static bool node_answered(void)
{
    return strncmp(ct_error_last(), "rpc error ", 10) == 0;
}

/* Waits until this account's transactions sent so far are mined and one
 * more block has come, so that "latest" holds them and whatever was sent
 * just before (bounded by the receipt timeout). */
static int settle(ct_sender *s)
{
    int64_t deadline = ct_time_mono_ms() + s->opts.receipt_timeout_ms;
    uint64_t first = 0, head = 0, mined = 0;
    int rc = ct_rpc_block_number(s->rpc, &first);

    while (rc == 0 && (head <= first || mined < s->nonce)) {
        if (ct_time_mono_ms() > deadline)
            return ct_error_set(CT_ETIMEOUT, "sender: the chain did not advance");
        ct_sleep_ms(200);
        if ((rc = ct_rpc_block_number(s->rpc, &head)) == 0)
            rc = ct_rpc_get_tx_count(s->rpc, &mined, &s->addr, "latest");
    }
    return rc;
}

/* Runs req once with eth_call, so that a call that would revert is refused
 * before anything is sent. A node without "pending" calls runs it on
 * "latest", which may lack transactions sent moments ago: a revert there
 * is checked again once they are mined. */
static int preflight(ct_sender *s, json_t *call)
{
    uint8_t *out = NULL;
    size_t out_len;
    int rc;

    /* EthereumJS cannot eth_call a creation; its gas estimate stands. */
    if (s->estimate_unchecked && json_object_get(call, "to") == NULL)
        return 0;
    rc = ct_rpc_call_contract(s->rpc, &out, &out_len, call, s->call_tag);
    free(out);
    out = NULL;
    if (rc == CT_ERPC && strcmp(s->call_tag, "pending") == 0) {
        /* Not a revert: the node may not run calls on "pending". */
        s->call_tag = "latest";
        rc = ct_rpc_call_contract(s->rpc, &out, &out_len, call, s->call_tag);
        free(out);
        out = NULL;
    }
    if (rc == CT_EREVERT && strcmp(s->call_tag, "latest") == 0 && settle(s) == 0) {
        rc = ct_rpc_call_contract(s->rpc, &out, &out_len, call, s->call_tag);
        free(out);
    }
    return rc;
}

/* A call with data to an address without code does nothing, and its gas
 * estimate (a plain transfer's) is too low for the contract once it is
 * there: a node that has not yet seen a deployment made through another
 * node estimates so, and so does a node catching up after a partition
 * (its head ahead of the state it has executed). Waits up to ten seconds
 * for the code to show.
 * Returns: 0, CT_ENOTFOUND, or the node's error. */
static int check_code(ct_sender *s, const ct_address *to)
{
    char text[CT_ADDRESS_TEXT_SIZE];
    bool yes = false;
    int rc;

    /* Code once seen on a node stays there: the check costs a node call
     * once per target and node, not per write (agents estimate every
     * write, see pick_gas). */
    if (strcmp(s->code_origin, ct_rpc_origin(s->rpc)) != 0) {
        snprintf(s->code_origin, sizeof(s->code_origin), "%s", ct_rpc_origin(s->rpc));
        s->n_code_seen = 0;
    }
    for (size_t i = 0; i < s->n_code_seen && i < SENDER_CODE_CACHE; i++)
        if (memcmp(s->code_seen[i].b, to->b, sizeof(to->b)) == 0)
            return 0;
    for (int64_t until = ct_time_mono_ms() + 10000;; ct_sleep_ms(250)) {
        if ((rc = ct_rpc_has_code(s->rpc, &yes, to, "latest")) < 0)
            return rc;
        if (yes) {
            s->code_seen[s->n_code_seen++ % SENDER_CODE_CACHE] = *to;
            return 0;
        }
        if (ct_time_mono_ms() >= until)
            break;
    }
    ct_address_format(text, to);
    return ct_error_set(CT_ENOTFOUND,
                        "sender: no contract at %s on %s (not deployed, or the node has not "
                        "seen its deployment yet)",
                        text, ct_rpc_origin(s->rpc));
}

/* Gas for req: the estimate plus a quarter and SENDER_GAS_SLACK, as
 * estimates can be tight.
 * Estimates are remembered per gas_key: a repeat runs one eth_call instead
 * (gas estimation executes the call several times), which still refuses a
 * call that would revert before anything is sent, or nothing at all where
 * the send itself reports the revert (see ct_sender_opts).
 * They are always remembered where the node mines each send before
 * answering it: a send that runs out of gas there is never acknowledged,
 * and send_locked sends it again on a fresh estimate. */
static int pick_gas(ct_sender *s, uint64_t *gas, const ct_send_req *req)
{
    uint64_t key = gas_key(req);
    size_t slot = (size_t)(key % SENDER_GAS_CACHE);
    json_t *call;
    int rc;

    if (req->gas_limit != 0) {
        *gas = req->gas_limit;
        return 0;
    }
    if (!s->opts.reuse_gas && !s->mines_on_send)
        s->gas_keys[slot] = 0; /* estimated afresh */
    if (s->gas_keys[slot] == key && s->mines_on_send && !s->opts.always_preflight) {
        *gas = s->gas_limits[slot];
        return 0;
    }
    if (s->gas_keys[slot] != key && req->to != NULL && req->data_len > 0 &&
        (rc = check_code(s, req->to)) < 0)
        return rc;
    if ((call = call_object(s, req)) == NULL)
        return ct_error_set(CT_ENOMEM, "sender: out of memory");
    /* EthereumJS fails calls on "latest" for a moment while it executes a
     * block it has just imported ("State trie does not contain state
     * root"): a node error there is tried again for up to three seconds. */
    for (int attempt = 0;; attempt++) {
        if (s->gas_keys[slot] == key) {
            rc = preflight(s, call);
            *gas = s->gas_limits[slot];
        } else if ((!s->estimate_unchecked || (rc = preflight(s, call)) == 0) &&
                   (rc = ct_rpc_estimate_gas(s->rpc, gas, call)) == 0) {
            /* Checked first where the estimate ignores reverts: after a
             * settle, the estimate then runs on the state the call needs. */
            *gas += *gas / 4 + SENDER_GAS_SLACK;
            s->gas_keys[slot] = key;
            s->gas_limits[slot] = *gas;
        }
        if (rc != CT_ERPC || !s->estimate_unchecked || !node_answered() || attempt == 10)
            break;
        ct_sleep_ms(300);
    }
    json_decref(call);
    return rc < 0 ? ct_error_wrap("checking the call") : 0;
}

/* Fees: EIP-1559 max fee = 2 * base fee + tip, or the legacy gas price. */
static int query_fees(ct_sender *s, ct_tx *tx)
{
    json_t *block = NULL;
    ct_u256 base;
    int rc;

    if (tx->type == 0) {
        /* A quarter above the node's price, as the base fee may rise by
         * an eighth a block before the transaction is mined. */
        uint64_t price;
        if ((rc = ct_rpc_gas_price(s->rpc, &tx->gas_price)) < 0)
            return rc;
        if (ct_u256_to_u64(&price, &tx->gas_price) == 0 && price < UINT64_MAX / 2)
            ct_u256_from_u64(&tx->gas_price, price + price / 4);
        return 0;
    }
    if ((rc = ct_rpc_max_priority_fee(s->rpc, &tx->max_priority_fee)) < 0)
        return rc;
    if ((rc = ct_rpc_get_block_by_number(s->rpc, &block, "latest", false)) < 0)
        return rc;
    rc = ct_quantity_parse_u256(&base, json_object_get(block, "baseFeePerGas"));
    json_decref(block);
    if (rc < 0)
        return ct_error_wrap("latest block has no baseFeePerGas (use the legacy option)");
    if ((rc = ct_u256_mul_u64(&tx->max_fee, &base, 2)) < 0 ||
        (rc = ct_u256_add(&tx->max_fee, &tx->max_fee, &tx->max_priority_fee)) < 0)
        return rc;
    return 0;
}

/* Fees for tx, from the cache when it is fresh (called under s->mu). */
static int pick_fees(ct_sender *s, ct_tx *tx)
{
    int64_t now = ct_time_mono_ms();
    int rc;

    if (s->fees_at_ms != 0 && now - s->fees_at_ms < FEE_CACHE_MS) {
        tx->gas_price = s->gas_price;
        tx->max_priority_fee = s->tip;
        tx->max_fee = s->max_fee;
        return 0;
    }
    if ((rc = query_fees(s, tx)) < 0)
        return rc;
    s->gas_price = tx->gas_price;
    s->tip = tx->max_priority_fee;
    s->max_fee = tx->max_fee;
    s->fees_at_ms = now;
    return 0;
}

/* Builds and signs the transaction with the current nonce.
 * Out: *raw malloc'd signed encoding, hash. */
static int build_signed(ct_sender *s, uint8_t **raw, size_t *len, uint8_t hash[32],
                        const ct_send_req *req)
{
    ct_tx tx;
    int rc;

    memset(&tx, 0, sizeof(tx));
    tx.type = s->legacy ? 0 : 2;
    tx.has_chain_id = true;
    tx.chain_id = s->chain_id;
    tx.nonce = s->nonce;
    tx.has_to = req->to != NULL;
    if (tx.has_to)
        tx.to = *req->to;
    tx.value = req->value;
    /* Borrowed: tx.data is not freed here (no ct_tx_clear). */
    tx.data = (uint8_t *)req->data;
    tx.data_len = req->data_len;
    if ((rc = pick_gas(s, &tx.gas_limit, req)) < 0 || (rc = pick_fees(s, &tx)) < 0 ||
        (rc = ct_tx_sign(&tx, s->key)) < 0 || (rc = ct_tx_encode(raw, len, &tx)) < 0)
        return rc;
    ct_keccak256(hash, *raw, *len);
    return 0;
}

static bool is_nonce_error(void)
{
    const char *m = ct_error_last();
    return strstr(m, "nonce") != NULL || strstr(m, "Nonce") != NULL;
}

/* Hardhat's answer to a send it mined as failed for want of gas: the
 * nonce is spent, nothing else changed. */
static bool is_out_of_gas(const ct_sender *s, int rc)
{
    return s->mines_on_send && rc == CT_ERPC && strstr(ct_error_last(), "ran out of gas") != NULL;
}

/* After the node refused a nonce: with an outbox, the chain may have lost
 * transactions it holds (a node that came back behind), which it sends
 * again first, as their nonces are spent; then the node's pending nonce,
 * never below the outbox's. Under s->mu. */
static int renew_nonce(ct_sender *s)
{
    uint64_t pending;
    size_t resent;
    int rc;

    if (s->outbox != NULL && (rc = sweep_locked(s, &resent, 0)) < 0)
        return rc;
    if ((rc = ct_rpc_get_tx_count(s->rpc, &pending, &s->addr, "pending")) < 0)
        return rc;
    s->nonce = pending;
    if (s->outbox != NULL && ct_eth__outbox_next_nonce(s->outbox) > s->nonce)
        s->nonce = ct_eth__outbox_next_nonce(s->outbox);
    return 0;
}

/* Without an outbox: the node's pending nonce, taken where it differs
 * from the sender's (under s->mu). Above it, another process used the
 * key. Below it, the node lost transactions this sender sent (a node that
 * came back behind after a crash): nothing can send them again, and a
 * node that queues a transaction with a nonce gap (anvil) would hold every
 * later one for good; they are reported lost and their nonces used again.
 * Only on a node whose pending nonce counts its pool, anvil or Hardhat
 * (with EthereumJS's, test_poa failed: "replacement gas too low", and a
 * receipt that never came), and lowered only on the node the last
 * transactions went to (a node failed over to may not have them yet).
 * With an outbox, renew_nonce and the sweeps do this (and re-send). */
static int check_nonce(ct_sender *s)
{
    uint64_t pending;
    int rc;

    if (s->outbox != NULL || !s->pending_counts_pool)
        return 0;
    if ((rc = ct_rpc_get_tx_count(s->rpc, &pending, &s->addr, "pending")) < 0)
        return rc;
    if (pending >= s->nonce) {
        s->nonce = pending;
        return 0;
    }
    if (s->sent_origin[0] != '\0' && strcmp(s->sent_origin, ct_rpc_origin(s->rpc)) != 0)
        return 0;
    ct_log(CT_LOG_WARN,
           "sender: the node lacks this account's transactions of nonce %llu to %llu (lost, not "
           "sent again: no outbox); going on from %llu",
           (unsigned long long)pending, (unsigned long long)s->nonce - 1,
           (unsigned long long)pending);
    s->nonce = pending;
    return 0;
}

/* Notes that the node at origin is at block head. */
static void head_seen(ct_sender *s, const char *origin, uint64_t head)
{
    pthread_mutex_lock(&s->head_mu);
    s->known_head = head;
    s->head_at_ms = ct_time_mono_ms();
    snprintf(s->head_origin, sizeof(s->head_origin), "%s", origin);
    pthread_mutex_unlock(&s->head_mu);
}

/* Returns: whether the node at origin (NULL: any of the sender's) was
 * seen at min_block or later in the last HEAD_KEEP_MS. */
static bool head_known(ct_sender *s, const char *origin, uint64_t min_block)
{
    bool known;

    pthread_mutex_lock(&s->head_mu);
    known = (origin == NULL || strcmp(s->head_origin, origin) == 0) && s->known_head >= min_block &&
            ct_time_mono_ms() - s->head_at_ms < HEAD_KEEP_MS;
    pthread_mutex_unlock(&s->head_mu);
    return known;
}

/* Whether a send with min_block must see its node there first: not on a
 * node that mines each send before answering it, where the send runs on
 * its state as it is and its answer is the outcome (no check on an older
 * state comes first). */
static bool needs_head(const ct_sender *s, uint64_t min_block)
{
    return min_block > 0 && !(s->mines_on_send && !s->opts.always_preflight);
}

static int behind(ct_sender *s, uint64_t head, uint64_t min_block)
{
    return ct_error_set(CT_EBEHIND,
                        "the chain node is at block %llu, behind block %llu seen elsewhere, "
                        "after %d ms; nothing was sent",
                        (unsigned long long)head, (unsigned long long)min_block,
                        s->opts.behind_wait_ms);
}

/* Waits until the node is at min_block or later, outside mu and on a
 * connection of its own, so a node that lags holds up no other write, nor
 * the outbox's sweeps. Its head is asked only when no recent sighting
 * covers min_block, so writes that keep coming do not cost the node a
 * call each.
 * Returns: 0; CT_EBEHIND when it is not by opts.behind_wait_ms; the
 * node's error. */
static int wait_head(ct_sender *s, uint64_t min_block)
{
    int64_t start = ct_time_mono_ms();
    uint64_t head = 0;
    ct_rpc *rpc;
    int rc;

    if (head_known(s, NULL, min_block))
        return 0;
    if ((rc = ct_rpc_new(&rpc, s->url, s->opts.timeout_ms)) < 0)
        return rc;
    for (;;) {
        if ((rc = ct_rpc_block_number(rpc, &head)) < 0)
            break;
        head_seen(s, ct_rpc_origin(rpc), head);
        if (head >= min_block) {
            if (ct_time_mono_ms() - start >= HEAD_POLL_MS)
                ct_log(CT_LOG_INFO, "sender: waited %lld ms for the node to reach block %llu",
                       (long long)(ct_time_mono_ms() - start), (unsigned long long)min_block);
            break;
        }
        if (ct_time_mono_ms() - start >= s->opts.behind_wait_ms) {
            rc = behind(s, head, min_block);
            break;
        }
        ct_sleep_ms(HEAD_POLL_MS);
    }
    ct_rpc_free(rpc);
    return rc;
}

/* Under mu, before the check: the node the send goes to (it may have
 * failed over since wait_head) was seen at min_block; else it is asked
 * once. Returns: 0, CT_EBEHIND, or the node's error. */
static int check_head(ct_sender *s, uint64_t min_block)
{
    uint64_t head;
    int rc;

    if (!needs_head(s, min_block) || head_known(s, ct_rpc_origin(s->rpc), min_block))
        return 0;
    if ((rc = ct_rpc_block_number(s->rpc, &head)) < 0)
        return rc;
    head_seen(s, ct_rpc_origin(s->rpc), head);
    return head >= min_block ? 0 : behind(s, head, min_block);
}

/* Signs and sends under the lock; retries once with a fresh nonce when the
 * node says the nonce is wrong (another process used the key), and once on
 * a fresh estimate when a node that mines on send ran it out of gas (a
 * remembered estimate of a call whose cost depends on state). */
static int send_locked(ct_sender *s, ct_send_result *res, const ct_send_req *req, bool *sent)
{
    bool regassed = false;
    int rc;

    if ((rc = check_head(s, req->min_block)) < 0)
        return rc;
    if ((rc = check_nonce(s)) < 0)
        return rc;
    for (int attempt = 0;; attempt++) {
        uint8_t *raw = NULL, node_hash[32];
        size_t len;

        rc = build_signed(s, &raw, &len, res->hash, req);

        /* A failure here (a reverting estimate included) sent nothing. */
        if (rc < 0)
            return rc;
        if (s->outbox != NULL && (rc = ct_eth__outbox_add(s->outbox, s->nonce, raw, len)) < 0) {
            free(raw);
            return rc;
        }
        rc = ct_rpc_send_raw(s->rpc, node_hash, raw, len);
        free(raw);
        if (s->outbox != NULL && rc < 0 && rc != CT_EREVERT && !node_answered()) {
            /* No answer: the node may have it. The outbox re-sends it until
             * the chain has it, so its nonce is spent. */
            s->nonce++;
            *sent = true;
            return ct_error_wrap("sent, but the node did not answer; the outbox sends it again "
                                 "until it is mined");
        }
        if (is_out_of_gas(s, rc)) {
            /* Mined as failed: the nonce is spent (the outbox entry stays
             * until the chain passes it). */
            s->nonce++;
            if (regassed || req->gas_limit != 0) {
                *sent = true;
                return ct_error_set(CT_EREVERT, "transaction ran out of gas");
            }
            ct_log(CT_LOG_INFO, "sender: out of gas on a remembered estimate; estimating again");
            s->gas_keys[gas_key(req) % SENDER_GAS_CACHE] = 0;
            regassed = true;
            continue;
        }
        if (s->outbox != NULL && rc < 0 && rc != CT_EREVERT &&
            ct_eth__outbox_drop_last(s->outbox) < 0)
            ct_log(CT_LOG_WARN, "sender: %s", ct_error_last());
        if (rc == 0 || rc == CT_EREVERT) {
            /* Hardhat's "reverted" error still mined the transaction and
             * used the nonce; its hash is the one we computed. */
            snprintf(s->sent_origin, sizeof(s->sent_origin), "%s", ct_rpc_origin(s->rpc));
            s->nonce++;
            *sent = true;
            return rc;
        }
        if (rc == CT_ERPC && attempt == 0 && is_nonce_error() && renew_nonce(s) == 0)
            continue;
        return rc;
    }
}

/* Fills res from a receipt; returns CT_EREVERT for status 0. */
static int read_receipt(ct_send_result *res, json_t *receipt)
{
    uint64_t status = 0;
    json_t *addr = json_object_get(receipt, "contractAddress");

    res->receipt = receipt;
    res->mined = true;
    if (ct_quantity_parse_u64(&status, json_object_get(receipt, "status")) < 0 ||
        ct_quantity_parse_u64(&res->block, json_object_get(receipt, "blockNumber")) < 0 ||
        ct_quantity_parse_u64(&res->gas_used, json_object_get(receipt, "gasUsed")) < 0)
        return ct_error_wrap("receipt");
    res->success = status == 1;
    if (json_is_string(addr))
        ct_address_parse(&res->contract, json_string_value(addr));
    return res->success ? 0 : CT_EREVERT;
}

static int wait_mined(ct_sender *s, ct_send_result *res)
{
    json_t *receipt = NULL;
    ct_rpc *rpc;
    int rc;

    /* A connection of our own, so waiting does not hold the send lock. */
    if ((rc = ct_rpc_new(&rpc, s->url, s->opts.timeout_ms)) < 0)
        return rc;
    rc = ct_rpc_wait_receipt(rpc, &receipt, res->hash, s->opts.receipt_timeout_ms, s->opts.poll_ms);
    ct_rpc_free(rpc);
    if (rc < 0)
        return rc;
    return read_receipt(res, receipt);
}

/* The reason a mined transaction reverted, found by running the same call
 * on the state its block started from (exact where the block holds only
 * it, as under automine; else the best a node can tell). Writes "" when
 * the call does not revert there. */
static void replay_reason(ct_sender *s, char *out, size_t n, const ct_send_req *req, uint64_t block)
{
    char tag[24];
    uint8_t *ret = NULL;
    size_t ret_len;
    json_t *call = call_object(s, req);
    ct_rpc *rpc = NULL;

    out[0] = '\0';
    snprintf(tag, sizeof(tag), "0x%llx", (unsigned long long)(block > 0 ? block - 1 : 0));
    if (call != NULL && ct_rpc_new(&rpc, s->url, s->opts.timeout_ms) == 0 &&
        ct_rpc_call_contract(rpc, &ret, &ret_len, call, tag) == CT_EREVERT)
        snprintf(out, n, "%s", ct_error_last());
    free(ret);
    json_decref(call);
    ct_rpc_free(rpc);
    ct_error_clear();
}

int ct_sender_send(ct_sender *s, ct_send_result *res, const ct_send_req *req, bool wait)
{
    char reason[256] = "";
    bool sent = false;
    int rc;

    memset(res, 0, sizeof(*res));
    if (needs_head(s, req->min_block) && (rc = wait_head(s, req->min_block)) < 0)
        return rc;
    pthread_mutex_lock(&s->mu);
    rc = send_locked(s, res, req, &sent);
    int sync_fd = sent && s->outbox != NULL ? ct_eth__outbox_sync_fd(s->outbox) : -2;
    pthread_mutex_unlock(&s->mu);
    /* The outbox entry is on disk before the caller hears of the hash;
     * the flush runs outside the lock, so concurrent sends share it. */
    if (sync_fd != -2 && (sync_fd < 0 || fdatasync(sync_fd) < 0) && rc >= 0)
        rc = ct_error_set(CT_EIO, "sender: sent, but the outbox could not be synced: %s",
                          strerror(errno));
    if (sync_fd >= 0)
        close(sync_fd);
    if (!sent)
        return rc; /* refused, or the estimate reverted: nothing was mined */
    if (rc == CT_EREVERT)
        snprintf(reason, sizeof(reason), "%s", ct_error_last());
    if (!wait && rc == 0)
        return 0;
    if ((rc = wait_mined(s, res)) == CT_EREVERT) {
        if (reason[0] == '\0')
            replay_reason(s, reason, sizeof(reason), req, res->block);
        return ct_error_set(CT_EREVERT, "transaction reverted%s%s", reason[0] ? ": " : "", reason);
    }
    return rc;
}
