import Foundation
import RiskMetrics

// Small, dependency-free SVG charts for report.html: vertical bars, horizontal stacked bars, a stacked histogram
// and grouped horizontal bars. Each chart is a value describing what to draw; `render` returns one inline
// `<svg>` element. Every label goes through `SVGCanvas`, which escapes it (labels are user text: asset tickers,
// scenario names), so no chart can inject markup. Sizes are in CSS pixels; the page scales the SVG down to fit.

/// Colours of the report, shared by the charts and the page's CSS (statuses keep one colour everywhere).
enum Palette {
    static let ok = "#2e9d5b"
    static let marginCall = "#e09b1f"
    static let liquidatable = "#d64545"
    static let collateral = "#4a78b5"
    static let debt = "#9a7bc4"
    static let risk = "#3d4b5c"
    static let gain = "#9fbfa8"
    static let target = "#4a78b5"
    static let axis = "#8a94a3"
    static let grid = "#e6e9ee"
    static let text = "#1f2933"
    static let muted = "#5f6b7a"

    static func status(_ status: AccountStatus) -> String {
        switch status {
        case .ok: return ok
        case .marginCall: return marginCall
        case .liquidatable: return liquidatable
        }
    }
}

/// One named, coloured series of a chart (its legend entry).
struct ChartSeries {
    let name: String
    let color: String
}

/// A linear axis over [lower, upper] with "nice" ticks: steps of 1, 2, 2.5 or 5 × 10^k, the bounds rounded out
/// to whole steps. `integer` axes (counts) never step below 1.
struct LinearAxis {
    let lower: Double
    let upper: Double
    let step: Double
    let ticks: [Double]

    init(from minimum: Double, to maximum: Double, tickCount: Int = 5, integer: Bool = false) {
        var lo = minimum.isFinite ? minimum : 0
        var hi = maximum.isFinite ? maximum : 0
        if lo > hi { swap(&lo, &hi) }
        if hi - lo <= 0 {
            if hi == 0 {
                hi = 1
            } else if hi > 0 {
                lo = min(lo, 0)
            } else {
                hi = 0
            }
        }
        var step = LinearAxis.niceStep((hi - lo) / Double(max(1, tickCount)))
        if integer { step = max(1, step.rounded(.up)) }
        // Bounds are rounded out to whole steps, except a small overshoot past zero (under a tenth of a step: a
        // tiny negative value among large positive ones), which is kept as it is rather than given a whole step.
        var lower = (lo / step).rounded(.down) * step
        var upper = (hi / step).rounded(.up) * step
        if lo < 0 && hi > 0 && -lo < 0.1 * step { lower = lo }
        if hi > 0 && lo < 0 && hi < 0.1 * step { upper = hi }
        if upper <= lower { upper = lower + step }
        self.lower = lower
        self.upper = upper
        self.step = step
        let first = Int((lower / step).rounded(.up)), last = Int((upper / step).rounded(.down))
        ticks = first <= last ? (first ... last).map { Double($0) * step } : []
    }

    /// 1, 2, 2.5, 5 or 10 × 10^k, the smallest at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let power = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / power
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        return nice * power
    }

    /// The position of `value` on a range of pixels [from, to].
    func position(_ value: Double, from: Double, to: Double) -> Double {
        from + (value - lower) / (upper - lower) * (to - from)
    }
}

/// An SVG element under construction. Text and tooltips are escaped here, once; colours and numbers are ours.
struct SVGCanvas {
    enum Anchor: String { case start, middle, end }

    /// A value axis along the bottom of the plot: a vertical grid line and a label per tick, the title below.
    mutating func bottomAxis(_ ticks: [Double], at position: (Double) -> Double, label: (Double) -> String,
                             title: String, left: Double, top: Double, plotWidth: Double, plotHeight: Double) {
        for tick in ticks {
            line(x1: position(tick), y1: top, x2: position(tick), y2: top + plotHeight, stroke: Palette.grid)
            text(label(tick), x: position(tick), y: top + plotHeight + 15, anchor: .middle, size: 11, fill: Palette.muted)
        }
        text(title, x: left + plotWidth / 2, y: top + plotHeight + 34, anchor: .middle, size: 11.5, fill: Palette.muted)
    }

    /// A value axis along the left of the plot: a horizontal grid line and a label per tick, the title turned.
    mutating func leftAxis(_ ticks: [Double], at position: (Double) -> Double, label: (Double) -> String,
                           title: String, left: Double, top: Double, plotWidth: Double, plotHeight: Double) {
        for tick in ticks {
            line(x1: left, y1: position(tick), x2: left + plotWidth, y2: position(tick), stroke: Palette.grid)
            text(label(tick), x: left - 8, y: position(tick) + 4, anchor: .end, size: 11, fill: Palette.muted)
        }
        text(title, x: 16, y: top + plotHeight / 2, anchor: .middle, size: 11.5, fill: Palette.muted, rotate: -90)
    }

    let width: Double
    let height: Double
    private var parts: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// A coordinate with at most one decimal.
    static func number(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, tooltip: String? = nil) {
        let n = SVGCanvas.number
        let shape = "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(max(0, width)))\" height=\"\(n(max(0, height)))\" fill=\"\(fill)\""
        if let tooltip {
            parts.append(shape + "><title>\(HTML.escape(tooltip))</title></rect>")
        } else {
            parts.append(shape + "/>")
        }
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1,
                       dashed: Bool = false) {
        let n = SVGCanvas.number
        parts.append("<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" "
            + "stroke-width=\"\(n(width))\"" + (dashed ? " stroke-dasharray=\"4 3\"" : "") + "/>")
    }

    /// `content` is raw text (escaped here). `rotate` turns the text about its anchor point, in degrees.
    mutating func text(_ content: String, x: Double, y: Double, anchor: Anchor = .start, size: Double = 11,
                       bold: Bool = false, fill: String = Palette.text, rotate: Double? = nil, tooltip: String? = nil) {
        let n = SVGCanvas.number
        var element = "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" fill=\"\(fill)\""
        if anchor != .start { element += " text-anchor=\"\(anchor.rawValue)\"" }
        if bold { element += " font-weight=\"600\"" }
        if let rotate { element += " transform=\"rotate(\(n(rotate)) \(n(x)) \(n(y)))\"" }
        element += ">"
        if let tooltip { element += "<title>\(HTML.escape(tooltip))</title>" }
        parts.append(element + HTML.escape(content) + "</text>")
    }

    /// Appends a finished SVG element (callers escape what they put in it).
    mutating func append(_ element: String) { parts.append(element) }

    /// A legend: a coloured square and the series name per entry, left to right from (x, y).
    mutating func legend(_ series: [ChartSeries], x: Double, y: Double) {
        var cursor = x
        for s in series {
            rect(x: cursor, y: y - 9, width: 11, height: 11, fill: s.color)
            text(s.name, x: cursor + 16, y: y, size: 11.5)
            cursor += 16 + SVGCanvas.textWidth(s.name, size: 11.5) + 18
        }
    }

    /// Approximate rendered width of `text` in a sans-serif font (no font metrics at render time).
    static func textWidth(_ text: String, size: Double) -> Double {
        var units = 0.0
        for c in text {
            if c.isASCII {
                units += c.isUppercase || c == "m" || c == "w" ? 0.68 : c == " " || c == "." || c == "," ? 0.3 : 0.55
            } else {
                units += c.unicodeScalars.first.map { $0.value >= 0x2E80 ? 1.0 : 0.6 } ?? 0.6
            }
        }
        return units * size
    }

    /// The `<svg>` element. `label` names the chart for screen readers (our wording, escaped anyway).
    func rendered(label: String) -> String {
        let n = SVGCanvas.number
        return "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
            + "viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"\(HTML.escape(label))\">"
            + parts.joined() + "</svg>"
    }
}

/// Vertical bars, one per category, with a zero line, gridlines and the value on each bar.
/// Negative values hang below zero. Long category labels are slanted.
struct BarChart {
    struct Bar {
        let label: String
        let value: Double
        let color: String
        let tooltip: String
    }

    var bars: [Bar]
    var valueTitle: String
    /// Value labels on the bars.
    var format: (Double) -> String
    /// Axis tick labels.
    var tickFormat: (Double) -> String
    var legend: [ChartSeries] = []
    var width: Double = 1220
    var plotHeight: Double = 240

    func render(label: String) -> String {
        let left = 72.0, right = 16.0
        let top = legend.isEmpty ? 22.0 : 40.0
        let plotWidth = width - left - right
        let band = plotWidth / Double(max(1, bars.count))
        let labels = bars.map { HTML.truncated($0.label, to: 28) }
        let widest = labels.map { SVGCanvas.textWidth($0, size: 11) }.max() ?? 0
        let slanted = widest > band - 6
        let bottom = slanted ? 24 + widest * 0.64 : 34
        let height = top + plotHeight + bottom + 18
        var svg = SVGCanvas(width: width, height: height)
        if !legend.isEmpty { svg.legend(legend, x: left, y: 18) }
        let values = bars.map(\.value).filter(\.isFinite)
        let axis = LinearAxis(from: min(0, values.min() ?? 0), to: max(0, values.max() ?? 0))
        let y = { (v: Double) in axis.position(v, from: top + plotHeight, to: top) }
        svg.leftAxis(axis.ticks, at: y, label: tickFormat, title: valueTitle, left: left, top: top,
                     plotWidth: plotWidth, plotHeight: plotHeight)
        let barWidth = min(56, band * 0.62)
        for (i, bar) in bars.enumerated() {
            let center = left + band * (Double(i) + 0.5)
            if bar.value.isFinite {
                let y0 = y(0), y1 = y(bar.value)
                svg.rect(x: center - barWidth / 2, y: min(y0, y1), width: barWidth, height: max(abs(y1 - y0), 0.5),
                         fill: bar.color, tooltip: bar.tooltip)
                let labelY = bar.value >= 0 ? y1 - 5 : y1 + 13
                svg.text(format(bar.value), x: center, y: labelY, anchor: .middle, size: 10.5, fill: Palette.text)
            }
            let baseline = top + plotHeight + 16
            if slanted {
                svg.text(labels[i], x: center + 4, y: baseline, anchor: .end, size: 11, rotate: -40, tooltip: bar.label)
            } else {
                svg.text(labels[i], x: center, y: baseline, anchor: .middle, size: 11, tooltip: bar.label)
            }
        }
        svg.line(x1: left, y1: y(0), x2: left + plotWidth, y2: y(0), stroke: Palette.axis, width: 1.2)
        return svg.rendered(label: label)
    }
}

/// Horizontal stacked bars: one row per category (e.g. today and each stress scenario), one segment per series
/// (e.g. status), with the count written inside each segment wide enough to hold it.
struct StackedBarChart {
    struct Row {
        let label: String
        let values: [Double]
        /// Drawn in bold with a rule under it (the "today" row).
        var emphasised = false
    }

    var series: [ChartSeries]
    var rows: [Row]
    var axisTitle: String
    var format: (Double) -> String
    var width: Double = 1220

    func render(label: String) -> String {
        let rowHeight = 20.0, gap = 7.0, top = 34.0
        let labels = rows.map { HTML.truncated($0.label, to: 34) }
        let widest = labels.map { SVGCanvas.textWidth($0, size: 11.5) }.max() ?? 40
        let left = min(260, max(90, widest + 20)), right = 24.0
        let plotWidth = width - left - right
        let plotHeight = Double(rows.count) * (rowHeight + gap) + gap
        let height = top + plotHeight + 44
        var svg = SVGCanvas(width: width, height: height)
        svg.legend(series, x: left, y: 16)
        let totals = rows.map { $0.values.filter(\.isFinite).reduce(0, +) }
        let axis = LinearAxis(from: 0, to: totals.max() ?? 1, tickCount: 6, integer: true)
        let x = { (v: Double) in axis.position(v, from: left, to: left + plotWidth) }
        svg.bottomAxis(axis.ticks, at: x, label: format, title: axisTitle, left: left, top: top,
                       plotWidth: plotWidth, plotHeight: plotHeight)
        for (r, row) in rows.enumerated() {
            let y = top + gap + Double(r) * (rowHeight + gap)
            svg.text(labels[r], x: left - 10, y: y + rowHeight / 2 + 4, anchor: .end, size: 11.5, bold: row.emphasised,
                     tooltip: row.label)
            var cumulative = 0.0
            for (s, value) in row.values.enumerated() where value.isFinite && value > 0 {
                let x0 = x(cumulative), x1 = x(cumulative + value)
                let share = totals[r] > 0 ? value / totals[r] : 0
                svg.rect(x: x0, y: y, width: x1 - x0, height: rowHeight, fill: series[s].color,
                         tooltip: "\(row.label): \(series[s].name) \(format(value)) (\(HumanNumber.percent(share)))")
                let text = format(value)
                if x1 - x0 >= SVGCanvas.textWidth(text, size: 10.5) + 8 {
                    svg.text(text, x: (x0 + x1) / 2, y: y + rowHeight / 2 + 4, anchor: .middle, size: 10.5, bold: true,
                             fill: "#ffffff")
                }
                cumulative += value
            }
            if row.emphasised && r + 1 < rows.count {
                svg.line(x1: 8, y1: y + rowHeight + gap / 2, x2: width - right, y2: y + rowHeight + gap / 2,
                         stroke: Palette.axis, dashed: true)
            }
        }
        svg.line(x1: left, y1: top, x2: left, y2: top + plotHeight, stroke: Palette.axis, width: 1.2)
        return svg.rendered(label: label)
    }
}

/// A histogram over regular bins [lower + i·w, lower + (i+1)·w) plus one overflow bin, each bar stacked by series,
/// with labelled vertical marks (thresholds).
struct StackedHistogram {
    struct Marker {
        let value: Double
        let label: String
        let color: String
    }

    var lower: Double
    var binWidth: Double
    /// counts[bin][series]; the last bin is the overflow (≥ the upper edge).
    var counts: [[Int]]
    var series: [ChartSeries]
    var markers: [Marker]
    var xTitle: String
    var yTitle: String
    var overflowLabel: String
    var width: Double = 1220
    var plotHeight: Double = 230

    func render(label: String) -> String {
        let left = 64.0, right = 20.0
        let top = 30.0 + 15 * Double(markers.count)
        let regular = counts.count - 1
        let upper = lower + binWidth * Double(regular)
        let plotWidth = width - left - right
        // Regular bins, a gap of one bin, then the overflow bin.
        let slot = plotWidth / Double(regular + 2)
        let height = top + plotHeight + 56
        var svg = SVGCanvas(width: width, height: height)
        svg.legend(series, x: left, y: 16)
        let totals = counts.map { $0.reduce(0, +) }
        let axis = LinearAxis(from: 0, to: Double(totals.max() ?? 1), tickCount: 5, integer: true)
        let y = { (v: Double) in axis.position(v, from: top + plotHeight, to: top) }
        let x = { (v: Double) in left + (v - lower) / binWidth * slot }
        svg.leftAxis(axis.ticks, at: y, label: { HumanNumber.count(Int($0)) }, title: yTitle, left: left, top: top,
                     plotWidth: plotWidth, plotHeight: plotHeight)
        for (bin, stack) in counts.enumerated() {
            let x0 = bin < regular ? x(lower + Double(bin) * binWidth) : left + slot * Double(regular + 1)
            let range = bin < regular
                ? "\(HumanNumber.ratio(lower + Double(bin) * binWidth))–\(HumanNumber.ratio(lower + Double(bin + 1) * binWidth))"
                : overflowLabel
            var cumulative = 0
            for (s, count) in stack.enumerated() where count > 0 {
                let y0 = y(Double(cumulative)), y1 = y(Double(cumulative + count))
                svg.rect(x: x0 + 0.5, y: y1, width: slot - 1, height: y0 - y1, fill: series[s].color,
                         tooltip: "\(xTitle) \(range): \(HumanNumber.count(count)) \(series[s].name)")
                cumulative += count
            }
        }
        // x ticks: about 12 labels over the regular range, counted (never more than `maxTicks`, whatever the range).
        let maxTicks = 24
        let tickStep = LinearAxis.niceStep((upper - lower) / 12)
        let firstTick = (lower / tickStep).rounded(.up) * tickStep
        for k in 0 ..< maxTicks where tickStep.isFinite && tickStep > 0 {
            let tick = firstTick + Double(k) * tickStep
            guard tick <= upper + tickStep * 1e-9 else { break }
            svg.line(x1: x(tick), y1: top + plotHeight, x2: x(tick), y2: top + plotHeight + 4, stroke: Palette.axis)
            svg.text(HumanNumber.compact(tick, trimmed: true), x: x(tick), y: top + plotHeight + 17, anchor: .middle,
                     size: 11, fill: Palette.muted)
        }
        svg.text(overflowLabel, x: left + slot * (Double(regular) + 1.5), y: top + plotHeight + 17, anchor: .middle,
                 size: 11, fill: Palette.muted)
        svg.text(xTitle, x: left + plotWidth / 2, y: top + plotHeight + 40, anchor: .middle, size: 11.5, fill: Palette.muted)
        for (m, marker) in markers.enumerated() where marker.value >= lower && marker.value <= upper {
            let mx = x(marker.value), labelY = 30 + 15 * Double(m)
            svg.line(x1: mx, y1: labelY - 4, x2: mx, y2: top + plotHeight, stroke: marker.color, width: 1.5, dashed: true)
            svg.text(marker.label, x: mx + 5, y: labelY, size: 11, bold: true, fill: marker.color)
        }
        svg.line(x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight, stroke: Palette.axis, width: 1.2)
        return svg.rendered(label: label)
    }
}

/// Horizontal bars, one group per row and one bar per series in the group, on a shared value axis that includes
/// zero (negative values extend left of it). The value is written at the end of each bar.
struct HorizontalBarChart {
    struct Row {
        let label: String
        let values: [Double]
    }

    var series: [ChartSeries]
    var rows: [Row]
    var axisTitle: String
    /// Value labels at the bar ends.
    var format: (Double) -> String
    /// Axis tick labels.
    var tickFormat: (Double) -> String
    var width: Double = 600
    /// Height of one row's group of bars; charts drawn side by side pass the same value so their rows line up.
    var groupHeight = 22.0

    func render(label: String) -> String {
        let barHeight = min(15, groupHeight / Double(max(1, series.count)))
        let inset = (groupHeight - barHeight * Double(series.count)) / 2
        let gap = 9.0, top = 34.0
        let labels = rows.map { HTML.truncated($0.label, to: 16) }
        let widest = labels.map { SVGCanvas.textWidth($0, size: 11.5) }.max() ?? 30
        let left = min(140, max(56, widest + 16)), right = 52.0
        let plotWidth = width - left - right
        let plotHeight = Double(rows.count) * (groupHeight + gap) + gap
        let height = top + plotHeight + 44
        var svg = SVGCanvas(width: width, height: height)
        if series.count > 1 { svg.legend(series, x: left, y: 16) }
        let values = rows.flatMap(\.values).filter(\.isFinite)
        let axis = LinearAxis(from: min(0, values.min() ?? 0), to: max(0, values.max() ?? 0), tickCount: 4)
        let x = { (v: Double) in axis.position(v, from: left, to: left + plotWidth) }
        svg.bottomAxis(axis.ticks, at: x, label: tickFormat, title: axisTitle, left: left, top: top,
                       plotWidth: plotWidth, plotHeight: plotHeight)
        for (r, row) in rows.enumerated() {
            let y = top + gap + Double(r) * (groupHeight + gap)
            svg.text(labels[r], x: left - 8, y: y + groupHeight / 2 + 4, anchor: .end, size: 11.5, tooltip: row.label)
            for (s, value) in row.values.enumerated() where value.isFinite && value != 0 {
                let by = y + inset + Double(s) * barHeight
                let x0 = x(0), x1 = x(value)
                svg.rect(x: min(x0, x1), y: by, width: max(abs(x1 - x0), 0.5), height: barHeight - 1,
                         fill: series[s].color, tooltip: "\(row.label): \(series[s].name) \(format(value))")
                let text = format(value)
                let textWidth = SVGCanvas.textWidth(text, size: 10)
                // Left of a negative bar when there is room before the row labels, else right of the zero line.
                if value < 0 && x1 - 4 - textWidth >= left {
                    svg.text(text, x: x1 - 4, y: by + barHeight - 2, anchor: .end, size: 10, fill: Palette.muted)
                } else {
                    svg.text(text, x: max(x0, x1) + 4, y: by + barHeight - 2, size: 10, fill: Palette.muted)
                }
            }
        }
        svg.line(x1: x(0), y1: top, x2: x(0), y2: top + plotHeight, stroke: Palette.axis, width: 1.2)
        return svg.rendered(label: label)
    }
}
