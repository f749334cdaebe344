/* Parsing what the follower reads from a node (log entries, block
 * headers) and turning decoded event args into the wire form the cache
 * stores and the API returns. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- fields */

static int field_u64(uint64_t *out, const json_t *obj, const char *key)
{
    if (ct_quantity_parse_u64(out, json_object_get(obj, key)) < 0)
        return ct_error_set(CT_EPARSE, "store: %s is not a quantity", key);
    return 0;
}

static int field_hash(uint8_t out[32], const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    size_t len;

    if (s == NULL || strlen(s) != 66 || strncmp(s, "0x", 2) != 0 ||
        ct_hex_decode(out, 32, &len, s, 66) < 0)
        return ct_error_set(CT_EPARSE, "store: %s is not a 32-byte hash", key);
    return 0;
}

int ct_store__parse_log(ct_store__log *out, const json_t *log)
{
    const char *addr = json_string_value(json_object_get(log, "address"));
    const json_t *removed = json_object_get(log, "removed");
    int rc;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(log))
        return ct_error_set(CT_EPARSE, "store: log is not an object");
    if ((rc = field_u64(&out->block_number, log, "blockNumber")) < 0 ||
        (rc = field_u64(&out->log_index, log, "logIndex")) < 0 ||
        (rc = field_u64(&out->tx_index, log, "transactionIndex")) < 0 ||
        (rc = field_hash(out->block_hash, log, "blockHash")) < 0 ||
        (rc = field_hash(out->tx_hash, log, "transactionHash")) < 0)
        return rc;
    if (out->block_number > INT64_MAX || out->log_index > INT64_MAX || out->tx_index > INT64_MAX)
        return ct_error_set(CT_EPARSE, "store: log position out of range");
    if (addr == NULL || ct_address_parse(&out->address, addr) < 0)
        return ct_error_set(CT_EPARSE, "store: log address is not an address");
    if (removed != NULL && !json_is_boolean(removed))
        return ct_error_set(CT_EPARSE, "store: log removed is not a boolean");
    out->removed = json_is_true(removed);
    out->json = log;
    return 0;
}

int ct_store__parse_header(ct_store__header *out, const json_t *block)
{
    uint64_t time;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(block))
        return ct_error_set(CT_EPARSE, "store: block is not an object");
    if ((rc = field_u64(&out->number, block, "number")) < 0 ||
        (rc = field_hash(out->hash, block, "hash")) < 0 ||
        (rc = field_hash(out->parent, block, "parentHash")) < 0 ||
        (rc = field_u64(&time, block, "timestamp")) < 0)
        return rc;
    if (out->number > INT64_MAX || time > INT64_MAX / 1000)
        return ct_error_set(CT_EPARSE, "store: block number or time out of range");
    out->time = (int64_t)time;
    return 0;
}

/* ---------------------------------------------------------------- types */

enum { PK_OTHER, PK_UINT, PK_TIME };

struct param {
    const char *name; /* borrowed from the ABI; "" when unnamed */
    int kind;
};

struct evtype {
    const char *name;
    struct param *params;
    size_t n;
};

struct ct_store_decoder {
    const ct_ledger *l;
    struct evtype *ev;
    size_t n;
};

void ct_store_decoder_free(ct_store_decoder *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->ev[i].params);
    free(t->ev);
    free(t);
}

static int add_event(struct evtype *e, const json_t *item)
{
    const json_t *inputs = json_object_get(item, "inputs");
    const json_t *in;
    size_t i;

    e->name = json_string_value(json_object_get(item, "name"));
    e->n = json_array_size(inputs);
    if (e->name == NULL)
        return ct_error_set(CT_EPARSE, "store: ABI event without a name");
    if ((e->params = calloc(e->n + 1, sizeof(*e->params))) == NULL)
        return ct_error_set(CT_ENOMEM, "store: out of memory");
    json_array_foreach (inputs, i, in) {
        const char *name = json_string_value(json_object_get(in, "name"));
        const char *type = json_string_value(json_object_get(in, "type"));
        struct param *p = &e->params[i];
        p->name = name != NULL ? name : "";
        p->kind = type != NULL && strncmp(type, "uint", 4) == 0 && strchr(type, '[') == NULL
                      ? (strcmp(p->name, "timestamp") == 0 ? PK_TIME : PK_UINT)
                      : PK_OTHER;
    }
    return 0;
}

static const struct evtype *find_type(const ct_store_decoder *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->ev[i].name, name) == 0)
            return &t->ev[i];
    return NULL;
}

int ct_store_decoder_new(ct_store_decoder **out, const ct_ledger *l)
{
    static const char *const needed[] = {
        "DatacenterRegistered",      "ContainerRegistered", "ContainerAvailabilityChanged",
        "ContainerMigrationPending", "ContainerMigrated",   "ContainerRetired"};
    const json_t *abi = ct_ledger_abi(l), *item;
    ct_store_decoder *t = calloc(1, sizeof(*t));
    size_t i;
    int rc = 0;

    if (t == NULL || (t->ev = calloc(json_array_size(abi) + 1, sizeof(*t->ev))) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "store: out of memory");
        goto done;
    }
    t->l = l;
    json_array_foreach (abi, i, item) {
        const char *type = json_string_value(json_object_get(item, "type"));
        if (type != NULL && strcmp(type, "event") == 0 &&
            (rc = add_event(&t->ev[t->n++], item)) < 0)
            goto done;
    }
    for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        if (find_type(t, needed[i]) == NULL) {
            rc = ct_error_set(CT_EPARSE, "store: the contract has no %s event", needed[i]);
            goto done;
        }
    *out = t;
done:
    if (rc < 0)
        ct_store_decoder_free(t);
    return rc;
}

/* ---------------------------------------------------------------- wire form */

/* A decimal uint as an integer when it fits int64, else the string. */
static json_t *wire_uint(const char *dec, uint64_t v)
{
    return v <= INT64_MAX ? json_integer((json_int_t)v) : json_string(dec);
}

static int wire_value(json_t **out, const struct param *p, const json_t *v)
{
    const char *dec = json_string_value(v);
    char iso[CT_TIME_ISO8601_SIZE];
    ct_u256 big;
    uint64_t u;

    if (p->kind == PK_OTHER) {
        *out = json_incref((json_t *)v);
        return 0;
    }
    if (dec == NULL || ct_u256_parse(&big, dec) < 0)
        return ct_error_set(CT_EPARSE, "store: %s is not a uint", p->name);
    if (ct_u256_to_u64(&u, &big) < 0) /* above 2^64: only the string holds it */
        *out = json_string(dec);
    else if (p->kind == PK_TIME && u <= CT_STORE__MAX_TIME &&
             ct_time_format(iso, (int64_t)u * 1000) == 0)
        *out = json_string(iso);
    else
        *out = wire_uint(dec, u);
    return *out != NULL ? 0 : ct_error_set(CT_ENOMEM, "store: out of memory");
}

int ct_store__wire_args(json_t **out, const ct_store_decoder *t, const char *event,
                        const json_t *raw)
{
    const struct evtype *e = find_type(t, event);
    json_t *o = json_object(), *v = NULL;
    char key[32];
    int rc = 0;

    if (e == NULL || o == NULL) {
        json_decref(o);
        return o == NULL ? ct_error_set(CT_ENOMEM, "store: out of memory")
                         : ct_error_set(CT_EPARSE, "store: unknown event %s", event);
    }
    for (size_t i = 0; i < e->n && rc == 0; i++) {
        const char *name = e->params[i].name;
        if (name[0] == '\0') {
            snprintf(key, sizeof(key), "arg%zu", i);
            name = key;
        }
        const json_t *in = json_object_get(raw, name);
        if (in == NULL)
            rc = ct_error_set(CT_EPARSE, "store: %s has no arg %s", event, name);
        else if ((rc = wire_value(&v, &e->params[i], in)) == 0 &&
                 json_object_set_new(o, name, v) < 0)
            rc = ct_error_set(CT_ENOMEM, "store: out of memory");
    }
    if (rc == 0 && json_object_size(raw) != e->n)
        rc = ct_error_set(CT_EPARSE, "store: %s has unexpected args", event);
    if (rc == 0)
        *out = json_incref(o);
    json_decref(o);
    return rc;
}

int ct_store_decode_event(const ct_store_decoder *d, const char **name, json_t **args,
                          const json_t *log)
{
    json_t *raw;
    int rc = ct_ledger_decode_log(d->l, name, &raw, log);

    if (rc < 0)
        return rc;
    rc = ct_store__wire_args(args, d, *name, raw);
    json_decref(raw);
    return rc;
}
