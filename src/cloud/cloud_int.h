/* What the files of the cloud module share. */
#ifndef CATENA_CLOUD_INT_H
#define CATENA_CLOUD_INT_H

#include <assert.h>
#include <errno.h>
#include <stdbool.h>

#include "catena/cloud.h"
#include "catena/util.h"

/* Whether v is a JSON string equal to s. */
bool ct_cloud__str_eq(const json_t *v, const char *s);

/* A copy of s, or NULL when s is NULL (or out of memory). */
char *ct_cloud__dup(const char *s);

/* A copy of s without trailing slashes, or NULL. */
char *ct_cloud__dup_url(const char *s);

/* Whether word is one of the comma-separated words of list. */
bool ct_cloud__word_in(const char *word, const char *list);

/* The string at key of o, or NULL. Borrowed. */
const char *ct_cloud__str(const json_t *o, const char *key);

/* ---------------------------------------------------------------- requests (api.c) */

/* Sets the error for a failed request (what it was: fmt) from the reply's
 * message: 401/403 CT_EAUTH, 404 CT_ENOTFOUND, 409 CT_EEXIST, 400/413
 * CT_EINVAL, else CT_EIO; a negative status is returned as it is. */
int ct_cloud__http_error(long status, const json_t *reply, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ct_cloud_call with a JSON body (or NULL) and a formatted path. */
long ct_cloud__req(json_t **out, ct_cloud *c, ct_cloud_service s, const char *method,
                   const json_t *body, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* GETs a list: the array at member of the answer (borrowed from *reply,
 * which the caller frees), or NULL with the error set and *reply NULL. */
json_t *ct_cloud__list(json_t **reply, ct_cloud *c, ct_cloud_service s, const char *member,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A random (version 4) UUID, for objects whose id the caller may give. */
int ct_cloud__uuid(char out[37]);

/* s percent-encoded for a query (free()), or NULL. */
char *ct_cloud__escape(const char *s);

/* Polls GET path until the object (the reply's member, or the reply) has a
 * status in ready (comma-separated), failing at one in failed or after
 * wait_s seconds. *out is the object (new reference). */
int ct_cloud__wait(json_t **out, ct_cloud *c, ct_cloud_service s, const char *path,
                   const char *member, const char *ready, const char *failed, int wait_s);

/* ---------------------------------------------------------------- migration store */

#include <sqlite3.h>

struct ct_cloud_mig {
    sqlite3 *db;
    char *dir;
    char *clouds_yaml;
    int http_timeout_ms;
    int wait_s;
};

/* One migration's row. */
typedef struct ct_cloud__rec {
    char id[CT_CLOUD_MIG_ID_SIZE];
    char status[16];
    int step;     /* steps completed */
    char *spec;   /* the XML, NULL once done or reset */
    char *name;   /* the spec's file name */
    json_t *data; /* what the steps recorded */
} ct_cloud__rec;

/* Reads a migration. Returns: 0, CT_ENOTFOUND, CT_EIO. */
int ct_cloud__rec_load(ct_cloud__rec *r, ct_cloud_mig *m, const char *id);

/* Writes status, step, data and error (NULL: none) of r; forget_spec drops
 * the XML (and its passwords). Returns: 0, CT_EIO. */
int ct_cloud__rec_save(ct_cloud_mig *m, const ct_cloud__rec *r, const char *error,
                       bool forget_spec);

/* Marks the migration running in this process if it is not running in a
 * live one and its status is one of allowed ("new,failed"). Returns: 0,
 * CT_ENOTFOUND, CT_ESTATE. */
int ct_cloud__rec_claim(ct_cloud_mig *m, const char *id, const char *allowed);

void ct_cloud__rec_free(ct_cloud__rec *r);

/* The downloaded image of migration id (dir/id.img). */
int ct_cloud__image_path(char *out, size_t n, const ct_cloud_mig *m, const char *id);

/* ---------------------------------------------------------------- a migration run */

typedef struct ct_cloud__run {
    ct_cloud_mig *m;
    ct_cloud__rec rec;
    ct_cloud_spec *spec;
    ct_cloud *a, *b;               /* logged in by ct_cloud__connect */
    const ct_cloud_ledger *ledger; /* or NULL */
    int at;                        /* the step running: 0 for the checks */
    char marker[64];               /* "catena-migration-ID": tags what the run creates */
    ct_cloud_progress_fn cb;
    void *payload;
    char img_path[4096];
} ct_cloud__run;

/* Reports progress (detail formatted, or NULL). */
void ct_cloud__report(ct_cloud__run *r, int step, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Logs in to both clouds of r->spec. */
int ct_cloud__connect(ct_cloud__run *r);

/* Sets data[key] = v (stolen) and saves the row. */
int ct_cloud__record(ct_cloud__run *r, const char *key, json_t *v);

/* data[key], borrowed, or NULL. */
json_t *ct_cloud__data(ct_cloud__run *r, const char *key);

/* The checks before step 1 (target.c): resolves, for the steps not yet
 * done, the source instance, B's flavor, network, keypair and floating IP,
 * recording them under "source" and "target". */
int ct_cloud__check(ct_cloud__run *r);

/* Reads the source instance in A and records it as "source" (source.c). */
int ct_cloud__source(ct_cloud__run *r);

/* Steps 6 to 9 (launch.c). */
int ct_cloud__step_keypair(ct_cloud__run *r);
int ct_cloud__step_launch(ct_cloud__run *r);
int ct_cloud__step_floating_ip(ct_cloud__run *r);
int ct_cloud__step_overview(ct_cloud__run *r);

/* The ledger's part before step 1 (find the VC, record the intent) and
 * in step 9 (the confirmation) (ledger.c). */
int ct_cloud__ledger_intent(ct_cloud__run *r);
int ct_cloud__ledger_confirm(ct_cloud__run *r);

/* Removes what the run's data says it created (undo.c). */
int ct_cloud__undo(ct_cloud__run *r);

#endif
