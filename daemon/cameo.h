/*
 * Names composed from CAMEO actor codes (cameo.c); the tables are
 * generated from the tables in daemon/cameo/ by cameo-gen.awk.
 */
#ifndef ANNALSD_CAMEO_H
#define ANNALSD_CAMEO_H

#include <stddef.h>

struct cameo_code {
	const char	*code;		/* three letters */
	const char	*label;
};

/* Sorted by code (byte order: capitals first). */
extern const struct cameo_code	cameo_country[];
extern const size_t		cameo_ncountry;
extern const struct cameo_code	cameo_type[];
extern const size_t		cameo_ntype;
extern const struct cameo_code	cameo_knowngroup[];
extern const size_t		cameo_nknowngroup;
extern const struct cameo_code	cameo_religion[];
extern const size_t		cameo_nreligion;
extern const struct cameo_code	cameo_ethnic[];
extern const size_t		cameo_nethnic;

#define CAMEO_MAX_PARTS	6		/* three-letter parts of a code */
#define CAMEO_MAX_NAME	512		/* bytes of a composed name */

const char *cameo_label(const struct cameo_code *, size_t, const char *);
int	 cameo_name(const char *, size_t, char *, size_t);

#endif
