"""The exceptions of the client: one per error code of the protocol
(proto/PROTOCOL.md, section 4), each carrying the daemon's message, and
:class:`ConnectionLost` for a connection that broke or could not be
made (:class:`DaemonNotRunning` when no daemon is there)."""

from __future__ import annotations

from typing import Dict, Type


class Error(Exception):
    """An error of Annals: ``code`` is the wire name, ``message`` the
    daemon's (or, for the client's own failures, the client's) text."""

    code = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        #: True when the daemon sent the error for the whole connection
        #: (msgid 0) and closed it; call reconnect() before going on.
        self.fatal = False


class InvalidError(Error, ValueError):
    """A parameter or a record is not acceptable."""
    code = "invalid"


class NotFound(Error, LookupError):
    """The event or key does not exist."""
    code = "not_found"


class MalformedError(Error):
    """The request was not a well-formed message."""
    code = "malformed"


class UnknownMethod(Error):
    """The daemon has no method by that name (it may be older)."""
    code = "unknown_method"


class LimitError(Error):
    """A limit of the daemon's resources was met; the message names it."""
    code = "limit"


class BadCursor(Error):
    """The cursor was not produced by this query."""
    code = "bad_cursor"


class DiskFull(Error):
    """The store has no space left; nothing was written."""
    code = "disk_full"


class Unavailable(Error):
    """The daemon is shutting down."""
    code = "unavailable"


class Unauthorized(Error, PermissionError):
    """The daemon wants a token (or a better one) for this."""
    code = "unauthorized"


class InternalError(Error):
    """A bug or a storage failure on the daemon; details are in its log.
    Also raised for an error code this client does not know."""
    code = "internal"


class Expired(Error):
    """The change log no longer reaches back to the given ``since``."""
    code = "expired"


class Conflict(Error):
    """A ``put`` with ``check_rev`` found an event at another rev than
    the one given: read it again and redo the change."""
    code = "conflict"


class ReadOnly(Error):
    """The daemon is a read replica (``annalsd --follow``): send writes
    to its primary, which the message names."""
    code = "read_only"


class ConnectionLost(Error, ConnectionError):
    """The connection broke, timed out or could not be made.  Nothing is
    known of the requests that had no answer; :meth:`Client.reconnect`
    makes the client usable again."""
    code = "io"


class DaemonNotRunning(ConnectionLost):
    """No annalsd answers on the address: the socket path does not exist,
    or nothing listens on it or on the port.  ``address`` is the path or
    ``HOST:PORT`` as given and ``errno`` the connect's (``ENOENT``,
    ``ECONNREFUSED``...).  Start annalsd there, or connect elsewhere."""

    def __init__(self, address: str, errnum: int, why: str) -> None:
        super().__init__(f"{address}: annalsd is not running there ({why})")
        self.address = address
        # Set after the message, so that str() stays the message alone.
        self.errno = errnum


class ProtocolError(ConnectionLost):
    """The daemon sent something that is not the protocol; the client
    closed the connection."""
    code = "protocol"


#: Wire name -> exception class, for every code the daemon sends.
ERRORS: Dict[str, Type[Error]] = {
    cls.code: cls for cls in (
        InvalidError, NotFound, MalformedError, UnknownMethod, LimitError,
        BadCursor, DiskFull, Unavailable, Unauthorized, InternalError,
        Expired, Conflict, ReadOnly)
}


def from_wire(error: object) -> Error:
    """The exception for a response's ``error`` map."""
    if not isinstance(error, dict):
        return ProtocolError(f"error is not a map: {error!r}")
    code = error.get("code")
    message = error.get("message")
    cls = ERRORS.get(code, InternalError) if isinstance(code, str) \
        else InternalError
    if not isinstance(message, str):
        message = str(code)
    elif cls is InternalError and code != "internal":
        message = f"{code}: {message}"
    return cls(message)
