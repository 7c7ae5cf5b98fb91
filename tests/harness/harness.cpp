#include "harness.hpp"

#include <boost/json.hpp>

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
              static_cast<uint32_t>(keys_.size()), values_.data(), key_ptrs_.data(), nullptr, nullptr};
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

Fixture::Fixture(const Options &o) : opt(o), lib(o.library), entry(lib.entry()), desc([&]() -> const sp_descriptor & {
    const sp_descriptor *d = entry.describe ? entry.describe() : nullptr;
    if (d == nullptr) fail("describe() returned NULL");
    return *d;
}()) {}

std::vector<std::string> Fixture::columns() const {
    std::vector<std::string> cols;
    for (const auto &[d, c] : opt.mapping) cols.push_back(c);
    return cols;
}

sp_open_params Fixture::params(const Config &c, const Mapping &m, uint32_t flags) const {
    sp_open_params p{};
    p.struct_size = sizeof p;
    const bool sync = desc.sync_modes != 0;
    p.target_kind = sync ? SP_TARGET_SYNC : SP_TARGET_AUDIENCE;
    p.sync_mode = sync ? (desc.sync_modes & (~desc.sync_modes + 1)) : 0;  // lowest declared mode
    p.audience_mode = sync ? 0 : (desc.audience_modes & (~desc.audience_modes + 1));
    p.config = c.get();
    p.mapping = m.get();
    p.sync_id = "syncplugin-harness";
    p.flags = flags;
    return p;
}

sp_instance *Fixture::open_good(const Config &c, const Mapping &m) const {
    if (!has_good_config()) skip("no known-good config given (--config KEY=VALUE)");
    if (opt.mapping.empty() && (desc.features & SP_FEATURE_FIELD_MAPPING)) skip("no mapping given (--map FIELD=COLUMN)");
    sp_open_params p = params(c, m);
    sp_instance *inst = nullptr;
    sp_error *err = nullptr;
    if (entry.open(&p, nullptr, &inst, &err) != SP_OK) {
        Error e = take(entry, err);
        if (e.category == SP_ERR_UNSUPPORTED) skip("plugin cannot open a dry-run instance: " + e.message);
        fail("open with the good config failed: " + e.message);
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
