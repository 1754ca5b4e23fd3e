// The logging policies of runner/policies.hpp on a tiny fixed step whose
// answer is known: the propensity epsilon_softmax records for a slate is the
// frequency with which it shows that slate (a Plackett-Luce draw renormalised
// after every slot, mixed with ε uniform); a large temperature is uniform,
// a small one the oracle's slate; the parser's checks of the new keys.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <numeric>
#include <utility>
#include <vector>

#include "runner/policies.hpp"
#include "scenario/scenario.hpp"

using namespace recfuse;

namespace {

/// Every session offers the same 4 candidates (items 10..13) with the fixed
/// oracle utilities kUtility; slates of 2, so 12 ordered slates.
class FixedStep final : public Environment {
 public:
  static constexpr int kC = 4, kK = 2;
  static constexpr double kUtility[kC] = {1.0, 0.2, -0.5, 0.7};

  explicit FixedStep(bool has_scores) : has_scores_(has_scores) {}
  void build(const WorldContext&) override { set_shape(1, 14, kK, kC, 1); }
  const AttributeMatrix& item_features() const override { return features_; }
  void reset(std::uint64_t, int n) override {
    users_.assign(static_cast<std::size_t>(n), 0);
    cands_.clear();
    for (int s = 0; s < n; ++s)
      for (ItemId i = 10; i < 10 + kC; ++i) cands_.push_back(i);
  }
  std::span<const UserId> users() const override { return users_; }
  std::span<const ItemId> candidates() const override { return cands_; }
  void step(std::span<const ItemId>, StepOutcome& out) override { out.resize(users_.size()); }
  bool oracle_scores(std::span<double> scores) override {
    if (!has_scores_) return false;
    for (std::size_t j = 0; j < scores.size(); ++j) scores[j] = kUtility[j % kC];
    return true;
  }

 private:
  bool has_scores_;
  AttributeMatrix features_;
  std::vector<UserId> users_;
  std::vector<ItemId> cands_;
};

struct Draws {
  std::map<std::pair<ItemId, ItemId>, int> count;
  std::map<std::pair<ItemId, ItemId>, double> propensity;  // as recorded (the same at every draw)
  bool consistent = true;
};

/// n sessions of one step of the logging policy, tallied by slate.
Draws draw(const OnlineSpec& o, int n, std::uint64_t seed) {
  FixedStep env(true);
  env.build({});
  env.reset(0, n);
  std::vector<int> sessions(static_cast<std::size_t>(n));
  std::iota(sessions.begin(), sessions.end(), 0);
  std::vector<ItemId> slates(static_cast<std::size_t>(n) * FixedStep::kK);
  std::vector<double> prop(static_cast<std::size_t>(n));
  logging_policy(env, o, seed, "fixed_step")(env.users(), env.candidates(), sessions, slates, prop);
  Draws d;
  for (std::size_t r = 0; r < prop.size(); ++r) {
    const std::pair<ItemId, ItemId> s{slates[2 * r], slates[2 * r + 1]};
    ++d.count[s];
    const auto [it, fresh] = d.propensity.emplace(s, prop[r]);
    d.consistent = d.consistent && (fresh || it->second == prop[r]);
  }
  return d;
}

OnlineSpec softmax_spec(double eps, double temperature) {
  OnlineSpec o;
  o.logging_policy = "epsilon_softmax";
  o.logging_epsilon = eps;
  o.logging_temperature = temperature;
  return o;
}

}  // namespace

TEST_CASE("epsilon_softmax records the exact probability of the slate it shows", "[online][policies]") {
  constexpr int kN = 120000;
  const Draws d = draw(softmax_spec(0.3, 0.5), kN, 7);
  CHECK(d.consistent);
  REQUIRE(d.count.size() == 12);  // every ordered slate of 2 from 4
  double total = 0, chi2 = 0;
  for (const auto& [slate, p] : d.propensity) {
    total += p;
    const double expected = kN * p;
    chi2 += (d.count.at(slate) - expected) * (d.count.at(slate) - expected) / expected;
  }
  CHECK(total == Approx(1.0).epsilon(1e-12));
  // 11 degrees of freedom: P(χ² > 31.26) = 0.001. Forgetting the ε·uniform
  // term or not renormalising after the first slot gives χ² in the thousands.
  INFO("chi-square " << chi2);
  CHECK(chi2 < 31.26);
  // By hand, slate (10, 13): logits z = u / 0.5 = (2, 0.4, −1, 1.4),
  // PL = e^2 / Σ_all e^z · e^1.4 / (Σ_all e^z − e^2), p = 0.3 / 12 + 0.7 PL.
  const double all = std::exp(2.0) + std::exp(0.4) + std::exp(-1.0) + std::exp(1.4);
  const double pl = std::exp(2.0) / all * std::exp(1.4) / (all - std::exp(2.0));
  CHECK(d.propensity.at({10, 13}) == Approx(0.3 / 12 + 0.7 * pl).epsilon(1e-12));
}

TEST_CASE("epsilon_softmax: a large temperature is uniform, a small one the oracle's slate", "[online][policies]") {
  const Draws hot = draw(softmax_spec(0.1, 1e7), 5000, 3);
  REQUIRE(hot.count.size() == 12);
  for (const auto& [slate, p] : hot.propensity) CHECK(p == Approx(1.0 / 12).epsilon(1e-6));
  // T = 0.001: logits up to 1000 (exp overflows outside log space); the
  // oracle's slate (10, 13) takes all of the softmax's share.
  const Draws cold = draw(softmax_spec(0.2, 1e-3), 5000, 3);
  CHECK(cold.propensity.at({10, 13}) == Approx(0.2 / 12 + 0.8).epsilon(1e-12));
  for (const auto& [slate, p] : cold.propensity) {
    CHECK(std::isfinite(p));
    if (slate != std::pair<ItemId, ItemId>{10, 13}) CHECK(p == Approx(0.2 / 12).epsilon(1e-9));
  }
  // ε = 1 is the uniform policy.
  for (const auto& [slate, p] : draw(softmax_spec(1.0, 0.5), 2000, 3).propensity) CHECK(p == Approx(1.0 / 12));
}

TEST_CASE("epsilon_softmax over an environment without oracle scores names it", "[online][policies]") {
  FixedStep env(false);
  env.build({});
  env.reset(0, 1);
  std::vector<int> sessions{0};
  std::vector<ItemId> slate(2);
  std::vector<double> prop(1);
  const Policy p = logging_policy(env, softmax_spec(0.2, 1.0), 1, "fixed_step");
  CHECK_THROWS_WITH(p(env.users(), env.candidates(), sessions, slate, prop),
                    Catch::Contains("environment 'fixed_step' has none") && Catch::Contains("oracle_scores"));
}

TEST_CASE("the parser checks logging_temperature and puts it in the trial id", "[online][policies]") {
  const auto scenario = [](const std::string& online) {
    return "name = \"x\"\n[environment]\nplugin = \"test_favourite\"\n[online]\n" + online +
           "\n[[algorithms]]\nplugin = \"popularity\"\n";
  };
  for (const char* bad : {"0", "-1.5", "0.0"}) {
    INFO("logging_temperature = " << bad);
    REQUIRE_THROWS_WITH(recfuse::parse_scenario(scenario("logging_policy = \"epsilon_softmax\"\n"
                                                         "logging_temperature = " + std::string(bad)), "t.toml"),
                        Catch::Contains("t.toml:6:") && Catch::Contains("[online.logging_temperature]") &&
                            Catch::Contains("> 0"));
  }
  REQUIRE_THROWS_WITH(recfuse::parse_scenario(scenario("logging_temperature = \"hot\""), "t.toml"),
                      Catch::Contains("t.toml:5:") && Catch::Contains("logging_temperature"));
  REQUIRE_THROWS_WITH(recfuse::parse_scenario(scenario("logging_temprature = 2.0"), "t.toml"),
                      Catch::Contains("did you mean 'logging_temperature'"));
  const auto a = recfuse::parse_scenario(
      scenario("logging_policy = \"epsilon_softmax\"\nlogging_temperature = 2"), "t.toml");
  CHECK(a.online.logging_policy == "epsilon_softmax");
  CHECK(a.online.logging_temperature == 2.0);
  const auto b = recfuse::parse_scenario(
      scenario("logging_policy = \"epsilon_softmax\"\nlogging_temperature = 3"), "t.toml");
  CHECK(recfuse::expand_trials(a)[0].id != recfuse::expand_trials(b)[0].id);
  // Under another logging policy the temperature does nothing, and the id keeps it out.
  const auto c = recfuse::parse_scenario(scenario("logging_temperature = 2"), "t.toml");
  const auto e = recfuse::parse_scenario(scenario("logging_temperature = 3"), "t.toml");
  CHECK(recfuse::expand_trials(c)[0].id == recfuse::expand_trials(e)[0].id);
  CHECK(recfuse::expand_trials(c)[0].id != recfuse::expand_trials(a)[0].id);
}
