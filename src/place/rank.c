/* Energy-aware ranking of hosts for application components (OPERA ECRAE's
 * static allocation): flavour choice, feasibility, the incremental power of
 * the component's predicted load on each host scaled by the architecture's
 * performance factor for its tag, and greedy placement of a whole
 * application. See docs/PLACEMENT.md for the formula. */
#include "catena/place.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catena/util.h"

/* The hosts' changing state while a plan is built (the KB stays const). */
typedef struct host_state {
    double load;
    unsigned vcpus;
    uint64_t ram;
    uint64_t disk;
    bool powered;
} host_state;

const char *ct_place_reason_name(ct_place_reason r)
{
    switch (r) {
    case CT_PLACE_OK: return "ok";
    case CT_PLACE_ARCH: return "architecture";
    case CT_PLACE_CPU: return "cpu";
    case CT_PLACE_RAM: return "ram";
    case CT_PLACE_DISK: return "disk";
    case CT_PLACE_LOAD: return "load";
    case CT_PLACE_NO_PRICE: return "no price";
    case CT_PLACE_CONSTRAINT: return "constraint";
    }
    return "?";
}

int ct_place_flavor(size_t *out, const ct_kb *kb, const ct_place_request *req)
{
    unsigned vcpus = req->vcpus ? req->vcpus : 1;
    size_t best = SIZE_MAX;

    for (size_t i = 0; i < kb->n_flavors; i++) {
        const ct_kb_flavor *f = &kb->flavors[i], *b;
        if (f->vcpus < vcpus || f->ram < req->ram || f->disk < req->disk)
            continue;
        b = best == SIZE_MAX ? NULL : &kb->flavors[best];
        if (b == NULL || f->vcpus < b->vcpus || (f->vcpus == b->vcpus && f->ram < b->ram) ||
            (f->vcpus == b->vcpus && f->ram == b->ram && f->disk < b->disk))
            best = i;
    }
    if (best == SIZE_MAX)
        return ct_error_set(CT_ENOTFOUND,
                            "%s: no flavour has %u vCPUs, %.0f MiB of RAM and %.1f GB of disk",
                            req->name ? req->name : "component", vcpus,
                            (double)req->ram / 1048576.0, (double)req->disk / 1e9);
    *out = best;
    return 0;
}

/* The tag that applies to req: its own, else the KB's "default", else none. */
static const ct_kb_tag *tag_of(const ct_kb *kb, const ct_place_request *req)
{
    const ct_kb_tag *t = req->tag ? ct_kb_tag_find(kb, req->tag) : NULL;

    return t ? t : ct_kb_tag_find(kb, "default");
}

static double load_of(const ct_kb *kb, const ct_place_request *req)
{
    const ct_kb_tag *t = tag_of(kb, req);

    if (req->load > 0)
        return fmin(req->load, 1.0);
    return t != NULL && t->load > 0 ? t->load : kb->default_load;
}

/* Returns: the performance factor of arch for the tag, 0 when excluded. */
static double factor_of(const ct_kb_tag *t, const char *arch)
{
    if (t == NULL || t->n_prefs == 0)
        return 1.0;
    for (size_t i = 0; i < t->n_prefs; i++)
        if (ct_place_arch_same(t->prefs[i].arch, arch))
            return t->prefs[i].factor;
    return 0.0;
}

/* Fills the score of the objective; CT_PLACE_NO_PRICE when the DC lacks it. */
static ct_place_reason score_of(ct_place_candidate *c, const ct_kb_dc *dc,
                                ct_place_objective objective)
{
    double facility = c->delta_watts * dc->pue;

    if (objective == CT_PLACE_ENERGY) {
        c->score = facility;
    } else {
        double per_kwh = objective == CT_PLACE_COST ? dc->energy_price : dc->carbon_intensity;
        if (isnan(per_kwh))
            return CT_PLACE_NO_PRICE;
        c->score = facility / 1000.0 * per_kwh;
    }
    return CT_PLACE_OK;
}

static void evaluate(ct_place_candidate *c, const ct_kb *kb, const host_state *st,
                     const ct_place_request *req, const ct_kb_flavor *fl, double load,
                     ct_place_objective objective)
{
    const ct_kb_host *h = &kb->hosts[c->host];
    const ct_kb_model *m = &kb->models[h->model];
    double capacity, demand;

    c->score = INFINITY;
    c->util_before = st->load;
    if (kb->dcs[h->dc].excluded) {
        c->reason = CT_PLACE_CONSTRAINT;
        return;
    }
    c->factor = factor_of(tag_of(kb, req), m->arch);
    if (c->factor <= 0 || (req->arch != NULL && !ct_place_arch_same(req->arch, m->arch))) {
        c->reason = CT_PLACE_ARCH;
        return;
    }
    capacity = c->factor * m->cores * m->mips_per_core;
    demand = (req->vcpus ? req->vcpus : 1) * load * kb->reference_mips;
    c->util_after = st->load + demand / capacity;
    c->delta_watts = ct_power_at(&m->power, c->util_after) -
                     (st->powered ? ct_power_at(&m->power, st->load) : 0.0);
    if ((double)st->vcpus + fl->vcpus > m->cores * kb->cpu_overcommit + 1e-9)
        c->reason = CT_PLACE_CPU;
    else if (fl->ram > m->ram || st->ram > m->ram - fl->ram)
        c->reason = CT_PLACE_RAM;
    else if (m->disk != 0 && (fl->disk > m->disk || st->disk > m->disk - fl->disk))
        c->reason = CT_PLACE_DISK;
    else if (c->util_after > kb->max_utilisation + 1e-12)
        c->reason = CT_PLACE_LOAD;
    else
        c->reason = score_of(c, &kb->dcs[h->dc], objective);
    if (c->reason != CT_PLACE_OK)
        c->score = INFINITY;
}

static int cmp_candidates(const void *a, const void *b)
{
    const ct_place_candidate *x = a, *y = b;

    if ((x->reason == CT_PLACE_OK) != (y->reason == CT_PLACE_OK))
        return x->reason == CT_PLACE_OK ? -1 : 1;
    if (x->reason == CT_PLACE_OK && x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return (x->host > y->host) - (x->host < y->host);
}

static void init_state(host_state *st, const ct_kb *kb)
{
    for (size_t i = 0; i < kb->n_hosts; i++) {
        st[i].load = kb->hosts[i].load;
        st[i].vcpus = kb->hosts[i].used_vcpus;
        st[i].ram = kb->hosts[i].used_ram;
        st[i].disk = kb->hosts[i].used_disk;
        st[i].powered = kb->hosts[i].powered;
    }
}

int ct_place_rank(ct_place_candidate **out, const ct_kb *kb, const ct_place_request *req,
                  ct_place_objective objective)
{
    ct_place_candidate *c = NULL;
    host_state *st = NULL;
    size_t fl;
    int rc;

    *out = NULL;
    if ((rc = ct_place_flavor(&fl, kb, req)) < 0)
        return rc;
    c = calloc(kb->n_hosts ? kb->n_hosts : 1, sizeof(*c));
    st = calloc(kb->n_hosts ? kb->n_hosts : 1, sizeof(*st));
    if (c == NULL || st == NULL) {
        free(c);
        free(st);
        return ct_error_set(CT_ENOMEM, "place: out of memory");
    }
    init_state(st, kb);
    for (size_t i = 0; i < kb->n_hosts; i++) {
        c[i].host = i;
        evaluate(&c[i], kb, &st[i], req, &kb->flavors[fl], load_of(kb, req), objective);
    }
    qsort(c, kb->n_hosts, sizeof(*c), cmp_candidates);
    free(st);
    *out = c;
    return 0;
}

/* Explains why no host could take req. Returns: CT_ENOTFOUND. */
static int no_host(const ct_place_request *req, const ct_place_candidate *c, size_t n)
{
    size_t count[CT_PLACE_CONSTRAINT + 1] = {0};
    ct_buf b;
    int rc;

    for (size_t i = 0; i < n; i++)
        count[c[i].reason]++;
    ct_buf_init(&b, 400);
    for (int r = CT_PLACE_ARCH; r <= CT_PLACE_CONSTRAINT; r++)
        if (count[r] > 0)
            ct_buf_appendf(&b, "%s%zu %s", b.len ? ", " : "", count[r],
                           ct_place_reason_name((ct_place_reason)r));
    rc =
        ct_error_set(CT_ENOTFOUND, "no host can take %s%s%s%s (%zu hosts: %s)",
                     req->name ? req->name : "component", req->arch ? " (architecture " : "",
                     req->arch ? req->arch : "", req->arch ? ")" : "", n, b.data ? b.data : "none");
    ct_buf_free(&b);
    return rc;
}

/* Places one request on the best host given st, and updates st. */
static int place_one(ct_place_choice *out, const ct_kb *kb, host_state *st,
                     const ct_place_request *req, ct_place_candidate *c,
                     ct_place_objective objective)
{
    const ct_kb_flavor *fl;
    size_t best = SIZE_MAX;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = ct_place_flavor(&out->flavor, kb, req)) < 0)
        return rc;
    fl = &kb->flavors[out->flavor];
    out->load = load_of(kb, req);
    for (size_t i = 0; i < kb->n_hosts; i++) {
        c[i].host = i;
        evaluate(&c[i], kb, &st[i], req, fl, out->load, objective);
        if (c[i].reason != CT_PLACE_OK)
            continue;
        out->n_feasible++;
        if (best == SIZE_MAX || c[i].score < c[best].score)
            best = i;
    }
    if (best == SIZE_MAX)
        return no_host(req, c, kb->n_hosts);
    out->best = c[best];
    st[best].load = c[best].util_after;
    st[best].vcpus += fl->vcpus;
    st[best].ram += fl->ram;
    st[best].disk += fl->disk;
    st[best].powered = true;
    return 0;
}

typedef struct order_item {
    size_t index;
    double demand;
} order_item;

static int cmp_order(const void *a, const void *b)
{
    const order_item *x = a, *y = b;

    if (x->demand != y->demand)
        return x->demand > y->demand ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

int ct_place_plan(ct_place_choice *out, const ct_kb *kb, const ct_place_request *reqs, size_t n,
                  ct_place_objective objective)
{
    ct_place_candidate *c = calloc(kb->n_hosts ? kb->n_hosts : 1, sizeof(*c));
    host_state *st = calloc(kb->n_hosts ? kb->n_hosts : 1, sizeof(*st));
    order_item *order = calloc(n ? n : 1, sizeof(*order));
    int rc = 0;

    if (c == NULL || st == NULL || order == NULL) {
        rc = ct_error_set(CT_ENOMEM, "place: out of memory");
        goto done;
    }
    init_state(st, kb);
    for (size_t i = 0; i < n; i++) {
        order[i].index = i;
        order[i].demand = (reqs[i].vcpus ? reqs[i].vcpus : 1) * load_of(kb, &reqs[i]);
    }
    qsort(order, n, sizeof(*order), cmp_order);
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t k = order[i].index;
        rc = place_one(&out[k], kb, st, &reqs[k], c, objective);
    }
done:
    free(c);
    free(st);
    free(order);
    return rc;
}
