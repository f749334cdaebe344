/* Thread-local error codes and messages (libgit2's git_error_set), so the
 * library can say exactly what was wrong without printing. */
#include "catena/util.h"

#include <stdio.h>
#include <string.h>

#define CT_ERROR_MSG_SIZE 512

static _Thread_local int err_code;
static _Thread_local char err_msg[CT_ERROR_MSG_SIZE];

int ct_error_vset(int code, const char *fmt, va_list ap)
{
    char msg[CT_ERROR_MSG_SIZE];

    /* Formatted aside first: callers may pass ct_error_last() itself as an
     * argument ("...: %s", ct_error_last()). */
    vsnprintf(msg, sizeof(msg), fmt, ap);
    memcpy(err_msg, msg, sizeof(err_msg));
    err_code = code;
    return code;
}

int ct_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ct_error_vset(code, fmt, ap);
    va_end(ap);
    return code;
}

/* Appends src at offset at of err_msg, cutting it short at the end of
 * the slot. Returns: the new length. */
static size_t append_cut(char *dst, size_t at, const char *src)
{
    size_t room = CT_ERROR_MSG_SIZE - 1 - at;
    size_t n = strnlen(src, room);

    memcpy(dst + at, src, n);
    dst[at + n] = '\0';
    return at + n;
}

int ct_error_wrap(const char *fmt, ...)
{
    char prefix[CT_ERROR_MSG_SIZE];
    char old[CT_ERROR_MSG_SIZE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err_msg, sizeof(old));
    size_t n = append_cut(err_msg, 0, prefix);
    n = append_cut(err_msg, n, ": ");
    append_cut(err_msg, n, old);
    return err_code;
}

const char *ct_error_last(void)
{
    return err_msg;
}

int ct_error_code(void)
{
    return err_code;
}

void ct_error_clear(void)
{
    err_code = CT_OK;
    err_msg[0] = '\0';
}

const char *ct_strerror(int code)
{
    switch (code) {
    case CT_OK: return "success";
    case CT_ENOMEM: return "out of memory";
    case CT_EINVAL: return "invalid argument";
    case CT_EPARSE: return "parse error";
    case CT_ENOTFOUND: return "not found";
    case CT_EIO: return "i/o error";
    case CT_ETIMEOUT: return "timed out";
    case CT_ERPC: return "rpc error";
    case CT_EREVERT: return "reverted";
    case CT_ERANGE: return "out of range";
    case CT_ELIMIT: return "limit exceeded";
    case CT_EEXIST: return "already exists";
    case CT_EAUTH: return "not authorised";
    case CT_ECRYPTO: return "cryptographic failure";
    case CT_ESTATE: return "invalid state";
    case CT_EBEHIND: return "node behind";
    default: return "unknown error";
    }
}
