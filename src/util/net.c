/* Loopback networking helpers for services started by catena up and tests. */
#include "catena/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Ports are drawn at random below the kernel's ephemeral range: a port
 * from that range may be given, before the service meant to listen on it
 * has started (a Node.js client takes seconds), to an outgoing connection
 * as its source port, and the service then cannot listen (a PoA node
 * exited at start once under ctest -j). */
#define PORT_LOW 10000
#define PORT_TRIES 64
/* Ports this process handed out lately, not handed out again. */
#define PORT_RECENT 256

static pthread_mutex_t port_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t port_rng;
static uint16_t port_recent[PORT_RECENT];
static size_t port_next;

/* The first port of the ephemeral range (32768 by default). */
static unsigned ephemeral_low(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    unsigned low = 32768;

    if (f != NULL) {
        if (fscanf(f, "%u", &low) != 1)
            low = 32768;
        fclose(f);
    }
    return low;
}

/* Returns: whether a new TCP socket can bind (connect false) or connect
 * (true) to 127.0.0.1:port now. */
static bool loopback_try(uint16_t port, bool connect_to)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    if (fd < 0)
        return false;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect_to)
        ok = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    else
        ok = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    close(fd);
    return ok;
}

static bool recently_given(uint16_t port)
{
    for (size_t i = 0; i < PORT_RECENT; i++) {
        if (port_recent[i] == port)
            return true;
    }
    return false;
}

/* A free port below the ephemeral range, or 0 when none was found. */
static uint16_t pick_low_port(void)
{
    unsigned low = ephemeral_low();
    uint16_t port = 0;

    if (low <= PORT_LOW + 1000 || low > 65536)
        return 0;
    pthread_mutex_lock(&port_lock);
    if (port_rng == 0 &&
        getrandom(&port_rng, sizeof(port_rng), GRND_NONBLOCK) != (ssize_t)sizeof(port_rng))
        port_rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    for (int i = 0; i < PORT_TRIES && port == 0; i++) {
        uint16_t p = (uint16_t)(PORT_LOW + ct_rand_next(&port_rng) % (low - PORT_LOW));
        if (!recently_given(p) && loopback_try(p, false))
            port = p;
    }
    if (port != 0)
        port_recent[port_next++ % PORT_RECENT] = port;
    pthread_mutex_unlock(&port_lock);
    return port;
}

/* The kernel's choice of a free port, from the ephemeral range. */
static int kernel_port(uint16_t *out)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int fd, rc = 0;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ct_error_set(CT_EIO, "socket: %s", strerror(errno));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
        rc = ct_error_set(CT_EIO, "cannot find a free port: %s", strerror(errno));
    else
        *out = ntohs(addr.sin_port);
    close(fd);
    return rc;
}

int ct_net_free_port(uint16_t *out)
{
    if ((*out = pick_low_port()) != 0)
        return 0;
    return kernel_port(out);
}

bool ct_net_can_connect(uint16_t port)
{
    return loopback_try(port, true);
}
