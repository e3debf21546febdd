#include <doctest/doctest.h>

#include <cmath>

#include "firmware-sim/core/models.h"

using namespace tributary::sim;

TEST_CASE("models are deterministic for a seed") {
  model_params p;
  p.mask = model_all;
  rng a(99);
  rng b(99);
  model_state sa = init_models(p, a);
  model_state sb = init_models(p, b);
  for (int i = 0; i < 100; ++i) {
    const model_values va = step_models(p, sa, a, 1.0);
    const model_values vb = step_models(p, sb, b, 1.0);
    CHECK(va.temp_c == vb.temp_c);
    CHECK(va.count == vb.count);
    CHECK(va.lat == vb.lat);
    CHECK(va.vib_g == vb.vib_g);
  }
}

TEST_CASE("temperature: near its base, with drift and noise") {
  model_params p;
  p.mask = model_temperature;
  p.temp_base_min_c = p.temp_base_max_c = 20.0;
  rng g(1);
  model_state s = init_models(p, g);
  CHECK(s.temp_base_c == 20.0);
  double sum = 0;
  bool varied = false;
  double last = 0;
  for (int i = 0; i < 600; ++i) {  // ten minutes at 1 Hz
    const model_values v = step_models(p, s, g, 1.0);
    CHECK(v.mask == model_temperature);
    CHECK(std::abs(v.temp_c - 20.0) < 5.0);
    varied |= i > 0 && v.temp_c != last;
    last = v.temp_c;
    sum += v.temp_c;
  }
  CHECK(varied);
  CHECK(std::abs(sum / 600 - 20.0) < 2.0);
}

TEST_CASE("counter: monotonic") {
  model_params p;
  p.mask = model_counter;
  rng g(2);
  model_state s = init_models(p, g);
  uint64_t last = 0;
  uint64_t first = 0;
  for (int i = 0; i < 1000; ++i) {
    const model_values v = step_models(p, s, g, 1.0);
    if (i == 0) first = v.count;
    CHECK(v.count >= last);
    last = v.count;
  }
  CHECK(double(last - first) == doctest::Approx(5.0 * 999).epsilon(0.15));
}

TEST_CASE("gps: moves, and stays inside its box") {
  model_params p;
  p.mask = model_gps;
  p.gps_speed_min_mps = p.gps_speed_max_mps = 30;  // fast, to hit the walls
  rng g(3);
  model_state s = init_models(p, g);
  const double lat0 = s.lat;
  bool moved = false;
  for (int i = 0; i < 5000; ++i) {
    const model_values v = step_models(p, s, g, 10.0);
    CHECK(v.lat >= p.gps_lat_min);
    CHECK(v.lat <= p.gps_lat_max);
    CHECK(v.lon >= p.gps_lon_min);
    CHECK(v.lon <= p.gps_lon_max);
    moved |= v.lat != lat0;
  }
  CHECK(moved);
}

TEST_CASE("vibration: quiet with bursts") {
  model_params p;
  p.mask = model_vibration;
  p.vib_burst_chance = 0.05;
  rng g(4);
  model_state s = init_models(p, g);
  int loud = 0;
  for (int i = 0; i < 2000; ++i) {
    const model_values v = step_models(p, s, g, 1.0);
    CHECK(v.vib_g >= 0);
    if (v.vib_g > 0.5) ++loud;
  }
  CHECK(loud > 20);    // bursts happen...
  CHECK(loud < 1000);  // ...but the device is mostly quiet
  p.vib_burst_chance = 0;
  s.burst_left = 0;  // end the current burst, if any
  for (int i = 0; i < 500; ++i) CHECK(step_models(p, s, g, 1.0).vib_g < 0.5);
}
