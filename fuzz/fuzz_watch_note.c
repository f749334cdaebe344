/* Fuzz target for the cloud watcher's notification reader
 * (ct_agent__watch_parse): any bytes are a note with every string
 * terminated and its times set, another kind, or a parse error. */
#include <stdlib.h>
#include <string.h>

#include "../src/agent/agent_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_agent__note n;
    int rc = ct_agent__watch_parse(&n, (const char *)data, size);

    if (rc != 1 && rc != 0 && rc != CT_EPARSE)
        abort();
    if (rc == 1 &&
        (memchr(n.uuid, 0, sizeof(n.uuid)) == NULL || n.uuid[0] == '\0' ||
         memchr(n.event, 0, sizeof(n.event)) == NULL || n.state[0] == '\0' ||
         memchr(n.ip, 0, sizeof(n.ip)) == NULL || n.message_id[0] == '\0'))
        abort();
    return 0;
}
