/*
 * libannals: the context and the calls that take one round trip and
 * answer a fixed shape (hello, ping, delete, stats and the raw
 * annals_call).  The rest is in files by concern, as hiredis splits
 * hiredis.c, net.c and read.c: the socket in net.c, frames in wire.c,
 * put and its pipelining in put.c, events handed out in event.c,
 * queries and iterators in iter.c, aggregations in agg.c, the change
 * feed and its notification queue in changes.c.  annals-int.h holds
 * the context they share.
 *
 * Errors from the daemon concern one call.  Anything that leaves the
 * byte stream in doubt (a failed read or write, a timeout, an answer
 * that makes no sense) breaks the context for good: the socket is closed
 * and every later call fails with the same error (hiredis does the same).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annals-int.h"

#define ANNALS_ERROR_CHECK(name, num, wire, text)			\
	_Static_assert(ANNALS_E##name == AERR_##name,			\
	    "ANNALS_E" #name " differs from AERR_" #name);
#define ANNALS_ENOT_FOUND	ANNALS_ENOTFOUND
#define ANNALS_EUNKNOWN_METHOD	ANNALS_EUNKNOWNMETHOD
#define ANNALS_EBAD_CURSOR	ANNALS_EBADCURSOR
#define ANNALS_EDISK_FULL	ANNALS_EDISKFULL
#define ANNALS_EREAD_ONLY	ANNALS_EREADONLY
PROTO_ERRORS(ANNALS_ERROR_CHECK)
#undef ANNALS_ENOT_FOUND
#undef ANNALS_EUNKNOWN_METHOD
#undef ANNALS_EBAD_CURSOR
#undef ANNALS_EDISK_FULL
#undef ANNALS_EREAD_ONLY
_Static_assert(ANNALS_MATCH_CERTAIN == DATE_MATCH_CERTAIN, "match codes");
_Static_assert(ANNALS_MATCH_POSSIBLE == DATE_MATCH_POSSIBLE, "match codes");
_Static_assert(ANNALS_PREC_TIME == DATE_PREC_TIME, "precisions");
_Static_assert(ANNALS_PREC_YEAR == DATE_PREC_YEAR, "precisions");
_Static_assert(ANNALS_BY_DAY == DATE_BY_DAY && ANNALS_BY_WEEK == DATE_BY_WEEK &&
    ANNALS_BY_MONTH == DATE_BY_MONTH && ANNALS_BY_YEAR == DATE_BY_YEAR,
    "buckets");
_Static_assert(ANNALS_CHANGE_PUT == CHANGE_PUT &&
    ANNALS_CHANGE_DELETE == CHANGE_DELETE, "change ops");


static void	annals_vset(annals_ctx *, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

static void
annals_vset(annals_ctx *ctx, int code, const char *fmt, va_list ap)
{
	ctx->code = code;
	vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
}

/* Fail the current call; the context stays usable. */
void
annals_fail(annals_ctx *ctx, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	annals_vset(ctx, code, fmt, ap);
	va_end(ap);
}

/* Fail the current call and every later one: the stream is lost. */
void
annals_break(annals_ctx *ctx, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	annals_vset(ctx, code, fmt, ap);
	va_end(ap);
	ctx->broken = 1;
	if (ctx->fd != -1) {
		close(ctx->fd);
		ctx->fd = -1;
	}
	ctx->npending = 0;
}

/*
 * Begin a call: refuse on a broken context or with puts in flight, whose
 * responses would arrive first, else clear the last call's error.
 */
int
annals_enter(annals_ctx *ctx)
{
	if (ctx->broken)
		return (-1);
	if (ctx->npending != 0) {
		annals_fail(ctx, ANNALS_EINVALID, "%zu put batches pending: "
		    "collect them with annals_put_wait first", ctx->npending);
		return (-1);
	}
	ctx->code = 0;
	ctx->msg[0] = '\0';
	return (0);
}

annals_ctx *
annals_connect(const char *address)
{
	annals_ctx	*ctx;
	const char	*env;

	if ((ctx = calloc(1, sizeof *ctx)) == NULL)
		return (NULL);
	ctx->fd = -1;
	ctx->max_frame = PROTO_MAX_FRAME;
	ctx->max_batch = PROTO_MAX_BATCH;
	ctx->max_page = PROTO_MAX_PAGE;
	msgpack_packer_init(&ctx->pk, ctx, annals_write_cb);

	if (address == NULL) {
		env = getenv("ANNALS_SOCKET");
		address = env != NULL && *env != '\0' ? env :
		    PROTO_DEFAULT_SOCKET;
	}
	if (strchr(address, '/') != NULL || strchr(address, ':') == NULL)
		annals_connect_unix(ctx, address);
	else
		annals_connect_tcp(ctx, address);
	/* A server with --auth-file wants the token before anything else. */
	env = getenv("ANNALS_TOKEN");
	if (ctx->fd != -1 && ctx->code == 0 && env != NULL && *env != '\0')
		annals_hello(ctx, NULL, env, NULL);
	return (ctx);
}

void
annals_free(annals_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->fd != -1)
		close(ctx->fd);
	free(ctx->wbuf);
	free(ctx->rbuf);
	annals_notes_clear(ctx);
	/* After the notes: freeing them may leave a zone and a buffer. */
	msgpack_zone_free(ctx->zone);
	free(ctx->spare);
	free(ctx);
}

int
annals_errcode(const annals_ctx *ctx)
{
	return (ctx->code);
}

const char *
annals_errmsg(const annals_ctx *ctx)
{
	return (ctx->msg);
}

const char *
annals_strerror(int code)
{
	if (code == ANNALS_OK)
		return ("success");
	return (aerr_text(code));
}

int
annals_set_timeout(annals_ctx *ctx, int ms)
{
	if (ctx->broken)
		return (-1);
	ctx->timeout = ms > 0 ? ms : 0;
	return (0);
}

/* A string of a result map into a fixed buffer, cut to fit; absent is "". */
static void
annals_result_str(const msgpack_object *map, const char *key, char *buf,
    size_t size)
{
	const msgpack_object	*o;
	size_t			 len;

	buf[0] = '\0';
	if ((o = mp_get(map, key)) == NULL || o->type != MSGPACK_OBJECT_STR)
		return;
	len = o->via.str.size;
	if (len >= size)
		len = size - 1;
	memcpy(buf, o->via.str.ptr, len);
	buf[len] = '\0';
}

static uint32_t
annals_clamp32(uint64_t v)
{
	return (v > UINT32_MAX ? UINT32_MAX : (uint32_t)v);
}

int
annals_hello(annals_ctx *ctx, const char *client, const char *token,
    struct annals_server *out)
{
	struct annals_server	 srv;
	struct annals_reply	 r;
	const msgpack_object	*map;
	msgpack_packer		*pk;
	uint64_t		 protocol, frame, batch, page;
	uint32_t		 msgid;

	if (annals_enter(ctx) == -1)
		return (-1);
	pk = annals_request(ctx, "hello", &msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, (client != NULL) + (token != NULL));
	if (client != NULL)
		mp_pack_kv_str(pk, "client", client);
	if (token != NULL)
		mp_pack_kv_str(pk, "token", token);
	if (annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	if ((map = annals_result_map(ctx, &r, "hello")) == NULL)
		return (-1);
	memset(&srv, 0, sizeof srv);
	annals_result_str(map, "server", srv.name, sizeof srv.name);
	annals_result_str(map, "version", srv.version, sizeof srv.version);
	if (annals_result_uint(ctx, map, "protocol", &protocol) == -1 ||
	    annals_result_uint(ctx, map, "max_frame", &frame) == -1 ||
	    annals_result_uint(ctx, map, "max_batch", &batch) == -1 ||
	    annals_result_uint(ctx, map, "max_page", &page) == -1) {
		annals_reply_free(&r);
		return (-1);
	}
	annals_reply_free(&r);
	srv.protocol = annals_clamp32(protocol);
	srv.max_frame = annals_clamp32(frame);
	srv.max_batch = annals_clamp32(batch);
	srv.max_page = annals_clamp32(page);
	if (out != NULL)
		*out = srv;
	if (srv.max_frame != 0)
		ctx->max_frame = srv.max_frame;
	if (srv.max_batch != 0)
		ctx->max_batch = srv.max_batch;
	if (srv.max_page != 0)
		ctx->max_page = srv.max_page;
	if (protocol != ANNALS_PROTO_VERSION) {
		annals_break(ctx, ANNALS_EPROTOCOL, "annalsd speaks protocol "
		    "%llu, this library %d", (unsigned long long)protocol,
		    ANNALS_PROTO_VERSION);
		return (-1);
	}
	return (0);
}

int
annals_ping(annals_ctx *ctx)
{
	struct annals_reply	 r;
	msgpack_packer		*pk;
	uint32_t		 msgid;
	int			 ok;

	if (annals_enter(ctx) == -1)
		return (-1);
	pk = annals_request(ctx, "ping", &msgid);
	msgpack_pack_array(pk, 0);
	if (annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	ok = mp_key_is(r.msg.result, "pong");
	annals_reply_free(&r);
	if (!ok) {
		annals_break(ctx, ANNALS_EPROTOCOL, "ping: result is not "
		    "\"pong\"");
		return (-1);
	}
	return (0);
}

int
annals_delete(annals_ctx *ctx, const uint64_t *ids, size_t n, int *deleted)
{
	struct annals_reply	 r;
	const msgpack_object	*map, *list, *o;
	msgpack_packer		*pk;
	uint32_t		 msgid;
	size_t			 i;

	if (annals_enter(ctx) == -1)
		return (-1);
	if (n == 0) {
		annals_fail(ctx, ANNALS_EINVALID, "ids: 0 given, at least 1 "
		    "required");
		return (-1);
	}
	if (n > PROTO_MAX_IDS) {
		annals_fail(ctx, ANNALS_EINVALID, "ids: %zu given, at most %d "
		    "allowed", n, PROTO_MAX_IDS);
		return (-1);
	}
	pk = annals_request(ctx, "delete", &msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "ids");
	msgpack_pack_array(pk, (uint32_t)n);
	for (i = 0; i < n; i++)
		msgpack_pack_uint64(pk, ids[i]);
	if (annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	if ((map = annals_result_map(ctx, &r, "delete")) == NULL)
		return (-1);
	list = mp_get(map, "deleted");
	if (list == NULL || list->type != MSGPACK_OBJECT_ARRAY ||
	    list->via.array.size != n) {
		annals_reply_free(&r);
		annals_break(ctx, ANNALS_EPROTOCOL, "delete: result: deleted "
		    "must be an array of %zu", n);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		o = &list->via.array.ptr[i];
		if (o->type != MSGPACK_OBJECT_BOOLEAN) {
			annals_reply_free(&r);
			annals_break(ctx, ANNALS_EPROTOCOL, "delete: result: "
			    "deleted[%zu] is not a boolean", i);
			return (-1);
		}
		if (deleted != NULL)
			deleted[i] = o->via.boolean;
	}
	annals_reply_free(&r);
	return (0);
}

int
annals_stats(annals_ctx *ctx, struct annals_stats *out)
{
	struct annals_stats	 st;
	struct annals_reply	 r;
	const msgpack_object	*map;
	msgpack_packer		*pk;
	uint64_t		 protocol;
	uint32_t		 msgid;

	if (annals_enter(ctx) == -1)
		return (-1);
	pk = annals_request(ctx, "stats", &msgid);
	msgpack_pack_array(pk, 0);
	if (annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	if ((map = annals_result_map(ctx, &r, "stats")) == NULL)
		return (-1);
	memset(&st, 0, sizeof st);
	if (annals_result_uint(ctx, map, "events", &st.events) == -1 ||
	    annals_result_uint(ctx, map, "actors", &st.actors) == -1 ||
	    annals_result_uint(ctx, map, "db_bytes", &st.db_bytes) == -1 ||
	    annals_result_uint(ctx, map, "map_bytes", &st.map_bytes) == -1 ||
	    annals_result_uint(ctx, map, "uptime", &st.uptime) == -1 ||
	    annals_result_uint(ctx, map, "connections",
	    &st.connections) == -1 ||
	    annals_result_uint(ctx, map, "protocol", &protocol) == -1) {
		annals_reply_free(&r);
		return (-1);
	}
	st.protocol = annals_clamp32(protocol);
	annals_result_str(map, "version", st.version, sizeof st.version);
	annals_reply_free(&r);
	if (out != NULL)
		*out = st;
	return (0);
}

int
annals_call(annals_ctx *ctx, const char *method, const void *params,
    size_t params_len, void **result, size_t *result_len)
{
	struct annals_reply	 r;
	struct aerr		 err;
	msgpack_sbuffer		 sb;
	msgpack_packer		*pk, rpk;
	const unsigned char	*p = params;
	uint32_t		 msgid;

	*result = NULL;
	*result_len = 0;
	if (annals_enter(ctx) == -1)
		return (-1);
	if (params != NULL && params_len != 0) {
		aerr_clear(&err);
		if (frame_check(p, params_len, &err) == -1 ||
		    !((*p >= 0x80 && *p <= 0x8f) || *p == 0xde || *p == 0xdf)) {
			annals_fail(ctx, ANNALS_EINVALID, "params: not a "
			    "packed msgpack map");
			return (-1);
		}
	}
	if (method == NULL) {
		annals_fail(ctx, ANNALS_EINVALID, "method: required");
		return (-1);
	}
	pk = annals_request(ctx, method, &msgid);
	if (params != NULL && params_len != 0) {
		msgpack_pack_array(pk, 1);
		annals_write_cb(ctx, params, params_len);
	} else
		msgpack_pack_array(pk, 0);
	if (annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&rpk, &sb, msgpack_sbuffer_write);
	if (msgpack_pack_object(&rpk, *r.msg.result) != 0) {
		msgpack_sbuffer_destroy(&sb);
		annals_reply_free(&r);
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		return (-1);
	}
	annals_reply_free(&r);
	*result_len = sb.size;
	*result = msgpack_sbuffer_release(&sb);
	return (0);
}

void
annals_buf_free(void *buf)
{
	free(buf);
}
