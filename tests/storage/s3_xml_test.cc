#include "storage/s3_xml.h"
#include "core/markup_escape.h"

#include <gtest/gtest.h>

namespace skald::storage::s3xml {
namespace {

TEST(S3XmlTest, ParsesAListPage) {
  auto page = ParseListPage(
      "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true</IsTruncated>"
      "<Contents><Key>a&amp;b</Key><Size>1</Size></Contents><Contents><Size>2</Size></Contents>"
      "<Contents><Key>&#xE9;&#233;&lt;&gt;&quot;&apos;</Key></Contents>"
      "<NextContinuationToken>t/+=</NextContinuationToken></ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->keys, (std::vector<std::string>{"a&b", "\xC3\xA9\xC3\xA9<>\"'"}));
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "t/+=");
  EXPECT_EQ(ParseListPage("<Error><Code>AccessDenied</Code></Error>").status().code(),
            StatusCode::kCorruption);
  auto last =
      ParseListPage("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->keys.empty());
  EXPECT_FALSE(last->truncated);
}

TEST(S3XmlTest, MalformedReferencesStayText) {
  std::string out;
  DecodeEntities("&#x;&#;&bogus;&#12a;&#x110000;&#99999999999;tail&", &out);
  EXPECT_EQ(out, "&#x;&#;&bogus;&#12a;\xEF\xBF\xBD\xEF\xBF\xBDtail&");
}

TEST(S3XmlTest, EscapeThenDecodeIsIdentity) {
  const std::string s("k<&>\"'\x01\t\n\x7f\xff/\xC3\xA9", 14);
  std::string esc;
  AppendXmlEscaped(&esc, s);
  EXPECT_EQ(esc, "k&lt;&amp;&gt;&quot;&apos;&#1;\t\n\x7f\xff/\xC3\xA9");
  std::string back;
  DecodeEntities(esc, &back);
  EXPECT_EQ(back, s);
}

}  // namespace
}  // namespace skald::storage::s3xml
