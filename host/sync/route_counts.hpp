// Counts per routing value. A plugin may declare a destination field that replaces one of its config
// keys row by row (sp_destination_field.config_key, ABI minor 3): the Pinterest plugin's
// ad_account_id sends each row to the ad account it names. When such a field is mapped to a
// column, a run's delivered, rejected and retry counts are also kept per value of that column, so
// that `sync --json` and `status` show what each account received. The host knows no account: it
// reads the field's name and config key from the descriptor.
#pragma once

#include "sync/definition.hpp"

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace boost::json {
class value;
}

namespace synchost {

struct RunSummary;

// A run's counts per routing value (RunSummary::routes) as JSON, or null when it kept none.
boost::json::value routes_json(const RunSummary &r);

// What `status` prints of them: one line per value.
void print_routes(std::ostream &out, const RunSummary &r);

// A cell's value for a routing field, read as syncplugin.h says (config_key): an integer in
// decimal, text trimmed, "" for NULL or blank; nothing for a real, a boolean or bytes (never a value).
std::optional<std::string> routing_text(const sp_value &v);

class RouteCounts {
public:
    struct Counts {
        uint64_t delivered = 0, rejected = 0, retry = 0;
    };

    // The first routing field of `d` that `def` maps to a column of `columns` or to a constant, or
    // nothing. A field
    // that replaces a secret config key, or one without a pattern, is never broken down (its values
    // would be shown). Values that do not match the config key's pattern are counted together,
    // never shown: a column mapped by mistake (emails, say) must not put personal data into `status`.
    static std::optional<RouteCounts> find(const sp_descriptor &d, const SyncDefinition &def,
                                           const std::vector<std::string> &columns);

    // The row's value of the routing column as syncplugin.h says plugins read it (config_key):
    // text trimmed (support::trim_text), an integer in decimal; "" for NULL or blank (the config's
    // value is counted for it); a real, a boolean or bytes give a value that is never valid.
    std::string value_of(const std::vector<sp_value> &cells) const;

    // Whether `value` matches the config key's pattern (values that do not are never shown).
    bool valid(const std::string &value) const;

    const std::string &field() const { return field_; }
    const std::string &config_key() const { return config_key_; }
    const std::string &fallback() const { return fallback_; }  // the configured value
    // The mapping's constant, when the field is mapped to one (every row has that value).
    const std::optional<std::string> &constant() const { return constant_; }

    // Adds `delta` (1, or -1 to take back a repeated key's outcome) for a record's final status.
    void count(const std::string &value, uint32_t status, int delta = 1);

    // Values kept apart; further ones are counted together as "(other values)".
    static constexpr size_t kMaxValues = 1000;

    // {"field": NAME, "counts": {VALUE: {"delivered": N, "rejected": N, "retry": N}, ...}}
    std::string json() const;

private:
    std::string field_, config_key_, fallback_, invalid_;
    std::optional<std::regex> pattern_;
    size_t column_ = 0;
    std::optional<std::string> constant_;
    std::map<std::string, Counts> counts_;
};

}  // namespace synchost
