// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/role.h
//
// The role a caller asks of the endpoint that serves an acquire.
#ifndef DBPOOL_ROLE_H_
#define DBPOOL_ROLE_H_

#include "absl/strings/string_view.h"

namespace dbpool {

// Role
//
// Which kind of endpoint may serve an acquire. Routing by role across several
// endpoints is the failover layer's job; a pool with one endpoint serves every
// role from it.
enum class Role {
  // A writable endpoint (the primary). The default for acquire().
  kPrimary,
  // A read-only endpoint (a replica); falls back to the primary when no
  // replica is up.
  kReplica,
  // Whichever endpoint is healthiest.
  kAny,
};

// RoleName()
//
// "primary", "replica" or "any".
absl::string_view RoleName(Role role);

}  // namespace dbpool

#endif  // DBPOOL_ROLE_H_
