#include "tensorboard/record_file.h"

#include <boost/crc.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace looplab::host::tensorboard {

namespace {

// Castagnoli polynomial, reflected in and out, inverted before and after.
using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

// Event files are little-endian whatever the host; these spell the bytes out.
void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t get_le(std::string_view in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return value;
}

}  // namespace

uint32_t crc32c(std::string_view data) {
  Crc32c crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

uint32_t masked_crc32c(std::string_view data) {
  const uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string frame_record(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  put_le(out, data.size(), 8);
  put_le(out, masked_crc32c(out), 4);
  out.append(data);
  put_le(out, masked_crc32c(data), 4);
  return out;
}

Records read_records(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("cannot read " + path);
  const std::string_view all(bytes);
  Records out;
  size_t at = 0;
  while (at < all.size()) {
    const auto bad = [&](const std::string& what) {
      return std::runtime_error(path + ": record " + std::to_string(out.records.size() + 1) + " at byte " +
                                std::to_string(at) + ": " + what);
    };
    if (all.size() - at < 12) {
      out.complete = false;
      break;
    }
    const auto header = all.substr(at, 8);
    if (get_le(all.substr(at + 8), 4) != masked_crc32c(header)) throw bad("length checksum mismatch");
    const uint64_t length = get_le(header, 8);
    if (length > all.size() - at - 12 || all.size() - at - 12 - length < 4) {
      out.complete = false;
      break;
    }
    const auto data = all.substr(at + 12, length);
    if (get_le(all.substr(at + 12 + length), 4) != masked_crc32c(data)) throw bad("data checksum mismatch");
    out.records.emplace_back(data);
    at += 16 + length;
  }
  return out;
}

}  // namespace looplab::host::tensorboard
