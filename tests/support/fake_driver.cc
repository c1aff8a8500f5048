// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "fake_driver.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

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
    if (interrupted_) return SessionState::kBroken;
    if (conn_.busy) return SessionState::kBusy;
    if (conn_.in_transaction) return SessionState::kInTransaction;
    return SessionState::kIdle;
  }

  absl::Status ping(absl::Time) override {
    ++conn_.pings;
    bool fails;
    {
      absl::MutexLock lock(&server_->mu_);
      fails = server_->ping_fails_ || server_->generation_ != generation_;
    }
    if (fails || interrupted_) return absl::UnavailableError("fake: connection lost");
    return absl::OkStatus();
  }

  absl::Status execute(absl::string_view sql, absl::Time deadline) override {
    if (sql == "FAIL") return absl::InvalidArgumentError("fake: statement failed");
    return ping(deadline);
  }

  absl::Status rollback(absl::Time) override {
    if (ResetFails()) return absl::UnavailableError("fake: rollback failed");
    conn_.in_transaction = false;
    ++conn_.rollbacks;
    return absl::OkStatus();
  }

  absl::Status full_reset(absl::Time) override {
    if (ResetFails()) return absl::UnavailableError("fake: reset failed");
    conn_.session_dirty = false;
    ++conn_.full_resets;
    return absl::OkStatus();
  }

  absl::StatusOr<Role> probe_role(absl::Time) override { return Role::kPrimary; }

  absl::StatusOr<ProbeResult> probe(absl::Time deadline) override {
    FakeServer& s = *server_;
    absl::MutexLock lock(&s.mu_);
    FakeServer::ProbeScript& script = s.probes_[endpoint_];
    auto unblocked = [&script]() { return !script.blocked; };
    if (!s.mu_.AwaitWithDeadline(absl::Condition(&unblocked), deadline)) {
      return absl::DeadlineExceededError("fake: probe timed out");
    }
    if (s.generation_ != generation_ || interrupted_) {
      return absl::UnavailableError("fake: connection lost");
    }
    if (conn_.id <= script.stale_up_to) return script.stale;
    if (script.result.ok()) ++script.good;
    return script.result;
  }

  void interrupt() override { interrupted_ = true; }

 private:
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

class FakeDriverImpl final : public Driver {
 public:
  explicit FakeDriverImpl(std::shared_ptr<FakeServer> server) : server_(std::move(server)) {}
  absl::string_view name() const override { return "fake"; }

  absl::StatusOr<std::unique_ptr<DriverConnection>> connect(const Endpoint& endpoint,
                                                            absl::Time deadline) override {
    FakeServer& s = *server_;
    absl::MutexLock lock(&s.mu_);
    ++s.attempts_;
    auto unblocked = [&s]() ABSL_SHARED_LOCKS_REQUIRED(s.mu_) { return !s.connects_blocked_; };
    if (!s.mu_.AwaitWithDeadline(absl::Condition(&unblocked), deadline)) {
      return absl::UnavailableError(
          absl::StrCat("fake: connect to ", endpoint.ToString(), " timed out"));
    }
    if (!s.connect_error_.ok()) return s.connect_error_;
    ++s.connects_;
    ++s.open_;
    s.max_open_ = std::max(s.max_open_, s.open_);
    auto conn = std::make_unique<FakeConnection>(server_, s.connects_, s.generation_);
    conn->set_endpoint(endpoint.ToString());
    return std::unique_ptr<DriverConnection>(std::move(conn));
  }

 private:
  std::shared_ptr<FakeServer> server_;
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
  setup.driver = std::make_shared<FakeDriverImpl>(std::move(server));
  return setup;
}

}  // namespace testing
}  // namespace dbpool
