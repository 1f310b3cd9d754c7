/*
 * JSON text and msgpack, one set of rules for the HTTP API and annals(1):
 * how strings and reals are written, and how a JSON value becomes msgpack
 * (integers up to UINT64_MAX, nesting, NUL bytes).  Built on jansson, so
 * it goes into annalsd and annals but not into libannals.
 */
#ifndef ANNALS_JSON_H
#define ANNALS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>

#include "proto.h"

/* Where JSON text goes: a FILE, an evbuffer. */
struct json_out {
	void	(*write)(void *, const void *, size_t);
	void	 *arg;
};

/* json.c */
void	 json_out_str(const struct json_out *, const char *, size_t);
void	 json_out_real(const struct json_out *, double);
json_t	*json_u64(uint64_t);
int	 json_u64_value(json_t *, uint64_t *);
json_t	*json_load_u64(const char *, size_t, size_t, json_error_t *);
int	 json_to_mp(msgpack_packer *, json_t *, int, struct aerr *);

/* timelinejs.c */
int	 timelinejs_slide(const struct json_out *, uint64_t, const char *,
	     const char *, const struct date_span *, const char *,
	     const char *, const char *);

#endif
