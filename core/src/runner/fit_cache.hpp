// Fitted models kept between trials (recfuse run --fit-cache DIR): a node of
// a trial's model tree — a standalone algorithm or a fusion strategy's child
// — whose fit is the same as one an earlier trial made is read back instead
// of fitted. A sweep over fusion settings fits each child once, and the
// standalone rows of a scenario give their models to the fusion rows that
// list the same children.
//
// A node's fit is named by what it depends on: the host build (its source
// hash, build type and flags), the plugin library files of the node and its
// children (file hashes), the node's tree without its own name (plugin,
// version, validated parameters, children with their names and
// parameters), the trial's seed, fold and thread count (a fit may sum in
// per-thread order), and the data it fits on (the record's dataset hash,
// shape, split and fit_sha256, which covers split.ties; saved_models.hpp).
// The file is DIR/<sha256 of that identity, 32 hex>.model, in the format
// --save-models writes, its header holding the identity, which a read
// compares in full, and the body's sha256, which a read checks before
// load. A rebuilt plugin or host misses and refits, never reads a stale
// model. A file that does not load is noted and the node refitted (and the
// file rewritten): a cache never fails a trial. Not in the identity: the
// system's libraries and CPU (a cache shared over NFS by unlike machines
// reads one machine's fit on another).
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "runner/model_tree.hpp"
#include "scenario/scenario.hpp"

namespace recfuse {

class FitCache final : public FitStore {
 public:
  /// For `trial`, whose record `rec` has its "provenance" and "dataset".
  FitCache(std::filesystem::path dir, const TrialSpec& trial, const PluginRegistry& registry,
           const nlohmann::json& rec);

  /// node.tree["fit_cache"] = {"read": file} on a hit; false on a miss and
  /// on a file that does not load (noted in record()'s "errors").
  bool load(const AlgorithmSpec& spec, FittedModel& node) override;
  /// node.tree["fit_cache"] = {"stored": file, "bytes": n} or {"error": ...}.
  void store(const AlgorithmSpec& spec, FittedModel& node) override;

  /// The trial's "fit_cache" record: {"dir", "read": [node names],
  /// "stored": [...], "errors": [...]}.
  const nlohmann::json& record() const { return record_; }

  /// What names the fit of `node` (built from `spec`); public for tests.
  nlohmann::json identity(const AlgorithmSpec& spec, const FittedModel& node) const;

 private:
  std::filesystem::path file_of(const nlohmann::json& identity) const;

  std::filesystem::path dir_;
  const PluginRegistry& registry_;
  nlohmann::json trial_;  // what every node of the trial shares
  nlohmann::json libraries_;
  nlohmann::json record_;
};

}  // namespace recfuse
