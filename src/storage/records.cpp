#include "storage/records.hpp"

#include <stdexcept>
#include <string>

namespace evolveai::storage {

const char* to_string(Role role) noexcept {
  return role == Role::kUser ? "user" : "assistant";
}

const char* to_string(MessageStatus status) noexcept {
  switch (status) {
    case MessageStatus::kPending: return "pending";
    case MessageStatus::kComplete: return "complete";
    case MessageStatus::kFailed: return "failed";
  }
  return "failed";
}

const char* to_string(PaymentStatus status) noexcept {
  return status == PaymentStatus::kPaid ? "paid" : "refunded";
}

const char* to_string(JobStatus status) noexcept {
  switch (status) {
    case JobStatus::kPending: return "pending";
    case JobStatus::kRunning: return "running";
    case JobStatus::kDone: return "done";
    case JobStatus::kFailed: return "failed";
  }
  return "failed";
}

namespace {
[[noreturn]] void bad(std::string_view what, std::string_view text) {
  throw std::invalid_argument("unknown " + std::string(what) + " '" + std::string(text) + "'");
}
}  // namespace

Role role_from_string(std::string_view text) {
  if (text == "user")
    return Role::kUser;
  if (text == "assistant")
    return Role::kAssistant;
  bad("role", text);
}

MessageStatus message_status_from_string(std::string_view text) {
  if (text == "pending")
    return MessageStatus::kPending;
  if (text == "complete")
    return MessageStatus::kComplete;
  if (text == "failed")
    return MessageStatus::kFailed;
  bad("message status", text);
}

PaymentStatus payment_status_from_string(std::string_view text) {
  if (text == "paid")
    return PaymentStatus::kPaid;
  if (text == "refunded")
    return PaymentStatus::kRefunded;
  bad("payment status", text);
}

JobStatus job_status_from_string(std::string_view text) {
  if (text == "pending")
    return JobStatus::kPending;
  if (text == "running")
    return JobStatus::kRunning;
  if (text == "done")
    return JobStatus::kDone;
  if (text == "failed")
    return JobStatus::kFailed;
  bad("job status", text);
}

}  // namespace evolveai::storage
