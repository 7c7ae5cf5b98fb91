#include "sync/route_counts.hpp"

#include "runtime/terminal_text.hpp"
#include "state/state_store.hpp"

#include <support/trim.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstring>
#include <ostream>
#include <string_view>

namespace synchost {

std::optional<RouteCounts> RouteCounts::find(const sp_descriptor &d, const SyncDefinition &def,
                                             const std::vector<std::string> &columns) {
    for (uint32_t i = 0; i < d.destination_field_count; ++i) {
        const sp_destination_field *f = d.destination_fields[i];
        if (f == nullptr || !SP_HAS_FIELD(f, sp_destination_field, config_key) || f->config_key == nullptr ||
            f->name == nullptr)
            continue;
        auto mapped = std::find_if(def.mapping.begin(), def.mapping.end(),
                                   [&](const MappingEntry &e) { return e.destination == f->name; });
        if (mapped == def.mapping.end()) continue;
        auto column = std::find(columns.begin(), columns.end(), mapped->column);
        if (!mapped->constant && column == columns.end()) continue;  // the run reports the missing column itself
        RouteCounts r;
        for (uint32_t k = 0; k < d.config_field_count; ++k) {
            const sp_config_field *c = d.config_fields[k];
            if (c == nullptr || c->key == nullptr || std::strcmp(c->key, f->config_key) != 0) continue;
            if (c->type == SP_CONFIG_SECRET) return std::nullopt;
            if (c->pattern && *c->pattern) r.pattern_.emplace(c->pattern, std::regex::ECMAScript);
        }
        if (!r.pattern_) return std::nullopt;  // nothing tells a value from personal data mapped by mistake
        r.invalid_ = std::string("(not a valid ") + f->config_key + ")";
        r.field_ = f->name;
        r.config_key_ = f->config_key;
        r.column_ = static_cast<size_t>(column - columns.begin());
        if (mapped->constant) r.constant_ = routing_text(mapped->value).value_or(r.invalid_);
        for (const auto &[key, value] : def.config)
            if (key == f->config_key) r.fallback_ = value;
        return r;
    }
    return std::nullopt;
}

std::optional<std::string> routing_text(const sp_value &v) {
    switch (v.type) {
    case SP_VALUE_NULL: return std::string();
    case SP_VALUE_INT: return std::to_string(v.as.i);
    case SP_VALUE_TEXT: return std::string(support::trim_text(std::string_view(v.as.text, v.len)));
    default: return std::nullopt;  // a real, a boolean or bytes is no config value
    }
}

std::string RouteCounts::value_of(const std::vector<sp_value> &cells) const {
    if (constant_) return *constant_;
    if (column_ >= cells.size()) return "";
    return routing_text(cells[column_]).value_or(invalid_);
}

bool RouteCounts::valid(const std::string &value) const { return !pattern_ || std::regex_match(value, *pattern_); }

void RouteCounts::count(const std::string &value, uint32_t status, int delta) {
    const std::string &key = value.empty() ? fallback_ : value;
    auto it = counts_.find(key);
    if (it == counts_.end())  // a new value: checked once, then found; beyond kMaxValues, lumped
        it = counts_.try_emplace(!valid(key) ? invalid_ : counts_.size() < kMaxValues ? key : "(other values)").first;
    Counts &c = it->second;
    uint64_t &n = status == SP_RECORD_OK ? c.delivered : status == SP_RECORD_REJECTED ? c.rejected : c.retry;
    n += static_cast<uint64_t>(static_cast<int64_t>(delta));
}

boost::json::value routes_json(const RunSummary &r) {
    boost::system::error_code ec;
    boost::json::value v = r.routes.empty() ? boost::json::value(nullptr) : boost::json::parse(r.routes, ec);
    return ec ? boost::json::value(nullptr) : v;  // a damaged record shows as none, not as a failed status
}

void print_routes(std::ostream &out, const RunSummary &r) {
    const boost::json::value v = routes_json(r);
    if (!v.is_object()) return;
    out << "\nrun #" << r.id << " by " << terminal_safe(v.at("field").as_string()) << ":\n";
    for (const auto &[value, c] : v.at("counts").as_object())
        out << "  " << terminal_safe(std::string(value)) << "  delivered " << c.at("delivered").to_number<uint64_t>() << ", rejected "
            << c.at("rejected").to_number<uint64_t>() << ", retry " << c.at("retry").to_number<uint64_t>() << "\n";
}

std::string RouteCounts::json() const {
    boost::json::object counts;
    for (const auto &[value, c] : counts_)
        counts[value] = {{"delivered", c.delivered}, {"rejected", c.rejected}, {"retry", c.retry}};
    return boost::json::serialize(boost::json::object{{"field", field_}, {"counts", std::move(counts)}});
}

}  // namespace synchost
