#!/usr/bin/env bash
# The OpenID Provider: authorization-code flows end to end and the token
# endpoint alone, RS256 and EdDSA id_tokens, next to hello world in the same
# run. Prints Markdown.
#
#   scripts/bench oidc [--workers 32] [--time 4s] [--max 100000]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench.d/common.bash
run_qrlogin_bench oidc "$@"
