// `looplab export`: a run's trained weights, pipeline and evaluation prompts in one file that
// Python's `torch.load` reads (docs/model.md#exported-weights; python/looplab loads it).

#include "cli/commands.h"
#include "cli/pipeline_loading.h"
#include "common/devices.h"
#include "common/errors.h"
#include "common/files.h"
#include "evaluation/evaluation.h"
#include "model/model_factory.h"
#include "training/checkpoint.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/torch.h>

#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace looplab::host {

namespace {

// Bumped when a key changes meaning; python/looplab refuses versions it does not know.
constexpr int64_t kExportFormatVersion = 1;

// Only str, int, float, bool, tensors and plain lists and dicts of them: what torch.load's
// default weights_only unpickler accepts. Typed lists (c10::List<int64_t>) would pickle
// through torch.jit._pickle, which it refuses, hence GenericList.
using Dict = c10::impl::GenericDict;
Dict new_dict() { return Dict(c10::StringType::get(), c10::AnyType::get()); }

c10::impl::GenericList int_list(const std::vector<int64_t>& values) {
  c10::impl::GenericList out(c10::AnyType::get());
  for (auto v : values) out.push_back(v);
  return out;
}

c10::impl::GenericList string_list(const std::vector<std::string>& values) {
  c10::impl::GenericList out(c10::AnyType::get());
  for (const auto& v : values) out.push_back(v);
  return out;
}

// `value` as torch.save writes it (a zip of data.pkl and one record per storage). This is
// torch::pickle_save without its type tags: those call torch.jit._pickle.restore_type_tag,
// which torch.load's default weights_only unpickler refuses.
std::string python_pickle(const c10::IValue& value) {
  std::string pickled;
  torch::jit::Pickler pickler([&](const char* data, size_t size) { pickled.append(data, size); }, nullptr, nullptr,
                              nullptr, nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(value);
  pickler.stop();
  std::string out;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    out.append(static_cast<const char*>(data), size);
    return size;
  });
  torch::jit::writeArchiveAndTensors("data", pickled.data(), pickled.size(), pickler.tensorData(), writer);
  writer.writeEndOfFile();
  return out;
}

// Every parameter and buffer under its module path, on the CPU, each with its own storage
// (a view would pickle its whole base).
Dict state_dict(SequenceModel& model) {
  auto out = new_dict();
  for (const auto& item : model->named_parameters(true)) out.insert(item.key(), item.value().detach().cpu().clone());
  for (const auto& item : model->named_buffers(true)) out.insert(item.key(), item.value().detach().cpu().clone());
  return out;
}

// The block type at each index of `blocks.<i>`, repeats expanded.
std::vector<std::string> block_types(const PipelineConfig& cfg) {
  std::vector<std::string> out;
  for (const auto& block : cfg.blocks)
    for (int64_t r = 0; r < block.repeat; ++r) out.push_back(block.type);
  return out;
}

// LibTorch's first sentence of why a file does not load (the rest is advice on corruption).
std::string first_sentence(const std::exception& e) {
  const auto why = error_text(e);
  return why.substr(0, std::min(why.find('\n'), why.find(". ")));
}

// The checkpoint to export: the one of `step`, or the newest that loads (an unreadable one
// is reported and skipped, as a resume does, but left in place: export only reads).
// Returns the loaded checkpoint and its path, or nullopt after printing why not.
std::optional<std::pair<Checkpoint, std::string>> load_checkpoint(const RunDir& dir, std::optional<int64_t> step,
                                                                  SequenceModel& model) {
  const c10::Device cpu(c10::kCPU);
  if (step) {
    const auto path = (fs::path(dir.checkpoints()) / Checkpoint::file_name(*step)).string();
    if (!fs::exists(path)) {
      std::string have;
      for (const auto& p : Checkpoint::all(dir.checkpoints()))  // newest first: listed oldest first
        if (const auto s = Checkpoint::step_of(p); s >= 0) have = std::to_string(s) + (have.empty() ? "" : ", ") + have;
      print_error(dir.path + " has no checkpoint at step " + std::to_string(*step) +
                  (have.empty() ? " (it has none)" : " (steps: " + have + ")"));
      return std::nullopt;
    }
    try {
      return std::make_pair(Checkpoint::load(path, model, nullptr, cpu), path);
    } catch (const std::exception& e) {
      print_error("cannot read checkpoint " + path + ": " + first_sentence(e));
      return std::nullopt;
    }
  }
  for (const auto& path : Checkpoint::all(dir.checkpoints())) {
    try {
      return std::make_pair(Checkpoint::load(path, model, nullptr, cpu), path);
    } catch (const std::exception& e) {
      std::cerr << "looplab: warning: cannot read checkpoint " << path << " (" << first_sentence(e)
                << "); trying the one before it\n";
    }
  }
  print_error(dir.path + " has no readable checkpoint (train it first: looplab run)");
  return std::nullopt;
}

}  // namespace

int export_command(const std::vector<std::string>& args) {
  std::vector<std::string> plugin_paths;
  std::string run_dir, out;
  int64_t step = -1;
  bool predictions = false;
  auto desc = help_options();
  desc.add_options()("out", po::value(&out), "file to write (default RUN_DIR/export/model.pt)")(
      "checkpoint", po::value(&step), "export the checkpoint of this step (default: the newest)")(
      "predictions", po::bool_switch(&predictions), "add looplab's predictions on the evaluation prompts")(
      "plugin-path", po::value(&plugin_paths)->composing(), "extra plugin directory (repeatable)")(
      "run", po::value(&run_dir), "run directory");
  po::positional_options_description pos;
  pos.add("run", 1);
  po::variables_map vm;
  const char* usage = "usage: looplab export RUN_DIR [--out FILE.pt] [--checkpoint STEP] [--predictions]\n";
  const char* tail =
      "\nThe file holds the state dict, resolved.toml, metadata and the evaluation prompts; in Python:\n"
      "  import looplab; model = looplab.load(FILE)   (python/looplab, docs/model.md#exported-weights)\n";
  if (auto done = parse_command_line(args, desc, pos, vm, usage, tail)) return *done;
  if (run_dir.empty()) return usage_error("export needs a RUN_DIR", usage);
  if (vm.count("checkpoint") && step < 0) return usage_error("--checkpoint needs a step >= 0", usage);
  auto existing = open_run_dir(run_dir);
  if (!existing) return kBadInput;
  const RunDir& dir = *existing;
  auto cfg = load_pipeline(dir.resolved(), CommonOptions{plugin_paths, {}});
  if (!cfg) return kBadInput;

  auto task = make_task(*cfg);
  auto model = make_model(*cfg);
  auto loaded = load_checkpoint(dir, vm.count("checkpoint") ? std::optional<int64_t>(step) : std::nullopt, model);
  if (!loaded) return kBadInput;
  const auto& [checkpoint, checkpoint_path] = *loaded;

  auto meta = new_dict();
  meta.insert("looplab_version", std::string(LOOPLAB_VERSION));
  meta.insert("step", checkpoint.step);
  meta.insert("checkpoint", fs::path(checkpoint_path).filename().string());
  meta.insert("task", cfg->task.type);
  meta.insert("n_dims", cfg->n_dims);
  meta.insert("n_points", cfg->n_points);
  meta.insert("n_embd", cfg->model.n_embd);
  meta.insert("looped", cfg->model.looped);
  meta.insert("loops", cfg->model.looped ? cfg->trained_loops() : int64_t{1});
  meta.insert("window", cfg->model.window);
  meta.insert("positions", model->options().positions());
  meta.insert("blocks", string_list(block_types(*cfg)));
  meta.insert("eval_iterations", int_list(evaluation_iterations(*cfg)));
  meta.insert("y_second_moment", task->y_second_moment(cfg->n_dims));

  // The prompts eval.csv was computed on, so a notebook can recompute it.
  const auto prompts = evaluation_prompts(*task, *cfg);
  auto prompt_dict = new_dict();
  prompt_dict.insert("xs", prompts.xs.contiguous());
  prompt_dict.insert("ys", prompts.ys.contiguous());
  if (predictions) {
    // [K, N, n] at the K evaluated iteration counts: what a port of the model must reproduce.
    // On the CPU with the run's threads; eval.csv of a GPU run differs from it by rounding.
    configure_threads(cfg->run.threads > 0 ? cfg->run.threads : read_run_status(dir).threads);
    const auto its = evaluation_iterations(*cfg);
    prompt_dict.insert("predictions", torch::stack(model_predictions(model, prompts, its, cfg->evaluation.batch_size,
                                                                     c10::Device(c10::kCPU))));
  }

  auto top = new_dict();
  top.insert("format", std::string("looplab-export"));
  top.insert("format_version", kExportFormatVersion);
  top.insert("meta", meta);
  top.insert("pipeline", read_file(dir.resolved()));
  top.insert("state_dict", state_dict(model));
  top.insert("prompts", prompt_dict);

  if (out.empty()) out = dir.export_file();
  const auto parent = fs::path(out).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  write_file_atomic(out, python_pickle(top));
  std::cout << out << "\n";
  return kOk;
}

}  // namespace looplab::host
