/* Agreements' constraints on what DCs declare about themselves (seed 004,
 * constraint based): parsing KEY=VALUE[|VALUE...], reading a DC's
 * attributes from the Federation ledger, and the test Agreement.sol's
 * satisfiedBy makes on chain, for `catena agreement offer` and
 * `catena place`. */
#include "catena/crypto.h"
#include "catena/ledger.h"

#include <string.h>

int ct_ledger_constraint_parse(json_t *keys, json_t *values, const char *arg, size_t max)
{
    const char *eq = strchr(arg, '='), *v;
    char key[40];

    if (eq == NULL || eq == arg || (size_t)(eq - arg) > 32)
        return ct_error_set(CT_EINVAL, "expected KEY=VALUE[|VALUE...], got '%.80s'", arg);
    snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
    for (v = eq + 1;;) {
        size_t n = strcspn(v, "|");
        if (json_array_size(keys) >= max)
            return ct_error_set(CT_ELIMIT, "at most %zu constraint values", max);
        if (n > 64)
            return ct_error_set(CT_EINVAL, "'%.80s': a value is longer than 64 bytes", arg);
        if (json_array_append_new(keys, json_string(key)) < 0 ||
            json_array_append_new(values, json_stringn(v, n)) < 0)
            return ct_error_set(CT_ENOMEM, "out of memory");
        if (v[n] == '\0')
            return 0;
        v += n + 1;
    }
}

static const char *str(const json_t *v)
{
    return json_string_value(v) ? json_string_value(v) : "";
}

bool ct_ledger_attrs_satisfy(const json_t *attrs, const json_t *keys, const json_t *values)
{
    size_t i, j, a;
    json_t *k, *ak;

    json_array_foreach (keys, i, k) {
        const char *have = "";
        bool ok = false;
        json_array_foreach (json_array_get(attrs, 0), a, ak)
            if (strcmp(str(ak), str(k)) == 0)
                have = str(json_array_get(json_array_get(attrs, 1), a));
        for (j = 0; j < json_array_size(keys) && !ok; j++)
            ok = strcmp(str(json_array_get(keys, j)), str(k)) == 0 &&
                 strcmp(str(json_array_get(values, j)), have) == 0;
        if (!ok)
            return false;
    }
    return true;
}

int ct_ledger_dc_attributes(const ct_ledger *fed, ct_rpc *rpc, json_t **out,
                            const ct_address *contract, const ct_address *wallet)
{
    char text[CT_ADDRESS_TEXT_SIZE];
    json_t *args;
    int rc;

    ct_address_format(text, wallet);
    args = json_pack("[s]", text);
    rc = ct_ledger_read(fed, rpc, out, contract, "attributes", args);
    json_decref(args);
    return rc;
}

int ct_ledger_dc_by_name(const ct_ledger *fed, ct_rpc *rpc, ct_address *out,
                         const ct_address *contract, const char *name)
{
    uint8_t h[32];
    json_t *args, *v = NULL;
    int rc;

    ct_keccak256(h, name, strlen(name));
    args = json_pack("[o]", ct_json_hex(h, 32));
    rc = ct_ledger_read(fed, rpc, &v, contract, "datacenterByName", args);
    json_decref(args);
    if (rc == 0 && ct_address_parse(out, str(json_array_get(v, 0))) < 0)
        rc = CT_EPARSE;
    json_decref(v);
    if (rc == 0 && memcmp(out->b, (uint8_t[20]){0}, 20) == 0)
        rc = ct_error_set(CT_ENOTFOUND, "datacenter %s is not registered on the ledger", name);
    return rc;
}
