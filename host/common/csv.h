#pragma once
/// @file csv.h
/// CSV files for sdk::Table: the format every looplab table is stored in.

#include <looplab/sdk/analysis.h>

#include <string>

namespace looplab::host {

/// Writes a table as CSV (header line, comma-separated, quote cells containing , or " per RFC 4180),
/// atomically (write_file_atomic). Throws std::runtime_error naming the path on I/O failure or when a row's width
/// differs from the header's.
void write_csv(const std::string& path, const sdk::Table& table);

/// Reads a CSV written by write_csv (header + rows). Throws std::runtime_error naming the path
/// when the file cannot be read, is empty, is malformed or has a row whose width differs from
/// the header's.
sdk::Table read_csv(const std::string& path);

/// Index of column `name`; throws std::runtime_error naming `path` when the table has none.
/// Columns are always found by name, never by position.
size_t column_index(const sdk::Table& table, const std::string& name, const std::string& path);

}  // namespace looplab::host
