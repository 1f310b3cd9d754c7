/* Test support: msgpack objects built from JSON (tests/mpobj.c). */
#ifndef ANNALS_MPOBJ_H
#define ANNALS_MPOBJ_H

#include <msgpack.h>

struct mpobj {
	msgpack_sbuffer		sbuf;
	msgpack_packer		pk;
	msgpack_unpacked	u;
};

msgpack_packer		*mpobj_begin(struct mpobj *);
const msgpack_object	*mpobj_end(struct mpobj *);
void			 mpobj_free(struct mpobj *);
const msgpack_object	*mpobj_json(struct mpobj *, const char *);

#endif
