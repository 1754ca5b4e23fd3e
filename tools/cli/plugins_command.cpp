// `recfuse plugins`: every plugin found, its algorithms and parameter tables.
#include <algorithm>
#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "host/params_validation.hpp"
#include "host/plugin_loader.hpp"

namespace po = boost::program_options;

namespace recfuse::cli {
namespace {

std::string capability_text(std::uint32_t caps) {
  std::string s;
  const std::pair<std::uint32_t, const char*> names[] = {
      {kCapPredictRating, "predict_rating"}, {kCapObserve, "observe"},
      {kCapPropensity, "propensity"},        {kCapExplain, "explain"},
      {kCapSaveLoad, "save_load"},           {kCapChildren, "children"}};
  for (const auto& [bit, name] : names)
    if (caps & bit) s += (s.empty() ? "" : ", ") + std::string(name);
  return s.empty() ? "-" : s;
}

void print_params(const std::vector<ParamSpec>& specs) {
  if (specs.empty()) {
    std::cout << "    (no parameters)\n";
    return;
  }
  // Columns as wide as their longest cell (a long default such as a list of
  // weights, or a wide range, must not run into the next column), plus two.
  struct Row {
    std::string name, type, value, range;
  };
  std::vector<Row> rows;
  std::size_t w_name = 9, w_type = 4, w_value = 7, w_range = 5;  // the headers
  for (const auto& p : specs) {
    rows.push_back({p.name, param_type_name(p.type), format_param_value(p.default_value), format_param_range(p)});
    w_name = std::max(w_name, rows.back().name.size());
    w_type = std::max(w_type, rows.back().type.size());
    w_value = std::max(w_value, rows.back().value.size());
    w_range = std::max(w_range, rows.back().range.size());
  }
  const auto cell = [](const std::string& text, std::size_t width) {
    return text + std::string(width + 2 - text.size(), ' ');
  };
  std::cout << "    " << cell("parameter", w_name) << cell("type", w_type) << cell("default", w_value)
            << cell("range", w_range) << "doc\n";
  for (std::size_t k = 0; k < specs.size(); ++k)
    std::cout << "    " << cell(rows[k].name, w_name) << cell(rows[k].type, w_type)
              << cell(rows[k].value, w_value) << cell(rows[k].range, w_range) << specs[k].doc << "\n";
}

// The parameter tables are the copies the loader read and checked (LoadedPlugin).
void print_algorithm(const AlgorithmDescriptor& a, const std::vector<ParamSpec>& params) {
  std::cout << "  " << a.name << " — " << a.description << "\n"
            << "    capabilities: " << capability_text(a.capabilities) << "\n";
  print_params(params);
}

void print_environment(const EnvironmentDescriptor& e, const std::vector<ParamSpec>& params) {
  std::cout << "  " << e.name << " (environment) — " << e.description << "\n";
  print_params(params);
}

}  // namespace

int plugins_command(const Args& args) {
  po::options_description desc(
      "usage: recfuse plugins [--plugin-path DIR]...\n"
      "Lists every plugin library found on the search path (next to the binary in\n"
      "../lib/recfuse/plugins, then --plugin-path, then RECFUSE_PLUGIN_PATH), each\n"
      "algorithm or environment it provides and its parameter table. Libraries that fail to load\n"
      "are listed with the reason.\n\noptions");
  std::vector<std::string> extra;
  desc.add_options()("help,h", "show this help")(
      "plugin-path", po::value(&extra)->composing(), "extra plugin directory (repeatable)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
    if (const std::string bad = missing_plugin_dir(extra); !bad.empty()) throw po::error(bad);
  } catch (const po::error& e) {
    std::cerr << "recfuse plugins: " << e.what() << "\n";
    return kExitBadInput;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  const auto dirs = plugin_dirs(extra);
  PluginRegistry registry;
  registry.scan(dirs);
  std::cout << "plugin search path:\n";
  // RECFUSE_PLUGIN_PATH, like PATH, may name a directory that is gone: it is
  // skipped, and said so here (a --plugin-path that is gone is an error).
  for (const auto& d : dirs) {
    std::error_code ec;
    std::cout << "  " << d.string() << (std::filesystem::is_directory(d, ec) ? "" : "  (no such directory)") << "\n";
  }
  for (const auto& p : registry.plugins()) {
    const PluginDescriptor& d = *p->descriptor;
    std::cout << "\n" << d.name << " " << d.version << " (" << d.family << ") — " << d.description
              << "\n  file: " << p->file.string() << "\n";
    for (std::size_t k = 0; k < d.algorithms.size(); ++k) print_algorithm(d.algorithms[k], p->algorithm_params[k]);
    for (std::size_t k = 0; k < d.environments.size(); ++k)
      print_environment(d.environments[k], p->environment_params[k]);
  }
  if (!registry.errors().empty()) {
    std::cout << "\nnot loaded:\n";
    for (const auto& e : registry.errors()) std::cout << "  " << e << "\n";
  }
  if (registry.plugins().empty()) {
    std::cerr << "recfuse plugins: "
              << (registry.errors().empty() ? "no plugin library found on the search path"
                                            : "no plugin library on the search path could be loaded (above)")
              << " (add a directory with --plugin-path or RECFUSE_PLUGIN_PATH)\n";
    return kExitBadInput;
  }
  return kExitOk;
}

}  // namespace recfuse::cli
