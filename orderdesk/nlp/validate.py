"""`rasa data validate`, strict: any warning fails, except one that Rasa cannot know better about.

Rasa warns "The utterance 'utter_x' is not used in any story or rule" for every
response that a custom action sends, because it cannot see inside actions. Those
responses are named in actions/*.py or built there from a known prefix; this check
accepts exactly those, and fails on every other warning and on unused responses
that no action sends either.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from orderdesk import ROOT

# Response-name prefixes that actions/answers.py and actions/actions.py build at run time.
# utter_text_ are phrases orderdesk.wording fills into other responses; it picks utter_unshipped_ too.
BUILT_PREFIXES = ("utter_rule_", "utter_closed_", "utter_status_", "utter_refund_destination_", "utter_general_",
                  "utter_offer_", "utter_other_language_", "utter_delivered_", "utter_text_",
                  "utter_unshipped_")
# Responses Rasa's own actions send: the two-stage fallback's, and forms' utter_ask_<slot>.
RASA_SENDS = ("utter_default", "utter_ask_rephrase")
UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
WARNING = re.compile(r"UserWarning: (.*)")


def sent_by_actions(name: str, source: str, form_slots: frozenset = frozenset()) -> bool:
    return (name.startswith(BUILT_PREFIXES) or f'"{name}"' in source or name in RASA_SENDS
            or name[len("utter_ask_"):] in form_slots)


def form_slots(domain_file: Path) -> frozenset:
    import yaml

    forms = (yaml.safe_load(domain_file.read_text()) or {}).get("forms") or {}
    return frozenset(s for f in forms.values() for s in (f or {}).get("required_slots", []))


def check(output: str, source: str, slots: frozenset = frozenset()) -> list[str]:
    problems = []
    for line in output.splitlines():
        m = WARNING.search(line)
        if not m:
            continue
        unused = UNUSED.search(line)
        if unused and sent_by_actions(unused.group(1), source, slots):
            continue
        problems.append(m.group(1).strip())
    return problems


def main() -> int:
    cmd = [sys.executable, "-m", "rasa", "data", "validate", "--data", "data", "--domain", "domain.yml",
           "--config", "config.yml"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    # The actions, and the Rasa entry point's fallback answer for a failed action call.
    senders = [*(ROOT / "actions").glob("*.py"), ROOT / "orderdesk" / "servers" / "rasa.py"]
    source = "".join(p.read_text() for p in senders)
    problems = check(output, source, form_slots(ROOT / "domain.yml"))
    if proc.returncode != 0 or problems:
        print(output[-4000:] if proc.returncode else "", file=sys.stderr)
        for p in problems:
            print("validate:", p, file=sys.stderr)
        print(f"rasa data validate: FAILED (exit {proc.returncode}, {len(problems)} warning(s))", file=sys.stderr)
        return 1
    print("rasa data validate: clean (responses sent by custom actions accounted for)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
