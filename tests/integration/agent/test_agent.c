/* The DC agent end to end: two real `catena agent` processes (DC1, DC2)
 * with keystore files and a tokens file, on a real Hardhat node, driven
 * over WebSocket with the Ulfius client as the gateway drives them: the
 * seed's flow checked through the receipts' events, refused upgrades, bad
 * input of every kind (nothing sent: the nonce stays), hostile frames,
 * and a clean stop on SIGTERM with a stalled peer still connected. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ulfius.h>

#include "catena/agent.h"
#include "catena/crypto.h"
#include "catena/ledger.h"

#define DC2_KEY "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
#define VM_ID "b55f090c-67f0-4691-a736-104ebe82c2e9"
#define VM_CREATED 1536677183 /* 2018-09-11T14:46:23Z */
#define REPLY_TIMEOUT_MS 60000

typedef struct dc {
    const char *name, *key, *token;
    ct_address wallet;
    char wallet_text[CT_ADDRESS_TEXT_SIZE];
    uint16_t port;
    ct_proc proc;
    char log[512];
} dc;

static dc dcs[2] = {
    {.name = "DC1", .key = CTT_DEV_KEY2, .token = "dc1-operator-token-7f3a9c2e"},
    {.name = "DC2", .key = DC2_KEY, .token = "dc2-operator-token-0b8d4e61"},
};
static ct_devnode node;
static ct_ledger *ledger;
static ct_rpc *rpc;
static ct_address fed;
static char fed_text[CT_ADDRESS_TEXT_SIZE];
static char vc_tag[67]; /* set by seed_flow */

/* ---------------------------------------------------------------- WebSocket client */

typedef struct ws {
    struct _websocket_client_handler h;
    struct _u_request req;
    struct _u_response resp;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *queue[16];
    int n;
    bool closed, open;
    int rc; /* of ulfius_open_websocket_client_connection */
} ws;

static void ws_on_message(const struct _u_request *req, struct _websocket_manager *m,
                          const struct _websocket_message *msg, void *user)
{
    ws *w = user;
    char *copy = malloc(msg->data_len + 1);
    (void)req;
    (void)m;

    /* Not strndup: the data is not NUL terminated. */
    if (copy != NULL) {
        if (msg->data_len > 0)
            memcpy(copy, msg->data, msg->data_len);
        copy[msg->data_len] = '\0';
    }

    pthread_mutex_lock(&w->mu);
    if (copy != NULL && w->n < 16)
        w->queue[w->n++] = copy;
    else
        free(copy);
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void ws_on_close(const struct _u_request *req, struct _websocket_manager *m, void *user)
{
    ws *w = user;
    (void)req;
    (void)m;

    pthread_mutex_lock(&w->mu);
    w->closed = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Opens ws://127.0.0.1:PORT/ws/NAME with a wallet header (NULL: none).
 * Returns: the handshake's HTTP status, 101 when the socket is open. */
static int ws_open(ws *w, uint16_t port, const char *name, const char *wallet)
{
    char url[128];
    int rc;

    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    ulfius_init_request(&w->req);
    ulfius_init_response(&w->resp);
    snprintf(url, sizeof(url), "ws://127.0.0.1:%u/ws/%s", (unsigned)port, name);
    assert_int_equal(ulfius_set_websocket_request(&w->req, url, NULL, NULL), U_OK);
    if (wallet != NULL)
        u_map_put(w->req.map_header, "wallet", wallet);
    rc = ulfius_open_websocket_client_connection(&w->req, NULL, NULL, ws_on_message, w, ws_on_close,
                                                 w, &w->h, &w->resp);
    w->open = rc == U_OK;
    w->rc = rc;
    return w->open ? 101 : (int)w->resp.status;
}

static void ws_close(ws *w)
{
    bool peer_closed;

    pthread_mutex_lock(&w->mu);
    peer_closed = w->closed;
    pthread_mutex_unlock(&w->mu);
    /* Ulfius' client thread calls on_close before it closes its socket and
     * exits; freeing the websocket before that lets the thread close a
     * descriptor the next connection already reuses. It has nothing left
     * to wait for, so a short pause is enough. */
    if (w->open && peer_closed)
        ct_sleep_ms(200);
    if (w->open)
        ulfius_websocket_client_connection_close(&w->h);
    ulfius_clean_request(&w->req);
    ulfius_clean_response(&w->resp);
    for (int i = 0; i < w->n; i++)
        free(w->queue[i]);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

/* Returns: the next message (free it), or NULL when the connection closed
 * or nothing came within timeout_ms. */
static char *ws_next(ws *w, int timeout_ms)
{
    int64_t deadline = ct_time_mono_ms() + timeout_ms;
    char *out = NULL;

    pthread_mutex_lock(&w->mu);
    while (w->n == 0 && !w->closed && ct_time_mono_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    if (w->n > 0) {
        out = w->queue[0];
        memmove(w->queue, w->queue + 1, (size_t)--w->n * sizeof(char *));
    }
    pthread_mutex_unlock(&w->mu);
    return out;
}

static bool ws_closed(ws *w, int timeout_ms)
{
    char *m = ws_next(w, timeout_ms);
    bool closed;

    free(m);
    pthread_mutex_lock(&w->mu);
    closed = w->closed;
    pthread_mutex_unlock(&w->mu);
    return m == NULL && closed;
}

static void ws_send(ws *w, int opcode, const char *data, size_t len)
{
    assert_int_equal(ulfius_websocket_send_message(w->h.websocket->websocket_manager,
                                                   (uint8_t)opcode, len, data),
                     U_OK);
}

/* Sends text and returns the parsed reply. */
static json_t *ws_call_text(ws *w, const char *text)
{
    json_t *reply;
    char *r;

    ws_send(w, U_WEBSOCKET_OPCODE_TEXT, text, strlen(text));
    if ((r = ws_next(w, REPLY_TIMEOUT_MS)) == NULL)
        fail_msg("no reply to %.200s", text);
    if (ct_json_parse(&reply, r, strlen(r), 8) < 0)
        fail_msg("reply is not JSON: %s", r);
    free(r);
    return reply;
}

/* Sends req (reference stolen) and returns the parsed reply. */
static json_t *ws_call(ws *w, json_t *req)
{
    char *text;
    json_t *reply;

    assert_non_null(req);
    ctt_ok(ct_json_dump(&text, req));
    json_decref(req);
    reply = ws_call_text(w, text);
    free(text);
    return reply;
}

/* Expects Table 19 for id; returns the tx hash. */
static void expect_hash(json_t *reply, const char *id, uint8_t hash[32])
{
    const char *h = json_string_value(json_object_get(reply, "response"));
    size_t n;

    if (json_object_get(reply, "error") != NULL || h == NULL || strlen(h) != 66)
        fail_msg("expected a tx hash, got %s",
                 h != NULL ? h : json_string_value(json_object_get(reply, "code")));
    assert_string_equal(json_string_value(json_object_get(reply, "_request_id")), id);
    ctt_ok(ct_hex_decode(hash, 32, &n, h, 66));
    assert_int_equal(json_object_size(reply), 2);
    json_decref(reply);
}

/* Expects Table 20 with code whose message contains text; id NULL means
 * the reply's _request_id must be null. */
static void expect_error(json_t *reply, const char *id, const char *code, const char *text)
{
    const char *msg = json_string_value(json_object_get(reply, "response"));
    const char *got = json_string_value(json_object_get(reply, "code"));
    json_t *rid = json_object_get(reply, "_request_id");

    if (got == NULL || strcmp(got, code) != 0 || msg == NULL || strstr(msg, text) == NULL)
        fail_msg("expected %s '%s', got %s '%s'", code, text, got ? got : "-", msg ? msg : "-");
    assert_true(json_is_true(json_object_get(reply, "error")));
    if (id == NULL)
        assert_true(json_is_null(rid));
    else
        assert_string_equal(json_string_value(rid), id);
    json_decref(reply);
}

/* ---------------------------------------------------------------- chain checks */

/* Waits for the receipt of hash and returns its Federation events as a
 * JSON array of [name, args]. */
static json_t *events_of(const uint8_t hash[32])
{
    json_t *receipt, *logs, *out = json_array();
    size_t i;
    json_t *log;

    ctt_ok(ct_rpc_wait_receipt(rpc, &receipt, hash, 30000, 50));
    assert_string_equal(json_string_value(json_object_get(receipt, "status")), "0x1");
    logs = json_object_get(receipt, "logs");
    json_array_foreach (logs, i, log) {
        const char *name;
        json_t *args;
        ctt_ok(ct_ledger_decode_log(ledger, &name, &args, log));
        json_array_append_new(out, json_pack("[s, o]", name, args));
    }
    json_decref(receipt);
    return out;
}

/* Expects exactly one event called name; returns its args (new ref). */
static json_t *one_event(const uint8_t hash[32], const char *name)
{
    json_t *evs = events_of(hash), *args;

    assert_int_equal(json_array_size(evs), 1);
    assert_string_equal(json_string_value(json_array_get(json_array_get(evs, 0), 0)), name);
    args = json_incref(json_array_get(json_array_get(evs, 0), 1));
    json_decref(evs);
    return args;
}

static uint64_t nonce_of(const dc *d)
{
    uint64_t n;

    ctt_ok(ct_rpc_get_tx_count(rpc, &n, &d->wallet, "pending"));
    return n;
}

static void expect_field(const json_t *args, const char *key, const char *want)
{
    const char *got = json_string_value(json_object_get(args, key));

    if (got == NULL || strcmp(got, want) != 0)
        fail_msg("event field %s: got %s, want %s", key, got ? got : "-", want);
}

/* ---------------------------------------------------------------- setup */

static void write_file(const char *path, const char *text)
{
    ctt_ok(ct_file_write_atomic(path, text, strlen(text), 0600));
}

/* Writes DC i's keystore (light scrypt) and password file. */
static void write_keystore(int i, char *key_path, char *pw_path, size_t size)
{
    uint8_t key[32];
    size_t n;
    char *json, pw[32];

    ctt_ok(ct_hex_decode(key, 32, &n, dcs[i].key, strlen(dcs[i].key)));
    ctt_ok(ct_address_from_seckey(&dcs[i].wallet, key));
    ct_address_format(dcs[i].wallet_text, &dcs[i].wallet);
    snprintf(pw, sizeof(pw), "password of %s", dcs[i].name);
    ctt_ok(ct_keystore_encrypt(&json, key, pw, strlen(pw), &CT_KEYSTORE_LIGHT));
    snprintf(key_path, size, "%s/%s.keystore.json", ctt_tmpdir(), dcs[i].name);
    snprintf(pw_path, size, "%s/%s.password", ctt_tmpdir(), dcs[i].name);
    write_file(key_path, json);
    write_file(pw_path, pw);
    free(json);
    ct_wipe(key, sizeof(key));
}

static bool port_open(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void start_agent(int i, const char *tokens_path)
{
    char key_path[512], pw_path[512], listen[64];
    int64_t deadline;

    write_keystore(i, key_path, pw_path, sizeof(key_path));
    ctt_ok(ct_net_free_port(&dcs[i].port));
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)dcs[i].port);
    snprintf(dcs[i].log, sizeof(dcs[i].log), "%s/agent-%s.log", ctt_tmpdir(), dcs[i].name);
    char *argv[] = {(char *)ctt_catena_bin(),
                    "agent",
                    "--name",
                    (char *)dcs[i].name,
                    "--key-file",
                    key_path,
                    "--password-file",
                    pw_path,
                    "--rpc",
                    node.url,
                    "--contract",
                    fed_text,
                    "--listen",
                    listen,
                    "--tokens",
                    (char *)tokens_path,
                    NULL};
    ctt_spawn(&dcs[i].proc, argv, dcs[i].log);
    deadline = ct_time_mono_ms() + 60000;
    while (!port_open(dcs[i].port)) {
        if (!ct_proc_alive(&dcs[i].proc) || ct_time_mono_ms() > deadline)
            fail_msg("agent %s did not start, see %s", dcs[i].name, dcs[i].log);
        ct_sleep_ms(50);
    }
}

static int setup(void **state)
{
    char tokens[512], h1[65], h2[65];
    const char *tokens_path;
    ct_sender *admin;
    uint8_t key[32];
    uint64_t block;
    size_t n;
    (void)state;

    ctt_node_start(&node);
    if (ct_ledger_open(&ledger) < 0 || ct_rpc_new(&rpc, node.url, 10000) < 0)
        return -1;
    ctt_ok(ct_hex_decode(key, 32, &n, CTT_DEV_KEY, strlen(CTT_DEV_KEY)));
    ctt_ok(ct_sender_new(&admin, node.url, key, NULL));
    ctt_ok(ct_ledger_deploy(ledger, admin, true, &fed, &block));
    ct_sender_free(admin);
    ct_address_format(fed_text, &fed);

    ct_token_hash(h1, dcs[0].token);
    ct_token_hash(h2, dcs[1].token);
    snprintf(tokens, sizeof(tokens), "{\"DC1\": [\"%s\"], \"DC2\": [\"%s\"]}", h1, h2);
    tokens_path = ctt_path("%s/tokens.json", ctt_tmpdir());
    write_file(tokens_path, tokens);
    start_agent(0, tokens_path);
    start_agent(1, ctt_path("%s/tokens.json", ctt_tmpdir()));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++)
        ctt_stop(&dcs[i].proc);
    ct_rpc_free(rpc);
    ct_ledger_free(ledger);
    ctt_node_stop(&node);
    return 0;
}

/* Opens a connection to DC i as the gateway does. */
static void gw_open(ws *w, int i)
{
    int status = ws_open(w, dcs[i].port, dcs[i].name, dcs[i].wallet_text);

    if (status != 101)
        fail_msg("connecting to %s: HTTP %d, ulfius %d (log %s)", dcs[i].name, status, w->rc,
                 dcs[i].log);
}

static json_t *request(const char *method, const char *id, int dc_index)
{
    return json_pack("{s:s, s:s, s:s}", "method", method, "_request_id", id, "token",
                     dcs[dc_index].token);
}

/* ---------------------------------------------------------------- tests */

static void refused_upgrades(void **state)
{
    char upper[CT_ADDRESS_TEXT_SIZE];
    ws w;
    (void)state;

    assert_int_equal(ws_open(&w, dcs[0].port, "DC1", NULL), 403);
    ws_close(&w);
    assert_int_equal(ws_open(&w, dcs[0].port, "DC1", dcs[1].wallet_text), 403);
    ws_close(&w);
    assert_int_equal(ws_open(&w, dcs[0].port, "DC1", "0x1234"), 403);
    ws_close(&w);
    assert_int_equal(ws_open(&w, dcs[0].port, "DC2", dcs[0].wallet_text), 404);
    ws_close(&w);
    assert_int_equal(ws_open(&w, dcs[0].port, "DC1x", dcs[0].wallet_text), 404);
    ws_close(&w);
    /* The wallet compares as bytes: any case of the hex digits. */
    memcpy(upper, dcs[0].wallet_text, sizeof(upper));
    for (char *p = upper + 2; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(ws_open(&w, dcs[0].port, "DC1", upper), 101);
    ws_close(&w);
}

/* Adds fields (a JSON object, stolen) to req (stolen) and sends it. */
static json_t *call_with(ws *w, json_t *req, json_t *fields)
{
    json_object_update_new(req, fields);
    return ws_call(w, req);
}

static void register_datacenters(ws *w1, ws *w2)
{
    uint8_t hash[32];
    json_t *ev;

    for (int i = 0; i < 2; i++) {
        const char *id = i ? "reg-dc2" : "reg-dc1";
        expect_hash(call_with(i ? w2 : w1, request("register_datacenter", id, i),
                              json_pack("{s:s}", "name", dcs[i].name)),
                    id, hash);
        ev = one_event(hash, "DatacenterRegistered");
        expect_field(ev, "name", dcs[i].name);
        expect_field(ev, "wallet", dcs[i].wallet_text);
        json_decref(ev);
    }
}

/* Listing 5's VM with vram 1024, then its availability change. */
static void register_vm(ws *w1)
{
    uint8_t hash[32], tag[32];
    json_t *ev;

    expect_hash(
        call_with(w1, request("register_container", "vm-1", 0),
                  json_pack("{s:s, s:b, s:i, s:i, s:i, s:s, s:s, s:s, s:s}", "vc_type",
                            "openstack:vm", "available", 1, "vcpu", 1, "vram", 1024, "vdisk", 10,
                            "id", VM_ID, "ip_address", "http://10.0.9.39", "controller",
                            "http://10.0.9.2", "created", "2018-09-11T14:46:23.470Z")),
        "vm-1", hash);
    ev = one_event(hash, "ContainerRegistered");
    ct_ledger_vc_tag(tag, "openstack:vm", VM_ID, &dcs[0].wallet, VM_CREATED);
    ct_hex_encode(vc_tag, sizeof(vc_tag), tag, 32, true);
    expect_field(ev, "vcTag", vc_tag);
    expect_field(ev, "vram", "1024");
    expect_field(ev, "owner", dcs[0].wallet_text);
    expect_field(ev, "timestamp", "1536677183");
    json_decref(ev);

    expect_hash(call_with(w1, request("change_availability", "avail-1", 0),
                          json_pack("{s:s, s:b, s:s}", "vc_tag", vc_tag, "status", 0, "timestamp",
                                    "2018-09-13T09:08:10Z")),
                "avail-1", hash);
    ev = one_event(hash, "ContainerAvailabilityChanged");
    assert_true(json_is_false(json_object_get(ev, "available")));
    expect_field(ev, "host", dcs[0].wallet_text);
    json_decref(ev);
}

/* DC1 records the intent, DC2 confirms with the new id. */
static void migrate_vm(ws *w1, ws *w2)
{
    uint8_t hash[32];
    json_t *ev;

    expect_hash(
        call_with(w1, request("pending_migrate", "mig-1", 0),
                  json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "vc_tag", vc_tag, "from_address",
                            dcs[0].wallet_text, "to_address", dcs[1].wallet_text, "price", 5,
                            "invoice", 13, "timestamp", "2018-09-13T09:28:48Z")),
        "mig-1", hash);
    ev = one_event(hash, "ContainerMigrationPending");
    expect_field(ev, "from", dcs[0].wallet_text);
    expect_field(ev, "to", dcs[1].wallet_text);
    expect_field(ev, "price", "5");
    expect_field(ev, "invoice", "13");
    expect_field(ev, "timestamp", "1536830928");
    json_decref(ev);

    expect_hash(call_with(w2, request("migrate_container", "mig-2", 1),
                          json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s}", "vc_tag", vc_tag, "id",
                                    "c55f090c-67f0-4784-a736-215ebeb2c2e9", "ip_address",
                                    "http://10.9.0.12", "controller", "http://10.9.0.1", "price", 5,
                                    "invoice", 13, "timestamp", "2018-09-13T09:48:48Z")),
                "mig-2", hash);
    ev = one_event(hash, "ContainerMigrated");
    expect_field(ev, "from", dcs[0].wallet_text);
    expect_field(ev, "to", dcs[1].wallet_text);
    expect_field(ev, "id", "c55f090c-67f0-4784-a736-215ebeb2c2e9");
    json_decref(ev);
}

/* DC2 hosts the VM now: DC1's change is refused by the contract (Hardhat
 * mines on arrival, so the agent sends it on its remembered estimate
 * and the node mines it as failed: the nonce moves on; elsewhere the
 * estimate refuses it and the nonce stays), DC2's goes through. */
static void host_changed(ws *w1, ws *w2)
{
    uint64_t before = nonce_of(&dcs[0]);
    uint8_t hash[32];

    expect_error(call_with(w1, request("change_availability", "avail-2", 0),
                           json_pack("{s:s, s:b, s:s}", "vc_tag", vc_tag, "status", 1, "timestamp",
                                     "2018-09-13T10:00:00Z")),
                 "avail-2", "reverted", "not the host");
    assert_int_equal(nonce_of(&dcs[0]), before + ctt_chain_mines_reverts());
    expect_hash(call_with(w2, request("change_availability", "avail-3", 1),
                          json_pack("{s:s, s:b, s:s}", "vc_tag", vc_tag, "status", 1, "timestamp",
                                    "2018-09-13T10:00:00Z")),
                "avail-3", hash);
    json_decref(one_event(hash, "ContainerAvailabilityChanged"));
}

/* Batch registration (one transaction, one event per VC), retirement. */
static void batch_and_retire(ws *w2)
{
    json_t *list = json_array(), *ev;
    uint8_t hash[32];

    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof(id), "ctr-%d", i);
        json_array_append_new(list,
                              json_pack("{s:s, s:b, s:i, s:i, s:i, s:s, s:s, s:s, s:s}", "vc_type",
                                        "docker:container", "available", 1, "vcpu", 2, "vram", 2048,
                                        "vdisk", 20, "id", id, "ip_address", "", "controller", "",
                                        "created", "2023-11-14T22:13:20Z"));
    }
    expect_hash(call_with(w2, request("register_containers", "batch-1", 1),
                          json_pack("{s:o}", "containers", list)),
                "batch-1", hash);
    ev = events_of(hash);
    assert_int_equal(json_array_size(ev), 3);
    expect_field(json_array_get(json_array_get(ev, 2), 1), "id", "ctr-2");
    json_decref(ev);

    expect_hash(
        call_with(w2, request("retire", "retire-1", 1),
                  json_pack("{s:s, s:s}", "vc_tag", vc_tag, "timestamp", "2018-09-14T00:00:00Z")),
        "retire-1", hash);
    json_decref(one_event(hash, "ContainerRetired"));
}

/* Listings 3-13 through the agents, each step checked on the chain. */
static void seed_flow(void **state)
{
    ws w1, w2;
    (void)state;

    gw_open(&w1, 0);
    gw_open(&w2, 1);
    register_datacenters(&w1, &w2);
    register_vm(&w1);
    migrate_vm(&w1, &w2);
    host_changed(&w1, &w2);
    batch_and_retire(&w2);
    ws_close(&w1);
    ws_close(&w2);
}

/* Requests sent back to back on one connection are handled concurrently:
 * each gets exactly one reply with its own _request_id (in any order), the
 * good ones a distinct transaction hash with consecutive nonces, the bad
 * ones their error, and the connection keeps serving. */
static void pipelined_requests(void **state)
{
    enum { N = 12 };
    uint64_t before = nonce_of(&dcs[0]);
    bool seen[N] = {false};
    uint8_t hashes[N][32];
    int good = 0;
    ws w;
    (void)state;

    gw_open(&w, 0);
    for (int i = 0; i < N; i++) {
        char id[16], vm[32], *text;
        json_t *req;
        snprintf(id, sizeof(id), "p-%d", i);
        snprintf(vm, sizeof(vm), "pipelined-%d", i);
        req = request("register_container", id, 0);
        /* Every fourth one has a bad field: refused before any signing. */
        json_object_update_new(
            req, json_pack("{s:s, s:b, s:i, s:i, s:i, s:s, s:s, s:s, s:s}", "vc_type",
                           "docker:container", "available", 1, "vcpu", i % 4 == 3 ? -1 : 1, "vram",
                           512, "vdisk", 5, "id", vm, "ip_address", "http://10.2.0.1", "controller",
                           "http://10.2.0.2", "created", "2024-01-01T00:00:00Z"));
        ctt_ok(ct_json_dump(&text, req));
        json_decref(req);
        ws_send(&w, U_WEBSOCKET_OPCODE_TEXT, text, strlen(text));
        free(text);
    }
    for (int k = 0; k < N; k++) {
        char *r = ws_next(&w, REPLY_TIMEOUT_MS);
        json_t *reply;
        int i;
        if (r == NULL)
            fail_msg("only %d of %d replies", k, N);
        ctt_ok(ct_json_parse(&reply, r, strlen(r), 8));
        free(r);
        const char *id = json_string_value(json_object_get(reply, "_request_id"));
        assert_non_null(id);
        assert_int_equal(sscanf(id, "p-%d", &i), 1);
        assert_true(i >= 0 && i < N && !seen[i]);
        seen[i] = true;
        if (i % 4 == 3) {
            expect_error(reply, id, "bad_request", "vcpu");
        } else {
            expect_hash(reply, id, hashes[good]);
            for (int j = 0; j < good; j++)
                assert_memory_not_equal(hashes[j], hashes[good], 32);
            good++;
        }
    }
    assert_int_equal(good, N - N / 4);
    assert_int_equal(nonce_of(&dcs[0]), before + (uint64_t)good);
    for (int j = 0; j < good; j++)
        json_decref(one_event(hashes[j], "ContainerRegistered"));
    ws_close(&w);
}

/* Tokens are checked before anything else in the request. */
static void bad_tokens(ws *w)
{
    json_t *req = request("register_datacenter", "t1", 0);

    json_object_set_new(req, "token", json_string("not-a-valid-token-of-dc1"));
    expect_error(ws_call(w, req), "t1", "unauthorized", "may not act for DC1");
    expect_error(ws_call(w, request("register_datacenter", "t2", 1)), "t2", "unauthorized",
                 "may not act for DC1"); /* DC2's token at DC1 */
    req = request("register_datacenter", "t3", 0);
    json_object_del(req, "token");
    expect_error(ws_call(w, req), "t3", "unauthorized", "'token'");
    expect_error(ws_call(w, request("drop_everything", "t4", 1)), "t4", "unauthorized",
                 "may not act");
}

static void bad_fields(ws *w)
{
    expect_error(ws_call_text(w, "{\"method\": "), NULL, "bad_request", "malformed JSON");
    expect_error(ws_call_text(w, "[1, 2]"), NULL, "bad_request", "JSON object");
    expect_error(ws_call_text(w, "{\"method\":\"retire\"}"), NULL, "bad_request", "_request_id");
    expect_error(ws_call(w, request("drop_everything", "b1", 0)), "b1", "bad_request",
                 "unknown method");
    expect_error(call_with(w, request("register_datacenter", "b2", 0),
                           json_pack("{s:s}", "wallet", dcs[0].wallet_text)),
                 "b2", "bad_request", "unknown field 'wallet'");
    expect_error(call_with(w, request("change_availability", "b3", 0),
                           json_pack("{s:s, s:b, s:s}", "vc_tag", "0xnothex", "status", 1,
                                     "timestamp", "2018-09-13T10:00:00Z")),
                 "b3", "bad_request", "'vc_tag'");
    expect_error(
        call_with(w, request("register_container", "b4", 0), json_pack("{s:s}", "vram", "1024")),
        "b4", "bad_request", "field");
    expect_error(call_with(w, request("pending_migrate", "b5", 0),
                           json_pack("{s:s, s:s, s:s, s:i, s:i}", "vc_tag", vc_tag, "from_address",
                                     dcs[1].wallet_text, "to_address", dcs[1].wallet_text, "price",
                                     1, "invoice", 1)),
                 "b5", "unauthorized", "from_address");
}

/* Deep JSON, a binary frame, an oversized message the agent can read. */
static void bad_frames(ws *w)
{
    char deep[256], *r, *big = malloc(600 * 1024 + 1);
    json_t *reply;

    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    expect_error(ws_call_text(w, deep), NULL, "bad_request", "deeper");
    ws_send(w, U_WEBSOCKET_OPCODE_BINARY, "{}", 2);
    assert_non_null(r = ws_next(w, REPLY_TIMEOUT_MS));
    ctt_ok(ct_json_parse(&reply, r, strlen(r), 8));
    free(r);
    expect_error(reply, NULL, "bad_request", "only text");
    assert_non_null(big);
    memset(big, ' ', 600 * 1024);
    big[0] = '{';
    big[600 * 1024 - 1] = '}';
    big[600 * 1024] = '\0';
    expect_error(ws_call_text(w, big), NULL, "bad_request", "over the limit of 524288");
    free(big);
}

/* Every kind of bad request gets its error and sends nothing; the
 * connection keeps serving. A call the contract refuses is mined as failed
 * on Hardhat (see host_changed). */
static void bad_requests(void **state)
{
    uint64_t before = nonce_of(&dcs[0]);
    ws w;
    (void)state;

    gw_open(&w, 0);
    bad_tokens(&w);
    bad_fields(&w);
    bad_frames(&w);
    assert_int_equal(nonce_of(&dcs[0]), before);
    expect_error(ws_call(&w, request("register_datacenter", "b6", 0)), "b6", "reverted",
                 "already registered");
    assert_int_equal(nonce_of(&dcs[0]), before + ctt_chain_mines_reverts());
    ws_close(&w);
}

/* A contract address without code is found at start-up. */
static void no_contract(void **state)
{
    char listen[32];
    uint16_t port;
    ctt_run r;
    (void)state;

    ctt_ok(ct_net_free_port(&port));
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)port);
    ctt_catena_env(&r,
                   (const char *[]){"agent", "--name", "DC1", "--key-env", "K", "--rpc", node.url,
                                    "--contract", dcs[1].wallet_text, "--listen", listen,
                                    "--tokens", ctt_path("%s/tokens.json", ctt_tmpdir()), NULL},
                   (const char *[]){"K=" CTT_DEV_KEY2, NULL});
    assert_int_equal(ctt_exit_code(&r), 1);
    assert_non_null(strstr(r.err, "no contract at"));
    ctt_run_free(&r);
}

/* Messages too large to read close the connection; the agent lives on. */
static void oversized_messages(void **state)
{
    size_t len = 4 << 20;
    char *big = malloc(len);
    ws w;
    (void)state;

    memset(big, 'x', len);
    gw_open(&w, 0);
    ws_send(&w, U_WEBSOCKET_OPCODE_TEXT, big, len);
    assert_true(ws_closed(&w, REPLY_TIMEOUT_MS));
    ws_close(&w);

    /* Fragments each below the cap that add up past it. */
    gw_open(&w, 0);
    assert_int_equal(ulfius_websocket_send_fragmented_message(w.h.websocket->websocket_manager,
                                                              U_WEBSOCKET_OPCODE_TEXT, 2 << 20, big,
                                                              8 * 1024),
                     U_OK);
    assert_true(ws_closed(&w, REPLY_TIMEOUT_MS));
    ws_close(&w);
    free(big);

    gw_open(&w, 0);
    expect_error(ws_call(&w, request("nothing", "after", 0)), "after", "bad_request", "unknown");
    ws_close(&w);
    assert_true(ct_proc_alive(&dcs[0].proc));
}

/* ---------------------------------------------------------------- raw sockets */

static int raw_connect(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void raw_send(int fd, const void *data, size_t len)
{
    assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads until the peer closes or timeout_ms pass. Returns: bytes read
 * into buf (NUL terminated), and whether the peer closed in *closed. */
static size_t raw_read(int fd, char *buf, size_t size, int timeout_ms, bool *closed)
{
    int64_t deadline = ct_time_mono_ms() + timeout_ms;
    size_t n = 0;

    *closed = false;
    while (n + 1 < size && ct_time_mono_ms() < deadline) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t r = recv(fd, buf + n, size - 1 - n, 0);
        if (r <= 0) {
            *closed = true;
            break;
        }
        n += (size_t)r;
        if (strstr(buf, "\r\n\r\n") != NULL && strncmp(buf, "HTTP/1.1 101", 12) == 0)
            break;
    }
    buf[n] = '\0';
    return n;
}

/* Returns: a socket upgraded to a WebSocket on DC1. */
static int raw_upgrade(void)
{
    char buf[2048];
    bool closed;
    int fd = raw_connect(dcs[0].port);

    snprintf(buf, sizeof(buf),
             "GET /ws/DC1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\nwallet: %s\r\n\r\n",
             dcs[0].wallet_text);
    raw_send(fd, buf, strlen(buf));
    raw_read(fd, buf, sizeof(buf), 10000, &closed);
    if (strncmp(buf, "HTTP/1.1 101", 12) != 0)
        fail_msg("upgrade refused: %.200s", buf);
    return fd;
}

static void raw_http(void **state)
{
    char buf[2048];
    bool closed;
    int fd;
    (void)state;

    /* A GET without the upgrade is not a WebSocket. */
    fd = raw_connect(dcs[0].port);
    snprintf(buf, sizeof(buf), "GET /ws/DC1 HTTP/1.1\r\nHost: x\r\nwallet: %s\r\n\r\n",
             dcs[0].wallet_text);
    raw_send(fd, buf, strlen(buf));
    raw_read(fd, buf, sizeof(buf), 3000, &closed);
    assert_true(strncmp(buf, "HTTP/1.1 4", 10) == 0);
    close(fd);
    fd = raw_connect(dcs[0].port);
    raw_send(fd, "GET /api/ HTTP/1.1\r\nHost: x\r\n\r\n", 31);
    raw_read(fd, buf, sizeof(buf), 3000, &closed);
    assert_true(strncmp(buf, "HTTP/1.1 404", 12) == 0);
    close(fd);
}

/* A frame declaring 2^62 bytes is dropped at once, without allocating. */
static void raw_huge_frame(void **state)
{
    static const uint8_t frame[] = {0x81, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    char buf[256];
    bool closed;
    int fd = raw_upgrade();
    (void)state;

    raw_send(fd, frame, sizeof(frame));
    raw_read(fd, buf, sizeof(buf), 10000, &closed);
    assert_true(closed);
    close(fd);
    assert_true(ct_proc_alive(&dcs[0].proc));
}

/* A peer that stops in the middle of a frame does not hold up other
 * connections, nor (last test) the agent's stop. */
static int stalled_fd = -1;

static void raw_stalled_frame(void **state)
{
    static const uint8_t partial[] = {0x81, 0xfe, 0x01};
    ws w;
    (void)state;

    stalled_fd = raw_upgrade();
    raw_send(stalled_fd, partial, sizeof(partial));
    gw_open(&w, 0);
    expect_error(ws_call(&w, request("nothing", "s1", 0)), "s1", "bad_request", "unknown");
    ws_close(&w);
}

/* The library API in this process: port 0, direct handling, a second
 * start, and freeing the agent while a connection is open. Runs after the
 * tests that send large messages: ct_agent_start caps Ulfius allocations
 * for the whole process, this test's client included. */
static void in_process_agent(void **state)
{
    ct_agent_config cfg = {.dc_name = "DC1", .listen_host = "127.0.0.1"};
    char doc[128], hash[65], *reply;
    ct_agent_tokens *tokens;
    uint8_t key[32];
    ct_agent *a;
    size_t n;
    ws w;
    (void)state;

    ct_token_hash(hash, dcs[0].token);
    snprintf(doc, sizeof(doc), "{\"DC1\": [\"%s\"]}", hash);
    ctt_ok(ct_agent_tokens_parse(&tokens, doc, strlen(doc), "DC1"));
    ctt_ok(ct_hex_decode(key, 32, &n, dcs[0].key, strlen(dcs[0].key)));
    cfg.rpc_url = node.url;
    cfg.contract = fed;
    cfg.seckey = key;
    cfg.tokens = tokens;
    cfg.listen_host = "::1";
    assert_int_equal(ct_agent_new(&a, &cfg), CT_EINVAL);
    cfg.listen_host = "127.0.0.1";
    ctt_ok(ct_agent_new(&a, &cfg));
    assert_true(ct_address_equal(ct_agent_wallet(a), &dcs[0].wallet));
    ctt_ok(ct_agent_start(a));
    assert_int_equal(ct_agent_start(a), CT_ESTATE);
    assert_true(ct_agent_port(a) != 0);
    ctt_ok(ct_agent_handle(a, &reply, "{}", 2));
    assert_non_null(strstr(reply, "\"code\":\"bad_request\""));
    free(reply);

    assert_int_equal(ws_open(&w, ct_agent_port(a), "DC1", dcs[0].wallet_text), 101);
    expect_error(ws_call(&w, request("nothing", "ip1", 0)), "ip1", "bad_request", "unknown");
    ct_agent_free(a);
    assert_true(ws_closed(&w, 5000));
    ws_close(&w);
    ct_agent_tokens_free(tokens);
    ct_wipe(key, sizeof(key));
}

static void clean_stop(void **state)
{
    ws idle;
    (void)state;

    gw_open(&idle, 1);
    for (int i = 0; i < 2; i++) {
        int64_t t0 = ct_time_mono_ms();
        ct_proc_signal(&dcs[i].proc, SIGTERM);
        while (ct_proc_alive(&dcs[i].proc) && ct_time_mono_ms() - t0 < 20000)
            ct_sleep_ms(20);
        if (ct_proc_alive(&dcs[i].proc))
            fail_msg("%s did not stop on SIGTERM within 20 s", dcs[i].name);
        ctt_stop(&dcs[i].proc); /* reaps it */
        if (!WIFEXITED(dcs[i].proc.status) || WEXITSTATUS(dcs[i].proc.status) != 0)
            fail_msg("%s exited with status %#x, see %s", dcs[i].name, dcs[i].proc.status,
                     dcs[i].log);
    }
    assert_true(ws_closed(&idle, 5000));
    ws_close(&idle);
    if (stalled_fd >= 0)
        close(stalled_fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refused_upgrades),   cmocka_unit_test(seed_flow),
        cmocka_unit_test(pipelined_requests), cmocka_unit_test(no_contract),
        cmocka_unit_test(bad_requests),       cmocka_unit_test(oversized_messages),
        cmocka_unit_test(raw_http),           cmocka_unit_test(raw_huge_frame),
        cmocka_unit_test(raw_stalled_frame),  cmocka_unit_test(in_process_agent),
        cmocka_unit_test(clean_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
