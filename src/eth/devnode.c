/* Starting and stopping the local Hardhat development chain, shared by
 * `catena up` and the test harness. */
#include "catena/eth.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HARDHAT_CLI "node_modules/hardhat/internal/cli/bootstrap.js"

/* Polls eth_chainId until it answers, the node exits, or the deadline. */
static int devnode_wait(ct_devnode *node, int timeout_ms)
{
    int64_t deadline = ct_time_mono_ms() + timeout_ms;
    ct_rpc *rpc;
    int rc;

    if ((rc = ct_rpc_new(&rpc, node->url, 1000)) < 0)
        return rc;
    for (;;) {
        json_t *res = NULL;
        if (ct_rpc_call(rpc, &res, "eth_chainId", NULL) == 0) {
            json_decref(res);
            rc = 0;
            break;
        }
        if (!ct_proc_alive(&node->proc)) {
            rc = ct_error_set(CT_EIO, "hardhat node exited before answering");
            break;
        }
        if (ct_time_mono_ms() >= deadline) {
            rc = ct_error_set(CT_ETIMEOUT, "hardhat node did not answer on %s within %d ms",
                              node->url, timeout_ms);
            break;
        }
        ct_sleep_ms(100);
    }
    ct_rpc_free(rpc);
    return rc;
}

int ct_devnode_start(ct_devnode *out, const char *root, uint16_t port, const char *log_path,
                     int timeout_ms)
{
    char cli[PATH_MAX], port_s[8];
    int rc;

    memset(out, 0, sizeof(*out));
    if ((size_t)snprintf(cli, sizeof(cli), "%s/%s", root, HARDHAT_CLI) >= sizeof(cli))
        return ct_error_set(CT_EINVAL, "path too long: %.64s", root);
    if (access(cli, R_OK) != 0)
        return ct_error_set(CT_ENOTFOUND,
                            "hardhat is not installed in %s (run scripts/bootstrap there)", root);
    if (port == 0 && (rc = ct_net_free_port(&port)) < 0)
        return rc;
    snprintf(port_s, sizeof(port_s), "%u", (unsigned)port);
    snprintf(out->url, sizeof(out->url), "http://127.0.0.1:%u", (unsigned)port);
    out->port = port;
    /* Hardhat insists on running from the project directory (HH12), so the
     * child changes into root and uses the relative CLI path. */
    char *argv[] = {"node", HARDHAT_CLI, "node", "--hostname", "127.0.0.1", "--port", port_s, NULL};
    if ((rc = ct_proc_spawn(&out->proc, argv, root, log_path)) < 0)
        return rc;
    if ((rc = devnode_wait(out, timeout_ms)) < 0) {
        ct_devnode_stop(out);
        return rc;
    }
    return 0;
}

void ct_devnode_stop(ct_devnode *node)
{
    ct_proc_stop(&node->proc, 3000);
}
