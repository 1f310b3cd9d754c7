/*
 * What the files of libannals share (annals.c lists them); not
 * installed.  The functions here are hidden by -fvisibility=hidden:
 * only ANNALS_API ones leave the library.
 */
#ifndef ANNALS_INT_H
#define ANNALS_INT_H

#include "annals.h"
#include "../proto/proto.h"

/* The largest response we accept: a page may exceed a request's limit. */
#define ANNALS_MAX_REPLY	(256u << 20)
/* What one read asks for at least, and the read buffer's first size. */
#define ANNALS_READ_CHUNK	65536
/*
 * The largest buffer of a freed reply kept for the next read
 * (annals_reply_free): a page's, not a very large reply's, which would
 * otherwise stay beside the read buffer for the context's life.
 */
#define ANNALS_SPARE_MAX	(16 * ANNALS_READ_CHUNK)

struct annals_note;

/*
 * A connection and the state of its calls.  An error concerns the last
 * call only, unless broken: then the socket is closed and every call
 * fails (annals_break()).
 */
struct annals_ctx {
	int		 fd;		/* -1 once broken */
	int		 broken;
	int		 code;		/* ANNALS_E*, 0: none */
	char		 msg[256];
	int		 timeout;	/* ms; <= 0 waits forever */
	uint32_t	 msgid;		/* of the last request */

	/* The daemon's limits, from hello or the defaults. */
	uint32_t	 max_frame;
	uint32_t	 max_batch;
	uint32_t	 max_page;

	/* The request being packed; wfail says why packing stopped. */
	msgpack_packer	 pk;
	unsigned char	*wbuf;
	size_t		 wlen;
	size_t		 wsize;
	int		 wfail;

	/* Bytes received; those before roff are consumed. */
	unsigned char	*rbuf;
	size_t		 roff;
	size_t		 rlen;
	size_t		 rsize;

	/* Put batches sent and not yet collected, oldest at phead. */
	struct {
		uint32_t	 msgid;
		size_t		 n;
	}		 pending[ANNALS_MAX_PENDING];
	size_t		 phead;
	size_t		 npending;

	/* Change notifications read while waiting for a response. */
	int			 subscribed;
	struct annals_note	*notes;		/* oldest first */
	struct annals_note	**notes_tail;

	/*
	 * The zone of the last reply, cleared, for the next (wire.c):
	 * zone_chunk grows until a page of replies fits in one chunk.
	 */
	msgpack_zone		*zone;
	size_t			 zone_chunk;

	/* The buffer of a freed reply, to read into next (wire.c). */
	unsigned char		*spare;
	size_t			 spare_size;
};

/*
 * A response taken apart; msg points into up, which points into buf.
 * buf has a spare byte past the frame, for annals_owned_set().  buf
 * lies in mem, which was malloc'd: a copy of the frame, or the read
 * buffer itself when the frame was all it held (wire.c).
 */
struct annals_reply {
	unsigned char		*buf;
	size_t			 len;		/* of the frame body in buf */
	unsigned char		*mem;
	size_t			 mem_size;
	msgpack_unpacked	 up;
	struct msg		 msg;
	int			 live;
	annals_ctx		*ctx;		/* takes up's zone back */
	const void		*zone_head;	/* its chunk before the unpack */
};

/*
 * An event returned to the caller: the public view first, so that a
 * pointer to it is a pointer to the whole, then the block of its lists
 * of pointers (actors, urls, tags), which annals_owned_set() reuses when
 * it is large enough.  Strings and attrs are views into the reply's
 * frame, which frame holds when the event outlives the reply (one of
 * annals_get()), and NULL when the reply is kept elsewhere (an
 * iterator's page, a page of changes).
 */
struct annals_owned {
	struct annals_event	 pub;
	unsigned char		*mem;
	size_t			 size;
	unsigned char		*frame;
};

/* A query: the settings, as the daemon decodes them (iter.c, agg.c). */
struct annals_query {
	struct query	 q;
};

/* annals.c */
void		 annals_fail(annals_ctx *, int, const char *, ...)
		     __attribute__((format(printf, 3, 4)));
void		 annals_break(annals_ctx *, int, const char *, ...)
		     __attribute__((format(printf, 3, 4)));
int		 annals_enter(annals_ctx *);

/* net.c */
void		 annals_connect_unix(annals_ctx *, const char *);
void		 annals_connect_tcp(annals_ctx *, const char *);
int		 annals_read(annals_ctx *, size_t, int);
int		 annals_fill(annals_ctx *, size_t);
int		 annals_write_all(annals_ctx *, const unsigned char *, size_t);

/* wire.c */
int		 annals_write_cb(void *, const char *, size_t);
msgpack_packer	*annals_request(annals_ctx *, const char *, uint32_t *);
int		 annals_send(annals_ctx *);
int		 annals_recv(annals_ctx *, uint32_t, struct annals_reply *);
int		 annals_roundtrip(annals_ctx *, uint32_t,
		     struct annals_reply *);
void		 annals_reply_free(struct annals_reply *);
const msgpack_object *annals_result_map(annals_ctx *, struct annals_reply *,
		     const char *);
int		 annals_result_uint(annals_ctx *, const msgpack_object *,
		     const char *, uint64_t *);

/* event.c */
int		 annals_owned_set(struct annals_owned *,
		     const struct annals_reply *, const msgpack_object *,
		     uint32_t, struct aerr *);
void		 annals_owned_clear(struct annals_owned *);
int		 annals_fields(annals_ctx *, const char *, uint32_t *);

/* changes.c: the queue of change notifications */
void		 annals_notes_clear(annals_ctx *);
int		 annals_note_keep(annals_ctx *, struct annals_reply *,
		     uint32_t);
int		 annals_note_next(annals_ctx *, int, struct annals_reply *);
int		 annals_subscribe_feed(annals_ctx *, uint64_t, int);

#endif
