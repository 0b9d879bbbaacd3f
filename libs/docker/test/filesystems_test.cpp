// The mount table filter on a recorded table, and the sample on this machine's own mounts.
#include "dockmon/docker/filesystems.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include <sys/statvfs.h>

namespace {

using namespace dockmon::docker;

// A host with an ext4 root, a data disk mounted twice (once bound into a container), an NFS share, a
// mount point with a space in it, and the usual pseudo filesystems and Docker layers.
constexpr const char* table =
    "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
    "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
    "udev /dev devtmpfs rw,nosuid,relatime 0 0\n"
    "/dev/sda1 / ext4 rw,relatime 0 0\n"
    "tmpfs /run tmpfs rw,nosuid,nodev 0 0\n"
    "/dev/sda1 /run/foo ext4 rw,relatime 0 0\n"
    "/dev/sdb1 /srv/data xfs rw,relatime 0 0\n"
    "/dev/sdb1 /var/lib/docker/volumes/x/_data xfs rw,relatime 0 0\n"
    "/dev/sdb1 /mnt/again xfs rw,relatime 0 0\n"
    "overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0\n"
    "nas:/export /mnt/nas nfs4 rw,relatime 0 0\n"
    "/dev/sdc1 /media/usb\\040disk vfat rw 0 0\n"
    "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n"
    "garbage\n"
    "\n";

TEST(filesystems_test, reports_real_filesystems_once_each) {
  const auto mounts = reported_mounts(table);
  ASSERT_EQ(mounts.size(), 4u);
  EXPECT_EQ(mounts[0].mount_point, "/");
  EXPECT_EQ(mounts[0].device, "/dev/sda1");
  EXPECT_EQ(mounts[1].mount_point, "/srv/data");
  EXPECT_EQ(mounts[1].fs_type, "xfs");
  EXPECT_EQ(mounts[2].mount_point, "/mnt/nas");
  EXPECT_EQ(mounts[3].mount_point, "/media/usb disk");
}

TEST(filesystems_test, caps_the_number_of_filesystems) {
  std::string many;
  for (int i = 0; i < 100; ++i) many += "/dev/d" + std::to_string(i) + " /m" + std::to_string(i) + " ext4 rw 0 0\n";
  EXPECT_EQ(reported_mounts(many).size(), max_filesystems);
}

TEST(filesystems_test, a_sample_of_this_machine_has_its_root_as_df_counts_it) {
  const auto use = sample_filesystems("/proc");
  auto root = std::find_if(use.begin(), use.end(), [](const filesystem_use& u) { return u.mount_point == "/"; });
  ASSERT_NE(root, use.end());
  struct statvfs st {};
  ASSERT_EQ(::statvfs("/", &st), 0);
  EXPECT_EQ(root->total_bytes, static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize);
  EXPECT_GT(root->used_bytes, 0u);
  EXPECT_LE(root->used_bytes, root->total_bytes);
  EXPECT_EQ(root->available_bytes, static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize);
}

}  // namespace
