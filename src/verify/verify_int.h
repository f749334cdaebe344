/* What the files of the verify module share: the receipts trie's keys and
 * the VC's storage slot, computed the same way by the collector and the
 * checker. */
#ifndef CATENA_VERIFY_INT_H
#define CATENA_VERIFY_INT_H

#include "catena/verify.h"

/* rlp(i), the receipts and transactions tries' key of index i.
 * Out: key (9 bytes of room), *len. Returns: 0. */
int ct_verify__index_key(uint8_t key[9], size_t *len, uint64_t i);

/* The storage slot of the Federation's containers[tag] (the first slot
 * of its Container struct). Returns: 0, or the layout's error. */
int ct_verify__vc_slot(uint8_t slot[32], const ct_ledger *l, const uint8_t tag[32]);

#endif /* CATENA_VERIFY_INT_H */
