/* Requests the migration steps make to Nova, Glance and Neutron, with the
 * clouds' error replies turned into ct_err codes and messages, and the
 * waits for an image or a server to become ready. */
#include "cloud_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "catena/crypto.h"

/* The message inside an OpenStack error reply: {"message": ...},
 * {"itemNotFound": {"message": ...}}, {"NeutronError": {"message": ...}}. */
static const char *reply_message(const json_t *j)
{
    const char *key;
    json_t *v;

    if (ct_cloud__str(j, "message") != NULL)
        return ct_cloud__str(j, "message");
    json_object_foreach ((json_t *)j, key, v) {
        if (json_is_object(v) && ct_cloud__str(v, "message") != NULL)
            return ct_cloud__str(v, "message");
    }
    return "no explanation";
}

int ct_cloud__http_error(long status, const json_t *reply, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    int code;

    if (status < 0)
        return (int)status;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    code = status == 401 || status == 403   ? CT_EAUTH
           : status == 404                  ? CT_ENOTFOUND
           : status == 409                  ? CT_EEXIST
           : status == 400 || status == 413 ? CT_EINVAL
                                            : CT_EIO;
    return ct_error_set(code, "%s: HTTP %ld: %s", what, status, reply_message(reply));
}

long ct_cloud__req(json_t **out, ct_cloud *c, ct_cloud_service s, const char *method,
                   const json_t *body, const char *fmt, ...)
{
    char path[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return ct_cloud_call(out, c, s, method, path, body, NULL);
}

int ct_cloud__uuid(char out[37])
{
    uint8_t b[16];
    int rc;

    if ((rc = ct_random(b, sizeof(b))) < 0)
        return rc;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

json_t *ct_cloud__list(json_t **reply, ct_cloud *c, ct_cloud_service s, const char *member,
                       const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    long st;
    json_t *items;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    *reply = NULL;
    st = ct_cloud_call(reply, c, s, "GET", path, NULL, NULL);
    items = json_object_get(*reply, member);
    if (st == 200 && json_is_array(items))
        return items;
    if (st == 200)
        ct_error_set(CT_EIO, "GET %s: the answer has no '%s' list", path, member);
    else
        ct_cloud__http_error(st, *reply, "GET %s", path);
    json_decref(*reply);
    *reply = NULL;
    return NULL;
}

char *ct_cloud__escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0), *copy;

    if (e == NULL)
        return NULL;
    copy = strdup(e);
    curl_free(e);
    return copy;
}

static void nap_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

int ct_cloud_wait_gone(ct_cloud *c, ct_cloud_service s, const char *path, int wait_s)
{
    int64_t deadline = ct_time_mono_ms() + (int64_t)wait_s * 1000;

    for (;;) {
        json_t *reply = NULL;
        long st = ct_cloud_call(&reply, c, s, "GET", path, NULL, NULL);
        json_decref(reply);
        if (st == 404)
            return 0;
        if (st < 0)
            return (int)st;
        if (ct_time_mono_ms() > deadline)
            return ct_error_set(CT_ETIMEOUT, "%s is still there after %d s", path, wait_s);
        nap_ms(300);
    }
}

int ct_cloud__wait(json_t **out, ct_cloud *c, ct_cloud_service s, const char *path,
                   const char *member, const char *ready, const char *failed, int wait_s)
{
    int64_t deadline = ct_time_mono_ms() + (int64_t)wait_s * 1000;
    int pause = 200;
    long st;

    *out = NULL;
    for (;;) {
        json_t *j = NULL, *o;
        const char *state;
        st = ct_cloud_call(&j, c, s, "GET", path, NULL, NULL);
        if (st != 200) {
            int rc = ct_cloud__http_error(st, j, "GET %s", path);
            json_decref(j);
            return rc;
        }
        o = member != NULL ? json_object_get(j, member) : j;
        state = ct_cloud__str(o, "status");
        if (state != NULL && ct_cloud__word_in(state, ready)) {
            *out = json_incref(o);
            json_decref(j);
            return 0;
        }
        if (state != NULL && ct_cloud__word_in(state, failed)) {
            const char *why = ct_cloud__str(json_object_get(o, "fault"), "message");
            int rc =
                ct_error_set(CT_EIO, "%s is %s%s%s", path, state, why ? ": " : "", why ? why : "");
            json_decref(j);
            return rc;
        }
        json_decref(j);
        if (ct_time_mono_ms() + pause > deadline)
            return ct_error_set(CT_ETIMEOUT, "%s: still %s after %d s", path,
                                state ? state : "without a status", wait_s);
        nap_ms(pause);
        pause = pause < 1000 ? pause * 2 : 1000;
    }
}
