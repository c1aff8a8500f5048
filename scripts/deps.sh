#!/usr/bin/env bash
# Install everything dbpool needs to build, test, run the demo and the
# benchmarks on Debian 12. Idempotent: does nothing when all is present.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

packages=(
    build-essential cmake pkg-config
    libpq-dev libabsl-dev catch2 libbenchmark-dev
    libmariadb-dev-compat libmariadb-dev
    postgresql postgresql-contrib
    mariadb-server mariadb-client
    pgbouncer openssl iproute2 procps
)

need_packages "${packages[@]}"
log "all dependencies present"
