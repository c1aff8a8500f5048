// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// What the client library at hand supports, decided once from its headers.
// Include after <mysql.h>.
//
//   DBPOOL_MYSQL_MARIADB_CC      MariaDB Connector/C 3.x (the MariaDB client
//                                library Debian and most distributions ship;
//                                the older server-bundled one is treated the
//                                same): MYSQL_OPT_SSL_ENFORCE,
//                                MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
//                                mariadb_get_infov(), mysql_get_socket()
//   DBPOOL_MYSQL_NONBLOCKING     the MariaDB non-blocking API (_start/_cont,
//                                MYSQL_OPT_NONBLOCK); calls honour deadlines
//   DBPOOL_MYSQL_NONBLOCK_RESET  mysql_reset_connection_start/_cont
//   DBPOOL_MYSQL_HAVE_RESTRICTED_AUTH  MARIADB_OPT_RESTRICTED_AUTH (3.3+)
//   DBPOOL_MYSQL_HAVE_SSL_MODE   Oracle's MYSQL_OPT_SSL_MODE (5.7.11+)
//   DBPOOL_MYSQL_SET_RECONNECT   MYSQL_OPT_RECONNECT may be set without a
//                                deprecation warning (not Oracle 8.0.34+)
//
// Defining DBPOOL_MYSQL_FORCE_BLOCKING (a test knob) takes the blocking code
// path even where the non-blocking API exists.
#ifndef DBPOOL_MYSQL_MY_COMPAT_H_
#define DBPOOL_MYSQL_MY_COMPAT_H_

#include <mysql.h>

#if defined(MARIADB_PACKAGE_VERSION_ID) || defined(MARIADB_BASE_VERSION)
#define DBPOOL_MYSQL_MARIADB_CC 1
#if !defined(DBPOOL_MYSQL_FORCE_BLOCKING)
#define DBPOOL_MYSQL_NONBLOCKING 1
#if defined(MARIADB_PACKAGE_VERSION_ID) && MARIADB_PACKAGE_VERSION_ID >= 30000
#define DBPOOL_MYSQL_NONBLOCK_RESET 1
#endif
#endif
// MARIADB_OPT_RESTRICTED_AUTH (an enum value, so no #ifdef can see it).
#if defined(MARIADB_PACKAGE_VERSION_ID) && MARIADB_PACKAGE_VERSION_ID >= 30300
#define DBPOOL_MYSQL_HAVE_RESTRICTED_AUTH 1
#endif
#define DBPOOL_MYSQL_SET_RECONNECT 1
#else  // Oracle's libmysqlclient
#if defined(MYSQL_VERSION_ID) && MYSQL_VERSION_ID >= 50711
#define DBPOOL_MYSQL_HAVE_SSL_MODE 1
#endif
#if !defined(MYSQL_VERSION_ID) || MYSQL_VERSION_ID < 80034
#define DBPOOL_MYSQL_SET_RECONNECT 1
#endif
#endif

namespace dbpool {
namespace mysql_internal {

// The flag type mysql_options() reads for boolean options.
#if defined(DBPOOL_MYSQL_MARIADB_CC) || (defined(MYSQL_VERSION_ID) && MYSQL_VERSION_ID < 80000)
using MyBool = my_bool;
#else
using MyBool = bool;
#endif

}  // namespace mysql_internal
}  // namespace dbpool

#endif  // DBPOOL_MYSQL_MY_COMPAT_H_
