// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/dbpool.h
//
// Umbrella header: the whole API, the typed pools included. PgPool
// (dbpool/postgres.h) comes with it when this build of dbpool has the
// PostgreSQL driver and libpq's headers are on the include path (they are
// when you link dbpool::postgres); MySqlPool (dbpool/mysql.h) likewise with
// the MySQL driver and the client library's <mysql.h>. Code that wants only
// one driver, or none of the client libraries' headers, includes
// dbpool/postgres.h, dbpool/mysql.h or the generic headers below directly.
#ifndef DBPOOL_DBPOOL_H_
#define DBPOOL_DBPOOL_H_

#include "dbpool/config.h"
#include "dbpool/credentials.h"
#include "dbpool/driver.h"
#include "dbpool/endpoint.h"
#include "dbpool/events.h"
#include "dbpool/failover_policy.h"
#include "dbpool/lease.h"
#include "dbpool/log.h"
#include "dbpool/metrics.h"
#include "dbpool/pool.h"
#include "dbpool/pool_options.h"
#include "dbpool/reset_policy.h"
#include "dbpool/role.h"
#include "dbpool/stats.h"
#include "dbpool/tls.h"

#if DBPOOL_HAS_POSTGRES && __has_include(<libpq-fe.h>)
#include "dbpool/postgres.h"
#endif
#if DBPOOL_HAS_MYSQL && __has_include(<mysql.h>)
#include "dbpool/mysql.h"
#endif

#endif  // DBPOOL_DBPOOL_H_
