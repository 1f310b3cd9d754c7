"""The parameters of queries, named once.

Keyword arguments of the query methods go to the daemon under the same
name, so a parameter the protocol gains works before this module names
it; :class:`Filters` lists them for type checkers and readers.  A new
parameter is one line there.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

try:
    from typing import TypedDict
except ImportError:  # Python 3.7
    from typing_extensions import TypedDict  # type: ignore


class Filters(TypedDict, total=False):
    """The filters of ``range`` and of the methods that take its filters
    (proto/PROTOCOL.md, section 7)."""

    actor: str        #: this actor; a trailing ``*`` makes it a prefix
    role: str         #: with ``actor``: only where it has this role
    type: str         #: a prefix of the event type ("04" matches "042")
    tag: str          #: only events with this tag
    source: str       #: only events from this source
    text: str         #: words of title or text ("negotiat*", "\"a b\"")
    precision: str    #: "year", "season", "month", "day" or "time"
    certain: bool     #: only certain matches
    within: bool      #: only events lying wholly inside the interval
    order: str        #: "asc" (default) or "desc"
    desc: bool        #: the client's shorthand for order="desc"
    fields: List[str]  #: only these keys of each event (id always)


def params(frm: Optional[str] = None, to: Optional[str] = None,
           **kwargs: Any) -> Dict[str, Any]:
    """The params map of a request: ``frm`` as ``from``, ``desc`` as
    ``order``, and None values left out."""
    out: Dict[str, Any] = {}
    if frm is not None:
        out["from"] = frm
    if to is not None:
        out["to"] = to
    desc = kwargs.pop("desc", None)
    if desc is not None:
        out["order"] = "desc" if desc else "asc"
    for name, value in kwargs.items():
        if value is not None:
            out[name] = value
    return out
