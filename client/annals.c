/*
 * libannals: the context, the connection and the calls that take one
 * round trip.  Queries and iterators are in iter.c.
 *
 * A request is packed into ctx->wbuf behind five bytes left for the
 * frame prefix, which is filled in once the length is known, then sent
 * whole.  Responses are read into ctx->rbuf; each complete frame is
 * copied out into a reply of its own, checked by frame_check() and only
 * then given to msgpack-c (STYLE P16).
 *
 * Errors from the daemon concern one call.  Anything that leaves the
 * byte stream in doubt (a failed read or write, a timeout, an answer
 * that makes no sense) breaks the context for good: the socket is closed
 * and every later call fails with the same error (hiredis does the same).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* The largest response we accept: a page may exceed a request's limit. */
#define ANNALS_MAX_REPLY	(256u << 20)
/* Bytes read ahead while a send is blocked, before we stop reading. */
#define ANNALS_READ_AHEAD	(64u << 20)
#define ANNALS_READ_CHUNK	65536

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
};

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

/*
 * The packer's output: append to wbuf, stopping at the daemon's frame
 * limit so that an oversized batch costs no more memory than a good one.
 */
static int
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

static void
annals_connect_unix(annals_ctx *ctx, const char *path)
{
	struct sockaddr_un	 sun;
	size_t			 len;

	len = strlen(path);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (len >= sizeof sun.sun_path) {
		annals_break(ctx, ANNALS_EIO, "connect %s: path of %zu bytes "
		    "exceeds limit %zu", path, len, sizeof sun.sun_path - 1);
		return;
	}
	memcpy(sun.sun_path, path, len + 1);
	if ((ctx->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		annals_break(ctx, ANNALS_EIO, "socket: %s", strerror(errno));
		return;
	}
	if (connect(ctx->fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		annals_break(ctx, ANNALS_EIO, "connect %s: %s", path,
		    strerror(errno));
}

static void
annals_connect_tcp(annals_ctx *ctx, const char *address)
{
	struct addrinfo	 hints, *res, *ai;
	char		 host[256];
	const char	*port, *end;
	size_t		 len;
	int		 r, fd, saved, one = 1;

	/* "[::1]:7000" or "host:7000": the port follows the last colon. */
	if (address[0] == '[' && (end = strchr(address, ']')) != NULL &&
	    end[1] == ':') {
		len = end - address - 1;
		port = end + 2;
		address++;
	} else {
		port = strrchr(address, ':') + 1;
		len = port - address - 1;
	}
	if (len >= sizeof host || *port == '\0') {
		annals_break(ctx, ANNALS_EIO, "connect %s: not HOST:PORT",
		    address);
		return;
	}
	memcpy(host, address, len);
	host[len] = '\0';

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		annals_break(ctx, ANNALS_EIO, "resolve %s: %s", host,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return;
	}
	saved = ECONNREFUSED;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			/* Requests are small and answered one by one. */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof one);
			ctx->fd = fd;
			break;
		}
		saved = errno;
		close(fd);
	}
	freeaddrinfo(res);
	if (ctx->fd == -1)
		annals_break(ctx, ANNALS_EIO, "connect %s:%s: %s", host, port,
		    strerror(saved));
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

/* Wait until fd is ready for events; the context breaks on a timeout. */
static int
annals_poll(annals_ctx *ctx, short events, short *revents)
{
	struct pollfd	pfd;
	int		r;

	pfd.fd = ctx->fd;
	pfd.events = events;
	pfd.revents = 0;
	do
		r = poll(&pfd, 1, ctx->timeout > 0 ? ctx->timeout : -1);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		annals_break(ctx, ANNALS_EIO, "poll: %s", strerror(errno));
		return (-1);
	}
	if (r == 0) {
		annals_break(ctx, ANNALS_EIO, "no answer from annalsd within "
		    "%d ms", ctx->timeout);
		return (-1);
	}
	*revents = pfd.revents;
	return (0);
}

/*
 * Read what has arrived, with room for at least want unconsumed bytes;
 * with wait, sleep in recv() until something does.
 */
static int
annals_read(annals_ctx *ctx, size_t want, int wait)
{
	unsigned char	*nbuf;
	size_t		 nsize;
	ssize_t		 n;

	if (ctx->roff != 0) {
		memmove(ctx->rbuf, ctx->rbuf + ctx->roff,
		    ctx->rlen - ctx->roff);
		ctx->rlen -= ctx->roff;
		ctx->roff = 0;
	}
	if (want < ctx->rlen + ANNALS_READ_CHUNK)
		want = ctx->rlen + ANNALS_READ_CHUNK;
	if (ctx->rsize < want) {
		nsize = ctx->rsize == 0 ? ANNALS_READ_CHUNK : ctx->rsize;
		while (nsize < want)
			nsize *= 2;
		if ((nbuf = realloc(ctx->rbuf, nsize)) == NULL) {
			annals_break(ctx, ANNALS_ENOMEM, "out of memory reading "
			    "a response of %zu bytes", want);
			return (-1);
		}
		ctx->rbuf = nbuf;
		ctx->rsize = nsize;
	}
	n = recv(ctx->fd, ctx->rbuf + ctx->rlen, ctx->rsize - ctx->rlen,
	    wait ? 0 : MSG_DONTWAIT);
	if (n > 0) {
		ctx->rlen += n;
		return (0);
	}
	if (n == 0) {
		annals_break(ctx, ANNALS_EIO, "connection closed by annalsd");
		return (-1);
	}
	if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
		return (0);
	annals_break(ctx, ANNALS_EIO, "recv: %s", strerror(errno));
	return (-1);
}

/*
 * Send len bytes.  While the daemon is not taking them, read its
 * responses meanwhile: it stops reading from a client whose answers pile
 * up, so a pipelining client that only wrote would wait on it forever.
 */
static int
annals_write_all(annals_ctx *ctx, const unsigned char *p, size_t len)
{
	ssize_t	n;
	short	events, revents;

	while (len > 0) {
		n = send(ctx->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			p += n;
			len -= n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			annals_break(ctx, ANNALS_EIO, "send: %s",
			    strerror(errno));
			return (-1);
		}
		events = POLLOUT;
		if (ctx->rlen - ctx->roff < ANNALS_READ_AHEAD)
			events |= POLLIN;
		if (annals_poll(ctx, events, &revents) == -1)
			return (-1);
		if ((events & POLLIN) &&
		    (revents & (POLLIN | POLLHUP | POLLERR)) &&
		    annals_read(ctx, 0, 0) == -1)
			return (-1);
	}
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

void
annals_reply_free(struct annals_reply *r)
{
	if (r->live)
		msgpack_unpacked_destroy(&r->up);
	free(r->buf);
	memset(r, 0, sizeof *r);
}

/* Take the next whole frame out of rbuf into r->buf, reading as needed. */
static int
annals_next_frame(annals_ctx *ctx, struct annals_reply *r, size_t *len)
{
	struct aerr	 err;
	uint32_t	 n;
	size_t		 avail, want;
	short		 revents;
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
		/*
		 * Without a timeout the socket (a blocking one) is slept on
		 * in recv(): poll() first costs a system call per reply.
		 */
		if (ctx->timeout == 0) {
			if (annals_read(ctx, want, 1) == -1)
				return (-1);
			continue;
		}
		if (annals_poll(ctx, POLLIN, &revents) == -1 ||
		    annals_read(ctx, want, 0) == -1)
			return (-1);
	}
	/* One spare byte: the NUL of a string that ends the frame. */
	if ((r->buf = malloc((size_t)n + 1)) == NULL) {
		annals_break(ctx, ANNALS_ENOMEM, "out of memory for a response "
		    "of %u bytes", n);
		return (-1);
	}
	memcpy(r->buf, ctx->rbuf + ctx->roff + PROTO_FRAME_HEADER, n);
	ctx->roff += PROTO_FRAME_HEADER + n;
	*len = n;
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
		r->live = 1;
		off = 0;
		ur = msgpack_unpack_next(&r->up, (const char *)r->buf, len,
		    &off);
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
static const msgpack_object *
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
static int
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

/* The n checked strs of list, made C strings, into out. */
static void
annals_view_list(const char **out, const msgpack_object *list, uint32_t n)
{
	uint32_t	i;

	for (i = 0; i < n; i++)
		out[i] = list[i].via.str.ptr;
}

/*
 * Decode a record of reply r into o and point its public view at it; o
 * is clear or holds an earlier event, whose block is reused when it is
 * large enough.  err says why not.
 *
 * The daemon checked the record when it stored it, so only its shape is
 * checked here (record_view()), and the event is a view into r's frame:
 * its strings and attrs are where the daemon sent them, and only the
 * lists of pointers (actors, urls, tags) take a block of o's.  The
 * event is valid as long as r's buffer is: the caller keeps the reply
 * (an iterator's page) or hands its buffer to o (o->frame).
 */
int
annals_owned_set(struct annals_owned *o, const struct annals_reply *r,
    const msgpack_object *rec, uint32_t fields, struct aerr *err)
{
	struct record_view	 v;
	struct annals_event	*pub = &o->pub;
	struct annals_actor	*actors;
	const char		**urls, **tags;
	size_t			 need;
	uint32_t		 i;

	if (record_view_fields(rec, r->buf, r->len, fields, &v, err) == -1)
		return (-1);
	need = v.nactors * sizeof *actors + (v.nurls + (size_t)v.ntags) *
	    sizeof *urls;
	if (need > o->size) {
		free(o->mem);
		o->size = 0;
		if ((o->mem = malloc(need)) == NULL) {
			aerr_set(err, AERR_NOMEM, "out of memory");
			return (-1);
		}
		o->size = need;
	}
	actors = (struct annals_actor *)o->mem;
	urls = (const char **)(actors + v.nactors);
	tags = urls + v.nurls;

	record_view_terminate(&v, r->buf);
	for (i = 0; i < v.nactors; i++) {
		actors[i].name = v.actors[i].name.ptr;
		actors[i].role = v.actors[i].role.ptr;
	}
	annals_view_list(urls, v.urls, v.nurls);
	annals_view_list(tags, v.tags, v.ntags);
	/* Every field is set: pub may hold the last event of an iterator. */
	pub->id = v.id;
	pub->rev = v.rev;
	pub->created = v.created;
	pub->updated = v.updated;
	pub->source = v.source.ptr;
	pub->key = v.key.ptr;
	pub->start = v.start.ptr;
	pub->end = v.end.ptr;
	pub->actors = v.nactors != 0 ? actors : NULL;
	pub->nactors = v.nactors;
	pub->type = v.type.ptr;
	pub->title = v.title.ptr;
	pub->text = v.text.ptr;
	pub->place_name = v.place_name.ptr;
	pub->place_country = v.place_country.ptr;
	pub->lat = v.lat;
	pub->lon = v.lon;
	pub->has_lat = v.has_lat;
	pub->has_lon = v.has_lon;
	pub->urls = v.nurls != 0 ? urls : NULL;
	pub->nurls = v.nurls;
	pub->tags = v.ntags != 0 ? tags : NULL;
	pub->ntags = v.ntags;
	pub->attrs = v.attrs_len != 0 ? v.attrs : NULL;
	pub->attrs_len = v.attrs_len;
	pub->match = 0;
	return (0);
}

void
annals_owned_clear(struct annals_owned *o)
{
	free(o->mem);
	free(o->frame);
	memset(o, 0, sizeof *o);
}

/*
 * Turn one record of a reply into a new event for the caller, which
 * takes r's buffer (annals_reply_free() still frees the rest of r).
 */
static int
annals_event_new(annals_ctx *ctx, const char *method,
    struct annals_reply *r, const msgpack_object *rec, uint32_t fields,
    struct annals_event **out)
{
	struct annals_owned	*o;
	struct aerr		 err;

	if ((o = calloc(1, sizeof *o)) == NULL) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		return (-1);
	}
	aerr_clear(&err);
	if (annals_owned_set(o, r, rec, fields, &err) == -1) {
		annals_owned_clear(o);
		free(o);
		if (err.code == AERR_NOMEM)
			annals_fail(ctx, ANNALS_ENOMEM, "%s", err.msg);
		else
			annals_break(ctx, ANNALS_EPROTOCOL, "%s: event: %s",
			    method, err.msg);
		return (-1);
	}
	/* The event is a view into the frame: it keeps it. */
	o->frame = r->buf;
	r->buf = NULL;
	*out = &o->pub;
	return (0);
}

/*
 * The set of keys named by fields ("id,start,title"; NULL or "": all),
 * or -1 with ANNALS_EINVALID on ctx.
 */
int
annals_fields(annals_ctx *ctx, const char *fields, uint32_t *set)
{
	struct aerr	err;

	aerr_clear(&err);
	if (fields_parse(fields, set, &err) != 0) {
		annals_fail(ctx, ANNALS_EINVALID, "%s", err.msg);
		return (-1);
	}
	return (0);
}

int
annals_get(annals_ctx *ctx, uint64_t id, struct annals_event **out)
{
	return (annals_get_fields(ctx, id, NULL, out));
}

int
annals_get_fields(annals_ctx *ctx, uint64_t id, const char *fields,
    struct annals_event **out)
{
	struct annals_reply	 r;
	const msgpack_object	*map, *list;
	msgpack_packer		*pk;
	uint32_t		 msgid, set;
	int			 rc;

	*out = NULL;
	if (annals_enter(ctx) == -1 || annals_fields(ctx, fields, &set) == -1)
		return (-1);
	pk = annals_request(ctx, "get", &msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 1 + (set != RECORD_FIELDS_ALL));
	mp_pack_str(pk, "ids");
	msgpack_pack_array(pk, 1);
	msgpack_pack_uint64(pk, id);
	if (set != RECORD_FIELDS_ALL) {
		mp_pack_str(pk, "fields");
		fields_pack(pk, set);
	}
	if (annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	if ((map = annals_result_map(ctx, &r, "get")) == NULL)
		return (-1);
	list = mp_get(map, "events");
	if (list == NULL || list->type != MSGPACK_OBJECT_ARRAY ||
	    list->via.array.size != 1) {
		annals_reply_free(&r);
		annals_break(ctx, ANNALS_EPROTOCOL, "get: result: events "
		    "must be an array of 1");
		return (-1);
	}
	if (list->via.array.ptr[0].type == MSGPACK_OBJECT_NIL) {
		annals_reply_free(&r);
		annals_fail(ctx, ANNALS_ENOTFOUND, "event %llu not found",
		    (unsigned long long)id);
		return (-1);
	}
	rc = annals_event_new(ctx, "get", &r, &list->via.array.ptr[0], set,
	    out);
	annals_reply_free(&r);
	return (rc);
}

int
annals_get_by_key(annals_ctx *ctx, const char *source, const char *key,
    struct annals_event **out)
{
	struct annals_reply	 r;
	const msgpack_object	*map, *rec;
	msgpack_packer		*pk;
	uint32_t		 msgid;
	int			 rc;

	*out = NULL;
	if (annals_enter(ctx) == -1)
		return (-1);
	if (source == NULL || key == NULL) {
		annals_fail(ctx, ANNALS_EINVALID, "%s: required",
		    source == NULL ? "source" : "key");
		return (-1);
	}
	pk = annals_request(ctx, "get_by_key", &msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "source", source);
	mp_pack_kv_str(pk, "key", key);
	if (annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	if ((map = annals_result_map(ctx, &r, "get_by_key")) == NULL)
		return (-1);
	if ((rec = mp_get(map, "event")) == NULL ||
	    rec->type == MSGPACK_OBJECT_NIL) {
		annals_reply_free(&r);
		annals_fail(ctx, ANNALS_ENOTFOUND, "no event with source %s "
		    "and key %s", source, key);
		return (-1);
	}
	rc = annals_event_new(ctx, "get_by_key", &r, rec, RECORD_FIELDS_ALL,
	    out);
	annals_reply_free(&r);
	return (rc);
}

void
annals_event_free(struct annals_event *pub)
{
	struct annals_owned	*o;

	if (pub == NULL)
		return;
	/* pub is the first member of the annals_owned it came from. */
	o = (struct annals_owned *)pub;
	annals_owned_clear(o);
	free(o);
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

/*
 * Aggregations: histogram, top_actors and co_actors.  Their parameters
 * are the query's filters without its limit and order, plus their own.
 */

/* Pack [{filters of q..., extra}]: extra holds nextra packed pairs. */
static int
annals_agg_request(annals_ctx *ctx, const char *method,
    const annals_query *aq, const msgpack_sbuffer *extra, uint32_t nextra,
    uint32_t *msgid)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 spk, *pk;
	msgpack_unpacked	 up;
	struct query		 q = aq->q;
	const msgpack_object_kv	*kv;
	uint32_t		 i;

	q.limit = 0;
	q.desc = 0;
	/* top_actors takes an actor prefix as its own parameter. */
	if (strcmp(method, "top_actors") == 0 && q.actor != NULL) {
		if (!q.actor_prefix || q.role != NULL) {
			annals_fail(ctx, ANNALS_EINVALID, "top_actors: only an "
			    "actor prefix (\"SYR*\") without a role narrows it");
			return (-1);
		}
		q.actor = NULL;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&spk, &sb, msgpack_sbuffer_write);
	query_pack(&spk, &q, NULL, 0);
	msgpack_unpacked_init(&up);
	if (sb.data == NULL || msgpack_unpack_next(&up, sb.data, sb.size,
	    NULL) != MSGPACK_UNPACK_SUCCESS) {
		msgpack_unpacked_destroy(&up);
		msgpack_sbuffer_destroy(&sb);
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		return (-1);
	}
	pk = annals_request(ctx, method, msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, up.data.via.map.size + nextra +
	    (q.actor == NULL && aq->q.actor != NULL));
	if (q.actor == NULL && aq->q.actor != NULL)
		mp_pack_kv_str(pk, "prefix", aq->q.actor);
	for (i = 0; i < up.data.via.map.size; i++) {
		kv = &up.data.via.map.ptr[i];
		msgpack_pack_object(pk, kv->key);
		msgpack_pack_object(pk, kv->val);
	}
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	if (extra->size > 0 && annals_write_cb(ctx, extra->data,
	    extra->size) != 0 && ctx->wfail == 0)
		ctx->wfail = ANNALS_ENOMEM;
	return (0);
}

/* A string of a result map, copied; NULL (and ctx broken) otherwise. */
static char *
annals_agg_str(annals_ctx *ctx, const char *method, const msgpack_object *o,
    const char *key)
{
	const msgpack_object	*v = mp_get(o, key);
	char			*s;

	if (v == NULL || v->type != MSGPACK_OBJECT_STR) {
		annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: %s: not a "
		    "string", method, key);
		return (NULL);
	}
	if ((s = malloc(v->via.str.size + 1)) == NULL) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		return (NULL);
	}
	memcpy(s, v->via.str.ptr, v->via.str.size);
	s[v->via.str.size] = '\0';
	return (s);
}

/* The array under key of a result map; NULL (and ctx broken) if none. */
static const msgpack_object *
annals_agg_array(annals_ctx *ctx, const char *method,
    const msgpack_object *map, const char *key)
{
	const msgpack_object	*v = mp_get(map, key);

	if (v == NULL || v->type != MSGPACK_OBJECT_ARRAY) {
		annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: %s: not an "
		    "array", method, key);
		return (NULL);
	}
	return (v);
}

void
annals_histogram_free(struct annals_histogram *h)
{
	size_t	i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nbuckets; i++)
		free((char *)h->buckets[i].start);
	free(h->buckets);
	free(h);
}

int
annals_histogram(annals_ctx *ctx, const annals_query *q, int by, int mode,
    struct annals_histogram **out)
{
	static const char *const bys[] = { "day", "week", "month", "year" };
	struct annals_histogram	*h = NULL;
	struct annals_reply	 r;
	const msgpack_object	*map, *list, *b, *t;
	msgpack_sbuffer		 extra;
	msgpack_packer		 epk;
	uint32_t		 msgid;
	size_t			 i;
	int			 rc;

	*out = NULL;
	if (annals_enter(ctx) == -1)
		return (-1);
	if (by < ANNALS_BY_DAY || by > ANNALS_BY_YEAR ||
	    (mode != ANNALS_COUNT_OVERLAP && mode != ANNALS_COUNT_START)) {
		annals_fail(ctx, ANNALS_EINVALID, "histogram: by %d or mode %d "
		    "is not known", by, mode);
		return (-1);
	}
	msgpack_sbuffer_init(&extra);
	msgpack_packer_init(&epk, &extra, msgpack_sbuffer_write);
	mp_pack_kv_str(&epk, "by", bys[by]);
	mp_pack_kv_str(&epk, "count", mode == ANNALS_COUNT_START ? "start" :
	    "overlap");
	rc = annals_agg_request(ctx, "histogram", q, &extra, 2, &msgid);
	msgpack_sbuffer_destroy(&extra);
	if (rc == -1 || annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	if ((map = annals_result_map(ctx, &r, "histogram")) == NULL)
		return (-1);
	if ((list = annals_agg_array(ctx, "histogram", map,
	    "buckets")) == NULL)
		goto fail;
	if ((h = calloc(1, sizeof *h)) == NULL ||
	    (list->via.array.size > 0 && (h->buckets = calloc(
	    list->via.array.size, sizeof *h->buckets)) == NULL)) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < list->via.array.size; i++) {
		b = &list->via.array.ptr[i];
		if (b->type != MSGPACK_OBJECT_MAP ||
		    annals_result_uint(ctx, b, "count",
		    &h->buckets[i].count) == -1)
			goto bad;
		if ((h->buckets[i].start = annals_agg_str(ctx, "histogram", b,
		    "start")) == NULL)
			goto fail;
		h->nbuckets = i + 1;
		if ((t = mp_get(b, "time")) != NULL &&
		    t->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			h->buckets[i].time = t->via.i64;
		else if (t != NULL && t->type ==
		    MSGPACK_OBJECT_POSITIVE_INTEGER && t->via.u64 <= INT64_MAX)
			h->buckets[i].time = (int64_t)t->via.u64;
	}
	if (annals_result_uint(ctx, map, "total", &h->total) == -1)
		goto fail;
	annals_reply_free(&r);
	*out = h;
	return (0);
bad:
	if (!ctx->broken)
		annals_break(ctx, ANNALS_EPROTOCOL, "histogram: result: a "
		    "bucket is not a map with a count");
fail:
	annals_reply_free(&r);
	annals_histogram_free(h);
	return (-1);
}

void
annals_actor_counts_free(struct annals_actor_counts *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nactors; i++)
		free((char *)c->actors[i].name);
	free(c->actors);
	free(c);
}

/* top_actors and co_actors: the same request and result but for events. */
static int
annals_agg_actors(annals_ctx *ctx, const char *method, const annals_query *q,
    uint32_t limit, struct annals_actor_counts **out)
{
	struct annals_actor_counts *c = NULL;
	struct annals_reply	 r;
	const msgpack_object	*map, *list, *a;
	msgpack_sbuffer		 extra;
	msgpack_packer		 epk;
	uint32_t		 msgid;
	size_t			 i;
	int			 rc;

	*out = NULL;
	if (annals_enter(ctx) == -1)
		return (-1);
	if (limit == 0 || limit > PROTO_MAX_PAGE) {
		annals_fail(ctx, ANNALS_EINVALID, "%s: limit %u is outside 1 "
		    "to %d", method, limit, PROTO_MAX_PAGE);
		return (-1);
	}
	msgpack_sbuffer_init(&extra);
	msgpack_packer_init(&epk, &extra, msgpack_sbuffer_write);
	mp_pack_kv_uint(&epk, "limit", limit);
	rc = annals_agg_request(ctx, method, q, &extra, 1, &msgid);
	msgpack_sbuffer_destroy(&extra);
	if (rc == -1 || annals_roundtrip(ctx, msgid, &r) == -1)
		return (-1);
	if ((map = annals_result_map(ctx, &r, method)) == NULL)
		return (-1);
	if ((list = annals_agg_array(ctx, method, map, "actors")) == NULL)
		goto fail;
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (list->via.array.size > 0 && (c->actors = calloc(
	    list->via.array.size, sizeof *c->actors)) == NULL)) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < list->via.array.size; i++) {
		a = &list->via.array.ptr[i];
		if (a->type != MSGPACK_OBJECT_MAP) {
			annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: "
			    "actors[%zu]: not a map", method, i);
			goto fail;
		}
		if (annals_result_uint(ctx, a, "count",
		    &c->actors[i].count) == -1 ||
		    (c->actors[i].name = annals_agg_str(ctx, method, a,
		    "name")) == NULL)
			goto fail;
		c->nactors = i + 1;
	}
	if (annals_result_uint(ctx, map, "events", &c->events) == -1)
		goto fail;
	annals_reply_free(&r);
	*out = c;
	return (0);
fail:
	annals_reply_free(&r);
	annals_actor_counts_free(c);
	return (-1);
}

int
annals_top_actors(annals_ctx *ctx, const annals_query *q, uint32_t limit,
    struct annals_actor_counts **out)
{
	return (annals_agg_actors(ctx, "top_actors", q, limit, out));
}

int
annals_co_actors(annals_ctx *ctx, const annals_query *q, uint32_t limit,
    struct annals_actor_counts **out)
{
	return (annals_agg_actors(ctx, "co_actors", q, limit, out));
}

/*
 * Change notifications (changes.c has the calls).  While a connection is
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

void
annals_set_subscribed(annals_ctx *ctx, int on)
{
	ctx->subscribed = on;
	if (!on)
		annals_notes_clear(ctx);
}

int
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
int
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
