#!/usr/bin/env bash
# ci/provision-n8n.sh - a real n8n for the real leg of tests/contract.
#
#   eval "$(ci/provision-n8n.sh)"    # install once (cached), start, print the exports
#   ci/provision-n8n.sh stop         # stop the n8n this script started
#   ci/provision-n8n.sh status
#
# On success stdout carries exactly one line:
#   export MASTEROPS_N8N_URL=http://127.0.0.1:5678 MASTEROPS_N8N_API_KEY=...
# Everything else goes to stderr. It fails soft: when n8n cannot be installed or started
# it prints a warning, exports nothing and exits 0, so the real leg is skipped, not failed.
#
# What it encodes (shared/reference/real-n8n.md, measured on these machines):
#   * n8n 2.x needs Node >= 24; Node 20 runs n8n 1.123.81, pinned exactly (a caret range
#     pulls later patches that break).
#   * n8n-nodes-base points xlsx at an unreachable CDN tarball: override it to 0.18.5.
#   * n8n >= 1.123.66 pulls isolated-vm@6, which does not build on Node 20: install with
#     --ignore-scripts, build only sqlite3 (against the system libsqlite3 when present),
#     and run with N8N_EXPRESSION_ENGINE=legacy.
#   * /healthz and /healthz/readiness answer before the REST routes exist: wait for
#     GET /rest/settings = 200 and the log line "Editor is now accessible".
#   * an API key without a browser: POST /rest/owner/setup, then GET /rest/api-keys/scopes
#     and POST /rest/api-keys -> data.rawApiKey.
# The npm install (~2 min, 1.8 GB) is cached in $MASTEROPS_N8N_CACHE, outside the clone;
# each run gets a fresh user folder (a fresh SQLite database) in $MASTEROPS_N8N_RUN_DIR.
set -uo pipefail

N8N_PIN="${N8N_PIN:-1.123.81}"
CACHE="${MASTEROPS_N8N_CACHE:-/var/cache/masterops-n8n}"
RUN_DIR="${MASTEROPS_N8N_RUN_DIR:-${TMPDIR:-/tmp}/masterops-n8n-run}"
NPM_CACHE="${MASTEROPS_N8N_NPM_CACHE:-$CACHE/npm-cache}"   # downloaded tarballs, kept too
PORT="${MASTEROPS_N8N_PORT:-5678}"
URL="http://127.0.0.1:${PORT}"
OWNER_EMAIL="ci-owner@example.com"
OWNER_PASSWORD="CiOwner-$(date +%s)-Pw1"   # 8-64 chars, a digit and an uppercase letter
PIDFILE="$RUN_DIR/n8n.pid"
LOG="$RUN_DIR/n8n.log"
START_TIMEOUT="${MASTEROPS_N8N_START_TIMEOUT:-180}"

log() { echo "[provision-n8n] $*" >&2; }
warn() { echo "[provision-n8n] WARNING: $*; the real-n8n contract tests will be skipped" >&2; }

json_get() {  # json_get a.b.c < file  (node is there whenever n8n can run)
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=process.argv[1].split(".").reduce((o,k)=>o?.[k],JSON.parse(s));process.stdout.write(v===undefined?"":typeof v==="string"?v:JSON.stringify(v))})' "$1"
}

installed_version() {
  [ -f "$CACHE/node_modules/n8n/package.json" ] || return 0
  node -e 'process.stdout.write(require(process.argv[1]).version)' "$CACHE/node_modules/n8n/package.json" 2>/dev/null || true
}

install_n8n() {
  if [ "$(installed_version)" = "$N8N_PIN" ] \
     && [ -f "$CACHE/node_modules/sqlite3/build/Release/node_sqlite3.node" ]; then
    log "n8n $N8N_PIN already installed in $CACHE"
    return 0
  fi
  mkdir -p "$CACHE" || return 1
  rm -rf "$CACHE/node_modules" "$CACHE/package-lock.json"
  cat > "$CACHE/package.json" <<EOF || return 1
{
  "name": "masterops-n8n",
  "private": true,
  "dependencies": { "n8n": "$N8N_PIN" },
  "overrides": { "xlsx": "0.18.5" }
}
EOF
  local t0=$SECONDS
  log "npm install n8n@$N8N_PIN into $CACHE (about 2 minutes) ..."
  (cd "$CACHE" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
      --cache "$NPM_CACHE" --prefer-offline >&2) || return 1
  log "building the sqlite3 native module ..."
  if [ -f /usr/include/sqlite3.h ]; then
    (cd "$CACHE" && npm_config_sqlite=/usr npm rebuild sqlite3 --build-from-source \
        --cache "$NPM_CACHE" --loglevel=error >&2) || return 1
  else
    (cd "$CACHE" && npm rebuild sqlite3 --build-from-source \
        --cache "$NPM_CACHE" --loglevel=error >&2) || return 1
  fi
  [ -f "$CACHE/node_modules/sqlite3/build/Release/node_sqlite3.node" ] || return 1
  log "installed in $((SECONDS - t0)) s"
}

is_running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null \
    && grep -q n8n "/proc/$(cat "$PIDFILE")/cmdline" 2>/dev/null
}

stop_n8n() {
  if is_running; then
    local pid; pid=$(cat "$PIDFILE")
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    log "stopped n8n (pid $pid)"
  fi
  rm -f "$PIDFILE"
}

start_n8n() {
  stop_n8n   # a previous run's server would serve a stale database
  if curl -s -o /dev/null "$URL/healthz"; then
    log "port $PORT is already in use"
    return 1
  fi
  rm -rf "$RUN_DIR/home"
  mkdir -p "$RUN_DIR/home"
  (
    export N8N_USER_FOLDER="$RUN_DIR/home"
    export N8N_HOST=127.0.0.1 N8N_LISTEN_ADDRESS=127.0.0.1 N8N_PORT="$PORT" N8N_PROTOCOL=http
    export DB_TYPE=sqlite
    export N8N_DIAGNOSTICS_ENABLED=false N8N_VERSION_NOTIFICATIONS_ENABLED=false
    export N8N_TEMPLATES_ENABLED=false N8N_PERSONALIZATION_ENABLED=false
    export N8N_SECURE_COOKIE=false N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=false
    export N8N_EXPRESSION_ENGINE=legacy
    # setsid + nohup: the server outlives this script (CI runs pytest afterwards).
    # 9>&-: the server must not inherit the provisioning lock, or it would hold it for
    # as long as it runs and the next provisioning would wait on it.
    setsid nohup node "$CACHE/node_modules/n8n/bin/n8n" start >"$LOG" 2>&1 </dev/null 9>&- &
    echo $! >"$PIDFILE"
  )
  log "started n8n (pid $(cat "$PIDFILE")), waiting for its REST API ..."
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt "$START_TIMEOUT" ]; do
    if ! is_running; then
      log "n8n exited; the end of $LOG:"; tail -20 "$LOG" >&2
      return 1
    fi
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/rest/settings")" = 200 ] \
       && grep -q "Editor is now accessible" "$LOG"; then
      log "n8n ready after $((SECONDS - t0)) s"
      return 0
    fi
    sleep 0.3
  done
  log "n8n was not ready within $START_TIMEOUT s"
  return 1
}

create_api_key() {
  local jar="$RUN_DIR/cookies.txt" code scopes key
  rm -f "$jar"
  code=$(curl -s -o "$RUN_DIR/owner.json" -w '%{http_code}' -c "$jar" -X POST \
    "$URL/rest/owner/setup" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$OWNER_EMAIL\",\"firstName\":\"CI\",\"lastName\":\"Owner\",\"password\":\"$OWNER_PASSWORD\"}")
  [ "$code" = 200 ] || { log "owner setup failed ($code)"; return 1; }
  scopes=$(curl -s -b "$jar" "$URL/rest/api-keys/scopes" | json_get data)
  [ -n "$scopes" ] || { log "could not read the API key scopes"; return 1; }
  curl -s -b "$jar" -X POST "$URL/rest/api-keys" -H 'Content-Type: application/json' \
    -d "{\"label\":\"masterops-ci-$(date +%s%N)\",\"scopes\":$scopes,\"expiresAt\":null}" \
    > "$RUN_DIR/api-key.json"
  key=$(json_get data.rawApiKey < "$RUN_DIR/api-key.json")
  rm -f "$jar" "$RUN_DIR/api-key.json" "$RUN_DIR/owner.json"   # no secrets left on disk
  [ -n "$key" ] || { log "API key creation failed"; return 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-N8N-API-KEY: $key" "$URL/api/v1/workflows")
  [ "$code" = 200 ] || { log "the new API key was refused ($code)"; return 1; }
  printf '%s' "$key"
}

provision() {
  command -v node >/dev/null || { log "node is not installed"; return 1; }
  command -v npm >/dev/null || { log "npm is not installed"; return 1; }
  command -v curl >/dev/null || { log "curl is not installed"; return 1; }
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || { log "Node >= 20 is needed, found $(node --version)"; return 1; }
  mkdir -p "$RUN_DIR"
  if command -v flock >/dev/null; then   # two CI jobs on one machine share the cache
    exec 9>"$RUN_DIR/.lock"
    flock -w 600 9 || { log "another provisioning holds $RUN_DIR/.lock"; return 1; }
  fi
  install_n8n || { log "installing n8n failed"; return 1; }
  start_n8n || return 1
  local key
  key=$(create_api_key) || { stop_n8n; return 1; }
  echo "export MASTEROPS_N8N_URL=$URL MASTEROPS_N8N_API_KEY=$key"
}

case "${1:-start}" in
  start)
    if ! provision; then
      warn "could not provision a real n8n"
      stop_n8n 2>/dev/null || true
    fi
    exit 0
    ;;
  stop) stop_n8n ;;
  status) if is_running; then echo "running pid $(cat "$PIDFILE") at $URL"; else echo "stopped"; fi ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
