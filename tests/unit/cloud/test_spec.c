/* The S2D migration spec: the seed's document parses into a spec, and
 * every kind of bad document fails with the element and line named,
 * before anything could be touched. */
#include "harness.h"

#include "catena/cloud.h"

/* The seed's example (section 4.2.6) with values filled in; %s slots
 * replace whole elements so each case can break one of them. */
#define SPEC_FMT                                                                                   \
    "<?xml version=\"1.0\"?>\n"                                                                    \
    "<MigrationSpecs>\n"                                                                           \
    "  <CloudAlogIn>\n"                                                                            \
    "    <cloud> http://127.0.0.1:5000/v3 </cloud>\n"                                              \
    "    <tenant>demo</tenant>\n"                                                                  \
    "    <username>alice</username>\n"                                                             \
    "    <password>s3cret pass</password>\n"                                                       \
    "  </CloudAlogIn>\n"                                                                           \
    "  <SnapshotToCreate>\n"                                                                       \
    "    <InstanceID>%s</InstanceID>\n"                                                            \
    "    <SnapshotName>web-snap</SnapshotName>\n"                                                  \
    "  </SnapshotToCreate>\n"                                                                      \
    "  <CloudBlogIn><cloud>b</cloud></CloudBlogIn>\n"                                              \
    "  <ImageToUpload>\n"                                                                          \
    "    <ImageName>web-image</ImageName>\n"                                                       \
    "    <Format>%s</Format>\n"                                                                    \
    "    <Access>%s</Access>\n"                                                                    \
    "  </ImageToUpload>\n"                                                                         \
    "  <Keypair><Name>alice-key</Name>%s</Keypair>\n"                                              \
    "  <InstanceToLaunch>\n"                                                                       \
    "    <InstanceName>web</InstanceName>\n"                                                       \
    "    %s\n"                                                                                     \
    "  </InstanceToLaunch>\n"                                                                      \
    "  <AllocateIP><IP>%s</IP></AllocateIP>\n"                                                     \
    "</MigrationSpecs>\n"

static char doc[8192];

static const char *spec(const char *instance, const char *format, const char *access,
                        const char *pubkey, const char *group, const char *ip)
{
    snprintf(doc, sizeof(doc), SPEC_FMT, instance, format, access, pubkey, group, ip);
    return doc;
}

static const char *good(void)
{
    return spec("4f1c7a52-1b0e-4d53-9d1e-0d6b0c7e2b11", "qcow2", " True ", "",
                "<SecurityGroup>web-sg</SecurityGroup>", "new");
}

/* Parses text, expecting failure; returns the error message. */
static const char *refused(const char *text, int want)
{
    ct_cloud_spec *s = NULL;
    int rc = ct_cloud_spec_parse(&s, NULL, text, strlen(text), "m.xml");

    assert_int_equal(rc, want);
    assert_null(s);
    return ct_error_last();
}

static void seed_example_parses(void **state)
{
    ct_cloud_spec *s = NULL;
    const char *text = good();
    json_t *j;

    (void)state;
    assert_int_equal(ct_cloud_spec_parse(&s, NULL, text, strlen(text), "m.xml"), 0);
    assert_string_equal(s->a.cloud, "http://127.0.0.1:5000/v3");
    assert_string_equal(s->a.tenant, "demo");
    assert_string_equal(s->a.username, "alice");
    assert_string_equal(s->a.password, "s3cret pass");
    assert_string_equal(s->b.cloud, "b");
    assert_null(s->b.tenant);
    assert_null(s->b.password);
    assert_string_equal(s->instance, "4f1c7a52-1b0e-4d53-9d1e-0d6b0c7e2b11");
    assert_string_equal(s->snapshot_name, "web-snap");
    assert_string_equal(s->image_name, "web-image");
    assert_string_equal(s->image_format, "qcow2");
    assert_true(s->image_public);
    assert_string_equal(s->keypair_name, "alice-key");
    assert_null(s->public_key);
    assert_string_equal(s->server_name, "web");
    assert_string_equal(s->security_group, "web-sg");
    assert_string_equal(s->ip, "new");

    j = ct_cloud_spec_json(s);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "image_format")), "qcow2");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "cloud_a"), "username")), "alice");
    /* The password never leaves the spec. */
    {
        char *dump = json_dumps(j, 0);
        assert_null(strstr(dump, "s3cret"));
        free(dump);
    }
    json_decref(j);
    ct_cloud_spec_free(s);
}

static void optional_parts(void **state)
{
    ct_cloud_spec *s = NULL;
    const char *text =
        spec("web-1", "raw", "false", "<PublicKey>ssh-ed25519 AAAAC3Nza alice</PublicKey>", "",
             "192.168.10.7");

    (void)state;
    assert_int_equal(ct_cloud_spec_parse(&s, NULL, text, strlen(text), "m.xml"), 0);
    assert_false(s->image_public);
    assert_string_equal(s->public_key, "ssh-ed25519 AAAAC3Nza alice");
    assert_string_equal(s->security_group, ""); /* B's default group */
    assert_string_equal(s->ip, "192.168.10.7");
    ct_cloud_spec_free(s);

    text = spec("web-1", "raw", "false", "", "<SecurityGroup/>", "new");
    assert_int_equal(ct_cloud_spec_parse(&s, NULL, text, strlen(text), "m.xml"), 0);
    assert_string_equal(s->security_group, "");
    ct_cloud_spec_free(s);
}

static void schema_violations_name_element_and_line(void **state)
{
    const char *e;

    (void)state;
    e = refused(spec("x", "floppy", "true", "", "", "new"), CT_EPARSE);
    assert_non_null(strstr(e, "m.xml:16:"));
    assert_non_null(strstr(e, "'Format'"));

    e = refused(spec("x", "raw", "maybe", "", "", "new"), CT_EPARSE);
    assert_non_null(strstr(e, "m.xml:17:"));
    assert_non_null(strstr(e, "'Access'"));

    e = refused(spec("x", "raw", "true", "", "", "10.0.0.256"), CT_EPARSE);
    assert_non_null(strstr(e, "'IP'"));

    e = refused(spec("", "raw", "true", "", "", "new"), CT_EPARSE);
    assert_non_null(strstr(e, "m.xml:10:"));
    assert_non_null(strstr(e, "'InstanceID'"));

    /* Two faults: the message names the first, the findings both. */
    {
        const char *text = spec("x", "floppy", "maybe", "", "", "new");
        ct_cloud_spec *s = NULL;
        char *all = NULL;
        assert_int_equal(ct_cloud_spec_parse(&s, &all, text, strlen(text), "m.xml"), CT_EPARSE);
        assert_non_null(strstr(ct_error_last(), "'Format'"));
        assert_non_null(strstr(ct_error_last(), "(and 1 more)"));
        assert_non_null(all);
        assert_non_null(strstr(all, "m.xml:16: Element 'Format'"));
        assert_non_null(strstr(all, "\nm.xml:17: Element 'Access'"));
        free(all);
    }

    /* An element that is not in the schema. */
    e = refused(spec("x", "raw", "true", "<Flavor>m1</Flavor>", "", "new"), CT_EPARSE);
    assert_non_null(strstr(e, "'Flavor'"));
}

static void missing_element_is_named(void **state)
{
    char text[8192];
    const char *e;
    char *cut;

    (void)state;
    /* Without <SnapshotToCreate>. */
    snprintf(text, sizeof(text), "%s", good());
    cut = strstr(text, "  <SnapshotToCreate>");
    memmove(cut, strstr(text, "  <CloudBlogIn>"), strlen(strstr(text, "  <CloudBlogIn>")) + 1);
    e = refused(text, CT_EPARSE);
    assert_non_null(strstr(e, "'CloudBlogIn'"));
    assert_non_null(strstr(e, "SnapshotToCreate"));

    /* Without <AllocateIP>. */
    snprintf(text, sizeof(text), "%s", good());
    cut = strstr(text, "  <AllocateIP>");
    snprintf(cut, 40, "</MigrationSpecs>\n");
    e = refused(text, CT_EPARSE);
    assert_non_null(strstr(e, "AllocateIP"));

    /* A tenant without username and password. */
    snprintf(text, sizeof(text), "%s", good());
    cut = strstr(text, "    <username>alice");
    memmove(cut, strstr(text, "  </CloudAlogIn>"), strlen(strstr(text, "  </CloudAlogIn>")) + 1);
    e = refused(text, CT_EPARSE);
    assert_non_null(strstr(e, "'CloudAlogIn'"));
}

static void url_login_needs_credentials(void **state)
{
    char text[8192];
    const char *e;
    char *cut;

    (void)state;
    snprintf(text, sizeof(text), "%s", good());
    cut = strstr(text, "    <tenant>");
    memmove(cut, strstr(text, "  </CloudAlogIn>"), strlen(strstr(text, "  </CloudAlogIn>")) + 1);
    e = refused(text, CT_EPARSE);
    assert_non_null(strstr(e, "CloudAlogIn"));
    assert_non_null(strstr(e, "password"));
}

static void not_a_spec(void **state)
{
    const char *e;
    char *big;

    (void)state;
    e = refused("<MigrationSpecs><CloudAlogIn>", CT_EPARSE);
    assert_non_null(strstr(e, "m.xml:1:"));
    refused("", CT_EPARSE);
    refused("{\"json\": true}", CT_EPARSE);
    e = refused("<Other/>", CT_EPARSE);
    assert_non_null(strstr(e, "Other"));

    /* Entities could read files or blow up: no DOCTYPE at all. */
    e = refused(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE m [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
        "<MigrationSpecs>&x;</MigrationSpecs>",
        CT_EPARSE);
    assert_non_null(strstr(e, "DOCTYPE"));

    big = malloc(CT_CLOUD_SPEC_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', CT_CLOUD_SPEC_MAX + 1);
    big[CT_CLOUD_SPEC_MAX + 1] = '\0';
    refused(big, CT_ELIMIT);
    free(big);
}

static void schema_is_the_shipped_file(void **state)
{
    const char *root = getenv("CATENA_ROOT");
    char *file = NULL;
    size_t n = 0;

    (void)state;
    assert_non_null(root);
    assert_int_equal(
        ct_file_read(&file, &n, ctt_path("%s/docs/migration-spec.xsd", root), 1u << 20), 0);
    assert_string_equal(file, ct_cloud_spec_schema());
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_example_parses),
        cmocka_unit_test(optional_parts),
        cmocka_unit_test(schema_violations_name_element_and_line),
        cmocka_unit_test(missing_element_is_named),
        cmocka_unit_test(url_login_needs_credentials),
        cmocka_unit_test(not_a_spec),
        cmocka_unit_test(schema_is_the_shipped_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
