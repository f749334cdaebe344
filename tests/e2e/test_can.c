/* `catena can run` nodes on a real chain: the appointed leader enters
 * itself, two candidates join through it (registered on the Registry), a
 * fourth is refused by Algorithm 1 (Nmin reached, no churn); the ledger
 * reaches every member; writes on a follower are refused naming the
 * leader; a work entry goes round robin to a component; a checkpoint is
 * stored by digest and fetched by the members; a killed member restarted
 * on its directory catches up; bad input changes nothing; one accuser
 * removes nobody; a dead component's work moves with its checkpoint; a
 * SIGSTOPped member is voted out and rejoins; a flood of idle
 * connections on one member stalls nobody; kill -9 of the leader
 * elects another (Algorithms 2 to 4). */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catena/can.h"
#include "catena/ledger.h"

#define NODES 4

#define COMPS 3

static ct_devnode chain;
static ct_address registry;
static ct_proc procs[NODES];
static char urls[NODES][64];
static uint16_t ports[NODES];
static ct_proc comps[COMPS]; /* components: tests/tools/test_svc */
static char comp_urls[COMPS][64];

static void start_component(int i)
{
    uint16_t port;
    char *argv[] = {getenv("CATENA_TEST_SVC"), "--port", NULL, NULL};

    if (argv[0] == NULL)
        fail_msg("CATENA_TEST_SVC is not set (run through ctest)");
    ctt_ok(ct_net_free_port(&port));
    argv[2] = (char *)ctt_path("%u", (unsigned)port);
    snprintf(comp_urls[i], sizeof(comp_urls[i]), "http://127.0.0.1:%u", (unsigned)port);
    ctt_spawn(&comps[i], argv, ctt_path("%s/comp%d.log", ctt_tmpdir(), i));
    for (int k = 0; k < 100 && !ct_net_can_connect(port); k++)
        ct_sleep_ms(50);
}

static const char *comp_body(const char *name, int i)
{
    return ctt_path("{\"comp\":\"%s\",\"url\":\"%s\"}", name, comp_urls[i]);
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
                    (char *)ctt_path("127.0.0.1:%u", (unsigned)ports[i]),
                    "--key-env",
                    (char *)ctt_path("CATENA_CAN_KEY_%d", i),
                    NULL};

    setenv(ctt_path("CATENA_CAN_KEY_%d", i), ctt_dev_keys[i], 1);
    mkdir(ctt_path("%s/node%d", ctt_tmpdir(), i), 0755);
    ctt_spawn(&procs[i], argv, ctt_path("%s/node%d.log", ctt_tmpdir(), i));
}

static json_t *status_of(int i)
{
    return ctt_can_status(urls[i]);
}

static json_int_t last_of(int i)
{
    json_t *st = status_of(i);
    json_int_t n = st ? json_integer_value(json_object_get(st, "last")) : -1;

    json_decref(st);
    return n;
}

static size_t members_of(int i)
{
    json_t *st = status_of(i);
    size_t n = st ? json_object_size(json_object_get(st, "members")) : 0;

    json_decref(st);
    return n;
}

/* Waits up to 60 s until nodes 0..n-1 have the leader's ledger. */
static void converged(int n)
{
    for (int k = 0; k < 600; k++) {
        json_int_t want = last_of(0);
        bool all = want > 0;
        for (int i = 1; i < n && all; i++)
            all = last_of(i) == want;
        if (all)
            return;
        ct_sleep_ms(100);
    }
    for (int i = 0; i < n; i++)
        print_message("node %d at %lld\n", i, (long long)last_of(i));
    fail_msg("the members did not converge");
}

/* Waits up to 60 s until nodes a and b have the same ledger index. */
static void converged_between(int a, int b)
{
    for (int k = 0; k < 600; k++) {
        json_int_t la = last_of(a);
        if (la > 0 && la == last_of(b))
            return;
        ct_sleep_ms(100);
    }
    fail_msg("nodes %d and %d did not converge", a, b);
}

static long post(int i, const char *path, const char *body, json_t **out)
{
    return ctt_http_timed(out, NULL, "POST", ctt_path("%s%s", urls[i], path), NULL, body, 30000);
}

static int setup(void **state)
{
    ct_sender *s[NODES];
    ct_ledger *reg = NULL;
    json_t *args;
    (void)state;

    ctt_node_start(&chain);
    ctt_ok(ct_ledger_open_contract(&reg, "Registry"));
    for (int i = 0; i < NODES; i++) {
        s[i] = ctt_sender(chain.url, ctt_dev_keys[i]);
        ctt_ok(ct_net_free_port(&ports[i]));
        snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%u", (unsigned)ports[i]);
    }
    args = json_pack("[i, i, i, i]", 3, 5, 1000, 500); /* Nmin 3, Nmax 5 */
    ctt_ok(ct_ledger_deploy_with(reg, s[0], args, &registry, NULL));
    json_decref(args);
    for (int i = 0; i < NODES; i++) {
        args = json_pack("[s]", urls[i]);
        ctt_ok(ct_ledger_transact(reg, s[i], NULL, &registry, NULL, "registerCandidate", args));
        json_decref(args);
    }
    args = json_pack("[s]", ctt_addr(ct_sender_address(s[0])));
    ctt_ok(ct_ledger_transact(reg, s[0], NULL, &registry, NULL, "appointLeader", args));
    json_decref(args);
    for (int i = 0; i < NODES; i++)
        ct_sender_free(s[i]);
    ct_ledger_free(reg);
    for (int i = 0; i < 3; i++)
        start_node(i);
    return 0;
}

/* SIGTERM: each node stops within 15 s and exits 0 (under ASan, without
 * leaks). */
static int teardown(void **state)
{
    int bad = 0;
    (void)state;

    for (int i = 0; i < NODES; i++)
        if (procs[i].pid > 0)
            kill(procs[i].pid, SIGTERM);
    for (int i = 0; i < NODES; i++) {
        int status = -1;
        pid_t done = 0;
        if (procs[i].pid <= 0)
            continue;
        for (int k = 0; k < 150 && (done = waitpid(procs[i].pid, &status, WNOHANG)) == 0; k++)
            ct_sleep_ms(100);
        if (done == 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            print_message("node %d did not stop cleanly (status %d); see %s/node%d.log\n", i,
                          status, ctt_tmpdir(), i);
            bad++;
        }
        if (done == 0)
            ctt_stop(&procs[i]);
        else
            ctt_reaped(&procs[i]);
    }
    for (int i = 0; i < COMPS; i++)
        if (comps[i].pid > 0)
            ctt_stop(&comps[i]);
    ctt_node_stop(&chain);
    return bad ? -1 : 0;
}

static void members_join_and_follow(void **state)
{
    ct_ledger *reg = NULL;
    ct_rpc *rpc = NULL;
    json_t *out = NULL, *st, *none = json_array();
    (void)state;

    for (int k = 0; k < 600 && members_of(0) < 3; k++)
        ct_sleep_ms(100);
    assert_int_equal(members_of(0), 3);
    converged(3);
    st = status_of(1);
    assert_string_equal(json_string_value(json_object_get(st, "role")), "follower");
    assert_string_equal(json_string_value(json_object_get(st, "leader_url")), urls[0]);
    json_decref(st);
    /* The Registry has them too. */
    ctt_ok(ct_ledger_open_contract(&reg, "Registry"));
    ctt_ok(ct_rpc_new(&rpc, chain.url, 5000));
    ctt_ok(ct_ledger_read(reg, rpc, &out, &registry, "memberCount", none));
    json_decref(none);
    assert_string_equal(json_string_value(json_array_get(out, 0)), "3");
    json_decref(out);
    ct_rpc_free(rpc);
    ct_ledger_free(reg);
}

/* The command line: status as JSON and as text; bad input to run. */
static void status_and_bad_input(void **state)
{
    ctt_run r;
    json_t *v = NULL;
    (void)state;

    {
        const char *args[] = {"can", "status", "--url", urls[1], "--json", NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 0);
        ctt_ok(ct_json_parse(&v, r.out, strlen(r.out), 16));
        assert_string_equal(json_string_value(json_object_get(v, "role")), "follower");
        assert_int_equal(json_object_size(json_object_get(v, "members")), 3);
        json_decref(v);
        ctt_run_free(&r);
    }
    {
        const char *args[] = {"can", "status", "--url", urls[0], NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 0);
        assert_non_null(strstr(r.out, "(leader)"));
        assert_non_null(strstr(r.out, urls[2]));
        ctt_run_free(&r);
    }
    {
        const char *args[] = {"can", "status", "--url", "http://127.0.0.1:1", NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 1);
        ctt_run_free(&r);
    }
    {
        const char *args[] = {"can", "run", "--dir", ctt_tmpdir(), "--rpc", chain.url, NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, "--registry"));
        ctt_run_free(&r);
    }
    {
        const char *args[] = {"can",        "run",  "--dir",     ctt_tmpdir(), "--rpc", chain.url,
                              "--registry", "0x12", "--key-env", "NOPE",       NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, "--registry"));
        ctt_run_free(&r);
    }
}

static void algorithm_1_refuses_a_surplus(void **state)
{
    json_int_t before = last_of(0);
    json_t *st;
    (void)state;

    /* Nmin = 3 members and nobody left: a fourth is not taken. */
    start_node(3);
    ct_sleep_ms(3000);
    assert_int_equal(members_of(0), 3);
    assert_int_equal(last_of(0), before);
    st = status_of(3);
    assert_non_null(st);
    assert_null(json_object_get(json_object_get(st, "members"),
                                json_string_value(json_object_get(st, "self"))));
    json_decref(st);
    ctt_stop(&procs[3]);
}

static void work_and_checkpoints(void **state)
{
    json_t *out = NULL, *st;
    json_int_t before;
    const char *digest;
    char dig[67];
    (void)state;

    /* A follower refuses writes and names the leader. */
    for (int i = 0; i < COMPS; i++)
        start_component(i);
    assert_int_equal(post(1, "/can/component", comp_body("o1", 0), &out), 421);
    assert_string_equal(json_string_value(json_object_get(out, "leader_url")), urls[0]);
    json_decref(out);
    /* A component the leader cannot reach is not registered. */
    assert_int_equal(
        post(0, "/can/component", "{\"comp\":\"ox\",\"url\":\"http://127.0.0.1:1\"}", &out), 400);
    json_decref(out);
    assert_int_equal(post(0, "/can/component", comp_body("o1", 0), &out), 200);
    json_decref(out);
    assert_int_equal(post(0, "/can/component", comp_body("o2", 1), &out), 200);
    json_decref(out);
    assert_int_equal(post(0, "/can/work", "{\"work\":\"0xapp\",\"description\":\"t\"}", &out), 200);
    json_decref(out);
    st = status_of(0);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(st, "works"), "0xapp"), "comp")),
                        "o1");
    json_decref(st);

    /* Bad input changes nothing. */
    before = last_of(0);
    assert_int_equal(post(0, "/can/work", "{not json", &out), 400);
    json_decref(out);
    assert_int_equal(post(0, "/can/checkpoint",
                          "{\"work\":\"0xapp\",\"comp\":\"o2\",\"data\":\"0x0102\"}", &out),
                     403); /* o1 holds the work */
    json_decref(out);
    assert_int_equal(
        post(0, "/can/checkpoint", "{\"work\":\"0xapp\",\"comp\":\"o1\",\"data\":7}", &out), 400);
    json_decref(out);
    assert_int_equal(last_of(0), before);
    /* Only the Registry's leader writes a follower's ledger: an append
     * without its signature is refused. */
    assert_int_equal(post(1, "/can/append",
                          ctt_path("{\"entries\":[{\"type\":\"REMOVE\",\"node\":\"x\","
                                   "\"index\":%lld,\"nonce_of_leader\":0}]}",
                                   (long long)before + 1),
                          &out),
                     403);
    json_decref(out);
    out = NULL;
    {
        /* Node 1 holds no such entry (the leader may have written others
         * meanwhile: a late join, say). */
        json_t *e;
        size_t i;
        assert_int_equal(
            ctt_http_timed(&out, NULL, "GET",
                           ctt_path("%s/can/log?from=%lld", urls[1], (long long)before), NULL, NULL,
                           5000),
            200);
        json_array_foreach (json_object_get(out, "entries"), i, e)
            assert_false(strcmp(json_string_value(json_object_get(e, "type")), "REMOVE") == 0 &&
                         strcmp(json_string_value(json_object_get(e, "node")) ?: "", "x") == 0);
        json_decref(out);
    }

    /* A checkpoint: stored by digest, fetched by the members. */
    assert_int_equal(post(0, "/can/checkpoint",
                          "{\"work\":\"0xapp\",\"comp\":\"o1\",\"data\":\"0x53455256494345\"}",
                          &out),
                     200);
    json_decref(out);
    out = NULL;
    ct_can_digest(dig, "SERVICE", 7);
    digest = ctt_path("%s", dig);
    converged(3);
    for (int i = 1; i < 3; i++) {
        long code = 0;
        for (int k = 0; k < 100 && code != 200; k++) {
            json_decref(out);
            out = NULL;
            code = ctt_http_timed(&out, NULL, "GET", ctt_path("%s/can/blob/%s", urls[i], digest),
                                  NULL, NULL, 5000);
            if (code != 200)
                ct_sleep_ms(100);
        }
        assert_int_equal(code, 200);
        assert_string_equal(json_string_value(json_object_get(out, "data")), "0x53455256494345");
        json_decref(out);
        out = NULL;
    }
}

static void a_killed_member_catches_up(void **state)
{
    json_t *out = NULL;
    int status = 0;
    (void)state;

    assert_true(procs[2].pid > 0);
    assert_int_equal(kill(procs[2].pid, SIGKILL), 0);
    waitpid(procs[2].pid, &status, 0);
    ctt_reaped(&procs[2]);
    assert_int_equal(post(0, "/can/component", comp_body("o3", 2), &out), 200);
    json_decref(out);
    assert_int_equal(post(0, "/can/work", "{\"work\":\"0xapp2\",\"description\":\"t\"}", &out),
                     200);
    json_decref(out);
    start_node(2);
    /* While it was down the others may have voted it out (Algorithm 2);
     * then it joins again (below Nmin). Either way it ends a member with
     * the leader's ledger. */
    for (int k = 0; k < 600 && (members_of(0) != 3 || members_of(2) != 3); k++)
        ct_sleep_ms(100);
    converged(3);
    assert_int_equal(members_of(0), 3);
    assert_int_equal(members_of(2), 3);
}

static json_t *works_of(int i)
{
    json_t *st = status_of(i), *w = json_incref(json_object_get(st, "works"));

    json_decref(st);
    return w;
}

/* A member that alone says another is down does not get it removed. */
static void a_lone_accuser_removes_nobody(void **state)
{
    json_t *st = status_of(1), *out = NULL;
    const char *victim = json_string_value(json_object_get(st, "self"));
    (void)state;

    assert_int_equal(post(0, "/can/remove", ctt_path("{\"node\":\"%s\"}", victim), &out), 200);
    assert_false(json_is_true(json_object_get(out, "removed")));
    assert_int_equal(json_integer_value(json_object_get(out, "down")), 0);
    json_decref(out);
    json_decref(st);
    assert_int_equal(members_of(0), 3);
}

/* A failed component is voted out and its work, with its checkpoint, goes
 * to another. */
static void a_dead_component_loses_its_work(void **state)
{
    json_t *w;
    const char *comp;
    (void)state;

    w = works_of(0);
    comp = json_string_value(json_object_get(json_object_get(w, "0xapp"), "comp"));
    assert_string_equal(comp, "o1");
    json_decref(w);
    ctt_stop(&comps[0]);
    for (int k = 0; k < 300; k++) {
        w = works_of(0);
        comp = json_string_value(json_object_get(json_object_get(w, "0xapp"), "comp"));
        if (comp != NULL && strcmp(comp, "o1") != 0)
            break;
        json_decref(w);
        w = NULL;
        ct_sleep_ms(100);
    }
    assert_non_null(w);
    assert_int_equal(json_array_size(json_object_get(json_object_get(w, "0xapp"), "checkpoints")),
                     1);
    json_decref(w);
}

/* SIGSTOP: the others see it down, a majority removes it (Registry too);
 * resumed, it asks to join again and, below Nmin, is taken back. */
static void a_stopped_member_is_voted_out(void **state)
{
    int64_t t0 = ct_time_mono_ms();
    (void)state;

    ctt_freeze(procs[2].pid, false);
    for (int k = 0; k < 600 && members_of(0) != 2; k++)
        ct_sleep_ms(100);
    assert_int_equal(members_of(0), 2);
    print_message("[ time ] stopped member removed %.1f s after SIGSTOP\n",
                  (double)(ct_time_mono_ms() - t0) / 1000);
    assert_int_equal(kill(procs[2].pid, SIGCONT), 0);
    for (int k = 0; k < 600 && members_of(0) != 3; k++)
        ct_sleep_ms(100);
    assert_int_equal(members_of(0), 3);
    converged(3);
}

/* A flood of slow clients on one member (more idle connections than its
 * server takes, held for 12 s): the leader and the other member answer at
 * once and writes are acknowledged as before; afterwards the flooded
 * member is a member again (or rejoins) and has the ledger. */
static void a_flooded_member_stalls_nobody(void **state)
{
    enum { FLOOD = 300 };
    int fds[FLOOD], open_fds = 0;
    int64_t t0, worst = 0;
    (void)state;

    for (int i = 0; i < FLOOD; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(ports[2])};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[i] >= 0 && connect(fds[i], (struct sockaddr *)&a, sizeof(a)) == 0)
            open_fds++;
    }
    print_message("[ info ] %d idle connections to node 2\n", open_fds);
    t0 = ct_time_mono_ms();
    for (int k = 0; ct_time_mono_ms() - t0 < 12000; k++) {
        json_t *out = NULL;
        int64_t ms = 0;
        long st =
            ctt_http_timed(&out, &ms, "POST", ctt_path("%s/can/work", urls[0]), NULL,
                           ctt_path("{\"work\":\"flood-%d\",\"description\":\"d\"}", k), 10000);
        json_decref(out);
        assert_int_equal(st, 200);
        worst = ms > worst ? ms : worst;
        assert_int_equal(
            ctt_http_timed(NULL, &ms, "GET", ctt_path("%s/health", urls[1]), NULL, NULL, 2000),
            200);
        ct_sleep_ms(500);
    }
    print_message("[ time ] slowest write during the flood: %lld ms\n", (long long)worst);
    assert_true(worst < 5000);
    for (int i = 0; i < FLOOD; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    for (int k = 0; k < 600 && members_of(0) != 3; k++)
        ct_sleep_ms(100);
    assert_int_equal(members_of(0), 3);
    converged(3);
}

/* kill -9 of the leader: a follower is elected with nonce 1 on the
 * Registry and serves writes within 30 s. */
static void the_leader_is_replaced(void **state)
{
    int64_t t0;
    json_t *out = NULL, *none = json_array();
    ct_ledger *reg = NULL;
    ct_rpc *rpc = NULL;
    int leader = -1, status = 0;
    (void)state;

    ctt_ok(ct_ledger_open_contract(&reg, "Registry"));
    ctt_ok(ct_rpc_new(&rpc, chain.url, 5000));
    t0 = ct_time_mono_ms();
    assert_true(procs[0].pid > 0);
    assert_int_equal(kill(procs[0].pid, SIGKILL), 0);
    waitpid(procs[0].pid, &status, 0);
    ctt_reaped(&procs[0]);
    for (int k = 0; k < 300 && leader < 0; k++) {
        for (int i = 1; i < 3 && leader < 0; i++) {
            json_t *st = status_of(i);
            if (st != NULL &&
                strcmp(json_string_value(json_object_get(st, "role")), "leader") == 0 &&
                json_integer_value(json_object_get(st, "nonce")) == 1)
                leader = i;
            json_decref(st);
        }
        if (leader < 0)
            ct_sleep_ms(100);
    }
    if (leader < 0)
        fail_msg("no new leader within 30 s of the leader's kill -9");
    ctt_ok(ct_ledger_read(reg, rpc, &out, &registry, "leaderNonce", none));
    assert_string_equal(json_string_value(json_array_get(out, 0)), "1");
    json_decref(out);
    out = NULL;
    /* It serves: a write is stored by both remaining members. */
    assert_int_equal(post(leader, "/can/work", "{\"work\":\"0xapp3\",\"description\":\"t\"}", &out),
                     200);
    json_decref(out);
    print_message("[ time ] kill -9 of the leader to a new leader serving writes: %.1f s\n",
                  (double)(ct_time_mono_ms() - t0) / 1000);
    converged_between(1, 2);
    json_decref(none);
    ct_rpc_free(rpc);
    ct_ledger_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(members_join_and_follow),
        cmocka_unit_test(status_and_bad_input),
        cmocka_unit_test(algorithm_1_refuses_a_surplus),
        cmocka_unit_test(work_and_checkpoints),
        cmocka_unit_test(a_killed_member_catches_up),
        cmocka_unit_test(a_lone_accuser_removes_nobody),
        cmocka_unit_test(a_dead_component_loses_its_work),
        cmocka_unit_test(a_stopped_member_is_voted_out),
        cmocka_unit_test(a_flooded_member_stalls_nobody),
        cmocka_unit_test(the_leader_is_replaced),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
