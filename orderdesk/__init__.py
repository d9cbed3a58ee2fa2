"""orderdesk: the order-policy module, the order store and its services, for the order-support assistant."""

from pathlib import Path

__version__ = "0.1.0"

# The project checkout (data/, domain.yml, models/, tests/ live here).
ROOT = Path(__file__).resolve().parent.parent
