/* Test harness: service lifetimes tied to the test process, temporary
 * directories and shared paths (see harness.h). */
#include "harness.h"

#include "catena/ledger.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <zlib.h>

#define MAX_SERVICES 64

/* Copies, not pointers: a failing test longjmps out of the frame that held
 * its ct_proc, and cleanup must still find the group. */
static ct_proc services[MAX_SERVICES];
static int n_services;
static int cleanup_installed;
static char tmpdir[256];

static void stop_all_now(void)
{
    for (int i = 0; i < n_services; i++)
        ct_proc_signal(&services[i], SIGKILL);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The thread that runs main (and the tests). */
static pthread_t main_thread;

/* Also keeps OpenSSL from registering its own cleanup with atexit: that
 * handler would run before ours when OpenSSL was first used after the
 * first service started (handlers run newest first), and free OpenSSL
 * under the tests still running. The process's end frees it anyway. */
__attribute__((constructor)) static void note_main_thread(void)
{
    main_thread = pthread_self();
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

/* exit() called on another thread than the tests' (cmocka does so when a
 * helper thread of a test crashes: its signal handler only jumps back on
 * the test's own thread): the cleanup below would stop the services and
 * free the paths under the tests still running, which then fail in
 * misleading ways or crash. Ends the process now instead. */
static void exit_off_main_thread(void)
{
    if (pthread_equal(pthread_self(), main_thread))
        return;
    stop_all_now();
    fprintf(stderr,
            "harness: exit() on a thread other than the tests' (a helper thread crashed?): "
            "services killed, the process ends now%s%s\n",
            tmpdir[0] ? "; its files stay in " : "", tmpdir);
    fflush(stderr);
    _exit(70);
}

static void at_exit(void)
{
    exit_off_main_thread();
    for (int i = 0; i < n_services; i++)
        ct_proc_stop(&services[i], 2000);
    n_services = 0;
    if (tmpdir[0] != '\0' && getenv("CATENA_KEEP_TMP") == NULL)
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void on_signal(int sig)
{
    /* Async-signal-safe: kill the groups, then die by the same signal. */
    stop_all_now();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_cleanup(void)
{
    if (cleanup_installed)
        return;
    cleanup_installed = 1;
    atexit(at_exit);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}

static void register_proc(const ct_proc *p)
{
    install_cleanup();
    for (int i = 0; i < n_services; i++) {
        if (services[i].pid == 0) {
            services[i] = *p;
            return;
        }
    }
    if (n_services == MAX_SERVICES)
        fail_msg("harness: more than %d services", MAX_SERVICES);
    services[n_services++] = *p;
}

static void unregister_proc(pid_t pid)
{
    for (int i = 0; i < n_services; i++)
        if (services[i].pid == pid)
            services[i].pid = 0;
}

void ctt_spawn(ct_proc *out, char *const argv[], const char *log_path)
{
    install_cleanup();
    ctt_ok(ct_proc_spawn(out, argv, NULL, log_path));
    register_proc(out);
}

void ctt_stop(ct_proc *p)
{
    pid_t pid = p->pid;
    ct_proc_stop(p, 3000);
    unregister_proc(pid);
}

/* Whether every process of group pgid (or, when pgid is negative, the
 * process -pgid alone) is stopped ('T' in /proc/PID/stat; field 5 is the
 * group). */
static bool all_stopped(pid_t pgid)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    bool all = true;

    if (d == NULL)
        return true;
    while (all && (e = readdir(d)) != NULL) {
        char *text = NULL, state;
        long group;
        const char *p;
        if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
            ct_file_read(&text, NULL, ctt_path("/proc/%s/stat", e->d_name), 4096) < 0)
            continue;
        p = strrchr(text, ')'); /* the name may hold spaces and parentheses */
        if (p != NULL && sscanf(p + 1, " %c %*d %ld", &state, &group) == 2 &&
            (pgid > 0 ? group == pgid : atol(e->d_name) == -pgid) && state != 'T' && state != 't' &&
            state != 'Z')
            all = false;
        free(text);
    }
    closedir(d);
    ct_error_clear();
    return all;
}

void ctt_freeze(pid_t pid, bool group)
{
    assert_true(pid > 0); /* kill(0, ...) would stop this test too */
    assert_int_equal(kill(group ? -pid : pid, SIGSTOP), 0);
    for (int i = 0; i < 200; i++) {
        if (all_stopped(group ? pid : -pid))
            return;
        ct_sleep_ms(10);
    }
    fail_msg("process %d did not stop within 2 s of SIGSTOP", (int)pid);
}

void ctt_reaped(ct_proc *p)
{
    unregister_proc(p->pid);
    p->pid = 0;
}

ct_chain_kind ctt_chain_kind(void)
{
    const char *name = getenv("CATENA_TEST_CHAIN");
    ct_chain_kind kind = CT_CHAIN_ANVIL;

    if (name != NULL && name[0] != '\0' && ct_chain_kind_parse(&kind, name) < 0)
        fail_msg("CATENA_TEST_CHAIN: %s", ct_error_last());
    return kind;
}

const char *ctt_up_chain(void)
{
    const char *name = getenv("CATENA_TEST_CHAIN");

    if (name == NULL || name[0] == '\0')
        return "anvil";
    if (strcmp(name, "poa") == 0)
        return name;
    return ct_chain_kind_name(ctt_chain_kind());
}

int ctt_up_chain_is_poa(void)
{
    return strcmp(ctt_up_chain(), "poa") == 0;
}

static void log_to_stderr(int level, const char *msg, void *payload)
{
    (void)payload;
    fprintf(stderr, "[%s] %s\n", ct_log_level_name(level), msg);
}

void ctt_log_errors(void)
{
    ct_log_set(CT_LOG_ERROR, log_to_stderr, NULL);
}

/* Prints the end of a log to stderr: the test's directory goes when it
 * ends, and CI shows only the test's output. */
static void show_log_end(const char *path)
{
    char log[4001];

    if (ct_file_tail(log, sizeof(log), path) >= 0)
        fprintf(stderr, "--- the end of %s:\n%s\n", path, log);
}

int ctt_up_start(ct_proc *up, json_t **fed, const char *dir)
{
    return ctt_up_start_args(up, fed, dir, NULL);
}

int ctt_up_start_args(ct_proc *up, json_t **fed, const char *dir, const char *const *extra)
{
    char *argv[24] = {(char *)ctt_catena_bin(),
                      "up",
                      "--dir",
                      (char *)dir,
                      "--rpc-port",
                      "0",
                      "--api-port",
                      "0",
                      "--chain",
                      (char *)ctt_up_chain(),
                      NULL};
    char *text = NULL, path[PATH_MAX];
    int rc, n = 10;

    for (int i = 0; extra != NULL && extra[i] != NULL && n < 23; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    snprintf(path, sizeof(path), "%s/federation.json", dir);
    ctt_spawn(up, argv, ctt_path("%s.log", dir));
    for (int i = 0; i < 3000 && ct_file_read(&text, NULL, path, 1 << 20) < 0; i++) {
        if (!ct_proc_alive(up)) {
            fprintf(stderr, "catena up exited; see %s.log\n", dir);
            show_log_end(ctt_path("%s.log", dir));
            return -1;
        }
        ct_sleep_ms(100);
    }
    if (text == NULL) {
        fprintf(stderr, "catena up wrote no %s within 5 minutes\n", path);
        return -1;
    }
    rc = ct_json_parse(fed, text, strlen(text), 16);
    free(text);
    return rc < 0 ? -1 : 0;
}

int ctt_chain_mines_reverts(void)
{
    return ctt_chain_kind() == CT_CHAIN_HARDHAT;
}

void ctt_node_start_opts(ct_devnode *out, const ct_devnode_opts *opts)
{
    ct_devnode_opts o = *opts;
    int rc;

    if (o.log_path == NULL)
        o.log_path = ctt_path("%s/%s-%ld.log", ctt_tmpdir(), ct_chain_kind_name(o.kind),
                              (long)ct_time_mono_ms());
    install_cleanup();
    rc = ct_devnode_start(out, getenv("CATENA_ROOT") ? getenv("CATENA_ROOT") : CATENA_SOURCE_DIR,
                          &o);
    if (rc < 0) {
        char why[512];
        snprintf(why, sizeof(why), "%s", ct_error_last());
        show_log_end(o.log_path);
        fail_msg("cannot start a %s node: %s (log %s)", ct_chain_kind_name(o.kind), why,
                 o.log_path);
    }
    register_proc(&out->proc);
}

void ctt_node_start(ct_devnode *out)
{
    ctt_node_start_opts(out, &(ct_devnode_opts){.kind = ctt_chain_kind()});
}

void ctt_node_stop(ct_devnode *node)
{
    pid_t pid = node->proc.pid;
    ct_devnode_stop(node);
    unregister_proc(pid);
}

const char *ctt_tmpdir(void)
{
    if (tmpdir[0] == '\0') {
        const char *base = getenv("TMPDIR");
        install_cleanup();
        snprintf(tmpdir, sizeof(tmpdir), "%s/catena-test-XXXXXX", base ? base : "/tmp");
        if (mkdtemp(tmpdir) == NULL)
            fail_msg("mkdtemp %s: %s", tmpdir, strerror(errno));
    }
    return tmpdir;
}

void ctt_expect_json(const json_t *v, const char *want)
{
    char *got;
    json_t *w;

    ctt_ok(ct_json_dump(&got, v));
    ctt_ok(ct_json_parse(&w, want, strlen(want), 16)); /* want must be valid JSON */
    json_decref(w);
    if (strcmp(got, want) != 0)
        fail_msg("JSON differs\n got: %s\nwant: %s", got, want);
    free(got);
}

void ctt_hex_fixed(uint8_t *out, size_t n, const char *hex)
{
    size_t len = 0;

    assert_non_null(hex);
    ctt_ok(ct_hex_decode(out, n, &len, hex, strlen(hex)));
    assert_int_equal(len, n);
}

void ctt_skip_absent(const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    /* The README's test command sets CATENA_REQUIRE_DATA: there a missing
     * data set is a failure, not a skip. */
    if (getenv("CATENA_REQUIRE_DATA") != NULL && getenv("CATENA_REQUIRE_DATA")[0] != '\0')
        fail_msg("shared data %s absent (CATENA_DATA_DIR), and CATENA_REQUIRE_DATA is set", what);
    /* ctest marks the whole test skipped on this line (SKIP_REGULAR_EXPRESSION). */
    printf("skip: %s absent (CATENA_DATA_DIR)\n", what);
    skip();
}

const char *ctt_data_dir(void)
{
    const char *d = getenv("CATENA_DATA_DIR");
    struct stat st;

    if (d == NULL || stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return d;
}

const char *ctt_catena_bin(void)
{
    const char *b = getenv("CATENA_BIN");
    if (b == NULL)
        fail_msg("CATENA_BIN is not set (run the test through ctest)");
    return b;
}

const char *ctt_artifacts_dir(void)
{
    const char *d = getenv("CATENA_ARTIFACTS");
    if (d == NULL)
        d = ctt_tmpdir();
    if (mkdir(d, 0755) < 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", d, strerror(errno));
    return d;
}

/* Paths are kept until exit, so a returned pointer never changes under
 * its user however many paths are made after it. */
static char **paths;
static size_t n_paths, cap_paths;

static void free_paths(void)
{
    exit_off_main_thread();
    for (size_t i = 0; i < n_paths; i++)
        free(paths[i]);
    free(paths);
    paths = NULL;
    n_paths = cap_paths = 0;
}

const char *ctt_path(const char *fmt, ...)
{
    char *p = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&p, fmt, ap) < 0)
        p = NULL;
    va_end(ap);
    if (p == NULL)
        fail_msg("ctt_path: out of memory");
    if (n_paths == cap_paths) {
        size_t ncap = cap_paths ? cap_paths * 2 : 64;
        char **np = realloc(paths, ncap * sizeof(*np));
        if (np == NULL)
            fail_msg("ctt_path: out of memory");
        if (paths == NULL)
            atexit(free_paths);
        paths = np;
        cap_paths = ncap;
    }
    paths[n_paths++] = p;
    return p;
}

int ctt_pid_exists(pid_t pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

json_t *ctt_load_json(const char *rel)
{
    const char *dir = ctt_data_dir();
    const char *path;
    gzFile gz;
    ct_buf b;
    char chunk[65536];
    int n;
    json_t *v;

    if (dir == NULL)
        return NULL;
    path = ctt_path("%s/%s", dir, rel);
    /* gzread passes plain files through unchanged. */
    gz = gzopen(path, "rb");
    if (gz == NULL)
        fail_msg("cannot open %s", path);
    ct_buf_init(&b, 512u << 20);
    while ((n = gzread(gz, chunk, sizeof(chunk))) > 0)
        if (ct_buf_append(&b, chunk, (size_t)n) < 0)
            fail_msg("%s: %s", path, ct_error_last());
    gzclose(gz);
    if (n < 0)
        fail_msg("%s: read error", path);
    if (ct_json_parse(&v, b.data, b.len, 512) < 0)
        fail_msg("%s: %s", path, ct_error_last());
    ct_buf_free(&b);
    return v;
}

void ctt_contract(const char *name, json_t **abi, uint8_t **code, size_t *code_len)
{
    const char *path = getenv("CATENA_TEST_CONTRACTS");
    char *text;
    size_t len;
    json_t *all, *c;

    if (path == NULL)
        fail_msg("CATENA_TEST_CONTRACTS is not set (run the test through ctest)");
    if (ct_file_read(&text, &len, path, 64u << 20) < 0)
        fail_msg("%s", ct_error_last());
    if (ct_json_parse(&all, text, len, 128) < 0)
        fail_msg("%s: %s", path, ct_error_last());
    free(text);
    c = json_object_get(all, name);
    if (c == NULL)
        fail_msg("no contract %s in %s", name, path);
    *abi = json_incref(json_object_get(c, "abi"));
    if (ct_hex_decode_new(code, code_len, json_string_value(json_object_get(c, "bytecode"))) < 0)
        fail_msg("%s: bytecode: %s", name, ct_error_last());
    json_decref(all);
}

void ctt_catena_env(ctt_run *r, const char *const *args, const char *const *env)
{
    const char *out = ctt_path("%s/run.stdout", ctt_tmpdir());
    const char *err = ctt_path("%s/run.stderr", ctt_tmpdir());
    char *argv[32];
    int n = 0;
    pid_t pid;

    argv[n++] = (char *)ctt_catena_bin();
    for (; args[n - 1] != NULL; n++) {
        if (n == 31)
            fail_msg("ctt_catena: too many arguments");
        argv[n] = (char *)args[n - 1];
    }
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        for (size_t i = 0; env != NULL && env[i] != NULL; i++)
            putenv((char *)env[i]);
        execv(argv[0], argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &r->status, 0), pid);
    ctt_ok(ct_file_read(&r->out, NULL, out, 16u << 20));
    ctt_ok(ct_file_read(&r->err, NULL, err, 16u << 20));
}

void ctt_catena(ctt_run *r, const char *const *args)
{
    ctt_catena_env(r, args, NULL);
}

void ctt_run_free(ctt_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

int ctt_exit_code(const ctt_run *r)
{
    return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
}

void ctt_assert_hex(const uint8_t *data, size_t len, const char *want, const char *what)
{
    char *got = malloc(2 * len + 3);

    assert_non_null(got);
    ctt_ok(ct_hex_encode(got, 2 * len + 3, data, len, true));
    if (strcmp(got, want) != 0)
        fail_msg("%s:\n got  %s\n want %s", what, got, want);
    free(got);
}

int ctt_http(long *status, json_t **out, const char *method, const char *url, const char *token,
             const char *body)
{
    return ct_http_request(status, out, method, url, token, body, 60000);
}

long ctt_http_timed(json_t **out, int64_t *ms, const char *method, const char *url,
                    const char *token, const char *body, int timeout_ms)
{
    long status = 0;
    int64_t t0 = ct_time_mono_ms();
    json_t *j = NULL;

    if (ct_http_request(&status, &j, method, url, token, body, timeout_ms) < 0)
        status = 0;
    if (ms != NULL)
        *ms = ct_time_mono_ms() - t0;
    if (out != NULL)
        *out = j;
    else
        json_decref(j);
    return status;
}

const char *const ctt_dev_keys[4] = {
    CTT_DEV_KEY,
    CTT_DEV_KEY2,
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
};

void ctt_ledger_send(const struct ct_ledger *l, ct_sender *s, const ct_address *contract,
                     const char *function, const char *args_json, bool wait, ct_send_result *res)
{
    json_t *args;
    ct_buf data;

    ctt_ok(ct_json_parse(&args, args_json, strlen(args_json), 16));
    ct_buf_init(&data, (size_t)1 << 20);
    ctt_ok(ct_ledger_encode_call(l, &data, function, args));
    ct_send_req req = {.to = contract, .data = (uint8_t *)data.data, .data_len = data.len};
    if (ct_sender_send(s, res, &req, wait) < 0)
        fail_msg("%s(%s): %s", function, args_json, ct_error_last());
    ct_buf_free(&data);
    json_decref(args);
}

ct_sender *ctt_sender(const char *url, const char *key_hex)
{
    uint8_t key[32];
    size_t len;
    ct_sender *s;

    ctt_ok(ct_hex_decode(key, 32, &len, key_hex, strlen(key_hex)));
    if (len != 32)
        fail_msg("ctt_sender: a key is 32 bytes, got %zu", len);
    ctt_ok(ct_sender_new(&s, url, key, NULL));
    ct_wipe(key, sizeof(key));
    return s;
}

void ctt_kill_tagged(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;

    while (d != NULL && (e = readdir(d)) != NULL) {
        char *text = NULL;
        size_t len = 0;
        long pid = strtol(e->d_name, NULL, 10);
        if (pid <= 0 || pid == getpid() ||
            ct_file_read(&text, &len, ctt_path("/proc/%ld/cmdline", pid), 1 << 16) < 0) {
            ct_error_clear();
            continue;
        }
        for (size_t i = 0; i + 1 < len; i++)
            if (text[i] == '\0')
                text[i] = ' ';
        if (strstr(text, "--tag") != NULL && strstr(text, ctt_tmpdir()) != NULL)
            kill((pid_t)pid, SIGKILL);
        free(text);
    }
    if (d != NULL)
        closedir(d);
}

void ctt_gateway_start(ct_proc *p, char *url, const char *up_dir, const json_t *overrides)
{
    static int n;
    const char *path = ctt_path("%s/gw%d.json", ctt_tmpdir(), ++n);
    char *text = NULL;
    uint16_t port = 0;
    json_t *cfg = NULL;

    assert_int_equal(ct_file_read(&text, NULL, ctt_path("%s/api.json", up_dir), 1 << 20), 0);
    assert_int_equal(ct_json_parse(&cfg, text, strlen(text), 16), 0);
    free(text);
    assert_int_equal(ct_net_free_port(&port), 0);
    json_object_set_new(cfg, "listen", json_string(ctt_path("127.0.0.1:%u", port)));
    json_object_set_new(cfg, "cache", json_string(ctt_path("%s/gw%d.sqlite", ctt_tmpdir(), n)));
    json_object_update(cfg, (json_t *)overrides);
    assert_int_equal(ct_json_dump(&text, cfg), 0);
    assert_int_equal(ct_file_write_atomic(path, text, strlen(text), 0600), 0);
    free(text);
    json_decref(cfg);
    char *argv[] = {(char *)ctt_catena_bin(), "api", "--config", (char *)path, NULL};
    ctt_spawn(p, argv, ctt_path("%s/gw%d.log", ctt_tmpdir(), n));
    snprintf(url, 64, "http://127.0.0.1:%u", port);
    for (int i = 0;; i++) {
        json_t *h = NULL;
        long st = 0;
        ctt_http(&st, &h, "GET", ctt_path("%s/api/health", url), NULL, NULL);
        json_decref(h);
        if (st == 200)
            return;
        if (i == 600)
            fail_msg("the gateway did not start: %s/gw%d.log", ctt_tmpdir(), n);
        ct_sleep_ms(50);
    }
}
