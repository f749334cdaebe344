/* The migration store: one SQLite row per migration (status, steps done,
 * the spec, what each step created), so a migration survives the process
 * that ran it and can be resumed or reset. */
#include "cloud_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catena/crypto.h"

static const char schema_sql[] = "PRAGMA journal_mode=WAL;"
                                 "CREATE TABLE IF NOT EXISTS migration("
                                 " id TEXT PRIMARY KEY,"
                                 " created INTEGER NOT NULL,"
                                 " updated INTEGER NOT NULL,"
                                 " status TEXT NOT NULL,"
                                 " step INTEGER NOT NULL DEFAULT 0,"
                                 " owner INTEGER NOT NULL DEFAULT 0," /* pid running it */
                                 " name TEXT NOT NULL,"
                                 " spec TEXT,"             /* the XML; NULL once done or reset */
                                 " summary TEXT NOT NULL," /* the spec as JSON, no passwords */
                                 " error TEXT,"
                                 " data TEXT NOT NULL DEFAULT '{}');";

static int db_error(ct_cloud_mig *m, const char *what)
{
    return ct_error_set(CT_EIO, "migrations: %s: %s", what, sqlite3_errmsg(m->db));
}

int ct_cloud_mig_open(ct_cloud_mig **out, const char *dir, const ct_cloud_mig_opts *o)
{
    ct_cloud_mig *m;
    char path[4096];
    char *err = NULL;
    int rc = 0;

    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return ct_error_set(CT_EIO, "%s: %s", dir, strerror(errno));
    if ((m = calloc(1, sizeof(*m))) == NULL || (m->dir = strdup(dir)) == NULL ||
        (o != NULL && o->clouds_yaml != NULL &&
         (m->clouds_yaml = strdup(o->clouds_yaml)) == NULL)) {
        ct_cloud_mig_close(m);
        return ct_error_set(CT_ENOMEM, "migrations: out of memory");
    }
    m->http_timeout_ms = o != NULL && o->http_timeout_ms > 0 ? o->http_timeout_ms : 30000;
    m->wait_s = o != NULL && o->wait_s > 0 ? o->wait_s : 600;
    snprintf(path, sizeof(path), "%s/migrations.db", dir);
    if (sqlite3_open_v2(path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = db_error(m, path);
        goto fail;
    }
    /* The specs hold passwords: the file is the owner's alone. */
    if (chmod(path, 0600) != 0) {
        rc = ct_error_set(CT_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    sqlite3_busy_timeout(m->db, 5000);
    if (sqlite3_exec(m->db, schema_sql, NULL, NULL, &err) != SQLITE_OK) {
        rc = ct_error_set(CT_EIO, "%s: %s", path, err ? err : "schema");
        sqlite3_free(err);
        goto fail;
    }
    *out = m;
    return 0;
fail:
    ct_cloud_mig_close(m);
    return rc;
}

void ct_cloud_mig_close(ct_cloud_mig *m)
{
    if (m == NULL)
        return;
    if (m->db != NULL)
        sqlite3_close(m->db);
    free(m->dir);
    free(m->clouds_yaml);
    free(m);
}

int ct_cloud__image_path(char *out, size_t n, const ct_cloud_mig *m, const char *id)
{
    if ((size_t)snprintf(out, n, "%s/%s.img", m->dir, id) >= n)
        return ct_error_set(CT_ELIMIT, "migrations: path too long");
    return 0;
}

int ct_cloud_mig_create(char id[CT_CLOUD_MIG_ID_SIZE], ct_cloud_mig *m, const char *xml, size_t len,
                        const char *name)
{
    ct_cloud_spec *s = NULL;
    sqlite3_stmt *st = NULL;
    uint8_t raw[16];
    char *summary = NULL;
    json_t *j = NULL;
    int64_t now = ct_time_now_ms();
    int rc;

    if ((rc = ct_cloud_spec_parse(&s, NULL, xml, len, name)) < 0)
        return rc;
    if ((rc = ct_random(raw, sizeof(raw))) < 0)
        goto done;
    ct_hex_encode(id, CT_CLOUD_MIG_ID_SIZE, raw, sizeof(raw), false);
    if ((j = ct_cloud_spec_json(s)) == NULL || (summary = json_dumps(j, JSON_COMPACT)) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "migrations: out of memory");
        goto done;
    }
    if (sqlite3_prepare_v2(m->db,
                           "INSERT INTO migration(id,created,updated,status,name,spec,summary)"
                           " VALUES(?,?,?,'new',?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_error(m, "insert");
        goto done;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, name ? name : "spec", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, xml, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, summary, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_error(m, "insert");
done:
    sqlite3_finalize(st);
    free(summary);
    json_decref(j);
    ct_cloud_spec_free(s);
    return rc;
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t != NULL ? strdup((const char *)t) : NULL;
}

int ct_cloud__rec_load(ct_cloud__rec *r, ct_cloud_mig *m, const char *id)
{
    sqlite3_stmt *st = NULL;
    const char *data;
    int rc = 0, sr;

    memset(r, 0, sizeof(*r));
    if (sqlite3_prepare_v2(m->db, "SELECT status,step,spec,name,data FROM migration WHERE id=?", -1,
                           &st, NULL) != SQLITE_OK)
        return db_error(m, "select");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((sr = sqlite3_step(st)) != SQLITE_ROW) {
        rc = sr == SQLITE_DONE ? ct_error_set(CT_ENOTFOUND, "no migration '%s'", id)
                               : db_error(m, "select");
        goto done;
    }
    snprintf(r->id, sizeof(r->id), "%s", id);
    snprintf(r->status, sizeof(r->status), "%s", (const char *)sqlite3_column_text(st, 0));
    r->step = sqlite3_column_int(st, 1);
    r->spec = column_dup(st, 2);
    r->name = column_dup(st, 3);
    data = (const char *)sqlite3_column_text(st, 4);
    if (ct_json_parse(&r->data, data, strlen(data), 32) < 0 || !json_is_object(r->data))
        rc = ct_error_set(CT_EIO, "migration '%s': its data is damaged", id);
done:
    sqlite3_finalize(st);
    if (rc < 0)
        ct_cloud__rec_free(r);
    return rc;
}

int ct_cloud__rec_save(ct_cloud_mig *m, const ct_cloud__rec *r, const char *error, bool forget_spec)
{
    sqlite3_stmt *st = NULL;
    char *data = json_dumps(r->data, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = 0;

    if (data == NULL)
        return ct_error_set(CT_ENOMEM, "migrations: out of memory");
    if (sqlite3_prepare_v2(m->db,
                           "UPDATE migration SET status=?,step=?,data=?,error=?,updated=?,"
                           " spec=CASE WHEN ? THEN NULL ELSE spec END,"
                           " owner=CASE WHEN ?='running' THEN owner ELSE 0 END WHERE id=?",
                           -1, &st, NULL) != SQLITE_OK) {
        free(data);
        return db_error(m, "update");
    }
    sqlite3_bind_text(st, 1, r->status, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r->step);
    sqlite3_bind_text(st, 3, data, -1, SQLITE_STATIC);
    if (error != NULL)
        sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, ct_time_now_ms());
    sqlite3_bind_int(st, 6, forget_spec);
    sqlite3_bind_text(st, 7, r->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_error(m, "update");
    sqlite3_finalize(st);
    free(data);
    return rc;
}

/* Whether the process that marked a migration running is still there. A
 * pid of this process counts: another thread runs it. */
static bool owner_alive(int64_t pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

int ct_cloud__rec_claim(ct_cloud_mig *m, const char *id, const char *allowed)
{
    sqlite3_stmt *st = NULL;
    char status[16] = "";
    int64_t owner = 0;
    int rc = 0, sr;

    if (sqlite3_exec(m->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(m, "begin");
    if (sqlite3_prepare_v2(m->db, "SELECT status,owner FROM migration WHERE id=?", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = db_error(m, "select");
        goto done;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((sr = sqlite3_step(st)) != SQLITE_ROW) {
        rc = sr == SQLITE_DONE ? ct_error_set(CT_ENOTFOUND, "no migration '%s'", id)
                               : db_error(m, "select");
        goto done;
    }
    snprintf(status, sizeof(status), "%s", (const char *)sqlite3_column_text(st, 0));
    owner = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    st = NULL;
    if (strcmp(status, "running") == 0 && owner_alive(owner)) {
        rc = ct_error_set(CT_ESTATE, "migration '%s' is running (pid %lld)", id, (long long)owner);
        goto done;
    }
    /* A run whose process died counts as failed where it stopped. */
    if (strcmp(status, "running") == 0)
        snprintf(status, sizeof(status), "failed");
    if (!ct_cloud__word_in(status, allowed)) {
        rc = ct_error_set(CT_ESTATE, "migration '%s' is %s", id, status);
        goto done;
    }
    if (sqlite3_prepare_v2(m->db, "UPDATE migration SET status='running',owner=? WHERE id=?", -1,
                           &st, NULL) != SQLITE_OK) {
        rc = db_error(m, "update");
        goto done;
    }
    sqlite3_bind_int64(st, 1, (int64_t)getpid());
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_error(m, "update");
done:
    sqlite3_finalize(st);
    sqlite3_exec(m->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

void ct_cloud__rec_free(ct_cloud__rec *r)
{
    if (r->spec != NULL)
        explicit_bzero(r->spec, strlen(r->spec));
    free(r->spec);
    free(r->name);
    json_decref(r->data);
    memset(r, 0, sizeof(*r));
}

static json_t *row_json(sqlite3_stmt *st, bool with_data)
{
    const char *summary = (const char *)sqlite3_column_text(st, 6);
    const char *data = (const char *)sqlite3_column_text(st, 8);
    const char *error = (const char *)sqlite3_column_text(st, 7);
    json_t *o, *spec = NULL, *d = NULL;
    int step = sqlite3_column_int(st, 4);

    const char *status = (const char *)sqlite3_column_text(st, 3);

    /* A run whose process ended without saving its end: interrupted. */
    if (strcmp(status, "running") == 0 && !owner_alive(sqlite3_column_int64(st, 9))) {
        status = "failed";
        error = "interrupted: the process running it ended";
    }
    ct_json_parse(&spec, summary, strlen(summary), 32);
    o = json_pack("{s:s,s:s,s:s,s:i,s:i,s:s?,s:o*}", "id", sqlite3_column_text(st, 0), "name",
                  sqlite3_column_text(st, 5), "status", status, "step", step, "steps",
                  CT_CLOUD_STEPS, "error", error, "spec", spec);
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "created_ms", json_integer(sqlite3_column_int64(st, 1)));
    json_object_set_new(o, "updated_ms", json_integer(sqlite3_column_int64(st, 2)));
    if (step < CT_CLOUD_STEPS && strcmp(status, "done") != 0)
        json_object_set_new(o, "next_step", json_string(ct_cloud_step_name(step + 1)));
    if (with_data && ct_json_parse(&d, data, strlen(data), 32) == 0)
        json_object_set_new(o, "data", d);
    if (with_data) {
        json_t *names = json_array();
        for (int s = 1; s <= CT_CLOUD_STEPS; s++)
            json_array_append_new(names, json_string(ct_cloud_step_name(s)));
        json_object_set_new(o, "step_names", names);
    }
    return o;
}

#define ROW_COLUMNS "id,created,updated,status,step,name,summary,error,data,owner"

int ct_cloud_mig_get(json_t **out, ct_cloud_mig *m, const char *id)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, sr;

    *out = NULL;
    if (sqlite3_prepare_v2(m->db, "SELECT " ROW_COLUMNS " FROM migration WHERE id=?", -1, &st,
                           NULL) != SQLITE_OK)
        return db_error(m, "select");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((sr = sqlite3_step(st)) == SQLITE_ROW)
        rc = (*out = row_json(st, true)) ? 0 : ct_error_set(CT_ENOMEM, "out of memory");
    else
        rc = sr == SQLITE_DONE ? ct_error_set(CT_ENOTFOUND, "no migration '%s'", id)
                               : db_error(m, "select");
    sqlite3_finalize(st);
    return rc;
}

int ct_cloud_mig_list(json_t **out, ct_cloud_mig *m)
{
    sqlite3_stmt *st = NULL;
    int sr;

    if ((*out = json_array()) == NULL)
        return ct_error_set(CT_ENOMEM, "out of memory");
    if (sqlite3_prepare_v2(m->db, "SELECT " ROW_COLUMNS " FROM migration ORDER BY created DESC", -1,
                           &st, NULL) != SQLITE_OK)
        return db_error(m, "select");
    while ((sr = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(*out, row_json(st, false));
    sqlite3_finalize(st);
    return sr == SQLITE_DONE ? 0 : db_error(m, "select");
}
