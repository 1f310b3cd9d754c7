/*
 * libannals: put.  A batch of events is packed straight from the
 * caller's structs (nothing is copied) and sent as one request; its
 * results come back in order.  annals_put_append() sends without
 * waiting and annals_put_wait() collects, oldest first, so that a
 * loader keeps the daemon busy (pipelining, as hiredis'
 * redisAppendCommand and redisGetReply).
 */
#include <stdlib.h>
#include <string.h>

#include "annals-int.h"

/*
 * Point a struct event at the strings of a caller's annals_event, for
 * record_pack() only; nothing is copied and nothing may be freed.
 * actors has room for EVENT_MAX_ACTORS.
 */
static int
annals_borrow(annals_ctx *ctx, size_t i, const struct annals_event *in,
    struct event *ev, struct actor *actors)
{
	struct aerr	 err;
	const unsigned char *a;
	size_t		 j;

	memset(ev, 0, sizeof *ev);
	if (in->nactors > EVENT_MAX_ACTORS ||
	    (in->nactors != 0 && in->actors == NULL)) {
		annals_fail(ctx, ANNALS_EINVALID, "records[%zu]: actors: %zu "
		    "actors exceed limit %d", i, in->nactors,
		    EVENT_MAX_ACTORS);
		return (-1);
	}
	for (j = 0; j < in->nactors; j++) {
		if (in->actors[j].name == NULL) {
			annals_fail(ctx, ANNALS_EINVALID, "records[%zu]: "
			    "actors[%zu]: name: required", i, j);
			return (-1);
		}
		/* The casts only satisfy struct event: it is read, not kept. */
		actors[j].name = (char *)in->actors[j].name;
		actors[j].role = (char *)in->actors[j].role;
	}
	if (in->nurls > EVENT_MAX_LIST || in->ntags > EVENT_MAX_LIST) {
		annals_fail(ctx, ANNALS_EINVALID, "records[%zu]: %s: %zu "
		    "entries exceed limit %d", i,
		    in->nurls > EVENT_MAX_LIST ? "urls" : "tags",
		    in->nurls > EVENT_MAX_LIST ? in->nurls : in->ntags,
		    EVENT_MAX_LIST);
		return (-1);
	}
	for (j = 0; j < in->nurls + in->ntags; j++) {
		if ((j < in->nurls ? in->urls == NULL || in->urls[j] == NULL :
		    in->tags == NULL || in->tags[j - in->nurls] == NULL)) {
			annals_fail(ctx, ANNALS_EINVALID, "records[%zu]: %s: "
			    "NULL entry", i, j < in->nurls ? "urls" : "tags");
			return (-1);
		}
	}
	if (in->attrs != NULL && in->attrs_len != 0) {
		/* A bad map would corrupt the request, not just this record. */
		a = in->attrs;
		aerr_clear(&err);
		if (frame_check(a, in->attrs_len, &err) == -1 ||
		    !((*a >= 0x80 && *a <= 0x8f) || *a == 0xde || *a == 0xdf)) {
			annals_fail(ctx, ANNALS_EINVALID, "records[%zu]: attrs: "
			    "not a packed msgpack map", i);
			return (-1);
		}
		ev->attrs = (unsigned char *)in->attrs;
		ev->attrs_len = in->attrs_len;
	}
	ev->id = in->id;
	ev->source = (char *)in->source;
	ev->key = (char *)in->key;
	ev->start = (char *)in->start;
	ev->end = (char *)in->end;
	ev->actors = actors;
	ev->nactors = (uint32_t)in->nactors;
	ev->type = (char *)in->type;
	ev->title = (char *)in->title;
	ev->text = (char *)in->text;
	ev->place.name = (char *)in->place_name;
	ev->place.country = (char *)in->place_country;
	ev->place.lat = in->lat;
	ev->place.lon = in->lon;
	ev->place.has_lat = in->has_lat;
	ev->place.has_lon = in->has_lon;
	ev->urls = (char **)in->urls;
	ev->nurls = (uint32_t)in->nurls;
	ev->tags = (char **)in->tags;
	ev->ntags = (uint32_t)in->ntags;
	return (0);
}

/*
 * Pack and send a put of n events; *msgid is the request's.  With
 * check_rev, each event's rev goes along as the one it must still have.
 */
static int
annals_put_send(annals_ctx *ctx, const struct annals_event *events,
    size_t n, int check_rev, uint32_t *msgid)
{
	struct actor	 actors[EVENT_MAX_ACTORS];
	struct event	 ev;
	msgpack_packer	*pk;
	size_t		 i;

	if (n == 0) {
		annals_fail(ctx, ANNALS_EINVALID, "records: 0 given, at least "
		    "1 required");
		return (-1);
	}
	if (n > ctx->max_batch) {
		annals_fail(ctx, ANNALS_EINVALID, "records: %zu given, at most "
		    "%u allowed", n, ctx->max_batch);
		return (-1);
	}
	pk = annals_request(ctx, "put", msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, check_rev ? 2 : 1);
	if (check_rev) {
		mp_pack_str(pk, "check_rev");
		msgpack_pack_true(pk);
	}
	mp_pack_str(pk, "records");
	msgpack_pack_array(pk, (uint32_t)n);
	for (i = 0; i < n && ctx->wfail == 0; i++) {
		if (annals_borrow(ctx, i, &events[i], &ev, actors) == -1)
			return (-1);
		if (check_rev)
			ev.rev = events[i].rev;
		record_pack(pk, &ev);
	}
	return (annals_send(ctx));
}

/* Read the results of a put of n records. */
static int
annals_put_results(annals_ctx *ctx, struct annals_reply *r, size_t n,
    struct annals_put_result *results)
{
	const msgpack_object	*map, *list, *o, *st;
	struct annals_put_result res;
	size_t			 i;

	if ((map = annals_result_map(ctx, r, "put")) == NULL)
		return (-1);
	list = mp_get(map, "results");
	if (list == NULL || list->type != MSGPACK_OBJECT_ARRAY ||
	    list->via.array.size != n) {
		annals_reply_free(r);
		annals_break(ctx, ANNALS_EPROTOCOL, "put: result: results "
		    "must be an array of %zu", n);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		o = &list->via.array.ptr[i];
		memset(&res, 0, sizeof res);
		if (annals_result_uint(ctx, o, "id", &res.id) == -1 ||
		    annals_result_uint(ctx, o, "rev", &res.rev) == -1) {
			annals_reply_free(r);
			return (-1);
		}
		st = mp_get(o, "status");
		if (mp_key_is(st, "added"))
			res.status = ANNALS_ADDED;
		else if (mp_key_is(st, "updated"))
			res.status = ANNALS_UPDATED;
		else if (mp_key_is(st, "unchanged"))
			res.status = ANNALS_UNCHANGED;
		if (res.id == 0 || res.status == 0) {
			annals_reply_free(r);
			annals_break(ctx, ANNALS_EPROTOCOL, "put: result: "
			    "results[%zu]: no id or status", i);
			return (-1);
		}
		if (results != NULL)
			results[i] = res;
	}
	annals_reply_free(r);
	return (0);
}

static int
annals_put_call(annals_ctx *ctx, const struct annals_event *events,
    size_t n, int check_rev, struct annals_put_result *results)
{
	struct annals_reply	r;
	uint32_t		msgid;

	if (annals_enter(ctx) == -1)
		return (-1);
	if (annals_put_send(ctx, events, n, check_rev, &msgid) == -1)
		return (-1);
	if (annals_recv(ctx, msgid, &r) == -1)
		return (-1);
	return (annals_put_results(ctx, &r, n, results));
}

int
annals_put(annals_ctx *ctx, const struct annals_event *events, size_t n,
    struct annals_put_result *results)
{
	return (annals_put_call(ctx, events, n, 0, results));
}

int
annals_put_checked(annals_ctx *ctx, const struct annals_event *events,
    size_t n, struct annals_put_result *results)
{
	return (annals_put_call(ctx, events, n, 1, results));
}

int
annals_put_append(annals_ctx *ctx, const struct annals_event *events,
    size_t n)
{
	uint32_t	msgid;
	size_t		slot;

	if (ctx->broken)
		return (-1);
	ctx->code = 0;
	ctx->msg[0] = '\0';
	if (ctx->npending == ANNALS_MAX_PENDING) {
		annals_fail(ctx, ANNALS_ELIMIT, "%d put batches already "
		    "pending", ANNALS_MAX_PENDING);
		return (-1);
	}
	if (annals_put_send(ctx, events, n, 0, &msgid) == -1)
		return (-1);
	slot = (ctx->phead + ctx->npending) % ANNALS_MAX_PENDING;
	ctx->pending[slot].msgid = msgid;
	ctx->pending[slot].n = n;
	ctx->npending++;
	return (0);
}

int
annals_put_wait(annals_ctx *ctx, struct annals_put_result *results,
    size_t *np)
{
	struct annals_reply	r;
	uint32_t		msgid;
	size_t			n;

	if (np != NULL)
		*np = 0;
	if (ctx->broken)
		return (-1);
	ctx->code = 0;
	ctx->msg[0] = '\0';
	if (ctx->npending == 0) {
		annals_fail(ctx, ANNALS_EINVALID, "no put batch pending");
		return (-1);
	}
	msgid = ctx->pending[ctx->phead].msgid;
	n = ctx->pending[ctx->phead].n;
	ctx->phead = (ctx->phead + 1) % ANNALS_MAX_PENDING;
	ctx->npending--;
	if (np != NULL)
		*np = n;
	if (annals_recv(ctx, msgid, &r) == -1)
		return (-1);
	return (annals_put_results(ctx, &r, n, results));
}

size_t
annals_put_pending(const annals_ctx *ctx)
{
	return (ctx->npending);
}
