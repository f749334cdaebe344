/* `catena agreement` on a real chain (seed 004): a dynamic-price agreement
 * offered, accepted, stopped and settled to the wei from its block
 * timestamps, both sides withdrawing (and what each was paid); a prepaid
 * agreement with a session charged by the second, the rest refunded, no
 * session without minutes; a split agreement voted by its three parties
 * and its income divided with no dust lost; fixed and flexible prices (the
 * whole price; the minimum), settling twice refused; a consensus decision
 * by quorum (passed with one refusal, rejected with two); bad input
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

static uint64_t paid(const json_t *doc, const char *who)
{
    const char *k;
    json_t *v;

    json_object_foreach ((json_t *)json_object_get(doc, "paid"), k, v)
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
    /* paid: what each side got, withdrawn now (owed 0) */
    assert_int_equal(paid(doc, json_string_value(json_object_get(doc, "provider"))), charged);
    assert_int_equal(paid(doc, json_string_value(json_object_get(doc, "user"))),
                     3600000000ull - charged);
    assert_int_equal(owed(doc, json_string_value(json_object_get(doc, "user"))), 0);
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
    {
        const char *a[] = {"start", addr, NULL};
        assert_int_equal(agree(user_key, NULL, &err, a), 2); /* the credit was refunded */
        expect_err(err, "= NoMinutesLeft()");
    }
    doc = show(addr);
    assert_int_equal(field(doc, "balance"), 0);
    json_decref(doc);
}

/* The user accepts the shared agreement at addr for 1001 wei; its kind and
 * each of the three parties' part are checked. */
static void accept_split(const char *addr, const char *kind, const char *const *parties,
                         const uint64_t *parts)
{
    const char *a[] = {"accept", addr, "--deposit", "1001", NULL};
    json_t *doc;

    json_decref(ok(user_key, a));
    doc = show(addr);
    assert_string_equal(json_string_value(json_object_get(doc, "kind")), kind);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "accepted");
    for (int i = 0; i < 3; i++)
        assert_int_equal(owed(doc, parties[i]), parts[i]);
    json_decref(doc);
}

static void split_income(void **state)
{
    const char *p[3];
    const char *addr, *err = NULL;
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
    accept_split(addr, "split", p, (const uint64_t[]){501, 300, 200});
}

/* Fixed price: the whole price whatever was used; flexible: pro rata,
 * but at least the minimum; settling twice is refused. */
static void fixed_and_flexible(void **state)
{
    const char *fixed[] = {"offer", "--kind",        "fixed", "--price",
                           "1000",  "--max-seconds", "3600",  NULL};
    const char *flex[] = {"offer",         "--kind", "flexible",  "--price", "3600000",
                          "--max-seconds", "3600",   "--minimum", "500000",  NULL};
    const char *addr = offer(fixed), *err = NULL;
    json_t *doc;
    uint64_t used, pro_rata;
    (void)state;

    {
        const char *a[] = {"accept", addr, "--deposit", "1000", NULL}, *s[] = {"stop", addr, NULL};
        json_decref(ok(user_key, a));
        ct_sleep_ms(1100);
        json_decref(ok(user_key, s));
    }
    doc = show(addr);
    assert_string_equal(json_string_value(json_object_get(doc, "kind")), "fixed");
    assert_int_equal(field(doc, "charged"), 1000);
    assert_int_equal(field(doc, "refunded"), 0);
    json_decref(doc);
    {
        const char *s[] = {"settle", addr, NULL};
        assert_int_equal(agree(ctt_dev_keys[1], NULL, &err, s), 2); /* settled already */
        expect_err(err, "= WrongState(\"2\")");
    }
    addr = offer(flex);
    {
        const char *a[] = {"accept", addr, "--deposit", "3600000", NULL},
                   *s[] = {"stop", addr, NULL};
        json_decref(ok(user_key, a));
        ct_sleep_ms(1100);
        json_decref(ok(user_key, s));
    }
    doc = show(addr);
    assert_string_equal(json_string_value(json_object_get(doc, "kind")), "flexible");
    used = field(doc, "ended_at") - field(doc, "started_at");
    pro_rata = 3600000ull * used / 3600;
    assert_int_equal(field(doc, "charged"), pro_rata > 500000 ? pro_rata : 500000);
    assert_int_equal(field(doc, "charged") + field(doc, "refunded"), 3600000);
    json_decref(doc);
}

/* Consensus decision: three voters with equal shares (--voter), a quorum
 * of two: one refusal does not stop the offer; 1001 wei split 334, 334,
 * 333. Another with two refusals is rejected for good. */
static void consensus_vote(void **state)
{
    const char *v[3], *addr, *rejected, *err = NULL;
    json_t *doc;
    (void)state;

    for (int i = 0; i < 3; i++)
        v[i] = ctt_addr(ctt_dev_address(1 + i));
    {
        const char *a[] = {"offer",   "--kind", "vote",    "--price", "1001",     "--voter", v[0],
                           "--voter", v[1],     "--voter", v[2],      "--quorum", "2",       NULL};
        addr = offer(a);
        rejected = offer(a);
    }
    {
        const char *yes[] = {"vote", addr, "--yes", NULL}, *no[] = {"vote", addr, "--no", NULL};
        json_decref(ok(ctt_dev_keys[1], yes));
        json_decref(ok(ctt_dev_keys[2], no));
        doc = show(addr);
        assert_string_equal(json_string_value(json_object_get(doc, "state")), "voting");
        json_decref(doc);
        json_decref(ok(ctt_dev_keys[3], yes));
        assert_int_equal(agree(ctt_dev_keys[3], NULL, &err, yes), 2); /* voting twice */
    }
    accept_split(addr, "vote", v, (const uint64_t[]){334, 334, 333});
    {
        const char *no[] = {"vote", rejected, "--no", NULL};
        const char *a[] = {"accept", rejected, "--deposit", "1001", NULL};
        json_decref(ok(ctt_dev_keys[1], no));
        json_decref(ok(ctt_dev_keys[2], no));
        doc = show(rejected);
        assert_string_equal(json_string_value(json_object_get(doc, "state")), "rejected");
        json_decref(doc);
        assert_int_equal(agree(user_key, NULL, &err, a), 2);
        expect_err(err, "= WrongState(");
    }
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
        cmocka_unit_test(dynamic_price),  cmocka_unit_test(prepaid_sessions),
        cmocka_unit_test(split_income),   cmocka_unit_test(fixed_and_flexible),
        cmocka_unit_test(consensus_vote), cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
