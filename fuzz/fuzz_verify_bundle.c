/* Fuzz target for the bundle checker (catena verify bundle): any JSON
 * text, with or without a trusted block, must give a report (never a
 * crash), and a report that says ok must have no problems. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catena/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ct_ledger *ledger;
static ct_store_decoder *dec;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t trust[32] = {1};
    ct_verify_opts opts = {.trust_hash = trust, .trust_number = 1};
    json_t *bundle, *report = NULL;

    if (ledger == NULL && (ct_ledger_open(&ledger) < 0 || ct_store_decoder_new(&dec, ledger) < 0))
        abort();
    if (ct_json_parse(&bundle, (const char *)data, size, 32) < 0)
        return 0;
    for (int with_trust = 0; with_trust < 2; with_trust++) {
        if (ct_verify_check(&report, dec, ledger, bundle, with_trust ? &opts : NULL) < 0)
            abort();
        if (json_is_true(json_object_get(report, "ok")) !=
            (json_array_size(json_object_get(report, "problems")) == 0))
            abort();
        json_decref(report);
    }
    json_decref(bundle);
    return 0;
}
