/* The Merkle Patricia trie against ethereum/tests' TrieTests vectors
 * (tests/data/eth/trie/), its proofs (every key present, absent keys,
 * each kind of damage refused), and random tries whose proofs are checked
 * key by key; the receipt encoding and the bloom on a known receipt. */
#include "harness.h"

#include <stdio.h>

/* A vector's key or value: "0x" hex, else its ASCII bytes. */
static uint8_t *vec_bytes(size_t *len, const char *s)
{
    uint8_t *b;

    if (strncmp(s, "0x", 2) == 0) {
        ctt_ok(ct_hex_decode_new(&b, len, s));
        return b;
    }
    *len = strlen(s);
    b = malloc(*len + 1);
    assert_non_null(b);
    memcpy(b, s, *len + 1);
    return b;
}

static json_t *load_vectors(const char *name)
{
    json_error_t err;
    json_t *v =
        json_load_file(ctt_path("%s/tests/data/eth/trie/%s", getenv("CATENA_ROOT"), name), 0, &err);

    if (v == NULL)
        fail_msg("%s: %s", name, err.text);
    return v;
}

static void put_pair(ct_trie *t, const char *k, const char *v, bool secure)
{
    size_t kl, vl = 0;
    uint8_t *key = vec_bytes(&kl, k), *val = v != NULL ? vec_bytes(&vl, v) : NULL;
    uint8_t h[32];

    if (secure) {
        ct_keccak256(h, key, kl);
        ctt_ok(ct_trie_put(t, h, 32, val, vl));
    } else {
        ctt_ok(ct_trie_put(t, key, kl, val, vl));
    }
    free(key);
    free(val);
}

static void check_root(ct_trie *t, const json_t *want, const char *name)
{
    uint8_t root[32];
    char hex[67];

    ctt_ok(ct_trie_root(t, root));
    ct_hex_encode(hex, sizeof(hex), root, 32, true);
    if (strcmp(hex, json_string_value(want)) != 0)
        fail_msg("%s: root %s, want %s", name, hex, json_string_value(want));
}

/* Every key of the trie proves its value, and the proof checks. */
static void check_all_proofs(ct_trie *t, const json_t *in)
{
    uint8_t root[32];
    const char *k;
    const json_t *v;

    ctt_ok(ct_trie_root(t, root));
    json_object_foreach ((json_t *)in, k, v) {
        size_t kl, vl, n, got_len;
        uint8_t *key = vec_bytes(&kl, k), *val = vec_bytes(&vl, json_string_value(v));
        const uint8_t *got;
        ct_bytes *nodes;
        ctt_ok(ct_trie_prove(t, &nodes, &n, key, kl));
        ctt_ok(ct_trie_verify(&got, &got_len, root, key, kl, nodes, n));
        assert_int_equal(got_len, vl);
        assert_memory_equal(got, val, vl);
        ct_trie_proof_free(nodes, n);
        free(key);
        free(val);
    }
}

/* A file of {"in": {key: value}, "root"} cases; secure tries hash keys. */
static void run_map_vectors(const char *file, bool secure)
{
    json_t *all = load_vectors(file);
    const char *name, *k;
    json_t *tc, *v;

    json_object_foreach (all, name, tc) {
        ct_trie *t;
        ctt_ok(ct_trie_new(&t));
        json_object_foreach (json_object_get(tc, "in"), k, v)
            put_pair(t, k, json_string_value(v), secure);
        check_root(t, json_object_get(tc, "root"), name);
        if (!secure)
            check_all_proofs(t, json_object_get(tc, "in"));
        ct_trie_free(t);
    }
    json_decref(all);
}

static void any_order_vectors(void **state)
{
    (void)state;
    run_map_vectors("trieanyorder.json", false);
}

static void sequential_vectors_with_deletes(void **state)
{
    json_t *all = load_vectors("trietest.json");
    const char *name;
    json_t *tc, *pair;
    size_t i;

    (void)state;
    json_object_foreach (all, name, tc) {
        ct_trie *t;
        ctt_ok(ct_trie_new(&t));
        json_array_foreach (json_object_get(tc, "in"), i, pair)
            put_pair(t, json_string_value(json_array_get(pair, 0)),
                     json_string_value(json_array_get(pair, 1)), false);
        check_root(t, json_object_get(tc, "root"), name);
        ct_trie_free(t);
    }
    json_decref(all);
}

static void secure_trie_vectors(void **state)
{
    (void)state;
    run_map_vectors("hex_encoded_securetrie_test.json", true);
}

static void empty_trie(void **state)
{
    ct_trie *t;
    uint8_t root[32], key = 1;
    const uint8_t *v;
    size_t vl;
    ct_bytes *nodes;
    size_t n;

    (void)state;
    ctt_ok(ct_trie_new(&t));
    ctt_ok(ct_trie_root(t, root));
    ctt_ok(ct_trie_prove(t, &nodes, &n, &key, 1));
    assert_int_equal(n, 0);
    assert_int_equal(ct_trie_verify(&v, &vl, root, &key, 1, nodes, n), CT_ENOTFOUND);
    root[0] ^= 1;
    assert_int_equal(ct_trie_verify(&v, &vl, root, &key, 1, nodes, n), CT_EPARSE);
    ct_trie_free(t);
}

/* A receipts-like trie of n entries (keys rlp(i), values of varied
 * length, some shorter than 32 bytes so nodes get embedded). */
static ct_trie *receipts_like(size_t n, uint32_t seed)
{
    ct_trie *t;
    uint8_t key[9], val[300];

    ctt_ok(ct_trie_new(&t));
    for (size_t i = 0; i < n; i++) {
        ct_rlp_writer w;
        size_t kl, vl = 1 + (seed = seed * 1103515245u + 12345u) % sizeof(val);
        ct_rlp_writer_init(&w, key, sizeof(key));
        ct_rlp_put_uint(&w, i);
        ctt_ok(ct_rlp_finish(&w, &kl));
        for (size_t j = 0; j < vl; j++)
            val[j] = (uint8_t)(seed >> (j % 24));
        ctt_ok(ct_trie_put(t, key, kl, val, vl));
    }
    return t;
}

static void proofs_of_present_and_absent_keys(void **state)
{
    static const size_t sizes[] = {1, 2, 3, 15, 16, 17, 128, 129, 300};

    (void)state;
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        ct_trie *t = receipts_like(sizes[s], (uint32_t)s + 7);
        uint8_t root[32];
        ctt_ok(ct_trie_root(t, root));
        for (uint64_t i = 0; i < sizes[s] + 5; i++) {
            uint8_t key[9];
            ct_rlp_writer w;
            size_t kl, n, vl;
            const uint8_t *v;
            ct_bytes *nodes;
            ct_rlp_writer_init(&w, key, sizeof(key));
            ct_rlp_put_uint(&w, i);
            ctt_ok(ct_rlp_finish(&w, &kl));
            ctt_ok(ct_trie_prove(t, &nodes, &n, key, kl));
            assert_true(n >= 1);
            int rc = ct_trie_verify(&v, &vl, root, key, kl, nodes, n);
            assert_int_equal(rc, i < sizes[s] ? 0 : CT_ENOTFOUND);
            /* A proof without its last node, or with a node changed, or
             * with a stray node at the end, proves nothing. */
            if (n > 1)
                assert_int_equal(ct_trie_verify(&v, &vl, root, key, kl, nodes, n - 1), CT_EPARSE);
            nodes[n - 1].data[nodes[n - 1].len / 2] ^= 0x40;
            assert_int_equal(ct_trie_verify(&v, &vl, root, key, kl, nodes, n), CT_EPARSE);
            nodes[n - 1].data[nodes[n - 1].len / 2] ^= 0x40;
            ct_bytes *more = realloc(nodes, (n + 1) * sizeof(*more));
            assert_non_null(more);
            nodes = more;
            nodes[n].len = nodes[0].len;
            nodes[n].data = malloc(nodes[0].len);
            memcpy(nodes[n].data, nodes[0].data, nodes[0].len);
            assert_int_equal(ct_trie_verify(&v, &vl, root, key, kl, nodes, n + 1), CT_EPARSE);
            ct_trie_proof_free(nodes, n + 1);
        }
        ct_trie_free(t);
    }
}

static void replacing_a_key_changes_the_root_back(void **state)
{
    ct_trie *a = receipts_like(40, 3), *b = receipts_like(40, 3);
    uint8_t ra[32], rb[32], key = 0x05, junk[40] = {9};

    (void)state;
    /* b: key 5 overwritten, then deleted and put back with a's value. */
    ctt_ok(ct_trie_put(b, &key, 1, junk, sizeof(junk)));
    ctt_ok(ct_trie_root(b, rb));
    ctt_ok(ct_trie_root(a, ra));
    assert_memory_not_equal(ra, rb, 32);
    ct_trie_free(b);
    b = receipts_like(40, 3);
    ctt_ok(ct_trie_put(b, &key, 1, NULL, 0));
    ctt_ok(ct_trie_root(b, rb));
    assert_memory_not_equal(ra, rb, 32);
    assert_int_equal(ct_trie_size(b), 39);
    ct_trie_free(a);
    ct_trie_free(b);
}

/* A receipt's encoding decodes back to what it was made from, and its
 * bloom holds its log's address and topic. Real receipts are checked
 * against real nodes' receiptsRoot in tests/integration/eth/test_block.c. */
static void receipt_round_trip_and_bloom(void **state)
{
    const char *topic0 = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
    const char *addr = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
    json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:[{s:s,s:[s],s:s}]}", "type", "0x2", "status", "0x1",
                          "cumulativeGasUsed", "0x5208", "logsBloom", "", "logs", "address", addr,
                          "topics", topic0, "data", "0x0102");
    uint8_t bloom[256] = {0}, a[20], t[32], *enc;
    char bloom_hex[2 + 512 + 1];
    size_t len, n;
    json_t *back;

    (void)state;
    ctt_ok(ct_hex_decode(a, 20, &n, addr, strlen(addr)));
    ctt_ok(ct_hex_decode(t, 32, &n, topic0, strlen(topic0)));
    ct_bloom_add(bloom, a, 20);
    ct_bloom_add(bloom, t, 32);
    assert_true(ct_bloom_may_contain(bloom, a, 20));
    assert_true(ct_bloom_may_contain(bloom, t, 32));
    t[31] ^= 1;
    assert_false(ct_bloom_may_contain(bloom, t, 32));
    ct_hex_encode(bloom_hex, sizeof(bloom_hex), bloom, 256, true);
    json_object_set_new(r, "logsBloom", json_string(bloom_hex));
    ctt_ok(ct_receipt_encode_json(&enc, &len, r));
    assert_int_equal(enc[0], 2);
    ctt_ok(ct_receipt_decode(&back, enc, len));
    assert_int_equal(json_integer_value(json_object_get(back, "status")), 1);
    assert_int_equal(json_integer_value(json_object_get(back, "cumulativeGasUsed")), 0x5208);
    assert_string_equal(json_string_value(json_object_get(back, "logsBloom")), bloom_hex);
    json_t *log = json_array_get(json_object_get(back, "logs"), 0);
    assert_string_equal(json_string_value(json_object_get(log, "address")), addr);
    assert_string_equal(json_string_value(json_array_get(json_object_get(log, "topics"), 0)),
                        topic0);
    assert_string_equal(json_string_value(json_object_get(log, "data")), "0x0102");
    /* Damage: a topic of 31 bytes, an unknown status. */
    json_object_set_new(r, "status", json_string("0x2"));
    assert_int_equal(ct_receipt_encode_json(&enc, &len, r), CT_EPARSE);
    json_decref(back);
    free(enc);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(any_order_vectors),
        cmocka_unit_test(sequential_vectors_with_deletes),
        cmocka_unit_test(secure_trie_vectors),
        cmocka_unit_test(empty_trie),
        cmocka_unit_test(proofs_of_present_and_absent_keys),
        cmocka_unit_test(replacing_a_key_changes_the_root_back),
        cmocka_unit_test(receipt_round_trip_and_bloom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
