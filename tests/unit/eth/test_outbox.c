/* The sender's outbox file: entries survive a reopen, a torn last line is
 * dropped, another chain's or account's file is refused, damage is named,
 * a sweep re-sends exactly the entries at or above the chain's nonce and
 * forgets old ones below it. */
#include "harness.h"

#include "../../../src/eth/eth_int.h"

static const uint8_t genesis[32] = {1, 2, 3};
static ct_address from = {{0xaa, 0xbb}};

struct sent {
    uint64_t first_bytes[8];
    size_t n;
};

static int record(const uint8_t *raw, size_t len, void *payload)
{
    struct sent *s = payload;
    assert_true(len >= 1);
    s->first_bytes[s->n++] = raw[0];
    return 0;
}

static const char *fresh_path(const char *name)
{
    return ctt_path("%s/%s", ctt_tmpdir(), name);
}

static void add(ct_eth__outbox *o, uint64_t nonce)
{
    uint8_t raw[3] = {(uint8_t)nonce, 0xde, 0xad};
    ctt_ok(ct_eth__outbox_add(o, nonce, raw, sizeof(raw)));
}

static void reopen_and_sweep(void **state)
{
    const char *path = fresh_path("a.outbox");
    ct_eth__outbox *o;
    struct sent s = {0};
    size_t resent;
    (void)state;

    ctt_ok(ct_eth__outbox_open(&o, path, genesis, &from));
    assert_int_equal(ct_eth__outbox_next_nonce(o), 0);
    add(o, 5);
    add(o, 6);
    add(o, 7);
    assert_int_equal(ct_eth__outbox_add(o, 7, (const uint8_t *)"x", 1), CT_ESTATE);
    ct_eth__outbox_free(o);

    ctt_ok(ct_eth__outbox_open(&o, path, genesis, &from));
    assert_int_equal(ct_eth__outbox_next_nonce(o), 8);
    /* Sent moments ago: a sweep that wants them quiet for a minute leaves
     * them; the first sweep after a reopen is told 0. */
    ctt_ok(ct_eth__outbox_sweep(o, 6, 60000, 60000, record, &s, &resent));
    assert_int_equal(resent, 0);
    /* The chain has 5 only: 6 and 7 go again, in order; 5 is recent, kept. */
    ctt_ok(ct_eth__outbox_sweep(o, 6, 60000, 0, record, &s, &resent));
    assert_int_equal(resent, 2);
    assert_int_equal(s.first_bytes[0], 6);
    assert_int_equal(s.first_bytes[1], 7);
    /* With no grace, what the chain has is forgotten, and stays so. */
    s.n = 0;
    ctt_ok(ct_eth__outbox_sweep(o, 7, 0, 0, record, &s, &resent));
    assert_int_equal(resent, 1);
    ct_eth__outbox_free(o);
    ctt_ok(ct_eth__outbox_open(&o, path, genesis, &from));
    s.n = 0;
    ctt_ok(ct_eth__outbox_sweep(o, 0, 60000, 0, record, &s, &resent));
    assert_int_equal(resent, 1);
    assert_int_equal(s.first_bytes[0], 7);
    /* A refused send is taken back. */
    add(o, 8);
    ctt_ok(ct_eth__outbox_drop_last(o));
    assert_int_equal(ct_eth__outbox_next_nonce(o), 8);
    ct_eth__outbox_free(o);
    ctt_ok(ct_eth__outbox_open(&o, path, genesis, &from));
    assert_int_equal(ct_eth__outbox_next_nonce(o), 8);
    ct_eth__outbox_free(o);
}

static void torn_and_damaged(void **state)
{
    const char *path = fresh_path("b.outbox");
    ct_eth__outbox *o;
    char *text;
    size_t len;
    (void)state;

    ctt_ok(ct_eth__outbox_open(&o, path, genesis, &from));
    add(o, 1);
    ct_eth__outbox_free(o);
    ctt_ok(ct_file_read(&text, &len, path, 1 << 20));
    /* A line cut short by a crash: dropped (it was never sent). */
    const char *torn = ctt_path("%s2 1700000000000 02de", text);
    ctt_ok(ct_file_write_atomic(path, torn, strlen(torn), 0600));
    ctt_ok(ct_eth__outbox_open(&o, path, genesis, &from));
    assert_int_equal(ct_eth__outbox_next_nonce(o), 2);
    ct_eth__outbox_free(o);
    /* A damaged whole line is an error naming the file. */
    const char *bad = ctt_path("%s2 17000 zz\n", text);
    ctt_ok(ct_file_write_atomic(path, bad, strlen(bad), 0600));
    assert_int_equal(ct_eth__outbox_open(&o, path, genesis, &from), CT_EPARSE);
    assert_non_null(strstr(ct_error_last(), path));
    const char *order = ctt_path("%s0 17000 00\n", text);
    ctt_ok(ct_file_write_atomic(path, order, strlen(order), 0600));
    assert_int_equal(ct_eth__outbox_open(&o, path, genesis, &from), CT_EPARSE);
    free(text);
}

static void other_chain_refused(void **state)
{
    const char *path = fresh_path("c.outbox");
    uint8_t other[32] = {9};
    ct_address someone = {{0x11}};
    ct_eth__outbox *o;
    (void)state;

    ctt_ok(ct_eth__outbox_open(&o, path, genesis, &from));
    add(o, 1);
    ct_eth__outbox_free(o);
    assert_int_equal(ct_eth__outbox_open(&o, path, other, &from), CT_ESTATE);
    assert_non_null(strstr(ct_error_last(), "another chain"));
    assert_int_equal(ct_eth__outbox_open(&o, path, genesis, &someone), CT_ESTATE);
    /* Refused means untouched: the right chain still finds its entry. */
    ctt_ok(ct_eth__outbox_open(&o, path, genesis, &from));
    assert_int_equal(ct_eth__outbox_next_nonce(o), 2);
    ct_eth__outbox_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reopen_and_sweep),
        cmocka_unit_test(torn_and_damaged),
        cmocka_unit_test(other_chain_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
