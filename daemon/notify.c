/*
 * sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET.  systemd
 * (Type=notify) and the test harness both wait for READY=1 this way.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annalsd.h"

static int	notify_fd = -1;

/*
 * Connect to $NOTIFY_SOCKET while we may still do so: after --user drops
 * privileges the socket may no longer be writable for us.
 */
void
notify_init(void)
{
	struct sockaddr_un	 sun;
	const char		*path;
	socklen_t		 len;
	size_t			 plen;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || *path == '\0')
		return;
	plen = strlen(path);
	if (plen >= sizeof sun.sun_path) {
		log_warn("NOTIFY_SOCKET path too long");
		return;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	/* "@name" is a socket in the abstract namespace. */
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if ((notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (connect(notify_fd, (struct sockaddr *)&sun, len) == -1) {
		log_warn("NOTIFY_SOCKET %s: connect failed", path);
		close(notify_fd);
		notify_fd = -1;
	}
}

void
notify_send(const char *state)
{
	if (notify_fd == -1)
		return;
	if (send(notify_fd, state, strlen(state), MSG_NOSIGNAL) == -1)
		log_debug("notify %s: send failed", state);
}

void
notify_close(void)
{
	if (notify_fd != -1)
		close(notify_fd);
	notify_fd = -1;
}
