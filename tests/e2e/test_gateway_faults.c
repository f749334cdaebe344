/* The gateway (`catena api`) against failing agents: agents killed and
 * restarted a hundred times under load must not bring it down, and an
 * agent that stops reading must hold up only its own DC's writes, which
 * answer 202 (or 503, not sent) in about the agent timeout, while health, the other DC,
 * reads and the chain calls go on in normal time. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "catena/crypto.h"

#define N_DCS 2
#define AGENT_TIMEOUT_MS 3000
/* Agent stops (kill -9 or SIGTERM, alternating DCs). */
#define RESTARTS 100

/* `catena up` provides the chain, the contract, the DCs' funded keys and
 * tokens; the test runs its own agents and gateway on them (up would stop
 * everything when one of its own agents dies). */
static ct_proc up;
static json_t *fed, *up_api; /* federation.json, up's api.json */
static const char *rpc_url, *contract;

static struct dc {
    const char *name, *token, *key_file; /* key_file: the raw hex key (no scrypt) */
    uint16_t port;
    ct_proc proc;
    bool stopped; /* SIGSTOPped: continued by the teardown */
} dcs[N_DCS];

static ct_proc gw;
static char gw_url[64];
static int gw_runs;

/* Client threads of the running test, joined by its teardown even when
 * it fails (they end once the gateway is stopped). */
static pthread_t clients[64];
static int n_clients;

static void client_start(void *(*fn)(void *), void *arg)
{
    assert_true(n_clients < (int)(sizeof(clients) / sizeof(clients[0])));
    assert_int_equal(pthread_create(&clients[n_clients], NULL, fn, arg), 0);
    n_clients++;
}

static void clients_join(void)
{
    while (n_clients > 0)
        pthread_join(clients[--n_clients], NULL);
}

/* ---------------------------------------------------------------- HTTP */

/* One request to the gateway, bounded by timeout_ms (thread safe, unlike
 * ctt_path). Out: *ms how long it took. Returns: the status, or 0 when
 * nothing answered in time. */
static long call(json_t **out, int64_t *ms, const char *method, const char *path, const char *token,
                 const char *body, int timeout_ms)
{
    char url[512]; /* not ctt_path: writer and reader threads call this */

    snprintf(url, sizeof(url), "%s%s", gw_url, path);
    return ctt_http_timed(out, ms, method, url, token, body, timeout_ms);
}

/* Returns: the gateway's agents_connected, or -1 when /api/health did not
 * answer within a second. */
static int agents_connected(void)
{
    json_t *h = NULL;
    long st = call(&h, NULL, "GET", "/health", NULL, NULL, 1000);
    int n = st == 200 || st == 503 ? (int)json_integer_value(json_object_get(h, "agents_connected"))
                                   : -1;

    json_decref(h);
    return n;
}

/* Fails the test (saying how) unless the gateway process is still running. */
static void expect_gateway_alive(const char *when)
{
    if (ct_proc_alive(&gw))
        return;
    ctt_stop(&gw); /* reaps it */
    int st = gw.status;
    if (WIFSIGNALED(st))
        fail_msg("%s: the gateway died by signal %d (%s); see %s/gw-%d.log", when, WTERMSIG(st),
                 strsignal(WTERMSIG(st)), ctt_tmpdir(), gw_runs);
    fail_msg("%s: the gateway exited with status %d", when, WEXITSTATUS(st));
}

/* Waits until the gateway reports want agents connected (cmp 0) or fewer
 * than want (cmp < 0), failing after timeout_ms. */
static void wait_agents(int want, int cmp, int timeout_ms, const char *when)
{
    int64_t until = ct_time_mono_ms() + timeout_ms;
    int n;

    for (;;) {
        expect_gateway_alive(when);
        n = agents_connected();
        if (n >= 0 && (cmp == 0 ? n == want : n < want))
            return;
        if (ct_time_mono_ms() > until)
            fail_msg("%s: %d agent(s) connected after %d ms, wanted %s%d", when, n, timeout_ms,
                     cmp == 0 ? "" : "fewer than ", want);
        ct_sleep_ms(10);
    }
}

/* ---------------------------------------------------------------- services */

static void start_agent(struct dc *d)
{
    char listen[32];
    char *argv[] = {(char *)ctt_catena_bin(),
                    "agent",
                    "--name",
                    (char *)d->name,
                    "--key-file",
                    (char *)d->key_file,
                    "--rpc",
                    (char *)rpc_url,
                    "--contract",
                    (char *)contract,
                    "--listen",
                    listen,
                    "--tokens",
                    (char *)ctt_path("%s/up/tokens.json", ctt_tmpdir()),
                    NULL};

    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)d->port);
    ctt_spawn(&d->proc, argv, ctt_path("%s/agent-%s.log", ctt_tmpdir(), d->name));
    for (int i = 0; !ct_net_can_connect(d->port); i++) {
        if (!ct_proc_alive(&d->proc) || i == 500)
            fail_msg("agent %s did not start; see %s/agent-%s.log", d->name, ctt_tmpdir(), d->name);
        ct_sleep_ms(10);
    }
}

/* Writes a gateway configuration for our agents (up's tokens) and starts
 * it on a free port. */
static void start_gateway(void)
{
    json_t *cfg = json_deep_copy(up_api), *agents = json_object_get(cfg, "agents");
    uint16_t port;
    char *text;
    const char *path = ctt_path("%s/gw-%d.json", ctt_tmpdir(), ++gw_runs);

    ctt_ok(ct_net_free_port(&port));
    json_object_set_new(cfg, "listen", json_string(ctt_path("127.0.0.1:%u", (unsigned)port)));
    json_object_set_new(cfg, "cache",
                        json_string(ctt_path("%s/gw-%d.sqlite", ctt_tmpdir(), gw_runs)));
    json_object_set_new(cfg, "agent_timeout_ms", json_integer(AGENT_TIMEOUT_MS));
    for (size_t i = 0; i < json_array_size(agents); i++) {
        json_t *a = json_array_get(agents, i);
        for (int k = 0; k < N_DCS; k++)
            if (strcmp(json_string_value(json_object_get(a, "name")), dcs[k].name) == 0)
                json_object_set_new(a, "url",
                                    json_string(ctt_path("ws://127.0.0.1:%u/ws/%s",
                                                         (unsigned)dcs[k].port, dcs[k].name)));
    }
    ctt_ok(ct_json_dump(&text, cfg));
    ctt_ok(ct_file_write_atomic(path, text, strlen(text), 0600));
    free(text);
    json_decref(cfg);
    char *argv[] = {(char *)ctt_catena_bin(), "api", "--config", (char *)path, NULL};
    ctt_spawn(&gw, argv, ctt_path("%s/gw-%d.log", ctt_tmpdir(), gw_runs));
    snprintf(gw_url, sizeof(gw_url), "http://127.0.0.1:%u/api", (unsigned)port);
    for (int i = 0; !ct_net_can_connect(port); i++) {
        expect_gateway_alive("starting the gateway");
        assert_true(i < 1000);
        ct_sleep_ms(10);
    }
}

/* The load of agents_restarted: writes (one thread per DC) and reads (one
 * thread) while agents come and go. */
static struct load {
    atomic_bool stop;
    atomic_int ok[N_DCS], timeouts[N_DCS], reads; /* timeouts: 202 or 503 */
    atomic_int bad;
    pthread_mutex_t mu;
    char why[256]; /* the first bad answer */
} load = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Each test gets fresh agents and a fresh gateway, stopped even when it
 * fails (and the harness stops them if the test process dies). */
static int start_services(void **state)
{
    (void)state;
    for (int i = 0; i < N_DCS; i++) {
        ctt_ok(ct_net_free_port(&dcs[i].port));
        start_agent(&dcs[i]);
    }
    start_gateway();
    wait_agents(N_DCS, 0, 10000, "start");
    return 0;
}

static int stop_services(void **state)
{
    (void)state;
    for (int i = 0; i < N_DCS; i++)
        if (dcs[i].stopped) {
            ct_proc_signal(&dcs[i].proc, SIGCONT);
            dcs[i].stopped = false;
        }
    atomic_store(&load.stop, true);
    ctt_stop(&gw);
    clients_join();
    for (int i = 0; i < N_DCS; i++)
        ctt_stop(&dcs[i].proc);
    return 0;
}

/* Starts `catena up` and keeps each DC's key as raw hex, so an agent
 * starts without the keystore's key derivation. */
static int setup(void **state)
{
    const char *dir = ctt_path("%s/up", ctt_tmpdir());
    char *text = NULL, *pw = NULL;
    (void)state;

    if (ctt_up_start(&up, &fed, dir) < 0)
        return -1;
    if (ct_file_read(&text, NULL, ctt_path("%s/api.json", dir), 1 << 20) < 0 ||
        ct_json_parse(&up_api, text, strlen(text), 16) < 0 ||
        ct_file_read(&pw, NULL, ctt_path("%s/keys/password", dir), 1024) < 0)
        return -1;
    free(text);
    rpc_url = json_string_value(json_object_get(fed, "rpc_url"));
    contract = json_string_value(json_object_get(fed, "contract"));
    for (int i = 0; i < N_DCS; i++) {
        json_t *d = json_array_get(json_object_get(fed, "datacenters"), (size_t)i);
        uint8_t key[CT_SECKEY_SIZE];
        char hex[2 * CT_SECKEY_SIZE + 3];
        ct_address addr;
        dcs[i].name = json_string_value(json_object_get(d, "name"));
        dcs[i].token = json_string_value(json_object_get(d, "token"));
        dcs[i].key_file = ctt_path("%s/%s.key", ctt_tmpdir(), dcs[i].name);
        if (ct_file_read(&text, NULL, json_string_value(json_object_get(d, "key_file")), 1 << 16) <
                0 ||
            ct_keystore_decrypt(key, &addr, text, strlen(text), pw, strlen(pw)) < 0)
            return -1;
        free(text);
        ct_hex_encode(hex, sizeof(hex), key, sizeof(key), true);
        ct_wipe(key, sizeof(key));
        if (ct_file_write_atomic(dcs[i].key_file, hex, strlen(hex), 0600) < 0)
            return -1;
    }
    free(pw);
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

/* ---------------------------------------------------------------- load */

/* A write must answer 200 or, while its agent is away, 503 (not sent) or
 * 202 (sent, no answer: its outcome is told at its request id); a read
 * must answer 200 (health 200 or 503). */

static void load_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void load_bad(const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&load.mu);
    if (atomic_fetch_add(&load.bad, 1) == 0) {
        va_start(ap, fmt);
        vsnprintf(load.why, sizeof(load.why), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&load.mu);
}

static void *writer_main(void *arg)
{
    int i = (int)(intptr_t)arg;
    char path[128], body[512];

    snprintf(path, sizeof(path), "/datacenter/%s/container/register/", dcs[i].name);
    for (int k = 0; !atomic_load(&load.stop); k++) {
        snprintf(body, sizeof(body),
                 "{\"vc_type\":\"docker:container\",\"available\":true,\"vcpu\":1,\"vram\":64,"
                 "\"vdisk\":1,\"id\":\"restart-%s-%d\",\"ip_address\":\"\",\"controller\":\"\","
                 "\"created\":\"2021-01-01T00:00:00Z\"}",
                 dcs[i].name, k);
        long st = call(NULL, NULL, "POST", path, dcs[i].token, body, 3 * AGENT_TIMEOUT_MS);
        if (st == 200) {
            atomic_fetch_add(&load.ok[i], 1);
        } else if (st == 503 || st == 202) {
            atomic_fetch_add(&load.timeouts[i], 1);
            ct_sleep_ms(10); /* it comes at once while the agent is away */
        } else {
            load_bad("write %d for %s: HTTP %ld", k, dcs[i].name, st);
        }
    }
    return NULL;
}

static void *reader_main(void *arg)
{
    static const char *const paths[] = {"/datacenter/", "/health", "/chain/overview"};
    (void)arg;

    for (int k = 0; !atomic_load(&load.stop); k++) {
        const char *p = paths[k % 3];
        long st = call(NULL, NULL, "GET", p, NULL, NULL, 5000);
        if (st == 200 || (st == 503 && strcmp(p, "/health") == 0))
            atomic_fetch_add(&load.reads, 1);
        else
            load_bad("GET %s: HTTP %ld", p, st);
        ct_sleep_ms(5);
    }
    return NULL;
}

/* Issue 11 item 1: agents stopped (kill -9, or SIGTERM, which closes the
 * connection with a close frame) and restarted 100 times while writes and
 * reads go on. Each stop hits a connected agent; after each, the gateway
 * process must be alive and answer /api/health. */
static void agents_restarted(void **state)
{
    (void)state;

    atomic_store(&load.stop, false);
    for (int i = 0; i < N_DCS; i++)
        client_start(writer_main, (void *)(intptr_t)i);
    client_start(reader_main, NULL);

    for (int r = 0; r < RESTARTS; r++) {
        struct dc *d = &dcs[r % N_DCS];
        int sig = r % 4 == 3 ? SIGTERM : SIGKILL;
        const char *when =
            ctt_path("stop %d (%s of %s)", r, sig == SIGKILL ? "kill -9" : "SIGTERM", d->name);
        wait_agents(N_DCS, 0, 10000, when);
        ct_proc_signal(&d->proc, sig);
        ctt_stop(&d->proc); /* reaps it (SIGKILL after 3 s) */
        wait_agents(N_DCS, -1, 5000, when);
        expect_gateway_alive(when);
        start_agent(d);
    }
    wait_agents(N_DCS, 0, 10000, "after the last restart");
    atomic_store(&load.stop, true);
    clients_join();
    expect_gateway_alive("at the end");
    printf("# writes ok %d/%d, 202 or 503 %d/%d, reads %d\n", atomic_load(&load.ok[0]),
           atomic_load(&load.ok[1]), atomic_load(&load.timeouts[0]), atomic_load(&load.timeouts[1]),
           atomic_load(&load.reads));
    if (atomic_load(&load.bad) > 0)
        fail_msg("%d unexpected answers, the first: %s", atomic_load(&load.bad), load.why);
    for (int i = 0; i < N_DCS; i++)
        assert_true(atomic_load(&load.ok[i]) > 0);
    assert_true(atomic_load(&load.reads) > 0);
}

/* ---------------------------------------------------------------- a stopped agent */

/* One request run on its own thread. */
struct timed {
    const char *method, *path, *token, *body;
    int timeout_ms;
    long status;
    int64_t ms;
};

static void *timed_main(void *arg)
{
    struct timed *t = arg;

    t->status = call(NULL, &t->ms, t->method, t->path, t->token, t->body, t->timeout_ms);
    return NULL;
}

/* Runs one request and fails unless it answers want within limit_ms. */
static void expect_fast(long want, int limit_ms, const char *method, const char *path,
                        const char *token, const char *body)
{
    int64_t ms;
    long st = call(NULL, &ms, method, path, token, body, limit_ms);

    if (st != want)
        fail_msg("%s %s: HTTP %ld after %lld ms, wanted %ld within %d ms", method, path, st,
                 (long long)ms, want, limit_ms);
}

/* Issue 11 items 3 and 4: DC1's agent stops (SIGSTOP: it reads nothing),
 * and more writes for DC1 arrive than the gateway once had workers (32),
 * together (16 MB) more than the socket buffers between the two hold
 * while the agent reads nothing, so sends block (the gateway's log must
 * show that it dropped the connection for it). Health must still answer
 * at once; DC2's writes, reads and chain calls
 * must take their normal time; each DC1 write must answer 202 (sent, no
 * answer) or 503 (not sent: queued past its deadline) in about the agent
 * timeout; and once the agent continues, DC1 works again. */
static void agent_stopped(void **state)
{
    enum { N_STUCK = 40, BIG = 400 * 1024 };
    struct dc *d1 = &dcs[0], *d2 = &dcs[1];
    static struct timed w[N_STUCK]; /* static: its threads may outlive a failure */
    static char big[BIG + 512];
    const char *path1 = ctt_path("/datacenter/%s/container/register/", d1->name);
    json_t *h = NULL;
    (void)state;

    int n = snprintf(big, 512,
                     "{\"vc_type\":\"docker:container\",\"available\":true,\"vcpu\":1,\"vram\":64,"
                     "\"vdisk\":1,\"id\":\"stuck\",\"ip_address\":\"\",\"created\":"
                     "\"2021-01-01T00:00:00Z\",\"controller\":\"");
    memset(big + n, 'x', BIG);
    snprintf(big + n + BIG, 512 - (size_t)n, "\"}");

    ctt_freeze(d1->proc.pid, true);
    d1->stopped = true;
    for (int i = 0; i < N_STUCK; i++) {
        w[i] = (struct timed){.method = "POST",
                              .path = path1,
                              .token = d1->token,
                              .body = big,
                              .timeout_ms = 6 * AGENT_TIMEOUT_MS};
        client_start(timed_main, &w[i]);
    }
    /* Health answers within a bound while the writes arrive, and counts
     * them once all are in (queued or waiting for the agent). */
    for (int k = 0;; k++) {
        int64_t ms;
        long st = call(&h, &ms, "GET", "/health", NULL, NULL, 1000);
        if (st != 200 && st != 503)
            fail_msg("/api/health: HTTP %ld after %lld ms with DC1's agent stopped", st,
                     (long long)ms);
        json_int_t waiting = json_integer_value(json_object_get(h, "requests_waiting"));
        json_decref(h);
        if (waiting == N_STUCK)
            break;
        if (k == 200)
            fail_msg("the gateway holds %lld of %d writes", (long long)waiting, N_STUCK);
        ct_sleep_ms(10);
    }
    /* Everything else goes on in normal time while they wait. */
    for (int i = 0; i < 3; i++) {
        long st = call(NULL, NULL, "GET", "/health", NULL, NULL, 1000);
        if (st != 200 && st != 503)
            fail_msg("/api/health: HTTP %ld with DC1's agent stopped", st);
        expect_fast(200, 2000, "POST", ctt_path("/datacenter/%s/container/register/", d2->name),
                    d2->token,
                    ctt_path("{\"vc_type\":\"docker:container\",\"available\":true,\"vcpu\":1,"
                             "\"vram\":64,\"vdisk\":1,\"id\":\"beside-stuck-%d\",\"ip_address\":"
                             "\"\",\"controller\":\"\",\"created\":\"2021-01-01T00:00:00Z\"}",
                             i));
        expect_fast(200, 1000, "GET", "/datacenter/", NULL, NULL);
        expect_fast(200, 2000, "GET", "/chain/overview", NULL, NULL);
        expect_fast(200, 2000, "GET", "/chain/blocks", NULL, NULL);
    }
    /* DC1's writes end in 202 or 503, each in about the agent timeout. */
    int64_t slowest = 0;
    clients_join();
    for (int i = 0; i < N_STUCK; i++) {
        if ((w[i].status != 202 && w[i].status != 503) || w[i].ms > AGENT_TIMEOUT_MS + 1500)
            fail_msg("DC1 write %d: HTTP %ld after %lld ms, wanted 202/503 within %d ms", i,
                     w[i].status, (long long)w[i].ms, AGENT_TIMEOUT_MS + 1500);
        slowest = w[i].ms > slowest ? w[i].ms : slowest;
    }
    printf("# the slowest of the stuck writes answered after %lld ms\n", (long long)slowest);
    char *log = NULL;
    ctt_ok(ct_file_read(&log, NULL, ctt_path("%s/gw-%d.log", ctt_tmpdir(), gw_runs), 1 << 24));
    if (strstr(log, ctt_path("agent %s: a request was not taken in time", d1->name)) == NULL)
        fail_msg("no send to the stopped agent blocked: the writes did not fill its buffers");
    free(log);
    /* The agent continues: the gateway reconnects and DC1 writes work. */
    ct_proc_signal(&d1->proc, SIGCONT);
    d1->stopped = false;
    wait_agents(N_DCS, 0, 15000, "after SIGCONT");
    expect_fast(200, 5000, "POST", path1, d1->token,
                "{\"vc_type\":\"docker:container\",\"available\":true,\"vcpu\":1,\"vram\":64,"
                "\"vdisk\":1,\"id\":\"after-stuck\",\"ip_address\":\"\",\"controller\":\"\","
                "\"created\":\"2021-01-01T00:00:00Z\"}");
    expect_gateway_alive("at the end");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(agents_restarted, start_services, stop_services),
        cmocka_unit_test_setup_teardown(agent_stopped, start_services, stop_services),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
