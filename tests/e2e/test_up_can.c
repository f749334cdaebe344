/* `catena up --can 3 --orchestrators 2`: federation.json names the
 * Registry, the Cloud, the CAN nodes and the orchestrators; an
 * application deployed with the command `catena up` prints runs (SERVICE_UP
 * of both services, APP_OK on chain); Ctrl-C stops every process of the
 * CAN, the services go on; run again on the same DIR it resumes the same
 * CAN and the orchestrator keeps the running services (no new SERVICE_UP);
 * `catena app stop` ends with APP_SHUTDOWN. */
#include "harness.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static const char *dir;

static json_t *show(const json_t *fed, const char *app)
{
    return ctt_app_show(json_string_value(json_object_get(fed, "rpc_url")), app);
}

/* How many checkpoints of type the application has on chain. */
static size_t count(const json_t *doc, const char *type)
{
    const json_t *cp;
    size_t i, n = 0;

    json_array_foreach (json_object_get(doc, "checkpoints"), i, cp)
        n += strcmp(json_string_value(json_object_get(cp, "type")), type) == 0;
    return n;
}

/* Waits up to 60 s until the application has at least n checkpoints of
 * type on chain. */
static void wait_count(const json_t *fed, const char *app, const char *type, size_t n)
{
    for (int k = 0; k < 200; k++) {
        json_t *doc = show(fed, app);
        size_t have = count(doc, type);
        json_decref(doc);
        if (have >= n)
            return;
        ct_sleep_ms(300);
    }
    fail_msg("fewer than %zu %s checkpoints on chain after 60 s", n, type);
}

/* Waits until the up log says it is ready (a resumed DIR has its
 * federation.json from the start). */
static json_t *wait_ready(ct_proc *up)
{
    char *text = NULL;
    json_t *fed = NULL;

    for (int i = 0; i < 3000; i++) {
        free(text);
        text = NULL;
        if (ct_file_read(&text, NULL, ctt_path("%s.log", dir), 1 << 20) == 0 &&
            strstr(text, "press Ctrl-C") != NULL)
            break;
        if (!ct_proc_alive(up))
            fail_msg("catena up exited: %s", text ? text : "");
        ct_sleep_ms(100);
    }
    free(text);
    text = NULL;
    ctt_ok(ct_file_read(&text, NULL, ctt_path("%s/federation.json", dir), 1 << 20));
    ctt_ok(ct_json_parse(&fed, text, strlen(text), 16));
    free(text);
    return fed;
}

static void stop_up(ct_proc *up, const json_t *fed)
{
    int status;
    const json_t *m;
    size_t i;

    assert_true(up->pid > 0);
    kill(up->pid, SIGINT);
    assert_int_equal(waitpid(up->pid, &status, 0), up->pid);
    ctt_reaped(up);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Every CAN process is gone. */
    json_array_foreach (json_object_get(fed, "can"), i, m)
        assert_int_not_equal(kill((pid_t)json_integer_value(json_object_get(m, "pid")), 0), 0);
    json_array_foreach (json_object_get(fed, "orchestrators"), i, m)
        assert_int_not_equal(kill((pid_t)json_integer_value(json_object_get(m, "pid")), 0), 0);
}

/* The named accounts of federation.json act in `catena agreement`: offer
 * as provider and accept as user by default, --as for the others. */
static void agreement_as_accounts(const json_t *fed)
{
    const json_t *accounts = json_object_get(fed, "accounts");
    const char *addr;
    json_t *out = NULL;
    ctt_run r;

    assert_int_equal(json_array_size(accounts), 5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(accounts, 0), "name")),
                        "provider");
    {
        const char *args[] = {"agreement",     "offer", "--kind",   "dynamic", "--price", "1000",
                              "--max-seconds", "600",   "--up-dir", dir,       "--json",  NULL};
        ctt_catena(&r, args);
        if (ctt_exit_code(&r) != 0)
            fail_msg("agreement offer: %s", r.err);
        ctt_ok(ct_json_parse(&out, r.out, strlen(r.out), 4));
        ctt_run_free(&r);
        addr = ctt_path("%s", json_string_value(json_object_get(out, "agreement")));
        json_decref(out);
    }
    {
        const char *args[] = {"agreement", "accept",   addr, "--deposit",
                              "1000",      "--up-dir", dir,  NULL};
        ctt_catena(&r, args);
        if (ctt_exit_code(&r) != 0)
            fail_msg("agreement accept: %s", r.err);
        ctt_run_free(&r);
    }
    {
        const char *args[] = {"agreement", "stop", addr, "--as", "party1", "--up-dir", dir, NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, "= NotUser()"));
        ctt_run_free(&r);
    }
    {
        const char *args[] = {"agreement", "show", addr, "--up-dir", dir, "--json", NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 0);
        ctt_ok(ct_json_parse(&out, r.out, strlen(r.out), 16));
        ctt_run_free(&r);
        assert_true(strcasecmp(json_string_value(json_object_get(out, "provider")),
                               json_string_value(
                                   json_object_get(json_array_get(accounts, 0), "address"))) == 0);
        assert_true(strcasecmp(json_string_value(json_object_get(out, "user")),
                               json_string_value(
                                   json_object_get(json_array_get(accounts, 1), "address"))) == 0);
        assert_string_equal(json_string_value(json_object_get(out, "state")), "active");
        json_decref(out);
    }
}

static void can_up_deploy_resume(void **state)
{
    const char *extra[] = {"--can", "3", "--orchestrators", "2", NULL};
    const char *svc = getenv("CATENA_TEST_SVC"), *app_path, *text, *app;
    ct_proc up;
    json_t *fed = NULL, *fed2, *doc, *out = NULL;
    size_t ups;
    ctt_run r;
    (void)state;

    if (svc == NULL)
        fail_msg("CATENA_TEST_SVC is not set (run through ctest)");
    dir = ctt_path("%s/up", ctt_tmpdir());
    if (ctt_up_start_args(&up, &fed, dir, extra) < 0)
        fail_msg("catena up --can did not start");
    json_decref(fed);
    fed = wait_ready(&up);
    assert_int_equal(json_array_size(json_object_get(fed, "can")), 3);
    assert_int_equal(json_array_size(json_object_get(fed, "orchestrators")), 2);
    assert_non_null(json_string_value(json_object_get(fed, "registry")));
    assert_non_null(json_string_value(json_object_get(fed, "cloud")));

    app_path = ctt_path("%s/app.yaml", ctt_tmpdir());
    text = ctt_path("tosca_definitions_version: tosca_simple_yaml_1_3\n"
                    "topology_template:\n"
                    "  node_templates:\n"
                    "    backend:\n"
                    "      type: catena.nodes.Service\n"
                    "      properties: {command: [%s, --tag, %s], health: /health}\n"
                    "    frontend:\n"
                    "      type: catena.nodes.Service\n"
                    "      properties: {command: [%s, --tag, %s, --port, '{port}'], health: /}\n"
                    "      requirements: [{dependency: backend}]\n",
                    svc, ctt_tmpdir(), svc, ctt_tmpdir());
    ctt_ok(ct_file_write_atomic(app_path, text, strlen(text), 0644));
    {
        const json_t *dc1 = json_array_get(json_object_get(fed, "datacenters"), 0);
        const char *args[] = {"app",
                              "deploy",
                              app_path,
                              "--rpc",
                              json_string_value(json_object_get(fed, "rpc_url")),
                              "--can",
                              json_string_value(json_object_get(
                                  json_array_get(json_object_get(fed, "can"), 1), "url")),
                              "--cloud",
                              json_string_value(json_object_get(fed, "cloud")),
                              "--deposit",
                              "1000000000000000000",
                              "--key-file",
                              json_string_value(json_object_get(dc1, "key_file")),
                              "--password-file",
                              ctt_path("%s/keys/password", dir),
                              "--scheduler-key-file",
                              json_string_value(json_object_get(fed, "scheduler_key_file")),
                              "--json",
                              NULL};
        ctt_catena(&r, args);
        if (ctt_exit_code(&r) != 0)
            fail_msg("catena app deploy: %s", r.err);
        ctt_ok(ct_json_parse(&out, r.out, strlen(r.out), 4));
        ctt_run_free(&r);
    }
    app = ctt_path("%s", json_string_value(json_object_get(out, "app")));
    json_decref(out);
    wait_count(fed, app, "SERVICE_UP", 2);
    wait_count(fed, app, "APP_OK", 1);
    {
        const char *args[] = {
            "can",
            "status",
            "--url",
            json_string_value(json_object_get(json_array_get(json_object_get(fed, "can"), 0), "ur"
                                                                                              "l")),
            "--json",
            NULL};
        json_t *st = NULL;
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 0);
        ctt_ok(ct_json_parse(&st, r.out, strlen(r.out), 16));
        assert_int_equal(json_object_size(json_object_get(st, "components")), 2);
        assert_non_null(json_object_get(json_object_get(st, "works"), app));
        json_decref(st);
        ctt_run_free(&r);
    }
    doc = show(fed, app);
    ups = count(doc, "SERVICE_UP");
    json_decref(doc);
    agreement_as_accounts(fed);

    stop_up(&up, fed);
    /* The first run's log says it was ready: keep it aside. */
    assert_int_equal(rename(ctt_path("%s.log", dir), ctt_path("%s.1.log", dir)), 0);
    ctt_ok(ctt_up_start_args(&up, &fed2, dir, NULL) < 0 ? CT_EIO : 0);
    json_decref(fed2);
    fed2 = wait_ready(&up);
    assert_string_equal(json_string_value(json_object_get(fed2, "registry")),
                        json_string_value(json_object_get(fed, "registry")));
    for (int i = 0; i < 3; i++)
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(fed2, "can"), i), "address")),
                            json_string_value(json_object_get(
                                json_array_get(json_object_get(fed, "can"), i), "address")));
    /* The orchestrator takes the application up again and keeps its
     * services: a new APP_OK, no new SERVICE_UP. */
    doc = show(fed2, app);
    {
        size_t oks = count(doc, "APP_OK");
        json_decref(doc);
        wait_count(fed2, app, "APP_OK", oks + 1);
    }
    doc = show(fed2, app);
    assert_int_equal(count(doc, "SERVICE_UP"), ups);
    json_decref(doc);
    {
        const json_t *dc1 = json_array_get(json_object_get(fed2, "datacenters"), 0);
        const char *args[] = {"app",
                              "stop",
                              app,
                              "--rpc",
                              json_string_value(json_object_get(fed2, "rpc_url")),
                              "--key-file",
                              json_string_value(json_object_get(dc1, "key_file")),
                              "--password-file",
                              ctt_path("%s/keys/password", dir),
                              NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 0);
        ctt_run_free(&r);
    }
    wait_count(fed2, app, "APP_SHUTDOWN", 1);
    stop_up(&up, fed2);
    ctt_kill_tagged();
    json_decref(fed);
    json_decref(fed2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(can_up_deploy_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
