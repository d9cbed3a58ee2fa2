"""Entry points of the two servers (they import Rasa / rasa_sdk; the order core does not).

`python -m orderdesk.servers.actions` is the action server with a shared secret; `python -m
orderdesk.servers.rasa run ...` is `rasa run` with a bounded action call and a fallback answer. Both make
logs safe to keep (`logsafe`): no email addresses, no message longer than a few hundred characters.
"""
