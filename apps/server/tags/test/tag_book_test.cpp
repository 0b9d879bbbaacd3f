// Tag checks, and what a rule's scope sees of a host and a container.
#include "tags/tag_book.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::server;

TEST(tag_book, a_request_s_tags_are_checked_deduplicated_and_sorted) {
  auto ok = parse_tags(json::parse(R"({"tags":["prod","eu","prod","team-a/x:1"]})").as_object());
  ASSERT_TRUE(std::holds_alternative<std::vector<std::string>>(ok));
  EXPECT_EQ(std::get<std::vector<std::string>>(ok), (std::vector<std::string>{"eu", "prod", "team-a/x:1"}));
  for (const char* bad : {R"({"tags":"prod"})", R"({})", R"({"tags":[""]})", R"({"tags":["has space"]})", R"({"tags":["<b>"]})",
                          R"({"tags":[1]})", R"({"tags":["0123456789012345678901234567890123"]})"})
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_tags(json::parse(bad).as_object()))) << bad;
  json::array many;
  for (int i = 0; i < 21; ++i) many.emplace_back("t" + std::to_string(i));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_tags(json::object{{"tags", many}})));
}

TEST(tag_book, a_container_is_seen_with_its_host_s_tags_its_own_and_its_compose_project) {
  tag_book book;
  book.load({{"h1", "", "prod"}, {"h1", "web", "frontend"}, {"h2", "", "lab"}});
  const std::map<std::string, std::string> labels{{"com.docker.compose.project", "shop"}};
  EXPECT_EQ(book.all_for("h1", "web", labels), (std::vector<std::string>{"prod", "frontend", "shop"}));
  EXPECT_EQ(book.all_for("h1", "", labels), (std::vector<std::string>{"prod"})) << "a host has no labels of its own";
  EXPECT_EQ(book.all_for("h2", "web", {}), (std::vector<std::string>{"lab"}));
  book.set("h1", "web", {});
  EXPECT_TRUE(book.of("h1", "web").empty());
  EXPECT_EQ(book.from_label(std::map<std::string, std::string>{{"com.docker.compose.project", "not a tag!"}}), "");
  tag_book none("");
  EXPECT_EQ(none.from_label(labels), "") << "no label key: no tag from labels";
}
