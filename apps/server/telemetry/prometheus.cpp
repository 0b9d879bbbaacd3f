// Formatting of the /metrics text; see prometheus.hpp for why it works from a snapshot.
#include "telemetry/prometheus.hpp"

#include <fmt/format.h>

#include <iterator>
#include <string_view>

namespace dockmon::server {

namespace {

struct metric {
  const char* name;
  const char* type;
  const char* help;
  double stats_point::*field;
};

constexpr metric container_metrics[] = {
    {"dockmon_container_cpu_percent", "gauge", "CPU use of the container, percent of one core times cores (as docker stats)", &stats_point::cpu_percent},
    {"dockmon_container_memory_usage_bytes", "gauge", "Memory use of the container without page cache (as docker stats)", &stats_point::memory_usage},
    {"dockmon_container_memory_limit_bytes", "gauge", "Memory limit of the container", &stats_point::memory_limit},
    {"dockmon_container_memory_percent", "gauge", "Memory use as a percentage of the limit", &stats_point::memory_percent},
    {"dockmon_container_network_receive_bytes_total", "counter", "Bytes received by the container", &stats_point::network_rx},
    {"dockmon_container_network_transmit_bytes_total", "counter", "Bytes sent by the container", &stats_point::network_tx},
    {"dockmon_container_block_read_bytes_total", "counter", "Bytes read from block devices", &stats_point::disk_read},
    {"dockmon_container_block_write_bytes_total", "counter", "Bytes written to block devices", &stats_point::disk_write},
    {"dockmon_container_pids", "gauge", "Processes in the container", &stats_point::pids},
};

constexpr metric host_metrics[] = {
    {"dockmon_host_cpu_percent", "gauge", "CPU use of the host, percent", &stats_point::cpu_percent},
    {"dockmon_host_memory_percent", "gauge", "Memory use of the host, percent", &stats_point::memory_percent},
    {"dockmon_host_network_bytes_per_second", "gauge", "Network traffic of the host, received plus sent", &stats_point::network_rx},
};

// A label value as the format wants it: backslash, double quote and newline escaped.
void append_label(fmt::memory_buffer& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') out.append(std::string_view("\\\\"));
    else if (c == '"') out.append(std::string_view("\\\""));
    else if (c == '\n') out.append(std::string_view("\\n"));
    else out.push_back(c);
  }
}

void header(fmt::memory_buffer& out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// One labelled line per row; the labels are escaped once per row and reused for every metric.
template <class Row>
void family(fmt::memory_buffer& out, const metric& m, const std::vector<Row>& rows, const std::vector<std::string>& labels) {
  header(out, m.name, m.type, m.help);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out.append(std::string_view(m.name));
    out.append(labels[i]);
    fmt::format_to(std::back_inserter(out), " {}\n", rows[i].point.*m.field);
  }
}

void counter(fmt::memory_buffer& out, const char* name, const char* type, const char* help, std::uint64_t value) {
  header(out, name, type, help);
  fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
}

}  // namespace

std::string prometheus_text(const metrics_snapshot& s) {
  fmt::memory_buffer out;
  std::vector<std::string> labels;
  labels.reserve(s.containers.size());
  for (const auto& c : s.containers) {
    fmt::memory_buffer l;
    l.append(std::string_view("{host_id=\""));
    append_label(l, c.host_id);
    l.append(std::string_view("\",host=\""));
    append_label(l, c.host);
    l.append(std::string_view("\",container_id=\""));
    append_label(l, c.container_id);
    l.append(std::string_view("\",container=\""));
    append_label(l, c.container);
    l.append(std::string_view("\"}"));
    labels.emplace_back(l.data(), l.size());
  }
  // A scrape without containers (the default /metrics) leaves their families out altogether.
  if (!s.containers.empty()) {
    for (const auto& m : container_metrics) family(out, m, s.containers, labels);
  }
  labels.clear();
  for (const auto& h : s.hosts) {
    fmt::memory_buffer l;
    l.append(std::string_view("{host_id=\""));
    append_label(l, h.host_id);
    l.append(std::string_view("\",host=\""));
    append_label(l, h.host);
    l.append(std::string_view("\"}"));
    labels.emplace_back(l.data(), l.size());
  }
  for (const auto& m : host_metrics) family(out, m, s.hosts, labels);
  header(out, "dockmon_host_containers", "gauge", "Containers the host's agent reports stats of (running ones)");
  for (std::size_t i = 0; i < s.hosts.size(); ++i) {
    out.append(std::string_view("dockmon_host_containers"));
    out.append(labels[i]);
    fmt::format_to(std::back_inserter(out), " {}\n", s.hosts[i].containers);
  }
  counter(out, "dockmon_agents_connected", "gauge", "Agents connected to this server", s.agents_online);
  counter(out, "dockmon_pending_commands", "gauge", "Commands waiting for an agent's reply", s.pending_commands);
  counter(out, "dockmon_stats_samples_ingested_total", "counter", "Stats samples taken in from agents", s.samples_ingested);
  counter(out, "dockmon_events_ingested_total", "counter", "Container events taken in from agents", s.events_ingested);
  counter(out, "dockmon_stats_series", "gauge", "Series of stats history held in memory", s.stats_series);
  counter(out, "dockmon_events_overflowed_total", "counter", "Events not stored because the store fell behind",
          s.events_overflowed);
  counter(out, "dockmon_agent_input_refused_total", "counter",
          "Samples of unlisted containers and events over a host's rate that were dropped", s.agent_input_refused);
  return std::string(out.data(), out.size());
}

}  // namespace dockmon::server
