/*
 * Tickets for the change stream.  An EventSource cannot send headers, so
 * a page that holds a token cannot present it on GET /v1/changes.
 * Instead it asks POST /v1/tickets (with its token, read scope is
 * enough) for a ticket and opens the stream with ?ticket=TICKET.  A
 * ticket is 32 bytes from getrandom(2) in base64url, opens one event
 * stream within HTTP_TICKET_TTL ms of being issued and nothing else, and
 * is gone once used: an address that is logged, kept in a history or
 * seen over a shoulder is worth nothing a minute later.
 *
 * Why not a cookie: the browser would send it with every request to
 * this server, from any page (ambient authority, so cross-site requests
 * would carry it), and it would outlive the page.  A ticket is sent only
 * where the page puts it.
 *
 * The table is fixed in size: past HTTP_TICKETS live tickets, a new one
 * takes the place of the one issued first.  Tickets are not compared
 * with strcmp: each lookup reads every slot whole (auth.c's tokens do
 * the same), so timing tells nothing of how much of a guess was right.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "annalsd.h"
#include "http.h"

#define HTTP_TICKET_BYTES	32
/* Its base64url length, unpadded. */
#define HTTP_TICKET_LEN		43

struct http_ticket {
	char		 text[HTTP_TICKET_LEN];
	uint64_t	 issued;	/* ms; 0: a free slot */
};

static struct http_ticket	tickets[HTTP_TICKETS];

/* Free the slots of tickets past their time. */
static void
http_ticket_expire(uint64_t now)
{
	size_t	i;

	for (i = 0; i < HTTP_TICKETS; i++) {
		if (tickets[i].issued != 0 &&
		    now - tickets[i].issued >= HTTP_TICKET_TTL) {
			explicit_bzero(&tickets[i], sizeof tickets[i]);
		}
	}
}

/*
 * A new ticket in out (size at least HTTP_TICKET_SIZE), and when it
 * expires (ms since the epoch) in *expires; -1 with err when the system
 * has no randomness to give.
 */
int
http_ticket_new(char *out, size_t size, uint64_t *expires, struct aerr *err)
{
	unsigned char	 raw[HTTP_TICKET_BYTES];
	uint64_t	 now = now_ms();
	size_t		 i, slot = 0;
	ssize_t		 n;

	if (size < HTTP_TICKET_SIZE)
		fatalx("http_ticket_new: buffer of %zu bytes", size);
	if ((n = getrandom(raw, sizeof raw, 0)) != (ssize_t)sizeof raw) {
		aerr_set(err, AERR_INTERNAL, "getrandom: %s", n == -1 ?
		    strerror(errno) : "short read");
		return (-1);
	}
	http_ticket_expire(now);
	for (i = 0; i < HTTP_TICKETS; i++) {
		if (tickets[i].issued == 0) {
			slot = i;
			break;
		}
		if (tickets[i].issued < tickets[slot].issued)
			slot = i;
	}
	b64url_encode(raw, sizeof raw, out, size);
	explicit_bzero(raw, sizeof raw);
	memcpy(tickets[slot].text, out, HTTP_TICKET_LEN);
	/* Never 0, which marks a free slot. */
	tickets[slot].issued = now != 0 ? now : 1;
	*expires = tickets[slot].issued + HTTP_TICKET_TTL;
	return (0);
}

/*
 * Whether given (len bytes) is a live ticket; if so it is used up.  Every
 * slot is compared whole, whatever matched before.
 */
int
http_ticket_take(const char *given, size_t len)
{
	unsigned char	 diff, c;
	size_t		 i, k, found = 0;

	http_ticket_expire(now_ms());
	for (k = 0; k < HTTP_TICKETS; k++) {
		diff = (unsigned char)(len != HTTP_TICKET_LEN ||
		    tickets[k].issued == 0);
		for (i = 0; i < HTTP_TICKET_LEN; i++) {
			c = i < len ? (unsigned char)given[i] : 0;
			diff |= (unsigned char)tickets[k].text[i] ^ c;
		}
		/* k + 1 when diff is 0, else 0, without a branch. */
		found |= (k + 1) & (size_t)-(((unsigned)diff - 1) >> 8 & 1);
	}
	if (found == 0)
		return (0);
	explicit_bzero(&tickets[found - 1], sizeof tickets[found - 1]);
	return (1);
}

/* Forget every ticket (at exit, and for tests of a fresh table). */
void
http_ticket_free(void)
{
	explicit_bzero(tickets, sizeof tickets);
}
