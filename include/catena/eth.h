/* Catena eth: talking to Ethereum nodes. For now the JSON-RPC client core
 * (one call at a time over HTTP); RLP, ABI, transactions and the sender
 * join it with the Ethereum core issue. */
#ifndef CATENA_ETH_H
#define CATENA_ETH_H

#include <stdint.h>

#include <jansson.h>

#include "catena/util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_rpc ct_rpc;

/* Largest JSON-RPC response body accepted, in bytes. */
#define CT_RPC_MAX_RESPONSE (64u * 1024 * 1024)

/* Creates a client for the node at url (http:// or https://).
 * Args: timeout_ms bounds each call, connect included.
 * Out: *out owned by the caller, free with ct_rpc_free.
 * Returns: 0, CT_EINVAL (bad url) or CT_ENOMEM.
 * Thread safety: one ct_rpc must not be used by two threads at once. */
int ct_rpc_new(ct_rpc **out, const char *url, int timeout_ms);

void ct_rpc_free(ct_rpc *rpc);

/* Returns: the url given to ct_rpc_new (borrowed). */
const char *ct_rpc_url(const ct_rpc *rpc);

/* Calls method with params (a JSON array; NULL means []); params is
 * borrowed.
 * Out: *result is a new reference to the "result" member.
 * Returns: 0; CT_ETIMEOUT; CT_ERPC for transport, HTTP and node errors
 * (the node's code and message are kept in ct_error_last); CT_EREVERT when
 * the node reports an execution revert. */
int ct_rpc_call(ct_rpc *rpc, json_t **result, const char *method, json_t *params);


/* ---------------------------------------------------------------- dev node */

/* A local Hardhat node (the development chain) started as a child process
 * group: `node node_modules/hardhat/internal/cli/bootstrap.js node`. */
typedef struct ct_devnode {
    ct_proc proc;
    uint16_t port;
    char url[64]; /* "http://127.0.0.1:PORT" */
} ct_devnode;

/* Starts a Hardhat node in directory root (which holds node_modules/ and
 * hardhat.config.js) on 127.0.0.1:port (0 picks a free port), output
 * appended to log_path, and waits up to timeout_ms until eth_chainId
 * answers.
 * Returns: 0; CT_ENOTFOUND when Hardhat is not installed under root;
 * CT_EIO when node cannot start or exits early (see the log);
 * CT_ETIMEOUT. On failure nothing is left running. */
int ct_devnode_start(ct_devnode *out, const char *root, uint16_t port,
                     const char *log_path, int timeout_ms);

/* Stops the node's whole process group. Safe to call twice. */
void ct_devnode_stop(ct_devnode *node);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_ETH_H */
