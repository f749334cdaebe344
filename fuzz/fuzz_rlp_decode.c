/* Fuzz target for the strict RLP decoder: whatever it accepts must convert
 * to JSON and back to the very same bytes, and its integer readers must
 * agree with the writer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catena/eth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An item read as a canonical integer must be what the writer writes. */
static void check_int(const ct_rlp_item *item)
{
    uint8_t buf[40];
    ct_rlp_writer w;
    ct_rlp_item back;
    ct_u256 u;
    uint64_t v;
    size_t len;

    if (ct_rlp_item_u256(&u, item) != 0)
        return;
    ct_rlp_writer_init(&w, buf, sizeof(buf));
    ct_rlp_put_u256(&w, &u);
    if (ct_rlp_finish(&w, &len) != 0 || ct_rlp_decode(&back, buf, len) != 0 ||
        back.len != item->len || memcmp(back.data, item->data, item->len) != 0)
        abort();
    if (ct_rlp_item_uint(&v, item) == 0) {
        ct_rlp_writer_init(&w, buf, sizeof(buf));
        ct_rlp_put_uint(&w, v);
        if (ct_rlp_finish(&w, &len) != 0 || ct_rlp_decode(&back, buf, len) != 0 ||
            back.len != item->len)
            abort();
    }
}

/* Reads the top item's children (or the top item) as integers. */
static void check_ints(const ct_rlp_item *top)
{
    ct_rlp_iter it;
    ct_rlp_item item;
    int rc;

    if (!top->is_list) {
        check_int(top);
        return;
    }
    ct_rlp_iter_init(&it, top);
    while ((rc = ct_rlp_iter_next(&it, &item)) == 1)
        check_int(&item);
    /* The decoder checked the whole tree, so the iterator cannot fail. */
    if (rc != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_rlp_item top;
    json_t *j = NULL;
    uint8_t *back = NULL;
    size_t len;
    int rc;

    if (ct_rlp_decode(&top, data, size) != 0)
        return 0;
    check_ints(&top);
    rc = ct_rlp_to_json(&j, data, size);
    if (rc == CT_ELIMIT)
        return 0; /* nested deeper than the converters allow */
    if (rc != 0)
        abort();
    if (ct_rlp_from_json(&back, &len, j) != 0 || len != size || memcmp(back, data, size) != 0)
        abort();
    free(back);
    json_decref(j);
    return 0;
}
