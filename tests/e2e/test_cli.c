/* The catena binary as a user meets it: help, version, usage errors with
 * exit code 2 and nothing on stdout, and `catena up` stopping everything
 * it started on Ctrl-C (SIGINT) and on SIGTERM. */
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void help_and_version(void **state)
{
    ctt_run r;
    (void)state;

    ctt_catena(&r, (const char *[]){"--help", NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_non_null(strstr(r.out, "usage: catena <command>"));
    assert_non_null(strstr(r.out, "  up "));
    ctt_run_free(&r);
    ctt_catena(&r, (const char *[]){"help", "up", NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_non_null(strstr(r.out, "--rpc-port"));
    ctt_run_free(&r);
    ctt_catena(&r, (const char *[]){"up", "--help", NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_non_null(strstr(r.out, "usage: catena up"));
    ctt_run_free(&r);
    ctt_catena(&r, (const char *[]){"version", NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_true(strncmp(r.out, "catena ", 7) == 0);
    ctt_run_free(&r);
}

/* Each bad invocation exits 2 with a one-line error plus the usage line,
 * and prints nothing on stdout. */
static void usage_errors(void **state)
{
    const char *const *cases[] = {
        (const char *[]){"frobnicate", NULL},
        (const char *[]){"--frobnicate", NULL},
        (const char *[]){"help", "frobnicate", NULL},
        (const char *[]){"version", "extra", NULL},
        (const char *[]){"up", "--no-such-flag", NULL},
        (const char *[]){"up", "-x", NULL},
        (const char *[]){"up", "--rpc-port", NULL},
        (const char *[]){"up", "--rpc-port", "65536", NULL},
        (const char *[]){"up", "--rpc-port", "80x", NULL},
        (const char *[]){"up", "stray", NULL},
        (const char *[]){NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ctt_run r;
        ctt_catena(&r, cases[i]);
        if (ctt_exit_code(&r) != 2 || r.out[0] != '\0')
            fail_msg("case %zu (%s): exit %d, stdout '%s'", i, cases[i][0] ? cases[i][0] : "(none)",
                     ctt_exit_code(&r), r.out);
        char *nl = strchr(r.err, '\n');
        assert_non_null(nl);
        assert_non_null(strstr(r.err, "usage:"));
        ctt_run_free(&r);
    }
}

/* `catena can simulate`: JSON with a result per (j, f), the figure, the
 * same numbers for the same seed, and bad input refused with exit 2. */
static void can_simulate(void **state)
{
    const char *svg = ctt_path("%s/can.svg", ctt_tmpdir());
    ctt_run r, again;
    json_t *doc, *results;
    char *text;
    (void)state;

    ctt_catena(&r, (const char *[]){"can", "simulate", "--runs", "5", "--join", ".2,.05",
                                     "--fail", ".5", "--json", "--svg", svg, NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    ctt_ok(ct_json_parse(&doc, r.out, strlen(r.out), 16));
    results = json_object_get(doc, "results");
    assert_int_equal(json_array_size(results), 2);
    assert_true(json_real_value(json_object_get(json_array_get(results, 1), "join")) == 0.05);
    assert_true(json_integer_value(json_object_get(json_array_get(results, 0), "max")) <= 10);
    ctt_ok(ct_file_read(&text, NULL, svg, 1 << 20));
    assert_true(strncmp(text, "<svg ", 5) == 0);
    free(text);
    ctt_catena(&again, (const char *[]){"can", "simulate", "--runs", "5", "--join", ".2,.05",
                                         "--fail", ".5", "--json", NULL});
    assert_string_equal(again.out, r.out);
    json_decref(doc);
    ctt_run_free(&again);
    ctt_run_free(&r);

    const char *const *bad[] = {
        (const char *[]){"can", "simulate", "--join", "1.5", NULL},
        (const char *[]){"can", "simulate", "--join", ".2,,.1", NULL},
        (const char *[]){"can", "simulate", "--nmin", "11", NULL},
        (const char *[]){"can", "simulate", "--runs", "0", NULL},
        (const char *[]){"can", "simulate", "stray", NULL},
        (const char *[]){"can", "frobnicate", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ctt_catena(&r, bad[i]);
        if (ctt_exit_code(&r) != 2 || r.out[0] != '\0' || r.err[0] == '\0')
            fail_msg("bad case %zu: exit %d, stdout '%s'", i, ctt_exit_code(&r), r.out);
        ctt_run_free(&r);
    }
}

/* Returns the pids of pid's direct children (from /proc). */
static int children_of(pid_t pid, pid_t *out, int max)
{
    char *text;
    int n = 0;
    const char *path = ctt_path("/proc/%d/task/%d/children", (int)pid, (int)pid);

    if (ct_file_read(&text, NULL, path, 4096) < 0)
        return 0;
    for (char *p = text; *p != '\0' && n < max;) {
        long v = strtol(p, &p, 10);
        if (v > 0)
            out[n++] = (pid_t)v;
        while (*p == ' ')
            p++;
    }
    free(text);
    return n;
}

/* Starts `catena up`, waits for federation.json, checks the chain answers,
 * sends sig, and checks catena exits 0 leaving none of its children. */
static void up_stops_on(int sig)
{
    const char *dir = ctt_path("%s/up-%d", ctt_tmpdir(), sig);
    const char *fed = ctt_path("%s/federation.json", dir);
    char *argv[] = {(char *)ctt_catena_bin(), "up", "--dir", (char *)dir, "--rpc-port", "0",
                    "--api-port", "0", NULL};
    pid_t kids[16];
    int nkids = 0, status;
    char *text = NULL;
    ct_proc up;

    ctt_spawn(&up, argv, ctt_path("%s/up-%d.log", ctt_tmpdir(), sig));
    for (int i = 0; i < 600 && ct_file_read(&text, NULL, fed, 1 << 16) < 0; i++) {
        assert_true(ct_proc_alive(&up));
        ct_sleep_ms(100);
    }
    assert_non_null(text);
    json_t *doc;
    const char *url;
    ctt_ok(ct_json_parse(&doc, text, strlen(text), 8));
    ctt_ok(ct_json_get_string(&url, doc, "rpc_url", false));
    ct_rpc *rpc;
    json_t *res;
    ctt_ok(ct_rpc_new(&rpc, url, 5000));
    ctt_ok(ct_rpc_call(rpc, &res, "eth_chainId", NULL));
    assert_string_equal(json_string_value(res), "0x7a69");
    json_decref(res);
    ct_rpc_free(rpc);
    json_decref(doc);
    free(text);

    nkids = children_of(up.pid, kids, 16);
    assert_int_equal(nkids, 4); /* the chain node, two agents, the gateway */
    kill(up.pid, sig); /* the leader only, as a terminal's Ctrl-C reaches catena */
    assert_int_equal(waitpid(up.pid, &status, 0), up.pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    ctt_reaped(&up);
    for (int i = 0; i < nkids; i++)
        assert_false(ctt_pid_exists(kids[i]));
}

static void up_stops_on_ctrl_c(void **state)
{
    (void)state;
    up_stops_on(SIGINT);
}

static void up_stops_on_sigterm(void **state)
{
    (void)state;
    up_stops_on(SIGTERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(help_and_version),
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(can_simulate),
        cmocka_unit_test(up_stops_on_ctrl_c),
        cmocka_unit_test(up_stops_on_sigterm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
