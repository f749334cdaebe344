/* The orchestrator loop with the process driver and real services
 * (tests/tools/test_svc.c): dependency order and URLs, a killed service
 * redeployed on its port, retries used up, a stop, a failing command, and
 * a second orchestrator that continues from the checkpoints without
 * redeploying what still runs. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "catena/orch.h"

#define MAX_CPS 256

typedef struct run_ctx {
    ct_orch_plan *plan;
    ct_orch_driver *driver;
    ct_orch_run_opts o;
    atomic_bool stop;
    pthread_t thread;
    int rc;
    pthread_mutex_t mu;
    ct_orch_checkpoint cps[MAX_CPS];
    size_t n;
} run_ctx;

/* Every service pid seen, killed at exit (services outlive orchestrators). */
static pid_t seen[MAX_CPS];
static size_t n_seen;

static void kill_seen(void)
{
    for (size_t i = 0; i < n_seen; i++)
        kill(-seen[i], SIGKILL);
}

static int store(const ct_orch_checkpoint *cp, void *payload)
{
    run_ctx *r = payload;

    pthread_mutex_lock(&r->mu);
    if (r->n < MAX_CPS)
        r->cps[r->n++] = *cp;
    if (cp->kind == CT_ORCH_SERVICE_UP && n_seen < MAX_CPS)
        seen[n_seen++] = (pid_t)cp->inst.pid;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

static const char *app_yaml(const char *front_cmd_extra)
{
    const char *svc = getenv("CATENA_TEST_SVC");
    const char *path = ctt_path("%s/app-%d.yaml", ctt_tmpdir(), rand());
    const char *text;

    if (svc == NULL)
        fail_msg("CATENA_TEST_SVC is not set (run through ctest)");
    text = ctt_path("tosca_definitions_version: tosca_simple_yaml_1_3\n"
                    "topology_template:\n"
                    "  node_templates:\n"
                    "    frontend:\n"
                    "      type: catena.nodes.Service\n"
                    "      properties:\n"
                    "        command: [%s%s, --name, frontend, --port, '{port}']\n"
                    "        health: /health\n"
                    "      requirements: [{dependency: backend}]\n"
                    "    backend:\n"
                    "      type: catena.nodes.Service\n"
                    "      properties: {command: [%s, --name, backend], health: /health}\n",
                    svc, front_cmd_extra, svc);
    ctt_ok(ct_file_write_atomic(path, text, strlen(text), 0644));
    return path;
}

static ct_orch_plan *plan_of(const char *app)
{
    ct_tosca *t = NULL;
    ct_orch_plan *p = NULL;

    ctt_ok(ct_tosca_load(&t, NULL, app, NULL));
    ctt_ok(ct_orch_plan_new(&p, t));
    ct_tosca_free(t);
    return p;
}

static void *run_thread(void *arg)
{
    run_ctx *r = arg;

    r->rc = ct_orch_run(r->plan, r->driver, &r->o);
    return NULL;
}

static run_ctx *start_run(const char *app, const char *id, unsigned retries,
                          const ct_orch_checkpoint *resume, size_t n_resume)
{
    run_ctx *r = calloc(1, sizeof(*r));
    const char *dir = ctt_path("%s/%s-%d", ctt_tmpdir(), id, rand());

    assert_non_null(r);
    assert_int_equal(mkdir(dir, 0755), 0);
    r->plan = plan_of(app);
    ctt_ok(ct_orch_process_driver_new(&r->driver, dir, 15000));
    pthread_mutex_init(&r->mu, NULL);
    r->o = (ct_orch_run_opts){.orchestrator = id,
                              .retries = retries,
                              .ok_interval_ms = 1000,
                              .check_interval_ms = 200,
                              .resume = resume,
                              .n_resume = n_resume,
                              .stop = &r->stop,
                              .store = store,
                              .payload = r};
    assert_int_equal(pthread_create(&r->thread, NULL, run_thread, r), 0);
    return r;
}

/* Frees a run whose thread has been joined. Returns: its result. */
static int free_run(run_ctx *r)
{
    int rc = r->rc;

    ct_orch_driver_free(r->driver);
    ct_orch_plan_free(r->plan);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return rc;
}

/* Stops the loop (if it still runs) and frees it. Returns: its result. */
static int end_run(run_ctx *r)
{
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    return free_run(r);
}

/* Index of the n-th (0-based) checkpoint of kind (for service svc, or any
 * service when svc is SIZE_MAX), waiting up to 30 s; fails otherwise. */
static size_t wait_cp(run_ctx *r, ct_orch_kind kind, size_t svc, int nth)
{
    for (int k = 0; k < 600; k++) {
        int seen_n = 0;
        pthread_mutex_lock(&r->mu);
        for (size_t i = 0; i < r->n; i++)
            if (r->cps[i].kind == kind && (svc == SIZE_MAX || r->cps[i].service == svc) &&
                seen_n++ == nth) {
                pthread_mutex_unlock(&r->mu);
                return i;
            }
        pthread_mutex_unlock(&r->mu);
        ct_sleep_ms(50);
    }
    fail_msg("no %s #%d in %zu checkpoints", ct_orch_kind_name(kind), nth, r->n);
    return 0;
}

static size_t count(run_ctx *r, ct_orch_kind kind)
{
    size_t n = 0;

    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++)
        n += r->cps[i].kind == kind;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static json_t *get_root(const char *url)
{
    json_t *out = NULL;
    long status = 0;

    ctt_ok(ctt_http(&status, &out, "GET", ctt_path("%s/", url), NULL, NULL));
    assert_int_equal(status, 200);
    return out;
}

/* Whether pid runs; reaps it when it is our child (deploy_by_hand). */
static bool alive(pid_t pid)
{
    waitpid(pid, NULL, WNOHANG);
    return ctt_pid_exists(pid) && kill(pid, 0) == 0;
}

static bool gone_soon(pid_t pid)
{
    for (int k = 0; k < 200 && alive(pid); k++)
        ct_sleep_ms(50);
    return !alive(pid);
}

static void deploys_watches_and_stops(void **state)
{
    run_ctx *r = start_run(app_yaml(""), "o1", 2, NULL, 0);
    size_t back = ct_orch_plan_find(r->plan, "backend");
    size_t front = ct_orch_plan_find(r->plan, "frontend");
    ct_orch_instance b1, b2, f1;
    size_t i_up_b, i_up_f, i_ok;
    json_t *doc;
    (void)state;

    /* The back end first; the front end learns its URL. */
    assert_int_equal(back, 0);
    i_up_b = wait_cp(r, CT_ORCH_SERVICE_UP, back, 0);
    i_up_f = wait_cp(r, CT_ORCH_SERVICE_UP, front, 0);
    i_ok = wait_cp(r, CT_ORCH_APP_OK, SIZE_MAX, 0);
    assert_true(i_up_b < i_up_f && i_up_f < i_ok);
    b1 = r->cps[i_up_b].inst;
    f1 = r->cps[i_up_f].inst;
    assert_string_equal(r->cps[i_up_b].orchestrator, "o1");
    assert_non_null(strstr(b1.id, "process:"));
    doc = get_root(f1.url);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "deps"), "BACKEND")),
                        b1.url);
    json_decref(doc);

    /* APP_OK keeps coming while all runs. */
    wait_cp(r, CT_ORCH_APP_OK, SIZE_MAX, 2);

    /* kill -9 of the back end: SERVICE_DOWN, a new process on the same
     * URL, APP_OK again; the front end is left alone. */
    assert_int_equal(kill((pid_t)b1.pid, SIGKILL), 0);
    wait_cp(r, CT_ORCH_SERVICE_DOWN, back, 0);
    b2 = r->cps[wait_cp(r, CT_ORCH_SERVICE_UP, back, 1)].inst;
    assert_string_equal(b2.url, b1.url);
    assert_true(b2.pid != b1.pid);
    assert_string_not_equal(b2.id, b1.id);
    {
        size_t down = wait_cp(r, CT_ORCH_SERVICE_DOWN, back, 0);
        size_t ok_after = down;
        for (int n = 0; ok_after <= down; n++)
            ok_after = wait_cp(r, CT_ORCH_APP_OK, SIZE_MAX, n);
    }
    assert_true(alive((pid_t)f1.pid));
    assert_int_equal(count(r, CT_ORCH_SERVICE_UP), 3);

    /* Stop: both processes end, APP_SHUTDOWN is the last checkpoint. */
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    assert_int_equal(r->cps[r->n - 1].kind, CT_ORCH_APP_SHUTDOWN);
    assert_int_equal(free_run(r), 0);
    assert_true(gone_soon((pid_t)b2.pid));
    assert_true(gone_soon((pid_t)f1.pid));
}

static void retries_run_out(void **state)
{
    run_ctx *r = start_run(app_yaml(""), "o1", 1, NULL, 0);
    size_t front = ct_orch_plan_find(r->plan, "frontend");
    ct_orch_instance f;
    (void)state;

    wait_cp(r, CT_ORCH_APP_OK, SIZE_MAX, 0);
    /* One redeploy is allowed; the second failure shuts the application. */
    f = r->cps[wait_cp(r, CT_ORCH_SERVICE_UP, front, 0)].inst;
    kill((pid_t)f.pid, SIGKILL);
    f = r->cps[wait_cp(r, CT_ORCH_SERVICE_UP, front, 1)].inst;
    kill((pid_t)f.pid, SIGKILL);
    wait_cp(r, CT_ORCH_APP_SHUTDOWN, SIZE_MAX, 0);
    pthread_join(r->thread, NULL);
    assert_int_equal(r->rc, 0);
    assert_false(atomic_load(&r->stop));
    assert_int_equal(r->cps[r->n - 1].kind, CT_ORCH_APP_SHUTDOWN);
    assert_int_equal(count(r, CT_ORCH_SERVICE_DOWN), 2);
    assert_true(gone_soon((pid_t)r->cps[0].inst.pid)); /* the back end too */
    free_run(r);
}

static void a_failing_command_uses_up_retries(void **state)
{
    /* The front end's program does not exist: no SERVICE_UP for it, the
     * back end is stopped, the application is shut down. */
    run_ctx *r = start_run(app_yaml("-missing"), "o1", 1, NULL, 0);
    pid_t back;
    (void)state;

    back = (pid_t)r->cps[wait_cp(r, CT_ORCH_SERVICE_UP, 0, 0)].inst.pid;
    wait_cp(r, CT_ORCH_APP_SHUTDOWN, SIZE_MAX, 0);
    assert_int_equal(count(r, CT_ORCH_SERVICE_UP), 1);
    assert_int_equal(count(r, CT_ORCH_APP_OK), 0);
    assert_true(gone_soon(back));
    assert_int_equal(end_run(r), 0);
}

/* What an orchestrator that died after deploying both services leaves:
 * the services running and their SERVICE_UP checkpoints. */
static size_t deploy_by_hand(ct_orch_checkpoint *cps, const ct_orch_plan *p, const char *dir)
{
    ct_orch_instance running[2];
    ct_orch_driver *d = NULL;

    memset(running, 0, sizeof(running));
    assert_int_equal(p->n, 2);
    ctt_ok(ct_orch_process_driver_new(&d, dir, 15000));
    for (size_t k = 0; k < p->n; k++) {
        ctt_ok(d->start(d, &running[k], p, k, running));
        seen[n_seen++] = (pid_t)running[k].pid;
        cps[k] = (ct_orch_checkpoint){.kind = CT_ORCH_SERVICE_UP,
                                      .time_ms = ct_time_now_ms(),
                                      .service = (uint32_t)k,
                                      .orchestrator = "o1",
                                      .inst = running[k]};
    }
    cps[2] = (ct_orch_checkpoint){.kind = CT_ORCH_APP_OK, .time_ms = ct_time_now_ms()};
    ct_orch_driver_free(d); /* the services run on */
    return 3;
}

static void a_second_orchestrator_continues(void **state)
{
    const char *app = app_yaml("");
    ct_orch_checkpoint cps[4];
    ct_orch_plan *p = plan_of(app);
    size_t n, back, front;
    run_ctx *r2;
    (void)state;

    n = deploy_by_hand(cps, p, ctt_tmpdir());
    back = ct_orch_plan_find(p, "backend");
    front = ct_orch_plan_find(p, "frontend");
    ct_orch_plan_free(p);

    /* With both still healthy, o2 records only APP_OK. */
    r2 = start_run(app, "o2", 2, cps, n);
    wait_cp(r2, CT_ORCH_APP_OK, SIZE_MAX, 0);
    assert_int_equal(r2->cps[0].kind, CT_ORCH_APP_OK);
    assert_string_equal(r2->cps[0].orchestrator, "o2");

    /* The back end dies while o2 watches: o2 redeploys it on its URL. */
    kill((pid_t)cps[back].inst.pid, SIGKILL);
    assert_int_equal(r2->cps[wait_cp(r2, CT_ORCH_SERVICE_DOWN, SIZE_MAX, 0)].service, back);
    assert_string_equal(r2->cps[wait_cp(r2, CT_ORCH_SERVICE_UP, SIZE_MAX, 0)].inst.url,
                        cps[back].inst.url);
    assert_int_equal(count(r2, CT_ORCH_SERVICE_UP), 1);
    assert_true(alive((pid_t)cps[front].inst.pid));
    assert_int_equal(end_run(r2), 0);
    assert_true(gone_soon((pid_t)cps[front].inst.pid));
}

static void a_dead_service_is_redeployed_on_resume(void **state)
{
    const char *app = app_yaml("");
    ct_orch_checkpoint cps[4];
    ct_orch_plan *p = plan_of(app);
    size_t n, back;
    run_ctx *r2;
    (void)state;

    n = deploy_by_hand(cps, p, ctt_tmpdir());
    back = ct_orch_plan_find(p, "backend");
    ct_orch_plan_free(p);
    /* The back end died while no orchestrator watched. */
    kill((pid_t)cps[back].inst.pid, SIGKILL);
    assert_true(gone_soon((pid_t)cps[back].inst.pid));

    r2 = start_run(app, "o2", 2, cps, n);
    wait_cp(r2, CT_ORCH_APP_OK, SIZE_MAX, 0);
    assert_int_equal(r2->cps[0].kind, CT_ORCH_SERVICE_DOWN);
    assert_int_equal(r2->cps[0].service, back);
    assert_int_equal(r2->cps[1].kind, CT_ORCH_SERVICE_UP);
    assert_int_equal(r2->cps[1].service, back);
    assert_string_equal(r2->cps[1].inst.url, cps[back].inst.url);
    assert_int_equal(count(r2, CT_ORCH_SERVICE_UP), 1);
    assert_int_equal(end_run(r2), 0);
}

static void an_app_shut_down_stays_down(void **state)
{
    const char *app = app_yaml("");
    ct_orch_checkpoint cps[1] = {{.kind = CT_ORCH_APP_SHUTDOWN, .time_ms = 1}};
    run_ctx *r = start_run(app, "o2", 2, cps, 1);
    (void)state;

    pthread_join(r->thread, NULL);
    assert_int_equal(r->n, 0);
    assert_int_equal(free_run(r), 0);
}

/* The driver tells a service by its pid and start time, not by anything
 * that changes while it runs: one that maps more memory is still healthy,
 * and stop() ends it. */
static void a_service_that_grows_is_still_itself(void **state)
{
    const char *dir = ctt_path("%s/grow-%d", ctt_tmpdir(), rand());
    ct_orch_plan *p = plan_of(app_yaml(""));
    ct_orch_instance running[2], inst;
    ct_orch_driver *d = NULL;
    size_t k = ct_orch_plan_find(p, "backend");
    json_t *body = NULL;
    long status = 0;
    (void)state;

    memset(running, 0, sizeof(running));
    assert_int_equal(mkdir(dir, 0755), 0);
    ctt_ok(ct_orch_process_driver_new(&d, dir, 15000));
    ctt_ok(d->start(d, &inst, p, k, running));
    assert_true(inst.pid > 0);
    seen[n_seen++] = (pid_t)inst.pid;
    assert_true(d->healthy(d, &p->services[k], &inst));
    ctt_ok(ct_http_request(&status, &body, "GET", ctt_path("%s/grow", inst.url), NULL, NULL, 5000));
    assert_int_equal(status, 200);
    json_decref(body);
    assert_true(d->healthy(d, &p->services[k], &inst));
    ctt_ok(d->stop(d, &inst));
    /* gone once reaped (it may still be exiting when stop() returns) */
    for (int i = 0; i < 250 && kill((pid_t)inst.pid, 0) == 0; i++) {
        waitpid((pid_t)inst.pid, NULL, WNOHANG);
        ct_sleep_ms(20);
    }
    assert_int_equal(kill((pid_t)inst.pid, 0), -1);
    ct_orch_driver_free(d);
    ct_orch_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deploys_watches_and_stops),
        cmocka_unit_test(a_service_that_grows_is_still_itself),
        cmocka_unit_test(retries_run_out),
        cmocka_unit_test(a_failing_command_uses_up_retries),
        cmocka_unit_test(a_second_orchestrator_continues),
        cmocka_unit_test(a_dead_service_is_redeployed_on_resume),
        cmocka_unit_test(an_app_shut_down_stays_down),
    };

    atexit(kill_seen);
    srand((unsigned)getpid());
    return cmocka_run_group_tests(tests, NULL, NULL);
}
