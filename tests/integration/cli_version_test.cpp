// `evolveai version`: the release, the commit and the build date, and a CHANGELOG entry for it.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "app/build_info.hpp"
#include "support/run_command.hpp"
#include "support/test_app.hpp"

namespace evolveai {
namespace {

TEST(CliVersion, PrintsTheSemanticVersionCommitAndBuildDate) {
  const testing::TempDir dir;
  const auto result = testing::run_evolveai("", "version", dir.path());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::regex line(R"(evolveai (\d+\.\d+\.\d+) \(commit ([^,\s]+), built )"
                        R"((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\)\n)");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(result.output, match, line)) << result.output;
  EXPECT_EQ(match[1].str(), app::build_version());
  EXPECT_EQ(match[2].str(), app::build_commit());
  EXPECT_EQ(match[3].str(), app::build_date());
}

TEST(CliVersion, TheChangelogDescribesThisVersion) {
  std::ifstream file(std::string(EVOLVEAI_SOURCE_DIR) + "/CHANGELOG.md");
  ASSERT_TRUE(file) << "CHANGELOG.md is missing";
  std::stringstream text;
  text << file.rdbuf();
  const auto heading = "## [" + std::string(app::build_version()) + "]";
  EXPECT_NE(text.str().find(heading), std::string::npos)
      << "CHANGELOG.md has no '" << heading << "' section: add one when project(VERSION) changes";
  EXPECT_NE(text.str().find("## [Unreleased]"), std::string::npos);
}

}  // namespace
}  // namespace evolveai
