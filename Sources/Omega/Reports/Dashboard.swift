import Foundation

/// The token-usage dashboard of the seeds (`omega tokens status`, the
/// REPL's `:tokens status`): today's spend against the daily budget, the
/// current workflow against its limit, and usage by model as bars.
public struct Dashboard {
    public struct Line: Equatable {
        public var label: String
        public var used: Int64
        /// The limit the bar is measured against (nil: a share of the total).
        public var limit: Int64?
        public var detail: String
    }

    public var title = "TOKEN USAGE DASHBOARD"
    public var day: String
    public var daily: Line
    public var weekly: Line?
    public var monthly: Line?
    public var workflow: Line?
    public var models: [Line]
    public var cost: Money

    /// Builds the dashboard of the window that holds `now` from the ledger.
    public static func make(ledger: Ledger, policy: BudgetPolicy, now: Date = Date()) throws -> Dashboard {
        let windows = CalendarWindows(timeZone: policy.timeZone)
        let keys = windows.keys(at: now)
        let day = windows.interval(.day, at: now)
        // What the daily budget counts: after a reset (`omega tokens reset`)
        // only the calls since.
        let reset = try ledger.lastReset(of: "day:\(keys.day)")
        let from = max(day.start, reset.map { $0.time.addingTimeInterval(1e-6) } ?? day.start)
        let byModel = try ledger.usageSums(from: from, to: day.end, by: ["model"])
        let cost = Money(picodollars: byModel.reduce(Int64(0)) { $0.adding(saturating: $1.charged.picodollars) })
        func window(_ label: String, _ kind: BudgetScope.Kind, _ key: String) throws -> Line? {
            guard let limit = policy.windows[kind]?[.tokens] else { return nil }
            let used = try ledger.windowTotal("\(kind.rawValue):\(key)").tokens
            return Line(label: label, used: used, limit: limit, detail: "")
        }
        var workflow: Line?
        if let name = try ledger.latestWorkflow(from: from, to: day.end) {
            let used = try ledger.usageSums(from: from, to: day.end, by: ["workflow"])
                .first { $0.keys.first == name }?.charged.tokens ?? 0
            workflow = Line(label: "Current Workflow (\(name))", used: used, limit: policy.workflows[name]?[.tokens], detail: "")
        }
        var models: [Line] = byModel.map { sum in
            let name: String = (sum.keys.first ?? nil) ?? "?"
            return Line(label: name, used: sum.charged.tokens, limit: policy.models[name]?[.tokens], detail: "")
        }
        models.sort { $0.used != $1.used ? $0.used > $1.used : $0.label < $1.label }
        return Dashboard(day: keys.day,
                         daily: Line(label: "Daily Budget", used: try ledger.windowTotal("day:\(keys.day)").tokens,
                                     limit: policy.windows[.day]?[.tokens], detail: ""),
                         weekly: try window("Weekly Budget", .week, keys.week),
                         monthly: try window("Monthly Budget", .month, keys.month),
                         workflow: workflow, models: models, cost: cost)
    }

    /// `1,234,567`.
    public static func grouped(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `[████████░░░░░░░░]`, coloured green/yellow/red by fullness when `colour`.
    static func bar(_ fraction: Double, width: Int, colour: Bool) -> String {
        let f = max(0, min(1, fraction))
        let filled = Int((f * Double(width)).rounded())
        let body = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        guard colour else { return "[\(body)]" }
        let code = fraction >= 0.9 ? "31" : fraction >= 0.7 ? "33" : "32"
        return "[\u{1B}[\(code)m\(body)\u{1B}[0m]"
    }

    /// The dashboard as a box of text, `width` columns inside.
    public func render(colour: Bool = false, width: Int = 56) -> String {
        var rows: [String] = []
        func budgetRows(_ l: Line) {
            if let limit = l.limit, limit > 0 {
                let f = Double(l.used) / Double(limit)
                rows.append("  \(l.label)")
                rows.append("    \(Dashboard.bar(f, width: 20, colour: colour)) \(Int((f * 100).rounded()))%")
                rows.append("    \(Dashboard.grouped(l.used)) / \(Dashboard.grouped(limit)) tokens")
            } else {
                rows.append("  \(l.label)")
                rows.append("    \(Dashboard.grouped(l.used)) tokens (no limit set)")
            }
            rows.append("")
        }
        rows.append("")
        budgetRows(daily)
        if let w = weekly { budgetRows(w) }
        if let m = monthly { budgetRows(m) }
        if let w = workflow { budgetRows(w) }
        rows.append("  By Model:")
        if models.isEmpty { rows.append("    no calls today") }
        let total = max(1, models.reduce(0) { $0 + $1.used })
        let nameWidth = min(22, models.map(\.label.count).max() ?? 0)
        for m in models {
            let f = Double(m.used) / Double(m.limit ?? total)
            let name = m.label.count > nameWidth ? String(m.label.prefix(nameWidth - 1)) + "…" : m.label.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            let of = m.limit.map { " of \(Dashboard.grouped($0))" } ?? ""
            rows.append("    \(name) \(Dashboard.bar(f, width: 10, colour: colour)) \(String(format: "%3d", Int((f * 100).rounded())))%  \(Dashboard.grouped(m.used))\(of)")
        }
        rows.append("")
        rows.append("  Cost today: \(cost)   (\(day))")
        rows.append("")
        // Colour codes take no columns: pad by the visible length.
        func visible(_ s: String) -> Int {
            var n = 0, inEscape = false
            for ch in s {
                if ch == "\u{1B}" { inEscape = true } else if inEscape { if ch == "m" { inEscape = false } } else { n += 1 }
            }
            return n
        }
        let inner = max(width, rows.map(visible).max() ?? 0, title.count + 4)
        var out = "┌" + String(repeating: "─", count: inner) + "┐\n"
        let pad = (inner - title.count) / 2
        out += "│" + String(repeating: " ", count: pad) + title + String(repeating: " ", count: inner - pad - title.count) + "│\n"
        out += "├" + String(repeating: "─", count: inner) + "┤\n"
        for r in rows { out += "│" + r + String(repeating: " ", count: inner - visible(r)) + "│\n" }
        out += "└" + String(repeating: "─", count: inner) + "┘\n"
        return out
    }
}
