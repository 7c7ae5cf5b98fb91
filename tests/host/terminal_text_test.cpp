// terminal_safe: what a destination or a plugin says reaches the terminal as visible text only.
#include "runtime/terminal_text.hpp"

#include <gtest/gtest.h>

using synchost::terminal_safe;

TEST(TerminalText, PrintableTextIsUnchanged) {
    EXPECT_EQ(terminal_safe("Invalid email: a\\b \"c\""), "Invalid email: a\\b \"c\"");
    EXPECT_EQ(terminal_safe("Zoë ünïcode ✓ 𝄞"), "Zoë ünïcode ✓ 𝄞");
    EXPECT_EQ(terminal_safe(""), "");
}

TEST(TerminalText, LineBreaksCannotForgeALogLine) {
    EXPECT_EQ(terminal_safe("bad\r\n2026-12-05T00:00:00Z info [synchost] run 1 succeeded"),
              "bad\\r\\n2026-12-05T00:00:00Z info [synchost] run 1 succeeded");
    EXPECT_EQ(terminal_safe("a\tb"), "a\\tb");
}

TEST(TerminalText, EscapeSequencesAndOtherControlsAreShownNotRun) {
    EXPECT_EQ(terminal_safe("\x1b[2J\x1b]0;owned\x07"), "\\x1b[2J\\x1b]0;owned\\x07");
    EXPECT_EQ(terminal_safe(std::string_view("a\0b", 3)), "a\\x00b");
    EXPECT_EQ(terminal_safe("\x7f\x08"), "\\x7f\\x08");
    // C1 CSI (U+009B) is ESC [ to some terminals.
    EXPECT_EQ(terminal_safe("\xc2\x9b"
                            "31m"),
              "\\u{009B}31m");
}

TEST(TerminalText, BidiOverridesCannotReorderWhatIsShown) {
    EXPECT_EQ(terminal_safe("ok \xe2\x80\xae"
                            "deliver"),
              "ok \\u{202E}deliver");
    EXPECT_EQ(terminal_safe("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u{2066}x\\u{2069}");
}

TEST(TerminalText, BytesThatAreNotUtf8AreShownAsBytes) {
    EXPECT_EQ(terminal_safe("\xff\xfe"), "\\xff\\xfe");
    EXPECT_EQ(terminal_safe("\xc0\xaf"), "\\xc0\\xaf");                    // overlong "/"
    EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
    EXPECT_EQ(terminal_safe("\xe2\x82"), "\\xe2\\x82");                    // cut short
    EXPECT_EQ(terminal_safe("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
}
