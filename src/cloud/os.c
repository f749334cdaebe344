/* An OpenStack session: Keystone v3 password login, the service catalog,
 * and JSON or streamed requests to Nova, Glance and Neutron with libcurl.
 * Tokens are re-issued once when a service answers 401. */
#include "cloud_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

/* Nova's microversion: 2.79 embeds the flavor in a server and answers
 * createImage with the image id (Zed serves up to 2.93). */
#define NOVA_VERSION "2.79"
/* Most bytes of a JSON reply kept (a large server or image list). */
#define REPLY_MAX (32u << 20)

static const char *const service_type[CT_CLOUD_N_SERVICES] = {"compute", "image", "network"};

struct ct_cloud {
    ct_cloud_auth auth;
    int timeout_ms;
    char *token;
    char *project_id;
    char *user_id;
    char *endpoint[CT_CLOUD_N_SERVICES];
    CURL *curl;
};

/* ---------------------------------------------------------------- one request */

struct exchange {
    ct_buf reply;      /* a JSON reply */
    int fd;            /* or the file a download streams into (>= 0) */
    EVP_MD_CTX *md5;   /* of the download */
    uint64_t got;      /* bytes downloaded */
    bool write_failed; /* the file could not take them */
    char *subject;     /* X-Subject-Token of a login */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *payload)
{
    struct exchange *x = payload;
    size_t n = size * nmemb;

    if (x->fd < 0)
        return ct_buf_append(&x->reply, data, n) == 0 ? n : 0;
    for (size_t off = 0; off < n;) {
        ssize_t w = write(x->fd, data + off, n - off);
        if (w <= 0) {
            x->write_failed = true;
            return 0;
        }
        off += (size_t)w;
    }
    EVP_DigestUpdate(x->md5, data, n);
    x->got += n;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *payload)
{
    struct exchange *x = payload;
    size_t n = size * nmemb;
    static const char key[] = "x-subject-token:";

    if (n > sizeof(key) - 1 && strncasecmp(data, key, sizeof(key) - 1) == 0 && x->subject == NULL) {
        const char *v = data + sizeof(key) - 1;
        size_t len = n - (sizeof(key) - 1);
        while (len > 0 && (*v == ' ' || *v == '\t'))
            v++, len--;
        while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
            len--;
        x->subject = strndup(v, len);
    }
    return n;
}

/* What one request carries beside its method and URL. */
struct request {
    const char *token;
    const char *content_type;
    const char *body; /* or */
    FILE *upload;
    curl_off_t upload_size;
    bool nova;
};

static long perform(CURL *c, const char *method, const char *url, const struct request *r,
                    struct exchange *x, int timeout_ms)
{
    struct curl_slist *h = NULL;
    char line[4200];
    long status = 0;
    CURLcode cc;

    curl_easy_reset(c);
    if (r->token != NULL) {
        snprintf(line, sizeof(line), "X-Auth-Token: %s", r->token);
        h = curl_slist_append(h, line);
    }
    snprintf(line, sizeof(line), "Content-Type: %s",
             r->content_type ? r->content_type : "application/json");
    h = curl_slist_append(h, line);
    h = curl_slist_append(h, "Accept: application/json");
    h = curl_slist_append(h, "Expect:");
    if (r->nova) {
        h = curl_slist_append(h, "OpenStack-API-Version: compute " NOVA_VERSION);
        h = curl_slist_append(h, "X-OpenStack-Nova-API-Version: " NOVA_VERSION);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    /* A transfer may be long (an image); it fails when it stalls. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)(timeout_ms + 999) / 1000);
    if (r->upload == NULL && x->fd < 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    if (r->upload != NULL) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READDATA, r->upload);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, r->upload_size);
    } else if (r->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
    }
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return ct_error_set(CT_ETIMEOUT, "%s %s: no answer in time", method, url);
    if (cc == CURLE_WRITE_ERROR && x->write_failed)
        return ct_error_set(CT_EIO, "%s %s: cannot write the download", method, url);
    if (cc != CURLE_OK)
        return ct_error_set(CT_EIO, "%s %s: %s", method, url, curl_easy_strerror(cc));
    return status;
}

static void exchange_init(struct exchange *x)
{
    memset(x, 0, sizeof(*x));
    x->fd = -1;
    ct_buf_init(&x->reply, REPLY_MAX);
}

static void exchange_free(struct exchange *x)
{
    ct_buf_free(&x->reply);
    if (x->subject != NULL)
        explicit_bzero(x->subject, strlen(x->subject));
    free(x->subject);
    if (x->md5 != NULL)
        EVP_MD_CTX_free(x->md5);
}

/* ---------------------------------------------------------------- login */

static int catalog_read(ct_cloud *c, json_t *catalog)
{
    size_t i, j;
    json_t *svc, *ep;

    for (int s = 0; s < CT_CLOUD_N_SERVICES; s++) {
        json_array_foreach (catalog, i, svc) {
            if (!ct_cloud__str_eq(json_object_get(svc, "type"), service_type[s]))
                continue;
            json_array_foreach (json_object_get(svc, "endpoints"), j, ep) {
                const char *region = json_string_value(json_object_get(ep, "region_id"));
                if (!ct_cloud__str_eq(json_object_get(ep, "interface"), c->auth.interface))
                    continue;
                if (c->auth.region != NULL && (region == NULL || strcmp(region, c->auth.region)))
                    continue;
                free(c->endpoint[s]);
                if ((c->endpoint[s] =
                         ct_cloud__dup_url(json_string_value(json_object_get(ep, "url")))) == NULL)
                    return ct_error_set(CT_ENOMEM, "cloud: out of memory");
                break;
            }
        }
        if (c->endpoint[s] == NULL)
            return ct_error_set(CT_ENOTFOUND, "%s: no %s %s endpoint in the catalog", c->auth.name,
                                c->auth.interface, service_type[s]);
    }
    return 0;
}

static json_t *login_body(const ct_cloud_auth *a)
{
    return json_pack("{s:{s:{s:[s],s:{s:{s:s,s:{s:s},s:s}}},s:{s:{s:s,s:{s:s}}}}}", "auth",
                     "identity", "methods", "password", "password", "user", "name", a->username,
                     "domain", "name", a->user_domain, "password", a->password, "scope", "project",
                     "name", a->project_name, "domain", "name", a->project_domain);
}

static int login(ct_cloud *c)
{
    struct request r = {0};
    struct exchange x;
    json_t *body = login_body(&c->auth), *reply = NULL, *tok;
    char url[1024];
    long status;
    int rc = 0;

    if (body == NULL)
        return ct_error_set(CT_ENOMEM, "cloud: out of memory");
    snprintf(url, sizeof(url), "%s/auth/tokens", c->auth.auth_url);
    r.body = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    exchange_init(&x);
    status = r.body ? perform(c->curl, "POST", url, &r, &x, c->timeout_ms) : CT_ENOMEM;
    if (r.body != NULL)
        explicit_bzero((char *)r.body, strlen(r.body));
    free((char *)r.body);
    if (status < 0) {
        rc = (int)status;
        goto done;
    }
    if (status == 401 || status == 403) {
        rc = ct_error_set(CT_EAUTH, "%s: Keystone refused the login of '%s' to project '%s'",
                          c->auth.name, c->auth.username, c->auth.project_name);
        goto done;
    }
    if (status != 201 || x.subject == NULL ||
        ct_json_parse(&reply, x.reply.data, x.reply.len, 64) < 0) {
        rc = ct_error_set(CT_EIO, "%s: login answered HTTP %ld", c->auth.name, status);
        goto done;
    }
    tok = json_object_get(reply, "token");
    free(c->token);
    free(c->project_id);
    free(c->user_id);
    c->token = x.subject;
    x.subject = NULL;
    c->project_id =
        ct_cloud__dup(json_string_value(json_object_get(json_object_get(tok, "project"), "id")));
    c->user_id =
        ct_cloud__dup(json_string_value(json_object_get(json_object_get(tok, "user"), "id")));
    if (c->project_id == NULL || c->user_id == NULL)
        rc = ct_error_set(CT_EIO, "%s: the token names no project or user", c->auth.name);
    else
        rc = catalog_read(c, json_object_get(tok, "catalog"));
done:
    json_decref(reply);
    exchange_free(&x);
    return rc;
}

static int auth_copy(ct_cloud_auth *dst, const ct_cloud_auth *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->name = ct_cloud__dup(src->name);
    dst->auth_url = ct_cloud__dup_url(src->auth_url);
    dst->username = ct_cloud__dup(src->username);
    dst->password = ct_cloud__dup(src->password);
    dst->project_name = ct_cloud__dup(src->project_name);
    dst->user_domain = strdup(src->user_domain ? src->user_domain : "Default");
    dst->project_domain = strdup(src->project_domain ? src->project_domain : "Default");
    dst->region = ct_cloud__dup(src->region);
    dst->interface = strdup(src->interface ? src->interface : "public");
    if (dst->name == NULL || dst->auth_url == NULL || dst->username == NULL ||
        dst->password == NULL || dst->project_name == NULL || dst->user_domain == NULL ||
        dst->project_domain == NULL || dst->interface == NULL ||
        (src->region != NULL && dst->region == NULL))
        return ct_error_set(CT_ENOMEM, "cloud: out of memory");
    return 0;
}

int ct_cloud_connect(ct_cloud **out, const ct_cloud_auth *a, int timeout_ms)
{
    ct_cloud *c;
    int rc;

    *out = NULL;
    assert(a->auth_url != NULL && a->username != NULL && a->password != NULL &&
           a->project_name != NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return ct_error_set(CT_ENOMEM, "cloud: out of memory");
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
    if ((rc = auth_copy(&c->auth, a)) < 0)
        goto fail;
    if ((c->curl = curl_easy_init()) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "cloud: out of memory");
        goto fail;
    }
    if ((rc = login(c)) < 0)
        goto fail;
    *out = c;
    return 0;
fail:
    ct_cloud_free(c);
    return rc;
}

void ct_cloud_free(ct_cloud *c)
{
    if (c == NULL)
        return;
    ct_cloud_auth_free(&c->auth);
    if (c->token != NULL)
        explicit_bzero(c->token, strlen(c->token));
    free(c->token);
    free(c->project_id);
    free(c->user_id);
    for (int s = 0; s < CT_CLOUD_N_SERVICES; s++)
        free(c->endpoint[s]);
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    free(c);
}

const char *ct_cloud_project_id(const ct_cloud *c)
{
    return c->project_id;
}

const char *ct_cloud_user_id(const ct_cloud *c)
{
    return c->user_id;
}

const char *ct_cloud_endpoint(const ct_cloud *c, ct_cloud_service s)
{
    return c->endpoint[s];
}

const char *ct_cloud_token(const ct_cloud *c)
{
    return c->token;
}

/* ---------------------------------------------------------------- service requests */

/* Sends r to a service, logging in again once on a 401 (an expired
 * token). An upload is rewound before the second try. */
static long service(ct_cloud *c, ct_cloud_service s, const char *method, const char *path,
                    struct request *r, struct exchange *x)
{
    char url[2048];
    long status;
    int rc;

    snprintf(url, sizeof(url), "%s/%s", c->endpoint[s], path[0] == '/' ? path + 1 : path);
    r->nova = s == CT_CLOUD_COMPUTE;
    for (int attempt = 0;; attempt++) {
        r->token = c->token;
        status = perform(c->curl, method, url, r, x, c->timeout_ms);
        if (status != 401 || attempt > 0)
            return status;
        if ((rc = login(c)) < 0)
            return rc;
        ct_buf_reset(&x->reply);
        if (r->upload != NULL)
            rewind(r->upload);
        if (x->fd >= 0) {
            if (ftruncate(x->fd, 0) != 0 || lseek(x->fd, 0, SEEK_SET) != 0)
                return ct_error_set(CT_EIO, "cloud: cannot restart the download");
            EVP_DigestInit_ex(x->md5, EVP_md5(), NULL);
            x->got = 0;
        }
    }
}

long ct_cloud_call(json_t **out, ct_cloud *c, ct_cloud_service s, const char *method,
                   const char *path, const json_t *body, const char *content_type)
{
    struct request r = {.content_type = content_type};
    struct exchange x;
    long status;

    *out = NULL;
    if (body != NULL && (r.body = json_dumps(body, JSON_COMPACT)) == NULL)
        return ct_error_set(CT_ENOMEM, "cloud: out of memory");
    exchange_init(&x);
    status = service(c, s, method, path, &r, &x);
    if (status > 0 && x.reply.len > 0 && ct_json_parse(out, x.reply.data, x.reply.len, 64) < 0) {
        *out = NULL;
        /* Glance and Keystone explain some refusals in plain text. */
        if (status >= 400)
            *out = json_pack("{s:s%}", "message", x.reply.data,
                             x.reply.len < 400 ? x.reply.len : (size_t)400);
    }
    free((char *)r.body);
    exchange_free(&x);
    return status;
}

long ct_cloud_download(ct_cloud *c, ct_cloud_service s, const char *path, const char *dest,
                       uint64_t *size, char md5[33])
{
    struct request r = {0};
    struct exchange x;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dn = 0;
    long status;

    *size = 0;
    md5[0] = '\0';
    exchange_init(&x);
    if ((x.md5 = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(x.md5, EVP_md5(), NULL)) {
        exchange_free(&x);
        return ct_error_set(CT_ENOMEM, "cloud: out of memory");
    }
    if ((x.fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        exchange_free(&x);
        return ct_error_set(CT_EIO, "%s: %s", dest, strerror(errno));
    }
    status = service(c, s, "GET", path, &r, &x);
    if (status > 0 && fsync(x.fd) != 0)
        status = ct_error_set(CT_EIO, "%s: %s", dest, strerror(errno));
    close(x.fd);
    if (status > 0) {
        EVP_DigestFinal_ex(x.md5, d, &dn);
        ct_hex_encode(md5, 33, d, dn, false);
        *size = x.got;
    }
    exchange_free(&x);
    return status;
}

long ct_cloud_upload(ct_cloud *c, ct_cloud_service s, const char *path, const char *src)
{
    struct request r = {.content_type = "application/octet-stream"};
    struct exchange x;
    struct stat st;
    long status;

    if ((r.upload = fopen(src, "rbe")) == NULL)
        return ct_error_set(CT_EIO, "%s: %s", src, strerror(errno));
    if (fstat(fileno(r.upload), &st) != 0) {
        fclose(r.upload);
        return ct_error_set(CT_EIO, "%s: %s", src, strerror(errno));
    }
    r.upload_size = (curl_off_t)st.st_size;
    exchange_init(&x);
    status = service(c, s, "PUT", path, &r, &x);
    exchange_free(&x);
    fclose(r.upload);
    return status;
}
