/* `catena tool` as scripts use it: every subcommand's output format on
 * known answers, keys from files and the environment, keystores, rpc
 * against a real Hardhat node, and bad input (exit 2, nothing on stdout). */
#include "harness.h"

#include <sys/stat.h>

static const char eip155_tx[] = "{\"nonce\":9,\"gasPrice\":\"20000000000\",\"gasLimit\":21000,"
                                "\"to\":\"0x3535353535353535353535353535353535353535\","
                                "\"value\":\"1000000000000000000\",\"data\":\"0x\",\"chainId\":1}";
static const char eip155_raw[] =
    "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028"
    "ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800"
    "ccf555c9f3dc64214b297fb1966a3b6d83";
static const char eip155_key[] =
    "0x4646464646464646464646464646464646464646464646464646464646464646";

/* Runs catena and checks exit 0 and the exact stdout (with newline). */
static void expect_out(const char *const *args, const char *const *env, const char *want)
{
    ctt_run r;
    ctt_catena_env(&r, args, env);
    if (ctt_exit_code(&r) != 0)
        fail_msg("catena %s %s: exit %d: %s", args[0], args[1] ? args[1] : "", ctt_exit_code(&r),
                 r.err);
    if (strcmp(r.out, want) != 0)
        fail_msg("catena %s %s:\n got  %s want %s", args[0], args[1] ? args[1] : "", r.out, want);
    ctt_run_free(&r);
}

static void hashes_and_addresses(void **state)
{
    (void)state;
    expect_out((const char *[]){"tool", "keccak", "0x", NULL}, NULL,
               "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470\n");
    expect_out((const char *[]){"tool", "keccak", "--text", "abc", NULL}, NULL,
               "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45\n");
    expect_out(
        (const char *[]){"tool", "address",
                         "0x0000000000000000000000000000000000000000000000000000000000000001",
                         NULL},
        NULL, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf\n");
    expect_out((const char *[]){"tool", "selector", "transfer(address to, uint amount)", NULL},
               NULL, "0xa9059cbb\n");
    expect_out((const char *[]){"tool", "event-topic",
                                "Transfer(address indexed,address indexed,uint256)", NULL},
               NULL, "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\n");
}

static void transactions(void **state)
{
    const char *keyfile = ctt_path("%s/key.hex", ctt_tmpdir());
    (void)state;

    ctt_ok(ct_file_write_atomic(keyfile, eip155_key, strlen(eip155_key), 0600));
    char want[512];
    snprintf(want, sizeof(want), "%s\n", eip155_raw);
    expect_out((const char *[]){"tool", "sign-tx", "--key-file", keyfile, eip155_tx, NULL}, NULL,
               want);
    expect_out(
        (const char *[]){"tool", "sign-tx", "--key-env", "CT_TEST_KEY", eip155_tx, NULL},
        (const char *[]){
            "CT_TEST_KEY=0x4646464646464646464646464646464646464646464646464646464646464646", NULL},
        want);

    ctt_run r;
    json_t *j;
    ctt_catena(&r, (const char *[]){"tool", "decode-tx", eip155_raw, NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    ctt_ok(ct_json_parse(&j, r.out, strlen(r.out), 8));
    assert_string_equal(json_string_value(json_object_get(j, "from")),
                        "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
    assert_string_equal(json_string_value(json_object_get(j, "hash")),
                        "0x33469b22e9f636356c4160a87eb19df52b7412e8eac32a4a55ffe88ea8350788");
    assert_string_equal(json_string_value(json_object_get(j, "chainId")), "1");
    assert_string_equal(json_string_value(json_object_get(j, "nonce")), "9");
    json_decref(j);
    ctt_run_free(&r);
}

static void abi_and_rlp(void **state)
{
    (void)state;
    expect_out((const char *[]){"tool", "abi-encode", "(uint256,string)", "[1, \"a\"]", NULL}, NULL,
               "0x0000000000000000000000000000000000000000000000000000000000000001"
               "0000000000000000000000000000000000000000000000000000000000000040"
               "0000000000000000000000000000000000000000000000000000000000000001"
               "6100000000000000000000000000000000000000000000000000000000000000\n");
    /* "tuple(...)" is a tuple, as in the ABI's JSON, not a function. */
    expect_out((const char *[]){"tool", "abi-encode", "tuple(uint256)", "[1]", NULL}, NULL,
               "0x0000000000000000000000000000000000000000000000000000000000000001\n");
    /* A NUL inside an ABI string is a zero byte, as cast encodes it. */
    expect_out((const char *[]){"tool", "abi-encode", "(string)", "[\"a\\u0000b\"]", NULL}, NULL,
               "0x0000000000000000000000000000000000000000000000000000000000000020"
               "0000000000000000000000000000000000000000000000000000000000000003"
               "6100620000000000000000000000000000000000000000000000000000000000\n");
    expect_out((const char *[]){"tool", "abi-encode", "balanceOf(address)",
                                "[\"0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf\"]", NULL},
               NULL,
               "0x70a082310000000000000000000000007e5f4552091a69125d5dfcb7b8c2659029395bdf\n");
    expect_out((const char *[]){"tool", "abi-decode", "(uint256,string)",
                                "0x0000000000000000000000000000000000000000000000000000000000000001"
                                "0000000000000000000000000000000000000000000000000000000000000040"
                                "0000000000000000000000000000000000000000000000000000000000000001"
                                "6100000000000000000000000000000000000000000000000000000000000000",
                                NULL},
               NULL, "[\"1\",\"a\"]\n");
    expect_out(
        (const char *[]){"tool", "rlp-encode", "[\"0x636174\", [\"0x646f67\"], \"0x\"]", NULL},
        NULL, "0xca83636174c483646f6780\n");
    expect_out((const char *[]){"tool", "rlp-decode", "0xca83636174c483646f6780", NULL}, NULL,
               "[\"0x636174\",[\"0x646f67\"],\"0x\"]\n");
}

static void keystores(void **state)
{
    const char *pwfile = ctt_path("%s/pw", ctt_tmpdir());
    const char *dir = ctt_path("%s/keys", ctt_tmpdir());
    char addr[64], path[1024];
    ctt_run r;
    (void)state;

    ctt_ok(ct_file_write_atomic(pwfile, "s3cret\n", 7, 0600));
    ctt_catena(&r, (const char *[]){"tool", "keystore", "new", "--password-file", pwfile, "--out",
                                    dir, "--light", NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_int_equal(sscanf(r.out, "%63s %1023s", addr, path), 2);
    ctt_run_free(&r);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char want[80];
    snprintf(want, sizeof(want), "%s\n", addr);
    expect_out((const char *[]){"tool", "keystore", "address", path, NULL}, NULL, want);

    /* The keystore signs: decode-tx recovers its address. */
    ctt_catena_env(&r,
                   (const char *[]){"tool", "sign-tx", "--key-file", path, "--password-env",
                                    "CT_PW", eip155_tx, NULL},
                   (const char *[]){"CT_PW=s3cret", NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    char raw[512];
    assert_int_equal(sscanf(r.out, "%511s", raw), 1);
    ctt_run_free(&r);
    ctt_catena(&r, (const char *[]){"tool", "decode-tx", raw, NULL});
    assert_non_null(strstr(r.out, addr));
    ctt_run_free(&r);

    /* A wrong password is bad input. */
    ctt_catena_env(&r,
                   (const char *[]){"tool", "sign-tx", "--key-file", path, "--password-env",
                                    "CT_PW", eip155_tx, NULL},
                   (const char *[]){"CT_PW=wrong", NULL});
    assert_int_equal(ctt_exit_code(&r), 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "password"));
    ctt_run_free(&r);
}

static void rpc(void **state)
{
    ct_devnode node;
    ctt_run r;
    (void)state;

    ctt_node_start(&node);
    expect_out((const char *[]){"tool", "rpc", "--rpc", node.url, "eth_chainId", NULL}, NULL,
               "\"0x7a69\"\n");
    ctt_catena(&r, (const char *[]){"tool", "rpc", "--rpc", node.url, "eth_getBlockByNumber",
                                    "[\"0x0\", false]", NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_non_null(strstr(r.out, "\"number\":\"0x0\""));
    ctt_run_free(&r);
    ctt_catena(&r, (const char *[]){"tool", "rpc", "--rpc", node.url, "eth_nope", NULL});
    assert_int_equal(ctt_exit_code(&r), 1);
    assert_string_equal(r.out, "");
    ctt_run_free(&r);
    ctt_node_stop(&node);
}

/* `catena deploy` puts the Federation contract on a chain. */
static void deploy(void **state)
{
    const char *keyfile = ctt_path("%s/dev.key", ctt_tmpdir());
    ct_devnode node;
    ctt_run r;
    json_t *out, *code;
    ct_rpc *rpc;
    (void)state;

    ctt_ok(ct_file_write_atomic(keyfile, CTT_DEV_KEY "\n", strlen(CTT_DEV_KEY) + 1, 0600));
    ctt_node_start(&node);
    ctt_catena(&r, (const char *[]){"deploy", "--rpc", node.url, "--key-file", keyfile, "--json",
                                     NULL});
    if (ctt_exit_code(&r) != 0)
        fail_msg("deploy: %s", r.err);
    ctt_ok(ct_json_parse(&out, r.out, strlen(r.out), 4));
    ctt_run_free(&r);
    assert_string_equal(json_string_value(json_object_get(out, "mode")), "open");
    ctt_ok(ct_rpc_new(&rpc, node.url, 5000));
    json_t *params = json_pack("[O, s]", json_object_get(out, "address"), "latest");
    ctt_ok(ct_rpc_call(rpc, &code, "eth_getCode", params));
    assert_true(strlen(json_string_value(code)) > 1000);
    json_decref(code);
    json_decref(params);
    json_decref(out);
    ct_rpc_free(rpc);
    /* Consortium mode prints just the address. */
    ctt_catena(&r, (const char *[]){"deploy", "--rpc", node.url, "--key-file", keyfile,
                                     "--consortium", NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_int_equal(strlen(r.out), 43);
    ctt_run_free(&r);
    ctt_node_stop(&node);
    /* No key is bad input; no chain is a failure. */
    ctt_catena(&r, (const char *[]){"deploy", "--rpc", "http://127.0.0.1:1", NULL});
    assert_int_equal(ctt_exit_code(&r), 2);
    ctt_run_free(&r);
    ctt_catena(&r, (const char *[]){"deploy", "--rpc", "http://127.0.0.1:1", "--key-file", keyfile,
                                     NULL});
    assert_int_equal(ctt_exit_code(&r), 1);
    assert_string_equal(r.out, "");
    ctt_run_free(&r);
}

static void bad_input(void **state)
{
    const char *const *cases[] = {
        (const char *[]){"tool", NULL},
        (const char *[]){"tool", "nope", NULL},
        (const char *[]){"tool", "keccak", NULL},
        (const char *[]){"tool", "keccak", "0xabc", NULL},
        (const char *[]){"tool", "keccak", "zz", NULL},
        (const char *[]){"tool", "address", "0x00", NULL},
        (const char *[]){"tool", "address",
                         "0x0000000000000000000000000000000000000000000000000000000000000000",
                         NULL},
        (const char *[]){"tool", "sign-tx", eip155_tx, NULL},
        (const char *[]){"tool", "sign-tx", "--key-env", "CT_UNSET_VAR", eip155_tx, NULL},
        (const char *[]){"tool", "sign-tx", "--key-file", "/nonexistent", eip155_tx, NULL},
        (const char *[]){"tool", "sign-tx", "--key-env", "CT_UNSET_VAR", "{\"nonce\":", NULL},
        (const char *[]){"tool", "sign-tx", "--key-env", "CT_UNSET_VAR", "{\"gas\":1}", NULL},
        (const char *[]){"tool", "sign-tx", "--bogus", NULL},
        (const char *[]){"tool", "decode-tx", "0x1234", NULL},
        (const char *[]){"tool", "abi-encode", "(uint8)", "[300]", NULL},
        (const char *[]){"tool", "abi-encode", "(uint7)", "[1]", NULL},
        (const char *[]){"tool", "abi-encode", "f(uint256)", "[1, 2]", NULL},
        (const char *[]){"tool", "abi-decode", "(uint256)", "0x01", NULL},
        (const char *[]){"tool", "abi-decode", "f(uint256)", "0x", NULL},
        (const char *[]){"tool", "rlp-encode", "[\"abc\"]", NULL},
        (const char *[]){"tool", "rlp-decode", "0x8100", NULL},
        (const char *[]){"tool", "selector", "transfer(address", NULL},
        (const char *[]){"tool", "keystore", NULL},
        (const char *[]){"tool", "keystore", "new", NULL},
        (const char *[]){"tool", "keystore", "address", "/nonexistent", NULL},
        (const char *[]){"tool", "rpc", "eth_chainId", NULL},
        (const char *[]){"tool", "rpc", "--rpc", "ftp://x", "eth_chainId", NULL},
        (const char *[]){"tool", "rpc", "--rpc", "http://127.0.0.1:1", "m", "notjson", NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ctt_run r;
        ctt_catena(&r, cases[i]);
        if (ctt_exit_code(&r) != 2 || r.out[0] != '\0')
            fail_msg("case %zu (%s %s): exit %d, stdout '%s'", i, cases[i][1] ? cases[i][1] : "",
                     cases[i][1] && cases[i][2] ? cases[i][2] : "", ctt_exit_code(&r), r.out);
        /* One line naming the problem (usage errors add a usage line). */
        assert_true(strlen(r.err) > 10);
        ctt_run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hashes_and_addresses),
        cmocka_unit_test(transactions),
        cmocka_unit_test(abi_and_rlp),
        cmocka_unit_test(keystores),
        cmocka_unit_test(rpc),
        cmocka_unit_test(deploy),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
