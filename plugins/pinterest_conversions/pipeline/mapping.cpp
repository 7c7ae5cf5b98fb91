#include "pipeline/mapping.hpp"

#include <syncplugin/syncplugin.hpp>

#include <support/suggest.hpp>

#include <atomic>
#include <cstring>

namespace pcapi {

namespace {

std::vector<std::string> all_field_names() {
    std::vector<std::string> names;
    for (size_t i = 0; i < kFieldCount; ++i) names.emplace_back(field_info(static_cast<Field>(i)).name);
    return names;
}

[[noreturn]] void config_error(const std::string &msg) { throw sp::failure(SP_ERR_CONFIG, "mapping: " + msg); }

}  // namespace

Mapping Mapping::compile(const sp_mapping *mapping, const std::vector<RequiredRule> &rules) {
    static std::atomic<uint64_t> compiled{0};
    Mapping m;
    m.id_ = ++compiled;
    m.bound_.fill(-1);
    const uint32_t n = mapping ? mapping->entry_count : 0;
    if (n > 0 && mapping->entries == nullptr) config_error("has entries but no entry array");
    for (uint32_t i = 0; i < n; ++i) {
        const sp_mapping_entry *e = mapping->entries[i];
        const std::string where = "entry " + std::to_string(i);
        if (e == nullptr || e->destination_field == nullptr) config_error(where + " has no destination field");
        Field f{};
        if (!field_by_name(e->destination_field, f)) {
            const auto names = all_field_names();
            config_error(std::string("unknown destination field \"") + e->destination_field + "\"" +
                         support::did_you_mean(e->destination_field, names) +
                         "; valid fields: " + support::join(names));
        }
        Source &s = m.sources_[idx(f)];
        if (s.kind != Kind::unmapped) config_error(std::string("\"") + e->destination_field + "\" is mapped twice");
        const bool has_column = e->source_column != nullptr && e->source_column[0] != '\0';
        const bool has_constant = e->constant != nullptr;
        if (has_column == has_constant)
            config_error(std::string("\"") + e->destination_field + "\" needs exactly one of a source column or a constant");
        if (has_column) {
            s.kind = Kind::column;
            s.column = e->source_column;
            continue;
        }
        s.kind = Kind::constant;
        sp_value v = *e->constant;
        if (v.type == SP_VALUE_TEXT || v.type == SP_VALUE_BLOB) {
            if (v.len > 0 && v.as.text == nullptr)
                config_error(std::string("constant for \"") + e->destination_field + "\" has no data");
            s.constant_text.assign(v.len ? v.as.text : "", v.len);
        } else if (v.type > SP_VALUE_BOOL) {
            config_error(std::string("constant for \"") + e->destination_field + "\" has an unknown value type");
        }
        m.constants_[idx(f)] = v;
    }
    for (const auto &rule : rules) {
        bool ok = false;
        for (const auto &name : rule.any_of) {
            Field f{};
            ok = ok || (field_by_name(name, f) && m.mapped(f));
        }
        if (!ok) {
            std::string names;
            for (size_t i = 0; i < rule.any_of.size(); ++i)
                names += (i == 0 ? "" : (i + 1 == rule.any_of.size() ? " or " : ", ")) + rule.any_of[i];
            config_error("required field " + names + " is not mapped");
        }
    }
    m.refresh_constants();
    for (size_t i = static_cast<size_t>(kFirstObjectMember); i < kFieldCount; ++i)
        if (m.mapped(static_cast<Field>(i))) m.object_members_.push_back(static_cast<Field>(i));
    return m;
}

void Mapping::refresh_constants() noexcept {
    for (size_t i = 0; i < kFieldCount; ++i) {
        sp_value &v = constants_[i];
        if (sources_[i].kind == Kind::constant && (v.type == SP_VALUE_TEXT || v.type == SP_VALUE_BLOB))
            v.as.text = sources_[i].constant_text.data();
    }
}

const std::array<int32_t, kFieldCount> &Mapping::bind(const sp_batch &batch) {
    refresh_constants();  // cheap; keeps constants valid after this object was moved
    bool same = bound_valid_ && bound_columns_.size() == batch.column_count;
    for (uint32_t c = 0; same && c < batch.column_count; ++c)
        same = batch.column_names[c] != nullptr && bound_columns_[c] == batch.column_names[c];
    if (same) return bound_;

    bound_columns_.clear();
    for (uint32_t c = 0; c < batch.column_count; ++c)
        bound_columns_.emplace_back(batch.column_names[c] ? batch.column_names[c] : "");
    std::string missing;
    for (size_t i = 0; i < kFieldCount; ++i) {
        bound_[i] = -1;
        if (sources_[i].kind != Kind::column) continue;
        for (uint32_t c = 0; c < batch.column_count; ++c) {
            if (bound_columns_[c] == sources_[i].column) {
                bound_[i] = static_cast<int32_t>(c);
                break;
            }
        }
        if (bound_[i] < 0) {
            missing += (missing.empty() ? "" : "; ") + std::string("column \"") + sources_[i].column +
                       "\" (for " + std::string(field_info(static_cast<Field>(i)).name) + ") is not in the result" +
                       support::did_you_mean(sources_[i].column, bound_columns_);
        }
    }
    if (!missing.empty()) {
        const std::string columns = support::join(bound_columns_);
        // Forget this binding entirely: the next batch binds again (and fails again) rather than
        // reusing indexes that belong to these columns.
        bound_columns_.clear();
        bound_.fill(-1);
        bound_valid_ = false;
        config_error(missing + "; the result has columns: " + columns);
    }
    bound_valid_ = true;
    return bound_;
}

}  // namespace pcapi
