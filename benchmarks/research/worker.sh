#!/bin/bash
# pops the first line of queue.txt ("NAME args...") and runs it via run.sh, until the queue is empty
cd "$(dirname "$0")"
while true; do
  line=$(flock queue.lock bash -c 'l=$(head -n1 queue.txt); [ -n "$l" ] && sed -i 1d queue.txt; echo "$l"')
  [ -z "$line" ] && break
  ./run.sh $line
done
