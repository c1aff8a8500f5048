// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A hand-written parser for mysql:// URIs: no library parses this form with
// several hosts, and every error has to carry its position without quoting
// the password.
#include "mysql/my_dsn.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dbpool {
namespace mysql_internal {
namespace {

constexpr absl::string_view kSchemes[] = {"mysql://", "mariadb://"};

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
         c == '~';
}

bool IsOptionKeyChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class DsnParser {
 public:
  explicit DsnParser(absl::string_view dsn) : dsn_(dsn), last_at_(dsn.rfind('@')) {}

  absl::StatusOr<ParsedDsn> Parse() {
    ParsedDsn out;
    if (dsn_.empty()) return out;

    size_t p = absl::string_view::npos;
    for (absl::string_view scheme : kSchemes) {
      if (dsn_.size() >= scheme.size() &&
          absl::EqualsIgnoreCase(dsn_.substr(0, scheme.size()), scheme)) {
        p = scheme.size();
        break;
      }
    }
    if (p == absl::string_view::npos) {
      return Error("expected \"mysql://\" or \"mariadb://\"", 0, 0);
    }
    for (size_t i = p; i < dsn_.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(dsn_[i]);
      if (c <= 0x20 || c == 0x7f) {
        return Error("unexpected space or control character (percent-encode it)", i, 0);
      }
      if (c == '#') return Error("unexpected '#' (fragments are not allowed)", i, 0);
    }

    // The authority runs to the first '/' or '?'; within it the user info
    // runs to the last '@' (so an unencoded '@' in a password still works).
    size_t authority_end = dsn_.find_first_of("/?", p);
    if (authority_end == absl::string_view::npos) authority_end = dsn_.size();
    const size_t at = dsn_.substr(0, authority_end).rfind('@');
    size_t hosts_begin = p;
    if (at != absl::string_view::npos && at >= p) {
      if (absl::Status s = ParseUserInfo(p, at, &out); !s.ok()) return s;
      hosts_begin = at + 1;
    }
    if (absl::Status s = ParseHosts(hosts_begin, authority_end, &out); !s.ok()) return s;

    size_t query_begin = authority_end;
    if (authority_end < dsn_.size() && dsn_[authority_end] == '/') {
      size_t db_end = dsn_.find('?', authority_end);
      if (db_end == absl::string_view::npos) db_end = dsn_.size();
      if (absl::Status s = ParseDatabase(authority_end + 1, db_end, &out); !s.ok()) return s;
      query_begin = db_end;
    }
    if (query_begin < dsn_.size()) {  // dsn_[query_begin] == '?'
      if (absl::Status s = ParseQuery(query_begin + 1, dsn_.size(), &out); !s.ok()) return s;
    }
    if (last_at_ != absl::string_view::npos && last_at_ >= p &&
        (at == absl::string_view::npos || at < p || last_at_ != at)) {
      // Checked last, so that other errors keep their own position. A
      // later '@' means the user info was meant to run to it: a password
      // holding an unencoded '/' or '?' ended the authority early, and its
      // rest would read as the database or options (and show in messages).
      return Error("an '@' after the user info",
                   dsn_.find('@', at == absl::string_view::npos || at < p ? p : at + 1), 0,
                   "a password holding an unencoded '/', '?' or '@' does this: percent-encode "
                   "them as %2F, %3F and %40, and any '@' in the database or an option value "
                   "as %40; text before the last '@' is not shown");
    }
    return out;
  }

 private:
  // Whether dsn_[pos] may belong to the user info: everything up to the
  // last '@' of the whole DSN counts, which hides more than the user info
  // when a later '@' exists but never less, whatever the DSN's mistakes.
  bool MayHoldSecret(size_t pos) const {
    return last_at_ != absl::string_view::npos && pos <= last_at_;
  }

  // kInvalidArgument "dbpool: dsn: <what> "<text>" at position <pos>", the
  // text being dsn_[pos, pos + len) unless it may hold the password: text
  // starting at or before the last '@' is never quoted, even when it runs
  // past it.
  absl::Status Error(absl::string_view what, size_t pos, size_t len,
                     absl::string_view hint = "") const {
    std::string message = absl::StrCat("dbpool: dsn: ", what);
    if (len > 0) {
      if (MayHoldSecret(pos)) {
        absl::StrAppend(&message, " (text before the last '@' is not shown)");
      } else {
        absl::StrAppend(&message, " \"", dsn_.substr(pos, len), "\"");
      }
    }
    absl::StrAppend(&message, " at position ", pos);
    if (!hint.empty()) absl::StrAppend(&message, " (", hint, ")");
    return absl::InvalidArgumentError(message);
  }

  // Percent-decodes dsn_[begin, end) into *out; `what` names the part.
  absl::Status Decode(size_t begin, size_t end, absl::string_view what, std::string* out) const {
    out->clear();
    out->reserve(end - begin);
    for (size_t i = begin; i < end; ++i) {
      if (dsn_[i] != '%') {
        out->push_back(dsn_[i]);
        continue;
      }
      const int hi = i + 1 < end ? HexValue(dsn_[i + 1]) : -1;
      const int lo = i + 2 < end ? HexValue(dsn_[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Error(absl::StrCat("invalid percent-encoding in the ", what), i,
                     std::min<size_t>(3, end - i), "expected %XX with two hex digits");
      }
      if (hi == 0 && lo == 0) {
        return Error(absl::StrCat("percent-encoded NUL byte in the ", what), i, 0);
      }
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
    return absl::OkStatus();
  }

  absl::Status ParseUserInfo(size_t begin, size_t end, ParsedDsn* out) const {
    const size_t colon = dsn_.substr(0, end).find(':', begin);
    std::string user;
    if (colon == absl::string_view::npos) {
      if (absl::Status s = Decode(begin, end, "user name", &user); !s.ok()) return s;
      out->user = std::move(user);
      return absl::OkStatus();
    }
    std::string password;
    if (absl::Status s = Decode(begin, colon, "user name", &user); !s.ok()) return s;
    if (absl::Status s = Decode(colon + 1, end, "password", &password); !s.ok()) return s;
    out->user = std::move(user);
    out->password = std::move(password);
    return absl::OkStatus();
  }

  absl::Status ParseHosts(size_t begin, size_t end, ParsedDsn* out) const {
    if (begin == end) return absl::OkStatus();  // no hosts: the builder's endpoints
    size_t start = begin;
    for (;;) {
      size_t comma = dsn_.substr(0, end).find(',', start);
      if (comma == absl::string_view::npos) comma = end;
      if (absl::Status s = ParseHost(start, comma, out); !s.ok()) return s;
      if (comma == end) return absl::OkStatus();
      start = comma + 1;
    }
  }

  // One "host[:port]" or "[v6]:port" in dsn_[begin, end).
  absl::Status ParseHost(size_t begin, size_t end, ParsedDsn* out) const {
    if (begin == end) return Error("empty host in the host list", begin, 0);
    Endpoint endpoint;
    endpoint.port = kDefaultMySqlPort;
    size_t port_colon = absl::string_view::npos;
    if (dsn_[begin] == '[') {
      const size_t close = dsn_.substr(0, end).find(']', begin);
      if (close == absl::string_view::npos) {
        return Error("unterminated '[' in the host list", begin, 0, "expected [address]:port");
      }
      if (absl::Status s = ParseIpv6(begin + 1, close, &endpoint.host); !s.ok()) return s;
      if (close + 1 < end) {
        if (dsn_[close + 1] != ':') {
          return Error("unexpected character after ']'", close + 1, 1, "expected ':port'");
        }
        port_colon = close + 1;
      }
    } else {
      port_colon = dsn_.substr(0, end).find(':', begin);
      const size_t host_end = port_colon == absl::string_view::npos ? end : port_colon;
      if (host_end == begin) return Error("empty host before ':'", begin, 0);
      for (size_t i = begin; i < host_end; ++i) {
        if (!IsHostChar(dsn_[i]) && dsn_[i] != '%') {
          return Error("invalid character in host", i, 1,
                       "a host is a name, an IPv4 address, [an IPv6 address] or a "
                       "percent-encoded socket path");
        }
      }
      if (absl::Status s = Decode(begin, host_end, "host", &endpoint.host); !s.ok()) return s;
      if (endpoint.host[0] != '/') {
        for (char c : endpoint.host) {
          if (!IsHostChar(c)) {
            return Error("invalid character in the decoded host", begin, host_end - begin,
                         "only a Unix socket path (starting with '/') may hold other characters");
          }
        }
      }
    }
    if (port_colon != absl::string_view::npos) {
      absl::StatusOr<int> port = ParsePort(port_colon + 1, end);
      if (!port.ok()) return port.status();
      endpoint.port = *port;
    }
    out->endpoints.push_back(std::move(endpoint));
    return absl::OkStatus();
  }

  // The address between '[' and ']': hex digits, ':' and '.', and an
  // optional "%25zone".
  absl::Status ParseIpv6(size_t begin, size_t end, std::string* host) const {
    if (begin == end) return Error("empty IPv6 address in brackets", begin - 1, 0);
    size_t zone = dsn_.substr(0, end).find('%', begin);
    const size_t addr_end = zone == absl::string_view::npos ? end : zone;
    bool has_colon = false;
    for (size_t i = begin; i < addr_end; ++i) {
      const char c = dsn_[i];
      if (c == ':') has_colon = true;
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
        return Error("invalid character in IPv6 address", i, 1);
      }
    }
    if (!has_colon) {
      return Error("invalid IPv6 address", begin, addr_end - begin,
                   "brackets hold IPv6 addresses only");
    }
    *host = std::string(dsn_.substr(begin, addr_end - begin));
    if (zone != absl::string_view::npos) {
      std::string zone_id;
      if (absl::Status s = Decode(zone, end, "IPv6 zone", &zone_id); !s.ok()) return s;
      // zone_id starts with the decoded '%' when written as "%25eth0".
      if (zone_id.size() < 2 || zone_id[0] != '%') {
        return Error("invalid IPv6 zone", zone, end - zone, "write the zone as %25name");
      }
      for (size_t i = 1; i < zone_id.size(); ++i) {
        if (!IsHostChar(zone_id[i])) {
          return Error("invalid IPv6 zone", zone, end - zone, "write the zone as %25name");
        }
      }
      absl::StrAppend(host, zone_id);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int> ParsePort(size_t begin, size_t end) const {
    if (begin == end) return Error("missing port after ':'", begin, 0, "allowed: 1..65535");
    int port = 0;
    for (size_t i = begin; i < end; ++i) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(dsn_[i]))) {
        return Error("invalid port", begin, end - begin, "allowed: 1..65535");
      }
      if (port <= 65535) port = port * 10 + (dsn_[i] - '0');
    }
    if (port < 1 || port > 65535) {
      return Error("invalid port", begin, end - begin, "allowed: 1..65535");
    }
    return port;
  }

  absl::Status ParseDatabase(size_t begin, size_t end, ParsedDsn* out) const {
    const size_t slash = dsn_.substr(0, end).find('/', begin);
    if (slash != absl::string_view::npos) {
      return Error("unexpected '/' in the database name", slash, 0,
                   "percent-encode it as %2F, or check the password for an unencoded '/'");
    }
    if (begin == end) return absl::OkStatus();
    std::string database;
    if (absl::Status s = Decode(begin, end, "database name", &database); !s.ok()) return s;
    out->database = std::move(database);
    return absl::OkStatus();
  }

  absl::Status ParseQuery(size_t begin, size_t end, ParsedDsn* out) const {
    size_t start = begin;
    while (start <= end) {
      size_t amp = dsn_.substr(0, end).find('&', start);
      if (amp == absl::string_view::npos) amp = end;
      if (amp > start) {  // empty pieces ("a=1&&b=2", a trailing '&') are skipped
        size_t eq = dsn_.substr(0, amp).find('=', start);
        if (eq == absl::string_view::npos) {
          return Error("option without a value", start, amp - start, "expected key=value");
        }
        if (eq == start) return Error("empty option name", start, 0, "expected key=value");
        for (size_t i = start; i < eq; ++i) {
          if (!IsOptionKeyChar(dsn_[i]) && dsn_[i] != '%') {
            return Error("invalid character in option name", i, 1);
          }
        }
        DsnOption option;
        option.position = DsnPosition{start, MayHoldSecret(start)};
        if (absl::Status s = Decode(start, eq, "option name", &option.key); !s.ok()) return s;
        if (absl::Status s = Decode(eq + 1, amp, "option value", &option.value); !s.ok()) {
          return s;
        }
        out->options.push_back(std::move(option));
      }
      start = amp + 1;
    }
    return absl::OkStatus();
  }

  const absl::string_view dsn_;
  const size_t last_at_;
};

}  // namespace

absl::StatusOr<ParsedDsn> ParseMySqlDsn(absl::string_view dsn) { return DsnParser(dsn).Parse(); }

}  // namespace mysql_internal
}  // namespace dbpool
