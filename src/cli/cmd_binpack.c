/* `catena place binpack FILE [--json]`: packs every instance of a bin
 * packing file (OR-Library, BPPLIB or cutting stock blocks) and reports
 * the bins used beside the best known count and the lower bound, as a
 * table or a JSON array. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catena/binpack.h"
#include "catena/util.h"

#define BINPACK_MAX_FILE (64u << 20)

static const char usage[] =
    "catena place binpack FILE [--json] [--algo auto|ffd|bfd] [--seed N] [--effort N]";

/* Declared here too until the place dispatcher declares it in cli.h. */
int cmd_place_binpack(int argc, char **argv);

typedef struct bp_args {
    const char *file;
    bool json;
    ct_binpack_opts opts;
} bp_args;

/* One instance's outcome. */
typedef struct bp_row {
    ct_binpack_result r;
    double ms;
} bp_row;

__attribute__((format(printf, 1, 2))) static int bp_error(const char *fmt, ...)
{
    va_list ap;

    fputs("catena place binpack: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_USAGE;
}

static int bp_usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "catena place binpack: %s '%s'\nusage: %s\n", what, arg, usage);
    return CLI_USAGE;
}

static void print_help(void)
{
    printf("usage: %s\n\n"
           "Packs every instance of a bin packing file and prints, per instance, the\n"
           "items, the capacity, the best known number of bins (- when the file gives\n"
           "none), the bins used, the lower bound (Martello-Toth L2, or with auto the\n"
           "LP bound of Gilmore and Gomory where higher, one more where no packing\n"
           "meets that; a packing that meets the bound is proven optimal) and the\n"
           "time taken. Formats, told apart by their first tokens: OR-Library\n"
           "(binpackinfo.txt: a count of problems, then each problem's identifier,\n"
           "\"capacity n best\" and n sizes); BPPLIB's single instance (n, capacity, n\n"
           "sizes); cutting stock blocks as in hard28 ('NAME', the number of item\n"
           "types, capacity, then \"size demand\" per type).\n"
           "\n"
           "  --json       print a JSON array instead of a table\n"
           "  --algo A     auto (default: FFD and BFD, then two tabu searches, an LP\n"
           "               dive and a search of the patterns the LP allows, for fewer\n"
           "               bins), ffd (first fit decreasing) or bfd (best fit\n"
           "               decreasing)\n"
           "  --seed N     seed of the search (default 1); same seed, same packing\n"
           "  --effort N   search budget in move evaluations (default %u)\n",
           usage, CT_BINPACK_DEFAULT_EFFORT);
}

static int parse_algo(ct_binpack_algo *out, const char *v)
{
    if (strcmp(v, "auto") == 0)
        *out = CT_BINPACK_AUTO;
    else if (strcmp(v, "ffd") == 0)
        *out = CT_BINPACK_FFD;
    else if (strcmp(v, "bfd") == 0)
        *out = CT_BINPACK_BFD;
    else
        return bp_usage_error("--algo must be auto, ffd or bfd, not", v);
    return 0;
}

/* Applies option opt with value v (NULL when it has none). */
static int apply_option(bp_args *a, const char *opt, const char *v)
{
    uint64_t num;

    if (strcmp(opt, "--algo") == 0)
        return parse_algo(&a->opts.algo, v);
    if (ct_parse_uint(&num, v, UINT64_MAX) < 0)
        return bp_error("%s: %s", opt, ct_error_last());
    if (strcmp(opt, "--seed") == 0)
        a->opts.seed = num;
    else
        a->opts.effort = num;
    return 0;
}

/* Returns: 0, CLI_USAGE after reporting, or -1 when help was printed. */
static int parse_args(bp_args *a, int argc, char **argv)
{
    ct_binpack_opts_init(&a->opts);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_help();
            return -1;
        }
        if (strcmp(arg, "--json") == 0) {
            a->json = true;
        } else if (strcmp(arg, "--algo") == 0 || strcmp(arg, "--seed") == 0 ||
                   strcmp(arg, "--effort") == 0) {
            if (i + 1 >= argc)
                return bp_usage_error("option needs a value:", arg);
            if ((rc = apply_option(a, arg, argv[++i])) != 0)
                return rc;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return bp_usage_error("unknown option", arg);
        } else if (a->file != NULL) {
            return bp_usage_error("unexpected argument", arg);
        } else {
            a->file = arg;
        }
    }
    if (a->file == NULL) {
        fprintf(stderr, "catena place binpack: missing FILE\nusage: %s\n", usage);
        return CLI_USAGE;
    }
    return 0;
}

static double mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Packs every instance and checks each packing (a library bug must not
 * print a wrong answer). Returns: CLI_OK or CLI_FAIL after reporting. */
static int solve_all(bp_row *rows, const ct_binpack_file *f, const bp_args *a)
{
    for (size_t i = 0; i < f->count; i++) {
        const ct_binpack_instance *in = &f->inst[i];
        size_t *bin_of = malloc((in->n ? in->n : 1) * sizeof(*bin_of));
        double start;
        int rc;
        if (bin_of == NULL)
            abort(); /* the CLI may abort on allocation failure (STYLE.md) */
        start = mono_ms();
        rc = ct_binpack_solve(&rows[i].r, bin_of, in->sizes, in->n, in->capacity, &a->opts);
        rows[i].ms = mono_ms() - start;
        if (rc == 0)
            rc = ct_binpack_verify(bin_of, rows[i].r.bins, in->sizes, in->n, in->capacity);
        free(bin_of);
        if (rc < 0) {
            fprintf(stderr, "catena place binpack: %s:%zu: problem '%s': %s\n", a->file, in->line,
                    in->name, ct_error_last());
            return CLI_FAIL;
        }
    }
    return CLI_OK;
}

static int64_t pow10_i64(unsigned e)
{
    int64_t p = 1;

    while (e-- > 0)
        p *= 10;
    return p;
}

/* Formats a scaled value with its decimals ("1000" with 1 -> "100.0"). */
static void format_scaled(char *buf, size_t size, int64_t v, unsigned decimals)
{
    int64_t p = pow10_i64(decimals);

    if (decimals == 0)
        snprintf(buf, size, "%lld", (long long)v);
    else
        snprintf(buf, size, "%lld.%0*lld", (long long)(v / p), (int)decimals, (long long)(v % p));
}

static void format_gap(char *buf, size_t size, long long gap)
{
    if (gap == 0)
        snprintf(buf, size, "0");
    else
        snprintf(buf, size, "%+lld", gap);
}

static void print_table(const ct_binpack_file *f, const bp_row *rows)
{
    int w = 5;
    long long items = 0, best = 0, bins = 0, lb = 0;
    size_t proven = 0;
    double ms = 0;
    bool all_known = true;
    char cap[32], gap[32], share[48];

    for (size_t i = 0; i < f->count; i++)
        if ((int)strlen(f->inst[i].name) > w)
            w = (int)strlen(f->inst[i].name);
    printf("%-*s %7s %10s %10s %9s %7s %11s %7s %9s\n", w, "name", "items", "capacity",
           "best known", "bins used", "vs best", "lower bound", "proven", "time ms");
    for (size_t i = 0; i < f->count; i++) {
        const ct_binpack_instance *in = &f->inst[i];
        const ct_binpack_result *r = &rows[i].r;
        format_scaled(cap, sizeof(cap), in->capacity, in->decimals);
        char known[24] = "-";
        if (in->best_known > 0) {
            snprintf(known, sizeof(known), "%lld", (long long)in->best_known);
            format_gap(gap, sizeof(gap), (long long)r->bins - (long long)in->best_known);
        } else {
            all_known = false;
            snprintf(gap, sizeof(gap), "-");
        }
        printf("%-*s %7zu %10s %10s %9zu %7s %11zu %7s %9.1f\n", w, in->name, in->n, cap, known,
               r->bins, gap, r->lower_bound, r->optimal ? "yes" : "no", rows[i].ms);
        items += (long long)in->n;
        best += in->best_known;
        bins += (long long)r->bins;
        lb += (long long)r->lower_bound;
        proven += r->optimal;
        ms += rows[i].ms;
    }
    char known[24] = "-";
    snprintf(gap, sizeof(gap), "-");
    if (all_known) {
        snprintf(known, sizeof(known), "%lld", best);
        format_gap(gap, sizeof(gap), bins - best);
    }
    snprintf(share, sizeof(share), "%zu/%zu", proven, f->count);
    printf("%-*s %7lld %10s %10s %9lld %7s %11lld %7s %9.1f\n", w, "total", items, "", known, bins,
           gap, lb, share, ms);
}

static json_t *row_json(const ct_binpack_instance *in, const bp_row *row)
{
    json_t *o = json_object();
    json_t *cap = in->decimals == 0
                      ? json_integer(in->capacity)
                      : json_real((double)in->capacity / (double)pow10_i64(in->decimals));

    if (o == NULL || cap == NULL)
        abort();
    json_object_set_new(o, "name", json_string(in->name));
    json_object_set_new(o, "items", json_integer((json_int_t)in->n));
    json_object_set_new(o, "capacity", cap);
    json_object_set_new(o, "best_known",
                        in->best_known > 0 ? json_integer(in->best_known) : json_null());
    json_object_set_new(o, "bins", json_integer((json_int_t)row->r.bins));
    json_object_set_new(o, "lower_bound", json_integer((json_int_t)row->r.lower_bound));
    json_object_set_new(o, "optimal", json_boolean(row->r.optimal));
    json_object_set_new(o, "method", json_string(row->r.method));
    json_object_set_new(o, "time_ms", json_real(round(row->ms * 1000.0) / 1000.0));
    return o;
}

static int print_json(const ct_binpack_file *f, const bp_row *rows)
{
    json_t *arr = json_array();
    char *text;

    if (arr == NULL)
        abort();
    for (size_t i = 0; i < f->count; i++)
        json_array_append_new(arr, row_json(&f->inst[i], &rows[i]));
    /* 15 significant digits print 36.6 as 36.6, not 36.600000000000001. */
    text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(arr);
    if (text == NULL)
        abort();
    puts(text);
    free(text);
    return CLI_OK;
}

/* Reads and parses the file; reports "FILE:LINE: what" on bad input. */
static int load(ct_binpack_file **out, const char *file)
{
    char *text;
    size_t len;
    int rc;

    if (ct_file_read(&text, &len, file, BINPACK_MAX_FILE) < 0)
        return bp_error("%s", ct_error_last());
    rc = ct_binpack_parse(out, text, len);
    free(text);
    if (rc == CT_ENOMEM)
        abort();
    if (rc < 0)
        return bp_error("%s:%s", file, ct_error_last());
    return 0;
}

int cmd_place_binpack(int argc, char **argv)
{
    bp_args a = {0};
    ct_binpack_file *f = NULL;
    bp_row *rows;
    int rc = parse_args(&a, argc, argv);

    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if ((rc = load(&f, a.file)) != 0)
        return rc;
    rows = calloc(f->count ? f->count : 1, sizeof(*rows));
    if (rows == NULL)
        abort();
    rc = solve_all(rows, f, &a);
    if (rc == CLI_OK && a.json)
        rc = print_json(f, rows);
    else if (rc == CLI_OK)
        print_table(f, rows);
    free(rows);
    ct_binpack_file_free(f);
    return rc;
}
