/*
 * libannals: the change feed.  annals_changes() reads a page on request;
 * a subscription has the daemon push the same pages as notifications,
 * which wait in a queue on the context (annals_recv() keeps those that
 * arrive before the response it waits for) until
 * annals_notification_next() takes them.  Both hand each change to a
 * callback with the record decoded into a view that lives for the call.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "annals-int.h"

/*
 * The queue of change notifications.  While a connection is
 * subscribed, the daemon may send a page of changes at any time, also
 * between a request and its response: annals_recv() queues what comes
 * before the response it waits for, and annals_note_wait() hands the
 * queue out in order.
 */

struct annals_note {
	struct annals_reply	 r;
	struct annals_note	*next;
};

void
annals_notes_clear(annals_ctx *ctx)
{
	struct annals_note	*n;

	while ((n = ctx->notes) != NULL) {
		ctx->notes = n->next;
		annals_reply_free(&n->r);
		free(n);
	}
	ctx->notes_tail = &ctx->notes;
}

static void
annals_set_subscribed(annals_ctx *ctx, int on)
{
	ctx->subscribed = on;
	if (!on)
		annals_notes_clear(ctx);
}

static int
annals_is_subscribed(const annals_ctx *ctx)
{
	return (ctx->subscribed);
}

/*
 * Keep r for later if it is a notification or, on a subscribed
 * connection, an error the daemon sent about the subscription (msgid 0).
 * Returns 1 when r was taken (and emptied), 0 when it is the caller's,
 * -1 when memory ran out (ctx is broken).
 */
int
annals_note_keep(annals_ctx *ctx, struct annals_reply *r, uint32_t msgid)
{
	struct annals_note	*n;

	if (r->msg.type == MSG_RESPONSE && (msgid == r->msg.msgid ||
	    r->msg.msgid != 0 || !ctx->subscribed))
		return (0);
	if (r->msg.type != MSG_NOTIFY && r->msg.type != MSG_RESPONSE)
		return (0);
	if (!ctx->subscribed || (r->msg.type == MSG_NOTIFY &&
	    (r->msg.method_len != 7 ||
	    memcmp(r->msg.method, "changes", 7) != 0))) {
		/* Not for us: a client ignores what it does not know. */
		annals_reply_free(r);
		return (1);
	}
	if ((n = calloc(1, sizeof *n)) == NULL) {
		annals_reply_free(r);
		annals_break(ctx, ANNALS_ENOMEM, "out of memory keeping a "
		    "notification");
		return (-1);
	}
	n->r = *r;
	/* The note owns the frame now. */
	memset(r, 0, sizeof *r);
	if (ctx->notes_tail == NULL)
		ctx->notes_tail = &ctx->notes;
	*ctx->notes_tail = n;
	ctx->notes_tail = &n->next;
	return (1);
}

/*
 * The next note, waiting up to timeout_ms for one (< 0: forever).
 * Returns 1 with r holding it, 0 when the time ran out, -1 on an error.
 * A time-out here does not break the context.
 */
static int
annals_note_wait(annals_ctx *ctx, int timeout_ms, struct annals_reply *r)
{
	struct annals_note	*n;
	struct annals_reply	 tmp;
	struct pollfd		 pfd;
	struct timespec		 t0, now;
	struct aerr		 err;
	uint32_t		 len;
	long			 left;
	int			 ready, rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(r, 0, sizeof *r);
	for (;;) {
		if ((n = ctx->notes) != NULL) {
			if ((ctx->notes = n->next) == NULL)
				ctx->notes_tail = &ctx->notes;
			*r = n->r;
			free(n);
			return (1);
		}
		if (ctx->broken)
			return (-1);
		aerr_clear(&err);
		ready = frame_peek(ctx->rbuf + ctx->roff, ctx->rlen - ctx->roff,
		    ANNALS_MAX_REPLY, &len, &err);
		if (ready == 1 && ctx->rlen - ctx->roff - PROTO_FRAME_HEADER >=
		    len) {
			/* A whole frame: annals_recv() takes it at once. */
			if (annals_recv(ctx, 0, &tmp) == -1)
				return (-1);
			if (tmp.live || tmp.buf != NULL) {
				annals_reply_free(&tmp);
				annals_break(ctx, ANNALS_EPROTOCOL, "response "
				    "to no request");
				return (-1);
			}
			continue;
		}
		left = -1;
		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = timeout_ms - ((now.tv_sec - t0.tv_sec) * 1000 +
			    (now.tv_nsec - t0.tv_nsec) / 1000000);
			if (left < 0)
				left = 0;
		}
		pfd.fd = ctx->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc == -1 && errno != EINTR) {
			annals_break(ctx, ANNALS_EIO, "poll: %s",
			    strerror(errno));
			return (-1);
		}
		if (rc == 0)
			return (0);
		if (rc > 0 && annals_read(ctx, ready == 1 ?
		    (size_t)PROTO_FRAME_HEADER + len : 0, 0) == -1)
			return (-1);
	}
}

/*
 * Call fn for each change of a page map, which is in reply r, and fill
 * feed; -1 breaks ctx.  The events of the page share one block.
 */
static int
changes_page(annals_ctx *ctx, const char *what,
    const struct annals_reply *r, const msgpack_object *page, uint32_t fields,
    int (*fn)(const struct annals_change *, void *), void *arg,
    struct annals_feed *feed)
{
	struct annals_feed	 f;
	struct annals_change	 ch;
	struct annals_owned	 o;
	struct aerr		 err;
	const msgpack_object	*list, *c, *v;
	uint32_t		 i;
	int			 stopped = 0;

	memset(&f, 0, sizeof f);
	memset(&o, 0, sizeof o);
	if (page == NULL || page->type != MSGPACK_OBJECT_MAP ||
	    (list = mp_get(page, "changes")) == NULL ||
	    list->type != MSGPACK_OBJECT_ARRAY) {
		annals_break(ctx, ANNALS_EPROTOCOL, "%s: changes: not an "
		    "array", what);
		return (-1);
	}
	aerr_clear(&err);
	if (mp_uint(mp_get(page, "next"), "next", &f.next, &err) != 0 ||
	    ((v = mp_get(page, "last_seq")) != NULL &&
	    mp_uint(v, "last_seq", &f.last_seq, &err) != 0) ||
	    ((v = mp_get(page, "more")) != NULL &&
	    mp_bool(v, "more", &f.more, &err) != 0)) {
		annals_break(ctx, ANNALS_EPROTOCOL, "%s: %s", what, err.msg);
		return (-1);
	}
	for (i = 0; i < list->via.array.size && !stopped; i++) {
		c = &list->via.array.ptr[i];
		memset(&ch, 0, sizeof ch);
		aerr_clear(&err);
		if (mp_uint(mp_get(c, "seq"), "seq", &ch.seq, &err) != 0 ||
		    mp_uint(mp_get(c, "id"), "id", &ch.id, &err) != 0) {
			annals_break(ctx, ANNALS_EPROTOCOL, "%s: changes[%u]: "
			    "%s", what, i, err.msg);
			goto fail;
		}
		/* Dictionary changes come only to those who ask. */
		if ((ch.op = change_op_parse(mp_get(c, "op"))) != CHANGE_PUT &&
		    ch.op != CHANGE_DELETE) {
			annals_break(ctx, ANNALS_EPROTOCOL, "%s: changes[%u]: "
			    "op is not put or delete", what, i);
			goto fail;
		}
		if (ch.op == ANNALS_CHANGE_PUT) {
			if ((v = mp_get(c, "event")) == NULL) {
				annals_break(ctx, ANNALS_EPROTOCOL, "%s: "
				    "changes[%u]: a put without its event",
				    what, i);
				goto fail;
			}
			if (annals_owned_set(&o, r, v, fields, &err) != 0) {
				if (err.code == AERR_NOMEM)
					annals_fail(ctx, ANNALS_ENOMEM, "%s",
					    err.msg);
				else
					annals_break(ctx, ANNALS_EPROTOCOL,
					    "%s: changes[%u]: event: %s", what,
					    i, err.msg);
				goto fail;
			}
			ch.event = &o.pub;
		}
		if (fn != NULL && fn(&ch, arg) != 0) {
			stopped = 1;
			f.next = ch.seq;
			f.more = 1;
		}
	}
	annals_owned_clear(&o);
	if (feed != NULL)
		*feed = f;
	return (0);

fail:
	annals_owned_clear(&o);
	return (-1);
}

int
annals_changes(annals_ctx *ctx, uint64_t since, uint32_t limit,
    int (*fn)(const struct annals_change *, void *), void *arg,
    struct annals_feed *feed)
{
	return (annals_changes_fields(ctx, since, limit, NULL, fn, arg,
	    feed));
}

int
annals_changes_fields(annals_ctx *ctx, uint64_t since, uint32_t limit,
    const char *fields, int (*fn)(const struct annals_change *, void *),
    void *arg, struct annals_feed *feed)
{
	struct annals_reply	 r;
	msgpack_packer		*pk;
	uint32_t		 msgid, set;
	int			 rc;

	if (annals_enter(ctx) == -1 || annals_fields(ctx, fields, &set) == -1)
		return (-1);
	if (limit == 0)
		limit = PROTO_DEFAULT_PAGE;
	if (limit > PROTO_MAX_PAGE) {
		annals_fail(ctx, ANNALS_EINVALID, "limit: %u is outside 1 to "
		    "%d",
		    limit, PROTO_MAX_PAGE);
		return (-1);
	}
	pk = annals_request(ctx, "changes", &msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 2 + (set != RECORD_FIELDS_ALL));
	mp_pack_kv_uint(pk, "since", since);
	mp_pack_kv_uint(pk, "limit", limit);
	if (set != RECORD_FIELDS_ALL) {
		mp_pack_str(pk, "fields");
		fields_pack(pk, set);
	}
	if (annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	rc = changes_page(ctx, "changes", &r, r.msg.result, set, fn, arg,
	    feed);
	annals_reply_free(&r);
	return (rc);
}

/*
 * Subscribe after since; with dict, to the actor dictionary's changes
 * too (only annals-nats asks: a replica must apply them, and pages of
 * them go undecoded, through annals_note_next()).
 */
int
annals_subscribe_feed(annals_ctx *ctx, uint64_t since, int dict)
{
	struct annals_reply	 r;
	msgpack_packer		*pk;
	uint32_t		 msgid;
	int			 was;

	if (annals_enter(ctx) == -1)
		return (-1);
	pk = annals_request(ctx, "subscribe", &msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, dict ? 2 : 1);
	mp_pack_kv_uint(pk, "since", since);
	if (dict) {
		mp_pack_str(pk, "dictionary");
		msgpack_pack_true(pk);
	}
	/* Pages may follow the answer closely: keep them from the start. */
	was = annals_is_subscribed(ctx);
	annals_set_subscribed(ctx, 1);
	if (annals_roundtrip(ctx, msgid, &r) == -1) {
		if (!was)
			annals_set_subscribed(ctx, 0);
		return (-1);
	}
	annals_reply_free(&r);
	return (0);
}

int
annals_subscribe(annals_ctx *ctx, uint64_t since, uint64_t *next)
{
	if (annals_subscribe_feed(ctx, since, 0) != 0)
		return (-1);
	if (next != NULL)
		*next = since;
	return (0);
}

/*
 * The next notification of a subscription, undecoded: 1 with r holding
 * it (r.msg.params is the page), 0 when none came within timeout_ms, -1
 * on an error.  For annals_notification_next() and for annals-nats,
 * which passes the changes on as the daemon encoded them.
 */
int
annals_note_next(annals_ctx *ctx, int timeout_ms, struct annals_reply *r)
{
	struct aerr	err;
	int		rc;

	if (annals_enter(ctx) == -1)
		return (-1);
	if (!annals_is_subscribed(ctx)) {
		annals_fail(ctx, ANNALS_EINVALID, "not subscribed: call "
		    "annals_subscribe first");
		return (-1);
	}
	if ((rc = annals_note_wait(ctx, timeout_ms, r)) != 1)
		return (rc);
	if (r->msg.type == MSG_RESPONSE) {
		/* The daemon gave up on the subscription and says why. */
		aerr_clear(&err);
		if (msg_error(r->msg.error, &err) == 0)
			aerr_set(&err, AERR_PROTOCOL, "a response to no "
			    "request");
		annals_reply_free(r);
		annals_set_subscribed(ctx, 0);
		annals_fail(ctx, err.code, "subscription: %s", err.msg);
		return (-1);
	}
	return (1);
}

int
annals_notification_next(annals_ctx *ctx, int timeout_ms,
    int (*fn)(const struct annals_change *, void *), void *arg,
    struct annals_feed *feed)
{
	struct annals_reply	 r;
	int			 rc;

	if ((rc = annals_note_next(ctx, timeout_ms, &r)) != 1)
		return (rc);
	rc = changes_page(ctx, "notification", &r, r.msg.params,
	    RECORD_FIELDS_ALL, fn, arg, feed);
	annals_reply_free(&r);
	return (rc == 0 ? 1 : -1);
}

int
annals_unsubscribe(annals_ctx *ctx)
{
	struct annals_reply	 r;
	msgpack_packer		*pk;
	uint32_t		 msgid;

	if (annals_enter(ctx) == -1)
		return (-1);
	pk = annals_request(ctx, "unsubscribe", &msgid);
	msgpack_pack_array(pk, 0);
	if (annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	annals_reply_free(&r);
	annals_set_subscribed(ctx, 0);
	return (0);
}
