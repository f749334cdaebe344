/* The TOSCA Simple Profile normative types (1.0 to 1.3), and Catena's own
 * (catena.nodes.*), that templates derive from: src/tosca/normative.yaml,
 * a TOSCA definitions document embedded in the library and read once by
 * the same code as imported files. */
#include "tosca_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* src/tosca/normative.yaml, embedded at build time (CMakeLists.txt). */
extern const char ct_tosca__normative_yaml[];

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static ct_tosca builtin_holder;         /* owns the shared types */
static struct fy_document *builtin_doc; /* their positions point into it */
static int builtin_rc;

/* Reads the built-in definitions once. The text is part of the library,
 * so an error in it is a bug that the unit tests catch. */
static void builtin_init(void)
{
    static const tosca_kind order[] = {TK_DATA,     TK_CAPABILITY, TK_RELATIONSHIP, TK_INTERFACE,
                                       TK_ARTIFACT, TK_POLICY,     TK_GROUP,        TK_NODE};
    static const ct_tosca_opts no_opts = {0};
    ct_yaml_diags d = {0};
    tosca_ctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.t = &builtin_holder;
    c.y.diags = &d;
    c.opts = &no_opts;
    c.y.file = "<normative types>";
    c.y.budget = CT_YAML_JSON_BUDGET;
    c.builtin = true;
    c.y.map_hook = ct_tosca__map_hook;
    if ((builtin_holder.types = calloc(1, sizeof(*builtin_holder.types))) == NULL) {
        builtin_rc = CT_ENOMEM;
        return;
    }
    rc = ct_yaml_parse_doc(&c.y, &builtin_doc, ct_tosca__normative_yaml,
                           strlen(ct_tosca__normative_yaml));
    for (size_t i = 0; rc == 0 && i < sizeof(order) / sizeof(order[0]); i++)
        rc = ct_tosca__read_types(
            &c, order[i],
            ct_yaml_get(fy_document_root(builtin_doc), ct_tosca__kind_section(order[i])));
    if (rc == 0)
        rc = ct_tosca__link_types(&c);
    if (rc == 0 && d.errors > 0)
        rc = CT_EPARSE;
    builtin_rc = c.y.nomem ? CT_ENOMEM : rc;
    ct_yaml_diags_free(&d);
}

int ct_tosca__builtin_types(tosca_ctx *c)
{
    pthread_once(&builtin_once, builtin_init);
    if (builtin_rc == CT_ENOMEM)
        return ct_yaml_nomem(&c->y);
    if (builtin_rc < 0)
        return ct_yaml_err(&c->y, NULL, "the built-in normative types do not load (a bug)");
    c->t->types->base = builtin_holder.types;
    return 0;
}
