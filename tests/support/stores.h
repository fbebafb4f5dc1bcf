// Test support: a test run once per store, "memory", "sqlite" (a file in a fresh folder)
// and "postgres" (a fresh database on the test server, support/postgres.h):
//
//   class MyStores : public caviar::testing::EveryStore {};
//   TEST_P(MyStores, Something) { ... storage_ ... }
//   INSTANTIATE_TEST_SUITE_P(Stores, MyStores, ::testing::Values("memory", "sqlite", "postgres"));
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "caviar/storage.h"
#include "support/files.h"
#include "support/postgres.h"

namespace caviar::testing {

class EveryStore : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      ASSERT_TRUE(postgres_available());
      database_.emplace();
      url_ = database_->url();
    } else {
      url_ = GetParam() == "memory" ? "memory" : "sqlite:///" + (tmp_.path() / "s.db").string();
    }
    storage_ = open_storage(url_);
  }

  TempDir tmp_;
  std::optional<PostgresDatabase> database_;
  std::string url_;                    // the store's URL
  std::shared_ptr<Storage> storage_;   // open on it
};

}  // namespace caviar::testing
