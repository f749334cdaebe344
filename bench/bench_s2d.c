/* S2D migration time against its floor (issue 14): an instance booted in
 * cloud A from an image of N MiB (default 1024) is moved to cloud B with
 * `catena migrate`; beside it, the same bytes copied from Glance A to
 * Glance B with the curl CLI in one pipe (download | upload), the least a
 * copy between the two can take. Rounds alternate floor and migration.
 *   usage: bench_s2d CLOUDS_DIR [MIB] [ROUNDS]   (scripts/clouds up CLOUDS_DIR first) */
#include "bench_common.h"

#include <fcntl.h>

#include "catena/cloud.h"

static ct_cloud *cloud(const char *yaml, const char *name)
{
    ct_cloud_auth a;
    ct_cloud *c = NULL;

    if (ct_cloud_auth_load(&a, yaml, name) < 0 || ct_cloud_connect(&c, &a, 600000) < 0) {
        fprintf(stderr, "bench_s2d: cloud %s: %s\n", name, ct_error_last());
        exit(1);
    }
    ct_cloud_auth_free(&a);
    return c;
}

/* A request that must answer want; the reply (new ref). */
static json_t *must(ct_cloud *c, ct_cloud_service s, const char *method, const char *path,
                    json_t *body, long want)
{
    json_t *reply = NULL;
    long st = ct_cloud_call(&reply, c, s, method, path, body, NULL);

    json_decref(body);
    if (st != want) {
        fprintf(stderr, "bench_s2d: %s %s: HTTP %ld: %s\n", method, path, st,
                reply ? json_dumps(reply, 0) : ct_error_last());
        exit(1);
    }
    return reply;
}

static void wait_status(ct_cloud *c, ct_cloud_service s, const char *path, const char *member,
                        const char *want)
{
    for (int i = 0; i < 6000; i++) {
        json_t *r = must(c, s, "GET", path, NULL, 200);
        json_t *o = member ? json_object_get(r, member) : r;
        int done = strcmp(json_string_value(json_object_get(o, "status")) ?: "", want) == 0;
        json_decref(r);
        if (done)
            return;
        usleep(100000);
    }
    fprintf(stderr, "bench_s2d: %s never %s\n", path, want);
    exit(1);
}

/* A file of n MiB of bytes that do not compress. */
static void make_bytes(const char *path, size_t mib)
{
    static uint64_t block[1 << 17]; /* 1 MiB */
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0)
        exit(1);
    for (size_t m = 0; m < mib; m++) {
        for (size_t i = 0; i < sizeof(block) / 8; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            block[i] = x;
        }
        if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
            exit(1);
    }
    close(fd);
}

/* The floor: curl GET from Glance A piped into curl PUT to a new image in
 * Glance B. Returns seconds. */
static double floor_copy(ct_cloud *a, ct_cloud *b, const char *image)
{
    json_t *img = must(b, CT_CLOUD_IMAGE, "POST", "v2/images",
                       json_pack("{s:s,s:s,s:s}", "name", "bench-floor", "disk_format", "raw",
                                 "container_format", "bare"),
                       201);
    char cmd[8192], path[128];
    double t0, t;

    snprintf(cmd, sizeof(cmd),
             "curl -sf -H 'X-Auth-Token: %s' '%s/v2/images/%s/file' | curl -sf -X PUT "
             "-H 'X-Auth-Token: %s' -H 'Content-Type: application/octet-stream' -T - "
             "'%s/v2/images/%s/file'",
             ct_cloud_token(a), ct_cloud_endpoint(a, CT_CLOUD_IMAGE), image, ct_cloud_token(b),
             ct_cloud_endpoint(b, CT_CLOUD_IMAGE), json_string_value(json_object_get(img, "id")));
    t0 = bench_now_s();
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_s2d: the curl copy failed\n");
        exit(1);
    }
    snprintf(path, sizeof(path), "v2/images/%s", json_string_value(json_object_get(img, "id")));
    wait_status(b, CT_CLOUD_IMAGE, path, NULL, "active");
    t = bench_now_s() - t0;
    json_decref(must(b, CT_CLOUD_IMAGE, "DELETE", path, NULL, 204));
    json_decref(img);
    return t;
}

/* `catena migrate` of the server; out: step_ms. Returns seconds. */
static double migrate(const char *dir, const char *yaml, const char *server, json_t **steps)
{
    char spec[4200], cmd[16384], *out = NULL;
    size_t len = 0;
    double t0, t;
    json_t *m = NULL;
    FILE *f;

    snprintf(spec, sizeof(spec), "%s/bench.xml", dir);
    if ((f = fopen(spec, "w")) == NULL)
        exit(1);
    fprintf(f,
            "<MigrationSpecs><CloudAlogIn><cloud>a</cloud></CloudAlogIn>"
            "<SnapshotToCreate><InstanceID>%s</InstanceID><SnapshotName>bench-snap"
            "</SnapshotName></SnapshotToCreate><CloudBlogIn><cloud>b</cloud></CloudBlogIn>"
            "<ImageToUpload><ImageName>bench-image</ImageName><Format>raw</Format>"
            "<Access>false</Access></ImageToUpload><Keypair><Name>bench-key</Name></Keypair>"
            "<InstanceToLaunch><InstanceName>bench-dst</InstanceName></InstanceToLaunch>"
            "<AllocateIP><IP>new</IP></AllocateIP></MigrationSpecs>\n",
            server);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "'%s' migrate --spec '%s' --clouds '%s' --state '%s/state' --json --timeout 600000 "
             "> '%s/out.json' 2> '%s/err.log'",
             bench_catena_bin(), spec, yaml, dir, dir, dir);
    t0 = bench_now_s();
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_s2d: catena migrate failed (see %s/err.log)\n", dir);
        exit(1);
    }
    t = bench_now_s() - t0;
    snprintf(cmd, sizeof(cmd), "%s/out.json", dir);
    if (ct_file_read(&out, &len, cmd, 1 << 20) < 0 || ct_json_parse(&m, out, len, 32) < 0)
        exit(1);
    *steps = json_incref(json_object_get(json_object_get(m, "data"), "step_ms"));
    snprintf(cmd, sizeof(cmd), "'%s' migrate reset %s --state '%s/state' --clouds '%s' 2>/dev/null",
             bench_catena_bin(), json_string_value(json_object_get(m, "id")), dir, yaml);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_s2d: reset failed\n");
    json_decref(m);
    free(out);
    return t;
}

int main(int argc, char **argv)
{
    const char *clouds = argc > 1 ? argv[1] : NULL;
    size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 1024;
    int rounds = argc > 3 ? atoi(argv[3]) : 2;
    char yaml[4096], dir[] = "/tmp/bench-s2d-XXXXXX", file[4200], path[256];
    json_t *img, *srv, *flavors, *f, *nets, *n, *steps = NULL;
    const char *flavor = NULL, *net = NULL, *image, *server;
    ct_cloud *a, *b;
    size_t i;

    if (clouds == NULL || mib == 0 || rounds < 1 || mkdtemp(dir) == NULL) {
        fprintf(stderr, "usage: bench_s2d CLOUDS_DIR [MIB] [ROUNDS]\n");
        return 2;
    }
    snprintf(yaml, sizeof(yaml), "%s/clouds.yaml", clouds);
    a = cloud(yaml, "a");
    b = cloud(yaml, "b");
    snprintf(file, sizeof(file), "%s/base.img", dir);
    make_bytes(file, mib);

    /* The source: an image of mib MiB, a keypair, a server booted from it. */
    img = must(a, CT_CLOUD_IMAGE, "POST", "v2/images",
               json_pack("{s:s,s:s,s:s}", "name", "bench-base", "disk_format", "raw",
                         "container_format", "bare"),
               201);
    image = json_string_value(json_object_get(img, "id"));
    snprintf(path, sizeof(path), "v2/images/%s/file", image);
    if (ct_cloud_upload(a, CT_CLOUD_IMAGE, path, file) != 204)
        return 1;
    unlink(file);
    json_decref(must(a, CT_CLOUD_COMPUTE, "POST", "os-keypairs",
                     json_pack("{s:{s:s,s:s}}", "keypair", "name", "bench-key", "public_key",
                               "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPkkhD60nTQJTCO5HmlKgCyX2OOw"
                               "opAz6aYCBhbs6yDc bench"),
                     201));
    flavors = must(a, CT_CLOUD_COMPUTE, "GET", "flavors", NULL, 200);
    json_array_foreach (json_object_get(flavors, "flavors"), i, f)
        if (strcmp(json_string_value(json_object_get(f, "name")), "m1.small") == 0)
            flavor = json_string_value(json_object_get(f, "id"));
    nets = must(a, CT_CLOUD_NETWORK, "GET", "v2.0/networks?name=private", NULL, 200);
    json_array_foreach (json_object_get(nets, "networks"), i, n)
        net = json_string_value(json_object_get(n, "id"));
    srv = must(a, CT_CLOUD_COMPUTE, "POST", "servers",
               json_pack("{s:{s:s,s:s,s:s,s:s,s:[{s:s}]}}", "server", "name", "bench-src",
                         "imageRef", image, "flavorRef", flavor, "key_name", "bench-key",
                         "networks", "uuid", net),
               202);
    server = json_string_value(json_object_get(json_object_get(srv, "server"), "id"));
    snprintf(path, sizeof(path), "servers/%s", server);
    wait_status(a, CT_CLOUD_COMPUTE, path, "server", "ACTIVE");

    printf("S2D migration of a %zu MiB image (two clouds of scripts/clouds, loopback)\n", mib);
    for (int r = 0; r < rounds; r++) {
        double fl = floor_copy(a, b, image), mt = migrate(dir, yaml, server, &steps);
        const char *k;
        json_t *v;
        printf("round %d: floor (curl A|B) %.2f s, catena migrate %.2f s, ratio %.2f\n", r + 1, fl,
               mt, mt / fl);
        json_object_foreach (steps, k, v)
            printf("    %-18s %8.2f s\n", k, (double)json_integer_value(v) / 1000.0);
        json_decref(steps);
    }

    json_decref(must(a, CT_CLOUD_COMPUTE, "DELETE", path, NULL, 204));
    json_decref(must(a, CT_CLOUD_COMPUTE, "DELETE", "os-keypairs/bench-key", NULL, 204));
    ct_cloud_wait_gone(a, CT_CLOUD_COMPUTE, path, 60);
    snprintf(path, sizeof(path), "v2/images/%s", image);
    json_decref(must(a, CT_CLOUD_IMAGE, "DELETE", path, NULL, 204));
    json_decref(img);
    json_decref(srv);
    json_decref(flavors);
    json_decref(nets);
    ct_cloud_free(a);
    ct_cloud_free(b);
    snprintf(file, sizeof(file), "rm -rf '%s'", dir);
    return system(file) == 0 ? 0 : 1;
}
