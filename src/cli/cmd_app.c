/* `catena app`: an orchestrated application's contract on the chain
 * (seed 002 section 3): show its services, checkpoints, salaries and
 * funds; pay the checkpoints (interimPayment, k chosen to fit a block);
 * withdraw a salary; request a stop; close it after APP_SHUTDOWN. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/can.h"
#include "catena/ledger.h"
#include "catena/orch.h"
#include "catena/util.h"

/* Most checkpoints `show` lists (the newest). */
#define SHOW_MAX_CHECKPOINTS 1000

typedef struct app_args {
    const char *sub;
    const char *addr_text;
    const char *rpc_url;
    const char *kf, *ke, *pf, *pe;
    const char *can_url; /* show: where the services run, from the CAN */
    uint64_t k;
    bool json;
} app_args;

typedef struct app_ctx {
    app_args a;
    ct_address app;
    ct_ledger *l;
    ct_rpc *rpc;
} app_ctx;

static int fail(const app_ctx *c, int rc)
{
    fprintf(stderr, "catena app %s: %s\n", c->a.sub, ct_error_last());
    return rc == CT_EINVAL || rc == CT_EREVERT || rc == CT_ENOTFOUND ? CLI_USAGE : CLI_FAIL;
}

/* One value of a view without arguments, as JSON (new ref), or NULL. */
static json_t *view(app_ctx *c, const char *fn, json_t *args)
{
    json_t *out = NULL, *v;
    json_t *none = args ? args : json_array();

    if (ct_ledger_read(c->l, c->rpc, &out, &c->app, fn, none) < 0) {
        json_decref(none);
        return NULL;
    }
    json_decref(none);
    v = json_incref(json_array_get(out, 0));
    json_decref(out);
    return v;
}

static const char *str(const json_t *v)
{
    return json_string_value(v) ? json_string_value(v) : "";
}

static int add_salary(app_ctx *c, json_t *salaries, const char *who)
{
    json_t *v;

    if (who[0] == '\0' || json_object_get(salaries, who) != NULL)
        return 0;
    if ((v = view(c, "salary", json_pack("[s]", who))) == NULL)
        return CT_ERPC;
    json_object_set_new(salaries, who, v);
    return 0;
}

static int read_services(app_ctx *c, json_t *doc, json_t *salaries)
{
    json_t *n = view(c, "serviceCount", NULL), *list = json_array();
    uint64_t count = 0;
    int rc = 0;

    if (n == NULL || ct_parse_uint(&count, str(n), 10000) < 0)
        rc = n == NULL ? CT_ERPC : ct_error_set(CT_EPARSE, "serviceCount: %s", str(n));
    for (uint64_t i = 0; rc == 0 && i < count; i++) {
        json_t *s = view(c, "service", json_pack("[I]", (json_int_t)i));
        if (s == NULL) {
            rc = CT_ERPC;
            break;
        }
        json_array_append_new(list, json_pack("{s:O, s:O, s:O, s:O}", "name", json_array_get(s, 0),
                                              "resource", json_array_get(s, 1), "owner",
                                              json_array_get(s, 2), "price", json_array_get(s, 3)));
        rc = add_salary(c, salaries, str(json_array_get(s, 2)));
        json_decref(s);
    }
    json_decref(n);
    json_object_set_new(doc, "services", list);
    return rc;
}

static int read_checkpoints(app_ctx *c, json_t *doc, json_t *salaries)
{
    json_t *n = view(c, "checkpointCount", NULL), *list = json_array();
    const json_t *services = json_object_get(doc, "services");
    uint64_t count = 0, first;
    int rc = 0;

    if (n == NULL || ct_parse_uint(&count, str(n), UINT32_MAX) < 0)
        rc = n == NULL ? CT_ERPC : ct_error_set(CT_EPARSE, "checkpointCount: %s", str(n));
    first = count > SHOW_MAX_CHECKPOINTS ? count - SHOW_MAX_CHECKPOINTS : 0;
    for (uint64_t i = first; rc == 0 && i < count; i++) {
        json_t *cp = view(c, "checkpoint", json_pack("[I]", (json_int_t)i));
        uint64_t kind = 0, svc = 0;
        if (cp == NULL) {
            rc = CT_ERPC;
            break;
        }
        ct_parse_uint(&kind, str(json_array_get(cp, 0)), 3);
        ct_parse_uint(&svc, str(json_array_get(cp, 2)), UINT32_MAX);
        json_array_append_new(list,
                              json_pack("{s:I, s:s, s:O, s:O, s:O, s:O}", "index", (json_int_t)i,
                                        "type", ct_orch_kind_name((ct_orch_kind)kind),
                                        "timestamp_ms", json_array_get(cp, 1), "service",
                                        kind <= CT_ORCH_SERVICE_DOWN
                                            ? json_object_get(json_array_get(services, svc), "name")
                                            : json_null(),
                                        "issuer", json_array_get(cp, 3), "orchestrator",
                                        json_array_get(cp, 4)));
        rc = add_salary(c, salaries, str(json_array_get(cp, 4)));
        json_decref(cp);
    }
    json_decref(n);
    json_object_set_new(doc, "checkpoints", list);
    return rc;
}

/* Each service's state from the checkpoints on chain: "pending" before its
 * first SERVICE_UP, then "up" or "down" as its last one says, "stopped"
 * after APP_SHUTDOWN. The checkpoints read are the newest
 * SHOW_MAX_CHECKPOINTS: an older start counts as "up". */
static void service_states(json_t *doc)
{
    json_t *svcs = json_object_get(doc, "services"), *cp, *svc;
    size_t i, j;

    json_array_foreach (svcs, j, svc)
        json_object_set_new(
            svc, "state",
            json_string(json_array_size(json_object_get(doc, "checkpoints")) == SHOW_MAX_CHECKPOINTS
                            ? "up"
                            : "pending"));
    json_array_foreach (json_object_get(doc, "checkpoints"), i, cp) {
        const char *type = str(json_object_get(cp, "type"));
        json_array_foreach (svcs, j, svc) {
            bool this =
                strcmp(str(json_object_get(cp, "service")), str(json_object_get(svc, "name"))) == 0;
            if (strcmp(type, "APP_SHUTDOWN") == 0)
                json_object_set_new(svc, "state", json_string("stopped"));
            else if (this && strcmp(type, "SERVICE_UP") == 0)
                json_object_set_new(svc, "state", json_string("up"));
            else if (this && strcmp(type, "SERVICE_DOWN") == 0)
                json_object_set_new(svc, "state", json_string("down"));
        }
    }
}

/* With --can: the orchestrator that holds the application now, and each
 * service's URL and pid from its last SERVICE_UP checkpoint (kept by the
 * CAN, fetched by digest and checked). */
static int where_services_run(app_ctx *c, json_t *doc)
{
    char url[512], text[CT_ADDRESS_TEXT_SIZE];
    json_t *st = NULL, *w, *digests;
    long status = 0;
    int rc;

    ct_address_format(text, &c->app);
    snprintf(url, sizeof(url), "%s/can/status", c->a.can_url);
    if ((rc = ct_http_request(&status, &st, "GET", url, NULL, NULL, 10000)) < 0 || status != 200) {
        json_decref(st);
        return rc < 0 ? rc : ct_error_set(CT_EIO, "%s answered %ld", url, status);
    }
    w = NULL;
    {
        const char *id;
        json_t *e;
        json_object_foreach (json_object_get(st, "works"), id, e)
            if (strcasecmp(id, text) == 0)
                w = e;
    }
    if (w == NULL) {
        json_decref(st);
        return ct_error_set(CT_ENOTFOUND, "the CAN at %s has no work entry for %s", c->a.can_url,
                            text);
    }
    json_object_set(doc, "orchestrator", json_object_get(w, "comp"));
    digests = json_object_get(w, "checkpoints");
    for (size_t i = json_array_size(digests); i-- > 0;) {
        json_t *blob = NULL, *v = NULL, *svc;
        uint8_t *data = NULL;
        size_t len = 0, j;
        char have[67];
        const char *digest = str(json_array_get(digests, i));
        snprintf(url, sizeof(url), "%s/can/blob/%s", c->a.can_url, digest);
        if (ct_http_request(&status, &blob, "GET", url, NULL, NULL, 10000) == 0 && status == 200 &&
            ct_hex_decode_new(&data, &len, str(json_object_get(blob, "data"))) == 0) {
            ct_can_digest(have, data, len);
            if (strcasecmp(have, digest) == 0)
                v = json_loadb((const char *)data, len, 0, NULL);
        }
        ct_error_clear();
        if (strcmp(str(json_object_get(v, "type")), "SERVICE_UP") == 0)
            json_array_foreach (json_object_get(doc, "services"), j, svc)
                if (strcmp(str(json_object_get(svc, "name")), str(json_object_get(v, "service"))) ==
                        0 &&
                    json_object_get(svc, "url") == NULL) {
                    json_object_set(svc, "url", json_object_get(v, "url"));
                    json_object_set(svc, "pid", json_object_get(v, "pid"));
                    json_object_set(svc, "id", json_object_get(v, "id"));
                }
        free(data);
        json_decref(v);
        json_decref(blob);
    }
    json_decref(st);
    return 0;
}

/* Everything `show` prints, as one JSON object. */
static int read_app(app_ctx *c, json_t **out)
{
    static const char *const scalars[] = {
        "registry",      "cloud",      "client",       "cloudPayee",
        "toscaHash",     "cloudPrice", "networkPrice", "orchestratorPrice",
        "retries",       "okInterval", "paidCount",    "locked",
        "stopRequested", "shutdown",   "closed"};
    json_t *doc = json_object(), *salaries = json_object();
    char bal[CT_U256_DEC_SIZE];
    ct_u256 balance;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < sizeof(scalars) / sizeof(scalars[0]); i++) {
        json_t *v = view(c, scalars[i], NULL);
        if (v == NULL)
            rc = CT_ERPC;
        else
            json_object_set_new(doc, scalars[i], v);
    }
    if (rc == 0 && (rc = ct_rpc_get_balance(c->rpc, &balance, &c->app, "latest")) == 0) {
        ct_u256_format_dec(bal, &balance);
        json_object_set_new(doc, "balance", json_string(bal));
    }
    if (rc == 0 && (rc = add_salary(c, salaries, str(json_object_get(doc, "cloudPayee")))) == 0 &&
        (rc = add_salary(c, salaries, str(json_object_get(doc, "registry")))) == 0 &&
        (rc = read_services(c, doc, salaries)) == 0)
        rc = read_checkpoints(c, doc, salaries);
    if (rc == 0)
        service_states(doc);
    if (rc == 0 && c->a.can_url != NULL)
        rc = where_services_run(c, doc);
    json_object_set_new(doc, "salaries", salaries);
    json_object_set_new(doc, "state",
                        json_string(json_is_true(json_object_get(doc, "closed"))     ? "closed"
                                    : json_is_true(json_object_get(doc, "shutdown")) ? "shut down"
                                    : json_is_true(json_object_get(doc, "stopRequested"))
                                        ? "stopping"
                                        : "running"));
    if (rc < 0)
        json_decref(doc);
    else
        *out = doc;
    return rc < 0 ? rc : 0;
}

static void print_app(const json_t *d)
{
    const json_t *v;
    const char *k;
    size_t i;

    printf("state: %s\n", str(json_object_get(d, "state")));
    printf("  client %s, cloud %s\n", str(json_object_get(d, "client")),
           str(json_object_get(d, "cloud")));
    printf("  balance %s wei, locked %s wei, %s of %zu checkpoints paid\n",
           str(json_object_get(d, "balance")), str(json_object_get(d, "locked")),
           str(json_object_get(d, "paidCount")),
           json_array_size(json_object_get(d, "checkpoints")));
    if (json_is_string(json_object_get(d, "orchestrator")))
        printf("  orchestrator %s\n", str(json_object_get(d, "orchestrator")));
    printf("services:\n");
    json_array_foreach (json_object_get(d, "services"), i, v) {
        printf("  %zu %-16s %-8s resource %.18s... owner %s, %s wei/min", i,
               str(json_object_get(v, "name")), str(json_object_get(v, "state")),
               str(json_object_get(v, "resource")), str(json_object_get(v, "owner")),
               str(json_object_get(v, "price")));
        if (json_is_string(json_object_get(v, "url")))
            printf(", %s pid %lld", str(json_object_get(v, "url")),
                   (long long)json_integer_value(json_object_get(v, "pid")));
        printf("\n");
    }
    printf("checkpoints:\n");
    json_array_foreach (json_object_get(d, "checkpoints"), i, v) {
        char when[CT_TIME_ISO8601_SIZE];
        uint64_t ms = 0;
        ct_parse_uint(&ms, str(json_object_get(v, "timestamp_ms")), UINT64_MAX);
        ct_time_format(when, (int64_t)ms);
        printf("  %s %-12s %s by %s\n", when, str(json_object_get(v, "type")),
               json_is_string(json_object_get(v, "service")) ? str(json_object_get(v, "service"))
                                                             : "-",
               str(json_object_get(v, "orchestrator")));
    }
    printf("salaries (wei, not yet withdrawn):\n");
    json_object_foreach ((json_t *)json_object_get(d, "salaries"), k, v)
        printf("  %s %s\n", k, str(v));
}

static int cmd_show(app_ctx *c)
{
    json_t *doc = NULL;
    int rc = read_app(c, &doc);

    if (rc < 0)
        return fail(c, rc);
    if (c->a.json)
        rc = cli_print_json(doc);
    else
        print_app(doc);
    json_decref(doc);
    return rc;
}

static json_t *event_arg(const app_ctx *c, const ct_send_result *res, const char *event,
                         const char *arg)
{
    const json_t *log;
    size_t i;

    json_array_foreach (json_object_get(res->receipt, "logs"), i, log) {
        const char *name = NULL;
        json_t *ev = NULL, *v = NULL;
        if (ct_ledger_decode_log(c->l, &name, &ev, log) == 0 && strcmp(name, event) == 0)
            v = json_incref(json_object_get(ev, arg));
        ct_error_clear();
        json_decref(ev);
        if (v != NULL)
            return v;
    }
    return NULL;
}

/* pay, withdraw, stop, close: one transaction with the caller's key. */
static int cmd_send(app_ctx *c)
{
    static const struct {
        const char *sub, *fn, *event, *arg, *what;
    } ops[] = {{"pay", "interimPayment", "Paid", "total", "paid"},
               {"withdraw", "withdraw", "Withdrawn", "amount", "withdrew"},
               {"stop", "requestStop", NULL, NULL, "stop requested"},
               {"close", "close", "Closed", "refund", "refunded"}};
    ct_send_result res = {0};
    ct_sender *s = NULL;
    json_t *args, *amount = NULL;
    uint8_t key[32];
    size_t op = 0;
    int rc;

    while (strcmp(ops[op].sub, c->a.sub) != 0)
        op++;
    if ((rc = cli_load_key(key, "app", c->a.kf, c->a.ke, c->a.pf, c->a.pe)) != 0)
        return rc;
    rc = ct_sender_new(&s, c->a.rpc_url, key, NULL);
    ct_wipe(key, sizeof(key));
    if (rc < 0)
        return fail(c, rc);
    if (strcmp(c->a.sub, "pay") == 0 && c->a.k == 0) {
        if ((rc = ct_ledger_app_pay_k(c->l, c->rpc, &c->a.k, &c->app, ct_sender_address(s))) < 0) {
            ct_sender_free(s);
            return fail(c, rc);
        }
        if (c->a.k == 0)
            c->a.k = 1; /* nothing unpaid: the contract says so (Paid with 0 steps) */
    }
    args = strcmp(c->a.sub, "pay") == 0 ? json_pack("[I]", (json_int_t)c->a.k) : json_array();
    rc = ct_ledger_transact(c->l, s, &res, &c->app, NULL, ops[op].fn, args);
    json_decref(args);
    ct_sender_free(s);
    if (rc < 0) {
        ct_send_result_clear(&res);
        return fail(c, rc);
    }
    if (ops[op].event != NULL)
        amount = event_arg(c, &res, ops[op].event, ops[op].arg);
    if (c->a.json) {
        json_t *doc = json_pack("{s:o, s:I}", "tx", ct_json_hex(res.hash, 32), "block",
                                (json_int_t)res.block);
        if (doc != NULL && amount != NULL)
            json_object_set(doc, ops[op].arg, amount);
        if (doc != NULL && strcmp(c->a.sub, "pay") == 0)
            json_object_set_new(doc, "k", json_integer((json_int_t)c->a.k));
        rc = cli_print_json(doc);
        json_decref(doc);
    } else {
        printf("%s%s%s%s\n", ops[op].what, amount ? " " : "", amount ? str(amount) : "",
               amount ? " wei" : "");
        rc = CLI_OK;
    }
    json_decref(amount);
    ct_send_result_clear(&res);
    return rc;
}

static int parse_args(app_args *a, int argc, char **argv)
{
    const cli_cmd *self = cli_find("app");
    static const struct option longopts[] = {
        {"rpc", required_argument, NULL, 'r'},
        {"key-file", required_argument, NULL, 'k'},
        {"key-env", required_argument, NULL, 'e'},
        {"password-file", required_argument, NULL, 'p'},
        {"password-env", required_argument, NULL, 'P'},
        {"k", required_argument, NULL, 'K'},
        {"can", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = cli_getopt_one(self, argc, argv, longopts, &a->addr_text)) != -1) {
        switch (c) {
        case 'r': a->rpc_url = optarg; break;
        case 'k': a->kf = optarg; break;
        case 'e': a->ke = optarg; break;
        case 'p': a->pf = optarg; break;
        case 'P': a->pe = optarg; break;
        case 'j': a->json = true; break;
        case 'c': a->can_url = optarg; break;
        case 'K':
            if (ct_parse_uint(&a->k, optarg, 100000) < 0 || a->k == 0)
                return cli_usage_error(self, "--k: expected an integer 1..100000, got '%s'",
                                       optarg);
            break;
        case 'h': cli_print_help(self); return -1;
        default: return CLI_USAGE;
        }
    }
    if (a->addr_text == NULL)
        return cli_usage_error(self, "the application's address is missing");
    if (a->k != 0 && strcmp(a->sub, "pay") != 0)
        return cli_usage_error(self, "--k is for pay");
    if (a->can_url != NULL && strcmp(a->sub, "show") != 0)
        return cli_usage_error(self, "--can is for show");
    return 0;
}

int cmd_app(int argc, char **argv)
{
    static const char *const subs[] = {"show", "pay", "withdraw", "stop", "close"};
    app_ctx c;
    bool known = false;
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_print_help(cli_find("app"));
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "deploy") == 0)
        return cli_app_deploy(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        known = known || strcmp(argv[1], subs[i]) == 0;
    if (!known)
        return cli_bad_input("app", NULL,
                             "unknown subcommand '%s' (deploy, show, pay, withdraw, "
                             "stop, close)",
                             argv[1]);
    memset(&c, 0, sizeof(c));
    c.a.sub = argv[1];
    c.a.rpc_url = getenv("CATENA_RPC") ? getenv("CATENA_RPC") : "http://127.0.0.1:8545";
    if ((rc = parse_args(&c.a, argc - 1, argv + 1)) != 0)
        return rc < 0 ? CLI_OK : rc;
    if (ct_address_parse(&c.app, c.a.addr_text) < 0)
        return cli_bad_input("app", c.a.sub, "'%s' is not an address", c.a.addr_text);
    if ((rc = ct_ledger_open_contract(&c.l, "Application")) < 0 ||
        (rc = ct_rpc_new(&c.rpc, c.a.rpc_url, 15000)) < 0) {
        rc = fail(&c, rc);
        goto done;
    }
    /* Something must live at the address before anything is read or sent. */
    {
        bool code = false;
        if ((rc = ct_rpc_has_code(c.rpc, &code, &c.app, "latest")) == 0 && !code)
            rc = ct_error_set(CT_ENOTFOUND, "no contract at %s", c.a.addr_text);
        if (rc < 0) {
            rc = fail(&c, rc);
            goto done;
        }
    }
    rc = strcmp(c.a.sub, "show") == 0 ? cmd_show(&c) : cmd_send(&c);
done:
    ct_rpc_free(c.rpc);
    ct_ledger_free(c.l);
    return rc;
}
