/* The agent's cloud watcher (docs/AGENT_WATCH.md): Nova's versioned
 * notifications, read from RabbitMQ, keep the ledger in step with the
 * DC's cloud. A new instance is registered as a VC, a change of its state
 * changes the VC's availability, its deletion retires it. A notification
 * is acknowledged only once its transaction is mined; a journal in
 * SQLite makes a redelivered one wait for the transaction it already
 * sent instead of sending another. */
#include "agent_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/cloud.h"

#define VC_TYPE "openstack:vm"
#define RECEIPT_WAIT_MS 120000
#define RETRY_MAX_MS 5000
/* How long a note waits for the chain to hold this DC's earlier writes
 * before its reads (then it is tried again). A chain node that crashed
 * may come back without the last of them until the outbox sends them
 * again; a note read before would find the VC as it was, skip its
 * change, and the re-sent write would then undo the instance's state
 * on the ledger. */
#define SYNC_WAIT_MS 10000
#define ID_MAX 96
/* The ledger is compared with the cloud's servers when the queue first
 * falls quiet after a connection, and this often after that. */
#define RESYNC_MS (10 * 60 * 1000)

struct ct_agent__watch {
    ct_agent *a;
    char *amqp_url, *exchange, *rpc_url, *journal_path;
    char queue[CT_AGENT_NAME_MAX + 48];
    ct_cloud_auth auth;
    char controller[512];
    ct_rpc *rpc;
    sqlite3 *db;
    ct_agent__amqp *q;
    pthread_t thread;
    bool running;
    bool need_sync; /* compare with the cloud's servers when the queue is quiet */
    int64_t synced_ms;
    atomic_bool stop;
};

static const char journal_sql[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS notes (message_id TEXT PRIMARY KEY, tx_hash TEXT,"
    " done INTEGER NOT NULL DEFAULT 0, at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS vcs (uuid TEXT PRIMARY KEY, tag TEXT NOT NULL);"
    "DELETE FROM notes WHERE done = 1 AND at < strftime('%s','now') - 30 * 86400;";

/* ---------------------------------------------------------------- journal */

static int db_fail(ct_agent__watch *w, const char *what)
{
    return ct_error_set(CT_EIO, "watch: journal %s: %s: %s", w->journal_path, what,
                        sqlite3_errmsg(w->db));
}

static int journal_open(ct_agent__watch *w)
{
    if (sqlite3_open_v2(w->journal_path, &w->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(w->db, journal_sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(w, "opening");
    sqlite3_busy_timeout(w->db, 5000);
    return 0;
}

/* Runs sql with text parameters (NULL binds NULL). */
static int db_exec(ct_agent__watch *w, const char *sql, const char *p1, const char *p2)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(w, "prepare");
    sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
    if (p2 != NULL)
        sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(w, "write");
    sqlite3_finalize(st);
    return rc;
}

/* Reads one text column of the row sql finds for key.
 * Returns: 1 found (out set, "" for NULL), 0 none, or an error. */
static int db_text(ct_agent__watch *w, char *out, size_t size, const char *sql, const char *key)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(w, "prepare");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, size, "%s", t != NULL ? (const char *)t : "");
        rc = 1;
    } else if (step != SQLITE_DONE) {
        rc = db_fail(w, "read");
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------- notes */

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The data of a versioned notification object. */
static const json_t *data_of(const json_t *o)
{
    return json_object_get(o, "nova_object.data");
}

/* oslo's timestamps read "2026-12-07 05:20:12.345678" (UTC). */
static int parse_oslo_time(int64_t *ms, const char *s)
{
    char iso[64];
    bool zoned;

    if (s == NULL || strlen(s) <= 10 || strlen(s) >= sizeof(iso) - 1)
        return CT_EPARSE;
    zoned = strchr(s + 10, 'Z') != NULL || strchr(s + 10, '+') != NULL;
    snprintf(iso, sizeof(iso), "%s%s", s, zoned ? "" : "Z");
    if (iso[10] == ' ')
        iso[10] = 'T';
    return ct_time_parse(ms, iso);
}

static void copy(char *out, size_t size, const char *s)
{
    snprintf(out, size, "%s", s != NULL ? s : "");
}

/* The first IPv4 address of the instance, as seed 000's ip_address. */
static void first_ip(ct_agent__note *n, const json_t *ips)
{
    const json_t *ip;
    size_t i;

    json_array_foreach (ips, i, ip) {
        const json_t *d = data_of(ip);
        if (json_integer_value(json_object_get(d, "version")) == 4 && str(d, "address") != NULL) {
            snprintf(n->ip, sizeof(n->ip), "http://%s", str(d, "address"));
            return;
        }
    }
}

/* Reads an instance notification out of the oslo envelope.
 * Returns: 1 (one about an instance's finished action), 0 (another kind,
 * to acknowledge and drop), CT_EPARSE (malformed; dropped too). */
int ct_agent__watch_parse(ct_agent__note *n, const char *body, size_t len)
{
    json_t *outer = NULL, *inner = NULL;
    const json_t *msg, *p, *flavor;
    const char *text, *event;
    int rc = CT_EPARSE;

    memset(n, 0, sizeof(*n));
    if (ct_json_parse(&outer, body, len, 32) < 0)
        return CT_EPARSE;
    msg = outer;
    if ((text = str(outer, "oslo.message")) != NULL) {
        if (ct_json_parse(&inner, text, strlen(text), 32) < 0)
            goto done;
        msg = inner;
    }
    event = str(msg, "event_type");
    p = data_of(json_object_get(msg, "payload"));
    if (event == NULL || strncmp(event, "instance.", 9) != 0 || strlen(event) < 4 ||
        strcmp(event + strlen(event) - 4, ".end") != 0) {
        rc = 0;
        goto done;
    }
    copy(n->event, sizeof(n->event), event);
    copy(n->message_id, sizeof(n->message_id), str(msg, "message_id"));
    copy(n->uuid, sizeof(n->uuid), str(p, "uuid"));
    copy(n->state, sizeof(n->state), str(p, "state"));
    if (n->message_id[0] == '\0' || n->uuid[0] == '\0' || n->state[0] == '\0' ||
        str(p, "created_at") == NULL || ct_time_parse(&n->created_s, str(p, "created_at")) < 0 ||
        parse_oslo_time(&n->at_ms, str(msg, "timestamp")) < 0) {
        ct_error_set(CT_EPARSE, "watch: %s lacks message_id, uuid, state or a time", event);
        goto done;
    }
    n->created_s /= 1000;
    flavor = data_of(json_object_get(p, "flavor"));
    n->vcpus = json_integer_value(json_object_get(flavor, "vcpus"));
    n->memory_mb = json_integer_value(json_object_get(flavor, "memory_mb"));
    n->root_gb = json_integer_value(json_object_get(flavor, "root_gb"));
    first_ip(n, json_object_get(p, "ip_addresses"));
    n->migrated_in = json_object_get(json_object_get(p, "metadata"), "catena_migration") != NULL;
    rc = 1;
done:
    json_decref(inner);
    json_decref(outer);
    return rc;
}

/* ---------------------------------------------------------------- the chain */

/* A node or broker problem worth trying again, not a refusal. */
static bool transient(int rc)
{
    return rc != 0 && rc != CT_EREVERT && rc != CT_EINVAL && rc != CT_EPARSE;
}

/* Reads container(tag). */
static int vc_state(ct_agent__watch *w, const char *tag, ct_ledger_vc_state *vc)
{
    return ct_ledger_vc_state_read(vc, w->a->ledger, w->rpc, &w->a->contract, tag);
}

/* The tag of a VC that came to this DC by migration with instance id
 * uuid: the last ContainerMigrated to our wallet naming it.
 * Returns: 1 found, 0 none, or the node's error. */
static int migrated_tag(ct_agent__watch *w, char tag[67], const char *uuid)
{
    uint8_t topic[32], to[32] = {0};
    char contract[CT_ADDRESS_TEXT_SIZE];
    json_t *logs = NULL, *filter, *log;
    size_t i;
    int rc, found = 0;

    if ((rc = ct_ledger_event_topic(w->a->ledger, topic, "ContainerMigrated")) < 0)
        return rc;
    memcpy(to + 12, w->a->wallet.b, 20);
    ct_address_format(contract, &w->a->contract);
    filter = json_pack("{s:s,s:s,s:[o,n,n,o]}", "address", contract, "fromBlock", "0x0", "topics",
                       ct_json_hex(topic, 32), ct_json_hex(to, 32));
    rc = ct_rpc_get_logs(w->rpc, &logs, filter);
    json_decref(filter);
    json_array_foreach (logs, i, log) {
        const char *name;
        json_t *args = NULL;
        if (ct_ledger_decode_log(w->a->ledger, &name, &args, log) == 0 &&
            strcmp(str(args, "id") ?: "", uuid) == 0 && str(args, "vcTag") != NULL) {
            copy(tag, 67, str(args, "vcTag"));
            found = 1;
        }
        json_decref(args);
    }
    json_decref(logs);
    return rc < 0 ? rc : found;
}

/* The VC of instance uuid: remembered, computed from the registration it
 * would have had, or found among the migrations to this DC.
 * Returns: 1 (tag set), 0 (none), or an error. */
static int find_tag(ct_agent__watch *w, char tag[67], const ct_agent__note *n)
{
    uint8_t h[32];
    ct_ledger_vc_state vc;
    int rc;

    if ((rc = db_text(w, tag, 67, "SELECT tag FROM vcs WHERE uuid = ?", n->uuid)) != 0)
        return rc;
    ct_ledger_vc_tag(h, VC_TYPE, n->uuid, &w->a->wallet, (uint64_t)n->created_s);
    ct_hex_encode(tag, 67, h, 32, true);
    if ((rc = vc_state(w, tag, &vc)) < 0)
        return rc;
    if (!vc.registered && (rc = migrated_tag(w, tag, n->uuid)) <= 0)
        return rc;
    return db_exec(w, "INSERT OR REPLACE INTO vcs (uuid, tag) VALUES (?, ?)", n->uuid, tag) < 0
               ? CT_EIO
               : 1;
}

/* ---------------------------------------------------------------- writes */

/* B's compute endpoint, the VC's controller; asked of Keystone once. */
static int controller(ct_agent__watch *w)
{
    ct_cloud *c = NULL;
    int rc;

    if (w->controller[0] != '\0')
        return 0;
    if ((rc = ct_cloud_connect(&c, &w->auth, 15000)) < 0)
        return rc;
    copy(w->controller, sizeof(w->controller), ct_cloud_endpoint(c, CT_CLOUD_COMPUTE));
    ct_cloud_free(c);
    return 0;
}

/* Waits for hash to be mined.
 * Returns: 0 (mined, status 1), CT_EREVERT, CT_ETIMEOUT, or the node's
 * error. */
static int wait_mined(ct_agent__watch *w, const uint8_t hash[32])
{
    int64_t until = ct_time_mono_ms() + RECEIPT_WAIT_MS;
    json_t *r = NULL;
    int rc;

    /* In slices of a second, so that a stop is seen. */
    while ((rc = ct_rpc_wait_receipt(w->rpc, &r, hash, 1000, 250)) == CT_ETIMEOUT) {
        if (ct_time_mono_ms() > until || atomic_load(&w->stop))
            return ct_error_set(CT_ETIMEOUT, "watch: transaction not mined yet");
    }
    if (rc == 0 && strcmp(str(r, "status") ?: "", "0x1") != 0)
        rc = ct_error_set(CT_EREVERT, "watch: the transaction failed on chain");
    json_decref(r);
    return rc;
}

/* Sends req (an agent request) for note n, journals its hash before it
 * waits, so a redelivery waits for this transaction instead of sending
 * another. */
static int send_write(ct_agent__watch *w, const ct_agent__note *n, json_t *req)
{
    ct_send_req sr = {.to = &w->a->contract};
    ct_agent_call call = {0};
    ct_send_result res = {0};
    char hash[67];
    ct_buf data;
    int rc;

    ct_buf_init(&data, 1 << 20);
    if ((rc = ct_agent_parse_request(&call, req, w->a->dc_name, &w->a->wallet, ct_time_now_ms())) <
            0 ||
        (rc = ct_ledger_encode_call(w->a->ledger, &data, call.function, call.args)) < 0)
        goto done;
    sr.data = (const uint8_t *)data.data;
    sr.data_len = data.len;
    if ((rc = ct_sender_send(w->a->sender, &res, &sr, false)) < 0)
        goto done;
    ct_hex_encode(hash, sizeof(hash), res.hash, 32, true);
    ct_log(CT_LOG_INFO, "%s: watch: %s of %s -> %s %s", w->a->dc_name, n->event, n->uuid,
           call.function, hash);
    if ((rc = db_exec(w,
                      "INSERT OR REPLACE INTO notes (message_id, tx_hash, at)"
                      " VALUES (?, ?, strftime('%s','now'))",
                      n->message_id, hash)) < 0)
        goto done;
    rc = wait_mined(w, res.hash);
done:
    ct_send_result_clear(&res);
    ct_agent_call_clear(&call);
    ct_buf_free(&data);
    json_decref(req);
    return rc;
}

static json_t *request(const char *method, const char *tag, const ct_agent__note *n)
{
    char at[CT_TIME_ISO8601_SIZE];

    ct_time_format(at, n->at_ms);
    return json_pack("{s:s,s:s,s:s,s:s}", "method", method, "_request_id", n->message_id, "vc_tag",
                     tag, "timestamp", at);
}

static int register_vc(ct_agent__watch *w, const ct_agent__note *n, bool up)
{
    char created[CT_TIME_ISO8601_SIZE];
    json_t *req;
    int rc;

    if ((rc = controller(w)) < 0)
        return rc;
    ct_time_format(created, n->created_s * 1000);
    req = json_pack("{s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:s,s:s,s:s,s:s}", "method", "register_container",
                    "_request_id", n->message_id, "vc_type", VC_TYPE, "available", up, "vcpu",
                    (json_int_t)n->vcpus, "vram", (json_int_t)n->memory_mb, "vdisk",
                    (json_int_t)n->root_gb, "id", n->uuid, "ip_address", n->ip, "controller",
                    w->controller, "created", created);
    return send_write(w, n, req);
}

/* The write n calls for, if any, sent and mined. */
static int apply(ct_agent__watch *w, const ct_agent__note *n)
{
    bool retire = strcmp(n->state, "deleted") == 0 || strcmp(n->event, "instance.delete.end") == 0;
    bool want_up = strcmp(n->state, "active") == 0;
    char tag[67], seen[80];
    ct_ledger_vc_state vc;
    int rc;

    if ((rc = find_tag(w, tag, n)) < 0)
        return rc;
    if (rc == 0) {
        if (retire || n->migrated_in) {
            /* A VC that arrived by migration is this DC's once the
             * migration is confirmed on the ledger; nothing to do before. */
            ct_log(CT_LOG_INFO, "%s: watch: %s of %s: no VC of this DC%s", w->a->dc_name, n->event,
                   n->uuid, n->migrated_in ? " yet (arrived by migration)" : "");
            return 0;
        }
        return register_vc(w, n, want_up);
    }
    if ((rc = vc_state(w, tag, &vc)) < 0)
        return rc;
    if (memcmp(vc.host.b, w->a->wallet.b, 20) != 0 || vc.retired) {
        copy(seen, sizeof(seen), vc.retired ? "retired" : "hosted by another DC");
        ct_log(CT_LOG_INFO, "%s: watch: %s of %s: VC %s is %s", w->a->dc_name, n->event, n->uuid,
               tag, seen);
        return 0;
    }
    if (retire)
        return send_write(w, n, request("retire", tag, n));
    if (vc.available == want_up) {
        ct_log(CT_LOG_INFO, "%s: watch: %s of %s: VC %s is %s already", w->a->dc_name, n->event,
               n->uuid, tag, want_up ? "up" : "down");
        return 0;
    }
    json_t *req = request("change_availability", tag, n);
    json_object_set_new(req, "status", json_boolean(want_up));
    return send_write(w, n, req);
}

/* Handles note n once: a journalled transaction is waited for, else the
 * chain is read and the write sent. Returns: 0 (acknowledge), or an
 * error (transient() says whether to try again). */
static int handle(ct_agent__watch *w, const ct_agent__note *n)
{
    char hash[67];
    uint8_t h[32];
    size_t len;
    int rc = db_text(w, hash, sizeof(hash),
                     "SELECT CASE done WHEN 1 THEN 'done' ELSE tx_hash END FROM notes"
                     " WHERE message_id = ?",
                     n->message_id);

    if (rc == 1 && strcmp(hash, "done") == 0)
        return 0;
    if (rc == 1 && ct_hex_decode(h, 32, &len, hash, strlen(hash)) == 0 && len == 32)
        rc = wait_mined(w, h); /* sent before the broker or this agent went away */
    else if (rc >= 0 && (rc = ct_sender_sync(w->a->sender, SYNC_WAIT_MS)) == 0)
        rc = apply(w, n);
    if (rc == 0 || !transient(rc))
        db_exec(w,
                "INSERT INTO notes (message_id, done, at) VALUES (?, 1, strftime('%s','now'))"
                " ON CONFLICT (message_id) DO UPDATE SET done = 1",
                n->message_id, NULL);
    return rc;
}

/* ---------------------------------------------------------------- reconciling */

/* A note of server srv as Nova's API shows it (microversion 2.79: the
 * flavor embedded), as if Nova had just notified its state. */
static void note_of_server(ct_agent__note *n, const json_t *srv)
{
    const json_t *flavor = json_object_get(srv, "flavor"), *net, *a;
    const char *key, *updated = str(srv, "updated");
    size_t i;

    memset(n, 0, sizeof(*n));
    copy(n->uuid, sizeof(n->uuid), str(srv, "id"));
    copy(n->state, sizeof(n->state), str(srv, "OS-EXT-STS:vm_state"));
    snprintf(n->event, sizeof(n->event), "sync");
    snprintf(n->message_id, sizeof(n->message_id), "sync:%.40s:%.12s:%.24s", n->uuid, n->state,
             updated != NULL ? updated : "");
    if (str(srv, "created") == NULL || ct_time_parse(&n->created_s, str(srv, "created")) < 0)
        n->created_s = 0;
    n->created_s /= 1000;
    n->at_ms = ct_time_now_ms();
    n->vcpus = json_integer_value(json_object_get(flavor, "vcpus"));
    n->memory_mb = json_integer_value(json_object_get(flavor, "ram"));
    n->root_gb = json_integer_value(json_object_get(flavor, "disk"));
    json_object_foreach ((json_t *)json_object_get(srv, "addresses"), key, net)
        json_array_foreach (net, i, a)
            if (n->ip[0] == '\0' && json_integer_value(json_object_get(a, "version")) == 4 &&
                str(a, "addr") != NULL)
                snprintf(n->ip, sizeof(n->ip), "http://%s", str(a, "addr"));
    n->migrated_in = json_object_get(json_object_get(srv, "metadata"), "catena_migration") != NULL;
}

/* Brings the ledger in step with the cloud's servers: what Nova said
 * while no queue of this agent existed (its first start) or what a
 * broker lost. It registers and updates, but never retires on the
 * listing's word: the listing holds the agent's project only (and one
 * page of Nova's), while the queue hears every project of the cloud.
 * Returns: 0, or an error (tried again later). */
static int reconcile(ct_agent__watch *w)
{
    ct_cloud *c = NULL;
    json_t *list = NULL, *srv;
    size_t i;
    long st;
    int rc;

    if ((rc = ct_cloud_connect(&c, &w->auth, 15000)) < 0)
        return rc;
    copy(w->controller, sizeof(w->controller), ct_cloud_endpoint(c, CT_CLOUD_COMPUTE));
    st = ct_cloud_call(&list, c, CT_CLOUD_COMPUTE, "GET", "servers/detail", NULL, NULL);
    if (st != 200 || !json_is_array(json_object_get(list, "servers")))
        rc = ct_error_set(CT_EIO, "watch: listing the servers: HTTP %ld", st);
    json_array_foreach (json_object_get(list, "servers"), i, srv) {
        ct_agent__note n;
        if (rc < 0 && transient(rc))
            break;
        note_of_server(&n, srv);
        /* A server in the middle of an action is left to the
         * notification that ends it. */
        if (n.uuid[0] == '\0' || n.state[0] == '\0' || n.created_s <= 0 ||
            strcmp(n.state, "building") == 0 ||
            json_is_string(json_object_get(srv, "OS-EXT-STS:task_state")))
            continue;
        if ((rc = handle(w, &n)) < 0 && !transient(rc))
            rc = 0; /* refused: logged by the contract's reason, go on */
    }
    json_decref(list);
    ct_cloud_free(c);
    return rc;
}

/* ---------------------------------------------------------------- the loop */

/* Sleeps ms in slices, back early when the agent stops. */
static void pause_ms(ct_agent__watch *w, int ms)
{
    for (int64_t until = ct_time_mono_ms() + ms; ct_time_mono_ms() < until;) {
        if (atomic_load(&w->stop))
            return;
        ct_sleep_ms(100);
    }
}

/* One delivery, handled until it is done or refused (then acknowledged),
 * or until the broker goes away or the agent stops (not acknowledged:
 * the broker delivers it again). */
static int deliver(ct_agent__watch *w, const ct_agent__delivery *d)
{
    ct_agent__note n;
    int rc = ct_agent__watch_parse(&n, d->body, d->len);

    if (rc < 0) {
        char head[121];
        size_t i;
        for (i = 0; i < d->len && i + 1 < sizeof(head); i++)
            head[i] = d->body[i] >= 0x20 && d->body[i] < 0x7f ? d->body[i] : '?';
        head[i] = '\0';
        ct_log(CT_LOG_WARN, "%s: watch: dropped a message of %zu bytes (%s): %s", w->a->dc_name,
               d->len, head, ct_error_last());
    }
    /* A transient failure is tried again until the note is handled or
     * refused; it is acknowledged only then. */
    for (int tries = 0; rc == 1;) {
        if (atomic_load(&w->stop))
            return CT_ESTATE; /* stopping: the broker delivers it again */
        if ((rc = handle(w, &n)) == 0)
            break;
        if (!transient(rc)) {
            ct_log(CT_LOG_WARN, "%s: watch: %s of %s refused: %s", w->a->dc_name, n.event, n.uuid,
                   ct_error_last());
            break;
        }
        if (tries++ % 10 == 0)
            ct_log(CT_LOG_WARN, "%s: watch: %s of %s: %s; trying again", w->a->dc_name, n.event,
                   n.uuid, ct_error_last());
        pause_ms(w, tries < 5 ? 500 * tries : RETRY_MAX_MS);
        rc = 1; /* again */
    }
    return ct_agent__amqp_ack(w->q, d->tag);
}

static void *watch_main(void *arg)
{
    ct_agent__watch *w = arg;
    ct_agent__amqp_opts o = {w->amqp_url, w->exchange, "versioned_notifications.info", w->queue};
    char last_error[256] = "";
    int backoff = 500;

    while (!atomic_load(&w->stop)) {
        ct_agent__delivery d;
        int rc;
        if (w->q == NULL) {
            if (ct_agent__amqp_open(&w->q, &o) < 0) {
                if (strcmp(last_error, ct_error_last()) != 0)
                    ct_log(CT_LOG_WARN, "%s: watch: %s; trying again", w->a->dc_name,
                           ct_error_last());
                copy(last_error, sizeof(last_error), ct_error_last());
                pause_ms(w, backoff);
                backoff = backoff < RETRY_MAX_MS ? backoff * 2 : RETRY_MAX_MS;
                continue;
            }
            ct_log(CT_LOG_INFO, "%s: watch: consuming queue %s (exchange %s)", w->a->dc_name,
                   w->queue, w->exchange);
            last_error[0] = '\0';
            backoff = 500;
            w->need_sync = true;
        }
        rc = ct_agent__amqp_next(w->q, &d, 500);
        if (rc == CT_ETIMEOUT && (w->need_sync || ct_time_mono_ms() - w->synced_ms > RESYNC_MS)) {
            /* The queue is quiet: what it held is applied, in order. */
            if (reconcile(w) == 0) {
                w->synced_ms = ct_time_mono_ms();
            } else {
                ct_log(CT_LOG_WARN, "%s: watch: comparing with the cloud: %s; trying again",
                       w->a->dc_name, ct_error_last());
                w->synced_ms = ct_time_mono_ms() - RESYNC_MS + 5000; /* again in 5 s */
            }
            w->need_sync = false; /* no delivery in hand: rc stays CT_ETIMEOUT */
        }
        if (rc == 0 || rc == CT_ELIMIT)
            rc = rc == 0 ? deliver(w, &d) : ct_agent__amqp_ack(w->q, d.tag);
        ct_agent__delivery_clear(&d);
        if (rc < 0 && rc != CT_ETIMEOUT && rc != CT_ESTATE) {
            ct_log(CT_LOG_WARN, "%s: watch: %s; reconnecting", w->a->dc_name, ct_error_last());
            ct_agent__amqp_close(w->q);
            w->q = NULL;
        }
    }
    ct_agent__amqp_close(w->q);
    w->q = NULL;
    return NULL;
}

/* One queue per DC and federation, named by the chain's genesis block and
 * the contract: a new dev chain deploys at the same address with the same
 * keys, and must not read what the last one left in its queue; a resumed
 * one reads on. */
static int name_queue(ct_agent__watch *w)
{
    char contract[CT_ADDRESS_TEXT_SIZE];
    const char *genesis;
    json_t *b = NULL;
    int rc;

    if ((rc = ct_rpc_get_block_by_number(w->rpc, &b, "0x0", false)) < 0)
        return rc;
    genesis = str(b, "hash");
    ct_address_format(contract, &w->a->contract);
    snprintf(w->queue, sizeof(w->queue), "catena.watch.%s.%.10s.%.10s", w->a->dc_name,
             genesis != NULL && strlen(genesis) > 12 ? genesis + 2 : "unknown", contract + 2);
    json_decref(b);
    return 0;
}

int ct_agent__watch_new(ct_agent__watch **out, ct_agent *a, const ct_agent_config *cfg)
{
    const char *colon = strrchr(cfg->openstack != NULL ? cfg->openstack : "", ':');
    ct_agent__watch *w;
    char path[4096];
    int rc;

    *out = NULL;
    if (cfg->openstack == NULL || colon == NULL || colon[1] == '\0' || cfg->watch_journal == NULL)
        return ct_error_set(CT_EINVAL, "agent: watching a cloud needs its clouds.yaml and name "
                                       "(FILE:CLOUD) and a journal file");
    if ((w = calloc(1, sizeof(*w))) == NULL)
        return ct_error_set(CT_ENOMEM, "agent: out of memory");
    w->a = a;
    snprintf(path, sizeof(path), "%.*s", (int)(colon - cfg->openstack), cfg->openstack);
    w->amqp_url = strdup(cfg->amqp_url);
    w->exchange = strdup(cfg->amqp_exchange != NULL ? cfg->amqp_exchange : "nova");
    w->rpc_url = strdup(cfg->rpc_url);
    w->journal_path = strdup(cfg->watch_journal);
    if (w->amqp_url == NULL || w->exchange == NULL || w->rpc_url == NULL ||
        w->journal_path == NULL) {
        ct_agent__watch_free(w);
        return ct_error_set(CT_ENOMEM, "agent: out of memory");
    }
    if ((rc = ct_cloud_auth_load(&w->auth, path, colon + 1)) < 0 ||
        (rc = ct_rpc_new(&w->rpc, w->rpc_url, 30000)) < 0 || (rc = name_queue(w)) < 0 ||
        (rc = journal_open(w)) < 0) {
        ct_agent__watch_free(w);
        return rc;
    }
    atomic_init(&w->stop, false);
    *out = w;
    return 0;
}

int ct_agent__watch_start(ct_agent__watch *w)
{
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0)
        return ct_error_set(CT_EIO, "agent: cannot start the cloud watcher");
    w->running = true;
    return 0;
}

void ct_agent__watch_free(ct_agent__watch *w)
{
    if (w == NULL)
        return;
    if (w->running) {
        atomic_store(&w->stop, true);
        pthread_join(w->thread, NULL);
    }
    ct_agent__amqp_close(w->q);
    ct_rpc_free(w->rpc);
    if (w->db != NULL)
        sqlite3_close(w->db);
    ct_cloud_auth_free(&w->auth);
    free(w->amqp_url);
    free(w->exchange);
    free(w->rpc_url);
    free(w->journal_path);
    free(w);
}
