/* The gateway's cloud calls where the cloud cannot help: a cloud whose
 * Keystone accepts connections but never answers.
 * - GET /api/usage (seed 001's metering): bad queries are named (401,
 *   400, 404) before any cloud is asked; the silent cloud holds at most
 *   two of the gateway's workers, each for a bounded time (502), the rest
 *   answered 503 at once, while the gateway's other endpoints go on.
 * - POST /api/migrations (S2D): a flood starts migrations_max runners (on
 *   the silent cloud they wait), the rest answered 503 at once with no
 *   migration recorded, while the other endpoints go on.
 * The clouds themselves are tried in openstack_test_s2d and
 * openstack_browser_s2d. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

static ct_proc up, gwp;
static json_t *fed;
static char gw_url[64];
static int hole = -1; /* a listening socket nobody accepts on */
#define MIGRATIONS_MAX 2

static const char *dc1_token(void)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(fed, "datacenters"), 0), "token"));
}

static long usage(json_t **out, const char *query, const char *token)
{
    long st = 0;

    *out = NULL;
    assert_int_equal(
        ctt_http(&st, out, "GET", ctt_path("%s/api/usage%s", gw_url, query), token, NULL), 0);
    return st;
}

static int setup(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    const char *yaml = ctt_path("%s/clouds.yaml", ctt_tmpdir());
    json_t *o;
    FILE *f;

    (void)state;
    hole = socket(AF_INET, SOCK_STREAM, 0);
    if (hole < 0 || bind(hole, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(hole, 64) < 0 ||
        getsockname(hole, (struct sockaddr *)&a, &len) < 0)
        return -1;
    f = fopen(yaml, "w");
    if (f == NULL)
        return -1;
    fprintf(f,
            "clouds:\n  hole:\n    auth:\n      auth_url: http://127.0.0.1:%u/v3\n"
            "      username: u\n      password: p\n      project_name: x\n",
            (unsigned)ntohs(a.sin_port));
    fclose(f);
    if (ctt_up_start(&up, &fed, ctt_path("%s/up", ctt_tmpdir())) < 0)
        return -1;
    o = json_pack("{s:s, s:s, s:i}", "clouds_yaml", yaml, "migrations_dir",
                  ctt_path("%s/migrations", ctt_tmpdir()), "migrations_max", MIGRATIONS_MAX);
    ctt_gateway_start(&gwp, gw_url, ctt_path("%s/up", ctt_tmpdir()), o);
    json_decref(o);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (gwp.pid > 0)
        ctt_stop(&gwp);
    if (up.pid > 0)
        ctt_stop(&up);
    json_decref(fed);
    if (hole >= 0)
        close(hole);
    return 0;
}

static void bad_queries_are_named(void **state)
{
    static const struct {
        const char *query;
        long status;
        const char *says;
    } cases[] = {
        {"?cloud=hole", 401, "Authorization"},
        {"", 400, "'cloud'"},
        {"?cloud=", 400, "'cloud'"},
        {"?cloud=nowhere", 404, "nowhere"},
        {"?cloud=hole&price=vcpu%3Dx", 400, "'price'"},
        {"?cloud=hole&price=gpu%3D1", 400, "gpu"},
        {"?cloud=hole&from=yesterday", 400, "'from'"},
        {"?cloud=hole&from=2026-12-07T00:00:00Z&to=2026-12-06T00:00:00Z", 400, "before"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *out;
        long st = usage(&out, cases[i].query, i == 0 ? NULL : dc1_token());
        const char *err = json_string_value(json_object_get(out, "error"));
        if (st != cases[i].status || err == NULL || strstr(err, cases[i].says) == NULL)
            fail_msg("GET /api/usage%s: HTTP %ld %s, wanted %ld naming %s", cases[i].query, st,
                     err ? err : "(no error)", cases[i].status, cases[i].says);
        json_decref(out);
    }
}

typedef struct asker {
    long status;
    int64_t ms;
} asker;

static void *ask_main(void *arg)
{
    asker *a = arg;

    a->status = ctt_http_timed(NULL, &a->ms, "GET", ctt_path("%s/api/usage?cloud=hole", gw_url),
                               dc1_token(), NULL, 60000);
    return NULL;
}

static void a_silent_cloud_holds_two_workers_at_most(void **state)
{
    enum { N = 5 };
    asker a[N] = {0};
    pthread_t t[N];
    int busy = 0, timed_out = 0;

    (void)state;
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, ask_main, &a[i]), 0);
    /* The gateway's other endpoints go on meanwhile. */
    for (int i = 0; i < 10; i++) {
        int64_t ms;
        long st = ctt_http_timed(NULL, &ms, "GET", ctt_path("%s/api/chain/overview", gw_url), NULL,
                                 NULL, 5000);
        if (st != 200 || ms > 2000)
            fail_msg("GET /api/chain/overview: HTTP %ld after %lld ms while the cloud is silent",
                     st, (long long)ms);
        ct_sleep_ms(100);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < N; i++) {
        print_message("usage %d: HTTP %ld after %lld ms\n", i, a[i].status, (long long)a[i].ms);
        if (a[i].status == 503)
            busy++;
        else if (a[i].status == 502 && a[i].ms < 25000)
            timed_out++;
        else
            fail_msg("usage %d: HTTP %ld after %lld ms, wanted 503 or 502 within 25 s", i,
                     a[i].status, (long long)a[i].ms);
    }
    assert_true(timed_out >= 1 && timed_out <= 2);
    assert_int_equal(busy + timed_out, N);
}

/* A migration from the silent cloud to itself (every step would ask it). */
static const char spec[] = "<?xml version=\"1.0\"?>\n<MigrationSpecs>\n"
                           "  <CloudAlogIn><cloud>hole</cloud></CloudAlogIn>\n"
                           "  <SnapshotToCreate><InstanceID>vm-1</InstanceID>"
                           "<SnapshotName>s2d-snap</SnapshotName></SnapshotToCreate>\n"
                           "  <CloudBlogIn><cloud>hole</cloud></CloudBlogIn>\n"
                           "  <ImageToUpload><ImageName>s2d-image</ImageName><Format>raw</Format>"
                           "<Access>False</Access></ImageToUpload>\n"
                           "  <Keypair><Name>k</Name></Keypair>\n"
                           "  <InstanceToLaunch><InstanceName>s2d-dst</InstanceName>"
                           "<SecurityGroup>default</SecurityGroup></InstanceToLaunch>\n"
                           "  <AllocateIP><IP>new</IP></AllocateIP>\n"
                           "</MigrationSpecs>\n";

static void a_flood_of_migrations_runs_migrations_max(void **state)
{
    enum { N = 24 };
    int started = 0, busy = 0;
    json_t *list = NULL;
    long st = 0;

    (void)state;
    for (int i = 0; i < N; i++) {
        int64_t ms;
        json_t *out = NULL;
        st = ctt_http_timed(&out, &ms, "POST", ctt_path("%s/api/migrations", gw_url), dc1_token(),
                            spec, 10000);
        if (st == 202)
            started++;
        else if (st == 503 && ms < 2000)
            busy++;
        else
            fail_msg("POST /api/migrations %d: HTTP %ld after %lld ms: %s", i, st, (long long)ms,
                     out ? json_dumps(out, 0) : "");
        json_decref(out);
        /* The other endpoints go on meanwhile. */
        if (i % 6 == 0) {
            st = ctt_http_timed(NULL, &ms, "GET", ctt_path("%s/api/chain/overview", gw_url), NULL,
                                NULL, 5000);
            if (st != 200 || ms > 2000)
                fail_msg("GET /api/chain/overview: HTTP %ld after %lld ms during the flood", st,
                         (long long)ms);
        }
    }
    assert_int_equal(started, MIGRATIONS_MAX);
    assert_int_equal(busy, N - MIGRATIONS_MAX);
    /* Only the migrations started are recorded: a 503 left nothing. */
    ctt_http(&st, &list, "GET", ctt_path("%s/api/migrations", gw_url), dc1_token(), NULL);
    assert_int_equal(st, 200);
    if (json_array_size(list) != MIGRATIONS_MAX)
        fail_msg("GET /api/migrations lists %zu migrations, wanted %d: %s", json_array_size(list),
                 MIGRATIONS_MAX, json_dumps(list, 0));
    json_decref(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_queries_are_named),
        cmocka_unit_test(a_silent_cloud_holds_two_workers_at_most),
        cmocka_unit_test(a_flood_of_migrations_runs_migrations_max),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
