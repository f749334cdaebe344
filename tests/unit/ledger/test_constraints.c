/* Agreements' constraints (seed 004): KEY=VALUE[|VALUE...] parsed into the
 * pairs Agreement.sol takes, and the test its satisfiedBy makes (every key
 * met by one of its values), with the refusals. */
#include "harness.h"

#include <string.h>

#include "catena/ledger.h"

static json_t *attrs(const char *const *kv, size_t n)
{
    json_t *k = json_array(), *v = json_array();

    for (size_t i = 0; i < n; i++) {
        json_array_append_new(k, json_string(kv[2 * i]));
        json_array_append_new(v, json_string(kv[2 * i + 1]));
    }
    return json_pack("[o, o]", k, v);
}

static void parse_and_satisfy(void **state)
{
    json_t *keys = json_array(), *values = json_array(), *a;
    const char *eu[] = {"region", "eu-central", "country", "DE", "gdpr", "true"};
    const char *us[] = {"region", "us-east", "gdpr", "true"};
    const char *no_gdpr[] = {"region", "eu-west"};
    (void)state;

    ctt_ok(ct_ledger_constraint_parse(keys, values, "region=eu-west|eu-central", 16));
    ctt_ok(ct_ledger_constraint_parse(keys, values, "gdpr=true", 16));
    assert_int_equal(json_array_size(keys), 3);
    assert_string_equal(json_string_value(json_array_get(keys, 1)), "region");
    assert_string_equal(json_string_value(json_array_get(values, 1)), "eu-central");
    a = attrs(eu, 3);
    assert_true(ct_ledger_attrs_satisfy(a, keys, values));
    json_decref(a);
    a = attrs(us, 2); /* region not allowed */
    assert_false(ct_ledger_attrs_satisfy(a, keys, values));
    json_decref(a);
    a = attrs(no_gdpr, 1); /* gdpr not declared */
    assert_false(ct_ledger_attrs_satisfy(a, keys, values));
    json_decref(a);
    a = attrs(NULL, 0);
    assert_false(ct_ledger_attrs_satisfy(a, keys, values));
    json_decref(values);
    json_decref(keys);
    /* No constraint: anything satisfies. */
    keys = json_array();
    values = json_array();
    assert_true(ct_ledger_attrs_satisfy(a, keys, values));
    /* An empty value is allowed (a DC that declared none matches it). */
    ctt_ok(ct_ledger_constraint_parse(keys, values, "tier=", 16));
    assert_true(ct_ledger_attrs_satisfy(a, keys, values));
    json_decref(a);
    json_decref(keys);
    json_decref(values);
}

static void refusals(void **state)
{
    json_t *keys = json_array(), *values = json_array();
    const char *bad[] = {"gdpr", "=true", "no-equals", "a-key-that-is-longer-than-32-bytes=x"};
    char long_value[100];
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ct_ledger_constraint_parse(keys, values, bad[i], 16), CT_EINVAL);
    memset(long_value, 'v', sizeof(long_value) - 1);
    long_value[0] = 'k';
    long_value[1] = '=';
    long_value[sizeof(long_value) - 1] = '\0';
    assert_int_equal(ct_ledger_constraint_parse(keys, values, long_value, 16), CT_EINVAL);
    assert_int_equal(ct_ledger_constraint_parse(keys, values, "r=a|b|c", 2), CT_ELIMIT);
    json_decref(keys);
    json_decref(values);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_satisfy),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
