#pragma once

#include <span>

namespace evolveai::storage {

/// One SQL migration file compiled into the binary by cmake/EmbedMigrations.cmake.
struct EmbeddedMigration {
  const char* dialect;  ///< "sqlite" or "postgres": the directory under src/storage/migrations
  const char* name;     ///< file name, `NNNN_name.sql`
  const char* sql;      ///< the file's text
};

/// Every embedded migration of every dialect, sorted by dialect and file name (generated).
std::span<const EmbeddedMigration> embedded_migrations();

}  // namespace evolveai::storage
