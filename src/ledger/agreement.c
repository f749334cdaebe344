/* Reading the agreements of seed 004 from the chain (docs/AGREEMENTS.md):
 * which of the three contracts lives at an address (told by the views it
 * answers), and everything one shows: kind, state, parties, terms, times,
 * charges, refunds, what each party is owed, the balance, and for an
 * Agreement its SLA, constraints and serving VC (tag, URL, host DC and
 * availability, from the Federation ledger it names). The CLI's `catena
 * agreement show` and the gateway's /api/agreements both print this. */
#include "catena/ledger.h"

#include <stdlib.h>
#include <string.h>

struct ct_agreements {
    ct_ledger *abi[CT_AG_N];
    ct_ledger *fed;
};

static const char *const contract_names[CT_AG_N] = {"Agreement", "PrepaidAgreement",
                                                    "SharedAgreement"};
/* Agreement.Kind and Agreement.State, SharedAgreement.State orders. */
static const char *const agreement_kinds[] = {"fixed", "dynamic", "flexible"};
static const char *const agreement_states[] = {"offered", "active", "settled"};
static const char *const shared_states[] = {"voting", "offered", "rejected", "accepted"};

int ct_agreements_open(ct_agreements **out)
{
    ct_agreements *a = calloc(1, sizeof(*a));
    int rc = 0;

    if (a == NULL)
        return ct_error_set(CT_ENOMEM, "out of memory");
    for (int k = 0; rc == 0 && k < CT_AG_N; k++)
        rc = ct_ledger_open_contract(&a->abi[k], contract_names[k]);
    if (rc == 0)
        rc = ct_ledger_open(&a->fed);
    if (rc < 0) {
        ct_agreements_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void ct_agreements_free(ct_agreements *a)
{
    if (a == NULL)
        return;
    for (int k = 0; k < CT_AG_N; k++)
        ct_ledger_free(a->abi[k]);
    ct_ledger_free(a->fed);
    free(a);
}

const ct_ledger *ct_agreements_abi(const ct_agreements *a, ct_ag_contract which)
{
    return which == CT_AG_FEDERATION ? a->fed : a->abi[which];
}

const char *ct_agreements_name(ct_ag_contract which)
{
    return which < CT_AG_N ? contract_names[which] : "Federation";
}

/* A view at `at` read with which's ABI. */
typedef struct reader {
    const ct_agreements *ags;
    ct_rpc *rpc;
    const ct_address *at;
    ct_ag_contract which;
} reader;

/* The view's first value (new ref), or NULL; args stolen (NULL: none). */
static json_t *view(const reader *r, const char *fn, json_t *args)
{
    json_t *out = NULL, *v = NULL, *a = args ? args : json_array();

    if (ct_ledger_read(r->ags->abi[r->which], r->rpc, &out, r->at, fn, a) == 0)
        v = json_incref(json_array_get(out, 0));
    ct_error_clear();
    json_decref(a);
    json_decref(out);
    return v;
}

static const char *str(const json_t *v)
{
    return json_string_value(v) ? json_string_value(v) : "";
}

static uint64_t u64(const json_t *v)
{
    uint64_t n = 0;

    ct_parse_uint(&n, str(v), UINT64_MAX);
    return n;
}

int ct_agreements_identify(const ct_agreements *ags, ct_rpc *rpc, const ct_address *at,
                           ct_ag_contract *which)
{
    static const char *const probe[CT_AG_N] = {"maxSeconds", "pricePerMinute", "quorum"};
    char text[CT_ADDRESS_TEXT_SIZE];
    bool code = false;
    int rc = ct_rpc_has_code(rpc, &code, at, "latest");

    ct_address_format(text, at);
    if (rc == 0 && !code)
        return ct_error_set(CT_ENOTFOUND, "no contract at %s", text);
    for (int k = 0; rc == 0 && k < CT_AG_N; k++) {
        reader r = {ags, rpc, at, (ct_ag_contract)k};
        json_t *v = view(&r, probe[k], NULL);
        if (v != NULL) {
            json_decref(v);
            *which = (ct_ag_contract)k;
            return 0;
        }
    }
    return rc < 0 ? rc : ct_error_set(CT_ENOTFOUND, "%s is no agreement", text);
}

static void add(json_t *doc, const reader *r, const char *key, const char *fn)
{
    json_t *v = view(r, fn, NULL);

    json_object_set_new(doc, key, v != NULL ? v : json_null());
}

/* The views each contract shows, as (key, view) pairs ending in NULL. */
static const char *const agreement_fields[] = {
    "provider",     "provider",    "user",    "user",       "price",     "price",    "max_seconds",
    "maxSeconds",   "minimum",     "minimum", "started_at", "startedAt", "ended_at", "endedAt",
    "seconds_used", "secondsUsed", "charged", "charged",    "refunded",  "refunded", NULL};
static const char *const prepaid_fields[] = {
    "provider",       "provider",    "user",    "user",     "price_per_minute",
    "pricePerMinute", "credit",      "credit",  "sessions", "sessions",
    "seconds_used",   "secondsUsed", "charged", "charged",  NULL};
static const char *const shared_fields[] = {"owner", "owner",  "user",   "user", "price",
                                            "price", "quorum", "quorum", "yes",  "yes",
                                            "no",    "no",     NULL};

static void add_all(json_t *doc, const reader *r, const char *const *fields)
{
    for (size_t i = 0; fields[i] != NULL; i += 2)
        add(doc, r, fields[i], fields[i + 1]);
}

static void owed_of(const reader *r, json_t *owed, const char *who)
{
    json_t *v;

    if (who[0] == '\0' || strspn(who + 2, "0") == 40)
        return;
    if ((v = view(r, "owed", json_pack("[s]", who))) != NULL)
        json_object_set_new(owed, who, v);
}

/* "paid": what each party got from settlement, withdrawn (the contract's
 * Withdrawn events) or still owed. */
static int paid_of(const reader *r, json_t *doc)
{
    json_t *paid = json_deep_copy(json_object_get(doc, "owed")), *filter, *logs = NULL, *log;
    char at[CT_ADDRESS_TEXT_SIZE];
    uint8_t topic[32];
    size_t i;
    int rc;

    ct_address_format(at, r->at);
    if ((rc = ct_ledger_event_topic(r->ags->abi[r->which], topic, "Withdrawn")) < 0) {
        json_decref(paid);
        return rc;
    }
    filter = json_pack("{s:s, s:s, s:s, s:[o]}", "address", at, "fromBlock", "0x0", "toBlock",
                       "latest", "topics", ct_json_hex(topic, 32));
    rc = ct_rpc_get_logs(r->rpc, &logs, filter);
    json_decref(filter);
    json_array_foreach (logs, i, log) {
        const char *t1 = str(json_array_get(json_object_get(log, "topics"), 1));
        char who[CT_ADDRESS_TEXT_SIZE], dec[CT_U256_DEC_SIZE], hex[48];
        ct_u256 amount, before, sum;
        ct_address payee;
        if (strlen(t1) != 66)
            continue;
        snprintf(hex, sizeof(hex), "0x%s", t1 + 26);
        if (ct_address_parse(&payee, hex) < 0 ||
            ct_u256_parse(&amount, str(json_object_get(log, "data"))) < 0)
            continue;
        ct_address_format(who, &payee);
        if (ct_u256_parse(&before, str(json_object_get(paid, who))) < 0)
            ct_u256_from_u64(&before, 0);
        ct_u256_add(&sum, &before, &amount);
        ct_u256_format_dec(dec, &sum);
        json_object_set_new(paid, who, json_string(dec));
    }
    ct_error_clear();
    json_object_set_new(doc, "paid", paid);
    json_decref(logs);
    return rc;
}

/* The SLA, the constraints and the serving VC: its tag, URL, host DC
 * (from the Federation ledger the agreement names) and availability. */
static void service_of(const reader *r, json_t *doc)
{
    json_t *fed = view(r, "federation", NULL), *tag = view(r, "vcTag", NULL), *out = NULL;
    json_t *targs = json_pack("[O]", tag ? tag : json_null()), *hargs = NULL, *cs = NULL;
    json_t *list = json_array(), *none = json_array(), *k;
    bool bound = str(tag)[0] != '\0' && strspn(str(tag) + 2, "0") != 64;
    ct_address fed_at;
    size_t i;

    add(doc, r, "sla_percent", "slaPercent");
    if (ct_ledger_read(r->ags->abi[CT_AG_AGREEMENT], r->rpc, &cs, r->at, "constraints", none) == 0)
        json_array_foreach (json_array_get(cs, 0), i, k)
            json_array_append_new(list, json_pack("{s:O, s:O}", "key", k, "value",
                                                  json_array_get(json_array_get(cs, 1), i)));
    json_object_set_new(doc, "constraints", list);
    json_object_set(doc, "federation", fed != NULL ? fed : json_null());
    json_object_set_new(doc, "vc_tag", bound ? json_incref(tag) : json_null());
    add(doc, r, "session_url", "sessionUrl");
    if (!bound)
        json_object_set_new(doc, "session_url", json_null());
    add(doc, r, "bound_at", "boundAt");
    add(doc, r, "availability", "availabilityPercent");
    json_object_set_new(doc, "host_dc", json_null());
    if (bound && ct_address_parse(&fed_at, str(fed)) == 0 &&
        ct_ledger_read(r->ags->fed, r->rpc, &out, &fed_at, "container", targs) == 0) {
        json_t *host = json_array_get(json_array_get(out, 0), 0), *dc = NULL;
        ct_address host_at;
        hargs = json_pack("[O]", host ? host : json_null());
        if (ct_address_parse(&host_at, str(host)) == 0 &&
            ct_ledger_read(r->ags->fed, r->rpc, &dc, &fed_at, "datacenter", hargs) == 0)
            json_object_set_new(
                doc, "host_dc",
                json_pack("{s:O, s:O}", "name", json_array_get(dc, 0), "wallet", host));
        json_decref(dc);
    }
    ct_error_clear();
    json_decref(none);
    json_decref(cs);
    json_decref(targs);
    json_decref(hargs);
    json_decref(out);
    json_decref(fed);
    json_decref(tag);
}

/* Shared: the parties with their shares (each owed), split or vote. */
static int shared_of(const reader *r, json_t *doc, json_t *owed)
{
    json_t *state = view(r, "state", NULL), *q = view(r, "quorum", NULL), *out = NULL;
    json_t *parties = json_array(), *none = json_array(), *who;
    size_t i;
    int rc;

    json_object_set_new(doc, "state", json_string(shared_states[u64(state) % 4]));
    add_all(doc, r, shared_fields);
    rc = ct_ledger_read(r->ags->abi[CT_AG_SHARED], r->rpc, &out, r->at, "parties", none);
    json_array_foreach (json_array_get(out, 0), i, who) {
        json_array_append_new(parties, json_pack("{s:O, s:O}", "address", who, "share",
                                                 json_array_get(json_array_get(out, 1), i)));
        owed_of(r, owed, str(who));
    }
    /* Division of income needs every party; a smaller quorum is a vote. */
    json_object_set_new(doc, "kind",
                        json_string(u64(q) == json_array_size(parties) ? "split" : "vote"));
    json_object_set_new(doc, "parties", parties);
    json_decref(state);
    json_decref(q);
    json_decref(none);
    json_decref(out);
    return rc;
}

int ct_agreements_read(const ct_agreements *ags, ct_rpc *rpc, const ct_address *at,
                       ct_ag_contract which, json_t **out)
{
    reader r = {ags, rpc, at, which};
    json_t *doc = json_object(), *owed = json_object();
    char text[CT_ADDRESS_TEXT_SIZE], dec[CT_U256_DEC_SIZE];
    ct_u256 bal;
    int rc = 0;

    ct_address_format(text, at);
    json_object_set_new(doc, "address", json_string(text));
    json_object_set_new(doc, "contract", json_string(contract_names[which]));
    if (which == CT_AG_AGREEMENT) {
        json_t *kind = view(&r, "kind", NULL), *state = view(&r, "state", NULL);
        json_object_set_new(doc, "kind", json_string(agreement_kinds[u64(kind) % 3]));
        json_object_set_new(doc, "state", json_string(agreement_states[u64(state) % 3]));
        json_decref(kind);
        json_decref(state);
        add_all(doc, &r, agreement_fields);
        service_of(&r, doc);
    } else if (which == CT_AG_PREPAID) {
        json_t *start = view(&r, "sessionStart", NULL);
        json_object_set_new(doc, "kind", json_string("prepaid"));
        json_object_set_new(doc, "state", json_string(u64(start) != 0 ? "session" : "idle"));
        json_decref(start);
        add_all(doc, &r, prepaid_fields);
    } else {
        rc = shared_of(&r, doc, owed);
    }
    owed_of(&r, owed, str(json_object_get(doc, "provider")));
    owed_of(&r, owed, str(json_object_get(doc, "user")));
    json_object_set_new(doc, "owed", owed);
    if (rc == 0)
        rc = paid_of(&r, doc);
    if (rc == 0 && (rc = ct_rpc_get_balance(rpc, &bal, at, "latest")) == 0) {
        ct_u256_format_dec(dec, &bal);
        json_object_set_new(doc, "balance", json_string(dec));
    }
    if (rc < 0) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return 0;
}
