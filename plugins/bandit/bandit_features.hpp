// Feature vectors the linear bandits share (linear_bandit.hpp,
// linucb_hybrid.hpp): item features x_i with a bias entry, and each user's
// context z_u built from the items the user clicked.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bandit_common.hpp"
#include "recfuse/rng.hpp"
#include "recfuse/train_data.hpp"
#include "recfuse/types.hpp"

namespace recfuse {

using BanditRowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// x_i = (row i of TrainData::item_features, 1): n_items x (attributes + 1),
/// the bias last. Throws, naming `who`, when the data has no item features.
inline BanditRowMatrix item_feature_matrix(const TrainData& data, const char* who) {
  const CsrMatrix& f = data.item_features.matrix;
  if (f.rows != data.n_items || f.cols == 0)
    throw Error(std::string(who) + ": needs item features (TrainData::item_features with one row per item, "
                "e.g. an environment's topics); got " + std::to_string(f.rows) + " rows x " +
                std::to_string(f.cols) + " columns for " + std::to_string(data.n_items) + " items");
  const int d = f.cols + 1;
  BanditRowMatrix x = BanditRowMatrix::Zero(data.n_items, d);
  for (std::int32_t i = 0; i < data.n_items; ++i) {
    for (std::int64_t q = f.indptr[static_cast<std::size_t>(i)]; q < f.indptr[static_cast<std::size_t>(i) + 1]; ++q)
      x(i, f.indices[static_cast<std::size_t>(q)]) = f.values.empty() ? 1.0 : f.values[static_cast<std::size_t>(q)];
    x(i, d - 1) = 1.0;
  }
  return x;
}

/// The non-clicks of a warm start (the parameter warm_negatives): logs hold
/// clicks only, so a model warm-started on them sees every target at 1 and
/// its mean score carries no preference (linucb_hybrid then ranks rarely
/// clicked items of several attributes first: its shared β̂ adds one
/// coefficient per attribute, while each much-clicked item's own θ̂ pins it
/// at 1). For each warm-start observation of user u (a logged click; a
/// user-item pair for scope user or global, whose warm start counts pairs),
/// `per_click` items u has no logged interaction with (TrainData::by_user),
/// drawn uniformly with replacement from the stream derive_seed(fit seed,
/// "<who>.negatives"), become reward-0 observations, the non-clicks that Li
/// et al.'s logs of shown articles had.
class UnclickedSampler {
 public:
  UnclickedSampler(const TrainData& data, int per_click, std::uint64_t seed, const char* who)
      : data_(data), per_click_(per_click), rng_(derive_seed(seed, std::string(who) + ".negatives")) {}
  /// f(o) for each item drawn for one click of user u (none when u has
  /// interacted with every item).
  template <typename F>
  void each(UserId u, F&& f) {
    const CsrMatrix& m = data_.by_user;
    const auto row = u < m.rows ? m.row(u) : std::span<const std::int32_t>{};
    if (static_cast<std::int64_t>(row.size()) >= data_.n_items) return;
    for (int j = 0; j < per_click_; ++j) {
      ItemId o;
      do o = static_cast<ItemId>(rng_.below(static_cast<std::uint64_t>(data_.n_items)));
      while (std::binary_search(row.begin(), row.end(), o));
      f(o);
    }
  }

 private:
  const TrainData& data_;
  int per_click_;
  Rng rng_;
};

/// z_u, user u's context: the mean of x_i over the items u has clicked (the
/// logs first, then online feedback; bias entry 1), or (0, …, 0, 1) before
/// any click. It describes the user, not a model: it includes the logged
/// clicks whether or not a policy warm-starts from them.
class UserContexts {
 public:
  /// Replays the logs: each user's clicks in time order (TrainData::sequences,
  /// repeats included; by_user when there are none), calling
  /// f(u, i, value, z) with z the context before that click, then adding it.
  /// Afterwards every context holds all logged clicks. A warm start from
  /// these calls learns what observing the same clicks online, one at a
  /// time, would have taught.
  template <typename F>
  void replay(const BanditRowMatrix& x, const TrainData& data, F&& f) {
    sum_.setZero(data.n_users, x.cols());
    clicks_.assign(static_cast<std::size_t>(data.n_users), 0);
    const CsrMatrix& m = data.sequences.nnz() > 0 ? data.sequences : data.by_user;
    Eigen::VectorXd z;
    for (UserId u = 0; u < m.rows && u < data.n_users; ++u)
      for (std::int64_t k = m.indptr[static_cast<std::size_t>(u)]; k < m.indptr[static_cast<std::size_t>(u) + 1]; ++k) {
        const ItemId i = m.indices[static_cast<std::size_t>(k)];
        get(u, z);
        f(u, i, m.values.empty() ? 1.0 : static_cast<double>(m.values[static_cast<std::size_t>(k)]), z);
        add_click(x, u, i);
      }
  }
  /// One step of online feedback: f(u, i, r, z) for every item shown (as
  /// for_each_shown, r the item's reward), z the context the step was
  /// decided with; the step's clicks join the contexts only afterwards, so a
  /// user in several sessions of the step is learned with one context.
  template <typename F>
  void observe_step(const char* who, const BanditRowMatrix& x, const Feedback& fb, BanditTarget target,
                    std::int32_t n_items, F&& f) {
    clicks_seen_.clear();
    Eigen::VectorXd& z = z_;
    for_each_shown(who, fb, target, static_cast<std::int32_t>(clicks_.size()), n_items,
                   [&](std::size_t, UserId u, ItemId i, double r, bool clicked) {
                     get(u, z);
                     f(u, i, r, z);
                     if (clicked) clicks_seen_.emplace_back(u, i);
                   });
    for (const auto& [u, i] : clicks_seen_) add_click(x, u, i);
  }
  void clear() {
    sum_.resize(0, 0);
    clicks_.clear();
  }
  /// u clicked item i (row i of x).
  void add_click(const BanditRowMatrix& x, UserId u, ItemId i) {
    sum_.row(u) += x.row(i);
    ++clicks_[static_cast<std::size_t>(u)];
  }
  /// z_u into `out` (d values). u must be in range (callers check).
  void get(UserId u, Eigen::VectorXd& out) const {
    const auto n = clicks_[static_cast<std::size_t>(u)];
    if (n == 0) {
      out.setZero(sum_.cols());
      out[sum_.cols() - 1] = 1.0;
    } else {
      out = sum_.row(u).transpose() / static_cast<double>(n);
    }
  }
  std::size_t bytes() const {
    return static_cast<std::size_t>(sum_.size()) * sizeof(double) + clicks_.size() * sizeof(std::int64_t);
  }
  /// kCapSaveLoad: the sums and counts (empty after clear()).
  void save(ModelWriter& w) const {
    w.matrix(sum_);
    w.values(clicks_);
  }
  /// What save wrote, for `n_users` users of `d` features (0 and 0: none kept).
  void load(ModelReader& r, std::int64_t n_users, std::int64_t d) {
    BanditRowMatrix sum = r.matrix<BanditRowMatrix>("the user context sums");
    std::vector<std::int64_t> clicks = r.values<std::int64_t>("the user click counts");
    r.expect("the number of user contexts", sum.rows(), n_users);
    r.expect("the width of the user contexts", sum.cols(), d);
    r.expect("the number of user click counts", static_cast<std::int64_t>(clicks.size()), n_users);
    for (const std::int64_t n : clicks)
      if (n < 0) r.fail("a user click count", std::to_string(n) + " is negative");
    sum_ = std::move(sum);
    clicks_ = std::move(clicks);
  }

 private:
  BanditRowMatrix sum_;               // n_users x d, Σ x_i over u's clicks
  std::vector<std::int64_t> clicks_;  // clicks in sum_, per user
  std::vector<std::pair<UserId, ItemId>> clicks_seen_;  // observe_step scratch
  Eigen::VectorXd z_;                                    // observe_step scratch
};

}  // namespace recfuse
