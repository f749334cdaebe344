/* `catena place` as a user runs it: the shared TOSCA samples placed with
 * the documented example knowledge base in all three output formats, the
 * concrete TOSCA placed again, workload tags and forced architectures,
 * inputs, and invalid templates, knowledge bases and usage (exit 2 with
 * file:line:column, nothing on stdout). */
#include "harness.h"

static const char *kb_path(void)
{
    return CATENA_SOURCE_DIR "/docs/examples/kb.yaml";
}

/* Paths are copied into the caller's buffer: ctt_path's slots are reused
 * by every catena run. */
static const char *sample(char *buf, size_t size, const char *name)
{
    const char *dir = ctt_data_dir();

    if (dir == NULL)
        return NULL;
    snprintf(buf, size, "%s/tosca/%s", dir, name);
    return buf;
}

#define NEED_SAMPLE(var, name)                                                                     \
    char var##_buf[1024];                                                                          \
    const char *var = sample(var##_buf, sizeof(var##_buf), name);                                  \
    if (var == NULL)                                                                               \
        ctt_skip_absent("tosca/%s", name);

/* Runs catena place and expects exit code want. */
static void run(ctt_run *r, const char *const *args, int want)
{
    ctt_catena(r, args);
    if (ctt_exit_code(r) != want)
        fail_msg("catena place %s: exit %d, want %d\nstderr: %s", args[1], ctt_exit_code(r), want,
                 r->err);
}

/* Runs `catena place APP --kb KB --format json [extra]` and parses it. */
static json_t *place_json(const char *app, const char *kb, const char *extra)
{
    ctt_run r;
    json_t *v;

    run(&r, (const char *[]){"place", app, "--kb", kb, "--format", "json", extra, NULL}, 0);
    if ((v = json_loads(r.out, 0, NULL)) == NULL)
        fail_msg("not JSON: %s", r.out);
    ctt_run_free(&r);
    return v;
}

static json_t *placement(const json_t *v, const char *node)
{
    size_t i;
    json_t *p;

    json_array_foreach (json_object_get(v, "placements"), i, p)
        if (strcmp(json_string_value(json_object_get(p, "node")), node) == 0)
            return p;
    fail_msg("no placement for %s", node);
    return NULL;
}

static const char *str(const json_t *p, const char *key)
{
    const char *s = json_string_value(json_object_get(p, key));

    if (s == NULL)
        fail_msg("no string %s", key);
    return s;
}

static json_int_t num(const json_t *p, const char *key)
{
    return json_integer_value(json_object_get(p, key));
}

/* ---------------------------------------------------------------- valid */

static void samples_as_json(void **state)
{
    (void)state;
    NEED_SAMPLE(hello, "tosca_helloworld.yaml");
    json_t *v = place_json(hello, kb_path(), NULL);
    json_t *p = placement(v, "my_server");
    assert_string_equal(str(v, "objective"), "energy");
    assert_string_equal(str(p, "architecture"), "x86_64"); /* os.architecture holds */
    assert_string_equal(str(p, "required_architecture"), "x86_64");
    assert_true(num(p, "vcpus") >= 2);
    assert_true(num(p, "ram_bytes") >= 512000000);
    assert_true(num(p, "disk_bytes") >= 10000000000);
    assert_true(json_real_value(json_object_get(p, "delta_watts")) > 0);
    json_decref(v);

    NEED_SAMPLE(elk, "tosca_elk.yaml");
    v = place_json(elk, kb_path(), NULL);
    assert_int_equal(json_array_size(json_object_get(v, "placements")), 5);
    json_t *comps = json_object_get(placement(v, "app_server"), "components");
    assert_int_equal(json_array_size(comps), 4); /* pizza store, nodejs, collectd, rsyslog */
    json_decref(v);

    NEED_SAMPLE(v13, "test_tosca_version_1_3.yaml");
    v = place_json(v13, kb_path(), NULL);
    assert_int_equal(num(placement(v, "server"), "vcpus"), 2);
    json_decref(v);
}

static void concrete_tosca_round_trip(void **state)
{
    ctt_run r;
    (void)state;
    NEED_SAMPLE(hello, "tosca_helloworld.yaml");

    run(&r, (const char *[]){"place", hello, "--kb", kb_path(), NULL}, 0);
    assert_non_null(strstr(r.out, "tosca_definitions_version: tosca_simple_yaml_1_0"));
    assert_non_null(strstr(r.out, "catena.host: "));
    assert_non_null(strstr(r.out, "catena.flavor: m1.medium"));
    assert_non_null(strstr(r.out, "num_cpus: 2"));
    assert_non_null(strstr(r.out, "mem_size: 4 GiB"));
    char out[1024];
    snprintf(out, sizeof(out), "%s/concrete.yaml", ctt_tmpdir());
    ctt_ok(ct_file_write_atomic(out, r.out, strlen(r.out), 0600));
    ctt_run_free(&r);
    /* The concrete template is valid TOSCA and lands on the same host. */
    json_t *a = place_json(hello, kb_path(), NULL), *b = place_json(out, kb_path(), NULL);
    assert_string_equal(str(placement(a, "my_server"), "host"),
                        str(placement(b, "my_server"), "host"));
    json_decref(a);
    json_decref(b);
}

static void heat_template(void **state)
{
    ctt_run r;
    (void)state;
    NEED_SAMPLE(wp, "tosca_single_instance_wordpress.yaml");

    run(&r,
        (const char *[]){"place", wp, "--kb", kb_path(), "--format", "hot", "--input",
                         "db_root_pwd=s3cret", NULL},
        0);
    assert_non_null(strstr(r.out, "heat_template_version: \"2016-10-14\""));
    assert_non_null(strstr(r.out, "  server:\n    type: OS::Nova::Server\n"));
    assert_non_null(strstr(r.out, "flavor: m1.medium"));
    assert_non_null(strstr(r.out, "availability_zone: DC2:dc2-r740-01\n"));
    assert_non_null(strstr(r.out, "get_file: wordpress/wordpress_install.sh"));
    assert_non_null(strstr(r.out, "get_param: db_name"));
    assert_non_null(strstr(r.out, "- mysql_dbms_start_deploy"));
    assert_null(strstr(r.out, "warning"));
    ctt_run_free(&r);
}

static void tags_and_arches(void **state)
{
    const char *app = CATENA_SOURCE_DIR "/docs/examples/owncloud.yaml";
    char kb2[1024];
    char *text = NULL;
    ctt_run r;
    (void)state;

    snprintf(kb2, sizeof(kb2), "%s/x86only.yaml", ctt_tmpdir());
    json_t *v = place_json(app, kb_path(), NULL);
    /* web_frontend prefers aarch64; memory_intensive allows x86_64 only;
     * the worker forces aarch64 with catena.arch. */
    assert_string_equal(str(placement(v, "web_host"), "architecture"), "aarch64");
    assert_string_equal(str(placement(v, "web_host"), "tag"), "web_frontend");
    assert_string_equal(str(placement(v, "db_host"), "architecture"), "x86_64");
    assert_string_equal(str(placement(v, "db_host"), "flavor"), "m1.large");
    assert_string_equal(str(placement(v, "worker_host"), "architecture"), "aarch64");
    assert_true(json_is_true(json_object_get(placement(v, "worker_host"), "architecture_forced")));
    json_decref(v);
    v = place_json(app, kb_path(), "--input=web_cpus=4");
    assert_int_equal(num(placement(v, "web_host"), "vcpus"), 4);
    json_decref(v);

    /* Without aarch64 hosts the hint falls back to x86_64 but the forced
     * worker has nowhere to go: exit 1, saying why. */
    ctt_ok(ct_file_read(&text, NULL, kb_path(), 1 << 20));
    ct_buf b;
    ct_buf_init(&b, 1 << 20);
    bool skip_next = false;
    for (char *line = text, *nl; line != NULL && *line != '\0'; line = nl ? nl + 1 : NULL) {
        if ((nl = strchr(line, '\n')) != NULL)
            *nl = '\0';
        bool drop = skip_next || (strstr(line, "- {name: dc2-altra") != NULL);
        /* A host written over two lines: drop its continuation too. */
        skip_next = drop && !skip_next && line[strlen(line) - 1] != '}';
        if (!drop)
            ctt_ok(ct_buf_appendf(&b, "%s\n", line));
    }
    ctt_ok(ct_file_write_atomic(kb2, b.data, b.len, 0600));
    ct_buf_free(&b);
    free(text);
    run(&r, (const char *[]){"place", app, "--kb", kb2, NULL}, 1);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "no host can take worker_host (architecture aarch64)"));
    ctt_run_free(&r);
}

/* ---------------------------------------------------------------- invalid */

static void invalid_templates(void **state)
{
    static const struct {
        const char *name;
        const char *pos;
    } cases[] = {
        {"test_tosca_top_level_error1.yaml", ":1:1: error: missing tosca_definitions_version"},
        {"test_invalid_template_version.yaml", ":1:28: error: tosca_definitions_version"},
        {"test_scalar_unit_without_unit.yaml", ":10:13: error: node template my_block_storage"},
        {"test_invalid_section_names.yaml", ":6:1: error: template: unknown key \"import\""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        NEED_SAMPLE(path, cases[i].name);
        ctt_run r;
        run(&r, (const char *[]){"place", path, "--kb", kb_path(), NULL}, 2);
        assert_string_equal(r.out, "");
        if (strstr(r.err, ctt_path("%s%s", path, cases[i].pos)) == NULL)
            fail_msg("%s: stderr lacks %s:\n%s", cases[i].name, cases[i].pos, r.err);
        ctt_run_free(&r);
    }
}

static void bad_usage_and_kb(void **state)
{
    const char *app = CATENA_SOURCE_DIR "/docs/examples/owncloud.yaml";
    char bad_kb[1024];
    const char *kb_text = "catena_kb: 1\nflavors: {f: {vcpus: 1, ram: 1 GiB}}\nmodels: {}\n";
    (void)state;

    snprintf(bad_kb, sizeof(bad_kb), "%s/bad.yaml", ctt_tmpdir());
    ctt_ok(ct_file_write_atomic(bad_kb, kb_text, strlen(kb_text), 0600));
    const char *const *cases[] = {
        (const char *[]){"place", NULL},
        (const char *[]){"place", app, NULL},
        (const char *[]){"place", app, "--kb", kb_path(), "--format", "xml", NULL},
        (const char *[]){"place", app, "--kb", kb_path(), "--input", "novalue", NULL},
        (const char *[]){"place", app, "--kb", kb_path(), "--input", "nope=1", NULL},
        (const char *[]){"place", app, "--kb", kb_path(), "--input", "web_cpus=3", NULL},
        (const char *[]){"place", app, "--kb", kb_path(), "--objective", "speed", NULL},
        (const char *[]){"place", app, "--kb", kb_path(), "--colour", NULL},
        (const char *[]){"place", app, "other.yaml", "--kb", kb_path(), NULL},
        (const char *[]){"place", "/nonexistent.yaml", "--kb", kb_path(), NULL},
        (const char *[]){"place", app, "--kb", "/nonexistent-kb.yaml", NULL},
        (const char *[]){"place", app, "--kb", bad_kb, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ctt_run r;
        ctt_catena(&r, cases[i]);
        if (ctt_exit_code(&r) != 2 || r.out[0] != '\0')
            fail_msg("case %zu: exit %d, stdout '%s'", i, ctt_exit_code(&r), r.out);
        assert_true(strlen(r.err) > 10);
        ctt_run_free(&r);
    }
    /* The knowledge base error names its position. */
    ctt_run r;
    ctt_catena(&r, cases[11]);
    assert_non_null(strstr(r.err, ctt_path("%s:3:1: models: define at least one", bad_kb)));
    ctt_run_free(&r);
    /* `catena place binpack` belongs to the bin packing command. */
    ctt_catena(&r, (const char *[]){"place", "binpack", NULL});
    assert_int_equal(ctt_exit_code(&r), 2);
    assert_non_null(strstr(r.err, "binpack"));
    assert_null(strstr(r.err, "APP.yaml"));
    ctt_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(samples_as_json),   cmocka_unit_test(concrete_tosca_round_trip),
        cmocka_unit_test(heat_template),     cmocka_unit_test(tags_and_arches),
        cmocka_unit_test(invalid_templates), cmocka_unit_test(bad_usage_and_kb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
