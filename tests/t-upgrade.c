/*
 * Stores written by an older annalsd.  tests/data/store-format2 holds a
 * store of format 2, made by annalsd at 51a017e from the demo events
 * with an update, a moved start and two deletes, and what that annalsd
 * answered to the commands below (expect.txt).  Today's annalsd must
 * upgrade it in place and answer exactly the same.
 * tests/data/store-text-blocks is that store upgraded to format 3 by
 * annalsd at b474b2b, whose word index had no tails (text_tail): its
 * index is built again, and the answers are the same, its records
 * naming their attrs by string as format 3 did.
 * tests/data/store-format4 holds a store of format 4 (records keyed by
 * id, attrs named by id) made by annalsd at 2c8fe42, and its answers to
 * upgrade_cmds4: its records are moved to time order on open.
 * tests/data/store-format5 holds a store of format 5 (records keyed by
 * start and id) made by annalsd at 11d0bad, and its answers to
 * upgrade_cmds4: the records of its long events move to their class.
 * tests/data/store-format8 holds a store of format 8 (an entry of ids
 * for each id) made by annalsd at 883542f: its ids move into blocks.
 * tests/data/store-format9 holds a store of format 9 (an entry of
 * changes for each seq) made by annalsd at 74f395d: its change log
 * moves into blocks.
 * tests/data/store-format10 holds a store of format 10 (an entry of
 * time for each event) made by annalsd at 206c430: its time index moves
 * into blocks.
 * tests/data/store-format11 holds a store of format 11 (long events'
 * records in events, under their class, start and id) made by annalsd
 * at 12f569c: those records move into the databases of their classes.
 * tests/data/store-format12 holds a store of format 12 (word index
 * blocks of 1 KB) made by annalsd at 91f1792: it is marked 13 and read
 * as it is.
 * tests/data/store-fold1 holds 8 events (events.jsonl beside it) put by
 * annalsd at 79c9c0a, whose word index kept Latin letters that Unicode
 * does not decompose ("ł", "ø", "ı") as they are: its words are folded
 * again on open.
 */
#define _GNU_SOURCE		/* memmem */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "harness.h"
#include "test.h"
#include "../daemon/annalsd.h"
#include "../daemon/store-int.h"

typedef const char *const upgrade_cmd[12];

/* The commands of store-format2/expect.txt, each ending with NULL. */
static upgrade_cmd upgrade_cmds[] = {
	{ "range", "1900", "2100", "--all", NULL },
	{ "range", "1900", "2100", "--all", "--desc", "--type", "1", NULL },
	{ "actor", "SYRGOV", "--all", NULL },
	{ "actors", NULL },
	{ "get", "1", "3", "5", "7", "79", NULL },
	{ "changes", "--limit", "1000", NULL },
	{ "histogram", "1990", "2030", "--by", "year", NULL },
	{ "histogram", "2011-01-01", "2013-12-31", "--by", "month", "--type",
	    "1", NULL },
	{ "top", "1900", "2100", "--limit", "10", NULL },
	{ NULL },
};

/* Those of store-format4/expect.txt: attrs named by id, and words. */
static upgrade_cmd upgrade_cmds4[] = {
	{ "range", "1900", "2100", "--all", NULL },
	{ "range", "1900", "2100", "--all", "--desc", "--type", "1", NULL },
	{ "actor", "SYRGOV", "--all", NULL },
	{ "actors", NULL },
	{ "get", "1", "3", "5", "7", "11", "79", NULL },
	{ "changes", "--limit", "1000", NULL },
	{ "range", "1900", "2100", "--all", "--text", "daraa", NULL },
	{ "histogram", "1990", "2030", "--by", "year", NULL },
	{ "top", "1900", "2100", "--limit", "10", NULL },
	{ NULL },
};

/* Append s to the buffer *b of *len bytes. */
static void
upgrade_cat(char **b, size_t *len, const char *s)
{
	size_t	n = strlen(s);

	*b = realloc(*b, *len + n + 1);
	T_ASSERT(*b != NULL);
	memcpy(*b + *len, s, n + 1);
	*len += n;
}

/* Run the commands as expect.txt was made: the same lines, in order. */
static char *
upgrade_answers(const struct th_daemon *d, const upgrade_cmd *cmds)
{
	const char	*argv[16];
	struct th_run	 r;
	char		*out = NULL, line[256];
	size_t		 len = 0, i, j;

	upgrade_cat(&out, &len, "");
	for (i = 0; cmds[i][0] != NULL; i++) {
		argv[0] = "--format";
		argv[1] = "jsonl";
		snprintf(line, sizeof line, "# annals");
		for (j = 0; cmds[i][j] != NULL; j++) {
			argv[2 + j] = cmds[i][j];
			strcat(line, " ");
			strcat(line, cmds[i][j]);
		}
		argv[2 + j] = NULL;
		strcat(line, "\n");
		upgrade_cat(&out, &len, line);
		th_annals(&r, d->sock, NULL, argv);
		upgrade_cat(&out, &len, r.out);
		upgrade_cat(&out, &len, "# stderr\n");
		upgrade_cat(&out, &len, r.err);
		snprintf(line, sizeof line, "# exit %d\n", r.status);
		upgrade_cat(&out, &len, line);
		th_run_free(&r);
	}
	return (out);
}

/* Lines of s before a "# stderr" line, those holding word if not NULL. */
static size_t
upgrade_lines(const char *s, const char *word)
{
	char	*line;
	size_t	 n = 0, len;

	while (*s != '\0' && strncmp(s, "# stderr", 8) != 0) {
		len = strcspn(s, "\n");
		line = strndup(s, len);
		T_ASSERT(line != NULL);
		n += word == NULL || strstr(line, word) != NULL;
		free(line);
		s += len + (s[len] == '\n');
	}
	return (n);
}

/*
 * The word index built when the upgraded store is opened finds the
 * events whose title or text name Daraa: those of the first answer (the
 * range over every event) that hold the word.
 */
static void
upgrade_text_matches(const struct th_daemon *d, const char *answers)
{
	const char	*argv[] = { "--format", "jsonl", "range", "1900",
	    "2100", "--all", "--text", "daraa", NULL };
	struct th_run	 r;
	size_t		 want;

	want = upgrade_lines(answers, "Daraa");
	T_ASSERT(want > 0);
	th_annals(&r, d->sock, NULL, argv);
	T_ASSERTF(r.status == 0, "%s", r.err);
	T_EQ_U64(upgrade_lines(r.out, NULL), want);
	T_EQ_U64(upgrade_lines(r.out, "Daraa"), want);
	th_run_free(&r);
}

/* annals check on d finds nothing wrong. */
static void
upgrade_check(const struct th_daemon *d)
{
	const char	*check[] = { "check", NULL };
	struct th_run	 r;

	th_annals(&r, d->sock, NULL, check);
	T_ASSERTF(r.status == 0 && strstr(r.out, "ok, 0 problems") != NULL,
	    "%s%s", r.out, r.err);
	th_run_free(&r);
}

/* Copy tests/data/<fixture>/data.mdb to the test's data directory. */
static void
upgrade_copy(const char *fixture)
{
	char	 path[512], dst[512], *data;
	size_t	 len;

	snprintf(path, sizeof path, "%s/../tests/data/%s/data.mdb",
	    t_bindir(), fixture);
	data = th_slurp(path, &len);
	T_ASSERT(data != NULL);
	snprintf(dst, sizeof dst, "%s/data", t_dir());
	T_ASSERT(mkdir(dst, 0750) == 0);
	snprintf(dst, sizeof dst, "%s/data/data.mdb", t_dir());
	th_write(dst, data, len);
	free(data);
}

/*
 * Open the store in the test's data directory, check its answers to
 * cmds against tests/data/<answers>/expect.txt, write to it, and return
 * the daemon's log.
 */
static char *
upgrade_open(const char *answers, const upgrade_cmd *cmds)
{
	const char	*put[] = { "add", "--start", "2021-06-01",
	    "--actor", "SYRGOV", "--title", "after the upgrade", NULL };
	const char	*set[] = { "set", "3", "--start", "1800",
	    NULL };
	const char	*rm[] = { "rm", "5", NULL };
	struct th_daemon d;
	struct th_run	 r;
	char		 path[512], *expect, *got, *log;
	size_t		 len;

	snprintf(path, sizeof path, "%s/../tests/data/%s/expect.txt",
	    t_bindir(), answers);
	expect = th_slurp(path, &len);
	T_ASSERT(expect != NULL);

	T_OK(th_daemon_start(&d, NULL));
	got = upgrade_answers(&d, cmds);
	if (strcmp(got, expect) != 0) {
		snprintf(path, sizeof path, "%s/upgrade-answers.txt", t_dir());
		th_write(path, got, strlen(got));
	}
	T_ASSERTF(strcmp(got, expect) == 0, "answers differ from "
	    "expect.txt: see upgrade-answers.txt in %s", t_dir());
	upgrade_text_matches(&d, got);
	free(got);
	free(expect);
	upgrade_check(&d);

	/* Writes after the upgrade keep the store whole. */
	th_annals(&r, d.sock, NULL, put);
	T_EQ_INT(r.status, 0);
	th_run_free(&r);
	th_annals(&r, d.sock, NULL, set);
	T_EQ_INT(r.status, 0);
	th_run_free(&r);
	th_annals(&r, d.sock, NULL, rm);
	T_EQ_INT(r.status, 0);
	th_run_free(&r);
	upgrade_check(&d);
	T_EQ_INT(th_daemon_stop(&d), 0);

	log = th_slurp(d.log, &len);
	T_ASSERT(log != NULL);
	return (log);
}

/*
 * Opened again, the store upgraded before, whose log said said, is not
 * upgraded twice.
 */
static void
upgrade_not_twice(const char *said)
{
	struct th_daemon d;
	char		*log;
	size_t		 len;

	T_OK(th_daemon_start(&d, NULL));
	T_EQ_INT(th_daemon_stop(&d), 0);
	log = th_slurp(d.log, &len);
	T_ASSERT(log != NULL);
	T_ASSERT(strstr(log, said) != NULL);
	T_ASSERT(strstr(strstr(log, said) + 1, "upgrad") == NULL);
	free(log);
}

TEST(upgrade_format2_store_answers_as_before)
{
	char	*log;

	upgrade_copy("store-format2");
	log = upgrade_open("store-format2", upgrade_cmds);
	T_ASSERTF(strstr(log, "upgrading the store from format 2 to 13") !=
	    NULL && strstr(log, "gave 77 records the seq") != NULL &&
	    strstr(log, "upgraded 77 records") != NULL, "%s", log);
	/* Format 2 had no word index: it is built after the upgrade. */
	T_ASSERTF(strstr(log, "indexed the words of 77 stored events") !=
	    NULL, "%s", log);
	free(log);

	upgrade_not_twice("upgraded 77");
}

TEST(upgrade_text_index_without_tails_is_built_again)
{
	struct th_daemon d;
	char		*log;
	size_t		 len;

	upgrade_copy("store-text-blocks");
	log = upgrade_open("store-format2", upgrade_cmds);
	T_ASSERTF(strstr(log, "indexed the words of 77 stored events") !=
	    NULL, "%s", log);
	/* Format 3's records are moved as they are: attrs keep names. */
	T_ASSERTF(strstr(log, "upgrading the store from format 3 to 13") !=
	    NULL && strstr(log, "upgraded 77 records") != NULL, "%s", log);
	free(log);

	/* Opened again, it is not indexed twice. */
	T_OK(th_daemon_start(&d, NULL));
	T_EQ_INT(th_daemon_stop(&d), 0);
	log = th_slurp(d.log, &len);
	T_ASSERT(log != NULL);
	T_ASSERT(strstr(strstr(log, "indexed the words") + 1,
	    "indexed the words") == NULL);
	free(log);
}

/*
 * Open the store of tests/data/<name>, of format from: the upgrade moves
 * n records, the store answers as before, and is not upgraded twice.
 */
static void
upgrade_fixture(const char *name, int from, int n)
{
	char	*log, upgrading[64], said[64];

	snprintf(upgrading, sizeof upgrading, "upgrading the store from "
	    "format %d to 13", from);
	snprintf(said, sizeof said, "upgraded %d records to store format 13",
	    n);
	upgrade_copy(name);
	log = upgrade_open(name, upgrade_cmds4);
	T_ASSERTF(strstr(log, upgrading) != NULL && strstr(log, said) != NULL,
	    "%s", log);
	free(log);
	upgrade_not_twice(said);
}

TEST(upgrade_format4_store_moves_records_to_time_order)
{
	upgrade_fixture("store-format4", 4, 77);
}

/*
 * A store of format 5, with months, years, intervals, an event moved from
 * a month to a quarter and deletes: the records of its 33 long events
 * (of 77: those not within a day) move under their class, and it
 * answers as it did.
 */
TEST(upgrade_format5_store_moves_long_records_by_class)
{
	upgrade_fixture("store-format5", 5, 33);
}

/*
 * Map the id of the record key (start, id) to its start as an annalsd
 * of the store's format would: an entry of ids (format 8 and before), or
 * its place in its block of idblocks.
 */
static void
upgrade_map_id(MDB_txn *txn, MDB_dbi ids, int blocks,
    const unsigned char *key)
{
	struct id_block	 b;
	unsigned char	 bk[8], buf[ID_BLOCK_MAX];
	MDB_val		 ik, iv;
	uint64_t	 id;
	int		 i;

	if (!blocks) {
		ik.mv_size = 8;
		ik.mv_data = (void *)(key + 8);
		iv.mv_size = 8;
		iv.mv_data = (void *)key;
		T_OK(mdb_put(txn, ids, &ik, &iv, 0));
		return;
	}
	for (id = 0, i = 8; i < 16; i++)
		id = id << 8 | key[i];
	for (i = 0; i < 8; i++)
		bk[i] = (unsigned char)((id >> ID_BLOCK_SHIFT) >> (56 - 8 * i));
	ik.mv_size = 8;
	ik.mv_data = bk;
	if (mdb_get(txn, ids, &ik, &iv) == 0)
		T_OK(store_idb_decode(iv.mv_data, iv.mv_size, &b));
	else
		b.present = 0;
	i = (int)(id & (ID_BLOCK_IDS - 1));
	b.present |= UINT64_C(1) << i;
	b.class[i] = 0;
	b.start[i] = skey_get_time(key);
	iv.mv_size = store_idb_encode(&b, buf);
	iv.mv_data = buf;
	T_OK(mdb_put(txn, ids, &ik, &iv, 0));
}

/*
 * Move the records of odd ids the entries of index (class, start, id)
 * name to their (start, id) keys, and put them in ids, as the upgrade
 * does; returns how many.
 */
static int
upgrade_move_odd(MDB_txn *txn, MDB_dbi index, MDB_dbi events, MDB_dbi ids,
    int blocks)
{
	MDB_cursor	*cur;
	MDB_val		 k, v, ek, ev;
	unsigned char	 key[16], *rec;
	uint64_t	 id;
	int		 i, moved = 0;

	T_OK(mdb_cursor_open(txn, index, &cur));
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		T_EQ_U64(k.mv_size, 17);
		memcpy(key, (unsigned char *)k.mv_data + 1, 16);
		for (id = 0, i = 8; i < 16; i++)
			id = id << 8 | key[i];
		if (id % 2 == 0)
			continue;
		ek.mv_size = 8;
		ek.mv_data = key + 8;
		T_OK(mdb_get(txn, events, &ek, &ev));
		rec = malloc(ev.mv_size);
		T_ASSERT(rec != NULL);
		memcpy(rec, ev.mv_data, ev.mv_size);
		ev.mv_data = rec;
		T_OK(mdb_del(txn, events, &ek, NULL));
		ek.mv_size = 16;
		ek.mv_data = key;
		T_OK(mdb_put(txn, events, &ek, &ev, 0));
		free(rec);
		upgrade_map_id(txn, ids, blocks, key);
		moved++;
	}
	mdb_cursor_close(cur);
	return (moved);
}

/*
 * A transaction on the store in the test's data directory, with flags
 * (MDB_RDONLY for a read), behind any annalsd's back.
 */
static MDB_txn *
upgrade_begin(MDB_env **env, unsigned int flags)
{
	MDB_txn	*txn;
	char	 path[512];

	snprintf(path, sizeof path, "%s/data", t_dir());
	T_OK(mdb_env_create(env));
	T_OK(mdb_env_set_maxdbs(*env, STORE_DBS_MAX));
	T_OK(mdb_env_set_mapsize(*env, 64 << 20));
	T_OK(mdb_env_open(*env, path, flags, 0640));
	T_OK(mdb_txn_begin(*env, NULL, flags, &txn));
	return (txn);
}

/*
 * Leave the store in the test's data directory as an upgrade cut short
 * would: the records of odd ids moved to their (start, id) keys as
 * format 5 kept them, the rest still keyed by id, the store marked as
 * format and "upgrading".  The starts are the time index's, staged or
 * not.  The change log stays an entry a seq, as a crash before the open
 * moved it into blocks leaves it.
 */
static void
upgrade_half_done(int format)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 events, time, time_new, ids, meta;
	MDB_val		 k, v;
	unsigned char	 be[8] = { 0 };
	int		 moved;

	be[7] = (unsigned char)format;
	txn = upgrade_begin(&env, 0);
	T_OK(mdb_dbi_open(txn, "events", 0, &events));
	T_OK(mdb_dbi_open(txn, "time", 0, &time));
	T_OK(mdb_dbi_open(txn, "time_new", 0, &time_new));
	T_OK(mdb_dbi_open(txn, format >= 9 ? "idblocks" : "ids", MDB_CREATE,
	    &ids));
	moved = upgrade_move_odd(txn, time, events, ids, format >= 9) +
	    upgrade_move_odd(txn, time_new, events, ids, format >= 9);
	T_EQ_INT(moved, 38);
	T_OK(mdb_dbi_open(txn, "meta", 0, &meta));
	k.mv_size = 6;
	k.mv_data = (void *)"format";
	v.mv_size = 8;
	v.mv_data = be;
	T_OK(mdb_put(txn, meta, &k, &v, 0));
	be[7] = 1;
	k.mv_size = 9;
	k.mv_data = (void *)"upgrading";
	T_OK(mdb_put(txn, meta, &k, &v, 0));
	T_OK(mdb_txn_commit(txn));
	mdb_env_close(env);
}

static void
upgrade_read_end(MDB_env *env, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* Whether database db holds key, in the test's data directory. */
static int
upgrade_has(const char *db, const char *key)
{
	MDB_env		*env;
	MDB_txn		*txn = upgrade_begin(&env, MDB_RDONLY);
	MDB_dbi		 dbi;
	MDB_val		 k = { strlen(key), (void *)key }, v;
	int		 rc;

	T_OK(mdb_dbi_open(txn, db, 0, &dbi));
	rc = mdb_get(txn, dbi, &k, &v);
	upgrade_read_end(env, txn);
	return (rc == 0);
}

/* Whether the store in the test's data directory has database db. */
static int
upgrade_has_db(const char *db)
{
	MDB_env		*env;
	MDB_txn		*txn = upgrade_begin(&env, MDB_RDONLY);
	MDB_dbi		 dbi;
	int		 rc;

	rc = mdb_dbi_open(txn, db, 0, &dbi);
	upgrade_read_end(env, txn);
	return (rc == 0);
}

TEST(upgrade_cut_short_is_finished_on_open)
{
	char	*log;

	upgrade_copy("store-format4");
	upgrade_half_done(STORE_FORMAT);
	T_ASSERT(upgrade_has("meta", "upgrading"));
	log = upgrade_open("store-format4", upgrade_cmds4);
	/*
	 * The 39 records of even ids, keyed by id, and the 14 of odd ids
	 * whose events are long, under their start and id.
	 */
	T_ASSERTF(strstr(log, "going on with the upgrade to format 13, which "
	    "was cut short") != NULL && strstr(log, "upgraded 53 records to "
	    "store format 13") != NULL, "%s", log);
	T_ASSERT(!upgrade_has("meta", "upgrading"));
	free(log);
}

/* The same, cut short by an annalsd of format 6. */
TEST(upgrade_cut_short_by_format_6_is_finished_on_open)
{
	char	*log;

	upgrade_copy("store-format4");
	upgrade_half_done(6);
	log = upgrade_open("store-format4", upgrade_cmds4);
	T_ASSERTF(strstr(log, "upgrading the store from format 6 to 13") !=
	    NULL && strstr(log, "upgraded 53 records to store format 13") !=
	    NULL && strstr(log, "indexed the actors and types of 77") != NULL,
	    "%s", log);
	T_ASSERT(!upgrade_has("meta", "upgrading"));
	free(log);
}

/*
 * A store whose words were folded by the rules before Latin-ASCII (meta
 * "text_fold" missing) is indexed again when opened, saying why, and
 * then finds its events by their words spelled in ASCII, as it did by
 * the words it found before; once, not at every start.
 */
TEST(upgrade_words_folded_by_older_rules_are_folded_again)
{
	static const char *const finds[][2] = {
		{ "lodz", "Łódź" }, { "ŁÓDŹ", "Łódź" },
		{ "orsted", "Ørsted" }, { "dakovic", "Đaković" },
		{ "diyarbakir", "Diyarbakır" }, { "hamrun", "Ħamrun" },
		{ "thingvellir", "Þingvellir" }, { "aero", "Ærø" },
		{ "oeuvre", "œuvre" }, { "geneve", "Genève" },
		{ "переговоры", "Переговоры" },
	};
	const char	*argv[] = { "--format", "jsonl", "range", "1900",
	    "2100", "--all", "--text", NULL, NULL };
	struct th_daemon d;
	struct th_run	 r;
	char		 path[512], *data, *log, *at;
	size_t		 len, i;

	upgrade_copy("store-fold1");
	/* Staged as annalsd at 79c9c0a folded them, in no other field. */
	snprintf(path, sizeof path, "%s/data/data.mdb", t_dir());
	data = th_slurp(path, &len);
	T_ASSERT(data != NULL);
	T_ASSERT(memmem(data, len, "łodz", strlen("łodz")) != NULL);
	free(data);
	T_ASSERT(upgrade_has("meta", "texted_to"));
	T_ASSERT(!upgrade_has("meta", "text_fold"));

	T_OK(th_daemon_start(&d, NULL));
	for (i = 0; i < sizeof finds / sizeof finds[0]; i++) {
		argv[7] = finds[i][0];
		th_annals(&r, d.sock, NULL, argv);
		T_ASSERTF(r.status == 0, "%s", r.err);
		T_ASSERTF(upgrade_lines(r.out, NULL) == 1 &&
		    strstr(r.out, finds[i][1]) != NULL, "--text %s: %s",
		    finds[i][0], r.out);
		th_run_free(&r);
	}
	upgrade_check(&d);
	T_EQ_INT(th_daemon_stop(&d), 0);
	T_ASSERT(upgrade_has("words", "lodz"));
	T_ASSERT(!upgrade_has("words", "łodz"));
	T_ASSERT(upgrade_has("meta", "text_fold"));

	/* Opened again, it is not indexed twice. */
	T_OK(th_daemon_start(&d, NULL));
	T_EQ_INT(th_daemon_stop(&d), 0);
	log = th_slurp(d.log, &len);
	T_ASSERT(log != NULL);
	T_ASSERTF((at = strstr(log, "the word index holds words folded by "
	    "rules 1, this annalsd folds by rules 2: indexing them again")) !=
	    NULL && (at = strstr(at, "indexed the words of 8 stored "
	    "events")) != NULL, "%s", log);
	T_ASSERTF(strstr(at + 1, "indexed the words") == NULL &&
	    strstr(at, "folded by rules") == NULL, "%s", log);
	free(log);
}

/*
 * A store of format 6, made as store-format5 was: its actor and type
 * indexes are built again as blocks of postings (format 7), and it
 * answers as it did.
 */
TEST(upgrade_format6_store_builds_blocks_of_postings)
{
	const char	*said = "indexed the actors and types of 77 stored "
			    "events";
	char		*log;

	upgrade_copy("store-format6");
	log = upgrade_open("store-format6", upgrade_cmds4);
	T_ASSERTF(strstr(log, "upgrading the store from format 6 to 13") !=
	    NULL && strstr(log, said) != NULL, "%s", log);
	free(log);
	upgrade_not_twice(said);
}

/*
 * Open the database of the records of class, events or its own: 0, or
 * MDB_NOTFOUND in a store of format 11 or before, which has events alone.
 */
static int
upgrade_rec_dbi(MDB_txn *txn, int class, MDB_dbi *dbi)
{
	char	name[32];

	store_rec_db_name(class, name, sizeof name);
	return (mdb_dbi_open(txn, name, 0, dbi));
}

/*
 * Records of the test's store, in events and the databases of long
 * events' classes (events.18 to events.63): maps, and not.
 */
static void
upgrade_count_records(size_t *maps, size_t *bypos)
{
	MDB_env		*env;
	MDB_txn		*txn = upgrade_begin(&env, MDB_RDONLY);
	MDB_dbi		 dbi;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 rc, b, class;

	*maps = *bypos = 0;
	for (class = SKEY_REC_SHORT; class <= SKEY_CLASS_INF; class++) {
		if ((rc = upgrade_rec_dbi(txn, class, &dbi)) == MDB_NOTFOUND)
			continue;
		T_OK(rc);
		T_OK(mdb_cursor_open(txn, dbi, &cur));
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			b = *(const unsigned char *)v.mv_data;
			if (b == 0xc1)
				(*bypos)++;
			else if ((b & 0xf0) == 0x80 || b == 0xde)
				(*maps)++;
		}
		T_EQ_INT(rc, MDB_NOTFOUND);
		mdb_cursor_close(cur);
	}
	upgrade_read_end(env, txn);
}

/* The answers to cmds of an annalsd started on the test's store. */
static char *
upgrade_answers_of_store(const upgrade_cmd *cmds)
{
	struct th_daemon d;
	char		*got;

	T_OK(th_daemon_start(&d, NULL));
	got = upgrade_answers(&d, cmds);
	T_EQ_INT(th_daemon_stop(&d), 0);
	return (got);
}

/* Run annalsd with the one option opt on the test's store; its status. */
static int
upgrade_annalsd(const char *opt)
{
	const char	*argv[5];
	char		 bin[512], data[512], out[512];

	snprintf(bin, sizeof bin, "%s/annalsd", t_bindir());
	snprintf(data, sizeof data, "%s/data", t_dir());
	snprintf(out, sizeof out, "%s/annalsd.out", t_dir());
	argv[0] = bin;
	argv[1] = opt;
	argv[2] = "--data";
	argv[3] = data;
	argv[4] = NULL;
	return (th_spawn(argv, NULL, out, out, 1));
}

/*
 * A store of format 7 (tests/data/store-format7, made at 977d3b0 as
 * store-format5 was) answers as it did with its records left maps; the
 * events written since are stored by position, and a compaction stores
 * the rest so, answering the same after.
 */
TEST(upgrade_format7_store_reads_its_maps_and_compacts_them)
{
	char		*log, *before, *after;
	size_t		 maps, bypos;

	upgrade_copy("store-format7");
	upgrade_count_records(&maps, &bypos);
	T_EQ_U64(maps, 77);
	T_EQ_U64(bypos, 0);
	log = upgrade_open("store-format7", upgrade_cmds4);
	T_ASSERTF(strstr(log, "upgrading the store from format 7 to 13") !=
	    NULL, "%s", log);
	free(log);
	/* The event added, and event 3 set: 77 less 3 and 5, plus 79. */
	upgrade_count_records(&maps, &bypos);
	T_EQ_U64(maps, 75);
	T_EQ_U64(bypos, 2);

	before = upgrade_answers_of_store(upgrade_cmds4);
	T_EQ_INT(upgrade_annalsd("--compact"), 0);
	T_EQ_INT(upgrade_annalsd("--check"), 0);
	upgrade_count_records(&maps, &bypos);
	T_EQ_U64(maps, 0);
	T_EQ_U64(bypos, 77);
	after = upgrade_answers_of_store(upgrade_cmds4);
	T_ASSERTF(strcmp(before, after) == 0, "answers changed in the "
	    "compaction:\n%s\n----\n%s", before, after);
	free(before);
	free(after);
}

/*
 * The entries that the blocks of database blocks hold in the test's data
 * directory, each block decoding, and in *entries the entries of
 * database old, an entry of each (the format before), -1 when that
 * database is gone.
 */
static size_t
upgrade_count_blocks(const char *old, const char *blocks, long *entries)
{
	union {
		struct id_block		 ids;
		struct log_block	 log;
	}		 b;
	MDB_env		*env;
	MDB_txn		*txn = upgrade_begin(&env, MDB_RDONLY);
	MDB_dbi		 dbi;
	MDB_cursor	*cur;
	MDB_stat	 ms;
	MDB_val		 k, v;
	size_t		 n = 0;
	int		 rc, log = strcmp(blocks, "logblocks") == 0;

	*entries = -1;
	if (mdb_dbi_open(txn, old, 0, &dbi) == 0) {
		T_OK(mdb_stat(txn, dbi, &ms));
		*entries = (long)ms.ms_entries;
	}
	if (mdb_dbi_open(txn, blocks, 0, &dbi) == 0) {
		T_OK(mdb_cursor_open(txn, dbi, &cur));
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
			T_OK(log ? store_log_decode(v.mv_data, v.mv_size,
			    &b.log) : store_idb_decode(v.mv_data, v.mv_size,
			    &b.ids));
			n += (size_t)__builtin_popcountll(store_bitmap_get(
			    v.mv_data));
		}
		T_EQ_INT(rc, MDB_NOTFOUND);
		mdb_cursor_close(cur);
	}
	upgrade_read_end(env, txn);
	return (n);
}

/*
 * tests/data/store-format8 was made by annalsd at 883542f as
 * store-format5 was: its 77 ids, an entry of ids each, move into blocks
 * when it is opened, ids goes, and the answers are that annalsd's.
 */
TEST(upgrade_format8_store_moves_its_ids_into_blocks)
{
	char	*log;
	long	 entries;

	upgrade_copy("store-format8");
	T_EQ_U64(upgrade_count_blocks("ids", "idblocks", &entries), 0);
	T_EQ_INT(entries, 77);
	log = upgrade_open("store-format8", upgrade_cmds4);
	T_ASSERTF(strstr(log, "upgrading the store from format 8 to 13") !=
	    NULL && strstr(log, "moved 77 places of records into blocks "
	    "of 64 ids") != NULL, "%s", log);
	free(log);
	/* The event added, less event 5: 77 again. */
	T_EQ_U64(upgrade_count_blocks("ids", "idblocks", &entries), 77);
	T_EQ_INT(entries, -1);
	upgrade_not_twice("moved 77 places of records");
}


/* The dictionary's changes, a line each: seq, op, kind and key. */
static int
upgrade_dict_change(void *arg, const struct store_change *ch)
{
	char	line[128];

	if (!STORE_CHANGE_IS_DICT(ch))
		return (STORE_CHANGE_SKIP);
	snprintf(line, sizeof line, "%llu %s %s %.*s\n",
	    (unsigned long long)ch->seq, ch->op == CHANGE_DICT_PUT ? "put" :
	    "delete", ch->dict_kind == DICT_NAME ? "name" : "alias",
	    (int)ch->dict_keylen, ch->dict_key);
	strcat(arg, line);
	return (0);
}

/*
 * tests/data/store-format9 was made by annalsd at 74f395d as
 * store-format5 was, with dictionary changes among the events' (the
 * README says which): its 82 changes, an entry of changes each, move
 * into blocks of 64 seqs when it is opened, changes goes, the answers
 * are that annalsd's, and the dictionary's changes come back as they
 * were logged.
 */
TEST(upgrade_format9_store_moves_its_change_log_into_blocks)
{
	struct store_config	 cfg;
	struct store		*st;
	struct aerr		 err;
	char			*log, path[512], got[1024] = "";
	uint64_t		 next, last;
	long			 entries;
	int			 more;

	upgrade_copy("store-format9");
	T_EQ_U64(upgrade_count_blocks("changes", "logblocks", &entries), 0);
	T_EQ_INT(entries, 82);
	log = upgrade_open("store-format9", upgrade_cmds4);
	T_ASSERTF(strstr(log, "upgrading the store from format 9 to 13") !=
	    NULL && strstr(log, "moved 82 changes of the log into blocks "
	    "of 64 seqs") != NULL, "%s", log);
	T_ASSERTF(strstr(log, "did not decode") == NULL, "%s", log);
	free(log);
	/* The event added: 83; a set and a delete replace their entries. */
	T_EQ_U64(upgrade_count_blocks("changes", "logblocks", &entries), 83);
	T_EQ_INT(entries, -1);
	upgrade_not_twice("moved 82 changes");

	snprintf(path, sizeof path, "%s/data", t_dir());
	memset(&cfg, 0, sizeof cfg);
	cfg.path = path;
	cfg.map_size = (size_t)64 << 20;
	cfg.max_map_size = (size_t)64 << 20;
	T_ASSERTF((st = store_open(&cfg, &err)) != NULL, "%s", err.msg);
	T_OK(store_changes(st, 0, 1000, upgrade_dict_change, got, &next,
	    &more, &last, &err));
	store_close(st);
	T_EQ_STR(got, "83 put name SYRGOV\n85 put alias assad\n"
	    "87 delete name RUS\n");
	T_EQ_U64(last, 92);
	T_EQ_INT(more, 0);
}

/*
 * Sweep the stage of the time index of the store in the test's data
 * directory into time, as format 10 kept it, an entry an event, but for
 * keep entries: what an annalsd of format 10 leaves once its stage
 * outgrew its size (a fixture that large would be megabytes).  Returns
 * how many moved.
 */
static size_t
upgrade_sweep_time(size_t keep)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 stage, time;
	MDB_cursor	*cur;
	MDB_stat	 ms;
	MDB_val		 k, v;
	size_t		 n = 0;

	txn = upgrade_begin(&env, 0);
	T_OK(mdb_dbi_open(txn, "time_new", 0, &stage));
	T_OK(mdb_dbi_open(txn, "time", 0, &time));
	T_OK(mdb_stat(txn, stage, &ms));
	T_OK(mdb_cursor_open(txn, stage, &cur));
	while (ms.ms_entries - n > keep &&
	    mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0) {
		T_OK(mdb_put(txn, time, &k, &v, 0));
		T_OK(mdb_cursor_del(cur, 0));
		n++;
	}
	mdb_cursor_close(cur);
	T_OK(mdb_txn_commit(txn));
	mdb_env_close(env);
	return (n);
}

/*
 * tests/data/store-format10 was made by annalsd at 206c430 as
 * store-format5 was, its time index all in the stage: swept into time
 * but for 10 entries, its entries move into blocks when it is opened,
 * time goes, and the answers are that annalsd's.
 */
TEST(upgrade_format10_store_moves_its_time_index_into_blocks)
{
	char	*log;

	upgrade_copy("store-format10");
	T_EQ_U64(upgrade_sweep_time(10), 77 - 10);
	T_ASSERT(upgrade_has_db("time"));
	log = upgrade_open("store-format10", upgrade_cmds4);
	T_ASSERTF(strstr(log, "upgrading the store from format 10 to 13") !=
	    NULL && strstr(log, "moved 67 entries of the time index into "
	    "blocks") != NULL, "%s", log);
	free(log);
	T_ASSERT(!upgrade_has_db("time"));
	upgrade_not_twice("moved 67 entries");
}

/*
 * The records of the test's store: *in_events kept in events under a
 * class, start and id (17 bytes, format 11 and before), *in_classes in
 * the databases of classes.
 */
static void
upgrade_count_long(size_t *in_events, size_t *in_classes)
{
	MDB_env		*env;
	MDB_txn		*txn = upgrade_begin(&env, MDB_RDONLY);
	MDB_dbi		 dbi;
	MDB_stat	 ms;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 rc, class;

	*in_events = *in_classes = 0;
	T_OK(upgrade_rec_dbi(txn, 0, &dbi));
	T_OK(mdb_cursor_open(txn, dbi, &cur));
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
		*in_events += k.mv_size == SKEY_TIME_LEN;
	T_EQ_INT(rc, MDB_NOTFOUND);
	mdb_cursor_close(cur);
	for (class = SKEY_REC_SHORT + 1; class <= SKEY_CLASS_INF; class++) {
		if ((rc = upgrade_rec_dbi(txn, class, &dbi)) == MDB_NOTFOUND)
			continue;
		T_OK(rc);
		T_OK(mdb_stat(txn, dbi, &ms));
		*in_classes += ms.ms_entries;
	}
	upgrade_read_end(env, txn);
}

/*
 * tests/data/store-format11 was made by annalsd at 12f569c as
 * store-format5 was: the records of its 33 long events move out of
 * events into the databases of their classes when it is opened, and the
 * answers are that annalsd's.  The writes after (event 3 set to 1800, a
 * year) keep them there.
 */
TEST(upgrade_format11_store_moves_long_records_into_their_classes)
{
	char	*log;
	size_t	 in_events, in_classes;

	upgrade_copy("store-format11");
	upgrade_count_long(&in_events, &in_classes);
	T_EQ_U64(in_events, 33);
	T_EQ_U64(in_classes, 0);
	T_ASSERT(!upgrade_has_db("events.25"));
	log = upgrade_open("store-format11", upgrade_cmds4);
	T_ASSERTF(strstr(log, "upgrading the store from format 11 to 13") !=
	    NULL && strstr(log, "moved 33 long events' records into the "
	    "databases of their classes") != NULL, "%s", log);
	free(log);
	upgrade_count_long(&in_events, &in_classes);
	T_EQ_U64(in_events, 0);
	T_EQ_U64(in_classes, 34);
	upgrade_not_twice("moved 33 long events' records");
}

/*
 * tests/data/store-format12 was made by annalsd at 91f1792 as
 * store-format5 was: it is marked 13 when opened, nothing moves, and
 * the answers are that annalsd's; opened again, it is not upgraded
 * twice.
 */
TEST(upgrade_format12_store_is_marked_13_and_read_as_it_is)
{
	char	*log;

	upgrade_copy("store-format12");
	log = upgrade_open("store-format12", upgrade_cmds4);
	T_ASSERTF(strstr(log, "upgrading the store from format 12 to 13") !=
	    NULL && strstr(log, "moved") == NULL, "%s", log);
	free(log);
	upgrade_not_twice("upgrading the store from format 12 to 13");
}
