/*
 * Listening and accepting: the Unix socket and, when asked, a TCP
 * address.  Accept failures for lack of descriptors (EMFILE) pause the
 * listeners for a second instead of spinning (P5); connections over the
 * limit are refused with a reason.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "annalsd.h"

static struct evconnlistener	*listeners[2];
static size_t			 nlisteners;
static struct event		*resume_ev;
static struct event		*tidy_ev;
static time_t			 last_full_log;

/* Tell a client over the connection limit why, then hang up. */
static void
server_refuse(int fd)
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
	unsigned char	hdr[PROTO_FRAME_HEADER];
	char		msg[96];
	struct iovec	iov[2];

	snprintf(msg, sizeof msg, "max-conns: the server has its limit of "
	    "%zu connections", server->cfg->max_conns);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msg_pack_response_error(&pk, 0, AERR_LIMIT, msg);
	frame_header(hdr, (uint32_t)sb.size);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof hdr;
	iov[1].iov_base = sb.data;
	iov[1].iov_len = sb.size;
	/* Best effort: a fresh socket's buffer takes this whole. */
	if (writev(fd, iov, 2) == -1)
		log_debug("refusing a connection: %s", strerror(errno));
	msgpack_sbuffer_destroy(&sb);
	close(fd);
}

static void
server_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	char	peer[64], addr[INET6_ADDRSTRLEN];
	time_t	now;

	(void)l; (void)salen; (void)arg;
	if (server->shutting_down) {
		close(fd);
		return;
	}
	if (conn_count() >= server->cfg->max_conns) {
		now = time(NULL);
		if (now - last_full_log >= 60) {
			log_warn("refusing connections: limit of %zu reached",
			    server->cfg->max_conns);
			last_full_log = now;
		}
		server_refuse(fd);
		return;
	}
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof addr);
		snprintf(peer, sizeof peer, "%s:%u", addr,
		    ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof addr);
		snprintf(peer, sizeof peer, "[%s]:%u", addr,
		    ntohs(sin6->sin6_port));
	} else
		snprintf(peer, sizeof peer, "unix");
	evutil_make_socket_nonblocking(fd);
	conn_new(fd, peer);
}

static void
server_resume(evutil_socket_t fd, short what, void *arg)
{
	size_t	i;

	(void)fd; (void)what; (void)arg;
	for (i = 0; i < nlisteners; i++)
		evconnlistener_enable(listeners[i]);
}

static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	struct timeval	tv = { 1, 0 };
	int		err = EVUTIL_SOCKET_ERROR();
	size_t		i;
	time_t		now = time(NULL);

	(void)l; (void)arg;
	if (now - last_full_log >= 60) {
		log_warn("accept: %s; pausing for a second",
		    evutil_socket_error_to_string(err));
		last_full_log = now;
	}
	for (i = 0; i < nlisteners; i++)
		evconnlistener_disable(listeners[i]);
	evtimer_add(resume_ev, &tv);
}

/* Reader slots of crashed processes are reclaimed hourly too (P11). */
static void
server_tidy(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	store_reader_check(server->store);
	store_prune_soon(server->store);
}

/*
 * The hint for a socket path the daemon cannot use: the CLI and
 * libannals look for the socket where ANNALS_SOCKET says.
 */
#define SERVER_SOCKET_HINT	"give --socket PATH (and set ANNALS_SOCKET " \
				"for the CLI)"

/*
 * Create the directories above the socket path, as mkdir -p would, so
 * that "annalsd --data DIR" works without a tmpfiles entry.  0755: the
 * socket's own mode and group decide who may connect.
 */
static int
server_socket_dir(const char *path, struct aerr *err)
{
	char	 dir[sizeof ((struct sockaddr_un *)0)->sun_path], *p;
	int	 saved;

	snprintf(dir, sizeof dir, "%s", path);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return (0);
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		saved = *p;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			aerr_set(err, AERR_INVALID, "cannot create %s: %s; "
			    SERVER_SOCKET_HINT, dir, strerror(errno));
			return (-1);
		}
		if ((*p = (char)saved) == '\0')
			break;
	}
	return (0);
}

static int
listen_unix(const char *path, struct aerr *err)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		aerr_set(err, AERR_INVALID, "socket path %s is longer than "
		    "%zu bytes", path, sizeof sun.sun_path - 1);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (server_socket_dir(path, err) != 0)
		return (-1);
	/* A socket left by a daemon that died; a live one answers. */
	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1) {
			if (connect(fd, (struct sockaddr *)&sun,
			    sizeof sun) == 0) {
				close(fd);
				aerr_set(err, AERR_INVALID, "%s: another "
				    "annalsd is listening there", path);
				return (-1);
			}
			close(fd);
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    chmod(path, server->cfg->socket_mode) == -1 ||
	    listen(fd, 511) == -1) {
		if (errno == EACCES || errno == EROFS || errno == ENOTDIR)
			aerr_set(err, AERR_INTERNAL, "listen %s: %s; "
			    SERVER_SOCKET_HINT, path, strerror(errno));
		else
			aerr_set(err, AERR_INTERNAL, "listen %s: %s", path,
			    strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if (server->cfg->socket_group != NULL) {
		struct group	*gr = getgrnam(server->cfg->socket_group);

		if (gr == NULL || chown(path, (uid_t)-1, gr->gr_gid) == -1) {
			aerr_set(err, AERR_INVALID, "--socket-group %s: %s",
			    server->cfg->socket_group, gr == NULL ?
			    "no such group" : strerror(errno));
			close(fd);
			return (-1);
		}
	}
	evutil_make_socket_nonblocking(fd);
	listeners[nlisteners] = evconnlistener_new(server->base,
	    server_accept, NULL, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (listeners[nlisteners] == NULL) {
		close(fd);
		aerr_set(err, AERR_INTERNAL, "evconnlistener_new failed");
		return (-1);
	}
	evconnlistener_set_error_cb(listeners[nlisteners++],
	    server_accept_error);
	return (0);
}

static int
listen_tcp(const char *addr, int allow_remote, struct aerr *err)
{
	struct sockaddr_storage	ss;
	int			len = sizeof ss;

	memset(&ss, 0, sizeof ss);
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss,
	    &len) != 0) {
		aerr_set(err, AERR_INVALID, "--listen %s: not HOST:PORT",
		    addr);
		return (-1);
	}
	if (!allow_remote) {
		int loop = 0;

		if (ss.ss_family == AF_INET)
			loop = (ntohl(((struct sockaddr_in *)&ss)->
			    sin_addr.s_addr) >> 24) == 127;
		else if (ss.ss_family == AF_INET6)
			loop = IN6_IS_ADDR_LOOPBACK(
			    &((struct sockaddr_in6 *)&ss)->sin6_addr);
		if (!loop) {
			aerr_set(err, AERR_INVALID, "--listen %s: not a "
			    "loopback address, and other hosts may only be "
			    "served with --auth-file", addr);
			return (-1);
		}
	}
	listeners[nlisteners] = evconnlistener_new_bind(server->base,
	    server_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	    LEV_OPT_CLOSE_ON_EXEC, 511, (struct sockaddr *)&ss, len);
	if (listeners[nlisteners] == NULL) {
		aerr_set(err, AERR_INTERNAL, "listen %s: %s", addr,
		    strerror(errno));
		return (-1);
	}
	evconnlistener_set_error_cb(listeners[nlisteners++],
	    server_accept_error);
	return (0);
}

int
server_start(struct server *srv, struct aerr *err)
{
	struct timeval	hour = { 3600, 0 };

	conn_init(srv->base);
	resume_ev = evtimer_new(srv->base, server_resume, NULL);
	tidy_ev = event_new(srv->base, -1, EV_PERSIST, server_tidy, NULL);
	evtimer_add(tidy_ev, &hour);
	if (listen_unix(srv->cfg->socket_path, err) != 0)
		return (-1);
	if (srv->cfg->listen != NULL &&
	    listen_tcp(srv->cfg->listen, srv->cfg->allow_remote, err) != 0)
		return (-1);
	return (0);
}

static void
server_close_listeners(void)
{
	size_t	i;

	for (i = 0; i < nlisteners; i++)
		evconnlistener_free(listeners[i]);
	nlisteners = 0;
	if (server->cfg->socket_path != NULL)
		unlink(server->cfg->socket_path);
}

/* Take no new connections: close the listeners (at shutdown). */
void
server_stop_listening(void)
{
	if (nlisteners > 0)
		server_close_listeners();
}

/* Free what the server holds (after the loop has ended). */
void
server_free(void)
{
	if (nlisteners > 0)
		server_close_listeners();
	if (resume_ev != NULL)
		event_free(resume_ev);
	if (tidy_ev != NULL)
		event_free(tidy_ev);
	resume_ev = tidy_ev = NULL;
	conn_fini();
}
