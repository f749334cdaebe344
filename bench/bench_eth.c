/* Operations per second of the Ethereum core: sign, recover, ABI encoding
 * of a typical call, and transaction sign + encode. Prints one JSON line
 * per operation; scripts/bench runs bench/ethers_bench.js on the same
 * inputs in the same run and prints the ratios. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/crypto.h"
#include "catena/eth.h"

#define MIN_MS 1000

static const char key_hex[] = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/* A call shaped like the ledger's registerContainer. */
static const char call_sig[] =
    "registerContainer(string,string,uint32,uint32,uint32,string,string,uint64)";
static const char call_args[] =
    "[\"vm\", \"6f1c3b1e-55f3-4c1e-9d8a-3e1c2b4a5d6f\", 2, 1024, 40, \"10.0.0.12\","
    " \"openstack-dc1\", 1536677183]";

static void report(const char *op, long n, int64_t ms)
{
    printf("{\"op\":\"%s\",\"ops_per_s\":%.0f}\n", op, (double)n * 1000.0 / (double)ms);
    fflush(stdout);
}

/* Runs body in a loop until MIN_MS have passed; reports ops/s. */
#define BENCH(op, body)                                                                            \
    do {                                                                                           \
        int64_t t0_ = ct_time_mono_ms(), el_;                                                      \
        long n_ = 0;                                                                               \
        do {                                                                                       \
            for (int k_ = 0; k_ < 100; k_++, n_++) {                                               \
                body;                                                                              \
            }                                                                                      \
        } while ((el_ = ct_time_mono_ms() - t0_) < MIN_MS);                                        \
        report(op, n_, el_);                                                                       \
    } while (0)

int main(void)
{
    uint8_t key[32], hash[32], sig[64], pub[64];
    size_t len;
    int recid;
    ct_abi_sig *fsig;
    json_t *args;
    ct_buf buf;

    if (ct_hex_decode(key, 32, &len, key_hex, strlen(key_hex)) < 0 ||
        ct_abi_sig_parse(&fsig, call_sig) < 0 ||
        ct_json_parse(&args, call_args, strlen(call_args), 8) < 0) {
        fprintf(stderr, "bench_eth: %s\n", ct_error_last());
        return 1;
    }
    memset(hash, 0x5a, sizeof(hash));

    BENCH("sign", {
        hash[0] = (uint8_t)n_;
        ct_sign(sig, &recid, hash, key);
    });
    ct_sign(sig, &recid, hash, key);
    BENCH("recover", { ct_recover(pub, hash, sig, recid, true); });

    ct_buf_init(&buf, 1 << 16);
    BENCH("abi_encode_call", {
        uint8_t sel[4];
        ct_buf_reset(&buf);
        ct_abi_selector(sel, fsig);
        ct_buf_append(&buf, sel, 4);
        ct_abi_encode(&buf, fsig->params, args);
    });

    ct_tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = 2;
    tx.has_chain_id = true;
    tx.chain_id = 31337;
    tx.gas_limit = 300000;
    ct_u256_from_u64(&tx.max_fee, 2000000000);
    ct_u256_from_u64(&tx.max_priority_fee, 1000000000);
    tx.has_to = true;
    memset(tx.to.b, 0x35, sizeof(tx.to.b));
    tx.data = (uint8_t *)buf.data;
    tx.data_len = buf.len;
    BENCH("tx_sign_encode", {
        uint8_t *raw;
        tx.nonce = (uint64_t)n_;
        ct_tx_sign(&tx, key);
        ct_tx_encode(&raw, &len, &tx);
        free(raw);
    });

    ct_buf_free(&buf);
    json_decref(args);
    ct_abi_sig_free(fsig);
    return 0;
}
