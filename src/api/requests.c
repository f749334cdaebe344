/* The gateway's record of writes: Idempotency-Key replays (same key, same
 * answer, one transaction), the 202 answered when an agent is slow, and
 * GET /api/requests/{id} for how such a write ended. Kept in a SQLite
 * file of its own beside the cache: the cache is derived from the chain
 * and may be deleted or rebuilt (--reindex), these records are not. */
#include "api_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* Most bytes of an Idempotency-Key (printable ASCII, no spaces). */
#define KEY_MAX 255
/* Look for expired records at most this often. */
#define PRUNE_EVERY_MS 60000

struct api_write {
    api_write *next;
    char id[33];
    char *dc, *key, *method, *path; /* copies: the request's strings may go first */
    uint8_t fp[32];                 /* SHA-256 of method, path and body */
    int64_t accept_at;              /* ct_time_mono_ms() to answer 202 at; 0: never */
    void *job;                      /* to answer 202 through (ct_api__answer_now) */
    bool persisted;                 /* its row exists */
    bool accepted;                  /* 202 was answered: the outcome goes to its row only */
    bool finished;                  /* status/answer hold its outcome */
    enum api_outcome outcome;
    int status;
    char *answer; /* the outcome's JSON text */
    int refs;     /* its writer, and each concurrent request with its key */
};

struct api_requests {
    /* Guards everything below, the database included. Held during the
     * local SQLite writes (no network call), never while waiting for an
     * agent. */
    pthread_mutex_t mu;
    /* A write due before accept_main's next wake was added, a write was
     * accepted, one with requests joined to it finished; or stop. */
    pthread_cond_t changed;
    sqlite3 *db;
    api_write *live; /* writes begun and not ended */
    size_t count;    /* rows in the file */
    int64_t pruned;  /* ct_time_mono_ms() of the last prune */
    /* When accept_main wakes next on its own (ct_time_mono_ms()): a write
     * due earlier wakes it, others do not (a wake per write costs the
     * writer two context switches and r->mu contention). */
    int64_t wake_at;
    bool stop;
    pthread_t thread;
    bool started;
    /* Set at open, then read only. */
    ct_api *api;
    int64_t ttl_ms;
    size_t max;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS requests ("
    " id TEXT PRIMARY KEY, dc TEXT NOT NULL, idem_key TEXT, fingerprint BLOB NOT NULL,"
    " method TEXT NOT NULL, path TEXT NOT NULL,"
    " state TEXT NOT NULL," /* pending, done, failed, unknown */
    " status INTEGER, answer TEXT, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS requests_key ON requests(dc, idem_key)"
    " WHERE idem_key IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS requests_created ON requests(created_ms);";

static const char *const state_names[] = {[API_DONE] = "done",
                                          [API_FAILED] = "failed",
                                          [API_UNKNOWN] = "unknown",
                                          [API_UNSENT] = "failed"};

static int db_fail(api_requests *r, const char *what)
{
    return ct_error_set(CT_EIO, "requests: %s: %s", what, sqlite3_errmsg(r->db));
}

/* Runs sql with text/integer arguments bound in order: 's' text (NULL
 * binds NULL), 'i' int64, 'b' 32-byte blob. Returns: 0 or CT_EIO. */
static int db_exec(api_requests *r, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;
    int rc;

    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(r, "prepare");
    va_start(ap, types);
    for (int i = 0; types[i] != '\0'; i++) {
        if (types[i] == 's')
            sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
        else if (types[i] == 'i')
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        else
            sqlite3_bind_blob(st, i + 1, va_arg(ap, const uint8_t *), 32, SQLITE_TRANSIENT);
    }
    va_end(ap);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return db_fail(r, "write");
    return 0;
}

/* Counts the rows the last statement deleted off r->count. */
static void deleted(api_requests *r)
{
    size_t n = (size_t)sqlite3_changes(r->db);

    r->count -= n < r->count ? n : r->count;
}

/* Deletes expired rows, then the oldest finished ones past the cap. */
static void prune(api_requests *r)
{
    int64_t now = ct_time_now_ms();

    r->pruned = ct_time_mono_ms();
    if (db_exec(r, "DELETE FROM requests WHERE created_ms < ?", "i", now - r->ttl_ms) == 0)
        deleted(r);
    if (r->count >= r->max &&
        db_exec(r,
                "DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE state != "
                "'pending' ORDER BY created_ms LIMIT ?)",
                "i", (int64_t)(r->count - r->max + 1)) == 0) {
        ct_log(CT_LOG_WARN, "api: %d write requests forgotten before their time (at most %zu)",
               sqlite3_changes(r->db), r->max);
        deleted(r);
    }
}

static int count_rows(api_requests *r)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(r->db, "SELECT count(*) FROM requests", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return db_fail(r, "count");
    }
    r->count = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* ---------------------------------------------------------------- answers */

/* Returns: resp's JSON as text (malloc'd; "{}" for none), or NULL. */
static char *resp_text(const api_resp *resp)
{
    return resp->json != NULL ? ct_json_dumps(resp->json, JSON_COMPACT | JSON_PRESERVE_ORDER)
                              : strdup("{}");
}

/* Sets resp to 202 for the request id in state. */
static void accepted(api_resp *resp, const char *id, const char *state)
{
    json_decref(resp->json);
    resp->status = 202;
    snprintf(resp->location, sizeof(resp->location), "/api/requests/%s", id);
    resp->json =
        json_pack("{s:s, s:s, s:s}", "request_id", id, "state", state, "location", resp->location);
}

/* Sets resp to a stored answer. */
static void replay(api_resp *resp, int status, const char *answer)
{
    json_t *j = NULL;

    json_decref(resp->json);
    resp->json = NULL;
    if (answer == NULL || ct_json_parse(&j, answer, strlen(answer), CT_JSON_MAX_DEPTH) < 0) {
        ct_api__error(resp, 500, "the stored answer cannot be read");
        return;
    }
    resp->status = status;
    resp->json = j;
}

/* The answer of a write whose outcome is unknown. */
static const char unknown_why[] =
    "the write was sent to the datacenter's agent, which did not answer; its transaction may "
    "still be made: check the container or datacenter (GET /api/container/{tag}/details, "
    "/api/transaction/{hash}/vctag) before writing again";

/* ---------------------------------------------------------------- the 202 thread */

/* Records w (under r->mu) if it is not yet. Returns: 0 or CT_EIO. */
static int persist(api_requests *r, api_write *w, const char *state, int status, const char *answer)
{
    int64_t now = ct_time_now_ms();
    int rc;

    if (w->persisted)
        return db_exec(r,
                       "UPDATE requests SET state=?, status=?, answer=?, updated_ms=? WHERE id=?",
                       "sisis", state, (int64_t)status, answer, now, w->id);
    if (r->count >= r->max || ct_time_mono_ms() - r->pruned >= PRUNE_EVERY_MS)
        prune(r);
    rc = db_exec(r,
                 "INSERT INTO requests (id, dc, idem_key, fingerprint, method, path, state, "
                 "status, answer, created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                 "sssbsssisii", w->id, w->dc, w->key, w->fp, w->method, w->path, state,
                 (int64_t)status, answer, now, now);
    if (rc == 0) {
        w->persisted = true;
        r->count++;
    }
    return rc;
}

/* Answers w with 202 (under r->mu), recorded first so the id it gives
 * survives a restart. */
static void accept_write(api_requests *r, api_write *w)
{
    api_resp resp = {.status = 202};

    w->accept_at = 0;
    if (persist(r, w, "pending", 0, NULL) < 0) {
        ct_log(CT_LOG_WARN, "api: %s; the write waits for its agent", ct_error_last());
        return;
    }
    accepted(&resp, w->id, "pending");
    w->accepted = ct_api__answer_now(&(api_req){.job = w->job}, &resp);
    json_decref(resp.json);
    pthread_cond_broadcast(&r->changed);
}

static void *accept_main(void *arg)
{
    api_requests *r = arg;

    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        int64_t now = ct_time_mono_ms(), next = now + 1000;
        for (api_write *w = r->live; w != NULL; w = w->next) {
            if (w->accept_at == 0 || w->finished)
                continue;
            if (w->accept_at <= now)
                accept_write(r, w);
            else if (w->accept_at < next)
                next = w->accept_at;
        }
        struct timespec until = {.tv_sec = next / 1000, .tv_nsec = (long)(next % 1000) * 1000000L};
        r->wake_at = next;
        pthread_cond_timedwait(&r->changed, &r->mu, &until);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---------------------------------------------------------------- open, close */

/* The default file: the cache's name with ".requests.sqlite" for its
 * extension (cache.sqlite: cache.requests.sqlite), so "rm cache.sqlite*"
 * leaves it. */
static char *default_path(const char *cache)
{
    size_t n = strlen(cache);
    const char *dot = strrchr(cache, '.'), *slash = strrchr(cache, '/');
    char *out;

    if (dot != NULL && (slash == NULL || dot > slash) && dot != cache)
        n = (size_t)(dot - cache);
    if ((out = malloc(n + sizeof(".requests.sqlite"))) != NULL) {
        memcpy(out, cache, n);
        memcpy(out + n, ".requests.sqlite", sizeof(".requests.sqlite"));
    }
    return out;
}

static int open_db(api_requests *r, const char *path)
{
    json_t *j = json_pack("{s:s}", "error", unknown_why);
    char *json = j != NULL ? ct_json_dumps(j, JSON_COMPACT) : NULL;
    int rc;

    json_decref(j);
    if (json == NULL)
        return ct_error_set(CT_ENOMEM, "requests: out of memory");
    if (sqlite3_open_v2(path, &r->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        rc =
            r->db != NULL ? db_fail(r, "open") : ct_error_set(CT_ENOMEM, "requests: out of memory");
    else if (sqlite3_busy_timeout(r->db, 5000),
             sqlite3_exec(r->db, schema, NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(r, "schema");
    else
        /* What the last run left pending may or may not have been made. */
        rc = db_exec(r,
                     "UPDATE requests SET state='unknown', status=0, answer=?, updated_ms=? "
                     "WHERE state='pending'",
                     "si", json, ct_time_now_ms());
    free(json);
    if (rc < 0 || (rc = count_rows(r)) < 0)
        return rc;
    prune(r);
    return 0;
}

int ct_api__requests_open(ct_api *api)
{
    api_requests *r = calloc(1, sizeof(*r));
    char *path =
        api->cfg.requests_path ? strdup(api->cfg.requests_path) : default_path(api->cfg.cache_path);
    pthread_condattr_t mono;
    int rc;

    if (r == NULL || path == NULL) {
        free(r);
        free(path);
        return ct_error_set(CT_ENOMEM, "api: out of memory");
    }
    api->requests = r;
    r->api = api;
    r->ttl_ms = (int64_t)api->cfg.idempotency_ttl_s * 1000;
    r->max = (size_t)api->cfg.idempotency_max;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
    pthread_cond_init(&r->changed, &mono);
    pthread_condattr_destroy(&mono);
    if ((rc = open_db(r, path)) < 0)
        ct_error_wrap("api: %s", path);
    else if (pthread_create(&r->thread, NULL, accept_main, r) != 0)
        rc = ct_error_set(CT_EIO, "api: cannot start a thread");
    else
        r->started = true;
    free(path);
    return rc;
}

void ct_api__requests_close(ct_api *api)
{
    api_requests *r = api->requests;

    if (r == NULL)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->mu);
        r->stop = true;
        pthread_cond_broadcast(&r->changed);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
    }
    sqlite3_close(r->db);
    pthread_cond_destroy(&r->changed);
    pthread_mutex_destroy(&r->mu);
    free(r);
    api->requests = NULL;
}

/* ---------------------------------------------------------------- writes */

/* Returns: whether k is 1 to KEY_MAX printable ASCII characters. */
static bool key_ok(const char *k)
{
    size_t n = strlen(k);

    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return false;
    return n > 0 && n <= KEY_MAX;
}

static void fingerprint(uint8_t out[32], const api_req *req)
{
    ct_buf b;

    /* Lengths first, so no two requests share one text. */
    ct_buf_init(&b, API_MAX_BODY + 4096);
    if (ct_buf_appendf(&b, "%zu:%s\n%zu:%s\n%zu:", strlen(req->method), req->method,
                       strlen(req->path), req->path, req->body_len) < 0 ||
        ct_buf_append(&b, req->body, req->body_len) < 0)
        memset(out, 0, 32); /* cannot happen: the path and body are capped */
    else
        ct_sha256(out, b.data, b.len);
    ct_buf_free(&b);
}

static void write_free(api_write *w)
{
    free(w->dc);
    free(w->key);
    free(w->method);
    free(w->path);
    free(w->answer);
    free(w);
}

static void release(api_write *w)
{
    if (--w->refs == 0)
        write_free(w);
}

static api_write *find_live(api_requests *r, const char *dc, const char *key)
{
    for (api_write *w = r->live; w != NULL; w = w->next)
        if (w->key != NULL && strcmp(w->key, key) == 0 && strcmp(w->dc, dc) == 0)
            return w;
    return NULL;
}

static void key_conflict(api_resp *resp)
{
    ct_api__error(resp, 422,
                  "this Idempotency-Key was used for another request (method, path or body "
                  "differ): use a new key for a new request");
}

/* A request with the key of w, which is in flight: waits (r->mu held)
 * until w ends or is answered 202, at most until the request's own
 * short wait is over, and answers as w. */
static void join(api_requests *r, api_write *w, const uint8_t fp[32], const api_req *req,
                 api_resp *resp)
{
    int64_t until = req->received_ms + r->api->cfg.accept_after_ms;
    struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (long)(until % 1000) * 1000000L};

    if (memcmp(w->fp, fp, 32) != 0) {
        key_conflict(resp);
        return;
    }
    w->refs++;
    while (!w->finished && !w->accepted && ct_time_mono_ms() < until)
        if (pthread_cond_timedwait(&r->changed, &r->mu, &ts) != 0)
            break;
    if (w->finished && w->outcome != API_UNKNOWN)
        replay(resp, w->status, w->answer); /* an unsent one's 503 too: retry later */
    else
        accepted(resp, w->id, w->finished ? "unknown" : "pending");
    release(w);
}

/* Answers from the row of (dc, key) if there is a current one (r->mu
 * held); an expired one is deleted. Returns: whether resp was set. */
static bool answer_from_row(api_requests *r, const char *dc, const char *key, const uint8_t fp[32],
                            api_resp *resp)
{
    sqlite3_stmt *st = NULL;
    bool answered = false;

    if (sqlite3_prepare_v2(
            r->db,
            "SELECT fingerprint, state, status, answer, id, created_ms FROM requests "
            "WHERE dc=? AND idem_key=?",
            -1, &st, NULL) != SQLITE_OK) {
        ct_api__error(resp, 500, "%s", (db_fail(r, "read"), ct_error_last()));
        return true;
    }
    sqlite3_bind_text(st, 1, dc, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const void *f = sqlite3_column_blob(st, 0);
        const char *state = (const char *)sqlite3_column_text(st, 1);
        const char *id = (const char *)sqlite3_column_text(st, 4);
        answered = true;
        if (sqlite3_column_int64(st, 5) < ct_time_now_ms() - r->ttl_ms) {
            answered = false;
            if (db_exec(r, "DELETE FROM requests WHERE id=?", "s", id) == 0)
                deleted(r);
        } else if (f == NULL || sqlite3_column_bytes(st, 0) != 32 || memcmp(f, fp, 32) != 0) {
            key_conflict(resp);
        } else if (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0) {
            replay(resp, sqlite3_column_int(st, 2), (const char *)sqlite3_column_text(st, 3));
        } else {
            accepted(resp, id, state);
        }
    }
    sqlite3_finalize(st);
    return answered;
}

static api_write *write_new(const api_req *req, const char *dc, const uint8_t fp[32])
{
    api_write *w = calloc(1, sizeof(*w));
    uint8_t raw[16];

    if (w == NULL || ct_random(raw, sizeof(raw)) < 0) {
        free(w);
        return NULL;
    }
    ct_hex_encode(w->id, sizeof(w->id), raw, sizeof(raw), false);
    w->dc = strdup(dc);
    w->key = req->idem_key != NULL ? strdup(req->idem_key) : NULL;
    w->method = strdup(req->method);
    w->path = strdup(req->path);
    if (w->dc == NULL || w->method == NULL || w->path == NULL ||
        (req->idem_key != NULL && w->key == NULL)) {
        write_free(w);
        return NULL;
    }
    ct_api__utf8_fix(w->path);
    memcpy(w->fp, fp, 32);
    w->job = req->job;
    w->refs = 1;
    return w;
}

bool ct_api__write_begin(ct_api *api, api_write **out, const api_req *req, const char *dc,
                         api_resp *resp)
{
    api_requests *r = api->requests;
    const char *key = req->idem_key;
    api_write *w = NULL, *other;
    uint8_t fp[32];

    *out = NULL;
    if (key != NULL && !key_ok(key)) {
        ct_api__error(resp, 400, "Idempotency-Key must be 1 to %d printable ASCII characters",
                      KEY_MAX);
        return false;
    }
    fingerprint(fp, req);
    pthread_mutex_lock(&r->mu);
    if (key != NULL && (other = find_live(r, dc, key)) != NULL) {
        join(r, other, fp, req, resp);
    } else if (key != NULL && answer_from_row(r, dc, key, fp, resp)) {
        /* answered as the first time */
    } else if ((w = write_new(req, dc, fp)) == NULL) {
        ct_api__error(resp, 500, "out of memory");
    } else if (key != NULL && persist(r, w, "pending", 0, NULL) < 0) {
        ct_api__error(resp, 503, "cannot record the Idempotency-Key (nothing was sent): %s",
                      ct_error_last());
        write_free(w);
        w = NULL;
    } else {
        w->accept_at = req->received_ms + api->cfg.accept_after_ms;
        w->next = r->live;
        r->live = w;
        if (w->accept_at < r->wake_at)
            pthread_cond_broadcast(&r->changed);
    }
    pthread_mutex_unlock(&r->mu);
    *out = w;
    return w != NULL;
}

static void unlink_live(api_requests *r, api_write *w)
{
    for (api_write **p = &r->live; *p != NULL; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            return;
        }
}

void ct_api__write_end(ct_api *api, api_write *w, enum api_outcome outcome, api_resp *resp)
{
    api_requests *r = api->requests;

    if (w == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    w->finished = true;
    w->accept_at = 0;
    w->outcome = outcome;
    w->status = resp->status;
    w->answer = resp_text(resp);
    if (w->answer == NULL)
        ct_log(CT_LOG_WARN, "api: request %s: out of memory", w->id);
    else if ((w->accepted || w->persisted || outcome == API_UNKNOWN) &&
             persist(r, w, state_names[outcome], resp->status, w->answer) < 0)
        ct_log(CT_LOG_WARN, "api: request %s ended %s: %s", w->id, state_names[outcome],
               ct_error_last());
    /* Not known now is 202 too: the request id tells the outcome later. */
    if (!w->accepted && outcome == API_UNKNOWN && w->persisted)
        accepted(resp, w->id, "unknown");
    /* Nothing went out: a retry with the key must send it. */
    if (outcome == API_UNSENT && w->persisted &&
        db_exec(r, "UPDATE requests SET idem_key=NULL WHERE id=?", "s", w->id) < 0)
        ct_log(CT_LOG_WARN, "api: request %s: %s", w->id, ct_error_last());
    unlink_live(r, w);
    if (w->refs > 1) /* requests with its key wait in join */
        pthread_cond_broadcast(&r->changed);
    release(w);
    pthread_mutex_unlock(&r->mu);
}

/* ---------------------------------------------------------------- GET /api/requests/{id} */

static json_t *request_json(sqlite3_stmt *st, const char *id)
{
    const char *state = (const char *)sqlite3_column_text(st, 3);
    const char *answer = (const char *)sqlite3_column_text(st, 5);
    char created[CT_TIME_ISO8601_SIZE] = "", updated[CT_TIME_ISO8601_SIZE] = "";
    json_t *out, *a = NULL;

    ct_time_format(created, sqlite3_column_int64(st, 6));
    ct_time_format(updated, sqlite3_column_int64(st, 7));
    out =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "request_id", id, "state", state, "method",
                  (const char *)sqlite3_column_text(st, 1), "path",
                  (const char *)sqlite3_column_text(st, 2), "created", created, "updated", updated);
    if (out == NULL || answer == NULL ||
        ct_json_parse(&a, answer, strlen(answer), CT_JSON_MAX_DEPTH) < 0)
        return out;
    if (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0) {
        json_object_set_new(out, "status", json_integer(sqlite3_column_int(st, 4)));
        json_object_set(out, "answer", a);
    }
    if (json_object_get(a, "tx_hash") != NULL)
        json_object_set(out, "tx_hash", json_object_get(a, "tx_hash"));
    if (json_object_get(a, "error") != NULL)
        json_object_set(out, "error", json_object_get(a, "error"));
    json_decref(a);
    return out;
}

void ct_api__h_request(ct_api *api, const api_req *req, api_resp *resp)
{
    api_requests *r = api->requests;
    const char *dc = ct_api__auth_dc(api, req), *id = req->params[0];
    sqlite3_stmt *st = NULL;

    if (dc == NULL) {
        ct_api__error(resp, 401, "a valid 'Authorization: Bearer <token>' header is required");
        return;
    }
    if (strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32) {
        ct_api__error(resp, 404, "no such request");
        return;
    }
    pthread_mutex_lock(&r->mu);
    if (sqlite3_prepare_v2(r->db,
                           "SELECT dc, method, path, state, status, answer, created_ms, updated_ms "
                           "FROM requests WHERE id=?",
                           -1, &st, NULL) != SQLITE_OK) {
        ct_api__error(resp, 500, "%s", (db_fail(r, "read"), ct_error_last()));
    } else {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_ROW)
            ct_api__error(resp, 404, "no such request");
        else if (strcmp((const char *)sqlite3_column_text(st, 0), dc) != 0)
            ct_api__error(resp, 403, "this token does not act for the request's datacenter");
        else if ((resp->json = request_json(st, id)) == NULL)
            ct_api__error(resp, 500, "out of memory");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&r->mu);
}
