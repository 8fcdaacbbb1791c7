#include "common/csv.h"

#include "common/files.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace looplab::host {
namespace {

// Line breaks are quoted too: an unquoted one would split the row on reading.
bool needs_quotes(const std::string& cell) { return cell.find_first_of(",\"\r\n") != std::string::npos; }

void write_cell(std::ostream& out, const std::string& cell) {
  if (!needs_quotes(cell)) {
    out << cell;
    return;
  }
  out << '"';
  for (char c : cell) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

void write_row(std::ostream& out, const std::vector<std::string>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out << ',';
    write_cell(out, cells[i]);
  }
  out << '\n';
}

// Splits RFC 4180 text into records; quoted cells may hold commas, quotes and line breaks.
std::vector<std::vector<std::string>> parse_records(const std::string& text, const std::string& path) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string cell;
  bool in_quotes = false;
  bool cell_was_quoted = false;
  size_t line = 1;
  auto fail = [&](const std::string& what) {
    throw std::runtime_error("malformed CSV '" + path + "' at line " + std::to_string(line) + ": " + what);
  };
  auto end_record = [&] {
    record.push_back(std::move(cell));
    records.push_back(std::move(record));
    record.clear();
    cell.clear();
    cell_was_quoted = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
      continue;
    }
    if (c == '"') {
      if (!cell.empty() || cell_was_quoted) fail("quote inside an unquoted cell");
      in_quotes = true;
      cell_was_quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(cell));
      cell.clear();
      cell_was_quoted = false;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      // CRLF: the '\n' ends the record.
    } else if (c == '\n') {
      end_record();
      ++line;
    } else {
      if (cell_was_quoted) fail("text after a closing quote");
      cell += c;
    }
  }
  if (in_quotes) fail("unterminated quoted cell");
  // A last record without a trailing newline still counts.
  if (!cell.empty() || cell_was_quoted || !record.empty()) end_record();
  return records;
}

}  // namespace

void write_csv(const std::string& path, const sdk::Table& table) {
  for (size_t r = 0; r < table.rows.size(); ++r) {
    if (table.rows[r].size() != table.columns.size()) {
      throw std::runtime_error("cannot write CSV '" + path + "': row " + std::to_string(r) + " has " +
                               std::to_string(table.rows[r].size()) + " cells but the header has " +
                               std::to_string(table.columns.size()) + " columns");
    }
  }
  std::ostringstream out;
  write_row(out, table.columns);
  for (const auto& row : table.rows) write_row(out, row);
  write_file_atomic(path, out.str());
}

sdk::Table read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open CSV '" + path + "' for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw std::runtime_error("error while reading CSV '" + path + "'");
  auto records = parse_records(buffer.str(), path);
  if (records.empty()) throw std::runtime_error("CSV '" + path + "' is empty (no header line)");
  sdk::Table table;
  table.columns = std::move(records.front());
  for (size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != table.columns.size()) {
      throw std::runtime_error("malformed CSV '" + path + "': record " + std::to_string(r) + " has " +
                               std::to_string(records[r].size()) + " cells but the header has " +
                               std::to_string(table.columns.size()) + " columns");
    }
    table.rows.push_back(std::move(records[r]));
  }
  return table;
}

size_t column_index(const sdk::Table& table, const std::string& name, const std::string& path) {
  auto it = std::find(table.columns.begin(), table.columns.end(), name);
  if (it == table.columns.end()) throw std::runtime_error(path + " has no column '" + name + "'");
  return static_cast<size_t>(it - table.columns.begin());
}

}  // namespace looplab::host
