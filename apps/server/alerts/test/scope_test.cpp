// Which containers and hosts a rule watches.
#include "alerts/scope.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace dockmon::server::alerts;

TEST(scope, glob_patterns_match_whole_names) {
  EXPECT_TRUE(glob_match("web-*", "web-1"));
  EXPECT_TRUE(glob_match("*db*", "main-db-replica"));
  EXPECT_TRUE(glob_match("app-?", "app-3"));
  EXPECT_FALSE(glob_match("app-?", "app-10"));
  EXPECT_FALSE(glob_match("web", "web-1")) << "a pattern without * names one container";
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("a*b*c", "aXbXd"));
}

TEST(scope, a_hostile_pattern_is_answered) {
  // With backtracking this would not end in a lifetime (the test would time out); the two-pointer match
  // answers at once.
  const std::string text(5000, 'a');
  const std::string pattern = std::string(40, '*') + "a*a*a*a*a*a*a*a*a*a*b";
  EXPECT_FALSE(glob_match(pattern, text));
  EXPECT_TRUE(glob_match(pattern.substr(0, pattern.size() - 2), text));
}

TEST(scope, hosts_names_labels_and_tags_must_all_match) {
  target web{"h1", "web-1", {{"com.docker.compose.project", "shop"}, {"tier", "front"}}, {"prod"}};
  EXPECT_TRUE(scope{}.matches(web)) << "an empty scope is everything";
  EXPECT_TRUE((scope{{"h1", "h2"}, "web-*", "tier=front", "prod"}.matches(web)));
  EXPECT_FALSE((scope{{"h2"}, "", "", ""}.matches(web)));
  EXPECT_FALSE((scope{{}, "db-*", "", ""}.matches(web)));
  EXPECT_TRUE((scope{{}, "", "tier", ""}.matches(web))) << "a key alone asks only that the label be there";
  EXPECT_FALSE((scope{{}, "", "tier=back", ""}.matches(web)));
  EXPECT_FALSE((scope{{}, "", "owner", ""}.matches(web)));
  EXPECT_FALSE((scope{{}, "", "", "staging"}.matches(web)));
}
