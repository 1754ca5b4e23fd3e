// Privacy accounting of fed_mf's noisy rounds by Rényi differential privacy
// (Mironov, "Rényi Differential Privacy", CSF 2017).
//
//   const double eps = gaussian_rdp_epsilon(/*sigma=*/1.0, /*rounds=*/10, /*delta=*/1e-5);  // 20.17
//
// Each round releases the sum of clipped client contributions (L2 norm ≤ C
// each, so a user added or removed moves the sum by at most C) plus
// N(0, σ²C²) noise: the Gaussian mechanism, (α, α/(2σ²))-RDP for every
// α > 1 (Mironov Prop. 7). T adaptive rounds compose additively (Prop. 1) to
// T·α/(2σ²), and RDP (α, ρ) implies (ρ + log(1/δ)/(α − 1), δ)-DP (Prop. 3).
// The minimum over α of a·α + b/(α − 1), a = T/(2σ²), b = log(1/δ), is at
// α* = 1 + √(b/a), where it equals a + 2√(ab): computed in closed form, no
// α grid (a grid, as Opacus uses, can only give a larger ε).
//
// Sampling: fed_mf samples clients by independent coin flips (Poisson) with
// rate q. Privacy amplification by subsampling would lower ε for q < 1, but
// its RDP bound (Mironov, Talwar & Zhang 2019) is not implemented here, so
// the ε reported is the full-participation bound, valid for every q (a
// Poisson-subsampled mechanism is a mixture that is never further from its
// neighbour than the unsampled one: Rényi divergence is jointly
// quasi-convex, van Erven & Harremoës 2014, Thm. 13). It is conservative:
// the true ε for q < 1 is smaller.
//
// The guarantee is user-level under add/remove-one-user neighbours (a user's
// whole history present or absent, not one interaction; replacing one
// user's history by another's moves the sum by up to 2C, for which the same
// σ gives a larger ε, about 18 instead of 8 at σ 4.36, T 40, δ 1e-5). It
// covers what the server releases, the item factors of every round, and not
// the harness's own figures: the fit log's per-round count of clipped
// clients and diagnostics.clipped_fraction are exact counts that one user
// can move by one. It assumes the server adds the noise honestly to the sum
// (a trusted aggregator or secure aggregation), as in DP-FedAvg (McMahan,
// Ramage, Talwar & Zhang, ICLR 2018). It does not hide a single client's
// message from a server that reads it: a client's FCF gradient is
// (2·Y·x_u + d_u)·x_uᵀ with d_u nonzero exactly on its items, so a server
// that knows Y can subtract the dense part and read off what u interacted
// with (FCF's own privacy is that raw data stays on the device, no more).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace recfuse {

/// ε of `rounds` compositions of the Gaussian mechanism with noise
/// multiplier `sigma` (noise std / L2 sensitivity), at `delta` in (0, 1):
/// min over α > 1 of rounds·α/(2σ²) + log(1/δ)/(α − 1). +inf when sigma is 0
/// (no noise: no finite guarantee); 0 when rounds is 0 (nothing released).
inline double gaussian_rdp_epsilon(double sigma, std::int64_t rounds, double delta) {
  if (rounds <= 0) return 0.0;
  if (!(sigma > 0.0)) return std::numeric_limits<double>::infinity();
  const double a = static_cast<double>(rounds) / (2.0 * sigma * sigma);
  const double b = std::log(1.0 / delta);
  return a + 2.0 * std::sqrt(a * b);
}

}  // namespace recfuse
