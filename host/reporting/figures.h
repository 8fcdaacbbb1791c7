#pragma once
/// @file figures.h
/// Renders sdk::FigureSpec figures over CSV tables to PNG with gnuplot.

#include <looplab/sdk/analysis.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace looplab::host {

/// Renders `figure` to `<out_dir>/<figure.name>.png` with gnuplot (pngcairo if available, else
/// png; 900x600). `tables` maps a table name used in figure.series[k].table to a CSV path. For
/// each series it selects rows (where_column == where_value if set) and numeric x/y, skipping
/// rows whose x or y is not a finite number or, on a log axis, is <= 0. The plotted data goes to
/// `<out_dir>/<figure.name>.dat` (gnuplot index blocks, one per series that has points, each
/// headed by a comment naming the series) and the script to `<out_dir>/<figure.name>.gp`, so the
/// picture can be re-made by hand with `gnuplot <name>.gp` in `out_dir`. A series with
/// band_lo/band_hi draws a translucent filled band under its line; a band edge that is not
/// plottable collapses onto the line at that point. Series without points are left out of the
/// plot; a figure with none at all renders an empty frame saying so. Creates `out_dir` if needed
/// and returns the PNG path. Throws std::runtime_error naming the figure and the unknown table
/// or column, with gnuplot's stderr if gnuplot fails, and with a clear message if gnuplot is not
/// installed (the .dat and .gp are written before that check).
/// Grid kinds (figure.kind Contour or Surface) draw column figure.z of series[0]'s table over its
/// (x, y) grid (rows sorted by x then y, one .dat block line per x; a z that is not drawable is
/// written as NaN): a colour map with contour lines seen from above, or a shaded 3-D surface.
std::string render_figure(const sdk::FigureSpec& figure, const std::map<std::string, std::string>& tables,
                          const std::string& out_dir);

/// How the host's own line figures are drawn beyond sdk::FigureSpec (analyses get the defaults).
struct LineStyle {
  /// Log y axis only, 0 = off: y values and band edges below this, 0 included, count as exact
  /// (least squares beyond d examples reaches ~1e-15) and do not set the y range. When some
  /// value is below it and some are not, those values are drawn at the floor F = (smallest
  /// value >= floor_below) / 10, a decade under the informative curves (the .dat keeps them as
  /// they are, the script clamps); F is a dashed grey line labelled "below <floor_below>: drawn
  /// at this floor", the y axis starts at F / 2, and each series with such a y gets
  /// " (< floor_below from x = X)" in its legend, X the first x from which every y is below
  /// (" (< floor_below at K points)" when they do not run to the end). Nothing below it, or
  /// nothing else: drawn as without the style.
  double floor_below = 0;
  /// 0 = off: the y axis ends at this value at most; curves above it leave the frame (least
  /// squares at exactly d examples, an interpolation peak of 1e3-1e5 on a non-linear task).
  double y_max = 0;
  /// Indices into figure.series drawn faint: a thin light-grey line without markers, under the
  /// others (a raw curve behind its moving average).
  std::vector<size_t> faint;
};

/// render_figure with `style` (Lines figures; grid kinds ignore it).
std::string render_figure(const sdk::FigureSpec& figure, const std::map<std::string, std::string>& tables,
                          const std::string& out_dir, const LineStyle& style);

/// Trailing moving average: out[i] = mean(v[max(0,i-window+1) .. i]). A non-finite value
/// affects only the windows that contain it. Throws std::invalid_argument when window < 1.
std::vector<double> moving_average(const std::vector<double>& values, int64_t window);

}  // namespace looplab::host
