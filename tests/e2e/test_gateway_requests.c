/* The gateway's write requests and HTTP hardening (issue 11 items 5, 9
 * and 10): Idempotency-Key (one transaction, the same answer; another
 * request under a key refused), 202 with a request id while an agent is
 * stopped and its outcome afterwards, also across a kill -9 of the
 * gateway; a connection flood from one address and a slow sender; invalid
 * UTF-8, token before body, the Bearer scheme's case, 403s that name no
 * DC, and cross-site writes. Runs its own gateway on `catena up`'s chain
 * and agents. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <curl/curl.h>

#define ACCEPT_MS 1000
#define DEADLINE_MS 2000
#define PER_IP 16

static ct_proc up, gw;
static json_t *fed;
static char gw_base[64]; /* http://127.0.0.1:PORT */
static uint16_t gw_port;
static const char *t1, *t2; /* DC1's and DC2's tokens */
static pid_t agent1;        /* DC1's agent */
static int gw_runs;

/* ---------------------------------------------------------------- HTTP */

struct answer {
    long status;
    json_t *json; /* NULL when the body is not JSON */
    char location[128];
};

static size_t on_body(char *data, size_t size, size_t n, void *payload)
{
    return ct_buf_append(payload, data, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *payload)
{
    struct answer *a = payload;

    if (size * n > 10 && strncasecmp(data, "Location: ", 10) == 0)
        snprintf(a->location, sizeof(a->location), "%.*s", (int)strcspn(data + 10, "\r\n"),
                 data + 10);
    return size * n;
}

/* One request with raw header lines (NULL-terminated; may be NULL).
 * Thread safe. Fails the test when nothing answers in 10 s. */
static struct answer req(const char *method, const char *path, const char *body,
                         const char *const *headers)
{
    struct answer a = {0};
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    char url[512];
    ct_buf b;

    ct_buf_init(&b, 1 << 20);
    snprintf(url, sizeof(url), "%s%s", gw_base, path);
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        h = curl_slist_append(h, headers[i]);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
    if (body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
        if (b.len > 0 && ct_json_parse(&a.json, b.data, b.len, 64) < 0)
            a.json = NULL;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    ct_buf_free(&b);
    return a;
}

static const char *auth(const char *token)
{
    return ctt_path("Authorization: Bearer %s", token);
}

static const char *str(const struct answer *a, const char *key)
{
    const char *s = json_string_value(json_object_get(a->json, key));
    return s != NULL ? s : "";
}

static void expect_status(const struct answer *a, long want, const char *what)
{
    if (a->status != want)
        fail_msg("%s: HTTP %ld (%s), wanted %ld", what, a->status, str(a, "error"), want);
}

/* A fresh container registration body (a new VC each n). */
static const char *vc_body(const char *id)
{
    return ctt_path("{\"vc_type\":\"docker:container\",\"available\":true,\"vcpu\":1,\"vram\":64,"
                    "\"vdisk\":1,\"id\":\"%s\",\"ip_address\":\"\",\"controller\":\"\","
                    "\"created\":\"2021-01-01T00:00:00Z\"}",
                    id);
}

#define REGISTER "/api/datacenter/DC1/container/register"

/* ---------------------------------------------------------------- services */

static void start_gateway(void)
{
    char *text = NULL;
    json_t *cfg;
    const char *path = ctt_path("%s/gw.json", ctt_tmpdir());

    ctt_ok(ct_file_read(&text, NULL, ctt_path("%s/up/api.json", ctt_tmpdir()), 1 << 20));
    ctt_ok(ct_json_parse(&cfg, text, strlen(text), 16));
    free(text);
    if (gw_port == 0)
        ctt_ok(ct_net_free_port(&gw_port));
    json_object_set_new(cfg, "listen", json_string(ctt_path("127.0.0.1:%u", gw_port)));
    json_object_set_new(cfg, "cache", json_string(ctt_path("%s/gw.sqlite", ctt_tmpdir())));
    json_object_set_new(cfg, "accept_after_ms", json_integer(ACCEPT_MS));
    json_object_set_new(cfg, "agent_timeout_ms", json_integer(60000));
    json_object_set_new(cfg, "request_timeout_ms", json_integer(DEADLINE_MS));
    json_object_set_new(cfg, "max_conns_per_ip", json_integer(PER_IP));
    json_object_set_new(cfg, "allowed_origins", json_string("https://dash.example"));
    ctt_ok(ct_json_dump(&text, cfg));
    ctt_ok(ct_file_write_atomic(path, text, strlen(text), 0600));
    free(text);
    json_decref(cfg);
    char *argv[] = {(char *)ctt_catena_bin(), "api", "--config", (char *)path, NULL};
    ctt_spawn(&gw, argv, ctt_path("%s/gw-%d.log", ctt_tmpdir(), ++gw_runs));
    snprintf(gw_base, sizeof(gw_base), "http://127.0.0.1:%u", gw_port);
    for (int i = 0;; i++) {
        struct answer h = req("GET", "/api/health", NULL, NULL);
        int up_ok = (h.status == 200);
        json_decref(h.json);
        if (up_ok)
            break;
        if (!ct_proc_alive(&gw) || i == 300)
            fail_msg("the gateway did not start; see %s/gw-%d.log", ctt_tmpdir(), gw_runs);
        ct_sleep_ms(50);
    }
}

static int setup(void **state)
{
    const char *dir = ctt_path("%s/up", ctt_tmpdir());
    (void)state;

    if (ctt_up_start(&up, &fed, dir) < 0)
        return -1;
    json_t *dcs = json_object_get(fed, "datacenters");
    t1 = json_string_value(json_object_get(json_array_get(dcs, 0), "token"));
    t2 = json_string_value(json_object_get(json_array_get(dcs, 1), "token"));
    agent1 = (pid_t)json_integer_value(json_object_get(json_array_get(dcs, 0), "agent_pid"));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_gateway();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (agent1 > 0)
        kill(agent1, SIGCONT);
    ctt_stop(&gw);
    ctt_stop(&up);
    json_decref(fed);
    return 0;
}

/* ---------------------------------------------------------------- idempotency */

/* The same key twice: one transaction, the same answer (a second
 * transaction would have been refused: the VC exists); another request
 * under the key: 422. */
static void key_sequential(void **state)
{
    const char *const h[] = {auth(t1), "Idempotency-Key: seq-1", NULL};
    const char *body = vc_body("idem-seq");
    (void)state;

    struct answer a = req("POST", REGISTER, body, h), b = req("POST", REGISTER, body, h);
    expect_status(&a, 200, "first");
    expect_status(&b, 200, "again with the key");
    assert_string_equal(str(&a, "tx_hash"), str(&b, "tx_hash"));
    struct answer c = req("POST", REGISTER, vc_body("idem-seq-other"), h);
    expect_status(&c, 422, "another body under the key");
    struct answer d = req("POST", REGISTER, body, (const char *const[]){auth(t1), NULL});
    expect_status(&d, 403, "the same VC without a key: the chain has it once");
    const char *const bad[] = {auth(t1), "Idempotency-Key: has space", NULL};
    struct answer e = req("POST", REGISTER, body, bad);
    expect_status(&e, 400, "a malformed key");
    json_decref(a.json);
    json_decref(b.json);
    json_decref(c.json);
    json_decref(d.json);
    json_decref(e.json);
}

struct racer {
    pthread_t thread;
    const char *body;
    struct answer a;
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    r->a = req("POST", REGISTER, r->body,
               (const char *const[]){ctt_path("Authorization: Bearer %s", t1),
                                     "Idempotency-Key: race-1", NULL});
    return NULL;
}

/* Eight requests with one key at once: one transaction, eight times the
 * same answer. */
static void key_concurrent(void **state)
{
    enum { N = 8 };
    static struct racer r[N];
    const char *body = vc_body("idem-race");
    (void)state;

    for (int i = 0; i < N; i++) {
        r[i].body = body;
        assert_int_equal(pthread_create(&r[i].thread, NULL, racer_main, &r[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(r[i].thread, NULL);
    for (int i = 0; i < N; i++) {
        expect_status(&r[i].a, 200, ctt_path("racer %d", i));
        assert_string_equal(str(&r[i].a, "tx_hash"), str(&r[0].a, "tx_hash"));
    }
    for (int i = 0; i < N; i++)
        json_decref(r[i].a.json);
}

/* Polls the request until it leaves pending. Returns: its last answer. */
static struct answer request_until_done(const char *location)
{
    struct answer a = {0};

    for (int i = 0; i < 200; i++) {
        json_decref(a.json);
        a = req("GET", location, NULL, (const char *const[]){auth(t1), NULL});
        expect_status(&a, 200, "GET the request");
        if (strcmp(str(&a, "state"), "pending") != 0)
            return a;
        ct_sleep_ms(50);
    }
    fail_msg("%s still pending", location);
    return a;
}

/* DC1's agent stopped: a write answers 202 with its id after the short
 * wait, a retry with the key the same; once the agent continues, the
 * request is done with the transaction that is on chain, and the retry
 * answers it. */
static void accepted_while_agent_stopped(void **state)
{
    const char *const h[] = {auth(t1), "Idempotency-Key: slow-1", NULL};
    const char *body = vc_body("idem-slow");
    (void)state;

    ctt_freeze(agent1, false);
    int64_t t0 = ct_time_mono_ms();
    struct answer a = req("POST", REGISTER, body, h);
    int64_t ms = ct_time_mono_ms() - t0;
    expect_status(&a, 202, "a write to a stopped agent");
    assert_true(ms >= ACCEPT_MS - 50 && ms < ACCEPT_MS + 1500);
    assert_string_equal(str(&a, "state"), "pending");
    assert_string_equal(a.location, ctt_path("/api/requests/%s", str(&a, "request_id")));
    struct answer p = req("GET", a.location, NULL, (const char *const[]){auth(t1), NULL});
    expect_status(&p, 200, "the pending request");
    assert_string_equal(str(&p, "state"), "pending");
    struct answer other = req("GET", a.location, NULL, (const char *const[]){auth(t2), NULL});
    expect_status(&other, 403, "another DC's token");
    struct answer none = req("GET", a.location, NULL, NULL);
    expect_status(&none, 401, "no token");
    struct answer again = req("POST", REGISTER, body, h);
    expect_status(&again, 202, "the retry while it waits");
    assert_string_equal(str(&again, "request_id"), str(&a, "request_id"));

    assert_int_equal(kill(agent1, SIGCONT), 0);
    struct answer d = request_until_done(a.location);
    assert_string_equal(str(&d, "state"), "done");
    assert_int_equal(json_integer_value(json_object_get(d.json, "status")), 200);
    const char *tx = str(&d, "tx_hash");
    assert_int_equal(strlen(tx), 66);
    /* On chain: the follower finds the VC registered by that transaction. */
    struct answer tag = {0};
    for (int i = 0; i < 100 && tag.status != 200; i++) {
        json_decref(tag.json);
        tag = req("GET", ctt_path("/api/transaction/%s/vctag", tx), NULL, NULL);
        ct_sleep_ms(100);
    }
    expect_status(&tag, 200, "the transaction's VC tag");
    struct answer retry = req("POST", REGISTER, body, h);
    expect_status(&retry, 200, "the retry once done");
    assert_string_equal(str(&retry, "tx_hash"), tx);
    json_decref(a.json);
    json_decref(p.json);
    json_decref(other.json);
    json_decref(none.json);
    json_decref(again.json);
    json_decref(d.json);
    json_decref(tag.json);
    json_decref(retry.json);
}

/* A kill -9 of the gateway after a 202: the restarted gateway answers the
 * request id truthfully (unknown: it may have been made), and a retry with
 * the key sends nothing again. */
static void gateway_killed_after_202(void **state)
{
    const char *const h[] = {auth(t1), "Idempotency-Key: killed-1", NULL};
    const char *body = vc_body("idem-killed");
    (void)state;

    ctt_freeze(agent1, false);
    struct answer a = req("POST", REGISTER, body, h);
    expect_status(&a, 202, "a write to a stopped agent");
    ct_proc_signal(&gw, SIGKILL);
    ctt_stop(&gw);
    assert_int_equal(kill(agent1, SIGCONT), 0);
    start_gateway();
    struct answer d = req("GET", a.location, NULL, (const char *const[]){auth(t1), NULL});
    expect_status(&d, 200, "the request after a restart");
    assert_string_equal(str(&d, "state"), "unknown");
    assert_non_null(strstr(str(&d, "error"), "may still be made"));
    struct answer retry = req("POST", REGISTER, body, h);
    expect_status(&retry, 202, "the retry after a restart");
    assert_string_equal(str(&retry, "state"), "unknown");
    assert_string_equal(str(&retry, "request_id"), str(&a, "request_id"));
    json_decref(a.json);
    json_decref(d.json);
    json_decref(retry.json);
}

/* ---------------------------------------------------------------- connections */

/* Returns: a socket from the local address ip connected to the gateway. */
static int connect_from(const char *ip)
{
    struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 5};

    assert_true(fd >= 0);
    inet_pton(AF_INET, ip, &from.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    to.sin_port = htons(gw_port);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
    return fd;
}

/* Sends a health request on fd. Returns: the status line's code, or 0. */
static int health_on(int fd)
{
    const char *q = ctt_path("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                             "Connection: close\r\n\r\n",
                             gw_port);
    char buf[64] = "";
    int code = 0;

    if (send(fd, q, strlen(q), MSG_NOSIGNAL) < 0 || recv(fd, buf, sizeof(buf) - 1, 0) <= 0)
        return 0;
    sscanf(buf, "HTTP/1.1 %d", &code);
    return code;
}

/* Item 9: far more idle connections from one address than it may hold;
 * another address is still served, and the idle ones are cut at the
 * request deadline. */
static void connection_flood(void **state)
{
    enum { FLOOD = 4 * PER_IP + 8 };
    int fds[FLOOD], refused = 0;
    (void)state;

    for (int i = 0; i < FLOOD; i++)
        fds[i] = connect_from("127.0.0.1");
    int fd = connect_from("127.0.0.2");
    assert_int_equal(health_on(fd), 200);
    close(fd);
    /* The gateway closes what is past the limit at once. */
    for (int i = 0; i < FLOOD; i++) {
        char c;
        struct timeval tv = {.tv_usec = 200000};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (recv(fds[i], &c, 1, 0) == 0)
            refused++;
    }
    printf("# %d of %d connections from one address refused\n", refused, FLOOD);
    assert_true(refused >= FLOOD - PER_IP);
    for (int i = 0; i < FLOOD; i++)
        close(fds[i]);
}

/* Item 9: a request sent one byte at a time (a slowloris) is cut at the
 * deadline, though each byte comes well within the idle timeout. */
static void slow_sender_cut(void **state)
{
    const char *q = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int fd = connect_from("127.0.0.3");
    int64_t t0 = ct_time_mono_ms(), cut = 0;
    (void)state;

    for (size_t i = 0; i < strlen(q) && cut == 0; i++) {
        char c;
        if (send(fd, q + i, 1, MSG_NOSIGNAL) < 0 || recv(fd, &c, 1, MSG_DONTWAIT) == 0)
            cut = ct_time_mono_ms() - t0;
        if (ct_time_mono_ms() - t0 > 3 * DEADLINE_MS)
            break;
        ct_sleep_ms(100);
    }
    close(fd);
    if (cut == 0)
        fail_msg("a slow sender was still connected after %d ms (deadline %d ms)",
                 3 * DEADLINE_MS, DEADLINE_MS);
    printf("# the slow sender was cut after %lld ms\n", (long long)cut);
    assert_true(cut >= DEADLINE_MS - 100 && cut <= DEADLINE_MS + 1000);
}

/* ---------------------------------------------------------------- input */

/* Item 10: invalid UTF-8 anywhere answers 4xx with valid JSON; the token
 * is checked before the body; the scheme's case does not matter; a 403
 * names no DC; writes from another site's page are refused. */
static void input_checks(void **state)
{
    static const struct {
        const char *method, *path, *body;
        int token; /* 0: none, 1: DC1's, 2: DC2's */
        long status;
    } cases[] = {
        {"GET", "/api/no/such/%FF%FE", NULL, 0, 404},
        {"GET", "/api/container/%C0%AF/details", NULL, 0, 400},
        {"GET", "/api/chain/search?q=%FF%ED%A0%80", NULL, 0, 404},
        {"GET", "/api/datacenter?x=%FF", NULL, 0, 200},
        {"POST", REGISTER, "{\"vc_type\":\"\xff\xfe\"}", 1, 400},
        {"POST", "/api/datacenter/%FF/container/register", "{}", 1, 400},
        {"POST", REGISTER, "{not json", 0, 401},
        {"POST", "/api/datacenter/DC1/container/0x12/retire", "{}", 0, 401},
        {"POST", REGISTER, "{\"vc_type\":\"x\"}", 2, 400},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *tok = cases[i].token == 1 ? t1 : t2;
        struct answer a = req(cases[i].method, cases[i].path, cases[i].body,
                              cases[i].token ? (const char *const[]){auth(tok), NULL} : NULL);
        if (a.status != cases[i].status || a.json == NULL)
            fail_msg("case %zu %s %s: HTTP %ld (%s), wanted %ld with JSON", i, cases[i].method,
                     cases[i].path, a.status, a.json ? "JSON" : "not JSON", cases[i].status);
        json_decref(a.json);
    }
    /* The scheme in any case. */
    const char *schemes[] = {"bearer", "BEARER"};
    for (int i = 0; i < 2; i++) {
        struct answer a =
            req("POST", REGISTER, vc_body(ctt_path("scheme-%d", i)),
                (const char *const[]){ctt_path("Authorization: %s %s", schemes[i], t1), NULL});
        expect_status(&a, 200, schemes[i]);
        json_decref(a.json);
    }
    /* A 403 names no DC. */
    struct answer f = req("POST", REGISTER, vc_body("forbidden"), (const char *const[]){auth(t2), NULL});
    expect_status(&f, 403, "DC2's token on DC1");
    assert_null(strstr(str(&f, "error"), "DC1"));
    assert_null(strstr(str(&f, "error"), "DC2"));
    json_decref(f.json);
    /* Another site's page may not write; ours and a configured one may. */
    struct answer x = req("POST", REGISTER, vc_body("cross"),
                          (const char *const[]){auth(t1), "Origin: http://evil.example", NULL});
    expect_status(&x, 403, "a cross-origin write");
    json_decref(x.json);
    x = req("POST", REGISTER, vc_body("same-origin"),
            (const char *const[]){auth(t1), ctt_path("Origin: http://127.0.0.1:%u", gw_port), NULL});
    expect_status(&x, 200, "a same-origin write");
    json_decref(x.json);
    x = req("POST", REGISTER, vc_body("allowed-origin"),
            (const char *const[]){auth(t1), "Origin: https://dash.example", NULL});
    expect_status(&x, 200, "a write from an allowed origin");
    json_decref(x.json);
    /* A name that resolves to us (DNS rebinding) is not one of ours. */
    x = req("GET", "/api/health", NULL,
            (const char *const[]){ctt_path("Host: rebound.example:%u", gw_port), NULL});
    expect_status(&x, 403, "a foreign Host");
    json_decref(x.json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_sequential),
        cmocka_unit_test(key_concurrent),
        cmocka_unit_test(accepted_while_agent_stopped),
        cmocka_unit_test(gateway_killed_after_202),
        cmocka_unit_test(connection_flood),
        cmocka_unit_test(slow_sender_cut),
        cmocka_unit_test(input_checks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
