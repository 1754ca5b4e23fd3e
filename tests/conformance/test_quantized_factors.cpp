// Int8 quantization of latent factors (recfuse/quantized_factors.hpp) and
// its use by bpr, ials and sgd_mf (quantize = "int8"): the round-trip bound, the
// scores against an exact integer dot product computed here, zero rows,
// the plugins' scores against their dequantized factors, model_bytes, the
// model file, and the parameter's choices (every quantizable model's).
// svdpp, als_explicit and ease: test_quantized_factors_models.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "host/params_validation.hpp"
#include "plugins/mf_explicit/als_explicit.hpp"
#include "plugins/mf_explicit/sgd_mf.hpp"
#include "plugins/mf_explicit/svdpp.hpp"
#include "plugins/mf_implicit/bpr.hpp"
#include "plugins/mf_implicit/ease.hpp"
#include "plugins/mf_implicit/ials.hpp"
#include "quantized_test_support.hpp"

namespace recfuse::test {
namespace {

/// rows x f factors N(0, sd²), with row 0 all zero and row 1 one nonzero entry.
RowMatrixF awkward_factors(Eigen::Index rows, Eigen::Index f, std::uint64_t seed, double sd) {
  RowMatrixF m = random_factors(rows, f, seed, sd);
  m.row(0).setZero();
  m.row(1).setZero();
  m(1, f / 2) = -3.25f;
  return m;
}

/// Σ_k q_uk q_ik · s_u t_i (+ b_i) in int64 and double, from the stored values.
double exact_score(const QuantizedRows& P, Eigen::Index u, const QuantizedRows& Q, Eigen::Index i, double bias) {
  std::int64_t acc = 0;
  for (Eigen::Index k = 0; k < P.cols(); ++k)
    acc += static_cast<std::int64_t>(P.values()(u, k)) * static_cast<std::int64_t>(Q.values()(i, k));
  return static_cast<double>(acc) * static_cast<double>(P.scale(u)) * static_cast<double>(Q.scale(i)) + bias;
}

}  // namespace

TEST_CASE("quantized factors: every entry is within half a row scale of its float", "[quantized]") {
  for (const double sd : {1e-3, 0.1, 40.0}) {
    const RowMatrixF x = awkward_factors(40, 37, 11, sd);
    const QuantizedRows q(x);
    REQUIRE(q.rows() == 40);
    REQUIRE(q.cols() == 37);
    const RowMatrixF back = q.dequantize();
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      const double s = q.scale(r);
      CHECK(s == Approx(x.row(r).cwiseAbs().maxCoeff() / 127.0).epsilon(1e-6));
      int qmax = 0;
      for (Eigen::Index k = 0; k < x.cols(); ++k) {
        const int v = q.values()(r, k);
        qmax = std::max(qmax, std::abs(v));
        CHECK(std::abs(static_cast<double>(x(r, k)) - s * v) <= s / 2 * (1 + 1e-6));
        CHECK(back(r, k) == static_cast<float>(q.scale(r) * static_cast<float>(v)));
      }
      CHECK(qmax == (r == 0 ? 0 : 127));  // the largest entry maps to ±127
    }
    CHECK(q.scale(0) == 0.0f);  // a zero row: scale 0, values 0, dequantized 0
    CHECK(back.row(0).isZero(0.0));
    CHECK(q.values()(1, 37 / 2) == -127);
  }
  RowMatrixF bad = RowMatrixF::Zero(2, 3);
  bad(1, 2) = std::nanf("");
  CHECK_THROWS_AS(QuantizedRows(bad), Error);
}

TEST_CASE("quantized factors: block scores are the exact integer dot product times the scales", "[quantized]") {
  for (const Eigen::Index f : {Eigen::Index{1}, Eigen::Index{37}, Eigen::Index{64}, Eigen::Index{128}}) {
    CAPTURE(f);
    const RowMatrixF p = awkward_factors(50, f, 3, 0.3), qf = awkward_factors(71, f, 4, 2.0);
    QuantizedFactors model(p, qf);
    std::vector<float> bias(71);
    for (std::size_t i = 0; i < bias.size(); ++i) bias[i] = 0.01f * static_cast<float>(i) - 0.3f;
    // 6 and 5 users: the int16 tiles (2 x 4, the odd items and, for 5, the
    // odd last user); 3 and 1: the int8 path.
    for (const std::vector<UserId>& users : {std::vector<UserId>{0, 1, 49, 7, 7, 23}, std::vector<UserId>{3, 49, 0, 12, 7},
                                             std::vector<UserId>{49, 0, 7},
                                             std::vector<UserId>{23}}) {
      for (const bool with_bias : {false, true}) {
        std::vector<float> out(users.size() * 71, -99.0f);
        model.score_all(with_bias ? std::span<const float>(bias) : std::span<const float>(), users, out);
        for (std::size_t r = 0; r < users.size(); ++r)
          for (Eigen::Index i = 0; i < 71; ++i) {
            const double b = with_bias ? bias[static_cast<std::size_t>(i)] : 0.0;
            const double want = exact_score(model.users, users[r], model.items, i, b);
            const double got = out[r * 71 + static_cast<std::size_t>(i)];
            check_close(got, want, std::abs(want - b) + std::abs(b));
            check_close(model.score(users[r], static_cast<ItemId>(i)) + b, want, std::abs(want - b) + std::abs(b));
            if (users[r] == 0) CHECK(got == static_cast<float>(b));  // zero user row: the bias alone
            if (i == 0) CHECK(got == static_cast<float>(b));         // zero item row
          }
      }
    }
  }
}

TEST_CASE("quantized factors: the model file round-trips and refuses a float matrix", "[quantized]") {
  const QuantizedFactors a(awkward_factors(9, 5, 1, 1.0), awkward_factors(6, 5, 2, 1.0));
  std::stringstream buf;
  ModelWriter w(buf);
  a.write(w);
  ModelReader r(buf, "test");
  const QuantizedFactors b = QuantizedFactors::read(r, 5);
  CHECK(b.users.values() == a.users.values());
  CHECK(b.items.scales() == a.items.scales());
  std::stringstream again(buf.str());
  ModelReader wrong_width(again, "test");
  CHECK_THROWS_AS(QuantizedFactors::read(wrong_width, 6), Error);
  std::stringstream plain;
  ModelWriter pw(plain);
  pw.matrix(RowMatrixF::Ones(9, 5).eval());
  ModelReader pr(plain, "test");
  CHECK_THROWS_WITH(QuantizedRows::read(pr, "factors", 5), Catch::Contains("not int8-quantized"));
}

TEST_CASE("quantized factors: a file with -128 or a negative scale is refused", "[quantized]") {
  // QuantizedRows::write: tag (8 bytes), rows, cols (8 each), the n x f int8
  // values, the scale count (8), then n float scales.
  const QuantizedRows rows(awkward_factors(4, 3, 5, 1.0));
  std::stringstream buf;
  ModelWriter w(buf);
  rows.write(w);
  const std::string good = buf.str();
  REQUIRE(good.size() == 24 + 4 * 3 + 8 + 4 * 4);
  {
    std::stringstream ok(good);
    ModelReader r(ok, "test");
    CHECK(QuantizedRows::read(r, "factors", 3).values() == rows.values());
  }
  std::string low = good;
  low[24 + 4] = static_cast<char>(-128);  // row 1, column 1
  std::stringstream l(low);
  ModelReader rl(l, "test");
  CHECK_THROWS_WITH(QuantizedRows::read(rl, "factors", 3), Catch::Contains("-128"));
  std::string negative = good;
  const float minus = -0.5f;
  std::memcpy(negative.data() + negative.size() - sizeof minus, &minus, sizeof minus);  // the last row's scale
  std::stringstream n(negative);
  ModelReader rn(n, "test");
  CHECK_THROWS_WITH(QuantizedRows::read(rn, "factors", 3), Catch::Contains("negative"));
}

TEST_CASE("quantize: only none and int8 are accepted", "[quantized]") {
  for (const auto& specs : {BprRecommender::params(), IalsRecommender::params(), SgdMfRecommender::params(),
                            SvdppRecommender::params(), AlsExplicitRecommender::params(), EaseRecommender::params()}) {
    CHECK_NOTHROW(validate_params(specs, {{"quantize", std::string("int8")}}, {}, "", "algorithms.x"));
    CHECK(validate_params(specs, {}, {}, "", "algorithms.x").get_string("quantize") == "none");
    CHECK_THROWS_AS(validate_params(specs, {{"quantize", std::string("int4")}}, {}, "", "algorithms.x"), Error);
    CHECK_THROWS_AS(validate_params(specs, {{"quantize", true}}, {}, "", "algorithms.x"), Error);
  }
}

namespace {

const std::map<std::string, ParamValue> kBpr = {{"factors", std::int64_t{8}}, {"epochs", std::int64_t{20}}},
                                        kBpr8 = {{"factors", std::int64_t{8}}, {"epochs", std::int64_t{20}},
                                                 {"quantize", std::string("int8")}};
const std::map<std::string, ParamValue> kSgd = {{"factors", std::int64_t{8}}, {"epochs", std::int64_t{10}}},
                                        kSgd8 = {{"factors", std::int64_t{8}}, {"epochs", std::int64_t{10}},
                                                 {"quantize", std::string("int8")}};

}  // namespace

TEST_CASE("bpr quantize int8: scores are the dequantized fitted factors', in a smaller model", "[quantized]") {
  const TrainData d = synthetic_train_data();
  BprRecommender plain = fitted_model<BprRecommender>(d, kBpr), q8 = fitted_model<BprRecommender>(d, kBpr8);
  std::istringstream file(saved(plain));  // the float model's W, H, b
  ModelReader r(file, "test");
  const auto W = r.matrix<RowMatrixF>("W"), H = r.matrix<RowMatrixF>("H");
  const auto b = r.values<float>("b");
  const QuantizedFactors& qf = q8.quantized_factors();
  REQUIRE(qf.users.values() == QuantizedRows(W).values());  // the same fit, quantized
  REQUIRE(qf.items.scales() == QuantizedRows(H).scales());
  const RowMatrixF Wd = qf.users.dequantize(), Hd = qf.items.dequantize();
  const std::vector<float> got = all_scores(q8), ref = all_scores(plain);
  double worst = 0.0;
  for (Eigen::Index u = 0; u < Wd.rows(); ++u)
    for (Eigen::Index i = 0; i < Hd.rows(); ++i) {
      double want = b[static_cast<std::size_t>(i)], magnitude = std::abs(want);
      for (Eigen::Index k = 0; k < Wd.cols(); ++k) {
        want += static_cast<double>(Wd(u, k)) * Hd(i, k);
        magnitude += std::abs(static_cast<double>(Wd(u, k)) * Hd(i, k));
      }
      const std::size_t at = static_cast<std::size_t>(u * Hd.rows() + i);
      check_close(got[at], want, magnitude);
      worst = std::max(worst, std::abs(static_cast<double>(got[at]) - ref[at]));
    }
  CHECK(worst > 0.0);   // the scores are the quantized model's, not the float one's
  CHECK(worst < 0.05);  // and close to it
  const std::size_t n = static_cast<std::size_t>(d.n_users + d.n_items), f = 8, items = static_cast<std::size_t>(d.n_items);
  CHECK(plain.model_bytes() == 4 * n * f + 4 * items);
  CHECK(q8.model_bytes() == n * f + 4 * n + 4 * items);  // int8 values, a float scale per row, b_i
  check_file_round_trip(q8, kBpr8, kBpr);
  check_file_round_trip(plain, kBpr, kBpr8);
}

TEST_CASE("ials quantize int8: scores and explanations are the dequantized fitted factors'", "[quantized]") {
  const TrainData d = synthetic_train_data();
  const std::map<std::string, ParamValue> kIals = {{"factors", std::int64_t{8}}, {"iterations", std::int64_t{5}},
                                                   {"alpha", 4.0}, {"reg", 0.1}};
  std::map<std::string, ParamValue> kIals8 = kIals;
  kIals8["quantize"] = std::string("int8");
  IalsRecommender plain = fitted_model<IalsRecommender>(d, kIals), q8 = fitted_model<IalsRecommender>(d, kIals8);
  const QuantizedFactors& qf = q8.quantized_factors();
  REQUIRE(qf.users.values() == QuantizedRows(plain.user_factors()).values());  // the same fit, quantized
  REQUIRE(qf.items.scales() == QuantizedRows(plain.item_factors()).scales());
  CHECK(q8.user_factors().size() == 0);  // the float factors are not kept
  CHECK(q8.item_factors().size() == 0);
  const RowMatrixF Xd = qf.users.dequantize(), Yd = qf.items.dequantize();
  const std::vector<float> got = all_scores(q8);
  for (Eigen::Index u = 0; u < Xd.rows(); ++u)
    for (Eigen::Index i = 0; i < Yd.rows(); ++i) {
      double want = 0.0, magnitude = 0.0;
      for (Eigen::Index k = 0; k < Xd.cols(); ++k) {
        want += static_cast<double>(Xd(u, k)) * Yd(i, k);
        magnitude += std::abs(static_cast<double>(Xd(u, k)) * Yd(i, k));
      }
      check_close(got[static_cast<std::size_t>(u * Yd.rows() + i)], want, magnitude);
    }
  const std::size_t n = static_cast<std::size_t>(d.n_users + d.n_items), f = 8;
  CHECK(plain.model_bytes() == 4 * n * f);
  CHECK(q8.model_bytes() == n * f + 4 * n);
  // explain: the float file's layout (X, Y, then the rows and titles) with
  // the dequantized X and Y, loaded as a float model, explains alike.
  const std::string file = saved(plain);
  const std::size_t matrices = 2 * 16 + 4 * n * f;
  std::ostringstream forged;
  ModelWriter w(forged);
  w.matrix(Xd);
  w.matrix(Yd);
  forged << file.substr(matrices);
  IalsRecommender reference(defaults_of<IalsRecommender>(kIals));
  std::istringstream in(forged.str());
  reference.load(in);
  check_explanations_match(q8, reference, 1e-12, 1e-15);
  check_file_round_trip(q8, kIals8, kIals);
  check_file_round_trip(plain, kIals, kIals8);
  // The fold-in re-solves float rows, which int8 does not keep.
  std::map<std::string, ParamValue> online = kIals8;
  online["online_updates"] = std::string("user");
  CHECK_THROWS_WITH(IalsRecommender(defaults_of<IalsRecommender>(online)),
                    Catch::Contains("online_updates") && Catch::Contains("quantize"));
}

TEST_CASE("sgd_mf quantize int8: ratings are the dequantized fitted factors', in a smaller model", "[quantized]") {
  const TrainData d = synthetic_train_data();
  SgdMfRecommender plain = fitted_model<SgdMfRecommender>(d, kSgd), q8 = fitted_model<SgdMfRecommender>(d, kSgd8);
  const QuantizedFactors& qf = q8.quantized_factors();
  REQUIRE(qf.users.values() == QuantizedRows(plain.user_factors()).values());
  REQUIRE(qf.items.scales() == QuantizedRows(plain.item_factors()).scales());
  CHECK(q8.user_factors().size() == 0);  // the float factors are not kept
  check_dequantized_ratings(q8);
  const std::size_t n = static_cast<std::size_t>(d.n_users + d.n_items), f = 8;
  CHECK(plain.model_bytes() == 4 * n * f + 4 * (n + 1));
  CHECK(q8.model_bytes() == n * f + 4 * n + 4 * (n + 1));  // int8 values, row scales, μ, b_u, b_i
  check_file_round_trip(q8, kSgd8, kSgd);
  check_file_round_trip(plain, kSgd, kSgd8);
}

}  // namespace recfuse::test
