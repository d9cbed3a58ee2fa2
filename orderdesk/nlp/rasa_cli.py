"""The `rasa` command without third-party deprecation notices: `python -m orderdesk.nlp.rasa_cli ARGS`.

`PYTHONWARNINGS=ignore::DeprecationWarning` is not enough for Rasa 3.6: importing Sanic asks for
every DeprecationWarning "once" and Rasa's CLI asks for every UserWarning "once" (pyparsing's
deprecation notices are both), and later filters win. This re-installs the ignores after both, so
`make shell` and `make model` show the bot and Rasa's own messages, not notices about the libraries'
internals that the person running the bot can do nothing about. Rasa's own UserWarnings stay.
"""
from __future__ import annotations

import sys
import warnings

QUIET = (DeprecationWarning, PendingDeprecationWarning)


def quiet() -> None:
    for category in QUIET:
        warnings.filterwarnings("ignore", category=category)


def main(argv: list[str] | None = None) -> int:
    """Run the rasa command with `argv` (default: this process's arguments) without the notices."""
    if argv is not None:
        sys.argv = ["rasa", *argv]
    quiet()
    import sanic  # noqa: F401 - its import adds filterwarnings("once", DeprecationWarning)

    import rasa.utils.common as common

    rasa_filters = common._filter_warnings

    def rasa_filters_then_quiet(*args, **kwargs):
        rasa_filters(*args, **kwargs)
        quiet()

    common._filter_warnings = rasa_filters_then_quiet
    quiet()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    return rasa_main()


if __name__ == "__main__":
    sys.exit(main())
