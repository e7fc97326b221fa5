"""An unexpected error shows a short message with an incident id; the traceback goes to the server log only."""

import logging
import re

from tests.pages.apptest_helpers import run_page, sent_bytes


def test_an_unexpected_error_becomes_an_incident_message_and_a_logged_traceback(app_env, real_incidents,
                                                                                  monkeypatch, caplog):
    from dashboard.analyses import survival

    def broken(*args):
        raise KeyError("secret_column at /srv/app/src/dashboard/whatever.py")

    monkeypatch.setattr(survival, "survival", broken)
    with caplog.at_level(logging.ERROR, logger="dashboard.incidents"):
        at = run_page("pages/survival.py", "dsmb")
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    incident = re.search(r"incident ([0-9a-f]{8})", message).group(1)
    sent = sent_bytes(at)
    assert b"secret_column" not in sent and b"Traceback" not in sent and b"/srv/app" not in sent
    record = next(r for r in caplog.records if incident in r.getMessage())
    assert record.exc_info and "secret_column" in record.getMessage()
    # The shell still works around the failed page: the filters and Log out are there.
    assert at.sidebar.button(key="f_clear") is not None
    assert any("Log out" in b.label for b in at.sidebar.button)


def test_the_server_never_sends_error_details():
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
