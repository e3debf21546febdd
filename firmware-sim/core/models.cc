#include "firmware-sim/core/models.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/assert.h"

namespace tributary::sim {
namespace {

constexpr double meters_per_degree_lat = 111'320.0;

}  // namespace

model_state init_models(const model_params& p, rng& g) {
  model_state s;
  if (p.mask & model_temperature) s.temp_base_c = g.uniform(p.temp_base_min_c, p.temp_base_max_c);
  if (p.mask & model_counter) s.count = static_cast<uint64_t>(g.uniform_int(0, 1'000'000));
  if (p.mask & model_gps) {
    s.lat = g.uniform(p.gps_lat_min, p.gps_lat_max);
    s.lon = g.uniform(p.gps_lon_min, p.gps_lon_max);
    s.heading_rad = static_cast<float>(g.uniform(0, 2 * std::numbers::pi));
    s.speed_mps = static_cast<float>(g.uniform(p.gps_speed_min_mps, p.gps_speed_max_mps));
  }
  return s;
}

model_values step_models(const model_params& p, model_state& s, rng& g, double dt_s) {
  TRIB_ASSERT(dt_s >= 0);
  model_values v;
  v.mask = p.mask;
  if (p.mask & model_temperature) {
    s.temp_drift_c += p.temp_drift_c_per_sqrt_h * std::sqrt(dt_s / 3600.0) * g.normal();
    v.temp_c = s.temp_base_c + s.temp_drift_c + p.temp_noise_c * g.normal();
  }
  if (p.mask & model_counter) {
    s.count += static_cast<uint64_t>(std::llround(g.exponential(p.counter_increment_mean)));
    v.count = s.count;
  }
  if (p.mask & model_gps) {
    s.heading_rad = static_cast<float>(s.heading_rad + p.gps_turn_sigma_rad * g.normal());
    const double d = s.speed_mps * dt_s;
    const double dlat = d * std::cos(s.heading_rad) / meters_per_degree_lat;
    const double dlon =
        d * std::sin(s.heading_rad) / (meters_per_degree_lat * std::cos(s.lat * std::numbers::pi / 180.0));
    s.lat += dlat;
    s.lon += dlon;
    // Bounce off the box: reflect the position and turn around.
    if (s.lat < p.gps_lat_min || s.lat > p.gps_lat_max) {
      s.lat = std::clamp(s.lat, p.gps_lat_min, p.gps_lat_max);
      s.heading_rad = static_cast<float>(std::numbers::pi - s.heading_rad);
    }
    if (s.lon < p.gps_lon_min || s.lon > p.gps_lon_max) {
      s.lon = std::clamp(s.lon, p.gps_lon_min, p.gps_lon_max);
      s.heading_rad = -s.heading_rad;
    }
    v.lat = s.lat;
    v.lon = s.lon;
  }
  if (p.mask & model_vibration) {
    if (s.burst_left == 0 && p.vib_burst_readings_max > 0 && g.chance(p.vib_burst_chance)) {
      s.burst_left = static_cast<uint32_t>(g.uniform_int(1, p.vib_burst_readings_max));
    }
    if (s.burst_left > 0) {
      --s.burst_left;
      v.vib_g = p.vib_burst_g * g.uniform(0.5, 1.5);
    } else {
      v.vib_g = std::max(0.0, p.vib_base_g + p.vib_noise_g * g.normal());
    }
  }
  return v;
}

}  // namespace tributary::sim
