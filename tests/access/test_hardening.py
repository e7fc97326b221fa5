"""Hardening of the embedded login: password policy, usernames and a TOML-safe users file, a throttle that
forgets and counts client addresses, and users-file writes that survive concurrent first logins."""

import subprocess
import sys
import threading
import tomllib

import pytest

from dashboard.access.users import DEMO_ACCOUNTS, LoginThrottle, UserStore, check_password, check_username
from dashboard.cli import main

WEAK = ["        ", "password", "12345678", "            ", "  short-one  ", "qwerty123456", "Password1234",
        "aaaaaaaaaaaaaaaa", "ann.lee@example.org"]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValueError, match="password"):
        check_password(password, "ann.lee@example.org")


def test_a_long_uncommon_password_is_accepted_and_the_username_does_not_count():
    check_password("tulip-orbit-canal", "ann")
    with pytest.raises(ValueError, match="username"):
        check_password("ann.lee-2024!", "ann.lee")


def test_users_add_and_set_password_refuse_weak_passwords(tmp_path, monkeypatch, capsys):
    users = tmp_path / "users.toml"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("password\n"))
    assert main(["users", "--file", str(users), "add", "ann", "--role", "dsmb", "--password-stdin"]) == 2
    assert "12 characters" in capsys.readouterr().err and not users.exists()
    UserStore(users).add("ann", "tulip-orbit-canal", "dsmb")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("12345678\n"))
    assert main(["users", "--file", str(users), "set-password", "ann", "--password-stdin"]) == 2
    assert UserStore(users).authenticate("ann", "tulip-orbit-canal", simulated_trial=False).role == "dsmb"


def test_demo_accounts_keep_their_short_demo_passwords(tmp_path):
    store = UserStore(tmp_path / "users.toml")
    store.ensure_demo_accounts()
    assert store.authenticate("investigator", "investigator-demo", simulated_trial=True).role == "investigator"


@pytest.mark.parametrize("name", ["ann\nrole = \"dsmb\"", 'ann"', "a=b", "ann lee", "", "x" * 65, "ann\x00", "ann\t"])
def test_usernames_outside_the_allowed_characters_are_refused_clearly(tmp_path, name):
    with pytest.raises(ValueError, match="letters, digits"):
        UserStore(tmp_path / "users.toml").add(name, "tulip-orbit-canal", "dsmb")
    assert not (tmp_path / "users.toml").exists()


def test_allowed_usernames():
    for name in ["ann", "ann.lee@example.org", "ann_lee-2", "x" * 64]:
        check_username(name)


def test_hostile_display_names_round_trip_and_later_commands_still_work(tmp_path, capsys):
    users = tmp_path / "users.toml"
    store = UserStore(users)
    hostile = 'Ann "the boss"\nrole = "dsmb"\\\t\x7f\x01 é 😀 [users.eve]'
    store.add("ann", "tulip-orbit-canal", "investigator", hostile)
    store.add("ben", "tulip-orbit-canal", "dsmb", "Ben")
    with open(users, "rb") as fh:
        assert set(tomllib.load(fh)["users"]) == {"ann", "ben"}
    assert store.load()["ann"].display_name == hostile and store.load()["ann"].role == "investigator"
    assert main(["users", "--file", str(users), "list"]) == 0
    assert "ben\tdsmb" in capsys.readouterr().out


def test_old_failures_are_forgotten_so_one_typo_later_is_not_throttled():
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(6):  # six failures over an afternoon, each after its back-off ran out
        throttle.failed("ann")
        now[0] += 120
    now[0] += 86_400
    throttle.failed("ann")  # a typo the next day
    assert throttle.wait_seconds("ann") == 0


def test_the_back_off_never_exceeds_its_maximum_and_then_lets_the_user_in():
    now = [0.0]
    throttle = LoginThrottle(max_delay=60, clock=lambda: now[0])
    for _ in range(50):
        throttle.failed("ann", "10.0.0.1")
    assert 0 < throttle.wait_seconds("ann", "10.0.0.1") <= 60
    now[0] += 60
    assert throttle.wait_seconds("ann", "10.0.0.1") == 0


def test_one_address_trying_many_usernames_is_throttled_other_addresses_are_not():
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for i in range(20):
        throttle.failed(f"user{i}", "10.0.0.5")
    assert throttle.wait_seconds("ann", "10.0.0.5") > 0
    assert throttle.wait_seconds("ann", "10.0.0.6") == 0
    assert throttle.wait_seconds("ann", None) == 0


def test_a_success_clears_the_username_but_not_the_address():
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for i in range(20):
        throttle.failed("ann", "10.0.0.5")
    throttle.succeeded("ann", "10.0.0.5")
    assert throttle.wait_seconds("ann", "10.0.0.9") == 0
    assert throttle.wait_seconds("ben", "10.0.0.5") > 0


def test_concurrent_first_logins_create_the_demo_accounts_once(tmp_path):
    path = tmp_path / "users.toml"
    start, errors = threading.Barrier(6), []

    def first_login() -> None:
        start.wait()
        try:
            UserStore(path).ensure_demo_accounts()
        except Exception as exc:  # noqa: BLE001 - the test reports every failure
            errors.append(exc)

    threads = [threading.Thread(target=first_login) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(UserStore(path).load()) == {name for name, *_ in DEMO_ACCOUNTS}
    assert list(tmp_path.iterdir()) == [path] or all(p.suffix == ".lock" for p in tmp_path.iterdir() if p != path)


def test_concurrent_processes_adding_users_lose_no_update(tmp_path):
    path = tmp_path / "users.toml"
    code = ("import sys; from dashboard.access.users import UserStore; "
            "UserStore(sys.argv[1]).add(sys.argv[2], 'tulip-orbit-canal', 'dsmb')")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), f"user{i}"], stderr=subprocess.PIPE)
             for i in range(4)]
    errors = [p.communicate()[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    assert set(UserStore(path).load()) == {f"user{i}" for i in range(4)}
