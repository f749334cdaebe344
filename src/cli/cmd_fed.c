/* `catena dc ...` and `catena vc ...`: the federation's REST API from the
 * command line. The gateway URL and the acting DC's token come from flags,
 * the environment, or the federation.json that `catena up` writes. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/agent.h"
#include "catena/cloud.h"
#include "catena/crypto.h"
#include "catena/util.h"

struct fed {
    const char *sub;   /* "dc list", for messages */
    cli_gw gw;         /* the gateway URL, federation.json if read */
    const char *token; /* may be NULL (reads); borrowed from the environment or gw */
    const char *as;    /* DC whose token to use */
    const char *from, *to, *target, *at, *dest, *id, *ip, *controller, *price, *invoice;
    const char *dc_filter, *available;
    bool json; /* --json: `vc tag` prints the whole answer */
};

/* Fills api and token from flags, CATENA_API / CATENA_TOKEN, or the
 * federation file (its DC named by --as, else the DC the command acts
 * for). */
static int fed_resolve(struct fed *f, const char *file, const char *api, const char *dc)
{
    const char *who = f->as ? f->as : dc;

    if (cli_gw_open(&f->gw, file, api) < 0)
        return cli_bad_input(f->sub, NULL, "%s", ct_error_last());
    f->token = getenv("CATENA_TOKEN");
    if (f->token == NULL && who != NULL)
        f->token = cli_gw_token(&f->gw, who);
    return 0;
}

/* Sends the request and prints the answer: the JSON, or only its member
 * field when field is not NULL; non-2xx is a failure. */
static int fed_call_field(struct fed *f, const char *method, const char *path, const json_t *body,
                          const char *field)
{
    char url[1024];
    long status = 0;
    json_t *out = NULL;
    char *text = NULL;
    int rc;

    snprintf(url, sizeof(url), "%s%s", f->gw.api, path);
    if (cli_http(&status, &out, method, url, f->token, body) < 0) {
        fprintf(stderr, "catena %s: %s\n", f->sub, ct_error_last());
        return CLI_FAIL;
    }
    if (status >= 200 && status < 300) {
        if (field != NULL && json_is_string(json_object_get(out, field)))
            puts(json_string_value(json_object_get(out, field)));
        else if (ct_json_dump(&text, out) == 0)
            puts(text);
        rc = CLI_OK;
    } else {
        fprintf(stderr, "catena %s: HTTP %ld: %s\n", f->sub, status,
                json_string_value(json_object_get(out, "error"))
                    ? json_string_value(json_object_get(out, "error"))
                    : "(no message)");
        rc = status == 400 ? CLI_USAGE : CLI_FAIL;
    }
    free(text);
    json_decref(out);
    return rc;
}

static int fed_call(struct fed *f, const char *method, const char *path, const json_t *body)
{
    return fed_call_field(f, method, path, body, NULL);
}

/* Checks an argument's form before it goes into a URL, so a mistyped one
 * is named here rather than coming back as "no such endpoint". */
static bool is_hex_of(const char *s, size_t digits)
{
    if (strncmp(s, "0x", 2) != 0 || strlen(s) != digits + 2)
        return false;
    for (size_t i = 2; s[i] != '\0'; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

static int check_arg(const struct fed *f, const char *what, const char *v)
{
    bool ok;

    if (strcmp(what, "DC") == 0)
        ok = ct_agent_name_valid(v);
    else if (strcmp(what, "WALLET") == 0)
        ok = is_hex_of(v, 40);
    else
        ok = is_hex_of(v, 64); /* TAG, TX_HASH */
    if (ok)
        return 0;
    return cli_bad_input(f->sub, NULL, "%s must be %s, not '%.80s'", what,
                         strcmp(what, "DC") == 0       ? "a DC name ([A-Za-z0-9._-], 1 to 64)"
                         : strcmp(what, "WALLET") == 0 ? "0x and 40 hex digits"
                                                       : "0x and 64 hex digits",
                         v);
}

/* Checks the query values of `vc list` and `vc sla`. */
static int check_query(const struct fed *f)
{
    int64_t ms;
    double pct;
    char *end;

    if (f->dc_filter != NULL && check_arg(f, "DC", f->dc_filter) != 0)
        return CLI_USAGE;
    if (f->available != NULL && strcmp(f->available, "true") != 0 &&
        strcmp(f->available, "false") != 0)
        return cli_bad_input(f->sub, NULL, "--available must be true or false");
    if ((f->from != NULL && ct_time_parse(&ms, f->from) < 0) ||
        (f->to != NULL && ct_time_parse(&ms, f->to) < 0))
        return cli_bad_input(f->sub, NULL, "--from/--to: %s", ct_error_last());
    if (f->target != NULL) {
        pct = strtod(f->target, &end);
        if (end == f->target || *end != '\0' || !(pct >= 0 && pct <= 100))
            return cli_bad_input(f->sub, NULL, "--target must be a percentage (0 to 100)");
    }
    return 0;
}

static void fed_free(struct fed *f)
{
    cli_gw_close(&f->gw);
}

/* Parses the common flags; leaves positional arguments from optind. */
static int fed_opts(struct fed *f, int argc, char **argv, const char **file, const char **api)
{
    static const struct option longopts[] = {
        {"federation", required_argument, NULL, 'F'},
        {"api", required_argument, NULL, 'A'},
        {"as", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"target", required_argument, NULL, 'g'},
        {"at", required_argument, NULL, 'a'},
        {"dest", required_argument, NULL, 'd'},
        {"id", required_argument, NULL, 'i'},
        {"ip", required_argument, NULL, 'p'},
        {"controller", required_argument, NULL, 'c'},
        {"price", required_argument, NULL, 'P'},
        {"invoice", required_argument, NULL, 'I'},
        {"dc", required_argument, NULL, 'D'},
        {"available", required_argument, NULL, 'v'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'F': *file = optarg; break;
        case 'A': *api = optarg; break;
        case 's': f->as = optarg; break;
        case 'f': f->from = optarg; break;
        case 't': f->to = optarg; break;
        case 'g': f->target = optarg; break;
        case 'a': f->at = optarg; break;
        case 'd': f->dest = optarg; break;
        case 'i': f->id = optarg; break;
        case 'p': f->ip = optarg; break;
        case 'c': f->controller = optarg; break;
        case 'P': f->price = optarg; break;
        case 'I': f->invoice = optarg; break;
        case 'D': f->dc_filter = optarg; break;
        case 'v': f->available = optarg; break;
        case 'j': f->json = true; break;
        default: return cli_bad_input(f->sub, NULL, "bad option '%s'", argv[optind - 1]);
        }
    }
    return 0;
}

/* The time given by --at, or now, as ISO 8601. */
static const char *when(const struct fed *f)
{
    static char now[CT_TIME_ISO8601_SIZE];
    ct_time_format(now, ct_time_now_ms());
    return f->at ? f->at : now;
}

/* The KEY of "KEY=VALUE" (eq points at its '='), in static storage. */
static const char *kv_key(const char *arg, const char *eq)
{
    static char key[128];
    snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
    return key;
}

static int dc_main(struct fed *f, int argc, char **argv)
{
    const char *verb = argv[optind];
    int n = argc - optind;

    if (strcmp(verb, "list") == 0 && n == 1)
        return fed_call(f, "GET", "/datacenter/", NULL);
    if (strcmp(verb, "show") == 0 && n == 2) {
        char path[256];
        if (check_arg(f, "WALLET", argv[optind + 1]) != 0)
            return CLI_USAGE;
        snprintf(path, sizeof(path), "/datacenter/%s/details/", argv[optind + 1]);
        return fed_call(f, "GET", path, NULL);
    }
    if (strcmp(verb, "register") == 0 && n == 3) {
        if (check_arg(f, "DC", argv[optind + 1]) != 0 ||
            check_arg(f, "WALLET", argv[optind + 2]) != 0)
            return CLI_USAGE;
        json_t *body =
            json_pack("{s:s, s:s}", "name", argv[optind + 1], "wallet", argv[optind + 2]);
        int rc = fed_call(f, "POST", "/datacenter/register/", body);
        json_decref(body);
        return rc;
    }
    if (strcmp(verb, "attributes") == 0 && n >= 2) {
        const char *who = argv[optind + 1];
        char path[256];
        json_t *attrs, *body;
        int rc = 0;
        if (check_arg(f, n == 2 && strncmp(who, "0x", 2) == 0 ? "WALLET" : "DC", who) != 0)
            return CLI_USAGE;
        snprintf(path, sizeof(path), "/datacenter/%s/attributes/", who);
        if (n == 2)
            return fed_call(f, "GET", path, NULL);
        attrs = json_object();
        for (int i = optind + 2; i < argc && rc == 0; i++) {
            const char *eq = strchr(argv[i], '=');
            if (eq == NULL || eq == argv[i])
                rc = cli_bad_input(f->sub, NULL, "attributes: expected KEY=VALUE, got '%.80s'",
                                   argv[i]);
            else
                json_object_set_new(attrs, kv_key(argv[i], eq), json_string(eq + 1));
        }
        body = json_pack("{s:o}", "attributes", attrs);
        if (rc == 0)
            rc = fed_call(f, "POST", path, body);
        json_decref(body);
        return rc;
    }
    return cli_bad_input(f->sub, NULL,
                         "expected: list | show WALLET | register NAME WALLET | attributes NAME "
                         "[KEY=VALUE...]");
}

/* vc verbs that only read: show, flavor, history, pending, sla, tag, list. */
static int vc_read(struct fed *f, const char *verb, const char *arg)
{
    char path[512];

    if (check_arg(f, strcmp(verb, "tag") == 0 ? "TX_HASH" : "TAG", arg) != 0 || check_query(f) != 0)
        return CLI_USAGE;
    if (strcmp(verb, "tag") == 0) {
        snprintf(path, sizeof(path), "/transaction/%s/vctag/", arg);
        return fed_call_field(f, "GET", path, NULL, f->json ? NULL : "vc_tag");
    } else if (strcmp(verb, "sla") == 0)
        snprintf(path, sizeof(path), "/container/%s/sla/?target=%s%s%s%s%s", arg,
                 f->target ? f->target : "99", f->from ? "&from=" : "", f->from ? f->from : "",
                 f->to ? "&to=" : "", f->to ? f->to : "");
    else
        snprintf(path, sizeof(path), "/container/%s/%s/", arg,
                 strcmp(verb, "show") == 0      ? "details"
                 : strcmp(verb, "pending") == 0 ? "migration/pending"
                                                : verb);
    return fed_call(f, "GET", path, NULL);
}

/* vc verbs that write: DC TAG [...]. */
static int vc_write(struct fed *f, const char *verb, const char *dc, const char *tag,
                    const char *extra)
{
    char path[512];
    const char *action;
    json_t *body;
    int rc;

    if (check_arg(f, "DC", dc) != 0 || check_arg(f, "TAG", tag) != 0 ||
        (f->dest != NULL && check_arg(f, "DC", f->dest) != 0))
        return CLI_USAGE;
    if (strcmp(verb, "availability") == 0 && extra != NULL &&
        (strcmp(extra, "true") == 0 || strcmp(extra, "false") == 0)) {
        action = "availability/change";
        body = json_pack("{s:b, s:s}", "status", strcmp(extra, "true") == 0, "timestamp", when(f));
    } else if (strcmp(verb, "migrate") == 0 && f->dest != NULL) {
        action = "migrate/pending";
        body =
            json_pack("{s:s, s:o, s:o, s:s}", "target", f->dest, "price", ct_cloud_gw_num(f->price),
                      "invoice", ct_cloud_gw_num(f->invoice), "timestamp", when(f));
    } else if (strcmp(verb, "confirm") == 0 && f->id != NULL) {
        action = "migrate/confirm";
        body = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "id", f->id, "ip_address",
                         f->ip ? f->ip : "", "controller", f->controller ? f->controller : "",
                         "price", ct_cloud_gw_num(f->price), "invoice", ct_cloud_gw_num(f->invoice),
                         "timestamp", when(f));
    } else if (strcmp(verb, "retire") == 0) {
        action = "retire";
        body = json_pack("{s:s}", "timestamp", when(f));
    } else {
        return cli_bad_input(f->sub, NULL,
                             "expected: availability DC TAG true|false | migrate DC TAG --dest DC "
                             "--price P --invoice I | confirm DC TAG --id ID [--ip IP] "
                             "[--controller URL] --price P --invoice I | retire DC TAG");
    }
    snprintf(path, sizeof(path), "/datacenter/%s/container/%s/%s/", dc, tag, action);
    rc = fed_call(f, "POST", path, body);
    json_decref(body);
    return rc;
}

static int vc_main(struct fed *f, int argc, char **argv)
{
    const char *verb = argv[optind];
    int n = argc - optind;
    static const char *const reads[] = {"show", "flavor", "history", "pending", "sla", "tag", NULL};

    for (size_t i = 0; reads[i] != NULL; i++)
        if (strcmp(verb, reads[i]) == 0 && n == 2)
            return vc_read(f, verb, argv[optind + 1]);
    if (strcmp(verb, "list") == 0 && n == 1) {
        char path[256];
        if (check_query(f) != 0)
            return CLI_USAGE;
        snprintf(path, sizeof(path), "/container/?%s%s%s%s", f->dc_filter ? "dc=" : "",
                 f->dc_filter ? f->dc_filter : "", f->available ? "&available=" : "",
                 f->available ? f->available : "");
        return fed_call(f, "GET", path, NULL);
    }
    if (strcmp(verb, "register") == 0 && n == 3) {
        json_t *body;
        char path[256];
        if (check_arg(f, "DC", argv[optind + 1]) != 0)
            return CLI_USAGE;
        if (ct_json_parse(&body, argv[optind + 2], strlen(argv[optind + 2]), 8) < 0)
            return cli_bad_input(f->sub, NULL, "body: %s", ct_error_last());
        snprintf(path, sizeof(path), "/datacenter/%s/container/register/", argv[optind + 1]);
        int rc = fed_call(f, "POST", path, body);
        json_decref(body);
        return rc;
    }
    if (n >= 3)
        return vc_write(f, verb, argv[optind + 1], argv[optind + 2],
                        n >= 4 ? argv[optind + 3] : NULL);
    return cli_bad_input(f->sub, NULL, "unknown or incomplete command; see 'catena help vc'");
}

static int fed_main(int argc, char **argv, bool dc)
{
    struct fed f = {.sub = dc ? "dc" : "vc"};
    const char *file = NULL, *api = NULL;
    int rc;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cli_print_help(cli_find(f.sub));
        return CLI_OK;
    }
    if (fed_opts(&f, argc, argv, &file, &api) != 0)
        return CLI_USAGE;
    if (optind >= argc)
        return cli_usage_error(cli_find(f.sub), "expects a subcommand");
    /* Writes act for the DC named after the verb (dc register NAME, vc X DC). */
    const char *acting = argc - optind >= 2 ? argv[optind + 1] : NULL;
    if ((rc = fed_resolve(&f, file, api, acting)) == 0)
        rc = dc ? dc_main(&f, argc, argv) : vc_main(&f, argc, argv);
    fed_free(&f);
    return rc;
}

int cmd_dc(int argc, char **argv)
{
    return fed_main(argc, argv, true);
}

int cmd_vc(int argc, char **argv)
{
    return fed_main(argc, argv, false);
}
