/* VM CPU traces for the simulator: the in-memory form, and the one part of
 * the simulator that reads files, loading a PlanetLab day (a directory with
 * one file per VM, one percentage per line) in sorted name order. */
#include "sim_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catena/util.h"

/* A trace file holds at most this many bytes ("100\n" per sample). */
#define MAX_FILE_BYTES ((size_t)CT_SIM_MAX_SAMPLES * 8)

int ct_sim_trace_new(ct_sim_trace **out, size_t n_vms, size_t n_samples)
{
    ct_sim_trace *t;

    if (n_vms == 0 || n_samples == 0 || n_vms > CT_SIM_MAX_VMS || n_samples > CT_SIM_MAX_SAMPLES)
        return ct_error_set(CT_EINVAL, "trace: %zu VMs x %zu samples is out of range", n_vms,
                            n_samples);
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ct_error_set(CT_ENOMEM, "trace: out of memory");
    t->n_vms = n_vms;
    t->n_samples = n_samples;
    t->data = calloc(n_vms * n_samples, 1);
    t->names = calloc(n_vms, sizeof(char *));
    if (t->data == NULL || t->names == NULL) {
        ct_sim_trace_free(t);
        return ct_error_set(CT_ENOMEM, "trace: out of memory");
    }
    *out = t;
    return 0;
}

void ct_sim_trace_free(ct_sim_trace *t)
{
    if (t == NULL)
        return;
    if (t->names != NULL)
        for (size_t i = 0; i < t->n_vms; i++)
            free(t->names[i]);
    free(t->names);
    free(t->data);
    free(t);
}

size_t ct_sim_trace_vms(const ct_sim_trace *t)
{
    return t->n_vms;
}

size_t ct_sim_trace_samples(const ct_sim_trace *t)
{
    return t->n_samples;
}

uint8_t *ct_sim_trace_data(ct_sim_trace *t, size_t vm)
{
    return t->data + vm * t->n_samples;
}

const uint8_t *ct_sim_trace_cdata(const ct_sim_trace *t, size_t vm)
{
    return t->data + vm * t->n_samples;
}

const char *ct_sim_trace_name(const ct_sim_trace *t, size_t vm)
{
    return t->names[vm] != NULL ? t->names[vm] : "";
}

/* ---------------------------------------------------------------- loading */

typedef struct name_list {
    char **v;
    size_t n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int names_push(name_list *l, const char *name)
{
    if (l->n == CT_SIM_MAX_VMS)
        return ct_error_set(CT_ELIMIT, "trace: more than %u files", CT_SIM_MAX_VMS);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return ct_error_set(CT_ENOMEM, "trace: out of memory");
        l->v = v;
        l->cap = cap;
    }
    if ((l->v[l->n] = strdup(name)) == NULL)
        return ct_error_set(CT_ENOMEM, "trace: out of memory");
    l->n++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the regular files of dir, sorted. */
static int list_files(name_list *out, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (d == NULL)
        return ct_error_set(errno == ENOENT || errno == ENOTDIR ? CT_ENOTFOUND : CT_EIO,
                            "trace: %s: %s", dir, strerror(errno));
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct stat sb;
        char path[4096];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
            rc = ct_error_set(CT_ELIMIT, "trace: path too long in %s", dir);
        else if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
            rc = names_push(out, e->d_name);
    }
    closedir(d);
    if (rc == 0 && out->n == 0)
        rc = ct_error_set(CT_ENOTFOUND, "trace: %s has no files", dir);
    if (rc == 0)
        qsort(out->v, out->n, sizeof(char *), cmp_names);
    return rc;
}

/* Parses one percentage per line into out (at most cap values).
 * Returns: the count, or a negative error naming name:line. */
static long parse_samples(uint8_t *out, size_t cap, const char *text, const char *name)
{
    long n = 0, line = 1;
    const char *p = text;

    while (*p != '\0') {
        unsigned v = 0;
        int digits = 0;
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p == '\n' || *p == '\0') {
            line += *p == '\n';
            p += *p == '\n';
            continue;
        }
        for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
            v = v * 10 + (unsigned)(*p - '0');
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (digits == 0 || v > 100 || (*p != '\n' && *p != '\0'))
            return ct_error_set(CT_EPARSE, "trace: %s:%ld: expected an integer 0..100", name, line);
        if ((size_t)n == cap)
            return ct_error_set(CT_ELIMIT, "trace: %s: more than %zu samples", name, cap);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Reads dir/name into a fresh buffer of samples. */
static long read_file(uint8_t **out, const char *dir, const char *name)
{
    char path[4096], *text = NULL;
    long n;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((rc = ct_file_read(&text, NULL, path, MAX_FILE_BYTES)) < 0)
        return ct_error_wrap("trace: %s", name);
    if ((*out = malloc(CT_SIM_MAX_SAMPLES)) == NULL) {
        free(text);
        return ct_error_set(CT_ENOMEM, "trace: out of memory");
    }
    n = parse_samples(*out, CT_SIM_MAX_SAMPLES, text, name);
    free(text);
    if (n == 0)
        n = ct_error_set(CT_EPARSE, "trace: %s: no samples", name);
    return n;
}

static int load_files(ct_sim_trace **out, const char *dir, name_list *names)
{
    ct_sim_trace *t = NULL;
    int rc = 0;

    for (size_t i = 0; i < names->n && rc == 0; i++) {
        uint8_t *buf = NULL;
        long n = read_file(&buf, dir, names->v[i]);
        if (n < 0)
            rc = (int)n;
        else if (t == NULL)
            rc = ct_sim_trace_new(&t, names->n, (size_t)n);
        else if ((size_t)n != t->n_samples)
            rc = ct_error_set(CT_EPARSE, "trace: %s has %ld samples, %s has %zu", names->v[i], n,
                              names->v[0], t->n_samples);
        if (rc == 0) {
            memcpy(ct_sim_trace_data(t, i), buf, t->n_samples);
            t->names[i] = names->v[i]; /* moved */
            names->v[i] = NULL;
        }
        free(buf);
    }
    if (rc < 0) {
        ct_sim_trace_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int ct_sim_trace_load(ct_sim_trace **out, const char *dir)
{
    name_list names = {0};
    int rc;

    if ((rc = list_files(&names, dir)) == 0)
        rc = load_files(out, dir, &names);
    names_free(&names);
    return rc;
}
