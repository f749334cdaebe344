/* The nine steps of an S2D migration (seed 001 section 4.2.4) with current
 * OpenStack APIs. Each step records what it created before going on, so
 * a run that stops anywhere resumes after its last completed step, and a
 * reset knows what to remove. */
#include "cloud_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const step_names[CT_CLOUD_STEPS + 1] = {
    "check",        "authenticate to A", "snapshot",        "download image", "authenticate to B",
    "upload image", "keypair",           "launch instance", "floating IP",    "overview",
};

const char *ct_cloud_step_name(int step)
{
    return step >= 0 && step <= CT_CLOUD_STEPS ? step_names[step] : "?";
}

/* ---------------------------------------------------------------- a run */

void ct_cloud__report(ct_cloud__run *r, int step, const char *what, const char *fmt, ...)
{
    char detail[512];
    va_list ap;

    if (r->cb == NULL)
        return;
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
    }
    r->cb(r->rec.id, step, what, fmt ? detail : NULL, r->payload);
}

/* Records that key now holds v (stolen) and saves the row at once, so a
 * crash right after a cloud created something still knows about it. */
int ct_cloud__record(ct_cloud__run *r, const char *key, json_t *v)
{
    if (v == NULL)
        return ct_error_set(CT_ENOMEM, "migration: out of memory");
    json_object_set_new(r->rec.data, key, v);
    return ct_cloud__rec_save(r->m, &r->rec, NULL, false);
}

json_t *ct_cloud__data(ct_cloud__run *r, const char *key)
{
    return json_object_get(r->rec.data, key);
}

int ct_cloud__connect(ct_cloud__run *r)
{
    ct_cloud_auth a = {0};
    int rc;

    if ((rc = ct_cloud_auth_from_login(&a, &r->spec->a, r->m->clouds_yaml)) < 0)
        return rc;
    rc = ct_cloud_connect(&r->a, &a, r->m->http_timeout_ms);
    ct_cloud_auth_free(&a);
    if (rc < 0)
        return ct_error_set(rc, "cloud A: %s", ct_error_last());
    if ((rc = ct_cloud_auth_from_login(&a, &r->spec->b, r->m->clouds_yaml)) < 0)
        return rc;
    rc = ct_cloud_connect(&r->b, &a, r->m->http_timeout_ms);
    ct_cloud_auth_free(&a);
    if (rc < 0)
        return ct_error_set(rc, "cloud B: %s", ct_error_last());
    return 0;
}

static json_t *login_json(const ct_cloud *c, const ct_cloud_login *l)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "cloud", l->cloud, "user_id", ct_cloud_user_id(c),
                     "project_id", ct_cloud_project_id(c), "compute",
                     ct_cloud_endpoint(c, CT_CLOUD_COMPUTE));
}

/* ---------------------------------------------------------------- steps 1-3: cloud A */

static int step_login_a(ct_cloud__run *r)
{
    return ct_cloud__record(r, "cloud_a", login_json(r->a, &r->spec->a));
}

/* A snapshot this migration asked for whose answer was lost (the request
 * timed out, the process died) carries its marker: it is taken, not made
 * again. */
static int snapshot_adopt(ct_cloud__run *r, const char **image)
{
    json_t *reply = NULL, *img;
    long st;
    int rc = 0;

    st = ct_cloud__req(&reply, r->a, CT_CLOUD_IMAGE, "GET", NULL, "v2/images?catena_migration=%s",
                       r->marker);
    if (st != 200)
        rc = ct_cloud__http_error(st, reply, "cloud A: images");
    else if ((img = json_array_get(json_object_get(reply, "images"), 0)) != NULL &&
             (rc = ct_cloud__record(r, "snapshot",
                                    json_pack("{s:s}", "id", ct_cloud__str(img, "id")))) == 0)
        *image = ct_cloud__str(ct_cloud__data(r, "snapshot"), "id");
    json_decref(reply);
    return rc;
}

/* Step 2: createImage of the source server, then wait for the snapshot to
 * be active. The image id is recorded before the wait. */
static int step_snapshot(ct_cloud__run *r)
{
    const char *server = ct_cloud__str(ct_cloud__data(r, "source"), "id");
    const char *image = ct_cloud__str(ct_cloud__data(r, "snapshot"), "id");
    json_t *body = NULL, *reply = NULL, *img = NULL;
    char path[256];
    long st;
    int rc;

    if (image == NULL && (rc = snapshot_adopt(r, &image)) < 0)
        return rc;
    if (image == NULL) {
        body = json_pack("{s:{s:s,s:{s:s}}}", "createImage", "name", r->spec->snapshot_name,
                         "metadata", "catena_migration", r->marker);
        st = ct_cloud__req(&reply, r->a, CT_CLOUD_COMPUTE, "POST", body, "servers/%s/action",
                           server);
        json_decref(body);
        if (st != 202 || (image = ct_cloud__str(reply, "image_id")) == NULL) {
            rc = ct_cloud__http_error(st, reply, "cloud A: snapshot of %s", server);
            json_decref(reply);
            return rc;
        }
        rc = ct_cloud__record(r, "snapshot", json_pack("{s:s}", "id", image));
        json_decref(reply);
        if (rc < 0)
            return rc;
        image = ct_cloud__str(ct_cloud__data(r, "snapshot"), "id");
    }
    snprintf(path, sizeof(path), "v2/images/%s", image);
    if ((rc = ct_cloud__wait(&img, r->a, CT_CLOUD_IMAGE, path, NULL, "active",
                             "killed,deleted,pending_delete", r->m->wait_s)) < 0)
        return ct_error_set(rc, "cloud A: snapshot: %s", ct_error_last());
    if (!json_is_integer(json_object_get(img, "size")) || ct_cloud__str(img, "checksum") == NULL) {
        json_decref(img);
        return ct_error_set(CT_EIO, "cloud A: snapshot %s has no size or checksum", image);
    }
    rc = ct_cloud__record(r, "snapshot",
                          json_pack("{s:s,s:s,s:O,s:s,s:s?,s:s?}", "id", image, "name",
                                    r->spec->snapshot_name, "size", json_object_get(img, "size"),
                                    "checksum", ct_cloud__str(img, "checksum"), "disk_format",
                                    ct_cloud__str(img, "disk_format"), "container_format",
                                    ct_cloud__str(img, "container_format")));
    /* image pointed into the record just replaced: read it anew. */
    ct_cloud__report(r, 2, "info", "snapshot %s: %lld bytes",
                     ct_cloud__str(ct_cloud__data(r, "snapshot"), "id"),
                     (long long)json_integer_value(json_object_get(img, "size")));
    json_decref(img);
    return rc;
}

/* Step 3: the snapshot's bytes into dir/ID.img, checked against Glance's
 * size and MD5. */
static int step_download(ct_cloud__run *r)
{
    json_t *snap = ct_cloud__data(r, "snapshot");
    const char *want = ct_cloud__str(snap, "checksum");
    uint64_t size = 0;
    char md5[33], path[256];
    long st;

    snprintf(path, sizeof(path), "v2/images/%s/file", ct_cloud__str(snap, "id"));
    st = ct_cloud_download(r->a, CT_CLOUD_IMAGE, path, r->img_path, &size, md5);
    if (st != 200) {
        unlink(r->img_path);
        return ct_cloud__http_error(st, NULL, "cloud A: download of %s", ct_cloud__str(snap, "id"));
    }
    if ((json_int_t)size != json_integer_value(json_object_get(snap, "size")) ||
        strcmp(md5, want) != 0) {
        unlink(r->img_path);
        return ct_error_set(CT_EIO,
                            "cloud A: downloaded %llu bytes with MD5 %s, Glance says %lld and %s",
                            (unsigned long long)size, md5,
                            (long long)json_integer_value(json_object_get(snap, "size")), want);
    }
    ct_cloud__report(r, 3, "info", "%llu bytes, MD5 %s", (unsigned long long)size, md5);
    return ct_cloud__record(
        r, "download",
        json_pack("{s:s,s:I,s:s}", "file", r->img_path, "size", (json_int_t)size, "md5", md5));
}

/* ---------------------------------------------------------------- steps 4-5: cloud B */

static int step_login_b(ct_cloud__run *r)
{
    return ct_cloud__record(r, "cloud_b", login_json(r->b, &r->spec->b));
}

/* Creates the empty image in B under the id recorded for it, so that a
 * create whose answer was lost is found again (409) rather than made
 * twice, then sets the spec's access with a JSON patch as the seed does. */
static int image_create(ct_cloud__run *r, const char *id)
{
    json_t *snap = ct_cloud__data(r, "snapshot");
    const char *cf = ct_cloud__str(snap, "container_format");
    json_t *body, *reply = NULL, *patch;
    char path[256];
    long st;
    int rc;

    body = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", id, "name", r->spec->image_name, "disk_format",
                     r->spec->image_format, "container_format", cf ? cf : "bare",
                     "catena_migration", r->marker);
    st = ct_cloud__req(&reply, r->b, CT_CLOUD_IMAGE, "POST", body, "v2/images");
    json_decref(body);
    if (st != 201 && st != 409) {
        rc = ct_cloud__http_error(st, reply, "cloud B: create image '%s'", r->spec->image_name);
        json_decref(reply);
        return rc;
    }
    json_decref(reply);
    reply = NULL;
    patch = json_pack("[{s:s,s:s,s:s}]", "op", "replace", "path", "/visibility", "value",
                      r->spec->image_public ? "public" : "private");
    snprintf(path, sizeof(path), "v2/images/%s", id);
    st = ct_cloud_call(&reply, r->b, CT_CLOUD_IMAGE, "PATCH", path, patch,
                       "application/openstack-images-v2.1-json-patch");
    json_decref(patch);
    rc = st == 200
             ? 0
             : ct_cloud__http_error(st, reply, "cloud B: make image '%s' %s", r->spec->image_name,
                                    r->spec->image_public ? "public" : "private");
    json_decref(reply);
    return rc;
}

/* Step 5: create, update and upload the image; B must then report the
 * same size and MD5 as A's snapshot. */
static int step_upload(ct_cloud__run *r)
{
    json_t *dl = ct_cloud__data(r, "download"), *img = NULL, *reply = NULL;
    const char *id = ct_cloud__str(ct_cloud__data(r, "image"), "id");
    char path[256];
    long st;
    int rc;

    if (id == NULL) {
        char uuid[37];
        if ((rc = ct_cloud__uuid(uuid)) < 0 ||
            (rc = ct_cloud__record(r, "image", json_pack("{s:s}", "id", uuid))) < 0)
            return rc;
        id = ct_cloud__str(ct_cloud__data(r, "image"), "id");
    }
    snprintf(path, sizeof(path), "v2/images/%s", id);
    st = ct_cloud_call(&img, r->b, CT_CLOUD_IMAGE, "GET", path, NULL, NULL);
    if (st == 404) {
        json_decref(img);
        img = NULL;
        if ((rc = image_create(r, id)) < 0)
            return rc;
        st = ct_cloud_call(&img, r->b, CT_CLOUD_IMAGE, "GET", path, NULL, NULL);
    }
    if (st != 200) {
        rc = ct_cloud__http_error(st, img, "cloud B: image %s", id);
        json_decref(img);
        return rc;
    }
    /* A resumed upload: bytes that did not all arrive leave the image
     * queued again (Glance), so only "queued" uploads. */
    if (ct_cloud__str_eq(json_object_get(img, "status"), "queued")) {
        snprintf(path, sizeof(path), "v2/images/%s/file", id);
        st = ct_cloud_upload(r->b, CT_CLOUD_IMAGE, path, ct_cloud__str(dl, "file"));
        if (st != 204) {
            json_decref(img);
            return ct_cloud__http_error(st, NULL, "cloud B: upload to image %s", id);
        }
    }
    json_decref(img);
    snprintf(path, sizeof(path), "v2/images/%s", id);
    if ((rc = ct_cloud__wait(&img, r->b, CT_CLOUD_IMAGE, path, NULL, "active",
                             "killed,deleted,pending_delete,queued", r->m->wait_s)) < 0)
        return ct_error_set(rc, "cloud B: image: %s", ct_error_last());
    if (json_integer_value(json_object_get(img, "size")) !=
            json_integer_value(json_object_get(dl, "size")) ||
        !ct_cloud__str_eq(json_object_get(img, "checksum"), ct_cloud__str(dl, "md5"))) {
        rc = ct_error_set(CT_EIO, "cloud B: image %s holds other bytes than A's snapshot", id);
        json_decref(img);
        return rc;
    }
    rc = ct_cloud__record(r, "image",
                          json_pack("{s:s,s:s,s:O,s:s,s:s?}", "id", id, "name", r->spec->image_name,
                                    "size", json_object_get(img, "size"), "checksum",
                                    ct_cloud__str(img, "checksum"), "visibility",
                                    ct_cloud__str(img, "visibility")));
    json_decref(img);
    json_decref(reply);
    return rc;
}

/* ---------------------------------------------------------------- run and reset */

typedef int (*step_fn)(ct_cloud__run *r);

static const step_fn steps[CT_CLOUD_STEPS + 1] = {
    NULL,
    step_login_a,
    step_snapshot,
    step_download,
    step_login_b,
    step_upload,
    ct_cloud__step_keypair,
    ct_cloud__step_launch,
    ct_cloud__step_floating_ip,
    ct_cloud__step_overview,
};

static int run_init(ct_cloud__run *r, ct_cloud_mig *m, const char *id, ct_cloud_progress_fn cb,
                    void *payload)
{
    int rc;

    memset(r, 0, sizeof(*r));
    r->m = m;
    r->cb = cb;
    snprintf(r->marker, sizeof(r->marker), "catena-migration-%s", id);
    r->payload = payload;
    if ((rc = ct_cloud__rec_load(&r->rec, m, id)) < 0)
        return rc;
    if ((rc = ct_cloud__image_path(r->img_path, sizeof(r->img_path), m, id)) < 0)
        return rc;
    return 0;
}

static void run_free(ct_cloud__run *r)
{
    ct_cloud_free(r->a);
    ct_cloud_free(r->b);
    ct_cloud_spec_free(r->spec);
    ct_cloud__rec_free(&r->rec);
}

/* Saves the run's end: done (the downloaded image removed) or failed with
 * the error. The spec stays until a reset: its logins undo the run. */
static int run_end(ct_cloud__run *r, int rc)
{
    char error[1024];
    int step = r->at;

    if (rc == 0) {
        snprintf(r->rec.status, sizeof(r->rec.status), "done");
        unlink(r->img_path);
        return ct_cloud__rec_save(r->m, &r->rec, NULL, false);
    }
    snprintf(error, sizeof(error), "%s", ct_error_last());
    snprintf(r->rec.status, sizeof(r->rec.status), "failed");
    ct_cloud__report(r, step, "failed", "%s", error);
    ct_cloud__rec_save(r->m, &r->rec, error, false);
    return ct_error_set(rc, "%s", error);
}

/* Keeps how long step s took (the last run of it) under "step_ms". */
static void step_time(ct_cloud__run *r, int s, int64_t ms)
{
    json_t *t = ct_cloud__data(r, "step_ms");

    if (t == NULL) {
        json_object_set_new(r->rec.data, "step_ms", json_object());
        t = ct_cloud__data(r, "step_ms");
    }
    json_object_set_new(t, ct_cloud_step_name(s), json_integer(ms));
}

int ct_cloud_mig_run(ct_cloud_mig *m, const char *id, const ct_cloud_ledger *ledger,
                     ct_cloud_progress_fn cb, void *payload)
{
    ct_cloud__run r;
    int rc;

    if ((rc = ct_cloud__rec_claim(m, id, "new,failed")) < 0)
        return rc;
    if ((rc = run_init(&r, m, id, cb, payload)) < 0)
        goto done;
    r.ledger = ledger;
    if (json_is_true(ct_cloud__data(&r, "resetting"))) {
        rc = ct_error_set(CT_ESTATE, "a reset of migration '%s' did not finish: reset it", id);
        goto end;
    }
    if (r.rec.spec == NULL) {
        rc = ct_error_set(CT_ESTATE, "migration '%s' has no spec left", id);
        goto end;
    }
    if ((rc = ct_cloud_spec_parse(&r.spec, NULL, r.rec.spec, strlen(r.rec.spec), r.rec.name)) < 0)
        goto end;
    ct_cloud__report(&r, 0, "start", "logging in and checking the spec against both clouds");
    if ((rc = ct_cloud__connect(&r)) < 0 || (rc = ct_cloud__check(&r)) < 0 ||
        (rc = ct_cloud__ledger_intent(&r)) < 0)
        goto end;
    ct_cloud__report(&r, 0, "done", NULL);
    for (int s = r.rec.step + 1; s <= CT_CLOUD_STEPS; s++) {
        int64_t t0 = ct_time_mono_ms();
        r.at = s;
        ct_cloud__report(&r, s, "start", NULL);
        if ((rc = steps[s](&r)) < 0)
            goto end;
        r.rec.step = s;
        step_time(&r, s, ct_time_mono_ms() - t0);
        if ((rc = ct_cloud__rec_save(m, &r.rec, NULL, false)) < 0)
            goto end;
        ct_cloud__report(&r, s, "done", NULL);
    }
end:
    rc = run_end(&r, rc);
done:
    run_free(&r);
    return rc;
}

int ct_cloud_mig_reset(ct_cloud_mig *m, const char *id, ct_cloud_progress_fn cb, void *payload)
{
    ct_cloud__run r;
    int rc;

    if ((rc = ct_cloud__rec_claim(m, id, "new,failed,done,reset,resetting")) < 0)
        return rc;
    if ((rc = run_init(&r, m, id, cb, payload)) < 0 ||
        (rc = ct_cloud__record(&r, "resetting", json_true())) < 0)
        goto done;
    rc = ct_cloud__undo(&r);
    if (rc == 0)
        json_object_del(r.rec.data, "resetting");
    unlink(r.img_path);
    /* A reset that stopped half way can only be reset again. */
    snprintf(r.rec.status, sizeof(r.rec.status), "%s", rc == 0 ? "reset" : "resetting");
    if (ct_cloud__rec_save(m, &r.rec, rc == 0 ? NULL : ct_error_last(), rc == 0) < 0 && rc == 0)
        rc = CT_EIO;
done:
    run_free(&r);
    return rc;
}
