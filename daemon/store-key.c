/*
 * Key and value encodings of the store's indexes.  Every number is
 * big-endian so that LMDB's memcmp order is numeric order; signed times
 * have their sign bit flipped so that negative years sort first.
 *
 * time index:	class(1) start(8) id(8)			-> span(49)
 * actor index:	name NUL class(1) start(8) id(8)	-> span(49)
 * source index: source NUL key				-> id(8)
 *
 * The class of an event is how far it reaches from its start, rounded
 * up to a power of two seconds; a query scans each class from its start
 * minus the class's reach, so long events never make short queries walk
 * everything that began before them.
 */
#include <string.h>

#include "annalsd.h"

void
skey_be64(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

uint64_t
skey_get_be64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (v);
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
	int		class = 0;

	if (s->lo == DATE_NEG_INF || s->flo == DATE_NEG_INF ||
	    s->fhi == DATE_POS_INF)
		return (SKEY_CLASS_INF);
	reach = (uint64_t)s->fhi - (uint64_t)s->lo;
	before = (uint64_t)s->lo - (uint64_t)s->flo;
	if (before > reach)
		reach = before;
	while (reach != 0) {
		class++;
		reach >>= 1;
	}
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

size_t
skey_time_key(unsigned char *p, int class, int64_t start, uint64_t id)
{
	p[0] = (unsigned char)class;
	skey_time(p + 1, start);
	skey_be64(p + 9, id);
	return (SKEY_TIME_LEN);
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

void
skey_span(unsigned char *p, const struct date_span *s)
{
	skey_time(p, s->lo);
	skey_time(p + 8, s->hi);
	skey_time(p + 16, s->flo);
	skey_time(p + 24, s->fhi);
	skey_time(p + 32, s->ilo);
	skey_time(p + 40, s->ihi);
	p[48] = (unsigned char)s->prec;
}

void
skey_get_span(const unsigned char *p, struct date_span *s)
{
	s->lo = skey_get_time(p);
	s->hi = skey_get_time(p + 8);
	s->flo = skey_get_time(p + 16);
	s->fhi = skey_get_time(p + 24);
	s->ilo = skey_get_time(p + 32);
	s->ihi = skey_get_time(p + 40);
	s->prec = p[48];
}
