/* Validation of the agent's requests (docs/AGENT_PROTOCOL.md section 2):
 * each method's fields are checked strictly and converted into the
 * arguments of its Federation function. Pure: no I/O, no clock. */
#include "catena/agent.h"

#include <stdio.h>
#include <string.h>

#define STR_MAX 256

/* Fields every request may carry besides its method's own. */
#define ENVELOPE "method", "_request_id", "token", "min_block"

/* What a parser sees besides the request. */
typedef struct parse_ctx {
    const char *dc_name;
    const ct_address *wallet;
    int64_t now_ms;
} parse_ctx;

/* Turns the last error (from a parser) into a CT_EINVAL naming key. The
 * message is copied first: it lives in the buffer ct_error_set writes. */
static int field_error(const char *key)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "%s", ct_error_last());
    return ct_error_set(CT_EINVAL, "field '%s': %s", key, msg);
}

/* Appends v (a new reference, may be NULL from a failed allocation). */
static int push(json_t *args, json_t *v)
{
    if (v == NULL || json_array_append_new(args, v) < 0)
        return ct_error_set(CT_ENOMEM, "agent: out of memory");
    return 0;
}

static int push_string(json_t *args, const json_t *o, const char *key, size_t min, size_t max)
{
    const char *s;
    size_t n;

    if (ct_json_get_string(&s, o, key, false) < 0)
        return CT_EINVAL;
    n = json_string_length(json_object_get(o, key));
    if (strlen(s) != n)
        return ct_error_set(CT_EINVAL, "field '%s' must not contain NUL characters", key);
    if (n < min || n > max)
        return ct_error_set(CT_EINVAL, "field '%s' must be %zu to %zu bytes long, not %zu", key,
                            min, max, n);
    return push(args, json_string(s));
}

static int push_bool(json_t *args, const json_t *o, const char *key)
{
    bool b;

    if (ct_json_get_bool(&b, o, key, false) < 0)
        return CT_EINVAL;
    return push(args, json_boolean(b));
}

static int push_u32(json_t *args, const json_t *o, const char *key)
{
    int64_t v;

    if (ct_json_get_int(&v, o, key, false) < 0)
        return CT_EINVAL;
    if (v < 0 || v > (int64_t)UINT32_MAX)
        return ct_error_set(CT_EINVAL, "field '%s' must be between 0 and 4294967295", key);
    return push(args, json_integer(v));
}

/* A uint256: a JSON integer >= 0, or a decimal or 0x string. */
static int push_u256(json_t *args, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    char dec[CT_U256_DEC_SIZE];
    ct_u256 u;

    if (v == NULL)
        return ct_error_set(CT_EINVAL, "field '%s' is required", key);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        ct_u256_from_u64(&u, (uint64_t)json_integer_value(v));
    } else if (json_is_string(v)) {
        if (ct_u256_parse(&u, json_string_value(v)) < 0)
            return field_error(key);
    } else {
        return ct_error_set(CT_EINVAL,
                            "field '%s' must be a non-negative integer or a string of digits", key);
    }
    ct_u256_format_dec(dec, &u);
    return push(args, json_string(dec));
}

/* An ISO 8601 datetime as Unix seconds; dflt_ms is used when the field is
 * absent and dflt_ms >= 0 (else the field is required). */
static int push_time(json_t *args, const json_t *o, const char *key, int64_t dflt_ms)
{
    const char *s;
    int64_t ms = dflt_ms;
    int rc = ct_json_get_string(&s, o, key, dflt_ms >= 0);

    if (rc == 0 && ct_time_parse(&ms, s) < 0)
        return field_error(key);
    if (rc < 0 && rc != CT_ENOTFOUND)
        return CT_EINVAL;
    if (ms < 0)
        return ct_error_set(CT_EINVAL, "field '%s' is before 1970", key);
    return push(args, json_integer(ms / 1000));
}

/* A VC tag: "0x" + 64 hex digits, passed on in lowercase. */
static int push_tag(json_t *args, const json_t *o, const char *key)
{
    const char *s;
    uint8_t tag[32];
    size_t n;

    if (ct_json_get_string(&s, o, key, false) < 0)
        return CT_EINVAL;
    if (strncmp(s, "0x", 2) != 0 || strlen(s) != 66 ||
        ct_hex_decode(tag, sizeof(tag), &n, s + 2, 64) < 0 || n != 32)
        return ct_error_set(CT_EINVAL, "field '%s' must be 0x followed by 64 hex digits", key);
    return push(args, ct_json_hex(tag, 32));
}

/* An address field; CT_ENOTFOUND when optional and absent. */
static int get_address(ct_address *out, const json_t *o, const char *key, bool optional)
{
    const char *s;
    int rc = ct_json_get_string(&s, o, key, optional);

    if (rc < 0)
        return rc == CT_ENOTFOUND ? rc : CT_EINVAL;
    if (ct_address_parse(out, s) < 0)
        return field_error(key);
    return 0;
}

static int push_address(json_t *args, const ct_address *a)
{
    char text[CT_ADDRESS_TEXT_SIZE];

    ct_address_format(text, a);
    return push(args, json_string(text));
}

/* ---------------------------------------------------------------- methods */

static int parse_register_datacenter(json_t *args, const json_t *req, const parse_ctx *ctx)
{
    static const char *const keys[] = {ENVELOPE, "name", NULL};
    const char *name = ctx->dc_name;
    int rc;

    if (ct_json_check_keys(req, keys) < 0)
        return CT_EINVAL;
    rc = ct_json_get_string(&name, req, "name", true);
    if (rc < 0 && rc != CT_ENOTFOUND)
        return CT_EINVAL;
    if (strcmp(name, ctx->dc_name) != 0)
        return ct_error_set(CT_EINVAL, "field 'name': '%.64s' is not this agent's DC (%s)", name,
                            ctx->dc_name);
    return push(args, json_string(ctx->dc_name));
}

/* The fields of one container (Table 15), in registerContainer's order. */
static int push_container(json_t *args, const json_t *o)
{
    if (push_string(args, o, "vc_type", 1, STR_MAX) < 0 || push_bool(args, o, "available") < 0 ||
        push_u32(args, o, "vcpu") < 0 || push_u32(args, o, "vram") < 0 ||
        push_u32(args, o, "vdisk") < 0 || push_string(args, o, "id", 1, STR_MAX) < 0 ||
        push_string(args, o, "ip_address", 0, STR_MAX) < 0 ||
        push_string(args, o, "controller", 0, STR_MAX) < 0 || push_time(args, o, "created", -1) < 0)
        return ct_error_code();
    return 0;
}

#define CONTAINER_FIELDS                                                                           \
    "vc_type", "available", "vcpu", "vram", "vdisk", "id", "ip_address", "controller", "created"

static int parse_register_container(json_t *args, const json_t *req, const parse_ctx *ctx)
{
    static const char *const keys[] = {ENVELOPE, CONTAINER_FIELDS, NULL};
    (void)ctx;

    if (ct_json_check_keys(req, keys) < 0)
        return CT_EINVAL;
    return push_container(args, req);
}

static int parse_register_containers(json_t *args, const json_t *req, const parse_ctx *ctx)
{
    static const char *const keys[] = {ENVELOPE, "containers", NULL};
    static const char *const item_keys[] = {CONTAINER_FIELDS, NULL};
    const json_t *list = json_object_get(req, "containers");
    json_t *tuples = json_array();
    size_t n = json_array_size(list);
    (void)ctx;

    if (push(args, tuples) < 0 || ct_json_check_keys(req, keys) < 0)
        return ct_error_code();
    if (!json_is_array(list) || n == 0 || n > CT_AGENT_MAX_BATCH)
        return ct_error_set(CT_EINVAL, "field 'containers' must be an array of 1 to %d objects",
                            CT_AGENT_MAX_BATCH);
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(list, i);
        json_t *tuple = json_array();
        if (push(tuples, tuple) < 0)
            return CT_ENOMEM;
        if (ct_json_check_keys(item, item_keys) < 0 || push_container(tuple, item) < 0)
            return ct_error_wrap("containers[%zu]", i);
    }
    return 0;
}

static int parse_pending_migrate(json_t *args, const json_t *req, const parse_ctx *ctx)
{
    static const char *const keys[] = {ENVELOPE,  "vc_tag",       "to_address", "price",
                                       "invoice", "from_address", "timestamp",  NULL};
    ct_address to, from;
    int rc;

    if (ct_json_check_keys(req, keys) < 0)
        return CT_EINVAL;
    rc = get_address(&from, req, "from_address", true);
    if (rc < 0 && rc != CT_ENOTFOUND)
        return rc;
    if (rc == 0 && !ct_address_equal(&from, ctx->wallet))
        return ct_error_set(CT_EAUTH, "field 'from_address' is not this DC's wallet");
    if (push_tag(args, req, "vc_tag") < 0 || get_address(&to, req, "to_address", false) < 0 ||
        push_address(args, &to) < 0 || push_u256(args, req, "price") < 0 ||
        push_u256(args, req, "invoice") < 0 || push_time(args, req, "timestamp", ctx->now_ms) < 0)
        return ct_error_code();
    return 0;
}

static int parse_migrate_container(json_t *args, const json_t *req, const parse_ctx *ctx)
{
    static const char *const keys[] = {ENVELOPE, "vc_tag",  "id",        "ip_address", "controller",
                                       "price",  "invoice", "timestamp", NULL};
    (void)ctx;

    if (ct_json_check_keys(req, keys) < 0 || push_tag(args, req, "vc_tag") < 0 ||
        push_string(args, req, "id", 1, STR_MAX) < 0 ||
        push_string(args, req, "ip_address", 0, STR_MAX) < 0 ||
        push_string(args, req, "controller", 0, STR_MAX) < 0 || push_u256(args, req, "price") < 0 ||
        push_u256(args, req, "invoice") < 0 || push_time(args, req, "timestamp", -1) < 0)
        return ct_error_code();
    return 0;
}

static int parse_change_availability(json_t *args, const json_t *req, const parse_ctx *ctx)
{
    static const char *const keys[] = {ENVELOPE, "vc_tag", "status", "timestamp", NULL};
    (void)ctx;

    if (ct_json_check_keys(req, keys) < 0 || push_tag(args, req, "vc_tag") < 0 ||
        push_bool(args, req, "status") < 0 || push_time(args, req, "timestamp", -1) < 0)
        return ct_error_code();
    return 0;
}

static int parse_retire(json_t *args, const json_t *req, const parse_ctx *ctx)
{
    static const char *const keys[] = {ENVELOPE, "vc_tag", "timestamp", NULL};
    (void)ctx;

    if (ct_json_check_keys(req, keys) < 0 || push_tag(args, req, "vc_tag") < 0 ||
        push_time(args, req, "timestamp", -1) < 0)
        return ct_error_code();
    return 0;
}

/* Most attributes a DC declares (Federation.MAX_ATTRIBUTES). */
#define MAX_ATTRIBUTES 16

/* {"attributes": {"region": "eu-west", ...}}: keys of 1 to 32 bytes of
 * [a-z0-9_.-], values of at most 64 bytes of printable ASCII; at most
 * MAX_ATTRIBUTES. Pushes the keys and the values as two string arrays. */
static int parse_set_attributes(json_t *args, const json_t *req, const parse_ctx *ctx)
{
    static const char *const keys[] = {ENVELOPE, "attributes", NULL};
    const json_t *attrs = json_object_get(req, "attributes");
    json_t *ks, *vs, *v;
    const char *key;
    (void)ctx;

    if (ct_json_check_keys(req, keys) < 0)
        return ct_error_code();
    if (!json_is_object(attrs))
        return ct_error_set(CT_EINVAL, "field 'attributes' must be an object of strings");
    if (json_object_size(attrs) > MAX_ATTRIBUTES)
        return ct_error_set(CT_EINVAL, "field 'attributes': at most %d", MAX_ATTRIBUTES);
    ks = json_array();
    vs = json_array();
    json_object_foreach ((json_t *)attrs, key, v) {
        const char *val = json_string_value(v);
        size_t n = strlen(key);
        bool ok = n >= 1 && n <= 32 && strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
        for (const char *p = val; ok && p != NULL && *p != '\0'; p++)
            ok = *p >= 0x20 && *p < 0x7f;
        if (!ok || val == NULL || strlen(val) > 64) {
            json_decref(ks);
            json_decref(vs);
            return ct_error_set(CT_EINVAL,
                                "field 'attributes': '%.40s' must be 1 to 32 of [a-z0-9_.-] with "
                                "a string of at most 64 printable characters",
                                key);
        }
        json_array_append_new(ks, json_string(key));
        json_array_append_new(vs, json_string(val));
    }
    if (push(args, ks) < 0 || push(args, vs) < 0)
        return ct_error_code();
    return 0;
}

typedef struct method {
    const char *name;
    const char *function;
    int (*parse)(json_t *args, const json_t *req, const parse_ctx *ctx);
} method;

static const method methods[] = {
    {"register_datacenter", "registerDatacenter", parse_register_datacenter},
    {"register_container", "registerContainer", parse_register_container},
    {"register_containers", "registerContainers", parse_register_containers},
    {"pending_migrate", "migrationPending", parse_pending_migrate},
    {"migrate_container", "migrateContainer", parse_migrate_container},
    {"change_availability", "changeAvailability", parse_change_availability},
    {"retire", "retireContainer", parse_retire},
    {"set_attributes", "setDatacenterAttributes", parse_set_attributes},
};

#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

int ct_agent_parse_request(ct_agent_call *out, const json_t *req, const char *dc_name,
                           const ct_address *wallet, int64_t now_ms)
{
    const parse_ctx ctx = {dc_name, wallet, now_ms < 0 ? 0 : now_ms};
    const method *m = NULL;
    const char *name;
    int64_t min_block = 0;
    json_t *args;
    int rc;

    if (!json_is_object(req))
        return ct_error_set(CT_EINVAL, "a request must be a JSON object");
    if (ct_json_get_string(&name, req, "method", false) < 0)
        return CT_EINVAL;
    for (size_t i = 0; i < N_METHODS && m == NULL; i++)
        if (strcmp(name, methods[i].name) == 0)
            m = &methods[i];
    if (m == NULL)
        return ct_error_set(CT_EINVAL, "unknown method '%.64s'", name);
    if (ct_json_get_int(&min_block, req, "min_block", true) == CT_EINVAL || min_block < 0)
        return ct_error_set(CT_EINVAL, "field 'min_block' must be a block number (an integer "
                                       "of 0 or more)");
    if ((args = json_array()) == NULL)
        return ct_error_set(CT_ENOMEM, "agent: out of memory");
    if ((rc = m->parse(args, req, &ctx)) < 0) {
        json_decref(args);
        return rc;
    }
    *out = (ct_agent_call){m->name, m->function, args, (uint64_t)min_block};
    return 0;
}

void ct_agent_call_clear(ct_agent_call *call)
{
    if (call == NULL)
        return;
    json_decref(call->args);
    memset(call, 0, sizeof(*call));
}

bool ct_agent_name_valid(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;

    if (n == 0 || n > CT_AGENT_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}
