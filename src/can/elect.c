/* Failure detection and leader election in a CAN (seed 002, Algorithms 2
 * to 4): followers check a member, the leader and a component each period;
 * the leader removes a member or a component only when a majority of the
 * members cannot reach it either; a follower that cannot reach the leader
 * collects promises and signed accepts from a majority and registers
 * itself as leader on the Registry with them. */
#include "can_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PING_TIMEOUT_MS 1000
#define VOTE_TIMEOUT_MS 3000
#define CHECK_MS 1000
/* A promise not followed by an accept may be given to another candidate
 * after this long, or at once to a better one (better(); the nonce is
 * fixed by the Registry, so a split vote would otherwise last). */
#define PROMISE_TTL_MS 3000

static bool ping_node(const char *url)
{
    return ct_http_json(NULL, "GET", url, "/can/ping", NULL, PING_TIMEOUT_MS) == 200;
}

static bool ping_component(const char *url)
{
    long st = ct_http_json(NULL, "GET", url, "/health", NULL, PING_TIMEOUT_MS);

    return st >= 200 && st < 400;
}

static uint64_t chain_nonce(ct_can_node *n)
{
    json_t *v = ct_can__registry_read(n, "leaderNonce", NULL);
    uint64_t nonce = UINT64_MAX;

    if (v == NULL || ct_parse_uint(&nonce, json_string_value(v), UINT64_MAX) < 0)
        nonce = UINT64_MAX; /* unknown: promise nothing */
    ct_error_clear();
    json_decref(v);
    return nonce;
}

/* ---------------------------------------------------------------- endpoints */

static int on_ping(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    json_t *st = ct_can_log_state(n->log), *body;
    (void)req;

    body = json_pack("{s:b, s:O}", "ok", 1, "last", json_object_get(st, "last"));
    json_decref(st);
    return ct_httpd_reply(resp, 200, body);
}

/* Any member: can this node reach url? (the leader's vote) */
static int on_vote(const struct _u_request *req, struct _u_response *resp, void *user)
{
    json_t *body = ct_can__body_of(req);
    const char *url = json_string_value(json_object_get(body, "url"));
    const char *kind = json_string_value(json_object_get(body, "kind"));
    bool down;
    (void)user;

    if (url == NULL || kind == NULL) {
        json_decref(body);
        return ct_httpd_reply_error(resp, 400, "vote takes {url, kind: node|component}");
    }
    down = strcmp(kind, "component") == 0 ? !ping_component(url) : !ping_node(url);
    json_decref(body);
    return ct_httpd_reply(resp, 200, json_pack("{s:b}", "down", down));
}

/* Leader: Algorithm 2's listenRemove for a member ({node}) or a component
 * ({comp}): the members vote; a strict majority that cannot reach it
 * removes it. */
static int on_remove(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    json_t *body = ct_can__body_of(req), *st, *members, *m, *target = NULL;
    const char *node = json_string_value(json_object_get(body, "node"));
    const char *comp = json_string_value(json_object_get(body, "comp"));
    const char *addr, *url;
    size_t down = 0, count;
    int rc = 0;

    if (!ct_can__is_leader(n)) {
        json_decref(body);
        return ct_can__not_leader(n, resp);
    }
    st = ct_can_log_state(n->log);
    members = json_object_get(st, "members");
    count = json_object_size(members);
    if (node != NULL && strcasecmp(node, n->me) != 0)
        target = json_object_get(members, node);
    else if (comp != NULL &&
             json_is_true(json_object_get(json_object_get(json_object_get(st, "components"), comp),
                                          "registered")))
        target = json_object_get(json_object_get(st, "components"), comp);
    if (target == NULL) {
        json_decref(st);
        json_decref(body);
        return ct_httpd_reply_error(resp, 404,
                                    "remove takes a member {node} other than the "
                                    "leader, or a registered component {comp}");
    }
    url = json_string_value(json_object_get(target, "url"));
    json_object_foreach (members, addr, m) {
        json_t *vote = NULL, *ask;
        if (node != NULL && strcasecmp(addr, node) == 0)
            continue; /* the accused does not vote */
        if (strcasecmp(addr, n->me) == 0) {
            down += comp ? !ping_component(url) : !ping_node(url);
            continue;
        }
        ask = json_pack("{s:s, s:s}", "url", url, "kind", comp ? "component" : "node");
        if (ct_http_json(&vote, "POST", json_string_value(json_object_get(m, "url")), "/can/vote",
                         ask, VOTE_TIMEOUT_MS) == 200)
            down += json_is_true(json_object_get(vote, "down"));
        json_decref(vote);
        json_decref(ask);
    }
    if (down * 2 > count) {
        json_t *e;
        if (node != NULL) {
            json_t *args = json_pack("[s]", node);
            /* On the Registry first: its membership intervals are the
             * node's pay. A node the Registry no longer lists is fine. */
            if (ct_ledger_transact(n->reg, n->sender, NULL, &n->o.registry, NULL, "deregisterPeer",
                                   args) < 0)
                ct_log(CT_LOG_WARN, "can: deregisterPeer(%s): %s", node, ct_error_last());
            json_decref(args);
            e = json_pack("{s:s, s:s}", "type", "REMOVE", "node", node);
        } else
            e = json_pack("{s:s, s:s}", "type", "DEREGISTER", "comp", comp);
        rc = ct_can__propose(n, e, NULL);
        ct_log(CT_LOG_INFO, "can: %s %s removed by %zu of %zu members",
               node ? "member" : "component", node ? node : comp, down, count);
        if (comp != NULL)
            ct_can__reassign_orphans(n);
    }
    json_decref(st);
    json_decref(body);
    if (rc < 0)
        return ct_httpd_reply_error(resp, ct_can__status_of(rc), ct_error_last());
    return ct_httpd_reply(resp, 200,
                          json_pack("{s:b, s:I, s:I}", "removed", down * 2 > count, "down",
                                    (json_int_t)down, "members", (json_int_t)count));
}

/* Whether address a sorts before b. */
static bool lower(const char *a, const char *b)
{
    ct_address x, y;

    if (ct_address_parse(&x, a) < 0 || ct_address_parse(&y, b) < 0) {
        ct_error_clear();
        return strcasecmp(a, b) < 0;
    }
    return memcmp(x.b, y.b, CT_ADDRESS_SIZE) < 0;
}

/* Whether candidate a (its ledger at index last under leader nonce ln) is
 * a better leader than b: a newer ledger, or the same and a lower
 * address. Every acceptor ranks alike, so candidates that each promised
 * themselves do not split the vote for ever. */
static bool better(json_int_t a_ln, json_int_t a_last, const char *a, json_int_t b_ln,
                   json_int_t b_last, const char *b)
{
    if (a_ln != b_ln)
        return a_ln > b_ln;
    if (a_last != b_last)
        return a_last > b_last;
    return lower(a, b);
}

/* Algorithm 4: a promise for nonce to candidate, unless the nonce is
 * stale, another candidate holds a live promise for it, the candidate's
 * ledger is behind ours, or the leader still answers. */
static int on_promise(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    json_t *body = ct_can__body_of(req), *st;
    json_int_t nonce = json_integer_value(json_object_get(body, "nonce"));
    json_int_t last = json_integer_value(json_object_get(body, "last"));
    json_int_t last_nonce = json_integer_value(json_object_get(body, "last_nonce"));
    const char *cand = json_string_value(json_object_get(body, "candidate"));
    char why[160] = "";
    char leader_url[256];
    int64_t now = ct_time_mono_ms();
    uint64_t on_chain;

    if (cand == NULL || nonce <= 0) {
        json_decref(body);
        return ct_httpd_reply_error(resp, 400,
                                    "promise takes {nonce, candidate, last, last_nonce}");
    }
    st = ct_can_log_state(n->log);
    on_chain = chain_nonce(n);
    if (on_chain == UINT64_MAX || (uint64_t)nonce <= on_chain)
        snprintf(why, sizeof(why), "nonce %lld is not new", (long long)nonce);
    else if (json_integer_value(json_object_get(st, "last_nonce")) > last_nonce ||
             (json_integer_value(json_object_get(st, "last_nonce")) == last_nonce &&
              json_integer_value(json_object_get(st, "last")) > last))
        snprintf(why, sizeof(why), "my ledger is ahead of the candidate's");
    json_decref(st);
    /* The leader as the Registry names it now: one elected a moment ago
     * must not be voted out by a node that has not heard of it yet. */
    if (why[0] == '\0' && ct_can__refresh_leader(n) < 0)
        snprintf(why, sizeof(why), "cannot read the Registry");
    ct_error_clear();
    if (why[0] == '\0' && ct_can__is_leader(n))
        snprintf(why, sizeof(why), "I am the leader");
    pthread_mutex_lock(&n->mu);
    snprintf(leader_url, sizeof(leader_url), "%s", n->leader_url);
    if (why[0] == '\0' && n->promised_nonce > (uint64_t)nonce)
        snprintf(why, sizeof(why), "promised a newer nonce");
    /* A live promise to another candidate holds, unless no accept was
     * signed yet and the requester is a better leader (better()). */
    else if (why[0] == '\0' && n->promised_nonce == (uint64_t)nonce &&
             strcasecmp(n->promised_to, cand) != 0 &&
             (n->signed_accept || (now - n->promised_at < PROMISE_TTL_MS &&
                                   !better(last_nonce, last, cand, n->promised_log[0],
                                           n->promised_log[1], n->promised_to))))
        snprintf(why, sizeof(why), "promised nonce %lld to %s", (long long)nonce, n->promised_to);
    pthread_mutex_unlock(&n->mu);
    if (why[0] == '\0' && ping_node(leader_url))
        snprintf(why, sizeof(why), "the leader answers");
    if (why[0] == '\0') {
        pthread_mutex_lock(&n->mu);
        if (n->promised_nonce != (uint64_t)nonce || strcasecmp(n->promised_to, cand) != 0)
            n->signed_accept = false;
        n->promised_nonce = (uint64_t)nonce;
        n->promised_log[0] = last_nonce;
        n->promised_log[1] = last;
        snprintf(n->promised_to, sizeof(n->promised_to), "%s", cand);
        n->promised_at = now;
        pthread_mutex_unlock(&n->mu);
    }
    json_decref(body);
    return ct_httpd_reply(resp, 200,
                          json_pack("{s:b, s:s}", "promise", why[0] == '\0', "reason", why));
}

/* Algorithm 4's second step: a signed accept (EIP-712 Accept(nonce,
 * leader) in the Registry's domain), only for the candidate promised. */
static int on_accept(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    json_t *body = ct_can__body_of(req), *values;
    json_int_t nonce = json_integer_value(json_object_get(body, "nonce"));
    const char *leader = json_string_value(json_object_get(body, "leader"));
    uint8_t domain[32], sh[32], digest[32], sig[65];
    char hex[140];
    bool ok;

    if (leader == NULL || nonce <= 0) {
        json_decref(body);
        return ct_httpd_reply_error(resp, 400, "accept takes {nonce, leader}");
    }
    pthread_mutex_lock(&n->mu);
    ok = n->promised_nonce == (uint64_t)nonce && strcasecmp(n->promised_to, leader) == 0;
    if (ok)
        n->signed_accept = true;
    pthread_mutex_unlock(&n->mu);
    values = json_pack("[I, s]", nonce, leader);
    if (ok) {
        ct_eip712_domain(domain, "CatenaRegistry", "1", n->chain_id, &n->o.registry);
        ok = ct_eip712_hash_struct(sh, "Accept(uint256 nonce,address leader)", values) == 0;
        ct_eip712_digest(digest, domain, sh);
        ok = ok && ct_eip712_sign(sig, digest, n->key) == 0;
    }
    json_decref(values);
    json_decref(body);
    if (!ok)
        return ct_httpd_reply_error(resp, 409, "no promise to this candidate for this nonce");
    ct_hex_encode(hex, sizeof(hex), sig, 65, true);
    return ct_httpd_reply(resp, 200, json_pack("{s:s, s:s}", "signature", hex, "signer", n->me));
}

int ct_can__elect_endpoints(ct_can_node *n)
{
    if (ulfius_add_endpoint_by_val(&n->inst, "GET", "/can/ping", NULL, 0, on_ping, n) != U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "POST", "/can/vote", NULL, 0, on_vote, n) != U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "POST", "/can/remove", NULL, 0, on_remove, n) !=
            U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "POST", "/can/promise", NULL, 0, on_promise, n) !=
            U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "POST", "/can/accept", NULL, 0, on_accept, n) != U_OK)
        return ct_error_set(CT_ENOMEM, "can: cannot set up the HTTP server");
    return 0;
}

/* ---------------------------------------------------------------- proposer */

struct accept {
    ct_address signer;
    char sig[140];
};

static int by_signer(const void *a, const void *b)
{
    return memcmp(((const struct accept *)a)->signer.b, ((const struct accept *)b)->signer.b,
                  CT_ADDRESS_SIZE);
}

/* The members as the Registry lists them, {address: {url: contact}}: the
 * electorate (registerLeader counts the Registry's members), also when
 * this node's ledger has not heard of a join yet. NULL on an RPC error. */
json_t *ct_can__chain_members(ct_can_node *n)
{
    json_t *list = ct_can__registry_read(n, "memberList", NULL), *out = json_object(), *a;
    size_t i;

    if (list == NULL || out == NULL) {
        json_decref(list);
        json_decref(out);
        return NULL;
    }
    json_array_foreach (list, i, a) {
        json_t *info = ct_can__registry_read(n, "nodeInfo", json_pack("[O]", a));
        const char *contact = json_string_value(json_array_get(info, 0));
        if (contact != NULL)
            json_object_set_new(out, json_string_value(a), json_pack("{s:s}", "url", contact));
        json_decref(info);
    }
    json_decref(list);
    return out;
}

bool ct_can__chain_member(ct_can_node *n)
{
    json_t *info = ct_can__registry_read(n, "nodeInfo", json_pack("[s]", n->me));
    bool yes = json_is_true(json_array_get(info, 2));

    json_decref(info);
    ct_error_clear();
    return yes;
}

/* Algorithm 3: promises, then accepts, from a strict majority of the
 * members, then registerLeader on the Registry. Returns: whether this
 * node is now the leader. */
static bool lead_elect(ct_can_node *n)
{
    json_t *st = ct_can_log_state(n->log), *members = ct_can__chain_members(n), *m;
    uint64_t nonce = chain_nonce(n);
    size_t count = json_object_size(members), promises = 0, n_acc = 0;
    struct accept *acc = calloc(count + 1, sizeof(*acc));
    const char **promising = calloc(count + 1, sizeof(char *));
    const char *addr;
    bool won = false;

    if (nonce == UINT64_MAX || acc == NULL || promising == NULL || count == 0 || st == NULL)
        goto done;
    nonce++;
    json_object_foreach (members, addr, m) {
        json_t *out = NULL,
               *ask = json_pack("{s:I, s:s, s:O, s:O}", "nonce", (json_int_t)nonce, "candidate",
                                n->me, "last", json_object_get(st, "last"), "last_nonce",
                                json_object_get(st, "last_nonce"));
        const char *url = json_string_value(json_object_get(m, "url"));
        if (ct_http_json(&out, "POST", url, "/can/promise", ask, VOTE_TIMEOUT_MS) == 200 &&
            json_is_true(json_object_get(out, "promise")))
            promising[promises++] = url;
        json_decref(out);
        json_decref(ask);
    }
    if (promises * 2 <= count) {
        ct_log(CT_LOG_INFO, "can: election for nonce %llu: %zu promises of %zu members",
               (unsigned long long)nonce, promises, count);
        goto done;
    }
    for (size_t i = 0; i < promises; i++) {
        json_t *out = NULL,
               *ask = json_pack("{s:I, s:s}", "nonce", (json_int_t)nonce, "leader", n->me);
        if (ct_http_json(&out, "POST", promising[i], "/can/accept", ask, VOTE_TIMEOUT_MS) == 200 &&
            json_is_string(json_object_get(out, "signature")) &&
            ct_address_parse(&acc[n_acc].signer,
                             json_string_value(json_object_get(out, "signer"))) == 0) {
            snprintf(acc[n_acc].sig, sizeof(acc[n_acc].sig), "%s",
                     json_string_value(json_object_get(out, "signature")));
            n_acc++;
        }
        ct_error_clear();
        json_decref(out);
        json_decref(ask);
    }
    if (n_acc * 2 > count) {
        json_t *sigs = json_array(), *args;
        qsort(acc, n_acc, sizeof(acc[0]), by_signer); /* the Registry wants them sorted */
        for (size_t i = 0; i < n_acc; i++)
            json_array_append_new(sigs, json_string(acc[i].sig));
        args = json_pack("[I, o]", (json_int_t)nonce, sigs);
        won = ct_ledger_transact(n->reg, n->sender, NULL, &n->o.registry, NULL, "registerLeader",
                                 args) == 0;
        ct_log(won ? CT_LOG_INFO : CT_LOG_WARN, "can: election for nonce %llu: %s",
               (unsigned long long)nonce, won ? "elected" : ct_error_last());
        json_decref(args);
    }
done:
    ct_error_clear();
    free(acc);
    free(promising);
    json_decref(members);
    json_decref(st);
    return won;
}

/* ---------------------------------------------------------------- checkState */

/* A random element's key and value of obj among those keep accepts. */
static const char *pick(json_t *obj, json_t **value, bool (*keep)(const char *, json_t *, void *),
                        void *payload)
{
    const char *key, *chosen = NULL;
    size_t seen = 0;
    json_t *v;

    json_object_foreach (obj, key, v)
        if (keep(key, v, payload) && rand() % (int)++seen == 0) { /* reservoir sampling */
            chosen = key;
            *value = v;
        }
    return chosen;
}

static bool other_member(const char *key, json_t *v, void *payload)
{
    (void)v;
    return strcasecmp(key, payload) != 0;
}

static bool registered_comp(const char *key, json_t *v, void *payload)
{
    (void)key;
    (void)payload;
    return json_is_true(json_object_get(v, "registered"));
}

static void ask_removal(ct_can_node *n, const char *key, const char *id)
{
    char leader_url[256];
    json_t *body = json_pack("{s:s}", key, id), *out = NULL;

    pthread_mutex_lock(&n->mu);
    snprintf(leader_url, sizeof(leader_url), "%s", n->leader_url);
    pthread_mutex_unlock(&n->mu);
    ct_http_json(&out, "POST", leader_url, "/can/remove", body, 6 * VOTE_TIMEOUT_MS);
    if (json_is_true(json_object_get(out, "removed")))
        ct_log(CT_LOG_INFO, "can: %s %s removed at my request", key, id);
    json_decref(out);
    json_decref(body);
}

/* Copies the leader's URL into buf. Returns: buf. */
static const char *current_leader_url(ct_can_node *n, char *buf, size_t size)
{
    pthread_mutex_lock(&n->mu);
    snprintf(buf, size, "%s", n->leader_url);
    pthread_mutex_unlock(&n->mu);
    return buf;
}

void ct_can__check_state(ct_can_node *n)
{
    json_t *st, *v = NULL;
    const char *who;
    char leader_url[256];
    int64_t now = ct_time_mono_ms();

    if (now < n->next_check)
        return;
    n->next_check = now + CHECK_MS;
    st = ct_can_log_state(n->log);
    if (st == NULL || (json_object_get(json_object_get(st, "members"), n->me) == NULL &&
                       !ct_can__chain_member(n))) {
        json_decref(st);
        return; /* not a member (yet): nothing to watch */
    }
    pthread_mutex_lock(&n->mu);
    snprintf(leader_url, sizeof(leader_url), "%s", n->leader_url);
    pthread_mutex_unlock(&n->mu);
    /* The leader every period (a bounded failover), and one other member
     * and one component at random (Algorithm 2). */
    if (!ping_node(leader_url) && ct_can__refresh_leader(n) == 0 && !ct_can__is_leader(n) &&
        !ping_node(current_leader_url(n, leader_url, sizeof(leader_url)))) {
        ct_log(CT_LOG_WARN, "can: the leader at %s does not answer: electing", leader_url);
        if (!lead_elect(n))
            n->next_check = ct_time_mono_ms() + 200 + rand() % 1500; /* split votes: back off */
    } else if ((who = pick(json_object_get(st, "members"), &v, other_member, n->me)) != NULL &&
               strcmp(json_string_value(json_object_get(v, "url")), leader_url) != 0 &&
               !ping_node(json_string_value(json_object_get(v, "url"))))
        ask_removal(n, "node", who);
    v = NULL;
    if ((who = pick(json_object_get(st, "components"), &v, registered_comp, NULL)) != NULL &&
        !ping_component(json_string_value(json_object_get(v, "url"))))
        ask_removal(n, "comp", who);
    json_decref(st);
}

void ct_can__reassign_orphans(ct_can_node *n)
{
    json_t *st = ct_can_log_state(n->log), *w;
    const char *id;

    json_object_foreach (json_object_get(st, "works"), id, w) {
        const char *comp = json_string_value(json_object_get(w, "comp")), *to;
        json_t *e;
        if (json_is_true(json_object_get(w, "finished")) ||
            json_is_true(json_object_get(json_object_get(json_object_get(st, "components"), comp),
                                         "registered")))
            continue;
        if ((to = ct_can__pick_component(n, st)) == NULL)
            break; /* none left: tried again when one registers */
        e = json_pack("{s:s, s:s, s:s, s:O}", "type", "REASSIGN_WORK", "work", id, "comp", to,
                      "cpa", json_object_get(w, "checkpoints"));
        if (ct_can__propose(n, e, NULL) < 0)
            ct_log(CT_LOG_WARN, "can: reassigning %s: %s", id, ct_error_last());
        else
            ct_log(CT_LOG_INFO, "can: work %s reassigned from %s to %s", id, comp, to);
    }
    json_decref(st);
}

void ct_can__reconcile_members(ct_can_node *n)
{
    json_t *chain = ct_can__chain_members(n), *st = ct_can_log_state(n->log), *m;
    const char *addr;

    if (chain == NULL || st == NULL) {
        json_decref(chain);
        json_decref(st);
        ct_error_clear();
        return;
    }
    json_object_foreach (chain, addr, m)
        if (json_object_get(json_object_get(st, "members"), addr) == NULL &&
            ct_can__propose(n,
                            json_pack("{s:s, s:s, s:O}", "type", "JOIN", "node", addr, "url",
                                      json_object_get(m, "url")),
                            NULL) == 0)
            ct_log(CT_LOG_INFO, "can: %s is a member on the Registry: entered in the ledger", addr);
    json_object_foreach (json_object_get(st, "members"), addr, m)
        if (json_object_get(chain, addr) == NULL && strcasecmp(addr, n->me) != 0 &&
            ct_can__propose(n, json_pack("{s:s, s:s}", "type", "REMOVE", "node", addr), NULL) == 0)
            ct_log(CT_LOG_INFO, "can: %s is no member on the Registry: removed from the ledger",
                   addr);
    ct_error_clear();
    json_decref(chain);
    json_decref(st);
}
