/* `catena app deploy`: an application from its TOSCA document to running
 * services (seed 002 sections 3.2 and 5): free resources of a Cloud are
 * reserved for its services (signed with the Cloud scheduler's key),
 * the client instantiates the Application contract with its deposit, and
 * the CAN's leader is given the work (the contract's address and the
 * document), which it assigns to an orchestrator. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/can.h"
#include "catena/crypto.h"
#include "catena/ledger.h"
#include "catena/orch.h"
#include "catena/util.h"

#define TOSCA_MAX CT_CAN_MAX_DESCRIPTION /* the document travels in the CAN ledger */
#define RESERVATION_S 600

typedef struct deploy_args {
    const char *app_path, *rpc_url, *can_url, *cloud_text;
    const char *kf, *ke, *pf, *pe; /* the client's key */
    const char *skf, *ske;         /* the Cloud scheduler's key */
    ct_u256 deposit;
    bool have_deposit;
    uint64_t retries, ok_interval_s;
    bool json;
} deploy_args;

static int parse(deploy_args *a, int argc, char **argv)
{
    const cli_cmd *self = cli_find("app");
    static const struct option longopts[] = {
        {"rpc", required_argument, NULL, 'r'},
        {"can", required_argument, NULL, 'c'},
        {"cloud", required_argument, NULL, 'C'},
        {"deposit", required_argument, NULL, 'D'},
        {"retries", required_argument, NULL, 'R'},
        {"ok-interval", required_argument, NULL, 'o'},
        {"key-file", required_argument, NULL, 'k'},
        {"key-env", required_argument, NULL, 'e'},
        {"password-file", required_argument, NULL, 'p'},
        {"password-env", required_argument, NULL, 'P'},
        {"scheduler-key-file", required_argument, NULL, 's'},
        {"scheduler-key-env", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = cli_getopt_one(self, argc, argv, longopts, &a->app_path)) != -1) {
        switch (c) {
        case 'r': a->rpc_url = optarg; break;
        case 'c': a->can_url = optarg; break;
        case 'C': a->cloud_text = optarg; break;
        case 'D':
            if (ct_u256_parse(&a->deposit, optarg) < 0)
                return cli_usage_error(self,
                                       "--deposit: expected wei as a decimal integer, got "
                                       "'%s'",
                                       optarg);
            a->have_deposit = true;
            break;
        case 'R':
            if (ct_parse_uint(&a->retries, optarg, 1000) < 0)
                return cli_usage_error(self, "--retries: expected 0..1000, got '%s'", optarg);
            break;
        case 'o':
            if (ct_parse_uint(&a->ok_interval_s, optarg, 86400) < 0 || a->ok_interval_s == 0)
                return cli_usage_error(self, "--ok-interval: expected seconds 1..86400, got '%s'",
                                       optarg);
            break;
        case 'k': a->kf = optarg; break;
        case 'e': a->ke = optarg; break;
        case 'p': a->pf = optarg; break;
        case 'P': a->pe = optarg; break;
        case 's': a->skf = optarg; break;
        case 'S': a->ske = optarg; break;
        case 'j': a->json = true; break;
        case 'h': cli_print_help(self); return -1;
        default: return CLI_USAGE;
        }
    }
    if (a->app_path == NULL)
        return cli_usage_error(self, "APP.yaml missing");
    if (a->can_url == NULL || a->cloud_text == NULL || !a->have_deposit)
        return cli_usage_error(self, "deploy needs --can URL, --cloud ADDR and --deposit WEI");
    return 0;
}

/* Free registered resources of the cloud, one per service, in the
 * Cloud's order. Out: ids[n] ("0x" + 64 hex), malloc'd. */
static int pick_resources(const ct_ledger *cloud_abi, ct_rpc *rpc, const ct_address *cloud,
                          char (*ids)[67], size_t n)
{
    json_t *args = json_array(), *list = NULL, *id;
    size_t i, got = 0;
    int rc = ct_ledger_read(cloud_abi, rpc, &list, cloud, "resourceList", args);

    json_decref(args);
    if (rc < 0)
        return rc;
    json_array_foreach (json_array_get(list, 0), i, id) {
        json_t *r = NULL;
        const char *app;
        if (got == n)
            break;
        args = json_pack("[O]", id);
        rc = ct_ledger_read(cloud_abi, rpc, &r, cloud, "resource", args);
        json_decref(args);
        if (rc < 0)
            break;
        /* (owner, price, registered, app, description) */
        app = json_string_value(json_array_get(json_array_get(r, 0), 3));
        if (json_is_true(json_array_get(json_array_get(r, 0), 2)) && app != NULL &&
            strspn(app + 2, "0") == 40)
            snprintf(ids[got++], 67, "%s", json_string_value(id));
        json_decref(r);
    }
    json_decref(list);
    if (rc == 0 && got < n)
        rc = ct_error_set(CT_ESTATE,
                          "the cloud has %zu free resources; the application has %zu services", got,
                          n);
    return rc;
}

/* The address in the receipt's ApplicationDeployed event. */
static int deployed_app(const ct_ledger *cloud_abi, const ct_send_result *res, ct_address *out)
{
    const json_t *log;
    size_t i;

    json_array_foreach (json_object_get(res->receipt, "logs"), i, log) {
        const char *name = NULL;
        json_t *ev = NULL;
        int ok = ct_ledger_decode_log(cloud_abi, &name, &ev, log) == 0 &&
                 strcmp(name, "ApplicationDeployed") == 0 &&
                 ct_address_parse(out, json_string_value(json_object_get(ev, "app"))) == 0;
        json_decref(ev);
        ct_error_clear();
        if (ok)
            return 0;
    }
    return ct_error_set(CT_EPARSE, "instantiate emitted no ApplicationDeployed");
}

/* Before any money moves: the CAN answers, and its leader (asked through
 * the node given) has an orchestrator registered. */
static int can_ready(const char *can_url)
{
    char url[512];
    json_t *st = NULL, *c;
    const char *id, *lead;
    long status = 0;
    int rc, ready = 0;

    snprintf(url, sizeof(url), "%s/can/status", can_url);
    if ((rc = ct_http_request(&status, &st, "GET", url, NULL, NULL, 15000)) < 0)
        return rc;
    lead = json_string_value(json_object_get(st, "leader_url"));
    if (status == 200 &&
        strcmp(json_string_value(json_object_get(st, "role")) ?: "", "leader") != 0 &&
        lead != NULL && lead[0] != '\0') {
        snprintf(url, sizeof(url), "%s/can/status", lead);
        json_decref(st);
        st = NULL;
        if ((rc = ct_http_request(&status, &st, "GET", url, NULL, NULL, 15000)) < 0)
            return rc;
    }
    json_object_foreach (json_object_get(st, "components"), id, c)
        ready += json_is_true(json_object_get(c, "registered"));
    json_decref(st);
    if (status != 200)
        return ct_error_set(CT_EIO, "the CAN node at %s answered %ld", url, status);
    if (ready == 0)
        return ct_error_set(CT_ESTATE, "no orchestrator is registered with the CAN at %s", can_url);
    return 0;
}

/* Gives the CAN's leader the work: follows a follower's redirection
 * (421 with the leader's URL) once. Out: *orchestrator, the component the
 * leader assigned. */
static int give_work(const char *can_url, const char *app, const char *tosca, char *orch,
                     size_t orch_size)
{
    json_t *body = json_pack("{s:s, s:s}", "work", app, "description", tosca);
    char *text = body != NULL ? ct_json_dumps(body, JSON_COMPACT) : NULL;
    char url[512], base[256];
    json_t *got = NULL, *st = NULL;
    long status = 0;
    int rc = 0;

    snprintf(base, sizeof(base), "%s", can_url);
    for (int hop = 0; hop < 2 && text != NULL; hop++) {
        json_decref(got);
        got = NULL;
        snprintf(url, sizeof(url), "%s/can/work", base);
        if ((rc = ct_http_request(&status, &got, "POST", url, NULL, text, 15000)) < 0)
            break;
        if (status != 421 || !json_is_string(json_object_get(got, "leader_url")))
            break;
        snprintf(base, sizeof(base), "%s", json_string_value(json_object_get(got, "leader_url")));
    }
    if (text == NULL)
        rc = ct_error_set(CT_ENOMEM, "out of memory");
    else if (rc == 0 && status != 200)
        rc = ct_error_set(status == 400 || status == 404 || status == 409 ? CT_EINVAL : CT_EIO,
                          "the CAN refused the work (%ld): %s", status,
                          json_string_value(json_object_get(got, "error")) ?: "?");
    if (rc == 0) {
        snprintf(url, sizeof(url), "%s/can/status", base);
        if (ct_http_request(&status, &st, "GET", url, NULL, NULL, 15000) == 0 && status == 200)
            snprintf(orch, orch_size, "%s",
                     json_string_value(json_object_get(
                         json_object_get(json_object_get(st, "works"), app), "comp"))
                         ?: "");
        ct_error_clear();
    }
    json_decref(st);
    json_decref(got);
    json_decref(body);
    free(text);
    return rc;
}

int cli_app_deploy(int argc, char **argv)
{
    deploy_args a = {.retries = 3, .ok_interval_s = 60};
    ct_orch_plan *plan = NULL;
    ct_ledger *cloud_abi = NULL;
    ct_rpc *rpc = NULL;
    ct_sender *client = NULL;
    ct_send_result sent = {0};
    ct_address cloud, app;
    char *tosca = NULL, (*ids)[67] = NULL, hash_hex[67], salt_hex[67], sig_hex[133],
         app_text[CT_ADDRESS_TEXT_SIZE], orch[128] = "";
    const char **names = NULL, **res = NULL;
    uint8_t key[32], sched[32], hash[32], salt[32], sig[65];
    uint64_t chain_id = 0, expiry;
    size_t len = 0;
    json_t *jn = NULL, *jr = NULL, *args = NULL;
    int rc;

    a.rpc_url = getenv("CATENA_RPC") ? getenv("CATENA_RPC") : "http://127.0.0.1:8545";
    if ((rc = parse(&a, argc, argv)) != 0)
        return rc < 0 ? CLI_OK : rc;
    if (ct_address_parse(&cloud, a.cloud_text) < 0)
        return cli_bad_input("app", "deploy", "--cloud: '%s' is not an address", a.cloud_text);
    if ((rc = cli_orch_plan_load(&plan, "app deploy", a.app_path, NULL)) != 0)
        return rc;
    if ((rc = ct_file_read(&tosca, &len, a.app_path, TOSCA_MAX)) < 0) {
        ct_orch_plan_free(plan);
        return cli_bad_input("app", "deploy", "%s", ct_error_last());
    }
    if ((rc = cli_load_key(key, "app deploy", a.kf, a.ke, a.pf, a.pe)) != 0 ||
        (rc = cli_load_key(sched, "app deploy", a.skf, a.ske, NULL, NULL)) != 0)
        goto done;
    ct_keccak256(hash, tosca, len);
    ct_hex_encode(hash_hex, sizeof(hash_hex), hash, 32, true);
    names = calloc(plan->n, sizeof(*names));
    res = calloc(plan->n, sizeof(*res));
    ids = calloc(plan->n, sizeof(*ids));
    jn = json_array();
    jr = json_array();
    if (names == NULL || res == NULL || ids == NULL || jn == NULL || jr == NULL) {
        rc = ct_error_set(CT_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = ct_ledger_open_contract(&cloud_abi, "Cloud")) < 0 ||
        (rc = ct_rpc_new(&rpc, a.rpc_url, 15000)) < 0 ||
        (rc = ct_rpc_chain_id(rpc, &chain_id)) < 0 || (rc = can_ready(a.can_url)) < 0 ||
        (rc = pick_resources(cloud_abi, rpc, &cloud, ids, plan->n)) < 0 ||
        (rc = ct_sender_new(&client, a.rpc_url, key, NULL)) < 0 ||
        (rc = ct_random(salt, sizeof(salt))) < 0)
        goto fail;
    for (size_t i = 0; i < plan->n; i++) {
        names[i] = plan->services[i].name;
        res[i] = ids[i];
        json_array_append_new(jn, json_string(names[i]));
        json_array_append_new(jr, json_string(res[i]));
    }
    ct_hex_encode(salt_hex, sizeof(salt_hex), salt, 32, true);
    expiry = (uint64_t)(ct_time_now_ms() / 1000) + RESERVATION_S;
    if ((rc = ct_ledger_sign_reservation(sig, NULL, chain_id, &cloud, ct_sender_address(client),
                                         hash_hex, names, res, plan->n, expiry, salt_hex, sched)) <
        0)
        goto fail;
    ct_hex_encode(sig_hex, sizeof(sig_hex), sig, 65, true);
    ct_address_format(app_text, ct_sender_address(client));
    args = json_pack("[[s, s, I, s], O, O, s, I, I]", app_text, hash_hex, (json_int_t)expiry,
                     salt_hex, jn, jr, sig_hex, (json_int_t)a.retries, (json_int_t)a.ok_interval_s);
    if (args == NULL) {
        rc = ct_error_set(CT_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = ct_ledger_transact(cloud_abi, client, &sent, &cloud, &a.deposit, "instantiate",
                                 args)) < 0 ||
        (rc = deployed_app(cloud_abi, &sent, &app)) < 0)
        goto fail;
    ct_address_format(app_text, &app);
    if ((rc = give_work(a.can_url, app_text, tosca, orch, sizeof(orch))) < 0) {
        fprintf(stderr,
                "catena app deploy: application %s is on chain with its deposit, but %s\n"
                "(the client can take the deposit back: catena app stop, then close once "
                "shut down)\n",
                app_text, ct_error_last());
        rc = CLI_FAIL;
        goto done;
    }
    if (a.json) {
        json_t *doc = json_pack("{s:s, s:s}", "app", app_text, "orchestrator", orch);
        rc = cli_print_json(doc);
        json_decref(doc);
    } else {
        printf("application %s, orchestrator %s\n", app_text, orch[0] ? orch : "(not known yet)");
        rc = CLI_OK;
    }
    goto done;
fail:
    fprintf(stderr, "catena app deploy: %s\n", ct_error_last());
    rc = rc == CT_EINVAL || rc == CT_EREVERT || rc == CT_ESTATE || rc == CT_ENOTFOUND ? CLI_USAGE
                                                                                      : CLI_FAIL;
done:
    ct_wipe(key, sizeof(key));
    ct_wipe(sched, sizeof(sched));
    ct_send_result_clear(&sent);
    ct_sender_free(client);
    ct_rpc_free(rpc);
    ct_ledger_free(cloud_abi);
    json_decref(args);
    json_decref(jn);
    json_decref(jr);
    free(names);
    free(res);
    free(ids);
    free(tosca);
    ct_orch_plan_free(plan);
    return rc;
}
