// Plugin ABI: each plugin library exports exactly one symbol,
// `recfuse_plugin`, a function returning its PluginDescriptor. A library may
// hold several algorithms of one family (knn: item_knn, user_knn).
//
//   const recfuse::PluginDescriptor* describe() {
//     static const recfuse::AlgorithmDescriptor algos[] = {
//         {"popularity", recfuse::PluginKind::kRecommender, "most popular", 0,
//          &popularity_params, &make_popularity}};
//     static const recfuse::PluginDescriptor d = recfuse::make_descriptor(
//         "baseline", "1.0.0", "baseline", "non-personalised baselines", algos);
//     return &d;
//   }
//   RECFUSE_PLUGIN(describe)
//
// The host reads `abi_version` first and refuses a mismatch before touching
// anything else, then compares `fingerprint` with its own.
#pragma once

#include <Eigen/Core>
#include <boost/dll/alias.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "recfuse/environment.hpp"
#include "recfuse/params.hpp"
#include "recfuse/recommender.hpp"

namespace recfuse {

/// Bump on any change to the layout of the descriptor, of the structs it
/// hands over (TrainData ...) or of the virtual interfaces. 2: set_children,
/// diagnostics; 3: environments, act, observe, propensity; 4:
/// Environment::oracle_scores; 5: Recommender::save, load; 6:
/// TrainData::user_ids, item_ids.
inline constexpr std::uint32_t kAbiVersion = 6;

#define RECFUSE_STR_IMPL(x) #x
#define RECFUSE_STR(x) RECFUSE_STR_IMPL(x)

/// What must match between host and plugin for C++ types to cross safely:
/// compiler and language level, libstdc++ string ABI, Eigen version and the
/// alignment the build chose (which -march changes).
inline constexpr char kBuildFingerprint[] =
    "cc=" __VERSION__ ";std=" RECFUSE_STR(__cplusplus)
#ifdef _GLIBCXX_USE_CXX11_ABI
    ";cxx11abi=" RECFUSE_STR(_GLIBCXX_USE_CXX11_ABI)
#endif
    ";eigen=" RECFUSE_STR(EIGEN_WORLD_VERSION) "." RECFUSE_STR(EIGEN_MAJOR_VERSION) "." RECFUSE_STR(
        EIGEN_MINOR_VERSION) ";eigen_align=" RECFUSE_STR(EIGEN_MAX_ALIGN_BYTES);

enum class PluginKind : std::uint32_t { kRecommender = 0, kEnvironment = 1 };

using ParamsFn = std::vector<ParamSpec> (*)();
using RecommenderFactory = std::unique_ptr<Recommender> (*)(const ParamSet&);

struct AlgorithmDescriptor {
  const char* name;          // globally unique, used as `plugin = "..."` in scenarios
  PluginKind kind;
  const char* description;   // one line
  std::uint32_t capabilities;  // bitwise OR of Capability
  ParamsFn params;           // declared parameters
  RecommenderFactory create; // kRecommender: a new, unfitted object
};

/// A simulated-user environment (kind kEnvironment), used as
/// `[environment] plugin = "..."` in scenarios.
struct EnvironmentDescriptor {
  const char* name;          // globally unique among environments
  const char* description;   // one line
  ParamsFn params;
  EnvironmentFactory create;  // a new, unbuilt environment
};

struct PluginDescriptor {
  std::uint32_t abi_version;  // must stay the first member
  const char* fingerprint;
  const char* name;           // library name, e.g. "knn"
  const char* version;        // semantic version of the plugin
  const char* family;         // cf, mf, sequential, rl, bandit, content, fusion ...
  const char* description;
  std::span<const AlgorithmDescriptor> algorithms;
  std::span<const EnvironmentDescriptor> environments;
};

template <std::size_t N>
constexpr PluginDescriptor make_descriptor(const char* name, const char* version,
                                           const char* family, const char* description,
                                           const AlgorithmDescriptor (&algos)[N]) {
  return {kAbiVersion, kBuildFingerprint, name, version, family, description,
          std::span<const AlgorithmDescriptor>(algos, N), {}};
}

/// The descriptor of a library of environments (family "environment").
template <std::size_t N>
constexpr PluginDescriptor make_environment_descriptor(const char* name, const char* version,
                                                       const char* description,
                                                       const EnvironmentDescriptor (&envs)[N]) {
  return {kAbiVersion, kBuildFingerprint, name, version, "environment", description,
          {}, std::span<const EnvironmentDescriptor>(envs, N)};
}

using DescribeFn = const PluginDescriptor*();

}  // namespace recfuse

/// Exports `fn` (a `const recfuse::PluginDescriptor* ()` function) as the
/// library's one entry point.
#define RECFUSE_PLUGIN(fn) BOOST_DLL_ALIAS(fn, recfuse_plugin)
