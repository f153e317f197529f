// TempDir: a fresh, empty directory for one test, removed with everything in it
// when the object goes away. The one temp-dir helper of the test kit.
#pragma once

#include <string>

namespace skald::testing {

class TempDir {
 public:
  // Creates <gtest temp dir>/skald-<prefix>-XXXXXX (gtest's TempDir honours
  // TEST_TMPDIR and TMPDIR). A failure to create it fails the current test.
  explicit TempDir(const std::string& prefix = "test");
  // Removes the directory recursively; errors are ignored.
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace skald::testing
