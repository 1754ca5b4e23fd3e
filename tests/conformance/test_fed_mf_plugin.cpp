// fed_mf through the built `privacy` plugin: its parameter errors, the
// privacy figures it reports, determinism over seeds and thread counts, and
// save/load with diagnostics (the generic recommender and save/load
// conformance suites cover it like every other plugin).
#include <catch2/catch.hpp>

#include <omp.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../../plugins/privacy/dp_accounting.hpp"
#include "conformance_support.hpp"
#include "host/params_validation.hpp"

using namespace recfuse;
using namespace recfuse::test;

namespace {

using Values = std::map<std::string, ParamValue>;

const Values kSmall{{"factors", std::int64_t{6}}, {"rounds", std::int64_t{8}}, {"reg", 0.1}};

Values with(Values v, const Values& more) {
  for (const auto& [k, x] : more) v[k] = x;
  return v;
}

std::map<std::string, double> diagnostics_of(const Recommender& r) {
  std::map<std::string, double> m;
  for (const auto& [k, v] : r.diagnostics()) m[k] = v;
  return m;
}

RecommenderPtr fit_with_threads(const TrainData& d, const Values& v, std::uint64_t seed, int threads) {
  const AlgorithmHandle a = plugin_registry().find("fed_mf");
  RecommenderPtr r = create_recommender(a, params_for(a, v));
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);  // as the host does for a trial (ials_half_step reads it)
  FitContext ctx;
  ctx.seed = seed;
  ctx.threads = threads;
  r->fit(d, ctx);
  omp_set_num_threads(before);
  return r;
}

}  // namespace

TEST_CASE("fed_mf: bad parameters are refused with errors that name them", "[fed_mf]") {
  const AlgorithmHandle a = plugin_registry().find("fed_mf");
  const auto refused = [&](const Values& v) {
    try {
      create_recommender(a, params_for(a, v));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  CHECK_THAT(refused({{"clients_per_round", 0.0}}),
             Catch::Contains("'clients_per_round' must be in (0, 1]") && Catch::Contains("got 0"));
  CHECK_THAT(refused({{"delta", 0.0}}), Catch::Contains("'delta' must be in (0, 1)"));
  CHECK_THAT(refused({{"delta", 1.0}}), Catch::Contains("'delta' must be in (0, 1)"));
  CHECK_THAT(refused({{"noise_multiplier", 1.0}}),
             Catch::Contains("'noise_multiplier' needs clip > 0"));
  CHECK(refused({{"noise_multiplier", 1.0}, {"clip", 0.5}}) == "(accepted)");
  CHECK(refused({{"clip", 0.5}}) == "(accepted)");  // clipping alone is allowed
  // The host's own checks, from the declared table: range, choices, names.
  CHECK_THROWS_WITH(params_for(a, {{"clients_per_round", 1.5}}), Catch::Contains("clients_per_round"));
  CHECK_THROWS_WITH(params_for(a, {{"clip", -1.0}}), Catch::Contains("clip"));
  CHECK_THROWS_WITH(params_for(a, {{"optimizer", std::string("rmsprop")}}), Catch::Contains("adam"));
  CHECK_THROWS_WITH(params_for(a, {{"noise_multipler", 1.0}}), Catch::Contains("did you mean") && Catch::Contains("noise_multiplier"));
}

TEST_CASE("fed_mf: diagnostics report the (ε, δ) guarantee, σ, C and the rounds run", "[fed_mf]") {
  const TrainData d = synthetic_train_data();
  RecommenderPtr dp = fit_algorithm("fed_mf", d, with(kSmall, {{"clip", 0.5}, {"noise_multiplier", 3.0}, {"delta", 1e-6}}));
  auto m = diagnostics_of(*dp);
  CHECK(m.at("dp_epsilon") == Approx(gaussian_rdp_epsilon(3.0, 8, 1e-6)));
  CHECK(m.at("dp_delta") == 1e-6);
  CHECK(m.at("dp_noise_multiplier") == 3.0);
  CHECK(m.at("dp_clip") == 0.5);
  CHECK(m.at("dp_rounds") == 8.0);
  CHECK(m.at("dp_sampling_rate") == 1.0);
  CHECK(m.at("mean_clients_per_round") == d.n_users);
  CHECK(m.at("clipped_fraction") > 0.0);  // C = 0.5 is below these gradients' norms
  CHECK(m.at("clipped_fraction") <= 1.0);
  // No noise: no finite guarantee (the record writes null).
  m = diagnostics_of(*fit_algorithm("fed_mf", d, with(kSmall, {{"clip", 0.5}})));
  CHECK(std::isinf(m.at("dp_epsilon")));
  m = diagnostics_of(*fit_algorithm("fed_mf", d, kSmall));
  CHECK(std::isinf(m.at("dp_epsilon")));
  CHECK(m.at("clipped_fraction") == 0.0);
  // Sampling: about q of the clients a round; ε is the same full-participation bound.
  m = diagnostics_of(*fit_algorithm(
      "fed_mf", d, with(kSmall, {{"clients_per_round", 0.5}, {"clip", 0.5}, {"noise_multiplier", 3.0}, {"rounds", std::int64_t{40}}})));
  CHECK(m.at("mean_clients_per_round") == Approx(15.0).margin(2.0));  // 40 x 30 draws: sd 0.4
  CHECK(m.at("dp_epsilon") == Approx(gaussian_rdp_epsilon(3.0, 40, 1e-5)));
}

TEST_CASE("fed_mf: the same model for any thread count, and the seed matters only through init, sampling and noise",
          "[fed_mf]") {
  const TrainData d = synthetic_train_data();
  const Values dp = with(kSmall, {{"clients_per_round", 0.6}, {"clip", 0.5}, {"noise_multiplier", 1.0}});
  const auto one = all_scores(*fit_with_threads(d, dp, 3, 1), d.n_users);
  CHECK(all_scores(*fit_with_threads(d, dp, 3, 2), d.n_users) == one);
  CHECK(all_scores(*fit_with_threads(d, dp, 3, 3), d.n_users) == one);
  CHECK(all_scores(*fit_with_threads(d, dp, 4, 2), d.n_users) != one);
}

TEST_CASE("fed_mf: without DP and with every client it learns what the training data says", "[fed_mf]") {
  // Each user's training items should outscore its unseen items on average:
  // a model that ignored the data (or followed the gradient uphill) would not.
  const TrainData d = synthetic_train_data();
  RecommenderPtr r = fit_algorithm("fed_mf", d, with(kSmall, {{"rounds", std::int64_t{30}}}));
  const auto s = all_scores(*r, d.n_users);
  int better = 0;
  for (UserId u = 0; u < d.n_users; ++u) {
    double seen = 0, unseen = 0;
    std::vector<bool> in(static_cast<std::size_t>(d.n_items), false);
    for (ItemId i : d.by_user.row(u)) in[static_cast<std::size_t>(i)] = true;
    for (ItemId i = 0; i < d.n_items; ++i)
      (in[static_cast<std::size_t>(i)] ? seen : unseen) += s[static_cast<std::size_t>(u * d.n_items + i)];
    const auto k = static_cast<double>(d.by_user.row_size(u));
    better += seen / k > unseen / (d.n_items - k);
  }
  CHECK(better == d.n_users);
}

TEST_CASE("fed_mf: a loaded model scores and reports as the fitted one", "[fed_mf][save_load]") {
  const TrainData d = synthetic_train_data();
  const AlgorithmHandle a = plugin_registry().find("fed_mf");
  const Values v = with(kSmall, {{"clients_per_round", 0.5}, {"clip", 0.5}, {"noise_multiplier", 2.0}});
  RecommenderPtr fitted = fit_algorithm(a, d, params_for(a, v));
  std::ostringstream out;
  fitted->save(out);
  RecommenderPtr loaded = create_recommender(a, params_for(a, v));
  std::istringstream in(out.str());
  loaded->load(in);
  CHECK(all_scores(*loaded, d.n_users) == all_scores(*fitted, d.n_users));
  CHECK(loaded->model_bytes() == fitted->model_bytes());
  CHECK(loaded->model_bytes() == static_cast<std::size_t>((d.n_users + d.n_items) * 6) * sizeof(float));
  CHECK(diagnostics_of(*loaded) == diagnostics_of(*fitted));
  // A model of other width is refused, naming it.
  RecommenderPtr wider = create_recommender(a, params_for(a, with(v, {{"factors", std::int64_t{7}}})));
  std::istringstream again(out.str());
  CHECK_THROWS_WITH(wider->load(again), Catch::Contains("fed_mf: model file: user factors width is 6, expected 7"));
}
