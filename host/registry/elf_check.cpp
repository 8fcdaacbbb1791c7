#include "registry/elf_check.h"

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace looplab::host {

namespace {

// LibTorch exists for 64-bit hosts only, so a plugin is an ELF64 file in the host's byte order.
static_assert(sizeof(void*) == 8, "looplab hosts are 64-bit");
constexpr unsigned char kHostData = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#elif defined(__powerpc64__)
constexpr uint16_t kHostMachine = EM_PPC64;
#elif defined(__riscv)
constexpr uint16_t kHostMachine = EM_RISCV;
#elif defined(__s390x__)
constexpr uint16_t kHostMachine = EM_S390;
#else
constexpr uint16_t kHostMachine = EM_NONE;  // unknown: the machine is not checked
#endif

std::string machine_name(uint16_t machine) {
  switch (machine) {
    case EM_386: return "x86";
    case EM_X86_64: return "x86-64";
    case EM_ARM: return "ARM";
    case EM_AARCH64: return "AArch64";
    case EM_PPC: return "PowerPC";
    case EM_PPC64: return "PowerPC64";
    case EM_RISCV: return "RISC-V";
    case EM_S390: return "s390";
    case EM_MIPS: return "MIPS";
    default: return "machine " + std::to_string(machine);
  }
}

std::string build_name(unsigned char elf_class, unsigned char data, uint16_t machine) {
  std::string out = elf_class == ELFCLASS32 ? "32-bit " : elf_class == ELFCLASS64 ? "64-bit " : "";
  out += machine_name(machine);
  if (data != kHostData) out += data == ELFDATA2MSB ? " (big-endian)" : " (little-endian)";
  return out;
}

// [offset, offset + bytes) inside a file of `file_size` bytes, without overflow.
bool inside(uint64_t offset, uint64_t bytes, uint64_t file_size) {
  return offset <= file_size && bytes <= file_size - offset;
}

std::string truncated(const std::string& what, uint64_t file_size) {
  return "truncated or corrupt library: " + what + " past the end of the file (" + std::to_string(file_size) +
         " bytes)";
}

// The loadable segments, to check addresses the dynamic section and its tables hold: the
// loader writes and jumps wherever they say, and an address outside the library lands in
// whatever else is mapped there, which differs between a probe and the host.
struct Image {
  std::vector<Elf64_Phdr> loads;

  // [addr, addr + bytes) inside one segment's memory.
  bool holds(uint64_t addr, uint64_t bytes) const {
    for (const auto& s : loads)
      if (addr >= s.p_vaddr && bytes <= s.p_memsz && addr - s.p_vaddr <= s.p_memsz - bytes) return true;
    return false;
  }
  // The file offset of [addr, addr + bytes), when the file holds all of it.
  std::optional<uint64_t> offset_of(uint64_t addr, uint64_t bytes) const {
    for (const auto& s : loads)
      if (addr >= s.p_vaddr && bytes <= s.p_filesz && addr - s.p_vaddr <= s.p_filesz - bytes)
        return s.p_offset + (addr - s.p_vaddr);
    return std::nullopt;
  }
};

bool read_at(std::ifstream& in, uint64_t offset, void* out, uint64_t bytes) {
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(static_cast<char*>(out), static_cast<std::streamsize>(bytes));
  return in.gcount() == static_cast<std::streamsize>(bytes);
}

// `count` entries of T at address `addr`, or nullopt when the file does not hold them.
template <typename T>
std::optional<std::vector<T>> table_at(std::ifstream& in, const Image& image, uint64_t addr, uint64_t count) {
  if (count > (uint64_t{1} << 32) / sizeof(T)) return std::nullopt;
  const auto offset = image.offset_of(addr, count * sizeof(T));
  if (!offset) return std::nullopt;
  std::vector<T> out(count);
  if (!read_at(in, *offset, out.data(), count * sizeof(T))) return std::nullopt;
  return out;
}

// Symbols in the dynamic symbol table, from the hash table the loader searches (0: unknown).
uint64_t symbol_count(std::ifstream& in, const Image& image, const std::map<int64_t, uint64_t>& dyn) {
  if (auto it = dyn.find(DT_HASH); it != dyn.end())
    if (auto head = table_at<uint32_t>(in, image, it->second, 2)) return (*head)[1];  // nchain
  const auto it = dyn.find(DT_GNU_HASH);
  if (it == dyn.end()) return 0;
  const auto head = table_at<uint32_t>(in, image, it->second, 4);  // nbuckets, symoffset, bloom size, shift
  if (!head) return 0;
  const uint64_t buckets_at = it->second + 16 + uint64_t{(*head)[2]} * 8;
  const auto buckets = table_at<uint32_t>(in, image, buckets_at, (*head)[0]);
  if (!buckets || buckets->empty()) return 0;
  uint64_t last = *std::max_element(buckets->begin(), buckets->end());
  if (last < (*head)[1]) return 0;  // nothing hashed: the unhashed symbols before it are not counted
  // The chain of the last bucket ends at the entry with its low bit set.
  const uint64_t chain_at = buckets_at + uint64_t{(*head)[0]} * 4;
  for (uint32_t entry = 0; !(entry & 1) && last < (uint64_t{1} << 24); ++last) {
    const auto e = table_at<uint32_t>(in, image, chain_at + (last - (*head)[1]) * 4, 1);
    if (!e) return 0;
    entry = (*e)[0];
  }
  return last;
}

// Addresses in the dynamic section and in the symbols and relocations it points to.
std::string dynamic_problem(std::ifstream& in, const Image& image, const Elf64_Phdr& dynamic) {
  std::vector<Elf64_Dyn> entries(dynamic.p_filesz / sizeof(Elf64_Dyn));
  if (!read_at(in, dynamic.p_offset, entries.data(), entries.size() * sizeof(Elf64_Dyn)))
    return "cannot read the dynamic section";
  std::map<int64_t, uint64_t> dyn;
  for (const auto& d : entries) {
    if (d.d_tag == DT_NULL) break;
    if (d.d_tag != DT_NEEDED) dyn.emplace(d.d_tag, d.d_un.d_val);
  }
  const std::string corrupt = "corrupt library: ";
  for (auto tag : {DT_INIT, DT_FINI})
    if (dyn.count(tag) && !image.holds(dyn[tag], 1)) return corrupt + "an initialisation function lies outside it";
  if (!dyn.count(DT_SYMTAB) || !dyn.count(DT_STRTAB) || !dyn.count(DT_STRSZ) ||
      !image.offset_of(dyn[DT_STRTAB], dyn[DT_STRSZ]))
    return corrupt + "its symbol or string table is missing or lies outside the file";
  const uint64_t symbols = symbol_count(in, image, dyn);
  if (symbols > 0) {
    const auto syms = table_at<Elf64_Sym>(in, image, dyn[DT_SYMTAB], symbols);
    if (!syms) return corrupt + "its symbol table lies outside the file";
    for (const auto& sym : *syms) {
      if (sym.st_name >= dyn[DT_STRSZ]) return corrupt + "a symbol's name lies outside the string table";
      const bool defined = sym.st_shndx != SHN_UNDEF && sym.st_shndx < SHN_LORESERVE;
      if (defined && ELF64_ST_TYPE(sym.st_info) != STT_TLS && !image.holds(sym.st_value, sym.st_size))
        return corrupt + "a symbol lies outside it";
    }
  }
  std::vector<std::pair<int64_t, int64_t>> tables = {{DT_RELA, DT_RELASZ}};
  if (dyn.count(DT_PLTREL) && dyn[DT_PLTREL] == DT_RELA) tables.emplace_back(DT_JMPREL, DT_PLTRELSZ);
  for (const auto& [at, size] : tables) {
    if (!dyn.count(at)) continue;
    const auto relocs = table_at<Elf64_Rela>(in, image, dyn[at], dyn[size] / sizeof(Elf64_Rela));
    if (!relocs) return corrupt + "a relocation table lies outside the file";
    for (const auto& r : *relocs) {
      const auto type = ELF64_R_TYPE(r.r_info);
      if (!image.holds(r.r_offset, 1)) return corrupt + "a relocation writes outside it";
      if (symbols > 0 && ELF64_R_SYM(r.r_info) >= symbols) return corrupt + "a relocation names no symbol";
#if defined(__x86_64__)
      if (type >= R_X86_64_NUM) return corrupt + "a relocation of unknown type";
      if ((type == R_X86_64_RELATIVE || type == R_X86_64_IRELATIVE) &&
          !image.holds(static_cast<uint64_t>(r.r_addend), 0))
        return corrupt + "a relocation points outside it";
#endif
    }
  }
  return "";
}

}  // namespace

std::string elf_problem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("cannot read the file: ") + std::strerror(errno);
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  if (end < 0) return "cannot read the file";
  const auto file_size = static_cast<uint64_t>(end);
  in.seekg(0);
  Elf64_Ehdr h{};
  in.read(reinterpret_cast<char*>(&h), sizeof h);
  const auto got = static_cast<size_t>(in.gcount());
  // dlopen's message for a text file is unhelpful; say plainly what it is.
  if (got < SELFMAG || std::memcmp(h.e_ident, ELFMAG, SELFMAG) != 0) return "not a shared library";
  if (got < EI_NIDENT) return truncated("the ELF header ends", file_size);
  const unsigned char elf_class = h.e_ident[EI_CLASS], data = h.e_ident[EI_DATA];
  // e_machine sits at the same offset in ELF32 and ELF64 headers.
  uint16_t machine = h.e_machine;
  if (data != kHostData) machine = static_cast<uint16_t>((machine >> 8) | (machine << 8));
  if (elf_class != ELFCLASS32 && elf_class != ELFCLASS64) return "corrupt ELF header (unknown class)";
  if (data != ELFDATA2LSB && data != ELFDATA2MSB) return "corrupt ELF header (unknown byte order)";
  if (got < 20) return truncated("the ELF header ends", file_size);
  if (elf_class != ELFCLASS64 || data != kHostData || (kHostMachine != EM_NONE && machine != kHostMachine))
    return "built for " + build_name(elf_class, data, machine) + ", not for this host (" +
           build_name(ELFCLASS64, kHostData, kHostMachine) + ")";
  if (got < sizeof h) return truncated("the ELF header ends", file_size);
  if (h.e_type != ET_DYN)
    return h.e_type == ET_EXEC  ? "not a shared library (an executable)"
           : h.e_type == ET_REL ? "not a shared library (an object file)"
                                : "not a shared library (ELF type " + std::to_string(h.e_type) + ")";
  if (h.e_ehsize != sizeof(Elf64_Ehdr) || h.e_phentsize != sizeof(Elf64_Phdr) || h.e_phnum == 0 ||
      (h.e_shnum != 0 && h.e_shentsize != sizeof(Elf64_Shdr)))
    return "corrupt ELF header";
  if (!inside(h.e_phoff, uint64_t{h.e_phnum} * sizeof(Elf64_Phdr), file_size))
    return truncated("the program headers lie", file_size);
  // The section headers usually come last: the first thing a truncation cuts off.
  if (h.e_shoff != 0 && !inside(h.e_shoff, uint64_t{h.e_shnum == 0 ? 1u : h.e_shnum} * sizeof(Elf64_Shdr), file_size))
    return truncated("the section headers lie", file_size);

  std::vector<Elf64_Phdr> segments(h.e_phnum);
  in.seekg(static_cast<std::streamoff>(h.e_phoff));
  in.read(reinterpret_cast<char*>(segments.data()), static_cast<std::streamsize>(segments.size() * sizeof(Elf64_Phdr)));
  if (!in) return "cannot read the program headers";
  Image image;
  const Elf64_Phdr* dynamic = nullptr;
  for (const auto& s : segments) {
    if (s.p_type != PT_LOAD && s.p_type != PT_DYNAMIC) continue;
    if (!inside(s.p_offset, s.p_filesz, file_size)) return truncated("a segment lies", file_size);
    if (s.p_type == PT_LOAD && s.p_filesz > s.p_memsz) return "corrupt program header (a segment larger on disk)";
    if (s.p_type == PT_LOAD) image.loads.push_back(s);
    if (s.p_type == PT_DYNAMIC) dynamic = &s;
  }
  if (image.loads.empty() || !dynamic) return "not a shared library (no loadable dynamic segments)";
  return dynamic_problem(in, image, *dynamic);
}

}  // namespace looplab::host
