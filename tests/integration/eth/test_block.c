/* What a block commits to, rebuilt from a real node's answers
 * (CATENA_TEST_CHAIN: anvil, or Hardhat): one block packed with 60
 * transactions of all three types (legacy EIP-155, EIP-2930 with an access
 * list, EIP-1559), a third of them emitting logs. Its header's fields
 * hash to its hash, its receipts rebuild its receiptsRoot, its
 * transactions (rebuilt from the node's objects) its transactionsRoot,
 * and the logs its logsBloom; the same holds for every block of the
 * chain. Inclusion proofs of each receipt check against the root. */
#include "harness.h"

#include "catena/ledger.h"

#define TXS 60

static ct_devnode node;
static ct_rpc *rpc;

static json_t *call(const char *method, json_t *params)
{
    json_t *out = NULL;

    ctt_ok(ct_rpc_call(rpc, &out, method, params));
    json_decref(params);
    return out;
}

/* Signs and sends tx i of the mix from dev key k with the given nonce:
 * every third one admits a new DC on the Federation at logger (a log). */
static void send_mixed(int i, int k, uint64_t nonce, const ct_address *logger, const ct_ledger *l)
{
    ct_buf data;
    json_t *args = json_pack("[s]", ctt_path("0x%040x", 0xaa00 + i));

    ct_buf_init(&data, 4096);
    ctt_ok(ct_ledger_encode_call(l, &data, "admitDatacenter", args));
    json_decref(args);
    uint8_t key[32], hash[32], *raw;
    size_t n, len;
    ct_tx tx;
    const char *type = i % 3 == 0 ? "0" : i % 3 == 1 ? "1" : "2";
    const char *fees = i % 3 == 2
                           ? "\"maxFeePerGas\":\"100000000000\",\"maxPriorityFeePerGas\":\"1\""
                           : "\"gasPrice\":\"100000000000\"";
    const char *access =
        i % 3 == 1
            ? ",\"accessList\":[{\"address\":\"0x000000000000000000000000000000000000bEEF\","
              "\"storageKeys\":[\"0x00000000000000000000000000000000000000000000000000000000000000"
              "01\"]}]"
            : "";
    json_error_t err;
    json_t *j = json_loads(ctt_path("{\"type\":%s,\"chainId\":31337,\"nonce\":%llu,\"to\":\"%s\","
                                    "\"value\":\"%d\",\"gasLimit\":300000,%s%s}",
                                    type, (unsigned long long)nonce,
                                    i % 3 == 0 ? ctt_addr(logger) : ctt_addr(ctt_dev_address(3)), i,
                                    fees, access),
                           0, &err);

    assert_non_null(j);
    ctt_ok(ct_tx_from_json(&tx, j));
    if (i % 3 == 0) { /* a call that emits a log */
        tx.data_len = data.len;
        tx.data = (uint8_t *)ct_buf_detach(&data);
    }
    ct_buf_free(&data);
    ctt_ok(ct_hex_decode(key, 32, &n, ctt_dev_keys[k], strlen(ctt_dev_keys[k])));
    ctt_ok(ct_tx_sign(&tx, key));
    ctt_ok(ct_tx_encode(&raw, &len, &tx));
    ctt_ok(ct_rpc_send_raw(rpc, hash, raw, len));
    free(raw);
    ct_tx_clear(&tx);
    json_decref(j);
}

/* Checks every commitment of block number; returns its receipt count. */
static size_t check_block(uint64_t number)
{
    json_t *block = call("eth_getBlockByNumber",
                         json_pack("[s,b]", ctt_path("0x%llx", (unsigned long long)number), 1));
    json_t *receipts = json_array();
    const json_t *tx, *r, *log;
    uint8_t *rlp, root[32], bloom[256] = {0}, key[9];
    size_t len, i, klen;
    ct_header h;
    ct_trie *rt, *tt;

    ctt_ok(ct_header_encode_json(&rlp, &len, block));
    ctt_ok(ct_header_decode(&h, rlp, len));
    free(rlp);
    ctt_assert_hex(h.hash, 32, json_string_value(json_object_get(block, "hash")), "block hash");
    assert_int_equal(h.number, number);
    ctt_ok(ct_trie_new(&rt));
    ctt_ok(ct_trie_new(&tt));
    json_array_foreach (json_object_get(block, "transactions"), i, tx)
        json_array_append_new(receipts, call("eth_getTransactionReceipt",
                                             json_pack("[O]", json_object_get(tx, "hash"))));
    assert_int_equal(json_array_size(receipts),
                     json_array_size(json_object_get(block, "transactions")));
    json_array_foreach (receipts, i, r) {
        uint8_t *enc, *raw;
        size_t elen, rlen, j;
        ct_rlp_writer w;
        ct_tx t;
        ct_rlp_writer_init(&w, key, sizeof(key));
        ct_rlp_put_uint(&w, i);
        ctt_ok(ct_rlp_finish(&w, &klen));
        ctt_ok(ct_receipt_encode_json(&enc, &elen, r));
        ctt_ok(ct_trie_put(rt, key, klen, enc, elen));
        free(enc);
        tx = json_array_get(json_object_get(block, "transactions"), i);
        ctt_ok(ct_tx_from_rpc_json(&t, tx));
        ctt_ok(ct_tx_encode(&raw, &rlen, &t));
        ct_tx_clear(&t);
        uint8_t th[32];
        ct_keccak256(th, raw, rlen);
        ctt_assert_hex(th, 32, json_string_value(json_object_get(tx, "hash")), "tx hash");
        ctt_ok(ct_trie_put(tt, key, klen, raw, rlen));
        free(raw);
        json_array_foreach (json_object_get(r, "logs"), j, log) {
            uint8_t a[20], topic[32];
            size_t n;
            const char *addr = json_string_value(json_object_get(log, "address"));
            ctt_ok(ct_hex_decode(a, 20, &n, addr, strlen(addr)));
            ct_bloom_add(bloom, a, 20);
            for (size_t k = 0; k < json_array_size(json_object_get(log, "topics")); k++) {
                const char *ts =
                    json_string_value(json_array_get(json_object_get(log, "topics"), k));
                ctt_ok(ct_hex_decode(topic, 32, &n, ts, strlen(ts)));
                ct_bloom_add(bloom, topic, 32);
            }
        }
    }
    ctt_ok(ct_trie_root(rt, root));
    assert_memory_equal(root, h.receipts_root, 32);
    ctt_ok(ct_trie_root(tt, root));
    /* Hardhat's genesis names keccak256("") as its transactionsRoot, not
     * the empty trie's root (its other blocks are right). No VC is ever
     * registered in a genesis block. */
    if (!(number == 0 && ctt_chain_kind() == CT_CHAIN_HARDHAT))
        assert_memory_equal(root, h.tx_root, 32);
    assert_memory_equal(bloom, h.bloom, 256);
    /* Each receipt's inclusion proof checks against the header. */
    for (i = 0; i < json_array_size(receipts); i++) {
        ct_bytes *nodes;
        size_t n, vl;
        const uint8_t *v;
        ct_rlp_writer w;
        ct_rlp_writer_init(&w, key, sizeof(key));
        ct_rlp_put_uint(&w, i);
        ctt_ok(ct_rlp_finish(&w, &klen));
        ctt_ok(ct_trie_prove(rt, &nodes, &n, key, klen));
        ctt_ok(ct_trie_verify(&v, &vl, h.receipts_root, key, klen, nodes, n));
        ct_trie_proof_free(nodes, n);
    }
    ct_trie_free(rt);
    ct_trie_free(tt);
    size_t count = json_array_size(receipts);
    json_decref(block);
    json_decref(receipts);
    return count;
}

static void a_packed_block_and_every_block(void **state)
{
    ct_ledger *l;
    ct_sender *admin;
    ct_address fed;
    uint64_t at, nonce[3], head;

    (void)state;
    ctt_node_start(&node);
    ctt_ok(ct_rpc_new(&rpc, node.url, 30000));
    /* The Federation emits DatacenterAdmitted on each admitDatacenter. */
    ctt_ok(ct_ledger_open(&l));
    admin = ctt_sender(node.url, ctt_dev_keys[0]);
    ctt_ok(ct_ledger_deploy(l, admin, false, &fed, &at));
    ct_sender_free(admin);
    for (int k = 0; k < 3; k++)
        ctt_ok(ct_rpc_get_tx_count(rpc, &nonce[k], ctt_dev_address(k), "latest"));
    json_decref(call("evm_setAutomine", json_pack("[b]", 0)));
    /* Only the admin may admit: logs come from key 0's calls; keys 1 and
     * 2 send plain transfers of each type. */
    for (int i = 0; i < TXS; i++) {
        int k = i % 3 == 0 ? 0 : 1 + i % 2;
        send_mixed(i, k, nonce[k]++, &fed, l);
    }
    json_decref(call(ctt_chain_kind() == CT_CHAIN_HARDHAT ? "hardhat_mine" : "anvil_mine",
                     json_pack("[i]", 1)));
    json_decref(call("evm_setAutomine", json_pack("[b]", 1)));
    ctt_ok(ct_rpc_block_number(rpc, &head));
    assert_int_equal(check_block(head), TXS);
    for (uint64_t n = 0; n < head; n++)
        check_block(n);
    ct_ledger_free(l);
    ct_rpc_free(rpc);
    ctt_node_stop(&node);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_packed_block_and_every_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
