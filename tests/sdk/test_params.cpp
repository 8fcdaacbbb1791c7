// Parameter declarations: defaults, typed access, bounds and choices.
#include <looplab/sdk/params.h>
#include <looplab/sdk/plugin.h>

#include <gtest/gtest.h>

namespace looplab::sdk {
namespace {

TEST(Params, DefaultsAndTypedAccess) {
  ParamSchema schema{int_param("n", 4, "count").at_least(1), float_param("lr", 1e-3, "rate"),
                     string_param("mode", "a", "mode").one_of({"a", "b"}), bool_param("on", true, "flag"),
                     required_param("must", ParamType::Int, "required")};
  auto p = Params::defaults(schema);
  EXPECT_EQ(p.get_int("n"), 4);
  EXPECT_DOUBLE_EQ(p.get_float("lr"), 1e-3);
  EXPECT_EQ(p.get_string("mode"), "a");
  EXPECT_TRUE(p.get_bool("on"));
  EXPECT_FALSE(p.has("must"));
  EXPECT_THROW(p.get_int("must"), std::invalid_argument);
  EXPECT_THROW(p.get_int("lr"), std::invalid_argument);  // a float is not an int
  p.set("n", int64_t{7});
  EXPECT_DOUBLE_EQ(p.get_float("n"), 7.0);  // ints widen to float
}

TEST(Params, ChecksBoundsAndChoices) {
  auto n = int_param("n_head", 4, "heads").at_least(1).at_most(1024);
  EXPECT_EQ(n.check(int64_t{4}), "");
  EXPECT_EQ(n.check(int64_t{0}), "value 0 is out of range [1, 1024]");
  auto mode = string_param("device", "auto", "").one_of({"auto", "cpu", "cuda"});
  EXPECT_EQ(mode.check(std::string("gpu")), "value \"gpu\" is not one of auto|cpu|cuda");
  auto list = int_list_param("its", {}, "").at_least(1);
  EXPECT_EQ(list.check(std::vector<int64_t>{3, 0}), "value 0 is out of range >= 1");
  EXPECT_EQ(float_param("x", 0.0, "").check(std::numeric_limits<double>::infinity()), "value must be finite");
}

TEST(Params, RendersToml) {
  EXPECT_EQ(to_toml(ParamValue{int64_t{5}}), "5");
  EXPECT_EQ(to_toml(ParamValue{2.0}), "2.0");
  EXPECT_EQ(to_toml(ParamValue{1e-3}), "0.001");
  EXPECT_EQ(to_toml(ParamValue{std::string("a\"b")}), "\"a\\\"b\"");
  EXPECT_EQ(to_toml(ParamValue{std::vector<int64_t>{5, 10}}), "[5, 10]");
}

TEST(Descriptor, FingerprintIsThisBuild) {
  const auto fp = this_build();
  EXPECT_EQ(fp.sdk_major, static_cast<uint32_t>(LOOPLAB_SDK_VERSION_MAJOR));
  EXPECT_EQ(fp.torch_major, static_cast<uint32_t>(TORCH_VERSION_MAJOR));
  EXPECT_EQ(fp.torch_minor, static_cast<uint32_t>(TORCH_VERSION_MINOR));
  EXPECT_EQ(fp.cxx11_abi, static_cast<uint32_t>(_GLIBCXX_USE_CXX11_ABI));
  looplab_plugin_descriptor d{1, 0, sizeof(looplab_plugin_descriptor), {0, 1, 2, 11, 1}, "x", "1", nullptr};
  EXPECT_EQ(describe(d), "SDK 0.1, ABI 1.0, LibTorch 2.11, C++11 ABI 1");
}

TEST(Descriptor, ComponentKindFollowsTheFactory) {
  auto block = make_block_component("b", "1", "s", {}, [](const Params&, const BlockContext&) { return nullptr; });
  auto task = make_task_component("t", "1", "s", {}, [](const Params&, const TaskContext&) { return nullptr; });
  auto analysis = make_analysis_component("a", "1", "s", {}, [](const Params&) { return nullptr; });
  EXPECT_EQ(block.kind(), ComponentKind::Block);
  EXPECT_EQ(task.kind(), ComponentKind::Task);
  EXPECT_EQ(analysis.kind(), ComponentKind::Analysis);
  EXPECT_STREQ(kind_name(analysis.kind()), "analysis");
}

}  // namespace
}  // namespace looplab::sdk
