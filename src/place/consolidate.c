/* Catena's consolidation round: relieve hosts predicted to overload, then
 * empty lightly loaded hosts into the others, placing VMs by first fit over
 * hosts in best-fit order. Max segment trees (one per host model) find the
 * first host with room in O(log hosts), so one round over 100,000 hosts and
 * 1,000,000 VMs takes well under a second. */
#include "catena/place.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "catena/util.h"

#define NO_ROOM (-DBL_MAX)

enum { F_OVER = 1, F_RECEIVED = 2, F_DRAINED = 4, F_CANDIDATE = 8 };

/* A max segment tree over one model's hosts, in the round's host order. */
typedef struct ptree {
    int n, size;
    double *t;
    int *host; /* leaf position -> host */
} ptree;

typedef struct pack {
    const ct_place_pack_host *hosts;
    const ct_place_pack_vm *vms;
    const ct_place_pack_opts *o;
    size_t nh, nv;
    double *load;   /* planned demand per host */
    int *nvm;       /* planned VMs per host */
    int *off, *lst; /* the VMs each host starts with (CSR) */
    int32_t *where; /* planned host per VM */
    uint8_t *flag;
    int *pos;  /* host -> leaf position in its model's tree */
    int *rank; /* host -> place in the round's host order */
    ptree tree[CT_PLACE_MAX_MODELS];
    ct_place_move *moves;
    size_t n_moves, cap_moves;
    int *scratch; /* VM indices */
    int *undo;    /* hosts touched by a tentative drain */
    double max_core;
    double *cost; /* per host: migration cost of emptying it per idle watt */
} pack;

void ct_place_pack_opts_default(ct_place_pack_opts *opts)
{
    opts->u_max = 0.97;
    opts->u_fill = 0.9;
    opts->drain_max = 0.8;
    opts->max_moves = 0;
    opts->max_fails = 64;
}

/* ---------------------------------------------------------------- trees */

static int tree_init(ptree *tr, int n)
{
    tr->n = n;
    for (tr->size = 1; tr->size < n; tr->size *= 2)
        ;
    tr->t = malloc((size_t)tr->size * 2 * sizeof(double));
    tr->host = malloc((size_t)(n ? n : 1) * sizeof(int));
    if (tr->t == NULL || tr->host == NULL)
        return ct_error_set(CT_ENOMEM, "consolidate: out of memory");
    for (int i = 0; i < tr->size * 2; i++)
        tr->t[i] = NO_ROOM;
    return 0;
}

static void tree_set(ptree *tr, int pos, double v)
{
    int i = pos + tr->size;

    tr->t[i] = v;
    for (i /= 2; i >= 1; i /= 2)
        tr->t[i] = tr->t[2 * i] > tr->t[2 * i + 1] ? tr->t[2 * i] : tr->t[2 * i + 1];
}

/* Returns: the leftmost leaf with at least need, or -1. */
static int tree_first(const ptree *tr, double need)
{
    int i = 1;

    if (tr->n == 0 || tr->t[1] < need)
        return -1;
    while (i < tr->size)
        i = tr->t[2 * i] >= need ? 2 * i : 2 * i + 1;
    return i - tr->size;
}

static double room(const pack *p, int h)
{
    if (p->flag[h] & (F_OVER | F_DRAINED | F_CANDIDATE))
        return NO_ROOM;
    return p->o->u_fill * p->hosts[h].capacity - p->load[h];
}

static void refresh(pack *p, int h)
{
    tree_set(&p->tree[p->hosts[h].model], p->pos[h], room(p, h));
}

/* ---------------------------------------------------------------- setup */

static int cmp_order(const void *a, const void *b, void *arg)
{
    const pack *p = arg;
    int x = *(const int *)a, y = *(const int *)b;
    double rx, ry;

    if ((p->nvm[x] > 0) != (p->nvm[y] > 0))
        return p->nvm[x] > 0 ? -1 : 1;
    if (p->nvm[x] > 0) { /* best fit: least room first */
        rx = p->hosts[x].capacity - p->load[x];
        ry = p->hosts[y].capacity - p->load[y];
    } else { /* open the most capacity per idle watt first */
        rx = -p->hosts[x].capacity / (p->hosts[x].idle_w + 1e-9);
        ry = -p->hosts[y].capacity / (p->hosts[y].idle_w + 1e-9);
    }
    if (rx != ry)
        return rx < ry ? -1 : 1;
    return (x > y) - (x < y);
}

static int build_trees(pack *p)
{
    int *order = malloc(p->nh * sizeof(int)), counts[CT_PLACE_MAX_MODELS] = {0};
    int rc = 0;

    if (order == NULL)
        return ct_error_set(CT_ENOMEM, "consolidate: out of memory");
    for (size_t i = 0; i < p->nh; i++) {
        order[i] = (int)i;
        counts[p->hosts[i].model]++;
        if (p->hosts[i].core_mips > p->max_core)
            p->max_core = p->hosts[i].core_mips;
    }
    qsort_r(order, p->nh, sizeof(int), cmp_order, p);
    for (int m = 0; m < CT_PLACE_MAX_MODELS && rc == 0; m++)
        rc = tree_init(&p->tree[m], counts[m]);
    memset(counts, 0, sizeof(counts));
    for (size_t i = 0; i < p->nh && rc == 0; i++) {
        int h = order[i], m = p->hosts[h].model;
        p->rank[h] = (int)i;
        p->pos[h] = counts[m]++;
        p->tree[m].host[p->pos[h]] = h;
        refresh(p, h);
    }
    free(order);
    return rc;
}

static int index_vms(pack *p)
{
    for (size_t v = 0; v < p->nv; v++) {
        int32_t h = p->vms[v].host;
        if (h < -1 || h >= (int32_t)p->nh || !(p->vms[v].demand >= 0))
            return ct_error_set(CT_EINVAL, "consolidate: VM %zu: bad host or demand", v);
        p->where[v] = h;
        if (h >= 0) {
            p->load[h] += p->vms[v].demand;
            p->nvm[h]++;
            p->off[h + 1]++;
        }
    }
    for (size_t h = 0; h < p->nh; h++)
        p->off[h + 1] += p->off[h];
    {
        int *fill = p->undo; /* reused as a cursor, nh long */
        memcpy(fill, p->off, p->nh * sizeof(int));
        for (size_t v = 0; v < p->nv; v++)
            if (p->vms[v].host >= 0)
                p->lst[fill[p->vms[v].host]++] = (int)v;
    }
    return 0;
}

static void pack_free(pack *p)
{
    for (int m = 0; m < CT_PLACE_MAX_MODELS; m++) {
        free(p->tree[m].t);
        free(p->tree[m].host);
    }
    free(p->load);
    free(p->nvm);
    free(p->off);
    free(p->lst);
    free(p->where);
    free(p->flag);
    free(p->pos);
    free(p->rank);
    free(p->scratch);
    free(p->undo);
    free(p->cost);
    free(p->moves);
}

static int pack_init(pack *p)
{
    size_t nh = p->nh, nv = p->nv;

    p->load = calloc(nh, sizeof(double));
    p->nvm = calloc(nh, sizeof(int));
    p->off = calloc(nh + 1, sizeof(int));
    p->lst = malloc((nv ? nv : 1) * sizeof(int));
    p->where = malloc((nv ? nv : 1) * sizeof(int32_t));
    p->flag = calloc(nh, 1);
    p->pos = malloc(nh * sizeof(int));
    p->rank = malloc(nh * sizeof(int));
    p->scratch = malloc((nv ? nv : 1) * sizeof(int));
    p->undo = malloc((nh > nv ? nh : nv + 1) * sizeof(int));
    p->cost = calloc(nh, sizeof(double));
    if (!p->load || !p->nvm || !p->off || !p->lst || !p->where || !p->flag || !p->pos || !p->rank ||
        !p->scratch || !p->undo || !p->cost)
        return ct_error_set(CT_ENOMEM, "consolidate: out of memory");
    return index_vms(p);
}

/* ---------------------------------------------------------------- placing */

/* The first host in the round's order with room for v, or -1. With
 * active_only, an idle host does not count. */
static int find(const pack *p, int v, bool active_only)
{
    double need = p->vms[v].demand;
    int best = -1;

    for (int m = 0; m < CT_PLACE_MAX_MODELS; m++) {
        int leaf = tree_first(&p->tree[m], need), h;
        if (leaf < 0)
            continue;
        h = p->tree[m].host[leaf];
        if ((need < p->max_core ? need : p->max_core) > p->hosts[h].core_mips)
            continue; /* a core of this model could not serve it */
        if (active_only && p->nvm[h] == 0)
            continue;
        if (best < 0 || p->rank[h] < p->rank[best])
            best = h;
    }
    return best;
}

static void assign(pack *p, int v, int to)
{
    int from = p->where[v];

    if (from >= 0) {
        p->load[from] -= p->vms[v].demand;
        p->nvm[from]--;
        refresh(p, from);
    }
    p->where[v] = to;
    if (to >= 0) {
        p->load[to] += p->vms[v].demand;
        p->nvm[to]++;
        refresh(p, to);
    }
}

static int emit(pack *p, int v, int from, int to)
{
    if (p->n_moves == p->cap_moves) {
        size_t cap = p->cap_moves ? p->cap_moves * 2 : 64;
        ct_place_move *m = realloc(p->moves, cap * sizeof(*m));
        if (m == NULL)
            return ct_error_set(CT_ENOMEM, "consolidate: out of memory");
        p->moves = m;
        p->cap_moves = cap;
    }
    p->moves[p->n_moves++] = (ct_place_move){v, from, to};
    return 0;
}

static bool budget_left(const pack *p, size_t more)
{
    return p->o->max_moves == 0 || p->n_moves + more <= p->o->max_moves;
}

static int cmp_demand_desc(const void *a, const void *b, void *arg)
{
    const ct_place_pack_vm *vms = arg;
    int x = *(const int *)a, y = *(const int *)b;

    if (vms[x].demand != vms[y].demand)
        return vms[x].demand > vms[y].demand ? -1 : 1;
    return (x > y) - (x < y);
}

/* ---------------------------------------------------------------- relief */

/* The VM to take off h next: the smallest (in RAM, so the quickest to
 * move) that removes the whole excess alone, else the largest demand. */
static int pick_shed(const pack *p, int h, double excess)
{
    int one = -1, big = -1;

    for (int k = p->off[h]; k < p->off[h + 1]; k++) {
        int v = p->lst[k];
        const ct_place_pack_vm *vm = &p->vms[v];
        if (p->where[v] != h)
            continue;
        if (vm->demand >= excess &&
            (one < 0 || vm->ram_mb < p->vms[one].ram_mb ||
             (vm->ram_mb == p->vms[one].ram_mb && vm->demand < p->vms[one].demand)))
            one = v;
        if (big < 0 || vm->demand > p->vms[big].demand)
            big = v;
    }
    return one >= 0 ? one : big;
}

/* Detaches VMs from hosts predicted above u_max until they are back at
 * u_fill. Out: vs. Returns: how many. */
static int shed_overloaded(pack *p, int *vs)
{
    int n = 0;

    for (size_t h = 0; h < p->nh; h++) {
        const ct_place_pack_host *host = &p->hosts[h];
        if (p->load[h] <= p->o->u_max * host->capacity)
            continue;
        p->flag[h] |= F_OVER;
        while (p->load[h] > p->o->u_fill * host->capacity && budget_left(p, (size_t)n + 1)) {
            int v = pick_shed(p, (int)h, p->load[h] - p->o->u_fill * host->capacity);
            if (v < 0)
                break;
            assign(p, v, -1);
            vs[n++] = v;
        }
        refresh(p, (int)h);
    }
    return n;
}

/* Places detached and new VMs, largest first; a VM with no room goes back
 * where it was. */
static int place_detached(pack *p, int *vs, int n)
{
    int rc = 0;

    for (size_t v = 0; v < p->nv; v++)
        if (p->vms[v].host < 0)
            vs[n++] = (int)v;
    qsort_r(vs, (size_t)n, sizeof(int), cmp_demand_desc, (void *)p->vms);
    for (int i = 0; i < n && rc == 0; i++) {
        int v = vs[i], from = p->vms[v].host, to = find(p, v, false);
        if (to < 0) {
            if (from >= 0)
                assign(p, v, from);
            continue;
        }
        assign(p, v, to);
        p->flag[to] |= F_RECEIVED;
        rc = emit(p, v, from, to);
    }
    return rc;
}

/* ---------------------------------------------------------------- draining */

/* Moves all VMs of c to other active hosts, or none. Returns: 1 if it
 * did, 0 if not, or an error. */
static int try_drain(pack *p, int c)
{
    int n = 0, placed = 0, rc = 0;

    for (int k = p->off[c]; k < p->off[c + 1]; k++)
        if (p->where[p->lst[k]] == c)
            p->scratch[n++] = p->lst[k];
    if (n == 0 || !budget_left(p, (size_t)n))
        return 0;
    p->flag[c] |= F_CANDIDATE;
    refresh(p, c);
    qsort_r(p->scratch, (size_t)n, sizeof(int), cmp_demand_desc, (void *)p->vms);
    for (; placed < n; placed++) {
        int to = find(p, p->scratch[placed], true);
        if (to < 0)
            break;
        assign(p, p->scratch[placed], to);
    }
    if (placed < n) {
        for (int i = 0; i < placed; i++)
            assign(p, p->scratch[i], c);
        p->flag[c] &= (uint8_t)~F_CANDIDATE;
        refresh(p, c);
        return 0;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        p->flag[p->where[p->scratch[i]]] |= F_RECEIVED;
        rc = emit(p, p->scratch[i], c, p->where[p->scratch[i]]);
    }
    p->flag[c] = F_DRAINED;
    return rc < 0 ? rc : 1;
}

/* Drain order: cheapest first, counting the cost of the migrations (their
 * RAM, which sets how long each takes and how long its VM runs degraded)
 * per watt the host would stop drawing, then the lighter host. */
static int cmp_drain(const void *a, const void *b, void *arg)
{
    const pack *p = arg;
    int x = *(const int *)a, y = *(const int *)b;
    double fx = p->load[x] / p->hosts[x].capacity, fy = p->load[y] / p->hosts[y].capacity;

    if (p->cost[x] != p->cost[y])
        return p->cost[x] < p->cost[y] ? -1 : 1;
    if (fx != fy)
        return fx < fy ? -1 : 1;
    return (x > y) - (x < y);
}

/* Empties lightly loaded hosts, least loaded first, while it works. */
static int drain_light(pack *p)
{
    int *cand = p->undo, n = 0, rc = 0;
    size_t fails = 0;

    for (size_t h = 0; h < p->nh; h++) {
        double ram = 0;
        if (p->nvm[h] == 0 || p->flag[h] != 0 ||
            p->load[h] > p->o->drain_max * p->hosts[h].capacity)
            continue;
        for (int k = p->off[h]; k < p->off[h + 1]; k++)
            ram += p->vms[p->lst[k]].ram_mb;
        p->cost[h] = ram / (p->hosts[h].idle_w > 0 ? p->hosts[h].idle_w : 1e-9);
        cand[n++] = (int)h;
    }
    qsort_r(cand, (size_t)n, sizeof(int), cmp_drain, p);
    for (int i = 0; i < n && fails < p->o->max_fails; i++) {
        if (p->flag[cand[i]] != 0)
            continue;
        if ((rc = try_drain(p, cand[i])) < 0)
            return rc;
        fails = rc == 1 ? 0 : fails + 1;
    }
    return 0;
}

static int check_input(const ct_place_pack_host *hosts, size_t n_hosts, const ct_place_pack_opts *o)
{
    if (n_hosts > (size_t)INT32_MAX)
        return ct_error_set(CT_EINVAL, "consolidate: too many hosts");
    if (!(o->u_fill > 0 && o->u_fill <= o->u_max) || !(o->drain_max >= 0))
        return ct_error_set(CT_EINVAL, "consolidate: need 0 < u_fill <= u_max");
    for (size_t i = 0; i < n_hosts; i++)
        if (hosts[i].model < 0 || hosts[i].model >= CT_PLACE_MAX_MODELS ||
            !(hosts[i].capacity > 0) || !(hosts[i].core_mips > 0))
            return ct_error_set(CT_EINVAL, "consolidate: host %zu: bad model or capacity", i);
    return 0;
}

int ct_place_consolidate(ct_place_move **out, size_t *n_out, const ct_place_pack_host *hosts,
                         size_t n_hosts, const ct_place_pack_vm *vms, size_t n_vms,
                         const ct_place_pack_opts *opts)
{
    pack p;
    int rc, n;

    *out = NULL;
    *n_out = 0;
    if ((rc = check_input(hosts, n_hosts, opts)) < 0 || n_vms > (size_t)INT32_MAX)
        return rc < 0 ? rc : ct_error_set(CT_EINVAL, "consolidate: too many VMs");
    memset(&p, 0, sizeof(p));
    p.hosts = hosts;
    p.vms = vms;
    p.o = opts;
    p.nh = n_hosts;
    p.nv = n_vms;
    if ((rc = pack_init(&p)) < 0 || (rc = build_trees(&p)) < 0)
        goto done;
    n = shed_overloaded(&p, p.scratch);
    if ((rc = place_detached(&p, p.scratch, n)) < 0 || (rc = drain_light(&p)) < 0)
        goto done;
    *out = p.moves;
    *n_out = p.n_moves;
    p.moves = NULL;
done:
    pack_free(&p);
    return rc;
}
