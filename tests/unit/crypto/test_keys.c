/* secp256k1 keys, signatures and recovery, and EIP-55 addresses, against
 * ethers' account and transaction vectors and the EIP-55/EIP-155 examples. */
#include "harness.h"

#include "catena/crypto.h"

/* The group order n and n/2 (big-endian). */
static const uint8_t order_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};
static const uint8_t half_n[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

/* Returns: the string field key of vector entry e; fails if absent. */
static const char *field(const json_t *e, const char *key)
{
    const char *s = json_string_value(json_object_get(e, key));

    if (s == NULL)
        fail_msg("vector entry lacks string field '%s'", key);
    return s;
}

/* out = n - s, big-endian. */
static void negate_mod_n(uint8_t out[32], const uint8_t s[32])
{
    int borrow = 0;

    for (int i = 31; i >= 0; i--) {
        int d = order_n[i] - s[i] - borrow;
        borrow = d < 0;
        out[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

/* ---------------------------------------------------------------- addresses */

static void derives_ethers_accounts(void **state)
{
    size_t i, checked = 0;
    json_t *e;
    (void)state;
    CTT_NEED_JSON(v, "vectors/ethers/accounts.json.gz");

    json_array_foreach (v, i, e) {
        const char *priv = field(e, "privateKey");
        const char *want = field(e, "address");
        uint8_t seckey[CT_SECKEY_SIZE];
        ct_address a, parsed;
        char text[CT_ADDRESS_TEXT_SIZE];

        ctt_hex_fixed(seckey, sizeof(seckey), priv);
        ctt_ok(ct_address_from_seckey(&a, seckey));
        ct_address_format(text, &a);
        if (strcmp(text, want) != 0)
            fail_msg("%s: got %s, want %s", field(e, "name"), text, want);
        ctt_ok(ct_address_parse(&parsed, want));
        assert_true(ct_address_equal(&parsed, &a));
        checked++;
    }
    assert_true(checked > 100);
    json_decref(v);
}

/* The test addresses listed in EIP-55: each is its own checksummed form. */
static void eip55_examples(void **state)
{
    static const char *const examples[] = {
        /* all caps */
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        /* all lower */
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
        /* normal */
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
        ct_address a, b;
        char text[CT_ADDRESS_TEXT_SIZE];
        uint8_t raw[CT_ADDRESS_SIZE];

        ctt_ok(ct_address_parse(&a, examples[i]));
        ctt_hex_fixed(raw, sizeof(raw), examples[i]);
        assert_memory_equal(a.b, raw, sizeof(raw));
        ct_address_format(text, &a);
        assert_string_equal(text, examples[i]);
        ctt_ok(ct_address_parse(&b, examples[i] + 2)); /* without "0x" */
        assert_true(ct_address_equal(&a, &b));
    }
}

static void parse_accepts_single_case(void **state)
{
    const char *mixed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    ct_address want, a;
    (void)state;

    ctt_ok(ct_address_parse(&want, mixed));
    ctt_ok(ct_address_parse(&a, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"));
    assert_true(ct_address_equal(&a, &want));
    ctt_ok(ct_address_parse(&a, "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"));
    assert_true(ct_address_equal(&a, &want));
    ctt_ok(ct_address_parse(&a, "5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"));
    assert_true(ct_address_equal(&a, &want));
    ctt_ok(ct_address_parse(&a, "0x0000000000000000000000000000000000000000"));
    assert_false(ct_address_equal(&a, &want));
}

static void parse_rejects(void **state)
{
    static const struct {
        const char *in;
        const char *why; /* a word the message must contain */
    } bad[] = {
        {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "checksum"}, /* last letter */
        {"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "checksum"}, /* second */
        {"0xfb6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "checksum"},
        {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "40"},   /* 39 digits */
        {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0", "40"}, /* 41 digits */
        {"", "40"},
        {"0x", "40"},
        {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedaa", "40"},
        {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAgd", "digit"},
        {"0x 5aeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "digit"},
        {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA-d", "digit"},
        {"0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "40"},
        {"xx5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "40"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ct_address a;
        memset(&a, 0xaa, sizeof(a));
        if (ct_address_parse(&a, bad[i].in) != CT_EPARSE)
            fail_msg("accepted '%s'", bad[i].in);
        if (strstr(ct_error_last(), bad[i].why) == NULL)
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].in, ct_error_last(), bad[i].why);
        for (size_t j = 0; j < sizeof(a.b); j++)
            assert_int_equal(a.b[j], 0xaa); /* out untouched on failure */
    }
}

/* ---------------------------------------------------------------- keys */

static void rejects_invalid_seckeys(void **state)
{
    uint8_t keys[4][32] = {{0}};
    uint8_t pub[CT_PUBKEY_SIZE], sig[CT_SIG_SIZE], hash[32] = {1};
    ct_address a;
    int recid;
    (void)state;

    memcpy(keys[1], order_n, 32); /* n */
    memcpy(keys[2], order_n, 32);
    keys[2][31]++;             /* n + 1 */
    memset(keys[3], 0xff, 32); /* 2^256 - 1 */
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(ct_seckey_verify(keys[i]), CT_ECRYPTO);
        assert_int_equal(ct_pubkey_from_seckey(pub, keys[i]), CT_ECRYPTO);
        assert_int_equal(ct_sign(sig, &recid, hash, keys[i]), CT_ECRYPTO);
        assert_int_equal(ct_address_from_seckey(&a, keys[i]), CT_ECRYPTO);
        assert_true(strlen(ct_error_last()) > 0);
    }
    /* The extremes of the valid range: 1 and n - 1. */
    memset(keys[0], 0, 32);
    keys[0][31] = 1;
    ctt_ok(ct_seckey_verify(keys[0]));
    memcpy(keys[1], order_n, 32);
    keys[1][31]--;
    ctt_ok(ct_seckey_verify(keys[1]));
    ctt_ok(ct_sign(sig, &recid, hash, keys[1]));
}

static void generates_distinct_valid_keys(void **state)
{
    uint8_t a[CT_SECKEY_SIZE], b[CT_SECKEY_SIZE];
    (void)state;

    ctt_ok(ct_seckey_generate(a));
    ctt_ok(ct_seckey_generate(b));
    ctt_ok(ct_seckey_verify(a));
    ctt_ok(ct_seckey_verify(b));
    assert_memory_not_equal(a, b, sizeof(a));
    ct_wipe(a, sizeof(a));
    for (size_t i = 0; i < sizeof(a); i++)
        assert_int_equal(a[i], 0);
}

/* ---------------------------------------------------------------- signatures */

/* The worked example of EIP-155: key 0x46..46 signs the hash of a legacy
 * transfer on chain 1, giving v = 37 (recovery id 0). */
static void eip155_example(void **state)
{
    uint8_t key[32], rlp[64], hash[32], sig[CT_SIG_SIZE], want[CT_SIG_SIZE];
    uint8_t pub[CT_PUBKEY_SIZE], rec[CT_PUBKEY_SIZE];
    size_t rlp_len;
    char text[CT_ADDRESS_TEXT_SIZE];
    ct_address a;
    int recid = -1;
    const char *unsigned_rlp = "ec098504a817c800825208943535353535353535353535353535353535353535"
                               "880de0b6b3a764000080018080";
    (void)state;

    memset(key, 0x46, sizeof(key));
    ctt_ok(ct_hex_decode(rlp, sizeof(rlp), &rlp_len, unsigned_rlp, strlen(unsigned_rlp)));
    ct_keccak256(hash, rlp, rlp_len);
    ctt_hex_fixed(want, 32, "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
    assert_memory_equal(hash, want, 32);
    ctt_hex_fixed(want, 32, "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276");
    ctt_hex_fixed(want + 32, 32,
                  "67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
    ctt_ok(ct_sign(sig, &recid, hash, key));
    assert_memory_equal(sig, want, sizeof(want));
    assert_int_equal(recid, 0);
    ctt_ok(ct_pubkey_from_seckey(pub, key));
    ctt_ok(ct_recover(rec, hash, sig, recid, true));
    assert_memory_equal(rec, pub, sizeof(pub));
    ct_address_from_pubkey(&a, rec);
    ct_address_format(text, &a);
    assert_string_equal(text, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
}

/* Reads one RLP string of at most 55 bytes at *p, advancing *p. */
static void rlp_short_string(const uint8_t **p, const uint8_t *end, const uint8_t **val,
                             size_t *len)
{
    assert_true(*p < end);
    if (**p < 0x80) {
        *val = *p;
        *len = 1;
        *p += 1;
        return;
    }
    assert_true(**p <= 0xb7);
    *len = (size_t)(**p - 0x80);
    *val = *p + 1;
    *p += 1 + *len;
    assert_true(*p <= end);
}

/* Returns: the length of the RLP list header at p. */
static size_t rlp_list_header(const uint8_t *p)
{
    assert_true(p[0] >= 0xc0);
    return p[0] <= 0xf7 ? 1 : 1 + (size_t)(p[0] - 0xf7);
}

/* Extracts v, r, s from a signed legacy transaction: the signed list is
 * the unsigned payload followed by v, r and s. */
static void legacy_signature(uint8_t sig[CT_SIG_SIZE], int *recid, const uint8_t *uns,
                             size_t uns_len, const uint8_t *sgn, size_t sgn_len)
{
    size_t payload = uns_len - rlp_list_header(uns);
    const uint8_t *p = sgn + rlp_list_header(sgn) + payload, *end = sgn + sgn_len, *val;
    size_t len;

    rlp_short_string(&p, end, &val, &len);
    assert_int_equal(len, 1);
    assert_true(val[0] == 27 || val[0] == 28);
    *recid = val[0] - 27;
    memset(sig, 0, CT_SIG_SIZE);
    for (int half = 0; half < 2; half++) {
        rlp_short_string(&p, end, &val, &len);
        assert_true(len <= 32);
        memcpy(sig + 32 * half + 32 - len, val, len);
    }
    assert_ptr_equal(p, end);
}

/* ethers signed these legacy transactions; RFC 6979 makes the signature
 * a function of key and hash, so ours must be byte-identical. */
static void matches_ethers_signatures(void **state)
{
    size_t i, checked = 0;
    json_t *e;
    (void)state;
    CTT_NEED_JSON(v, "vectors/ethers/transactions.json.gz");

    json_array_foreach (v, i, e) {
        uint8_t key[32], hash[32], want[CT_SIG_SIZE], sig[CT_SIG_SIZE];
        uint8_t pub[CT_PUBKEY_SIZE], rec[CT_PUBKEY_SIZE], *uns = NULL, *sgn = NULL;
        size_t uns_len, sgn_len;
        int want_recid, recid;

        ctt_hex_fixed(key, 32, field(e, "privateKey"));
        ctt_ok(ct_hex_decode_new(&uns, &uns_len, field(e, "unsignedLegacy")));
        ctt_ok(ct_hex_decode_new(&sgn, &sgn_len, field(e, "signedLegacy")));
        legacy_signature(want, &want_recid, uns, uns_len, sgn, sgn_len);
        ct_keccak256(hash, uns, uns_len);
        ctt_ok(ct_sign(sig, &recid, hash, key));
        if (memcmp(sig, want, sizeof(sig)) != 0 || recid != want_recid)
            fail_msg("%s: signature differs from ethers'", field(e, "name"));
        ctt_ok(ct_pubkey_from_seckey(pub, key));
        ctt_ok(ct_recover(rec, hash, want, want_recid, true));
        assert_memory_equal(rec, pub, sizeof(pub));
        free(uns);
        free(sgn);
        checked++;
    }
    assert_true(checked > 100);
    json_decref(v);
}

/* Signs and recovers with one random key and hash; checks low s,
 * determinism and that a changed hash recovers someone else. */
static void round_trip_once(void)
{
    uint8_t key[32], hash[32], sig[CT_SIG_SIZE], again[CT_SIG_SIZE];
    uint8_t pub[CT_PUBKEY_SIZE], rec[CT_PUBKEY_SIZE];
    int recid, recid2;

    ctt_ok(ct_seckey_generate(key));
    ctt_ok(ct_random(hash, sizeof(hash)));
    ctt_ok(ct_pubkey_from_seckey(pub, key));
    ctt_ok(ct_sign(sig, &recid, hash, key));
    assert_true(recid == 0 || recid == 1);
    assert_true(memcmp(sig + 32, half_n, 32) <= 0);
    ctt_ok(ct_sign(again, &recid2, hash, key));
    assert_memory_equal(again, sig, sizeof(sig));
    assert_int_equal(recid2, recid);
    ctt_ok(ct_recover(rec, hash, sig, recid, true));
    assert_memory_equal(rec, pub, sizeof(pub));
    /* The other parity gives a different key (or none). */
    if (ct_recover(rec, hash, sig, recid ^ 1, true) == 0)
        assert_memory_not_equal(rec, pub, sizeof(pub));
    hash[7] ^= 0x10;
    if (ct_recover(rec, hash, sig, recid, true) == 0)
        assert_memory_not_equal(rec, pub, sizeof(pub));
    ct_wipe(key, sizeof(key));
}

static void random_round_trips(void **state)
{
    (void)state;
    for (int i = 0; i < 500; i++)
        round_trip_once();
}

/* (r, n - s) with the other parity is the same signature's malleable twin:
 * it recovers the same key unless low s is required. */
static void rejects_high_s(void **state)
{
    uint8_t key[32], hash[32], sig[CT_SIG_SIZE], high[CT_SIG_SIZE];
    uint8_t pub[CT_PUBKEY_SIZE], rec[CT_PUBKEY_SIZE];
    int recid;
    (void)state;

    for (int i = 0; i < 50; i++) {
        ctt_ok(ct_seckey_generate(key));
        ctt_ok(ct_random(hash, sizeof(hash)));
        ctt_ok(ct_pubkey_from_seckey(pub, key));
        ctt_ok(ct_sign(sig, &recid, hash, key));
        memcpy(high, sig, 32);
        negate_mod_n(high + 32, sig + 32);
        assert_true(memcmp(high + 32, half_n, 32) > 0);
        assert_int_equal(ct_recover(rec, hash, high, recid ^ 1, true), CT_ECRYPTO);
        assert_non_null(strstr(ct_error_last(), "n/2"));
        ctt_ok(ct_recover(rec, hash, high, recid ^ 1, false));
        assert_memory_equal(rec, pub, sizeof(pub));
    }
}

static void recover_rejects_bad_input(void **state)
{
    uint8_t key[32] = {0}, hash[32] = {0x42}, sig[CT_SIG_SIZE], bad[CT_SIG_SIZE];
    uint8_t rec[CT_PUBKEY_SIZE];
    int recid;
    (void)state;

    key[31] = 7;
    ctt_ok(ct_sign(sig, &recid, hash, key));
    assert_int_equal(ct_recover(rec, hash, sig, 4, false), CT_ECRYPTO);
    assert_int_equal(ct_recover(rec, hash, sig, -1, false), CT_ECRYPTO);
    memcpy(bad, sig, sizeof(bad));
    memcpy(bad, order_n, 32); /* r = n */
    assert_int_equal(ct_recover(rec, hash, bad, recid, false), CT_ECRYPTO);
    memcpy(bad, sig, sizeof(bad));
    memcpy(bad + 32, order_n, 32); /* s = n */
    assert_int_equal(ct_recover(rec, hash, bad, recid, false), CT_ECRYPTO);
    memcpy(bad, sig, sizeof(bad));
    memset(bad, 0, 32); /* r = 0 */
    assert_int_equal(ct_recover(rec, hash, bad, recid, false), CT_ECRYPTO);
    memcpy(bad, sig, sizeof(bad));
    memset(bad + 32, 0, 32); /* s = 0 */
    assert_int_equal(ct_recover(rec, hash, bad, recid, false), CT_ECRYPTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(derives_ethers_accounts),
        cmocka_unit_test(eip55_examples),
        cmocka_unit_test(parse_accepts_single_case),
        cmocka_unit_test(parse_rejects),
        cmocka_unit_test(rejects_invalid_seckeys),
        cmocka_unit_test(generates_distinct_valid_keys),
        cmocka_unit_test(eip155_example),
        cmocka_unit_test(matches_ethers_signatures),
        cmocka_unit_test(random_round_trips),
        cmocka_unit_test(rejects_high_s),
        cmocka_unit_test(recover_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
