/*
 * JSON text and msgpack for the HTTP API and annals(1).
 *
 * Strings are written as UTF-8 with the controls escaped; bytes that are
 * not UTF-8 become U+FFFD, so the text is always valid JSON.  Reals are
 * written with the fewest digits that read back as the same double and
 * always with a point or an exponent, so that a float stays a float on
 * the way back in; integers stay integers.
 *
 * jansson's integers are json_int_t, int64, and it refuses a larger one
 * in text ("too big integer"); attrs hold uint64, and an export turned
 * 18446744073709551615 into the float 1.8446744073709552e+19 (issue
 * #15).  Such a value lives in a json_t as a string that only this file
 * makes: a NUL, "u64:" and the digits.  No string can carry a NUL into a
 * record (json_to_mp() refuses it), so it is never text: json_to_mp()
 * packs a uint64 again and writers print the digits bare.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define JSON_U64_TAG		"\0u64:"
#define JSON_U64_TAGLEN		5

void
json_out_str(const struct json_out *out, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, run, n;
	char			 esc[7];

	out->write(out->arg, "\"", 1);
	for (i = 0; i < len; i = run) {
		/* Copy the longest run that needs no escaping at once. */
		for (run = i; run < len && p[run] >= 0x20 && p[run] < 0x7f &&
		    p[run] != '"' && p[run] != '\\'; run++)
			;
		if (run > i) {
			out->write(out->arg, p + i, run - i);
			continue;
		}
		if (p[i] >= 0x80) {
			n = (p[i] & 0xe0) == 0xc0 ? 2 : (p[i] & 0xf0) == 0xe0 ?
			    3 : (p[i] & 0xf8) == 0xf0 ? 4 : 0;
			if (n != 0 && i + n <= len &&
			    utf8_valid((const char *)p + i, n))
				out->write(out->arg, p + i, n);
			else {
				out->write(out->arg, "\xef\xbf\xbd", 3);
				n = 1;
			}
			run = i + n;
			continue;
		}
		switch (p[i]) {
		case '"':
			out->write(out->arg, "\\\"", 2);
			break;
		case '\\':
			out->write(out->arg, "\\\\", 2);
			break;
		case '\n':
			out->write(out->arg, "\\n", 2);
			break;
		case '\r':
			out->write(out->arg, "\\r", 2);
			break;
		case '\t':
			out->write(out->arg, "\\t", 2);
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 0xf];
			out->write(out->arg, esc, 6);
		}
		run = i + 1;
	}
	out->write(out->arg, "\"", 1);
}

/* Infinities and NaN have no JSON form: null. */
void
json_out_real(const struct json_out *out, double d)
{
	char	buf[64], fixed[64], *e;
	double	a = d < 0 ? -d : d;
	int	prec, exp, decimals;

	if (!isfinite(d)) {
		out->write(out->arg, "null", 4);
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/*
	 * %g takes an exponent as soon as its digits stop short of the
	 * point (10 is "1e+01"); people read and edit 10.0, so between
	 * 1e-4 and 1e16 write the same digits without one.
	 */
	if (a >= 1e-4 && a < 1e16) {
		snprintf(fixed, sizeof fixed, "%.*e", prec - 1, d);
		if ((e = strchr(fixed, 'e')) != NULL) {
			exp = atoi(e + 1);
			decimals = prec - 1 - exp > 0 ? prec - 1 - exp : 1;
			snprintf(fixed, sizeof fixed, "%.*f", decimals, d);
			if (strtod(fixed, NULL) == d)
				memcpy(buf, fixed, sizeof buf);
		}
	}
	if (strpbrk(buf, ".e") == NULL)
		strncat(buf, ".0", sizeof buf - strlen(buf) - 1);
	out->write(out->arg, buf, strlen(buf));
}

json_t *
json_u64(uint64_t v)
{
	char	buf[JSON_U64_TAGLEN + 24];
	int	n;

	if (v <= INT64_MAX)
		return (json_integer((json_int_t)v));
	memcpy(buf, JSON_U64_TAG, JSON_U64_TAGLEN);
	n = snprintf(buf + JSON_U64_TAGLEN, sizeof buf - JSON_U64_TAGLEN,
	    "%" PRIu64, v);
	return (json_stringn(buf, JSON_U64_TAGLEN + (size_t)n));
}

/* Whether v is one of json_u64()'s strings; its value in *u. */
int
json_u64_value(json_t *v, uint64_t *u)
{
	const char	*s;

	if (!json_is_string(v) || json_string_length(v) <= JSON_U64_TAGLEN)
		return (0);
	s = json_string_value(v);
	if (memcmp(s, JSON_U64_TAG, JSON_U64_TAGLEN) != 0)
		return (0);
	*u = strtoull(s + JSON_U64_TAGLEN, NULL, 10);
	return (1);
}

/*
 * json_loadb() that also reads integers from INT64_MAX + 1 to
 * UINT64_MAX: they are rewritten into json_u64()'s strings first,
 * "\u0000u64:DIGITS", which JSON_ALLOW_NUL lets jansson read.  Text
 * with a \u0000 of its own is left as it is, for jansson to refuse
 * (JSON_ALLOW_NUL in flags is ignored).  Positions in error are those
 * of the rewritten text.
 */
json_t *
json_load_u64(const char *buf, size_t len, size_t flags, json_error_t *error)
{
	const char		*p, *end = buf + len, *tok, *from = buf;
	char			*copy = NULL, *o = NULL, *e, num[24];
	unsigned long long	 v;
	size_t			 ndig;
	json_t			*j;
	int			 instr = 0, real;

	for (p = buf; p < end; p++) {
		if (instr) {
			if (*p == '"')
				instr = 0;
			else if (*p == '\\') {
				if (end - p >= 6 &&
				    memcmp(p, "\\u0000", 6) == 0)
					goto plain;
				p++;
			}
			continue;
		}
		if (*p == '"')
			instr = 1;
		if (*p < '0' || *p > '9')
			continue;
		/* A number: its digits, then any fraction or exponent. */
		for (tok = p; p < end && *p >= '0' && *p <= '9'; p++)
			continue;
		ndig = (size_t)(p - tok);
		for (real = 0; p < end && (*p == '.' || *p == 'e' ||
		    *p == 'E' || *p == '+' || *p == '-' ||
		    (*p >= '0' && *p <= '9')); p++)
			real = 1;
		if (real || (tok > buf && tok[-1] == '-') || *tok == '0' ||
		    ndig < 19 || ndig > 20) {
			p--;
			continue;
		}
		memcpy(num, tok, ndig);
		num[ndig] = '\0';
		errno = 0;
		v = strtoull(num, &e, 10);
		if (errno != 0 || v <= INT64_MAX) {
			p--;
			continue;
		}
		/* 19 or 20 digits become 12 bytes more: 2 * len will do. */
		if (copy == NULL && (copy = o = malloc(2 * len + 1)) == NULL)
			goto plain;
		memcpy(o, from, (size_t)(tok - from));
		o += tok - from;
		o += sprintf(o, "\"\\u0000u64:%llu\"", v);
		from = p--;
	}
	if (copy == NULL)
		goto plain;
	memcpy(o, from, (size_t)(end - from));
	o += end - from;
	j = json_loadb(copy, (size_t)(o - copy), flags | JSON_ALLOW_NUL, error);
	free(copy);
	return (j);
plain:
	free(copy);
	/* A NUL of the text's own could pass for json_u64()'s tag. */
	return (json_loadb(buf, len, flags & ~JSON_ALLOW_NUL, error));
}

/*
 * Pack v as msgpack.  depth is the level v's container will have in the
 * frame (PROTO_RECORD_DEPTH for a record), so that what frame_check()
 * would refuse as nested too deep is refused here, naming the record.
 */
int
json_to_mp(msgpack_packer *pk, json_t *v, int depth, struct aerr *err)
{
	const char	*key;
	json_t		*item;
	uint64_t	 u;
	size_t		 i, len;

	if ((json_is_array(v) || json_is_object(v)) &&
	    depth > PROTO_MAX_DEPTH) {
		aerr_set(err, AERR_INVALID, "nesting deeper than %d",
		    PROTO_MAX_DEPTH);
		return (-1);
	}
	switch (json_typeof(v)) {
	case JSON_NULL:
		return (msgpack_pack_nil(pk));
	case JSON_TRUE:
		return (msgpack_pack_true(pk));
	case JSON_FALSE:
		return (msgpack_pack_false(pk));
	case JSON_INTEGER:
		return (msgpack_pack_int64(pk, json_integer_value(v)));
	case JSON_REAL:
		return (msgpack_pack_double(pk, json_real_value(v)));
	case JSON_STRING:
		if (json_u64_value(v, &u))
			return (msgpack_pack_uint64(pk, u));
		len = json_string_length(v);
		if (memchr(json_string_value(v), '\0', len) != NULL) {
			aerr_set(err, AERR_INVALID, "string contains a NUL "
			    "byte");
			return (-1);
		}
		msgpack_pack_str(pk, len);
		return (msgpack_pack_str_body(pk, json_string_value(v), len));
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(v));
		json_array_foreach(v, i, item) {
			if (json_to_mp(pk, item, depth + 1, err) != 0)
				return (-1);
		}
		return (0);
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(v));
		json_object_foreach(v, key, item) {
			len = strlen(key);
			msgpack_pack_str(pk, len);
			msgpack_pack_str_body(pk, key, len);
			if (json_to_mp(pk, item, depth + 1, err) != 0)
				return (-1);
		}
		return (0);
	}
	aerr_set(err, AERR_INVALID, "a value of unknown type");
	return (-1);
}
