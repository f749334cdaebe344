/* One consolidation round (ct_place_consolidate): an overloaded host
 * sheds the VM that fixes it alone with the least RAM, a light host is
 * emptied, no VM moves twice, the move cap holds, a bad model is refused. */
#include "harness.h"

#include "catena/place.h"

static void consolidate_relieves_and_drains(void **state)
{
    ct_place_pack_host hosts[4];
    ct_place_pack_vm vms[] = {
        {600, 500, 0}, {500, 600, 0}, {100, 300, 0}, /* host 0 at 1200 of 1000 */
        {100, 400, 1},                               /* host 1 light */
        {200, 700, 2},                               /* host 2 has room */
    };
    ct_place_pack_opts o;
    ct_place_move *moves = NULL;
    size_t n = 0;
    int moved[5] = {0};
    (void)state;

    for (int i = 0; i < 4; i++)
        hosts[i] = (ct_place_pack_host){1000, 1000, 100, 0};
    ct_place_pack_opts_default(&o);
    ctt_ok(ct_place_consolidate(&moves, &n, hosts, 4, vms, 5, &o));
    assert_true(n >= 2);
    for (size_t i = 0; i < n; i++) {
        assert_true(moves[i].vm >= 0 && moves[i].vm < 5);
        assert_int_equal(moves[i].from, vms[moves[i].vm].host);
        assert_true(moves[i].to != moves[i].from && moves[i].to >= 0);
        moved[moves[i].vm]++;
    }
    for (int v = 0; v < 5; v++)
        assert_true(moved[v] <= 1);
    /* Host 0 sheds the smallest VM (in RAM) that fixes it alone: VM 2 (100
     * MIPS) does not, VM 0 (600 >= 300, 500 MB) does and goes to host 2,
     * the fullest with room; then host 1 is emptied into host 2. */
    assert_int_equal(moved[0], 1);
    assert_int_equal(moved[3], 1);
    free(moves);

    o.max_moves = 1;
    ctt_ok(ct_place_consolidate(&moves, &n, hosts, 4, vms, 5, &o));
    assert_int_equal(n, 1);
    free(moves);
    hosts[2].model = CT_PLACE_MAX_MODELS;
    assert_int_equal(ct_place_consolidate(&moves, &n, hosts, 4, vms, 5, &o), CT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(consolidate_relieves_and_drains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
