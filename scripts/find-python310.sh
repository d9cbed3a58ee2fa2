#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter, or explains that there is none.
# Rasa Open Source 3.6 declares Python <3.11, so the project needs exactly 3.10.
set -u
is310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  # the version .python-version names first, then any other 3.10 pyenv has
  [ -f .python-version ] && candidates+=("$root/versions/$(head -n1 .python-version)/bin/python3.10")
  for d in "$root"/versions/3.10*; do candidates+=("$d/bin/python3.10"); done
fi
candidates+=(python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10 python3 python)
for c in "${candidates[@]}"; do
  p=$(command -v "$c" 2>/dev/null) || continue
  if is310 "$p"; then echo "$p"; exit 0; fi
done
echo "error: no Python 3.10 found. Rasa 3.6 needs Python 3.10 (it does not install on 3.11+); install one (for example 'pyenv install 3.10.13') and run make again." >&2
exit 1
