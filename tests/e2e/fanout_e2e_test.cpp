// End to end, one sync fanned out to many ad accounts: the ad_account_id field maps a column, so
// each row's event goes to its own account. The sandbox enforces each account's own budget
// (--account-rate-limit) and forbids one account; the plugin paces every account on the budget the
// config gives it (account_calls_per_minute) and keeps the forbidden account's refusal to that
// account's rows.
#include "workspace.hpp"

#include <tuple>

using namespace e2e;

namespace {

constexpr int kAccounts = 20;
constexpr int kRowsPerAccount = 12;
constexpr int kForbidden = 13;  // index of the account the token may not use

std::string account(int i) {
    return std::to_string(1000000000 + i);
}

// Even accounts on 300 calls/minute (the sandbox's bucket then holds 5 calls, the plugin's pacer
// lets 4 go at once), odd ones on 3,000. The rows alternate between the accounts and the host
// reads 20 at a time, so each account gets one request per batch, 12 in all: an even account sent
// them at the sync's own budget (1,000,000 calls/minute) would be answered 429.
int budget(int i) {
    return i % 2 == 0 ? 300 : 3000;
}

std::vector<std::string> sandbox_args() {
    std::vector<std::string> args = {"--ad-account", "549755885175"};
    for (int i = 0; i < kAccounts; ++i) {
        args.insert(args.end(), {i == kForbidden ? "--forbidden-account" : "--ad-account", account(i)});
        args.insert(args.end(), {"--account-rate-limit", account(i) + ":" + std::to_string(budget(i))});
    }
    return args;
}

std::string budgets_config() {
    std::string pairs;
    for (int i = 0; i < kAccounts; ++i) pairs += (i ? "," : "") + account(i) + ":" + std::to_string(budget(i));
    return ", \"account_calls_per_minute\": \"" + pairs + "\"";
}

int64_t count_in(const json::value &stats, const char *object, const std::string &key) {
    const json::value *n = stats.at(object).as_object().if_contains(key);
    return n ? n->to_number<int64_t>() : 0;
}

// rows o1..o240 alternate between the 20 accounts (o1's padded with a byte-order mark, no-break
// spaces and a blank), o241..o260 name none but o241 names the configured account, o261 names
// "12ab" and o262 holds a floating-point number (the column has no type, so it stays one).
void write_fanout_sync(Workspace &w, const std::string &extra_config = "") {
    const int rows = kAccounts * kRowsPerAccount;
    w.add_valid_orders(1, rows + 22);
    w.sql(
        "ALTER TABLE orders ADD COLUMN account;"
        "UPDATE orders SET account = CAST(1000000000 + CAST(substr(order_id, 2) AS INTEGER) % 20 AS TEXT) "
        "WHERE CAST(substr(order_id, 2) AS INTEGER) <= " +
        std::to_string(rows) +
        ";"
        "UPDATE orders SET account = char(65279, 160) || account || char(160) || ' ' WHERE order_id = 'o1';"
        "UPDATE orders SET account = '549755885175' WHERE order_id = 'o" + std::to_string(rows + 1) + "';" +
        "UPDATE orders SET account = '12ab' WHERE order_id = 'o" + std::to_string(rows + 21) + "';" +
        "UPDATE orders SET account = " + account(1) + ".0 WHERE order_id = 'o" + std::to_string(rows + 22) + "';");
    const std::string mapping = kOrderMapping.substr(0, kOrderMapping.size() - 1) + R"(, "ad_account_id": "account"})";
    w.write_sync("orders", R"("mode": "insert", "batch_size": 20)", "SELECT * FROM orders", mapping, budgets_config() + extra_config);
}

}  // namespace

// 240 rows over 20 accounts, 20 rows with no account or the configured one (they go to the
// configured one) and 2 with an account that is not an id (text that is not digits, a
// floating-point number). Every allowed account gets exactly its rows with no 429 answer;
// the forbidden account's 12 rows and the 2 malformed ones are rejected with their reasons (exit 1).
TEST(FanOutE2E, EachAccountOnItsOwnBudgetAndAForbiddenOneRejectsOnlyItsOwnRows) {
    Workspace w(sandbox_args());
    write_fanout_sync(w);

    CommandResult run = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(run.exit_code, 1) << run.out << run.err;
    const json::value s = summary(run);
    EXPECT_EQ(s.at("delivered").as_int64(), (kAccounts - 1) * kRowsPerAccount + 20);
    EXPECT_EQ(s.at("rejected").as_int64(), kRowsPerAccount + 2);

    const json::value stats = w.stats();
    for (int i = 0; i < kAccounts; ++i) {
        EXPECT_EQ(count_in(stats, "events_by_account", account(i)), i == kForbidden ? 0 : kRowsPerAccount)
            << "account " << account(i);
        EXPECT_EQ(count_in(stats, "rate_limited_by_account", account(i)), 0)
            << "account " << account(i) << " was sent more than its budget of " << budget(i) << " calls/minute";
    }
    EXPECT_EQ(count_in(stats, "events_by_account", "549755885175"), 20) << "rows without an account";
    EXPECT_EQ(w.stat("rate_limited"), 0);

    const json::value st = w.status("orders");
    std::map<std::string, int64_t> reasons;
    for (const auto &r : st.at("top_rejection_reasons").as_array())
        reasons[std::string(r.at("reason").as_string())] = r.at("count").as_int64();
    int64_t forbidden = 0, malformed = 0;
    for (const auto &[reason, n] : reasons) {
        if (reason.find("denied access to ad account " + account(kForbidden)) != std::string::npos) forbidden += n;
        if (reason.find("ad_account_id: is not an ad account id") != std::string::npos ||
            reason.find("ad_account_id: is a floating-point number") != std::string::npos)
            malformed += n;
    }
    EXPECT_EQ(forbidden, kRowsPerAccount) << st;
    EXPECT_EQ(malformed, 2) << st;

    // The host breaks the run down by the routing field the descriptor names (ABI minor 3), in
    // the --json summary and in status; a value that is not an account id is counted, not shown.
    const json::object &routes = s.at("routes").as_object();
    EXPECT_EQ(routes.at("field").as_string(), "ad_account_id");
    const json::object &by = routes.at("counts").as_object();
    EXPECT_EQ(by.size(), static_cast<size_t>(kAccounts + 2)) << routes;
    auto counts = [&](const std::string &key) {
        const json::object &c = by.at(key).as_object();
        return std::tuple{c.at("delivered").as_int64(), c.at("rejected").as_int64(), c.at("retry").as_int64()};
    };
    for (int i = 0; i < kAccounts; ++i)
        EXPECT_EQ(counts(account(i)),
                  (i == kForbidden ? std::tuple{0, kRowsPerAccount, 0} : std::tuple{kRowsPerAccount, 0, 0}))
            << account(i);
    EXPECT_EQ(counts("549755885175"), (std::tuple{20, 0, 0})) << "rows without an account count for the configured one";
    EXPECT_EQ(counts("(not a valid ad_account_id)"), (std::tuple{0, 2, 0}));
    EXPECT_EQ(by.if_contains("12ab"), nullptr);
    EXPECT_EQ(st.at("runs").as_array().at(0).at("routes"), s.at("routes"));
    CommandResult text = w.synchost({"status", "orders.json"});
    EXPECT_NE(text.out.find("run #1 by ad_account_id:\n"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("  " + account(kForbidden) + "  delivered 0, rejected 12, retry 0\n"), std::string::npos)
        << text.out;
}

// check reads the model for the accounts it routes to and checks each as a run would use it: the
// forbidden one fails with Pinterest's reason (exit 3), the malformed values are counted without
// being shown; --offline says it did not look. The conversion tag belongs to the configured
// account only, so it is not looked for in the routed ones.
TEST(FanOutE2E, CheckVerifiesEveryAccountTheModelRoutesTo) {
    std::vector<std::string> args = sandbox_args();
    args.insert(args.end(), {"--conversion-tag", "777@549755885175"});
    Workspace w(args);
    write_fanout_sync(w, ", \"conversion_tag_id\": \"777\"");
    const int64_t checks_before = count_in(w.stats(), "requests", "ad_account");
    CommandResult check = w.synchost({"check", "orders.json"});
    EXPECT_EQ(check.exit_code, 3) << check.out << check.err;
    for (int i = 0; i < kAccounts; ++i) {
        const std::string line =
            (i == kForbidden ? "FAIL  destination ad_account_id " : "ok    destination ad_account_id ") + account(i);
        EXPECT_NE(check.out.find(line + (i == kForbidden ? ": the token has no access to ad account " + account(i)
                                                         : ": accepted the live check")),
                  std::string::npos)
            << line << "\n"
            << check.out;
    }
    EXPECT_NE(check.out.find("FAIL  routing by ad_account_id: 2 rows have a value that is not a valid ad_account_id"),
              std::string::npos)
        << check.out;
    EXPECT_EQ(check.out.find("12ab"), std::string::npos) << check.out;
    EXPECT_EQ(count_in(w.stats(), "requests", "ad_account") - checks_before, kAccounts + 1)
        << "each routed account and the configured one, once";
    EXPECT_EQ(count_in(w.stats(), "requests", "conversion_tag"), 1) << "the tag of the configured account only";

    // Without the malformed values, the summary says how many accounts failed, and is no "ok".
    w.sql("UPDATE orders SET account = NULL WHERE typeof(account) = 'real' OR account = '12ab';");
    CommandResult clean = w.synchost({"check", "orders.json"});
    EXPECT_EQ(clean.exit_code, 3) << clean.out << clean.err;
    EXPECT_NE(clean.out.find("FAIL  routing by ad_account_id: 20 distinct ad_account_id values in 262 rows, 1 failed "
                             "the check\n"),
              std::string::npos)
        << clean.out;

    CommandResult offline = w.synchost({"check", "orders.json", "--offline"});
    EXPECT_EQ(offline.exit_code, 0) << offline.out;
    EXPECT_NE(offline.out.find(
                  "ok    routing by ad_account_id: rows choose their ad_account_id; its values were not checked"),
              std::string::npos)
        << offline.out;
}

// ad_account_id mapped to a constant stands for the configured account in every row: a constant
// that is no account id is refused with the definition (exit 2) instead of rejecting every row;
// a valid one is checked as a routed account would be, and the run's counts are kept under it.
TEST(FanOutE2E, AConstantAccountIsCheckedAndCountedAsEveryRowsAccount) {
    std::vector<std::string> args = sandbox_args();
    Workspace w(args);
    w.add_valid_orders(1, 5);
    const auto with_constant = [&](const std::string &constant) {
        const std::string mapping =
            kOrderMapping.substr(0, kOrderMapping.size() - 1) + R"(, "ad_account_id": {"value": ")" + constant + "\"}}";
        w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", mapping);
    };
    // A number that is no integer cannot stand for an account id either.
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders",
                 kOrderMapping.substr(0, kOrderMapping.size() - 1) + R"(, "ad_account_id": {"value": 1000000002.5}})");
    CommandResult real = w.synchost({"check", "orders.json"});
    EXPECT_EQ(real.exit_code, 2) << real.out << real.err;
    EXPECT_NE((real.out + real.err).find("the constant stands for config key ad_account_id and must be text or an integer"),
              std::string::npos)
        << real.out << real.err;

    with_constant("12ab");
    for (const char *command : {"check", "sync"}) {
        CommandResult refused = w.synchost({command, "orders.json"});
        EXPECT_EQ(refused.exit_code, 2) << command << "\n" << refused.out << refused.err;
        EXPECT_NE((refused.out + refused.err).find("the constant \"12ab\" is not a valid ad_account_id"),
                  std::string::npos)
            << command << "\n" << refused.out << refused.err;
    }
    // --json prints a summary of a run refused before it started too (the message also on stderr).
    CommandResult json_refused = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(json_refused.exit_code, 2) << json_refused.out << json_refused.err;
    const json::value refusal = json::parse(json_refused.out);
    EXPECT_EQ(refusal.at("status"), "not run") << json_refused.out;
    EXPECT_EQ(refusal.at("exit_code"), 2) << json_refused.out;
    EXPECT_NE(json::value_to<std::string>(refusal.at("error")).find("the constant \"12ab\" is not a valid"),
              std::string::npos)
        << json_refused.out;
    EXPECT_EQ(w.stat("events_received"), 0);

    with_constant(account(kForbidden));
    CommandResult check = w.synchost({"check", "orders.json"});
    EXPECT_EQ(check.exit_code, 3) << check.out << check.err;
    EXPECT_NE(check.out.find("FAIL  destination ad_account_id " + account(kForbidden) +
                             " (the mapping's constant): the token has no access to ad account " + account(kForbidden)),
              std::string::npos)
        << check.out;

    with_constant(" " + account(2) + " ");
    CommandResult run = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_EQ(count_in(w.stats(), "events_by_account", account(2)), 5);
    const json::value s = summary(run);
    const json::object &by = s.at("routes").at("counts").as_object();
    EXPECT_EQ(by.size(), 1u) << by;
    EXPECT_EQ(by.at(account(2)).at("delivered").as_int64(), 5) << by;
}
