/// Daily series as lines over a shared day axis, with marked points (the backtest's exceptions).
struct LineChart {
    struct Series {
        let name: String
        let color: String
        let values: [Double]
        let dashed: Bool
    }

    struct Marker {
        let day: Int
        let value: Double
        let color: String
        let tooltip: String
    }

    /// Labels of the days (dates), one per value.
    var days: [String]
    var series: [Series]
    var markers: [Marker]
    var valueTitle: String
    var width: Double = 1220
    var plotHeight: Double = 260
    /// Room right of the plot (pixels), for the last date label centred on the last day.
    var rightMargin: Double = 20
    /// Date labels along the bottom, at most this many.
    static let dayLabels = 8

    func render(label: String) -> String {
        let left = 78.0, right = rightMargin, top = 34.0
        let plotWidth = width - left - right
        var svg = SVGCanvas(width: width, height: top + plotHeight + 50)
        svg.legend(series.map { ChartSeries(name: $0.name, color: $0.color) }, x: left, y: 16)
        let finite = series.flatMap(\.values).filter(\.isFinite)
        let axis = LinearAxis(from: min(0, finite.min() ?? 0), to: max(finite.max() ?? 1, 1e-9), tickCount: 5)
        let y = { (v: Double) in axis.position(v, from: top + plotHeight, to: top) }
        let step = days.count > 1 ? plotWidth / Double(days.count - 1) : 0
        let x = { (day: Int) in left + Double(day) * step }
        svg.leftAxis(axis.ticks, at: y, label: { HumanNumber.compact($0, trimmed: true) }, title: valueTitle, left: left,
                     top: top, plotWidth: plotWidth, plotHeight: plotHeight)
        for s in series {
            let points = s.values.indices.compactMap { d in s.values[d].isFinite ? (x(d), y(s.values[d])) : nil }
            svg.polyline(points, stroke: s.color, width: 1.4, dashed: s.dashed)
        }
        for m in markers where m.value.isFinite {
            svg.circle(cx: x(m.day), cy: y(m.value), r: 3.2, fill: m.color, tooltip: m.tooltip)
        }
        let labelEvery = max(1, (days.count + Self.dayLabels - 1) / Self.dayLabels)
        for d in stride(from: 0, to: days.count, by: labelEvery) {
            svg.text(days[d], x: x(d), y: top + plotHeight + 17, anchor: .middle, size: 11, fill: Palette.muted)
        }
        svg.line(x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight, stroke: Palette.axis, width: 1.2)
        return svg.rendered(label: label)
    }
}

extension SVGCanvas {
    /// A polyline through `points` (pixels).
    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double, dashed: Bool = false) {
        guard points.count > 1 else { return }
        let n = SVGCanvas.number
        let coordinates = points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
        append("<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\""
            + (dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>")
    }

    /// A filled circle with an optional tooltip (raw text, escaped here).
    mutating func circle(cx: Double, cy: Double, r: Double, fill: String, tooltip: String? = nil) {
        let n = SVGCanvas.number
        let shape = "<circle cx=\"\(n(cx))\" cy=\"\(n(cy))\" r=\"\(n(r))\" fill=\"\(fill)\""
        append(tooltip.map { shape + "><title>\(HTML.escape($0))</title></circle>" } ?? shape + "/>")
    }
}
