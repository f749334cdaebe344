/* Transactions against ethers' vectors (legacy, EIP-155, EIP-2930,
 * EIP-1559; EIP-4844 is out of scope), the EIP-155 worked example, JSON
 * round trips and strict decoding. */
#include "harness.h"

/* Fields of ethers' vector transactions that each form carries. */
static const char *const legacy_fields[] = {"nonce", "gasPrice", "gasLimit", "to",
                                            "value", "data",     NULL};
static const char *const berlin_fields[] = {"nonce", "gasPrice", "gasLimit",   "to",
                                            "value", "data",     "accessList", NULL};
static const char *const london_fields[] = {"nonce",
                                            "maxPriorityFeePerGas",
                                            "maxFeePerGas",
                                            "gasLimit",
                                            "to",
                                            "value",
                                            "data",
                                            "accessList",
                                            NULL};

struct form {
    const char *name; /* suffix of unsignedX / signedX */
    int type;
    bool chain_id;
    const char *const *fields;
};

static const struct form forms[] = {
    {"Legacy", 0, false, legacy_fields},
    {"Eip155", 0, true, legacy_fields},
    {"Berlin", 1, true, berlin_fields},
    {"London", 2, true, london_fields},
};

static void hex_to_bytes(uint8_t **out, size_t *len, const char *hex)
{
    ctt_ok(ct_hex_decode_new(out, len, hex));
}

/* Builds the JSON that ct_tx_from_json takes for one form of a vector. */
static json_t *form_json(const json_t *vtx, const struct form *f)
{
    json_t *j = json_pack("{s:i}", "type", f->type);
    for (size_t i = 0; f->fields[i] != NULL; i++) {
        json_t *v = json_object_get(vtx, f->fields[i]);
        if (v != NULL)
            json_object_set(j, f->fields[i], v);
    }
    if (f->chain_id) {
        json_t *c = json_object_get(vtx, "chainId");
        json_object_set_new(j, "chainId", c ? json_incref(c) : json_integer(0));
    }
    return j;
}

/* Returns: 1 if checked, 0 if the vector has no such form (EIP-155
 * needs a chain id). */
static int check_form(const json_t *vec, const struct form *f, const uint8_t key[32])
{
    const char *name = json_string_value(json_object_get(vec, "name"));
    char field[32];
    json_t *j;
    ct_tx tx, back;
    uint8_t *raw, hash[32], want_hash[32];
    size_t len;
    ct_address from, want_from;

    snprintf(field, sizeof(field), "unsigned%s", f->name);
    if (strcmp(json_string_value(json_object_get(vec, field)), "") == 0)
        return 0;
    j = form_json(json_object_get(vec, "transaction"), f);
    if (ct_tx_from_json(&tx, j) < 0)
        fail_msg("%s %s: %s", name, f->name, ct_error_last());
    ctt_ok(ct_tx_encode(&raw, &len, &tx));
    snprintf(field, sizeof(field), "unsigned%s", f->name);
    ctt_assert_hex(raw, len, json_string_value(json_object_get(vec, field)), field);
    free(raw);

    ctt_ok(ct_tx_sign(&tx, key));
    ctt_ok(ct_tx_encode(&raw, &len, &tx));
    snprintf(field, sizeof(field), "signed%s", f->name);
    ctt_assert_hex(raw, len, json_string_value(json_object_get(vec, field)), field);

    /* Decoding gives back the same transaction and sender. */
    if (ct_tx_decode(&back, raw, len) < 0)
        fail_msg("%s %s decode: %s", name, f->name, ct_error_last());
    ct_keccak256(want_hash, raw, len);
    free(raw);
    ctt_ok(ct_tx_encode(&raw, &len, &back));
    ctt_assert_hex(raw, len, json_string_value(json_object_get(vec, field)), "re-encoded");
    free(raw);
    ctt_ok(ct_tx_hash(hash, &back));
    assert_memory_equal(hash, want_hash, 32);
    ctt_ok(ct_tx_sender(&from, &back));
    ctt_ok(ct_address_from_seckey(&want_from, key));
    assert_true(ct_address_equal(&from, &want_from));
    ct_tx_clear(&back);
    ct_tx_clear(&tx);
    json_decref(j);
    return 1;
}

static void ethers_vectors(void **state)
{
    size_t i, n = 0;
    json_t *vec;
    (void)state;

    CTT_NEED_JSON(all, "vectors/ethers/transactions.json.gz");
    json_array_foreach (all, i, vec) {
        uint8_t *key;
        size_t len;
        hex_to_bytes(&key, &len, json_string_value(json_object_get(vec, "privateKey")));
        assert_int_equal(len, 32);
        for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++)
            n += (size_t)check_form(vec, &forms[f], key);
        free(key);
    }
    json_decref(all);
    printf("checked %zu transaction forms\n", n);
    assert_true(n >= 4 * 3200 - 1536); /* 1,536 vectors have no chain id */
}

/* The example in EIP-155's specification. */
static void eip155_example(void **state)
{
    static const char tx_json[] =
        "{\"nonce\":9,\"gasPrice\":\"20000000000\",\"gasLimit\":21000,"
        "\"to\":\"0x3535353535353535353535353535353535353535\","
        "\"value\":\"1000000000000000000\",\"data\":\"0x\",\"chainId\":1}";
    uint8_t key[32], hash[32], *raw;
    size_t len;
    json_t *j;
    ct_tx tx;
    (void)state;

    memset(key, 0x46, sizeof(key));
    ctt_ok(ct_json_parse(&j, tx_json, strlen(tx_json), 8));
    ctt_ok(ct_tx_from_json(&tx, j));
    assert_int_equal(tx.type, 0);
    ctt_ok(ct_tx_encode(&raw, &len, &tx));
    ctt_assert_hex(raw, len,
                   "0xec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a"
                   "764000080018080",
                   "signing data");
    free(raw);
    ctt_ok(ct_tx_signing_hash(hash, &tx));
    ctt_assert_hex(hash, 32, "0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53",
                   "signing hash");
    ctt_ok(ct_tx_sign(&tx, key));
    ctt_ok(ct_tx_encode(&raw, &len, &tx));
    ctt_assert_hex(raw, len,
                   "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b"
                   "3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa6362"
                   "76a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83",
                   "signed");
    free(raw);
    json_t *out;
    ctt_ok(ct_tx_to_json(&out, &tx));
    assert_string_equal(json_string_value(json_object_get(out, "v")), "37");
    assert_string_equal(json_string_value(json_object_get(out, "value")), "1000000000000000000");
    assert_string_equal(json_string_value(json_object_get(out, "to")),
                        "0x3535353535353535353535353535353535353535");
    json_decref(out);
    ct_tx_clear(&tx);
    json_decref(j);
}

/* EIP-155 with the largest chain ids, where v = chainId * 2 + 35 + y
 * takes up to 66 bits. The raw transactions are cast 1.7.1's (`cast mktx
 * --legacy`), which ethers 6 decodes alike; catena refused to decode them
 * (found by tests/e2e/test_tool_cast.c). */
static void legacy_chain_id_64_bits(void **state)
{
    static const struct {
        const char *chain, *v, *raw, *hash;
    } vec[] = {
        {"18446744073709551615", "36893488147419103266",
         "0xf875098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080"
         "89020000000000000022a03592937267a59b3ab2da795c6b0dced6878ee87fdf3cbe092d90baea8b22160da0"
         "163523030bb6d7e931718863f4579361d88b8e11d26889a24c42b50b668b4301",
         "0x498b368a7fb4e194717e015e396c336a3d3e9098c419dcddac40c02bd070d7cc"},
        {"9223372036854775790", "18446744073709551615",
         "0xf874098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080"
         "88ffffffffffffffffa09d6f36cbd39cd17923377eab4e6fff081f98953459a73a21ab2bc62502baa262a018"
         "16106ee4b5a7051be732bc607f02ace1c1425d9ee384890d74a60897723c49",
         "0xa384983d3898dd9a59ce107f82f7805f47b8c25af354cfdf61014e1151d13980"},
    };
    uint8_t key[32], hash[32], *raw;
    size_t len;
    (void)state;

    memset(key, 0x46, sizeof(key));
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        json_t *j =
            json_pack("{s:i,s:s,s:s,s:i,s:s,s:s}", "nonce", 9, "chainId", vec[i].chain, "gasPrice",
                      "20000000000", "gasLimit", 21000, "to",
                      "0x3535353535353535353535353535353535353535", "value", "1000000000000000000");
        char from[CT_ADDRESS_TEXT_SIZE];
        ct_address sender;
        json_t *out;
        ct_tx tx, back;
        ctt_ok(ct_tx_from_json(&tx, j));
        ctt_ok(ct_tx_sign(&tx, key));
        ctt_ok(ct_tx_encode(&raw, &len, &tx));
        ctt_assert_hex(raw, len, vec[i].raw, vec[i].chain);
        ctt_ok(ct_tx_decode(&back, raw, len));
        ctt_ok(ct_tx_to_json(&out, &back));
        assert_string_equal(json_string_value(json_object_get(out, "chainId")), vec[i].chain);
        assert_string_equal(json_string_value(json_object_get(out, "v")), vec[i].v);
        ctt_ok(ct_tx_hash(hash, &back));
        ctt_assert_hex(hash, 32, vec[i].hash, "hash");
        ctt_ok(ct_tx_sender(&sender, &back));
        ct_address_format(from, &sender);
        assert_string_equal(from, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
        json_decref(out);
        json_decref(j);
        free(raw);
        ct_tx_clear(&tx);
        ct_tx_clear(&back);
    }
}

static void json_errors(void **state)
{
    static const char *const bad[] = {
        "{\"type\":3}",
        "{\"type\":0,\"maxFeePerGas\":1}",
        "{\"type\":2,\"gasPrice\":1,\"chainId\":1}",
        "{\"type\":0,\"accessList\":[]}",
        "{\"nonce\":-1}",
        "{\"nonce\":\"18446744073709551616\"}",
        "{\"value\":\"0x1"
        "0000000000000000000000000000000000000000000000000000000000000000\"}",
        "{\"to\":\"0x1234\"}",
        "{\"to\":\"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\"}", /* bad checksum */
        "{\"data\":\"abcd\"}",
        "{\"data\":\"0xabc\"}",
        "{\"gas\":21000}",
        "{\"type\":1,\"chainId\":1,\"accessList\":[{\"address\":\"0x01\"}]}",
        "{\"type\":1,\"chainId\":1,\"accessList\":[{\"address\":"
        "\"0x0000000000000000000000000000000000000001\",\"storageKeys\":[\"0x01\"]}]}",
        "[]",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j;
        ct_tx tx;
        ctt_ok(ct_json_parse(&j, bad[i], strlen(bad[i]), 8));
        if (ct_tx_from_json(&tx, j) != CT_EINVAL)
            fail_msg("accepted %s", bad[i]);
        assert_true(strlen(ct_error_last()) > 0);
        json_decref(j);
    }
}

static void decode_errors(void **state)
{
    static const char *const bad[] = {
        "0x",
        "0x03c0", /* unsupported type */
        "0x80",   /* not a list */
        "0xc0",   /* no fields */
        "0x02c0",
        /* EIP-155 example with v = 26 */
        "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a7640000801a"
        "a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703"
        "304b3800ccf555c9f3dc64214b297fb1966a3b6d83",
        /* ... with a trailing byte */
        "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025"
        "a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703"
        "304b3800ccf555c9f3dc64214b297fb1966a3b6d8300",
        /* ... with v = 2^66 + 35, a chain id of 2^65 */
        "0xf875098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080"
        "89040000000000000023a03592937267a59b3ab2da795c6b0dced6878ee87fdf3cbe092d90baea8b22160da0"
        "163523030bb6d7e931718863f4579361d88b8e11d26889a24c42b50b668b4301",
        /* ... with r = 0 */
        "0xf84c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025"
        "8080",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t *raw;
        size_t len;
        ct_tx tx;
        hex_to_bytes(&raw, &len, bad[i]);
        int rc = ct_tx_decode(&tx, raw, len);
        if (rc != CT_EPARSE && rc != CT_ERANGE)
            fail_msg("case %zu: got %d for %s", i, rc, bad[i]);
        free(raw);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eip155_example),
        cmocka_unit_test(legacy_chain_id_64_bits),
        cmocka_unit_test(json_errors),
        cmocka_unit_test(decode_errors),
        cmocka_unit_test(ethers_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
