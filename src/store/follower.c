/* The event follower: reads the contract's logs from a node in block
 * ranges, checks that they belong to one chain that extends the cached
 * one, writes each range in one transaction, and heals the cache when the
 * chain was reorganised under it. */
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RANGE 2000
#define DEFAULT_TIMEOUT_MS 30000
/* Rounds in one poll that may restart because the chain changed. */
#define MAX_ROUNDS 8
/* The range starts small and doubles while answers hold fewer than
 * FEW_LOGS logs; an answer with more than MANY_LOGS scales it down to
 * about TARGET_LOGS. So the first call of a catch-up on a dense chain does
 * not ask the node for an answer too large to build or accept. */
#define FIRST_RANGE 100
#define FEW_LOGS 1000
#define MANY_LOGS 5000
#define TARGET_LOGS 2500

/* do_range and check_cursor: the chain changed, start a new round. */
#define STEP_RETRY 1

struct ct_follower {
    ct_store *s;
    const ct_ledger *l;
    ct_rpc *rpc;
    ct_rpc *rpc_ahead; /* the prefetch thread's client, made on first use */
    int timeout_ms;
    ct_store_decoder *dec;
    ct_address contract;
    char contract_hex[CT_ADDRESS_TEXT_SIZE];
    uint64_t from_block;
    uint64_t max_range;
    uint64_t range; /* current blocks per eth_getLogs */
    bool have_chain_id;
    uint64_t chain_id;
    bool chain_checked; /* same_chain passed since the last failure */
    pthread_mutex_t mu; /* guards stats, read by other threads */
    ct_follower_stats stats;
};

struct cursor {
    bool has;
    uint64_t number;
    uint8_t hash[32];
};

static int load_cursor(ct_follower *f, struct cursor *c);

/* One block range being read. */
struct range {
    uint64_t a, b;
    ct_store__header hb;  /* b's header, read before the logs */
    json_t *logs;         /* the eth_getLogs answer */
    ct_store__log *items; /* its entries for the contract, chain order */
    size_t n;
    ct_store__header *blocks; /* headers of the blocks that carry them */
    size_t n_blocks;
    const char **names; /* event name per item, NULL: not ours */
    json_t **args;      /* wire args per item */
};

/* ---------------------------------------------------------------- stats */

static void stat_add(ct_follower *f, uint64_t *field, uint64_t v)
{
    pthread_mutex_lock(&f->mu);
    *field += v;
    pthread_mutex_unlock(&f->mu);
}

static void stat_set(ct_follower *f, uint64_t *field, uint64_t v)
{
    pthread_mutex_lock(&f->mu);
    *field = v;
    pthread_mutex_unlock(&f->mu);
}

int ct_follower_lag(ct_follower *f, uint64_t *head, uint64_t *processed)
{
    pthread_mutex_lock(&f->mu);
    if (head != NULL)
        *head = f->stats.head;
    if (processed != NULL)
        *processed = f->stats.processed;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

void ct_follower_get_stats(ct_follower *f, ct_follower_stats *out)
{
    pthread_mutex_lock(&f->mu);
    *out = f->stats;
    pthread_mutex_unlock(&f->mu);
}

/* ---------------------------------------------------------------- life */

int ct_follower_new(ct_follower **out, ct_store *s, const ct_ledger *l, const char *rpc_url,
                    const ct_address *contract, uint64_t from_block, const ct_follower_opts *opts)
{
    ct_follower *f = calloc(1, sizeof(*f));
    int rc;

    if (f == NULL)
        return ct_error_set(CT_ENOMEM, "store: out of memory");
    pthread_mutex_init(&f->mu, NULL);
    f->s = s;
    f->l = l;
    f->contract = *contract;
    ct_address_format(f->contract_hex, contract);
    f->from_block = from_block;
    f->max_range = opts != NULL && opts->max_range > 0 ? opts->max_range : DEFAULT_RANGE;
    f->range = f->max_range < FIRST_RANGE ? f->max_range : FIRST_RANGE;
    f->stats.processed = from_block > 0 ? from_block - 1 : 0;
    f->timeout_ms = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    if ((rc = ct_rpc_new(&f->rpc, rpc_url, f->timeout_ms)) < 0 ||
        (rc = ct_store_decoder_new(&f->dec, l)) < 0) {
        ct_follower_free(f);
        return rc;
    }
    struct cursor c;
    if (load_cursor(f, &c) == 0 && c.has)
        f->stats.processed = c.number; /* lag is right before the first poll */
    *out = f;
    return 0;
}

void ct_follower_free(ct_follower *f)
{
    if (f == NULL)
        return;
    ct_rpc_free(f->rpc);
    ct_rpc_free(f->rpc_ahead);
    ct_store_decoder_free(f->dec);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* ---------------------------------------------------------------- node */

static void quantity(char out[24], uint64_t v)
{
    snprintf(out, 24, "0x%" PRIx64, v);
}

/* Returns: 0, CT_ENOTFOUND (no such block), or the RPC/parse error. */
static int header_by_number(ct_follower *f, ct_rpc *rpc, ct_store__header *h, uint64_t n)
{
    char tag[24];
    json_t *b = NULL;
    int rc;

    quantity(tag, n);
    stat_add(f, &f->stats.rpc_calls, 1);
    rc = ct_rpc_get_block_by_number(rpc, &b, tag, false);
    if (rc == 0 && (rc = ct_store__parse_header(h, b)) == 0 && h->number != n)
        rc = ct_error_set(CT_EPARSE, "store: asked for block %" PRIu64 ", got %" PRIu64, n,
                          h->number);
    json_decref(b);
    return rc;
}

static int get_logs(ct_follower *f, ct_rpc *rpc, json_t **out, uint64_t a, uint64_t b)
{
    char from[24], to[24];
    json_t *filter;
    int rc;

    quantity(from, a);
    quantity(to, b);
    filter =
        json_pack("{s:s, s:s, s:s}", "address", f->contract_hex, "fromBlock", from, "toBlock", to);
    if (filter == NULL)
        return ct_error_set(CT_ENOMEM, "store: out of memory");
    stat_add(f, &f->stats.rpc_calls, 1);
    rc = ct_rpc_get_logs(rpc, out, filter);
    json_decref(filter);
    if (rc == 0 && !json_is_array(*out)) {
        json_decref(*out);
        rc = ct_error_set(CT_EPARSE, "store: eth_getLogs did not answer an array");
    }
    return rc;
}

/* Reads b's header, then the logs of [a, b] (b at most a + *range - 1
 * and head), halving *range while the node refuses or the answer is too
 * large. Uses rpc only, so a helper thread can run it.
 * Returns: 0, STEP_RETRY (b vanished: the chain got shorter), or error. */
static int fetch_logs(ct_follower *f, ct_rpc *rpc, struct range *r, uint64_t head, uint64_t *range)
{
    int rc;

    for (;;) {
        r->b = head - r->a >= *range ? r->a + *range - 1 : head;
        if ((rc = header_by_number(f, rpc, &r->hb, r->b)) < 0)
            return rc == CT_ENOTFOUND ? STEP_RETRY : rc;
        if ((rc = get_logs(f, rpc, &r->logs, r->a, r->b)) == 0)
            return 0;
        if ((rc != CT_ERPC && rc != CT_ELIMIT && rc != CT_ETIMEOUT) || r->b == r->a)
            return rc;
        *range = (r->b - r->a + 1) / 2;
        ct_log(CT_LOG_DEBUG,
               "store: eth_getLogs %" PRIu64 "-%" PRIu64 " failed (%s); now %" PRIu64
               " blocks per call",
               r->a, r->b, ct_error_last(), *range);
    }
}

/* ---------------------------------------------------------------- a range */

static int cmp_log(const void *x, const void *y)
{
    const ct_store__log *a = x, *b = y;

    if (a->block_number != b->block_number)
        return a->block_number < b->block_number ? -1 : 1;
    return a->log_index < b->log_index ? -1 : a->log_index > b->log_index;
}

/* Keeps the contract's live logs inside [a, b], sorted, and lists the
 * blocks that carry them. Returns: 0, STEP_RETRY, CT_EPARSE, CT_ENOMEM. */
static int select_items(ct_follower *f, struct range *r)
{
    size_t n = json_array_size(r->logs), i;
    int rc;

    r->items = calloc(n + 1, sizeof(*r->items));
    r->blocks = calloc(n + 1, sizeof(*r->blocks));
    if (r->items == NULL || r->blocks == NULL)
        return ct_error_set(CT_ENOMEM, "store: out of memory");
    for (i = 0; i < n; i++) {
        ct_store__log *it = &r->items[r->n];
        if ((rc = ct_store__parse_log(it, json_array_get(r->logs, i))) < 0)
            return ct_error_wrap("eth_getLogs[%zu]", i);
        if (it->removed || !ct_address_equal(&it->address, &f->contract))
            continue;
        if (it->block_number < r->a || it->block_number > r->b)
            return ct_error_set(CT_EPARSE, "store: log of block %" PRIu64 " outside the range",
                                it->block_number);
        r->n++;
    }
    qsort(r->items, r->n, sizeof(*r->items), cmp_log);
    for (i = 0; i < r->n; i++) {
        ct_store__header *last = r->n_blocks ? &r->blocks[r->n_blocks - 1] : NULL;
        if (last != NULL && last->number == r->items[i].block_number) {
            if (memcmp(last->hash, r->items[i].block_hash, 32) != 0)
                return STEP_RETRY; /* two versions of one block: the chain moved */
            continue;
        }
        r->blocks[r->n_blocks].number = r->items[i].block_number;
        memcpy(r->blocks[r->n_blocks++].hash, r->items[i].block_hash, 32);
    }
    return 0;
}

/* A header out of a batch answer. Returns: 0, STEP_RETRY (null: no such
 * block any more), CT_ERPC (the node's error), CT_EPARSE. */
static int batch_header(ct_store__header *h, const json_t *res)
{
    const json_t *err = json_object_get(res, "error");
    const char *msg = json_string_value(json_object_get(err, "message"));

    if (json_is_null(res))
        return STEP_RETRY;
    if (err != NULL && json_object_get(res, "hash") == NULL)
        return ct_error_set(CT_ERPC, "store: block request failed: %s", msg ? msg : "?");
    return ct_store__parse_header(h, res);
}

static int append_call(json_t *calls, const char *method, json_t *block_id)
{
    return json_array_append_new(calls, json_pack("[s, [o, b]]", method, block_id, 0));
}

/* The batch of headers that proves the logs belong to one chain extending
 * the cursor: a's (its parent must be the cursor), b's (unchanged since
 * the logs were read), and each event block's by hash (time, parent). */
static json_t *header_calls(const struct range *r)
{
    json_t *calls = json_array();
    char a[24], b[24];
    int rc;

    quantity(a, r->a);
    quantity(b, r->b);
    rc = append_call(calls, "eth_getBlockByNumber", json_string(a));
    rc |= append_call(calls, "eth_getBlockByNumber", json_string(b));
    for (size_t i = 0; i < r->n_blocks && rc == 0; i++)
        rc = append_call(calls, "eth_getBlockByHash", ct_json_hex(r->blocks[i].hash, 32));
    if (rc != 0 || calls == NULL) {
        json_decref(calls);
        return NULL;
    }
    return calls;
}

/* Returns: 0, STEP_RETRY (the chain changed), or an error. */
static int verify_range(ct_follower *f, struct range *r, const struct cursor *c)
{
    json_t *calls = header_calls(r), *res = NULL;
    ct_store__header h;
    int rc;

    if (calls == NULL)
        return ct_error_set(CT_ENOMEM, "store: out of memory");
    stat_add(f, &f->stats.rpc_calls, 1);
    if ((rc = ct_rpc_batch(f->rpc, &res, calls)) < 0)
        goto done;
    if ((rc = batch_header(&h, json_array_get(res, 0))) != 0)
        goto done;
    if (c->has && c->number + 1 == r->a && memcmp(h.parent, c->hash, 32) != 0) {
        rc = STEP_RETRY; /* block a does not extend the cursor: reorganised */
        goto done;
    }
    if ((rc = batch_header(&h, json_array_get(res, 1))) != 0)
        goto done;
    if (memcmp(h.hash, r->hb.hash, 32) != 0) {
        rc = STEP_RETRY;
        goto done;
    }
    for (size_t i = 0; i < r->n_blocks && rc == 0; i++) {
        if ((rc = batch_header(&h, json_array_get(res, i + 2))) != 0)
            break;
        if (h.number != r->blocks[i].number || memcmp(h.hash, r->blocks[i].hash, 32) != 0)
            rc = ct_error_set(CT_EPARSE, "store: block %" PRIu64 " does not match its logs",
                              r->blocks[i].number);
        else
            r->blocks[i] = h;
    }
done:
    json_decref(calls);
    json_decref(res);
    return rc;
}

/* Decodes each log; logs of events the ledger does not know are skipped. */
static int decode_items(ct_follower *f, struct range *r)
{
    int rc;

    r->names = calloc(r->n + 1, sizeof(*r->names));
    r->args = calloc(r->n + 1, sizeof(*r->args));
    if (r->names == NULL || r->args == NULL)
        return ct_error_set(CT_ENOMEM, "store: out of memory");
    for (size_t i = 0; i < r->n; i++) {
        const ct_store__log *it = &r->items[i];
        rc = ct_store_decode_event(f->dec, &r->names[i], &r->args[i], it->json);
        if (rc == CT_ENOTFOUND) {
            r->names[i] = NULL;
            ct_log(CT_LOG_DEBUG, "store: skipping an unknown event in block %" PRIu64,
                   it->block_number);
            continue;
        }
        if (rc < 0)
            return ct_error_wrap("block %" PRIu64 " log %" PRIu64, it->block_number, it->log_index);
    }
    return 0;
}

/* Whether the stored cursor is still c (another handle may have reset the
 * file meanwhile). Returns: 0, STEP_RETRY, or CT_EIO. */
static int cursor_unchanged(ct_follower *f, const struct cursor *c)
{
    uint8_t hash[32];
    uint64_t number;
    int rc = ct_store__cursor_get(f->s, &number, hash);

    if (rc < 0 && rc != CT_ENOTFOUND)
        return rc;
    if ((rc == 0) != c->has || (c->has && (number != c->number || memcmp(hash, c->hash, 32))))
        return STEP_RETRY;
    return 0;
}

/* Writes the range's blocks, events and the new cursor in one transaction,
 * if the cursor is still the one the range was checked against. */
static int write_range(ct_follower *f, const struct range *r, const struct cursor *c,
                       uint64_t *stored)
{
    size_t bi = 0;
    int rc;

    ct_store__lock(f->s);
    if ((rc = ct_store__begin(f->s, true)) == 0)
        rc = cursor_unchanged(f, c);
    for (size_t i = 0; i < r->n_blocks && rc == 0; i++)
        rc = ct_store__block_add(f->s, r->blocks[i].number, r->blocks[i].hash, r->blocks[i].parent,
                                 r->blocks[i].time);
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        const ct_store__log *it = &r->items[i];
        while (r->blocks[bi].number != it->block_number)
            bi++;
        if (r->names[i] == NULL)
            continue;
        ct_store__event ev = {.block_number = it->block_number,
                              .log_index = it->log_index,
                              .tx_index = it->tx_index,
                              .name = r->names[i],
                              .args = r->args[i],
                              .block_time = r->blocks[bi].time};
        memcpy(ev.tx_hash, it->tx_hash, 32);
        if ((rc = ct_store__event_add(f->s, &ev)) == 0)
            (*stored)++;
    }
    if (rc == 0 && (rc = ct_store__cursor_set(f->s, r->b, r->hb.hash)) == 0)
        rc = ct_store__commit(f->s);
    if (rc != 0) {
        ct_store__rollback(f->s);
        *stored = 0;
    }
    ct_store__unlock(f->s);
    return rc;
}

static void range_clear(struct range *r)
{
    for (size_t i = 0; r->args != NULL && i < r->n; i++)
        json_decref(r->args[i]);
    free(r->args);
    free(r->names);
    free(r->items);
    free(r->blocks);
    json_decref(r->logs);
    memset(r, 0, sizeof(*r));
}

static void adapt_range(ct_follower *f, uint64_t span, size_t logs)
{
    if (logs > MANY_LOGS) {
        uint64_t r = span * TARGET_LOGS / logs;
        f->range = r > 0 ? r : 1;
    } else if (logs < FEW_LOGS && span >= f->range) {
        f->range = f->range * 2 < f->max_range ? f->range * 2 : f->max_range;
    }
}

/* Checks, decodes and stores a fetched range.
 * Returns: 0, STEP_RETRY, or an error. */
static int store_range(ct_follower *f, struct range *r, const struct cursor *c, uint64_t *stored)
{
    int rc;

    *stored = 0;
    if ((rc = select_items(f, r)) != 0 || (rc = verify_range(f, r, c)) != 0 ||
        (rc = decode_items(f, r)) != 0 || (rc = write_range(f, r, c, stored)) != 0)
        return rc;
    stat_add(f, &f->stats.events, *stored);
    stat_set(f, &f->stats.processed, r->b);
    return 0;
}

/* ---------------------------------------------------------------- prefetch */

/* The next range, fetched by a helper thread while the current one is
 * checked, decoded and written, so the node's work and ours overlap. */
struct prefetch {
    pthread_t thread;
    ct_follower *f;
    struct range r;
    uint64_t head;
    uint64_t range; /* in: blocks to ask for; out: after any halving */
    int rc;
    char err[512]; /* the helper's message: messages are per thread */
};

static void *prefetch_main(void *arg)
{
    struct prefetch *p = arg;

    p->rc = fetch_logs(p->f, p->f->rpc_ahead, &p->r, p->head, &p->range);
    if (p->rc < 0)
        snprintf(p->err, sizeof(p->err), "%s", ct_error_last());
    return NULL;
}

static int prefetch_start(ct_follower *f, struct prefetch *p, uint64_t a, uint64_t head)
{
    int rc;

    memset(p, 0, sizeof(*p));
    p->f = f;
    p->r.a = a;
    p->head = head;
    p->range = f->range;
    if (f->rpc_ahead == NULL &&
        (rc = ct_rpc_new(&f->rpc_ahead, ct_rpc_url(f->rpc), f->timeout_ms)) < 0)
        return rc;
    if (pthread_create(&p->thread, NULL, prefetch_main, p) != 0)
        return ct_error_set(CT_EIO, "store: cannot start the prefetch thread");
    return 0;
}

/* Waits for the helper. Out: *r its range (owned by the caller).
 * Returns: its result, with its error message set in this thread. */
static int prefetch_join(ct_follower *f, struct prefetch *p, struct range *r)
{
    pthread_join(p->thread, NULL);
    f->range = p->range;
    *r = p->r;
    if (p->rc < 0)
        return ct_error_set(p->rc, "%s", p->err);
    return p->rc;
}

/* Processes [c + 1, head] range by range, fetching each next range while
 * the current one is stored. Returns: 0, STEP_RETRY, or an error. */
static int run_ranges(ct_follower *f, struct cursor *c, uint64_t head, uint64_t *total)
{
    struct range cur = {.a = c->has ? c->number + 1 : f->from_block};
    struct prefetch ahead;
    uint64_t n;
    int rc, rc_ahead;

    if (cur.a > head)
        return 0;
    rc = fetch_logs(f, f->rpc, &cur, head, &f->range);
    while (rc == 0) {
        bool more = cur.b < head;
        adapt_range(f, cur.b - cur.a + 1, json_array_size(cur.logs));
        if (more && (rc = prefetch_start(f, &ahead, cur.b + 1, head)) < 0)
            break;
        rc = store_range(f, &cur, c, &n);
        *total += n;
        range_clear(&cur);
        if (rc == 0)
            rc = load_cursor(f, c);
        if (!more)
            break;
        rc_ahead = prefetch_join(f, &ahead, &cur);
        if (rc == 0)
            rc = rc_ahead;
    }
    range_clear(&cur);
    return rc;
}

/* ---------------------------------------------------------------- reorganisations */

static int load_cursor(ct_follower *f, struct cursor *c)
{
    int rc;

    ct_store__lock(f->s);
    rc = ct_store__cursor_get(f->s, &c->number, c->hash);
    ct_store__unlock(f->s);
    c->has = rc == 0;
    return rc == CT_ENOTFOUND ? 0 : rc;
}

/* Returns: 0 when the cursor is still on the chain, STEP_RETRY if not. */
static int check_cursor(ct_follower *f, const struct cursor *c)
{
    ct_store__header h;
    int rc;

    if (!c->has)
        return 0;
    rc = header_by_number(f, f->rpc, &h, c->number);
    if (rc == CT_ENOTFOUND)
        return STEP_RETRY;
    if (rc < 0)
        return rc;
    return memcmp(h.hash, c->hash, 32) != 0 ? STEP_RETRY : 0;
}

/* Whether the stored block of this rank is still on the chain. */
static int stored_on_chain(ct_follower *f, uint64_t rank, bool *yes, uint64_t *number,
                           uint8_t hash[32])
{
    ct_store__header h;
    int rc;

    ct_store__lock(f->s);
    rc = ct_store__block_at(f->s, rank, number, hash);
    ct_store__unlock(f->s);
    if (rc < 0)
        return rc;
    rc = header_by_number(f, f->rpc, &h, *number);
    if (rc < 0 && rc != CT_ENOTFOUND)
        return rc;
    *yes = rc == 0 && memcmp(h.hash, hash, 32) == 0;
    return 0;
}

/* The newest stored block still on the chain (blocks are hash-linked, so
 * those on the chain are exactly the oldest ones: a binary search).
 * Out: *keep its number, or -1 when none is. */
static int find_ancestor(ct_follower *f, int64_t *keep, uint8_t hash[32])
{
    uint64_t lo = 0, hi, number = 0;
    bool yes = false;
    int rc;

    ct_store__lock(f->s);
    rc = ct_store__block_count(f->s, &hi);
    ct_store__unlock(f->s);
    while (rc == 0 && lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if ((rc = stored_on_chain(f, mid, &yes, &number, hash)) == 0) {
            if (yes)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    *keep = -1;
    if (rc == 0 && lo > 0 && (rc = stored_on_chain(f, lo - 1, &yes, &number, hash)) == 0)
        *keep = (int64_t)number;
    return rc;
}

/* Rewinds the cache to the newest stored block still on the chain. */
static int heal(ct_follower *f)
{
    uint8_t hash[32];
    uint64_t deleted = 0;
    int64_t keep;
    int rc;

    if ((rc = find_ancestor(f, &keep, hash)) < 0)
        return rc;
    ct_store__lock(f->s);
    if ((rc = ct_store__begin(f->s, true)) == 0 &&
        (rc = ct_store__rewind(f->s, keep, &deleted)) == 0 &&
        (rc = keep >= 0 ? ct_store__cursor_set(f->s, (uint64_t)keep, hash)
                        : ct_store__cursor_clear(f->s)) == 0)
        rc = ct_store__commit(f->s);
    if (rc < 0)
        ct_store__rollback(f->s);
    ct_store__unlock(f->s);
    if (rc < 0)
        return rc;
    stat_add(f, &f->stats.reorgs, 1);
    stat_add(f, &f->stats.rewound_events, deleted);
    ct_log(CT_LOG_INFO,
           "store: chain reorganised: rewound to block %" PRId64 ", %" PRIu64 " events removed",
           keep, deleted);
    return 0;
}

/* ---------------------------------------------------------------- poll */

/* The node must serve the chain the cache was built from: the same
 * genesis block (recorded at the first poll), and the contract still has
 * code. A node that was replaced by an empty one would otherwise make
 * the cache rewind to nothing. Returns: 0, CT_ESTATE (the cache is kept
 * as it is), or the node's error. */
static int same_chain(ct_follower *f)
{
    ct_store__header g;
    uint8_t stored[32];
    bool yes = false;
    int rc;

    if ((rc = header_by_number(f, f->rpc, &g, 0)) < 0)
        return rc;
    ct_store__lock(f->s);
    rc = ct_store__meta_get_blob(f->s, "genesis", stored, 32);
    if (rc == CT_ENOTFOUND)
        rc = ct_store__meta_set_blob(f->s, "genesis", g.hash, 32);
    else if (rc == 0 && memcmp(stored, g.hash, 32) != 0) {
        char have[67], want[67];
        ct_hex_encode(have, sizeof(have), g.hash, 32, true);
        ct_hex_encode(want, sizeof(want), stored, 32, true);
        rc = ct_error_set(CT_ESTATE,
                          "store: the node at %s serves another chain (genesis %.18s..., the "
                          "cache's is %.18s...); the cache is kept until the federation's chain "
                          "is back (or a reindex)",
                          ct_rpc_origin(f->rpc), have, want);
    }
    ct_store__unlock(f->s);
    if (rc < 0)
        return rc;
    stat_add(f, &f->stats.rpc_calls, 1);
    if ((rc = ct_rpc_has_code(f->rpc, &yes, &f->contract, "latest")) == 0 && !yes)
        rc = ct_error_set(CT_ESTATE,
                          "store: the node at %s has no contract at %s; the cache is kept until "
                          "the federation's chain is back",
                          ct_rpc_origin(f->rpc), f->contract_hex);
    return rc;
}

static int ensure_bound(ct_follower *f)
{
    int rc;

    if (!f->have_chain_id) {
        stat_add(f, &f->stats.rpc_calls, 1);
        if ((rc = ct_rpc_chain_id(f->rpc, &f->chain_id)) < 0)
            return rc;
        f->have_chain_id = true;
    }
    if ((rc = ct_store_bind(f->s, f->chain_id, &f->contract, f->from_block)) < 0)
        return rc;
    if (f->chain_checked) { /* a reindex in place clears what was recorded */
        uint8_t g[32];
        ct_store__lock(f->s);
        f->chain_checked = ct_store__meta_get_blob(f->s, "genesis", g, 32) == 0;
        ct_store__unlock(f->s);
    }
    if (!f->chain_checked && (rc = same_chain(f)) < 0)
        return rc;
    f->chain_checked = true;
    return 0;
}

/* One round: head, cursor check (and heal), then ranges up to the head.
 * Returns: 0 done, STEP_RETRY (start a new round), or an error. */
static int round_once(ct_follower *f, uint64_t *total)
{
    struct cursor c;
    uint64_t head;
    int rc;

    stat_add(f, &f->stats.rpc_calls, 1);
    if ((rc = ct_rpc_block_number(f->rpc, &head)) < 0)
        return rc;
    stat_set(f, &f->stats.head, head);
    if ((rc = load_cursor(f, &c)) < 0 || (rc = check_cursor(f, &c)) < 0)
        return rc;
    if (rc == STEP_RETRY) {
        /* Before rewinding anything, make sure it is still the same chain. */
        if ((rc = same_chain(f)) < 0) {
            f->chain_checked = false;
            return rc;
        }
        if ((rc = heal(f)) < 0 || (rc = load_cursor(f, &c)) < 0)
            return rc;
    }
    rc = run_ranges(f, &c, head, total);
    if (rc == 0)
        stat_set(f, &f->stats.processed,
                 c.has               ? c.number
                 : f->from_block > 0 ? f->from_block - 1
                                     : 0);
    return rc;
}

int ct_follower_poll(ct_follower *f, uint64_t *new_events)
{
    uint64_t total = 0;
    int rc, rounds = 0;

    if ((rc = ensure_bound(f)) == 0) {
        while ((rc = round_once(f, &total)) == STEP_RETRY && ++rounds < MAX_ROUNDS)
            ct_log(CT_LOG_DEBUG, "store: the chain changed during a range; new round");
        if (rc == STEP_RETRY)
            rc = ct_error_set(CT_ERPC, "store: the chain kept changing during %d rounds",
                              MAX_ROUNDS);
    }
    if (rc == 0) { /* the event monitor's logs, up to the cursor just checked */
        uint64_t calls = 0;
        /* Not the poll's failure: the contract's own events are in. */
        if (ct_store__monitors_follow(f->s, f->rpc, f->max_range, &calls) < 0)
            ct_log(CT_LOG_WARN, "store: event monitor: %s", ct_error_last());
        stat_add(f, &f->stats.rpc_calls, calls);
    }
    if (new_events != NULL)
        *new_events = total;
    return rc;
}
