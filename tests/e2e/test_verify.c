/* `catena verify` on a real federation (`catena up` on CATENA_TEST_CHAIN):
 * an honest gateway verifies online against every node and offline from
 * a bundle; a damaged bundle (trie node, header gap, receipt, a block
 * left out, the wrong trusted block or contract) is refused with the
 * problem named; a gateway whose SQLite cache was tampered with (a field
 * changed, an event dropped, one forged, two swapped, a block hash
 * altered) or that stopped following is caught on each VC with the
 * problem named, while an untouched VC on the same gateway still
 * verifies; and a chain reorganisation raises no false alarm. */
#include "harness.h"

#include "catena/ledger.h"
#include "catena/verify.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static ct_proc up;
static json_t *fed;
static const char *fed_path, *api, *dir;
/* The PoA network seals every 2 s and the gateway follows another node. */
static int patience = 1;

static int setup(void **state)
{
    (void)state;
    dir = ctt_path("%s/up", ctt_tmpdir());
    fed_path = ctt_path("%s/federation.json", dir);
    if (ctt_up_start(&up, &fed, dir) < 0)
        return -1;
    api = json_string_value(json_object_get(fed, "api_url"));
    patience = ctt_up_chain_is_poa() ? 20 : 1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ctt_stop(&up);
    json_decref(fed);
    return 0;
}

/* Runs catena with args; fails unless it exits want (-1: any).
 * Returns: stdout. */
static const char *run(int want, const char *const *args)
{
    ctt_run r;
    const char *out;

    ctt_catena(&r, args);
    const char *why = want >= 0 && ctt_exit_code(&r) != want
                          ? ctt_path("catena %s %s: exit %d, wanted %d: %s%s", args[0], args[1],
                                     ctt_exit_code(&r), want, r.err, r.out)
                          : NULL;
    out = ctt_path("%s", r.out);
    ctt_run_free(&r); /* before fail_msg, which does not return */
    if (why != NULL)
        fail_msg("%s", why);
    return out;
}

static size_t history_len(const char *gateway, const char *tag)
{
    json_t *out = NULL;
    long st = 0;
    size_t n;

    ctt_http(&st, &out, "GET", ctt_path("%s/container/%s/history", gateway, tag), NULL, NULL);
    n = st == 200 ? json_array_size(out) : 0;
    json_decref(out);
    return n;
}

static void wait_history(const char *tag, size_t n)
{
    for (int i = 0; i < 200 * patience; i++) {
        if (history_len(api, tag) == n)
            return;
        ct_sleep_ms(50);
    }
    fail_msg("the gateway's history of %s did not reach %zu events", tag, n);
}

/* Registers a VM through DC1 and returns its tag. */
static const char *new_vc(const char *id)
{
    static int n;
    const char *body = ctt_path(
        "{\"vc_type\":\"openstack:vm\",\"available\":true,\"vcpu\":1,\"vram\":512,\"vdisk\":5,"
        "\"id\":\"%s\",\"ip_address\":\"http://10.0.0.7\",\"controller\":\"http://10.0.0.1\","
        "\"created\":\"2026-12-06T10:%02d:00.000Z\"}",
        id, n++ % 60);
    json_t *out = NULL;
    json_error_t err;
    const char *tx, *tag = NULL;

    out = json_loads(
        run(0, (const char *[]){"vc", "register", "DC1", body, "--federation", fed_path, NULL}), 0,
        &err);
    tx = ctt_path("%s", json_string_value(json_object_get(out, "tx_hash")));
    json_decref(out);
    for (int i = 0; i < 100 * patience && tag == NULL; i++) {
        ctt_run r;
        ctt_catena(&r, (const char *[]){"vc", "tag", tx, "--federation", fed_path, NULL});
        if (ctt_exit_code(&r) == 0)
            tag = ctt_path("%.66s", r.out);
        ctt_run_free(&r);
        if (tag == NULL)
            ct_sleep_ms(100);
    }
    if (tag == NULL)
        fail_msg("no tag for %s", tx);
    wait_history(tag, 1);
    return tag;
}

/* n availability changes (down, up, ...); the history then has 1 + n. */
static void flap(const char *tag, int n)
{
    for (int i = 0; i < n; i++)
        run(0, (const char *[]){"vc", "availability", "DC1", tag, i % 2 ? "true" : "false",
                                "--federation", fed_path, NULL});
}

static json_t *report_of(const char *out)
{
    json_error_t err;
    json_t *r = json_loads(out, 0, &err);

    if (r == NULL)
        fail_msg("not JSON: %s: %s", err.text, out);
    return r;
}

/* `catena verify vc TAG --json` against the gateway at gateway (NULL: the
 * federation's) and every node of federation.json. */
static json_t *verify_vc(int want, const char *tag, const char *gateway)
{
    if (gateway == NULL)
        return report_of(run(
            want, (const char *[]){"verify", "vc", tag, "--federation", fed_path, "--json", NULL}));
    return report_of(run(want, (const char *[]){"verify", "vc", tag, "--federation", fed_path,
                                                "--api", gateway, "--json", NULL}));
}

/* Whether the report names a problem of kind (and field, if given). */
static bool names(const json_t *report, const char *kind, const char *field)
{
    const json_t *p;
    size_t i;

    json_array_foreach (json_object_get(report, "problems"), i, p)
        if (strcmp(json_string_value(json_object_get(p, "kind")), kind) == 0 &&
            (field == NULL || (json_is_string(json_object_get(p, "field")) &&
                               strcmp(json_string_value(json_object_get(p, "field")), field) == 0)))
            return true;
    return false;
}

static void expect_named(const json_t *report, const char *kind, const char *field,
                         const char *what)
{
    char *text = json_dumps(json_object_get(report, "problems"), JSON_COMPACT);

    if (json_is_true(json_object_get(report, "ok")) || !names(report, kind, field))
        fail_msg("%s: wanted a %s problem%s%s, got %s", what, kind, field ? " on " : "",
                 field ? field : "", text);
    free(text);
}

/* A change that changes nothing (29k gas), then one that records the
 * VC's first outage (75k): the agent used to reuse the first one's gas
 * estimate for the second, which then ran out of gas on chain after the
 * gateway had acknowledged it. Both must be on the chain. */
static void a_no_op_change_then_an_outage_are_both_mined(void **state)
{
    const char *tag = new_vc("vm-gas");

    (void)state;
    run(0,
        (const char *[]){"vc", "availability", "DC1", tag, "true", "--federation", fed_path, NULL});
    run(0, (const char *[]){"vc", "availability", "DC1", tag, "false", "--federation", fed_path,
                            NULL});
    wait_history(tag, 3);
    json_t *r = verify_vc(0, tag, NULL);
    if (json_is_object(json_object_get(r, "state")))
        assert_true(json_is_false(json_object_get(json_object_get(r, "state"), "available")));
    json_decref(r);
}

/* ---------------------------------------------------------------- bundles */

static const char *write_bundle(const json_t *b, const char *name)
{
    const char *path = ctt_path("%s/%s.json", ctt_tmpdir(), name);

    assert_int_equal(json_dump_file(b, path, JSON_COMPACT | JSON_ENCODE_ANY), 0);
    return path;
}

static const char *trust_of(const json_t *b)
{
    const json_t *head = json_object_get(b, "head");

    return ctt_path("%s@%" JSON_INTEGER_FORMAT, json_string_value(json_object_get(head, "hash")),
                    json_integer_value(json_object_get(head, "number")));
}

static json_t *verify_bundle(int want, const json_t *b, const char *name, const char *trust)
{
    return report_of(run(want, (const char *[]){"verify", "bundle", write_bundle(b, name),
                                                "--trust", trust, "--json", NULL}));
}

/* Flips one hex digit in the middle of the string at arr[i]. */
static void flip_hex(json_t *arr, size_t i)
{
    char *s = strdup(json_string_value(json_array_get(arr, i)));
    size_t at = strlen(s) / 2;

    s[at] = s[at] == '0' ? '1' : '0';
    json_array_set_new(arr, i, json_string(s));
    free(s);
}

static void honest_gateway_and_damaged_bundles(void **state)
{
    const char *tag = new_vc("vm-honest");
    json_t *r, *b, *d;
    json_error_t err;

    (void)state;
    flap(tag, 3);
    wait_history(tag, 4);
    r = verify_vc(0, tag, NULL);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_int_equal(json_integer_value(json_object_get(r, "events")), 4);
    assert_int_equal(json_integer_value(json_object_get(r, "claimed")), 4);
    /* The transactions were rebuilt from the node's objects, so the
     * events' tx_hash is proven too. */
    assert_true(json_is_true(json_object_get(r, "tx_hashes_proven")));
    /* Down, up, down: the storage proof shows the VC down (anvil proves
     * state; docs/VERIFY.md says which nodes do). */
    if (strcmp(ctt_up_chain(), "anvil") == 0)
        assert_true(json_is_false(json_object_get(json_object_get(r, "state"), "available")));
    if (json_is_object(json_object_get(r, "state")))
        assert_true(json_is_false(json_object_get(json_object_get(r, "state"), "available")));
    else
        assert_true(json_is_string(json_object_get(r, "state_note")));
    print_message("%s: state %s\n", ctt_up_chain(),
                  json_is_object(json_object_get(r, "state"))
                      ? "proven"
                      : json_string_value(json_object_get(r, "state_note")));
    json_decref(r);

    /* The gateway's bundle checks offline against its head. */
    b = json_loads(run(0, (const char *[]){"verify", "export", tag, "--api", api, NULL}), 0, &err);
    assert_non_null(b);
    /* Each block of the VC's events is in (the PoA network may seal two
     * changes in one block). */
    size_t n_blocks = json_array_size(json_object_get(b, "blocks"));
    assert_true(n_blocks >= 1);
    const char *trust = trust_of(b);
    json_decref(verify_bundle(0, b, "honest", trust));

    /* The wrong trusted block. */
    r = verify_bundle(
        1, b, "honest",
        ctt_path("0x%064d@%" JSON_INTEGER_FORMAT, 7,
                 json_integer_value(json_object_get(json_object_get(b, "head"), "number"))));
    expect_named(r, "trust", NULL, "wrong trusted block");
    json_decref(r);
    /* Another Federation than the user's. */
    r = report_of(
        run(1, (const char *[]){"verify", "bundle", write_bundle(b, "honest"), "--trust", trust,
                                "--contract", "0x000000000000000000000000000000000000dEaD",
                                "--json", NULL}));
    expect_named(r, "trust", "contract", "wrong contract");
    json_decref(r);

    /* One trie node of an inclusion proof altered. */
    d = json_deep_copy(b);
    json_t *nodes = NULL, *blk;
    size_t bi;
    json_array_foreach (json_object_get(d, "blocks"), bi, blk) /* the first with a proof */
        if (nodes == NULL && json_array_size(json_object_get(blk, "proofs")) > 0)
            nodes = json_object_get(json_array_get(json_object_get(blk, "proofs"), 0), "nodes");
    assert_non_null(nodes);
    flip_hex(nodes, json_array_size(nodes) - 1);
    r = verify_bundle(1, d, "node", trust);
    expect_named(r, "proof", NULL, "altered trie node");
    json_decref(r);
    json_decref(d);

    /* A receipt altered: the block's receipts no longer rebuild its root. */
    d = json_deep_copy(b);
    flip_hex(
        json_object_get(json_array_get(json_object_get(d, "blocks"), n_blocks - 1), "receipts"), 0);
    r = verify_bundle(1, d, "receipt", trust);
    expect_named(r, "receipts", NULL, "altered receipt");
    json_decref(r);
    json_decref(d);

    /* A header taken out of the middle: the chain has a gap. */
    d = json_deep_copy(b);
    json_array_remove(json_object_get(d, "headers"), 1);
    r = verify_bundle(1, d, "gap", trust);
    expect_named(r, "header", NULL, "header gap");
    json_decref(r);
    json_decref(d);

    /* An event claimed after the bundle's head (a gateway whose node is
     * ahead of the user's): not checkable yet, named apart from forged. */
    d = json_deep_copy(b);
    json_t *later = json_deep_copy(json_array_get(json_object_get(d, "history"), 0));
    json_object_set_new(
        later, "block_number",
        json_integer(json_integer_value(json_object_get(json_object_get(d, "head"), "number")) +
                     3));
    json_array_append_new(json_object_get(d, "history"), later);
    r = verify_bundle(1, d, "ahead", trust);
    expect_named(r, "ahead", NULL, "claimed after the head");
    assert_int_equal(json_array_size(json_object_get(r, "problems")), 1);
    json_decref(r);
    json_decref(d);

    /* A block with the VC's events left out: its bloom gives it away,
     * and the event claimed there cannot be proven. */
    d = json_deep_copy(b);
    json_array_remove(json_object_get(d, "blocks"), n_blocks - 1);
    r = verify_bundle(1, d, "left-out", trust);
    expect_named(r, "bloom", NULL, "block left out");
    expect_named(r, "unproven", NULL, "block left out");
    json_decref(r);
    json_decref(d);

    /* A malformed bundle is a clear failure, not a crash. */
    json_t *junk = json_string("x");
    const char *junk_path = write_bundle(junk, "junk");
    json_decref(junk);
    run(2, (const char *[]){"verify", "bundle", junk_path, NULL});
    r = report_of(
        run(1, (const char *[]){"verify", "bundle", junk_path, "--trust", trust, "--json", NULL}));
    expect_named(r, "bundle", NULL, "not a bundle");
    json_decref(r);
    json_decref(b);
}

/* ---------------------------------------------------------------- a dishonest gateway */

static void sql(sqlite3 *db, const char *q)
{
    char *err = NULL;

    if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", q, err);
    if (strncmp(q, "VACUUM", 6) != 0 && sqlite3_changes(db) == 0)
        fail_msg("%s changed nothing", q);
}

/* The event id of the VC's n-th event (0 = registration). */
static long long event_id(sqlite3 *db, const char *tag, int n)
{
    sqlite3_stmt *st;
    long long id = -1;

    assert_int_equal(sqlite3_prepare_v2(db,
                                        ctt_path("SELECT id FROM events WHERE vc_tag = x'%s'"
                                                 " ORDER BY id LIMIT 1 OFFSET %d",
                                                 tag + 2, n),
                                        -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    assert_true(id >= 0);
    return id;
}

/* ---------------------------------------------------------------- a node link to cut */

/* A loopback TCP relay to the chain node that can be cut: the stale
 * gateway reaches its node through it, and stops following when it is
 * cut (its node gone, as for a gateway whose node stopped syncing). */
typedef struct relay {
    int lfd;
    uint16_t port, to;
    atomic_bool cut;
    pthread_t thread;
} relay;

typedef struct pipe_pair {
    int a, b;
    relay *r;
} pipe_pair;

static void *pipe_main(void *arg)
{
    pipe_pair *p = arg;
    char buf[16384];

    for (;;) {
        struct pollfd fds[2] = {{p->a, POLLIN, 0}, {p->b, POLLIN, 0}};
        if (atomic_load(&p->r->cut) || poll(fds, 2, 100) < 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(fds[i].fd, buf, sizeof(buf));
            if (n <= 0 || write(i == 0 ? p->b : p->a, buf, (size_t)n) != n)
                goto done;
        }
    }
done:
    close(p->a);
    close(p->b);
    free(p);
    return NULL;
}

static void *relay_main(void *arg)
{
    relay *r = arg;

    while (!atomic_load(&r->cut)) {
        struct pollfd pfd = {r->lfd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        int c = accept(r->lfd, NULL, NULL), up_fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in to = {.sin_family = AF_INET,
                                 .sin_port = htons(r->to),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        pipe_pair *p = malloc(sizeof(*p));
        pthread_t t;
        if (c < 0 || up_fd < 0 || p == NULL ||
            connect(up_fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
            close(c), close(up_fd), free(p);
            continue;
        }
        *p = (pipe_pair){c, up_fd, r};
        if (pthread_create(&t, NULL, pipe_main, p) == 0)
            pthread_detach(t);
    }
    close(r->lfd);
    return NULL;
}

static void relay_start(relay *r, uint16_t to)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);

    r->to = to;
    atomic_store(&r->cut, false);
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(r->lfd >= 0);
    assert_int_equal(bind(r->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(r->lfd, 64), 0);
    assert_int_equal(getsockname(r->lfd, (struct sockaddr *)&a, &len), 0);
    r->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&r->thread, NULL, relay_main, r), 0);
}

/* Cuts the link: the listener closes and every open connection drops. */
static void relay_cut(relay *r)
{
    atomic_store(&r->cut, true);
    pthread_join(r->thread, NULL);
    ct_sleep_ms(300); /* the pipes notice within 100 ms */
}

/* A second gateway on a copy of the cache, reaching the node through
 * the relay: once the relay is cut it serves what it had, and follows
 * nothing from then on. */
static void start_stale_gateway(ct_proc *gw, const char **url, const char *cache, relay *rl)
{
    json_t *cfg = json_load_file(ctt_path("%s/api.json", dir), 0, NULL);
    const char *node = json_string_value(json_object_get(fed, "rpc_url"));
    const char *cfg_path = ctt_path("%s/stale.json", ctt_tmpdir());
    const char *colon = strrchr(node, ':');
    uint16_t port;

    assert_non_null(cfg);
    relay_start(rl, (uint16_t)strtoul(colon + 1, NULL, 10));
    ctt_ok(ct_net_free_port(&port));
    json_object_set_new(cfg, "listen", json_string(ctt_path("127.0.0.1:%u", port)));
    json_object_set_new(cfg, "rpc_url", json_string(ctt_path("http://127.0.0.1:%u", rl->port)));
    json_object_set_new(cfg, "cache", json_string(cache));
    json_object_set_new(cfg, "requests_db",
                        json_string(ctt_path("%s/stale-req.sqlite", ctt_tmpdir())));
    /* Serve the copy as it is (no rebuild from the chain), and leave the
     * agents to the live gateway. */
    json_object_set_new(cfg, "reindex", json_false());
    json_object_del(cfg, "agents");
    json_object_del(cfg, "tokens");
    json_object_del(cfg, "keeper_dc");
    json_object_del(cfg, "keeper_dir");
    json_object_del(cfg, "keeper_key_file");
    json_object_del(cfg, "keeper_token_file");
    assert_int_equal(json_dump_file(cfg, cfg_path, 0), 0);
    json_decref(cfg);
    char *argv[] = {(char *)ctt_catena_bin(), "api", "--config", (char *)cfg_path, NULL};
    ctt_spawn(gw, argv, ctt_path("%s/stale.log", ctt_tmpdir()));
    *url = ctt_path("http://127.0.0.1:%u/api", port);
    for (int i = 0; i < 200; i++) {
        json_t *out = NULL;
        long st = 0;
        ctt_http(&st, &out, "GET", ctt_path("%s/health", *url), NULL, NULL);
        json_decref(out);
        if (st == 200)
            return;
        ct_sleep_ms(50);
    }
    fail_msg("the stale gateway did not start");
}

static void tampered_cache_is_named(void **state)
{
    const char *tags[7],
        *names_[] = {"field", "dropped", "forged", "swapped", "blockhash", "stale", "honest"};
    const char *cache = ctt_path("%s/tampered.sqlite", ctt_tmpdir()), *stale;
    sqlite3 *db;
    ct_proc gw;
    relay rl;
    json_t *r;

    (void)state;
    if (ctt_up_chain_is_poa())
        skip(); /* the same checks; on the dev chains, each write is quick */
    for (int i = 0; i < 7; i++) {
        tags[i] = new_vc(ctt_path("vm-%s", names_[i]));
        flap(tags[i], 2);
        wait_history(tags[i], 3);
    }
    /* A consistent copy of the live cache, then damage it. */
    assert_int_equal(sqlite3_open(ctt_path("%s/cache.sqlite", dir), &db), SQLITE_OK);
    sql(db, ctt_path("VACUUM INTO '%s'", cache));
    sqlite3_close(db);
    assert_int_equal(sqlite3_open(cache, &db), SQLITE_OK);
    sql(db, ctt_path("UPDATE events SET args = json_set(args, '$.available', json('true'))"
                     " WHERE id = %lld",
                     event_id(db, tags[0], 1)));
    sql(db, ctt_path("DELETE FROM events WHERE id = %lld", event_id(db, tags[1], 2)));
    sql(db,
        ctt_path("INSERT INTO events (block_number, log_index, tx_index, tx_hash, name, vc_tag,"
                 " dc, args) SELECT block_number, log_index + 7, tx_index, tx_hash, name, vc_tag,"
                 " dc, args FROM events WHERE id = %lld",
                 event_id(db, tags[2], 1)));
    long long a = event_id(db, tags[3], 1), b = event_id(db, tags[3], 2);
    sql(db, ctt_path("UPDATE events SET id = -1 WHERE id = %lld;"
                     "UPDATE events SET id = %lld WHERE id = %lld;"
                     "UPDATE events SET id = %lld WHERE id = -1",
                     a, a, b, b));
    sql(db, ctt_path("UPDATE blocks SET hash = zeroblob(32) WHERE number ="
                     " (SELECT block_number FROM events WHERE id = %lld)",
                     event_id(db, tags[4], 2)));
    sqlite3_close(db);
    start_stale_gateway(&gw, &stale, cache, &rl);
    relay_cut(&rl);
    /* Written after the copy: only the live gateway and the chain know. */
    flap(tags[5], 2);
    wait_history(tags[5], 5);

    r = verify_vc(1, tags[0], stale);
    expect_named(r, "field", "args.available", "a field changed");
    json_decref(r);
    r = verify_vc(1, tags[1], stale);
    expect_named(r, "missing", NULL, "an event dropped");
    json_decref(r);
    r = verify_vc(1, tags[2], stale);
    expect_named(r, "forged", NULL, "an event forged");
    json_decref(r);
    r = verify_vc(1, tags[3], stale);
    expect_named(r, "order", NULL, "two events swapped");
    json_decref(r);
    r = verify_vc(1, tags[4], stale);
    expect_named(r, "field", "block_hash", "a block hash altered");
    json_decref(r);
    r = verify_vc(1, tags[5], stale);
    expect_named(r, "missing", NULL, "a stale gateway");
    assert_int_equal(json_array_size(json_object_get(r, "problems")), 2);
    json_decref(r);
    /* No false alarm: the untouched VC on the same gateway, and every VC
     * on the live one. */
    json_decref(verify_vc(0, tags[6], stale));
    for (int i = 0; i < 7; i++)
        json_decref(verify_vc(0, tags[i], NULL));
    ctt_stop(&gw);
}

/* ---------------------------------------------------------------- limits */

typedef struct flood_worker {
    const char *url;
    atomic_int *ok, *busy, *other;
} flood_worker;

static void *flood_main(void *arg)
{
    flood_worker *w = arg;

    for (int i = 0; i < 4; i++) {
        json_t *out = NULL;
        long st = 0;
        if (ct_http_request(&st, &out, "GET", w->url, NULL, NULL, 30000) == 0 && st == 200 &&
            json_is_true(json_object_get(out, "ok")))
            atomic_fetch_add(w->ok, 1);
        else if (st == 503)
            atomic_fetch_add(w->busy, 1);
        else
            atomic_fetch_add(w->other, 1);
        json_decref(out);
    }
    return NULL;
}

/* Collecting a proof stops at its deadline and refuses a range past its
 * cap, naming both; a flood of /verify/ requests gets verified answers or
 * 503s (at most two proofs are collected at once) while the gateway's
 * other chain reads go on. */
static void proofs_are_bounded(void **state)
{
    const char *tag = new_vc("vm-flood");
    ct_ledger *l;
    ct_rpc *c;
    ct_address contract;
    uint8_t t[32];
    size_t len;
    json_t *bundle = NULL;

    (void)state;
    flap(tag, 2);
    wait_history(tag, 3);
    ctt_ok(ct_ledger_open(&l));
    ctt_ok(ct_rpc_new(&c, json_string_value(json_object_get(fed, "rpc_url")), 10000));
    ctt_ok(ct_address_parse(&contract, json_string_value(json_object_get(fed, "contract"))));
    ctt_ok(ct_hex_decode(t, 32, &len, tag, strlen(tag)));
    assert_int_equal(
        ct_verify_collect(&bundle, c, l, &contract, t, &(ct_verify_collect_opts){.max_blocks = 2}),
        CT_ELIMIT);
    assert_non_null(strstr(ct_error_last(), "at most 2"));
    assert_int_equal(
        ct_verify_collect(&bundle, c, l, &contract, t, &(ct_verify_collect_opts){.deadline_ms = 1}),
        CT_ETIMEOUT);
    assert_non_null(strstr(ct_error_last(), "out of time"));
    assert_null(bundle);
    ctt_ok(ct_verify_collect(&bundle, c, l, &contract, t, NULL));
    json_decref(bundle);
    ct_rpc_free(c);
    ct_ledger_free(l);

    atomic_int ok = 0, busy = 0, other = 0;
    flood_worker w = {.url = ctt_path("%s/container/%s/verify/", api, tag),
                      .ok = &ok,
                      .busy = &busy,
                      .other = &other};
    pthread_t th[12];
    for (int i = 0; i < 12; i++)
        assert_int_equal(pthread_create(&th[i], NULL, flood_main, &w), 0);
    const char *overview = ctt_path("%s/chain/overview", api);
    for (int i = 0; i < 10; i++) {
        json_t *out = NULL;
        long st = ctt_http_timed(&out, NULL, "GET", overview, NULL, NULL, 10000);
        json_decref(out);
        assert_int_equal(st, 200);
        ct_sleep_ms(20);
    }
    for (int i = 0; i < 12; i++)
        pthread_join(th[i], NULL);
    print_message("48 verify requests: %d verified, %d busy (503), %d other\n", atomic_load(&ok),
                  atomic_load(&busy), atomic_load(&other));
    assert_int_equal(atomic_load(&other), 0);
    assert_true(atomic_load(&ok) > 0);
    assert_true(atomic_load(&busy) > 0);
}

/* ---------------------------------------------------------------- reorg */

static json_t *rpc(const char *method, json_t *params)
{
    ct_rpc *c;
    json_t *out = NULL;

    ctt_ok(ct_rpc_new(&c, json_string_value(json_object_get(fed, "rpc_url")), 10000));
    ctt_ok(ct_rpc_call(c, &out, method, params));
    json_decref(params);
    ct_rpc_free(c);
    return out;
}

static void reorganisation_raises_no_false_alarm(void **state)
{
    const char *tag;
    json_t *snap;

    (void)state;
    if (ctt_up_chain_is_poa())
        skip(); /* its forks are tested in test_up_poa */
    tag = new_vc("vm-reorg");
    snap = rpc("evm_snapshot", json_array());
    flap(tag, 2);
    wait_history(tag, 3);
    json_decref(rpc("evm_revert", json_pack("[O]", snap)));
    json_decref(snap);
    /* The other branch: one more change. The senders put the reverted
     * writes on it again too (acknowledged writes are never lost), so the
     * gateway rewinds, then catches up; once it has, it must verify. */
    flap(tag, 1);
    json_t *r = NULL;
    for (int i = 0; i < 120; i++) {
        json_decref(r);
        r = verify_vc(-1, tag, NULL);
        if (json_is_true(json_object_get(r, "ok")) &&
            json_integer_value(json_object_get(r, "events")) >= 2)
            break;
        ct_sleep_ms(500);
    }
    char *text = json_dumps(r, JSON_COMPACT);
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("after the reorganisation: %s", text);
    free(text);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_no_op_change_then_an_outage_are_both_mined),
        cmocka_unit_test(honest_gateway_and_damaged_bundles),
        cmocka_unit_test(tampered_cache_is_named),
        cmocka_unit_test(proofs_are_bounded),
        cmocka_unit_test(reorganisation_raises_no_false_alarm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
