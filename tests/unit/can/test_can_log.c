/* The CAN ledger: the leader's validation of each transaction, durability
 * across a reopen, a follower's catch-up, duplicates, gaps and a newer
 * leader's log winning a conflict, and checkpoints checked against their
 * digests. */
#include "harness.h"

#include <sqlite3.h>
#include <string.h>

#include "catena/can.h"

static const char *db_path(const char *name)
{
    return ctt_path("%s/%s.db", ctt_tmpdir(), name);
}

static json_t *j(const char *text)
{
    json_t *v = NULL;

    ctt_ok(ct_json_parse(&v, text, strlen(text), 16));
    return v;
}

static int propose(ct_can_log *l, uint64_t nonce, const char *text)
{
    json_t *v = j(text);
    int rc = ct_can_log_propose(l, NULL, nonce, v);

    json_decref(v);
    return rc;
}

static uint64_t last(ct_can_log *l)
{
    json_t *st = ct_can_log_state(l);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(st, "last"));

    json_decref(st);
    return n;
}

#define D1 "\"0x1111111111111111111111111111111111111111111111111111111111111111\""
#define D2 "\"0x2222222222222222222222222222222222222222222222222222222222222222\""

/* The history of the seed's Figure 5.1 up to the reassignment. */
static void build_history(ct_can_log *l)
{
    ctt_ok(propose(l, 0, "{\"type\":\"JOIN\",\"node\":\"0xa\",\"url\":\"http://a\"}"));
    ctt_ok(propose(l, 0, "{\"type\":\"LEADER\",\"node\":\"0xa\",\"nonce\":0}"));
    ctt_ok(propose(l, 0, "{\"type\":\"JOIN\",\"node\":\"0xb\",\"url\":\"http://b\"}"));
    ctt_ok(
        propose(l, 0, "{\"type\":\"REGISTER_COMPONENT\",\"comp\":\"o1\",\"url\":\"http://o1\"}"));
    ctt_ok(
        propose(l, 0, "{\"type\":\"REGISTER_COMPONENT\",\"comp\":\"o2\",\"url\":\"http://o2\"}"));
    ctt_ok(propose(l, 0,
                   "{\"type\":\"ASSIGN_WORK\",\"work\":\"0xapp\",\"comp\":\"o1\","
                   "\"description\":\"tosca\"}"));
    ctt_ok(propose(l, 0,
                   "{\"type\":\"CHECKPOINT_WORK\",\"work\":\"0xapp\",\"comp\":\"o1\","
                   "\"digest\":" D1 "}"));
}

static void leader_validates_each_transaction(void **state)
{
    ct_can_log *l = NULL;
    json_t *st;
    (void)state;

    ctt_ok(ct_can_log_open(&l, db_path("leader")));
    build_history(l);
    assert_int_equal(last(l), 7);
    static const struct {
        const char *body;
        int rc;
    } bad[] = {
        {"{\"type\":\"JOIN\",\"node\":\"0xb\",\"url\":\"http://b\"}", CT_EEXIST},
        {"{\"type\":\"JOIN\",\"node\":\"0xc\"}", CT_EINVAL},
        {"{\"type\":\"REMOVE\",\"node\":\"0xz\"}", CT_ENOTFOUND},
        {"{\"type\":\"LEADER\",\"node\":\"0xb\",\"nonce\":0}", CT_ESTATE},
        {"{\"type\":\"LEADER\",\"node\":\"0xz\",\"nonce\":0}", CT_ESTATE},
        {"{\"type\":\"LEADER\",\"node\":\"0xb\",\"nonce\":5}", CT_EINVAL}, /* under 0 */
        {"{\"type\":\"REGISTER_COMPONENT\",\"comp\":\"o1\",\"url\":\"http://x\"}", CT_EEXIST},
        {"{\"type\":\"DEREGISTER\",\"comp\":\"o9\"}", CT_ENOTFOUND},
        {"{\"type\":\"ASSIGN_WORK\",\"work\":\"0xapp\",\"comp\":\"o2\",\"description\":\"t\"}",
         CT_EEXIST},
        {"{\"type\":\"ASSIGN_WORK\",\"work\":\"0xw2\",\"comp\":\"o9\",\"description\":\"t\"}",
         CT_ENOTFOUND},
        /* Only the assigned component checkpoints, with a real digest. */
        {"{\"type\":\"CHECKPOINT_WORK\",\"work\":\"0xapp\",\"comp\":\"o2\",\"digest\":" D2 "}",
         CT_EAUTH},
        {"{\"type\":\"CHECKPOINT_WORK\",\"work\":\"0xapp\",\"comp\":\"o1\",\"digest\":\"0x12\"}",
         CT_EINVAL},
        {"{\"type\":\"CHECKPOINT_WORK\",\"work\":\"0xno\",\"comp\":\"o1\",\"digest\":" D2 "}",
         CT_ENOTFOUND},
        /* A reassignment carries the work's checkpoints, no others. */
        {"{\"type\":\"REASSIGN_WORK\",\"work\":\"0xapp\",\"comp\":\"o2\",\"cpa\":[" D2 "]}",
         CT_EINVAL},
        {"{\"type\":\"REASSIGN_WORK\",\"work\":\"0xapp\",\"comp\":\"o9\",\"cpa\":[" D1 "]}",
         CT_ENOTFOUND},
        {"{\"type\":\"FINISH\",\"work\":\"0xapp\"}", CT_EINVAL},
        {"{\"node\":\"0xa\"}", CT_EINVAL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = propose(l, 0, bad[i].body);
        if (rc != bad[i].rc)
            fail_msg("case %zu (%s): %d, wanted %d: %s", i, bad[i].body, rc, bad[i].rc,
                     ct_error_last());
    }
    assert_int_equal(last(l), 7); /* nothing refused was stored */
    /* An older leader nonce than the log's is refused. */
    assert_int_equal(propose(l, 2, "{\"type\":\"LEADER\",\"node\":\"0xz\",\"nonce\":2}"),
                     CT_EINVAL); /* no member */
    ctt_ok(propose(l, 1, "{\"type\":\"LEADER\",\"node\":\"0xb\",\"nonce\":1}"));
    assert_int_equal(propose(l, 0, "{\"type\":\"DEREGISTER\",\"comp\":\"o1\"}"), CT_ESTATE);

    /* o1 fails: deregistered, its work goes to o2 with its checkpoint. */
    ctt_ok(propose(l, 1, "{\"type\":\"DEREGISTER\",\"comp\":\"o1\"}"));
    ctt_ok(propose(l, 1,
                   "{\"type\":\"REASSIGN_WORK\",\"work\":\"0xapp\",\"comp\":\"o2\","
                   "\"cpa\":[" D1 "]}"));
    ctt_ok(propose(l, 1,
                   "{\"type\":\"CHECKPOINT_WORK\",\"work\":\"0xapp\",\"comp\":\"o2\","
                   "\"digest\":" D2 "}"));
    assert_int_equal(propose(l, 1,
                             "{\"type\":\"CHECKPOINT_WORK\",\"work\":\"0xapp\","
                             "\"comp\":\"o1\",\"digest\":" D2 "}"),
                     CT_EAUTH);
    ctt_ok(propose(l, 1, "{\"type\":\"FINISH_WORK\",\"work\":\"0xapp\"}"));
    assert_int_equal(propose(l, 1, "{\"type\":\"FINISH_WORK\",\"work\":\"0xapp\"}"), CT_ESTATE);

    st = ct_can_log_state(l);
    ctt_expect_json(json_object_get(json_object_get(st, "works"), "0xapp"),
                    "{\"comp\":\"o2\",\"description\":\"tosca\",\"checkpoints\":[" D1 "," D2
                    "],\"finished\":true}");
    assert_string_equal(json_string_value(json_object_get(st, "leader")), "0xb");
    assert_int_equal(json_integer_value(json_object_get(st, "nonce")), 1);
    json_decref(st);
    ct_can_log_close(l);

    /* Reopened: the same state, rebuilt from the stored entries. */
    ctt_ok(ct_can_log_open(&l, db_path("leader")));
    assert_int_equal(last(l), 12);
    st = ct_can_log_state(l);
    assert_true(json_is_true(
        json_object_get(json_object_get(json_object_get(st, "components"), "o2"), "registered")));
    assert_true(json_is_false(
        json_object_get(json_object_get(json_object_get(st, "components"), "o1"), "registered")));
    json_decref(st);
    ct_can_log_close(l);
}

static void follower_catches_up(void **state)
{
    ct_can_log *leader = NULL, *f = NULL;
    json_t *all = NULL, *a = NULL, *b = NULL, *lst, *fst;
    (void)state;

    ctt_ok(ct_can_log_open(&leader, db_path("l2")));
    ctt_ok(ct_can_log_open(&f, db_path("f2")));
    build_history(leader);
    ctt_ok(ct_can_log_since(leader, &all, 1, 100));
    assert_int_equal(json_array_size(all), 7);

    /* A gap is refused; in order, each entry is taken once. */
    assert_int_equal(ct_can_log_accept(f, json_array_get(all, 2)), CT_ESTATE);
    assert_non_null(strstr(ct_error_last(), "catch up from 1"));
    for (size_t i = 0; i < 3; i++)
        ctt_ok(ct_can_log_accept(f, json_array_get(all, i)));
    ctt_ok(ct_can_log_accept(f, json_array_get(all, 1))); /* twice: no-op */
    ctt_ok(ct_can_log_since(leader, &a, last(f) + 1, 100));
    for (size_t i = 0; i < json_array_size(a); i++)
        ctt_ok(ct_can_log_accept(f, json_array_get(a, i)));
    lst = ct_can_log_state(leader);
    fst = ct_can_log_state(f);
    assert_true(json_equal(lst, fst));
    json_decref(lst);
    json_decref(fst);

    /* A newer leader (nonce 1) wrote a different entry 7: it replaces ours;
     * an entry from an older nonce cannot replace a newer one. */
    b = j("{\"type\":\"DEREGISTER\",\"comp\":\"o2\",\"index\":7,\"nonce_of_leader\":1}");
    ctt_ok(ct_can_log_accept(f, b));
    assert_int_equal(last(f), 7);
    fst = ct_can_log_state(f);
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(json_object_get(fst, "works"), "0xapp"), "checkpoints")),
                     0);
    json_decref(fst);
    assert_int_equal(ct_can_log_accept(f, json_array_get(all, 6)), CT_ESTATE);
    /* An invalid entry from the leader is refused too. */
    json_decref(b);
    b = j("{\"type\":\"DEREGISTER\",\"comp\":\"o2\",\"index\":8,\"nonce_of_leader\":1}");
    assert_int_equal(ct_can_log_accept(f, b), CT_ENOTFOUND);
    json_decref(b);
    b = j("{\"type\":\"DEREGISTER\",\"comp\":\"o1\"}");
    assert_int_equal(ct_can_log_accept(f, b), CT_EINVAL);
    json_decref(b);
    json_decref(all);
    json_decref(a);
    ct_can_log_close(leader);
    ct_can_log_close(f);
}

static void checkpoints_by_digest(void **state)
{
    ct_can_log *l = NULL;
    char digest[67], again[67];
    uint8_t *data = NULL;
    size_t len = 0;
    sqlite3 *db = NULL;
    (void)state;

    ctt_ok(ct_can_log_open(&l, db_path("blobs")));
    ctt_ok(ct_can_blob_put(l, digest, "SERVICE_UP backend", 18));
    ctt_ok(ct_can_blob_put(l, again, "SERVICE_UP backend", 18)); /* idempotent */
    assert_string_equal(digest, again);
    ctt_ok(ct_can_blob_get(l, &data, &len, digest));
    assert_int_equal(len, 18);
    assert_memory_equal(data, "SERVICE_UP backend", 18);
    free(data);
    assert_int_equal(ct_can_blob_get(l, &data, &len, "0x00"), CT_ENOTFOUND);
    ct_can_log_close(l);

    /* Data changed on disk no longer matches its name. */
    assert_int_equal(sqlite3_open(db_path("blobs"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE blobs SET data = x'00'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    ctt_ok(ct_can_log_open(&l, db_path("blobs")));
    assert_int_equal(ct_can_blob_get(l, &data, &len, digest), CT_ECRYPTO);
    assert_null(data);
    ct_can_log_close(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leader_validates_each_transaction),
        cmocka_unit_test(follower_catches_up),
        cmocka_unit_test(checkpoints_by_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
