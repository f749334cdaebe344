/* `catena up` keeps its federation: stopped cleanly and started again on
 * the same --dir it resumes the same contract, keys, tokens and history
 * with the cache it had; after a kill -9 (of catena up, or of the chain
 * node alone) the chain may come back behind the cache: the gateway then
 * serves nothing the chain no longer has, and the agents' outboxes send
 * the lost transactions again, so every acknowledged write lands once. A
 * Hardhat --dir cannot be resumed and says so. */
#include "harness.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *dir;

/* A VM registration body with its own id. */
static const char *vm_body(const char *id)
{
    return ctt_path("{\"vc_type\":\"openstack:vm\",\"available\":true,\"vcpu\":1,\"vram\":1024,"
                    "\"vdisk\":10,\"id\":\"%s\",\"ip_address\":\"http://10.0.9.39\","
                    "\"controller\":\"http://10.0.9.2\",\"created\":\"2018-09-11T14:46:23.470Z\"}",
                    id);
}

static json_t *load_fed(void)
{
    char *text = NULL;
    json_t *doc = NULL;

    ctt_ok(ct_file_read(&text, NULL, ctt_path("%s/federation.json", dir), 1 << 20));
    ctt_ok(ct_json_parse(&doc, text, strlen(text), 16));
    free(text);
    return doc;
}

static const char *fed_str(const json_t *fed, const char *key)
{
    return json_string_value(json_object_get(fed, key));
}

static const char *dc_str(const json_t *fed, int i, const char *key)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(fed, "datacenters"), i), key));
}

/* Starts `catena up` on dir and waits until its log says it is ready
 * with want ("created" or "resumed"). */
static void up_start(ct_proc *up, const char *log, const char *want)
{
    /* anvil saves every second here, so the test knows what it holds. */
    char *argv[] = {
        (char *)ctt_catena_bin(), "up", "--dir", (char *)dir, "--rpc-port", "0", "--api-port", "0",
        "--state-interval",       "1",  NULL};
    char *text = NULL;

    ctt_spawn(up, argv, log);
    for (int i = 0; i < 1200; i++) {
        free(text);
        text = NULL;
        if (ct_file_read(&text, NULL, log, 1 << 20) == 0 && strstr(text, "press Ctrl-C") != NULL)
            break;
        if (!ct_proc_alive(up))
            fail_msg("catena up exited: %s", text ? text : "");
        ct_sleep_ms(100);
    }
    if (text == NULL || strstr(text, want) == NULL)
        fail_msg("catena up did not say '%s': %s", want, text ? text : "");
    free(text);
}

static long http(json_t **out, const json_t *fed, const char *method, const char *path,
                 const char *token, const char *body)
{
    long status = 0;

    ctt_ok(ctt_http(&status, out, method, ctt_path("%s%s", fed_str(fed, "api_url"), path), token,
                    body));
    return status;
}

/* Registers a VM for DC1; returns its transaction hash. */
static const char *register_vm(const json_t *fed, const char *id)
{
    json_t *out = NULL;
    long st = http(&out, fed, "POST", "/datacenter/DC1/container/register/",
                   dc_str(fed, 0, "token"), vm_body(id));
    if (st != 200)
        fail_msg("register %s: HTTP %ld", id, st);
    const char *hash = ctt_path("%s", json_string_value(json_object_get(out, "tx_hash")));
    json_decref(out);
    /* Acknowledged: the cache has it once the follower has read it. */
    for (int i = 0; i < 200; i++) {
        out = NULL;
        st = http(&out, fed, "GET", ctt_path("/transaction/%s/vctag/", hash), NULL, NULL);
        json_decref(out);
        if (st == 200)
            return hash;
        ct_sleep_ms(50);
    }
    fail_msg("the gateway never listed the registration of %s", id);
    return NULL;
}

/* The VC tags the gateway lists (GET /api/container/), waiting until the
 * follower has caught up with the chain's head. */
static json_t *list_caught_up(const json_t *fed)
{
    json_t *out = NULL, *health = NULL;

    for (int i = 0; i < 200; i++) {
        json_decref(health);
        health = NULL;
        if (http(&health, fed, "GET", "/health", NULL, NULL) == 200 &&
            json_integer_value(json_object_get(health, "follower_lag_blocks")) == 0 &&
            json_integer_value(json_object_get(health, "chain_head")) > 0)
            break;
        ct_sleep_ms(100);
    }
    json_decref(health);
    assert_int_equal(http(&out, fed, "GET", "/container/", NULL, NULL), 200);
    return out;
}

/* Every event the gateway serves for each listed VC is on the chain: its
 * transaction has a receipt in the block the gateway names. Returns: the
 * number of events checked. */
static size_t history_on_chain(const json_t *fed, const json_t *list)
{
    ct_rpc *rpc;
    size_t i, j, n = 0;
    json_t *vc, *hist = NULL, *ev;

    ctt_ok(ct_rpc_new(&rpc, fed_str(fed, "rpc_url"), 5000));
    json_array_foreach (list, i, vc) {
        const char *tag = json_string_value(json_object_get(vc, "vc_tag"));
        assert_non_null(tag);
        assert_int_equal(
            http(&hist, fed, "GET", ctt_path("/container/%s/history/", tag), NULL, NULL), 200);
        json_array_foreach (hist, j, ev) {
            const char *tx = json_string_value(json_object_get(ev, "tx_hash"));
            uint8_t h[32];
            json_t *receipt = NULL;
            assert_non_null(tx);
            ctt_hex_fixed(h, 32, tx);
            ctt_ok(ct_rpc_get_receipt(rpc, &receipt, h));
            if (!json_is_object(receipt))
                fail_msg("the gateway serves %s of %s, which the chain does not have",
                         json_string_value(json_object_get(ev, "name")), tag);
            json_decref(receipt);
            n++;
        }
        json_decref(hist);
        hist = NULL;
    }
    ct_rpc_free(rpc);
    return n;
}

static ino_t inode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_ino;
}

/* Ctrl-C, then `catena up` again: the same federation, history intact,
 * the cache resumed (same file, nothing rebuilt). */
static void clean_restart(void **state)
{
    ct_proc up;
    json_t *fed, *fed2, *list, *out = NULL;
    int status;
    (void)state;

    dir = ctt_path("%s/clean", ctt_tmpdir());
    up_start(&up, ctt_path("%s/up1.log", ctt_tmpdir()), "created the federation");
    fed = load_fed();
    /* A second catena up on the same directory is refused at once (it
     * used to start a second set of processes on the same chain, keys
     * and cache), and the first one is untouched. */
    ctt_run twice;
    ctt_catena(&twice,
               (const char *[]){"up", "--dir", dir, "--rpc-port", "0", "--api-port", "0", NULL});
    assert_int_equal(ctt_exit_code(&twice), 2);
    assert_non_null(strstr(twice.err, "is in use by another catena up"));
    ctt_run_free(&twice);
    assert_true(ct_proc_alive(&up));
    register_vm(fed, "vm-clean-1");
    register_vm(fed, "vm-clean-2");
    list = list_caught_up(fed);
    assert_int_equal(json_array_size(list), 2);
    const char *tag =
        ctt_path("%s", json_string_value(json_object_get(json_array_get(list, 0), "vc_tag")));
    assert_int_equal(
        http(&out, fed, "POST", ctt_path("/datacenter/DC1/container/%s/availability/change/", tag),
             dc_str(fed, 0, "token"), "{\"status\":false,\"timestamp\":\"2018-09-12T10:00:00Z\"}"),
        200);
    json_decref(out);
    for (int i = 0; i < 100; i++) { /* until the follower has read the change */
        out = NULL;
        http(&out, fed, "GET", ctt_path("/container/%s/history/", tag), NULL, NULL);
        size_t n = json_array_size(out);
        json_decref(out);
        if (n == 2)
            break;
        ct_sleep_ms(50);
    }
    json_decref(list);
    list = list_caught_up(fed);
    assert_int_equal(history_on_chain(fed, list), 3);
    ino_t cache = inode_of(ctt_path("%s/cache.sqlite", dir));

    kill(up.pid, SIGINT);
    assert_int_equal(waitpid(up.pid, &status, 0), up.pid);
    ctt_reaped(&up);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    up_start(&up, ctt_path("%s/up2.log", ctt_tmpdir()), "resumed the federation");
    fed2 = load_fed();
    assert_string_equal(fed_str(fed2, "contract"), fed_str(fed, "contract"));
    for (int i = 0; i < 2; i++) {
        assert_string_equal(dc_str(fed2, i, "wallet"), dc_str(fed, i, "wallet"));
        assert_string_equal(dc_str(fed2, i, "token"), dc_str(fed, i, "token"));
    }
    assert_int_equal(inode_of(ctt_path("%s/cache.sqlite", dir)), cache);
    json_t *list2 = list_caught_up(fed2);
    assert_true(json_equal(list, list2));
    assert_int_equal(history_on_chain(fed2, list2), 3);
    /* The same tokens still write, as the same DC. */
    register_vm(fed2, "vm-clean-3");
    json_decref(list2);
    list2 = list_caught_up(fed2);
    assert_int_equal(json_array_size(list2), 3);
    json_decref(list2);
    json_decref(list);
    json_decref(fed);
    json_decref(fed2);
    ctt_stop(&up);
}

/* Waits until the gateway and both agents are healthy again. */
static void wait_healthy(const json_t *fed)
{
    json_t *out = NULL;
    for (int i = 0; i < 300; i++) {
        long st = http(&out, fed, "GET", "/health", NULL, NULL);
        json_decref(out);
        out = NULL;
        if (st == 200)
            return;
        ct_sleep_ms(100);
    }
    fail_msg("the federation did not become healthy again");
}

/* kill -9 of catena up (its children die with it) right after writes:
 * the chain comes back from its last saved state, perhaps behind the
 * cache; the gateway rewinds and serves only what the chain has. */
static void kill9_up(void **state)
{
    ct_proc up;
    json_t *fed, *list;
    (void)state;

    dir = ctt_path("%s/kill9", ctt_tmpdir());
    up_start(&up, ctt_path("%s/k1.log", ctt_tmpdir()), "created the federation");
    fed = load_fed();
    register_vm(fed, "vm-k-1");
    json_decref(list_caught_up(fed));
    ct_sleep_ms(1500); /* saved: anvil writes its state every second */
    for (int i = 2; i <= 6; i++)
        register_vm(fed, ctt_path("vm-k-%d", i));
    json_decref(list_caught_up(fed)); /* the cache holds all six */
    kill(up.pid, SIGKILL);
    ctt_stop(&up);
    json_decref(fed);

    up_start(&up, ctt_path("%s/k2.log", ctt_tmpdir()), "resumed the federation");
    fed = load_fed();
    /* Every acknowledged registration comes back: the agents' outboxes
     * send again what the saved chain state lacks. */
    size_t n = 0;
    list = NULL;
    for (int i = 0; i < 100 && n != 6; i++) {
        json_decref(list);
        list = list_caught_up(fed);
        n = json_array_size(list);
        if (n != 6)
            ct_sleep_ms(200);
    }
    assert_int_equal(n, 6);
    assert_int_equal(history_on_chain(fed, list), 6);
    json_decref(list);

    /* kill -9 of the chain node alone: catena up restarts it from its
     * saved state, and the federation goes on. */
    pid_t node = (pid_t)json_integer_value(json_object_get(fed, "chain_pid"));
    assert_true(node > 0);
    register_vm(fed, "vm-k-7");
    kill(node, SIGKILL);
    wait_healthy(fed);
    json_t *fed2 = NULL;
    for (int i = 0; i < 100; i++) { /* federation.json names the new node */
        json_decref(fed2);
        fed2 = load_fed();
        if (json_integer_value(json_object_get(fed2, "chain_pid")) != node)
            break;
        ct_sleep_ms(100);
    }
    assert_int_not_equal(json_integer_value(json_object_get(fed2, "chain_pid")), node);
    const char *hash = NULL;
    for (int i = 0; i < 100 && hash == NULL; i++) { /* the agent reconnects to the node */
        json_t *out = NULL;
        long st = http(&out, fed2, "POST", "/datacenter/DC1/container/register/",
                       dc_str(fed2, 0, "token"), vm_body("vm-k-8"));
        json_decref(out);
        if (st == 200)
            hash = "ok";
        else
            ct_sleep_ms(200);
    }
    assert_non_null(hash);
    list = list_caught_up(fed2);
    assert_int_equal(history_on_chain(fed2, list), json_array_size(list));
    json_decref(list);
    json_decref(fed2);
    json_decref(fed);
    ctt_stop(&up);
}

/* A Hardhat chain is gone after its stop: its --dir is refused, with the
 * reason, and left as it was. */
static void hardhat_not_resumed(void **state)
{
    ct_proc up;
    ctt_run r;
    char *argv[] = {(char *)ctt_catena_bin(),
                    "up",
                    "--dir",
                    NULL,
                    "--chain",
                    "hardhat",
                    "--rpc-port",
                    "0",
                    "--api-port",
                    "0",
                    NULL};
    char *text = NULL;
    const char *log = ctt_path("%s/hh.log", ctt_tmpdir());
    (void)state;

    dir = ctt_path("%s/hardhat", ctt_tmpdir());
    argv[3] = (char *)dir;
    ctt_spawn(&up, argv, log);
    for (int i = 0; i < 1200; i++) {
        free(text);
        text = NULL;
        if (ct_file_read(&text, NULL, log, 1 << 20) == 0 && strstr(text, "press Ctrl-C") != NULL)
            break;
        assert_true(ct_proc_alive(&up));
        ct_sleep_ms(100);
    }
    assert_non_null(strstr(text, "created the federation"));
    free(text);
    ctt_stop(&up);
    char *fed_before = NULL;
    ctt_ok(ct_file_read(&fed_before, NULL, ctt_path("%s/federation.json", dir), 1 << 20));

    ctt_catena(&r,
               (const char *[]){"up", "--dir", dir, "--rpc-port", "0", "--api-port", "0", NULL});
    assert_int_equal(ctt_exit_code(&r), 2);
    assert_non_null(strstr(r.err, "Hardhat"));
    ctt_run_free(&r);
    ctt_catena(&r, (const char *[]){"up", "--dir", dir, "--chain", "anvil", NULL});
    assert_int_equal(ctt_exit_code(&r), 2);
    assert_non_null(strstr(r.err, "not anvil"));
    ctt_run_free(&r);
    char *fed_after = NULL;
    ctt_ok(ct_file_read(&fed_after, NULL, ctt_path("%s/federation.json", dir), 1 << 20));
    assert_string_equal(fed_before, fed_after);
    free(fed_before);
    free(fed_after);
}

/* The node is replaced under a running gateway by an empty one of another
 * chain on the same URL: the gateway keeps its cache (reads still answer)
 * and says why in /api/health (503, chain_error) instead of rewinding to
 * nothing. (Started on such a node, catena api refuses with the same
 * reason.) */
static void replaced_chain(void **state)
{
    ct_proc up, api;
    ct_devnode other;
    json_t *fed, *cfg = NULL, *out = NULL;
    char *text = NULL;
    const char *cfg_path;
    (void)state;

    dir = ctt_path("%s/replaced", ctt_tmpdir());
    up_start(&up, ctt_path("%s/r1.log", ctt_tmpdir()), "created the federation");
    fed = load_fed();
    register_vm(fed, "vm-r-1");
    json_decref(list_caught_up(fed));
    const char *rpc = fed_str(fed, "rpc_url");
    unsigned long port = strtoul(strrchr(rpc, ':') + 1, NULL, 10);
    ctt_stop(&up);

    /* The federation's chain again, from its saved state, under a gateway
     * alone on its cache (no reindex); then, while it runs, an empty node
     * of another chain on the same port (anvil's genesis carries its
     * time). */
    ct_devnode same;
    ctt_node_start_opts(
        &same, &(ct_devnode_opts){.port = (uint16_t)port,
                                  .state_path = ctt_path("%s/chain/anvil-state.json", dir)});
    cfg_path = ctt_path("%s/api.json", dir);
    ctt_ok(ct_file_read(&text, NULL, cfg_path, 1 << 20));
    ctt_ok(ct_json_parse(&cfg, text, strlen(text), 16));
    free(text);
    json_object_set_new(cfg, "reindex", json_false());
    ctt_ok(ct_json_dump(&text, cfg));
    ctt_ok(ct_file_write_atomic(cfg_path, text, strlen(text), 0600));
    free(text);
    json_decref(cfg);
    char *argv[] = {(char *)ctt_catena_bin(), "api", "--config", (char *)cfg_path, NULL};
    const char *log = ctt_path("%s/api-replaced.log", ctt_tmpdir());
    ctt_spawn(&api, argv, log);
    long st = 0;
    for (int i = 0; i < 200; i++) { /* the follower has read the cache's chain */
        json_decref(out);
        out = NULL;
        if (ctt_http(&st, &out, "GET", ctt_path("%s/health", fed_str(fed, "api_url")), NULL,
                     NULL) == 0 &&
            json_integer_value(json_object_get(out, "chain_head")) > 0)
            break;
        ct_sleep_ms(100);
    }
    assert_null(json_object_get(out, "chain_error"));
    ctt_node_stop(&same);
    ct_sleep_ms(1100);
    ctt_node_start_opts(&other, &(ct_devnode_opts){.port = (uint16_t)port});
    for (int i = 0; i < 200; i++) {
        json_decref(out);
        out = NULL;
        if (ctt_http(&st, &out, "GET", ctt_path("%s/health", fed_str(fed, "api_url")), NULL,
                     NULL) == 0 &&
            json_is_string(json_object_get(out, "chain_error")))
            break;
        ct_sleep_ms(100);
    }
    assert_int_equal(st, 503);
    assert_non_null(
        strstr(json_string_value(json_object_get(out, "chain_error")), "another chain"));
    json_decref(out);
    /* The cache is kept: the VC is still listed. */
    out = NULL;
    assert_int_equal(http(&out, fed, "GET", "/container/", NULL, NULL), 200);
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);
    /* Said once, at error level. */
    ctt_stop(&api);
    ctt_ok(ct_file_read(&text, NULL, log, 1 << 20));
    const char *first = strstr(text, "another chain");
    assert_non_null(first);
    assert_null(strstr(first + 1, "another chain"));
    free(text);
    ctt_node_stop(&other);
    json_decref(fed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_restart),
        cmocka_unit_test(kill9_up),
        cmocka_unit_test(hardhat_not_resumed),
        cmocka_unit_test(replaced_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
