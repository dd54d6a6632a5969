# Sourced by the stand-in commands in this directory: records one call per line in
# $STANDIN_DIR/calls.log as the tool name and its arguments separated by tabs.
# shellcheck shell=bash
: "${STANDIN_DIR:?stand-ins need STANDIN_DIR}"
record() {
  local tool=$1
  shift
  {
    printf '%s' "$tool"
    printf '\t%s' "$@"
    printf '\n'
  } >>"$STANDIN_DIR/calls.log"
}
