#include "packed_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "content_hash.h"

namespace moondream {

namespace {

constexpr char kMagic[8] = {'M', 'D', 'P', 'A', 'C', 'K', 0, 0};
// Bump when the header or the meaning of its fields changes (the packed layout has its own
// fingerprint).
constexpr uint64_t kVersion = 1;

// A cache file's first bytes (then zeros up to packed_cache_data_offset()).
struct Header {
    char magic[8];
    uint64_t version;
    uint64_t layout;
    uint64_t source_size;
    uint64_t source_mtime_ns;
    uint64_t source_dev;
    uint64_t source_ino;
    uint64_t manifest_hash;
    uint64_t manifest_bytes;
    uint64_t data_offset;
    uint64_t data_bytes;
    uint64_t data_hash;
    uint64_t source_path_bytes;  // the source's absolute path follows the header
    uint64_t header_hash;        // of every field above and the path
};
constexpr size_t kMaxSourcePath = packed_cache_data_offset() - sizeof(Header);

uint64_t header_hash(const Header & h, std::string_view source_path) {
    return hash_text(source_path, hash_bytes(reinterpret_cast<const uint8_t *>(&h), offsetof(Header, header_hash)));
}

std::string absolute_path(const std::string & path) {
    char resolved[PATH_MAX];
    return ::realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
}

// The source fields of a header for the file at `path`; false when it cannot be stat'ed.
bool describe_source(const std::string & path, Header & h) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    h.source_size = uint64_t(st.st_size);
    h.source_mtime_ns = uint64_t(st.st_mtim.tv_sec) * 1000000000ull + uint64_t(st.st_mtim.tv_nsec);
    h.source_dev = uint64_t(st.st_dev);
    h.source_ino = uint64_t(st.st_ino);
    return true;
}

bool same_source(const Header & a, const Header & b) {
    return a.source_size == b.source_size && a.source_mtime_ns == b.source_mtime_ns && a.source_dev == b.source_dev && a.source_ino == b.source_ino;
}

// The header a file for `key` must have, but for data_hash and header_hash; nullopt when the
// source is gone or its path too long to store.
std::optional<Header> expected_header(const PackedCacheKey & key, std::string & why) {
    Header h{};
    if (!describe_source(key.source_path, h)) {
        why = "cannot stat '" + key.source_path + "': " + std::strerror(errno);
        return std::nullopt;
    }
    const std::string source = absolute_path(key.source_path);
    if (source.size() > kMaxSourcePath) {
        why = "the model file's path is too long to record";
        return std::nullopt;
    }
    h.source_path_bytes = source.size();
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.version = kVersion;
    h.layout = key.layout;
    h.manifest_hash = hash_text(key.manifest);
    h.manifest_bytes = key.manifest.size();
    h.data_offset = packed_cache_data_offset();
    h.data_bytes = key.data_bytes;
    return h;
}

// Which field of `found` differs from `want` (data_hash and header_hash aside), for the reason a
// file was not used.
const char * first_mismatch(const Header & found, const Header & want) {
    if (std::memcmp(found.magic, want.magic, sizeof kMagic) != 0) return "the file is not a packed-weight cache";
    if (found.version != want.version) return "the cache file has another format version";
    if (found.layout != want.layout) return "the cache file was packed for other kernels";
    if (!same_source(found, want)) return "the model file changed since the cache file was written";
    if (found.manifest_hash != want.manifest_hash || found.manifest_bytes != want.manifest_bytes) return "the cache file was packed from other weights";
    if (found.data_offset != want.data_offset || found.data_bytes != want.data_bytes) return "the cache file has another size";
    return nullptr;
}


std::string base_name(const std::string & path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string hex(uint64_t v, int digits) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
    return std::string(text + 16 - digits);
}

// mkdir -p; true when `directory` exists afterwards.
bool make_directories(const std::string & directory, std::string & why) {
    for (size_t at = 1; at <= directory.size(); ++at) {
        if (at != directory.size() && directory[at] != '/') continue;
        const std::string prefix = directory.substr(0, at);
        if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
            why = "cannot create '" + prefix + "': " + std::strerror(errno);
            return false;
        }
    }
    struct stat st {};
    if (::stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        why = "'" + directory + "' is not a directory";
        return false;
    }
    return true;
}

// Whether process `pid` is alive (a temporary file's writer).
bool process_alive(long pid) { return pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM); }

// Removes what no load will use again from `directory`: cache files whose model file is gone or
// changed, and temporary files whose writer died. Anything else is left alone.
void prune(const std::string & directory) {
    std::unique_ptr<DIR, int (*)(DIR *)> dir(::opendir(directory.c_str()), ::closedir);
    if (!dir) return;
    while (const dirent * entry = ::readdir(dir.get())) {
        const std::string name = entry->d_name;
        const std::string path = directory + "/" + name;
        if (const size_t tmp = name.find(".packed.tmp-"); tmp != std::string::npos) {
            if (!process_alive(std::strtol(name.c_str() + tmp + 12, nullptr, 10))) ::unlink(path.c_str());
            continue;
        }
        if (name.size() < 7 || name.compare(name.size() - 7, 7, ".packed") != 0) continue;
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        std::vector<char> head(packed_cache_data_offset());
        const ssize_t got = ::pread(fd, head.data(), head.size(), 0);
        ::close(fd);
        Header found{};
        if (got < ssize_t(sizeof found)) continue;
        std::memcpy(&found, head.data(), sizeof found);
        if (std::memcmp(found.magic, kMagic, sizeof kMagic) != 0 || found.version != kVersion || found.source_path_bytes > kMaxSourcePath) continue;
        const std::string source(head.data() + sizeof found, found.source_path_bytes);
        if (found.header_hash != header_hash(found, source)) continue;
        Header now{};
        if (!describe_source(source, now) || !same_source(found, now)) ::unlink(path.c_str());
    }
}

}  // namespace

std::string packed_cache_path(const std::string & directory, const PackedCacheKey & key) {
    const std::string source = absolute_path(key.source_path);
    return directory + "/" + base_name(source) + "." + hex(hash_text(source), 12) + "." + hex(key.layout, 8) + ".packed";
}

std::optional<MappedFile> map_packed_cache(const std::string & path, const PackedCacheKey & key, int threads, std::string & why) {
    std::optional<Header> want = expected_header(key, why);
    if (!want) return std::nullopt;
    if (::access(path.c_str(), F_OK) != 0) {
        why = "no cache file yet";
        return std::nullopt;
    }
    Result<MappedFile> mapped = MappedFile::open(path, true);
    if (!mapped.ok()) {
        why = mapped.error().message;
        return std::nullopt;
    }
    // Every check reads the mapping itself: what was checked is what the kernels will read.
    const MappedFile & file = mapped.value();
    Header found{};
    if (file.size() < packed_cache_data_offset()) {
        why = "the cache file is truncated";
        return std::nullopt;
    }
    std::memcpy(&found, file.data(), sizeof found);
    if (const char * mismatch = first_mismatch(found, *want)) {
        why = mismatch;
        return std::nullopt;
    }
    const std::string_view recorded_source(reinterpret_cast<const char *>(file.data()) + sizeof found,
                                           std::min<size_t>(found.source_path_bytes, kMaxSourcePath));
    if (found.header_hash != header_hash(found, recorded_source)) {
        why = "the cache file's header is damaged";
        return std::nullopt;
    }
    if (recorded_source != absolute_path(key.source_path)) {
        why = "the cache file is for another model file";
        return std::nullopt;
    }
    if (file.size() != found.data_offset + found.data_bytes) {
        why = "the cache file is truncated";
        return std::nullopt;
    }
    if (hash_large(file.data() + found.data_offset, found.data_bytes, threads) != found.data_hash) {
        why = "the cache file's packed weights are damaged";
        return std::nullopt;
    }
    return std::optional<MappedFile>(std::move(mapped.value()));
}

std::optional<PackedCacheWriter> PackedCacheWriter::create(const std::string & directory, const std::string & path, const PackedCacheKey & key,
                                                           std::string & why) {
    if (!expected_header(key, why) || !make_directories(directory, why)) return std::nullopt;
    prune(directory);
    // A name of this process and thread: loads in other processes may write the same file.
    const std::string temporary = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                                  std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 1000000);
    const int fd = ::open(temporary.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        why = "cannot create '" + temporary + "': " + std::strerror(errno);
        return std::nullopt;
    }
    const size_t size = packed_cache_data_offset() + key.data_bytes;
    const int allocated = ::posix_fallocate(fd, 0, off_t(size));
    Result<MappedFile> mapping = allocated == 0 ? MappedFile::map_writable(fd, size, temporary) : Result<MappedFile>(Error{ErrorCode::io, ""});
    ::close(fd);  // the mapping keeps the file open
    if (!mapping.ok()) {
        why = allocated != 0 ? "no room for '" + temporary + "': " + std::strerror(allocated) : mapping.error().message;
        ::unlink(temporary.c_str());
        return std::nullopt;
    }
    return PackedCacheWriter(path, temporary, key, std::move(mapping.value()));
}

PackedCacheWriter::PackedCacheWriter(std::string path, std::string temporary, PackedCacheKey key, MappedFile mapping)
    : path_(std::move(path)), temporary_(std::move(temporary)), key_(std::move(key)), mapping_(std::move(mapping)) {}

PackedCacheWriter::PackedCacheWriter(PackedCacheWriter && other) noexcept
    : path_(std::move(other.path_)), temporary_(std::move(other.temporary_)), key_(std::move(other.key_)), mapping_(std::move(other.mapping_)) {
    other.temporary_.clear();
}

PackedCacheWriter::~PackedCacheWriter() {
    if (!temporary_.empty()) ::unlink(temporary_.c_str());
}

bool PackedCacheWriter::commit(int threads, std::string & why) {
    std::optional<Header> header = expected_header(key_, why);
    if (!header) return false;
    const std::string source = absolute_path(key_.source_path);
    header->data_hash = hash_large(data(), key_.data_bytes, threads);
    header->header_hash = header_hash(*header, source);
    std::memcpy(mapping_->writable_data(), &*header, sizeof *header);
    std::memcpy(mapping_->writable_data() + sizeof *header, source.data(), source.size());
    if (::rename(temporary_.c_str(), path_.c_str()) != 0) {
        why = "cannot rename '" + temporary_ + "' to '" + path_ + "': " + std::strerror(errno);
        return false;
    }
    temporary_.clear();
    return true;
}

}  // namespace moondream
