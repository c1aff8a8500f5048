// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// WipeSecret() (dbpool/driver.h): the drivers' copies of passwords are
// zeroed before their memory is freed.
#include <catch2/catch.hpp>
#include <string>

#include "dbpool/driver.h"

namespace dbpool {
namespace {

TEST_CASE("WipeSecret zeroes a secret's bytes in place", "[settings][security]") {
  std::string secret = "a-password-longer-than-the-small-string-buffer";
  const size_t size = secret.size();
  WipeSecret(&secret);
  REQUIRE(secret.size() == size);
  CHECK(secret == std::string(size, '\0'));
  std::string short_secret = "pw";
  WipeSecret(&short_secret);
  CHECK(short_secret == std::string(2, '\0'));
  std::string empty;
  WipeSecret(&empty);
  CHECK(empty.empty());
}

}  // namespace
}  // namespace dbpool
