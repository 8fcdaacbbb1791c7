#!/usr/bin/env bash
# The host's folders depend one way (docs/architecture.md#layers): a file may include headers of
# its own folder and of folders below it, never of a folder above or beside it.
# Usage: layers.sh HOST_DIR. Prints every include that breaks the rule; exit 1 if any does.
set -euo pipefail
host=${1:?usage: layers.sh HOST_DIR}
# tensorboard/ is a library of its own below them all: any folder may use it, it uses none.
declare -A rank=([tensorboard]=-1 [common]=0 [registry]=1 [config]=2 [model]=3 [training]=4 [evaluation]=4
                 [reporting]=5 [runs]=6 [cli]=7)
# The one documented exception: the conformance suite builds models and reads schema defaults.
allowed="registry/conformance.cpp:config registry/conformance.cpp:model registry/conformance.h:config"
bad=0 files=0
for dir in "${!rank[@]}"; do
  for file in "$host/$dir"/*.h "$host/$dir"/*.cpp; do
    [ -e "$file" ] || continue
    files=$((files + 1))
    while IFS= read -r target; do
      [ "$target" = "$dir" ] && continue
      [ -n "${rank[$target]+x}" ] || continue
      name="$dir/$(basename "$file")"
      if [[ " $allowed " == *" $name:$target "* ]]; then continue; fi
      if (( rank[$target] >= rank[$dir] )); then
        echo "$name includes $target/ (${target} is not below ${dir})"
        bad=1
      fi
    done < <(sed -n 's|^#include "\([a-z_]*\)/.*"|\1|p' "$file")
  done
done
[ "$files" -gt 0 ] || { echo "no host files under $host"; exit 1; }
if [ "$bad" -eq 0 ]; then echo "$files host files: every include points down"; fi
exit $bad
