/* `catena can`: Component Administration Networks (seed 002): `run` a
 * node, `status` of a node, and `simulate` the network-size experiment of
 * section 4.1.1. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/can.h"
#include "catena/util.h"

struct can_sim_cli {
    ct_can_sim_opts o;
    bool json;
    const char *svg;
};

static int parse_int(const cli_cmd *self, const char *flag, const char *v, int max, int *out)
{
    uint64_t n;

    if (ct_parse_uint(&n, v, (uint64_t)max) < 0)
        return cli_usage_error(self, "%s: expected an integer 0..%d, got '%s'", flag, max, v);
    *out = (int)n;
    return 0;
}

/* "0.2,0.1,..." into p. */
static int parse_probs(const cli_cmd *self, const char *flag, const char *v, double *p, size_t *n)
{
    const char *at = v;

    *n = 0;
    for (;;) {
        char *end = NULL;
        double x = strtod(at, &end);
        if (end == at || !(x >= 0 && x <= 1) || *n == CT_CAN_SIM_MAX_PROBS)
            return cli_usage_error(self,
                                   "%s: expected up to %d probabilities (0 to 1) separated "
                                   "by commas, got '%s'",
                                   flag, CT_CAN_SIM_MAX_PROBS, v);
        p[(*n)++] = x;
        if (*end == '\0')
            return 0;
        if (*end != ',')
            return cli_usage_error(self, "%s: unexpected '%c' in '%s'", flag, *end, v);
        at = end + 1;
    }
}

static int sim_option(const cli_cmd *self, int c, struct can_sim_cli *s)
{
    uint64_t seed;

    switch (c) {
    case 's': return parse_int(self, "--steps", optarg, 100000, &s->o.steps);
    case 'm': return parse_int(self, "--nmin", optarg, 100000, &s->o.nmin);
    case 'M': return parse_int(self, "--nmax", optarg, 100000, &s->o.nmax);
    case 't': return parse_int(self, "--total", optarg, 100000, &s->o.total);
    case 'r': return parse_int(self, "--runs", optarg, 100000, &s->o.runs);
    case 'j': return parse_probs(self, "--join", optarg, s->o.join, &s->o.n_join);
    case 'f': return parse_probs(self, "--fail", optarg, s->o.fail, &s->o.n_fail);
    case 'S':
        if (ct_parse_uint(&seed, optarg, UINT64_MAX) < 0)
            return cli_usage_error(self, "--seed: expected an unsigned integer, got '%s'", optarg);
        s->o.seed = seed;
        return 0;
    case 'o':
    case 'c': {
        ct_can_sim_model *m = c == 'o' ? &s->o.joins : &s->o.crashes;
        if (strcmp(optarg, "each") == 0)
            *m = CT_CAN_SIM_EACH;
        else if (strcmp(optarg, "one") == 0)
            *m = CT_CAN_SIM_ONE;
        else
            return cli_usage_error(self, "%s: expected each or one, got '%s'",
                                   c == 'o' ? "--joins" : "--crashes", optarg);
        return 0;
    }
    case 'J': s->json = true; return 0;
    case 'g': s->svg = optarg; return 0;
    case 'h': cli_print_help(self); return -1;
    default: return CLI_USAGE;
    }
}

static int print_json(const struct can_sim_cli *s, const ct_can_sim_stats *st, size_t n)
{
    json_t *list = json_array(), *doc;
    int rc;

    for (size_t i = 0; i < n && list != NULL; i++)
        json_array_append_new(
            list, json_pack("{s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f}",
                            "join", st[i].join, "fail", st[i].fail, "min", st[i].min, "whisker_lo",
                            st[i].whisker_lo, "q1", st[i].q1, "median", st[i].median, "q3",
                            st[i].q3, "whisker_hi", st[i].whisker_hi, "max", st[i].max, "mean",
                            st[i].mean, "below_nmin", st[i].below_min, "empty", st[i].empty,
                            "runs_emptied", st[i].runs_emptied));
    doc = json_pack("{s:i, s:i, s:i, s:i, s:i, s:I, s:s, s:s, s:o}", "steps", s->o.steps, "nmin",
                    s->o.nmin, "nmax", s->o.nmax, "total", s->o.total, "runs", s->o.runs, "seed",
                    (json_int_t)s->o.seed, "joins", s->o.joins == CT_CAN_SIM_ONE ? "one" : "each",
                    "crashes", s->o.crashes == CT_CAN_SIM_ONE ? "one" : "each", "results", list);
    rc = cli_print_json(doc);
    json_decref(doc);
    return rc;
}

static void print_text(const struct can_sim_cli *s, const ct_can_sim_stats *st, size_t n)
{
    printf("CAN size after each of %d steps, %d runs per (j, f); Nmin %d, Nmax %d, %d nodes\n",
           s->o.steps, s->o.runs, s->o.nmin, s->o.nmax, s->o.total);
    printf("joins: %s candidate(s) a step; crashes: %s member(s) a step\n",
           s->o.joins == CT_CAN_SIM_ONE ? "one" : "each",
           s->o.crashes == CT_CAN_SIM_ONE ? "one" : "each");
    printf("%6s %6s %4s %4s %4s %6s %4s %4s %4s %7s %8s %6s %8s\n", "f", "j", "min", "wlo", "q1",
           "median", "q3", "whi", "max", "mean", "<Nmin", "empty", "died");
    for (size_t i = 0; i < n; i++)
        printf("%6g %6g %4d %4d %4d %6d %4d %4d %4d %7.2f %7.1f%% %5.1f%% %7.0f%%\n", st[i].fail,
               st[i].join, st[i].min, st[i].whisker_lo, st[i].q1, st[i].median, st[i].q3,
               st[i].whisker_hi, st[i].max, st[i].mean, st[i].below_min * 100, st[i].empty * 100,
               st[i].runs_emptied * 100);
}

static int write_svg(const struct can_sim_cli *s, const ct_can_sim_stats *st)
{
    ct_buf b;
    int rc;

    ct_buf_init(&b, (size_t)16 << 20);
    if ((rc = ct_can_sim_svg(&b, &s->o, st)) == 0)
        rc = ct_file_write_atomic(s->svg, b.data, b.len, 0644);
    ct_buf_free(&b);
    if (rc < 0) {
        fprintf(stderr, "catena can simulate: %s\n", ct_error_last());
        return CLI_FAIL;
    }
    return CLI_OK;
}

static int can_simulate(int argc, char **argv)
{
    const cli_cmd *self = cli_find("can");
    static const struct option longopts[] = {
        {"steps", required_argument, NULL, 's'}, {"nmin", required_argument, NULL, 'm'},
        {"nmax", required_argument, NULL, 'M'},  {"total", required_argument, NULL, 't'},
        {"runs", required_argument, NULL, 'r'},  {"join", required_argument, NULL, 'j'},
        {"fail", required_argument, NULL, 'f'},  {"seed", required_argument, NULL, 'S'},
        {"joins", required_argument, NULL, 'o'}, {"crashes", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'J'},        {"svg", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    struct can_sim_cli s = {0};
    ct_can_sim_stats *st;
    size_t n;
    int c, rc;

    ct_can_sim_defaults(&s.o);
    while ((c = cli_getopt(self, argc, argv, longopts)) != -1)
        if ((rc = sim_option(self, c, &s)) != 0)
            return rc < 0 ? CLI_OK : rc;
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
    if (ct_can_sim_check(&s.o) < 0)
        return cli_bad_input("can", "simulate", "%s", ct_error_last());
    n = s.o.n_join * s.o.n_fail;
    if ((st = calloc(n, sizeof(*st))) == NULL || ct_can_sim_run(&s.o, st) < 0) {
        fprintf(stderr, "catena can simulate: %s\n", st ? ct_error_last() : "out of memory");
        free(st);
        return CLI_FAIL;
    }
    rc = s.svg != NULL ? write_svg(&s, st) : CLI_OK;
    if (rc == CLI_OK && s.json)
        rc = print_json(&s, st, n);
    else if (rc == CLI_OK)
        print_text(&s, st, n);
    free(st);
    return rc;
}

static int can_run(int argc, char **argv)
{
    const cli_cmd *self = cli_find("can");
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"rpc", required_argument, NULL, 'r'},
        {"registry", required_argument, NULL, 'R'},
        {"listen", required_argument, NULL, 'l'},
        {"url", required_argument, NULL, 'u'},
        {"key-file", required_argument, NULL, 'k'},
        {"key-env", required_argument, NULL, 'e'},
        {"password-file", required_argument, NULL, 'p'},
        {"password-env", required_argument, NULL, 'P'},
        {"pay-interval", required_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *rpc = NULL, *registry = NULL, *listen = "127.0.0.1:0", *url = NULL;
    uint64_t pay_s = 60;
    const char *kf = NULL, *ke = NULL, *pf = NULL, *pe = NULL;
    ct_can_node_opts o;
    ct_can_node *node = NULL;
    char host[64];
    int c, rc;

    memset(&o, 0, sizeof(o));
    while ((c = cli_getopt(self, argc, argv, longopts)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'r': rpc = optarg; break;
        case 'R': registry = optarg; break;
        case 'l': listen = optarg; break;
        case 'u': url = optarg; break;
        case 'k': kf = optarg; break;
        case 'e': ke = optarg; break;
        case 'p': pf = optarg; break;
        case 'P': pe = optarg; break;
        case 'I':
            if (ct_parse_uint(&pay_s, optarg, 86400) < 0 || pay_s == 0)
                return cli_usage_error(self, "--pay-interval: expected seconds 1..86400, got '%s'",
                                       optarg);
            break;
        case 'h': cli_print_help(self); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
    o.pay_interval_ms = (int)pay_s * 1000;
    if (dir == NULL || rpc == NULL || registry == NULL)
        return cli_usage_error(self, "run needs --dir DIR, --rpc URL and --registry ADDR");
    if (ct_address_parse(&o.registry, registry) < 0)
        return cli_bad_input("can", "run", "--registry: %s", ct_error_last());
    if ((rc = cli_parse_listen(self, host, sizeof(host), &o.port, listen)) != 0)
        return rc;
    if ((rc = cli_load_key(o.seckey, "can", kf, ke, pf, pe)) != 0)
        return rc;
    o.dir = dir;
    o.listen_host = host;
    o.public_url = url;
    o.rpc_url = rpc;
    cli_block_stop_signals();
    rc = ct_can_node_start(&node, &o);
    ct_wipe(o.seckey, sizeof(o.seckey));
    if (rc < 0) {
        fprintf(stderr, "catena can run: %s\n", ct_error_last());
        return CLI_FAIL;
    }
    ct_log(CT_LOG_INFO, "can: listening on %s", ct_can_node_url(node));
    printf("%s\n", ct_can_node_url(node));
    fflush(stdout);
    cli_wait_stop(-1);
    ct_can_node_stop(node);
    return CLI_OK;
}

static int can_status(int argc, char **argv)
{
    const cli_cmd *self = cli_find("can");
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *k;
    bool json = false;
    json_t *out = NULL, *v;
    char target[512];
    long status = 0;
    int c;

    while ((c = cli_getopt(self, argc, argv, longopts)) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 'j': json = true; break;
        case 'h': cli_print_help(self); return CLI_OK;
        default: return CLI_USAGE;
        }
    }
    if (url == NULL || optind < argc)
        return cli_usage_error(self, "status needs --url URL of a CAN node");
    snprintf(target, sizeof(target), "%s/can/status", url);
    if (ct_http_request(&status, &out, "GET", target, NULL, NULL, 10000) < 0 || status != 200 ||
        out == NULL) {
        fprintf(stderr, "catena can status: %s: %s\n", target,
                status ? "not a CAN node's answer" : ct_error_last());
        json_decref(out);
        return CLI_FAIL;
    }
    if (json) {
        c = cli_print_json(out);
        json_decref(out);
        return c;
    }
    printf("node %s (%s), leader %s, nonce %lld, ledger at %lld\n",
           json_string_value(json_object_get(out, "self")),
           json_string_value(json_object_get(out, "role")),
           json_string_value(json_object_get(out, "chain_leader")),
           (long long)json_integer_value(json_object_get(out, "chain_nonce")),
           (long long)json_integer_value(json_object_get(out, "last")));
    printf("members:\n");
    json_object_foreach (json_object_get(out, "members"), k, v)
        printf("  %s %s\n", k, json_string_value(json_object_get(v, "url")));
    printf("components:\n");
    json_object_foreach (json_object_get(out, "components"), k, v)
        printf("  %s %s%s\n", k, json_string_value(json_object_get(v, "url")),
               json_is_true(json_object_get(v, "registered")) ? "" : " (deregistered)");
    printf("work entries:\n");
    json_object_foreach (json_object_get(out, "works"), k, v)
        printf("  %s on %s, %zu checkpoints%s\n", k, json_string_value(json_object_get(v, "comp")),
               json_array_size(json_object_get(v, "checkpoints")),
               json_is_true(json_object_get(v, "finished")) ? ", finished" : "");
    json_decref(out);
    return CLI_OK;
}

int cmd_can(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_print_help(cli_find("can"));
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "simulate") == 0)
        return can_simulate(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return can_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "status") == 0)
        return can_status(argc - 1, argv + 1);
    return cli_bad_input("can", NULL, "unknown subcommand '%s' (run, status, simulate)", argv[1]);
}
