/* `catena app` on a real chain: an Application with two services and the
 * checkpoints of a short run (added as the CAN leader would); show lists
 * them; pay turns them into salaries (equal to an independent computation
 * from the timestamps); a payee withdraws; the client stops and closes;
 * withdrawals, salaries left and the refund add up to the deposit; bad
 * input is refused. */
#include "harness.h"

#include <string.h>

#include "catena/ledger.h"

#define DEPOSIT 1000000000000000ull /* 0.001 ether */
#define MIN 60000                   /* ms */

static ct_devnode node;
static ctt_app app;
static int64_t t0;
static const char *app_addr;

static void checkpoint(ct_sender *leader, const ct_ledger *l, int kind, int64_t at, int svc,
                       const ct_address *orch)
{
    static int added; /* one application per run: the index each takes */
    json_t *args = json_pack("[i, i, I, i, s]", added++, kind, (json_int_t)at, svc, ctt_addr(orch));

    if (ct_ledger_transact(l, leader, NULL, &app.app, NULL, "addCheckpoint", args) < 0)
        fail_msg("addCheckpoint: %s", ct_error_last());
    json_decref(args);
}

static int setup(void **state)
{
    const char *services[] = {"backend", "frontend"};
    ct_sender *leader;
    ct_ledger *l = NULL;
    (void)state;

    ctt_node_start(&node);
    ctt_app_deploy(&app, node.url, services, 2, DEPOSIT);
    app_addr = ctt_addr(&app.app);
    /* Figure 5.1's run, minutes apart, by two orchestrators (dev keys 1
     * and 2 stand for them): o1 starts the back end, o2 the front end. */
    t0 = ct_time_now_ms() - 10 * MIN;
    leader = ctt_sender(node.url, ctt_dev_keys[0]);
    ctt_ok(ct_ledger_open_contract(&l, "Application"));
    checkpoint(leader, l, 0, t0, 0, ctt_dev_address(1));
    checkpoint(leader, l, 0, t0 + 1 * MIN, 1, ctt_dev_address(2));
    checkpoint(leader, l, 2, t0 + 3 * MIN, 0, ctt_dev_address(2));
    ct_ledger_free(l);
    ct_sender_free(leader);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ctt_node_stop(&node);
    return 0;
}

static json_t *run_json(const char *sub, int key, const char *extra)
{
    const char *args[] = {"app",
                          sub,
                          app_addr,
                          "--rpc",
                          node.url,
                          "--json",
                          key >= 0 ? "--key-env" : extra,
                          key >= 0 ? "CATENA_TEST_KEY" : NULL,
                          key >= 0 ? extra : NULL,
                          NULL};
    const char *env[] = {key >= 0 ? ctt_path("CATENA_TEST_KEY=%s", ctt_dev_keys[key]) : NULL, NULL};
    json_t *out = NULL;
    ctt_run r;

    ctt_catena_env(&r, args, env);
    if (ctt_exit_code(&r) != 0)
        fail_msg("catena app %s: exit %d: %s", sub, ctt_exit_code(&r), r.err);
    ctt_ok(ct_json_parse(&out, r.out, strlen(r.out), 16));
    ctt_run_free(&r);
    return out;
}

static uint64_t salary_of(const json_t *doc, int key)
{
    const json_t *v =
        json_object_get(json_object_get(doc, "salaries"), ctt_addr(ctt_dev_address(key)));

    return v ? ctt_json_u64(v) : 0;
}

static void show_pay_withdraw_stop_close(void **state)
{
    json_t *doc, *out;
    uint64_t withdrawn, refund, registry_pay, cloud_pay, o1, o2, r1, r2;
    (void)state;

    doc = run_json("show", -1, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "running");
    assert_int_equal(json_array_size(json_object_get(doc, "services")), 2);
    assert_int_equal(json_array_size(json_object_get(doc, "checkpoints")), 3);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(doc, "checkpoints"), 1), "service")),
                        "frontend");
    assert_int_equal(ctt_json_u64(json_object_get(doc, "balance")), DEPOSIT);
    assert_int_equal(ctt_json_u64(json_object_get(doc, "paidCount")), 0);
    json_decref(doc);

    /* pay: every checkpoint fits one block. */
    out = run_json("pay", 3, NULL);
    assert_int_equal(ctt_json_u64(json_object_get(out, "k")), 3);
    json_decref(out);
    doc = run_json("show", -1, NULL);
    assert_int_equal(ctt_json_u64(json_object_get(doc, "paidCount")), 3);
    /* Independently: the back end ran 3 minutes (t0 to APP_OK), the front
     * end 2; each service's minutes pay the cloud (100), its resource
     * (50 + 10 i) and the network (1000); the orchestration price (500)
     * goes to the orchestrator of the start, or half to each when two
     * orchestrators are around one interval (backend: o1 started it, o2's
     * APP_OK closed it). Resources: service 0 on dev key 1, 1 on key 2. */
    cloud_pay = 100 * 3 + 100 * 2;
    registry_pay = 1000 * 3 + 1000 * 2;
    r1 = 50 * 3;
    r2 = 60 * 2;
    o1 = 500 * 3 / 2;
    o2 = 500 * 3 / 2 + 500 * 2;
    assert_int_equal(salary_of(doc, 1), r1 + o1);
    assert_int_equal(salary_of(doc, 2), r2 + o2);
    assert_int_equal(
        ctt_json_u64(json_object_get(json_object_get(doc, "salaries"),
                                     json_string_value(json_object_get(doc, "registry")))),
        registry_pay);
    assert_int_equal(salary_of(doc, 0), cloud_pay); /* dev key 0 provides the cloud */
    assert_int_equal(ctt_json_u64(json_object_get(doc, "locked")),
                     cloud_pay + registry_pay + r1 + o1 + r2 + o2);
    json_decref(doc);

    /* The resource owner and orchestrator of dev key 1 withdraws. */
    out = run_json("withdraw", 1, NULL);
    withdrawn = ctt_json_u64(json_object_get(out, "amount"));
    assert_int_equal(withdrawn, r1 + o1);
    json_decref(out);

    /* The client stops; the leader records APP_SHUTDOWN; the client closes. */
    json_decref(run_json("stop", 3, NULL));
    {
        ct_sender *leader = ctt_sender(node.url, ctt_dev_keys[0]);
        ct_ledger *l = NULL;
        ctt_ok(ct_ledger_open_contract(&l, "Application"));
        checkpoint(leader, l, 3, t0 + 4 * MIN, 0, ctt_dev_address(2));
        ct_ledger_free(l);
        ct_sender_free(leader);
    }
    out = run_json("close", 3, NULL);
    refund = ctt_json_u64(json_object_get(out, "refund"));
    json_decref(out);
    doc = run_json("show", -1, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "closed");
    /* What stays is exactly what is promised and not withdrawn. */
    assert_int_equal(ctt_json_u64(json_object_get(doc, "balance")),
                     ctt_json_u64(json_object_get(doc, "locked")));
    assert_int_equal(withdrawn + refund + ctt_json_u64(json_object_get(doc, "locked")), DEPOSIT);
    assert_true(refund > 0);
    json_decref(doc);
}

static void bad_input_is_refused(void **state)
{
    ctt_run r;
    (void)state;

    {
        const char *args[] = {"app", "show", "0x1234", "--rpc", node.url, NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, "not an address"));
        ctt_run_free(&r);
    }
    {
        const char *args[] = {"app",   "show",   "0x000000000000000000000000000000000000dEaD",
                              "--rpc", node.url, NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, "no contract at"));
        ctt_run_free(&r);
    }
    {
        /* Nothing to withdraw for the client; closing twice. */
        const char *args[] = {"app",    "withdraw",  app_addr,          "--rpc",
                              node.url, "--key-env", "CATENA_TEST_KEY", NULL};
        const char *env[] = {ctt_path("CATENA_TEST_KEY=%s", ctt_dev_keys[3]), NULL};
        ctt_catena_env(&r, args, env);
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, "= NothingToWithdraw()"));
        ctt_run_free(&r);
        args[1] = "close";
        ctt_catena_env(&r, args, env);
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, "= AlreadyClosed()"));
        ctt_run_free(&r);
    }
    {
        const char *args[] = {"app", "show", app_addr, "--k", "3", NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, "--k is for pay"));
        ctt_run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(show_pay_withdraw_stop_close),
        cmocka_unit_test(bad_input_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
