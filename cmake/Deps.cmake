# Third-party dependencies, all from Debian packages (scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(SNAPPY REQUIRED IMPORTED_TARGET snappy)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(LIBDEFLATE REQUIRED IMPORTED_TARGET libdeflate)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(SIMDJSON REQUIRED IMPORTED_TARGET simdjson)
# S3 (SigV4, libcurl) and the etcd client.
find_package(OpenSSL REQUIRED)
find_package(CURL REQUIRED)
# gRPC between roles (src/rpc/): the C++ runtime and the code generators.
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)
pkg_check_modules(PROTOBUF REQUIRED IMPORTED_TARGET protobuf)
find_program(SKALD_PROTOC protoc REQUIRED)
find_program(SKALD_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(YAMLCPP REQUIRED IMPORTED_TARGET yaml-cpp)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
find_package(absl REQUIRED)
find_package(Boost 1.74 REQUIRED)
if(SKALD_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SKALD_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# The allocator linked into the skald binary. jemalloc: at 1,000,000 small streams glibc's
# malloc took ~30% of the push CPU (sysmalloc, consolidation), and the push costs ~25% less
# CPU under jemalloc (docs/benchmarks.md). The sanitizer and fuzz builds use the C library's
# allocator, which the sanitizers replace.
set(SKALD_ALLOCATOR "jemalloc" CACHE STRING "malloc for the skald binary: jemalloc or libc")
if(SKALD_SANITIZE OR SKALD_BUILD_FUZZ)
  set(SKALD_ALLOCATOR "libc")
endif()
if(SKALD_ALLOCATOR STREQUAL "jemalloc")
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
elseif(NOT SKALD_ALLOCATOR STREQUAL "libc")
  message(FATAL_ERROR "SKALD_ALLOCATOR must be jemalloc or libc, not '${SKALD_ALLOCATOR}'")
endif()
