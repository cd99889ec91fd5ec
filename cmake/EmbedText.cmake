# Writes a C++ file defining `std::string_view NAMESPACE::FUNCTION()` that returns the text of IN.
file(READ ${IN} text)
file(WRITE ${OUT}.tmp
"// Generated from ${IN} by cmake/EmbedText.cmake.\n"
"#include <string_view>\n\n"
"namespace ${NAMESPACE} {\n\n"
"std::string_view ${FUNCTION}() {\n"
"  static constexpr std::string_view kText = R\"evolveai_text(${text})evolveai_text\";\n"
"  return kText;\n"
"}\n\n"
"}  // namespace ${NAMESPACE}\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
