// Fitted models on disk (kCapSaveLoad, recfuse/model_io.hpp): an offline
// trial writes its model (recfuse run --save-models), or reads one back in
// place of fitting (recfuse run --load-models).
#pragma once

#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "recfuse/recommender.hpp"
#include "runner/model_tree.hpp"
#include "scenario/scenario.hpp"

namespace recfuse {

/// Writes `model` as <dir>/<trial id>.model: model_io.hpp's magic line, a
/// JSON header (plugin, algorithm, validated parameters, trial, the record's
/// "dataset" and "provenance"), then Recommender::save's bytes. Notes in
/// rec["saved_model"] the file, or why there is none (an algorithm without
/// kCapSaveLoad, a failed write: the trial's metrics stand either way).
/// Does nothing when `dir` is empty.
void save_trial_model(const Recommender& model, const AlgorithmHandle& handle, const TrialSpec& trial,
                      const std::filesystem::path& dir, nlohmann::json& rec);

/// The trial's model read from `dir` instead of fitted: the saved file whose
/// header matches what this trial would fit — plugin library and version,
/// plugin, validated parameters, seed, fold, and rec["dataset"]'s data
/// (sha256, shape) and the interactions fitted on (split label, nesting,
/// sizes and fit_sha256). <dir>/<trial id>.model is
/// tried first, then every *.model in name order, so a scenario that only
/// changes its [evaluation] (new trial ids) reads the models of the run
/// that saved them. Notes rec["loaded_model"] and timing["load_model_s"];
/// the record has no fit times. Returns nothing, noting why in
/// rec["loaded_model"]["skipped"], for an algorithm without kCapSaveLoad
/// (the caller fits it). Throws Error when no file matches, naming the
/// nearest file and what differs, or when the file does not load.
std::optional<FittedModel> load_trial_model(const AlgorithmSpec& spec, const TrialSpec& trial,
                                            const AlgorithmHandle& handle,
                                            const std::filesystem::path& dir, nlohmann::json& rec,
                                            nlohmann::json& timing);

}  // namespace recfuse
