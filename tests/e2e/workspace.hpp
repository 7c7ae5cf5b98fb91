// What the end-to-end tests share: a scratch directory with a shop database, a running
// pinterest-sandbox, sync definitions pointing at it, and synchost run as a child process.
#pragma once

#include "command.hpp"
#include "poll.hpp"
#include "sandbox_process.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace e2e {

using test_support::Command;
using test_support::CommandResult;
using test_support::eventually;
namespace fs = std::filesystem;
namespace json = boost::json;

inline const std::string kToken = "e2e-canary-token-31f9";

inline const std::string kOrderMapping =
    R"({"event_name": "event_type", "event_time": "created_at", "email": "email", "value": "total", "order_id": "order_id"})";

inline int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

inline std::string read_text(const std::string &path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The last line of a run's stdout: the --json summary.
inline json::value summary(const CommandResult &r) {
    const auto nl = r.out.find_last_of('\n', r.out.size() - 2);
    return json::parse(nl == std::string::npos ? r.out : r.out.substr(nl + 1));
}

class Workspace {
public:
    explicit Workspace(std::vector<std::string> sandbox_args = {})
        : sandbox_(SANDBOX_EXE, kToken, std::move(sandbox_args)) {
        char tmpl[] = "/tmp/e2e-sync.XXXXXX";
        dir_ = ::mkdtemp(tmpl);
    }
    ~Workspace() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    const std::string &dir() const { return dir_; }
    const sandbox_test::Sandbox &sandbox() const { return sandbox_; }
    // Where synchost keeps the state of sync `name` under the default state directory.
    std::string state_file(const std::string &name) const {
        return dir_ + "/.synchost/syncs/" + name + "/state.sqlite";
    }

    void sql(const std::string &statements) {
        sqlite3 *db = nullptr;
        ASSERT_EQ(sqlite3_open((dir_ + "/shop.db").c_str(), &db), SQLITE_OK);
        char *err = nullptr;
        ASSERT_EQ(sqlite3_exec(db, statements.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
        sqlite3_close(db);
    }

    // Orders first..last; every 50th has an invalid email (rejected by the plugin with a reason).
    void add_orders(int first, int last) {
        sql("CREATE TABLE IF NOT EXISTS orders(order_id TEXT PRIMARY KEY, event_type TEXT, created_at INTEGER, "
            "email TEXT, total REAL);");
        std::string s = "BEGIN;";
        for (int i = first; i <= last; ++i)
            s += "INSERT INTO orders VALUES('o" + std::to_string(i) + "', 'checkout', " +
                 std::to_string(now_s() - 600) + ", '" +
                 (i % 50 == 0 ? std::string("no-at-sign.example") : " Buyer" + std::to_string(i) + "@Shop.example ") +
                 "', " + std::to_string(i % 100) + ".5);";
        sql(s + "COMMIT;");
    }

    // Orders first..last, every one with a valid email.
    void add_valid_orders(int first, int last) {
        add_orders(first, last);
        sql("UPDATE orders SET email = 'ok' || order_id || '@shop.example';");
    }

    // `credentials` is the definition's "credentials" value (JSON).
    void write_sync(const std::string &name, const std::string &mode_line, const std::string &query,
                    const std::string &mapping, const std::string &extra_config = "",
                    const std::string &credentials = R"({"token_env": "E2E_TOKEN"})") {
        std::ofstream f(dir_ + "/" + name + ".json");
        f << "{\n  // written by the e2e test\n"
          << "  \"name\": \"" << name << "\",\n"
          << "  \"source\": {\"type\": \"sqlite\", \"database\": \"shop.db\", \"query\": \"" << query << "\"},\n"
          << "  \"primary_key\": \"order_id\",\n"
          << "  " << mode_line << ",\n"
          << "  \"destination\": {\"plugin\": \"pinterest_conversions\", \"config\": {\"ad_account_id\": "
             "\"549755885175\", "
          << "\"api_base_url\": \"" << sandbox_.url() << "\", \"ca_file\": \"" << sandbox_.ca_file()
          << "\", \"calls_per_minute\": 1000000, \"retry_initial_backoff_ms\": 20" << extra_config << "}},\n"
          << "  \"credentials\": " << credentials << ",\n"
          << "  \"mapping\": " << mapping << ",\n}\n";
    }

    CommandResult synchost(std::vector<std::string> args,
                           std::vector<std::pair<std::string, std::string>> env = {{"E2E_TOKEN", kToken}}) {
        args.insert(args.begin(), SYNCHOST_EXE);
        args.insert(args.end(), {"--plugin-path", PLUGIN_DIR});
        return Command::run(args, dir_, env);
    }

    std::unique_ptr<Command> start_synchost(std::vector<std::string> args) {
        args.insert(args.begin(), SYNCHOST_EXE);
        args.insert(args.end(), {"--plugin-path", PLUGIN_DIR});
        return std::make_unique<Command>(args, dir_,
                                         std::vector<std::pair<std::string, std::string>>{{"E2E_TOKEN", kToken}});
    }

    // `synchost connect` through the sandbox's OAuth flow, curl playing the browser. `extra` are
    // more flags (e.g. --credentials FILE). Returns connect's result.
    CommandResult connect(const std::string &name, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {SYNCHOST_EXE,
                                         "connect",
                                         "pinterest_conversions",
                                         "--name",
                                         name,
                                         "--client-id",
                                         "sandbox-client",
                                         "--authorize-url",
                                         sandbox_.url() + "/oauth/",
                                         "--token-url",
                                         sandbox_.url() + "/v5/oauth/token",
                                         "--ca-file",
                                         sandbox_.ca_file(),
                                         "--no-browser",
                                         "--timeout",
                                         "30",
                                         "--plugin-path",
                                         PLUGIN_DIR};
        args.insert(args.end(), extra.begin(), extra.end());
        Command c(args, dir_, {{"SYNCHOST_CLIENT_SECRET", "sandbox-secret"}});
        const std::string prefix = "Open this URL to authorize: ";
        if (!c.wait_for_stdout(prefix, std::chrono::seconds(20))) return c.wait();
        std::string url = c.stdout_text().substr(c.stdout_text().find(prefix) + prefix.size());
        url = url.substr(0, url.find('\n'));
        // The sandbox approves with a redirect to connect's loopback listener, which curl follows.
        Command::run({"/usr/bin/curl", "-sS", "-L", "--cacert", sandbox_.ca_file(), "-o", "/dev/null", url}, dir_);
        return c.wait();
    }

    json::value stats() { return json::parse(sandbox_.client()->request("GET", "/_sandbox/stats").body); }
    int64_t stat(const char *k) { return stats().at(k).to_number<int64_t>(); }
    // How many requests the sandbox answered with fault `action` (e.g. "hang", "status").
    int64_t faults(const char *action) {
        // Keep the parsed document alive: a pointer into a temporary dangles (ASan caught it).
        const json::value all = stats();
        const json::value *n = all.at("faults_by_action").as_object().if_contains(action);
        return n ? n->to_number<int64_t>() : 0;
    }
    // Waits until the sandbox's counters satisfy `done(stats)`; a timeout is a hang, not a speed.
    template <class Pred>
    bool wait_for_sandbox(Pred done, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        return eventually([&] { return done(stats()); }, timeout);
    }
    // Drops the sandbox's --fault options: the destination is healthy from the next request on.
    void heal() { ASSERT_EQ(sandbox_.client()->request("POST", "/_sandbox/heal").status, 200u); }
    // `synchost status NAME.json --json`.
    json::value status(const std::string &name) {
        CommandResult st = synchost({"status", name + ".json", "--json"});
        EXPECT_EQ(st.exit_code, 0) << st.err;
        return st.exit_code == 0 ? json::parse(st.out) : json::value();
    }

private:
    sandbox_test::Sandbox sandbox_;
    std::string dir_;
};

}  // namespace e2e
