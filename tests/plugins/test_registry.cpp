// The plugin registry: discovery of the bundled plugins and one clear line per bad library.
#include "common/text.h"
#include "registry/plugin_registry.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <string>

namespace looplab {
namespace {

using test::contains;
using test::looplab;

const std::string kBundled = std::string(LOOPLAB_BUILD_DIR) + "/lib/looplab/plugins";
std::string fixture(const std::string& name) { return std::string(LOOPLAB_TEST_PLUGIN_DIR) + "/" + name; }

TEST(PluginRegistry, FindsTheBundledPlugins) {
  host::PluginRegistry registry;
  registry.load_directories({kBundled});
  EXPECT_TRUE(registry.problems().empty()) << registry.problems().front();
  ASSERT_NE(registry.find(sdk::ComponentKind::Block, "gpt"), nullptr);
  ASSERT_NE(registry.find(sdk::ComponentKind::Task, "linear_regression"), nullptr);
  ASSERT_NE(registry.find(sdk::ComponentKind::Task, "noisy_linear_regression"), nullptr);
  EXPECT_EQ(registry.find(sdk::ComponentKind::Task, "gpt"), nullptr);  // kinds are separate namespaces
  EXPECT_TRUE(contains(registry.find(sdk::ComponentKind::Block, "gpt")->file, "liblooplab_block_gpt.so"));
}

TEST(PluginRegistry, RefusesAnotherSdkAndLibTorchNamingTheFileAndBothVersions) {
  host::PluginRegistry registry;
  const auto file = fixture("wrong_abi/liblooplab_fixture_wrong_abi.so");
  EXPECT_FALSE(registry.load_file(file));
  ASSERT_EQ(registry.problems().size(), 1u);
  const auto& line = registry.problems()[0];
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_TRUE(contains(line, file + ": error: incompatible plugin")) << line;
  EXPECT_TRUE(contains(line, "built for SDK 99.0, ABI 1.0, LibTorch 1.13, C++11 ABI 0")) << line;
  const auto host = sdk::this_build();
  EXPECT_TRUE(contains(line, "this host is SDK " + std::to_string(host.sdk_major) + "." +
                                 std::to_string(host.sdk_minor) + ", ABI 1.0, LibTorch " +
                                 std::to_string(host.torch_major) + "." + std::to_string(host.torch_minor) +
                                 ", C++11 ABI 1"))
      << line;
}

TEST(PluginRegistry, RefusesAPluginBuiltAgainstAnotherSdkMajor) {
  host::PluginRegistry registry;
  const auto file = fixture("future_sdk/liblooplab_block_future_sdk.so");
  EXPECT_FALSE(registry.load_file(file));
  ASSERT_EQ(registry.problems().size(), 1u);
  EXPECT_TRUE(contains(registry.problems()[0], file + ": error: incompatible plugin: built for SDK 99."))
      << registry.problems()[0];
  EXPECT_EQ(registry.find(sdk::ComponentKind::Block, "future_identity"), nullptr);
}

TEST(PluginRegistry, AThrowingFactoryIsAConfigErrorAndTheHostStaysUsable) {
  const auto dir = test::temp_dir("explodes");
  test::write_file(
      dir + "/p.toml",
      "[task]\ntype = \"linear_regression\"\n[model]\nn_embd = 32\n[[model.blocks]]\ntype = \"explodes\"\n");
  std::string out;
  EXPECT_EQ(test::run_command(
                test::looplab_exe() + " validate " + dir + "/p.toml --plugin-path " + fixture("duplicate"), &out),
            2);
  EXPECT_TRUE(contains(out, dir + "/p.toml:5:1: error: block 'explodes': this block refuses to be built")) << out;
  EXPECT_EQ(test::run_command(test::looplab_exe() + " plugins list --plugin-path " + fixture("duplicate"), &out), 0);
  EXPECT_TRUE(contains(out, "block     explodes")) << out;
  // The clash with the bundled gpt is worth a warning, not an error: both libraries work.
  EXPECT_TRUE(contains(out, "/liblooplab_block_gpt.so: warning: block 'gpt' is also provided by " +
                                fixture("duplicate/liblooplab_block_duplicate.so") + "; keeping the first\n"))
      << out;
  EXPECT_FALSE(contains(out, "error:")) << out;
}

TEST(PluginRegistry, CompatibilityChecksEveryFingerprintField) {
  const auto host = sdk::this_build();
  EXPECT_TRUE(sdk::compatible(host, host));
  auto older = host;
  older.sdk_minor -= 1;  // an older minor only lacks what was added since
  EXPECT_TRUE(sdk::compatible(older, host));
  auto newer = host;
  newer.sdk_minor += 1;  // a newer one may hand over a kind this host does not know
  EXPECT_FALSE(sdk::compatible(newer, host));
  for (int field = 0; field < 4; ++field) {
    auto other = host;
    if (field == 0) other.sdk_major += 1;
    if (field == 1) other.torch_major += 1;
    if (field == 2) other.torch_minor += 1;
    if (field == 3) other.cxx11_abi = 1 - other.cxx11_abi;
    EXPECT_FALSE(sdk::compatible(other, host)) << "field " << field;
  }
}

TEST(PluginRegistry, RefusesALibraryWithoutTheEntrySymbol) {
  host::PluginRegistry registry;
  const auto file = fixture("no_entry/liblooplab_fixture_no_entry.so");
  EXPECT_FALSE(registry.load_file(file));
  ASSERT_EQ(registry.problems().size(), 1u);
  EXPECT_EQ(registry.problems()[0], file + ": error: not a looplab plugin (no looplab_plugin_entry symbol)");
}

TEST(PluginRegistry, RefusesAFileThatIsNotALibrary) {
  const auto dir = test::temp_dir("junk");
  test::write_file(dir + "/libjunk.so", "this is text, not ELF\n");
  test::write_file(dir + "/empty.so", "");
  host::PluginRegistry registry;
  registry.load_directories({dir});
  ASSERT_EQ(registry.problems().size(), 2u);
  EXPECT_EQ(registry.problems()[0], dir + "/empty.so: error: not a shared library");
  EXPECT_EQ(registry.problems()[1], dir + "/libjunk.so: error: not a shared library");
  EXPECT_TRUE(registry.all().empty());
}

TEST(PluginRegistry, ReportsAComponentTableThatThrows) {
  host::PluginRegistry registry;
  const auto file = fixture("throws_listing/liblooplab_block_throws_listing.so");
  EXPECT_FALSE(registry.load_file(file));
  ASSERT_EQ(registry.problems().size(), 1u);
  EXPECT_EQ(registry.problems()[0],
            file + ": error: plugin 'throws_listing' failed to list its components: component table exploded");
}

TEST(PluginRegistry, DuplicateNamesKeepTheFirstAndNameBothFiles) {
  host::PluginRegistry registry;
  registry.load_directories({kBundled, fixture("duplicate")});
  const auto dup = fixture("duplicate/liblooplab_block_duplicate.so");
  ASSERT_EQ(registry.problems().size(), 1u);
  EXPECT_EQ(registry.problems()[0], dup + ": warning: block 'gpt' is also provided by " + kBundled +
                                        "/liblooplab_block_gpt.so; keeping the first");
  EXPECT_TRUE(contains(registry.find(sdk::ComponentKind::Block, "gpt")->file, "liblooplab_block_gpt.so"));
  // The clashing library's other components still load.
  ASSERT_NE(registry.find(sdk::ComponentKind::Block, "explodes"), nullptr);
}

TEST(PluginRegistry, MissingDirectoriesAreSkippedInDiscovery) {
  auto dirs = host::plugin_directories({"/nonexistent/looplab"}, {});
  ASSERT_FALSE(dirs.empty());
  for (const auto& d : dirs) EXPECT_NE(d, "/nonexistent/looplab");
  EXPECT_TRUE(contains(dirs.back(), "lib/looplab/plugins"));  // the build/install directory comes last
}

TEST(PluginRegistry, CommandLineListsPluginsAndOneLinePerBadLibrary) {
  const auto junk = test::temp_dir("junk-cli");
  test::write_file(junk + "/libjunk.so", "not a library");
  std::string out;
  const int rc = test::run_command(test::looplab_exe() + " plugins list --plugin-path " + junk + " --plugin-path " +
                                       fixture("wrong_abi") + " --plugin-path " + fixture("no_entry"),
                                   &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(contains(out, "block     gpt")) << out;
  EXPECT_TRUE(contains(out, "task      linear_regression")) << out;
  EXPECT_TRUE(contains(out, junk + "/libjunk.so: error: not a shared library\n")) << out;
  EXPECT_TRUE(contains(out, "liblooplab_fixture_wrong_abi.so: error: incompatible plugin")) << out;
  EXPECT_TRUE(contains(out, "liblooplab_fixture_no_entry.so: error: not a looplab plugin")) << out;
}

TEST(PluginRegistry, DescribeShowsTypesDefaultsRangesAndDocs) {
  std::string out;
  EXPECT_EQ(test::run_command(test::looplab_exe() + " plugins describe gpt", &out), 0) << out;
  EXPECT_TRUE(contains(out, "gpt (block, version")) << out;
  EXPECT_TRUE(contains(out, "n_head         int             default 4          [1, 1024]")) << out;
  EXPECT_TRUE(contains(out, "attention heads")) << out;
  EXPECT_EQ(test::run_command(test::looplab_exe() + " plugins describe gtp", &out), 2);
  EXPECT_TRUE(contains(out, "unknown component 'gtp' (did you mean 'gpt'?); available: gpt, ")) << out;
}

TEST(PluginRegistry, AComponentNotFoundNamesTheDirectoriesSearchedAndHowToAddOne) {
  const auto extra = test::temp_dir("searched");
  const std::string how = "; add a directory with --plugin-path DIR, LOOPLAB_PLUGIN_PATH or a pipeline's [run] plugin_paths";
  const auto searched = host::join(host::plugin_directories({extra}, {}));
  std::string out;
  EXPECT_EQ(test::run_command(test::looplab_exe() + " plugins describe gla --plugin-path " + extra, &out), 2);
  EXPECT_TRUE(contains(out, "looplab: error: unknown component 'gla'")) << out;
  EXPECT_TRUE(contains(out, "looplab: note: searched the plugin directories " + searched + how + "\n")) << out;
  EXPECT_TRUE(contains(searched, extra) && contains(searched, kBundled)) << searched;

  const auto pipeline = extra + "/p.toml";
  test::write_file(pipeline, "[task]\ntype = \"linear_regression\"\n[[model.blocks]]\ntype = \"gla\"\n");
  EXPECT_EQ(test::run_command(test::looplab_exe() + " validate " + pipeline + " --plugin-path " + extra, &out), 2);
  EXPECT_TRUE(contains(out, pipeline + ":4:8: error: unknown block 'gla'; available: gpt, ")) << out;
  EXPECT_TRUE(contains(out, pipeline + ":4:8: note: searched the plugin directories " + searched + how + "\n")) << out;
}

}  // namespace
}  // namespace looplab
