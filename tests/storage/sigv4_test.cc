// SigV4 against the worked examples of AWS's S3 documentation ("Signature Calculations for
// the Authorization Header: Transferring Payload in a Single Chunk"): same credentials, date,
// requests and expected signatures.
#include "storage/sigv4.h"

#include <gtest/gtest.h>

namespace skald::storage::sigv4 {
namespace {

const Credentials kCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view kDate = "20130524T000000Z";
constexpr std::string_view kHost = "examplebucket.s3.amazonaws.com";

std::string SignatureOf(const std::string& auth) { return auth.substr(auth.rfind('=') + 1); }

TEST(Sigv4Test, GetObjectWithRange) {
  Request r;
  r.method = "GET";
  r.canonical_uri = "/test.txt";
  r.payload_sha256 = std::string(kEmptyPayloadSha256);
  r.headers = {{"Host", std::string(kHost)},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", r.payload_sha256},
               {"x-amz-date", std::string(kDate)}};
  EXPECT_EQ(Authorization(kCreds, "us-east-1", "s3", kDate, r),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(Sigv4Test, PutObjectWithSignedPayload) {
  const std::string body = "Welcome to Amazon S3.";
  Request r;
  r.method = "PUT";
  r.canonical_uri = "/" + UriEncode("test$file.text", true);
  EXPECT_EQ(r.canonical_uri, "/test%24file.text");
  r.payload_sha256 = Sha256Hex(body);
  EXPECT_EQ(r.payload_sha256, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  r.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"Host", std::string(kHost)},
               {"x-amz-date", std::string(kDate)},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", r.payload_sha256}};
  const std::string auth = Authorization(kCreds, "us-east-1", "s3", kDate, r);
  EXPECT_NE(auth.find("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
                      "x-amz-storage-class,"),
            std::string::npos)
      << auth;
  EXPECT_EQ(SignatureOf(auth), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(Sigv4Test, GetBucketLifecycleSubresource) {
  Request r;
  r.method = "GET";
  r.canonical_uri = "/";
  r.query = {{"lifecycle", ""}};
  r.payload_sha256 = std::string(kEmptyPayloadSha256);
  r.headers = {{"Host", std::string(kHost)},
               {"x-amz-date", std::string(kDate)},
               {"x-amz-content-sha256", r.payload_sha256}};
  EXPECT_EQ(CanonicalQuery(r.query), "lifecycle=");
  EXPECT_EQ(SignatureOf(Authorization(kCreds, "us-east-1", "s3", kDate, r)),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(Sigv4Test, ListObjectsQuerySorted) {
  Request r;
  r.method = "GET";
  r.canonical_uri = "/";
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};
  r.payload_sha256 = std::string(kEmptyPayloadSha256);
  r.headers = {{"Host", std::string(kHost)},
               {"x-amz-date", std::string(kDate)},
               {"x-amz-content-sha256", r.payload_sha256}};
  EXPECT_EQ(CanonicalQuery(r.query), "max-keys=2&prefix=J");
  EXPECT_EQ(SignatureOf(Authorization(kCreds, "us-east-1", "s3", kDate, r)),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(Sigv4Test, CanonicalHeadersTrimAndJoinRepeats) {
  Request r;
  r.method = "GET";
  r.canonical_uri = "";
  r.payload_sha256 = "UNSIGNED-PAYLOAD";
  r.headers = {{"X-Amz-Meta-A", "  two   words "}, {"host", "h"}, {"x-amz-meta-a", "b"}};
  EXPECT_EQ(CanonicalRequest(r),
            "GET\n/\n\nhost:h\nx-amz-meta-a:two words,b\n\nhost;x-amz-meta-a\nUNSIGNED-PAYLOAD");
}

TEST(Sigv4Test, EncodingAndHashes) {
  EXPECT_EQ(UriEncode("a b/c~d+e=f&é", true), "a%20b/c~d%2Be%3Df%26%C3%A9");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(Sha256Hex(""), kEmptyPayloadSha256);
  EXPECT_EQ(Sha256Hex(std::vector<std::string_view>{"Welcome ", "to Amazon S3."}),
            Sha256Hex("Welcome to Amazon S3."));
  EXPECT_EQ(Md5Base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  // RFC 4231 test case 2.
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
}

}  // namespace
}  // namespace skald::storage::sigv4
