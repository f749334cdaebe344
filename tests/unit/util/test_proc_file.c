/* Child process groups (start, exit detection, group stop that reaches
 * grandchildren), free ports, and file helpers. */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads the pid a shell child wrote into path, waiting for it to appear. */
static pid_t read_pid(const char *path)
{
    for (int i = 0; i < 200; i++) {
        char *text;
        uint64_t v;
        if (ct_file_read(&text, NULL, path, 64) == 0) {
            char *nl = strchr(text, '\n');
            if (nl != NULL) {
                *nl = '\0';
                int rc = ct_parse_uint(&v, text, INT32_MAX);
                free(text);
                if (rc == 0)
                    return (pid_t)v;
            } else {
                free(text);
            }
        }
        ct_sleep_ms(20);
    }
    fail_msg("no pid in %s", path);
    return 0;
}

static void stop_reaches_grandchildren(void **state)
{
    const char *pidfile = ctt_path("%s/grandchild.pid", ctt_tmpdir());
    const char *script = ctt_path("trap '' TERM; sleep 300 & echo $! > %s; wait", pidfile);
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    ct_proc p;
    pid_t grandchild;
    (void)state;

    ctt_spawn(&p, argv, NULL);
    grandchild = read_pid(pidfile);
    assert_true(ct_proc_alive(&p));
    assert_true(ctt_pid_exists(grandchild));
    /* The shell ignores SIGTERM, so stop must fall back to SIGKILL and
     * must also reach the sleep in the same group. */
    ctt_stop(&p);
    assert_int_equal(p.pid, 0);
    for (int i = 0; i < 100 && ctt_pid_exists(grandchild); i++)
        ct_sleep_ms(20);
    assert_false(ctt_pid_exists(grandchild));
}

static void detects_exit_and_bad_program(void **state)
{
    char *ok[] = {"true", NULL};
    char *missing[] = {"catena-no-such-program", NULL};
    ct_proc p;
    (void)state;

    ctt_ok(ct_proc_spawn(&p, ok, NULL, NULL));
    for (int i = 0; i < 200 && ct_proc_alive(&p); i++)
        ct_sleep_ms(10);
    assert_false(ct_proc_alive(&p));
    ctt_ok(ct_proc_stop(&p, 100));
    assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
    assert_int_equal(ct_proc_spawn(&p, missing, NULL, NULL), CT_EIO);
    assert_non_null(strstr(ct_error_last(), "catena-no-such-program"));
    assert_int_equal(ct_proc_spawn(&p, ok, "/nonexistent-dir", NULL), CT_EIO);
    ct_proc zero = {0, 0};
    ctt_ok(ct_proc_stop(&zero, 10));
}

static void writes_log_and_cwd(void **state)
{
    const char *log = ctt_path("%s/out.log", ctt_tmpdir());
    char *argv[] = {"sh", "-c", "pwd; echo err >&2", NULL};
    ct_proc p;
    char *text;
    (void)state;

    ctt_ok(ct_proc_spawn(&p, argv, "/", log));
    while (ct_proc_alive(&p))
        ct_sleep_ms(10);
    ctt_ok(ct_proc_stop(&p, 100));
    ctt_ok(ct_file_read(&text, NULL, log, 1024));
    assert_string_equal(text, "/\nerr\n");
    free(text);
}

static void free_port(void **state)
{
    uint16_t a, b;
    (void)state;
    ctt_ok(ct_net_free_port(&a));
    ctt_ok(ct_net_free_port(&b));
    assert_true(a > 0 && b > 0);
}

static void files(void **state)
{
    const char *path = ctt_path("%s/f.json", ctt_tmpdir());
    char *text;
    size_t len;
    struct stat st;
    (void)state;

    ctt_ok(ct_file_write_atomic(path, "{\"a\":1}", 7, 0600));
    ctt_ok(ct_file_read(&text, &len, path, 100));
    assert_int_equal(len, 7);
    assert_string_equal(text, "{\"a\":1}");
    free(text);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(ct_file_read(&text, &len, path, 6), CT_ELIMIT);
    assert_int_equal(ct_file_read(&text, &len, "/nonexistent/x", 6), CT_ENOTFOUND);
    assert_int_equal(ct_file_write_atomic("/nonexistent/x", "a", 1, 0600), CT_EIO);
}

/* Nothing planted beside a file is written through: a symlink at the
 * temporary name the old code used (PATH.tmp.PID) leaves its target alone,
 * and a log path that is a symlink is refused. */
static void no_write_through_links(void **state)
{
    const char *victim = ctt_path("%s/victim", ctt_tmpdir());
    const char *path = ctt_path("%s/g.json", ctt_tmpdir());
    const char *log = ctt_path("%s/link.log", ctt_tmpdir());
    char *text = NULL;
    char *argv[] = {"/bin/true", NULL};
    ct_proc p;
    (void)state;

    ctt_ok(ct_file_write_atomic(victim, "keep", 4, 0600));
    assert_int_equal(symlink(victim, ctt_path("%s.tmp.%ld", path, (long)getpid())), 0);
    ctt_ok(ct_file_write_atomic(path, "new", 3, 0600));
    ctt_ok(ct_file_read(&text, NULL, victim, 100));
    assert_string_equal(text, "keep");
    free(text);
    assert_int_equal(symlink(victim, log), 0);
    assert_int_equal(ct_proc_spawn(&p, argv, NULL, log), CT_EIO);
    ctt_ok(ct_file_read(&text, NULL, victim, 100));
    assert_string_equal(text, "keep");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stop_reaches_grandchildren),
        cmocka_unit_test(detects_exit_and_bad_program),
        cmocka_unit_test(writes_log_and_cwd),
        cmocka_unit_test(free_port),
        cmocka_unit_test(files),
        cmocka_unit_test(no_write_through_links),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
