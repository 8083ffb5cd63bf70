#include "hub/ui_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace hubspoke::hub {
namespace {

class UiFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string root = std::string(HUBSPOKE_BINARY_DIR) + "/tmp";
    std::filesystem::create_directories(root);
    std::string tmpl = root + "/ui-files-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ + "/ui/assets");
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void Write(const std::string& relative, const std::string& text) {
    std::ofstream(dir_ + "/" + relative) << text;
  }

  std::string dir_;
};

TEST_F(UiFilesTest, PagesAnswerIndexOnceBuilt) {
  UiFiles ui(dir_ + "/ui");
  EXPECT_FALSE(ui.Built());
  EXPECT_FALSE(ui.Resolve("/").has_value());
  EXPECT_TRUE(UiFiles::IsPage("/workflows/default/hello-x7k2p"));
  EXPECT_FALSE(UiFiles::IsPage("/workflowsx"));

  Write("ui/index.html", "<html></html>");
  EXPECT_TRUE(ui.Built());
  for (const char* page : {"/", "/login", "/spokes", "/submit", "/workflows", "/workflows/default",
                           "/workflows/default/hello-x7k2p"}) {
    auto file = ui.Resolve(page);
    ASSERT_TRUE(file.has_value()) << page;
    EXPECT_EQ(file->path, dir_ + "/ui/index.html");
    EXPECT_EQ(file->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(file->cache_control, "no-cache");
  }
}

TEST_F(UiFilesTest, HashedAssetsAreImmutableOtherFilesAreNot) {
  Write("ui/index.html", "<html></html>");
  Write("ui/assets/index-3f2a.js", "x");
  Write("ui/assets/index-9c1b.css", "x");
  Write("ui/favicon.svg", "<svg/>");
  UiFiles ui(dir_ + "/ui");

  auto js = ui.Resolve("/assets/index-3f2a.js");
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js->cache_control, "public, max-age=31536000, immutable");
  EXPECT_EQ(ui.Resolve("/assets/index-9c1b.css")->content_type, "text/css; charset=utf-8");

  auto icon = ui.Resolve("/favicon.svg");
  ASSERT_TRUE(icon.has_value());
  EXPECT_EQ(icon->content_type, "image/svg+xml");
  EXPECT_EQ(icon->cache_control, "no-cache");

  EXPECT_FALSE(ui.Resolve("/assets/missing.js").has_value());
  EXPECT_FALSE(ui.Resolve("/assets").has_value());  // a directory
}

TEST_F(UiFilesTest, RefusesPathsThatLeaveTheDirectory) {
  Write("secret.txt", "not for the browser");
  Write("ui/index.html", "<html></html>");
  UiFiles ui(dir_ + "/ui");
  for (const char* path : {"/../secret.txt", "/assets/../../secret.txt", "/./index.html",
                           "/assets//index.html", "relative", ""}) {
    EXPECT_FALSE(ui.Resolve(path).has_value()) << path;
  }
}

TEST_F(UiFilesTest, NoDirectoryMeansNotBuilt) {
  UiFiles ui("");
  EXPECT_FALSE(ui.Built());
  EXPECT_FALSE(ui.Resolve("/").has_value());
  EXPECT_FALSE(ui.Resolve("/index.html").has_value());
}

}  // namespace
}  // namespace hubspoke::hub
