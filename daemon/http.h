/*
 * The HTTP/JSON API and the timeline page: libevent's evhttp on the
 * daemon's own event loop and store, beside the msgpack socket.
 *
 *	http.c		listening, connections, admission, routing,
 *			static files
 *	http-reply.c	the common response path (problem bodies, ETag,
 *			gzip, CORS), answers given later
 *	http-json.c	msgpack <-> JSON, base64url
 *	http-api.c	the /v1 endpoints
 *	http-sse.c	the live change stream (server-sent events)
 *	http-ticket.c	single-use tickets that open it from a browser
 */
#ifndef ANNALSD_HTTP_H
#define ANNALSD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "annalsd.h"

struct evhttp_connection;
struct evhttp_request;
struct evbuffer;
struct evkeyvalq;
struct stat;

#define HTTP_MAX_CORS	16
#define HTTP_MAX_HOSTS	16
/* Default --http-timeout, seconds. */
#define HTTP_TIMEOUT	120

struct http_config {
	const char	*listen;	/* host:port */
	int		 allow_remote;
	const char	*cors[HTTP_MAX_CORS];	/* origins, or "*" */
	size_t		 ncors;
	const char	*hosts[HTTP_MAX_HOSTS];	/* --http-host NAME[:PORT] */
	size_t		 nhosts;
	const char	*web_dir;	/* NULL: found next to the binary */
	size_t		 max_body;	/* request bodies, bytes */
	unsigned	 timeout;	/* seconds idle, or for one request */
};

/* http.c */
int	 http_start(const struct http_config *, struct aerr *);
void	 http_stop(void);
void	 http_free(void);

/* http-reply.c */
void	 http_reply_init(const struct http_config *, const char *);
void	 http_reply_drain(void);
const struct http_config *http_config(void);
int	 http_status_of(int);
const char *http_cors_match(const char *);
void	 http_headers(struct evhttp_request *);
void	 http_reply(struct evhttp_request *, int, struct evbuffer *);
void	 http_send(struct evhttp_request *, int, const char *,
	     struct evbuffer *);
void	 http_send_json(struct evhttp_request *, int, struct evbuffer *,
	     int);
void	 http_problem(struct evhttp_request *, int, const struct aerr *);
void	 http_problem_status(struct evhttp_request *, int, const char *,
	     const char *);
int	 http_not_modified(struct evhttp_request *);
int	 http_file_open(struct evhttp_request *, const char *, struct stat *);
struct evbuffer *http_file_body(struct evhttp_request *, int,
	     const struct stat *);
void	 http_page_send(struct evhttp_request *, struct evbuffer *);
void	 http_set_closecb(struct evhttp_connection *,
	     void (*)(struct evhttp_connection *, void *), void *);
void	 http_reply_gone(struct evhttp_connection *);

/* http-json.c */
void	 hjson_str(struct evbuffer *, const char *, size_t);
int	 hjson_from_mp(struct evbuffer *, const msgpack_object *);
int	 hjson_result(struct evbuffer *, const msgpack_sbuffer *);
int	 hjson_record(struct evbuffer *, const void *, size_t, uint32_t,
	     const char *, const char *);
int	 hjson_to_mp(const char *, size_t, msgpack_packer *, int *,
	     const uint64_t *, struct aerr *);
size_t	 b64url_encode(const unsigned char *, size_t, char *, size_t);
int	 b64url_decode(const char *, unsigned char *, size_t, size_t *);

/* http-actor.c */
void	 http_actor_get(struct evhttp_request *, const char *);

/* http-api.c */
void	 http_api(struct evhttp_request *, const char *);
int	 http_api_page(struct evhttp_request *);

/* http-ticket.c */
/* Live tickets at most, and how long one may wait to be used (ms). */
#define HTTP_TICKETS		64
#define HTTP_TICKET_TTL		60000
/* Room for a ticket and its NUL. */
#define HTTP_TICKET_SIZE	48
int	 http_ticket_new(char *, size_t, uint64_t *, struct aerr *);
int	 http_ticket_take(const char *, size_t);
void	 http_ticket_free(void);

/* http-sse.c */
int	 http_sse_wanted(struct evhttp_request *);
void	 http_sse_start(struct evhttp_request *, uint64_t, int);
void	 http_sse_free(void);
size_t	 http_sse_count(void);

#endif
