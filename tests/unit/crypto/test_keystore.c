/* Keystore v3 files: ethers' wallet vectors, the Web3 Secret Storage test
 * vectors, round trips, wrong passwords, tampering, malformed files and
 * hostile kdf parameters (which must fail before any key derivation). */
#include "harness.h"

#include "catena/crypto.h"

/* Cheap parameters for tests that do not care about the kdf cost. */
static const ct_keystore_params cheap_scrypt = {
    .kdf = CT_KDF_SCRYPT, .scrypt_n = 1024, .scrypt_r = 8, .scrypt_p = 1};
static const ct_keystore_params cheap_pbkdf2 = {.kdf = CT_KDF_PBKDF2, .pbkdf2_c = 1000};

/* The key of the Web3 Secret Storage test vectors. */
static const char vector_key[] = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";
static const char vector_address[] = "0x008aeeda4d805471df9b2a5b0f38a0c3bcba786b";

/* Web3 Secret Storage definition, "PBKDF2-SHA-256" test vector. */
static const char geth_pbkdf2[] =
    "{\"crypto\":{\"cipher\":\"aes-128-ctr\","
    "\"cipherparams\":{\"iv\":\"6087dab2f9fdbbfaddc31a909735c1e6\"},"
    "\"ciphertext\":\"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46\","
    "\"kdf\":\"pbkdf2\",\"kdfparams\":{\"c\":262144,\"dklen\":32,\"prf\":\"hmac-sha256\","
    "\"salt\":\"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd\"},"
    "\"mac\":\"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2\"},"
    "\"id\":\"3198bc9c-6672-5ab3-d995-4942343ae5b6\",\"version\":3}";

/* Web3 Secret Storage definition, "Scrypt" test vector. Its r = 1 with
 * n = 2^18 is outside what OpenSSL's scrypt accepts (n < 2^(16 r)), so this
 * also covers the library's own ROMix. */
static const char geth_scrypt[] =
    "{\"crypto\":{\"cipher\":\"aes-128-ctr\","
    "\"cipherparams\":{\"iv\":\"83dbcc02d8ccb40e466191a123791e0e\"},"
    "\"ciphertext\":\"d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c\","
    "\"kdf\":\"scrypt\",\"kdfparams\":{\"dklen\":32,\"n\":262144,\"p\":8,\"r\":1,"
    "\"salt\":\"ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19\"},"
    "\"mac\":\"2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097\"},"
    "\"id\":\"3198bc9c-6672-5ab3-d995-4942343ae5b6\",\"version\":3}";

/* The same key under scrypt n = 2^16, r = 1, p = 1 (password
 * "testpassword"), written with scrypt-js 3.0.1 (ethers v5's scrypt, which
 * like geth has no n < 2^(16 r) rule): a cheap check of the ROMix path. */
static const char scryptjs_r1[] =
    "{\"address\":\"008aeeda4d805471df9b2a5b0f38a0c3bcba786b\",\"crypto\":{"
    "\"cipher\":\"aes-128-ctr\","
    "\"ciphertext\":\"6a465d09891516fca6ba4f94784ec9285c0bac9c6130dc2534c09329cfa906f8\","
    "\"cipherparams\":{\"iv\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\"},\"kdf\":\"scrypt\","
    "\"kdfparams\":{\"dklen\":32,\"n\":65536,\"p\":1,\"r\":1,"
    "\"salt\":\"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\"},"
    "\"mac\":\"8e73ea5828e41f6eab5bca739553190a3d006e95d395562fffd99c4b84a23964\"},"
    "\"id\":\"6f0c5d2c-1a57-4d0b-9c3e-2b7f9d1e4a10\",\"version\":3}";

static int decrypt_text(uint8_t key[CT_SECKEY_SIZE], ct_address *a, const char *json,
                        const char *password)
{
    return ct_keystore_decrypt(key, a, json, strlen(json), password, strlen(password));
}

/* Decrypts the document v (not consumed) with password. */
static int decrypt_doc(const json_t *v, const char *password)
{
    uint8_t key[CT_SECKEY_SIZE];
    ct_address a;
    char *text;
    int rc;

    ctt_ok(ct_json_dump(&text, v));
    rc = decrypt_text(key, &a, text, password);
    free(text);
    return rc;
}

/* Checks a known-answer document: decrypts to vector_key and its address. */
static void check_vector(const char *json, const char *password)
{
    uint8_t key[CT_SECKEY_SIZE], want[CT_SECKEY_SIZE];
    ct_address a, want_a;

    ctt_hex_fixed(want, sizeof(want), vector_key);
    ctt_ok(ct_address_parse(&want_a, vector_address));
    memset(key, 0, sizeof(key));
    ctt_ok(decrypt_text(key, &a, json, password));
    assert_memory_equal(key, want, sizeof(want));
    assert_true(ct_address_equal(&a, &want_a));
}

/* A fresh document for key 0x01..0x20 under params, parsed. */
static json_t *new_doc(const ct_keystore_params *params, const char *password)
{
    uint8_t key[CT_SECKEY_SIZE];
    json_t *v;
    char *text;

    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i + 1);
    ctt_ok(ct_keystore_encrypt(&text, key, password, strlen(password), params));
    ctt_ok(ct_json_parse(&v, text, strlen(text), 16));
    free(text);
    return v;
}

/* Returns: the object at a dotted path ("" is v itself). */
static json_t *at(json_t *v, const char *path)
{
    while (*path != '\0') {
        const char *dot = strchr(path, '.');
        size_t n = dot != NULL ? (size_t)(dot - path) : strlen(path);
        char key[32];
        assert_true(n < sizeof(key));
        memcpy(key, path, n);
        key[n] = '\0';
        v = json_object_get(v, key);
        path += n + (dot != NULL);
    }
    assert_non_null(v);
    return v;
}

/* Changes one hex digit of the string field key of obj. */
static void flip_digit(json_t *obj, const char *key, size_t index)
{
    char s[256];

    snprintf(s, sizeof(s), "%s", json_string_value(json_object_get(obj, key)));
    assert_true(index < strlen(s));
    s[index] = s[index] == '0' ? '1' : '0';
    ctt_ok(json_object_set_new(obj, key, json_string(s)) == 0 ? 0 : CT_ENOMEM);
}

static void expect_error(int rc, int code, const char *needle, const char *what)
{
    if (rc != code)
        fail_msg("%s: got %d (%s), want %d", what, rc, ct_error_last(), code);
    if (needle != NULL && strstr(ct_error_last(), needle) == NULL)
        fail_msg("%s: message '%s' lacks '%s'", what, ct_error_last(), needle);
}

/* ---------------------------------------------------------------- vectors */

static void decrypts_ethers_wallets(void **state)
{
    size_t i, decrypted = 0;
    json_t *e;
    (void)state;
    CTT_NEED_JSON(v, "vectors/ethers/wallets.json.gz");

    json_array_foreach (v, i, e) {
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *content = json_string_value(json_object_get(e, "content"));
        const char *pw_hex = json_string_value(json_object_get(e, "password"));
        const char *addr = json_string_value(json_object_get(e, "address"));
        uint8_t key[CT_SECKEY_SIZE], *pw;
        size_t pw_len;
        ct_address got, want;

        assert_non_null(type);
        /* "crowdsale" entries are Ethereum presale wallets (encseed, PBKDF2
         * with the password as salt, AES-128-CBC), not keystore v3. */
        if (strcmp(type, "crowdsale") == 0)
            continue;
        assert_string_equal(type, "keystore");
        assert_non_null(content);
        assert_non_null(pw_hex);
        assert_non_null(addr);
        ctt_ok(ct_hex_decode_new(&pw, &pw_len, pw_hex));
        ctt_ok(ct_address_parse(&want, addr));
        if (ct_keystore_decrypt(key, &got, content, strlen(content), (const char *)pw, pw_len) < 0)
            fail_msg("%s: %s", json_string_value(json_object_get(e, "name")), ct_error_last());
        assert_true(ct_address_equal(&got, &want));
        ct_wipe(key, sizeof(key));
        free(pw);
        decrypted++;
    }
    assert_int_equal(decrypted, 7);
    json_decref(v);
}

static void decrypts_secret_storage_vectors(void **state)
{
    (void)state;
    check_vector(geth_pbkdf2, "testpassword");
    check_vector(geth_scrypt, "testpassword");
    check_vector(scryptjs_r1, "testpassword");
}

/* ---------------------------------------------------------------- round trips */

static bool is_lower_hex(const char *s, size_t len)
{
    if (s == NULL || strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Checks the geth-like shape of a new document. */
static void check_written(const json_t *v, const ct_address *a, const char *kdf)
{
    const json_t *crypto = json_object_get(v, "crypto");
    const json_t *kp = json_object_get(crypto, "kdfparams");
    const char *id = json_string_value(json_object_get(v, "id"));
    char want[2 * CT_ADDRESS_SIZE + 1];

    ctt_ok(ct_hex_encode(want, sizeof(want), a->b, CT_ADDRESS_SIZE, false));
    assert_string_equal(json_string_value(json_object_get(v, "address")), want);
    assert_int_equal(json_integer_value(json_object_get(v, "version")), 3);
    assert_string_equal(json_string_value(json_object_get(crypto, "cipher")), "aes-128-ctr");
    assert_string_equal(json_string_value(json_object_get(crypto, "kdf")), kdf);
    assert_int_equal(json_integer_value(json_object_get(kp, "dklen")), 32);
    assert_true(is_lower_hex(json_string_value(json_object_get(kp, "salt")), 64));
    assert_true(is_lower_hex(
        json_string_value(json_object_get(json_object_get(crypto, "cipherparams"), "iv")), 32));
    assert_true(is_lower_hex(json_string_value(json_object_get(crypto, "ciphertext")), 64));
    assert_true(is_lower_hex(json_string_value(json_object_get(crypto, "mac")), 64));
    /* UUID v4: 8-4-4-4-12, version digit 4, variant 8..b. */
    assert_non_null(id);
    assert_int_equal(strlen(id), 36);
    assert_true(id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-');
    assert_int_equal(id[14], '4');
    assert_non_null(strchr("89ab", id[19]));
}

static void round_trip(const ct_keystore_params *params, const char *kdf)
{
    uint8_t key[CT_SECKEY_SIZE], back[CT_SECKEY_SIZE];
    const char pw[] = "correct horse battery staple";
    char *text, *again;
    ct_address a, got;
    json_t *v;

    ctt_ok(ct_seckey_generate(key));
    ctt_ok(ct_address_from_seckey(&a, key));
    ctt_ok(ct_keystore_encrypt(&text, key, pw, strlen(pw), params));
    ctt_ok(decrypt_text(back, &got, text, pw));
    assert_memory_equal(back, key, sizeof(key));
    assert_true(ct_address_equal(&got, &a));
    ctt_ok(ct_json_parse(&v, text, strlen(text), 16));
    check_written(v, &a, kdf);
    /* Salt, iv and id are fresh each time. */
    ctt_ok(ct_keystore_encrypt(&again, key, pw, strlen(pw), params));
    assert_string_not_equal(text, again);
    json_decref(v);
    free(text);
    free(again);
}

static void round_trips_light_scrypt(void **state)
{
    char *text;
    json_t *v, *kp;
    uint8_t key[CT_SECKEY_SIZE] = {1};
    (void)state;

    round_trip(&CT_KEYSTORE_LIGHT, "scrypt");
    ctt_ok(ct_keystore_encrypt(&text, key, "", 0, &CT_KEYSTORE_LIGHT));
    ctt_ok(ct_json_parse(&v, text, strlen(text), 16));
    kp = at(v, "crypto.kdfparams");
    assert_int_equal(json_integer_value(json_object_get(kp, "n")), 4096);
    assert_int_equal(json_integer_value(json_object_get(kp, "r")), 8);
    assert_int_equal(json_integer_value(json_object_get(kp, "p")), 6);
    /* An empty password is a password like any other. */
    expect_error(decrypt_doc(v, "x"), CT_ECRYPTO, "wrong password", "empty vs x");
    ctt_ok(decrypt_doc(v, ""));
    json_decref(v);
    free(text);
}

static void round_trips_pbkdf2(void **state)
{
    json_t *v, *kp;
    (void)state;

    round_trip(&cheap_pbkdf2, "pbkdf2");
    v = new_doc(&cheap_pbkdf2, "pw");
    kp = at(v, "crypto.kdfparams");
    assert_int_equal(json_integer_value(json_object_get(kp, "c")), 1000);
    assert_string_equal(json_string_value(json_object_get(kp, "prf")), "hmac-sha256");
    ctt_ok(decrypt_doc(v, "pw"));
    json_decref(v);
}

/* ---------------------------------------------------------------- failures */

static void rejects_wrong_password(void **state)
{
    json_t *v = new_doc(&cheap_scrypt, "right");
    (void)state;

    ctt_ok(decrypt_doc(v, "right"));
    expect_error(decrypt_doc(v, "wrong"), CT_ECRYPTO, "wrong password (MAC mismatch)", "wrong");
    expect_error(decrypt_doc(v, "Right"), CT_ECRYPTO, "MAC mismatch", "case");
    expect_error(decrypt_doc(v, ""), CT_ECRYPTO, "MAC mismatch", "empty");
    json_decref(v);
}

static void rejects_tampering(void **state)
{
    json_t *v;
    (void)state;

    v = new_doc(&cheap_pbkdf2, "pw");
    flip_digit(at(v, "crypto"), "mac", 63);
    expect_error(decrypt_doc(v, "pw"), CT_ECRYPTO, "MAC mismatch", "mac");
    json_decref(v);

    v = new_doc(&cheap_pbkdf2, "pw");
    flip_digit(at(v, "crypto"), "ciphertext", 0);
    expect_error(decrypt_doc(v, "pw"), CT_ECRYPTO, "MAC mismatch", "ciphertext");
    json_decref(v);

    /* The MAC does not cover the iv: the address field catches it. */
    v = new_doc(&cheap_pbkdf2, "pw");
    flip_digit(at(v, "crypto.cipherparams"), "iv", 31);
    expect_error(decrypt_doc(v, "pw"), CT_ECRYPTO, "'address' does not match", "iv");
    json_decref(v);

    v = new_doc(&cheap_pbkdf2, "pw");
    flip_digit(v, "address", 39);
    expect_error(decrypt_doc(v, "pw"), CT_ECRYPTO, "'address' does not match", "address");
    /* Without the address field the file decrypts. */
    json_object_del(v, "address");
    ctt_ok(decrypt_doc(v, "pw"));
    json_decref(v);
}

static void rejects_malformed_json(void **state)
{
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "null",
        "3",
        "\"x\"",
        "{\"version\":3}",
        "{\"version\":3,}",
        "{\"version\":3,\"version\":3}",
        "{\"crypto\":{},\"version\":3}",
    };
    uint8_t key[CT_SECKEY_SIZE];
    ct_address a;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error(decrypt_text(key, &a, bad[i], "pw"), CT_EPARSE, "keystore", bad[i]);
    /* A NUL inside the text. */
    expect_error(ct_keystore_decrypt(key, &a, "{\"version\":3}\0", 14, "", 0), CT_EPARSE, NULL,
                 "nul");
}

static void rejects_missing_fields(void **state)
{
    static const struct {
        const ct_keystore_params *params;
        const char *parent, *key, *name;
    } cases[] = {
        {&cheap_pbkdf2, "", "version", "'version'"},
        {&cheap_pbkdf2, "", "crypto", "'crypto'"},
        {&cheap_pbkdf2, "crypto", "cipher", "'crypto.cipher'"},
        {&cheap_pbkdf2, "crypto", "ciphertext", "'crypto.ciphertext'"},
        {&cheap_pbkdf2, "crypto", "cipherparams", "'crypto.cipherparams'"},
        {&cheap_pbkdf2, "crypto.cipherparams", "iv", "'crypto.cipherparams.iv'"},
        {&cheap_pbkdf2, "crypto", "kdf", "'crypto.kdf'"},
        {&cheap_pbkdf2, "crypto", "kdfparams", "'crypto.kdfparams'"},
        {&cheap_pbkdf2, "crypto", "mac", "'crypto.mac'"},
        {&cheap_pbkdf2, "crypto.kdfparams", "c", "'crypto.kdfparams.c'"},
        {&cheap_pbkdf2, "crypto.kdfparams", "prf", "'crypto.kdfparams.prf'"},
        {&cheap_pbkdf2, "crypto.kdfparams", "dklen", "'crypto.kdfparams.dklen'"},
        {&cheap_pbkdf2, "crypto.kdfparams", "salt", "'crypto.kdfparams.salt'"},
        {&cheap_scrypt, "crypto.kdfparams", "n", "'crypto.kdfparams.n'"},
        {&cheap_scrypt, "crypto.kdfparams", "r", "'crypto.kdfparams.r'"},
        {&cheap_scrypt, "crypto.kdfparams", "p", "'crypto.kdfparams.p'"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = new_doc(cases[i].params, "pw");
        assert_int_equal(json_object_del(at(v, cases[i].parent), cases[i].key), 0);
        expect_error(decrypt_doc(v, "pw"), CT_EPARSE, cases[i].name, cases[i].name);
        json_decref(v);
    }
}

static void rejects_ill_typed_fields(void **state)
{
    static const struct {
        const char *parent, *key, *json, *needle;
    } cases[] = {
        {"", "version", "\"3\"", "'version' must be an integer"},
        {"", "version", "4", "'version' is 4"},
        {"", "id", "7", "'id' must be a string"},
        {"", "address", "1", "'address' must be a string"},
        {"", "address", "\"0x1234\"", "'address'"},
        {"", "address", "\"8A8EAFB1CF62BFBEB1741769DAE1A9DD47996192\"", "match"},
        {"", "crypto", "[]", "'crypto' must be an object"},
        {"", "Crypto", "{}", "both"},
        {"crypto", "cipher", "\"aes-256-gcm\"", "only aes-128-ctr"},
        {"crypto", "kdf", "\"argon2\"", "'crypto.kdf'"},
        {"crypto", "kdfparams", "\"x\"", "must be an object"},
        {"crypto", "ciphertext", "\"zz\"", "'crypto.ciphertext'"},
        {"crypto", "ciphertext", "\"0011\"", "must be 32 bytes, not 2"},
        {"crypto", "mac", "42", "'crypto.mac' must be a string"},
        {"crypto.cipherparams", "iv", "\"00112233445566778899aabbccddeeff00\"",
         "'crypto.cipherparams.iv'"},
        {"crypto.cipherparams", "iv", "\"0g112233445566778899aabbccddeeff\"", "invalid digit"},
        {"crypto.kdfparams", "prf", "\"hmac-sha512\"", "only hmac-sha256"},
        {"crypto.kdfparams", "c", "1000.0", "'crypto.kdfparams.c' must be an integer"},
        {"crypto.kdfparams", "c", "-1", "must not be negative"},
        {"crypto.kdfparams", "salt", "\"abc\"", "odd"},
        {"crypto.kdfparams", "dklen", "16", "dklen"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = new_doc(&cheap_pbkdf2, "pw"), *val;
        int want = strcmp(cases[i].needle, "match") == 0 ? CT_ECRYPTO : CT_EPARSE;
        ctt_ok(ct_json_parse(&val, cases[i].json, strlen(cases[i].json), 4));
        ctt_ok(json_object_set_new(at(v, cases[i].parent), cases[i].key, val) ? CT_ENOMEM : 0);
        expect_error(decrypt_doc(v, "pw"), want, cases[i].needle, cases[i].needle);
        json_decref(v);
    }
}

static void accepts_upper_crypto_and_null_optionals(void **state)
{
    json_t *v = new_doc(&cheap_pbkdf2, "pw");
    json_t *c = json_incref(at(v, "crypto"));
    (void)state;

    json_object_del(v, "crypto");
    ctt_ok(json_object_set_new(v, "Crypto", c) ? CT_ENOMEM : 0);
    ctt_ok(json_object_set_new(v, "address", json_null()) ? CT_ENOMEM : 0);
    ctt_ok(json_object_set_new(v, "id", json_null()) ? CT_ENOMEM : 0);
    ctt_ok(decrypt_doc(v, "pw"));
    json_decref(v);
}

/* ---------------------------------------------------------------- hostile */

static void set_int(json_t *obj, const char *key, json_int_t value)
{
    ctt_ok(json_object_set_new(obj, key, json_integer(value)) ? CT_ENOMEM : 0);
}

static void rejects_hostile_params_fast(void **state)
{
    static const struct {
        bool scrypt;
        const char *key;
        json_int_t value;
        int code;
    } cases[] = {
        {true, "n", INT64_C(1) << 30, CT_ELIMIT},
        {true, "n", INT64_C(1) << 62, CT_ELIMIT},
        {true, "n", (INT64_C(1) << 21), CT_ELIMIT},
        {true, "n", 262143, CT_EPARSE},
        {true, "n", 1000, CT_EPARSE},
        {true, "n", 1, CT_EPARSE},
        {true, "n", 0, CT_EPARSE},
        {true, "n", -1024, CT_EPARSE},
        {true, "r", 0, CT_EPARSE},
        {true, "p", 0, CT_EPARSE},
        {true, "r", 2048, CT_ELIMIT},
        {true, "p", 129, CT_ELIMIT}, /* r*p = 1032 */
        {true, "r", INT64_C(1) << 40, CT_ELIMIT},
        {true, "r", 16, CT_ELIMIT}, /* n*r*p = 2^24 with n = 2^20 below */
        {true, "dklen", 64, CT_ELIMIT},
        {true, "dklen", 31, CT_EPARSE},
        {false, "c", 10000001, CT_ELIMIT},
        {false, "c", INT64_C(1) << 31, CT_ELIMIT},
        {false, "c", INT64_C(1) << 60, CT_ELIMIT},
        {false, "c", 0, CT_EPARSE},
        {false, "dklen", 64, CT_ELIMIT},
    };
    json_t *scrypt_doc = new_doc(&cheap_scrypt, "pw"), *pbkdf2_doc = new_doc(&cheap_pbkdf2, "pw");
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = json_deep_copy(cases[i].scrypt ? scrypt_doc : pbkdf2_doc);
        json_t *kp = at(v, "crypto.kdfparams");
        char what[64];
        if (cases[i].scrypt && strcmp(cases[i].key, "r") == 0 && cases[i].value == 16)
            set_int(kp, "n", INT64_C(1) << 20);
        set_int(kp, cases[i].key, cases[i].value);
        snprintf(what, sizeof(what), "%s=%lld", cases[i].key, (long long)cases[i].value);
        expect_error(decrypt_doc(v, "pw"), cases[i].code, NULL, what);
        json_decref(v);
    }
    json_decref(scrypt_doc);
    json_decref(pbkdf2_doc);
}

static void rejects_oversized_input(void **state)
{
    size_t len = CT_KEYSTORE_MAX_SIZE + 1;
    char *big = malloc(len + 1);
    uint8_t key[CT_SECKEY_SIZE];
    ct_address a;
    json_t *v = new_doc(&cheap_pbkdf2, "pw");
    char salt[2 * 1025 + 1];
    (void)state;

    assert_non_null(big);
    memset(big, ' ', len);
    big[len] = '\0';
    expect_error(decrypt_text(key, &a, big, "pw"), CT_ELIMIT, "larger", "64 KiB + 1");
    /* Nesting deeper than any keystore needs. */
    for (size_t i = 0; i < 40; i++) {
        big[i] = '[';
        big[80 - i - 1] = ']';
    }
    big[80] = '\0';
    expect_error(decrypt_text(key, &a, big, "pw"), CT_ELIMIT, "nesting", "deep");
    free(big);
    /* A salt of 1025 bytes is over the bound, 1024 is not. */
    memset(salt, 'a', sizeof(salt) - 1);
    salt[sizeof(salt) - 1] = '\0';
    ctt_ok(json_object_set_new(at(v, "crypto.kdfparams"), "salt", json_string(salt)) ? -1 : 0);
    expect_error(decrypt_doc(v, "pw"), CT_ELIMIT, "salt", "long salt");
    salt[2 * 1024] = '\0';
    ctt_ok(json_object_set_new(at(v, "crypto.kdfparams"), "salt", json_string(salt)) ? -1 : 0);
    expect_error(decrypt_doc(v, "pw"), CT_ECRYPTO, "MAC mismatch", "1024-byte salt");
    json_decref(v);
}

static void encrypt_rejects_bad_params_and_keys(void **state)
{
    static const ct_keystore_params bad[] = {
        {.kdf = CT_KDF_SCRYPT, .scrypt_n = 3, .scrypt_r = 8, .scrypt_p = 1},
        {.kdf = CT_KDF_SCRYPT, .scrypt_n = 1u << 21, .scrypt_r = 8, .scrypt_p = 1},
        {.kdf = CT_KDF_SCRYPT, .scrypt_n = 1024, .scrypt_r = 0, .scrypt_p = 1},
        {.kdf = CT_KDF_PBKDF2, .pbkdf2_c = 0},
        {.kdf = CT_KDF_PBKDF2, .pbkdf2_c = 20000000},
        {.kdf = (ct_kdf)7},
    };
    uint8_t key[CT_SECKEY_SIZE] = {1}, zero[CT_SECKEY_SIZE] = {0}, order[CT_SECKEY_SIZE];
    char *text = NULL;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error(ct_keystore_encrypt(&text, key, "pw", 2, &bad[i]), CT_EINVAL, "keystore",
                     "params");
    expect_error(ct_keystore_encrypt(&text, zero, "pw", 2, &cheap_pbkdf2), CT_EINVAL, "secret key",
                 "zero key");
    ctt_hex_fixed(order, sizeof(order),
                  "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    expect_error(ct_keystore_encrypt(&text, order, "pw", 2, &cheap_pbkdf2), CT_EINVAL, "secret key",
                 "key = n");
    assert_null(text);
}

/* ---------------------------------------------------------------- file names */

static void names_files_like_geth(void **state)
{
    char out[128];
    ct_address a;
    (void)state;

    ctt_ok(ct_address_parse(&a, "0x7ef5a6135f1fd6a02593eedc869c6d41d934aef8"));
    /* geth's testdata/keystore names a file
     * UTC--2016-03-22T12-57-55.920751759Z--7ef5a6135f1fd6a02593eedc869c6d41d934aef8;
     * we have milliseconds. */
    ctt_ok(ct_keystore_filename(out, sizeof(out), &a, INT64_C(1458651475920)));
    assert_string_equal(
        out, "UTC--2016-03-22T12-57-55.920000000Z--7ef5a6135f1fd6a02593eedc869c6d41d934aef8");
    ctt_ok(ct_keystore_filename(out, 78, &a, 0));
    assert_string_equal(
        out, "UTC--1970-01-01T00-00-00.000000000Z--7ef5a6135f1fd6a02593eedc869c6d41d934aef8");
    expect_error(ct_keystore_filename(out, 77, &a, 0), CT_ELIMIT, NULL, "size 77");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decrypts_ethers_wallets),
        cmocka_unit_test(decrypts_secret_storage_vectors),
        cmocka_unit_test(round_trips_light_scrypt),
        cmocka_unit_test(round_trips_pbkdf2),
        cmocka_unit_test(rejects_wrong_password),
        cmocka_unit_test(rejects_tampering),
        cmocka_unit_test(rejects_malformed_json),
        cmocka_unit_test(rejects_missing_fields),
        cmocka_unit_test(rejects_ill_typed_fields),
        cmocka_unit_test(accepts_upper_crypto_and_null_optionals),
        cmocka_unit_test(rejects_hostile_params_fast),
        cmocka_unit_test(rejects_oversized_input),
        cmocka_unit_test(encrypt_rejects_bad_params_and_keys),
        cmocka_unit_test(names_files_like_geth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
