#include "firmware-sim/core/name_template.h"

#include <fmt/format.h>

#include "common/assert.h"

namespace tributary::sim {
namespace {

enum class token { literal, index, n, group, device, bad };

token classify(std::string_view name) {
  if (name == "index") return token::index;
  if (name == "n") return token::n;
  if (name == "group") return token::group;
  if (name == "device") return token::device;
  return token::bad;
}

// Walks the template, calling on_literal(text) and on_var(token); returns an error message or "".
template <class Lit, class Var>
std::string walk(std::string_view t, Lit&& on_literal, Var&& on_var) {
  size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '{' && i + 1 < t.size() && t[i + 1] == '{') {
      on_literal(std::string_view("{"));
      i += 2;
    } else if (c == '}' && i + 1 < t.size() && t[i + 1] == '}') {
      on_literal(std::string_view("}"));
      i += 2;
    } else if (c == '{') {
      const size_t close = t.find('}', i);
      if (close == std::string_view::npos) return "unclosed '{'";
      const std::string_view name = t.substr(i + 1, close - i - 1);
      const token k = classify(name);
      if (k == token::bad) return fmt::format("unknown placeholder {{{}}}", name);
      on_var(k);
      i = close + 1;
    } else if (c == '}') {
      return "unmatched '}'";
    } else {
      const size_t next = t.find_first_of("{}", i);
      const size_t end = next == std::string_view::npos ? t.size() : next;
      on_literal(t.substr(i, end - i));
      i = end;
    }
  }
  return {};
}

}  // namespace

detailed_result<void> check_template(std::string_view tmpl, bool allow_device) {
  bool uses_device = false;
  std::string problem = walk(
      tmpl, [](std::string_view) {}, [&](token k) { uses_device |= k == token::device; });
  if (problem.empty() && uses_device && !allow_device) problem = "{device} cannot name the device itself";
  if (!problem.empty())
    return fail_with(errc::bad_template, fmt::format("template \"{}\": {}", tmpl, problem));
  return {};
}

std::string expand_template(std::string_view tmpl, const template_vars& vars) {
  std::string out;
  out.reserve(tmpl.size() + 16);
  const std::string problem = walk(
      tmpl, [&](std::string_view s) { out.append(s); },
      [&](token k) {
        switch (k) {
          case token::index: fmt::format_to(std::back_inserter(out), "{:06}", vars.index); break;
          case token::n: fmt::format_to(std::back_inserter(out), "{}", vars.index); break;
          case token::group: out.append(vars.group); break;
          case token::device: out.append(vars.device); break;
          case token::literal:
          case token::bad: break;
        }
      });
  TRIB_ASSERT(problem.empty(), problem);
  return out;
}

}  // namespace tributary::sim
