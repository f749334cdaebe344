/* Deploy on agreement (seed 004 Figure 6.1) through `catena up`: the
 * gateway's keeper deploys a session service when the user accepts, binds
 * its VC and URL to the agreement, keeps the VC's availability on the
 * Federation ledger, settles at the deadline and undeploys.
 * - the dynamic-price flow: offer, accept, the URL answers, stop, the URL
 *   is gone, the pro-rata charge to the wei, both withdrawals, the VC
 *   registered by DC1 and retired;
 * - the SLA refund: the session service frozen (SIGSTOP) for over a
 *   quarter of the session, the Federation records it down, everything is
 *   refunded;
 * - the deadline with the gateway killed (-9) during the session: the
 *   service keeps its URL, the restarted gateway's keeper settles it;
 * - an offer without SLA (--sla 0) gets no session;
 * - constraints: DC1 (eu-west, gdpr=true, declared by catena up) serves an
 *   offer constrained to region eu-west|eu-central and gdpr=true; an offer
 *   only DC2 satisfies gets no session from DC1's keeper and is refunded
 *   in full at the deadline; one that no DC satisfies is refused at the
 *   offer (exit 2, nothing deployed, nothing charged);
 * - DC attributes through the gateway (`catena dc attributes`): read,
 *   replaced by their DC, refused for a bad key or another DC's token;
 *   `catena place --constraint` places only on DCs that satisfy them. */
#include "harness.h"

#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "catena/util.h"

#define PRICE "1000000000000" /* wei for the whole maximum period */

static ct_proc up;
static json_t *fed;
static const char *dir;

static int setup(void **state)
{
    (void)state;
    if (ctt_up_chain_is_poa())
        return 0; /* the PoA federation has no named accounts: skipped */
    dir = ctt_path("%s/up", ctt_tmpdir());
    return ctt_up_start(&up, &fed, dir);
}

static int teardown(void **state)
{
    (void)state;
    if (dir != NULL)
        ctt_stop(&up);
    json_decref(fed);
    return 0;
}

static void skip_on_poa(void)
{
    if (ctt_up_chain_is_poa()) {
        print_message("skipped: the PoA federation has no named accounts\n");
        skip();
    }
}

/* Runs `catena agreement ARGS --up-dir DIR --json`. Returns: the exit
 * code; *out the JSON printed (exit 0), *err the error text. */
static int agree(json_t **out, const char **err, const char *const *args)
{
    const char *argv[32];
    int n = 0, code;
    ctt_run r;

    argv[n++] = "agreement";
    for (int i = 0; args[i] != NULL && n < 28; i++)
        argv[n++] = args[i];
    argv[n++] = "--up-dir";
    argv[n++] = dir;
    argv[n++] = "--json";
    argv[n] = NULL;
    ctt_catena(&r, argv);
    code = ctt_exit_code(&r);
    if (out != NULL) {
        *out = NULL;
        if (code == 0)
            ctt_ok(ct_json_parse(out, r.out, strlen(r.out), 16));
    }
    if (err != NULL)
        *err = ctt_path("%s", r.err);
    else if (code != 0)
        fail_msg("catena agreement %s: %s", args[0], r.err);
    ctt_run_free(&r);
    return code;
}

/* Offers kind at PRICE for max_seconds with the extra
 * options (NULL-terminated). Returns: the agreement's address. */
static const char *offer_with(const char *kind, const char *max_seconds, const char *const *extra)
{
    const char *args[24] = {"offer", "--kind",        kind,       "--price",
                            PRICE,   "--max-seconds", max_seconds};
    json_t *out;
    const char *addr;
    int n = 7;

    for (int i = 0; extra[i] != NULL && n < 23; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    agree(&out, NULL, args);
    addr = ctt_path("%s", json_string_value(json_object_get(out, "agreement")));
    json_decref(out);
    return addr;
}

static const char *offer(const char *max_seconds, const char *sla)
{
    const char *extra[] = {sla ? "--sla" : NULL, sla, NULL};

    return offer_with("dynamic", max_seconds, extra);
}

static void act(const char *sub, const char *addr, const char *as)
{
    const char *args[] = {sub, addr, "--as", as, NULL};
    const char *accept[] = {sub, addr, "--deposit", PRICE, NULL};

    agree(NULL, NULL, strcmp(sub, "accept") == 0 ? accept : args);
}

static json_t *show(const char *addr)
{
    const char *args[] = {"show", addr, NULL};
    json_t *out;

    agree(&out, NULL, args);
    return out;
}

static const char *field(const json_t *doc, const char *key)
{
    return ctt_path("%s", json_string_value(json_object_get(doc, key)) ?: "");
}

static uint64_t num(const json_t *doc, const char *key)
{
    uint64_t n = 0;

    ctt_ok(ct_parse_uint(&n, field(doc, key), UINT64_MAX));
    return n;
}

/* Waits up to 60 s until the agreement's session URL is set. Returns it. */
static const char *wait_bound(const char *addr)
{
    for (int i = 0; i < 300; i++) {
        json_t *doc = show(addr);
        const char *url = json_string_value(json_object_get(doc, "session_url"));
        if (url != NULL) {
            url = ctt_path("%s", url);
            json_decref(doc);
            return url;
        }
        json_decref(doc);
        ct_sleep_ms(200);
    }
    fail_msg("the keeper did not bind a session to %s", addr);
    return NULL;
}

static long get_status(const char *url)
{
    json_t *body = NULL;
    long status = 0;

    if (ct_http_request(&status, &body, "GET", url, NULL, NULL, 3000) < 0) {
        ct_error_clear();
        status = 0;
    }
    json_decref(body);
    return status;
}

/* Waits up to 60 s until url stops answering. */
static void wait_gone(const char *url)
{
    for (int i = 0; i < 300 && get_status(url) != 0; i++)
        ct_sleep_ms(200);
    assert_int_equal(get_status(url), 0);
}

/* Waits up to 60 s until the agreement is in state. Returns: its show. */
static json_t *wait_state(const char *addr, const char *state)
{
    for (int i = 0; i < 300; i++) {
        json_t *doc = show(addr);
        if (strcmp(field(doc, "state"), state) == 0)
            return doc;
        json_decref(doc);
        ct_sleep_ms(200);
    }
    fail_msg("%s did not become %s", addr, state);
    return NULL;
}

/* The session service's pid, from the keeper's record. */
static pid_t session_pid(const char *addr)
{
    char *text = NULL, lower[64];
    json_t *doc = NULL;
    pid_t pid;

    snprintf(lower, sizeof(lower), "%s", addr);
    for (char *p = lower; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
    ctt_ok(ct_file_read(&text, NULL, ctt_path("%s/sessions/%s.json", dir, lower), 65536));
    ctt_ok(ct_json_parse(&doc, text, strlen(text), 4));
    pid = (pid_t)json_integer_value(json_object_get(doc, "pid"));
    free(text);
    json_decref(doc);
    assert_true(pid > 0);
    return pid;
}

/* GET API_URL/container/TAG/WHAT, waiting up to 20 s for a 200 (a
 * 404 until the gateway's cache has followed the chain that far).
 * Returns: the answer. */
static json_t *vc_get(const char *tag, const char *what)
{
    const char *api = json_string_value(json_object_get(fed, "api_url"));
    json_t *out = NULL;
    long status = 0;

    for (int i = 0; i < 100 && status != 200; i++) {
        json_decref(out);
        out = NULL;
        if (i > 0)
            ct_sleep_ms(200);
        ctt_ok(ct_http_request(&status, &out, "GET", ctt_path("%s/container/%s/%s", api, tag, what),
                               NULL, NULL, 5000));
    }
    assert_int_equal(status, 200);
    return out;
}

/* Whether the VC's history holds an event called name. */
static bool history_has(const char *tag, const char *name)
{
    json_t *hist = vc_get(tag, "history"), *e;
    bool found = false;
    size_t i;

    json_array_foreach (hist, i, e)
        found = found || strcmp(json_string_value(json_object_get(e, "name")) ?: "", name) == 0;
    json_decref(hist);
    return found;
}

/* The gateway's GET /api/agreements/{address} answers what `catena
 * agreement show` prints, its list holds it, and bad addresses are
 * refused. */
static void gateway_shows(const char *addr, const json_t *shown)
{
    const char *api = json_string_value(json_object_get(fed, "api_url"));
    json_t *out = NULL, *a;
    long status = 0;
    bool listed = false;
    size_t i;

    ctt_ok(ct_http_request(&status, &out, "GET", ctt_path("%s/agreements/%s", api, addr), NULL,
                           NULL, 10000));
    assert_int_equal(status, 200);
    assert_true(json_equal(out, (json_t *)shown));
    json_decref(out);
    ctt_ok(ct_http_request(&status, &out, "GET", ctt_path("%s/agreements?limit=200", api), NULL,
                           NULL, 10000));
    assert_int_equal(status, 200);
    json_array_foreach (json_object_get(out, "agreements"), i, a)
        listed = listed || strcasecmp(json_string_value(json_object_get(a, "address")), addr) == 0;
    assert_true(listed);
    json_decref(out);
    ctt_ok(ct_http_request(&status, &out, "GET", ctt_path("%s/agreements/0x12", api), NULL, NULL,
                           10000));
    assert_int_equal(status, 400);
    json_decref(out);
    ctt_ok(
        ct_http_request(&status, &out, "GET",
                        ctt_path("%s/agreements/0x00000000000000000000000000000000000000aa", api),
                        NULL, NULL, 10000));
    assert_int_equal(status, 404);
    json_decref(out);
    ctt_ok(ct_http_request(&status, &out, "GET", ctt_path("%s/agreements?limit=0", api), NULL, NULL,
                           10000));
    assert_int_equal(status, 400);
    json_decref(out);
}

/* Figure 6.1: offer, accept, the session deployed and bound, its URL
 * answering, the user stops, the URL is gone, the charge is pro rata to
 * the wei, and both sides withdraw. */
static void dynamic_price_session(void **state)
{
    const char *addr, *url;
    char tag[67];
    json_t *doc;
    uint64_t used, charged, refunded;
    int64_t t0;
    (void)state;

    skip_on_poa();
    addr = offer("3600", NULL);
    doc = show(addr);
    assert_string_equal(field(doc, "sla_percent"), "75");
    assert_true(strcasecmp(field(doc, "federation"),
                           json_string_value(json_object_get(fed, "contract"))) == 0);
    assert_true(json_is_null(json_object_get(doc, "session_url")));
    json_decref(doc);
    t0 = ct_time_mono_ms();
    act("accept", addr, "user");
    url = wait_bound(addr);
    print_message("accept to session URL: %lld ms\n", (long long)(ct_time_mono_ms() - t0));
    assert_int_equal(get_status(url), 200);
    assert_int_equal(get_status(ctt_path("%s-other", url)), 404); /* the URL is the session's */
    doc = show(addr);
    snprintf(tag, sizeof(tag), "%s", field(doc, "vc_tag"));
    assert_int_equal(strlen(tag), 66);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "host_dc"), "name")),
                        "DC1");
    json_decref(doc);

    ct_sleep_ms(2500);
    act("stop", addr, "user");
    wait_gone(url);
    doc = show(addr);
    assert_string_equal(field(doc, "state"), "settled");
    used = num(doc, "ended_at") - num(doc, "started_at");
    assert_int_equal(num(doc, "seconds_used"), used);
    assert_true(used >= 2);
    charged = num(doc, "charged");
    refunded = num(doc, "refunded");
    /* price * used / 3600, the rest back: to the wei */
    assert_int_equal(charged, 1000000000000ull * used / 3600);
    assert_int_equal(charged + refunded, 1000000000000ull);
    assert_true(num(doc, "availability") >= 75);
    gateway_shows(addr, doc);
    json_decref(doc);
    act("withdraw", addr, "provider");
    act("withdraw", addr, "user");
    doc = show(addr);
    assert_string_equal(field(doc, "balance"), "0");
    json_decref(doc);

    /* The VC: registered by DC1, retired once the session ended (the
     * gateway's cache follows the chain within a few seconds). */
    for (int i = 0; i < 100 && !history_has(tag, "ContainerRetired"); i++)
        ct_sleep_ms(200);
    assert_true(history_has(tag, "ContainerRetired"));
    assert_true(history_has(tag, "ContainerRegistered"));
    doc = vc_get(tag, "details");
    assert_string_equal(json_string_value(json_object_get(doc, "vc_type")), "session");
    assert_true(json_is_true(json_object_get(doc, "retired")));
    assert_true(
        strcasecmp(json_string_value(json_object_get(doc, "host")),
                   json_string_value(json_object_get(
                       json_array_get(json_object_get(fed, "datacenters"), 0), "wallet"))) == 0);
    json_decref(doc);
}

/* The session service frozen for over a quarter of the session: the
 * keeper records it unavailable, and stopping refunds everything. */
static void sla_refund(void **state)
{
    const char *addr, *url;
    json_t *doc;
    pid_t pid;
    (void)state;

    skip_on_poa();
    addr = offer("3600", "75");
    act("accept", addr, "user");
    url = wait_bound(addr);
    pid = session_pid(addr);
    ct_sleep_ms(2000);
    ctt_freeze(pid, false);
    ct_sleep_ms(12000);
    assert_int_equal(kill(pid, SIGCONT), 0);
    for (int i = 0; i < 100 && get_status(url) != 200; i++)
        ct_sleep_ms(200);
    ct_sleep_ms(2000);
    act("stop", addr, "user");
    doc = show(addr);
    print_message("availability %s%% over %llu s\n", field(doc, "availability"),
                  (unsigned long long)(num(doc, "ended_at") - num(doc, "bound_at")));
    assert_true(num(doc, "availability") < 75);
    assert_string_equal(field(doc, "charged"), "0");
    assert_string_equal(field(doc, "refunded"), PRICE);
    json_decref(doc);
    wait_gone(url);
}

/* No stop: the keeper settles at the deadline, even though the gateway
 * was killed (-9) during the session; the service kept its URL. */
static void deadline_after_gateway_crash(void **state)
{
    const char *addr, *url;
    json_t *doc;
    pid_t api, pid;
    (void)state;

    skip_on_poa();
    addr = offer("15", NULL);
    act("accept", addr, "user");
    url = wait_bound(addr);
    pid = session_pid(addr);
    api = (pid_t)json_integer_value(json_object_get(fed, "api_pid"));
    assert_true(api > 0);
    assert_int_equal(kill(api, SIGKILL), 0);
    assert_int_equal(get_status(url), 200); /* served without the gateway */
    doc = wait_state(addr, "settled");
    assert_string_equal(field(doc, "seconds_used"), "15");
    assert_string_equal(field(doc, "charged"), PRICE); /* the whole period */
    json_decref(doc);
    wait_gone(url);
    for (int i = 0; i < 50 && kill(pid, 0) == 0; i++) /* reaped by whoever adopted it */
        ct_sleep_ms(100);
    assert_int_not_equal(kill(pid, 0), 0);
}

/* An offer without SLA names no ledger and gets no session. */
static void no_sla_no_session(void **state)
{
    const char *addr;
    json_t *doc;
    (void)state;

    skip_on_poa();
    addr = offer("3600", "0");
    act("accept", addr, "user");
    ct_sleep_ms(4000);
    doc = show(addr);
    assert_string_equal(field(doc, "sla_percent"), "0");
    assert_true(json_is_null(json_object_get(doc, "session_url")));
    json_decref(doc);
    act("stop", addr, "user");
}

static const char *offer_constrained(const char *max_seconds, const char *c1, const char *c2)
{
    const char *extra[] = {"--constraint", c1, "--constraint", c2, NULL};

    return offer_with("constrained", max_seconds, extra);
}

/* The number of transactions the account has sent. */
static uint64_t nonce_of(const char *name)
{
    const json_t *acc = NULL, *a;
    json_t *res = NULL, *params;
    ct_rpc *rpc;
    uint64_t n = 0;
    size_t i;

    json_array_foreach (json_object_get(fed, "accounts"), i, a)
        if (strcmp(json_string_value(json_object_get(a, "name")) ?: "", name) == 0)
            acc = a;
    assert_non_null(acc);
    ctt_ok(ct_rpc_new(&rpc, json_string_value(json_object_get(fed, "rpc_url")), 5000));
    params = json_pack("[O, s]", json_object_get(acc, "address"), "latest");
    ctt_ok(ct_rpc_call(rpc, &res, "eth_getTransactionCount", params));
    json_decref(params);
    n = strtoull(json_string_value(res) + 2, NULL, 16);
    json_decref(res);
    ct_rpc_free(rpc);
    return n;
}

static void constraints(void **state)
{
    const char *addr, *url, *err;
    json_t *doc;
    uint64_t provider_nonce, user_nonce;
    (void)state;

    skip_on_poa();
    /* DC1 satisfies: a session on DC1. */
    addr = offer_constrained("3600", "region=eu-west|eu-central", "gdpr=true");
    doc = show(addr);
    assert_int_equal(json_array_size(json_object_get(doc, "constraints")), 3);
    json_decref(doc);
    act("accept", addr, "user");
    url = wait_bound(addr);
    assert_int_equal(get_status(url), 200);
    doc = show(addr);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "host_dc"), "name")),
                        "DC1");
    json_decref(doc);
    act("stop", addr, "user");
    wait_gone(url);

    /* Only DC2 satisfies: DC1's keeper deploys nothing; at the deadline the
     * user gets everything back. */
    addr = offer_constrained("8", "gdpr=false", "country=US");
    act("accept", addr, "user");
    doc = wait_state(addr, "settled");
    assert_true(json_is_null(json_object_get(doc, "session_url")));
    assert_string_equal(field(doc, "charged"), "0");
    assert_string_equal(field(doc, "refunded"), PRICE);
    json_decref(doc);

    /* No DC satisfies: refused before anything is deployed or paid. */
    provider_nonce = nonce_of("provider");
    user_nonce = nonce_of("user");
    {
        const char *args[] = {"offer",         "--kind", "constrained",  "--price",         PRICE,
                              "--max-seconds", "60",     "--constraint", "region=ap-south", NULL};
        assert_int_equal(agree(NULL, &err, args), 2);
        assert_non_null(strstr(err, "no datacenter"));
        assert_non_null(strstr(err, "nothing was deployed"));
    }
    assert_int_equal(nonce_of("provider"), provider_nonce);
    assert_int_equal(nonce_of("user"), user_nonce);
    /* Constraints need the ledger, and a kind that deploys a session. */
    {
        const char *args[] = {"offer", "--kind",        "dynamic",   "--price",
                              PRICE,   "--max-seconds", "60",        "--sla",
                              "0",     "--constraint",  "gdpr=true", NULL};
        assert_int_equal(agree(NULL, &err, args), 2);
        assert_non_null(strstr(err, "needs the Federation ledger"));
    }
    {
        const char *args[] = {"offer", "--kind",       "prepaid",   "--price-per-minute",
                              "60",    "--constraint", "gdpr=true", NULL};
        assert_int_equal(agree(NULL, &err, args), 2);
        assert_non_null(strstr(err, "deploy a session"));
    }
}

/* `catena ARGS... --federation DIR/federation.json`. Returns: the exit
 * code; *out the JSON printed (exit 0), *err the error text. */
static int catena_fed(json_t **out, const char **err, const char *const *args)
{
    const char *argv[32];
    int n = 0, code;
    ctt_run r;

    for (int i = 0; args[i] != NULL && n < 29; i++)
        argv[n++] = args[i];
    argv[n++] = "--federation";
    argv[n++] = ctt_path("%s/federation.json", dir);
    argv[n] = NULL;
    ctt_catena(&r, argv);
    code = ctt_exit_code(&r);
    *out = NULL;
    if (code == 0 && r.out[0] == '{')
        ctt_ok(ct_json_parse(out, r.out, strlen(r.out), 16));
    *err = ctt_path("%s", r.err);
    ctt_run_free(&r);
    return code;
}

static const char *attr_of(const char *dc, const char *key)
{
    const char *args[] = {"dc", "attributes", dc, NULL}, *err;
    json_t *out;
    const char *v;

    assert_int_equal(catena_fed(&out, &err, args), 0);
    v = ctt_path("%s",
                 json_string_value(json_object_get(json_object_get(out, "attributes"), key)) ?: "");
    json_decref(out);
    return v;
}

static void dc_attributes_and_place(void **state)
{
    const char *err, *kb = CATENA_SOURCE_DIR "/docs/examples/kb.yaml",
                     *app = CATENA_SOURCE_DIR "/docs/examples/owncloud.yaml";
    json_t *out, *p;
    size_t i;
    (void)state;

    skip_on_poa();
    /* What catena up declared. */
    assert_string_equal(attr_of("DC1", "gdpr"), "true");
    assert_string_equal(attr_of("DC2", "country"), "US");
    /* place: gdpr=false leaves DC2's hosts only. */
    {
        const char *args[] = {"place",        app,          "--kb", kb, "--format", "json",
                              "--constraint", "gdpr=false", NULL};
        assert_int_equal(catena_fed(&out, &err, args), 0);
        assert_non_null(strstr(err, "datacenter DC1 excluded"));
        json_array_foreach (json_object_get(out, "placements"), i, p)
            assert_string_equal(json_string_value(json_object_get(p, "datacenter")), "DC2");
        assert_true(json_array_size(json_object_get(out, "placements")) > 0);
        json_decref(out);
    }
    {
        const char *args[] = {"place", app, "--kb", kb, "--constraint", "region=ap-south", NULL};
        assert_int_equal(catena_fed(&out, &err, args), 1);
        assert_non_null(strstr(err, "no datacenter satisfies the constraints"));
    }
    /* A DC replaces its own declaration; bad input changes nothing. */
    {
        const char *args[] = {"dc", "attributes", "DC2", "tier=gold", "gdpr=false", NULL};
        assert_int_equal(catena_fed(&out, &err, args), 0);
        json_decref(out);
        assert_string_equal(attr_of("DC2", "tier"), "gold");
        assert_string_equal(attr_of("DC2", "country"), ""); /* replaced */
    }
    {
        const char *args[] = {"dc", "attributes", "DC2", "Bad Key=x", NULL};
        assert_int_equal(catena_fed(&out, &err, args), 2);
        assert_non_null(strstr(err, "400"));
        assert_string_equal(attr_of("DC2", "tier"), "gold");
    }
    {
        /* DC1's token cannot act for DC2. */
        const json_t *dc1 = json_array_get(json_object_get(fed, "datacenters"), 0);
        json_t *body = json_pack("{s:{s:s}}", "attributes", "gdpr", "true"), *ans = NULL;
        char *text = json_dumps(body, JSON_COMPACT);
        long status = 0;
        ctt_ok(ct_http_request(&status, &ans, "POST",
                               ctt_path("%s/datacenter/DC2/attributes",
                                        json_string_value(json_object_get(fed, "api_url"))),
                               json_string_value(json_object_get(dc1, "token")), text, 10000));
        assert_int_equal(status, 403);
        free(text);
        json_decref(body);
        json_decref(ans);
        assert_string_equal(attr_of("DC2", "gdpr"), "false");
    }
    {
        const char *args[] = {"dc",         "attributes", "DC2", "region=us-east",
                              "country=US", "gdpr=false", NULL};
        assert_int_equal(catena_fed(&out, &err, args), 0);
        json_decref(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dynamic_price_session),
        cmocka_unit_test(sla_refund),
        cmocka_unit_test(deadline_after_gateway_crash),
        cmocka_unit_test(no_sla_no_session),
        cmocka_unit_test(constraints),
        cmocka_unit_test(dc_attributes_and_place),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
