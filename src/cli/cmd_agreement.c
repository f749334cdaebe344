/* `catena agreement`: the monetization agreements of seed 004 on the
 * chain (docs/AGREEMENTS.md): offer one (deploy the contract of its
 * kind), accept it, vote on shared terms, start and stop sessions, settle,
 * withdraw, refund, and show it. Which contract lives at an address is
 * told by the views it answers. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/crypto.h"
#include "catena/ledger.h"
#include "catena/util.h"

#define MAX_PARTIES 32
/* Most constraint pairs an offer carries (Agreement.sol's limit). */
#define MAX_CONSTRAINTS 16

/* The contracts (ct_ag_contract), as the CLI names them. */
#define C_AGREEMENT CT_AG_AGREEMENT
#define C_PREPAID CT_AG_PREPAID
#define C_SHARED CT_AG_SHARED
/* Agreement.Kind order, then constrained (a dynamic price with constraints). */
static const char *const agreement_kinds[] = {"fixed", "dynamic", "flexible", "constrained"};

typedef struct ag_args {
    const char *sub, *addr_text, *rpc_url, *kind;
    const char *as, *up_dir; /* a named account of federation.json */
    bool rpc_given;
    const char *kf, *ke, *pf, *pe;
    const char *price, *per_minute, *minimum, *deposit;
    const char *federation; /* --federation, else federation.json's contract */
    int sla;                /* --sla PERCENT, -1 unset */
    uint16_t port;          /* session */
    uint64_t until;         /* session: Unix seconds to exit at, 0 none */
    uint64_t max_seconds, quorum;
    const char *parties[MAX_PARTIES];
    size_t n_parties;
    const char *constraints[MAX_CONSTRAINTS]; /* --constraint KEY=VALUE[|VALUE...] */
    size_t n_constraints;
    int vote; /* -1 unset, 0 no, 1 yes */
    bool json;
} ag_args;

typedef struct ag_ctx {
    ag_args a;
    ct_rpc *rpc;
    ct_agreements *ags;
    ct_ag_contract which;
    ct_address at;
} ag_ctx;

static int fail(const ag_ctx *c, int rc)
{
    fprintf(stderr, "catena agreement %s: %s\n", c->a.sub, ct_error_last());
    return rc == CT_EINVAL || rc == CT_EREVERT || rc == CT_ENOTFOUND ? CLI_USAGE : CLI_FAIL;
}

static const char *str(const json_t *v)
{
    return json_string_value(v) ? json_string_value(v) : "";
}

/* Without a key given: the account named by --as, else the default
 * actor of the subcommand (offer: provider; accept, start, stop, refund:
 * user), from UP_DIR/federation.json (`catena up`). Also takes its RPC URL
 * when --rpc was not given. Returns: 0 (c->a.kf set when found), or
 * reports and returns CLI_USAGE. */
static int named_account(ag_args *a)
{
    static const char *const as_user[] = {"accept", "start", "stop", "refund"};
    const char *name = a->as, *key_file = NULL;
    char path[4096], *text = NULL;
    static char key_path[4096], rpc[1024], contract[64];
    json_t *fed = NULL, *acc;
    size_t i;

    if (a->kf != NULL || a->ke != NULL)
        return 0;
    if (name == NULL && strcmp(a->sub, "offer") == 0)
        name = "provider";
    for (i = 0; name == NULL && i < sizeof(as_user) / sizeof(as_user[0]); i++)
        if (strcmp(a->sub, as_user[i]) == 0)
            name = "user";
    snprintf(path, sizeof(path), "%s/federation.json", a->up_dir);
    if (ct_file_read(&text, NULL, path, 1 << 20) < 0 ||
        ct_json_parse(&fed, text, strlen(text), 16) < 0) {
        free(text);
        ct_error_clear();
        if (a->as != NULL)
            return cli_bad_input("agreement", a->sub,
                                 "--as %s: no %s (run catena up, or give "
                                 "--up-dir)",
                                 a->as, path);
        return 0; /* the key options are then asked for */
    }
    free(text);
    json_array_foreach (json_object_get(fed, "accounts"), i, acc)
        if (name != NULL &&
            strcmp(json_string_value(json_object_get(acc, "name")) ?: "", name) == 0)
            key_file = json_string_value(json_object_get(acc, "key_file"));
    if (a->federation == NULL && json_is_string(json_object_get(fed, "contract"))) {
        snprintf(contract, sizeof(contract), "%s",
                 json_string_value(json_object_get(fed, "contract")));
        a->federation = contract;
    }
    if (!a->rpc_given && json_is_string(json_object_get(fed, "rpc_url"))) {
        snprintf(rpc, sizeof(rpc), "%s", json_string_value(json_object_get(fed, "rpc_url")));
        a->rpc_url = rpc;
    }
    if (key_file != NULL) {
        snprintf(key_path, sizeof(key_path), "%s", key_file);
        a->kf = key_path;
    }
    json_decref(fed);
    if (a->as != NULL && key_file == NULL)
        return cli_bad_input("agreement", a->sub, "--as %s: %s names no such account", a->as, path);
    return 0;
}

static int sender(ag_ctx *c, ct_sender **s)
{
    uint8_t key[32];
    int rc = cli_load_key(key, "agreement", c->a.kf, c->a.ke, c->a.pf, c->a.pe);

    if (rc != 0)
        return rc;
    rc = ct_sender_new(s, c->a.rpc_url, key, NULL);
    ct_wipe(key, sizeof(key));
    return rc < 0 ? fail(c, rc) : 0;
}

/* ---------------------------------------------------------------- offer */

static int parse_wei(const char *flag, const char *text, json_t **out)
{
    ct_u256 v;

    if (text == NULL)
        return cli_usage_error(cli_find("agreement"), "%s WEI is needed", flag);
    if (ct_u256_parse(&v, text) < 0)
        return cli_usage_error(cli_find("agreement"), "%s: expected wei, got '%s'", flag, text);
    *out = json_string(text);
    return 0;
}

/* --party ADDR:SHARE lists for SharedAgreement. */
static int parse_parties(const ag_args *a, json_t *parties, json_t *shares)
{
    const cli_cmd *self = cli_find("agreement");

    for (size_t i = 0; i < a->n_parties; i++) {
        const char *colon = strchr(a->parties[i], ':');
        char addr[64];
        ct_address parsed;
        uint64_t share;
        if (colon == NULL || (size_t)(colon - a->parties[i]) >= sizeof(addr) ||
            ct_parse_uint(&share, colon + 1, UINT32_MAX) < 0 || share == 0)
            return cli_usage_error(self, "--party: expected ADDR:SHARE (share > 0), got '%s'",
                                   a->parties[i]);
        snprintf(addr, sizeof(addr), "%.*s", (int)(colon - a->parties[i]), a->parties[i]);
        if (ct_address_parse(&parsed, addr) < 0)
            return cli_usage_error(self, "--party: '%s' is not an address", addr);
        json_array_append_new(parties, json_string(addr));
        json_array_append_new(shares, json_integer((json_int_t)share));
    }
    return 0;
}

/* The SLA of a fixed, dynamic or flexible offer: --sla PERCENT (default
 * 75 when a Federation ledger is known: --federation, or the contract of
 * federation.json) over that ledger's record of the serving VC; --sla 0
 * for none (then no session is deployed for it). */
static int sla_terms(const ag_ctx *c, char fed[CT_ADDRESS_TEXT_SIZE], int *sla)
{
    ct_address addr = {0};

    *sla = c->a.sla >= 0 ? c->a.sla : c->a.federation != NULL ? 75 : 0;
    if (*sla > 0 && c->a.federation == NULL)
        return cli_usage_error(cli_find("agreement"),
                               "--sla needs --federation ADDR (the ledger that records the "
                               "serving VC's availability)");
    if (*sla > 0 && ct_address_parse(&addr, c->a.federation) < 0)
        return cli_usage_error(cli_find("agreement"), "--federation: '%s' is not an address",
                               c->a.federation);
    ct_address_format(fed, &addr);
    return 0;
}

/* Checks that some registered DC of the ledger satisfies the
 * constraints, so an offer no one can serve is refused before it is
 * deployed. Returns: 0, or reports (naming what each DC declared) and
 * returns CLI_USAGE; CLI_FAIL when the chain cannot tell. */
static int check_servable(ag_ctx *c, const char *fed, const json_t *keys, const json_t *values)
{
    uint8_t topic[32];
    ct_address fed_at;
    json_t *filter, *logs = NULL, *log;
    ct_buf seen;
    size_t i;
    int rc;

    ct_address_parse(&fed_at, fed);
    if ((rc = ct_ledger_event_topic(ct_agreements_abi(c->ags, CT_AG_FEDERATION), topic,
                                    "DatacenterRegistered")) < 0)
        return fail(c, rc);
    filter = json_pack("{s:s, s:s, s:s, s:[o]}", "address", fed, "fromBlock", "0x0", "toBlock",
                       "latest", "topics", ct_json_hex(topic, 32));
    rc = ct_rpc_get_logs(c->rpc, &logs, filter);
    json_decref(filter);
    if (rc < 0)
        return fail(c, rc);
    ct_buf_init(&seen, 256);
    json_array_foreach (logs, i, log) {
        const char *t1 = str(json_array_get(json_object_get(log, "topics"), 1));
        char wallet[CT_ADDRESS_TEXT_SIZE];
        ct_address w;
        json_t *attrs = NULL;
        bool ok;
        if (strlen(t1) != 66)
            continue;
        snprintf(wallet, sizeof(wallet), "0x%s", t1 + 26);
        ct_address_parse(&w, wallet);
        if ((rc = ct_ledger_dc_attributes(ct_agreements_abi(c->ags, CT_AG_FEDERATION), c->rpc,
                                          &attrs, &fed_at, &w)) < 0) {
            json_decref(logs);
            ct_buf_free(&seen);
            return fail(c, rc);
        }
        ok = ct_ledger_attrs_satisfy(attrs, keys, values);
        json_decref(attrs);
        if (ok) {
            json_decref(logs);
            ct_buf_free(&seen);
            return 0;
        }
        ct_buf_appendf(&seen, "%s%s", seen.len ? ", " : "", wallet);
    }
    json_decref(logs);
    rc = cli_bad_input("agreement", "offer",
                       "no datacenter of the federation %s satisfies the constraints (checked: "
                       "%s); see `catena dc attributes`; nothing was deployed",
                       fed, seen.len ? (char *)seen.data : "none registered");
    ct_buf_free(&seen);
    return rc;
}

/* --constraint KEY=VALUE[|VALUE...] as the pairs of Agreement's
 * constructor (keys, values: a key repeated for each value allowed).
 * Constraints are checked on the ledger, so they need the SLA's ledger. */
static int constraint_terms(ag_ctx *c, int sla, json_t *keys, json_t *values)
{
    const cli_cmd *self = cli_find("agreement");
    char fed[CT_ADDRESS_TEXT_SIZE];
    ct_address fed_at;

    for (size_t i = 0; i < c->a.n_constraints; i++)
        if (ct_ledger_constraint_parse(keys, values, c->a.constraints[i], MAX_CONSTRAINTS) < 0)
            return cli_usage_error(self, "--constraint: %s", ct_error_last());
    if (json_array_size(keys) == 0)
        return 0;
    if (sla == 0)
        return cli_usage_error(self, "--constraint needs the Federation ledger (--federation, and "
                                     "not --sla 0): the host DC's attributes are read there");
    ct_address_parse(&fed_at, c->a.federation);
    ct_address_format(fed, &fed_at);
    return check_servable(c, fed, keys, values);
}

static int cmd_offer(ag_ctx *c)
{
    const cli_cmd *self = cli_find("agreement");
    const char *k = c->a.kind;
    json_t *args = NULL, *price = NULL, *min = NULL, *parties = json_array(),
           *shares = json_array(), *ckeys = json_array(), *cvalues = json_array();
    ct_sender *s = NULL;
    ct_address addr;
    char text[CT_ADDRESS_TEXT_SIZE], fed[CT_ADDRESS_TEXT_SIZE];
    int rc = 0, kind = -1, sla = 0;

    if (k == NULL)
        rc = cli_usage_error(self, "offer needs --kind fixed|dynamic|flexible|prepaid|split|vote");
    for (int i = 0; k != NULL && i < 4; i++)
        if (strcmp(k, agreement_kinds[i]) == 0)
            kind = i == 3 ? 1 : i; /* constrained: a dynamic price with constraints */
    if (k != NULL && strcmp(k, "constrained") == 0 && c->a.n_constraints == 0)
        rc = cli_usage_error(self, "constrained needs --constraint KEY=VALUE (repeated)");
    if (rc == 0 && c->a.n_constraints > 0 && kind < 0 && k != NULL)
        rc = cli_usage_error(self, "--constraint applies to agreements that deploy a session: "
                                   "fixed, dynamic, flexible, constrained");
    if (rc == 0 && kind >= 0) {
        c->which = C_AGREEMENT;
        if (c->a.max_seconds == 0)
            rc = cli_usage_error(self, "--max-seconds N is needed");
        else if ((rc = parse_wei("--price", c->a.price, &price)) == 0 &&
                 (rc = parse_wei("--minimum", c->a.minimum ? c->a.minimum : "0", &min)) == 0 &&
                 (rc = sla_terms(c, fed, &sla)) == 0 &&
                 (rc = constraint_terms(c, sla, ckeys, cvalues)) == 0)
            args = json_pack("[i, O, I, O, s, i, O, O]", kind, price, (json_int_t)c->a.max_seconds,
                             min, fed, sla, ckeys, cvalues);
    } else if (rc == 0 && strcmp(k, "prepaid") == 0) {
        c->which = C_PREPAID;
        if ((rc = parse_wei("--price-per-minute", c->a.per_minute, &price)) == 0)
            args = json_pack("[O]", price);
    } else if (rc == 0 && (strcmp(k, "split") == 0 || strcmp(k, "vote") == 0)) {
        c->which = C_SHARED;
        if (c->a.n_parties == 0)
            rc = cli_usage_error(self, "%s needs --party ADDR:SHARE (repeated)", k);
        else if ((rc = parse_parties(&c->a, parties, shares)) == 0 &&
                 (rc = parse_wei("--price", c->a.price, &price)) == 0) {
            uint64_t quorum = strcmp(k, "split") == 0 ? c->a.n_parties : c->a.quorum;
            if (quorum == 0 || quorum > c->a.n_parties)
                rc = cli_usage_error(self, "--quorum K is needed, 1 to the number of parties");
            else
                args = json_pack("[O, O, O, I]", price, parties, shares, (json_int_t)quorum);
        }
    } else if (rc == 0) {
        rc = cli_usage_error(self, "--kind: fixed, dynamic, flexible, prepaid, split or vote");
    }
    if (rc == 0 && (rc = sender(c, &s)) == 0) {
        if ((rc = ct_ledger_deploy_with(ct_agreements_abi(c->ags, c->which), s, args, &addr,
                                        NULL)) < 0)
            rc = fail(c, rc);
        else {
            ct_address_format(text, &addr);
            if (c->a.json) {
                json_t *doc = json_pack("{s:s, s:s}", "agreement", text, "kind", k);
                rc = cli_print_json(doc);
                json_decref(doc);
            } else {
                printf("%s agreement %s\n", k, text);
                rc = CLI_OK;
            }
        }
    }
    ct_sender_free(s);
    json_decref(args);
    json_decref(price);
    json_decref(min);
    json_decref(parties);
    json_decref(shares);
    json_decref(ckeys);
    json_decref(cvalues);
    return rc;
}

/* ---------------------------------------------------------------- actions */

/* accept, vote, start, stop, settle, withdraw, refund: one transaction. */
static int cmd_act(ag_ctx *c)
{
    const char *sub = c->a.sub, *fn = NULL;
    json_t *args = json_array();
    ct_u256 value, *val = NULL;
    ct_sender *s = NULL;
    ct_send_result res = {0};
    int rc;

    if (strcmp(sub, "accept") == 0) {
        if (c->a.deposit == NULL || ct_u256_parse(&value, c->a.deposit) < 0) {
            json_decref(args);
            return cli_usage_error(cli_find("agreement"), "accept needs --deposit WEI");
        }
        val = &value;
        fn = c->which == C_PREPAID ? "buy" : "accept";
    } else if (strcmp(sub, "vote") == 0) {
        if (c->which != C_SHARED || c->a.vote < 0) {
            json_decref(args);
            return cli_bad_input("agreement", sub,
                                 "vote takes --yes or --no, on a split or vote agreement");
        }
        fn = "vote";
        json_array_append_new(args, json_boolean(c->a.vote));
    } else if (strcmp(sub, "start") == 0)
        fn = c->which == C_PREPAID ? "start" : NULL;
    else if (strcmp(sub, "stop") == 0)
        fn = c->which != C_SHARED ? "stop" : NULL;
    else if (strcmp(sub, "settle") == 0)
        fn = c->which == C_PREPAID ? "close" : c->which == C_AGREEMENT ? "settle" : NULL;
    else if (strcmp(sub, "refund") == 0)
        fn = c->which == C_PREPAID ? "refund" : NULL;
    else
        fn = "withdraw";
    if (fn == NULL) {
        json_decref(args);
        return cli_bad_input("agreement", sub, "a %s agreement has no %s",
                             ct_agreements_name(c->which), sub);
    }
    if ((rc = sender(c, &s)) != 0) {
        json_decref(args);
        return rc;
    }
    rc = ct_ledger_transact(ct_agreements_abi(c->ags, c->which), s, &res, &c->at, val, fn, args);
    json_decref(args);
    ct_sender_free(s);
    if (rc < 0) {
        ct_send_result_clear(&res);
        return fail(c, rc);
    }
    if (c->a.json) {
        json_t *doc = json_pack("{s:o, s:I}", "tx", ct_json_hex(res.hash, 32), "block",
                                (json_int_t)res.block);
        rc = cli_print_json(doc);
        json_decref(doc);
    } else {
        printf("%s: mined in block %llu\n", sub, (unsigned long long)res.block);
        rc = CLI_OK;
    }
    ct_send_result_clear(&res);
    return rc;
}

/* ---------------------------------------------------------------- show */

static int cmd_show(ag_ctx *c)
{
    json_t *doc = NULL, *v;
    const char *key;
    int rc = ct_agreements_read(c->ags, c->rpc, &c->at, c->which, &doc);

    if (rc < 0)
        return fail(c, rc);
    if (c->a.json) {
        rc = cli_print_json(doc);
    } else {
        json_object_foreach (doc, key, v) {
            char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            printf("%-16s %s\n", key, text != NULL ? text : str(v));
            free(text);
        }
        rc = CLI_OK;
    }
    json_decref(doc);
    return rc;
}

/* ---------------------------------------------------------------- main */

static int parse(ag_args *a, int argc, char **argv)
{
    const cli_cmd *self = cli_find("agreement");
    static const struct option longopts[] = {
        {"rpc", required_argument, NULL, 'r'},
        {"kind", required_argument, NULL, 'K'},
        {"price", required_argument, NULL, 'p'},
        {"max-seconds", required_argument, NULL, 'm'},
        {"price-per-minute", required_argument, NULL, 'M'},
        {"minimum", required_argument, NULL, 'n'},
        {"party", required_argument, NULL, 'y'},
        {"voter", required_argument, NULL, 'V'},
        {"quorum", required_argument, NULL, 'q'},
        {"deposit", required_argument, NULL, 'D'},
        {"federation", required_argument, NULL, 'F'},
        {"sla", required_argument, NULL, 'S'},
        {"constraint", required_argument, NULL, 'C'},
        {"port", required_argument, NULL, 'o'},
        {"until", required_argument, NULL, 'u'},
        {"yes", no_argument, NULL, 'Y'},
        {"no", no_argument, NULL, 'N'},
        {"key-file", required_argument, NULL, 'k'},
        {"key-env", required_argument, NULL, 'e'},
        {"password-file", required_argument, NULL, 'f'},
        {"password-env", required_argument, NULL, 'P'},
        {"json", no_argument, NULL, 'j'},
        {"as", required_argument, NULL, 'A'},
        {"up-dir", required_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = cli_getopt_one(self, argc, argv, longopts, &a->addr_text)) != -1) {
        switch (c) {
        case 'r':
            a->rpc_url = optarg;
            a->rpc_given = true;
            break;
        case 'A': a->as = optarg; break;
        case 'U': a->up_dir = optarg; break;
        case 'K': a->kind = optarg; break;
        case 'p': a->price = optarg; break;
        case 'M': a->per_minute = optarg; break;
        case 'n': a->minimum = optarg; break;
        case 'D': a->deposit = optarg; break;
        case 'F': a->federation = optarg; break;
        case 'C':
            if (a->n_constraints == MAX_CONSTRAINTS)
                return cli_usage_error(self, "at most %d --constraint", MAX_CONSTRAINTS);
            a->constraints[a->n_constraints++] = optarg;
            break;
        case 'S': {
            uint64_t pct;
            if (ct_parse_uint(&pct, optarg, 100) < 0)
                return cli_usage_error(self, "--sla: expected a percentage 0..100, got '%s'",
                                       optarg);
            a->sla = (int)pct;
            break;
        }
        case 'u':
            if (ct_parse_uint(&a->until, optarg, UINT64_MAX) < 0)
                return cli_usage_error(self, "--until: expected Unix seconds, got '%s'", optarg);
            break;
        case 'o':
            if (cli_parse_port(self, "--port", optarg, &a->port) != 0)
                return CLI_USAGE;
            break;
        case 'Y': a->vote = 1; break;
        case 'N': a->vote = 0; break;
        case 'k': a->kf = optarg; break;
        case 'e': a->ke = optarg; break;
        case 'f': a->pf = optarg; break;
        case 'P': a->pe = optarg; break;
        case 'j': a->json = true; break;
        case 'm':
            if (ct_parse_uint(&a->max_seconds, optarg, UINT32_MAX) < 0 || a->max_seconds == 0)
                return cli_usage_error(self, "--max-seconds: expected seconds > 0, got '%s'",
                                       optarg);
            break;
        case 'q':
            if (ct_parse_uint(&a->quorum, optarg, MAX_PARTIES) < 0)
                return cli_usage_error(self, "--quorum: expected 1..%d, got '%s'", MAX_PARTIES,
                                       optarg);
            break;
        case 'y':
        case 'V': {
            /* --voter ADDR: a party with an equal share (share 1) */
            static char voters[MAX_PARTIES][80];
            if (a->n_parties == MAX_PARTIES)
                return cli_usage_error(self, "at most %d --party or --voter", MAX_PARTIES);
            if (c == 'V')
                snprintf(voters[a->n_parties], sizeof(voters[0]), "%.64s:1", optarg);
            a->parties[a->n_parties] = c == 'V' ? voters[a->n_parties] : optarg;
            a->n_parties++;
            break;
        }
        case 'h': cli_print_help(self); return -1;
        default: return CLI_USAGE;
        }
    }
    if (strcmp(a->sub, "offer") == 0) {
        if (a->addr_text != NULL)
            return cli_usage_error(self, "offer takes no address");
    } else if (a->addr_text == NULL)
        return cli_usage_error(self, "the agreement's address is missing");
    if (a->as != NULL && (a->kf != NULL || a->ke != NULL))
        return cli_usage_error(self, "--as or a key, not both");
    if (strcmp(a->sub, "session") == 0)
        return 0;
    return named_account(a);
}

int cmd_agreement(int argc, char **argv)
{
    static const char *const subs[] = {"offer",  "accept",   "vote",   "start", "stop",
                                       "settle", "withdraw", "refund", "show",  "session"};
    ag_ctx c;
    bool known = false;
    int rc = 0;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_print_help(cli_find("agreement"));
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        known = known || strcmp(argv[1], subs[i]) == 0;
    if (!known)
        return cli_bad_input("agreement", NULL,
                             "unknown subcommand '%s' (offer, accept, vote, start, stop, settle, "
                             "withdraw, refund, show, session)",
                             argv[1]);
    memset(&c, 0, sizeof(c));
    c.a.sub = argv[1];
    c.a.vote = -1;
    c.a.sla = -1;
    c.a.rpc_url = getenv("CATENA_RPC") ? getenv("CATENA_RPC") : "http://127.0.0.1:8545";
    c.a.up_dir = "catena-up";
    if ((rc = parse(&c.a, argc - 1, argv + 1)) != 0)
        return rc < 0 ? CLI_OK : rc;
    if (strcmp(c.a.sub, "session") == 0)
        return agreement_session(c.a.addr_text, c.a.port, c.a.until);
    rc = ct_agreements_open(&c.ags);
    if (rc == 0)
        rc = ct_rpc_new(&c.rpc, c.a.rpc_url, 15000);
    if (rc < 0)
        rc = fail(&c, rc);
    else if (strcmp(c.a.sub, "offer") == 0)
        rc = cmd_offer(&c);
    else if (ct_address_parse(&c.at, c.a.addr_text) < 0)
        rc = cli_bad_input("agreement", c.a.sub, "'%s' is not an address", c.a.addr_text);
    else if ((rc = ct_agreements_identify(c.ags, c.rpc, &c.at, &c.which)) < 0)
        rc = fail(&c, rc);
    else
        rc = strcmp(c.a.sub, "show") == 0 ? cmd_show(&c) : cmd_act(&c);
    ct_rpc_free(c.rpc);
    ct_agreements_free(c.ags);
    return rc;
}
