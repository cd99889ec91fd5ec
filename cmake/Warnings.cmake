add_library(evolveai_warnings INTERFACE)
target_compile_options(evolveai_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wformat=2
  $<$<BOOL:${EVOLVEAI_WERROR}>:-Werror>)
