// The learned baselines of the classical baselines plugin (lasso, greedy tree, XGBoost, a
// gradient-descent-trained ReLU network), called directly. Lasso, tree and XGBoost are checked
// against scikit-learn and xgboost through tests/plugins/oracles/learned_baselines.py, run by
// Debian's /usr/bin/python3 (the python3 on PATH may be another interpreter without them).

#include "gradient_boosting.h"
#include "greedy_tree.h"
#include "lasso.h"
#include "nn_gd.h"

#include "test_support.h"

#include <looplab/sdk/cpu_isa.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace looplab::baselines {
namespace {

using torch::indexing::Slice;

using Baseline = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>;

constexpr const char* kPython = "/usr/bin/python3";

/// Whether Debian's python can import `module`.
bool python_has(const std::string& module) {
  std::string out;
  return test::run_command(std::string(kPython) + " -c 'import " + module + "'", &out) == 0;
}

/// Runs the oracle script on the prompts (written with full precision) and returns its
/// predictions, [lines, N, n] float64: one line per fit it reports.
torch::Tensor run_oracle(const std::string& args, const torch::Tensor& xs, const torch::Tensor& ys) {
  const std::string dir = test::temp_dir("learned-baselines-oracle");
  const torch::Tensor x = xs.to(torch::kDouble).contiguous(), y = ys.to(torch::kDouble).contiguous();
  std::string text = std::to_string(xs.size(0)) + " " + std::to_string(xs.size(1)) + " " + std::to_string(xs.size(2));
  char buf[40];
  for (const torch::Tensor& t : {x, y}) {
    const double* p = t.data_ptr<double>();
    for (int64_t k = 0; k < t.numel(); ++k) {
      std::snprintf(buf, sizeof buf, " %.17g", p[k]);
      text += buf;
    }
    text += "\n";
  }
  test::write_file(dir + "/prompts.txt", text);
  const std::string script = std::string(LOOPLAB_SOURCE_DIR) + "/tests/plugins/oracles/learned_baselines.py";
  std::string out;
  const int rc = test::run_command(std::string(kPython) + " " + script + " " + args + " " + dir, &out);
  if (rc != 0) throw std::runtime_error("oracle failed (" + std::to_string(rc) + "): " + out);
  std::istringstream in(test::read_file(dir + "/predictions.txt"));
  std::vector<double> values;
  for (double v; in >> v;) values.push_back(v);
  const int64_t per_line = xs.size(0) * xs.size(1);
  if (values.empty() || values.size() % per_line != 0) throw std::runtime_error("oracle output has a wrong size");
  return torch::tensor(values, torch::kDouble).view({-1, xs.size(0), xs.size(1)});
}

/// Noiseless linear prompts y = x . w.
std::pair<torch::Tensor, torch::Tensor> linear_prompts(int64_t N, int64_t n, int64_t d) {
  const torch::Tensor xs = torch::randn({N, n, d});
  const torch::Tensor w = torch::randn({N, d, 1});
  return {xs, torch::bmm(xs, w).squeeze(2)};
}

/// Prompts labelled by a random depth-2 tree over the first coordinates (a step function), plus
/// a little noise so that no two labels are equal.
std::pair<torch::Tensor, torch::Tensor> tree_prompts(int64_t N, int64_t n, int64_t d) {
  const torch::Tensor xs = torch::randn({N, n, d});
  const torch::Tensor root = xs.select(2, 0) > 0;
  const torch::Tensor child = torch::where(root, xs.select(2, (1 % d)), xs.select(2, (2 % d))) > 0;
  const torch::Tensor leaf = root.to(torch::kLong) * 2 + child.to(torch::kLong);
  const torch::Tensor values = torch::randn({N, 4});
  return {xs, values.gather(1, leaf) + 0.05 * torch::randn({N, n})};
}

/// Runs the enclosing scope on one intra-op thread. The networks' tiny batched matmuls would
/// otherwise each wake a thread team, which costs a scheduler time slice apiece on a loaded
/// machine (a second here becomes tens).
class OneThread {
 public:
  OneThread() : threads_(at::get_num_threads()) { at::set_num_threads(1); }
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;
  ~OneThread() { at::set_num_threads(threads_); }

 private:
  int threads_;
};

/// Every baseline at small settings, by name, for the checks they all share.
std::vector<std::pair<std::string, Baseline>> all_baselines() {
  return {
      {"lasso", [](const auto& x, const auto& y) { return lasso_predictions(x, y); }},
      {"greedy_tree", [](const auto& x, const auto& y) { return greedy_tree_predictions(x, y); }},
      {"greedy_tree depth 2",
       [](const auto& x, const auto& y) { return greedy_tree_predictions(x, y, GreedyTreeOptions().max_depth(2)); }},
      {"gradient_boosting",
       [](const auto& x, const auto& y) {
         return gradient_boosting_predictions(x, y, GradientBoostingOptions().n_estimators(10));
       }},
      {"nn_gd",
       [](const auto& x, const auto& y) {
         at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
         return nn_gd_predictions(x, y, NnGdOptions().hidden(16).steps(20).batch(4), gen);
       }},
  };
}

TEST(LearnedBaselines, ShapesDtypeAndFirstColumn) {
  torch::manual_seed(10);
  const int64_t N = 3, n = 7, d = 4;
  const auto [xs, ys] = linear_prompts(N, n, d);
  for (const auto& [name, fn] : all_baselines()) {
    for (const auto dtype : {torch::kFloat, torch::kDouble}) {
      const torch::Tensor pred = fn(xs.to(dtype), ys.to(dtype));
      ASSERT_EQ(pred.sizes(), (std::vector<int64_t>{N, n})) << name;
      EXPECT_EQ(pred.scalar_type(), torch::kFloat) << name;
      EXPECT_TRUE(pred.device().is_cpu()) << name;
      EXPECT_TRUE(pred.select(1, 0).eq(0).all().item<bool>()) << name;
      EXPECT_TRUE(pred.isfinite().all().item<bool>()) << name;
    }
    // No prompts, or no points: empty predictions.
    EXPECT_EQ(fn(torch::zeros({0, n, d}), torch::zeros({0, n})).sizes(), (std::vector<int64_t>{0, n})) << name;
    EXPECT_EQ(fn(torch::zeros({N, 0, d}), torch::zeros({N, 0})).sizes(), (std::vector<int64_t>{N, 0})) << name;
    EXPECT_THROW(fn(xs, ys.index({Slice(), Slice(0, n - 1)})), std::invalid_argument) << name;
    EXPECT_THROW(fn(xs.select(2, 0), ys), std::invalid_argument) << name;
  }
}

TEST(LearnedBaselines, PredictionsUseOnlyEarlierPoints) {
  // Column i may use points 0..i-1 and x_i: changing y_j leaves columns <= j alone, changing x_j
  // leaves columns < j alone; each change does move later columns (the fit uses the point).
  torch::manual_seed(11);
  const int64_t N = 2, n = 9, d = 3, j = 4;
  const auto [xs, ys] = tree_prompts(N, n, d);
  for (const auto& [name, fn] : all_baselines()) {
    const torch::Tensor base = fn(xs, ys);
    torch::Tensor ys2 = ys.clone();
    ys2.index_put_({Slice(), j}, ys.index({Slice(), j}) + 3.0);
    const torch::Tensor by_y = fn(xs, ys2);
    EXPECT_TRUE(torch::equal(by_y.index({Slice(), Slice(0, j + 1)}), base.index({Slice(), Slice(0, j + 1)}))) << name;
    EXPECT_FALSE(torch::equal(by_y.index({Slice(), Slice(j + 1)}), base.index({Slice(), Slice(j + 1)}))) << name;

    torch::Tensor xs2 = xs.clone();
    xs2.index_put_({Slice(), j}, -2.0 * xs.index({Slice(), j}) + 1.0);
    const torch::Tensor by_x = fn(xs2, ys);
    EXPECT_TRUE(torch::equal(by_x.index({Slice(), Slice(0, j)}), base.index({Slice(), Slice(0, j)}))) << name;
    EXPECT_FALSE(torch::equal(by_x.index({Slice(), Slice(j)}), base.index({Slice(), Slice(j)}))) << name;
  }
}

TEST(LearnedBaselines, InvalidOptionsThrow) {
  const auto [xs, ys] = linear_prompts(2, 5, 3);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  EXPECT_THROW(lasso_predictions(xs, ys, LassoOptions().alpha(0.0)), std::invalid_argument);
  EXPECT_THROW(lasso_predictions(xs, ys, LassoOptions().alpha(-1.0)), std::invalid_argument);
  EXPECT_THROW(lasso_predictions(xs, ys, LassoOptions().tol(-1e-3)), std::invalid_argument);
  EXPECT_THROW(lasso_predictions(xs, ys, LassoOptions().max_iter(0)), std::invalid_argument);
  EXPECT_THROW(greedy_tree_predictions(xs, ys, GreedyTreeOptions().max_depth(-1)), std::invalid_argument);
  EXPECT_THROW(gradient_boosting_predictions(xs, ys, GradientBoostingOptions().max_depth(0)), std::invalid_argument);
  EXPECT_THROW(gradient_boosting_predictions(xs, ys, GradientBoostingOptions().n_estimators(0)), std::invalid_argument);
  EXPECT_THROW(gradient_boosting_predictions(xs, ys, GradientBoostingOptions().learning_rate(0.0)),
               std::invalid_argument);
  EXPECT_THROW(nn_gd_predictions(xs, ys, NnGdOptions().hidden(0), gen), std::invalid_argument);
  EXPECT_THROW(nn_gd_predictions(xs, ys, NnGdOptions().lr(0.0), gen), std::invalid_argument);
  EXPECT_THROW(nn_gd_predictions(xs, ys, NnGdOptions().steps(-1), gen), std::invalid_argument);
  EXPECT_THROW(nn_gd_predictions(xs, ys, NnGdOptions().batch(0), gen), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Lasso

TEST(LassoBaseline, MatchesScikitLearnWithInactiveCoordinate) {
  if (!python_has("sklearn")) GTEST_SKIP() << "scikit-learn for /usr/bin/python3 (python3-sklearn) is not installed";
  torch::manual_seed(20);
  // Prefixes of 1..13 points in d = 8: under- and over-determined fits. Coordinate 5 is zero in
  // every x (a curriculum's inactive dimension); y is sparse-linear plus noise.
  const int64_t N = 4, n = 14, d = 8;
  torch::Tensor xs = torch::randn({N, n, d});
  xs.index_put_({Slice(), Slice(), 5}, 0.0);
  torch::Tensor w = torch::randn({N, d, 1});
  w.index_put_({Slice(), Slice(3), Slice()}, 0.0);
  const torch::Tensor ys = torch::bmm(xs, w).squeeze(2) + 0.1 * torch::randn({N, n});
  // Errors are judged on the label scale: |ours - sklearn| <= 1e-4 sqrt(E[y^2]), so the normalized
  // squared errors the evaluation reports (divided by E[y^2]) agree to 1e-8.
  const double scale = ys.pow(2).mean().sqrt().item<double>();
  for (const double alpha : {0.01, 0.1, 1.0}) {
    const torch::Tensor pred = lasso_predictions(xs, ys, LassoOptions().alpha(alpha)).to(torch::kDouble);
    ASSERT_TRUE(pred.isfinite().all().item<bool>());
    const torch::Tensor expected = run_oracle("lasso " + std::to_string(alpha), xs, ys)[0];
    const double err = (pred - expected).abs().max().item<double>();
    EXPECT_LE(err, 1e-4 * scale) << "alpha " << alpha;
    // tol = 0 is never met, so coordinate descent runs max_iter sweeps from the homotopy's
    // solution: at the minimizer it must stay there.
    const torch::Tensor polished = lasso_predictions(xs, ys, LassoOptions().alpha(alpha).tol(0.0).max_iter(50));
    EXPECT_LE((polished.to(torch::kDouble) - expected).abs().max().item<double>(), 1e-4 * scale) << "alpha " << alpha;
  }
}

TEST(LassoBaseline, LargeAlphaPredictsZero) {
  // ||X^T y||_inf / i <= alpha makes w = 0 the minimizer.
  torch::manual_seed(21);
  const auto [xs, ys] = linear_prompts(3, 6, 4);
  EXPECT_TRUE(lasso_predictions(xs, ys, LassoOptions().alpha(1e6)).eq(0).all().item<bool>());
}

// ---------------------------------------------------------------------------------------------
// Greedy tree

// scikit-learn visits the features in a random order (random_state) and keeps the first best
// split, so when two features reach the same impurity decrease its choice, and then the
// prediction, depends on that order. That happens whenever the best partition of a node can be
// made by more than one feature: always in a node of two points (every feature separates them),
// and often in small nodes. The cases below avoid it: d = 1 for fully grown trees (one feature,
// no choice), depth-limited trees on enough points for d > 1 (every node that is split keeps many
// points). The oracle fits several random_states; they must all agree, which checks that
// no tie was involved.

TEST(GreedyTreeBaseline, FullyGrownMatchesScikitLearnInOneDimension) {
  if (!python_has("sklearn")) GTEST_SKIP() << "scikit-learn for /usr/bin/python3 (python3-sklearn) is not installed";
  torch::manual_seed(30);
  const int64_t N = 5, n = 30, d = 1;
  const torch::Tensor xs = torch::randn({N, n, d});
  const torch::Tensor ys = torch::sin(3.0 * xs.select(2, 0)) + 0.3 * torch::randn({N, n});
  const torch::Tensor pred = greedy_tree_predictions(xs, ys);
  const torch::Tensor expected = run_oracle("tree 0 2", xs, ys);
  ASSERT_TRUE(torch::equal(expected[0], expected[1]));
  // Bitwise after rounding to the float32 predictions (the leaf means agree to an ulp of float64).
  EXPECT_TRUE(torch::equal(pred, expected[0].to(torch::kFloat)))
      << (pred.to(torch::kDouble) - expected[0]).abs().max().item<double>();
}

TEST(GreedyTreeBaseline, DepthLimitedMatchesScikitLearn) {
  if (!python_has("sklearn")) GTEST_SKIP() << "scikit-learn for /usr/bin/python3 (python3-sklearn) is not installed";
  torch::manual_seed(31);
  // Depth 2 on prefixes of >= 24 points in d = 3: the split nodes (the root and its children)
  // hold many points, so no two features give the same best partition.
  const int64_t N = 6, n = 40, d = 3, first = 24;
  const auto [xs, ys] = tree_prompts(N, n, d);
  for (const int64_t depth : {1, 2}) {
    const torch::Tensor pred = greedy_tree_predictions(xs, ys, GreedyTreeOptions().max_depth(depth));
    const torch::Tensor expected = run_oracle("tree " + std::to_string(depth) + " 4", xs, ys);
    const auto later = Slice(first);
    const torch::Tensor ref = expected[0].index({Slice(), later});
    for (int64_t s = 1; s < expected.size(0); ++s) {
      ASSERT_TRUE(torch::equal(expected[s].index({Slice(), later}), ref)) << "a gain tie at depth " << depth;
    }
    EXPECT_TRUE(torch::equal(pred.index({Slice(), later}), ref.to(torch::kFloat)))
        << "depth " << depth << ": "
        << (pred.index({Slice(), later}).to(torch::kDouble) - ref).abs().max().item<double>();
  }
}

TEST(GreedyTreeBaseline, GainTiesGoToTheLowestFeature) {
  // Two identical features always tie; the query sits left of the threshold on feature 0 and right
  // of it on feature 1, so the prediction tells which one split.
  const torch::Tensor xs = torch::tensor({0.0, 0.0, 1.0, 1.0, 0.0, 1.0}).view({1, 3, 2});
  const torch::Tensor ys = torch::tensor({0.0, 1.0, 5.0}).view({1, 3});
  const torch::Tensor pred = greedy_tree_predictions(xs, ys);
  EXPECT_FLOAT_EQ(pred[0][2].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(pred[0][1].item<float>(), 0.0f);  // one point: its label
}

TEST(GreedyTreeBaseline, DepthAndPurity) {
  // Fully grown trees interpolate distinct points (the query at a seen point gets its label);
  // depth 1 is a stump with at most two values per prompt.
  torch::manual_seed(32);
  const int64_t N = 4, n = 20, d = 3;
  torch::Tensor xs = torch::randn({N, n, d});
  xs.index_put_({Slice(), n - 1}, xs.index({Slice(), 5}));  // the last query repeats point 5
  const torch::Tensor ys = torch::randn({N, n});
  const torch::Tensor full = greedy_tree_predictions(xs, ys);
  EXPECT_TRUE(torch::equal(full.select(1, n - 1), ys.select(1, 5)));
  for (int64_t p = 0; p < N; ++p) {
    torch::Tensor xs_p = xs[p].unsqueeze(0).expand({n, n, d}).clone();
    // Query every prefix point of the full prefix at once: prompt q asks for x_q after n-1 points.
    for (int64_t q = 0; q < n - 1; ++q) xs_p[q][n - 1] = xs[p][q];
    const torch::Tensor ys_p = ys[p].unsqueeze(0).expand({n, n}).contiguous();
    const torch::Tensor stump = greedy_tree_predictions(xs_p, ys_p, GreedyTreeOptions().max_depth(1)).select(1, n - 1);
    EXPECT_LE(std::get<0>(at::_unique(stump.index({Slice(0, n - 1)}))).numel(), 2);
  }
}

// ---------------------------------------------------------------------------------------------
// Gradient boosting

TEST(GradientBoostingBaseline, MatchesXGBRegressor) {
  if (!python_has("xgboost")) GTEST_SKIP() << "xgboost for /usr/bin/python3 (python3-xgboost) is not installed";
  torch::manual_seed(40);
  const int64_t N = 3, n = 16, d = 3;
  const auto [xs, ys] = tree_prompts(N, n, d);
  for (const auto& o :
       {GradientBoostingOptions(), GradientBoostingOptions().max_depth(2).n_estimators(10).learning_rate(0.3)}) {
    const torch::Tensor pred = gradient_boosting_predictions(xs, ys, o);
    char args[96];
    std::snprintf(args, sizeof args, "xgboost %ld %ld %.17g", static_cast<long>(o.max_depth()),
                  static_cast<long>(o.n_estimators()), o.learning_rate());
    const torch::Tensor expected = run_oracle(args, xs, ys)[0];
    const double err = (pred.to(torch::kDouble) - expected).abs().max().item<double>();
    EXPECT_LE(err, 1e-5) << args;
  }
}

// ---------------------------------------------------------------------------------------------
// Gradient-descent-trained network

TEST(NnGdBaseline, SeedDeterminesThePredictions) {
  const OneThread one_thread;
  torch::manual_seed(50);
  const auto [xs, ys] = linear_prompts(4, 6, 3);
  const auto opts = NnGdOptions().hidden(16).steps(20).batch(4);
  const auto run = [&](uint64_t seed) {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    return nn_gd_predictions(xs, ys, opts, gen);
  };
  const torch::Tensor a = run(3);
  EXPECT_TRUE(torch::equal(a, run(3)));
  EXPECT_FALSE(torch::equal(a.index({Slice(), Slice(1)}), run(4).index({Slice(), Slice(1)})));
  // Every column i >= 1 is a trained network's output (not 0).
  EXPECT_TRUE(a.index({Slice(), Slice(1)}).ne(0).all().item<bool>());
}

TEST(NnGdBaseline, CpuKernelAgreesWithTheBatchedPath) {
  // The same draws, the same arithmetic in another order (and the update's sqrt(v) / sqrt(bias2)
  // as a multiplication): agreement to float rounding, amplified a little by 40 Adam steps.
  // Hidden widths below, at and past one 16-lane vector (the kernel pads to whole vectors), with
  // every instruction set's copy of the kernel this CPU runs.
  const OneThread one_thread;
  torch::manual_seed(53);
  const auto [xs, ys] = linear_prompts(70, 6, 3);
  for (const sdk::CpuIsa isa : sdk::runnable_cpu_isas()) {
    const sdk::ScopedCpuIsa scope(isa);
    for (const int64_t hidden : {5, 16, 37}) {
      const auto opts = NnGdOptions().hidden(hidden).steps(40).batch(4);
      at::Generator g1 = at::make_generator<at::CPUGeneratorImpl>(11), g2 = at::make_generator<at::CPUGeneratorImpl>(11);
      const torch::Tensor kernel = nn_gd_predictions(xs, ys, opts, g1);
      const torch::Tensor batched = nn_gd_predictions(xs, ys, NnGdOptions(opts).cpu_kernel(false), g2);
      const double scale = batched.abs().max().item<double>();
      EXPECT_LE((kernel - batched).abs().max().item<double>(), 1e-4 * scale) << sdk::cpu_isa_key(isa) << ", hidden " << hidden;
      EXPECT_FALSE(torch::equal(kernel, torch::zeros_like(kernel)));
    }
  }
}

TEST(NnGdBaseline, IndependentOfTheThreadCount) {
  // 130 prompts, spread over one or two threads.
  torch::manual_seed(52);
  const auto [xs, ys] = linear_prompts(130, 5, 3);
  const auto opts = NnGdOptions().hidden(8).steps(10).batch(3);
  const int threads = at::get_num_threads();
  std::vector<torch::Tensor> preds;
  for (const int t : {1, 2}) {
    at::set_num_threads(t);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(9);
    preds.push_back(nn_gd_predictions(xs, ys, opts, gen));
  }
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(preds[0], preds[1]));
}

TEST(NnGdBaseline, LearnsAReluTeacher) {
  const OneThread one_thread;
  // Prompts from a random 2-layer ReLU teacher, as in relu_2nn_regression: at the last prefix the
  // trained networks beat both the zero predictor (about 1) and averaging (a linear estimator)
  // clearly. Measured: 0.008 against 0.71 for averaging.
  torch::manual_seed(51);
  const int64_t N = 32, n = 21, d = 2, k = 4;
  const torch::Tensor xs = torch::randn({N, n, d});
  const torch::Tensor W = torch::randn({N, d, k}), a = torch::randn({N, k, 1}) * std::sqrt(2.0 / k);
  const torch::Tensor ys = torch::bmm(torch::relu(torch::bmm(xs, W)), a).squeeze(2);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const torch::Tensor pred = nn_gd_predictions(xs, ys, NnGdOptions().steps(200), gen);
  const torch::Tensor last = ys.select(1, n - 1);
  const double ey2 = ys.pow(2).mean().item<double>();
  const double err_nn = (pred.select(1, n - 1) - last).pow(2).mean().item<double>() / ey2;
  // Averaging: w = mean_j y_j x_j over the n - 1 prefix points.
  const torch::Tensor w_avg =
      (ys.index({Slice(), Slice(0, n - 1)}).unsqueeze(2) * xs.index({Slice(), Slice(0, n - 1)})).mean(1);
  const double err_avg = ((xs.select(1, n - 1) * w_avg).sum(1) - last).pow(2).mean().item<double>() / ey2;
  EXPECT_LT(err_nn, 0.1);
  EXPECT_LT(err_nn, 0.2 * err_avg) << "nn " << err_nn << ", averaging " << err_avg;
}

}  // namespace
}  // namespace looplab::baselines
