/* The YAML reader and writer (catena/yaml.h): findings with positions,
 * key checks with suggestions, the core schema, the depth and size
 * budget, the map hook, and JSON written as YAML. */
#include "harness.h"

#include <libfyaml.h>

#include "catena/yaml.h"

typedef struct doc {
    ct_yaml_diags d;
    ct_yaml_reader r;
    struct fy_document *fy;
} doc;

/* Parses text as file t.yaml. Returns: ct_yaml_parse_doc's code. */
static int open_doc(doc *x, const char *text)
{
    memset(x, 0, sizeof(*x));
    x->r = (ct_yaml_reader){.diags = &x->d, .file = "t.yaml", .budget = CT_YAML_JSON_BUDGET};
    return ct_yaml_parse_doc(&x->r, &x->fy, text, strlen(text));
}

static void close_doc(doc *x)
{
    if (x->fy != NULL)
        fy_document_destroy(x->fy);
    ct_yaml_diags_free(&x->d);
}

static struct fy_document *read_yaml(const char *text)
{
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
    struct fy_document *fy = fy_document_build_from_string(&cfg, text, strlen(text));

    if (fy == NULL)
        fail_msg("output is not YAML:\n%s", text);
    return fy;
}

/* A syntax error is one finding at its line, against the file. */
static void syntax_error_has_a_position(void **state)
{
    doc x;
    (void)state;

    assert_int_equal(open_doc(&x, "a: 1\nb: [1, 2\nc: 3\n"), CT_EPARSE);
    assert_true(x.d.errors >= 1);
    assert_string_equal(x.d.items[0].file, "t.yaml");
    assert_true(x.d.items[0].line >= 2);
    close_doc(&x);
}

/* Unknown keys are counted and named at their own line, with the
 * nearest allowed key. */
static void unknown_keys_suggest(void **state)
{
    static const char *const allowed[] = {"name", "size", NULL};
    doc x;
    (void)state;

    ctt_ok(open_doc(&x, "name: a\nsiez: 2\nzzzzzzzz: 3\n"));
    assert_int_equal(ct_yaml_check_keys(&x.r, fy_document_root(x.fy), "thing", allowed), 2);
    assert_int_equal(x.d.errors, 2);
    assert_int_equal(x.d.items[0].line, 2);
    assert_int_equal(x.d.items[0].column, 1);
    assert_non_null(
        strstr(x.d.items[0].message, "thing: unknown key \"siez\" (did you mean \"size\"?)"));
    assert_null(strstr(x.d.items[1].message, "did you mean"));
    close_doc(&x);
}

/* Plain scalars follow the YAML 1.2 core schema; quoted ones stay text. */
static void core_schema(void **state)
{
    doc x;
    json_t *j = NULL;
    (void)state;

    ctt_ok(open_doc(&x, "i: 42\nf: 1.5\nt: true\nn: ~\nq: '42'\ns: 4 GB\nl: [1, two]\n"));
    ctt_ok(ct_yaml_to_json(&x.r, &j, fy_document_root(x.fy), 0));
    assert_int_equal(json_integer_value(json_object_get(j, "i")), 42);
    assert_true(json_is_real(json_object_get(j, "f")));
    assert_true(json_is_true(json_object_get(j, "t")));
    assert_true(json_is_null(json_object_get(j, "n")));
    assert_string_equal(json_string_value(json_object_get(j, "q")), "42");
    assert_string_equal(json_string_value(json_object_get(j, "s")), "4 GB");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "l"), 1)), "two");
    json_decref(j);
    close_doc(&x);
}

/* Aliases that multiply ("billion laughs") stop at the budget with one
 * finding; nothing is returned. */
static void alias_bomb_stops_at_the_budget(void **state)
{
    doc x;
    json_t *j = NULL;
    (void)state;

    ctt_ok(open_doc(&x, "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
                        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                        "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"));
    assert_int_equal(ct_yaml_to_json(&x.r, &j, fy_document_root(x.fy), 0), CT_ELIMIT);
    assert_null(j);
    assert_int_equal(x.d.errors, 1);
    assert_non_null(strstr(x.d.items[0].message, "expands to more than"));
    close_doc(&x);
}

/* The map hook sees every map first and may take it. */
static int hook(ct_yaml_reader *r, json_t **out, bool *is_fn, struct fy_node *n, int depth)
{
    (void)r;
    (void)depth;
    *is_fn = ct_yaml_get(n, "fn") != NULL;
    if (*is_fn)
        *out = json_string("called");
    return 0;
}

static void map_hook_takes_functions(void **state)
{
    doc x;
    json_t *j = NULL;
    (void)state;

    ctt_ok(open_doc(&x, "a: {fn: 1}\nb: {c: {fn: 2}, d: 3}\n"));
    x.r.map_hook = hook;
    ctt_ok(ct_yaml_to_json(&x.r, &j, fy_document_root(x.fy), 0));
    assert_string_equal(json_string_value(json_object_get(j, "a")), "called");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "b"), "c")), "called");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "b"), "d")), 3);
    json_decref(j);
    close_doc(&x);
}

/* JSON values written as YAML, quoted exactly where YAML would read
 * them as something else, and read back. */
static void writes_yaml(void **state)
{
    static const struct {
        const char *json;
        const char *want;
    } cases[] = {
        {"{\"k\": \"plain text\"}", "k: plain text\n"},
        {"{\"k\": \"true\"}", "k: \"true\"\n"},
        {"{\"k\": \"No\"}", "k: \"No\"\n"},
        {"{\"k\": \"1.0\"}", "k: \"1.0\"\n"},
        {"{\"k\": \"2013-05-23\"}", "k: \"2013-05-23\"\n"},
        {"{\"k\": \"0x1F\"}", "k: \"0x1F\"\n"},
        {"{\"k\": \"\"}", "k: \"\"\n"},
        {"{\"k\": \"a: b\"}", "k: \"a: b\"\n"},
        {"{\"k\": \"OS::Nova::Server\"}", "k: OS::Nova::Server\n"},
        {"{\"k\": \"#x\"}", "k: \"#x\"\n"},
        {"{\"k\": \"two\\nlines\"}", "k: \"two\\nlines\"\n"},
        {"{\"k\": \"10 GB\"}", "k: 10 GB\n"},
        {"{\"k\": 2.0, \"l\": 0.1, \"m\": -3}", "k: 2.0\nl: 0.1\nm: -3\n"},
        {"{\"k\": [], \"l\": {}, \"m\": null}", "k: []\nl: {}\nm: null\n"},
        {"{\"k\": [1, [2, 3], {\"a\": 1, \"b\": [true]}]}",
         "k:\n  - 1\n  -\n    - 2\n    - 3\n  - a: 1\n    b:\n      - true\n"},
        {"{\"a key\": {\"x-y\": 1}}", "a key:\n  x-y: 1\n"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = json_loads(cases[i].json, 0, NULL);
        char *out = NULL;
        assert_non_null(v);
        ctt_ok(ct_yaml_dump(&out, v));
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("%s:\n got  <%s>\n want <%s>", cases[i].json, out, cases[i].want);
        fy_document_destroy(read_yaml(out));
        free(out);
        json_decref(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(syntax_error_has_a_position),
        cmocka_unit_test(unknown_keys_suggest),
        cmocka_unit_test(core_schema),
        cmocka_unit_test(alias_bomb_stops_at_the_budget),
        cmocka_unit_test(map_hook_takes_functions),
        cmocka_unit_test(writes_yaml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
