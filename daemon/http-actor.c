/*
 * GET /v1/actors/{code}: how the actor dictionary shows a code, the same
 * map as the dict_get method gives (label, label_from, cameo, aliases),
 * as JSON.  The code is percent-decoded from the path.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "annalsd.h"
#include "http.h"

void
http_actor_get(struct evhttp_request *req, const char *escaped)
{
	msgpack_sbuffer		 sb;
	msgpack_unpacked	 u;
	struct evbuffer		*out;
	struct aerr		 err;
	size_t			 len = 0;
	char			*code;

	aerr_clear(&err);
	code = evhttp_uridecode(escaped, 0, &len);
	if (code == NULL || len == 0 || len > EVENT_MAX_ACTOR ||
	    strlen(code) != len || !utf8_valid(code, len)) {
		aerr_set(&err, AERR_INVALID, "code: 1 to %d bytes of UTF-8",
		    EVENT_MAX_ACTOR);
		http_problem(req, 0, &err);
		free(code);
		return;
	}
	msgpack_sbuffer_init(&sb);
	if (dict_get_code(code, &sb, &err) != 0) {
		http_problem(req, 0, &err);
		goto out;
	}
	msgpack_unpacked_init(&u);
	out = evbuffer_new();
	if (msgpack_unpack_next(&u, sb.data, sb.size, NULL) !=
	    MSGPACK_UNPACK_SUCCESS || hjson_from_mp(out, &u.data) != 0) {
		aerr_set(&err, AERR_INTERNAL, "dictionary entry damaged");
		http_problem(req, 0, &err);
	} else
		http_send_json(req, 200, out, 1);
	evbuffer_free(out);
	msgpack_unpacked_destroy(&u);
out:
	msgpack_sbuffer_destroy(&sb);
	free(code);
}
