/* Entry point of the catena binary: dispatches to subcommands and handles
 * help, version and usage errors (exit code 2). */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/util.h"

#ifndef CATENA_VERSION
#define CATENA_VERSION "0.0.0"
#endif

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const cli_cmd commands[] = {
    {"up", "run a local federation (Hardhat node, ...) until Ctrl-C",
     "catena up [--dir DIR] [--rpc-port N]",
     "Starts a local Hardhat development chain on 127.0.0.1, writes\n"
     "DIR/federation.json describing it and waits. Ctrl-C or SIGTERM stops\n"
     "everything it started.\n"
     "\n"
     "  --dir DIR       state and logs (default: ./catena-up)\n"
     "  --rpc-port N    chain JSON-RPC port, 0 picks a free one (default: 8545)\n"
     "\n"
     "Hardhat is looked up in $CATENA_ROOT/node_modules, else in the source\n"
     "tree catena was built from.\n",
     NULL, cmd_up},
    {"tool", "Ethereum and data utilities (keccak, ABI, RLP, transactions, keystores, rpc)",
     "catena tool <subcommand> [args]", NULL, cli_tool_help, cmd_tool},
    {"help", "show help for catena or one command", "catena help [COMMAND]", "", NULL, cmd_help},
    {"version", "print the version", "catena version", "", NULL, cmd_version},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const cli_cmd *cli_find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_main_help(FILE *f)
{
    fprintf(f, "usage: catena <command> [options]\n\n"
               "Catena: a federation ledger for data centres and clouds.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'catena help <command>' for a command's options.\n");
}

void cli_print_help(const cli_cmd *cmd)
{
    printf("usage: %s\n\n%s", cmd->usage, cmd->help_fn ? cmd->help_fn() : cmd->help);
}

int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "catena %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\n", cmd->usage);
    return CLI_USAGE;
}

int cli_getopt(const cli_cmd *cmd, int argc, char **argv, const struct option *longopts)
{
    int c;

    opterr = 0;
    c = getopt_long(argc, argv, "+:h", longopts, NULL);
    if (c == ':')
        cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
    else if (c == '?' && optopt != 0 && strncmp(argv[optind - 1], "--", 2) != 0)
        cli_usage_error(cmd, "unknown option '-%c'", optopt);
    else if (c == '?')
        cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
    return c == ':' ? '?' : c;
}

int cli_parse_port(const cli_cmd *cmd, const char *flag, const char *value, uint16_t *out)
{
    uint64_t v;

    if (ct_parse_uint(&v, value, 65535) < 0)
        return cli_usage_error(cmd, "%s: %s", flag, ct_error_last());
    *out = (uint16_t)v;
    return 0;
}

static void log_to_stderr(int level, const char *msg, void *payload)
{
    (void)payload;
    fprintf(stderr, "catena: %s: %s\n", ct_log_level_name(level), msg);
}

void cli_log_init(void)
{
    int level = CT_LOG_INFO;
    const char *env = getenv("CATENA_LOG_LEVEL");

    if (env != NULL && ct_log_level_parse(&level, env) < 0)
        fprintf(stderr, "catena: CATENA_LOG_LEVEL: %s\n", ct_error_last());
    ct_log_set(level, log_to_stderr, NULL);
}

const char *cli_root_dir(void)
{
    const char *env = getenv("CATENA_ROOT");
    return env != NULL && env[0] != '\0' ? env : CATENA_SOURCE_DIR;
}

static int cmd_help(int argc, char **argv)
{
    const cli_cmd *self = cli_find("help"), *cmd;

    if (argc < 2) {
        print_main_help(stdout);
        return CLI_OK;
    }
    if (argc > 2)
        return cli_usage_error(self, "expects one command name");
    if ((cmd = cli_find(argv[1])) == NULL)
        return cli_usage_error(self, "unknown command '%s'", argv[1]);
    cli_print_help(cmd);
    return CLI_OK;
}

static int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return cli_usage_error(cli_find("version"), "takes no arguments");
    printf("catena %s\n", CATENA_VERSION);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    const cli_cmd *cmd;

    if (argc < 2) {
        print_main_help(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(1, argv);
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv);
    if ((cmd = cli_find(argv[1])) == NULL) {
        fprintf(stderr,
                "catena: unknown %s '%s'\nusage: catena <command> [options] "
                "(see 'catena --help')\n",
                argv[1][0] == '-' ? "option" : "command", argv[1]);
        return CLI_USAGE;
    }
    cli_log_init();
    return cmd->run(argc - 1, argv + 1);
}
