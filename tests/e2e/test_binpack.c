/* `catena place binpack` as a user runs it: the table and the JSON array
 * for the OR-Library files, and bad input (exit 2, one line naming
 * file:line, nothing on stdout). */
#include "harness.h"

/* Returns: the path of DATA_DIR/binpacking/<name>, or NULL (skip). */
static const char *orlib_path(const char *name)
{
    const char *dir = ctt_data_dir();

    return dir != NULL ? ctt_path("%s/binpacking/%s", dir, name) : NULL;
}

/* Counts the lines of text that start with prefix. */
static size_t lines_starting(const char *text, const char *prefix)
{
    size_t count = 0;

    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, prefix, strlen(prefix)) == 0)
            count++;
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return count;
}

static void table(void **state)
{
    const char *file = orlib_path("binpack5.txt");
    ctt_run r;
    (void)state;

    if (file == NULL)
        ctt_skip_absent("binpacking/binpack5.txt");
    ctt_catena(&r, (const char *[]){"place", "binpack", file, NULL});
    if (ctt_exit_code(&r) != 0)
        fail_msg("exit %d: %s", ctt_exit_code(&r), r.err);
    assert_true(strncmp(r.out, "name", 4) == 0);
    for (const char *col = "items\0capacity\0best known\0bins used\0lower bound\0time ms\0";
         *col != '\0'; col += strlen(col) + 1)
        if (strstr(r.out, col) == NULL)
            fail_msg("no column '%s' in:\n%s", col, r.out);
    assert_int_equal(lines_starting(r.out, "t60_"), 20);
    assert_int_equal(lines_starting(r.out, "total"), 1);
    assert_non_null(strstr(r.out, "100.0")); /* the capacity as the file writes it */
    ctt_run_free(&r);
}

/* Checks one JSON row: all fields, within one bin of the best known. */
static void check_row(const json_t *row)
{
    int64_t items, best, bins, lb;
    const char *name;
    bool optimal;

    ctt_ok(ct_json_get_string(&name, row, "name", false));
    ctt_ok(ct_json_get_int(&items, row, "items", false));
    ctt_ok(ct_json_get_int(&best, row, "best_known", false));
    ctt_ok(ct_json_get_int(&bins, row, "bins", false));
    ctt_ok(ct_json_get_int(&lb, row, "lower_bound", false));
    ctt_ok(ct_json_get_bool(&optimal, row, "optimal", false));
    assert_true(json_is_number(json_object_get(row, "capacity")));
    assert_true(json_is_number(json_object_get(row, "time_ms")));
    assert_int_equal(items, 250);
    if (bins > best + 1)
        fail_msg("%s: %lld bins, best known %lld", name, (long long)bins, (long long)best);
    assert_true(lb <= bins && lb <= best);
    assert_true(optimal == (bins == lb));
}

static void json_output(void **state)
{
    const char *file = orlib_path("binpack2.txt");
    json_t *arr;
    ctt_run r;
    (void)state;

    if (file == NULL)
        ctt_skip_absent("binpacking/binpack2.txt");
    ctt_catena(&r, (const char *[]){"place", "binpack", file, "--json", NULL});
    if (ctt_exit_code(&r) != 0)
        fail_msg("exit %d: %s", ctt_exit_code(&r), r.err);
    ctt_ok(ct_json_parse(&arr, r.out, strlen(r.out), 8));
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 20);
    for (size_t i = 0; i < json_array_size(arr); i++)
        check_row(json_array_get(arr, i));
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "name")),
                        "u250_00");
    json_decref(arr);
    ctt_run_free(&r);
}

/* Each bad file: exit 2, nothing on stdout, one line on stderr that
 * names file:line and the fault. */
static void bad_files(void **state)
{
    static const struct {
        const char *text;
        int line;
        const char *what;
    } cases[] = {
        {"1\n t\n 10 2 1\n 5\n 11\n", 5, "exceeds the capacity"},
        {"2\n t\n 10 1 1\n 5\n", 4, "expected a problem identifier"},
        {"1\n t\n 10 1 1\n abc\n", 4, "expected an item size, found 'abc'"},
        {"", 1, "expected the number of problems"},
    };
    const char *path = ctt_path("%s/bad.txt", ctt_tmpdir());
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[256];
        ctt_run r;
        ctt_ok(ct_file_write_atomic(path, cases[i].text, strlen(cases[i].text), 0644));
        ctt_catena(&r, (const char *[]){"place", "binpack", path, NULL});
        assert_int_equal(ctt_exit_code(&r), 2);
        assert_string_equal(r.out, "");
        snprintf(want, sizeof(want), "%s:%d: ", path, cases[i].line);
        if (strstr(r.err, want) == NULL || strstr(r.err, cases[i].what) == NULL)
            fail_msg("case %zu: stderr '%s', want '%s...%s'", i, r.err, want, cases[i].what);
        assert_int_equal(lines_starting(r.err, "catena place binpack: "), 1);
        ctt_run_free(&r);
    }
}

static void usage_errors(void **state)
{
    const char *const *cases[] = {
        (const char *[]){"place", "binpack", NULL},
        (const char *[]){"place", "binpack", "/nonexistent/binpack.txt", NULL},
        (const char *[]){"place", "binpack", "a.txt", "b.txt", NULL},
        (const char *[]){"place", "binpack", "a.txt", "--frobnicate", NULL},
        (const char *[]){"place", "binpack", "a.txt", "--algo", "worst", NULL},
        (const char *[]){"place", "binpack", "a.txt", "--seed", NULL},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ctt_run r;
        ctt_catena(&r, cases[i]);
        if (ctt_exit_code(&r) != 2)
            fail_msg("case %zu: exit %d, stderr: %s", i, ctt_exit_code(&r), r.err);
        assert_string_equal(r.out, "");
        assert_non_null(strstr(r.err, "catena place binpack: "));
        ctt_run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(json_output),
        cmocka_unit_test(bad_files),
        cmocka_unit_test(usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
