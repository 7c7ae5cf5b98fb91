// `synchost check SYNC`: everything that can go wrong before a run, checked in order: the
// definition, the plugin and its capabilities, the mapping, the source, the credentials, and the
// plugin's own check against the destination (read-only).
#include "cli/commands.hpp"
#include "cli/session.hpp"
#include "exit_codes.hpp"
#include "runtime/host_services.hpp"
#include "runtime/terminal_text.hpp"
#include "sources/source.hpp"
#include "state/source_state.hpp"
#include "sync/route_counts.hpp"
#include "sync/runner.hpp"

#include <support/suggest.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <iostream>
#include <optional>
#include <set>

namespace synchost {

namespace {

// At most this many distinct routed values are checked live (each is a call to the destination).
constexpr size_t kMaxRouteChecks = 1000;

// Rows that choose their own value of a config key (a routing field, ABI minor 3: an ad account
// per row) are checked value by value: every distinct value the model holds gets the plugin's
// check as a row routed to it would. That means reading the model, which --offline does not.
template <class Check, class Report>
int check_routes(const RouteCounts &routes, RowSource &source, bool offline, Check &&plugin_check, Report &&report) {
    const std::string what = "routing by " + routes.field();
    if (const auto &constant = routes.constant()) {  // one value for every row: no need to read the model
        if (constant->empty() || *constant == routes.fallback()) return kExitOk;
        const auto e = plugin_check(routes.config_key(), *constant);
        report("destination " + routes.config_key() + " " + *constant + " (the mapping's constant)", !e,
               e ? e->message : offline ? "valid (offline: not contacted)" : "accepted the live check");
        return e ? exit_code_for(e->category) : kExitOk;
    }
    if (offline) {
        report(what, true, "rows choose their " + routes.config_key() +
                               "; its values were not checked (that needs reading the model: run without --offline)");
        return kExitOk;
    }
    std::set<std::string> values;
    uint64_t rows = 0, invalid = 0;
    bool truncated = false;
    std::vector<sp_value> cells;
    while (source.next(cells)) {
        ++rows;
        std::string v = routes.value_of(cells);
        if (v.empty() || v == routes.fallback()) continue;  // the configured value: checked above
        if (!routes.valid(v)) ++invalid;
        else if (values.size() < kMaxRouteChecks || values.count(v)) values.insert(std::move(v));
        else truncated = true;
    }
    int code = kExitOk;
    size_t failed = 0;
    for (const std::string &v : values) {
        const auto e = plugin_check(routes.config_key(), v);
        report("destination " + routes.config_key() + " " + v, !e, e ? e->message : "accepted the live check");
        failed += e ? 1 : 0;
        if (e && code == kExitOk) code = exit_code_for(e->category);
    }
    // Never shown: a column mapped by mistake may hold personal data.
    if (invalid) report(what, false, std::to_string(invalid) + " rows have a value that is not a valid " +
                                        routes.config_key() + " (the run rejects them)");
    else report(what, failed == 0,
                std::to_string(values.size()) + " distinct " + routes.config_key() + " values in " +
                    std::to_string(rows) + " rows" + (failed ? ", " + std::to_string(failed) + " failed the check" : "") +
                    (truncated ? "; more were found, only " + std::to_string(kMaxRouteChecks) + " checked" : ""));
    return code != kExitOk ? code : invalid ? kExitRejectedRows : kExitOk;
}

}  // namespace

int cmd_check(const Argv &argv) {
    std::vector<FlagSpec> spec = common_flags();
    spec.push_back({"json", false, "print the checks as JSON"});
    spec.push_back({"offline", false, "skip the checks that need the network"});
    Args args(argv, spec, "usage: synchost check SYNC.json [options]\n\nChecks, in order: the definition, the plugin and its modes, the mapping, the source query, the credentials, then the destination itself (read-only).");
    if (args.positional().size() != 1) throw CliError(kExitConfig, "usage: synchost check SYNC.json [options]");
    const bool json = args.has("json");
    boost::json::array checks;
    auto report = [&](const std::string &name, bool ok, const std::string &detail) {
        checks.push_back({{"check", name}, {"ok", ok}, {"detail", detail}});
        if (!json) std::cout << (ok ? "ok    " : "FAIL  ") << name << (detail.empty() ? "" : ": " + terminal_safe(detail)) << "\n";
    };
    auto finish = [&](int code) {
        if (json) std::cout << boost::json::serialize(boost::json::object{{"checks", checks}, {"exit_code", code}}) << "\n";
        return code;
    };

    std::unique_ptr<Session> s;
    try {
        s = Session::load(args, args.positional()[0]);
    } catch (const CliError &e) {
        report("definition, plugin and mapping", false, e.what());
        return finish(e.code());
    }
    report("definition", true, s->def.name + " (" + (s->def.audience ? "audience " : "") + s->def.mode + ")");
    report("plugin", true, s->caps.id + " " + s->caps.version + " supports " +
                               (s->def.audience ? "audience sync mode " : "sync mode ") + s->def.mode);
    report("mapping", true, std::to_string(s->def.mapping.size()) + " fields; required fields mapped");

    std::unique_ptr<RowSource> source;
    try {
        source = open_source(s->def.source);
        const auto &cols = source->columns();
        require_model_columns(s->def, cols);  // what `sync` looks up, refused in its words
        report("source", true, s->def.source.type + ", " + std::to_string(cols.size()) + " columns");
    } catch (const std::exception &e) {
        report("source", false, e.what());
        return finish(kExitConfig);
    }
    if (s->def.state.beside_source) {  // before the first run, the table must be creatable
        try {
            const auto beside = SourceState::open(s->def, SourceState::Access::read);
            if (beside->exists()) {
                report("state", true, "delivered keys beside the model in " + beside->table() + ": " +
                                          std::to_string(beside->counts().first));
            } else if (const std::string grant = beside->missing_grant(); grant.empty()) {
                report("state", true, beside->table() + " will be created by the first run");
            } else {
                report("state", false, "the role may not create " + beside->table() + ": grant it " + grant);
                return finish(kExitConfig);
            }
        } catch (const std::exception &e) {
            report("state", false, e.what());
            return finish(kExitConfig);
        }
    }

    std::unique_ptr<TokenService> tokens;
    try {
        tokens = s->tokens();
        if (tokens) {
            std::string token, message;
            const sp_credential_status st = tokens->get(false, nullptr, token, message);
            if (st != SP_CRED_OK) throw CliError(st == SP_CRED_TRANSIENT ? kExitTransient : kExitAuth, message);
            report("credentials", true, s->def.token_env.empty() ? "connection " + s->def.credentials
                                                                 : "token from $" + s->def.token_env);
        } else if (s->caps.auth.kinds == SP_AUTH_NONE) {
            report("credentials", true, "not needed (" + s->caps.id + " declares no auth)");
        } else {
            report("credentials", true, "none configured (the destination may refuse the run)");
        }
    } catch (const CliError &e) {
        report("credentials", false, e.what());
        return finish(e.code());
    }

    // The plugin's check: config values offline, then the live account unless --offline. With
    // `key` = `value`, as a row routed to that value would use it.
    std::atomic<bool> never{false};
    const CredentialSource credentials = credential_source(tokens.get());
    HostServices services(s->log, s->caps.id, never, credentials);
    auto plugin_check = [&](const std::string &key, const std::string &value) -> std::optional<PluginError> {
        std::vector<sp_config_entry> entries;
        for (const auto &[k, v] : s->def.config)
            if (k != key) entries.push_back({sizeof(sp_config_entry), k.c_str(), v.c_str()});
        if (!key.empty()) {
            entries.push_back({sizeof(sp_config_entry), key.c_str(), value.c_str()});
            entries.push_back({sizeof(sp_config_entry), SP_CONFIG_ROUTED_CHECK, "true"});
        }
        std::vector<const sp_config_entry *> ptrs;
        for (const auto &e : entries) ptrs.push_back(&e);
        sp_config config{sizeof(sp_config), static_cast<uint32_t>(ptrs.size()), ptrs.data()};
        sp_error *err = nullptr;
        if (s->plugin->entry().check(&config, args.has("offline") ? nullptr : services.get(), &err) == SP_OK)
            return std::nullopt;
        return take_error(*s->plugin, err, "check failed");
    };
    if (auto e = plugin_check("", "")) {
        report("destination", false, e->message);
        return finish(exit_code_for(e->category));
    }
    // The plugin's check decides what "live" means (an account, a file, a bucket): say only what
    // the host knows.
    const bool needs_auth = s->caps.auth.kinds != SP_AUTH_NONE;
    report("destination", true,
           args.has("offline") ? "config valid (offline: the destination was not contacted)"
           : needs_auth        ? "the destination accepted the live check with these credentials"
                               : "the destination accepted the live check");
    if (auto routes = RouteCounts::find(s->plugin->descriptor(), s->def, source->columns()))
        return finish(check_routes(*routes, *source, args.has("offline"), plugin_check, report));
    return finish(kExitOk);
}

}  // namespace synchost
