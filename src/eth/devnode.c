/* Starting and stopping a local development chain (anvil or Hardhat),
 * shared by `catena up`, the test harness and the benchmarks. */
#include "catena/eth.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HARDHAT_CLI "node_modules/hardhat/internal/cli/bootstrap.js"
#define ANVIL_BIN "node_modules/.bin/anvil"
/* anvil writes its state file on SIGTERM; a large chain takes a moment. */
#define STOP_GRACE_MS 10000

static const char *const kind_names[] = {
    [CT_CHAIN_ANVIL] = "anvil",
    [CT_CHAIN_HARDHAT] = "hardhat",
};

const char *ct_chain_kind_name(ct_chain_kind kind)
{
    return (size_t)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

int ct_chain_kind_parse(ct_chain_kind *out, const char *name)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (ct_chain_kind)i;
            return 0;
        }
    }
    return ct_error_set(CT_EINVAL, "unknown chain kind '%.32s' (anvil or hardhat)", name);
}

/* Polls eth_chainId until it answers, the node exits, or the deadline. */
static int devnode_wait(ct_devnode *node, int timeout_ms, const char *log_path)
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
            ct_log_file_end(CT_LOG_ERROR, "the exited node's log", log_path);
            rc = ct_error_set(CT_EIO, "%s node exited before answering",
                              ct_chain_kind_name(node->kind));
            break;
        }
        if (ct_time_mono_ms() >= deadline) {
            rc = ct_error_set(CT_ETIMEOUT, "%s node did not answer on %s within %d ms",
                              ct_chain_kind_name(node->kind), node->url, timeout_ms);
            break;
        }
        ct_sleep_ms(50);
    }
    ct_rpc_free(rpc);
    return rc;
}

/* Checks that root/rel is there. */
static int installed(const char *root, const char *rel, const char *what)
{
    char path[PATH_MAX];

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >= sizeof(path))
        return ct_error_set(CT_EINVAL, "path too long: %.64s", root);
    if (access(path, R_OK) != 0)
        return ct_error_set(CT_ENOTFOUND, "%s is not installed in %s (run scripts/bootstrap there)",
                            what, root);
    return 0;
}

static int spawn_anvil(ct_devnode *out, const char *root, const ct_devnode_opts *o)
{
    char bin[PATH_MAX], port_s[8], interval_s[16];
    char *argv[16];
    int n = 0, rc;

    if ((rc = installed(root, ANVIL_BIN, "anvil")) < 0)
        return rc;
    snprintf(bin, sizeof(bin), "%s/%s", root, ANVIL_BIN);
    snprintf(port_s, sizeof(port_s), "%u", (unsigned)out->port);
    snprintf(interval_s, sizeof(interval_s), "%d",
             o->state_interval_s > 0 ? o->state_interval_s : 1);
    argv[n++] = bin;
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = port_s;
    argv[n++] = "--chain-id";
    argv[n++] = "31337";
    /* Without it anvil writes every block's whole state as JSON under
     * ~/.foundry/anvil/tmp and never removes it (2 MB a block after 6,000
     * registrations; 64 GB had piled up here). It keeps the last 64 states
     * in memory instead, enough for eth_call a block back; blocks, receipts
     * and logs are kept in full. */
    argv[n++] = "--prune-history";
    argv[n++] = "64";
    if (o->state_path != NULL) {
        argv[n++] = "--state";
        argv[n++] = (char *)o->state_path;
        argv[n++] = "--state-interval";
        argv[n++] = interval_s;
    }
    argv[n] = NULL;
    return ct_proc_spawn(&out->proc, argv, NULL, o->log_path);
}

static int spawn_hardhat(ct_devnode *out, const char *root, const ct_devnode_opts *o)
{
    char port_s[8];
    int rc;

    if (o->state_path != NULL)
        return ct_error_set(CT_EINVAL, "a Hardhat node cannot keep its chain in a file");
    if ((rc = installed(root, HARDHAT_CLI, "hardhat")) < 0)
        return rc;
    snprintf(port_s, sizeof(port_s), "%u", (unsigned)out->port);
    /* Hardhat insists on running from the project directory (HH12), so the
     * child changes into root and uses the relative CLI path. */
    char *argv[] = {"node", HARDHAT_CLI, "node", "--hostname", "127.0.0.1", "--port", port_s, NULL};
    return ct_proc_spawn(&out->proc, argv, root, o->log_path);
}

int ct_devnode_start(ct_devnode *out, const char *root, const ct_devnode_opts *opts)
{
    ct_devnode_opts o = *opts;
    int rc;

    memset(out, 0, sizeof(*out));
    out->kind = o.kind;
    out->port = o.port;
    if (o.timeout_ms <= 0)
        o.timeout_ms = 60000;
    if (out->port == 0 && (rc = ct_net_free_port(&out->port)) < 0)
        return rc;
    snprintf(out->url, sizeof(out->url), "http://127.0.0.1:%u", (unsigned)out->port);
    switch (o.kind) {
    case CT_CHAIN_ANVIL: rc = spawn_anvil(out, root, &o); break;
    case CT_CHAIN_HARDHAT: rc = spawn_hardhat(out, root, &o); break;
    default: rc = ct_error_set(CT_EINVAL, "unknown chain kind %d", (int)o.kind); break;
    }
    if (rc < 0)
        return rc;
    if ((rc = devnode_wait(out, o.timeout_ms, o.log_path)) < 0) {
        ct_devnode_stop(out);
        return rc;
    }
    return 0;
}

void ct_devnode_stop(ct_devnode *node)
{
    ct_proc_stop(&node->proc, STOP_GRACE_MS);
}
