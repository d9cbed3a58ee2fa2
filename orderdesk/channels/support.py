"""Small pieces the Telegram and Slack connectors share: settings from the environment, once-only keys."""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Hashable, Optional


def settings(credentials: Optional[dict[str, Any]], env: dict[str, str]) -> dict[str, Optional[str]]:
    """Each setting from credentials.yml when given there, else from its environment variable; unset is None."""
    credentials = credentials or {}
    return {key: credentials.get(key) or os.environ.get(var) or None for key, var in env.items()}


class Once:
    """Remembers the last `size` keys: `first(key)` is True the first time a key is seen, False after."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.keys: OrderedDict[Hashable, None] = OrderedDict()

    def first(self, key: Hashable) -> bool:
        if key in self.keys:
            return False
        self.keys[key] = None
        while len(self.keys) > self.size:
            self.keys.popitem(last=False)
        return True
