/* A small HTTP service for orchestration tests: listens on 127.0.0.1:PORT
 * (--port, else $PORT), answers /health with 200 and / with a JSON object
 * naming itself, its pid and the dependency URLs it was given
 * (CATENA_URL_* variables), /grow by mapping 64 MiB more; --sleep MS
 * delays listening (a slow start).
 * It runs until a signal ends it, or for at
 * most ten minutes (a test that dies cannot leave it behind for good:
 * services outlive their orchestrator by design). */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

extern char **environ;

static const char *name = "svc";

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
    struct MHD_Response *r;
    enum MHD_Result ok;
    json_t *doc, *deps;
    char *text;
    (void)cls, (void)method, (void)version, (void)data, (void)size, (void)state;

    if (strcmp(url, "/grow") == 0) { /* maps 64 MiB more: the process's size changes */
        void *more =
            mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        (void)more;
        r = MHD_create_response_from_buffer(3, (void *)"ok\n", MHD_RESPMEM_PERSISTENT);
        ok = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ok;
    }
    if (strcmp(url, "/health") == 0) {
        r = MHD_create_response_from_buffer(3, (void *)"ok\n", MHD_RESPMEM_PERSISTENT);
        ok = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ok;
    }
    deps = json_object();
    for (char **e = environ; *e != NULL; e++)
        if (strncmp(*e, "CATENA_URL_", 11) == 0 && strchr(*e, '=') != NULL) {
            char key[256];
            const char *eq = strchr(*e, '=');
            snprintf(key, sizeof(key), "%.*s", (int)(eq - *e - 11), *e + 11);
            json_object_set_new(deps, key, json_string(eq + 1));
        }
    doc = json_pack("{s:s, s:i, s:o}", "name", name, "pid", (int)getpid(), "deps", deps);
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    ok = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ok;
}

int main(int argc, char **argv)
{
    const char *port_text = getenv("PORT");
    struct sockaddr_in addr;
    struct MHD_Daemon *d;
    long port, sleep_ms = 0;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port_text = argv[i + 1];
        else if (strcmp(argv[i], "--name") == 0)
            name = argv[i + 1];
        else if (strcmp(argv[i], "--sleep") == 0)
            sleep_ms = strtol(argv[i + 1], NULL, 10);
        /* --tag X is ignored: tests find their services by it */
    }
    alarm(600);
    if (sleep_ms > 0) /* a slow start: listens only after this long */
        nanosleep(
            &(struct timespec){.tv_sec = sleep_ms / 1000, .tv_nsec = (sleep_ms % 1000) * 1000000L},
            NULL);
    port = port_text ? strtol(port_text, NULL, 10) : 0;
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "test_svc: give --port or PORT\n");
        return 2;
    }
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, answer, NULL,
                         MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "test_svc: cannot listen on 127.0.0.1:%ld\n", port);
        return 1;
    }
    printf("test_svc %s listening on 127.0.0.1:%ld\n", name, port);
    fflush(stdout);
    for (;;)
        pause();
}
