/* Figure 5.1 of seed 002 with real processes on a real chain: three
 * `catena can run` nodes, two `catena orch serve` orchestrators, an
 * application of two services (front end depending on back end) deployed
 * with `catena app deploy`. Orchestrator 1 starts the back end and
 * checkpoints SERVICE_UP; it is killed with -9 while the front end starts;
 * the network votes it out and gives the work, with its checkpoint, to
 * orchestrator 2, which starts only the front end; APP_OK follows. A
 * killed service gets SERVICE_DOWN, is redeployed, and APP_OK follows
 * again. `catena app stop`: APP_SHUTDOWN, the resources are released.
 * The salaries on chain equal a computation here from the checkpoints'
 * timestamps and the prices; withdrawals, the client's refund and what
 * the Registry is owed add up to the deposit. Bad input to deploy and to
 * the network changes nothing. */
#include "harness.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "catena/can.h"
#include "catena/crypto.h"
#include "catena/ledger.h"

#define NODES 3
#define ORCHS 2
#define DEPOSIT 1000000000000000000ull /* 1 ether */
/* Prices in wei a minute (large enough that intervals of seconds pay
 * every party something). */
#define CLOUD_PRICE 100000000
#define NET_PRICE 1000000000
#define ORCH_PRICE 500000000
#define RESOURCE_PRICE(i) (50000000 + 10000000 * (i))

static ct_devnode chain;
static ct_address registry, cloud;
static uint8_t node_keys[NODES][32], orch_keys[ORCHS][32], sched_key[32];
static ct_address orch_addr[ORCHS];
static ct_proc nodes[NODES], orchs[ORCHS];
static char urls[NODES][64];
static const char *app_addr;
static const char *app_path;

static const char *hex(const uint8_t *b, size_t n)
{
    char buf[2 * 64 + 3];

    ct_hex_encode(buf, sizeof(buf), b, n, true);
    return ctt_path("%s", buf);
}

static void fund(ct_sender *from, const uint8_t key[32])
{
    ct_send_req req = {0};
    ct_send_result res = {0};
    ct_address to;

    ctt_ok(ct_address_from_seckey(&to, key));
    req.to = &to;
    ct_u256_from_u64(&req.value, 10000000000000000000ull); /* 10 ether */
    ctt_ok(ct_sender_send(from, &res, &req, true));
    ct_send_result_clear(&res);
}

static void send_ok(const ct_ledger *l, ct_sender *s, const ct_address *to, const char *fn,
                    json_t *args)
{
    if (args == NULL || ct_ledger_transact(l, s, NULL, to, NULL, fn, args) < 0)
        fail_msg("%s: %s", fn, ct_error_last());
    json_decref(args);
}

static void start_node(int i)
{
    char *argv[] = {(char *)ctt_catena_bin(),
                    "can",
                    "run",
                    "--dir",
                    (char *)ctt_path("%s/node%d", ctt_tmpdir(), i),
                    "--rpc",
                    chain.url,
                    "--registry",
                    (char *)ctt_addr(&registry),
                    "--listen",
                    (char *)(urls[i] + 7), /* "http://" */
                    "--key-env",
                    (char *)ctt_path("CATENA_CAN_KEY_%d", i),
                    "--pay-interval",
                    "3",
                    NULL};

    setenv(ctt_path("CATENA_CAN_KEY_%d", i), hex(node_keys[i], 32), 1);
    mkdir(ctt_path("%s/node%d", ctt_tmpdir(), i), 0755);
    ctt_spawn(&nodes[i], argv, ctt_path("%s/node%d.log", ctt_tmpdir(), i));
}

static void start_orch(int i)
{
    char *argv[] = {(char *)ctt_catena_bin(),
                    "orch",
                    "serve",
                    "--can",
                    (char *)ctt_path("%s,%s,%s", urls[0], urls[1], urls[2]),
                    "--rpc",
                    chain.url,
                    "--dir",
                    (char *)ctt_path("%s/orch%d", ctt_tmpdir(), i),
                    "--key-env",
                    (char *)ctt_path("CATENA_ORCH_KEY_%d", i),
                    "--check-ms",
                    "300",
                    NULL};

    setenv(ctt_path("CATENA_ORCH_KEY_%d", i), hex(orch_keys[i], 32), 1);
    ctt_spawn(&orchs[i], argv, ctt_path("%s/orch%d.log", ctt_tmpdir(), i));
}

static json_t *status_of(int i)
{
    return ctt_can_status(urls[i]);
}

/* The status of whichever node answers as the leader (60 s), or fails. */
static json_t *leader_status(void)
{
    for (int k = 0; k < 600; k++) {
        for (int i = 0; i < NODES; i++) {
            json_t *st = status_of(i);
            if (st != NULL &&
                strcmp(json_string_value(json_object_get(st, "role")) ?: "", "leader") == 0)
                return st;
            json_decref(st);
        }
        ct_sleep_ms(100);
    }
    fail_msg("no CAN node answers as the leader");
    return NULL;
}

static size_t registered_components(void)
{
    json_t *st = leader_status(), *c;
    const char *id;
    size_t n = 0;

    json_object_foreach (json_object_get(st, "components"), id, c)
        n += json_is_true(json_object_get(c, "registered"));
    json_decref(st);
    return n;
}

/* The application as `catena app show --json` prints it. */
static json_t *show(void)
{
    return ctt_app_show(chain.url, app_addr);
}

static json_t *checkpoints_of(const json_t *doc)
{
    return json_object_get(doc, "checkpoints");
}

/* Waits up to ms until the contract holds a checkpoint of type (for
 * service, or any when NULL) after index from. Returns: its index. */
static size_t wait_checkpoint(const char *type, const char *service, size_t from, int ms)
{
    int64_t until = ct_time_mono_ms() + ms;
    json_t *doc = NULL;

    do {
        json_t *cp;
        size_t i;
        json_decref(doc);
        doc = show();
        json_array_foreach (checkpoints_of(doc), i, cp) {
            if (i < from || strcmp(json_string_value(json_object_get(cp, "type")), type) != 0)
                continue;
            if (service != NULL &&
                strcmp(json_string_value(json_object_get(cp, "service")) ?: "", service) != 0)
                continue;
            json_decref(doc);
            return i;
        }
        ct_sleep_ms(300);
    } while (ct_time_mono_ms() < until);
    print_message("checkpoints: %s\n", json_dumps(checkpoints_of(doc), JSON_COMPACT));
    json_decref(doc);
    fail_msg("no %s%s%s checkpoint on chain after %d ms", type, service ? " of " : "",
             service ? service : "", ms);
    return 0;
}

/* The orchestrator that holds the work now, by the leader. */
static const char *work_comp(void)
{
    json_t *st = leader_status();
    const char *c =
        ctt_path("%s", json_string_value(json_object_get(
                           json_object_get(json_object_get(st, "works"), app_addr), "comp"))
                           ?: "");

    json_decref(st);
    return c;
}

/* The work's checkpoints in the CAN ledger (by the leader). */
static size_t work_checkpoints(void)
{
    json_t *st = leader_status();
    size_t n = json_array_size(
        json_object_get(json_object_get(json_object_get(st, "works"), app_addr), "checkpoints"));

    json_decref(st);
    return n;
}

static int setup(void **state)
{
    const char *svc = getenv("CATENA_TEST_SVC");
    ct_sender *owner;
    ct_ledger *reg = NULL, *cl = NULL;
    ct_address sched;
    const char *text;
    (void)state;

    if (svc == NULL)
        fail_msg("CATENA_TEST_SVC is not set (run through ctest)");
    ctt_node_start(&chain);
    owner = ctt_sender(chain.url, ctt_dev_keys[0]);
    for (int i = 0; i < NODES; i++) {
        uint16_t port;
        ctt_ok(ct_seckey_generate(node_keys[i]));
        fund(owner, node_keys[i]);
        ctt_ok(ct_net_free_port(&port));
        snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%u", (unsigned)port);
    }
    for (int i = 0; i < ORCHS; i++) {
        ctt_ok(ct_seckey_generate(orch_keys[i]));
        ctt_ok(ct_address_from_seckey(&orch_addr[i], orch_keys[i]));
        fund(owner, orch_keys[i]);
    }
    ctt_ok(ct_seckey_generate(sched_key));
    ctt_ok(ct_address_from_seckey(&sched, sched_key));
    ctt_ok(ct_ledger_open_contract(&reg, "Registry"));
    ctt_ok(ct_ledger_open_contract(&cl, "Cloud"));
    /* Nmin 3, Nmax 5; prices a minute: network, orchestrator. */
    {
        json_t *args = json_pack("[i, i, i, i]", 3, 5, NET_PRICE, ORCH_PRICE);
        ctt_ok(ct_ledger_deploy_with(reg, owner, args, &registry, NULL));
        json_decref(args);
    }
    for (int i = 0; i < NODES; i++) {
        ct_sender *s = ctt_sender(chain.url, hex(node_keys[i], 32));
        send_ok(reg, s, &registry, "registerCandidate", json_pack("[s]", urls[i]));
        ct_sender_free(s);
    }
    {
        ct_address first;
        ctt_ok(ct_address_from_seckey(&first, node_keys[0]));
        send_ok(reg, owner, &registry, "appointLeader", json_pack("[s]", ctt_addr(&first)));
    }
    {
        json_t *args = json_pack("[s, s, i, s, s]", ctt_addr(&registry), ctt_addr(&sched),
                                 CLOUD_PRICE, "http://sched", "http://plug");
        ctt_ok(ct_ledger_deploy_with(cl, owner, args, &cloud, NULL));
        json_decref(args);
    }
    send_ok(reg, owner, &registry, "registerCloud", json_pack("[s]", ctt_addr(&cloud)));
    /* Three resources: two for the application, one spare. Resource i is
     * owned by dev key 1 + i % 2 at RESOURCE_PRICE(i). */
    for (int i = 0; i < 3; i++)
        send_ok(cl, owner, &cloud, "registerResource",
                json_pack("[s, s, I, s]", ctt_path("0x%064x", i + 1),
                          ctt_addr(ctt_dev_address(1 + i % 2)), (json_int_t)RESOURCE_PRICE(i),
                          ctt_path("vm-%d", i)));
    ct_ledger_free(reg);
    ct_ledger_free(cl);
    ct_sender_free(owner);

    app_path = ctt_path("%s/app.yaml", ctt_tmpdir());
    text = ctt_path("tosca_definitions_version: tosca_simple_yaml_1_3\n"
                    "topology_template:\n"
                    "  node_templates:\n"
                    "    frontend:\n"
                    "      type: catena.nodes.Service\n"
                    "      properties:\n"
                    "        command: [%s, --name, frontend, --sleep, '3000', --tag, %s, --port, "
                    "'{port}']\n"
                    "        health: /health\n"
                    "      requirements: [{dependency: backend}]\n"
                    "    backend:\n"
                    "      type: catena.nodes.Service\n"
                    "      properties:\n"
                    "        command: [%s, --name, backend, --tag, %s]\n"
                    "        health: /health\n",
                    svc, ctt_tmpdir(), svc, ctt_tmpdir());
    ctt_ok(ct_file_write_atomic(app_path, text, strlen(text), 0644));
    for (int i = 0; i < NODES; i++)
        start_node(i);
    return 0;
}

static int teardown(void **state)
{
    int bad = 0;
    (void)state;

    for (int i = 0; i < ORCHS; i++)
        if (orchs[i].pid > 0)
            kill(orchs[i].pid, SIGTERM);
    for (int i = 0; i < NODES; i++)
        if (nodes[i].pid > 0)
            kill(nodes[i].pid, SIGTERM);
    for (int i = 0; i < NODES + ORCHS; i++) {
        ct_proc *p = i < NODES ? &nodes[i] : &orchs[i - NODES];
        int status = -1;
        pid_t done = 0;
        if (p->pid <= 0)
            continue;
        for (int k = 0; k < 150 && (done = waitpid(p->pid, &status, WNOHANG)) == 0; k++)
            ct_sleep_ms(100);
        if (done == 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            print_message("%s %d did not stop cleanly (status %d)\n",
                          i < NODES ? "node" : "orchestrator", i < NODES ? i : i - NODES, status);
            bad++;
        }
        if (done == 0)
            ctt_stop(p);
        else
            ctt_reaped(p);
    }
    ctt_kill_tagged();
    ctt_node_stop(&chain);
    return bad ? -1 : 0;
}

static ctt_run deploy(const char *path, const char *deposit)
{
    const char *args[] = {"app",       "deploy",        path,
                          "--rpc",     chain.url,       "--can",
                          urls[1],     "--cloud",       ctt_addr(&cloud),
                          "--deposit", deposit,         "--retries",
                          "3",         "--ok-interval", "2",
                          "--key-env", "CLIENT_KEY",    "--scheduler-key-env",
                          "SCHED_KEY", "--json",        NULL};
    const char *env[] = {ctt_path("CLIENT_KEY=%s", ctt_dev_keys[3]),
                         ctt_path("SCHED_KEY=%s", hex(sched_key, 32)), NULL};
    ctt_run r;

    ctt_catena_env(&r, args, env);
    return r;
}

static void bad_deploys_change_nothing(void **state)
{
    const char *bad = ctt_path("%s/bad.yaml", ctt_tmpdir());
    const char *text = "tosca_definitions_version: tosca_simple_yaml_1_3\n"
                       "topology_template:\n  node_templates:\n"
                       "    a: {type: catena.nodes.Service, properties: {port: 1}}\n";
    json_t *doc;
    ctt_run r;
    (void)state;

    json_decref(leader_status()); /* the network is up */
    /* No orchestrator yet: refused before any money moves. */
    r = deploy(app_path, "1000");
    assert_int_equal(ctt_exit_code(&r), 2);
    assert_non_null(strstr(r.err, "no orchestrator is registered"));
    ctt_run_free(&r);
    for (int i = 0; i < ORCHS; i++)
        start_orch(i);
    for (int k = 0; k < 300 && registered_components() < ORCHS; k++)
        ct_sleep_ms(100);
    assert_int_equal(registered_components(), ORCHS);
    /* Invalid TOSCA, a bad deposit. */
    ctt_ok(ct_file_write_atomic(bad, text, strlen(text), 0644));
    r = deploy(bad, "1000");
    assert_int_equal(ctt_exit_code(&r), 2);
    assert_non_null(strstr(r.err, "command"));
    ctt_run_free(&r);
    r = deploy(app_path, "-5");
    assert_int_equal(ctt_exit_code(&r), 2);
    ctt_run_free(&r);
    /* Unknown application, and a document that is not the application's:
     * the network refuses the work. */
    {
        json_t *out = NULL;
        long st = ctt_http_timed(
            &out, NULL, "POST", ctt_path("%s/can/work", urls[0]), NULL,
            "{\"work\":\"0x000000000000000000000000000000000000dEaD\",\"description\":\"x\"}",
            10000);
        assert_int_equal(st, 404);
        assert_non_null(strstr(json_string_value(json_object_get(out, "error")), "unknown "
                                                                                 "application"));
        json_decref(out);
    }
    doc = leader_status();
    assert_int_equal(json_object_size(json_object_get(doc, "works")), 0);
    json_decref(doc);
}

static void figure_5_1(void **state)
{
    json_t *doc, *cp, *out = NULL;
    const char *first, *second;
    size_t up_front, i;
    int o1, o2;
    ctt_run r;
    (void)state;

    r = deploy(app_path, ctt_path("%llu", DEPOSIT));
    if (ctt_exit_code(&r) != 0)
        fail_msg("catena app deploy: %s", r.err);
    ctt_ok(ct_json_parse(&out, r.out, strlen(r.out), 4));
    app_addr = ctt_path("%s", json_string_value(json_object_get(out, "app")));
    first = ctt_path("%s", json_string_value(json_object_get(out, "orchestrator")));
    json_decref(out);
    ctt_run_free(&r);
    o1 = strcasecmp(first, ctt_addr(&orch_addr[0])) == 0 ? 0 : 1;
    o2 = 1 - o1;
    assert_string_equal(first, ctt_addr(&orch_addr[o1]));

    /* Orchestrator 1 starts the back end (SERVICE_UP in the CAN); the front
     * end takes 3 s to answer: kill -9 of orchestrator 1 meanwhile. */
    for (int k = 0; k < 300 && work_checkpoints() < 1; k++)
        ct_sleep_ms(100);
    assert_int_equal(work_checkpoints(), 1);
    assert_true(orchs[o1].pid > 0);
    kill(orchs[o1].pid, SIGKILL);
    ctt_stop(&orchs[o1]); /* reaps it */

    /* The network votes it out and gives the work to orchestrator 2. */
    for (int k = 0; k < 600 && strcasecmp(work_comp(), ctt_addr(&orch_addr[o2])) != 0; k++)
        ct_sleep_ms(100);
    second = work_comp();
    assert_string_equal(second, ctt_addr(&orch_addr[o2]));
    up_front = wait_checkpoint("SERVICE_UP", "frontend", 0, 60000);
    wait_checkpoint("APP_OK", NULL, up_front, 30000);
    doc = show();
    /* The back end was started once, by orchestrator 1; the front end by
     * orchestrator 2. */
    {
        size_t backend_ups = 0;
        json_array_foreach (checkpoints_of(doc), i, cp) {
            const char *svc = json_string_value(json_object_get(cp, "service"));
            if (strcmp(json_string_value(json_object_get(cp, "type")), "SERVICE_UP") != 0)
                continue;
            if (svc != NULL && strcmp(svc, "backend") == 0) {
                backend_ups++;
                assert_string_equal(json_string_value(json_object_get(cp, "orchestrator")),
                                    ctt_addr(&orch_addr[o1]));
            } else
                assert_string_equal(json_string_value(json_object_get(cp, "orchestrator")),
                                    ctt_addr(&orch_addr[o2]));
        }
        assert_int_equal(backend_ups, 1);
    }
    json_decref(doc);
    print_message("[ info ] orchestrator failover done\n");
    /* The rest of the figure follows in figure_5_1_service_down. */
}

/* The front end's pid as its last SERVICE_UP in the CAN says. */
static pid_t frontend_pid(void)
{
    json_t *st = leader_status(), *w, *digests;
    pid_t pid = 0;

    w = json_object_get(json_object_get(st, "works"), app_addr);
    digests = json_object_get(w, "checkpoints");
    for (size_t i = json_array_size(digests); i-- > 0 && pid == 0;) {
        json_t *blob = NULL, *v = NULL;
        uint8_t *data = NULL;
        size_t len = 0;
        long code = ctt_http_timed(
            &blob, NULL, "GET",
            ctt_path("%s/can/blob/%s", urls[0], json_string_value(json_array_get(digests, i))),
            NULL, NULL, 5000);
        if (code == 200 &&
            ct_hex_decode_new(&data, &len, json_string_value(json_object_get(blob, "data"))) == 0 &&
            (v = json_loadb((const char *)data, len, 0, NULL)) != NULL &&
            strcmp(json_string_value(json_object_get(v, "type")) ?: "", "SERVICE_UP") == 0 &&
            strcmp(json_string_value(json_object_get(v, "service")) ?: "", "frontend") == 0)
            pid = (pid_t)json_integer_value(json_object_get(v, "pid"));
        free(data);
        json_decref(v);
        json_decref(blob);
    }
    json_decref(st);
    return pid;
}

/* Independently of the contract: Algorithm 5 over the checkpoints as the
 * contract holds them, every interval paid in full. Out: salaries by
 * address (lower case) in a JSON object of integers. */
static json_t *expected_salaries(const json_t *doc)
{
    const json_t *cps = checkpoints_of(doc), *svcs = json_object_get(doc, "services");
    json_t *pay = json_object();
    size_t n = json_array_size(svcs);
    long start[8];

    assert_true(n <= 8);
    for (size_t j = 0; j < n; j++)
        start[j] = -1;
    for (size_t i = 0; i < json_array_size(cps); i++) {
        const json_t *c = json_array_get(cps, i);
        const char *type = json_string_value(json_object_get(c, "type"));
        const char *svc = json_string_value(json_object_get(c, "service"));
        bool down = strcmp(type, "SERVICE_DOWN") == 0;
        for (size_t j = 0; j < n; j++) {
            const json_t *s = json_array_get(svcs, j);
            bool this_svc =
                svc != NULL && strcmp(svc, json_string_value(json_object_get(s, "name"))) == 0;
            if (strcmp(type, "SERVICE_UP") == 0) {
                if (this_svc)
                    start[j] = (long)i;
                continue;
            }
            if ((down && !this_svc) || start[j] < 0)
                continue;
            {
                const json_t *cs = json_array_get(cps, (size_t)start[j]);
                uint64_t ms = ctt_json_u64(json_object_get(c, "timestamp_ms")) -
                              ctt_json_u64(json_object_get(cs, "timestamp_ms"));
                uint64_t price = 0, orc = ORCH_PRICE * ms / 60000;
                const char *oa = json_string_value(json_object_get(cs, "orchestrator"));
                const char *ob = json_string_value(json_object_get(c, "orchestrator"));
                struct {
                    const char *who;
                    uint64_t amount;
                } parts[5];
                ct_parse_uint(&price, json_string_value(json_object_get(s, "price")), UINT64_MAX);
                parts[0].who = json_string_value(json_object_get(doc, "cloudPayee"));
                parts[0].amount = CLOUD_PRICE * ms / 60000;
                parts[1].who = json_string_value(json_object_get(s, "owner"));
                parts[1].amount = price * ms / 60000;
                parts[2].who = json_string_value(json_object_get(doc, "registry"));
                parts[2].amount = NET_PRICE * ms / 60000;
                if (strcasecmp(oa, ob) != 0) {
                    parts[3].who = oa;
                    parts[3].amount = orc / 2;
                    parts[4].who = ob;
                    parts[4].amount = orc / 2;
                } else {
                    parts[3].who = oa;
                    parts[3].amount = orc;
                    parts[4].who = oa;
                    parts[4].amount = 0;
                }
                for (int p = 0; p < 5; p++) {
                    char key[CT_ADDRESS_TEXT_SIZE];
                    snprintf(key, sizeof(key), "%s", parts[p].who);
                    for (char *q = key; *q; q++)
                        *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
                    json_object_set_new(pay, key,
                                        json_integer(json_integer_value(json_object_get(pay, key)) +
                                                     (json_int_t)parts[p].amount));
                }
            }
            start[j] = down || strcmp(type, "APP_SHUTDOWN") == 0 ? -1 : (long)i;
        }
    }
    return pay;
}

static uint64_t withdraw(const char *key_hex)
{
    const char *args[] = {"app",    "withdraw",  app_addr, "--rpc", chain.url,
                          "--json", "--key-env", "K",      NULL};
    const char *env[] = {ctt_path("K=%s", key_hex), NULL};
    json_t *out = NULL;
    uint64_t v;
    ctt_run r;

    ctt_catena_env(&r, args, env);
    if (ctt_exit_code(&r) != 0)
        fail_msg("catena app withdraw: %s", r.err);
    ctt_ok(ct_json_parse(&out, r.out, strlen(r.out), 4));
    v = ctt_json_u64(json_object_get(out, "amount"));
    json_decref(out);
    ctt_run_free(&r);
    return v;
}

static void figure_5_1_service_down(void **state)
{
    const char *env[] = {ctt_path("CLIENT_KEY=%s", ctt_dev_keys[3]), NULL};
    pid_t pid = frontend_pid();
    json_t *doc, *want, *v;
    const char *who;
    size_t down, shut;
    uint64_t withdrawn = 0, refund, registry_owed;
    ctt_run r;
    (void)state;

    assert_true(pid > 0);
    kill(pid, SIGKILL);
    down = wait_checkpoint("SERVICE_DOWN", "frontend", 0, 30000);
    wait_checkpoint("SERVICE_UP", "frontend", down, 30000);
    wait_checkpoint("APP_OK", NULL, down, 30000);
    assert_int_not_equal(frontend_pid(), pid);
    /* show --can: the services' state, URL and pid, the orchestrator. */
    {
        const char *args[] = {"app",   "show",  app_addr, "--rpc", chain.url,
                              "--can", urls[2], "--json", NULL};
        json_t *got = NULL, *svc;
        size_t i;
        ctt_catena(&r, args);
        if (ctt_exit_code(&r) != 0)
            fail_msg("catena app show --can: %s", r.err);
        ctt_ok(ct_json_parse(&got, r.out, strlen(r.out), 16));
        ctt_run_free(&r);
        assert_string_equal(json_string_value(json_object_get(got, "orchestrator")), work_comp());
        json_array_foreach (json_object_get(got, "services"), i, svc) {
            assert_string_equal(json_string_value(json_object_get(svc, "state")), "up");
            assert_non_null(strstr(json_string_value(json_object_get(svc, "url")), "127.0.0.1"));
            if (strcmp(json_string_value(json_object_get(svc, "name")), "frontend") == 0)
                assert_int_equal(json_integer_value(json_object_get(svc, "pid")), frontend_pid());
        }
        json_decref(got);
    }

    /* The client stops: APP_SHUTDOWN, the resources are free again. */
    {
        const char *args[] = {"app",     "stop",      app_addr,     "--rpc",
                              chain.url, "--key-env", "CLIENT_KEY", NULL};
        ctt_catena_env(&r, args, env);
        assert_int_equal(ctt_exit_code(&r), 0);
        ctt_run_free(&r);
    }
    shut = wait_checkpoint("APP_SHUTDOWN", NULL, 0, 60000);
    doc = show();
    assert_int_equal(json_array_size(checkpoints_of(doc)), shut + 1);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "shut down");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(doc, "services"), 0), "state")),
                        "stopped");
    json_decref(doc);
    {
        ct_ledger *cl = NULL;
        ct_rpc *rpc = NULL;
        ctt_ok(ct_ledger_open_contract(&cl, "Cloud"));
        ctt_ok(ct_rpc_new(&rpc, chain.url, 10000));
        for (int i = 0; i < 2; i++) {
            json_t *args = json_pack("[s]", ctt_path("0x%064x", i + 1)), *res = NULL;
            ctt_ok(ct_ledger_read(cl, rpc, &res, &cloud, "resource", args));
            assert_string_equal(json_string_value(json_array_get(json_array_get(res, 0), 3)),
                                "0x0000000000000000000000000000000000000000");
            json_decref(args);
            json_decref(res);
        }
        ct_rpc_free(rpc);
        ct_ledger_free(cl);
    }
    /* The work is finished in the CAN once APP_SHUTDOWN is on chain. */
    for (int k = 0; k < 300; k++) {
        json_t *st = leader_status();
        bool fin = json_is_true(
            json_object_get(json_object_get(json_object_get(st, "works"), app_addr), "finished"));
        json_decref(st);
        if (fin)
            break;
        ct_sleep_ms(100);
        if (k == 299)
            fail_msg("the work was not finished");
    }

    /* close pays what remains and refunds the rest. */
    {
        const char *args[] = {"app",    "close",     app_addr,     "--rpc", chain.url,
                              "--json", "--key-env", "CLIENT_KEY", NULL};
        json_t *out = NULL;
        ctt_catena_env(&r, args, env);
        if (ctt_exit_code(&r) != 0)
            fail_msg("catena app close: %s", r.err);
        ctt_ok(ct_json_parse(&out, r.out, strlen(r.out), 4));
        refund = ctt_json_u64(json_object_get(out, "refund"));
        json_decref(out);
        ctt_run_free(&r);
    }
    doc = show();
    want = expected_salaries(doc);
    /* Every party's salary as computed here (none withdrawn yet). */
    json_object_foreach (want, who, v) {
        const json_t *have = NULL, *h;
        const char *k;
        json_object_foreach (json_object_get(doc, "salaries"), k, h)
            if (strcasecmp(k, who) == 0)
                have = h;
        if (have == NULL || ctt_json_u64(have) != (uint64_t)json_integer_value(v))
            fail_msg("salary of %s: contract %s, computed %lld", who,
                     have ? json_string_value(have) : "none", (long long)json_integer_value(v));
    }
    {
        char lower[CT_ADDRESS_TEXT_SIZE];
        snprintf(lower, sizeof(lower), "%s", json_string_value(json_object_get(doc, "registry")));
        for (char *q = lower; *q; q++)
            *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
        registry_owed = (uint64_t)json_integer_value(json_object_get(want, lower));
    }
    assert_true(registry_owed > 0);
    json_decref(doc);

    /* Everybody but the Registry (it collects through its own contract)
     * withdraws what was computed here: the cloud provider, the resource
     * owners, the two orchestrators. */
    for (int p = 0; p < 3 + ORCHS; p++) {
        const char *key = p < 3 ? ctt_dev_keys[p] : hex(orch_keys[p - 3], 32);
        uint8_t k[32];
        size_t len;
        ct_address a;
        char lower[CT_ADDRESS_TEXT_SIZE];
        json_int_t owed;
        ctt_ok(ct_hex_decode(k, 32, &len, key, strlen(key)));
        ctt_ok(ct_address_from_seckey(&a, k));
        snprintf(lower, sizeof(lower), "%s", ctt_addr(&a));
        for (char *q = lower; *q; q++)
            *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
        owed = json_integer_value(json_object_get(want, lower));
        print_message("[ info ] party %d (%s) is owed %lld wei\n", p, lower, (long long)owed);
        assert_true(owed > 0);
        {
            uint64_t got = withdraw(key);
            assert_int_equal(got, (uint64_t)owed);
            withdrawn += got;
        }
    }
    json_decref(want);
    doc = show();
    assert_int_equal(ctt_json_u64(json_object_get(doc, "balance")), registry_owed);
    assert_int_equal(withdrawn + refund + registry_owed, DEPOSIT);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_deploys_change_nothing),
        cmocka_unit_test(figure_5_1),
        cmocka_unit_test(figure_5_1_service_down),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
