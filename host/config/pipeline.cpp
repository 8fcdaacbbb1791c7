#include "config/pipeline.h"

#include "common/text.h"
#include "config/baselines.h"
#include "config/config_loader.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace looplab::host {

using sdk::Params;
using sdk::ParamSchema;

int64_t Staircase::at(int64_t step) const { return std::min(start + (step / interval) * inc, end); }

int64_t PipelineConfig::depth() const {
  int64_t n = 0;
  for (const auto& b : blocks) n += b.repeat;
  return n;
}

namespace {

const std::vector<std::string> kSections = {"run", "task", "model", "training", "evaluation", "analyses", "outputs"};

ParamSchema task_host_schema() {
  return {
      sdk::required_param("type", sdk::ParamType::String, "task plugin name"),
      sdk::int_param("n_dims", 5, "dimension d of x").at_least(1).at_most(4096),
      sdk::int_param("n_points", 11, "points (x, y) per prompt").at_least(1).at_most(100000),
  };
}

ParamSchema block_host_schema() {
  return {
      sdk::required_param("type", sdk::ParamType::String, "block plugin name"),
      sdk::int_param("repeat", 1, "consecutive copies of this block (separate weights)").at_least(1).at_most(1024),
  };
}

ParamSchema analysis_host_schema() {
  return {sdk::required_param("type", sdk::ParamType::String, "analysis plugin name")};
}

ParamSchema baseline_host_schema() {
  return {sdk::required_param("type", sdk::ParamType::String, "baseline plugin name")};
}

ParamSchema staircase_schema() {
  return {
      sdk::required_param("start", sdk::ParamType::Int, "value at step 0"),
      sdk::required_param("end", sdk::ParamType::Int, "final value"),
      sdk::int_param("inc", 1, "increment per interval").at_least(0),
      sdk::int_param("interval", 1000, "steps between increments").at_least(1),
  };
}

// Splits combined (host + plugin) params back into the plugin's own.
Params plugin_part(const Params& all, const ParamSchema& plugin_schema) {
  Params out;
  for (const auto& spec : plugin_schema)
    if (all.has(spec.name)) out.set(spec.name, all.values().at(spec.name));
  return out;
}

void write_params(toml::table& table, const Params& params) {
  for (const auto& [k, v] : params.values()) set_value(table, k, v);
}

// Resolves nested block parameters (e.g. lr_looped's `inner`) against the registry:
// the table's `type` (or the spec's default) picks the plugin, whose own schema validates
// the rest, recursively.
class NestedBlocks {
 public:
  NestedBlocks(const PluginRegistry& registry, Diagnostics& diags) : registry_(registry), diags_(diags) {}

  std::optional<sdk::ParamValue> operator()(const toml::node* node, const sdk::ParamSpec& spec, const std::string& what,
                                            const SourceLocation& where) const {
    static const toml::table empty;
    const toml::table* table = node ? node->as_table() : &empty;
    const std::string owner = "parameter '" + spec.name + "' for " + what;
    if (!table) {
      diags_.error(where, owner + " must be a table naming a block, e.g. { type = \"gpt\" }");
      return std::nullopt;
    }
    std::string type;
    if (spec.fallback)
      if (const auto* fallback = std::get_if<sdk::BlockSpecPtr>(&*spec.fallback); fallback && *fallback)
        type = (*fallback)->type;
    const toml::node* type_node = table->get("type");
    if (type_node) {
      auto s = type_node->value<std::string>();
      if (!s) {
        diags_.error(location_of(*type_node, where), owner + ": 'type' must be a string");
        return std::nullopt;
      }
      type = *s;
    }
    const LoadedComponent* found = registry_.find(sdk::ComponentKind::Block, type);
    if (!found) {
      diags_.error(
          type_node ? location_of(*type_node, where) : where,
          owner + ": " + unknown_name("block", type, registry_.names(sdk::ComponentKind::Block), NameList::kAvailable),
          registry_.search_note());
      return std::nullopt;
    }
    const size_t before = diags_.size();
    auto out = std::make_shared<sdk::BlockSpec>();
    out->type = type;
    out->params = validate_table(*table, found->component->params, "block '" + type + "' (" + owner + ")", {"type"},
                                 where, diags_, *this);
    out->factory = std::get<sdk::BlockFactory>(found->component->factory);
    if (diags_.size() != before) return std::nullopt;
    return sdk::ParamValue{sdk::BlockSpecPtr(std::move(out))};
  }

 private:
  const PluginRegistry& registry_;
  Diagnostics& diags_;
};

class Builder {
 public:
  Builder(const toml::table& doc, const std::string& file, const PluginRegistry& registry, const PipelineCheck& check)
      : doc_(doc), registry_(registry), check_(check), file_loc_{file, 0, 0} {
    cfg_.file = file;
  }

  PipelineConfig build() {
    check_sections();
    auto run = section("run", RunOptions::section().schema(), {});
    auto task = task_section();
    auto model = section("model", ModelOptions::section().schema(), {"blocks"});
    blocks_section();
    analyses_section();
    auto training = section("training", TrainingOptions::section().schema(), {"curriculum"});
    auto evaluation = section("evaluation", EvaluationOptions::section().schema(), {"baselines", "extra_baselines"});
    baselines_keys();
    auto outputs = section("outputs", OutputOptions::section().schema(), {});

    cfg_.run = RunOptions::section().read(run);
    if (cfg_.run.name.empty()) cfg_.run.name = std::filesystem::path(cfg_.file).stem().string();
    // Resolved against the file that named them, so resolved.toml works from the run directory.
    cfg_.run.plugin_paths = raw_plugin_paths(doc_);
    cfg_.model = ModelOptions::section().read(model);
    cfg_.training = TrainingOptions::section().read(training);
    cfg_.evaluation = EvaluationOptions::section().read(evaluation);
    cfg_.outputs = OutputOptions::section().read(outputs);

    curricula(cfg_.model.loops);
    cfg_.baselines = cfg_.configured_baselines.value_or(std::vector<ComponentConfig>{});
    cfg_.baselines.insert(cfg_.baselines.end(), cfg_.extra_baselines.begin(), cfg_.extra_baselines.end());
    if (diags_.empty() && check_) check_(cfg_, registry_, diags_);
    if (!diags_.empty()) throw ConfigError(diags_);

    resolve(run, model, training, evaluation, outputs);
    return std::move(cfg_);
  }

 private:
  SourceLocation where(const toml::node* node) const { return node ? location_of(*node, file_loc_) : file_loc_; }

  void check_sections() {
    for (auto&& [key, node] : doc_) {
      std::string k(key.str());
      if (k == "analyses") {
        if (!node.is_array_of_tables()) diags_.error(where(&node), "analyses must be written as [[analyses]] tables");
        continue;
      }
      if (std::find(kSections.begin(), kSections.end(), k) != kSections.end()) {
        if (!node.is_table()) diags_.error(where(&node), "[" + k + "] must be a table");
        continue;
      }
      diags_.error(where(&node), unknown_name("section", k, kSections, NameList::kValid));
    }
  }

  const toml::table* table_at(const std::string& name) const {
    const toml::node* node = doc_.get(name);
    return node ? node->as_table() : nullptr;
  }

  Params section(const std::string& name, const ParamSchema& schema, const std::set<std::string>& reserved) {
    static const toml::table empty;
    const toml::table* t = table_at(name);
    return validate_table(t ? *t : empty, schema, "section [" + name + "]", reserved, where(t), diags_);
  }

  std::optional<Params> component_table(const toml::table& t, ParamSchema host_schema, sdk::ComponentKind kind,
                                        const std::string& what, ComponentConfig& out) {
    return validate_component(t, std::move(host_schema), kind, what, registry_, diags_, file_loc_, out);
  }

 public:
  // Validates a plugin-backed table: host keys plus the plugin's own schema.
  static std::optional<Params> validate_component(const toml::table& t, ParamSchema host_schema,
                                                  sdk::ComponentKind kind, const std::string& what,
                                                  const PluginRegistry& registry_, Diagnostics& diags_,
                                                  const SourceLocation& file_loc_, ComponentConfig& out) {
    auto where = [&](const toml::node* node) { return node ? location_of(*node, file_loc_) : file_loc_; };
    out.where = where(&t);
    const toml::node* type_node = t.get("type");
    auto type = type_node ? type_node->value<std::string>() : std::nullopt;
    if (!type) {
      // Let the validator word the missing/mistyped 'type' error.
      validate_table(t, host_schema, what, {}, out.where, diags_);
      return std::nullopt;
    }
    out.type = *type;
    const LoadedComponent* found = registry_.find(kind, *type);
    if (!found) {
      diags_.error(where(type_node),
                   unknown_name(sdk::kind_name(kind), *type, registry_.names(kind), NameList::kAvailable),
                   registry_.search_note());
      return std::nullopt;
    }
    out.component = found->component;
    out.file = found->file;
    const auto& plugin_schema = out.component->params;
    ParamSchema combined = host_schema;
    combined.insert(combined.end(), plugin_schema.begin(), plugin_schema.end());
    auto all = validate_table(t, combined, std::string(sdk::kind_name(kind)) + " '" + *type + "'", {}, out.where,
                              diags_, NestedBlocks(registry_, diags_));
    out.params = plugin_part(all, plugin_schema);
    return all;
  }

 private:
  void analyses_section() {
    const toml::node* node = doc_.get("analyses");
    const toml::array* arr = node ? node->as_array() : nullptr;
    if (!arr) return;
    for (const auto& item : *arr)
      if (const toml::table* t = item.as_table())
        cfg_.analyses.push_back(build_analysis(*t, registry_, diags_, file_loc_));
  }

  // [evaluation] baselines and extra_baselines: lists of names or { type = ... } tables.
  void baselines_keys() {
    const toml::table* evaluation = table_at("evaluation");
    for (const char* key : {"baselines", "extra_baselines"}) {
      const toml::node* node = evaluation ? evaluation->get(key) : nullptr;
      if (!node) continue;
      const toml::array* arr = node->as_array();
      if (!arr) {
        diags_.error(where(node), std::string("[evaluation] ") + key +
                                      " must be a list of baselines, e.g. [\"least_squares\", { type = \"lasso\", alpha = 0.1 }]");
        continue;
      }
      std::vector<ComponentConfig> list;
      for (const auto& item : *arr) list.push_back(build_baseline(item, registry_, diags_, where(node)));
      if (std::string(key) == "baselines")
        cfg_.configured_baselines = std::move(list);
      else
        cfg_.extra_baselines = std::move(list);
    }
  }

  Params task_section() {
    const toml::table* t = table_at("task");
    if (!t) {
      if (!doc_.get("task")) diags_.error(file_loc_, "missing [task] section (e.g. type = \"linear_regression\")");
      return Params::defaults(task_host_schema());
    }
    auto all = component_table(*t, task_host_schema(), sdk::ComponentKind::Task, "section [task]", cfg_.task);
    Params host = Params::defaults(task_host_schema());
    if (all) host = *all;
    cfg_.n_dims = host.get_int("n_dims");
    cfg_.n_points = host.get_int("n_points");
    return host;
  }

  void blocks_section() {
    const toml::table* model = table_at("model");
    const toml::node* node = model ? model->get("blocks") : nullptr;
    const toml::array* arr = node ? node->as_array() : nullptr;
    if (!arr || arr->empty()) {
      diags_.error(where(node ? node : static_cast<const toml::node*>(model)),
                   "the model needs at least one [[model.blocks]] entry (e.g. type = \"gpt\")");
      return;
    }
    for (const auto& item : *arr) {
      const toml::table* t = item.as_table();
      if (!t) {
        diags_.error(where(&item), "each [[model.blocks]] entry must be a table");
        continue;
      }
      ComponentConfig block;
      auto all = component_table(*t, block_host_schema(), sdk::ComponentKind::Block, "[[model.blocks]]", block);
      if (all) block.repeat = all->get_int("repeat");
      cfg_.blocks.push_back(std::move(block));
    }
  }

  Staircase staircase(const std::string& name, int64_t fixed, int64_t lo, int64_t hi, const std::string& limit_doc) {
    const toml::table* training = table_at("training");
    const toml::node* cur = training ? training->get("curriculum") : nullptr;
    if (!cur) return Staircase::fixed(fixed);
    const toml::table* cur_t = cur->as_table();
    if (!cur_t) {
      if (name == "dims") diags_.error(where(cur), "[training.curriculum] must be a table");
      return Staircase::fixed(fixed);
    }
    if (name == "dims")  // check unknown curricula once
      for (auto&& [k, v] : *cur_t) {
        std::string key(k.str());
        if (key != "dims" && key != "points" && key != "loops") {
          diags_.error(where(&v), unknown_name("curriculum", key, {"dims", "points", "loops"}, NameList::kValid));
        }
      }
    const toml::node* node = cur_t->get(name);
    if (!node) return Staircase::fixed(fixed);
    const toml::table* t = node->as_table();
    if (!t) {
      diags_.error(where(node), "[training.curriculum." + name + "] must be a table");
      return Staircase::fixed(fixed);
    }
    auto p = validate_table(*t, staircase_schema(), "section [training.curriculum." + name + "]", {}, where(t), diags_);
    if (!p.has("start") || !p.has("end")) return Staircase::fixed(fixed);
    Staircase s{p.get_int("start"), p.get_int("end"), p.get_int("inc"), p.get_int("interval")};
    if (s.start < lo || s.end > hi || s.start > s.end)
      diags_.error(where(t), "curriculum " + name + ": need " + std::to_string(lo) +
                                 " <= start <= end <= " + std::to_string(hi) + " (" + limit_doc + "), got start " +
                                 std::to_string(s.start) + ", end " + std::to_string(s.end));
    curriculum_tables_.emplace_back(name, p);
    return s;
  }

  void curricula(int64_t loops) {
    cfg_.dims = staircase("dims", cfg_.n_dims, 1, cfg_.n_dims, "task.n_dims");
    cfg_.points = staircase("points", cfg_.n_points, 1, cfg_.n_points, "task.n_points");
    cfg_.loops = staircase("loops", loops, 1, 100000, "iterations");
    const toml::table* model = table_at("model");
    if (!cfg_.model.looped && (loops != 1 || cfg_.loops.end != 1))
      diags_.error(where(model), "loops > 1 needs looped = true in [model]");
    if (!cfg_.model.looped && cfg_.model.window != 0)
      diags_.error(where(model), "window applies to looped models only");
  }

  void resolve(const Params& run, const Params& model, const Params& training, const Params& evaluation,
               const Params& outputs) {
    toml::table& r = cfg_.resolved;
    auto put = [&r](const std::string& name, const Params& p) {
      toml::table t;
      write_params(t, p);
      r.insert_or_assign(name, std::move(t));
    };
    Params run_resolved = run;
    run_resolved.set("name", cfg_.run.name);
    run_resolved.set("plugin_paths", cfg_.run.plugin_paths);
    put("run", run_resolved);

    toml::table task;
    set_value(task, "type", cfg_.task.type);
    set_value(task, "n_dims", cfg_.n_dims);
    set_value(task, "n_points", cfg_.n_points);
    write_params(task, cfg_.task.params);
    r.insert_or_assign("task", std::move(task));

    toml::table model_t;
    write_params(model_t, model);
    toml::array blocks;
    for (const auto& b : cfg_.blocks) {
      toml::table bt;
      set_value(bt, "type", b.type);
      set_value(bt, "repeat", b.repeat);
      write_params(bt, b.params);
      blocks.push_back(std::move(bt));
    }
    model_t.insert_or_assign("blocks", std::move(blocks));
    r.insert_or_assign("model", std::move(model_t));

    toml::table train_t;
    write_params(train_t, training);
    if (!curriculum_tables_.empty()) {
      toml::table cur;
      for (const auto& [name, p] : curriculum_tables_) {
        toml::table s;
        write_params(s, p);
        cur.insert_or_assign(name, std::move(s));
      }
      train_t.insert_or_assign("curriculum", std::move(cur));
    }
    r.insert_or_assign("training", std::move(train_t));
    toml::table evaluation_t;
    write_params(evaluation_t, evaluation);
    // The list evaluated, written out: a resumed run evaluates the same baselines.
    evaluation_t.insert_or_assign("baselines", baselines_toml(cfg_.baselines));
    r.insert_or_assign("evaluation", std::move(evaluation_t));
    if (!cfg_.analyses.empty()) {
      toml::array analyses;
      for (const auto& a : cfg_.analyses) {
        toml::table at;
        set_value(at, "type", a.type);
        write_params(at, a.params);
        analyses.push_back(std::move(at));
      }
      r.insert_or_assign("analyses", std::move(analyses));
    }
    put("outputs", outputs);
  }

  const toml::table& doc_;
  const PluginRegistry& registry_;
  const PipelineCheck& check_;
  SourceLocation file_loc_;
  Diagnostics diags_;
  PipelineConfig cfg_;
  std::vector<std::pair<std::string, Params>> curriculum_tables_;
};

}  // namespace

ComponentConfig build_analysis(const toml::table& table, const PluginRegistry& registry, Diagnostics& diags,
                               const SourceLocation& fallback) {
  ComponentConfig out;
  Builder::validate_component(table, analysis_host_schema(), sdk::ComponentKind::Analysis, "[[analyses]]", registry,
                              diags, fallback, out);
  return out;
}

ComponentConfig build_baseline(const toml::node& entry, const PluginRegistry& registry, Diagnostics& diags,
                               const SourceLocation& fallback) {
  ComponentConfig out;
  if (auto name = entry.value<std::string>()) {
    toml::table named{{"type", *name}};
    const SourceLocation at = location_of(entry, fallback);
    Builder::validate_component(named, baseline_host_schema(), sdk::ComponentKind::Baseline, "baseline", registry,
                                diags, at, out);
    return out;
  }
  if (const toml::table* t = entry.as_table()) {
    Builder::validate_component(*t, baseline_host_schema(), sdk::ComponentKind::Baseline, "baseline", registry, diags,
                                fallback, out);
    return out;
  }
  diags.error(location_of(entry, fallback),
              "a baseline is a name or a table { type = \"...\", <parameters> }; got " + type_of_node(entry));
  return out;
}

sdk::Params default_params(const sdk::Component& component, const PluginRegistry& registry) {
  Diagnostics diags;
  auto params = validate_table(toml::table{}, component.params,
                               std::string(sdk::kind_name(component.kind())) + " '" + component.name + "'", {},
                               SourceLocation{"defaults", 0, 0}, diags, NestedBlocks(registry, diags));
  if (!diags.empty()) throw ConfigError(diags);
  return params;
}

std::vector<std::string> raw_plugin_paths(const toml::table& doc) {
  std::vector<std::string> out;
  if (const auto* arr = doc.at_path("run.plugin_paths").as_array())
    for (const auto& item : *arr)
      if (auto s = item.value<std::string>()) {
        // Relative paths are relative to the file that wrote them, like extends.
        std::filesystem::path p(*s), file(location_of(item).file);
        if (p.is_relative() && !file.empty()) p = file.parent_path() / p;
        out.push_back(std::filesystem::absolute(p).lexically_normal().string());
      }
  return out;
}

void record_plugin_paths(PipelineConfig& cfg, const std::vector<std::string>& directories) {
  std::vector<std::string> paths;
  for (const auto& d : directories) paths.push_back(std::filesystem::absolute(d).lexically_normal().string());
  for (const auto& p : cfg.run.plugin_paths)
    if (std::find(paths.begin(), paths.end(), p) == paths.end()) paths.push_back(p);
  cfg.run.plugin_paths = paths;
  if (auto* run = cfg.resolved["run"].as_table()) set_value(*run, "plugin_paths", sdk::ParamValue{paths});
}

PipelineConfig build_pipeline(const toml::table& doc, const std::string& file, const PluginRegistry& registry,
                              const PipelineCheck& check) {
  return Builder(doc, file, registry, check).build();
}

}  // namespace looplab::host
