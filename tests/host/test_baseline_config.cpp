// Which baselines a pipeline evaluates: the task's list, [evaluation] baselines and
// extra_baselines, their ids and their errors (config/baselines.h).

#include "config/baselines.h"
#include "config/config_loader.h"
#include "model/model_factory.h"

#include "test_support.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace looplab::host {
namespace {

const std::string kHead =
    "[task]\n"                         // 1
    "type = \"linear_regression\"\n"   // 2
    "n_dims = 3\n"                     // 3
    "[model]\n"                        // 4
    "n_embd = 16\n"                    // 5
    "[[model.blocks]]\n"               // 6
    "type = \"gpt\"\n"                 // 7
    "n_head = 2\n"                     // 8
    "[evaluation]\n";                  // 9

class BaselineConfig : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::temp_dir("baseline-config"); }

  std::string file(const std::string& evaluation, const std::string& task = "") {
    std::string head = kHead;
    if (!task.empty()) head.replace(head.find("linear_regression"), std::string("linear_regression").size(), task);
    const auto path = dir_ + "/p.toml";
    test::write_file(path, head + evaluation);
    return path;
  }
  PipelineConfig pipeline(const std::string& path) {
    return build_pipeline(load_config(path, {}), path, test::bundled_registry(), check_factories);
  }
  std::vector<std::string> ids(const std::string& path) {
    std::vector<std::string> out;
    for (const auto& b : pipeline(path).baselines) out.push_back(baseline_id(b));
    return out;
  }
  std::string errors(const std::string& path) {
    try {
      pipeline(path);
    } catch (const ConfigError& e) {
      return e.diagnostics().render();
    }
    return "";
  }
  std::string dir_;
};

TEST_F(BaselineConfig, TheTasksOwnListByDefault) {
  EXPECT_EQ(ids(file("")), (std::vector<std::string>{"least_squares", "averaging", "nearest_neighbours"}));
  EXPECT_EQ(ids(file("", "noisy_linear_regression")),
            (std::vector<std::string>{"least_squares", "ridge", "averaging", "nearest_neighbours"}));
}

TEST_F(BaselineConfig, BaselinesReplaceTheListAndExtraBaselinesAddOrReparameterise) {
  EXPECT_EQ(ids(file("baselines = [\"averaging\", { type = \"lasso\", alpha = 0.1 }]\n")),
            (std::vector<std::string>{"averaging", "lasso(alpha=0.1)"}));
  EXPECT_EQ(ids(file("extra_baselines = [{ type = \"nearest_neighbours\", k = 5 }, \"lasso\"]\n")),
            (std::vector<std::string>{"least_squares", "averaging", "nearest_neighbours(k=5)", "lasso"}));
  // A parameter written at its default changes nothing.
  EXPECT_EQ(ids(file("baselines = [{ type = \"nearest_neighbours\", k = 3 }]\n")),
            (std::vector<std::string>{"nearest_neighbours"}));
}

TEST_F(BaselineConfig, ResolvedTomlWritesTheListEvaluated) {
  const auto cfg = pipeline(file("extra_baselines = [{ type = \"lasso\", alpha = 0.1 }]\n"));
  const auto* list = cfg.resolved.at_path("evaluation.baselines").as_array();
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(list->size(), 4u);
  EXPECT_EQ(list->at(0).value<std::string>(), "least_squares");
  const auto* lasso = list->at(3).as_table();
  ASSERT_NE(lasso, nullptr);
  EXPECT_EQ((*lasso)["type"].value<std::string>(), "lasso");
  EXPECT_EQ((*lasso)["alpha"].value<double>(), 0.1);
  // Written out and read back, it evaluates the same list.
  const auto again = dir_ + "/resolved.toml";
  write_toml(again, cfg.resolved);
  std::vector<std::string> back;
  for (const auto& b : pipeline(again).baselines) back.push_back(baseline_id(b));
  EXPECT_EQ(back, (std::vector<std::string>{"least_squares", "averaging", "nearest_neighbours", "lasso(alpha=0.1)"}));
}

TEST_F(BaselineConfig, ErrorsPointAtTheEntry) {
  const auto path = file("baselines = [\"least_squares\", \"lassso\", { type = \"lasso\", alpha = -1.0 }, 3]\n");
  const auto out = errors(path);
  EXPECT_TRUE(test::contains(out, path + ":10:31: error: unknown baseline 'lassso' (did you mean 'lasso'?)")) << out;
  EXPECT_TRUE(test::contains(out, path + ":10:67: error: parameter 'alpha' for baseline 'lasso': value -1.0 is out of range >= 0")) << out;
  EXPECT_TRUE(test::contains(out, path + ":10:75: error: a baseline is a name or a table { type = \"...\", <parameters> }; got int")) << out;

  const auto twice = file("baselines = [\"lasso\", { type = \"lasso\", alpha = 0.01 }]\n");
  EXPECT_TRUE(test::contains(errors(twice), "baseline lasso is listed twice")) << errors(twice);

  const auto scalar = file("baselines = \"lasso\"\n");
  EXPECT_TRUE(test::contains(errors(scalar), scalar + ":10:13: error: [evaluation] baselines must be a list"))
      << errors(scalar);
}

}  // namespace
}  // namespace looplab::host
