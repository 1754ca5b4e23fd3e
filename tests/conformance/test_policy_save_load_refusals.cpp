// kCapSaveLoad of the bandit and rl policies: what load refuses. A file
// saved mid-deployment (open sessions, replay, pending episodes) cut
// anywhere or padded, a file of another algorithm, and a file of the same
// algorithm with other parameters are each an Error naming the algorithm
// and what it was reading, never a policy of garbage.
#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "policy_save_load_support.hpp"
#include "recfuse/model_io.hpp"

using namespace recfuse;
using namespace recfuse::test;
using namespace recfuse::test::policy_io;

namespace {

/// Each policy's file after a few steps of deployment.
std::vector<std::string> deployed_files(const TrainData& data) {
  std::vector<std::string> files;
  for (const Policy& p : policies()) {
    World world(data.n_users, data.n_items, 5);
    files.push_back(saved_bytes(*deployed(p, data, world, 4)));
  }
  return files;
}

}  // namespace

TEST_CASE("policy save/load: a cut or padded file is refused, naming the algorithm", "[save_load][policy]") {
  const TrainData data = synthetic_train_data();
  const std::vector<Policy> all = policies();
  const std::vector<std::string> files = deployed_files(data);
  for (std::size_t k = 0; k < all.size(); ++k) {
    INFO(all[k].label());
    const AlgorithmHandle a = plugin_registry().find(all[k].plugin);
    const ParamSet params = params_for(a, all[k].params);
    const std::string& bytes = files[k];
    for (int eighth = 0; eighth < 8; ++eighth) {
      const std::size_t keep = bytes.size() * static_cast<std::size_t>(eighth) / 8 + static_cast<std::size_t>(eighth);
      INFO("first " << keep << " of " << bytes.size() << " bytes");
      CHECK_THROWS_WITH(loaded_from(a, params, bytes.substr(0, keep)),
                        Catch::Contains(all[k].plugin + ": model file") && Catch::Contains("truncated"));
    }
    CHECK_THROWS_WITH(loaded_from(a, params, bytes.substr(0, bytes.size() - 1)), Catch::Contains("truncated"));
    CHECK_THROWS_WITH(loaded_from(a, params, bytes + "x"), Catch::Contains("more bytes than the model has"));
    CHECK_NOTHROW(loaded_from(a, params, bytes));
  }
}

TEST_CASE("policy save/load: a file of another algorithm is refused by name", "[save_load][policy]") {
  const TrainData data = synthetic_train_data();
  const std::vector<Policy> all = policies();
  const std::vector<std::string> files = deployed_files(data);
  for (std::size_t into = 0; into < all.size(); ++into) {
    const AlgorithmHandle a = plugin_registry().find(all[into].plugin);
    const ParamSet params = params_for(a, all[into].params);
    for (std::size_t from = 0; from < all.size(); ++from) {
      if (all[from].plugin == all[into].plugin) continue;
      INFO(all[from].label() << " into " << all[into].label());
      CHECK_THROWS_WITH(loaded_from(a, params, files[from]),
                        Catch::Contains(all[into].plugin + ": model file: the algorithm name is not '" +
                                        all[into].plugin + "'"));
    }
    // A model of another plugin library (popularity's counts).
    INFO("popularity into " << all[into].label());
    CHECK_THROWS_WITH(loaded_from(a, params, saved_bytes(*fit_algorithm("popularity", data))),
                      Catch::Contains(all[into].plugin + ": model file"));
  }
}

TEST_CASE("policy save/load: a file of other parameters is refused, naming what differs", "[save_load][policy]") {
  using I = std::int64_t;
  const TrainData data = synthetic_train_data();
  // (plugin, the saved policy's parameters, the loading instance's, what the error names)
  using Params = std::map<std::string, ParamValue>;
  for (const auto& [plugin, saved, loading, named] : std::vector<std::tuple<std::string, Params, Params, std::string>>{
           {"linucb", {}, {{"scope", std::string("item")}}, "the scope (0 = user, 1 = global, 2 = item) is 0, expected 2"},
           {"lin_ts", {{"scope", std::string("global")}}, {}, "the scope (0 = user, 1 = global, 2 = item) is 1, expected 0"},
           {"linucb", {}, {{"lambda", 2.0}}, "the ridge lambda is 1.000000, expected 2.000000"},
           {"reinforce_topk", {{"hidden", I{8}}}, {{"hidden", I{16}}}, "the number of policy weights is"},
           {"reinforce_topk", {}, {{"item_embeddings", true}}, "the number of policy weights is"},
           {"dqn", {{"hidden", I{8}}}, {{"hidden", I{16}}}, "the number of weights is"},
           {"dqn", {}, {{"replay_capacity", I{100}}}, "the replay capacity is 50000, expected 100"},
           {"slateq", {}, {{"item_bias", false}}, "the number of choice model weights is"},
           {"slateq", {}, {{"replay_capacity", I{100}}}, "the replay capacity is 50000, expected 100"},
       }) {
    INFO(plugin << ": " << named);
    const AlgorithmHandle a = plugin_registry().find(plugin);
    const std::string bytes = saved_bytes(*fit_algorithm(plugin, data, saved));
    CHECK_THROWS_WITH(loaded_from(a, params_for(a, loading), bytes), Catch::Contains(plugin + ": model file: " + named));
  }
}

TEST_CASE("policy save/load: a user's model outside the ridge models is refused", "[save_load][policy]") {
  // linucb (scope user) after fit: name, users, scope, the item features,
  // the ridge models, then the model of each user. Point user 0 at a slot
  // one past the last.
  const TrainData data = synthetic_train_data();
  const AlgorithmHandle a = plugin_registry().find("linucb");
  std::string bytes = saved_bytes(*fit_algorithm(a, data, params_for(a)));
  std::istringstream probe(bytes);
  ModelReader r(probe, "probe");
  r.text("name");
  r.value<std::int32_t>("users");
  r.value<std::int32_t>("scope");
  r.matrix<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>("x");
  const auto d = r.value<std::int32_t>("d");
  r.value<double>("lambda");
  const auto slots = r.values<double>("models").size() / static_cast<std::size_t>(d * (d + 2));
  const auto at = static_cast<std::size_t>(probe.tellg()) + sizeof(std::uint64_t);  // past the count
  const auto bad = static_cast<std::int32_t>(slots);
  bytes.replace(at, sizeof bad, reinterpret_cast<const char*>(&bad), sizeof bad);
  CHECK_THROWS_WITH(loaded_from(a, params_for(a), bytes),
                    Catch::Contains("linucb: model file: a user's model " + std::to_string(slots) +
                                    " is not one of the models"));
}

TEST_CASE("policy save/load: an all-zero random stream is refused, not drawn from forever", "[save_load][policy]") {
  // xoshiro's all-zero state returns 0 forever: Rng::below(3) and normal()
  // would spin on the first draw of a policy loaded with it.
  std::ostringstream zero;
  {
    ModelWriter w(zero);
    w.value(std::array<std::uint64_t, 4>{});
    w.value(Rng(1));
  }
  std::istringstream in(zero.str());
  ModelReader r(in, "test");
  CHECK_THROWS_WITH(read_rng(r, "the stream"), Catch::Contains("test: model file: the stream is all zero"));
  CHECK(read_rng(r, "the stream").next() == Rng(1).next());
  // epsilon_greedy's file ends with its generator.
  const AlgorithmHandle a = plugin_registry().find("epsilon_greedy");
  const ParamSet params = params_for(a);
  std::string bytes = saved_bytes(*fit_algorithm(a, synthetic_train_data(), params));
  CHECK_NOTHROW(loaded_from(a, params, bytes));
  bytes.replace(bytes.size() - 32, 32, std::string(32, '\0'));
  CHECK_THROWS_WITH(loaded_from(a, params, bytes), Catch::Contains("epsilon_greedy: model file: the exploration stream is all zero"));
}
