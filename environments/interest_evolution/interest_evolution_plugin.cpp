// The `interest_evolution` environment library: RecSim's interest-evolution
// world (interest_evolution.hpp).
#include <memory>

#include "interest_evolution.hpp"
#include "recfuse/plugin.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Environment> make_interest_evolution(const ParamSet& p) {
  return std::make_unique<ie::InterestEvolutionEnv>(ie::IeConfig::from(p));
}

const PluginDescriptor* describe() {
  static const EnvironmentDescriptor envs[] = {
      {"interest_evolution",
       "RecSim's interest-evolution users: topic interests that drift with clicks, a time budget "
       "that quality refills (Ie et al. 2019)",
       &ie::IeConfig::params, &make_interest_evolution},
  };
  static const PluginDescriptor d = make_environment_descriptor(
      "interest_evolution", "1.0.0", "RecSim interest-evolution simulated users", envs);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
