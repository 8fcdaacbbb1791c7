// Tests for the generic config layer: diagnostics, extends, --set overrides and schema validation.
// Every error is checked as the exact GCC-style line a user would see.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/text.h"
#include "config/config_loader.h"
#include "config/diagnostics.h"
#include "test_support.h"

namespace looplab::host {
namespace {

using sdk::ParamType;

/// A schema shaped like a real block's.
sdk::ParamSchema gpt_schema() {
  return {
      sdk::int_param("n_head", 4, "attention heads").at_least(1).at_most(1024),
      sdk::int_param("n_layer", 2, "layers").at_least(1),
      sdk::float_param("init_std", 0.02, "init scale").at_least(0),
      sdk::float_param("ln_eps", 1e-5, "layer norm epsilon"),
      sdk::string_param("act", "gelu", "activation").one_of({"gelu", "relu"}),
      sdk::int_list_param("dims", {5, 10}, "curriculum dims").at_least(1),
      sdk::bool_param("bias", true, "use biases"),
      sdk::required_param("vocab", ParamType::Int, "vocabulary size"),
  };
}

const std::set<std::string> kReserved = {"repeat", "type"};

class ConfigLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::temp_dir("config"); }

  /// Writes `text` to `name` under the temp dir and returns its path.
  std::string file(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    test::write_file(path, text);
    return path;
  }

  /// The rendered diagnostics of a call that must throw ConfigError.
  static std::string errors_of(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()), e.diagnostics().render());
      return e.diagnostics().render();
    }
    ADD_FAILURE() << "expected a ConfigError";
    return "";
  }

  static std::string load_errors(const std::string& path, const std::vector<std::string>& overrides = {}) {
    return errors_of([&] { (void)load_config(path, overrides); });
  }

  /// Loads `path` and validates its [gpt] table; returns the rendered errors ("" when none).
  static std::string validate_errors(const std::string& path, sdk::Params* out = nullptr,
                                     const std::vector<std::string>& overrides = {}) {
    toml::table doc = load_config(path, overrides);
    Diagnostics diags;
    const toml::table* gpt = doc["gpt"].as_table();
    EXPECT_NE(gpt, nullptr);
    if (!gpt) return "";
    sdk::Params params = validate_table(*gpt, gpt_schema(), "block 'gpt'", kReserved, location_of(*gpt, {path}), diags);
    if (out) *out = params;
    return diags.render();
  }

  std::string dir_;
};

// ---------------------------------------------------------------------------------------------
// Diagnostics

TEST(DiagnosticsTest, FormatsWithAndWithoutPosition) {
  // Named, not temporaries: GCC 12 misreads a temporary aggregate's string as uninitialised.
  const Diagnostic with_position{{"a.toml", 3, 7}, "bad"}, no_line{{"a.toml", 0, 0}, "bad"},
      override_source{{"--set", 0, 0}, "bad"}, no_file{{"", 0, 0}, "bad"};
  EXPECT_EQ(with_position.str(), "a.toml:3:7: error: bad");
  EXPECT_EQ(no_line.str(), "a.toml: error: bad");
  EXPECT_EQ(override_source.str(), "--set: error: bad");
  EXPECT_EQ(no_file.str(), "error: bad");
}

TEST(DiagnosticsTest, SortsByFileLineColumnStably) {
  Diagnostics d;
  EXPECT_TRUE(d.empty());
  d.error({"b.toml", 1, 1}, "b1");
  d.error({"a.toml", 10, 2}, "a10");
  d.error({"a.toml", 2, 5}, "a2-5 first");
  d.error({"a.toml", 2, 1}, "a2-1");
  d.error({"a.toml", 2, 5}, "a2-5 second");
  EXPECT_EQ(d.size(), 5u);
  EXPECT_EQ(d.render(),
            "a.toml:2:1: error: a2-1\n"
            "a.toml:2:5: error: a2-5 first\n"
            "a.toml:2:5: error: a2-5 second\n"
            "a.toml:10:2: error: a10\n"
            "b.toml:1:1: error: b1\n");
  EXPECT_EQ(d.sorted().front().message, "a2-1");
}

TEST(DiagnosticsTest, ConfigErrorCarriesDiagnostics) {
  Diagnostics d;
  d.error({"x.toml", 1, 1}, "oops");
  ConfigError e(d);
  EXPECT_EQ(e.diagnostics().size(), 1u);
  EXPECT_STREQ(e.what(), "x.toml:1:1: error: oops\n");
}

TEST(DiagnosticsTest, LocationOfUsesNodeSourceOrFallback) {
  toml::table t = toml::parse(std::string_view("\n  x = 42\n"), std::string_view("src.toml"));
  SourceLocation at = location_of(*t.get("x"));
  EXPECT_EQ(at.file, "src.toml");
  EXPECT_EQ(at.line, 2);
  EXPECT_EQ(at.column, 7);
  toml::value<int64_t> built(3);
  SourceLocation fb = location_of(built, {"fallback.toml", 9, 9});
  EXPECT_EQ(fb.file, "fallback.toml");
  EXPECT_EQ(fb.line, 9);
}

// ---------------------------------------------------------------------------------------------
// Parsing

TEST_F(ConfigLoaderTest, MalformedTomlReportsSyntaxLocation) {
  std::string p = file("bad.toml", "[gpt]\nn_head = \nvocab = 3\n");
  EXPECT_EQ(load_errors(p), p + ":2:10: error: Error while parsing key-value pair: expected value, saw '\\n'\n");
}

TEST_F(ConfigLoaderTest, MissingTopLevelFileIsAnError) {
  std::string p = dir_ + "/absent.toml";
  EXPECT_EQ(load_errors(p), p + ": error: file not found\n");
}

TEST_F(ConfigLoaderTest, LoadsPlainFile) {
  std::string p = file("ok.toml", "[gpt]\nn_head = 8\nvocab = 3\n");
  toml::table doc = load_config(p, {});
  EXPECT_EQ(doc["gpt"]["n_head"].value<int64_t>(), 8);
}

// ---------------------------------------------------------------------------------------------
// Validation

TEST_F(ConfigLoaderTest, UnknownKeyWithSuggestion) {
  std::string p = file("c.toml", "[gpt]\nn_head = 4\nn_layr = 3\nvocab = 10\n");
  EXPECT_EQ(validate_errors(p),
            p + ":3:1: error: unknown parameter 'n_layr' for block 'gpt' (did you mean 'n_layer'?)\n");
}

TEST_F(ConfigLoaderTest, UnknownKeySuggestsReservedKeys) {
  std::string p = file("c.toml", "[gpt]\ntpye = \"gpt\"\nvocab = 10\n");
  EXPECT_EQ(validate_errors(p), p + ":2:1: error: unknown parameter 'tpye' for block 'gpt' (did you mean 'type'?)\n");
}

TEST_F(ConfigLoaderTest, UnknownKeyWithoutSuggestionListsValidNames) {
  std::string p = file("c.toml", "[gpt]\nvocab = 10\n  foo = 1\n");
  EXPECT_EQ(validate_errors(p), p + ":3:3: error: unknown parameter 'foo' for block 'gpt' (valid: n_head, n_layer, "
                                    "init_std, ln_eps, act, dims, bias, vocab, repeat, type)\n");
}

TEST_F(ConfigLoaderTest, ReservedKeysAreSkipped) {
  std::string p = file("c.toml", "[gpt]\ntype = \"gpt\"\nrepeat = 3\nvocab = 10\n");
  sdk::Params params;
  EXPECT_EQ(validate_errors(p, &params), "");
  EXPECT_FALSE(params.has("type"));
  EXPECT_EQ(params.get_int("vocab"), 10);
}

TEST_F(ConfigLoaderTest, WrongTypes) {
  std::string p = file("c.toml",
                       "[gpt]\n"
                       "n_head = \"four\"\n"
                       "n_layer = 2.0\n"
                       "bias = 1\n"
                       "dims = [1.5, 2.5]\n"
                       "act = [\"gelu\"]\n"
                       "vocab = 10\n"
                       "[gpt.init_std]\n"
                       "x = 1\n");
  EXPECT_EQ(validate_errors(p), p + ":2:10: error: parameter 'n_head' for block 'gpt' must be int, got string\n" + p +
                                    ":3:11: error: parameter 'n_layer' for block 'gpt' must be int, got float\n" + p +
                                    ":4:8: error: parameter 'bias' for block 'gpt' must be bool, got int\n" + p +
                                    ":5:8: error: parameter 'dims' for block 'gpt' must be array of int, got array "
                                    "of float\n" +
                                    p + ":6:7: error: parameter 'act' for block 'gpt' must be string, got array\n" + p +
                                    ":8:1: error: parameter 'init_std' for block 'gpt' must be float, got table\n");
}

TEST_F(ConfigLoaderTest, MixedArrayIsBlamedOnFirstWrongElement) {
  std::string p = file("c.toml", "[gpt]\nvocab = 10\ndims = [1, 2, \"x\"]\n");
  EXPECT_EQ(validate_errors(p),
            p + ":3:15: error: parameter 'dims' for block 'gpt' must be array of int, got mixed array\n");
}

TEST_F(ConfigLoaderTest, OutOfRange) {
  std::string p = file("c.toml", "[gpt]\nvocab = 10\nn_head = 0\ndims = [4, 0]\ninit_std = -0.5\n");
  EXPECT_EQ(validate_errors(p),
            p + ":3:10: error: parameter 'n_head' for block 'gpt': value 0 is out of range [1, 1024]\n" + p +
                ":4:8: error: parameter 'dims' for block 'gpt': value 0 is out of range >= 1\n" + p +
                ":5:12: error: parameter 'init_std' for block 'gpt': value -0.5 is out of range >= 0\n");
}

TEST_F(ConfigLoaderTest, ChoicesViolation) {
  std::string p = file("c.toml", "[gpt]\nvocab = 10\nact = \"tanh\"\n");
  EXPECT_EQ(validate_errors(p),
            p + ":3:7: error: parameter 'act' for block 'gpt': value \"tanh\" is not one of gelu|relu\n");
}

TEST_F(ConfigLoaderTest, MissingRequiredIsReportedAtTable) {
  std::string p = file("c.toml", "x = 1\n[gpt]\nn_head = 2\n");
  EXPECT_EQ(validate_errors(p), p + ":2:1: error: missing required parameter 'vocab' for block 'gpt'\n");
}

TEST_F(ConfigLoaderTest, IntWidensToFloatAndDefaultsAreFilled) {
  std::string p = file("c.toml", "[gpt]\nvocab = 10\ninit_std = 1\n");
  sdk::Params params;
  EXPECT_EQ(validate_errors(p, &params), "");
  EXPECT_EQ(sdk::type_of(params.values().at("init_std")), ParamType::Float);
  EXPECT_DOUBLE_EQ(params.get_float("init_std"), 1.0);
  EXPECT_EQ(params.get_int("n_head"), 4);
  EXPECT_DOUBLE_EQ(params.get_float("ln_eps"), 1e-5);
  EXPECT_EQ(params.get_string("act"), "gelu");
  EXPECT_EQ(params.get_int_list("dims"), (std::vector<int64_t>{5, 10}));
  EXPECT_TRUE(params.get_bool("bias"));
  EXPECT_EQ(params.values().size(), gpt_schema().size());
}

TEST_F(ConfigLoaderTest, SeveralErrorsReportedTogetherInOrder) {
  // Keys are visited in name order, so the errors are recorded out of file order.
  std::string p = file("c.toml", "[gpt]\nzeta = 1\nn_head = 0\nact = 3\nalpha = 2\n");
  EXPECT_EQ(validate_errors(p),
            p + ":1:1: error: missing required parameter 'vocab' for block 'gpt'\n" + p +
                ":2:1: error: unknown parameter 'zeta' for block 'gpt' (valid: n_head, n_layer, init_std, ln_eps, act, "
                "dims, bias, vocab, repeat, type)\n" +
                p + ":3:10: error: parameter 'n_head' for block 'gpt': value 0 is out of range [1, 1024]\n" + p +
                ":4:7: error: parameter 'act' for block 'gpt' must be string, got int\n" + p +
                ":5:1: error: unknown parameter 'alpha' for block 'gpt' (valid: n_head, n_layer, init_std, ln_eps, "
                "act, dims, bias, vocab, repeat, type)\n");
}

TEST(DidYouMeanTest, PicksClosestWithinThreshold) {
  std::vector<std::string> names = {"n_head", "n_layer", "init_std"};
  EXPECT_EQ(did_you_mean("n_layr", names), "n_layer");
  EXPECT_EQ(did_you_mean("N_HEAD", names), "n_head");  // case-insensitive
  EXPECT_EQ(did_you_mean("n_haed", names), "n_head");  // one transposition
  EXPECT_EQ(did_you_mean("init_sdt", names), "init_std");
  EXPECT_EQ(did_you_mean("foo", names), "");
  EXPECT_EQ(did_you_mean("lr", {"l", "lrs"}), "l");  // ties go to the first
  EXPECT_EQ(did_you_mean("ab", {"xy"}), "");
  EXPECT_EQ(did_you_mean("x", {}), "");
}

// ---------------------------------------------------------------------------------------------
// extends

TEST_F(ConfigLoaderTest, ExtendsMergesDeeplyLaterWinsChildWins) {
  file("base1.toml",
       "[run]\nname = \"b1\"\nseed = 1\n[model]\nn_embd = 64\nkeep = \"b1\"\n"
       "[[model.blocks]]\ntype = \"a\"\n[[model.blocks]]\ntype = \"b\"\n");
  file("base2.toml", "[run]\nseed = 2\ntag = \"b2\"\n[model]\nn_embd = 128\nlist = [1, 2, 3]\n");
  std::string p = file("child.toml",
                       "extends = [\"base1.toml\", \"base2.toml\"]\n[run]\nname = \"child\"\n"
                       "[model]\nlist = [9]\n[[model.blocks]]\ntype = \"c\"\n");
  toml::table doc = load_config(p, {});
  EXPECT_FALSE(doc.contains("extends"));
  EXPECT_EQ(doc["run"]["name"].value<std::string>(), "child");  // child wins
  EXPECT_EQ(doc["run"]["seed"].value<int64_t>(), 2);            // later base wins
  EXPECT_EQ(doc["run"]["tag"].value<std::string>(), "b2");
  EXPECT_EQ(doc["model"]["n_embd"].value<int64_t>(), 128);
  EXPECT_EQ(doc["model"]["keep"].value<std::string>(), "b1");  // deep merge keeps untouched keys
  // Arrays, arrays of tables included, are replaced whole.
  ASSERT_TRUE(doc["model"]["list"].is_array());
  EXPECT_EQ(doc["model"]["list"].as_array()->size(), 1u);
  ASSERT_TRUE(doc["model"]["blocks"].is_array_of_tables());
  EXPECT_EQ(doc["model"]["blocks"].as_array()->size(), 1u);
  EXPECT_EQ(doc["model"]["blocks"][0]["type"].value<std::string>(), "c");
}

TEST_F(ConfigLoaderTest, ExtendsAcceptsAStringAndTableReplacesScalar) {
  file("base.toml", "[a]\nx = 1\nb = 5\n");
  std::string p = file("child.toml", "extends = \"base.toml\"\n[a.b]\ny = 2\n");
  toml::table doc = load_config(p, {});
  EXPECT_EQ(doc["a"]["x"].value<int64_t>(), 1);
  EXPECT_EQ(doc["a"]["b"]["y"].value<int64_t>(), 2);
}

TEST_F(ConfigLoaderTest, NestedExtendsWithRelativePaths) {
  file("common/root.toml", "[run]\nseed = 7\nname = \"root\"\n[training]\nsteps = 10\n");
  file("common/mid.toml", "extends = \"root.toml\"\n[run]\nname = \"mid\"\n");
  file("exp/sub/leaf.toml", "extends = [\"../../common/mid.toml\"]\n[training]\nsteps = 20\n");
  std::string p = file("exp/top.toml", "extends = \"sub/leaf.toml\"\n[run]\nextra = true\n");
  toml::table doc = load_config(p, {});
  EXPECT_EQ(doc["run"]["seed"].value<int64_t>(), 7);
  EXPECT_EQ(doc["run"]["name"].value<std::string>(), "mid");
  EXPECT_EQ(doc["run"]["extra"].value<bool>(), true);
  EXPECT_EQ(doc["training"]["steps"].value<int64_t>(), 20);
  EXPECT_FALSE(doc.contains("extends"));
}

TEST_F(ConfigLoaderTest, DiamondExtendsIsNotACycle) {
  file("a.toml", "x = 1\n");
  file("b.toml", "extends = \"a.toml\"\ny = 2\n");
  file("c.toml", "extends = \"a.toml\"\nz = 3\n");
  std::string p = file("d.toml", "extends = [\"b.toml\", \"c.toml\"]\n");
  toml::table doc = load_config(p, {});
  EXPECT_EQ(doc.size(), 3u);
}

TEST_F(ConfigLoaderTest, MissingBaseIsReportedAtExtendsEntry) {
  file("base.toml", "x = 1\n");
  std::string p = file("child.toml", "y = 2\nextends = [\"base.toml\",\n  \"nope.toml\"]\n");
  EXPECT_EQ(load_errors(p), p + ":3:3: error: cannot load '" + dir_ + "/nope.toml': file not found\n");
}

TEST_F(ConfigLoaderTest, ExtendsOfWrongTypeIsReported) {
  std::string p = file("child.toml", "extends = [\"a.toml\", 3]\n");
  file("a.toml", "");
  EXPECT_EQ(load_errors(p), p + ":1:22: error: 'extends' entries must be strings, got int\n");
  std::string q = file("other.toml", "extends = 5\n");
  EXPECT_EQ(load_errors(q), q + ":1:11: error: 'extends' must be a string or an array of strings, got int\n");
}

TEST_F(ConfigLoaderTest, CycleIsReportedAtExtendsEntry) {
  std::string a = file("a.toml", "extends = \"b.toml\"\n");
  std::string b = file("b.toml", "x = 1\nextends = [\"./a.toml\"]\n");
  EXPECT_EQ(load_errors(a), b + ":2:12: error: extends cycle: " + a + " -> " + b + " -> " + a + "\n");
  std::string self = file("self.toml", "extends = \"self.toml\"\n");
  EXPECT_EQ(load_errors(self), self + ":1:11: error: extends cycle: " + self + " -> " + self + "\n");
}

TEST_F(ConfigLoaderTest, ErrorsInSeveralFilesAreAllReported) {
  file("broken.toml", "x = = 1\n");
  std::string p = file("child.toml", "extends = [\"broken.toml\", \"gone.toml\"]\n");
  EXPECT_EQ(load_errors(p), dir_ +
                                "/broken.toml:1:5: error: Error while parsing value: could not determine value type\n" +
                                p + ":1:27: error: cannot load '" + dir_ + "/gone.toml': file not found\n");
}

TEST_F(ConfigLoaderTest, LocationsFromBaseFilePointIntoBase) {
  std::string base = file("base.toml", "[gpt]\nvocab = 10\nn_head = 0\nn_layr = 1\n");
  std::string p = file("child.toml", "extends = \"base.toml\"\n\n[gpt]\nn_layer = \"x\"\n");
  EXPECT_EQ(validate_errors(p),
            base + ":3:10: error: parameter 'n_head' for block 'gpt': value 0 is out of range [1, 1024]\n" + base +
                ":4:1: error: unknown parameter 'n_layr' for block 'gpt' (did you mean 'n_layer'?)\n" + p +
                ":4:11: error: parameter 'n_layer' for block 'gpt' must be int, got string\n");
}

TEST_F(ConfigLoaderTest, MergedTableKeepsChildLocation) {
  file("base.toml", "[gpt]\nn_head = 2\n");
  std::string p = file("child.toml", "extends = \"base.toml\"\n[gpt]\nn_layer = 2\n");
  // The missing-required error uses the table's location, which is the child's [gpt] header.
  EXPECT_EQ(validate_errors(p), p + ":2:1: error: missing required parameter 'vocab' for block 'gpt'\n");
}

// ---------------------------------------------------------------------------------------------
// --set overrides

TEST_F(ConfigLoaderTest, OverridesParseTomlValuesAndFallBackToStrings) {
  std::string p = file("c.toml", "[task]\ntype = \"copy\"\n[training]\nlr = 0.1\nsteps = 5\n");
  toml::table doc =
      load_config(p, {"training.steps=64", "training.lr=1e-3", "training.amp=true", "task.type=linear_regression",
                      "task.name=\"quoted\"", "task.dims=[1, 2]", "task.note = two words ", "task.empty="});
  EXPECT_EQ(doc["training"]["steps"].value<int64_t>(), 64);
  EXPECT_EQ(doc["training"]["lr"].value<double>(), 1e-3);
  EXPECT_EQ(doc["training"]["amp"].value<bool>(), true);
  EXPECT_EQ(doc["task"]["type"].value<std::string>(), "linear_regression");
  EXPECT_EQ(doc["task"]["name"].value<std::string>(), "quoted");
  ASSERT_TRUE(doc["task"]["dims"].is_array());
  EXPECT_EQ(doc["task"]["dims"][1].value<int64_t>(), 2);
  EXPECT_EQ(doc["task"]["note"].value<std::string>(), "two words");
  EXPECT_EQ(doc["task"]["empty"].value<std::string>(), "");
}

TEST_F(ConfigLoaderTest, OverrideIndexesArraysAndCreatesTables) {
  std::string p =
      file("c.toml", "[model]\n[[model.blocks]]\ntype = \"a\"\n[[model.blocks]]\ntype = \"b\"\nn_head = 2\n");
  toml::table doc = load_config(
      p, {"model.blocks.1.n_head=8", "model.blocks.0.extra.deep=1", "sweep.lr.values=[1, 2]", "model.blocks.1.type=c"});
  EXPECT_EQ(doc["model"]["blocks"][1]["n_head"].value<int64_t>(), 8);
  EXPECT_EQ(doc["model"]["blocks"][1]["type"].value<std::string>(), "c");
  EXPECT_EQ(doc["model"]["blocks"][0]["type"].value<std::string>(), "a");
  EXPECT_EQ(doc["model"]["blocks"][0]["extra"]["deep"].value<int64_t>(), 1);
  EXPECT_EQ(doc["sweep"]["lr"]["values"].as_array()->size(), 2u);
}

TEST_F(ConfigLoaderTest, OverrideReplacesArrayElement) {
  std::string p = file("c.toml", "xs = [1, 2, 3]\n");
  toml::table doc = load_config(p, {"xs.2=30"});
  EXPECT_EQ(doc["xs"][2].value<int64_t>(), 30);
}

TEST_F(ConfigLoaderTest, OverriddenAndCreatedNodesPointAtSet) {
  std::string p = file("c.toml", "[gpt]\nvocab = 10\n");
  EXPECT_EQ(validate_errors(p, nullptr, {"gpt.n_head=0", "gpt.act=tanh", "gpt.nhead=3", "gpt.dims.x=1"}),
            // Same position (each override is line 1): recording order, i.e. key order, decides.
            "--set:1:5: error: parameter 'dims' for block 'gpt' must be array of int, got table\n"
            "--set:1:5: error: unknown parameter 'nhead' for block 'gpt' (did you mean 'n_head'?)\n"
            "--set:1:9: error: parameter 'act' for block 'gpt': value \"tanh\" is not one of gelu|relu\n"
            "--set:1:12: error: parameter 'n_head' for block 'gpt': value 0 is out of range [1, 1024]\n");
}

TEST_F(ConfigLoaderTest, BadOverridesAreAllReported) {
  std::string p = file("c.toml", "xs = [1, 2]\nn = 3\n[model]\nx = 1\n");
  EXPECT_EQ(load_errors(p, {"novalue", "=5", "a..b=1", "xs.2=1", "n.x=1", "xs.k=1", "model.0.y=1", "nope.3=1"}),
            "--set: error: override 'novalue' is not of the form key=value\n"
            "--set: error: override '=5' has an empty key\n"
            "--set: error: override 'a..b=1' has an invalid key 'a..b'\n"
            "--set: error: override 'xs.2=1': index 2 is out of range for 'xs' (2 elements)\n"
            "--set: error: override 'n.x=1': 'n' is int, not a table or array\n"
            "--set: error: override 'xs.k=1': 'xs' is an array, so 'k' must be a numeric index\n"
            "--set: error: override 'model.0.y=1': 'model' is a table, not an array, so '0' cannot index it\n"
            "--set: error: override 'nope.3=1': 'nope' does not exist, so '3' cannot index it\n");
}

TEST_F(ConfigLoaderTest, OverrideSyntaxErrorsJoinFileErrors) {
  std::string p = file("c.toml", "x = \n");
  EXPECT_EQ(load_errors(p, {"oops"}),
            "--set: error: override 'oops' is not of the form key=value\n" + p +
                ":1:5: error: Error while parsing key-value pair: expected value, saw '\\n'\n");
}

// ---------------------------------------------------------------------------------------------
// set_value / write_toml

TEST_F(ConfigLoaderTest, SetValueAndWriteTomlRoundTrip) {
  toml::table t;
  set_value(t, "i", sdk::ParamValue{int64_t{42}});
  set_value(t, "f", sdk::ParamValue{0.1});
  set_value(t, "small", sdk::ParamValue{1e-3});
  set_value(t, "b", sdk::ParamValue{false});
  set_value(t, "s", sdk::ParamValue{std::string("he said \"hi\"")});
  set_value(t, "il", sdk::ParamValue{std::vector<int64_t>{5, 10}});
  set_value(t, "fl", sdk::ParamValue{std::vector<double>{0.5, 2.0}});
  set_value(t, "sl", sdk::ParamValue{std::vector<std::string>{"a", "b"}});
  set_value(t, "i", sdk::ParamValue{int64_t{7}});  // assigns over an existing key
  toml::table sub;
  set_value(sub, "n_head", sdk::ParamValue{int64_t{8}});
  t.insert_or_assign("gpt", std::move(sub));

  std::string path = dir_ + "/resolved.toml";
  write_toml(path, t);
  // The temp file was renamed away: the directory holds only the result.
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    entries += e.path().filename() == "resolved.toml" ? 0 : 1;
  EXPECT_EQ(entries, 0u);
  toml::table back = toml::parse_file(path);
  EXPECT_EQ(back["i"].value<int64_t>(), 7);
  EXPECT_EQ(back["f"].value<double>(), 0.1);
  EXPECT_EQ(back["small"].value<double>(), 1e-3);
  EXPECT_EQ(back["b"].value<bool>(), false);
  EXPECT_EQ(back["s"].value<std::string>(), "he said \"hi\"");
  EXPECT_EQ(back["il"][1].value<int64_t>(), 10);
  EXPECT_TRUE(back["fl"][1].is_floating_point());
  EXPECT_EQ(back["fl"][1].value<double>(), 2.0);
  EXPECT_EQ(back["sl"][0].value<std::string>(), "a");
  EXPECT_EQ(back["gpt"]["n_head"].value<int64_t>(), 8);
  EXPECT_EQ(back.size(), t.size());

  // Writing again replaces the file.
  set_value(t, "i", sdk::ParamValue{int64_t{9}});
  write_toml(path, t);
  EXPECT_EQ(toml::parse_file(path)["i"].value<int64_t>(), 9);
}

TEST_F(ConfigLoaderTest, WriteTomlFailureNamesPath) {
  std::string path = dir_ + "/no/such/dir/resolved.toml";
  try {
    write_toml(path, toml::table{});
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace looplab::host

namespace looplab::host {
namespace {

TEST(WriteToml, FloatsInTheirShortestRoundTripFormStringsUntouched) {
  EXPECT_EQ(
      shortest_floats("a = 0.90000000000000002\nb = \"0.90000000000000002\"\nc = [1.0000000000000001e-05, 2.0]\n"
                      "d = 3\ne = 'x = 0.30000000000000004'\nf = -0.0030000000000000001\n"),
      "a = 0.9\nb = \"0.90000000000000002\"\nc = [1e-05, 2.0]\nd = 3\ne = 'x = 0.30000000000000004'\nf = -0.003\n");
  const auto dir = test::temp_dir("write-toml");
  toml::table t;
  t.insert("lr", 0.003);
  t.insert("eps", 1e-8);
  write_toml(dir + "/t.toml", t);
  const auto back = toml::parse_file(dir + "/t.toml");
  EXPECT_EQ(back["lr"].value<double>(), 0.003);
  EXPECT_EQ(back["eps"].value<double>(), 1e-8);
  EXPECT_TRUE(test::contains(test::read_file(dir + "/t.toml"), "lr = 0.003\n")) << test::read_file(dir + "/t.toml");
}

}  // namespace
}  // namespace looplab::host
