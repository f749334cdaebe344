/* Whole-file reads with a size cap, and atomic writes (temp + rename), so a
 * crash never leaves a half-written config or keystore. */
#include "catena/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ct_file_read(char **out, size_t *out_len, const char *path, size_t max)
{
    ct_buf b;
    char chunk[8192];
    int fd, rc = 0;
    ssize_t n;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ct_error_set(errno == ENOENT ? CT_ENOTFOUND : CT_EIO, "%s: %s", path,
                            strerror(errno));
    ct_buf_init(&b, max);
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = ct_error_set(CT_EIO, "%s: %s", path, strerror(errno));
            break;
        }
        if ((rc = ct_buf_append(&b, chunk, (size_t)n)) < 0) {
            ct_error_wrap("%s", path);
            break;
        }
    }
    close(fd);
    if (rc < 0) {
        ct_buf_free(&b);
        return rc;
    }
    if (out_len != NULL)
        *out_len = b.len;
    *out = ct_buf_detach(&b);
    return *out ? 0 : ct_error_set(CT_ENOMEM, "%s: out of memory", path);
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Syncs the directory holding path, so a rename into it survives a crash. */
static void sync_parent_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int fd;

    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if ((size_t)(slash - path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    else
        return;
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* The temporary file is made by mkostemp (O_EXCL, a random name), so a
 * file or symlink planted at a guessable name is never written through. */
int ct_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
    char tmp[4096];
    int fd, n;

    n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return ct_error_set(CT_EINVAL, "path too long: %.64s...", path);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return ct_error_set(CT_EIO, "%s: %s", tmp, strerror(errno));
    if (fchmod(fd, (mode_t)mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return ct_error_set(CT_EIO, "%s: %s", path, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return ct_error_set(CT_EIO, "%s: %s", path, strerror(e));
    }
    sync_parent_dir(path);
    return 0;
}

long ct_file_tail(char *buf, size_t size, const char *path)
{
    FILE *f = path != NULL && size > 0 ? fopen(path, "rbe") : NULL;
    size_t n;

    if (f == NULL)
        return -1;
    if (fseek(f, -(long)(size - 1), SEEK_END) != 0)
        rewind(f); /* shorter than that */
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}
