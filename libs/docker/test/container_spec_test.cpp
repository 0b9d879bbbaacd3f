// Recreate specs from a recorded inspect of a container with env, labels, a named volume, a restart
// policy, resource limits, DNS, extra hosts, capabilities, a log config and a healthcheck.
#include "dockmon/docker/container_spec.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace dockmon;
using namespace dockmon::docker;

namespace {

json::object load(const std::string& name) {
  std::ifstream in(std::string(DOCKMON_DOCKER_TEST_DATA) + "/update/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str()).as_object();
}

json::object image_with(json::object config) { return json::object{{"Config", std::move(config)}}; }

}  // namespace

TEST(recreate_spec, carries_what_the_user_set_and_leaves_image_defaults_to_the_new_image) {
  const auto container = load("container.json");
  const auto image = load("image.json");
  const auto new_image = image_with(json::object{{"Env", json::array{"PATH=/usr/bin:/bin", "VERSION=2"}}, {"Cmd", json::array{"/bin/sh"}}});
  const auto spec = recreate_spec_for(container, image, new_image, "127.0.0.1:5000/app:v2");
  const auto& b = spec.create_body;
  EXPECT_EQ(b.at("Image"), "127.0.0.1:5000/app:v2");
  // APP_MODE was given with -e; PATH came from the old image and must not pin the new one's.
  EXPECT_EQ(b.at("Env"), (json::array{"APP_MODE=prod"}));
  EXPECT_EQ(b.at("Cmd"), (json::array{"sleep", "100000"}));
  EXPECT_FALSE(b.contains("Entrypoint"));
  EXPECT_EQ(b.at("WorkingDir"), "/data");
  EXPECT_EQ(b.at("User"), "0:0");
  EXPECT_EQ(b.at("Hostname"), "apphost");
  EXPECT_EQ(b.at("Labels"), (json::object{{"team", "web"}}));
  EXPECT_EQ(b.at("Healthcheck").at("Test"), (json::array{"CMD-SHELL", "test -f /bin/sh"}));
  const auto& hc = b.at("HostConfig").as_object();
  EXPECT_EQ(hc.at("Binds"), (json::array{"rec-data:/data"}));
  EXPECT_EQ(hc.at("RestartPolicy").at("Name"), "unless-stopped");
  EXPECT_EQ(hc.at("Memory").as_int64(), 64 * 1024 * 1024);
  EXPECT_EQ(hc.at("NanoCpus").as_int64(), 500000000);
  EXPECT_EQ(hc.at("Dns"), (json::array{"10.0.0.2"}));
  EXPECT_EQ(hc.at("ExtraHosts"), (json::array{"db.local:10.0.0.3"}));
  EXPECT_EQ(hc.at("CapAdd"), (json::array{"CAP_NET_ADMIN"}));
  EXPECT_EQ(hc.at("CapDrop"), (json::array{"CAP_MKNOD"}));
  EXPECT_EQ(hc.at("LogConfig").at("Config").at("max-size"), "1m");
  EXPECT_EQ(hc.at("NetworkMode"), "none");
  EXPECT_FALSE(b.contains("NetworkingConfig")) << "network mode none has no endpoint to configure";
  EXPECT_TRUE(spec.extra_networks.empty());
  ASSERT_TRUE(spec.healthcheck);
  EXPECT_EQ(spec.healthcheck->at("Interval").as_int64(), 2000000000);
}

TEST(recreate_spec, image_healthcheck_and_default_hostname_come_from_the_new_image) {
  auto container = load("container.json");
  auto& config = container.at("Config").as_object();
  const std::string short_id = std::string(container.at("Id").as_string()).substr(0, 12);
  config["Hostname"] = short_id;
  json::object old_health{{"Test", json::array{"CMD", "old-check"}}};
  config["Healthcheck"] = old_health;
  json::object image_config = load("image.json").at("Config").as_object();
  image_config["Healthcheck"] = old_health;
  json::object new_health{{"Test", json::array{"CMD", "new-check"}}};
  const auto spec = recreate_spec_for(container, image_with(image_config), image_with(json::object{{"Healthcheck", new_health}}), "app:v2");
  EXPECT_FALSE(spec.create_body.contains("Hostname"));
  EXPECT_FALSE(spec.create_body.contains("Healthcheck"));
  ASSERT_TRUE(spec.healthcheck);
  EXPECT_EQ(spec.healthcheck->at("Test"), (json::array{"CMD", "new-check"}));

  // "NONE" switches an image's healthcheck off: then the update waits for a settled run instead.
  config["Healthcheck"] = json::object{{"Test", json::array{"NONE"}}};
  EXPECT_FALSE(recreate_spec_for(container, image_with(image_config), image_with(json::object{{"Healthcheck", new_health}}), "app:v2").healthcheck);
}

TEST(recreate_spec, anonymous_volumes_are_mounted_by_name_and_networks_keep_their_aliases) {
  auto container = load("container.json");
  container.at("Mounts").as_array().push_back(json::object{
      {"Type", "volume"}, {"Name", "4f1e0c"}, {"Destination", "/cache"}, {"RW", false}});
  container.at("Mounts").as_array().push_back(json::object{{"Type", "bind"}, {"Source", "/srv"}, {"Destination", "/srv"}});
  const std::string short_id = std::string(container.at("Id").as_string()).substr(0, 12);
  container.at("HostConfig").as_object()["NetworkMode"] = "front";
  json::object front{{"Aliases", json::array{"web", short_id}}, {"IPAMConfig", json::object{{"IPv4Address", "10.1.0.5"}}}};
  json::object back{{"Aliases", json::array{short_id}}};
  container.at("NetworkSettings").as_object()["Networks"] = json::object{{"front", front}, {"back", back}};
  const auto spec = recreate_spec_for(container, load("image.json"), load("image.json"), "app:v2");
  EXPECT_EQ(spec.create_body.at("HostConfig").at("Binds"), (json::array{"rec-data:/data", "4f1e0c:/cache:ro"}));
  const auto& endpoints = spec.create_body.at("NetworkingConfig").at("EndpointsConfig").as_object();
  ASSERT_TRUE(endpoints.contains("front"));
  EXPECT_EQ(endpoints.at("front").at("Aliases"), (json::array{"web"}));
  EXPECT_EQ(endpoints.at("front").at("IPAMConfig").at("IPv4Address"), "10.1.0.5");
  ASSERT_EQ(spec.extra_networks.size(), 1u);
  EXPECT_EQ(spec.extra_networks[0].first, "back");
  EXPECT_FALSE(spec.extra_networks[0].second.contains("Aliases"));
}

TEST(image_ref, splits_repository_and_tag) {
  auto r = parse_image_ref("127.0.0.1:5000/team/app:v2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->repository, "127.0.0.1:5000/team/app");
  EXPECT_EQ(r->tag, "v2");
  EXPECT_EQ(parse_image_ref("127.0.0.1:5000/app")->tag, "latest");
  EXPECT_EQ(parse_image_ref("busybox")->tag, "latest");
  EXPECT_EQ(parse_image_ref("app@sha256:abc")->tag, "@sha256:abc");
  for (const char* bad : {"", "app:v2; rm -rf /", "app?x=1", "/app", "app/", "a b", "app:"}) {
    EXPECT_FALSE(parse_image_ref(bad)) << bad;
  }
}

TEST(pull_event, reads_layer_progress_and_errors) {
  auto e = parse_pull_event(json::parse(R"({"status":"Downloading","progressDetail":{"current":512,"total":2048},"id":"a1b2"})").as_object());
  EXPECT_EQ(e.layer, "a1b2");
  EXPECT_EQ(e.status, "Downloading");
  EXPECT_EQ(e.current, 512u);
  EXPECT_EQ(e.total, 2048u);
  EXPECT_TRUE(e.error.empty());
  auto failed = parse_pull_event(json::parse(R"({"errorDetail":{"message":"manifest unknown"},"error":"manifest for app:v9 not found"})").as_object());
  EXPECT_EQ(failed.error, "manifest for app:v9 not found");
}
