// ε-greedy over items (Sutton & Barto, "Reinforcement Learning: An
// Introduction", 2nd ed. 2018, §2.2-2.4): one non-personalised estimate per
// item, the sample-average of the rewards it earned when shown, with a
// pseudo-count prior taken from the logs.
//
//   [[algorithms]]
//   name = "egreedy"
//   plugin = "epsilon_greedy"
//   params = { epsilon = 0.1, prior_count = 1.0, target = "click" }
//
// Estimate: q_i = (m·p_i + Σ r) / (m + n_i), n_i = times shown online,
// r the per-item rewards (bandit_common.hpp), m = prior_count, p_i = the
// logged reward of i per logged user (clicks_i / n_users for target click;
// the log holds no impressions, so this is a popularity prior, not a rate).
// q_i = 0 while m + n_i = 0.
//
// Acting, per session, for slate positions j = 0..k-1 over the m_j = C - j
// candidates not yet placed: with probability ε a uniform one, else the
// greedy one g_j (highest q, ties by smaller item id). So an ordered slate
// (a_0..a_{k-1}) has the exact propensity
//   π(a | x) = Π_j ( ε / m_j + (1 - ε)·[a_j = g_j] ),
// g_j taken over the candidates left after a_0..a_{j-1}.
// score_all/score return q (no exploration), for offline evaluation.
// save/load (kCapSaveLoad) keep the sums, the counts and the exploration
// stream, so that a loaded policy acts, and learns, bit for bit as the saved one.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "bandit_common.hpp"
#include "recfuse/rng.hpp"

namespace recfuse {

class EpsilonGreedy final : public Recommender {
 public:
  explicit EpsilonGreedy(const ParamSet& p)
      : epsilon_(p.get_float("epsilon")),
        prior_count_(p.get_float("prior_count")),
        target_(parse_bandit_target(p)) {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::real("epsilon", 0.1, 0.0, 1.0,
                        "probability of a uniform pick among the remaining candidates, per slate position"),
        ParamSpec::real("prior_count", 1.0, 0.0, 1e9,
                        "weight, in pseudo-observations, of each item's logged reward per logged user "
                        "as its initial estimate (0 ignores the logs)"),
        bandit_target_param(),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    set_shape(data.n_users, data.n_items);
    const auto n = static_cast<std::size_t>(data.n_items);
    sum_.assign(n, 0.0);
    count_.assign(n, 0.0);
    const CsrMatrix& m = data.by_item;
    if (prior_count_ > 0 && data.n_users > 0)
      for (std::int32_t i = 0; i < m.rows && i < data.n_items; ++i) {
        double logged = static_cast<double>(m.row_size(i));
        if (target_ == BanditTarget::kReward && !m.values.empty()) {
          logged = 0;
          for (float v : m.row_values(i)) logged += v;
        }
        sum_[static_cast<std::size_t>(i)] = prior_count_ * logged / data.n_users;
        count_[static_cast<std::size_t>(i)] = prior_count_;
      }
    rng_.reseed(derive_seed(ctx.seed, "epsilon_greedy"));
    ctx.log("epsilon_greedy: priors from " + std::to_string(m.nnz()) + " logged interactions");
  }

  /// out: users.size() x n_items; every row is q.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = sum_.size();
    for (std::size_t r = 0; r < users.size(); ++r)
      for (std::size_t i = 0; i < n; ++i) out[r * n + i] = static_cast<float>(q(static_cast<ItemId>(i)));
  }

  void score(std::span<const UserId>, std::span<const ItemId> items, std::span<float> out) override {
    for (std::size_t j = 0; j < items.size(); ++j) out[j] = static_cast<float>(q(items[j]));
  }

  void act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
           int slate_size, std::span<ItemId> slates) override {
    check_policy_args("epsilon_greedy", users.size(), candidates, n_candidates, slate_size, slates.size(),
                      n_items());
    const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
    for (std::size_t r = 0; r < users.size(); ++r) {
      left_.assign(candidates.begin() + static_cast<std::ptrdiff_t>(r * c),
                   candidates.begin() + static_cast<std::ptrdiff_t>((r + 1) * c));
      for (std::size_t j = 0; j < k; ++j) {
        const std::size_t pick = rng_.uniform() < epsilon_ ? static_cast<std::size_t>(rng_.below(left_.size()))
                                                           : greedy(left_);
        slates[r * k + j] = left_[pick];
        left_.erase(left_.begin() + static_cast<std::ptrdiff_t>(pick));
      }
    }
  }

  /// Exact: the product formula in the file comment.
  void propensity(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates,
                  int slate_size, std::span<const ItemId> slates, std::span<double> out) override {
    check_policy_args("epsilon_greedy", users.size(), candidates, n_candidates, slate_size, slates.size(),
                      n_items());
    const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
    for (std::size_t r = 0; r < users.size(); ++r) {
      left_.assign(candidates.begin() + static_cast<std::ptrdiff_t>(r * c),
                   candidates.begin() + static_cast<std::ptrdiff_t>((r + 1) * c));
      double p = 1.0;
      for (std::size_t j = 0; j < k && p > 0; ++j) {
        const auto it = std::find(left_.begin(), left_.end(), slates[r * k + j]);
        if (it == left_.end()) { p = 0; break; }
        const auto pos = static_cast<std::size_t>(it - left_.begin());
        p *= epsilon_ / static_cast<double>(left_.size()) + (pos == greedy(left_) ? 1.0 - epsilon_ : 0.0);
        left_.erase(it);
      }
      out[r] = p;
    }
  }

  void observe(const Feedback& fb) override {
    for_each_shown("epsilon_greedy", fb, target_, n_users(), n_items(),
                   [&](std::size_t, UserId, ItemId i, double reward, bool) {
                     sum_[static_cast<std::size_t>(i)] += reward;
                     count_[static_cast<std::size_t>(i)] += 1;
                   });
  }

  std::size_t model_bytes() const override { return (sum_.size() + count_.size()) * sizeof(double); }

  void save(std::ostream& out) const override {
    ModelWriter w(out);
    write_model_name(w, "epsilon_greedy");
    w.value<std::int32_t>(n_users());
    w.values(sum_);
    w.values(count_);
    w.value(rng_);
  }
  void load(std::istream& in) override {
    ModelReader r(in, "epsilon_greedy");
    read_model_name(r, "epsilon_greedy");
    const auto users = r.value<std::int32_t>("the number of users");
    std::vector<double> sum = r.values<double>("the reward sums");
    std::vector<double> count = r.values<double>("the counts");
    const Rng rng = read_rng(r, "the exploration stream");
    r.finish();
    if (users < 0) r.fail("the number of users", "is negative");
    r.expect("the number of counts", static_cast<std::int64_t>(count.size()), static_cast<std::int64_t>(sum.size()));
    set_shape(users, static_cast<std::int32_t>(sum.size()));
    sum_ = std::move(sum);
    count_ = std::move(count);
    rng_ = rng;
  }

  /// The current estimate q_i (0 before any prior or observation).
  double q(ItemId i) const {
    const double n = count_[static_cast<std::size_t>(i)];
    return n > 0 ? sum_[static_cast<std::size_t>(i)] / n : 0.0;
  }

 private:
  /// Index into `items` of the highest q, ties by smaller item id.
  std::size_t greedy(const std::vector<ItemId>& items) const {
    std::size_t best = 0;
    for (std::size_t j = 1; j < items.size(); ++j) {
      const double a = q(items[j]), b = q(items[best]);
      if (a > b || (a == b && items[j] < items[best])) best = j;
    }
    return best;
  }

  double epsilon_, prior_count_;
  BanditTarget target_;
  std::vector<double> sum_, count_;  // n_items: m·p_i + Σ r, and m + n_i
  std::vector<ItemId> left_;         // act/propensity scratch: candidates not yet placed
  Rng rng_;
};

}  // namespace recfuse
