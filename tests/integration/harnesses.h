// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The list of drivers the shared integration suite runs against.
#ifndef DBPOOL_TESTS_INTEGRATION_HARNESSES_H_
#define DBPOOL_TESTS_INTEGRATION_HARNESSES_H_

#include <tuple>

#if DBPOOL_TEST_WITH_POSTGRES
#include "pg_harness.h"
#endif
#if DBPOOL_TEST_WITH_MYSQL
#include "my_harness.h"
#endif

namespace dbpool {
namespace testing {

using AllHarnesses = std::tuple<
#if DBPOOL_TEST_WITH_POSTGRES && DBPOOL_TEST_WITH_MYSQL
    PgHarness, MyHarness
#elif DBPOOL_TEST_WITH_POSTGRES
    PgHarness
#elif DBPOOL_TEST_WITH_MYSQL
    MyHarness
#endif
    >;

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_INTEGRATION_HARNESSES_H_
