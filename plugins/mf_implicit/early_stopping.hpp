// Early stopping on the split's validation interactions (never test) for the
// iterative models: NDCG@10 by recfuse::validation_score after each epoch;
// the best factors are kept and restored at the end.
//
//   EarlyStopping stop(patience);
//   for (epoch ...) { ...; if (stop.enabled(data)) { if (stop.observe(*this, data, ctx, epoch))
//     save best; if (stop.exhausted()) break; } }
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "recfuse/validation.hpp"

namespace recfuse {

class EarlyStopping {
 public:
  explicit EarlyStopping(std::int64_t patience) : patience_(patience) {}

  /// Off when patience is 0 or the split produced no validation data.
  bool enabled(const TrainData& data) const { return patience_ > 0 && data.validation.nnz() > 0; }

  /// Scores `model` now; true when this is the best epoch so far.
  bool observe(Recommender& model, const TrainData& data, const FitContext& ctx, int epoch,
               const std::string& who) {
    const ValidationScore v = validation_score(model, data, 10);
    ctx.log(who + ": epoch " + std::to_string(epoch) + " validation NDCG@10 " +
            std::to_string(v.ndcg) + " HR@10 " + std::to_string(v.hr));
    if (v.ndcg > best_) {
      best_ = v.ndcg;
      best_epoch_ = epoch;
      since_best_ = 0;
      return true;
    }
    ++since_best_;
    return false;
  }

  bool exhausted() const { return since_best_ >= patience_; }
  int best_epoch() const { return best_epoch_; }
  double best() const { return best_; }

 private:
  std::int64_t patience_;
  double best_ = -std::numeric_limits<double>::infinity();
  int best_epoch_ = 0;
  std::int64_t since_best_ = 0;
};

}  // namespace recfuse
