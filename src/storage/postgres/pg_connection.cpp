#include "storage/postgres/pg_connection.hpp"

#include <libpq-fe.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "storage/store_error.hpp"
#include "storage/store_support.hpp"

namespace evolveai::storage::postgres {

namespace sup = evolveai::storage::support;

// --- parameters and results --------------------------------------------------------------------

Params& Params::add(std::int64_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}

Params& Params::add(bool value) {
  values_.emplace_back(value ? "t" : "f");
  return *this;
}

Params& Params::add(std::string_view value) {
  values_.emplace_back(std::string(value));
  return *this;
}

Params& Params::add(Time value) {
  values_.emplace_back(format_timestamp(value));
  return *this;
}

Params& Params::add(std::chrono::sys_days value) {
  values_.emplace_back(sup::format_day(value));
  return *this;
}

Params& Params::add_null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

const char* const* Params::values() const {
  pointers_.clear();
  for (const auto& v : values_)
    pointers_.push_back(v ? v->c_str() : nullptr);
  return pointers_.data();
}

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    if (result_)
      PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

Result::~Result() {
  if (result_)
    PQclear(result_);
}

int Result::rows() const noexcept {
  return result_ ? PQntuples(result_) : 0;
}

std::int64_t Result::affected() const {
  const char* text = result_ ? PQcmdTuples(result_) : "";
  return (text && *text) ? std::strtoll(text, nullptr, 10) : 0;
}

bool Result::is_null(int row, int column) const {
  return PQgetisnull(result_, row, column) != 0;
}

std::string_view Result::view(int row, int column) const {
  return {PQgetvalue(result_, row, column), static_cast<std::size_t>(PQgetlength(result_, row, column))};
}

std::optional<std::string> Result::optional_text(int row, int column) const {
  if (is_null(row, column))
    return std::nullopt;
  return text(row, column);
}

std::int64_t Result::int64(int row, int column) const {
  const auto v = view(row, column);
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size())
    throw std::invalid_argument("not an integer: " + std::string(v));
  return out;
}

std::optional<std::int64_t> Result::optional_int64(int row, int column) const {
  if (is_null(row, column))
    return std::nullopt;
  return int64(row, column);
}

bool Result::boolean(int row, int column) const {
  return view(row, column) == "t";
}

double Result::real(int row, int column) const {
  const auto v = view(row, column);
  double out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

Time Result::time(int row, int column) const {
  return parse_timestamp(view(row, column));
}

std::optional<Time> Result::optional_time(int row, int column) const {
  if (is_null(row, column))
    return std::nullopt;
  return time(row, column);
}

std::optional<std::chrono::sys_days> Result::optional_day(int row, int column) const {
  if (is_null(row, column))
    return std::nullopt;
  return sup::parse_day(view(row, column));
}

// --- time text ------------------------------------------------------------------------------------

std::string format_timestamp(Time t) {
  const std::int64_t us = sup::to_micros(t);
  const auto day = std::chrono::floor<std::chrono::days>(std::chrono::microseconds(us));
  const std::chrono::year_month_day ymd{std::chrono::sys_days(day)};
  std::int64_t rest = us - std::chrono::duration_cast<std::chrono::microseconds>(day).count();
  const auto hours = rest / 3'600'000'000LL;
  rest %= 3'600'000'000LL;
  const auto minutes = rest / 60'000'000LL;
  rest %= 60'000'000LL;
  const auto seconds = rest / 1'000'000LL;
  const auto micros = rest % 1'000'000LL;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02lld:%02lld:%02lld.%06lld+00", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<long long>(hours),
                static_cast<long long>(minutes), static_cast<long long>(seconds), static_cast<long long>(micros));
  return buf;
}

Time parse_timestamp(std::string_view text) {
  // YYYY-MM-DD HH:MM:SS[.ffffff](+|-)HH[:MM[:SS]]
  if (text.size() < 19 || text[10] != ' ')
    throw std::invalid_argument("bad timestamp: " + std::string(text));
  const auto day = sup::parse_day(text.substr(0, 10));
  auto number = [&](std::size_t pos, std::size_t width) {
    int out = 0;
    const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + width, out);
    if (ec != std::errc() || end != text.data() + pos + width) {
      throw std::invalid_argument("bad timestamp: " + std::string(text));
    }
    return out;
  };
  std::int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(day.time_since_epoch()).count();
  us += (number(11, 2) * 3600LL + number(14, 2) * 60LL + number(17, 2)) * 1'000'000LL;
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::int64_t fraction = 0;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) {
        fraction = fraction * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    for (; digits < 6; ++digits)
      fraction *= 10;
    us += fraction;
  }
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '+' ? 1 : -1;
    std::int64_t offset = number(pos + 1, 2) * 3600LL;
    if (pos + 6 <= text.size() && text[pos + 3] == ':')
      offset += number(pos + 4, 2) * 60LL;
    us -= sign * offset * 1'000'000LL;
  }
  return sup::from_micros(us);
}

// --- connection ---------------------------------------------------------------------------------------

namespace {

void ignore_notice(void*, const char*) {}

StoreErrorKind kind_for(std::string_view state) {
  if (state == "40001" || state == "40P01" || state == "55P03")
    return StoreErrorKind::kTransient;
  if (state.starts_with("23"))
    return StoreErrorKind::kConstraint;
  if (state == "57014")
    return StoreErrorKind::kTimeout;
  if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03") {
    return StoreErrorKind::kConnectionLost;
  }
  return StoreErrorKind::kOther;
}

/// Escapes a value inside the libpq `options` string (spaces and backslashes).
std::string escape_option(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == ' ' || c == '\\')
      out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string trim_message(const char* message) {
  std::string out = message ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  return out;
}

}  // namespace

Connection::Connection(boost::asio::any_io_executor executor, pg_conn* conn)
    : executor_(std::move(executor)), conn_(conn), socket_(executor_), last_used_(std::chrono::steady_clock::now()) {}

Connection::~Connection() {
  // The socket belongs to libpq: take it away from Asio without closing it, then let
  // PQfinish close it exactly once.
  if (socket_.is_open()) {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    (void)socket_.release();
  }
  PQfinish(conn_);
}

Task<std::unique_ptr<Connection>> Connection::connect(boost::asio::any_io_executor executor,
                                                      const ConnectSettings& settings) {
  std::string options = "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=iso_8601 -c statement_timeout=" +
                        std::to_string(settings.statement_timeout.count());
  for (const auto& [name, value] : settings.session_settings) {
    options += " -c " + escape_option(name) + "=" + escape_option(value);
  }
  const char* keywords[] = {"dbname", "options", "application_name", "client_encoding", nullptr};
  const char* values[] = {settings.url.c_str(), options.c_str(), "evolveai", "UTF8", nullptr};
  pg_conn* raw = PQconnectStartParams(keywords, values, 1);
  if (raw == nullptr)
    throw StoreError(StoreErrorKind::kConnect, "connect", "libpq could not allocate a connection");
  std::unique_ptr<Connection> connection(new Connection(executor, raw));
  if (PQstatus(raw) == CONNECTION_BAD) {
    throw StoreError(StoreErrorKind::kConnect, "connect", trim_message(PQerrorMessage(raw)));
  }
  const auto deadline = std::chrono::steady_clock::now() + settings.connect_timeout;
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  std::string failure;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) {
      throw StoreError(StoreErrorKind::kConnect, "connect", trim_message(PQerrorMessage(raw)));
    }
    // libpq may open a new socket between polls (another host, SSL fallback): watch anew.
    connection->watch_socket();
    try {
      co_await connection->wait(status == PGRES_POLLING_READING, status == PGRES_POLLING_WRITING, deadline, "connect");
    } catch (const StoreError& e) {
      failure = e.what();
    }
    if (!failure.empty())
      throw StoreError(StoreErrorKind::kConnect, "connect", failure);
    status = PQconnectPoll(raw);
  }
  if (PQsetnonblocking(raw, 1) != 0) {
    throw StoreError(StoreErrorKind::kConnect, "connect", trim_message(PQerrorMessage(raw)));
  }
  PQsetNoticeProcessor(raw, ignore_notice, nullptr);
  connection->watch_socket();
  connection->last_used_ = std::chrono::steady_clock::now();
  co_return connection;
}

void Connection::watch_socket() {
  if (socket_.is_open()) {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    (void)socket_.release();
  }
  const int fd = PQsocket(conn_);
  if (fd >= 0)
    socket_.assign(fd);
}

bool Connection::broken() const {
  return broken_ || PQstatus(conn_) != CONNECTION_OK;
}

bool Connection::idle_in_transaction_free() const {
  return PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

void Connection::fail(std::string_view name, std::string_view detail, bool lost) {
  broken_ = broken_ || lost;
  const std::string message = detail.empty() ? trim_message(PQerrorMessage(conn_)) : std::string(detail);
  throw StoreError(lost ? StoreErrorKind::kConnectionLost : StoreErrorKind::kOther, std::string(name), message);
}

Task<void> Connection::wait(bool read, bool write, std::chrono::steady_clock::time_point deadline,
                            std::string_view name) {
  using boost::asio::experimental::awaitable_operators::operator||;
  using boost::asio::as_tuple;
  using boost::asio::use_awaitable;
  using Wait = boost::asio::posix::stream_descriptor::wait_type;
  if (!socket_.is_open())
    fail(name, "the connection has no socket", true);
  boost::asio::steady_timer timer(executor_, deadline);
  boost::system::error_code ec;
  bool timed_out = false;
  if (read && write) {
    auto r = co_await (socket_.async_wait(Wait::wait_read, as_tuple(use_awaitable)) ||
                       socket_.async_wait(Wait::wait_write, as_tuple(use_awaitable)) ||
                       timer.async_wait(as_tuple(use_awaitable)));
    timed_out = r.index() == 2;
    if (r.index() == 0)
      ec = std::get<0>(std::get<0>(r));
    if (r.index() == 1)
      ec = std::get<0>(std::get<1>(r));
  } else {
    auto r = co_await (socket_.async_wait(read ? Wait::wait_read : Wait::wait_write, as_tuple(use_awaitable)) ||
                       timer.async_wait(as_tuple(use_awaitable)));
    timed_out = r.index() == 1;
    if (r.index() == 0)
      ec = std::get<0>(std::get<0>(r));
  }
  if (timed_out) {
    broken_ = true;  // the call's state on the server is unknown: never reuse this connection
    throw StoreError(StoreErrorKind::kTimeout, std::string(name), "no answer from the database in time");
  }
  if (ec)
    fail(name, "waiting on the socket failed: " + ec.message(), true);
}

Task<void> Connection::flush(std::chrono::steady_clock::time_point deadline, std::string_view name) {
  for (;;) {
    const int rc = PQflush(conn_);
    if (rc == 0)
      co_return;
    if (rc < 0)
      fail(name, {}, true);
    co_await wait(true, true, deadline, name);
    if (PQconsumeInput(conn_) == 0)
      fail(name, {}, true);
  }
}

Task<std::vector<Result>> Connection::pipeline(std::string_view name, std::span<const Query> queries) {
  if (broken())
    fail(name, "the connection was lost", true);
  const auto deadline = std::chrono::steady_clock::now() + call_timeout_;
  if (PQenterPipelineMode(conn_) != 1)
    fail(name, {}, true);

  enum class Kind { kPrepare, kQuery };
  struct Expected {
    Kind kind;
    std::size_t query;
    const char* statement;
  };
  std::vector<Expected> expected;
  std::unordered_set<std::string_view> preparing;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const Statement& st = *queries[i].statement;
    if (!prepared_.contains(st.name) && !preparing.contains(st.name)) {
      if (PQsendPrepare(conn_, st.name, st.sql, 0, nullptr) != 1)
        fail(name, {}, true);
      expected.push_back({Kind::kPrepare, i, st.name});
      preparing.insert(st.name);
    }
    const Params& p = queries[i].params;
    if (PQsendQueryPrepared(conn_, st.name, p.size(), p.values(), nullptr, nullptr, 0) != 1)
      fail(name, {}, true);
    expected.push_back({Kind::kQuery, i, st.name});
  }
  if (PQpipelineSync(conn_) != 1)
    fail(name, {}, true);
  ++round_trips_;
  if (counter_)
    ++*counter_;
  co_await flush(deadline, name);

  std::vector<Result> results(queries.size());
  std::string error;
  std::string sqlstate;
  std::size_t index = 0;
  bool synced = false;
  while (!synced) {
    if (PQconsumeInput(conn_) == 0)
      fail(name, {}, true);
    while (!synced && PQisBusy(conn_) == 0) {
      PGresult* raw = PQgetResult(conn_);
      if (raw == nullptr) {
        ++index;  // the end of one command's results
        continue;
      }
      Result owned(raw);
      const ExecStatusType status = PQresultStatus(raw);
      if (status == PGRES_PIPELINE_SYNC) {
        synced = true;
        break;
      }
      if (index >= expected.size())
        fail(name, "unexpected result in pipeline", true);
      const Expected& e = expected[index];
      if (status == PGRES_FATAL_ERROR) {
        if (error.empty()) {
          error = trim_message(PQresultErrorMessage(raw));
          const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
          sqlstate = state ? state : "";
        }
      } else if (status == PGRES_PIPELINE_ABORTED) {
        // skipped after an earlier failure
      } else if (e.kind == Kind::kPrepare) {
        if (status == PGRES_COMMAND_OK)
          prepared_.insert(e.statement);
      } else {
        results[e.query] = std::move(owned);
      }
    }
    if (!synced)
      co_await wait(true, false, deadline, name);
  }
  if (PQexitPipelineMode(conn_) != 1)
    fail(name, {}, true);
  last_used_ = std::chrono::steady_clock::now();
  if (!error.empty()) {
    const auto kind = PQstatus(conn_) == CONNECTION_BAD ? StoreErrorKind::kConnectionLost : kind_for(sqlstate);
    if (kind == StoreErrorKind::kConnectionLost)
      broken_ = true;
    throw StoreError(kind, std::string(name), error, sqlstate);
  }
  co_return results;
}

Task<Result> Connection::execute(const Statement& statement, const Params& params) {
  const Query query{&statement, params};
  auto results = co_await pipeline(statement.name, std::span<const Query>(&query, 1));
  co_return std::move(results.front());
}

Task<void> Connection::exec_simple(std::string_view name, const std::string& sql) {
  if (broken())
    fail(name, "the connection was lost", true);
  const auto deadline = std::chrono::steady_clock::now() + call_timeout_;
  if (PQsendQuery(conn_, sql.c_str()) != 1)
    fail(name, {}, true);
  ++round_trips_;
  if (counter_)
    ++*counter_;
  co_await flush(deadline, name);
  std::string error;
  std::string sqlstate;
  for (;;) {
    if (PQconsumeInput(conn_) == 0)
      fail(name, {}, true);
    bool done = false;
    while (PQisBusy(conn_) == 0) {
      PGresult* raw = PQgetResult(conn_);
      if (raw == nullptr) {
        done = true;
        break;
      }
      Result owned(raw);
      if (PQresultStatus(raw) == PGRES_FATAL_ERROR && error.empty()) {
        error = trim_message(PQresultErrorMessage(raw));
        const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
        sqlstate = state ? state : "";
      }
    }
    if (done)
      break;
    co_await wait(true, false, deadline, name);
  }
  last_used_ = std::chrono::steady_clock::now();
  if (!error.empty()) {
    const auto kind = PQstatus(conn_) == CONNECTION_BAD ? StoreErrorKind::kConnectionLost : kind_for(sqlstate);
    if (kind == StoreErrorKind::kConnectionLost)
      broken_ = true;
    throw StoreError(kind, std::string(name), error, sqlstate);
  }
}

}  // namespace evolveai::storage::postgres
