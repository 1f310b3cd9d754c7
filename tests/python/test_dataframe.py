"""to_dataframe and from_dataframe with pandas."""

from __future__ import annotations

import math

import pandas as pd

import annals
from conftest import event


def test_to_dataframe(db):
    db.put([event(1, start="2014~", actors=[{"name": "RUS", "role": "host"},
                                             "EGY"],
                  place={"name": "Moscow", "lat": 55.75},
                  attrs={"goldstein": 4.0, "n": 2}),
            event(2, start="2011-03-15/..", tags=["war"]),
            event(3, start="-0044-03-15")])
    df = annals.to_dataframe(db.range(), attrs=True)
    assert list(df["start"]) == ["-0044-03-15", "2011-03-15/..", "2014~"]
    row = df.iloc[2]
    assert row["actors"] == ["RUS", "EGY"] and row["roles"] == ["host", None]
    assert row["place_name"] == "Moscow" and row["lat"] == 55.75
    assert row["match"] == "certain" and row["attrs.goldstein"] == 4.0
    assert row["lo"] == pd.Timestamp("2014-01-01", tz="UTC")
    assert row["flo"] == pd.Timestamp("2013-01-01", tz="UTC")
    assert row["fhi"] == pd.Timestamp("2015-12-31T23:59:59", tz="UTC")
    assert str(df["lo"].dtype) == "datetime64[ns, UTC]"
    assert pd.isna(df.iloc[1]["hi"]) and pd.isna(df.iloc[0]["lo"])
    assert df.iloc[1]["tags"] == ["war"]
    assert df["created"].iloc[0].year >= 2024
    plain = annals.to_dataframe(db.range())
    assert plain.iloc[2]["attrs"] == {"goldstein": 4.0, "n": 2}
    assert len(annals.to_dataframe([])) == 0


def test_to_dataframe_via(db):
    db.put([event(1, start="2012", actors=["SYRGOV"]),
            event(2, start="2013", actors=["SYRMIL", "SYRGOV"])])
    db.set_alias("Assad", ["SYRMIL", "SYRGOV"])
    df = annals.to_dataframe(db.actor("Assad"))
    assert list(df["via"]) == ["SYRGOV", "SYRMIL"]
    assert "via" not in annals.to_dataframe(db.actor("SYRGOV")).columns


def test_from_dataframe_round_trip(db):
    df = pd.DataFrame({
        "feed": ["acled", "acled", "acled"],
        "event_id": [101, 102, 103],
        "start": ["2015-01-26", "2015-02", "2015-03~"],
        "end": [None, "2015-03", None],
        "actors": [["RUS", "SYR"], "TUR", [{"name": "USA", "role": "x"}]],
        "title": ["Ü1", "t2", math.nan],
        "fatalities": [1, 0, 5],
        "lat": [55.75, math.nan, 1.5],
        "ignored": ["a", "b", "c"],
    })
    res = annals.from_dataframe(db, df, source="feed", key="event_id",
                                attrs=["fatalities"])
    assert [r["status"] for r in res] == ["added"] * 3
    e = db.get_by_key("acled", "101")
    assert e["title"] == "Ü1" and e["attrs"] == {"fatalities": 1}
    assert e["place"] == {"lat": 55.75}
    assert [a["name"] for a in e["actors"]] == ["RUS", "SYR"]
    assert db.get_by_key("acled", "102")["end"] == "2015-03"
    third = db.get_by_key("acled", "103")
    assert "title" not in third and third["actors"] == [{"name": "USA",
                                                         "role": "x"}]
    # Again: found by source and key, unchanged.
    again = annals.from_dataframe(db, df, source="feed", key="event_id",
                                  attrs=["fatalities"])
    assert [r["status"] for r in again] == ["unchanged"] * 3
    back = annals.to_dataframe(db.range())
    assert list(back["key"]) == ["101", "102", "103"]
    bad = df.assign(start=["2015-02-30", "2015", "2016"])
    res = annals.from_dataframe(db, bad, source="feed", key="event_id",
                                skip_invalid=True)
    assert res[0] == {"status": "invalid",
                      "error": "records[0]: start: 2015-02-30 is not a date"}
    assert [r["status"] for r in res[1:]] == ["updated", "updated"]
