/* S2D end to end on two real OpenStack clouds (scripts/clouds up, started
 * by the ctest fixture in CATENA_CLOUDS_DIR): an instance booted in A is
 * migrated by an XML spec with `catena migrate`; B then runs an ACTIVE
 * instance with the same flavor, image bytes, keypair, security-group
 * rules and a floating IP. Bad specs touch nothing; a reset removes what
 * a migration made; cloud B stopped during the upload fails cleanly and
 * the migration resumes once B is back. */
#include "clouds.h"
#include "harness.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catena/cloud.h"

static const char *clouds_dir;
static const char *clouds_yaml;
static ct_cloud *cloud_a, *cloud_b;
static char src_id[64];

#define KEY_NAME "s2d-key"
#define PUBLIC_KEY                                                                                 \
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPkkhD60nTQJTCO5HmlKgCyX2OOwopAz6aYCBhbs6yDc s2d-test"

/* ---------------------------------------------------------------- clouds */

/* How many things of each kind project B holds, to prove nothing was
 * created. */
static void count_b(int counts[5])
{
    static const struct {
        ct_cloud_service s;
        const char *path, *member;
    } kinds[5] = {{CT_CLOUD_COMPUTE, "servers", "servers"},
                  {CT_CLOUD_IMAGE, "v2/images", "images"},
                  {CT_CLOUD_COMPUTE, "os-keypairs", "keypairs"},
                  {CT_CLOUD_NETWORK, "v2.0/security-groups", "security_groups"},
                  {CT_CLOUD_NETWORK, "v2.0/floatingips", "floatingips"}};

    for (int i = 0; i < 5; i++) {
        json_t *r = ctt_cloud_call(cloud_b, kinds[i].s, "GET", kinds[i].path, NULL, 200);
        counts[i] = (int)json_array_size(json_object_get(r, kinds[i].member));
        json_decref(r);
    }
}

static void delete_group_a(const char *name)
{
    json_t *r = NULL, *g;
    size_t i;

    ct_cloud_call(&r, cloud_a, CT_CLOUD_NETWORK, "GET",
                  ctt_path("v2.0/security-groups?name=%s", name), NULL, NULL);
    json_array_foreach (json_object_get(r, "security_groups"), i, g) {
        json_t *d = NULL;
        ct_cloud_call(
            &d, cloud_a, CT_CLOUD_NETWORK, "DELETE",
            ctt_path("v2.0/security-groups/%s", json_string_value(json_object_get(g, "id"))), NULL,
            NULL);
        json_decref(d);
    }
    json_decref(r);
}

/* Removes what setup makes in A (the fixture's clouds outlive this test,
 * and a run that died may have left them). */
static void cleanup_a(void)
{
    json_t *r = NULL;

    ctt_cloud_delete_servers(cloud_a, "^s2d-src$");
    ct_cloud_call(&r, cloud_a, CT_CLOUD_COMPUTE, "DELETE", "os-keypairs/" KEY_NAME, NULL, NULL);
    json_decref(r);
    delete_group_a("s2d-web");
}

/* The source: a server in A with a keypair and a group allowing tcp/80
 * and ping beside the default group. */
static int setup(void **state)
{
    json_t *r;
    char body[1024];

    (void)state;
    if ((clouds_dir = ctt_clouds_dir()) == NULL)
        return -1;
    clouds_yaml = ctt_path("%s/clouds.yaml", clouds_dir);
    cloud_a = ctt_cloud_connect("a");
    cloud_b = ctt_cloud_connect("b");
    cleanup_a();

    json_decref(ctt_cloud_call(
        cloud_a, CT_CLOUD_COMPUTE, "POST", "os-keypairs",
        "{\"keypair\":{\"name\":\"" KEY_NAME "\",\"public_key\":\"" PUBLIC_KEY "\"}}", 201));
    r = ctt_cloud_call(cloud_a, CT_CLOUD_NETWORK, "POST", "v2.0/security-groups",
                       "{\"security_group\":{\"name\":\"s2d-web\"}}", 201);
    snprintf(body, sizeof(body),
             "{\"security_group_rule\":{\"security_group_id\":\"%s\",\"direction\":\"ingress\","
             "\"ethertype\":\"IPv4\",\"protocol\":\"tcp\",\"port_range_min\":80,"
             "\"port_range_max\":80,\"remote_ip_prefix\":\"0.0.0.0/0\"}}",
             json_string_value(json_object_get(json_object_get(r, "security_group"), "id")));
    json_decref(
        ctt_cloud_call(cloud_a, CT_CLOUD_NETWORK, "POST", "v2.0/security-group-rules", body, 201));
    snprintf(body, sizeof(body),
             "{\"security_group_rule\":{\"security_group_id\":\"%s\",\"direction\":\"ingress\","
             "\"ethertype\":\"IPv4\",\"protocol\":\"icmp\"}}",
             json_string_value(json_object_get(json_object_get(r, "security_group"), "id")));
    json_decref(
        ctt_cloud_call(cloud_a, CT_CLOUD_NETWORK, "POST", "v2.0/security-group-rules", body, 201));
    json_decref(r);

    snprintf(body, sizeof(body),
             "{\"server\":{\"name\":\"s2d-src\",\"imageRef\":\"%s\",\"flavorRef\":\"%s\","
             "\"key_name\":\"" KEY_NAME "\",\"networks\":[{\"uuid\":\"%s\"}],"
             "\"security_groups\":[{\"name\":\"default\"},{\"name\":\"s2d-web\"}]}}",
             ctt_clouds_env("CLOUD_A_IMAGE_ID"), ctt_cloud_flavor(cloud_a, "m1.small"),
             ctt_clouds_env("CLOUD_A_PRIVATE_NET_ID"));
    r = ctt_cloud_call(cloud_a, CT_CLOUD_COMPUTE, "POST", "servers", body, 202);
    snprintf(src_id, sizeof(src_id), "%s",
             json_string_value(json_object_get(json_object_get(r, "server"), "id")));
    json_decref(r);
    ctt_cloud_wait_server(cloud_a, src_id, "ACTIVE");
    return 0;
}

/* ---------------------------------------------------------------- specs */

/* Writes a spec into the test's temporary folder; returns its path. */
static const char *spec_file(const char *name, const char *instance, const char *login_b,
                             const char *group, const char *ip)
{
    const char *path = ctt_path("%s/%s.xml", ctt_tmpdir(), name);
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fprintf(f,
            "<?xml version=\"1.0\"?>\n<MigrationSpecs>\n"
            "  <CloudAlogIn><cloud>a</cloud></CloudAlogIn>\n"
            "  <SnapshotToCreate><InstanceID>%s</InstanceID>"
            "<SnapshotName>s2d-snap</SnapshotName></SnapshotToCreate>\n"
            "  <CloudBlogIn>%s</CloudBlogIn>\n"
            "  <ImageToUpload><ImageName>s2d-image</ImageName><Format>raw</Format>"
            "<Access>False</Access></ImageToUpload>\n"
            "  <Keypair><Name>" KEY_NAME "</Name></Keypair>\n"
            "  <InstanceToLaunch><InstanceName>s2d-dst</InstanceName>"
            "<SecurityGroup>%s</SecurityGroup></InstanceToLaunch>\n"
            "  <AllocateIP><IP>%s</IP></AllocateIP>\n"
            "</MigrationSpecs>\n",
            instance, login_b, group, ip);
    fclose(f);
    return path;
}

static const char *state_dir(void)
{
    return ctt_path("%s/state", ctt_tmpdir());
}

/* `catena migrate ARGS... --clouds Y --state S --json`. */
static void migrate(ctt_run *r, const char *a1, const char *a2, const char *a3)
{
    const char *args[] = {"migrate", a1,          a2,       "--clouds", clouds_yaml,
                          "--state", state_dir(), "--json", a3,         NULL};
    ctt_catena(r, args);
}

/* The migration id printed on stderr ("migration ID"). */
static const char *migration_id(const char *err)
{
    const char *p = strstr(err, "migration ");

    assert_non_null(p);
    return ctt_path("%.32s", p + strlen("migration "));
}

/* ---------------------------------------------------------------- tests */

static void bad_spec_touches_nothing(void **state)
{
    const char *path = ctt_path("%s/bad.xml", ctt_tmpdir());
    FILE *f = fopen(path, "w");
    struct stat st;
    ctt_run r;
    int before[5], after[5];

    (void)state;
    count_b(before);
    assert_non_null(f);
    fputs("<MigrationSpecs>\n  <CloudAlogIn><cloud>a</cloud></CloudAlogIn>\n"
          "  <SnapshotToCreate><InstanceID>x</InstanceID></SnapshotToCreate>\n</MigrationSpecs>\n",
          f);
    fclose(f);
    migrate(&r, "--spec", path, NULL);
    assert_int_equal(ctt_exit_code(&r), 2);
    assert_non_null(strstr(r.err, "bad.xml:3: Element 'SnapshotToCreate'"));
    ctt_run_free(&r);
    assert_int_not_equal(stat(state_dir(), &st), 0); /* no state either */
    count_b(after);
    assert_memory_equal(before, after, sizeof(before));
}

/* Names that do not resolve: each exits 2 naming the problem, and
 * neither cloud gains anything. */
static void unresolvable_specs_touch_nothing(void **state)
{
    const char *wrong_login = ctt_path("<cloud>%s</cloud><tenant>catena</tenant>"
                                       "<username>catena</username><password>wrong</password>",
                                       ctt_clouds_env("CLOUD_B_AUTH_URL"));
    const struct {
        const char *spec, *says;
    } cases[] = {
        {spec_file("no-instance", "no-such-instance", "<cloud>b</cloud>", "", "new"),
         "no instance 'no-such-instance'"},
        {spec_file("wrong-password", src_id, wrong_login, "", "new"), "refused the login"},
        {spec_file("no-cloud", src_id, "<cloud>c</cloud>", "", "new"), "no cloud 'c'"},
        {spec_file("no-ip", src_id, "<cloud>b</cloud>", "", "198.51.100.7"),
         "no floating IP 198.51.100.7"},
    };
    int before[5], after[5], a_images;
    json_t *imgs;

    (void)state;
    count_b(before);
    imgs = ctt_cloud_call(cloud_a, CT_CLOUD_IMAGE, "GET", "v2/images", NULL, 200);
    a_images = (int)json_array_size(json_object_get(imgs, "images"));
    json_decref(imgs);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ctt_run r;
        migrate(&r, "--spec", cases[i].spec, NULL);
        if (ctt_exit_code(&r) != 2 || strstr(r.err, cases[i].says) == NULL)
            fail_msg("case %zu: exit %d, stderr: %s", i, ctt_exit_code(&r), r.err);
        ctt_run_free(&r);
    }
    count_b(after);
    assert_memory_equal(before, after, sizeof(before));
    imgs = ctt_cloud_call(cloud_a, CT_CLOUD_IMAGE, "GET", "v2/images", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(imgs, "images")), a_images);
    json_decref(imgs);
}

/* Checks B after a migration whose JSON is m. */
static void check_target(const json_t *m)
{
    json_t *data = json_object_get(m, "data"), *reply, *srv, *img, *kp, *rules, *fips, *rule;
    const char *id = json_string_value(json_object_get(json_object_get(data, "server"), "id"));
    const char *port = json_string_value(json_object_get(json_object_get(data, "server"), "port"));
    const char *fip =
        json_string_value(json_object_get(json_object_get(data, "overview"), "floating_ip"));
    bool tcp80 = false, icmp = false;
    uint64_t size = 0;
    char md5[33];
    size_t i;

    assert_non_null(id);
    assert_non_null(fip);
    reply = ctt_cloud_call(cloud_b, CT_CLOUD_COMPUTE, "GET", ctt_path("servers/%s", id), NULL, 200);
    srv = json_object_get(reply, "server");
    assert_string_equal(json_string_value(json_object_get(srv, "status")), "ACTIVE");
    assert_string_equal(json_string_value(json_object_get(srv, "name")), "s2d-dst");
    assert_string_equal(json_string_value(json_object_get(srv, "key_name")), KEY_NAME);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(srv, "flavor"), "original_name")),
        "m1.small");

    /* The image holds A's bytes. */
    img = ctt_cloud_call(cloud_b, CT_CLOUD_IMAGE, "GET",
                         ctt_path("v2/images/%s", json_string_value(json_object_get(
                                                      json_object_get(srv, "image"), "id"))),
                         NULL, 200);
    assert_string_equal(json_string_value(json_object_get(img, "checksum")),
                        ctt_clouds_env("CLOUD_A_IMAGE_CHECKSUM"));
    assert_int_equal(ct_cloud_download(cloud_b, CT_CLOUD_IMAGE,
                                       ctt_path("v2/images/%s/file",
                                                json_string_value(json_object_get(img, "id"))),
                                       ctt_path("%s/b.img", ctt_tmpdir()), &size, md5),
                     200);
    assert_string_equal(md5, ctt_clouds_env("CLOUD_A_IMAGE_CHECKSUM"));
    assert_int_equal(size, strtoull(ctt_clouds_env("CLOUD_A_IMAGE_SIZE"), NULL, 10));
    json_decref(img);

    kp = ctt_cloud_call(cloud_b, CT_CLOUD_COMPUTE, "GET", "os-keypairs/" KEY_NAME, NULL, 200);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(kp, "keypair"), "public_key")),
        PUBLIC_KEY);
    json_decref(kp);

    /* The group B made holds A's rules. */
    rules = ctt_cloud_call(
        cloud_b, CT_CLOUD_NETWORK, "GET",
        ctt_path("v2.0/security-group-rules?security_group_id=%s",
                 json_string_value(json_object_get(json_object_get(data, "security_group"), "id"))),
        NULL, 200);
    json_array_foreach (json_object_get(rules, "security_group_rules"), i, rule) {
        const char *proto = json_string_value(json_object_get(rule, "protocol"));
        if (proto != NULL && strcmp(proto, "tcp") == 0 &&
            json_integer_value(json_object_get(rule, "port_range_min")) == 80)
            tcp80 = true;
        if (proto != NULL && strcmp(proto, "icmp") == 0)
            icmp = true;
    }
    assert_true(tcp80 && icmp);
    json_decref(rules);

    fips = ctt_cloud_call(cloud_b, CT_CLOUD_NETWORK, "GET",
                          ctt_path("v2.0/floatingips?port_id=%s", port), NULL, 200);
    assert_int_equal(json_array_size(json_object_get(fips, "floatingips")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(fips, "floatingips"), 0),
                                          "floating_ip_address")),
        fip);
    json_decref(fips);
    json_decref(reply);
}

static void reset_and_check(const char *id, const int before[5], const char *snapshot)
{
    int after[5];
    ctt_run r;

    migrate(&r, "reset", id, NULL);
    if (ctt_exit_code(&r) != 0)
        fail_msg("reset: %s", r.err);
    ctt_run_free(&r);
    count_b(after);
    assert_memory_equal(before, after, 5 * sizeof(int));
    json_decref(ctt_cloud_call(cloud_a, CT_CLOUD_IMAGE, "GET", ctt_path("v2/images/%s", snapshot),
                               NULL, 404));
    assert_int_not_equal(access(ctt_path("%s/%s.img", state_dir(), id), F_OK), 0);
    migrate(&r, "status", id, NULL);
    assert_non_null(strstr(r.out, "\"status\":\"reset\""));
    ctt_run_free(&r);
}

static void migrates_by_xml(void **state)
{
    const char *spec = spec_file("good", src_id, "<cloud>b</cloud>", "s2d-web-b", "new");
    int before[5];
    json_t *m = NULL;
    ctt_run r;
    char *id, *snap;

    (void)state;
    count_b(before);
    migrate(&r, "--spec", spec, NULL);
    if (ctt_exit_code(&r) != 0)
        fail_msg("migrate: exit %d: %s", ctt_exit_code(&r), r.err);
    for (int s = 1; s <= CT_CLOUD_STEPS; s++)
        assert_non_null(strstr(r.err, ctt_path("[%d/9] %s: done", s, ct_cloud_step_name(s))));
    assert_int_equal(ct_json_parse(&m, r.out, strlen(r.out), 32), 0);
    assert_string_equal(json_string_value(json_object_get(m, "status")), "done");
    assert_int_equal(json_integer_value(json_object_get(m, "step")), 9);
    check_target(m);
    id = strdup(json_string_value(json_object_get(m, "id")));
    snap = strdup(json_string_value(
        json_object_get(json_object_get(json_object_get(m, "data"), "snapshot"), "id")));
    ctt_run_free(&r);
    json_decref(m);

    /* Done is done: running it again is refused. */
    migrate(&r, "resume", id, NULL);
    assert_int_equal(ctt_exit_code(&r), 2);
    ctt_run_free(&r);

    reset_and_check(id, before, snap);
    free(id);
    free(snap);
}

/* ---------------------------------------------------------------- usage */

/* The source instance's usage in A: hours up so far, priced per vCPU
 * hour; bad arguments exit 2. */
static void usage_of_the_source(void **state)
{
    const char *args[] = {"usage",     "--cloud", "a",       "--clouds",
                          clouds_yaml, "--json",  "--price", "vcpu=2,ram_gb=0,disk_gb=0",
                          NULL};
    const char *bad[][3] = {{"--price", "gpu=1", NULL},
                            {"--from", "yesterday", NULL},
                            {"--from", "2030-01-01T00:00:00Z", NULL}};
    json_t *u = NULL, *inst;
    bool seen = false;
    size_t i;
    ctt_run r;

    (void)state;
    ctt_catena(&r, args);
    if (ctt_exit_code(&r) != 0)
        fail_msg("usage: %s", r.err);
    assert_int_equal(ct_json_parse(&u, r.out, strlen(r.out), 32), 0);
    json_array_foreach (json_object_get(u, "instances"), i, inst) {
        double hours = json_number_value(json_object_get(inst, "hours"));
        if (strcmp(json_string_value(json_object_get(inst, "id")), src_id) != 0)
            continue;
        seen = true;
        assert_true(hours > 0 && hours < 24);
        assert_int_equal(json_integer_value(json_object_get(inst, "vcpus")), 1);
        assert_true(json_number_value(json_object_get(inst, "vcpu_hours")) == hours);
        assert_true(json_number_value(json_object_get(inst, "amount")) == 2 * hours);
        assert_null(json_object_get(inst, "ledger_hours")); /* no gateway asked */
    }
    assert_true(seen);
    json_decref(u);
    ctt_run_free(&r);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *b[] = {"usage",     "--cloud", "a",       "--clouds",
                           clouds_yaml, bad[i][0], bad[i][1], NULL};
        ctt_catena(&r, b);
        assert_int_equal(ctt_exit_code(&r), 2);
        ctt_run_free(&r);
    }
}

/* ---------------------------------------------------------------- B stopped */

static pid_t stopped; /* a process group stopped by the test */

static pid_t service_pid(const char *name)
{
    char *text = NULL, *line, *save = NULL;
    size_t len = 0;
    pid_t pid = 0;

    assert_int_equal(ct_file_read(&text, &len, ctt_path("%s/pids", clouds_dir), 1 << 20), 0);
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        long p = 0, t = 0;
        char n[64];
        if (sscanf(line, "%ld %ld %63s", &p, &t, n) == 3 && strcmp(n, name) == 0)
            pid = (pid_t)p;
    }
    free(text);
    if (pid <= 0)
        fail_msg("no %s in %s/pids", name, clouds_dir);
    return pid;
}

/* SIGSTOP or SIGCONT to a service and what it forked. */
static void signal_service(pid_t pid, int sig)
{
    pid_t group = getpgid(pid);

    assert_int_equal(group == pid ? kill(-pid, sig) : kill(pid, sig), 0);
}

static void cloud_b_stopped_during_upload(void **state)
{
    const char *spec = spec_file("stopped", src_id, "<cloud>b</cloud>", "", "new");
    const char *log = ctt_path("%s/stopped.log", ctt_tmpdir());
    const char *bin = ctt_catena_bin();
    char *argv[] = {(char *)bin, "migrate",
                    "--spec",    (char *)spec,
                    "--clouds",  (char *)clouds_yaml,
                    "--state",   (char *)state_dir(),
                    "--timeout", "3000",
                    NULL};
    pid_t glance = service_pid("b-glance-api");
    char *text = NULL, *id, *snap;
    int before[5], status = 0;
    json_t *m = NULL;
    size_t len = 0;
    ct_proc p;
    ctt_run r;

    (void)state;
    count_b(before);
    ctt_spawn(&p, argv, log);
    /* Stop B's image service as step 5 begins. */
    for (int i = 0; i < 6000; i++) {
        free(text);
        text = NULL;
        if (ct_file_read(&text, &len, log, 1 << 20) == 0 &&
            strstr(text, "[5/9] upload image: start"))
            break;
        usleep(20000);
    }
    assert_non_null(strstr(text, "[5/9] upload image: start"));
    signal_service(glance, SIGSTOP);
    stopped = glance;
    assert_int_equal(waitpid(p.pid, &status, 0), p.pid);
    ctt_reaped(&p);
    signal_service(glance, SIGCONT);
    stopped = 0;
    free(text);
    assert_int_equal(ct_file_read(&text, &len, log, 1 << 20), 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
        !strstr(text, "[5/9] upload image: failed"))
        fail_msg("while B was stopped: status %d: %s", status, text);
    id = strdup(migration_id(text));
    free(text);

    /* B is back: the migration goes on from step 5. */
    migrate(&r, "resume", id, NULL);
    if (ctt_exit_code(&r) != 0)
        fail_msg("resume: %s", r.err);
    assert_null(strstr(r.err, "[4/9]"));
    assert_non_null(strstr(r.err, "[5/9] upload image: done"));
    assert_int_equal(ct_json_parse(&m, r.out, strlen(r.out), 32), 0);
    ctt_run_free(&r);
    snap = strdup(json_string_value(
        json_object_get(json_object_get(json_object_get(m, "data"), "snapshot"), "id")));
    check_target(m);
    json_decref(m);
    reset_and_check(id, before, snap);
    free(id);
    free(snap);
}

/* ---------------------------------------------------------------- the ledger */

static ct_proc up;
static json_t *fed;

static const char *fed_dc(int i, const char *key)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(fed, "datacenters"), i), key));
}

static long gw(json_t **out, const char *method, const char *path, const char *token,
               const char *body)
{
    long status = 0;

    *out = NULL;
    assert_int_equal(
        ctt_http(&status, out, method,
                 ctt_path("%s%s", json_string_value(json_object_get(fed, "api_url")), path), token,
                 body),
        0);
    return status;
}

/* The source instance registered as a VC of DC1; returns its tag. */
/* Registers the source instance as DC1's VC (created at a time of its
 * own: the tag depends on it) and returns its tag. */
static const char *register_source(const char *created)
{
    json_t *out = NULL;
    const char *hash, *tag = NULL;
    long st;

    st = gw(&out, "POST", "/datacenter/DC1/container/register/", fed_dc(0, "token"),
            ctt_path("{\"vc_type\":\"openstack:vm\",\"available\":true,\"vcpu\":1,"
                     "\"vram\":1024,\"vdisk\":10,\"id\":\"%s\",\"ip_address\":"
                     "\"http://10.0.0.5\",\"controller\":\"%s\","
                     "\"created\":\"%s\"}",
                     src_id, ct_cloud_endpoint(cloud_a, CT_CLOUD_COMPUTE), created));
    if (st != 200)
        fail_msg("register: HTTP %ld", st);
    hash = ctt_path("%s", json_string_value(json_object_get(out, "tx_hash")));
    json_decref(out);
    for (int i = 0; i < 400 && tag == NULL; i++) {
        if (gw(&out, "GET", ctt_path("/transaction/%s/vctag/", hash), NULL, NULL) == 200)
            tag = ctt_path("%s", json_string_value(json_object_get(out, "vc_tag")));
        json_decref(out);
        usleep(50000);
    }
    assert_non_null(tag);
    return tag;
}

/* A VC moved by `catena migrate --to DC2`: DC1 recorded the intent, DC2
 * the confirmation with B's UUID, floating IP and controller; the VC's
 * details and history say so. */
static void migration_on_the_ledger(void **state)
{
    const char *spec = spec_file("ledger", src_id, "<cloud>b</cloud>", "", "new");
    const char *tag, *fedfile = ctt_path("%s/up/federation.json", ctt_tmpdir());
    const char *args[] = {"migrate",      "--spec",    spec,      "--clouds", clouds_yaml,
                          "--state",      state_dir(), "--json",  "--to",     "DC2",
                          "--federation", fedfile,     "--price", "7",        "--invoice",
                          "42",           NULL};
    json_t *m = NULL, *d = NULL, *h = NULL, *ov, *e;
    int before[5];
    bool pending = false, migrated = false;
    char *id, *snap;
    size_t i;
    ctt_run r;

    (void)state;
    if (ctt_up_start(&up, &fed, ctt_path("%s/up", ctt_tmpdir())) < 0)
        fail_msg("catena up did not start");
    tag = register_source("2026-12-07T00:00:00.000Z");
    count_b(before);
    ctt_catena(&r, args);
    if (ctt_exit_code(&r) != 0)
        fail_msg("migrate: exit %d: %s", ctt_exit_code(&r), r.err);
    assert_non_null(strstr(r.err, "DC1 recorded the migration intent"));
    assert_non_null(strstr(r.err, "confirmed on the ledger"));
    assert_int_equal(ct_json_parse(&m, r.out, strlen(r.out), 32), 0);
    ctt_run_free(&r);
    ov = json_object_get(json_object_get(m, "data"), "overview");

    assert_int_equal(gw(&d, "GET", ctt_path("/container/%s/details/", tag), NULL, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(d, "id")),
                        json_string_value(json_object_get(ov, "id")));
    assert_string_equal(
        json_string_value(json_object_get(d, "ip_address")),
        ctt_path("http://%s", json_string_value(json_object_get(ov, "floating_ip"))));
    assert_string_equal(json_string_value(json_object_get(d, "controller")),
                        ct_cloud_endpoint(cloud_b, CT_CLOUD_COMPUTE));
    assert_string_equal(json_string_value(json_object_get(d, "host")), fed_dc(1, "wallet"));
    json_decref(d);
    assert_int_equal(gw(&h, "GET", ctt_path("/container/%s/history/", tag), NULL, NULL), 200);
    json_array_foreach (h, i, e) {
        const char *ev = json_string_value(json_object_get(e, "name"));
        pending = pending || (ev != NULL && strcmp(ev, "ContainerMigrationPending") == 0);
        migrated = migrated || (ev != NULL && strcmp(ev, "ContainerMigrated") == 0);
    }
    if (!pending || !migrated)
        fail_msg("history: %s", json_dumps(h, 0));
    json_decref(h);

    /* Usage in B beside the ledger's uptime of the same VC. */
    {
        const char *uargs[] = {"usage",        "--cloud", "b",      "--clouds", clouds_yaml,
                               "--federation", fedfile,   "--json", NULL};
        json_t *u = NULL, *inst;
        bool seen = false;
        ctt_catena(&r, uargs);
        if (ctt_exit_code(&r) != 0)
            fail_msg("usage: %s", r.err);
        assert_int_equal(ct_json_parse(&u, r.out, strlen(r.out), 32), 0);
        json_array_foreach (json_object_get(u, "instances"), i, inst) {
            if (!json_equal(json_object_get(inst, "id"), json_object_get(ov, "id")))
                continue;
            seen = true;
            assert_string_equal(json_string_value(json_object_get(inst, "vc_tag")), tag);
            assert_true(json_is_number(json_object_get(inst, "ledger_hours")));
            assert_true(json_number_value(json_object_get(inst, "ledger_hours")) > 0);
        }
        assert_true(seen);
        json_decref(u);
        ctt_run_free(&r);
    }

    id = strdup(json_string_value(json_object_get(m, "id")));
    snap = strdup(json_string_value(
        json_object_get(json_object_get(json_object_get(m, "data"), "snapshot"), "id")));
    json_decref(m);
    reset_and_check(id, before, snap);
    free(id);
    free(snap);
}

/* ---------------------------------------------------------------- the gateway */

static ct_proc gwp;
static char gw_url[64];

/* A second gateway of the federation, with migrations on. */
static void gateway_start(void)
{
    json_t *o = json_pack("{s:s,s:s}", "migrations_dir", ctt_path("%s/gw-migrations", ctt_tmpdir()),
                          "clouds_yaml", clouds_yaml);

    ctt_gateway_start(&gwp, gw_url, ctt_path("%s/up", ctt_tmpdir()), o);
    json_decref(o);
}

/* POST body text (the spec) with token and, when target is not NULL,
 * the target DC's token; returns the status. */
static long gw_post_to(json_t **out, const char *path, const char *token, const char *target,
                       const char *body)
{
    const char *headers[2] = {ctt_path("X-Catena-Target-Token: %s", target ? target : ""), NULL};
    long st = 0;

    *out = NULL;
    assert_int_equal(ct_http_request_with(&st, out, "POST", ctt_path("%s%s", gw_url, path), token,
                                          target ? headers : NULL, body, 60000),
                     0);
    return st;
}

static long gw_post(json_t **out, const char *path, const char *token, const char *body)
{
    return gw_post_to(out, path, token, NULL, body);
}

/* Polls the status resource until the migration's status is want. */
static json_t *gw_wait_status(const char *id, const char *want)
{
    for (int i = 0; i < 3000; i++) {
        json_t *m = NULL;
        long st = 0;
        const char *s;
        ctt_http(&st, &m, "GET", ctt_path("%s/api/migrations/%s", gw_url, id), fed_dc(0, "token"),
                 NULL);
        s = json_string_value(json_object_get(m, "status"));
        if (st == 200 && s != NULL && strcmp(s, want) == 0)
            return m;
        if (st != 200 || (s != NULL && strcmp(s, "failed") == 0))
            fail_msg("migration %s: HTTP %ld: %s", id, st, m ? json_dumps(m, 0) : "");
        json_decref(m);
        usleep(100000);
    }
    fail_msg("migration %s never %s", id, want);
    return NULL;
}

/* Resets id through the gateway and waits until it is. */
static void gw_reset(const char *id, const char *token)
{
    json_t *a = NULL;

    assert_int_equal(gw_post(&a, ctt_path("/api/migrations/%s/reset", id), token, ""), 202);
    json_decref(a);
    json_decref(gw_wait_status(id, "reset"));
}

/* The seed's XML API call: POST /api/migrations runs the migration, its
 * status resource follows it to the end; bad specs are 400 with every
 * finding; resume of a done one is 409; reset removes what it made. */
static void migration_through_the_gateway(void **state)
{
    const char *spec = spec_file("api", src_id, "<cloud>b</cloud>", "", "new"), *t1;
    char *xml = NULL, *id, *xml_findings;
    json_t *a = NULL, *m;
    int before[5], after[5];

    (void)state;
    if (fed == NULL)
        fail_msg("needs the federation of migration_on_the_ledger");
    t1 = fed_dc(0, "token");
    gateway_start();
    count_b(before);
    assert_int_equal(ct_file_read(&xml, NULL, spec, 1 << 20), 0);

    assert_int_equal(gw_post(&a, "/api/migrations", NULL, xml), 401);
    json_decref(a);
    assert_int_equal(gw_post(&a, "/api/migrations", t1,
                             "<MigrationSpecs>\n<CloudAlogIn><cloud>a</cloud></CloudAlogIn>\n"
                             "<SnapshotToCreate><InstanceID>x</InstanceID></SnapshotToCreate>\n"
                             "</MigrationSpecs>"),
                     400);
    xml_findings = json_dumps(json_object_get(a, "findings"), 0);
    assert_non_null(strstr(xml_findings, "spec:3: Element 'SnapshotToCreate'"));
    free(xml_findings);
    json_decref(a);

    assert_int_equal(gw_post(&a, "/api/migrations", t1, xml), 202);
    id = strdup(json_string_value(json_object_get(a, "id")));
    assert_string_equal(json_string_value(json_object_get(a, "location")),
                        ctt_path("/api/migrations/%s", id));
    json_decref(a);
    free(xml);
    m = gw_wait_status(id, "done");
    check_target(m);
    json_decref(m);

    assert_int_equal(gw_post(&a, ctt_path("/api/migrations/%s/resume", id), t1, ""), 409);
    json_decref(a);
    gw_reset(id, t1);
    count_b(after);
    assert_memory_equal(before, after, sizeof(before));
    assert_int_equal(gw_post(&a, "/api/migrations/0123/resume", t1, ""), 404);
    json_decref(a);
    free(id);

    /* ?to=DC2: DC1 (the bearer) records the intent, DC2 (its token in
     * X-Catena-Target-Token) the confirmation; without DC2's token: 403,
     * nothing started. */
    const char *tag = register_source("2026-12-07T01:00:00.000Z"), *t2 = fed_dc(1, "token");
    const char *to = "/api/migrations?to=DC2&price=9&invoice=77";
    json_t *d = NULL;
    assert_int_equal(ct_file_read(&xml, NULL, spec, 1 << 20), 0);
    assert_int_equal(gw_post_to(&a, to, t1, t1, xml), 403);
    json_decref(a);
    assert_int_equal(gw_post_to(&a, "/api/migrations?to=DC2&price=x", t1, t2, xml), 400);
    json_decref(a);
    assert_int_equal(gw_post_to(&a, to, t1, t2, xml), 202);
    free(xml);
    id = strdup(json_string_value(json_object_get(a, "id")));
    json_decref(a);
    m = gw_wait_status(id, "done");
    /* The confirmation is mined when the record says done; the details
     * come from the catena up gateway's cache, which follows the chain on
     * its own and may be a poll behind. */
    for (int i = 0;; i++) {
        assert_int_equal(gw(&d, "GET", ctt_path("/container/%s/details/", tag), NULL, NULL), 200);
        if (strcmp(json_string_value(json_object_get(d, "host")) ?: "", fed_dc(1, "wallet")) == 0 ||
            i == 200)
            break; /* the checks below say what is wrong after 20 s */
        json_decref(d);
        usleep(100000);
    }
    assert_string_equal(json_string_value(json_object_get(d, "id")),
                        json_string_value(json_object_get(
                            json_object_get(json_object_get(m, "data"), "overview"), "id")));
    assert_string_equal(json_string_value(json_object_get(d, "host")), fed_dc(1, "wallet"));
    json_decref(d);
    json_decref(m);
    gw_reset(id, t1);
    free(id);
    ctt_stop(&gwp);
}

/* The gateway killed with -9 in the middle of a migration it runs: the
 * record shows it interrupted, a new gateway resumes it from where it
 * was, and B ends with one of each thing (a reset then leaves B as it
 * was: nothing was made twice). */
static void gateway_killed_mid_migration(void **state)
{
    const char *spec = spec_file("killed", src_id, "<cloud>b</cloud>", "", "new");
    const char *t1 = fed_dc(0, "token");
    char *xml = NULL, *id;
    int before[5], after[5], status = 0;
    json_t *a = NULL, *m = NULL;
    ctt_run r;

    (void)state;
    if (fed == NULL)
        fail_msg("needs the federation of migration_on_the_ledger");
    count_b(before);
    gateway_start();
    assert_int_equal(ct_file_read(&xml, NULL, spec, 1 << 20), 0);
    assert_int_equal(gw_post(&a, "/api/migrations", t1, xml), 202);
    free(xml);
    id = strdup(json_string_value(json_object_get(a, "id")));
    json_decref(a);
    /* Killed once the snapshot is made, while the image moves. */
    for (int i = 0; i < 3000; i++) {
        long st = 0;
        ctt_http(&st, &m, "GET", ctt_path("%s/api/migrations/%s", gw_url, id), t1, NULL);
        json_int_t step = json_integer_value(json_object_get(m, "step"));
        json_decref(m);
        m = NULL;
        if (step >= 2)
            break;
        usleep(20000);
    }
    ct_proc_signal(&gwp, SIGKILL);
    assert_int_equal(waitpid(gwp.pid, &status, 0), gwp.pid);
    ctt_reaped(&gwp);

    /* The record says so: the gateway's own store, read by the CLI. */
    const char *args[] = {
        "migrate", "status", id, "--state", ctt_path("%s/gw-migrations", ctt_tmpdir()), NULL};
    ctt_catena(&r, args);
    assert_non_null(strstr(r.out, "\"status\":\"failed\""));
    assert_non_null(strstr(r.out, "interrupted"));
    ctt_run_free(&r);

    gateway_start();
    assert_int_equal(gw_post(&a, ctt_path("/api/migrations/%s/resume", id), t1, ""), 202);
    json_decref(a);
    /* 202: accepted; the record shows it running once the runner has
     * claimed it, a moment later. */
    for (int i = 0; i < 500; i++) {
        long st = 0;
        ctt_http(&st, &m, "GET", ctt_path("%s/api/migrations/%s", gw_url, id), t1, NULL);
        const char *s = json_string_value(json_object_get(m, "status"));
        bool claimed = s != NULL && strcmp(s, "failed") != 0;
        json_decref(m);
        m = NULL;
        if (claimed)
            break;
        usleep(20000);
    }
    m = gw_wait_status(id, "done");
    check_target(m);
    json_decref(m);
    gw_reset(id, t1);
    count_b(after);
    assert_memory_equal(before, after, sizeof(before));
    free(id);
    ctt_stop(&gwp);
}

static int teardown(void **state)
{
    (void)state;
    if (stopped > 0)
        signal_service(stopped, SIGCONT);
    if (cloud_a != NULL)
        cleanup_a();
    ct_cloud_free(cloud_a);
    ct_cloud_free(cloud_b);
    if (up.pid > 0)
        ctt_stop(&up);
    json_decref(fed);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_spec_touches_nothing),
        cmocka_unit_test(unresolvable_specs_touch_nothing),
        cmocka_unit_test(usage_of_the_source),
        cmocka_unit_test(migrates_by_xml),
        cmocka_unit_test(cloud_b_stopped_during_upload),
        cmocka_unit_test(migration_on_the_ledger),
        cmocka_unit_test(migration_through_the_gateway),
        cmocka_unit_test(gateway_killed_mid_migration),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
