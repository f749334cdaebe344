/* `catena up`: an all-in-one local federation for trying Catena out. It
 * starts each service as a child process group, writes federation.json,
 * and on Ctrl-C or SIGTERM stops everything it started. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "catena/eth.h"
#include "catena/util.h"

struct up_opts {
    const char *dir;
    uint16_t rpc_port;
};

static int up_parse(struct up_opts *o, int argc, char **argv)
{
    const cli_cmd *self = cli_find("up");
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"rpc-port", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    o->dir = "catena-up";
    o->rpc_port = 8545;
    while ((c = cli_getopt(self, argc, argv, longopts)) != -1) {
        switch (c) {
        case 'd': o->dir = optarg; break;
        case 'r':
            if (cli_parse_port(self, "--rpc-port", optarg, &o->rpc_port) != 0)
                return CLI_USAGE;
            break;
        case 'h': cli_print_help(self); return -1;
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
    return 0;
}

static int write_federation(const char *dir, const ct_devnode *node)
{
    char path[PATH_MAX], *text = NULL;
    json_t *doc;
    int rc;

    doc = json_pack("{s:s, s:i}", "rpc_url", node->url, "chain_id", 31337);
    if (doc == NULL)
        return ct_error_set(CT_ENOMEM, "out of memory");
    rc = ct_json_dump(&text, doc);
    json_decref(doc);
    if (rc < 0)
        return rc;
    snprintf(path, sizeof(path), "%s/federation.json", dir);
    rc = ct_file_write_atomic(path, text, strlen(text), 0600);
    free(text);
    return rc;
}

/* Waits for SIGINT/SIGTERM/SIGHUP (blocked by the caller) while watching
 * the services. Returns: 0 on a stop signal, CLI_FAIL if a service died. */
static int up_wait(ct_devnode *node)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    for (;;) {
        struct timespec tick = {0, 500 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig > 0) {
            ct_log(CT_LOG_INFO, "received %s, stopping", strsignal(sig));
            return 0;
        }
        if (!ct_proc_alive(&node->proc)) {
            ct_log(CT_LOG_ERROR, "the hardhat node exited; see its log");
            return CLI_FAIL;
        }
    }
}

int cmd_up(int argc, char **argv)
{
    struct up_opts o;
    ct_devnode node;
    char log_path[PATH_MAX];
    sigset_t set;
    int rc;

    if ((rc = up_parse(&o, argc, argv)) != 0)
        return rc < 0 ? CLI_OK : rc;
    if (mkdir(o.dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "catena up: cannot create %s: %s\n", o.dir, strerror(errno));
        return CLI_FAIL;
    }
    /* Block the stop signals before starting anything, so a Ctrl-C during
     * start-up is taken by up_wait and still stops what was started. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);

    snprintf(log_path, sizeof(log_path), "%s/hardhat.log", o.dir);
    if (ct_devnode_start(&node, cli_root_dir(), o.rpc_port, log_path, 60000) < 0) {
        fprintf(stderr, "catena up: %s\n", ct_error_last());
        return CLI_FAIL;
    }
    if (write_federation(o.dir, &node) < 0) {
        fprintf(stderr, "catena up: %s\n", ct_error_last());
        ct_devnode_stop(&node);
        return CLI_FAIL;
    }
    printf("chain (Hardhat, chain id 31337): %s\n"
           "state and logs: %s (federation.json, hardhat.log)\n"
           "press Ctrl-C to stop\n",
           node.url, o.dir);
    fflush(stdout);
    rc = up_wait(&node);
    ct_devnode_stop(&node);
    printf("stopped\n");
    return rc;
}
