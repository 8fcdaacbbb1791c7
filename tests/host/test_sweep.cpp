// Sweep expansion: grid, zip and seeds, stable ids, values placed with their positions, and
// validation of every member before anything runs.
#include "config/config_loader.h"
#include "config/sweep.h"
#include "model/model_factory.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace looplab::host {
namespace {

using test::contains;

// A valid tiny pipeline; sweeps are appended to it.
const std::string kBase =
    "[run]\n"                         // 1
    "name = \"fam\"\n"                // 2
    "[task]\n"                        // 3
    "type = \"linear_regression\"\n"  // 4
    "n_dims = 3\n"                    // 5
    "n_points = 5\n"                  // 6
    "[model]\n"                       // 7
    "n_embd = 16\n"                   // 8
    "looped = true\n"                 // 9
    "loops = 2\n"                     // 10
    "[[model.blocks]]\n"              // 11
    "type = \"gpt\"\n"                // 12
    "n_head = 2\n"                    // 13
    "[training]\n"                    // 14
    "steps = 10\n";                   // 15

class Sweep : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::temp_dir("sweep"); }

  std::string file(const std::string& sweep) {
    const auto path = dir_ + "/fam.toml";
    test::write_file(path, kBase + sweep);
    return path;
  }

  std::vector<SweepMember> expand(const std::string& path) {
    Diagnostics diags;
    auto members = expand_sweep(load_config(path, {}), diags);
    EXPECT_TRUE(diags.empty()) << diags.render();
    return members;
  }

  std::string errors(const std::string& path) {
    Diagnostics diags;
    auto members = expand_sweep(load_config(path, {}), diags);
    if (!diags.empty()) return diags.render();
    try {
      build_sweep(path, {}, members, test::bundled_registry(), check_factories);
    } catch (const ConfigError& e) {
      return e.diagnostics().render();
    }
    return "";
  }

  std::string dir_;
};

std::vector<std::string> labels(const std::vector<SweepMember>& members) {
  std::vector<std::string> out;
  for (const auto& m : members) out.push_back(m.label);
  return out;
}

TEST_F(Sweep, GridIsTheCartesianProductLastKeyFastest) {
  const auto members = expand(file("[sweep.grid]\n\"model.loops\" = [2, 3]\n\"model.n_embd\" = [16, 32, 64]\n"));
  EXPECT_EQ(labels(members),
            (std::vector<std::string>{"model.loops=2, model.n_embd=16", "model.loops=2, model.n_embd=32",
                                      "model.loops=2, model.n_embd=64", "model.loops=3, model.n_embd=16",
                                      "model.loops=3, model.n_embd=32", "model.loops=3, model.n_embd=64"}));
  for (size_t i = 0; i < members.size(); ++i) EXPECT_EQ(members[i].index, i);
}

TEST_F(Sweep, ZipVariesTogetherAndCrossesWithGridAndSeeds) {
  const auto members =
      expand(file("[sweep]\nseeds = [0, 1]\n[sweep.grid]\n\"model.loops\" = [2, 3]\n"
                  "[sweep.zip]\n\"model.n_embd\" = [16, 32]\n\"model.blocks.0.n_head\" = [2, 4]\n"));
  ASSERT_EQ(members.size(), 2u * 2u * 2u);
  // Keys of a table come in key order (TOML tables are unordered).
  EXPECT_EQ(members[0].label, "model.loops=2, model.blocks.0.n_head=2, model.n_embd=16, run.seed=0");
  EXPECT_EQ(members[1].label, "model.loops=2, model.blocks.0.n_head=2, model.n_embd=16, run.seed=1");
  EXPECT_EQ(members[2].label, "model.loops=2, model.blocks.0.n_head=4, model.n_embd=32, run.seed=0");
  EXPECT_EQ(members[7].label, "model.loops=3, model.blocks.0.n_head=4, model.n_embd=32, run.seed=1");
}

TEST_F(Sweep, NestedTablesInTheGridAreDottedKeys) {
  const auto members = expand(file("[sweep.grid.model]\nloops = [2, 3]\n"));
  EXPECT_EQ(labels(members), (std::vector<std::string>{"model.loops=2", "model.loops=3"}));
}

TEST_F(Sweep, IdsAreReadableUniqueAndDependOnlyOnTheOverrides) {
  const auto a = expand(file("[sweep.grid]\n\"model.loops\" = [2, 3]\n\"model.n_embd\" = [16, 32]\n"));
  // The same members in another order keep their ids.
  const auto b = expand(file("[sweep.grid]\n\"model.loops\" = [3, 2]\n\"model.n_embd\" = [32, 16]\n"));
  std::set<std::string> ids;
  for (const auto& m : a) ids.insert(m.id);
  EXPECT_EQ(ids.size(), a.size());
  EXPECT_EQ(a[0].id.rfind("loops-2_n_embd-16-", 0), 0u) << a[0].id;
  EXPECT_EQ(a[0].id, b[3].id);
  EXPECT_EQ(a[3].id, b[0].id);
  // Whole block lists read as their types; equal-looking values still get distinct ids.
  const auto blocks =
      expand(file("[sweep.grid]\n\"model.blocks\" = [[{ type = \"gpt\", n_head = 2 }], "
                  "[{ type = \"gpt\", n_head = 4 }]]\n"));
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].id.rfind("blocks-gpt-", 0), 0u) << blocks[0].id;
  EXPECT_NE(blocks[0].id, blocks[1].id);
  // Lists of numbers read as their elements.
  const auto lists = expand(file("[sweep.grid]\n\"evaluation.iterations\" = [[20, 40], []]\n"));
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].id.rfind("iterations-20_40-", 0), 0u) << lists[0].id;
  EXPECT_EQ(lists[1].id.rfind("iterations-none-", 0), 0u) << lists[1].id;
}

TEST_F(Sweep, MemberDocumentPlacesValuesAndNamesTheRun) {
  const auto path = file("[sweep]\nseeds = [5]\n[sweep.grid]\n\"model.blocks.0.n_head\" = [4]\n");
  const auto members = expand(path);
  ASSERT_EQ(members.size(), 1u);
  Diagnostics diags;
  auto doc = member_document(path, {}, members[0], diags);
  ASSERT_TRUE(diags.empty()) << diags.render();
  EXPECT_FALSE(doc.contains("sweep"));
  EXPECT_EQ(doc.at_path("model.blocks[0].n_head").value<int64_t>(), 4);
  EXPECT_EQ(doc.at_path("run.seed").value<int64_t>(), 5);
  EXPECT_EQ(doc.at_path("run.name").value<std::string>(), "fam-" + members[0].id);
}

TEST_F(Sweep, EveryMemberIsValidatedAndErrorsNameTheSweepRun) {
  // Member 1 has 3 heads for a width of 16 (reported at the block table); member 2 has zero
  // loops (reported at the 0 in the sweep's array, line 18 column 24).
  const auto path = file("[sweep.zip]\n\"model.blocks.0.n_head\" = [2, 3, 2]\n\"model.loops\" = [2, 2, 0]\n");
  const auto text = errors(path);
  EXPECT_TRUE(
      contains(text, path + ":11:1: error: sweep run 1 (model.blocks.0.n_head=3, model.loops=2): block 'gpt': "))
      << text;
  EXPECT_TRUE(contains(text, path + ":18:24: error: sweep run 2 (model.blocks.0.n_head=2, model.loops=0): parameter "
                                    "'loops' for section [model]: value 0 is out of range"))
      << text;
  EXPECT_FALSE(contains(text, "sweep run 0")) << text;
}

TEST_F(Sweep, AnErrorSharedByAllMembersIsReportedOnce) {
  const auto path = file("[sweep.grid]\n\"model.loops\" = [2, 3]\n\"model.n_layr\" = [1]\n");
  const auto text = errors(path);
  // Reported at the swept value (line 18, column 19), the only position the placed key has.
  EXPECT_EQ(text, path +
                      ":18:19: error: unknown parameter 'n_layr' for section [model] (valid: n_embd, looped, loops, "
                      "window, positions, blocks)\n")
      << text;
}

TEST_F(Sweep, MalformedSweepsAreReportedWhereWritten) {
  EXPECT_EQ(errors(file("[sweep]\ngird = 1\n")),
            dir_ + "/fam.toml:17:1: error: unknown sweep key 'gird' (did you mean 'grid'?)\n");
  EXPECT_EQ(errors(file("[sweep.grid]\n\"model.loops\" = 3\n")),
            dir_ + "/fam.toml:17:17: error: sweep key 'model.loops' must be an array of the values to try\n");
  EXPECT_TRUE(contains(errors(file("[sweep.zip]\n\"model.loops\" = [2, 3]\n\"model.n_embd\" = [16]\n")),
                       "zipped keys must have equally many values: 'model.loops' has 2, 'model.n_embd' has 1"));
  EXPECT_TRUE(contains(errors(file("[sweep]\nseeds = [1, -2]\n")), "sweep seeds must be integers >= 0"));
}

TEST_F(Sweep, MoreThanTheMostRunsIsRefusedBeforeAnyIsBuilt) {
  // Eight lines of grid make 10^8 runs: refused by counting them, not by running out of memory
  // (fuzz/regressions/sweep-of-1e8-runs.toml, a timeout of the fuzz target).
  std::string grid = "[sweep.grid]\n";
  for (const char* key : {"model.loops", "model.window", "training.steps", "training.lr", "run.seed", "task.n_points",
                          "training.batch_size", "evaluation.prompts"})
    grid += std::string("\"") + key + "\" = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n";
  EXPECT_EQ(errors(file(grid)), dir_ + "/fam.toml:16:1: error: the sweep expands into more than 10000 runs\n");
  // Exactly the most expands.
  std::string seeds = "[sweep]\nseeds = [0";
  for (int i = 1; i < 100; ++i) seeds += ", " + std::to_string(i);
  seeds += "]\n[sweep.grid]\n\"model.loops\" = [1";
  for (int i = 2; i <= 100; ++i) seeds += ", " + std::to_string(i);
  EXPECT_EQ(expand(file(seeds + "]\n")).size(), kMaxSweepRuns);
}

TEST_F(Sweep, AnIndexPastTheEndOfAnArrayIsReportedAtTheSweepValue) {
  const auto text = errors(file("[sweep.grid]\n\"model.blocks.3.n_head\" = [2]\n"));
  EXPECT_TRUE(contains(text, "index 3 is out of range for 'model.blocks' (1 element)")) << text;
}

}  // namespace
}  // namespace looplab::host
