/* `catena up`: an all-in-one local federation for trying Catena out: a
 * Hardhat chain, the Federation contract, two DC agents (DC1, DC2) with
 * funded keystores, one gateway, both DCs registered through it. Each
 * service is a child process group; Ctrl-C or SIGTERM stops them all. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catena/eth.h"
#include "catena/ledger.h"
#include "catena/util.h"

#define N_DCS 2
/* Hardhat's first dev account ("test test ... junk"): deploys and funds. */
static const char dev_key_hex[] =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

struct up_dc {
    char name[8];
    char key_file[PATH_MAX];
    ct_address wallet;
    char token[65];
    uint16_t port;
    ct_proc proc;
};

struct up {
    const char *dir;
    uint16_t rpc_port, api_port;
    char exe[PATH_MAX];
    char pw_file[PATH_MAX];
    ct_devnode node;
    ct_address contract;
    uint64_t deploy_block;
    struct up_dc dcs[N_DCS];
    ct_proc api;
    char api_url[64];
};

static int up_parse(struct up *u, int argc, char **argv)
{
    const cli_cmd *self = cli_find("up");
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"rpc-port", required_argument, NULL, 'r'},
        {"api-port", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    u->dir = "catena-up";
    u->rpc_port = 8545;
    u->api_port = 5100;
    while ((c = cli_getopt(self, argc, argv, longopts)) != -1) {
        switch (c) {
        case 'd': u->dir = optarg; break;
        case 'r':
            if (cli_parse_port(self, "--rpc-port", optarg, &u->rpc_port) != 0)
                return CLI_USAGE;
            break;
        case 'a':
            if (cli_parse_port(self, "--api-port", optarg, &u->api_port) != 0)
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

static const char *up_path(const struct up *u, const char *name)
{
    static char paths[8][PATH_MAX];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, PATH_MAX, "%s/%s", u->dir, name);
    return p;
}

/* A random secret as hex (tokens, the keystore password). */
static int random_hex(char *out, size_t bytes)
{
    uint8_t raw[32];
    int rc = ct_random(raw, bytes);

    if (rc == 0)
        ct_hex_encode(out, 2 * bytes + 1, raw, bytes, false);
    ct_wipe(raw, sizeof(raw));
    return rc;
}

/* Deploys the contract and creates, funds and saves each DC's key. */
static int up_chain(struct up *u)
{
    uint8_t dev[32], key[32];
    char pw[65], *json = NULL;
    ct_sender *s = NULL;
    ct_ledger *l = NULL;
    size_t len;
    int rc;

    ct_hex_decode(dev, 32, &len, dev_key_hex, strlen(dev_key_hex));
    if ((rc = ct_sender_new(&s, u->node.url, dev, NULL)) < 0 || (rc = ct_ledger_open(&l)) < 0 ||
        (rc = ct_ledger_deploy(l, s, true, &u->contract, &u->deploy_block)) < 0 ||
        (rc = random_hex(pw, 32)) < 0 ||
        (rc = ct_file_write_atomic(u->pw_file, pw, strlen(pw), 0600)) < 0)
        goto done;
    for (int i = 0; i < N_DCS; i++) {
        struct up_dc *dc = &u->dcs[i];
        ct_send_result res;
        ct_send_req fund = {.to = &dc->wallet};
        if ((rc = ct_seckey_generate(key)) < 0 ||
            (rc = ct_address_from_seckey(&dc->wallet, key)) < 0 ||
            (rc = ct_keystore_encrypt(&json, key, pw, strlen(pw), &CT_KEYSTORE_LIGHT)) < 0 ||
            (rc = ct_file_write_atomic(dc->key_file, json, strlen(json), 0600)) < 0 ||
            (rc = random_hex(dc->token, 32)) < 0)
            goto done;
        free(json);
        json = NULL;
        ct_u256_parse(&fund.value, "1000000000000000000000"); /* 1000 ETH */
        rc = ct_sender_send(s, &res, &fund, true);
        ct_send_result_clear(&res);
        if (rc < 0)
            goto done;
    }
done:
    ct_wipe(key, sizeof(key));
    ct_wipe(pw, sizeof(pw));
    free(json);
    ct_ledger_free(l);
    ct_sender_free(s);
    return rc < 0 ? ct_error_wrap("setting up the chain") : 0;
}

/* tokens.json for the agents (hashes only) and api.json for the gateway. */
static int up_configs(struct up *u)
{
    json_t *tokens = json_object(), *agents = json_array(), *hashes = json_array(), *api;
    char addr[CT_ADDRESS_TEXT_SIZE], contract[CT_ADDRESS_TEXT_SIZE], *text = NULL;
    int rc;

    ct_address_format(contract, &u->contract);
    for (int i = 0; i < N_DCS; i++) {
        struct up_dc *dc = &u->dcs[i];
        char hash[65], url[96];
        ct_token_hash(hash, dc->token);
        ct_address_format(addr, &dc->wallet);
        snprintf(url, sizeof(url), "ws://127.0.0.1:%u/ws/%s", (unsigned)dc->port, dc->name);
        json_object_set_new(tokens, dc->name, json_pack("[s]", hash));
        json_array_append_new(
            agents, json_pack("{s:s, s:s, s:s}", "name", dc->name, "wallet", addr, "url", url));
        json_array_append_new(hashes, json_pack("{s:s, s:s}", "dc", dc->name, "sha256", hash));
    }
    char listen[32], swagger[PATH_MAX], web[PATH_MAX];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)u->api_port);
    snprintf(swagger, sizeof(swagger), "%s/node_modules/swagger-ui-dist", cli_root_dir());
    snprintf(web, sizeof(web), "%s/web", cli_root_dir());
    api = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b, s:i, s:s, s:s, s:o, s:o}", "listen", listen,
                    "rpc_url", u->node.url, "contract", contract, "from_block",
                    (json_int_t)u->deploy_block, "cache", up_path(u, "cache.sqlite"), "reindex", 1,
                    "agent_timeout_ms", 10000, "swagger_dir", swagger, "web_dir", web, "agents",
                    agents, "tokens", hashes);
    rc = ct_json_dump(&text, tokens);
    if (rc == 0)
        rc = ct_file_write_atomic(up_path(u, "tokens.json"), text, strlen(text), 0600);
    free(text);
    text = NULL;
    if (rc == 0 && (rc = ct_json_dump(&text, api)) == 0)
        rc = ct_file_write_atomic(up_path(u, "api.json"), text, strlen(text), 0600);
    free(text);
    json_decref(tokens);
    json_decref(api);
    return rc;
}

/* Waits until a service accepts TCP connections on port (or dies). */
static int wait_listening(ct_proc *p, uint16_t port, const char *what)
{
    for (int i = 0; i < 600; i++) {
        if (ct_net_can_connect(port))
            return 0;
        if (!ct_proc_alive(p))
            return ct_error_set(CT_EIO, "%s exited during start-up; see its log", what);
        ct_sleep_ms(50);
    }
    return ct_error_set(CT_ETIMEOUT, "%s did not listen on port %u", what, (unsigned)port);
}

static int up_agents(struct up *u)
{
    char contract[CT_ADDRESS_TEXT_SIZE], listen[32], log[PATH_MAX];
    int rc;

    ct_address_format(contract, &u->contract);
    for (int i = 0; i < N_DCS; i++) {
        struct up_dc *dc = &u->dcs[i];
        char *argv[] = {
            u->exe,       "agent",      "--name",          dc->name,
            "--key-file", dc->key_file, "--password-file", u->pw_file,
            "--rpc",      u->node.url,  "--contract",      contract,
            "--listen",   listen,       "--tokens",        (char *)up_path(u, "tokens.json"),
            NULL};
        snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)dc->port);
        snprintf(log, sizeof(log), "%s/agent-%s.log", u->dir, dc->name);
        if ((rc = ct_proc_spawn(&dc->proc, argv, NULL, log)) < 0 ||
            (rc = wait_listening(&dc->proc, dc->port, "an agent")) < 0)
            return rc;
    }
    return 0;
}

static int up_gateway(struct up *u)
{
    char *argv[] = {u->exe, "api", "--config", (char *)up_path(u, "api.json"), NULL};
    char url[128];
    int rc;

    snprintf(u->api_url, sizeof(u->api_url), "http://127.0.0.1:%u/api", (unsigned)u->api_port);
    if ((rc = ct_proc_spawn(&u->api, argv, NULL, up_path(u, "api.log"))) < 0 ||
        (rc = wait_listening(&u->api, u->api_port, "the gateway")) < 0)
        return rc;
    /* Healthy once both agents are connected. */
    snprintf(url, sizeof(url), "%s/health", u->api_url);
    for (int i = 0; i < 200; i++) {
        long status = 0;
        json_t *body = NULL;
        if (cli_http(&status, &body, "GET", url, NULL, NULL) == 0 && status == 200) {
            json_decref(body);
            return 0;
        }
        json_decref(body);
        ct_sleep_ms(50);
    }
    return ct_error_set(CT_ETIMEOUT, "the gateway did not become healthy; see %s",
                        up_path(u, "api.log"));
}

/* Registers each DC through the gateway, as a DC operator would. */
static int up_register(struct up *u)
{
    char url[128], addr[CT_ADDRESS_TEXT_SIZE];

    snprintf(url, sizeof(url), "%s/datacenter/register/", u->api_url);
    for (int i = 0; i < N_DCS; i++) {
        long status = 0;
        json_t *resp = NULL, *body;
        ct_address_format(addr, &u->dcs[i].wallet);
        body = json_pack("{s:s, s:s}", "name", u->dcs[i].name, "wallet", addr);
        int rc = cli_http(&status, &resp, "POST", url, u->dcs[i].token, body);
        json_decref(body);
        if (rc == 0 && status != 200)
            rc = ct_error_set(CT_EIO, "registering %s: HTTP %ld: %s", u->dcs[i].name, status,
                              json_string_value(json_object_get(resp, "error")));
        json_decref(resp);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int up_federation_json(struct up *u)
{
    json_t *dcs = json_array(), *doc;
    char addr[CT_ADDRESS_TEXT_SIZE], contract[CT_ADDRESS_TEXT_SIZE], *text = NULL;
    int rc;

    for (int i = 0; i < N_DCS; i++) {
        char agent[96];
        ct_address_format(addr, &u->dcs[i].wallet);
        snprintf(agent, sizeof(agent), "ws://127.0.0.1:%u/ws/%s", (unsigned)u->dcs[i].port,
                 u->dcs[i].name);
        json_array_append_new(
            dcs, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "name", u->dcs[i].name, "wallet", addr,
                           "token", u->dcs[i].token, "agent_url", agent, "key_file",
                           u->dcs[i].key_file, "agent_pid", (json_int_t)u->dcs[i].proc.pid));
    }
    ct_address_format(contract, &u->contract);
    doc = json_pack("{s:s, s:s, s:i, s:s, s:I, s:I, s:o}", "api_url", u->api_url, "rpc_url",
                    u->node.url, "chain_id", 31337, "contract", contract, "deploy_block",
                    (json_int_t)u->deploy_block, "api_pid", (json_int_t)u->api.pid, "datacenters",
                    dcs);
    rc = ct_json_dump(&text, doc);
    if (rc == 0)
        rc = ct_file_write_atomic(up_path(u, "federation.json"), text, strlen(text), 0600);
    free(text);
    json_decref(doc);
    return rc;
}

/* Picks free ports where asked (0) and names the files. */
static int up_prepare(struct up *u)
{
    ssize_t n = readlink("/proc/self/exe", u->exe, sizeof(u->exe) - 1);
    int rc = 0;

    if (n < 0)
        return ct_error_set(CT_EIO, "cannot find the catena binary: %s", strerror(errno));
    u->exe[n] = '\0';
    if (mkdir(u->dir, 0700) < 0 && errno != EEXIST)
        return ct_error_set(CT_EIO, "cannot create %s: %s", u->dir, strerror(errno));
    if (mkdir(up_path(u, "keys"), 0700) < 0 && errno != EEXIST)
        return ct_error_set(CT_EIO, "cannot create %s/keys: %s", u->dir, strerror(errno));
    snprintf(u->pw_file, sizeof(u->pw_file), "%s/keys/password", u->dir);
    if (u->api_port == 0)
        rc = ct_net_free_port(&u->api_port);
    for (int i = 0; rc == 0 && i < N_DCS; i++) {
        snprintf(u->dcs[i].name, sizeof(u->dcs[i].name), "DC%d", i + 1);
        snprintf(u->dcs[i].key_file, sizeof(u->dcs[i].key_file), "%s/keys/DC%d.json", u->dir,
                 i + 1);
        rc = ct_net_free_port(&u->dcs[i].port);
    }
    return rc;
}

/* Waits for SIGINT/SIGTERM/SIGHUP (blocked by the caller) while watching
 * the services. Returns: 0 on a stop signal, CLI_FAIL if a service died. */
static int up_wait(struct up *u)
{
    for (;;) {
        if (cli_wait_stop(500) > 0)
            return 0;
        bool dead = !ct_proc_alive(&u->node.proc) || !ct_proc_alive(&u->api);
        for (int i = 0; i < N_DCS; i++)
            dead |= !ct_proc_alive(&u->dcs[i].proc);
        if (dead) {
            ct_log(CT_LOG_ERROR, "a service exited; see the logs in %s", u->dir);
            return CLI_FAIL;
        }
    }
}

static void up_stop(struct up *u)
{
    ct_proc_stop(&u->api, 5000);
    for (int i = 0; i < N_DCS; i++)
        ct_proc_stop(&u->dcs[i].proc, 5000);
    ct_devnode_stop(&u->node);
}

static int up_start(struct up *u)
{
    int rc;

    if ((rc = up_prepare(u)) < 0)
        return rc;
    if ((rc = ct_devnode_start(&u->node, cli_root_dir(), u->rpc_port, up_path(u, "hardhat.log"),
                               60000)) < 0)
        return rc;
    if ((rc = up_chain(u)) < 0 || (rc = up_configs(u)) < 0 || (rc = up_agents(u)) < 0 ||
        (rc = up_gateway(u)) < 0 || (rc = up_register(u)) < 0 || (rc = up_federation_json(u)) < 0)
        return rc;
    return 0;
}

int cmd_up(int argc, char **argv)
{
    struct up u;
    int rc;

    memset(&u, 0, sizeof(u));
    if ((rc = up_parse(&u, argc, argv)) != 0)
        return rc < 0 ? CLI_OK : rc;
    /* Block the stop signals before starting anything, so a Ctrl-C during
     * start-up is taken by up_wait and still stops what was started. */
    cli_block_stop_signals();
    if (up_start(&u) < 0) {
        fprintf(stderr, "catena up: %s\n", ct_error_last());
        up_stop(&u);
        return CLI_FAIL;
    }
    char contract[CT_ADDRESS_TEXT_SIZE];
    ct_address_format(contract, &u.contract);
    printf("gateway:  %s/ (Swagger UI: %s/swagger/)\n"
           "chain:    %s (Hardhat, chain id 31337), contract %s\n"
           "agents:   DC1 on port %u, DC2 on port %u\n"
           "state:    %s/federation.json (URLs, wallets, tokens), logs in %s\n"
           "press Ctrl-C to stop\n",
           u.api_url, u.api_url, u.node.url, contract, (unsigned)u.dcs[0].port,
           (unsigned)u.dcs[1].port, u.dir, u.dir);
    fflush(stdout);
    rc = up_wait(&u);
    up_stop(&u);
    printf("stopped\n");
    return rc;
}
