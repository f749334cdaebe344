/* Test fixtures for seed 002: a reservation signed as a cloud's scheduler
 * does, and a whole Registry + Cloud + Application deployment. */
#include "harness.h"

#include <string.h>

#include "catena/ledger.h"

void ctt_sign_reservation(uint8_t sig[65], uint8_t digest_out[32], uint64_t chain_id,
                          const ct_address *cloud, const ct_address *client, const char *tosca,
                          const char *const *services, const char *const *resources, size_t n,
                          uint64_t expiry, const char *salt, const uint8_t sched_key[32])
{
    uint8_t hash[32], domain[32], sh[32], digest[32];
    char client_text[CT_ADDRESS_TEXT_SIZE], hash_text[67];
    json_t *names = json_array(), *res = json_array(), *v;
    ct_abi_type *t = NULL;
    ct_buf enc;

    /* services = keccak256(abi.encode(string[] services, bytes32[] resources)) */
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(names, json_string(services[i]));
        json_array_append_new(res, json_string(resources[i]));
    }
    ct_buf_init(&enc, 1 << 16);
    ctt_ok(ct_abi_type_parse(&t, "(string[],bytes32[])"));
    v = json_pack("[o, o]", names, res);
    ctt_ok(ct_abi_encode(&enc, t, v));
    json_decref(v);
    ct_abi_type_free(t);
    ct_keccak256(hash, enc.data, enc.len);
    ct_buf_free(&enc);

    ct_address_format(client_text, client);
    ct_hex_encode(hash_text, sizeof(hash_text), hash, 32, true);
    v = json_pack("[s, s, s, I, s]", client_text, tosca, hash_text, (json_int_t)expiry, salt);
    ctt_ok(ct_eip712_hash_struct(sh,
                                 "Reservation(address client,bytes32 toscaHash,bytes32 services,"
                                 "uint256 expiry,bytes32 salt)",
                                 v));
    json_decref(v);
    ct_eip712_domain(domain, "CatenaCloud", "1", chain_id, cloud);
    ct_eip712_digest(digest, domain, sh);
    if (digest_out != NULL)
        memcpy(digest_out, digest, 32);
    ctt_ok(ct_eip712_sign(sig, digest, sched_key));
}

static void send_ok(const ct_ledger *l, ct_sender *s, const ct_address *to, const char *fn,
                    json_t *args, const ct_u256 *value, ct_send_result *res)
{
    if (args == NULL || ct_ledger_transact(l, s, res, to, value, fn, args) < 0)
        fail_msg("%s: %s", fn, ct_error_last());
    json_decref(args);
}

static void deploy_ok(const ct_ledger *l, ct_sender *s, json_t *args, ct_address *out)
{
    if (args == NULL || ct_ledger_deploy_with(l, s, args, out, NULL) < 0)
        fail_msg("deploy: %s", ct_error_last());
    json_decref(args);
}

static const char *addr(const ct_address *a)
{
    char buf[CT_ADDRESS_TEXT_SIZE];

    ct_address_format(buf, a);
    return ctt_path("%s", buf);
}

static void find_app(ct_address *out, const ct_ledger *cloud_abi, const ct_send_result *res)
{
    const json_t *log;
    size_t i;

    json_array_foreach (json_object_get(res->receipt, "logs"), i, log) {
        const char *name = NULL;
        json_t *ev = NULL;
        if (ct_ledger_decode_log(cloud_abi, &name, &ev, log) == 0 &&
            strcmp(name, "ApplicationDeployed") == 0) {
            ctt_ok(ct_address_parse(out, json_string_value(json_object_get(ev, "app"))));
            json_decref(ev);
            return;
        }
        ct_error_clear();
        json_decref(ev);
    }
    fail_msg("instantiate emitted no ApplicationDeployed");
}

void ctt_app_deploy(ctt_app *out, const char *url, const char *const *services, size_t n,
                    uint64_t deposit)
{
    ct_sender *owner = ctt_sender(url, ctt_dev_keys[0]);
    ct_sender *client = ctt_sender(url, ctt_dev_keys[3]);
    ct_ledger *reg_abi = NULL, *cloud_abi = NULL;
    const char *resources[16];
    const char *tosca = "0x"
                        "abababababababababababababababababababababababababababababababab";
    const char *salt = "0x"
                       "0000000000000000000000000000000000000000000000000000000000000001";
    uint8_t sched_key[32], sig[65];
    char sig_hex[140];
    ct_address sched, owners[2];
    uint64_t expiry = (uint64_t)(ct_time_now_ms() / 1000) + 3600;
    json_t *names = json_array(), *res = json_array();
    ct_send_result sent;
    ct_rpc *rpc = NULL;
    ct_u256 value;

    assert_true(n >= 1 && n <= 16);
    memset(out, 0, sizeof(*out));
    ctt_ok(ct_rpc_new(&rpc, url, 10000));
    ctt_ok(ct_rpc_chain_id(rpc, &out->chain_id));
    ct_rpc_free(rpc);
    for (int i = 0; i < 2; i++) {
        uint8_t k[32];
        size_t len;
        ctt_ok(ct_hex_decode(k, 32, &len, ctt_dev_keys[1 + i], strlen(ctt_dev_keys[1 + i])));
        ctt_ok(ct_address_from_seckey(&owners[i], k));
    }
    ctt_ok(ct_seckey_generate(sched_key));
    ctt_ok(ct_address_from_seckey(&sched, sched_key));
    ctt_ok(ct_ledger_open_contract(&reg_abi, "Registry"));
    ctt_ok(ct_ledger_open_contract(&cloud_abi, "Cloud"));

    deploy_ok(reg_abi, owner, json_pack("[i, i, i, i]", 1, 10, 1000, 500), &out->registry);
    send_ok(reg_abi, owner, &out->registry, "registerCandidate", json_pack("[s]", "http://leader"),
            NULL, NULL);
    send_ok(reg_abi, owner, &out->registry, "appointLeader",
            json_pack("[s]", addr(ct_sender_address(owner))), NULL, NULL);
    deploy_ok(cloud_abi, owner,
              json_pack("[s, s, i, s, s]", addr(&out->registry), addr(&sched), 100, "http://sched",
                        "http://plug"),
              &out->cloud);
    send_ok(reg_abi, owner, &out->registry, "registerCloud", json_pack("[s]", addr(&out->cloud)),
            NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        resources[i] = ctt_path("0x%064zx", i + 1);
        send_ok(cloud_abi, owner, &out->cloud, "registerResource",
                json_pack("[s, s, I, s]", resources[i], addr(&owners[i % 2]),
                          (json_int_t)(50 + 10 * i), services[i]),
                NULL, NULL);
        json_array_append_new(names, json_string(services[i]));
        json_array_append_new(res, json_string(resources[i]));
    }
    ctt_sign_reservation(sig, NULL, out->chain_id, &out->cloud, ct_sender_address(client), tosca,
                         services, resources, n, expiry, salt, sched_key);
    ct_hex_encode(sig_hex, sizeof(sig_hex), sig, 65, true);
    ct_u256_from_u64(&value, deposit);
    send_ok(cloud_abi, client, &out->cloud, "instantiate",
            json_pack("[[s, s, I, s], o, o, s, i, i]", addr(ct_sender_address(client)), tosca,
                      (json_int_t)expiry, salt, names, res, sig_hex, 2, 60),
            &value, &sent);
    find_app(&out->app, cloud_abi, &sent);
    ct_send_result_clear(&sent);
    ct_wipe(sched_key, sizeof(sched_key));
    ct_ledger_free(reg_abi);
    ct_ledger_free(cloud_abi);
    ct_sender_free(owner);
    ct_sender_free(client);
}
