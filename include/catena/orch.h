/* Catena orchestration (seed 002 section 5): an application's services
 * taken from its TOSCA topology in dependency order, deployment drivers
 * that run and watch them, and the orchestrator loop that records every
 * step as a checkpoint, so that another orchestrator can continue from
 * them. */
#ifndef CATENA_ORCH_H
#define CATENA_ORCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catena/tosca.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- plan */

/* One service: a node template of type catena.nodes.Service. */
typedef struct ct_orch_service {
    char *name;     /* the node template's name */
    char **command; /* argv, NULL terminated; "{port}" is replaced at start */
    size_t n_command;
    uint16_t port; /* 0: the driver picks a free one */
    char *health;  /* HTTP path answered with 2xx/3xx while healthy */
    size_t *deps;  /* indices of the services it depends on (all earlier) */
    size_t n_deps;
} ct_orch_service;

/* An application's services in an order that starts each after those it
 * depends on (template order among independent ones). The index of a
 * service in it is its index in the Application contract. */
typedef struct ct_orch_plan {
    ct_orch_service *services;
    size_t n;
} ct_orch_plan;

/* Most services one application may have. */
#define CT_ORCH_MAX_SERVICES 256

/* Takes the services from a loaded template (get_input followed). Every
 * requirement of a service that names another service orders the two;
 * requirements on nodes that are no service do not.
 * Out: *out (ct_orch_plan_free).
 * Returns: 0; CT_EINVAL (no service, a dependency cycle, a command that is
 *          no list of strings, a bad port, an input without value: the
 *          message starts with the node template's file:line:column);
 *          CT_ELIMIT (more than CT_ORCH_MAX_SERVICES); CT_ENOMEM. */
int ct_orch_plan_new(ct_orch_plan **out, const ct_tosca *t);

void ct_orch_plan_free(ct_orch_plan *p);

/* Returns: the index of the service called name, or SIZE_MAX. */
size_t ct_orch_plan_find(const ct_orch_plan *p, const char *name);

/* ---------------------------------------------------------------- drivers */

/* A running service as a checkpoint records it: enough for any
 * orchestrator to find it again and tell whether it is still the same. */
typedef struct ct_orch_instance {
    char id[128];  /* the driver's monitoring id ("process:<pid>:<start ticks>") */
    char url[256]; /* base URL, "http://127.0.0.1:<port>" */
    int64_t pid;   /* process id, 0 when the driver has none */
} ct_orch_instance;

/* How services are run (a driver for local processes here; the OpenStack
 * driver of S2D plugs in the same way). Calls are made from one thread. */
typedef struct ct_orch_driver ct_orch_driver;
struct ct_orch_driver {
    const char *name;
    /* Starts service k of p and waits until its health check passes.
     * running[j] is the instance of service j (every dependency of k
     * runs); running[k], when its id is set, the instance this one
     * replaces (a driver keeps its port, so dependants need not move).
     * Returns: 0 with *out set; CT_EIO or CT_ETIMEOUT (nothing is left
     * running), CT_ENOMEM. */
    int (*start)(ct_orch_driver *d, ct_orch_instance *out, const ct_orch_plan *p, size_t k,
                 const ct_orch_instance *running);
    /* Returns: whether inst is still the instance started and answers its
     * health check now. */
    bool (*healthy)(ct_orch_driver *d, const ct_orch_service *svc, const ct_orch_instance *inst);
    /* Stops inst and whatever it started. Returns: 0, or CT_EIO. */
    int (*stop)(ct_orch_driver *d, const ct_orch_instance *inst);
    void (*free)(ct_orch_driver *d);
};

/* The process driver: each service is a process group of its own on this
 * machine, started with its command (stdout and stderr in
 * dir/<service>.log), the environment variable PORT and, for each
 * dependency, CATENA_URL_<NAME> (the name upper-cased, other characters
 * than letters and digits as '_'). Services outlive the orchestrator that
 * started them: another one finds them by their monitoring id.
 * start_timeout_ms bounds the wait for a first healthy answer.
 * Returns: 0, CT_EINVAL (dir missing), CT_ENOMEM. */
int ct_orch_process_driver_new(ct_orch_driver **out, const char *dir, int start_timeout_ms);

/* Frees d; NULL is a no-op. Running services keep running. */
void ct_orch_driver_free(ct_orch_driver *d);

/* ---------------------------------------------------------------- checkpoints */

/* Same order as Application.Kind on chain. */
typedef enum ct_orch_kind {
    CT_ORCH_SERVICE_UP = 0,
    CT_ORCH_SERVICE_DOWN = 1,
    CT_ORCH_APP_OK = 2,
    CT_ORCH_APP_SHUTDOWN = 3
} ct_orch_kind;

typedef struct ct_orch_checkpoint {
    ct_orch_kind kind;
    int64_t time_ms;  /* Unix time of the event */
    uint32_t service; /* plan index (SERVICE_UP/DOWN), else 0 */
    char orchestrator[64];
    ct_orch_instance inst; /* SERVICE_UP: the instance started */
} ct_orch_checkpoint;

/* Returns: "SERVICE_UP", ... ; ct_orch_kind_parse the reverse (0 or CT_EINVAL). */
const char *ct_orch_kind_name(ct_orch_kind k);
int ct_orch_kind_parse(ct_orch_kind *out, const char *name);

/* JSON form {"type", "time", "service", "index", "orchestrator", "id",
 * "url", "pid"} (service by name, and its plan index, which is its index in
 * the Application contract, for SERVICE_UP/DOWN; id/url/pid for SERVICE_UP
 * only). Parsing goes by the name.
 * Returns: a new reference, or NULL (out of memory). */
json_t *ct_orch_checkpoint_json(const ct_orch_checkpoint *cp, const ct_orch_plan *p);

/* The reverse. Returns: 0, CT_EINVAL naming what is wrong. */
int ct_orch_checkpoint_parse(ct_orch_checkpoint *out, const json_t *v, const ct_orch_plan *p);

/* ---------------------------------------------------------------- orchestrator */

typedef struct ct_orch_run_opts {
    const char *orchestrator; /* this orchestrator's id (in its checkpoints) */
    unsigned retries;         /* redeploys allowed per service, then APP_SHUTDOWN */
    int ok_interval_ms;       /* APP_OK period while every service runs */
    int check_interval_ms;    /* health check period */
    /* The checkpoints recorded so far (by this or an earlier orchestrator). */
    const ct_orch_checkpoint *resume;
    size_t n_resume;
    /* Set (by another thread or a signal handler) to stop the application. */
    const atomic_bool *stop;
    /* Set to give the work up (another orchestrator owns it now): the loop
     * returns leaving every service running and records nothing more. */
    const atomic_bool *abandon;
    /* Records one checkpoint durably. Returns 0, or an error: the loop tries
     * again every second until it succeeds or stop is set; CT_EAUTH (the
     * work is no longer this orchestrator's) gives the work up at once. */
    int (*store)(const ct_orch_checkpoint *cp, void *payload);
    void *payload;
} ct_orch_run_opts;

/* Runs the application until it is stopped or a service has failed more
 * than o->retries times: deploys the services in plan order (keeping any
 * whose last checkpoint is a SERVICE_UP and which is still healthy),
 * records SERVICE_UP after each start, APP_OK once all run and every
 * ok_interval after, SERVICE_DOWN and a redeploy when one fails, and at
 * the end stops every service and records APP_SHUTDOWN. Returns at once
 * when the checkpoints resumed from end with APP_SHUTDOWN.
 * Returns: 0 once APP_SHUTDOWN is recorded; the store's error when it
 *          could not record one before stop was set, or CT_EAUTH from it;
 *          CT_ESTATE when abandon was set (services left running). */
int ct_orch_run(const ct_orch_plan *p, ct_orch_driver *d, const ct_orch_run_opts *o);

/* ---------------------------------------------------------------- CAN component */

/* An orchestrator as a component of a Component Administration Network
 * (seed 002 sections 4.2 and 5; docs/ORCHESTRATION.md): registers with the
 * leader, answers GET /health and GET /status, and runs each application
 * work entry assigned to it (id: the Application contract's address;
 * description: its TOSCA document) with the process driver under
 * dir/<application>/, continuing from the entry's checkpoints, storing new
 * ones at the leader, stopping the application when its client asked the
 * contract to (stopRequested), and leaving it running when the work moves
 * to another orchestrator. Retries and the APP_OK interval are the
 * contract's. */
typedef struct ct_orch_component ct_orch_component;

typedef struct ct_orch_component_opts {
    const char *dir;         /* created if missing */
    const char *can_urls;    /* CAN node URLs, comma separated */
    const char *rpc_url;     /* the chain, to read the applications */
    const char *listen_host; /* NULL: 127.0.0.1 */
    uint16_t port;           /* 0: any free port */
    const char *public_url;  /* NULL: http://host:port */
    uint8_t seckey[32];      /* its address is the component's id (paid on chain); wiped */
    int poll_ms;             /* look at the network; 0: 500 */
    int check_interval_ms;   /* health checks of services; 0: 1000 */
    int start_timeout_ms;    /* a service's first healthy answer; 0: 30000 */
} ct_orch_component_opts;

/* Returns: 0, CT_EINVAL, CT_EIO (cannot listen), CT_ENOMEM. */
int ct_orch_component_start(ct_orch_component **out, const ct_orch_component_opts *o);

/* Its id ("0x" address) and contact URL (borrowed). */
const char *ct_orch_component_id(const ct_orch_component *c);
const char *ct_orch_component_url(const ct_orch_component *c);

/* Stops its threads and server and frees it; the applications' services
 * keep running (the network gives their work to another orchestrator).
 * NULL is a no-op. */
void ct_orch_component_stop(ct_orch_component *c);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_ORCH_H */
