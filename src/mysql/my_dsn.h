// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The mysql:// DSN parser.
#ifndef DBPOOL_MYSQL_MY_DSN_H_
#define DBPOOL_MYSQL_MY_DSN_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dbpool/driver.h"

namespace dbpool {
namespace mysql_internal {

// The port used when a DSN host has none.
inline constexpr int kDefaultMySqlPort = 3306;

// Where a DSN option starts (the offset of its key's first character), and
// whether its text may be part of the user info: it starts before the DSN's
// last '@', as when a password holds an unencoded '?' ("mysql://app:3306?k=v@db"
// reads as host "app", port 3306 and the option k with the value "v@db").
// Messages about such an option give its position only, never its key or
// value; the flag travels with the position (into OptionSource, my_options.h).
struct DsnPosition {
  size_t offset = 0;
  bool may_hold_secret = false;
};

// One "key=value" of a DSN's query, decoded.
struct DsnOption {
  std::string key;
  std::string value;
  DsnPosition position;  // of the key's first character in the DSN
};

// What a DSN says. Parts it does not mention stay unset (an empty user, as in
// "mysql://@host", is set and empty).
struct ParsedDsn {
  std::optional<std::string> user;
  std::optional<std::string> password;
  std::optional<std::string> database;
  std::vector<Endpoint> endpoints;  // in DSN order
  std::vector<DsnOption> options;   // in DSN order
};

// ParseMySqlDsn()
//
//   mysql://[user[:password]@][host[:port][,host[:port]...]][/database][?k=v[&k=v...]]
//
// "mariadb://" is accepted too. The user, password, database, host, option
// keys and values are percent-decoded ("+" stays a plus). A host is a name,
// an IPv4 address, an IPv6 address in brackets ("[::1]:3307"), or a
// percent-encoded Unix socket path starting with '/'. Ports default to 3306
// and must be 1..65535. Option keys are [A-Za-z0-9_.-]+; they are checked
// against the known keys later, by the option mapping. An empty string
// parses to an empty ParsedDsn.
//
// Errors: kInvalidArgument "dbpool: dsn: <problem> at position <N>", N being
// the 0-based offset in `dsn`. Text that starts in what may be the user info
// (anywhere up to the DSN's last '@') is never quoted, so the password cannot
// leak; options starting there are marked (DsnPosition::may_hold_secret) so
// that later messages about them do not quote them either.
absl::StatusOr<ParsedDsn> ParseMySqlDsn(absl::string_view dsn);

}  // namespace mysql_internal
}  // namespace dbpool

#endif  // DBPOOL_MYSQL_MY_DSN_H_
