/* `catena tool`: Ethereum and data utilities in the spirit of Foundry's
 * cast (keccak, addresses, transactions, ABI, RLP, keystores, raw RPC).
 * Inputs and outputs are stable interfaces: bad input prints one line to
 * stderr and exits 2 with nothing on stdout. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catena/crypto.h"
#include "catena/eth.h"
#include "catena/util.h"

#define TOOL_MAX_OUTPUT (16u << 20)

typedef struct tool_cmd {
    const char *name;
    const char *usage;
    int (*run)(int argc, char **argv);
} tool_cmd;

/* Bad input of a tool subcommand: "catena tool SUB: ...", exit 2. */
#define bad_input(sub, ...) cli_bad_input("tool", (sub), __VA_ARGS__)

static const cli_cmd *self(void)
{
    return cli_find("tool");
}

static void print_hex(const uint8_t *data, size_t len)
{
    char *s = malloc(2 * len + 3);
    if (s == NULL)
        abort(); /* the CLI may abort on allocation failure (STYLE.md) */
    ct_hex_encode(s, 2 * len + 3, data, len, true);
    puts(s);
    free(s);
}

/* Parses a JSON argument, with the library's message on failure. */
static int parse_json_arg(json_t **out, const char *sub, const char *what, const char *text)
{
    if (ct_json_parse(out, text, strlen(text), CT_JSON_MAX_DEPTH) < 0)
        return bad_input(sub, "%s: %s", what, ct_error_last());
    return 0;
}

/* Decodes a 0x-hex argument into a new buffer. */
static int parse_hex_arg(uint8_t **out, size_t *len, const char *sub, const char *what,
                         const char *text)
{
    if (ct_hex_decode_new(out, len, text) < 0)
        return bad_input(sub, "%s: %s", what, ct_error_last());
    return 0;
}

static int expect_args(const char *sub, int argc, int min, int max, const char *usage)
{
    if (argc - 1 < min || argc - 1 > max)
        return bad_input(sub, "expected %s", usage);
    return 0;
}

/* Keys and secrets: see keys.c (shared with `catena agent`). */

/* ---------------------------------------------------------------- hashing */

static int tool_keccak(int argc, char **argv)
{
    uint8_t hash[32], *data;
    size_t len;

    if (argc == 3 && strcmp(argv[1], "--text") == 0) {
        ct_keccak256(hash, argv[2], strlen(argv[2]));
        print_hex(hash, 32);
        return CLI_OK;
    }
    if (expect_args("keccak", argc, 1, 1, "<0xhex> or --text <string>") != 0)
        return CLI_USAGE;
    if (parse_hex_arg(&data, &len, "keccak", "input", argv[1]) != 0)
        return CLI_USAGE;
    ct_keccak256(hash, data, len);
    free(data);
    print_hex(hash, 32);
    return CLI_OK;
}

static int tool_address(int argc, char **argv)
{
    uint8_t key[CT_SECKEY_SIZE];
    ct_address addr;
    char text[CT_ADDRESS_TEXT_SIZE];

    if (expect_args("address", argc, 1, 1, "<0xprivkey>") != 0 ||
        cli_parse_key(key, "tool address", argv[1]) != 0)
        return CLI_USAGE;
    ct_address_from_seckey(&addr, key);
    ct_wipe(key, sizeof(key));
    ct_address_format(text, &addr);
    puts(text);
    return CLI_OK;
}

/* ---------------------------------------------------------------- transactions */

static int tool_sign_tx(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"key-file", required_argument, NULL, 'k'},
        {"key-env", required_argument, NULL, 'e'},
        {"password-file", required_argument, NULL, 'p'},
        {"password-env", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    const char *kf = NULL, *ke = NULL, *pf = NULL, *pe = NULL;
    uint8_t key[CT_SECKEY_SIZE], *raw;
    size_t len;
    json_t *j;
    ct_tx tx;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case 'k': kf = optarg; break;
        case 'e': ke = optarg; break;
        case 'p': pf = optarg; break;
        case 'P': pe = optarg; break;
        default: return bad_input("sign-tx", "bad option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return bad_input("sign-tx", "expected one transaction JSON argument");
    if (parse_json_arg(&j, "sign-tx", "transaction", argv[optind]) != 0)
        return CLI_USAGE;
    rc = ct_tx_from_json(&tx, j);
    json_decref(j);
    if (rc < 0)
        return bad_input("sign-tx", "%s", ct_error_last());
    if ((rc = cli_load_key(key, "tool sign-tx", kf, ke, pf, pe)) == 0) {
        rc = ct_tx_sign(&tx, key) < 0 || ct_tx_encode(&raw, &len, &tx) < 0 ? CLI_FAIL : 0;
        if (rc != 0)
            fprintf(stderr, "catena tool sign-tx: %s\n", ct_error_last());
        if (rc == 0) {
            print_hex(raw, len);
            free(raw);
        }
    }
    ct_wipe(key, sizeof(key));
    ct_tx_clear(&tx);
    return rc;
}

static int tool_decode_tx(int argc, char **argv)
{
    uint8_t *raw, hash[32];
    size_t len;
    ct_address from;
    char from_text[CT_ADDRESS_TEXT_SIZE];
    json_t *j;
    ct_tx tx;
    int rc;

    if (expect_args("decode-tx", argc, 1, 1, "<0xraw>") != 0 ||
        parse_hex_arg(&raw, &len, "decode-tx", "raw transaction", argv[1]) != 0)
        return CLI_USAGE;
    rc = ct_tx_decode(&tx, raw, len);
    free(raw);
    if (rc < 0)
        return bad_input("decode-tx", "%s", ct_error_last());
    if (ct_tx_sender(&from, &tx) < 0) {
        ct_tx_clear(&tx);
        return bad_input("decode-tx", "%s", ct_error_last());
    }
    ct_address_format(from_text, &from);
    if (ct_tx_to_json(&j, &tx) < 0 || ct_tx_hash(hash, &tx) < 0) {
        ct_tx_clear(&tx);
        return bad_input("decode-tx", "%s", ct_error_last());
    }
    json_object_set_new(j, "hash", ct_json_hex(hash, 32));
    json_object_set_new(j, "from", json_string(from_text));
    rc = cli_print_json(j);
    json_decref(j);
    ct_tx_clear(&tx);
    return rc;
}

/* ---------------------------------------------------------------- ABI */

/* Parses "f(types)" or a bare "(types)". Out: *sig for a function (else
 * NULL) and *type borrowed from it or owned (bare tuple). */
static int parse_sig_or_tuple(ct_abi_sig **sig, ct_abi_type **type, const char *sub,
                              const char *text)
{
    *sig = NULL;
    *type = NULL;
    /* "tuple(...)" is the ABI JSON spelling of a tuple, not a function. */
    if (strncmp(text, "tuple(", 6) == 0)
        text += 5;
    if (text[0] == '(') {
        if (ct_abi_type_parse(type, text) < 0)
            return bad_input(sub, "%s", ct_error_last());
        if ((*type)->kind != CT_ABI_TUPLE) {
            ct_abi_type_free(*type);
            return bad_input(sub, "expected a tuple of types such as (uint256,string)");
        }
        return 0;
    }
    if (ct_abi_sig_parse(sig, text) < 0)
        return bad_input(sub, "%s", ct_error_last());
    return 0;
}

static int tool_abi_encode(int argc, char **argv)
{
    ct_abi_sig *sig;
    ct_abi_type *type;
    json_t *values;
    ct_buf out;
    int rc = CLI_OK;

    if (expect_args("abi-encode", argc, 2, 2, "'<f(types) or (types)>' '<json array>'") != 0 ||
        parse_sig_or_tuple(&sig, &type, "abi-encode", argv[1]) != 0)
        return CLI_USAGE;
    ct_buf_init(&out, TOOL_MAX_OUTPUT);
    if (sig != NULL) {
        uint8_t sel[4];
        ct_abi_selector(sel, sig);
        ct_buf_append(&out, sel, 4);
    }
    /* ABI strings may hold NUL (cast encodes "\u0000" as a zero byte). */
    if (ct_json_parse_with_nul(&values, argv[2], strlen(argv[2]), CT_JSON_MAX_DEPTH) < 0) {
        rc = bad_input("abi-encode", "values: %s", ct_error_last());
    } else {
        if (ct_abi_encode(&out, sig ? sig->params : type, values) < 0)
            rc = bad_input("abi-encode", "%s", ct_error_last());
        else
            print_hex((const uint8_t *)out.data, out.len);
        json_decref(values);
    }
    ct_buf_free(&out);
    ct_abi_sig_free(sig);
    ct_abi_type_free(type);
    return rc;
}

static int tool_abi_decode(int argc, char **argv)
{
    ct_abi_sig *sig;
    ct_abi_type *type;
    uint8_t *data;
    size_t len;
    json_t *out;
    int rc = CLI_USAGE;

    if (expect_args("abi-decode", argc, 2, 2, "'(types)' <0xhex>") != 0 ||
        parse_sig_or_tuple(&sig, &type, "abi-decode", argv[1]) != 0)
        return CLI_USAGE;
    if (sig != NULL) {
        bad_input("abi-decode", "expected a tuple of types such as (uint256,string)");
    } else if (parse_hex_arg(&data, &len, "abi-decode", "data", argv[2]) == 0) {
        if (ct_abi_decode(&out, type, data, len) < 0) {
            bad_input("abi-decode", "%s", ct_error_last());
        } else {
            rc = cli_print_json(out);
            json_decref(out);
        }
        free(data);
    }
    ct_abi_sig_free(sig);
    ct_abi_type_free(type);
    return rc;
}

/* selector and event-topic: keccak of the canonical signature. */
static int sig_hash(int argc, char **argv, const char *sub, bool topic)
{
    ct_abi_sig *sig;
    uint8_t out[32];

    if (expect_args(sub, argc, 1, 1, "'<name(types)>'") != 0)
        return CLI_USAGE;
    if (ct_abi_sig_parse(&sig, argv[1]) < 0)
        return bad_input(sub, "%s", ct_error_last());
    if (topic)
        ct_abi_topic(out, sig);
    else
        ct_abi_selector(out, sig);
    ct_abi_sig_free(sig);
    print_hex(out, topic ? 32 : 4);
    return CLI_OK;
}

static int tool_selector(int argc, char **argv)
{
    return sig_hash(argc, argv, "selector", false);
}

static int tool_event_topic(int argc, char **argv)
{
    return sig_hash(argc, argv, "event-topic", true);
}

/* ---------------------------------------------------------------- RLP */

static int tool_rlp_encode(int argc, char **argv)
{
    json_t *j;
    uint8_t *out;
    size_t len;
    int rc;

    if (expect_args("rlp-encode", argc, 1, 1, "'<json of 0x strings and arrays>'") != 0 ||
        parse_json_arg(&j, "rlp-encode", "input", argv[1]) != 0)
        return CLI_USAGE;
    rc = ct_rlp_from_json(&out, &len, j);
    json_decref(j);
    if (rc < 0)
        return bad_input("rlp-encode", "%s", ct_error_last());
    print_hex(out, len);
    free(out);
    return CLI_OK;
}

static int tool_rlp_decode(int argc, char **argv)
{
    uint8_t *data;
    size_t len;
    json_t *j;
    int rc;

    if (expect_args("rlp-decode", argc, 1, 1, "<0xhex>") != 0 ||
        parse_hex_arg(&data, &len, "rlp-decode", "input", argv[1]) != 0)
        return CLI_USAGE;
    rc = ct_rlp_to_json(&j, data, len);
    free(data);
    if (rc < 0)
        return bad_input("rlp-decode", "%s", ct_error_last());
    rc = cli_print_json(j);
    json_decref(j);
    return rc;
}

/* ---------------------------------------------------------------- keystore */

static int keystore_new(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"password-file", required_argument, NULL, 'p'},
        {"password-env", required_argument, NULL, 'P'},
        {"out", required_argument, NULL, 'o'},
        {"light", no_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *pf = NULL, *pe = NULL, *dir = ".";
    bool light = false;
    char *pw = NULL, *json = NULL, name[128], path[PATH_MAX], addr_text[CT_ADDRESS_TEXT_SIZE];
    uint8_t key[CT_SECKEY_SIZE];
    ct_address addr;
    int c, rc = CLI_FAIL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': pf = optarg; break;
        case 'P': pe = optarg; break;
        case 'o': dir = optarg; break;
        case 'l': light = true; break;
        default: return bad_input("keystore new", "bad option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc || (pf == NULL) == (pe == NULL))
        return bad_input("keystore new", "expected --password-file F or --password-env VAR "
                                         "[--out DIR] [--light]");
    if (cli_read_secret(&pw, "tool keystore new", pf, pe) != 0)
        return CLI_USAGE;
    if (ct_seckey_generate(key) < 0 || ct_address_from_seckey(&addr, key) < 0 ||
        ct_keystore_encrypt(&json, key, pw, strlen(pw),
                            light ? &CT_KEYSTORE_LIGHT : &CT_KEYSTORE_STANDARD) < 0 ||
        ct_keystore_filename(name, sizeof(name), &addr, ct_time_now_ms()) < 0) {
        fprintf(stderr, "catena tool keystore new: %s\n", ct_error_last());
        goto done;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "catena tool keystore new: %s: %s\n", dir, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (ct_file_write_atomic(path, json, strlen(json), 0600) < 0) {
        fprintf(stderr, "catena tool keystore new: %s\n", ct_error_last());
        goto done;
    }
    ct_address_format(addr_text, &addr);
    printf("%s %s\n", addr_text, path);
    rc = CLI_OK;
done:
    ct_wipe(key, sizeof(key));
    cli_free_secret(pw);
    free(json);
    return rc;
}

/* Prints the address a keystore file declares, without decrypting it. */
static int keystore_address(int argc, char **argv)
{
    char *text, out[CT_ADDRESS_TEXT_SIZE];
    const char *a;
    ct_address addr;
    json_t *j;
    int rc = CLI_USAGE;

    if (expect_args("keystore address", argc, 1, 1, "FILE") != 0)
        return CLI_USAGE;
    if (ct_file_read(&text, NULL, argv[1], CT_KEYSTORE_MAX_SIZE) < 0)
        return bad_input("keystore address", "%s", ct_error_last());
    if (ct_json_parse(&j, text, strlen(text), CT_JSON_MAX_DEPTH) < 0) {
        bad_input("keystore address", "%s: %s", argv[1], ct_error_last());
    } else {
        if (ct_json_get_string(&a, j, "address", false) < 0 || ct_address_parse(&addr, a) < 0) {
            bad_input("keystore address", "%s: %s", argv[1], ct_error_last());
        } else {
            ct_address_format(out, &addr);
            puts(out);
            rc = CLI_OK;
        }
        json_decref(j);
    }
    free(text);
    return rc;
}

static int tool_keystore(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "new") == 0)
        return keystore_new(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "address") == 0)
        return keystore_address(argc - 1, argv + 1);
    return bad_input("keystore", "expected 'new' or 'address'");
}

/* ---------------------------------------------------------------- rpc */

static int tool_rpc(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rpc", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL;
    json_t *params = NULL, *res = NULL;
    ct_rpc *rpc;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        if (c != 'r')
            return bad_input("rpc", "bad option '%s'", argv[optind - 1]);
        url = optarg;
    }
    if (url == NULL || optind >= argc || argc - optind > 2)
        return bad_input("rpc", "expected --rpc URL <method> ['<json params>']");
    if (argc - optind == 2) {
        if (parse_json_arg(&params, "rpc", "params", argv[optind + 1]) != 0)
            return CLI_USAGE;
        if (!json_is_array(params) && !json_is_object(params)) {
            json_decref(params);
            return bad_input("rpc", "params must be a JSON array or object");
        }
    }
    if (ct_rpc_new(&rpc, url, 30000) < 0) {
        json_decref(params);
        return bad_input("rpc", "%s", ct_error_last());
    }
    rc = ct_rpc_call(rpc, &res, argv[optind], params);
    ct_rpc_free(rpc);
    json_decref(params);
    if (rc < 0) {
        fprintf(stderr, "catena tool rpc: %s\n", ct_error_last());
        return CLI_FAIL;
    }
    rc = cli_print_json(res);
    json_decref(res);
    return rc;
}

/* ---------------------------------------------------------------- dispatch */

static const tool_cmd tools[] = {
    {"keccak", "keccak <0xhex> | keccak --text <string>", tool_keccak},
    {"address", "address <0xprivkey>", tool_address},
    {"sign-tx",
     "sign-tx (--key-file F | --key-env VAR) [--password-file F | --password-env VAR] '<json>'",
     tool_sign_tx},
    {"decode-tx", "decode-tx <0xraw>", tool_decode_tx},
    {"abi-encode", "abi-encode '<f(types) or (types)>' '<json array>'", tool_abi_encode},
    {"abi-decode", "abi-decode '(types)' <0xhex>", tool_abi_decode},
    {"rlp-encode", "rlp-encode '<json nested arrays of 0x strings>'", tool_rlp_encode},
    {"rlp-decode", "rlp-decode <0xhex>", tool_rlp_decode},
    {"selector", "selector '<name(types)>'", tool_selector},
    {"event-topic", "event-topic '<Name(types)>'", tool_event_topic},
    {"keystore",
     "keystore new (--password-file F | --password-env VAR) [--out DIR] [--light]\n"
     "  keystore address FILE",
     tool_keystore},
    {"rpc", "rpc --rpc URL <method> ['<json params>']", tool_rpc},
};

const char *cli_tool_help(void)
{
    static char help[2048];
    size_t n = 0;

    if (help[0] != '\0')
        return help;
    n += (size_t)snprintf(help + n, sizeof(help) - n,
                          "Ethereum and data utilities. Numbers are decimal or 0x hex; keys and\n"
                          "passwords come from files or environment variables, never argv\n"
                          "(except `address`).\n\n");
    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]) && n < sizeof(help); i++)
        n += (size_t)snprintf(help + n, sizeof(help) - n, "  %s\n", tools[i].usage);
    return help;
}

int cmd_tool(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(self(), "expects a subcommand");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_print_help(self());
        return CLI_OK;
    }
    opterr = 0;
    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
        if (strcmp(argv[1], tools[i].name) == 0)
            return tools[i].run(argc - 1, argv + 1);
    return cli_usage_error(self(), "unknown subcommand '%s'", argv[1]);
}
