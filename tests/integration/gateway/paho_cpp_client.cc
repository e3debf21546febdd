// A Paho MQTT C++ client for the gateway integration tests: connects (3.1.1 or 5.0), publishes
// `count` readings "<prefix>-<i>" at one QoS and waits for each to be delivered (QoS 1: PUBACK,
// QoS 2: PUBCOMP), then disconnects. Prints one line per event:
//   connected session_present=0
//   connect_failed reason=134
//   delivered 100
//   publish_failed reason=151 at=7
// Exit status: 0 all delivered, 3 connect refused, 4 a publish failed, 2 bad usage.
//
//   paho_cpp_client --uri tcp://127.0.0.1:1883 --id dev-1 --version 5 --qos 1 --count 100
//                   --topic sensors/dev-1/temp [--user U --password P] [--prefix x]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <mqtt/async_client.h>

namespace {

struct args {
  std::string uri = "tcp://127.0.0.1:1883";
  std::string id = "paho-cpp";
  int version = 5;
  int qos = 1;
  int count = 10;
  std::string topic = "sensors/paho-cpp/temp";
  std::string user;
  std::string password;
  std::string prefix = "cpp";
  bool has_user = false;
};

bool parse(int argc, char** argv, args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view k = argv[i];
    std::string v = argv[i + 1];
    if (k == "--uri") {
      a.uri = v;
    } else if (k == "--id") {
      a.id = v;
    } else if (k == "--version") {
      a.version = std::atoi(v.c_str());
    } else if (k == "--qos") {
      a.qos = std::atoi(v.c_str());
    } else if (k == "--count") {
      a.count = std::atoi(v.c_str());
    } else if (k == "--topic") {
      a.topic = v;
    } else if (k == "--user") {
      a.user = v;
      a.has_user = true;
    } else if (k == "--password") {
      a.password = v;
    } else if (k == "--prefix") {
      a.prefix = v;
    } else {
      return false;
    }
  }
  return (argc % 2) == 1 && (a.version == 4 || a.version == 5) && a.qos >= 0 && a.qos <= 2 && a.count >= 0 &&
         a.count <= 1000000;
}

}  // namespace

int main(int argc, char** argv) {
  args a;
  if (!parse(argc, argv, a)) {
    std::fprintf(stderr, "usage: paho_cpp_client --uri U --id I --version 4|5 --qos Q --count N --topic T\n");
    return 2;
  }
  const bool v5 = a.version == 5;
  mqtt::async_client client(a.uri, a.id, mqtt::create_options(v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1));
  mqtt::connect_options_builder b;
  b.mqtt_version(v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1).keep_alive_interval(std::chrono::seconds(30));
  if (v5) {
    b.clean_start(true);
  } else {
    b.clean_session(true);
  }
  if (a.has_user) b.user_name(a.user).password(a.password);
  try {
    auto tok = client.connect(b.finalize());
    if (!tok->wait_for(std::chrono::seconds(10))) {
      std::printf("connect_failed reason=timeout\n");
      return 3;
    }
    std::printf("connected session_present=%d\n", tok->get_connect_response().is_session_present() ? 1 : 0);
  } catch (const mqtt::exception& e) {
    std::printf("connect_failed reason=%d rc=%d\n", e.get_reason_code(), e.get_return_code());
    return 3;
  }
  int delivered = 0;
  for (int i = 0; i < a.count; ++i) {
    const std::string payload = a.prefix + "-" + std::to_string(i);
    try {
      auto tok = client.publish(a.topic, payload.data(), payload.size(), a.qos, false);
      if (!tok->wait_for(std::chrono::seconds(10))) {
        std::printf("publish_failed reason=timeout at=%d\n", i);
        return 4;
      }
      if (v5 && a.qos > 0 && tok->get_reason_code() >= 0x80) {
        std::printf("publish_failed reason=%d at=%d\n", static_cast<int>(tok->get_reason_code()), i);
        return 4;
      }
      ++delivered;
    } catch (const mqtt::exception& e) {
      std::printf("publish_failed reason=%d rc=%d at=%d\n", e.get_reason_code(), e.get_return_code(), i);
      return 4;
    }
  }
  std::printf("delivered %d\n", delivered);
  try {
    client.disconnect()->wait_for(std::chrono::seconds(5));
  } catch (const mqtt::exception&) {
  }
  return 0;
}
