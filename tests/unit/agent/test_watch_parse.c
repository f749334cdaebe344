/* The cloud watcher's reading of Nova's versioned notifications: the
 * oslo.messaging envelope, the instance payload (uuid, vm_state, flavor,
 * addresses, creation time, the migration marker), the kinds it leaves
 * alone and the messages it drops. */
#include "harness.h"

#include "../../../src/agent/agent_int.h"

/* A notification as Nova (Zed) sends it, the message a JSON string inside
 * the oslo envelope; fields not read are left out. */
static const char *notification(const char *event, const char *state, const char *extra)
{
    const char *inner = ctt_path(
        "{\"message_id\":\"4f7c6a40-0e8b-4a53-b2c5-5a0f0b7d9c11\",\"publisher_id\":"
        "\"nova-compute:host-ovs-filter-active\",\"event_type\":\"%s\",\"priority\":\"INFO\","
        "\"payload\":{\"nova_object.name\":\"InstanceActionPayload\",\"nova_object.namespace\":"
        "\"nova\",\"nova_object.version\":\"1.8\",\"nova_object.data\":{"
        "\"uuid\":\"178b0921-8f85-4257-88b6-2e743b5a975c\",\"state\":\"%s\","
        "\"created_at\":\"2026-12-07T05:20:00Z\",\"metadata\":{%s},"
        "\"flavor\":{\"nova_object.name\":\"FlavorPayload\",\"nova_object.data\":{"
        "\"name\":\"m1.small\",\"vcpus\":2,\"memory_mb\":2048,\"root_gb\":20}},"
        "\"ip_addresses\":[{\"nova_object.name\":\"IpPayload\",\"nova_object.data\":{"
        "\"address\":\"fd00::5\",\"version\":6}},{\"nova_object.name\":\"IpPayload\","
        "\"nova_object.data\":{\"address\":\"10.0.0.5\",\"version\":4}}]}},"
        "\"timestamp\":\"2026-12-07 05:21:12.345678\"}",
        event, state, extra);
    json_t *env = json_pack("{s:s,s:s}", "oslo.version", "2.0", "oslo.message", inner);
    char *text = json_dumps(env, JSON_COMPACT);
    const char *out = ctt_path("%s", text);

    free(text);
    json_decref(env);
    return out;
}

static int parse(ct_agent__note *n, const char *body)
{
    return ct_agent__watch_parse(n, body, strlen(body));
}

static void reads_an_instance_action(void **state)
{
    ct_agent__note n;
    int64_t at;

    (void)state;
    assert_int_equal(parse(&n, notification("instance.power_off.end", "stopped", "")), 1);
    assert_string_equal(n.event, "instance.power_off.end");
    assert_string_equal(n.message_id, "4f7c6a40-0e8b-4a53-b2c5-5a0f0b7d9c11");
    assert_string_equal(n.uuid, "178b0921-8f85-4257-88b6-2e743b5a975c");
    assert_string_equal(n.state, "stopped");
    assert_string_equal(n.ip, "http://10.0.0.5"); /* the first IPv4 one */
    assert_int_equal(n.vcpus, 2);
    assert_int_equal(n.memory_mb, 2048);
    assert_int_equal(n.root_gb, 20);
    assert_int_equal(ct_time_parse(&at, "2026-12-07T05:20:00Z"), 0);
    assert_int_equal(n.created_s, at / 1000);
    assert_int_equal(ct_time_parse(&at, "2026-12-07T05:21:12.345Z"), 0);
    assert_int_equal(n.at_ms, at);
    assert_false(n.migrated_in);
}

static void marks_a_migrated_instance(void **state)
{
    ct_agent__note n;

    (void)state;
    assert_int_equal(
        parse(&n, notification("instance.create.end", "active", "\"catena_migration\":\"m-1\"")),
        1);
    assert_true(n.migrated_in);
}

static void leaves_other_kinds_alone(void **state)
{
    ct_agent__note n;

    (void)state;
    assert_int_equal(parse(&n, notification("instance.power_off.start", "active", "")), 0);
    assert_int_equal(parse(&n, notification("instance.update", "active", "")), 0);
    assert_int_equal(parse(&n, notification("service.update", "active", "")), 0);
    assert_int_equal(parse(&n, notification("flavor.create", "active", "")), 0);
}

static void drops_malformed_messages(void **state)
{
    static const char *const bad[] = {
        "",
        "not json",
        "{\"oslo.message\":\"{not json\"}",
        /* an instance notification without a uuid or a creation time */
        "{\"event_type\":\"instance.delete.end\",\"message_id\":\"m\",\"timestamp\":"
        "\"2026-12-07 05:21:12\",\"payload\":{\"nova_object.data\":{\"state\":\"deleted\"}}}",
        "{\"event_type\":\"instance.delete.end\",\"message_id\":\"m\",\"timestamp\":"
        "\"2026-12-07 05:21:12\",\"payload\":{\"nova_object.data\":{\"uuid\":\"u\","
        "\"state\":\"deleted\",\"created_at\":\"yesterday\"}}}",
        /* no time it was sent */
        "{\"event_type\":\"instance.delete.end\",\"message_id\":\"m\",\"payload\":{"
        "\"nova_object.data\":{\"uuid\":\"u\",\"state\":\"deleted\",\"created_at\":"
        "\"2026-12-07T05:20:00Z\"}}}",
    };
    ct_agent__note n;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse(&n, bad[i]) != CT_EPARSE)
            fail_msg("case %zu: %d, wanted CT_EPARSE", i, parse(&n, bad[i]));
    assert_int_equal(parse(&n, "[]"), 0); /* JSON, but no notification: not ours */
    /* An unwrapped message (no oslo envelope) is read the same. */
    assert_int_equal(
        parse(&n, "{\"event_type\":\"instance.delete.end\",\"message_id\":\"m\",\"timestamp\":"
                  "\"2026-12-07 05:21:12\",\"payload\":{\"nova_object.data\":{\"uuid\":\"u\","
                  "\"state\":\"deleted\",\"created_at\":\"2026-12-07T05:20:00Z\"}}}"),
        1);
    assert_string_equal(n.ip, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_an_instance_action),
        cmocka_unit_test(marks_a_migrated_instance),
        cmocka_unit_test(leaves_other_kinds_alone),
        cmocka_unit_test(drops_malformed_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
