/*
 * What annals.c and iter.c share inside libannals; not installed.  The
 * functions here are hidden by -fvisibility=hidden: only ANNALS_API ones
 * leave the library.
 */
#ifndef ANNALS_INT_H
#define ANNALS_INT_H

#include "annals.h"
#include "../proto/proto.h"

/*
 * A response taken apart; msg points into up, which points into buf.
 * buf has a spare byte past the frame, for annals_owned_set().
 */
struct annals_reply {
	unsigned char		*buf;
	size_t			 len;		/* of the frame body in buf */
	msgpack_unpacked	 up;
	struct msg		 msg;
	int			 live;
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

/* A query: the settings, as the daemon decodes them (iter.c, annals.c). */
struct annals_query {
	struct query	 q;
};

/* annals.c: change notifications, for changes.c */
void		 annals_notes_clear(annals_ctx *);
void		 annals_set_subscribed(annals_ctx *, int);
int		 annals_is_subscribed(const annals_ctx *);
int		 annals_note_keep(annals_ctx *, struct annals_reply *,
		     uint32_t);
int		 annals_note_wait(annals_ctx *, int, struct annals_reply *);
int		 annals_note_next(annals_ctx *, int, struct annals_reply *);

/* annals.c */
void		 annals_fail(annals_ctx *, int, const char *, ...)
		     __attribute__((format(printf, 3, 4)));
void		 annals_break(annals_ctx *, int, const char *, ...)
		     __attribute__((format(printf, 3, 4)));
int		 annals_enter(annals_ctx *);
msgpack_packer	*annals_request(annals_ctx *, const char *, uint32_t *);
int		 annals_send(annals_ctx *);
int		 annals_recv(annals_ctx *, uint32_t, struct annals_reply *);
int		 annals_roundtrip(annals_ctx *, uint32_t,
		     struct annals_reply *);
void		 annals_reply_free(struct annals_reply *);
int		 annals_owned_set(struct annals_owned *,
		     const struct annals_reply *, const msgpack_object *,
		     uint32_t, struct aerr *);
int		 annals_fields(annals_ctx *, const char *, uint32_t *);
void		 annals_owned_clear(struct annals_owned *);

#endif
