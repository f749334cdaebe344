/* The library's log sink: the program decides where messages go; the
 * library only formats them (STYLE.md, "the library never prints"). */
#include "catena/util.h"

#include <stdio.h>
#include <string.h>

static int log_level = CT_LOG_INFO;
static ct_log_cb log_cb;
static void *log_payload;

void ct_log_set(int level, ct_log_cb cb, void *payload)
{
    log_level = level;
    log_cb = cb;
    log_payload = payload;
}

bool ct_log_enabled(int level)
{
    return log_cb != NULL && level <= log_level;
}

void ct_log(int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!ct_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_cb(level, msg, log_payload);
}

void ct_log_file_end(int level, const char *what, const char *path)
{
    char text[701];
    long n;

    if (!ct_log_enabled(level) || (n = ct_file_tail(text, sizeof(text), path)) < 0)
        return;
    for (long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            text[i] = '?';
    }
    ct_log(level, "%s (%s) ends:\n%s", what, path, text);
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

const char *ct_log_level_name(int level)
{
    if (level < CT_LOG_ERROR || level > CT_LOG_DEBUG)
        return "unknown";
    return level_names[level];
}

int ct_log_level_parse(int *out, const char *name)
{
    for (int i = CT_LOG_ERROR; i <= CT_LOG_DEBUG; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return ct_error_set(CT_EINVAL, "unknown log level '%s' (error, warn, info, debug)", name);
}
