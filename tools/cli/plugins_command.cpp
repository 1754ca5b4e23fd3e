// `recfuse plugins`: every plugin found, its algorithms and parameter tables.
#include <boost/program_options.hpp>
#include <iomanip>
#include <iostream>

#include "cli.hpp"
#include "host/params_validation.hpp"
#include "host/plugin_loader.hpp"

namespace po = boost::program_options;

namespace recfuse::cli {
namespace {

std::string range_text(const ParamSpec& p) {
  if (p.type == ParamType::kChoice) {
    std::string s;
    for (std::size_t i = 0; i < p.choices.size(); ++i) s += (i ? "|" : "") + p.choices[i];
    return s;
  }
  if (p.type != ParamType::kInt && p.type != ParamType::kFloat) return "";
  auto bound = [](double v) {
    if (std::isinf(v)) return std::string(v < 0 ? "-inf" : "inf");
    std::ostringstream os;
    os << v;
    return os.str();
  };
  return "[" + bound(p.min) + ", " + bound(p.max) + "]";
}

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
  std::cout << "    " << std::left << std::setw(18) << "parameter" << std::setw(8) << "type"
            << std::setw(12) << "default" << std::setw(22) << "range" << "doc\n";
  for (const auto& p : specs)
    std::cout << "    " << std::setw(18) << p.name << std::setw(8) << param_type_name(p.type)
              << std::setw(12) << format_param_value(p.default_value) << std::setw(22)
              << range_text(p) << p.doc << "\n";
}

void print_algorithm(const AlgorithmDescriptor& a) {
  std::cout << "  " << a.name << " — " << a.description << "\n"
            << "    capabilities: " << capability_text(a.capabilities) << "\n";
  print_params(a.params());
}

void print_environment(const EnvironmentDescriptor& e) {
  std::cout << "  " << e.name << " (environment) — " << e.description << "\n";
  print_params(e.params());
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
  for (const auto& d : dirs) std::cout << "  " << d.string() << "\n";
  for (const auto& p : registry.plugins()) {
    const PluginDescriptor& d = *p->descriptor;
    std::cout << "\n" << d.name << " " << d.version << " (" << d.family << ") — " << d.description
              << "\n  file: " << p->file.string() << "\n";
    for (const auto& a : d.algorithms) print_algorithm(a);
    for (const auto& e : d.environments) print_environment(e);
  }
  if (!registry.errors().empty()) {
    std::cout << "\nnot loaded:\n";
    for (const auto& e : registry.errors()) std::cout << "  " << e << "\n";
  }
  return registry.plugins().empty() ? kExitBadInput : kExitOk;
}

}  // namespace recfuse::cli
