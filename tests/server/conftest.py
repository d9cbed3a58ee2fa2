"""One Rasa server and one action server for every server test of the session (see serverkit)."""
from __future__ import annotations

import pytest

from serverkit import start_servers


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    yield from start_servers(tmp_path_factory)
