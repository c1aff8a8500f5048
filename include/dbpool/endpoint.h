// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/endpoint.h
//
// Endpoint: the address of one server of a pool.
#ifndef DBPOOL_ENDPOINT_H_
#define DBPOOL_ENDPOINT_H_

#include <string>

namespace dbpool {

// Endpoint
//
// One server address: a host name, an IP address, or (PostgreSQL) a Unix
// socket directory starting with '/'.
struct Endpoint {
  std::string host;
  int port = 0;

  // "host:port", for messages.
  std::string ToString() const;
};

}  // namespace dbpool

#endif  // DBPOOL_ENDPOINT_H_
