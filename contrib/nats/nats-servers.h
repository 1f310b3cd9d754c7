/*
 * The NATS URL option of annals-nats and annalsd --follow: one
 * nats://HOST:PORT, or several comma-separated for a cluster, which
 * libnats wants as an array (natsOptions_SetURL takes one).  Included by
 * contrib/nats/annals-nats.c and daemon/replica.c, after <nats/nats.h>.
 */
#ifndef ANNALS_NATS_SERVERS_H
#define ANNALS_NATS_SERVERS_H

#include <stdio.h>
#include <string.h>

#define NATS_SERVERS_MAX	16
#define NATS_SERVERS_BYTES	1024

static natsStatus
nats_set_servers(natsOptions *opts, const char *list)
{
	char		 buf[NATS_SERVERS_BYTES], *p, *save = NULL;
	const char	*urls[NATS_SERVERS_MAX];
	int		 n = 0;

	if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf)
		return (NATS_INVALID_ARG);
	for (p = strtok_r(buf, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (n == NATS_SERVERS_MAX)
			return (NATS_INVALID_ARG);
		urls[n++] = p;
	}
	if (n == 0)
		return (NATS_INVALID_ARG);
	/* libnats copies the strings. */
	return (natsOptions_SetServers(opts, urls, n));
}

#endif
