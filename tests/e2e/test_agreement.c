/* `catena agreement` on a real chain (seed 004): a dynamic-price agreement
 * offered, accepted, stopped and settled to the wei from its block
 * timestamps, both sides withdrawing; a prepaid agreement with a session
 * charged by the second and the rest refunded; a split agreement voted by
 * its three parties and its income divided with no dust lost; bad input
 * reverts with the contract's reason and changes nothing. */
#include "harness.h"

#include <string.h>

#include "catena/crypto.h"
#include "catena/ledger.h"

static ct_devnode chain;
static char user_key[67];

static int setup(void **state)
{
    ct_sender *s;
    ct_send_req req = {0};
    ct_send_result res = {0};
    ct_address to;
    uint8_t k[32];
    (void)state;

    ctt_node_start(&chain);
    /* The user: a fifth account (dev keys 1 to 3 are the split's parties). */
    ctt_ok(ct_seckey_generate(k));
    ct_hex_encode(user_key, sizeof(user_key), k, 32, true);
    ctt_ok(ct_address_from_seckey(&to, k));
    s = ctt_sender(chain.url, ctt_dev_keys[0]);
    req.to = &to;
    ct_u256_from_u64(&req.value, 1000000000000000000ull);
    ctt_ok(ct_sender_send(s, &res, &req, true));
    ct_send_result_clear(&res);
    ct_sender_free(s);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ctt_node_stop(&chain);
    return 0;
}

/* Runs `catena agreement ARGS --rpc URL --json --key-env K` with key;
 * returns the exit code, *out the JSON printed (may be NULL), *err the
 * error text (may be NULL; ctt_path storage). */
static int agree(const char *key, json_t **out, const char **err, const char *const *args)
{
    const char *argv[32];
    const char *env[] = {ctt_path("K=%s", key), NULL};
    int n = 0, code;
    ctt_run r;

    argv[n++] = "agreement";
    for (int i = 0; args[i] != NULL && n < 26; i++)
        argv[n++] = args[i];
    argv[n++] = "--rpc";
    argv[n++] = chain.url;
    argv[n++] = "--json";
    argv[n++] = "--key-env";
    argv[n++] = "K";
    argv[n] = NULL;
    ctt_catena_env(&r, argv, env);
    code = ctt_exit_code(&r);
    if (out != NULL) {
        *out = NULL;
        if (code == 0)
            ctt_ok(ct_json_parse(out, r.out, strlen(r.out), 16));
    }
    if (err != NULL)
        *err = ctt_path("%s", r.err);
    ctt_run_free(&r);
    return code;
}

static void expect_err(const char *err, const char *want)
{
    if (err == NULL || strstr(err, want) == NULL)
        fail_msg("expected '%s' in: %s", want, err ? err : "(nothing)");
}

static json_t *ok(const char *key, const char *const *args)
{
    json_t *out = NULL;
    const char *err = NULL;

    if (agree(key, &out, &err, args) != 0)
        fail_msg("catena agreement %s: %s", args[0], err);
    return out;
}

static const char *offer(const char *const *args)
{
    json_t *out = ok(ctt_dev_keys[0], args);
    const char *addr = ctt_path("%s", json_string_value(json_object_get(out, "agreement")));

    json_decref(out);
    return addr;
}

static uint64_t field(const json_t *doc, const char *key)
{
    return ctt_json_u64(json_object_get(doc, key));
}

static uint64_t owed(const json_t *doc, const char *who)
{
    const char *k;
    json_t *v;

    json_object_foreach ((json_t *)json_object_get(doc, "owed"), k, v)
        if (strcasecmp(k, who) == 0)
            return ctt_json_u64(v);
    return 0;
}

static json_t *show(const char *addr)
{
    const char *args[] = {"show", addr, NULL};
    return ok(ctt_dev_keys[0], args);
}

static void dynamic_price(void **state)
{
    const char *offer_args[] = {"offer",      "--kind",        "dynamic", "--price",
                                "3600000000", "--max-seconds", "3600",    NULL};
    const char *addr = offer(offer_args), *err = NULL;
    json_t *doc;
    uint64_t used, charged;
    (void)state;

    {
        const char *a[] = {"accept", addr, "--deposit", "3599999999", NULL};
        assert_int_equal(agree(user_key, NULL, &err, a), 2);
        expect_err(err, "= WrongDeposit(\"3599999999\",\"3600000000\")");
    }
    doc = show(addr);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "offered");
    json_decref(doc);
    {
        const char *a[] = {"accept", addr, "--deposit", "3600000000", NULL};
        json_decref(ok(user_key, a));
    }
    ct_sleep_ms(2100);
    {
        const char *a[] = {"stop", addr, NULL};
        assert_int_equal(agree(ctt_dev_keys[0], NULL, &err, a), 2); /* the provider */
        expect_err(err, "= NotUser()");
        json_decref(ok(user_key, a));
        assert_int_equal(agree(user_key, NULL, &err, a), 2); /* twice */
        expect_err(err, "= WrongState(\"2\")");
    }
    doc = show(addr);
    assert_string_equal(json_string_value(json_object_get(doc, "kind")), "dynamic");
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "settled");
    used = field(doc, "ended_at") - field(doc, "started_at");
    assert_int_equal(field(doc, "seconds_used"), used);
    assert_true(used >= 2);
    charged = 3600000000ull * used / 3600;
    assert_int_equal(field(doc, "charged"), charged);
    assert_int_equal(field(doc, "refunded"), 3600000000ull - charged);
    assert_int_equal(owed(doc, json_string_value(json_object_get(doc, "provider"))), charged);
    assert_int_equal(owed(doc, json_string_value(json_object_get(doc, "user"))),
                     3600000000ull - charged);
    json_decref(doc);
    {
        const char *a[] = {"withdraw", addr, NULL};
        json_decref(ok(ctt_dev_keys[0], a));
        json_decref(ok(user_key, a));
        assert_int_equal(agree(user_key, NULL, &err, a), 2);
        expect_err(err, "= NothingToWithdraw()");
    }
    doc = show(addr);
    assert_int_equal(field(doc, "balance"), 0);
    json_decref(doc);
}

static void prepaid_sessions(void **state)
{
    const char *offer_args[] = {"offer", "--kind", "prepaid", "--price-per-minute", "600", NULL};
    const char *addr = offer(offer_args), *err = NULL;
    json_t *doc;
    uint64_t used;
    (void)state;

    {
        const char *a[] = {"start", addr, NULL};
        assert_int_equal(agree(user_key, NULL, &err, a), 2); /* no minutes yet */
        expect_err(err, "= NotUser()");
    }
    {
        const char *a[] = {"accept", addr, "--deposit", "6000", NULL};
        json_decref(ok(user_key, a));
    }
    {
        const char *start[] = {"start", addr, NULL}, *stop[] = {"stop", addr, NULL};
        json_decref(ok(user_key, start));
        ct_sleep_ms(1100);
        json_decref(ok(user_key, stop));
    }
    doc = show(addr);
    assert_string_equal(json_string_value(json_object_get(doc, "kind")), "prepaid");
    used = field(doc, "seconds_used");
    assert_true(used >= 1);
    assert_int_equal(field(doc, "charged"), 600 * used / 60);
    assert_int_equal(field(doc, "credit"), 6000 - 600 * used / 60);
    assert_int_equal(field(doc, "sessions"), 1);
    json_decref(doc);
    {
        const char *refund[] = {"refund", addr, NULL}, *w[] = {"withdraw", addr, NULL};
        json_decref(ok(user_key, refund));
        json_decref(ok(user_key, w));
        json_decref(ok(ctt_dev_keys[0], w));
    }
    doc = show(addr);
    assert_int_equal(field(doc, "balance"), 0);
    json_decref(doc);
}

static void split_income(void **state)
{
    const char *p[3];
    const char *addr, *err = NULL;
    json_t *doc;
    (void)state;

    for (int i = 0; i < 3; i++)
        p[i] = ctt_addr(ctt_dev_address(1 + i));
    {
        const char *a[] = {"offer",
                           "--kind",
                           "split",
                           "--price",
                           "1001",
                           "--party",
                           ctt_path("%s:50", p[0]),
                           "--party",
                           ctt_path("%s:30", p[1]),
                           "--party",
                           ctt_path("%s:20", p[2]),
                           NULL};
        addr = offer(a);
    }
    {
        const char *a[] = {"accept", addr, "--deposit", "1001", NULL};
        assert_int_equal(agree(user_key, NULL, &err, a), 2); /* not offered yet */
        expect_err(err, "= WrongState(\"0\")");
    }
    for (int i = 0; i < 3; i++) {
        const char *a[] = {"vote", addr, "--yes", NULL};
        json_decref(ok(ctt_dev_keys[1 + i], a));
    }
    {
        const char *a[] = {"accept", addr, "--deposit", "1001", NULL};
        json_decref(ok(user_key, a));
    }
    doc = show(addr);
    assert_string_equal(json_string_value(json_object_get(doc, "kind")), "split");
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "accepted");
    assert_int_equal(owed(doc, p[0]), 501);
    assert_int_equal(owed(doc, p[1]), 300);
    assert_int_equal(owed(doc, p[2]), 200);
    json_decref(doc);
}

static void bad_input(void **state)
{
    const char *err = NULL;
    (void)state;

    {
        const char *a[] = {"offer", "--kind", "lottery", "--price", "1", NULL};
        assert_int_equal(agree(ctt_dev_keys[0], NULL, &err, a), 2);
        expect_err(err, "--kind");
    }
    {
        const char *a[] = {"offer", "--kind", "dynamic", "--price", "10", NULL};
        assert_int_equal(agree(ctt_dev_keys[0], NULL, &err, a), 2);
        expect_err(err, "--max-seconds");
    }
    {
        const char *a[] = {"offer", "--kind", "split", "--price", "10", "--party", "0x12:1", NULL};
        assert_int_equal(agree(ctt_dev_keys[0], NULL, &err, a), 2);
        expect_err(err, "not an address");
    }
    {
        const char *a[] = {"show", "0x000000000000000000000000000000000000dEaD", NULL};
        assert_int_equal(agree(ctt_dev_keys[0], NULL, &err, a), 2);
        expect_err(err, "no contract at");
    }
    {
        const char *o[] = {"offer", "--kind",        "fixed", "--price",
                           "10",    "--max-seconds", "60",    NULL};
        const char *addr = offer(o);
        const char *a[] = {"vote", addr, "--yes", NULL};
        assert_int_equal(agree(ctt_dev_keys[1], NULL, &err, a), 2);
        expect_err(err, "vote");
        {
            const char *s[] = {"settle", addr, NULL};
            assert_int_equal(agree(ctt_dev_keys[1], NULL, &err, s), 2); /* not accepted */
            expect_err(err, "= WrongState(\"0\")");
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dynamic_price),
        cmocka_unit_test(prepaid_sessions),
        cmocka_unit_test(split_income),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
