// `recfuse data info PATH`: a dataset's statistics as the readers see it.
#include <boost/program_options.hpp>
#include <algorithm>
#include <fstream>
#include <iostream>

#include "cli.hpp"
#include "data/readers.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace recfuse::cli {
namespace {

/// Picks a reader from what is on disk; --format overrides.
std::string guess_format(const fs::path& p) {
  if (fs::is_directory(p)) {
    if (fs::exists(p / "u.data")) return "ml-100k";
    if (fs::exists(p / "ratings.csv")) return "ml-latest-small";
    if (fs::exists(p / "movies.dat") || fs::exists(p / "ratings.dat")) return "ml-1m";
    if (fs::exists(p / "train.txt") && fs::exists(p / "test.txt")) return "implicit-train-test";
    for (const auto& e : fs::directory_iterator(p))
      if (e.path().extension() == ".inter") return "recbole";
    throw Error(p.string() + ": cannot tell the dataset format; pass --format");
  }
  if (p.extension() == ".inter") return "recbole";
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  std::size_t fields = 0;
  bool in_field = false;
  for (char c : line) {
    const bool space = c == ' ' || c == '\t' || c == '\r';
    if (!space && !in_field) ++fields;
    in_field = !space;
  }
  // Tab-separated rows (u.data's layout, Last.fm's user_artists.dat) are
  // delimited rows, not a user followed by items: sequence files separate by spaces.
  if (line.find(',') != std::string::npos || line.find('\t') != std::string::npos) return "delimited";
  return fields == 2 ? "sequence-pairs" : "sequence";
}

}  // namespace

int data_command(const Args& args) {
  po::options_description desc(
      "usage: recfuse data info PATH [--format F] [--header] [--skip-bad-rows]\n"
      "Reads PATH (absolute, or relative to RECFUSE_DATA / ../shared/data) with the\n"
      "reader the scenario would use and prints its statistics. Formats: ml-100k,\n"
      "ml-latest-small, ml-1m, implicit-train-test, sequence, sequence-pairs,\n"
      "recbole, delimited (user,item[,rating[,timestamp]], separated by commas, or by\n"
      "tabs when the first row has no comma).\n\noptions");
  std::string sub, path, format;
  bool skip = false, header = false;
  desc.add_options()("help,h", "show this help")("format", po::value(&format),
                                                 "reader to use (default: guessed)")(
      "header", po::bool_switch(&header), "delimited: the first line names the columns")(
      "skip-bad-rows", po::bool_switch(&skip), "count malformed rows instead of failing");
  po::options_description positional;  // not listed by --help
  positional.add_options()("sub", po::value(&sub))("path", po::value(&path));
  po::options_description all;
  all.add(desc).add(positional);
  po::positional_options_description pos;
  pos.add("sub", 1).add("path", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "recfuse data: " << e.what() << "\n";
    return kExitBadInput;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  const std::string problem = sub.empty()     ? "recfuse data: missing subcommand (known: info)"
                              : sub != "info" ? "recfuse data: unknown subcommand '" + sub + "' (known: info)"
                              : path.empty()  ? "recfuse data info: missing PATH"
                                              : "";
  if (!problem.empty()) {
    std::cerr << problem << "\n\n" << desc << "\n";
    return kExitBadInput;
  }
  try {
    DatasetSpec spec;
    spec.path = path;
    spec.skip_bad_rows = skip;
    const fs::path resolved = resolve_data_path(path);
    spec.format = format.empty() ? guess_format(resolved) : format;
    if (header && spec.format != "delimited")
      throw Error("recfuse data: --header is for the delimited format, not " + spec.format);
    spec.delimited.header = header;
    if (spec.format == "delimited") {  // user,item[,rating[,timestamp]]: as many as the first row has
      std::ifstream in(resolved);
      std::string first;
      while (std::getline(in, first) && first.find_first_not_of(" \t\r") == std::string::npos) {
      }
      // Commas, else tabs: the first row's own separator.
      const char sep = first.find(',') == std::string::npos && first.find('\t') != std::string::npos ? '\t' : ',';
      spec.delimited.separator = std::string(1, sep);
      const auto columns = 1 + std::count(first.begin(), first.end(), sep);
      spec.delimited.rating_column = columns >= 3 ? 2 : -1;
      spec.delimited.timestamp_column = columns >= 4 ? 3 : -1;
    }
    const Dataset data = read_dataset(spec, resolved);
    std::cout << "format: " << spec.format << "\n" << describe_dataset(data);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  }
  return kExitOk;
}

}  // namespace recfuse::cli
