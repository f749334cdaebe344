/* Shared declarations of the catena command-line tool: the command table,
 * option parsing helpers and the stderr log sink. */
#ifndef CATENA_CLI_H
#define CATENA_CLI_H

#include <getopt.h>
#include <stdint.h>

#include <jansson.h>

#include "catena/tosca.h"

/* Exit codes: 0 success, 1 failure at run time, 2 bad usage or input. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef struct cli_cmd {
    const char *name;
    const char *summary;          /* one line for `catena --help` */
    const char *usage;            /* "catena up [--dir DIR] ..." */
    const char *help;             /* the rest of `catena help <name>` */
    const char *(*help_fn)(void); /* or this, when the help is generated */
    int (*run)(int argc, char **argv);
} cli_cmd;

/* Returns: the command called name, or NULL. */
const cli_cmd *cli_find(const char *name);

/* Prints "catena <cmd>: <message>" and the command's usage line to stderr.
 * Returns: CLI_USAGE. */
int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "catena CMD[ SUB]: message" (one line) to stderr for bad input.
 * Returns: CLI_USAGE. */
int cli_bad_input(const char *cmd, const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints v as one line of compact JSON to stdout.
 * Returns: CLI_OK, or CLI_FAIL when it cannot be serialised. */
int cli_print_json(const json_t *v);

/* Prints the full help of cmd to stdout. */
void cli_print_help(const cli_cmd *cmd);

/* getopt_long over argv[1..] with our own one-line errors. Returns the
 * option character, -1 at the end, or '?' after reporting a bad flag
 * (the caller returns CLI_USAGE). */
int cli_getopt(const cli_cmd *cmd, int argc, char **argv, const struct option *longopts);

/* cli_getopt for commands with one positional argument that options may
 * also follow ("catena place APP.yaml --kb KB"): the positional goes to
 * *positional; a second one is reported and returned as '?'. Set optind
 * to 1 before the first call. */
int cli_getopt_one(const cli_cmd *cmd, int argc, char **argv, const struct option *longopts,
                   const char **positional);

/* Splits "HOST:PORT" (an IPv4 address) given to --listen into host (a
 * buffer of host_size) and *port. Returns 0 or reports and returns
 * CLI_USAGE. */
int cli_parse_listen(const cli_cmd *cmd, char *host, size_t host_size, uint16_t *port,
                     const char *text);

/* Parses a TCP port (0..65535) given to flag. Returns 0 or reports and
 * returns CLI_USAGE. */
int cli_parse_port(const cli_cmd *cmd, const char *flag, const char *value, uint16_t *out);

/* Blocks SIGINT, SIGTERM and SIGHUP (the stop signals) in the calling
 * thread and ignores SIGPIPE. Call it before any thread starts, so every
 * thread inherits the mask and only cli_wait_stop sees them. */
void cli_block_stop_signals(void);

/* Waits up to timeout_ms (-1: for ever) for a stop signal blocked by
 * cli_block_stop_signals, and logs it.
 * Returns: the signal, or 0 on timeout. */
int cli_wait_stop(int timeout_ms);

/* Sends library log messages at or above CATENA_LOG_LEVEL (default info)
 * to stderr. */
void cli_log_init(void);

/* The directory that holds node_modules/ and hardhat.config.js:
 * $CATENA_ROOT, else the source tree catena was built from. Borrowed. */
const char *cli_root_dir(void);

/* Sends method url with an optional bearer token and JSON body.
 * Out: *status the HTTP status, *out the JSON answer (new ref).
 * Returns: 0 (whatever the status), CT_EIO (no answer), CT_EPARSE. */
int cli_http(long *status, json_t **out, const char *method, const char *url, const char *token,
             const json_t *body);

/* TOSCA topology inputs given as --input NAME=VALUE (tosca.c). */
#define CLI_MAX_INPUTS 64
typedef struct cli_inputs {
    ct_tosca_input_value v[CLI_MAX_INPUTS]; /* point into text */
    size_t n;
    char *text[CLI_MAX_INPUTS]; /* "name=value" copies split at '=' */
} cli_inputs;

/* Adds one NAME=VALUE. Returns: 0, or reports and returns CLI_USAGE. */
int cli_inputs_add(const cli_cmd *cmd, cli_inputs *in, const char *arg);
void cli_inputs_free(cli_inputs *in);

/* Prints a template's findings to stderr, one "file:line:column: error: ..."
 * line each; who names the command ("place"). */
void cli_print_tosca_diags(const char *who, const ct_yaml_diags *d);

/* Loads an application's TOSCA template and plans its services (cmd_orch.c).
 * Findings and errors are printed as "catena <who>: ...".
 * Returns: 0 with *out (ct_orch_plan_free); CLI_USAGE or CLI_FAIL. */
struct ct_orch_plan;
int cli_orch_plan_load(struct ct_orch_plan **out, const char *who, const char *path,
                       const cli_inputs *inputs);
int cli_app_deploy(int argc, char **argv);

/* Signing keys (keys.c). Errors are printed as "catena <who>: ..." and
 * returned as CLI_USAGE. Secrets come from a file (trailing newline
 * stripped) or an environment variable, never from argv. */
/* Out: *out malloc'd; release it with cli_free_secret (wipes it). */
int cli_read_secret(char **out, const char *who, const char *file, const char *env);
void cli_free_secret(char *s);
/* Parses a 32-byte hex private key. */
int cli_parse_key(uint8_t key[32], const char *who, const char *text);
/* --key-file holds a hex key or a keystore v3 file (password from
 * pw_file or pw_env); --key-env names a variable holding a hex key. */
int cli_load_key(uint8_t key[32], const char *who, const char *key_file, const char *key_env,
                 const char *pw_file, const char *pw_env);

int cmd_up(int argc, char **argv);
int cmd_api(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_dc(int argc, char **argv);
int cmd_vc(int argc, char **argv);
int cmd_tool(int argc, char **argv);
int cmd_place(int argc, char **argv);
/* `catena place binpack FILE [--json]` (cmd_binpack.c), reached through cmd_place. */
int cmd_place_binpack(int argc, char **argv);
/* `catena tosca check FILE` (cmd_tosca.c): validates a template. */
/* The first clouds.yaml of the OpenStack client's search order
 * ($OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/,
 * /etc/openstack/), or NULL. */
const char *cli_clouds_default(void);

/* ---------------------------------------------------------------- a gateway (gateway.c) */

/* A gateway and, when read from a federation file, the DCs' tokens. */
typedef struct cli_gw {
    char api[512]; /* base URL ending in /api */
    json_t *doc;   /* federation.json, or NULL */
} cli_gw;

/* From --federation FILE (file), --api URL (api), $CATENA_API, or
 * ./catena-up/federation.json. Returns: 0, or CT_EINVAL with the error
 * set. Close it with cli_gw_close even on failure. */
int cli_gw_open(cli_gw *g, const char *file, const char *api);
void cli_gw_close(cli_gw *g);

/* The token of DC from the federation file, or NULL. Borrowed. */
const char *cli_gw_token(const cli_gw *g, const char *dc);

/* The gateway calls themselves are the library's ct_cloud_gw_* (on g->api). */

int cmd_tosca(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_usage(int argc, char **argv);
/* `catena sim` (cmd_sim.c): the consolidation simulator. */
int cmd_sim(int argc, char **argv);
int cmd_can(int argc, char **argv);
int cmd_orch(int argc, char **argv);
int cmd_app(int argc, char **argv);
int cmd_agreement(int argc, char **argv);
int cmd_verify(int argc, char **argv);
/* `catena agreement session ADDR --port P [--until T]`
 * (cmd_agreement_session.c). */
int agreement_session(const char *addr, uint16_t port, uint64_t until);

/* The generated help of `catena tool` (its subcommands' usage lines). */
const char *cli_tool_help(void);

#endif /* CATENA_CLI_H */
