/* The agreement keeper (seed 004 section 6, Figure 6.1): for every
 * Agreement accepted under this federation whose provider is the keeper's
 * key, it deploys the session service (a process of its own, through the
 * orchestration's process driver), registers it as a VC of its DC through
 * the gateway's own REST API, binds it to the agreement with the session
 * URL, keeps the VC's availability on the ledger in step with the
 * service's health, settles the agreement at its deadline, and then stops
 * the service and retires the VC.
 *
 * Every step is decided from the chain (is the VC registered, bound,
 * available; is the agreement settled), so a keeper that restarts or
 * repeats a step does nothing twice; the only local state is the running
 * service's record (dir/<agreement>.json), so a restarted gateway finds
 * the process again instead of starting another. */
#include "api_int.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catena/crypto.h"
#include "catena/orch.h"

/* How often the keeper looks at the chain. */
#define TICK_MS 500
/* A service that is alive but does not answer is replaced after this long
 * (a dead one at once). */
#define HUNG_MS 30000
/* Most blocks one log query spans. */
#define LOG_SPAN 5000
#define HTTP_TIMEOUT_MS 15000

enum { ST_OFFERED, ST_ACTIVE, ST_SETTLED };

typedef struct kitem {
    ct_address at;
    char id[CT_ADDRESS_TEXT_SIZE]; /* the agreement's address, lower case */
    uint64_t started_at, ends_at;
    bool done;
    bool unservable; /* the keeper's DC does not satisfy the constraints */
    bool has_inst;
    ct_orch_instance inst;
    int64_t unhealthy_since; /* mono ms, 0 while healthy */
} kitem;

struct api_keeper {
    struct ct_api *api;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;

    ct_rpc *rpc;
    ct_ledger *agreement;
    ct_sender *sender; /* the provider's key, once its file could be read */
    ct_orch_driver *driver;
    ct_address dc_wallet;
    char base[64]; /* the gateway's own URL */
    char token[256];
    char exe[4096];
    uint8_t accepted_topic[32];
    uint64_t next_block;
    kitem *items;
    size_t n_items;
    char last_error[256]; /* logged once until it changes */
    int last_rc;          /* of the last view: CT_ERPC when the contract refused it */
};

/* Logs a problem once until another one (or success) replaces it. */
static void note(api_keeper *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(api_keeper *k, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (strcmp(msg, k->last_error) != 0)
        ct_log(CT_LOG_WARN, "api: keeper: %s", msg);
    snprintf(k->last_error, sizeof(k->last_error), "%s", msg);
}

/* One view of a contract; args stolen (NULL: none); a failure is noted
 * unless quiet. Returns: the values (new ref) or NULL. */
static json_t *view_q(api_keeper *k, bool quiet, const ct_ledger *abi, const ct_address *at,
                      const char *fn, json_t *args)
{
    json_t *out = NULL, *a = args != NULL ? args : json_array();
    int rc = ct_ledger_read(abi, k->rpc, &out, at, fn, a);

    json_decref(a);
    k->last_rc = rc;
    if (rc < 0) {
        if (!quiet)
            note(k, "%s: %s", fn, ct_error_last());
        ct_error_clear();
        return NULL;
    }
    return out;
}

static json_t *view(api_keeper *k, const ct_ledger *abi, const ct_address *at, const char *fn,
                    json_t *args)
{
    return view_q(k, false, abi, at, fn, args);
}

/* An agreement's uint view (quiet: of a contract that may be none). */
static bool view_u64(api_keeper *k, bool quiet, uint64_t *out, const ct_address *at, const char *fn)
{
    json_t *v = view_q(k, quiet, k->agreement, at, fn, NULL);
    const char *s = json_string_value(json_array_get(v, 0));
    bool ok = s != NULL && ct_parse_uint(out, s, UINT64_MAX) == 0;

    json_decref(v);
    ct_error_clear();
    return ok;
}

/* Whether the agreement view's address result is addr (quiet: the
 * contract may be none). */
static bool view_is(api_keeper *k, const ct_address *at, const char *fn, const ct_address *addr)
{
    json_t *v = view_q(k, true, k->agreement, at, fn, NULL);
    const char *s = json_string_value(json_array_get(v, 0));
    ct_address got;
    bool same = s != NULL && ct_address_parse(&got, s) == 0 && memcmp(got.b, addr->b, 20) == 0;

    json_decref(v);
    ct_error_clear();
    return same;
}

/* Sends fn() to the agreement as the provider. Returns: whether mined. */
static bool transact(api_keeper *k, kitem *it, const char *fn, json_t *args)
{
    json_t *a = args != NULL ? args : json_array();
    int rc = ct_ledger_transact(k->agreement, k->sender, NULL, &it->at, NULL, fn, a);

    json_decref(a);
    if (rc < 0) {
        note(k, "%s %s: %s", fn, it->id, ct_error_last());
        ct_error_clear();
        return false;
    }
    ct_log(CT_LOG_INFO, "api: keeper: %s %s", fn, it->id);
    return true;
}

/* A write through the gateway's REST API with the DC's token. Returns:
 * whether it was answered 200 (mined) or 202 (under way). */
static bool rest(api_keeper *k, const char *path, json_t *body)
{
    char url[512], *text = json_dumps(body, JSON_COMPACT);
    json_t *answer = NULL;
    long status = 0;
    bool ok;

    snprintf(url, sizeof(url), "%s%s", k->base, path);
    if (text == NULL ||
        ct_http_request(&status, &answer, "POST", url, k->token, text, HTTP_TIMEOUT_MS) < 0)
        status = 0;
    ok = status == 200 || status == 202;
    if (!ok)
        note(k, "POST %s: %ld %s", path, status,
             json_string_value(json_object_get(answer, "error")) ?: ct_error_last());
    ct_error_clear();
    free(text);
    json_decref(answer);
    json_decref(body);
    return ok;
}

static void now_iso(char out[CT_TIME_ISO8601_SIZE])
{
    ct_time_format(out, ct_time_now_ms());
}

/* ---------------------------------------------------------------- the service */

static void record_path(char *out, size_t size, api_keeper *k, const kitem *it)
{
    snprintf(out, size, "%s/%s.json", k->api->cfg.keeper_dir, it->id);
}

static void record_save(api_keeper *k, kitem *it)
{
    char path[4096], *text;
    json_t *doc = json_pack("{s:s, s:s, s:I}", "id", it->inst.id, "url", it->inst.url, "pid",
                            (json_int_t)it->inst.pid);

    record_path(path, sizeof(path), k, it);
    if (doc != NULL && (text = json_dumps(doc, JSON_COMPACT)) != NULL) {
        if (ct_file_write_atomic(path, text, strlen(text), 0600) < 0) {
            note(k, "%s", ct_error_last());
            ct_error_clear();
        }
        free(text);
    }
    json_decref(doc);
}

static void record_load(api_keeper *k, kitem *it)
{
    char path[4096], *text = NULL;
    json_t *doc = NULL;

    record_path(path, sizeof(path), k, it);
    if (ct_file_read(&text, NULL, path, 65536) == 0 &&
        ct_json_parse(&doc, text, strlen(text), 4) == 0 &&
        json_is_string(json_object_get(doc, "id")) && json_is_string(json_object_get(doc, "url"))) {
        snprintf(it->inst.id, sizeof(it->inst.id), "%s",
                 json_string_value(json_object_get(doc, "id")));
        snprintf(it->inst.url, sizeof(it->inst.url), "%s",
                 json_string_value(json_object_get(doc, "url")));
        it->inst.pid = json_integer_value(json_object_get(doc, "pid"));
        it->has_inst = true;
    }
    ct_error_clear();
    free(text);
    json_decref(doc);
}

/* The session service of it as a one-service plan: this binary's
 * `catena agreement session ADDR --port {port} --until T`. */
static int session_start(api_keeper *k, kitem *it)
{
    char name[64], until[24];
    char *cmd[] = {k->exe,   "agreement", "session", it->id, "--port",
                   "{port}", "--until",   until,     NULL};
    ct_orch_service svc = {.name = name, .command = cmd, .n_command = 8, .health = "/health"};
    ct_orch_plan plan = {.services = &svc, .n = 1};
    ct_orch_instance running = {0}, got = {0};
    int rc;

    snprintf(name, sizeof(name), "session-%s", it->id);
    /* A service left behind by everything else still ends a minute after
     * the session's maximum period. */
    snprintf(until, sizeof(until), "%" PRIu64, it->ends_at + 60);
    if (it->has_inst)
        running = it->inst; /* replaced on its port: the bound URL stays */
    if ((rc = k->driver->start(k->driver, &got, &plan, 0, &running)) < 0) {
        note(k, "session of %s: %s", it->id, ct_error_last());
        ct_error_clear();
        return rc;
    }
    it->inst = got;
    it->has_inst = true;
    it->unhealthy_since = 0;
    record_save(k, it);
    ct_log(CT_LOG_INFO, "api: keeper: session of %s serves %s", it->id, got.url);
    return 0;
}

static bool session_alive(const kitem *it)
{
    if (it->inst.pid <= 0)
        return false;
    waitpid((pid_t)it->inst.pid, NULL, WNOHANG); /* reaps it if it was ours and exited */
    return kill((pid_t)it->inst.pid, 0) == 0 || errno != ESRCH;
}

/* Starts, watches and replaces the service. Returns: whether it answers. */
static bool session_keep(api_keeper *k, kitem *it)
{
    ct_orch_service svc = {.name = it->id, .health = "/health"};
    int64_t now = ct_time_mono_ms();

    if (!it->has_inst)
        record_load(k, it);
    if (!it->has_inst)
        return session_start(k, it) == 0;
    if (k->driver->healthy(k->driver, &svc, &it->inst)) {
        it->unhealthy_since = 0;
        return true;
    }
    if (it->unhealthy_since == 0)
        it->unhealthy_since = now;
    if (!session_alive(it) || now - it->unhealthy_since >= HUNG_MS) {
        ct_log(CT_LOG_WARN, "api: keeper: session of %s %s; replacing it", it->id,
               session_alive(it) ? "does not answer" : "exited");
        k->driver->stop(k->driver, &it->inst);
        ct_error_clear();
        session_start(k, it);
    }
    return false;
}

static void session_end(api_keeper *k, kitem *it)
{
    char path[4096];

    if (!it->has_inst)
        record_load(k, it);
    if (it->has_inst) {
        k->driver->stop(k->driver, &it->inst);
        ct_error_clear();
        ct_log(CT_LOG_INFO, "api: keeper: session of %s undeployed", it->id);
    }
    record_path(path, sizeof(path), k, it);
    unlink(path);
    it->has_inst = false;
}

/* ---------------------------------------------------------------- the VC */

/* The VC tag the keeper's DC gives the session of it (the Federation's
 * vcTagOf("session", agreement, DC wallet, accept time)). */
static bool session_tag(api_keeper *k, kitem *it, char tag[67])
{
    uint8_t h[32];

    ct_ledger_vc_tag(h, "session", it->id, &k->dc_wallet, it->started_at);
    ct_hex_encode(tag, 67, h, 32, true);
    return true;
}

/* Reads the VC's host and flags. Returns: false when the chain did not
 * answer. */
static bool vc_state(api_keeper *k, const char *tag, bool *registered, bool *available,
                     bool *retired)
{
    ct_ledger_vc_state vc;
    int rc = ct_ledger_vc_state_read(&vc, k->api->ledger, k->rpc, &k->api->cfg.contract, tag);

    k->last_rc = rc;
    if (rc < 0) {
        note(k, "container: %s", ct_error_last());
        ct_error_clear();
        return false;
    }
    *registered = vc.registered;
    *available = vc.available;
    *retired = vc.retired;
    return true;
}

static void vc_path(char *out, size_t size, api_keeper *k, const char *tag, const char *what)
{
    snprintf(out, size, "/api/datacenter/%s/container/%s/%s", k->api->cfg.keeper_dc, tag, what);
}

/* Returns: whether the gateway took it (200 or 202). */
static bool vc_register(api_keeper *k, kitem *it)
{
    char created[CT_TIME_ISO8601_SIZE], path[256];

    ct_time_format(created, (int64_t)it->started_at * 1000);
    snprintf(path, sizeof(path), "/api/datacenter/%s/container/register", k->api->cfg.keeper_dc);
    return rest(k, path,
                json_pack("{s:s, s:b, s:i, s:i, s:i, s:s, s:s, s:s, s:s}", "vc_type", "session",
                          "available", true, "vcpu", 1, "vram", 64, "vdisk", 1, "id", it->id,
                          "ip_address", "127.0.0.1", "controller", it->inst.url, "created",
                          created));
}

/* ---------------------------------------------------------------- one agreement */

static void keep_active(api_keeper *k, kitem *it, uint64_t bound_at)
{
    bool healthy, registered = false, available = false, retired = false;
    char tag[67], path[256], when[CT_TIME_ISO8601_SIZE], url[512];

    if (it->unservable)
        return; /* refunded in full at the deadline: nothing was delivered */
    healthy = session_keep(k, it);
    if (!it->has_inst || !session_tag(k, it, tag) ||
        !vc_state(k, tag, &registered, &available, &retired) || retired)
        return;
    /* Registered and mined (200): bound in the same look; under way (202)
     * or refused: looked at again next time. */
    if (!registered && (!healthy || !vc_register(k, it) ||
                        !vc_state(k, tag, &registered, &available, &retired) || !registered))
        return;
    if (available != healthy) {
        now_iso(when);
        vc_path(path, sizeof(path), k, tag, "availability/change");
        if (rest(k, path, json_pack("{s:b, s:s}", "status", healthy, "timestamp", when)))
            ct_log(CT_LOG_INFO, "api: keeper: session of %s %s", it->id,
                   healthy ? "available again" : "unavailable");
        return;
    }
    if (bound_at == 0 && healthy) {
        snprintf(url, sizeof(url), "%s/session/%s", it->inst.url, it->id);
        transact(k, it, "bindService", json_pack("[s, s]", tag, url));
    }
}

static void keep_settled(api_keeper *k, kitem *it)
{
    bool registered = false, available = false, retired = false;
    char tag[67], path[256], when[CT_TIME_ISO8601_SIZE];

    session_end(k, it);
    if (!session_tag(k, it, tag) || !vc_state(k, tag, &registered, &available, &retired))
        return;
    if (registered && !retired) {
        now_iso(when);
        vc_path(path, sizeof(path), k, tag, "retire");
        if (!rest(k, path, json_pack("{s:s}", "timestamp", when)))
            return;
    }
    it->done = true;
}

static void keep(api_keeper *k, kitem *it)
{
    uint64_t state, bound_at;

    if (!view_u64(k, false, &state, &it->at, "state") ||
        !view_u64(k, false, &bound_at, &it->at, "boundAt"))
        return;
    if (state == ST_SETTLED) {
        keep_settled(k, it);
    } else if (state == ST_ACTIVE) {
        if ((uint64_t)(ct_time_now_ms() / 1000) >= it->ends_at) {
            session_end(k, it); /* the session is over: undeploy, then settle */
            transact(k, it, "settle", NULL);
        } else {
            keep_active(k, it, bound_at);
        }
    }
}

/* ---------------------------------------------------------------- discovery */

/* Takes the agreement at addr if it is one of ours: its provider is the
 * keeper and its SLA names this federation. Returns: false when the node
 * could not tell (look again later), true when decided. */
static bool consider(api_keeper *k, const ct_address *addr)
{
    kitem it = {.at = *addr}, *grown;
    uint64_t max_seconds;

    for (size_t i = 0; i < k->n_items; i++)
        if (memcmp(k->items[i].at.b, addr->b, 20) == 0)
            return true;
    if (!view_is(k, addr, "provider", ct_sender_address(k->sender)) ||
        !view_is(k, addr, "federation", &k->api->cfg.contract) ||
        !view_u64(k, true, &it.started_at, addr, "startedAt") ||
        !view_u64(k, true, &max_seconds, addr, "maxSeconds"))
        return k->last_rc == 0 || k->last_rc == CT_ERPC; /* another's, or no agreement */
    ct_address_format(it.id, addr);
    for (char *p = it.id; *p != '\0'; p++)
        *p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
    it.ends_at = it.started_at + max_seconds;
    {
        char wallet[CT_ADDRESS_TEXT_SIZE];
        json_t *v;
        ct_address_format(wallet, &k->dc_wallet);
        v = view(k, k->agreement, addr, "satisfiedBy", json_pack("[s]", wallet));
        if (v == NULL)
            return false;
        it.unservable = !json_is_true(json_array_get(v, 0));
        json_decref(v);
    }
    if ((grown = realloc(k->items, (k->n_items + 1) * sizeof(*grown))) == NULL)
        return false;
    k->items = grown;
    k->items[k->n_items++] = it;
    ct_log(CT_LOG_INFO, "api: keeper: agreement %s accepted; %s", it.id,
           it.unservable ? "its constraints exclude this DC: no session, settled at the deadline"
                         : "keeping it");
    return true;
}

/* Reads the Accepted events since the last look, of any contract. */
static void discover(api_keeper *k)
{
    uint64_t head, to;
    json_t *filter, *logs = NULL, *log;
    size_t i;

    if (ct_rpc_block_number(k->rpc, &head) < 0) {
        note(k, "%s", ct_error_last());
        ct_error_clear();
        return;
    }
    while (k->next_block <= head) {
        char from_hex[24], to_hex[24];
        to = k->next_block + LOG_SPAN - 1 < head ? k->next_block + LOG_SPAN - 1 : head;
        snprintf(from_hex, sizeof(from_hex), "0x%" PRIx64, k->next_block);
        snprintf(to_hex, sizeof(to_hex), "0x%" PRIx64, to);
        filter = json_pack("{s:s, s:s, s:[o]}", "fromBlock", from_hex, "toBlock", to_hex, "topics",
                           ct_json_hex(k->accepted_topic, 32));
        if (ct_rpc_get_logs(k->rpc, &logs, filter) < 0) {
            note(k, "eth_getLogs: %s", ct_error_last());
            ct_error_clear();
            json_decref(filter);
            return;
        }
        json_decref(filter);
        json_array_foreach (logs, i, log) {
            ct_address addr;
            if (ct_address_parse(&addr, json_string_value(json_object_get(log, "address")) ?: "") ==
                    0 &&
                !consider(k, &addr)) {
                json_decref(logs); /* the node failed: this range again next time */
                return;
            }
            ct_error_clear();
        }
        json_decref(logs);
        logs = NULL;
        k->next_block = to + 1;
    }
}

/* ---------------------------------------------------------------- the thread */

/* Reads the provider's hex key file (it may appear after the gateway
 * starts: catena up makes it later). */
static void load_key(api_keeper *k)
{
    uint8_t key[CT_SECKEY_SIZE];

    if (ct_api__load_key(key, k->api->cfg.keeper_key_file, "keeper_key_file") < 0 ||
        ct_sender_new(&k->sender, k->api->cfg.rpc_url, key, NULL) < 0)
        note(k, "%s", ct_error_last());
    ct_error_clear();
    ct_wipe(key, sizeof(key));
}

static void *keeper_main(void *arg)
{
    api_keeper *k = arg;

    pthread_mutex_lock(&k->mu);
    while (!k->stop) {
        pthread_mutex_unlock(&k->mu);
        if (k->sender == NULL)
            load_key(k);
        if (k->sender != NULL) {
            discover(k);
            for (size_t i = 0; i < k->n_items; i++)
                if (!k->items[i].done)
                    keep(k, &k->items[i]);
        }
        pthread_mutex_lock(&k->mu);
        if (!k->stop) {
            struct timespec until;
            ct_time_after(&until, CLOCK_REALTIME, TICK_MS);
            pthread_cond_timedwait(&k->cond, &k->mu, &until);
        }
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

static void keeper_free(api_keeper *k)
{
    ct_rpc_free(k->rpc);
    ct_ledger_free(k->agreement);
    ct_sender_free(k->sender);
    ct_orch_driver_free(k->driver);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cond);
    ct_wipe(k->token, sizeof(k->token));
    free(k->items);
    free(k);
}

int ct_api__keeper_start(struct ct_api *api)
{
    const ct_api_config *cfg = &api->cfg;
    const ct_address *wallet;
    char *token = NULL;
    size_t len = 0;
    api_keeper *k;
    ssize_t n;
    int rc;

    if (cfg->keeper_dc == NULL)
        return 0;
    if ((wallet = ct_api__agent_wallet(api, cfg->keeper_dc)) == NULL)
        return ct_error_set(CT_EINVAL, "config: keeper_dc '%s' names no agent", cfg->keeper_dc);
    if (cfg->keeper_key_file == NULL || cfg->keeper_token_file == NULL || cfg->keeper_dir == NULL)
        return ct_error_set(CT_EINVAL,
                            "config: keeper_dc needs keeper_key_file, keeper_token_file and "
                            "keeper_dir");
    if (mkdir(cfg->keeper_dir, 0700) < 0 && errno != EEXIST)
        return ct_error_set(CT_EIO, "keeper_dir %s: %s", cfg->keeper_dir, strerror(errno));
    if ((k = calloc(1, sizeof(*k))) == NULL)
        return ct_error_set(CT_ENOMEM, "api: out of memory");
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cond, NULL);
    k->api = api;
    k->dc_wallet = *wallet;
    k->next_block = cfg->from_block;
    snprintf(k->base, sizeof(k->base), "http://127.0.0.1:%u", (unsigned)cfg->port);
    if ((n = readlink("/proc/self/exe", k->exe, sizeof(k->exe) - 1)) <= 0) {
        rc = ct_error_set(CT_EIO, "api: keeper: cannot find this program: %s", strerror(errno));
        goto fail;
    }
    k->exe[n] = '\0';
    if ((rc = ct_file_read(&token, &len, cfg->keeper_token_file, sizeof(k->token) - 1)) < 0)
        goto fail;
    while (len > 0 && (token[len - 1] == '\n' || token[len - 1] == '\r'))
        len--;
    memcpy(k->token, token, len);
    ct_wipe(token, len);
    free(token);
    if ((rc = ct_rpc_new(&k->rpc, cfg->rpc_url, 10000)) < 0 ||
        (rc = ct_ledger_open_contract(&k->agreement, "Agreement")) < 0 ||
        (rc = ct_ledger_event_topic(k->agreement, k->accepted_topic, "Accepted")) < 0 ||
        (rc = ct_orch_process_driver_new(&k->driver, cfg->keeper_dir, 15000)) < 0)
        goto fail;
    if (pthread_create(&k->thread, NULL, keeper_main, k) != 0) {
        rc = ct_error_set(CT_EIO, "api: cannot start the keeper thread");
        goto fail;
    }
    k->started = true;
    api->keeper = k;
    ct_log(CT_LOG_INFO, "api: keeper: deploying sessions on %s", cfg->keeper_dc);
    return 0;
fail:
    keeper_free(k);
    return rc;
}

void ct_api__keeper_stop(struct ct_api *api)
{
    api_keeper *k = api->keeper;

    if (k == NULL)
        return;
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_signal(&k->cond);
    pthread_mutex_unlock(&k->mu);
    if (k->started)
        pthread_join(k->thread, NULL);
    keeper_free(k);
    api->keeper = NULL;
}
