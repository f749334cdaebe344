/* `catena up`: an all-in-one local federation for trying Catena out: a
 * chain (anvil by default, its state kept under --dir; or Hardhat), the
 * Federation contract, two DC agents (DC1, DC2) with funded keystores, one
 * gateway, both DCs registered through it; with --can N, also the seed
 * 002 orchestration: Registry and Cloud contracts, N CAN nodes and
 * --orchestrators M orchestrators. Run again on the same --dir it
 * resumes the same federation. Each service is a child process group,
 * restarted with backoff when it dies; Ctrl-C or SIGTERM stops them all. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catena/eth.h"
#include "catena/ledger.h"
#include "catena/orch.h"
#include "catena/util.h"

#define N_DCS 2
/* --can: at most this many CAN nodes and orchestrators. */
#define MAX_CAN 16
#define CAN_RESOURCES 8
/* Prices in wei a minute of the local cloud, network and orchestrators. */
#define CAN_CLOUD_PRICE "100000000"
#define CAN_RESOURCE_PRICE "1000000000"
#define CAN_NETWORK_PRICE 1000000000
#define CAN_ORCH_PRICE 500000000
/* Funded accounts for trying agreements out (`catena agreement --as`). */
static const char *const account_names[] = {"provider", "user", "party1", "party2", "party3"};
#define N_ACCOUNTS (sizeof(account_names) / sizeof(account_names[0]))
/* The first dev account of both chain kinds ("test test ... junk"):
 * deploys and funds. */
static const char dev_key_hex[] =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/* Restart backoff of a supervised service: doubles from MIN to MAX, back
 * to MIN once the service has stayed up for STABLE_MS. */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define STABLE_MS 60000
#define STATE_FILE "chain/anvil-state.json"
/* anvil writes its whole chain at each dump (about 60 MB after 10,000
 * registrations, a second of its CPU), so not every second; what a kill -9
 * takes back in between, the agents' outboxes send again. */
#define DEFAULT_STATE_INTERVAL_S 5
/* --chain poa: an EthereumJS Clique network of --nodes sealers. */
#define DEFAULT_POA_NODES 3
/* On the PoA network a refused write is known a block or two after it
 * was checked (the agent checks a revert again once the chain has moved):
 * the gateway waits longer before it answers 202, and for the agent. */
#define POA_ACCEPT_AFTER_MS 15000
#define POA_AGENT_TIMEOUT_MS 30000
/* How long the DCs' registrations may take to show in the gateway. */
#define REGISTER_WAIT_MS 60000
#define POA_PERIOD_S 2
#define URL_LIST_SIZE (CT_POA_MAX_NODES * 64)
/* Who talks to which node first: DC1's agent to node 1, DC2's to node 2,
 * the gateway to node 3 (each organisation to its own node), each failing
 * over to the others in turn. */
enum { ROLE_DC1, ROLE_DC2, ROLE_GATEWAY, N_ROLES };

/* A supervised child process. */
struct svc {
    ct_proc *proc;      /* the process it watches */
    const char *what;   /* "agent DC1", "gateway", "chain node" */
    int64_t started_ms; /* when it last started */
    int64_t restart_at; /* 0: running; else when to start it again */
    int backoff_ms;
    unsigned restarts;
};

struct up_dc {
    char name[8];
    char key_file[PATH_MAX];
    ct_address wallet;
    char token[65];
    uint16_t port;
    ct_proc proc;
    struct svc svc;
};

/* A CAN node or an orchestrator of --can. */
struct up_member {
    char key_file[PATH_MAX]; /* hex key, DIR/keys/can-N.key or orch-N.key */
    char dir[PATH_MAX];      /* DIR/can/node-N or orch-N */
    char what[32];           /* "CAN node 1", "orchestrator 1" */
    ct_address addr;
    uint16_t port; /* kept across runs: the Registry holds a node's URL */
    ct_proc proc;
    struct svc svc;
};

struct up {
    const char *dir;
    ct_chain_kind kind;
    bool kind_given;
    bool poa;      /* --chain poa (kind is then unused) */
    int poa_nodes; /* --nodes */
    ct_poa *net;   /* the PoA network, while it runs */
    uint64_t chain_id;
    char rpc[N_ROLES][URL_LIST_SIZE]; /* each role's node list */
    bool resumed;                     /* federation.json was there */
    uint16_t rpc_port, api_port;
    int state_interval_s; /* anvil: seconds between state dumps */
    char exe[PATH_MAX];
    char pw_file[PATH_MAX];
    char gw_key_file[PATH_MAX]; /* the gateway's key: agents accept only it */
    char gw_address[CT_ADDRESS_TEXT_SIZE];
    char state_path[PATH_MAX]; /* anvil's --state file, "" for Hardhat */
    ct_devnode node;
    struct svc node_svc;
    ct_address contract;
    uint64_t deploy_block;
    struct up_dc dcs[N_DCS];
    ct_proc api;
    struct svc api_svc;
    char api_url[64];
    int can_nodes, can_orchs; /* --can, --orchestrators (0: none) */
    bool can_deployed;        /* registry and cloud are on chain */
    ct_address registry, cloud;
    char sched_key_file[PATH_MAX];
    struct up_member can[MAX_CAN], orch[MAX_CAN];
    ct_address accounts[N_ACCOUNTS];
    bool accounts_ready;
    const char *clouds_dir;          /* --clouds */
    char clouds_yaml[PATH_MAX + 16]; /* its clouds.yaml */
    char amqp[N_DCS][512];           /* each DC's cloud's RabbitMQ (clouds.env) */
};

/* The clouds of --clouds DIR: DIR/clouds.yaml, and from DIR/clouds.env
 * (written by scripts/clouds up) the RabbitMQ of cloud a for DC1 and of
 * cloud b for DC2. */
static int up_clouds(struct up *u)
{
    static const char *const keys[N_DCS] = {"CLOUD_A_AMQP_URL=", "CLOUD_B_AMQP_URL="};
    char env[PATH_MAX + 16], dir[PATH_MAX], *text = NULL, *line, *next;
    int rc;

    /* Absolute: the agents and the gateway keep the paths. */
    if (realpath(u->clouds_dir, dir) == NULL)
        return ct_error_set(CT_ENOTFOUND, "no folder %s (run scripts/clouds up %s)", u->clouds_dir,
                            u->clouds_dir);
    snprintf(u->clouds_yaml, sizeof(u->clouds_yaml), "%s/clouds.yaml", dir);
    snprintf(env, sizeof(env), "%s/clouds.env", dir);
    if (access(u->clouds_yaml, R_OK) != 0 || (rc = ct_file_read(&text, NULL, env, 1 << 20)) < 0)
        return ct_error_set(CT_ENOTFOUND,
                            "no clouds.yaml and clouds.env in %s (run "
                            "scripts/clouds up %s)",
                            u->clouds_dir, u->clouds_dir);
    for (line = text; line != NULL; line = next) {
        if ((next = strchr(line, '\n')) != NULL)
            *next++ = '\0';
        for (int i = 0; i < N_DCS; i++)
            if (strncmp(line, keys[i], strlen(keys[i])) == 0)
                snprintf(u->amqp[i], sizeof(u->amqp[i]), "%s", line + strlen(keys[i]));
    }
    free(text);
    for (int i = 0; i < N_DCS; i++)
        if (u->amqp[i][0] == '\0')
            return ct_error_set(CT_EPARSE, "%s names no %.*s", env, (int)strlen(keys[i]) - 1,
                                keys[i]);
    return 0;
}

static int up_parse(struct up *u, int argc, char **argv)
{
    const cli_cmd *self = cli_find("up");
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"chain", required_argument, NULL, 'c'},
        {"rpc-port", required_argument, NULL, 'r'},
        {"api-port", required_argument, NULL, 'a'},
        {"state-interval", required_argument, NULL, 's'},
        {"nodes", required_argument, NULL, 'n'},
        {"can", required_argument, NULL, 'C'},
        {"orchestrators", required_argument, NULL, 'O'},
        {"clouds", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    u->dir = "catena-up";
    u->rpc_port = 8545;
    u->api_port = 5100;
    u->kind = CT_CHAIN_ANVIL;
    u->state_interval_s = DEFAULT_STATE_INTERVAL_S;
    while ((c = cli_getopt(self, argc, argv, longopts)) != -1) {
        switch (c) {
        case 'd': u->dir = optarg; break;
        case 'c':
            u->poa = strcmp(optarg, "poa") == 0;
            if (!u->poa && ct_chain_kind_parse(&u->kind, optarg) < 0)
                return cli_usage_error(self, "--chain must be anvil, hardhat or poa");
            u->kind_given = true;
            break;
        case 'n': {
            uint64_t v;
            if (ct_parse_uint(&v, optarg, CT_POA_MAX_NODES) < 0 || v == 0)
                return cli_usage_error(self, "--nodes must be 1 to %d", CT_POA_MAX_NODES);
            u->poa_nodes = (int)v;
            break;
        }
        case 'r':
            if (cli_parse_port(self, "--rpc-port", optarg, &u->rpc_port) != 0)
                return CLI_USAGE;
            break;
        case 'a':
            if (cli_parse_port(self, "--api-port", optarg, &u->api_port) != 0)
                return CLI_USAGE;
            break;
        case 's': {
            uint64_t v;
            if (ct_parse_uint(&v, optarg, 3600) < 0 || v == 0)
                return cli_usage_error(self, "--state-interval must be 1 to 3600 seconds");
            u->state_interval_s = (int)v;
            break;
        }
        case 'C':
        case 'O': {
            uint64_t v;
            if (ct_parse_uint(&v, optarg, MAX_CAN) < 0 || v == 0)
                return cli_usage_error(self, "--%s must be 1 to %d",
                                       c == 'C' ? "can" : "orchestrators", MAX_CAN);
            *(c == 'C' ? &u->can_nodes : &u->can_orchs) = (int)v;
            break;
        }
        case 'L': u->clouds_dir = optarg; break;
        case 'h': cli_print_help(self); return -1;
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
    if (u->clouds_dir != NULL && up_clouds(u) < 0)
        return cli_usage_error(self, "--clouds: %s", ct_error_last());
    if (u->can_orchs != 0 && u->can_nodes == 0)
        return cli_usage_error(self, "--orchestrators goes with --can");
    if (u->can_nodes != 0 && u->can_orchs == 0)
        u->can_orchs = 2;
    if (u->poa_nodes != 0 && !u->poa)
        return cli_usage_error(self, "--nodes goes with --chain poa");
    if (u->poa_nodes == 0)
        u->poa_nodes = DEFAULT_POA_NODES;
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

/* ---------------------------------------------------------------- federation.json */

/* Reads one DC of a saved federation.json into dc. */
static int load_dc(struct up_dc *dc, const json_t *j, const char *want_name)
{
    const char *name, *wallet, *token, *key_file, *agent_url, *port_at;
    unsigned long port;

    if (ct_json_get_string(&name, j, "name", false) < 0 ||
        ct_json_get_string(&wallet, j, "wallet", false) < 0 ||
        ct_json_get_string(&token, j, "token", false) < 0 ||
        ct_json_get_string(&key_file, j, "key_file", false) < 0 ||
        ct_json_get_string(&agent_url, j, "agent_url", false) < 0)
        return ct_error_wrap("datacenter");
    if (strcmp(name, want_name) != 0)
        return ct_error_set(CT_EINVAL, "datacenter %.16s where %s was expected", name, want_name);
    if (ct_address_parse(&dc->wallet, wallet) < 0)
        return ct_error_wrap("%s wallet", want_name);
    if (strlen(token) != 64 || strlen(key_file) >= sizeof(dc->key_file))
        return ct_error_set(CT_EINVAL, "%s: bad token or key file", want_name);
    port_at = strrchr(agent_url, ':');
    if (port_at == NULL || (port = strtoul(port_at + 1, NULL, 10)) == 0 || port > 65535)
        return ct_error_set(CT_EINVAL, "%s: bad agent_url", want_name);
    memcpy(dc->token, token, 65);
    snprintf(dc->key_file, sizeof(dc->key_file), "%s", key_file);
    dc->port = (uint16_t)port;
    return 0;
}

/* The port of a saved "http://127.0.0.1:PORT" URL. */
static int url_port(uint16_t *port, const char *url)
{
    const char *at = url != NULL ? strrchr(url, ':') : NULL;
    unsigned long p = at != NULL ? strtoul(at + 1, NULL, 10) : 0;

    if (p == 0 || p > 65535)
        return ct_error_set(CT_EINVAL, "bad URL %.64s", url ? url : "(none)");
    *port = (uint16_t)p;
    return 0;
}

/* The CAN of a saved federation.json: contracts, nodes, orchestrators. */
static int load_can(struct up *u, const json_t *doc)
{
    const json_t *nodes = json_object_get(doc, "can"),
                 *orchs = json_object_get(doc, "orchestrators");
    int n = (int)json_array_size(nodes), m = (int)json_array_size(orchs);
    int rc = 0;

    if (n == 0 || n > MAX_CAN || m == 0 || m > MAX_CAN)
        return ct_error_set(CT_EINVAL, "can: expected 1 to %d nodes and orchestrators", MAX_CAN);
    if ((u->can_nodes != 0 && u->can_nodes != n) || (u->can_orchs != 0 && u->can_orchs != m))
        return ct_error_set(CT_EINVAL,
                            "%s holds a CAN of %d nodes and %d orchestrators; run without "
                            "--can/--orchestrators or with those numbers",
                            u->dir, n, m);
    u->can_nodes = n;
    u->can_orchs = m;
    if (ct_address_parse(&u->registry, json_string_value(json_object_get(doc, "registry"))) < 0 ||
        ct_address_parse(&u->cloud, json_string_value(json_object_get(doc, "cloud"))) < 0)
        return ct_error_wrap("registry or cloud");
    u->can_deployed = true;
    for (int i = 0; rc == 0 && i < n + m; i++) {
        const json_t *j = i < n ? json_array_get(nodes, i) : json_array_get(orchs, i - n);
        struct up_member *mb = i < n ? &u->can[i] : &u->orch[i - n];
        const char *addr = json_string_value(json_object_get(j, i < n ? "address" : "id"));
        if ((rc = url_port(&mb->port, json_string_value(json_object_get(j, "url")))) < 0 ||
            (rc = ct_address_parse(&mb->addr, addr)) < 0)
            rc = ct_error_wrap("%s", mb->what);
    }
    return rc;
}

/* Loads DIR/federation.json when it exists (u->resumed), checking that it
 * can be resumed with the chain kind asked for. */
static int up_load(struct up *u)
{
    const char *path = up_path(u, "federation.json"), *kind_name = "hardhat", *contract;
    json_t *doc = NULL, *dcs;
    char *text = NULL;
    int64_t deploy_block;
    ct_chain_kind kind;
    int rc;

    rc = ct_file_read(&text, NULL, path, 1 << 20);
    if (rc == CT_ENOTFOUND)
        return 0;
    if (rc < 0 || (rc = ct_json_parse(&doc, text, strlen(text), 8)) < 0)
        goto done;
    /* Files written before the chain kind was recorded are Hardhat's. */
    if ((rc = ct_json_get_string(&kind_name, doc, "chain", true)) < 0 && rc != CT_ENOTFOUND)
        goto done;
    if (strcmp(kind_name, "poa") == 0) {
        rc = ct_error_set(CT_ESTATE,
                          "%s holds a federation on a PoA network, which catena up "
                          "does not resume yet; remove %s or choose another --dir",
                          u->dir, u->dir);
        goto done;
    }
    if ((rc = ct_chain_kind_parse(&kind, kind_name)) < 0)
        goto done;
    if (u->poa) {
        rc = ct_error_set(CT_EINVAL,
                          "%s holds a federation on %s, not poa; remove it or choose "
                          "another --dir",
                          u->dir, kind_name);
        goto done;
    }
    if (u->kind_given && kind != u->kind) {
        rc = ct_error_set(CT_EINVAL,
                          "%s holds a federation on %s, not %s; remove it or choose "
                          "another --dir",
                          u->dir, kind_name, ct_chain_kind_name(u->kind));
        goto done;
    }
    if (kind == CT_CHAIN_HARDHAT) {
        rc = ct_error_set(CT_ESTATE,
                          "%s holds a federation on a Hardhat chain, which did not "
                          "survive its stop; remove %s or choose another --dir (anvil, the "
                          "default, keeps its chain)",
                          u->dir, u->dir);
        goto done;
    }
    u->kind = kind;
    if ((rc = ct_json_get_string(&contract, doc, "contract", false)) < 0 ||
        (rc = ct_address_parse(&u->contract, contract)) < 0 ||
        (rc = ct_json_get_int(&deploy_block, doc, "deploy_block", false)) < 0)
        goto done;
    u->deploy_block = (uint64_t)deploy_block;
    dcs = json_object_get(doc, "datacenters");
    if (json_array_size(dcs) != N_DCS) {
        rc = ct_error_set(CT_EINVAL, "datacenters: expected %d", N_DCS);
        goto done;
    }
    for (int i = 0; i < N_DCS && rc == 0; i++)
        rc = load_dc(&u->dcs[i], json_array_get(dcs, i), u->dcs[i].name);
    if (rc == 0 && json_object_get(doc, "registry") != NULL)
        rc = load_can(u, doc);
    if (rc == 0 && json_array_size(json_object_get(doc, "accounts")) == N_ACCOUNTS) {
        for (size_t i = 0; rc == 0 && i < N_ACCOUNTS; i++)
            rc = ct_address_parse(
                &u->accounts[i],
                json_string_value(json_object_get(
                    json_array_get(json_object_get(doc, "accounts"), i), "address")));
        u->accounts_ready = rc == 0;
    }
    if (rc == 0)
        u->resumed = true;
done:
    free(text);
    json_decref(doc);
    return rc < 0 ? ct_error_wrap("%s", path) : 0;
}

static const char *chain_name(const struct up *u)
{
    return u->poa ? "poa" : ct_chain_kind_name(u->kind);
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
    doc = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:o}", "api_url", u->api_url,
                    "rpc_url", u->rpc[ROLE_GATEWAY], "chain", chain_name(u), "chain_pid",
                    (json_int_t)u->node.proc.pid, "chain_id", (json_int_t)u->chain_id, "contract",
                    contract, "deploy_block", (json_int_t)u->deploy_block, "api_pid",
                    (json_int_t)u->api.pid, "datacenters", dcs);
    if (doc != NULL && u->net != NULL) {
        json_t *nodes = json_array();
        for (int i = 0; i < ct_poa_nodes(u->net); i++)
            json_array_append_new(nodes, json_pack("{s:s, s:I}", "url", ct_poa_url(u->net, i),
                                                   "pid", (json_int_t)ct_poa_pid(u->net, i)));
        json_object_set_new(doc, "nodes", nodes);
    }
    if (doc != NULL && u->state_path[0] != '\0')
        json_object_set_new(doc, "chain_state", json_string(u->state_path));
    if (doc != NULL && u->accounts_ready) {
        json_t *list = json_array();
        for (size_t i = 0; i < N_ACCOUNTS; i++) {
            char key_file[PATH_MAX];
            ct_address_format(addr, &u->accounts[i]);
            snprintf(key_file, sizeof(key_file), "%s/keys/%s.key", u->dir, account_names[i]);
            json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "name", account_names[i],
                                                  "address", addr, "key_file", key_file));
        }
        json_object_set_new(doc, "accounts", list);
    }
    if (doc != NULL && u->can_nodes > 0 && u->can_deployed) {
        json_t *can = json_array(), *orchs = json_array();
        char reg[CT_ADDRESS_TEXT_SIZE], cl[CT_ADDRESS_TEXT_SIZE];
        for (int i = 0; i < u->can_nodes + u->can_orchs; i++) {
            struct up_member *m = i < u->can_nodes ? &u->can[i] : &u->orch[i - u->can_nodes];
            char url[64];
            ct_address_format(addr, &m->addr);
            snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)m->port);
            if (i < u->can_nodes)
                json_array_append_new(can,
                                      json_pack("{s:s, s:s, s:s, s:I, s:s}", "name", m->what, "url",
                                                url, "address", addr, "pid",
                                                (json_int_t)m->proc.pid, "key_file", m->key_file));
            else
                json_array_append_new(orchs, json_pack("{s:s, s:s, s:I, s:s}", "id", addr, "url",
                                                       url, "pid", (json_int_t)m->proc.pid,
                                                       "key_file", m->key_file));
        }
        ct_address_format(reg, &u->registry);
        ct_address_format(cl, &u->cloud);
        json_object_set_new(doc, "registry", json_string(reg));
        json_object_set_new(doc, "cloud", json_string(cl));
        json_object_set_new(doc, "scheduler_key_file", json_string(u->sched_key_file));
        json_object_set_new(doc, "can", can);
        json_object_set_new(doc, "orchestrators", orchs);
    }
    rc = ct_json_dump(&text, doc);
    if (rc == 0)
        rc = ct_file_write_atomic(up_path(u, "federation.json"), text, strlen(text), 0600);
    free(text);
    json_decref(doc);
    return rc;
}

/* ---------------------------------------------------------------- chain */

/* Each role's node list: its own node first, then the others in turn. */
static void set_rpc_lists(struct up *u)
{
    for (int r = 0; r < N_ROLES; r++) {
        size_t used = 0;
        int n = u->net != NULL ? ct_poa_nodes(u->net) : 1;
        u->rpc[r][0] = '\0';
        for (int k = 0; k < n && used < sizeof(u->rpc[r]); k++) {
            const char *url = u->net != NULL ? ct_poa_url(u->net, (r + k) % n) : u->node.url;
            used += (size_t)snprintf(u->rpc[r] + used, sizeof(u->rpc[r]) - used, "%s%s",
                                     k > 0 ? "," : "", url);
        }
    }
}

/* A Clique network of u->poa_nodes EthereumJS sealers under DIR/chain/poa,
 * the dev account funded in its genesis. */
static int start_poa(struct up *u)
{
    uint8_t dev[32];
    size_t len;
    ct_poa_account dev_account;
    ct_poa_opts o = {
        .nodes = u->poa_nodes,
        .dir = up_path(u, "chain/poa"),
        .period_s = POA_PERIOD_S,
        .accounts = &dev_account,
        .n_accounts = 1,
    };
    int rc;

    ct_hex_decode(dev, 32, &len, dev_key_hex, strlen(dev_key_hex));
    rc = ct_address_from_seckey(&dev_account.address, dev);
    ct_wipe(dev, sizeof(dev));
    if (rc < 0 || (rc = ct_u256_parse(&dev_account.balance, "1000000000000000000000000")) < 0)
        return rc;
    if ((rc = ct_poa_start(&u->net, cli_root_dir(), &o)) < 0)
        return ct_error_wrap("starting the PoA network (logs under %s)", o.dir);
    snprintf(u->node.url, sizeof(u->node.url), "%s", ct_poa_url(u->net, 0));
    return 0;
}

static int read_chain_id(struct up *u)
{
    ct_rpc *rpc = NULL;
    int rc = ct_rpc_new(&rpc, u->rpc[ROLE_GATEWAY], 10000);

    if (rc == 0)
        rc = ct_rpc_chain_id(rpc, &u->chain_id);
    ct_rpc_free(rpc);
    return rc;
}

static int start_node(struct up *u)
{
    ct_devnode_opts o = {
        .kind = u->kind,
        .port = u->rpc_port,
        .state_path = u->state_path[0] != '\0' ? u->state_path : NULL,
        .state_interval_s = u->state_interval_s,
        .log_path = up_path(u, u->kind == CT_CHAIN_ANVIL ? "anvil.log" : "hardhat.log"),
    };
    int rc;

    if (u->poa) {
        if ((rc = start_poa(u)) == 0) {
            set_rpc_lists(u);
            rc = read_chain_id(u);
        }
        return rc;
    }
    rc = ct_devnode_start(&u->node, cli_root_dir(), &o);

    if (rc == CT_EIO && o.state_path != NULL)
        return ct_error_wrap("the chain node did not start; if %s is damaged, restore it or "
                             "remove %s to start a new federation (see %s)",
                             o.state_path, u->dir, o.log_path);
    if (rc == 0) {
        u->node_svc.started_ms = ct_time_mono_ms();
        u->rpc_port = u->node.port; /* a restart keeps the URL */
        set_rpc_lists(u);
        rc = read_chain_id(u);
    }
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
    if ((rc = ct_sender_new(&s, u->rpc[ROLE_GATEWAY], dev, NULL)) < 0 ||
        (rc = ct_ledger_open(&l)) < 0 ||
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

/* A resumed chain must still hold the federation's contract and keys. */
static int up_check_chain(struct up *u)
{
    char contract[CT_ADDRESS_TEXT_SIZE];
    ct_rpc *rpc = NULL;
    bool yes = false;
    int rc;

    ct_address_format(contract, &u->contract);
    if ((rc = ct_rpc_new(&rpc, u->rpc[ROLE_GATEWAY], 10000)) == 0)
        rc = ct_rpc_has_code(rpc, &yes, &u->contract, "latest");
    if (rc == 0 && !yes)
        rc = ct_error_set(CT_ESTATE,
                          "the chain in %s holds no contract at %s: it is not this "
                          "federation's chain; remove %s to start a new federation",
                          u->state_path, contract, u->dir);
    for (int i = 0; rc == 0 && i < N_DCS; i++)
        if (access(u->dcs[i].key_file, R_OK) != 0)
            rc = ct_error_set(CT_ENOTFOUND, "%s's key file %s is missing", u->dcs[i].name,
                              u->dcs[i].key_file);
    ct_rpc_free(rpc);
    return rc;
}

/* anvil writes its state file every second: waits until it has written
 * one that holds everything sent so far, so a kill -9 after this point
 * cannot take back what federation.json records. */
static int wait_state_saved(struct up *u)
{
    struct timespec now;
    struct stat st;

    if (u->state_path[0] == '\0')
        return 0;
    clock_gettime(CLOCK_REALTIME, &now);
    for (int i = 0; i < 40 * u->state_interval_s + 200; i++) {
        if (stat(u->state_path, &st) == 0 &&
            (st.st_mtim.tv_sec > now.tv_sec ||
             (st.st_mtim.tv_sec == now.tv_sec && st.st_mtim.tv_nsec > now.tv_nsec)))
            return 0;
        ct_sleep_ms(50);
    }
    return ct_error_set(CT_ETIMEOUT, "anvil did not save its state to %s", u->state_path);
}

/* ---------------------------------------------------------------- services */

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
    /* A resumed federation keeps its cache: the follower checks it against
     * the chain and rewinds what the chain no longer has. */
    api = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b, s:i, s:s, s:s, s:o, s:o}", "listen", listen,
                    "rpc_url", u->rpc[ROLE_GATEWAY], "contract", contract, "from_block",
                    (json_int_t)u->deploy_block, "cache", up_path(u, "cache.sqlite"), "reindex",
                    !u->resumed, "agent_timeout_ms", u->poa ? POA_AGENT_TIMEOUT_MS : 10000,
                    "swagger_dir", swagger, "web_dir", web, "agents", agents, "tokens", hashes);
    if (api != NULL)
        json_object_set_new(api, "gateway_key_file", json_string(u->gw_key_file));
    if (api != NULL && u->poa)
        json_object_set_new(api, "accept_after_ms", json_integer(POA_ACCEPT_AFTER_MS));
    if (api != NULL && u->clouds_dir != NULL) {
        json_object_set_new(api, "migrations_dir", json_string(up_path(u, "migrations")));
        json_object_set_new(api, "clouds_yaml", json_string(u->clouds_yaml));
    }
    rc = 0;
    /* The agreement keeper deploys sessions on DC1 for the provider
     * account (not on the PoA network, which has no named accounts). */
    if (api != NULL && !u->poa) {
        char token_file[PATH_MAX], key_file[PATH_MAX];
        snprintf(token_file, sizeof(token_file), "%s/keys/%s.token", u->dir, u->dcs[0].name);
        snprintf(key_file, sizeof(key_file), "%s/keys/%s.key", u->dir, account_names[0]);
        rc = ct_file_write_atomic(token_file, u->dcs[0].token, strlen(u->dcs[0].token), 0600);
        json_object_set_new(api, "keeper_dc", json_string(u->dcs[0].name));
        json_object_set_new(api, "keeper_token_file", json_string(token_file));
        json_object_set_new(api, "keeper_key_file", json_string(key_file));
        json_object_set_new(api, "keeper_dir", json_string(up_path(u, "sessions")));
    }
    if (rc == 0)
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

static int start_agent(struct up *u, struct up_dc *dc)
{
    char contract[CT_ADDRESS_TEXT_SIZE], listen[32], log[PATH_MAX], outbox[PATH_MAX];
    char cloud[PATH_MAX + 24], journal[PATH_MAX];
    int i = dc == &u->dcs[0] ? 0 : 1, n = 0, rc;
    char *argv[32];

    ct_address_format(contract, &u->contract);
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)dc->port);
    snprintf(log, sizeof(log), "%s/agent-%s.log", u->dir, dc->name);
    snprintf(outbox, sizeof(outbox), "%s/keys/%s.outbox", u->dir, dc->name);
    argv[n++] = u->exe;
    argv[n++] = "agent";
    argv[n++] = "--name";
    argv[n++] = dc->name;
    argv[n++] = "--key-file";
    argv[n++] = dc->key_file;
    argv[n++] = "--password-file";
    argv[n++] = u->pw_file;
    argv[n++] = "--rpc";
    argv[n++] = u->rpc[i == 0 ? ROLE_DC1 : ROLE_DC2];
    argv[n++] = "--contract";
    argv[n++] = contract;
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--tokens";
    argv[n++] = (char *)up_path(u, "tokens.json");
    argv[n++] = "--outbox";
    argv[n++] = outbox;
    argv[n++] = "--gateway";
    argv[n++] = u->gw_address;
    if (u->clouds_dir != NULL) {
        /* DC1 is cloud a's, DC2 cloud b's. */
        snprintf(cloud, sizeof(cloud), "%s:%c", u->clouds_yaml, 'a' + i);
        snprintf(journal, sizeof(journal), "%s/keys/%s.watch.sqlite", u->dir, dc->name);
        argv[n++] = "--openstack";
        argv[n++] = cloud;
        argv[n++] = "--amqp";
        argv[n++] = u->amqp[i];
        argv[n++] = "--watch-journal";
        argv[n++] = journal;
    }
    argv[n] = NULL;
    if ((rc = ct_proc_spawn(&dc->proc, argv, NULL, log)) < 0 ||
        (rc = wait_listening(&dc->proc, dc->port, dc->svc.what)) < 0)
        return rc;
    dc->svc.started_ms = ct_time_mono_ms();
    return 0;
}

static int start_gateway(struct up *u)
{
    char *argv[] = {u->exe, "api", "--config", (char *)up_path(u, "api.json"), NULL};
    int rc;

    snprintf(u->api_url, sizeof(u->api_url), "http://127.0.0.1:%u/api", (unsigned)u->api_port);
    if ((rc = ct_proc_spawn(&u->api, argv, NULL, up_path(u, "api.log"))) < 0 ||
        (rc = wait_listening(&u->api, u->api_port, "the gateway")) < 0)
        return rc;
    u->api_svc.started_ms = ct_time_mono_ms();
    return 0;
}

/* Waits until the gateway is healthy (both agents connected). */
static int wait_healthy(struct up *u)
{
    char url[128];

    snprintf(url, sizeof(url), "%s/health", u->api_url);
    for (int i = 0; i < 400; i++) {
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

/* Whether wallet is a registered DC, asked of the contract itself. */
static int dc_registered(struct up *u, const ct_address *wallet, bool *yes)
{
    char contract[CT_ADDRESS_TEXT_SIZE];
    ct_ledger *l = NULL;
    ct_rpc *rpc = NULL;
    ct_buf data;
    uint8_t *ret = NULL;
    json_t *args = NULL, *out = NULL, *call = NULL;
    size_t ret_len = 0;
    int rc;

    ct_buf_init(&data, 4096);
    ct_address_format(contract, &u->contract);
    args = json_pack("[o]", ct_json_hex(wallet->b, CT_ADDRESS_SIZE));
    if ((rc = ct_ledger_open(&l)) < 0 ||
        (rc = ct_ledger_encode_call(l, &data, "datacenter", args)) < 0)
        goto done;
    call = json_pack("{s:s, s:o}", "to", contract, "data",
                     ct_json_hex((const uint8_t *)data.data, data.len));
    if ((rc = ct_rpc_new(&rpc, u->rpc[ROLE_GATEWAY], 10000)) < 0 ||
        (rc = ct_rpc_call_contract(rpc, &ret, &ret_len, call, "latest")) < 0 ||
        (rc = ct_ledger_decode_result(l, &out, "datacenter", ret, ret_len)) < 0)
        goto done;
    *yes = json_is_true(json_array_get(out, 1));
done:
    json_decref(args);
    json_decref(call);
    json_decref(out);
    free(ret);
    ct_buf_free(&data);
    ct_rpc_free(rpc);
    ct_ledger_free(l);
    return rc;
}

/* Waits until the gateway shows every DC registered: on a chain that
 * seals blocks every few seconds the registrations are only sent when
 * the gateway answers, and federation.json means "ready to use". */
static int wait_registered(struct up *u)
{
    char url[256], addr[CT_ADDRESS_TEXT_SIZE];
    int64_t deadline = ct_time_mono_ms() + REGISTER_WAIT_MS;

    for (int i = 0; i < N_DCS; i++) {
        bool yes = false;
        ct_address_format(addr, &u->dcs[i].wallet);
        snprintf(url, sizeof(url), "%s/datacenter/%s/details/", u->api_url, addr);
        while (!yes) {
            long status = 0;
            json_t *resp = NULL;
            if (cli_http(&status, &resp, "GET", url, NULL, NULL) == 0 && status == 200)
                yes = json_is_true(json_object_get(resp, "registered"));
            json_decref(resp);
            ct_error_clear();
            if (yes)
                break;
            if (ct_time_mono_ms() > deadline)
                return ct_error_set(CT_ETIMEOUT,
                                    "%s's registration did not show in the gateway "
                                    "within %d s; see %s",
                                    u->dcs[i].name, REGISTER_WAIT_MS / 1000, up_path(u, "api.log"));
            ct_sleep_ms(100);
        }
    }
    return 0;
}

/* Waits until the node DC i's agent sends to first sees its wallet
 * funded: on the PoA network that node may not have the funding block yet
 * (it lags, or restarted), and would refuse the registration for want of
 * gas. */
static int wait_funded(struct up *u, int i)
{
    char url[URL_LIST_SIZE];
    ct_rpc *rpc = NULL;
    int64_t deadline = ct_time_mono_ms() + REGISTER_WAIT_MS;
    int rc;

    snprintf(url, sizeof(url), "%s", u->rpc[i == 0 ? ROLE_DC1 : ROLE_DC2]);
    url[strcspn(url, ",")] = '\0';
    if ((rc = ct_rpc_new(&rpc, url, 5000)) < 0)
        return rc;
    for (;;) {
        ct_u256 bal;
        if (ct_rpc_get_balance(rpc, &bal, &u->dcs[i].wallet, "latest") == 0 &&
            !ct_u256_is_zero(&bal))
            break;
        ct_error_clear();
        if (ct_time_mono_ms() > deadline) {
            ct_rpc_free(rpc);
            return ct_error_set(CT_ETIMEOUT, "%s's node %s does not see its wallet funded",
                                u->dcs[i].name, url);
        }
        ct_sleep_ms(200);
    }
    ct_rpc_free(rpc);
    return 0;
}

/* Registers each DC not yet registered through the gateway, as a DC
 * operator would. A resumed chain may have lost a registration that its
 * last state file did not hold yet. */
static int up_register(struct up *u)
{
    char url[128], addr[CT_ADDRESS_TEXT_SIZE];
    bool fresh[N_DCS] = {false};
    int rc;

    snprintf(url, sizeof(url), "%s/datacenter/register/", u->api_url);
    for (int i = 0; i < N_DCS; i++) {
        long status = 0;
        json_t *resp = NULL, *body;
        bool done = false;
        rc = dc_registered(u, &u->dcs[i].wallet, &done);
        if (rc < 0 || done) {
            if (rc < 0)
                return rc;
            continue;
        }
        if ((rc = wait_funded(u, i)) < 0)
            return rc;
        ct_address_format(addr, &u->dcs[i].wallet);
        body = json_pack("{s:s, s:s}", "name", u->dcs[i].name, "wallet", addr);
        rc = cli_http(&status, &resp, "POST", url, u->dcs[i].token, body);
        json_decref(body);
        if (rc == 0 && status != 200)
            rc = ct_error_set(CT_EIO, "registering %s: HTTP %ld: %s", u->dcs[i].name, status,
                              json_string_value(json_object_get(resp, "error")));
        json_decref(resp);
        if (rc < 0)
            return rc;
        fresh[i] = true;
    }
    if ((rc = wait_registered(u)) < 0)
        return rc;
    /* What each DC declares about itself, for agreements' constraints
     * (docs/AGREEMENTS.md): once, when it registers. Not on the PoA
     * network, which runs no agreements. */
    for (int i = 0; i < N_DCS && !u->poa; i++) {
        long status = 0;
        json_t *resp = NULL, *body;
        if (!fresh[i])
            continue;
        body = json_pack("{s:o}", "attributes",
                         i == 0 ? json_pack("{s:s, s:s, s:s}", "region", "eu-west", "country", "DE",
                                            "gdpr", "true")
                                : json_pack("{s:s, s:s, s:s}", "region", "us-east", "country", "US",
                                            "gdpr", "false"));
        snprintf(url, sizeof(url), "%s/datacenter/%s/attributes/", u->api_url, u->dcs[i].name);
        rc = cli_http(&status, &resp, "POST", url, u->dcs[i].token, body);
        json_decref(body);
        if (rc == 0 && status != 200)
            rc = ct_error_set(CT_EIO, "declaring %s's attributes: HTTP %ld: %s", u->dcs[i].name,
                              status, json_string_value(json_object_get(resp, "error")));
        json_decref(resp);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Takes DIR/lock for as long as this process lives (the descriptor is
 * never closed, and not inherited by the children): a second `catena up`
 * on the same directory would share its chain, keys and cache. */
static int up_lock(const struct up *u)
{
    char pid[32] = "", *text = NULL;
    int fd = open(up_path(u, "lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0)
        return ct_error_set(CT_EIO, "cannot open %s/lock: %s", u->dir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        if (ct_file_read(&text, NULL, up_path(u, "lock"), 64) == 0)
            snprintf(pid, sizeof(pid), " (pid %s)", text);
        free(text);
        close(fd);
        return err == EWOULDBLOCK
                   ? ct_error_set(CT_ESTATE, "%s is in use by another catena up%s: stop it first",
                                  u->dir, pid)
                   : ct_error_set(CT_EIO, "cannot lock %s/lock: %s", u->dir, strerror(err));
    }
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, pid, strlen(pid)) < 0)
        ct_log(CT_LOG_WARN, "up: cannot write %s/lock: %s", u->dir, strerror(errno));
    return 0;
}

/* Finds the binary, creates the directories, names the files, picks
 * ports where asked (0) or where a new federation needs them. */
static int up_prepare(struct up *u)
{
    ssize_t n = readlink("/proc/self/exe", u->exe, sizeof(u->exe) - 1);
    int rc;

    if (n < 0)
        return ct_error_set(CT_EIO, "cannot find the catena binary: %s", strerror(errno));
    u->exe[n] = '\0';
    if (mkdir(u->dir, 0700) < 0 && errno != EEXIST)
        return ct_error_set(CT_EIO, "cannot create %s: %s", u->dir, strerror(errno));
    if ((rc = up_lock(u)) < 0)
        return rc;
    if (mkdir(up_path(u, "keys"), 0700) < 0 && errno != EEXIST)
        return ct_error_set(CT_EIO, "cannot create %s/keys: %s", u->dir, strerror(errno));
    if (mkdir(up_path(u, "chain"), 0700) < 0 && errno != EEXIST)
        return ct_error_set(CT_EIO, "cannot create %s/chain: %s", u->dir, strerror(errno));
    snprintf(u->pw_file, sizeof(u->pw_file), "%s/keys/password", u->dir);
    snprintf(u->gw_key_file, sizeof(u->gw_key_file), "%s/keys/gateway.key", u->dir);
    u->node_svc = (struct svc){.proc = &u->node.proc, .what = "the chain node"};
    u->api_svc = (struct svc){.proc = &u->api, .what = "the gateway"};
    for (int i = 0; i < N_DCS; i++) {
        snprintf(u->dcs[i].name, sizeof(u->dcs[i].name), "DC%d", i + 1);
        u->dcs[i].svc =
            (struct svc){.proc = &u->dcs[i].proc, .what = i == 0 ? "agent DC1" : "agent DC2"};
    }
    for (int i = 0; i < MAX_CAN; i++)
        for (int k = 0; k < 2; k++) {
            struct up_member *m = k == 0 ? &u->can[i] : &u->orch[i];
            const char *kind = k == 0 ? "can" : "orch";
            snprintf(m->what, sizeof(m->what), "%s %d", k == 0 ? "CAN node" : "orchestrator",
                     i + 1);
            snprintf(m->key_file, sizeof(m->key_file), "%s/keys/%s-%d.key", u->dir, kind, i + 1);
            snprintf(m->dir, sizeof(m->dir), "%s/can/%s-%d", u->dir, k == 0 ? "node" : "orch",
                     i + 1);
            m->svc = (struct svc){.proc = &m->proc, .what = m->what};
        }
    snprintf(u->sched_key_file, sizeof(u->sched_key_file), "%s/keys/scheduler.key", u->dir);
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Ports, key files and the state file of a new federation. */
static int up_new_files(struct up *u)
{
    int rc = 0;

    for (int i = 0; rc == 0 && i < N_DCS; i++) {
        snprintf(u->dcs[i].key_file, sizeof(u->dcs[i].key_file), "%s/keys/DC%d.json", u->dir,
                 i + 1);
        rc = ct_net_free_port(&u->dcs[i].port);
    }
    /* A state file without federation.json is a creation that did not
     * finish: start that chain anew. */
    if (rc == 0 && u->state_path[0] != '\0' && unlink(u->state_path) == 0)
        ct_log(CT_LOG_WARN, "removed %s, left by a start that did not finish", u->state_path);
    if (rc == 0 && nftw(up_path(u, "chain/poa"), rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
        ct_log(CT_LOG_WARN, "removed %s/chain/poa, left by a start that did not finish", u->dir);
    unlink(up_path(u, "cache.sqlite"));
    return rc;
}

/* A hex key file: read when it exists, else made (mode 0600). */
static int key_file_load(const char *path, uint8_t key[CT_SECKEY_SIZE])
{
    char hex[2 * CT_SECKEY_SIZE + 3], *text = NULL;
    size_t len = 0;
    int rc;

    if (access(path, F_OK) == 0) {
        if ((rc = ct_file_read(&text, &len, path, 256)) == 0 &&
            (ct_hex_decode(key, CT_SECKEY_SIZE, &len, text, strcspn(text, "\r\n")) < 0 ||
             len != CT_SECKEY_SIZE))
            rc = ct_error_set(CT_EPARSE, "%s does not hold a hex key", path);
        if (text != NULL)
            ct_wipe(text, strlen(text));
        free(text);
    } else if ((rc = ct_seckey_generate(key)) == 0 &&
               (rc = ct_hex_encode(hex, sizeof(hex), key, CT_SECKEY_SIZE, true)) == 0) {
        rc = ct_file_write_atomic(path, hex, strlen(hex), 0600);
        ct_wipe(hex, sizeof(hex));
    }
    return rc;
}

/* The gateway's key (hex, DIR/keys/gateway.key), made on the first run:
 * each agent is told its address (--gateway) and accepts connections
 * signed by it only (docs/AGENT_PROTOCOL.md). */
static int up_gateway_key(struct up *u)
{
    uint8_t key[CT_SECKEY_SIZE];
    ct_address addr;
    int rc = key_file_load(u->gw_key_file, key);

    if (rc == 0 && (rc = ct_address_from_seckey(&addr, key)) == 0)
        ct_address_format(u->gw_address, &addr);
    ct_wipe(key, sizeof(key));
    return rc;
}

/* ---------------------------------------------------------------- CAN (--can) */

static int can_send(const ct_ledger *l, ct_sender *s, const ct_address *to, const char *fn,
                    json_t *args)
{
    int rc = args != NULL ? ct_ledger_transact(l, s, NULL, to, NULL, fn, args)
                          : ct_error_set(CT_ENOMEM, "out of memory");

    json_decref(args);
    return rc < 0 ? ct_error_wrap("%s", fn) : 0;
}

static int can_deploy(const ct_ledger *l, ct_sender *s, ct_address *out, json_t *args)
{
    int rc = args != NULL ? ct_ledger_deploy_with(l, s, args, out, NULL)
                          : ct_error_set(CT_ENOMEM, "out of memory");

    json_decref(args);
    return rc;
}

/* A new CAN: keys for every node and orchestrator and the cloud's
 * scheduler (hex files under DIR/keys), funded from the dev account; the
 * Registry (Nmin the node count, Nmax two more) with every node a
 * candidate and the first appointed leader; a Cloud with CAN_RESOURCES
 * resources owned in turn by DC1 and DC2. */
static int up_can_chain(struct up *u)
{
    uint8_t dev[32], key[32];
    char a[CT_ADDRESS_TEXT_SIZE], b[CT_ADDRESS_TEXT_SIZE];
    ct_sender *s = NULL, *ns = NULL;
    ct_ledger *reg = NULL, *cl = NULL;
    ct_address sched;
    size_t len;
    int rc;

    ct_hex_decode(dev, 32, &len, dev_key_hex, strlen(dev_key_hex));
    rc = ct_sender_new(&s, u->rpc[ROLE_GATEWAY], dev, NULL);
    ct_wipe(dev, sizeof(dev));
    if (rc < 0 || (rc = ct_ledger_open_contract(&reg, "Registry")) < 0 ||
        (rc = ct_ledger_open_contract(&cl, "Cloud")) < 0)
        goto done;
    for (int i = 0; rc == 0 && i < u->can_nodes + u->can_orchs; i++) {
        struct up_member *m = i < u->can_nodes ? &u->can[i] : &u->orch[i - u->can_nodes];
        ct_send_req fund = {.to = &m->addr};
        ct_send_result res = {0};
        unlink(m->key_file); /* a creation that did not finish left it */
        if ((rc = key_file_load(m->key_file, key)) < 0 ||
            (rc = ct_address_from_seckey(&m->addr, key)) < 0 ||
            (rc = ct_net_free_port(&m->port)) < 0)
            break;
        ct_u256_parse(&fund.value, "100000000000000000000"); /* 100 ETH */
        rc = ct_sender_send(s, &res, &fund, true);
        ct_send_result_clear(&res);
    }
    unlink(u->sched_key_file);
    if (rc < 0 || (rc = key_file_load(u->sched_key_file, key)) < 0 ||
        (rc = ct_address_from_seckey(&sched, key)) < 0 ||
        (rc = can_deploy(reg, s, &u->registry,
                         json_pack("[i, i, I, I]", u->can_nodes, u->can_nodes + 2,
                                   (json_int_t)CAN_NETWORK_PRICE, (json_int_t)CAN_ORCH_PRICE))) < 0)
        goto done;
    for (int i = 0; rc == 0 && i < u->can_nodes; i++) {
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)u->can[i].port);
        if ((rc = key_file_load(u->can[i].key_file, key)) == 0 &&
            (rc = ct_sender_new(&ns, u->rpc[ROLE_GATEWAY], key, NULL)) == 0)
            rc = can_send(reg, ns, &u->registry, "registerCandidate", json_pack("[s]", url));
        ct_sender_free(ns);
        ns = NULL;
    }
    ct_address_format(a, &u->can[0].addr);
    if (rc < 0 || (rc = can_send(reg, s, &u->registry, "appointLeader", json_pack("[s]", a))) < 0)
        goto done;
    ct_address_format(a, &u->registry);
    ct_address_format(b, &sched);
    if ((rc = can_deploy(cl, s, &u->cloud,
                         json_pack("[s, s, s, s, s]", a, b, CAN_CLOUD_PRICE, "", ""))) < 0)
        goto done;
    ct_address_format(b, &u->cloud);
    rc = can_send(reg, s, &u->registry, "registerCloud", json_pack("[s]", b));
    for (int i = 0; rc == 0 && i < CAN_RESOURCES; i++) {
        char id[67], name[16];
        snprintf(id, sizeof(id), "0x%064x", i + 1);
        snprintf(name, sizeof(name), "vm-%d", i + 1);
        ct_address_format(a, &u->dcs[i % N_DCS].wallet);
        rc = can_send(cl, s, &u->cloud, "registerResource",
                      json_pack("[s, s, s, s]", id, a, CAN_RESOURCE_PRICE, name));
    }
    u->can_deployed = rc == 0;
done:
    ct_wipe(key, sizeof(key));
    ct_ledger_free(reg);
    ct_ledger_free(cl);
    ct_sender_free(s);
    return rc < 0 ? ct_error_wrap("setting up the CAN") : 0;
}

/* Starts a CAN node (m in u->can) or an orchestrator (in u->orch). */
static int start_member(struct up *u, void *arg)
{
    struct up_member *m = arg;
    bool node = m >= u->can && m < u->can + MAX_CAN;
    char listen[32], reg[CT_ADDRESS_TEXT_SIZE], log[PATH_MAX + 8], urls[MAX_CAN * 32] = "";
    size_t used = 0;
    int rc;

    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)m->port);
    snprintf(log, sizeof(log), "%s.log", m->dir);
    ct_address_format(reg, &u->registry);
    for (int i = 0; i < u->can_nodes; i++)
        used += (size_t)snprintf(urls + used, sizeof(urls) - used, "%shttp://127.0.0.1:%u",
                                 i > 0 ? "," : "", (unsigned)u->can[i].port);
    if (mkdir(m->dir, 0700) < 0 && errno != EEXIST)
        return ct_error_set(CT_EIO, "cannot create %s: %s", m->dir, strerror(errno));
    {
        char *can_argv[] = {u->exe,
                            "can",
                            "run",
                            "--dir",
                            m->dir,
                            "--rpc",
                            u->rpc[ROLE_GATEWAY],
                            "--registry",
                            reg,
                            "--listen",
                            listen,
                            "--key-file",
                            m->key_file,
                            NULL};
        char *orch_argv[] = {
            u->exe,  "orch", "serve",    "--can", urls,         "--rpc",     u->rpc[ROLE_GATEWAY],
            "--dir", m->dir, "--listen", listen,  "--key-file", m->key_file, NULL};
        if ((rc = ct_proc_spawn(&m->proc, node ? can_argv : orch_argv, NULL, log)) < 0 ||
            (rc = wait_listening(&m->proc, m->port, m->what)) < 0)
            return rc;
    }
    m->svc.started_ms = ct_time_mono_ms();
    return 0;
}

/* Waits until a node leads every member and every orchestrator is
 * registered. */
static int wait_can_ready(struct up *u)
{
    char url[64];

    for (int k = 0; k < 900; k++)
        for (int i = 0; i < u->can_nodes; i++) {
            long status = 0;
            json_t *st = NULL, *c;
            const char *id;
            int comps = 0;
            snprintf(url, sizeof(url), "http://127.0.0.1:%u/can/status", (unsigned)u->can[i].port);
            if (cli_http(&status, &st, "GET", url, NULL, NULL) == 0 && status == 200 &&
                strcmp(json_string_value(json_object_get(st, "role")) ?: "", "leader") == 0) {
                json_object_foreach (json_object_get(st, "components"), id, c)
                    comps += json_is_true(json_object_get(c, "registered"));
                if (json_object_size(json_object_get(st, "members")) >= (size_t)u->can_nodes &&
                    comps >= u->can_orchs) {
                    json_decref(st);
                    return 0;
                }
            }
            ct_error_clear();
            json_decref(st);
            ct_sleep_ms(100 / u->can_nodes + 1);
        }
    return ct_error_set(CT_ETIMEOUT,
                        "the CAN did not form (%d members, %d orchestrators registered) within "
                        "90 s; see the logs in %s/can",
                        u->can_nodes, u->can_orchs, u->dir);
}

/* The named accounts (hex key files DIR/keys/NAME.key), made and funded
 * with 100 ETH each from the dev account on the first run. */
static int up_accounts(struct up *u)
{
    uint8_t dev[32], key[32];
    ct_sender *s = NULL;
    size_t len;
    int rc;

    /* Not on the PoA network: there a transfer from the dev account sent
     * after the DCs' registrations was not mined within two minutes in a
     * CI run (an EthereumJS defect, docs/CHAIN.md), and catena up exited. */
    if (u->accounts_ready || u->poa)
        return 0;
    ct_hex_decode(dev, 32, &len, dev_key_hex, strlen(dev_key_hex));
    rc = ct_sender_new(&s, u->rpc[ROLE_GATEWAY], dev, NULL);
    ct_wipe(dev, sizeof(dev));
    for (size_t i = 0; rc == 0 && i < N_ACCOUNTS; i++) {
        char path[PATH_MAX];
        ct_send_req fund = {.to = &u->accounts[i]};
        ct_send_result res = {0};
        snprintf(path, sizeof(path), "%s/keys/%s.key", u->dir, account_names[i]);
        unlink(path); /* a creation that did not finish left it */
        if ((rc = key_file_load(path, key)) < 0 ||
            (rc = ct_address_from_seckey(&u->accounts[i], key)) < 0)
            break;
        ct_u256_parse(&fund.value, "100000000000000000000"); /* 100 ETH */
        /* One at a time: on the PoA network a run of sends from one
         * account was not all mined (a CI run waited out the last one's
         * receipt), so each is waited for (a block each there). */
        rc = ct_sender_send(s, &res, &fund, true);
        ct_send_result_clear(&res);
    }
    ct_wipe(key, sizeof(key));
    ct_sender_free(s);
    u->accounts_ready = rc == 0;
    return rc < 0 ? ct_error_wrap("funding the named accounts") : 0;
}

static int up_can(struct up *u)
{
    int rc = 0;

    if (u->can_nodes == 0)
        return 0;
    if (mkdir(up_path(u, "can"), 0700) < 0 && errno != EEXIST)
        return ct_error_set(CT_EIO, "cannot create %s/can: %s", u->dir, strerror(errno));
    if (!u->can_deployed && (rc = up_can_chain(u)) < 0)
        return rc;
    for (int i = 0; rc == 0 && i < u->can_nodes + u->can_orchs; i++) {
        struct up_member *m = i < u->can_nodes ? &u->can[i] : &u->orch[i - u->can_nodes];
        if (ct_net_can_connect(m->port))
            return ct_error_set(CT_EIO,
                                "port %u of %s is taken (the Registry names it as the node's "
                                "contact): free it and run again",
                                (unsigned)m->port, m->what);
        rc = start_member(u, m);
    }
    return rc < 0 ? rc : wait_can_ready(u);
}

static int up_start(struct up *u)
{
    int rc;

    if ((rc = up_prepare(u)) < 0 || (rc = up_load(u)) < 0)
        return rc;
    if (u->kind == CT_CHAIN_ANVIL && !u->poa)
        snprintf(u->state_path, sizeof(u->state_path), "%s/%s", u->dir, STATE_FILE);
    if (!u->resumed && (rc = up_new_files(u)) < 0)
        return rc;
    if (u->resumed && access(u->state_path, R_OK) != 0)
        return ct_error_set(CT_ENOTFOUND,
                            "%s/federation.json names a chain whose state %s is "
                            "missing; remove %s to start a new federation",
                            u->dir, u->state_path, u->dir);
    for (int i = 0; rc == 0 && i < N_DCS; i++)
        if (u->resumed && ct_net_can_connect(u->dcs[i].port))
            rc = ct_net_free_port(&u->dcs[i].port); /* its old port is taken */
    if (rc < 0 || (u->api_port == 0 && (rc = ct_net_free_port(&u->api_port)) < 0))
        return rc;
    if ((rc = start_node(u)) < 0)
        return rc;
    rc = u->resumed ? up_check_chain(u) : up_chain(u);
    if (rc < 0 || (rc = up_gateway_key(u)) < 0 || (rc = up_configs(u)) < 0)
        return rc;
    for (int i = 0; i < N_DCS; i++)
        if ((rc = start_agent(u, &u->dcs[i])) < 0)
            return rc;
    if ((rc = start_gateway(u)) < 0 || (rc = wait_healthy(u)) < 0 || (rc = up_register(u)) < 0 ||
        (rc = up_accounts(u)) < 0 || (rc = up_can(u)) < 0 || (rc = wait_state_saved(u)) < 0)
        return rc;
    return up_federation_json(u);
}

/* ---------------------------------------------------------------- supervision */

/* Notes that s died and schedules its restart. */
static void svc_died(struct svc *s, const char *dir)
{
    int64_t now = ct_time_mono_ms();

    ct_proc_stop(s->proc, 0); /* reaps it and what is left of its group */
    if (now - s->started_ms >= STABLE_MS || s->backoff_ms == 0)
        s->backoff_ms = BACKOFF_MIN_MS;
    else if ((s->backoff_ms *= 2) > BACKOFF_MAX_MS)
        s->backoff_ms = BACKOFF_MAX_MS;
    s->restart_at = now + s->backoff_ms;
    ct_log(CT_LOG_ERROR, "%s exited; restarting it in %d ms (see the logs in %s)", s->what,
           s->backoff_ms, dir);
}

/* Starts s again through start (an up_dc or NULL for the gateway/node). */
static bool svc_restart(struct up *u, struct svc *s, int (*start)(struct up *, void *), void *arg)
{
    if (s->restart_at == 0 || ct_time_mono_ms() < s->restart_at)
        return false;
    if (start(u, arg) < 0) {
        ct_log(CT_LOG_ERROR, "restarting %s: %s", s->what, ct_error_last());
        ct_proc_stop(s->proc, 1000);
        svc_died(s, u->dir);
        return false;
    }
    s->restart_at = 0;
    s->restarts++;
    ct_log(CT_LOG_INFO, "%s restarted (restart %u)", s->what, s->restarts);
    return true;
}

static int restart_agent(struct up *u, void *dc)
{
    return start_agent(u, dc);
}

static int restart_gateway(struct up *u, void *unused)
{
    (void)unused;
    return start_gateway(u);
}

static int restart_node(struct up *u, void *unused)
{
    (void)unused;
    return start_node(u);
}

/* Checks every service once; restarts those whose backoff has passed. A
 * PoA node that died is started again at once on its data directory (it
 * catches up from its peers), without waiting for it.
 * Returns: 0, or CLI_FAIL when the chain is lost for good (Hardhat). */
static int up_supervise(struct up *u)
{
    bool changed = false;

    if (u->net != NULL)
        changed |= ct_poa_respawn_dead(u->net) > 0;
    else {
        if (u->node_svc.restart_at == 0 && !ct_proc_alive(&u->node.proc)) {
            if (u->kind == CT_CHAIN_HARDHAT) {
                ct_log(CT_LOG_ERROR,
                       "the Hardhat node exited and its chain is gone; stopping (see "
                       "%s/hardhat.log)",
                       u->dir);
                return CLI_FAIL;
            }
            svc_died(&u->node_svc, u->dir);
        }
        changed |= svc_restart(u, &u->node_svc, restart_node, NULL);
    }
    for (int i = 0; i < N_DCS; i++) {
        struct svc *s = &u->dcs[i].svc;
        if (s->restart_at == 0 && !ct_proc_alive(s->proc))
            svc_died(s, u->dir);
        changed |= svc_restart(u, s, restart_agent, &u->dcs[i]);
    }
    if (u->api_svc.restart_at == 0 && !ct_proc_alive(&u->api))
        svc_died(&u->api_svc, u->dir);
    changed |= svc_restart(u, &u->api_svc, restart_gateway, NULL);
    for (int i = 0; i < u->can_nodes + u->can_orchs; i++) {
        struct up_member *m = i < u->can_nodes ? &u->can[i] : &u->orch[i - u->can_nodes];
        if (m->svc.restart_at == 0 && !ct_proc_alive(&m->proc))
            svc_died(&m->svc, u->dir);
        changed |= svc_restart(u, &m->svc, start_member, m);
    }
    if (changed && up_federation_json(u) < 0) /* new pids */
        ct_log(CT_LOG_WARN, "updating federation.json: %s", ct_error_last());
    return 0;
}

/* Waits for SIGINT/SIGTERM/SIGHUP (blocked by the caller) while keeping
 * the services running. Returns: 0 on a stop signal, CLI_FAIL when the
 * chain is lost. */
static int up_wait(struct up *u)
{
    int rc;

    for (;;) {
        if (cli_wait_stop(250) > 0)
            return 0;
        if ((rc = up_supervise(u)) != 0)
            return rc;
    }
}

/* Stops the session services the gateway's keeper started (they outlive
 * a gateway by design, so that a restarted one finds them again). Their
 * records stay: a resumed federation's keeper starts them again on the
 * same ports, so the URLs it handed out still answer. */
static void up_stop_sessions(struct up *u)
{
    const char *dir = up_path(u, "sessions");
    ct_orch_driver *d = NULL;
    struct dirent *e;
    DIR *dh;

    if ((dh = opendir(dir)) == NULL || ct_orch_process_driver_new(&d, dir, 0) < 0) {
        if (dh != NULL)
            closedir(dh);
        ct_error_clear();
        return;
    }
    while ((e = readdir(dh)) != NULL) {
        char path[PATH_MAX], *text = NULL;
        json_t *doc = NULL;
        ct_orch_instance inst = {0};
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (ct_file_read(&text, NULL, path, 65536) == 0 &&
            ct_json_parse(&doc, text, strlen(text), 4) == 0 &&
            json_is_string(json_object_get(doc, "id"))) {
            snprintf(inst.id, sizeof(inst.id), "%s", json_string_value(json_object_get(doc, "id")));
            d->stop(d, &inst);
        }
        ct_error_clear();
        json_decref(doc);
        free(text);
    }
    closedir(dh);
    ct_orch_driver_free(d);
}

static void up_stop(struct up *u)
{
    /* The nodes first: an orchestrator that stops while they run would be
     * voted out and its applications handed to another one. */
    for (int i = 0; i < MAX_CAN; i++)
        ct_proc_stop(&u->can[i].proc, 5000);
    for (int i = 0; i < MAX_CAN; i++)
        ct_proc_stop(&u->orch[i].proc, 5000);
    ct_proc_stop(&u->api, 5000);
    up_stop_sessions(u);
    for (int i = 0; i < N_DCS; i++)
        ct_proc_stop(&u->dcs[i].proc, 5000);
    ct_devnode_stop(&u->node);
    ct_poa_stop(u->net);
    u->net = NULL;
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
    if ((rc = up_start(&u)) < 0) {
        fprintf(stderr, "catena up: %s\n", ct_error_last());
        up_stop(&u);
        return rc == CT_EINVAL || rc == CT_ESTATE || rc == CT_ENOTFOUND ? CLI_USAGE : CLI_FAIL;
    }
    char contract[CT_ADDRESS_TEXT_SIZE];
    uint64_t head = 0;
    ct_rpc *rpc = NULL;
    if (ct_rpc_new(&rpc, u.rpc[ROLE_GATEWAY], 5000) == 0)
        ct_rpc_block_number(rpc, &head);
    ct_rpc_free(rpc);
    ct_address_format(contract, &u.contract);
    printf("%s the federation in %s (contract %s, chain at block %llu)\n",
           u.resumed ? "resumed" : "created", u.dir, contract, (unsigned long long)head);
    printf("gateway:  %s/ (Swagger UI: %s/swagger/)\n"
           "chain:    %s (%s, chain id %llu)%s%s\n"
           "agents:   DC1 on port %u, DC2 on port %u\n"
           "state:    %s/federation.json (URLs, wallets, tokens), logs in %s\n",
           u.api_url, u.api_url, u.rpc[ROLE_GATEWAY], chain_name(&u),
           (unsigned long long)u.chain_id,
           u.state_path[0] ? ", kept in " : ", forgotten when it stops",
           u.state_path[0] ? u.state_path : "", (unsigned)u.dcs[0].port, (unsigned)u.dcs[1].port,
           u.dir, u.dir);
    if (u.can_nodes > 0) {
        char cloud[CT_ADDRESS_TEXT_SIZE];
        ct_address_format(cloud, &u.cloud);
        printf("can:      %d nodes (http://127.0.0.1:%u, ...), %d orchestrators; deploy with\n"
               "          catena app deploy APP.yaml --rpc %s --can http://127.0.0.1:%u "
               "--cloud %s --deposit WEI \\\n"
               "            --key-file %s --password-file %s --scheduler-key-file %s\n",
               u.can_nodes, (unsigned)u.can[0].port, u.can_orchs, u.rpc[ROLE_GATEWAY],
               (unsigned)u.can[0].port, cloud, u.dcs[0].key_file, u.pw_file, u.sched_key_file);
    }
    printf("press Ctrl-C to stop\n");
    fflush(stdout);
    rc = up_wait(&u);
    up_stop(&u);
    printf("stopped\n");
    return rc;
}
