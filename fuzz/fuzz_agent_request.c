/* Fuzz target for the agent's request validation: any input, as a request
 * message, must be refused cleanly or become a contract call that the
 * Federation ABI encodes (validation and encoding never disagree). The
 * input is also read as a tokens file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catena/agent.h"
#include "catena/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ct_ledger *ledger;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_agent_tokens *tokens = NULL;
    ct_agent_call call;
    ct_address wallet;
    json_t *req = NULL;
    ct_buf b;

    if (ledger == NULL && ct_ledger_open(&ledger) < 0)
        abort();
    memset(&wallet, 0x11, sizeof(wallet));
    if (ct_agent_tokens_parse(&tokens, (const char *)data, size, "DC1") == 0) {
        if (ct_agent_tokens_count(tokens) == 0)
            abort();
        ct_agent_tokens_check(tokens, (const char *)data, size);
        ct_agent_tokens_free(tokens);
    }
    if (ct_json_parse(&req, (const char *)data, size, CT_AGENT_MAX_DEPTH) < 0)
        return 0;
    if (ct_agent_parse_request(&call, req, "DC1", &wallet, 1536830928000) == 0) {
        ct_buf_init(&b, 64u << 20);
        if (ct_ledger_encode_call(ledger, &b, call.function, call.args) < 0)
            abort();
        ct_buf_free(&b);
        ct_agent_call_clear(&call);
    }
    json_decref(req);
    return 0;
}
