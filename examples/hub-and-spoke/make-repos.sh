#!/bin/sh
# Creates N sample git repositories under DIR for the hub-and-spoke example; the one numbered 7
# (when N >= 7) has no LICENSE, so its spoke fails the check.
# Usage: make-repos.sh DIR [N]   (N defaults to 20)
set -eu
dir=${1:?usage: make-repos.sh DIR [N]}
n=${2:-20}
rm -rf "$dir"
mkdir -p "$dir"
i=1
while [ "$i" -le "$n" ]; do
  name=$(printf 'repo-%02d' "$i")
  repo="$dir/$name"
  git init -q "$repo"
  echo "# $name" > "$repo/README.md"
  [ "$i" -ne 7 ] && echo "MIT License" > "$repo/LICENSE"
  c=0
  while [ "$c" -lt $((i % 5 + 1)) ]; do
    echo "change $c" >> "$repo/CHANGES"
    git -C "$repo" add -A
    git -C "$repo" -c user.name=demo -c user.email=demo@example.com commit -q -m "change $c"
    c=$((c + 1))
  done
  i=$((i + 1))
done
echo "created $n repositories in $dir"
