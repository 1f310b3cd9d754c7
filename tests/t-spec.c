/*
 * proto/PROTOCOL.md keeps its word: every error message it quotes as
 * ("...") or as "message": "..." is listed here with a request that
 * gets it, and the daemon's message is compared byte for byte (issue
 * #14).  A message added to the document without a line here fails the
 * test, as does a message the daemon words differently.
 */
#define _GNU_SOURCE		/* memmem */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "harness.h"
#include "mpobj.h"
#include "test.h"
#include "../proto/proto.h"

/* How a request is made when JSON cannot say it. */
#define SPEC_JSON	0	/* params from json */
#define SPEC_RECORDS	1	/* put of n minimal records */
#define SPEC_BADUTF8	2	/* put of a record whose title is \xff */
#define SPEC_FRAME	3	/* a prefix announcing 20 MiB */
#define SPEC_ELSEWHERE	4	/* needs another daemon: in the test named */

struct spec_msg {
	const char	*message;
	int		 kind;
	const char	*method;
	const char	*json;		/* params, or the test checking it */
	size_t		 n;
};

static const struct spec_msg spec_msgs[] = {
	{ "entries[0]: during: 2015-02-30 is not a date", SPEC_JSON,
	    "dict_put", "{'entries':[{'kind':'alias','alias':'A',"
	    "'codes':['SYR'],'during':'2015-02-30/2016'}]}", 0 },
	{ "entries[1]: alias: empty", SPEC_JSON, "dict_put",
	    "{'entries':[{'kind':'name','code':'SYR','name':'S'},"
	    "{'kind':'alias','alias':'','codes':['SYR']}]}", 0 },
	{ "no alias Daesh", SPEC_JSON, "dict_get", "{'alias':'Daesh'}", 0 },
	{ "method must be UTF-8", SPEC_JSON, "p\xffng", NULL, 0 },
	{ "records[0]: title: invalid UTF-8", SPEC_BADUTF8, "put", NULL, 1 },
	{ "records[3]: start: 2015-02-30 is not a date", SPEC_JSON, "put",
	    "{'records':[{'start':'2015','actors':['A']},"
	    "{'start':'2015','actors':['A']},{'start':'2015','actors':['A']},"
	    "{'start':'2015-02-30','actors':['A']}]}", 0 },
	{ "records[1]: start: 2015-02-30 is not a date", SPEC_JSON, "put",
	    "{'records':[{'start':'2015','actors':['A']},"
	    "{'start':'2015-02-30','actors':['SYR'],'title':'Bad date'}]}", 0 },
	{ "records: 10001 given, at most 10000 allowed", SPEC_RECORDS, "put",
	    NULL, 10001 },
	{ "ids: 0 given, at least 1 required", SPEC_JSON, "delete",
	    "{'ids':[]}", 0 },
	{ "records[0]: actors: 0 given, at least 1 required", SPEC_JSON, "put",
	    "{'records':[{'start':'2015','actors':[]}]}", 0 },
	{ "records[0]: actors: required", SPEC_JSON, "put",
	    "{'records':[{'start':'2015','actors':null}]}", 0 },
	{ "limit: 0 is outside 1 to 10000", SPEC_JSON, "range",
	    "{'limit':0}", 0 },
	{ "records[0]: type: 65 bytes exceeds limit 64", SPEC_JSON, "put",
	    "{'records':[{'start':'2015','actors':['A'],'type':'"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "'}]}", 0 },
	{ "ids[0]: must be an unsigned integer", SPEC_JSON, "get",
	    "{'ids':['1']}", 0 },
	{ "frame of 20971520 bytes exceeds limit 16777216", SPEC_FRAME, NULL,
	    NULL, 0 },
	{ "records[0]: unknown field \"foo\"", SPEC_JSON, "put",
	    "{'records':[{'start':'2015','actors':['A'],'foo':1}]}", 0 },
	{ "fields: 0 given, at least 1 required", SPEC_JSON, "range",
	    "{'fields':[]}", 0 },
	{ "fields: must be an array of field names", SPEC_JSON, "get",
	    "{'ids':[1],'fields':'title'}", 0 },
	{ "fields[0]: must be a string", SPEC_JSON, "changes",
	    "{'fields':[1]}", 0 },
	{ "fields[1]: unknown field \"titel\"", SPEC_JSON, "actor",
	    "{'actor':'A','fields':['start','titel']}", 0 },
	{ "fields[2]: duplicate field \"start\"", SPEC_JSON, "range",
	    "{'fields':['start','title','start']}", 0 },
	/* After a put of 312 records (SPEC_RECORDS below): last seq 312. */
	{ "since: 1000000000000 is past the last change, 312", SPEC_JSON,
	    "changes", "{'since':1000000000000}", 0 },
	{ "records[0]: event 12 is at rev 1, not 2", SPEC_JSON, "put",
	    "{'check_rev':true,'records':[{'id':12,'rev':2,'start':'2015',"
	    "'actors':['A']}]}", 0 },
	{ "already subscribed: unsubscribe first", SPEC_JSON, "subscribe",
	    "{'since':312}", 0 },
	{ "range needs a token: send one in hello first", SPEC_ELSEWHERE,
	    NULL, "t-limits: auth_tokens_and_scopes", 0 },
	{ "before hello with a token: frame of 16777216 bytes exceeds limit "
	    "4096", SPEC_ELSEWHERE, NULL,
	    "t-bounds: issue_15_preauth_frames_refused_at_the_prefix", 0 },
	{ "result exceeds the frame limit of 16777216 bytes at ids[31]; ask "
	    "for fewer ids", SPEC_ELSEWHERE, NULL,
	    "t-bounds: issue_15_get_stops_at_the_frame_limit", 0 },
};

/* The messages PROTOCOL.md quotes, whitespace runs made one space. */
static char **
spec_quoted(size_t *n)
{
	char	 path[4200], *text, *p, *q, *end, **out = NULL;
	FILE	*fp;
	long	 len;
	size_t	 i, j;

	snprintf(path, sizeof path, "%s/../proto/PROTOCOL.md", t_bindir());
	T_ASSERTF((fp = fopen(path, "r")) != NULL, "%s", path);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	T_ASSERT((text = malloc(len + 1)) != NULL);
	T_EQ_INT(fread(text, 1, len, fp), len);
	text[len] = '\0';
	fclose(fp);
	for (i = j = 0; text[i] != '\0'; i++) {
		if (text[i] == '\n' || text[i] == ' ') {
			if (j > 0 && text[j - 1] == ' ')
				continue;
			text[j++] = ' ';
		} else
			text[j++] = text[i];
	}
	text[j] = '\0';

	*n = 0;
	for (p = text; (q = strstr(p, "(\"")) != NULL ||
	    (q = strstr(p, "\"message\": \"")) != NULL; p = end + 2) {
		/* Whichever form comes first. */
		end = strstr(p, "\"message\": \"");
		if (end != NULL && end < q)
			q = end;
		if (strncmp(q, "(\"", 2) == 0) {
			q += 2;
			T_ASSERTF((end = strstr(q, "\")")) != NULL, "%.40s", q);
		} else {
			q += 12;
			T_ASSERTF((end = strchr(q, '"')) != NULL, "%.40s", q);
		}
		T_ASSERT((out = realloc(out, (*n + 1) * sizeof *out)) != NULL);
		T_ASSERT((out[*n] = strndup(q, end - q)) != NULL);
		(*n)++;
	}
	free(text);
	return (out);
}

/* Params of a put of n records (title "x"), or one with a bad title. */
static void
spec_records(msgpack_sbuffer *sb, size_t n, int bad_utf8)
{
	msgpack_packer	pk;
	size_t		i;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_pack_str(&pk, "records");
	msgpack_pack_array(&pk, n);
	for (i = 0; i < n; i++) {
		msgpack_pack_map(&pk, 3);
		mp_pack_kv_str(&pk, "start", "2015");
		mp_pack_str(&pk, "actors");
		msgpack_pack_array(&pk, 1);
		mp_pack_str(&pk, "A");
		mp_pack_kv_str(&pk, "title", bad_utf8 ? "\xff" : "x");
	}
}

/* Send a request and return its error message (empty on success). */
static void
spec_call(int fd, uint32_t msgid, const char *method, const void *params,
    size_t len, char *msg, size_t size)
{
	static unsigned char	 buf[1 << 16];
	msgpack_unpacked	 u;
	struct msg		 m;
	struct aerr		 err;
	ssize_t			 n;

	T_OK(th_send_request(fd, msgid, method, params, len));
	T_ASSERT((n = th_read_frame(fd, buf, sizeof buf, 10000)) > 0);
	msgpack_unpacked_init(&u);
	T_ASSERT(msgpack_unpack_next(&u, (const char *)buf, (size_t)n,
	    NULL) == MSGPACK_UNPACK_SUCCESS);
	T_OK(msg_parse(&u.data, &m, &err));
	T_EQ_INT(m.msgid, msgid);
	aerr_clear(&err);
	(void)msg_error(m.error, &err);
	snprintf(msg, size, "%s", err.msg);
	msgpack_unpacked_destroy(&u);
}

TEST(issue_14_protocol_md_messages_are_the_daemons)
{
	const struct spec_msg	*s;
	struct th_daemon	 d;
	msgpack_sbuffer		 sb;
	struct mpobj		 o;
	unsigned char		 hdr[PROTO_FRAME_HEADER], buf[4096];
	char			 got[256], **quoted;
	size_t			 nquoted, i, j;
	ssize_t			 n;
	int			 fd, fd2;

	/* Every quoted message has a line here. */
	quoted = spec_quoted(&nquoted);
	T_ASSERT(nquoted >= 10);
	for (i = 0; i < nquoted; i++) {
		for (j = 0; j < sizeof spec_msgs / sizeof spec_msgs[0]; j++) {
			if (strcmp(quoted[i], spec_msgs[j].message) == 0)
				break;
		}
		T_ASSERTF(j < sizeof spec_msgs / sizeof spec_msgs[0],
		    "PROTOCOL.md quotes \"%s\", which t-spec does not check",
		    quoted[i]);
		free(quoted[i]);
	}
	free(quoted);

	T_OK(th_daemon_start(&d, NULL));
	fd = th_raw_connect(d.sock);
	/* 312 changes, for the since messages. */
	spec_records(&sb, 312, 0);
	spec_call(fd, 1, "put", sb.data, sb.size, got, sizeof got);
	T_EQ_STR(got, "");
	msgpack_sbuffer_destroy(&sb);
	/*
	 * Subscribed at the end of the log, for the second subscribe; the
	 * requests below change nothing, so no notification comes.
	 */
	mpobj_json(&o, "{'since':312}");
	spec_call(fd, 2, "subscribe", o.sbuf.data, o.sbuf.size, got,
	    sizeof got);
	T_EQ_STR(got, "");
	mpobj_free(&o);
	for (i = 0; i < sizeof spec_msgs / sizeof spec_msgs[0]; i++) {
		s = &spec_msgs[i];
		switch (s->kind) {
		case SPEC_JSON:
			if (s->json == NULL) {
				spec_call(fd, 10 + i, s->method, NULL, 0, got,
				    sizeof got);
				break;
			}
			mpobj_json(&o, s->json);
			spec_call(fd, 10 + i, s->method, o.sbuf.data,
			    o.sbuf.size, got, sizeof got);
			mpobj_free(&o);
			break;
		case SPEC_RECORDS:
		case SPEC_BADUTF8:
			spec_records(&sb, s->n, s->kind == SPEC_BADUTF8);
			spec_call(fd, 10 + i, s->method, sb.data, sb.size, got,
			    sizeof got);
			msgpack_sbuffer_destroy(&sb);
			break;
		case SPEC_FRAME:
			/* The boundary is lost: its own connection. */
			T_ASSERT((fd2 = th_raw_connect(d.sock)) >= 0);
			frame_header(hdr, 20u << 20);
			T_OK(th_send_all(fd2, hdr, sizeof hdr));
			T_ASSERT((n = th_read_frame(fd2, buf, sizeof buf,
			    10000)) > 0);
			/* The message is a str inside the reply's bytes. */
			T_ASSERTF(memmem(buf, (size_t)n, s->message,
			    strlen(s->message)) != NULL, "%s", s->message);
			close(fd2);
			continue;
		default:
			printf("%s: checked by %s\n", s->message, s->json);
			continue;
		}
		T_EQ_STR(got, s->message);
	}
	close(fd);
	T_EQ_INT(th_daemon_stop(&d), 0);
}
