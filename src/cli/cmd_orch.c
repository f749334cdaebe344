/* `catena orch run`: one orchestrator for one application on this machine,
 * with the process driver and a checkpoint journal in its directory. Run
 * again on the same directory (after a crash or kill -9) it continues from
 * the journal and keeps the services that still run. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catena/crypto.h"
#include "catena/orch.h"
#include "catena/util.h"

#define JOURNAL "checkpoints.jsonl"
/* Largest journal read back (a checkpoint line is a few hundred bytes). */
#define JOURNAL_MAX (64u << 20)

typedef struct orch_args {
    const char *app;
    const char *dir;
    const char *id;
    cli_inputs inputs;
    uint64_t retries;
    uint64_t ok_interval_s;
    uint64_t check_ms;
    uint64_t start_timeout_s;
    bool json;
} orch_args;

typedef struct orch_state {
    const orch_args *a;
    ct_orch_plan *plan;
    int journal_fd;
    atomic_bool stop;
    atomic_bool done;
} orch_state;

static int parse_args(orch_args *a, int argc, char **argv)
{
    const cli_cmd *self = cli_find("orch");
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"input", required_argument, NULL, 'i'},
        {"retries", required_argument, NULL, 'r'},
        {"ok-interval", required_argument, NULL, 'o'},
        {"check-ms", required_argument, NULL, 'c'},
        {"id", required_argument, NULL, 'I'},
        {"start-timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct {
        int c;
        const char *flag;
        uint64_t *v, min, max;
    } nums[] = {{'r', "--retries", &a->retries, 0, 1000},
                {'o', "--ok-interval", &a->ok_interval_s, 1, 86400},
                {'c', "--check-ms", &a->check_ms, 100, 600000},
                {'t', "--start-timeout", &a->start_timeout_s, 1, 3600}};
    int c;

    optind = 1;
    while ((c = cli_getopt_one(self, argc, argv, longopts, &a->app)) != -1) {
        bool matched = false;
        for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
            if (nums[i].c == c) {
                matched = true;
                if (ct_parse_uint(nums[i].v, optarg, nums[i].max) < 0 || *nums[i].v < nums[i].min)
                    return cli_usage_error(
                        self, "%s: expected an integer %" PRIu64 "..%" PRIu64 ", got '%s'",
                        nums[i].flag, nums[i].min, nums[i].max, optarg);
            }
        if (matched)
            continue;
        switch (c) {
        case 'd': a->dir = optarg; break;
        case 'I': a->id = optarg; break;
        case 'J': a->json = true; break;
        case 'i':
            if (cli_inputs_add(self, &a->inputs, optarg) != 0)
                return CLI_USAGE;
            break;
        case 'h': cli_print_help(self); return -1;
        default: return CLI_USAGE;
        }
    }
    if (a->app == NULL)
        return cli_usage_error(self, "APP.yaml missing");
    if (a->dir == NULL)
        return cli_usage_error(self, "--dir DIR is required (services, logs, journal)");
    return 0;
}

int cli_orch_plan_load(ct_orch_plan **out, const char *who, const char *path,
                       const cli_inputs *inputs)
{
    ct_tosca_opts opts = {inputs ? inputs->v : NULL, inputs ? inputs->n : 0, NULL, NULL};
    ct_yaml_diags d = {0};
    ct_tosca *t = NULL;
    int rc = ct_tosca_load(&t, &d, path, &opts);

    cli_print_tosca_diags(who, &d);
    if (rc < 0 && d.n == 0)
        fprintf(stderr, "catena %s: %s\n", who, ct_error_last());
    ct_yaml_diags_free(&d);
    if (rc == 0 && (rc = ct_orch_plan_new(out, t)) < 0)
        fprintf(stderr, "catena %s: %s\n", who, ct_error_last());
    ct_tosca_free(t);
    return rc == 0 ? 0 : rc == CT_ENOMEM ? CLI_FAIL : CLI_USAGE;
}

/* Reads the journal's checkpoints since its last APP_SHUTDOWN (a run
 * after a clean stop starts afresh). A torn last line (a crash while
 * writing) is dropped. Returns: 0, or reports and returns CLI_USAGE. */
static int read_journal(ct_orch_checkpoint **out, size_t *n, const char *path,
                        const ct_orch_plan *plan)
{
    char *text = NULL, *line, *next;
    size_t len = 0, cap = 0;
    int rc = 0, lineno = 0;

    *out = NULL;
    *n = 0;
    if ((rc = ct_file_read(&text, &len, path, JOURNAL_MAX)) == CT_ENOTFOUND)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "catena orch: %s\n", ct_error_last());
        return CLI_FAIL;
    }
    for (line = text; rc == 0 && line < text + len; line = next) {
        json_t *v = NULL;
        char *nl = strchr(line, '\n');
        lineno++;
        next = nl ? nl + 1 : text + len;
        if (nl == NULL) /* torn: written up to a crash */
            break;
        *nl = '\0';
        if (*n == cap) {
            ct_orch_checkpoint *bigger = realloc(*out, (cap = cap ? cap * 2 : 64) * sizeof(**out));
            if (bigger == NULL) {
                rc = CLI_FAIL;
                break;
            }
            *out = bigger;
        }
        if (ct_json_parse(&v, line, strlen(line), 8) < 0 ||
            ct_orch_checkpoint_parse(&(*out)[*n], v, plan) < 0) {
            fprintf(stderr, "catena orch: %s line %d: %s\n", path, lineno, ct_error_last());
            rc = CLI_USAGE;
        } else if ((*out)[*n].kind == CT_ORCH_APP_SHUTDOWN)
            *n = 0;
        else
            (*n)++;
        json_decref(v);
    }
    free(text);
    return rc;
}

static void print_checkpoint(const orch_state *s, const ct_orch_checkpoint *cp, json_t *v)
{
    char when[CT_TIME_ISO8601_SIZE];

    if (s->a->json) {
        cli_print_json(v);
        return;
    }
    ct_time_format(when, cp->time_ms);
    printf("%s %-12s", when, ct_orch_kind_name(cp->kind));
    if (cp->kind == CT_ORCH_SERVICE_UP || cp->kind == CT_ORCH_SERVICE_DOWN)
        printf(" %s", s->plan->services[cp->service].name);
    if (cp->kind == CT_ORCH_SERVICE_UP)
        printf(" %s pid %lld", cp->inst.url, (long long)cp->inst.pid);
    printf("\n");
    fflush(stdout);
}

/* The store: one line appended and synced before the loop goes on. */
static int store(const ct_orch_checkpoint *cp, void *payload)
{
    orch_state *s = payload;
    json_t *v = ct_orch_checkpoint_json(cp, s->plan);
    char *line = v ? ct_json_dumps(v, JSON_COMPACT) : NULL;
    size_t len = line ? strlen(line) : 0;
    int rc = 0;

    if (line == NULL)
        rc = ct_error_set(CT_ENOMEM, "out of memory");
    else {
        if (write(s->journal_fd, line, len) != (ssize_t)len || write(s->journal_fd, "\n", 1) != 1 ||
            fsync(s->journal_fd) < 0)
            rc = ct_error_set(CT_EIO, "journal: %s", strerror(errno));
    }
    if (rc == 0)
        print_checkpoint(s, cp, v);
    free(line);
    json_decref(v);
    return rc;
}

static void *wait_signal(void *arg)
{
    orch_state *s = arg;

    while (!atomic_load(&s->done))
        if (cli_wait_stop(200) > 0)
            atomic_store(&s->stop, true);
    return NULL;
}

/* Opens the journal and takes the directory's lock, so that two
 * orchestrators never run the same application. */
static int open_dir(orch_state *s, int *lock_fd)
{
    char path[4096];

    if (mkdir(s->a->dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "catena orch: cannot create %s: %s\n", s->a->dir, strerror(errno));
        return CLI_FAIL;
    }
    snprintf(path, sizeof(path), "%s/orch.lock", s->a->dir);
    if ((*lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
        flock(*lock_fd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr, "catena orch: %s: %s\n", path,
                errno == EWOULDBLOCK ? "another orchestrator runs this application"
                                     : strerror(errno));
        return CLI_FAIL;
    }
    snprintf(path, sizeof(path), "%s/" JOURNAL, s->a->dir);
    if ((s->journal_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
        fprintf(stderr, "catena orch: %s: %s\n", path, strerror(errno));
        return CLI_FAIL;
    }
    return 0;
}

static int orch_run(int argc, char **argv)
{
    orch_args a = {
        .id = "local", .retries = 3, .ok_interval_s = 60, .check_ms = 1000, .start_timeout_s = 30};
    orch_state s = {.a = &a, .journal_fd = -1};
    ct_orch_checkpoint *resume = NULL;
    ct_orch_driver *driver = NULL;
    char path[4096];
    size_t n_resume = 0;
    int lock_fd = -1, rc;
    pthread_t waiter;

    if ((rc = parse_args(&a, argc, argv)) != 0)
        goto done;
    if ((rc = cli_orch_plan_load(&s.plan, "orch", a.app, &a.inputs)) != 0 ||
        (rc = open_dir(&s, &lock_fd)) != 0)
        goto done;
    snprintf(path, sizeof(path), "%s/" JOURNAL, a.dir);
    if ((rc = read_journal(&resume, &n_resume, path, s.plan)) != 0)
        goto done;
    if (ct_orch_process_driver_new(&driver, a.dir, (int)a.start_timeout_s * 1000) < 0) {
        fprintf(stderr, "catena orch: %s\n", ct_error_last());
        rc = CLI_FAIL;
        goto done;
    }
    cli_block_stop_signals();
    if (pthread_create(&waiter, NULL, wait_signal, &s) != 0) {
        rc = CLI_FAIL;
        goto done;
    }
    {
        ct_orch_run_opts o = {.orchestrator = a.id,
                              .retries = (unsigned)a.retries,
                              .ok_interval_ms = (int)a.ok_interval_s * 1000,
                              .check_interval_ms = (int)a.check_ms,
                              .resume = resume,
                              .n_resume = n_resume,
                              .stop = &s.stop,
                              .store = store,
                              .payload = &s};
        if ((rc = ct_orch_run(s.plan, driver, &o)) < 0)
            fprintf(stderr, "catena orch: %s\n", ct_error_last());
        else if (!atomic_load(&s.stop))
            fprintf(stderr,
                    "catena orch: a service failed more than %u times; the application "
                    "is shut down\n",
                    (unsigned)a.retries);
        rc = rc < 0 || !atomic_load(&s.stop) ? CLI_FAIL : CLI_OK;
    }
    atomic_store(&s.done, true);
    pthread_join(waiter, NULL);
done:
    ct_orch_driver_free(driver);
    ct_orch_plan_free(s.plan);
    free(resume);
    cli_inputs_free(&a.inputs);
    if (s.journal_fd >= 0)
        close(s.journal_fd);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc < 0 ? CLI_OK : rc;
}

/* `catena orch serve`: an orchestrator component of a CAN until SIGINT or
 * SIGTERM (its applications keep running). */
static int orch_serve(int argc, char **argv)
{
    const cli_cmd *self = cli_find("orch");
    static const struct option longopts[] = {
        {"can", required_argument, NULL, 'c'},
        {"rpc", required_argument, NULL, 'r'},
        {"dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"url", required_argument, NULL, 'u'},
        {"key-file", required_argument, NULL, 'k'},
        {"key-env", required_argument, NULL, 'e'},
        {"password-file", required_argument, NULL, 'p'},
        {"password-env", required_argument, NULL, 'P'},
        {"check-ms", required_argument, NULL, 'C'},
        {"start-timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen = "127.0.0.1:0", *kf = NULL, *ke = NULL, *pf = NULL, *pe = NULL;
    ct_orch_component_opts o;
    ct_orch_component *comp = NULL;
    uint64_t check_ms = 1000, start_s = 30;
    char host[64];
    int c, rc;

    memset(&o, 0, sizeof(o));
    optind = 1;
    while ((c = cli_getopt(self, argc, argv, longopts)) != -1) {
        switch (c) {
        case 'c': o.can_urls = optarg; break;
        case 'r': o.rpc_url = optarg; break;
        case 'd': o.dir = optarg; break;
        case 'l': listen = optarg; break;
        case 'u': o.public_url = optarg; break;
        case 'k': kf = optarg; break;
        case 'e': ke = optarg; break;
        case 'p': pf = optarg; break;
        case 'P': pe = optarg; break;
        case 'C':
            if (ct_parse_uint(&check_ms, optarg, 600000) < 0 || check_ms < 100)
                return cli_usage_error(self, "--check-ms: expected 100..600000, got '%s'", optarg);
            break;
        case 't':
            if (ct_parse_uint(&start_s, optarg, 3600) < 0 || start_s == 0)
                return cli_usage_error(self, "--start-timeout: expected 1..3600, got '%s'", optarg);
            break;
        case 'h': cli_print_help(self); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
    if (o.can_urls == NULL || o.rpc_url == NULL || o.dir == NULL)
        return cli_usage_error(self, "serve needs --can URL[,URL...], --rpc URL and --dir DIR");
    if ((rc = cli_parse_listen(self, host, sizeof(host), &o.port, listen)) != 0)
        return rc;
    if ((rc = cli_load_key(o.seckey, "orch", kf, ke, pf, pe)) != 0)
        return rc;
    o.listen_host = host;
    o.check_interval_ms = (int)check_ms;
    o.start_timeout_ms = (int)start_s * 1000;
    cli_block_stop_signals();
    rc = ct_orch_component_start(&comp, &o);
    ct_wipe(o.seckey, sizeof(o.seckey));
    if (rc < 0) {
        fprintf(stderr, "catena orch serve: %s\n", ct_error_last());
        return rc == CT_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    ct_log(CT_LOG_INFO, "orchestrator %s listening on %s", ct_orch_component_id(comp),
           ct_orch_component_url(comp));
    printf("%s %s\n", ct_orch_component_id(comp), ct_orch_component_url(comp));
    fflush(stdout);
    cli_wait_stop(-1);
    ct_orch_component_stop(comp);
    return CLI_OK;
}

int cmd_orch(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_print_help(cli_find("orch"));
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "run") == 0)
        return orch_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "serve") == 0)
        return orch_serve(argc - 1, argv + 1);
    return cli_bad_input("orch", NULL, "unknown subcommand '%s' (run, serve)", argv[1]);
}
