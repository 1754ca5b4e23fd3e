// Helpers of the quantize = "int8" tests (test_quantized_factors*.cpp): a
// model fitted with a map of parameters, its model file, the file round trip
// of either form, and a rating model's scores against its dequantized
// factors computed here.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "conformance_support.hpp"
#include "mf_test_support.hpp"
#include "recfuse/quantized_factors.hpp"

namespace recfuse::test {

/// s_u t_i Σ q q + b rounds three times in float: a few ulp of its terms.
inline void check_close(double got, double want, double magnitude) {
  CHECK(std::abs(got - want) <= 1e-6 * magnitude + 1e-30);
}

inline std::string saved(const Recommender& r) {
  std::ostringstream out;
  r.save(out);
  return out.str();
}

template <class Model>
Model fitted_model(const TrainData& d, const std::map<std::string, ParamValue>& values) {
  Model m(defaults_of<Model>(values));
  FitContext ctx;
  ctx.seed = 5;
  ctx.threads = 1;
  m.fit(d, ctx);
  return m;
}

/// Saves `trained`, loads the bytes into a fresh model of `values`, and checks
/// that it saves the same bytes and scores the same; a model of `other`
/// parameters (the other quantize) refuses the file.
template <class Model>
void check_file_round_trip(Model& trained, const std::map<std::string, ParamValue>& values,
                           const std::map<std::string, ParamValue>& other) {
  const std::string bytes = saved(trained);
  Model loaded(defaults_of<Model>(values));
  std::istringstream in(bytes);
  loaded.load(in);
  CHECK(saved(loaded) == bytes);
  CHECK(loaded.model_bytes() == trained.model_bytes());
  CHECK(all_scores(loaded) == all_scores(trained));
  Model refusing(defaults_of<Model>(other));
  std::istringstream again(bytes);
  CHECK_THROWS_AS(refusing.load(again), Error);
}

/// A biased rating model with quantize = "int8" (sgd_mf, svdpp,
/// als_explicit): score_all, score and predict_rating of every pair against
/// μ + b_u + b_i + p̃_u·q̃_i summed here in double from its dequantized
/// factors and its float biases (predict_rating clipped to the rating range).
template <class Model>
void check_dequantized_ratings(Model& q8) {
  const QuantizedFactors& qf = q8.quantized_factors();
  const RowMatrixF Pd = qf.users.dequantize(), Qd = qf.items.dequantize();
  const float mu = static_cast<float>(q8.rating_stats().mean);
  const std::vector<float> got = all_scores(q8);
  std::vector<UserId> us;
  std::vector<ItemId> is;
  std::vector<double> wants;
  for (Eigen::Index u = 0; u < Pd.rows(); ++u)
    for (Eigen::Index i = 0; i < Qd.rows(); ++i) {
      const double bias = static_cast<double>(q8.item_bias()[static_cast<std::size_t>(i)]) +
                          (mu + q8.user_bias()[static_cast<std::size_t>(u)]);
      double want = bias, magnitude = std::abs(bias) + std::abs(mu);
      for (Eigen::Index k = 0; k < Pd.cols(); ++k) {
        want += static_cast<double>(Pd(u, k)) * Qd(i, k);
        magnitude += std::abs(static_cast<double>(Pd(u, k)) * Qd(i, k));
      }
      check_close(got[static_cast<std::size_t>(u * Qd.rows() + i)], want, magnitude);
      us.push_back(static_cast<UserId>(u));
      is.push_back(static_cast<ItemId>(i));
      wants.push_back(want);
    }
  std::vector<float> pair(us.size()), rating(us.size());
  q8.score(us, is, pair);
  q8.predict_rating(us, is, rating);
  const RatingStats& st = q8.rating_stats();
  for (std::size_t j = 0; j < us.size(); ++j) {
    check_close(pair[j], wants[j], std::abs(wants[j]) + 5.0);
    check_close(rating[j], std::clamp(wants[j], double{st.lo}, double{st.hi}), 5.0);
  }
}

/// q8's explanations equal `reference`'s (a float model loaded with q8's
/// dequantized parameters) for a few users and items: the same items, the
/// same values (relative `epsilon`, absolute `margin`; 0 and 0: exactly)
/// and the same text.
template <typename Q, typename R>
void check_explanations_match(Q& q8, R& reference, double epsilon, double margin) {
  for (const UserId u : {0, 5, 17})
    for (const ItemId i : {1, 9, 30}) {
      INFO("user " << u << " item " << i);
      const auto want = reference.contributions(u, i), have = q8.contributions(u, i);
      REQUIRE(have.size() == want.size());
      REQUIRE_FALSE(have.empty());
      for (std::size_t k = 0; k < have.size(); ++k) {
        CHECK(have[k].item == want[k].item);
        CHECK(have[k].value == Approx(want[k].value).epsilon(epsilon).margin(margin));
      }
      CHECK(q8.explain(u, i) == reference.explain(u, i));
    }
}

}  // namespace recfuse::test
