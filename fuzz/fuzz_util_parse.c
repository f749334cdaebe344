/* Fuzz target for util's parsers of untrusted text: hex, ISO 8601 time,
 * numbers and bounded JSON. Round trips must hold where parsing succeeds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catena/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_time(const char *s)
{
    int64_t ms, again;
    char out[CT_TIME_ISO8601_SIZE];

    if (ct_time_parse(&ms, s) == 0 && ct_time_format(out, ms) == 0) {
        if (ct_time_parse(&again, out) != 0 || again != ms)
            abort();
    }
}

static void check_hex(const char *s, size_t n)
{
    uint8_t bytes[512];
    char back[1100];
    size_t len;

    if (ct_hex_decode(bytes, sizeof(bytes), &len, s, n) == 0) {
        if (ct_hex_encode(back, sizeof(back), bytes, len, false) != 0)
            abort();
        if (strlen(back) != 2 * len)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    json_t *v = NULL;
    uint64_t u;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_time(s);
    check_hex(s, strlen(s));
    ct_parse_uint(&u, s, UINT64_MAX);
    if (ct_json_parse(&v, s, size, CT_JSON_MAX_DEPTH) == 0) {
        char *text;
        if (ct_json_depth(v) > CT_JSON_MAX_DEPTH)
            abort();
        if (ct_json_dump(&text, v) == 0)
            free(text);
        json_decref(v);
    }
    free(s);
    return 0;
}
