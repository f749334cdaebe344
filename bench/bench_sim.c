/* Benchmarks of the consolidation simulator: wall time to replay one
 * PlanetLab day per policy, and one catena consolidation round on a
 * synthetic data centre of 100,000 hosts and 1,000,000 VMs (time and peak
 * RSS), each beside a reference measured in the same run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "catena/sim.h"
#include "catena/util.h"

#include "bench_common.h"

#define BENCH_HOSTS 100000
#define BENCH_VMS 1000000
#define BENCH_SEED 20240601u

static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* ---------------------------------------------------------------- one day */

/* Best of three runs. Out: *cpu the CPU time of that run. */
static double time_day(const ct_sim_trace *t, ct_sim_policy p, ct_sim_result *r, double *cpu)
{
    double best = INFINITY;
    ct_sim_config cfg;

    ct_sim_config_default(&cfg, p);
    for (int rep = 0; rep < 3; rep++) {
        double t0 = bench_now_s(), c0 = cpu_s(), wall;
        if (ct_sim_run(r, &cfg, t) < 0) {
            fprintf(stderr, "bench_sim: %s\n", ct_error_last());
            exit(1);
        }
        wall = bench_now_s() - t0;
        if (wall < best) {
            best = wall;
            *cpu = cpu_s() - c0;
        }
    }
    return best;
}

static void bench_days(const char *data, const char *day)
{
    char dir[4096];
    ct_sim_trace *t = NULL;
    double t0, load_s;

    if ((size_t)snprintf(dir, sizeof(dir), "%.2000s/planetlab/%.1000s", data, day) >= sizeof(dir))
        return;
    t0 = bench_now_s();
    if (ct_sim_trace_load(&t, dir) < 0) {
        printf("day %s: skipped (%s)\n", day, ct_error_last());
        return;
    }
    load_s = bench_now_s() - t0;
    printf("day %s: %zu VMs, trace load %.3f s (reference)\n", day, ct_sim_trace_vms(t), load_s);
    printf("  %-8s %9s %9s %9s %10s %9s %10s\n", "policy", "wall s", "cpu s", "x load", "energy",
           "migr.", "SLAV %");
    for (int p = 0; p < CT_SIM_N_POLICIES; p++) {
        ct_sim_result r;
        double cpu = 0, s = time_day(t, (ct_sim_policy)p, &r, &cpu);
        printf("  %-8s %9.3f %9.3f %9.1f %10.2f %9llu %10.5f\n",
               ct_sim_policy_name((ct_sim_policy)p), s, cpu, s / load_s, r.energy_kwh,
               (unsigned long long)r.migrations, r.slav * 100);
    }
    ct_sim_trace_free(t);
}

/* ---------------------------------------------------------------- synthetic round */

/* splitmix64: the generator of the synthetic data centre. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) / 9007199254740992.0;
}

/* Hosts alternate HP ML110 G4 and G5 (the classic setup). VMs take the four
 * classic types round robin, sit on a uniformly random host among the first
 * 80 % (the rest are idle), and predict a PlanetLab-like demand: 70 % of
 * them 0-20 % of their MIPS, 25 % 20-60 %, 5 % 60-100 %. */
static void generate(ct_place_pack_host *hosts, ct_place_pack_vm *vms, uint64_t seed)
{
    static const double mips[4] = {2500, 2000, 1000, 500}, ram[4] = {870, 1740, 1740, 613};
    uint64_t s = seed;

    for (size_t i = 0; i < BENCH_HOSTS; i++) {
        bool g5 = i % 2 == 1;
        hosts[i] =
            (ct_place_pack_host){g5 ? 5320 : 3720, g5 ? 2660 : 1860, g5 ? 93.7 : 86, g5 ? 1 : 0};
    }
    for (size_t v = 0; v < BENCH_VMS; v++) {
        double band = next_unit(&s), u = next_unit(&s);
        double share = band < 0.70 ? 0.2 * u : band < 0.95 ? 0.2 + 0.4 * u : 0.6 + 0.4 * u;
        vms[v].demand = share * mips[v % 4];
        vms[v].ram_mb = ram[v % 4];
        vms[v].host = (int32_t)(next_u64(&s) % (BENCH_HOSTS * 8 / 10));
    }
}

static void bench_round(void)
{
    ct_place_pack_host *hosts = malloc(BENCH_HOSTS * sizeof(*hosts));
    ct_place_pack_vm *vms = malloc(BENCH_VMS * sizeof(*vms));
    double *sorted = malloc(BENCH_VMS * sizeof(double));
    long rss0 = peak_rss_kb(), rss_in;
    ct_place_pack_opts opts;
    ct_place_move *moves = NULL;
    size_t n = 0;
    double t0, sort_s, round_s;

    if (hosts == NULL || vms == NULL || sorted == NULL) {
        fprintf(stderr, "bench_sim: out of memory\n");
        exit(1);
    }
    generate(hosts, vms, BENCH_SEED);
    for (size_t v = 0; v < BENCH_VMS; v++)
        sorted[v] = vms[v].demand;
    rss_in = peak_rss_kb();
    t0 = bench_now_s();
    qsort(sorted, BENCH_VMS, sizeof(double), cmp_double);
    sort_s = bench_now_s() - t0;
    ct_place_pack_opts_default(&opts);
    t0 = bench_now_s();
    if (ct_place_consolidate(&moves, &n, hosts, BENCH_HOSTS, vms, BENCH_VMS, &opts) < 0) {
        fprintf(stderr, "bench_sim: %s\n", ct_error_last());
        exit(1);
    }
    round_s = bench_now_s() - t0;
    printf("round: %d hosts, %d VMs (seed %u): %.3f s, %zu migrations; qsort of the %d "
           "demands %.3f s (reference), ratio %.1fx\n",
           BENCH_HOSTS, BENCH_VMS, BENCH_SEED, round_s, n, BENCH_VMS, sort_s, round_s / sort_s);
    printf("round: peak RSS %.1f MiB (process at start %.1f MiB, with the input %.1f MiB)\n",
           peak_rss_kb() / 1024.0, rss0 / 1024.0, rss_in / 1024.0);
    free(moves);
    free(sorted);
    free(vms);
    free(hosts);
}

int main(int argc, char **argv)
{
    const char *data = getenv("CATENA_DATA_DIR");
    char def[4096];

    if (data == NULL || data[0] == '\0') {
        snprintf(def, sizeof(def), "%s/../shared/data", CATENA_SOURCE_DIR);
        data = def;
    }
    if (argc > 1 && strcmp(argv[1], "round") == 0) {
        bench_round();
        return 0;
    }
    bench_days(data, argc > 1 ? argv[1] : "20110303");
    if (argc <= 1)
        bench_round();
    return 0;
}
