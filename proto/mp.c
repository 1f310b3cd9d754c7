/*
 * Typed access to decoded msgpack objects and small packing helpers.
 *
 * The readers take the object a caller found with mp_get() and a field
 * name for the message; a NULL object means the field was absent and is
 * reported as "<field>: required", so a caller that needs a field can
 * write mp_str(mp_get(map, "x"), "x", ...) and one with an optional field
 * checks mp_get() first.  Nothing returned points into the object: the
 * object is a view into a frame that goes away (STYLE P18).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define MP_QUOTE_MAX	64	/* bytes of a quoted key */

static void	mp_fail(struct aerr *, const char *, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* Set an error whose message is prefixed by the field, when there is one. */
static void
mp_fail(struct aerr *err, const char *field, int code, const char *fmt, ...)
{
	char	msg[sizeof err->msg];
	va_list	ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (field != NULL)
		aerr_set(err, code, "%s: %s", field, msg);
	else
		aerr_set(err, code, "%s", msg);
}

/* The value under key in a map; NULL if absent or if map is not a map. */
const msgpack_object *
mp_get(const msgpack_object *map, const char *key)
{
	const msgpack_object_kv	*kv;
	uint32_t		 i;

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return (NULL);
	for (i = 0; i < map->via.map.size; i++) {
		kv = &map->via.map.ptr[i];
		if (mp_key_is(&kv->key, key))
			return (&kv->val);
	}
	return (NULL);
}

/* Whether obj is the string key. */
int
mp_key_is(const msgpack_object *obj, const char *key)
{
	size_t	len;

	if (obj == NULL || obj->type != MSGPACK_OBJECT_STR)
		return (0);
	len = strlen(key);
	return (obj->via.str.size == len &&
	    memcmp(obj->via.str.ptr, key, len) == 0);
}

/*
 * Copy a string of at most maxlen bytes into *out, NUL-terminated and
 * owned by the caller.  The string must be valid UTF-8 without NUL bytes,
 * so that C string functions and JSON output see all of it.
 */
int
mp_str(const msgpack_object *obj, const char *field, size_t maxlen,
    char **out, struct aerr *err)
{
	const char	*p;
	size_t		 len;
	char		*s;

	*out = NULL;
	if (obj == NULL) {
		mp_fail(err, field, AERR_INVALID, "required");
		return (-1);
	}
	if (obj->type != MSGPACK_OBJECT_STR) {
		mp_fail(err, field, AERR_INVALID, "must be a string");
		return (-1);
	}
	p = obj->via.str.ptr;
	len = obj->via.str.size;
	if (len > maxlen) {
		mp_fail(err, field, AERR_INVALID, "%zu bytes exceeds limit %zu",
		    len, maxlen);
		return (-1);
	}
	if (len != 0 && memchr(p, '\0', len) != NULL) {
		mp_fail(err, field, AERR_INVALID, "contains a NUL byte");
		return (-1);
	}
	if (!utf8_valid(p, len)) {
		mp_fail(err, field, AERR_INVALID, "invalid UTF-8");
		return (-1);
	}
	if ((s = malloc(len + 1)) == NULL) {
		mp_fail(err, field, AERR_NOMEM, "out of memory");
		return (-1);
	}
	if (len != 0)
		memcpy(s, p, len);
	s[len] = '\0';
	*out = s;
	return (0);
}

/* Read an unsigned integer; the caller checks its range. */
int
mp_uint(const msgpack_object *obj, const char *field, uint64_t *out,
    struct aerr *err)
{
	if (obj == NULL) {
		mp_fail(err, field, AERR_INVALID, "required");
		return (-1);
	}
	if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		mp_fail(err, field, AERR_INVALID, "%" PRId64 " is negative",
		    obj->via.i64);
		return (-1);
	}
	if (obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		mp_fail(err, field, AERR_INVALID,
		    "must be an unsigned integer");
		return (-1);
	}
	*out = obj->via.u64;
	return (0);
}

/* Read a signed integer; msgpack-c files every value >= 0 as positive. */
int
mp_int(const msgpack_object *obj, const char *field, int64_t *out,
    struct aerr *err)
{
	if (obj == NULL) {
		mp_fail(err, field, AERR_INVALID, "required");
		return (-1);
	}
	if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = obj->via.i64;
		return (0);
	}
	if (obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		mp_fail(err, field, AERR_INVALID, "must be an integer");
		return (-1);
	}
	if (obj->via.u64 > INT64_MAX) {
		mp_fail(err, field, AERR_INVALID, "%" PRIu64 " is out of range",
		    obj->via.u64);
		return (-1);
	}
	*out = (int64_t)obj->via.u64;
	return (0);
}

int
mp_bool(const msgpack_object *obj, const char *field, int *out,
    struct aerr *err)
{
	if (obj == NULL) {
		mp_fail(err, field, AERR_INVALID, "required");
		return (-1);
	}
	if (obj->type != MSGPACK_OBJECT_BOOLEAN) {
		mp_fail(err, field, AERR_INVALID, "must be true or false");
		return (-1);
	}
	*out = obj->via.boolean ? 1 : 0;
	return (0);
}

/* Read a number: a float of either width or an integer. */
int
mp_double(const msgpack_object *obj, const char *field, double *out,
    struct aerr *err)
{
	if (obj == NULL) {
		mp_fail(err, field, AERR_INVALID, "required");
		return (-1);
	}
	switch (obj->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*out = obj->via.f64;
		return (0);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*out = (double)obj->via.u64;
		return (0);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = (double)obj->via.i64;
		return (0);
	default:
		mp_fail(err, field, AERR_INVALID, "must be a number");
		return (-1);
	}
}

void
mp_pack_str(msgpack_packer *pk, const char *s)
{
	size_t	len;

	len = strlen(s);
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

/* Pack a map entry: the key, then the value. */
void
mp_pack_kv_str(msgpack_packer *pk, const char *key, const char *value)
{
	mp_pack_str(pk, key);
	mp_pack_str(pk, value);
}

void
mp_pack_kv_uint(msgpack_packer *pk, const char *key, uint64_t value)
{
	mp_pack_str(pk, key);
	msgpack_pack_uint64(pk, value);
}

void
mp_pack_kv_int(msgpack_packer *pk, const char *key, int64_t value)
{
	mp_pack_str(pk, key);
	msgpack_pack_int64(pk, value);
}

/*
 * Whether s holds well-formed UTF-8 (RFC 3629): no overlong forms, no
 * surrogates, nothing above U+10FFFF, no stray continuation bytes.
 */
int
utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n, k;
	uint32_t		 cp, min;

	i = 0;
	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 1;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 3;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else
			return (0);	/* continuation, 0xc0/0xc1, 0xf5+ */
		if (len - i <= n)
			return (0);
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		i += n + 1;
	}
	return (1);
}

/*
 * Write a str object (a key the caller did not expect) into buf for a
 * message: at most MP_QUOTE_MAX bytes cut on a character boundary, then
 * "...", with control bytes and the bytes of invalid UTF-8 shown as '?',
 * so the message is always a clean string.
 */
void
mp_quote(const msgpack_object *obj, char *buf, size_t size)
{
	const char	*s;
	size_t		 len, n, i;
	int		 valid;

	if (size == 0)
		return;
	if (obj == NULL || obj->type != MSGPACK_OBJECT_STR) {
		snprintf(buf, size, "(not a string)");
		return;
	}
	s = obj->via.str.ptr;
	len = obj->via.str.size;
	n = len;
	if (n > MP_QUOTE_MAX) {
		n = MP_QUOTE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if (n + 4 > size)
		n = size < 4 ? 0 : size - 4;
	valid = utf8_valid(s, n);
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f ||
		    (!valid && (unsigned char)s[i] >= 0x80))
			buf[i] = '?';
		else
			buf[i] = s[i];
	}
	if (n < len && i + 4 <= size) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
}

/*
 * Cut a string that truncation may have left ending inside a UTF-8
 * sequence back to the last whole character, so that messages built with
 * snprintf stay valid UTF-8.
 */
void
utf8_trim(char *s)
{
	size_t		 len = strlen(s), start, need;
	unsigned char	 c;

	if (len == 0)
		return;
	/* Find where the last character starts: at most 3 bytes back. */
	start = len - 1;
	while (start > 0 && len - start < 4 &&
	    ((unsigned char)s[start] & 0xc0) == 0x80)
		start--;
	c = (unsigned char)s[start];
	if (c < 0x80)
		return;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (len - start < need)
		s[start] = '\0';
}
