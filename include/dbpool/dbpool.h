// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/dbpool.h
//
// Umbrella header for the driver-independent API. Include dbpool/postgres.h
// or dbpool/mysql.h for a typed pool.
#ifndef DBPOOL_DBPOOL_H_
#define DBPOOL_DBPOOL_H_

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

#endif  // DBPOOL_DBPOOL_H_
