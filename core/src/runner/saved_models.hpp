// Fitted models on disk (kCapSaveLoad, recfuse/model_io.hpp): a trial writes
// its model (recfuse run --save-models), or reads one back in place of
// fitting (recfuse run --load-models). An offline trial's model is the one
// it scores; a simulated trial's is the one fitted on the logs, before the
// deployment (which may change it as it learns online).
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "recfuse/recommender.hpp"
#include "runner/model_tree.hpp"
#include "scenario/scenario.hpp"

namespace recfuse {

/// The record's "dataset" fields a fitted model depends on: the data (its
/// hash and shape after [filter]) and the part of it the algorithm trained
/// on (sizes and fingerprint). Not the dataset's name, nor what was evaluated.
inline constexpr const char* kFitDataFields[] = {"sha256", "users", "items", "split", "nested_validation",
                                                 "algorithm_train", "algorithm_validation", "fit_sha256"};
/// What else a model fitted in a simulated protocol (runner/online.hpp)
/// depends on, absent from an offline trial's record: the record's
/// "environment" (plugin, library, version and, compared key by key, its
/// validated "params"), and its "logs": the logging policy with its
/// epsilon and temperature (where that policy reads them), the episodes
/// logged, the batch (each batch of sessions starts from its own seed) and
/// a fingerprint of what learners saw of the logs (fit_sha256: the clicks
/// and the item features, log_fit_fingerprint in runner/episodes.hpp). The
/// "dataset" fields above hold the world's data, if any.
inline constexpr const char* kFitEnvironmentFields[] = {"plugin", "library", "version"};
inline constexpr const char* kFitLogFields[] = {"policy", "epsilon", "temperature", "episodes", "batch",
                                                "fit_sha256"};

/// Writes `file`: model_io.hpp's magic line, `header` with "body_sha256"
/// (the SHA-256 of what follows) as one JSON line, then model.save's bytes,
/// through a temporary file renamed at the end. Returns its size; throws
/// Error (nothing left behind) when it cannot be written or save throws.
/// With `splice_from` (model files in the same folder: the fit cache's
/// children of a fusion node), the bodies of those files are left out where
/// the body holds them whole, listed in the header's "spliced"
/// (runner/model_splice.hpp; read back with BodyBuf), their number in
/// `*spliced`.
std::uintmax_t write_model_file(const std::filesystem::path& file, const nlohmann::json& header,
                                const Recommender& model,
                                const std::vector<std::filesystem::path>& splice_from = {},
                                std::size_t* spliced = nullptr);

/// With `in` just past the header line: an Error naming `file` when the
/// header has a "body_sha256" that the rest of the stream does not match;
/// `in` is back at the body after. Files without one (saved before it was
/// written) pass.
void check_model_body(std::istream& in, const nlohmann::json& header, const std::string& file);
/// The same check reading `in` to its end (a stream that cannot seek).
void check_body_sha256(std::istream& in, const nlohmann::json& header, const std::string& file);

/// Writes the fitted model as <dir>/<trial id>.model: model_io.hpp's magic
/// line, a JSON header (plugin, algorithm, validated parameters,
/// "model_tree": the tree of FittedModel::tree without fit times, which a
/// fusion strategy's children are built from; trial, the record's "dataset"
/// and "provenance", and a simulated trial's "environment" and "logs"),
/// then Recommender::save's bytes (a fusion strategy's include its
/// children's, plugins/fusion/fusion_io.hpp). Notes in
/// rec["saved_model"] the file, or why there is none (an algorithm without
/// kCapSaveLoad; an error from a failed write or a save that throws, such as
/// a fusion child without kCapSaveLoad: the trial's metrics stand either
/// way). Does nothing when `dir` is empty.
void save_trial_model(const FittedModel& fitted, const TrialSpec& trial, const std::filesystem::path& dir,
                      nlohmann::json& rec);

/// load_trial_model's match on what is known before a simulated trial's
/// world and logs exist: plugin library and version, plugin, seed, fold,
/// parameters, children, and `known`'s "environment" (plugin, library,
/// version, parameters) and "logs" (policy and its settings, episodes,
/// batch); not the logs' fingerprint, the world's shape or the data. Throws
/// the same Error, noting what was not yet compared, when no file in `dir`
/// matches that much. Does nothing when `dir` is empty or a node of the
/// tree lacks kCapSaveLoad (it is fitted).
void precheck_trial_model(const AlgorithmSpec& spec, const TrialSpec& trial, const PluginRegistry& registry,
                          const std::filesystem::path& dir, const nlohmann::json& known);

/// The trial's model read from `dir` instead of fitted: the tree is built
/// unfitted (build_model_tree) and loaded from the saved file whose header
/// matches what this trial would fit — plugin library and version, plugin,
/// validated parameters, the children (names, plugins and versions,
/// parameters, their children), seed, fold, and rec["dataset"]'s data
/// (sha256, shape) and the interactions fitted on (split label, nesting,
/// sizes and fit_sha256), and for a simulated trial the environment and
/// the logs it fitted on (kFitEnvironmentFields, kFitLogFields: an offline
/// trial's file never matches a simulated trial, nor a simulated trial's
/// an offline one). <dir>/<trial id>.model is tried first, then every
/// *.model in name order, so a scenario that only changes its [evaluation]
/// (new trial ids) reads the models of the run that saved them. Notes rec["loaded_model"], timing["load_model_s"] and,
/// for a tree with children, rec["model_tree"] (without fit times); the
/// record has no fit times. Returns nothing, noting why in
/// rec["loaded_model"]["skipped"], when a node of the tree lacks
/// kCapSaveLoad (the root, or which child: the caller fits it). Throws
/// Error when no file matches, naming the nearest file and what differs
/// ("children[0].params.factors (saved 64, here 32)"), or when the file does
/// not load.
std::optional<FittedModel> load_trial_model(const AlgorithmSpec& spec, const TrialSpec& trial,
                                            const PluginRegistry& registry, const std::filesystem::path& dir,
                                            nlohmann::json& rec, nlohmann::json& timing);

}  // namespace recfuse
