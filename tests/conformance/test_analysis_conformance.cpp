// Conformance for analyses: every discovered analysis (bundled, or in LOOPLAB_PLUGIN_PATH) runs
// through `looplab analyze` on a tiny trained looped model and writes what it says it writes.
#include "test_support.h"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>

namespace fs = std::filesystem;

namespace looplab {
namespace {

struct AnalysisCase {
  std::string name, file;
  bool has_required = false;
};

void PrintTo(const AnalysisCase& c, std::ostream* os) { *os << c.name << " (" << c.file << ")"; }

std::vector<AnalysisCase> discovered_analyses() {
  std::vector<AnalysisCase> out;
  for (const auto* lc : test::discovered_registry().all()) {
    if (lc->component->kind() != sdk::ComponentKind::Analysis) continue;
    AnalysisCase c{lc->component->name, lc->file};
    for (const auto& p : lc->component->params) c.has_required = c.has_required || !p.fallback;
    out.push_back(c);
  }
  return out;
}

// A tiny looped model trained for a few steps (the analyses need weights, not skill).
class AnalysisConformance : public testing::TestWithParam<AnalysisCase> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::temp_dir("analysis-conformance"));
    rc_ = test::run_command(test::looplab_exe() + " run " + LOOPLAB_SOURCE_DIR +
                                "/tests/e2e/data/tiny.toml --set training.steps=20 --set evaluation.prompts=64 "
                                "--set evaluation.bootstrap=50 --out " +
                                *dir_ + "/run",
                            log_);
  }
  static std::string* dir_;
  static std::string* log_;
  static int rc_;
};
std::string* AnalysisConformance::dir_ = nullptr;
std::string* AnalysisConformance::log_ = new std::string;
int AnalysisConformance::rc_ = -1;

TEST_P(AnalysisConformance, RunsOnATrainedModelAndWritesItsOutputs) {
  const auto& c = GetParam();
  if (c.has_required) GTEST_SKIP() << c.name << " has required parameters; give them in a pipeline to check it";
  ASSERT_EQ(rc_, 0) << *log_;
  const std::string run = *dir_ + "/run";
  std::string out;
  const int rc = test::run_command(test::looplab_exe() + " analyze " + run + " --analysis " + c.name +
                                       " --plugin-path " + fs::path(c.file).parent_path().string(),
                                   &out);
  ASSERT_EQ(rc, 0) << out;
  const auto dir = run + "/analyses/" + c.name;
  ASSERT_TRUE(fs::is_directory(dir)) << out;
  int tables = 0, pictures = 0, scripts = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    tables += e.path().extension() == ".csv";
    pictures += e.path().extension() == ".png";
    scripts += e.path().extension() == ".gp";
  }
  EXPECT_GE(tables, 1) << c.name << " wrote no table";
  EXPECT_EQ(pictures, scripts) << c.name << ": every queued figure must be rendered";
  EXPECT_NE(test::read_file(run + "/report.md").find("## Analysis: " + c.name), std::string::npos);
}

std::string case_name(const testing::TestParamInfo<AnalysisCase>& info) {
  std::string out;
  for (char ch : info.param.name) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out;
}

INSTANTIATE_TEST_SUITE_P(Plugins, AnalysisConformance, testing::ValuesIn(discovered_analyses()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(AnalysisConformance);

}  // namespace
}  // namespace looplab
