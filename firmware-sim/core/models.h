#pragma once
// Telemetry models: what a virtual device measures. Pure and deterministic: each step takes the
// device's own seeded generator and the time since its previous reading.
//   temperature  a per-device base, a random-walk drift (sigma grows with sqrt(time)) and sensor noise
//   counter      a monotonic counter (packets, litres, pulses) advancing by a random amount per reading
//   gps          a vehicle moving at a random speed, turning a little each step, bouncing off a box
//   vibration    quiet noise around a baseline with occasional bursts lasting a few readings
#include <cstdint>

#include "firmware-sim/core/reading.h"
#include "firmware-sim/core/rng.h"

namespace tributary::sim {

struct model_params {
  uint8_t mask = model_temperature;  // which models a device of this group runs (model_bit)

  double temp_base_min_c = 18.0;  // each device's base temperature is uniform in [min, max]
  double temp_base_max_c = 24.0;
  double temp_drift_c_per_sqrt_h = 0.5;  // random-walk sigma after one hour
  double temp_noise_c = 0.1;             // per-reading sensor noise sigma

  double counter_increment_mean = 5.0;  // mean (exponential) increase per reading

  double gps_lat_min = 48.80;  // the box devices drive in (default: Paris)
  double gps_lat_max = 48.90;
  double gps_lon_min = 2.25;
  double gps_lon_max = 2.42;
  double gps_speed_min_mps = 1.0;
  double gps_speed_max_mps = 15.0;
  double gps_turn_sigma_rad = 0.2;  // heading change sigma per reading

  double vib_base_g = 0.02;              // quiet RMS
  double vib_noise_g = 0.005;            // quiet noise sigma
  double vib_burst_chance = 0.02;        // probability that a burst starts at a reading
  double vib_burst_g = 1.5;              // burst RMS (mean; each reading varies +-50%)
  uint32_t vib_burst_readings_max = 10;  // a burst lasts 1..max readings
};

// Per-device model state: small, because there may be a hundred thousand devices.
struct model_state {
  double temp_base_c = 0;
  double temp_drift_c = 0;
  uint64_t count = 0;
  double lat = 0;
  double lon = 0;
  float heading_rad = 0;
  float speed_mps = 0;
  uint32_t burst_left = 0;
};

model_state init_models(const model_params& p, rng& g);
// Advances the state by dt_s seconds (>= 0) and returns the reading's model fields.
model_values step_models(const model_params& p, model_state& s, rng& g, double dt_s);

}  // namespace tributary::sim
