#!/bin/sh
# Checks that CC (clang) can build a libFuzzer harness with ASan and UBSan;
# says what is missing and fails otherwise. Used by `make fuzz`.
set -u
cc=${1:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "bkspi: make fuzz needs clang ('$cc' not found); install it: sudo apt-get install clang libclang-rt-14-dev (or set FUZZ_CC)" >&2
	exit 1
fi
t=$(mktemp -d "${TMPDIR:-/tmp}/bkspi-fuzzcc.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT
cat >"$t/h.c" <<'C'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return n > 1 && d[0] == 1 ? 1 : 0; }
C
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$t/h" "$t/h.c" >"$t/log" 2>&1; then
	echo "bkspi: make fuzz: '$cc' cannot link -fsanitize=fuzzer,address,undefined, so the libFuzzer runtime is missing; install it: sudo apt-get install libclang-rt-14-dev (the one matching $("$cc" --version | head -n1))" >&2
	sed 's/^/  /' "$t/log" | head -n 5 >&2
	exit 1
fi
