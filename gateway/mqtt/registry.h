#pragma once
// session_registry: the session states by client id. Pure; times are passed in.
//
// Every client id with a live connection has its state here (so a second CONNECT finds the first
// and takes it over), and so does every persistent session whose connection ended, until its
// expiry. Detached persistent sessions are bounded by sessions_max: the one that would expire
// soonest is discarded to make room (counted by the caller).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/mqtt/session.h"

namespace tributary::gateway::mqtt {

class session_registry {
 public:
  explicit session_registry(size_t sessions_max) : sessions_max_(sessions_max) {}

  std::shared_ptr<session_state> find(std::string_view client_id) const;
  // A new state for the client id (which must not have one), attached to `conn`.
  std::shared_ptr<session_state> create(std::string client_id, connection_id conn);
  // Forgets the state (if it is the registered one for its client id).
  void erase(const std::shared_ptr<session_state>& state);
  // A connection ended: a persistent state waits for its expiry; returns states discarded to stay
  // within sessions_max (their delayed wills are due now).
  std::vector<std::shared_ptr<session_state>> detach(const std::shared_ptr<session_state>& state,
                                                     uint64_t now_ms);
  // A connection resumed a detached state.
  void attach(const std::shared_ptr<session_state>& state, connection_id conn);

  // Detached states past their expiry, removed; and states whose delayed will is due (still kept).
  struct due {
    std::vector<std::shared_ptr<session_state>> expired;
    std::vector<std::shared_ptr<session_state>> wills;
  };
  due collect_due(uint64_t now_ms);

  size_t size() const { return by_id_.size(); }
  size_t detached() const { return detached_; }

 private:
  size_t sessions_max_;
  size_t detached_ = 0;
  std::unordered_map<std::string, std::shared_ptr<session_state>> by_id_;
};

}  // namespace tributary::gateway::mqtt
