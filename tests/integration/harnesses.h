// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The drivers the shared integration suite runs against.
#ifndef DBPOOL_TESTS_INTEGRATION_HARNESSES_H_
#define DBPOOL_TESTS_INTEGRATION_HARNESSES_H_

#if DBPOOL_TEST_WITH_POSTGRES
#include "pg_harness.h"
#endif
#if DBPOOL_TEST_WITH_MYSQL
#include "my_harness.h"
#endif

// The harness types, for TEMPLATE_TEST_CASE inside namespace
// dbpool::testing (test names end in the type).
#if DBPOOL_TEST_WITH_POSTGRES && DBPOOL_TEST_WITH_MYSQL
#define DBPOOL_HARNESSES PgHarness, MyHarness
#elif DBPOOL_TEST_WITH_POSTGRES
#define DBPOOL_HARNESSES PgHarness
#elif DBPOOL_TEST_WITH_MYSQL
#define DBPOOL_HARNESSES MyHarness
#endif

#endif  // DBPOOL_TESTS_INTEGRATION_HARNESSES_H_
