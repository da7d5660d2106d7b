# Supply chain: licenses, banned crates and allowed sources of every Rust
# dependency (deny.toml). Advisories are not checked here: cargo-deny clones
# its advisory database from a git host these machines cannot reach; see
# THREAT_MODEL.md ("Supply chain"). npm audit is not run either: the npm
# registry here answers 405 to the audit endpoint.
set -euo pipefail
cargo deny --locked check licenses bans sources
