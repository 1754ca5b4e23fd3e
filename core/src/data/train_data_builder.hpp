// Builds the SDK's TrainData (what plugins see) and the test matrix.
#pragma once

#include <vector>

#include "data/dataset.hpp"
#include "recfuse/train_data.hpp"

namespace recfuse {

/// users x items CSR from interactions; duplicates of a (user, item) pair are
/// merged keeping the latest (by timestamp, then position) value and timestamp.
CsrMatrix build_user_item_csr(const std::vector<Interaction>& interactions, std::int32_t n_users,
                              std::int32_t n_items);
/// Transpose (items x users), values and timestamps carried along.
CsrMatrix transpose(const CsrMatrix& m);

/// Training view of a split: by_user, by_item, time-ordered sequences (all
/// training interactions, duplicates kept, stable by timestamp then source
/// order), side features and the validation matrix.
TrainData build_train_data(const Dataset& data, const Split& split);

}  // namespace recfuse
