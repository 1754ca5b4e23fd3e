// Typed, checked reads from one TOML table of a scenario. Every failure is a
// recfuse::Error reading like a compiler error:
//   scenarios/a.toml:14:9: [split.test_ratio] expected a number in (0, 1), got 1.5
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <toml++/toml.h>
#include <vector>

#include "recfuse/params.hpp"

namespace recfuse::scenario_detail {

/// "file:line:column" of a source region ("file" alone when TOML++ has none).
std::string location(const std::string& file, const toml::source_region& where);
/// "int", "float", "bool", "string", "array", "table", "date" ...
const char* node_type_name(const toml::node& node);
/// The value as a ParamValue; nullopt for arrays, tables and dates.
std::optional<ParamValue> to_param_value(const toml::node& node);

/// One table of the document, with its dotted path ("dataset.delimited").
/// The constructor rejects keys the schema does not list for `schema_table`
/// (with a "did you mean" suggestion), so reads only meet known keys.
class Section {
 public:
  Section(const std::string& file, const toml::table& table, std::string path,
          const std::string& schema_table);

  const toml::table& table() const { return table_; }
  const std::string& path() const { return path_; }
  /// Where the table starts ("file:line:col").
  std::string location() const { return scenario_detail::location(file_, table_.source()); }
  std::string location_of(const std::string& key) const;
  bool has(const std::string& key) const { return table_.contains(key); }

  /// Each read leaves `out` untouched when the key is absent.
  void read(const std::string& key, std::string& out) const;
  void read(const std::string& key, bool& out) const;
  void read_enum(const std::string& key, std::string& out,
                 const std::vector<std::string>& choices) const;
  void read_int(const std::string& key, std::int64_t& out, std::int64_t lo,
                std::int64_t hi = std::numeric_limits<std::int64_t>::max()) const;
  void read_int(const std::string& key, std::int32_t& out, std::int64_t lo,
                std::int64_t hi = std::numeric_limits<std::int32_t>::max()) const;
  void read_int(const std::string& key, std::uint64_t& out) const;
  /// Which ends of a read_float range exclude their bound: [lo, hi],
  /// [lo, hi), (lo, hi] or (lo, hi).
  enum class Open { kNeither, kHigh, kLow, kBoth };
  /// A finite number (ints accepted) in the range of lo, hi and `open`; the
  /// error states that range.
  void read_float(const std::string& key, double& out,
                  double lo = -std::numeric_limits<double>::infinity(),
                  double hi = std::numeric_limits<double>::infinity(), Open open = Open::kNeither) const;
  void read_float(const std::string& key, std::optional<double>& out) const;
  void read_int_array(const std::string& key, std::vector<std::int64_t>& out,
                      std::int64_t lo) const;
  void read_string_array(const std::string& key, std::vector<std::string>& out) const;
  /// A sub-table; nullopt when absent, Error when the key holds something else.
  std::optional<Section> sub(const std::string& key) const;
  /// The array at `key` (Error when it is something else); null when absent.
  const toml::array* array(const std::string& key) const;

  /// Throws "<location of key>: [path.key] what".
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  /// Throws "<location of node>: [path.key] what".
  [[noreturn]] void fail_at(const toml::node& node, const std::string& key,
                            const std::string& what) const;
  /// Throws "<location of table>: [path] what".
  [[noreturn]] void fail_table(const std::string& what) const;

 private:
  const toml::node& node(const std::string& key) const;
  [[noreturn]] void wrong_type(const std::string& key, const char* expected) const;

  const std::string& file_;
  const toml::table& table_;
  std::string path_;
};

}  // namespace recfuse::scenario_detail
