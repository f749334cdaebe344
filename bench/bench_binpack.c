/* Benchmark: bin packing on OR-Library's binpack2 (uniform) and binpack5
 * (triplets), the default search beside first fit decreasing as the
 * reference in the same run, plus FFD, BFD and vector FFD on a million
 * seeded random items. Prints tables; not part of ctest. */
#include "catena/binpack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

#define MIN_SECONDS 0.2 /* the greedy packers repeat until this long */

/* Solves with algo repeatedly for MIN_SECONDS (once for AUTO, which is
 * deterministic and slower). Returns: seconds per solve, or -1. */
static double time_solve(ct_binpack_result *r, size_t *bin_of, const ct_binpack_instance *in,
                         ct_binpack_algo algo)
{
    ct_binpack_opts opts;
    double start = bench_now_s(), elapsed;
    long runs = 0;

    ct_binpack_opts_init(&opts);
    opts.algo = algo;
    do {
        if (ct_binpack_solve(r, bin_of, in->sizes, in->n, in->capacity, &opts) < 0 ||
            ct_binpack_verify(bin_of, r->bins, in->sizes, in->n, in->capacity) < 0)
            return -1;
        runs++;
        elapsed = bench_now_s() - start;
    } while (algo != CT_BINPACK_AUTO && elapsed < MIN_SECONDS);
    return elapsed / (double)runs;
}

typedef struct totals {
    long gap_ffd, gap_auto; /* largest bins - best known */
    int at_best, proven;
    double ffd_s, auto_s, auto_max_s;
} totals;

static int bench_instance(totals *t, const ct_binpack_instance *in)
{
    size_t *bin_of = malloc(in->n * sizeof(*bin_of));
    ct_binpack_result ffd, bfd, best;
    double t_ffd, t_bfd, t_auto;

    if (bin_of == NULL)
        return -1;
    t_ffd = time_solve(&ffd, bin_of, in, CT_BINPACK_FFD);
    t_bfd = time_solve(&bfd, bin_of, in, CT_BINPACK_BFD);
    t_auto = time_solve(&best, bin_of, in, CT_BINPACK_AUTO);
    free(bin_of);
    if (t_ffd < 0 || t_bfd < 0 || t_auto < 0)
        return -1;
    printf("%-8s %4zu %5lld %4zu %8.1f %4zu %8.1f %5zu %10.2f %5zu %-6s %-7s %9.0f\n", in->name,
           in->n, (long long)in->best_known, ffd.bins, t_ffd * 1e6, bfd.bins, t_bfd * 1e6,
           best.bins, t_auto * 1e3, best.lower_bound, best.optimal ? "yes" : "no", best.method,
           t_auto / t_ffd);
    if ((long)ffd.bins - in->best_known > t->gap_ffd)
        t->gap_ffd = (long)ffd.bins - in->best_known;
    if ((long)best.bins - in->best_known > t->gap_auto)
        t->gap_auto = (long)best.bins - in->best_known;
    t->at_best += (long long)best.bins <= in->best_known;
    t->proven += best.optimal;
    t->ffd_s += t_ffd;
    t->auto_s += t_auto;
    if (t_auto > t->auto_max_s)
        t->auto_max_s = t_auto;
    return 0;
}

static int bench_file(const char *dir, const char *name)
{
    char path[4096];
    char *text;
    size_t len;
    ct_binpack_file *f;
    totals t = {.gap_ffd = -1000, .gap_auto = -1000};

    snprintf(path, sizeof(path), "%s/binpacking/%s", dir, name);
    if (ct_file_read(&text, &len, path, 1u << 24) < 0 ||
        ct_binpack_parse_orlib(&f, text, len) < 0) {
        fprintf(stderr, "bench_binpack: %s\n", ct_error_last());
        return -1;
    }
    free(text);
    printf("== %s\n%-8s %4s %5s %4s %8s %4s %8s %5s %10s %5s %-6s %-7s %9s\n", name, "name", "n",
           "best", "ffd", "ffd us", "bfd", "bfd us", "auto", "auto ms", "lb", "proven", "method",
           "auto/ffd");
    for (size_t i = 0; i < f->count; i++)
        if (bench_instance(&t, &f->inst[i]) < 0) {
            fprintf(stderr, "bench_binpack: %s: %s\n", f->inst[i].name, ct_error_last());
            ct_binpack_file_free(f);
            return -1;
        }
    printf("summary %s: auto max gap to best known %+ld (ffd %+ld), %d/%zu at best known, "
           "%d/%zu proven optimal, auto mean %.2f ms max %.2f ms, ffd mean %.1f us\n\n",
           name, t.gap_auto, t.gap_ffd, t.at_best, f->count, t.proven, f->count,
           t.auto_s * 1e3 / (double)f->count, t.auto_max_s * 1e3, t.ffd_s * 1e6 / (double)f->count);
    ct_binpack_file_free(f);
    return 0;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* A million seeded items, uniform 1..1000 in bins of 1000 (and, for the
 * vector packer, 1..16 cores of 64 and 1..64 GB of 256): the scale a
 * consolidation round of the simulator may ask for. */
static int bench_scale(void)
{
    enum { N = 1000000 };
    static const int64_t vcap[2] = {64, 256};
    int64_t *sizes = malloc(2 * N * sizeof(*sizes));
    size_t *bin_of = malloc(N * sizeof(*bin_of));
    ct_binpack_instance in = {.name = "scale", .capacity = 1000, .n = N};
    ct_binpack_result r;
    uint64_t g = 2024;
    size_t bins, lb;
    double start;
    int rc = -1;

    if (sizes == NULL || bin_of == NULL)
        goto done;
    in.sizes = sizes;
    for (size_t i = 0; i < N; i++)
        sizes[i] = 1 + (int64_t)(lcg(&g) % 1000);
    printf("== %d random items\n", N);
    for (int a = 0; a < 3; a++) {
        ct_binpack_algo algo = a == 0 ? CT_BINPACK_FFD : a == 1 ? CT_BINPACK_BFD : CT_BINPACK_AUTO;
        double s = time_solve(&r, bin_of, &in, algo);
        if (s < 0)
            goto done;
        printf("%-4s %8zu bins (lower bound %zu) %9.1f ms\n",
               a == 0   ? "ffd"
               : a == 1 ? "bfd"
                        : "auto",
               r.bins, r.lower_bound, s * 1e3);
    }
    for (size_t i = 0; i < N; i++) {
        sizes[2 * i] = 1 + (int64_t)(lcg(&g) % 16);
        sizes[2 * i + 1] = 1 + (int64_t)(lcg(&g) % 64);
    }
    start = bench_now_s();
    if (ct_binpack_vec_ffd(&bins, bin_of, sizes, N, 2, vcap) < 0 ||
        ct_binpack_vec_verify(bin_of, bins, sizes, N, 2, vcap) < 0 ||
        ct_binpack_vec_lower_bound(&lb, sizes, N, 2, vcap) < 0)
        goto done;
    printf("vec2 %8zu bins (lower bound %zu) %9.1f ms (with the check)\n", bins, lb,
           (bench_now_s() - start) * 1e3);
    rc = 0;
done:
    if (rc < 0)
        fprintf(stderr, "bench_binpack: scale: %s\n", ct_error_last());
    free(sizes);
    free(bin_of);
    return rc;
}

/* Falkenauer's triplets generated at each size, SEEDS seeds each: how
 * many packings reach the optimum (n / 3, known by construction), the
 * worst excess, and the time per instance beside FFD's in the same run. */
#define SEEDS 20
static int bench_triplets(void)
{
    static const size_t sizes_n[] = {60, 120, 249, 501, 1002};

    printf("== Falkenauer triplets, %d seeds a size (ct_binpack_gen_triplets)\n", SEEDS);
    printf("%5s %8s %10s %10s %10s %10s\n", "n", "optimal", "max excess", "mean ms", "max ms",
           "ffd ms");
    for (size_t k = 0; k < sizeof(sizes_n) / sizeof(sizes_n[0]); k++) {
        size_t n = sizes_n[k], opt = 0, worst = 0;
        int64_t *sizes = malloc(n * sizeof(*sizes));
        size_t *bin_of = malloc(n * sizeof(*bin_of));
        double sum_ms = 0, max_ms = 0, ffd_ms = 0;
        if (sizes == NULL || bin_of == NULL)
            return -1;
        for (uint64_t seed = 1; seed <= SEEDS; seed++) {
            ct_binpack_instance in = {
                .sizes = sizes, .n = n, .capacity = CT_BINPACK_TRIPLET_CAPACITY};
            ct_binpack_result r;
            if (ct_binpack_gen_triplets(sizes, n / 3, seed) < 0)
                return -1;
            double f = time_solve(&r, bin_of, &in, CT_BINPACK_FFD);
            double t = time_solve(&r, bin_of, &in, CT_BINPACK_AUTO);
            if (t < 0 || f < 0)
                return -1;
            opt += r.bins == n / 3;
            worst = r.bins - n / 3 > worst ? r.bins - n / 3 : worst;
            sum_ms += t * 1000;
            max_ms = t * 1000 > max_ms ? t * 1000 : max_ms;
            ffd_ms += f * 1000;
        }
        printf("%5zu %5zu/%d %10zu %10.1f %10.1f %10.3f\n", n, opt, SEEDS, worst, sum_ms / SEEDS,
               max_ms, ffd_ms / SEEDS);
        fflush(stdout);
        free(sizes);
        free(bin_of);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : getenv("CATENA_DATA_DIR");

    if (argc > 1 && strcmp(argv[1], "--triplets") == 0)
        return bench_triplets() < 0 ? 1 : 0;
    if (dir == NULL)
        dir = CATENA_SOURCE_DIR "/../shared/data";
    if (bench_file(dir, "binpack2.txt") < 0 || bench_file(dir, "binpack5.txt") < 0 ||
        bench_triplets() < 0)
        return 1;
    return bench_scale() < 0 ? 1 : 0;
}
