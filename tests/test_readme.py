"""The README is the operators' manual: its tables must say what the code does."""
from pathlib import Path

from orderdesk.demo import SITUATIONS
from orderdesk.policy_config import policy_table

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_policy_table_is_the_one_the_code_prints():
    start = README.index("<!-- policy-table -->") + len("<!-- policy-table -->")
    end = README.index("<!-- /policy-table -->")
    assert README[start:end].strip() == policy_table().strip()


def test_readme_lists_every_demo_order():
    for order_id, situation in SITUATIONS:
        assert f"| {order_id} | {situation} |" in README


def test_readme_starts_with_the_two_commands():
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block
