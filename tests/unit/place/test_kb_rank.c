/* Power curves, the knowledge base parser (the documented example, JSON,
 * and a table of mistakes with their positions) and the ranking: hand
 * computed cases for each term of the formula, capacity, objectives, and
 * random knowledge bases checked against the formula written out here. */
#include "harness.h"

#include <math.h>

#include "catena/place.h"

/* HP ProLiant ML110 G4 (SPECpower, as CloudSim uses it). */
static const ct_power_curve g4 = {{86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117}};

static void near(double got, double want, const char *what)
{
    if (!(fabs(got - want) <= 1e-9 * fmax(1.0, fabs(want))))
        fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

/* ---------------------------------------------------------------- power */

static void power_curve(void **state)
{
    static const struct {
        double u, want;
    } cases[] = {
        {0.0, 86},
        {1.0, 117},
        {0.3, 96},
        {0.1, 89.4},
        {0.7, 108},
        {0.35, 97.75},
        {0.05, 87.7},
        {0.99, 116.7},
        {-0.5, 86},
        {1.5, 117},
        {0.123, 89.4 + 0.23 * 3.2},
    };
    ct_power_curve bad;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        near(ct_power_at(&g4, cases[i].u), cases[i].want, ctt_path("P(%g)", cases[i].u));
    near(ct_power_at(&g4, NAN), 86, "P(NaN)");
    /* Monotone between the points, as the curve is. */
    for (int i = 1; i <= 1000; i++)
        assert_true(ct_power_at(&g4, i / 1000.0) >= ct_power_at(&g4, (i - 1) / 1000.0));
    near(ct_power_energy(&g4, 0.3, 0.7, 300), (96 + 108) / 2.0 * 300, "energy 0.3 -> 0.7");
    near(ct_power_energy(&g4, 0.5, 0.5, 10), 1020, "energy flat");
    ctt_ok(ct_power_curve_check(&g4));
    bad = g4;
    bad.watts[5] = 90; /* below the 40 % point */
    assert_int_equal(ct_power_curve_check(&bad), CT_EINVAL);
    assert_non_null(strstr(ct_error_last(), "50 %"));
    bad = g4;
    bad.watts[0] = -1;
    assert_int_equal(ct_power_curve_check(&bad), CT_EINVAL);
    bad = g4;
    bad.watts[10] = INFINITY;
    assert_int_equal(ct_power_curve_check(&bad), CT_EINVAL);
}

/* ---------------------------------------------------------------- knowledge base */

static ct_kb *kb_from(const char *text)
{
    ct_kb *kb = NULL;

    if (ct_kb_parse(&kb, text, strlen(text), "kb.yaml") != 0)
        fail_msg("kb: %s", ct_error_last());
    return kb;
}

static void example_kb(void **state)
{
    char *text = NULL;
    size_t len = 0;
    ct_kb *kb = NULL;
    (void)state;

    ctt_ok(ct_file_read(&text, &len, CATENA_SOURCE_DIR "/docs/examples/kb.yaml", 1 << 20));
    ctt_ok(ct_kb_parse(&kb, text, len, "kb.yaml"));
    assert_int_equal(kb->n_tags, 4);
    assert_int_equal(kb->n_flavors, 5);
    assert_int_equal(kb->n_models, 4);
    assert_int_equal(kb->n_dcs, 2);
    assert_int_equal(kb->n_hosts, 6);
    near(kb->reference_mips, 2000, "reference_mips");
    near(kb->max_utilisation, 0.9, "max_utilisation");
    const ct_kb_tag *web = ct_kb_tag_find(kb, "web_frontend");
    assert_non_null(web);
    assert_string_equal(web->prefs[0].arch, "aarch64");
    near(web->prefs[0].factor, 1.2, "factor");
    assert_int_equal(kb->flavors[0].ram, 512u << 20);
    assert_int_equal(kb->flavors[2].disk, 40000000000ull);
    assert_int_equal(kb->models[0].power.watts[10] == 117, 1);
    assert_string_equal(kb->dcs[kb->hosts[4].dc].name, "DC2");
    near(kb->dcs[0].energy_price, 0.21, "price");
    assert_false(kb->hosts[5].powered);
    assert_int_equal(kb->hosts[1].used_ram, 1u << 30);
    ct_kb_free(kb);
    free(text);
}

/* The same knowledge base in JSON, with aliases and DCs named only by hosts. */
static void json_kb(void **state)
{
    ct_kb *kb =
        kb_from("{\"catena_kb\": 1, \"objective\": \"carbon\",\n"
                " \"tags\": {\"t\": {\"architectures\": [\"ARM64\", \"amd64\"]}},\n"
                " \"flavors\": {\"f\": {\"vcpus\": 1, \"ram\": \"1 GiB\"}},\n"
                " \"models\": {\"m\": {\"architecture\": \"AMD64\", \"cores\": 4, "
                "\"mips_per_core\": 1000,\n"
                "   \"ram\": \"8 GiB\", \"power\": [1,2,3,4,5,6,7,8,9,10,11]}},\n"
                " \"hosts\": [{\"name\": \"h\", \"model\": \"m\", \"datacenter\": \"X\"}]}\n");
    (void)state;
    assert_int_equal(kb->objective, CT_PLACE_CARBON);
    assert_string_equal(kb->models[0].arch, "x86_64");
    assert_string_equal(kb->tags[0].prefs[0].arch, "aarch64");
    assert_string_equal(kb->tags[0].prefs[1].arch, "x86_64");
    near(kb->tags[0].prefs[1].factor, 1.0, "list factor");
    assert_int_equal(kb->n_dcs, 1);
    assert_true(isnan(kb->dcs[0].energy_price));
    near(kb->dcs[0].pue, 1.0, "pue");
    near(kb->default_load, 0.5, "default_load");
    assert_true(ct_place_arch_same("X86-64", "amd64"));
    assert_false(ct_place_arch_same("aarch64", "x86_64"));
    ct_kb_free(kb);
}

#define KB_HEAD "catena_kb: 1\nflavors: {f: {vcpus: 1, ram: 1 GiB}}\n"
#define KB_MODEL                                                                                   \
    "models:\n  m: {architecture: x86_64, cores: 2, mips_per_core: 1000, ram: 4 GiB,\n"            \
    "      power: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}\n"

static void kb_mistakes(void **state)
{
    static const struct {
        const char *text;
        const char *want; /* "line:column: ..." */
    } cases[] = {
        {"flavors: {}\n", "1:1: missing catena_kb"},
        {"catena_kb: 2\n", "1:12: catena_kb: 2 is out of range"},
        {KB_HEAD KB_MODEL "host: []\n", "6:1: knowledge base: unknown key \"host\" (did you mean "
                                        "\"hosts\"?)"},
        {KB_HEAD KB_MODEL "hosts: []\n", "6:1: hosts: list at least one host"},
        {KB_HEAD "models:\n  m: {architecture: x86_64, cores: 2, mips_per_core: 1000, ram: 4 GiB,\n"
                 "      power: [1, 2, 3]}\n",
         "5:15: model m: power is a list of 11"},
        {KB_HEAD "models:\n  m: {architecture: x86_64, cores: 2, mips_per_core: 1000, ram: 4 GiB,\n"
                 "      power: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1]}\n",
         "5:15: model m: power curve: 1 W at 100 % is below 10 W at 90 %"},
        {KB_HEAD "models:\n  m: {architecture: x86_64, cores: 0, mips_per_core: 1, ram: 4 GiB,\n"
                 "      power: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}\n",
         "4:36: cores: 0 is out of range"},
        {KB_HEAD "models:\n  m: {architecture: x86_64, cores: 2, mips_per_core: 1, ram: 4096,\n"
                 "      power: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}\n",
         "4:62: ram must be a size with a unit"},
        {KB_HEAD KB_MODEL "hosts: [{name: a, model: n, datacenter: d}]\n",
         "6:26: host a: unknown model \"n\""},
        {KB_HEAD KB_MODEL "hosts: [{name: a, model: m, datacenter: d, load: 1.5}]\n",
         "6:50: load: 1.5 is out of range"},
        {KB_HEAD KB_MODEL "hosts: [{name: a, model: m, datacenter: d}, {name: a, model: m, "
                          "datacenter: d}]\n",
         "host a is listed twice"},
        {KB_HEAD KB_MODEL
         "hosts: [{name: a, model: m, datacenter: d, powered: false, load: 0.2}]\n",
         "6:10: host a: a powered-off host has no load"},
        {KB_HEAD KB_MODEL "tags: {t: {architectures: {x86_64: 0}}}\n"
                          "hosts: [{name: a, model: m, datacenter: d}]\n",
         "6:36: tag t: 0 is out of range"},
        {KB_HEAD KB_MODEL "objective: money\nhosts: [{name: a, model: m, datacenter: d}]\n",
         "6:12: objective must be energy, cost or carbon"},
        {"catena_kb: 1\nflavors: {f: {vcpus: 1, ram: 1 GiB}}\nflavors: {}\n",
         "3:1: YAML: duplicate key"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ct_kb *kb = NULL;
        int rc = ct_kb_parse(&kb, cases[i].text, strlen(cases[i].text), "kb.yaml");
        if (rc >= 0)
            fail_msg("case %zu accepted", i);
        assert_null(kb);
        if (strstr(ct_error_last(), cases[i].want) == NULL ||
            strncmp(ct_error_last(), "kb.yaml:", 8) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, ct_error_last(), cases[i].want);
    }
}

/* ---------------------------------------------------------------- ranking */

/* Two models with the same capacity: "lin" draws 1 W per % up to 50 %, then
 * 2 W per %; "arm" is the same curve on aarch64. Reference vCPU: 1000 MIPS,
 * hosts of 10 cores x 1000 MIPS, so 1 vCPU at load 0.5 adds 5 % (0.05). */
static const char rank_kb[] =
    "catena_kb: 1\n"
    "reference_mips: 1000\n"
    "default_load: 0.5\n"
    "max_utilisation: 0.9\n"
    "tags:\n"
    "  x86_only: {architectures: [x86_64]}\n"
    "  halfarm: {load: 1.0, architectures: {x86_64: 1.0, aarch64: 0.5}}\n"
    "flavors:\n"
    "  small: {vcpus: 1, ram: 1 GiB, disk: 10 GB}\n"
    "  big: {vcpus: 4, ram: 8 GiB, disk: 10 GB}\n"
    "models:\n"
    "  lin: {architecture: x86_64, cores: 10, mips_per_core: 1000, ram: 16 GiB,\n"
    "        power: [100, 110, 120, 130, 140, 150, 170, 190, 210, 230, 250]}\n"
    "  arm: {architecture: aarch64, cores: 10, mips_per_core: 1000, ram: 16 GiB, disk: 100 GB,\n"
    "        power: [100, 110, 120, 130, 140, 150, 170, 190, 210, 230, 250]}\n"
    "datacenters:\n"
    "  cheap: {energy_price: 0.10, carbon_intensity: 500, pue: 1.5}\n"
    "  green: {energy_price: 0.30, carbon_intensity: 20}\n"
    "hosts:\n"
    "  - {name: steep, model: lin, datacenter: cheap, load: 0.55}\n"
    "  - {name: flat, model: lin, datacenter: green, load: 0.20}\n"
    "  - {name: arm1, model: arm, datacenter: green, load: 0.20}\n"
    "  - {name: off, model: lin, datacenter: green, powered: false}\n";

static void hand_computed(void **state)
{
    ct_kb *kb = kb_from(rank_kb);
    ct_place_request req = {"c", NULL, NULL, 1, 0, 0, -1};
    ct_place_candidate *c = NULL;
    (void)state;

    /* Untagged: any architecture, factor 1. flat: P(0.25) - P(0.20) = 5 W;
     * arm1 the same (ties go to the host listed first); steep:
     * P(0.60) - P(0.55) = 10 W, times PUE 1.5; off: P(0.05) = 105 W. */
    ctt_ok(ct_place_rank(&c, kb, &req, CT_PLACE_ENERGY));
    assert_string_equal(kb->hosts[c[0].host].name, "flat");
    near(c[0].delta_watts, 5, "flat watts");
    near(c[0].util_after, 0.25, "flat utilisation");
    assert_string_equal(kb->hosts[c[1].host].name, "arm1");
    assert_string_equal(kb->hosts[c[2].host].name, "steep");
    near(c[2].delta_watts, 10, "steep watts");
    near(c[2].score, 15, "steep score (PUE)");
    assert_string_equal(kb->hosts[c[3].host].name, "off");
    near(c[3].delta_watts, 105, "off watts");
    free(c);

    /* Cost: flat 5 W * 0.30 / 1000 = 0.0015 per hour; steep
     * 15 W * 0.10 / 1000 = 0.0015: a tie, flat is listed later... */
    ctt_ok(ct_place_rank(&c, kb, &req, CT_PLACE_COST));
    near(c[0].score, 0.0015, "cost");
    assert_string_equal(kb->hosts[c[0].host].name, "steep");
    free(c);
    /* ...and carbon: steep 15 * 500 / 1000 = 7.5 g/h, flat 5 * 20 / 1000 = 0.1. */
    ctt_ok(ct_place_rank(&c, kb, &req, CT_PLACE_CARBON));
    assert_string_equal(kb->hosts[c[0].host].name, "flat");
    near(c[0].score, 0.1, "carbon");
    free(c);

    /* The performance factor: at factor 0.5 the same work takes twice the
     * CPU on arm1 (load 1.0: 10 % -> 20 %), P(0.4) - P(0.2) = 20 W, vs 10 W
     * on flat. Forcing aarch64 leaves arm1 only. */
    req.tag = "halfarm";
    ctt_ok(ct_place_rank(&c, kb, &req, CT_PLACE_ENERGY));
    assert_string_equal(kb->hosts[c[0].host].name, "flat");
    for (size_t i = 0; i < kb->n_hosts; i++)
        if (strcmp(kb->hosts[c[i].host].name, "arm1") == 0) {
            near(c[i].factor, 0.5, "factor");
            near(c[i].delta_watts, 20, "arm1 watts");
        }
    free(c);
    req.arch = "arm64";
    ctt_ok(ct_place_rank(&c, kb, &req, CT_PLACE_ENERGY));
    assert_string_equal(kb->hosts[c[0].host].name, "arm1");
    assert_int_equal(c[1].reason, CT_PLACE_ARCH);
    free(c);
    /* A tag limited to x86_64 excludes arm1. */
    req.arch = NULL;
    req.tag = "x86_only";
    ctt_ok(ct_place_rank(&c, kb, &req, CT_PLACE_ENERGY));
    assert_int_equal(c[3].reason, CT_PLACE_ARCH);
    assert_string_equal(kb->hosts[c[3].host].name, "arm1");
    free(c);
    ct_kb_free(kb);
}

static void capacity(void **state)
{
    ct_kb *kb = kb_from(rank_kb);
    ct_place_request req = {"c", NULL, NULL, 1, 12ull << 30, 0, -1};
    ct_place_candidate *c = NULL;
    size_t fl;
    (void)state;

    /* No flavour has 12 GiB. */
    assert_int_equal(ct_place_rank(&c, kb, &req, CT_PLACE_ENERGY), CT_ENOTFOUND);
    assert_non_null(strstr(ct_error_last(), "no flavour"));
    /* 3 vCPUs need "big". */
    req.ram = 0;
    req.vcpus = 3;
    ctt_ok(ct_place_flavor(&fl, kb, &req));
    assert_string_equal(kb->flavors[fl].name, "big");
    /* Load: 3 vCPUs x 0.5 = 15 %: steep (55 %) passes 90 %? No: 70 %. At
     * load 1.0 it would add 30 %: steep would reach 85 %, still fine; at
     * 8 vCPUs of 1.0 it adds 80 %: only the off host stays under 90 %. */
    req.vcpus = 4;
    req.load = 1.0;
    ctt_ok(ct_place_rank(&c, kb, &req, CT_PLACE_ENERGY));
    assert_string_equal(kb->hosts[c[0].host].name, "flat"); /* 0.2 -> 0.6: 40 W */
    for (size_t i = 0; i < kb->n_hosts; i++)
        if (strcmp(kb->hosts[c[i].host].name, "steep") == 0)
            assert_int_equal(c[i].reason, CT_PLACE_LOAD); /* 0.55 -> 0.95 */
    free(c);

    /* A plan of three such requests: flat, arm1 and off take one each
     * (each host has 10 cores and 16 GiB: a second one would pass 90 %). */
    ct_place_request reqs[5] = {req, req, req, req, req};
    ct_place_choice ch[5];
    reqs[0].name = "a";
    reqs[1].name = "b";
    reqs[2].name = "c";
    reqs[3].name = "d";
    reqs[4].name = "e";
    ctt_ok(ct_place_plan(ch, kb, reqs, 4, CT_PLACE_ENERGY));
    /* flat (0.2 -> 0.6, 40 W), arm1 (the same), then the off host:
     * P(0.4) = 140 W with its idle power, and again (0.4 -> 0.8, 70 W):
     * everything else would pass 90 %. */
    assert_string_equal(kb->hosts[ch[0].best.host].name, "flat");
    assert_string_equal(kb->hosts[ch[1].best.host].name, "arm1");
    assert_string_equal(kb->hosts[ch[2].best.host].name, "off");
    near(ch[2].best.delta_watts, 140, "starting a host costs its idle power: P(0.4)");
    assert_string_equal(kb->hosts[ch[3].best.host].name, "off");
    near(ch[3].best.delta_watts, 70, "P(0.8) - P(0.4)");
    assert_int_equal(ch[3].n_feasible, 1);
    /* A fifth has nowhere to go, and the message says why. */
    assert_int_equal(ct_place_plan(ch, kb, reqs, 5, CT_PLACE_ENERGY), CT_ENOTFOUND);
    assert_non_null(strstr(ct_error_last(), "no host can take e"));
    assert_non_null(strstr(ct_error_last(), "(4 hosts: 1 cpu, 3 load)"));
    /* Without prices, cost cannot rank hosts of that DC. */
    free(kb->dcs[1].name);
    kb->dcs[1].name = strdup("unpriced");
    kb->dcs[1].energy_price = NAN;
    ctt_ok(ct_place_rank(&c, kb, &reqs[0], CT_PLACE_COST));
    assert_int_equal(c[kb->n_hosts - 1].reason, CT_PLACE_NO_PRICE);
    free(c);
    ct_kb_free(kb);
}

/* A DC ruled out by constraints (catena place --constraint) takes
 * nothing, and the message counts its hosts under "constraint". */
static void excluded_dc(void **state)
{
    ct_kb *kb = kb_from(rank_kb);
    ct_place_request req = {"c", NULL, NULL, 1, 0, 0, -1};
    ct_place_candidate *c = NULL;
    ct_place_choice ch;
    (void)state;

    ctt_ok(ct_place_rank(&c, kb, &req, CT_PLACE_ENERGY));
    assert_string_not_equal(kb->dcs[kb->hosts[c[0].host].dc].name, "cheap");
    free(c);
    for (size_t i = 0; i < kb->n_dcs; i++)
        kb->dcs[i].excluded = strcmp(kb->dcs[i].name, "green") == 0;
    ctt_ok(ct_place_plan(&ch, kb, &req, 1, CT_PLACE_ENERGY));
    assert_string_equal(kb->hosts[ch.best.host].name, "steep");
    assert_int_equal(ch.n_feasible, 1);
    kb->dcs[0].excluded = true;
    assert_int_equal(ct_place_plan(&ch, kb, &req, 1, CT_PLACE_ENERGY), CT_ENOTFOUND);
    assert_non_null(strstr(ct_error_last(), "(4 hosts: 4 constraint)"));
    ct_kb_free(kb);
}

/* Plans place the largest first, whatever the order given. */
static void plan_order(void **state)
{
    ct_kb *kb = kb_from(rank_kb);
    ct_place_request reqs[2] = {{"small", NULL, NULL, 1, 0, 0, 0.5},
                                {"large", NULL, NULL, 4, 0, 0, 1.0}};
    ct_place_choice ch[2];
    (void)state;

    ctt_ok(ct_place_plan(ch, kb, reqs, 2, CT_PLACE_ENERGY));
    /* large (40 %) goes first to flat (0.2 -> 0.6), then small is cheaper
     * on arm1 (0.2 -> 0.25, 5 W) than on flat (0.6 -> 0.65, 10 W). */
    assert_string_equal(kb->hosts[ch[1].best.host].name, "flat");
    assert_string_equal(kb->hosts[ch[0].best.host].name, "arm1");
    assert_string_equal(kb->flavors[ch[1].flavor].name, "big");
    assert_int_equal(ch[0].n_feasible, 4);
    ct_kb_free(kb);
}

/* ---------------------------------------------------------------- random check */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* The ranking formula of place.h, written out again for the check. */
static double expected_score(const ct_kb *kb, const ct_kb_host *h, double factor, double load,
                             unsigned vcpus, double *util_after)
{
    const ct_kb_model *m = &kb->models[h->model];
    double before = h->powered ? ct_power_at(&m->power, h->load) : 0;

    *util_after =
        h->load + vcpus * load * kb->reference_mips / (factor * m->cores * m->mips_per_core);
    return (ct_power_at(&m->power, *util_after) - before) * kb->dcs[h->dc].pue;
}

static void random_kbs(void **state)
{
    (void)state;
    for (int round = 0; round < 50; round++) {
        ct_buf b;
        ct_buf_init(&b, 1 << 20);
        ctt_ok(ct_buf_appendf(&b,
                              "catena_kb: 1\nreference_mips: %d\nflavors: {f: {vcpus: 2, ram: "
                              "1 GiB}}\nmodels:\n",
                              500 + (int)(uniform() * 2000)));
        for (int m = 0; m < 3; m++) {
            double w = 50 + uniform() * 100;
            ctt_ok(ct_buf_appendf(&b,
                                  "  m%d: {architecture: x86_64, cores: %d, mips_per_core: %d, "
                                  "ram: 64 GiB, power: [",
                                  m, 2 + (int)(uniform() * 30), 1000 + (int)(uniform() * 2000)));
            for (int p = 0; p < CT_POWER_POINTS; p++, w += uniform() * 30)
                ctt_ok(ct_buf_appendf(&b, "%s%.3f", p ? ", " : "", w));
            ctt_ok(ct_buf_appendf(&b, "]}\n"));
        }
        ctt_ok(ct_buf_appendf(&b, "datacenters: {d: {pue: %.2f}}\nhosts:\n", 1 + uniform()));
        for (int h = 0; h < 20; h++)
            ctt_ok(ct_buf_appendf(&b, "  - {name: h%d, model: m%d, datacenter: %s, load: %.3f}\n",
                                  h, (int)(uniform() * 3), uniform() < 0.5 ? "d" : "e",
                                  uniform() * 0.9));
        ct_kb *kb = kb_from(b.data);
        ct_place_request req = {
            "r", NULL, NULL, 1 + (unsigned)(uniform() * 2), 0, 0, 0.1 + uniform() * 0.9};
        ct_place_candidate *c = NULL;
        ctt_ok(ct_place_rank(&c, kb, &req, CT_PLACE_ENERGY));
        double prev = -INFINITY;
        for (size_t i = 0; i < kb->n_hosts; i++) {
            double after,
                want = expected_score(kb, &kb->hosts[c[i].host], 1.0, req.load, req.vcpus, &after);
            near(c[i].util_after, after, "utilisation");
            if (c[i].reason == CT_PLACE_OK) {
                near(c[i].score, want, "score");
                assert_true(c[i].score >= prev);
                prev = c[i].score;
                assert_true(after <= 1.0);
            } else {
                assert_int_equal(c[i].reason, after > 1.0 ? CT_PLACE_LOAD : CT_PLACE_CPU);
            }
        }
        free(c);
        ct_kb_free(kb);
        ct_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(power_curve),   cmocka_unit_test(example_kb),
        cmocka_unit_test(json_kb),       cmocka_unit_test(kb_mistakes),
        cmocka_unit_test(hand_computed), cmocka_unit_test(capacity),
        cmocka_unit_test(plan_order),    cmocka_unit_test(random_kbs),
        cmocka_unit_test(excluded_dc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
