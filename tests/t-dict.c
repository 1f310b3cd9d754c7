/*
 * The actor dictionary: CAMEO's names for every actor code of the
 * samples, the dict_* methods against the real daemon (and their bad
 * input), dictionary changes in the change feed, and queries and
 * aggregations by alias against a brute-force model over random
 * dictionaries and events.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "mpobj.h"
#include "test.h"
#include "../client/annals.h"
#include "../daemon/cameo.h"
#include "../proto/proto.h"

/* annals(1)'s conversion, client/json.c. */
json_t	*json_from_mp(const msgpack_object *, char *, size_t);

/*
 * Call method with params written as JSON; returns the result as JSON,
 * or NULL with the error code in *code (and the message in ctx).
 */
static json_t *
dt_call(annals_ctx *ctx, const char *method, const char *params, int *code)
{
	struct mpobj		 p;
	msgpack_unpacked	 u;
	void			*res;
	size_t			 len;
	json_t			*j = NULL;
	char			 jerr[256];

	mpobj_json(&p, params);
	*code = 0;
	if (annals_call(ctx, method, p.sbuf.data, p.sbuf.size, &res,
	    &len) != 0) {
		*code = annals_errcode(ctx);
		mpobj_free(&p);
		return (NULL);
	}
	mpobj_free(&p);
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, res, len, NULL) == MSGPACK_UNPACK_SUCCESS)
		j = json_from_mp(&u.data, jerr, sizeof jerr);
	msgpack_unpacked_destroy(&u);
	annals_buf_free(res);
	return (j);
}

/* A call that must succeed. */
static json_t *
dt_ok(annals_ctx *ctx, const char *method, const char *params)
{
	json_t	*j;
	int	 code;

	j = dt_call(ctx, method, params, &code);
	T_ASSERTF(j != NULL, "%s %s: %s", method, params, annals_errmsg(ctx));
	return (j);
}

/* A call that must fail with code and a message holding what. */
static void
dt_fails(annals_ctx *ctx, const char *method, const char *params, int code,
    const char *what)
{
	json_t	*j;
	int	 got;

	j = dt_call(ctx, method, params, &got);
	T_ASSERTF(j == NULL, "%s %s succeeded", method, params);
	T_EQ_INT(got, code);
	T_ASSERTF(strstr(annals_errmsg(ctx), what) != NULL,
	    "%s %s: \"%s\" lacks \"%s\"", method, params, annals_errmsg(ctx),
	    what);
}

/* --- CAMEO names, checked against the tables read here --- */

/* Each row as "XXX<TAB>label". */
struct dt_table {
	char	row[700][96];
	size_t	n;
};

static void
dt_table_read(struct dt_table *t, const char *file)
{
	char	 path[512], line[256], *tab;
	FILE	*f;

	snprintf(path, sizeof path, "%s/../daemon/cameo/%s", t_bindir(), file);
	T_ASSERTF((f = fopen(path, "r")) != NULL, "%s", path);
	t->n = 0;
	T_ASSERT(fgets(line, sizeof line, f) != NULL);	/* the header */
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		T_ASSERT(t->n < 700 && strlen(line) == 3 &&
		    strlen(tab + 1) < 90);
		snprintf(t->row[t->n], sizeof t->row[0], "%.3s\t%.90s", line,
		    tab + 1);
		t->n++;
	}
	fclose(f);
}

/* The first label of a code in t, or NULL. */
static const char *
dt_table_find(const struct dt_table *t, const char *part)
{
	size_t	i;

	for (i = 0; i < t->n; i++) {
		if (strncmp(t->row[i], part, 3) == 0)
			return (t->row[i] + 4);
	}
	return (NULL);
}

/* GDELT's five tables, as daemon/cameo/ has them. */
enum { DT_COUNTRY, DT_TYPE, DT_GROUP, DT_RELIGION, DT_ETHNIC, DT_NTABLES };

static const struct dt_table *
dt_tables(void)
{
	static struct dt_table	t[DT_NTABLES];
	static const char	*files[DT_NTABLES] = { "countrycodes.tsv",
				    "typecodes.tsv", "knowngroupcodes.tsv",
				    "religioncodes.tsv", "ethniccodes.tsv" };
	static int		 loaded;
	size_t			 i;

	if (!loaded) {
		for (i = 0; i < DT_NTABLES; i++)
			dt_table_read(&t[i], files[i]);
		loaded = 1;
	}
	return (t);
}

/*
 * The name as cameo.c's comment defines it, by a plain walk: the first
 * part looked up among countries, types, known groups, religions and
 * ethnic groups, the others among types, known groups, religions,
 * countries and ethnic groups; types after the first part lower-cased
 * but for the four organisations.
 */
static int
dt_expected(const char *code, char *out, size_t size)
{
	static const int	 first[] = { DT_COUNTRY, DT_TYPE, DT_GROUP,
				    DT_RELIGION, DT_ETHNIC };
	static const int	 later[] = { DT_TYPE, DT_GROUP, DT_RELIGION,
				    DT_COUNTRY, DT_ETHNIC };
	const struct dt_table	*t = dt_tables();
	size_t			 len = strlen(code), i, j, k, o;
	const char		*l;
	const int		*order;
	char			 part[4];

	out[0] = '\0';
	if (len == 0 || len % 3 != 0 || len > 18)
		return (0);
	for (i = 0; i < len; i++) {
		if (!isascii((unsigned char)code[i]) ||
		    !isalpha((unsigned char)code[i]))
			return (0);
	}
	for (i = 0; i < len; i += 3) {
		memcpy(part, code + i, 3);
		part[3] = '\0';
		order = i == 0 ? first : later;
		for (k = 0, l = NULL; k < DT_NTABLES && l == NULL; k++)
			l = dt_table_find(&t[order[k]], part);
		if (l == NULL) {
			out[0] = '\0';
			return (0);
		}
		o = strlen(out);
		snprintf(out + o, size - o, "%s", i == 0 ? "" : i == 3 ? ": " :
		    ", ");
		o = strlen(out);
		snprintf(out + o, size - o, "%s", l);
		if (i > 0 && order[k - 1] == DT_TYPE && strcmp(part, "AMN") &&
		    strcmp(part, "IRC") && strcmp(part, "GRP") &&
		    strcmp(part, "UNO")) {
			for (j = o; out[j] != '\0'; j++)
				out[j] = (char)tolower((unsigned char)out[j]);
		}
	}
	return (1);
}

/* A sample code CAMEO's tables name nothing, and why. */
struct dt_unnamed {
	const char	*code;
	const char	*why;
	int		 seen;
};

/*
 * Check cameo_name() on every Actor1Code and Actor2Code (columns 6 and
 * 16) of a GDELT file against dt_expected(); counts the codes, and
 * fails for an unnamed code that is not in unnamed[] (each one found is
 * marked seen).
 */
static void
dt_cameo_file(const char *path, size_t *codes, struct dt_unnamed *unnamed,
    size_t nunnamed)
{
	char			 line[65536], *f[20], *p, want[CAMEO_MAX_NAME];
	char			 got[CAMEO_MAX_NAME];
	FILE			*fp;
	size_t			 u;
	int			 n, c, w, g;

	T_ASSERTF((fp = fopen(path, "r")) != NULL, "%s", path);
	while (fgets(line, sizeof line, fp) != NULL) {
		for (n = 0, p = line; n < 20 && p != NULL; n++) {
			f[n] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		T_ASSERT(n == 20);
		for (c = 5; c <= 15; c += 10) {
			if (f[c][0] == '\0')
				continue;
			w = dt_expected(f[c], want, sizeof want);
			g = cameo_name(f[c], strlen(f[c]), got, sizeof got);
			T_EQ_INT(g, w);
			T_EQ_STR(got, want);
			(*codes)++;
			if (g)
				continue;
			for (u = 0; u < nunnamed; u++) {
				if (strcmp(unnamed[u].code, f[c]) == 0)
					break;
			}
			T_ASSERTF(u < nunnamed, "%s: %s has no name", path,
			    f[c]);
			unnamed[u].seen = 1;
		}
	}
	fclose(fp);
}

/* Every code the list allows to go unnamed was found unnamed. */
static void
dt_unnamed_all_seen(const struct dt_unnamed *unnamed, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		T_ASSERTF(unnamed[i].seen, "%s (%s) is no sample code, or "
		    "now has a name", unnamed[i].code, unnamed[i].why);
}

#define DT_PTY	"PTY is in none of GDELT's tables"
#define DT_REL	"REL is in none of GDELT's tables (the ethnic table " \
		    "has rel in lower case)"
#define DT_AFU	"AFU is not in GDELT's known-group table"
#define DT_SSD	"SSD (South Sudan) is not in GDELT's country table " \
		    "(daemon/cameo/README.md)"

TEST(dict_cameo_names_of_every_sample_code)
{
	struct dt_unnamed	 unnamed[] = {
		{ "PTY", DT_PTY, 0 }, { "CHRPTY", DT_PTY, 0 },
		{ "GOVPTY", DT_PTY, 0 }, { "GOVPTYGOV", DT_PTY, 0 },
		{ "ITAPTY", DT_PTY, 0 }, { "USAGOVPTY", DT_PTY, 0 },
		{ "REL", DT_REL, 0 }, { "IGOAFRAFU", DT_AFU, 0 },
	};
	/* The example, and each kind of part. */
	static const struct {
		const char	*code, *name;
	} names[] = {
		{ "SYRGOV", "Syria: government" },
		{ "IGOUNO", "Inter-Governmental Organization: United Nations" },
		/* Known groups, after a type or a country, keep capitals. */
		{ "AFGINSTAL", "Afghanistan: insurgents, Taliban" },
		{ "NGOXFM", "Non-Governmental Organization: Oxfam" },
		{ "IGOUNODEVWBK", "Inter-Governmental Organization: United "
		    "Nations, development, World Bank" },
		/* Religions, first or not. */
		{ "MOSSHICVL", "Muslim: Shia, civilian" },
		{ "CHRCTH", "Christianity: Catholic" },
		/* Ethnic groups, in lower case. */
		{ "idgCOP", "Indigenous: police forces" },
		{ "kur", "Kurd" },
		/* A country after a type. */
		{ "MNCUSA", "Multinational Corporation: United States" },
		/* Taiwan is in GDELT's newer country table. */
		{ "TWN", "Taiwan" },
		{ "TWNGOV", "Taiwan: government" },
	};
	char			 path[512], buf[CAMEO_MAX_NAME];
	size_t			 codes = 0, k;
	const size_t		 n = sizeof unnamed / sizeof unnamed[0];

	snprintf(path, sizeof path, "%s/../tests/data/sample-gdelt1.tsv",
	    t_bindir());
	dt_cameo_file(path, &codes, unnamed, n);
	snprintf(path, sizeof path, "%s/../tests/data/sync-gdelt2.tsv",
	    t_bindir());
	dt_cameo_file(path, &codes, unnamed, n);
	T_ASSERT(codes > 200);
	dt_unnamed_all_seen(unnamed, n);

	for (k = 0; k < sizeof names / sizeof names[0]; k++) {
		T_ASSERTF(cameo_name(names[k].code, strlen(names[k].code), buf,
		    sizeof buf), "%s has no name", names[k].code);
		T_EQ_STR(buf, names[k].name);
	}
	/* South Sudan is not in it. */
	T_ASSERT(!cameo_name("SSDGOV", 6, buf, sizeof buf));
	T_EQ_STR(buf, "");
	/* SHN is a country first, a religion after. */
	T_ASSERT(cameo_name("SHN", 3, buf, sizeof buf));
	T_EQ_STR(buf, "Saint Helena");
	T_ASSERT(cameo_name("JPNSHN", 6, buf, sizeof buf));
	T_EQ_STR(buf, "Japan: Old Shinto School");
	/* The ways a code gets none. */
	T_ASSERT(!cameo_name("SYRPTY", 6, buf, sizeof buf));
	T_ASSERT(!cameo_name("SYRGO", 5, buf, sizeof buf));
	T_ASSERT(!cameo_name("Kur", 3, buf, sizeof buf));
	T_ASSERT(!cameo_name("CHRANG001", 9, buf, sizeof buf));
	T_ASSERT(!cameo_name("SYRGOVGOVGOVGOVGOVGOV", 21, buf, sizeof buf));
	T_ASSERT(!cameo_name("IGOUNO", 6, buf, 20));
	T_EQ_STR(buf, "");
}

TEST(dict_cameo_names_of_every_shared_sample_code)
{
	struct dt_unnamed	 unnamed[] = {
		{ "PTY", DT_PTY, 0 }, { "CHRPTY", DT_PTY, 0 },
		{ "GOVPTY", DT_PTY, 0 }, { "GOVPTYGOV", DT_PTY, 0 },
		{ "ITAPTY", DT_PTY, 0 }, { "USAGOVPTY", DT_PTY, 0 },
		{ "USAPTY", DT_PTY, 0 },
		{ "REL", DT_REL, 0 }, { "ITAREL", DT_REL, 0 },
		{ "KENREL", DT_REL, 0 }, { "POLREL", DT_REL, 0 },
		{ "SIKREL", DT_REL, 0 }, { "SYRREL", DT_REL, 0 },
		{ "USAREL", DT_REL, 0 },
		{ "IGOAFRAFU", DT_AFU, 0 },
		{ "SSD", DT_SSD, 0 }, { "SSDGOV", DT_SSD, 0 },
		{ "SCGSRB", "SCG is in none of GDELT's tables", 0 },
		{ "CHRANG001", "malformed: digits in a code", 0 },
	};
	const char		*dir = t_shared_data_or_skip();
	char			 path[512];
	size_t			 codes = 0;
	const size_t		 n = sizeof unnamed / sizeof unnamed[0];

	snprintf(path, sizeof path, "%s/gdelt1-events-sample.tsv", dir);
	dt_cameo_file(path, &codes, unnamed, n);
	snprintf(path, sizeof path, "%s/gdelt2-events-sample.tsv", dir);
	dt_cameo_file(path, &codes, unnamed, n);
	T_ASSERT(codes > 3000);
	dt_unnamed_all_seen(unnamed, n);
}

/* --- the methods --- */

/* Label and label_from of a code, by dict_get. */
static void
dt_label(annals_ctx *ctx, const char *code, const char *label,
    const char *from)
{
	char	 params[160];
	json_t	*r;

	snprintf(params, sizeof params, "{\"code\": \"%.128s\"}", code);
	r = dt_ok(ctx, "dict_get", params);
	T_EQ_STR(json_string_value(json_object_get(r, "label")), label);
	T_EQ_STR(json_string_value(json_object_get(r, "label_from")), from);
	json_decref(r);
}

TEST(dict_methods_put_get_list_delete)
{
	struct th_daemon	 d;
	annals_ctx		*ctx;
	json_t			*r, *e;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);

	/* A code nobody named shows CAMEO's name, of any kind of parts. */
	dt_label(ctx, "SYRGOV", "Syria: government", "cameo");
	dt_label(ctx, "AFGINSTAL", "Afghanistan: insurgents, Taliban",
	    "cameo");
	dt_label(ctx, "kurSEP", "Kurd: separatist rebels", "cameo");
	r = dt_ok(ctx, "dict_get", "{\"code\": \"SSDGOV\"}");
	T_ASSERT(json_string_value(json_object_get(r, "label")) == NULL);
	T_ASSERT(json_string_value(json_object_get(r, "cameo")) == NULL);
	T_EQ_STR(json_string_value(json_object_get(r, "label_from")), "none");
	json_decref(r);

	r = dt_ok(ctx, "dict_put", "{\"entries\": ["
	    "{\"kind\": \"name\", \"code\": \"SYRGOV\", "
	    "\"name\": \"Syrian government\"},"
	    "{\"kind\": \"alias\", \"alias\": \"Bashar al-Assad\", "
	    "\"codes\": [\"SYRGOV\"], \"during\": \"2000-07-17/2024-12-08\"},"
	    "{\"kind\": \"alias\", \"alias\": \"ISIS\", "
	    "\"codes\": [\"IMGMOSISI\", \"SYRREB\"]}]}");
	e = json_object_get(r, "results");
	T_EQ_INT(json_array_size(e), 3);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(e, 0),
	    "status")), "added");
	json_decref(r);

	/* The user's name wins; CAMEO's is still told. */
	r = dt_ok(ctx, "dict_get", "{\"code\": \"SYRGOV\"}");
	T_EQ_STR(json_string_value(json_object_get(r, "label")),
	    "Syrian government");
	T_EQ_STR(json_string_value(json_object_get(r, "label_from")), "user");
	T_EQ_STR(json_string_value(json_object_get(r, "cameo")),
	    "Syria: government");
	e = json_object_get(r, "aliases");
	T_EQ_INT(json_array_size(e), 1);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(e, 0),
	    "alias")), "Bashar al-Assad");
	json_decref(r);

	/* only_new keeps what is there; the same entry is unchanged. */
	r = dt_ok(ctx, "dict_put", "{\"only_new\": true, \"entries\": ["
	    "{\"kind\": \"name\", \"code\": \"SYRGOV\", \"name\": \"x\"},"
	    "{\"kind\": \"name\", \"code\": \"RUSGOV\", \"name\": \"Kremlin\"}"
	    "]}");
	e = json_object_get(r, "results");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(e, 0),
	    "status")), "kept");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(e, 1),
	    "status")), "added");
	json_decref(r);
	r = dt_ok(ctx, "dict_put", "{\"entries\": [{\"kind\": \"name\", "
	    "\"code\": \"RUSGOV\", \"name\": \"Kremlin\"}]}");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "results"), 0), "status")), "unchanged");
	json_decref(r);

	r = dt_ok(ctx, "dict_get", "{\"alias\": \"ISIS\"}");
	e = json_object_get(r, "entry");
	T_EQ_INT(json_array_size(json_object_get(e, "codes")), 2);
	T_ASSERT(json_object_get(e, "during") == NULL);
	json_decref(r);
	dt_fails(ctx, "dict_get", "{\"alias\": \"Daesh\"}", ANNALS_ENOTFOUND,
	    "no alias Daesh");

	/* Lists by key, in pages, by prefix, by code. */
	r = dt_ok(ctx, "dict_list", "{\"kind\": \"name\", \"limit\": 1}");
	T_EQ_INT(json_array_size(json_object_get(r, "entries")), 1);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "entries"), 0), "code")), "RUSGOV");
	T_EQ_STR(json_string_value(json_object_get(r, "cursor")), "RUSGOV");
	json_decref(r);
	r = dt_ok(ctx, "dict_list", "{\"kind\": \"name\", \"limit\": 1, "
	    "\"cursor\": \"RUSGOV\"}");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "entries"), 0), "code")), "SYRGOV");
	T_ASSERT(json_is_null(json_object_get(r, "cursor")));
	json_decref(r);
	r = dt_ok(ctx, "dict_list", "{\"kind\": \"alias\", \"prefix\": \"B\"}");
	T_EQ_INT(json_array_size(json_object_get(r, "entries")), 1);
	json_decref(r);
	r = dt_ok(ctx, "dict_list", "{\"kind\": \"alias\", \"code\": "
	    "\"SYRREB\"}");
	T_EQ_INT(json_array_size(json_object_get(r, "entries")), 1);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "entries"), 0), "alias")), "ISIS");
	json_decref(r);

	r = dt_ok(ctx, "dict_delete", "{\"keys\": [{\"kind\": \"name\", "
	    "\"code\": \"SYRGOV\"}, {\"kind\": \"alias\", \"alias\": \"nope\"}]}");
	T_ASSERT(json_is_true(json_array_get(json_object_get(r, "deleted"),
	    0)));
	T_ASSERT(json_is_false(json_array_get(json_object_get(r, "deleted"),
	    1)));
	json_decref(r);
	dt_label(ctx, "SYRGOV", "Syria: government", "cameo");

	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

static void
dt_imported_one(const struct annals_actor_info *i, void *arg)
{
	char	*out = arg;

	snprintf(out, 64, "%s", i->imported != NULL ? i->imported : "(null)");
}

/*
 * dict_get's imported name of code, want or NULL for none, over the
 * raw call and through annals_actor_info().
 */
static void
dt_imported(annals_ctx *ctx, const char *code, const char *want)
{
	char		 params[160], got[64];
	json_t		*r, *v;

	snprintf(params, sizeof params, "{\"code\": \"%.128s\"}", code);
	r = dt_ok(ctx, "dict_get", params);
	v = json_object_get(r, "imported");
	T_ASSERTF(v != NULL, "dict_get %s: no imported", code);
	if (want == NULL)
		T_ASSERTF(json_is_null(v), "dict_get %s: imported is not nil",
		    code);
	else
		T_EQ_STR(json_string_value(v), want);
	json_decref(r);
	T_ASSERTF(annals_actor_info(ctx, code, dt_imported_one, got) == 0,
	    "%s", annals_errmsg(ctx));
	T_EQ_STR(got, want != NULL ? want : "(null)");
}

TEST(dict_imported_names_give_way_to_cameo)
{
	struct th_daemon	 d;
	annals_ctx		*ctx;
	json_t			*r, *e;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	r = dt_ok(ctx, "dict_put", "{\"entries\": ["
	    "{\"kind\": \"name\", \"code\": \"USA\", "
	    "\"name\": \"UNITED STATES\", \"imported\": true},"
	    "{\"kind\": \"name\", \"code\": \"ACME\", "
	    "\"name\": \"ACME CORP\", \"imported\": true}]}");
	json_decref(r);
	/* CAMEO names USA, so the row's spelling is not the label ... */
	dt_label(ctx, "USA", "United States", "cameo");
	/* ... but dict_get tells it. */
	dt_imported(ctx, "USA", "UNITED STATES");
	/* Where CAMEO has nothing, the imported name is better than none. */
	dt_label(ctx, "ACME", "ACME CORP", "import");
	dt_imported(ctx, "ACME", "ACME CORP");
	/* A code with no name has no imported one. */
	dt_imported(ctx, "SYRGOV", NULL);
	/* The entry keeps its name and its mark. */
	r = dt_ok(ctx, "dict_list", "{\"kind\": \"name\", \"prefix\": "
	    "\"USA\"}");
	e = json_array_get(json_object_get(r, "entries"), 0);
	T_EQ_STR(json_string_value(json_object_get(e, "name")),
	    "UNITED STATES");
	T_ASSERT(json_is_true(json_object_get(e, "imported")));
	json_decref(r);

	/* A user's name over the imported one replaces it, and wins. */
	r = dt_ok(ctx, "dict_put", "{\"entries\": [{\"kind\": \"name\", "
	    "\"code\": \"USA\", \"name\": \"UNITED STATES\"}]}");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "results"), 0), "status")), "updated");
	json_decref(r);
	dt_label(ctx, "USA", "UNITED STATES", "user");
	dt_imported(ctx, "USA", NULL);
	/* And an importer's only_new put leaves it. */
	r = dt_ok(ctx, "dict_put", "{\"only_new\": true, \"entries\": ["
	    "{\"kind\": \"name\", \"code\": \"USA\", "
	    "\"name\": \"US\", \"imported\": true}]}");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "results"), 0), "status")), "kept");
	json_decref(r);
	dt_label(ctx, "USA", "UNITED STATES", "user");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"name\", "
	    "\"code\": \"USA\", \"name\": \"U\", \"imported\": 1}]}",
	    ANNALS_EINVALID, "entries[0]: imported: ");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"alias\", "
	    "\"alias\": \"U\", \"codes\": [\"USA\"], \"imported\": "
	    "true}]}", ANNALS_EINVALID, "unknown key");
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(dict_bad_input_gets_clear_errors)
{
	struct th_daemon	 d;
	annals_ctx		*ctx;
	char			 params[1024], big[300];

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"alias\", "
	    "\"alias\": \"A\", \"codes\": [\"SYR\"], \"during\": "
	    "\"2015-02-30/2016\"}]}", ANNALS_EINVALID,
	    "entries[0]: during: 2015-02-30 is not a date");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"alias\", "
	    "\"alias\": \"A\", \"codes\": [\"SYR\"], \"during\": "
	    "\"2016/2015\"}]}", ANNALS_EINVALID, "during: 2016/2015");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"alias\", "
	    "\"alias\": \"\", \"codes\": [\"SYR\"]}]}", ANNALS_EINVALID,
	    "entries[0]: alias: empty");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"alias\", "
	    "\"alias\": \"A*\", \"codes\": [\"SYR\"]}]}", ANNALS_EINVALID,
	    "may not end in '*'");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"alias\", "
	    "\"alias\": \"A\", \"codes\": []}]}", ANNALS_EINVALID,
	    "codes: 0 given, 1 to 64 allowed");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"alias\", "
	    "\"alias\": \"A\", \"codes\": [\"X\", \"X\"]}]}", ANNALS_EINVALID,
	    "codes[1]: X given twice");
	memset(big, 'n', 257);
	big[257] = '\0';
	snprintf(params, sizeof params, "{\"entries\": [{\"kind\": \"name\", "
	    "\"code\": \"SYR\", \"name\": \"%s\"}]}", big);
	dt_fails(ctx, "dict_put", params, ANNALS_EINVALID,
	    "name: 257 bytes exceeds limit 256");
	snprintf(params, sizeof params, "{\"entries\": [{\"kind\": \"alias\", "
	    "\"alias\": \"%.129s\", \"codes\": [\"SYR\"]}]}", big);
	dt_fails(ctx, "dict_put", params, ANNALS_EINVALID,
	    "alias: 129 bytes exceeds limit 128");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"name\", "
	    "\"code\": \"SYR\", \"name\": \"\"}]}", ANNALS_EINVALID,
	    "name: empty");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"name\", "
	    "\"code\": \"SYR\", \"name\": \"Syria \"}]}", ANNALS_EINVALID,
	    "name: begins or ends with a space");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"name\", "
	    "\"code\": \"SYR\", \"name\": \"a\\tb\"}]}", ANNALS_EINVALID,
	    "name: contains a control character");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"place\"}]}",
	    ANNALS_EINVALID, "kind: required, \"name\" or \"alias\"");
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"name\", "
	    "\"code\": \"SYR\", \"name\": \"S\", \"codes\": []}]}",
	    ANNALS_EINVALID, "unknown key");
	dt_fails(ctx, "dict_put", "{\"entries\": []}", ANNALS_EINVALID,
	    "entries: 0 given");
	dt_fails(ctx, "dict_delete", "{\"keys\": [{\"kind\": \"name\", "
	    "\"code\": \"SYR\", \"name\": \"S\"}]}", ANNALS_EINVALID,
	    "keys[0]: unknown key");
	dt_fails(ctx, "dict_get", "{}", ANNALS_EINVALID, "give code or alias");
	dt_fails(ctx, "dict_list", "{\"kind\": \"name\", \"code\": \"X\"}",
	    ANNALS_EINVALID, "code: only with kind alias");
	/* A batch with one bad entry writes none. */
	dt_fails(ctx, "dict_put", "{\"entries\": [{\"kind\": \"name\", "
	    "\"code\": \"SYR\", \"name\": \"S\"}, {\"kind\": \"name\"}]}",
	    ANNALS_EINVALID, "entries[1]: code: required");
	{
		json_t	*r = dt_ok(ctx, "dict_list", "{\"kind\": \"name\"}");

		T_EQ_INT(json_array_size(json_object_get(r, "entries")), 0);
		json_decref(r);
	}
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* --- the change feed --- */

TEST(dict_changes_in_the_feed_only_when_asked)
{
	struct th_daemon	 d;
	annals_ctx		*ctx;
	json_t			*r, *chs, *c;
	struct annals_event	 ev;
	struct annals_actor	 a = { "SYRGOV", NULL };
	size_t			 i, dict = 0, events = 0;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	memset(&ev, 0, sizeof ev);
	ev.start = "2015-01-28";
	ev.actors = &a;
	ev.nactors = 1;
	T_OK(annals_put(ctx, &ev, 1, NULL));
	json_decref(dt_ok(ctx, "dict_put", "{\"entries\": ["
	    "{\"kind\": \"name\", \"code\": \"SYRGOV\", \"name\": \"one\"},"
	    "{\"kind\": \"alias\", \"alias\": \"ISIL\", \"codes\": [\"X\"]}]}"));
	/* Compacted per key: only the latest of SYRGOV's name stays. */
	json_decref(dt_ok(ctx, "dict_put", "{\"entries\": ["
	    "{\"kind\": \"name\", \"code\": \"SYRGOV\", \"name\": \"two\"}]}"));
	json_decref(dt_ok(ctx, "dict_delete", "{\"keys\": ["
	    "{\"kind\": \"alias\", \"alias\": \"ISIL\"}]}"));
	T_OK(annals_put(ctx, &ev, 1, NULL));

	/* An old client's view: events only, and next past everything. */
	r = dt_ok(ctx, "changes", "{}");
	chs = json_object_get(r, "changes");
	T_EQ_INT(json_array_size(chs), 2);
	for (i = 0; i < json_array_size(chs); i++)
		T_EQ_STR(json_string_value(json_object_get(json_array_get(chs,
		    i), "op")), "put");
	T_EQ_INT(json_integer_value(json_object_get(r, "next")), 6);
	json_decref(r);

	r = dt_ok(ctx, "changes", "{\"dictionary\": true}");
	chs = json_object_get(r, "changes");
	for (i = 0; i < json_array_size(chs); i++) {
		const char *op;

		c = json_array_get(chs, i);
		op = json_string_value(json_object_get(c, "op"));
		if (strcmp(op, "put") == 0) {
			events++;
			continue;
		}
		dict++;
		if (strcmp(op, "dict_put") == 0) {
			T_EQ_STR(json_string_value(json_object_get(
			    json_object_get(c, "entry"), "name")), "two");
			T_EQ_STR(json_string_value(json_object_get(
			    json_object_get(c, "entry"), "kind")), "name");
		} else {
			T_EQ_STR(op, "dict_delete");
			T_EQ_STR(json_string_value(json_object_get(
			    json_object_get(c, "entry"), "alias")), "ISIL");
			T_EQ_STR(json_string_value(json_object_get(
			    json_object_get(c, "entry"), "kind")), "alias");
			T_EQ_INT(json_object_size(json_object_get(c, "entry")),
			    2);
		}
	}
	T_EQ_INT(events, 2);
	T_EQ_INT(dict, 2);
	json_decref(r);

	/* The checker agrees with the log. */
	r = dt_ok(ctx, "check", "{}");
	T_ASSERTF(json_is_true(json_object_get(r, "ok")), "%s",
	    json_dumps(r, 0));
	json_decref(r);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* --- queries by alias against a model --- */

#define DT_CODES	6
#define DT_EVENTS	300
#define DT_ALIASES	8

static const char *const dt_codes[DT_CODES] = {
	"AAA", "BBB", "CCC", "DDD", "EEE", "FFF"
};

struct dt_event {
	char		 start[32], end[32];
	int		 codes[3];
	int		 ncodes;
	struct date_span span;
	uint64_t	 id;
};

struct dt_alias {
	char		 name[24];
	int		 codes[3];
	int		 ncodes;
	char		 during[64];	/* "": always */
	int64_t		 lo, hi, flo, fhi;
};

static unsigned	dt_rand_state;
static struct dt_event dt_evs[DT_EVENTS];

static unsigned
dt_rand(unsigned n)
{
	dt_rand_state = dt_rand_state * 1103515245u + 12345u;
	return ((dt_rand_state >> 8) % n);
}

/* A random date between 2000 and 2009, at a random precision. */
static void
dt_date(char *buf, size_t size)
{
	static const char *const quals[] = { "", "", "", "", "?", "~" };
	unsigned	y = 2000 + dt_rand(10), m = 1 + dt_rand(12);
	unsigned	dd = 1 + dt_rand(28);

	switch (dt_rand(3)) {
	case 0:
		snprintf(buf, size, "%u%s", y, quals[dt_rand(6)]);
		break;
	case 1:
		snprintf(buf, size, "%u-%02u%s", y, m, quals[dt_rand(6)]);
		break;
	default:
		snprintf(buf, size, "%u-%02u-%02u%s", y, m, dd,
		    quals[dt_rand(6)]);
	}
}

/* An interval a <= b, or a date, or one with an open or unknown end. */
static void
dt_interval(char *buf, size_t size)
{
	struct aerr		err;
	struct date_span	s;
	char			a[32], b[32];

	for (;;) {
		dt_date(a, sizeof a);
		dt_date(b, sizeof b);
		switch (dt_rand(6)) {
		case 0:
			snprintf(buf, size, "%s", a);
			break;
		case 1:
			snprintf(buf, size, "%s/..", a);
			break;
		case 2:
			snprintf(buf, size, "%s/", a);
			break;
		case 3:
			snprintf(buf, size, "../%s", b);
			break;
		default:
			snprintf(buf, size, "%s/%s", a, b);
		}
		if (date_parse(buf, strlen(buf), &s, &err) == 0)
			return;
	}
}

static int
dt_has(const struct dt_event *e, int code)
{
	int	i;

	for (i = 0; i < e->ncodes; i++) {
		if (e->codes[i] == code)
			return (1);
	}
	return (0);
}

/*
 * The model: what an alias query must return for each event, by the
 * rules of PROTOCOL.md "Aliases in queries", event by event.  Returns
 * DATE_MATCH_*; *via gets the first of the alias's codes it has.
 */
static int
dt_model(const struct dt_event *e, const struct dt_alias *al, int64_t qlo,
    int64_t qhi, int certain, int *via)
{
	int64_t	lo, hi;
	int	i, m;

	for (i = 0; i < al->ncodes && !dt_has(e, al->codes[i]); i++)
		;
	if (i == al->ncodes)
		return (DATE_MATCH_NONE);
	*via = al->codes[i];
	lo = qlo > al->flo ? qlo : al->flo;
	hi = qhi < al->fhi ? qhi : al->fhi;
	if (lo > hi || (m = date_match(&e->span, lo, hi)) == DATE_MATCH_NONE)
		return (DATE_MATCH_NONE);
	lo = qlo > al->lo ? qlo : al->lo;
	hi = qhi < al->hi ? qhi : al->hi;
	if (m == DATE_MATCH_CERTAIN && (lo > hi ||
	    date_match(&e->span, lo, hi) != DATE_MATCH_CERTAIN))
		m = DATE_MATCH_POSSIBLE;
	if (certain && m != DATE_MATCH_CERTAIN)
		return (DATE_MATCH_NONE);
	return (m);
}

static void
dt_put_events(annals_ctx *ctx, struct dt_event *evs, int n)
{
	struct annals_event		 ev[DT_EVENTS];
	struct annals_actor		 acts[DT_EVENTS][3];
	struct annals_put_result	 res[DT_EVENTS];
	struct aerr			 err;
	int				 i, j;

	memset(ev, 0, sizeof ev);
	for (i = 0; i < n; i++) {
		struct dt_event *e = &evs[i];

		dt_date(e->start, sizeof e->start);
		e->end[0] = '\0';
		if (dt_rand(3) == 0) {
			dt_date(e->end, sizeof e->end);
			if (date_event_span(e->start, e->end, &e->span,
			    &err) != 0)
				e->end[0] = '\0';
		}
		T_OK(date_event_span(e->start, e->end[0] ? e->end : NULL,
		    &e->span, &err));
		e->ncodes = 1 + (int)dt_rand(3);
		for (j = 0; j < e->ncodes; j++) {
			do
				e->codes[j] = (int)dt_rand(DT_CODES);
			while (j > 0 && (e->codes[j] == e->codes[0] ||
			    (j == 2 && e->codes[2] == e->codes[1])));
			acts[i][j].name = dt_codes[e->codes[j]];
			acts[i][j].role = NULL;
		}
		ev[i].start = e->start;
		ev[i].end = e->end[0] ? e->end : NULL;
		ev[i].actors = acts[i];
		ev[i].nactors = (size_t)e->ncodes;
	}
	T_ASSERTF(annals_put(ctx, ev, (size_t)n, res) == 0, "%s",
	    annals_errmsg(ctx));
	for (i = 0; i < n; i++)
		evs[i].id = res[i].id;
}

static void
dt_put_aliases(annals_ctx *ctx, struct dt_alias *als, int n)
{
	struct date_span	 s;
	struct aerr		 err;
	char			 params[8192];
	size_t			 len = 0;
	int			 i, j;

	len += (size_t)snprintf(params + len, sizeof params - len,
	    "{\"entries\": [");
	for (i = 0; i < n; i++) {
		struct dt_alias *al = &als[i];

		snprintf(al->name, sizeof al->name, "alias %d", i);
		al->ncodes = 1 + (int)dt_rand(3);
		for (j = 0; j < al->ncodes; j++) {
			do
				al->codes[j] = (int)dt_rand(DT_CODES);
			while ((j > 0 && al->codes[j] == al->codes[0]) ||
			    (j == 2 && al->codes[2] == al->codes[1]));
		}
		al->during[0] = '\0';
		al->lo = al->flo = DATE_NEG_INF;
		al->hi = al->fhi = DATE_POS_INF;
		if (dt_rand(4) != 0) {
			dt_interval(al->during, sizeof al->during);
			T_OK(date_parse(al->during, strlen(al->during), &s,
			    &err));
			al->lo = s.lo;
			al->hi = s.hi;
			al->flo = s.flo;
			al->fhi = s.fhi;
		}
		len += (size_t)snprintf(params + len, sizeof params - len,
		    "%s{\"kind\": \"alias\", \"alias\": \"%s\", \"codes\": [",
		    i ? "," : "", al->name);
		for (j = 0; j < al->ncodes; j++)
			len += (size_t)snprintf(params + len,
			    sizeof params - len, "%s\"%s\"", j ? "," : "",
			    dt_codes[al->codes[j]]);
		len += (size_t)snprintf(params + len, sizeof params - len, "]");
		if (al->during[0] != '\0')
			len += (size_t)snprintf(params + len,
			    sizeof params - len, ", \"during\": \"%s\"",
			    al->during);
		len += (size_t)snprintf(params + len, sizeof params - len, "}");
	}
	snprintf(params + len, sizeof params - len, "]}");
	json_decref(dt_ok(ctx, "dict_put", params));
}

/*
 * Run the alias query through libannals' iterator in small pages; each
 * event it returns must be one of found, with via the alias and code
 * dt_codes[vias[k]].  Returns how many it returned.
 */
static int
dt_paged(annals_ctx *ctx, const char *alias, const char *from,
    const char *to, int certain, const int *found, const int *vias)
{
	const struct annals_event	*ev;
	const struct annals_via		*via;
	annals_query			*q;
	annals_iter			*it;
	int				 n = 0, k;

	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_actor(q, alias, NULL));
	T_OK(annals_query_set_range(q, from[0] ? from : NULL,
	    to[0] ? to : NULL));
	T_OK(annals_query_set_certain(q, certain));
	T_OK(annals_query_set_page_size(q, 7));
	T_ASSERTF((it = annals_actor(ctx, q)) != NULL, "%s",
	    annals_errmsg(ctx));
	while ((ev = annals_iter_next(it)) != NULL) {
		for (k = 0; k < DT_EVENTS && dt_evs[k].id != ev->id; k++)
			;
		T_ASSERT(k < DT_EVENTS && found[k]);
		T_ASSERT((via = annals_iter_via(it)) != NULL);
		T_EQ_STR(via->alias, alias);
		T_EQ_STR(via->code, dt_codes[vias[k]]);
		n++;
	}
	T_ASSERT(annals_iter_via(it) == NULL);
	T_EQ_INT(annals_iter_error(it), 0);
	annals_iter_free(it);
	annals_query_free(q);
	return (n);
}

TEST(dict_alias_queries_match_a_brute_force_model)
{
	struct dt_event		*evs = dt_evs;
	struct dt_alias		 als[DT_ALIASES];
	struct th_daemon	 d;
	annals_ctx		*ctx;
	struct aerr		 err;
	char			 params[512], from[32], to[32], q[64];
	json_t			*r, *list, *matches, *via;
	int64_t			 qlo, qhi;
	int			 round, i, n, want, got, certain, v, nfound;
	int			 found[DT_EVENTS], vias[DT_EVENTS];

	dt_rand_state = t_seed();
	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	dt_put_events(ctx, evs, DT_EVENTS);
	dt_put_aliases(ctx, als, DT_ALIASES);

	for (round = 0; round < 60; round++) {
		struct dt_alias *al = &als[dt_rand(DT_ALIASES)];

		from[0] = to[0] = '\0';
		if (dt_rand(2))
			dt_date(from, sizeof from);
		if (dt_rand(2))
			dt_date(to, sizeof to);
		if (date_query_bounds(from[0] ? from : NULL,
		    to[0] ? to : NULL, &qlo, &qhi, &err) != 0)
			continue;
		certain = dt_rand(4) == 0;
		memset(found, 0, sizeof found);
		n = snprintf(params, sizeof params, "{\"actor\": \"%s\", "
		    "\"limit\": 10000%s", al->name,
		    certain ? ", \"certain\": true" : "");
		if (from[0])
			n += snprintf(params + n, sizeof params - (size_t)n,
			    ", \"from\": \"%s\"", from);
		if (to[0])
			n += snprintf(params + n, sizeof params - (size_t)n,
			    ", \"to\": \"%s\"", to);
		snprintf(params + n, sizeof params - (size_t)n, "}");
		r = dt_ok(ctx, "actor", params);
		list = json_object_get(r, "events");
		matches = json_object_get(r, "matches");
		via = json_object_get(r, "via");
		T_EQ_INT(json_array_size(via), json_array_size(list));
		T_ASSERT(json_is_null(json_object_get(r, "cursor")));
		for (i = 0; i < (int)json_array_size(list); i++) {
			uint64_t id = (uint64_t)json_integer_value(
			    json_object_get(json_array_get(list, i), "id"));
			int k;

			for (k = 0; k < DT_EVENTS && evs[k].id != id; k++)
				;
			T_ASSERT(k < DT_EVENTS);
			T_ASSERTF(!found[k], "event %llu twice",
			    (unsigned long long)id);
			want = dt_model(&evs[k], al, qlo, qhi, certain, &v);
			got = strcmp(json_string_value(json_array_get(matches,
			    i)), "certain") == 0 ? DATE_MATCH_CERTAIN :
			    DATE_MATCH_POSSIBLE;
			T_ASSERTF(want == got, "%s during %s, from %s to %s: "
			    "event %s/%s is %d, model says %d", al->name,
			    al->during, from, to, evs[k].start, evs[k].end,
			    got, want);
			T_EQ_STR(json_string_value(json_object_get(
			    json_array_get(via, i), "alias")), al->name);
			T_EQ_STR(json_string_value(json_object_get(
			    json_array_get(via, i), "code")), dt_codes[v]);
			found[k] = 1;
			vias[k] = v;
		}
		/* Pages of the iterator give the same events and vias. */
		nfound = dt_paged(ctx, al->name, from, to, certain, found,
		    vias);
		T_EQ_INT(nfound, (int)json_array_size(list));
		json_decref(r);
		for (i = 0; i < DT_EVENTS; i++) {
			if (found[i])
				continue;
			want = dt_model(&evs[i], al, qlo, qhi, certain, &v);
			T_ASSERTF(want == DATE_MATCH_NONE, "%s during %s, from "
			    "%s to %s: event %s/%s missing (model: %d)",
			    al->name, al->during, from, to, evs[i].start,
			    evs[i].end, want);
		}
	}
	/* alias: false asks for the code of that name instead. */
	snprintf(q, sizeof q, "{\"actor\": \"%s\", \"alias\": false}",
	    als[0].name);
	r = dt_ok(ctx, "actor", q);
	T_EQ_INT(json_array_size(json_object_get(r, "events")), 0);
	T_ASSERT(json_object_get(r, "via") == NULL);
	json_decref(r);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * An aggregation's query by alias: "actor" the alias, from and to (when
 * given), certain; more is the method's own, after a comma.
 */
static void
dt_agg_params(char *buf, size_t size, const struct dt_alias *al,
    const char *from, const char *to, int certain, const char *more)
{
	int	n;

	n = snprintf(buf, size, "{\"actor\": \"%s\"%s", al->name,
	    certain ? ", \"certain\": true" : "");
	if (from[0])
		n += snprintf(buf + n, size - (size_t)n, ", \"from\": \"%s\"",
		    from);
	if (to[0])
		n += snprintf(buf + n, size - (size_t)n, ", \"to\": \"%s\"", to);
	snprintf(buf + n, size - (size_t)n, ", %s}", more);
}

/*
 * A histogram by alias against the model: each bucket counts the events
 * a query by the alias over that bucket returns ("overlap"), or those
 * the query over the whole range returns, in the bucket of their start
 * ("start").
 */
static void
dt_check_histogram(annals_ctx *ctx, const struct dt_alias *al,
    const char *from, const char *to, int certain, int start)
{
	char		 params[512];
	json_t		*r, *buckets, *b;
	int64_t		 qlo, qhi, blo, bhi;
	struct aerr	 err;
	uint64_t	 want, total = 0;
	size_t		 i, nb;
	int		 k, v;

	T_OK(date_query_bounds(from, to, &qlo, &qhi, &err));
	dt_agg_params(params, sizeof params, al, from, to, certain,
	    start ? "\"by\": \"year\", \"count\": \"start\"" :
	    "\"by\": \"year\"");
	r = dt_ok(ctx, "histogram", params);
	buckets = json_object_get(r, "buckets");
	nb = json_array_size(buckets);
	T_ASSERT(nb > 0);
	for (i = 0; i < nb; i++) {
		b = json_array_get(buckets, i);
		blo = json_integer_value(json_object_get(b, "time")) / 1000;
		bhi = i + 1 < nb ? json_integer_value(json_object_get(
		    json_array_get(buckets, i + 1), "time")) / 1000 - 1 : qhi;
		blo = blo > qlo ? blo : qlo;
		for (want = 0, k = 0; k < DT_EVENTS; k++) {
			if (start)
				want += dt_evs[k].span.lo >= blo &&
				    dt_evs[k].span.lo <= bhi &&
				    dt_model(&dt_evs[k], al, qlo, qhi, certain,
				    &v) != DATE_MATCH_NONE;
			else
				want += dt_model(&dt_evs[k], al, blo, bhi,
				    certain, &v) != DATE_MATCH_NONE;
		}
		T_ASSERTF((uint64_t)json_integer_value(json_object_get(b,
		    "count")) == want, "%s during %s, %s%s from %s to %s: "
		    "bucket %s counts %lld, model says %llu", al->name,
		    al->during, start ? "start" : "overlap",
		    certain ? " certain" : "", from, to,
		    json_string_value(json_object_get(b, "start")),
		    (long long)json_integer_value(json_object_get(b, "count")),
		    (unsigned long long)want);
	}
	for (k = 0; k < DT_EVENTS; k++)
		total += dt_model(&dt_evs[k], al, qlo, qhi, certain, &v) !=
		    DATE_MATCH_NONE && (!start || (dt_evs[k].span.lo >= qlo &&
		    dt_evs[k].span.lo <= qhi));
	T_EQ_INT((long long)json_integer_value(json_object_get(r, "total")),
	    (long long)total);
	json_decref(r);
}

/*
 * co_actors by alias against the model: the events the query by the
 * alias returns, and for each code not of the alias, how many of them
 * have it.
 */
static void
dt_check_co_actors(annals_ctx *ctx, const struct dt_alias *al,
    const char *from, const char *to, int certain)
{
	char		 params[512];
	json_t		*r, *list, *a = NULL;
	int64_t		 qlo, qhi;
	struct aerr	 err;
	uint64_t	 events = 0, counts[DT_CODES] = { 0 };
	size_t		 i, nlisted = 0;
	int		 k, c, v, own;

	T_OK(date_query_bounds(from[0] ? from : NULL, to[0] ? to : NULL,
	    &qlo, &qhi, &err));
	dt_agg_params(params, sizeof params, al, from, to, certain,
	    "\"limit\": 100");
	r = dt_ok(ctx, "co_actors", params);
	for (k = 0; k < DT_EVENTS; k++) {
		if (dt_model(&dt_evs[k], al, qlo, qhi, certain, &v) ==
		    DATE_MATCH_NONE)
			continue;
		events++;
		for (c = 0; c < dt_evs[k].ncodes; c++)
			counts[dt_evs[k].codes[c]]++;
	}
	T_EQ_STR(json_string_value(json_object_get(r, "actor")), al->name);
	T_EQ_INT((long long)json_integer_value(json_object_get(r, "events")),
	    (long long)events);
	list = json_object_get(r, "actors");
	for (c = 0; c < DT_CODES; c++) {
		for (k = 0, own = 0; k < al->ncodes; k++)
			own |= al->codes[k] == c;
		if (own || counts[c] == 0)
			continue;
		nlisted++;
		for (i = 0; i < json_array_size(list); i++) {
			a = json_array_get(list, i);
			if (strcmp(json_string_value(json_object_get(a, "name")),
			    dt_codes[c]) == 0)
				break;
		}
		T_ASSERTF(i < json_array_size(list), "%s during %s: co-actor "
		    "%s missing", al->name, al->during, dt_codes[c]);
		T_EQ_INT((long long)json_integer_value(json_object_get(a,
		    "count")), (long long)counts[c]);
	}
	T_EQ_INT((long long)json_array_size(list), (long long)nlisted);
	json_decref(r);
}

TEST(dict_alias_aggregations_match_a_brute_force_model)
{
	struct dt_alias		 als[DT_ALIASES];
	struct th_daemon	 d;
	annals_ctx		*ctx;
	struct aerr		 err;
	char			 from[32], to[32];
	int64_t			 qlo, qhi;
	int			 round;

	dt_rand_state = t_seed();
	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	dt_put_events(ctx, dt_evs, DT_EVENTS);
	dt_put_aliases(ctx, als, DT_ALIASES);
	for (round = 0; round < 200; round++) {
		struct dt_alias *al = &als[dt_rand(DT_ALIASES)];
		int certain = dt_rand(2);

		/* A histogram needs both ends. */
		dt_date(from, sizeof from);
		dt_date(to, sizeof to);
		if (date_query_bounds(from, to, &qlo, &qhi, &err) != 0)
			continue;
		dt_check_histogram(ctx, al, from, to, certain, 0);
		dt_check_histogram(ctx, al, from, to, certain, 1);
		if (dt_rand(2))
			from[0] = '\0';
		if (dt_rand(2))
			to[0] = '\0';
		dt_check_co_actors(ctx, al, from, to, certain);
	}
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* --- completion on names: actors with match --- */

TEST(dict_actors_match_labels_page_by_page)
{
	static const char *const codes[] = { "RUSGOV", "SYRGOV", "SYROPP",
	    "XYZ", "ZZZ" };
	struct annals_actor	 acts[5];
	struct annals_event	 ev;
	struct th_daemon	 d;
	annals_ctx		*ctx;
	json_t			*r, *list;
	size_t			 i;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	memset(&ev, 0, sizeof ev);
	for (i = 0; i < 5; i++) {
		acts[i].name = codes[i];
		acts[i].role = NULL;
	}
	ev.start = "2015";
	ev.actors = acts;
	ev.nactors = 5;
	T_OK(annals_put(ctx, &ev, 1, NULL));
	json_decref(dt_ok(ctx, "dict_put", "{\"entries\": ["
	    "{\"kind\": \"name\", \"code\": \"XYZ\", \"name\": \"a SYRIAN "
	    "group\"}]}"));

	/* CAMEO's labels and a user's, in either case, two a page. */
	r = dt_ok(ctx, "actors", "{\"match\": \"syria\", \"limit\": 2}");
	list = json_object_get(r, "actors");
	T_EQ_INT(json_array_size(list), 2);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0),
	    "name")), "SYRGOV");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1),
	    "label")), "Syria: political opposition");
	T_EQ_STR(json_string_value(json_object_get(r, "cursor")), "SYROPP");
	json_decref(r);
	r = dt_ok(ctx, "actors", "{\"match\": \"syria\", \"limit\": 2, "
	    "\"cursor\": \"SYROPP\"}");
	list = json_object_get(r, "actors");
	T_EQ_INT(json_array_size(list), 1);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0),
	    "name")), "XYZ");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0),
	    "label_from")), "user");
	T_ASSERT(json_is_null(json_object_get(r, "cursor")));
	json_decref(r);
	r = dt_ok(ctx, "actors", "{\"match\": \"nothing like it\"}");
	T_EQ_INT(json_array_size(json_object_get(r, "actors")), 0);
	json_decref(r);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* --- libannals' typed calls --- */

struct dt_seen {
	char	keys[8][64];
	char	during[8][64];
	size_t	n;
};

static int
dt_seen_one(const struct annals_dict_entry *e, void *arg)
{
	struct dt_seen	*s = arg;

	T_ASSERT(s->n < 8);
	snprintf(s->keys[s->n], sizeof s->keys[0], "%s", e->key);
	snprintf(s->during[s->n], sizeof s->during[0], "%s",
	    e->during != NULL ? e->during : "");
	s->n++;
	return (0);
}

struct dt_info {
	char	label[64], from[16], cameo[64], alias[64];
	size_t	naliases;
};

static void
dt_info_one(const struct annals_actor_info *i, void *arg)
{
	struct dt_info	*d = arg;

	snprintf(d->label, sizeof d->label, "%s", i->label ? i->label : "");
	snprintf(d->from, sizeof d->from, "%s", i->label_from);
	snprintf(d->cameo, sizeof d->cameo, "%s", i->cameo ? i->cameo : "");
	d->naliases = i->naliases;
	if (i->naliases > 0)
		snprintf(d->alias, sizeof d->alias, "%s %s %s",
		    i->aliases[0].key, i->aliases[0].codes[0],
		    i->aliases[0].during);
}

TEST(dict_libannals_typed_calls)
{
	static const char *const assad[] = { "SYRGOV" };
	static const char *const isil[] = { "IMGSYRMOS", "IMGIRQMOS" };
	struct annals_dict_entry e[3] = {
		{ .kind = ANNALS_DICT_NAME, .key = "SYRGOV",
		    .name = "the Syrian government" },
		{ .kind = ANNALS_DICT_ALIAS, .key = "Bashar al-Assad",
		    .codes = assad, .ncodes = 1,
		    .during = "2000-07-17/2024-12-08" },
		{ .kind = ANNALS_DICT_ALIAS, .key = "ISIL", .codes = isil,
		    .ncodes = 2 },
	};
	struct annals_dict_entry bad = { .kind = 0, .key = "X" };
	struct annals_dict_entry other = { .kind = ANNALS_DICT_NAME,
	    .key = "SYRGOV", .name = "another name" };
	struct th_daemon	 d;
	struct dt_seen		 seen;
	struct dt_info		 info;
	annals_ctx		*ctx;
	int			 st[3], del[2];

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	T_ASSERTF(annals_dict_put(ctx, e, 3, 0, st) == 0, "%s",
	    annals_errmsg(ctx));
	T_EQ_INT(st[0], ANNALS_ADDED);
	T_EQ_INT(st[2], ANNALS_ADDED);
	T_OK(annals_dict_put(ctx, e, 3, 0, st));
	T_EQ_INT(st[1], ANNALS_UNCHANGED);
	T_OK(annals_dict_put(ctx, &other, 1, 1, st));
	T_EQ_INT(st[0], ANNALS_KEPT);

	memset(&info, 0, sizeof info);
	T_ASSERTF(annals_actor_info(ctx, "SYRGOV", dt_info_one, &info) == 0,
	    "%s", annals_errmsg(ctx));
	T_EQ_STR(info.label, "the Syrian government");
	T_EQ_STR(info.from, "user");
	T_EQ_STR(info.cameo, "Syria: government");
	T_EQ_INT(info.naliases, 1);
	T_EQ_STR(info.alias, "Bashar al-Assad SYRGOV 2000-07-17/2024-12-08");

	memset(&seen, 0, sizeof seen);
	T_OK(annals_dict_list(ctx, ANNALS_DICT_ALIAS, NULL, NULL, dt_seen_one,
	    &seen));
	T_EQ_INT(seen.n, 2);
	T_EQ_STR(seen.keys[0], "Bashar al-Assad");
	T_EQ_STR(seen.keys[1], "ISIL");
	T_EQ_STR(seen.during[1], "");
	memset(&seen, 0, sizeof seen);
	T_OK(annals_dict_list(ctx, ANNALS_DICT_ALIAS, NULL, "IMGIRQMOS",
	    dt_seen_one, &seen));
	T_EQ_INT(seen.n, 1);
	T_EQ_STR(seen.keys[0], "ISIL");

	/* Refused before anything is sent; the context goes on. */
	T_EQ_INT(annals_dict_put(ctx, &bad, 1, 0, NULL), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);
	T_EQ_INT(annals_dict_put(ctx, e, 0, 0, NULL), -1);
	T_EQ_INT(annals_errcode(ctx), ANNALS_EINVALID);

	T_OK(annals_dict_delete(ctx, &e[1], 2, del));
	T_EQ_INT(del[0], 1);
	T_EQ_INT(del[1], 1);
	T_OK(annals_dict_delete(ctx, &e[2], 1, del));
	T_EQ_INT(del[0], 0);
	memset(&seen, 0, sizeof seen);
	T_OK(annals_dict_list(ctx, ANNALS_DICT_NAME, "SYR", NULL, dt_seen_one,
	    &seen));
	T_EQ_INT(seen.n, 1);
	T_EQ_STR(seen.keys[0], "SYRGOV");
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* --- names from imported rows --- */

#define DT_IMPORT_CODES	256

/* Each code of a GDELT 1.0 sample with the first name a row gives it. */
struct dt_named {
	char	code[EVENT_MAX_ACTOR + 1];
	char	name[DICT_MAX_NAME + 1];
};

static size_t
dt_gdelt_names(const char *path, struct dt_named *out, size_t max)
{
	static const int	cols[][2] = { { 5, 6 }, { 15, 16 } };
	char			*data, *line, *next, *f[64], *p;
	size_t			 n = 0, nf, i, k;

	T_ASSERT((data = th_slurp(path, NULL)) != NULL);
	for (line = data; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		for (nf = 0, p = line; nf < 64; nf++) {
			f[nf] = p;
			if ((p = strchr(p, '\t')) == NULL) {
				nf++;
				break;
			}
			*p++ = '\0';
		}
		T_ASSERT(nf >= 57);
		for (i = 0; i < 2; i++) {
			const char *code = f[cols[i][0]], *name = f[cols[i][1]];

			if (*code == '\0' || *name == '\0')
				continue;
			for (k = 0; k < n && strcmp(out[k].code, code) != 0; k++)
				;
			if (k < n)
				continue;
			T_ASSERT(n < max);
			snprintf(out[n].code, sizeof out[n].code, "%s", code);
			snprintf(out[n].name, sizeof out[n].name, "%s", name);
			n++;
		}
	}
	free(data);
	return (n);
}

/* The dictionary changes after seq since; *next gets the feed's next. */
static size_t
dt_dict_changes(annals_ctx *ctx, int64_t since, int64_t *next)
{
	char	 params[96];
	json_t	*r, *chs;
	size_t	 i, n = 0;

	snprintf(params, sizeof params, "{\"since\": %lld, \"dictionary\": "
	    "true, \"limit\": 10000}", (long long)since);
	r = dt_ok(ctx, "changes", params);
	chs = json_object_get(r, "changes");
	for (i = 0; i < json_array_size(chs); i++)
		n += strncmp(json_string_value(json_object_get(
		    json_array_get(chs, i), "op")), "dict_", 5) == 0;
	*next = json_integer_value(json_object_get(r, "next"));
	json_decref(r);
	return (n);
}

TEST(dict_import_fills_names_from_gdelt_rows)
{
	static struct dt_named	 want[DT_IMPORT_CODES];
	struct th_daemon	 d;
	struct th_run		 r;
	annals_ctx		*ctx;
	char			 path[512], params[256];
	const char		*argv[] = { "import", path, NULL };
	json_t			*got, *e;
	const char		*cameo;
	int64_t			 next, next2;
	size_t			 n, i, hidden = 0, shown = 0;

	snprintf(path, sizeof path, "%s/../tests/data/sample-gdelt1.tsv",
	    t_bindir());
	n = dt_gdelt_names(path, want, DT_IMPORT_CODES);
	T_ASSERT(n > 10);
	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	/* A name a user gave beforehand stays. */
	snprintf(params, sizeof params, "{\"entries\": [{\"kind\": \"name\", "
	    "\"code\": \"%.128s\", \"name\": \"Named by hand\"}]}",
	    want[0].code);
	json_decref(dt_ok(ctx, "dict_put", params));
	T_EQ_INT(dt_dict_changes(ctx, 0, &next), 1);

	th_annals(&r, d.sock, NULL, argv);
	T_ASSERTF(r.status == 0, "import: %s", r.err);
	T_ASSERT(r.added > 0);
	th_run_free(&r);
	/*
	 * The hand-given name wins over all; an imported one shows only
	 * where CAMEO composes none, and the sample has codes of both.
	 */
	for (i = 0; i < n; i++) {
		snprintf(params, sizeof params, "{\"code\": \"%.128s\"}",
		    want[i].code);
		got = dt_ok(ctx, "dict_get", params);
		cameo = json_string_value(json_object_get(got, "cameo"));
		if (i == 0)
			dt_label(ctx, want[i].code, "Named by hand", "user");
		else if (cameo != NULL) {
			dt_label(ctx, want[i].code, cameo, "cameo");
			hidden++;
		} else {
			dt_label(ctx, want[i].code, want[i].name, "import");
			shown++;
		}
		json_decref(got);
		if (i == 0)
			continue;
		snprintf(params, sizeof params, "{\"kind\": \"name\", "
		    "\"prefix\": \"%.128s\", \"limit\": 1}", want[i].code);
		got = dt_ok(ctx, "dict_list", params);
		e = json_array_get(json_object_get(got, "entries"), 0);
		T_EQ_STR(json_string_value(json_object_get(e, "name")),
		    want[i].name);
		T_ASSERT(json_is_true(json_object_get(e, "imported")));
		json_decref(got);
	}
	T_ASSERTF(hidden > 0 && shown > 0, "%zu under CAMEO's, %zu shown",
	    hidden, shown);
	/* One change per code named, none per row. */
	T_EQ_INT(dt_dict_changes(ctx, next, &next), hidden + shown);

	/* Importing again writes no name and logs nothing. */
	th_annals(&r, d.sock, NULL, argv);
	T_ASSERTF(r.status == 0, "import: %s", r.err);
	T_EQ_INT(r.added, 0);
	th_run_free(&r);
	T_EQ_INT(dt_dict_changes(ctx, next, &next2), 0);
	T_EQ_INT(next2, next);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* --- annals actor-name and annals alias --- */

static void
dt_cli(struct th_daemon *d, struct th_run *r, const char **argv)
{
	th_annals(r, d->sock, NULL, argv);
	T_ASSERTF(r->status == 0, "annals %s: %s", argv[0], r->err);
}

TEST(dict_cli_actor_name_and_alias)
{
	struct th_daemon	 d;
	struct th_run		 r;
	const char		*get[] = { "actor-name", "SYRGOV", NULL };
	const char		*set[] = { "actor-name", "SYRGOV", "Damascus",
				    NULL };
	const char		*rm[] = { "actor-name", "--rm", "SYRGOV",
				    NULL };
	const char		*aset[] = { "alias", "set", "Bashar al-Assad",
				    "SYRGOV,SYRMIL", "2000-07-17/2024-12-08",
				    NULL };
	const char		*abad[] = { "alias", "set", "B", "SYR",
				    "2016/2015", NULL };
	const char		*aget[] = { "alias", "get", "Bashar al-Assad",
				    NULL };
	const char		*alist[] = { "alias", "list", "Bash", NULL };
	const char		*arm[] = { "alias", "rm", "Bashar al-Assad",
				    NULL };

	T_OK(th_daemon_start(&d, NULL));
	dt_cli(&d, &r, get);
	T_ASSERTF(strstr(r.out, "\"label\":\"Syria: government\"") != NULL,
	    "%s", r.out);
	th_run_free(&r);
	dt_cli(&d, &r, set);
	T_EQ_STR(r.out, "{\"status\":\"added\"}\n");
	th_run_free(&r);
	dt_cli(&d, &r, get);
	T_ASSERTF(strstr(r.out, "\"label\":\"Damascus\"") != NULL &&
	    strstr(r.out, "\"label_from\":\"user\"") != NULL, "%s", r.out);
	th_run_free(&r);
	dt_cli(&d, &r, rm);
	T_EQ_STR(r.out, "true\n");
	th_run_free(&r);

	dt_cli(&d, &r, aset);
	T_EQ_STR(r.out, "{\"status\":\"added\"}\n");
	th_run_free(&r);
	dt_cli(&d, &r, aget);
	T_ASSERTF(strstr(r.out, "\"codes\":[\"SYRGOV\",\"SYRMIL\"]") != NULL &&
	    strstr(r.out, "\"during\":\"2000-07-17/2024-12-08\"") != NULL,
	    "%s", r.out);
	th_run_free(&r);
	dt_cli(&d, &r, alist);
	T_ASSERTF(strstr(r.out, "Bashar al-Assad") != NULL, "%s", r.out);
	th_run_free(&r);
	th_annals(&r, d.sock, NULL, abad);
	T_ASSERT(r.status != 0);
	T_ASSERTF(strstr(r.err, "during: 2016/2015") != NULL, "%s", r.err);
	th_run_free(&r);
	dt_cli(&d, &r, arm);
	T_EQ_STR(r.out, "true\n");
	th_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* --- the via of each hit of a query by an alias --- */

/*
 * Events around the alias "Bashar al-Assad" for SYRGOV and SYRMIL during
 * 2000-07-17/2024-12-08, put in this order into a new daemon (so event i
 * has id i + 1); via is the code a query by the alias finds one by.
 */
static const struct {
	const char	*start;
	const char	*actors[2];
	const char	*title;
	const char	*via;
} dt_via_evs[] = {
	{ "2012-03-15", { "SYRGOV", NULL }, "Homs shelled", "SYRGOV" },
	{ "1999", { "SYRGOV", NULL }, "Before the alias", NULL },
	{ "2013", { "SYRMIL", "USA" }, "Army moves", "SYRMIL" },
	/* The first of the alias's codes, not of the event's. */
	{ "2014", { "SYRMIL", "SYRGOV" }, "Both", "SYRGOV" },
	{ "2012", { "USA", NULL }, "Neither", NULL },
	{ "2000", { "SYRGOV", NULL }, "Maybe after", "SYRGOV" },
};
#define DT_VIA_EVENTS	(sizeof dt_via_evs / sizeof dt_via_evs[0])

static void
dt_via_put(annals_ctx *ctx)
{
	static const char *const codes[] = { "SYRGOV", "SYRMIL" };
	struct annals_dict_entry alias = { .kind = ANNALS_DICT_ALIAS,
	    .key = "Bashar al-Assad", .codes = codes, .ncodes = 2,
	    .during = "2000-07-17/2024-12-08" };
	struct annals_event		ev[DT_VIA_EVENTS];
	struct annals_actor		acts[DT_VIA_EVENTS][2];
	struct annals_put_result	res[DT_VIA_EVENTS];
	size_t				i;

	memset(ev, 0, sizeof ev);
	memset(acts, 0, sizeof acts);
	for (i = 0; i < DT_VIA_EVENTS; i++) {
		acts[i][0].name = dt_via_evs[i].actors[0];
		acts[i][1].name = dt_via_evs[i].actors[1];
		ev[i].start = dt_via_evs[i].start;
		ev[i].actors = acts[i];
		ev[i].nactors = acts[i][1].name != NULL ? 2 : 1;
		ev[i].title = dt_via_evs[i].title;
	}
	T_ASSERTF(annals_put(ctx, ev, DT_VIA_EVENTS, res) == 0, "%s",
	    annals_errmsg(ctx));
	for (i = 0; i < DT_VIA_EVENTS; i++)
		T_EQ_U64(res[i].id, i + 1);
	T_ASSERTF(annals_dict_put(ctx, &alias, 1, 0, NULL) == 0, "%s",
	    annals_errmsg(ctx));
}

/*
 * Run a query by actor (range with from and to, else actor) through
 * libannals in pages of 2: it must return the events of ids, in order,
 * intact, each with its via when by_alias, else with none.
 */
static void
dt_via_iter(annals_ctx *ctx, const char *actor, const char *from,
    const char *to, const uint64_t *ids, size_t nids, int by_alias)
{
	const struct annals_event	*ev;
	const struct annals_via		*via;
	annals_query			*q;
	annals_iter			*it;
	size_t				 n = 0, i;

	T_ASSERT((q = annals_query_new()) != NULL);
	T_OK(annals_query_set_actor(q, actor, NULL));
	T_OK(annals_query_set_range(q, from, to));
	T_OK(annals_query_set_page_size(q, 2));
	it = from != NULL ? annals_range(ctx, q) : annals_actor(ctx, q);
	T_ASSERTF(it != NULL, "%s", annals_errmsg(ctx));
	T_ASSERT(annals_iter_via(it) == NULL);
	while ((ev = annals_iter_next(it)) != NULL) {
		T_ASSERTF(n < nids, "%s: event %llu too many", actor,
		    (unsigned long long)ev->id);
		T_EQ_U64(ev->id, ids[n]);
		i = ids[n] - 1;
		via = annals_iter_via(it);
		if (by_alias) {
			T_ASSERTF(via != NULL, "%s: event %llu has no via",
			    actor, (unsigned long long)ev->id);
			T_EQ_STR(via->alias, actor);
			T_EQ_STR(via->code, dt_via_evs[i].via);
		} else
			T_ASSERTF(via == NULL, "%s: event %llu has a via",
			    actor, (unsigned long long)ev->id);
		/* The via's strings, ended in place, left the event whole. */
		T_EQ_STR(ev->start, dt_via_evs[i].start);
		T_EQ_STR(ev->actors[0].name, dt_via_evs[i].actors[0]);
		T_EQ_STR(ev->title, dt_via_evs[i].title);
		n++;
	}
	T_EQ_INT(annals_iter_error(it), 0);
	T_EQ_INT((int)n, (int)nids);
	T_ASSERT(annals_iter_via(it) == NULL);
	annals_iter_free(it);
	annals_query_free(q);
}

/*
 * The JSON lines of annals in r: one per id, in order, whose last key
 * is "via", {"alias": ..., "code": ...}, when by_alias, else absent.
 */
static void
dt_via_jsonl(const struct th_run *r, const char *alias, const uint64_t *ids,
    size_t nids, int by_alias)
{
	json_error_t	 jerr;
	json_t		*o, *via;
	const char	*line, *nl;
	char		 tail[256];
	size_t		 n = 0, i;

	for (line = r->out; *line != '\0'; line = nl + 1) {
		T_ASSERT((nl = strchr(line, '\n')) != NULL);
		T_ASSERTF(n < nids, "line too many: %s", line);
		o = json_loadb(line, (size_t)(nl - line), 0, &jerr);
		T_ASSERTF(o != NULL, "%s: %s", jerr.text, line);
		T_EQ_U64((uint64_t)json_integer_value(json_object_get(o,
		    "id")), ids[n]);
		i = ids[n] - 1;
		via = json_object_get(o, "via");
		if (by_alias) {
			snprintf(tail, sizeof tail, ",\"via\":{\"alias\":"
			    "\"%s\",\"code\":\"%s\"}}", alias,
			    dt_via_evs[i].via);
			T_ASSERTF((size_t)(nl - line) > strlen(tail) &&
			    strncmp(nl - strlen(tail), tail,
			    strlen(tail)) == 0, "%.*s", (int)(nl - line),
			    line);
			T_EQ_INT((int)json_object_size(via), 2);
		} else
			T_ASSERTF(via == NULL, "%.*s", (int)(nl - line), line);
		json_decref(o);
		n++;
	}
	T_EQ_INT((int)n, (int)nids);
}

TEST(dict_alias_hits_say_their_via_in_libannals_and_annals)
{
	static const uint64_t	 by_alias[] = { 6, 1, 3, 4 };
	static const uint64_t	 by_alias_range[] = { 3, 4 };
	static const uint64_t	 by_code[] = { 2, 6, 1, 4 };
	static const uint64_t	 by_prefix[] = { 2, 6, 1, 3, 4 };
	const char		*alias_jsonl[] = { "actor", "Bashar al-Assad",
				    "--format", "jsonl", NULL };
	const char		*code_jsonl[] = { "actor", "SYRGOV",
				    "--format", "jsonl", NULL };
	const char		*alias_table[] = { "actor", "Bashar al-Assad",
				    "--format", "table", NULL };
	const char		*range_table[] = { "range", "2013", "2014",
				    "--actor", "Bashar al-Assad", "--format",
				    "table", NULL };
	const char		*code_table[] = { "actor", "SYRGOV",
				    "--format", "table", NULL };
	const char		*fields_table[] = { "actor", "Bashar al-Assad",
				    "--fields", "title", "--format", "table",
				    NULL };
	const char		*alias_csv[] = { "actor", "Bashar al-Assad",
				    "--fields", "start", "--format", "csv",
				    NULL };
	const char		*range_csv[] = { "range", "2013", "2014",
				    "--actor", "Bashar al-Assad", "--fields",
				    "start", "--format", "csv", NULL };
	const char		*code_csv[] = { "actor", "SYRGOV", "--fields",
				    "start", "--format", "csv", NULL };
	const char		*prefix_csv[] = { "range", "2013", "2014",
				    "--actor", "SYR*", "--fields", "start",
				    "--format", "csv", NULL };
	const char		*whole_csv[] = { "actor", "Bashar al-Assad",
				    "--format", "csv", NULL };
	const char		*add[] = { "add", "-", "--format", "jsonl",
				    NULL };
	const char		*import[] = { "import", "--format", "csv",
				    "-", NULL };
	struct th_daemon	 d;
	struct th_run		 r, back;
	const char		*p;
	char			 in[256];
	annals_ctx		*ctx;
	int			 n;

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	dt_via_put(ctx);

	/* libannals: a via on every hit by the alias, none by a code. */
	dt_via_iter(ctx, "Bashar al-Assad", NULL, NULL, by_alias, 4, 1);
	dt_via_iter(ctx, "Bashar al-Assad", "2013", "2014", by_alias_range, 2,
	    1);
	dt_via_iter(ctx, "SYRGOV", NULL, NULL, by_code, 4, 0);
	dt_via_iter(ctx, "SYR*", NULL, NULL, by_prefix, 5, 0);

	/* annals: JSON lines. */
	dt_cli(&d, &r, alias_jsonl);
	dt_via_jsonl(&r, "Bashar al-Assad", by_alias, 4, 1);
	th_run_free(&r);
	dt_cli(&d, &r, code_jsonl);
	dt_via_jsonl(&r, NULL, by_code, 4, 0);
	th_run_free(&r);

	/* A table: a VIA column only when an event has a via. */
	dt_cli(&d, &r, alias_table);
	T_EQ_STR(r.out,
	    "ID  ?  START       END  ACTORS         VIA     TYPE  TITLE\n"
	    " 6  ?  2000             SYRGOV         SYRGOV        Maybe after\n"
	    " 1     2012-03-15       SYRGOV         SYRGOV        "
	    "Homs shelled\n"
	    " 3     2013             SYRMIL,USA     SYRMIL        Army moves\n"
	    " 4     2014             SYRMIL,SYRGOV  SYRGOV        Both\n");
	th_run_free(&r);
	dt_cli(&d, &r, range_table);
	T_EQ_STR(r.out,
	    "ID  ?  START  END  ACTORS         VIA     TYPE  TITLE\n"
	    " 3     2013        SYRMIL,USA     SYRMIL        Army moves\n"
	    " 4     2014        SYRMIL,SYRGOV  SYRGOV        Both\n");
	th_run_free(&r);
	dt_cli(&d, &r, fields_table);
	T_EQ_STR(r.out,
	    "ID  ?  VIA     TITLE\n"
	    " 6  ?  SYRGOV  Maybe after\n"
	    " 1     SYRGOV  Homs shelled\n"
	    " 3     SYRMIL  Army moves\n"
	    " 4     SYRGOV  Both\n");
	th_run_free(&r);
	dt_cli(&d, &r, code_table);
	T_EQ_STR(r.out,
	    "ID  ?  START       END  ACTORS         TYPE  TITLE\n"
	    " 2     1999             SYRGOV               Before the alias\n"
	    " 6     2000             SYRGOV               Maybe after\n"
	    " 1     2012-03-15       SYRGOV               Homs shelled\n"
	    " 4     2014             SYRMIL,SYRGOV        Both\n");
	th_run_free(&r);

	/*
	 * CSV: a via column after match for a query by an alias, and none
	 * for a query by a code, so that its CSV goes into an import older
	 * than via ("header: unknown column").
	 */
	dt_cli(&d, &r, alias_csv);
	T_EQ_STR(r.out, "id,rev,created,updated,source,key,start,end,actors,"
	    "type,title,text,place,country,lat,lon,urls,tags,attrs,match,via\n"
	    "6,,,,,,2000,,,,,,,,,,,,,possible,SYRGOV\n"
	    "1,,,,,,2012-03-15,,,,,,,,,,,,,certain,SYRGOV\n"
	    "3,,,,,,2013,,,,,,,,,,,,,certain,SYRMIL\n"
	    "4,,,,,,2014,,,,,,,,,,,,,certain,SYRGOV\n");
	th_run_free(&r);
	dt_cli(&d, &r, range_csv);
	T_EQ_STR(r.out, "id,rev,created,updated,source,key,start,end,actors,"
	    "type,title,text,place,country,lat,lon,urls,tags,attrs,match,via\n"
	    "3,,,,,,2013,,,,,,,,,,,,,certain,SYRMIL\n"
	    "4,,,,,,2014,,,,,,,,,,,,,certain,SYRGOV\n");
	th_run_free(&r);
	dt_cli(&d, &r, code_csv);
	T_EQ_STR(r.out, "id,rev,created,updated,source,key,start,end,actors,"
	    "type,title,text,place,country,lat,lon,urls,tags,attrs,match\n"
	    "2,,,,,,1999,,,,,,,,,,,,,certain\n"
	    "6,,,,,,2000,,,,,,,,,,,,,certain\n"
	    "1,,,,,,2012-03-15,,,,,,,,,,,,,certain\n"
	    "4,,,,,,2014,,,,,,,,,,,,,certain\n");
	th_run_free(&r);
	dt_cli(&d, &r, prefix_csv);
	T_EQ_STR(r.out, "id,rev,created,updated,source,key,start,end,actors,"
	    "type,title,text,place,country,lat,lon,urls,tags,attrs,match\n"
	    "3,,,,,,2013,,,,,,,,,,,,,certain\n"
	    "4,,,,,,2014,,,,,,,,,,,,,certain\n");
	th_run_free(&r);

	/* What annals printed goes back in: add and import pass over via. */
	snprintf(in, sizeof in, "%s/printed", t_dir());
	dt_cli(&d, &r, alias_jsonl);
	th_write(in, r.out, strlen(r.out));
	th_annals(&back, d.sock, in, add);
	T_ASSERTF(back.status == 0, "add -: %s", back.err);
	for (n = 0, p = back.out; (p = strstr(p, "\"unchanged\"")) != NULL;
	    p++)
		n++;
	T_ASSERTF(n == 4, "%s", back.out);
	th_run_free(&back);
	import[2] = "jsonl";
	th_annals(&back, d.sock, in, import);
	T_ASSERTF(back.status == 0, "import: %s", back.err);
	T_EQ_U64(back.added, 4);
	th_run_free(&back);
	th_run_free(&r);
	import[2] = "csv";
	dt_cli(&d, &r, whole_csv);
	th_write(in, r.out, strlen(r.out));
	th_annals(&back, d.sock, in, import);
	T_ASSERTF(back.status == 0, "import: %s", back.err);
	/*
	 * The import of JSON lines added the four again, keyed by their
	 * content; in CSV the four without a key get the same keys, and the
	 * copies have theirs: nothing is added.
	 */
	T_EQ_U64(back.added, 0);
	T_EQ_U64(back.unchanged, 8);
	T_EQ_U64(back.rejected, 0);
	th_run_free(&back);
	th_run_free(&r);
	annals_free(ctx);
	T_EQ_INT(th_daemon_stop(&d), 0);
}
