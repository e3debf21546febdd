#include "cluster/group/coordinator.h"

#include <algorithm>

#include "common/assert.h"

namespace tributary::cluster::group {

std::string_view state_name(group_state s) {
  switch (s) {
    case group_state::empty: return "Empty";
    case group_state::preparing_rebalance: return "PreparingRebalance";
    case group_state::completing_rebalance: return "CompletingRebalance";
    case group_state::stable: return "Stable";
    case group_state::dead: return "Dead";
  }
  return "Dead";
}

void outputs::changed(const std::string& g) {
  if (std::find(changed_groups.begin(), changed_groups.end(), g) == changed_groups.end())
    changed_groups.push_back(g);
}

namespace {

join_result join_error(error_code e, std::string member_id = {}) {
  join_result r;
  r.error = e;
  r.member_id = std::move(member_id);
  return r;
}

sync_result sync_error(error_code e) { return sync_result{e, {}}; }

const bytes* metadata_for(const std::vector<member_protocol>& protocols, std::string_view name) {
  for (const auto& p : protocols)
    if (p.name == name) return &p.metadata;
  return nullptr;
}

}  // namespace

group* coordinator::find_mut(std::string_view group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

const group* coordinator::find(std::string_view group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

std::string coordinator::new_member_id(std::string_view client_id) {
  std::string id(client_id.empty() ? "member" : client_id);
  id += '-';
  id += cfg_.member_id_salt;
  if (!cfg_.member_id_salt.empty()) id += '-';
  id += std::to_string(next_member_++);
  return id;
}

bool coordinator::supports_protocols(const group& g, const join_request& req) const {
  if (req.protocol_type.empty() || req.protocols.empty()) return false;
  if (g.members.empty()) return true;
  if (req.protocol_type != g.protocol_type) return false;
  // At least one of the member's protocols is supported by every current member (other than itself).
  for (const auto& p : req.protocols) {
    bool everyone = true;
    for (const auto& [id, m] : g.members) {
      if (id == req.member_id) continue;
      if (!metadata_for(m.protocols, p.name)) {
        everyone = false;
        break;
      }
    }
    if (everyone) return true;
  }
  return false;
}

std::string coordinator::select_protocol(const group& g) const {
  TRIB_ASSERT(!g.members.empty());
  // Candidates: the protocols every member supports, in the first member's order of preference; each
  // member votes for its most preferred candidate; most votes win (ties: the earlier candidate).
  std::vector<std::string> candidates;
  for (const auto& p : g.members.begin()->second.protocols) {
    bool everyone = std::all_of(g.members.begin(), g.members.end(),
                                [&](const auto& kv) { return metadata_for(kv.second.protocols, p.name); });
    if (everyone) candidates.push_back(p.name);
  }
  TRIB_ASSERT(!candidates.empty(), "join admitted a member without a common protocol");
  std::vector<size_t> votes(candidates.size(), 0);
  for (const auto& [_, m] : g.members) {
    for (const auto& p : m.protocols) {
      auto it = std::find(candidates.begin(), candidates.end(), p.name);
      if (it != candidates.end()) {
        ++votes[static_cast<size_t>(it - candidates.begin())];
        break;
      }
    }
  }
  size_t best = 0;
  for (size_t i = 1; i < votes.size(); ++i)
    if (votes[i] > votes[best]) best = i;
  return candidates[best];
}

join_result coordinator::join_reply(const group& g, const member& m) const {
  join_result r;
  r.generation = g.generation;
  r.protocol_type = g.protocol_type;
  r.protocol_name = g.protocol_name;
  r.leader = g.leader;
  r.member_id = m.id;
  if (m.id == g.leader) {
    for (const auto& [id, other] : g.members) {
      const bytes* md = metadata_for(other.protocols, g.protocol_name);
      r.members.push_back({id, other.instance_id, md ? *md : bytes{}});
    }
  }
  return r;
}

error_code coordinator::check_member(const group& g, std::string_view member_id,
                                     const std::optional<std::string>& instance_id) const {
  if (instance_id) {
    auto it = g.instances.find(*instance_id);
    if (it == g.instances.end()) return error_code::unknown_member_id;
    if (it->second != member_id) return error_code::fenced_instance_id;
  }
  if (!g.members.contains(std::string(member_id))) return error_code::unknown_member_id;
  return error_code::none;
}

// ---- JoinGroup --------------------------------------------------------------------------------

void coordinator::join(const join_request& req_in, request_id id, int64_t now_ms, outputs& out) {
  join_request req = req_in;
  if (req.rebalance_timeout_ms <= 0) req.rebalance_timeout_ms = req.session_timeout_ms;  // v0
  if (req.group_id.empty()) {
    out.joins.emplace_back(id, join_error(error_code::invalid_group_id, req.member_id));
    return;
  }
  if (req.session_timeout_ms < cfg_.min_session_timeout_ms ||
      req.session_timeout_ms > cfg_.max_session_timeout_ms) {
    out.joins.emplace_back(id, join_error(error_code::invalid_session_timeout, req.member_id));
    return;
  }
  group* g = find_mut(req.group_id);
  if (!g) {
    if (!req.member_id.empty()) {
      out.joins.emplace_back(id, join_error(error_code::unknown_member_id, req.member_id));
      return;
    }
    g = &groups_.emplace(req.group_id, group{}).first->second;
    g->id = req.group_id;
  }
  const std::string group_id = g->id;
  if (!supports_protocols(*g, req)) {
    out.joins.emplace_back(id, join_error(error_code::inconsistent_group_protocol, req.member_id));
    drop_if_dead(group_id);
    return;
  }

  if (req.member_id.empty()) {
    if (req.instance_id) {
      auto inst = g->instances.find(*req.instance_id);
      if (inst != g->instances.end()) {
        // A static member restarted: it takes over its instance's slot under a new member id; the old
        // id is fenced.
        const std::string old_id = inst->second;
        auto node = g->members.extract(old_id);
        TRIB_ASSERT(!node.empty(), "instance map points at a member that does not exist");
        member m = std::move(node.mapped());
        if (m.pending_join)
          out.joins.emplace_back(*m.pending_join, join_error(error_code::fenced_instance_id));
        if (m.pending_sync)
          out.syncs.emplace_back(*m.pending_sync, sync_error(error_code::fenced_instance_id));
        m.pending_join.reset();
        m.pending_sync.reset();
        const std::string new_id = new_member_id(req.client_id);
        const bool was_leader = g->leader == old_id;
        if (was_leader) g->leader = new_id;
        m.id = new_id;
        inst->second = new_id;
        const bytes* old_md = metadata_for(m.protocols, g->protocol_name);
        const bytes* new_md = metadata_for(req.protocols, g->protocol_name);
        const bool unchanged = old_md && new_md && *old_md == *new_md;
        member& placed = g->members.emplace(new_id, std::move(m)).first->second;
        if (g->state == group_state::stable && unchanged) {
          placed.protocols = req.protocols;
          placed.session_timeout_ms = req.session_timeout_ms;
          placed.rebalance_timeout_ms = req.rebalance_timeout_ms;
          placed.client_id = req.client_id;
          placed.client_host = req.client_host;
          placed.session_deadline_ms = now_ms + placed.session_timeout_ms;
          join_result r = join_reply(*g, placed);
          if (was_leader) {
            // As Kafka does: the restarted leader is told the old leader id, so that it does not
            // compute an assignment a stable group would never hand out; it leads from the next
            // rebalance on.
            r.leader = old_id;
            r.members.clear();
          }
          out.joins.emplace_back(id, std::move(r));
          out.changed(group_id);
          return;
        }
        update_member(*g, placed, req, id, out);
        if (g->state == group_state::preparing_rebalance) {
          maybe_complete_join(*g, now_ms, out);
        } else {
          prepare_rebalance(*g, now_ms, out);
        }
        return;
      }
      add_member(*g, req, new_member_id(req.client_id), id, now_ms, out);
      return;
    }
    if (req.member_id_required) {
      std::string new_id = new_member_id(req.client_id);
      g->pending_members[new_id] = now_ms + req.session_timeout_ms;
      out.joins.emplace_back(id, join_error(error_code::member_id_required, new_id));
      return;
    }
    add_member(*g, req, new_member_id(req.client_id), id, now_ms, out);
    return;
  }

  // A known member id.
  if (auto pending = g->pending_members.find(req.member_id); pending != g->pending_members.end()) {
    g->pending_members.erase(pending);
    add_member(*g, req, req.member_id, id, now_ms, out);
    return;
  }
  if (req.instance_id) {
    auto inst = g->instances.find(*req.instance_id);
    if (inst != g->instances.end() && inst->second != req.member_id) {
      out.joins.emplace_back(id, join_error(error_code::fenced_instance_id, req.member_id));
      return;
    }
  }
  auto it = g->members.find(req.member_id);
  if (it == g->members.end()) {
    out.joins.emplace_back(id, join_error(error_code::unknown_member_id, req.member_id));
    drop_if_dead(group_id);
    return;
  }
  member& m = it->second;
  const bool same = m.protocols == req.protocols;
  switch (g->state) {
    case group_state::preparing_rebalance:
      update_member(*g, m, req, id, out);
      maybe_complete_join(*g, now_ms, out);
      return;
    case group_state::completing_rebalance:
      if (same) {  // the join reply was lost: send it again
        m.session_deadline_ms = now_ms + m.session_timeout_ms;
        out.joins.emplace_back(id, join_reply(*g, m));
        return;
      }
      update_member(*g, m, req, id, out);
      prepare_rebalance(*g, now_ms, out);
      return;
    case group_state::stable:
      if (same && m.id != g->leader) {
        m.session_deadline_ms = now_ms + m.session_timeout_ms;
        out.joins.emplace_back(id, join_reply(*g, m));
        return;
      }
      update_member(*g, m, req, id, out);
      prepare_rebalance(*g, now_ms, out);
      return;
    case group_state::empty:
    case group_state::dead: break;
  }
  TRIB_ASSERT(false, "a member in an empty group");
}

void coordinator::add_member(group& g, const join_request& req, std::string member_id, request_id id,
                             int64_t now_ms, outputs& out) {
  if (g.members.size() >= cfg_.max_group_size) {
    out.joins.emplace_back(id, join_error(error_code::group_max_size_reached, member_id));
    drop_if_dead(g.id);
    return;
  }
  if (g.members.empty()) g.protocol_type = req.protocol_type;
  member m;
  m.id = member_id;
  m.instance_id = req.instance_id;
  if (req.instance_id) g.instances[*req.instance_id] = member_id;
  member& placed = g.members.emplace(member_id, std::move(m)).first->second;
  update_member(g, placed, req, id, out);
  if (g.state == group_state::preparing_rebalance) {
    if (g.initial_delay) {
      g.rebalance_deadline_ms = std::min(now_ms + cfg_.initial_rebalance_delay_ms, g.initial_delay_end_ms);
    }
    maybe_complete_join(g, now_ms, out);
  } else {
    prepare_rebalance(g, now_ms, out);
  }
}

void coordinator::update_member(group&, member& m, const join_request& req, request_id id, outputs& out) {
  if (m.pending_join && *m.pending_join != id)
    out.joins.emplace_back(*m.pending_join, join_error(error_code::rebalance_in_progress, m.id));
  m.pending_join = id;
  m.protocols = req.protocols;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
}

void coordinator::reply_pending_syncs(group& g, error_code error, outputs& out) {
  for (auto& [_, m] : g.members) {
    if (!m.pending_sync) continue;
    if (error == error_code::none) {
      out.syncs.emplace_back(*m.pending_sync, sync_result{error, m.assignment});
    } else {
      out.syncs.emplace_back(*m.pending_sync, sync_error(error));
    }
    m.pending_sync.reset();
  }
}

void coordinator::prepare_rebalance(group& g, int64_t now_ms, outputs& out) {
  if (g.state == group_state::completing_rebalance)
    reply_pending_syncs(g, error_code::rebalance_in_progress, out);
  int32_t rebalance_ms = 0;
  for (const auto& [_, m] : g.members) rebalance_ms = std::max(rebalance_ms, m.rebalance_timeout_ms);
  if (g.state == group_state::empty && cfg_.initial_rebalance_delay_ms > 0) {
    g.initial_delay = true;
    g.initial_delay_end_ms = now_ms + rebalance_ms;
    g.rebalance_deadline_ms = std::min(now_ms + cfg_.initial_rebalance_delay_ms, g.initial_delay_end_ms);
  } else {
    g.initial_delay = false;
    g.rebalance_deadline_ms = now_ms + rebalance_ms;
  }
  g.state = group_state::preparing_rebalance;
  g.empty_since_ms = -1;
  maybe_complete_join(g, now_ms, out);
}

void coordinator::maybe_complete_join(group& g, int64_t now_ms, outputs& out) {
  if (g.state != group_state::preparing_rebalance) return;
  if (g.members.empty()) {
    complete_join(g, now_ms, out);
    return;
  }
  if (g.initial_delay) return;
  if (!g.pending_members.empty()) return;
  const bool all = std::all_of(g.members.begin(), g.members.end(),
                               [](const auto& kv) { return kv.second.pending_join.has_value(); });
  if (all) complete_join(g, now_ms, out);
}

void coordinator::complete_join(group& g, int64_t now_ms, outputs& out) {
  TRIB_ASSERT(g.state == group_state::preparing_rebalance);
  // Members that did not rejoin in time are out.
  for (auto it = g.members.begin(); it != g.members.end();) {
    if (it->second.pending_join) {
      ++it;
      continue;
    }
    if (it->second.instance_id) g.instances.erase(*it->second.instance_id);
    if (g.leader == it->first) g.leader.clear();
    it = g.members.erase(it);
  }
  g.rebalance_deadline_ms = -1;
  g.initial_delay = false;
  g.initial_delay_end_ms = -1;
  ++g.generation;
  if (g.members.empty()) {
    g.state = group_state::empty;
    g.empty_since_ms = now_ms;
    g.protocol_name.clear();
    g.leader.clear();
    out.changed(g.id);
    return;
  }
  g.protocol_name = select_protocol(g);
  if (!g.members.contains(g.leader)) g.leader = g.members.begin()->first;
  g.state = group_state::completing_rebalance;
  for (auto& [_, m] : g.members) {
    m.assignment.clear();
    m.session_deadline_ms = now_ms + m.session_timeout_ms;
    out.joins.emplace_back(*m.pending_join, join_reply(g, m));
    m.pending_join.reset();
  }
}

void coordinator::remove_member(group& g, const std::string& member_id, int64_t now_ms, outputs& out) {
  auto it = g.members.find(member_id);
  TRIB_ASSERT(it != g.members.end());
  member& m = it->second;
  if (m.pending_join)
    out.joins.emplace_back(*m.pending_join, join_error(error_code::unknown_member_id, m.id));
  if (m.pending_sync) out.syncs.emplace_back(*m.pending_sync, sync_error(error_code::unknown_member_id));
  if (m.instance_id) g.instances.erase(*m.instance_id);
  if (g.leader == member_id) g.leader.clear();
  g.members.erase(it);
  switch (g.state) {
    case group_state::stable:
    case group_state::completing_rebalance: prepare_rebalance(g, now_ms, out); break;
    case group_state::preparing_rebalance: maybe_complete_join(g, now_ms, out); break;
    case group_state::empty:
    case group_state::dead: break;
  }
}

// ---- SyncGroup, Heartbeat, LeaveGroup -----------------------------------------------------------

void coordinator::sync(const sync_request& req, request_id id, int64_t now_ms, outputs& out) {
  group* g = find_mut(req.group_id);
  if (!g) {
    out.syncs.emplace_back(id, sync_error(error_code::unknown_member_id));
    return;
  }
  if (auto e = check_member(*g, req.member_id, req.instance_id); e != error_code::none) {
    out.syncs.emplace_back(id, sync_error(e));
    return;
  }
  if (req.generation != g->generation) {
    out.syncs.emplace_back(id, sync_error(error_code::illegal_generation));
    return;
  }
  member& m = g->members.at(req.member_id);
  switch (g->state) {
    case group_state::empty:
    case group_state::dead: out.syncs.emplace_back(id, sync_error(error_code::unknown_member_id)); return;
    case group_state::preparing_rebalance:
      out.syncs.emplace_back(id, sync_error(error_code::rebalance_in_progress));
      return;
    case group_state::stable:
      m.session_deadline_ms = now_ms + m.session_timeout_ms;
      out.syncs.emplace_back(id, sync_result{error_code::none, m.assignment});
      return;
    case group_state::completing_rebalance: break;
  }
  m.session_deadline_ms = now_ms + m.session_timeout_ms;
  if (m.pending_sync && *m.pending_sync != id)
    out.syncs.emplace_back(*m.pending_sync, sync_error(error_code::rebalance_in_progress));
  m.pending_sync = id;
  if (req.member_id != g->leader) return;  // waits for the leader's assignments
  for (auto& [_, other] : g->members) other.assignment.clear();
  for (const auto& [member_id, assignment] : req.assignments) {
    auto it = g->members.find(member_id);
    if (it != g->members.end()) it->second.assignment = assignment;
  }
  g->state = group_state::stable;
  reply_pending_syncs(*g, error_code::none, out);
  out.changed(g->id);
}

error_code coordinator::heartbeat(std::string_view group_id, int32_t generation, std::string_view member_id,
                                  const std::optional<std::string>& instance_id, int64_t now_ms, outputs&) {
  group* g = find_mut(group_id);
  if (!g || g->state == group_state::empty || g->state == group_state::dead)
    return error_code::unknown_member_id;
  if (auto e = check_member(*g, member_id, instance_id); e != error_code::none) return e;
  if (generation != g->generation) return error_code::illegal_generation;
  member& m = g->members.at(std::string(member_id));
  m.session_deadline_ms = now_ms + m.session_timeout_ms;
  if (g->state == group_state::preparing_rebalance) return error_code::rebalance_in_progress;
  return error_code::none;
}

std::vector<error_code> coordinator::leave(std::string_view group_id, const std::vector<member_ref>& members,
                                           int64_t now_ms, outputs& out, error_code& group_error) {
  std::vector<error_code> errors(members.size(), error_code::unknown_member_id);
  group_error = error_code::none;
  group* g = find_mut(group_id);
  if (!g) {
    group_error = error_code::unknown_member_id;
    return errors;
  }
  const std::string id = g->id;
  for (size_t i = 0; i < members.size(); ++i) {
    std::string member_id = members[i].member_id;
    if (members[i].instance_id) {
      auto inst = g->instances.find(*members[i].instance_id);
      if (inst == g->instances.end()) continue;  // UNKNOWN_MEMBER_ID
      if (!member_id.empty() && member_id != inst->second) {
        errors[i] = error_code::fenced_instance_id;
        continue;
      }
      member_id = inst->second;
    }
    if (g->pending_members.erase(member_id) > 0) {
      errors[i] = error_code::none;
      maybe_complete_join(*g, now_ms, out);
      continue;
    }
    if (!g->members.contains(member_id)) continue;
    remove_member(*g, member_id, now_ms, out);
    errors[i] = error_code::none;
  }
  out.changed(id);
  drop_if_dead(id);
  return errors;
}

// ---- offsets ----------------------------------------------------------------------------------

error_code coordinator::validate_commit(std::string_view group_id, int32_t generation,
                                        std::string_view member_id,
                                        const std::optional<std::string>& instance_id, int64_t now_ms) {
  group* g = find_mut(group_id);
  if (!g) {
    if (generation >= 0) return error_code::illegal_generation;
    // A simple commit (the group is not managed by this coordinator): the group exists from now on.
    group& created = groups_.emplace(std::string(group_id), group{}).first->second;
    created.id = std::string(group_id);
    created.empty_since_ms = now_ms;
    return error_code::none;
  }
  if (instance_id) {
    auto inst = g->instances.find(*instance_id);
    if (inst != g->instances.end() && inst->second != member_id) return error_code::fenced_instance_id;
  }
  if (generation < 0 && g->state == group_state::empty) {
    g->empty_since_ms = now_ms;  // retention counts from the last commit
    return error_code::none;
  }
  if (g->state == group_state::completing_rebalance) return error_code::rebalance_in_progress;
  auto it = g->members.find(std::string(member_id));
  if (it == g->members.end()) return error_code::unknown_member_id;
  if (generation != g->generation) return error_code::illegal_generation;
  it->second.session_deadline_ms = now_ms + it->second.session_timeout_ms;
  return error_code::none;
}

void coordinator::apply_commit(std::string_view group_id, const topic_partition& tp, committed_offset c) {
  group* g = find_mut(group_id);
  if (!g) {
    g = &groups_.emplace(std::string(group_id), group{}).first->second;
    g->id = std::string(group_id);
  }
  g->offsets[tp] = std::move(c);
}

void coordinator::remove_offset(std::string_view group_id, const topic_partition& tp) {
  group* g = find_mut(group_id);
  if (!g) return;
  g->offsets.erase(tp);
  drop_if_dead(g->id);
}

const std::map<topic_partition, committed_offset>* coordinator::offsets(std::string_view group_id) const {
  const group* g = find(group_id);
  return g ? &g->offsets : nullptr;
}

error_code coordinator::can_delete(std::string_view group_id) const {
  const group* g = find(group_id);
  if (!g) return error_code::group_id_not_found;
  if (g->state != group_state::empty || !g->members.empty() || !g->pending_members.empty())
    return error_code::non_empty_group;
  return error_code::none;
}

void coordinator::erase(std::string_view group_id) {
  auto it = groups_.find(group_id);
  if (it != groups_.end()) groups_.erase(it);
}

void coordinator::unload(std::string_view group_id, outputs& out) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return;
  for (auto& [_, m] : it->second.members) {
    if (m.pending_join)
      out.joins.emplace_back(*m.pending_join, join_error(error_code::not_coordinator, m.id));
    if (m.pending_sync) out.syncs.emplace_back(*m.pending_sync, sync_error(error_code::not_coordinator));
  }
  groups_.erase(it);
}

void coordinator::drop_if_dead(const std::string& group_id) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return;
  const group& g = it->second;
  if (g.state == group_state::empty && g.members.empty() && g.pending_members.empty() && g.offsets.empty())
    groups_.erase(it);
}

// ---- time -------------------------------------------------------------------------------------

void coordinator::tick(int64_t now_ms, outputs& out) {
  std::vector<std::string> ids;
  ids.reserve(groups_.size());
  for (const auto& [id, _] : groups_) ids.push_back(id);
  for (const auto& id : ids) {
    group* g = find_mut(id);
    if (!g) continue;
    for (auto it = g->pending_members.begin(); it != g->pending_members.end();) {
      it = it->second <= now_ms ? g->pending_members.erase(it) : std::next(it);
    }
    if (g->state == group_state::preparing_rebalance && g->rebalance_deadline_ms >= 0 &&
        g->rebalance_deadline_ms <= now_ms) {
      complete_join(*g, now_ms, out);
    } else {
      maybe_complete_join(*g, now_ms, out);
    }
    std::vector<std::string> expired;
    for (const auto& [mid, m] : g->members) {
      if (!m.pending_join && m.session_deadline_ms <= now_ms) expired.push_back(mid);
    }
    for (const auto& mid : expired) {
      if (g->members.contains(mid)) remove_member(*g, mid, now_ms, out);
    }
    if (!expired.empty()) out.changed(id);
    expire_offsets(*g, now_ms, out);
    drop_if_dead(id);
  }
}

void coordinator::expire_offsets(group& g, int64_t now_ms, outputs& out) {
  if (g.state != group_state::empty || !g.members.empty() || !g.pending_members.empty()) return;
  if (g.empty_since_ms < 0) g.empty_since_ms = now_ms;  // restored or replayed: counts from now
  if (cfg_.offsets_retention_ms < 0 || g.offsets.empty()) return;
  if (now_ms - g.empty_since_ms < cfg_.offsets_retention_ms) return;
  for (const auto& [tp, _] : g.offsets) out.expired_offsets.emplace_back(g.id, tp);
  g.offsets.clear();
  out.changed(g.id);
}

std::optional<int64_t> coordinator::next_deadline() const {
  std::optional<int64_t> next;
  auto consider = [&](int64_t t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& [_, g] : groups_) {
    if (g.state == group_state::preparing_rebalance && g.rebalance_deadline_ms >= 0)
      consider(g.rebalance_deadline_ms);
    for (const auto& [__, t] : g.pending_members) consider(t);
    for (const auto& [__, m] : g.members)
      if (!m.pending_join) consider(m.session_deadline_ms);
    if (g.state == group_state::empty && cfg_.offsets_retention_ms >= 0 && !g.offsets.empty() &&
        g.members.empty() && g.pending_members.empty())
      consider(g.empty_since_ms < 0 ? 0 : g.empty_since_ms + cfg_.offsets_retention_ms);
  }
  return next;
}

// ---- persistence ------------------------------------------------------------------------------

void coordinator::restore(const group_snapshot& s, int64_t now_ms) {
  group* g = find_mut(s.id);
  if (!g) {
    g = &groups_.emplace(s.id, group{}).first->second;
    g->id = s.id;
  }
  g->generation = s.generation;
  g->protocol_type = s.protocol_type;
  g->members.clear();
  g->instances.clear();
  g->pending_members.clear();
  g->rebalance_deadline_ms = -1;
  g->initial_delay = false;
  if (s.members.empty() || s.state != group_state::stable) {
    g->state = group_state::empty;
    g->empty_since_ms = now_ms;
    g->protocol_name.clear();
    g->leader.clear();
    drop_if_dead(s.id);
    return;
  }
  g->state = group_state::stable;
  g->protocol_name = s.protocol_name;
  g->leader = s.leader;
  for (const auto& ms : s.members) {
    member m;
    m.id = ms.id;
    m.instance_id = ms.instance_id;
    m.client_id = ms.client_id;
    m.client_host = ms.client_host;
    m.session_timeout_ms = ms.session_timeout_ms;
    m.rebalance_timeout_ms = ms.rebalance_timeout_ms;
    m.protocols = {{s.protocol_name, ms.metadata}};
    m.assignment = ms.assignment;
    m.session_deadline_ms = now_ms + ms.session_timeout_ms;
    if (m.instance_id) g->instances[*m.instance_id] = m.id;
    g->members.emplace(m.id, std::move(m));
  }
  if (!g->members.contains(g->leader)) g->leader = g->members.begin()->first;
}

std::optional<group_snapshot> coordinator::snapshot(std::string_view group_id) const {
  const group* g = find(group_id);
  if (!g) return std::nullopt;
  group_snapshot s;
  s.id = g->id;
  s.generation = g->generation;
  s.protocol_type = g->protocol_type;
  if (g->members.empty()) {
    s.state = group_state::empty;
    return s;
  }
  s.state = group_state::stable;
  s.protocol_name = g->protocol_name;
  s.leader = g->leader;
  for (const auto& [id, m] : g->members) {
    group_snapshot::member_snapshot ms;
    ms.id = id;
    ms.instance_id = m.instance_id;
    ms.client_id = m.client_id;
    ms.client_host = m.client_host;
    ms.session_timeout_ms = m.session_timeout_ms;
    ms.rebalance_timeout_ms = m.rebalance_timeout_ms;
    if (const bytes* md = metadata_for(m.protocols, g->protocol_name)) ms.metadata = *md;
    ms.assignment = m.assignment;
    s.members.push_back(std::move(ms));
  }
  return s;
}

std::vector<group_summary> coordinator::list() const {
  std::vector<group_summary> out;
  out.reserve(groups_.size());
  for (const auto& [id, g] : groups_) out.push_back({id, g.protocol_type, g.state});
  return out;
}

}  // namespace tributary::cluster::group
