/* A small JSON-over-HTTP client for the CLI commands that talk to a
 * gateway (`catena dc|vc ...`, `catena up`). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "catena/util.h"

static size_t on_body(char *data, size_t size, size_t nmemb, void *payload)
{
    return ct_buf_append(payload, data, size * nmemb) == 0 ? size * nmemb : 0;
}

int cli_http(long *status, json_t **out, const char *method, const char *url, const char *token,
             const json_t *body)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char *text = NULL, auth[600];
    ct_buf buf;
    CURLcode cc;
    int rc = 0;

    if (c == NULL)
        return ct_error_set(CT_ENOMEM, "http: out of memory");
    ct_buf_init(&buf, 16u << 20);
    h = curl_slist_append(h, "Content-Type: application/json");
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
    if (body != NULL) {
        if (ct_json_dump(&text, body) < 0) {
            rc = CT_ENOMEM;
            goto done;
        }
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    }
    if ((cc = curl_easy_perform(c)) != CURLE_OK) {
        rc = ct_error_set(CT_EIO, "%s: %s", url, curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (ct_json_parse(out, buf.data ? buf.data : "", buf.len, 64) < 0)
        rc = ct_error_set(CT_EPARSE, "%s answered HTTP %ld with a body that is not JSON", url,
                          *status);
done:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    ct_buf_free(&buf);
    free(text);
    return rc;
}
