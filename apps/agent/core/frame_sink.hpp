// Where telemetry goes: the current server connection's outbox, whatever its stream type.
#pragma once

#include "dockmon/common/ws_outbox.hpp"

#include <memory>
#include <string>

namespace dockmon::agent {

class frame_sink {
 public:
  virtual ~frame_sink() = default;
  virtual bool open() const = 0;
  // Bounded: an event that does not fit is counted (take_dropped_events), never silently lost.
  virtual void event(std::string frame) = 0;
  // Latest wins per key while the socket is slow.
  virtual void stats(const std::string& key, std::string frame) = 0;
  virtual std::size_t take_dropped_events() = 0;
  // Frames not yet written to the socket.
  virtual std::size_t queued() const = 0;
};

template <class WebSocket>
class outbox_sink final : public frame_sink {
 public:
  explicit outbox_sink(std::shared_ptr<ws_outbox<WebSocket>> outbox) : outbox_(std::move(outbox)) {}
  bool open() const override { return !outbox_->closed(); }
  void event(std::string frame) override { outbox_->push_event(std::move(frame)); }
  void stats(const std::string& key, std::string frame) override { outbox_->put_stats(key, std::move(frame)); }
  std::size_t take_dropped_events() override { return outbox_->take_dropped_events(); }
  std::size_t queued() const override { return outbox_->queued(); }

 private:
  std::shared_ptr<ws_outbox<WebSocket>> outbox_;
};

}  // namespace dockmon::agent
