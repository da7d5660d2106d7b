#!/usr/bin/env bash
# The OpenAPI document is what the server does: schemathesis (PyPI) generates
# requests from /api/openapi.json against a real server and checks that no
# answer is a server error, and that every status code, content type and
# body is one the document declares. Zero failures allowed.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
venv="$target/schemathesis-venv"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$target/debug/qrlogin-server" --listen "127.0.0.1:$port" --demo \
  --database-url "sqlite://$work/st.db" --jwt-key "$work/jwt.pem" \
  --create-rate 0 --sign-in-rate 0 --account-sign-in-rate 0 \
  --account-wide-sign-in-rate 0 --scan-rate 0 >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
# An app session, so the app-side operations get past authentication too.
token=$(curl -sf "$base/api/v1/app/sessions" -H 'Content-Type: application/json' \
  -d '{"username":"alice","password":"demo","device_name":"schemathesis"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
run() {
  "$venv/bin/schemathesis" run "$base/api/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing --max-examples 25 --workers 2 \
    --seed 1 --warnings off "$@"
}
run
run -H "Authorization: Bearer $token" --include-path-regex '^/api/v1/(app|qr/\{id\}/(scan|confirm|cancel))'
