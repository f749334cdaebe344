/* `catena agent`: the DC agent. Loads the DC's key and its token hashes,
 * serves ws:// (or wss://) HOST:PORT/ws/{DC_NAME} for the gateways given
 * by --gateway until SIGINT or
 * SIGTERM (docs/AGENT_PROTOCOL.md), and with --hash-token prints the hash
 * of a token for the tokens file. */
#include "cli.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/agent.h"
#include "catena/crypto.h"
#include "catena/util.h"

struct agent_opts {
    const char *name, *key_file, *key_env, *pw_file, *pw_env;
    const char *rpc, *contract, *listen, *tokens, *token_env, *outbox;
    const char *tls_cert, *tls_key;
    const char *openstack, *amqp, *amqp_exchange, *watch_journal;
    ct_address gateways[CT_AGENT_MAX_GATEWAYS];
    size_t n_gateways;
    int idle_timeout_s;
    int ping_interval_s;
    size_t max_message;
    bool hash_token, always_preflight;
};

static const cli_cmd *self(void)
{
    return cli_find("agent");
}

static int parse_size(struct agent_opts *o, const char *value)
{
    uint64_t v;

    if (ct_parse_uint(&v, value, CT_AGENT_MAX_MESSAGE_MAX) < 0 || v < CT_AGENT_MAX_MESSAGE_MIN)
        return cli_usage_error(self(), "--max-message must be %u to %u bytes",
                               CT_AGENT_MAX_MESSAGE_MIN, CT_AGENT_MAX_MESSAGE_MAX);
    o->max_message = (size_t)v;
    return 0;
}

static int add_gateway(struct agent_opts *o, const char *value)
{
    if (o->n_gateways == CT_AGENT_MAX_GATEWAYS)
        return cli_usage_error(self(), "at most %d --gateway", CT_AGENT_MAX_GATEWAYS);
    if (ct_address_parse(&o->gateways[o->n_gateways], value) < 0)
        return cli_usage_error(self(), "--gateway: %s", ct_error_last());
    o->n_gateways++;
    return 0;
}

/* Parses an option's count of seconds, 1 to max, into *out. */
static int parse_seconds(int *out, const char *option, const char *value, uint64_t max)
{
    uint64_t v;

    if (ct_parse_uint(&v, value, max) < 0 || v == 0)
        return cli_usage_error(self(), "%s must be 1 to %llu seconds", option,
                               (unsigned long long)max);
    *out = (int)v;
    return 0;
}

/* Stores one option. Returns: 0, CLI_USAGE, or -1 after printing help. */
static int set_opt(struct agent_opts *o, int c)
{
    switch (c) {
    case 'n': o->name = optarg; break;
    case 'k': o->key_file = optarg; break;
    case 'K': o->key_env = optarg; break;
    case 'p': o->pw_file = optarg; break;
    case 'P': o->pw_env = optarg; break;
    case 'r': o->rpc = optarg; break;
    case 'c': o->contract = optarg; break;
    case 'l': o->listen = optarg; break;
    case 't': o->tokens = optarg; break;
    case 'T': o->token_env = optarg; break;
    case 'H': o->hash_token = true; break;
    case 'A': o->always_preflight = true; break;
    case 'o': o->outbox = optarg; break;
    case 'm': return parse_size(o, optarg);
    case 'g': return add_gateway(o, optarg);
    case 'i': return parse_seconds(&o->idle_timeout_s, "--idle-timeout", optarg, 86400);
    case 'I': return parse_seconds(&o->ping_interval_s, "--ping-interval", optarg, 3600);
    case 'C': o->tls_cert = optarg; break;
    case 'Y': o->tls_key = optarg; break;
    case 'O': o->openstack = optarg; break;
    case 'Q': o->amqp = optarg; break;
    case 'E': o->amqp_exchange = optarg; break;
    case 'J': o->watch_journal = optarg; break;
    case 'h': cli_print_help(self()); return -1;
    default: return CLI_USAGE;
    }
    return 0;
}

static int agent_parse(struct agent_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"name", required_argument, NULL, 'n'},
        {"key-file", required_argument, NULL, 'k'},
        {"key-env", required_argument, NULL, 'K'},
        {"password-file", required_argument, NULL, 'p'},
        {"password-env", required_argument, NULL, 'P'},
        {"rpc", required_argument, NULL, 'r'},
        {"contract", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"tokens", required_argument, NULL, 't'},
        {"max-message", required_argument, NULL, 'm'},
        {"hash-token", no_argument, NULL, 'H'},
        {"always-preflight", no_argument, NULL, 'A'},
        {"outbox", required_argument, NULL, 'o'},
        {"token-env", required_argument, NULL, 'T'},
        {"gateway", required_argument, NULL, 'g'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"ping-interval", required_argument, NULL, 'I'},
        {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'Y'},
        {"openstack", required_argument, NULL, 'O'},
        {"amqp", required_argument, NULL, 'Q'},
        {"amqp-exchange", required_argument, NULL, 'E'},
        {"watch-journal", required_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, rc;

    memset(o, 0, sizeof(*o));
    while ((c = cli_getopt(self(), argc, argv, longopts)) != -1)
        if ((rc = set_opt(o, c)) != 0)
            return rc;
    if (optind < argc)
        return cli_usage_error(self(), "unexpected argument '%s'", argv[optind]);
    if (o->hash_token)
        return 0;
    if (o->name == NULL || o->rpc == NULL || o->contract == NULL || o->listen == NULL ||
        o->tokens == NULL)
        return cli_usage_error(self(), "--name, --rpc, --contract, --listen and --tokens are "
                                       "required");
    if ((o->tls_cert == NULL) != (o->tls_key == NULL))
        return cli_usage_error(self(), "--tls-cert and --tls-key go together");
    if ((o->openstack != NULL || o->amqp_exchange != NULL || o->watch_journal != NULL) &&
        o->amqp == NULL)
        return cli_usage_error(self(), "--openstack, --amqp-exchange and --watch-journal go "
                                       "with --amqp");
    if (o->amqp != NULL && (o->openstack == NULL || o->watch_journal == NULL))
        return cli_usage_error(self(), "--amqp needs --openstack F:CLOUD and --watch-journal F");
    if (!ct_agent_name_valid(o->name))
        return cli_usage_error(self(), "--name must be 1 to %d characters of [A-Za-z0-9._-]",
                               CT_AGENT_NAME_MAX);
    return 0;
}

/* ---------------------------------------------------------------- --hash-token */

/* Prints the hash of a token read from $VAR or from stdin's first line. */
static int hash_token(const char *env)
{
    char buf[CT_AGENT_TOKEN_MAX + 2], out[65];
    size_t n;

    if (env != NULL) {
        const char *v = getenv(env);
        if (v == NULL)
            return cli_usage_error(self(), "environment variable %s is not set", env);
        snprintf(buf, sizeof(buf), "%s", v);
    } else if (fgets(buf, sizeof(buf), stdin) == NULL) {
        return cli_usage_error(self(), "--hash-token reads the token from stdin");
    }
    n = strcspn(buf, "\r\n");
    buf[n] = '\0';
    if (n < CT_AGENT_TOKEN_MIN || n > CT_AGENT_TOKEN_MAX)
        return cli_usage_error(self(), "a token must be %d to %d bytes long", CT_AGENT_TOKEN_MIN,
                               CT_AGENT_TOKEN_MAX);
    ct_token_hash(out, buf);
    ct_wipe(buf, sizeof(buf));
    puts(out);
    return CLI_OK;
}

/* ---------------------------------------------------------------- serving */

/* Runs the agent until a stop signal; key is wiped once the agent holds
 * its copy. */
static int serve(ct_agent_config *cfg, uint8_t key[CT_SECKEY_SIZE])
{
    char wallet[CT_ADDRESS_TEXT_SIZE], contract[CT_ADDRESS_TEXT_SIZE];
    ct_agent *agent = NULL;
    int rc;

    cfg->seckey = key;
    rc = ct_agent_new(&agent, cfg);
    ct_wipe(key, CT_SECKEY_SIZE);
    if (rc < 0 || ct_agent_start(agent) < 0) {
        fprintf(stderr, "catena agent: %s\n", ct_error_last());
        ct_agent_free(agent);
        return CLI_FAIL;
    }
    ct_address_format(wallet, ct_agent_wallet(agent));
    ct_address_format(contract, &cfg->contract);
    ct_log(CT_LOG_INFO, "%s: wallet %s, contract %s, chain %s", cfg->dc_name, wallet, contract,
           cfg->rpc_url);
    cli_wait_stop(-1);
    ct_agent_free(agent);
    ct_log(CT_LOG_INFO, "%s: stopped", cfg->dc_name);
    return CLI_OK;
}

int cmd_agent(int argc, char **argv)
{
    struct agent_opts o;
    ct_agent_config cfg = {0};
    ct_agent_tokens *tokens = NULL;
    uint8_t key[CT_SECKEY_SIZE];
    char host[64];
    int rc;

    if ((rc = agent_parse(&o, argc, argv)) != 0)
        return rc < 0 ? CLI_OK : rc;
    if (o.hash_token)
        return hash_token(o.token_env);
    if ((rc = cli_parse_listen(self(), host, sizeof(host), &cfg.listen_port, o.listen)) != 0)
        return rc;
    cfg.listen_host = host;
    if (ct_address_parse(&cfg.contract, o.contract) < 0)
        return cli_usage_error(self(), "--contract: %s", ct_error_last());
    if (ct_agent_tokens_load(&tokens, o.tokens, o.name) < 0) {
        fprintf(stderr, "catena agent: %s\n", ct_error_last());
        return CLI_USAGE;
    }
    if ((rc = cli_load_key(key, "agent", o.key_file, o.key_env, o.pw_file, o.pw_env)) != 0) {
        ct_agent_tokens_free(tokens);
        return rc;
    }
    cli_block_stop_signals();
    cfg.dc_name = o.name;
    cfg.rpc_url = o.rpc;
    cfg.tokens = tokens;
    cfg.max_message = o.max_message;
    cfg.always_preflight = o.always_preflight;
    cfg.outbox_path = o.outbox;
    cfg.gateways = o.gateways;
    cfg.n_gateways = o.n_gateways;
    cfg.idle_timeout_s = o.idle_timeout_s;
    cfg.ping_interval_s = o.ping_interval_s;
    cfg.tls_cert_file = o.tls_cert;
    cfg.tls_key_file = o.tls_key;
    cfg.amqp_url = o.amqp;
    cfg.amqp_exchange = o.amqp_exchange;
    cfg.openstack = o.openstack;
    cfg.watch_journal = o.watch_journal;
    rc = serve(&cfg, key);
    ct_agent_tokens_free(tokens);
    return rc;
}
