// UTF-8 repair of model output.
#include "core/data/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace reftune::data {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(ReplaceInvalidUtf8, KeepsValidText) {
  EXPECT_EQ(ReplaceInvalidUtf8("plain ascii"), "plain ascii");
  EXPECT_EQ(ReplaceInvalidUtf8("caf\xC3\xA9 \xE2\x82\xAC"), "caf\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(ReplaceInvalidUtf8(""), "");
}

TEST(ReplaceInvalidUtf8, ReplacesEachBadByte) {
  // A lone continuation byte, then the first two bytes of a three-byte sequence cut short.
  const std::string repaired = ReplaceInvalidUtf8("a\x80" "b\xE2\x82");
  EXPECT_EQ(repaired, "a" + kReplacement + "b" + kReplacement + kReplacement);
  EXPECT_FALSE(FindInvalidUtf8(repaired).has_value());
}

}  // namespace
}  // namespace reftune::data
