// What the compactor costs on the real filesystem object store (FsObjectStore: every Put is
// write + fsync + rename + directory fsync), for one tenant's day of N streams:
//
//   compaction: the day's F per-flush index files merged into one — files and bytes before
//               and after, time, object-store operations;
//   retention:  the same day past its retention period — the pass that drops every chunk
//               from the index and writes the marker, then the sweep that deletes the chunk
//               objects — time and object-store operations of each.
//
// No baseline runs beside it: Loki's compactor works on its own TSDB/boltdb index files and
// is not built here, so there is no same-data ratio to print (see docs/benchmarks.md).
//
// Run: compactor_bench [--streams=10000] [--files=24] [--dir=/tmp]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "chunk/block.h"
#include "chunk/chunk.h"
#include "compactor/compactor.h"
#include "compactor/delete_requests.h"
#include "core/labels.h"
#include "core/time.h"
#include "index/index_file.h"
#include "index/index_store.h"
#include "limits/limits.h"
#include "storage/chunk_store.h"
#include "storage/fs_object_store.h"

namespace {

using namespace skald;

class CountingStore : public storage::ObjectStore {
 public:
  explicit CountingStore(storage::ObjectStore* base) : base_(base) {}
  Status Put(std::string_view k, std::string_view d) override {
    puts++;
    return base_->Put(k, d);
  }
  StatusOr<std::string> Get(std::string_view k) override {
    gets++;
    return base_->Get(k);
  }
  StatusOr<std::vector<std::string>> List(std::string_view p) override {
    lists++;
    return base_->List(p);
  }
  Status Delete(std::string_view k) override {
    deletes++;
    return base_->Delete(k);
  }
  void Reset() { puts = gets = lists = deletes = 0; }
  std::string Ops() const {
    char buf[128];
    std::snprintf(buf, sizeof(buf), "put=%lu get=%lu list=%lu delete=%lu",
                  static_cast<unsigned long>(puts.load()), static_cast<unsigned long>(gets.load()),
                  static_cast<unsigned long>(lists.load()),
                  static_cast<unsigned long>(deletes.load()));
    return buf;
  }
  std::atomic<uint64_t> puts{0}, gets{0}, lists{0}, deletes{0};

 private:
  storage::ObjectStore* base_;
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int streams = 10000, files = 24, per_stream = 2;
  std::string base_dir = "/tmp";
  for (int i = 1; i < argc; i++) {
    if (std::strncmp(argv[i], "--streams=", 10) == 0) streams = std::atoi(argv[i] + 10);
    if (std::strncmp(argv[i], "--files=", 8) == 0) files = std::atoi(argv[i] + 8);
    if (std::strncmp(argv[i], "--dir=", 6) == 0) base_dir = argv[i] + 6;
    if (std::strncmp(argv[i], "--chunks-per-stream=", 20) == 0)
      per_stream = std::atoi(argv[i] + 20);
  }
  const std::string root = base_dir + "/skald-compactor-bench-" + std::to_string(getpid());
  auto fs = storage::FsObjectStore::Open(root);
  if (!fs.ok()) {
    std::fprintf(stderr, "open: %s\n", fs.status().ToString().c_str());
    return 1;
  }
  CountingStore store(fs->get());
  index::IndexStore idx(&store);
  storage::ChunkStore chunks(&store);
  const std::string tenant = "bench";
  const int64_t day = 20000;
  const int64_t now = (day + 10) * kNanosPerDay;  // the day is 10 days old

  // `per_stream` chunks per stream, spread over the day; each index file holds the chunks one
  // flush wrote (a stream's chunks land in different flushes, as idle and max-age cuts do).
  auto t0 = std::chrono::steady_clock::now();
  std::vector<index::IndexFileWriter> writers(files);
  for (int n = 0; n < streams * per_stream; n++) {
    const int s = n % streams, c = n / streams;
    Labels l({{"app", "app-" + std::to_string(s % 50)},
              {"namespace", "ns-" + std::to_string(s % 7)},
              {"pod", "pod-" + std::to_string(s)}});
    const int flush = (s + c * files / per_stream) % files;
    const int64_t ts = day * kNanosPerDay + flush * (kNanosPerDay / files) + s;
    chunk::BlockBuilder b;
    for (int i = 0; i < 20; i++) {
      b.Add(ts + i * kNanosPerMilli,
            "level=info msg=\"request served\" status=200 pod=" + std::to_string(s) +
                " i=" + std::to_string(i),
            {});
    }
    chunk::ChunkWriter w(chunk::Codec::kZstd, tenant, l.Fingerprint(), l.ToString());
    chunk::EncodedBlock eb = b.Finish(chunk::Codec::kZstd);
    const uint64_t unc = eb.meta.uncompressed_size;
    w.AddBlock(std::move(eb));
    std::string bytes = w.Finish();
    auto key = chunks.Put(tenant, l.Fingerprint(), ts, ts + 19 * kNanosPerMilli, bytes);
    if (!key.ok()) return 1;
    index::ChunkRef ref{l.Fingerprint(), ts, ts + 19 * kNanosPerMilli, 20, bytes.size(), unc, *key};
    writers[flush].AddSeries(l.Fingerprint(), l);
    writers[flush].AddChunk(ref);
  }
  for (auto& w : writers) {
    auto bytes = w.Finish();
    if (!bytes.ok() || !idx.Write(tenant, day, *bytes).ok()) return 1;
  }
  std::printf("setup: %d streams, %d chunks, %d index files for day %ld in %.1f s (%s)\n", streams,
              streams * per_stream, files, static_cast<long>(day), Seconds(t0), root.c_str());

  const std::string day_dir = root + "/index/" + tenant + "/" + std::to_string(day);
  const uint64_t files_before = std::distance(std::filesystem::directory_iterator(day_dir), {});
  const uint64_t bytes_before = DirBytes(day_dir);

  limits::Limits keep;  // no retention: compaction only
  limits::Overrides no_retention(keep);
  compactor::DeleteRequestStore deletes(&store);
  compactor::CompactorOptions opts;
  opts.retention_delete_delay_ns = 0;
  {
    compactor::Compactor c(opts, &store, &idx, &no_retention, &deletes, nullptr);
    store.Reset();
    t0 = std::chrono::steady_clock::now();
    compactor::PassStats st;
    Status s = c.RunOnce(now, &st);
    const double secs = Seconds(t0);
    const uint64_t files_after = std::distance(std::filesystem::directory_iterator(day_dir), {});
    std::printf(
        "compaction: %s in %.3f s; index files %lu -> %lu, bytes %lu -> %lu (%.1f%%); ops %s\n",
        s.ToString().c_str(), secs, static_cast<unsigned long>(files_before),
        static_cast<unsigned long>(files_after), static_cast<unsigned long>(bytes_before),
        static_cast<unsigned long>(DirBytes(day_dir)),
        100.0 * static_cast<double>(DirBytes(day_dir)) / static_cast<double>(bytes_before),
        store.Ops().c_str());
  }
  limits::Limits ret;
  ret.retention_period_ns = 7 * kNanosPerDay;
  limits::Overrides retention(ret);
  opts.retention_enabled = true;
  opts.retention_delete_delay_ns = kNanosPerHour;
  {
    compactor::Compactor c(opts, &store, &idx, &retention, &deletes, nullptr);
    store.Reset();
    t0 = std::chrono::steady_clock::now();
    compactor::PassStats st;
    Status s = c.RunOnce(now, &st);
    std::printf(
        "retention pass (index rewrite + marker): %s in %.3f s; %lu chunks expired; ops %s\n",
        s.ToString().c_str(), Seconds(t0), static_cast<unsigned long>(st.chunks_expired),
        store.Ops().c_str());
    store.Reset();
    t0 = std::chrono::steady_clock::now();
    compactor::PassStats sweep;
    s = c.RunOnce(now + kNanosPerHour, &sweep);
    std::printf("retention sweep (chunk objects): %s in %.3f s; %lu objects deleted; ops %s\n",
                s.ToString().c_str(), Seconds(t0),
                static_cast<unsigned long>(sweep.chunk_objects_deleted), store.Ops().c_str());
  }
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return 0;
}
