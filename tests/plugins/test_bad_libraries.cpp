// Corrupt and hostile files on the plugin path: whatever a plugin directory holds, the host
// names each bad file in one line and carries on with the good ones. Truncations and wrong
// architectures are refused by the static checks; libraries that kill the process loading
// them by the child probe, whose verdicts are cached.
#include "common/text.h"
#include "registry/elf_check.h"
#include "registry/fault_guard.h"
#include "registry/probe_cache.h"
#include "registry/plugin_registry.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace fs = std::filesystem;

namespace looplab {
namespace {

using test::contains;

const std::string kBundled = std::string(LOOPLAB_BUILD_DIR) + "/lib/looplab/plugins";
// Corrupted in every way below; no pipeline of these tests uses its component.
const std::string kVictim = kBundled + "/liblooplab_task_decision_tree.so";
const std::string kTiny = test::tiny_pipeline();
std::string fixture(const std::string& name) { return std::string(LOOPLAB_TEST_PLUGIN_DIR) + "/" + name; }
const std::vector<std::string> kCrashes = {"segfault", "abort", "exit", "listing"};

std::string crash_fixture(const std::string& how) { return fixture("crashes/liblooplab_fixture_crash_" + how + ".so"); }

// The vetting of the looplab executable, with a cache of the test's own.
host::PluginVetting probing(const std::string& cache, double timeout_s = 30) {
  host::PluginVetting v;
  v.probe_executable = test::looplab_exe();
  v.cache_file = cache;
  v.trusted_directories = {kBundled};
  v.timeout_s = timeout_s;
  return v;
}

// The looplab command with its probe cache in `cache`; stdout and stderr together.
std::string looplab_with_cache(const std::string& cache, const std::string& args, int* rc) {
  std::string out;
  *rc = test::run_command("LOOPLAB_PROBE_CACHE=" + cache + " " + test::looplab_exe() + " " + args, &out);
  return out;
}

// Boost.DLL's wording ("boost::dll::shared_library::load() failed"), not gradient_boosting.
bool mentions_boost(const std::string& text) { return contains(text, "boost::"); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string line; std::getline(s, line);) out.push_back(line);
  return out;
}

TEST(ElfCheck, RefusesWhatWouldCrashDlopenAndPassesARealPlugin) {
  const auto dir = test::temp_dir("elf-check");
  const auto good = test::read_file(kVictim);
  EXPECT_EQ(host::elf_problem(kVictim), "");
  auto variant = [&](const std::string& name, const std::string& bytes) {
    test::write_file(dir + "/" + name, bytes);
    return host::elf_problem(dir + "/" + name);
  };
  for (size_t n : {size_t{64}, size_t{4096}, good.size() / 2, good.size() - 1})
    EXPECT_TRUE(contains(variant("cut.so", good.substr(0, n)), "truncated or corrupt library")) << n;
  EXPECT_EQ(variant("text.so", "not ELF at all\n"), "not a shared library");
  EXPECT_EQ(variant("empty.so", ""), "not a shared library");
  auto patched = good;
  patched[4] = 1;  // ELFCLASS32
  EXPECT_TRUE(contains(variant("elf32.so", patched), "built for 32-bit")) << variant("elf32.so", patched);
  patched = good;
  patched[18] = static_cast<char>(183);  // EM_AARCH64 (little-endian e_machine)
  patched[19] = 0;
  EXPECT_TRUE(contains(variant("arm.so", patched), "built for 64-bit AArch64, not for this host"))
      << variant("arm.so", patched);
  patched = good;
  patched[16] = 1;  // ET_REL
  EXPECT_EQ(variant("object.so", patched), "not a shared library (an object file)");
}

TEST(PluginProbe, RefusesLibrariesThatKillTheProcessLoadingThem) {
  const auto cache = test::temp_dir("probe") + "/cache";
  host::PluginRegistry registry(probing(cache));
  registry.load_directories({fixture("crashes"), fixture("outside_mixer")});
  ASSERT_EQ(registry.problems().size(), kCrashes.size()) << host::join(registry.problems(), "\n");
  const std::map<std::string, std::string> expected = {
      {"abort", "loading it aborted a trial process"},
      {"exit", "loading it ended a trial process (exit status 3)"},
      {"listing", "loading it crashed a trial process (Segmentation fault)"},
      {"segfault", "loading it crashed a trial process (Segmentation fault)"}};
  size_t i = 0;
  for (const auto& [how, why] : expected) EXPECT_EQ(registry.problems()[i++], crash_fixture(how) + ": error: " + why);
  // The good library after them in the search order loads.
  EXPECT_NE(registry.find(sdk::ComponentKind::Block, "outside_mixer"), nullptr);
  // The verdicts are cached: four refusals, one library that loads.
  const auto text = test::read_file(cache);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 6) << text;
  EXPECT_TRUE(contains(text, "\tok\t")) << text;
}

TEST(FaultGuard, AFaultBecomesItsNameAndTheHandlersComeBack) {
  struct sigaction before {}, after {};
  sigaction(SIGSEGV, nullptr, &before);
  volatile int* nowhere = nullptr;
  EXPECT_EQ(host::run_guarded([&] { *nowhere = 1; }), std::optional<std::string>("SIGSEGV"));
  EXPECT_EQ(host::run_guarded([] { std::raise(SIGFPE); }), std::optional<std::string>("SIGFPE"));
  int ran = 0;
  EXPECT_EQ(host::run_guarded([&] { ran = 1; }), std::nullopt);
  EXPECT_EQ(ran, 1);
  EXPECT_THROW(host::run_guarded([] { throw std::runtime_error("thrown"); }), std::runtime_error);
  sigaction(SIGSEGV, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(FaultGuard, ALibraryFaultingInItsExitTimeDestructorDoesNotCrashTheHost) {
  // The fixture works in every respect (it passes the probe, whose child exits the same way)
  // and then faults when the process exits, as a damaged library's static destructor did.
  const auto cache = test::temp_dir("exit-fault") + "/probe.cache";
  int rc = -1;
  const auto out = looplab_with_cache(cache, "plugins list --plugin-path " + fixture("exit_fault"), &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(contains(out, "analysis  last_point_error ")) << out;
  EXPECT_TRUE(contains(out, "looplab: warning: a library faulted in its exit-time destructors; ignored")) << out;
}

// A library that faults in the host although its trial load went well (here: a cached "loads"
// verdict for the fixture that faults when listed) is refused in one line, the process goes
// on, and the refusal is cached for the next start.
TEST(PluginProbe, AFaultInTheHostAfterAGoodTrialRefusesTheLibraryAndIsCached) {
  const auto cache = test::temp_dir("probe") + "/cache";
  const auto lib = crash_fixture("listing");
  {
    host::ProbeCache seeded(cache, test::looplab_exe());
    seeded.put(lib, "");
    seeded.save();
  }
  auto vetting = probing(cache);
  vetting.survive_faults = true;
  host::PluginRegistry registry(vetting);
  registry.load_directories({fixture("crashes"), fixture("outside_mixer")});
  const std::string refusal = lib + ": error: crashed (SIGSEGV) listing its components in this process";
  EXPECT_NE(std::find(registry.problems().begin(), registry.problems().end(), refusal), registry.problems().end())
      << host::join(registry.problems(), "\n");
  EXPECT_NE(registry.find(sdk::ComponentKind::Block, "outside_mixer"), nullptr);
  EXPECT_EQ(host::ProbeCache(cache, test::looplab_exe()).find(lib),
            std::optional<std::string>("crashed (SIGSEGV) listing its components in this process"));
}

TEST(PluginProbe, ACachedVerdictStandsUntilTheLibraryChanges) {
  const auto dir = test::temp_dir("probe-cache");
  const auto lib = dir + "/liblooplab_block_outside_mixer.so";
  fs::copy_file(fixture("outside_mixer/liblooplab_block_outside_mixer.so"), lib);
  const auto cache = dir + "/cache";
  {
    host::PluginRegistry first(probing(cache));
    first.load_directories({dir});
    ASSERT_TRUE(first.problems().empty()) << first.problems().front();
  }
  // A verdict the probe would never give proves that the next start reads it from the cache.
  auto text = test::read_file(cache);
  const auto ok = text.find("\tok\t");
  ASSERT_NE(ok, std::string::npos) << text;
  test::write_file(cache, text.replace(ok, 4, "\trefused planted by the test\t"));
  host::PluginRegistry second(probing(cache));
  second.load_directories({dir});
  ASSERT_EQ(second.problems().size(), 1u);
  EXPECT_EQ(second.problems()[0], lib + ": error: planted by the test");
  // A new modification time is another library: probed again, and it loads.
  fs::last_write_time(lib, fs::last_write_time(lib) + std::chrono::seconds(5));
  host::PluginRegistry third(probing(cache));
  third.load_directories({dir});
  EXPECT_TRUE(third.problems().empty()) << third.problems().front();
  EXPECT_NE(third.find(sdk::ComponentKind::Block, "outside_mixer"), nullptr);
}

TEST(PluginProbe, ALibraryThatHangsIsKilledAfterTheTimeoutAndNotCached) {
  const auto cache = test::temp_dir("probe-hang") + "/cache";
  host::PluginRegistry registry(probing(cache, 3));
  registry.load_directories({fixture("hangs")});
  ASSERT_EQ(registry.problems().size(), 1u);
  EXPECT_EQ(registry.problems()[0], fixture("hangs/liblooplab_fixture_crash_hang.so") +
                                        ": error: loading it took longer than 3 s in a trial process");
  EXPECT_FALSE(fs::exists(cache));  // the next start tries again: a busy machine is not the library's fault
}

// ---- a hundred bad files next to good ones, through the command line ------------------------

// Corrupted copies of kVictim (truncations, flipped bytes, random bytes behind an ELF magic,
// other architectures) and the crash fixtures: 100 files named bad_NNN_<how>.so.
std::vector<std::pair<std::string, std::string>> bad_files() {
  const auto good = test::read_file(kVictim);
  std::vector<std::pair<std::string, std::string>> out;
  std::mt19937_64 rng(20240611);
  auto uniform = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  std::vector<size_t> cuts = {0,
                              1,
                              4,
                              16,
                              52,
                              63,
                              64,
                              65,
                              120,
                              512,
                              1000,
                              2048,
                              4095,
                              4096,
                              4097,
                              8192,
                              16384,
                              good.size() / 2,
                              good.size() - 4096,
                              good.size() - 64,
                              good.size() - 1};
  while (cuts.size() < 40) cuts.push_back(uniform(good.size()));
  for (size_t n : cuts) out.emplace_back("cut" + std::to_string(n), good.substr(0, n));
  for (int i = 0; i < 50; ++i) {
    auto flipped = good;
    // Half within the first page (headers, symbol and string tables), half anywhere.
    const size_t range = i % 2 == 0 ? 4096 : good.size();
    for (size_t k = 0, flips = 1 + uniform(8); k < flips; ++k)
      flipped[uniform(range)] ^= static_cast<char>(1 + uniform(255));
    out.emplace_back("flip" + std::to_string(i), flipped);
  }
  auto noise = [&](size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  };
  out.emplace_back("random",
                   "\x7f"
                   "ELF" +
                       noise(4092));
  out.emplace_back("random64", std::string("\x7f"
                                           "ELF\x02\x01\x01",
                                           7) +
                                   noise(8185));
  out.emplace_back("realheader", good.substr(0, 64) + noise(good.size() - 64));
  for (auto [offset, value, name] :
       {std::tuple<size_t, int, const char*>{4, 1, "elfclass32"}, {18, 183, "aarch64"}, {5, 2, "bigendian"}}) {
    auto other = good;
    other[offset] = static_cast<char>(value);
    out.emplace_back(name, other);
  }
  for (const auto& how : kCrashes) out.emplace_back("crash_" + how, test::read_file(crash_fixture(how)));
  return out;
}

TEST(BadLibraries, AHundredBadFilesNeverCrashTheHostAndTheGoodPluginsBesideThemWork) {
  const auto dir = test::temp_dir("bad-libraries");
  const auto plugins = dir + "/plugins", cache = dir + "/probe.cache";
  const auto variants = bad_files();
  ASSERT_EQ(variants.size(), 100u);
  std::vector<std::string> files;
  for (size_t i = 0; i < variants.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "/bad_%03zu_%s.so", i, variants[i].first.c_str());
    files.push_back(plugins + name);
    test::write_file(files.back(), variants[i].second);
  }
  // Good plugins beside them that nothing else provides.
  fs::copy_file(fixture("outside_mixer/liblooplab_block_outside_mixer.so"),
                plugins + "/liblooplab_block_outside_mixer.so");
  fs::copy_file(fixture("dropin/liblooplab_analysis_dropin.so"), plugins + "/liblooplab_analysis_dropin.so");

  int rc = -1;
  const auto list = looplab_with_cache(cache, "plugins list --plugin-path " + plugins, &rc);
  ASSERT_EQ(rc, 0) << list;
  EXPECT_FALSE(mentions_boost(list)) << list;
  for (const char* good : {"block     gpt ", "task      linear_regression ", "block     outside_mixer ",
                           "analysis  last_point_error ", "task      decision_tree "})
    EXPECT_TRUE(contains(list, good)) << good << " missing from:\n" << list;
  // One line at most about each file: refused, or loaded (shadowing or shadowed by another copy).
  const auto lines = lines_of(list);
  size_t refused = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    std::vector<std::string> about;
    for (const auto& line : lines)
      if (line.rfind(f + ": ", 0) == 0) about.push_back(line);
    ASSERT_LE(about.size(), 1u) << host::join(about, "\n");
    const bool is_refused = !about.empty() && contains(about[0], ": error: ");
    refused += is_refused;
    if (!about.empty() && !is_refused) {
      EXPECT_TRUE(contains(about[0], ": warning: task 'decision_tree' is also provided by ")) << about[0];
    }
    const auto& how = variants[i].first;
    const bool cut = how.rfind("cut", 0) == 0, crash = how.rfind("crash", 0) == 0;
    if (cut || crash || how == "elfclass32" || how == "aarch64" || how == "bigendian" || how == "random") {
      ASSERT_TRUE(is_refused) << f << " was not refused:\n" << list;
    }
    if (cut) {  // no child needed to see that
      EXPECT_TRUE(contains(about[0], "truncated or corrupt library") || contains(about[0], "not a shared library"))
          << about[0];
    }
    if (crash) {
      EXPECT_TRUE(contains(about[0], "a trial process")) << about[0];
    }
  }
  EXPECT_GE(refused, 45u);

  // A pipeline beside them validates and runs (the verdicts come from the cache now).
  const std::string args = kTiny + " --plugin-path " + plugins;
  const auto valid = looplab_with_cache(cache, "validate " + args, &rc);
  EXPECT_EQ(rc, 0) << valid;
  EXPECT_TRUE(contains(valid, "ok (linear_regression")) << valid;
  EXPECT_FALSE(mentions_boost(valid)) << valid;
  const auto run = looplab_with_cache(cache,
                                      "run " + args +
                                          " --set training.steps=10 --set evaluation.prompts=32 --set "
                                          "evaluation.bootstrap=10 --set outputs.figures=false --out " +
                                          dir + "/run",
                                      &rc);
  EXPECT_EQ(rc, 0) << run;
  EXPECT_FALSE(mentions_boost(run)) << run;
  // `plugins check` refuses a bad file with its line and exit code 2, and crashes on none.
  for (size_t i : {size_t{6}, size_t{13}, variants.size() - 1}) {
    const auto check = looplab_with_cache(cache, "plugins check " + files[i], &rc);
    EXPECT_EQ(rc, 2) << check;
    EXPECT_TRUE(contains(check, files[i] + ": error: ")) << check;
    EXPECT_FALSE(mentions_boost(check)) << check;
  }
}

}  // namespace
}  // namespace looplab
