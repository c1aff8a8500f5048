#!/usr/bin/env bash
# Install what dbpool needs on Debian 12. Idempotent: does nothing when all
# is present.
#
# Usage: scripts/deps.sh [demo|test|peers]...   (default: test)
#
#   demo   what scripts/demo.sh needs: a compiler, CMake, Abseil, libpq and
#          the MariaDB client library, and the PostgreSQL and MariaDB servers
#   test   demo's, plus what the test suite needs: Catch2, Google Benchmark
#          (the benchmarks' smoke runs), PgBouncer, and Patroni with etcd
#          and HAProxy (scripts/patroni.sh), Valgrind (the instruction
#          counts of the pool's own cost), standalone Asio (the event-loop
#          adapters' tests and example), wrk (the example server's load) and
#          ca-certificates (the system trust store that require_tls() uses
#          by default, which the TLS tests check is found) and Spin (the
#          model check of the core's memory-ordering handshake)
#   peers  the pools the benchmarks compare against (SOCI with Boost's
#          headers, Poco), and Boost.Asio for the adapters' compile check;
#          scripts/test.sh installs them so that CI builds
#          the configuration with every optional peer as well as the one
#          without (a new user's machine)
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

demo_packages=(
    build-essential cmake pkg-config
    libpq-dev libabsl-dev
    libmariadb-dev-compat libmariadb-dev
    postgresql postgresql-contrib
    mariadb-server mariadb-client
    openssl iproute2 procps
)
test_packages=("${demo_packages[@]}" catch2 libbenchmark-dev pgbouncer
    patroni python3-etcd etcd-server haproxy curl valgrind libasio-dev wrk
    ca-certificates spin)
# SOCI's installed configuration requires Boost's headers for soci::session;
# Debian's libsoci-dev does not pull them in. Boost 1.81 (not Debian's
# default 1.74): the Asio adapters are also compile-checked against its
# Boost.Asio, which needs 1.77 or later.
peer_packages=(libsoci-dev libboost1.81-dev libpoco-dev)

(($# > 0)) || set -- test
packages=()
for set_name in "$@"; do
    case "$set_name" in
        demo) packages+=("${demo_packages[@]}") ;;
        test) packages+=("${test_packages[@]}") ;;
        peers) packages+=("${peer_packages[@]}") ;;
        *) die "unknown package set '$set_name' (demo, test or peers)" ;;
    esac
done

need_packages "${packages[@]}"
log "all dependencies present ($*)"
