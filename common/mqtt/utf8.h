#pragma once
// UTF-8 as MQTT wants it (3.1.1 section 1.5.3, 5.0 section 1.5.4).
//
// A UTF-8 Encoded String must be well-formed UTF-8 as RFC 3629 defines it: no overlong forms, no
// encodings of the UTF-16 surrogates U+D800..U+DFFF, nothing above U+10FFFF, no stray continuation
// bytes or cut sequences. It must also not contain U+0000, and its two-byte length prefix bounds it
// to 65,535 bytes. The spec lets a receiver also refuse control characters (U+0001..U+001F,
// U+007F..U+009F) and non-characters; we accept them, as Mosquitto does, since they are well formed.
// The sequence EF BB BF is U+FEFF and is kept as it is, never stripped.
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace tributary::mqtt {

// RFC 3629 well-formedness only (U+0000 allowed): the rule for a PUBLISH payload whose payload
// format indicator is 1.
bool is_well_formed_utf8(byte_span s) noexcept;

// The full UTF-8 Encoded String rule. Errors: errc::invalid_utf8 (ill-formed, U+0000, or longer
// than 65,535 bytes, which has no encoding).
result<void> validate_utf8_string(std::string_view s) noexcept;

}  // namespace tributary::mqtt
