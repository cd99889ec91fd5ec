#include "http/static_files.hpp"

#include <fmt/format.h>
#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "core/errors.hpp"

namespace evolveai::http {
namespace {

std::uint64_t fnv1a(std::string_view data) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  std::size_t start = 0;
  while (start < if_none_match.size()) {
    auto end = if_none_match.find(',', start);
    if (end == std::string_view::npos) {
      end = if_none_match.size();
    }
    auto candidate = if_none_match.substr(start, end - start);
    while (!candidate.empty() && candidate.front() == ' ') {
      candidate.remove_prefix(1);
    }
    while (!candidate.empty() && candidate.back() == ' ') {
      candidate.remove_suffix(1);
    }
    if (candidate.starts_with("W/")) {
      candidate.remove_prefix(2);
    }
    if (candidate == "*" || candidate == etag) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

// The chat app may run inside Telegram (its script, the Login Widget's frame, Telegram Web as
// the embedding page); styles may be set inline by Telegram's script. No inline scripts anywhere.
constexpr std::string_view kAppPolicy =
    "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-src https://oauth.telegram.org; "
    "frame-ancestors 'self' https://*.telegram.org; object-src 'none'; base-uri 'self'; form-action 'self'";
// The admin panel talks only to this origin and is never framed.
constexpr std::string_view kAdminPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'";

}  // namespace

std::string_view content_policy_for(std::string_view relative) {
  if (!relative.ends_with(".html")) {
    return {};
  }
  return relative == "admin.html" || relative.starts_with("admin/") ? kAdminPolicy : kAppPolicy;
}

std::string content_type_for(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 20> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
      {".ogg", "audio/ogg"},
      {".wav", "audio/wav"},
  }};
  const auto dot = file_name.rfind('.');
  if (dot != std::string_view::npos) {
    const auto extension = file_name.substr(dot);
    for (const auto& [ext, type] : kTypes) {
      if (ext == extension) {
        return std::string(type);
      }
    }
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(const std::filesystem::path& root, std::size_t max_total_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return;
  }
  std::size_t total = 0;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) {
      continue;
    }
    const auto relative = fs::relative(it->path(), root, ec).generic_string();
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    File file;
    file.content = std::move(content).str();
    total += file.content.size();
    if (total > max_total_bytes) {
      throw std::runtime_error(fmt::format("web files under {} exceed {} bytes", root.string(), max_total_bytes));
    }
    file.content_type = content_type_for(relative);
    file.etag = fmt::format("\"{:016x}\"", fnv1a(file.content));
    file.content_policy = content_policy_for(relative);
    // Vite puts content-hashed names under assets/: they never change, so cache them for a year.
    file.immutable = relative.starts_with("assets/");
    files_.emplace("/" + relative, std::move(file));
  }
}

const StaticFiles::File* StaticFiles::find(std::string_view path) const {
  if (const auto it = files_.find(std::string(path)); it != files_.end()) {
    return &it->second;
  }
  const bool app_route = path == "/" || path == "/admin" || path.starts_with("/admin/");
  if (app_route) {
    if (path.starts_with("/admin")) {
      if (const auto admin = files_.find("/admin.html"); admin != files_.end()) {
        return &admin->second;
      }
    }
    if (const auto index = files_.find("/index.html"); index != files_.end()) {
      return &index->second;
    }
  }
  return nullptr;
}

Task<Response> StaticFiles::serve(Request& request, RequestContext& context) const {
  if (request.method != "GET" && request.method != "HEAD") {
    throw core::not_found();
  }
  const File* file = find(request.path);
  if (file == nullptr) {
    throw core::not_found();
  }
  context.route_label = "static";
  Response response;
  response.headers.set("ETag", file->etag);
  response.headers.set("Cache-Control", file->immutable ? "public, max-age=31536000, immutable" : "no-cache");
  response.headers.set("X-Content-Type-Options", "nosniff");
  if (!file->content_policy.empty()) {
    response.headers.set("Content-Security-Policy", std::string(file->content_policy));
  }
  if (const auto if_none_match = request.headers.get("If-None-Match");
      if_none_match && etag_matches(*if_none_match, file->etag)) {
    response.status = 304;
    co_return response;
  }
  response.status = 200;
  response.headers.set("Content-Type", file->content_type);
  response.body = file->content;
  co_return response;
}

}  // namespace evolveai::http
