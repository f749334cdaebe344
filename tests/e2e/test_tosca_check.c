/* `catena tosca check` as a user runs it: the shared TOSCA samples (valid
 * ones exit 0 with what they hold, invalid ones exit 2 with
 * file:line:column and nothing on stdout), the same as JSON, a file that
 * only defines types (with an import of its own), an input of the wrong
 * type, and bad usage. */
#include "harness.h"

#include <stdio.h>

static const char *sample(const char *name)
{
    const char *dir = ctt_data_dir();

    if (dir == NULL)
        ctt_skip_absent("tosca/%s", name);
    return ctt_path("%s/tosca/%s", dir, name);
}

/* Runs catena with args, expects exit code want; the caller frees r. */
static void run(ctt_run *r, const char *const *args, int want)
{
    ctt_catena(r, args);
    if (ctt_exit_code(r) != want)
        fail_msg("catena %s %s %s: exit %d, want %d\nstdout: %s\nstderr: %s", args[0], args[1],
                 args[2] ? args[2] : "", ctt_exit_code(r), want, r->out, r->err);
}

static json_t *check_json(const char *path, int want)
{
    ctt_run r;
    json_t *v;

    run(&r, (const char *[]){"tosca", "check", path, "--json", NULL}, want);
    if ((v = json_loads(r.out, 0, NULL)) == NULL)
        fail_msg("not JSON: %s", r.out);
    ctt_run_free(&r);
    return v;
}

static void valid_samples(void **state)
{
    static const struct {
        const char *name;
        const char *summary; /* what stdout holds after the path */
    } cases[] = {
        {"tosca_helloworld.yaml", ": valid (tosca_simple_yaml_1_0): 1 node template, 0 inputs"},
        {"test_tosca_version_1_3.yaml", ": valid (tosca_simple_yaml_1_3): 1 node template"},
        {"tosca_single_instance_wordpress.yaml",
         ": valid (tosca_simple_yaml_1_0): 5 node templates, 6 inputs, 1 output, 2 files"},
        {"tosca_elk.yaml",
         ": valid (tosca_simple_yaml_1_0): 14 node templates, 2 inputs, 5 outputs, 7 files"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = sample(cases[i].name);
        ctt_run r;
        run(&r, (const char *[]){"tosca", "check", path, NULL}, 0);
        if (strstr(r.out, ctt_path("%s%s", path, cases[i].summary)) == NULL)
            fail_msg("%s: stdout lacks '%s': %s", cases[i].name, cases[i].summary, r.out);
        ctt_run_free(&r);
    }
    json_t *v = check_json(sample("tosca_elk.yaml"), 0);
    assert_true(json_is_true(json_object_get(v, "valid")));
    assert_int_equal(json_array_size(json_object_get(v, "files")), 7);
    assert_int_equal(json_array_size(json_object_get(v, "node_templates")), 14);
    assert_int_equal(json_array_size(json_object_get(v, "errors")), 0);
    json_decref(v);
}

static void invalid_samples(void **state)
{
    static const struct {
        const char *name;
        const char *pos;
        int line, column;
    } cases[] = {
        {"test_tosca_top_level_error1.yaml", ":1:1: error: missing tosca_definitions_version", 1,
         1},
        {"test_invalid_template_version.yaml", ":1:28: error: tosca_definitions_version", 1, 28},
        {"test_scalar_unit_without_unit.yaml", ":10:13: error: node template my_block_storage", 10,
         13},
        {"test_invalid_section_names.yaml", ":1:1: error: template: unknown key", 1, 1},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = sample(cases[i].name);
        ctt_run r;
        run(&r, (const char *[]){"tosca", "check", path, NULL}, 2);
        assert_string_equal(r.out, "");
        if (strstr(r.err, ctt_path("%s%s", path, cases[i].pos)) == NULL)
            fail_msg("%s: stderr lacks %s:\n%s", cases[i].name, cases[i].pos, r.err);
        ctt_run_free(&r);
        json_t *v = check_json(path, 2);
        json_t *e = json_array_get(json_object_get(v, "errors"), 0);
        assert_true(json_is_false(json_object_get(v, "valid")));
        assert_string_equal(json_string_value(json_object_get(e, "file")), path);
        assert_int_equal(json_integer_value(json_object_get(e, "line")), cases[i].line);
        assert_int_equal(json_integer_value(json_object_get(e, "column")), cases[i].column);
        assert_null(json_object_get(v, "node_templates"));
        json_decref(v);
    }
}

static const char *write_file(const char *name, const char *text)
{
    const char *path = ctt_path("%s/%s", ctt_tmpdir(), name);
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* A file of types only is valid; its imports are checked too. */
static void types_only_and_inputs(void **state)
{
    (void)state;
    write_file("base_types.yaml", "tosca_definitions_version: tosca_simple_yaml_1_3\n"
                                  "node_types:\n"
                                  "  my.nodes.Base:\n"
                                  "    derived_from: tosca.nodes.SoftwareComponent\n");
    const char *types =
        write_file("types.yaml", "tosca_definitions_version: tosca_simple_yaml_1_3\n"
                                 "imports:\n"
                                 "  - base_types.yaml\n"
                                 "node_types:\n"
                                 "  my.nodes.App:\n"
                                 "    derived_from: my.nodes.Base\n"
                                 "    properties:\n"
                                 "      port:\n"
                                 "        type: integer\n");
    ctt_run r;
    run(&r, (const char *[]){"tosca", "check", types, NULL}, 0);
    assert_non_null(strstr(r.out, ": valid (tosca_simple_yaml_1_3): 0 node templates, 0 inputs, "
                                  "0 outputs, 2 files, 0 warnings"));
    ctt_run_free(&r);

    const char *broken =
        write_file("broken_types.yaml", "tosca_definitions_version: tosca_simple_yaml_1_3\n"
                                        "node_types:\n"
                                        "  my.nodes.App:\n"
                                        "    derived_from: my.nodes.Missing\n");
    run(&r, (const char *[]){"tosca", "check", broken, NULL}, 2);
    assert_non_null(strstr(r.err, ctt_path("%s:4:", broken)));
    ctt_run_free(&r);

    const char *app = write_file("app.yaml", "tosca_definitions_version: tosca_simple_yaml_1_3\n"
                                             "topology_template:\n"
                                             "  inputs:\n"
                                             "    cpus:\n"
                                             "      type: integer\n"
                                             "  node_templates:\n"
                                             "    server:\n"
                                             "      type: tosca.nodes.Compute\n"
                                             "      capabilities:\n"
                                             "        host:\n"
                                             "          properties:\n"
                                             "            num_cpus: { get_input: cpus }\n");
    run(&r, (const char *[]){"tosca", "check", app, "--input", "cpus=2", NULL}, 0);
    ctt_run_free(&r);
    run(&r, (const char *[]){"tosca", "check", app, "--input", "cpus=many", NULL}, 2);
    assert_non_null(strstr(r.err, "cpus"));
    assert_string_equal(r.out, "");
    ctt_run_free(&r);
}

static void bad_usage(void **state)
{
    ctt_run r;
    (void)state;

    run(&r, (const char *[]){"tosca", NULL}, 2);
    ctt_run_free(&r);
    run(&r, (const char *[]){"tosca", "check", NULL}, 2);
    assert_non_null(strstr(r.err, "expects the template FILE"));
    ctt_run_free(&r);
    run(&r, (const char *[]){"tosca", "check", "/nonexistent/app.yaml", NULL}, 2);
    assert_non_null(strstr(r.err, "/nonexistent/app.yaml"));
    ctt_run_free(&r);
    run(&r, (const char *[]){"tosca", "check", "a.yaml", "b.yaml", NULL}, 2);
    ctt_run_free(&r);
    run(&r, (const char *[]){"tosca", "check", "--help", NULL}, 0);
    assert_non_null(strstr(r.out, "catena tosca check FILE"));
    ctt_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_samples),
        cmocka_unit_test(invalid_samples),
        cmocka_unit_test(types_only_and_inputs),
        cmocka_unit_test(bad_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
