/*
 * annals-nats: a primary's change feed on a NATS JetStream stream
 * (contrib/nats/README.md).
 *
 *   init     make the stream, with the defaults the README gives
 *   publish  follow annalsd's subscribe feed and publish every change
 *   verify   read the whole stream and check it
 *
 * The publisher is a program of its own rather than a part of annalsd:
 * annalsd does not link libnats, and a publisher that crashes or hangs
 * on a NATS outage never touches the primary.  It keeps no state: on
 * start (and after any failure) it reads the stream's last message, whose
 * headers name the store and the change seq, and subscribes to the
 * changes after it.  Each message carries Nats-Msg-Id <uuid>:<seq>, so
 * that JetStream drops a repeat within its duplicate window, and expects
 * the message before it to be the stream's last (Nats-Expected-Last-Msg-
 * Id), so that after a failure none is stored out of order or after a
 * gap: the publisher reads the stream's end again and goes on from there.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../client/annals-int.h"

#define EXIT_TROUBLE	1	/* verify found a fault; bad usage */
#define EXIT_FATAL	2	/* the stream cannot go on from this primary */

#ifdef HAVE_NATS
#include <nats/nats.h>

#include "nats-servers.h"

#define HDR_SEQ		"Annals-Seq"
#define HDR_STORE	"Annals-Store"
#define MSGID_MAX	96
/* Milliseconds a publish waits for JetStream's acknowledgement. */
#define ACK_WAIT_MS	2000
#define RETRY_MS	250

struct opts {
	const char	*server;	/* NATS URL(s) */
	const char	*stream;
	const char	*subject;
	const char	*annals;	/* the primary's address */
	const char	*retention;
	int64_t		 replicas;
	int64_t		 max_age_days;
	int64_t		 max_msgs;
	int64_t		 dup_secs;
	int		 quiet;
};

static volatile sig_atomic_t	 stop;
static int			 pub_failed;	/* an async publish failed */
static char			 pub_error[256];

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
say(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fputs("annals-nats: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static natsStatus
nats_open(const struct opts *o, natsConnection **nc, jsCtx **js)
{
	natsOptions	*no = NULL;
	jsOptions	 jo;
	natsStatus	 s;

	*nc = NULL;
	*js = NULL;
	if ((s = natsOptions_Create(&no)) == NATS_OK &&
	    (s = nats_set_servers(no, o->server)) == NATS_OK &&
	    (s = natsOptions_SetMaxReconnect(no, -1)) == NATS_OK &&
	    (s = natsOptions_SetReconnectWait(no, RETRY_MS)) == NATS_OK &&
	    (s = natsOptions_SetTimeout(no, 2000)) == NATS_OK)
		s = natsConnection_Connect(nc, no);
	natsOptions_Destroy(no);
	if (s != NATS_OK)
		return (s);
	jsOptions_Init(&jo);
	jo.Wait = ACK_WAIT_MS;
	if ((s = natsConnection_JetStream(js, *nc, &jo)) != NATS_OK) {
		natsConnection_Destroy(*nc);
		*nc = NULL;
	}
	return (s);
}

static void
nats_close(natsConnection *nc, jsCtx *js)
{
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
}

/* The stream's first subject, into buf. */
static int
stream_subject(jsCtx *js, const char *stream, char *buf, size_t size,
    uint64_t *nmsgs, uint64_t *last)
{
	jsStreamInfo	*si = NULL;
	jsErrCode	 jerr = 0;
	natsStatus	 s;

	if ((s = js_GetStreamInfo(&si, js, stream, NULL, &jerr)) != NATS_OK) {
		say("stream %s: %s%s", stream, natsStatus_GetText(s),
		    jerr == JSStreamNotFoundErr ? " (make it with annals-nats "
		    "init)" : "");
		return (-1);
	}
	if (si->Config->SubjectsLen < 1) {
		say("stream %s has no subject", stream);
		jsStreamInfo_Destroy(si);
		return (-1);
	}
	snprintf(buf, size, "%s", si->Config->Subjects[0]);
	if (nmsgs != NULL)
		*nmsgs = si->State.Msgs;
	if (last != NULL)
		*last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	return (0);
}

static int
cmd_init(const struct opts *o)
{
	natsConnection	*nc;
	jsCtx		*js;
	jsStreamConfig	 sc;
	jsStreamInfo	*si = NULL;
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	char		 subject[256];
	const char	*subjects[1];

	if ((s = nats_open(o, &nc, &js)) != NATS_OK) {
		say("connect %s: %s", o->server, natsStatus_GetText(s));
		return (EXIT_TROUBLE);
	}
	if (o->subject != NULL)
		snprintf(subject, sizeof subject, "%s", o->subject);
	else
		snprintf(subject, sizeof subject, "annals.%s.changes",
		    o->stream);
	subjects[0] = subject;
	jsStreamConfig_Init(&sc);
	sc.Name = o->stream;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = o->replicas;
	sc.Retention = strcmp(o->retention, "interest") == 0 ?
	    js_InterestPolicy : js_LimitsPolicy;
	sc.MaxAge = o->max_age_days * 86400 * INT64_C(1000000000);
	sc.MaxMsgs = o->max_msgs;
	sc.Duplicates = o->dup_secs * INT64_C(1000000000);
	sc.Discard = js_DiscardOld;
	s = js_AddStream(&si, js, &sc, NULL, &jerr);
	if (s != NATS_OK) {
		say("add stream %s: %s (%d)", o->stream, natsStatus_GetText(s),
		    (int)jerr);
		nats_close(nc, js);
		return (EXIT_TROUBLE);
	}
	if (!o->quiet)
		printf("stream %s: subject %s, file storage, %lld replicas, "
		    "%s retention, duplicate window %llds\n", o->stream,
		    subject, (long long)o->replicas, o->retention,
		    (long long)o->dup_secs);
	jsStreamInfo_Destroy(si);
	nats_close(nc, js);
	return (0);
}

/* A header of m as a number; 0 when absent or not a number. */
static uint64_t
header_u64(natsMsg *m, const char *key)
{
	const char	*v = NULL;
	char		*end;
	uint64_t	 n;

	if (natsMsgHeader_Get(m, key, &v) != NATS_OK || v == NULL)
		return (0);
	errno = 0;
	n = strtoull(v, &end, 10);
	return (errno != 0 || *end != '\0' ? 0 : n);
}

/*
 * Where the stream ends: the seq and message id of its last message
 * (0 and "" when empty).  -1 when it cannot be read now, -2 when it
 * belongs to another store.
 */
static int
stream_end(jsCtx *js, const struct opts *o, const char *subject,
    const char *uuid, uint64_t *seq, char *msgid)
{
	natsMsg		*m = NULL;
	jsErrCode	 jerr = 0;
	const char	*store = NULL;
	natsStatus	 s;

	*seq = 0;
	msgid[0] = '\0';
	s = js_GetLastMsg(&m, js, o->stream, subject, NULL, &jerr);
	if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
		return (0);
	if (s != NATS_OK) {
		say("last message of %s: %s", o->stream,
		    natsStatus_GetText(s));
		return (-1);
	}
	natsMsgHeader_Get(m, HDR_STORE, &store);
	*seq = header_u64(m, HDR_SEQ);
	if (store == NULL || strcmp(store, uuid) != 0 || *seq == 0) {
		say("stream %s ends with a change of store %s, not of this "
		    "primary (%s): one stream per store (annals-nats init "
		    "--stream with another name)", o->stream,
		    store != NULL ? store : "(none)", uuid);
		natsMsg_Destroy(m);
		return (-2);
	}
	snprintf(msgid, MSGID_MAX, "%s:%" PRIu64, uuid, *seq);
	natsMsg_Destroy(m);
	return (0);
}

/* The primary's uuid and last seq, from stats. */
static int
primary_stats(annals_ctx *ctx, char *uuid, size_t size, uint64_t *last)
{
	void			*buf = NULL;
	size_t			 len = 0;
	msgpack_unpacked	 u;
	struct aerr		 err;
	char			*s = NULL;
	int			 rc = -1;

	if (annals_call(ctx, "stats", NULL, 0, &buf, &len) != 0)
		return (-1);
	msgpack_unpacked_init(&u);
	aerr_clear(&err);
	if (msgpack_unpack_next(&u, buf, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
	    mp_str(mp_get(&u.data, "uuid"), "uuid", 64, &s, &err) == 0 &&
	    mp_uint(mp_get(&u.data, "last_seq"), "last_seq", last,
	    &err) == 0) {
		snprintf(uuid, size, "%s", s);
		rc = 0;
	} else
		say("stats of the primary: %s (an annalsd without a uuid is "
		    "too old to publish)", err.msg);
	free(s);
	msgpack_unpacked_destroy(&u);
	annals_buf_free(buf);
	return (rc);
}

static void
on_pub_error(jsCtx *js, jsPubAckErr *pae, void *arg)
{
	(void)js; (void)arg;
	if (!pub_failed)
		snprintf(pub_error, sizeof pub_error, "%s (%d)",
		    pae->ErrText != NULL ? pae->ErrText :
		    natsStatus_GetText(pae->Err), (int)pae->ErrCode);
	pub_failed = 1;
}

/*
 * Publish one page of changes (a notification's params), each after the
 * one before.  Returns 0, or -1 when a publish failed (go back to the
 * stream's end).
 */
static int
publish_page(jsCtx *js, const char *subject, const char *uuid,
    const msgpack_object *page, char *prev_id, uint64_t *published)
{
	const msgpack_object	*list, *c;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	jsPubOptions		 po;
	struct aerr		 err;
	natsMsg			*m;
	natsStatus		 s;
	char			 id[MSGID_MAX], num[24];
	uint64_t		 seq;
	uint32_t		 i;
	int			 rc = 0;

	if ((list = mp_get(page, "changes")) == NULL ||
	    list->type != MSGPACK_OBJECT_ARRAY) {
		say("a notification without changes");
		return (-1);
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (i = 0; i < list->via.array.size; i++) {
		c = &list->via.array.ptr[i];
		aerr_clear(&err);
		if (mp_uint(mp_get(c, "seq"), "seq", &seq, &err) != 0) {
			say("change without a seq: %s", err.msg);
			rc = -1;
			break;
		}
		/* The change as the daemon encoded it, whatever its kind. */
		msgpack_sbuffer_clear(&sb);
		msgpack_pack_object(&pk, *c);
		snprintf(id, sizeof id, "%s:%" PRIu64, uuid, seq);
		snprintf(num, sizeof num, "%" PRIu64, seq);
		m = NULL;
		if ((s = natsMsg_Create(&m, subject, NULL, sb.data,
		    (int)sb.size)) != NATS_OK ||
		    (s = natsMsgHeader_Set(m, HDR_SEQ, num)) != NATS_OK ||
		    (s = natsMsgHeader_Set(m, HDR_STORE, uuid)) != NATS_OK) {
			natsMsg_Destroy(m);
			say("message for seq %" PRIu64 ": %s", seq,
			    natsStatus_GetText(s));
			rc = -1;
			break;
		}
		jsPubOptions_Init(&po);
		po.MsgId = id;
		po.ExpectLastMsgId = prev_id[0] != '\0' ? prev_id : NULL;
		po.MaxWait = ACK_WAIT_MS;
		if ((s = js_PublishMsgAsync(js, &m, &po)) != NATS_OK) {
			natsMsg_Destroy(m);
			say("publish seq %" PRIu64 ": %s", seq,
			    natsStatus_GetText(s));
			rc = -1;
			break;
		}
		snprintf(prev_id, MSGID_MAX, "%s", id);
		(*published)++;
	}
	msgpack_sbuffer_destroy(&sb);
	jsPubOptions_Init(&po);
	po.MaxWait = ACK_WAIT_MS;
	if ((s = js_PublishAsyncComplete(js, &po)) != NATS_OK) {
		natsMsgList	pending;

		say("waiting for JetStream: %s", natsStatus_GetText(s));
		if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK)
			natsMsgList_Destroy(&pending);
		rc = -1;
	}
	if (pub_failed) {
		say("publish: %s", pub_error);
		pub_failed = 0;
		rc = -1;
	}
	return (rc);
}

static int
cmd_publish(const struct opts *o)
{
	natsConnection		*nc = NULL;
	jsCtx			*js = NULL;
	jsOptions		 jo;
	annals_ctx		*ctx = NULL;
	struct annals_reply	 r;
	natsStatus		 s;
	char			 subject[256], uuid[40], prev_id[MSGID_MAX];
	uint64_t		 since, last, published = 0;
	int			 rc, ret = 0;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	while (!stop) {
		if (nc == NULL) {
			if ((s = nats_open(o, &nc, &js)) != NATS_OK) {
				say("connect %s: %s", o->server,
				    natsStatus_GetText(s));
				sleep_ms(RETRY_MS * 4);
				continue;
			}
			/* Errors of async publishes come here. */
			jsCtx_Destroy(js);
			jsOptions_Init(&jo);
			jo.Wait = ACK_WAIT_MS;
			jo.PublishAsync.ErrHandler = on_pub_error;
			jo.PublishAsync.MaxPending = 4096;
			if (natsConnection_JetStream(&js, nc, &jo) != NATS_OK) {
				nats_close(nc, NULL);
				nc = NULL;
				js = NULL;
				continue;
			}
		}
		/* Where the primary is, and where the stream is. */
		annals_free(ctx);
		if ((ctx = annals_connect(o->annals)) == NULL ||
		    annals_errcode(ctx) != 0 ||
		    primary_stats(ctx, uuid, sizeof uuid, &last) != 0) {
			if (ctx != NULL && annals_errcode(ctx) != 0)
				say("primary %s: %s", o->annals != NULL ?
				    o->annals : "(default)",
				    annals_errmsg(ctx));
			sleep_ms(RETRY_MS * 4);
			continue;
		}
		if (stream_subject(js, o->stream, subject, sizeof subject,
		    NULL, NULL) != 0) {
			sleep_ms(RETRY_MS * 4);
			continue;
		}
		rc = stream_end(js, o, subject, uuid, &since, prev_id);
		if (rc == -2) {
			ret = EXIT_FATAL;
			break;
		}
		if (rc != 0) {
			sleep_ms(RETRY_MS);
			continue;
		}
		if (since > last) {
			say("stream %s holds changes up to %" PRIu64 " but the "
			    "primary's log ends at %" PRIu64 ": the primary "
			    "was restored from an older backup; its changes "
			    "after that are on the stream only (see the "
			    "README: promoting a replica)", o->stream, since,
			    last);
			ret = EXIT_FATAL;
			break;
		}
		/* The dictionary's changes too: replicas apply them. */
		if (annals_subscribe_feed(ctx, since, 1) != 0) {
			if (annals_errcode(ctx) == ANNALS_EEXPIRED)
				goto expired;
			say("subscribe after %" PRIu64 ": %s", since,
			    annals_errmsg(ctx));
			sleep_ms(RETRY_MS * 4);
			continue;
		}
		if (!o->quiet)
			say("publishing the changes of %s after %" PRIu64
			    " to %s", uuid, since, subject);
		while (!stop) {
			rc = annals_note_next(ctx, 500, &r);
			if (rc == 0)
				continue;
			if (rc == -1)
				break;
			rc = publish_page(js, subject, uuid, r.msg.params,
			    prev_id, &published);
			annals_reply_free(&r);
			if (rc != 0)
				break;
		}
		if (stop)
			break;
		if (annals_errcode(ctx) == ANNALS_EEXPIRED)
			goto expired;
		if (annals_errcode(ctx) != 0)
			say("primary: %s", annals_errmsg(ctx));
		sleep_ms(RETRY_MS);
	}
	goto out;

expired:
	say("the primary's change log no longer reaches back to %" PRIu64
	    " (it dropped deletions older than annalsd --changes-keep): "
	    "changes were lost for the stream; make a new stream and "
	    "replicas from a backup (README: when the publisher fell "
	    "behind): %s", since, annals_errmsg(ctx));
	ret = EXIT_FATAL;
out:
	if (!o->quiet)
		say("published %" PRIu64 " changes", published);
	annals_free(ctx);
	nats_close(nc, js);
	nats_CloseAndWait(2000);
	return (ret);
}

/* Add a seq to a set kept as a sorted array (the stream's are in order). */
struct seqs {
	uint64_t	*v;
	size_t		 n, cap;
};

static void
seqs_add(struct seqs *s, uint64_t seq)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		if ((s->v = realloc(s->v, s->cap * sizeof *s->v)) == NULL) {
			say("out of memory");
			exit(EXIT_FATAL);
		}
	}
	s->v[s->n++] = seq;
}

static int
seqs_has(const struct seqs *s, uint64_t seq)
{
	size_t	lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->v[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < s->n && s->v[lo] == seq);
}

struct check {
	const struct seqs	*stream;
	uint64_t		 changes, missing, first_missing;
};

static int
check_change(const struct annals_change *ch, void *arg)
{
	struct check	*c = arg;

	c->changes++;
	if (!seqs_has(c->stream, ch->seq) && c->missing++ == 0)
		c->first_missing = ch->seq;
	return (0);
}

/*
 * Read every message of the stream through an ephemeral consumer: the
 * seqs must rise (no repeat, none out of order) and each message id must
 * be its store and seq.  With --annals, every change in the primary's
 * log must be on the stream.
 */
static int
cmd_verify(const struct opts *o)
{
	natsConnection		*nc;
	jsCtx			*js;
	natsSubscription	*sub = NULL;
	jsSubOptions		 so;
	jsMsgMetaData		*meta;
	natsMsgList		 list;
	natsStatus		 s;
	struct seqs		 seen = { NULL, 0, 0 };
	struct check		 chk;
	struct annals_feed	 feed;
	annals_ctx		*ctx;
	const char		*id, *store;
	char			 subject[256], want[MSGID_MAX];
	uint64_t		 nmsgs, end, seq, prev = 0, faults = 0;
	uint64_t		 at = 0;	/* stream seq of the last read */
	int			 i, idle = 0;

	if ((s = nats_open(o, &nc, &js)) != NATS_OK) {
		say("connect %s: %s", o->server, natsStatus_GetText(s));
		return (EXIT_TROUBLE);
	}
	if (stream_subject(js, o->stream, subject, sizeof subject,
	    &nmsgs, &end) != 0) {
		nats_close(nc, js);
		return (EXIT_TROUBLE);
	}
	jsSubOptions_Init(&so);
	so.Stream = o->stream;
	so.Config.AckPolicy = js_AckNone;
	so.Config.DeliverPolicy = js_DeliverAll;
	/* A cluster that just lost a server answers after its election. */
	for (i = 0, s = NATS_OK; nmsgs > 0 && i < 20; i++) {
		if ((s = js_PullSubscribe(&sub, js, subject, NULL, NULL, &so,
		    NULL)) == NATS_OK)
			break;
		sleep_ms(RETRY_MS * 2);
	}
	if (s != NATS_OK) {
		say("consumer on %s: %s", o->stream, natsStatus_GetText(s));
		nats_close(nc, js);
		return (EXIT_TROUBLE);
	}
	/* To the end it had when we began; it may grow meanwhile. */
	while (sub != NULL && at < end && idle < 10) {
		memset(&list, 0, sizeof list);
		if (natsSubscription_Fetch(&list, sub, 1000, 500, NULL) !=
		    NATS_OK || list.Count == 0) {
			natsMsgList_Destroy(&list);
			idle++;
			continue;
		}
		idle = 0;
		for (i = 0; i < list.Count; i++) {
			natsMsg	*m = list.Msgs[i];

			seq = header_u64(m, HDR_SEQ);
			id = store = NULL;
			natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
			natsMsgHeader_Get(m, HDR_STORE, &store);
			snprintf(want, sizeof want, "%s:%" PRIu64,
			    store != NULL ? store : "", seq);
			if (seq <= prev) {
				if (faults++ < 10)
					printf("seq %" PRIu64 " after %" PRIu64
					    ": %s\n", seq, prev, seq == prev ?
					    "a duplicate" : "out of order");
			} else if (id == NULL || strcmp(id, want) != 0) {
				if (faults++ < 10)
					printf("seq %" PRIu64 ": message id %s, "
					    "not %s\n", seq, id != NULL ? id :
					    "(none)", want);
			}
			if (seq > prev) {
				seqs_add(&seen, seq);
				prev = seq;
			}
			if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
				at = meta->Sequence.Stream;
				jsMsgMetaData_Destroy(meta);
			}
		}
		natsMsgList_Destroy(&list);
	}
	if (at < end && nmsgs > 0) {
		printf("stream %s: could not read it to its end\n", o->stream);
		faults++;
	}
	printf("stream %s: %zu messages, seqs %" PRIu64 " to %" PRIu64 ", %"
	    PRIu64 " faults\n", o->stream, seen.n, seen.n ? seen.v[0] : 0,
	    prev, faults);
	if (o->annals != NULL) {
		memset(&chk, 0, sizeof chk);
		chk.stream = &seen;
		ctx = annals_connect(o->annals);
		feed.next = 0;
		do {
			if (ctx == NULL || annals_changes(ctx, feed.next,
			    10000, check_change, &chk, &feed) != 0) {
				printf("primary: %s\n", ctx != NULL ?
				    annals_errmsg(ctx) : "out of memory");
				faults++;
				break;
			}
		} while (feed.more);
		printf("primary: %" PRIu64 " changes in its log, %" PRIu64
		    " not on the stream", chk.changes, chk.missing);
		if (chk.missing > 0)
			printf(" (the first: seq %" PRIu64 ")",
			    chk.first_missing);
		printf("\n");
		faults += chk.missing;
		annals_free(ctx);
	}
	free(seen.v);
	natsSubscription_Destroy(sub);
	nats_close(nc, js);
	nats_CloseAndWait(2000);
	return (faults == 0 ? 0 : EXIT_TROUBLE);
}
#endif /* HAVE_NATS */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: annals-nats init --server URL --stream NAME [--subject SUBJECT]\n"
"                        [--replicas N] [--retention limits|interest]\n"
"                        [--max-age DAYS] [--max-msgs N]\n"
"                        [--duplicates SECONDS]\n"
"       annals-nats publish --server URL --stream NAME [--annals ADDR]\n"
"       annals-nats verify --server URL --stream NAME [--annals ADDR]\n"
"URL is nats://HOST:PORT, or several comma-separated for a cluster;\n"
"ADDR is the primary annalsd's socket path or HOST:PORT (default\n"
"$ANNALS_SOCKET).  See contrib/nats/README.md.\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "stream", required_argument, NULL, 'n' },
		{ "subject", required_argument, NULL, 'S' },
		{ "annals", required_argument, NULL, 'a' },
		{ "replicas", required_argument, NULL, 'r' },
		{ "retention", required_argument, NULL, 'R' },
		{ "max-age", required_argument, NULL, 'A' },
		{ "max-msgs", required_argument, NULL, 'M' },
		{ "duplicates", required_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
#ifdef HAVE_NATS
	struct opts	 o;
	const char	*cmd;
	char		*end;
	long long	 n;
	int		 ch;

	memset(&o, 0, sizeof o);
	o.server = "nats://127.0.0.1:4222";
	o.retention = "limits";
	o.replicas = 1;
	o.dup_secs = 120;
	o.max_age_days = 0;
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return (argc < 2 ? EXIT_TROUBLE : 0);
	}
	cmd = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o.server = optarg;
			break;
		case 'n':
			o.stream = optarg;
			break;
		case 'S':
			o.subject = optarg;
			break;
		case 'a':
			o.annals = optarg;
			break;
		case 'R':
			if (strcmp(optarg, "limits") != 0 &&
			    strcmp(optarg, "interest") != 0) {
				say("--retention %s: limits or interest",
				    optarg);
				return (EXIT_TROUBLE);
			}
			o.retention = optarg;
			break;
		case 'r':
		case 'A':
		case 'M':
		case 'D':
			errno = 0;
			n = strtoll(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 0 ||
			    (ch == 'r' && (n < 1 || n > 5)) ||
			    (ch == 'D' && n < 1)) {
				say("--%s %s: not a number in range",
				    ch == 'r' ? "replicas" : ch == 'A' ?
				    "max-age" : ch == 'M' ? "max-msgs" :
				    "duplicates", optarg);
				return (EXIT_TROUBLE);
			}
			if (ch == 'r')
				o.replicas = n;
			else if (ch == 'A')
				o.max_age_days = n;
			else if (ch == 'M')
				o.max_msgs = n;
			else
				o.dup_secs = n;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (EXIT_TROUBLE);
		}
	}
	if (optind != argc || o.stream == NULL) {
		usage(stderr);
		return (EXIT_TROUBLE);
	}
	if (strcmp(cmd, "init") == 0)
		return (cmd_init(&o));
	if (strcmp(cmd, "publish") == 0)
		return (cmd_publish(&o));
	if (strcmp(cmd, "verify") == 0)
		return (cmd_verify(&o));
	usage(stderr);
	return (EXIT_TROUBLE);
#else
	(void)argc; (void)argv; (void)longopts;
	fprintf(stderr, "annals-nats: built without libnats (install "
	    "libnats-dev and build again)\n");
	usage(stderr);
	return (EXIT_TROUBLE);
#endif
}
