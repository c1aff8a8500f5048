// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/pool.h
//
// Pool<Traits>: a pool of server connections for one database, and its
// Builder. Applications use the typed aliases (dbpool::PgPool in
// dbpool/postgres.h, dbpool::MySqlPool in dbpool/mysql.h).
#ifndef DBPOOL_POOL_H_
#define DBPOOL_POOL_H_

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dbpool/credentials.h"
#include "dbpool/driver.h"
#include "dbpool/events.h"
#include "dbpool/failover_policy.h"
#include "dbpool/internal/basic_pool.h"
#include "dbpool/lease.h"
#include "dbpool/log.h"
#include "dbpool/outcome.h"
#include "dbpool/pending_acquire.h"
#include "dbpool/pool_options.h"
#include "dbpool/reset_policy.h"
#include "dbpool/role.h"
#include "dbpool/stats.h"
#include "dbpool/tls.h"

namespace dbpool {

// Pool
//
// A cheap handle: copies share one pool, and the pool closes when the last
// handle goes (leases still out stay valid and close their connection on
// return). Every method is thread-safe.
//
// A pool belongs to the process that built it: in a child of fork(),
// acquire() and ping() fail with kFailedPrecondition, and close(), the last
// handle's destructor and returned leases leave the parent's connections
// untouched. Build pools after fork().
//
// `Traits` names a driver: `Traits::Native` is its connection handle type and
// `Traits::make_driver(const ConnectSettings&)` builds the driver.
template <typename Traits>
class Pool {
 public:
  using Native = typename Traits::Native;
  using LeaseType = Lease<Traits>;
  class Builder;

  // acquire()
  //
  // Hands out an idle connection, or waits for one in FIFO order up to the
  // pool's acquire_timeout (or `options.timeout`). A connection idle longer
  // than validation_window is checked first; a dead one is replaced within
  // the same deadline. Errors:
  //   kDeadlineExceeded   the pool stayed exhausted; the message shows its
  //                       state (total, idle, in_use, waiting, last error)
  //   kUnavailable        no endpoint could be reached
  //   kUnauthenticated,
  //   kPermissionDenied   the server refused the credentials (returned at
  //                       once while reconnects back off and no connection
  //                       is leased that could come back; else at the
  //                       deadline); so are the other errors that waiting
  //                       cannot heal (see IsConfigurationError in
  //                       dbpool/driver.h: kNotFound, kInvalidArgument, and
  //                       kUnavailable for a certificate that fails
  //                       verification or an unknown host name)
  //   kFailedPrecondition the pool is closed
  absl::StatusOr<LeaseType> acquire(Role role = Role::kPrimary,
                                    SourceLocation where = SourceLocation::Current()) const {
    AcquireOptions acquire_options;
    acquire_options.role = role;
    acquire_options.where = where;
    return acquire(acquire_options);
  }
  //
  // With AcquireOptions: per-call role and timeout. Leak reports name
  // `options.where` when set, else the caller of this overload.
  absl::StatusOr<LeaseType> acquire(const AcquireOptions& options,
                                    SourceLocation where = SourceLocation::Current()) const {
    // One construction, no default (an UnknownError status) to assign over.
    absl::StatusOr<internal::BasicLease> base =
        options.where.line != 0 ? base_.acquire(options) : base_.acquire(Located(options, where));
    if (!base.ok()) return base.status();
    return LeaseType(*std::move(base));
  }

  // acquire_async()
  //
  // acquire() without blocking the calling thread: `callback`, callable as
  // void(absl::StatusOr<LeaseType>) and move-constructible, runs exactly
  // once with a lease or with the status acquire() would return
  // (kDeadlineExceeded, kUnavailable, kFailedPrecondition, ...), or with
  // kCancelled after cancel() on the returned handle. The acquire joins the
  // same FIFO queue as blocking acquire() calls, under the same caps,
  // deadlines and failover routing; no thread waits for it. Where the
  // callback runs:
  //   - on the calling thread, before acquire_async() returns, when an
  //     idle connection needs no check (or an error is known at once);
  //   - on the thread that cancels it (PendingAcquire::cancel());
  //   - on the thread that releases the connection it gets, inside that
  //     release (unless that thread is running such a callback already:
  //     callbacks never nest);
  //   - else on a pool thread: the endpoint's async thread, which receives
  //     new connections and the hand-overs above that nest, pings a
  //     connection that sat idle past validation_window before handing it
  //     over, and ends waits at their deadline or close(); or the pool's
  //     route thread, for a failover pool whose role had no endpoint yet.
  // Never under a pool lock. The callback must not block: the pool threads
  // it runs on serve other acquires meanwhile (an event loop's adapter
  // posts to its loop: see dbpool/asio.h). An exception it throws is
  // swallowed.
  template <typename Callback>
  PendingAcquire acquire_async(Callback&& callback,
                               const AcquireOptions& options = AcquireOptions(),
                               SourceLocation where = SourceLocation::Current()) const {
    using Fn = std::decay_t<Callback>;
    static_assert(std::is_invocable_v<Fn&, absl::StatusOr<LeaseType>>,
                  "acquire_async: callback must be callable as void(absl::StatusOr<LeaseType>)");
    return base_.acquire_async(options.where.line != 0 ? options : Located(options, where),
                               [fn = Fn(std::forward<Callback>(callback))](
                                   absl::StatusOr<internal::BasicLease> base) mutable {
                                 if (!base.ok()) {
                                   fn(absl::StatusOr<LeaseType>(base.status()));
                                 } else {
                                   fn(absl::StatusOr<LeaseType>(LeaseType(*std::move(base))));
                                 }
                               });
  }

  // with_retry()
  //
  // Acquires a lease and calls `fn(LeaseType&)`, which returns absl::Status
  // or absl::StatusOr<T> (with_retry() returns the same type). When an
  // attempt fails in a way that shows nothing of it took effect, the
  // connection is discarded and `fn` runs again on a fresh lease, up to the
  // failover policy's max_attempts, backing off between attempts:
  //   - the acquire failed with kUnavailable (nothing was sent);
  //   - `fn` returned kUnavailable not marked outcome-unknown: a refusal the
  //     server sent (a read-only server's 25006 or MySQL 1290, 57P01, ...),
  //     a command that was never sent, or the application's own
  //     kUnavailable on a connection that still works.
  // An attempt whose outcome is unknown is run again only when
  // `retry.idempotent` is true; otherwise with_retry() returns its status at
  // once, IsOutcomeUnknown(status) true, the connection discarded. Its
  // outcome is unknown when
  //   - the status says so (PgStatus()/MySqlStatus() on a lost reply, or
  //     MarkOutcomeUnknown());
  //   - the pool shut the connection down while `fn` held it (its endpoint
  //     was declared down), whatever `fn` returned but OK;
  //   - the connection turned out broken and the status does not say that
  //     nothing was sent (an error the application made up, or unclassified).
  // Any other status (OK included) returns as it is, the lease released. A
  // serialization failure or deadlock (kAborted) is not retried here: use
  // with_transaction(). `fn` runs again as a whole: one that makes several
  // writes outside a transaction may have committed the first before a
  // later one failed; put those in with_transaction(). `fn` may release or
  // discard the lease itself.
  template <typename Fn>
  auto with_retry(Fn&& fn, const RetryOptions& retry,
                  SourceLocation where = SourceLocation::Current()) const
      -> std::invoke_result_t<Fn&, LeaseType&> {
    using Result = std::invoke_result_t<Fn&, LeaseType&>;
    static_assert(internal::IsStatusResult<Result>::value,
                  "with_retry: fn must be callable as absl::Status(LeaseType&) or "
                  "absl::StatusOr<T>(LeaseType&)");
    internal::RetryBudget budget(base_.options().failover);
    for (;;) {
      absl::StatusOr<LeaseType> lease = acquire(retry.role, where);
      if (!lease.ok()) {
        const bool retryable = lease.status().code() == absl::StatusCode::kUnavailable;
        if (!budget.retry_after(lease.status(), retryable)) return Result(lease.status());
        continue;
      }
      Result result = fn(*lease);
      absl::Status status = internal::StatusOf(result);
      const bool retryable = lease->base_.finish_attempt(&status, retry.idempotent);
      if (status.ok()) return result;
      if (!budget.retry_after(status, retryable)) return Result(std::move(status));
    }
  }
  // with_retry(fn, role): with_retry() with RetryOptions{role, idempotent =
  // false}.
  template <typename Fn>
  auto with_retry(Fn&& fn, Role role = Role::kPrimary,
                  SourceLocation where = SourceLocation::Current()) const
      -> std::invoke_result_t<Fn&, LeaseType&> {
    RetryOptions retry;
    retry.role = role;
    return with_retry(std::forward<Fn>(fn), retry, where);
  }

  // with_transaction()
  //
  // Runs `fn(LeaseType&)` (returning absl::Status or absl::StatusOr<T>, as
  // with_retry()) inside a transaction: BEGIN, fn, then COMMIT when fn
  // returns OK, ROLLBACK when it fails. fn must not commit or roll back
  // itself, nor run statements that commit implicitly (MySQL DDL), nor
  // release the lease (that rolls back and gives kFailedPrecondition).
  // `fn` runs again on a fresh lease, within the failover policy's
  // max_attempts, when the transaction surely did not commit:
  //   - a serialization failure or deadlock (kAborted: SQLSTATE 40001,
  //     40P01; MySQL 1213, 1205), in fn or at COMMIT;
  //   - the connection was lost, or kUnavailable, before COMMIT was sent;
  //   - COMMIT's reply was lost and the server says the transaction rolled
  //     back or wrote nothing.
  // When COMMIT's reply is lost, PostgreSQL is asked (through a fresh lease
  // for `retry.role`: the same server once it answers, or the new primary
  // after a failover) what became of the transaction, by the id taken with
  // BEGIN (pg_current_xact_id() in the same round trip, so BEGIN costs what
  // a hand-written one does; it assigns an id even to a transaction that
  // writes nothing: see docs/failover.md; `retry.defer_txn_id` asks for it
  // just before COMMIT instead). Committed: with_transaction()
  // returns fn's result, fn is not run again. In progress: asked again
  // within the retry budget. If the server cannot tell (the id is beyond
  // its horizon, e.g. lost by asynchronous replication), no answer comes
  // within the budget, or the driver cannot ask (MySQL), the status is
  // returned with
  // IsOutcomeUnknown() true and a message saying which, unless
  // `retry.idempotent`, which runs fn again. PoolStats counts the
  // resolutions. Any other failure returns as it is, rolled back.
  //
  // After a failover the promoted server may have given a transaction id it
  // never saw to a transaction of its own, so PostgreSQL's answer
  // "committed" is trusted only from a server on the WAL timeline the
  // COMMIT ran on; from a promoted one the status is outcome-unknown,
  // saying so.
  template <typename Fn>
  auto with_transaction(Fn&& fn, const RetryOptions& retry = RetryOptions(),
                        SourceLocation where = SourceLocation::Current()) const
      -> std::invoke_result_t<Fn&, LeaseType&> {
    using Result = std::invoke_result_t<Fn&, LeaseType&>;
    static_assert(internal::IsStatusResult<Result>::value,
                  "with_transaction: fn must be callable as absl::Status(LeaseType&) or "
                  "absl::StatusOr<T>(LeaseType&)");
    internal::RetryBudget budget(base_.options().failover);
    for (;;) {
      absl::StatusOr<LeaseType> lease = acquire(retry.role, where);
      if (!lease.ok()) {
        const bool retryable = lease.status().code() == absl::StatusCode::kUnavailable;
        if (!budget.retry_after(lease.status(), retryable)) return Result(lease.status());
        continue;
      }
      absl::Status begun;
      if (lease->base_.begin_transaction(&begun, retry.defer_txn_id)) {
        if (!budget.retry_after(begun, true)) return Result(std::move(begun));
        continue;
      }
      if (!begun.ok()) return Result(std::move(begun));
      Result result = fn(*lease);
      absl::Status status = internal::StatusOf(result);
      const bool again =
          lease->base_.finish_transaction(&status, retry.idempotent, retry.role, &budget);
      if (status.ok()) return result;
      if (!budget.retry_after(status, again)) return Result(std::move(status));
    }
  }

  // ping()
  //
  // A start-up or readiness check: acquires a primary connection within
  // `timeout` (default: acquire_timeout), makes one round trip on it
  // (bounded by validation_timeout) and returns it. OK, or the error that
  // keeps the pool from serving, at once when waiting cannot heal it: the
  // driver's kUnauthenticated / kPermissionDenied (credentials), kNotFound
  // (no such database), kInvalidArgument (a bad setting), or kUnavailable
  // for a certificate that fails verification or a host name that does not
  // exist; otherwise what acquire() returns (kUnavailable naming the last
  // connect error, kDeadlineExceeded), or the round trip's error.
  absl::Status ping(std::optional<absl::Duration> timeout = std::nullopt) const {
    return base_.ping(timeout);
  }

  // warm_up()
  //
  // A start-up check that also fills the pool: on every endpoint the pool
  // was given (each one, primary or not), opens connections until
  // max(1, min_idle) are open, all within `timeout` (one deadline for all
  // endpoints; default: acquire_timeout; 0: only what is open already),
  // and returns them to the idle set. It acquires them together, as
  // acquire() would (they count in PoolStats::acquired), so call it
  // before the pool serves traffic. Returns OK, or the first endpoint's
  // error with the driver's code and message (never a secret) and a note
  // naming the endpoint and how many of its connections were ready: at
  // once for an error that waiting cannot heal (the codes ping() lists:
  // kUnauthenticated, kPermissionDenied, kNotFound, kInvalidArgument, or
  // kUnavailable for a certificate that fails verification or a host
  // name that does not exist); at the deadline kUnavailable naming the
  // last connect error while connects fail, or kDeadlineExceeded while
  // they hang; kFailedPrecondition once closed. An endpoint that is down
  // fails it too: a multi-endpoint service that must start with a
  // replica down checks with ping() instead.
  absl::Status warm_up(std::optional<absl::Duration> timeout = std::nullopt) const {
    return base_.warm_up(timeout);
  }

  // stats()
  //
  // A consistent snapshot of gauges and counters.
  PoolStats stats() const { return base_.stats(); }

  // evict()
  //
  // Retires every connection the pool holds now, for applications that
  // learn of a topology change elsewhere (a DNS flip, a proxy re-pointed, a
  // failover announced by an orchestrator): idle connections are closed at
  // once, leased ones when their lease returns them (never while in use),
  // and those being opened, pinged or reset at the time of the call before
  // they are handed out. Connections opened afterwards are kept, so new ones
  // follow the name's current address. Acquires keep working meanwhile.
  // Each closed connection counts in PoolStats::closed_evicted and is
  // reported to on_close() with CloseCause::kEvicted. Thread-safe; cheap
  // (no I/O on the caller's thread except closing idle sockets).
  void evict() const { base_.evict(); }

  // evict(endpoint)
  //
  // The same for the connections to one endpoint (matched by host and port
  // as given to endpoint() or the DSN). Errors: kNotFound when `endpoint`
  // is not one of the pool's.
  absl::Status evict(const Endpoint& endpoint) const { return base_.evict(endpoint); }

  // close()
  //
  // Closes idle connections, fails waiting acquires with kFailedPrecondition
  // and stops background work, shutting down the sockets of the pool's own
  // round trips under way (resets, pings, init_sql, the failover probers'
  // probes) and abandoning its connects in progress (kCancelled) rather
  // than waiting out their deadlines (with the MySQL client's blocking
  // calls a connect cannot be abandoned and runs to connect_timeout); later
  // acquires fail the same way. Leases still out close their connection on
  // return (a return racing close() included: none is left open). Idempotent: a call that overlaps
  // another returns once that one has finished. From a listener (on a pool thread) it does not wait
  // for that thread, which finishes when the listener returns.
  void close() const { base_.close(); }

  // options()
  //
  // The settings the pool was built with.
  const PoolOptions& options() const { return base_.options(); }

 private:
  explicit Pool(internal::BasicPool base) : base_(std::move(base)) {}
  static AcquireOptions Located(AcquireOptions options, SourceLocation where) {
    options.where = where;
    return options;
  }

  internal::BasicPool base_;
};

// Pool::Builder
//
// Collects settings; build() validates them all and starts the pool. Every
// setter returns the builder for chaining. Durations are absl::Duration.
template <typename Traits>
class Pool<Traits>::Builder {
 public:
  Builder() = default;

  // endpoint()
  //
  // Adds a server, in preference order (repeatable). PostgreSQL accepts a
  // Unix socket directory as `host`. Port range: 1..65535.
  Builder& endpoint(std::string host, int port) {
    settings_.endpoints.push_back(Endpoint{std::move(host), port});
    return *this;
  }

  // database(), user(), password()
  //
  // Connection credentials. The password is never shown in messages, logs or
  // stats.
  Builder& database(std::string name) {
    settings_.database = std::move(name);
    return *this;
  }
  Builder& user(std::string name) {
    settings_.user = std::move(name);
    return *this;
  }
  Builder& password(std::string secret) {
    settings_.password = std::move(secret);
    return *this;
  }

  // credentials()
  //
  // Asks `provider` for the user and password of every new connection
  // instead of using password() (and, when it returns a user, user()): for
  // rotating passwords and short-lived tokens. Connections already open keep
  // their session; new ones use the provider's current answer, with no
  // restart. See CredentialsProvider for threading and errors.
  // Default: none.
  Builder& credentials(CredentialsProvider provider) {
    settings_.credentials = std::move(provider);
    return *this;
  }

  // require_tls()
  //
  // Every connection must be encrypted with TLS and the server certificate
  // verified as `policy` says (by default: against the system's trust
  // store, host name included). A server without TLS, or with a certificate
  // that fails the check, is refused: the connect fails with kUnavailable.
  // TLS settings given by option() or the DSN must agree with the policy
  // (the same or stricter), else build() fails with kInvalidArgument naming
  // them. Default: off (the driver's own TLS settings apply).
  Builder& require_tls(TlsPolicy policy = TlsPolicy()) {
    settings_.tls = std::move(policy);
    return *this;
  }

  // option()
  //
  // A native connection setting of the driver (a libpq conninfo keyword; a
  // documented mysql_options key). Unknown keys make build() fail with
  // kInvalidArgument naming the key. Later values win.
  Builder& option(std::string key, std::string value) {
    settings_.options.emplace_back(std::move(key), std::move(value));
    return *this;
  }

  // dsn()
  //
  // A connection string in the driver's native form (a PostgreSQL URI or
  // key=value string; a mysql:// URI). Its hosts are added after those of
  // endpoint(); settings given explicitly (database(), user(), ...) win over
  // the DSN's. A malformed DSN makes build() fail with kInvalidArgument
  // giving the position of the problem.
  Builder& dsn(std::string dsn) {
    settings_.dsn = std::move(dsn);
    return *this;
  }

  // name()
  //
  // The pool's name in messages and stats. Default: "default".
  Builder& name(std::string name) {
    options_.name = std::move(name);
    return *this;
  }

  // max_size()
  //
  // The most server connections this pool keeps open at once to each
  // endpoint, counting those still connecting and closing. Acquires beyond
  // it wait in FIFO order. With several endpoints the bound is per endpoint,
  // and each endpoint's prober holds one more connection; the role check
  // after a read-only rejection opens one more for a moment (see
  // docs/failover.md). Default: 10. Range: 1..10000.
  Builder& max_size(int n) {
    options_.max_size = n;
    return *this;
  }

  // min_idle()
  //
  // Idle connections kept open and ready, opened in the background.
  // Default: 0. Range: 0..max_size.
  Builder& min_idle(int n) {
    options_.min_idle = n;
    return *this;
  }

  // acquire_timeout()
  //
  // How long acquire() may take, waiting for a connection and validating
  // it included; measured on the monotonic clock. Default: 5s.
  // Range: 0..24h.
  Builder& acquire_timeout(absl::Duration d) {
    options_.acquire_timeout = d;
    return *this;
  }

  // connect_timeout()
  //
  // How long opening one connection may take, handshake and init_sql
  // included, enforced by the pool on a non-blocking connect.
  // Default: 5s. Range: 10ms..1h.
  Builder& connect_timeout(absl::Duration d) {
    options_.connect_timeout = d;
    return *this;
  }

  // idle_timeout()
  //
  // Idle connections above min_idle are closed after this long unused.
  // Default: 10min. Zero disables. Range: 0, or 10ms..7d.
  Builder& idle_timeout(absl::Duration d) {
    options_.idle_timeout = d;
    return *this;
  }

  // max_lifetime()
  //
  // A connection is closed once this old (minus a random jitter of up to 5%,
  // so connections do not all expire at once); a leased connection is closed
  // when it comes back, never while in use.
  // Default: 30min. Zero disables. Range: 0, or 10ms..30d.
  Builder& max_lifetime(absl::Duration d) {
    options_.max_lifetime = d;
    return *this;
  }

  // validation_window()
  //
  // An idle connection used within this window is handed out unchecked;
  // older ones get a ping first. Default: 500ms. Range: 0..1h.
  Builder& validation_window(absl::Duration d) {
    options_.validation_window = d;
    return *this;
  }

  // validation_timeout()
  //
  // The deadline of one ping, rollback or reset. Default: 5s. Range: 10ms..1h.
  Builder& validation_timeout(absl::Duration d) {
    options_.validation_timeout = d;
    return *this;
  }

  // keepalive_interval()
  //
  // Idle connections unused this long are pinged in the background, so that
  // firewalls keep them and dead ones are found before a caller is.
  // Default: 2min. Zero disables. Range: 0, or 10ms..24h.
  Builder& keepalive_interval(absl::Duration d) {
    options_.keepalive_interval = d;
    return *this;
  }

  // init_sql()
  //
  // SQL run on every new connection before first use (repeatable, in order).
  // A failure closes the connection and counts as a connect failure.
  Builder& init_sql(std::string sql) {
    options_.init_sql.push_back(std::move(sql));
    return *this;
  }

  // reset_policy()
  //
  // What happens to a session on return; see ResetPolicy.
  // Default: ResetPolicy::RollbackOnly().
  Builder& reset_policy(ResetPolicy policy) {
    options_.reset_policy = std::move(policy);
    return *this;
  }

  // failover()
  //
  // Retry, backoff and failover behaviour; see FailoverPolicy.
  Builder& failover(const FailoverPolicy& policy) {
    options_.failover = policy;
    return *this;
  }

  // leak_detection_threshold()
  //
  // A lease held longer than this is reported once, with the file and line
  // of its acquire(), to the listener's on_leak() (and counted in
  // PoolStats::leaks). The lease is not touched. Default: 0 (off).
  // Range: 0, or 10ms..24h.
  Builder& leak_detection_threshold(absl::Duration d) {
    options_.leak_detection_threshold = d;
    return *this;
  }

  // histograms()
  //
  // Records acquire-wait and hold-time histograms in PoolStats (and so in
  // RenderPrometheus()). Costs two clock reads and two atomic increments per
  // acquire/release cycle. Default: false.
  Builder& histograms(bool on) {
    options_.histograms = on;
    return *this;
  }

  // listener()
  //
  // Receives connect, acquire, release, close and failover events; see
  // PoolListener. Default: none.
  Builder& listener(std::shared_ptr<PoolListener> listener) {
    options_.listener = std::move(listener);
    return *this;
  }

  // log_sink()
  //
  // Writes one line per event at or above `level` to `sink`: failed
  // connects, failovers, leaks and dead connections at kWarning; opened and
  // closed connections at kInfo; every acquire and release at kDebug. Lines
  // never hold a secret. Default: none (quiet). Level default: kWarning.
  Builder& log_sink(LogSink sink, LogLevel level = LogLevel::kWarning) {
    options_.log_sink = std::move(sink);
    options_.log_level = level;
    return *this;
  }

  // build()
  //
  // Validates every setting and starts the pool: min_idle connections open
  // in the background, so build() does not wait for the server.
  // Errors: kInvalidArgument naming the knob and its allowed range, or the
  // position of a DSN's problem.
  absl::StatusOr<Pool> build() const {
    absl::StatusOr<internal::BasicPool> base =
        internal::BasicPool::Create(options_, Traits::make_driver(settings_));
    if (!base.ok()) return base.status();
    return Pool(*std::move(base));
  }

 private:
  PoolOptions options_;
  ConnectSettings settings_;
};

}  // namespace dbpool

#endif  // DBPOOL_POOL_H_
