#include "http/error_report_middleware.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "http/error_response.hpp"
#include "obs/error_reporter.hpp"

namespace evolveai::http {
namespace {

/// 503 codes that describe how the operator set the service up, not a failure.
constexpr std::array<std::string_view, 2> kDeliberateCodes = {"llm_not_configured", "bot_not_configured"};

obs::ErrorReport http_report(const Request& request, const RequestContext& context, int status) {
  obs::ErrorReport report;
  report.logger = "http";
  report.request_method = request.method;
  report.request_url = request.path;  // never the query string, headers or body
  const bool bot = context.route_label.starts_with("/telegram/");
  report.tags = {{"request_id", context.request_id},
                 {"route", context.route_label},
                 {"method", request.method},
                 {"status", std::to_string(status)},
                 {"role", bot ? "bot" : "api"}};
  return report;
}

}  // namespace

Middleware error_report_middleware(obs::ErrorReporter& errors) {
  return [&errors](Request& request, RequestContext& context, const Handler& next) -> Task<Response> {
    try {
      co_return co_await next(request, context);
    } catch (const core::Error& error) {
      const int status = status_for(error);
      const bool deliberate =
          std::find(kDeliberateCodes.begin(), kDeliberateCodes.end(), error.code()) != kDeliberateCodes.end();
      if (status >= 500 && !deliberate) {
        auto report = http_report(request, context, status);
        report.tags.emplace_back("code", error.code());
        report.exception_type = error.code();
        report.exception_value = error.log_message().empty() ? error.client_message() : error.log_message();
        errors.report(std::move(report));
      }
      throw;
    } catch (const std::exception& e) {
      auto report = http_report(request, context, 500);
      report.tags.emplace_back("code", "internal");
      report.exception_type = obs::exception_type_name(e);
      report.exception_value = e.what();
      errors.report(std::move(report));
      throw;
    }
  };
}

}  // namespace evolveai::http
