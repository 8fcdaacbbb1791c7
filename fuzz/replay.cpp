// Replays fuzz inputs through the fuzz target's harness without libFuzzer: the kept crash
// inputs of fuzz/regressions/ and the seed corpus, in the normal build (ctest fuzz_regressions).
//   looplab_fuzz_replay [--seeds] [FILE|DIR]...   replay the seeds and/or the files (DIRs recursively)
//   looplab_fuzz_replay --write-seeds DIR         write the seed corpus into DIR (scripts/fuzz.sh)

#include "pipeline_harness.h"
#include "test_support.h"

#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

/// Replays one input; prints and counts a failure instead of stopping at it.
bool replay(const looplab::fuzz::PipelineHarness& harness, const std::string& name, const std::string& bytes) {
  try {
    harness.run(bytes);
    return true;
  } catch (const std::exception& e) {
    std::cerr << name << ": FAILED: an exception escaped the loader: " << e.what() << "\n";
  } catch (...) {
    std::cerr << name << ": FAILED: a non-standard exception escaped the loader\n";
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    looplab::fuzz::PipelineHarness harness;
    if (args.size() == 2 && args[0] == "--write-seeds") {
      for (const auto& [name, bytes] : harness.seeds()) looplab::test::write_file(args[1] + "/" + name, bytes);
      return 0;
    }
    size_t runs = 0, failures = 0;
    for (const auto& arg : args) {
      if (arg == "--seeds") {
        for (const auto& [name, bytes] : harness.seeds()) {
          ++runs;
          failures += !replay(harness, name, bytes);
        }
        continue;
      }
      std::vector<fs::path> files;
      if (fs::is_directory(arg)) {
        for (const auto& entry : fs::recursive_directory_iterator(arg))
          if (entry.is_regular_file()) files.push_back(entry.path());
      } else {
        files.push_back(arg);
      }
      for (const auto& file : files) {
        ++runs;
        failures += !replay(harness, file.string(), looplab::test::read_file(file.string()));
      }
    }
    std::cout << runs << " input(s) replayed, " << failures << " failed\n";
    return failures ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "looplab_fuzz_replay: " << e.what() << "\n";
    return 1;
  }
}
