// JSONL source: columns from the first object or source.columns, typed cells, line numbers in
// errors, streaming.
#include "source_test_support.hpp"

#include <gmock/gmock.h>

using namespace source_test;
using synchost::SourceConfig;
using testing::HasSubstr;
using testing::Not;

namespace {

SourceConfig jsonl(const std::filesystem::path &path, std::vector<std::string> columns = {}) {
    SourceConfig c;
    c.type = "jsonl";
    c.path = path;
    c.columns = std::move(columns);
    return c;
}

TEST(JsonlSource, ColumnsFromFirstObjectAndTypedCells) {
    TempDir dir;
    auto path = dir.write(
        "events.jsonl",
        R"({"email":"a@example.com","n":42,"price":12.5,"ok":true,"gone":null,"ids":["a", "b"],"meta":{"k": 1}})"
        "\n"
        "\n"  // blank lines are skipped
        R"(  {"n":-9223372036854775808,"email":"Zoë 東京","ok":false,"price":1e300}  )"
        "\r\n"
        R"({"n":18446744073709551615,"email":"","ids":[]})"
        "\n");
    auto source = synchost::open_source(jsonl(path));
    EXPECT_EQ(source->columns(), (std::vector<std::string>{"email", "n", "price", "ok", "gone", "ids", "meta"}));
    EXPECT_EQ(read_all(*source),
              (Rows{{"t:a@example.com", "i:42", "r:12.5", "bool:true", "NULL", R"(t:["a","b"])", R"(t:{"k":1})"},
                    {"t:Zoë 東京", "i:-9223372036854775808", "r:1.0000000000000001e+300", "bool:false", "NULL", "NULL",
                     "NULL"},
                    // above INT64_MAX: exact decimal text rather than a rounded REAL
                    {"t:", "t:18446744073709551615", "NULL", "NULL", "NULL", "t:[]", "NULL"}}));
    EXPECT_EQ(source->rows_read(), 3u);
}

TEST(JsonlSource, ExplicitColumnsAllowKeysMissingFromTheFirstLine) {
    TempDir dir;
    auto path = dir.write("e.jsonl", "{\"a\":1}\n{\"b\":\"x\",\"a\":2}\n");
    auto source = synchost::open_source(jsonl(path, {"a", "b", "c"}));
    EXPECT_EQ(source->columns(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(read_all(*source), (Rows{{"i:1", "NULL", "NULL"}, {"i:2", "t:x", "NULL"}}));
}

TEST(JsonlSource, RepeatedKeyKeepsTheLastValue) {
    TempDir dir;
    auto source = synchost::open_source(jsonl(dir.write("d.jsonl", "{\"a\":1,\"b\":2,\"a\":3}\n")));
    EXPECT_EQ(source->columns(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(read_all(*source), (Rows{{"i:3", "i:2"}}));
}

TEST(JsonlSource, UnknownKeyNamesLineAndKey) {
    TempDir dir;
    auto path = dir.write("e.jsonl", "{\"a\":1}\n\n{\"a\":2,\"extra\":\"secret-value\"}\n");
    std::string msg = error_of([&] { open_and_drain(jsonl(path)); });
    EXPECT_THAT(msg, HasSubstr("e.jsonl line 3"));
    EXPECT_THAT(msg, HasSubstr("'extra'"));
    EXPECT_THAT(msg, HasSubstr("set source.columns to list every column"));
    EXPECT_THAT(msg, Not(HasSubstr("secret-value")));
}

TEST(JsonlSource, LineThatIsNotAnObjectOrNotJson) {
    TempDir dir;
    std::string array = error_of([&] { open_and_drain(jsonl(dir.write("a.jsonl", "{\"a\":1}\n[\"secret\"]\n"))); });
    EXPECT_THAT(array, HasSubstr("a.jsonl line 2: not a JSON object"));
    EXPECT_THAT(array, Not(HasSubstr("secret")));
    std::string bad = error_of([&] { open_and_drain(jsonl(dir.write("b.jsonl", "{\"a\":\"secret\"\n"))); });
    EXPECT_THAT(bad, HasSubstr("b.jsonl line 1: invalid JSON"));
    EXPECT_THAT(bad, Not(HasSubstr("secret")));
    std::string trailing = error_of([&] { open_and_drain(jsonl(dir.write("c.jsonl", "{\"a\":1} {\"a\":2}\n"))); });
    EXPECT_THAT(trailing, HasSubstr("c.jsonl line 1: invalid JSON"));
}

TEST(JsonlSource, EmptyFileNeedsExplicitColumns) {
    TempDir dir;
    auto path = dir.write("empty.jsonl", "\n\n");
    EXPECT_THAT(error_of([&] { open_and_drain(jsonl(path)); }), HasSubstr("set source.columns"));
    auto source = synchost::open_source(jsonl(path, {"a"}));
    EXPECT_TRUE(read_all(*source).empty());
}

TEST(JsonlSource, BadColumnsAndMissingFile) {
    TempDir dir;
    auto path = dir.write("e.jsonl", "{\"a\":1}\n");
    EXPECT_THAT(error_of([&] { open_and_drain(jsonl(path, {"a", "a"})); }), HasSubstr("duplicate column name 'a'"));
    EXPECT_THAT(error_of([&] { open_and_drain(jsonl(dir.write("k.jsonl", "{\"\":1}\n"))); }),
                HasSubstr("k.jsonl line 1: column 1 has an empty name"));
    EXPECT_THAT(error_of([&] { open_and_drain(jsonl(dir.file("nope.jsonl"))); }), HasSubstr("nope.jsonl"));
}

// A row is bounded: a line just over 64 MiB is refused by line number before it is parsed, and
// one just under is read (its cell intact).
TEST(JsonlSource, ALineLongerThanTheRecordCapIsRefusedByNumber) {
    TempDir dir;
    const std::size_t cap = std::size_t{64} << 20;
    const std::string head = "{\"a\":\"", tail = "\"}";
    std::string fits = head + std::string(cap - head.size() - tail.size(), 'x') + tail;
    std::string over = head + std::string(cap + 1 - head.size() - tail.size(), 'x') + tail;
    auto path = dir.write("big.jsonl", "{\"a\":\"first\"}\n" + fits + "\n" + over + "\n");
    fits.clear(), over.clear();
    auto source = synchost::open_source(jsonl(path));
    std::vector<sp_value> cells;
    ASSERT_TRUE(source->next(cells));
    ASSERT_TRUE(source->next(cells));
    EXPECT_EQ(cells.at(0).len, cap - head.size() - tail.size());
    EXPECT_THAT(error_of([&] { source->next(cells); }),
                HasSubstr("big.jsonl line 3: line longer than 64 MiB (the most one row may take)"));
}

TEST(JsonlSource, StreamsManyRows) {
    TempDir dir;
    auto path = dir.file("big.jsonl");
    {
        std::ofstream out(path, std::ios::binary);
        for (int i = 0; i < 200000; ++i) {
            out << "{\"id\":" << i << ",\"email\":\"user" << i << "@example.com\",\"value\":" << i << ".5";
            if (i % 2 == 0) out << ",\"content_ids\":[\"sku-" << i << "\",\"sku-x\"]";
            out << "}\n";
        }
    }
    // Even rows carry content_ids, so the first line names all four columns and odd rows are NULL.
    auto source = synchost::open_source(jsonl(path));
    ASSERT_EQ(source->columns().size(), 4u);
    std::vector<sp_value> cells;
    uint64_t n = 0;
    while (source->next(cells)) {
        if (n == 150000) {
            EXPECT_EQ(render(cells[0]), "i:150000");
            EXPECT_EQ(render(cells[1]), "t:user150000@example.com");
            EXPECT_EQ(render(cells[2]), "r:150000.5");
            EXPECT_EQ(render(cells[3]), R"(t:["sku-150000","sku-x"])");
        }
        if (n == 150001) {
            EXPECT_EQ(render(cells[3]), "NULL");
        }
        ++n;
    }
    EXPECT_EQ(n, 200000u);
    EXPECT_EQ(source->rows_read(), 200000u);
    EXPECT_EQ(source->estimated_rows(), std::optional<uint64_t>(200000));
}

}  // namespace
