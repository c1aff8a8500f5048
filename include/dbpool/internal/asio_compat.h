// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/internal/asio_compat.h
//
// Which Asio the event-loop adapters (dbpool/asio.h and the drivers'
// asio_*.h) are built on: standalone Asio (<asio.hpp>, Debian's
// libasio-dev, 1.22 or later) by default, or Boost.Asio (1.77 or later,
// for cancellation slots) when DBPOOL_USE_BOOST_ASIO is defined before the
// first of them is included. Inside namespace dbpool, `asio::` names the
// one chosen and `AsioErrorCode` its error code type.
#ifndef DBPOOL_INTERNAL_ASIO_COMPAT_H_
#define DBPOOL_INTERNAL_ASIO_COMPAT_H_

#if defined(DBPOOL_USE_BOOST_ASIO)
#include <boost/asio.hpp>
#include <boost/system/error_code.hpp>

namespace dbpool {
namespace asio = ::boost::asio;
using AsioErrorCode = ::boost::system::error_code;
}  // namespace dbpool
#else
#include <asio.hpp>

namespace dbpool {
using AsioErrorCode = ::asio::error_code;
}  // namespace dbpool
#endif

#endif  // DBPOOL_INTERNAL_ASIO_COMPAT_H_
