// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The input format of the builder fuzz targets: one setting per line,
//
//   endpoint HOST PORT     Builder::endpoint(HOST, PORT); PORT is the text
//                          after the last space (0 when it is no integer)
//   option KEY=VALUE       Builder::option(KEY, VALUE)
//   database NAME          Builder::database(NAME)
//   user NAME              Builder::user(NAME)
//   password TEXT          Builder::password(TEXT + secret)
//   dsn TEXT               Builder::dsn(TEXT), as it is
//   dsn-user TEXT          these four make the DSN carry the secret in its
//   dsn-password TEXT      user info, in the driver's syntax (see each
//   dsn-password-end TEXT  target), the password being
//   dsn-rest TEXT          <dsn-password><secret><dsn-password-end>; they
//                          win over "dsn"
//   dsn-kv TEXT            PostgreSQL: password='<secret>' TEXT
//   sslpassword TEXT       PostgreSQL: option("sslpassword", TEXT + secret),
//                          a libpq secret keyword (MySQL: ignored)
//   tls                    Builder::require_tls() with the default policy
//
// Other lines are ignored, so that mutations stay mostly meaningful.
#ifndef DBPOOL_TESTS_FUZZ_BUILDER_INPUT_H_
#define DBPOOL_TESTS_FUZZ_BUILDER_INPUT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "dbpool/driver.h"
#include "fuzz_contract.h"

namespace dbpool_fuzz {

struct BuilderInput {
  dbpool::ConnectSettings settings;  // the DSN still to compose
  std::optional<std::string> dsn_user;
  std::optional<std::string> dsn_password;
  std::optional<std::string> dsn_password_end;
  std::optional<std::string> dsn_rest;
  std::optional<std::string> dsn_kv;
  std::optional<std::string> sslpassword;  // PostgreSQL only: the target adds it
  bool spells_secret = false;              // some fuzzed text could spell the secret

  bool secret_dsn() const {
    return dsn_user.has_value() || dsn_password.has_value() || dsn_password_end.has_value() ||
           dsn_rest.has_value();
  }
};

inline BuilderInput ParseBuilderInput(absl::string_view input) {
  BuilderInput in;
  for (absl::string_view line : absl::StrSplit(input, '\n')) {
    if (CouldSpellSecret(line)) in.spells_secret = true;
    std::pair<absl::string_view, absl::string_view> verb_value =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    const absl::string_view verb = verb_value.first;
    const std::string value(verb_value.second);
    if (verb == "endpoint") {
      dbpool::Endpoint e;
      const size_t space = value.rfind(' ');
      e.host = value.substr(0, space);
      if (space == std::string::npos || !absl::SimpleAtoi(value.substr(space + 1), &e.port)) {
        e.port = 0;
      }
      in.settings.endpoints.push_back(std::move(e));
    } else if (verb == "option") {
      std::pair<std::string, std::string> kv = absl::StrSplit(value, absl::MaxSplits('=', 1));
      in.settings.options.push_back(std::move(kv));
    } else if (verb == "database") {
      in.settings.database = value;
    } else if (verb == "user") {
      in.settings.user = value;
    } else if (verb == "password") {
      in.settings.password = absl::StrCat(value, kSecret);
    } else if (verb == "dsn") {
      in.settings.dsn = value;
    } else if (verb == "dsn-user") {
      in.dsn_user = value;
    } else if (verb == "dsn-password") {
      in.dsn_password = value;
    } else if (verb == "dsn-password-end") {
      in.dsn_password_end = value;
    } else if (verb == "dsn-rest") {
      in.dsn_rest = value;
    } else if (verb == "dsn-kv") {
      in.dsn_kv = value;
    } else if (verb == "sslpassword") {
      in.sslpassword = absl::StrCat(value, kSecret);
    } else if (verb == "tls") {
      in.settings.tls = dbpool::TlsPolicy();
    }
  }
  return in;
}

}  // namespace dbpool_fuzz

#endif  // DBPOOL_TESTS_FUZZ_BUILDER_INPUT_H_
