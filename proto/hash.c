/*
 * FNV-1a over bytes, 64 bits: the same value for the same bytes on every
 * machine and in every run (no seed, no pointers, no locale), for what
 * is kept or compared across runs: the query hash in cursors (query.c)
 * and the keys annals import gives rows by their content.  It guards
 * against mistakes, not against someone who makes two inputs collide.
 */
#include "proto.h"

#define HASH_FNV_PRIME	0x100000001b3ULL

/*
 * Go on hashing len bytes at p from h (HASH_FNV_INIT to begin), so that
 * bytes that come in pieces hash as they would in one.
 */
uint64_t
hash_fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= HASH_FNV_PRIME;
	}
	return (h);
}
