/* The gateway's configuration file: defaults, every key's checks named in
 * the error, unknown keys, lists, and a copy that owns its own strings. */
#include "harness.h"

#include "../../../src/api/api_int.h"

#define CONTRACT "\"contract\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\""
#define MINIMAL "\"rpc_url\":\"http://127.0.0.1:8545\"," CONTRACT ",\"cache\":\"c.db\""

static int parse(ct_api_config *cfg, const char *text)
{
    return ct_api_config_parse(cfg, text, strlen(text));
}

static void defaults(void **state)
{
    ct_api_config cfg;
    (void)state;

    ctt_ok(parse(&cfg, "{" MINIMAL "}"));
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.port, 5100);
    assert_string_equal(cfg.rpc_url, "http://127.0.0.1:8545");
    assert_string_equal(cfg.cache_path, "c.db");
    assert_int_equal(cfg.from_block, 0);
    assert_false(cfg.reindex);
    assert_false(cfg.reads_need_token);
    assert_int_equal(cfg.agent_timeout_ms, 30000);
    assert_int_equal(cfg.accept_after_ms, 5000);
    assert_null(cfg.requests_path);
    assert_int_equal(cfg.idempotency_ttl_s, 86400);
    assert_int_equal(cfg.idempotency_max, 100000);
    assert_int_equal(cfg.max_conns_per_ip, 128);
    assert_int_equal(cfg.request_timeout_ms, 10000);
    assert_null(cfg.allowed_origins);
    assert_null(cfg.allowed_hosts);
    assert_null(cfg.swagger_dir);
    assert_null(cfg.web_dir);
    assert_int_equal(cfg.n_agents, 0);
    assert_int_equal(cfg.n_tokens, 0);
    ct_api_config_clear(&cfg);
}

static void full_and_copy(void **state)
{
    ct_api_config cfg, copy;
    (void)state;

    ctt_ok(parse(&cfg,
                 "{" MINIMAL ",\"listen\":\"0.0.0.0:0\",\"from_block\":7,\"reindex\":true,"
                 "\"reads_need_token\":true,\"agent_timeout_ms\":250,\"swagger_dir\":\"s\","
                 "\"web_dir\":\"w\",\"agents\":[{\"name\":\"DC1\",\"wallet\":"
                 "\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\",\"url\":\"ws://h:1/ws/DC1\"}],"
                 "\"tokens\":[{\"dc\":\"DC1\",\"sha256\":\"" 
                 "AA00000000000000000000000000000000000000000000000000000000000001\"}]}"));
    assert_string_equal(cfg.listen_host, "0.0.0.0");
    assert_int_equal(cfg.port, 0);
    assert_int_equal(cfg.from_block, 7);
    assert_true(cfg.reindex && cfg.reads_need_token);
    assert_int_equal(cfg.agent_timeout_ms, 250);
    assert_int_equal(cfg.n_agents, 1);
    assert_string_equal(cfg.agents[0].url, "ws://h:1/ws/DC1");
    assert_int_equal(cfg.n_tokens, 1);
    /* Hashes are kept in lowercase. */
    assert_string_equal(cfg.tokens[0].hash,
                        "aa00000000000000000000000000000000000000000000000000000000000001");
    ctt_ok(ct_api_config_copy(&copy, &cfg));
    ct_api_config_clear(&cfg); /* the copy owns its own strings */
    assert_string_equal(copy.web_dir, "w");
    assert_string_equal(copy.swagger_dir, "s");
    assert_string_equal(copy.rpc_url, "http://127.0.0.1:8545");
    assert_string_equal(copy.agents[0].name, "DC1");
    assert_string_equal(copy.tokens[0].dc, "DC1");
    ct_api_config_clear(&copy);
}

/* Each bad file is refused with a message naming its key. */
static void refusals(void **state)
{
    static const char *const cases[][2] = {
        {"{" CONTRACT ",\"cache\":\"c\"}", "'rpc_url' is required"},
        {"{\"rpc_url\":\"u\",\"cache\":\"c\"}", "'contract' is required"},
        {"{\"rpc_url\":\"u\"," CONTRACT "}", "'cache' is required"},
        {"{" MINIMAL ",\"nope\":1}", "unknown key 'nope'"},
        {"{" MINIMAL ",\"listen\":\"5100\"}", "host:port"},
        {"{" MINIMAL ",\"listen\":\"h:70000\"}", "host:port"},
        {"{" MINIMAL ",\"listen\":5100}", "'listen' must be a string"},
        {"{" MINIMAL ",\"from_block\":-1}", "'from_block' must be an integer"},
        {"{" MINIMAL ",\"from_block\":\"1\"}", "'from_block' must be an integer"},
        {"{" MINIMAL ",\"agent_timeout_ms\":0}", "'agent_timeout_ms' must be an integer from 1"},
        {"{" MINIMAL ",\"max_conns_per_ip\":0}", "'max_conns_per_ip' must be an integer from 1"},
        {"{" MINIMAL ",\"request_timeout_ms\":10}", "'request_timeout_ms' must be an integer"},
        {"{" MINIMAL ",\"allowed_origins\":[\"x\"]}", "'allowed_origins' must be a string"},
        {"{" MINIMAL ",\"agent_timeout_ms\":600001}", "'agent_timeout_ms'"},
        {"{" MINIMAL ",\"reindex\":1}", "'reindex' must be true or false"},
        {"{" MINIMAL ",\"web_dir\":3}", "'web_dir' must be a string"},
        {"{\"rpc_url\":\"u\",\"cache\":\"c\",\"contract\":\"0x12\"}", "'contract'"},
        {"{" MINIMAL ",\"agents\":{}}", "'agents' must be an array"},
        {"{" MINIMAL ",\"agents\":[{\"name\":\"DC1\",\"wallet\":\"0x12\",\"url\":\"ws://x\"}]}",
         "agents[0].wallet"},
        {"{" MINIMAL ",\"agents\":[{\"name\":\"DC1\",\"wallet\":"
         "\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\",\"url\":\"http://x\"}]}",
         "agents[0].url must be ws:// or wss://"},
        {"{" MINIMAL ",\"tokens\":[{\"dc\":\"DC1\",\"sha256\":\"abc\"}]}",
         "tokens[0].sha256 must be 64 hex digits"},
        {"[]", "must be a JSON object"},
        {"{", "config"},
    };
    ct_api_config cfg;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse(&cfg, cases[i][0]);
        if (rc >= 0)
            fail_msg("accepted %s", cases[i][0]);
        if (strstr(ct_error_last(), cases[i][1]) == NULL)
            fail_msg("%s: '%s' does not say '%s'", cases[i][0], ct_error_last(), cases[i][1]);
        /* Nothing is left half-filled. */
        assert_null(cfg.rpc_url);
        assert_null(cfg.listen_host);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(full_and_copy),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
