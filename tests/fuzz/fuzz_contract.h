// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// What every dbpool fuzz target checks, and the small helpers they share.
//
// The contract: the settings parsers never crash or hang (libFuzzer's
// -timeout catches hangs), every error is kInvalidArgument starting with
// "dbpool: ", DSN syntax errors give the position of the problem, option
// errors name the key, and a password never appears in a message. A
// violation prints the input and the status and aborts, which libFuzzer
// reports as a crash and saves as a reproducer.
#ifndef DBPOOL_TESTS_FUZZ_FUZZ_CONTRACT_H_
#define DBPOOL_TESTS_FUZZ_FUZZ_CONTRACT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace dbpool_fuzz {

// The secret the targets put into passwords. Letters and digits only, so it
// needs no escaping anywhere; inputs that could spell it on their own (in
// any case, raw or percent-encoded) are skipped, so finding it in a message
// means the password leaked.
inline constexpr absl::string_view kSecret = "Qzx7Sekr3tJw";

// The input, printable: C escapes for everything but ASCII graphics.
inline std::string Printable(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrCat("\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// Reports a broken contract and aborts (libFuzzer saves the input).
[[noreturn]] inline void Fail(absl::string_view what, absl::string_view input,
                              const absl::Status& status) {
  std::fprintf(stderr, "\ndbpool fuzz contract broken: %s\n  input:  \"%s\"\n  status: %s\n",
               std::string(what).c_str(), Printable(input).c_str(),
               Printable(status.ToString()).c_str());
  std::abort();
}

// Percent-decodes what decodes and keeps the rest as it is.
inline std::string LooseDecode(absl::string_view text) {
  auto hex = [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c))
               ? c - '0'
               : absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Whether `text` holds the secret, in any case.
inline bool HoldsSecret(absl::string_view text) {
  return absl::StrContains(absl::AsciiStrToLower(text), absl::AsciiStrToLower(kSecret));
}

// Whether fuzzed text could spell the secret by itself, raw or decoded
// (twice, for "%2551"-style double encoding), with or without the bytes a
// parser may drop.
inline bool CouldSpellSecret(absl::string_view text) {
  // Also with the bytes a parser may drop removed: libpq's key=value
  // backslash escapes ("sek\\r3t" reads "sekr3t") and NUL.
  std::string squeezed;
  for (char c : text) {
    if (c != '\\' && c != '\0') squeezed.push_back(c);
  }
  for (absl::string_view t : {text, absl::string_view(squeezed)}) {
    const std::string once = LooseDecode(t);
    if (HoldsSecret(t) || HoldsSecret(once) || HoldsSecret(LooseDecode(once))) return true;
  }
  return false;
}

// Every byte outside RFC 3986's unreserved set as %XX: text that a URI
// parser must take as data, whatever it holds.
inline std::string PercentEncodeAll(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrCat("%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// `text` inside single quotes, as libpq's key=value syntax reads it.
inline std::string QuoteForLibpq(absl::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\0') continue;  // a C string ends there: no password holds one
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// Splits the input at its first `n - 1` newlines: n pieces, the last one
// holding the rest (newlines included). Missing pieces are empty.
inline std::vector<absl::string_view> SplitFields(absl::string_view input, size_t n) {
  std::vector<absl::string_view> out;
  while (out.size() + 1 < n) {
    const size_t nl = input.find('\n');
    if (nl == absl::string_view::npos) break;
    out.push_back(input.substr(0, nl));
    input.remove_prefix(nl + 1);
  }
  out.push_back(input);
  while (out.size() < n) out.push_back(absl::string_view());
  return out;
}

// The N of the last " at position N" in `message`, or -1.
inline long PositionIn(absl::string_view message) {
  constexpr absl::string_view kAt = " at position ";
  const size_t at = message.rfind(kAt);
  if (at == absl::string_view::npos) return -1;
  absl::string_view digits = message.substr(at + kAt.size());
  size_t n = 0;
  while (n < digits.size() && absl::ascii_isdigit(static_cast<unsigned char>(digits[n]))) ++n;
  long value = -1;
  if (n == 0 || !absl::SimpleAtoi(digits.substr(0, n), &value)) return -1;
  return value;
}

// Checks the parts of the contract every error shares: kInvalidArgument,
// "dbpool: " first, no secret.
inline void CheckCommon(const absl::Status& status, absl::string_view input) {
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    Fail("the error is not kInvalidArgument", input, status);
  }
  if (!absl::StartsWith(status.message(), "dbpool: ")) {
    Fail("the message does not start with \"dbpool: \"", input, status);
  }
  if (HoldsSecret(status.message())) Fail("the message shows the password", input, status);
}

// Checks a PostgreSQL DSN error (pg_conninfo.h): "dbpool: dsn: " first and
// the position of the problem inside the DSN, the host and port lists that
// dbpool splits itself included. dbpool reads the DSN the way libpq does to
// find that position; with the libpq the fuzzers are built against, the two
// readings must agree (pg_conninfo.cc falls back to a message of its own,
// at a position it guesses, when they do not).
inline void CheckPgDsnError(const absl::Status& status, absl::string_view dsn,
                            absl::string_view input) {
  const absl::string_view message = status.message();
  // Not a syntax error: too many hosts (dbpool::kMaxEndpoints).
  if (absl::StartsWith(message, "dbpool: ") &&
      absl::StrContains(message, " endpoints (from endpoint() and the DSN); at most ")) {
    return;
  }
  if (!absl::StartsWith(message, "dbpool: dsn: ")) {
    Fail("a DSN error does not start with \"dbpool: dsn: \"", input, status);
  }
  if (absl::StartsWith(message, "dbpool: dsn: libpq cannot parse it")) {
    Fail("dbpool reads the DSN otherwise than libpq", input, status);
  }
  const long position = PositionIn(message);
  if (position < 0 || static_cast<size_t>(position) > dsn.size()) {
    Fail("a DSN error gives no position inside the DSN", input, status);
  }
}

}  // namespace dbpool_fuzz

#endif  // DBPOOL_TESTS_FUZZ_FUZZ_CONTRACT_H_
