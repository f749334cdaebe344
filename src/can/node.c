/* A CAN node (seed 002 section 4): its HTTP API on Ulfius, the leader's
 * work (Algorithm 1's joins recorded on the Registry, ordering the CAN
 * ledger and pushing it to every member, components, work entries and
 * checkpoints) and a follower's (joining through the leader, taking its
 * entries, catching up after a restart, fetching checkpoints it lacks).
 * Who leads is read from the Registry. Failure detection and elections
 * (Algorithms 2 to 4) are in elect.c, applications' checkpoints on chain in
 * anchor.c. */
#include "can_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ulfius.h>

/* ---------------------------------------------------------------- chain */

json_t *ct_can__registry_read(ct_can_node *n, const char *fn, json_t *args)
{
    return ct_can__chain_read(n, n->reg, &n->o.registry, fn, args);
}

/* Reads the leader, its nonce and contact from the Registry. */
int ct_can__refresh_leader(ct_can_node *n)
{
    json_t *leader = ct_can__registry_read(n, "leader", NULL);
    json_t *nonce = ct_can__registry_read(n, "leaderNonce", NULL);
    json_t *contact = ct_can__registry_read(n, "leaderContact", NULL);
    uint64_t nv = 0;
    int rc = 0;

    if (leader == NULL || nonce == NULL || contact == NULL ||
        ct_parse_uint(&nv, json_string_value(nonce), UINT64_MAX) < 0)
        rc = CT_ERPC;
    else {
        pthread_mutex_lock(&n->mu);
        snprintf(n->leader, sizeof(n->leader), "%s", json_string_value(leader));
        snprintf(n->leader_url, sizeof(n->leader_url), "%s", json_string_value(contact));
        n->nonce = nv;
        pthread_mutex_unlock(&n->mu);
    }
    json_decref(leader);
    json_decref(nonce);
    json_decref(contact);
    return rc;
}

bool ct_can__is_leader(ct_can_node *n)
{
    bool yes;

    pthread_mutex_lock(&n->mu);
    yes = strcasecmp(n->leader, n->me) == 0;
    pthread_mutex_unlock(&n->mu);
    return yes;
}

/* ---------------------------------------------------------------- HTTP helpers */

/* Maps a library error to an HTTP status. */
unsigned ct_can__status_of(int rc)
{
    switch (rc) {
    case CT_EINVAL:
    case CT_EPARSE: return 400;
    case CT_EAUTH: return 403;
    case CT_ENOTFOUND: return 404;
    case CT_EEXIST:
    case CT_ESTATE: return 409;
    case CT_ELIMIT: return 413;
    default: return 500;
    }
}

/* Refuses a write on a node that does not lead, naming the leader. */
int ct_can__not_leader(ct_can_node *n, struct _u_response *resp)
{
    json_t *body;

    pthread_mutex_lock(&n->mu);
    body = json_pack("{s:s, s:s, s:s}", "error", "not the leader", "leader", n->leader,
                     "leader_url", n->leader_url);
    pthread_mutex_unlock(&n->mu);
    return ct_httpd_reply(resp, 421, body);
}

json_t *ct_can__body_of(const struct _u_request *req)
{
    json_t *v = ulfius_get_json_body_request(req, NULL);

    if (v != NULL && (!json_is_object(v) || ct_json_depth(v) > 16)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

int ct_can__propose(ct_can_node *n, json_t *body, uint64_t *index)
{
    uint64_t nonce;
    int rc;

    pthread_mutex_lock(&n->mu);
    nonce = n->nonce;
    pthread_mutex_unlock(&n->mu);
    json_object_set_new(body, "time", json_integer(ct_time_now_ms()));
    rc = ct_can_log_propose(n->log, index, nonce, body);
    json_decref(body);
    return rc;
}

/* Whether a majority of members (this node included) hold index. */
static bool majority_holds(ct_can_node *n, const json_t *members, uint64_t index)
{
    size_t holding = 1;

    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->n_peers; i++)
        holding += !n->peers[i]->gone && n->peers[i]->acked >= index &&
                   json_object_get(members, n->peers[i]->addr) != NULL;
    pthread_mutex_unlock(&n->mu);
    return holding * 2 > json_object_size(members);
}

/* Leader: appends body, and answers once a majority of the members hold
 * it (so a new leader, elected by a majority, has it too): 200 with its
 * index, or 503 when that takes longer than COMMIT_TIMEOUT_MS. The
 * majority is of the members as the entry left them, read once (the poll
 * below runs every 10 ms). */
int ct_can__propose_reply(ct_can_node *n, struct _u_response *resp, json_t *body)
{
    int64_t deadline = ct_time_mono_ms() + COMMIT_TIMEOUT_MS;
    uint64_t index = 0;
    json_t *st;
    int rc = ct_can__propose(n, body, &index);

    if (rc < 0)
        return ct_httpd_reply_error(resp, ct_can__status_of(rc), ct_error_last());
    st = ct_can_log_state(n->log);
    while (!majority_holds(n, json_object_get(st, "members"), index)) {
        if (ct_time_mono_ms() >= deadline || atomic_load(&n->stop)) {
            json_decref(st);
            return ct_httpd_reply(
                resp, 503,
                json_pack("{s:s, s:I}", "error",
                          "stored by the leader, not yet by a majority of members", "index",
                          (json_int_t)index));
        }
        ct_sleep_ms(10);
    }
    json_decref(st);
    return ct_httpd_reply(resp, 200, json_pack("{s:I}", "index", (json_int_t)index));
}

/* The digest a leader signs: keccak-256 of the body without "sig", as
 * compact JSON with sorted keys (jansson writes it alike on both sides). */
static int body_digest(uint8_t out[32], const json_t *body)
{
    json_t *copy = json_copy((json_t *)body);
    char *text;

    if (copy == NULL)
        return ct_error_set(CT_ENOMEM, "can: out of memory");
    json_object_del(copy, "sig");
    text = ct_json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    if (text == NULL)
        return ct_error_set(CT_ENOMEM, "can: out of memory");
    ct_keccak256(out, text, strlen(text));
    free(text);
    return 0;
}

int ct_can__sign_body(ct_can_node *n, json_t *body)
{
    uint8_t digest[32], sig[65];
    char hex[140];
    int rc;

    json_object_set_new(body, "leader", json_string(n->me));
    json_object_set_new(body, "at", json_integer(ct_time_now_ms()));
    if ((rc = body_digest(digest, body)) < 0 || (rc = ct_eip712_sign(sig, digest, n->key)) < 0)
        return rc;
    ct_hex_encode(hex, sizeof(hex), sig, 65, true);
    return json_object_set_new(body, "sig", json_string(hex)) == 0
               ? 0
               : ct_error_set(CT_ENOMEM, "can: out of memory");
}

/* Whether body was signed, lately, by the leader the Registry names. */
static int verify_leader_body(ct_can_node *n, const json_t *body)
{
    const char *hex = json_string_value(json_object_get(body, "sig"));
    const char *claimed = json_string_value(json_object_get(body, "leader"));
    json_int_t at = json_integer_value(json_object_get(body, "at"));
    uint8_t digest[32], sig[65], pub[CT_PUBKEY_SIZE];
    char signer[CT_ADDRESS_TEXT_SIZE];
    ct_address addr;
    size_t len = 0;

    if (hex == NULL || claimed == NULL || ct_hex_decode(sig, 65, &len, hex, strlen(hex)) < 0 ||
        len != 65 || sig[64] < 27 || sig[64] > 28 || body_digest(digest, body) < 0 ||
        ct_recover(pub, digest, sig, sig[64] - 27, true) < 0)
        return ct_error_set(CT_EAUTH, "append: not signed");
    ct_address_from_pubkey(&addr, pub);
    ct_address_format(signer, &addr);
    if (strcasecmp(signer, claimed) != 0)
        return ct_error_set(CT_EAUTH, "append: signed by %s, not %s", signer, claimed);
    if (llabs(ct_time_now_ms() - at) > 60000)
        return ct_error_set(CT_EAUTH, "append: signed at a time too far from ours");
    for (int attempt = 0; attempt < 2; attempt++) {
        char leader[CT_ADDRESS_TEXT_SIZE];
        pthread_mutex_lock(&n->mu);
        snprintf(leader, sizeof(leader), "%s", n->leader);
        pthread_mutex_unlock(&n->mu);
        if (strcasecmp(signer, leader) == 0)
            return 0;
        if (attempt == 0 && ct_can__refresh_leader(n) < 0) /* elected a moment ago? */
            ct_error_clear();
    }
    return ct_error_set(CT_EAUTH, "append: %s is not the Registry's leader", signer);
}

/* Notes the checkpoint of a CHECKPOINT_WORK entry (or every checkpoint of
 * a REASSIGN_WORK) for the background thread to fetch if it lacks it. */
static void want_checkpoints(ct_can_node *n, const json_t *e)
{
    const char *type = json_string_value(json_object_get(e, "type"));
    const json_t *list = json_object_get(e, "cpa"), *d;
    size_t i;

    if (type == NULL)
        return;
    pthread_mutex_lock(&n->mu);
    if (strcmp(type, "CHECKPOINT_WORK") == 0 && n->n_wanted < CT_CAN_MAX_WANTED)
        snprintf(n->wanted[n->n_wanted++], 67, "%s",
                 json_string_value(json_object_get(e, "digest")));
    else if (strcmp(type, "REASSIGN_WORK") == 0)
        json_array_foreach (list, i, d)
            if (n->n_wanted < CT_CAN_MAX_WANTED)
                snprintf(n->wanted[n->n_wanted++], 67, "%s", json_string_value(d));
    pthread_mutex_unlock(&n->mu);
}

/* ---------------------------------------------------------------- endpoints */

static int on_status(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    json_t *st = ct_can_log_state(n->log);
    (void)req;

    if (st == NULL)
        return ct_httpd_reply_error(resp, 500, "out of memory");
    pthread_mutex_lock(&n->mu);
    json_object_set_new(st, "self", json_string(n->me));
    json_object_set_new(st, "url", json_string(n->url));
    json_object_set_new(st, "chain_leader", json_string(n->leader));
    json_object_set_new(st, "chain_nonce", json_integer((json_int_t)n->nonce));
    json_object_set_new(st, "leader_url", json_string(n->leader_url));
    json_object_set_new(st, "role",
                        json_string(strcasecmp(n->leader, n->me) == 0 ? "leader" : "follower"));
    pthread_mutex_unlock(&n->mu);
    return ct_httpd_reply(resp, 200, st);
}

/* Algorithm 1 on the leader: accept below Nmin; above it only while the
 * surplus is below the churn; never past Nmax. */
static int join_allowed(ct_can_node *n, size_t members)
{
    json_t *nmin = ct_can__registry_read(n, "nmin", NULL),
           *nmax = ct_can__registry_read(n, "nmax", NULL);
    json_t *recent = NULL, *e;
    uint64_t lo = 0, hi = 0;
    int64_t churn = 0, now = ct_time_now_ms();
    size_t i;
    int rc = 0;

    if (nmin == NULL || nmax == NULL || ct_parse_uint(&lo, json_string_value(nmin), 1u << 20) < 0 ||
        ct_parse_uint(&hi, json_string_value(nmax), 1u << 20) < 0)
        rc = ct_error_set(CT_ERPC, "cannot read Nmin and Nmax from the Registry");
    json_decref(nmin);
    json_decref(nmax);
    if (rc < 0 || members < lo)
        return rc;
    if (members >= hi)
        return ct_error_set(CT_ESTATE, "the network has Nmax = %llu members",
                            (unsigned long long)hi);
    {
        json_t *st = ct_can_log_state(n->log);
        uint64_t last = (uint64_t)json_integer_value(json_object_get(st, "last"));
        json_decref(st);
        if (ct_can_log_since(n->log, &recent, last > 4 * BATCH ? last - 4 * BATCH : 1, 4 * BATCH) <
            0)
            return CT_EIO;
    }
    json_array_foreach (recent, i, e) {
        const char *type = json_string_value(json_object_get(e, "type"));
        if (now - json_integer_value(json_object_get(e, "time")) > CHURN_WINDOW_MS)
            continue;
        churn += strcmp(type, "REMOVE") == 0 ? 1 : strcmp(type, "JOIN") == 0 ? -1 : 0;
    }
    json_decref(recent);
    if ((int64_t)(members - lo) >= churn)
        return ct_error_set(CT_ESTATE,
                            "the network has %zu members (Nmin %llu) and a churn of %lld: "
                            "no room now",
                            members, (unsigned long long)lo, (long long)churn);
    return 0;
}

static int on_join(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    json_t *body = ct_can__body_of(req), *st, *args;
    const char *node, *url;
    ct_address addr;
    int rc;

    if (!ct_can__is_leader(n)) {
        json_decref(body);
        return ct_can__not_leader(n, resp);
    }
    node = json_string_value(json_object_get(body, "node"));
    url = json_string_value(json_object_get(body, "url"));
    if (body == NULL || url == NULL || node == NULL || ct_address_parse(&addr, node) < 0) {
        json_decref(body);
        return ct_httpd_reply_error(resp, 400, "join takes {\"node\": address, \"url\": contact}");
    }
    st = ct_can_log_state(n->log);
    if (json_object_get(json_object_get(st, "members"), node) != NULL) {
        json_decref(st);
        json_decref(body);
        return ct_httpd_reply(resp, 200, json_pack("{s:b}", "member", 1)); /* asked twice */
    }
    rc = join_allowed(n, json_object_size(json_object_get(st, "members")));
    json_decref(st);
    /* Recorded on the Registry first (the node's pay rests on it), then in
     * the CAN ledger. */
    args = json_pack("[s]", node);
    if (rc == 0)
        rc =
            ct_ledger_transact(n->reg, n->sender, NULL, &n->o.registry, NULL, "registerPeer", args);
    json_decref(args);
    if (rc < 0) {
        json_decref(body);
        return ct_httpd_reply_error(resp, rc == CT_EREVERT ? 409 : ct_can__status_of(rc),
                                    ct_error_last());
    }
    json_object_set_new(body, "type", json_string("JOIN"));
    return ct_can__propose_reply(n, resp, body);
}

static int on_append(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    json_t *body = ct_can__body_of(req), *entries = json_object_get(body, "entries"), *e, *st;
    size_t i;
    int rc = 0;

    if (!json_is_array(entries)) {
        json_decref(body);
        return ct_httpd_reply_error(resp, 400, "append takes {\"entries\": [...]}");
    }
    /* Only the leader writes a follower's ledger. */
    if ((rc = verify_leader_body(n, body)) < 0) {
        json_decref(body);
        return ct_httpd_reply_error(resp, 403, ct_error_last());
    }
    json_array_foreach (entries, i, e) {
        if ((rc = ct_can_log_accept(n->log, e)) < 0)
            break;
        want_checkpoints(n, e);
    }
    pthread_mutex_lock(&n->mu);
    n->last_heard = ct_time_mono_ms();
    pthread_mutex_unlock(&n->mu);
    st = ct_can_log_state(n->log);
    json_decref(body);
    /* The leader sends from last + 1 next time. */
    body = json_pack("{s:O, s:s?}", "last", json_object_get(st, "last"), "error",
                     rc < 0 ? ct_error_last() : NULL);
    json_decref(st);
    return ct_httpd_reply(resp, rc < 0 ? 409 : 200, body);
}

static int on_log(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    const char *from_text = u_map_get(req->map_url, "from");
    uint64_t from = 1;
    json_t *entries = NULL;

    if (from_text != NULL && ct_parse_uint(&from, from_text, UINT64_MAX) < 0)
        return ct_httpd_reply_error(resp, 400, "from: an index");
    if (ct_can_log_since(n->log, &entries, from, BATCH) < 0)
        return ct_httpd_reply_error(resp, 500, ct_error_last());
    {
        /* Where this log ends, so a follower can tell that its tail
         * diverged (entries an old leader wrote that no majority took). */
        json_t *st = ct_can_log_state(n->log);
        json_t *body =
            json_pack("{s:o, s:O, s:O}", "entries", entries, "last", json_object_get(st, "last"),
                      "last_nonce", json_object_get(st, "last_nonce"));
        json_decref(st);
        return ct_httpd_reply(resp, 200, body);
    }
}

static int on_component(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    json_t *body = ct_can__body_of(req);

    if (!ct_can__is_leader(n)) {
        json_decref(body);
        return ct_can__not_leader(n, resp);
    }
    if (body == NULL || !json_is_string(json_object_get(body, "url")))
        return ct_httpd_reply_error(resp, 400, "component takes {comp, url}");
    /* Registered only if the leader can reach it (section 4.2). */
    {
        long st = ct_http_json(NULL, "GET", json_string_value(json_object_get(body, "url")),
                               "/health", NULL, 2000);
        if (st < 200 || st >= 400) {
            json_decref(body);
            return ct_httpd_reply_error(resp, 400, "the component does not answer GET /health");
        }
    }
    json_object_set_new(body, "type", json_string("REGISTER_COMPONENT"));
    return ct_can__propose_reply(n, resp, body);
}

/* The next registered component, round robin. */
const char *ct_can__pick_component(ct_can_node *n, json_t *st)
{
    json_t *comps = json_object_get(st, "components"), *c;
    const char *name, *pick = NULL;
    size_t k = 0, count = 0;

    json_object_foreach (comps, name, c)
        count += json_is_true(json_object_get(c, "registered"));
    pthread_mutex_lock(&n->mu);
    json_object_foreach (comps, name, c)
        if (json_is_true(json_object_get(c, "registered")) &&
            k++ == n->next_comp % (count + !count))
            pick = name;
    n->next_comp++;
    pthread_mutex_unlock(&n->mu);
    return pick;
}

static int on_work(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    json_t *body = ct_can__body_of(req), *st;
    ct_address app;

    if (!ct_can__is_leader(n)) {
        json_decref(body);
        return ct_can__not_leader(n, resp);
    }
    if (body == NULL)
        return ct_httpd_reply_error(resp, 400, "a JSON object, please");
    if (ct_can__app_of(&app, json_string_value(json_object_get(body, "work")))) {
        const char *desc = json_string_value(json_object_get(body, "description"));
        int rc = desc != NULL ? ct_can__check_app_work(n, &app, desc)
                              : ct_error_set(CT_EINVAL, "an application's work takes its TOSCA "
                                                        "document as description");
        if (rc < 0) {
            json_decref(body);
            return ct_httpd_reply_error(resp, ct_can__status_of(rc), ct_error_last());
        }
    }
    if (json_object_get(body, "comp") == NULL) {
        const char *comp;
        st = ct_can_log_state(n->log);
        if ((comp = ct_can__pick_component(n, st)) == NULL) {
            json_decref(st);
            json_decref(body);
            return ct_httpd_reply_error(resp, 409, "no component is registered");
        }
        json_object_set_new(body, "comp", json_string(comp));
        json_decref(st);
    }
    json_object_set_new(body, "type", json_string("ASSIGN_WORK"));
    return ct_can__propose_reply(n, resp, body);
}

/* A checkpoint's data, "0x" hex in "data", stored here before its
 * CHECKPOINT_WORK entry is written; members fetch it by digest. */
static int on_checkpoint(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    json_t *body = ct_can__body_of(req);
    const char *hex = json_string_value(json_object_get(body, "data")), *work, *comp;
    const json_t *cps;
    bool again;
    ct_address app;
    uint8_t *data = NULL;
    size_t len = 0;
    char digest[67];
    int rc;

    if (!ct_can__is_leader(n)) {
        json_decref(body);
        return ct_can__not_leader(n, resp);
    }
    if (hex == NULL || ct_hex_decode_new(&data, &len, hex) < 0) {
        json_decref(body);
        return ct_httpd_reply_error(resp, 400, "checkpoint takes {work, comp, data: \"0x...\"}");
    }
    work = json_string_value(json_object_get(body, "work"));
    comp = json_string_value(json_object_get(body, "comp"));
    if (ct_can__app_of(&app, work) && comp != NULL) {
        /* An application's: checked before anything is stored. */
        json_t *st = ct_can_log_state(n->log);
        json_t *w = json_object_get(json_object_get(st, "works"), work);
        if (w == NULL)
            rc = ct_error_set(CT_ENOTFOUND, "no work entry %s", work);
        else if (strcmp(json_string_value(json_object_get(w, "comp")) ?: "", comp) != 0)
            rc = ct_error_set(CT_EAUTH, "work entry %s is assigned to %s, not %s", work,
                              json_string_value(json_object_get(w, "comp")), comp);
        else
            rc = ct_can__check_app_checkpoint(n, &app, w, comp, data, len);
        /* The same checkpoint again (its store timed out and tried again):
         * the entry is there already, so it is not written twice. */
        cps = json_object_get(w, "checkpoints");
        ct_can_digest(digest, data, len);
        again =
            rc == 0 && json_array_size(cps) > 0 &&
            strcmp(json_string_value(json_array_get(cps, json_array_size(cps) - 1)), digest) == 0;
        json_decref(st);
        if (again) {
            free(data);
            json_decref(body);
            return ct_httpd_reply(resp, 200,
                                  json_pack("{s:s, s:b}", "digest", digest, "again", true));
        }
        if (rc < 0) {
            free(data);
            json_decref(body);
            return ct_httpd_reply_error(resp, ct_can__status_of(rc), ct_error_last());
        }
    }
    rc = ct_can_blob_put(n->log, digest, data, len);
    free(data);
    if (rc < 0) {
        json_decref(body);
        return ct_httpd_reply_error(resp, ct_can__status_of(rc), ct_error_last());
    }
    json_object_del(body, "data");
    json_object_set_new(body, "digest", json_string(digest));
    json_object_set_new(body, "type", json_string("CHECKPOINT_WORK"));
    return ct_can__propose_reply(n, resp, body);
}

static int on_blob(const struct _u_request *req, struct _u_response *resp, void *user)
{
    ct_can_node *n = user;
    const char *digest = u_map_get(req->map_url, "digest");
    uint8_t *data = NULL;
    size_t len = 0;
    char *hex;
    int rc;

    if (digest == NULL || (rc = ct_can_blob_get(n->log, &data, &len, digest)) < 0)
        return ct_httpd_reply_error(resp, digest ? ct_can__status_of(rc) : 400, ct_error_last());
    hex = malloc(len * 2 + 3);
    if (hex == NULL) {
        free(data);
        return ct_httpd_reply_error(resp, 500, "out of memory");
    }
    ct_hex_encode(hex, len * 2 + 3, data, len, true);
    free(data);
    {
        json_t *v = json_pack("{s:s, s:s}", "digest", digest, "data", hex);
        free(hex);
        return ct_httpd_reply(resp, 200, v);
    }
}

/* Liveness for probes and load balancers. */
static int on_health(const struct _u_request *req, struct _u_response *resp, void *user)
{
    (void)req;
    (void)user;
    return ct_httpd_reply(resp, 200, json_pack("{s:b}", "ok", 1));
}

static int on_default(const struct _u_request *req, struct _u_response *resp, void *user)
{
    (void)req;
    (void)user;
    return ct_httpd_reply_error(resp, 404, "not found");
}

/* ---------------------------------------------------------------- background */

/* Sends one batch of what the member lacks. Returns: whether it took it. */
static bool push_once(ct_can_node *n, struct peer *p)
{
    json_t *entries = NULL, *out = NULL, *wrap;
    uint64_t next;
    bool ok = false;

    pthread_mutex_lock(&n->mu);
    next = p->next;
    pthread_mutex_unlock(&n->mu);
    if (ct_can_log_since(n->log, &entries, next, BATCH) < 0) {
        ct_error_clear();
        return false;
    }
    if (json_array_size(entries) == 0) {
        json_decref(entries);
        return false;
    }
    wrap = json_pack("{s:o}", "entries", entries);
    if (wrap == NULL || ct_can__sign_body(n, wrap) < 0) {
        ct_error_clear();
        json_decref(wrap);
        return false;
    }
    if (ct_http_json(&out, "POST", p->url, "/can/append", wrap, PEER_TIMEOUT_MS) != 0 &&
        json_is_integer(json_object_get(out, "last"))) {
        uint64_t last = (uint64_t)json_integer_value(json_object_get(out, "last"));
        pthread_mutex_lock(&n->mu);
        p->next = last + 1;
        p->acked = last;
        pthread_mutex_unlock(&n->mu);
        ok = true;
    }
    json_decref(wrap);
    json_decref(out);
    return ok;
}

/* A member's replication thread: while this node leads, sends the member
 * whatever it lacks, as soon as it is there. */
static void *peer_main(void *arg)
{
    struct peer *p = arg;
    ct_can_node *n = p->node;

    for (;;) {
        bool gone, sent;
        pthread_mutex_lock(&n->mu);
        gone = p->gone;
        pthread_mutex_unlock(&n->mu);
        if (gone || atomic_load(&n->stop))
            return NULL;
        sent = ct_can__is_leader(n) && push_once(n, p);
        ct_sleep_ms(sent ? 0 : 20);
    }
}

/* Keeps one replication thread per member (other than this node). */
static void peer_list(ct_can_node *n)
{
    json_t *st = ct_can_log_state(n->log), *members = json_object_get(st, "members"), *m;
    const char *addr;

    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->n_peers; i++)
        n->peers[i]->gone = json_object_get(members, n->peers[i]->addr) == NULL;
    json_object_foreach (members, addr, m) {
        struct peer *p = NULL;
        if (strcasecmp(addr, n->me) == 0)
            continue;
        for (size_t i = 0; i < n->n_peers && p == NULL; i++)
            if (strcasecmp(n->peers[i]->addr, addr) == 0)
                p = n->peers[i];
        if (p != NULL && !p->gone)
            continue;
        if (p == NULL && (n->n_peers == MAX_PEERS || (p = calloc(1, sizeof(*p))) == NULL))
            continue;
        if (p->started) { /* a member that left and came back: a new thread */
            pthread_mutex_unlock(&n->mu);
            pthread_join(p->thread, NULL);
            pthread_mutex_lock(&n->mu);
        } else
            n->peers[n->n_peers++] = p;
        p->node = n;
        snprintf(p->addr, sizeof(p->addr), "%s", addr);
        snprintf(p->url, sizeof(p->url), "%s", json_string_value(json_object_get(m, "url")));
        p->next = 1;
        p->acked = 0;
        p->gone = false;
        p->started = pthread_create(&p->thread, NULL, peer_main, p) == 0;
    }
    pthread_mutex_unlock(&n->mu);
    json_decref(st);
}

/* Leader: on a fresh log, enters itself as member and leader. */
static void lead(ct_can_node *n)
{
    json_t *st = ct_can_log_state(n->log), *e;
    char old[CT_ADDRESS_TEXT_SIZE] = "";
    uint64_t nonce;
    bool member, led;

    pthread_mutex_lock(&n->mu);
    nonce = n->nonce;
    pthread_mutex_unlock(&n->mu);
    member = json_object_get(json_object_get(st, "members"), n->me) != NULL;
    led = json_is_string(json_object_get(st, "leader")) &&
          strcasecmp(json_string_value(json_object_get(st, "leader")), n->me) == 0 &&
          (uint64_t)json_integer_value(json_object_get(st, "nonce")) == nonce;
    /* An elected leader takes over from the one it replaced, which the
     * Registry has removed from the members (registerLeader). */
    if (json_is_string(json_object_get(st, "leader")) &&
        strcasecmp(json_string_value(json_object_get(st, "leader")), n->me) != 0 &&
        json_object_get(json_object_get(st, "members"),
                        json_string_value(json_object_get(st, "leader"))) != NULL)
        snprintf(old, sizeof(old), "%s", json_string_value(json_object_get(st, "leader")));
    json_decref(st);
    if (!member &&
        ct_can__propose(n,
                        json_pack("{s:s, s:s, s:s}", "type", "JOIN", "node", n->me, "url", n->url),
                        NULL) < 0)
        ct_log(CT_LOG_WARN, "can: %s", ct_error_last());
    if (!led) {
        /* What members were known to hold when this node last led may
         * have been replaced since by another leader's entries: start
         * over (their answers tell where they stand). */
        pthread_mutex_lock(&n->mu);
        for (size_t i = 0; i < n->n_peers; i++) {
            n->peers[i]->acked = 0;
            n->peers[i]->next = 1;
        }
        pthread_mutex_unlock(&n->mu);
        e = json_pack("{s:s, s:s, s:I}", "type", "LEADER", "node", n->me, "nonce",
                      (json_int_t)nonce);
        if (ct_can__propose(n, e, NULL) < 0)
            ct_log(CT_LOG_WARN, "can: %s", ct_error_last());
        else
            ct_log(CT_LOG_INFO, "can: leading with nonce %llu", (unsigned long long)nonce);
    }
    if (!led && old[0] != '\0' &&
        ct_can__propose(n, json_pack("{s:s, s:s}", "type", "REMOVE", "node", old), NULL) < 0)
        ct_log(CT_LOG_WARN, "can: %s", ct_error_last());
    if (ct_time_mono_ms() - n->last_reconcile >= 1000) {
        ct_can__reconcile_members(n);
        n->last_reconcile = ct_time_mono_ms();
    }
    peer_list(n);
    ct_can__reassign_orphans(n);
}

static json_t *leader_get(ct_can_node *n, const char *path)
{
    char url[512];
    json_t *out = NULL;
    long status = 0;

    pthread_mutex_lock(&n->mu);
    snprintf(url, sizeof(url), "%s%s", n->leader_url, path);
    pthread_mutex_unlock(&n->mu);
    if (ct_http_request(&status, &out, "GET", url, NULL, NULL, PEER_TIMEOUT_MS) < 0 ||
        status != 200) {
        ct_error_clear();
        json_decref(out);
        return NULL;
    }
    return out;
}

/* Follower: asks the leader to join (Algorithm 1) until it is a member. */
static void ask_to_join(ct_can_node *n)
{
    json_t *out = NULL;
    char url[512], body[512];
    long status = 0;

    pthread_mutex_lock(&n->mu);
    snprintf(url, sizeof(url), "%s/can/join", n->leader_url);
    pthread_mutex_unlock(&n->mu);
    snprintf(body, sizeof(body), "{\"node\":\"%s\",\"url\":\"%s\"}", n->me, n->url);
    if (ct_http_request(&status, &out, "POST", url, NULL, body, 10000) < 0)
        ct_log(CT_LOG_INFO, "can: the leader at %s does not answer: %s", url, ct_error_last());
    else if (status != 200)
        ct_log(CT_LOG_INFO, "can: join refused (%ld): %s", status,
               json_string_value(json_object_get(out, "error")));
    ct_error_clear();
    json_decref(out);
}

/* Follower: pulls what it lacks from the leader (after a restart, or when
 * pushes have stopped coming). */
static void pull_entries(ct_can_node *n)
{
    json_t *st = ct_can_log_state(n->log), *got, *e;
    uint64_t last = (uint64_t)json_integer_value(json_object_get(st, "last"));
    json_int_t last_nonce = json_integer_value(json_object_get(st, "last_nonce"));
    char path[64];
    size_t i;

    json_decref(st);
    snprintf(path, sizeof(path), "/can/log?from=%llu", (unsigned long long)(last + 1));
    if ((got = leader_get(n, path)) == NULL)
        return;
    /* Nothing new, yet the leader's log ends elsewhere: our tail holds
     * entries of an older leader that no majority took (this node led and
     * was replaced, say). Read back from before it; the leader's entries
     * then replace ours (ct_can_log_accept). */
    if (json_array_size(json_object_get(got, "entries")) == 0 &&
        (json_integer_value(json_object_get(got, "last")) != (json_int_t)last ||
         json_integer_value(json_object_get(got, "last_nonce")) != last_nonce)) {
        uint64_t theirs = (uint64_t)json_integer_value(json_object_get(got, "last"));
        uint64_t from = (theirs < last ? theirs : last);
        from = from > DIVERGE_BACK ? from - DIVERGE_BACK : 1;
        json_decref(got);
        snprintf(path, sizeof(path), "/can/log?from=%llu", (unsigned long long)from);
        if ((got = leader_get(n, path)) == NULL)
            return;
    }
    json_array_foreach (json_object_get(got, "entries"), i, e) {
        if (ct_can_log_accept(n->log, e) < 0) {
            ct_log(CT_LOG_WARN, "can: catching up: %s", ct_error_last());
            break;
        }
        want_checkpoints(n, e);
    }
    json_decref(got);
}

/* Once after start: every checkpoint the log names is wanted. */
static void want_all(ct_can_node *n)
{
    json_t *st = ct_can_log_state(n->log), *w;
    const char *id;

    json_object_foreach (json_object_get(st, "works"), id, w) {
        json_t *as_entry = json_pack("{s:s, s:O}", "type", "REASSIGN_WORK", "cpa",
                                     json_object_get(w, "checkpoints"));
        want_checkpoints(n, as_entry);
        json_decref(as_entry);
    }
    json_decref(st);
    n->scanned = true;
}

/* Fetches the wanted checkpoints this node does not hold. Data is stored
 * under the digest it hashes to, so a lying peer's data never passes for
 * the checkpoint: it stays wanted. */
static void fetch_checkpoints(ct_can_node *n)
{
    char digest[67], got_digest[67], path[96];
    bool more = true;

    while (more && !atomic_load(&n->stop)) {
        uint8_t *data = NULL;
        size_t len = 0;
        json_t *got;
        pthread_mutex_lock(&n->mu);
        more = n->n_wanted > 0;
        if (more)
            memcpy(digest, n->wanted[--n->n_wanted], sizeof(digest));
        pthread_mutex_unlock(&n->mu);
        if (!more)
            break;
        if (ct_can_blob_get(n->log, &data, &len, digest) == 0) {
            free(data);
            continue;
        }
        ct_error_clear();
        snprintf(path, sizeof(path), "/can/blob/%s", digest);
        if ((got = leader_get(n, path)) != NULL &&
            ct_hex_decode_new(&data, &len, json_string_value(json_object_get(got, "data"))) == 0 &&
            ct_can_blob_put(n->log, got_digest, data, len) == 0 &&
            strcmp(got_digest, digest) == 0) {
            free(data);
            json_decref(got);
            continue;
        }
        ct_error_clear();
        free(data);
        json_decref(got);
        /* Not now: wanted again at the next round. */
        pthread_mutex_lock(&n->mu);
        if (n->n_wanted < CT_CAN_MAX_WANTED)
            memcpy(n->wanted[n->n_wanted++], digest, sizeof(digest));
        pthread_mutex_unlock(&n->mu);
        break;
    }
}

static void follow(ct_can_node *n)
{
    json_t *st = ct_can_log_state(n->log);
    bool member;
    int64_t quiet;

    if (st == NULL)
        return;
    member = json_object_get(json_object_get(st, "members"), n->me) != NULL;
    json_decref(st);
    /* A member the Registry lists whose ledger lacks the JOIN (the leader
     * accepted it and died before pushing it) does not ask again. */
    if (!member && !ct_can__chain_member(n))
        ask_to_join(n);
    pthread_mutex_lock(&n->mu);
    quiet = ct_time_mono_ms() - n->last_heard;
    pthread_mutex_unlock(&n->mu);
    if (quiet > 2 * n->o.replicate_ms + 1000)
        pull_entries(n);
    if (!n->scanned)
        want_all(n);
    fetch_checkpoints(n);
    ct_can__check_state(n);
}

static void *loop_main(void *arg)
{
    ct_can_node *n = arg;
    int64_t last_refresh = 0;

    while (!atomic_load(&n->stop)) {
        if (ct_time_mono_ms() - last_refresh >= 1000) {
            if (ct_can__refresh_leader(n) < 0)
                ct_log(CT_LOG_WARN, "can: cannot read the Registry: %s", ct_error_last());
            ct_error_clear();
            last_refresh = ct_time_mono_ms();
        }
        if (ct_can__is_leader(n))
            lead(n);
        else
            follow(n);
        for (int slept = 0; slept < n->o.replicate_ms && !atomic_load(&n->stop); slept += 20)
            ct_sleep_ms(20);
    }
    return NULL;
}

/* ---------------------------------------------------------------- start and stop */

static int listen_http(ct_can_node *n)
{
    int rc =
        ct_httpd_init(&n->inst, &n->bind, n->o.listen_host, n->o.port, 4 * CT_CAN_MAX_CHECKPOINT);

    if (rc < 0)
        return rc;
    n->inst_ready = true;
    if (ulfius_add_endpoint_by_val(&n->inst, "GET", "/can/status", NULL, 0, on_status, n) != U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "GET", "/health", NULL, 0, on_health, n) != U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "POST", "/can/join", NULL, 0, on_join, n) != U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "POST", "/can/append", NULL, 0, on_append, n) !=
            U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "GET", "/can/log", NULL, 0, on_log, n) != U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "POST", "/can/component", NULL, 0, on_component, n) !=
            U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "POST", "/can/work", NULL, 0, on_work, n) != U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "POST", "/can/checkpoint", NULL, 0, on_checkpoint,
                                   n) != U_OK ||
        ulfius_add_endpoint_by_val(&n->inst, "GET", "/can/blob", "/:digest", 0, on_blob, n) !=
            U_OK ||
        ulfius_set_default_endpoint(&n->inst, on_default, n) != U_OK ||
        ct_can__elect_endpoints(n) < 0)
        return ct_error_set(CT_ENOMEM, "can: cannot set up the HTTP server");
    if ((rc = ct_httpd_start(&n->inst, MAX_CONNECTIONS, HTTP_TIMEOUT_S, &n->port)) < 0)
        return rc;
    n->listening = true;
    return 0;
}

int ct_can_node_start(ct_can_node **out, const ct_can_node_opts *o)
{
    ct_can_node *n = calloc(1, sizeof(*n));
    ct_address me;
    char path[4096];
    int rc;

    *out = NULL;
    if (n == NULL)
        return ct_error_set(CT_ENOMEM, "can: out of memory");
    n->o = *o;
    if (n->o.replicate_ms <= 0)
        n->o.replicate_ms = 200;
    if (n->o.pay_interval_ms <= 0)
        n->o.pay_interval_ms = 60000;
    if (n->o.listen_host == NULL)
        n->o.listen_host = "127.0.0.1";
    pthread_mutex_init(&n->mu, NULL);
    pthread_mutex_init(&n->rpc_mu, NULL);
    atomic_init(&n->stop, false);
    if ((n->wanted = calloc(CT_CAN_MAX_WANTED, sizeof(*n->wanted))) == NULL) {
        free(n);
        return ct_error_set(CT_ENOMEM, "can: out of memory");
    }
    snprintf(path, sizeof(path), "%s/can.db", o->dir);
    if ((rc = ct_address_from_seckey(&me, o->seckey)) < 0 ||
        (rc = ct_can_log_open(&n->log, path)) < 0 ||
        (rc = ct_ledger_open_contract(&n->reg, "Registry")) < 0 ||
        (rc = ct_ledger_open_contract(&n->app_abi, "Application")) < 0 ||
        (rc = ct_ledger_open_contract(&n->cloud_abi, "Cloud")) < 0 ||
        (n->paid_at = json_object()) == NULL || (rc = ct_rpc_new(&n->rpc, o->rpc_url, 10000)) < 0 ||
        (rc = ct_rpc_chain_id(n->rpc, &n->chain_id)) < 0 ||
        (rc = ct_sender_new(&n->sender, o->rpc_url, o->seckey, NULL)) < 0 ||
        (rc = listen_http(n)) < 0)
        goto fail;
    ct_address_format(n->me, &me);
    if (o->public_url != NULL)
        snprintf(n->url, sizeof(n->url), "%s", o->public_url);
    else
        snprintf(n->url, sizeof(n->url), "http://%s:%u", n->o.listen_host, (unsigned)n->port);
    n->o.public_url = NULL;
    memcpy(n->key, n->o.seckey, sizeof(n->key));
    explicit_bzero(n->o.seckey, sizeof(n->o.seckey));
    if (pthread_create(&n->loop, NULL, loop_main, n) != 0) {
        rc = ct_error_set(CT_EIO, "can: cannot start a thread");
        goto fail;
    }
    n->loop_started = true;
    if (pthread_create(&n->anchor, NULL, ct_can__anchor_main, n) != 0) {
        rc = ct_error_set(CT_EIO, "can: cannot start a thread");
        goto fail;
    }
    n->anchor_started = true;
    *out = n;
    return 0;
fail:
    ct_can_node_stop(n);
    return rc;
}

uint16_t ct_can_node_port(const ct_can_node *n)
{
    return n->port;
}

const char *ct_can_node_url(const ct_can_node *n)
{
    return n->url;
}

void ct_can_node_stop(ct_can_node *n)
{
    if (n == NULL)
        return;
    atomic_store(&n->stop, true);
    if (n->loop_started)
        pthread_join(n->loop, NULL);
    if (n->anchor_started)
        pthread_join(n->anchor, NULL);
    for (size_t i = 0; i < n->n_peers; i++) {
        if (n->peers[i]->started)
            pthread_join(n->peers[i]->thread, NULL);
        free(n->peers[i]);
    }
    if (n->listening)
        ulfius_stop_framework(&n->inst);
    if (n->inst_ready)
        ulfius_clean_instance(&n->inst);
    ct_sender_free(n->sender);
    ct_rpc_free(n->rpc);
    ct_ledger_free(n->reg);
    ct_ledger_free(n->app_abi);
    ct_ledger_free(n->cloud_abi);
    json_decref(n->paid_at);
    ct_can_log_close(n->log);
    explicit_bzero(n->o.seckey, sizeof(n->o.seckey));
    explicit_bzero(n->key, sizeof(n->key));
    pthread_mutex_destroy(&n->mu);
    pthread_mutex_destroy(&n->rpc_mu);
    free(n->wanted);
    free(n);
}
