/*
 * libannals: requests and responses as frames.  A request is packed
 * into ctx->wbuf behind five bytes left for the frame prefix, which is
 * filled in once the length is known, then sent whole (net.c).
 * Responses are read into ctx->rbuf; each complete frame becomes a reply
 * of its own (a copy, or rbuf itself when it holds just that frame),
 * checked by frame_check() and only then given to msgpack-c (STYLE
 * P16).  Notifications that arrive before the response awaited go to
 * the queue in changes.c.  Also here: reading the common shapes of a
 * result.
 */
#include <stdlib.h>
#include <string.h>

#include "annals-int.h"

/*
 * The packer's output: append to wbuf, stopping at the daemon's frame
 * limit so that an oversized batch costs no more memory than a good one.
 */
int
annals_write_cb(void *data, const char *p, size_t len)
{
	annals_ctx	*ctx = data;
	unsigned char	*nbuf;
	size_t		 limit, nsize;

	if (ctx->wfail != 0)
		return (-1);
	limit = PROTO_FRAME_HEADER + (size_t)ctx->max_frame;
	if (len > limit - ctx->wlen) {
		ctx->wfail = ANNALS_ELIMIT;
		return (-1);
	}
	if (len > ctx->wsize - ctx->wlen) {
		nsize = ctx->wsize == 0 ? 4096 : ctx->wsize;
		while (nsize - ctx->wlen < len)
			nsize *= 2;
		if ((nbuf = realloc(ctx->wbuf, nsize)) == NULL) {
			ctx->wfail = ANNALS_ENOMEM;
			return (-1);
		}
		ctx->wbuf = nbuf;
		ctx->wsize = nsize;
	}
	memcpy(ctx->wbuf + ctx->wlen, p, len);
	ctx->wlen += len;
	return (0);
}

/*
 * Start a request: pack [0, msgid, method, and return the packer for the
 * caller to pack the params array; annals_send() sends it.
 */
msgpack_packer *
annals_request(annals_ctx *ctx, const char *method, uint32_t *msgid)
{
	unsigned char	hdr[PROTO_FRAME_HEADER];

	ctx->wlen = 0;
	ctx->wfail = 0;
	memset(hdr, 0, sizeof hdr);
	annals_write_cb(ctx, (const char *)hdr, sizeof hdr);
	/* msgid 0 is the daemon's, for errors about the connection. */
	if (++ctx->msgid == 0)
		ctx->msgid = 1;
	*msgid = ctx->msgid;
	msg_pack_request(&ctx->pk, *msgid, method);
	return (&ctx->pk);
}

/* Fill in the frame prefix and send the packed request. */
int
annals_send(annals_ctx *ctx)
{
	if (ctx->wfail == ANNALS_ELIMIT) {
		annals_fail(ctx, ANNALS_ELIMIT, "request exceeds the frame "
		    "limit of %u bytes", ctx->max_frame);
		return (-1);
	}
	if (ctx->wfail != 0) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory packing a "
		    "request");
		return (-1);
	}
	frame_header(ctx->wbuf, (uint32_t)(ctx->wlen - PROTO_FRAME_HEADER));
	return (annals_write_all(ctx, ctx->wbuf, ctx->wlen));
}

/*
 * A reply's objects come from a zone the context keeps between replies:
 * a page of GDELT rows unpacks into some 300 KB of objects, and a fresh
 * zone for each took them in 8 KB chunks from malloc, which gave the
 * heap back to the kernel when the reply was freed and faulted it in
 * again for the next, nearly half the client's time in a range query.
 * A zone that had to grow is freed and the next one made with twice its
 * chunk, up to ZONE_CHUNK_MAX; one that did not is cleared and kept.
 */
#define ZONE_CHUNK_MAX	(4u << 20)

static msgpack_zone *
reply_zone(annals_ctx *ctx)
{
	msgpack_zone	*z;

	if ((z = ctx->zone) != NULL) {
		ctx->zone = NULL;
		return (z);
	}
	if (ctx->zone_chunk == 0)
		ctx->zone_chunk = MSGPACK_ZONE_CHUNK_SIZE;
	return (msgpack_zone_new(ctx->zone_chunk));
}

void
annals_reply_free(struct annals_reply *r)
{
	annals_ctx	*ctx = r->ctx;
	msgpack_zone	*z;
	int		 grew;

	if (r->live && (z = msgpack_unpacked_release_zone(&r->up)) != NULL) {
		grew = (const void *)z->chunk_list.head != r->zone_head;
		if (grew && ctx != NULL && ctx->zone_chunk < ZONE_CHUNK_MAX)
			ctx->zone_chunk *= 2;
		if (grew || ctx == NULL || ctx->zone != NULL)
			msgpack_zone_free(z);
		else {
			msgpack_zone_clear(z);
			ctx->zone = z;
		}
	}
	/* Read the next reply into this one's buffer. */
	if (r->mem != NULL && ctx != NULL && ctx->spare == NULL &&
	    r->mem_size >= ANNALS_READ_CHUNK &&
	    r->mem_size <= ANNALS_SPARE_MAX) {
		ctx->spare = r->mem;
		ctx->spare_size = r->mem_size;
	} else
		free(r->mem);
	memset(r, 0, sizeof *r);
}

/* Take the next whole frame out of rbuf into r->buf, reading as needed. */
static int
annals_next_frame(annals_ctx *ctx, struct annals_reply *r, size_t *len)
{
	struct aerr	 err;
	uint32_t	 n;
	size_t		 avail, want, body;
	int		 ready;

	for (;;) {
		avail = ctx->rlen - ctx->roff;
		aerr_clear(&err);
		ready = frame_peek(ctx->rbuf + ctx->roff, avail,
		    ANNALS_MAX_REPLY, &n, &err);
		/*
		 * An HTTP server's answer (annalsd --http listens on a port
		 * of its own): say so, rather than "frame must start with".
		 */
		if (ready == -1 && avail < 4 && memcmp(ctx->rbuf + ctx->roff,
		    "HTTP", avail) == 0)
			ready = 0;
		else if (ready == -1 && avail >= 4 &&
		    memcmp(ctx->rbuf + ctx->roff, "HTTP", 4) == 0) {
			annals_break(ctx, ANNALS_EPROTOCOL, "the server answered "
			    "in HTTP: is that annalsd's --http port rather "
			    "than its protocol port?");
			return (-1);
		}
		if (ready == -1) {
			annals_break(ctx, ANNALS_EPROTOCOL, "response: %s",
			    err.msg);
			return (-1);
		}
		if (ready == 1 && avail - PROTO_FRAME_HEADER >= n)
			break;
		want = ready == 1 ? (size_t)PROTO_FRAME_HEADER + n : 0;
		if (annals_fill(ctx, want) == -1)
			return (-1);
	}
	r->ctx = ctx;
	*len = n;
	body = ctx->roff + PROTO_FRAME_HEADER;
	/*
	 * A frame that is all rbuf holds, as a page usually is, is not
	 * copied: the reply takes rbuf, and the next read goes into the
	 * buffer of a reply freed before (ctx->spare), or a new one.  A
	 * small frame is copied all the same, so that an event that keeps
	 * its frame (annals_get()) does not keep a whole read buffer.
	 */
	if (ctx->rlen == body + n && ctx->rsize > ctx->rlen &&
	    n >= ANNALS_READ_CHUNK / 4) {
		r->mem = ctx->rbuf;
		r->mem_size = ctx->rsize;
		r->buf = ctx->rbuf + body;
		ctx->rbuf = ctx->spare;
		ctx->rsize = ctx->spare_size;
		ctx->spare = NULL;
		ctx->spare_size = 0;
		ctx->roff = ctx->rlen = 0;
		return (0);
	}
	/* One spare byte: the NUL of a string that ends the frame. */
	if ((r->mem = malloc((size_t)n + 1)) == NULL) {
		annals_break(ctx, ANNALS_ENOMEM, "out of memory for a response "
		    "of %u bytes", n);
		return (-1);
	}
	r->mem_size = (size_t)n + 1;
	r->buf = r->mem;
	memcpy(r->buf, ctx->rbuf + body, n);
	ctx->roff += PROTO_FRAME_HEADER + n;
	return (0);
}

/*
 * Wait for the response to request msgid.  A daemon error fails the call
 * and frees r; on success r holds the response until annals_reply_free().
 */
int
annals_recv(annals_ctx *ctx, uint32_t msgid, struct annals_reply *r)
{
	struct aerr		 err;
	msgpack_unpack_return	 ur;
	size_t			 len, off;
	int			 kept;

	memset(r, 0, sizeof *r);
	for (;;) {
		if (annals_next_frame(ctx, r, &len) == -1)
			return (-1);
		r->len = len;
		aerr_clear(&err);
		if (frame_check(r->buf, len, &err) == -1)
			goto bad;
		msgpack_unpacked_init(&r->up);
		if ((r->up.zone = reply_zone(ctx)) == NULL) {
			annals_reply_free(r);
			annals_break(ctx, ANNALS_ENOMEM, "out of memory "
			    "unpacking a response of %zu bytes", len);
			return (-1);
		}
		r->live = 1;
		r->ctx = ctx;
		r->zone_head = r->up.zone->chunk_list.head;
		off = 0;
		ur = msgpack_unpack((const char *)r->buf, len, &off,
		    r->up.zone, &r->up.data);
		if (ur == MSGPACK_UNPACK_NOMEM_ERROR) {
			annals_reply_free(r);
			annals_break(ctx, ANNALS_ENOMEM, "out of memory "
			    "unpacking a response of %zu bytes", len);
			return (-1);
		}
		if (ur != MSGPACK_UNPACK_SUCCESS) {
			aerr_set(&err, AERR_PROTOCOL, "not msgpack");
			goto bad;
		}
		if (msg_parse(&r->up.data, &r->msg, &err) == -1)
			goto bad;
		/* Notifications wait for annals_notification_next(). */
		if ((kept = annals_note_keep(ctx, r, msgid)) == -1)
			return (-1);
		if (kept && msgid == 0)
			return (0);
		if (kept)
			continue;
		break;
	}
	if (r->msg.type != MSG_RESPONSE) {
		aerr_set(&err, AERR_PROTOCOL, "a request from annalsd");
		goto bad;
	}
	if (r->msg.msgid == 0 && msgid != 0 &&
	    msg_error(r->msg.error, &err) == -1 && err.code != AERR_PROTOCOL) {
		/*
		 * No request of ours has msgid 0: the daemon speaks of the
		 * connection (a frame over its limit) and hangs up after it.
		 */
		annals_reply_free(r);
		annals_break(ctx, err.code, "%s", err.msg);
		return (-1);
	}
	if (r->msg.msgid != msgid) {
		aerr_set(&err, AERR_PROTOCOL, "answers request %u, expected %u",
		    r->msg.msgid, msgid);
		goto bad;
	}
	aerr_clear(&err);
	if (msg_error(r->msg.error, &err) == -1) {
		annals_reply_free(r);
		if (err.code == AERR_PROTOCOL)
			annals_break(ctx, ANNALS_EPROTOCOL, "response: %s",
			    err.msg);
		else
			annals_fail(ctx, err.code, "%s", err.msg);
		return (-1);
	}
	return (0);

bad:
	annals_reply_free(r);
	annals_break(ctx, ANNALS_EPROTOCOL, "response: %s", err.msg);
	return (-1);
}

/* Send the packed request msgid and wait for its response. */
int
annals_roundtrip(annals_ctx *ctx, uint32_t msgid, struct annals_reply *r)
{
	memset(r, 0, sizeof *r);
	if (annals_send(ctx) == -1)
		return (-1);
	return (annals_recv(ctx, msgid, r));
}

/* The result map of a reply; a result of another shape breaks ctx. */
const msgpack_object *
annals_result_map(annals_ctx *ctx, struct annals_reply *r,
    const char *method)
{
	if (r->msg.result->type != MSGPACK_OBJECT_MAP) {
		annals_reply_free(r);
		annals_break(ctx, ANNALS_EPROTOCOL, "%s: result is not a map",
		    method);
		return (NULL);
	}
	return (r->msg.result);
}

/* An unsigned integer of a result map; absent is 0. */
int
annals_result_uint(annals_ctx *ctx, const msgpack_object *map,
    const char *key, uint64_t *out)
{
	const msgpack_object	*o;

	*out = 0;
	if ((o = mp_get(map, key)) == NULL || o->type == MSGPACK_OBJECT_NIL)
		return (0);
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		annals_break(ctx, ANNALS_EPROTOCOL, "result: %s: not an "
		    "unsigned integer", key);
		return (-1);
	}
	*out = o->via.u64;
	return (0);
}
