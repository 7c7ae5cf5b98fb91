// syncplugin-harness PLUGIN.so [options]: runs every conformance check in its own child process
// with a timeout and prints pass/fail/skip/crash/timeout per check; --json for a report.
#include "harness.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <poll.h>
#include <regex>
#include <sys/wait.h>
#include <unistd.h>

using namespace harness;

namespace {

const char *kUsage =
    "usage: syncplugin-harness PLUGIN.so [options]\n"
    "  --config KEY=VALUE   a known-good plugin config entry (repeatable)\n"
    "  --map FIELD=COLUMN   a mapping entry for write checks (repeatable)\n"
    "  --sample FILE.jsonl  rows (JSON objects keyed by column) the plugin must accept\n"
    "  --manifest FILE      manifest to compare with the descriptor (default: <id>.json beside PLUGIN.so,\n"
    "                       else the descriptor's embedded manifest_json)\n"
    "  --scratch-config KEY=VALUE  config for real writes, over --config (repeatable); enables the real.* checks\n"
    "  --scratch-file PATH  a file real writes land in (must grow; a dry run must not touch it); also the\n"
    "                       value of the plugin's only path-typed config key unless --scratch-config sets it\n"
    "  --token-env VAR      real writes get the access token in environment variable VAR (plugins with auth)\n"
    "  --include REGEX      run only checks whose name matches\n"
    "  --exclude REGEX      skip checks whose name matches\n"
    "  --timeout-ms N       per-check timeout (default 20000)\n"
    "  --in-process         run checks in this process (for debugging; a crash ends the run)\n"
    "  --json               print a JSON report instead of text\n"
    "  --list               list the checks and exit\n"
    "Exit status: 0 when no check failed, crashed or timed out; 1 otherwise; 2 on usage errors.\n";

struct Result {
    std::string name, status, message;
    long long ms = 0;
};

// Runs one check in this process; returns status and message.
std::pair<std::string, std::string> run_here(const Check &c, const Options &o) {
    try {
        c.run(o);
        return {"pass", ""};
    } catch (const CheckEnd &e) {
        return {e.outcome == Outcome::skip ? "skip" : "fail", e.message};
    } catch (const std::exception &e) {
        // Checks turn the harness's own exceptions into messages (CheckEnd), so this one most
        // likely crossed the C boundary from the plugin.
        return {"fail", std::string("exception escaped the plugin: ") + e.what()};
    } catch (...) {
        return {"fail", "an exception escaped the plugin"};
    }
}

Result run_isolated(const Check &c, const Options &o) {
    Result r{c.name, "", "", 0};
    int fds[2];
    if (::pipe(fds) != 0) return {c.name, "fail", "pipe() failed", 0};
    const auto t0 = std::chrono::steady_clock::now();
    std::cout.flush();
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        auto [status, message] = run_here(c, o);
        std::string line = status + "\n" + message;
        (void)!::write(fds[1], line.data(), line.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    bool timed_out = false;
    for (;;) {
        const auto left = o.timeout_ms - std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - t0).count();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    int ws = 0;
    if (timed_out) ::kill(pid, SIGKILL);
    ::waitpid(pid, &ws, 0);
    r.ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    if (timed_out) {
        r.status = "timeout";
        r.message = "no answer within " + std::to_string(o.timeout_ms) + " ms";
    } else if (WIFSIGNALED(ws)) {
        r.status = "crash";
        r.message = std::string("killed by signal ") + strsignal(WTERMSIG(ws));
    } else if (out.empty()) {
        r.status = "crash";
        r.message = "exited with status " + std::to_string(WEXITSTATUS(ws)) + " before reporting";
    } else {
        const size_t nl = out.find('\n');
        r.status = out.substr(0, nl);
        r.message = nl == std::string::npos ? "" : out.substr(nl + 1);
    }
    return r;
}

std::pair<std::string, std::string> split_kv(const std::string &s, const char *flag) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
        std::cerr << "syncplugin-harness: " << flag << " expects KEY=VALUE, got \"" << s << "\"\n";
        std::exit(2);
    }
    return {s.substr(0, eq), s.substr(eq + 1)};
}

}  // namespace

int main(int argc, char **argv) {
    Options o;
    std::string include, exclude;
    bool json = false, in_process = false, list = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "syncplugin-harness: " << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--config") o.config.push_back(split_kv(value(), "--config"));
        else if (a == "--map") o.mapping.push_back(split_kv(value(), "--map"));
        else if (a == "--scratch-config") o.scratch_config.push_back(split_kv(value(), "--scratch-config"));
        else if (a == "--scratch-file") o.scratch_file = value();
        else if (a == "--token-env") {
            const std::string var = value();
            const char *token = std::getenv(var.c_str());
            if (token == nullptr || token[0] == '\0') {
                std::cerr << "syncplugin-harness: --token-env: environment variable " << var << " is not set\n";
                return 2;
            }
            o.token = token;
        }
        else if (a == "--sample") {
            std::ifstream in(value());
            if (!in) {
                std::cerr << "syncplugin-harness: cannot read " << argv[i] << "\n";
                return 2;
            }
            for (std::string line; std::getline(in, line);)
                if (!line.empty()) o.sample_rows.push_back(line);
        } else if (a == "--manifest") o.manifest = value();
        else if (a == "--include") include = value();
        else if (a == "--exclude") exclude = value();
        else if (a == "--timeout-ms") o.timeout_ms = std::atoi(value().c_str());
        else if (a == "--json") json = true;
        else if (a == "--in-process") in_process = true;
        else if (a == "--list") list = true;
        else if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (!a.empty() && a[0] == '-') {
            std::cerr << "syncplugin-harness: unknown option " << a << "\n" << kUsage;
            return 2;
        } else if (o.library.empty()) o.library = a;
        else {
            std::cerr << "syncplugin-harness: one plugin at a time\n";
            return 2;
        }
    }
    if (list) {
        for (const auto &c : registry()) std::cout << c.name << "  " << c.what << "\n";
        return 0;
    }
    if (o.library.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    if (o.library.find('/') == std::string::npos) o.library = "./" + o.library;  // dlopen would search the path

    std::regex inc(include.empty() ? ".*" : include), exc(exclude.empty() ? "$^" : exclude);
    std::vector<Result> results;
    int bad = 0;
    for (const auto &c : registry()) {
        if (!std::regex_search(c.name, inc) || std::regex_search(c.name, exc)) continue;
        Result r;
        if (in_process) {
            auto t0 = std::chrono::steady_clock::now();
            auto [s, m] = run_here(c, o);
            r = {c.name, s, m, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()};
        } else {
            r = run_isolated(c, o);
        }
        if (r.status != "pass" && r.status != "skip") ++bad;
        if (!json) {
            std::string tag = r.status;
            for (auto &ch : tag) ch = static_cast<char>(std::toupper(ch));
            std::cout << tag << (tag.size() < 7 ? std::string(8 - tag.size(), ' ') : " ") << c.name << " (" << r.ms
                      << " ms)" << (r.message.empty() ? "" : ": " + r.message) << "\n";
        }
        results.push_back(r);
    }
    if (json) {
        boost::json::array checks;
        size_t counts[5] = {0, 0, 0, 0, 0};
        const char *names[5] = {"pass", "fail", "skip", "crash", "timeout"};
        for (const auto &r : results) {
            checks.push_back({{"name", r.name}, {"status", r.status}, {"message", r.message}, {"ms", r.ms}});
            for (int k = 0; k < 5; ++k)
                if (r.status == names[k]) ++counts[k];
        }
        boost::json::object summary;
        for (int k = 0; k < 5; ++k) summary[names[k]] = counts[k];
        std::cout << boost::json::serialize(boost::json::object{{"plugin", o.library}, {"checks", checks}, {"summary", summary}})
                  << "\n";
    } else {
        std::cout << results.size() << " checks: " << (results.size() - static_cast<size_t>(bad)) << " passed or skipped, "
                  << bad << " failed\n";
    }
    return bad == 0 ? 0 : 1;
}
