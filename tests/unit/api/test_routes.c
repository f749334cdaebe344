/* The gateway's route table: every documented path reaches its handler
 * with its {} segments cut out, the seed's "datacentre" spelling too, a
 * trailing slash is optional, a known path with another method is 405,
 * an unknown one 404, and a segment too long for its buffer is 404. */
#include "harness.h"

#include "../../../src/api/api_int.h"

static api_handler route(api_req *req, const char *method, const char *path, int *status,
                         bool *offload)
{
    memset(req, 0, sizeof(*req));
    req->method = method;
    req->path = path;
    *status = 0;
    return ct_api__route(req, status, offload);
}

static void matches(void **state)
{
    static const char tag[] = "0x55b8df617dafd52fa584af9a54555dc85c58518479a5f551fd4e3cb33db9069d";
    static const struct {
        const char *method, *path;
        api_handler want;
        bool offload;
        const char *p0, *p1;
    } cases[] = {
        {"POST", "/api/datacenter/register/", ct_api__h_dc_register, true, NULL, NULL},
        {"POST", "/api/datacentre/register", ct_api__h_dc_register, true, NULL, NULL},
        {"GET", "/api/datacenter/", ct_api__h_dc_list, false, NULL, NULL},
        {"GET", "/api/datacenter/0xabc/details/", ct_api__h_dc_details, false, "0xabc", NULL},
        {"POST", "/api/datacenter/DC1/container/register/", ct_api__h_vc_register, true, "DC1",
         NULL},
        {"POST", "/api/datacenter/DC1/container/register/batch", ct_api__h_vc_register_batch,
         true, "DC1", NULL},
        {"POST", "/api/datacenter/DC2/container/TAG/availability/change/",
         ct_api__h_vc_availability, true, "DC2", "TAG"},
        {"POST", "/api/datacenter/DC2/container/TAG/migrate/confirm", ct_api__h_vc_migrate_confirm,
         true, "DC2", "TAG"},
        {"GET", "/api/container/TAG/history/", ct_api__h_vc_history, false, "TAG", NULL},
        {"GET", "/api/container/TAG/sla", ct_api__h_vc_sla, false, "TAG", NULL},
        {"GET", "/api/transaction/0x01/vctag/", ct_api__h_vc_tag, false, "0x01", NULL},
        {"GET", "/api/health", ct_api__h_health, false, NULL, NULL},
        {"GET", "/api/swagger/index.html", ct_api__h_swagger, false, NULL, NULL},
        {"GET", "/api/swagger/a/b/c.js", ct_api__h_swagger, false, NULL, NULL},
        {"GET", "/explorer/", ct_api__h_explorer, false, NULL, NULL},
        {"GET", "/api/chain/block/12", ct_api__h_chain_block, true, "12", NULL},
        {"DELETE", "/api/chain/monitor/3", ct_api__h_monitor_delete, true, "3", NULL},
    };
    api_req req;
    int status;
    bool offload;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        api_handler h = route(&req, cases[i].method, cases[i].path, &status, &offload);
        if (h != cases[i].want)
            fail_msg("%s %s: wrong handler (status %d)", cases[i].method, cases[i].path, status);
        assert_int_equal(offload, cases[i].offload);
        assert_int_equal(req.n_params, (cases[i].p0 != NULL) + (cases[i].p1 != NULL));
        if (cases[i].p0 != NULL)
            assert_string_equal(req.params[0], cases[i].p0);
        if (cases[i].p1 != NULL)
            assert_string_equal(req.params[1], cases[i].p1);
    }
    assert_ptr_equal(route(&req, "GET", ctt_path("/api/container/%s/details", tag), &status,
                           &offload),
                     ct_api__h_vc_details);
    assert_string_equal(req.params[0], tag);
}

static void refusals(void **state)
{
    static const struct {
        const char *method, *path;
        int status;
    } cases[] = {
        {"DELETE", "/api/container/TAG/history/", 405},
        {"POST", "/api/health", 405},
        {"GET", "/api/datacenter/register", 405},
        {"GET", "/api/nope", 404},
        {"GET", "/api/container//history", 404},
        {"GET", "/api/container/TAG/history/extra", 404},
        {"GET", "/api/datacenters", 404},
        {"GET", "/api/health//", 404},
        {"GET", "", 404},
        {"GET", "api/health", 404},
    };
    char *long_seg = malloc(400);
    api_req req;
    int status;
    bool offload;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (route(&req, cases[i].method, cases[i].path, &status, &offload) != NULL)
            fail_msg("%s %s was routed", cases[i].method, cases[i].path);
        if (status != cases[i].status)
            fail_msg("%s %s: %d, wanted %d", cases[i].method, cases[i].path, status,
                     cases[i].status);
    }
    /* A segment longer than its buffer is refused, not cut. */
    memset(long_seg, 'a', 399);
    long_seg[399] = '\0';
    assert_null(route(&req, "GET", ctt_path("/api/container/%s/history", long_seg), &status,
                      &offload));
    assert_int_equal(status, 404);
    free(long_seg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
