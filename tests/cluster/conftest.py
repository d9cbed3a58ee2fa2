"""The cluster test starts 2 Rasa replicas, 2 action servers and nginx and plays 2,500 messages: minutes of both
cores. It runs under `make cluster-test` (which sets ORDERDESK_CLUSTER_TEST=1), not in `make test`."""
import os

if os.environ.get("ORDERDESK_CLUSTER_TEST") != "1":
    collect_ignore_glob = ["test_*.py"]
