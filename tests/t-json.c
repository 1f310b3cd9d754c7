/*
 * client/json.c's writers: the numbers of JSON lines and the layout of
 * the record annals edit hands to an editor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/cli.h"
#include "test.h"

/* How json_record_write() prints d, without the newline. */
static char *
tj_real(double d)
{
	static char	 out[128];
	json_t		*v;
	FILE		*mem;
	char		*line = NULL;
	size_t		 size = 0;

	T_ASSERT((v = json_real(d)) != NULL);
	T_ASSERT((mem = open_memstream(&line, &size)) != NULL);
	T_OK(json_record_write(mem, v));
	fclose(mem);
	json_decref(v);
	snprintf(out, sizeof out, "%.*s", (int)strcspn(line, "\n"), line);
	free(line);
	return (out);
}

TEST(json_reals_print_as_people_write_them)
{
	unsigned	seed = t_seed();
	double		d;
	int		i;

	T_EQ_STR(tj_real(10), "10.0");
	T_EQ_STR(tj_real(-20), "-20.0");
	T_EQ_STR(tj_real(55.75), "55.75");
	T_EQ_STR(tj_real(0.1), "0.1");
	T_EQ_STR(tj_real(0.0001), "0.0001");
	T_EQ_STR(tj_real(1e15), "1000000000000000.0");
	T_EQ_STR(tj_real(0.30000000000000004), "0.30000000000000004");
	T_EQ_STR(tj_real(0), "0.0");
	/* Beyond, the exponent is shorter than the zeros. */
	T_EQ_STR(tj_real(1e16), "1e+16");
	T_EQ_STR(tj_real(1e-5), "1e-05");
	T_EQ_STR(tj_real(1.5e300), "1.5e+300");

	/* Whatever the form, it reads back as the same double. */
	srand(seed);
	for (i = 0; i < 100000; i++) {
		d = (double)rand() / RAND_MAX * 2e6 - 1e6;
		if (i % 3 == 1)
			d /= 1e9;
		else if (i % 3 == 2)
			d = (double)rand() / 100;
		T_ASSERTF(strtod(tj_real(d), NULL) == d, "%.17g printed as %s",
		    d, tj_real(d));
	}
}

TEST(json_pretty_record_has_a_field_a_line)
{
	json_t	*v;
	FILE	*mem;
	char	*text = NULL;
	size_t	 size = 0;

	v = json_loads("{\"id\":7,\"start\":\"2015\",\"actors\":[{\"name\":"
	    "\"RUS\",\"role\":\"host\"},{\"name\":\"EGY\"}],\"urls\":[],"
	    "\"place\":{\"lat\":10.0,\"lon\":2.5},\"attrs\":{\"a\":[1,{\"b\":"
	    "null}]}}", JSON_PRESERVE_ORDER, NULL);
	T_ASSERT(v != NULL);
	T_ASSERT((mem = open_memstream(&text, &size)) != NULL);
	T_OK(json_record_write_pretty(mem, v));
	fclose(mem);
	json_decref(v);
	T_EQ_STR(text, "{\n"
	    "  \"id\": 7,\n"
	    "  \"start\": \"2015\",\n"
	    "  \"actors\": [\n"
	    "    {\"name\": \"RUS\", \"role\": \"host\"},\n"
	    "    {\"name\": \"EGY\"}\n"
	    "  ],\n"
	    "  \"urls\": [],\n"
	    "  \"place\": {\n"
	    "    \"lat\": 10.0,\n"
	    "    \"lon\": 2.5\n"
	    "  },\n"
	    "  \"attrs\": {\n"
	    "    \"a\": [1, {\"b\": null}]\n"
	    "  }\n"
	    "}\n");
	free(text);
}
