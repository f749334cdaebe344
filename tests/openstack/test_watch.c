/* The DC agent watching its cloud (docs/AGENT_WATCH.md) on the real
 * clouds of scripts/clouds: `catena up --clouds DIR` gives DC1's agent
 * cloud a's Nova notifications. Instances created, stopped, started and
 * deleted with Nova's API show on the ledger as a VC registered, down, up
 * and retired, each change once, also when the agent is stopped while a
 * notification waits, RabbitMQ is killed and restarted in between, the
 * agent itself is killed with -9 and restarted by catena up, and so is
 * the chain node. */
#include "clouds.h"
#include "harness.h"

#include <signal.h>
#include <unistd.h>

static ct_cloud *cloud_a;
static ct_proc up;
static json_t *fed;
static const char *api_url;

#define WAIT_TRIES 1200 /* 100 ms each */

static const char *dc1(const char *key)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(fed, "datacenters"), 0), key));
}

/* A PID that federation.json gives now: DC1's agent's, or (dc1 false)
 * the chain node's. */
static pid_t pid_of(bool dc1, const char *key)
{
    char *text = NULL;
    json_t *f = NULL, *o;
    pid_t pid;

    assert_int_equal(
        ct_file_read(&text, NULL, ctt_path("%s/up/federation.json", ctt_tmpdir()), 1 << 20), 0);
    assert_int_equal(ct_json_parse(&f, text, strlen(text), 16), 0);
    o = dc1 ? json_array_get(json_object_get(f, "datacenters"), 0) : f;
    pid = (pid_t)json_integer_value(json_object_get(o, key));
    free(text);
    json_decref(f);
    assert_true(pid > 0);
    return pid;
}

static pid_t dc1_agent(void)
{
    return pid_of(true, "agent_pid");
}

/* The VC whose id is uuid, as the gateway shows it, once pred holds. */
static json_t *wait_vc(const char *uuid, const char *what, bool (*pred)(const json_t *))
{
    json_t *list = NULL;

    for (int i = 0; i < WAIT_TRIES; i++) {
        long st = 0;
        json_decref(list);
        list = NULL;
        ctt_http(&st, &list, "GET", ctt_path("%s/container?id=%s", api_url, uuid), NULL, NULL);
        json_t *vc = json_array_get(list, 0);
        if (st == 200 && vc != NULL && pred(vc)) {
            json_incref(vc);
            json_decref(list);
            return vc;
        }
        ct_sleep_ms(100);
    }
    fail_msg("instance %s: the ledger never showed it %s (last: %s)", uuid, what,
             list ? json_dumps(list, 0) : "nothing");
    return NULL;
}

static bool is_up(const json_t *vc)
{
    return json_is_true(json_object_get(vc, "available"));
}
static bool is_down(const json_t *vc)
{
    return json_is_false(json_object_get(vc, "available")) &&
           !json_is_true(json_object_get(vc, "retired"));
}
static bool is_retired(const json_t *vc)
{
    return json_is_true(json_object_get(vc, "retired"));
}

static void server_action(const char *id, const char *action)
{
    json_decref(ctt_cloud_call(cloud_a, CT_CLOUD_COMPUTE, "POST", ctt_path("servers/%s/action", id),
                               ctt_path("{\"%s\":null}", action), 202));
}

/* The names of the VC's events, in order, joined by spaces. */
static const char *history_names(const char *tag)
{
    json_t *h = NULL, *e;
    const char *names = "";
    long st = 0;
    size_t i;

    ctt_http(&st, &h, "GET", ctt_path("%s/container/%s/history", api_url, tag), NULL, NULL);
    assert_int_equal(st, 200);
    json_array_foreach (h, i, e)
        names = ctt_path("%s%s%s", names, i > 0 ? " " : "",
                         json_string_value(json_object_get(e, "name")));
    json_decref(h);
    return names;
}

static int setup(void **state)
{
    const char *dir;
    const char *extra[3];

    (void)state;
    if ((dir = ctt_clouds_dir()) == NULL)
        return -1;
    extra[0] = "--clouds";
    extra[1] = dir;
    extra[2] = NULL;
    cloud_a = ctt_cloud_connect("a");
    ctt_cloud_delete_servers(cloud_a, "^watch-"); /* a failed run's */
    if (ctt_up_start_args(&up, &fed, ctt_path("%s/up", ctt_tmpdir()), extra) < 0)
        return -1;
    api_url = ctt_path("%s", json_string_value(json_object_get(fed, "api_url")));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ct_cloud_free(cloud_a);
    if (up.pid > 0)
        ctt_stop(&up);
    json_decref(fed);
    return 0;
}

/* Boot, stop, start, stop, start, stop, delete: the VC follows, through
 * a stopped agent, a RabbitMQ crash, an agent killed with -9 and a chain
 * node stopped and then killed with -9. */
static void the_ledger_follows_the_cloud(void **state)
{
    const char *body, *id, *tag;
    json_t *r, *vc, *flavor;
    pid_t agent;
    int rc;

    (void)state;
    body = ctt_path("{\"server\":{\"name\":\"watch-1\",\"imageRef\":\"%s\",\"flavorRef\":\"%s\","
                    "\"networks\":[{\"uuid\":\"%s\"}]}}",
                    ctt_clouds_env("CLOUD_A_IMAGE_ID"), ctt_cloud_flavor(cloud_a, "m1.small"),
                    ctt_clouds_env("CLOUD_A_PRIVATE_NET_ID"));
    r = ctt_cloud_call(cloud_a, CT_CLOUD_COMPUTE, "POST", "servers", body, 202);
    id = ctt_path("%s", json_string_value(json_object_get(json_object_get(r, "server"), "id")));
    json_decref(r);
    ctt_cloud_wait_server(cloud_a, id, "ACTIVE");

    /* Registered by DC1 with the instance's flavor and B's controller. */
    vc = wait_vc(id, "registered and up", is_up);
    tag = ctt_path("%s", json_string_value(json_object_get(vc, "vc_tag")));
    assert_string_equal(json_string_value(json_object_get(vc, "vc_type")), "openstack:vm");
    assert_string_equal(json_string_value(json_object_get(vc, "host")), dc1("wallet"));
    assert_string_equal(json_string_value(json_object_get(vc, "controller")),
                        ct_cloud_endpoint(cloud_a, CT_CLOUD_COMPUTE));
    assert_non_null(strstr(json_string_value(json_object_get(vc, "ip_address")), "http://"));
    json_decref(vc);
    r = ctt_cloud_call(cloud_a, CT_CLOUD_COMPUTE, "GET",
                       ctt_path("flavors/%s", ctt_cloud_flavor(cloud_a, "m1.small")), NULL, 200);
    flavor = json_object_get(r, "flavor");
    {
        json_t *f = NULL;
        long st = 0;
        ctt_http(&st, &f, "GET", ctt_path("%s/container/%s/flavor", api_url, tag), NULL, NULL);
        assert_int_equal(st, 200);
        assert_true(json_equal(json_object_get(f, "vcpu"), json_object_get(flavor, "vcpus")));
        assert_true(json_equal(json_object_get(f, "vram"), json_object_get(flavor, "ram")));
        assert_true(json_equal(json_object_get(f, "vdisk"), json_object_get(flavor, "disk")));
        json_decref(f);
    }
    json_decref(r);

    server_action(id, "os-stop");
    ctt_cloud_wait_server(cloud_a, id, "SHUTOFF");
    json_decref(wait_vc(id, "down", is_down));

    /* The agent stopped while the start's notification waits in its
     * queue; RabbitMQ killed and started again; the agent resumed: the
     * notification survived in the durable queue. */
    agent = dc1_agent();
    ctt_freeze(agent, false);
    server_action(id, "os-start");
    ctt_cloud_wait_server(cloud_a, id, "ACTIVE");
    rc = system(ctt_path("'%s/scripts/clouds' restart-mq '%s' >'%s/restart-mq.log' 2>&1",
                         getenv("CATENA_ROOT"), getenv("CATENA_CLOUDS_DIR"), ctt_tmpdir()));
    assert_int_equal(kill(agent, SIGCONT), 0);
    if (rc != 0)
        fail_msg("scripts/clouds restart-mq failed: see %s/restart-mq.log", ctt_tmpdir());
    json_decref(wait_vc(id, "up again after the broker's restart", is_up));

    /* The agent killed: catena up starts it again, and the stop that
     * came meanwhile lands. */
    assert_int_equal(kill(agent, SIGKILL), 0);
    server_action(id, "os-stop");
    ctt_cloud_wait_server(cloud_a, id, "SHUTOFF");
    json_decref(wait_vc(id, "down after the agent's restart", is_down));
    assert_int_not_equal(dc1_agent(), agent);

    /* The chain node stopped with the start's notification on its way,
     * then killed: catena up starts it again from the state it saved
     * last (which may lack the stop just written: the agent's outbox
     * sends that again), the agent's reads and writes fail meanwhile and
     * are tried again, and the VC ends up as the instance is, with each
     * change once. */
    pid_t node = pid_of(false, "chain_pid");
    ctt_freeze(node, false);
    server_action(id, "os-start");
    ctt_cloud_wait_server(cloud_a, id, "ACTIVE");
    ct_sleep_ms(2000); /* the agent is at the stopped node */
    assert_int_equal(kill(node, SIGKILL), 0);
    json_decref(wait_vc(id, "up after the chain node's restart", is_up));
    assert_int_not_equal(pid_of(false, "chain_pid"), node);
    server_action(id, "os-stop");
    ctt_cloud_wait_server(cloud_a, id, "SHUTOFF");
    json_decref(wait_vc(id, "down again", is_down));

    json_decref(
        ctt_cloud_call(cloud_a, CT_CLOUD_COMPUTE, "DELETE", ctt_path("servers/%s", id), NULL, 204));
    json_decref(wait_vc(id, "retired", is_retired));

    /* Every change once, in order. */
    assert_string_equal(history_names(tag),
                        "ContainerRegistered ContainerAvailabilityChanged "
                        "ContainerAvailabilityChanged ContainerAvailabilityChanged "
                        "ContainerAvailabilityChanged ContainerAvailabilityChanged "
                        "ContainerRetired");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_ledger_follows_the_cloud),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
