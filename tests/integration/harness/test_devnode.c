/* The test harness's Hardhat node: it starts on a free port, answers
 * JSON-RPC, and is gone after a normal stop, after the test process is
 * interrupted, and after the test process is killed outright. */
#include "harness.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void answers_chain_id(void **state)
{
    ct_devnode node;
    ct_rpc *rpc;
    json_t *res = NULL;
    pid_t pid;
    (void)state;

    ctt_node_start(&node);
    pid = node.proc.pid;
    ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
    ctt_ok(ct_rpc_call(rpc, &res, "eth_chainId", NULL));
    assert_string_equal(json_string_value(res), "0x7a69");
    json_decref(res);
    /* A node error keeps the node's code and message. */
    assert_int_equal(ct_rpc_call(rpc, &res, "eth_noSuchMethod", NULL), CT_ERPC);
    assert_non_null(strstr(ct_error_last(), "-32601"));
    ct_rpc_free(rpc);
    ctt_node_stop(&node);
    assert_false(ctt_pid_exists(pid));
}

/* Forks a test process that starts a node, reports its pid, and then
 * meets its end through how(); returns the node's pid. */
static pid_t node_of_doomed_child(void (*how)(void), pid_t *child_out)
{
    int fds[2];
    pid_t child, node_pid = 0;

    assert_int_equal(pipe(fds), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        ct_devnode node;
        close(fds[0]);
        ctt_node_start(&node);
        if (write(fds[1], &node.proc.pid, sizeof(pid_t)) != sizeof(pid_t))
            _exit(3);
        how();
        _exit(4);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &node_pid, sizeof(pid_t)), sizeof(pid_t));
    close(fds[0]);
    assert_true(ctt_pid_exists(node_pid));
    *child_out = child;
    return node_pid;
}

static void wait_gone(pid_t pid)
{
    for (int i = 0; i < 200 && ctt_pid_exists(pid); i++)
        ct_sleep_ms(50);
    assert_false(ctt_pid_exists(pid));
}

static void be_interrupted(void)
{
    raise(SIGINT);
}

static void be_killed(void)
{
    raise(SIGKILL);
}

static void cleanup_on_interrupt(void **state)
{
    pid_t child, node_pid = node_of_doomed_child(be_interrupted, &child);
    int status;
    (void)state;

    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
    wait_gone(node_pid);
}

static void cleanup_on_kill(void **state)
{
    pid_t child, node_pid = node_of_doomed_child(be_killed, &child);
    int status;
    (void)state;

    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    wait_gone(node_pid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answers_chain_id),
        cmocka_unit_test(cleanup_on_interrupt),
        cmocka_unit_test(cleanup_on_kill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
