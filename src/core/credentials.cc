// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Calling the application's credentials provider: its errors and exceptions
// made statuses, its calls bounded by the connect's deadline, and the retry
// of a connect that raced a rotation.
#include "dbpool/credentials.h"

#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/clock.h"
#include "core/user_code.h"
#include "core/wait_until.h"
#include "dbpool/driver.h"

namespace dbpool {

absl::StatusOr<Credentials> ResolveCredentials(const CredentialsProvider& provider,
                                               const Endpoint& endpoint,
                                               const Credentials& configured) {
  if (!provider) return configured;
  // Secret-manager SDKs throw; what() is not shown, as it may quote a secret.
  absl::StatusOr<Credentials> provided =
      absl::InternalError("threw an exception (its text is not shown: it may hold a secret)");
  internal::CallUserCode([&] { provided = provider(endpoint); });
  if (!provided.ok()) {
    return absl::Status(provided.status().code(),
                        absl::StrCat("credentials provider: ", provided.status().message()));
  }
  if (provided->user.empty()) provided->user = configured.user;
  return provided;
}

// What a provider's calls share: how many are still running after their
// callers stopped waiting.
struct BoundedCredentialsProvider::Shared {
  absl::Mutex mu;
  int abandoned ABSL_GUARDED_BY(mu) = 0;
};

namespace {

// One call, shared by its caller and the thread that makes it.
struct Call {
  absl::Mutex mu;
  absl::CondVar cv;
  bool done ABSL_GUARDED_BY(mu) = false;
  bool abandoned ABSL_GUARDED_BY(mu) = false;  // the caller stopped waiting
  absl::StatusOr<Credentials> result ABSL_GUARDED_BY(mu);
};

void Wipe(absl::StatusOr<Credentials>* result) {
  if (result->ok()) WipeSecret(&(*result)->password);
}

// A provider's answer whose password is wiped when it goes out of scope, on
// every return path.
struct WipedOnExit {
  absl::StatusOr<Credentials> value;
  ~WipedOnExit() { Wipe(&value); }
};

}  // namespace

BoundedCredentialsProvider::BoundedCredentialsProvider(CredentialsProvider provider)
    : provider_(std::move(provider)), shared_(provider_ ? std::make_shared<Shared>() : nullptr) {}

absl::StatusOr<Credentials> BoundedCredentialsProvider::Resolve(const Endpoint& endpoint,
                                                                const Credentials& configured,
                                                                absl::Time deadline) const {
  if (!provider_ || deadline == absl::InfiniteFuture()) {
    return ResolveCredentials(provider_, endpoint, configured);
  }
  {
    absl::MutexLock lock(&shared_->mu);
    if (shared_->abandoned > 0) {
      return absl::UnavailableError(absl::StrCat(
          "credentials provider: an earlier call has not returned (", shared_->abandoned,
          " still running past their connect deadline); no new call is made until it does"));
    }
  }
  auto call = std::make_shared<Call>();
  try {
    std::thread([call, shared = shared_, provider = provider_, endpoint, configured] {
      absl::StatusOr<Credentials> result = ResolveCredentials(provider, endpoint, configured);
      absl::MutexLock lock(&call->mu);
      call->done = true;
      if (call->abandoned) {
        Wipe(&result);
        absl::MutexLock shared_lock(&shared->mu);
        --shared->abandoned;
        return;
      }
      call->result = std::move(result);
      call->cv.Signal();
    }).detach();
  } catch (const std::system_error&) {
    return absl::ResourceExhaustedError(
        "credentials provider: no thread could be started to call it");
  }
  const int64_t until = internal::FineNanos() + absl::ToInt64Nanoseconds(deadline - absl::Now());
  absl::MutexLock lock(&call->mu);
  while (!call->done) {
    if (internal::WaitUntil(call->cv, &call->mu, until) && !call->done) {
      call->abandoned = true;
      absl::MutexLock shared_lock(&shared_->mu);
      ++shared_->abandoned;
      return absl::UnavailableError(
          "credentials provider: no answer by the connect deadline (connect_timeout); the call "
          "goes on, and no other is made until it returns");
    }
  }
  return std::move(call->result);
}

absl::StatusOr<std::unique_ptr<DriverConnection>> ConnectWithCredentials(
    const BoundedCredentialsProvider& provider, const Endpoint& endpoint,
    const Credentials& configured, absl::Time deadline, absl::string_view context,
    const std::function<absl::StatusOr<std::unique_ptr<DriverConnection>>(const Credentials&)>&
        connect) {
  const WipedOnExit used{provider.Resolve(endpoint, configured, deadline)};
  if (!used.value.ok()) {
    const absl::Status& error = used.value.status();
    return absl::Status(error.code(), absl::StrCat(context, ": ", error.message()));
  }
  absl::StatusOr<std::unique_ptr<DriverConnection>> conn = connect(*used.value);
  const absl::StatusCode code = conn.status().code();
  if (!provider ||
      (code != absl::StatusCode::kUnauthenticated && code != absl::StatusCode::kPermissionDenied)) {
    return conn;
  }
  const WipedOnExit fresh{provider.Resolve(endpoint, configured, deadline)};
  if (!fresh.value.ok() ||
      (fresh.value->user == used.value->user && fresh.value->password == used.value->password)) {
    return conn;  // nothing new to try
  }
  return connect(*fresh.value);
}

absl::StatusOr<std::unique_ptr<DriverConnection>> ConnectWithCredentials(
    const CredentialsProvider& provider, const Endpoint& endpoint, const Credentials& configured,
    absl::string_view context,
    const std::function<absl::StatusOr<std::unique_ptr<DriverConnection>>(const Credentials&)>&
        connect) {
  return ConnectWithCredentials(BoundedCredentialsProvider(provider), endpoint, configured,
                                absl::InfiniteFuture(), context, connect);
}

}  // namespace dbpool
