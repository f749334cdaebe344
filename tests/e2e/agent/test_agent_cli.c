/* `catena agent` as a user runs it, without a chain: --hash-token, and
 * every way the command line, the tokens file, the key or the node can be
 * wrong (exit 2 for bad input, 1 when the node cannot be reached), each
 * with a message that says what is wrong and never echoes a secret. */
#include "harness.h"

#include "catena/crypto.h"

#define TOKEN "dc1-operator-token-7f3a9c2e"
#define CONTRACT "0x5FbDB2315678afecb367f032d93F642f64180aa3"
#define KEY "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"

static void expect_run(const char *const *args, const char *const *env, int code,
                       const char *stderr_has)
{
    ctt_run r;

    ctt_catena_env(&r, args, env);
    if (ctt_exit_code(&r) != code || strstr(r.err, stderr_has) == NULL)
        fail_msg("%s %s: want exit %d and '%s', got %d: %s", args[0], args[1], code, stderr_has,
                 ctt_exit_code(&r), r.err);
    assert_null(strstr(r.err, TOKEN));
    assert_null(strstr(r.err, KEY + 2));
    ctt_run_free(&r);
}

static void hash_token(void **state)
{
    char want[66];
    ctt_run r;
    (void)state;

    ct_token_hash(want, TOKEN);
    want[64] = '\n';
    want[65] = '\0';
    ctt_catena_env(&r, (const char *[]){"agent", "--hash-token", "--token-env", "T", NULL},
                   (const char *[]){"T=" TOKEN, NULL});
    assert_int_equal(ctt_exit_code(&r), 0);
    assert_string_equal(r.out, want);
    ctt_run_free(&r);
    expect_run((const char *[]){"agent", "--hash-token", "--token-env", "T", NULL},
               (const char *[]){"T=short", NULL}, 2, "16 to 512 bytes");
    expect_run((const char *[]){"agent", "--hash-token", "--token-env", "CT_UNSET", NULL}, NULL, 2,
               "CT_UNSET is not set");
    /* stdin is /dev/null here: no token. */
    expect_run((const char *[]){"agent", "--hash-token", NULL}, NULL, 2, "stdin");
}

/* Copies a ctt_path (its buffers rotate) into out. */
static const char *tmp_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", ctt_tmpdir(), name);
    return out;
}

static void bad_command_lines(void **state)
{
    char doc[128], hash[65], path[512];
    const char *tokens = tmp_path(path, sizeof(path), "tokens.json");
    (void)state;

    ct_token_hash(hash, TOKEN);
    snprintf(doc, sizeof(doc), "{\"DC1\": [\"%s\"]}", hash);
    ctt_ok(ct_file_write_atomic(tokens, doc, strlen(doc), 0600));
#define BASE(name, listen, contract, toks)                                                         \
    "agent", "--name", name, "--key-env", "K", "--rpc", "http://127.0.0.1:1", "--contract",        \
        contract, "--listen", listen, "--tokens", toks
    const char *const env[] = {"K=" KEY, NULL};

    expect_run((const char *[]){"agent", "--name", "DC1", NULL}, env, 2, "are required");
    expect_run((const char *[]){BASE("DC 1", "127.0.0.1:0", CONTRACT, tokens), NULL}, env, 2,
               "--name must be");
    expect_run((const char *[]){BASE("DC1", "localhost:80", CONTRACT, tokens), NULL}, env, 2,
               "not an IPv4 address");
    expect_run((const char *[]){BASE("DC1", "127.0.0.1", CONTRACT, tokens), NULL}, env, 2,
               "HOST:PORT");
    expect_run((const char *[]){BASE("DC1", "127.0.0.1:70000", CONTRACT, tokens), NULL}, env, 2,
               "--listen");
    expect_run((const char *[]){BASE("DC1", "127.0.0.1:0", "0x1234", tokens), NULL}, env, 2,
               "--contract");
    expect_run((const char *[]){BASE("DC2", "127.0.0.1:0", CONTRACT, tokens), NULL}, env, 2,
               "no entry for 'DC2'");
    expect_run((const char *[]){BASE("DC1", "127.0.0.1:0", CONTRACT, "/nonexistent"), NULL}, env, 2,
               "tokens file");
    expect_run(
        (const char *[]){BASE("DC1", "127.0.0.1:0", CONTRACT, tokens), "--max-message", "10", NULL},
        env, 2, "--max-message must be");
    expect_run((const char *[]){BASE("DC1", "127.0.0.1:0", CONTRACT, tokens), NULL}, NULL, 2,
               "K is not set");
    expect_run((const char *[]){BASE("DC1", "127.0.0.1:0", CONTRACT, tokens), NULL},
               (const char *[]){"K=0x1234", NULL}, 2, "32 bytes of hex");
    /* Everything is right but the node is not there: a run-time failure. */
    expect_run((const char *[]){BASE("DC1", "127.0.0.1:0", CONTRACT, tokens), NULL}, env, 1,
               "127.0.0.1:1");
}

static void wrong_password(void **state)
{
    char doc[128], hash[65], *json, p1[512], p2[512];
    const char *tokens = tmp_path(p1, sizeof(p1), "tokens.json");
    const char *ks = tmp_path(p2, sizeof(p2), "dc1.keystore");
    uint8_t key[32];
    size_t n;
    (void)state;

    ct_token_hash(hash, TOKEN);
    snprintf(doc, sizeof(doc), "{\"DC1\": [\"%s\"]}", hash);
    ctt_ok(ct_file_write_atomic(tokens, doc, strlen(doc), 0600));
    ctt_ok(ct_hex_decode(key, 32, &n, KEY, strlen(KEY)));
    ctt_ok(ct_keystore_encrypt(&json, key, "right", 5, &CT_KEYSTORE_LIGHT));
    ctt_ok(ct_file_write_atomic(ks, json, strlen(json), 0600));
    free(json);
    expect_run((const char *[]){"agent", "--name", "DC1", "--key-file", ks, "--password-env", "P",
                                "--rpc", "http://127.0.0.1:1", "--contract", CONTRACT, "--listen",
                                "127.0.0.1:0", "--tokens", tokens, NULL},
               (const char *[]){"P=wrong", NULL}, 2, "password");
    expect_run((const char *[]){"agent", "--name", "DC1", "--key-file", ks, "--rpc",
                                "http://127.0.0.1:1", "--contract", CONTRACT, "--listen",
                                "127.0.0.1:0", "--tokens", tokens, NULL},
               NULL, 2, "needs --password-file");
    /* The right password gets as far as the (absent) node. */
    expect_run((const char *[]){"agent", "--name", "DC1", "--key-file", ks, "--password-env", "P",
                                "--rpc", "http://127.0.0.1:1", "--contract", CONTRACT, "--listen",
                                "127.0.0.1:0", "--tokens", tokens, NULL},
               (const char *[]){"P=right", NULL}, 1, "127.0.0.1:1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_token),
        cmocka_unit_test(bad_command_lines),
        cmocka_unit_test(wrong_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
