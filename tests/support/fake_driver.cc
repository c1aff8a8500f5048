// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "fake_driver.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "dbpool/outcome.h"

namespace dbpool {
namespace testing {
namespace {

absl::Mutex registry_mu;
absl::flat_hash_map<std::string, std::weak_ptr<FakeServer>>& Registry() {
  static auto* registry = new absl::flat_hash_map<std::string, std::weak_ptr<FakeServer>>;
  return *registry;
}

}  // namespace

class FakeConnection final : public DriverConnection {
 public:
  FakeConnection(std::shared_ptr<FakeServer> server, int id, int generation)
      : server_(std::move(server)), generation_(generation) {
    conn_.id = id;
    conn_.generation = generation;
    conn_.server = server_.get();
  }
  ~FakeConnection() override {
    FakeServer& s = *server_;
    absl::MutexLock lock(&s.mu_);
    ++s.closing_;
    auto unblocked = [&s]() ABSL_SHARED_LOCKS_REQUIRED(s.mu_) { return !s.closes_blocked_; };
    s.mu_.Await(absl::Condition(&unblocked));
    --s.closing_;
    --s.open_;
  }

  void set_endpoint(std::string endpoint) { endpoint_ = std::move(endpoint); }

  void* native_handle() override { return &conn_; }

  SessionState session_state() override {
    const SessionState state = interrupted_ || conn_.lost ? SessionState::kBroken
                               : conn_.busy               ? SessionState::kBusy
                               : conn_.in_transaction     ? SessionState::kInTransaction
                                                          : SessionState::kIdle;
    // Without a hook (the usual case) no lock: the micro-benchmarks count
    // the pool's instructions, and this is on its release path.
    if (server_->has_session_state_hook_.load(std::memory_order_acquire)) {
      std::function<void()> hook;
      {
        absl::MutexLock lock(&server_->mu_);
        hook = server_->session_state_hook_;
      }
      if (hook) hook();
    }
    return state;
  }

  absl::Status ping(absl::Time deadline) override {
    ++conn_.pings;
    if (!server_->StallIfAsked(FakeOp::kPing, conn_.id, deadline, &interrupted_)) {
      return absl::DeadlineExceededError("fake: ping timed out");
    }
    return Answer();
  }

  absl::Status execute(absl::string_view sql, absl::Time) override {
    if (sql == "FAIL") return absl::InvalidArgumentError("fake: statement failed");
    return Answer();
  }

  absl::Status rollback(absl::Time deadline) override {
    if (!server_->StallIfAsked(FakeOp::kRollback, conn_.id, deadline, &interrupted_)) {
      return absl::DeadlineExceededError("fake: rollback timed out");
    }
    if (ResetFails()) return absl::UnavailableError("fake: rollback failed");
    EndTransaction(/*committed=*/false);
    ++conn_.rollbacks;
    return absl::OkStatus();
  }

  absl::Status begin(absl::Time) override {
    if (Gone()) return WithOutcome(absl::UnavailableError("fake: not sent"), Outcome::kNotApplied);
    conn_.in_transaction = true;
    conn_.txn = 0;
    conn_.pending_writes = 0;
    return absl::OkStatus();
  }

  absl::Status commit(absl::Time) override {
    if (Gone()) return WithOutcome(absl::UnavailableError("fake: not sent"), Outcome::kNotApplied);
    FakeServer& s = *server_;
    bool lose = false;
    bool apply = true;
    bool error_after_apply = false;
    {
      absl::MutexLock lock(&s.mu_);
      if (s.fail_commits_after_apply_ > 0) {
        --s.fail_commits_after_apply_;
        error_after_apply = true;
      } else if (s.lose_commit_replies_ > 0) {
        --s.lose_commit_replies_;
        lose = true;
        apply = s.lost_commits_apply_;
      }
    }
    EndTransaction(apply);
    if (error_after_apply) {
      conn_.lost = true;
      return WithOutcome(
          absl::UnavailableError("fake: terminating connection due to administrator command"),
          Outcome::kNotApplied);
    }
    if (!lose) return absl::OkStatus();
    conn_.lost = true;
    return MarkOutcomeUnknown(absl::UnavailableError("fake: connection lost awaiting COMMIT"));
  }

  absl::StatusOr<std::optional<std::string>> current_txn_id(absl::Time) override {
    if (Gone()) return WithOutcome(absl::UnavailableError("fake: not sent"), Outcome::kNotApplied);
    const int64_t id = conn_.txn;
    if (id == 0) return std::optional<std::string>();
    return std::optional<std::string>(absl::StrCat(id));
  }

  absl::StatusOr<TxnResolution> resolve_txn(const std::string& id, absl::Time) override {
    if (Gone()) return WithOutcome(absl::UnavailableError("fake: not sent"), Outcome::kNotApplied);
    int64_t txn = 0;
    if (!absl::SimpleAtoi(id, &txn)) return absl::InvalidArgumentError("fake: bad id");
    FakeServer& s = *server_;
    absl::MutexLock lock(&s.mu_);
    ++s.resolutions_;
    TxnResolution r;
    if (s.answer_in_progress_ > 0) {
      --s.answer_in_progress_;
      r.status = TxnStatus::kInProgress;
      return r;
    }
    auto it = s.txn_committed_.find(txn);
    if (s.answer_unknown_ > 0 || it == s.txn_committed_.end()) {
      if (s.answer_unknown_ > 0) --s.answer_unknown_;
      r.detail = "fake: no such transaction";
    } else {
      r.status = it->second ? TxnStatus::kCommitted : TxnStatus::kAborted;
    }
    return r;
  }

  absl::Status full_reset(absl::Time deadline) override {
    if (!server_->StallIfAsked(FakeOp::kFullReset, conn_.id, deadline, &interrupted_)) {
      return absl::DeadlineExceededError("fake: reset timed out");
    }
    if (ResetFails()) return absl::UnavailableError("fake: reset failed");
    conn_.session_dirty = false;
    ++conn_.full_resets;
    return absl::OkStatus();
  }

  absl::StatusOr<Role> probe_role(absl::Time deadline) override {
    if (absl::Status alive = ping(deadline); !alive.ok()) return alive;
    return Role::kPrimary;
  }

  // The endpoint's scripted answer (FakeServer::set_probe()); like a ping,
  // it fails once the server is gone or while pings fail.
  absl::StatusOr<ProbeResult> probe(absl::Time deadline) override {
    if (!server_->StallIfAsked(FakeOp::kProbe, conn_.id, deadline, &interrupted_)) {
      return absl::DeadlineExceededError("fake: probe timed out");
    }
    FakeServer& s = *server_;
    absl::MutexLock lock(&s.mu_);
    FakeServer::ProbeScript& script = s.probes_[endpoint_];
    auto unblocked = [this, &script]() { return !script.blocked || interrupted_.load(); };
    ++script.waiting;
    const bool answered = s.mu_.AwaitWithDeadline(absl::Condition(&unblocked), deadline);
    --script.waiting;
    if (!answered) return absl::DeadlineExceededError("fake: probe timed out");
    if (s.ping_fails_ || s.generation_ != generation_ || interrupted_) {
      return absl::UnavailableError("fake: connection lost");
    }
    if (conn_.id <= script.stale_up_to) return script.stale;
    if (script.result.ok()) ++script.good;
    return script.result;
  }

  void interrupt() override {
    absl::MutexLock lock(&server_->mu_);  // wakes a stalled call (StallIfAsked)
    interrupted_ = true;
  }

 private:
  bool Gone() { return interrupted_ || conn_.lost || !conn_.Query().ok(); }

  void EndTransaction(bool committed) {
    FakeServer& s = *server_;
    absl::MutexLock lock(&s.mu_);
    if (conn_.txn != 0) s.txn_committed_[conn_.txn] = committed;
    if (committed && conn_.in_transaction) {
      s.applied_ += conn_.pending_writes;
      ++s.commits_;
    }
    conn_.in_transaction = false;
    conn_.txn = 0;
    conn_.pending_writes = 0;
  }

  // What a round trip sees: OK, or kUnavailable once the server is gone.
  absl::Status Answer() {
    bool fails;
    {
      absl::MutexLock lock(&server_->mu_);
      fails = server_->ping_fails_ || server_->generation_ != generation_;
    }
    if (fails || interrupted_) return absl::UnavailableError("fake: connection lost");
    return absl::OkStatus();
  }

  bool ResetFails() const {
    absl::MutexLock lock(&server_->mu_);
    return server_->reset_fails_ || server_->generation_ != generation_;
  }

  std::shared_ptr<FakeServer> server_;
  const int generation_;
  std::string endpoint_;  // "host:port", for the per-endpoint probe script
  FakeConn conn_;
  std::atomic<bool> interrupted_{false};
};

absl::Status FakeConn::Query() {
  absl::MutexLock lock(&server->mu_);
  if (server->generation_ != generation) return absl::UnavailableError("fake: connection killed");
  return absl::OkStatus();
}

absl::Status FakeConn::Write() {
  if (lost) return WithOutcome(absl::UnavailableError("fake: not sent"), Outcome::kNotApplied);
  absl::MutexLock lock(&server->mu_);
  if (server->generation_ != generation) {
    return WithOutcome(absl::UnavailableError("fake: connection killed"), Outcome::kNotApplied);
  }
  if (server->fail_writes_ > 0) {
    --server->fail_writes_;
    return WithOutcome(server->write_error_, Outcome::kNotApplied);
  }
  if (in_transaction) {
    if (txn == 0) txn = server->next_txn_++;
    ++pending_writes;
    return absl::OkStatus();
  }
  ++server->applied_;
  if (server->lose_write_replies_ > 0) {
    --server->lose_write_replies_;
    lost = true;
    return MarkOutcomeUnknown(absl::UnavailableError("fake: connection lost awaiting the reply"));
  }
  return absl::OkStatus();
}

class FakeDriverImpl final : public Driver {
 public:
  FakeDriverImpl(std::shared_ptr<FakeServer> server, CredentialsProvider credentials)
      : server_(std::move(server)), credentials_(std::move(credentials)) {}
  absl::string_view name() const override { return "fake"; }

  absl::StatusOr<std::unique_ptr<DriverConnection>> connect(const Endpoint& endpoint,
                                                            absl::Time deadline) override {
    return Connect(endpoint, deadline, nullptr);
  }

  absl::StatusOr<std::unique_ptr<DriverConnection>> connect_abortable(
      const Endpoint& endpoint, absl::Time deadline, const ConnectAbort& abort) override {
    return Connect(endpoint, deadline, &abort);
  }

 private:
  // A blocked connect looks at `abort` (may be null) every kAbortCheck, as
  // a real driver polling its socket and the signal's fd() would notice it.
  static constexpr absl::Duration kAbortCheck = absl::Milliseconds(5);

  absl::StatusOr<std::unique_ptr<DriverConnection>> Connect(const Endpoint& endpoint,
                                                            absl::Time deadline,
                                                            const ConnectAbort* abort) {
    const std::string context = absl::StrCat("fake: connect to ", endpoint.ToString());
    if (abort != nullptr && abort->fired()) return ConnectAbandonedError(context);
    if (credentials_) {
      absl::StatusOr<Credentials> used = credentials_.Resolve(endpoint, Credentials{}, deadline);
      if (!used.ok()) {
        absl::MutexLock lock(&server_->mu_);
        ++server_->attempts_;
        return used.status();
      }
    }
    FakeServer& s = *server_;
    absl::MutexLock lock(&s.mu_);
    ++s.attempts_;
    auto unblocked = [&s]() ABSL_SHARED_LOCKS_REQUIRED(s.mu_) { return !s.connects_blocked_; };
    for (;;) {
      const absl::Time until =
          abort != nullptr ? std::min(deadline, absl::Now() + kAbortCheck) : deadline;
      if (s.mu_.AwaitWithDeadline(absl::Condition(&unblocked), until)) break;
      if (abort != nullptr && abort->fired()) return ConnectAbandonedError(context);
      if (absl::Now() >= deadline)
        return absl::UnavailableError(absl::StrCat(context, " timed out"));
    }
    if (!s.connect_error_.ok()) return s.connect_error_;
    ++s.connects_;
    ++s.open_;
    s.max_open_ = std::max(s.max_open_, s.open_);
    auto conn = std::make_unique<FakeConnection>(server_, s.connects_, s.generation_);
    conn->set_endpoint(endpoint.ToString());
    return std::unique_ptr<DriverConnection>(std::move(conn));
  }

  std::shared_ptr<FakeServer> server_;
  const BoundedCredentialsProvider credentials_;
};

std::shared_ptr<FakeServer> FakeServer::Create() {
  static std::atomic<int> next{1};
  std::shared_ptr<FakeServer> server(new FakeServer);
  server->dsn_ = absl::StrCat("fake://server-", next.fetch_add(1));
  absl::MutexLock lock(&registry_mu);
  Registry()[server->dsn_] = server;
  return server;
}

FakeServer::~FakeServer() {
  absl::MutexLock lock(&registry_mu);
  Registry().erase(dsn_);
}

void FakeServer::set_connect_error(absl::Status status) {
  absl::MutexLock lock(&mu_);
  connect_error_ = std::move(status);
}
void FakeServer::block_closes() {
  absl::MutexLock lock(&mu_);
  closes_blocked_ = true;
}
void FakeServer::unblock_closes() {
  absl::MutexLock lock(&mu_);
  closes_blocked_ = false;
}
int FakeServer::closing_connections() const {
  absl::MutexLock lock(&mu_);
  return closing_;
}

void FakeServer::block_connects() {
  absl::MutexLock lock(&mu_);
  connects_blocked_ = true;
}
void FakeServer::unblock_connects() {
  absl::MutexLock lock(&mu_);
  connects_blocked_ = false;
}
void FakeServer::set_ping_fails(bool fails) {
  absl::MutexLock lock(&mu_);
  ping_fails_ = fails;
}
void FakeServer::set_reset_fails(bool fails) {
  absl::MutexLock lock(&mu_);
  reset_fails_ = fails;
}
void FakeServer::kill_all() {
  absl::MutexLock lock(&mu_);
  ++generation_;
}
void FakeServer::fail_next_writes(int n, absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_writes_ = n;
  write_error_ = std::move(status);
}
void FakeServer::lose_next_write_replies(int n) {
  absl::MutexLock lock(&mu_);
  lose_write_replies_ = n;
}
void FakeServer::lose_next_commit_replies(int n, bool applied) {
  absl::MutexLock lock(&mu_);
  lose_commit_replies_ = n;
  lost_commits_apply_ = applied;
}
void FakeServer::fail_next_commits_after_apply(int n) {
  absl::MutexLock lock(&mu_);
  fail_commits_after_apply_ = n;
}
void FakeServer::answer_in_progress(int n) {
  absl::MutexLock lock(&mu_);
  answer_in_progress_ = n;
}
void FakeServer::answer_unknown(int n) {
  absl::MutexLock lock(&mu_);
  answer_unknown_ = n;
}
int FakeServer::applied() const {
  absl::MutexLock lock(&mu_);
  return applied_;
}
int FakeServer::commits() const {
  absl::MutexLock lock(&mu_);
  return commits_;
}
int FakeServer::resolutions() const {
  absl::MutexLock lock(&mu_);
  return resolutions_;
}
void FakeServer::stall(FakeOp op, Stall how) {
  absl::MutexLock lock(&mu_);
  stall_all_[static_cast<int>(op)] = how;
}
void FakeServer::stall(FakeOp op, int conn_id, Stall how) {
  absl::MutexLock lock(&mu_);
  stall_one_[static_cast<int>(op)][conn_id] = how;
}
int FakeServer::stalled_calls() const {
  absl::MutexLock lock(&mu_);
  return stalled_;
}
void FakeServer::set_session_state_hook(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  has_session_state_hook_.store(hook != nullptr, std::memory_order_release);
  session_state_hook_ = std::move(hook);
}
Stall FakeServer::StallFor(FakeOp op, int conn_id) const {
  const auto& one = stall_one_[static_cast<int>(op)];
  auto it = one.find(conn_id);
  return it != one.end() ? it->second : stall_all_[static_cast<int>(op)];
}
bool FakeServer::StallIfAsked(FakeOp op, int conn_id, absl::Time deadline,
                              const std::atomic<bool>* interrupted) {
  absl::MutexLock lock(&mu_);
  const Stall how = StallFor(op, conn_id);
  if (how == Stall::kNone) return true;
  ++stalled_;
  auto released = [this, op, conn_id, how]()
                      ABSL_SHARED_LOCKS_REQUIRED(mu_) { return StallFor(op, conn_id) != how; };
  // A stalled socket also ends when the connection is shut down.
  auto released_or_shut = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return released() || interrupted->load(std::memory_order_relaxed);
  };
  bool in_time = true;
  if (how == Stall::kIgnoringDeadline) {
    mu_.Await(absl::Condition(&released));
  } else {
    in_time = mu_.AwaitWithDeadline(absl::Condition(&released_or_shut), deadline) &&
              !interrupted->load(std::memory_order_relaxed);
  }
  --stalled_;
  return in_time;
}
void FakeServer::set_probe(const Endpoint& endpoint, absl::StatusOr<ProbeResult> result) {
  absl::MutexLock lock(&mu_);
  probes_[endpoint.ToString()].result = std::move(result);
}
void FakeServer::block_probes(const Endpoint& endpoint) {
  absl::MutexLock lock(&mu_);
  probes_[endpoint.ToString()].blocked = true;
}
void FakeServer::unblock_probes(const Endpoint& endpoint) {
  absl::MutexLock lock(&mu_);
  probes_[endpoint.ToString()].blocked = false;
}
int FakeServer::demote_open_connections(const Endpoint& endpoint, ProbeResult stale) {
  absl::MutexLock lock(&mu_);
  ProbeScript& script = probes_[endpoint.ToString()];
  script.stale_up_to = connects_;
  script.stale = stale;
  return connects_;
}
int FakeServer::good_probes(const Endpoint& endpoint) const {
  absl::MutexLock lock(&mu_);
  auto it = probes_.find(endpoint.ToString());
  return it == probes_.end() ? 0 : it->second.good;
}

int FakeServer::blocked_probes(const Endpoint& endpoint) const {
  absl::MutexLock lock(&mu_);
  auto it = probes_.find(endpoint.ToString());
  return it == probes_.end() ? 0 : it->second.waiting;
}

int FakeServer::open_connections() const {
  absl::MutexLock lock(&mu_);
  return open_;
}
int FakeServer::max_open_connections() const {
  absl::MutexLock lock(&mu_);
  return max_open_;
}
int FakeServer::connects() const {
  absl::MutexLock lock(&mu_);
  return connects_;
}
int FakeServer::connect_attempts() const {
  absl::MutexLock lock(&mu_);
  return attempts_;
}

absl::StatusOr<DriverSetup> FakeSetup(const FakeServer& server) {
  ConnectSettings settings;
  settings.dsn = server.dsn();
  return Fake::make_driver(settings);
}

absl::StatusOr<DriverSetup> Fake::make_driver(const ConnectSettings& settings) {
  std::shared_ptr<FakeServer> server;
  {
    absl::MutexLock lock(&registry_mu);
    auto it = Registry().find(settings.dsn);
    if (it != Registry().end()) server = it->second.lock();
  }
  if (server == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("fake: dsn \"", settings.dsn, "\" names no FakeServer"));
  }
  DriverSetup setup;
  setup.endpoints = settings.endpoints;
  if (setup.endpoints.empty()) setup.endpoints.push_back(Endpoint{"fake", 1});
  setup.driver = std::make_shared<FakeDriverImpl>(std::move(server), settings.credentials);
  return setup;
}

}  // namespace testing
}  // namespace dbpool
