/* The TOSCA front end: the shared tosca-parser samples (valid ones load,
 * invalid ones fail at the right file:line:column), a table of broken
 * templates, scalar units, host extraction with workload tags, and the
 * concrete TOSCA and HOT writers read back (the YAML writer: tests/unit/yaml). */
#include "harness.h"

#include <libfyaml.h>
#include <time.h>

#include "catena/tosca.h"

/* ---------------------------------------------------------------- helpers */

static const char *data_file(const char *name)
{
    const char *dir = ctt_data_dir();

    if (dir == NULL)
        return NULL;
    return ctt_path("%s/tosca/%s", dir, name);
}

#define NEED_DATA(var, name)                                                                       \
    const char *var = data_file(name);                                                             \
    if (var == NULL)                                                                               \
        ctt_skip_absent("tosca/%s", name);

static int parse(ct_tosca **t, ct_yaml_diags *d, const char *yaml)
{
    return ct_tosca_parse(t, d, yaml, strlen(yaml), "app.yaml", NULL);
}

/* Returns: the first error in d, failing when there is none. */
static const ct_yaml_diag *first_error(const ct_yaml_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (!d->items[i].warning)
            return &d->items[i];
    fail_msg("no error recorded");
    return NULL;
}

/* Fails unless d holds an error at line:column whose message contains
 * want (line 0: any position). */
static void expect_diag(const ct_yaml_diags *d, unsigned line, unsigned column, const char *want,
                        const char *what)
{
    for (size_t i = 0; i < d->n; i++) {
        const ct_yaml_diag *e = &d->items[i];
        if (!e->warning && strstr(e->message, want) != NULL &&
            (line == 0 || (e->line == line && e->column == column)))
            return;
    }
    for (size_t i = 0; i < d->n; i++)
        printf("  %s:%u:%u: %s\n", d->items[i].file ? d->items[i].file : "-", d->items[i].line,
               d->items[i].column, d->items[i].message);
    fail_msg("%s: no error at %u:%u containing \"%s\"", what, line, column, want);
}

static const ct_tosca_node *node(const ct_tosca *t, const char *name)
{
    size_t i = ct_tosca_node_find(t, name);

    if (i == SIZE_MAX)
        fail_msg("no node template %s", name);
    return &t->nodes[i];
}

/* ---------------------------------------------------------------- shared samples */

static void valid_samples(void **state)
{
    static const char *const names[] = {"tosca_helloworld.yaml",
                                        "tosca_single_instance_wordpress.yaml", "tosca_elk.yaml",
                                        "test_tosca_version_1_3.yaml"};
    static const size_t nodes[] = {1, 5, 14, 1};
    static const int minor[] = {0, 0, 0, 3};
    (void)state;

    for (size_t i = 0; i < 4; i++) {
        NEED_DATA(path, names[i]);
        ct_yaml_diags d = {0};
        ct_tosca *t = NULL;
        if (ct_tosca_load(&t, &d, path, NULL) != 0) {
            expect_diag(&d, 0, 0, "(none expected)", names[i]);
        }
        assert_int_equal(d.errors, 0);
        assert_int_equal(t->n_nodes, nodes[i]);
        assert_int_equal(t->version_minor, minor[i]);
        ct_tosca_free(t);
        ct_yaml_diags_free(&d);
    }
}

static void wordpress_model(void **state)
{
    NEED_DATA(path, "tosca_single_instance_wordpress.yaml");
    ct_yaml_diags d = {0};
    ct_tosca *t = NULL;
    (void)state;

    ctt_ok(ct_tosca_load(&t, &d, path, NULL));
    assert_int_equal(t->n_files, 2); /* the template and custom_types/wordpress.yaml */
    assert_int_equal(t->n_inputs, 6);
    assert_string_equal(t->inputs[0].name, "cpus");
    assert_int_equal(json_integer_value(t->inputs[0].value), 1);
    assert_null(t->inputs[4].value); /* db_root_pwd: required, no default: a warning */
    assert_int_equal(d.warnings, 1);
    const ct_tosca_node *server = node(t, "server"), *wp = node(t, "wordpress");
    assert_true(server->is_compute);
    assert_false(wp->is_compute);
    assert_string_equal(wp->type, "tosca.nodes.WebApplication.WordPress");
    assert_int_equal(wp->host, ct_tosca_node_find(t, "webserver"));
    assert_int_equal(node(t, "webserver")->host, ct_tosca_node_find(t, "server"));
    assert_string_equal(wp->reqs[1].name, "database_endpoint");
    assert_int_equal(wp->reqs[1].target, ct_tosca_node_find(t, "mysql_database"));
    /* Properties are typed by their definitions; functions are kept. */
    const json_t *host =
        json_object_get(json_object_get(server->capabilities, "host"), "properties");
    assert_string_equal(json_string_value(json_object_get(host, "disk_size")), "10 GB");
    assert_non_null(json_object_get(json_object_get(host, "num_cpus"), "get_input"));
    const json_t *os = json_object_get(json_object_get(server->capabilities, "os"), "properties");
    assert_string_equal(json_string_value(json_object_get(os, "version")), "14.04");
    assert_true(ct_tosca_type_is(t, "tosca.nodes.DBMS", "SoftwareComponent"));
    assert_false(ct_tosca_type_is(t, "tosca.nodes.Database", "tosca.nodes.SoftwareComponent"));
    assert_int_equal(t->n_outputs, 1);
    ct_tosca_free(t);
    ct_yaml_diags_free(&d);
}

static void elk_imports(void **state)
{
    NEED_DATA(path, "tosca_elk.yaml");
    ct_yaml_diags d = {0};
    ct_tosca *t = NULL;
    bool fallback = false;
    (void)state;

    ctt_ok(ct_tosca_load(&t, &d, path, NULL));
    /* Six imports; elasticsearch.yaml is read once although two files
     * import it (logstash.yaml through tosca-parser's fallback rule). */
    assert_int_equal(t->n_files, 7);
    for (size_t i = 0; i < d.n; i++)
        fallback |= d.items[i].warning && strstr(d.items[i].message, "as tosca-parser does");
    assert_true(fallback);
    assert_int_equal(node(t, "app_rsyslog")->host, ct_tosca_node_find(t, "app_server"));
    assert_string_equal(node(t, "logstash")->reqs[1].capability, "search_endpoint");
    ct_tosca_free(t);
    ct_yaml_diags_free(&d);
}

static void invalid_samples(void **state)
{
    static const struct {
        const char *name;
        unsigned line, column;
        const char *want;
    } cases[] = {
        {"test_tosca_top_level_error1.yaml", 1, 1, "missing tosca_definitions_version"},
        {"test_invalid_template_version.yaml", 1, 28, "\"tosca_xyz\" is not supported"},
        {"test_scalar_unit_without_unit.yaml", 10, 13, "scalar-unit.size"},
        {"test_invalid_section_names.yaml", 1, 1, "unknown key \"tosca_definitions_versions\""},
        {"test_invalid_section_names.yaml", 3, 1, "unknown key \"descriptions\""},
        {"test_invalid_section_names.yaml", 6, 1, "unknown key \"import\" (did you mean"},
        {"test_invalid_section_names.yaml", 9, 1, "unknown key \"topology_templates\""},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        NEED_DATA(path, cases[i].name);
        ct_yaml_diags d = {0};
        ct_tosca *t = NULL;
        assert_int_equal(ct_tosca_load(&t, &d, path, NULL), CT_EPARSE);
        assert_null(t);
        expect_diag(&d, cases[i].line, cases[i].column, cases[i].want, cases[i].name);
        assert_string_equal(first_error(&d)->file, path);
        /* The error message names the first one with its position. */
        assert_non_null(strstr(ct_error_last(), ctt_path("%s:", path)));
        ct_yaml_diags_free(&d);
    }
}

/* ---------------------------------------------------------------- broken templates */

#define HEAD "tosca_definitions_version: tosca_simple_yaml_1_3\n"
#define TOPO HEAD "topology_template:\n  node_templates:\n"

static const struct {
    const char *what;
    const char *yaml;
    unsigned line, column; /* 0: anywhere */
    const char *want;
} broken[] = {
    {"yaml syntax", HEAD "topology_template: [\n", 0, 0, "YAML"},
    {"duplicate key", HEAD "description: a\ndescription: b\n", 3, 1, "duplicate key"},
    {"empty", "", 0, 0, "empty"},
    {"not a map", "- a\n- b\n", 1, 3, "a TOSCA file is a map"},
    {"bad version type", "tosca_definitions_version: [1]\n", 1, 29, "must be a string"},
    {"unknown node type", TOPO "    a:\n      type: tosca.nodes.Nope\n", 5, 13,
     "unknown node type \"tosca.nodes.Nope\""},
    {"missing type", TOPO "    a:\n      properties: {}\n", 4, 5, "missing \"type\""},
    {"unknown property", TOPO "    a:\n      type: Compute\n      properties: {colour: red}\n", 6,
     20, "has no property \"colour\""},
    {"unknown capability", TOPO "    a:\n      type: Compute\n      capabilities: {gpu: {}}\n", 6,
     22, "has no capability \"gpu\""},
    {"num_cpus not integer",
     TOPO "    a:\n      type: Compute\n      capabilities:\n        host:\n"
          "          properties: {num_cpus: two}\n",
     8, 34, "\"two\" is not an integer"},
    {"num_cpus constraint",
     TOPO "    a:\n      type: Compute\n      capabilities:\n        host:\n"
          "          properties: {num_cpus: 0}\n",
     8, 34, "does not satisfy greater_or_equal"},
    {"mem_size unit",
     TOPO "    a:\n      type: Compute\n      capabilities:\n        host:\n"
          "          properties: {mem_size: 4 parsecs}\n",
     8, 34, "unknown unit \"parsecs\""},
    {"requirement target missing",
     TOPO "    sw:\n      type: SoftwareComponent\n      requirements:\n        - host: nowhere\n",
     7, 17, "there is no node template \"nowhere\""},
    {"requirement wrong target type",
     TOPO "    sw:\n      type: SoftwareComponent\n      requirements:\n        - host: db\n"
          "    db:\n      type: Database\n",
     7, 17, "db is a tosca.nodes.Database, not a tosca.nodes.Compute"},
    {"unknown requirement",
     TOPO "    sw:\n      type: SoftwareComponent\n      requirements:\n        - gpu: x\n", 7, 11,
     "has no requirement \"gpu\""},
    {"get_input unknown",
     TOPO "    a:\n      type: Database\n      properties:\n"
          "        name: {get_input: dbname}\n",
     7, 16, "no input \"dbname\""},
    {"get_property unknown",
     TOPO "    a:\n      type: Database\n      properties:\n"
          "        name: {get_property: [b, colour]}\n    b:\n      type: Database\n",
     7, 16, "has no property or capability \"colour\""},
    {"get_attribute unknown node",
     HEAD "topology_template:\n  outputs:\n    o:\n      value: {get_attribute: [x, ip]}\n", 5, 15,
     "there is no node template \"x\""},
    {"input default constraint",
     HEAD "topology_template:\n  inputs:\n    cpus:\n      type: integer\n      default: 3\n"
          "      constraints: [{valid_values: [1, 2, 4]}]\n",
     6, 16, "does not satisfy valid_values"},
    {"input unknown type", HEAD "topology_template:\n  inputs:\n    x: {type: colour}\n", 4, 15,
     "unknown data type \"colour\""},
    {"derived_from unknown", HEAD "node_types:\n  my.A: {derived_from: my.B}\n", 3, 24,
     "unknown node type \"my.B\""},
    {"derivation cycle",
     HEAD "node_types:\n  my.A: {derived_from: my.B}\n  my.B: {derived_from: my.A}\n", 0, 0,
     "derives from itself"},
    {"type redefined", HEAD "node_types:\n  tosca.nodes.Compute: {}\n", 3, 3, "already defined"},
    {"property without type", HEAD "node_types:\n  my.A:\n    properties: {x: {required: true}}\n",
     4, 22, "missing \"type\""},
    {"required property missing",
     HEAD "node_types:\n  my.A:\n    derived_from: tosca.nodes.Root\n    properties:\n"
          "      x: {type: string}\n"
          "topology_template:\n  node_templates:\n    a: {type: my.A}\n",
     9, 5, "missing required property \"x\""},
    {"data type field",
     TOPO "    a:\n      type: SoftwareComponent\n      properties:\n"
          "        admin_credential: {user: u, tokn: t}\n",
     7, 37, "has no property \"tokn\""},
    {"import without reader", HEAD "imports: [types.yaml]\n", 2, 11,
     "imports need the template to be read from a file"},
    {"import from repository", HEAD "imports:\n  - {file: a.yaml, repository: r}\n", 3, 6,
     "repositories are not supported"},
    {"metadata not string", TOPO "    a:\n      type: Compute\n      metadata: {catena.tag: [x]}\n",
     6, 31, "metadata catena.tag must be a string"},
    {"self requirement",
     TOPO "    a:\n      type: SoftwareComponent\n      requirements: [{dependency: a}]\n", 6, 23,
     "cannot require itself"},
};

static void broken_templates(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        ct_yaml_diags d = {0};
        ct_tosca *t = NULL;
        int rc = parse(&t, &d, broken[i].yaml);
        if (rc != CT_EPARSE)
            fail_msg("%s: returned %d, want CT_EPARSE", broken[i].what, rc);
        assert_null(t);
        expect_diag(&d, broken[i].line, broken[i].column, broken[i].want, broken[i].what);
        assert_string_equal(first_error(&d)->file, "app.yaml");
        ct_yaml_diags_free(&d);
    }
}

static void accepted_forms(void **state)
{
    static const char *const ok[] = {
        /* every version, short and "tosca:" type names, 1.0 named imports
         * are only refused for lack of a reader, so none here */
        "tosca_definitions_version: tosca_simple_yaml_1_0\n",
        "tosca_definitions_version: tosca_simple_yaml_1_1\nmetadata: {template_name: x}\n",
        "tosca_definitions_version: tosca_simple_yaml_1_2\n",
        TOPO "    a: {type: Compute}\n    b: {type: 'tosca:Compute'}\n"
             "    s: {type: BlockStorage, properties: {size: 10 GB}}\n",
        /* a requirement naming a node type is left to the orchestrator */
        TOPO "    sw:\n      type: SoftwareComponent\n      requirements:\n"
             "        - host: {node: tosca.nodes.Compute}\n",
        /* dsl_definitions anchors used twice */
        HEAD "dsl_definitions:\n  caps: &c {num_cpus: 2, mem_size: 1 GB}\n"
             "topology_template:\n  node_templates:\n"
             "    a: {type: Compute, capabilities: {host: {properties: *c}}}\n"
             "    b: {type: Compute, capabilities: {host: {properties: *c}}}\n",
        /* custom types with refinements and data types */
        HEAD "data_types:\n  my.Port: {derived_from: integer, constraints: [{in_range: [1, 9]}]}\n"
             "node_types:\n  my.App:\n    derived_from: tosca.nodes.WebApplication\n"
             "    properties: {port: {type: my.Port, default: 8}}\n"
             "topology_template:\n  node_templates:\n    app: {type: my.App}\n",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ct_yaml_diags d = {0};
        ct_tosca *t = NULL;
        if (parse(&t, &d, ok[i]) != 0)
            expect_diag(&d, 0, 0, "(none expected)", ok[i]);
        ct_tosca_free(t);
        ct_yaml_diags_free(&d);
    }
}

/* Hostile input: aliases that would expand exponentially, deep nesting. */
static void hostile_input(void **state)
{
    ct_buf b;
    ct_yaml_diags d = {0};
    ct_tosca *t = NULL;
    clock_t start = clock();
    (void)state;

    ct_buf_init(&b, 1 << 20);
    ctt_ok(ct_buf_appendf(&b, "%sdsl_definitions:\n  l0: &l0 [x, x, x, x, x, x, x, x]\n", HEAD));
    for (int i = 1; i < 12; i++)
        ctt_ok(ct_buf_appendf(&b, "  l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n",
                              i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1));
    ctt_ok(ct_buf_appendf(&b, "topology_template:\n  outputs:\n    o: {value: *l11}\n"));
    assert_int_equal(parse(&t, &d, b.data), CT_EPARSE);
    expect_diag(&d, 0, 0, "expands to more than", "alias bomb");
    assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 5.0);
    ct_yaml_diags_free(&d);
    ct_buf_reset(&b);
    ctt_ok(ct_buf_appendf(&b, "%stopology_template:\n  outputs:\n    o:\n      value: ", HEAD));
    for (int i = 0; i < 200; i++)
        ctt_ok(ct_buf_append(&b, "[", 1));
    for (int i = 0; i < 200; i++)
        ctt_ok(ct_buf_append(&b, "]", 1));
    assert_int_equal(parse(&t, &d, b.data), CT_EPARSE);
    ct_yaml_diags_free(&d);
    ct_buf_free(&b);
}

static void scalar_units(void **state)
{
    static const struct {
        const char *text;
        ct_tosca_unit_kind kind;
        double want; /* < 0: must fail */
    } cases[] = {
        {"10 GB", CT_TOSCA_UNIT_SIZE, 1e10},
        {"512 MiB", CT_TOSCA_UNIT_SIZE, 536870912.0},
        {"1.5 gib", CT_TOSCA_UNIT_SIZE, 1610612736.0},
        {"4096MB", CT_TOSCA_UNIT_SIZE, 4.096e9},
        {" 2 kB ", CT_TOSCA_UNIT_SIZE, 2000.0},
        {"0 B", CT_TOSCA_UNIT_SIZE, 0.0},
        {"2.5 GHz", CT_TOSCA_UNIT_FREQUENCY, 2.5e9},
        {"90 s", CT_TOSCA_UNIT_TIME, 90.0},
        {"2 d", CT_TOSCA_UNIT_TIME, 172800.0},
        {"10 ms", CT_TOSCA_UNIT_TIME, 0.01},
        {"1 Mbps", CT_TOSCA_UNIT_BITRATE, 1e6},
        {"1 MBps", CT_TOSCA_UNIT_BITRATE, 8e6},
        {"1 mibps", CT_TOSCA_UNIT_BITRATE, 1048576.0},
        {"10", CT_TOSCA_UNIT_SIZE, -1},
        {"GB", CT_TOSCA_UNIT_SIZE, -1},
        {"-1 GB", CT_TOSCA_UNIT_SIZE, -1},
        {"10 GB x", CT_TOSCA_UNIT_SIZE, -1},
        {"10 parsecs", CT_TOSCA_UNIT_SIZE, -1},
        {"10 GHz", CT_TOSCA_UNIT_SIZE, -1},
        {"", CT_TOSCA_UNIT_SIZE, -1},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double v = -7;
        int rc = ct_tosca_scalar_unit(&v, cases[i].text, cases[i].kind);
        if (cases[i].want < 0) {
            if (rc != CT_EPARSE)
                fail_msg("\"%s\": accepted as %g", cases[i].text, v);
        } else if (rc != 0 || v != cases[i].want) {
            fail_msg("\"%s\": rc %d value %.17g, want %.17g", cases[i].text, rc, v, cases[i].want);
        }
    }
}

/* ---------------------------------------------------------------- hosts */

static const char tagged_app[] =
    HEAD "topology_template:\n"
         "  inputs:\n"
         "    cpus: {type: integer, default: 2}\n"
         "    mem: {type: scalar-unit.size}\n"
         "  node_templates:\n"
         "    web:\n"
         "      type: tosca.nodes.WebServer\n"
         "      metadata: {catena.tag: web_frontend, catena.load: '0.25'}\n"
         "      requirements: [{host: front}]\n"
         "    app:\n"
         "      type: tosca.nodes.WebApplication\n"
         "      metadata: {catena.load: '0.5'}\n"
         "      requirements: [{host: web}]\n"
         "    front:\n"
         "      type: tosca.nodes.Compute\n"
         "      capabilities:\n"
         "        host: {properties: {num_cpus: {get_input: cpus}, mem_size: {get_input: mem}}}\n"
         "    db:\n"
         "      type: tosca.nodes.DBMS\n"
         "      metadata: {catena.arch: arm64, catena.tag: cpu_intensive}\n"
         "      requirements: [{host: back}]\n"
         "    back:\n"
         "      type: tosca.nodes.Compute\n"
         "      metadata: {catena.tag: memory_intensive}\n"
         "      capabilities:\n"
         "        host: {properties: {disk_size: 100 GB}}\n"
         "        os: {properties: {architecture: aarch64}}\n";

static void hosts_and_tags(void **state)
{
    ct_tosca_input_value in[] = {{"mem", "3 GiB"}};
    ct_tosca_opts opts = {in, 1, NULL, NULL};
    ct_yaml_diags d = {0};
    ct_tosca_host *h = NULL;
    ct_tosca *t = NULL;
    size_t n = 0;
    (void)state;

    ctt_ok(ct_tosca_parse(&t, &d, tagged_app, strlen(tagged_app), "app.yaml", &opts));
    ctt_ok(ct_tosca_hosts(&h, &n, &d, t));
    assert_int_equal(n, 2);
    assert_string_equal(t->nodes[h[0].node].name, "front");
    assert_int_equal(h[0].num_cpus, 2);
    assert_int_equal(h[0].mem_size, 3ull << 30);
    assert_int_equal(h[0].disk_size, 0);
    assert_string_equal(h[0].tag, "web_frontend"); /* from a hosted component */
    assert_null(h[0].arch);
    assert_int_equal(h[0].n_components, 2);
    assert_true(h[0].load > 0.7499 && h[0].load < 0.7501); /* 0.25 + 0.5 */
    assert_string_equal(t->nodes[h[1].node].name, "back");
    assert_string_equal(h[1].tag, "memory_intensive"); /* the Compute node's own tag wins */
    assert_string_equal(h[1].arch, "arm64");           /* catena.arch agrees with aarch64 */
    assert_true(h[1].arch_forced);
    assert_int_equal(h[1].disk_size, 100000000000ull);
    assert_true(h[1].load < 0);
    ct_tosca_hosts_free(h, n);
    ct_tosca_free(t);
    ct_yaml_diags_free(&d);
}

static void host_conflicts(void **state)
{
    static const struct {
        const char *what;
        const char *yaml;
        const char *want;
    } cases[] = {
        {"input without value", tagged_app, "needs input mem, which has no value"},
        {"tags differ",
         TOPO
         "    a: {type: SoftwareComponent, metadata: {catena.tag: x}, requirements: [host: c]}\n"
         "    b: {type: SoftwareComponent, metadata: {catena.tag: y}, requirements: [host: c]}\n"
         "    c: {type: Compute}\n",
         "catena.tag y differs from x"},
        {"arch contradicts os",
         TOPO "    c:\n      type: Compute\n      metadata: {catena.arch: x86_64}\n"
              "      capabilities: {os: {properties: {architecture: aarch64}}}\n",
         "contradicts architecture aarch64"},
        {"bad load", TOPO "    c: {type: Compute, metadata: {catena.load: '1.5'}}\n",
         "catena.load must be a number in (0, 1]"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ct_yaml_diags d = {0};
        ct_tosca_host *h = NULL;
        ct_tosca *t = NULL;
        size_t n = 0;
        ctt_ok(parse(&t, &d, cases[i].yaml));
        if (ct_tosca_hosts(&h, &n, &d, t) != CT_EINVAL)
            fail_msg("%s: accepted", cases[i].what);
        expect_diag(&d, 0, 0, cases[i].want, cases[i].what);
        assert_null(h);
        ct_tosca_free(t);
        ct_yaml_diags_free(&d);
    }
}

/* ---------------------------------------------------------------- writers */

static const char *fy_text(struct fy_node *root, const char *path)
{
    struct fy_node *n = fy_node_by_path(root, path, (size_t)-1, FYNWF_FOLLOW);

    if (n == NULL)
        fail_msg("no %s in the output", path);
    return fy_node_get_scalar0(n);
}

static struct fy_document *read_yaml(const char *text)
{
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
    struct fy_document *doc = fy_document_build_from_string(&cfg, text, strlen(text));

    if (doc == NULL)
        fail_msg("output is not YAML:\n%s", text);
    return doc;
}

static const char anchored_app[] =
    HEAD "dsl_definitions:\n  caps: &c {num_cpus: 1, mem_size: 1 GB}\n"
         "topology_template:\n"
         "  node_templates:\n"
         "    a: {type: Compute, capabilities: {host: {properties: *c}}}\n"
         "    b:\n"
         "      type: Compute\n"
         "      capabilities: {host: {properties: *c}, os: {properties: {distribution: Debian,\n"
         "                     version: '12', type: linux}}}\n"
         "    sw:\n"
         "      type: SoftwareComponent\n"
         "      requirements: [{host: b}]\n"
         "      interfaces:\n"
         "        Standard:\n"
         "          create: install.sh\n"
         "          configure: {implementation: cfg.sh, inputs: {ip: {get_attribute: [b, "
         "private_address]}}}\n"
         "  outputs:\n"
         "    addr: {value: {get_attribute: [b, private_address]}}\n";

static void concrete_tosca(void **state)
{
    ct_tosca_binding bind = {"b",        "host 7", "DC2",      "r740",        "x86_64",
                             "m1.large", 4,        8ull << 30, 80000000000ull};
    ct_yaml_diags d = {0};
    ct_tosca *t = NULL, *again = NULL;
    char *out = NULL;
    (void)state;

    ctt_ok(parse(&t, &d, anchored_app));
    ctt_ok(ct_tosca_emit_concrete(&out, t, &bind, 1));
    struct fy_document *doc = read_yaml(out);
    struct fy_node *root = fy_document_root(doc);
    const char *b = "/topology_template/node_templates/b";
    assert_string_equal(fy_text(root, ctt_path("%s/capabilities/host/properties/num_cpus", b)),
                        "4");
    assert_string_equal(fy_text(root, ctt_path("%s/capabilities/host/properties/mem_size", b)),
                        "8 GiB");
    assert_string_equal(fy_text(root, ctt_path("%s/capabilities/host/properties/disk_size", b)),
                        "80 GB");
    assert_string_equal(fy_text(root, ctt_path("%s/capabilities/os/properties/architecture", b)),
                        "x86_64");
    assert_string_equal(fy_text(root, ctt_path("%s/capabilities/os/properties/version", b)), "12");
    assert_string_equal(fy_text(root, ctt_path("%s/metadata/catena.host", b)), "host 7");
    assert_string_equal(fy_text(root, ctt_path("%s/metadata/catena.flavor", b)), "m1.large");
    /* The anchor and the other node sharing it are as written. */
    assert_string_equal(fy_text(root, "/dsl_definitions/caps/num_cpus"), "1");
    assert_string_equal(
        fy_text(root, "/topology_template/node_templates/a/capabilities/host/properties/num_cpus"),
        "1");
    fy_document_destroy(doc);
    /* And it is a valid template that says the same. */
    ctt_ok(parse(&again, &d, out));
    assert_int_equal(again->n_nodes, 3);
    assert_string_equal(json_string_value(json_object_get(node(again, "b")->metadata, "catena.dc")),
                        "DC2");
    ct_tosca_binding wrong = bind;
    wrong.node = "sw";
    free(out);
    assert_int_equal(ct_tosca_emit_concrete(&out, t, &wrong, 1), CT_ENOTFOUND);
    ct_tosca_free(again);
    ct_tosca_free(t);
    ct_yaml_diags_free(&d);
}

static void hot_template(void **state)
{
    ct_tosca_binding bind = {"b", "h1", "DC1", "g4", "x86_64", "m1.small", 1, 2ull << 30, 0};
    ct_yaml_diags d = {0};
    ct_tosca *t = NULL;
    char *out = NULL;
    (void)state;

    ctt_ok(parse(&t, &d, anchored_app));
    ctt_ok(ct_tosca_emit_hot(&out, t, &bind, 1));
    struct fy_document *doc = read_yaml(out);
    struct fy_node *root = fy_document_root(doc);
    assert_string_equal(fy_text(root, "/heat_template_version"), "2016-10-14");
    assert_string_equal(fy_text(root, "/resources/b/type"), "OS::Nova::Server");
    assert_string_equal(fy_text(root, "/resources/b/properties/flavor"), "m1.small");
    assert_string_equal(fy_text(root, "/resources/b/properties/availability_zone"), "DC1:h1");
    assert_string_equal(fy_text(root, "/resources/b/properties/image"), "debian-12-x86_64");
    assert_null(fy_node_by_path(root, "/resources/a", (size_t)-1, FYNWF_DONT_FOLLOW));
    assert_string_equal(fy_text(root, "/resources/sw_create_config/properties/config/get_file"),
                        "install.sh");
    assert_string_equal(fy_text(root, "/resources/sw_configure_deploy/depends_on/0"),
                        "sw_create_deploy");
    assert_string_equal(
        fy_text(root, "/resources/sw_configure_deploy/properties/server/get_resource"), "b");
    assert_string_equal(
        fy_text(root, "/resources/sw_configure_deploy/properties/input_values/ip/get_attr/1"),
        "first_address");
    assert_string_equal(fy_text(root, "/outputs/addr/value/get_attr/0"), "b");
    fy_document_destroy(doc);
    free(out);
    ct_tosca_free(t);
    ct_yaml_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_samples),    cmocka_unit_test(wordpress_model),
        cmocka_unit_test(elk_imports),      cmocka_unit_test(invalid_samples),
        cmocka_unit_test(broken_templates), cmocka_unit_test(accepted_forms),
        cmocka_unit_test(hostile_input),    cmocka_unit_test(scalar_units),
        cmocka_unit_test(hosts_and_tags),   cmocka_unit_test(host_conflicts),
        cmocka_unit_test(concrete_tosca),   cmocka_unit_test(hot_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
