// libFuzzer target: every input through the pipeline loader and validation
// (pipeline_harness.h says what an input is). Built by fuzz/CMakeLists.txt, run by scripts/fuzz.sh.

#include "pipeline_harness.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <string_view>

namespace {

std::unique_ptr<looplab::fuzz::PipelineHarness> harness;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  try {
    harness = std::make_unique<looplab::fuzz::PipelineHarness>();
  } catch (const std::exception& e) {
    std::cerr << "fuzz_pipeline: cannot set up: " << e.what() << "\n";
    std::exit(1);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exception escaping run() terminates the process: libFuzzer reports it as a crash.
  harness->run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
