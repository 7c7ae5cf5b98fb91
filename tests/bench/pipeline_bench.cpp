// pipeline_bench: Google Benchmark micro-benchmarks of the plugin's CPU path, stage by stage.
//
//   SHA-256 of a short identifier           BM_Sha256/<bytes>
//   normalize only / normalize + hash       BM_Normalize/<kind>, BM_NormalizeHash/<kind>
//   derived event id (UUID-shaped SHA-256)  BM_DeriveEventId
//   one event built (JSON text)             BM_BuildEvent/{minimal,typical,rich}
//   a batch end to end (Pipeline::encode)   BM_Encode/{typical,rich}/<events>
//
// Every benchmark reports items_per_second (events or identifiers per second) and ns_per_item.
// Inputs are fixed and varied (1,024 different values per identifier kind, cycled) so branch
// predictors and caches see something like real data. Run: build/bin/pipeline_bench
// (--benchmark_filter=REGEX, --benchmark_repetitions=N, --benchmark_format=json ...).
#include "normalize/normalize.hpp"
#include "normalize/sha256.hpp"
#include "pipeline/match_quality.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/manifest.hpp"

#include <support/batch_builder.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace pcapi;

const int64_t kNow = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();

// CPU time of the calling thread, in ns (what the benchmark library reports as "CPU" for these
// single-threaded benchmarks).
int64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Times the benchmark loop's CPU for ns_per_item (a plain number, unlike an inverted rate counter,
// which the console shows with a misleading "s" unit). items_per_second comes from
// SetItemsProcessed.
class PerItem {
public:
    explicit PerItem(benchmark::State &state) : state_(state) {}
    void start() { t0_ = thread_cpu_ns(); }
    void stop(int64_t items_per_iteration) {
        const int64_t ns = thread_cpu_ns() - t0_;
        const int64_t items = static_cast<int64_t>(state_.iterations()) * items_per_iteration;
        state_.SetItemsProcessed(items);
        if (items > 0) state_.counters["ns_per_item"] = static_cast<double>(ns) / static_cast<double>(items);
    }

private:
    benchmark::State &state_;
    int64_t t0_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Identifier inputs: the messy forms a shop database holds.

constexpr size_t kVariants = 1024;  // power of two: cheap cycling

std::vector<std::string> make_inputs(const std::function<std::string(size_t)> &gen) {
    std::vector<std::string> v;
    v.reserve(kVariants);
    for (size_t i = 0; i < kVariants; ++i) v.push_back(gen(i));
    return v;
}

std::string digits(size_t i, int width) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*zu", width, i);
    return buf;
}

struct Kind {
    const char *name;
    std::vector<std::string> inputs;
    std::function<Reason(std::string_view, std::string &)> normalize;
};

const std::vector<Kind> &kinds() {
    static const char *const kFirst[] = {"Ada", " José ", "GRACE", "Zoë", "Mary Ann", "Ólafur", "Łukasz", "Анна"};
    static const char *const kCity[] = {"Menlo Park", "São Paulo", "New York", "St. John's", "Zürich",
                                        "Saint-Étienne", "LOS ANGELES", "Kraków"};
    static const char *const kCountry[] = {"United States", "BR", "usa", "DEU", "United Kingdom", "fr",
                                           "Japan", "Côte d'Ivoire"};
    static const std::vector<Kind> k = {
        {"email",
         make_inputs([](size_t i) {
             switch (i % 3) {
             case 0: return "  User." + std::to_string(i * 37) + "@Example.COM ";
             case 1: return "user" + std::to_string(i * 37) + "@example.org";
             default: return "SHOPPER" + std::to_string(i * 37) + "@Mail.Example.net";
             }
         }),
         [](std::string_view in, std::string &out) { return normalize_email(in, out); }},
        {"phone",
         make_inputs([](size_t i) {
             switch (i % 4) {
             case 0: return "+1 (415) 555-" + digits(i, 4);
             case 1: return "00 44 20 7946 " + digits(i, 4);
             case 2: return "415.555." + digits(i, 4);
             default: return "(212) 555 " + digits(i, 4);
             }
         }),
         [](std::string_view in, std::string &out) { return normalize_phone(in, "1", out); }},
        {"name", make_inputs([](size_t i) { return std::string(kFirst[i % 8]); }),
         [](std::string_view in, std::string &out) { return normalize_name(in, out); }},
        {"city", make_inputs([](size_t i) { return std::string(kCity[i % 8]); }),
         [](std::string_view in, std::string &out) { return normalize_city(in, out); }},
        {"zip",
         make_inputs([](size_t i) {
             switch (i % 4) {
             case 0: return digits(10000 + i, 5) + "-" + digits(i, 4);
             case 1: return std::string("SW1A 1AA");
             case 2: return digits(10000 + i * 7, 5);
             default: return std::string("K1A 0B1");
             }
         }),
         [](std::string_view in, std::string &out) { return normalize_zip(in, out); }},
        {"country", make_inputs([](size_t i) { return std::string(kCountry[i % 8]); }),
         [](std::string_view in, std::string &out) { return normalize_country(in, out); }},
        {"date_of_birth",
         make_inputs([](size_t i) {
             const std::string y = std::to_string(1950 + i % 50), m = digits(1 + i % 12, 2), d = digits(1 + i % 28, 2);
             switch (i % 4) {
             case 0: return y + "-" + m + "-" + d;
             case 1: return m + "/" + d + "/" + y;
             case 2: return y + m + d;
             default: return d + "." + m + "." + y;
             }
         }),
         [](std::string_view in, std::string &out) { return normalize_date_of_birth(in, out); }},
        {"external_id", make_inputs([](size_t i) { return " CRM-" + digits(i * 7919, 9) + " "; }),
         [](std::string_view in, std::string &out) { return normalize_external_id(in, out); }},
    };
    return k;
}

void BM_Sha256(benchmark::State &state) {
    const std::string in(static_cast<size_t>(state.range(0)), 'x');
    Sha256 sha;
    char hex[64];
    PerItem timing(state);
    timing.start();
    for (auto _ : state) {
        sha.hex(in, hex);
        benchmark::DoNotOptimize(hex);
    }
    timing.stop(1);
}
BENCHMARK(BM_Sha256)->Arg(16)->Arg(30)->Arg(55)->Arg(64);

// Every input must normalize: a rejected one would be measured as a (cheaper) rejection.
bool all_valid(benchmark::State &state, const Kind *k) {
    std::string out;
    for (const std::string &in : k->inputs)
        if (Reason why = k->normalize(in, out)) {
            state.SkipWithError((std::string(k->name) + " input \"" + in + "\" rejected: " + why).c_str());
            return false;
        }
    return true;
}

void BM_Normalize(benchmark::State &state, const Kind *k) {
    if (!all_valid(state, k)) return;
    std::string out;
    out.reserve(256);
    size_t i = 0;
    PerItem timing(state);
    timing.start();
    for (auto _ : state) {
        Reason why = k->normalize(k->inputs[i++ & (kVariants - 1)], out);
        benchmark::DoNotOptimize(why);
        benchmark::DoNotOptimize(out.data());
    }
    timing.stop(1);
}

void BM_NormalizeHash(benchmark::State &state, const Kind *k) {
    if (!all_valid(state, k)) return;
    std::string out;
    out.reserve(256);
    Sha256 sha;
    char hex[64];
    size_t i = 0;
    PerItem timing(state);
    timing.start();
    for (auto _ : state) {
        Reason why = k->normalize(k->inputs[i++ & (kVariants - 1)], out);
        if (why == nullptr) sha.hex(out, hex);
        benchmark::DoNotOptimize(why);
        benchmark::DoNotOptimize(hex);
    }
    timing.stop(1);
}

void BM_DeriveEventId(benchmark::State &state) {
    Sha256 sha;
    char id[kEventIdLength];
    std::string scratch;
    std::vector<std::string> keys = make_inputs([](size_t i) { return "ord-" + digits(i, 7); });
    size_t i = 0;
    PerItem timing(state);
    timing.start();
    for (auto _ : state) {
        derive_event_id(sha, "shop-checkouts", keys[i++ & (kVariants - 1)], id, scratch);
        benchmark::DoNotOptimize(id);
    }
    timing.stop(1);
}
BENCHMARK(BM_DeriveEventId);

// ---------------------------------------------------------------------------------------------
// Events: a mapping and a batch of rows, as the host hands them over.

// An sp_mapping owning its strings (destination field -> source column, or "=constant").
class BenchMapping {
public:
    explicit BenchMapping(std::vector<std::pair<std::string, std::string>> kv) : kv_(std::move(kv)) {
        for (auto &[dest, src] : kv_) {
            sp_mapping_entry e{sizeof(sp_mapping_entry), dest.c_str(), nullptr, nullptr};
            if (!src.empty() && src[0] == '=') {
                sp_value v{};
                v.type = SP_VALUE_TEXT;
                v.len = static_cast<uint32_t>(src.size() - 1);
                v.as.text = src.c_str() + 1;
                constants_.push_back(v);
                e.constant = &constants_.back();
            } else {
                e.source_column = src.c_str();
            }
            entries_.push_back(e);
        }
        for (auto &e : entries_) ptrs_.push_back(&e);
        mapping_ = {sizeof(sp_mapping), static_cast<uint32_t>(ptrs_.size()), ptrs_.data()};
    }
    Mapping compile() const {
        static const std::vector<RequiredRule> rules{{{"event_name"}}, {{"email", "hashed_email"}}};
        return Mapping::compile(&mapping_, rules);
    }

private:
    std::vector<std::pair<std::string, std::string>> kv_;
    std::deque<sp_value> constants_;
    std::deque<sp_mapping_entry> entries_;
    std::vector<const sp_mapping_entry *> ptrs_;
    sp_mapping mapping_{};
};

PipelineOptions options() {
    PipelineOptions o = pcapi::pipeline_options();
    o.default_phone_country_code = "1";
    o.sync_id = "shop-checkouts";
    return o;
}

// A workload: its mapping and a batch of `rows` rows.
struct Workload {
    BenchMapping mapping;
    support::BatchBuilder batch;
};

// Event name and email only.
Workload *minimal(uint32_t rows) {
    auto *w = new Workload{BenchMapping({{"event_name", "event"}, {"email", "email"}}),
                           support::BatchBuilder({"event", "email"})};
    for (uint32_t i = 0; i < rows; ++i) {
        w->batch.begin_row("order-" + std::to_string(i));
        w->batch.add_text("checkout");
        w->batch.add_text("user" + std::to_string(i) + "@example.org");
    }
    return w;
}

// The row abi_throughput pushes: two identifiers to normalize and hash, six custom-data fields.
Workload *typical(uint32_t rows) {
    auto *w = new Workload{
        BenchMapping({{"event_name", "event"}, {"event_time", "ts"}, {"email", "email"}, {"phone", "phone"},
                      {"value", "total"}, {"currency", "currency"}, {"order_id", "order_id"},
                      {"content_ids", "skus"}, {"num_items", "items"}, {"content_name", "name"}}),
        support::BatchBuilder({"event", "ts", "email", "phone", "total", "currency", "order_id", "skus", "items", "name"})};
    support::BatchBuilder &b = w->batch;
    for (uint32_t i = 0; i < rows; ++i) {
        b.begin_row("order-" + std::to_string(i));
        b.add_text(i % 3 ? "checkout" : "add_to_cart");
        b.add_int(kNow - 3600 - i);
        b.add_text(" Customer." + std::to_string(i) + "@Example.COM ");
        b.add_text("+1 (415) 555-" + std::to_string(1000 + i % 9000));
        b.add_real(19.99 + i % 100);
        b.add_text("usd");
        b.add_text("order-" + std::to_string(i));
        b.add_text("[\"sku-" + std::to_string(i % 500) + "\",\"sku-" + std::to_string(i % 77) + "\"]");
        b.add_int(1 + i % 5);
        b.add_text("Blue running shoes");
    }
    return w;
}

// Every hashed identifier kind plus IP/user agent and custom data: the heaviest realistic row.
Workload *rich(uint32_t rows) {
    auto *w = new Workload{
        BenchMapping({{"event_name", "event"}, {"event_time", "ts"}, {"email", "email"}, {"phone", "phone"},
                      {"first_name", "fn"}, {"last_name", "ln"}, {"city", "city"}, {"zip", "zip"},
                      {"country", "country"}, {"date_of_birth", "dob"}, {"external_id", "crm"},
                      {"client_ip_address", "ip"}, {"client_user_agent", "ua"}, {"value", "total"},
                      {"currency", "currency"}, {"order_id", "order_id"}, {"content_ids", "skus"},
                      {"action_source", "=web"}}),
        support::BatchBuilder({"event", "ts", "email", "phone", "fn", "ln", "city", "zip", "country", "dob", "crm",
                               "ip", "ua", "total", "currency", "order_id", "skus"})};
    const auto &k = kinds();  // email, phone, name, city, zip, country, date_of_birth, external_id
    support::BatchBuilder &b = w->batch;
    for (uint32_t i = 0; i < rows; ++i) {
        const size_t v = i & (kVariants - 1);
        b.begin_row("order-" + std::to_string(i));
        b.add_text(i % 3 ? "checkout" : "Add To Cart");
        b.add_int(kNow - 3600 - i);
        b.add_text(k[0].inputs[v]);
        b.add_text(k[1].inputs[v]);
        b.add_text(k[2].inputs[v]);
        b.add_text(k[2].inputs[(v + 3) & (kVariants - 1)]);
        b.add_text(k[3].inputs[v]);
        b.add_text(k[4].inputs[v]);
        b.add_text(k[5].inputs[v]);
        b.add_text(k[6].inputs[v]);
        b.add_text(k[7].inputs[v]);
        b.add_text("203.0.113." + std::to_string(i % 250));
        b.add_text("Mozilla/5.0 (X11; Linux x86_64) ExampleShop/1.0");
        b.add_real(5 + (i * 37 % 50000) / 100.0);
        b.add_text(i % 2 ? "usd" : "EUR");
        b.add_text("order-" + std::to_string(i));
        b.add_text("[\"sku-" + std::to_string(i % 500) + "\", \"sku-" + std::to_string(i * 7 % 500) + "\"]");
    }
    return w;
}

using WorkloadFn = Workload *(*)(uint32_t);

void BM_BuildEvent(benchmark::State &state, WorkloadFn make) {
    constexpr uint32_t kRows = 1000;
    std::unique_ptr<Workload> w(make(kRows));
    const sp_batch *batch = w->batch.finish();
    Mapping mapping = w->mapping.compile();
    mapping.bind(*batch);
    EventBuilder builder(options());
    std::string out, id;
    out.reserve(4096);
    RowError err;
    uint32_t r = 0;
    size_t bytes = 0;
    PerItem timing(state);
    timing.start();
    for (auto _ : state) {
        out.clear();
        if (!builder.build(mapping, *batch, r, kNow, out, id, err)) {
            state.SkipWithError(("row rejected: " + err.message).c_str());
            break;
        }
        bytes += out.size();
        r = r + 1 == kRows ? 0 : r + 1;
    }
    timing.stop(1);
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_Encode(benchmark::State &state, WorkloadFn make) {
    const auto rows = static_cast<uint32_t>(state.range(0));
    std::unique_ptr<Workload> w(make(rows));
    const sp_batch *batch = w->batch.finish();
    Pipeline pipeline(w->mapping.compile(), options(), 1000, 4u << 20);
    EncodedBatch out;
    size_t bytes = 0;
    PerItem timing(state);
    timing.start();
    for (auto _ : state) {
        pipeline.encode(*batch, kNow, out);
        for (const Payload &p : out.payloads) bytes += p.body.size();
        benchmark::DoNotOptimize(out.payloads.data());
    }
    timing.stop(rows);
    for (uint32_t r = 0; r < out.records.size(); ++r)
        if (out.records[r].rejected) {
            state.SkipWithError(("row rejected: " + out.messages[out.records[r].message]).c_str());
            return;
        }
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
    state.counters["bytes_per_event"] = static_cast<double>(bytes) / (static_cast<double>(state.iterations()) * rows);
}

// What the match-quality report adds to each event encoded (pipeline/match_quality.hpp): its
// group found by name, its components and its age counted. Compare with BM_Encode's per-event
// time: the budget is 2 % of it. The argument is how many events in a row carry the same
// components (1: every event differs from the one before, the worst case; 16: closer to a model).
void BM_MatchQualityCount(benchmark::State &state) {
    const auto same = static_cast<size_t>(state.range(0));
    const std::string names[] = {"checkout", "checkout", "checkout", "add_to_cart", "page_visit", "lead"};
    const pcapi::ComponentSet sets[] = {0x7CF, 0x7C5, 0x44D, 0x7FF};
    std::vector<int64_t> ages(4096);
    for (size_t a = 0; a < ages.size(); ++a) ages[a] = static_cast<int64_t>((a * 2654435761u) % 20000);  // 0 to 5.5 h
    pcapi::MatchQuality q;
    size_t i = 0;
    PerItem timing(state);
    timing.start();
    for (auto _ : state) {
        q.count(names[i % 6], sets[(i / same) & 3], ages[i & 4095]);
        ++i;
    }
    timing.stop(1);
    benchmark::DoNotOptimize(q.late_events());
}
BENCHMARK(BM_MatchQualityCount)->Arg(1)->Arg(16);

// Registered at startup (the identifier kinds are data).
const bool registered = [] {
    for (const Kind &k : kinds()) {
        benchmark::RegisterBenchmark((std::string("BM_Normalize/") + k.name).c_str(), BM_Normalize, &k);
        benchmark::RegisterBenchmark((std::string("BM_NormalizeHash/") + k.name).c_str(), BM_NormalizeHash, &k);
    }
    benchmark::RegisterBenchmark("BM_BuildEvent/minimal", BM_BuildEvent, &minimal);
    benchmark::RegisterBenchmark("BM_BuildEvent/typical", BM_BuildEvent, &typical);
    benchmark::RegisterBenchmark("BM_BuildEvent/rich", BM_BuildEvent, &rich);
    benchmark::RegisterBenchmark("BM_Encode/typical", BM_Encode, &typical)->Arg(1000)->Arg(8000)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_Encode/rich", BM_Encode, &rich)->Arg(1000)->Unit(benchmark::kMicrosecond);
    return true;
}();

}  // namespace
