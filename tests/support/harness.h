/* Test harness: services started by tests (chain nodes, catena
 * processes) are registered here and always stopped, at normal exit, on
 * SIGINT/SIGTERM/SIGHUP, and (through PR_SET_PDEATHSIG) when the test
 * process is killed outright. Also paths: data dir, temp dir, artifacts. */
#ifndef CATENA_TEST_HARNESS_H
#define CATENA_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "catena/eth.h"
#include "catena/util.h"

/* The chain kind integration tests run on: CATENA_TEST_CHAIN ("anvil",
 * the default, or "hardhat"). Fails the test on an unknown name, and on
 * "poa", which only tests of `catena up` run on (ctt_up_chain). */
ct_chain_kind ctt_chain_kind(void);

/* The --chain of tests that start `catena up`: CATENA_TEST_CHAIN
 * ("anvil", the default, "hardhat" or "poa"). */
const char *ctt_up_chain(void);

/* Whether ctt_up_chain() is the PoA network. Returns: 1 or 0. */
int ctt_up_chain_is_poa(void);

/* Sends the library's error messages to stderr (shown when a test
 * fails), such as the end of a chain node's log when it died. */
void ctt_log_errors(void);

/* Starts `catena up --dir DIR --rpc-port 0 --api-port 0 --chain
 * ctt_up_chain()` with its output in DIR.log and waits (up to 5 minutes: the PoA network starts
 * slowly on a loaded machine) until it has written DIR/federation.json, which is parsed into *fed
 * (new ref). up is stopped by ctt_stop or the harness's cleanup.
 * Returns: 0, or -1 when up exits or times out first (for cmocka setups). */
int ctt_up_start(ct_proc *up, json_t **fed, const char *dir);
/* Kills (SIGKILL) every process whose command line holds "--tag" and this
 * test's directory: services started for the test through an
 * orchestrator, which outlive it by design. */
void ctt_kill_tagged(void);

/* The same with more arguments (NULL-terminated, at most 13). */
int ctt_up_start_args(ct_proc *up, json_t **fed, const char *dir, const char *const *extra);

/* Whether the test chain mines a reverting transaction as failed instead
 * of the sender refusing it beforehand (Hardhat automine: the sender skips
 * the eth_call before a send whose gas it knows). Returns: 1 or 0. */
int ctt_chain_mines_reverts(void);

/* Starts a node of ctt_chain_kind() on a free loopback port with its log
 * in the test's temporary directory, and registers it for cleanup. Fails
 * the test if it cannot start. */
void ctt_node_start(ct_devnode *out);

/* The same with explicit options (kind, port, state file); a NULL
 * log_path puts the log in the temporary directory. */
void ctt_node_start_opts(ct_devnode *out, const ct_devnode_opts *opts);

/* Stops a node started by ctt_node_start and unregisters it. */
void ctt_node_stop(ct_devnode *node);

/* Starts argv like ct_proc_spawn and registers the group for cleanup.
 * Fails the test if it cannot start. */
void ctt_spawn(ct_proc *out, char *const argv[], const char *log_path);

/* Stops a registered process group and unregisters it. */
void ctt_stop(ct_proc *p);

/* Starts a second gateway of the federation that `catena up` runs in
 * up_dir: its api.json with a free port, a cache of its own and the keys
 * of overrides (borrowed) set, logs in the test's folder. Waits until it
 * answers /api/health. Out: *p (registered), url ("http://127.0.0.1:N",
 * 64 bytes). */
void ctt_gateway_start(ct_proc *p, char *url, const char *up_dir, const json_t *overrides);

/* SIGSTOPs pid (with group: the process group pid leads) and returns
 * once each process shows stopped in /proc (kill returns before a busy
 * process has stopped), or fails the test after two seconds. SIGCONT to
 * the same undoes it. */
void ctt_freeze(pid_t pid, bool group);

/* Unregisters a process the test has reaped itself (waitpid), so the
 * cleanup at exit does not signal a group id the system may have reused. */
void ctt_reaped(ct_proc *p);

/* Returns: a fresh temporary directory for this test process, removed with
 * its contents at exit unless CATENA_KEEP_TMP is set. */
const char *ctt_tmpdir(void);

/* Returns: CATENA_DATA_DIR if it exists, else NULL (tests then skip and
 * say so). */
const char *ctt_data_dir(void);

/* Loads DATA_DIR/<rel> (gzipped when it ends in .gz) as JSON.
 * Returns: a new reference, or NULL when the data dir is absent (the
 * caller skips). Fails the test if the file is missing or malformed. */
json_t *ctt_load_json(const char *rel);

/* Skips the current test, saying on stdout which shared data file (a
 * printf format) is absent; ctest then shows the test as skipped. With
 * CATENA_REQUIRE_DATA set (scripts/test), fails it instead. */
void ctt_skip_absent(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Loads a JSON vector file into var, or skips the test when the shared
 * data is absent. */
#define CTT_NEED_JSON(var, rel)                                                                    \
    json_t *var = ctt_load_json(rel);                                                              \
    if (var == NULL)                                                                               \
        ctt_skip_absent("%s", rel);

/* Fails the test unless v dumps (compact, keys in order) to exactly want,
 * which must itself be valid JSON. */
void ctt_expect_json(const json_t *v, const char *want);

/* Decodes hex (with or without 0x) into exactly n bytes, or fails. */
void ctt_hex_fixed(uint8_t *out, size_t n, const char *hex);

/* Loads a compiled test contract (from tests/contracts, built into
 * CATENA_TEST_CONTRACTS). Out: *abi new ref, *code malloc'd creation
 * bytecode. Fails the test if it is missing. */
void ctt_contract(const char *name, json_t **abi, uint8_t **code, size_t *code_len);

/* The first Hardhat dev account's key ("test test ... junk" mnemonic). */
#define CTT_DEV_KEY "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define CTT_DEV_KEY2 "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"

/* Hardhat's first four dev accounts' keys, in order (#0 is CTT_DEV_KEY). */
extern const char *const ctt_dev_keys[4];

/* A sender for the hex key on the node at url. Fails the test if it
 * cannot be created. */
ct_sender *ctt_sender(const char *url, const char *key_hex);

/* Sends the ledger's function with args (JSON array text) from s to
 * contract, waiting for the receipt when wait. Fails the test on an
 * error. Out: *res (clear it with ct_send_result_clear). */
struct ct_ledger;
void ctt_ledger_send(const struct ct_ledger *l, ct_sender *s, const ct_address *contract,
                     const char *function, const char *args_json, bool wait, ct_send_result *res);

/* The outcome of running the catena binary. */
typedef struct ctt_run {
    int status; /* wait status */
    char *out;  /* stdout, NUL terminated */
    char *err;  /* stderr */
} ctt_run;

/* Runs catena with the NULL-terminated args (at most 30), with extra
 * environment assignments "K=V" in env (NULL-terminated, may be NULL). */
void ctt_catena_env(ctt_run *r, const char *const *args, const char *const *env);
void ctt_catena(ctt_run *r, const char *const *args);
void ctt_run_free(ctt_run *r);
/* Returns: the exit code, or -1 if it died by a signal. */
int ctt_exit_code(const ctt_run *r);

/* Fails the test unless data, as "0x" hex, equals want; what names it. */
void ctt_assert_hex(const uint8_t *data, size_t len, const char *want, const char *what);

/* One HTTP request with libcurl: an optional bearer token and raw body
 * text. Out: *status, *out the JSON answer (NULL when the body is not
 * JSON). Returns: 0, or CT_EIO when nothing answered. */
int ctt_http(long *status, json_t **out, const char *method, const char *url, const char *token,
             const char *body);

/* The same bounded by timeout_ms (thread safe), for tests that time
 * answers. Out: *out (may be NULL) as ctt_http, *ms (may be NULL) how long
 * it took. Returns: the status, or 0 when nothing answered in time. */
long ctt_http_timed(json_t **out, int64_t *ms, const char *method, const char *url,
                    const char *token, const char *body, int timeout_ms);

/* Returns: the catena binary under test (CATENA_BIN). */
const char *ctt_catena_bin(void);

/* Returns: the directory for screenshots and other artifacts, created on
 * demand (CATENA_ARTIFACTS). */
const char *ctt_artifacts_dir(void);

/* Formats a string (a path, a URL); it stays valid until exit. */
const char *ctt_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Returns: true if a process with this pid exists (zombies included). */
int ctt_pid_exists(pid_t pid);

/* ---------------------------------------------------------------- seed 002 */

/* Signs a Cloud reservation (EIP-712, domain CatenaCloud/1) for client,
 * the TOSCA hash, services[i] on resources[i] (32-byte hex), expiry (Unix
 * seconds) and salt with the scheduler's key. Out: sig (65 bytes); want
 * (may be NULL): the digest, for comparison with the contract's. */
void ctt_sign_reservation(uint8_t sig[65], uint8_t digest_out[32], uint64_t chain_id,
                          const ct_address *cloud, const ct_address *client, const char *tosca,
                          const char *const *services, const char *const *resources, size_t n,
                          uint64_t expiry, const char *salt, const uint8_t sched_key[32]);

/* a as "0x" checksummed text (lives until the test ends). */
const char *ctt_addr(const ct_address *a);
/* The address of ctt_dev_keys[i]. */
const ct_address *ctt_dev_address(int i);
/* A JSON integer, or a decimal string as the ABI decoder gives uints. */
uint64_t ctt_json_u64(const json_t *v);
/* `catena app show APP --rpc RPC --json` (new ref); fails the test when
 * the command fails. */
json_t *ctt_app_show(const char *rpc, const char *app);
/* GET url/can/status within 5 s: the answer (new ref), or NULL. */
json_t *ctt_can_status(const char *url);

/* An Application on a fresh Registry and Cloud at node url: dev key 0
 * owns the Registry, is the CAN leader and the cloud's provider; each
 * service i runs on a resource owned by dev key 1 + i % 2 at price
 * 50 + 10 i wei a minute; dev key 3 is the client and deposits deposit
 * wei. Prices: cloud 100, network 1000, orchestrator 500 wei a minute. */
typedef struct ctt_app {
    ct_address registry, cloud, app;
    uint64_t chain_id;
} ctt_app;
void ctt_app_deploy(ctt_app *out, const char *url, const char *const *services, size_t n,
                    uint64_t deposit);

/* Fails the current test with ct_error_last() when rc < 0. */
#define ctt_ok(rc)                                                                                 \
    do {                                                                                           \
        int ctt_rc_ = (rc);                                                                        \
        if (ctt_rc_ < 0)                                                                           \
            fail_msg("%s returned %d: %s", #rc, ctt_rc_, ct_error_last());                         \
    } while (0)

#endif /* CATENA_TEST_HARNESS_H */
