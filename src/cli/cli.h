/* Shared declarations of the catena command-line tool: the command table,
 * option parsing helpers and the stderr log sink. */
#ifndef CATENA_CLI_H
#define CATENA_CLI_H

#include <getopt.h>
#include <stdint.h>

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

/* Prints the full help of cmd to stdout. */
void cli_print_help(const cli_cmd *cmd);

/* getopt_long over argv[1..] with our own one-line errors. Returns the
 * option character, -1 at the end, or '?' after reporting a bad flag
 * (the caller returns CLI_USAGE). */
int cli_getopt(const cli_cmd *cmd, int argc, char **argv, const struct option *longopts);

/* Parses a TCP port (0..65535) given to flag. Returns 0 or reports and
 * returns CLI_USAGE. */
int cli_parse_port(const cli_cmd *cmd, const char *flag, const char *value, uint16_t *out);

/* Sends library log messages at or above CATENA_LOG_LEVEL (default info)
 * to stderr. */
void cli_log_init(void);

/* The directory that holds node_modules/ and hardhat.config.js:
 * $CATENA_ROOT, else the source tree catena was built from. Borrowed. */
const char *cli_root_dir(void);

int cmd_up(int argc, char **argv);
int cmd_tool(int argc, char **argv);

/* The generated help of `catena tool` (its subcommands' usage lines). */
const char *cli_tool_help(void);

#endif /* CATENA_CLI_H */
