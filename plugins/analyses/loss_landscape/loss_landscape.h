#pragma once
// Loss landscape around trained weights (docs/experiments.md#e8-loss-landscape): directions in
// parameter space (Li et al. 2018 filter-normalized random ones, or the top Hessian eigenvectors)
// and the loss on a grid along them. The pieces are plain LibTorch over lists of parameter
// tensors; the analysis that applies them to a trained run works through the SDK's analysis types.

#include <looplab/sdk/analysis.h>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace looplab::analyses {

/// A direction in parameter space: one tensor per parameter, same shapes.
using Direction = std::vector<torch::Tensor>;

/// Li et al. (2018) filter normalization: a standard Gaussian draw per parameter (on the CPU
/// from `gen`, then moved to the parameter's device and dtype) whose every filter gets the norm
/// of the parameter's corresponding filter. A filter of a parameter with >= 2 dimensions is one
/// slice along dim 0 (a row of a weight matrix). Parameters with <= 1 dimension (biases, norm
/// weights) get a zero direction, or with `include_1d` one whose norm is the whole vector's.
Direction filter_normalized_direction(const std::vector<torch::Tensor>& params, at::Generator& gen,
                                      bool include_1d = false);

/// Sum over parameters of <a_i, b_i> (float64).
double dot(const Direction& a, const Direction& b);

/// The Hessian-vector product H v of the scalar whose gradients are `grads` (computed with
/// create_graph = true) with respect to `params`, by a second backward pass through the
/// retained graph. Parameters the gradients do not depend on contribute zeros.
Direction hessian_vector_product(const std::vector<torch::Tensor>& grads, const std::vector<torch::Tensor>& params,
                                 const Direction& v);

/// An eigenpair of the Hessian found by power iteration.
struct Eigenpair {
  double value = 0;        ///< Rayleigh quotient v^T H v at the last step.
  Direction vector;        ///< Unit norm over all parameters.
  int64_t iterations = 0;  ///< Power steps taken.
  bool converged = false;  ///< Whether the value changed by <= tol * |value| in the last step.
};

/// The `count` eigenpairs of largest |eigenvalue| of the Hessian of `loss` (a scalar with a
/// graph to `params`) by power iteration on Hessian-vector products from a random start drawn
/// from `gen`; the k-th iterates on H - sum_{j<k} lambda_j v_j v_j^T (deflation), its iterate
/// kept orthogonal to the earlier vectors. Stops after `max_iterations` steps or when the
/// Rayleigh quotient changes by <= tol * |value|.
std::vector<Eigenpair> top_hessian_eigenpairs(const torch::Tensor& loss, const std::vector<torch::Tensor>& params,
                                              int64_t count, at::Generator& gen, int64_t max_iterations = 100,
                                              double tol = 1e-4);

/// Loss at every grid point: row i, column j holds loss() with the parameters set to
/// trained + alphas[i] * d1 + betas[j] * d2 (`d2` empty and `betas` = {0} for a 1-D scan).
/// Parameters are overwritten in place without autograd and restored bit-exactly afterwards
/// (also when loss() throws). Returns a float64 CPU tensor [alphas, betas].
torch::Tensor loss_grid(const std::vector<torch::Tensor>& params, const Direction& d1, const Direction& d2,
                        const std::vector<double>& alphas, const std::vector<double>& betas,
                        const std::function<double()>& loss);

/// `resolution` evenly spaced values from -range to range (both included; {0} for resolution 1).
std::vector<double> grid_axis(double range, int64_t resolution);

/// The analysis' parameters (the plugin's schema documents each).
struct LossLandscapeSettings {
  std::string directions;   ///< filter | hessian
  bool include_1d = false;  ///< filter: 1-D parameters get a direction too.
  int64_t seed = 0, dims = 2, resolution = 41, prompts = 256, batch = 256, hessian_iterations = 100;
  double range = 1.0, hessian_tol = 1e-4;
  bool log_scale = true;  ///< Logarithmic loss axis and colours.
};

/// The loss_landscape analysis: the training loss on the first `prompts` evaluation prompts over
/// a 1-D or 2-D grid around the trained weights along the chosen directions; writes the tables
/// `loss_landscape` and `loss_landscape_directions`, the figures and a note. The trained
/// weights are restored bit-exactly afterwards.
void run_loss_landscape(sdk::AnalysisContext& ctx, const LossLandscapeSettings& settings);

}  // namespace looplab::analyses
