// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "postgres/pg_conninfo.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace dbpool {
namespace postgres_internal {
namespace {

constexpr int kDefaultPort = 5432;

// ---- The DSN as libpq reads it ---------------------------------------------
//
// libpq's messages about a DSN it cannot parse quote text without saying
// where it is: a percent-decoded key, a host or port list it has joined, the
// whole URI (password included). So dbpool reads the DSN again the way libpq
// 15 does (fe-connect.c: conninfo_parse, conninfo_uri_parse_options,
// conninfo_uri_parse_params, conninfo_uri_decode), keeping where each piece
// is, and words the error itself: with the position of the problem, and with
// the quoted text hidden when it may be part of a password.

// The DSN text [begin, end).
struct Span {
  size_t begin = 0;
  size_t end = 0;
};

// One keyword libpq stores from the DSN, and where its text is.
struct DsnField {
  std::string keyword;       // as stored: "user", "host", ..., or a query or key=value key
  size_t key = 0;            // where its key starts; for the URI's parts, its value
  std::vector<Span> values;  // its value; the URI's host and port lists: one per host
  bool secret = false;       // the text may be part of a password
  // Its value may hold password text even though libpq reads the DSN: a
  // secret keyword's, or the one after such a value (an unquoted space or
  // an unencoded '&' in a password splits it).
  bool tainted = false;
};

// The first problem libpq reports.
struct DsnProblem {
  size_t position = 0;
  std::string libpq_says;  // libpq's own message (trimmed): both readings must agree
  std::string message;     // dbpool's wording, without "dbpool: dsn: " and the position
};

// What libpq makes of a DSN, as dbpool reads it.
struct DsnReading {
  std::vector<DsnField> fields;  // in the order libpq stores them: the last one wins
  std::optional<DsnProblem> problem;
  // In a URI, where an '@' is that does not end the user info libpq reads
  // (the first one, when libpq reads none): a password holding an
  // unencoded '@', ',', '/' or '?' puts the intended one later.
  std::optional<size_t> stray_at;
};

// `text` in double quotes, control characters, '"' and '\' escaped; or a note
// instead when it may be part of a password.
std::string Quote(absl::string_view text, bool secret) { return QuoteSettingValue(text, secret); }

// The message for a DSN that PQconninfoParse refused with `libpq_message`:
// dbpool's wording of the problem and its position. Should libpq's message
// not be the one expected (another libpq version, or a translated message),
// it is not shown either, as it may quote the password.
std::string DescribeDsnError(const DsnReading& reading, absl::string_view libpq_message) {
  const absl::string_view said = absl::StripAsciiWhitespace(libpq_message);
  if (reading.problem.has_value() && said == reading.problem->libpq_says) {
    return absl::StrCat("dbpool: dsn: ", reading.problem->message, " at position ",
                        reading.problem->position);
  }
  return absl::StrCat(
      "dbpool: dsn: libpq cannot parse it (its message is not shown: it may quote the password) "
      "at position ",
      reading.problem.has_value() ? reading.problem->position : 0);
}

// The field the DSN's value for `keyword` comes from (the last one), or null.
const DsnField* LastField(const DsnReading& reading, absl::string_view keyword) {
  const DsnField* found = nullptr;
  for (const DsnField& f : reading.fields) {
    if (f.keyword == keyword) found = &f;
  }
  return found;
}

// Where item `i` of a comma-separated list held by `field` is: its own span
// for the URI's lists, else the start of the value (0 without a field).
size_t ItemPosition(const DsnField* field, size_t i, size_t items) {
  if (field == nullptr || field->values.empty()) return 0;
  if (field->values.size() == items && i < items) return field->values[i].begin;
  return field->values.front().begin;
}

absl::Status ParsePort(absl::string_view text, const DsnField* field, size_t i, size_t items,
                       int* port) {
  if (text.empty()) {
    *port = kDefaultPort;
    return absl::OkStatus();
  }
  if (!absl::SimpleAtoi(text, port) || *port < 1 || *port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dbpool: dsn: port ", Quote(text, field == nullptr || field->secret),
        " is not in the allowed range 1..65535 at position ", ItemPosition(field, i, items)));
  }
  return absl::OkStatus();
}

// The DSN's hosts (or hostaddrs) and ports as endpoints; `host_field` and
// `port_field` say where they are in the DSN.
absl::Status AddDsnEndpoints(absl::string_view hosts, absl::string_view ports,
                             const DsnField* host_field, const DsnField* port_field,
                             std::vector<Endpoint>* out) {
  if (hosts.empty()) return absl::OkStatus();
  std::vector<absl::string_view> host_list = absl::StrSplit(hosts, ',');
  std::vector<absl::string_view> port_list = absl::StrSplit(ports, ',');
  if (port_list.size() != 1 && port_list.size() != host_list.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dbpool: dsn: ", host_list.size(), " hosts but ", port_list.size(), " ports at position ",
        ItemPosition(port_field, 0, port_list.size()), " (give one port, or one per host)"));
  }
  for (size_t i = 0; i < host_list.size(); ++i) {
    if (host_list[i].empty()) {
      const bool secret = host_field == nullptr || host_field->secret;
      return absl::InvalidArgumentError(
          absl::StrCat("dbpool: dsn: host #", i + 1, " of ", Quote(hosts, secret),
                       " is empty at position ", ItemPosition(host_field, i, host_list.size())));
    }
    Endpoint e;
    e.host = std::string(host_list[i]);
    const size_t p = port_list.size() == 1 ? 0 : i;
    absl::Status st = ParsePort(port_list[p], port_field, p, port_list.size(), &e.port);
    if (!st.ok()) return st;
    out->push_back(std::move(e));
  }
  return absl::OkStatus();
}

// libpq's keywords; `secret` only those it flags as secret (PQconndefaults'
// dispchar "*": password, sslpassword).
const absl::flat_hash_set<std::string>& LibpqKeywords(bool secret) {
  static const auto* sets = [] {
    auto* both = new std::pair<absl::flat_hash_set<std::string>, absl::flat_hash_set<std::string>>;
    PQconninfoOption* defaults = PQconndefaults();
    for (PQconninfoOption* o = defaults; o != nullptr && o->keyword != nullptr; ++o) {
      both->first.insert(o->keyword);
      if (o->dispchar != nullptr && o->dispchar[0] == '*') both->second.insert(o->keyword);
    }
    PQconninfoFree(defaults);
    both->second.insert("password");  // whatever libpq says
    return both;
  }();
  return secret ? sets->second : sets->first;
}

const absl::flat_hash_set<std::string>& KnownKeywords() { return LibpqKeywords(false); }

// The value of a hex digit, or -1.
int HexDigit(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  if (!absl::ascii_isxdigit(u)) return -1;
  return absl::ascii_isdigit(u) ? u - '0' : absl::ascii_tolower(u) - 'a' + 10;
}

// Reads a DSN the way libpq does (see above); text up to a URI's last '@',
// password values, and the key after a password value, are secret.
class DsnReader {
 public:
  // libpq sees the DSN as a C string: up to its first NUL byte.
  explicit DsnReader(absl::string_view dsn) : t_(dsn.substr(0, dsn.find('\0'))) {}

  DsnReading Read() {
    for (absl::string_view scheme : {"postgresql://", "postgres://"}) {
      if (absl::StartsWith(t_, scheme)) {
        // Anything up to the last '@' may be user info: libpq ends it at the
        // first '@' (before any '/'), a password with an unencoded '@', '/'
        // or '?' makes the intended one a later '@'.
        const size_t at = t_.rfind('@');
        if (at != absl::string_view::npos && at >= scheme.size()) last_at_ = at;
        ReadUri(scheme.size());
        if (last_at_ != absl::string_view::npos && last_at_ != used_at_) {
          out_.stray_at =
              t_.find('@', used_at_ == absl::string_view::npos ? scheme.size() : used_at_ + 1);
        }
        return std::move(out_);
      }
    }
    ReadKeyValue();
    return std::move(out_);
  }

 private:
  bool InUserInfo(size_t pos) const {
    return last_at_ != absl::string_view::npos && pos <= last_at_;
  }

  absl::string_view Text(Span s) const { return t_.substr(s.begin, s.end - s.begin); }

  // The spans' texts joined with ',', as libpq joins host and port lists.
  std::string Joined(const std::vector<Span>& spans) const {
    std::string out;
    for (size_t i = 0; i < spans.size(); ++i) {
      if (i > 0) out.push_back(',');
      absl::StrAppend(&out, Text(spans[i]));
    }
    return out;
  }

  void Fail(size_t position, std::string libpq_says, std::string message) {
    out_.problem = DsnProblem{position, std::move(libpq_says), std::move(message)};
  }

  // libpq's `before"<text>"after`; dbpool's the same with `text` hidden
  // when it may be part of a password.
  void FailQuoting(size_t position, absl::string_view before, absl::string_view text, bool secret,
                   absl::string_view after = "") {
    Fail(position, absl::StrCat(before, "\"", text, "\"", after),
         absl::StrCat(before, Quote(text, secret), after));
  }

  // libpq's `what: "<the whole URI>"`; dbpool's `what`, the position saying
  // where.
  void FailQuotingUri(size_t position, absl::string_view what) {
    Fail(position, absl::StrCat(what, ": \"", t_, "\""), std::string(what));
  }

  // Decodes the spans joined with ',' (conninfo_uri_decode); on a bad
  // percent-encoding records the problem, at its '%', and returns false.
  // Neither ',' nor the end is a hex digit, so a span's escapes end in it.
  bool Decode(const std::vector<Span>& spans, bool secret, std::string* decoded) {
    decoded->clear();
    const std::string raw = Joined(spans);
    for (size_t n = 0; n < spans.size(); ++n) {
      if (n > 0) decoded->push_back(',');
      for (size_t i = spans[n].begin; i < spans[n].end; ++i) {
        if (t_[i] != '%') {
          decoded->push_back(t_[i]);
          continue;
        }
        const int hi = i + 1 < spans[n].end ? HexDigit(t_[i + 1]) : -1;
        const int lo = hi >= 0 && i + 2 < spans[n].end ? HexDigit(t_[i + 2]) : -1;
        if (lo < 0) {
          FailQuoting(i, "invalid percent-encoded token: ", raw, secret);
          return false;
        }
        if (hi == 0 && lo == 0) {
          FailQuoting(i, "forbidden value %00 in percent-encoded value: ", raw, secret);
          return false;
        }
        decoded->push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      }
    }
    return true;
  }

  // A field of the URI's authority or path, stored when its text is not
  // empty, percent-decoded (conninfo_storeval with uri_decode).
  bool StoreUriPart(absl::string_view keyword, std::vector<Span> spans) {
    if (Joined(spans).empty()) return true;
    DsnField field{std::string(keyword), spans.front().begin, std::move(spans)};
    for (const Span& s : field.values) field.secret = field.secret || InUserInfo(s.begin);
    field.tainted = IsSecretKeyword(keyword);
    field.secret = field.secret || field.tainted;
    std::string decoded;
    if (!Decode(field.values, field.secret, &decoded)) return false;
    out_.fields.push_back(std::move(field));
    return true;
  }

  void ReadUri(size_t start) {
    const size_t n = t_.size();
    // The user info, when an '@' comes before any '/'.
    size_t p = t_.find_first_of("@/", start);
    if (p != absl::string_view::npos && t_[p] == '@') {
      const size_t at = p;
      used_at_ = at;
      const size_t user_end = t_.find_first_of(":@", start);
      if (!StoreUriPart("user", {Span{start, user_end}})) return;
      if (t_[user_end] == ':' && !StoreUriPart("password", {Span{user_end + 1, at}})) return;
      p = at + 1;
    } else {
      p = start;
    }

    // host[:port], or [v6][:port], separated by ','.
    std::vector<Span> hosts;
    std::vector<Span> ports;
    char end_char = '\0';
    for (;;) {
      Span host;
      if (p < n && t_[p] == '[') {
        const size_t open = p;
        const size_t close = t_.find(']', open + 1);
        if (close == absl::string_view::npos) {
          FailQuotingUri(open,
                         "end of string reached when looking for matching \"]\" in IPv6 host "
                         "address in URI");
          return;
        }
        if (close == open + 1) {
          FailQuotingUri(open, "IPv6 host address may not be empty in URI");
          return;
        }
        host = Span{open + 1, close};
        p = close + 1;
        if (p < n && t_[p] != ':' && t_[p] != '/' && t_[p] != '?' && t_[p] != ',') {
          Fail(p,
               absl::StrCat("unexpected character \"", t_.substr(p, 1), "\" at position ", p + 1,
                            " in URI (expected \":\" or \"/\"): \"", t_, "\""),
               absl::StrCat("unexpected character ", Quote(t_.substr(p, 1), InUserInfo(p)),
                            " in URI (expected \":\" or \"/\")"));
          return;
        }
      } else {
        host.begin = p;
        p = std::min(t_.find_first_of(":/?,", p), n);
        host.end = p;
      }
      hosts.push_back(host);
      end_char = p < n ? t_[p] : '\0';
      Span port{p, p};
      if (end_char == ':') {
        port.begin = p + 1;
        p = std::min(t_.find_first_of("/?,", p + 1), n);
        port.end = p;
        end_char = p < n ? t_[p] : '\0';
      }
      ports.push_back(port);
      if (end_char != ',') break;
      ++p;
    }
    if (!StoreUriPart("host", std::move(hosts))) return;
    if (!StoreUriPart("port", std::move(ports))) return;

    if (end_char == '/') {
      const size_t db_begin = p + 1;
      p = std::min(t_.find('?', db_begin), n);
      if (!StoreUriPart("dbname", {Span{db_begin, p}})) return;
      end_char = p < n ? '?' : '\0';
    }
    if (end_char == '?') ReadUriParams(p + 1);
  }

  // The query: key=value pairs separated by '&' (conninfo_uri_parse_params).
  void ReadUriParams(size_t p) {
    const size_t n = t_.size();
    bool after_password = false;  // an unencoded '&' in a password ends it early
    while (p < n) {
      const size_t begin = p;
      size_t eq = absl::string_view::npos;
      for (;; ++p) {
        if (p < n && t_[p] == '=') {
          if (eq != absl::string_view::npos) {
            FailQuoting(p, "extra key/value separator \"=\" in URI query parameter: ",
                        t_.substr(begin, eq - begin), after_password || InUserInfo(begin));
            return;
          }
          eq = p;
        } else if (p == n || t_[p] == '&') {
          break;
        }
      }
      const size_t end = p;
      if (p < n) ++p;  // past '&'
      const bool secret = after_password || InUserInfo(begin);
      if (eq == absl::string_view::npos) {
        FailQuoting(begin, "missing key/value separator \"=\" in URI query parameter: ",
                    t_.substr(begin, end - begin), secret);
        return;
      }
      std::string key;
      std::string value;
      if (!Decode({Span{begin, eq}}, secret, &key)) return;
      // The value: secret when the key says so, whatever the decoding
      // finds wrong with it.
      if (!Decode({Span{eq + 1, end}}, secret || IsSecretKeyword(key), &value)) return;
      if (key == "ssl" && value == "true") key = "sslmode";
      if (key == "requiressl") key = "sslmode";
      if (!KnownKeywords().contains(key)) {
        FailQuoting(begin, "invalid URI query parameter: ", key, secret);
        return;
      }
      const bool tainted = after_password || IsSecretKeyword(key);
      after_password = IsSecretKeyword(key);
      out_.fields.push_back(
          DsnField{key, begin, {Span{eq + 1, end}}, InUserInfo(begin) || after_password, tainted});
    }
  }

  // keyword = value pairs, separated by white space; a value may be quoted
  // with '\'' and holds '\'-escapes (conninfo_parse).
  void ReadKeyValue() {
    const size_t n = t_.size();
    auto space = [this](size_t i) {
      return absl::ascii_isspace(static_cast<unsigned char>(t_[i]));
    };
    bool after_password = false;  // an unquoted space in a password ends it early
    size_t p = 0;
    while (p < n) {
      if (space(p)) {
        ++p;
        continue;
      }
      const size_t key_begin = p;
      while (p < n && t_[p] != '=' && !space(p)) ++p;
      const absl::string_view key = t_.substr(key_begin, p - key_begin);
      while (p < n && space(p)) ++p;
      const bool secret = after_password;
      if (p == n || t_[p] != '=') {
        FailQuoting(key_begin, "missing \"=\" after ", key, secret, " in connection info string");
        return;
      }
      ++p;
      while (p < n && space(p)) ++p;
      Span value{p, p};
      if (p < n && t_[p] == '\'') {
        value.begin = ++p;
        while (p < n && t_[p] != '\'') p += t_[p] == '\\' ? 2 : 1;
        if (p >= n) {
          constexpr absl::string_view kWhat =
              "unterminated quoted string in connection info string";
          Fail(value.begin - 1, std::string(kWhat), std::string(kWhat));
          return;
        }
        value.end = p++;
      } else {
        while (p < n && !space(p)) p += t_[p] == '\\' ? 2 : 1;
        p = std::min(p, n);
        value.end = p;
      }
      std::string keyword(key);
      if (keyword == "requiressl") keyword = "sslmode";
      if (!KnownKeywords().contains(keyword)) {
        FailQuoting(key_begin, "invalid connection option ", key, secret);
        return;
      }
      const bool tainted = after_password || IsSecretKeyword(keyword);
      after_password = IsSecretKeyword(keyword);
      out_.fields.push_back(DsnField{keyword, key_begin, {value}, after_password, tainted});
    }
  }

  const absl::string_view t_;
  size_t last_at_ = absl::string_view::npos;
  size_t used_at_ = absl::string_view::npos;  // the '@' ending the user info libpq reads
  DsnReading out_;
};

}  // namespace

const std::string* FindKeyword(const PgKeywords& keywords, absl::string_view key) {
  for (const auto& [k, v] : keywords) {
    if (k == key) return &v;
  }
  return nullptr;
}

void SetKeyword(PgKeywords* keywords, absl::string_view key, absl::string_view value) {
  for (auto& [k, v] : *keywords) {
    if (k == key) {
      v = std::string(value);
      return;
    }
  }
  keywords->emplace_back(std::string(key), std::string(value));
}

bool IsSecretKeyword(absl::string_view key) { return LibpqKeywords(/*secret=*/true).contains(key); }

bool IsHiddenKeyword(const PgConnectParams& params, absl::string_view key) {
  return IsSecretKeyword(key) || params.tainted.contains(key);
}

namespace {

// The pool's TCP defaults for libpq (see BuildPgConnectParams()).
constexpr std::pair<absl::string_view, absl::string_view> kTcpDefaults[] = {
    {"keepalives", "1"},       {"keepalives_idle", "30"},     {"keepalives_interval", "10"},
    {"keepalives_count", "3"}, {"tcp_user_timeout", "30000"},
};

// kInvalidArgument for a NUL byte in a builder string, which libpq (C
// strings) would silently cut there.
absl::Status NulError(absl::string_view knob) {
  return absl::InvalidArgumentError(absl::StrCat(
      "dbpool: ", knob, ": holds a NUL byte, which libpq would silently cut the text at"));
}

bool HoldsNul(absl::string_view text) { return text.find('\0') != absl::string_view::npos; }

// A builder endpoint's host as libpq takes it: one host (no ',', which
// libpq reads as a list), an IPv6 address without brackets.
absl::Status CheckEndpointHost(Endpoint* e) {
  const std::string knob =
      absl::StrCat("endpoint(", QuoteSettingValue(e->host, false), ", ", e->port, ")");
  if (HoldsNul(e->host)) return NulError(knob);
  if (absl::StrContains(e->host, ',')) {
    return absl::InvalidArgumentError(
        absl::StrCat("dbpool: ", knob,
                     ": a host holds no ',' (libpq would read a list); give one endpoint() "
                     "per server"));
  }
  absl::string_view host = e->host;
  if (absl::ConsumePrefix(&host, "[") && absl::ConsumeSuffix(&host, "]") &&
      absl::StrContains(host, ':') && host.find_first_of("[]") == absl::string_view::npos) {
    e->host = std::string(host);  // libpq wants IPv6 addresses bare
    return absl::OkStatus();
  }
  if (e->host.find_first_of("[]") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("dbpool: ", knob, ": brackets only go around a whole IPv6 address"));
  }
  return absl::OkStatus();
}

// target_session_attrs is the pool's routing, not each connection's (the
// driver sets "any" on every connection): a value the pool's default
// routing already gives is dropped, one it cannot give is refused.
// `dsn_position` is where the DSN sets it when the value is the DSN's, else
// npos.
absl::Status MapTargetSessionAttrs(PgConnectParams* params, size_t dsn_position) {
  const std::string* value = FindKeyword(params->keywords, "target_session_attrs");
  if (value == nullptr) return absl::OkStatus();
  const std::string v = absl::AsciiStrToLower(*value);
  if (v.empty() || v == "any" || v == "read-write" || v == "primary") {
    // acquire() and with_retry() go to the primary by default.
    params->keywords.erase(
        std::find_if(params->keywords.begin(), params->keywords.end(),
                     [](const auto& kv) { return kv.first == "target_session_attrs"; }));
    return absl::OkStatus();
  }
  const std::string what = absl::StrCat(
      "target_session_attrs=",
      QuoteSettingValue(*value, IsHiddenKeyword(*params, "target_session_attrs")),
      ": the pool routes each acquire() by role itself and passes target_session_attrs=any to "
      "every connection; read-write and primary are what acquire() does by default, for replicas "
      "call acquire(Role::kReplica); drop the setting");
  if (dsn_position != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("dbpool: dsn: ", what, " at position ", dsn_position));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("dbpool: option(\"target_session_attrs\"): ", what));
}

}  // namespace

absl::StatusOr<PgConnectParams> BuildPgConnectParams(const ConnectSettings& settings) {
  PgConnectParams params;
  size_t target_session_attrs_at = absl::string_view::npos;  // in the DSN
  params.endpoints = settings.endpoints;
  for (Endpoint& e : params.endpoints) {
    if (absl::Status s = CheckEndpointHost(&e); !s.ok()) return s;
  }
  if (HoldsNul(settings.database)) return NulError("database()");
  if (HoldsNul(settings.user)) return NulError("user()");
  if (HoldsNul(settings.password)) return NulError("password()");
  if (!settings.dsn.empty()) {
    std::string dsn_hosts, dsn_hostaddrs, dsn_ports;
    const DsnReading reading = DsnReader(settings.dsn).Read();
    char* error = nullptr;
    std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> parsed(
        PQconninfoParse(settings.dsn.c_str(), &error), PQconninfoFree);
    if (parsed == nullptr) {
      const std::string message =
          DescribeDsnError(reading, error != nullptr ? error : "cannot parse");
      PQfreemem(error);
      return absl::InvalidArgumentError(message);
    }
    for (const DsnField& f : reading.fields) {
      if (f.tainted) params.tainted.insert(f.keyword);
      if (f.keyword == "target_session_attrs") target_session_attrs_at = f.key;
    }
    for (PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
      if (o->val == nullptr) continue;
      const absl::string_view key = o->keyword;
      if (key == "host") {
        dsn_hosts = o->val;
      } else if (key == "hostaddr") {
        dsn_hostaddrs = o->val;
      } else if (key == "port") {
        dsn_ports = o->val;
      } else {
        SetKeyword(&params.keywords, key, o->val);
      }
    }
    const bool by_name = !dsn_hosts.empty();
    absl::Status st = AddDsnEndpoints(by_name ? dsn_hosts : dsn_hostaddrs, dsn_ports,
                                      LastField(reading, by_name ? "host" : "hostaddr"),
                                      LastField(reading, "port"), &params.endpoints);
    if (!st.ok()) return st;
    if (reading.stray_at.has_value()) {
      // libpq reads it, but not as meant (other errors, found above, give a better position): part
      // of the password would become hosts, ports, the database or query values, and show
      // everywhere.
      return absl::InvalidArgumentError(absl::StrCat(
          "dbpool: dsn: an '@' that does not end the user info (a password holding an unencoded "
          "'@', ',', '/' or '?' does this; percent-encode them as %40, %2C, %2F and %3F, and any "
          "'@' after the user info as %40; text before the last '@' is not shown) at position ",
          *reading.stray_at));
    }
  }
  if (absl::Status s = CheckEndpointCount(params.endpoints.size()); !s.ok()) return s;
  // A value set here replaces the DSN's, and with it any doubt about it.
  auto set = [&params](absl::string_view key, absl::string_view value) {
    SetKeyword(&params.keywords, key, value);
    params.tainted.erase(std::string(key));
  };
  if (!settings.database.empty()) set("dbname", settings.database);
  if (!settings.user.empty()) set("user", settings.user);
  if (!settings.password.empty()) set("password", settings.password);
  for (const auto& [key, value] : settings.options) {
    if (key == "host" || key == "hostaddr" || key == "port") {
      return absl::InvalidArgumentError(
          absl::StrCat("dbpool: option(\"", key, "\"): give servers with endpoint() or dsn()"));
    }
    if (!KnownKeywords().contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dbpool: option(\"", key, "\"): not a libpq connection keyword (see PQconndefaults)"));
    }
    if (HoldsNul(value)) return NulError(absl::StrCat("option(\"", key, "\")"));
    set(key, value);
    if (key == "target_session_attrs") target_session_attrs_at = absl::string_view::npos;
  }
  if (absl::Status s = MapTargetSessionAttrs(&params, target_session_attrs_at); !s.ok()) return s;
  // A dead or blackholed server must not hold a caller until the kernel
  // gives up (hours): keepalives find a silent peer after about a minute
  // of silence, tcp_user_timeout unacknowledged data after 30 s. Given
  // values win.
  for (const auto& [key, value] : kTcpDefaults) {
    if (FindKeyword(params.keywords, key) == nullptr) SetKeyword(&params.keywords, key, value);
  }
  return params;
}

absl::Status CheckPgEnvironment(const PgConnectParams& params, bool require_tls) {
  const char* hostaddr = std::getenv("PGHOSTADDR");
  if (hostaddr != nullptr && hostaddr[0] != '\0') {
    return absl::InvalidArgumentError(
        "dbpool: the environment variable PGHOSTADDR is set: libpq would connect every endpoint "
        "to that one address, past the pool's routing and failover; unset it and give addresses "
        "as endpoints");
  }
  const char* service = std::getenv("PGSERVICE");
  const bool env_service = service != nullptr && service[0] != '\0';
  if (require_tls && env_service) {
    return absl::InvalidArgumentError(
        "dbpool: require_tls(): the environment variable PGSERVICE is set: a service file's "
        "settings would apply to every connection; unset it");
  }
  if (require_tls && FindKeyword(params.keywords, "service") != nullptr) {
    return absl::InvalidArgumentError(
        "dbpool: require_tls() conflicts with service= (from option() or the DSN): a service "
        "file's settings would apply to every connection; give the settings themselves");
  }
  if (env_service) {
    // PQconndefaults() reads the service file: a hostaddr there would
    // redirect every endpoint the way PGHOSTADDR does.
    std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> defaults(PQconndefaults(),
                                                                            PQconninfoFree);
    for (PQconninfoOption* o = defaults.get(); o != nullptr && o->keyword != nullptr; ++o) {
      if (absl::string_view(o->keyword) == "hostaddr" && o->val != nullptr && o->val[0] != '\0') {
        return absl::InvalidArgumentError(
            "dbpool: the service file that the environment variable PGSERVICE names sets "
            "hostaddr: libpq would connect every endpoint to that one address; unset PGSERVICE "
            "or drop hostaddr from the service");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace postgres_internal
}  // namespace dbpool
