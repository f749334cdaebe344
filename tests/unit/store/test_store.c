/* The cache without a node: schema creation and versions, bind and reset,
 * reads of an empty cache, the fold of synthetic events into derived rows,
 * rewinds that match a rebuild from scratch, dump determinism, and the
 * parsing of node answers and of event args into the wire form. */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>

#include "catena/store.h"

#include "../../../src/store/store_int.h"

static const char DC1[] = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
static const char DC2[] = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
#define TAG "0xc5f496b77a1d1961d63b5bae0d81bbe809b715f794cf2d6284906d0180e38930"
#define TAG2 "0x1111111111111111111111111111111111111111111111111111111111111111"

static void hex32(uint8_t out[32], const char *hex)
{
    size_t len;
    ctt_ok(ct_hex_decode(out, 32, &len, hex, strlen(hex)));
    assert_int_equal(len, 32);
}

static ct_address addr(const char *text)
{
    ct_address a;
    ctt_ok(ct_address_parse(&a, text));
    return a;
}

static void expect_dump_equal(ct_store *a, ct_store *b)
{
    char *da, *db;
    ctt_ok(ct_store_dump(a, &da));
    ctt_ok(ct_store_dump(b, &db));
    if (strcmp(da, db) != 0)
        fail_msg("dumps differ\n--- a\n%s--- b\n%s", da, db);
    free(da);
    free(db);
}

/* ---------------------------------------------------------------- schema */

static void schema_and_versions(void **state)
{
    const char *path = ctt_path("%s/schema.db", ctt_tmpdir());
    ct_store *s;
    ct_store_info info;
    sqlite3 *db;
    (void)state;

    ctt_ok(ct_store_open(&s, path));
    ctt_ok(ct_store_get_info(s, &info));
    assert_false(info.bound);
    assert_false(info.has_cursor);
    assert_int_equal(info.events, 0);
    char *dump;
    ctt_ok(ct_store_dump(s, &dump));
    assert_string_equal(dump, "meta key=\"schema_version\" value=3\n");
    free(dump);
    ct_store_close(s);

    /* Reopening keeps the version; WAL is on. */
    ctt_ok(ct_store_open(&s, path));
    ct_store_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);

    /* A file of version 2 (before the index of VCs by id) is brought up
     * to date when opened. */
    assert_int_equal(sqlite3_exec(db,
                                  "DROP INDEX containers_id;"
                                  "UPDATE meta SET value = 2 WHERE key = 'schema_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    ctt_ok(ct_store_open(&s, path));
    ct_store_close(s);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sqlite_master WHERE name = "
                                        "'containers_id' UNION ALL SELECT value FROM meta WHERE "
                                        "key = 'schema_version'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 3);
    sqlite3_finalize(st);

    /* A file written by a newer schema is refused, not damaged. */
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(ct_store_open(&s, path), CT_ESTATE);
    assert_non_null(strstr(ct_error_last(), "99"));

    /* Not a database. */
    const char *junk = ctt_path("%s/junk.db", ctt_tmpdir());
    static const char text[] =
        "this is not an SQLite file but plain text, long enough for a header";
    ctt_ok(ct_file_write_atomic(junk, text, strlen(text), 0600));
    assert_int_equal(ct_store_open(&s, junk), CT_EIO);
}

static void bind_and_reset(void **state)
{
    ct_store *s;
    ct_store_info info;
    ct_address c1 = addr(DC1), c2 = addr(DC2);
    (void)state;

    ctt_ok(ct_store_open(&s, ":memory:"));
    ctt_ok(ct_store_bind(s, 31337, &c1, 5));
    ctt_ok(ct_store_bind(s, 31337, &c1, 5));
    assert_int_equal(ct_store_bind(s, 1, &c1, 5), CT_ESTATE);
    assert_int_equal(ct_store_bind(s, 31337, &c2, 5), CT_ESTATE);
    assert_int_equal(ct_store_bind(s, 31337, &c1, 6), CT_ESTATE);
    assert_non_null(strstr(ct_error_last(), "reindex"));
    ctt_ok(ct_store_get_info(s, &info));
    assert_true(info.bound);
    assert_int_equal(info.chain_id, 31337);
    assert_int_equal(info.from_block, 5);
    assert_true(ct_address_equal(&info.contract, &c1));

    ctt_ok(ct_store_reset(s));
    ctt_ok(ct_store_get_info(s, &info));
    assert_false(info.bound);
    ctt_ok(ct_store_bind(s, 1, &c2, 0));
    ct_store_close(s);
    ct_store_close(NULL);
}

static void empty_reads(void **state)
{
    ct_store *s;
    json_t *v;
    ct_address a = addr(DC1), got;
    uint8_t tag[32];
    ct_avail_change *tl;
    size_t n;
    (void)state;

    hex32(tag, TAG);
    ctt_ok(ct_store_open(&s, ":memory:"));
    ctt_ok(ct_store_dc_by_wallet(s, &v, &a));
    ctt_expect_json(v, "{\"name\":\"\",\"wallet\":\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\","
                       "\"registered\":false}");
    json_decref(v);
    assert_int_equal(ct_store_dc_by_name(s, &got, "DC1"), CT_ENOTFOUND);
    ctt_ok(ct_store_dc_list(s, &v));
    ctt_expect_json(v, "[]");
    json_decref(v);
    ctt_ok(ct_store_vc_list(s, &v, &CT_STORE_VC_ALL));
    ctt_expect_json(v, "[]");
    json_decref(v);
    assert_int_equal(ct_store_vc_details(s, &v, tag), CT_ENOTFOUND);
    assert_non_null(strstr(ct_error_last(), TAG));
    assert_int_equal(ct_store_vc_flavor(s, &v, tag), CT_ENOTFOUND);
    assert_int_equal(ct_store_vc_history(s, &v, tag), CT_ENOTFOUND);
    assert_int_equal(ct_store_vc_pending(s, &v, tag), CT_ENOTFOUND);
    assert_int_equal(ct_store_vc_tag_by_tx(s, &v, tag), CT_ENOTFOUND);
    assert_int_equal(ct_store_vc_timeline(s, &tl, &n, tag), CT_ENOTFOUND);
    ct_store_close(s);
}

/* ---------------------------------------------------------------- synthetic chain */

/* Adds block number (hash = number repeated, time = 1536677000 + 10 * n)
 * and events given as "Name|args JSON" in one transaction. */
static void add_block(ct_store *s, uint64_t number, uint8_t fill, const char *const *events)
{
    uint8_t hash[32], parent[32];
    int64_t time = 1536677000 + 10 * (int64_t)number;

    memset(hash, fill, 32);
    memset(parent, fill - 1, 32);
    ct_store__lock(s);
    ctt_ok(ct_store__begin(s, true));
    ctt_ok(ct_store__block_add(s, number, hash, parent, time));
    for (size_t i = 0; events[i] != NULL; i++) {
        const char *bar = strchr(events[i], '|');
        char name[64];
        json_t *args;
        snprintf(name, sizeof(name), "%.*s", (int)(bar - events[i]), events[i]);
        ctt_ok(ct_json_parse(&args, bar + 1, strlen(bar + 1), 16));
        ct_store__event ev = {.block_number = number,
                              .log_index = i,
                              .tx_index = 0,
                              .name = name,
                              .args = args,
                              .block_time = time};
        memset(ev.tx_hash, fill, 32);
        ctt_ok(ct_store__event_add(s, &ev));
        json_decref(args);
    }
    ctt_ok(ct_store__cursor_set(s, number, hash));
    ctt_ok(ct_store__commit(s));
    ct_store__unlock(s);
}

#define REG(tag, avail)                                                                            \
    "ContainerRegistered|{\"vcTag\":\"" tag "\",\"timestamp\":\"2018-09-11T14:46:23.000Z\","       \
    "\"owner\":\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\",\"vcType\":\"openstack:vm\","        \
    "\"id\":\"b55f\",\"ipAddress\":\"http://10.0.9.39\",\"controller\":\"http://10.0.9.2\","       \
    "\"vcpu\":1,\"vram\":1024,\"vdisk\":10,\"available\":" avail "}"

static const char *const block1[] = {
    "DatacenterRegistered|{\"wallet\":\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\","
    "\"name\":\"DC1\",\"timestamp\":\"2018-09-11T14:45:10.000Z\"}",
    "DatacenterRegistered|{\"wallet\":\"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\","
    "\"name\":\"DC2\",\"timestamp\":\"2018-09-11T14:45:10.000Z\"}",
    NULL};
static const char *const block2[] = {REG("0xc5f496b77a1d1961d63b5bae0d81bbe809b715f794cf2d62849"
                                         "06d0180e38930",
                                         "true"),
                                     NULL};
static const char *const block3[] = {
    "ContainerMigrationPending|{\"vcTag\":\"0xc5f496b77a1d1961d63b5bae0d81bbe809b715f794cf2d628490"
    "6d0180e38930\",\"from\":\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\",\"to\":"
    "\"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\",\"price\":5,\"invoice\":"
    "\"123456789012345678901234567890\",\"timestamp\":\"2018-09-13T09:28:48.000Z\"}",
    NULL};
static const char *const block4[] = {
    "ContainerMigrated|{\"vcTag\":\"0xc5f496b77a1d1961d63b5bae0d81bbe809b715f794cf2d6284906d0180e3"
    "8930\",\"from\":\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\",\"to\":"
    "\"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\",\"id\":\"c55f\",\"ipAddress\":"
    "\"http://10.9.0.12\",\"controller\":\"http://10.9.0.1\",\"price\":5,\"invoice\":"
    "\"123456789012345678901234567890\",\"timestamp\":\"2018-09-13T09:48:48.000Z\"}",
    REG("0x1111111111111111111111111111111111111111111111111111111111111111", "false"), NULL};
static const char *const block4b[] = {
    "ContainerRetired|{\"vcTag\":\"0xc5f496b77a1d1961d63b5bae0d81bbe809b715f794cf2d6284906d0180e38"
    "930\",\"host\":\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\",\"timestamp\":99999999999999}",
    NULL};

static void fold_and_reads(void **state)
{
    ct_store *s;
    json_t *v;
    uint8_t tag[32], tag2[32], tx[32];
    ct_address dc2 = addr(DC2), got;
    (void)state;

    hex32(tag, TAG);
    hex32(tag2, TAG2);
    ctt_ok(ct_store_open(&s, ":memory:"));
    add_block(s, 1, 0x01, block1);
    add_block(s, 2, 0x02, block2);
    add_block(s, 3, 0x03, block3);
    ctt_ok(ct_store_vc_pending(s, &v, tag));
    ctt_expect_json(v,
                    "{\"vc_tag\":\"" TAG "\",\"from_address\":\""
                    "0x70997970C51812dc3A010C7d01b5"
                    "0e0d17dc79C8\",\"to_address\":\"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\","
                    "\"price\":5,\"invoice\":\"123456789012345678901234567890\"}");
    json_decref(v);
    add_block(s, 4, 0x04, block4);

    ctt_ok(ct_store_vc_pending(s, &v, tag));
    ctt_expect_json(
        v, "{\"vc_tag\":\"0x0000000000000000000000000000000000000000000000000000000000000000"
           "\",\"from_address\":\"0x0000000000000000000000000000000000000000\","
           "\"to_address\":\"0x0000000000000000000000000000000000000000\",\"price\":0,"
           "\"invoice\":0}");
    json_decref(v);
    ctt_ok(ct_store_vc_details(s, &v, tag));
    ctt_expect_json(v, "{\"vc_type\":\"openstack:vm\",\"available\":true,\"id\":\"c55f\","
                       "\"ip_address\":\"http://10.9.0.12\",\"controller\":\"http://10.9.0.1\","
                       "\"host\":\"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\",\"owner\":"
                       "\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\",\"updated\":"
                       "\"2018-09-11T14:44:00.000Z\",\"created\":\"2018-09-11T14:46:23.000Z\","
                       "\"vc_tag\":\"" TAG "\",\"retired\":false}");
    json_decref(v);
    ctt_ok(ct_store_vc_flavor(s, &v, tag));
    ctt_expect_json(v, "{\"vcpu\":1,\"vram\":1024,\"vdisk\":10}");
    json_decref(v);
    ctt_ok(ct_store_dc_by_name(s, &got, "DC2"));
    assert_true(ct_address_equal(&got, &dc2));
    ctt_ok(ct_store_dc_list(s, &v));
    ctt_expect_json(
        v, "[{\"name\":\"DC1\",\"wallet\":\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\","
           "\"registered\":true,\"registered_at\":\"2018-09-11T14:43:30.000Z\","
           "\"containers\":1},{\"name\":\"DC2\",\"wallet\":\"0x3C44CdDdB6a900fa2b585dd299e0"
           "3d12FA4293BC\",\"registered\":true,\"registered_at\":"
           "\"2018-09-11T14:43:30.000Z\",\"containers\":1}]");
    json_decref(v);
    ctt_ok(ct_store_vc_list(s, &v, &(ct_store_vc_filter){&dc2, 1, NULL, 0, 0}));
    assert_int_equal(json_array_size(v), 1);
    json_decref(v);
    ctt_ok(ct_store_vc_list(s, &v, &(ct_store_vc_filter){NULL, 0, NULL, 0, 0}));
    assert_int_equal(json_array_size(v), 1); /* the second VC, registered unavailable */
    json_decref(v);
    ctt_ok(ct_store_vc_list(s, &v, &(ct_store_vc_filter){NULL, -1, NULL, 1, 1}));
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "vc_tag")), TAG2);
    json_decref(v);
    /* By the instance id: the migrated VC answers to its new id only. */
    ctt_ok(ct_store_vc_list(s, &v, &(ct_store_vc_filter){NULL, -1, "c55f", 0, 0}));
    assert_int_equal(json_array_size(v), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "vc_tag")), TAG);
    json_decref(v);
    ctt_ok(ct_store_vc_list(s, &v, &(ct_store_vc_filter){NULL, -1, "b55f", 0, 0}));
    assert_int_equal(json_array_size(v), 1); /* the second VC, not the migrated one */
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "vc_tag")), TAG2);
    json_decref(v);

    /* Block 4's transaction registered a VC after migrating another. */
    memset(tx, 0x04, 32);
    ctt_ok(ct_store_vc_tag_by_tx(s, &v, tx));
    ctt_expect_json(
        v, "{\"vc_tag\":\"" TAG2 "\",\"owner\":\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
           "\",\"created\":\"2018-09-11T14:46:23.000Z\",\"block_number\":4,\"block_hash\":"
           "\"0x0404040404040404040404040404040404040404040404040404040404040404\"}");
    json_decref(v);

    ctt_ok(ct_store_vc_history(s, &v, tag));
    assert_int_equal(json_array_size(v), 3);
    ctt_expect_json(json_object_get(json_array_get(v, 0), "id"), "3");
    ctt_expect_json(json_object_get(json_array_get(v, 2), "id"), "5");
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 2), "name")),
                        "ContainerMigrated");
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 2), "created")),
                        "2018-09-11T14:44:00.000Z");
    json_decref(v);
    ct_store_close(s);
}

static void timeline(void **state)
{
    ct_store *s;
    ct_avail_change *tl;
    size_t n;
    uint8_t tag[32];
    ct_address dc1 = addr(DC1), dc2 = addr(DC2);
    (void)state;

    hex32(tag, TAG);
    ctt_ok(ct_store_open(&s, ":memory:"));
    add_block(s, 1, 0x01, block1);
    add_block(s, 2, 0x02, block2);
    add_block(s, 3, 0x03, block3);
    add_block(s, 4, 0x04, block4);
    add_block(s, 5, 0x05, block4b);
    ctt_ok(ct_store_vc_timeline(s, &tl, &n, tag));
    assert_int_equal(n, 4);
    assert_int_equal(tl[0].kind, CT_AVAIL_REGISTERED);
    assert_true(tl[0].available);
    assert_int_equal(tl[0].time_ms, 1536677183000LL);
    assert_int_equal(tl[0].block_time_ms, 1536677020000LL);
    assert_true(ct_address_equal(&tl[0].host, &dc1));
    assert_int_equal(tl[1].kind, CT_AVAIL_MIGRATION_START);
    assert_true(ct_address_equal(&tl[1].host, &dc1));
    assert_true(ct_address_equal(&tl[1].peer, &dc2));
    assert_true(tl[1].available);
    assert_int_equal(tl[2].kind, CT_AVAIL_MIGRATION_END);
    assert_true(ct_address_equal(&tl[2].host, &dc2));
    assert_true(ct_address_equal(&tl[2].peer, &dc1));
    assert_int_equal(tl[2].event_id, 5);
    /* A reported time the formatter cannot show falls back to block time. */
    assert_int_equal(tl[3].kind, CT_AVAIL_RETIRED);
    assert_false(tl[3].available);
    assert_int_equal(tl[3].time_ms, tl[3].block_time_ms);
    free(tl);
    ct_store_close(s);
}

/* Rewinding a tail and replaying gives what a rebuild from scratch gives. */
static void rewind_equals_rebuild(void **state)
{
    ct_store *a, *b;
    uint64_t deleted;
    uint8_t hash[32];
    json_t *v;
    uint8_t tag2[32];
    (void)state;

    hex32(tag2, TAG2);
    ctt_ok(ct_store_open(&a, ":memory:"));
    ctt_ok(ct_store_open(&b, ":memory:"));
    add_block(a, 1, 0x01, block1);
    add_block(a, 2, 0x02, block2);
    add_block(a, 3, 0x03, block3);
    add_block(a, 4, 0x04, block4);

    /* The chain drops blocks 3 and 4 and carries another block 3. */
    ct_store__lock(a);
    ctt_ok(ct_store__begin(a, true));
    ctt_ok(ct_store__rewind(a, 2, &deleted));
    memset(hash, 0x02, 32);
    ctt_ok(ct_store__cursor_set(a, 2, hash));
    ctt_ok(ct_store__commit(a));
    ct_store__unlock(a);
    assert_int_equal(deleted, 3);
    assert_int_equal(ct_store_vc_details(a, &v, tag2), CT_ENOTFOUND);
    add_block(a, 3, 0x33, block4b);

    add_block(b, 1, 0x01, block1);
    add_block(b, 2, 0x02, block2);
    add_block(b, 3, 0x33, block4b);
    expect_dump_equal(a, b);

    /* Rewinding everything empties the derived tables too. */
    ct_store__lock(a);
    ctt_ok(ct_store__begin(a, true));
    ctt_ok(ct_store__rewind(a, -1, &deleted));
    ctt_ok(ct_store__cursor_clear(a));
    ctt_ok(ct_store__commit(a));
    ct_store__unlock(a);
    assert_int_equal(deleted, 4);
    char *dump;
    ctt_ok(ct_store_dump(a, &dump));
    assert_string_equal(dump, "meta key=\"schema_version\" value=3\n");
    free(dump);
    ct_store_close(a);
    ct_store_close(b);
}

static void dump_is_deterministic(void **state)
{
    const char *path = ctt_path("%s/dump.db", ctt_tmpdir());
    ct_store *a, *b;
    char *d;
    (void)state;

    ctt_ok(ct_store_open(&a, path));
    ctt_ok(ct_store_open(&b, ":memory:"));
    add_block(a, 1, 0x01, block1);
    add_block(a, 2, 0x02, block2);
    add_block(b, 1, 0x01, block1);
    add_block(b, 2, 0x02, block2);
    expect_dump_equal(a, b);
    ct_store_close(a);
    ctt_ok(ct_store_open(&a, path)); /* a reopened file */
    expect_dump_equal(a, b);
    ctt_ok(ct_store_dump(a, &d));
    /* Text values are quoted with separators escaped; blobs are hex. */
    assert_non_null(strstr(d, "events id=1 block_number=1 log_index=0 tx_index=0 tx_hash=x0101"));
    assert_non_null(strstr(d, "name=\"DC1\""));
    assert_non_null(strstr(d, "args=\"{\\x22wallet\\x22:"));
    free(d);
    ct_store_close(a);
    ct_store_close(b);
}

/* ---------------------------------------------------------------- node answers */

static void parse_node_answers(void **state)
{
    ct_store__log log;
    ct_store__header h;
    json_t *j;
    (void)state;

    static const char good[] =
        "{\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\",\"blockNumber\":\"0x10\","
        "\"blockHash\":\"0x0101010101010101010101010101010101010101010101010101010101010101\","
        "\"transactionHash\":\"0x0202020202020202020202020202020202020202020202020202020202020202"
        "\",\"transactionIndex\":\"0x0\",\"logIndex\":\"0x3\",\"removed\":false,\"topics\":[],"
        "\"data\":\"0x\"}";
    ctt_ok(ct_json_parse(&j, good, strlen(good), 8));
    ctt_ok(ct_store__parse_log(&log, j));
    assert_int_equal(log.block_number, 16);
    assert_int_equal(log.log_index, 3);
    assert_false(log.removed);
    json_object_set_new(j, "blockNumber", json_string("0x010"));
    assert_int_equal(ct_store__parse_log(&log, j), CT_EPARSE);
    assert_non_null(strstr(ct_error_last(), "blockNumber"));
    json_object_set_new(j, "blockNumber", json_string("0x10"));
    json_object_set_new(j, "blockHash", json_string("0x01"));
    assert_int_equal(ct_store__parse_log(&log, j), CT_EPARSE);
    json_object_set_new(j, "blockHash", json_integer(1));
    assert_int_equal(ct_store__parse_log(&log, j), CT_EPARSE);
    json_decref(j);
    assert_int_equal(ct_store__parse_log(&log, json_null()), CT_EPARSE);

    j = json_pack("{s:s, s:s, s:s, s:s}", "number", "0x5", "hash",
                  "0x0101010101010101010101010101010101010101010101010101010101010101",
                  "parentHash",
                  "0x0000000000000000000000000000000000000000000000000000000000000000", "timestamp",
                  "0x5b97d4af");
    ctt_ok(ct_store__parse_header(&h, j));
    assert_int_equal(h.number, 5);
    assert_int_equal(h.time, 1536677039);
    json_object_set_new(j, "timestamp", json_string("0xffffffffffffffff"));
    assert_int_equal(ct_store__parse_header(&h, j), CT_EPARSE);
    json_decref(j);
}

static void wire_args(void **state)
{
    ct_ledger *l;
    ct_store_decoder *t;
    json_t *raw, *wire;
    (void)state;

    ctt_ok(ct_ledger_open(&l));
    ctt_ok(ct_store_decoder_new(&t, l));
    raw = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "vcTag", TAG, "from", DC1, "to", DC2, "price",
                    "9223372036854775808", "invoice", "13", "timestamp", "1536830928");
    ctt_ok(ct_store__wire_args(&wire, t, "ContainerMigrationPending", raw));
    ctt_expect_json(wire, "{\"vcTag\":\"" TAG "\",\"from\":\""
                          "0x70997970C51812dc3A010C7d01b50e0d17d"
                          "c79C8\",\"to\":\"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\",\"price\":"
                          "\"9223372036854775808\",\"invoice\":13,\"timestamp\":"
                          "\"2018-09-13T09:28:48.000Z\"}");
    json_decref(wire);
    /* Times past year 9999 stay numbers; past 2^64 stay strings. */
    json_object_set_new(raw, "timestamp", json_string("253402300800"));
    ctt_ok(ct_store__wire_args(&wire, t, "ContainerMigrationPending", raw));
    ctt_expect_json(json_object_get(wire, "timestamp"), "253402300800");
    json_decref(wire);
    json_object_set_new(raw, "timestamp", json_string("18446744073709551616"));
    ctt_ok(ct_store__wire_args(&wire, t, "ContainerMigrationPending", raw));
    ctt_expect_json(json_object_get(wire, "timestamp"), "\"18446744073709551616\"");
    json_decref(wire);
    /* Args that do not match the ABI are refused. */
    json_object_set_new(raw, "price", json_string("12x"));
    assert_int_equal(ct_store__wire_args(&wire, t, "ContainerMigrationPending", raw), CT_EPARSE);
    json_object_set_new(raw, "price", json_string("1"));
    json_object_del(raw, "to");
    assert_int_equal(ct_store__wire_args(&wire, t, "ContainerMigrationPending", raw), CT_EPARSE);
    assert_int_equal(ct_store__wire_args(&wire, t, "NoSuchEvent", raw), CT_EPARSE);
    json_decref(raw);
    ct_store_decoder_free(t);
    ct_ledger_free(l);
}

/* ---------------------------------------------------------------- threads */

struct reader {
    const char *path;
    ct_store *shared; /* the writer's handle, used through its mutex */
    atomic_int *stop;
    int errors;
    atomic_long reads;
    uint64_t last_seen;
};

/* Reads from its own handle and from the shared one until told to stop;
 * counts failures (cmocka's asserts are not for threads). */
static void *reader_main(void *arg)
{
    struct reader *r = arg;
    ct_store *own;
    ct_store_info info;
    json_t *v;

    if (ct_store_open(&own, r->path) < 0) {
        r->errors++;
        return NULL;
    }
    while (!*r->stop) {
        if (ct_store_vc_list(own, &v, &(ct_store_vc_filter){NULL, -1, NULL, 10, 0}) < 0)
            r->errors++;
        else
            json_decref(v);
        if (ct_store_dc_list(r->shared, &v) < 0)
            r->errors++;
        else
            json_decref(v);
        if (ct_store_get_info(own, &info) < 0 || info.events < r->last_seen)
            r->errors++; /* a snapshot never goes back */
        r->last_seen = info.events;
        r->reads++;
    }
    ct_store_close(own);
    return NULL;
}

static void concurrent_handles(void **state)
{
    const char *path = ctt_path("%s/threads.db", ctt_tmpdir());
    atomic_int stop = 0;
    struct reader r[2];
    pthread_t th[2];
    ct_store *w, *check;
    ct_store_info info;
    char ev[1024];
    (void)state;

    ctt_ok(ct_store_open(&w, path));
    for (int i = 0; i < 2; i++) {
        r[i] = (struct reader){.path = path, .shared = w, .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &r[i]), 0);
    }
    /* Write only once both readers read, so the two overlap. */
    for (int waited = 0; (r[0].reads == 0 || r[1].reads == 0) && waited < 10000; waited++)
        ct_sleep_ms(1);
    for (int b = 1; b <= 200; b++) {
        snprintf(ev, sizeof(ev),
                 "ContainerRegistered|{\"vcTag\":\"0x%064x\",\"timestamp\":1,\"owner\":\"%s\","
                 "\"vcType\":\"t\",\"id\":\"i%d\",\"ipAddress\":\"\",\"controller\":\"\","
                 "\"vcpu\":1,\"vram\":1,\"vdisk\":1,\"available\":true}",
                 b, DC1, b);
        const char *const events[] = {ev, NULL};
        add_block(w, (uint64_t)b, (uint8_t)b, events);
    }
    stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r[i].errors, 0);
        assert_true(r[i].reads > 0);
    }
    ctt_ok(ct_store_open(&check, path));
    ctt_ok(ct_store_get_info(check, &info));
    assert_int_equal(info.events, 200);
    assert_int_equal(info.processed, 200);
    ct_store_close(check);
    ct_store_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schema_and_versions),
        cmocka_unit_test(bind_and_reset),
        cmocka_unit_test(empty_reads),
        cmocka_unit_test(fold_and_reads),
        cmocka_unit_test(timeline),
        cmocka_unit_test(rewind_equals_rebuild),
        cmocka_unit_test(dump_is_deterministic),
        cmocka_unit_test(parse_node_answers),
        cmocka_unit_test(wire_args),
        cmocka_unit_test(concurrent_handles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
