/*
 * The client's cost of one reply page, without a daemon: a page of 100
 * records packed as annalsd packs a range reply is written into a socket
 * whose other end a libannals context holds, and annals_range() with
 * annals_iter_next() take it apart, BENCH_DECODE_PAGES times (default
 * 20000).  The request each iteration sends is read and dropped.
 *
 * Pages: the synthetic records of make bench whole, the same cut to
 * RANGE_FIELDS (range-fields-1c), and GDELT rows with their attrs when
 * BENCH_DATA (default ../shared/data) has the samples.  For each it
 * prints the CPU time of the client's work per page (the thread's own
 * clock, which a busy machine disturbs far less than latency), around
 * bench_decode_page() only.  For an instruction count that load does not
 * move at all, run it under callgrind with
 * --toggle-collect=bench_decode_page and divide by the pages;
 * BENCH_DECODE_ONLY=NAME runs only the page of that name.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "../../client/annals.h"
#include "../../proto/proto.h"

#define DECODE_LIMIT	100
#define DECODE_WARMUP	200

struct decode_page {
	const char	*name;
	const char	*fields;	/* NULL: whole records */
	msgpack_sbuffer	 frame;		/* prefix and body */
	size_t		 msgid_at;	/* of the uint32 msgid in frame */
};

static void
decode_fatal(const char *what)
{
	fprintf(stderr, "bench-decode: %s\n", what);
	exit(1);
}

/* Record i as annalsd sends it back: decoded, given an id, packed. */
static void
decode_record(uint64_t i, uint32_t set, msgpack_sbuffer *out)
{
	static struct gen_rec	 r;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 up;
	struct event		 ev;
	struct aerr		 err;
	unsigned char		 buf[16384];
	size_t			 n;

	gen_record(i, &r);
	if ((n = gen_pack(&r, buf, sizeof buf)) == 0)
		decode_fatal("gen_pack");
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, (const char *)buf, n, NULL) !=
	    MSGPACK_UNPACK_SUCCESS)
		decode_fatal("unpack a generated record");
	if (record_decode(&up.data, &ev, &err) != 0) {
		fprintf(stderr, "bench-decode: record %llu: %s\n",
		    (unsigned long long)i, err.msg);
		exit(1);
	}
	msgpack_unpacked_destroy(&up);
	ev.id = i + 1;
	ev.rev = 1;
	ev.created = ev.updated = 1700000000000ULL + i;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	record_pack(&pk, &ev);
	fields_write(out, sb.data, sb.size, set);
	msgpack_sbuffer_destroy(&sb);
	record_clear(&ev);
}

/*
 * [1, msgid, nil, {"events": [...], "matches": [...], "cursor": nil}],
 * with the msgid a uint32 always, so that each iteration can patch it.
 */
static void
decode_page_make(struct decode_page *p, uint32_t set)
{
	static const unsigned char head[] = { 0x94, 0x01, 0xce, 0, 0, 0, 0,
	    0xc0 };
	static const unsigned char events[] = { 0xdd, 0, 0, 0, DECODE_LIMIT };
	msgpack_sbuffer	*sb = &p->frame;
	msgpack_packer	 pk;
	unsigned char	 hdr[PROTO_FRAME_HEADER] = { 0 };
	uint64_t	 i;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_sbuffer_write(sb, (const char *)hdr, sizeof hdr);
	msgpack_sbuffer_write(sb, (const char *)head, sizeof head);
	p->msgid_at = PROTO_FRAME_HEADER + 3;
	msgpack_pack_map(&pk, 3);
	mp_pack_str(&pk, "events");
	msgpack_sbuffer_write(sb, (const char *)events, sizeof events);
	for (i = 0; i < DECODE_LIMIT; i++)
		decode_record(i * 7919, set, sb);
	mp_pack_str(&pk, "matches");
	msgpack_pack_array(&pk, DECODE_LIMIT);
	for (i = 0; i < DECODE_LIMIT; i++)
		mp_pack_str(&pk, i % 3 ? "certain" : "possible");
	mp_pack_str(&pk, "cursor");
	msgpack_pack_nil(&pk);
	frame_header((unsigned char *)sb->data,
	    (uint32_t)(sb->size - PROTO_FRAME_HEADER));
}

static uint64_t
decode_cpu_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* The work measured: one query whose page is waiting in the socket. */
__attribute__((noinline)) int
bench_decode_page(annals_ctx *, const annals_query *);
__attribute__((noinline)) int
bench_decode_page(annals_ctx *ctx, const annals_query *q)
{
	annals_iter	*it;
	int		 n = 0;

	if ((it = annals_range(ctx, q)) == NULL)
		return (-1);
	while (annals_iter_next(it) != NULL)
		n++;
	if (annals_iter_error(it) != 0)
		n = -1;
	annals_iter_free(it);
	return (n);
}

static void
decode_send(int fd, const void *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			decode_fatal("send a page");
		}
		p = (const char *)p + n;
		len -= n;
	}
}

/* Drop the requests the client sent. */
static void
decode_drain(int fd)
{
	char	buf[4096];

	while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
}

/* A context connected to a socket of ours: *peer is the daemon's end. */
static annals_ctx *
decode_connect(const char *dir, int *peer)
{
	struct sockaddr_un	 sun;
	annals_ctx		*ctx;
	int			 lfd, size = 4 << 20;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/s", dir);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(lfd, 1) == -1)
		decode_fatal("listen");
	unsetenv("ANNALS_TOKEN");
	ctx = annals_connect(sun.sun_path);
	if (ctx == NULL || annals_errcode(ctx) != 0)
		decode_fatal("connect");
	if ((*peer = accept(lfd, NULL, NULL)) == -1)
		decode_fatal("accept");
	setsockopt(*peer, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	close(lfd);
	unlink(sun.sun_path);
	return (ctx);
}

static void
decode_run(struct decode_page *p, const char *dir, uint64_t pages)
{
	annals_ctx	*ctx;
	annals_query	*q;
	unsigned char	*m;
	uint64_t	 i, ns = 0, t0;
	uint32_t	 msgid;
	int		 peer, n;

	ctx = decode_connect(dir, &peer);
	if ((q = annals_query_new()) == NULL ||
	    annals_query_set_range(q, "2015-01-01", "2015-01-30") != 0 ||
	    annals_query_set_page_size(q, DECODE_LIMIT) != 0 ||
	    (p->fields != NULL && annals_query_set_fields(q, p->fields) != 0))
		decode_fatal("query");
	m = (unsigned char *)p->frame.data + p->msgid_at;
	for (i = 0; i < DECODE_WARMUP + pages; i++) {
		/* The context numbers its requests 1, 2, ... */
		msgid = (uint32_t)i + 1;
		m[0] = msgid >> 24;
		m[1] = msgid >> 16;
		m[2] = msgid >> 8;
		m[3] = msgid;
		decode_send(peer, p->frame.data, p->frame.size);
		t0 = decode_cpu_ns();
		n = bench_decode_page(ctx, q);
		if (i >= DECODE_WARMUP)
			ns += decode_cpu_ns() - t0;
		if (n != DECODE_LIMIT) {
			fprintf(stderr, "bench-decode: %s: %d events: %s\n",
			    p->name, n, annals_errmsg(ctx));
			exit(1);
		}
		decode_drain(peer);
	}
	printf("%-14s %7zu %8llu %10.0f\n", p->name, p->frame.size,
	    (unsigned long long)pages, (double)ns / (double)pages);
	annals_query_free(q);
	annals_free(ctx);
	close(peer);
}

int
main(void)
{
	struct decode_page	 pages[3];
	const char		*s, *data, *only;
	char			 dir[] = "/tmp/bench-decode.XXXXXX";
	uint64_t		 n = 20000;
	uint32_t		 set;
	size_t			 np = 0, i;

	if ((s = getenv("BENCH_DECODE_PAGES")) != NULL && *s != '\0')
		n = strtoull(s, NULL, 10);
	if ((data = getenv("BENCH_DATA")) == NULL || *data == '\0')
		data = "../shared/data";
	if (mkdtemp(dir) == NULL)
		decode_fatal("mkdtemp");

	gen_init(GEN_SYNTH, NULL);
	pages[np].name = "synth";
	pages[np].fields = NULL;
	decode_page_make(&pages[np++], RECORD_FIELDS_ALL);
	if (fields_parse(RANGE_FIELDS, &set, &(struct aerr){ 0 }) != 0)
		decode_fatal("fields");
	pages[np].name = "synth-fields";
	pages[np].fields = RANGE_FIELDS;
	decode_page_make(&pages[np++], set);
	if (gen_init(GEN_GDELT, data) == 0) {
		pages[np].name = "gdelt";
		pages[np].fields = NULL;
		decode_page_make(&pages[np++], RECORD_FIELDS_ALL);
	} else
		fprintf(stderr, "bench-decode: no GDELT page\n");

	printf("client CPU per reply page of %d records, decoded by "
	    "annals_range() and annals_iter_next()\n", DECODE_LIMIT);
	printf("%-14s %7s %8s %10s\n", "page", "bytes", "pages", "ns/page");
	only = getenv("BENCH_DECODE_ONLY");
	for (i = 0; i < np; i++) {
		if (only == NULL || *only == '\0' ||
		    strcmp(only, pages[i].name) == 0)
			decode_run(&pages[i], dir, n);
		msgpack_sbuffer_destroy(&pages[i].frame);
	}
	rmdir(dir);
	return (0);
}
