/* `catena verify`: checks a VC's history as a gateway tells it against the
 * chain's own commitments (docs/VERIFY.md): online against one or more
 * nodes (vc), as a self-contained bundle (export), or offline from a
 * bundle and one trusted block hash (bundle). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/verify.h"

#define MAX_NODES 16
/* Largest bundle read from a file: 10,000 headers are about 12 MB. */
#define MAX_BUNDLE ((size_t)1 << 30)

typedef struct vargs {
    const char *sub;
    const char *target; /* TAG, or the bundle file */
    const char *api, *rpc, *federation, *contract, *trust;
    bool json;
    json_t *fed; /* federation.json, when read */
    char *api_buf, *rpc_buf;
} vargs;

/* Reports bad input as "catena verify SUB: message". Returns: CLI_USAGE. */
#define bad(a, ...) cli_bad_input("verify", (a)->sub, __VA_ARGS__)

/* Fills api, rpc and contract from flags, the environment and
 * federation.json (--federation, else ./catena-up/federation.json when it
 * exists). The RPC default is every node of the federation file. */
static int resolve(vargs *a)
{
    const char *path = a->federation ? a->federation : "catena-up/federation.json";
    char *text = NULL;
    json_t *nodes;
    const json_t *n;
    size_t i;
    ct_buf b;

    if (ct_file_read(&text, NULL, path, 1 << 20) == 0) {
        if (ct_json_parse(&a->fed, text, strlen(text), 16) < 0) {
            free(text);
            return bad(a, "%s", ct_error_last());
        }
    } else if (a->federation != NULL) {
        return bad(a, "%s", ct_error_last());
    }
    free(text);
    ct_error_clear();
    if (a->api == NULL)
        a->api = getenv("CATENA_API");
    if (a->api == NULL)
        a->api = json_string_value(json_object_get(a->fed, "api_url"));
    if (a->contract == NULL)
        a->contract = json_string_value(json_object_get(a->fed, "contract"));
    if (a->rpc != NULL)
        return 0;
    nodes = json_object_get(a->fed, "nodes");
    ct_buf_init(&b, 1 << 16);
    json_array_foreach (nodes, i, n) {
        const char *url =
            json_is_string(n) ? json_string_value(n) : json_string_value(json_object_get(n, "url"));
        if (url != NULL &&
            (b.len > 0 ? ct_buf_appendf(&b, ",%s", url) : ct_buf_appendf(&b, "%s", url)) < 0)
            break;
    }
    if (b.len > 0)
        a->rpc = a->rpc_buf = ct_buf_detach(&b);
    else
        a->rpc = json_string_value(json_object_get(a->fed, "rpc_url"));
    ct_buf_free(&b);
    return 0;
}

static int parse_tag(uint8_t tag[32], const vargs *a)
{
    size_t n;

    if (a->target == NULL || strlen(a->target) != 66 || strncmp(a->target, "0x", 2) != 0 ||
        ct_hex_decode(tag, 32, &n, a->target, 66) < 0)
        return bad(a, "'%s' is not a VC tag (0x and 64 hex digits)", a->target ? a->target : "");
    return 0;
}

/* GET {api}/container/{tag}/what. Out: *out the answer, or NULL on 404.
 * Returns: 0 or CLI_FAIL (reported). */
static int gateway_get(json_t **out, const vargs *a, const char *what)
{
    char url[2048];
    long status = 0;

    *out = NULL;
    snprintf(url, sizeof(url), "%s/container/%s/%s", a->api, a->target, what);
    if (cli_http(&status, out, "GET", url, NULL, NULL) < 0) {
        fprintf(stderr, "catena verify %s: %s: %s\n", a->sub, url, ct_error_last());
        return CLI_FAIL;
    }
    if (status == 404) {
        json_decref(*out);
        *out = NULL;
        return 0;
    }
    if (status != 200) {
        fprintf(stderr, "catena verify %s: %s answered HTTP %ld\n", a->sub, url, status);
        json_decref(*out);
        *out = NULL;
        return CLI_FAIL;
    }
    return 0;
}

/* ---------------------------------------------------------------- nodes */

/* How long nodes may take to agree on a head: a PoA network's sealers
 * compete and reorganise a block or two now and then, and a node may
 * report a head a moment before it serves that block. */
#define AGREE_TRIES 20
#define AGREE_PAUSE_MS 500

/* One look: the newest block every node has, and its hash at each node.
 * Returns: 0 (they agree), 1 (not yet: the reason in msg), or an RPC
 * error (reported). */
static int look_once(const vargs *a, ct_rpc **rpc, char **urls, int n, uint64_t *head,
                     uint8_t hash[32], char *msg, size_t msg_size)
{
    int rc = 0;

    *head = UINT64_MAX;
    for (int i = 0; i < n && rc == 0; i++) {
        uint64_t h;
        if ((rc = ct_rpc_block_number(rpc[i], &h)) < 0)
            fprintf(stderr, "catena verify %s: node %s: %s\n", a->sub, urls[i], ct_error_last());
        else if (h < *head)
            *head = h;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        json_t *b = NULL, *params = json_pack("[o,b]", json_sprintf("0x%" PRIx64, *head), 0);
        uint8_t h[32];
        size_t len;
        const char *s;
        if ((rc = ct_rpc_call(rpc[i], &b, "eth_getBlockByNumber", params)) < 0)
            fprintf(stderr, "catena verify %s: node %s: %s\n", a->sub, urls[i], ct_error_last());
        json_decref(params);
        s = json_string_value(json_object_get(b, "hash"));
        if (rc == 0 && (s == NULL || ct_hex_decode(h, 32, &len, s, strlen(s)) < 0 || len != 32)) {
            snprintf(msg, msg_size, "node %s does not serve block %" PRIu64 " yet", urls[i], *head);
            rc = 1;
        } else if (rc == 0 && i > 0 && memcmp(h, hash, 32) != 0) {
            snprintf(msg, msg_size,
                     "nodes %s and %s disagree on block %" PRIu64 ": they follow different chains",
                     urls[0], urls[i], *head);
            rc = 1;
        } else if (rc == 0) {
            memcpy(hash, h, 32);
        }
        json_decref(b);
    }
    return rc;
}

/* The newest block every node has, and its hash, which they must agree
 * on (within AGREE_TRIES looks). A node behind the gateway's (block
 * want holds its last claimed event) is waited for within those looks
 * too; if it stays behind, the check names the events after the head
 * "ahead". Out: *head, hash. Returns: 0, CLI_FAIL (reported). */
static int nodes_head(const vargs *a, uint64_t want, uint64_t *head, uint8_t hash[32])
{
    char *list = strdup(a->rpc), *url, *comma, msg[512] = "";
    ct_rpc *rpc[MAX_NODES] = {0};
    char *urls[MAX_NODES];
    int n = 0, rc = 0;

    if (list == NULL)
        abort();
    for (url = list; url != NULL && n < MAX_NODES && rc == 0; url = comma) {
        if ((comma = strchr(url, ',')) != NULL)
            *comma++ = '\0';
        urls[n] = url;
        if ((rc = ct_rpc_new(&rpc[n++], url, 15000)) < 0)
            fprintf(stderr, "catena verify %s: node %s: %s\n", a->sub, url, ct_error_last());
    }
    for (int tries = 0; rc == 0 || rc == 1; tries++) {
        rc = look_once(a, rpc, urls, n, head, hash, msg, sizeof(msg));
        if (rc == 0 && *head < want && tries + 1 < AGREE_TRIES)
            rc = 1; /* agreed, but not yet on the gateway's last block */
        else if (rc != 1)
            break;
        if (tries + 1 == AGREE_TRIES) {
            fprintf(stderr, "catena verify %s: %s\n", a->sub, msg);
            rc = CT_ESTATE;
            break;
        }
        ct_sleep_ms(AGREE_PAUSE_MS);
    }
    for (int i = 0; i < n; i++)
        ct_rpc_free(rpc[i]);
    free(list);
    return rc < 0 ? CLI_FAIL : 0;
}

/* The bundle for the VC from the nodes, with the gateway's claims.
 * Out: *bundle, hash (the agreed head). Returns: 0 or CLI_* (reported). */
static int build_bundle(json_t **bundle, uint8_t hash[32], vargs *a, const ct_ledger *l,
                        const uint8_t tag[32])
{
    json_t *history = NULL, *details = NULL, *e;
    json_int_t want = 0;
    ct_address contract;
    ct_rpc *rpc = NULL;
    uint64_t head;
    size_t i;
    int rc;

    if (a->rpc == NULL)
        return bad(a, "no node to check against (give --rpc URL[,URL...])");
    if (a->api == NULL)
        return bad(a, "no gateway (give --api URL or --federation FILE)");
    if ((rc = gateway_get(&history, a, "history")) != 0 ||
        (rc = gateway_get(&details, a, "details")) != 0)
        goto done;
    if (a->contract == NULL) {
        a->contract = json_string_value(json_object_get(json_array_get(history, 0), "address"));
        if (a->contract == NULL) {
            rc = bad(a, "which Federation? (give --contract ADDR or --federation FILE)");
            goto done;
        }
        fprintf(stderr,
                "catena verify %s: warning: the Federation %s is the gateway's word; "
                "give --contract to check it is yours\n",
                a->sub, a->contract);
    }
    if (ct_address_parse(&contract, a->contract) < 0) {
        rc = bad(a, "--contract: %s", ct_error_last());
        goto done;
    }
    json_array_foreach (history, i, e) /* the gateway's last claimed block */
        if (json_integer_value(json_object_get(e, "block_number")) > want)
            want = json_integer_value(json_object_get(e, "block_number"));
    if ((rc = nodes_head(a, (uint64_t)want, &head, hash)) != 0)
        goto done;
    if ((rc = ct_rpc_new(&rpc, a->rpc, 15000)) < 0 ||
        (rc = ct_verify_collect(bundle, rpc, l, &contract, tag,
                                &(ct_verify_collect_opts){.head = head})) < 0) {
        fprintf(stderr, "catena verify %s: %s\n", a->sub, ct_error_last());
        rc = CLI_FAIL;
        goto done;
    }
    json_object_set_new(*bundle, "history", history != NULL ? json_incref(history) : json_array());
    if (details != NULL)
        json_object_set(*bundle, "details", details);
done:
    ct_rpc_free(rpc);
    json_decref(history);
    json_decref(details);
    return rc;
}

/* ---------------------------------------------------------------- report */

static void print_report(const json_t *r, const char *against)
{
    const json_t *p;
    size_t i;

    printf("VC %s\n", json_string_value(json_object_get(r, "tag")));
    printf("  contract %s, blocks %" JSON_INTEGER_FORMAT " to %" JSON_INTEGER_FORMAT
           " (head %s), %s\n",
           json_string_value(json_object_get(r, "contract")),
           json_integer_value(json_object_get(r, "from")),
           json_integer_value(json_object_get(r, "head")),
           json_string_value(json_object_get(r, "head_hash")) ?: "?", against);
    printf("  %" JSON_INTEGER_FORMAT " events proven, %" JSON_INTEGER_FORMAT
           " claimed; receipts of %" JSON_INTEGER_FORMAT
           " blocks rebuilt, blooms of %" JSON_INTEGER_FORMAT " checked\n",
           json_integer_value(json_object_get(r, "events")),
           json_integer_value(json_object_get(r, "claimed")),
           json_integer_value(json_object_get(r, "blocks_with_receipts")),
           json_integer_value(json_object_get(r, "blocks")));
    printf("  transaction hashes: %s\n",
           json_is_true(json_object_get(r, "tx_hashes_proven"))
               ? "proven (transactions rebuilt into transactionsRoot)"
               : "the node's word (a transaction type this build does not encode)");
    if (json_is_object(json_object_get(r, "state")))
        printf(
            "  state: host %s, available %s, retired %s\n",
            json_string_value(json_object_get(json_object_get(r, "state"), "host")),
            json_is_true(json_object_get(json_object_get(r, "state"), "available")) ? "yes" : "no",
            json_is_true(json_object_get(json_object_get(r, "state"), "retired")) ? "yes" : "no");
    else
        printf("  state: not proven (%s)\n",
               json_string_value(json_object_get(r, "state_note")) ?: "no storage proof");
    json_array_foreach (json_object_get(r, "problems"), i, p)
        printf("  PROBLEM %s: %s\n", json_string_value(json_object_get(p, "kind")),
               json_string_value(json_object_get(p, "message")));
    printf("%s\n", json_is_true(json_object_get(r, "ok"))
                       ? "OK: the history is the chain's"
                       : "FAILED: the history is not the chain's");
}

static int check_and_print(const vargs *a, const json_t *bundle, const ct_verify_opts *opts,
                           const ct_ledger *l, const char *against)
{
    ct_store_decoder *dec = NULL;
    json_t *report = NULL;
    int rc;

    if ((rc = ct_store_decoder_new(&dec, l)) < 0 ||
        (rc = ct_verify_check(&report, dec, l, bundle, opts)) < 0) {
        fprintf(stderr, "catena verify %s: %s\n", a->sub, ct_error_last());
        ct_store_decoder_free(dec);
        return CLI_FAIL;
    }
    if (json_is_string(json_object_get(bundle, "state_note")))
        json_object_set(report, "state_note", json_object_get(bundle, "state_note"));
    if (a->json)
        cli_print_json(report);
    else
        print_report(report, against);
    rc = json_is_true(json_object_get(report, "ok")) ? CLI_OK : CLI_FAIL;
    json_decref(report);
    ct_store_decoder_free(dec);
    return rc;
}

/* ---------------------------------------------------------------- subcommands */

static int run_vc(vargs *a, const ct_ledger *l)
{
    uint8_t tag[32], hash[32];
    json_t *bundle = NULL;
    ct_address contract;
    char against[160];
    int rc, nodes = 1;

    if ((rc = parse_tag(tag, a)) != 0 || (rc = build_bundle(&bundle, hash, a, l, tag)) != 0)
        return rc;
    for (const char *p = a->rpc; *p; p++)
        nodes += *p == ',';
    snprintf(against, sizeof(against), "checked against %d node%s", nodes, nodes > 1 ? "s" : "");
    ct_address_parse(&contract, a->contract);
    ct_verify_opts opts = {.trust_hash = hash,
                           .trust_number = (uint64_t)json_integer_value(
                               json_object_get(json_object_get(bundle, "head"), "number")),
                           .contract = &contract};
    rc = check_and_print(a, bundle, &opts, l, against);
    json_decref(bundle);
    return rc;
}

static int run_export(vargs *a, const ct_ledger *l)
{
    uint8_t tag[32], hash[32];
    json_t *bundle = NULL;
    int rc;

    if ((rc = parse_tag(tag, a)) != 0)
        return rc;
    if (a->rpc == NULL && a->api != NULL) {
        /* No node of our own: the gateway builds it (from its node). */
        if ((rc = gateway_get(&bundle, a, "proof/")) != 0)
            return rc;
        if (bundle == NULL) {
            fprintf(stderr, "catena verify export: the gateway knows no VC %s\n", a->target);
            return CLI_FAIL;
        }
    } else if ((rc = build_bundle(&bundle, hash, a, l, tag)) != 0) {
        return rc;
    }
    rc = cli_print_json(bundle);
    json_decref(bundle);
    return rc;
}

/* "0xHASH@NUMBER". Returns: 0 or CLI_USAGE (reported). */
static int parse_trust(uint8_t hash[32], uint64_t *number, const vargs *a)
{
    const char *at = a->trust ? strchr(a->trust, '@') : NULL;
    size_t n;
    char *end;

    if (at == NULL || at - a->trust != 66 || ct_hex_decode(hash, 32, &n, a->trust, 66) < 0 ||
        at[1] == '\0')
        return bad(a, "--trust: '%s' is not HASH@NUMBER (0x and 64 hex digits, @, the block)",
                   a->trust ? a->trust : "");
    errno = 0;
    *number = strtoull(at + 1, &end, 10);
    if (errno != 0 || *end != '\0' || at[1] == '-')
        return bad(a, "--trust: '%s' is not HASH@NUMBER", a->trust);
    return 0;
}

static int run_bundle(vargs *a, const ct_ledger *l)
{
    uint8_t hash[32];
    uint64_t number = 0;
    ct_address contract;
    ct_verify_opts opts = {0};
    json_t *bundle = NULL;
    char *text = NULL;
    size_t len;
    int rc;

    if (a->trust == NULL)
        return bad(a, "--trust HASH@NUMBER is required: the block you trust");
    if ((rc = parse_trust(hash, &number, a)) != 0)
        return rc;
    if (a->contract != NULL && ct_address_parse(&contract, a->contract) < 0)
        return bad(a, "--contract: %s", ct_error_last());
    if (ct_file_read(&text, &len, a->target, MAX_BUNDLE) < 0 ||
        ct_json_parse(&bundle, text, len, 32) < 0) {
        free(text);
        return bad(a, "%s", ct_error_last());
    }
    free(text);
    opts.trust_hash = hash;
    opts.trust_number = number;
    opts.contract = a->contract != NULL ? &contract : NULL;
    rc = check_and_print(a, bundle, &opts, l, "offline, from the trusted block");
    json_decref(bundle);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"api", required_argument, NULL, 'a'},
                                         {"rpc", required_argument, NULL, 'r'},
                                         {"federation", required_argument, NULL, 'f'},
                                         {"contract", required_argument, NULL, 'c'},
                                         {"trust", required_argument, NULL, 't'},
                                         {"json", no_argument, NULL, 'j'},
                                         {NULL, 0, NULL, 0}};
    const cli_cmd *self = cli_find("verify");
    vargs a = {0};
    ct_ledger *l = NULL;
    int c, rc;

    if (argc < 2 || (strcmp(argv[1], "vc") != 0 && strcmp(argv[1], "export") != 0 &&
                     strcmp(argv[1], "bundle") != 0))
        return cli_usage_error(self, "expected vc, export or bundle");
    a.sub = argv[1];
    optind = 1;
    while ((c = cli_getopt_one(self, argc - 1, argv + 1, opts, &a.target)) != -1) {
        switch (c) {
        case 'a': a.api = optarg; break;
        case 'r': a.rpc = optarg; break;
        case 'f': a.federation = optarg; break;
        case 'c': a.contract = optarg; break;
        case 't': a.trust = optarg; break;
        case 'j': a.json = true; break;
        default: return CLI_USAGE;
        }
    }
    if (a.target == NULL)
        return cli_usage_error(self, "%s needs %s", a.sub,
                               strcmp(a.sub, "bundle") == 0 ? "a bundle file" : "a VC tag");
    if (strcmp(a.sub, "bundle") != 0 && (rc = resolve(&a)) != 0)
        goto done;
    if (ct_ledger_open(&l) < 0) {
        fprintf(stderr, "catena verify: %s\n", ct_error_last());
        rc = CLI_FAIL;
        goto done;
    }
    rc = strcmp(a.sub, "vc") == 0       ? run_vc(&a, l)
         : strcmp(a.sub, "export") == 0 ? run_export(&a, l)
                                        : run_bundle(&a, l);
done:
    ct_ledger_free(l);
    json_decref(a.fed);
    free(a.rpc_buf);
    return rc;
}
