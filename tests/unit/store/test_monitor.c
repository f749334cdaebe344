/* The event monitor's registrations in the cache: add, list, get, delete,
 * persistence across handles, independence from reset and dump, the cap
 * under concurrent adds, and the choice of watched events. */
#include "harness.h"

#include <pthread.h>

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

    ctt_ok(ct_store_monitor_add(s, &id, &a, "ping", ABI, "[\"Ping\"]", 64));
    ctt_ok(ct_store_monitor_add(s, &id2, &a, "", ABI, "[]", 64));
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

/* Threads adding through their own handles, as the gateway's workers do. */
#define ADDERS 10
#define ADDS 15
#define CAP 64

static struct {
    const char *path;
    ct_address a;
    int stored, refused, failed;
    pthread_mutex_t mu;
} race = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *adder(void *arg)
{
    ct_store *s = NULL;
    int64_t id;
    (void)arg;

    if (ct_store_open(&s, race.path) < 0)
        return NULL;
    for (int i = 0; i < ADDS; i++) {
        int rc = ct_store_monitor_add(s, &id, &race.a, "race", ABI, "[]", CAP);
        pthread_mutex_lock(&race.mu);
        if (rc == 0)
            race.stored++;
        else if (rc == CT_ELIMIT)
            race.refused++;
        else
            race.failed++;
        pthread_mutex_unlock(&race.mu);
    }
    ct_store_close(s);
    return NULL;
}

/* Issue 11 item 9: 150 concurrent registrations stored 65 of them. */
static void cap_is_atomic(void **state)
{
    pthread_t t[ADDERS];
    ct_store *s;
    json_t *list;
    (void)state;

    race.path = ctt_path("%s/race.db", ctt_tmpdir());
    ctt_ok(ct_address_parse(&race.a, ADDR));
    ctt_ok(ct_store_open(&s, race.path)); /* the schema, before the race */
    for (int i = 0; i < ADDERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, adder, NULL), 0);
    for (int i = 0; i < ADDERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(race.failed, 0);
    assert_int_equal(race.stored, CAP);
    assert_int_equal(race.refused, ADDERS * ADDS - CAP);
    ctt_ok(ct_store_monitor_list(s, &list));
    assert_int_equal(json_array_size(list), CAP);
    json_decref(list);
    ct_store_close(s);
}

static void watched_events(void **state)
{
    static const char abi_text[] =
        "[{\"type\":\"function\",\"name\":\"f\",\"inputs\":[],\"outputs\":[]},"
        "{\"type\":\"event\",\"name\":\"A\",\"inputs\":[{\"name\":\"x\",\"type\":\"uint8\","
        "\"indexed\":true}]},"
        "{\"type\":\"event\",\"name\":\"B\",\"inputs\":[]}]";
    json_t *abi, *names, *out;
    (void)state;

    ctt_ok(ct_json_parse(&abi, abi_text, strlen(abi_text), 16));
    ctt_ok(ct_store_monitor_watched(&out, abi, NULL));
    assert_int_equal(json_array_size(out), 2);
    json_decref(out);
    names = json_pack("[s]", "B");
    ctt_ok(ct_store_monitor_watched(&out, abi, names));
    assert_int_equal(json_array_size(out), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "name")), "B");
    json_decref(out);
    json_decref(names);
    names = json_pack("[s]", "f");
    assert_int_equal(ct_store_monitor_watched(&out, abi, names), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "'f' is not in the ABI"));
    json_decref(names);
    json_decref(abi);
    static const char bad[] = "[{\"type\":\"event\",\"name\":\"C\",\"inputs\":"
                              "[{\"name\":\"y\",\"type\":\"nonsense\"}]}]";
    ctt_ok(ct_json_parse(&abi, bad, strlen(bad), 16));
    assert_int_equal(ct_store_monitor_watched(&out, abi, NULL), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "event 'C'"));
    json_decref(abi);
    ctt_ok(ct_json_parse(&abi, "[]", 2, 16));
    assert_int_equal(ct_store_monitor_watched(&out, abi, NULL), CT_EINVAL);
    json_decref(abi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_list_get_delete),
        cmocka_unit_test(cap_is_atomic),
        cmocka_unit_test(watched_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
