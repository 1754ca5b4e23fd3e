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
// shape, split and fit_sha256, which covers split.ties; saved_models.hpp);
// for an online or off-policy trial, fitted on logs collected in its world,
// also the environment (plugin, library, version, validated parameters,
// users, items) and the logs (policy, epsilon, temperature, episodes, batch
// and the fingerprint of what learners saw of them), so that two trials of
// one seed in different worlds or with different logging never share a fit,
// while an online and an off-policy trial of the same logs do.
// The file is DIR/<sha256 of that identity, 32 hex>.model, in the format
// --save-models writes, its header holding the identity, which a read
// compares in full, and the body's sha256, which a read checks before
// load. A fusion node's file leaves out the bytes of the children it holds
// whole, which have files of their own (runner/model_splice.hpp), so a
// sweep over fusion settings keeps most children once on disk. A rebuilt
// plugin or host misses and refits, never reads a stale model. A file that does not load is noted and the node refitted (and the
// file rewritten): a cache never fails a trial. Not in the identity: the
// system's libraries and CPU (a cache shared over NFS by unlike machines
// reads one machine's fit on another).
//
// Trials side by side (--jobs, MPI ranks sharing DIR) that need the same
// node fit it once: a lookup that finds no file takes an exclusive lock on
// DIR/<name>.lock (flock), looks again, and on a miss holds the lock
// through the node's fit until its file is kept, so another trial's lookup
// of that node waits, then reads. Reads take no lock (files are renamed
// into place whole and checked). A lock is only ever taken for a node while
// holding its ancestors' (whose names differ: they cover the node), so two
// trials never wait on each other. A trial killed mid-fit drops its locks,
// and the waiting trial fits the node itself. The wait is recorded
// (waited_s) and counts in the node's fit time.
#pragma once

#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "runner/model_tree.hpp"
#include "scenario/scenario.hpp"
#include "util/fs.hpp"

namespace recfuse {

class FitCache final : public FitStore {
 public:
  /// For `trial`, whose record `rec` has its "provenance" and "dataset".
  FitCache(std::filesystem::path dir, const TrialSpec& trial, const PluginRegistry& registry,
           const nlohmann::json& rec);

  /// node.tree["fit_cache"] = {"read": file, "waited_s": s} on a hit
  /// (waited_s: for another trial's fit of the node, when it waited);
  /// false on a miss and on a file that does not load (noted in record()'s
  /// "errors"), the node's lock then held until store.
  bool load(const AlgorithmSpec& spec, FittedModel& node) override;
  /// node.tree["fit_cache"] = {"stored": file, "bytes": n} (with
  /// "children_spliced": how many children's bytes its file leaves out, for
  /// a node with children) or {"error": ...}; releases the node's lock.
  void store(const AlgorithmSpec& spec, FittedModel& node) override;

  /// The trial's "fit_cache" record: {"dir", "read": [node names],
  /// "stored": [...], "errors": [...], "waited_s": total}.
  const nlohmann::json& record() const { return record_; }

  /// What names the fit of `node` (built from `spec`); public for tests.
  nlohmann::json identity(const AlgorithmSpec& spec, const FittedModel& node) const;

 private:
  std::filesystem::path file_of(const nlohmann::json& identity) const;
  /// Loads node.model from `file` when it keeps the fit `id`: 1; 0 when
  /// there is none (or another fit's); −1 when it does not load (noted).
  int read(const nlohmann::json& id, const std::filesystem::path& file, FittedModel& node);

  std::filesystem::path dir_;
  const PluginRegistry& registry_;
  nlohmann::json trial_;  // what every node of the trial shares
  nlohmann::json libraries_;
  nlohmann::json record_;
  std::map<std::filesystem::path, FileLock> held_;  // nodes missed, until kept
};

}  // namespace recfuse
