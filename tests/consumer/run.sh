#!/usr/bin/env bash
# Configures and builds tests/consumer against dbpool's source tree with
# add_subdirectory(), checks that dbpool's own tests, examples and benchmarks
# stay off there, and runs the consumer against the test server.
# Usage: run.sh DBPOOL_SOURCE_DIR BUILD_DIR
set -euo pipefail
src="$1"
build="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmake -S "$here" -B "$build" -DDBPOOL_SOURCE_DIR="$src" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target consumer >/dev/null
for var in DBPOOL_BUILD_TESTS DBPOOL_BUILD_EXAMPLES DBPOOL_BUILD_BENCHMARKS; do
    if ! grep -q "^$var:BOOL=OFF" "$build/CMakeCache.txt"; then
        echo "$var is not OFF in a subproject build" >&2
        exit 1
    fi
done
"$build/consumer"
