/* `catena orch run` end to end: bad input leaves nothing behind; a run
 * deploys, kill -9 of the orchestrator leaves the services running, a
 * second run on the same directory continues from the journal without
 * redeploying them, a concurrent run is refused, SIGTERM shuts the
 * application down, and a later run starts it afresh. */
#include "harness.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "catena/util.h"

static pid_t services[64];
static size_t n_services;

static void kill_services(void)
{
    for (size_t i = 0; i < n_services; i++)
        kill(-services[i], SIGKILL);
}

static const char *write_app(void)
{
    const char *svc = getenv("CATENA_TEST_SVC");
    const char *path = ctt_path("%s/app.yaml", ctt_tmpdir());
    const char *text;

    if (svc == NULL)
        fail_msg("CATENA_TEST_SVC is not set (run through ctest)");
    text = ctt_path("tosca_definitions_version: tosca_simple_yaml_1_3\n"
                    "topology_template:\n"
                    "  node_templates:\n"
                    "    frontend:\n"
                    "      type: catena.nodes.Service\n"
                    "      properties: {command: [%s, --port, '{port}'], health: /health}\n"
                    "      requirements: [{dependency: backend}]\n"
                    "    backend:\n"
                    "      type: catena.nodes.Service\n"
                    "      properties: {command: [%s], health: /health}\n",
                    svc, svc);
    ctt_ok(ct_file_write_atomic(path, text, strlen(text), 0644));
    return path;
}

/* The journal's checkpoints (a JSON array; torn last line dropped). */
static json_t *journal(const char *dir)
{
    json_t *all = json_array();
    char *text = NULL, *line, *nl;

    if (ct_file_read(&text, NULL, ctt_path("%s/checkpoints.jsonl", dir), 1 << 24) < 0) {
        ct_error_clear();
        return all;
    }
    for (line = text; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        json_t *v = json_loadb(line, (size_t)(nl - line), 0, NULL);
        if (v != NULL)
            json_array_append_new(all, v);
    }
    free(text);
    return all;
}

static size_t count_type(const json_t *cps, const char *type, size_t from)
{
    size_t n = 0;

    for (size_t i = from; i < json_array_size(cps); i++)
        n += strcmp(json_string_value(json_object_get(json_array_get(cps, i), "type")), type) == 0;
    return n;
}

/* Waits up to 30 s until the journal holds more than `after` entries of
 * type. Returns: the journal then. */
static json_t *wait_type(const char *dir, const char *type, size_t after)
{
    for (int k = 0; k < 300; k++) {
        json_t *cps = journal(dir);
        if (count_type(cps, type, 0) > after)
            return cps;
        json_decref(cps);
        ct_sleep_ms(100);
    }
    fail_msg("no new %s in %s/checkpoints.jsonl", type, dir);
    return NULL;
}

static void start_orch(ct_proc *p, const char *app, const char *dir)
{
    char *argv[] = {(char *)ctt_catena_bin(),
                    "orch",
                    "run",
                    (char *)app,
                    "--dir",
                    (char *)dir,
                    "--ok-interval",
                    "1",
                    "--check-ms",
                    "200",
                    "--id",
                    "e2e",
                    "--json",
                    NULL};

    ctt_spawn(p, argv, ctt_path("%s/orch.out", ctt_tmpdir()));
}

/* SIGTERM and the exit status, waiting up to 30 s. */
static int term_orch(ct_proc *p)
{
    int status = 0;

    kill(p->pid, SIGTERM);
    for (int k = 0; k < 300 && waitpid(p->pid, &status, WNOHANG) == 0; k++)
        ct_sleep_ms(100);
    if (!WIFEXITED(status) && !WIFSIGNALED(status))
        fail_msg("catena orch run did not stop within 30 s of SIGTERM");
    ctt_reaped(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static pid_t up_pid(const json_t *cps, const char *service)
{
    pid_t pid = 0;

    for (size_t i = 0; i < json_array_size(cps); i++) {
        const json_t *c = json_array_get(cps, i);
        if (strcmp(json_string_value(json_object_get(c, "type")), "SERVICE_UP") == 0 &&
            strcmp(json_string_value(json_object_get(c, "service")), service) == 0)
            pid = (pid_t)json_integer_value(json_object_get(c, "pid"));
    }
    if (pid > 0 && n_services < 64)
        services[n_services++] = pid;
    return pid;
}

static bool gone_soon(pid_t pid)
{
    for (int k = 0; k < 200 && kill(pid, 0) == 0; k++)
        ct_sleep_ms(50);
    return kill(pid, 0) != 0;
}

static void bad_input_leaves_nothing(void **state)
{
    const char *bad = ctt_path("%s/bad.yaml", ctt_tmpdir());
    const char *none = ctt_path("%s/none.yaml", ctt_tmpdir());
    const char *dir = ctt_path("%s/never", ctt_tmpdir());
    struct stat st;
    ctt_run r;
    (void)state;

    static const char bad_text[] = "tosca_definitions_version: tosca_simple_yaml_1_3\n"
                                   "topology_template:\n  node_templates:\n"
                                   "    a: {type: catena.nodes.Service, properties: {port: 1}}\n";
    static const char none_text[] = "tosca_definitions_version: tosca_simple_yaml_1_3\n"
                                    "topology_template:\n  node_templates:\n"
                                    "    a: {type: tosca.nodes.Compute}\n";

    ctt_ok(ct_file_write_atomic(bad, bad_text, strlen(bad_text), 0644));
    ctt_ok(ct_file_write_atomic(none, none_text, strlen(none_text), 0644));
    {
        const char *args[] = {"orch", "run", bad, "--dir", dir, NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, "command"));
        ctt_run_free(&r);
    }
    {
        const char *args[] = {"orch", "run", none, "--dir", dir, NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, "no node of type catena.nodes.Service"));
        ctt_run_free(&r);
    }
    {
        const char *args[] = {"orch", "run", none, NULL};
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_non_null(strstr(r.err, "--dir"));
        ctt_run_free(&r);
    }
    assert_int_not_equal(stat(dir, &st), 0); /* nothing created */
}

static void survives_its_own_crash(void **state)
{
    const char *app = write_app();
    const char *dir = ctt_path("%s/run", ctt_tmpdir());
    ct_proc o1, o2, o3;
    json_t *cps;
    pid_t back, front;
    size_t ups, oks;
    (void)state;

    start_orch(&o1, app, dir);
    cps = wait_type(dir, "APP_OK", 0);
    back = up_pid(cps, "backend");
    front = up_pid(cps, "frontend");
    assert_true(back > 0 && front > 0);
    json_decref(cps);

    /* A second orchestrator on the same application is refused. */
    {
        const char *args[] = {"orch", "run", app, "--dir", dir, NULL};
        ctt_run r;
        ctt_catena(&r, args);
        assert_int_equal(ctt_exit_code(&r), 1);
        assert_non_null(strstr(r.err, "another orchestrator runs this application"));
        ctt_run_free(&r);
    }

    /* kill -9: the services run on. */
    assert_int_equal(kill(o1.pid, SIGKILL), 0);
    waitpid(o1.pid, NULL, 0);
    ctt_reaped(&o1);
    ct_sleep_ms(300);
    assert_int_equal(kill(back, 0), 0);
    assert_int_equal(kill(front, 0), 0);

    /* A new run continues: APP_OK again, no new SERVICE_UP, same pids. */
    cps = journal(dir);
    ups = count_type(cps, "SERVICE_UP", 0);
    oks = count_type(cps, "APP_OK", 0);
    json_decref(cps);
    start_orch(&o2, app, dir);
    cps = wait_type(dir, "APP_OK", oks);
    assert_int_equal(count_type(cps, "SERVICE_UP", 0), ups);
    assert_int_equal(up_pid(cps, "backend"), back);
    json_decref(cps);

    /* It watches: kill the front end, it comes back. */
    kill(front, SIGKILL);
    cps = wait_type(dir, "SERVICE_UP", ups);
    assert_int_not_equal(up_pid(cps, "frontend"), front);
    front = up_pid(cps, "frontend");
    json_decref(cps);

    /* SIGTERM: exit 0, APP_SHUTDOWN last, the services stopped. */
    assert_int_equal(term_orch(&o2), 0);
    cps = journal(dir);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(cps, json_array_size(cps) - 1), "type")),
        "APP_SHUTDOWN");
    json_decref(cps);
    assert_true(gone_soon(back));
    assert_true(gone_soon(front));

    /* Run again after a clean stop: a fresh deployment. */
    cps = journal(dir);
    ups = count_type(cps, "SERVICE_UP", 0);
    oks = count_type(cps, "APP_OK", 0);
    json_decref(cps);
    start_orch(&o3, app, dir);
    cps = wait_type(dir, "APP_OK", oks);
    assert_int_equal(count_type(cps, "SERVICE_UP", 0), ups + 2);
    back = up_pid(cps, "backend");
    json_decref(cps);
    assert_int_equal(term_orch(&o3), 0);
    assert_true(gone_soon(back));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_input_leaves_nothing),
        cmocka_unit_test(survives_its_own_crash),
    };

    atexit(kill_services);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
