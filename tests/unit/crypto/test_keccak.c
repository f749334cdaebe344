/* keccak-256 against ethers' hash vectors, known answers, block-boundary
 * lengths and streaming in odd chunk sizes. */
#include "harness.h"

#include "catena/crypto.h"

/* Formats a digest as "0x" + hex for readable comparisons. */
static void digest_hex(char out[2 * CT_KECCAK256_SIZE + 3], const uint8_t *d)
{
    ctt_ok(ct_hex_encode(out, 2 * CT_KECCAK256_SIZE + 3, d, CT_KECCAK256_SIZE, true));
}

static void assert_keccak(const void *data, size_t len, const char *expect)
{
    uint8_t d[CT_KECCAK256_SIZE];
    char hex[2 * CT_KECCAK256_SIZE + 3];

    ct_keccak256(d, data, len);
    digest_hex(hex, d);
    if (strcmp(hex, expect) != 0)
        fail_msg("keccak256 of %zu bytes: got %s, want %s", len, hex, expect);
}

static void matches_ethers_vectors(void **state)
{
    size_t i, checked = 0;
    json_t *e;
    (void)state;
    CTT_NEED_JSON(v, "vectors/ethers/hashes.json.gz");

    json_array_foreach (v, i, e) {
        const char *data = json_string_value(json_object_get(e, "data"));
        const char *want = json_string_value(json_object_get(e, "keccak256"));
        uint8_t *bytes = NULL;
        size_t len = 0;

        assert_non_null(data);
        assert_non_null(want);
        ctt_ok(ct_hex_decode_new(&bytes, &len, data));
        assert_keccak(bytes, len, want);
        free(bytes);
        checked++;
    }
    assert_true(checked > 100);
    json_decref(v);
}

static void known_answers(void **state)
{
    static uint8_t million_a[1000000];
    (void)state;

    assert_keccak(NULL, 0, "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    assert_keccak("", 0, "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    assert_keccak("abc", 3, "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    memset(million_a, 'a', sizeof(million_a));
    assert_keccak(million_a, sizeof(million_a),
                  "0xfadae6b49f129bbb812be8407b7b2894f34aecf6dbd1f9b0f0c7e9853098fc96");
}

/* Lengths around the 136-byte rate: one byte short of a block (the two
 * padding bits share a byte), exactly one block (padding takes a block of
 * its own), one past, and two blocks. Expected values from @noble/hashes
 * keccak_256 over bytes (7 * i + 3) mod 256. */
static void block_boundaries(void **state)
{
    static const struct {
        size_t len;
        const char *want;
    } cases[] = {
        {135, "0x00ef96af9cf4b24c7f269d922294444a197d0a33638c2e56634c57e892103a8f"},
        {136, "0x742061bcad767ed4c4f5883b1dcb1aad11afdcc140dc469d953759b127b9f9ed"},
        {137, "0xe3371f61e770abf254c34239c3b0099ad90594507415bc81dd0a10b9692bbf2a"},
        {272, "0xac141fd7b0a0ffcd2e967254d508da3ec616596493c36fa304425647d90e6de5"},
    };
    uint8_t buf[272];
    (void)state;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(7 * i + 3);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_keccak(buf, cases[i].len, cases[i].want);
}

/* Feeds data in chunks of the given sizes, cycling, and returns the digest. */
static void keccak_chunked(uint8_t out[CT_KECCAK256_SIZE], const uint8_t *data, size_t len,
                           const size_t *sizes, size_t nsizes)
{
    ct_keccak k;
    size_t off = 0;

    ct_keccak_init(&k);
    for (size_t c = 0; off < len; c++) {
        size_t n = sizes[c % nsizes];
        if (n > len - off)
            n = len - off;
        ct_keccak_update(&k, data + off, n);
        off += n;
    }
    ct_keccak_final(&k, out);
    for (size_t i = 0; i < 25; i++)
        assert_int_equal(k.st[i], 0); /* final wipes the state */
}

static void streaming_equals_one_shot(void **state)
{
    static const size_t odd[] = {1, 3, 5, 7, 13, 31, 67, 135, 137, 139, 271, 273, 1001};
    static uint8_t data[5000];
    (void)state;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)((i * 2654435761u) >> 13);
    for (size_t len = 0; len <= sizeof(data); len += (len < 600 ? 1 : 997)) {
        uint8_t want[CT_KECCAK256_SIZE];
        ct_keccak256(want, data, len);
        for (size_t s = 0; s < sizeof(odd) / sizeof(odd[0]); s++) {
            uint8_t got[CT_KECCAK256_SIZE];
            keccak_chunked(got, data, len, &odd[s], 1);
            assert_memory_equal(got, want, sizeof(want));
        }
        uint8_t mixed[CT_KECCAK256_SIZE];
        keccak_chunked(mixed, data, len, odd, sizeof(odd) / sizeof(odd[0]));
        assert_memory_equal(mixed, want, sizeof(want));
    }
}

static void empty_updates_change_nothing(void **state)
{
    ct_keccak k;
    uint8_t got[CT_KECCAK256_SIZE], want[CT_KECCAK256_SIZE];
    (void)state;

    ct_keccak256(want, "abc", 3);
    ct_keccak_init(&k);
    ct_keccak_update(&k, NULL, 0);
    ct_keccak_update(&k, "a", 1);
    ct_keccak_update(&k, "", 0);
    ct_keccak_update(&k, "bc", 2);
    ct_keccak_update(&k, NULL, 0);
    ct_keccak_final(&k, got);
    assert_memory_equal(got, want, sizeof(want));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_ethers_vectors),
        cmocka_unit_test(known_answers),
        cmocka_unit_test(block_boundaries),
        cmocka_unit_test(streaming_equals_one_shot),
        cmocka_unit_test(empty_updates_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
