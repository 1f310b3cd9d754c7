"""Events to and from pandas DataFrames (pandas is imported on use, so the
client works without it)."""

from __future__ import annotations

import math
from typing import (TYPE_CHECKING, Any, Dict, Iterable, List, Optional,
                    Sequence)

from .dates import NEG_INF, POS_INF, span
from .errors import InvalidError

if TYPE_CHECKING:
    import pandas

    from .client import Client, Event

# Record keys copied as they are between a row and an event.
_PLAIN = ("start", "end", "type", "title", "text", "urls", "tags")
_PLACE = (("place_name", "name"), ("country", "country"), ("lat", "lat"),
          ("lon", "lon"))


def _bounds(event: "Event") -> List[Optional[int]]:
    try:
        s = span(event["start"], event.get("end"))
    except (InvalidError, KeyError, TypeError):
        return [None] * 4
    return [None if t in (NEG_INF, POS_INF) else t
            for t in (s.lo, s.hi, s.flo, s.fhi)]


def to_dataframe(events: Iterable["Event"], *,
                 attrs: bool = False) -> "pandas.DataFrame":
    """One row per event: the record's keys as columns, ``actors`` and
    ``roles`` as parallel lists, ``place`` as place_name/country/lat/lon,
    ``created``/``updated`` and the strict (``lo``, ``hi``) and fuzzy
    (``flo``, ``fhi``) bounds of the dates as UTC datetime columns (NaT
    when open or beyond pandas' years 1677-2262), ``match`` for query
    hits, and ``via`` (the code) for hits of a query by an alias.
    ``attrs`` keeps them as one column of dicts, or with
    ``attrs=True`` spreads them into ``attrs.KEY`` columns."""
    import pandas as pd

    rows = []
    for e in events:
        actors = e.get("actors") or []
        place = e.get("place") or {}
        row: Dict[str, Any] = {
            "id": e.get("id"), "rev": e.get("rev"),
            "created": e.get("created"), "updated": e.get("updated"),
            "source": e.get("source"), "key": e.get("key"),
            "start": e.get("start"), "end": e.get("end"),
            "actors": [a["name"] for a in actors],
            "roles": [a.get("role") for a in actors],
            "type": e.get("type"), "title": e.get("title"),
            "text": e.get("text"),
            "place_name": place.get("name"),
            "country": place.get("country"),
            "lat": place.get("lat"), "lon": place.get("lon"),
            "urls": e.get("urls") or [], "tags": e.get("tags") or [],
        }
        row["lo"], row["hi"], row["flo"], row["fhi"] = _bounds(e)
        if "match" in e:
            row["match"] = e["match"]
        if "via" in e:
            row["via"] = e["via"].get("code")
        if attrs:
            for k, v in (e.get("attrs") or {}).items():
                row["attrs." + k] = v
        else:
            row["attrs"] = e.get("attrs") or {}
        rows.append(row)
    df = pd.DataFrame(rows, columns=None if rows else [
        "id", "rev", "created", "updated", "source", "key", "start", "end",
        "actors", "roles", "type", "title", "text", "place_name", "country",
        "lat", "lon", "urls", "tags", "lo", "hi", "flo", "fhi"])
    for col in ("created", "updated"):
        df[col] = pd.to_datetime(df[col], unit="ms", utc=True)
    for col in ("lo", "hi", "flo", "fhi"):
        df[col] = pd.to_datetime(df[col], unit="s", utc=True,
                                 errors="coerce")
    return df


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    try:
        import pandas as pd
        return v is pd.NaT or v is pd.NA
    except ImportError:  # pragma: no cover
        return False


def _plain(v: Any) -> Any:
    """A numpy scalar or array as the Python value msgpack packs."""
    if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
        return v.tolist()
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        return v.item()
    return v


def _actors(v: Any) -> List[Any]:
    v = _plain(v)
    if isinstance(v, str):
        return [v]
    return list(v)


def rows_to_records(df: "pandas.DataFrame", *, source: str = "source",
                    key: str = "key",
                    attrs: Sequence[str] = ()) -> List["Event"]:
    """The records of :func:`from_dataframe`, without putting them."""
    records = []
    for row in df.to_dict("records"):
        rec: Dict[str, Any] = {}
        for name, value in ((source, "source"), (key, "key")):
            if name in row and not _missing(row[name]):
                rec[value] = str(_plain(row[name]))
        for col in _PLAIN:
            if col in row and not _missing_or_empty(row[col]):
                rec[col] = _plain(row[col])
        if "actors" in row and not _missing_or_empty(row["actors"]):
            rec["actors"] = _actors(row["actors"])
        place = {k: _plain(row[col]) for col, k in _PLACE
                 if col in row and not _missing(row[col])}
        if place:
            rec["place"] = place
        extra = {col: _plain(row[col]) for col in attrs
                 if col in row and not _missing(row[col])}
        if extra:
            rec["attrs"] = extra
        records.append(rec)
    return records


def _missing_or_empty(v: Any) -> bool:
    if isinstance(v, (list, tuple)) or hasattr(v, "__len__") and \
            not isinstance(v, str):
        return len(v) == 0
    return _missing(v)


def from_dataframe(client: "Client", df: "pandas.DataFrame", *,
                   source: str = "source", key: str = "key",
                   attrs: Sequence[str] = (), batch: Optional[int] = None,
                   skip_invalid: bool = False) -> List[Dict[str, Any]]:
    """Put one event per row through :meth:`Client.put_bulk` and return
    its results, one per row.

    The columns ``source`` and ``key`` name the event's source and key
    (with those as their default names); ``start``, ``end``, ``actors``
    (a list of names or ``{"name", "role"}`` maps, or one name),
    ``type``, ``title``, ``text``, ``urls``, ``tags``, and
    ``place_name``/``country``/``lat``/``lon`` are taken by name, and the
    columns listed in ``attrs`` go into the event's attrs.  Missing values
    (None, NaN, NaT) are left out.  Other columns are ignored.
    """
    records = rows_to_records(df, source=source, key=key, attrs=attrs)
    return client.put_bulk(records, batch=batch, skip_invalid=skip_invalid)
