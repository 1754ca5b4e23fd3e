// The `calibrated` environment library: simulated users fitted to the
// scenario's dataset (calibrated.hpp).
#include <memory>

#include "calibrated.hpp"
#include "recfuse/plugin.hpp"

namespace recfuse {
namespace {

std::unique_ptr<Environment> make_calibrated(const ParamSet& p) {
  return std::make_unique<calibrated::CalibratedEnv>(calibrated::CalConfig::from(p));
}

const PluginDescriptor* describe() {
  static const EnvironmentDescriptor envs[] = {
      {"calibrated",
       "users and items of the scenario's dataset with implicit-ALS preferences, position-biased "
       "clicks, genre fatigue, interest drift, arriving items, optional disappointment after "
       "clicks on poorly rated items; needs [dataset]",
       &calibrated::CalConfig::params, &make_calibrated},
  };
  static const PluginDescriptor d = make_environment_descriptor(
      "calibrated", "1.1.1", "semi-synthetic simulated users fitted to a dataset", envs);
  return &d;
}

}  // namespace
}  // namespace recfuse

RECFUSE_PLUGIN(recfuse::describe)
