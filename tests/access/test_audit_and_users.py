"""Audit trail (append-only, no passwords) and the embedded users file (bcrypt, throttle)."""

import json

import pytest

from dashboard.access.audit import AuditEvent, AuditLog
from dashboard.access.users import LoginThrottle, UserStore


def test_audit_appends_lines_and_reads_them_back_after_a_restart(tmp_path):
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append(AuditEvent("login_failure", "bob", "", "login", {"reason": "wrong password"}))
    AuditLog(path).append(AuditEvent("page_view", "ann", "dsmb", "survival", {"filters": {"sex": "F"}}))
    events = AuditLog(path).read()
    assert list(events["name"]) == ["login_failure", "page_view"]
    assert json.loads(events["properties"][1]) == {"filters": {"sex": "F"}}
    assert len(path.read_text().splitlines()) == 2


def test_audit_events_refuse_passwords_and_unknown_names():
    with pytest.raises(ValueError, match="password"):
        AuditEvent("login_failure", "bob", "", properties={"password": "x"})
    with pytest.raises(ValueError, match="name"):
        AuditEvent("deleted_everything", "bob", "")


def test_passwords_are_stored_as_salted_bcrypt_hashes(tmp_path):
    store = UserStore(tmp_path / "users.toml")
    store.add("ann", "correct-horse", "dsmb")
    store.add("ben", "correct-horse", "investigator")
    text = (tmp_path / "users.toml").read_text()
    assert "correct-horse" not in text
    hashes = [u.hash for u in store.load().values()]
    assert all(h.startswith("$2b$12$") for h in hashes) and hashes[0] != hashes[1]


def test_authenticate_set_role_set_password_remove(tmp_path):
    store = UserStore(tmp_path / "users.toml")
    store.add("ann", "correct-horse", "dsmb")
    assert store.authenticate("ann", "wrong-horse", simulated_trial=False) is None
    assert store.authenticate("ann", "correct-horse", simulated_trial=False).role == "dsmb"
    store.set_role("ann", "investigator")
    store.set_password("ann", "battery-staple")
    assert store.authenticate("ann", "battery-staple", simulated_trial=False).role == "investigator"
    store.remove("ann")
    assert store.authenticate("ann", "battery-staple", simulated_trial=False) is None


def test_demo_accounts_only_work_on_a_simulated_trial(tmp_path):
    store = UserStore(tmp_path / "users.toml")
    store.ensure_demo_accounts()
    assert store.authenticate("dsmb", "dsmb-demo", simulated_trial=True).role == "dsmb"
    assert store.authenticate("datamanager", "datamanager-demo", simulated_trial=True).role == "data_manager"
    assert store.authenticate("dsmb", "dsmb-demo", simulated_trial=False) is None


def test_short_passwords_and_unknown_roles_are_refused(tmp_path):
    store = UserStore(tmp_path / "users.toml")
    with pytest.raises(ValueError, match="12 characters"):
        store.add("ann", "short", "dsmb")
    with pytest.raises(ValueError, match="role"):
        store.add("ann", "long-enough", "sponsor")


def test_failed_logins_back_off_exponentially():
    now = [100.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(3):
        assert throttle.wait_seconds("ann") == 0
        throttle.failed("ann")
    assert throttle.wait_seconds("ann") == pytest.approx(1.0)
    throttle.failed("ann")
    assert throttle.wait_seconds("ann") == pytest.approx(2.0)
    now[0] += 2.5
    assert throttle.wait_seconds("ann") == 0
    throttle.succeeded("ann")
    assert throttle.wait_seconds("ann") == 0
