/* Fuzz target for what a verifier reads from the untrusted: trie proofs,
 * receipts and headers. The first byte picks the mode.
 *   0: a proof: [key length][key][node length (2 bytes)][node]... checked
 *      against the root keccak(first node), so the fuzzer reaches deep
 *      paths; a value found must lie inside one of the nodes.
 *   1: a trie of pairs [key length][value length][key][value]... built
 *      in memory: every key's proof must check and give its value back.
 *   other: the bytes as a receipt and as a header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catena/eth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_proof(const uint8_t *p, size_t n)
{
    ct_bytes nodes[64];
    size_t count = 0, klen, vlen;
    const uint8_t *key, *val;
    uint8_t root[32];

    if (n < 1 || (klen = p[0] % 40) > n - 1)
        return;
    key = p + 1;
    p += 1 + klen;
    n -= 1 + klen;
    while (n >= 2 && count < 64) {
        size_t len = (size_t)p[0] << 8 | p[1];
        if (len > n - 2)
            break;
        nodes[count].data = (uint8_t *)p + 2;
        nodes[count++].len = len;
        p += 2 + len;
        n -= 2 + len;
    }
    if (count == 0)
        return;
    ct_keccak256(root, nodes[0].data, nodes[0].len);
    if (ct_trie_verify(&val, &vlen, root, key, klen, nodes, count) == 0) {
        bool inside = false;
        for (size_t i = 0; i < count; i++)
            inside |= val >= nodes[i].data && val + vlen <= nodes[i].data + nodes[i].len;
        if (!inside)
            abort();
    }
}

static void check_trie(const uint8_t *p, size_t n)
{
    ct_trie *t;
    uint8_t root[32];
    struct {
        const uint8_t *k, *v;
        size_t kl, vl;
    } pairs[32];
    size_t count = 0;

    if (ct_trie_new(&t) < 0)
        abort();
    while (n >= 2 && count < 32) {
        size_t kl = p[0] % 8, vl = 1 + p[1] % 40;
        if (kl + vl > n - 2)
            break;
        pairs[count].k = p + 2;
        pairs[count].kl = kl;
        pairs[count].v = p + 2 + kl;
        pairs[count].vl = vl;
        if (ct_trie_put(t, pairs[count].k, kl, pairs[count].v, vl) < 0)
            abort();
        count++;
        p += 2 + kl + vl;
        n -= 2 + kl + vl;
    }
    if (ct_trie_root(t, root) < 0)
        abort();
    for (size_t i = 0; i < count; i++) {
        ct_bytes *nodes;
        size_t nn, vl;
        const uint8_t *v;
        bool last = true; /* a later put of the same key replaced this one */
        for (size_t j = i + 1; j < count; j++)
            if (pairs[j].kl == pairs[i].kl && memcmp(pairs[j].k, pairs[i].k, pairs[i].kl) == 0)
                last = false;
        if (ct_trie_prove(t, &nodes, &nn, pairs[i].k, pairs[i].kl) < 0)
            abort();
        if (ct_trie_verify(&v, &vl, root, pairs[i].k, pairs[i].kl, nodes, nn) != 0)
            abort();
        if (last && (vl != pairs[i].vl || memcmp(v, pairs[i].v, vl) != 0))
            abort();
        ct_trie_proof_free(nodes, nn);
    }
    ct_trie_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *r = NULL;
    ct_header h;

    if (size == 0)
        return 0;
    if (data[0] == 0) {
        check_proof(data + 1, size - 1);
    } else if (data[0] == 1) {
        check_trie(data + 1, size - 1);
    } else {
        if (ct_receipt_decode(&r, data + 1, size - 1) == 0 && !json_is_object(r))
            abort();
        json_decref(r);
        (void)ct_header_decode(&h, data + 1, size - 1);
    }
    return 0;
}
