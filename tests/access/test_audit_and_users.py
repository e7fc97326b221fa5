"""Audit trail (append-only, no passwords, redacted for blinded readers) and the embedded users file (bcrypt,
throttle, the auditor role)."""

import io
import json

import pytest

from dashboard.access.audit import DSMB_VIEW, AuditEvent, AuditLog
from dashboard.access.users import LoginThrottle, UserStore
from dashboard.access.viewer import Viewer, allowed, sees_arms
from dashboard.errors import AccessDenied


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


# --- No side channel: what a reader who may not see arms gets of the trail (AuditLog.read_for) -----------------

ARMS = ("Zorblax-7Q", "Quuxomab-Ctl")
READERS = {role: Viewer(f"{role}-reader", role) for role in ("dsmb", "investigator", "data_manager", "auditor")}


def _trail_after_a_dsmb_session(path) -> AuditLog:
    """A DSMB member filters by arm, opens a patient and exports a deck; an older DSMB line without the
    ``unblinded`` field; a data manager's own events, one with an arm criterion and an arm name in it."""
    log = AuditLog(path)
    log.append(AuditEvent("login_success", "dora", "dsmb", "login"))
    log.append(AuditEvent("page_view", "dora", "dsmb", "patients", {"filters": {"arm": ARMS[1], "sex": "F"},
                                                                   "blinding": "UNBLINDED: DSMB closed session"}))
    log.append(AuditEvent("page_view", "dora", "dsmb", "patient", {"usubjid": "SITE1-0042", "cut_id": 1}))
    log.append(AuditEvent("export", "dora", "dsmb", "deck", {"what": f"deck_{ARMS[0]}_vs_{ARMS[1]}.pptx"}))
    with open(path, "a") as fh:  # written before events said whether their session was unblinded
        fh.write(json.dumps({"created": "2026-01-01T00:00:00+00:00", "name": "page_view", "actor": "dora",
                             "role": "dsmb", "page": "survival", "properties": {"filters": {"arm": ARMS[0]}}}) + "\n")
    log.append(AuditEvent("export", "dan", "data_manager", "labs", {"what": f"{ARMS[0].lower()}_labs.csv",
                                                                      "filters": {"arm": ARMS[0], "site": "S1"}}))
    return log


def test_events_record_whether_their_session_was_unblinded():
    assert AuditEvent("page_view", "dora", "dsmb").unblinded is True
    assert AuditEvent("page_view", "dan", "data_manager").unblinded is False
    assert AuditEvent("page_view", "ida", "auditor").unblinded is False
    assert AuditEvent("page_view", "ivan", "investigator", "overview",
                      {"blinding": "UNBLINDED: trial unblinded"}).unblinded is True
    assert AuditEvent("export", "dora", "dsmb", unblinded=False).unblinded is False  # the writer knows best


def test_a_blinded_reader_gets_no_arm_and_no_dsmb_detail(tmp_path):
    log = _trail_after_a_dsmb_session(tmp_path / "audit.jsonl")
    events = log.read_for(READERS["data_manager"])
    text = events.to_csv()
    assert not any(arm.lower() in text.lower() for arm in ARMS)
    assert "SITE1-0042" not in text and "arm" not in "".join(events["properties"]).replace("[arm]", "")
    dsmb = events[events["actor"] == "dora"]
    # who, when, which kind of action and page stay; the details do not
    assert list(dsmb["name"]) == ["login_success", "page_view", "page_view", "export", "page_view"]
    assert list(dsmb["page"]) == ["login", "patients", "patient", "deck", "survival"]
    assert set(dsmb["properties"]) == {DSMB_VIEW} and dsmb["unblinded"].all()
    own = json.loads(events[events["actor"] == "dan"]["properties"].iloc[0])
    assert own == {"what": "[arm]_labs.csv", "filters": {"site": "S1"}}


@pytest.mark.parametrize("reader", ["dsmb", "auditor"])
def test_the_dsmb_and_the_auditor_read_the_trail_whole(tmp_path, reader):
    events = _trail_after_a_dsmb_session(tmp_path / "audit.jsonl").read_for(READERS[reader])
    text = events.to_csv()
    assert all(arm in text for arm in ARMS) and "SITE1-0042" in text and DSMB_VIEW not in text


def test_once_the_trial_is_unblinded_the_data_manager_reads_it_whole(tmp_path):
    events = _trail_after_a_dsmb_session(tmp_path / "audit.jsonl").read_for(READERS["data_manager"],
                                                                            trial_blinded=False)
    assert all(arm in events.to_csv() for arm in ARMS)


def test_arm_names_given_by_the_caller_are_replaced_too(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append(AuditEvent("export", "dan", "data_manager", "data", {"what": "Placebo-listing.csv", "note": "placebos"}))
    props = json.loads(log.read_for(READERS["data_manager"], arm_names=["Placebo"])["properties"].iloc[0])
    assert props == {"what": "[arm]-listing.csv", "note": "placebos"}  # whole names only


def test_roles_that_may_not_read_the_trail_are_refused(tmp_path):
    with pytest.raises(AccessDenied):
        _trail_after_a_dsmb_session(tmp_path / "audit.jsonl").read_for(READERS["investigator"])


def test_users_add_takes_the_auditor_role(tmp_path, monkeypatch, capsys):
    from dashboard.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("an auditor's passphrase\n"))
    assert main(["users", "--file", str(tmp_path / "users.toml"), "add", "ida", "--role", "auditor",
                 "--name", "Ida Auditor", "--password-stdin"]) == 0
    viewer = UserStore(tmp_path / "users.toml").authenticate("ida", "an auditor's passphrase", simulated_trial=False)
    assert viewer.role == "auditor" and viewer.label == "Ida Auditor (Auditor)"
    assert allowed(viewer, "view_audit") and allowed(viewer, "view_trial") and not allowed(viewer, "import_data")
    assert not sees_arms(viewer, trial_blinded=True)
