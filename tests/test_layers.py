"""The import contract, read from each module's syntax tree (nothing is imported to check it).

- The pure core (`model`, `policy`, `policy_config`, `candidates`, `topics`) imports only itself and the
  standard library: nothing of SQLAlchemy, Rasa, rasa_sdk, spaCy or the database, and never the
  clock (`orderdesk.clock`, `time`, `datetime.now()`): it is handed `now`.
- The actions reach the store only through the services: `actions/` never imports `orderdesk.db`
  or `orderdesk.repository`.
- Rasa plug-ins live in `orderdesk/nlp/` and `orderdesk/channels/` (and the lock store,
  `orderdesk/lockstore.py`), the servers' entry points in `orderdesk/servers/`; nothing else in
  `orderdesk/` imports Rasa.
- Only the repository layer (`orderdesk/repository.py`, with the tables in `orderdesk/db.py` and the
  schema in `orderdesk/migrations/`) touches a session, a table or a SQL statement.
- No intent name of domain.yml appears in `orderdesk/` outside the Rasa plug-ins: questions are
  keyed by topic (`orderdesk.topics`); the intents meet the topics in `actions/topics.py`.
"""
from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from pathlib import Path

import pytest
import yaml

from orderdesk import ROOT

PACKAGE = ROOT / "orderdesk"
PURE = ["model", "policy", "policy_config", "candidates", "topics"]
RASA_HOMES = ("nlp", "channels", "lockstore.py", "servers")  # lockstore.py: the Redis lock store plug-in
REPOSITORY_LAYER = {"db.py", "repository.py", "migrations"}
STDLIB = set(sys.stdlib_module_names)
TABLES = {"customers", "chat_links", "sellers", "orders", "cancellation_requests", "disputes", "refunds",
          "handoff_requests", "audit_log", "metadata", "verification_attempts", "verified_conversations"}
SQL = {"select", "insert", "update", "delete", "text", "Session", "Table", "Column"}


def imports(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved against its package."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return found


def modules(folder: Path):
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("name", PURE)
def test_the_pure_core_imports_only_itself_and_the_standard_library(name):
    path = PACKAGE / f"{name}.py"
    outside = {m for m in imports(path) if top(m) not in STDLIB and top(m) != "__future__"
               and not any(m == f"orderdesk.{p}" or m.startswith(f"orderdesk.{p}.") for p in PURE)
               and m != "orderdesk"}
    assert not outside, f"{rel(path)} imports {sorted(outside)}"
    assert not {m for m in imports(path) if top(m) == "time" or m.startswith("orderdesk.clock")}


@pytest.mark.parametrize("name", PURE)
def test_the_pure_core_never_reads_the_clock(name):
    path = PACKAGE / f"{name}.py"
    calls = [f"{ast.unparse(n.func)} (line {n.lineno})" for n in ast.walk(ast.parse(path.read_text()))
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr in ("now", "utcnow", "today", "time", "monotonic")]
    assert not calls, f"{rel(path)} reads the clock: {calls}"


@pytest.mark.parametrize("path", modules(ROOT / "actions"), ids=rel)
def test_actions_reach_the_store_only_through_the_services(path):
    bad = {m for m in imports(path) if m in ("orderdesk.db", "orderdesk.repository")
           or m.startswith(("orderdesk.db.", "orderdesk.repository."))}
    assert not bad, f"{rel(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", modules(PACKAGE), ids=rel)
def test_rasa_is_imported_only_by_the_rasa_plugins(path):
    uses_rasa = {m for m in imports(path) if top(m) in ("rasa", "rasa_sdk")}
    home = path.relative_to(PACKAGE).parts[0]
    if uses_rasa:
        assert home in RASA_HOMES, f"{rel(path)} imports {sorted(uses_rasa)} outside the Rasa plug-ins"


def _outside_the_repository_layer():
    for folder in (PACKAGE, ROOT / "actions"):
        for path in modules(folder):
            parts = path.relative_to(PACKAGE).parts if folder == PACKAGE else ()
            if parts and (parts[0] in REPOSITORY_LAYER or parts[0] in RASA_HOMES):
                continue
            yield path


@pytest.mark.parametrize("path", list(_outside_the_repository_layer()), ids=rel)
def test_only_the_repository_layer_touches_sessions_tables_and_sql(path):
    tree = ast.parse(path.read_text())
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "session":
            problems.append(f"line {node.lineno}: .session")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "db" \
                and node.attr in TABLES:
            problems.append(f"line {node.lineno}: db.{node.attr}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            problems += [f"line {node.lineno}: {node.module}.{a.name}" for a in node.names if a.name in SQL]
    assert not problems, f"{rel(path)}: {problems}"


def domain_intents() -> list[str]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"]


def words_and_comments(path: Path) -> list[tuple[int, str, str]]:
    """(line, "string" or "comment", text) for every string literal (docstrings too) and comment."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if tok.type == tokenize.STRING:
            out.append((tok.start[0], "string", ast.literal_eval(tok.string) if tok.string[0] in "'\"" else tok.string))
        elif tok.type == tokenize.COMMENT:
            out.append((tok.start[0], "comment", tok.string))
    return out


def intent_names_in(path: Path, intents: list[str]) -> list[str]:
    """Where `path` names an intent: a string or comment with a multi-word intent name in it
    ("cancel_order"), or a string that is a one-word intent name ("greet")."""
    found = []
    for line, kind, text in words_and_comments(path):
        text = str(text)
        for intent in intents:
            if ("_" in intent and re.search(rf"(?<![\w]){re.escape(intent)}(?![\w])", text)) or (
                    kind == "string" and text == intent):
                found.append(f"line {line}: {intent}")
    return found


def _core_modules():
    return [p for p in modules(PACKAGE) if p.relative_to(PACKAGE).parts[0] not in RASA_HOMES]


@pytest.mark.parametrize("path", _core_modules(), ids=rel)
def test_no_intent_name_appears_in_the_core(path):
    found = intent_names_in(path, domain_intents())
    assert not found, f"{rel(path)} names intents (key them by topic: orderdesk/topics.py): {found}"


def test_the_intent_name_scan_finds_intent_names(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""About ask_refund_status."""\nTABLE = {"cancel_order": 1, "greet": 2}  # report_not_received\n'
                      'WORDS = "greet the buyer, stop"\n')
    found = intent_names_in(sample, ["ask_refund_status", "cancel_order", "greet", "report_not_received", "stop",
                                     "ask_refund"])
    assert found == ["line 1: ask_refund_status", "line 2: cancel_order", "line 2: greet",
                     "line 2: report_not_received"]


def test_the_readme_says_where_rasa_is_imported():
    readme = (ROOT / "README.md").read_text()
    assert "orderdesk/            the core (no Rasa imports)" not in readme
    assert "Rasa imports only in the Rasa plug-ins: nlp/, channels/, lockstore.py" in readme
