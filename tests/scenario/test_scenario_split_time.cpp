// A time-based split on a dataset whose format and keys say it has no time
// order is refused at [split.method] when the scenario loads, instead of
// failing inside every trial (data/time_order.hpp decides what each format
// carries; data/splits.cpp still checks the data itself).
#include <catch2/catch.hpp>

#include "scenario_test_support.hpp"

using namespace recfuse;
using namespace recfuse::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

std::string dataset(const std::string& format, const std::string& extra = "") {
  return "[dataset]\nformat = \"" + format + "\"\npath = \"x\"\n" + extra;
}

}  // namespace

TEST_CASE("scenario: a time-based split on a format without timestamps is refused at its key",
          "[scenario]") {
  for (const char* method : {"leave_last_one_out", "temporal_user", "temporal_global"}) {
    INFO(method);
    REQUIRE_THROWS_WITH(
        parse(with_algo(dataset("implicit-train-test") + "[split]\nmethod = \"" + method + "\"")),
        StartsWith("s.toml:6:10: [split.method] \"" + std::string(method) +
                   "\" orders interactions by time, but dataset.format \"implicit-train-test\" has no "
                   "timestamps and does not list each user's rows in time order") &&
            Contains("'random'"));
  }
  // delimited without a timestamp column (the default -1), but not with one.
  REQUIRE_THROWS_WITH(parse(with_algo(dataset("delimited") + "[split]\nmethod = \"temporal_user\"")),
                      StartsWith("s.toml:6:10: [split.method] \"temporal_user\" orders interactions by "
                                 "time, but dataset.format \"delimited\" without a delimited.timestamp "
                                 "column has no timestamps"));
  CHECK_NOTHROW(parse(with_algo(dataset("delimited", "[dataset.delimited]\ntimestamp = 3\n") +
                                "[split]\nmethod = \"temporal_global\"")));
  // Sequence files list each user's items oldest first: per-user methods
  // run, the global one does not.
  REQUIRE_THROWS_WITH(parse(with_algo(dataset("sequence") + "[split]\nmethod = \"temporal_global\"")),
                      StartsWith("s.toml:6:10: [split.method] \"temporal_global\" orders interactions by "
                                 "time, but dataset.format \"sequence\" has no timestamps (its rows are "
                                 "in time order within a user only)"));
  CHECK_NOTHROW(parse(with_algo(dataset("sequence-pairs") + "[split]\nmethod = \"leave_last_one_out\"")));
  CHECK_NOTHROW(parse(with_algo(dataset("sequence") + "[split]\nmethod = \"temporal_user\"")));
  // The default method is leave_last_one_out: without [split], at the format.
  REQUIRE_THROWS_WITH(parse(with_algo(dataset("implicit-train-test"))),
                      StartsWith("s.toml:3:10: [dataset.format] the default split method "
                                 "\"leave_last_one_out\" orders interactions by time"));
  // Formats with timestamps, RecBole (only its header tells), the methods
  // that do not read time, and runs without the offline protocol pass.
  CHECK_NOTHROW(parse(with_algo(dataset("ml-100k") + "[split]\nmethod = \"temporal_global\"")));
  CHECK_NOTHROW(parse(with_algo("[split]\nmethod = \"temporal_global\"")));  // synthetic
  CHECK_NOTHROW(parse(with_algo(dataset("recbole") + "[split]\nmethod = \"temporal_global\"")));
  CHECK_NOTHROW(parse(with_algo(dataset("implicit-train-test") + "[split]\nmethod = \"random\"")));
  CHECK_NOTHROW(parse(with_algo(dataset("implicit-train-test") + "[split]\nmethod = \"kfold\"")));
  CHECK_NOTHROW(parse(with_algo("protocols = [\"online\"]\n" + dataset("implicit-train-test") +
                                "[environment]\nplugin = \"e\"")));
  // (where a [split] is refused as a whole: test_split_keys.cpp)
  REQUIRE_THROWS_WITH(parse(with_algo("protocols = [\"online\"]\n" + dataset("implicit-train-test") +
                                      "[split]\nmethod = \"temporal_user\"\n[environment]\nplugin = \"e\"")),
                      StartsWith("s.toml:6:1: [split] is read only by the offline protocol"));
}
