/* An application's services from TOSCA (catena.nodes.Service): dependency
 * order, property checks with positions, get_input, and checkpoints as
 * JSON both ways. */
#include "harness.h"

#include <string.h>

#include "catena/orch.h"

#define HEAD "tosca_definitions_version: tosca_simple_yaml_1_3\n"

static ct_tosca *load(const char *text, const ct_tosca_input_value *in, size_t n_in)
{
    ct_tosca_opts opts = {in, n_in, NULL, NULL};
    ct_tosca *t = NULL;

    ctt_ok(ct_tosca_parse(&t, NULL, text, strlen(text), "app.yaml", &opts));
    return t;
}

/* Plans text; returns the plan or NULL with the error code in *rc. */
static ct_orch_plan *plan(const char *text, int *rc)
{
    ct_tosca *t = load(text, NULL, 0);
    ct_orch_plan *p = NULL;

    *rc = ct_orch_plan_new(&p, t);
    ct_tosca_free(t);
    return p;
}

static const char *order_of(const ct_orch_plan *p)
{
    static char buf[256];

    buf[0] = '\0';
    for (size_t k = 0; k < p->n; k++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", k ? "," : "",
                 p->services[k].name);
    return buf;
}

static void dependencies_come_first(void **state)
{
    /* A diamond written back to front, a Compute node that is no service,
     * and a requirement on it that orders nothing. */
    static const char text[] =
        HEAD "topology_template:\n"
             "  node_templates:\n"
             "    web:\n"
             "      type: catena.nodes.Service\n"
             "      properties: {command: [web, '{port}'], health: /health}\n"
             "      requirements: [{dependency: api}, {dependency: auth}]\n"
             "    api:\n"
             "      type: catena.nodes.Service\n"
             "      properties: {command: [api]}\n"
             "      requirements: [{dependency: db}, {dependency: vm}]\n"
             "    auth:\n"
             "      type: catena.nodes.Service\n"
             "      properties: {command: [auth], port: 8081}\n"
             "      requirements: [{dependency: db}]\n"
             "    vm:\n"
             "      type: tosca.nodes.Compute\n"
             "    db:\n"
             "      type: catena.nodes.Service\n"
             "      properties: {command: [db, --port, '{port}']}\n";
    int rc;
    ct_orch_plan *p = plan(text, &rc);
    const ct_orch_service *web, *auth;
    (void)state;

    ctt_ok(rc);
    assert_string_equal(order_of(p), "db,api,auth,web");
    web = &p->services[ct_orch_plan_find(p, "web")];
    auth = &p->services[ct_orch_plan_find(p, "auth")];
    assert_int_equal(web->n_deps, 2);
    assert_string_equal(p->services[web->deps[0]].name, "api");
    assert_string_equal(p->services[web->deps[1]].name, "auth");
    assert_int_equal(p->services[1].n_deps, 1); /* api: db, not the vm */
    assert_string_equal(web->health, "/health");
    assert_string_equal(p->services[0].health, "/"); /* the type's default */
    assert_int_equal(auth->port, 8081);
    assert_int_equal(web->port, 0);
    assert_int_equal(web->n_command, 2);
    assert_string_equal(web->command[1], "{port}");
    assert_null(web->command[2]);
    assert_int_equal(ct_orch_plan_find(p, "vm"), SIZE_MAX);
    ct_orch_plan_free(p);
}

static void independent_services_keep_template_order(void **state)
{
    static const char text[] =
        HEAD "topology_template:\n"
             "  node_templates:\n"
             "    c: {type: catena.nodes.Service, properties: {command: [c]}}\n"
             "    a: {type: catena.nodes.Service, properties: {command: [a]}}\n"
             "    b: {type: catena.nodes.Service, properties: {command: [b]},\n"
             "        requirements: [{dependency: c}]}\n";
    int rc;
    ct_orch_plan *p = plan(text, &rc);
    (void)state;

    ctt_ok(rc);
    assert_string_equal(order_of(p), "c,a,b");
    ct_orch_plan_free(p);
}

static void inputs_are_followed(void **state)
{
    static const char text[] =
        HEAD "topology_template:\n"
             "  inputs:\n"
             "    bin: {type: string}\n"
             "    cmd: {type: list, entry_schema: {type: string}, default: [x, y]}\n"
             "    port: {type: integer, default: 9000}\n"
             "  node_templates:\n"
             "    a:\n"
             "      type: catena.nodes.Service\n"
             "      properties: {command: [{get_input: bin}, '{port}'], port: {get_input: port}}\n"
             "    b:\n"
             "      type: catena.nodes.Service\n"
             "      properties: {command: {get_input: cmd}}\n";
    const ct_tosca_input_value given[] = {{"bin", "/usr/bin/server"}};
    ct_tosca *t = load(text, given, 1);
    ct_orch_plan *p = NULL;
    (void)state;

    ctt_ok(ct_orch_plan_new(&p, t));
    assert_string_equal(p->services[0].command[0], "/usr/bin/server");
    assert_int_equal(p->services[0].port, 9000);
    assert_string_equal(p->services[1].command[1], "y");
    ct_orch_plan_free(p);
    ct_tosca_free(t);

    /* Without a value for bin: an error naming the node and the input. */
    t = load(text, NULL, 0);
    assert_int_equal(ct_orch_plan_new(&p, t), CT_EINVAL);
    assert_null(p);
    assert_non_null(strstr(ct_error_last(), "app.yaml:"));
    assert_non_null(strstr(ct_error_last(), "node template a: command needs input bin"));
    ct_tosca_free(t);
}

static void bad_templates_are_refused(void **state)
{
    static const struct {
        const char *body, *want;
    } cases[] = {
        {"    a: {type: tosca.nodes.Compute}\n", "no node of type catena.nodes.Service"},
        {"    a: {type: catena.nodes.Service, properties: {command: [a]},\n"
         "        requirements: [{dependency: b}]}\n"
         "    b: {type: catena.nodes.Service, properties: {command: [b]},\n"
         "        requirements: [{dependency: a}]}\n",
         "its dependencies form a cycle"},
        {"    a: {type: catena.nodes.Service, properties: {command: [a]},\n"
         "        requirements: [{dependency: c}]}\n"
         "    b: {type: catena.nodes.Service, properties: {command: [b]},\n"
         "        requirements: [{dependency: a}]}\n"
         "    c: {type: catena.nodes.Service, properties: {command: [c]},\n"
         "        requirements: [{dependency: b}]}\n",
         "its dependencies form a cycle"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024];
        int rc;
        snprintf(text, sizeof(text), HEAD "topology_template:\n  node_templates:\n%s",
                 cases[i].body);
        assert_null(plan(text, &rc));
        assert_int_equal(rc, CT_EINVAL);
        if (strstr(ct_error_last(), cases[i].want) == NULL)
            fail_msg("case %zu: %s", i, ct_error_last());
    }
}

/* The type's own constraints catch what the front end can see. */
static void type_checks_properties(void **state)
{
    static const char *const bodies[] = {
        "    a: {type: catena.nodes.Service, properties: {command: []}}\n",
        "    a: {type: catena.nodes.Service, properties: {command: [a], port: 70000}}\n",
        "    a: {type: catena.nodes.Service, properties: {command: a}}\n",
        "    a: {type: catena.nodes.Service}\n", /* command is required */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        char text[512];
        ct_tosca *t = NULL;
        snprintf(text, sizeof(text), HEAD "topology_template:\n  node_templates:\n%s", bodies[i]);
        if (ct_tosca_parse(&t, NULL, text, strlen(text), "app.yaml", NULL) != CT_EPARSE)
            fail_msg("case %zu accepted", i);
        ct_tosca_free(t);
    }
}

static void health_must_be_a_path(void **state)
{
    static const char text[] =
        HEAD "topology_template:\n"
             "  node_templates:\n"
             "    a: {type: catena.nodes.Service, properties: {command: [a], health: health}}\n";
    int rc;
    (void)state;

    assert_null(plan(text, &rc));
    assert_int_equal(rc, CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "health must be an HTTP path"));
}

static void assert_same_checkpoint(const ct_orch_checkpoint *a, const ct_orch_checkpoint *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->time_ms, b->time_ms);
    assert_int_equal(a->service, b->service);
    assert_string_equal(a->orchestrator, b->orchestrator);
    assert_string_equal(a->inst.id, b->inst.id);
    assert_string_equal(a->inst.url, b->inst.url);
    assert_int_equal(a->inst.pid, b->inst.pid);
}

static void checkpoints_round_trip(void **state)
{
    static const char text[] =
        HEAD "topology_template:\n"
             "  node_templates:\n"
             "    a: {type: catena.nodes.Service, properties: {command: [a]}}\n"
             "    b: {type: catena.nodes.Service, properties: {command: [b]}}\n";
    int rc;
    ct_orch_plan *p = plan(text, &rc);
    ct_orch_checkpoint up = {
        .kind = CT_ORCH_SERVICE_UP,
        .time_ms = 1700000000123,
        .service = 1,
        .orchestrator = "o1",
        .inst = {.id = "process:42:99", .url = "http://127.0.0.1:5", .pid = 42}};
    ct_orch_checkpoint ok = {.kind = CT_ORCH_APP_OK, .time_ms = 5, .orchestrator = "o2"};
    ct_orch_checkpoint back;
    json_t *v;
    ct_orch_kind k;
    (void)state;

    ctt_ok(rc);
    v = ct_orch_checkpoint_json(&up, p);
    ctt_expect_json(v, "{\"type\":\"SERVICE_UP\",\"time\":1700000000123,\"service\":\"b\","
                       "\"index\":1,\"orchestrator\":\"o1\",\"id\":\"process:42:99\","
                       "\"url\":\"http://127.0.0.1:5\",\"pid\":42}");
    ctt_ok(ct_orch_checkpoint_parse(&back, v, p));
    assert_same_checkpoint(&back, &up);
    json_decref(v);
    v = ct_orch_checkpoint_json(&ok, p);
    ctt_expect_json(v, "{\"type\":\"APP_OK\",\"time\":5,\"service\":null,\"orchestrator\":\"o2\"}");
    ctt_ok(ct_orch_checkpoint_parse(&back, v, p));
    assert_same_checkpoint(&back, &ok);
    json_decref(v);

    /* A service the application does not have, an unknown type. */
    v = json_pack("{s:s, s:i, s:s, s:s, s:s}", "type", "SERVICE_DOWN", "time", 1, "service", "zz",
                  "orchestrator", "o", "x", "y");
    assert_int_equal(ct_orch_checkpoint_parse(&back, v, p), CT_EINVAL);
    json_decref(v);
    assert_int_equal(ct_orch_kind_parse(&k, "APP_DONE"), CT_EINVAL);
    ctt_ok(ct_orch_kind_parse(&k, "APP_SHUTDOWN"));
    assert_int_equal(k, CT_ORCH_APP_SHUTDOWN);
    ct_orch_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dependencies_come_first),
        cmocka_unit_test(independent_services_keep_template_order),
        cmocka_unit_test(inputs_are_followed),
        cmocka_unit_test(bad_templates_are_refused),
        cmocka_unit_test(type_checks_properties),
        cmocka_unit_test(health_must_be_a_path),
        cmocka_unit_test(checkpoints_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
