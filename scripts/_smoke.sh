# Sourced by scripts/reproduce_*.sh.
# smoke_log_dir sets LOG_DIR for a --smoke run: $SMOKE_LOG_DIR when it is set (kept afterwards, so that a test can
# run later stages against the smoke's runs: tests/test_experiments.py), else a fresh temporary directory that is
# removed when the script exits.
smoke_log_dir() {
  if [[ -n "${SMOKE_LOG_DIR:-}" ]]; then
    LOG_DIR="$SMOKE_LOG_DIR"
    mkdir -p "$LOG_DIR"
  else
    LOG_DIR="$(mktemp -d)"
    trap 'rm -rf "$LOG_DIR"' EXIT
  fi
}
