#include "write.hpp"

#include "adapter_host.hpp"
#include "connector.hpp"

#include "sync/abi_params.hpp"
#include "sync/runner.hpp"

#include <support/batch_builder.hpp>

#include <boost/json.hpp>

#include <openssl/evp.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace airbyte {

namespace json = boost::json;

namespace {

// Why a run ends early: reported as one TRACE ERROR, then exit 1. Holds its stream by value: the
// streams are gone by the time it is reported.
struct Stop {
    Failure type;
    std::string message;
    std::optional<Stream> stream;
    Stop(Failure t, std::string m, const Stream *s = nullptr) : type(t), message(std::move(m)) {
        if (s) stream = *s;
    }
};

Failure failure_of(sp_error_category c) {
    switch (c) {
        case SP_ERR_CONFIG:
        case SP_ERR_AUTH:
        case SP_ERR_PERMISSION:
        case SP_ERR_UNSUPPORTED:
            return Failure::config;  // the user must change the connection
        case SP_ERR_RATE_LIMIT:
        case SP_ERR_TRANSIENT:
            return Failure::transient;
        default:
            return Failure::system;
    }
}

std::string hex_sha256(std::string_view s) {
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(s.data(), s.size(), md, &n, EVP_sha256(), nullptr);
    static const char *digits = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) out += {digits[md[i] >> 4], digits[md[i] & 15]};
    return out;
}

// The value at a path of nested keys, or NULL.
const json::value *at_path(const json::object &data, const std::vector<std::string> &path) {
    const json::object *o = &data;
    const json::value *v = nullptr;
    for (const std::string &k : path) {
        if (o == nullptr) return nullptr;
        v = o->if_contains(k);
        if (v == nullptr) return nullptr;
        o = v->is_object() ? &v->get_object() : nullptr;
    }
    return v;
}

void add_cell(support::BatchBuilder &b, const json::value *v) {
    if (v == nullptr || v->is_null())
        b.add_null();
    else if (v->is_string())
        b.add_text(v->get_string());
    else if (v->is_bool())
        b.add_bool(v->get_bool());
    else if (v->is_int64())
        b.add_int(v->get_int64());
    else if (v->is_uint64())
        b.add_real(static_cast<double>(v->get_uint64()));
    else if (v->is_double())
        b.add_real(v->get_double());
    else
        b.add_text(json::serialize(*v));  // arrays and objects travel as JSON text
}

// One configured stream: its route onto the plugin, its instance, and the records not yet settled.
struct StreamRun {
    Stream stream;
    ModeRoute route{};
    std::vector<std::pair<std::string, std::string>> mapping;  // destination field -> record field
    std::vector<std::string> columns;                          // the record fields the mapping reads
    std::vector<std::vector<std::string>> primary_key;
    std::unique_ptr<synchost::Instance> instance;
    std::vector<json::object> pending;  // received, not yet written
    uint64_t received = 0;              // records since the last STATE that covered this stream
    uint64_t rejected = 0;
    uint64_t position = 0;  // records of the stream so far (for log lines)
};

class Writer {
public:
    Writer(const std::shared_ptr<synchost::Plugin> &plugin, const Connection &conn, Output &out,
           const std::atomic<bool> &cancel)
        : plugin_(plugin),
          conn_(conn),
          out_(out),
          host_(out, conn.token, cancel),
          manifest_(spmanifest::from_descriptor(plugin->descriptor())) {
        const uint32_t r = plugin->descriptor().recommended_batch_records;
        batch_size_ = r ? r : 1000;
    }

    // Every stream routed and opened before a record is read: an impossible pairing is refused
    // up front. Throws Stop.
    void open_streams(const json::object &catalog) {
        const json::value *streams = catalog.if_contains("streams");
        if (streams == nullptr || !streams->is_array())
            throw Stop{Failure::config, "the catalog has no \"streams\" array"};
        for (const json::value &cs : streams->get_array()) {
            StreamRun s;
            const json::object &c = cs.as_object();
            const json::object &st = c.at("stream").as_object();
            s.stream.name = st.at("name").as_string();
            if (const json::value *ns = st.if_contains("namespace"); ns && ns->is_string())
                s.stream.ns = ns->get_string();
            const json::value *mode = c.if_contains("destination_sync_mode");
            std::string why;
            const std::string m = mode && mode->is_string() ? std::string(mode->get_string()) : "append";
            std::optional<ModeRoute> route = route_for(manifest_, m, why);
            if (!route) throw Stop{Failure::config, "stream " + s.stream.name + ": " + why, nullptr};
            // A plugin of ABI minor 0 cannot be told what a record asks for: every record is an insert.
            if (plugin_->entry().abi_minor < 1 && route->sync_mode != SP_SYNC_INSERT)
                throw Stop{Failure::config, "stream " + s.stream.name + ": destination_sync_mode " + m +
                                                " needs ABI minor 1 (" + manifest_.id +
                                                " is a minor-0 plugin: append only)"};
            s.route = *route;
            if (const json::value *pk = c.if_contains("primary_key"); pk && pk->is_array())
                for (const json::value &path : pk->get_array()) {
                    std::vector<std::string> keys;
                    for (const json::value &k : path.as_array()) keys.emplace_back(k.as_string());
                    if (!keys.empty()) s.primary_key.push_back(std::move(keys));
                }
            if (s.route.sync_mode != SP_SYNC_INSERT && s.primary_key.empty())
                throw Stop{Failure::config, "stream " + s.stream.name + ": destination_sync_mode " + m +
                                                " needs the stream's primary_key (it identifies each record)"};
            map_stream(s, st);
            open_instance(s);
            streams_.push_back(std::move(s));
        }
        if (streams_.empty()) throw Stop{Failure::config, "the catalog configures no stream"};
    }

    // Reads stdin to its end. Throws Stop.
    void run(std::istream &in) {
        std::string line;
        uint64_t n = 0;
        while (std::getline(in, line)) {
            ++n;
            if (line.empty()) continue;
            json::error_code ec;
            json::value v = json::parse(line, ec);
            if (ec || !v.is_object())
                throw Stop{Failure::system, "stdin line " + std::to_string(n) + " is not a JSON object"};
            json::object &msg = v.as_object();
            const json::value *type = msg.if_contains("type");
            if (type == nullptr || !type->is_string()) continue;
            if (type->get_string() == "RECORD")
                record(msg, n);
            else if (type->get_string() == "STATE")
                state(msg, n);
            // Other messages (LOG, TRACE from the source) are not the destination's business.
        }
        for (StreamRun &s : streams_) deliver(s);
        settle();
    }

private:
    // Which record fields feed which destination fields: the connection's mapping, else every
    // stream property named like a destination field.
    void map_stream(StreamRun &s, const json::object &st) {
        if (!conn_.mapping.empty()) {
            s.mapping = conn_.mapping;
        } else if (const json::value *schema = st.if_contains("json_schema"); schema && schema->is_object()) {
            if (const json::value *props = schema->get_object().if_contains("properties"); props && props->is_object())
                for (const auto &[name, _] : props->get_object())
                    if (manifest_.field(name)) s.mapping.emplace_back(name, name);
        }
        if (s.mapping.empty())
            throw Stop{Failure::config, "stream " + s.stream.name +
                                            ": no record field is named like a destination field of " + manifest_.id +
                                            "; give the connection a \"mapping\""};
        for (const auto &[dest, src] : s.mapping)
            if (std::find(s.columns.begin(), s.columns.end(), src) == s.columns.end()) s.columns.push_back(src);
    }

    void open_instance(StreamRun &s) {
        synchost::SyncDefinition def;
        // Seeds the plugin's idempotency ids: the namespace too, so a.orders and b.orders never share one.
        def.name = "airbyte-" + (s.stream.ns.empty() ? std::string() : s.stream.ns + "\x1f") + s.stream.name;
        def.mode = spmanifest::sync_mode_names(s.route.sync_mode).front();
        def.config = conn_.config;
        for (const auto &[dest, src] : s.mapping) {
            synchost::MappingEntry e;
            e.destination = dest;
            e.column = src;
            def.mapping.push_back(std::move(e));
        }
        synchost::AbiConfig config(def.config);
        synchost::AbiMapping mapping(def.mapping);
        const sp_open_params p = synchost::open_params(def, config, mapping, 0);
        sp_instance *raw = nullptr;
        sp_error *err = nullptr;
        if (plugin_->entry().open(&p, host_.get(), &raw, &err) != SP_OK) {
            const synchost::PluginError e = synchost::take_error(*plugin_, err, "open failed");
            throw Stop{failure_of(e.category), "stream " + s.stream.name + ": " + e.message};
        }
        s.instance = std::make_unique<synchost::Instance>(plugin_, raw);
    }

    StreamRun &stream_of(const json::object &record, uint64_t line) {
        const json::value *name = record.if_contains("stream");
        const json::value *ns = record.if_contains("namespace");
        const std::string n = name && name->is_string() ? std::string(name->get_string()) : "";
        const std::string space = ns && ns->is_string() ? std::string(ns->get_string()) : "";
        for (StreamRun &s : streams_)
            if (s.stream.name == n && s.stream.ns == space) return s;
        throw Stop{Failure::system, "stdin line " + std::to_string(line) + ": a record of stream \"" + n +
                                        "\", which the catalog does not configure"};
    }

    void record(json::object &msg, uint64_t line) {
        const json::value *r = msg.if_contains("record");
        if (r == nullptr || !r->is_object() || !r->get_object().contains("data") || !r->at("data").is_object())
            throw Stop{Failure::system, "stdin line " + std::to_string(line) + ": a RECORD without record.data"};
        StreamRun &s = stream_of(r->get_object(), line);
        s.pending.push_back(r->at("data").get_object());
        ++s.received;
        if (s.pending.size() >= batch_size_) deliver(s);
    }

    // The record key the plugin derives idempotency ids from: the primary key's values, else a
    // digest of the whole record, so a record Airbyte sends again is the same event.
    std::string record_key(const StreamRun &s, const json::object &data) const {
        if (s.primary_key.empty()) return "sha256:" + hex_sha256(json::serialize(data));
        std::string key;
        for (const auto &path : s.primary_key) {
            const json::value *v = at_path(data, path);
            if (!key.empty()) key += '\x1f';
            key += v == nullptr ? "" : v->is_string() ? std::string(v->get_string()) : json::serialize(*v);
        }
        return key;
    }

    void deliver(StreamRun &s) {
        if (s.pending.empty()) return;
        support::BatchBuilder b;
        b.set_columns(s.columns);
        for (const json::object &data : s.pending) {
            b.begin_row(record_key(s, data), s.route.operation, 0);
            for (const std::string &c : s.columns) add_cell(b, data.if_contains(c));
        }
        const sp_batch *batch = b.finish(plugin_->entry().abi_minor >= 1);
        sp_write_result wr{};
        wr.struct_size = sizeof wr;
        sp_error *err = nullptr;
        const sp_status st = plugin_->entry().write_batch(s.instance->raw(), batch, &wr, &err);
        std::optional<synchost::PluginError> failure;
        if (st != SP_OK) failure = synchost::take_error(*plugin_, err, "write_batch failed");
        // One result per record, whatever the status (the ABI's rule); anything else leaves
        // records unaccounted for, and no STATE may follow them.
        if (wr.record_count != s.pending.size() || (wr.record_count && wr.results == nullptr))
            throw Stop{Failure::system,
                       std::string(plugin_->entry().plugin_id) + " answered " + std::to_string(wr.record_count) +
                           " results for " + std::to_string(s.pending.size()) + " records",
                       &s.stream};
        for (uint32_t i = 0; i < wr.record_count; ++i) {
            const sp_record_result *r = sp_result_at(&wr, i);
            ++s.position;
            if (r->status == SP_RECORD_OK) continue;
            if (r->status == SP_RECORD_REJECTED) {
                ++s.rejected;
                out_.log("WARN", "stream " + s.stream.name + " record " + std::to_string(s.position) + " rejected" +
                                     (r->field ? " (" + std::string(r->field) + ")" : "") + ": " +
                                     (r->message ? r->message : "no reason given"));
            } else {  // RETRY, or a status the ABI does not define: not delivered
                ++unsettled_;
                retry_category_ = static_cast<sp_error_category>(r->category);
                if (r->category == SP_ERR_RATE_LIMIT)
                    rate_limit_reset_ = Output::now_ms() + static_cast<int64_t>(wr.retry_after_ms);
                if (retry_message_.empty() && r->message) retry_message_ = r->message;
                retry_stream_ = &s.stream;
            }
        }
        s.pending.clear();
        if (failure) throw Stop{failure_of(failure->category), failure->message, &s.stream};
    }

    // Every stream's writes flushed; a record not delivered ends the run before any STATE that
    // follows it is echoed.
    void settle() {
        for (StreamRun &s : streams_) {
            sp_error *err = nullptr;
            if (plugin_->entry().flush(s.instance->raw(), &err) != SP_OK) {
                const synchost::PluginError e = synchost::take_error(*plugin_, err, "flush failed");
                throw Stop{failure_of(e.category), e.message, &s.stream};
            }
        }
        if (unsettled_ == 0) return;
        if (rate_limit_reset_ && retry_stream_) out_.rate_limited(*retry_stream_, rate_limit_reset_);
        throw Stop{retry_category_ == SP_ERR_NONE ? Failure::transient : failure_of(retry_category_),
                   std::to_string(unsettled_) + " records were not delivered" +
                       (retry_message_.empty() ? std::string() : " (" + retry_message_ + ")") +
                       "; the state after them was not emitted, so the next attempt sends them again",
                   retry_stream_};
    }

    void state(json::object &msg, uint64_t line) {
        json::value *st = msg.if_contains("state");
        if (st == nullptr || !st->is_object())
            throw Stop{Failure::system, "stdin line " + std::to_string(line) + ": a STATE without state"};
        for (StreamRun &s : streams_) deliver(s);
        settle();
        // A stream's state counts that stream's records; a global (or legacy) one counts them all.
        const json::object &state = st->get_object();
        const json::value *type = state.if_contains("type");
        uint64_t records = 0, rejected = 0;
        auto take = [&](StreamRun &s) {
            records += s.received;
            rejected += s.rejected;
            s.received = s.rejected = 0;
        };
        if (type && type->is_string() && type->get_string() == "STREAM") {
            const json::object &d = state.at("stream").at("stream_descriptor").as_object();
            const json::value *ns = d.if_contains("namespace");
            for (StreamRun &s : streams_)
                if (s.stream.name == d.at("name").as_string() &&
                    s.stream.ns == (ns && ns->is_string() ? std::string(ns->get_string()) : std::string()))
                    take(s);
        } else {
            for (StreamRun &s : streams_) take(s);
        }
        out_.state(state, records, rejected);
    }

    std::shared_ptr<synchost::Plugin> plugin_;
    const Connection &conn_;
    Output &out_;
    AdapterHost host_;
    spmanifest::Manifest manifest_;
    size_t batch_size_ = 1000;
    std::vector<StreamRun> streams_;
    uint64_t unsettled_ = 0;
    sp_error_category retry_category_ = SP_ERR_NONE;
    std::string retry_message_;
    const Stream *retry_stream_ = nullptr;
    int64_t rate_limit_reset_ = 0;
};

}  // namespace

int run_write(const std::shared_ptr<synchost::Plugin> &plugin, const json::object &config, const json::object &catalog,
              std::istream &in, Output &out, const std::atomic<bool> &cancel) {
    try {
        const Connection conn = read_connection(config, spmanifest::from_descriptor(plugin->descriptor()));
        for (const std::string &k : conn.ignored)
            out.log("WARN", "config key \"" + k + "\" is not " + plugin->entry().plugin_id + "'s; ignored");
        Writer w(plugin, conn, out, cancel);
        try {
            w.open_streams(catalog);
        } catch (const Stop &) {
            throw;
        } catch (const std::exception &e) {
            throw Stop{Failure::config, std::string("the configured catalog is malformed: ") + e.what()};
        }
        w.run(in);
        return 0;
    } catch (const Stop &s) {
        out.error(s.type, s.message, s.stream ? &*s.stream : nullptr);
    } catch (const ConfigError &e) {
        out.error(Failure::config, e.what());
    } catch (const std::exception &e) {
        out.error(Failure::system, e.what());
    }
    return 1;
}

}  // namespace airbyte
