/*
 * Tokens: --auth-file holds one "token scope" per line (scope read or
 * write; write includes read).  When it is given, every connection must
 * present a token in hello before anything but hello and ping.  Tokens are
 * compared in constant time against every line, so neither the position
 * of a match nor the length of a common prefix shows in the timing.
 *
 * Wrong tokens are penalised per peer, not per connection, so neither
 * reconnecting nor a second listener resets the count (issue 15): a TCP
 * peer is its IPv4 address or IPv6 /64, a Unix-socket peer its uid.  The
 * nth failure in a row makes that peer wait 2^(n-1) seconds (up to 32)
 * before anything more of it is answered, the wrong token's answer
 * included.  The table of peers is fixed in size; a new peer takes the
 * slot of the one that failed longest ago.
 */
/* For struct ucred (SO_PEERCRED). */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"

#define AUTH_MAX_TOKEN	256
/* Peers whose failures are remembered. */
#define AUTH_PEERS	1024
/* Failures older than this (ms) are forgotten. */
#define AUTH_FORGET	(10 * 60 * 1000)
/* The longest wait, as a power of two seconds. */
#define AUTH_MAX_SHIFT	5

struct auth_peer {
	char		 key[AUTH_PEER_KEY];
	unsigned	 failures;	/* in a row */
	uint64_t	 last;		/* ms of the last failure */
	uint64_t	 until;		/* ms its penalty ends */
};

static struct auth_peer	 peers[AUTH_PEERS];

struct token {
	unsigned char	 text[AUTH_MAX_TOKEN];
	size_t		 len;
	int		 scope;
};

static struct token	*tokens;
static size_t		 ntokens;
static int		 enabled;

int
auth_enabled(void)
{
	return (enabled);
}

/* Read the token file; any line it cannot read is an error. */
int
auth_load(const char *path, struct aerr *err)
{
	struct stat	 sb;
	char		 line[1024], *tok, *scope, *end;
	unsigned	 lineno = 0;
	FILE		*f;

	if ((f = fopen(path, "r")) == NULL) {
		aerr_set(err, AERR_INVALID, "--auth-file %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 004))
		log_warn("--auth-file %s is readable by everyone", path);
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		tok = line + strspn(line, " \t");
		if (*tok == '#' || *tok == '\n' || *tok == '\0')
			continue;
		end = tok + strcspn(tok, " \t\n");
		scope = end + strspn(end, " \t");
		if (*end != '\0')
			*end = '\0';
		scope[strcspn(scope, " \t\n")] = '\0';
		tokens = xreallocarray(tokens, ntokens + 1, sizeof *tokens);
		memset(&tokens[ntokens], 0, sizeof tokens[ntokens]);
		if (strlen(tok) < 16 || strlen(tok) >= AUTH_MAX_TOKEN) {
			aerr_set(err, AERR_INVALID, "%s:%u: a token must have "
			    "16 to %d characters", path, lineno,
			    AUTH_MAX_TOKEN - 1);
			fclose(f);
			return (-1);
		}
		if (strcmp(scope, "read") == 0)
			tokens[ntokens].scope = AUTH_READ;
		else if (strcmp(scope, "write") == 0)
			tokens[ntokens].scope = AUTH_WRITE;
		else {
			aerr_set(err, AERR_INVALID, "%s:%u: scope must be read "
			    "or write", path, lineno);
			fclose(f);
			return (-1);
		}
		tokens[ntokens].len = strlen(tok);
		memcpy(tokens[ntokens].text, tok, tokens[ntokens].len);
		ntokens++;
	}
	fclose(f);
	if (ntokens == 0) {
		aerr_set(err, AERR_INVALID, "--auth-file %s: no tokens", path);
		return (-1);
	}
	enabled = 1;
	return (0);
}

/* The scope a token grants, AUTH_NONE for a wrong one. */
int
auth_check(const char *given, size_t len)
{
	unsigned char	diff, c;
	size_t		i, t;
	int		scope = AUTH_NONE, match, toolong;

	/*
	 * No token is that long, but the whole of it is compared: cutting
	 * it short would let TOKEN followed by anything through.
	 */
	toolong = len >= AUTH_MAX_TOKEN;
	for (t = 0; t < ntokens; t++) {
		diff = (unsigned char)(tokens[t].len != len || toolong);
		for (i = 0; i < AUTH_MAX_TOKEN; i++) {
			c = i < len ? (unsigned char)given[i] : 0;
			diff |= tokens[t].text[i] ^ c;
		}
		/* match is all ones when diff is 0, without a branch. */
		match = -(int)(((unsigned)diff - 1) >> 8 & 1);
		scope |= tokens[t].scope & match;
	}
	return ((scope & AUTH_WRITE) == AUTH_WRITE ? AUTH_WRITE : scope);
}

/*
 * The key the penalty of fd's peer goes by: its IPv4 address, its IPv6
 * /64 (one host has many addresses there), or the uid of a Unix peer.
 */
void
auth_peer_key(int fd, char *key, size_t size)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct ucred		 cr;
	socklen_t		 len = sizeof ss, clen = sizeof cr;
	char			 addr[INET6_ADDRSTRLEN];

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1) {
		snprintf(key, size, "unknown");
		return;
	}
	if (ss.ss_family == AF_UNIX) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &clen) == 0)
			snprintf(key, size, "uid %u", (unsigned)cr.uid);
		else
			snprintf(key, size, "unix");
	} else if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    addr, sizeof addr);
		snprintf(key, size, "%s", addr);
	} else if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], addr,
		    sizeof addr);
		snprintf(key, size, "%s", addr);
	} else if (ss.ss_family == AF_INET6) {
		memset(&sin6->sin6_addr.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof addr);
		snprintf(key, size, "%s/64", addr);
	} else
		snprintf(key, size, "family %d", (int)ss.ss_family);
}

static struct auth_peer *
auth_peer_find(const char *key)
{
	size_t	i;

	for (i = 0; i < AUTH_PEERS && peers[i].key[0] != '\0'; i++) {
		if (strcmp(peers[i].key, key) == 0)
			return (&peers[i]);
	}
	return (NULL);
}

/* A wrong token from key: the ms it now waits, its answer included. */
uint64_t
auth_failed(const char *key)
{
	struct auth_peer	*p;
	uint64_t		 now = now_ms(), delay;
	size_t			 i;

	if ((p = auth_peer_find(key)) == NULL) {
		/* An empty slot, else the one that failed longest ago. */
		p = &peers[0];
		for (i = 0; i < AUTH_PEERS; i++) {
			if (peers[i].key[0] == '\0') {
				p = &peers[i];
				break;
			}
			if (peers[i].last < p->last)
				p = &peers[i];
		}
		memset(p, 0, sizeof *p);
		snprintf(p->key, sizeof p->key, "%s", key);
	}
	if (now - p->last > AUTH_FORGET)
		p->failures = 0;
	if (p->failures <= AUTH_MAX_SHIFT)
		p->failures++;
	delay = (uint64_t)1000 << (p->failures - 1);
	p->last = now;
	p->until = now + delay;
	return (delay);
}

/* The ms key must still wait before it is answered; 0: none. */
uint64_t
auth_wait(const char *key)
{
	struct auth_peer	*p;
	uint64_t		 now = now_ms();

	if ((p = auth_peer_find(key)) == NULL || p->until <= now)
		return (0);
	return (p->until - now);
}

void
auth_free(void)
{
	if (tokens != NULL)
		memset(tokens, 0, ntokens * sizeof *tokens);
	free(tokens);
	tokens = NULL;
	ntokens = 0;
	enabled = 0;
}
