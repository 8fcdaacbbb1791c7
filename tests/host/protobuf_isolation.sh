#!/usr/bin/env bash
# The protobuf of host/tensorboard cannot interpose on LibTorch's, nor LibTorch's on it
# (host/CMakeLists.txt says why): the executable loads Debian's libprotobuf-lite and not the
# full libprotobuf, and no symbol the lite runtime defines is defined by a LibTorch library it
# loads. As a check of the check, the full runtime's overlap with libtorch_cpu is reported.
# Usage: protobuf_isolation.sh LOOPLAB_BINARY. Exit 1 on a shared symbol.
set -euo pipefail
exe=${1:?usage: protobuf_isolation.sh LOOPLAB_BINARY}
libs=$(ldd "$exe")
lib_path() { awk -v name="$1" '$1 == name { print $3 }' <<<"$libs"; }
defined() { nm -D --defined-only "$1" | awk '{ print $3 }' | sort -u; }
fail() { echo "FAIL: $*" >&2; exit 1; }

lite=$(lib_path libprotobuf-lite.so.32)
[[ -n $lite ]] || fail "$exe does not load libprotobuf-lite.so.32"
[[ -z $(lib_path libprotobuf.so.32) ]] || fail "$exe loads the full libprotobuf.so.32, which shares symbols with LibTorch"
defined "$lite" >"${TMPDIR:-/tmp}/lite.$$"
trap 'rm -f "${TMPDIR:-/tmp}/lite.$$"' EXIT
torch_cpu="" checked=0
while read -r name path; do
  [[ $name == libtorch*.so* || $name == libc10*.so* ]] || continue
  [[ $name == libtorch_cpu.so ]] && torch_cpu=$path
  checked=$((checked + 1))
  shared=$(comm -12 "${TMPDIR:-/tmp}/lite.$$" <(defined "$path") | head -5)
  [[ -z $shared ]] || fail "$name and $lite both define: $(c++filt <<<"$shared" | tr '\n' ' ')"
done < <(awk '$2 == "=>" { print $1, $3 }' <<<"$libs")
[[ $checked -gt 0 && -n $torch_cpu ]] || fail "$exe loads no LibTorch library"
full=$(dirname "$lite")/libprotobuf.so.32
if [[ -e $full ]]; then
  overlap=$(comm -12 <(defined "$full") <(defined "$torch_cpu") | wc -l)
  echo "the full $full would share $overlap symbols with libtorch_cpu.so"
fi
echo "libprotobuf-lite shares no symbol with the $checked LibTorch libraries $(basename "$exe") loads"
