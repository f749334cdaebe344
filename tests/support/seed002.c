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
    ctt_ok(ct_ledger_sign_reservation(sig, digest_out, chain_id, cloud, client, tosca, services,
                                      resources, n, expiry, salt, sched_key));
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

const char *ctt_addr(const ct_address *a)
{
    char buf[CT_ADDRESS_TEXT_SIZE];

    ct_address_format(buf, a);
    return ctt_path("%s", buf);
}

const ct_address *ctt_dev_address(int i)
{
    static ct_address a[4];
    uint8_t k[32];
    size_t len;

    assert_true(i >= 0 && i < 4);
    ctt_ok(ct_hex_decode(k, 32, &len, ctt_dev_keys[i], strlen(ctt_dev_keys[i])));
    ctt_ok(ct_address_from_seckey(&a[i], k));
    return &a[i];
}

uint64_t ctt_json_u64(const json_t *v)
{
    uint64_t n = 0;

    if (json_is_integer(v))
        return (uint64_t)json_integer_value(v);
    ctt_ok(ct_parse_uint(&n, json_string_value(v), UINT64_MAX));
    return n;
}

json_t *ctt_can_status(const char *url)
{
    json_t *out = NULL;
    long st = ctt_http_timed(&out, NULL, "GET", ctt_path("%s/can/status", url), NULL, NULL, 5000);

    if (st != 200) {
        json_decref(out);
        return NULL;
    }
    return out;
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
            json_pack("[s]", ctt_addr(ct_sender_address(owner))), NULL, NULL);
    deploy_ok(cloud_abi, owner,
              json_pack("[s, s, i, s, s]", ctt_addr(&out->registry), ctt_addr(&sched), 100,
                        "http://sched", "http://plug"),
              &out->cloud);
    send_ok(reg_abi, owner, &out->registry, "registerCloud",
            json_pack("[s]", ctt_addr(&out->cloud)), NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        resources[i] = ctt_path("0x%064zx", i + 1);
        send_ok(cloud_abi, owner, &out->cloud, "registerResource",
                json_pack("[s, s, I, s]", resources[i], ctt_addr(&owners[i % 2]),
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
            json_pack("[[s, s, I, s], o, o, s, i, i]", ctt_addr(ct_sender_address(client)), tosca,
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

json_t *ctt_app_show(const char *rpc, const char *app)
{
    const char *args[] = {"app", "show", app, "--rpc", rpc, "--json", NULL};
    json_t *out = NULL;
    ctt_run r;

    ctt_catena(&r, args);
    if (ctt_exit_code(&r) != 0)
        fail_msg("catena app show: %s", r.err);
    ctt_ok(ct_json_parse(&out, r.out, strlen(r.out), 16));
    ctt_run_free(&r);
    return out;
}
