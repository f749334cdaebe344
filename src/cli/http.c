/* The CLI's requests to a gateway (`catena dc|vc ...`, `catena up`). */
#include "cli.h"

#include <stdlib.h>

#include "catena/util.h"

int cli_http(long *status, json_t **out, const char *method, const char *url, const char *token,
             const json_t *body)
{
    char *text = NULL;
    int rc;

    if (body != NULL && ct_json_dump(&text, body) < 0)
        return CT_ENOMEM;
    rc = ct_http_request(status, out, method, url, token, text, 60000);
    free(text);
    if (rc == 0 && *out == NULL)
        rc = ct_error_set(CT_EPARSE, "%s answered HTTP %ld with a body that is not JSON", url,
                          *status);
    return rc;
}
