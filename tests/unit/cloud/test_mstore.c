/* The migration store without clouds: a spec is validated before a row
 * exists; a run that cannot reach its cloud fails in the checks and says
 * why; a run whose process died counts as failed and can run again; one
 * running in a live process cannot; a reset closes a migration for good. */
#include "harness.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catena/cloud.h"

/* Port 1 on loopback: nothing listens, the login is refused at once. */
static const char spec[] =
    "<MigrationSpecs>"
    "<CloudAlogIn><cloud>http://127.0.0.1:1/v3</cloud><tenant>p</tenant>"
    "<username>u</username><password>secret-pw</password></CloudAlogIn>"
    "<SnapshotToCreate><InstanceID>vm</InstanceID><SnapshotName>s</SnapshotName>"
    "</SnapshotToCreate><CloudBlogIn><cloud>b</cloud></CloudBlogIn>"
    "<ImageToUpload><ImageName>i</ImageName><Format>raw</Format><Access>false</Access>"
    "</ImageToUpload><Keypair><Name>k</Name></Keypair>"
    "<InstanceToLaunch><InstanceName>n</InstanceName></InstanceToLaunch>"
    "<AllocateIP><IP>new</IP></AllocateIP></MigrationSpecs>";

static ct_cloud_mig *open_store(const char *dir)
{
    ct_cloud_mig_opts o = {.http_timeout_ms = 2000, .wait_s = 1};
    ct_cloud_mig *m = NULL;

    assert_int_equal(ct_cloud_mig_open(&m, dir, &o), 0);
    return m;
}

static const char *status_of(ct_cloud_mig *m, const char *id, json_t **keep)
{
    json_t *j = NULL;

    assert_int_equal(ct_cloud_mig_get(&j, m, id), 0);
    json_decref(*keep);
    *keep = j;
    return json_string_value(json_object_get(j, "status"));
}

/* Marks id as running in process pid, as a run that died would leave it. */
static void mark_running(const char *dir, const char *id, pid_t pid)
{
    sqlite3 *db;
    char *sql = sqlite3_mprintf("UPDATE migration SET status='running', owner=%d WHERE id=%Q",
                                (int)pid, id);

    assert_int_equal(sqlite3_open(ctt_path("%s/migrations.db", dir), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_free(sql);
    sqlite3_close(db);
}

static pid_t dead_pid(void)
{
    pid_t p = fork();

    assert_true(p >= 0);
    if (p == 0)
        _exit(0);
    assert_int_equal(waitpid(p, NULL, 0), p);
    return p;
}

static void lifecycle(void **state)
{
    const char *dir = ctt_path("%s/state", ctt_tmpdir());
    char id[CT_CLOUD_MIG_ID_SIZE];
    ct_cloud_mig *m;
    json_t *j = NULL, *list = NULL;
    struct stat st;
    char *dump;

    (void)state;
    m = open_store(dir);
    assert_int_equal(stat(ctt_path("%s/migrations.db", dir), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* specs hold passwords */

    /* An invalid spec makes no row. */
    assert_int_equal(ct_cloud_mig_create(id, m, "<MigrationSpecs/>", 17, "bad.xml"), CT_EPARSE);
    assert_int_equal(ct_cloud_mig_list(&list, m), 0);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);

    assert_int_equal(ct_cloud_mig_create(id, m, spec, strlen(spec), "m.xml"), 0);
    assert_int_equal(strlen(id), 32);
    assert_string_equal(status_of(m, id, &j), "new");
    assert_string_equal(json_string_value(json_object_get(j, "next_step")), "authenticate to A");
    dump = json_dumps(j, 0);
    assert_null(strstr(dump, "secret-pw"));
    free(dump);

    /* Cloud A refuses the connection: the checks fail, nothing was done. */
    assert_int_equal(ct_cloud_mig_run(m, id, NULL, NULL, NULL), CT_EIO);
    assert_non_null(strstr(ct_error_last(), "cloud A"));
    assert_string_equal(status_of(m, id, &j), "failed");
    assert_int_equal(json_integer_value(json_object_get(j, "step")), 0);
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "cloud A"));

    /* A run whose process died: failed (interrupted), and may run again. */
    mark_running(dir, id, dead_pid());
    assert_string_equal(status_of(m, id, &j), "failed");
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "interrupted"));
    assert_int_equal(ct_cloud_mig_run(m, id, NULL, NULL, NULL), CT_EIO);

    /* One running in a live process (this one): neither run nor reset. */
    mark_running(dir, id, getpid());
    assert_string_equal(status_of(m, id, &j), "running");
    assert_int_equal(ct_cloud_mig_run(m, id, NULL, NULL, NULL), CT_ESTATE);
    assert_non_null(strstr(ct_error_last(), "is running"));
    assert_int_equal(ct_cloud_mig_reset(m, id, NULL, NULL), CT_ESTATE);
    mark_running(dir, id, dead_pid());

    /* Nothing was created: the reset has nothing to remove, and closes it. */
    assert_int_equal(ct_cloud_mig_reset(m, id, NULL, NULL), 0);
    assert_string_equal(status_of(m, id, &j), "reset");
    assert_int_equal(ct_cloud_mig_run(m, id, NULL, NULL, NULL), CT_ESTATE);
    assert_int_equal(ct_cloud_mig_reset(m, id, NULL, NULL), 0); /* again: still fine */

    assert_int_equal(ct_cloud_mig_get(&list, m, "0123"), CT_ENOTFOUND);
    assert_int_equal(ct_cloud_mig_list(&list, m), 0);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    json_decref(j);
    ct_cloud_mig_close(m);

    /* Another handle (another process's view) sees the same. */
    m = open_store(dir);
    assert_int_equal(ct_cloud_mig_get(&j, m, id), 0);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "reset");
    json_decref(j);
    ct_cloud_mig_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
