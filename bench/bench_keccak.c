/* Benchmark: ct_keccak256 against OpenSSL's SHA3-256 (same permutation,
 * different padding) on the same buffers in the same run. Prints a table;
 * not part of ctest. */
#include "catena/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "bench_common.h"

#define MIN_SECONDS 0.5

static volatile uint8_t sink; /* keeps results alive past the optimiser */

enum hasher { H_CATENA, H_EVP_DIGEST, H_EVP_REUSE };

static const char *const hasher_name[] = {"ct_keccak256", "EVP_Digest sha3-256",
                                          "EVP ctx reuse sha3-256"};

/* One hash of buf with the chosen implementation. */
static int hash_once(enum hasher h, EVP_MD_CTX *ctx, const EVP_MD *md, const uint8_t *buf,
                     size_t len, uint8_t out[32])
{
    unsigned int n = 0;

    switch (h) {
    case H_CATENA: ct_keccak256(out, buf, len); return 0;
    case H_EVP_DIGEST: return EVP_Digest(buf, len, out, &n, EVP_sha3_256(), NULL) == 1 ? 0 : -1;
    case H_EVP_REUSE:
        if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, buf, len) != 1 ||
            EVP_DigestFinal_ex(ctx, out, &n) != 1)
            return -1;
        return 0;
    }
    return -1;
}

/* Hashes buf repeatedly for at least MIN_SECONDS. Returns: MB/s (10^6
 * bytes), or a negative value if OpenSSL failed. */
static double measure(enum hasher h, EVP_MD_CTX *ctx, const EVP_MD *md, const uint8_t *buf,
                      size_t len)
{
    uint8_t out[32];
    size_t batch = len >= 65536 ? 4 : 4096;
    double start = bench_now_s(), elapsed;
    unsigned long long count = 0;

    do {
        for (size_t i = 0; i < batch; i++) {
            if (hash_once(h, ctx, md, buf, len, out) < 0)
                return -1;
            sink ^= out[0];
        }
        count += batch;
        elapsed = bench_now_s() - start;
    } while (elapsed < MIN_SECONDS);
    return (double)count * (double)len / elapsed / 1e6;
}

static int bench_hashes(void)
{
    static const size_t sizes[] = {64, 1024, 1024 * 1024};
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA3-256", NULL);
    uint8_t *buf = malloc(1024 * 1024);
    int rc = -1;

    if (ctx == NULL || md == NULL || buf == NULL) {
        fprintf(stderr, "bench_keccak: setup failed\n");
        goto done;
    }
    for (size_t i = 0; i < 1024 * 1024; i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    printf("%-10s %14s %22s %24s %8s %8s\n", "input", hasher_name[0], hasher_name[1],
           hasher_name[2], "ratio1", "ratio2");
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        double mb[3];
        for (int h = 0; h < 3; h++) {
            if ((mb[h] = measure((enum hasher)h, ctx, md, buf, sizes[s])) < 0) {
                fprintf(stderr, "bench_keccak: OpenSSL digest failed\n");
                goto done;
            }
        }
        printf("%-10zu %9.1f MB/s %17.1f MB/s %19.1f MB/s %8.2f %8.2f\n", sizes[s], mb[0], mb[1],
               mb[2], mb[1] / mb[0], mb[2] / mb[0]);
    }
    printf("ratio1 = EVP_Digest / catena, ratio2 = EVP ctx reuse / catena "
           "(above 1: OpenSSL faster)\n\n");
    rc = 0;
done:
    free(buf);
    EVP_MD_free(md);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int main(void)
{
    /* Signing and recovery are measured by bench_eth against ethers.js. */
    return bench_hashes() < 0 ? 1 : 0;
}
