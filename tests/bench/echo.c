/*
 * bench-echo: the floor for annalsd's round trip.  A minimal libevent
 * server on a Unix socket that writes back whatever it reads through a
 * bufferevent, as a first libevent program would: no framing, no
 * decoding, no store.  It keeps the library's own write path, on
 * EPOLLOUT: seven system calls per round trip, where annalsd, which
 * writes its replies before the loop sleeps (daemon/conn.c), makes four.
 * Usage: bench-echo SOCKET; SIGTERM stops it.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

static void
echo_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_add_buffer(bufferevent_get_output(bev),
	    bufferevent_get_input(bev));
}

static void
echo_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void
echo_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct event_base	*base = arg;
	struct bufferevent	*bev;

	(void)l;
	(void)sa;
	(void)len;
	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, echo_read, NULL, echo_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void
echo_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un	 sun;
	struct event_base	*base;
	struct evconnlistener	*l;
	struct event		*sigterm, *sigint;

	if (argc != 2 || strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: bench-echo SOCKET\n");
		return (2);
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	if ((base = event_base_new()) == NULL) {
		fprintf(stderr, "bench-echo: event_base_new failed\n");
		return (1);
	}
	l = evconnlistener_new_bind(base, echo_accept, base,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
	    (struct sockaddr *)&sun, sizeof sun);
	if (l == NULL) {
		fprintf(stderr, "bench-echo: listen %s failed\n", argv[1]);
		return (1);
	}
	sigterm = evsignal_new(base, SIGTERM, echo_stop, base);
	sigint = evsignal_new(base, SIGINT, echo_stop, base);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	event_base_dispatch(base);
	event_free(sigterm);
	event_free(sigint);
	evconnlistener_free(l);
	event_base_free(base);
	unlink(argv[1]);
	return (0);
}
