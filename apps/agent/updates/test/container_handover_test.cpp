// Container mode's self-update: what it accepts, and how the agent finds its own container.
#include "updates/container_handover.hpp"

#include <gtest/gtest.h>

using namespace dockmon;
using namespace dockmon::agent;

namespace {

const std::string digest(64, 'a');

json::object payload(std::string image) {
  return json::object{{"version", "0.2.0"}, {"image", std::move(image)}, {"checksum", "sha256:" + digest},
                      {"signature", std::string(86, 'A') + "=="}};
}

}  // namespace

TEST(container_handover, an_image_pinned_by_digest_is_accepted_and_pulled_by_that_digest) {
  auto parsed = parse_image_update_payload(payload("127.0.0.1:5000/dockmon-agent@sha256:" + digest));
  ASSERT_TRUE(parsed.request) << parsed.error;
  EXPECT_EQ(parsed.request->image.repository, "127.0.0.1:5000/dockmon-agent");
  EXPECT_EQ(parsed.request->image.tag, "sha256:" + digest);
  EXPECT_EQ(parsed.request->digest, digest);
}

TEST(container_handover, a_tag_a_short_digest_or_another_checksum_is_refused) {
  const std::vector<std::string> refused{"127.0.0.1:5000/dockmon-agent:v2", "127.0.0.1:5000/dockmon-agent:v2@sha256:" + digest,
                                         "127.0.0.1:5000/dockmon-agent@sha256:abc", "dockmon-agent@sha256:" + std::string(64, 'G'),
                                         ""};
  for (const auto& image : refused) {
    EXPECT_FALSE(parse_image_update_payload(payload(image)).request) << image;
  }
  auto other = payload("dockmon-agent@sha256:" + digest);
  other["checksum"] = "sha256:" + std::string(64, 'b');
  EXPECT_EQ(parse_image_update_payload(other).error, "checksum does not match the image's digest");
  auto unsigned_one = payload("dockmon-agent@sha256:" + digest);
  unsigned_one.erase("signature");
  EXPECT_FALSE(parse_image_update_payload(unsigned_one).request);
  auto bad_version = payload("dockmon-agent@sha256:" + digest);
  bad_version["version"] = "0.2.0; rm -rf /";
  EXPECT_FALSE(parse_image_update_payload(bad_version).request);
}

TEST(container_handover, only_the_operators_signature_over_this_digest_version_and_arch_verifies) {
  auto key = signing::secret_key::generate();
  auto p = payload("dockmon-agent@sha256:" + digest);
  p["signature"] = key.sign(signing::image_statement("0.2.0", "amd64", digest));
  auto parsed = parse_image_update_payload(p);
  ASSERT_TRUE(parsed.request) << parsed.error;
  EXPECT_EQ(verify_image(*parsed.request, key.public_part(), "amd64"), "");
  EXPECT_NE(verify_image(*parsed.request, key.public_part(), "arm64"), "");
  EXPECT_NE(verify_image(*parsed.request, signing::secret_key::generate().public_part(), "amd64"), "");
  p["signature"] = key.sign(signing::build_statement("0.2.0", "amd64", digest));
  EXPECT_NE(verify_image(*parse_image_update_payload(p).request, key.public_part(), "amd64"), "")
      << "a binary's signature does not pass for an image";
}

TEST(container_handover, the_own_container_id_comes_from_dockers_bind_mounts) {
  const std::string id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  const std::string mountinfo =
      "600 500 0:52 / / rw,relatime - overlay overlay rw\n"
      "610 600 8:1 /var/lib/docker/containers/" + id + "/resolv.conf /etc/resolv.conf rw - ext4 /dev/sda1 rw\n"
      "611 600 8:1 /var/lib/docker/containers/" + id + "/hostname /etc/hostname rw - ext4 /dev/sda1 rw\n";
  EXPECT_EQ(container_id_from_mountinfo(mountinfo), id);
  EXPECT_EQ(container_id_from_mountinfo("600 500 0:52 / / rw - ext4 /dev/sda1 rw\n"), std::nullopt);
  EXPECT_EQ(container_id_from_mountinfo("1 2 8:1 /srv/containers/" + id + "/data /data rw - ext4 /dev/sda1 rw\n"), std::nullopt)
      << "only Docker's own files name the container";
}

TEST(container_handover, the_data_folder_must_be_on_a_mount_for_the_copy_to_share_it) {
  auto inspect = json::parse(R"({"Mounts":[{"Type":"volume","Destination":"/data"},{"Destination":"/var/run/docker.sock"}]})")
                     .as_object();
  EXPECT_TRUE(on_a_mount(inspect, "/data"));
  EXPECT_TRUE(on_a_mount(inspect, "/data/agent"));
  EXPECT_FALSE(on_a_mount(inspect, "/database"));
  EXPECT_FALSE(on_a_mount(inspect, "/"));
  EXPECT_FALSE(on_a_mount(json::object(), "/data"));
}
