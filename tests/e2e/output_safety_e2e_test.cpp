// End to end, what synchost prints about data it does not control: a destination's error
// messages cannot drive the terminal or forge log lines, and primary keys that are personal
// identifiers are masked in `status` unless asked for.
#include "workspace.hpp"

using namespace e2e;

namespace {

// What a hostile or broken destination might put in an error message: clear the screen, retitle
// the window, and a line break followed by a forged log line.
const std::string kHostileMessage =
    "\x1b[2J\x1b]0;owned\x07 bad event\r\n2026-01-01T00:00:00.000Z info [synchost] run 7 succeeded \xc2\x9b"
    "31m";

void expect_printable(const std::string &text, const char *what) {
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << what << " printed an ESC";
    EXPECT_EQ(text.find('\r'), std::string::npos) << what << " printed a CR";
    EXPECT_EQ(text.find('\x07'), std::string::npos) << what << " printed a BEL";
    EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << what << " printed a C1 CSI";
    EXPECT_EQ(text.find("\n2026-01-01T00:00:00.000Z"), std::string::npos) << what << " printed a forged log line";
}

}  // namespace

// The first request gets a 503 with the hostile message (the plugin logs it as it retries), and
// every request's first event then fails with it. The run's log and `status` show it escaped:
// "\x1b[2J", "\r\n" as text, on the line it belongs to.
TEST(OutputSafetyE2E, ADestinationsErrorTextCannotDriveTheTerminalOrForgeALogLine) {
    Workspace w({"--fault", "status:503,on=1,message=" + kHostileMessage, "--fault",
                 "event_fail:0,message=" + kHostileMessage});
    w.add_valid_orders(1, 20);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
    CommandResult run = w.synchost({"sync", "orders.json", "--log-level", "debug"});
    EXPECT_EQ(run.exit_code, 1) << run.err;  // rows rejected
    expect_printable(run.out + run.err, "sync");
    EXPECT_NE(run.err.find("\\x1b[2J\\x1b]0;owned\\x07 bad event\\r\\n2026-01-01T00:00:00.000Z"), std::string::npos)
        << "the retry's log line shows the message escaped\n"
        << run.err;
    EXPECT_EQ(w.faults("status"), 1);
    EXPECT_EQ(w.stat("events_failed"), 1);

    CommandResult st = w.synchost({"status", "orders.json"});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    expect_printable(st.out, "status");
    EXPECT_NE(st.out.find("\\x1b[2J\\x1b]0;owned\\x07 bad event\\r\\n2026-01-01T00:00:00.000Z"), std::string::npos)
        << st.out;
    EXPECT_NE(st.out.find("\\u{009B}31m"), std::string::npos) << st.out;

    // JSON keeps the text as sent (escaped by JSON itself), for programs that read it.
    CommandResult js = w.synchost({"status", "orders.json", "--json"});
    ASSERT_EQ(js.exit_code, 0) << js.err;
    EXPECT_EQ(js.out.find('\x1b'), std::string::npos);
    const std::string reason(json::parse(js.out).at("top_rejection_reasons").at(0).at("reason").as_string());
    EXPECT_NE(reason.find(kHostileMessage.substr(0, 20)), std::string::npos) << reason;
}

// Phone numbers as primary keys: `status` and `status --json` mask them, --show-keys prints them.
TEST(OutputSafetyE2E, PhoneNumberKeysAreMaskedInStatusUnlessAskedFor) {
    Workspace w({"--fault", "event_fail:0"});
    w.add_valid_orders(1, 5);
    w.sql("UPDATE orders SET order_id = '+1 415 777 90' || printf('%02d', rowid);");
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders ORDER BY order_id", kOrderMapping);
    CommandResult run = w.synchost({"sync", "orders.json"});
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_EQ(run.err.find("415 777"), std::string::npos) << run.err;

    CommandResult st = w.synchost({"status", "orders.json"});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    EXPECT_EQ(st.out.find("415 777"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find("e.g. keys: ***01"), std::string::npos) << st.out;

    CommandResult js = w.synchost({"status", "orders.json", "--json"});
    ASSERT_EQ(js.exit_code, 0) << js.err;
    EXPECT_EQ(js.out.find("415 777"), std::string::npos) << js.out;
    EXPECT_EQ(json::parse(js.out).at("top_rejection_reasons").at(0).at("example_keys").at(0).as_string(), "***01");

    CommandResult shown = w.synchost({"status", "orders.json", "--show-keys"});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_NE(shown.out.find("e.g. keys: +1 415 777 9001"), std::string::npos) << shown.out;
}
