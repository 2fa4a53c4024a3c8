#!/usr/bin/env bash
# Print a command exactly as README.md shows it: the first line of the code block after `<!-- ci: NAME -->`.
# Usage: tools/readme_cmd.sh 'test command'   (from the repository root; used by .ci/run and .github/workflows/test.yaml)
set -euo pipefail
cmd=$(awk -v m="<!-- ci: $1 -->" '$0==m {f=1; next} f && /^```/ {if (c) exit; c=1; next} f && c {print; exit}' README.md)
[ -n "$cmd" ] || { echo "README.md has no code block after '<!-- ci: $1 -->'" >&2; exit 1; }
echo "$cmd"
