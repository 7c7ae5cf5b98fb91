// One record through the whole pipeline, for tests of what a row becomes: email plus the given
// (destination field, cell) pairs, each from a column of its own.
#pragma once

#include "pipeline/pipeline.hpp"
#include "plugin/manifest.hpp"
#include "test_support.hpp"

#include <support/batch_builder.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace test_support {

inline constexpr int64_t kOneRowNow = 1795000000;  // 2026-11-18T09:46:40Z

struct OneRow {
    std::vector<std::pair<std::string, sp_value>> cells;
    std::vector<std::string> texts;  // storage for TEXT cells
    pcapi::PipelineOptions options = pcapi::pipeline_options();

    OneRow &text(const std::string &field, std::string v) {
        texts.push_back(std::move(v));
        sp_value c{};
        c.type = SP_VALUE_TEXT;
        cells.emplace_back(field, c);
        return *this;
    }
    OneRow &integer(const std::string &field, int64_t v) {
        sp_value c{};
        c.type = SP_VALUE_INT;
        c.as.i = v;
        cells.emplace_back(field, c);
        return *this;
    }

    // Encodes the row; returns the event as JSON, or sets `rejected` to the rejection message.
    // `ldp_events` receives the batch's LDP count, `quality` the pipeline's counts, when given.
    boost::json::object encode(std::string &rejected, uint32_t *ldp_events = nullptr,
                               pcapi::MatchQuality *quality = nullptr) const {
        std::vector<std::pair<std::string, std::string>> mapping{{"event_name", "=checkout"}, {"email", "email"}};
        std::vector<std::string> columns{"email"};
        for (size_t i = 0; i < cells.size(); ++i) {
            columns.push_back("c" + std::to_string(i));
            mapping.emplace_back(cells[i].first, columns.back());
        }
        OwnedMapping m(mapping);
        pcapi::PipelineOptions opt = options;
        opt.sync_id = "one-row";
        pcapi::Pipeline p(pcapi::Mapping::compile(m.get(), testing_support::pinterest_rules()), opt, 1000, 4 << 20);
        support::BatchBuilder b(columns);
        b.begin_row("k1");
        b.add_text("ada@example.com");
        size_t t = 0;
        for (const auto &[field, c] : cells) {
            if (c.type == SP_VALUE_TEXT)
                b.add_text(texts[t++]);
            else
                b.add_int(c.as.i);
        }
        pcapi::EncodedBatch out;
        p.encode(*b.finish(), kOneRowNow, out);
        if (ldp_events) *ldp_events = out.ldp_events;
        if (quality) {  // as the instance does for events the destination took: here, all of them
            for (const auto &c : out.counted) p.quality().count_in(c.group, c.components, c.age_s);
            *quality = p.quality();
        }
        rejected.clear();
        if (out.records.at(0).rejected) {
            rejected = out.messages.at(out.records[0].message);
            return {};
        }
        return boost::json::parse(out.payloads.at(0).body).at("data").at(0).as_object();
    }

    boost::json::object encode_ok() const {
        std::string rejected;
        boost::json::object event = encode(rejected);
        EXPECT_EQ(rejected, "");
        return event;
    }

    std::string rejection() const {
        std::string rejected;
        encode(rejected);
        return rejected;
    }
};

}  // namespace test_support
