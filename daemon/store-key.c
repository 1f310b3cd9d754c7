/*
 * Key and value encodings of the store's indexes.  Every number is
 * big-endian so that LMDB's memcmp order is numeric order; signed times
 * have their sign bit flipped so that negative years sort first.
 *
 * records:	start(8) id(8), or class(1) start(8) id(8)	-> record, seq(8)
 * time index:	class(1) start(8) id(8)			-> span(4..51)
 * actor index:	name NUL class(1) start(8) id(8)	-> span(4..51)
 * source index: source NUL key				-> id(8)
 *
 * The class of an event is how far it reaches from its start, rounded
 * up to a power of two seconds; a query scans each class from its start
 * minus the class's reach, so long events never make short queries walk
 * everything that began before them.
 */
#include <endian.h>
#include <string.h>

#include "annalsd.h"
#include "store-int.h"

void
skey_be64(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

uint64_t
skey_get_be64(const unsigned char *p)
{
	uint64_t	v;

	memcpy(&v, p, 8);
	return (be64toh(v));
}

void
skey_time(unsigned char *p, int64_t t)
{
	skey_be64(p, (uint64_t)t ^ (UINT64_C(1) << 63));
}

int64_t
skey_get_time(const unsigned char *p)
{
	return ((int64_t)(skey_get_be64(p) ^ (UINT64_C(1) << 63)));
}

/* The number of bits of the farthest the span reaches from its start. */
int
skey_class(const struct date_span *s)
{
	uint64_t	reach, before;
	int		class;

	if (s->lo == DATE_NEG_INF || s->flo == DATE_NEG_INF ||
	    s->fhi == DATE_POS_INF)
		return (SKEY_CLASS_INF);
	reach = (uint64_t)s->fhi - (uint64_t)s->lo;
	before = (uint64_t)s->lo - (uint64_t)s->flo;
	if (before > reach)
		reach = before;
	/* The bit length of reach: a range walk asks once per hit. */
	class = reach == 0 ? 0 : 64 - __builtin_clzll(reach);
	return (class >= SKEY_CLASS_INF ? SKEY_CLASS_INF : class);
}

/* How far an event of this class can reach: under 2^class seconds. */
int64_t
skey_class_reach(int class)
{
	if (class >= SKEY_CLASS_INF)
		return (DATE_POS_INF);
	return ((int64_t)1 << class);
}

/*
 * What of a span decides where a histogram looks for the events that
 * cross a bucket's first instant (store-agg.c): SKEY_SPAN_BEFORE when its
 * fuzzy range begins before its start, SKEY_SPAN_UNALIGNED unless it is
 * whole days, from a midnight to the last second of a day.
 */
int
skey_span_kind(const struct date_span *s)
{
	int	kind = 0;

	if (s->flo < s->lo)
		kind |= SKEY_SPAN_BEFORE;
	if (s->flo != s->lo || s->lo == DATE_NEG_INF ||
	    s->fhi == DATE_POS_INF || s->lo % 86400 != 0 ||
	    (s->fhi + 1) % 86400 != 0)
		kind |= SKEY_SPAN_UNALIGNED;
	return (kind);
}

size_t
skey_time_key(unsigned char *p, int class, int64_t start, uint64_t id)
{
	p[0] = (unsigned char)class;
	skey_time(p + 1, start);
	skey_be64(p + 9, id);
	return (SKEY_TIME_LEN);
}

/*
 * A record's key: its start and id.  An event reaching under a day and
 * a half (class SKEY_REC_SHORT or below: most of any feed) keeps its
 * record in events, whatever its class, so that the records of events
 * starting close together are close in the file and a load in date
 * order appends them.  A longer event keeps its record in the database
 * of its class (store_rec_dbi): a range query meets the long events that
 * began before its range class by class in start order, and so reads
 * their records one after the other instead of seeking each among the
 * years of others, and a load in date order appends to each class.
 */
size_t
skey_rec_key(unsigned char *p, int64_t start, uint64_t id)
{
	skey_time(p, start);
	skey_be64(p + 8, id);
	return (SKEY_REC_LEN);
}

/* The start and id of the record key k of len bytes; -1 if it is none. */
int
skey_get_rec_key(const unsigned char *k, size_t len, int64_t *start,
    uint64_t *id)
{
	if (len != SKEY_REC_LEN)
		return (-1);
	*start = skey_get_time(k);
	*id = skey_get_be64(k + 8);
	return (0);
}

size_t
skey_actor_key(unsigned char *p, const char *name, size_t len, int class,
    int64_t start, uint64_t id)
{
	memcpy(p, name, len);
	p[len] = '\0';
	return (len + 1 + skey_time_key(p + len + 1, class, start, id));
}

size_t
skey_source_key(unsigned char *p, const char *source, const char *key)
{
	size_t	slen = strlen(source), klen = strlen(key);

	memcpy(p, source, slen);
	p[slen] = '\0';
	memcpy(p + slen + 1, key, klen);
	return (slen + 1 + klen);
}

/*
 * A span is stored relative to its start, which the key already holds:
 * a byte with the precision and which of the fuzzy and surely-covered
 * bounds differ from the strict ones (or that nothing is surely covered,
 * as for any single date), then the end and those bounds as varints of
 * their zigzagged distance.  A day-precision event takes 4
 * bytes instead of 49, and there are 3 to 4 entries per event.
 * Differences are taken modulo 2^64, so the open ends round-trip too.
 */
#define SPAN_FLO	0x08
#define SPAN_FHI	0x10
#define SPAN_ILO	0x20
#define SPAN_IHI	0x40
#define SPAN_NOIN	0x80	/* ilo, ihi: the empty span */
#define SPAN_PREC	0x07

static size_t
span_put(unsigned char *p, int64_t v, int64_t ref)
{
	return (store_varint_put(p, store_zigzag((uint64_t)v -
	    (uint64_t)ref)));
}

static int
span_get(const unsigned char **pp, const unsigned char *end, int64_t ref,
    int64_t *v)
{
	uint64_t	z;

	if (store_varint_get(pp, end, &z) != 0)
		return (-1);
	*v = (int64_t)((uint64_t)ref + store_unzigzag(z));
	return (0);
}

size_t
skey_span(unsigned char *p, const struct date_span *s)
{
	size_t	n = 1;

	p[0] = (unsigned char)(s->prec & SPAN_PREC);
	n += span_put(p + n, s->hi, s->lo);
	if (s->flo != s->lo) {
		p[0] |= SPAN_FLO;
		n += span_put(p + n, s->flo, s->lo);
	}
	if (s->fhi != s->hi) {
		p[0] |= SPAN_FHI;
		n += span_put(p + n, s->fhi, s->hi);
	}
	if (s->ilo == DATE_POS_INF && s->ihi == DATE_NEG_INF) {
		p[0] |= SPAN_NOIN;
		return (n);
	}
	if (s->ilo != s->lo) {
		p[0] |= SPAN_ILO;
		n += span_put(p + n, s->ilo, s->lo);
	}
	if (s->ihi != s->hi) {
		p[0] |= SPAN_IHI;
		n += span_put(p + n, s->ihi, s->hi);
	}
	return (n);
}

/* Decode a span stored for an event starting at lo; -1 if malformed. */
int
skey_get_span(const unsigned char *p, size_t len, int64_t lo,
    struct date_span *s)
{
	const unsigned char	*end = p + len;
	unsigned		 flags;

	if (len < 2)
		return (-1);
	flags = *p++;
	if ((flags & SPAN_NOIN) && (flags & (SPAN_ILO | SPAN_IHI)))
		return (-1);
	s->prec = (int)(flags & SPAN_PREC);
	s->lo = lo;
	if (span_get(&p, end, lo, &s->hi) != 0)
		return (-1);
	s->flo = s->lo;
	s->fhi = s->hi;
	s->ilo = s->lo;
	s->ihi = s->hi;
	if ((flags & SPAN_FLO) && span_get(&p, end, s->lo, &s->flo) != 0)
		return (-1);
	if ((flags & SPAN_FHI) && span_get(&p, end, s->hi, &s->fhi) != 0)
		return (-1);
	if (flags & SPAN_NOIN) {
		s->ilo = DATE_POS_INF;
		s->ihi = DATE_NEG_INF;
	}
	if ((flags & SPAN_ILO) && span_get(&p, end, s->lo, &s->ilo) != 0)
		return (-1);
	if ((flags & SPAN_IHI) && span_get(&p, end, s->hi, &s->ihi) != 0)
		return (-1);
	return (p == end ? 0 : -1);
}
