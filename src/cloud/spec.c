/* The S2D migration spec (seed 001 section 4.2.6): an XML document checked
 * against docs/migration-spec.xsd with libxml2, then read into a
 * ct_cloud_spec. Nothing outside the given bytes is ever read. */
#include "cloud_int.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

extern const char ct_cloud__schema_xsd[];

/* Most findings put into one error message. */
#define MAX_FINDINGS 20

static pthread_once_t schema_once = PTHREAD_ONCE_INIT;
static xmlSchemaPtr schema;

static void silent(void *payload, const char *fmt, ...)
{
    (void)payload, (void)fmt;
}

static void schema_load(void)
{
    xmlSchemaParserCtxtPtr pc;

    xmlInitParser();
    pc = xmlSchemaNewMemParserCtxt(ct_cloud__schema_xsd, (int)strlen(ct_cloud__schema_xsd));
    if (pc == NULL)
        return;
    xmlSchemaSetParserErrors(pc, silent, silent, NULL);
    schema = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
}

const char *ct_cloud_spec_schema(void)
{
    return ct_cloud__schema_xsd;
}

/* What one parse or validation found, as "name:line: message" lines. */
struct findings {
    const char *name;
    ct_buf text;
    int n;
};

static void on_error(void *payload, xmlErrorPtr e)
{
    struct findings *f = payload;
    size_t len;

    if (e == NULL || e->message == NULL)
        return;
    if (f->n++ >= MAX_FINDINGS)
        return;
    len = strlen(e->message);
    while (len > 0 && (e->message[len - 1] == '\n' || e->message[len - 1] == ' '))
        len--;
    ct_buf_appendf(&f->text, "%s%s:%d: %.*s", f->text.len ? "\n" : "", f->name, e->line, (int)len,
                   e->message);
}

/* The error of a parse that found something: the first finding (and how
 * many more) as the error message, all of them in *all when asked. */
static int findings_error(struct findings *f, const char *fallback, char **all)
{
    const char *first = f->text.len ? f->text.data : fallback;
    const char *nl = strchr(first, '\n');

    if (f->n > MAX_FINDINGS)
        ct_buf_appendf(&f->text, "\n%s: %d more", f->name, f->n - MAX_FINDINGS);
    if (all != NULL && f->text.len > 0)
        *all = ct_buf_detach(&f->text);
    if (f->n > 1)
        return ct_error_set(CT_EPARSE, "%.*s (and %d more)",
                            (int)(nl ? nl - first : (long)strlen(first)), first, f->n - 1);
    return ct_error_set(CT_EPARSE, "%s", first);
}

/* The first element child of n named name, or NULL. */
static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, (const xmlChar *)name) == 0)
            return c;
    return NULL;
}

/* The trimmed text of n's child name, or NULL when there is no such
 * child. *oom is set when a copy fails. */
static char *text(xmlNodePtr n, const char *name, bool *oom)
{
    xmlNodePtr c = child(n, name);
    xmlChar *t;
    const char *s, *e;
    char *out;

    if (c == NULL)
        return NULL;
    t = xmlNodeGetContent(c);
    if (t == NULL) {
        *oom = true;
        return NULL;
    }
    s = (const char *)t;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        e--;
    out = strndup(s, (size_t)(e - s));
    xmlFree(t);
    if (out == NULL)
        *oom = true;
    return out;
}

static void login_read(ct_cloud_login *l, xmlNodePtr n, bool *oom)
{
    l->cloud = text(n, "cloud", oom);
    l->tenant = text(n, "tenant", oom);
    l->username = text(n, "username", oom);
    l->password = text(n, "password", oom);
}

static int spec_read(ct_cloud_spec *s, xmlNodePtr root)
{
    xmlNodePtr snap = child(root, "SnapshotToCreate"), img = child(root, "ImageToUpload");
    xmlNodePtr key = child(root, "Keypair"), launch = child(root, "InstanceToLaunch");
    bool oom = false;
    char *access;

    login_read(&s->a, child(root, "CloudAlogIn"), &oom);
    login_read(&s->b, child(root, "CloudBlogIn"), &oom);
    s->instance = text(snap, "InstanceID", &oom);
    s->snapshot_name = text(snap, "SnapshotName", &oom);
    s->image_name = text(img, "ImageName", &oom);
    s->image_format = text(img, "Format", &oom);
    access = text(img, "Access", &oom);
    s->image_public = access != NULL && strcasecmp(access, "true") == 0;
    free(access);
    s->keypair_name = text(key, "Name", &oom);
    s->public_key = text(key, "PublicKey", &oom);
    s->server_name = text(launch, "InstanceName", &oom);
    s->security_group = text(launch, "SecurityGroup", &oom);
    if (s->security_group == NULL && !oom)
        oom = (s->security_group = strdup("")) == NULL;
    s->ip = text(child(root, "AllocateIP"), "IP", &oom);
    if (oom)
        return ct_error_set(CT_ENOMEM, "spec: out of memory");
    return 0;
}

/* A URL login must carry its credentials; clouds.yaml supplies them for a
 * named cloud. The schema cannot say this: it depends on the text. */
static int login_check(const ct_cloud_login *l, const char *block, const char *name)
{
    bool url = strncmp(l->cloud, "http://", 7) == 0 || strncmp(l->cloud, "https://", 8) == 0;

    if (url && l->password == NULL)
        return ct_error_set(CT_EPARSE,
                            "%s: %s: cloud '%s' is a URL: tenant, username and password are "
                            "required",
                            name, block, l->cloud);
    return 0;
}

static xmlDocPtr doc_read(const char *xml, size_t len, struct findings *f)
{
    xmlParserCtxtPtr pc = xmlNewParserCtxt();
    xmlDocPtr doc = NULL;

    if (pc == NULL)
        return NULL;
    xmlSetStructuredErrorFunc(f, on_error);
    xmlSetGenericErrorFunc(NULL, silent);
    doc = xmlCtxtReadMemory(pc, xml, (int)len, f->name, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlSetStructuredErrorFunc(NULL, NULL);
    xmlSetGenericErrorFunc(NULL, NULL);
    xmlFreeParserCtxt(pc);
    return doc;
}

static int validate(xmlDocPtr doc, struct findings *f, char **all)
{
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    int rc;

    if (vc == NULL)
        return ct_error_set(CT_ENOMEM, "spec: out of memory");
    xmlSchemaSetValidStructuredErrors(vc, on_error, f);
    rc = xmlSchemaValidateDoc(vc, doc);
    xmlSchemaFreeValidCtxt(vc);
    if (rc != 0)
        return findings_error(f, "spec: does not match the schema", all);
    return 0;
}

int ct_cloud_spec_parse(ct_cloud_spec **out, char **findings, const char *xml, size_t len,
                        const char *name)
{
    struct findings f = {.name = name ? name : "spec"};
    ct_cloud_spec *s = NULL;
    xmlDocPtr doc = NULL;
    int rc;

    *out = NULL;
    if (findings != NULL)
        *findings = NULL;
    if (len > CT_CLOUD_SPEC_MAX)
        return ct_error_set(CT_ELIMIT, "%s: over %u bytes", f.name, CT_CLOUD_SPEC_MAX);
    pthread_once(&schema_once, schema_load);
    if (schema == NULL)
        return ct_error_set(CT_ENOMEM, "spec: the built-in schema did not load");
    ct_buf_init(&f.text, 64u << 10);
    doc = doc_read(xml, len, &f);
    if (doc == NULL) {
        rc =
            f.n ? findings_error(&f, "", findings) : ct_error_set(CT_EPARSE, "%s: not XML", f.name);
        goto done;
    }
    /* A DOCTYPE could define entities; a spec has no use for one. */
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        rc = ct_error_set(CT_EPARSE, "%s: a DOCTYPE is not allowed in a migration spec", f.name);
        goto done;
    }
    if ((rc = validate(doc, &f, findings)) < 0)
        goto done;
    if ((s = calloc(1, sizeof(*s))) == NULL) {
        rc = ct_error_set(CT_ENOMEM, "spec: out of memory");
        goto done;
    }
    if ((rc = spec_read(s, xmlDocGetRootElement(doc))) < 0 ||
        (rc = login_check(&s->a, "CloudAlogIn", f.name)) < 0 ||
        (rc = login_check(&s->b, "CloudBlogIn", f.name)) < 0)
        goto done;
    *out = s;
    s = NULL;
done:
    ct_cloud_spec_free(s);
    if (doc != NULL)
        xmlFreeDoc(doc);
    ct_buf_free(&f.text);
    return rc;
}

static void login_json(json_t *o, const char *key, const ct_cloud_login *l)
{
    json_t *j = json_pack("{s:s}", "cloud", l->cloud);

    if (l->tenant != NULL)
        json_object_set_new(j, "tenant", json_string(l->tenant));
    if (l->username != NULL)
        json_object_set_new(j, "username", json_string(l->username));
    json_object_set_new(o, key, j);
}

json_t *ct_cloud_spec_json(const ct_cloud_spec *s)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s?,s:s,s:s,s:s}", "instance", s->instance,
                          "snapshot_name", s->snapshot_name, "image_name", s->image_name,
                          "image_format", s->image_format, "image_public", s->image_public,
                          "keypair", s->keypair_name, "public_key", s->public_key, "server_name",
                          s->server_name, "security_group", s->security_group, "ip", s->ip);

    if (o == NULL)
        return NULL;
    login_json(o, "cloud_a", &s->a);
    login_json(o, "cloud_b", &s->b);
    return o;
}

static void login_free(ct_cloud_login *l)
{
    if (l->password != NULL)
        explicit_bzero(l->password, strlen(l->password));
    free(l->cloud);
    free(l->tenant);
    free(l->username);
    free(l->password);
}

void ct_cloud_spec_free(ct_cloud_spec *s)
{
    if (s == NULL)
        return;
    login_free(&s->a);
    login_free(&s->b);
    free(s->instance);
    free(s->snapshot_name);
    free(s->image_name);
    free(s->image_format);
    free(s->keypair_name);
    free(s->public_key);
    free(s->server_name);
    free(s->security_group);
    free(s->ip);
    free(s);
}
