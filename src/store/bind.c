/* What a cache is made of (chain id, contract, start block), wiping it
 * for a reindex, and the summary used by health checks. */
#include "store_int.h"

#include <inttypes.h>
#include <string.h>

/* Compares the stored binding with the given one.
 * Returns: 1 same, 0 none stored, CT_ESTATE different, CT_EIO. */
static int compare_binding(ct_store *s, int64_t chain_id, const ct_address *contract,
                           int64_t from_block)
{
    int64_t c, f;
    ct_address a;
    int rc = ct_store__meta_get_int(s, "chain_id", &c);

    if (rc == CT_ENOTFOUND)
        return 0;
    if (rc < 0 || (rc = ct_store__meta_get_int(s, "from_block", &f)) < 0 ||
        (rc = ct_store__meta_get_blob(s, "contract", a.b, sizeof(a.b))) < 0)
        return rc == CT_ENOTFOUND ? ct_error_set(CT_EIO, "store: binding is incomplete") : rc;
    if (c == chain_id && f == from_block && ct_address_equal(&a, contract))
        return 1;
    char have[CT_ADDRESS_TEXT_SIZE], want[CT_ADDRESS_TEXT_SIZE];
    ct_address_format(have, &a);
    ct_address_format(want, contract);
    return ct_error_set(CT_ESTATE,
                        "store: cache holds chain %" PRId64 " contract %s from block %" PRId64
                        ", not chain %" PRId64 " contract %s from block %" PRId64
                        " (reindex to rebuild it)",
                        c, have, f, chain_id, want, from_block);
}

int ct_store_bind(ct_store *s, uint64_t chain_id, const ct_address *contract, uint64_t from_block)
{
    int rc;

    if (chain_id > INT64_MAX || from_block > INT64_MAX)
        return ct_error_set(CT_ERANGE, "store: chain id or block out of range");
    ct_store__lock(s);
    if ((rc = ct_store__begin(s, true)) < 0)
        goto done;
    rc = compare_binding(s, (int64_t)chain_id, contract, (int64_t)from_block);
    if (rc == 0 && (rc = ct_store__meta_set_int(s, "chain_id", (int64_t)chain_id)) == 0 &&
        (rc = ct_store__meta_set_int(s, "from_block", (int64_t)from_block)) == 0)
        rc = ct_store__meta_set_blob(s, "contract", contract->b, sizeof(contract->b));
    if (rc >= 0)
        rc = ct_store__commit(s);
done:
    if (rc < 0)
        ct_store__rollback(s);
    ct_store__unlock(s);
    return rc < 0 ? rc : 0;
}

int ct_store_reset(ct_store *s)
{
    int rc;

    ct_store__lock(s);
    if ((rc = ct_store__begin(s, true)) < 0)
        goto done;
    rc = ct_store__exec(s, "DELETE FROM events; DELETE FROM blocks; DELETE FROM datacenters;"
                           " DELETE FROM containers; DELETE FROM pending;"
                           " DELETE FROM monitor_logs; UPDATE monitors SET next_block = 0;"
                           " DELETE FROM meta WHERE key <> 'schema_version'");
    s->changed = true;
    if (rc == 0)
        rc = ct_store__commit(s);
done:
    if (rc < 0)
        ct_store__rollback(s);
    ct_store__unlock(s);
    return rc;
}

static int read_info(ct_store *s, ct_store_info *out)
{
    sqlite3_stmt *st;
    int64_t v;
    int rc = ct_store__meta_get_int(s, "chain_id", &v);

    if (rc == 0) {
        out->bound = true;
        out->chain_id = (uint64_t)v;
        if ((rc = ct_store__meta_get_int(s, "from_block", &v)) < 0 ||
            (rc = ct_store__meta_get_blob(s, "contract", out->contract.b, CT_ADDRESS_SIZE)) < 0)
            return rc;
        out->from_block = (uint64_t)v;
    } else if (rc != CT_ENOTFOUND) {
        return rc;
    }
    rc = ct_store__cursor_get(s, &out->processed, out->processed_hash);
    if (rc < 0 && rc != CT_ENOTFOUND)
        return rc;
    out->has_cursor = rc == 0;
    if ((st = ct_store__stmt(s, ST_EVENT_MAX_ID)) == NULL)
        return CT_EIO;
    /* Ids are dense (1..n, only tails are ever deleted), so max is count. */
    rc = sqlite3_step(st) == SQLITE_ROW ? 0 : ct_store__fail(s, "info");
    out->events = rc == 0 ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc;
}

int ct_store_get_info(ct_store *s, ct_store_info *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    ct_store__lock(s);
    if ((rc = ct_store__begin(s, false)) == 0) {
        rc = read_info(s, out);
        if (rc == 0)
            rc = ct_store__commit(s);
    }
    if (rc < 0)
        ct_store__rollback(s);
    ct_store__unlock(s);
    return rc;
}
