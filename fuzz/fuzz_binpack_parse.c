/* Fuzz target for the bin packing parsers (ct_binpack_parse: OR-Library,
 * BPPLIB, cutting stock blocks); every instance it
 * accepts is then packed by FFD, BFD and the search (small budget) and as
 * a two-dimensional instance, and each packing must be feasible. */
#include <stdlib.h>
#include <string.h>

#include "catena/binpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PACKED_ITEMS 4096 /* keeps each input fast */

static void pack_1d(const ct_binpack_instance *in, size_t *bin_of)
{
    static const ct_binpack_algo algos[] = {CT_BINPACK_FFD, CT_BINPACK_BFD, CT_BINPACK_AUTO};
    size_t first = 0;

    for (size_t a = 0; a < 3; a++) {
        ct_binpack_opts opts;
        ct_binpack_result r;
        ct_binpack_opts_init(&opts);
        opts.algo = algos[a];
        opts.effort = 20000;
        opts.seed = a;
        if (ct_binpack_solve(&r, bin_of, in->sizes, in->n, in->capacity, &opts) < 0)
            abort(); /* the parser only lets valid instances through */
        if (ct_binpack_verify(bin_of, r.bins, in->sizes, in->n, in->capacity) < 0)
            abort();
        if (r.bins < r.lower_bound || r.optimal != (r.bins == r.lower_bound))
            abort();
        if (a == 0)
            first = r.bins;
        else if (a == 2 && r.bins > first)
            abort(); /* the search never loses to FFD */
    }
}

/* Pairs up the sizes as (cpu, ram) items of a two-dimensional instance. */
static void pack_2d(const ct_binpack_instance *in, size_t *bin_of)
{
    const int64_t cap[2] = {in->capacity, in->capacity};
    size_t bins, lb;

    if (ct_binpack_vec_ffd(&bins, bin_of, in->sizes, in->n / 2, 2, cap) < 0)
        abort();
    if (ct_binpack_vec_verify(bin_of, bins, in->sizes, in->n / 2, 2, cap) < 0)
        abort();
    if (ct_binpack_vec_lower_bound(&lb, in->sizes, in->n / 2, 2, cap) < 0 || bins < lb)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_binpack_file *f;
    size_t packed = 0;

    if (ct_binpack_parse(&f, (const char *)data, size) < 0)
        return 0;
    for (size_t i = 0; i < f->count; i++) {
        const ct_binpack_instance *in = &f->inst[i];
        size_t *bin_of;
        for (size_t k = 0; k < in->n; k++)
            if (in->sizes[k] < 1 || in->sizes[k] > in->capacity)
                abort();
        packed += in->n;
        if (packed > MAX_PACKED_ITEMS)
            break;
        bin_of = malloc((in->n ? in->n : 1) * sizeof(*bin_of));
        if (bin_of == NULL)
            abort();
        pack_1d(in, bin_of);
        pack_2d(in, bin_of);
        free(bin_of);
    }
    ct_binpack_file_free(f);
    return 0;
}
