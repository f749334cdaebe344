/* Helpers of the tests that run on the two real OpenStack clouds of
 * scripts/clouds (label openstack, CATENA_CLOUDS_DIR). Failures fail the
 * running cmocka test. */
#ifndef CATENA_TEST_CLOUDS_H
#define CATENA_TEST_CLOUDS_H

#include <jansson.h>

#include "catena/cloud.h"

/* The clouds' folder from CATENA_CLOUDS_DIR, or NULL (said on stderr)
 * when they are not up. */
const char *ctt_clouds_dir(void);

/* KEY's value in the clouds' clouds.env (test-lifetime string). */
const char *ctt_clouds_env(const char *key);

/* A session with cloud name ("a", "b", "a-admin"...) of clouds.yaml. */
ct_cloud *ctt_cloud_connect(const char *name);

/* A request that must answer want; returns the reply (new ref, may be
 * NULL for an empty body). body is JSON text or NULL. */
json_t *ctt_cloud_call(ct_cloud *c, ct_cloud_service s, const char *method, const char *path,
                       const char *body, long want);

/* The id of flavor name (test-lifetime string). */
const char *ctt_cloud_flavor(ct_cloud *c, const char *name);

/* Deletes the servers whose name matches the regular expression (Nova's
 * name filter) and waits until they are gone: what a failed run left. */
void ctt_cloud_delete_servers(ct_cloud *c, const char *name_regex);

/* Waits (up to two minutes) for server id to show status want. */
void ctt_cloud_wait_server(ct_cloud *c, const char *id, const char *want);

#endif
