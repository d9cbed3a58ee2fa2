"""No test depends on today's date: the clock-sensitive tests pass with the real clock a year ahead.

The CLI, store, action and policy tests are run again in a child pytest under libfaketime
(Debian's `faketime`), which moves what `datetime.now()` / `time.time()` return in that process
and in every command it starts, 365 days ahead of the real date. A test that reads the real
clock instead of the one it is handed (`support.NOW`, ORDERDESK_NOW) fails there. The child
runs on SQLite only: the clock is read in Python, whatever the database.

Without `faketime` installed this test is skipped, except under CI=true, where it fails:
`.ci/run` installs it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from orderdesk import ROOT

CLOCK_SENSITIVE = ["tests/cli", "tests/store", "tests/actions", "tests/policy"]
AHEAD = "+365d"

pytestmark = pytest.mark.timeshift


def _faketime() -> str:
    found = shutil.which("faketime")
    if found:
        return found
    why = "faketime (Debian package 'faketime') is not installed"
    if os.environ.get("CI") == "true":
        pytest.fail(why + "; CI must run this test (.ci/run installs it)")
    pytest.skip(why)


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ORDERDESK_NOW", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # Timeouts and sleeps use the monotonic clock: leave it alone.
    env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
    return env


def test_the_faked_clock_really_is_a_year_ahead():
    faketime = _faketime()
    code = "import datetime, time; print(datetime.date.today().year, int(time.time()))"
    real = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    faked = subprocess.run([faketime, "-f", AHEAD, sys.executable, "-c", code], env=_child_env(),
                           capture_output=True, text=True, check=True).stdout.split()
    assert int(faked[0]) - int(real[0]) == 1
    assert 364 * 86400 < int(faked[1]) - int(real[1]) < 366 * 86400


def test_clock_sensitive_tests_pass_with_the_real_clock_a_year_ahead(tmp_path):
    faketime = _faketime()
    result = subprocess.run(
        [faketime, "-f", AHEAD, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--basetemp", str(tmp_path / "t"), "-m", "not postgres", *CLOCK_SENSITIVE],
        cwd=ROOT, env=_child_env(), capture_output=True, text=True, timeout=900)
    summary = result.stdout.strip().splitlines()[-1:] or [""]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in summary[0] and "failed" not in summary[0], summary
