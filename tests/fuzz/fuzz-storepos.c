/*
 * Records stored by position (daemon/store-pos.c): what a damaged store
 * may hand store_pos_expand(), and what the writer hands store_pos_pack().
 * The target is storepos, not store-pos: its name is also that of
 * fuzz_storepos() (fuzz.h).
 *
 * Promises checked:
 *
 * - Any bytes, as a stored record, are refused with out as it was, or
 *   expand to one map appended to out, of at most RECORD_NFIELDS str
 *   keys (field names in RECORD_FIELD order) that the frame check
 *   passes, read from no byte past the record's.  Its values need not
 *   decode: a damaged record may hold odd ones.
 * - store_pos_attrs() of a record that expands finds its attrs, the
 *   bytes the map ends with, or none when the map has none.
 * - Expanded with a set of fields, a record gives fields_write() of its
 *   whole map, or is refused as the whole one was: the fields left out
 *   must decode all the same.
 * - A map given to store_pos_pack() is kept as it is, or stored by
 *   position so that it expands to the map byte for byte.  Those maps
 *   are the record the input decodes to (record_decode(), then
 *   record_pack() with stamps, as the daemon stores a put), the input
 *   itself when the frame check passes it (which takes in what
 *   store_attrs_pack() leaves: attrs keyed by integer ids) and the map
 *   any input expanded to.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "../../daemon/annalsd.h"
#include "../../daemon/store-int.h"
#include "fuzz.h"

/* What out holds before an expansion, which must stay as it was. */
#define STOREPOS_HEAD	"\x93\xc0\x01\xa1x"
#define STOREPOS_HLEN	(sizeof STOREPOS_HEAD - 1)

/* Stamps for a record that names none, as a new put gets them. */
#define STOREPOS_NOW	1422230400000ull	/* 2015-01-26, in ms */

/* The sets expansions are cut to: id alone, a timeline's, all but attrs. */
static const char *const storepos_sets[] = {
	"id",
	"id,start,end,actors,title",
	("id,rev,created,updated,source,key,start,end,actors,type,title,"
	    "text,place,urls,tags")
};

/* A copy of len bytes at p, in memory of exactly that size, even 0. */
static unsigned char *
storepos_copy(const void *p, size_t len)
{
	unsigned char	*copy;

	if ((copy = malloc(len)) == NULL && len > 0)
		abort();
	if (len > 0)
		memcpy(copy, p, len);
	return (copy);
}

/*
 * The map at p (len bytes) is one object the frame check passes, of at
 * most RECORD_NFIELDS keys, each a field name after the one before.
 */
static void
storepos_check_map(const char *p, size_t len)
{
	msgpack_unpacked	 u;
	msgpack_object_kv	*kv;
	struct aerr		 err;
	size_t			 used = 0;
	uint32_t		 i;
	int			 idx = -1;

	FUZZ_CHECK(frame_check((const unsigned char *)p, len, &err) == 0);
	msgpack_unpacked_init(&u);
	FUZZ_CHECK(msgpack_unpack_next(&u, p, len, &used) ==
	    MSGPACK_UNPACK_SUCCESS && used == len);
	FUZZ_CHECK(u.data.type == MSGPACK_OBJECT_MAP);
	FUZZ_CHECK(u.data.via.map.size <= RECORD_NFIELDS);
	for (i = 0; i < u.data.via.map.size; i++) {
		kv = &u.data.via.map.ptr[i];
		FUZZ_CHECK(kv->key.type == MSGPACK_OBJECT_STR);
		idx = record_field_index(kv->key.via.str.ptr,
		    kv->key.via.str.size, idx + 1);
		FUZZ_CHECK(idx >= 0);
	}
	msgpack_unpacked_destroy(&u);
}

/*
 * store_pos_attrs() of rec, which expanded to map (mlen bytes): where
 * the attrs the map ends with begin in rec, 0 when it has none.
 */
static void
storepos_check_attrs(const unsigned char *rec, size_t len, const char *map,
    size_t mlen)
{
	msgpack_unpacked	 u;
	const msgpack_object	*last;
	size_t			 alen;
	ssize_t			 at;
	int			 has;

	msgpack_unpacked_init(&u);
	FUZZ_CHECK(msgpack_unpack_next(&u, map, mlen, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	last = u.data.via.map.size == 0 ? NULL :
	    &u.data.via.map.ptr[u.data.via.map.size - 1].key;
	has = last != NULL && last->via.str.size == 5 &&
	    memcmp(last->via.str.ptr, "attrs", 5) == 0;
	msgpack_unpacked_destroy(&u);

	at = store_pos_attrs(rec, len);
	if (!has) {
		FUZZ_CHECK(at == 0);
		return;
	}
	FUZZ_CHECK(at > 0 && (size_t)at < len);
	alen = len - (size_t)at;
	FUZZ_CHECK(store_mp_len(rec + at, alen) == alen);
	FUZZ_CHECK(alen < mlen && memcmp(map + mlen - alen, rec + at,
	    alen) == 0);
}

/*
 * rec expands with each set to fields_write() of map, its whole
 * expansion of mlen bytes; or, when map is NULL (the whole was refused),
 * is refused with each, out left empty.
 */
static void
storepos_check_sets(const unsigned char *rec, size_t len, const char *map,
    size_t mlen)
{
	msgpack_sbuffer	 cut, want;
	struct aerr	 err;
	uint32_t	 set;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof storepos_sets / sizeof storepos_sets[0]; i++) {
		if (fields_parse(storepos_sets[i], &set, &err) != 0)
			fuzz_fail(__FILE__, __LINE__, err.msg);
		msgpack_sbuffer_init(&cut);
		msgpack_sbuffer_init(&want);
		rc = store_pos_expand(NULL, NULL, rec, len, &cut, 0, set);
		if (map == NULL)
			FUZZ_CHECK(rc == -1 && cut.size == 0);
		else {
			FUZZ_CHECK(rc == 0);
			fields_write(&want, map, mlen, set);
			FUZZ_CHECK(cut.size == want.size &&
			    memcmp(cut.data, want.data, want.size) == 0);
		}
		msgpack_sbuffer_destroy(&cut);
		msgpack_sbuffer_destroy(&want);
	}
}

/*
 * Expand rec (len bytes, in memory of that size) onto out, which it
 * clears and fills with STOREPOS_HEAD first, and check the promises of
 * what it made.  Returns 0 with the map in out after the head, or -1
 * when rec was refused.
 */
static int
storepos_expand_check(const unsigned char *rec, size_t len,
    msgpack_sbuffer *out)
{
	int	rc;

	msgpack_sbuffer_clear(out);
	msgpack_sbuffer_write(out, STOREPOS_HEAD, STOREPOS_HLEN);
	rc = store_pos_expand(NULL, NULL, rec, len, out, 0, RECORD_FIELDS_ALL);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(memcmp(out->data, STOREPOS_HEAD, STOREPOS_HLEN) == 0);
	if (rc != 0) {
		FUZZ_CHECK(out->size == STOREPOS_HLEN);
		/* Damaged, it must still be walked within its bytes. */
		(void)store_pos_attrs(rec, len);
		storepos_check_sets(rec, len, NULL, 0);
		return (-1);
	}
	FUZZ_CHECK(out->size > STOREPOS_HLEN);
	storepos_check_map(out->data + STOREPOS_HLEN,
	    out->size - STOREPOS_HLEN);
	storepos_check_attrs(rec, len, out->data + STOREPOS_HLEN,
	    out->size - STOREPOS_HLEN);
	storepos_check_sets(rec, len, out->data + STOREPOS_HLEN,
	    out->size - STOREPOS_HLEN);
	return (0);
}

/*
 * Store map (len bytes) as the writer does: kept as it is, or by
 * position, which expands to it byte for byte.
 */
static void
storepos_pack_check(const void *map, size_t len)
{
	msgpack_sbuffer	 rec, scratch, out;
	unsigned char	*pos;
	int		 did;

	/* The map alone in its memory: ASan sees a read past it. */
	msgpack_sbuffer_init(&rec);
	rec.data = (char *)storepos_copy(map, len);
	rec.size = rec.alloc = len;
	msgpack_sbuffer_init(&scratch);
	did = store_pos_pack(&rec, &scratch);
	FUZZ_CHECK(did == 0 || did == 1);
	if (!did)
		FUZZ_CHECK(rec.size == len && memcmp(rec.data, map, len) == 0);
	else {
		FUZZ_CHECK(store_pos_is(rec.data, rec.size));
		pos = storepos_copy(rec.data, rec.size);
		msgpack_sbuffer_init(&out);
		FUZZ_CHECK(storepos_expand_check(pos, rec.size, &out) == 0);
		FUZZ_CHECK(out.size - STOREPOS_HLEN == len &&
		    memcmp(out.data + STOREPOS_HLEN, map, len) == 0);
		msgpack_sbuffer_destroy(&out);
		free(pos);
	}
	msgpack_sbuffer_destroy(&rec);
	msgpack_sbuffer_destroy(&scratch);
}

/*
 * The record the input decodes to, packed with stamps: its own when it
 * names an id, else a new put's.
 */
static void
storepos_record(const uint8_t *data, size_t size)
{
	msgpack_unpacked	 u;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	struct event		 ev;
	struct aerr		 err;
	unsigned char		*buf;

	if (fuzz_unpack(data, size, &u, &buf) != 0 ||
	    record_decode(&u.data, &ev, &err) != 0) {
		msgpack_unpacked_destroy(&u);
		free(buf);
		return;
	}
	msgpack_unpacked_destroy(&u);
	free(buf);
	if (ev.id == 0) {
		ev.id = 1 + size;
		ev.rev = 1;
		ev.created = ev.updated = STOREPOS_NOW + size;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	record_pack(&pk, &ev);
	storepos_pack_check(sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	record_clear(&ev);
}

void
fuzz_storepos(const uint8_t *data, size_t size)
{
	msgpack_sbuffer	 out;
	struct aerr	 err;
	unsigned char	*rec;

	store_mp_init();
	rec = storepos_copy(data, size);
	msgpack_sbuffer_init(&out);
	if (storepos_expand_check(rec, size, &out) == 0)
		storepos_pack_check(out.data + STOREPOS_HLEN,
		    out.size - STOREPOS_HLEN);
	msgpack_sbuffer_destroy(&out);
	/*
	 * Any map the frame check passes, its count bounded by its bytes:
	 * the writer never hands over one that does not.
	 */
	if (size > 0 && frame_check(rec, size, &err) == 0)
		storepos_pack_check(rec, size);
	free(rec);
	storepos_record(data, size);
}

FUZZ_ENTRY(storepos)
