// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A temporary directory of small files, removed with the object: for tests
// of settings that name files (certificates, keys).
#ifndef DBPOOL_TESTS_SUPPORT_TEMP_FILES_H_
#define DBPOOL_TESTS_SUPPORT_TEMP_FILES_H_

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace dbpool {
namespace testing {

class TempFiles {
 public:
  TempFiles() {
    char pattern[] = "/tmp/dbpool_test_files.XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    dir_ = pattern;
  }
  ~TempFiles() {
    for (const std::string& path : files_) std::remove(path.c_str());
    ::rmdir(dir_.c_str());
  }
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;

  // Writes `contents` to the file `name` in the directory; returns its path.
  std::string Add(const std::string& name, const std::string& contents = "test\n") {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << contents;
    files_.push_back(path);
    return path;
  }

  // A path in the directory that does not exist.
  std::string Missing(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
  std::vector<std::string> files_;
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_TEMP_FILES_H_
