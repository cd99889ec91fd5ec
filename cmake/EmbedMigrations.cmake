# Writes a C++ file holding every SQL migration under ROOT as (dialect, file name, text).
file(GLOB_RECURSE files RELATIVE ${ROOT} ${ROOT}/*.sql)
list(SORT files)
set(body "")
foreach(rel IN LISTS files)
  file(READ ${ROOT}/${rel} text)
  get_filename_component(dialect ${rel} DIRECTORY)
  get_filename_component(name ${rel} NAME)
  string(APPEND body "    {\"${dialect}\", \"${name}\", R\"evolveai_sql(${text})evolveai_sql\"},\n")
endforeach()
file(WRITE ${OUT}.tmp
"// Generated from src/storage/migrations by cmake/EmbedMigrations.cmake.\n"
"#include \"storage/embedded_migrations.hpp\"\n\n"
"namespace evolveai::storage {\n\n"
"std::span<const EmbeddedMigration> embedded_migrations() {\n"
"  static const EmbeddedMigration kAll[] = {\n"
"${body}"
"    {\"\", \"\", \"\"},\n"
"  };\n"
"  return {kAll, sizeof(kAll) / sizeof(kAll[0]) - 1};\n"
"}\n\n"
"}  // namespace evolveai::storage\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
