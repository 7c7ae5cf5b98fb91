// CSV source: RFC 4180 parsing, NULL vs empty text, line numbers in errors, streaming.
#include "source_test_support.hpp"

#include <gmock/gmock.h>

using namespace source_test;
using synchost::SourceConfig;
using testing::HasSubstr;
using testing::Not;

namespace {

SourceConfig csv(const std::filesystem::path &path, char delimiter = ',') {
    SourceConfig c;
    c.type = "csv";
    c.path = path;
    c.delimiter = delimiter;
    return c;
}

TEST(CsvSource, HeaderNamesColumnsAndCellsAreTextOrNull) {
    TempDir dir;
    auto path = dir.write("shop.csv",
                          "email,name,amount,note\n"
                          "a@example.com,Zoë 東京,12.50,\"\"\n"
                          "b@example.com,,9223372036854775808,\"x\"\n");
    auto source = synchost::open_source(csv(path));
    EXPECT_EQ(source->columns(), (std::vector<std::string>{"email", "name", "amount", "note"}));
    EXPECT_EQ(source->rows_read(), 0u);
    Rows rows = read_all(*source);
    EXPECT_EQ(rows, (Rows{{"t:a@example.com", "t:Zoë 東京", "t:12.50", "t:"},
                          {"t:b@example.com", "NULL", "t:9223372036854775808", "t:x"}}));
    EXPECT_EQ(source->rows_read(), 2u);
    std::vector<sp_value> cells;
    EXPECT_FALSE(source->next(cells));  // stays at the end
}

TEST(CsvSource, QuotedFieldsWithEscapesDelimitersAndNewlines) {
    TempDir dir;
    auto path = dir.write("q.csv",
                          "\xEF\xBB\xBF"  // UTF-8 BOM, skipped
                          "id,text\r\n"
                          "1,\"say \"\"hi\"\", ok\"\r\n"
                          "2,\"two\r\nlines\"\r\n"
                          "3,\"lf\nonly\"\n"
                          "\n"  // blank line, skipped
                          "4,5\" screen\n"
                          "5,last-without-newline");
    auto source = synchost::open_source(csv(path));
    EXPECT_EQ(source->columns(), (std::vector<std::string>{"id", "text"}));
    EXPECT_EQ(read_all(*source), (Rows{{"t:1", "t:say \"hi\", ok"},
                                       {"t:2", "t:two\r\nlines"},
                                       {"t:3", "t:lf\nonly"},
                                       {"t:4", "t:5\" screen"},
                                       {"t:5", "t:last-without-newline"}}));
}

TEST(CsvSource, OtherDelimiter) {
    TempDir dir;
    auto path = dir.write("semi.csv", "a;b;c\n1;\"x;y\";\n");
    auto source = synchost::open_source(csv(path, ';'));
    EXPECT_EQ(read_all(*source), (Rows{{"t:1", "t:x;y", "NULL"}}));
}

TEST(CsvSource, WrongFieldCountNamesLineAndCounts) {
    TempDir dir;
    auto path = dir.write("shop.csv", "a,b,c\n1,2,3\n\"multi\nline\",2,3\n4,secret-value\n");
    std::string msg = error_of([&] { open_and_drain(csv(path)); });
    EXPECT_THAT(msg, HasSubstr("shop.csv line 5"));
    EXPECT_THAT(msg, HasSubstr("2 fields, expected 3"));
    EXPECT_THAT(msg, Not(HasSubstr("secret-value")));
}

TEST(CsvSource, UnterminatedQuoteNamesTheLineWhereItOpened) {
    TempDir dir;
    auto path = dir.write("shop.csv", "a,b\n1,2\n3,\"secret-value\n4,5\n6,7\n");
    std::string msg = error_of([&] { open_and_drain(csv(path)); });
    EXPECT_THAT(msg, HasSubstr("shop.csv line 3"));
    EXPECT_THAT(msg, HasSubstr("unterminated quote"));
    EXPECT_THAT(msg, Not(HasSubstr("secret-value")));
}

// A stray quote pulls at most 64 MiB into memory before the record is refused.
TEST(CsvSource, ARecordLongerThanTheRecordCapIsRefused) {
    TempDir dir;
    auto path = dir.write("q.csv", "a,b\n1,\"" + std::string((std::size_t{64} << 20) + 16, 'x') + "\n");
    EXPECT_THAT(error_of([&] { open_and_drain(csv(path)); }),
                HasSubstr("q.csv line 2: record larger than 64 MiB (an unterminated quote?)"));
}

TEST(CsvSource, TextAfterClosingQuoteIsAnError) {
    TempDir dir;
    auto path = dir.write("shop.csv", "a,b\n1,\"secret\"value\n");
    std::string msg = error_of([&] { open_and_drain(csv(path)); });
    EXPECT_THAT(msg, HasSubstr("shop.csv line 2"));
    EXPECT_THAT(msg, HasSubstr("field 2"));
    EXPECT_THAT(msg, Not(HasSubstr("secret")));
}

TEST(CsvSource, DuplicateOrEmptyHeaderNamesAreErrors) {
    TempDir dir;
    std::string dup = error_of([&] { open_and_drain(csv(dir.write("dup.csv", "email,name,email\n"))); });
    EXPECT_THAT(dup, HasSubstr("dup.csv line 1"));
    EXPECT_THAT(dup, HasSubstr("duplicate column name 'email' (columns 1 and 3)"));
    std::string empty = error_of([&] { open_and_drain(csv(dir.write("empty.csv", "email,,name\n"))); });
    EXPECT_THAT(empty, HasSubstr("column 2 has an empty name"));
}

TEST(CsvSource, MissingOrEmptyFile) {
    TempDir dir;
    std::string missing = error_of([&] { open_and_drain(csv(dir.file("nope.csv"))); });
    EXPECT_THAT(missing, HasSubstr("nope.csv"));
    EXPECT_THAT(missing, HasSubstr("No such file"));
    std::string empty = error_of([&] { open_and_drain(csv(dir.write("e.csv", ""))); });
    EXPECT_THAT(empty, HasSubstr("e.csv is empty"));
}

TEST(CsvSource, HeaderOnlyHasNoRows) {
    TempDir dir;
    auto source = synchost::open_source(csv(dir.write("h.csv", "a,b\r\n")));
    EXPECT_EQ(source->columns().size(), 2u);
    EXPECT_TRUE(read_all(*source).empty());
}

TEST(CsvSource, StreamsManyRows) {
    TempDir dir;
    auto path = dir.file("big.csv");
    {
        std::ofstream out(path, std::ios::binary);
        out << "id,email,note\n";
        for (int i = 0; i < 200000; ++i) {
            out << i << ",user" << i << "@example.com," << (i % 3 == 0 ? "\"quoted, " + std::to_string(i) + "\"" : "")
                << "\n";
        }
    }
    auto source = synchost::open_source(csv(path));
    std::vector<sp_value> cells;
    uint64_t n = 0;
    while (source->next(cells)) {
        if (n == 0) {
            EXPECT_FALSE(source->estimated_rows() == std::nullopt);
        }
        if (n == 123456) {
            EXPECT_EQ(render(cells[0]), "t:123456");
            EXPECT_EQ(render(cells[1]), "t:user123456@example.com");
            EXPECT_EQ(render(cells[2]), "t:quoted, 123456");
        }
        if (n == 123457) {
            EXPECT_EQ(render(cells[2]), "NULL");
        }
        ++n;
    }
    EXPECT_EQ(n, 200000u);
    EXPECT_EQ(source->rows_read(), 200000u);
    // After the whole file the estimate is exact.
    EXPECT_EQ(source->estimated_rows(), std::optional<uint64_t>(200000));
}

}  // namespace
