/* `catena deploy`: deploys the embedded Federation contract with a key of
 * the caller's and prints its address; no Node is needed at run time. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "catena/ledger.h"
#include "catena/util.h"

int cmd_deploy(int argc, char **argv)
{
    const cli_cmd *self = cli_find("deploy");
    static const struct option longopts[] = {
        {"rpc", required_argument, NULL, 'r'},
        {"key-file", required_argument, NULL, 'k'},
        {"key-env", required_argument, NULL, 'e'},
        {"password-file", required_argument, NULL, 'p'},
        {"password-env", required_argument, NULL, 'P'},
        {"consortium", no_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *rpc = NULL, *kf = NULL, *ke = NULL, *pf = NULL, *pe = NULL;
    bool consortium = false, as_json = false;
    uint8_t key[32];
    ct_sender *s = NULL;
    ct_ledger *l = NULL;
    ct_address addr;
    char text[CT_ADDRESS_TEXT_SIZE];
    uint64_t block = 0;
    int c, rc;

    while ((c = cli_getopt(self, argc, argv, longopts)) != -1) {
        switch (c) {
        case 'r': rpc = optarg; break;
        case 'k': kf = optarg; break;
        case 'e': ke = optarg; break;
        case 'p': pf = optarg; break;
        case 'P': pe = optarg; break;
        case 'c': consortium = true; break;
        case 'j': as_json = true; break;
        case 'h': cli_print_help(self); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (rpc == NULL || optind != argc)
        return cli_usage_error(self, "expects --rpc URL and a key");
    if ((rc = cli_load_key(key, "deploy", kf, ke, pf, pe)) != 0)
        return rc;
    rc = ct_sender_new(&s, rpc, key, NULL);
    ct_wipe(key, sizeof(key));
    if (rc == 0 && (rc = ct_ledger_open(&l)) == 0)
        rc = ct_ledger_deploy(l, s, !consortium, &addr, &block);
    ct_ledger_free(l);
    ct_sender_free(s);
    if (rc < 0) {
        fprintf(stderr, "catena deploy: %s\n", ct_error_last());
        return rc == CT_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    ct_address_format(text, &addr);
    if (as_json)
        printf("{\"address\":\"%s\",\"block\":%llu,\"mode\":\"%s\"}\n", text,
               (unsigned long long)block, consortium ? "consortium" : "open");
    else
        printf("%s\n", text);
    return CLI_OK;
}
