// How --load-models finds a trial's model (saved_models.hpp): what names a
// fit, and the header of a file in the folder that matches it. Internal to
// the runner (saved_models.cpp).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/model_tree.hpp"
#include "scenario/scenario.hpp"

namespace recfuse {

using FitFields = std::vector<std::pair<std::string, nlohmann::json>>;

/// What a model saved for this trial's fit has in its header: `trial` and
/// `data` as (dotted name, value) pairs, whose header values are
/// header[name] with "dataset.", "environment." or "logs." resolved one
/// level down (the last two null for an offline trial); the root's
/// validated `params`; `tree`, the model tree without fit times, whose
/// children (their names, plugins, versions, parameters and children)
/// must match the header's "model_tree"; and a simulated trial's
/// `environment`, whose validated parameters are compared key by key.
struct FitIdentity {
  FitFields trial;
  nlohmann::json params;
  nlohmann::json tree;
  FitFields data;
  nlohmann::json environment;
};

FitIdentity fit_identity(const TrialSpec& trial, const FittedModel& model, const nlohmann::json& rec);

/// The first `*.model` file in `dir` (the trial's own id first, then by
/// name) whose header matches `identity`; an Error naming the nearest file
/// and its differences when none does, and the files that are not readable
/// model files (the trial's own first).
std::filesystem::path find_model(const std::filesystem::path& dir, const TrialSpec& trial,
                                 const FitIdentity& identity);

}  // namespace recfuse
