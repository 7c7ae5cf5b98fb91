#include "output.hpp"

#include <boost/json.hpp>

#include <chrono>

namespace airbyte {

namespace json = boost::json;

json::object Stream::descriptor() const {
    json::object d{{"name", name}};
    if (!ns.empty()) d["namespace"] = ns;
    return d;
}

int64_t Output::now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void Output::emit(json::object message) {
    const std::string line = json::serialize(message);
    std::lock_guard lock(mu_);
    out_ << line << '\n' << std::flush;
}

void Output::log(const char *level, const std::string &message) {
    emit({{"type", "LOG"}, {"log", {{"level", level}, {"message", message}}}});
}

void Output::error(Failure type, const std::string &message, const Stream *stream) {
    static const char *const kTypes[] = {"config_error", "system_error", "transient_error"};
    json::object e{{"message", message}, {"failure_type", kTypes[static_cast<int>(type)]}};
    if (stream) e["stream_descriptor"] = stream->descriptor();
    emit({{"type", "TRACE"}, {"trace", {{"type", "ERROR"}, {"emitted_at", now_ms()}, {"error", std::move(e)}}}});
}

void Output::rate_limited(const Stream &stream, int64_t quota_reset_ms) {
    json::object reason{{"type", "RATE_LIMITED"}};
    if (quota_reset_ms > 0) reason["rate_limited"] = json::object{{"quota_reset", quota_reset_ms}};
    json::object status{
        {"stream_descriptor", stream.descriptor()}, {"status", "RUNNING"}, {"reasons", json::array{std::move(reason)}}};
    emit({{"type", "TRACE"},
          {"trace", {{"type", "STREAM_STATUS"}, {"emitted_at", now_ms()}, {"stream_status", std::move(status)}}}});
}

void Output::connection_status(bool ok, const std::string &message) {
    emit({{"type", "CONNECTION_STATUS"},
          {"connectionStatus", {{"status", ok ? "SUCCEEDED" : "FAILED"}, {"message", message}}}});
}

void Output::spec(json::object spec) {
    emit({{"type", "SPEC"}, {"spec", std::move(spec)}});
}

void Output::destination_catalog(json::object catalog) {
    emit({{"type", "DESTINATION_CATALOG"}, {"destination_catalog", std::move(catalog)}});
}

void Output::state(json::object state, uint64_t records, uint64_t rejected) {
    // The protocol's counts are doubles written with a decimal point ("5.0"); Boost.JSON would
    // write 5E0, so the stats are spliced in as text.
    static constexpr std::string_view kMark = "\"__syncplugin_destination_stats__\"";
    state["destinationStats"] = kMark.substr(1, kMark.size() - 2);
    std::string line = json::serialize(json::object{{"type", "STATE"}, {"state", std::move(state)}});
    const std::string stats = "{\"recordCount\":" + std::to_string(records) +
                              ".0,\"rejectedRecordCount\":" + std::to_string(rejected) + ".0}";
    line.replace(line.rfind(kMark), kMark.size(), stats);
    std::lock_guard lock(mu_);
    out_ << line << '\n' << std::flush;
}

}  // namespace airbyte
