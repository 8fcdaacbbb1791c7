#include "training/train_step.h"

#include "training/fused_adam.h"

#include <torch/cuda.h>

#include <stdexcept>

#if defined(LOOPLAB_WITH_CUDA)
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace looplab::host {

#if defined(LOOPLAB_WITH_CUDA)

bool cuda_graphs_compiled() { return true; }

// One captured forward + backward for the current shape. Its input buffers, loss and the
// parameters' gradients live in the graph's private memory pool and are rewritten by replay().
struct TrainStep::Graphs {
  int64_t loops = -1, points = -1;
  bool warmed = false;    // the stage's first (eager) step has run
  bool disabled = false;  // a capture failed: eager from now on
  torch::Tensor xs, ys, loss, last;
  std::unique_ptr<at::cuda::CUDAGraph> graph;

  void capture(SequenceModel& model, torch::optim::Optimizer& opt, const sdk::Prompts& prompts, int64_t window) {
    // Gradients must not exist yet: the captured backward then allocates them in the graph's
    // pool, and every replay writes them afresh (no zero_grad between replays).
    opt.zero_grad(/*set_to_none=*/true);
    xs = prompts.xs.clone();
    ys = prompts.ys.clone();
    torch::cuda::synchronize();
    auto stream = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, prompts.xs.device().index());
    {
      c10::cuda::CUDAStreamGuard on_side_stream(stream);  // capture is not allowed on the legacy default stream
      graph = std::make_unique<at::cuda::CUDAGraph>();
      graph->capture_begin();
      try {
        auto l = model->window_loss(xs, ys, loops, window);
        l.loss.backward();
        loss = l.loss.detach();
        last = l.last;
        graph->capture_end();
      } catch (...) {
        try {
          graph->capture_end();
        } catch (...) {
        }
        throw;
      }
    }
    torch::cuda::synchronize();
  }
};

#else

bool cuda_graphs_compiled() { return false; }
struct TrainStep::Graphs {};

#endif

TrainStep::TrainStep(SequenceModel model, std::shared_ptr<sdk::Task> task, torch::optim::Optimizer& optimizer,
                     c10::Device device, int64_t batch_size, int64_t window, bool cuda_graphs,
                     std::shared_ptr<sdk::Logger> log, StepGuards guards)
    : model_(std::move(model)),
      task_(std::move(task)),
      optimizer_(optimizer),
      device_(device),
      batch_size_(batch_size),
      window_(window),
      guards_(guards),
      log_(std::move(log)) {
  for (const auto& group : optimizer_.param_groups())
    params_.insert(params_.end(), group.params().begin(), group.params().end());
  if (cuda_graphs && device_.is_cuda()) {
    if (cuda_graphs_compiled() && torch::cuda::is_available())
      graphs_ = std::make_unique<Graphs>();
    else if (log_)
      log_->warn("cuda_graphs: this build of looplab has no CUDA graph support; training eagerly");
  }
}

TrainStep::~TrainStep() = default;

namespace {

// The L2 norm of every gradient of `params` together, in float64 so that finite float32
// gradients cannot overflow it; NaN or inf when any gradient holds one. 0-dim, on the device;
// undefined when no parameter has a gradient.
torch::Tensor global_grad_norm(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().norm(2).to(torch::kFloat64));
  return norms.empty() ? torch::Tensor() : torch::stack(norms).norm(2);
}

}  // namespace

torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  auto total = global_grad_norm(params);
  if (!total.defined()) return total;
  // max_norm / N >= 1 (N = 0 gives inf) clamps to exactly 1: gradients within the bound stay as they are.
  auto scale = torch::div(torch::scalar_tensor(max_norm, total.options()), total).clamp_max(1.0);
  for (const auto& p : params)
    if (p.grad().defined()) p.grad().mul_(scale.to(p.grad().dtype()));
  return total;
}

torch::Tensor nonfinite_gradients(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  auto total = global_grad_norm(params);
  return total.defined() ? total.isfinite().logical_not() : total;
}

void TrainStep::update(const torch::Tensor& loss) {
  torch::Tensor norm;  // clipping measures it anyway: the skip check reuses it
  if (guards_.clip_grad_norm > 0) norm = clip_grad_norm(params_, guards_.clip_grad_norm);
  if (!guards_.skip_nonfinite) {
    optimizer_.step();
    return;
  }
  auto bad = loss.isfinite().logical_not();
  auto grads = norm.defined() ? norm.isfinite().logical_not() : nonfinite_gradients(params_);
  if (grads.defined()) bad = bad.logical_or(grads);
  skipped_ = bad.to(torch::kFloat);
  if (auto* fused = dynamic_cast<FusedAdam*>(&optimizer_)) {
    fused->skip_if(skipped_);  // the kernel reads the flag on the device
    optimizer_.step();
  } else if (!bad.item<bool>()) {  // another optimizer: a host synchronisation
    optimizer_.step();
  }
}

torch::Tensor TrainStep::eager(const sdk::Prompts& prompts, int64_t loops) {
  auto l = model_->window_loss(prompts.xs, prompts.ys, loops, window_);
  optimizer_.zero_grad();
  l.loss.backward();
  auto loss = l.loss.detach();
  update(loss);
  last_ = l.last;
  return loss;
}

#if defined(LOOPLAB_WITH_CUDA)

bool TrainStep::replaying() const { return graphs_ && graphs_->graph; }

torch::Tensor TrainStep::operator()(int64_t loops, int64_t dims, int64_t points, at::Generator& gen) {
  auto prompts = task_->sample(batch_size_, points, dims, gen, device_);
  if (!graphs_ || graphs_->disabled) return eager(prompts, loops);
  Graphs& g = *graphs_;
  if (g.loops != loops || g.points != points) {  // a new curriculum stage: a new shape
    g.graph.reset();
    g.loops = loops;
    g.points = points;
    g.warmed = false;
  }
  if (!g.warmed) {
    g.warmed = true;
    return eager(prompts, loops);
  }
  if (!g.graph) {
    try {
      g.capture(model_, optimizer_, prompts, window_);
      if (log_)
        log_->info("cuda_graphs: captured the step for b " + std::to_string(loops) + ", " + std::to_string(points) +
                   " points");
    } catch (const std::exception& e) {
      g.graph.reset();
      g.disabled = true;
      if (log_) log_->warn(std::string("cuda_graphs: capture failed; training eagerly from here on: ") + e.what());
      optimizer_.zero_grad();
      return eager(prompts, loops);
    }
  } else {
    g.xs.copy_(prompts.xs);
    g.ys.copy_(prompts.ys);
  }
  g.graph->replay();
  update(g.loss);
  last_ = g.last.clone();  // replay overwrites g.last and g.loss
  return g.loss.clone();
}

#else

bool TrainStep::replaying() const { return false; }

torch::Tensor TrainStep::operator()(int64_t loops, int64_t dims, int64_t points, at::Generator& gen) {
  return eager(task_->sample(batch_size_, points, dims, gen, device_), loops);
}

#endif

}  // namespace looplab::host
