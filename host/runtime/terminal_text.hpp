// Text from outside the host (a destination's error messages, a plugin's log lines, a source's
// keys) made safe to print on a terminal or into a log file read on one.
#pragma once

#include <string>
#include <string_view>

namespace synchost {

// Returns `text` with everything that could move the cursor, forge a line or change what the
// terminal shows escaped as visible text:
//   - C0 controls and DEL: "\n", "\r", "\t", otherwise "\xNN" (ESC is "\x1b");
//   - C1 controls (U+0080..U+009F, which some terminals treat like ESC sequences) and the
//     bidirectional overrides and isolates (U+202A..U+202E, U+2066..U+2069, which reorder what
//     is shown): "\u{XXXX}";
//   - bytes that are not valid UTF-8: "\xNN".
// Everything else, including printable non-ASCII text, is unchanged. A backslash is not escaped:
// the result is for people to read, not to be parsed back.
std::string terminal_safe(std::string_view text);

}  // namespace synchost
