"""Setup finds a Python 3.10 or says clearly that there is none."""
import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "find-python310.sh"


def test_setup_explains_in_one_sentence_when_no_python_310_exists(tmp_path):
    # A PATH with only a fake python3 that is not 3.10, and no pyenv.
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no Python 3.10 found" in result.stderr and "Rasa 3.6" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_setup_finds_the_python_310_this_machine_has():
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, cwd=SCRIPT.parents[1],
                            env=os.environ)
    assert result.returncode == 0
    found = result.stdout.strip()
    version = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                             text=True).stdout.strip()
    assert version == "(3, 10)"
