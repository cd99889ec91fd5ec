#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "obs/error_reporter.hpp"
#include "obs/logger.hpp"
#include "telegram/dispatcher.hpp"

namespace evolveai {
namespace {

using ::testing::SizeIs;

/// Keeps every report it is given.
class RecordingReporter final : public obs::ErrorReporter {
 public:
  void report(obs::ErrorReport report) noexcept override {
    const std::scoped_lock lock(mutex_);
    reports_.push_back(std::move(report));
  }
  std::vector<obs::ErrorReport> reports() const {
    const std::scoped_lock lock(mutex_);
    return reports_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<obs::ErrorReport> reports_;
};

Task<bool> submit_and_drain(telegram::Dispatcher& dispatcher, telegram::Update update) {
  co_await dispatcher.submit(std::move(update));
  co_return co_await dispatcher.drain(std::chrono::seconds(10));
}

TEST(TelegramDispatcherReports, AnUpdateWhoseHandlingThrowsIsReportedWithItsId) {
  std::ostringstream log_lines;
  obs::Logger logger(obs::LogLevel::kError, obs::Logger::Format::kJson, log_lines);
  RecordingReporter reporter;
  boost::asio::io_context io;
  telegram::Dispatcher dispatcher(
      io.get_executor(),
      [](telegram::Update update) -> Task<void> {
        if (update.update_id == 77) {
          throw std::runtime_error("reply could not be stored");
        }
        co_return;
      },
      4, logger, &reporter);
  telegram::Update failing;
  failing.update_id = 77;
  telegram::Update fine;
  fine.update_id = 78;
  auto run = [&](telegram::Update update) {
    auto future = boost::asio::co_spawn(io, submit_and_drain(dispatcher, std::move(update)), boost::asio::use_future);
    io.restart();
    io.run();
    return future.get();
  };
  ASSERT_TRUE(run(failing));
  ASSERT_TRUE(run(fine));

  const auto reports = reporter.reports();
  ASSERT_THAT(reports, SizeIs(1));
  EXPECT_EQ(reports[0].logger, "telegram");
  EXPECT_EQ(reports[0].exception_type, "std::runtime_error");
  EXPECT_EQ(reports[0].exception_value, "reply could not be stored");
  EXPECT_THAT(reports[0].tags, ::testing::Contains(std::pair<std::string, std::string>("update_id", "77")));
  EXPECT_THAT(reports[0].tags, ::testing::Contains(std::pair<std::string, std::string>("role", "bot")));
}

}  // namespace
}  // namespace evolveai
