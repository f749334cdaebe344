/* EIP-712: the domain separator of the EIP's own example, struct hashes
 * of flat structs (checked against the contracts on a chain in
 * tests/integration/ledger/test_orchestration.c), refused member types,
 * and signatures that recover to the signer. */
#include "harness.h"

#include <string.h>

#include "catena/crypto.h"
#include "catena/eth.h"

static void domain_of_the_eip_example(void **state)
{
    ct_address contract;
    uint8_t out[32];
    (void)state;

    /* EIP-712's Mail example: name "Ether Mail", version "1", chain 1. */
    ctt_ok(ct_address_parse(&contract, "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"));
    ct_eip712_domain(out, "Ether Mail", "1", 1, &contract);
    ctt_assert_hex(out, 32, "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f",
                   "domain separator");
}

static void struct_hash_is_typehash_and_encoding(void **state)
{
    uint8_t got[32], want[32], enc[96];
    json_t *v = json_pack("[i, s]", 7, "0x00000000000000000000000000000000000000aa");
    const char *type = "Accept(uint256 nonce,address leader)";
    (void)state;

    ctt_ok(ct_eip712_hash_struct(got, type, v));
    memset(enc, 0, sizeof(enc));
    ct_keccak256(enc, type, strlen(type));
    enc[63] = 7;
    enc[95] = 0xaa;
    ct_keccak256(want, enc, sizeof(enc));
    assert_memory_equal(got, want, 32);
    json_decref(v);
}

static void refuses_what_it_does_not_hash(void **state)
{
    static const char *const types[] = {
        "Mail(string contents)",
        "Mail(bytes data)",
        "Mail(uint256[] xs)",
        "Mail(uint256)",
        "Mail",
        "(uint256 a)",
        "Mail(uint256 a) extra",
    };
    uint8_t out[32];
    json_t *v = json_pack("[i]", 1);
    (void)state;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (ct_eip712_hash_struct(out, types[i], v) != CT_EINVAL)
            fail_msg("%s accepted", types[i]);
    json_decref(v);
    /* Values that do not fit the members. */
    v = json_pack("[s]", "not a number");
    assert_int_equal(ct_eip712_hash_struct(out, "A(uint256 a)", v), CT_EINVAL);
    json_decref(v);
}

static void signature_recovers_the_signer(void **state)
{
    uint8_t key[32], digest[32], sig[65], pub[CT_PUBKEY_SIZE];
    ct_address want, got;
    (void)state;

    ctt_ok(ct_seckey_generate(key));
    ctt_ok(ct_address_from_seckey(&want, key));
    ct_keccak256(digest, "x", 1);
    ctt_ok(ct_eip712_sign(sig, digest, key));
    assert_true(sig[64] == 27 || sig[64] == 28);
    ctt_ok(ct_recover(pub, digest, sig, sig[64] - 27, true));
    ct_address_from_pubkey(&got, pub);
    assert_memory_equal(got.b, want.b, CT_ADDRESS_SIZE);
    ct_wipe(key, sizeof(key));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(domain_of_the_eip_example),
        cmocka_unit_test(struct_hash_is_typehash_and_encoding),
        cmocka_unit_test(refuses_what_it_does_not_hash),
        cmocka_unit_test(signature_recovers_the_signer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
