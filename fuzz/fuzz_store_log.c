/* Fuzz target for what the cache takes from a node and stores: an
 * eth_getLogs entry or block header (parsed, decoded against the ledger,
 * put in wire form) and events with arbitrary args folded into the
 * derived tables ({"name", "args"}). Nothing may crash, every accepted
 * log must give wire args that fold cleanly, and a rolled-back write must
 * leave the cache as it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catena/store.h"

#include "../src/store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ct_store *store;
static ct_ledger *ledger;
static ct_store_decoder *types;

static void init(void)
{
    if (store != NULL)
        return;
    if (ct_store_open(&store, ":memory:") < 0 || ct_ledger_open(&ledger) < 0 ||
        ct_store_decoder_new(&types, ledger) < 0)
        abort();
}

/* Appends the event in a transaction that is rolled back. Returns the
 * result of ct_store__event_add. */
static int try_event(const char *name, const json_t *args)
{
    static const uint8_t hash[32] = {1}, parent[32] = {2};
    ct_store__event ev = {.block_number = 7, .name = name, .args = args, .block_time = 1};
    int rc;

    ct_store__lock(store);
    if (ct_store__begin(store, true) < 0 || ct_store__block_add(store, 7, hash, parent, 1) < 0)
        abort();
    rc = ct_store__event_add(store, &ev);
    ct_store__rollback(store);
    ct_store__unlock(store);
    return rc;
}

static void check_log(const json_t *v)
{
    ct_store__log log;
    const char *name;
    json_t *raw, *wire;

    if (ct_store__parse_log(&log, v) < 0 || ct_ledger_decode_log(ledger, &name, &raw, v) < 0)
        return;
    if (ct_store__wire_args(&wire, types, name, raw) == 0) {
        /* Args the ABI decoder produced must fold without complaint. */
        if (json_object_size(wire) != json_object_size(raw) || try_event(name, wire) < 0)
            abort();
        json_decref(wire);
    }
    json_decref(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_store__header h;
    ct_store_info info;
    json_t *v;

    init();
    if (ct_json_parse(&v, (const char *)data, size, CT_JSON_MAX_DEPTH) < 0)
        return 0;
    ct_store__parse_header(&h, v);
    check_log(v);
    const char *name = json_string_value(json_object_get(v, "name"));
    if (name != NULL && json_is_object(json_object_get(v, "args")))
        try_event(name, json_object_get(v, "args"));
    if (ct_store_get_info(store, &info) < 0 || info.events != 0)
        abort();
    json_decref(v);
    return 0;
}
