/* Fuzz target for the signed transaction decoder (what `catena tool
 * decode-tx` and the agent's outbox read): whatever it accepts must encode
 * back to the very same bytes, convert to JSON, and hash; recovering the
 * sender may fail (a signature off the curve) but never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catena/eth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_tx tx;
    uint8_t *back = NULL, hash[32];
    size_t len = 0;
    json_t *j = NULL;
    ct_address from;
    int rc;

    if (ct_tx_decode(&tx, data, size) != 0)
        return 0;
    /* The decoder is strict: one encoding per transaction. */
    if (ct_tx_encode(&back, &len, &tx) != 0 || len != size || memcmp(back, data, size) != 0)
        abort();
    if (ct_tx_to_json(&j, &tx) != 0 || ct_tx_hash(hash, &tx) != 0 ||
        ct_tx_signing_hash(hash, &tx) != 0)
        abort();
    rc = ct_tx_sender(&from, &tx);
    if (rc != 0 && rc != CT_ECRYPTO)
        abort();
    json_decref(j);
    free(back);
    ct_tx_clear(&tx);
    return 0;
}
