// Helpers for the row source tests: a temporary directory removed at the end, file writing, and
// rows rendered as strings ("i:42", "t:abc", "NULL"...) so expectations read like the data.
#pragma once

#include "sources/source.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace source_test {

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "synchost-sources-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;

    std::filesystem::path file(const std::string &name) const { return path_ / name; }
    // Writes `content` byte for byte to a file in the directory and returns its path.
    std::filesystem::path write(const std::string &name, const std::string &content) const {
        auto p = file(name);
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }

private:
    std::filesystem::path path_;
};

inline std::string render(const sp_value &v) {
    switch (v.type) {
        case SP_VALUE_NULL:
            return "NULL";
        case SP_VALUE_INT:
            return "i:" + std::to_string(v.as.i);
        case SP_VALUE_BOOL:
            return v.as.i ? "bool:true" : "bool:false";
        case SP_VALUE_REAL: {
            char buf[64];
            std::snprintf(buf, sizeof buf, "r:%.17g", v.as.r);
            return buf;
        }
        case SP_VALUE_TEXT:
            return "t:" + std::string(v.as.text, v.len);
        case SP_VALUE_BLOB: {
            std::string out = "b:";
            for (uint32_t i = 0; i < v.len; ++i) {
                char buf[3];
                std::snprintf(buf, sizeof buf, "%02x", static_cast<const unsigned char *>(v.as.blob)[i]);
                out += buf;
            }
            return out;
        }
        default:
            return "?";
    }
}

using Rows = std::vector<std::vector<std::string>>;

// Reads every remaining row, rendered; checks the cell count against the columns.
inline Rows read_all(synchost::RowSource &source) {
    Rows rows;
    std::vector<sp_value> cells;
    while (source.next(cells)) {
        EXPECT_EQ(cells.size(), source.columns().size());
        std::vector<std::string> row;
        row.reserve(cells.size());
        for (const sp_value &v : cells) row.push_back(render(v));
        rows.push_back(std::move(row));
    }
    return rows;
}

// The message of the SourceError that `f` throws ("" plus a test failure when it throws none).
inline std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const synchost::SourceError &e) {
        return e.what();
    }
    ADD_FAILURE() << "expected a SourceError";
    return "";
}

// Opens and reads a whole source, for error cases that may surface at open or while reading.
inline void open_and_drain(const synchost::SourceConfig &config) {
    auto source = synchost::open_source(config);
    read_all(*source);
}

}  // namespace source_test
