/* The CAN ledger (seed 002 section 4): the leader's ordered log of network
 * and component transactions, kept durably in SQLite by every node, the
 * state it builds (members, leader, components, work entries with their
 * checkpoint digests), and the content-addressed checkpoint store. */
#include "catena/can.h"
#include "catena/crypto.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ct_can_log {
    pthread_mutex_t mu;
    sqlite3 *db;
    uint64_t last;       /* index of the last entry, 0 when empty */
    uint64_t last_nonce; /* the leader nonce it was written under */
    json_t *state;       /* see ct_can_log_state */
};

static int db_err(ct_can_log *l, const char *what)
{
    return ct_error_set(CT_EIO, "can log: %s: %s", what, sqlite3_errmsg(l->db));
}

static json_t *empty_state(void)
{
    return json_pack("{s:{}, s:n, s:I, s:{}, s:{}}", "members", "leader", "nonce", (json_int_t)0,
                     "components", "works");
}

/* ---------------------------------------------------------------- validation */

/* A non-empty string member of at most max bytes. */
static int need_text(const char **out, const json_t *body, const char *key, size_t max)
{
    *out = json_string_value(json_object_get(body, key));
    if (*out == NULL || **out == '\0' || strlen(*out) > max)
        return ct_error_set(CT_EINVAL,
                            "can log: %s needs a non-empty string %s of at most %zu "
                            "bytes",
                            json_string_value(json_object_get(body, "type")), key, max);
    return 0;
}

static int need_string(const char **out, const json_t *body, const char *key)
{
    return need_text(out, body, key, 512);
}

static bool is_digest(const char *s)
{
    uint8_t d[32];
    size_t n = 0;

    return s != NULL && strlen(s) == 66 && ct_hex_decode(d, 32, &n, s, 66) == 0 && n == 32;
}

static int apply_members(json_t *st, const char *type, const json_t *e)
{
    json_t *members = json_object_get(st, "members");
    const char *node, *url;
    int rc;

    if ((rc = need_string(&node, e, "node")) < 0)
        return rc;
    if (strcmp(type, "JOIN") == 0) {
        if ((rc = need_string(&url, e, "url")) < 0)
            return rc;
        if (json_object_get(members, node) != NULL)
            return ct_error_set(CT_EEXIST, "can log: %s is already a member", node);
        return json_object_set_new(members, node, json_pack("{s:s}", "url", url));
    }
    if (strcmp(type, "REMOVE") == 0) {
        if (json_object_get(members, node) == NULL)
            return ct_error_set(CT_ENOTFOUND, "can log: %s is no member", node);
        return json_object_del(members, node);
    }
    /* LEADER: a newer nonce, a member (or the first leader). */
    {
        json_int_t nonce = json_integer_value(json_object_get(e, "nonce"));
        const json_t *under = json_object_get(e, "nonce_of_leader");
        if (under != NULL && json_integer_value(under) != nonce)
            return ct_error_set(CT_EINVAL,
                                "can log: leader %s with nonce %lld is announced "
                                "under nonce %lld",
                                node, (long long)nonce, (long long)json_integer_value(under));
        if (nonce <= json_integer_value(json_object_get(st, "nonce")) &&
            !json_is_null(json_object_get(st, "leader")))
            return ct_error_set(CT_ESTATE, "can log: leader nonce %lld is not newer than %lld",
                                (long long)nonce,
                                (long long)json_integer_value(json_object_get(st, "nonce")));
        if (json_object_size(members) > 0 && json_object_get(members, node) == NULL)
            return ct_error_set(CT_EINVAL, "can log: leader %s is no member", node);
        json_object_set_new(st, "leader", json_string(node));
        return json_object_set_new(st, "nonce", json_integer(nonce));
    }
}

static int apply_components(json_t *st, const char *type, const json_t *e)
{
    json_t *comps = json_object_get(st, "components"), *c;
    const char *comp, *url;
    int rc;

    if ((rc = need_string(&comp, e, "comp")) < 0)
        return rc;
    c = json_object_get(comps, comp);
    if (strcmp(type, "REGISTER_COMPONENT") == 0) {
        if ((rc = need_string(&url, e, "url")) < 0)
            return rc;
        if (c != NULL && json_is_true(json_object_get(c, "registered")))
            return ct_error_set(CT_EEXIST, "can log: component %s is registered", comp);
        return json_object_set_new(comps, comp,
                                   json_pack("{s:s, s:b}", "url", url, "registered", 1));
    }
    if (c == NULL || !json_is_true(json_object_get(c, "registered")))
        return ct_error_set(CT_ENOTFOUND, "can log: component %s is not registered", comp);
    return json_object_set_new(c, "registered", json_false());
}

static bool registered(const json_t *st, const char *comp)
{
    return json_is_true(
        json_object_get(json_object_get(json_object_get(st, "components"), comp), "registered"));
}

/* The work entry named by e's "work", running (not finished). */
static int running_work(json_t **w, const json_t *st, const json_t *e)
{
    const char *work;
    int rc;

    if ((rc = need_string(&work, e, "work")) < 0)
        return rc;
    *w = json_object_get(json_object_get(st, "works"), work);
    if (*w == NULL)
        return ct_error_set(CT_ENOTFOUND, "can log: no work entry %s", work);
    if (json_is_true(json_object_get(*w, "finished")))
        return ct_error_set(CT_ESTATE, "can log: work entry %s is finished", work);
    return 0;
}

static int apply_assign(json_t *st, const json_t *e)
{
    json_t *works = json_object_get(st, "works"), *old;
    const char *work, *comp, *desc;
    int rc;

    if ((rc = need_string(&work, e, "work")) < 0 || (rc = need_string(&comp, e, "comp")) < 0 ||
        (rc = need_text(&desc, e, "description", CT_CAN_MAX_DESCRIPTION)) < 0)
        return rc;
    if ((old = json_object_get(works, work)) != NULL)
        return ct_error_set(CT_EEXIST, "can log: work entry %s exists", work);
    if (!registered(st, comp))
        return ct_error_set(CT_ENOTFOUND, "can log: component %s is not registered", comp);
    return json_object_set_new(works, work,
                               json_pack("{s:s, s:s, s:[], s:b}", "comp", comp, "description", desc,
                                         "checkpoints", "finished", 0));
}

static int apply_work(json_t *st, const char *type, const json_t *e)
{
    json_t *w;
    const char *comp, *digest;
    int rc;

    if (strcmp(type, "ASSIGN_WORK") == 0)
        return apply_assign(st, e);
    if ((rc = running_work(&w, st, e)) < 0)
        return rc;
    if (strcmp(type, "FINISH_WORK") == 0)
        return json_object_set_new(w, "finished", json_true());
    if ((rc = need_string(&comp, e, "comp")) < 0)
        return rc;
    if (strcmp(type, "CHECKPOINT_WORK") == 0) {
        digest = json_string_value(json_object_get(e, "digest"));
        if (strcmp(comp, json_string_value(json_object_get(w, "comp"))) != 0)
            return ct_error_set(CT_EAUTH, "can log: work entry is assigned to %s, not %s",
                                json_string_value(json_object_get(w, "comp")), comp);
        if (!is_digest(digest))
            return ct_error_set(CT_EINVAL, "can log: a checkpoint digest is 32 bytes of hex");
        return json_array_append_new(json_object_get(w, "checkpoints"), json_string(digest));
    }
    /* REASSIGN_WORK: to a registered component, with the work's checkpoints. */
    if (!registered(st, comp))
        return ct_error_set(CT_ENOTFOUND, "can log: component %s is not registered", comp);
    if (!json_equal(json_object_get(e, "cpa"), json_object_get(w, "checkpoints")))
        return ct_error_set(CT_EINVAL, "can log: the reassignment's checkpoints are not the "
                                       "work entry's");
    return json_object_set_new(w, "comp", json_string(comp));
}

/* Applies entry e to state st, or leaves st as it was and says why not. */
static int apply(json_t *st, const json_t *e)
{
    const char *type = json_string_value(json_object_get(e, "type"));
    json_t *copy = json_deep_copy(st);
    int rc;

    if (copy == NULL)
        return ct_error_set(CT_ENOMEM, "can log: out of memory");
    if (type == NULL)
        type = "";
    if (!strcmp(type, "JOIN") || !strcmp(type, "REMOVE") || !strcmp(type, "LEADER"))
        rc = apply_members(copy, type, e);
    else if (!strcmp(type, "REGISTER_COMPONENT") || !strcmp(type, "DEREGISTER"))
        rc = apply_components(copy, type, e);
    else if (!strcmp(type, "ASSIGN_WORK") || !strcmp(type, "CHECKPOINT_WORK") ||
             !strcmp(type, "REASSIGN_WORK") || !strcmp(type, "FINISH_WORK"))
        rc = apply_work(copy, type, e);
    else
        rc = ct_error_set(CT_EINVAL, "can log: unknown entry type '%.40s'", type);
    if (rc == 0)
        json_object_update(st, copy); /* the copy's members replace st's */
    json_decref(copy);
    return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- storage */

static int exec(ct_can_log *l, const char *sql)
{
    return sqlite3_exec(l->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_err(l, sql);
}

/* Rebuilds the state from every entry, in order. */
static int replay(ct_can_log *l)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    json_decref(l->state);
    if ((l->state = empty_state()) == NULL)
        return ct_error_set(CT_ENOMEM, "can log: out of memory");
    l->last = l->last_nonce = 0;
    if (sqlite3_prepare_v2(l->db, "SELECT idx, nonce, body FROM entries ORDER BY idx", -1, &st,
                           NULL) != SQLITE_OK)
        return db_err(l, "replay");
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(st, 2);
        json_t *e = NULL;
        if ((rc = ct_json_parse(&e, body, strlen(body), 16)) == 0 && (rc = apply(l->state, e)) < 0)
            ct_error_wrap("can log: entry %lld", (long long)sqlite3_column_int64(st, 0));
        json_decref(e);
        l->last = (uint64_t)sqlite3_column_int64(st, 0);
        l->last_nonce = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc;
}

int ct_can_log_open(ct_can_log **out, const char *path)
{
    ct_can_log *l = calloc(1, sizeof(*l));
    int rc;

    *out = NULL;
    if (l == NULL)
        return ct_error_set(CT_ENOMEM, "can log: out of memory");
    pthread_mutex_init(&l->mu, NULL);
    if (sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = db_err(l, path);
        goto fail;
    }
    sqlite3_busy_timeout(l->db, 5000);
    /* synchronous FULL: an entry a node acknowledged survives its crash. */
    if ((rc = exec(l, "PRAGMA journal_mode = WAL")) < 0 ||
        (rc = exec(l, "PRAGMA synchronous = FULL")) < 0 ||
        (rc = exec(l, "CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, "
                      "nonce INTEGER NOT NULL, body TEXT NOT NULL)")) < 0 ||
        (rc = exec(l, "CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, "
                      "data BLOB NOT NULL)")) < 0 ||
        (rc = replay(l)) < 0)
        goto fail;
    *out = l;
    return 0;
fail:
    ct_error_wrap("can log %s", path);
    ct_can_log_close(l);
    return rc;
}

void ct_can_log_close(ct_can_log *l)
{
    if (l == NULL)
        return;
    sqlite3_close(l->db);
    json_decref(l->state);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static int insert(ct_can_log *l, uint64_t idx, uint64_t nonce, const json_t *e)
{
    char *body = ct_json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (body == NULL)
        return ct_error_set(CT_ENOMEM, "can log: out of memory");
    if (sqlite3_prepare_v2(l->db, "INSERT INTO entries (idx, nonce, body) VALUES (?, ?, ?)", -1,
                           &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, (sqlite3_int64)idx) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)nonce) != SQLITE_OK ||
        sqlite3_bind_text(st, 3, body, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
        rc = db_err(l, "append");
    sqlite3_finalize(st);
    free(body);
    if (rc == 0) {
        l->last = idx;
        l->last_nonce = nonce;
    }
    return rc;
}

/* Applies e and stores it at idx; when it cannot be stored, the state is
 * left as it was. */
static int apply_and_store(ct_can_log *l, const json_t *e, uint64_t idx, uint64_t nonce)
{
    json_t *before = json_deep_copy(l->state);
    int rc;

    if (before == NULL)
        return ct_error_set(CT_ENOMEM, "can log: out of memory");
    if ((rc = apply(l->state, e)) == 0 && (rc = insert(l, idx, nonce, e)) < 0) {
        json_decref(l->state);
        l->state = before;
        return rc;
    }
    json_decref(before);
    return rc;
}

/* The entry as stored: the body with its index and nonce. */
static json_t *stored(const json_t *body, uint64_t idx, uint64_t nonce)
{
    json_t *e = json_deep_copy(body);

    if (e != NULL) {
        json_object_set_new(e, "index", json_integer((json_int_t)idx));
        json_object_set_new(e, "nonce_of_leader", json_integer((json_int_t)nonce));
    }
    return e;
}

int ct_can_log_propose(ct_can_log *l, uint64_t *index, uint64_t nonce, const json_t *body)
{
    json_t *e;
    int rc;

    pthread_mutex_lock(&l->mu);
    if (nonce < l->last_nonce)
        rc = ct_error_set(CT_ESTATE, "can log: leader nonce %llu is older than the log's %llu",
                          (unsigned long long)nonce, (unsigned long long)l->last_nonce);
    else if ((e = stored(body, l->last + 1, nonce)) == NULL)
        rc = ct_error_set(CT_ENOMEM, "can log: out of memory");
    else {
        rc = apply_and_store(l, e, l->last + 1, nonce);
        json_decref(e);
        if (rc == 0 && index != NULL)
            *index = l->last;
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* Deletes entries from idx on and rebuilds the state. */
static int truncate_from(ct_can_log *l, uint64_t idx)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(l->db, "DELETE FROM entries WHERE idx >= ?", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_bind_int64(st, 1, (sqlite3_int64)idx) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
        rc = db_err(l, "truncate");
    sqlite3_finalize(st);
    return rc < 0 ? rc : replay(l);
}

/* The stored entry at idx (new ref) and its nonce, or NULL. */
static json_t *entry_at(ct_can_log *l, uint64_t idx, uint64_t *nonce)
{
    sqlite3_stmt *st = NULL;
    json_t *e = NULL;

    if (sqlite3_prepare_v2(l->db, "SELECT nonce, body FROM entries WHERE idx = ?", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_int64(st, 1, (sqlite3_int64)idx) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(st, 1);
        *nonce = (uint64_t)sqlite3_column_int64(st, 0);
        if (ct_json_parse(&e, body, strlen(body), 16) < 0)
            ct_error_clear();
    }
    sqlite3_finalize(st);
    return e;
}

int ct_can_log_accept(ct_can_log *l, const json_t *e)
{
    json_int_t idx = json_integer_value(json_object_get(e, "index"));
    json_int_t nonce = json_integer_value(json_object_get(e, "nonce_of_leader"));
    json_t *have = NULL;
    uint64_t have_nonce = 0;
    int rc = 0;

    if (!json_is_integer(json_object_get(e, "index")) || idx < 1 ||
        !json_is_integer(json_object_get(e, "nonce_of_leader")) || nonce < 0)
        return ct_error_set(CT_EINVAL, "can log: an entry needs index >= 1 and nonce_of_leader");
    pthread_mutex_lock(&l->mu);
    if ((uint64_t)idx <= l->last && (have = entry_at(l, (uint64_t)idx, &have_nonce)) != NULL) {
        if (json_equal(have, e))
            goto done; /* delivered twice */
        /* A newer leader overwrote what an older one had sent: its log wins. */
        if ((uint64_t)nonce <= have_nonce) {
            rc = ct_error_set(CT_ESTATE,
                              "can log: entry %lld conflicts with ours from leader "
                              "nonce %llu",
                              (long long)idx, (unsigned long long)have_nonce);
            goto done;
        }
        if ((rc = truncate_from(l, (uint64_t)idx)) < 0)
            goto done;
    }
    if ((uint64_t)idx != l->last + 1) {
        rc = ct_error_set(CT_ESTATE, "can log: entry %lld after %llu: catch up from %llu first",
                          (long long)idx, (unsigned long long)l->last,
                          (unsigned long long)(l->last + 1));
        goto done;
    }
    if ((uint64_t)nonce < l->last_nonce) {
        rc = ct_error_set(CT_ESTATE, "can log: entry from leader nonce %lld, the log is at %llu",
                          (long long)nonce, (unsigned long long)l->last_nonce);
        goto done;
    }
    rc = apply_and_store(l, e, (uint64_t)idx, (uint64_t)nonce);
done:
    json_decref(have);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int ct_can_log_since(ct_can_log *l, json_t **out, uint64_t from, size_t max)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if ((*out = json_array()) == NULL)
        return ct_error_set(CT_ENOMEM, "can log: out of memory");
    pthread_mutex_lock(&l->mu);
    if (sqlite3_prepare_v2(l->db, "SELECT body FROM entries WHERE idx >= ? ORDER BY idx LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, (sqlite3_int64)from) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max) != SQLITE_OK)
        rc = db_err(l, "read");
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(st, 0);
        json_t *e = NULL;
        if ((rc = ct_json_parse(&e, body, strlen(body), 16)) == 0)
            json_array_append_new(*out, e);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&l->mu);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

json_t *ct_can_log_state(ct_can_log *l)
{
    json_t *copy;

    pthread_mutex_lock(&l->mu);
    copy = json_deep_copy(l->state);
    if (copy != NULL) {
        json_object_set_new(copy, "last", json_integer((json_int_t)l->last));
        json_object_set_new(copy, "last_nonce", json_integer((json_int_t)l->last_nonce));
    }
    pthread_mutex_unlock(&l->mu);
    return copy;
}

/* ---------------------------------------------------------------- checkpoints */

void ct_can_digest(char out[67], const void *data, size_t len)
{
    uint8_t d[32];

    ct_keccak256(d, data, len);
    ct_hex_encode(out, 67, d, 32, true);
}

int ct_can_blob_put(ct_can_log *l, char digest[67], const void *data, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (len > CT_CAN_MAX_CHECKPOINT)
        return ct_error_set(CT_ELIMIT, "can: a checkpoint holds at most %u bytes",
                            CT_CAN_MAX_CHECKPOINT);
    ct_can_digest(digest, data, len);
    pthread_mutex_lock(&l->mu);
    if (sqlite3_prepare_v2(l->db, "INSERT OR IGNORE INTO blobs (digest, data) VALUES (?, ?)", -1,
                           &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_bind_blob(st, 2, len ? data : "", (int)len, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
        rc = db_err(l, "store checkpoint");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int ct_can_blob_get(ct_can_log *l, uint8_t **out, size_t *len, const char *digest)
{
    sqlite3_stmt *st = NULL;
    char check[67];
    int rc = 0;

    *out = NULL;
    *len = 0;
    pthread_mutex_lock(&l->mu);
    if (sqlite3_prepare_v2(l->db, "SELECT data FROM blobs WHERE digest = ?", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT) != SQLITE_OK)
        rc = db_err(l, "read checkpoint");
    else if (sqlite3_step(st) != SQLITE_ROW)
        rc = ct_error_set(CT_ENOTFOUND, "can: no checkpoint %s here", digest);
    else {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        if ((*out = malloc(*len + 1)) == NULL)
            rc = ct_error_set(CT_ENOMEM, "can: out of memory");
        else
            memcpy(*out, sqlite3_column_blob(st, 0), *len);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&l->mu);
    /* What a disk or a peer hands back is checked against its name. */
    if (rc == 0) {
        ct_can_digest(check, *out, *len);
        if (strcmp(check, digest) != 0) {
            free(*out);
            *out = NULL;
            rc = ct_error_set(CT_ECRYPTO, "can: checkpoint %s does not match its digest", digest);
        }
    }
    return rc;
}
