#include "reporting/figures.h"

#include "common/csv.h"
#include "common/files.h"
#include "common/text.h"

#include <sys/wait.h>
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace looplab::host {
namespace fs = std::filesystem;
namespace {

// matplotlib's tab10: distinguishable, and familiar from the papers' plots.
constexpr const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
// Markers help with few points and clutter with many (training curves).
constexpr size_t kMaxPointsWithMarkers = 40;
// Longest series label kept in a key beside the plot (900 px wide); longer ones go below it.
constexpr size_t kMaxLabelBesidePlot = 32;

struct Point {
  double x, y, lo, hi;
};

std::optional<double> parse_number(const std::string& cell) {
  double value = 0.0;
  const char* begin = cell.data();
  const char* end = begin + cell.size();
  auto res = std::from_chars(begin, end, value);  // locale-independent, reads what Table::num writes
  if (res.ec != std::errc() || res.ptr != end) return std::nullopt;
  return value;
}

// Single-quoted gnuplot strings take everything literally except '' for a quote; line breaks
// would end the command, so they become spaces.
std::string gp_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string one_line(const std::string& text) {
  std::string out = text;
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\r', ' ');
  return out;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void check_name(const std::string& name) {
  const bool bad =
      name.empty() || name == "." || name == ".." ||
      std::any_of(name.begin(), name.end(), [](unsigned char c) { return c == '/' || c == '\\' || c < 0x20; });
  if (bad) {
    throw std::runtime_error("figure name '" + name + "' is not a plain file stem");
  }
}

// A column a series does not use (no filter, no band).
constexpr size_t kNoColumn = static_cast<size_t>(-1);

class SeriesReader {
 public:
  SeriesReader(const sdk::FigureSpec& figure, const std::map<std::string, std::string>& tables)
      : figure_(figure), tables_(tables) {}

  // (x, y, z) of series s for a grid figure, sorted by x then y; a z that cannot be drawn
  // (not finite, or <= 0 on a log scale) becomes NaN so that the grid stays complete.
  std::vector<std::array<double, 3>> grid(const sdk::Series& s, const std::string& z_column, bool log_z) {
    const sdk::Table& table = load(s);
    const size_t xi = column(s, table, s.x, "x");
    const size_t yi = column(s, table, s.y, "y");
    const size_t zi = column(s, table, z_column, "z");
    const size_t wi = s.where_column.empty() ? kNoColumn : column(s, table, s.where_column, "where");
    std::vector<std::array<double, 3>> out;
    for (const auto& row : table.rows) {
      if (wi != kNoColumn && row[wi] != s.where_value) continue;
      const auto x = parse_number(row[xi]);
      const auto y = parse_number(row[yi]);
      if (!x || !y || !std::isfinite(*x) || !std::isfinite(*y)) continue;
      auto z = parse_number(row[zi]);
      const bool drawable = z && std::isfinite(*z) && (!log_z || *z > 0.0);
      out.push_back({*x, *y, drawable ? *z : std::numeric_limits<double>::quiet_NaN()});
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]); });
    return out;
  }

  // The plottable points of series s. `keep_zeros`: on a log y axis keep values of 0 too (a
  // floor will draw them; see LineStyle::floor_below).
  std::vector<Point> points(const sdk::Series& s, bool keep_zeros = false) {
    const sdk::Table& table = load(s);
    const bool banded = !s.band_lo.empty() || !s.band_hi.empty();
    if (banded && (s.band_lo.empty() || s.band_hi.empty())) {
      throw error(s, "sets only one of band_lo/band_hi; a band needs both");
    }
    const size_t xi = column(s, table, s.x, "x");
    const size_t yi = column(s, table, s.y, "y");
    const size_t wi = s.where_column.empty() ? kNoColumn : column(s, table, s.where_column, "where");
    const size_t lo_i = banded ? column(s, table, s.band_lo, "band_lo") : kNoColumn;
    const size_t hi_i = banded ? column(s, table, s.band_hi, "band_hi") : kNoColumn;

    auto plottable = [](std::optional<double> v, bool log_axis, bool zero_ok = false) {
      return v && std::isfinite(*v) && (!log_axis || *v > 0.0 || (zero_ok && *v == 0.0));
    };
    std::vector<Point> out;
    for (const auto& row : table.rows) {
      if (wi != kNoColumn && row[wi] != s.where_value) continue;
      const auto x = parse_number(row[xi]);
      const auto y = parse_number(row[yi]);
      if (!plottable(x, figure_.log_x) || !plottable(y, figure_.log_y, keep_zeros)) continue;
      Point p{*x, *y, *y, *y};
      if (banded) {
        const auto lo = parse_number(row[lo_i]);
        const auto hi = parse_number(row[hi_i]);
        if (plottable(lo, figure_.log_y, keep_zeros)) p.lo = *lo;
        if (plottable(hi, figure_.log_y, keep_zeros)) p.hi = *hi;
      }
      out.push_back(p);
    }
    return out;
  }

 private:
  std::runtime_error error(const sdk::Series& s, const std::string& what) const {
    return std::runtime_error("figure '" + figure_.name + "': series '" + s.label + "' " + what);
  }

  const sdk::Table& load(const sdk::Series& s) {
    auto cached = cache_.find(s.table);
    if (cached != cache_.end()) return cached->second;
    auto path = tables_.find(s.table);
    if (path == tables_.end()) {
      std::vector<std::string> known;
      for (const auto& [name, _] : tables_) known.push_back("'" + name + "'");
      throw error(
          s, "names unknown table '" + s.table + "' (known tables: " + (known.empty() ? "none" : join(known)) + ")");
    }
    return cache_.emplace(s.table, read_csv(path->second)).first->second;
  }

  size_t column(const sdk::Series& s, const sdk::Table& table, const std::string& name, const char* role) const {
    auto it = std::find(table.columns.begin(), table.columns.end(), name);
    if (it == table.columns.end()) {
      throw error(s, std::string("names unknown ") + role + " column '" + name + "' in table '" + s.table +
                         "' (columns: " + join(table.columns) + ")");
    }
    return static_cast<size_t>(it - table.columns.begin());
  }

  const sdk::FigureSpec& figure_;
  const std::map<std::string, std::string>& tables_;
  std::map<std::string, sdk::Table> cache_;
};

bool gnuplot_available() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

// Runs the script `gp_name` in `dir` and checks that it wrote `png_name`; returns its path.
std::string run_gnuplot(const std::string& name, const fs::path& dir, const std::string& gp_name,
                        const std::string& png_name, const std::string& out_dir) {
  std::error_code ec;
  if (!gnuplot_available()) {
    throw std::runtime_error("cannot render figure '" + name +
                             "': gnuplot is not installed or not on PATH (install gnuplot-nox); "
                             "its data and script are in '" +
                             out_dir + "'");
  }
  const fs::path png = dir / png_name;
  const fs::path err = dir / (name + ".gnuplot-stderr.txt");
  fs::remove(png, ec);  // a failed render must not leave an old picture looking current
  const std::string command = "cd " + shell_quote(dir.string()) + " && gnuplot " + shell_quote(gp_name) +
                              " >/dev/null 2>" + shell_quote(err.filename().string());
  const int status = std::system(command.c_str());
  const std::string stderr_text = read_text(err);
  fs::remove(err, ec);
  const bool ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ok) {
    throw std::runtime_error("gnuplot failed to render figure '" + name + "' (script '" + (dir / gp_name).string() +
                             "'): " + (stderr_text.empty() ? "no error output" : stderr_text));
  }
  if (!fs::exists(png) || fs::file_size(png) == 0) {
    throw std::runtime_error("gnuplot wrote no image for figure '" + name + "' (script '" + (dir / gp_name).string() +
                             "')" + (stderr_text.empty() ? "" : ": " + stderr_text));
  }
  return png.string();
}

// The terminal lines every script starts with; the choice is made when the script runs, so
// it also works where pngcairo is missing.
std::string terminal(int width, int height) {
  const auto size = std::to_string(width) + "," + std::to_string(height);
  return "if (strstrt(GPVAL_TERMINALS, ' pngcairo ') > 0) {\n"
         "  set terminal pngcairo size " +
         size +
         " noenhanced font 'sans,11'\n"
         "} else {\n"
         "  set terminal png size " +
         size +
         " truecolor noenhanced\n"
         "}\n";
}

// viridis: perceptually uniform, readable in grey.
constexpr const char* kPalette =
    "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')\n";

// Under two decades a log axis shows too few powers of ten to read and gnuplot widens it to
// whole decades: then the axis spans the heights exactly, with five labels spaced evenly in log.
std::string log_tics(const std::vector<std::array<double, 3>>& points) {
  double lo = INFINITY, hi = 0;
  for (const auto& p : points)
    if (std::isfinite(p[2]) && p[2] > 0) lo = std::min(lo, p[2]), hi = std::max(hi, p[2]);
  if (!(hi > lo) || hi / lo >= 100) return "";
  std::ostringstream tics;
  tics << "(";
  for (int k = 0; k < 5; ++k) {
    char label[32];
    std::snprintf(label, sizeof label, "%.3g", lo * std::pow(hi / lo, k / 4.0));
    tics << (k ? ", " : "") << label;
  }
  tics << ")";
  const std::string range = "[" + sdk::Table::num(lo) + ":" + sdk::Table::num(hi) + "]";
  return "set cbtics " + tics.str() + "\nset ztics " + tics.str() + "\nset cbrange " + range + "\nset zrange " + range +
         "\n";
}

// The files of one figure in its (created) directory: <name>.dat, <name>.gp, <name>.png.
struct FigureFiles {
  fs::path dir;
  std::string dat, gp, png;
};

FigureFiles figure_files(const sdk::FigureSpec& figure, const std::string& out_dir) {
  FigureFiles f{fs::path(out_dir), figure.name + ".dat", figure.name + ".gp", figure.name + ".png"};
  std::error_code ec;
  fs::create_directories(f.dir, ec);
  if (ec) throw std::runtime_error("cannot create figure directory '" + out_dir + "': " + ec.message());
  return f;
}

// The script's opening: the re-render hint, terminal, output, title and axis labels.
void write_script_head(std::ostream& gp, const sdk::FigureSpec& figure, const FigureFiles& f, int width, int height) {
  gp << "# figure '" << one_line(figure.name) << "'; re-render in this directory with: gnuplot " << one_line(f.gp)
     << "\n";
  gp << terminal(width, height);
  gp << "set output " << gp_quote(f.png) << '\n';
  gp << "set title " << gp_quote(figure.title) << '\n';
  gp << "set xlabel " << gp_quote(figure.xlabel) << '\n';
  gp << "set ylabel " << gp_quote(figure.ylabel) << '\n';
}

// A Contour or Surface figure of z over the (x, y) grid of series[0].
std::string render_grid(const sdk::FigureSpec& figure, SeriesReader& reader, const std::string& out_dir) {
  if (figure.series.empty() || figure.z.empty()) {
    throw std::runtime_error("figure '" + figure.name + "': a contour or surface figure needs series[0] and z");
  }
  const auto& s = figure.series.front();
  const auto points = reader.grid(s, figure.z, figure.log_z);
  const auto files = figure_files(figure, out_dir);

  // One scan line per x value, separated by blank lines (gnuplot's grid format).
  std::ostringstream dat;
  dat << "# data of figure '" << one_line(figure.name) << "': " << one_line(s.x) << ' ' << one_line(s.y) << ' '
      << one_line(figure.z) << ", one block per " << one_line(s.x) << '\n';
  for (size_t i = 0; i < points.size(); ++i) {
    if (i > 0 && points[i][0] != points[i - 1][0]) dat << '\n';
    dat << sdk::Table::num(points[i][0]) << ' ' << sdk::Table::num(points[i][1]) << ' '
        << (std::isnan(points[i][2]) ? std::string("NaN") : sdk::Table::num(points[i][2])) << '\n';
  }
  write_file_atomic((files.dir / files.dat).string(), dat.str());

  const bool contour = figure.kind == sdk::FigureKind::Contour;
  std::ostringstream gp;
  write_script_head(gp, figure, files, contour ? 800 : 900, 700);
  gp << "set cblabel " << gp_quote(figure.zlabel) << '\n';
  if (figure.log_z) gp << "set logscale z 10\nset logscale cb 10\n" << log_tics(points);
  gp << kPalette << "unset key\n";
  const std::string source = gp_quote(files.dat) + " using 1:2:3";
  if (points.empty()) {
    gp << "set label 1 'no plottable data' at graph 0.5, graph 0.5 center\nplot NaN notitle\n";
  } else if (contour) {
    // Colours from pm3d, then the contour lines alone (nosurface), all in one colour.
    gp << "set view map\nset size ratio -1\nset pm3d at b interpolate 0,0\n"
          "set contour base\nset cntrparam levels auto 15\nunset clabel\n";
    gp << "splot " << source << " with pm3d notitle, \\\n      " << source
       << " with lines nosurface linecolor rgb '#ffffff' notitle\n";
  } else {
    gp << "set zlabel " << gp_quote(figure.zlabel) << " rotate parallel\n";
    gp << "set view 60, 35\nset xyplane relative 0\n"
          "set pm3d at s depthorder border linecolor rgb '#303030' linewidth 0.3\n";
    gp << "splot " << source << " with pm3d notitle\n";
  }
  gp << "unset output\n";
  write_file_atomic((files.dir / files.gp).string(), gp.str());
  return run_gnuplot(figure.name, files.dir, files.gp, files.png, out_dir);
}

// The line figure's data (one gnuplot index block per series with points) and its plot clauses.
struct LinePlots {
  std::string dat;
  std::vector<std::string> plots, skipped;
  int64_t blocks = 0;
  double floor = 0;  // > 0: values below the threshold are drawn here (LineStyle::floor_below)
  size_t longest_title = 0;
};

// "1e-8", "0.001": a threshold as a legend writes it.
std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  std::string out = buf;
  const auto e = out.find("e-0");
  if (e != std::string::npos) out.erase(e + 2, 1);
  const auto p = out.find("e+0");
  if (p != std::string::npos) out.erase(p + 2, 1);
  return out;
}

// The floor of a log-y figure (LineStyle::floor_below): a decade under the smallest value at or
// above the threshold, when some value is below it; 0 when nothing needs clamping.
double y_floor(const std::vector<std::vector<Point>>& series, double below) {
  double informative = INFINITY;
  bool clamped = false;
  for (const auto& pts : series)
    for (const auto& p : pts)
      for (double v : {p.y, p.lo, p.hi}) {
        if (v < below)
          clamped = true;
        else
          informative = std::min(informative, v);
      }
  return clamped && std::isfinite(informative) ? informative / 10 : 0.0;
}

// The legend's note for a series with points below the threshold, "" when it has none.
std::string floor_note(const std::vector<Point>& pts, double below) {
  size_t count = 0;
  for (const auto& p : pts) count += p.y < below;
  if (count == 0) return "";
  size_t tail = 0;  // points below the threshold at the end of the series
  while (tail < pts.size() && pts[pts.size() - 1 - tail].y < below) ++tail;
  const std::string threshold = "< " + short_number(below);
  if (tail == count) return " (" + threshold + " from x = " + sdk::Table::num(pts[pts.size() - tail].x) + ")";
  return " (" + threshold + " at " + std::to_string(count) + (count == 1 ? " point)" : " points)");
}

LinePlots line_plots(const sdk::FigureSpec& figure, SeriesReader& reader, const std::string& dat_name,
                     const LineStyle& style) {
  LinePlots out;
  const double below = figure.log_y ? style.floor_below : 0.0;
  std::vector<std::vector<Point>> all;
  for (const auto& s : figure.series) all.push_back(reader.points(s, below > 0));
  if (below > 0) out.floor = y_floor(all, below);
  if (below > 0 && out.floor <= 0) {  // no floor after all: zeros cannot be drawn on a log axis
    for (auto& pts : all) {
      pts.erase(std::remove_if(pts.begin(), pts.end(), [](const Point& p) { return p.y <= 0; }), pts.end());
      for (auto& p : pts) {
        if (p.lo <= 0) p.lo = p.y;
        if (p.hi <= 0) p.hi = p.y;
      }
    }
  }
  // A clamped column: the value itself, or the floor where it is below the threshold.
  auto column = [&](int c) {
    if (out.floor <= 0) return std::to_string(c);
    return "($" + std::to_string(c) + " < " + sdk::Table::num(below) + " ? " + sdk::Table::num(out.floor) + " : $" +
           std::to_string(c) + ")";
  };
  std::vector<std::string> faint_plots, plots;
  std::ostringstream dat;
  dat << "# data of figure '" << one_line(figure.name) << "': one block per series (gnuplot index)\n";
  for (size_t k = 0; k < figure.series.size(); ++k) {
    const auto& s = figure.series[k];
    const auto& pts = all[k];
    if (pts.empty()) {
      out.skipped.push_back(s.label);
      continue;
    }
    const bool banded = !s.band_lo.empty();
    if (out.blocks > 0) dat << "\n\n";
    dat << "# index " << out.blocks << ": " << one_line(s.label) << "\n# " << one_line(s.x) << ' ' << one_line(s.y)
        << (banded ? " " + one_line(s.band_lo) + ' ' + one_line(s.band_hi) : "") << '\n';
    for (const auto& p : pts) {
      dat << sdk::Table::num(p.x) << ' ' << sdk::Table::num(p.y);
      if (banded) dat << ' ' << sdk::Table::num(p.lo) << ' ' << sdk::Table::num(p.hi);
      dat << '\n';
    }
    const std::string color = gp_quote(kColors[k % std::size(kColors)]);
    const std::string source = gp_quote(dat_name) + " index " + std::to_string(out.blocks);
    const std::string note = out.floor > 0 ? floor_note(pts, below) : "";
    out.longest_title = std::max(out.longest_title, s.label.size() + note.size());
    const std::string y = note.empty() ? "2" : column(2);
    if (std::find(style.faint.begin(), style.faint.end(), k) != style.faint.end()) {
      faint_plots.push_back(source + " using 1:" + y + " with lines linewidth 1 linecolor rgb '#c0c0c0' title " +
                            gp_quote(s.label + note));
      ++out.blocks;
      continue;
    }
    if (banded) {
      plots.push_back(source + " using 1:" + column(3) + ":" + column(4) + " with filledcurves fillcolor rgb " + color +
                      " fillstyle transparent solid 0.2 noborder notitle");
    }
    const char* line = pts.size() <= kMaxPointsWithMarkers ? "linespoints pointtype 7 pointsize 0.6" : "lines";
    plots.push_back(source + " using 1:" + y + " with " + line + " linewidth 2 linecolor rgb " + color + " title " +
                    gp_quote(s.label + note));
    ++out.blocks;
  }
  // Faint curves first, so that the others are drawn over them.
  out.plots = faint_plots;
  out.plots.insert(out.plots.end(), plots.begin(), plots.end());
  out.dat = dat.str();
  return out;
}

}  // namespace

std::string render_figure(const sdk::FigureSpec& figure, const std::map<std::string, std::string>& tables,
                          const std::string& out_dir) {
  return render_figure(figure, tables, out_dir, LineStyle{});
}

std::string render_figure(const sdk::FigureSpec& figure, const std::map<std::string, std::string>& tables,
                          const std::string& out_dir, const LineStyle& style) {
  check_name(figure.name);
  SeriesReader reader(figure, tables);
  if (figure.kind != sdk::FigureKind::Lines) return render_grid(figure, reader, out_dir);
  const auto files = figure_files(figure, out_dir);
  const auto lines = line_plots(figure, reader, files.dat, style);
  write_file_atomic((files.dir / files.dat).string(), lines.dat);

  // Short labels sit right of the plot; long ones (compare's setting lists) go under it, one
  // per line, on a taller canvas, so that they never squeeze the plot itself.
  size_t longest = lines.longest_title;  // with the floor notes; series without points count too
  for (const auto& s : figure.series) longest = std::max(longest, s.label.size());
  const bool key_below = longest > kMaxLabelBesidePlot;
  const int height = 600 + (key_below ? 20 * static_cast<int>(lines.blocks) : 0);

  std::ostringstream gp;
  write_script_head(gp, figure, files, 900, height);
  if (figure.log_x) gp << "set logscale x 10\n";
  // %g: gnuplot's default pads every decade label to the smallest one's digits (10.00000).
  if (figure.log_y) gp << "set logscale y 10\nset format y '%g'\n";
  // Autoscaled top, capped: `*<max` lets gnuplot pick it unless it lies above y_max.
  const std::string top = style.y_max > 0 ? "*<" + sdk::Table::num(style.y_max) : "*";
  if (style.y_max > 0 && lines.floor <= 0 && !lines.plots.empty()) gp << "set yrange [*:" << top << "]\n";
  if (lines.floor > 0) {
    // The floor a little above the bottom of the axis, as a dashed line that says what it is.
    const std::string floor = sdk::Table::num(lines.floor);
    gp << "# values below " << sdk::Table::num(style.floor_below) << " are drawn at the floor, " << floor << "\n"
       << "set yrange [" << sdk::Table::num(lines.floor / 2) << ":" << top << "]\n"
       << "set arrow 1 from graph 0, first " << floor << " to graph 1, first " << floor
       << " nohead dashtype 2 linewidth 1 linecolor rgb '#909090' back\n"
       << "set label 1 " << gp_quote("below " + short_number(style.floor_below) + ": drawn at this floor")
       << " at graph 0.99, first " << floor << " right offset 0,0.7 font ',9' textcolor rgb '#707070'\n";
  }
  gp << "set grid xtics ytics mxtics mytics linecolor rgb '#d0d0d0', linecolor rgb '#eeeeee'\n";
  gp << (key_below ? "set key bmargin left vertical Left reverse maxcols 1 noautotitle\n"
                   : "set key outside right top noautotitle\n");
  for (const auto& label : lines.skipped) gp << "# series " << gp_quote(label) << " has no plottable points\n";
  if (lines.plots.empty()) {
    gp << "set xrange [" << (figure.log_x ? "1:10" : "0:1") << "]\n";
    gp << "set yrange [" << (figure.log_y ? "1:10" : "0:1") << "]\n";
    gp << "set label 1 'no plottable data' at graph 0.5, graph 0.5 center\n";
    gp << "plot NaN notitle\n";
  } else {
    gp << "plot ";
    for (size_t i = 0; i < lines.plots.size(); ++i) gp << (i ? ", \\\n     " : "") << lines.plots[i];
    gp << '\n';
  }
  gp << "unset output\n";
  write_file_atomic((files.dir / files.gp).string(), gp.str());
  return run_gnuplot(figure.name, files.dir, files.gp, files.png, out_dir);
}

std::vector<double> moving_average(const std::vector<double>& values, int64_t window) {
  if (window < 1) {
    throw std::invalid_argument("moving_average: window must be >= 1, got " + std::to_string(window));
  }
  const size_t w = static_cast<size_t>(window);
  const size_t n = values.size();
  std::vector<double> out(n);
  // A running sum over the finite values, with the count of non-finite ones in the window: a
  // NaN or inf would otherwise poison every later window. The sum is recomputed exactly once
  // per window length so rounding drift stays bounded.
  double sum = 0.0;
  size_t non_finite = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t first = i + 1 >= w ? i + 1 - w : 0;
    const size_t count = i - first + 1;
    if (std::isfinite(values[i])) {
      sum += values[i];
    } else {
      ++non_finite;
    }
    if (i >= w) {
      const double leaving = values[i - w];
      if (std::isfinite(leaving)) {
        sum -= leaving;
      } else {
        --non_finite;
      }
    }
    if (i % w == w - 1) {
      sum = 0.0;
      for (size_t j = first; j <= i; ++j) {
        if (std::isfinite(values[j])) sum += values[j];
      }
    }
    if (non_finite > 0) {
      double direct = 0.0;  // IEEE arithmetic gives the mean its inf or NaN
      for (size_t j = first; j <= i; ++j) direct += values[j];
      out[i] = direct / static_cast<double>(count);
    } else {
      out[i] = sum / static_cast<double>(count);
    }
  }
  return out;
}

}  // namespace looplab::host
