#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <unordered_map>

#include "http/context.hpp"
#include "http/message.hpp"

namespace evolveai::http {

/// The built web app, loaded into memory at start and served from there: nothing outside
/// the loaded set can be reached, whatever the path says.
class StaticFiles {
 public:
  /// Loads every regular file under `root` (no symlinks followed); a missing root serves nothing.
  /// Throws std::runtime_error when the files exceed `max_total_bytes`.
  StaticFiles(const std::filesystem::path& root, std::size_t max_total_bytes);

  /// Answers GET/HEAD for a file or an app route (`/`, `/admin…`); 404 `not_found` otherwise.
  [[nodiscard]] Task<Response> serve(Request& request, RequestContext& context) const;

  [[nodiscard]] std::size_t file_count() const { return files_.size(); }

 private:
  struct File {
    std::string content;
    std::string content_type;
    std::string etag;
    std::string_view content_policy;  ///< Content-Security-Policy of an HTML page, else empty
    bool immutable = false;
  };
  [[nodiscard]] const File* find(std::string_view path) const;

  std::unordered_map<std::string, File> files_;
};

/// The Content-Type for a file name, by extension.
std::string content_type_for(std::string_view file_name);

/// The Content-Security-Policy sent with an HTML page of the web app (`relative` as under the
/// web root, e.g. "index.html"): scripts only from this origin (and Telegram's Mini App and
/// Login Widget scripts for the chat app), never inline; empty for files that are not HTML.
std::string_view content_policy_for(std::string_view relative);

}  // namespace evolveai::http
