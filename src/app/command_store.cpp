#include "app/command_store.hpp"

#include "app/store_wiring.hpp"
#include "storage/open_store.hpp"

namespace evolveai::app {
namespace {

/// Threads for SQLite calls made by a one-shot command.
constexpr std::size_t kCommandThreads = 2;

}  // namespace

CommandStore::CommandStore(const Config& config)
    : blocking_(kCommandThreads),
      store_(storage::open_store(store_settings(config, {}), blocking_, io_.get_executor())) {}

CommandStore::~CommandStore() = default;

}  // namespace evolveai::app
