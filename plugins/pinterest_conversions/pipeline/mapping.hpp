// Field mapping: which source column (or constant) feeds each destination field. Compiled once at
// open() from the host's sp_mapping, bound to a batch's columns once per batch.
#pragma once

#include "pipeline/fields.hpp"

#include <syncplugin/syncplugin.h>

#include <array>
#include <string>
#include <vector>

namespace pcapi {

struct RequiredRule {
    std::vector<std::string> any_of;
};

class Mapping {
public:
    // Validates and compiles. Throws sp::failure(SP_ERR_CONFIG) that names the problem: unknown
    // destination fields (listing the valid ones and suggesting the closest), duplicates, entries
    // with neither or both of column and constant, and unmet required rules.
    static Mapping compile(const sp_mapping *mapping, const std::vector<RequiredRule> &rules);

    bool mapped(Field f) const noexcept { return sources_[idx(f)].kind != Kind::unmapped; }

    // Which compile() made this mapping (copies share it): what is mapped never changes after, so
    // callers may keep what they derive from it under this key.
    uint64_t id() const noexcept { return id_; }

    // The app_info and device_info members that are mapped, in field order (most mappings have
    // none, and the event builder then spends nothing on those objects).
    const std::vector<Field> &object_members() const noexcept { return object_members_; }

    // Column index per field for this batch (-1: not from a column). Throws sp::failure
    // (SP_ERR_CONFIG) naming mapped columns the batch does not have, with the batch's columns.
    // Cheap when the column names are the same as the previous batch's.
    const std::array<int32_t, kFieldCount> &bind(const sp_batch &batch);

    // The value of field f for record r of the bound batch: a cell, a constant, or NULL.
    const sp_value &value(const sp_batch &batch, uint32_t r, Field f) const noexcept {
        int32_t c = bound_[idx(f)];
        if (c >= 0) return batch.values[static_cast<size_t>(r) * batch.column_count + static_cast<uint32_t>(c)];
        return constants_[idx(f)];
    }

private:
    enum class Kind : uint8_t { unmapped, column, constant };
    struct Source {
        Kind kind = Kind::unmapped;
        std::string column;         // for Kind::column
        std::string constant_text;  // storage for a TEXT/BLOB constant
    };
    static size_t idx(Field f) noexcept { return static_cast<size_t>(f); }
    void refresh_constants() noexcept;  // points TEXT constants at their storage

    std::array<Source, kFieldCount> sources_{};
    std::array<sp_value, kFieldCount> constants_{};  // SP_VALUE_NULL when not a constant
    std::array<int32_t, kFieldCount> bound_{};
    std::vector<std::string> bound_columns_;  // the column names bound_ was computed for
    bool bound_valid_ = false;                // bound_ matches bound_columns_
    std::vector<Field> object_members_;
    uint64_t id_ = 0;
};

}  // namespace pcapi
