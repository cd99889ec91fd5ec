#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace evolveai::storage {

/// The bytes the database of `url` takes on disk now: the SQLite file with its WAL and shared
/// memory files, or `pg_database_size` of the PostgreSQL database the URL names. 0 for a SQLite
/// file that does not exist yet. Blocks (one short-lived connection for PostgreSQL); throws
/// std::runtime_error with the engine's message when the size cannot be read.
[[nodiscard]] std::uintmax_t database_size_bytes(const std::string& url, std::chrono::seconds connect_timeout);

}  // namespace evolveai::storage
