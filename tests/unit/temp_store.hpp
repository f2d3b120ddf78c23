// Store tests' scaffolding: a fresh directory under /tmp per test (removed
// afterwards) and a store opened in it.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "ecmgw/store/store.hpp"

namespace ecmgw::test {

class TempDir {
  public:
    TempDir() {
        std::string pattern = "/tmp/ecmgw-test-XXXXXX";
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::filesystem::path db() const { return path_ / "ecmgw.db"; }

  private:
    std::filesystem::path path_;
};

inline std::unique_ptr<store::Store> open_store(const std::filesystem::path& path) {
    auto opened = store::Store::open(path);
    INFO((opened ? std::string() : opened.error().message));
    REQUIRE(opened.has_value());
    return std::move(*opened);
}

}  // namespace ecmgw::test
