/* `catena api`: runs the federation gateway until SIGINT/SIGTERM. */
#include "cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/api.h"
#include "catena/util.h"

static int load_config(ct_api_config *cfg, const char *path, const char *listen, bool reindex,
                       bool check)
{
    char *text;
    size_t len;
    int rc;

    if (ct_file_read(&text, &len, path, 1 << 20) < 0) {
        fprintf(stderr, "catena api: %s\n", ct_error_last());
        return CLI_USAGE;
    }
    rc = ct_api_config_parse(cfg, text, len);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "catena api: %s: %s\n", path, ct_error_last());
        return CLI_USAGE;
    }
    if (listen != NULL && ct_api_config_set_listen(cfg, listen) < 0) {
        ct_api_config_clear(cfg);
        return cli_usage_error(cli_find("api"), "--listen: %s", ct_error_last());
    }
    cfg->reindex |= reindex;
    if (check) {
        printf("%s: ok\n", path);
        ct_api_config_clear(cfg);
        return -1;
    }
    return 0;
}

int cmd_api(int argc, char **argv)
{
    const cli_cmd *self = cli_find("api");
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"listen", required_argument, NULL, 'l'},
        {"reindex", no_argument, NULL, 'r'},      {"check", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *listen = NULL;
    bool reindex = false, check = false;
    ct_api_config cfg;
    ct_api *api;
    int c, rc;

    while ((c = cli_getopt(self, argc, argv, longopts)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'l': listen = optarg; break;
        case 'r': reindex = true; break;
        case 'k': check = true; break;
        case 'h': cli_print_help(self); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (config == NULL || optind != argc)
        return cli_usage_error(self, "expects --config FILE");
    if ((rc = load_config(&cfg, config, listen, reindex, check)) != 0)
        return rc < 0 ? CLI_OK : rc;
    /* Signals are blocked before any thread starts, so every thread
     * inherits the mask and only sigwait sees them. */
    cli_block_stop_signals();
    rc = ct_api_start(&api, &cfg);
    if (rc < 0) {
        fprintf(stderr, "catena api: %s\n", ct_error_last());
        ct_api_config_clear(&cfg);
        return CLI_FAIL;
    }
    ct_log(CT_LOG_INFO, "listening on http://%s:%u/api/", cfg.listen_host,
           (unsigned)ct_api_port(api));
    cli_wait_stop(-1);
    ct_api_stop(api);
    ct_api_config_clear(&cfg);
    return CLI_OK;
}
