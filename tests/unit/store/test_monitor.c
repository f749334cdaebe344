/* The event monitor's registrations in the cache: add, list, get, delete,
 * persistence across handles, and independence from reset and dump. */
#include "harness.h"

#include "catena/store.h"

static const char ADDR[] = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
static const char ABI[] = "[{\"type\":\"event\",\"name\":\"Ping\",\"anonymous\":false,"
                          "\"inputs\":[{\"name\":\"n\",\"type\":\"uint256\",\"indexed\":false}]}]";

static void add_list_get_delete(void **state)
{
    const char *path = ctt_path("%s/monitor.db", ctt_tmpdir());
    ct_store *s, *s2;
    ct_address a;
    int64_t id, id2;
    json_t *list, *one;
    char *before, *after;
    (void)state;

    ctt_ok(ct_store_open(&s, path));
    ctt_ok(ct_address_parse(&a, ADDR));
    ctt_ok(ct_store_monitor_list(s, &list));
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    ctt_ok(ct_store_dump(s, &before));

    ctt_ok(ct_store_monitor_add(s, &id, &a, "ping", ABI, "[\"Ping\"]"));
    ctt_ok(ct_store_monitor_add(s, &id2, &a, "", ABI, "[]"));
    assert_true(id2 > id);
    /* User input, not chain state: the dump does not change. */
    ctt_ok(ct_store_dump(s, &after));
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* Another handle on the file sees them, parsed. */
    ctt_ok(ct_store_open(&s2, path));
    ctt_ok(ct_store_monitor_get(s2, &one, id));
    assert_string_equal(json_string_value(json_object_get(one, "address")), ADDR);
    assert_string_equal(json_string_value(json_object_get(one, "label")), "ping");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(one, "abi"), 0), "name")),
        "Ping");
    assert_string_equal(json_string_value(json_array_get(json_object_get(one, "events"), 0)),
                        "Ping");
    json_decref(one);

    /* A reset (--reindex) keeps them. */
    ctt_ok(ct_store_reset(s2));
    ctt_ok(ct_store_monitor_list(s2, &list));
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);

    ctt_ok(ct_store_monitor_delete(s, id));
    assert_int_equal(ct_store_monitor_delete(s, id), CT_ENOTFOUND);
    assert_int_equal(ct_store_monitor_get(s, &one, id), CT_ENOTFOUND);
    ctt_ok(ct_store_monitor_list(s2, &list));
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "id")), id2);
    json_decref(list);
    ct_store_close(s2);
    ct_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_list_get_delete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
