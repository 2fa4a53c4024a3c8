#!/bin/bash
# usage: run.sh NAME [args...]  -> logs/NAME.log
[ -n "${VIRTUAL_ENV:-}" ] || . "$(dirname "$0")/../../.venv/bin/activate"
cd "$(dirname "$0")"
n=$1; shift
python recipe.py --name "$n" --seeds 0 1 2 "$@" >> logs/$n.log 2>&1
