"""The model's graph run in a fixed order worked out once (installed by `orderdesk.servers.rasa`).

Rasa 3.6 runs its model graph through dask on every parse and every prediction (`DaskGraphRunner.run`): it
first works out which nodes the targets need (`GraphSchema.minimal_graph_schema`, a recursive walk that lists
a shared dependency once per path to it, then keeps the nodes found in that list), builds a dask graph of
them, and hands it to dask's synchronous scheduler, which orders the tasks and calls them one after another.
The schema never changes once the model is loaded, so that work gave the same answer every time: measured in
one process with the two runners taking turns, a parse took 10.9 ms with dask and 9.9 ms here, a prediction
8.3 and 7.8 ms.

Here the order is worked out once per set of targets (the same nodes as Rasa's minimal schema, each after the
nodes it needs) and every run calls the same graph nodes with the same arguments: each node gets, for each of
its needs, that node's `(name, output)` pair, or an input's `(name, value)` pair, or the bare name when nothing
provides it (dask passes an unknown key through as a string; `GraphNode` warns and fails on it as before). The
result is Rasa's: `{target: output}`. Rasa's input check (an input value that names a node) and its
`GraphRunError` for a `RuntimeError` are kept. tests/scale/test_graphrun.py compares both runners on a model's
parses and predictions. `ORDERDESK_GRAPH_ORDER=0` switches it off (to measure the difference).
"""
from __future__ import annotations

import os
from typing import Any, Optional

ENV = "ORDERDESK_GRAPH_ORDER"

_originals: dict[str, Any] = {}
PLANS = "_orderdesk_plans"


class Plan:
    """The nodes a set of targets needs, each after the nodes it needs: (name, graph node, names it needs)."""

    def __init__(self, runner: Any, targets: tuple[str, ...]) -> None:
        nodes = runner._graph_schema.minimal_graph_schema(list(targets)).nodes
        order: list[str] = []
        placed: set[str] = set()

        def place(name: str, path: tuple[str, ...]) -> None:
            if name in placed or name not in nodes:
                return
            if name in path:
                raise ValueError(f"the model's graph has a cycle through '{name}'")
            for need in nodes[name].needs.values():
                place(need, path + (name,))
            placed.add(name)
            order.append(name)

        for name in nodes:  # in the schema's order, as dask receives the nodes
            place(name, ())
        self.steps = [(name, runner._instantiated_nodes[name], tuple(nodes[name].needs.values())) for name in order]
        self.names = frozenset(order)


def plan_for(runner: Any, targets: tuple[str, ...]) -> Plan:
    plans = runner.__dict__.setdefault(PLANS, {})
    plan = plans.get(targets)
    if plan is None:
        plan = plans[targets] = Plan(runner, targets)
    return plan


def run(runner: Any, inputs: Optional[dict[str, Any]] = None, targets: Optional[list[str]] = None) -> dict[str, Any]:
    """`DaskGraphRunner.run` without dask: same nodes, same arguments, same result."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = tuple(targets if targets else runner._graph_schema.target_names)
    plan = plan_for(runner, run_targets)
    results: dict[str, Any] = {}
    for input_name, input_value in (inputs or {}).items():
        if isinstance(input_value, str) and (input_value in plan.names or input_value in results):
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure that none of the input names "
                f"passed to the `run` method are the same as node names in the graph schema.")
        results[input_name] = (input_name, input_value)
    try:
        for name, node, needs in plan.steps:
            results[name] = node(*[results.get(need, need) for need in needs])
        return dict(results[t] for t in run_targets)
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


def install() -> bool:
    """Patch Rasa (idempotent). False when switched off (ORDERDESK_GRAPH_ORDER=0)."""
    if os.environ.get(ENV) == "0":
        return False
    if _originals:
        return True
    from rasa.engine.runner.dask import DaskGraphRunner

    _originals["run"] = DaskGraphRunner.run
    DaskGraphRunner.run = run
    return True


def uninstall() -> None:
    """Rasa's dask run again (tests compare both)."""
    if not _originals:
        return
    from rasa.engine.runner.dask import DaskGraphRunner

    DaskGraphRunner.run = _originals.pop("run")
