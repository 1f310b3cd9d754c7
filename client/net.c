/*
 * libannals: the socket.  Connecting (a Unix path or HOST:PORT), waiting
 * for it with the context's timeout, reading what has arrived into
 * ctx->rbuf and writing a request out whole.  Every failure here leaves
 * the byte stream in doubt, so it breaks the context.  Kept apart from
 * the framing (wire.c), which never touches the file descriptor, as
 * hiredis keeps net.c apart from read.c.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annals-int.h"

/* Bytes read ahead while a send is blocked, before we stop reading. */
#define ANNALS_READ_AHEAD	(64u << 20)

void
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

void
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
int
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
 * Wait for more bytes, with room for want unconsumed ones; the context
 * breaks when none come within its timeout.
 */
int
annals_fill(annals_ctx *ctx, size_t want)
{
	short	revents;

	/*
	 * Without a timeout the socket (a blocking one) is slept on in
	 * recv(): poll() first costs a system call per reply.
	 */
	if (ctx->timeout == 0)
		return (annals_read(ctx, want, 1));
	if (annals_poll(ctx, POLLIN, &revents) == -1)
		return (-1);
	return (annals_read(ctx, want, 0));
}

/*
 * Send len bytes.  While the daemon is not taking them, read its
 * responses meanwhile: it stops reading from a client whose answers pile
 * up, so a pipelining client that only wrote would wait on it forever.
 */
int
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
