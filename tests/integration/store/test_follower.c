/* The follower and the cache against a real Hardhat node: the seed's flow
 * (two DCs, Listing 5's VM, availability, migration DC1 -> DC2, a batch
 * and a retirement) read back in the wire format, then a reindex, a
 * restart and two reorganisations (same height and shorter) made with
 * evm_snapshot / evm_revert, each compared with a cache built from
 * scratch. The tests run in order and share the chain. */
#include "harness.h"

#include "catena/ledger.h"
#include "catena/store.h"

static ct_devnode node;
static ct_ledger *ledger;
static ct_rpc *rpc;

/* Hardhat dev accounts #0 (admin), #1 (DC1), #2 (DC2). */
#define VM_ID "b55f090c-67f0-4691-a736-104ebe82c2e9"
#define VM_NEW_ID "c55f090c-67f0-4784-a736-215ebeb2c2e9"

/* What a mined transaction looks like on the chain, as text. */
typedef struct txinfo {
    char hash[67];
    uint64_t block;
    char block_hash[67];
    char time[CT_TIME_ISO8601_SIZE];
} txinfo;

/* State shared by the tests, in order. */
static struct {
    ct_address contract;
    uint64_t from_block;
    char contract_text[CT_ADDRESS_TEXT_SIZE];
    char dc1[CT_ADDRESS_TEXT_SIZE], dc2[CT_ADDRESS_TEXT_SIZE];
    uint8_t tag[32];
    char tag_hex[67];
    uint8_t batch_tags[3][32];
    char batch_hex[3][67];
    const char *path;
} g;

static int setup(void **state)
{
    (void)state;
    ctt_node_start(&node);
    if (ct_ledger_open(&ledger) < 0 || ct_rpc_new(&rpc, node.url, 10000) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ct_rpc_free(rpc);
    ct_ledger_free(ledger);
    ctt_node_stop(&node);
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static ct_sender *sender(int i)
{
    return ctt_sender(node.url, ctt_dev_keys[i]);
}

static void block_time(char out[CT_TIME_ISO8601_SIZE], uint64_t number)
{
    char tag[24];
    json_t *b;
    uint64_t t;

    snprintf(tag, sizeof(tag), "0x%llx", (unsigned long long)number);
    ctt_ok(ct_rpc_get_block_by_number(rpc, &b, tag, false));
    ctt_ok(ct_quantity_parse_u64(&t, json_object_get(b, "timestamp")));
    ctt_ok(ct_time_format(out, (int64_t)t * 1000));
    json_decref(b);
}

/* Calls function(args as JSON text) from s and expects success. */
static void send_ok(ct_sender *s, const char *function, const char *args_json, txinfo *info)
{
    ct_send_result res;

    ctt_ledger_send(ledger, s, &g.contract, function, args_json, true, &res);
    if (info != NULL) {
        ct_hex_encode(info->hash, sizeof(info->hash), res.hash, 32, true);
        info->block = res.block;
        snprintf(info->block_hash, sizeof(info->block_hash), "%s",
                 json_string_value(json_object_get(res.receipt, "blockHash")));
        block_time(info->time, res.block);
    }
    ct_send_result_clear(&res);
}

static json_t *node_call(const char *method, json_t *params)
{
    json_t *res;
    ctt_ok(ct_rpc_call(rpc, &res, method, params));
    json_decref(params);
    return res;
}

static uint64_t poll(ct_follower *f)
{
    uint64_t n;
    ctt_ok(ct_follower_poll(f, &n));
    return n;
}

static char *dump(ct_store *s)
{
    char *d;
    ctt_ok(ct_store_dump(s, &d));
    return d;
}

static void expect_same_dump(const char *a, const char *b, const char *what)
{
    if (strcmp(a, b) != 0)
        fail_msg("%s: dumps differ\n--- have\n%s--- want\n%s", what, a, b);
}

/* A cache built from scratch on the current chain. Out: its dump. */
static char *fresh_dump(void)
{
    ct_store *s;
    ct_follower *f;
    char *d;

    ctt_ok(ct_store_open(&s, ":memory:"));
    ctt_ok(ct_follower_new(&f, s, ledger, node.url, &g.contract, g.from_block, NULL));
    poll(f);
    d = dump(s);
    ct_follower_free(f);
    ct_store_close(s);
    return d;
}

static void open_cache(ct_store **s, ct_follower **f)
{
    ctt_ok(ct_store_open(s, g.path));
    ctt_ok(ct_follower_new(f, *s, ledger, node.url, &g.contract, g.from_block, NULL));
}

/* ---------------------------------------------------------------- seed flow */

static void deploy_and_register(ct_sender *admin, ct_sender *dc1, ct_sender *dc2, txinfo *r_dc1,
                                txinfo *r_dc2, txinfo *r_vm)
{
    g.path = ctt_path("%s/cache.db", ctt_tmpdir());
    ctt_ok(ct_ledger_deploy(ledger, admin, true, &g.contract, &g.from_block));
    ct_address_format(g.contract_text, &g.contract);
    ct_address_format(g.dc1, ct_sender_address(dc1));
    ct_address_format(g.dc2, ct_sender_address(dc2));
    send_ok(dc1, "registerDatacenter", "[\"DC1\"]", r_dc1);
    send_ok(dc2, "registerDatacenter", "[\"DC2\"]", r_dc2);
    send_ok(dc1, "registerContainer",
            "[\"openstack:vm\", true, 1, 1024, 10, \"" VM_ID "\", \"http://10.0.9.39\", "
            "\"http://10.0.9.2\", 1536677183]",
            r_vm);
    ct_ledger_vc_tag(g.tag, "openstack:vm", VM_ID, ct_sender_address(dc1), 1536677183);
    ct_hex_encode(g.tag_hex, sizeof(g.tag_hex), g.tag, 32, true);
}

static void check_pending_while_pending(ct_store *s)
{
    char want[512];
    json_t *v;

    ctt_ok(ct_store_vc_pending(s, &v, g.tag));
    snprintf(want, sizeof(want),
             "{\"vc_tag\":\"%s\",\"from_address\":\"%s\",\"to_address\":\"%s\",\"price\":5,"
             "\"invoice\":13}",
             g.tag_hex, g.dc1, g.dc2);
    ctt_expect_json(v, want);
    json_decref(v);
}

static void batch_and_retire(ct_sender *dc1, txinfo *r_batch)
{
    char args[128];

    send_ok(dc1, "registerContainers",
            "[[[\"docker:container\", true, 2, 2048, 20, \"c-0\", \"http://10.1.0.2\", "
            "\"http://10.1.0.1\", 1700000000],"
            "[\"docker:container\", true, 2, 2048, 20, \"c-1\", \"http://10.1.0.3\", "
            "\"http://10.1.0.1\", 1700000001],"
            "[\"docker:container\", false, 4, 4096, 40, \"c-2\", \"http://10.1.0.4\", "
            "\"http://10.1.0.1\", 1700000002]]]",
            r_batch);
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof(id), "c-%d", i);
        ct_ledger_vc_tag(g.batch_tags[i], "docker:container", id, ct_sender_address(dc1),
                         1700000000 + (uint64_t)i);
        ct_hex_encode(g.batch_hex[i], 67, g.batch_tags[i], 32, true);
    }
    snprintf(args, sizeof(args), "[\"%s\", 1700000100]", g.batch_hex[0]);
    send_ok(dc1, "retireContainer", args, NULL);
}

static void check_registration_reads(ct_store *s, const txinfo *r_vm, const txinfo *r_batch)
{
    char want[1024];
    uint8_t tx[32];
    size_t len;
    json_t *v;

    ctt_ok(ct_hex_decode(tx, 32, &len, r_vm->hash, 66));
    ctt_ok(ct_store_vc_tag_by_tx(s, &v, tx));
    snprintf(want, sizeof(want),
             "{\"vc_tag\":\"%s\",\"owner\":\"%s\",\"created\":\"2018-09-11T14:46:23.000Z\","
             "\"block_number\":%llu,\"block_hash\":\"%s\"}",
             g.tag_hex, g.dc1, (unsigned long long)r_vm->block, r_vm->block_hash);
    ctt_expect_json(v, want);
    json_decref(v);

    ctt_ok(ct_hex_decode(tx, 32, &len, r_batch->hash, 66));
    ctt_ok(ct_store_vc_tag_by_tx(s, &v, tx));
    snprintf(want, sizeof(want), "[\"%s\",\"%s\",\"%s\"]", g.batch_hex[0], g.batch_hex[1],
             g.batch_hex[2]);
    ctt_expect_json(json_object_get(v, "vc_tags"), want);
    assert_string_equal(json_string_value(json_object_get(v, "vc_tag")), g.batch_hex[0]);
    assert_string_equal(json_string_value(json_object_get(v, "created")),
                        "2023-11-14T22:13:20.000Z");
    json_decref(v);

    ctt_ok(ct_store_vc_flavor(s, &v, g.tag));
    ctt_expect_json(v, "{\"vcpu\":1,\"vram\":1024,\"vdisk\":10}");
    json_decref(v);
}

static void check_vc_reads(ct_store *s, const txinfo *r_av2)
{
    char want[1024];
    json_t *v, *list;

    ctt_ok(ct_store_vc_details(s, &v, g.tag));
    snprintf(want, sizeof(want),
             "{\"vc_type\":\"openstack:vm\",\"available\":true,\"id\":\"" VM_NEW_ID "\","
             "\"ip_address\":\"http://10.9.0.12\",\"controller\":\"http://10.9.0.1\","
             "\"host\":\"%s\",\"owner\":\"%s\",\"updated\":\"%s\","
             "\"created\":\"2018-09-11T14:46:23.000Z\",\"vc_tag\":\"%s\",\"retired\":false}",
             g.dc2, g.dc1, r_av2->time, g.tag_hex);
    ctt_expect_json(v, want);
    ct_address dc2;
    ctt_ok(ct_store_dc_by_name(s, &dc2, "DC2"));
    ctt_ok(ct_store_vc_list(s, &list, &(ct_store_vc_filter){&dc2, -1, NULL, 0, 0}));
    assert_int_equal(json_array_size(list), 1);
    assert_true(json_equal(json_array_get(list, 0), v));
    json_decref(list);
    json_decref(v);

    ctt_ok(ct_store_vc_pending(s, &v, g.tag));
    ctt_expect_json(
        v, "{\"vc_tag\":\"0x0000000000000000000000000000000000000000000000000000000000000000"
           "\",\"from_address\":\"0x0000000000000000000000000000000000000000\","
           "\"to_address\":\"0x0000000000000000000000000000000000000000\",\"price\":0,"
           "\"invoice\":0}");
    json_decref(v);

    ctt_ok(ct_store_vc_details(s, &v, g.batch_tags[0]));
    assert_true(json_is_true(json_object_get(v, "retired")));
    assert_true(json_is_false(json_object_get(v, "available")));
    json_decref(v);
    ctt_ok(
        ct_store_vc_list(s, &list, &(ct_store_vc_filter){NULL, 1, NULL, 0, 0})); /* the VM, c-1 */
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
}

static void check_dc_reads(ct_store *s, const txinfo *r_dc1, const txinfo *r_dc2)
{
    char want[1024];
    ct_address dc1;
    json_t *v;

    ctt_ok(ct_address_parse(&dc1, g.dc1));
    ctt_ok(ct_store_dc_by_wallet(s, &v, &dc1));
    snprintf(want, sizeof(want), "{\"name\":\"DC1\",\"wallet\":\"%s\",\"registered\":true}", g.dc1);
    ctt_expect_json(v, want);
    json_decref(v);
    ctt_ok(ct_store_dc_list(s, &v));
    snprintf(want, sizeof(want),
             "[{\"name\":\"DC1\",\"wallet\":\"%s\",\"registered\":true,\"registered_at\":\"%s\","
             "\"containers\":2},{\"name\":\"DC2\",\"wallet\":\"%s\",\"registered\":true,"
             "\"registered_at\":\"%s\",\"containers\":1}]",
             g.dc1, r_dc1->time, g.dc2, r_dc2->time);
    ctt_expect_json(v, want);
    json_decref(v);
}

static void check_history(ct_store *s, const txinfo *r_vm, const txinfo *r_mig)
{
    static const char *const names[] = {"ContainerRegistered", "ContainerAvailabilityChanged",
                                        "ContainerMigrationPending", "ContainerMigrated",
                                        "ContainerAvailabilityChanged"};
    char want[2048];
    json_t *v;

    ctt_ok(ct_store_vc_history(s, &v, g.tag));
    assert_int_equal(json_array_size(v), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *e = json_array_get(v, i);
        assert_string_equal(json_string_value(json_object_get(e, "name")), names[i]);
        assert_int_equal(json_integer_value(json_object_get(e, "id")), 3 + i);
    }
    snprintf(want, sizeof(want),
             "{\"id\":3,\"name\":\"ContainerRegistered\",\"args\":{\"vcTag\":\"%s\","
             "\"timestamp\":\"2018-09-11T14:46:23.000Z\",\"owner\":\"%s\",\"vcType\":"
             "\"openstack:vm\",\"id\":\"" VM_ID "\",\"ipAddress\":\"http://10.0.9.39\","
             "\"controller\":\"http://10.0.9.2\",\"vcpu\":1,\"vram\":1024,\"vdisk\":10,"
             "\"available\":true},\"log_index\":0,\"tx_index\":0,\"tx_hash\":\"%s\","
             "\"block_number\":%llu,\"block_hash\":\"%s\",\"address\":\"%s\",\"created\":\"%s\"}",
             g.tag_hex, g.dc1, r_vm->hash, (unsigned long long)r_vm->block, r_vm->block_hash,
             g.contract_text, r_vm->time);
    ctt_expect_json(json_array_get(v, 0), want);
    snprintf(want, sizeof(want),
             "{\"vcTag\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"id\":\"" VM_NEW_ID "\","
             "\"ipAddress\":\"http://10.9.0.12\",\"controller\":\"http://10.9.0.1\",\"price\":5,"
             "\"invoice\":13,\"timestamp\":\"2018-09-13T09:48:48.000Z\"}",
             g.tag_hex, g.dc1, g.dc2);
    ctt_expect_json(json_object_get(json_array_get(v, 3), "args"), want);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 3), "tx_hash")),
                        r_mig->hash);
    json_decref(v);
}

static void check_timeline(ct_store *s)
{
    static const int kinds[] = {CT_AVAIL_REGISTERED, CT_AVAIL_DOWN, CT_AVAIL_MIGRATION_START,
                                CT_AVAIL_MIGRATION_END, CT_AVAIL_UP};
    ct_avail_change *tl;
    size_t n;

    ctt_ok(ct_store_vc_timeline(s, &tl, &n, g.tag));
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tl[i].kind, kinds[i]);
    assert_int_equal(tl[1].time_ms, 1536829690000LL);
    assert_false(tl[1].available);
    char host[CT_ADDRESS_TEXT_SIZE], peer[CT_ADDRESS_TEXT_SIZE];
    ct_address_format(host, &tl[3].host);
    ct_address_format(peer, &tl[3].peer);
    assert_string_equal(host, g.dc2);
    assert_string_equal(peer, g.dc1);
    ct_address_format(host, &tl[4].host);
    assert_string_equal(host, g.dc2);
    assert_true(tl[4].available);
    free(tl);
}

static void seed_flow(void **state)
{
    ct_sender *admin = sender(0), *dc1 = sender(1), *dc2 = sender(2);
    txinfo r_dc1, r_dc2, r_vm, r_mig, r_av2, r_batch;
    ct_store *s;
    ct_follower *f;
    char args[512];
    (void)state;

    deploy_and_register(admin, dc1, dc2, &r_dc1, &r_dc2, &r_vm);
    snprintf(args, sizeof(args), "[\"%s\", false, 1536829690]", g.tag_hex);
    send_ok(dc1, "changeAvailability", args, NULL);
    snprintf(args, sizeof(args), "[\"%s\", \"%s\", 5, 13, 1536830928]", g.tag_hex, g.dc2);
    send_ok(dc1, "migrationPending", args, NULL);

    open_cache(&s, &f);
    assert_int_equal(poll(f), 5);
    assert_int_equal(poll(f), 0);
    check_pending_while_pending(s);

    snprintf(args, sizeof(args),
             "[\"%s\", \"" VM_NEW_ID "\", \"http://10.9.0.12\", \"http://10.9.0.1\", 5, 13, "
             "1536832128]",
             g.tag_hex);
    send_ok(dc2, "migrateContainer", args, &r_mig);
    snprintf(args, sizeof(args), "[\"%s\", true, 1536832200]", g.tag_hex);
    send_ok(dc2, "changeAvailability", args, &r_av2);
    batch_and_retire(dc1, &r_batch);
    assert_int_equal(poll(f), 6);

    check_registration_reads(s, &r_vm, &r_batch);
    check_vc_reads(s, &r_av2);
    check_dc_reads(s, &r_dc1, &r_dc2);
    check_history(s, &r_vm, &r_mig);
    check_timeline(s);

    uint64_t head, processed, chain_head;
    ctt_ok(ct_follower_lag(f, &head, &processed));
    ctt_ok(ct_rpc_block_number(rpc, &chain_head));
    assert_int_equal(processed, chain_head);
    assert_int_equal(head, chain_head);
    ct_follower_free(f);
    ct_store_close(s);
    ct_sender_free(admin);
    ct_sender_free(dc1);
    ct_sender_free(dc2);
}

/* ---------------------------------------------------------------- reindex, restart */

static void reindex_and_restart(void **state)
{
    ct_store *s;
    ct_follower *f;
    ct_store_info info;
    char *before, *after, *fresh;
    (void)state;

    /* Restart: reopening the file catches up with nothing to do, and the
     * lag is known before the first poll. */
    uint64_t processed, chain_head;
    open_cache(&s, &f);
    ctt_ok(ct_follower_lag(f, NULL, &processed));
    ctt_ok(ct_rpc_block_number(rpc, &chain_head));
    assert_int_equal(processed, chain_head);
    before = dump(s);
    assert_int_equal(poll(f), 0);
    after = dump(s);
    expect_same_dump(after, before, "restart");
    free(after);

    /* A cache built from scratch on the same chain is identical. */
    fresh = fresh_dump();
    expect_same_dump(fresh, before, "fresh reindex");

    /* --reindex on the same file: reset, then the follower rebuilds it. */
    ctt_ok(ct_store_reset(s));
    ctt_ok(ct_store_get_info(s, &info));
    assert_int_equal(info.events, 0);
    assert_int_equal(poll(f), 11);
    after = dump(s);
    expect_same_dump(after, before, "reindex in place");
    ctt_ok(ct_store_get_info(s, &info));
    assert_int_equal(info.events, 11);

    /* A cache made for another contract is refused until reset. */
    ct_follower *other;
    ct_address elsewhere = g.contract;
    elsewhere.b[19] ^= 1;
    ctt_ok(ct_follower_new(&other, s, ledger, node.url, &elsewhere, g.from_block, NULL));
    assert_int_equal(ct_follower_poll(other, NULL), CT_ESTATE);
    ct_follower_free(other);

    free(before);
    free(after);
    free(fresh);
    ct_follower_free(f);
    ct_store_close(s);
}

/* ---------------------------------------------------------------- reorganisations */

static char *snapshot(void)
{
    json_t *id = node_call("evm_snapshot", NULL);
    char *copy = strdup(json_string_value(id));
    json_decref(id);
    return copy;
}

static void revert(char *id)
{
    json_t *ok = node_call("evm_revert", json_pack("[s]", id));
    assert_true(json_is_true(ok));
    json_decref(ok);
    free(id);
}

static void mine(void)
{
    json_decref(node_call("evm_mine", json_array()));
}

static void reorg_same_height(void **state)
{
    ct_store *s;
    ct_follower *f;
    ct_follower_stats st;
    txinfo r_a2;
    uint64_t h1, h2;
    uint8_t tag_a[32], tx[32];
    size_t len;
    json_t *v;
    char args[256], *have, *fresh;
    (void)state;

    open_cache(&s, &f);
    assert_int_equal(poll(f), 0);
    char *snap = snapshot();
    ct_sender *dc1 = sender(1), *dc2 = sender(2);
    snprintf(args, sizeof(args), "[\"%s\", false, 1536900100]", g.tag_hex);
    send_ok(dc2, "changeAvailability", args, NULL);
    send_ok(dc1, "registerContainer",
            "[\"openstack:vm\", true, 1, 512, 5, \"reorg-vm\", \"http://10.0.9.50\", "
            "\"http://10.0.9.2\", 1536900200]",
            &r_a2);
    snprintf(args, sizeof(args), "[\"%s\", 1536900300]", g.batch_hex[1]);
    send_ok(dc1, "retireContainer", args, NULL);
    ct_ledger_vc_tag(tag_a, "openstack:vm", "reorg-vm", ct_sender_address(dc1), 1536900200);
    assert_int_equal(poll(f), 3);
    ctt_ok(ct_store_vc_history(s, &v, tag_a));
    json_decref(v);
    ctt_ok(ct_rpc_block_number(rpc, &h1));
    ct_sender_free(dc1);
    ct_sender_free(dc2);

    /* Three other blocks at the same heights. */
    revert(snap);
    dc1 = sender(1);
    send_ok(dc1, "registerContainer",
            "[\"openstack:vm\", true, 1, 512, 5, \"other-vm\", \"http://10.0.9.51\", "
            "\"http://10.0.9.2\", 1536900400]",
            NULL);
    mine();
    mine();
    ctt_ok(ct_rpc_block_number(rpc, &h2));
    assert_int_equal(h1, h2);
    assert_int_equal(poll(f), 1);
    ct_follower_get_stats(f, &st);
    assert_int_equal(st.reorgs, 1);
    assert_int_equal(st.rewound_events, 3);

    /* The reverted events are gone, their effects undone. */
    assert_int_equal(ct_store_vc_history(s, &v, tag_a), CT_ENOTFOUND);
    ctt_ok(ct_hex_decode(tx, 32, &len, r_a2.hash, 66));
    assert_int_equal(ct_store_vc_tag_by_tx(s, &v, tx), CT_ENOTFOUND);
    ctt_ok(ct_store_vc_details(s, &v, g.tag));
    assert_true(json_is_true(json_object_get(v, "available")));
    json_decref(v);
    ctt_ok(ct_store_vc_details(s, &v, g.batch_tags[1]));
    assert_true(json_is_false(json_object_get(v, "retired")));
    json_decref(v);

    have = dump(s);
    fresh = fresh_dump();
    expect_same_dump(have, fresh, "after a reorganisation");
    free(have);
    free(fresh);
    ct_sender_free(dc1);
    ct_follower_free(f);
    ct_store_close(s);
}

static void reorg_shorter_chain(void **state)
{
    ct_store *s;
    ct_follower *f;
    ct_follower_stats st;
    uint64_t h1, h2, processed;
    char args[256], *have, *fresh;
    (void)state;

    open_cache(&s, &f);
    assert_int_equal(poll(f), 0);
    char *snap = snapshot();
    ct_sender *dc2 = sender(2);
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof(args), "[\"%s\", %s, %d]", g.tag_hex, i % 2 ? "true" : "false",
                 1536900500 + i);
        send_ok(dc2, "changeAvailability", args, NULL);
    }
    assert_int_equal(poll(f), 3);
    ctt_ok(ct_rpc_block_number(rpc, &h1));
    ct_sender_free(dc2);

    /* The new chain is two blocks shorter than what was processed. */
    revert(snap);
    mine();
    ctt_ok(ct_rpc_block_number(rpc, &h2));
    assert_int_equal(h2 + 2, h1);
    assert_int_equal(poll(f), 0);
    ct_follower_get_stats(f, &st);
    assert_int_equal(st.reorgs, 1);
    assert_int_equal(st.rewound_events, 3);
    ctt_ok(ct_follower_lag(f, NULL, &processed));
    assert_int_equal(processed, h2);

    have = dump(s);
    fresh = fresh_dump();
    expect_same_dump(have, fresh, "after a shorter chain");
    free(have);
    free(fresh);
    ct_follower_free(f);
    ct_store_close(s);
}

/* The node is replaced by one serving another chain (a new empty node
 * on the same URL would look the same): the follower refuses it and the
 * cache is kept as it was, instead of being rewound to nothing. */
static void replaced_chain(void **state)
{
    ct_store *s;
    ct_follower *f;
    ct_devnode other;
    char *before, *after;
    (void)state;

    open_cache(&s, &f);
    assert_int_equal(poll(f), 0);
    before = dump(s);
    ct_follower_free(f);
    ct_sleep_ms(1100); /* anvil's genesis carries its start time */
    ctt_node_start(&other);
    ctt_ok(ct_follower_new(&f, s, ledger, other.url, &g.contract, g.from_block, NULL));
    assert_int_equal(ct_follower_poll(f, NULL), CT_ESTATE);
    assert_non_null(strstr(ct_error_last(), "another chain"));
    after = dump(s);
    expect_same_dump(before, after, "after a poll of another chain");
    free(after);
    ct_follower_free(f);
    ctt_node_stop(&other);
    /* The right chain back: the follower goes on as before. */
    ctt_ok(ct_follower_new(&f, s, ledger, node.url, &g.contract, g.from_block, NULL));
    assert_int_equal(poll(f), 0);
    ct_follower_free(f);
    ct_store_close(s);
    free(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_flow),         cmocka_unit_test(reindex_and_restart),
        cmocka_unit_test(reorg_same_height), cmocka_unit_test(reorg_shorter_chain),
        cmocka_unit_test(replaced_chain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
