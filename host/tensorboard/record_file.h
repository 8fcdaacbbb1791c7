#pragma once
/// @file record_file.h
/// TFRecord framing, the container of TensorBoard event files: each record is its length
/// (uint64, little-endian), the masked CRC-32C of those 8 bytes, the data, and the masked
/// CRC-32C of the data (both uint32, little-endian).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace looplab::host::tensorboard {

/// CRC-32C (Castagnoli) of `data`; 0xE3069283 for "123456789".
uint32_t crc32c(std::string_view data);

/// The CRC-32C of `data`, rotated right by 15 bits plus 0xa282ead8, as TFRecord stores it
/// (a CRC of data that holds CRCs is then not trivially zero).
uint32_t masked_crc32c(std::string_view data);

/// `data` framed as one TFRecord.
std::string frame_record(std::string_view data);

/// The records of a TFRecord file, in order.
struct Records {
  std::vector<std::string> records;
  /// False when the file ends inside a record (a writer still at work, or killed mid-write):
  /// that last partial record is left out.
  bool complete = true;
};

/// Reads the records of `path`. Throws std::runtime_error naming the file when it cannot be
/// read or a checksum does not match.
Records read_records(const std::string& path);

}  // namespace looplab::host::tensorboard
