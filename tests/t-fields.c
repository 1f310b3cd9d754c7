/*
 * Field projection (issue #16): the `fields` parameter of range, actor,
 * get and changes, through libannals against the real daemon, and the
 * cutting of a packed record (fields_project()) on its own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "harness.h"
#include "mpobj.h"
#include "test.h"
#include "../client/annals.h"
#include "../proto/proto.h"

/* Two actors, a place, attrs, tags: every key a projection can drop. */
static void
fields_put(annals_ctx *ctx, int n)
{
	static const struct annals_actor actors[2] = {
		{ "RUS", "host" }, { "SYR", NULL }
	};
	static const char *const tags[1] = { "talks" };
	static const unsigned char attrs[] = { 0x81, 0xa1, 'g', 0x04 };
	struct annals_event	ev[40];
	char			start[40][16], title[40][32];
	int			i;

	T_ASSERT(n <= 40);
	memset(ev, 0, sizeof ev);
	for (i = 0; i < n; i++) {
		snprintf(start[i], sizeof start[i], "2015-01-%02d", i % 28 + 1);
		snprintf(title[i], sizeof title[i], "Talks %d", i);
		ev[i].start = start[i];
		ev[i].end = "2015-02";
		ev[i].actors = actors;
		ev[i].nactors = 2;
		ev[i].type = "036";
		ev[i].title = title[i];
		ev[i].text = "A long text the list does not show.";
		ev[i].place_name = "Moscow";
		ev[i].tags = tags;
		ev[i].ntags = 1;
		ev[i].attrs = attrs;
		ev[i].attrs_len = sizeof attrs;
	}
	T_ASSERTF(annals_put(ctx, ev, (size_t)n, NULL) == 0, "%s",
	    annals_errmsg(ctx));
}

/* An event holding id, start and title only, as the projection asks. */
static void
fields_check_cut(const struct annals_event *e)
{
	T_ASSERT(e->id != 0);
	T_ASSERT(e->start != NULL);
	T_ASSERT(e->title != NULL && strncmp(e->title, "Talks ", 6) == 0);
	T_ASSERT(e->end == NULL && e->type == NULL && e->text == NULL);
	T_ASSERT(e->place_name == NULL && !e->has_lat);
	T_EQ_INT(e->nactors, 0);
	T_EQ_INT(e->ntags, 0);
	T_EQ_INT(e->attrs_len, 0);
	T_EQ_INT(e->rev, 0);
	T_EQ_INT(e->created, 0);
}

static int
fields_change(const struct annals_change *ch, void *arg)
{
	int	*n = arg;

	T_ASSERT(ch->event != NULL);
	T_EQ_INT(ch->event->id, ch->id);
	fields_check_cut(ch->event);
	(*n)++;
	return (0);
}

TEST(issue_16_fields_cut_range_actor_get_and_changes)
{
	struct th_daemon		 d;
	const struct annals_event	*e;
	struct annals_event		*got;
	annals_ctx			*ctx;
	annals_query			*q;
	annals_iter			*it;
	uint64_t			 prev = 0, ids[40];
	int				 n = 0;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	fields_put(ctx, 40);

	/* Pages of 7 with a cursor each: the same 40 events, cut. */
	T_ASSERT((q = annals_query_new()) != NULL);
	T_EQ_INT(annals_query_set_page_size(q, 7), 0);
	T_EQ_INT(annals_query_set_fields(q, "start,title"), 0);
	T_ASSERT((it = annals_range(ctx, q)) != NULL);
	while ((e = annals_iter_next(it)) != NULL) {
		fields_check_cut(e);
		T_ASSERT(strcmp(e->start, "2015-01-01") >= 0);
		T_EQ_INT(e->match, ANNALS_MATCH_CERTAIN);
		ids[n++] = e->id;
	}
	T_EQ_INT(annals_iter_error(it), 0);
	T_EQ_INT(n, 40);
	annals_iter_free(it);

	/* actor, and a whole record again once fields is cleared. */
	T_EQ_INT(annals_query_set_actor(q, "SYR", NULL), 0);
	T_ASSERT((it = annals_actor(ctx, q)) != NULL);
	T_ASSERT((e = annals_iter_next(it)) != NULL);
	fields_check_cut(e);
	annals_iter_free(it);
	T_EQ_INT(annals_query_set_fields(q, NULL), 0);
	T_ASSERT((it = annals_actor(ctx, q)) != NULL);
	T_ASSERT((e = annals_iter_next(it)) != NULL);
	T_EQ_INT(e->nactors, 2);
	T_ASSERT(e->text != NULL && e->attrs_len == 4 && e->rev == 1);
	annals_iter_free(it);

	/*
	 * attrs asked for: stored by the dictionary's id from the second
	 * event on, its name comes back in each (and without it, no attrs
	 * above, and the name is not looked up).
	 */
	T_EQ_INT(annals_query_set_fields(q, "title,attrs"), 0);
	T_ASSERT((it = annals_actor(ctx, q)) != NULL);
	for (n = 0; (e = annals_iter_next(it)) != NULL; n++) {
		T_ASSERT(e->text == NULL && e->nactors == 0);
		T_ASSERT(e->attrs_len == 4 &&
		    memcmp(e->attrs, "\x81\xa1g\x04", 4) == 0);
	}
	T_EQ_INT(annals_iter_error(it), 0);
	T_EQ_INT(n, 40);
	annals_iter_free(it);
	T_EQ_INT(annals_query_set_fields(q, NULL), 0);

	/* A bad name leaves the query as it was. */
	T_EQ_INT(annals_query_set_fields(q, "start,titel"), ANNALS_EINVALID);
	T_EQ_INT(annals_query_set_fields(q, "start,,title"), ANNALS_EINVALID);
	T_EQ_INT(annals_query_set_fields(q, "title,title"), ANNALS_EINVALID);
	T_ASSERT((it = annals_actor(ctx, q)) != NULL);
	T_ASSERT((e = annals_iter_next(it)) != NULL);
	T_EQ_INT(e->nactors, 2);
	annals_iter_free(it);
	annals_query_free(q);

	/* get: the id comes although not named. */
	T_ASSERTF(annals_get_fields(ctx, ids[3], "title,start", &got) == 0,
	    "%s", annals_errmsg(ctx));
	T_EQ_INT(got->id, ids[3]);
	fields_check_cut(got);
	annals_event_free(got);
	T_ASSERT(annals_get_fields(ctx, ids[3], "id", &got) == 0);
	T_ASSERT(got->id == ids[3] && got->start == NULL &&
	    got->nactors == 0);
	annals_event_free(got);
	T_EQ_INT(annals_get_fields(ctx, ids[3], "start,titel", &got), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_EQ_STR(annals_errmsg(ctx), "fields[1]: unknown field \"titel\"");
	T_ASSERT(got == NULL);

	/* changes: every put's event is cut. */
	n = 0;
	T_ASSERTF(annals_changes_fields(ctx, prev, 0, "start,title",
	    fields_change, &n, NULL) == 0, "%s", annals_errmsg(ctx));
	T_EQ_INT(n, 40);

	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* Pack {"id": 1, "start": "2015", "title": "T", "attrs": {...}}. */
static void
fields_record(msgpack_sbuffer *sb)
{
	msgpack_packer	pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	mp_pack_kv_uint(&pk, "id", 1);
	mp_pack_kv_str(&pk, "start", "2015");
	mp_pack_kv_str(&pk, "title", "T");
	mp_pack_str(&pk, "attrs");
	msgpack_pack_map(&pk, 1);
	mp_pack_str(&pk, "a");
	msgpack_pack_array(&pk, 2);
	mp_pack_str(&pk, "x");
	msgpack_pack_nil(&pk);
}

/* out holds one map whose keys are the NULL-ended names, in order. */
static void
fields_expect_keys(const msgpack_sbuffer *out, ...)
{
	msgpack_unpacked	 up;
	const char		*name;
	va_list			 ap;
	uint32_t		 i = 0;

	msgpack_unpacked_init(&up);
	T_EQ_INT(msgpack_unpack_next(&up, out->data, out->size, NULL),
	    MSGPACK_UNPACK_SUCCESS);
	T_EQ_INT(up.data.type, MSGPACK_OBJECT_MAP);
	va_start(ap, out);
	while ((name = va_arg(ap, const char *)) != NULL) {
		T_ASSERT(i < up.data.via.map.size);
		T_ASSERTF(mp_key_is(&up.data.via.map.ptr[i].key, name),
		    "key %u is not %s", i, name);
		i++;
	}
	va_end(ap);
	T_EQ_INT(up.data.via.map.size, i);
	msgpack_unpacked_destroy(&up);
}

TEST(issue_16_fields_project_keeps_the_bytes_of_the_kept_keys)
{
	struct mpobj		 m;
	msgpack_sbuffer		 sb, out;
	msgpack_unpacked	 up;
	struct aerr		 err;
	uint32_t		 set;

	fields_record(&sb);
	T_OK(fields_parse("title,attrs", &set, &err));
	T_EQ_INT(set, RECORD_FIELD(0) | RECORD_FIELD(10) | RECORD_FIELD(15));
	msgpack_sbuffer_init(&out);
	T_OK(fields_project(sb.data, sb.size, set, &out));
	msgpack_unpacked_init(&up);
	T_EQ_INT(msgpack_unpack_next(&up, out.data, out.size, NULL),
	    MSGPACK_UNPACK_SUCCESS);
	T_EQ_INT(up.data.via.map.size, 3);
	T_ASSERT(mp_get(&up.data, "start") == NULL);
	T_ASSERT(mp_get(&up.data, "attrs") != NULL);
	T_EQ_INT(mp_get(&up.data, "attrs")->via.map.size, 1);
	msgpack_unpacked_destroy(&up);

	/* Not a record as record_pack() writes one: nothing appended. */
	out.size = 0;
	T_EQ_INT(fields_project(sb.data, sb.size - 1, set, &out), -1);
	T_EQ_INT(fields_project("\x91\x01", 2, set, &out), -1);
	T_EQ_INT(fields_project("", 0, set, &out), -1);
	T_EQ_INT(out.size, 0);
	/* fields_write() then sends it whole. */
	fields_write(&out, sb.data, sb.size - 1, set);
	T_EQ_INT(out.size, sb.size - 1);

	/* A last entry not kept is not read: attrs here. */
	T_OK(fields_parse("title", &set, &err));
	out.size = 0;
	T_OK(fields_project(sb.data, sb.size - 1, set, &out));
	fields_expect_keys(&out, "id", "title", NULL);

	/* Keys out of record_pack()'s order are all still looked at. */
	mpobj_json(&m, "{'title':'T','start':'2015','id':1}");
	T_OK(fields_parse("start", &set, &err));
	out.size = 0;
	T_OK(fields_project(m.sbuf.data, m.sbuf.size, set, &out));
	fields_expect_keys(&out, "start", "id", NULL);
	mpobj_free(&m);

	T_EQ_INT(fields_parse("", &set, &err), 0);
	T_EQ_INT(set, RECORD_FIELDS_ALL);
	T_EQ_INT(fields_parse("id,", &set, &err), -1);
	T_EQ_STR(err.msg, "fields[1]: must not be empty");
	msgpack_sbuffer_destroy(&out);
	msgpack_sbuffer_destroy(&sb);
}
