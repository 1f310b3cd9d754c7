/*
 * changes, subscribe, unsubscribe: the change feed.  changes pages
 * through the log after a sequence number; a subscribed connection is
 * sent the same pages as notifications [2, "changes", [page]], first the
 * backlog, then after every commit, as fast as it reads them.  A page
 * ends at its limit of changes or at the byte budget of range's pages,
 * whichever comes first, but always holds at least one change.
 */
#include <sys/queue.h>

#include <stdlib.h>

#include "annalsd.h"

struct page {
	msgpack_sbuffer	 items;		/* the packed change maps */
	msgpack_packer	 pk;
	size_t		 n;
	size_t		 bytes;		/* counted against the budget */
	uint32_t	 fields;	/* of each event */
	int		 dict;		/* with the dictionary's changes */
	uint64_t	 next;
	uint64_t	 last_seq;
	int		 more;
};

struct sub {
	struct conn		*conn;		/* holds a reference */
	uint64_t		 next;
	int			 dict;		/* "dictionary": true */
	TAILQ_ENTRY(sub)	 entry;
};

static TAILQ_HEAD(, sub)	subs = TAILQ_HEAD_INITIALIZER(subs);
static int			listening;

#define CHANGES_PUSH_PAGE	1000
/* The most a change's map takes besides its record (seq, op, id keys). */
#define CHANGES_ENTRY_BYTES	48

static int
page_add(void *arg, const struct store_change *ch)
{
	struct page	*p = arg;
	size_t		 size = CHANGES_ENTRY_BYTES + ch->len;

	if (STORE_CHANGE_IS_DICT(ch)) {
		if (!p->dict)
			return (STORE_CHANGE_SKIP);
		size += ch->dict_keylen;
	}
	/* A projected event is counted whole: the page only gets shorter. */
	if (p->n > 0 && p->bytes + size > dispatch_page_budget())
		return (STORE_PAGE_FULL);
	p->bytes += size;
	if (STORE_CHANGE_IS_DICT(ch)) {
		/* The entry, or (a delete) the key that names it. */
		msgpack_pack_map(&p->pk, 3);
		mp_pack_kv_uint(&p->pk, "seq", ch->seq);
		mp_pack_kv_str(&p->pk, "op", change_op_name(ch->op));
		mp_pack_str(&p->pk, "entry");
		if (ch->op == CHANGE_DICT_PUT)
			msgpack_sbuffer_write(&p->items, ch->data, ch->len);
		else
			dict_pack_key(&p->pk, ch->dict_kind, ch->dict_key,
			    ch->dict_keylen);
		p->n++;
		return (0);
	}
	msgpack_pack_map(&p->pk, ch->op == CHANGE_PUT ? 4 : 3);
	mp_pack_kv_uint(&p->pk, "seq", ch->seq);
	mp_pack_kv_str(&p->pk, "op", change_op_name(ch->op));
	mp_pack_kv_uint(&p->pk, "id", ch->id);
	if (ch->op == CHANGE_PUT) {
		mp_pack_str(&p->pk, "event");
		fields_write(&p->items, ch->data, ch->len, p->fields);
	}
	p->n++;
	return (0);
}

static int
page_read(struct page *p, uint64_t since, uint32_t limit, uint32_t fields,
    int dict, struct aerr *err)
{
	p->fields = fields;
	p->dict = dict;
	msgpack_sbuffer_init(&p->items);
	msgpack_packer_init(&p->pk, &p->items, msgpack_sbuffer_write);
	p->n = 0;
	p->bytes = 0;
	if (store_changes(server->store, since, limit, page_add, p, &p->next,
	    &p->more, &p->last_seq, err) != 0) {
		msgpack_sbuffer_destroy(&p->items);
		return (-1);
	}
	return (0);
}

/* The page's map: changes, next, more, last_seq.  Frees the page. */
static void
page_pack(struct conn *c, msgpack_packer *pk, struct page *p)
{
	msgpack_pack_map(pk, 4);
	mp_pack_str(pk, "changes");
	msgpack_pack_array(pk, p->n);
	msgpack_sbuffer_write(conn_sbuf(c), p->items.data, p->items.size);
	mp_pack_kv_uint(pk, "next", p->next);
	mp_pack_str(pk, "more");
	if (p->more)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mp_pack_kv_uint(pk, "last_seq", p->last_seq);
	msgpack_sbuffer_destroy(&p->items);
}

static int
read_since(const struct request *req, uint64_t *since, int *dict,
    struct aerr *err)
{
	const msgpack_object	*o;

	*since = 0;
	*dict = 0;
	if ((o = mp_get(req->params, "since")) != NULL &&
	    mp_uint(o, "since", since, err) != 0)
		return (-1);
	if ((o = mp_get(req->params, "dictionary")) != NULL &&
	    o->type != MSGPACK_OBJECT_NIL &&
	    mp_bool(o, "dictionary", dict, err) != 0)
		return (-1);
	return (0);
}

static void
method_changes_exec(struct request *req)
{
	static const char *const params[] = { "since", "limit", "fields",
	    "dictionary", NULL };
	struct page		 p;
	struct aerr		 err;
	uint64_t		 since;
	uint32_t		 limit;
	uint32_t		 fields;
	int			 dict;

	if (dispatch_check_params(req, params, &err) != 0 ||
	    read_since(req, &since, &dict, &err) != 0 ||
	    fields_param(req->params, &fields, &err) != 0)
		goto fail;
	if (dispatch_page_limit(req, &limit, &err) != 0)
		goto fail;
	if (page_read(&p, since, limit, fields, dict, &err) != 0)
		goto fail;
	page_pack(req->conn, conn_reply_begin(req->conn, req->msgid), &p);
	conn_reply_end(req->conn);
	return;
fail:
	dispatch_error(req, &err);
}

static void
sub_free(struct sub *s)
{
	TAILQ_REMOVE(&subs, s, entry);
	if (!conn_dead(s->conn))
		conn_set_drain(s->conn, NULL);
	conn_unref(s->conn);
	free(s);
	if (TAILQ_EMPTY(&subs) && listening) {
		listening = 0;
	}
}

/* Send a subscriber what it has not seen, while it keeps reading. */
static void
sub_push(struct sub *s)
{
	struct page	p;
	struct aerr	err;

	while (!conn_output_full(s->conn)) {
		if (page_read(&p, s->next, CHANGES_PUSH_PAGE,
		    RECORD_FIELDS_ALL, s->dict, &err) != 0) {
			/* Its place in the log was pruned away. */
			conn_reply_error(s->conn, 0, err.code, err.msg);
			conn_close(s->conn, err.msg);
			return;
		}
		if (p.n == 0) {
			/* Past what it skipped, if anything. */
			s->next = p.next;
			msgpack_sbuffer_destroy(&p.items);
			return;
		}
		s->next = p.next;
		page_pack(s->conn, conn_notify_begin(s->conn, "changes"), &p);
		conn_reply_end(s->conn);
	}
}

static struct sub *
sub_find(struct conn *c)
{
	struct sub	*s;

	TAILQ_FOREACH(s, &subs, entry) {
		if (s->conn == c)
			return (s);
	}
	return (NULL);
}

static void
sub_drained(struct conn *c)
{
	struct sub	*s;

	if ((s = sub_find(c)) != NULL)
		sub_push(s);
}

static void
subs_committed(void *arg, uint64_t seq)
{
	struct sub	*s, *next;

	(void)arg; (void)seq;
	for (s = TAILQ_FIRST(&subs); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (conn_dead(s->conn))
			sub_free(s);
		else
			sub_push(s);
	}
}

/* Drop every subscription (at shutdown). */
void
subs_free(void)
{
	while (!TAILQ_EMPTY(&subs))
		sub_free(TAILQ_FIRST(&subs));
	if (listening)
		changes_unlisten(subs_committed, NULL);
	listening = 0;
}

static void
method_subscribe_exec(struct request *req)
{
	static const char *const params[] = { "since", "dictionary", NULL };
	struct sub	*s;
	struct aerr	 err;
	uint64_t	 since;
	msgpack_packer	*pk;
	int		 dict;

	if (dispatch_check_params(req, params, &err) != 0 ||
	    read_since(req, &since, &dict, &err) != 0) {
		dispatch_error(req, &err);
		return;
	}
	/*
	 * Moving a subscription would leave pages of the old position in
	 * flight behind the reply: one subscription per connection.
	 */
	if (sub_find(req->conn) != NULL) {
		aerr_set(&err, AERR_INVALID, "already subscribed: unsubscribe "
		    "first");
		dispatch_error(req, &err);
		return;
	}
	if (since > store_last_seq(server->store)) {
		aerr_set(&err, AERR_INVALID, "since: %llu is past the last "
		    "change, %llu", (unsigned long long)since,
		    (unsigned long long)store_last_seq(server->store));
		dispatch_error(req, &err);
		return;
	}
	s = xcalloc(1, sizeof *s);
	s->conn = req->conn;
	conn_ref(s->conn);
	TAILQ_INSERT_TAIL(&subs, s, entry);
	conn_set_drain(s->conn, sub_drained);
	s->next = since;
	s->dict = dict;
	if (!listening) {
		changes_listen(subs_committed, NULL);
		listening = 1;
	}
	pk = conn_reply_begin(req->conn, req->msgid);
	msgpack_pack_map(pk, 1);
	mp_pack_kv_uint(pk, "next", since);
	conn_reply_end(req->conn);
	sub_push(s);
}

static void
method_unsubscribe_exec(struct request *req)
{
	static const char *const params[] = { NULL };
	struct sub	*s;
	struct aerr	 err;

	if (dispatch_check_params(req, params, &err) != 0) {
		dispatch_error(req, &err);
		return;
	}
	if ((s = sub_find(req->conn)) != NULL)
		sub_free(s);
	msgpack_pack_nil(conn_reply_begin(req->conn, req->msgid));
	conn_reply_end(req->conn);
}

const struct method method_changes = { "changes", 0, method_changes_exec,
    NULL };
const struct method method_subscribe = { "subscribe", 0,
    method_subscribe_exec, NULL };
const struct method method_unsubscribe = { "unsubscribe", 0,
    method_unsubscribe_exec, NULL };
