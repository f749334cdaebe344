/* Fuzz target for keystore v3 decryption: any input, as a keystore file
 * with a fixed password, must fail cleanly or decrypt to a key whose
 * address matches; it must never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catena/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The password of the seed corpus. */
#define FUZZ_PASSWORD "foo"

/* Work above which an input is skipped. The library rejects parameters
 * over its bounds before deriving anything, and that path is fuzzed; but
 * parameters within the bounds (up to scrypt n*r*p = 2^23, pbkdf2 10^7)
 * are legitimate and cost up to seconds, which would only slow the
 * fuzzer down. So such inputs, and only those, are skipped here. */
#define FUZZ_MAX_WORK (UINT64_C(1) << 16)
#define LIB_MAX_SCRYPT (UINT64_C(1) << 23)
#define LIB_MAX_PBKDF2 UINT64_C(10000000)

/* Returns: the non-negative integer at obj.key, or 0. */
static uint64_t uint_at(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return 0;
    return (uint64_t)json_integer_value(v);
}

/* Returns: whether these kdf params are within the library's bounds but
 * costly. Saturates so hostile values stay "over the bounds". */
static int expensive(const json_t *crypto)
{
    const json_t *kp = json_object_get(crypto, "kdfparams");
    uint64_t n = uint_at(kp, "n"), r = uint_at(kp, "r"), p = uint_at(kp, "p");
    uint64_t c = uint_at(kp, "c"), cost;

    if (r > 1024 || p > 1024 || n > LIB_MAX_SCRYPT)
        cost = LIB_MAX_SCRYPT + 1;
    else
        cost = n * (r ? r : 1) * (p ? p : 1);
    if (cost > FUZZ_MAX_WORK && cost <= LIB_MAX_SCRYPT)
        return 1;
    return c > FUZZ_MAX_WORK && c <= LIB_MAX_PBKDF2;
}

static int skip_input(const uint8_t *data, size_t size)
{
    json_t *v = json_loadb((const char *)data, size, 0, NULL);
    int skip;

    if (v == NULL)
        return 0;
    skip = expensive(json_object_get(v, "crypto")) || expensive(json_object_get(v, "Crypto"));
    json_decref(v);
    return skip;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t key[CT_SECKEY_SIZE];
    ct_address a, check;

    if (skip_input(data, size))
        return 0;
    ct_error_clear();
    if (ct_keystore_decrypt(key, &a, (const char *)data, size, FUZZ_PASSWORD,
                            strlen(FUZZ_PASSWORD)) == 0) {
        if (ct_address_from_seckey(&check, key) != 0 || !ct_address_equal(&a, &check))
            abort();
        ct_wipe(key, sizeof(key));
    } else if (ct_error_last()[0] == '\0') {
        abort(); /* every failure says why */
    }
    return 0;
}
