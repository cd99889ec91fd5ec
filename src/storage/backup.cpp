#include "storage/backup.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <system_error>
#include <utility>

#include "storage/backup_postgres.hpp"
#include "storage/backup_sqlite.hpp"
#include "storage/open_store.hpp"

namespace evolveai::storage {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view kPrefix = "evolveai-";
constexpr std::string_view kManifestSuffix = ".json";
constexpr std::string_view kPartialSuffix = ".partial";
constexpr std::int64_t kManifestFormat = 1;
/// Unfinished files of an interrupted backup are removed once they are this old.
constexpr auto kStalePartialAge = std::chrono::hours(24);

/// Writes `value` as exactly `width` decimal digits.
void append_digits(std::string& out, long long value, int width) {
  std::array<char, 24> buffer{};
  const int n = std::snprintf(buffer.data(), buffer.size(), "%0*lld", width, value);
  out.append(buffer.data(), static_cast<std::size_t>(n));
}

/// Reads exactly `width` digits at `pos`; nullopt otherwise.
std::optional<int> read_digits(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size())
    return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9')
      return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

struct Civil {
  int year, month, day, hour, minute, second, millis;
};

Civil to_civil(Time at) {
  const auto millis_total = std::chrono::floor<std::chrono::milliseconds>(at);
  const auto day = std::chrono::floor<std::chrono::days>(millis_total);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(millis_total - day);
  return Civil{static_cast<int>(ymd.year()),
               static_cast<int>(static_cast<unsigned>(ymd.month())),
               static_cast<int>(static_cast<unsigned>(ymd.day())),
               static_cast<int>(hms.hours().count()),
               static_cast<int>(hms.minutes().count()),
               static_cast<int>(hms.seconds().count()),
               static_cast<int>(hms.subseconds().count())};
}

std::optional<Time> from_civil(const Civil& c) {
  const std::chrono::year_month_day ymd{std::chrono::year(c.year), std::chrono::month(static_cast<unsigned>(c.month)),
                                        std::chrono::day(static_cast<unsigned>(c.day))};
  if (!ymd.ok() || c.hour > 23 || c.minute > 59 || c.second > 59)
    return std::nullopt;
  return Time(std::chrono::sys_days(ymd)) + std::chrono::hours(c.hour) + std::chrono::minutes(c.minute) +
         std::chrono::seconds(c.second) + std::chrono::milliseconds(c.millis);
}

}  // namespace

std::string format_backup_time(Time at) {
  const auto c = to_civil(at);
  std::string out;
  append_digits(out, c.year, 4);
  out += '-';
  append_digits(out, c.month, 2);
  out += '-';
  append_digits(out, c.day, 2);
  out += 'T';
  append_digits(out, c.hour, 2);
  out += ':';
  append_digits(out, c.minute, 2);
  out += ':';
  append_digits(out, c.second, 2);
  out += '.';
  append_digits(out, c.millis, 3);
  out += 'Z';
  return out;
}

namespace {

std::optional<Time> parse_iso_time(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS.mmmZ
  if (text.size() != 24 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != '.' || text[23] != 'Z') {
    return std::nullopt;
  }
  auto year = read_digits(text, 0, 4), month = read_digits(text, 5, 2), day = read_digits(text, 8, 2);
  auto hour = read_digits(text, 11, 2), minute = read_digits(text, 14, 2), second = read_digits(text, 17, 2);
  auto millis = read_digits(text, 20, 3);
  if (!year || !month || !day || !hour || !minute || !second || !millis)
    return std::nullopt;
  return from_civil(Civil{*year, *month, *day, *hour, *minute, *second, *millis});
}

/// Flushes a file (or directory) to disk; a backup reported as written must survive a crash.
void sync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0)
    throw BackupError("cannot open " + path.string() + " to flush it");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0)
    throw BackupError("cannot flush " + path.string() + " to disk");
}

void write_file_durably(const fs::path& path, std::string_view text) {
  const auto partial = fs::path(path.string() + std::string(kPartialSuffix));
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out)
      throw BackupError("cannot write " + partial.string());
  }
  sync_path(partial, false);
  fs::rename(partial, path);
}

fs::path manifest_path(const fs::path& backup) {
  return fs::path(backup.string() + std::string(kManifestSuffix));
}

/// Removes a file on scope exit unless released.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(fs::path path) : path_(std::move(path)) {}
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  ~RemoveOnExit() {
    if (!path_.empty()) {
      std::error_code ignored;
      fs::remove(path_, ignored);
    }
  }
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

BackupInfo read_backup(const fs::path& path, const ParsedBackupName& parsed) {
  BackupInfo info;
  info.name = path.filename().string();
  info.path = path;
  info.dialect = parsed.dialect;
  info.created_at = parsed.created_at;
  std::error_code ec;
  info.bytes = fs::file_size(path, ec);
  if (ec)
    info.bytes = 0;
  std::ifstream in(manifest_path(path), std::ios::binary);
  if (in) {
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (auto manifest = manifest_from_json(text); manifest && manifest->name == info.name) {
      info.has_manifest = true;
      info.sha256 = std::move(manifest->sha256);
      info.tables = std::move(manifest->tables);
      info.took = manifest->took;
      info.created_at = manifest->created_at;
    }
  }
  return info;
}

}  // namespace

// --- names and manifests ----------------------------------------------------------------------

std::string backup_file_name(std::string_view dialect, Time at, std::string_view extension) {
  const auto c = to_civil(at);
  std::string out(kPrefix);
  out += dialect;
  out += '-';
  append_digits(out, c.year, 4);
  append_digits(out, c.month, 2);
  append_digits(out, c.day, 2);
  out += 'T';
  append_digits(out, c.hour, 2);
  append_digits(out, c.minute, 2);
  append_digits(out, c.second, 2);
  out += '.';
  append_digits(out, c.millis, 3);
  out += 'Z';
  out += extension;
  return out;
}

std::optional<ParsedBackupName> parse_backup_file_name(std::string_view name) {
  if (!name.starts_with(kPrefix))
    return std::nullopt;
  name.remove_prefix(kPrefix.size());
  std::string dialect;
  std::string_view extension;
  for (const auto& [d, ext] : {std::pair<std::string_view, std::string_view>{"sqlite", ".db"}, {"postgres", ".dump"}}) {
    if (name.starts_with(d) && name.size() > d.size() && name[d.size()] == '-' && name.ends_with(ext)) {
      dialect = d;
      extension = ext;
    }
  }
  if (dialect.empty())
    return std::nullopt;
  name.remove_prefix(dialect.size() + 1);
  name.remove_suffix(extension.size());
  // YYYYMMDDTHHMMSS.mmmZ
  if (name.size() != 20 || name[8] != 'T' || name[15] != '.' || name[19] != 'Z')
    return std::nullopt;
  auto year = read_digits(name, 0, 4), month = read_digits(name, 4, 2), day = read_digits(name, 6, 2);
  auto hour = read_digits(name, 9, 2), minute = read_digits(name, 11, 2), second = read_digits(name, 13, 2);
  auto millis = read_digits(name, 16, 3);
  if (!year || !month || !day || !hour || !minute || !second || !millis)
    return std::nullopt;
  auto at = from_civil(Civil{*year, *month, *day, *hour, *minute, *second, *millis});
  if (!at)
    return std::nullopt;
  return ParsedBackupName{std::move(dialect), *at};
}

std::string manifest_to_json(const BackupInfo& info) {
  json::object tables;
  for (const auto& [table, rows] : info.tables)
    tables[table] = rows;
  json::object root;
  root["format"] = kManifestFormat;
  root["name"] = info.name;
  root["dialect"] = info.dialect;
  root["created_at"] = format_backup_time(info.created_at);
  root["bytes"] = static_cast<std::uint64_t>(info.bytes);
  root["sha256"] = info.sha256;
  root["took_ms"] = static_cast<std::int64_t>(info.took.count());
  root["tables"] = std::move(tables);
  return json::serialize(root) + "\n";
}

std::optional<BackupInfo> manifest_from_json(std::string_view text) {
  boost::system::error_code ec;
  const auto value = json::parse(text, ec);
  if (ec || !value.is_object())
    return std::nullopt;
  const auto& root = value.as_object();
  const auto* format = root.if_contains("format");
  if (format == nullptr || !format->is_int64() || format->as_int64() != kManifestFormat)
    return std::nullopt;
  BackupInfo info;
  const auto* name = root.if_contains("name");
  const auto* dialect = root.if_contains("dialect");
  const auto* created = root.if_contains("created_at");
  const auto* sha = root.if_contains("sha256");
  const auto* tables = root.if_contains("tables");
  if (name == nullptr || !name->is_string() || dialect == nullptr || !dialect->is_string() || created == nullptr ||
      !created->is_string() || sha == nullptr || !sha->is_string() || tables == nullptr || !tables->is_object()) {
    return std::nullopt;
  }
  auto at = parse_iso_time(created->as_string());
  if (!at)
    return std::nullopt;
  info.name = name->as_string();
  info.dialect = dialect->as_string();
  info.created_at = *at;
  info.sha256 = sha->as_string();
  if (const auto* bytes = root.if_contains("bytes"); bytes != nullptr && bytes->is_number()) {
    info.bytes = bytes->to_number<std::uint64_t>();
  }
  if (const auto* took = root.if_contains("took_ms"); took != nullptr && took->is_int64()) {
    info.took = std::chrono::milliseconds(took->as_int64());
  }
  for (const auto& [table, rows] : tables->as_object()) {
    if (!rows.is_int64())
      return std::nullopt;
    info.tables.emplace(std::string(table), rows.as_int64());
  }
  info.has_manifest = true;
  return info;
}

std::string file_sha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw BackupError("cannot read " + path.string());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw BackupError("SHA-256 unavailable");
  std::vector<char> buffer(std::size_t{1} << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = in.gcount();
    if (n > 0 && EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(n)) != 1) {
      throw BackupError("SHA-256 failed");
    }
  }
  if (in.bad())
    throw BackupError("cannot read " + path.string());
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &length) != 1)
    throw BackupError("SHA-256 failed");
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4U];
    out += kHex[digest[i] & 0x0fU];
  }
  return out;
}

std::vector<CountMismatch> compare_counts(const TableCounts& recorded, const TableCounts& restored) {
  std::vector<CountMismatch> out;
  for (const auto& [table, rows] : recorded) {
    auto it = restored.find(table);
    if (it == restored.end()) {
      out.push_back(CountMismatch{table, rows, std::nullopt});
    } else if (it->second != rows) {
      out.push_back(CountMismatch{table, rows, it->second});
    }
  }
  for (const auto& [table, rows] : restored) {
    if (!recorded.contains(table))
      out.push_back(CountMismatch{table, std::nullopt, rows});
  }
  return out;
}

std::unique_ptr<BackupEngine> make_backup_engine(const BackupSettings& settings) {
  if (auto path = sqlite_path_from_url(settings.database_url)) {
    return std::make_unique<SqliteBackupEngine>(*path, settings.busy_timeout, settings.sqlite_pages_per_step);
  }
  if (is_postgres_url(settings.database_url)) {
    return std::make_unique<PgBackupEngine>(settings.database_url, settings.pg_bin_dir);
  }
  throw BackupError("database.url must start with sqlite:// or postgresql://");
}

// --- Backups ----------------------------------------------------------------------------------

Backups::Backups(const BackupSettings& settings) : Backups(settings, make_backup_engine(settings)) {}

Backups::Backups(BackupSettings settings, std::unique_ptr<BackupEngine> engine)
    : settings_(std::move(settings)), engine_(std::move(engine)) {
  if (!settings_.clock)
    settings_.clock = [] { return std::chrono::system_clock::now(); };
}

Backups::~Backups() = default;

std::string_view Backups::dialect() const noexcept {
  return engine_->dialect();
}

Time Backups::now() const {
  return settings_.clock();
}

BackupInfo Backups::create(const BackupProgressFn& progress, const std::stop_token& stop) {
  std::error_code ec;
  fs::create_directories(settings_.dir, ec);
  if (ec)
    throw BackupError("cannot create the backup directory " + settings_.dir.string() + ": " + ec.message());

  const auto started = std::chrono::steady_clock::now();
  auto at = std::chrono::floor<std::chrono::milliseconds>(now());
  std::string name = backup_file_name(engine_->dialect(), at, engine_->extension());
  while (fs::exists(settings_.dir / name) || fs::exists(settings_.dir / (name + std::string(kPartialSuffix)))) {
    at += std::chrono::milliseconds(1);
    name = backup_file_name(engine_->dialect(), at, engine_->extension());
  }
  const auto final_path = settings_.dir / name;
  const auto partial = fs::path(final_path.string() + std::string(kPartialSuffix));
  RemoveOnExit cleanup(partial);

  BackupInfo info;
  info.tables = engine_->dump(partial, progress, stop);
  if (stop.stop_requested())
    throw BackupError("backup cancelled");
  sync_path(partial, false);
  info.name = name;
  info.path = final_path;
  info.dialect = engine_->dialect();
  info.created_at = at;
  info.bytes = fs::file_size(partial);
  info.sha256 = file_sha256(partial);
  info.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  info.has_manifest = true;
  // The manifest first, then the file: a backup that is listed always has its manifest.
  write_file_durably(manifest_path(final_path), manifest_to_json(info));
  fs::rename(partial, final_path);
  cleanup.release();
  sync_path(settings_.dir, true);
  return info;
}

std::vector<BackupInfo> Backups::list() const {
  std::vector<BackupInfo> out;
  std::error_code ec;
  if (!fs::is_directory(settings_.dir, ec))
    return out;
  for (const auto& entry : fs::directory_iterator(settings_.dir, ec)) {
    if (!entry.is_regular_file())
      continue;
    const auto name = entry.path().filename().string();
    if (auto parsed = parse_backup_file_name(name))
      out.push_back(read_backup(entry.path(), *parsed));
  }
  std::sort(out.begin(), out.end(), [](const BackupInfo& a, const BackupInfo& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.name > b.name;
  });
  return out;
}

BackupInfo Backups::find(std::string_view name) const {
  if (name == "latest") {
    auto all = list();
    if (all.empty())
      throw BackupError("there are no backups in " + settings_.dir.string());
    return all.front();
  }
  const auto parsed = parse_backup_file_name(name);
  if (!parsed) {
    throw BackupError("'" + std::string(name) +
                      "' is not a backup name (evolveai-<dialect>-<time>.<ext>, as `backup list` shows)");
  }
  const auto path = settings_.dir / std::string(name);
  if (!fs::is_regular_file(path))
    throw BackupError("no backup " + std::string(name) + " in " + settings_.dir.string());
  return read_backup(path, *parsed);
}

VerifyReport Backups::verify(std::string_view name, const BackupProgressFn& progress, const std::stop_token& stop) {
  VerifyReport report;
  report.backup = find(name);
  if (report.backup.dialect != engine_->dialect()) {
    throw BackupError("backup " + report.backup.name + " is a " + report.backup.dialect +
                      " backup; database.url names a " + std::string(engine_->dialect()) + " database");
  }
  if (!report.backup.has_manifest) {
    report.problem = "the manifest " + manifest_path(report.backup.path).filename().string() +
                     " is missing or unreadable: there are no counts to compare with";
    return report;
  }
  if (progress)
    progress(BackupProgress{"checking checksum", 0, 0, ""});
  report.checksum_ok = file_sha256(report.backup.path) == report.backup.sha256;
  if (!report.checksum_ok) {
    report.problem = "the file's SHA-256 differs from the manifest's: the backup was changed or damaged";
    return report;
  }
  try {
    report.restored = engine_->restore_into_scratch(report.backup.path, progress, stop);
  } catch (const BackupError& error) {
    report.problem = std::string("restoring into a scratch database failed: ") + error.what();
    return report;
  }
  report.mismatches = compare_counts(report.backup.tables, report.restored);
  return report;
}

RestoreReport Backups::restore(std::string_view name, bool force, const BackupProgressFn& progress,
                               const std::stop_token& stop) {
  RestoreReport report;
  report.backup = find(name);
  if (report.backup.dialect != engine_->dialect()) {
    throw BackupError("backup " + report.backup.name + " is a " + report.backup.dialect +
                      " backup; database.url names a " + std::string(engine_->dialect()) + " database");
  }
  if (report.backup.has_manifest) {
    if (progress)
      progress(BackupProgress{"checking checksum", 0, 0, ""});
    if (file_sha256(report.backup.path) != report.backup.sha256) {
      throw BackupError("backup " + report.backup.name + " does not match its manifest's SHA-256; not restoring it");
    }
  } else if (!force) {
    throw BackupError("backup " + report.backup.name + " has no manifest to check it against; pass --force to " +
                      "restore it anyway");
  }
  if (!force && engine_->target_has_data()) {
    throw BackupError("the database holds data; restoring would overwrite it. Pass --force to do so");
  }
  report.restored = engine_->restore(report.backup.path, progress, stop);
  if (report.backup.has_manifest)
    report.mismatches = compare_counts(report.backup.tables, report.restored);
  return report;
}

std::vector<BackupInfo> Backups::prune(std::chrono::days retention) {
  std::vector<BackupInfo> deleted;
  const auto cutoff = now() - retention;
  auto all = list();
  for (std::size_t i = 1; i < all.size(); ++i) {  // all[0] is the newest: always kept
    if (all[i].created_at >= cutoff)
      continue;
    std::error_code ec;
    fs::remove(manifest_path(all[i].path), ec);
    if (fs::remove(all[i].path, ec))
      deleted.push_back(std::move(all[i]));
  }
  // Leftovers of interrupted backups, and manifests whose backup is gone.
  std::error_code ec;
  const auto stale_before = fs::file_time_type::clock::now() - kStalePartialAge;
  for (const auto& entry : fs::directory_iterator(settings_.dir, ec)) {
    const auto name = entry.path().filename().string();
    if (!name.starts_with(kPrefix))
      continue;
    std::error_code ignored;
    // Only old ones: a backup being written right now has both kinds for a moment.
    if (entry.last_write_time(ignored) >= stale_before)
      continue;
    if (name.ends_with(kPartialSuffix)) {
      fs::remove(entry.path(), ignored);
    } else if (name.ends_with(kManifestSuffix)) {
      const auto backup = name.substr(0, name.size() - kManifestSuffix.size());
      if (parse_backup_file_name(backup) && !fs::exists(settings_.dir / backup))
        fs::remove(entry.path(), ignored);
    }
  }
  return deleted;
}

}  // namespace evolveai::storage
