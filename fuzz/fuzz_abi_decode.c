/* Fuzz target for the ABI decoder and type parser: the first byte picks a
 * type, the rest is decoded as it; what decodes must re-encode to bytes that
 * decode to the same value. The whole input is also parsed as a type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catena/eth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Static and dynamic, flat and nested; the index is the first input byte
 * modulo the count (fuzz/corpus/fuzz_abi_decode/ seeds follow this order). */
static const char *const types[] = {
    "(uint256,int8,address,bool,bytes4)",                        /* 0 */
    "string",                                                    /* 1 */
    "bytes",                                                     /* 2 */
    "(string,bytes)[]",                                          /* 3 */
    "uint256[][]",                                               /* 4 */
    "(uint256,(string,bool)[2])[]",                              /* 5 */
    "string[3]",                                                 /* 6 */
    "((string)[],bytes32[2])",                                   /* 7 */
    "(int16[],address[])",                                       /* 8 */
    "bool[]",                                                    /* 9 */
    "bytes32[2][]",                                              /* 10 */
    "(string,(uint256,bytes32)[])",                              /* 11 */
    "uint8[][][]",                                               /* 12 */
    "((bytes,(string)[]),int256)",                               /* 13 */
    "(int72,uint40,bytes31,int256[2])",                          /* 14 */
    "(string,string,uint32,uint32,uint32,string,string,uint64)", /* 15 */
};

#define N_TYPES (sizeof(types) / sizeof(types[0]))

static ct_abi_type *parsed[N_TYPES];

/* Decodes, re-encodes and re-decodes; aborts when the round trip breaks. */
static void check_decode(const ct_abi_type *t, const uint8_t *data, size_t size)
{
    json_t *v = NULL, *again = NULL;
    ct_buf b, b2;

    if (ct_abi_decode(&v, t, data, size) < 0)
        return;
    ct_buf_init(&b, (size_t)1 << 30);
    ct_buf_init(&b2, (size_t)1 << 30);
    if (ct_abi_encode(&b, t, v) < 0)
        abort();
    if (ct_abi_decode(&again, t, (const uint8_t *)b.data, b.len) < 0)
        abort();
    if (!json_equal(v, again))
        abort();
    /* The re-encoding is canonical: encoding it again gives the same bytes. */
    if (ct_abi_encode(&b2, t, again) < 0 || b2.len != b.len ||
        (b.len > 0 && memcmp(b.data, b2.data, b.len) != 0))
        abort();
    json_decref(v);
    json_decref(again);
    ct_buf_free(&b);
    ct_buf_free(&b2);
}

/* Parses text as a type and as a signature; canonical forms must parse
 * back to themselves. */
static void check_parse(const char *text)
{
    ct_abi_type *t, *t2;
    ct_abi_sig *sig;
    ct_buf b, b2;

    ct_buf_init(&b, 1 << 20);
    ct_buf_init(&b2, 1 << 20);
    if (ct_abi_type_parse(&t, text) == 0) {
        if (ct_abi_type_canonical(&b, t) < 0 || ct_abi_type_parse(&t2, b.data) < 0)
            abort();
        if (ct_abi_type_canonical(&b2, t2) < 0 || strcmp(b.data, b2.data) != 0)
            abort();
        ct_abi_type_free(t2);
        ct_abi_type_free(t);
    }
    if (ct_abi_sig_parse(&sig, text) == 0) {
        uint8_t sel[4];
        ct_buf_reset(&b);
        if (ct_abi_sig_canonical(&b, sig) < 0 || ct_abi_selector(sel, sig) < 0)
            abort();
        ct_abi_sig_free(sig);
    }
    ct_buf_free(&b);
    ct_buf_free(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t k;
    char *text;

    if (size == 0)
        return 0;
    k = data[0] % N_TYPES;
    if (parsed[k] == NULL && ct_abi_type_parse(&parsed[k], types[k]) < 0)
        abort();
    check_decode(parsed[k], data + 1, size - 1);
    if ((text = malloc(size + 1)) == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_parse(text);
    free(text);
    return 0;
}
