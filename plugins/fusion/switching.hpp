// Switching hybrid (Burke, "Hybrid recommender systems: survey and
// experiments", UMUAI 2002, §3.2): one child answers for each user.
//
//   [[algorithms]]
//   name = "switch"
//   plugin = "switching"
//   params = { rule = "history", min_history = 20 }
//   [[algorithms.children]]   # child 0: users with a short history
//   plugin = "popularity"
//   [[algorithms.children]]   # child 1: everyone else
//   plugin = "item_knn"
//
// rule = history: users with fewer than `min_history` training interactions
//   get child 0, the others child 1 (exactly two children).
// rule = learned: users are cut into four segments at the quartiles of the
//   training-history lengths (segment s holds n_u <= q_s, q_1..q_3 over all
//   users); each segment gets the child with the best NDCG@10 on the
//   validation users of that segment (ties: the earlier child), a segment
//   without validation users the best child overall.
// Scores are the chosen child's own scores (comparable within a user only);
// explain names the chosen child and the rule, then that child's own reason.
// Deployed as a policy, the chosen child acts for its users with its own act
// (a bandit's exploration, SlateQ's slates), not by a ranking of its scores.
// Switching declares no propensities: off-policy estimates of a switching
// policy whose children act at random match one sampled slate against the
// logged one (unbiased, with more variance than the children's propensities
// would give).
#pragma once

#include "fusion_common.hpp"
#include "fusion_explain.hpp"
#include "recfuse/params.hpp"
#include "recfuse/ranking_metrics.hpp"

namespace recfuse {

class Switching final : public FusionStrategy {
 public:
  explicit Switching(const ParamSet& p)
      : FusionStrategy("switching"),
        learned_(p.get_string("rule") == "learned"), min_history_(p.get_int("min_history")) {}

  static std::vector<ParamSpec> params() {
    return {
        ParamSpec::choice("rule", "history", {"history", "learned"},
                          "history threshold, or the best child per history quartile on validation"),
        ParamSpec::integer("min_history", 20, 0, 1e9,
                           "rule = history: users with fewer training interactions get child 0"),
    };
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    set_shape(data.n_users, data.n_items);
    require_count();
    train_.assign(data.by_user);
    choice_.assign(static_cast<std::size_t>(data.n_users), 0);
    if (!learned_) {
      for (UserId u = 0; u < data.n_users; ++u) choice_[static_cast<std::size_t>(u)] = train_.count(u) < min_history_ ? 0 : 1;
    } else {
      require_validation_scored(children_, data.validation, data.by_user, static_cast<std::size_t>(data.n_items),
                                "switching");
      refuse_children_trained_on_validation(children_, "switching");
      learn_segments(data, ctx);
    }
    std::int64_t first = 0;
    for (int c : choice_) first += c == 0;
    ctx.log("switching: " + std::to_string(first) + " of " + std::to_string(data.n_users) + " users get child 0");
  }

  void score_all(std::span<const UserId> users, std::span<float> out) override {
    const auto n = static_cast<std::size_t>(n_items());
    for (std::size_t c = 0; c < children_.size(); ++c) {
      gather(users, static_cast<int>(c));
      if (sub_.empty()) continue;
      buf_.resize(sub_.size() * n);
      children_[c].model->score_all(sub_, buf_);
      for (std::size_t j = 0; j < sub_.size(); ++j)
        std::copy_n(buf_.data() + j * n, n, out.data() + pos_[j] * n);
    }
  }

  /// Each child answers for its own users with its own (possibly faster) recommend.
  void recommend(std::span<const UserId> users, int k, SparseRowsView exclude,
                 std::span<ItemId> out_items, std::span<float> out_scores) override {
    const auto kk = static_cast<std::size_t>(k);
    for (std::size_t c = 0; c < children_.size(); ++c) {
      gather(users, static_cast<int>(c));
      if (sub_.empty()) continue;
      items_.resize(sub_.size() * kk);
      scores_.resize(sub_.size() * kk);
      children_[c].model->recommend(sub_, k, exclude, items_, scores_);
      for (std::size_t j = 0; j < sub_.size(); ++j) {
        std::copy_n(items_.data() + j * kk, kk, out_items.data() + pos_[j] * kk);
        std::copy_n(scores_.data() + j * kk, kk, out_scores.data() + pos_[j] * kk);
      }
    }
  }

  /// Acting: each child acts for its own users with its own act (a bandit
  /// explores, SlateQ builds its slates), a user's rows kept in their order.
  void act(std::span<const UserId> users, std::span<const ItemId> candidates, int n_candidates, int slate_size,
           std::span<ItemId> slates) override {
    const auto c = static_cast<std::size_t>(n_candidates), k = static_cast<std::size_t>(slate_size);
    for (std::size_t ch = 0; ch < children_.size(); ++ch) {
      gather(users, static_cast<int>(ch));
      if (sub_.empty()) continue;
      cands_.resize(sub_.size() * c);
      items_.resize(sub_.size() * k);
      for (std::size_t j = 0; j < sub_.size(); ++j)
        std::copy_n(candidates.data() + pos_[j] * c, c, cands_.data() + j * c);
      children_[ch].model->act(sub_, cands_, n_candidates, slate_size, items_);
      for (std::size_t j = 0; j < sub_.size(); ++j) std::copy_n(items_.data() + j * k, k, slates.data() + pos_[j] * k);
    }
  }

  std::size_t model_bytes() const override { return children_bytes(children_) + choice_.size(); }

  std::vector<std::pair<std::string, double>> diagnostics() const override {
    std::vector<std::pair<std::string, double>> d;
    std::vector<double> share(children_.size(), 0.0);
    for (int c : choice_) share[static_cast<std::size_t>(c)] += 1.0 / static_cast<double>(choice_.size());
    for (std::size_t c = 0; c < children_.size(); ++c) d.emplace_back("share:" + children_[c].name, share[c]);
    for (std::size_t s = 0; s < segment_child_.size(); ++s)
      d.emplace_back("segment" + std::to_string(s + 1) + "_child", segment_child_[s]);
    for (std::size_t s = 0; s < bounds_.size(); ++s)
      d.emplace_back("quartile" + std::to_string(s + 1) + "_history", static_cast<double>(bounds_[s]));
    return d;
  }

  /// "served by knn, the child for users with at least 20 training items;
  /// knn: <knn's reason>". The rule's side of the user is what the saved
  /// choice says (the history lengths are not saved).
  std::string explain(UserId u, ItemId i) override {
    if (u < 0 || u >= n_users() || i < 0 || i >= n_items()) return {};
    const auto c = static_cast<std::size_t>(choice_[static_cast<std::size_t>(u)]);
    const std::string items = std::to_string(min_history_) + (min_history_ == 1 ? " training item" : " training items");
    return "served by " + children_[c].name + ", " +
           (learned_ ? std::string("the child chosen on validation for your history-length quartile")
            : c == 0 ? "the child for users with fewer than " + items
                     : "the child for users with at least " + items) +
           child_reason(children_, c, u, i);
  }

  /// The child index chosen for each user.
  const std::vector<int>& choices() const { return choice_; }

 protected:
  /// kCapSaveLoad: each user's child and, for rule = learned, the segments'
  /// children and the quartile bounds (diagnostics).
  void save_state(ModelWriter& w) const override {
    w.values(choice_);
    w.values(segment_child_);
    w.values(bounds_);
  }
  void load_state(ModelReader& r, std::int32_t n_users, std::int32_t) override {
    require_count();
    choice_ = r.values<int>("the users' children");
    r.expect("the number of users' children", static_cast<std::int64_t>(choice_.size()), n_users);
    segment_child_ = r.values<int>("the segments' children");
    bounds_ = r.values<std::int64_t>("the quartile bounds");
    const std::int64_t segments = learned_ ? 4 : 0;
    r.expect("the number of segments' children", static_cast<std::int64_t>(segment_child_.size()), segments);
    r.expect("the number of quartile bounds", static_cast<std::int64_t>(bounds_.size()), learned_ ? 3 : 0);
    for (const std::vector<int>* v : {&choice_, &segment_child_})
      for (int c : *v)
        if (c < 0 || static_cast<std::size_t>(c) >= children_.size())
          r.fail("a child index", std::to_string(c) + " is not one of the " + std::to_string(children_.size()) + " children");
  }

 private:
  void require_count() const { require_children(children_, learned_ ? 1 : 2, learned_ ? kAnyNumber : 2, "switching"); }

  int segment_of(std::int64_t n) const {
    int s = 0;
    while (s < 3 && n > bounds_[static_cast<std::size_t>(s)]) ++s;
    return s;
  }

  /// Sub-batch of `users` served by child c (ids in sub_, positions in pos_).
  void gather(std::span<const UserId> users, int c) {
    sub_.clear();
    pos_.clear();
    for (std::size_t j = 0; j < users.size(); ++j)
      if (choice_[static_cast<std::size_t>(users[j])] == c) { sub_.push_back(users[j]); pos_.push_back(j); }
  }

  void learn_segments(const TrainData& data, const FitContext& ctx) {
    const CsrMatrix& val = data.validation;
    if (val.nnz() == 0)
      throw Error("[switching] rule = 'learned' needs validation interactions; set [split] validation = true "
                  "(leave_last_one_out) or validation_ratio > 0 (the other methods)");
    std::vector<std::int64_t> counts(static_cast<std::size_t>(data.n_users));
    for (UserId u = 0; u < data.n_users; ++u) counts[static_cast<std::size_t>(u)] = train_.count(u);
    std::vector<std::int64_t> sorted = counts;
    std::sort(sorted.begin(), sorted.end());
    bounds_.clear();
    for (int q = 1; q <= 3; ++q) bounds_.push_back(sorted[(sorted.size() - 1) * static_cast<std::size_t>(q) / 4]);
    std::vector<UserId> users;
    for (UserId u = 0; u < val.rows && u < data.n_users; ++u)
      if (val.row_size(u) > 0) users.push_back(u);
    constexpr int kCut = 10;
    const std::size_t C = children_.size();
    std::vector<double> sum(4 * C, 0.0), seg_users(4, 0.0), total(C, 0.0);
    std::vector<ItemId> items(users.size() * kCut);
    std::vector<float> scores(items.size());
    for (std::size_t c = 0; c < C; ++c) {
      children_[c].model->recommend(users, kCut, train_.view(), items, scores);
      for (std::size_t r = 0; r < users.size(); ++r) {
        const double ndcg = ranking_metrics(std::span<const ItemId>(items).subspan(r * kCut, kCut),
                                            val.row(users[r]), kCut).ndcg;
        const int s = segment_of(counts[static_cast<std::size_t>(users[r])]);
        sum[static_cast<std::size_t>(s) * C + c] += ndcg;
        total[c] += ndcg;
        if (c == 0) seg_users[static_cast<std::size_t>(s)] += 1;
      }
    }
    const auto best_overall = static_cast<int>(std::max_element(total.begin(), total.end()) - total.begin());
    segment_child_.assign(4, best_overall);
    for (std::size_t s = 0; s < 4; ++s) {
      if (seg_users[s] == 0) continue;
      const auto first = sum.begin() + static_cast<std::ptrdiff_t>(s * C);
      segment_child_[s] = static_cast<int>(std::max_element(first, first + static_cast<std::ptrdiff_t>(C)) - first);
      ctx.log("switching: segment " + std::to_string(s + 1) + " (" + std::to_string(static_cast<int>(seg_users[s])) +
              " validation users) -> " + children_[static_cast<std::size_t>(segment_child_[s])].name);
    }
    for (UserId u = 0; u < data.n_users; ++u)
      choice_[static_cast<std::size_t>(u)] = segment_child_[static_cast<std::size_t>(segment_of(counts[static_cast<std::size_t>(u)]))];
  }

  bool learned_;
  std::int64_t min_history_;
  TrainingRows train_;
  std::vector<int> choice_, segment_child_;
  std::vector<std::int64_t> bounds_;
  std::vector<UserId> sub_;
  std::vector<std::size_t> pos_;
  std::vector<float> buf_, scores_;
  std::vector<ItemId> items_, cands_;
};

}  // namespace recfuse
