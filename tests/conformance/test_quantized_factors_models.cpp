// quantize = "int8" on svdpp, als_explicit and ease: the int8 rows are the
// quantization of the same float fit (svdpp: of the effective user rows
// p_u + |N(u)|^-½ Σ y_j, computed here), scores and ratings are those of the
// dequantized parameters summed here, model_bytes, and the model file of
// either form (round trip, each refusing the other). The parameter's
// choices: test_quantized_factors.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "plugins/mf_explicit/als_explicit.hpp"
#include "plugins/mf_explicit/svdpp.hpp"
#include "plugins/mf_implicit/ease.hpp"
#include "quantized_test_support.hpp"

namespace recfuse::test {
namespace {

using Params = std::map<std::string, ParamValue>;

Params with_int8(Params p) {
  p["quantize"] = std::string("int8");
  return p;
}

/// The rating stats a LatentRatingModel file opens with: a double and two floats.
void skip_stats(ModelReader& r) {
  r.value<double>("mean");
  r.value<float>("lo");
  r.value<float>("hi");
}

}  // namespace

TEST_CASE("svdpp quantize int8: the effective user rows are quantized, ratings are the dequantized model's",
          "[quantized]") {
  const TrainData d = synthetic_train_data();
  const Params kSvdpp = {{"factors", std::int64_t{8}}, {"epochs", std::int64_t{10}}}, kSvdpp8 = with_int8(kSvdpp);
  SvdppRecommender plain = fitted_model<SvdppRecommender>(d, kSvdpp), q8 = fitted_model<SvdppRecommender>(d, kSvdpp8);
  // The float model's scoring rows, from its file: stats, then P_eff and Q.
  std::istringstream file(saved(plain));
  ModelReader r(file, "test");
  skip_stats(r);
  const auto Peff = r.matrix<RowMatrixF>("P"), Q = r.matrix<RowMatrixF>("Q");
  // P_eff is p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j of the fitted parameters.
  const RowMatrixF &P = plain.user_factors(), &Y = plain.implicit_factors();
  REQUIRE(Peff.rows() == d.n_users);
  for (UserId u = 0; u < d.n_users; ++u) {
    const auto items = d.by_user.row(u);
    for (Eigen::Index c = 0; c < P.cols(); ++c) {
      double sum = 0.0;
      for (const ItemId j : items) sum += Y(j, c);
      const double want = P(u, c) + sum / std::sqrt(static_cast<double>(items.size()));
      CHECK(Peff(u, c) == Approx(want).margin(1e-6));
    }
  }
  const QuantizedFactors& qf = q8.quantized_factors();
  REQUIRE(qf.users.values() == QuantizedRows(Peff).values());  // the same fit's effective rows, quantized
  REQUIRE(qf.users.scales() == QuantizedRows(Peff).scales());
  REQUIRE(qf.items.values() == QuantizedRows(Q).values());
  REQUIRE(qf.items.scales() == QuantizedRows(Q).scales());
  CHECK(qf.users.scales() != QuantizedRows(P).scales());  // not p_u alone
  CHECK(q8.user_factors().size() == 0);                  // P, Q and Y are freed
  CHECK(q8.item_factors().size() == 0);
  CHECK(q8.implicit_factors().size() == 0);
  check_dequantized_ratings(q8);
  const std::vector<float> got = all_scores(q8), ref = all_scores(plain);
  double worst = 0.0;
  for (std::size_t k = 0; k < got.size(); ++k) worst = std::max(worst, std::abs(static_cast<double>(got[k]) - ref[k]));
  CHECK(worst > 0.0);  // the quantized model's ratings, not the float one's
  CHECK(worst < 0.05);
  const std::size_t n = static_cast<std::size_t>(d.n_users + d.n_items), f = 8;
  CHECK(plain.model_bytes() == 4 * n * f + 4 * n);  // P_eff, Q, b_i and the offsets μ + b_u
  CHECK(q8.model_bytes() == n * f + 4 * n + 4 * n);  // int8 values and a float scale per row
  check_file_round_trip(q8, kSvdpp8, kSvdpp);
  check_file_round_trip(plain, kSvdpp, kSvdpp8);
}

TEST_CASE("als_explicit quantize int8: ratings are the dequantized fitted factors', in a smaller model",
          "[quantized]") {
  const TrainData d = synthetic_train_data();
  const Params kAls = {{"factors", std::int64_t{8}}, {"iterations", std::int64_t{5}}, {"reg", 0.1}},
               kAls8 = with_int8(kAls);
  AlsExplicitRecommender plain = fitted_model<AlsExplicitRecommender>(d, kAls),
                         q8 = fitted_model<AlsExplicitRecommender>(d, kAls8);
  const QuantizedFactors& qf = q8.quantized_factors();
  REQUIRE(qf.users.values() == QuantizedRows(plain.user_factors()).values());  // the same fit, quantized
  REQUIRE(qf.users.scales() == QuantizedRows(plain.user_factors()).scales());
  REQUIRE(qf.items.values() == QuantizedRows(plain.item_factors()).values());
  REQUIRE(qf.items.scales() == QuantizedRows(plain.item_factors()).scales());
  CHECK(q8.user_factors().size() == 0);  // the float factors are freed
  CHECK(q8.item_factors().size() == 0);
  CHECK(q8.user_bias() == plain.user_bias());
  check_dequantized_ratings(q8);
  const std::size_t n = static_cast<std::size_t>(d.n_users + d.n_items), f = 8;
  CHECK(plain.model_bytes() == 4 * n * f + 4 * (n + 1));
  CHECK(q8.model_bytes() == n * f + 4 * n + 4 * (n + 1));  // int8 values, row scales, μ, b_u, b_i
  check_file_round_trip(q8, kAls8, kAls);
  check_file_round_trip(plain, kAls, kAls8);
}

TEST_CASE("ease quantize int8: B's rows are quantized, scores and explanations are the dequantized B's",
          "[quantized]") {
  const TrainData d = synthetic_train_data();
  const Params kEase = {{"reg", 5.0}}, kEase8 = with_int8(kEase);
  EaseRecommender plain = fitted_model<EaseRecommender>(d, kEase), q8 = fitted_model<EaseRecommender>(d, kEase8);
  const QuantizedRows& qb = q8.quantized_weights();
  REQUIRE(qb.values() == QuantizedRows(plain.weights()).values());  // the same B, quantized by rows
  REQUIRE(qb.scales() == QuantizedRows(plain.weights()).scales());
  CHECK(q8.weights().size() == 0);  // the float B is freed
  // s_ui = Σ_{j∈I_u} s_j q_ji, summed here in double.
  const RowMatrixF Bd = qb.dequantize();
  const std::vector<float> got = all_scores(q8), ref = all_scores(plain);
  const auto m = static_cast<std::size_t>(d.n_items);
  double worst = 0.0;
  for (UserId u = 0; u < d.n_users; ++u)
    for (ItemId i = 0; i < d.n_items; ++i) {
      double want = 0.0, magnitude = 0.0;
      for (const ItemId j : d.by_user.row(u)) want += Bd(j, i), magnitude += std::abs(Bd(j, i));
      const std::size_t at = static_cast<std::size_t>(u) * m + static_cast<std::size_t>(i);
      check_close(got[at], want, magnitude);
      worst = std::max(worst, std::abs(static_cast<double>(got[at]) - ref[at]));
    }
  CHECK(worst > 0.0);  // the quantized B's scores, not the float one's
  CHECK(worst < 0.05);
  CHECK(plain.model_bytes() == 4 * m * m);
  CHECK(q8.model_bytes() == m * m + 4 * m);  // int8 values and a float scale per row
  // explain: the float file's layout with the dequantized B, loaded as a
  // float model, names the same terms and says the same.
  const std::string file = saved(plain);
  std::ostringstream forged;
  ModelWriter w(forged);
  w.matrix(Bd);
  forged << file.substr(16 + 4 * m * m);
  EaseRecommender reference(defaults_of<EaseRecommender>(kEase));
  std::istringstream in(forged.str());
  reference.load(in);
  check_explanations_match(q8, reference, 0.0, 0.0);
  check_file_round_trip(q8, kEase8, kEase);
  check_file_round_trip(plain, kEase, kEase8);
}

}  // namespace recfuse::test
