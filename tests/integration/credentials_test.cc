// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Builder::credentials(): passwords rotated on the server while the pool
// serves, with no failed acquire and no restart; and secrets kept out of
// every error, log line, statistic and event.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "dbpool/metrics.h"
#include "harnesses.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

// A secret store whose current password can change: the provider reads it,
// the test rotates it together with the server's copy.
class RotatingSecret {
 public:
  explicit RotatingSecret(std::string user, std::string password)
      : user_(std::move(user)), password_(std::move(password)) {}

  CredentialsProvider Provider() {
    return [this](const Endpoint&) -> absl::StatusOr<Credentials> {
      absl::MutexLock lock(&mu_);
      ++calls_;
      return Credentials{user_, password_};
    };
  }

  // Runs `change_server` and switches to `password` while no provider call
  // can read the old one, as a secret manager's rotation does.
  template <typename ChangeServer>
  absl::Status Rotate(std::string password, ChangeServer change_server) {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = change_server(); !s.ok()) return s;
    password_ = std::move(password);
    calls_at_rotation_ = calls_;
    return absl::OkStatus();
  }

  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  int calls_since_rotation() const {
    absl::MutexLock lock(&mu_);
    return calls_ - calls_at_rotation_;
  }

 private:
  mutable absl::Mutex mu_;
  const std::string user_;
  std::string password_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int calls_at_rotation_ ABSL_GUARDED_BY(mu_) = 0;
};

// Everything a pool says: log lines, events, statistics (and their
// Prometheus rendering).
class Transcript : public PoolListener {
 public:
  LogSink Sink() {
    return [this](LogLevel, absl::string_view line) { Add(std::string(line)); };
  }
  void on_connect(const ConnectEvent& e) override {
    Add(absl::StrCat("connect ", e.endpoint, " ", e.status.ToString()));
  }
  void on_close(const CloseEvent& e) override { Add(absl::StrCat("close ", e.endpoint)); }
  void Add(std::string line) {
    absl::MutexLock lock(&mu_);
    lines_.push_back(std::move(line));
  }
  std::string Text() const {
    absl::MutexLock lock(&mu_);
    return absl::StrJoin(lines_, "\n");
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

// A login of the test's own, dropped at the end.
template <typename H>
class Login {
 public:
  Login(std::string user, const std::string& password) : user_(std::move(user)) {
    (void)admin_.Execute(H::DropLoginSql(user_));
    status_ = admin_.Execute(H::CreateLoginSql(user_, password));
  }
  ~Login() { (void)admin_.Execute(H::DropLoginSql(user_)); }
  const absl::Status& status() const { return status_; }
  const std::string& user() const { return user_; }
  absl::Status SetPassword(const std::string& password) {
    return admin_.Execute(H::SetPasswordSql(user_, password));
  }

 private:
  typename H::Admin admin_;
  std::string user_;
  absl::Status status_;
};

TEMPLATE_TEST_CASE(
    "a password rotated on the server is used by new connections, with no failed "
    "acquire and no restart",
    "[integration][credentials]", DBPOOL_HARNESSES) {
  using H = TestType;
  const std::string old_secret = "rotation-old-7f3a91";
  const std::string new_secret = "rotation-new-c42e08";
  Login<H> login(absl::StrCat("dbpool_rot_", ::getpid()), old_secret);
  REQUIRE(login.status().ok());
  RotatingSecret secret(login.user(), old_secret);
  auto transcript = std::make_shared<Transcript>();

  auto pool = H::Builder(UniqueTag("rotation"))
                  .password("")  // the provider supplies it
                  .credentials(secret.Provider())
                  .max_size(4)
                  .max_lifetime(absl::Milliseconds(300))  // keep opening connections
                  .acquire_timeout(absl::Seconds(10))
                  .listener(transcript)
                  .log_sink(transcript->Sink(), LogLevel::kDebug)
                  .build();
  REQUIRE(pool.ok());

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::string first_failure;
  absl::Mutex failure_mu;
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      while (!stop.load()) {
        auto lease = pool->acquire();
        absl::Status status = lease.status();
        if (lease.ok()) status = H::Query(lease->native(), "SELECT 1").status();
        if (status.ok()) {
          ok.fetch_add(1);
          continue;
        }
        failed.fetch_add(1);
        absl::MutexLock lock(&failure_mu);
        if (first_failure.empty()) first_failure = status.ToString();
      }
    });
  }
  // Serving with the old password, then rotate and keep serving until at
  // least five connections were opened with the new one.
  REQUIRE(Await([&] { return ok.load() >= 50 && secret.calls() >= 2; }));
  REQUIRE(secret.Rotate(new_secret, [&] { return login.SetPassword(new_secret); }).ok());
  const int ok_at_rotation = ok.load();
  // Up to max_size (4) connects may have authenticated with the old
  // password just before the change; every one after those used the new one.
  const uint64_t created_at_rotation = pool->stats().created;
  const bool reconnected =
      Await([&] { return pool->stats().created >= created_at_rotation + 4 + 5; });
  REQUIRE(Await([&] { return ok.load() >= ok_at_rotation + 50; }));
  stop.store(true);
  for (std::thread& t : workers) t.join();

  CHECK(reconnected);
  INFO("first failure: " << first_failure);
  INFO("provider calls: " << secret.calls() << " (" << secret.calls_since_rotation()
                          << " after the rotation); created: " << pool->stats().created << " ("
                          << created_at_rotation << " before the rotation)");
  CHECK(failed.load() == 0);
  const PoolStats stats = pool->stats();
  CHECK(stats.connect_failures == 0);
  CHECK(secret.calls_since_rotation() >= 5);

  // The old password is really gone: a pool still using it is refused.
  auto stale = H::Builder(UniqueTag("rotation_stale"))
                   .user(login.user())
                   .password(old_secret)
                   .acquire_timeout(absl::Seconds(5))
                   .build();
  REQUIRE(stale.ok());
  const absl::Status refused = stale->acquire().status();
  CHECK((refused.code() == absl::StatusCode::kUnauthenticated ||
         refused.code() == absl::StatusCode::kPermissionDenied));

  // No secret in anything the pools said.
  const std::string said = absl::StrCat(
      transcript->Text(), "\n", RenderPrometheus(stats, "rotation"), "\n", stats.last_connect_error,
      "\n", refused.ToString(), "\n", stale->stats().last_connect_error);
  CHECK_THAT(said, !Catch::Contains(old_secret) && !Catch::Contains(new_secret));
  CHECK_THAT(said, Catch::Contains("connect"));  // the transcript is not empty
}

TEMPLATE_TEST_CASE("a credentials provider's error fails the connect with its code",
                   "[integration][credentials]", DBPOOL_HARNESSES) {
  using H = TestType;
  std::atomic<int> calls{0};
  auto pool = H::Builder(UniqueTag("provider_error"))
                  .credentials([&](const Endpoint& endpoint) -> absl::StatusOr<Credentials> {
                    calls.fetch_add(1);
                    CHECK(endpoint.port == H::Port());
                    return absl::UnauthenticatedError("token service says no");
                  })
                  .acquire_timeout(absl::Seconds(5))
                  .build();
  REQUIRE(pool.ok());
  const absl::Status status = pool->acquire().status();
  CHECK(status.code() == absl::StatusCode::kUnauthenticated);
  CHECK_THAT(std::string(status.message()),
             Catch::Contains("credentials provider: token service says no"));
  CHECK(calls.load() >= 1);
}

TEMPLATE_TEST_CASE("a wrong password from the provider is refused and never shown",
                   "[integration][credentials]", DBPOOL_HARNESSES) {
  using H = TestType;
  const std::string wrong = "provider-wrong-5be1d3";
  auto transcript = std::make_shared<Transcript>();
  auto pool = H::Builder(UniqueTag("provider_wrong"))
                  .credentials([&](const Endpoint&) -> absl::StatusOr<Credentials> {
                    return Credentials{"", wrong};  // the builder's user
                  })
                  .acquire_timeout(absl::Seconds(5))
                  .listener(transcript)
                  .log_sink(transcript->Sink(), LogLevel::kDebug)
                  .build();
  REQUIRE(pool.ok());
  const absl::Status status = pool->acquire().status();
  CHECK((status.code() == absl::StatusCode::kUnauthenticated ||
         status.code() == absl::StatusCode::kPermissionDenied));
  const std::string said = absl::StrCat(status.ToString(), "\n", transcript->Text(), "\n",
                                        RenderPrometheus(pool->stats(), "wrong"));
  CHECK_THAT(said, !Catch::Contains(wrong));
  CHECK_THAT(said, Catch::Contains("connect"));
}

TEMPLATE_TEST_CASE("warm_up with a wrong password fails at once with the server's refusal",
                   "[integration][credentials][warm_up]", DBPOOL_HARNESSES) {
  // A start-up check for a readiness probe: the real error, naming the
  // endpoint, well before the timeout, and never the password.
  using H = TestType;
  const std::string wrong = "warm-up-wrong-91c2e4";
  auto pool = H::Builder(UniqueTag("warm_up_wrong"))
                  .password(wrong)
                  .acquire_timeout(absl::Seconds(30))
                  .build();
  REQUIRE(pool.ok());
  const absl::Time start = absl::Now();
  const absl::Status status = pool->warm_up(absl::Seconds(20));
  CHECK(absl::Now() - start < absl::Seconds(10));
  CHECK((status.code() == absl::StatusCode::kUnauthenticated ||
         status.code() == absl::StatusCode::kPermissionDenied));
  const std::string message(status.message());
  CHECK_THAT(message, Catch::Contains(absl::StrCat(H::Host(), ":", H::Port())));
  CHECK_THAT(message, Catch::Contains("warm_up"));
  CHECK_THAT(status.ToString(), !Catch::Contains(wrong));
  CHECK(pool->stats().total == 0);
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
