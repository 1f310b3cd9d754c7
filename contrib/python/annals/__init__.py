"""annals: a client for the Annals timeline database.

Speaks annalsd's socket protocol (proto/PROTOCOL.md) with msgpack only::

    import annals
    with annals.connect("var/annalsd.sock") as db:
        for event in db.range("2015-01", "2015-01", actor="RUS"):
            print(event["start"], event["match"], event["title"])

Events are plain dicts with the protocol's keys; query hits also carry
``"match"`` (``"certain"`` or ``"possible"``), and hits of a query by an
alias ``"via"`` (``{"alias", "code"}``).  Dates stay EDTF strings;
:func:`span` gives the bounds the daemon uses.  Errors are exceptions
named after the protocol's codes; :class:`ConnectionLost` is a broken
connection, after which :meth:`Client.reconnect` makes the client usable,
and :class:`DaemonNotRunning` one that could not be made because no
annalsd is at the address.
"""

from .client import DEFAULT_SOCKET, PROTOCOL, Client, Event, connect
from .dates import NEG_INF, POS_INF, Span, format_seconds, query_bounds, span
from .dataframe import from_dataframe, to_dataframe
from .errors import (ERRORS, BadCursor, Conflict, ConnectionLost,
                     DaemonNotRunning, DiskFull, Error,
                     Expired, InternalError, InvalidError, LimitError,
                     MalformedError, NotFound, ProtocolError, ReadOnly,
                     Unauthorized,
                     Unavailable, UnknownMethod)
from .query import Filters

__version__ = "0.1.0"

__all__ = [
    "Client", "connect", "Event", "Filters", "DEFAULT_SOCKET", "PROTOCOL",
    "span", "Span", "query_bounds", "format_seconds", "NEG_INF", "POS_INF",
    "to_dataframe", "from_dataframe",
    "Error", "InvalidError", "NotFound", "MalformedError", "UnknownMethod",
    "LimitError", "BadCursor", "DiskFull", "Unavailable", "Unauthorized",
    "InternalError", "Expired", "Conflict", "ReadOnly", "ConnectionLost",
    "DaemonNotRunning", "ProtocolError", "ERRORS",
]
