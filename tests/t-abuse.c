/*
 * Hostile clients against the real annalsd: random and mutated frames,
 * frames cut into single bytes, counts that announce far more than the
 * frame holds, deep nesting, frames at and far over the size limit,
 * thousands of idle connections, and a client that never reads.
 *
 * After each class the daemon must still be running, a fresh client
 * must get answers, the events stored before must be there unchanged,
 * and the daemon's resident memory (VmRSS, and its peak VmHWM, from
 * /proc/PID/status) must stay under a generous bound.  Each test prints
 * the figures; the random ones print their seed (ANNALS_TEST_SEED).
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "harness.h"
#include "test.h"
#include "../proto/proto.h"

/*
 * The bound on the daemon's peak resident memory.  The largest frame
 * (16 MiB) is held once in the input buffer and once pulled up; ASan's
 * quarantine keeps freed blocks around, so it gets more room.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ABUSE_SAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ABUSE_SAN	1
#endif
#endif
#ifdef ABUSE_SAN
#define ABUSE_MAX_RSS_KB	(512L * 1024)
#else
#define ABUSE_MAX_RSS_KB	(256L * 1024)
#endif

#define ABUSE_GOOD	20		/* events stored before the abuse */
#define ABUSE_BUF	(17u << 20)	/* a whole frame of the largest size */
#define ABUSE_WAIT_MS	10000

static unsigned char	*abuse_rbuf;

/* VmRSS and VmHWM of pid, in KiB. */
static void
abuse_rss(pid_t pid, long *rss, long *hwm)
{
	*rss = th_status_kb(pid, "VmRSS");
	*hwm = th_status_kb(pid, "VmHWM");
}

/* An error's message goes as a str: it must be UTF-8 (PROTOCOL.md 2). */
static void
abuse_check_message(const struct msg *m, const char *what)
{
	const msgpack_object	*text;

	if (m->error == NULL || m->error->type != MSGPACK_OBJECT_MAP)
		return;
	text = mp_get(m->error, "message");
	T_ASSERTF(text != NULL && text->type == MSGPACK_OBJECT_STR &&
	    utf8_valid(text->via.str.ptr, text->via.str.size),
	    "%s: error message is not a UTF-8 str", what);
}

/* Read one response, check its shape and msgid; u holds it after. */
static struct msg
abuse_response(int fd, uint32_t msgid, msgpack_unpacked *u)
{
	struct msg	m;
	struct aerr	err;
	ssize_t		n;

	if (abuse_rbuf == NULL)
		T_ASSERT((abuse_rbuf = malloc(ABUSE_BUF)) != NULL);
	n = th_read_frame(fd, abuse_rbuf, ABUSE_BUF, ABUSE_WAIT_MS);
	T_ASSERTF(n >= 0, "no response to request %u", msgid);
	T_OK(frame_check(abuse_rbuf, (size_t)n, &err));
	msgpack_unpacked_init(u);
	T_ASSERT(msgpack_unpack_next(u, (const char *)abuse_rbuf, (size_t)n,
	    NULL) == MSGPACK_UNPACK_SUCCESS);
	T_OK(msg_parse(&u->data, &m, &err));
	T_EQ_INT(m.type, MSG_RESPONSE);
	T_EQ_INT(m.msgid, msgid);
	abuse_check_message(&m, "response");
	return (m);
}

/* The error code of a response (AERR_OK for none), its message in text. */
static int
abuse_code(const struct msg *m, char *text, size_t size)
{
	struct aerr	err;

	aerr_clear(&err);
	if (msg_error(m->error, &err) == 0)
		err.code = AERR_OK;
	if (text != NULL)
		snprintf(text, size, "%s", err.msg);
	return (err.code);
}

/* Send [0, msgid, method, [params]] where params is a packed map or NULL. */
static void
abuse_request(int fd, uint32_t msgid, const char *method,
    const msgpack_sbuffer *params)
{
	T_OK(th_send_request(fd, msgid, method,
	    params != NULL ? params->data : NULL,
	    params != NULL ? params->size : 0));
}

static void
abuse_expect_code(int fd, uint32_t msgid, int code, const char *what)
{
	msgpack_unpacked	u;
	struct msg		m;
	char			text[256];

	m = abuse_response(fd, msgid, &u);
	T_ASSERTF(abuse_code(&m, text, sizeof text) == code, "%s: code %d "
	    "(%s), want %d", what, abuse_code(&m, NULL, 0), text, code);
	msgpack_unpacked_destroy(&u);
}

static void
abuse_ping(int fd, uint32_t msgid)
{
	msgpack_unpacked	u;
	struct msg		m;

	abuse_request(fd, msgid, "ping", NULL);
	m = abuse_response(fd, msgid, &u);
	T_EQ_INT(abuse_code(&m, NULL, 0), AERR_OK);
	T_ASSERT(m.result->type == MSGPACK_OBJECT_STR &&
	    m.result->via.str.size == 4 &&
	    memcmp(m.result->via.str.ptr, "pong", 4) == 0);
	msgpack_unpacked_destroy(&u);
}

static void
abuse_pack_record(msgpack_packer *pk, const char *source, const char *key,
    const char *start, const char *title)
{
	msgpack_pack_map(pk, 5);
	mp_pack_kv_str(pk, "source", source);
	mp_pack_kv_str(pk, "key", key);
	mp_pack_kv_str(pk, "start", start);
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, 1);
	mp_pack_str(pk, "RUS");
	mp_pack_kv_str(pk, "title", title);
}

/* Store the good events: source "good", keys g0.., titles "good N". */
static void
abuse_store_good(const char *sock)
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
	char		key[16], title[32], start[16];
	int		fd, i;

	T_ASSERT((fd = th_raw_connect(sock)) >= 0);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_pack_str(&pk, "records");
	msgpack_pack_array(&pk, ABUSE_GOOD);
	for (i = 0; i < ABUSE_GOOD; i++) {
		snprintf(key, sizeof key, "g%d", i);
		snprintf(title, sizeof title, "good %d", i);
		snprintf(start, sizeof start, "2015-01-%02d", i + 1);
		abuse_pack_record(&pk, "good", key, start, title);
	}
	abuse_request(fd, 1, "put", &sb);
	abuse_expect_code(fd, 1, AERR_OK, "storing the good events");
	msgpack_sbuffer_destroy(&sb);
	close(fd);
}

/*
 * After a class of abuse: the daemon runs, a new client is answered,
 * every good event is there at rev 1 with its title, and memory is
 * bounded.  Prints the figures.
 */
static void
abuse_after(const struct th_daemon *d, const char *what)
{
	msgpack_unpacked	 u;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	struct msg		 m;
	const msgpack_object	*ev, *v;
	struct aerr		 err;
	uint64_t		 rev;
	char			 key[16], title[32];
	long			 rss, hwm;
	int			 fd, i, status;

	T_ASSERTF(waitpid(d->pid, &status, WNOHANG) == 0,
	    "%s: annalsd is gone (status %d)", what, status);
	T_ASSERT((fd = th_raw_connect(d->sock)) >= 0);
	abuse_ping(fd, 9000);
	for (i = 0; i < ABUSE_GOOD; i++) {
		snprintf(key, sizeof key, "g%d", i);
		snprintf(title, sizeof title, "good %d", i);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 2);
		mp_pack_kv_str(&pk, "source", "good");
		mp_pack_kv_str(&pk, "key", key);
		abuse_request(fd, 9001 + i, "get_by_key", &sb);
		msgpack_sbuffer_destroy(&sb);
		m = abuse_response(fd, 9001 + i, &u);
		T_ASSERTF(abuse_code(&m, NULL, 0) == AERR_OK, "%s: %s lost",
		    what, key);
		ev = mp_get(m.result, "event");
		v = mp_get(ev, "title");
		T_ASSERTF(v != NULL && v->type == MSGPACK_OBJECT_STR &&
		    v->via.str.size == strlen(title) &&
		    memcmp(v->via.str.ptr, title, strlen(title)) == 0,
		    "%s: %s changed", what, key);
		T_OK(mp_uint(mp_get(ev, "rev"), "rev", &rev, &err));
		T_EQ_U64(rev, 1);
		msgpack_unpacked_destroy(&u);
	}
	close(fd);
	abuse_rss(d->pid, &rss, &hwm);
	printf("after %s: annalsd VmRSS %ld KiB, peak VmHWM %ld KiB\n", what,
	    rss, hwm);
	T_ASSERTF(hwm < ABUSE_MAX_RSS_KB, "%s: peak RSS %ld KiB over %ld KiB",
	    what, hwm, ABUSE_MAX_RSS_KB);
}

/*
 * Read whatever the daemon answers until it closes the connection
 * (within ABUSE_WAIT_MS): every frame must be a well-formed response.
 * Returns the number of responses.
 */
static int
abuse_drain(int fd, const char *what)
{
	struct msg	m;
	struct aerr	err;
	msgpack_unpacked u;
	struct pollfd	pfd = { fd, POLLIN, 0 };
	unsigned char	hdr[PROTO_FRAME_HEADER];
	uint32_t	len;
	size_t		got;
	ssize_t		n;
	int		count = 0;

	if (abuse_rbuf == NULL)
		T_ASSERT((abuse_rbuf = malloc(ABUSE_BUF)) != NULL);
	for (;;) {
		got = 0;
		while (got < sizeof hdr) {
			T_ASSERTF(poll(&pfd, 1, ABUSE_WAIT_MS) == 1,
			    "%s: connection not closed", what);
			n = read(fd, hdr + got, sizeof hdr - got);
			if (n <= 0 && got == 0)
				return (count);
			T_ASSERTF(n > 0, "%s: closed inside a frame prefix",
			    what);
			got += (size_t)n;
		}
		T_ASSERTF(frame_peek(hdr, sizeof hdr, ABUSE_BUF, &len,
		    &err) == 1, "%s: bad reply prefix", what);
		for (got = 0; got < len; got += (size_t)n) {
			T_ASSERT(poll(&pfd, 1, ABUSE_WAIT_MS) == 1);
			n = read(fd, abuse_rbuf + got, len - got);
			T_ASSERTF(n > 0, "%s: closed inside a reply", what);
		}
		T_ASSERTF(frame_check(abuse_rbuf, len, &err) == 0,
		    "%s: reply: %s", what, err.msg);
		msgpack_unpacked_init(&u);
		T_ASSERT(msgpack_unpack_next(&u, (const char *)abuse_rbuf, len,
		    NULL) == MSGPACK_UNPACK_SUCCESS);
		T_ASSERTF(msg_parse(&u.data, &m, &err) == 0 &&
		    (m.type == MSG_RESPONSE || m.type == MSG_NOTIFY),
		    "%s: reply is no response", what);
		abuse_check_message(&m, what);
		msgpack_unpacked_destroy(&u);
		count++;
	}
}

/* A request as some client might send it: any method, plausible params. */
static void
abuse_random_request(msgpack_sbuffer *sb, uint32_t msgid)
{
	static const char *const methods[] = {
		"ping", "hello", "stats", "range", "actor", "actors", "get",
		"get_by_key", "put", "nope", "changes", "histogram",
		"top_actors", "co_actors", "check", "subscribe"
	};
	static const char *const dates[] = {
		"2015", "2015-01-28", "2014~", "201X", "2011-03-15/..",
		"2015-21", "-0044-03-15", "2015-02-30"
	};
	msgpack_packer	 pk;
	const char	*method;
	char		 key[32];

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	method = methods[rand() % (sizeof methods / sizeof methods[0])];
	msg_pack_request(&pk, msgid, method);
	msgpack_pack_array(&pk, 1);
	if (strcmp(method, "range") == 0 || strcmp(method, "actor") == 0) {
		msgpack_pack_map(&pk, 4);
		mp_pack_kv_str(&pk, "from", dates[rand() % 8]);
		mp_pack_kv_str(&pk, "to", "2016");
		mp_pack_kv_str(&pk, "actor", rand() % 2 ? "RUS" : "SYR*");
		mp_pack_kv_uint(&pk, "limit", 1 + rand() % 50);
	} else if (strcmp(method, "get") == 0) {
		msgpack_pack_map(&pk, 1);
		mp_pack_str(&pk, "ids");
		msgpack_pack_array(&pk, 3);
		msgpack_pack_uint64(&pk, 1);
		msgpack_pack_uint64(&pk, (uint64_t)rand());
		msgpack_pack_uint64(&pk, UINT64_MAX);
	} else if (strcmp(method, "put") == 0) {
		/* Never an id: only events of their own source may change. */
		snprintf(key, sizeof key, "r%d", rand() % 1000);
		msgpack_pack_map(&pk, 1);
		mp_pack_str(&pk, "records");
		msgpack_pack_array(&pk, 1);
		abuse_pack_record(&pk, "random", key, dates[rand() % 8],
		    "random event");
	} else if (strcmp(method, "get_by_key") == 0) {
		msgpack_pack_map(&pk, 2);
		mp_pack_kv_str(&pk, "source", "good");
		mp_pack_kv_str(&pk, "key", "g1");
	} else if (strcmp(method, "actors") == 0) {
		msgpack_pack_map(&pk, 2);
		mp_pack_kv_str(&pk, "prefix", "R");
		mp_pack_kv_uint(&pk, "limit", 10);
	} else
		msgpack_pack_map(&pk, 0);
}

/* Bytes that make msgpack interesting: counts, lengths, containers. */
static const unsigned char abuse_magic[] = {
	0xc0, 0xc1, 0xc4, 0xc5, 0xc6, 0xc7, 0xc9, 0xd9, 0xda, 0xdb, 0xdc,
	0xdd, 0xde, 0xdf, 0xff, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0
};

/* Change buf (len bytes, room for size) in one of a few ways. */
static size_t
abuse_mutate(unsigned char *buf, size_t len, size_t size)
{
	size_t	at, n;

	if (len == 0)
		return (0);
	at = (size_t)rand() % len;
	switch (rand() % 7) {
	case 0:		/* flip a bit */
		buf[at] ^= 1u << (rand() % 8);
		break;
	case 1:		/* any byte */
		buf[at] = (unsigned char)rand();
		break;
	case 2:		/* a byte msgpack reads as a count or a length */
		buf[at] = abuse_magic[rand() % (sizeof abuse_magic - 1)];
		break;
	case 3:		/* insert a byte */
		if (len < size) {
			memmove(buf + at + 1, buf + at, len - at);
			buf[at] = (unsigned char)rand();
			len++;
		}
		break;
	case 4:		/* delete a byte */
		memmove(buf + at, buf + at + 1, len - at - 1);
		len--;
		break;
	case 5:		/* cut */
		len = at;
		break;
	case 6:		/* repeat a piece */
		n = (size_t)rand() % (len - at) + 1;
		if (len + n <= size) {
			memmove(buf + at + n, buf + at, len - at);
			len += n;
		}
		break;
	}
	return (len);
}

TEST(abuse_random_and_mutated_frames)
{
	struct th_daemon	 d;
	msgpack_sbuffer		 sb;
	unsigned char		 buf[8192], out[8192 + PROTO_FRAME_HEADER];
	size_t			 len, olen, i;
	int			 fd, round, k, replies = 0, kind;
	int			 rounds = 2000;

	srand(t_seed());
	printf("seed %u\n", t_seed());
	T_OK(th_daemon_start(&d, NULL));
	abuse_store_good(d.sock);
	for (round = 0; round < rounds; round++) {
		kind = rand() % 10;
		if (kind == 0) {
			/* Noise, sometimes behind a plausible prefix. */
			len = (size_t)rand() % 300;
			for (i = 0; i < len; i++)
				buf[i] = (unsigned char)rand();
		} else {
			msgpack_sbuffer_init(&sb);
			abuse_random_request(&sb, (uint32_t)round);
			len = sb.size < sizeof buf ? sb.size : sizeof buf;
			memcpy(buf, sb.data, len);
			msgpack_sbuffer_destroy(&sb);
			for (k = rand() % 4; k >= 0; k--)
				len = abuse_mutate(buf, len, sizeof buf);
		}
		/* Mostly the true length, sometimes not, sometimes noise. */
		olen = (size_t)(rand() % 10 == 0 ? rand() % 5000 : (int)len);
		frame_header(out, (uint32_t)olen);
		if (rand() % 20 == 0)
			out[rand() % PROTO_FRAME_HEADER] =
			    (unsigned char)rand();
		memcpy(out + PROTO_FRAME_HEADER, buf, len);

		T_ASSERT((fd = th_raw_connect(d.sock)) >= 0);
		/* The daemon may hang up half-way: that is allowed. */
		(void)th_send_all(fd, out, PROTO_FRAME_HEADER + len);
		shutdown(fd, SHUT_WR);
		replies += abuse_drain(fd, "mutated frame");
		close(fd);
		if (round % 500 == 499)
			abuse_after(&d, "random and mutated frames");
	}
	printf("%d frames sent, %d replies\n", rounds, replies);
	T_ASSERT(replies > rounds / 2);
	abuse_after(&d, "random and mutated frames");
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(abuse_frames_split_into_single_bytes)
{
	static const char *const methods[] = {
		"hello", "put", "get_by_key", "range", "ping", "stats"
	};
	struct th_daemon	 d;
	msgpack_sbuffer		 sb, params;
	msgpack_packer		 pk;
	unsigned char		 hdr[PROTO_FRAME_HEADER];
	size_t			 i, cut;
	uint32_t		 id;
	int			 fd;

	T_OK(th_daemon_start(&d, NULL));
	abuse_store_good(d.sock);
	T_ASSERT((fd = th_raw_connect(d.sock)) >= 0);

	/* A pipeline of every kind of request, one byte per send(). */
	msgpack_sbuffer_init(&sb);
	for (id = 1; id <= 6; id++) {
		msgpack_sbuffer_init(&params);
		msgpack_packer_init(&pk, &params, msgpack_sbuffer_write);
		msg_pack_request(&pk, id, methods[id - 1]);
		msgpack_pack_array(&pk, 1);
		if (id == 2) {
			msgpack_pack_map(&pk, 1);
			mp_pack_str(&pk, "records");
			msgpack_pack_array(&pk, 1);
			abuse_pack_record(&pk, "split", "s1", "2015-03",
			    "split up");
		} else if (id == 3) {
			msgpack_pack_map(&pk, 2);
			mp_pack_kv_str(&pk, "source", "split");
			mp_pack_kv_str(&pk, "key", "s1");
		} else
			msgpack_pack_map(&pk, 0);
		frame_header(hdr, (uint32_t)params.size);
		msgpack_sbuffer_write(&sb, (const char *)hdr, sizeof hdr);
		msgpack_sbuffer_write(&sb, params.data, params.size);
		msgpack_sbuffer_destroy(&params);
	}
	for (i = 0; i < sb.size; i++)
		T_OK(th_send_all(fd, sb.data + i, 1));
	for (id = 1; id <= 6; id++)
		abuse_expect_code(fd, id, AERR_OK, "split pipeline");
	msgpack_sbuffer_destroy(&sb);

	/* One ping cut at every place, the halves sent apart. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msg_pack_request(&pk, 7, "ping");
	msgpack_pack_array(&pk, 0);
	frame_header(hdr, (uint32_t)sb.size);
	for (cut = 1; cut < sizeof hdr + sb.size; cut++) {
		unsigned char	whole[64];

		memcpy(whole, hdr, sizeof hdr);
		memcpy(whole + sizeof hdr, sb.data, sb.size);
		T_OK(th_send_all(fd, whole, cut));
		usleep(2000);
		T_OK(th_send_all(fd, whole + cut, sizeof hdr + sb.size - cut));
		abuse_expect_code(fd, 7, AERR_OK, "ping cut in two");
	}
	msgpack_sbuffer_destroy(&sb);
	close(fd);
	abuse_after(&d, "frames split into single bytes");
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(abuse_counts_beyond_the_frame_and_deep_nesting)
{
	/* Request bodies whose last part announces more than there is. */
#define ABUSE_CASE(name, bytes) { name, bytes, sizeof(bytes) - 1 }
	static const struct {
		const char	*name;
		const char	*bytes;
		size_t		 len;
	} cases[] = {
		ABUSE_CASE("array32 of 4G", "\xdd\xff\xff\xff\xff"),
		ABUSE_CASE("map32 of 2G", "\xdf\x7f\xff\xff\xff\x01\x02"),
		ABUSE_CASE("str32 of 4G", "\x94\x00\x01\xdb\xff\xff\xff\xff"),
		ABUSE_CASE("bin32 of 4G", "\x94\x00\x01\xa4ping\x91\x81\xa1x"
		    "\xc6\xff\xff\xff\xff"),
		ABUSE_CASE("ext32 of 4G", "\x94\x00\x01\xa4ping\x91\x81\xa1x"
		    "\xc9\xff\xff\xff\xff\x01"),
		ABUSE_CASE("records array32 of 2G", "\x94\x00\x01\xa3put\x91"
		    "\x81\xa7records\xdd\x80\x00\x00\x00\x80"),
		ABUSE_CASE("params map16 of 64K", "\x94\x00\x01\xa4ping\x91"
		    "\xde\xff\xff\xa1x\x01"),
		ABUSE_CASE("array16 with 3 of 65535", "\x94\x00\x01\xa3get"
		    "\x91\x81\xa3ids\xdc\xff\xff\x01\x02\x03"),
		ABUSE_CASE("str8 of 255 with 3", "\x94\x00\x01\xd9\xff" "abc"),
	};
#undef ABUSE_CASE
	struct th_daemon	 d;
	msgpack_unpacked	 u;
	struct msg		 m;
	unsigned char		*deep;
	unsigned char		 hdr[PROTO_FRAME_HEADER];
	char			 text[256];
	size_t			 i, depth, len;
	int			 fd;
	long			 rss0, hwm0, rss, hwm;

	T_OK(th_daemon_start(&d, NULL));
	abuse_store_good(d.sock);
	abuse_rss(d.pid, &rss0, &hwm0);
	T_ASSERT((fd = th_raw_connect(d.sock)) >= 0);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		frame_header(hdr, (uint32_t)cases[i].len);
		T_OK(th_send_all(fd, hdr, sizeof hdr));
		T_OK(th_send_all(fd, cases[i].bytes, cases[i].len));
		/* The msgid when its bytes are there (issue #14), else 0. */
		m = abuse_response(fd, memcmp(cases[i].bytes, "\x94\x00\x01",
		    3) == 0 ? 1 : 0, &u);
		T_ASSERTF(abuse_code(&m, text, sizeof text) == AERR_MALFORMED,
		    "%s: %s", cases[i].name, text);
		printf("%s: %s\n", cases[i].name, text);
		msgpack_unpacked_destroy(&u);
		/* The connection goes on. */
		abuse_ping(fd, 100 + (uint32_t)i);
	}
	abuse_rss(d.pid, &rss, &hwm);
	/* Nothing was allocated for what was announced (STYLE P16). */
	T_ASSERTF(hwm - hwm0 < 16 * 1024, "peak grew by %ld KiB", hwm - hwm0);
	abuse_after(&d, "counts beyond the frame");

	/* Maps nested 17 deep, and 100000 deep, as params. */
	T_ASSERT((deep = malloc(300000 + 64)) != NULL);
	for (depth = 17; depth <= 100000; depth = depth == 17 ? 100000 :
	    depth + 1) {
		memcpy(deep, "\x94\x00\x07\xa4ping\x91", 9);
		len = 9;
		for (i = 0; i < depth; i++) {
			memcpy(deep + len, "\x81\xa1k", 3);
			len += 3;
		}
		deep[len++] = 0xc0;
		frame_header(hdr, (uint32_t)len);
		T_OK(th_send_all(fd, hdr, sizeof hdr));
		T_OK(th_send_all(fd, deep, len));
		m = abuse_response(fd, 7, &u);
		T_ASSERTF(abuse_code(&m, text, sizeof text) == AERR_MALFORMED,
		    "nesting %zu: %s", depth, text);
		printf("maps nested %zu deep: %s\n", depth, text);
		msgpack_unpacked_destroy(&u);
		abuse_ping(fd, 200 + (uint32_t)depth % 1000);
	}
	free(deep);
	close(fd);
	abuse_after(&d, "deep nesting");
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* Send len bytes as far as the daemon takes them; returns bytes sent. */
static size_t
abuse_send_some(int fd, const unsigned char *p, size_t len)
{
	size_t	sent = 0;
	ssize_t	n;

	while (sent < len) {
		n = send(fd, p + sent, len - sent > 65536 ? 65536 : len - sent,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	return (sent);
}

TEST(abuse_frames_at_and_over_the_size_limit)
{
	struct th_daemon	 d;
	msgpack_unpacked	 u;
	struct msg		 m;
	unsigned char		*big, hdr[PROTO_FRAME_HEADER];
	char			 text[256];
	size_t			 len, sent, head;
	int			 fd;

	T_OK(th_daemon_start(&d, NULL));
	abuse_store_good(d.sock);
	T_ASSERT((big = malloc((64u << 20) + 64)) != NULL);

	/*
	 * Exactly the largest frame: [0, 1, "ping", [{"x": 16 MiB - 20
	 * bytes of "a"}]].  Read whole, then refused for its parameter.
	 */
	len = PROTO_MAX_FRAME;
	memcpy(big, "\x94\x00\x01\xa4ping\x91\x81\xa1x\xdb", 13);
	head = 13 + 4;
	big[13] = (unsigned char)((len - head) >> 24);
	big[14] = (unsigned char)((len - head) >> 16);
	big[15] = (unsigned char)((len - head) >> 8);
	big[16] = (unsigned char)(len - head);
	memset(big + head, 'a', len - head);
	T_ASSERT((fd = th_raw_connect(d.sock)) >= 0);
	frame_header(hdr, (uint32_t)len);
	T_OK(th_send_all(fd, hdr, sizeof hdr));
	T_OK(th_send_all(fd, big, len));
	m = abuse_response(fd, 1, &u);
	T_ASSERTF(abuse_code(&m, text, sizeof text) == AERR_INVALID, "%s",
	    text);
	T_EQ_STR(text, "unknown parameter \"x\"");
	msgpack_unpacked_destroy(&u);
	abuse_ping(fd, 2);
	close(fd);
	abuse_after(&d, "a frame of 16 MiB");

	/* One byte more: an error, then the daemon hangs up. */
	T_ASSERT((fd = th_raw_connect(d.sock)) >= 0);
	frame_header(hdr, (uint32_t)len + 1);
	T_OK(th_send_all(fd, hdr, sizeof hdr));
	m = abuse_response(fd, 0, &u);
	T_ASSERTF(abuse_code(&m, text, sizeof text) == AERR_LIMIT, "%s", text);
	T_EQ_STR(text, "frame of 16777217 bytes exceeds limit 16777216");
	msgpack_unpacked_destroy(&u);
	T_ASSERT(th_wait_closed(fd, ABUSE_WAIT_MS));
	close(fd);

	/* 64 MiB, sent in earnest: refused at its prefix. */
	len = 64u << 20;
	frame_header(big, (uint32_t)len);
	memset(big + PROTO_FRAME_HEADER, 0x90, len);
	T_ASSERT((fd = th_raw_connect(d.sock)) >= 0);
	sent = abuse_send_some(fd, big, PROTO_FRAME_HEADER + len);
	printf("64 MiB frame: %zu bytes taken before the daemon hung up\n",
	    sent);
	T_ASSERT(sent < PROTO_FRAME_HEADER + len);
	m = abuse_response(fd, 0, &u);
	T_ASSERTF(abuse_code(&m, text, sizeof text) == AERR_LIMIT, "%s", text);
	T_EQ_STR(text, "frame of 67108864 bytes exceeds limit 16777216");
	msgpack_unpacked_destroy(&u);
	T_ASSERT(th_wait_closed(fd, ABUSE_WAIT_MS));
	close(fd);
	free(big);
	abuse_after(&d, "frames of 16 MiB + 1 and 64 MiB");
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* The daemon's count of open connections, asked on fd. */
static uint64_t
abuse_connections(int fd, uint32_t msgid)
{
	msgpack_unpacked	u;
	struct msg		m;
	struct aerr		err;
	uint64_t		n;

	abuse_request(fd, msgid, "stats", NULL);
	m = abuse_response(fd, msgid, &u);
	T_OK(mp_uint(mp_get(m.result, "connections"), "connections", &n,
	    &err));
	msgpack_unpacked_destroy(&u);
	return (n);
}

/* Wait until the daemon counts want connections (it learns of a close late). */
static void
abuse_wait_connections(int fd, uint64_t want)
{
	uint64_t	n = 0;
	int		i;

	for (i = 0; i < 500; i++) {
		if ((n = abuse_connections(fd, 5000 + (uint32_t)i)) == want)
			return;
		usleep(10000);
	}
	T_FAIL("daemon counts %" PRIu64 " connections, want %" PRIu64, n,
	    want);
}

TEST(abuse_thousands_of_idle_connections)
{
	struct th_daemon	 d;
	struct rlimit		 rl;
	const char		*few[] = { "--max-conns", "8", NULL };
	unsigned char		 part[PROTO_FRAME_HEADER + 100];
	int			*fds, fd, extra[8], stalled[500];
	int			 i, n = 2000;

	/* The daemon inherits the raised limit. */
	T_OK(getrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = rl.rlim_max;
	T_OK(setrlimit(RLIMIT_NOFILE, &rl));
	if ((rlim_t)n + 600 > rl.rlim_cur)
		n = (int)rl.rlim_cur - 600;
	printf("RLIMIT_NOFILE %llu: %d idle connections, 500 stalled\n",
	    (unsigned long long)rl.rlim_cur, n);
	T_ASSERTF(n >= 1000, "the hard limit of open files (%llu) is too "
	    "low for this test", (unsigned long long)rl.rlim_max);

	T_OK(th_daemon_start(&d, NULL));
	abuse_store_good(d.sock);
	T_ASSERT((fds = calloc((size_t)n, sizeof *fds)) != NULL);
	for (i = 0; i < n; i++)
		T_ASSERTF((fds[i] = th_raw_connect(d.sock)) >= 0,
		    "connection %d: %s", i, strerror(errno));
	/*
	 * And 500 that announce a frame of 16 MiB, send 100 bytes of it and
	 * stall: nothing may be set aside for what has not arrived.
	 */
	frame_header(part, PROTO_MAX_FRAME);
	memset(part + PROTO_FRAME_HEADER, 0x90, sizeof part -
	    PROTO_FRAME_HEADER);
	for (i = 0; i < 500; i++) {
		T_ASSERT((stalled[i] = th_raw_connect(d.sock)) >= 0);
		T_OK(th_send_all(stalled[i], part, sizeof part));
	}
	T_ASSERT((fd = th_raw_connect(d.sock)) >= 0);
	abuse_wait_connections(fd, (uint64_t)n + 500 + 1);
	abuse_after(&d, "thousands of idle and stalled connections");
	for (i = 0; i < 500; i++)
		close(stalled[i]);

	/* Then all of them speak at once. */
	for (i = 0; i < n; i++)
		abuse_request(fds[i], (uint32_t)i, "ping", NULL);
	for (i = 0; i < n; i++)
		abuse_expect_code(fds[i], (uint32_t)i, AERR_OK, "idle client");
	for (i = 0; i < n; i++)
		close(fds[i]);
	abuse_wait_connections(fd, 1);
	close(fd);
	abuse_after(&d, "thousands of connections closing");
	T_EQ_INT(th_daemon_stop(&d), 0);

	/* Past --max-conns a connection is closed at once. */
	T_OK(th_daemon_start(&d, few));
	for (i = 0; i < 8; i++)
		T_ASSERT((extra[i] = th_raw_connect(d.sock)) >= 0);
	abuse_wait_connections(extra[0], 8);
	T_ASSERT((fd = th_raw_connect(d.sock)) >= 0);
	T_ASSERT(th_wait_closed(fd, ABUSE_WAIT_MS));
	close(fd);
	close(extra[7]);
	abuse_wait_connections(extra[0], 7);
	for (i = 0; i < 7; i++)
		close(extra[i]);
	free(fds);
	abuse_after(&d, "connections past --max-conns");
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(abuse_client_that_never_reads)
{
	struct th_daemon	 d;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	char			*text, key[16];
	int			 fd, w, i, sent;

	T_OK(th_daemon_start(&d, NULL));
	abuse_store_good(d.sock);
	/* 100 events of 8 KiB: a page of all of them is 800 KiB. */
	T_ASSERT((text = malloc(8192 + 1)) != NULL);
	memset(text, 't', 8192);
	text[8192] = '\0';
	T_ASSERT((w = th_raw_connect(d.sock)) >= 0);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_pack_str(&pk, "records");
	msgpack_pack_array(&pk, 100);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof key, "b%d", i);
		abuse_pack_record(&pk, "big", key, "2016", text);
	}
	abuse_request(w, 1, "put", &sb);
	abuse_expect_code(w, 1, AERR_OK, "storing big events");
	msgpack_sbuffer_destroy(&sb);
	free(text);

	/* Ask for the big page again and again; never read an answer. */
	T_ASSERT((fd = th_raw_connect(d.sock)) >= 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (sent = 0; sent < 20000; sent++) {
		if (th_send_request(fd, (uint32_t)sent, "range", "\x80", 1) !=
		    0)
			break;
	}
	printf("%d requests sent before the daemon stopped reading\n", sent);
	T_ASSERT(sent < 20000);
	/* Others are served meanwhile. */
	abuse_ping(w, 2);
	abuse_after(&d, "a client that never reads");
	close(fd);
	abuse_ping(w, 3);
	close(w);
	abuse_after(&d, "the client that never read leaving");
	T_EQ_INT(th_daemon_stop(&d), 0);
}
