/* Bin packing: the 40 OR-Library instances of binpack2 and binpack5
 * (within one bin of the best known, every packing checked here, not by
 * the library), hand cases with known answers, the lower bound, the
 * vector variant and the OR-Library parser's errors. */
#include "harness.h"

#include "catena/binpack.h"

/* Checks a packing without the library: every item in a bin below bins,
 * no bin empty or over capacity, and the loads add up to the total. */
static void check_packing(const size_t *bin_of, size_t bins, const int64_t *sizes, size_t n,
                          int64_t capacity, const char *what)
{
    int64_t *load = calloc(bins + 1, sizeof(*load));
    size_t *count = calloc(bins + 1, sizeof(*count));
    int64_t total = 0, packed = 0;
    size_t placed = 0;

    assert_non_null(load);
    assert_non_null(count);
    for (size_t i = 0; i < n; i++) {
        if (bin_of[i] >= bins)
            fail_msg("%s: item %zu in bin %zu of %zu", what, i, bin_of[i], bins);
        load[bin_of[i]] += sizes[i];
        count[bin_of[i]]++;
        total += sizes[i];
    }
    for (size_t b = 0; b < bins; b++) {
        if (count[b] == 0)
            fail_msg("%s: bin %zu is empty", what, b);
        if (load[b] > capacity)
            fail_msg("%s: bin %zu holds %lld > %lld", what, b, (long long)load[b],
                     (long long)capacity);
        packed += load[b];
        placed += count[b];
    }
    assert_int_equal(placed, n);
    assert_int_equal(packed, total);
    free(load);
    free(count);
}

/* Solves with algo, checks the packing and the bound, returns the bins. */
/* Solves with opts and checks the packing and the result's fields. */
static size_t solve_opts(const int64_t *sizes, size_t n, int64_t capacity,
                         const ct_binpack_opts *opts, ct_binpack_result *out, const char *what)
{
    size_t *bin_of = malloc((n ? n : 1) * sizeof(*bin_of));
    ct_binpack_result r;

    assert_non_null(bin_of);
    ctt_ok(ct_binpack_solve(&r, bin_of, sizes, n, capacity, opts));
    check_packing(bin_of, r.bins, sizes, n, capacity, what);
    ctt_ok(ct_binpack_verify(bin_of, r.bins, sizes, n, capacity));
    if (r.bins < r.lower_bound)
        fail_msg("%s: %zu bins below the lower bound %zu", what, r.bins, r.lower_bound);
    assert_true(r.optimal == (r.bins == r.lower_bound));
    free(bin_of);
    if (out != NULL)
        *out = r;
    return r.bins;
}

static size_t solve_checked(const int64_t *sizes, size_t n, int64_t capacity, ct_binpack_algo algo,
                            ct_binpack_result *out, const char *what)
{
    ct_binpack_opts opts;

    ct_binpack_opts_init(&opts);
    opts.algo = algo;
    return solve_opts(sizes, n, capacity, &opts, out, what);
}

static ct_binpack_file *load_path(const char *path)
{
    ct_binpack_file *f;
    char *text;
    size_t len;

    ctt_ok(ct_file_read(&text, &len, path, 1u << 24));
    ctt_ok(ct_binpack_parse(&f, text, len));
    free(text);
    return f;
}

/* Loads DATA_DIR/binpacking/<name>, or returns NULL (the test skips). */
static ct_binpack_file *load_orlib(const char *name)
{
    const char *dir = ctt_data_dir();

    return dir == NULL ? NULL : load_path(ctt_path("%s/binpacking/%s", dir, name));
}

/* Loads tests/data/binpack/<name> (kept in the repository). */
static ct_binpack_file *load_kept(const char *name)
{
    return load_path(ctt_path("%s/tests/data/binpack/%s", getenv("CATENA_ROOT"), name));
}

/* Every instance within one bin of the best known, never below the lower
 * bound, and the bound never above a packing someone found. */
static void run_file(const char *name, size_t want_n, int64_t want_capacity, unsigned decimals)
{
    ct_binpack_file *f = load_orlib(name);
    size_t proven = 0, at_best = 0;

    if (f == NULL)
        ctt_skip_absent("binpacking/%s", name);
    assert_int_equal(f->count, 20);
    for (size_t i = 0; i < f->count; i++) {
        const ct_binpack_instance *in = &f->inst[i];
        ct_binpack_result r;
        size_t ffd, bfd, best = (size_t)in->best_known;
        assert_int_equal(in->n, want_n);
        assert_int_equal(in->capacity, want_capacity);
        assert_int_equal(in->decimals, decimals);
        ffd = solve_checked(in->sizes, in->n, in->capacity, CT_BINPACK_FFD, NULL, in->name);
        bfd = solve_checked(in->sizes, in->n, in->capacity, CT_BINPACK_BFD, NULL, in->name);
        solve_checked(in->sizes, in->n, in->capacity, CT_BINPACK_AUTO, &r, in->name);
        if (r.bins > best + 1)
            fail_msg("%s: %zu bins, best known %zu", in->name, r.bins, best);
        if (r.lower_bound > best)
            fail_msg("%s: lower bound %zu above the best known %zu", in->name, r.lower_bound, best);
        assert_true(r.bins <= ffd && r.bins <= bfd);
        proven += r.optimal;
        at_best += r.bins <= best;
    }
    printf("%s: %zu/20 at or below the best known, %zu/20 proven optimal\n", name, at_best, proven);
    ct_binpack_file_free(f);
}

static void orlib_uniform_binpack2(void **state)
{
    (void)state;
    run_file("binpack2.txt", 250, 150, 0);
}

static void orlib_triplets_binpack5(void **state)
{
    (void)state;
    run_file("binpack5.txt", 60, 1000, 1); /* "100.0" with sizes like "36.6" */
}

/* The triplet instances are built so that n/3 bins are exactly full: an
 * exact parse of the decimals must find the total equal to that. */
static void orlib_triplets_parse_exactly(void **state)
{
    ct_binpack_file *f = load_orlib("binpack5.txt");
    (void)state;

    if (f == NULL)
        ctt_skip_absent("binpacking/binpack5.txt");
    for (size_t i = 0; i < f->count; i++) {
        int64_t total = 0;
        for (size_t k = 0; k < f->inst[i].n; k++)
            total += f->inst[i].sizes[k];
        assert_int_equal(total, (int64_t)(f->inst[i].n / 3) * f->inst[i].capacity);
        assert_int_equal(f->inst[i].best_known, 20);
    }
    assert_string_equal(f->inst[0].name, "t60_00");
    assert_int_equal(f->inst[0].line, 2);
    assert_int_equal(f->inst[0].sizes[0], 366); /* 36.6 */
    ct_binpack_file_free(f);
}

/* Optimum 3 with every bin exactly full ({51,26,23} twice, {27,27,23,23}),
 * but first fit decreasing strands the 23s and needs 4. */
static void search_beats_ffd(void **state)
{
    static const int64_t sizes[] = {51, 51, 27, 27, 26, 26, 23, 23, 23, 23};
    ct_binpack_result r;
    (void)state;

    assert_int_equal(solve_checked(sizes, 10, 100, CT_BINPACK_FFD, &r, "ffd"), 4);
    assert_false(r.optimal);
    assert_int_equal(r.lower_bound, 3);
    assert_int_equal(solve_checked(sizes, 10, 100, CT_BINPACK_AUTO, &r, "auto"), 3);
    assert_true(r.optimal);
    assert_string_equal(r.method, "search");
}

static void small_cases(void **state)
{
    static const int64_t one[] = {10}, pairs[] = {6, 5, 5, 4}, big[] = {60, 60, 60};
    ct_binpack_result r;
    size_t lb;
    (void)state;

    assert_int_equal(solve_checked(NULL, 0, 10, CT_BINPACK_AUTO, &r, "empty"), 0);
    assert_int_equal(r.lower_bound, 0);
    assert_int_equal(solve_checked(one, 1, 10, CT_BINPACK_AUTO, &r, "one"), 1);
    assert_int_equal(solve_checked(pairs, 4, 10, CT_BINPACK_BFD, &r, "pairs"), 2);
    /* L1 says 2 (180/100), but no two of these share a bin: L2 says 3. */
    ctt_ok(ct_binpack_lower_bound(&lb, big, 3, 100));
    assert_int_equal(lb, 3);
    assert_int_equal(solve_checked(big, 3, 100, CT_BINPACK_FFD, &r, "big"), 3);
    assert_true(r.optimal);
}

/* L2 with K > 0: items above c - K cannot share with items of size >= K. */
static void lower_bound_l2(void **state)
{
    /* c = 100: 70, 70 (> c/2) and four 35s. L1 = ceil(280/100) = 3. With
     * K = 35 the 70s are above c - K = 65 so they take two bins alone,
     * and the 35s need two more: 4. */
    static const int64_t sizes[] = {70, 70, 35, 35, 35, 35};
    ct_binpack_result r;
    size_t lb;
    (void)state;

    ctt_ok(ct_binpack_lower_bound(&lb, sizes, 6, 100));
    assert_int_equal(lb, 4);
    assert_int_equal(solve_checked(sizes, 6, 100, CT_BINPACK_AUTO, &r, "l2"), 4);
    assert_true(r.optimal);
}

static void rejects_bad_input(void **state)
{
    static const int64_t zero[] = {5, 0}, over[] = {5, 11}, ok[] = {5};
    size_t bin_of[2];
    ct_binpack_result r;
    (void)state;

    assert_int_equal(ct_binpack_solve(&r, bin_of, zero, 2, 10, NULL), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "item 1"));
    assert_int_equal(ct_binpack_solve(&r, bin_of, over, 2, 10, NULL), CT_EINVAL);
    assert_int_equal(ct_binpack_solve(&r, bin_of, ok, 1, 0, NULL), CT_EINVAL);
    assert_int_equal(ct_binpack_solve(&r, bin_of, ok, 1, CT_BINPACK_MAX_SIZE + 1, NULL), CT_EINVAL);
}

static void verify_catches_bad_packings(void **state)
{
    static const int64_t sizes[] = {6, 5, 5};
    (void)state;

    ctt_ok(ct_binpack_verify((const size_t[]){0, 1, 1}, 2, sizes, 3, 10));
    assert_int_equal(ct_binpack_verify((const size_t[]){0, 0, 1}, 2, sizes, 3, 10), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "over capacity"));
    assert_int_equal(ct_binpack_verify((const size_t[]){0, 2, 2}, 2, sizes, 3, 10), CT_EINVAL);
    assert_int_equal(ct_binpack_verify((const size_t[]){0, 2, 2}, 3, sizes, 3, 10), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "empty"));
}

/* A seeded generator, so the random instances are the same every run. */
static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* Same seed, same packing; and a random instance still packs feasibly. */
static void deterministic(void **state)
{
    enum { N = 500 };
    int64_t sizes[N];
    size_t a[N], b[N];
    uint64_t g = 42;
    ct_binpack_opts opts;
    ct_binpack_result ra, rb;
    (void)state;

    for (size_t i = 0; i < N; i++)
        sizes[i] = 20 + (int64_t)(lcg(&g) % 81);
    ct_binpack_opts_init(&opts);
    opts.effort = 2000000;
    ctt_ok(ct_binpack_solve(&ra, a, sizes, N, 150, &opts));
    ctt_ok(ct_binpack_solve(&rb, b, sizes, N, 150, &opts));
    assert_int_equal(ra.bins, rb.bins);
    assert_memory_equal(a, b, sizeof(a));
    check_packing(a, ra.bins, sizes, N, 150, "random");
}

/* The greedy packers stay O(n log n): 200,000 items in well under the
 * unit test time limit even under ASan, and still feasible. */
static void many_items(void **state)
{
    enum { N = 200000 };
    int64_t *sizes = malloc(N * sizeof(*sizes));
    uint64_t g = 7;
    ct_binpack_result r;
    (void)state;

    assert_non_null(sizes);
    for (size_t i = 0; i < N; i++)
        sizes[i] = 1 + (int64_t)(lcg(&g) % 1000);
    solve_checked(sizes, N, 1000, CT_BINPACK_FFD, &r, "ffd 200k");
    solve_checked(sizes, N, 1000, CT_BINPACK_BFD, &r, "bfd 200k");
    assert_true(r.bins <= r.lower_bound + r.lower_bound / 10);
    free(sizes);
}

/* Checks a vector packing without the library. */
static void check_vec(const size_t *bin_of, size_t bins, const int64_t *sizes, size_t n,
                      size_t dims, const int64_t *cap)
{
    int64_t *load = calloc((bins + 1) * dims, sizeof(*load));
    size_t *count = calloc(bins + 1, sizeof(*count));

    assert_non_null(load);
    assert_non_null(count);
    for (size_t i = 0; i < n; i++) {
        assert_true(bin_of[i] < bins);
        count[bin_of[i]]++;
        for (size_t k = 0; k < dims; k++)
            load[bin_of[i] * dims + k] += sizes[i * dims + k];
    }
    for (size_t b = 0; b < bins; b++) {
        assert_true(count[b] > 0);
        for (size_t k = 0; k < dims; k++)
            if (load[b * dims + k] > cap[k])
                fail_msg("bin %zu dimension %zu holds %lld > %lld", b, k,
                         (long long)load[b * dims + k], (long long)cap[k]);
    }
    free(load);
    free(count);
}

static void vector_packing(void **state)
{
    /* CPU cores and GB of RAM: the CPU-heavy and RAM-heavy VMs pair up. */
    static const int64_t cap[] = {4, 8};
    static const int64_t vms[] = {3, 1, 1, 6, 3, 2, 1, 6, 2, 2, 2, 2};
    enum { N = 2000 };
    int64_t *sizes = malloc(N * 2 * sizeof(*sizes));
    size_t bin_of[N], bins, lb;
    uint64_t g = 3;
    (void)state;

    ctt_ok(ct_binpack_vec_ffd(&bins, bin_of, vms, 6, 2, cap));
    check_vec(bin_of, bins, vms, 6, 2, cap);
    ctt_ok(ct_binpack_vec_verify(bin_of, bins, vms, 6, 2, cap));
    ctt_ok(ct_binpack_vec_lower_bound(&lb, vms, 6, 2, cap));
    assert_int_equal(lb, 3); /* 12 cores / 4 */
    assert_int_equal(bins, 3);

    assert_non_null(sizes);
    for (size_t i = 0; i < N; i++) {
        sizes[2 * i] = (int64_t)(lcg(&g) % 5);
        sizes[2 * i + 1] = (int64_t)(lcg(&g) % 9);
    }
    ctt_ok(ct_binpack_vec_ffd(&bins, bin_of, sizes, N, 2, cap));
    check_vec(bin_of, bins, sizes, N, 2, cap);
    ctt_ok(ct_binpack_vec_lower_bound(&lb, sizes, N, 2, cap));
    assert_true(bins >= lb);
    /* A bad packing is caught, and so is an item larger than a bin. */
    bin_of[0] = bins;
    assert_int_equal(ct_binpack_vec_verify(bin_of, bins, sizes, N, 2, cap), CT_EINVAL);
    sizes[1] = 9;
    assert_int_equal(ct_binpack_vec_ffd(&bins, bin_of, sizes, N, 2, cap), CT_EINVAL);
    assert_int_equal(ct_binpack_vec_ffd(&bins, bin_of, sizes, N, 0, cap), CT_EINVAL);
    free(sizes);
}

static void parses_orlib_text(void **state)
{
    static const char text[] = "2\r\n first \r\n 10.5 3 2\r\n 2.25\r\n3\r\n5.250\r\n"
                               "second\n100.0 2 1 40 60\n";
    ct_binpack_file *f;
    (void)state;

    ctt_ok(ct_binpack_parse_orlib(&f, text, strlen(text)));
    assert_int_equal(f->count, 2);
    assert_string_equal(f->inst[0].name, "first");
    assert_int_equal(f->inst[0].line, 2);
    assert_int_equal(f->inst[0].decimals, 2);
    assert_int_equal(f->inst[0].capacity, 1050);
    assert_int_equal(f->inst[0].n, 3);
    assert_int_equal(f->inst[0].best_known, 2);
    assert_int_equal(f->inst[0].sizes[0], 225);
    assert_int_equal(f->inst[0].sizes[1], 300);
    assert_int_equal(f->inst[0].sizes[2], 525);
    /* "100.0" is the integer 100: no decimals needed. */
    assert_string_equal(f->inst[1].name, "second");
    assert_int_equal(f->inst[1].line, 7);
    assert_int_equal(f->inst[1].decimals, 0);
    assert_int_equal(f->inst[1].capacity, 100);
    assert_int_equal(f->inst[1].sizes[1], 60);
    ct_binpack_file_free(f);
}

/* A text a parser must refuse: the code and how the message starts. */
typedef struct bad_text {
    const char *text;
    int code;
    const char *want;
} bad_text;

static void expect_refused(int (*parse)(ct_binpack_file **, const char *, size_t),
                           const bad_text *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ct_binpack_file *f = NULL;
        int rc = parse(&f, cases[i].text, strlen(cases[i].text));
        if (rc != cases[i].code)
            fail_msg("case %zu: got %d (%s), want %d", i, rc, ct_error_last(), cases[i].code);
        if (strncmp(ct_error_last(), cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: got '%s', want '%s...'", i, ct_error_last(), cases[i].want);
        assert_null(f);
    }
}

static void rejects_bad_orlib(void **state)
{
    static const bad_text cases[] = {
        {"", CT_EPARSE, "1: expected the number of problems, found the end of the text"},
        {"x", CT_EPARSE, "1: expected the number of problems, found 'x'"},
        {"1\n", CT_EPARSE, "1: expected a problem identifier, found the end"},
        {"1\n t\n 10 2 1\n 5\n", CT_EPARSE, "4: expected item 2 of 2, found the end"},
        {"1\n t\n 10 2 1\n 5\n 11\n", CT_EPARSE, "5: item 2 of 2: size 11 exceeds the capacity"},
        {"1\n t\n 10 2 1\n 5\n 0.0\n", CT_EPARSE, "5: item 2 of 2: size must be positive"},
        {"1\n t\n 0 1 1\n 1\n", CT_EPARSE, "3: the bin capacity must be positive"},
        {"1\n t\n 10 1 1\n 5\n\n extra\n", CT_EPARSE, "6: unexpected 'extra' after the last"},
        {"1\n t\n 10 1.5 1\n", CT_EPARSE, "3: expected the number of items, found '1.5'"},
        {"1\n t\n 10 1 1\n -5\n", CT_EPARSE, "4: expected an item size, found '-5'"},
        {"1\n t\n 10 1 1\n 5.\n", CT_EPARSE, "4: expected an item size, found '5.'"},
        {"1\n t\n 10 1 1\n .5\n", CT_EPARSE, "4: expected an item size, found '.5'"},
        {"1\n t\n 10 1 1\n 1.2.3\n", CT_EPARSE, "4: expected an item size, found '1.2.3'"},
        {"1\n t\n 10 1 1\n 1.1234567\n", CT_ELIMIT, "4: an item size has more than 6 decimals"},
        {"1\n t\n 1000000000001 1 1\n 1\n", CT_ELIMIT, "3: the bin capacity '1000000000001'"},
        {"1\n t\n 10 2000000 1\n", CT_ELIMIT, "3: the number of items 2000000 is more than"},
        {"1\n t\n 999999999999 1 1\n 0.000001\n", CT_ELIMIT, "2: problem 't': with 6 decimals"},
        {"1\n t\x01\n", CT_EPARSE, "2: unexpected byte 0x01"},
        {"100001\n", CT_ELIMIT, "1: the number of problems 100001 is more than"},
        {"1\n 12345678901234567890123456789012345678901234567890123456789012345\n", CT_EPARSE,
         "2: problem identifier longer than 64"},
    };
    (void)state;

    expect_refused(ct_binpack_parse_orlib, cases, sizeof(cases) / sizeof(cases[0]));
    /* ct_binpack_parse refuses them alike (all read as OR-Library). */
    expect_refused(ct_binpack_parse, cases, 2);
}

/* A NUL inside the text is an error, not the end of the text. */
static void rejects_nul_byte(void **state)
{
    static const char text[] = "1\n t\n 10 1 1\n 5\0 junk";
    ct_binpack_file *f = NULL;
    (void)state;

    assert_int_equal(ct_binpack_parse_orlib(&f, text, sizeof(text) - 1), CT_EPARSE);
    assert_string_equal(ct_error_last(), "4: unexpected byte 0x00");
    assert_null(f);
}

/* The text need not end with a NUL: a name at its very end is copied
 * with its length (ASan's strict string checks caught a strndup here). */
static void parses_unterminated_text(void **state)
{
    static const char name_last[] = "1\nname", whole[] = "1\n t\n 10 2 2\n 5\n 7";
    char *text = malloc(sizeof(whole));
    ct_binpack_file *f = NULL;
    (void)state;

    assert_non_null(text);
    memcpy(text, name_last, sizeof(name_last) - 1);
    assert_int_equal(ct_binpack_parse_orlib(&f, text, sizeof(name_last) - 1), CT_EPARSE);
    assert_string_equal(ct_error_last(), "2: expected the bin capacity, found the end of the text");
    memcpy(text, whole, sizeof(whole) - 1);
    ctt_ok(ct_binpack_parse_orlib(&f, text, sizeof(whole) - 1));
    assert_int_equal(f->inst[0].sizes[1], 7);
    ct_binpack_file_free(f);
    free(text);
}

/* Falkenauer's triplets as generated: items in [250, 500), the total
 * exactly n / 3 full bins, the same instance for the same seed, another
 * for another; and the 60-item ones solved to their optimum (the search
 * holds there; larger ones are measured in bench_binpack --triplets). */
static void generated_triplets(void **state)
{
    int64_t a[60], b[60];
    size_t bin_of[60];
    ct_binpack_result r;
    (void)state;

    assert_int_equal(ct_binpack_gen_triplets(a, 0, 1), CT_EINVAL);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        int64_t sum = 0;
        ctt_ok(ct_binpack_gen_triplets(a, 20, seed));
        ctt_ok(ct_binpack_gen_triplets(b, 20, seed));
        assert_memory_equal(a, b, sizeof(a));
        for (size_t i = 0; i < 60; i++) {
            assert_true(a[i] >= 250 && a[i] < 500);
            sum += a[i];
        }
        assert_int_equal(sum, 20 * CT_BINPACK_TRIPLET_CAPACITY);
        ctt_ok(ct_binpack_solve(&r, bin_of, a, 60, CT_BINPACK_TRIPLET_CAPACITY, NULL));
        ctt_ok(ct_binpack_verify(bin_of, r.bins, a, 60, CT_BINPACK_TRIPLET_CAPACITY));
        assert_int_equal(r.bins, 20);
    }
    ctt_ok(ct_binpack_gen_triplets(b, 20, 21));
    assert_memory_not_equal(a, b, sizeof(a));
}

/* Larger triplet instances reach the optimum (n / 3, every bin exactly
 * full) with the default effort: the trash search alone stalled 1 to 11
 * bins above it from 249 items on. */
static void large_triplets_reach_the_optimum(void **state)
{
    static const size_t sizes_n[] = {249, 501, 1002};
    int64_t *a = malloc(1002 * sizeof(*a));
    size_t *bin_of = malloc(1002 * sizeof(*bin_of));
    ct_binpack_result r;
    (void)state;

    assert_non_null(a);
    assert_non_null(bin_of);
    for (size_t k = 0; k < 3; k++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            size_t n = sizes_n[k];
            ctt_ok(ct_binpack_gen_triplets(a, n / 3, seed));
            ctt_ok(ct_binpack_solve(&r, bin_of, a, n, CT_BINPACK_TRIPLET_CAPACITY, NULL));
            ctt_ok(ct_binpack_verify(bin_of, r.bins, a, n, CT_BINPACK_TRIPLET_CAPACITY));
            if (r.bins != n / 3)
                fail_msg("triplets of %zu items, seed %llu: %zu bins, optimum %zu", n,
                         (unsigned long long)seed, r.bins, n / 3);
            assert_true(r.optimal);
        }
    free(a);
    free(bin_of);
}

/* The real triplet files t120, t249 and t501: every instance at n / 3. */
static void orlib_triplets_t120_t249_t501(void **state)
{
    static const char *const names[] = {"binpack6.txt", "binpack7.txt", "binpack8.txt"};
    static const size_t ns[] = {120, 249, 501};
    (void)state;

    for (size_t k = 0; k < 3; k++) {
        ct_binpack_file *f = load_kept(names[k]);
        assert_int_equal(f->count, 20);
        for (size_t i = 0; i < f->count; i++) {
            const ct_binpack_instance *in = &f->inst[i];
            ct_binpack_result r;
            assert_int_equal(in->n, ns[k]);
            assert_int_equal(in->best_known, (int64_t)ns[k] / 3);
            solve_checked(in->sizes, in->n, in->capacity, CT_BINPACK_AUTO, &r, in->name);
            if (r.bins != in->n / 3 || !r.optimal)
                fail_msg("%s: %zu bins, optimum %zu", in->name, r.bins, in->n / 3);
        }
        ct_binpack_file_free(f);
    }
}

/* The other formats: hard28's cutting stock blocks (quoted names with
 * spaces, "size demand" lines) and BPPLIB's single instance; their errors
 * name the line. */
static void parses_other_formats(void **state)
{
    static const bad_text bad[] = {
        {"'X\n3\n", CT_EPARSE, "1: the problem name has no closing quote"},
        {"' '\n1\n10\n3 1\n", CT_EPARSE, "1: empty problem name"},
        {"'a'\n2\n10\n3 2\n11 1\n", CT_EPARSE, "5: item type 2 of 2: size exceeds"},
        {"'a'\n1\n10\n3 1.5\n", CT_EPARSE, "4: expected a demand, found '1.5'"},
        {"'a'\n2\n10\n3 1\n", CT_EPARSE, "4: expected an item size, found the end"},
        {"'a'\n1\n10\n3 1\nx\n", CT_EPARSE, "5: expected a problem name in quotes"},
        {"'a'\n1\n10\n3 2000000\n", CT_ELIMIT, "4: a demand 2000000 is more than"},
        {"'a'\n2\n10\n3 600000\n4 600000\n", CT_ELIMIT, "5: problem 'a' has more than"},
        {"3\n10\n4\n5\n", CT_EPARSE, "4: expected item 3 of 3, found the end"},
        {"2\n10\n4\n5\n6\n", CT_EPARSE, "5: unexpected '6' after the last problem"},
        {"2\n0\n4\n5\n", CT_EPARSE, "2: the bin capacity must be positive"},
    };
    ct_binpack_file *f = load_kept("hard28.txt");
    (void)state;

    assert_int_equal(f->count, 28);
    assert_string_equal(f->inst[0].name, "BPP 14");
    assert_string_equal(f->inst[27].name, "BPP 814");
    for (size_t i = 0; i < f->count; i++) {
        const ct_binpack_instance *in = &f->inst[i];
        assert_int_equal(in->capacity, 1000);
        assert_int_equal(in->best_known, 0);
        assert_true(in->n == 160 || in->n == 180 || in->n == 200);
    }
    assert_int_equal(f->inst[0].sizes[0], 696);
    assert_int_equal(f->inst[0].line, 1);
    ct_binpack_file_free(f);

    const char *one = "5\n10\n3\n4\n5.5\n6\n7\n";
    ctt_ok(ct_binpack_parse(&f, one, strlen(one)));
    assert_int_equal(f->count, 1);
    assert_string_equal(f->inst[0].name, "instance");
    assert_int_equal(f->inst[0].capacity, 100); /* one decimal */
    assert_int_equal(f->inst[0].sizes[2], 55);
    ct_binpack_file_free(f);

    expect_refused(ct_binpack_parse, bad, sizeof(bad) / sizeof(bad[0]));
}

/* The least bins for n <= 12 items, by trying every bin for each item
 * (largest first; a new bin only once) with the bins so far as a bound. */
static void exact_rec(const int64_t *a, size_t n, int64_t cap, size_t i, int64_t *load, size_t used,
                      size_t *best)
{
    if (used >= *best)
        return;
    if (i == n) {
        *best = used;
        return;
    }
    for (size_t b = 0; b <= used && b < n; b++) {
        if (load[b] + a[i] > cap)
            continue;
        load[b] += a[i];
        exact_rec(a, n, cap, i + 1, load, b == used ? used + 1 : used, best);
        load[b] -= a[i];
    }
}

static int cmp_desc64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return (a < b) - (a > b);
}

/* The LP bound against the exact optimum on 400 small random instances:
 * never above it (a "proven" packing is optimal), above L2 on some, and
 * AUTO packs each into the optimum. */
static void lp_bound_against_exact(void **state)
{
    int64_t a[12], sorted[12], load[12];
    size_t bin_of[12], above_l2 = 0, proven = 0;
    uint64_t rng = 7;
    (void)state;

    for (int k = 0; k < 400; k++) {
        size_t n = 6 + ct_rand_next(&rng) % 7, best = 13, l2;
        int64_t cap = 100;
        ct_binpack_result r;
        for (size_t i = 0; i < n; i++)
            a[i] = 20 + (int64_t)(ct_rand_next(&rng) % 51); /* 20..70 */
        memcpy(sorted, a, n * sizeof(*a));
        qsort(sorted, n, sizeof(*sorted), cmp_desc64);
        memset(load, 0, sizeof(load));
        exact_rec(sorted, n, cap, 0, load, 0, &best);
        ctt_ok(ct_binpack_lower_bound(&l2, a, n, cap));
        ctt_ok(ct_binpack_solve(&r, bin_of, a, n, cap, NULL));
        ctt_ok(ct_binpack_verify(bin_of, r.bins, a, n, cap));
        if (r.lower_bound > best || r.bins != best)
            fail_msg("instance %d: bound %zu, packed %zu, optimum %zu", k, r.lower_bound, r.bins,
                     best);
        assert_true(r.lower_bound >= l2);
        above_l2 += r.lower_bound > l2;
        proven += r.optimal;
    }
    printf("LP bound above L2 on %zu of 400, proven optimal %zu of 400\n", above_l2, proven);
    assert_true(above_l2 > 0);
}

/* hard28's optima (Belov and Scheithauer 2006), in the file's order; five
 * of them, 14, 359, 716, 119 and 175, one bin above their LP bound. */
static const struct {
    const char *name;
    size_t opt;
} hard28_known[] = {{"BPP 14", 62},  {"BPP 832", 60}, {"BPP 40", 59},  {"BPP 360", 62},
                    {"BPP 645", 58}, {"BPP 742", 64}, {"BPP 766", 62}, {"BPP 60", 63},
                    {"BPP 13", 67},  {"BPP 195", 64}, {"BPP 709", 67}, {"BPP 785", 68},
                    {"BPP 47", 71},  {"BPP 181", 72}, {"BPP 359", 76}, {"BPP 485", 71},
                    {"BPP 640", 74}, {"BPP 716", 76}, {"BPP 119", 77}, {"BPP 144", 73},
                    {"BPP 561", 72}, {"BPP 781", 71}, {"BPP 900", 75}, {"BPP 175", 84},
                    {"BPP 178", 80}, {"BPP 419", 80}, {"BPP 531", 83}, {"BPP 814", 81}};

/* hard28 against its optima: AUTO packs every instance into its optimum,
 * no bound passes it, and all but one (BPP 175) are proven. Before the
 * reduced cost enumeration (2026-12-07) 766, 60 and 13 ended a bin above
 * and only 20 were proven; before its second try went all on the proof,
 * BPP 14 was not proven either. */
static void hard28_optima(void **state)
{
    ct_binpack_file *f = load_kept("hard28.txt");
    size_t proven = 0;
    (void)state;

    assert_int_equal(f->count, 28);
    for (size_t i = 0; i < f->count; i++) {
        const ct_binpack_instance *in = &f->inst[i];
        ct_binpack_result r;
        assert_string_equal(in->name, hard28_known[i].name);
        solve_checked(in->sizes, in->n, in->capacity, CT_BINPACK_AUTO, &r, in->name);
        if (r.bins != hard28_known[i].opt || r.lower_bound > hard28_known[i].opt)
            fail_msg("%s: %zu bins, bound %zu, optimum %zu", in->name, r.bins, r.lower_bound,
                     hard28_known[i].opt);
        proven += r.optimal;
    }
    printf("hard28: 28 of 28 at the optimum, %zu proven\n", proven);
    assert_true(proven >= 27);
    ct_binpack_file_free(f);
}

/* The work running out anywhere (in the LP, the enumeration's list, its
 * MIP) leaves a valid packing and a bound no higher than the optimum: a
 * list cut short proves nothing. */
static void hard28_cut_short(void **state)
{
    static const uint64_t efforts[] = {100000, 1000000, 4000000, 15000000};
    static const size_t picks[] = {0, 6, 7, 14, 17}; /* 14, 766, 60, 359, 716 */
    ct_binpack_file *f = load_kept("hard28.txt");
    (void)state;

    for (size_t k = 0; k < sizeof(picks) / sizeof(picks[0]); k++) {
        const ct_binpack_instance *in = &f->inst[picks[k]];
        for (size_t e = 0; e < sizeof(efforts) / sizeof(efforts[0]); e++) {
            ct_binpack_opts opts;
            ct_binpack_result r;
            ct_binpack_opts_init(&opts);
            opts.effort = efforts[e];
            solve_opts(in->sizes, in->n, in->capacity, &opts, &r, in->name);
            if (r.bins < hard28_known[picks[k]].opt || r.lower_bound > hard28_known[picks[k]].opt)
                fail_msg("%s, effort %llu: %zu bins, bound %zu, optimum %zu", in->name,
                         (unsigned long long)efforts[e], r.bins, r.lower_bound,
                         hard28_known[picks[k]].opt);
        }
    }
    ct_binpack_file_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(search_beats_ffd),
        cmocka_unit_test(small_cases),
        cmocka_unit_test(lower_bound_l2),
        cmocka_unit_test(rejects_bad_input),
        cmocka_unit_test(verify_catches_bad_packings),
        cmocka_unit_test(deterministic),
        cmocka_unit_test(many_items),
        cmocka_unit_test(vector_packing),
        cmocka_unit_test(parses_orlib_text),
        cmocka_unit_test(rejects_bad_orlib),
        cmocka_unit_test(rejects_nul_byte),
        cmocka_unit_test(parses_unterminated_text),
        cmocka_unit_test(orlib_triplets_parse_exactly),
        cmocka_unit_test(orlib_uniform_binpack2),
        cmocka_unit_test(orlib_triplets_binpack5),
        cmocka_unit_test(generated_triplets),
        cmocka_unit_test(large_triplets_reach_the_optimum),
        cmocka_unit_test(orlib_triplets_t120_t249_t501),
        cmocka_unit_test(parses_other_formats),
        cmocka_unit_test(lp_bound_against_exact),
        cmocka_unit_test(hard28_optima),
        cmocka_unit_test(hard28_cut_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
