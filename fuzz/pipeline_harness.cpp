#include "pipeline_harness.h"

#include "config/config_loader.h"
#include "config/pipeline.h"
#include "config/sweep.h"
#include "test_support.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace looplab::fuzz {

namespace {

/// Where the repository's pipeline files go in the work directory: configs/ at the top, so a
/// configs/paper file's `extends = ["cpu.toml"]` reaches paper/cpu.toml there.
const std::vector<std::pair<std::string, std::string>> kMirrors = {{"configs", ""}, {"tests/e2e/data", "e2e"}};

/// The pipeline files below `root`, sorted (a stable seed order).
std::vector<fs::path> toml_files(const fs::path& root) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file() && entry.path().extension() == ".toml") out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// The directory of the work directory that `file` (below `root`, mirrored at `to`) is copied
/// to: "" for the top, else "paper", "e2e" and the like, as `#dir` names it.
std::string mirror_dir(const std::string& to, const fs::path& root, const fs::path& file) {
  std::string dir = (fs::path(to) / fs::relative(file.parent_path(), root)).lexically_normal().string();
  if (dir == ".") return "";
  if (!dir.empty() && dir.back() == '/') dir.pop_back();  // "paper/." normalises to "paper/"
  return dir;
}

/// The rest of the line starting at `pos` after `prefix`, if the line starts with it.
bool header_line(std::string_view input, size_t pos, std::string_view prefix, std::string& rest, size_t& next) {
  if (input.compare(pos, prefix.size(), prefix) != 0) return false;
  size_t end = input.find('\n', pos);
  if (end == std::string_view::npos) end = input.size();
  rest = std::string(input.substr(pos + prefix.size(), end - pos - prefix.size()));
  next = end + 1;
  return true;
}

}  // namespace

InputHeader parse_header(std::string_view input) {
  InputHeader header;
  size_t pos = 0;
  std::string rest;
  while (pos < input.size()) {
    if (header_line(input, pos, "#set ", rest, pos))
      header.sets.push_back(rest);
    else if (header_line(input, pos, "#dir ", rest, pos))
      header.dir = rest;
    else
      break;
  }
  return header;
}

PipelineHarness::PipelineHarness()
    : verbose_(std::getenv("LOOPLAB_FUZZ_VERBOSE") != nullptr),
      work_dir_(test::temp_dir("fuzz")),
      registry_(test::bundled_registry()) {
  for (const auto& [from, to] : kMirrors) {
    const fs::path root = fs::path(LOOPLAB_SOURCE_DIR) / from;
    for (const auto& file : toml_files(root)) {
      const std::string rel = mirror_dir(to, root, file);
      test::write_file((fs::path(work_dir_) / rel / file.filename()).string(), test::read_file(file.string()));
      dirs_.insert(rel);
    }
  }
  test::write_file(work_dir_ + "/base.toml", test::read_file(LOOPLAB_SOURCE_DIR "/tests/e2e/data/tiny.toml"));
  dirs_.insert("");
  if (!registry_.problems().empty()) throw std::runtime_error(registry_.problems().front());
  if (registry_.files().empty()) throw std::runtime_error("no plugins in the build (build the project first)");
}

void PipelineHarness::run(std::string_view input) const {
  const InputHeader header = parse_header(input);
  const std::string dir = dirs_.count(header.dir) ? header.dir : "";
  const std::string file = (fs::path(work_dir_) / dir / "input.toml").string();
  test::write_file(file, std::string(input));
  try {
    // As validate_command: the document first, then either its sweep or the pipeline.
    toml::table doc = host::load_config(file, header.sets);
    if (!host::has_sweep(doc)) {
      host::build_pipeline(doc, file, registry_, nullptr);
      if (verbose_) std::cerr << "valid pipeline\n";
      return;
    }
    host::Diagnostics diags;
    auto members = host::expand_sweep(doc, diags);
    if (!diags.empty()) throw host::ConfigError(diags);
    if (members.size() > kMaxMembers) members.resize(kMaxMembers);
    host::build_sweep(file, header.sets, members, registry_, nullptr);
    if (verbose_) std::cerr << "valid sweep\n";
  } catch (const host::ConfigError& e) {
    // What the CLI prints.
    const std::string text = e.diagnostics().render();
    if (text.empty()) throw std::logic_error("a ConfigError without diagnostics");
    if (verbose_) std::cerr << text;
  }
}

std::vector<std::pair<std::string, std::string>> PipelineHarness::seeds() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [from, to] : kMirrors) {
    const fs::path root = fs::path(LOOPLAB_SOURCE_DIR) / from;
    for (const auto& file : toml_files(root)) {
      const std::string dir = mirror_dir(to, root, file);
      std::string name = fs::relative(file, LOOPLAB_SOURCE_DIR).string();
      std::replace(name.begin(), name.end(), '/', '_');
      out.emplace_back(name, (dir.empty() ? "" : "#dir " + dir + "\n") + test::read_file(file.string()));
    }
  }
  // What the files alone do not show: overrides, and extending base.toml.
  out.emplace_back("overrides.toml",
                   "#set model.loops=3\n#set model.blocks.0.n_head=4\n#set training.lr=1e-3\n"
                   "#set evaluation.iterations=[2, 4]\n#set run.name=over\nextends = \"base.toml\"\n");
  out.emplace_back("sweep_overrides.toml",
                   "#set run.seed=3\n#set model.n_embd=64\nextends = \"base.toml\"\n[sweep]\nseeds = [0, 1]\n"
                   "[sweep.grid]\n\"model.loops\" = [2, 3]\n[sweep.zip]\n\"model.n_embd\" = [16, 32]\n"
                   "\"model.blocks.0.n_head\" = [2, 4]\n");
  return out;
}

}  // namespace looplab::fuzz
