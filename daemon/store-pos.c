/*
 * Records stored by position (format 8, issue #16).  A record on the
 * wire is a msgpack map whose keys are the field names, in the order
 * record_pack() writes them; stored that way, the names, the actors'
 * {"name": ...} wrappers, the stamps' nine-byte integers and the dates'
 * strings took about a third of a synthetic record's 330 bytes.  A
 * record stored by position keeps the values alone:
 *
 *	0xc1			msgpack's unused byte: no map starts so
 *	varint			which fields follow, bit i for field i
 *				(RECORD_FIELD order: id first, attrs last)
 *	id, rev, created	varints
 *	updated			varint, zigzag of updated - created
 *	start, end		0xc1 and a varint: a day "YYYY-MM-DD", or
 *				"YYYY-MM-DD/YYYY-MM-DD", as zigzag(day of
 *				1970) << 1 | interval, then for an interval
 *				the varint of its last day less its first;
 *				any other date as its msgpack str
 *	actors			varint n << 1 | roles, then each name as a
 *				msgpack str, followed when roles is set by
 *				its role str or nil
 *	other fields		their msgpack bytes (attrs with the ids of
 *				store-attrs.c)
 *
 * store_pos_pack() stores a record so only when expanding it gives back
 * its map byte for byte; any other keeps its map.  Records of format 7
 * and before are maps, which every reader still takes: a store is
 * upgraded to format 8 without rewriting one, and its maps go as their
 * events are written again or the store is compacted.
 */
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"
#include "store-int.h"

#define POS_MARK	0xc1
#define POS_DATE	0xc1
#define POS_VARINT_MAX	10
#define POS_DAYS_MAX	((int64_t)3000000)	/* past 9999 from 1970 */

/* Field indexes, as RECORD_FIELD numbers them. */
enum {
	POS_ID, POS_REV, POS_CREATED, POS_UPDATED, POS_SOURCE, POS_KEY,
	POS_START, POS_END, POS_ACTORS, POS_TYPE, POS_TITLE, POS_TEXT,
	POS_PLACE, POS_URLS, POS_TAGS, POS_ATTRS
};

/*
 * Each key packed as a fixstr, made from record_field_name(): at most 8
 * bytes ("created"), copied 8 at a time.
 */
#define POS_KEY_MAX	8
static unsigned char	pos_keys[RECORD_NFIELDS][POS_KEY_MAX];
static size_t		pos_klen[RECORD_NFIELDS];

void
store_pos_init(void)
{
	const char	*s;
	size_t		 n;
	int		 i;

	for (i = 0; i < RECORD_NFIELDS; i++) {
		s = record_field_name(i);
		n = strlen(s);
		if (n + 1 > POS_KEY_MAX)
			abort();	/* a field named longer than the table */
		pos_keys[i][0] = (unsigned char)(0xa0 | n);
		memcpy(pos_keys[i] + 1, s, n);
		pos_klen[i] = n + 1;
	}
}

int
store_pos_is(const void *rec, size_t len)
{
	return (len > 0 && *(const unsigned char *)rec == POS_MARK);
}

/* The str at p (header and bytes): its body and length; -1 if none. */
static int
pos_str(const unsigned char *p, size_t n, const unsigned char **body,
    size_t *blen)
{
	size_t	h, len;

	if (n >= 1 && (p[0] & 0xe0) == 0xa0) {
		h = 1;
		len = p[0] & 0x1f;
	} else if (n >= 2 && p[0] == 0xd9) {
		h = 2;
		len = p[1];
	} else if (n >= 3 && p[0] == 0xda) {
		h = 3;
		len = (size_t)p[1] << 8 | p[2];
	} else if (n >= 5 && p[0] == 0xdb) {
		h = 5;
		len = (size_t)p[1] << 24 | (size_t)p[2] << 16 |
		    (size_t)p[3] << 8 | p[4];
	} else
		return (-1);
	if (len > n - h)
		return (-1);
	*body = p + h;
	*blen = len;
	return (0);
}

/* The unsigned integer at p: its value and length; 0 if none. */
static size_t
pos_uint(const unsigned char *p, size_t n, uint64_t *v)
{
	size_t	w, i;

	if (n >= 1 && p[0] <= 0x7f) {
		*v = p[0];
		return (1);
	}
	switch (n >= 1 ? p[0] : 0) {
	case 0xcc:
		w = 1;
		break;
	case 0xcd:
		w = 2;
		break;
	case 0xce:
		w = 4;
		break;
	case 0xcf:
		w = 8;
		break;
	default:
		return (0);
	}
	if (n < 1 + w)
		return (0);
	for (*v = 0, i = 0; i < w; i++)
		*v = *v << 8 | p[1 + i];
	return (1 + w);
}

/* The day of the 10 bytes "YYYY-MM-DD" at s; -1 when they are not one. */
static int
pos_day(const unsigned char *s, int64_t *day)
{
	unsigned	y, m, d, i;

	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' :
		    s[i] < '0' || s[i] > '9')
			return (-1);
	y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 +
	    (s[2] - '0') * 10 + (s[3] - '0'));
	m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return (-1);
	*day = date_days_from_civil(y, m, d);
	return (0);
}

/*
 * The days a thread wrote last, as strings: the records of a page are
 * close in time, and the calendar's divisions were a fifth of the time
 * of an expansion.
 */
#define POS_DAY_CACHE	4
static _Thread_local struct {
	int64_t		day;
	char		str[10];
} pos_days[POS_DAY_CACHE] = {
	{ INT64_MIN, "" }, { INT64_MIN, "" }, { INT64_MIN, "" },
	{ INT64_MIN, "" }
};

/*
 * Write the day as "YYYY-MM-DD" to buf: 10, or 0 for a day outside the
 * years 0 to 9999.
 */
static size_t
pos_day_str(int64_t day, char *buf)
{
	int64_t		y;
	unsigned	m, d, yy, slot = (unsigned)day % POS_DAY_CACHE;

	if (pos_days[slot].day == day) {
		memcpy(buf, pos_days[slot].str, 10);
		return (10);
	}
	/* A damaged record may hold any number. */
	if (day < -POS_DAYS_MAX || day > POS_DAYS_MAX)
		return (0);
	date_civil_from_days(day, &y, &m, &d);
	if (y < 0 || y > 9999)
		return (0);
	yy = (unsigned)y;
	buf[0] = (char)('0' + yy / 1000);
	buf[1] = (char)('0' + yy / 100 % 10);
	buf[2] = (char)('0' + yy / 10 % 10);
	buf[3] = (char)('0' + yy % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '-';
	buf[8] = (char)('0' + d / 10);
	buf[9] = (char)('0' + d % 10);
	pos_days[slot].day = day;
	memcpy(pos_days[slot].str, buf, 10);
	return (10);
}

/* Write a start or end, the str at p of plen bytes, to o. */
static size_t
pos_put_date(unsigned char *o, const unsigned char *p, size_t plen)
{
	const unsigned char	*s;
	size_t			 n, k;
	int64_t			 a, b;

	if (pos_str(p, plen, &s, &n) == 0 && (n == 10 || (n == 21 &&
	    s[10] == '/')) && pos_day(s, &a) == 0 &&
	    (n == 10 || (pos_day(s + 11, &b) == 0 && b >= a))) {
		o[0] = POS_DATE;
		k = 1 + store_varint_put(o + 1,
		    store_zigzag((uint64_t)a) << 1 | (n == 21));
		if (n == 21)
			k += store_varint_put(o + k, (uint64_t)(b - a));
		return (k);
	}
	memcpy(o, p, plen);
	return (plen);
}

/*
 * The entry of an actor map at p (n bytes) whose key is the packed
 * 5-byte key: its str value copied to o.  Returns the entry's length,
 * or 0 when it is not that key and a str.
 */
static size_t
pos_actor_str(const unsigned char *p, size_t n, const char *key,
    unsigned char *o)
{
	const unsigned char	*body;
	size_t			 h, blen;

	if (store_mp_len(p, n) != 5 || memcmp(p, key, 5) != 0 ||
	    (h = store_mp_len(p + 5, n - 5)) == 0 ||
	    pos_str(p + 5, h, &body, &blen) != 0)
		return (0);
	memcpy(o, p + 5, h);
	return (5 + h);
}

/*
 * Append the positional form of the record map (as store_attrs_pack left
 * it) of len bytes at rec to out; -1, with out as it was, for a map the
 * form does not hold.  The caller checks the round trip.
 */
static int
pos_encode(const unsigned char *rec, size_t len, msgpack_sbuffer *out)
{
	const unsigned char	*body;
	unsigned char		*o, *base;
	uint64_t		 v, created = 0;
	uint32_t		 count, i, k, na, j, roles, bits = 0;
	size_t			 off, n, vlen, h, blen, at, start = out->size;
	int			 idx, from = 0, last = -1;

	if (store_mp_map(rec, len, &count, &off) != 0 || count == 0)
		return (-1);
	/* Room: the bitmap, and each value at most its bytes and 10. */
	base = (unsigned char *)store_sbuf_room(out, len + 32 +
	    (size_t)count * POS_VARINT_MAX);
	o = base;
	*o++ = POS_MARK;
	o += 3;		/* the bitmap goes here: 3 bytes hold 16 bits */
	for (i = 0; i < count; i++) {
		if (pos_str(rec + off, len - off, &body, &blen) != 0 ||
		    (idx = record_field_index((const char *)body, blen,
		    from)) < 0 || idx <= last)
			goto fail;
		off = (size_t)(body - rec) + blen;
		if ((vlen = store_mp_len(rec + off, len - off)) == 0)
			goto fail;
		last = idx;
		from = idx + 1;
		bits |= (uint32_t)1 << idx;
		switch (idx) {
		case POS_ID:
		case POS_REV:
		case POS_CREATED:
		case POS_UPDATED:
			if (pos_uint(rec + off, vlen, &v) != vlen)
				goto fail;
			if (idx == POS_CREATED)
				created = v;
			if (idx == POS_UPDATED)
				v = store_zigzag(v - created);
			o += store_varint_put(o, v);
			break;
		case POS_START:
		case POS_END:
			o += pos_put_date(o, rec + off, vlen);
			break;
		case POS_ACTORS:
			/* An array of maps of name and, maybe, role. */
			if ((rec[off] & 0xf0) != 0x90)
				goto fail;
			na = rec[off] & 0x0f;
			for (roles = 0, at = off + 1, j = 0; j < na; j++) {
				if (at >= off + vlen ||
				    (rec[at] != 0x81 && rec[at] != 0x82))
					goto fail;
				roles |= rec[at] == 0x82;
				if ((h = store_mp_len(rec + at, off + vlen -
				    at)) == 0)
					goto fail;
				at += h;
			}
			o += store_varint_put(o, (uint64_t)na << 1 | roles);
			for (at = off + 1, j = 0; j < na; j++) {
				k = rec[at] & 0x0f;
				at++;
				if ((h = pos_actor_str(rec + at, off + vlen -
				    at, "\xa4name", o)) == 0)
					goto fail;
				o += h - 5;
				at += h;
				if (!roles)
					continue;
				if (k == 1) {
					*o++ = 0xc0;
					continue;
				}
				if ((h = pos_actor_str(rec + at, off + vlen -
				    at, "\xa4role", o)) == 0)
					goto fail;
				o += h - 5;
				at += h;
			}
			if (at != off + vlen)
				goto fail;
			break;
		default:
			memcpy(o, rec + off, vlen);
			o += vlen;
			break;
		}
		off += vlen;
	}
	if (off != len)
		goto fail;
	/* The bitmap, in the 3 bytes kept for it: a varint of 1 to 3. */
	n = store_varint_put(base + 1, bits);
	memmove(base + 1 + n, base + 4, (size_t)(o - base) - 4);
	o -= 3 - n;
	out->size = start + (size_t)(o - base);
	return (0);
fail:
	out->size = start;
	return (-1);
}

/* Write the msgpack uint v, packed shortest, to o. */
static size_t
pos_pack_uint(unsigned char *o, uint64_t v)
{
	size_t	w, i;

	if (v <= 0x7f) {
		o[0] = (unsigned char)v;
		return (1);
	}
	if (v <= 0xff) {
		o[0] = 0xcc;
		w = 1;
	} else if (v <= 0xffff) {
		o[0] = 0xcd;
		w = 2;
	} else if (v <= 0xffffffffu) {
		o[0] = 0xce;
		w = 4;
	} else {
		o[0] = 0xcf;
		w = 8;
	}
	for (i = 0; i < w; i++)
		o[w - i] = (unsigned char)(v >> (8 * i));
	return (1 + w);
}

/*
 * Append the map of the positional record at rec (len bytes, its seq
 * cut off) to out, with only the keys of fields (RECORD_FIELD bits), as
 * fields_project() would cut the whole map: with the names of its attrs
 * when names is set, else its attrs as stored.  Returns 0, or -1 with
 * out as it was for a record that does not decode.
 */
int
store_pos_expand(struct store *st, MDB_txn *txn, const void *data,
    size_t len, msgpack_sbuffer *out, int names, uint32_t fields)
{
	const unsigned char	*rec = data, *p, *end = rec + len, *body;
	unsigned char		*o, *mark;
	char			 day[24];
	uint64_t		 bits, left, v, created = 0, na;
	size_t			 start = out->size, n, blen;
	uint32_t		 count, j;
	int			 i, roles, want;

	if (len < 2 || rec[0] != POS_MARK)
		return (-1);
	p = rec + 1;
	if (store_varint_get(&p, end, &bits) != 0 || bits == 0 ||
	    bits > RECORD_FIELDS_ALL)
		return (-1);
	count = (uint32_t)__builtin_popcountll(bits & fields);
	/*
	 * Room for every value grown by its key and by the most a value
	 * grows: a date to 22 bytes from 2, a uint to 9 from 1, an actor by
	 * its wrapper.  attrs are appended apart.
	 */
	o = (unsigned char *)store_sbuf_room(out, 3 + 2 * len + 16 * 32);
	if (count < 16)
		*o++ = 0x80 | (unsigned char)count;
	else {
		/* All 16: a map 16, as msgpack-c packs it. */
		o[0] = 0xde;
		o[1] = 0;
		o[2] = (unsigned char)count;
		o += 3;
	}
	/* A field left out is decoded all the same, then taken back. */
	for (left = bits; left != 0; left &= left - 1) {
		i = __builtin_ctzll(left);
		want = (fields & RECORD_FIELD(i)) != 0;
		mark = o;
		memcpy(o, pos_keys[i], POS_KEY_MAX);
		o += pos_klen[i];
		switch (i) {
		case POS_ID:
		case POS_REV:
		case POS_CREATED:
		case POS_UPDATED:
			if (store_varint_get(&p, end, &v) != 0)
				goto fail;
			if (i == POS_CREATED)
				created = v;
			if (i == POS_UPDATED)
				v = created + store_unzigzag(v);
			o += pos_pack_uint(o, v);
			break;
		case POS_START:
		case POS_END:
			if (p < end && *p == POS_DATE) {
				p++;
				if (store_varint_get(&p, end, &v) != 0 ||
				    pos_day_str((int64_t)store_unzigzag(v >> 1),
				    day) != 10)
					goto fail;
				n = 10;
				if (v & 1) {
					day[10] = '/';
					if (store_varint_get(&p, end, &na) !=
					    0 || na > INT32_MAX ||
					    pos_day_str((int64_t)
					    store_unzigzag(v >> 1) +
					    (int64_t)na, day + 11) != 10)
						goto fail;
					n = 21;
				}
				*o++ = (unsigned char)(0xa0 | n);
				memcpy(o, day, n);
				o += n;
				break;
			}
			/* FALLTHROUGH */
		default:
			if ((n = store_mp_len(p, (size_t)(end - p))) == 0)
				goto fail;
			if (want && i == POS_ATTRS && names) {
				out->size = (size_t)(o - (unsigned char *)
				    out->data);
				store_attrs_expand_map(st, txn, p, n, out);
				o = (unsigned char *)out->data + out->size;
			} else if (want) {
				memcpy(o, p, n);
				o += n;
			}
			p += n;
			break;
		case POS_ACTORS:
			if (store_varint_get(&p, end, &v) != 0 ||
			    (v >> 1) > 15)
				goto fail;
			na = v >> 1;
			roles = (int)(v & 1);
			*o++ = (unsigned char)(0x90 | na);
			for (j = 0; j < na; j++) {
				if ((n = store_mp_len(p, (size_t)(end - p))) ==
				    0 || pos_str(p, n, &body, &blen) != 0)
					goto fail;
				*o = roles && p + n < end && p[n] != 0xc0 ?
				    0x82 : 0x81;
				memcpy(o + 1, "\xa4name", 5);
				memcpy(o + 6, p, n);
				o += 6 + n;
				p += n;
				if (!roles)
					continue;
				if (p < end && *p == 0xc0) {
					p++;
					continue;
				}
				if ((n = store_mp_len(p, (size_t)(end - p))) ==
				    0 || pos_str(p, n, &body, &blen) != 0)
					goto fail;
				memcpy(o, "\xa4role", 5);
				memcpy(o + 5, p, n);
				o += 5 + n;
				p += n;
			}
			break;
		}
		if (!want)
			o = mark;
	}
	if (p != end)
		goto fail;
	out->size = (size_t)(o - (unsigned char *)out->data);
	return (0);
fail:
	out->size = start;
	return (-1);
}

/*
 * Where the attrs of the positional record at rec begin: their offset,
 * 0 when it has none, -1 when it does not decode.
 */
ssize_t
store_pos_attrs(const unsigned char *rec, size_t len)
{
	const unsigned char	*p = rec + 1, *end = rec + len;
	uint64_t		 bits, v;
	size_t			 n, j;
	int			 i;

	if (len < 2 || store_varint_get(&p, end, &bits) != 0)
		return (-1);
	if ((bits & RECORD_FIELD_ATTRS) == 0)
		return (0);
	for (i = 0; i < RECORD_NFIELDS - 1; i++) {
		if ((bits & ((uint64_t)1 << i)) == 0)
			continue;
		if (i <= POS_UPDATED || ((i == POS_START || i == POS_END) &&
		    p < end && *p == POS_DATE)) {
			if (i >= POS_START)
				p++;
			if (store_varint_get(&p, end, &v) != 0 ||
			    ((i == POS_START || i == POS_END) && (v & 1) &&
			    store_varint_get(&p, end, &v) != 0))
				return (-1);
			continue;
		}
		if (i == POS_ACTORS) {
			if (store_varint_get(&p, end, &v) != 0)
				return (-1);
			for (j = 0; j < (v >> 1) << (v & 1); j++) {
				if ((n = store_mp_len(p, (size_t)(end - p))) ==
				    0)
					return (-1);
				p += n;
			}
			continue;
		}
		if ((n = store_mp_len(p, (size_t)(end - p))) == 0)
			return (-1);
		p += n;
	}
	return (p < end ? (ssize_t)(p - rec) : -1);
}

/*
 * Store the record map in rec (as store_attrs_pack left it) by position
 * when it comes back from that byte for byte; scratch is the writer's.
 * The map it comes back as goes after the one in rec, not into scratch,
 * which it is read from.  Whether it did.
 */
int
store_pos_pack(msgpack_sbuffer *rec, msgpack_sbuffer *scratch)
{
	size_t	mlen = rec->size;
	int	same;

	msgpack_sbuffer_clear(scratch);
	if (pos_encode((const unsigned char *)rec->data, mlen, scratch) != 0 ||
	    store_pos_expand(NULL, NULL, scratch->data, scratch->size, rec,
	    0, RECORD_FIELDS_ALL) != 0)
		return (0);
	same = rec->size - mlen == mlen &&
	    memcmp(rec->data, rec->data + mlen, mlen) == 0;
	rec->size = mlen;
	if (!same)
		return (0);
	memcpy(rec->data, scratch->data, scratch->size);
	rec->size = scratch->size;
	return (1);
}
