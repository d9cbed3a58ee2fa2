#!/usr/bin/env bash
# Re-creates web/vendor/rasa-webchat/ from the npm registry: rasa-webchat 1.0.1's lib/index.js (it bundles
# React and socket.io-client 3) with its Google Fonts @import removed, so the page fetches nothing from
# outside at run time, and its licence. The checksums pin the exact file.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.0.1
ORIGINAL_SHA256=bfedd788e4bd7df12f64b5bf2963e634f84bac1cb176b6cede60c507d3553f1e
out=web/vendor/rasa-webchat
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "rasa-webchat@$VERSION" >/dev/null && tar xzf "rasa-webchat-$VERSION.tgz")
echo "$ORIGINAL_SHA256  $tmp/package/lib/index.js" | sha256sum -c --quiet
mkdir -p "$out"
sed 's#@import url(https://fonts.googleapis.com/css?family=Inter:400,500,700\&display=swap);##g' \
  "$tmp/package/lib/index.js" >"$out/index.js"
if grep -q 'fonts.googleapis' "$out/index.js"; then echo "the font import is still there" >&2; exit 1; fi
cp "$tmp/package/LICENSE" "$out/LICENSE"
echo "rasa-webchat $VERSION (npm), lib/index.js without its Google Fonts @import; Apache-2.0 (LICENSE)." >"$out/VERSION"
echo "vendored rasa-webchat $VERSION into $out"
