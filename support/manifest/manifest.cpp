#include "manifest/manifest.hpp"

#include <boost/json.hpp>

namespace spmanifest {
namespace json = boost::json;

namespace {

template <class T>
struct Name {
    const char *name;
    T value;
};

constexpr Name<sp_config_type> kConfigTypes[] = {{"string", SP_CONFIG_STRING}, {"integer", SP_CONFIG_INTEGER},
                                                 {"boolean", SP_CONFIG_BOOLEAN}, {"enum", SP_CONFIG_ENUM},
                                                 {"secret", SP_CONFIG_SECRET}, {"path", SP_CONFIG_PATH}};
constexpr Name<sp_field_group> kGroups[] = {{"event", SP_GROUP_EVENT}, {"user_data", SP_GROUP_USER_DATA},
                                            {"custom_data", SP_GROUP_CUSTOM_DATA}, {"app_data", SP_GROUP_APP_DATA},
                                            {"device_data", SP_GROUP_DEVICE_DATA}};
constexpr Name<sp_field_type> kFieldTypes[] = {{"string", SP_FIELD_STRING}, {"integer", SP_FIELD_INTEGER},
                                               {"decimal", SP_FIELD_DECIMAL}, {"boolean", SP_FIELD_BOOLEAN},
                                               {"timestamp", SP_FIELD_TIMESTAMP}, {"string_list", SP_FIELD_STRING_LIST},
                                               {"json", SP_FIELD_JSON}};
constexpr Name<uint32_t> kFieldFlags[] = {{"default", SP_FIELD_DEFAULT}, {"hashed", SP_FIELD_HASHED},
                                          {"prehashed", SP_FIELD_PREHASHED}, {"multi", SP_FIELD_MULTI},
                                          {"recommended", SP_FIELD_RECOMMENDED},
                                          {"closed_values", SP_FIELD_CLOSED_VALUES}};
constexpr Name<uint32_t> kAuthKinds[] = {{"oauth2", SP_AUTH_OAUTH2}, {"static_token", SP_AUTH_STATIC_TOKEN}};
const char *const kSyncModes[4] = {"insert", "update", "upsert", "mirror"};
const char *const kAudienceModes[4] = {"add", "remove", "mirror", "upsert"};

// A routing field replaces a config key the manifest declares, and never a secret one (hosts
// show its values).
template <class Bad>
void check_config_key(const Manifest &m, const DestinationField &f, Bad &&bad) {
    if (f.config_key.empty()) return;
    const ConfigField *c = m.config_field(f.config_key);
    if (c == nullptr) bad("fields." + f.name + ": config_key \"" + f.config_key + "\" is not a config key of this manifest");
    else if (c->type == SP_CONFIG_SECRET)
        bad("fields." + f.name + ": config_key \"" + f.config_key + "\" names a secret, which a routing field cannot replace");
}

template <class T, size_t N>
T lookup(const Name<T> (&table)[N], std::string_view name, std::string_view what) {
    for (const auto &e : table)
        if (name == e.name) return e.value;
    throw ManifestError("manifest: unknown " + std::string(what) + " \"" + std::string(name) + "\"");
}

template <class T, size_t N>
const char *name_of(const Name<T> (&table)[N], T value) {
    for (const auto &e : table)
        if (e.value == value) return e.name;
    return nullptr;
}

uint32_t bit_of(const char *const (&names)[4], std::string_view name) {
    for (unsigned i = 0; i < 4; ++i)
        if (name == names[i]) return 1u << i;
    return 0;
}

std::vector<std::string> names_of(const char *const (&names)[4], uint32_t bits) {
    std::vector<std::string> out;
    for (unsigned i = 0; i < 4; ++i)
        if (bits & (1u << i)) out.emplace_back(names[i]);
    return out;
}

// ---- JSON reading -------------------------------------------------------------------------------

[[noreturn]] void bad(const std::string &what) { throw ManifestError("manifest: " + what); }

const json::object &object_at(const json::object &o, std::string_view key, std::string_view where) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_object()) bad(std::string(where) + "." + std::string(key) + " must be an object");
    return it->value().get_object();
}

const json::array &array_at(const json::object &o, std::string_view key, std::string_view where) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_array()) bad(std::string(where) + "." + std::string(key) + " must be an array");
    return it->value().get_array();
}

std::string text(const json::object &o, std::string_view key, std::string_view where, bool required = true) {
    auto it = o.find(key);
    if (it == o.end()) {
        if (required) bad(std::string(where) + " has no \"" + std::string(key) + "\"");
        return {};
    }
    if (!it->value().is_string()) bad(std::string(where) + "." + std::string(key) + " must be a string");
    return std::string(it->value().get_string());
}

std::vector<std::string> texts(const json::object &o, std::string_view key, std::string_view where) {
    std::vector<std::string> out;
    if (o.find(key) == o.end()) return out;
    for (const auto &v : array_at(o, key, where)) {
        if (!v.is_string()) bad(std::string(where) + "." + std::string(key) + " must hold strings");
        out.emplace_back(v.get_string());
    }
    return out;
}

bool flag(const json::object &o, std::string_view key, std::string_view where) {
    auto it = o.find(key);
    if (it == o.end()) return false;
    if (!it->value().is_bool()) bad(std::string(where) + "." + std::string(key) + " must be true or false");
    return it->value().get_bool();
}

int64_t integer(const json::object &o, std::string_view key, std::string_view where) {
    auto it = o.find(key);
    if (it == o.end()) return 0;
    if (!it->value().is_int64()) bad(std::string(where) + "." + std::string(key) + " must be an integer");
    return it->value().get_int64();
}

uint32_t mode_bits(const json::object &o, std::string_view key, const char *const (&names)[4]) {
    uint32_t out = 0;
    for (const auto &n : texts(o, key, "manifest")) {
        uint32_t b = bit_of(names, n);
        if (b == 0) bad(std::string(key) + " has an unknown mode \"" + n + "\"");
        out |= b;
    }
    return out;
}

}  // namespace

uint32_t sync_mode_bit(std::string_view name) { return bit_of(kSyncModes, name); }
uint32_t audience_mode_bit(std::string_view name) { return bit_of(kAudienceModes, name); }
std::vector<std::string> sync_mode_names(uint32_t bits) { return names_of(kSyncModes, bits); }
std::vector<std::string> audience_mode_names(uint32_t bits) { return names_of(kAudienceModes, bits); }
const char *const *all_sync_mode_names() { return kSyncModes; }
const char *const *all_audience_mode_names() { return kAudienceModes; }
const char *config_type_name(sp_config_type t) { return name_of(kConfigTypes, t); }
const char *field_group_name(sp_field_group g) { return name_of(kGroups, g); }
sp_field_group field_group_of(std::string_view name) {
    for (const auto &e : kGroups)
        if (name == e.name) return e.value;
    return static_cast<sp_field_group>(0);
}
const char *field_type_name(sp_field_type t) { return name_of(kFieldTypes, t); }

const ConfigField *Manifest::config_field(std::string_view key) const {
    for (const auto &c : config)
        if (c.key == key) return &c;
    return nullptr;
}

const DestinationField *Manifest::field(std::string_view n) const {
    for (const auto &f : fields)
        if (f.name == n) return &f;
    return nullptr;
}

Manifest parse(std::string_view json_text) {
    json::error_code ec;
    json::value root = json::parse(json_text, ec);
    if (ec) bad("not valid JSON: " + ec.message());
    if (!root.is_object()) bad("must be a JSON object");
    const json::object &o = root.get_object();
    if (integer(o, "manifest_version", "manifest") != 1) bad("manifest_version must be 1");
    Manifest m;
    m.id = text(o, "id", "manifest");
    m.name = text(o, "name", "manifest");
    m.version = text(o, "version", "manifest");
    m.description = text(o, "description", "manifest");
    m.sync_modes = mode_bits(o, "sync_modes", kSyncModes);
    m.audience_modes = mode_bits(o, "audience_modes", kAudienceModes);
    const json::object &features = object_at(o, "features", "manifest");
    if (flag(features, "field_mapping", "features")) m.features |= SP_FEATURE_FIELD_MAPPING;
    if (flag(features, "schema_introspection", "features")) m.features |= SP_FEATURE_SCHEMA_INTROSPECTION;
    if (flag(features, "test_events", "features")) m.features |= SP_FEATURE_TEST_EVENTS;
    if (flag(features, "open_fields", "features")) m.features |= SP_FEATURE_OPEN_FIELDS;

    const json::object &auth = object_at(o, "auth", "manifest");
    for (const auto &k : texts(auth, "kinds", "auth")) m.auth.kinds |= lookup(kAuthKinds, k, "auth kind");
    m.auth.authorize_url = text(auth, "authorize_url", "auth", false);
    m.auth.token_url = text(auth, "token_url", "auth", false);
    m.auth.scopes = texts(auth, "scopes", "auth");
    m.auth.scope_separator = text(auth, "scope_separator", "auth", false);
    m.auth.client_auth = text(auth, "client_auth", "auth", false);
    m.auth.static_token_help = text(auth, "static_token_help", "auth", false);
    if ((m.auth.kinds & SP_AUTH_OAUTH2) && (m.auth.authorize_url.empty() || m.auth.token_url.empty()))
        bad("auth: oauth2 needs authorize_url and token_url");

    const json::object &batch = object_at(o, "batch", "manifest");
    m.max_batch_records = static_cast<uint32_t>(integer(batch, "max_records", "batch"));
    m.max_batch_bytes = static_cast<uint64_t>(integer(batch, "max_bytes", "batch"));
    m.recommended_batch_records = static_cast<uint32_t>(integer(batch, "recommended_records", "batch"));

    for (const auto &v : array_at(o, "config", "manifest")) {
        if (!v.is_object()) bad("config entries must be objects");
        const json::object &c = v.get_object();
        ConfigField f;
        f.key = text(c, "key", "config entry");
        const std::string where = "config." + f.key;
        f.label = text(c, "label", where, false);
        f.description = text(c, "description", where);
        f.type = lookup(kConfigTypes, text(c, "type", where), "config type");
        f.pattern = text(c, "pattern", where, false);
        f.required = flag(c, "required", where);
        f.advanced = flag(c, "advanced", where);
        f.has_default = c.contains("default");
        f.default_value = text(c, "default", where, false);
        f.min_value = integer(c, "min", where);
        f.max_value = integer(c, "max", where);
        f.enum_values = texts(c, "enum", where);
        if (m.config_field(f.key)) bad("config key \"" + f.key + "\" appears twice");
        m.config.push_back(std::move(f));
    }
    for (const auto &v : array_at(o, "fields", "manifest")) {
        if (!v.is_object()) bad("fields entries must be objects");
        const json::object &c = v.get_object();
        DestinationField f;
        f.name = text(c, "name", "field");
        const std::string where = "fields." + f.name;
        f.description = text(c, "description", where);
        f.group = text(c, "group", where, false);
        f.type = lookup(kFieldTypes, text(c, "type", where), "field type");
        for (const auto &fl : kFieldFlags)
            if (flag(c, fl.name, where)) f.flags |= fl.value;
        f.values = texts(c, "values", where);
        if ((f.flags & SP_FIELD_CLOSED_VALUES) && f.values.empty())
            bad(where + ": closed_values needs the list of values");
        f.config_key = text(c, "config_key", where, false);
        check_config_key(m, f, bad);
        if (m.field(f.name)) bad("field \"" + f.name + "\" appears twice");
        m.fields.push_back(std::move(f));
    }
    for (const auto &v : array_at(o, "required", "manifest")) {
        if (!v.is_object()) bad("required entries must be objects");
        const json::object &c = v.get_object();
        RequiredRule r;
        r.any_of = texts(c, "any_of", "required rule");
        if (r.any_of.empty()) bad("a required rule needs at least one field in any_of");
        for (const auto &n : r.any_of)
            if (!m.field(n)) bad("required rule names unknown field \"" + n + "\"");
        r.description = text(c, "description", "required rule", false);
        m.required.push_back(std::move(r));
    }
    return m;
}

// ---- descriptor -> model ----------------------------------------------------------------------

namespace {

std::string str(const char *s) { return s ? s : ""; }

template <class T>
void need(const T *p, const char *what) {
    if (p == nullptr) throw ManifestError(std::string("descriptor: ") + what + " is NULL");
}

}  // namespace

Manifest from_descriptor(const sp_descriptor &d) {
    Manifest m;
    if (d.struct_size < offsetof(sp_descriptor, manifest_json)) throw ManifestError("descriptor: struct_size too small");
    m.id = str(d.id);
    m.name = str(d.name);
    m.version = str(d.version);
    m.description = str(d.description);
    m.sync_modes = d.sync_modes;
    m.audience_modes = d.audience_modes;
    m.features = d.features;
    if (d.auth) {
        const sp_auth_descriptor &a = *d.auth;
        m.auth.kinds = a.kinds;
        m.auth.authorize_url = str(a.authorize_url);
        m.auth.token_url = str(a.token_url);
        if (a.scope_count) need(a.scopes, "auth.scopes");
        for (uint32_t i = 0; i < a.scope_count; ++i) m.auth.scopes.push_back(str(a.scopes[i]));
        m.auth.scope_separator = str(a.scope_separator);
        m.auth.client_auth = str(a.client_auth);
        m.auth.static_token_help = str(a.static_token_help);
    }
    m.max_batch_records = d.max_batch_records;
    m.recommended_batch_records = d.recommended_batch_records;
    m.max_batch_bytes = d.max_batch_bytes;
    if (d.config_field_count) need(d.config_fields, "config_fields");
    for (uint32_t i = 0; i < d.config_field_count; ++i) {
        const sp_config_field *c = d.config_fields[i];
        need(c, "a config field");
        ConfigField f;
        f.key = str(c->key);
        f.label = str(c->label);
        f.description = str(c->description);
        f.type = static_cast<sp_config_type>(c->type);
        if (!config_type_name(f.type)) throw ManifestError("descriptor: config field " + f.key + " has an unknown type");
        f.required = c->flags & SP_CONFIG_REQUIRED;
        f.advanced = c->flags & SP_CONFIG_ADVANCED;
        f.has_default = c->default_value != nullptr;
        f.default_value = str(c->default_value);
        f.pattern = str(c->pattern);
        if (c->enum_count) need(c->enum_values, "config enum_values");
        for (uint32_t k = 0; k < c->enum_count; ++k) f.enum_values.push_back(str(c->enum_values[k]));
        f.min_value = c->min_value;
        f.max_value = c->max_value;
        m.config.push_back(std::move(f));
    }
    if (d.destination_field_count) need(d.destination_fields, "destination_fields");
    for (uint32_t i = 0; i < d.destination_field_count; ++i) {
        const sp_destination_field *c = d.destination_fields[i];
        need(c, "a destination field");
        DestinationField f;
        f.name = str(c->name);
        f.description = str(c->description);
        // Minor-1 plugins name their groups; minor-0 ones use the enum (0: none).
        const char *named = SP_HAS_FIELD(c, sp_destination_field, group_name) ? c->group_name : nullptr;
        const char *legacy = field_group_name(static_cast<sp_field_group>(c->group));
        if (named == nullptr && legacy == nullptr && c->group != 0)
            throw ManifestError("descriptor: destination field " + f.name + " has an unknown group");
        f.group = named ? named : legacy ? legacy : "";
        f.type = static_cast<sp_field_type>(c->type);
        if (!field_type_name(f.type))
            throw ManifestError("descriptor: destination field " + f.name + " has an unknown type");
        f.flags = c->flags;
        if (SP_HAS_FIELD(c, sp_destination_field, values) && c->value_count) {
            need(c->values, "destination field values");
            for (uint32_t k = 0; k < c->value_count; ++k) f.values.push_back(str(c->values[k]));
        }
        if (SP_HAS_FIELD(c, sp_destination_field, config_key)) f.config_key = str(c->config_key);
        check_config_key(m, f, [](const std::string &what) { throw ManifestError("descriptor: " + what); });
        m.fields.push_back(std::move(f));
    }
    if (d.required_rule_count) need(d.required_rules, "required_rules");
    for (uint32_t i = 0; i < d.required_rule_count; ++i) {
        const sp_required_rule *c = d.required_rules[i];
        need(c, "a required rule");
        RequiredRule r;
        if (c->field_count) need(c->any_of, "required rule any_of");
        for (uint32_t k = 0; k < c->field_count; ++k) r.any_of.push_back(str(c->any_of[k]));
        r.description = str(c->description);
        m.required.push_back(std::move(r));
    }
    return m;
}

// ---- model -> JSON ------------------------------------------------------------------------------

json::value to_json(const Manifest &m) {
    auto strings = [](const std::vector<std::string> &v) {
        json::array a;
        for (const auto &s : v) a.emplace_back(s);
        return a;
    };
    json::object o;
    o["manifest_version"] = 1;
    o["id"] = m.id;
    o["name"] = m.name;
    o["version"] = m.version;
    o["description"] = m.description;
    o["sync_modes"] = strings(sync_mode_names(m.sync_modes));
    o["audience_modes"] = strings(audience_mode_names(m.audience_modes));
    o["features"] = {{"field_mapping", (m.features & SP_FEATURE_FIELD_MAPPING) != 0},
                     {"schema_introspection", (m.features & SP_FEATURE_SCHEMA_INTROSPECTION) != 0},
                     {"test_events", (m.features & SP_FEATURE_TEST_EVENTS) != 0},
                     {"open_fields", (m.features & SP_FEATURE_OPEN_FIELDS) != 0}};
    json::object auth;
    json::array kinds;
    for (const auto &k : kAuthKinds)
        if (m.auth.kinds & k.value) kinds.emplace_back(k.name);
    auth["kinds"] = std::move(kinds);
    auto put = [](json::object &obj, const char *k, const std::string &v) {
        if (!v.empty()) obj[k] = v;
    };
    put(auth, "authorize_url", m.auth.authorize_url);
    put(auth, "token_url", m.auth.token_url);
    auth["scopes"] = strings(m.auth.scopes);
    put(auth, "scope_separator", m.auth.scope_separator);
    put(auth, "client_auth", m.auth.client_auth);
    put(auth, "static_token_help", m.auth.static_token_help);
    o["auth"] = std::move(auth);
    o["batch"] = {{"max_records", m.max_batch_records},
                  {"max_bytes", m.max_batch_bytes},
                  {"recommended_records", m.recommended_batch_records}};
    json::array config;
    for (const auto &c : m.config) {
        json::object f;
        f["key"] = c.key;
        put(f, "label", c.label);
        f["type"] = config_type_name(c.type);
        if (c.required) f["required"] = true;
        if (c.has_default) f["default"] = c.default_value;
        put(f, "pattern", c.pattern);
        if (c.min_value || c.max_value) {
            f["min"] = c.min_value;
            f["max"] = c.max_value;
        }
        if (!c.enum_values.empty()) f["enum"] = strings(c.enum_values);
        if (c.advanced) f["advanced"] = true;
        f["description"] = c.description;
        config.push_back(std::move(f));
    }
    o["config"] = std::move(config);
    json::array fields;
    for (const auto &d : m.fields) {
        json::object f;
        f["name"] = d.name;
        if (!d.group.empty()) f["group"] = d.group;
        f["type"] = field_type_name(d.type);
        for (const auto &fl : kFieldFlags)
            if (d.flags & fl.value) f[fl.name] = true;
        if (!d.values.empty()) f["values"] = strings(d.values);
        if (!d.config_key.empty()) f["config_key"] = d.config_key;
        f["description"] = d.description;
        fields.push_back(std::move(f));
    }
    o["fields"] = std::move(fields);
    json::array required;
    for (const auto &r : m.required) {
        json::object rule;
        rule["any_of"] = strings(r.any_of);
        put(rule, "description", r.description);
        required.push_back(std::move(rule));
    }
    o["required"] = std::move(required);
    return o;
}

std::string to_json_text(const Manifest &m) { return json::serialize(to_json(m)); }

// ---- model -> descriptor ----------------------------------------------------------------------

struct DescriptorStorage::Impl {
    Manifest m;
    std::string json_text;
    sp_descriptor d{};
    sp_auth_descriptor auth{};
    std::vector<const char *> scopes;
    std::vector<sp_config_field> config;
    std::vector<const sp_config_field *> config_ptrs;
    std::vector<std::vector<const char *>> enum_ptrs;
    std::vector<sp_destination_field> fields;
    std::vector<const sp_destination_field *> field_ptrs;
    std::vector<std::vector<const char *>> value_ptrs;
    std::vector<sp_required_rule> rules;
    std::vector<const sp_required_rule *> rule_ptrs;
    std::vector<std::vector<const char *>> rule_names;
};

DescriptorStorage::DescriptorStorage(Manifest manifest, std::string manifest_json) : impl_(std::make_unique<Impl>()) {
    Impl &s = *impl_;
    s.m = std::move(manifest);
    s.json_text = std::move(manifest_json);
    const Manifest &m = s.m;
    auto c_or_null = [](const std::string &v) { return v.empty() ? nullptr : v.c_str(); };

    s.auth.struct_size = sizeof s.auth;
    s.auth.kinds = m.auth.kinds;
    s.auth.authorize_url = c_or_null(m.auth.authorize_url);
    s.auth.token_url = c_or_null(m.auth.token_url);
    for (const auto &v : m.auth.scopes) s.scopes.push_back(v.c_str());
    s.auth.scope_count = static_cast<uint32_t>(s.scopes.size());
    s.auth.scopes = s.scopes.data();
    s.auth.scope_separator = c_or_null(m.auth.scope_separator);
    s.auth.client_auth = c_or_null(m.auth.client_auth);
    s.auth.static_token_help = c_or_null(m.auth.static_token_help);

    s.config.reserve(m.config.size());
    s.enum_ptrs.reserve(m.config.size());
    for (const auto &c : m.config) {
        sp_config_field f{};
        f.struct_size = sizeof f;
        f.type = c.type;
        f.flags = (c.required ? SP_CONFIG_REQUIRED : 0u) | (c.advanced ? SP_CONFIG_ADVANCED : 0u);
        f.key = c.key.c_str();
        f.label = c_or_null(c.label);
        f.description = c.description.c_str();
        f.default_value = c.has_default ? c.default_value.c_str() : nullptr;
        f.pattern = c_or_null(c.pattern);
        auto &names = s.enum_ptrs.emplace_back();
        for (const auto &e : c.enum_values) names.push_back(e.c_str());
        f.enum_count = static_cast<uint32_t>(names.size());
        f.enum_values = names.empty() ? nullptr : names.data();
        f.min_value = c.min_value;
        f.max_value = c.max_value;
        s.config.push_back(f);
    }
    for (const auto &f : s.config) s.config_ptrs.push_back(&f);

    s.fields.reserve(m.fields.size());
    s.value_ptrs.reserve(m.fields.size());
    for (const auto &d : m.fields) {
        sp_destination_field f{};
        f.struct_size = sizeof f;
        f.group = field_group_of(d.group);
        f.group_name = d.group.empty() ? nullptr : d.group.c_str();
        f.type = d.type;
        f.flags = d.flags;
        f.name = d.name.c_str();
        f.description = d.description.c_str();
        f.hash_algorithm = (d.flags & (SP_FIELD_HASHED | SP_FIELD_PREHASHED)) ? "sha256" : nullptr;
        auto &values = s.value_ptrs.emplace_back();
        for (const auto &v : d.values) values.push_back(v.c_str());
        f.value_count = static_cast<uint32_t>(values.size());
        f.values = values.empty() ? nullptr : values.data();
        f.config_key = d.config_key.empty() ? nullptr : d.config_key.c_str();
        s.fields.push_back(f);
    }
    for (const auto &f : s.fields) s.field_ptrs.push_back(&f);

    s.rules.reserve(m.required.size());
    s.rule_names.reserve(m.required.size());
    for (const auto &r : m.required) {
        auto &names = s.rule_names.emplace_back();
        for (const auto &n : r.any_of) names.push_back(n.c_str());
        sp_required_rule rule{};
        rule.struct_size = sizeof rule;
        rule.field_count = static_cast<uint32_t>(names.size());
        rule.any_of = names.data();
        rule.description = c_or_null(r.description);
        s.rules.push_back(rule);
    }
    for (const auto &r : s.rules) s.rule_ptrs.push_back(&r);

    sp_descriptor &d = s.d;
    d.struct_size = sizeof d;
    d.sync_modes = m.sync_modes;
    d.audience_modes = m.audience_modes;
    d.features = m.features;
    d.id = m.id.c_str();
    d.name = m.name.c_str();
    d.version = m.version.c_str();
    d.description = m.description.c_str();
    d.auth = &s.auth;
    d.config_field_count = static_cast<uint32_t>(s.config_ptrs.size());
    d.config_fields = s.config_ptrs.data();
    d.destination_field_count = static_cast<uint32_t>(s.field_ptrs.size());
    d.destination_fields = s.field_ptrs.data();
    d.required_rule_count = static_cast<uint32_t>(s.rule_ptrs.size());
    d.required_rules = s.rule_ptrs.data();
    d.max_batch_records = m.max_batch_records;
    d.recommended_batch_records = m.recommended_batch_records;
    d.max_batch_bytes = m.max_batch_bytes;
    d.manifest_json = s.json_text.c_str();
}

DescriptorStorage::~DescriptorStorage() = default;
const sp_descriptor *DescriptorStorage::get() const { return &impl_->d; }
const Manifest &DescriptorStorage::manifest() const { return impl_->m; }

}  // namespace spmanifest
