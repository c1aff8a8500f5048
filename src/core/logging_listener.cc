// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "core/logging_listener.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/user_code.h"

namespace dbpool {

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

namespace internal {
namespace {

class LoggingListener final : public PoolListener {
 public:
  LoggingListener(absl::string_view pool_name, LogSink sink, LogLevel level,
                  std::shared_ptr<PoolListener> next)
      : prefix_(absl::StrCat("dbpool[", pool_name, "]: ")),
        sink_(std::move(sink)),
        level_(level),
        next_(std::move(next)) {}

  void on_connect(const ConnectEvent& e) override {
    if (e.status.ok()) {
      Log(LogLevel::kInfo,
          absl::StrCat("connected to ", e.endpoint, " in ", absl::FormatDuration(e.took)));
    } else {
      Log(LogLevel::kWarning,
          absl::StrCat("connect to ", e.endpoint, " failed after ", absl::FormatDuration(e.took),
                       ": ", e.status.ToString()));
    }
    if (next_) next_->on_connect(e);
  }
  void on_acquire(const AcquireEvent& e) override {
    Log(LogLevel::kDebug, absl::StrCat("acquired a connection to ", e.endpoint, " after ",
                                       absl::FormatDuration(e.waited)));
    if (next_) next_->on_acquire(e);
  }
  void on_release(const ReleaseEvent& e) override {
    Log(LogLevel::kDebug, absl::StrCat("released a connection to ", e.endpoint, " held ",
                                       absl::FormatDuration(e.held)));
    if (next_) next_->on_release(e);
  }
  void on_close(const CloseEvent& e) override {
    const bool bad = e.cause == CloseCause::kBroken || e.cause == CloseCause::kValidationFailed ||
                     e.cause == CloseCause::kEvicted;
    Log(bad ? LogLevel::kWarning : LogLevel::kInfo,
        absl::StrCat("closed a connection to ", e.endpoint, " (", CloseCauseName(e.cause), ")"));
    if (next_) next_->on_close(e);
  }
  void on_failover(const FailoverEvent& e) override {
    if (e.split_brain) {
      Log(LogLevel::kWarning,
          absl::StrCat("split brain: ", absl::StrJoin(e.writable, " and "),
                       " are writable on the same or an unknown timeline; writes fail closed"));
      if (next_) next_->on_failover(e);
      return;
    }
    Log(LogLevel::kWarning, absl::StrCat("primary moved from ", e.from.empty() ? "(none)" : e.from,
                                         " to ", e.to.empty() ? "(none)" : e.to,
                                         "; detection took ", absl::FormatDuration(e.detection)));
    if (next_) next_->on_failover(e);
  }
  void on_leak(const LeakEvent& e) override {
    Log(LogLevel::kWarning,
        absl::StrCat("a connection to ", e.endpoint, " acquired at ", e.file, ":", e.line,
                     " has been held for ", absl::FormatDuration(e.held)));
    if (next_) next_->on_leak(e);
  }

 private:
  void Log(LogLevel level, absl::string_view line) {
    if (level < level_) return;
    const std::string text = absl::StrCat(prefix_, line);
    // A sink that throws loses its line; the next listener still runs.
    CallUserCode([&] { sink_(level, text); });
  }

  const std::string prefix_;
  const LogSink sink_;
  const LogLevel level_;
  const std::shared_ptr<PoolListener> next_;
};

}  // namespace

std::shared_ptr<PoolListener> MakeLoggingListener(absl::string_view pool_name, LogSink sink,
                                                  LogLevel level,
                                                  std::shared_ptr<PoolListener> next) {
  return std::make_shared<LoggingListener>(pool_name, std::move(sink), level, std::move(next));
}

}  // namespace internal
}  // namespace dbpool
