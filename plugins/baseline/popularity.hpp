// Popularity: recommends the items most users interacted with in training
// (the "MostPop" baseline of Cremonesi, Koren & Turrin, RecSys 2010, which
// full-ranking evaluations show to be surprisingly hard to beat).
//
//   [algorithms.pop]
//   plugin = "popularity"
//   params = { recent_days = 30 }   # optional: count only the last 30 days
//
// score(u, i) = |{v : (v, i) in train, t_vi >= t_max - recent_days * 86400}|,
// the same for every user; recent_days = 0 counts everything, and a window
// needs timestamps (fit throws on data without them). Ties are left to the
// shared top-k, which orders them by item id.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "recfuse/model_io.hpp"
#include "recfuse/params.hpp"
#include "recfuse/recommender.hpp"

namespace recfuse {

class PopularityRecommender final : public Recommender {
 public:
  explicit PopularityRecommender(const ParamSet& p) : recent_days_(p.get_int("recent_days")) {}

  static std::vector<ParamSpec> params() {
    return {ParamSpec::integer("recent_days", 0, 0, 1e6,
                               "count only interactions of the last N days before the latest "
                               "training timestamp (0 = all)")};
  }

  void fit(const TrainData& data, const FitContext& ctx) override {
    set_shape(data.n_users, data.n_items);
    const CsrMatrix& m = data.by_item;
    counts_.assign(static_cast<std::size_t>(data.n_items), 0.0f);
    const bool windowed = recent_days_ > 0 && m.nnz() > 0;
    std::int64_t cutoff = 0;
    if (windowed) {
      // Timestamps 0 mean the source has none (train_data.hpp): a window
      // cannot be applied, and counting everything would pass all-time
      // popularity off as recent popularity.
      const std::int64_t latest =
          m.timestamps.empty() ? 0 : *std::max_element(m.timestamps.begin(), m.timestamps.end());
      if (latest <= 0)
        throw Error("popularity: recent_days = " + std::to_string(recent_days_) +
                    " needs interaction timestamps, and the training data has none; "
                    "set recent_days = 0 to count every interaction");
      cutoff = latest - recent_days_ * 86400;
    }
    for (std::int32_t i = 0; i < m.rows && i < data.n_items; ++i) {
      if (!windowed) {
        counts_[static_cast<std::size_t>(i)] = static_cast<float>(m.row_size(i));
        continue;
      }
      std::int64_t c = 0;
      for (std::int64_t t : m.row_timestamps(i)) c += t >= cutoff;
      counts_[static_cast<std::size_t>(i)] = static_cast<float>(c);
    }
    ctx.log("popularity: counted " + std::to_string(m.nnz()) + " interactions over " +
            std::to_string(data.n_items) + " items");
  }

  /// out: users.size() x n_items; every row is the count vector.
  void score_all(std::span<const UserId> users, std::span<float> out) override {
    for (std::size_t r = 0; r < users.size(); ++r)
      std::copy(counts_.begin(), counts_.end(), out.begin() + r * counts_.size());
  }

  void score(std::span<const UserId> users, std::span<const ItemId> items,
             std::span<float> out) override {
    for (std::size_t j = 0; j < items.size(); ++j) out[j] = counts_[static_cast<std::size_t>(items[j])];
  }

  std::size_t model_bytes() const override { return counts_.size() * sizeof(float); }

  /// kCapSaveLoad: the number of users and the counts.
  void save(std::ostream& out) const override {
    ModelWriter w(out);
    w.value(n_users());
    w.values(counts_);
  }
  void load(std::istream& in) override {
    ModelReader r(in, "popularity");
    const auto users = r.value<std::int32_t>("number of users");
    counts_ = r.values<float>("counts");
    r.finish();
    if (users < 0) r.fail("the number of users", "is negative");
    set_shape(users, static_cast<std::int32_t>(counts_.size()));
  }

 private:
  std::int64_t recent_days_;
  std::vector<float> counts_;  // n_items
};

}  // namespace recfuse
