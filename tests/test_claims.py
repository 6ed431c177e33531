"""The claims record: upsert, render, statuses and the measured verdict (depthrep/claims.py)."""
import json

import pytest

import depthrep_utils as du


def test_claims_record_upserts_and_renders(results):
    kw = dict(text="m_i grows", figure="Fig. 2", model="ResNet50", image="dalmatian", sizes="64 px")
    du.record_claim("fig2", profile="quick", numbers={"m_i": [1.0, 2.5]}, status="holds", **kw)
    du.record_claim("fig2", profile="paper", numbers={"m_i": [1.0]}, status="does not hold", **kw)
    du.record_claim("fig2", profile="quick", numbers={"m_i": [3.0]}, status="holds", **kw)
    rows = json.loads((results / "claims.json").read_text())
    assert [(r["claim"], r["profile"]) for r in rows] == [("fig2", "paper"), ("fig2", "quick")]
    assert rows[1]["numbers"] == {"m_i": [3.0]}
    md = (results / "claims.md").read_text()
    assert md.count("**fig2**") == 2 and "does not hold" in md
    assert not [p for p in results.iterdir() if p.name.startswith(".")]  # no temporary files left



def test_claim_status_is_checked(results):
    kw = dict(claim="x", text="t", figure="f", profile="quick", model="m", image="i", sizes="s", numbers={})
    with pytest.raises(ValueError, match="status"):
        du.record_claim(status="maybe", **kw)
    with pytest.raises(ValueError, match="reason"):
        du.record_claim(status="not measured", **kw)



def test_check_claim_records_the_measured_verdict(results, capsys):
    kw = dict(text="t", figure="f", profile="quick", model="m", image="i", sizes="s")
    assert du.check_claim("a", numbers={"x": 1.23456}, holds=True, **kw) is True
    assert du.check_claim("b", numbers={"x": 2.0}, holds=False, **kw) is False
    rows = {r["claim"]: r["status"] for r in json.loads((results / "claims.json").read_text())}
    assert rows == {"a": "holds", "b": "does not hold"}
    assert "a: holds  x = 1.23" in capsys.readouterr().out



def test_a_claim_over_runs_that_missed_their_embedding_is_inconclusive(results):
    kw = dict(text="t", figure="f", profile="quick", model="m", image="i", sizes="s", numbers={"m_i": [1, 2]})
    good, missed = dict(m_g=1.0, m_s=2.0, m_i=5.0), dict(m_g=3.0, m_s=2.0, m_i=9.0)
    # Whatever the comparison says, one unconverged run makes the claim inconclusive, never "does not hold".
    for holds in (True, False):
        assert du.check_claim("c", holds=holds, runs={"conv1": good, "conv5": missed}, **kw) is None
        row = json.loads((results / "claims.json").read_text())[0]
        assert row["status"] == "inconclusive" and "conv5 (m_g 3 >= m_s 2)" in row["why"] and "1 of 2" in row["why"]
    assert du.check_claim("c", holds=False, runs={"conv1": good}, **kw) is False  # converged: a real verdict
    claims = du.Claims("quick", "i", "s")
    assert claims.check("d", "t", "f", "m", {}, True, runs={"conv5": missed}) is None and claims["d"] is None
    with pytest.raises(ValueError, match="reason"):
        du.record_claim("e", status="inconclusive", **kw)
    assert "NOT matched" in du.run_title(missed) and "NOT matched" not in du.run_title(good)



def test_a_claim_the_budget_cannot_test_is_below_scale(results):
    kw = dict(text="t", figure="f", profile="quick", model="m", image="i", sizes="s", numbers={"m_i": [1, 2]})
    good, missed = dict(m_g=1.0, m_s=2.0), dict(m_g=3.0, m_s=2.0)
    for holds in (True, False):
        assert du.check_claim("g", holds=holds, below_scale="needs > 400 steps", runs={"a": good}, **kw) is None
        row = json.loads((results / "claims.json").read_text())[0]
        assert row["status"] == "below scale" and row["why"] == "needs > 400 steps"
    du.check_claim("g", holds=True, below_scale="needs > 400 steps", runs={"a": missed}, **kw)
    assert json.loads((results / "claims.json").read_text())[0]["status"] == "inconclusive"  # unmatched first
    with pytest.raises(ValueError, match="reason"):
        du.record_claim("h", status="below scale", **kw)
