/* The seed 002 contracts from C on a real chain: Registry and Cloud
 * deployed with constructor arguments, EIP-712 digests computed in C equal
 * the contracts' own (acceptDigest, reservationDigest), a leader elected
 * with accepts signed in C, a reservation signed in C instantiating an
 * Application, and its checkpoints only from the leader. */
#include "harness.h"

#include <string.h>

#include "catena/ledger.h"

static ct_devnode node;
static ct_ledger *registry_abi, *cloud_abi, *app_abi;
static ct_rpc *rpc;
static uint64_t chain_id;

static int setup(void **state)
{
    (void)state;
    ctt_node_start(&node);
    ctt_ok(ct_ledger_open_contract(&registry_abi, "Registry"));
    ctt_ok(ct_ledger_open_contract(&cloud_abi, "Cloud"));
    ctt_ok(ct_ledger_open_contract(&app_abi, "Application"));
    ctt_ok(ct_rpc_new(&rpc, node.url, 10000));
    ctt_ok(ct_rpc_chain_id(rpc, &chain_id));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ct_rpc_free(rpc);
    ct_ledger_free(registry_abi);
    ct_ledger_free(cloud_abi);
    ct_ledger_free(app_abi);
    ctt_node_stop(&node);
    return 0;
}

static const char *addr_text(const ct_address *a)
{
    char buf[CT_ADDRESS_TEXT_SIZE];

    ct_address_format(buf, a);
    return ctt_path("%s", buf);
}

static json_t *args(const char *text)
{
    json_t *v = NULL;

    ctt_ok(ct_json_parse(&v, text, strlen(text), 16));
    return v;
}

static void transact(const ct_ledger *l, ct_sender *s, const ct_address *to, const char *fn,
                     const char *json)
{
    json_t *a = args(json);

    if (ct_ledger_transact(l, s, NULL, to, NULL, fn, a) < 0)
        fail_msg("%s(%s): %s", fn, json, ct_error_last());
    json_decref(a);
}

/* Returns: the error code of a call expected to revert, with its reason
 * checked. */
static void reverts(const ct_ledger *l, ct_sender *s, const ct_address *to, const char *fn,
                    const char *json, const char *reason)
{
    json_t *a = args(json);
    int rc = ct_ledger_transact(l, s, NULL, to, NULL, fn, a);

    json_decref(a);
    if (rc >= 0)
        fail_msg("%s(%s) succeeded", fn, json);
    print_message("[ info ] %s\n", ct_error_last());
    if (strstr(ct_error_last(), reason) == NULL)
        fail_msg("%s(%s): wanted %s, got %s", fn, json, reason, ct_error_last());
    ct_error_clear();
}

static json_t *read_ok(const ct_ledger *l, const ct_address *to, const char *fn, const char *json)
{
    json_t *a = args(json), *out = NULL;

    if (ct_ledger_read(l, rpc, &out, to, fn, a) < 0)
        fail_msg("%s(%s): %s", fn, json, ct_error_last());
    json_decref(a);
    return out;
}

static void key_of(uint8_t key[32], int i)
{
    size_t len;

    ctt_ok(ct_hex_decode(key, 32, &len, ctt_dev_keys[i], strlen(ctt_dev_keys[i])));
}

static const char *hex(const uint8_t *b, size_t n)
{
    char buf[300];

    ct_hex_encode(buf, sizeof(buf), b, n, true);
    return ctt_path("%s", buf);
}

/* The accept of member key i for (n, leader). */
static const char *accept(const ct_address *registry, uint64_t n, const ct_address *leader, int i,
                          const uint8_t digest_want[32])
{
    uint8_t domain[32], sh[32], digest[32], key[32], sig[65];
    json_t *v = json_pack("[I, s]", (json_int_t)n, addr_text(leader));

    ct_eip712_domain(domain, "CatenaRegistry", "1", chain_id, registry);
    ctt_ok(ct_eip712_hash_struct(sh, "Accept(uint256 nonce,address leader)", v));
    json_decref(v);
    ct_eip712_digest(digest, domain, sh);
    if (digest_want != NULL)
        assert_memory_equal(digest, digest_want, 32);
    key_of(key, i);
    ctt_ok(ct_eip712_sign(sig, digest, key));
    return hex(sig, 65);
}

static void digest_from_chain(uint8_t out[32], json_t *res)
{
    size_t len;

    ctt_ok(ct_hex_decode(out, 32, &len, json_string_value(json_array_get(res, 0)), 66));
    json_decref(res);
}

/* Signer order: ascending addresses. */
static int by_address(const void *a, const void *b)
{
    return memcmp(((const ct_address *)a)->b, ((const ct_address *)b)->b, CT_ADDRESS_SIZE);
}

static void leader_elected_with_c_signatures(void **state)
{
    ct_sender *s[3];
    ct_address reg, a[3], sorted[3];
    uint8_t want[32];
    json_t *v;
    const char *sigs[3];
    (void)state;

    for (int i = 0; i < 3; i++) {
        s[i] = ctt_sender(node.url, ctt_dev_keys[i]);
        a[i] = *ct_sender_address(s[i]);
    }
    v = args("[1, 10, 1000, 500]");
    ctt_ok(ct_ledger_deploy_with(registry_abi, s[0], v, &reg, NULL));
    json_decref(v);
    for (int i = 0; i < 3; i++)
        transact(registry_abi, s[i], &reg, "registerCandidate",
                 ctt_path("[\"http://127.0.0.1:%d\"]", 7000 + i));
    transact(registry_abi, s[0], &reg, "appointLeader", ctt_path("[\"%s\"]", addr_text(&a[0])));
    transact(registry_abi, s[0], &reg, "registerPeer", ctt_path("[\"%s\"]", addr_text(&a[1])));
    transact(registry_abi, s[0], &reg, "registerPeer", ctt_path("[\"%s\"]", addr_text(&a[2])));

    /* The digest of Accept(1, node 1) computed here is the contract's. */
    digest_from_chain(want, read_ok(registry_abi, &reg, "acceptDigest",
                                    ctt_path("[1, \"%s\"]", addr_text(&a[1]))));

    /* One accept of three members is no majority; a duplicate is refused;
     * a stale nonce is refused; two sorted accepts elect node 1. */
    memcpy(sorted, a, sizeof(sorted));
    qsort(sorted, 2, sizeof(sorted[0]), by_address);
    for (int k = 0; k < 2; k++)
        sigs[k] = accept(&reg, 1, &a[1], memcmp(sorted[k].b, a[0].b, 20) == 0 ? 0 : 1, want);
    reverts(registry_abi, s[1], &reg, "registerLeader", ctt_path("[1, [\"%s\"]]", sigs[0]),
            "= NoMajority(\"1\",\"3\")");
    reverts(registry_abi, s[1], &reg, "registerLeader",
            ctt_path("[1, [\"%s\", \"%s\"]]", sigs[0], sigs[0]), "= UnsortedOrDuplicateSigner(");
    reverts(registry_abi, s[1], &reg, "registerLeader",
            ctt_path("[2, [\"%s\", \"%s\"]]", sigs[0], sigs[1]), "= StaleNonce(\"2\",\"1\")");
    /* Signatures for another leader do not elect node 1. */
    sigs[2] = accept(&reg, 1, &a[2], 0, NULL);
    reverts(registry_abi, s[1], &reg, "registerLeader",
            ctt_path("[1, [\"%s\", \"%s\"]]", sigs[2], sigs[1]), "= ");
    transact(registry_abi, s[1], &reg, "registerLeader",
             ctt_path("[1, [\"%s\", \"%s\"]]", sigs[0], sigs[1]));
    v = read_ok(registry_abi, &reg, "leader", "[]");
    assert_string_equal(json_string_value(json_array_get(v, 0)), addr_text(&a[1]));
    json_decref(v);
    v = read_ok(registry_abi, &reg, "leaderNonce", "[]");
    assert_string_equal(json_string_value(json_array_get(v, 0)), "1");
    json_decref(v);
    for (int i = 0; i < 3; i++)
        ct_sender_free(s[i]);
}

/* A reservation signed in C by the cloud's scheduler instantiates an
 * Application; a tampered one does not. */
static void reservation_signed_in_c_instantiates(void **state)
{
    ct_sender *owner = ctt_sender(node.url, ctt_dev_keys[0]);
    ct_sender *client = ctt_sender(node.url, ctt_dev_keys[3]);
    uint8_t sched_key[32], digest[32], want[32], sig[65];
    ct_address reg, cloud, sched, app;
    const char *res0 = "0x"
                       "11111111111111111111111111111111"
                       "11111111111111111111111111111111";
    const char *salt = "0x"
                       "0000000000000000000000000000000000000000000000000000000000000007";
    const char *tosca = "0x"
                        "abababababababababababababababababababababababababababababababab";
    const char *r, *inst;
    ct_send_result res;
    json_t *v;
    uint64_t expiry = (uint64_t)(ct_time_now_ms() / 1000) + 3600;
    ct_u256 deposit;
    (void)state;

    ctt_ok(ct_seckey_generate(sched_key));
    ctt_ok(ct_address_from_seckey(&sched, sched_key));
    v = args("[1, 10, 1000, 500]");
    ctt_ok(ct_ledger_deploy_with(registry_abi, owner, v, &reg, NULL));
    json_decref(v);
    v = json_pack("[s, s, i, s, s]", addr_text(&reg), addr_text(&sched), 100,
                  "http://127.0.0.1:1/scheduler", "http://127.0.0.1:1/plug");
    ctt_ok(ct_ledger_deploy_with(cloud_abi, owner, v, &cloud, NULL));
    json_decref(v);
    transact(registry_abi, owner, &reg, "registerCloud", ctt_path("[\"%s\"]", addr_text(&cloud)));
    transact(cloud_abi, owner, &cloud, "registerResource",
             ctt_path("[\"%s\", \"%s\", 50, \"vm-1\"]", res0, addr_text(ct_sender_address(owner))));

    {
        const char *names[] = {"backend"}, *ids[] = {res0};
        ctt_sign_reservation(sig, digest, chain_id, &cloud, ct_sender_address(client), tosca, names,
                             ids, 1, expiry, salt, sched_key);
    }
    r = ctt_path("[\"%s\", \"%s\", %llu, \"%s\"]", addr_text(ct_sender_address(client)), tosca,
                 (unsigned long long)expiry, salt);
    digest_from_chain(want, read_ok(cloud_abi, &cloud, "reservationDigest",
                                    ctt_path("[%s, [\"backend\"], [\"%s\"]]", r, res0)));
    assert_memory_equal(digest, want, 32);

    /* Signed for another service list: refused. */
    reverts(cloud_abi, client, &cloud, "instantiate",
            ctt_path("[%s, [\"frontend\"], [\"%s\"], \"%s\", 2, 60]", r, res0, hex(sig, 65)),
            "= BadSignature(");
    inst = ctt_path("[%s, [\"backend\"], [\"%s\"], \"%s\", 2, 60]", r, res0, hex(sig, 65));
    v = args(inst);
    ct_u256_from_u64(&deposit, 1000000000000000ull);
    ctt_ok(ct_ledger_transact(cloud_abi, client, &res, &cloud, &deposit, "instantiate", v));
    json_decref(v);
    {
        const json_t *logs = json_object_get(res.receipt, "logs"), *log;
        size_t i;
        bool found = false;
        json_array_foreach (logs, i, log) {
            const char *name = NULL;
            json_t *ev = NULL;
            if (ct_ledger_decode_log(cloud_abi, &name, &ev, log) == 0 &&
                strcmp(name, "ApplicationDeployed") == 0) {
                ctt_ok(ct_address_parse(&app, json_string_value(json_object_get(ev, "app"))));
                found = true;
            }
            ct_error_clear();
            json_decref(ev);
        }
        assert_true(found);
    }
    ct_send_result_clear(&res);
    /* The same salt again: refused. */
    reverts(cloud_abi, client, &cloud, "instantiate", inst, "= SaltUsed(");

    /* Checkpoints come only from the network's leader (none yet). */
    reverts(app_abi, owner, &app, "addCheckpoint",
            "[0, 0, 1, 0, \"0x0000000000000000000000000000000000000001\"]", "= NotLeader()");
    v = read_ok(app_abi, &app, "serviceCount", "[]");
    assert_string_equal(json_string_value(json_array_get(v, 0)), "1");
    json_decref(v);
    ct_wipe(sched_key, sizeof(sched_key));
    ct_sender_free(owner);
    ct_sender_free(client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leader_elected_with_c_signatures),
        cmocka_unit_test(reservation_signed_in_c_instantiates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
