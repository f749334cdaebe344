/* Fuzz target for the placement knowledge base parser and the ranking:
 * parses a buffer as a KB, then ranks and plans two requests on it,
 * checking that feasible candidates come first, in score order, and that
 * plans respect what ranking calls feasible. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "catena/place.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rank(const ct_kb *kb, const ct_place_request *req)
{
    ct_place_candidate *c = NULL;
    double prev = -INFINITY;
    int seen_infeasible = 0;

    if (ct_place_rank(&c, kb, req, kb->objective) < 0)
        return;
    for (size_t i = 0; i < kb->n_hosts; i++) {
        if (c[i].host >= kb->n_hosts)
            abort();
        if (c[i].reason != CT_PLACE_OK) {
            seen_infeasible = 1;
            continue;
        }
        if (seen_infeasible || !(c[i].score >= prev) || !isfinite(c[i].score) ||
            c[i].util_after > kb->max_utilisation + 1e-9)
            abort();
        prev = c[i].score;
    }
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_place_request reqs[2] = {{"a", "t", NULL, 2, (uint64_t)1 << 30, 0, -1},
                                {"b", NULL, "aarch64", 1, 0, 0, 0.9}};
    ct_place_choice ch[2];
    ct_kb *kb = NULL;

    if (ct_kb_parse(&kb, (const char *)data, size, "fuzz.yaml") < 0)
        return 0;
    check_rank(kb, &reqs[0]);
    check_rank(kb, &reqs[1]);
    if (ct_place_plan(ch, kb, reqs, 2, kb->objective) == 0)
        for (int i = 0; i < 2; i++)
            if (ch[i].best.reason != CT_PLACE_OK || ch[i].best.host >= kb->n_hosts ||
                ch[i].flavor >= kb->n_flavors)
                abort();
    ct_kb_free(kb);
    return 0;
}
