// One object per key for the whole process, shared by everyone who asks with that key.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace spnet {

// One T per key for the whole process: made by make() on first use, kept while someone holds it,
// forgotten when nobody does. Any thread; make() runs under the lock of this T's map, so it must
// not ask for another T.
template <class T, class Make>
std::shared_ptr<T> shared_by_key(const std::string &key, Make make) {
    static std::mutex mu;
    static std::map<std::string, std::weak_ptr<T>> held;
    std::lock_guard lock(mu);
    if (auto existing = held[key].lock()) return existing;
    std::erase_if(held, [](const auto &kv) { return kv.second.expired(); });
    std::shared_ptr<T> made = make();
    held[key] = made;
    return made;
}

}  // namespace spnet
