/* What the benchmarks share: finding the catena binary beside them and
 * quantiles. Header-only: each bench_*.c is a program of its own. */
#ifndef CATENA_BENCH_COMMON_H
#define CATENA_BENCH_COMMON_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Returns: $CATENA_BIN, else build/catena beside build/bench/<me>; NULL
 * when /proc/self/exe cannot be read. */
static inline const char *bench_catena_bin(void)
{
    static char path[PATH_MAX + 16];
    char self[PATH_MAX];
    ssize_t n;

    if (getenv("CATENA_BIN") != NULL)
        return getenv("CATENA_BIN");
    if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
        return NULL;
    self[n] = '\0';
    *strrchr(self, '/') = '\0'; /* build/bench */
    *strrchr(self, '/') = '\0'; /* build */
    snprintf(path, sizeof(path), "%s/catena", self);
    return path;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Returns: the q-quantile (0..1) of v[0..n), sorting v. */
static inline double bench_quantile(double *v, size_t n, double q)
{
    size_t i;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), bench_cmp_double);
    i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

#endif /* CATENA_BENCH_COMMON_H */
