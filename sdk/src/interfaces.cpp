// Key functions: each interface's vtable and typeinfo live in liblooplab_sdk.so, so the host
// and every plugin agree on one copy (dynamic_cast across libraries relies on that).
#include <looplab/sdk/analysis.h>
#include <looplab/sdk/baseline.h>
#include <looplab/sdk/block.h>
#include <looplab/sdk/params.h>
#include <looplab/sdk/task.h>

#include <charconv>
#include <stdexcept>

namespace looplab::sdk {

Block::~Block() = default;

torch::Tensor Block::inject(const torch::Tensor& y, const torch::Tensor& e, const torch::Tensor& p) {
  return p.defined() ? y + e + p : y + e;
}

torch::Tensor Block::forward_masked(const torch::Tensor&, const torch::Tensor&) {
  throw std::logic_error(
      "this block cannot hide keys from attention (supports_key_mask() is false); "
      "key masks need an attention block such as 'gpt'");
}

std::shared_ptr<Block> BlockSpec::make(const BlockContext& context) const {
  if (!factory) throw std::logic_error("nested block '" + type + "' was not resolved by the host");
  auto block = factory(params, context);
  if (!block) throw std::runtime_error("the factory of nested block '" + type + "' returned no block");
  return block;
}

Task::~Task() = default;
Baseline::~Baseline() = default;
OutputSink::~OutputSink() = default;
ModelHandle::~ModelHandle() = default;
AnalysisContext::~AnalysisContext() = default;
Analysis::~Analysis() = default;

std::string Table::num(double value) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, res.ptr);
}

}  // namespace looplab::sdk
