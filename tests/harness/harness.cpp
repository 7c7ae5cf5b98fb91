#include "harness.hpp"

// For spu_mode_allows, the header's operation-per-mode table, so the harness holds plugins to the
// very table they are told to use. The file is meant for plugins because it defines struct
// sp_error; the harness never defines or reads one (errors stay opaque), so this is safe here.
#include <syncplugin/syncplugin_util.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <fstream>
#include <iterator>

namespace harness {

std::vector<Check> &registry() {
    static std::vector<Check> checks;
    return checks;
}

Library::Library(const std::string &path) {
    handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) fail(std::string("dlopen(RTLD_NOW | RTLD_LOCAL) failed: ") + ::dlerror());
    get_entry_ = reinterpret_cast<sp_get_entry_fn>(::dlsym(handle_, SP_ENTRY_SYMBOL));
    if (get_entry_ == nullptr) fail("no " SP_ENTRY_SYMBOL " symbol");
}

Library::~Library() {
    if (handle_) ::dlclose(handle_);
}

const sp_entry &Library::entry() const {
    const sp_entry *e = get_entry_(SP_ABI_MAJOR);
    if (e == nullptr) fail("sp_get_entry(" + std::to_string(SP_ABI_MAJOR) + ") returned NULL");
    return *e;
}

KV without(const KV &kv, const std::string &key) {
    KV out;
    for (const auto &p : kv)
        if (p.first != key) out.push_back(p);
    return out;
}

KV with(KV kv, const std::string &key, const std::string &value) {
    kv = without(kv, key);
    kv.emplace_back(key, value);
    return kv;
}

Config::Config(std::vector<std::pair<std::string, std::string>> kv) : kv_(std::move(kv)) {
    entries_.reserve(kv_.size());
    for (const auto &[k, v] : kv_) entries_.push_back({sizeof(sp_config_entry), k.c_str(), v.c_str()});
    for (const auto &e : entries_) ptrs_.push_back(&e);
    config_ = {sizeof(sp_config), static_cast<uint32_t>(ptrs_.size()), ptrs_.data()};
}

Mapping::Mapping(std::vector<std::pair<std::string, std::string>> kv) : kv_(std::move(kv)) {
    entries_.reserve(kv_.size());
    for (const auto &[d, c] : kv_) entries_.push_back({sizeof(sp_mapping_entry), d.c_str(), c.c_str(), nullptr});
    for (const auto &e : entries_) ptrs_.push_back(&e);
    mapping_ = {sizeof(sp_mapping), static_cast<uint32_t>(ptrs_.size()), ptrs_.data()};
}

Batch::Batch(std::vector<std::string> columns, size_t reserve_rows) : columns_(std::move(columns)) {
    for (const auto &c : columns_) column_ptrs_.push_back(c.c_str());
    values_.reserve(reserve_rows * columns_.size());
}

void Batch::add(const std::vector<const std::string *> &cells, std::string key) {
    for (size_t c = 0; c < columns_.size(); ++c) {
        sp_value v{};
        if (c < cells.size() && cells[c] != nullptr) {
            texts_.push_back(std::make_unique<std::string>(*cells[c]));
            v.type = SP_VALUE_TEXT;
            v.len = static_cast<uint32_t>(texts_.back()->size());
            v.as.text = texts_.back()->data();
        }
        values_.push_back(v);
    }
    keys_.push_back(std::move(key));
}

void Batch::add_json(const std::string &json_object, std::string key) {
    boost::json::error_code ec;
    auto jv = boost::json::parse(json_object, ec);
    if (ec || !jv.is_object()) fail("sample row is not a JSON object");
    const auto &o = jv.get_object();
    for (const auto &col : columns_) {
        sp_value v{};
        auto it = o.find(col);
        if (it != o.end()) {
            const auto &x = it->value();
            if (x.is_string()) {
                texts_.push_back(std::make_unique<std::string>(x.get_string()));
                v.type = SP_VALUE_TEXT;
                v.len = static_cast<uint32_t>(texts_.back()->size());
                v.as.text = texts_.back()->data();
            } else if (x.is_int64()) {
                v.type = SP_VALUE_INT;
                v.as.i = x.get_int64();
            } else if (x.is_double()) {
                v.type = SP_VALUE_REAL;
                v.as.r = x.get_double();
            } else if (x.is_bool()) {
                v.type = SP_VALUE_BOOL;
                v.as.i = x.get_bool();
            }
        }
        values_.push_back(v);
    }
    keys_.push_back(std::move(key));
}

void Batch::add_nulls(std::string key) { add({}, std::move(key)); }

const sp_batch *Batch::get() {
    key_ptrs_.clear();
    for (const auto &k : keys_) key_ptrs_.push_back(k.c_str());
    batch_ = {sizeof(sp_batch), static_cast<uint32_t>(columns_.size()), column_ptrs_.data(),
              static_cast<uint32_t>(keys_.size()), values_.data(), key_ptrs_.data(),
              ops_.size() == keys_.size() && !ops_.empty() ? ops_.data() : nullptr, nullptr};
    return &batch_;
}

Error take(const sp_entry &e, sp_error *err) {
    Error out;
    if (err == nullptr) return out;
    out.present = true;
    out.category = e.error_category(err);
    const char *m = e.error_message(err);
    out.message = m ? m : "";
    e.error_destroy(err);
    return out;
}

std::string Target::name() const {
    const char *mode_name = kind == SP_TARGET_AUDIENCE ? spu_audience_mode_name(mode) : spu_sync_mode_name(mode);
    return std::string(kind == SP_TARGET_AUDIENCE ? "audience mode " : "sync mode ") + (mode_name ? mode_name : "?");
}

bool Target::allows(uint32_t op) const { return spu_mode_allows(kind, mode, op) != 0; }

uint32_t Target::usual_op() const {
    if (kind == SP_TARGET_SYNC) return SP_OP_UPSERT;
    return allows(SP_OP_ADD) ? SP_OP_ADD : SP_OP_REMOVE;
}

uint32_t Target::refused_op() const {
    for (uint32_t op : {SP_OP_DELETE, SP_OP_ADD, SP_OP_REMOVE, SP_OP_UPSERT})
        if (!allows(op)) return op;
    fail("the mode table allows every operation in " + name());  // never: each kind has foreign operations
}

std::vector<Row> mixed_operations(const Target &t) {
    static constexpr uint32_t kOps[] = {SP_OP_UPSERT, SP_OP_DELETE, SP_OP_ADD,    SP_OP_ADD,
                                        SP_OP_REMOVE, SP_OP_UPSERT, SP_OP_UPSERT, SP_OP_DELETE,
                                        SP_OP_REMOVE, SP_OP_ADD,    SP_OP_UPSERT, SP_OP_REMOVE};
    std::vector<Row> rows;
    for (uint32_t op : kOps) rows.push_back({op, false, t.allows(op) ? Want::ok : Want::unsupported});
    return rows;
}

Host::Host(std::string token) : token_(std::move(token)) {
    host_.struct_size = sizeof host_;
    host_.ctx = this;
    host_.log = [](void *ctx, sp_log_level, const char *message) {
        auto *self = static_cast<Host *>(ctx);
        std::lock_guard<std::mutex> lock(self->mutex_);
        self->lines_.emplace_back(message ? message : "");
    };
    host_.get_access_token = [](void *ctx, uint32_t, const char *, char *out, uint32_t out_cap, uint32_t *out_len,
                                char *message, uint32_t message_cap) -> sp_credential_status {
        const auto *self = static_cast<Host *>(ctx);
        if (self->token_.empty()) {
            if (message && message_cap) std::snprintf(message, message_cap, "the harness was given no --token-env");
            return SP_CRED_NONE;
        }
        if (out_len) *out_len = static_cast<uint32_t>(self->token_.size() + 1);
        if (out == nullptr || self->token_.size() + 1 > out_cap) return SP_CRED_BUFFER_TOO_SMALL;
        std::memcpy(out, self->token_.c_str(), self->token_.size() + 1);
        return SP_CRED_OK;
    };
}

std::vector<std::string> Host::logged() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
}

Fixture::Fixture(const Options &o) : opt(o), lib(o.library), entry(lib.entry()), desc([&]() -> const sp_descriptor & {
    const sp_descriptor *d = entry.describe ? entry.describe() : nullptr;
    if (d == nullptr) fail("describe() returned NULL");
    return *d;
}()) {}

spmanifest::Manifest manifest_of(const sp_descriptor &d) {
    try {
        return spmanifest::from_descriptor(d);
    } catch (const std::exception &e) {
        fail(std::string("the descriptor cannot be read: ") + e.what());
    }
}

spmanifest::Manifest Fixture::manifest() const { return manifest_of(desc); }

bool Fixture::has_required_config() const {
    for (const auto &c : manifest().config)
        if (c.required) return true;
    return false;
}

bool Fixture::has_good_config() const { return !opt.config.empty() || !has_required_config(); }

std::vector<std::string> Fixture::columns() const {
    std::vector<std::string> cols;
    for (const auto &[d, c] : opt.mapping) cols.push_back(c);
    return cols;
}

std::vector<Target> Fixture::targets() const {
    std::vector<Target> out;
    const uint32_t minor0_sync = entry.abi_minor >= 1 ? 0xFu : SP_SYNC_INSERT;
    const uint32_t minor0_audience = entry.abi_minor >= 1 ? 0xFu : SP_AUDIENCE_ADD;
    for (uint32_t bit = 1; bit <= 8; bit <<= 1)
        if (desc.sync_modes & minor0_sync & bit) out.push_back({SP_TARGET_SYNC, bit});
    for (uint32_t bit = 1; bit <= 8; bit <<= 1)
        if (desc.audience_modes & minor0_audience & bit) out.push_back({SP_TARGET_AUDIENCE, bit});
    return out;
}

Target Fixture::default_target() const {
    if (desc.sync_modes != 0) return {SP_TARGET_SYNC, desc.sync_modes & (~desc.sync_modes + 1)};
    return {SP_TARGET_AUDIENCE, desc.audience_modes & (~desc.audience_modes + 1)};
}

sp_open_params Fixture::params(const Config &c, const Mapping &m, uint32_t flags) const {
    return params(c, m, default_target(), flags);
}

sp_open_params Fixture::params(const Config &c, const Mapping &m, const Target &t, uint32_t flags) const {
    sp_open_params p{};
    p.struct_size = sizeof p;
    p.target_kind = t.kind;
    p.sync_mode = t.kind == SP_TARGET_SYNC ? t.mode : 0;
    p.audience_mode = t.kind == SP_TARGET_AUDIENCE ? t.mode : 0;
    p.config = c.get();
    p.mapping = m.get();
    p.sync_id = "syncplugin-harness";
    p.flags = flags;
    return p;
}

sp_instance *Fixture::open_good(const Config &c, const Mapping &m) const {
    return open_target(c, m, default_target(), SP_OPEN_DRY_RUN);
}

sp_instance *Fixture::open_target(const Config &c, const Mapping &m, const Target &t, uint32_t flags,
                                  const sp_host *host) const {
    if (!has_good_config()) skip("no known-good config given (--config KEY=VALUE)");
    if (opt.mapping.empty() && (desc.features & SP_FEATURE_FIELD_MAPPING)) skip("no mapping given (--map FIELD=COLUMN)");
    sp_open_params p = params(c, m, t, flags);
    sp_instance *inst = nullptr;
    sp_error *err = nullptr;
    const bool dry = (flags & SP_OPEN_DRY_RUN) != 0;
    if (entry.open(&p, host, &inst, &err) != SP_OK) {
        Error e = take(entry, err);
        // A plugin may refuse dry runs altogether; a declared mode it refuses is a failure.
        if (dry && e.category == SP_ERR_UNSUPPORTED && t.name() == default_target().name())
            skip("plugin cannot open a dry-run instance: " + e.message);
        fail("open (" + t.name() + (dry ? ", dry run" : ", real writes") + ") with the good config failed: " +
             e.message);
    }
    expect(inst != nullptr, "open returned SP_OK but no instance");
    return inst;
}

Batch Fixture::sample_batch(size_t rows) const {
    if (opt.sample_rows.empty()) skip("no sample rows given (--sample FILE.jsonl)");
    Batch b(columns(), rows);
    for (size_t i = 0; i < rows; ++i) b.add_json(opt.sample_rows[i % opt.sample_rows.size()], "key-" + std::to_string(i));
    return b;
}

KV Fixture::scratch_config() const {
    KV kv = opt.config;
    for (const auto &[k, v] : opt.scratch_config) kv = with(kv, k, v);
    if (opt.scratch_file.empty()) return kv;
    std::vector<std::string> paths;
    for (const auto &c : manifest().config)
        if (c.type == SP_CONFIG_PATH) paths.push_back(c.key);
    const bool set_by_user = paths.size() == 1 && std::any_of(opt.scratch_config.begin(), opt.scratch_config.end(),
                                                              [&](const auto &p) { return p.first == paths[0]; });
    if (paths.size() == 1 && !set_by_user) kv = with(kv, paths[0], opt.scratch_file);
    return kv;
}

Batch Fixture::planned_batch(const std::vector<Row> &rows, const std::string &prefix) const {
    if (opt.sample_rows.empty()) skip("no sample rows given (--sample FILE.jsonl)");
    Batch b(columns(), rows.size());
    std::vector<uint32_t> ops;
    for (size_t i = 0; i < rows.size(); ++i) {
        const uint32_t op = rows[i].op;
        const bool carries_row = (op == SP_OP_UPSERT || op == SP_OP_ADD) && !rows[i].nulls;
        if (carries_row) b.add_json(opt.sample_rows[i % opt.sample_rows.size()], prefix + std::to_string(i));
        else b.add_nulls(prefix + std::to_string(i));  // the header: a DELETE's cells are NULL
        ops.push_back(op);
    }
    if (sends_operations()) b.set_operations(std::move(ops));
    return b;
}

bool Fixture::refuses_nulls(const Target &t) const {
    const bool carries_row = t.usual_op() == SP_OP_UPSERT || t.usual_op() == SP_OP_ADD;
    return !sends_operations() && desc.required_rule_count > 0 && carries_row &&
           !(t.kind == SP_TARGET_SYNC && t.mode == SP_SYNC_UPDATE);
}

Written write(const Fixture &f, sp_instance *inst, Batch &b) {
    Written w{};
    w.wr.struct_size = sizeof w.wr;
    sp_error *err = nullptr;
    w.status = f.entry.write_batch(inst, b.get(), &w.wr, &err);
    w.error = take(f.entry, err);
    return w;
}

void expect_results(const Written &w, size_t n) {
    expect(w.wr.record_count == n, "batch of " + std::to_string(n) + " records gave " +
                                       std::to_string(w.wr.record_count) + " results");
    if (n == 0) return;
    expect(w.wr.results != nullptr, "results pointer is NULL");
    // The whole result struct of ABI 1.0: it has not grown since, and a smaller stride overlaps results.
    expect(w.wr.result_stride >= sizeof(sp_record_result), "result_stride smaller than ABI 1.0's result");
    uint32_t counts[3] = {0, 0, 0};
    for (uint32_t i = 0; i < w.wr.record_count; ++i) {
        const sp_record_result *r = sp_result_at(&w.wr, i);
        expect(r->status <= SP_RECORD_RETRY, "result " + std::to_string(i) + " has status " + std::to_string(r->status));
        ++counts[r->status];
        if (r->status == SP_RECORD_REJECTED)
            expect(r->message && r->message[0], "rejected result " + std::to_string(i) + " has no reason");
    }
    expect(w.wr.ok_count == counts[0] && w.wr.rejected_count == counts[1] && w.wr.retry_count == counts[2],
           "ok/rejected/retry counts disagree with the results");
}

void expect_plan(const Written &w, const std::vector<Row> &rows, const std::string &where) {
    expect(w.status == SP_OK, where + ": write_batch failed (records are refused one by one, not the batch): " +
                                  w.error.message);
    expect_results(w, rows.size());
    for (uint32_t i = 0; i < rows.size(); ++i) {
        const sp_record_result *r = sp_result_at(&w.wr, i);
        const std::string what = where + ": record " + std::to_string(i) + " (" +
                                 (spu_operation_name(rows[i].op) ? spu_operation_name(rows[i].op) : "?") +
                                 (rows[i].nulls ? " of NULL cells" : "") + ")";
        const std::string said = r->message ? std::string(": ") + r->message : "";
        switch (rows[i].want) {
        case Want::ok: expect(r->status == SP_RECORD_OK, what + " was not accepted" + said); break;
        case Want::rejected: expect(r->status == SP_RECORD_REJECTED, what + " was not rejected"); break;
        case Want::unsupported:
            expect(r->status == SP_RECORD_REJECTED && r->category == SP_ERR_UNSUPPORTED,
                   what + " is not part of the mode but was not rejected as SP_ERR_UNSUPPORTED (status " +
                       std::to_string(r->status) + ", category " + std::to_string(r->category) + ")");
            break;
        }
    }
}

std::vector<std::string> exported_symbols(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.size() < sizeof(Elf64_Ehdr) || std::memcmp(data.data(), ELFMAG, SELFMAG) != 0 ||
        data[EI_CLASS] != ELFCLASS64)
        fail("not a 64-bit ELF file");
    auto at = [&](size_t off, size_t len) {
        if (off + len > data.size()) fail("truncated ELF file");
        return data.data() + off;
    };
    Elf64_Ehdr eh;
    std::memcpy(&eh, at(0, sizeof eh), sizeof eh);
    std::vector<std::string> names;
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
        Elf64_Shdr sh;
        std::memcpy(&sh, at(eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof sh), sizeof sh);
        if (sh.sh_type != SHT_DYNSYM) continue;
        Elf64_Shdr strtab;
        std::memcpy(&strtab, at(eh.e_shoff + sh.sh_link * sizeof(Elf64_Shdr), sizeof strtab), sizeof strtab);
        for (size_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
            Elf64_Sym s;
            std::memcpy(&s, at(sh.sh_offset + off, sizeof s), sizeof s);
            const unsigned bind = ELF64_ST_BIND(s.st_info), type = ELF64_ST_TYPE(s.st_info);
            if (s.st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)) continue;
            if (type != STT_FUNC && type != STT_OBJECT && type != STT_TLS && type != STT_GNU_IFUNC) continue;
            if (ELF64_ST_VISIBILITY(s.st_other) != STV_DEFAULT) continue;
            names.emplace_back(at(strtab.sh_offset + s.st_name, 1));
        }
    }
    return names;
}

}  // namespace harness
