#!/usr/bin/env bash
# Starts the assistant on the embedded default: SQLite store with demo data, the action
# server (5055, 127.0.0.1, shared secret), the Rasa server with REST and socket.io (5005) and the chat page (8080).
# `scripts/run.sh shell` chats in the terminal instead. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
export ORDERDESK_DATABASE_URL=${ORDERDESK_DATABASE_URL:-sqlite:///$PWD/var/orderdesk.db}
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
WEB_PORT=${WEB_PORT:-8080}
MODEL=$($VENV/bin/python -m orderdesk.nlp.train)

$VENV/bin/orderdesk migrate >/dev/null
$VENV/bin/orderdesk demo --if-empty
$VENV/bin/orderdesk sweep >/dev/null

# Secrets: the variable when set, else one generated once into var/FILE (readable by this user only).
mkdir -p var
secret() {  # secret VARIABLE FILE
  if [ -z "${!1:-}" ]; then
    [ -s "var/$2" ] || (umask 077; $VENV/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))' >"var/$2")
    printf -v "$1" '%s' "$(cat "var/$2")"
  fi
  export "${1?}"
}
# The REST channel answers only the shop's backend, with a bearer token.
secret ORDERDESK_REST_TOKEN rest-token
# The web widget's customer tokens are signed with this.
secret ORDERDESK_WIDGET_SECRET widget-secret
# Servers listen on loopback unless ORDERDESK_BIND says otherwise (a reverse proxy in front for the public).
BIND=${ORDERDESK_BIND:-127.0.0.1}
# Browsers may open the bot (socket.io, CORS) only from these origins: by default the chat page's own.
ORDERDESK_ALLOWED_ORIGINS=${ORDERDESK_ALLOWED_ORIGINS:-http://localhost:$WEB_PORT http://127.0.0.1:$WEB_PORT}
read -ra CORS <<<"${ORDERDESK_ALLOWED_ORIGINS//,/ }"
export ORDERDESK_ALLOWED_ORIGINS ORDERDESK_BIND=$BIND ORDERDESK_RASA_PORT=$RASA_PORT WEB_PORT
# Rasa proves itself to the action server with a shared secret (endpoints.yml sends it). The action server
# listens on 127.0.0.1 unless ORDERDESK_ACTIONS_HOST says otherwise.
secret ORDERDESK_ACTIONS_SECRET actions-secret
export ORDERDESK_ACTIONS_URL=${ORDERDESK_ACTIONS_URL:-http://127.0.0.1:$ACTIONS_PORT/webhook}

pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT

$VENV/bin/python -m orderdesk.servers.actions --port "$ACTIONS_PORT" >var/actions.log 2>&1 &
pids+=($!)
# The time-driven transitions (72 h seller window, unpaid close, escalation) every minute.
( while sleep 60; do $VENV/bin/orderdesk sweep >>var/sweep.log 2>&1 || true; done ) &
pids+=($!)

if [ "${1:-}" = "shell" ]; then
  for _ in $(seq 60); do curl -fs "http://localhost:$ACTIONS_PORT/health" >/dev/null && break; sleep 1; done
  # A terminal chat on loopback only, as the cmdline chat "demo" (linked to the demo buyer by chat_ids.cmdline).
  $VENV/bin/python -m orderdesk.channels.shell --model "$MODEL" --endpoints endpoints.yml --conversation-id demo \
    --port "$RASA_PORT"
  exit 0
fi

$VENV/bin/python -m orderdesk.servers.rasa run --model "$MODEL" --port "$RASA_PORT" --credentials credentials.yml \
  --endpoints endpoints.yml --interface "$BIND" --cors "${CORS[@]}" >var/rasa.log 2>&1 &
pids+=($!)
$VENV/bin/python -m orderdesk.web --port "$WEB_PORT" --bind "$BIND" >var/web.log 2>&1 &
pids+=($!)

echo "starting (model $(basename "$MODEL")); logs in var/*.log"
for _ in $(seq 180); do
  if curl -fs "http://localhost:$RASA_PORT/" >/dev/null && curl -fs "http://localhost:$ACTIONS_PORT/health" >/dev/null; then
    # warm up: the first parse is slow
    curl -fs -XPOST "http://localhost:$RASA_PORT/webhooks/rest/webhook" -H 'Content-Type: application/json' \
      -H "Authorization: Bearer $ORDERDESK_REST_TOKEN" -d '{"sender":"warmup","message":"hi"}' >/dev/null || true
    cat <<TXT

The order-support assistant is up (database: $ORDERDESK_DATABASE_URL).
  Chat page:      http://localhost:$WEB_PORT/   (the page signs you in as the demo buyer with a customer token)
  REST channel:   curl -XPOST http://localhost:$RASA_PORT/webhooks/rest/webhook -H "Authorization: Bearer \$(cat var/rest-token)" \\
                    -d '{"sender":"demo","message":"why is there no cancel button"}'   (the token: ORDERDESK_REST_TOKEN or var/rest-token)
  socket.io:      http://localhost:$RASA_PORT/socket.io   (browsers from: $ORDERDESK_ALLOWED_ORIGINS)
TXT
    $VENV/bin/python -m orderdesk.channels.status
    cat <<TXT
  Action server:  http://localhost:$ACTIONS_PORT/health
Ctrl-C stops everything.
TXT
    wait -n "${pids[@]}"
    echo "a process stopped; see var/*.log" >&2
    exit 1
  fi
  sleep 1
done
echo "the servers did not come up in 3 minutes; see var/rasa.log and var/actions.log" >&2
exit 1
