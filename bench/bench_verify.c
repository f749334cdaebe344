/* catena verify's cost: for a VC with 10, 100 and 1,000 events spread over
 * 10,000 blocks on an anvil node this program starts and stops, the time
 * to collect the evidence from the node, the time to check it, and the
 * bundle's size. Its reference, in the same run: a client that trusts the
 * node and only fetches the VC's logs with one eth_getLogs over the same
 * range. Then the receipts trie: its root rebuilt in C for a block of
 * 200 receipts, beside the node answering that block's header (which
 * carries its receiptsRoot).
 *   bench_verify [blocks]     prints JSON lines (default 10,000 blocks) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catena/ledger.h"
#include "catena/verify.h"

#include "bench_common.h"

#define DEV_KEY0 "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define DEV_KEY1 "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
/* Best of this many rounds of each timing (the machine is shared). */
#define ROUNDS 3

static ct_devnode node;
static ct_ledger *ledger;
static ct_address contract;
static ct_rpc *rpc;

static int die(const char *what)
{
    bench_node_die("bench_verify", &node, what);
}

static ct_sender *sender(const char *hex)
{
    return bench_node_sender("bench_verify", &node, hex);
}

/* Sends function(args) and waits for it. Out: res->receipt. */
static void send(ct_sender *s, const char *function, const char *args_json, ct_send_result *res)
{
    json_t *args;
    ct_buf data;

    ct_buf_init(&data, 1 << 20);
    if (ct_json_parse(&args, args_json, strlen(args_json), 16) < 0 ||
        ct_ledger_encode_call(ledger, &data, function, args) < 0)
        die(function);
    ct_send_req req = {.to = &contract, .data = (uint8_t *)data.data, .data_len = data.len};
    if (ct_sender_send(s, res, &req, true) < 0) {
        char *r = res->receipt ? json_dumps(res->receipt, JSON_COMPACT) : NULL;
        fprintf(stderr, "receipt: %s\n", r ? r : "none");
        die(function);
    }
    ct_buf_free(&data);
    json_decref(args);
}

static void call(const char *method, json_t *params)
{
    json_t *out = NULL;

    if (ct_rpc_call(rpc, &out, method, params) < 0)
        die(method);
    json_decref(out);
    json_decref(params);
}

/* Registers a VC at block *at and changes its availability events - 1
 * times, the changes spread evenly over blocks empty blocks.
 * Out: tag. Returns: the first block. */
static uint64_t make_vc(ct_sender *dc, uint8_t tag[32], long events, uint64_t blocks, long id)
{
    char args[512];
    ct_send_result res;
    uint64_t first;
    size_t n;

    snprintf(args, sizeof(args),
             "[\"openstack:vm\", true, 1, 512, 5, \"vm-%ld\", \"http://10.0.0.1\", "
             "\"http://10.0.0.2\", %ld]",
             id, 1700000000 + id);
    send(dc, "registerContainer", args, &res);
    first = res.block;
    const char *t1 = json_string_value(json_array_get(
        json_object_get(json_array_get(json_object_get(res.receipt, "logs"), 0), "topics"), 1));
    if (t1 == NULL || ct_hex_decode(tag, 32, &n, t1, strlen(t1)) < 0)
        die("tag");
    ct_send_result_clear(&res);
    uint64_t gap = events > 1 ? blocks / (uint64_t)events : blocks;
    for (long i = 1; i < events; i++) {
        char hex[67];
        if (gap > 1)
            call("anvil_mine", json_pack("[I]", (json_int_t)(gap - 1)));
        ct_hex_encode(hex, sizeof(hex), tag, 32, true);
        snprintf(args, sizeof(args), "[\"%s\", %s, %ld]", hex, i % 2 ? "false" : "true",
                 1700000000 + id + i);
        send(dc, "changeAvailability", args, &res);
        ct_send_result_clear(&res);
    }
    if (gap > 1) /* the range then spans about `blocks` blocks */
        call("anvil_mine", json_pack("[I]", (json_int_t)(gap - 1)));
    return first;
}

/* The reference: one eth_getLogs for the VC's events over the range. */
static double get_logs_s(const uint8_t tag[32], uint64_t from, uint64_t head, size_t *count)
{
    json_t *logs = NULL,
           *filter = json_pack("[{s:o,s:[n,o],s:o,s:o}]", "address", ct_json_hex(contract.b, 20),
                               "topics", ct_json_hex(tag, 32), "fromBlock",
                               json_sprintf("0x%llx", (unsigned long long)from), "toBlock",
                               json_sprintf("0x%llx", (unsigned long long)head));
    double t0 = bench_now_s();

    if (ct_rpc_call(rpc, &logs, "eth_getLogs", filter) < 0)
        die("eth_getLogs");
    double s = bench_now_s() - t0;
    *count = json_array_size(logs);
    json_decref(logs);
    json_decref(filter);
    return s;
}

static void bench_vc(ct_sender *dc, long events, uint64_t blocks, long id)
{
    uint8_t tag[32];
    uint64_t from = make_vc(dc, tag, events, blocks, id), head;
    double collect_s = 1e9, check_s = 1e9, ref_s = 1e9;
    ct_store_decoder *dec;
    size_t bytes = 0, logs = 0;

    if (ct_rpc_block_number(rpc, &head) < 0 || ct_store_decoder_new(&dec, ledger) < 0)
        die("head");
    for (int r = 0; r < ROUNDS; r++) {
        json_t *bundle, *report;
        double t0 = bench_now_s();
        if (ct_verify_collect(&bundle, rpc, ledger, &contract, tag,
                              &(ct_verify_collect_opts){.head = head}) < 0)
            die("collect");
        double t1 = bench_now_s();
        /* The history to check: the proven events, as a gateway would
         * claim them (taken from a first check of the bare evidence). */
        if (ct_verify_check(&report, dec, ledger, bundle, NULL) < 0)
            die("check");
        json_t *claimed = json_array();
        const json_t *p;
        size_t i;
        json_array_foreach (json_object_get(report, "problems"), i, p)
            if (json_object_get(p, "proven") != NULL)
                json_array_append(claimed, json_object_get(p, "proven"));
        json_object_set_new(bundle, "history", claimed);
        json_decref(report);
        double t2 = bench_now_s();
        if (ct_verify_check(&report, dec, ledger, bundle, NULL) < 0)
            die("check");
        double t3 = bench_now_s();
        if (!json_is_true(json_object_get(report, "ok")))
            die("the honest bundle does not verify");
        char *text = ct_json_dumps(bundle, JSON_COMPACT);
        bytes = text != NULL ? strlen(text) : 0;
        free(text);
        json_decref(report);
        json_decref(bundle);
        collect_s = t1 - t0 < collect_s ? t1 - t0 : collect_s;
        check_s = t3 - t2 < check_s ? t3 - t2 : check_s;
        double ref = get_logs_s(tag, from, head, &logs);
        ref_s = ref < ref_s ? ref : ref_s;
    }
    printf("{\"op\":\"verify_vc\",\"events\":%zu,\"blocks\":%llu,\"collect_s\":%.3f,"
           "\"check_s\":%.3f,\"bundle_bytes\":%zu,\"eth_getLogs_s\":%.4f,"
           "\"ratio_to_eth_getLogs\":%.1f}\n",
           logs, (unsigned long long)(head - from + 1), collect_s, check_s, bytes, ref_s,
           (collect_s + check_s) / ref_s);
    fflush(stdout);
    ct_store_decoder_free(dec);
}

/* A block of n transfers (automine off, then one anvil_mine). Returns: its
 * number. */
static uint64_t big_block(ct_sender *s, int n)
{
    ct_send_result res;
    uint64_t head;

    call("evm_setAutomine", json_pack("[b]", 0));
    for (int i = 0; i < n; i++) {
        ct_send_req req = {.to = &contract, .gas_limit = 21000};
        ct_u256_from_u64(&req.value, 0);
        ct_address to = {{0x11, (uint8_t)i}};
        req.to = &to;
        if (ct_sender_send(s, &res, &req, false) < 0)
            die("transfer");
        ct_send_result_clear(&res);
    }
    call("anvil_mine", json_pack("[i]", 1));
    call("evm_setAutomine", json_pack("[b]", 1));
    if (ct_rpc_block_number(rpc, &head) < 0)
        die("head");
    return head;
}

static void bench_receipts_root(ct_sender *s)
{
    uint64_t number = big_block(s, 200);
    json_t *block = NULL, *receipts = NULL, *params;
    double node_s = 1e9, root_s = 1e9;
    size_t n = 0;

    for (int r = 0; r < ROUNDS * 3; r++) {
        params = json_pack("[o,b]", json_sprintf("0x%llx", (unsigned long long)number), 0);
        double t0 = bench_now_s();
        json_decref(block);
        if (ct_rpc_call(rpc, &block, "eth_getBlockByNumber", params) < 0)
            die("block");
        double t = bench_now_s() - t0;
        node_s = t < node_s ? t : node_s;
        json_decref(params);
    }
    params = json_pack("[o]", json_sprintf("0x%llx", (unsigned long long)number));
    if (ct_rpc_call(rpc, &receipts, "eth_getBlockReceipts", params) < 0)
        die("receipts");
    json_decref(params);
    n = json_array_size(receipts);
    for (int r = 0; r < ROUNDS * 3; r++) {
        double t0 = bench_now_s();
        ct_trie *t;
        uint8_t root[32];
        if (ct_trie_new(&t) < 0)
            die("trie");
        for (size_t i = 0; i < n; i++) {
            uint8_t *enc, key[9];
            size_t len, klen;
            ct_rlp_writer w;
            ct_rlp_writer_init(&w, key, sizeof(key));
            ct_rlp_put_uint(&w, i);
            ct_rlp_finish(&w, &klen);
            if (ct_receipt_encode_json(&enc, &len, json_array_get(receipts, i)) < 0 ||
                ct_trie_put(t, key, klen, enc, len) < 0)
                die("receipt");
            free(enc);
        }
        if (ct_trie_root(t, root) < 0)
            die("root");
        ct_trie_free(t);
        double took = bench_now_s() - t0;
        root_s = took < root_s ? took : root_s;
    }
    printf("{\"op\":\"receipts_root\",\"receipts\":%zu,\"root_ms\":%.3f,"
           "\"node_header_ms\":%.3f,\"ratio_to_node\":%.2f}\n",
           n, root_s * 1000, node_s * 1000, root_s / node_s);
    json_decref(block);
    json_decref(receipts);
}

int main(int argc, char **argv)
{
    uint64_t blocks = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000;
    const char *root = getenv("CATENA_ROOT") ? getenv("CATENA_ROOT") : CATENA_SOURCE_DIR;
    static const long sizes[] = {10, 100, 1000};
    ct_send_result res;
    uint64_t at;

    if (blocks < 10) {
        fprintf(stderr, "usage: bench_verify [blocks >= 10]\n");
        return 2;
    }
    if (ct_ledger_open(&ledger) < 0 ||
        ct_devnode_start(&node, root,
                         &(ct_devnode_opts){.kind = CT_CHAIN_ANVIL, .log_path = "/dev/null"}) < 0 ||
        ct_rpc_new(&rpc, node.url, 60000) < 0)
        die("start");
    ct_sender *admin = sender(DEV_KEY0), *dc = sender(DEV_KEY1);
    if (ct_ledger_deploy(ledger, admin, true, &contract, &at) < 0)
        die("deploy");
    send(dc, "registerDatacenter", "[\"DC1\"]", &res);
    ct_send_result_clear(&res);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        bench_vc(dc, sizes[i], blocks, (long)i);
    bench_receipts_root(admin);
    ct_sender_free(admin);
    ct_sender_free(dc);
    ct_rpc_free(rpc);
    ct_devnode_stop(&node);
    ct_ledger_free(ledger);
    return 0;
}
