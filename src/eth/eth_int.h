/* What the files of the eth module share and nobody else sees: the limits
 * and size helpers common to ABI type parsing (abi_type.c) and the ABI
 * coder (abi.c). */
#ifndef CATENA_ETH_INT_H
#define CATENA_ETH_INT_H

#include <stddef.h>

#include "catena/eth.h"

/* Deepest ABI type tree accepted (tuples and array dimensions each count
 * one level), so the coder's recursion is bounded by the type. */
#define CT_ETH__ABI_MAX_DEPTH 32

/* Largest head (static part) of one ABI type in bytes: 2^26, two million
 * words. The parser refuses bigger types, so size arithmetic on parsed
 * types cannot overflow. */
#define CT_ETH__ABI_MAX_STATIC ((size_t)1 << 26)

/* Returns: the bytes t occupies in the head of its enclosing tuple: 32 for a
 * dynamic type, else its whole static encoding (0 for "()" or "T[0]"). */
size_t ct_eth__abi_head_size(const ct_abi_type *t);

#endif /* CATENA_ETH_INT_H */
