/* Authentication between the gateway and an agent (issue 11 items 6 and
 * 9, docs/AGENT_PROTOCOL.md section 1): a fake agent on the DC's port
 * gets no request and no token; upgrades without the gateway's proof are
 * refused and hold no slot; wss:// with a configured CA; and the gateway
 * stops promptly while its agent is SIGSTOPped. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ulfius.h>

#include "catena/agent.h"
#include "catena/crypto.h"

#define AGENT_TIMEOUT_MS 3000

/* `catena up` provides the chain, the contract, DC1's funded key (kept
 * here as raw hex) and its token; the test runs its own DC1 agent and
 * gateway on them. */
static ct_proc up;
static json_t *fed, *up_api;
static const char *rpc_url, *contract, *dc_name, *dc_token, *dc_key_file;
static char gw_key_file[512], gw_address[CT_ADDRESS_TEXT_SIZE];
static uint16_t agent_port;
static ct_proc agent, gw;
static char gw_url[64];
static int runs;
static const char *agent_log; /* the last agent's */

/* ---------------------------------------------------------------- services */

/* Starts DC1's agent on agent_port with key_file, accepting our gateway;
 * with tls, serving wss:// with the test certificate. */
static void start_agent(const char *key_file, bool tls)
{
    char listen[32];
    const char *log = agent_log = ctt_path("%s/agent-%d.log", ctt_tmpdir(), ++runs);
    char *argv[24] = {(char *)ctt_catena_bin(),
                      "agent",
                      "--name",
                      (char *)dc_name,
                      "--key-file",
                      (char *)key_file,
                      "--rpc",
                      (char *)rpc_url,
                      "--contract",
                      (char *)contract,
                      "--listen",
                      listen,
                      "--tokens",
                      (char *)ctt_path("%s/up/tokens.json", ctt_tmpdir()),
                      "--gateway",
                      gw_address,
                      "--ping-interval", /* so quiet_gateway sees pings in seconds */
                      "1",
                      NULL};

    if (tls) {
        argv[18] = "--tls-cert";
        argv[19] = (char *)ctt_path("%s/agent.pem", ctt_tmpdir());
        argv[20] = "--tls-key";
        argv[21] = (char *)ctt_path("%s/agent.key", ctt_tmpdir());
    }
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)agent_port);
    ctt_spawn(&agent, argv, log);
    for (int i = 0; !ct_net_can_connect(agent_port); i++) {
        if (!ct_proc_alive(&agent) || i == 1000)
            fail_msg("the agent did not start; see %s", log);
        ct_sleep_ms(10);
    }
}

/* Starts a gateway for DC1's agent only (scheme ws or wss), with our
 * gateway key and, if given, a CA file. */
static void start_gateway(const char *scheme, const char *ca_file)
{
    json_t *cfg = json_deep_copy(up_api);
    const char *path = ctt_path("%s/gw-%d.json", ctt_tmpdir(), ++runs);
    uint16_t port;
    char *text;

    ctt_ok(ct_net_free_port(&port));
    json_object_set_new(cfg, "listen", json_string(ctt_path("127.0.0.1:%u", (unsigned)port)));
    json_object_set_new(cfg, "cache", json_string(ctt_path("%s/gw-%d.sqlite", ctt_tmpdir(), runs)));
    json_object_set_new(cfg, "agent_timeout_ms", json_integer(AGENT_TIMEOUT_MS));
    json_object_set_new(cfg, "gateway_key_file", json_string(gw_key_file));
    if (ca_file != NULL)
        json_object_set_new(cfg, "agent_ca_file", json_string(ca_file));
    json_object_set_new(
        cfg, "agents",
        json_pack("[{s:s, s:s, s:s}]", "name", dc_name, "wallet",
                  json_string_value(json_object_get(
                      json_array_get(json_object_get(fed, "datacenters"), 0), "wallet")),
                  "url",
                  ctt_path("%s://127.0.0.1:%u/ws/%s", scheme, (unsigned)agent_port, dc_name)));
    ctt_ok(ct_json_dump(&text, cfg));
    ctt_ok(ct_file_write_atomic(path, text, strlen(text), 0600));
    free(text);
    json_decref(cfg);
    char *argv[] = {(char *)ctt_catena_bin(), "api", "--config", (char *)path, NULL};
    ctt_spawn(&gw, argv, ctt_path("%s/gw-%d.log", ctt_tmpdir(), runs));
    snprintf(gw_url, sizeof(gw_url), "http://127.0.0.1:%u/api", (unsigned)port);
    for (int i = 0; !ct_net_can_connect(port); i++) {
        if (!ct_proc_alive(&gw) || i == 1000)
            fail_msg("the gateway did not start; see %s/gw-%d.log", ctt_tmpdir(), runs);
        ct_sleep_ms(10);
    }
}

/* /api/health. Out: *dc DC1's entry in "agents" (borrowed from *h). */
static long health(json_t **h, json_t **dc)
{
    long st = 0;

    *h = NULL;
    if (ct_http_request(&st, h, "GET", ctt_path("%s/health", gw_url), NULL, NULL, 2000) < 0)
        return 0;
    *dc = json_array_get(json_object_get(*h, "agents"), 0);
    return st;
}

/* Waits until DC1's agent is (or is not) authenticated, and when not,
 * until its health "error" holds why, failing after timeout_ms.
 * Returns: that error (static copy). */
static const char *wait_auth_why(bool want, const char *why, int timeout_ms, const char *when)
{
    static char error[256];
    int64_t until = ct_time_mono_ms() + timeout_ms;

    for (;;) {
        json_t *h, *dc = NULL;
        health(&h, &dc);
        bool got = json_is_true(json_object_get(dc, "authenticated"));
        snprintf(error, sizeof(error), "%s",
                 json_string_value(json_object_get(dc, "error")) != NULL
                     ? json_string_value(json_object_get(dc, "error"))
                     : "");
        json_decref(h);
        if (got == want && (want || strstr(error, why) != NULL))
            return error;
        if (ct_time_mono_ms() > until)
            fail_msg("%s: DC1 authenticated %d (%s) after %d ms, wanted %d", when, got, error,
                     timeout_ms, want);
        ct_sleep_ms(50);
    }
}

static long write_vc(json_t **out, const char *id)
{
    long st = 0;
    const char *body =
        ctt_path("{\"vc_type\":\"docker:container\",\"available\":true,\"vcpu\":1,\"vram\":64,"
                 "\"vdisk\":1,\"id\":\"%s\",\"ip_address\":\"\",\"controller\":\"\","
                 "\"created\":\"2021-01-01T00:00:00Z\"}",
                 id);

    *out = NULL;
    if (ct_http_request(&st, out, "POST",
                        ctt_path("%s/datacenter/%s/container/register/", gw_url, dc_name), dc_token,
                        body, 3 * AGENT_TIMEOUT_MS) < 0)
        return 0;
    return st;
}

static void expect_write_ok(const char *id)
{
    json_t *j;
    long st = write_vc(&j, id);

    if (st != 200)
        fail_msg("write %s: HTTP %ld: %s", id, st,
                 json_string_value(json_object_get(j, "error")) ?: "?");
    json_decref(j);
}

static const char *wait_auth(bool want, int timeout_ms, const char *when)
{
    return wait_auth_why(want, "", timeout_ms, when);
}

/* ---------------------------------------------------------------- setup */

static int write_hex_key(const char *path, const uint8_t key[CT_SECKEY_SIZE])
{
    char hex[2 * CT_SECKEY_SIZE + 3];

    ct_hex_encode(hex, sizeof(hex), key, CT_SECKEY_SIZE, true);
    return ct_file_write_atomic(path, hex, strlen(hex), 0600);
}

/* A CA (ca.pem) and the agent's certificate for 127.0.0.1 signed by it,
 * and another CA (other-ca.pem) that did not sign it. */
static int make_certificates(void)
{
    const char *d = ctt_tmpdir();
    const char *cmd =
        ctt_path("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                 "-keyout ca.key -out ca.pem -days 2 -subj /CN=catena-test-ca 2>/dev/null && "
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                 "-keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=other-ca 2>/dev/null && "
                 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout agent.key "
                 "-out agent.csr -subj /CN=127.0.0.1 2>/dev/null && "
                 "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
                 "openssl x509 -req -in agent.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                 "-out agent.pem -days 2 -extfile san.ext 2>/dev/null",
                 d);

    return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    const char *dir = ctt_path("%s/up", ctt_tmpdir());
    char *text = NULL, *pw = NULL;
    uint8_t key[CT_SECKEY_SIZE];
    ct_address addr;
    (void)state;

    if (make_certificates() < 0)
        return -1;
    if (ctt_up_start(&up, &fed, dir) < 0)
        return -1;
    if (ct_file_read(&text, NULL, ctt_path("%s/api.json", dir), 1 << 20) < 0 ||
        ct_json_parse(&up_api, text, strlen(text), 16) < 0 ||
        ct_file_read(&pw, NULL, ctt_path("%s/keys/password", dir), 1024) < 0)
        return -1;
    free(text);
    rpc_url = json_string_value(json_object_get(fed, "rpc_url"));
    contract = json_string_value(json_object_get(fed, "contract"));
    json_t *d = json_array_get(json_object_get(fed, "datacenters"), 0);
    dc_name = json_string_value(json_object_get(d, "name"));
    dc_token = json_string_value(json_object_get(d, "token"));
    dc_key_file = ctt_path("%s/%s.key", ctt_tmpdir(), dc_name);
    if (ct_file_read(&text, NULL, json_string_value(json_object_get(d, "key_file")), 1 << 16) < 0 ||
        ct_keystore_decrypt(key, &addr, text, strlen(text), pw, strlen(pw)) < 0 ||
        write_hex_key(dc_key_file, key) < 0)
        return -1;
    free(text);
    free(pw);
    /* The gateway's own key. */
    if (ct_seckey_generate(key) < 0 || ct_address_from_seckey(&addr, key) < 0)
        return -1;
    snprintf(gw_key_file, sizeof(gw_key_file), "%s/gateway.key", ctt_tmpdir());
    ct_address_format(gw_address, &addr);
    if (write_hex_key(gw_key_file, key) < 0)
        return -1;
    ct_wipe(key, sizeof(key));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ctt_stop(&up);
    json_decref(fed);
    json_decref(up_api);
    return 0;
}

static int fresh_port(void **state)
{
    (void)state;
    ctt_ok(ct_net_free_port(&agent_port));
    return 0;
}

static void fake_stop(void);

static int stop_services(void **state)
{
    (void)state;
    fake_stop();
    ct_proc_signal(&agent, SIGCONT);
    ctt_stop(&gw);
    ctt_stop(&agent);
    return 0;
}

/* ---------------------------------------------------------------- a fake agent */

/* An impostor on the DC's port: accepts any upgrade, answers the
 * challenge with a signature by another key, and counts the tokens it is
 * sent. */
static struct fake {
    struct _u_instance inst;
    bool running;          /* stopped by stop_services too, when a test fails midway */
    atomic_bool accepting; /* upgrades are answered (fake_stop clears it) */
    atomic_int upgrading;  /* upgrades answered whose websocket has not started */
    atomic_int messages, tokens, challenges;
} fake;

static void fake_message(const struct _u_request *req, struct _websocket_manager *m,
                         const struct _websocket_message *msg, void *user)
{
    json_t *j = NULL, *reply;
    const char *url, *hex, *id;
    uint8_t c[CT_AGENT_CHALLENGE_SIZE], digest[32], key[CT_SECKEY_SIZE];
    char sig[CT_AGENT_SIG_TEXT_SIZE], *text = NULL;
    size_t n;
    (void)req;
    (void)user;

    atomic_fetch_add(&fake.messages, 1);
    if (ct_json_parse(&j, msg->data, msg->data_len, 16) < 0)
        return;
    if (json_object_get(j, "token") != NULL)
        atomic_fetch_add(&fake.tokens, 1);
    url = json_string_value(json_object_get(j, "url"));
    hex = json_string_value(json_object_get(j, "challenge"));
    id = json_string_value(json_object_get(j, "_request_id"));
    if (url != NULL && hex != NULL && id != NULL &&
        ct_hex_decode(c, sizeof(c), &n, hex, strlen(hex)) == 0) {
        atomic_fetch_add(&fake.challenges, 1);
        ctt_hex_fixed(key, sizeof(key), ctt_dev_keys[3]); /* not DC1's */
        ct_agent_auth_digest(digest, dc_name, url, c);
        ct_agent_auth_sign(sig, digest, key);
        reply = json_pack("{s:s, s:s}", "response", sig, "_request_id", id);
        ct_json_dump(&text, reply);
        ulfius_websocket_send_message(m, U_WEBSOCKET_OPCODE_TEXT, strlen(text), text);
        free(text);
        json_decref(reply);
    }
    json_decref(j);
}

static void fake_manager(const struct _u_request *req, struct _websocket_manager *m, void *user)
{
    (void)req;
    (void)user;
    /* Ulfius listed this websocket among its active ones before it
     * answered the upgrade: ulfius_stop_framework now closes it and waits
     * for it. */
    atomic_fetch_sub(&fake.upgrading, 1);
    m->keep_messages = U_WEBSOCKET_KEEP_NONE;
    while (ulfius_websocket_status(m) == U_WEBSOCKET_STATUS_OPEN)
        ct_sleep_ms(20);
}

static int fake_upgrade(const struct _u_request *req, struct _u_response *resp, void *user)
{
    (void)req;
    (void)user;
    /* Counted before the flag is read, and fake_stop clears the flag
     * before it reads the count: it sees every upgrade let through. */
    atomic_fetch_add(&fake.upgrading, 1);
    if (!atomic_load(&fake.accepting)) {
        atomic_fetch_sub(&fake.upgrading, 1);
        ulfius_set_string_body_response(resp, 503, "stopping");
        return U_CALLBACK_COMPLETE;
    }
    ulfius_set_websocket_response(resp, NULL, NULL, fake_manager, NULL, fake_message, NULL, NULL,
                                  NULL);
    return U_CALLBACK_COMPLETE;
}

static void fake_start(void)
{
    struct sockaddr_in bind = {.sin_family = AF_INET, .sin_port = htons(agent_port)};

    inet_pton(AF_INET, "127.0.0.1", &bind.sin_addr);
    assert_int_equal(ulfius_init_instance(&fake.inst, agent_port, &bind, NULL), U_OK);
    ulfius_add_endpoint_by_val(&fake.inst, "GET", "/ws", "/:name", 0, fake_upgrade, NULL);
    fake.running = true;
    atomic_store(&fake.upgrading, 0);
    atomic_store(&fake.accepting, true);
    assert_int_equal(ulfius_start_framework(&fake.inst), U_OK);
}

static void fake_stop(void)
{
    if (!fake.running)
        return;
    fake.running = false;
    /* ulfius_stop_framework closes the websockets open when it starts
     * and waits for them, then stops the daemon; one the gateway (which
     * keeps reconnecting) upgrades in between outlives the daemon, and its
     * thread then reads the freed MHD connection (valgrind:
     * MHD_upgrade_action in ulfius_clear_websocket). A crash in that
     * thread makes cmocka call exit() there, whose atexit cleanup stops
     * `catena up` and frees the paths and OpenSSL under the running
     * tests: a write then fails (HTTP 500), the next case segfaults and no
     * agent starts after it. So upgrades are refused from here on, and the
     * stop waits until each one answered has started its websocket, which
     * Ulfius then closes and waits for (bounded: an upgrade the client
     * dropped starts none). */
    atomic_store(&fake.accepting, false);
    for (int i = 0; atomic_load(&fake.upgrading) > 0 && i < 500; i++)
        ct_sleep_ms(10);
    ulfius_stop_framework(&fake.inst);
    ulfius_clean_instance(&fake.inst);
}

/* The real agent works; an impostor that takes its port after it stops
 * is never sent a request or a token: writes answer an error naming
 * authentication, health says why; the real agent back on the port is
 * accepted again. */
static void fake_agent(void **state)
{
    json_t *j;
    long st;
    (void)state;

    start_agent(dc_key_file, false);
    start_gateway("ws", NULL);
    wait_auth(true, 15000, "start");
    expect_write_ok("auth-before-fake");
    ctt_stop(&agent);
    fake_start();
    const char *why = wait_auth_why(false, "authentication failed", 15000, "fake agent");
    assert_true(atomic_load(&fake.challenges) > 0);
    printf("# health with the fake agent: %s\n", why);
    st = write_vc(&j, "to-the-fake");
    const char *msg = json_string_value(json_object_get(j, "error"));
    printf("# a write with the fake agent: HTTP %ld: %s\n", st, msg ?: "?");
    if ((st != 408 && st != 502 && st != 503) || msg == NULL || strstr(msg, "authenticat") == NULL)
        fail_msg("a write with the fake agent answered HTTP %ld: %s", st, msg ?: "?");
    json_decref(j);
    fake_stop();
    assert_int_equal(atomic_load(&fake.tokens), 0);
    assert_int_equal(atomic_load(&fake.messages), atomic_load(&fake.challenges));
    start_agent(dc_key_file, false);
    wait_auth(true, 15000, "the real agent back");
    expect_write_ok("auth-after-fake");
}

/* ---------------------------------------------------------------- upgrades without proof */

/* Opens a TCP connection to the agent and sends an upgrade request with
 * the DC's (public) wallet and the given proof header (NULL: none).
 * Returns: the socket. */
static int raw_upgrade(const char *proof)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(agent_port)};
    const char *wallet = json_string_value(
        json_object_get(json_array_get(json_object_get(fed, "datacenters"), 0), "wallet"));
    char req[1024];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    snprintf(req, sizeof(req),
             "GET /ws/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\nwallet: %s\r\n%s%s%s\r\n",
             dc_name, wallet, proof != NULL ? CT_AGENT_GATEWAY_HEADER ": " : "",
             proof != NULL ? proof : "", proof != NULL ? "\r\n" : "");
    (void)!send(fd, req, strlen(req), MSG_NOSIGNAL);
    return fd;
}

/* Returns: the HTTP status the socket answered (0: closed without one). */
static int raw_status(int fd)
{
    char buf[64] = "";
    struct timeval tv = {.tv_sec = 5};
    ssize_t n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    n = recv(fd, buf, sizeof(buf) - 1, 0);
    if (n < 12 || strncmp(buf, "HTTP/1.1 ", 9) != 0)
        return 0;
    return atoi(buf + 9);
}

/* 200 upgrade attempts with the public wallet header but no proof, a
 * proof by another key, or a replayed proof, all held open: every one is
 * refused (401) or dropped, none holds a slot, and the gateway then
 * connects. */
static void upgrades_without_proof(void **state)
{
    enum { N = 200 };
    static int fds[N];
    char proof[CT_AGENT_GATEWAY_PROOF_SIZE], replayed[CT_AGENT_GATEWAY_PROOF_SIZE];
    uint8_t other[CT_SECKEY_SIZE], gw_key[CT_SECKEY_SIZE];
    ct_address wallet;
    char *text = NULL;
    int refused = 0, upgraded = 0;
    (void)state;

    ctt_ok(ct_address_parse(
        &wallet, json_string_value(json_object_get(
                     json_array_get(json_object_get(fed, "datacenters"), 0), "wallet"))));
    ctt_ok(ct_seckey_generate(other));
    ctt_ok(ct_file_read(&text, NULL, gw_key_file, 4096));
    ctt_hex_fixed(gw_key, sizeof(gw_key), text);
    free(text);
    start_agent(dc_key_file, false);
    /* A valid proof, used once, then replayed. */
    ctt_ok(ct_agent_gateway_proof(replayed, dc_name, &wallet, ct_time_now_ms(), gw_key));
    int first = raw_upgrade(replayed);
    assert_int_equal(raw_status(first), 101);
    close(first);
    for (int i = 0; i < N; i++) {
        const char *p = NULL;
        if (i % 3 == 1) {
            ctt_ok(ct_agent_gateway_proof(proof, dc_name, &wallet, ct_time_now_ms(), other));
            p = proof;
        } else if (i % 3 == 2) {
            p = replayed;
        }
        fds[i] = raw_upgrade(p);
    }
    for (int i = 0; i < N; i++) {
        int st = raw_status(fds[i]);
        refused += st == 401 || st == 0;
        upgraded += st == 101;
    }
    printf("# %d of %d refused, %d upgraded\n", refused, N, upgraded);
    assert_int_equal(upgraded, 0);
    start_gateway("ws", NULL);
    wait_auth(true, 15000, "after the unauthenticated upgrades");
    expect_write_ok("after-flood");
    for (int i = 0; i < N; i++)
        close(fds[i]);
    ct_wipe(gw_key, sizeof(gw_key));
}

/* ---------------------------------------------------------------- wss */

/* An agent with a certificate of the test CA: a gateway given that CA
 * writes through it; one given another CA never connects. */
static void wss(void **state)
{
    json_t *j;
    (void)state;

    start_agent(dc_key_file, true);
    start_gateway("wss", ctt_path("%s/ca.pem", ctt_tmpdir()));
    wait_auth(true, 15000, "wss with the right CA");
    expect_write_ok("over-wss");
    ctt_stop(&gw);
    start_gateway("wss", ctt_path("%s/other-ca.pem", ctt_tmpdir()));
    printf("# health with another CA: %s\n",
           wait_auth_why(false, "TLS", 10000, "wss with another CA"));
    long st = write_vc(&j, "wss-wrong-ca");
    assert_int_not_equal(st, 200);
    json_decref(j);
}

/* A proven gateway's quiet connection is pinged (here every second) and
 * stays open while the gateway answers: no reconnection, writes go on.
 * (Ulfius drops a ping sent while its ping_sent flag is set: the agent
 * once set it first, sent nothing, and closed every quiet gateway
 * connection as dead after two intervals.) */
static void quiet_gateway(void **state)
{
    char *log = NULL;
    (void)state;

    start_agent(dc_key_file, false);
    start_gateway("ws", NULL);
    wait_auth(true, 15000, "ws");
    ct_sleep_ms(5000); /* five ping intervals without a request */
    expect_write_ok("after-quiet");
    ctt_ok(ct_file_read(&log, NULL, agent_log, 1 << 22));
    assert_null(strstr(log, "answers no ping"));
    const char *first = strstr(log, "gateway connected");
    assert_non_null(first);
    assert_null(strstr(first + 1, "gateway connected"));
    free(log);
}

/* ---------------------------------------------------------------- stopping */

/* Sends SIGTERM to the gateway and fails unless it exits within limit_ms. */
static void expect_prompt_exit(int limit_ms, const char *when)
{
    int64_t t0 = ct_time_mono_ms();

    ct_proc_signal(&gw, SIGTERM);
    while (ct_proc_alive(&gw)) {
        if (ct_time_mono_ms() - t0 > limit_ms)
            fail_msg("%s: the gateway still runs %d ms after SIGTERM", when, limit_ms);
        ct_sleep_ms(20);
    }
    printf("# %s: the gateway exited %lld ms after SIGTERM\n", when,
           (long long)(ct_time_mono_ms() - t0));
}

/* SIGTERM stops the gateway within a few seconds while its agent is
 * SIGSTOPped, whether it was connected before or is trying to connect. */
static void stop_while_agent_stopped(void **state)
{
    (void)state;

    start_agent(dc_key_file, false);
    start_gateway("ws", NULL);
    wait_auth(true, 15000, "start");
    ctt_freeze(agent.pid, true);
    expect_prompt_exit(5000, "connected");
    start_gateway("ws", NULL);
    ct_sleep_ms(1500); /* it is connecting to the stopped agent */
    expect_prompt_exit(5000, "connecting");
    ct_proc_signal(&agent, SIGCONT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fake_agent, fresh_port, stop_services),
        cmocka_unit_test_setup_teardown(upgrades_without_proof, fresh_port, stop_services),
        cmocka_unit_test_setup_teardown(wss, fresh_port, stop_services),
        cmocka_unit_test_setup_teardown(quiet_gateway, fresh_port, stop_services),
        cmocka_unit_test_setup_teardown(stop_while_agent_stopped, fresh_port, stop_services),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
