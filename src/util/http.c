/* One JSON-over-HTTP request with libcurl, for clients of the gateway
 * (the CLI, `catena up`, tests and benchmarks). */
#include "catena/util.h"

#include <stdio.h>

#include <curl/curl.h>

static size_t on_body(char *data, size_t size, size_t nmemb, void *payload)
{
    return ct_buf_append(payload, data, size * nmemb) == 0 ? size * nmemb : 0;
}

int ct_http_request(long *status, json_t **out, const char *method, const char *url,
                    const char *token, const char *body, int timeout_ms)
{
    return ct_http_request_idem(status, out, method, url, token, NULL, body, timeout_ms);
}

int ct_http_request_idem(long *status, json_t **out, const char *method, const char *url,
                         const char *token, const char *idem_key, const char *body, int timeout_ms)
{
    char key[600];
    const char *headers[2] = {key, NULL};

    if (idem_key != NULL)
        snprintf(key, sizeof(key), "Idempotency-Key: %s", idem_key);
    return ct_http_request_with(status, out, method, url, token, idem_key ? headers : NULL, body,
                                timeout_ms);
}

int ct_http_request_with(long *status, json_t **out, const char *method, const char *url,
                         const char *token, const char *const *headers, const char *body,
                         int timeout_ms)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char auth[600];
    ct_buf buf;
    CURLcode cc;

    *out = NULL;
    *status = 0;
    if (c == NULL)
        return ct_error_set(CT_ENOMEM, "http: out of memory");
    ct_buf_init(&buf, 64u << 20);
    h = curl_slist_append(h, "Content-Type: application/json");
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        h = curl_slist_append(h, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
    if (body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (cc == CURLE_OK && buf.len > 0 && ct_json_parse(out, buf.data, buf.len, 64) < 0)
        *out = NULL;
    ct_buf_free(&buf);
    if (cc != CURLE_OK)
        return ct_error_set(CT_EIO, "%s: %s", url, curl_easy_strerror(cc));
    return 0;
}

long ct_http_json(json_t **out, const char *method, const char *base, const char *path,
                  const json_t *body, int timeout_ms)
{
    char url[512], *text = body != NULL ? ct_json_dumps(body, JSON_COMPACT) : NULL;
    json_t *got = NULL;
    long status = 0;

    snprintf(url, sizeof(url), "%s%s", base, path);
    if ((body == NULL || text != NULL) &&
        ct_http_request(&status, &got, method, url, NULL, text, timeout_ms) < 0)
        status = 0;
    ct_error_clear();
    free(text);
    if (out != NULL)
        *out = got;
    else
        json_decref(got);
    return status;
}
