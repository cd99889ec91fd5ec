#include "storage/migrations.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>
#include <map>
#include <utility>

#include "storage/embedded_migrations.hpp"

namespace evolveai::storage {

const char* to_string(MigrationState state) noexcept {
  switch (state) {
    case MigrationState::kApplied: return "applied";
    case MigrationState::kPending: return "pending";
    case MigrationState::kChanged: return "changed";
    case MigrationState::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string migration_checksum(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw MigrationError("cannot compute a migration checksum (SHA-256 unavailable)");
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(std::size_t{length} * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

namespace {

int parse_version(const std::string& name, std::string_view dialect) {
  // NNNN_name.sql: at least one digit, an underscore, a name, the .sql suffix.
  const auto underscore = name.find('_');
  const bool shaped = underscore != std::string::npos && underscore > 0 && name.size() > underscore + 5 &&
                      name.ends_with(".sql") &&
                      std::all_of(name.begin(), name.begin() + static_cast<std::ptrdiff_t>(underscore),
                                  [](char c) { return c >= '0' && c <= '9'; });
  int version = 0;
  if (shaped) {
    const auto [end, ec] = std::from_chars(name.data(), name.data() + underscore, version);
    if (ec != std::errc() || end != name.data() + underscore || version <= 0)
      version = 0;
  }
  if (version == 0) {
    throw MigrationError("migration file " + std::string(dialect) + "/" + name +
                         " is not named NNNN_name.sql with NNNN > 0");
  }
  return version;
}

}  // namespace

std::vector<Migration> make_migrations(const std::vector<std::pair<std::string, std::string>>& files,
                                       std::string_view dialect) {
  std::vector<Migration> out;
  out.reserve(files.size());
  for (const auto& [name, sql] : files) {
    out.push_back(Migration{parse_version(name, dialect), name, sql, migration_checksum(sql)});
  }
  std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      throw MigrationError("migration files " + std::string(dialect) + "/" + out[i - 1].name + " and " + out[i].name +
                           " share version " + std::to_string(out[i].version));
    }
  }
  return out;
}

std::vector<Migration> migrations_for(std::string_view dialect) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& m : embedded_migrations()) {
    if (dialect == m.dialect)
      files.emplace_back(m.name, m.sql);
  }
  if (files.empty())
    throw MigrationError("no migrations are compiled in for dialect " + std::string(dialect));
  return make_migrations(files, dialect);
}

std::vector<MigrationStatus> compare_migrations(const std::vector<Migration>& known,
                                                const std::vector<AppliedMigration>& applied) {
  std::map<int, MigrationStatus> by_version;
  std::map<int, const AppliedMigration*> recorded;
  for (const auto& a : applied)
    recorded[a.version] = &a;
  for (const auto& m : known) {
    MigrationStatus s{m.version, m.name, MigrationState::kPending, std::nullopt};
    if (auto it = recorded.find(m.version); it != recorded.end()) {
      s.applied_at = it->second->applied_at;
      s.state = it->second->checksum == m.checksum ? MigrationState::kApplied : MigrationState::kChanged;
    }
    by_version.emplace(m.version, std::move(s));
  }
  for (const auto& a : applied) {
    if (!by_version.contains(a.version)) {
      by_version.emplace(a.version, MigrationStatus{a.version, a.name, MigrationState::kUnknown, a.applied_at});
    }
  }
  std::vector<MigrationStatus> out;
  out.reserve(by_version.size());
  for (auto& [version, s] : by_version)
    out.push_back(std::move(s));
  return out;
}

Migrator::Migrator(MigrationDriver& driver, std::string dialect, std::vector<Migration> known, Clock clock)
    : driver_(driver), dialect_(std::move(dialect)), known_(std::move(known)), clock_(std::move(clock)) {}

Task<std::vector<MigrationStatus>> Migrator::status() {
  co_await driver_.lock();
  std::exception_ptr failure;
  std::vector<AppliedMigration> applied;
  try {
    applied = co_await driver_.applied();
  } catch (...) {
    failure = std::current_exception();
  }
  co_await driver_.unlock();
  if (failure)
    std::rethrow_exception(failure);
  co_return compare_migrations(known_, applied);
}

Task<std::vector<MigrationStatus>> Migrator::up() {
  co_await driver_.lock();
  std::exception_ptr failure;
  std::vector<MigrationStatus> done;
  try {
    const auto recorded = co_await driver_.applied();
    const auto states = compare_migrations(known_, recorded);
    for (const auto& s : states) {
      if (s.state == MigrationState::kChanged) {
        throw MigrationError("migration " + dialect_ + "/" + s.name +
                             " was changed after it was applied (checksum differs from the one recorded); "
                             "restore the original file and add a new migration instead");
      }
    }
    for (const auto& s : states) {
      if (s.state != MigrationState::kPending)
        continue;
      const auto& m =
          *std::find_if(known_.begin(), known_.end(), [&](const Migration& k) { return k.version == s.version; });
      const Time now = clock_();
      bool applied_here = false;
      try {
        applied_here = co_await driver_.apply(m, now);
      } catch (const MigrationError&) {
        throw;
      } catch (const std::exception& e) {
        throw MigrationError("migration " + dialect_ + "/" + m.name + " failed: " + e.what());
      }
      if (!applied_here)
        continue;
      done.push_back(MigrationStatus{m.version, m.name, MigrationState::kApplied, now});
    }
  } catch (...) {
    failure = std::current_exception();
  }
  co_await driver_.unlock();
  if (failure)
    std::rethrow_exception(failure);
  co_return done;
}

}  // namespace evolveai::storage
