#!/usr/bin/env bash
# Static checks of the project's own C++: clang-format (the root .clang-format)
# and cppcheck (warnings, style, performance). Exits non-zero on any finding.
#
# Usage: scripts/lint.sh
#
# cppcheck's useStlAlgorithm (raw loops that could be std::any_of) and
# unusedStructMember (it misses members read through std::optional) are
# turned off: the first is taste, the second reports false positives.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

need_packages clang-format cppcheck git
cd "$repo_root"

status=0
mapfile -t sources < <(git ls-files '*.cc' '*.h')
((${#sources[@]} > 0)) || die "git ls-files lists no C++ sources: is $repo_root a git checkout?"
log "clang-format: checking ${#sources[@]} files"
if ! clang-format --dry-run --Werror "${sources[@]}"; then
    log "clang-format: run 'clang-format -i' on the files above"
    status=1
fi

mapfile -t library < <(git ls-files 'src/*.cc')
log "cppcheck: checking ${#library[@]} library sources"
if ! cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance --std=c++17 \
    --inline-suppr --suppress=useStlAlgorithm --suppress=unusedStructMember \
    --suppress=missingIncludeSystem -I include -I src "${library[@]}"; then
    status=1
fi
((status == 0)) && log "lint: clean"
exit "$status"
