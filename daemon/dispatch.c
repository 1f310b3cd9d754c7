/*
 * The method table: each method lives in its own m-<name>.c and exports
 * one struct method; this file finds them by name, admits a request and
 * decides where it runs, and holds what every method needs for its
 * parameters and errors.
 *
 * Admission, in this order: the frame decodes as a request of a known
 * method; a request that is not a write waits while writes of its
 * connection await the commit, so that a read sees them and replies
 * keep their order; the server is not shutting down; the connection's
 * token allows the method (auth.c); a peer serving a penalty waits to
 * say hello again.  A refused request waits for the acknowledgements
 * before it too, then gets its error.
 *
 * Where it runs: a write goes to the group commit (commit.c), a read to
 * a reader thread when readers.c takes it, anything else on the loop.
 * dispatch_local() runs a method for a caller that is no connection
 * (the HTTP API) by the same rules, and hands it the result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"

#define METHOD_ENTRY(name) &method_##name,
static const struct method *const methods[] = {
	PROTO_METHODS(METHOD_ENTRY)
};
#undef METHOD_ENTRY

/* Room kept in a frame for everything but the records of a page. */
#define DISPATCH_FRAME_SLACK	(64u * 1024)

/*
 * One request: body is a whole frame's, len bytes.  Returns
 * DISPATCH_WAIT to leave it in the input for now, DISPATCH_RAN when it
 * ran or was handed on, DISPATCH_REFUSED when it was answered with an
 * error.
 */
int
dispatch_request(struct conn *c, const unsigned char *body, uint32_t len)
{
	const struct method	*m;
	struct request		 req;
	struct msg		 msg;
	struct aerr		 err;
	msgpack_unpacked	 u;
	char			 name[96];
	int			 rc = DISPATCH_WAIT;

	memset(&msg, 0, sizeof msg);
	msgpack_unpacked_init(&u);
	if (frame_check(body, len, &err) != 0)
		goto bad;
	if (msgpack_unpack_next(&u, (const char *)body, len, NULL) !=
	    MSGPACK_UNPACK_SUCCESS) {
		aerr_set(&err, AERR_MALFORMED, "message does not decode as "
		    "msgpack");
		goto bad;
	}
	if (msg_parse(&u.data, &msg, &err) != 0)
		goto bad;
	if (msg.type != MSG_REQUEST) {
		aerr_set(&err, AERR_MALFORMED, "only requests (type 0) are "
		    "accepted");
		goto bad;
	}
	if ((m = dispatch_find(msg.method, msg.method_len)) == NULL) {
		aerr_set(&err, AERR_UNKNOWN_METHOD, "unknown method \"%s\"",
		    log_escape(msg.method, msg.method_len, name, sizeof name));
		goto bad;
	}
	if (conn_pending(c) > 0 && (m->flags & METHOD_WRITE) == 0)
		goto out;
	if (server->shutting_down) {
		aerr_set(&err, AERR_UNAVAILABLE, "server is shutting down");
		goto bad;
	}
	if (conn_scope(c) == AUTH_NONE && (m->flags & METHOD_OPEN) == 0) {
		aerr_set(&err, AERR_UNAUTHORIZED, "%s needs a token: send one "
		    "in hello first", m->name);
		goto bad;
	}
	if (conn_scope(c) != AUTH_WRITE &&
	    (m->flags & (METHOD_WRITE | METHOD_ADMIN)) != 0) {
		aerr_set(&err, AERR_UNAUTHORIZED, "%s needs a token with the "
		    "write scope", m->name);
		goto bad;
	}
	if ((m->flags & METHOD_OPEN) == 0 && m != &method_stats &&
	    replica_refuse(m->name, (m->flags & METHOD_WRITE) != 0, &err))
		goto bad;
	if (m == &method_hello && auth_enabled() && conn_hello_waits(c))
		goto out;

	req.conn = c;
	req.msgid = msg.msgid;
	req.params = msg.params;
	req.sbuf = conn_sbuf(c);
	if (m->flags & METHOD_WRITE)
		conn_write_begin(c);
	if (readers_offer(c, m, msg.msgid, msg.params, body, len))
		conn_read_begin(c);
	else
		m->exec(&req);
	rc = DISPATCH_RAN;
	goto out;

bad:
	/* Answer it after the acknowledgements before it. */
	if (conn_pending(c) > 0)
		goto out;
	/* Echo the msgid whenever the first bytes hold one. */
	conn_reply_error(c, msg.msgid != 0 ? msg.msgid :
	    msg_peek_msgid(body, len), err.code, err.msg);
	rc = DISPATCH_REFUSED;
out:
	msgpack_unpacked_destroy(&u);
	return (rc);
}

const struct method *
dispatch_find(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (strlen(methods[i]->name) == len &&
		    memcmp(methods[i]->name, name, len) == 0)
			return (methods[i]);
	}
	return (NULL);
}

/* Refuse a parameter the method does not know; allowed ends in NULL. */
/*
 * The limit param of a paged method: 1 to PROTO_MAX_PAGE, default
 * PROTO_DEFAULT_PAGE.
 */
int
dispatch_page_limit(const struct request *req, uint32_t *limit,
    struct aerr *err)
{
	const msgpack_object	*o;
	uint64_t		 v = PROTO_DEFAULT_PAGE;

	if ((o = mp_get(req->params, "limit")) != NULL &&
	    mp_uint(o, "limit", &v, err) != 0)
		return (-1);
	if (v == 0 || v > PROTO_MAX_PAGE) {
		aerr_set(err, AERR_INVALID, "limit: %llu is outside 1 to %d",
		    (unsigned long long)v, PROTO_MAX_PAGE);
		return (-1);
	}
	*limit = (uint32_t)v;
	return (0);
}

int
dispatch_check_params(const struct request *req, const char *const *allowed,
    struct aerr *err)
{
	const msgpack_object	*p = req->params;
	char			 name[96];
	uint32_t		 i;
	size_t			 j;

	if (p == NULL)
		return (0);
	for (i = 0; i < p->via.map.size; i++) {
		const msgpack_object *k = &p->via.map.ptr[i].key;

		for (j = 0; allowed[j] != NULL; j++) {
			if (mp_key_is(k, allowed[j]))
				break;
		}
		if (allowed[j] != NULL)
			continue;
		if (k->type == MSGPACK_OBJECT_STR)
			aerr_set(err, AERR_INVALID, "unknown parameter \"%s\"",
			    log_escape(k->via.str.ptr, k->via.str.size, name,
			    sizeof name));
		else
			aerr_set(err, AERR_INVALID, "parameter names must be "
			    "strings");
		return (-1);
	}
	return (0);
}

/* The "ids" parameter: 1 to PROTO_MAX_IDS of them, into a new array. */
int
dispatch_ids(const msgpack_object *params, uint64_t **out, size_t *np,
    struct aerr *err)
{
	const msgpack_object	*ids;
	uint64_t		*list;
	size_t			 n, i;
	char			 field[32];

	if ((ids = mp_get(params, "ids")) == NULL ||
	    ids->type != MSGPACK_OBJECT_ARRAY) {
		aerr_set(err, AERR_INVALID, "ids: required, an array of ids");
		return (-1);
	}
	n = ids->via.array.size;
	if (n == 0) {
		aerr_set(err, AERR_INVALID, "ids: 0 given, at least 1 "
		    "required");
		return (-1);
	}
	if (n > PROTO_MAX_IDS) {
		aerr_set(err, AERR_INVALID, "ids: %zu given, at most %d "
		    "allowed", n, PROTO_MAX_IDS);
		return (-1);
	}
	list = xcalloc(n, sizeof *list);
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof field, "ids[%zu]", i);
		if (mp_uint(&ids->via.array.ptr[i], field, &list[i],
		    err) != 0) {
			free(list);
			return (-1);
		}
	}
	*out = list;
	*np = n;
	return (0);
}

/* Start a successful reply; the caller packs the result, then ends it. */
msgpack_packer *
dispatch_reply_begin(struct request *req)
{
	msgpack_sbuffer_clear(req->sbuf);
	msgpack_packer_init(&req->pk, req->sbuf, msgpack_sbuffer_write);
	msg_pack_response_ok(&req->pk, req->msgid);
	return (&req->pk);
}

/*
 * The bytes of records one page of results may carry: a page stops
 * short of the frame limit, whatever its length in records, leaving
 * room for everything but the records themselves.  A record larger than
 * this still goes out, alone on its page, so that paging always moves.
 */
size_t
dispatch_page_budget(void)
{
	size_t	frame = server->cfg->max_frame;

	return (frame > 4 * DISPATCH_FRAME_SLACK ?
	    frame - DISPATCH_FRAME_SLACK : frame / 2);
}

/* On a reader thread the loop sends the reply once the job is back. */
void
dispatch_reply_end(struct request *req)
{
	if (req->conn != NULL)
		conn_reply_end(req->conn);
}

/* Reply with err instead, whatever was packed so far. */
void
dispatch_error(struct request *req, const struct aerr *err)
{
	msgpack_sbuffer_clear(req->sbuf);
	msgpack_packer_init(&req->pk, req->sbuf, msgpack_sbuffer_write);
	msg_pack_response_error(&req->pk, req->msgid, err->code, err->msg);
	dispatch_reply_end(req);
}

/*
 * A request that is no connection's (the HTTP API), run by
 * dispatch_local(): its params, and the reply the method packs.
 */
struct local_job {
	const struct method	*method;
	struct request		 req;
	msgpack_sbuffer		 reply;
};

static void
dispatch_local_run(void *arg)
{
	struct local_job	*j = arg;

	j->method->exec(&j->req);
}

static void
dispatch_local_done(void *arg)
{
	struct local_job	*j = arg;

	dispatch_local_reply(j->req.local, j->req.local_arg, &j->reply);
	msgpack_sbuffer_destroy(&j->reply);
	free(j);
}

/*
 * Run method m with params as a socket request would run, for a caller
 * that is not a connection: the same checks, the same code, and the
 * same admission of where it runs (a reader thread when the method may
 * and the request is not cheap, the group commit for a write).  done
 * gets the result or the error on the loop, once; params must live
 * until then.  Authentication and shutdown are the caller's to check.
 */
void
dispatch_local(const struct method *m, const msgpack_object *params,
    dispatch_local_cb done, void *arg)
{
	struct local_job	*j = xcalloc(1, sizeof *j);

	j->method = m;
	j->req.params = params;
	j->req.local = done;
	j->req.local_arg = arg;
	msgpack_sbuffer_init(&j->reply);
	j->req.sbuf = &j->reply;
	if (m->flags & METHOD_WRITE) {
		/* The commit answers it (commit_reply). */
		m->exec(&j->req);
		msgpack_sbuffer_destroy(&j->reply);
		free(j);
		return;
	}
	if ((m->flags & METHOD_READER) != 0 &&
	    (m->cheap == NULL || !m->cheap(params)) &&
	    readers_call(dispatch_local_run, dispatch_local_done, j) == 0)
		return;
	dispatch_local_run(j);
	dispatch_local_done(j);
}

/* Hand a packed reply (a response frame's body) to a local caller. */
void
dispatch_local_reply(dispatch_local_cb done, void *arg,
    const msgpack_sbuffer *reply)
{
	msgpack_unpacked	 u;
	struct msg		 msg;
	struct aerr		 err;

	msgpack_unpacked_init(&u);
	if (reply->size == 0 || msgpack_unpack_next(&u, reply->data,
	    reply->size, NULL) != MSGPACK_UNPACK_SUCCESS ||
	    msg_parse(&u.data, &msg, &err) != 0) {
		aerr_set(&err, AERR_INTERNAL, "the method sent no reply");
		done(arg, NULL, &err);
	} else if (msg_error(msg.error, &err) != 0)
		done(arg, NULL, &err);
	else
		done(arg, msg.result, NULL);
	msgpack_unpacked_destroy(&u);
}
