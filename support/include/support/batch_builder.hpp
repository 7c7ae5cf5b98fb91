// Builds an sp_batch (the ABI's row-major matrix of typed cells) from rows appended one cell at a
// time. All text lives in one arena string, so a batch of thousands of rows costs a handful of
// allocations, reused across batches via clear(). Header-only; used by the host, the harness and
// tests.
#pragma once

#include <syncplugin/syncplugin.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace support {

class BatchBuilder {
public:
    explicit BatchBuilder(std::vector<std::string> columns = {}) { set_columns(std::move(columns)); }

    void set_columns(std::vector<std::string> columns) {
        columns_ = std::move(columns);
        names_.clear();
        for (const auto &c : columns_) names_.push_back(c.c_str());
        clear();
    }
    const std::vector<std::string> &columns() const { return columns_; }

    // Starts a row with its record key (the primary key as text). Cells follow, one per column.
    // Rows started this way leave the batch's operations NULL: the target's default (see sp_batch).
    void begin_row(std::string_view key) { begin_row(key, kTargetDefault, 0); }
    // The same, with what the row asks for (sp_operation) and the content hash last delivered (0:
    // never). A batch gives every row an operation or none.
    void begin_row(std::string_view key, uint32_t operation, uint64_t previous_hash) {
        key_offsets_.push_back(arena_.size());
        arena_.append(key);
        arena_.push_back('\0');
        operations_.push_back(operation);
        previous_.push_back(previous_hash);
        ++rows_;
    }
    void add_null() { push(SP_VALUE_NULL); }
    void add_int(int64_t v) { push(SP_VALUE_INT).as.i = v; }
    void add_bool(bool v) { push(SP_VALUE_BOOL).as.i = v ? 1 : 0; }
    void add_real(double v) { push(SP_VALUE_REAL).as.r = v; }
    void add_text(std::string_view s) { add_bytes(SP_VALUE_TEXT, s); }
    void add_blob(std::string_view s) { add_bytes(SP_VALUE_BLOB, s); }
    // Appends a copy of a cell (TEXT/BLOB bytes are copied into the arena).
    void add_value(const sp_value &v) {
        if (v.type == SP_VALUE_TEXT || v.type == SP_VALUE_BLOB)
            add_bytes(static_cast<sp_value_type>(v.type), std::string_view(v.len ? v.as.text : "", v.len));
        else
            values_.push_back(v);
    }

    // Removes the last row begun, key and cells (a row that turned out not to be sent). Rows have
    // one cell per column.
    void drop_last_row() {
        if (rows_ == 0) return;
        --rows_;
        const size_t first_cell = rows_ * columns_.size();
        if (values_.size() > first_cell) values_.resize(first_cell);
        while (!text_cells_.empty() && text_cells_.back().first >= first_cell) text_cells_.pop_back();
        arena_.resize(key_offsets_.back());
        key_offsets_.pop_back();
        operations_.pop_back();
        previous_.pop_back();
    }

    size_t rows() const { return rows_; }
    size_t arena_bytes() const { return arena_.size(); }

    // The batch; valid until the next call that changes this builder. For a plugin of ABI minor 0
    // (`with_operations` false) the batch ends before the operations, as a minor-0 host's would.
    const sp_batch *finish(bool with_operations = true) {
        // While building, text cells hold arena offsets (the arena may move); resolve them now.
        for (const auto &[cell, offset] : text_cells_) values_[cell].as.text = arena_.data() + offset;
        keys_.clear();
        for (size_t off : key_offsets_) keys_.push_back(arena_.data() + off);
        const bool explicit_ops = !operations_.empty() && operations_.front() != kTargetDefault;
        for (uint32_t op : operations_)
            if ((op != kTargetDefault) != explicit_ops)
                throw std::logic_error("BatchBuilder: some rows have an operation and some do not");
        batch_ = {sizeof(sp_batch),
                  static_cast<uint32_t>(columns_.size()),
                  names_.data(),
                  static_cast<uint32_t>(rows_),
                  values_.data(),
                  keys_.data(),
                  explicit_ops ? operations_.data() : nullptr,
                  explicit_ops ? previous_.data() : nullptr};
        if (!with_operations) batch_.struct_size = offsetof(sp_batch, operations);
        return &batch_;
    }

    void clear() {
        values_.clear();
        text_cells_.clear();
        key_offsets_.clear();
        operations_.clear();
        previous_.clear();
        arena_.clear();
        rows_ = 0;
    }

private:
    sp_value &push(sp_value_type t) {
        sp_value v{};
        v.type = t;
        values_.push_back(v);
        return values_.back();
    }
    void add_bytes(sp_value_type t, std::string_view s) {
        push(t).len = static_cast<uint32_t>(s.size());
        text_cells_.emplace_back(values_.size() - 1, arena_.size());
        arena_.append(s);
        arena_.push_back('\0');
    }

    std::vector<std::string> columns_;
    std::vector<const char *> names_;
    std::vector<sp_value> values_;
    std::vector<std::pair<size_t, size_t>> text_cells_;  // (cell index, arena offset)
    std::vector<size_t> key_offsets_;
    std::vector<const char *> keys_;
    static constexpr uint32_t kTargetDefault = UINT32_MAX;  // begin_row without an operation
    std::vector<uint32_t> operations_;
    std::vector<uint64_t> previous_;
    std::string arena_;
    size_t rows_ = 0;
    sp_batch batch_{};
};

}  // namespace support
