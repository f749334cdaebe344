/* Catena cloud module: Software to Data (seed 001). Reads the XML
 * migration spec, talks to OpenStack clouds (Keystone v3, Nova, Glance,
 * Neutron) named in a clouds.yaml, and moves a running instance from one
 * cloud to another in nine resumable steps whose state lives in SQLite. */
#ifndef CATENA_CLOUD_H
#define CATENA_CLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- spec */

/* A login block. cloud names a clouds.yaml entry or is a Keystone URL;
 * tenant, username and password are NULL when the block leaves them to
 * clouds.yaml. */
typedef struct ct_cloud_login {
    char *cloud;
    char *tenant;
    char *username;
    char *password;
} ct_cloud_login;

/* A parsed MigrationSpecs document (seed 001 section 4.2.6). Every string
 * is trimmed and owned by the spec. */
typedef struct ct_cloud_spec {
    ct_cloud_login a;
    char *instance;      /* InstanceID: UUID or unique name in A */
    char *snapshot_name; /* SnapshotName */
    ct_cloud_login b;
    char *image_name;     /* ImageName */
    char *image_format;   /* Format: a Glance disk format */
    bool image_public;    /* Access */
    char *keypair_name;   /* Keypair/Name */
    char *public_key;     /* Keypair/PublicKey, or NULL */
    char *server_name;    /* InstanceToLaunch/InstanceName */
    char *security_group; /* "" or "default": B's default group */
    char *ip;             /* "new" or a dotted IPv4 address */
} ct_cloud_spec;

/* Most bytes a spec may have. */
#define CT_CLOUD_SPEC_MAX (1u << 20)

/* Parses and validates xml (len bytes; need not be NUL terminated) against
 * the schema in docs/migration-spec.xsd, which is built into the library.
 * name labels errors ("spec.xml:12: Element 'Format': ..."). Never reads
 * the network or external entities. findings (or NULL) gets, on
 * CT_EPARSE, every violation found, one per line (free()); the error
 * message holds the first and how many more.
 * Returns: 0; CT_EPARSE for malformed XML or a schema violation; CT_ELIMIT
 * over CT_CLOUD_SPEC_MAX; CT_ENOMEM. Thread-safe. */
int ct_cloud_spec_parse(ct_cloud_spec **out, char **findings, const char *xml, size_t len,
                        const char *name);

/* The spec as JSON, passwords left out. Returns a new reference. */
json_t *ct_cloud_spec_json(const ct_cloud_spec *s);

/* Frees s; NULL is a no-op. Passwords are wiped. */
void ct_cloud_spec_free(ct_cloud_spec *s);

/* The schema text (docs/migration-spec.xsd). Borrowed, static. */
const char *ct_cloud_spec_schema(void);

/* ---------------------------------------------------------------- clouds */

/* How to reach one OpenStack cloud: Keystone v3 password auth scoped to a
 * project, as a clouds.yaml entry holds it. */
typedef struct ct_cloud_auth {
    char *name; /* the clouds.yaml entry, or the auth URL */
    char *auth_url;
    char *username;
    char *password;
    char *project_name;
    char *user_domain;    /* default "Default" */
    char *project_domain; /* default "Default" */
    char *region;         /* or NULL: any */
    char *interface;      /* default "public" */
} ct_cloud_auth;

/* Fills out from entry name of the clouds.yaml at path. Returns: 0;
 * CT_ENOTFOUND (no such file or entry), CT_EPARSE (not YAML, or the entry
 * lacks auth_url, username, password or project_name). */
int ct_cloud_auth_load(ct_cloud_auth *out, const char *path, const char *name);

/* Fills out from a spec's login block: a clouds.yaml entry (path may be
 * NULL only for a URL login), its credentials overridden by the block's.
 * Returns: as ct_cloud_auth_load. */
int ct_cloud_auth_from_login(ct_cloud_auth *out, const ct_cloud_login *l, const char *path);

/* Frees what a is holding (the password wiped); a may be reused. */
void ct_cloud_auth_free(ct_cloud_auth *a);

/* A logged-in session with one cloud: a token and the catalog's
 * endpoints. Not thread-safe: one thread uses one session. */
typedef struct ct_cloud ct_cloud;

typedef enum ct_cloud_service {
    CT_CLOUD_COMPUTE,
    CT_CLOUD_IMAGE,
    CT_CLOUD_NETWORK,
    CT_CLOUD_N_SERVICES
} ct_cloud_service;

/* Logs in (POST /v3/auth/tokens) and reads the catalog. timeout_ms bounds
 * each HTTP request of the session. Returns: 0; CT_EAUTH (credentials
 * refused), CT_EIO (unreachable), CT_ENOTFOUND (a service missing from the
 * catalog), CT_ENOMEM. */
int ct_cloud_connect(ct_cloud **out, const ct_cloud_auth *a, int timeout_ms);

/* Frees the session; NULL is a no-op. */
void ct_cloud_free(ct_cloud *c);

/* The project (tenant) id, user id and an endpoint of the session.
 * Borrowed. */
const char *ct_cloud_project_id(const ct_cloud *c);
const char *ct_cloud_user_id(const ct_cloud *c);
const char *ct_cloud_endpoint(const ct_cloud *c, ct_cloud_service s);

/* The session's current token, for handing to another client (a
 * benchmark's curl). Borrowed; never log it. */
const char *ct_cloud_token(const ct_cloud *c);

/* One JSON request to a service: path is appended to the endpoint (with a
 * '/' between), body (or NULL) is sent as JSON, or with content_type as
 * given (NULL: application/json). A 401 logs in again once. *out is the
 * parsed reply (NULL if none or not JSON).
 * Returns: the HTTP status (> 0), or a negative ct_err when no reply came
 * (CT_EIO, CT_ETIMEOUT). */
long ct_cloud_call(json_t **out, ct_cloud *c, ct_cloud_service s, const char *method,
                   const char *path, const json_t *body, const char *content_type);

/* Waits until GET path of service s answers 404 (a deleted server,
 * image...). Returns: 0; CT_ETIMEOUT after wait_s seconds; CT_EIO. */
int ct_cloud_wait_gone(ct_cloud *c, ct_cloud_service s, const char *path, int wait_s);

/* Streams a service's reply body into the file at dest (created 0600 or
 * truncated) and puts its size and MD5 (lowercase hex) in *size and md5.
 * Returns: the HTTP status, or a negative ct_err (CT_EIO on a short write
 * or a dropped connection). */
long ct_cloud_download(ct_cloud *c, ct_cloud_service s, const char *path, const char *dest,
                       uint64_t *size, char md5[33]);

/* Streams the file at src as the body of a PUT (application/octet-stream).
 * Returns: the HTTP status, or a negative ct_err. */
long ct_cloud_upload(ct_cloud *c, ct_cloud_service s, const char *path, const char *src);

/* ---------------------------------------------------------------- migration */

/* The nine steps of seed 001 section 4.2.4, numbered from 1. */
#define CT_CLOUD_STEPS 9

/* The name of step (1..9): "authenticate to A", "snapshot", ... */
const char *ct_cloud_step_name(int step);

/* Where migrations are kept: a SQLite database and the downloaded images
 * under one folder. Safe to share between processes; one handle is used
 * by one thread at a time. */
typedef struct ct_cloud_mig ct_cloud_mig;

typedef struct ct_cloud_mig_opts {
    const char *clouds_yaml; /* for logins that name a cloud, or NULL */
    int http_timeout_ms;     /* each request; 0: 30 s */
    int wait_s;              /* an image or server to become ready; 0: 600 s */
} ct_cloud_mig_opts;

/* Opens (creating) dir/migrations.db; o may be NULL. Returns: 0, CT_EIO,
 * CT_ENOMEM. */
int ct_cloud_mig_open(ct_cloud_mig **out, const char *dir, const ct_cloud_mig_opts *o);

/* Closes m; NULL is a no-op. */
void ct_cloud_mig_close(ct_cloud_mig *m);

/* Size of a migration id (32 hex digits and NUL). */
#define CT_CLOUD_MIG_ID_SIZE 33

/* Validates the spec (ct_cloud_spec_parse) and records a new migration.
 * Nothing is sent to a cloud. Returns: 0, or the parse error. */
int ct_cloud_mig_create(char id[CT_CLOUD_MIG_ID_SIZE], ct_cloud_mig *m, const char *xml, size_t len,
                        const char *name);

/* What a run reports: step 1..9 (0 for the checks before step 1), what
 * ("start", "done", "skip", "failed") and a detail (or NULL). */
typedef void (*ct_cloud_progress_fn)(const char *id, int step, const char *what, const char *detail,
                                     void *payload);

/* How a migration reaches the ledger (seed 000): the caller's hooks, the
 * CLI's through a gateway. Each returns 0 or a negative ct_err with the
 * error set. key is an idempotency key for the write, at its timestamp
 * (ISO 8601): both are the same when a resumed run repeats a write. */
typedef struct ct_cloud_ledger {
    /* The VC whose id is instance (an OpenStack UUID): its tag ("0x" and
     * 64 hex digits) and its host DC's name; CT_ENOTFOUND when the
     * instance is no VC. */
    int (*find)(char tag[67], char host_dc[64], const char *instance, void *payload);
    /* The host DC records the intent to move the VC (migration pending). */
    int (*intent)(const char *tag, const char *host_dc, const char *at, const char *key,
                  void *payload);
    /* The target DC confirms it: moved holds id (the new UUID),
     * ip_address ("http://" and the floating IP) and controller (B's
     * compute endpoint). */
    int (*confirm)(const char *tag, const json_t *moved, const char *at, const char *key,
                   void *payload);
    void *payload;
} ct_cloud_ledger;

/* A federation's gateway, for the ledger's part of a migration. */
typedef struct ct_cloud_gw {
    char api[512]; /* base URL ending in /api */
    /* A DC's bearer token, or NULL when there is none (borrowed). */
    const char *(*token)(const char *dc, void *payload);
    void *payload;
    const char *to;              /* cloud B's DC */
    const char *price, *invoice; /* whole numbers, as text */
} ct_cloud_gw;

/* Hooks that record a migration through g's REST API: the VC of the
 * instance (GET /container/?id=), the host DC's intent and the target
 * DC's confirmation, each write with its Idempotency-Key and followed to
 * its end; the confirmation waits until the gateway shows the intent, and
 * returns once it shows the new id. g is borrowed: it outlives the run. */
void ct_cloud_gw_ledger(ct_cloud_ledger *out, ct_cloud_gw *g);

/* One JSON exchange with the gateway at api (token, Idempotency-Key key
 * and body may be NULL). Returns: the HTTP status, or a negative ct_err. */
long ct_cloud_gw_call(json_t **out, const char *api, const char *method, const char *path,
                      const char *token, const char *key, const json_t *body);

/* Sets the error for an answer st about what; returns its ct_err. */
int ct_cloud_gw_fail(long st, const json_t *answer, const char *what);

/* The VC whose id is instance, by the gateway at api. Out: *vc new ref.
 * Returns: 0, CT_ENOTFOUND (no VC), CT_EINVAL (not an id), or the
 * exchange's error. */
int ct_cloud_gw_vc_of(json_t **vc, const char *api, const char *instance);

/* A whole number as a JSON integer when it fits, else as the string
 * (the gateway takes both for uint256 fields). New reference. */
json_t *ct_cloud_gw_num(const char *s);

/* Runs a migration to its end, or resumes it after the last step it
 * completed. Before step 1 it logs in to both clouds and checks that
 * every name in the spec resolves (instance, flavor, keypair, network,
 * floating IP) so that a wrong spec touches nothing. A failure leaves the
 * migration "failed" at its step: run it again to resume, or reset it.
 * Returns: 0; CT_EAUTH, CT_ENOTFOUND, CT_EINVAL (the checks); CT_ESTATE
 * (already done, reset, or running elsewhere); CT_EIO, CT_ETIMEOUT. */
int ct_cloud_mig_run(ct_cloud_mig *m, const char *id, const ct_cloud_ledger *ledger,
                     ct_cloud_progress_fn cb, void *payload);

/* Removes what the migration created (in B: server, floating IP or its
 * association, security group or the rules it added, imported keypair,
 * image; in A: the snapshot) and its downloaded image, and marks it
 * "reset". Returns: 0, CT_ENOTFOUND, CT_ESTATE (running), or the first
 * cloud error (the rest is still attempted; run reset again). */
int ct_cloud_mig_reset(ct_cloud_mig *m, const char *id, ct_cloud_progress_fn cb, void *payload);

/* The migration as JSON: id, status ("new", "running", "failed", "done",
 * "reset"), step, steps done, error, the spec (no passwords), what each
 * step recorded ("data", with "step_ms" by step name) and the names of
 * the steps in order ("step_names"). Returns: 0, CT_ENOTFOUND. */
int ct_cloud_mig_get(json_t **out, ct_cloud_mig *m, const char *id);

/* Every migration, newest first, as ct_cloud_mig_get without the step
 * data. */
int ct_cloud_mig_list(json_t **out, ct_cloud_mig *m);

/* ---------------------------------------------------------------- usage */

/* What the session's project used from from_ms to to_ms (os-simple-
 * tenant-usage): {"project_id", "from", "to", "instances": [{"id",
 * "name", "state", "flavor", "vcpus", "ram_mb", "disk_gb", "hours",
 * "vcpu_hours", "ram_mb_hours", "disk_gb_hours", "started_at",
 * "ended_at"}], "totals": {hours, vcpu_hours, ram_mb_hours,
 * disk_gb_hours}}. Returns: 0, or the request's error. */
int ct_cloud_usage(json_t **out, ct_cloud *c, int64_t from_ms, int64_t to_ms);

/* Prices per hour of a vCPU, a GiB of RAM and a GiB of disk. */
typedef struct ct_cloud_prices {
    double vcpu, ram_gb, disk_gb;
    bool set;
} ct_cloud_prices;

/* Parses "vcpu=X,ram_gb=Y,disk_gb=Z" (any subset, each 0 to 1e12) into
 * *out (set true). Returns: 0, CT_EINVAL (message names the part). */
int ct_cloud_prices_parse(ct_cloud_prices *out, const char *text);

/* Adds "amount" to each instance of a ct_cloud_usage answer and to its
 * totals. */
void ct_cloud_usage_price(json_t *usage, const ct_cloud_prices *p);

#ifdef __cplusplus
}
#endif

#endif
