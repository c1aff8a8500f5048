// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// WipeSecret() and ConnectSettings::WipeSecrets() (dbpool/driver.h): the
// drivers' and the builder's copies of passwords are zeroed before their
// memory is freed.
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

TEST_CASE("ConnectSettings zeroes its password, DSN and option values", "[settings][security]") {
  ConnectSettings settings;
  settings.password = "a-password-longer-than-the-small-string-buffer";
  settings.dsn = "postgresql://app:Secret-in-the-dsn@db1/app";
  settings.user = "app";
  settings.options = {{"sslpassword", "key-file-passphrase"}};
  settings.WipeSecrets();
  CHECK(settings.password == std::string(46, '\0'));
  CHECK(settings.dsn == std::string(42, '\0'));
  CHECK(settings.options[0].first == "sslpassword");
  CHECK(settings.options[0].second == std::string(19, '\0'));
  CHECK(settings.user == "app");  // not a secret
}

}  // namespace
}  // namespace dbpool
